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

#[derive(Clone, Default)]
pub struct Events {
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<BoardEvent>>>>,
    /// Tenants whose board changed since the last refresh.
    dirty: Arc<Mutex<std::collections::HashSet<String>>>,
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
                    match crate::queue::board(&db, &tenant).await {
                        Ok(board) => {
                            let json = serde_json::json!({"counters": board, "called": null});
                            e.publish(&tenant, BoardEvent::board(&json));
                        }
                        Err(err) => tracing::warn!(error = %err, tenant, "board refresh failed"),
                    }
                }
            }
        });
        events
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
