//! Live updates for display boards, on every server: each change to a
//! queue is an event of the deployment's bus ([`kernel::events`], topic
//! [`BOARD`]), and every server turns the board events it receives into
//! Server-Sent Events frames (`id:` is the event's id) for its viewers.
//!
//! - A call is written in the transaction that calls the number
//!   ([`crate::call_event`]), and shown at once (number, counter, chime).
//! - Counts: the server where a board changed recomputes it at most once
//!   per [`REFRESH`] (a burst of tickets costs one computation) and
//!   publishes it, in parts of [`CHUNK`] counters (each event stays small).
//! - A viewer that connects gets the board from this server's memory
//!   (a crowd connecting at once costs one computation); one that
//!   reconnects with `Last-Event-ID`, to any server, gets exactly the
//!   frames it missed, from the table, then the live ones.
//!
//! A slow viewer that falls behind skips to the newest frames (boards
//! show state, not history).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use kernel::events::Bus;
use tokio::sync::broadcast;

pub use crate::call_event::BOARD;
/// Counters per counts event.
pub const CHUNK: usize = 20;
/// Frames replayed to a reconnecting viewer at most (more missed: it gets
/// the current board after them).
pub const REPLAY_LIMIT: i64 = 5_000;

/// How often changed boards are recomputed and sent: a burst of tickets
/// costs one board computation. Calls do not wait for it: the number
/// called is sent to every viewer at once, and counts of people waiting
/// can follow a second later.
pub const REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// A Server-Sent Events frame of the board, encoded once and shared (not
/// copied) by every stream; `id` is the bus event's (a snapshot's: the
/// last event it includes).
#[derive(Clone, Debug)]
pub struct BoardEvent {
    /// None: the board recomputed on this server for its viewers only
    /// (it moves no viewer's `Last-Event-ID`).
    pub id: Option<i64>,
    pub frame: Bytes,
}

impl BoardEvent {
    /// `id:`, `event: board` and a JSON payload (one line: JSON has no
    /// raw newlines).
    pub fn board(id: i64, json: &serde_json::Value) -> Self {
        Self {
            id: Some(id),
            frame: Bytes::from(format!("id: {id}\nevent: board\ndata: {json}\n\n")),
        }
    }

    /// A frame without `id:`, for this server's viewers only.
    pub fn local(json: &serde_json::Value) -> Self {
        Self {
            id: None,
            frame: Bytes::from(format!("event: board\ndata: {json}\n\n")),
        }
    }
}

fn counts_body(counters: &[crate::queue::CounterStatus], at: i64) -> serde_json::Value {
    serde_json::json!({"counters": counters, "called": null, "at": at})
}

/// What a viewer gets first, and the id after which live frames follow.
pub struct Start {
    pub frames: Vec<Bytes>,
    pub after: i64,
}

#[derive(Clone)]
pub struct Events {
    bus: Bus,
    db: kernel::Db,
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<BoardEvent>>>>,
    /// Tenants whose board changed on this server since the last refresh.
    dirty: Arc<Mutex<HashSet<String>>>,
    /// Tenants whose snapshot a viewer found old: recomputed and sent to
    /// this server's viewers.
    stale: Arc<Mutex<HashSet<String>>>,
    /// Tenants with a snapshot whose board changed (an event from any
    /// server): the snapshot is recomputed.
    outdated: Arc<Mutex<HashSet<String>>>,
    /// The last whole board per tenant, for viewers who connect.
    snapshots: Arc<tokio::sync::Mutex<HashMap<String, (std::time::Instant, BoardEvent)>>>,
}

fn take(set: &Mutex<HashSet<String>>) -> Vec<String> {
    set.lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain()
        .collect()
}

impl Events {
    /// Starts the forwarder (bus → this server's viewers) and the
    /// refresher that recomputes changed boards.
    pub fn start(db: kernel::Db, bus: Bus) -> Self {
        let events = Events {
            bus,
            db,
            channels: Default::default(),
            dirty: Default::default(),
            stale: Default::default(),
            outdated: Default::default(),
            snapshots: Default::default(),
        };
        let mut rx = events.bus.subscribe(BOARD);
        let e = events.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => {
                        e.send(&ev.tenant, BoardEvent::board(ev.id, &ev.body));
                        e.outdated
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(ev.tenant.clone());
                    }
                    // This server's viewers lagging is theirs to skip;
                    // the forwarder goes on with the newest.
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "board frames skipped");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        let e = events.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if e.db.is_closed() {
                    return;
                }
                for tenant in take(&e.dirty) {
                    if let Err(err) = e.publish_counts(&tenant).await {
                        // Counts are state: tried again at the next
                        // refresh (e.g. once the database is back).
                        tracing::warn!(error = %err, tenant, "board refresh failed");
                        e.changed(&tenant);
                    }
                }
                let stale = take(&e.stale);
                for tenant in &stale {
                    match e.compute_snapshot(tenant).await {
                        Ok((_, json)) => e.send(tenant, BoardEvent::local(&json)),
                        Err(err) => tracing::warn!(error = %err, tenant, "board refresh failed"),
                    }
                }
                for tenant in take(&e.outdated) {
                    let known = e.snapshots.lock().await.contains_key(&tenant);
                    if known && !stale.contains(&tenant) {
                        if let Err(err) = e.compute_snapshot(&tenant).await {
                            tracing::warn!(error = %err, tenant, "board snapshot failed");
                        }
                    }
                }
            }
        });
        events
    }

    /// The whole board now, as one frame whose id is the tenant's last
    /// event before it was computed (so every later frame still follows).
    async fn compute_snapshot(
        &self,
        tenant: &str,
    ) -> kernel::AppResult<(BoardEvent, serde_json::Value)> {
        let (ev, json) = self.board_now(tenant).await?;
        self.snapshots
            .lock()
            .await
            .insert(tenant.to_string(), (std::time::Instant::now(), ev.clone()));
        Ok((ev, json))
    }

    /// The whole board now (not kept).
    async fn board_now(&self, tenant: &str) -> kernel::AppResult<(BoardEvent, serde_json::Value)> {
        let id = self.bus.head(tenant).await?;
        let at = kernel::clock::now_ms();
        let board = crate::queue::board(&self.db, tenant, at).await?;
        let json = counts_body(&board, at);
        Ok((BoardEvent::board(id, &json), json))
    }

    /// Recomputes the board and publishes its counts to every server.
    async fn publish_counts(&self, tenant: &str) -> kernel::AppResult<()> {
        let id = self.bus.head(tenant).await?;
        let at = kernel::clock::now_ms();
        let board = crate::queue::board(&self.db, tenant, at).await?;
        for part in board.chunks(CHUNK) {
            self.bus
                .publish_now(tenant, BOARD, counts_body(part, at))
                .await?;
        }
        let ev = BoardEvent::board(id, &counts_body(&board, at));
        self.snapshots
            .lock()
            .await
            .insert(tenant.to_string(), (std::time::Instant::now(), ev));
        Ok(())
    }

    /// The deployment's bus, for the queue's calls
    /// ([`crate::queue::call_next`] writes them in its transaction).
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The board of `tenant` changed: viewers get it at the next refresh.
    pub fn changed(&self, tenant: &str) {
        self.dirty
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant.to_string());
    }

    /// The current board of a tenant, for a viewer who connects. Once a
    /// tenant has one, it is served from memory (a crowd connecting at
    /// once costs no database work); an old one is recomputed at the next
    /// refresh.
    pub async fn snapshot(&self, tenant: &str) -> kernel::AppResult<BoardEvent> {
        // The lock is held while the first board is computed: a crowd
        // connecting at once waits for that one computation.
        let mut map = self.snapshots.lock().await;
        if let Some((at, ev)) = map.get(tenant) {
            if at.elapsed() >= REFRESH {
                self.stale
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(tenant.to_string());
            }
            return Ok(ev.clone());
        }
        // Checked when computing, not for every viewer.
        kernel::tenant::load(&self.db, tenant).await?;
        let (ev, _) = self.board_now(tenant).await?;
        map.insert(tenant.to_string(), (std::time::Instant::now(), ev.clone()));
        Ok(ev)
    }

    /// What a viewer gets first: with `Last-Event-ID` (of this
    /// deployment), the frames after it; otherwise the current board.
    pub async fn start_for(&self, tenant: &str, last: Option<i64>) -> kernel::AppResult<Start> {
        if let Some(last) = last.filter(|l| *l >= 0) {
            if last <= self.bus.head(tenant).await? {
                let missed = self.bus.since(tenant, BOARD, last, REPLAY_LIMIT).await?;
                let mut after = missed.last().map_or(last, |e| e.id);
                let mut frames: Vec<Bytes> = missed
                    .iter()
                    .map(|e| BoardEvent::board(e.id, &e.body).frame)
                    .collect();
                if missed.len() as i64 == REPLAY_LIMIT {
                    let (now, _) = self.compute_snapshot(tenant).await?;
                    after = after.max(now.id.unwrap_or(0));
                    frames.push(now.frame);
                }
                return Ok(Start { frames, after });
            }
        }
        let snap = self.snapshot(tenant).await?;
        Ok(Start {
            frames: vec![snap.frame],
            after: snap.id.unwrap_or(0),
        })
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

    fn send(&self, tenant: &str, event: BoardEvent) {
        // No viewers is fine.
        let _ = self.sender(tenant).send(event);
    }
}
