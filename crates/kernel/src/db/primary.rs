//! Following the writable primary of a PostgreSQL pair (or more) named by a
//! multi-host URL with `target_session_attrs=read-write`.
//!
//! The pool connects to one host at a time. A watcher probes that host
//! every [`PROBE_EVERY`]; when it is gone or has become read-only (a
//! standby, a demoted primary), the watcher probes every host in the URL's
//! order until one accepts writes, points the pool at it
//! (`Pool::set_connect_options`) and marks every connection opened before
//! that moment stale: a stale connection is closed instead of being handed
//! out or returned to the pool, so no request keeps writing to the old
//! server. New connections are checked too ([`check_writable`]): a
//! connection that lands on a read-only server is refused and the pool
//! tries again while the watcher moves it.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::any::AnyConnectOptions;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Connection, Row};

use super::hosts::Host;

/// How often the current primary is checked.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How often the hosts are scanned while none accepts writes.
const SCAN_EVERY: Duration = Duration::from_millis(200);
/// How long one probe (connect + one query) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What a probe found.
#[derive(Debug, PartialEq, Eq)]
pub enum Role {
    Writable,
    ReadOnly,
}

#[derive(Debug)]
pub struct Primary {
    hosts: Vec<(Host, AnyConnectOptions)>,
    current: Mutex<usize>,
    base: Instant,
    /// Nanoseconds after `base` before which connections are stale.
    stale_before: AtomicU64,
    /// Times the pool was moved (for the health check and tests).
    moves: AtomicU64,
    wake: tokio::sync::Notify,
}

impl Primary {
    pub fn new(hosts: Vec<Host>) -> anyhow::Result<Self> {
        let hosts = hosts
            .into_iter()
            .map(|h| {
                let o = AnyConnectOptions::from_str(&h.url)?;
                Ok((h, o))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            hosts,
            current: Mutex::new(0),
            base: Instant::now(),
            stale_before: AtomicU64::new(0),
            moves: AtomicU64::new(0),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// `host:port` of the server the pool writes to.
    pub fn current_label(&self) -> &str {
        &self.hosts[*self.current.lock().expect("lock")].0.label
    }

    /// The URL of the server the pool writes to (that host alone).
    pub fn current_url(&self) -> &str {
        &self.hosts[*self.current.lock().expect("lock")].0.url
    }

    pub fn moves(&self) -> u64 {
        self.moves.load(Ordering::Relaxed)
    }

    /// Connect options of the writable host, scanning in the URL's order;
    /// waits up to `patience` for one to appear. Errors name what each
    /// host answered.
    pub async fn find(&self, patience: Duration) -> anyhow::Result<AnyConnectOptions> {
        let deadline = Instant::now() + patience;
        loop {
            let mut seen = Vec::new();
            for (i, (host, opts)) in self.hosts.iter().enumerate() {
                match probe(opts).await {
                    Ok(Role::Writable) => {
                        *self.current.lock().expect("lock") = i;
                        return Ok(opts.clone());
                    }
                    Ok(Role::ReadOnly) => {
                        seen.push(format!("{}: 読み取り専用（スタンバイ）", host.label))
                    }
                    Err(e) => seen.push(format!("{}: 接続できません（{e}）", host.label)),
                }
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "書き込みのできる PostgreSQL が見つかりません: {}",
                    seen.join("、")
                );
            }
            tokio::time::sleep(SCAN_EVERY).await;
        }
    }

    /// True if a connection of this `age` was opened before the last move.
    pub fn is_stale(&self, age: Duration) -> bool {
        let opened = self.base.elapsed().saturating_sub(age).as_nanos() as u64;
        opened < self.stale_before.load(Ordering::Acquire)
    }

    /// Every connection opened until now is stale.
    fn moved(&self) {
        self.stale_before
            .store(self.base.elapsed().as_nanos() as u64, Ordering::Release);
        self.moves.fetch_add(1, Ordering::Relaxed);
    }

    /// Asks the watcher to check now (a new connection landed on a
    /// read-only server).
    pub fn suspect(&self) {
        self.wake.notify_one();
    }

    /// Follows the primary until the pool is closed.
    pub async fn watch(self: Arc<Self>, pool: AnyPool) {
        let mut conn: Option<AnyConnection> = None;
        while !pool.is_closed() {
            let current = *self.current.lock().expect("lock");
            let ok = match conn.as_mut() {
                Some(c) => matches!(role_of(c).await, Ok(Role::Writable)),
                None => match connect(&self.hosts[current].1).await {
                    Ok(mut c) => {
                        let ok = matches!(role_of(&mut c).await, Ok(Role::Writable));
                        conn = Some(c);
                        ok
                    }
                    Err(_) => false,
                },
            };
            if ok {
                tokio::select! {
                    _ = tokio::time::sleep(PROBE_EVERY) => {}
                    _ = self.wake.notified() => {}
                }
                continue;
            }
            conn = None;
            let from = self.hosts[current].0.label.clone();
            tracing::warn!(host = %from, "database primary lost; looking for the writable server");
            let started = Instant::now();
            // Scan until a server accepts writes (or the pool is closed).
            let opts = loop {
                if pool.is_closed() {
                    return;
                }
                if let Ok(o) = self.find(Duration::ZERO).await {
                    break o;
                }
                tokio::time::sleep(SCAN_EVERY).await;
            };
            pool.set_connect_options(opts);
            self.moved();
            tracing::warn!(
                from = %from,
                to = %self.current_label(),
                after_ms = started.elapsed().as_millis() as u64,
                "database primary moved; the pool now connects to the new primary"
            );
        }
    }
}

async fn connect(opts: &AnyConnectOptions) -> anyhow::Result<AnyConnection> {
    Ok(tokio::time::timeout(PROBE_TIMEOUT, AnyConnection::connect_with(opts)).await??)
}

async fn probe(opts: &AnyConnectOptions) -> anyhow::Result<Role> {
    let mut c = connect(opts).await?;
    let r = role_of(&mut c).await;
    let _ = c.close().await;
    r
}

/// `pg_is_in_recovery()` (a standby) or `transaction_read_only` (a server
/// set read-only, as a demoted primary is) mean no writes here.
async fn role_of(c: &mut AnyConnection) -> anyhow::Result<Role> {
    let row = tokio::time::timeout(
        PROBE_TIMEOUT,
        sqlx::query("SELECT pg_is_in_recovery()::text, current_setting('transaction_read_only')")
            .fetch_one(&mut *c),
    )
    .await??;
    let (recovery, read_only): (String, String) = (row.try_get(0)?, row.try_get(1)?);
    Ok(if recovery == "false" && read_only == "off" {
        Role::Writable
    } else {
        Role::ReadOnly
    })
}

/// For `after_connect`: refuses a connection to a read-only server.
pub async fn check_writable(c: &mut AnyConnection) -> Result<(), sqlx::Error> {
    match role_of(c).await {
        Ok(Role::Writable) => Ok(()),
        Ok(Role::ReadOnly) => Err(sqlx::Error::Protocol(
            "connected to a read-only server (standby); waiting for the primary".into(),
        )),
        Err(e) => Err(sqlx::Error::Protocol(format!("primary check failed: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dead_host() -> Host {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Host {
            label: format!("127.0.0.1:{port}"),
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        }
    }

    #[test]
    fn connections_opened_before_a_move_are_stale_and_later_ones_are_not() {
        sqlx::any::install_default_drivers();
        let p = Primary::new(vec![dead_host()]).unwrap();
        assert!(!p.is_stale(Duration::from_secs(3600)), "no move yet");
        std::thread::sleep(Duration::from_millis(20));
        p.moved();
        let after_move = std::time::Instant::now();
        assert_eq!(p.moves(), 1);
        std::thread::sleep(Duration::from_millis(20));
        // Ages measured from the move, with margins the scheduler of a
        // loaded machine cannot eat (the clock only moves on between the
        // measurement and the check).
        let since_move = after_move.elapsed();
        assert!(
            !p.is_stale(since_move.saturating_sub(Duration::from_millis(5))),
            "opened after the move"
        );
        assert!(
            p.is_stale(since_move + Duration::from_secs(1)),
            "opened before the move"
        );
    }

    #[tokio::test]
    async fn no_writable_host_is_an_error_naming_each_host() {
        sqlx::any::install_default_drivers();
        let (a, b) = (dead_host(), dead_host());
        let p = Primary::new(vec![a.clone(), b.clone()]).unwrap();
        let e = p.find(Duration::ZERO).await.unwrap_err().to_string();
        assert!(
            e.starts_with("書き込みのできる PostgreSQL が見つかりません: "),
            "{e}"
        );
        assert!(e.contains(&format!("{}: 接続できません（", a.label)), "{e}");
        assert!(
            e.contains(&format!("、{}: 接続できません（", b.label)),
            "{e}"
        );
    }
}
