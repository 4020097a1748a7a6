//! The queue of a counter (窓口) for one day: numbered tickets (整理券),
//! called in order, recalled, marked absent, transferred to another
//! counter keeping their place, finished. Every change is one conditional
//! update on the ticket's current status and version, so concurrent clerks
//! can neither call the same ticket twice nor lose one.
//!
//! Every function that depends on the time takes it (`now`, milliseconds
//! since the epoch): handlers pass `kernel::clock::now_ms()`, and the
//! simulation in `tests/it/simulation.rs` drives the same functions through
//! whole days with its own clock.
//!
//! A clerk serves only at counters of their own department (system
//! administrators at any); a ticket may be sent on to any open counter.

use kernel::auth::{Clerk, Role, Staff};
use kernel::events::Bus;
use kernel::{AppError, AppResult, Db};
use serde::Serialize;
use sqlx::Row;

/// Minutes a service takes when there is no history yet today.
pub const DEFAULT_SERVICE_MS: i64 = 6 * 60_000;

/// Clerks who called at a counter this recently are counted as serving it.
pub const CLERK_WINDOW_MS: i64 = 30 * 60_000;

/// Finished services averaged for the service time.
pub const SERVICE_SAMPLE: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Waiting,
    Called,
    Absent,
    Done,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Called => "called",
            Status::Absent => "absent",
            Status::Done => "done",
        }
    }
    fn parse(s: &str) -> Status {
        match s {
            "called" => Status::Called,
            "absent" => Status::Absent,
            "done" => Status::Done,
            _ => Status::Waiting,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Ticket {
    pub id: String,
    pub counter: String,
    pub issued_counter: String,
    pub number: i64,
    /// As shown and announced: `C2-015`.
    pub display: String,
    pub status: Status,
    pub issued_at: i64,
    /// The last call (a recall moves it).
    pub called_at: Option<i64>,
    /// The first call: the resident's wait ended then.
    pub first_called_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub recalls: i64,
    pub version: i64,
}

/// The day (JST) a time falls on, as YYYYMMDD.
pub fn day_of(ms: i64) -> i64 {
    let d = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(kernel::clock::JST)
        .date();
    i64::from(d.year()) * 10_000 + i64::from(u8::from(d.month())) * 100 + i64::from(d.day())
}

pub fn display(counter: &str, number: i64) -> String {
    format!("{}-{number:03}", counter.to_uppercase())
}

const COLUMNS: &str = "id, counter, issued_counter, number, status, issued_at, called_at, first_called_at, finished_at, recalls, version";

fn row_to_ticket(r: &sqlx::any::AnyRow) -> Ticket {
    let issued_counter: String = r.get("issued_counter");
    let number: i64 = r.get("number");
    Ticket {
        id: r.get("id"),
        counter: r.get("counter"),
        display: display(&issued_counter, number),
        issued_counter,
        number,
        status: Status::parse(&r.get::<String, _>("status")),
        issued_at: r.get("issued_at"),
        called_at: r.get("called_at"),
        first_called_at: r.get("first_called_at"),
        finished_at: r.get("finished_at"),
        recalls: r.get("recalls"),
        version: r.get("version"),
    }
}

/// A counter as the queue needs it: open or closed, and whose it is.
struct CounterInfo {
    open: bool,
    department: String,
}

/// `None` for a counter the tenant does not have (the tenant's profile
/// says which it has; this crate keeps whether each is open).
async fn counter_info(db: &Db, tenant: &str, counter: &str) -> AppResult<Option<CounterInfo>> {
    let Some(department) = kernel::tenant::counter_department(db, tenant, counter).await? else {
        return Ok(None);
    };
    let open = sqlx::query("SELECT open FROM counter_state WHERE tenant = $1 AND counter = $2")
        .bind(tenant)
        .bind(counter)
        .fetch_optional(db.read())
        .await?
        .is_none_or(|r| r.get::<i64, _>(0) == 1);
    Ok(Some(CounterInfo { open, department }))
}

/// "Not found" for a counter the tenant does not have; a closed one is
/// refused unless `allow_closed` (a clerk may still call or reopen it).
async fn open_counter(
    db: &Db,
    tenant: &str,
    counter: &str,
    allow_closed: bool,
) -> AppResult<CounterInfo> {
    match counter_info(db, tenant, counter).await? {
        None => Err(AppError::NotFound("counter")),
        Some(c) if !c.open && !allow_closed => Err(AppError::Conflict("counter_closed")),
        Some(c) => Ok(c),
    }
}

/// Whether a member of staff may serve (call, recall, mark absent, finish,
/// open or close) at a counter run by `department`: staff of that
/// department, and system administrators. Grants to see another
/// department's cases do not make anyone serve at its counters.
pub fn may_serve(who: &Staff, department: &str) -> bool {
    who.department == department || who.roles.contains(&Role::SystemAdmin)
}

/// The counter, if it exists and `who` may serve at it (else 404 / 403).
async fn serving_counter(db: &Db, who: &Clerk, counter: &str) -> AppResult<CounterInfo> {
    let c = open_counter(db, &who.tenant, counter, true).await?;
    if !may_serve(who, &c.department) {
        return Err(AppError::NotPermitted("counter_department"));
    }
    Ok(c)
}

/// Whether a counter is open (a counter is open unless closed today).
pub async fn is_open(db: &Db, tenant: &str, counter: &str) -> AppResult<bool> {
    Ok(counter_info(db, tenant, counter)
        .await?
        .is_none_or(|c| c.open))
}

pub async fn set_open(db: &Db, who: &Clerk, counter: &str, open: bool, now: i64) -> AppResult<()> {
    serving_counter(db, who, counter).await?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO counter_state (tenant, counter, open, changed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant, counter) DO UPDATE SET open = excluded.open, changed_at = excluded.changed_at",
    )
    .bind(&who.tenant)
    .bind(counter)
    .bind(i64::from(open))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    kernel::audit::append(
        &mut tx,
        &who.tenant,
        now,
        &[kernel::audit::AuditEntry::new(
            who.actor(),
            if open {
                "counter.open"
            } else {
                "counter.close"
            },
            format!("counter:{counter}"),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Issues tickets with group commit: requests that arrive together are
/// numbered and stored in one transaction (one disk flush), and each
/// caller gets its ticket only after that commit. Numbers stay gapless and
/// in order per counter and day.
#[derive(Clone)]
pub struct Issuer {
    tx: tokio::sync::mpsc::Sender<IssueJob>,
}

struct IssueJob {
    tenant: String,
    counter: String,
    /// When the resident asked for the ticket.
    now: i64,
    reply: tokio::sync::oneshot::Sender<AppResult<(Ticket, String)>>,
}

const MAX_BATCH: usize = 512;

impl Issuer {
    pub fn start(db: Db) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<IssueJob>(4096);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => batch.push(j),
                        Err(_) => break,
                    }
                }
                let jobs = std::mem::take(&mut batch);
                match commit(&db, &jobs).await {
                    Ok(tickets) => {
                        for (job, t) in jobs.into_iter().zip(tickets) {
                            let _ = job.reply.send(Ok(t));
                        }
                    }
                    // One bad request must not fail the others: alone, each
                    // succeeds or gets its own error.
                    Err(e) => {
                        tracing::warn!(error = %e, size = jobs.len(), "ticket batch failed; one by one");
                        for job in jobs {
                            let r = commit(&db, std::slice::from_ref(&job))
                                .await
                                .map(|mut v| v.remove(0))
                                .map_err(AppError::from);
                            let _ = job.reply.send(r);
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// Issues the next ticket of a counter's queue at `now`; returns it
    /// with the token for the resident's status page.
    pub async fn issue(
        &self,
        db: &Db,
        tenant: &str,
        counter: &str,
        now: i64,
    ) -> AppResult<(Ticket, String)> {
        open_counter(db, tenant, counter, false).await?;
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(IssueJob {
                tenant: tenant.to_string(),
                counter: counter.to_string(),
                now,
                reply,
            })
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("ticket issuer stopped")))?;
        rx.await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("ticket issuer dropped a request")))?
    }
}

async fn commit(db: &Db, jobs: &[IssueJob]) -> Result<Vec<(Ticket, String)>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        let now = job.now;
        let day = day_of(now);
        sqlx::query(
            "INSERT INTO ticket_numbers (tenant, day, counter, last) VALUES ($1, $2, $3, 0) ON CONFLICT (tenant, day, counter) DO NOTHING",
        )
        .bind(&job.tenant)
        .bind(day)
        .bind(&job.counter)
        .execute(&mut *tx)
        .await?;
        let number: i64 = sqlx::query(
            "UPDATE ticket_numbers SET last = last + 1 WHERE tenant = $1 AND day = $2 AND counter = $3 RETURNING last",
        )
        .bind(&job.tenant)
        .bind(day)
        .bind(&job.counter)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let token = kernel::ids::token();
        let id = kernel::ids::short_id();
        // Ties in issue time are broken by the number (in order per counter).
        let queue_key = now * 1000 + number % 1000;
        sqlx::query(
            "INSERT INTO tickets (tenant, id, day, counter, issued_counter, number, status, queue_key, issued_at, recalls, token_hash, version)
             VALUES ($1, $2, $3, $4, $4, $5, 'waiting', $6, $7, 0, $8, 1)",
        )
        .bind(&job.tenant)
        .bind(&id)
        .bind(day)
        .bind(&job.counter)
        .bind(number)
        .bind(queue_key)
        .bind(now)
        .bind(kernel::ids::hash_token(&token))
        .execute(&mut *tx)
        .await?;
        out.push((
            Ticket {
                id,
                counter: job.counter.clone(),
                issued_counter: job.counter.clone(),
                number,
                display: display(&job.counter, number),
                status: Status::Waiting,
                issued_at: now,
                called_at: None,
                first_called_at: None,
                finished_at: None,
                recalls: 0,
                version: 1,
            },
            token,
        ));
    }
    tx.commit().await?;
    Ok(out)
}

/// A ticket of a past day that was served: demo data, or the history of
/// the system a municipality used before.
#[derive(Clone, Debug)]
pub struct PastTicket {
    pub counter: String,
    /// The number it had that day at its counter.
    pub number: i64,
    pub issued_at: i64,
    pub called_at: i64,
    pub finished_at: i64,
    pub called_by: String,
}

/// Records served tickets of past days (never today's: their numbers are
/// the issuer's), in one transaction. A ticket is known by its day,
/// counter and number, so recording it again changes nothing; returns how
/// many were new.
pub async fn record_past(db: &Db, tenant: &str, tickets: &[PastTicket]) -> AppResult<u64> {
    let mut tx = db.begin().await?;
    let mut added = 0;
    for t in tickets {
        let day = day_of(t.issued_at);
        added += sqlx::query(
            "INSERT INTO tickets (tenant, id, day, counter, issued_counter, number, status, queue_key, issued_at,
                                  called_at, first_called_at, finished_at, called_by, recalls, token_hash, version)
             VALUES ($1, $2, $3, $4, $4, $5, 'done', $6, $7, $8, $8, $9, $10, 0, $11, 3)
             ON CONFLICT (tenant, id) DO NOTHING",
        )
        .bind(tenant)
        .bind(format!("past-{day}-{}-{}", t.counter, t.number))
        .bind(day)
        .bind(&t.counter)
        .bind(t.number)
        .bind(t.issued_at * 1000 + t.number % 1000)
        .bind(t.issued_at)
        .bind(t.called_at)
        .bind(t.finished_at)
        .bind(&t.called_by)
        // Nobody holds a link to these.
        .bind(kernel::ids::hash_token(&kernel::ids::token()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(added)
}

pub async fn get(db: &Db, tenant: &str, id: &str) -> AppResult<Ticket> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE tenant = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::NotFound("ticket"))?;
    Ok(row_to_ticket(&r))
}

/// A ticket by its status-page link (id and token); a wrong or old link is
/// "not found".
pub async fn by_link(db: &Db, tenant: &str, id: &str, token: &str) -> AppResult<Ticket> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS}, token_hash FROM tickets WHERE tenant = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::NotFound("ticket"))?;
    let stored: String = r.get("token_hash");
    if !kernel::crypto::constant_time_eq(&stored, &kernel::ids::hash_token(token)) {
        return Err(AppError::NotFound("ticket"));
    }
    Ok(row_to_ticket(&r))
}

enum Bind {
    Text(String),
    Int(i64),
}

/// Moves a ticket from one status to another if it is still as the clerk
/// saw it; the ticket after the change. With `announce`, the ticket is
/// called to the boards in the same transaction.
#[allow(clippy::too_many_arguments)]
async fn change(
    db: &Db,
    announce: Option<&Bus>,
    who: &Clerk,
    id: &str,
    from: Status,
    expected_version: Option<i64>,
    set: &str,
    binds: Vec<Bind>,
    action: &'static str,
    now: i64,
) -> AppResult<Ticket> {
    let mut tx = db.begin().await?;
    let mut sql = format!(
        "UPDATE tickets SET {set}, version = version + 1 WHERE tenant = $1 AND id = $2 AND status = $3"
    );
    if expected_version.is_some() {
        sql.push_str(" AND version = $4");
    }
    let mut q = sqlx::query(&sql)
        .bind(&who.tenant)
        .bind(id)
        .bind(from.as_str());
    if let Some(v) = expected_version {
        q = q.bind(v);
    }
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t),
            Bind::Int(i) => q.bind(i),
        };
    }
    let n = q.execute(&mut *tx).await?.rows_affected();
    if n != 1 {
        // Exists? Then it was not in the expected state.
        return Err(match get(db, &who.tenant, id).await {
            Ok(_) => AppError::Conflict("ticket_state"),
            Err(e) => e,
        });
    }
    kernel::audit::append(
        &mut tx,
        &who.tenant,
        now,
        &[kernel::audit::AuditEntry::new(
            who.actor(),
            action,
            format!("ticket:{id}"),
        )],
    )
    .await?;
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE tenant = $1 AND id = $2"
    ))
    .bind(&who.tenant)
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let ticket = row_to_ticket(&r);
    if let Some(bus) = announce {
        crate::call_event::publish(
            bus,
            &mut tx,
            &who.tenant,
            &ticket.display,
            &ticket.counter,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ticket)
}

/// The ticket a counter has called and not yet finished, if any.
pub async fn current(db: &Db, tenant: &str, counter: &str, now: i64) -> AppResult<Option<Ticket>> {
    Ok(sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE tenant = $1 AND day = $2 AND counter = $3 AND status = 'called'
         ORDER BY called_at DESC LIMIT 1"
    ))
    .bind(tenant)
    .bind(day_of(now))
    .bind(counter)
    .fetch_optional(db.read())
    .await?
    .map(|r| row_to_ticket(&r)))
}

/// Calls the next waiting ticket of a counter and, in the same
/// transaction, to every board (`bus`). `None` when nobody waits.
pub async fn call_next(
    db: &Db,
    bus: &Bus,
    who: &Clerk,
    counter: &str,
    now: i64,
) -> AppResult<Option<Ticket>> {
    serving_counter(db, who, counter).await?;
    let day = day_of(now);
    // Another clerk may take the same ticket between the read and the
    // update: the update is conditional, so try the next one.
    for _ in 0..20 {
        let next = sqlx::query(
            "SELECT id FROM tickets WHERE tenant = $1 AND day = $2 AND counter = $3 AND status = 'waiting'
             ORDER BY queue_key LIMIT 1",
        )
        .bind(&who.tenant)
        .bind(day)
        .bind(counter)
        .fetch_optional(db.write())
        .await?;
        let Some(next) = next else { return Ok(None) };
        let id: String = next.get(0);
        match change(
            db,
            Some(bus),
            who,
            &id,
            Status::Waiting,
            None,
            "status = 'called', counter = $4, called_at = $5, first_called_at = COALESCE(first_called_at, $5), called_by = $6",
            vec![
                Bind::Text(counter.to_string()),
                Bind::Int(now),
                Bind::Text(who.id.clone()),
            ],
            "ticket.call",
            now,
        )
        .await
        {
            Ok(t) => return Ok(Some(t)),
            Err(AppError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(AppError::Conflict("ticket_state"))
}

/// A clerk acts on a ticket at the counter it is at: only where they may
/// serve. (The update that follows checks the version, so a ticket moved
/// meanwhile is refused there.)
async fn check_serves_ticket(db: &Db, who: &Clerk, id: &str) -> AppResult<()> {
    let t = get(db, &who.tenant, id).await?;
    serving_counter(db, who, &t.counter).await.map(|_| ())
}

/// Calls a called ticket again, to every board (`bus`) in the same
/// transaction.
pub async fn recall(
    db: &Db,
    bus: &Bus,
    who: &Clerk,
    id: &str,
    version: i64,
    now: i64,
) -> AppResult<Ticket> {
    check_serves_ticket(db, who, id).await?;
    change(
        db,
        Some(bus),
        who,
        id,
        Status::Called,
        Some(version),
        "recalls = recalls + 1, called_at = $5",
        vec![Bind::Int(now)],
        "ticket.recall",
        now,
    )
    .await
}

pub async fn absent(db: &Db, who: &Clerk, id: &str, version: i64, now: i64) -> AppResult<Ticket> {
    check_serves_ticket(db, who, id).await?;
    change(
        db,
        None,
        who,
        id,
        Status::Called,
        Some(version),
        "status = 'absent', finished_at = $5",
        vec![Bind::Int(now)],
        "ticket.absent",
        now,
    )
    .await
}

pub async fn finish(db: &Db, who: &Clerk, id: &str, version: i64, now: i64) -> AppResult<Ticket> {
    check_serves_ticket(db, who, id).await?;
    change(
        db,
        None,
        who,
        id,
        Status::Called,
        Some(version),
        "status = 'done', finished_at = $5",
        vec![Bind::Int(now)],
        "ticket.finish",
        now,
    )
    .await
}

/// Sends a called ticket to another counter's queue, keeping its place
/// (its original issue time orders it there). Any open counter of the
/// tenant may receive it.
pub async fn transfer(
    db: &Db,
    who: &Clerk,
    id: &str,
    version: i64,
    to: &str,
    now: i64,
) -> AppResult<Ticket> {
    check_serves_ticket(db, who, id).await?;
    open_counter(db, &who.tenant, to, false).await?;
    change(
        db,
        None,
        who,
        id,
        Status::Called,
        Some(version),
        "status = 'waiting', counter = $5, called_at = NULL, called_by = NULL",
        vec![Bind::Text(to.to_string())],
        "ticket.transfer",
        now,
    )
    .await
}

/// Where a ticket stands: tickets ahead of it in its queue and an estimate.
#[derive(Clone, Debug, Serialize)]
pub struct Position {
    pub ahead: i64,
    pub estimated_wait_minutes: i64,
}

pub async fn position(db: &Db, tenant: &str, t: &Ticket, now: i64) -> AppResult<Position> {
    if t.status != Status::Waiting {
        return Ok(Position {
            ahead: 0,
            estimated_wait_minutes: 0,
        });
    }
    let r = sqlx::query(
        "SELECT COUNT(*) FROM tickets WHERE tenant = $1 AND day = $2 AND counter = $3 AND status = 'waiting'
         AND queue_key < (SELECT queue_key FROM tickets WHERE tenant = $1 AND id = $4)",
    )
    .bind(tenant)
    .bind(day_of(t.issued_at))
    .bind(&t.counter)
    .bind(&t.id)
    .fetch_one(db.read())
    .await?;
    let ahead: i64 = r.get(0);
    let load = load(db, tenant, &t.counter, now).await?;
    Ok(Position {
        ahead,
        estimated_wait_minutes: load.estimate_minutes(ahead),
    })
}

/// What the wait at a counter depends on at one moment. The estimate
/// method is described in docs/COUNTER.md and measured against simulated
/// days in `tests/it/simulation.rs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Load {
    /// Clerks serving the counter: each one who called there in the last
    /// [`CLERK_WINDOW_MS`] or is serving there now; at least 1.
    pub clerks: i64,
    /// For each ticket being served now (called, not finished), how long
    /// since it was called (ms).
    pub serving_for_ms: Vec<i64>,
    /// Mean service time (call to finish) of the counter's last
    /// [`SERVICE_SAMPLE`] finished tickets today; [`DEFAULT_SERVICE_MS`]
    /// before there are any.
    pub service_ms: i64,
}

impl Default for Load {
    fn default() -> Self {
        Self {
            clerks: 1,
            serving_for_ms: Vec::new(),
            service_ms: DEFAULT_SERVICE_MS,
        }
    }
}

impl Load {
    /// The expected wait (ms) of a resident with `ahead` people before
    /// them in the queue.
    ///
    /// Each of the `clerks` is free at some moment: a clerk now serving
    /// when that service is expected to end (the mean service time less
    /// the time already spent, but at least a quarter of it: a service
    /// that runs long still takes a while), the others now. The queue is
    /// served in order, each clerk taking the next person when free and
    /// spending the mean service time on them, so the resident is called
    /// when the `ahead + 1`-th clerk becomes free: with the moments sorted,
    /// `free[ahead % clerks] + (ahead / clerks) × service`.
    ///
    /// With one clerk this is the remaining service plus one service per
    /// person ahead; with three clerks the queue moves three times as
    /// fast. (The estimate before ignored the clerks: `ahead × service`.)
    pub fn estimate_ms(&self, ahead: i64) -> i64 {
        let service = self.service_ms.max(1);
        let clerks = usize::try_from(self.clerks.max(1)).unwrap_or(1);
        let mut free: Vec<i64> = self
            .serving_for_ms
            .iter()
            .take(clerks)
            .map(|elapsed| (service - elapsed).max(service / 4))
            .collect();
        free.resize(clerks, 0);
        free.sort_unstable();
        let ahead = usize::try_from(ahead.max(0)).unwrap_or(0);
        let rounds = i64::try_from(ahead / clerks).unwrap_or(i64::MAX / service);
        free[ahead % clerks].saturating_add(rounds.saturating_mul(service))
    }

    /// [`Load::estimate_ms`] in whole minutes, rounded up ("about N minutes").
    pub fn estimate_minutes(&self, ahead: i64) -> i64 {
        self.estimate_ms(ahead).saturating_add(59_999) / 60_000
    }
}

/// The counter's load at `now`.
pub async fn load(db: &Db, tenant: &str, counter: &str, now: i64) -> AppResult<Load> {
    Ok(activity(db, tenant, Some(counter), now)
        .await?
        .remove(counter)
        .map(|a| a.load)
        .unwrap_or_default())
}

/// What happens at counters today: their load and the number called last.
#[derive(Default)]
struct Activity {
    load: Load,
    /// (called at, shown number) of the latest call still open.
    calling: Option<(i64, String)>,
}

/// The activity of one counter or of all, in two queries.
async fn activity(
    db: &Db,
    tenant: &str,
    counter: Option<&str>,
    now: i64,
) -> AppResult<std::collections::HashMap<String, Activity>> {
    use std::collections::{HashMap, HashSet};
    let day = day_of(now);
    let (only, limit) = match counter {
        Some(_) => ("AND counter = $3", SERVICE_SAMPLE),
        None => ("", 2000),
    };
    // The services of the day, newest first.
    let services_sql = format!(
        "SELECT counter, finished_at - called_at FROM tickets WHERE tenant = $1 AND day = $2 {only} AND status = 'done'
         AND called_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT {limit}"
    );
    let mut sq = sqlx::query(&services_sql).bind(tenant).bind(day);
    if let Some(c) = counter {
        sq = sq.bind(c);
    }
    let mut out: HashMap<String, Activity> = HashMap::new();
    let mut samples: HashMap<String, Vec<i64>> = HashMap::new();
    for r in sq.fetch_all(db.read()).await? {
        let v = samples.entry(r.get(0)).or_default();
        let d: i64 = r.get(1);
        if v.len() < SERVICE_SAMPLE && d > 0 {
            v.push(d);
        }
    }
    // Tickets being served, and the calls of the last half hour (who serves).
    let since = if counter.is_some() { "$4" } else { "$3" };
    let calls_sql = format!(
        "SELECT counter, called_by, status, called_at, issued_counter, number FROM tickets
         WHERE tenant = $1 AND day = $2 {only} AND called_by IS NOT NULL
         AND (status = 'called' OR called_at >= {since})"
    );
    let mut cq = sqlx::query(&calls_sql).bind(tenant).bind(day);
    if let Some(c) = counter {
        cq = cq.bind(c);
    }
    let mut clerks: HashMap<String, HashSet<String>> = HashMap::new();
    for r in cq.bind(now - CLERK_WINDOW_MS).fetch_all(db.read()).await? {
        let code: String = r.get(0);
        clerks
            .entry(code.clone())
            .or_default()
            .insert(r.get::<String, _>(1));
        if r.get::<String, _>(2) == Status::Called.as_str() {
            let at: i64 = r.get::<Option<i64>, _>(3).unwrap_or(now);
            let a = out.entry(code).or_default();
            a.load.serving_for_ms.push((now - at).max(0));
            if a.calling.as_ref().is_none_or(|(t, _)| at >= *t) {
                a.calling = Some((at, display(&r.get::<String, _>(4), r.get(5))));
            }
        }
    }
    for (code, set) in clerks {
        out.entry(code).or_default().load.clerks = i64::try_from(set.len()).unwrap_or(1).max(1);
    }
    for (code, v) in samples {
        if !v.is_empty() {
            out.entry(code).or_default().load.service_ms = v.iter().sum::<i64>() / v.len() as i64;
        }
    }
    Ok(out)
}

/// One counter's line on the board and the congestion page.
#[derive(Clone, Debug, Serialize)]
pub struct CounterStatus {
    pub counter: String,
    pub waiting: i64,
    /// The number called last (shown on the board), if any.
    pub now_calling: Option<String>,
    /// For someone who takes a ticket now.
    pub estimated_wait_minutes: i64,
    pub open: bool,
}

/// Every counter's line, in five queries whatever the number of counters
/// (the board is recomputed after every change).
pub async fn board(db: &Db, tenant: &str, now: i64) -> AppResult<Vec<CounterStatus>> {
    use std::collections::HashMap;
    let day = day_of(now);
    let counters = kernel::tenant::counter_codes(db, tenant).await?;
    let waiting: HashMap<String, i64> = sqlx::query(
        "SELECT counter, COUNT(*) FROM tickets WHERE tenant = $1 AND day = $2 AND status = 'waiting' GROUP BY counter",
    )
    .bind(tenant)
    .bind(day)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let mut activity = activity(db, tenant, None, now).await?;
    let closed: HashMap<String, bool> =
        sqlx::query("SELECT counter, open FROM counter_state WHERE tenant = $1")
            .bind(tenant)
            .fetch_all(db.read())
            .await?
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) == 0))
            .collect();
    Ok(counters
        .into_iter()
        .map(|code| {
            let w = waiting.get(&code).copied().unwrap_or(0);
            let a = activity.remove(&code).unwrap_or_default();
            CounterStatus {
                estimated_wait_minutes: a.load.estimate_minutes(w),
                open: !closed.get(&code).copied().unwrap_or(false),
                now_calling: a.calling.map(|(_, s)| s),
                waiting: w,
                counter: code,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_numbers() {
        // 2026-11-21 23:30 JST is 14:30 UTC.
        let ms = time::macros::datetime!(2026-11-21 14:30 UTC).unix_timestamp() * 1000;
        assert_eq!(day_of(ms), 20261121);
        // 2026-11-21 15:30 UTC is already the 22nd in Japan.
        assert_eq!(day_of(ms + 3_600_000), 20261122);
        assert_eq!(display("c2", 7), "C2-007");
    }

    fn load(clerks: i64, serving_for_min: &[i64], service_min: i64) -> Load {
        Load {
            clerks,
            serving_for_ms: serving_for_min.iter().map(|m| m * 60_000).collect(),
            service_ms: service_min * 60_000,
        }
    }

    #[test]
    fn estimates() {
        // Nobody served yet, one clerk: the next is called at once, the
        // one after waits a whole service.
        assert_eq!(load(1, &[], 5).estimate_minutes(0), 0);
        assert_eq!(load(1, &[], 5).estimate_minutes(1), 5);
        // One clerk 2 minutes into a 5-minute service: 3 minutes, then 5
        // more for each person ahead.
        assert_eq!(load(1, &[2], 5).estimate_minutes(0), 3);
        assert_eq!(load(1, &[2], 5).estimate_minutes(3), 18);
        // A service running long still counts a quarter of one.
        assert_eq!(load(1, &[9], 8).estimate_minutes(0), 2);
        // Three clerks, all busy (ending in 1.5 — a quarter — 3 and 5
        // minutes): the queue moves three at a time.
        let three = load(3, &[1, 3, 5], 6);
        assert_eq!(three.estimate_minutes(0), 2);
        assert_eq!(three.estimate_minutes(2), 5);
        assert_eq!(three.estimate_minutes(3), 8);
        assert_eq!(three.estimate_minutes(8), 17);
        // Two of three clerks free: two people are called at once.
        let free = load(3, &[1], 6);
        assert_eq!(free.estimate_minutes(1), 0);
        assert_eq!(free.estimate_minutes(2), 5);
        // No clerk known yet: counted as one.
        assert_eq!(load(0, &[], 6).estimate_minutes(2), 12);
        assert_eq!(Load::default().estimate_minutes(1), 6);
    }
}
