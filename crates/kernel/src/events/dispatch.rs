//! Delivery: reads a tenant's new rows after the last delivered one and
//! hands them to this server's subscribers, oldest first.
//!
//! Whoever learns of a new event (a NOTIFY on PostgreSQL, a publish in
//! this process on SQLite) only records "tenant has at least id N" and
//! wakes the dispatcher; many events of a tenant in a burst cost one read
//! (they coalesce to the highest id). The dispatcher runs as its own task:
//! nothing that handles a request ever waits for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::event::Hub;
use super::store;
use crate::db::Db;

/// Rows read per query while catching up.
const BATCH: i64 = 500;
/// How often an event announced but not yet visible (its transaction has
/// not committed) is looked for again.
const RECHECK: Duration = Duration::from_millis(5);
/// An announced event still not visible after this was rolled back.
const GIVE_UP: Duration = Duration::from_secs(10);
/// The pause after a failed read (the database restarting).
const AFTER_ERROR: Duration = Duration::from_millis(250);

#[derive(Default)]
struct Wanted {
    /// Tenant → the highest id announced.
    tenants: HashMap<String, i64>,
    /// Read every tenant's head and catch up (after the listener
    /// reconnected: notifications may have been missed).
    all: bool,
}

/// The handle that announces events to the dispatcher.
#[derive(Clone)]
pub(crate) struct Dispatch {
    wanted: Arc<Mutex<Wanted>>,
    wake: Arc<Notify>,
}

impl Dispatch {
    /// Starts the dispatcher; `delivered` is each tenant's last id already
    /// seen (events before the server started are not delivered live).
    pub(crate) fn start(db: Db, hub: Arc<Hub>, delivered: HashMap<String, i64>) -> Self {
        let d = Dispatch {
            wanted: Default::default(),
            wake: Arc::new(Notify::new()),
        };
        tokio::spawn(run(d.clone(), db, hub, delivered));
        d
    }

    /// The tenant has an event with this id (committed, or about to be).
    pub(crate) fn want(&self, tenant: &str, id: i64) {
        {
            let mut w = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
            let e = w.tenants.entry(tenant.to_string()).or_insert(id);
            *e = (*e).max(id);
        }
        self.wake.notify_one();
    }

    /// Catch up every tenant from the table.
    pub(crate) fn catch_up_all(&self) {
        self.wanted.lock().unwrap_or_else(|p| p.into_inner()).all = true;
        self.wake.notify_one();
    }

    fn take(&self) -> Wanted {
        std::mem::take(&mut *self.wanted.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Delivers the tenant's rows after `from`; returns the last id delivered.
async fn deliver(db: &Db, hub: &Hub, tenant: &str, from: i64) -> crate::AppResult<i64> {
    let mut last = from;
    loop {
        let rows = store::after(db, tenant, last, BATCH).await?;
        let n = rows.len() as i64;
        for e in rows {
            last = e.id;
            hub.send(e);
        }
        if n < BATCH {
            return Ok(last);
        }
    }
}

async fn run(d: Dispatch, db: Db, hub: Arc<Hub>, mut delivered: HashMap<String, i64>) {
    // Announced ids not yet visible: tenant → (id, give up at).
    let mut pending: HashMap<String, (i64, Instant)> = HashMap::new();
    let mut failed = false;
    loop {
        let wait = if failed {
            AFTER_ERROR
        } else if pending.is_empty() {
            Duration::from_secs(1)
        } else {
            RECHECK
        };
        tokio::select! {
            _ = d.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
        if db.is_closed() {
            return;
        }
        failed = false;
        let w = d.take();
        let mut work = w.tenants;
        if w.all {
            match store::heads(&db).await {
                Ok(heads) => {
                    for (tenant, id) in heads {
                        if id > delivered.get(&tenant).copied().unwrap_or(0) {
                            let e = work.entry(tenant).or_insert(id);
                            *e = (*e).max(id);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "events: reading the heads failed");
                    d.wanted.lock().unwrap_or_else(|p| p.into_inner()).all = true;
                    failed = true;
                }
            }
        }
        for (tenant, (id, _)) in &pending {
            let e = work.entry(tenant.clone()).or_insert(*id);
            *e = (*e).max(*id);
        }
        let now = Instant::now();
        for (tenant, wanted) in work {
            let from = delivered.get(&tenant).copied().unwrap_or(0);
            if wanted <= from {
                pending.remove(&tenant);
                continue;
            }
            let last = match deliver(&db, &hub, &tenant, from).await {
                Ok(last) => last,
                Err(e) => {
                    tracing::warn!(error = %e, tenant, "events: delivery failed, retrying");
                    failed = true;
                    from
                }
            };
            delivered.insert(tenant.clone(), last);
            if last >= wanted {
                pending.remove(&tenant);
                continue;
            }
            let give_up = pending.get(&tenant).map_or(now + GIVE_UP, |p| p.1);
            if give_up <= now {
                pending.remove(&tenant);
            } else {
                pending.insert(tenant, (wanted, give_up));
            }
        }
    }
}
