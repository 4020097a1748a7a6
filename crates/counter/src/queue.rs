//! The queue of a counter (窓口) for one day: numbered tickets (整理券),
//! called in order, recalled, marked absent, transferred to another
//! counter keeping their place, finished. Every change is one conditional
//! update on the ticket's current status and version, so concurrent clerks
//! can neither call the same ticket twice nor lose one.

use kernel::auth::Clerk;
use kernel::{AppError, AppResult, Db};
use serde::Serialize;
use sqlx::Row;

/// Minutes a service takes when there is no history yet today.
pub const DEFAULT_SERVICE_MS: i64 = 6 * 60_000;

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
    pub called_at: Option<i64>,
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

const COLUMNS: &str = "id, counter, issued_counter, number, status, issued_at, called_at, finished_at, recalls, version";

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
        finished_at: r.get("finished_at"),
        recalls: r.get("recalls"),
        version: r.get("version"),
    }
}

/// `None` for a counter the tenant does not have; otherwise whether it is
/// open (a counter is open unless closed). One query.
async fn counter_state(db: &Db, tenant: &str, counter: &str) -> AppResult<Option<bool>> {
    Ok(sqlx::query(
        "SELECT COALESCE(s.open, 1) FROM counters c
         LEFT JOIN counter_state s ON s.tenant = c.tenant AND s.counter = c.code
         WHERE c.tenant = $1 AND c.code = $2",
    )
    .bind(tenant)
    .bind(counter)
    .fetch_optional(db.read())
    .await?
    .map(|r| r.get::<i64, _>(0) == 1))
}

/// "Not found" for a counter the tenant does not have; a closed one is
/// refused unless `allow_closed` (a clerk may still call or reopen it).
async fn open_counter(db: &Db, tenant: &str, counter: &str, allow_closed: bool) -> AppResult<()> {
    match counter_state(db, tenant, counter).await? {
        None => Err(AppError::NotFound("counter")),
        Some(false) if !allow_closed => Err(AppError::Conflict("counter_closed")),
        Some(_) => Ok(()),
    }
}

/// Whether a counter is open (a counter is open unless closed today).
pub async fn is_open(db: &Db, tenant: &str, counter: &str) -> AppResult<bool> {
    Ok(counter_state(db, tenant, counter).await?.unwrap_or(true))
}

pub async fn set_open(db: &Db, who: &Clerk, counter: &str, open: bool) -> AppResult<()> {
    open_counter(db, &who.tenant, counter, true).await?;
    let now = kernel::clock::now_ms();
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

    /// Issues the next ticket of a counter's queue; returns it with the
    /// token for the resident's status page.
    pub async fn issue(&self, db: &Db, tenant: &str, counter: &str) -> AppResult<(Ticket, String)> {
        open_counter(db, tenant, counter, false).await?;
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(IssueJob {
                tenant: tenant.to_string(),
                counter: counter.to_string(),
                reply,
            })
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("ticket issuer stopped")))?;
        rx.await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("ticket issuer dropped a request")))?
    }
}

async fn commit(db: &Db, jobs: &[IssueJob]) -> Result<Vec<(Ticket, String)>, sqlx::Error> {
    let now = kernel::clock::now_ms();
    let day = day_of(now);
    let mut tx = db.begin().await?;
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
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
    if !kernel::secrets::constant_time_eq(&stored, &kernel::ids::hash_token(token)) {
        return Err(AppError::NotFound("ticket"));
    }
    Ok(row_to_ticket(&r))
}

enum Bind {
    Text(String),
    Int(i64),
}

/// Moves a ticket from one status to another if it is still as the clerk
/// saw it; the ticket after the change.
#[allow(clippy::too_many_arguments)]
async fn change(
    db: &Db,
    who: &Clerk,
    id: &str,
    from: Status,
    expected_version: Option<i64>,
    set: &str,
    binds: Vec<Bind>,
    action: &'static str,
) -> AppResult<Ticket> {
    let now = kernel::clock::now_ms();
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
    tx.commit().await?;
    get(db, &who.tenant, id).await
}

/// The ticket a counter has called and not yet finished, if any.
pub async fn current(db: &Db, tenant: &str, counter: &str) -> AppResult<Option<Ticket>> {
    Ok(sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE tenant = $1 AND day = $2 AND counter = $3 AND status = 'called'
         ORDER BY called_at DESC LIMIT 1"
    ))
    .bind(tenant)
    .bind(day_of(kernel::clock::now_ms()))
    .bind(counter)
    .fetch_optional(db.read())
    .await?
    .map(|r| row_to_ticket(&r)))
}

/// Calls the next waiting ticket of a counter. `None` when nobody waits.
pub async fn call_next(db: &Db, who: &Clerk, counter: &str) -> AppResult<Option<Ticket>> {
    open_counter(db, &who.tenant, counter, true).await?;
    let day = day_of(kernel::clock::now_ms());
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
        let now = kernel::clock::now_ms();
        match change(
            db,
            who,
            &id,
            Status::Waiting,
            None,
            "status = 'called', counter = $4, called_at = $5, called_by = $6",
            vec![
                Bind::Text(counter.to_string()),
                Bind::Int(now),
                Bind::Text(who.id.clone()),
            ],
            "ticket.call",
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

pub async fn recall(db: &Db, who: &Clerk, id: &str, version: i64) -> AppResult<Ticket> {
    change(
        db,
        who,
        id,
        Status::Called,
        Some(version),
        "recalls = recalls + 1, called_at = $5",
        vec![Bind::Int(kernel::clock::now_ms())],
        "ticket.recall",
    )
    .await
}

pub async fn absent(db: &Db, who: &Clerk, id: &str, version: i64) -> AppResult<Ticket> {
    change(
        db,
        who,
        id,
        Status::Called,
        Some(version),
        "status = 'absent', finished_at = $5",
        vec![Bind::Int(kernel::clock::now_ms())],
        "ticket.absent",
    )
    .await
}

pub async fn finish(db: &Db, who: &Clerk, id: &str, version: i64) -> AppResult<Ticket> {
    change(
        db,
        who,
        id,
        Status::Called,
        Some(version),
        "status = 'done', finished_at = $5",
        vec![Bind::Int(kernel::clock::now_ms())],
        "ticket.finish",
    )
    .await
}

/// Sends a called ticket to another counter's queue, keeping its place
/// (its original issue time orders it there).
pub async fn transfer(db: &Db, who: &Clerk, id: &str, version: i64, to: &str) -> AppResult<Ticket> {
    open_counter(db, &who.tenant, to, false).await?;
    change(
        db,
        who,
        id,
        Status::Called,
        Some(version),
        "status = 'waiting', counter = $5, called_at = NULL, called_by = NULL",
        vec![Bind::Text(to.to_string())],
        "ticket.transfer",
    )
    .await
}

/// Where a ticket stands: tickets ahead of it in its queue and an estimate.
#[derive(Clone, Debug, Serialize)]
pub struct Position {
    pub ahead: i64,
    pub estimated_wait_minutes: i64,
}

pub async fn position(db: &Db, tenant: &str, t: &Ticket) -> AppResult<Position> {
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
    let service = service_ms(db, tenant, &t.counter).await?;
    Ok(Position {
        ahead,
        estimated_wait_minutes: estimate_minutes(ahead + 1, service),
    })
}

/// The wait for the person at place `place` (1 = next) when one service
/// takes `service_ms`: the people ahead are served first, one at a time.
pub fn estimate_minutes(place: i64, service_ms: i64) -> i64 {
    ((place - 1).max(0) * service_ms + 59_999) / 60_000
}

/// Average service time of the counter's last 20 finished tickets today
/// (call to finish); the default before there are any.
pub async fn service_ms(db: &Db, tenant: &str, counter: &str) -> AppResult<i64> {
    let rows = sqlx::query(
        "SELECT finished_at - called_at FROM tickets WHERE tenant = $1 AND day = $2 AND counter = $3 AND status = 'done'
         AND called_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 20",
    )
    .bind(tenant)
    .bind(day_of(kernel::clock::now_ms()))
    .bind(counter)
    .fetch_all(db.read())
    .await?;
    let v: Vec<i64> = rows
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .filter(|d| *d > 0)
        .collect();
    Ok(if v.is_empty() {
        DEFAULT_SERVICE_MS
    } else {
        v.iter().sum::<i64>() / v.len() as i64
    })
}

/// One counter's line on the board and the congestion page.
#[derive(Clone, Debug, Serialize)]
pub struct CounterStatus {
    pub counter: String,
    pub waiting: i64,
    /// The number called last (shown on the board), if any.
    pub now_calling: Option<String>,
    pub estimated_wait_minutes: i64,
    pub open: bool,
}

/// Every counter's line, in five queries whatever the number of counters
/// (the board is recomputed after every change).
pub async fn board(db: &Db, tenant: &str) -> AppResult<Vec<CounterStatus>> {
    use std::collections::HashMap;
    let day = day_of(kernel::clock::now_ms());
    let counters: Vec<String> =
        sqlx::query("SELECT code FROM counters WHERE tenant = $1 ORDER BY code")
            .bind(tenant)
            .fetch_all(db.read())
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
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
    let mut calling: HashMap<String, (i64, String)> = HashMap::new();
    for r in sqlx::query(
        "SELECT counter, issued_counter, number, called_at FROM tickets WHERE tenant = $1 AND day = $2 AND status = 'called'",
    )
    .bind(tenant)
    .bind(day)
    .fetch_all(db.read())
    .await?
    {
        let at: Option<i64> = r.get(3);
        let shown = display(&r.get::<String, _>(1), r.get(2));
        let e = calling.entry(r.get(0)).or_insert((i64::MIN, String::new()));
        if at.unwrap_or(0) >= e.0 {
            *e = (at.unwrap_or(0), shown);
        }
    }
    let mut services: HashMap<String, Vec<i64>> = HashMap::new();
    for r in sqlx::query(
        "SELECT counter, finished_at - called_at FROM tickets WHERE tenant = $1 AND day = $2 AND status = 'done'
         AND called_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 2000",
    )
    .bind(tenant)
    .bind(day)
    .fetch_all(db.read())
    .await?
    {
        let v = services.entry(r.get(0)).or_default();
        let d: i64 = r.get(1);
        if v.len() < 20 && d > 0 {
            v.push(d);
        }
    }
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
            let service = services
                .get(&code)
                .filter(|v| !v.is_empty())
                .map(|v| v.iter().sum::<i64>() / v.len() as i64)
                .unwrap_or(DEFAULT_SERVICE_MS);
            CounterStatus {
                estimated_wait_minutes: estimate_minutes(w + 1, service),
                open: !closed.get(&code).copied().unwrap_or(false),
                now_calling: calling.get(&code).map(|(_, s)| s.clone()),
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
        assert_eq!(estimate_minutes(1, 300_000), 0);
        assert_eq!(estimate_minutes(4, 300_000), 15);
    }
}
