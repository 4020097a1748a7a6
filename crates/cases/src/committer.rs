//! Durable group commit of submissions.
//!
//! Every submission is validated by the caller, then handed to one writer
//! task that commits whatever has queued up in a single transaction
//! (SQLite: `synchronous=FULL`, one fsync for the whole batch) and answers
//! each caller only after the commit. Nothing is acknowledged before it is
//! on disk, and a crash loses only unacknowledged submissions. Each
//! submission writes its case, idempotency key, first history event, audit
//! entry and, if an address was given, an outbox e-mail.
//!
//! If a batch fails (e.g. a receipt-number collision or a concurrent
//! duplicate on PostgreSQL), its submissions are retried one by one so one
//! bad submission never takes others down.
//!
//! A life-event visit ([`NewVisit`]) goes through the same writer: its
//! cases (written by the same code as any submission), the visit, its
//! identity check and its items are committed in one transaction of their
//! own, so a visit is there with all its cases or not at all.

use std::collections::{BTreeMap, HashMap};

use kernel::audit::{self, AuditEntry};
use kernel::db::{
    backend_of, is_unique_violation, list_placeholders, ph, values_placeholders, Db, Tx,
};
use kernel::ids::ReceiptNumber;
use kernel::{AppError, AppResult};
use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use catalogue::form::Answers;
use catalogue::model::Channel;

/// Submissions taken into one transaction at most.
const MAX_BATCH: usize = 512;

#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub id: String,
    pub field: String,
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct NewApplication {
    pub tenant: String,
    pub procedure_id: String,
    pub procedure_version: i64,
    /// The procedure's name in the applicant's language (for the e-mail).
    pub procedure_name: String,
    /// The applicant's language.
    pub lang: kernel::Lang,
    pub department: String,
    pub channel: Channel,
    /// The procedure could be applied for online at submission (KPI).
    pub online_capable: bool,
    pub answers: Answers,
    pub applicant_name: String,
    pub applicant_kana: String,
    pub email: Option<String>,
    pub idempotency_key: String,
    pub new_attachments: Vec<NewAttachment>,
    /// Hashed id of the draft this came from: its stored uploads move to the
    /// case and the draft is deleted.
    pub draft_id: Option<String>,
    pub actor: String,
    /// `none`, `signed_in`, `my_number_card` (online) or `counter`.
    pub identity_level: String,
    /// Answers taken from the verified identity.
    pub verified_fields: Vec<String>,
    /// Pseudonymous subject of the signed-in resident.
    pub resident_subject: Option<String>,
    pub submitted_at: i64,
    /// The life-event visit this case was opened for (回らない窓口).
    pub visit_id: Option<String>,
    /// The identity check a clerk did for this case alone (書かない窓口),
    /// stored with it and in its history; a visit's case has the visit's.
    pub identity_check: Option<NewIdentityCheck>,
}

impl NewApplication {
    /// What makes two requests "the same submission" for idempotency:
    /// procedure, channel, actor, answers and attachment contents (not the
    /// server-chosen attachment ids).
    pub fn request_hash(&self, db: &Db) -> String {
        let mut answers = self.answers.clone();
        for v in answers.values_mut() {
            if let Some(o) = v.as_object_mut() {
                o.remove("attachment_id");
            }
        }
        let mut files: Vec<String> = self
            .new_attachments
            .iter()
            .map(|a| format!("{}:{}", a.field, hex::encode(Sha256::digest(&a.bytes))))
            .collect();
        files.sort();
        let canonical = serde_json::json!({
            "procedure": self.procedure_id,
            "channel": self.channel.as_str(),
            "actor": self.actor,
            "answers": answers,
            "files": files,
        });
        db.keyed_hash(canonical.to_string().as_bytes())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submitted {
    Created(ReceiptNumber),
    /// The idempotency key was seen before: this is the earlier case.
    Replayed(ReceiptNumber),
}

impl Submitted {
    pub fn receipt(&self) -> &ReceiptNumber {
        match self {
            Submitted::Created(r) | Submitted::Replayed(r) => r,
        }
    }
}

/// The identity check (本人確認) done once for a visit, or for one case
/// entered at the counter.
#[derive(Clone, Debug)]
pub struct NewIdentityCheck {
    /// An [`crate::visits::IdDocument`] code (`my_number_card`,
    /// `drivers_license`, … `other`).
    pub document: String,
    pub note: String,
    pub checked_by: String,
    pub checked_by_name: String,
    pub checked_at: i64,
}

/// One case of a visit and the counter the resident goes to for it.
#[derive(Clone, Debug)]
pub struct NewVisitItem {
    pub application: NewApplication,
    pub counter: Option<String>,
}

/// A life-event visit with its cases, in the order the resident goes to
/// them. The cases' `visit_id` is the visit's `id`.
#[derive(Clone, Debug)]
pub struct NewVisit {
    pub tenant: String,
    pub id: String,
    pub life_event: String,
    pub answers: BTreeMap<String, bool>,
    pub resident_name: String,
    pub resident_kana: String,
    pub registry_id: Option<String>,
    /// The desk (department) that took the visit.
    pub department: String,
    pub idempotency_key: String,
    /// What makes a repeated submission "the same visit".
    pub request_hash: String,
    pub identity: NewIdentityCheck,
    pub items: Vec<NewVisitItem>,
    pub actor: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VisitSubmitted {
    Created(String),
    /// The idempotency key was seen before: this is the earlier visit.
    Replayed(String),
}

impl VisitSubmitted {
    pub fn id(&self) -> &str {
        match self {
            VisitSubmitted::Created(id) | VisitSubmitted::Replayed(id) => id,
        }
    }
}

enum Job {
    App {
        app: Box<NewApplication>,
        reply: oneshot::Sender<AppResult<Submitted>>,
    },
    Visit {
        visit: Box<NewVisit>,
        reply: oneshot::Sender<AppResult<VisitSubmitted>>,
    },
}

struct AppJob {
    app: NewApplication,
    reply: oneshot::Sender<AppResult<Submitted>>,
}

/// Builds the e-mail the resident receives (queued in the outbox).
pub type MailFn =
    std::sync::Arc<dyn Fn(&NewApplication, &ReceiptNumber) -> (String, String) + Send + Sync>;

#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

impl Committer {
    pub fn start(db: Db, mail: MailFn) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(8192);
        tokio::spawn(async move {
            let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => batch.push(j),
                        Err(_) => break,
                    }
                }
                // A panic in one batch must not stop every later
                // submission: its callers get an error, the loop goes on.
                let mut jobs = Vec::new();
                let mut visits = Vec::new();
                for job in std::mem::take(&mut batch) {
                    match job {
                        Job::App { app, reply } => jobs.push(AppJob { app: *app, reply }),
                        Job::Visit { visit, reply } => visits.push((visit, reply)),
                    }
                }
                let (db, mail) = (db.clone(), mail.clone());
                let task = tokio::spawn(async move {
                    if !jobs.is_empty() {
                        process(&db, &mail, jobs).await;
                    }
                    for (visit, reply) in visits {
                        let _ = reply.send(process_visit(&db, &mail, &visit).await);
                    }
                });
                if let Err(e) = task.await {
                    tracing::error!(error = %e, "group commit task failed");
                }
            }
        });
        Self { tx }
    }

    pub async fn submit(&self, app: NewApplication) -> AppResult<Submitted> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::App {
                app: Box::new(app),
                reply,
            })
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("committer stopped")))?;
        rx.await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("committer dropped a submission")))?
    }

    /// Commits a visit with all its cases in one transaction. A repeated
    /// idempotency key with the same request finds the earlier visit; with
    /// another request it is refused (409).
    pub async fn submit_visit(&self, visit: NewVisit) -> AppResult<VisitSubmitted> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Visit {
                visit: Box::new(visit),
                reply,
            })
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("committer stopped")))?;
        rx.await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("committer dropped a visit")))?
    }
}

/// A visit, retried when another server committed the same key at the
/// same moment (the retry finds it and replays).
async fn process_visit(db: &Db, mail: &MailFn, visit: &NewVisit) -> AppResult<VisitSubmitted> {
    let mut last = None;
    for _attempt in 0..3 {
        match commit_visit(db, mail, visit).await {
            Ok(r) => return r,
            Err(e) if is_unique_violation(&e) => last = Some(e),
            Err(e) => return Err(AppError::from(e)),
        }
    }
    Err(AppError::Internal(
        last.map(anyhow::Error::from)
            .unwrap_or_else(|| anyhow::anyhow!("visit not committed")),
    ))
}

async fn commit_visit(
    db: &Db,
    mail: &MailFn,
    v: &NewVisit,
) -> Result<AppResult<VisitSubmitted>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let earlier = sqlx::query(
        "SELECT id, request_hash FROM visits WHERE tenant = $1 AND idempotency_key = $2",
    )
    .bind(v.tenant.as_str())
    .bind(v.idempotency_key.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(r) = earlier {
        let hash: String = r.get(1);
        return Ok(if hash == v.request_hash {
            Ok(VisitSubmitted::Replayed(r.get(0)))
        } else {
            Err(AppError::Conflict("visit_key"))
        });
    }
    let apps: Vec<&NewApplication> = v.items.iter().map(|i| &i.application).collect();
    let mut receipts = Vec::with_capacity(apps.len());
    for r in write_applications(&mut tx, db, mail, &apps).await? {
        match r {
            Ok(Submitted::Created(r)) => receipts.push(r),
            // A case key of this visit existed already: impossible for a new
            // visit id, and never half a visit.
            other => {
                return Ok(Err(AppError::Internal(anyhow::anyhow!(
                    "a case of visit {} was not new: {other:?}",
                    v.id
                ))))
            }
        }
    }
    insert_visit(&mut tx, db, v).await?;
    insert_visit_items(&mut tx, v, &receipts).await?;
    let entry = AuditEntry::new(v.actor.clone(), "visit.create", format!("visit:{}", v.id)).detail(
        serde_json::json!({
            "life_event": v.life_event,
            "registry_id": v.registry_id,
            "identity_document": v.identity.document,
            "cases": receipts.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        }),
    );
    audit::append(&mut tx, &v.tenant, v.created_at, &[entry]).await?;
    tx.commit().await?;
    Ok(Ok(VisitSubmitted::Created(v.id.clone())))
}

/// The visit and its identity check.
async fn insert_visit(tx: &mut Tx, db: &Db, v: &NewVisit) -> Result<(), sqlx::Error> {
    let answers = db
        .seal_json(&v.tenant, &v.answers)
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    sqlx::query(
        "INSERT INTO visits (tenant, id, life_event, answers, resident_name, resident_kana, registry_id,
           department, idempotency_key, request_hash, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(v.tenant.as_str())
    .bind(v.id.as_str())
    .bind(v.life_event.as_str())
    .bind(answers)
    .bind(v.resident_name.as_str())
    .bind(v.resident_kana.as_str())
    .bind(v.registry_id.clone())
    .bind(v.department.as_str())
    .bind(v.idempotency_key.as_str())
    .bind(v.request_hash.as_str())
    .bind(v.actor.as_str())
    .bind(v.created_at)
    .execute(&mut **tx)
    .await?;
    let c = &v.identity;
    sqlx::query(
        "INSERT INTO identity_checks (tenant, visit_id, document, note, checked_by, checked_by_name, checked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(v.tenant.as_str())
    .bind(v.id.as_str())
    .bind(c.document.as_str())
    .bind(c.note.as_str())
    .bind(c.checked_by.as_str())
    .bind(c.checked_by_name.as_str())
    .bind(c.checked_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The visit's items, each with its case, in order.
async fn insert_visit_items(
    tx: &mut Tx,
    v: &NewVisit,
    receipts: &[ReceiptNumber],
) -> Result<(), sqlx::Error> {
    if v.items.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO visit_items (tenant, visit_id, seq, procedure_id, department, counter, application_id) VALUES {}",
        values_placeholders(backend_of(tx), v.items.len(), 7)
    );
    let mut q = sqlx::query(&sql);
    for (i, (item, r)) in v.items.iter().zip(receipts).enumerate() {
        q = q
            .bind(v.tenant.as_str())
            .bind(v.id.as_str())
            .bind(i as i64 + 1)
            .bind(item.application.procedure_id.as_str())
            .bind(item.application.department.as_str())
            .bind(item.counter.clone())
            .bind(r.as_str().to_string());
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn process(db: &Db, mail: &MailFn, jobs: Vec<AppJob>) {
    let apps: Vec<&NewApplication> = jobs.iter().map(|j| &j.app).collect();
    let started = std::time::Instant::now();
    let result = commit(db, mail, &apps).await;
    tracing::debug!(
        size = apps.len(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "group commit"
    );
    match result {
        Ok(results) => {
            for (job, r) in jobs.into_iter().zip(results) {
                let _ = job.reply.send(r);
            }
        }
        Err(e) => {
            if jobs.len() > 1 {
                tracing::warn!(error = %e, size = jobs.len(), "batch failed; retrying one by one");
            }
            for job in jobs {
                let mut result = Err(AppError::Internal(anyhow::anyhow!("{e}")));
                for _attempt in 0..3 {
                    match commit(db, mail, &[&job.app]).await {
                        Ok(mut r) => {
                            result = r.remove(0);
                            break;
                        }
                        // A concurrent duplicate key from another server:
                        // the retry finds it and replays.
                        Err(e) if is_unique_violation(&e) => {
                            result = Err(AppError::Internal(e.into()));
                            continue;
                        }
                        // A database that is away is a 503 (the client
                        // retries with the same key), not a 500.
                        Err(e) => {
                            result = Err(AppError::from(e));
                            break;
                        }
                    }
                }
                let _ = job.reply.send(result);
            }
        }
    }
}

async fn existing_keys(
    tx: &mut Tx,
    tenant: &str,
    keys: &[&str],
) -> Result<HashMap<String, (String, String)>, sqlx::Error> {
    let mut out = HashMap::new();
    for chunk in keys.chunks(500) {
        let sql = format!(
            "SELECT key, application_id, request_hash FROM idempotency_keys WHERE tenant = {} AND key IN ({})",
            ph(backend_of(tx), 1),
            list_placeholders(backend_of(tx), 2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(tenant);
        for k in chunk {
            q = q.bind(*k);
        }
        for r in q.fetch_all(&mut **tx).await? {
            out.insert(r.get(0), (r.get(1), r.get(2)));
        }
    }
    Ok(out)
}

async fn commit(
    db: &Db,
    mail: &MailFn,
    apps: &[&NewApplication],
) -> Result<Vec<AppResult<Submitted>>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let results = write_applications(&mut tx, db, mail, apps).await?;
    tx.commit().await?;
    Ok(results)
}

/// Keys seen before in the store, per (tenant, key): (receipt number,
/// request hash). A key repeated within a batch maps to an empty receipt
/// until it is allocated.
type Known = HashMap<(String, String), (String, String)>;

/// A new application of a batch, with its receipt number and request hash.
type Create<'a> = (&'a NewApplication, ReceiptNumber, &'a str);

/// Writes submissions in the caller's transaction: idempotency checks,
/// receipt numbers, cases, keys, first events, e-mails, attachments and
/// the audit trail.
async fn write_applications(
    tx: &mut Tx,
    db: &Db,
    mail: &MailFn,
    apps: &[&NewApplication],
) -> Result<Vec<AppResult<Submitted>>, sqlx::Error> {
    let hashes: Vec<String> = apps.iter().map(|a| a.request_hash(db)).collect();
    let mut tenants: Vec<&str> = apps.iter().map(|a| a.tenant.as_str()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    // 1. Which submissions are new, which repeat an earlier request (same
    // key, same content: the earlier case is returned) and which reuse a
    // key for a different request (refused, so a key can never open
    // someone else's case)?
    let mut known = known_keys(tx, apps, &tenants).await?;
    let (mut results, new_indices) = classify(apps, &hashes, &mut known)?;
    let creates =
        allocate_receipts(tx, apps, &hashes, &new_indices, &mut known, &mut results).await?;
    let results = settle(apps, results, &known);
    // 2. Cases, keys, first events, e-mails: multi-row inserts.
    for chunk in creates.chunks(100) {
        insert_cases(tx, db, chunk).await?;
        insert_keys(tx, chunk).await?;
        insert_first_events(tx, chunk).await?;
        insert_identity_checks(tx, chunk).await?;
        queue_mails(tx, mail, chunk).await?;
    }
    // 3. Attachments: new ones inserted, a draft's stored ones re-owned.
    for (a, r, _) in &creates {
        store_attachments(tx, db, a, r).await?;
        if let Some(draft) = &a.draft_id {
            take_over_draft(tx, a, r, draft).await?;
        }
    }
    // 4. The audit trail, one chained append per tenant.
    for t in &tenants {
        audit_creates(tx, t, &creates).await?;
    }
    Ok(results)
}

async fn known_keys(
    tx: &mut Tx,
    apps: &[&NewApplication],
    tenants: &[&str],
) -> Result<Known, sqlx::Error> {
    let mut known = Known::new();
    for t in tenants {
        let keys: Vec<&str> = apps
            .iter()
            .filter(|a| a.tenant == *t)
            .map(|a| a.idempotency_key.as_str())
            .collect();
        for (k, v) in existing_keys(tx, t, &keys).await? {
            known.insert((t.to_string(), k), v);
        }
    }
    Ok(known)
}

/// Each submission's result where it is known now (a replay or a refused
/// key), and the indices of the new ones.
#[allow(clippy::type_complexity)]
fn classify(
    apps: &[&NewApplication],
    hashes: &[String],
    known: &mut Known,
) -> Result<(Vec<Option<AppResult<Submitted>>>, Vec<usize>), sqlx::Error> {
    let mut results: Vec<Option<AppResult<Submitted>>> = Vec::with_capacity(apps.len());
    let mut new_indices: Vec<usize> = Vec::new();
    for (i, a) in apps.iter().enumerate() {
        let key = (a.tenant.clone(), a.idempotency_key.clone());
        match known.get(&key) {
            Some((_, h)) if *h != hashes[i] => {
                results.push(Some(Err(AppError::Conflict("idempotency_key"))))
            }
            Some((id, _)) if !id.is_empty() => {
                let r = ReceiptNumber::parse(id)
                    .ok_or_else(|| sqlx::Error::Protocol(format!("stored receipt number {id}")))?;
                results.push(Some(Ok(Submitted::Replayed(r))));
            }
            Some(_) => results.push(None), // repeats one earlier in this batch
            None => {
                known.insert(key, (String::new(), hashes[i].clone()));
                new_indices.push(i);
                results.push(None);
            }
        }
    }
    Ok((results, new_indices))
}

/// Receipt numbers: the next in sequence per tenant and fiscal year,
/// allocated in this transaction (a rollback gives them back).
async fn allocate_receipts<'a>(
    tx: &mut Tx,
    apps: &[&'a NewApplication],
    hashes: &'a [String],
    new_indices: &[usize],
    known: &mut Known,
    results: &mut [Option<AppResult<Submitted>>],
) -> Result<Vec<Create<'a>>, sqlx::Error> {
    let mut groups: HashMap<(String, i32), Vec<usize>> = HashMap::new();
    for &i in new_indices {
        let fy = kernel::clock::fiscal_year_of(apps[i].submitted_at).start_year();
        groups
            .entry((apps[i].tenant.clone(), fy))
            .or_default()
            .push(i);
    }
    let mut creates: Vec<Create<'a>> = Vec::with_capacity(new_indices.len());
    let mut group_list: Vec<_> = groups.into_iter().collect();
    group_list.sort();
    for ((tenant, fy), members) in group_list {
        let first = reserve_numbers(tx, &tenant, fy, members.len()).await?;
        for (k, &i) in members.iter().enumerate() {
            let r = ReceiptNumber::new(fy, (first + k as i64) as u64).ok_or_else(|| {
                sqlx::Error::Protocol(format!("receipt numbers of {tenant} for {fy} exhausted"))
            })?;
            known.insert(
                (tenant.clone(), apps[i].idempotency_key.clone()),
                (r.as_str().to_string(), hashes[i].clone()),
            );
            results[i] = Some(Ok(Submitted::Created(r.clone())));
            creates.push((apps[i], r, hashes[i].as_str()));
        }
    }
    Ok(creates)
}

/// Reserves `n` receipt numbers of a tenant's fiscal year; the first.
async fn reserve_numbers(tx: &mut Tx, tenant: &str, fy: i32, n: usize) -> Result<i64, sqlx::Error> {
    sqlx::query("INSERT INTO receipt_counters (tenant, fiscal_year, last) VALUES ($1, $2, 0) ON CONFLICT (tenant, fiscal_year) DO NOTHING")
        .bind(tenant)
        .bind(i64::from(fy))
        .execute(&mut **tx)
        .await?;
    let row = sqlx::query("UPDATE receipt_counters SET last = last + $1 WHERE tenant = $2 AND fiscal_year = $3 RETURNING last")
        .bind(n as i64)
        .bind(tenant)
        .bind(i64::from(fy))
        .fetch_one(&mut **tx)
        .await?;
    let last: i64 = row.get(0);
    Ok(last - n as i64 + 1)
}

/// Every submission's answer: those repeating an earlier one in the batch
/// get its receipt number.
fn settle(
    apps: &[&NewApplication],
    results: Vec<Option<AppResult<Submitted>>>,
    known: &Known,
) -> Vec<AppResult<Submitted>> {
    apps.iter()
        .zip(results)
        .map(|(a, r)| match r {
            Some(r) => r,
            None => {
                let (id, _) = &known[&(a.tenant.clone(), a.idempotency_key.clone())];
                ReceiptNumber::parse(id)
                    .map(Submitted::Replayed)
                    .ok_or_else(|| {
                        AppError::Internal(anyhow::anyhow!(
                            "receipt number missing for a repeated key"
                        ))
                    })
            }
        })
        .collect()
}

async fn insert_cases(tx: &mut Tx, db: &Db, chunk: &[Create<'_>]) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO applications (tenant, id, procedure_id, procedure_version, department, channel, online_capable, status,
           applicant_name, applicant_kana, email, lang, data, assignee, fiscal_year, submitted_at, updated_at, version,
           identity_level, verified_fields, resident_subject, visit_id)
         VALUES {}",
        values_placeholders(backend_of(tx), chunk.len(), 22)
    );
    let mut q = sqlx::query(&sql);
    for (a, r, _) in chunk {
        q = q
            .bind(a.tenant.as_str())
            .bind(r.as_str().to_string())
            .bind(a.procedure_id.as_str())
            .bind(a.procedure_version)
            .bind(a.department.as_str())
            .bind(a.channel.as_str())
            .bind(i64::from(a.online_capable))
            .bind("received")
            .bind(a.applicant_name.as_str())
            .bind(a.applicant_kana.as_str())
            .bind(a.email.clone())
            .bind(a.lang.code())
            .bind(
                db.seal_json(&a.tenant, &a.answers)
                    .map_err(|e| sqlx::Error::Protocol(e.to_string()))?,
            )
            .bind(None::<String>)
            .bind(i64::from(
                kernel::clock::fiscal_year_of(a.submitted_at).start_year(),
            ))
            .bind(a.submitted_at)
            .bind(a.submitted_at)
            .bind(1i64)
            .bind(a.identity_level.as_str())
            .bind(a.verified_fields.join(","))
            .bind(a.resident_subject.clone())
            .bind(a.visit_id.clone());
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn insert_keys(tx: &mut Tx, chunk: &[Create<'_>]) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO idempotency_keys (tenant, key, request_hash, application_id, created_at) VALUES {}",
        values_placeholders(backend_of(tx), chunk.len(), 5)
    );
    let mut q = sqlx::query(&sql);
    for (a, r, h) in chunk {
        q = q
            .bind(a.tenant.as_str())
            .bind(a.idempotency_key.as_str())
            .bind(*h)
            .bind(r.as_str().to_string())
            .bind(a.submitted_at);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn insert_first_events(tx: &mut Tx, chunk: &[Create<'_>]) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO application_events (tenant, application_id, seq, kind, from_status, to_status, actor, body, at) VALUES {}",
        values_placeholders(backend_of(tx), chunk.len(), 9)
    );
    let mut q = sqlx::query(&sql);
    for (a, r, _) in chunk {
        q = q
            .bind(a.tenant.as_str())
            .bind(r.as_str().to_string())
            .bind(1i64)
            .bind("submitted")
            .bind(None::<String>)
            .bind(Some("received"))
            .bind(a.actor.as_str())
            .bind(a.channel.as_str())
            .bind(a.submitted_at);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// The identity check of each case entered at the counter, and its line
/// in the case's history (second event: checked by the clerk, after the
/// submission).
async fn insert_identity_checks(tx: &mut Tx, chunk: &[Create<'_>]) -> Result<(), sqlx::Error> {
    for (a, r, _) in chunk {
        let Some(c) = &a.identity_check else {
            continue;
        };
        sqlx::query(
            "INSERT INTO case_identity_checks (tenant, application_id, document, note, checked_by, checked_by_name, checked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a.tenant.as_str())
        .bind(r.as_str())
        .bind(c.document.as_str())
        .bind(c.note.as_str())
        .bind(c.checked_by.as_str())
        .bind(c.checked_by_name.as_str())
        .bind(c.checked_at)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO application_events (tenant, application_id, seq, kind, from_status, to_status, actor, body, at)
             VALUES ($1, $2, 2, 'identity_checked', NULL, NULL, $3, $4, $5)",
        )
        .bind(a.tenant.as_str())
        .bind(r.as_str())
        .bind(format!("staff:{}", c.checked_by))
        .bind(c.document.as_str())
        .bind(c.checked_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The receipt e-mail of each case with an address, into the outbox.
async fn queue_mails(tx: &mut Tx, mail: &MailFn, chunk: &[Create<'_>]) -> Result<(), sqlx::Error> {
    let mut mails = Vec::new();
    let mut at = 0;
    for (a, r, _) in chunk {
        let Some(email) = &a.email else { continue };
        let Ok(to) = jp::Email::parse(email) else {
            // The form's e-mail field is checked before this; an address
            // that still does not parse gets no mail, the case stands.
            tracing::warn!(
                receipt = r.as_str(),
                "receipt mail not queued: the address does not parse"
            );
            continue;
        };
        let (subject, body) = mail(a, r);
        at = at.max(a.submitted_at);
        mails.push(::mail::outbox::NewMail::about_case(
            a.tenant.as_str(),
            "application.received",
            to,
            a.lang,
            r.as_str(),
            subject,
            body,
        ));
    }
    if !mails.is_empty() {
        ::mail::outbox::queue(tx, &mails, at).await?;
    }
    Ok(())
}

async fn store_attachments(
    tx: &mut Tx,
    db: &Db,
    a: &NewApplication,
    r: &ReceiptNumber,
) -> Result<(), sqlx::Error> {
    for att in &a.new_attachments {
        sqlx::query(
            "INSERT INTO attachments (tenant, id, owner, field, filename, content_type, size, sha256, content, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(a.tenant.as_str())
        .bind(att.id.as_str())
        .bind(format!("application:{}", r.as_str()))
        .bind(att.field.as_str())
        .bind(att.filename.as_str())
        .bind(att.content_type.as_str())
        .bind(att.bytes.len() as i64)
        .bind(hex::encode(Sha256::digest(&att.bytes)))
        .bind(
            db.vault()
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))?
                .seal_bytes(&a.tenant, kernel::crypto::Purpose::Attachment, &att.bytes),
        )
        .bind(a.submitted_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The case takes over its draft: only files the answers refer to move to
/// the case; uploads for fields that no longer apply are deleted with the
/// draft.
async fn take_over_draft(
    tx: &mut Tx,
    a: &NewApplication,
    r: &ReceiptNumber,
    draft: &str,
) -> Result<(), sqlx::Error> {
    for id in a
        .answers
        .values()
        .filter_map(|v| v.get("attachment_id"))
        .filter_map(|v| v.as_str())
    {
        sqlx::query(
            "UPDATE attachments SET owner = $1 WHERE tenant = $2 AND owner = $3 AND id = $4",
        )
        .bind(format!("application:{}", r.as_str()))
        .bind(a.tenant.as_str())
        .bind(format!("draft:{draft}"))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("DELETE FROM attachments WHERE tenant = $1 AND owner = $2")
        .bind(a.tenant.as_str())
        .bind(format!("draft:{draft}"))
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM drafts WHERE tenant = $1 AND id = $2")
        .bind(a.tenant.as_str())
        .bind(draft)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn audit_creates(
    tx: &mut Tx,
    tenant: &str,
    creates: &[Create<'_>],
) -> Result<(), sqlx::Error> {
    let entries: Vec<AuditEntry> = creates
        .iter()
        .filter(|(a, _, _)| a.tenant == tenant)
        .map(|(a, r, _)| {
            AuditEntry::new(
                a.actor.clone(),
                "application.submit",
                format!("application:{}", r.as_str()),
            )
            .detail(match &a.identity_check {
                None => {
                    serde_json::json!({"procedure": a.procedure_id, "channel": a.channel.as_str()})
                }
                Some(c) => serde_json::json!({
                    "procedure": a.procedure_id,
                    "channel": a.channel.as_str(),
                    "identity_document": c.document,
                    "identity_checked_by": c.checked_by,
                    "identity_checked_at": c.checked_at,
                }),
            })
        })
        .collect();
    let at = creates
        .iter()
        .map(|(a, _, _)| a.submitted_at)
        .max()
        .unwrap_or_else(kernel::clock::now_ms);
    audit::append(tx, tenant, at, &entries).await
}
