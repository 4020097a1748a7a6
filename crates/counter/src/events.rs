//! Live updates for display boards and status pages: one broadcast
//! channel per tenant, fed by every change to a queue and read by
//! Server-Sent Events streams. A slow viewer that falls behind skips to
//! the newest state (boards show state, not history).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// A change worth showing, as the Server-Sent Events frame every viewer
/// gets: encoded once, shared (not copied) by all streams.
#[derive(Clone, Debug)]
pub struct BoardEvent {
    pub frame: axum::body::Bytes,
}

impl BoardEvent {
    /// `event: board` with a JSON payload (one line: JSON has no raw newlines).
    pub fn board(json: &serde_json::Value) -> Self {
        Self {
            frame: axum::body::Bytes::from(format!("event: board\ndata: {json}\n\n")),
        }
    }
}

/// The whole board of a tenant as a frame, with when it was computed (a
/// page ignores counts older than those it shows).
async fn board_frame(db: &kernel::Db, tenant: &str) -> kernel::AppResult<axum::body::Bytes> {
    let at = kernel::clock::now_ms();
    let board = crate::queue::board(db, tenant, at).await?;
    Ok(BoardEvent::board(&serde_json::json!({"counters": board, "called": null, "at": at})).frame)
}

#[derive(Clone, Default)]
pub struct Events {
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<BoardEvent>>>>,
    /// Tenants whose board changed since the last refresh.
    dirty: Arc<Mutex<std::collections::HashSet<String>>>,
    /// The last board frame per tenant, for viewers who connect: a crowd
    /// connecting at once costs one board computation, not one each.
    snapshots: Arc<tokio::sync::Mutex<HashMap<String, (std::time::Instant, axum::body::Bytes)>>>,
}

/// How often changed boards are recomputed and sent: a burst of tickets
/// costs one board computation. Calls do not wait for it: the number
/// called is sent to every viewer at once, and counts of people waiting
/// can follow a second later.
pub const REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

impl Events {
    /// Starts the refresher that recomputes changed boards.
    pub fn start(db: kernel::Db) -> Self {
        let events = Events::default();
        let e = events.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let tenants: Vec<String> = {
                    let mut d = e.dirty.lock().unwrap_or_else(|p| p.into_inner());
                    d.drain().collect()
                };
                for tenant in tenants {
                    match board_frame(&db, &tenant).await {
                        Ok(frame) => {
                            e.snapshots
                                .lock()
                                .await
                                .insert(tenant.clone(), (std::time::Instant::now(), frame.clone()));
                            e.publish(&tenant, BoardEvent { frame });
                        }
                        Err(err) => tracing::warn!(error = %err, tenant, "board refresh failed"),
                    }
                }
            }
        });
        events
    }

    /// The current board frame of a tenant, for a viewer who connects.
    /// Once a tenant has one, it is served from memory (a crowd connecting
    /// at once costs no database work); the refresher keeps it current,
    /// and an old one asks it for a new one.
    pub async fn snapshot(
        &self,
        db: &kernel::Db,
        tenant: &str,
    ) -> kernel::AppResult<axum::body::Bytes> {
        let mut map = self.snapshots.lock().await;
        if let Some((at, frame)) = map.get(tenant) {
            if at.elapsed() >= REFRESH {
                self.changed(tenant);
            }
            return Ok(frame.clone());
        }
        // Checked when computing, not for every viewer.
        kernel::tenant::load(db, tenant).await?;
        let frame = board_frame(db, tenant).await?;
        map.insert(
            tenant.to_string(),
            (std::time::Instant::now(), frame.clone()),
        );
        Ok(frame)
    }

    /// The board of `tenant` changed: viewers get it at the next refresh.
    pub fn changed(&self, tenant: &str) {
        self.dirty
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant.to_string());
    }

    fn sender(&self, tenant: &str) -> broadcast::Sender<BoardEvent> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(tenant.to_string())
            .or_insert_with(|| broadcast::channel(64).0)
            .clone()
    }

    pub fn subscribe(&self, tenant: &str) -> broadcast::Receiver<BoardEvent> {
        self.sender(tenant).subscribe()
    }

    pub fn publish(&self, tenant: &str, event: BoardEvent) {
        // No viewers is fine.
        let _ = self.sender(tenant).send(event);
    }
}
