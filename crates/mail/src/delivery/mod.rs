//! 配信 (delivery): the outbox handed to a real SMTP server through the
//! job queue (kind [`KIND`], enqueued by `outbox::queue` in the cause's
//! transaction, and swept every minute for retries and leases).
//!
//! A run claims due rows of one municipality with a lease ('sending',
//! committed before any hand-off) in chunks of one row per connection,
//! at most two chunks claimed and not yet recorded at a time (so a
//! sender killed mid-run leaves at most 2 × `mail.connections` rows
//! 'sending'). It hands them to the server over `mail.connections`
//! long-lived connections ([`connections`]: sockets with `TCP_NODELAY`, each
//! reopened after an error) and records a chunk's outcomes once its
//! hand-offs have ended (the sent ones in one statement): 'sent'; a 4xx
//! or connection error back to 'queued' with a doubling wait
//! (`next_attempt_at`), 'failed' after `mail.max_attempts`; a 5xx about
//! the mailbox 'bounced' with the address suppressed; any other 5xx
//! 'failed'. Suppressed addresses are never handed off. A row found
//! 'sending' after its lease ran out (its sender died mid-hand-off)
//! becomes 'unknown' and is never sent again by itself, as does one
//! whose content went out and whose reply never came (the connection
//! broke or timed out after DATA): staff may resend it deliberately. Each run reads the municipality's sender settings
//! ([`sender`]: From, display name, Reply-To, messages per minute, at
//! most the deployment's `mail.per_minute`); throttling is per
//! municipality and per server. Graceful shutdown ([`Deliverer::shutdown`]) stops
//! claiming, waits for the hand-offs in flight, records them and closes
//! the idle connections.
//!
//! With no SMTP server configured, development and demo mode keep every
//! mail in the demo mailbox (state 'demo': nothing is sent); production
//! sends nothing and keeps mail queued. A configured server is used only
//! once a test connection succeeds; every run tests again until one does.

pub mod api;
pub mod connections;
pub mod listing;
pub mod mask;
pub mod notice;
pub mod pages;
pub mod routes;
pub mod sender;
pub mod settings_pages;
pub mod staff;
pub mod store;
pub mod transport;
pub mod view;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kernel::config::{Config, Mode};
use kernel::jobs::JobSpec;
use kernel::Db;
use lettre::message::dkim::DkimConfig;

use crate::outbox::State;
use connections::Connections;
use sender::Sender;
use store::Claimed;
use transport::Outcome;

pub use routes::{router, DeliveryState};

/// The job kind that delivers a municipality's due mail (tenant `''`:
/// every municipality, the minutely sweep).
pub const KIND: &str = crate::outbox::DELIVER;

/// Chunks (of one row per connection) claimed and not yet recorded at
/// a time: a sender that dies leaves at most this many times
/// `mail.connections` rows 'unknown'.
const CHUNKS_IN_FLIGHT: usize = 2;
/// The hand-offs of one chunk, ending with each row's outcome.
type Flight = tokio::task::JoinHandle<Vec<(Claimed, Outcome)>>;
/// How long a claimed row is held before another run may call it lost.
pub const LEASE_MS: i64 = 120_000;
/// The longest wait between two attempts.
const RETRY_CAP_MS: i64 = 3_600_000;

/// Where delivery stands on this server, as staff pages say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// No mail server: the demo mailbox (nothing is sent).
    Demo,
    /// The mail server answered the test connection.
    Ready,
    /// Nothing is sent, and why.
    NotReady(String),
}

enum Route {
    Demo,
    Smtp(Connections),
    Off(String),
}

struct Inner {
    db: Db,
    route: Route,
    dkim: Option<DkimConfig>,
    /// What the deployment gives every municipality (From, the limit).
    defaults: sender::Defaults,
    connections: usize,
    retry_ms: i64,
    max_attempts: i64,
    lease_ms: i64,
    /// `None`: not tested yet; `Some(Ok)`: tested; `Some(Err)`: failed.
    readiness: Mutex<Option<Result<(), String>>>,
    stopping: AtomicBool,
    /// A read guard per batch in flight; shutdown takes the write side.
    inflight: tokio::sync::RwLock<()>,
    /// Per municipality: the minute's start and the mails handed off in it.
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

/// This server's sender.
#[derive(Clone)]
pub struct Deliverer {
    inner: Arc<Inner>,
}

/// What one run did (for the log and the tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub retried: usize,
    pub bounced: usize,
    pub failed: usize,
    pub demo: u64,
    pub unknown: u64,
}

impl Deliverer {
    /// The sender the configuration asks for (the SMTP server is tested
    /// on the first run, not here: a server may start before its relay).
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        let m = &config.mail;
        let route = match &m.smtp_url {
            Some(url) => Route::Smtp(Connections::new(
                connections::Endpoint::parse(url)?,
                m.connections,
            )),
            None if config.mode == Mode::Development => Route::Demo,
            None => Route::Off(
                "メールサーバーが設定されていません（MADOGUCHI_SMTP_URL）。メールは送られず、配信待ちのまま残ります。"
                    .into(),
            ),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                route,
                dkim: transport::dkim(m)?,
                defaults: sender::Defaults {
                    from: m.from.clone(),
                    per_minute: m.per_minute,
                    dkim_domain: m.dkim_key_file.as_ref().and(m.dkim_domain.clone()),
                },
                connections: m.connections,
                retry_ms: (m.retry_seconds as i64).saturating_mul(1000),
                max_attempts: m.max_attempts,
                lease_ms: LEASE_MS,
                readiness: Mutex::new(None),
                stopping: AtomicBool::new(false),
                inflight: tokio::sync::RwLock::new(()),
                windows: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The same sender with another lease (tests of a sender that dies).
    pub fn with_lease(self, lease_ms: i64) -> Self {
        let inner = Arc::into_inner(self.inner).expect("with_lease before the sender is shared");
        Self {
            inner: Arc::new(Inner { lease_ms, ..inner }),
        }
    }

    pub fn status(&self) -> Status {
        match &self.inner.route {
            Route::Demo => Status::Demo,
            Route::Off(reason) => Status::NotReady(reason.clone()),
            Route::Smtp(_) => match &*self.inner.readiness.lock().expect("readiness") {
                Some(Ok(())) => Status::Ready,
                Some(Err(e)) => Status::NotReady(e.clone()),
                None => Status::NotReady(
                    "メールサーバーへの接続をまだ確認していません（次の配信で確認します）。".into(),
                ),
            },
        }
    }

    /// Tests the connection to the mail server now, whatever an earlier
    /// test said (a system administrator's button), and says where
    /// delivery stands after it. Without a mail server nothing is tested.
    pub async fn test_now(&self) -> Status {
        if let Route::Smtp(smtp) = &self.inner.route {
            *self.inner.readiness.lock().expect("readiness") = None;
            self.ready(smtp).await;
        }
        self.status()
    }

    /// Stops claiming and waits for the hand-offs in flight to be recorded.
    pub async fn shutdown(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        let _all = self.inner.inflight.write().await;
        if let Route::Smtp(s) = &self.inner.route {
            s.close().await;
        }
    }

    /// Delivers the due mail of `tenant` (`''`: of every municipality).
    pub async fn run(&self, tenant: &str) -> anyhow::Result<Report> {
        if !tenant.is_empty() {
            return self.run_tenant(tenant).await;
        }
        let mut total = Report::default();
        for t in kernel::tenant::list(&self.inner.db).await? {
            let r = self.run_tenant(&t.code).await?;
            total.sent += r.sent;
            total.retried += r.retried;
            total.bounced += r.bounced;
            total.failed += r.failed;
            total.demo += r.demo;
            total.unknown += r.unknown;
        }
        Ok(total)
    }

    async fn run_tenant(&self, tenant: &str) -> anyhow::Result<Report> {
        let inner = &self.inner;
        let db = &inner.db;
        let mut report = Report {
            unknown: store::expire_leases(db, tenant, kernel::clock::now_ms()).await?,
            ..Report::default()
        };
        let smtp = match &inner.route {
            Route::Demo => {
                let sender = self.sender(tenant).await?;
                report.demo =
                    store::to_demo(db, tenant, &sender.domain, kernel::clock::now_ms()).await?;
                return Ok(report);
            }
            Route::Off(_) => return Ok(report),
            Route::Smtp(s) => s,
        };
        if !self.ready(smtp).await {
            return Ok(report);
        }
        let sender = Arc::new(self.sender(tenant).await?);
        let _flight = inner.inflight.read().await;
        if inner.stopping.load(Ordering::SeqCst) {
            return Ok(report);
        }
        // Chunks of one row per connection, at most CHUNKS_IN_FLIGHT
        // claimed at a time: the next chunk is on its way while the last
        // hand-offs of the one before finish, and each chunk's outcomes
        // are recorded as soon as all its hand-offs have ended.
        let mut flights: VecDeque<Flight> = VecDeque::new();
        let mut claiming = true;
        let mut throttled_until = None;
        loop {
            while claiming
                && flights.len() < CHUNKS_IN_FLIGHT
                && !inner.stopping.load(Ordering::SeqCst)
            {
                let now = kernel::clock::now_ms();
                let (budget, window_end) = self.budget(tenant, sender.per_minute, now);
                if budget == 0 {
                    throttled_until = Some(window_end);
                    claiming = false;
                    break;
                }
                let chunk = store::claim(
                    db,
                    tenant,
                    &sender.domain,
                    now,
                    inner.lease_ms,
                    budget.min(self.chunk()),
                )
                .await?;
                if chunk.is_empty() {
                    claiming = false;
                    break;
                }
                self.spend(tenant, chunk.len() as u32);
                flights.push_back(self.dispatch(tenant, smtp, &sender, chunk).await?);
            }
            let Some(flight) = flights.pop_front() else {
                break;
            };
            let outcomes = match flight.await {
                Ok(outcomes) => outcomes,
                Err(e) => {
                    // Its rows stay 'sending': 'unknown' later.
                    tracing::error!(error = %e, "mail hand-off chunk failed");
                    continue;
                }
            };
            self.record(tenant, outcomes, &mut report).await?;
        }
        if inner.stopping.load(Ordering::SeqCst) {
            return Ok(report);
        }
        if let Some(end) = throttled_until {
            self.follow_up(tenant, end).await?;
            return Ok(report);
        }
        if let Some(at) = store::next_due(db, tenant).await? {
            self.follow_up(tenant, at).await?;
        }
        Ok(report)
    }

    /// Whether the SMTP server has passed a test connection (tested now
    /// if it has not).
    async fn ready(&self, smtp: &Connections) -> bool {
        if matches!(
            *self.inner.readiness.lock().expect("readiness"),
            Some(Ok(()))
        ) {
            return true;
        }
        let result = match smtp.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err("メールサーバーが接続の確認に応じません。".to_string()),
            Err(e) => Err(format!("メールサーバーに接続できません: {e}")),
        };
        if let Err(e) = &result {
            tracing::warn!(error = %e, "mail server not ready; nothing is sent");
        }
        let ok = result.is_ok();
        *self.inner.readiness.lock().expect("readiness") = Some(result);
        ok
    }

    /// What the deployment's configuration gives every municipality.
    pub fn defaults(&self) -> &sender::Defaults {
        &self.inner.defaults
    }

    /// The municipality's sender for this run, from its settings as
    /// stored now (the municipality's name as the default display name).
    pub async fn sender(&self, tenant: &str) -> anyhow::Result<Sender> {
        let db = &self.inner.db;
        let settings = sender::load(db, tenant).await?;
        let name = kernel::tenant::load(db, tenant)
            .await
            .ok()
            .map(|t| t.name.get(kernel::i18n::Lang::Ja).to_string());
        sender::effective(&settings, &self.inner.defaults, name)
    }

    /// Mails `tenant` may still hand off in this minute at `per_minute`
    /// (0: no limit), and when the minute ends.
    fn budget(&self, tenant: &str, per_minute: u32, now: i64) -> (i64, i64) {
        let mut w = self.inner.windows.lock().expect("windows");
        let e = w.entry(tenant.to_string()).or_insert((now, 0));
        if now - e.0 >= 60_000 {
            *e = (now, 0);
        }
        if per_minute == 0 {
            return (self.chunk(), e.0 + 60_000);
        }
        (i64::from(per_minute.saturating_sub(e.1)), e.0 + 60_000)
    }

    /// Rows claimed at once: one per connection.
    fn chunk(&self) -> i64 {
        self.inner.connections.max(1) as i64
    }

    fn spend(&self, tenant: &str, n: u32) {
        if let Some(e) = self.inner.windows.lock().expect("windows").get_mut(tenant) {
            e.1 = e.1.saturating_add(n);
        }
    }

    /// Another run of `tenant` at `at` (one per instant).
    async fn follow_up(&self, tenant: &str, at: i64) -> anyhow::Result<()> {
        if self.inner.stopping.load(Ordering::SeqCst) {
            return Ok(());
        }
        kernel::jobs::enqueue_now(
            &self.inner.db,
            JobSpec::new(tenant, KIND, serde_json::Value::Null)
                .dedupe(format!("at-{at}"))
                .at(at),
        )
        .await?;
        Ok(())
    }

    /// Starts the hand-offs of `chunk` (each on a connection of its own
    /// as one is free); the flight ends with every row's outcome.
    async fn dispatch(
        &self,
        tenant: &str,
        smtp: &Connections,
        sender: &Arc<Sender>,
        chunk: Vec<Claimed>,
    ) -> anyhow::Result<Flight> {
        let inner = &self.inner;
        let db = &inner.db;
        let vault = db.vault()?;
        let hash_of = |r: &Claimed| {
            jp::Email::parse(&r.recipient)
                .ok()
                .map(|e| crate::address::hash(vault, tenant, &e))
        };
        let hashes: Vec<String> = chunk.iter().filter_map(hash_of).collect();
        let suppressed = store::suppressed(db, tenant, &hashes).await?;
        let mut set = tokio::task::JoinSet::new();
        let mut decided: Vec<(Claimed, Outcome)> = Vec::new();
        for row in chunk {
            if hash_of(&row).is_some_and(|h| suppressed.contains(&h)) {
                decided.push((
                    row,
                    Outcome::Failed("配信停止中のアドレスのため送信しません（suppressed）".into()),
                ));
                continue;
            }
            let (smtp, sender, me) = (smtp.clone(), sender.clone(), self.clone());
            set.spawn(async move {
                let msg = match sender::message(&sender, &row, me.inner.dkim.as_ref()) {
                    Ok(msg) => msg,
                    Err(e) => return (row, Outcome::Failed(format!("{e:#}"))),
                };
                let slot = smtp.slot().await;
                if me.inner.stopping.load(Ordering::SeqCst) {
                    return (row, Outcome::NotStarted);
                }
                let outcome = slot.send(msg.envelope(), &msg.formatted()).await;
                (row, outcome)
            });
        }
        Ok(tokio::spawn(async move {
            let mut outcomes = decided;
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok(done) => outcomes.push(done),
                    // A panicked hand-off stays 'sending': 'unknown' later.
                    Err(e) => tracing::error!(error = %e, "mail hand-off task failed"),
                }
            }
            outcomes
        }))
    }

    async fn record(
        &self,
        tenant: &str,
        outcomes: Vec<(Claimed, Outcome)>,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let inner = &self.inner;
        let db = &inner.db;
        let now = kernel::clock::now_ms();
        let sent: Vec<String> = outcomes
            .iter()
            .filter(|(_, o)| *o == Outcome::Sent)
            .map(|(r, _)| r.id.clone())
            .collect();
        store::mark_sent(db, tenant, &sent, now).await?;
        report.sent += sent.len();
        let released: Vec<String> = outcomes
            .iter()
            .filter(|(_, o)| *o == Outcome::NotStarted)
            .map(|(r, _)| r.id.clone())
            .collect();
        store::release(db, tenant, &released).await?;
        for (row, outcome) in outcomes {
            match outcome {
                Outcome::Sent | Outcome::NotStarted => {}
                Outcome::Unknown(e) => {
                    let mut tx = db.begin().await?;
                    store::mark_final(&mut tx, tenant, &row.id, State::Unknown, &e).await?;
                    tx.commit().await?;
                    report.unknown += 1;
                }
                Outcome::Retry(e) if row.attempts < inner.max_attempts => {
                    let wait = inner
                        .retry_ms
                        .saturating_mul(1 << (row.attempts - 1).clamp(0, 30))
                        .min(RETRY_CAP_MS);
                    store::mark_retry(db, tenant, &row.id, now + wait, &e).await?;
                    report.retried += 1;
                }
                Outcome::Retry(e) | Outcome::Failed(e) => {
                    let mut tx = db.begin().await?;
                    store::mark_final(&mut tx, tenant, &row.id, State::Failed, &e).await?;
                    tx.commit().await?;
                    report.failed += 1;
                }
                Outcome::Bounced(e) => {
                    let mut tx = db.begin().await?;
                    store::mark_final(&mut tx, tenant, &row.id, State::Bounced, &e).await?;
                    if let Ok(addr) = jp::Email::parse(&row.recipient) {
                        let hash = crate::address::hash(db.vault()?, tenant, &addr);
                        store::suppress(&mut tx, tenant, &hash, "bounce", &e, now).await?;
                    }
                    tx.commit().await?;
                    report.bounced += 1;
                }
            }
        }
        Ok(())
    }
}
