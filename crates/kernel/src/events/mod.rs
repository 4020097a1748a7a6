//! Events across servers: every live event of a tenant (a number called,
//! a board's counts, a cache to drop on every server) is a row of
//! `events`, numbered per tenant in commit order, and is delivered to the
//! subscribers of its topic on every server of the deployment.
//!
//! - PostgreSQL: the publishing transaction sends `pg_notify` with only
//!   `tenant:id` (the 8,000-byte limit never matters); each server has one
//!   listener connection ([`listen`]) and a dispatcher that reads the rows
//!   after the last it delivered for that tenant ([`dispatch`]). After a
//!   database restart the listener reconnects with backoff and every
//!   tenant is caught up from the table.
//! - SQLite (one process): the same dispatcher, told in process.
//!
//! A viewer that reconnects, to any server, asks for the events after the
//! last id it saw ([`Bus::since`]). Rows older than [`KEEP`] are deleted
//! by [`prune`], which the deployment runs as a scheduled job
//! (`server::jobs`, once per deployment).

mod dispatch;
mod event;
pub mod listen;
mod store;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::db::{Backend, Db, Tx};
use crate::{AppError, AppResult};
pub use event::{Event, CHANNEL_CAPACITY};

/// How long events are kept for viewers that reconnect.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);
/// The largest body accepted (bodies hold ids, not documents).
pub const MAX_BODY_BYTES: usize = 4000;

/// The event channel of one server (one per server, cheap to clone).
#[derive(Clone)]
pub struct Bus {
    db: Db,
    hub: Arc<event::Hub>,
    dispatch: dispatch::Dispatch,
}

impl Bus {
    /// Starts delivery (on PostgreSQL the listener).
    /// Events published before the start are not delivered live.
    pub async fn start(db: Db) -> anyhow::Result<Bus> {
        let hub: Arc<event::Hub> = Default::default();
        let delivered = store::heads(&db).await?.into_iter().collect();
        let dispatch = dispatch::Dispatch::start(db.clone(), hub.clone(), delivered);
        if db.backend() == Backend::Postgres {
            listen::start(db.clone(), dispatch.clone());
        }
        Ok(Bus { db, hub, dispatch })
    }

    /// Writes the event in `tx`; it is delivered on every server once `tx`
    /// commits (never if it rolls back). Returns its id.
    pub async fn publish(
        &self,
        tx: &mut Tx,
        tenant: &str,
        topic: &str,
        body: serde_json::Value,
    ) -> AppResult<i64> {
        let id = publish_in(tx, tenant, topic, body).await?;
        if self.db.backend() == Backend::Sqlite {
            // The dispatcher looks until the row is visible (committed).
            self.dispatch.want(tenant, id);
        }
        Ok(id)
    }

    /// [`Bus::publish`] in a transaction of its own.
    pub async fn publish_now(
        &self,
        tenant: &str,
        topic: &str,
        body: serde_json::Value,
    ) -> AppResult<i64> {
        let mut tx = self.db.begin().await?;
        let id = self.publish(&mut tx, tenant, topic, body).await?;
        tx.commit().await?;
        if self.db.backend() == Backend::Sqlite {
            self.dispatch.want(tenant, id);
        }
        Ok(id)
    }

    /// Every tenant's events of `topic`, as this server delivers them.
    pub fn subscribe(&self, topic: &str) -> broadcast::Receiver<Arc<Event>> {
        self.hub.subscribe(topic)
    }

    /// A tenant's stored events of `topic` after id `after`, oldest first.
    pub async fn since(
        &self,
        tenant: &str,
        topic: &str,
        after: i64,
        limit: i64,
    ) -> AppResult<Vec<Event>> {
        store::since(&self.db, tenant, topic, after, limit).await
    }

    /// The id of the tenant's last committed event (0 before the first).
    pub async fn head(&self, tenant: &str) -> AppResult<i64> {
        store::head(&self.db, tenant).await
    }
}

/// Writes an event in `tx` without a [`Bus`] (a command such as
/// `madoguchi tenant load` that runs beside the servers): on PostgreSQL
/// every server's listener delivers it after commit; on SQLite only a
/// bus's own publishes are delivered live (one process serves).
pub async fn publish_in(
    tx: &mut Tx,
    tenant: &str,
    topic: &str,
    body: serde_json::Value,
) -> AppResult<i64> {
    if body.to_string().len() > MAX_BODY_BYTES {
        return Err(AppError::Internal(anyhow::anyhow!(
            "event body of {topic} over {MAX_BODY_BYTES} bytes"
        )));
    }
    let id = store::insert(tx, tenant, topic, &body, crate::clock::now_ms()).await?;
    if crate::db::backend_of(tx) == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(listen::CHANNEL)
            .bind(format!("{tenant}:{id}"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(id)
}

/// Deletes events published before `before` (ms since the epoch).
pub async fn prune(db: &Db, before: i64) -> AppResult<u64> {
    store::prune(db, before).await
}

#[cfg(test)]
mod tests;
