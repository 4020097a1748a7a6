//! Live updates for display boards and status pages: one broadcast
//! channel per tenant, fed by every change to a queue and read by
//! Server-Sent Events streams. A slow viewer that falls behind skips to
//! the newest state (boards show state, not history).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// A change worth showing: the tenant's board as JSON, and the ticket
/// called (for the chime), if any.
#[derive(Clone, Debug)]
pub struct BoardEvent {
    pub json: Arc<str>,
}

#[derive(Clone, Default)]
pub struct Events {
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<BoardEvent>>>>,
}

impl Events {
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
