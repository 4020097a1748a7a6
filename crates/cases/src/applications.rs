//! Applications (申請, cases): reading them, drafts, stored uploads,
//! residents' access links and the resident's resubmission after a
//! correction request.

use kernel::audit::{self, AuditEntry};
use kernel::db::{Db, Tx};
use kernel::i18n::{self, Lang};
use kernel::ids::{self, ReceiptNumber};
use kernel::{AppError, AppResult};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::status::{add_event, NewEvent, Status};
use catalogue::form::{self, Answers, FieldType, FileRef, FormDef, RawInput};
use catalogue::model::Channel;

/// Drafts are kept this long after their last save.
pub const DRAFT_DAYS: i64 = 30;

/// What links in e-mails need: the public address and the key that derives
/// residents' access tokens.
#[derive(Clone)]
pub struct Links {
    pub public_url: std::sync::Arc<str>,
    pub access_key: std::sync::Arc<[u8]>,
}

impl Links {
    /// The resident's access token for a case: an HMAC of tenant and receipt
    /// number, so it can be shown again on an idempotent retry without being
    /// stored.
    pub fn access_token(&self, tenant: &str, receipt: &str) -> String {
        let mac = kernel::crypto::hmac_sha256(
            &self.access_key,
            format!("access|{tenant}|{receipt}").as_bytes(),
        );
        hex::encode(&mac[..16])
    }

    pub fn verify(&self, tenant: &str, receipt: &str, token: &str) -> bool {
        kernel::crypto::constant_time_eq(&self.access_token(tenant, receipt), token)
    }

    /// Path of the resident's own view of a case.
    pub fn case_path(&self, tenant: &str, receipt: &str) -> String {
        format!(
            "/t/{tenant}/my/{receipt}/{}",
            self.access_token(tenant, receipt)
        )
    }

    pub fn case_url(&self, tenant: &str, receipt: &str) -> String {
        format!(
            "{}{}",
            self.public_url.trim_end_matches('/'),
            self.case_path(tenant, receipt)
        )
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Application {
    pub tenant: String,
    pub id: String,
    pub procedure_id: String,
    pub procedure_version: i64,
    pub department: String,
    pub channel: Channel,
    pub status: Status,
    pub applicant_name: String,
    pub applicant_kana: String,
    pub email: Option<String>,
    pub lang: Lang,
    pub answers: Answers,
    pub assignee: Option<String>,
    pub fiscal_year: i64,
    pub submitted_at: i64,
    pub updated_at: i64,
    pub version: i64,
    /// How the applicant was identified: `none`, `signed_in`,
    /// `my_number_card` (online) or `counter`.
    pub identity_level: String,
    /// Answers taken from the verified identity (基本4情報).
    pub verified_fields: Vec<String>,
    /// The life-event visit this case was opened for, if any.
    pub visit_id: Option<String>,
}

impl Application {
    pub fn receipt_display(&self) -> String {
        ReceiptNumber::parse(&self.id)
            .map(|r| r.display())
            .unwrap_or_else(|| self.id.clone())
    }
}

const APP_COLUMNS: &str =
    "tenant, id, procedure_id, procedure_version, department, channel, status, applicant_name,
    applicant_kana, email, lang, data, assignee, fiscal_year, submitted_at, updated_at, version,
    identity_level, verified_fields, visit_id";

fn row_to_app(db: &Db, r: &sqlx::any::AnyRow) -> AppResult<Application> {
    let tenant: String = r.get("tenant");
    let channel: String = r.get("channel");
    let status: String = r.get("status");
    Ok(Application {
        tenant: tenant.clone(),
        id: r.get("id"),
        procedure_id: r.get("procedure_id"),
        procedure_version: r.get("procedure_version"),
        department: r.get("department"),
        channel: Channel::parse(&channel)
            .ok_or_else(|| anyhow::anyhow!("bad channel {channel}"))?,
        status: Status::parse(&status).ok_or_else(|| anyhow::anyhow!("bad status {status}"))?,
        applicant_name: r.get("applicant_name"),
        applicant_kana: r.get("applicant_kana"),
        email: r.get("email"),
        lang: Lang::parse(&r.get::<String, _>("lang")).unwrap_or_default(),
        answers: db.open_json(&tenant, &r.get::<String, _>("data"))?,
        assignee: r.get("assignee"),
        fiscal_year: r.get("fiscal_year"),
        submitted_at: r.get("submitted_at"),
        updated_at: r.get("updated_at"),
        version: r.get("version"),
        identity_level: r.get("identity_level"),
        verified_fields: r
            .get::<String, _>("verified_fields")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        visit_id: r.get("visit_id"),
    })
}

pub async fn get(db: &Db, tenant: &str, id: &str) -> AppResult<Application> {
    let sql = format!("SELECT {APP_COLUMNS} FROM applications WHERE tenant = $1 AND id = $2");
    let r = sqlx::query(&sql)
        .bind(tenant)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(AppError::NotFound("application"))?;
    row_to_app(db, &r)
}

/// The most a resident's list shows (newest first).
pub const RESIDENT_LIST_MAX: i64 = 200;

/// A signed-in resident's own applications in one tenant, newest first:
/// those filed while signed in with this pseudonymous subject.
pub async fn of_resident(db: &Db, tenant: &str, subject: &str) -> AppResult<Vec<Application>> {
    let sql = format!(
        "SELECT {APP_COLUMNS} FROM applications WHERE tenant = $1 AND resident_subject = $2
         ORDER BY submitted_at DESC, id DESC LIMIT {RESIDENT_LIST_MAX}"
    );
    sqlx::query(&sql)
        .bind(tenant)
        .bind(subject)
        .fetch_all(db.read())
        .await?
        .iter()
        .map(|r| row_to_app(db, r))
        .collect()
}

/// A case a member of staff may change: their own department's (a grant
/// lets them see another department's cases, not act on them); a system
/// admin any.
pub async fn get_for_change(
    db: &Db,
    staff: &kernel::auth::CaseWorker,
    id: &str,
) -> AppResult<Application> {
    let app = get_for_staff(db, staff, id).await?;
    if app.department != staff.department && !staff.roles.contains(&kernel::auth::Role::SystemAdmin)
    {
        return Err(AppError::Forbidden);
    }
    Ok(app)
}

/// A case as a member of staff may reach it: only someone who works on
/// cases (the proof), and another department's case (without a grant) is
/// "not found", so its existence is not revealed.
pub async fn get_for_staff(
    db: &Db,
    staff: &kernel::auth::CaseWorker,
    id: &str,
) -> AppResult<Application> {
    let app = get(db, &staff.tenant, id).await?;
    if !staff.can_see_department(&app.department) {
        return Err(AppError::NotFound("application"));
    }
    Ok(app)
}

#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub seq: i64,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub actor: String,
    pub body: String,
    pub at: i64,
}

pub async fn events(db: &Db, tenant: &str, id: &str) -> AppResult<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT seq, kind, from_status, to_status, actor, body, at FROM application_events
         WHERE tenant = $1 AND application_id = $2 ORDER BY seq",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Event {
            seq: r.get(0),
            kind: r.get(1),
            from_status: r.get(2),
            to_status: r.get(3),
            actor: r.get(4),
            body: r.get(5),
            at: r.get(6),
        })
        .collect())
}

/// Filters of the staff case list.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct CaseFilter {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub procedure: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
}

pub const PAGE_SIZE: i64 = 50;

#[derive(Clone, Debug, Serialize)]
pub struct CaseList {
    pub items: Vec<Application>,
    pub total: i64,
    pub page: u32,
    pub pages: i64,
}

/// The cases a member of staff may see (their department and departments
/// granted to them, or all for a system administrator), filtered, newest
/// first.
pub async fn list(
    db: &Db,
    staff: &kernel::auth::CaseWorker,
    f: &CaseFilter,
) -> AppResult<CaseList> {
    let w = Where::of(staff, f)?;
    let count_sql = format!("SELECT COUNT(*) FROM applications WHERE {}", w.sql);
    let total: i64 = w
        .bind(sqlx::query(&count_sql))
        .fetch_one(db.read())
        .await?
        .get(0);
    let page = f.page.unwrap_or(1).max(1);
    let sql = format!(
        "SELECT {APP_COLUMNS} FROM applications WHERE {} ORDER BY submitted_at DESC, id LIMIT {PAGE_SIZE} OFFSET {}",
        w.sql,
        (i64::from(page) - 1) * PAGE_SIZE
    );
    let items = w
        .bind(sqlx::query(&sql))
        .fetch_all(db.read())
        .await?
        .iter()
        .map(|r| row_to_app(db, r))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(CaseList {
        items,
        total,
        page,
        pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
    })
}

/// The case list's condition: the tenant, the departments the member of
/// staff sees, and the filters, with its arguments in order.
struct Where {
    sql: String,
    args: Vec<String>,
}

impl Where {
    fn of(staff: &kernel::auth::CaseWorker, f: &CaseFilter) -> AppResult<Self> {
        let mut w = Where {
            sql: String::from("tenant = $1"),
            args: vec![staff.tenant.clone()],
        };
        if let Some(departments) = staff.visible_departments() {
            let marks: Vec<String> = departments.iter().map(|d| w.arg(d.to_string())).collect();
            w.sql
                .push_str(&format!(" AND department IN ({})", marks.join(", ")));
        }
        if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
            let s = Status::parse(s)
                .ok_or_else(|| AppError::BadRequest(format!("状態「{s}」はありません。")))?;
            w.and("status", s.as_str());
        }
        if let Some(p) = f.procedure.as_deref().filter(|s| !s.is_empty()) {
            w.and("procedure_id", p);
        }
        match f.assignee.as_deref() {
            Some("none") => w.sql.push_str(" AND assignee IS NULL"),
            Some(a) if !a.is_empty() => w.and("assignee", a),
            _ => {}
        }
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            w.matching(q);
        }
        Ok(w)
    }

    /// Adds an argument; its placeholder.
    fn arg(&mut self, v: String) -> String {
        self.args.push(v);
        format!("${}", self.args.len())
    }

    fn and(&mut self, column: &str, v: &str) {
        let mark = self.arg(v.to_string());
        self.sql.push_str(&format!(" AND {column} = {mark}"));
    }

    /// A receipt number, or part of the applicant's name or reading.
    fn matching(&mut self, q: &str) {
        if let Some(r) = ReceiptNumber::parse(q) {
            self.and("id", r.as_str());
            return;
        }
        let q = jp::nfc(q);
        let kana = jp::hiragana_to_katakana(&q).replace(' ', "\u{3000}");
        let like_name = format!("%{}%", q.replace(' ', "\u{3000}").replace(['%', '_'], ""));
        let like_kana = format!("%{}%", kana.replace(['%', '_'], ""));
        let name = self.arg(like_name);
        let kana = self.arg(like_kana);
        self.sql.push_str(&format!(
            " AND (LOWER(applicant_name) LIKE LOWER({name}) OR applicant_kana LIKE {kana})"
        ));
    }

    fn bind<'q>(
        &'q self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for a in &self.args {
            q = q.bind(a.as_str());
        }
        q
    }
}

/// The applicant's name, reading and e-mail, taken from the first fields of
/// those types.
pub fn applicant_of(form: &FormDef, answers: &Answers) -> (String, String, Option<String>) {
    let person = form
        .fields
        .iter()
        .find(|f| f.kind == FieldType::PersonName)
        .and_then(|f| answers.get(&f.name));
    let name = person
        .and_then(|p| p.get("name"))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let kana = person
        .and_then(|p| p.get("kana"))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let email = form
        .fields
        .iter()
        .find(|f| f.kind == FieldType::Email)
        .and_then(|f| answers.get(&f.name))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    (name, kana, email)
}

/// Answers back into raw input, to prefill a form for a correction.
pub fn answers_to_raw(form: &FormDef, answers: &Answers) -> RawInput {
    let mut raw = RawInput::default();
    for f in &form.fields {
        let Some(v) = answers.get(&f.name) else {
            continue;
        };
        match f.kind {
            FieldType::PersonName => {
                raw.values.insert(
                    f.name.clone(),
                    v.get("name")
                        .and_then(|x| x.as_str())
                        .unwrap_or_default()
                        .to_string(),
                );
                raw.values.insert(
                    format!("{}_kana", f.name),
                    v.get("kana")
                        .and_then(|x| x.as_str())
                        .unwrap_or_default()
                        .to_string(),
                );
            }
            FieldType::File => {
                if let Ok(file) = serde_json::from_value::<FileRef>(v.clone()) {
                    raw.files.insert(f.name.clone(), file);
                }
            }
            _ => {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                raw.values.insert(f.name.clone(), s);
            }
        }
    }
    raw
}

// ---------------------------------------------------------------- drafts

#[derive(Clone, Debug)]
pub struct Draft {
    /// SHA-256 of the token held by the resident.
    pub id: String,
    pub procedure_id: String,
    pub input: RawInput,
    pub updated_at: i64,
    pub expires_at: i64,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct DraftData {
    input: RawInput,
}

impl Draft {
    /// The idempotency key of submitting this draft: derived from the
    /// draft, so a double click (or a retry after a lost response) finds
    /// the same case, and only the holder of the draft token can.
    pub fn submit_key(&self) -> String {
        submit_key_for(&self.id)
    }
}

/// The submit key of the draft whose id (token hash) is `draft_id`.
pub fn submit_key_for(draft_id: &str) -> String {
    format!("web-draft-{draft_id}")
}

/// Creates a draft and returns its token (kept by the resident as a cookie
/// or a resume link; the store keeps only its hash).
pub async fn create_draft(db: &Db, tenant: &str, procedure_id: &str) -> AppResult<(String, Draft)> {
    let token = ids::token();
    let now = kernel::clock::now_ms();
    let draft = Draft {
        id: ids::hash_token(&token),
        procedure_id: procedure_id.to_string(),
        input: RawInput::default(),
        updated_at: now,
        expires_at: now + DRAFT_DAYS * 86_400_000,
    };
    sqlx::query(
        "INSERT INTO drafts (tenant, id, procedure_id, data, created_at, updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(tenant)
    .bind(&draft.id)
    .bind(procedure_id)
    .bind(db.seal_json(tenant, &DraftData { input: RawInput::default() })?)
    .bind(now)
    .bind(draft.expires_at)
    .execute(db.write())
    .await?;
    Ok((token, draft))
}

pub async fn load_draft(db: &Db, tenant: &str, token: &str) -> AppResult<Option<Draft>> {
    let id = ids::hash_token(token);
    let r = sqlx::query("SELECT procedure_id, data, updated_at, expires_at FROM drafts WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(&id)
        .fetch_optional(db.read())
        .await?;
    let Some(r) = r else { return Ok(None) };
    let expires_at: i64 = r.get(3);
    if expires_at < kernel::clock::now_ms() {
        return Ok(None);
    }
    let data: DraftData = db.open_json(tenant, &r.get::<String, _>(1))?;
    Ok(Some(Draft {
        id,
        procedure_id: r.get(0),
        input: data.input,
        updated_at: r.get(2),
        expires_at,
    }))
}

/// Opens input stored by [`sealed_draft`].
pub fn open_draft_input(db: &Db, tenant: &str, text: &str) -> AppResult<RawInput> {
    let data: DraftData = db.open_json(tenant, text)?;
    Ok(data.input)
}

/// Draft data for storage: every value of a マイナンバー field is sealed
/// whatever it holds (a number with a typo is still someone's number),
/// and any other string that is a valid マイナンバー too.
pub fn sealed_draft(db: &Db, tenant: &str, form: &FormDef, input: &RawInput) -> AppResult<String> {
    let mut v = serde_json::to_value(DraftData {
        input: input.clone(),
    })
    .map_err(anyhow::Error::from)?;
    if let Some(values) = v
        .pointer_mut("/input/values")
        .and_then(|x| x.as_object_mut())
    {
        let vault = db.vault()?;
        for f in form.fields.iter().filter(|f| f.kind == FieldType::MyNumber) {
            if let Some(x) = values.get_mut(&f.name) {
                if let Some(typed) = x.as_str().filter(|t| !t.trim().is_empty()) {
                    *x = kernel::crypto::sealed_value(vault, tenant, typed);
                }
            }
        }
    }
    Ok(db.seal_json(tenant, &v)?)
}

/// Saves what the resident typed so far (valid or not: nothing is lost).
pub async fn save_draft(db: &Db, tenant: &str, form: &FormDef, draft: &Draft) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    sqlx::query("UPDATE drafts SET data = $1, updated_at = $2, expires_at = $3 WHERE tenant = $4 AND id = $5")
        .bind(sealed_draft(db, tenant, form, &draft.input)?)
        .bind(now)
        .bind(now + DRAFT_DAYS * 86_400_000)
        .bind(tenant)
        .bind(&draft.id)
        .execute(db.write())
        .await?;
    Ok(())
}

/// Stores an upload for a draft (`draft:<id>`, replacing its earlier upload
/// of the same field) or a case (`application:<receipt>`, kept beside the
/// earlier ones) and returns the reference kept in the input.
pub async fn store_upload(
    db: &Db,
    tenant: &str,
    owner: &str,
    field: &str,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> AppResult<FileRef> {
    let id = ids::short_id();
    let mut tx = db.begin().await?;
    // A draft keeps one file per field; a case keeps every file it was
    // ever given (a correction adds, it never deletes evidence).
    if owner.starts_with("draft:") {
        sqlx::query("DELETE FROM attachments WHERE tenant = $1 AND owner = $2 AND field = $3")
            .bind(tenant)
            .bind(owner)
            .bind(field)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO attachments (tenant, id, owner, field, filename, content_type, size, sha256, content, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant)
    .bind(&id)
    .bind(owner)
    .bind(field)
    .bind(filename)
    .bind(content_type)
    .bind(bytes.len() as i64)
    .bind(hex::encode(Sha256::digest(bytes)))
    .bind(db.vault()?.seal_bytes(tenant, kernel::crypto::Purpose::Attachment, bytes))
    .bind(kernel::clock::now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(FileRef {
        attachment_id: id,
        filename: filename.to_string(),
        content_type: content_type.to_string(),
        size: bytes.len() as u64,
    })
}

pub struct StoredFile {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An attachment of a case.
pub async fn attachment(
    db: &Db,
    tenant: &str,
    application_id: &str,
    attachment_id: &str,
) -> AppResult<StoredFile> {
    let r = sqlx::query("SELECT filename, content_type, content FROM attachments WHERE tenant = $1 AND id = $2 AND owner = $3")
        .bind(tenant)
        .bind(attachment_id)
        .bind(format!("application:{application_id}"))
        .fetch_optional(db.read())
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    let stored: Vec<u8> = r.get(2);
    Ok(StoredFile {
        filename: r.get(0),
        content_type: r.get(1),
        bytes: db
            .vault()?
            .open_bytes(tenant, kernel::crypto::Purpose::Attachment, &stored)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("attachment {attachment_id}: {e}")))?,
    })
}

// ---------------------------------------------------- mail to residents

/// Queues the e-mail telling the resident their case moved on.
pub(crate) async fn queue_status_mail(
    tx: &mut Tx,
    links: &Links,
    app: &Application,
    email: &str,
    to: Status,
    message: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let lang = app.lang;
    let receipt = app.receipt_display();
    let subject = i18n::tf(lang, "mail.status.subject", &[("receipt", &receipt)]);
    let mut body = i18n::tf(
        lang,
        "mail.status.body",
        &[
            ("receipt", &receipt),
            ("status", i18n::t(lang, &to.label_key())),
            ("url", &links.case_url(&app.tenant, &app.id)),
        ],
    );
    if !message.is_empty() {
        body.push_str("\n\n");
        body.push_str(&i18n::tf(
            lang,
            "mail.status.message",
            &[("message", message)],
        ));
    }
    let Ok(to_address) = jp::Email::parse(email) else {
        // Stored before addresses were checked as they are now: no mail.
        tracing::warn!(case = %app.id, "status mail not queued: the stored address does not parse");
        return Ok(());
    };
    let mail = mail::outbox::NewMail::about_case(
        &app.tenant,
        format!("application.{}", to.as_str()),
        to_address,
        lang,
        &app.id,
        subject,
        body,
    );
    mail::outbox::queue(tx, &[mail], now).await?;
    Ok(())
}

// ------------------------------------------------ correction (補正) loop

/// The resident's corrected answers after a correction request: replaces
/// the answers, moves the case back to 審査中, records history and audit.
/// The correction form shows a stored マイナンバー masked (whoever holds the
/// link must not read it); sent back unchanged, the stored number stands.
/// A value that is not a valid number (typed, not yet checked) is hidden
/// whole: a number with a typo is still someone's number.
pub fn mask_my_numbers(form: &FormDef, input: &mut RawInput) {
    for f in form.fields.iter().filter(|f| f.kind == FieldType::MyNumber) {
        if let Some(v) = input
            .values
            .get_mut(&f.name)
            .filter(|v| !v.trim().is_empty())
        {
            *v = jp::MyNumber::parse(v)
                .map(|n| n.masked())
                .unwrap_or_else(|_| "************".into());
        }
    }
}

fn unmask_my_numbers(form: &FormDef, stored: &Answers, input: &mut RawInput) {
    for f in form.fields.iter().filter(|f| f.kind == FieldType::MyNumber) {
        let Some(old) = stored.get(&f.name).and_then(|v| v.as_str()) else {
            continue;
        };
        let Ok(old_n) = jp::MyNumber::parse(old) else {
            continue;
        };
        if input
            .values
            .get(&f.name)
            .is_some_and(|v| v.trim() == old_n.masked())
        {
            input.values.insert(f.name.clone(), old.to_string());
        }
    }
}

pub async fn resubmit(
    db: &Db,
    tenant: &str,
    id: &str,
    expected_version: i64,
    form: &FormDef,
    input: &RawInput,
    lang: Lang,
) -> AppResult<()> {
    let app = get(db, tenant, id).await?;
    let mut input = input.clone();
    unmask_my_numbers(form, &app.answers, &mut input);
    let today = catalogue::rules::Today::of_tenant(db, tenant).await?;
    let mut answers = form::validate(form, &input, lang, &today).map_err(AppError::Validation)?;
    if app.status != Status::CorrectionRequested || app.version != expected_version {
        return Err(AppError::Conflict("status"));
    }
    keep_verified(&app, &mut answers);
    let (name, kana, email) = applicant_of(form, &answers);
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE applications SET data = $1, applicant_name = $2, applicant_kana = $3, email = $4,
           status = 'under_review', version = version + 1, updated_at = $5
         WHERE tenant = $6 AND id = $7 AND version = $8 AND status = 'correction_requested'",
    )
    .bind(db.seal_json(tenant, &answers)?)
    .bind(name)
    .bind(kana)
    .bind(email)
    .bind(now)
    .bind(tenant)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(AppError::Conflict("status"));
    }
    let changed: Vec<&String> = answers
        .iter()
        .filter(|(k, v)| app.answers.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    add_event(
        &mut tx,
        tenant,
        id,
        NewEvent {
            kind: "resubmitted",
            from: Some(Status::CorrectionRequested),
            to: Some(Status::UnderReview),
            actor: "resident",
            body: &serde_json::to_string(&changed).unwrap_or_default(),
            at: now,
        },
    )
    .await?;
    let entry = AuditEntry::new(
        "resident",
        "application.resubmit",
        format!("application:{id}"),
    )
    .detail(serde_json::json!({"changed_fields": changed}));
    audit::append(&mut tx, tenant, now, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}

/// What the My Number card verified stays as verified: a correction (by
/// whoever holds the link) cannot change it. Of a name, the verified part
/// is the name; its reading was typed and may change.
fn keep_verified(app: &Application, answers: &mut Answers) {
    for field in &app.verified_fields {
        let Some(old) = app.answers.get(field) else {
            continue;
        };
        match (old.get("name"), answers.get_mut(field)) {
            (Some(old_name), Some(serde_json::Value::Object(new))) => {
                new.insert("name".into(), old_name.clone());
            }
            _ => {
                answers.insert(field.clone(), old.clone());
            }
        }
    }
}

/// The case created with an idempotency key, if any.
pub async fn find_by_idempotency_key(
    db: &Db,
    tenant: &str,
    key: &str,
) -> AppResult<Option<String>> {
    if key.is_empty() {
        return Ok(None);
    }
    Ok(
        sqlx::query("SELECT application_id FROM idempotency_keys WHERE tenant = $1 AND key = $2")
            .bind(tenant)
            .bind(key)
            .fetch_optional(db.read())
            .await?
            .map(|r| r.get(0)),
    )
}

/// Resuming from a link: the draft moves to a new token (and its uploads
/// with it), so a link someone else made and sent cannot be used to watch
/// or change what the resident types.
pub async fn rotate_draft(
    db: &Db,
    tenant: &str,
    old_token: &str,
) -> AppResult<Option<(String, Draft)>> {
    let Some(old) = load_draft(db, tenant, old_token).await? else {
        return Ok(None);
    };
    let token = ids::token();
    let new_id = ids::hash_token(&token);
    let now = kernel::clock::now_ms();
    let draft = Draft {
        id: new_id.clone(),
        procedure_id: old.procedure_id.clone(),
        input: old.input.clone(),
        updated_at: now,
        expires_at: now + DRAFT_DAYS * 86_400_000,
    };
    let mut tx = db.begin().await?;
    // The stored text moves as it is: sealed values stay sealed.
    sqlx::query(
        "INSERT INTO drafts (tenant, id, procedure_id, data, created_at, updated_at, expires_at)
         SELECT tenant, $1, procedure_id, data, $2, $2, $3 FROM drafts WHERE tenant = $4 AND id = $5",
    )
    .bind(&new_id)
    .bind(now)
    .bind(draft.expires_at)
    .bind(tenant)
    .bind(&old.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE attachments SET owner = $1 WHERE tenant = $2 AND owner = $3")
        .bind(format!("draft:{new_id}"))
        .bind(tenant)
        .bind(format!("draft:{}", old.id))
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM drafts WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(&old.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some((token, draft)))
}

/// Deletes expired drafts and their uploads (sessions are purged by
/// identity); returns how many drafts went.
pub async fn purge_expired(db: &Db) -> AppResult<u64> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let expired = sqlx::query("SELECT tenant, id FROM drafts WHERE expires_at < $1")
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
    for r in &expired {
        let tenant: String = r.get(0);
        let id: String = r.get(1);
        sqlx::query("DELETE FROM attachments WHERE tenant = $1 AND owner = $2")
            .bind(&tenant)
            .bind(format!("draft:{id}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM drafts WHERE tenant = $1 AND id = $2")
            .bind(&tenant)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(expired.len() as u64)
}
