//! An event and the in-process fan-out of delivered events by topic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// One live event of a tenant, as stored and as delivered.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Event {
    pub tenant: String,
    /// Per tenant, increasing in commit order.
    pub id: i64,
    pub topic: String,
    /// Small (ids, never personal data).
    pub body: serde_json::Value,
    /// When it was published, milliseconds since the epoch.
    pub at: i64,
}

/// How many delivered events a subscriber may fall behind before it
/// lags (skips); the listener never waits for a subscriber.
pub const CHANNEL_CAPACITY: usize = 1024;

/// One broadcast channel per topic, created when first subscribed.
#[derive(Default)]
pub(crate) struct Hub {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<Event>>>>,
}

impl Hub {
    pub(crate) fn subscribe(&self, topic: &str) -> broadcast::Receiver<Arc<Event>> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(topic.to_string())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Hands the event to this server's subscribers of its topic (none is
    /// fine; a full channel drops its oldest event for a slow receiver).
    pub(crate) fn send(&self, event: Event) {
        let sender = {
            let map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
            map.get(&event.topic).cloned()
        };
        if let Some(s) = sender {
            let _ = s.send(Arc::new(event));
        }
    }
}
