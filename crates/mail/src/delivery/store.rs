//! The delivery's SQL over `outbox` and `mail_suppressions`: claim due
//! rows with a lease, record each outcome, turn rows whose sender died
//! into 'unknown', and the staff listing.

use kernel::db::{Backend, Tx};
use kernel::Db;
use sqlx::Row;

use crate::outbox::State;

/// A row claimed for one hand-off (its state is 'sending').
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub body_html: Option<String>,
    pub unsubscribe_url: Option<String>,
    pub message_id: String,
    /// This hand-off's number (1 for the first).
    pub attempts: i64,
    pub lang: String,
}

/// Rows left 'sending' past their lease (their sender stopped mid-hand-off)
/// become 'unknown': perhaps delivered, never sent again by themselves.
pub async fn expire_leases(db: &Db, tenant: &str, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'unknown', lease_until = NULL, \
         last_error = 'sender stopped during the hand-off' \
         WHERE tenant = $1 AND state = 'sending' AND lease_until < $2",
    )
    .bind(tenant)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected())
}

/// Claims up to `limit` due queued rows of `tenant` until `now + lease_ms`,
/// giving each its Message-ID (kept once given) and counting the attempt.
pub async fn claim(
    db: &Db,
    tenant: &str,
    domain: &str,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // The due rows are chosen once (a CTE), so a claim never holds more
    // than `limit` rows whatever plan the database picks.
    let sql = format!(
        "WITH due AS (SELECT id AS due_id FROM outbox WHERE tenant = $1 \
         AND state = 'queued' AND next_attempt_at <= $2 \
         ORDER BY next_attempt_at, created_at LIMIT $3{lock}) \
         UPDATE outbox SET state = 'sending', lease_until = $4, attempts = attempts + 1, \
         message_id = COALESCE(message_id, '<' || id || '.' || tenant || '@' || $5 || '>') \
         FROM due WHERE tenant = $1 AND id = due.due_id \
         RETURNING id, kind, recipient, subject, body, body_html, unsubscribe_url, \
         message_id, attempts, lang"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant)
        .bind(now)
        .bind(limit)
        .bind(now + lease_ms)
        .bind(domain)
        .fetch_all(db.write())
        .await?;
    Ok(rows
        .iter()
        .map(|r| Claimed {
            id: r.get(0),
            kind: r.get(1),
            recipient: r.get(2),
            subject: r.get(3),
            body: r.get(4),
            body_html: r.get(5),
            unsubscribe_url: r.get(6),
            message_id: r.get(7),
            attempts: r.get(8),
            lang: r.get(9),
        })
        .collect())
}

/// In the demo mailbox: every due queued row of `tenant` becomes 'demo'.
pub async fn to_demo(db: &Db, tenant: &str, domain: &str, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'demo', sent_at = $1, \
         message_id = COALESCE(message_id, '<' || id || '.' || tenant || '@' || $2 || '>') \
         WHERE tenant = $3 AND state = 'queued' AND next_attempt_at <= $1",
    )
    .bind(now)
    .bind(domain)
    .bind(tenant)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected())
}

/// Which of `hashes` are suppressed in `tenant`.
pub async fn suppressed(
    db: &Db,
    tenant: &str,
    hashes: &[String],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let mut found = std::collections::HashSet::new();
    for chunk in hashes.chunks(500) {
        let list = (0..chunk.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT address_hash FROM mail_suppressions WHERE tenant = $1 AND address_hash IN ({list})"
        );
        let mut q = sqlx::query(&sql).bind(tenant);
        for h in chunk {
            q = q.bind(h.as_str());
        }
        for r in q.fetch_all(db.read()).await? {
            found.insert(r.get::<String, _>(0));
        }
    }
    Ok(found)
}

/// Records an address as not to be written to again (a hard bounce).
pub async fn suppress(
    tx: &mut Tx,
    tenant: &str,
    hash: &str,
    reason: &str,
    detail: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO mail_suppressions (tenant, address_hash, reason, detail, at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, address_hash) DO NOTHING",
    )
    .bind(tenant)
    .bind(hash)
    .bind(reason)
    .bind(detail)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks the rows `ids` (still 'sending', still this sender's) as sent.
pub async fn mark_sent(db: &Db, tenant: &str, ids: &[String], now: i64) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(500) {
        let list = (0..chunk.len())
            .map(|i| format!("${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE outbox SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL \
             WHERE tenant = $2 AND state = 'sending' AND id IN ({list})"
        );
        let mut q = sqlx::query(&sql).bind(now).bind(tenant);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        q.execute(db.write()).await?;
    }
    Ok(())
}

/// Ends one row's hand-off in `state` (failed, bounced) with `error`.
pub async fn mark_final(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    state: State,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET state = $1, lease_until = NULL, last_error = $2 \
         WHERE tenant = $3 AND id = $4 AND state = 'sending'",
    )
    .bind(state.as_str())
    .bind(error)
    .bind(tenant)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Puts one row back in the queue until `at` after a temporary failure.
pub async fn mark_retry(
    db: &Db,
    tenant: &str,
    id: &str,
    at: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET state = 'queued', lease_until = NULL, next_attempt_at = $1, \
         last_error = $2 WHERE tenant = $3 AND id = $4 AND state = 'sending'",
    )
    .bind(at)
    .bind(error)
    .bind(tenant)
    .bind(id)
    .execute(db.write())
    .await?;
    Ok(())
}

/// Rows claimed but never handed off (the sender is stopping) go back to
/// the queue as they were.
pub async fn release(db: &Db, tenant: &str, ids: &[String]) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(500) {
        let list = (0..chunk.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE outbox SET state = 'queued', lease_until = NULL, attempts = attempts - 1 \
             WHERE tenant = $1 AND state = 'sending' AND id IN ({list})"
        );
        let mut q = sqlx::query(&sql).bind(tenant);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        q.execute(db.write()).await?;
    }
    Ok(())
}

/// When the next queued row of `tenant` is due, if any.
pub async fn next_due(db: &Db, tenant: &str) -> Result<Option<i64>, sqlx::Error> {
    let r = sqlx::query(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE tenant = $1 AND state = 'queued'",
    )
    .bind(tenant)
    .fetch_one(db.read())
    .await?;
    r.try_get::<Option<i64>, _>(0)
}

/// A failed, unknown or held row queued again by staff (a deliberate
/// resend, or the release of a mail written before delivery existed);
/// false if the row is in no such state.
pub async fn requeue(tx: &mut Tx, tenant: &str, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = $1, \
         last_error = NULL, lease_until = NULL \
         WHERE tenant = $2 AND id = $3 AND state IN ('failed', 'unknown', 'held')",
    )
    .bind(now)
    .bind(tenant)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether `tenant` has message `id`.
pub async fn exists(db: &Db, tenant: &str, id: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 FROM outbox WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(db.read())
            .await?
            .is_some(),
    )
}
