//! The SQL of `events` and `event_heads`.

use sqlx::Row;

use super::event::Event;
use crate::db::{Db, Tx};
use crate::AppResult;

/// Writes an event in `tx` with the tenant's next id. The head row's
/// update holds its lock until commit, so ids of a tenant commit in order.
pub(crate) async fn insert(
    tx: &mut Tx,
    tenant: &str,
    topic: &str,
    body: &serde_json::Value,
    at: i64,
) -> AppResult<i64> {
    let id: i64 = sqlx::query(
        "INSERT INTO event_heads (tenant, last_id) VALUES ($1, 1) \
         ON CONFLICT (tenant) DO UPDATE SET last_id = event_heads.last_id + 1 \
         RETURNING last_id",
    )
    .bind(tenant)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    sqlx::query("INSERT INTO events (tenant, id, topic, body, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(tenant)
        .bind(id)
        .bind(topic)
        .bind(body.to_string())
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

fn event_of(r: &sqlx::any::AnyRow) -> AppResult<Event> {
    let body: String = r.get(3);
    Ok(Event {
        tenant: r.get(0),
        id: r.get(1),
        topic: r.get(2),
        body: serde_json::from_str(&body).map_err(anyhow::Error::from)?,
        at: r.get(4),
    })
}

/// A tenant's events after `after`, every topic, oldest first.
pub(crate) async fn after(db: &Db, tenant: &str, after: i64, limit: i64) -> AppResult<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT tenant, id, topic, body, at FROM events \
         WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(tenant)
    .bind(after)
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    rows.iter().map(event_of).collect()
}

/// A tenant's events of one topic after `after`, oldest first.
pub(crate) async fn since(
    db: &Db,
    tenant: &str,
    topic: &str,
    after: i64,
    limit: i64,
) -> AppResult<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT tenant, id, topic, body, at FROM events \
         WHERE tenant = $1 AND topic = $2 AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(tenant)
    .bind(topic)
    .bind(after)
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    rows.iter().map(event_of).collect()
}

/// Every tenant's last event id.
pub(crate) async fn heads(db: &Db) -> AppResult<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT tenant, last_id FROM event_heads")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// One tenant's last event id (0 before its first).
pub(crate) async fn head(db: &Db, tenant: &str) -> AppResult<i64> {
    let row = sqlx::query("SELECT last_id FROM event_heads WHERE tenant = $1")
        .bind(tenant)
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(|r| r.get(0)).unwrap_or(0))
}

/// Deletes events published before `before` (the heads stay: ids go on).
pub(crate) async fn prune(db: &Db, before: i64) -> AppResult<u64> {
    let r = sqlx::query("DELETE FROM events WHERE at < $1")
        .bind(before)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected())
}
