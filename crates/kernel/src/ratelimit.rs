//! Rate limits per client (IP address) and per tenant on sign-in and on
//! submission, counted in one-minute windows. On PostgreSQL the windows
//! are rows of `rate_windows`, counted by one atomic upsert per limited
//! request, so the limits hold across every server of a deployment (a
//! client spread over two servers gets its 429 at the same request as
//! against one); windows before the previous minute are deleted once a
//! minute by each server. On SQLite (one process) they are counted in
//! memory.
//!
//! The client address is the peer address, or, behind a configured
//! reverse proxy, the right-most address in `X-Forwarded-For` that is not
//! a trusted proxy (so a client cannot choose its own address).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::RateLimits;
use crate::db::{Backend, Db};
use crate::error::{AppError, AppResult};

/// The client's address as far as we can tell, in the request extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Staff sign-in (password, code, enrolment, password change).
    SignIn,
    /// Resident sign-in: its own bucket, so a flood of it cannot lock the
    /// staff of a municipality out.
    ResidentSignIn,
    Submit,
    /// 申請状況の確認: a receipt number and a second factor.
    Lookup,
}

/// Which limited action a request is, and for which tenant.
pub fn classify<'a>(method: &Method, path: &'a str) -> Option<(Kind, &'a str)> {
    if *method != Method::POST {
        return None;
    }
    let rest = path
        .strip_prefix("/api/v1/t/")
        .or_else(|| path.strip_prefix("/t/"))?;
    let (tenant, tail) = rest.split_once('/')?;
    // A tenant is a six-digit code; anything else (including a
    // percent-encoded one) reaches no tenant's sign-in or submission.
    if tenant.len() != 6 || !tenant.bytes().all(|b| b.is_ascii_digit()) {
        return Some((Kind::SignIn, "invalid"));
    }
    let kind = if tail == "staff/sign-in"
        || tail == "staff/sign-in/verify"
        || tail == "staff/session"
        || tail == "staff/mfa/enrol"
        || tail == "staff/account/password"
    {
        Kind::SignIn
    } else if tail.starts_with("sign-in/") {
        Kind::ResidentSignIn
    } else if tail == "status" {
        Kind::Lookup
    } else if tail.ends_with("/apply/submit")
        // The chatbot may call a paid language model: limited like a submission.
        || tail == "chat"
        // A mail subscription's sign-up sends a mail.
        || tail == "mail"
        || tail.starts_with("procedures/") && tail.ends_with("/applications")
        || tail.starts_with("staff/procedures/") && tail.ends_with("/applications")
    {
        Kind::Submit
    } else {
        return None;
    };
    Some((kind, tenant))
}

/// Where the windows are counted.
#[derive(Clone)]
enum Windows {
    /// This process only (SQLite: one process is the only shape).
    Memory(Arc<Mutex<HashMap<String, (i64, u32)>>>),
    /// `rate_windows`, shared by every server; the minute this server
    /// last pruned.
    Shared { db: Db, pruned: Arc<AtomicI64> },
}

#[derive(Clone)]
pub struct RateLimiter {
    limits: RateLimits,
    trusted: Arc<Vec<IpAddr>>,
    windows: Windows,
}

/// One limited request: the client's bucket then the tenant's.
const SHARED_HIT: &str = "WITH c AS (
    INSERT INTO rate_windows AS w (tenant, bucket, minute, hits) VALUES ('', $1, $3, 1)
    ON CONFLICT (tenant, bucket, minute) DO UPDATE SET hits = w.hits + 1
    RETURNING hits
), t AS (
    INSERT INTO rate_windows AS w (tenant, bucket, minute, hits)
    SELECT $2, $4, $3, 1 FROM c WHERE $5 = 0 OR c.hits <= $5
    ON CONFLICT (tenant, bucket, minute) DO UPDATE SET hits = w.hits + 1
    RETURNING hits
)
SELECT (SELECT hits FROM c), (SELECT hits FROM t)";

/// Seconds until the next window.
fn retry_after(now_ms: i64) -> u64 {
    (60 - (now_ms / 1000) % 60).max(1) as u64
}

impl RateLimiter {
    /// Counts in `db` on PostgreSQL, in memory on SQLite.
    pub fn new(limits: RateLimits, trusted: &[String], db: &Db) -> Self {
        let windows = match db.backend() {
            Backend::Postgres => Windows::Shared {
                db: db.clone(),
                pruned: Arc::new(AtomicI64::new(0)),
            },
            Backend::Sqlite => Windows::Memory(Default::default()),
        };
        Self {
            limits,
            trusted: Arc::new(trusted.iter().filter_map(|s| s.parse().ok()).collect()),
            windows,
        }
    }

    /// Counts one request against `key` in memory; `Err(seconds)` when over `limit`.
    fn hit(
        w: &Mutex<HashMap<String, (i64, u32)>>,
        key: String,
        limit: u32,
        now_ms: i64,
    ) -> Result<(), u64> {
        if limit == 0 {
            return Ok(());
        }
        let minute = now_ms / 60_000;
        let mut w = w.lock().unwrap_or_else(|p| p.into_inner());
        if w.len() > 200_000 {
            w.retain(|_, (m, _)| *m == minute);
            // Still full within one minute: many addresses at once. Start
            // afresh rather than scan a huge map on every request.
            if w.len() > 200_000 {
                w.clear();
            }
        }
        let slot = w.entry(key).or_insert((minute, 0));
        if slot.0 != minute {
            *slot = (minute, 0);
        }
        if slot.1 >= limit {
            return Err(retry_after(now_ms));
        }
        slot.1 += 1;
        Ok(())
    }

    /// Counts one request in `rate_windows`: the client's bucket, then,
    /// unless the client is over its limit, the tenant's (so one client
    /// hammering on does not use up its municipality's allowance), in one
    /// statement. Deletes old windows on the first request of a minute.
    async fn hit_shared(
        db: &Db,
        pruned: &AtomicI64,
        (client, per_client): (&str, u32),
        (tenant, bucket, per_tenant): (&str, &str, u32),
        now_ms: i64,
    ) -> AppResult<Result<(), u64>> {
        use sqlx::Row;
        let minute = now_ms / 60_000;
        let last = pruned.load(Ordering::Relaxed);
        if last < minute
            && pruned
                .compare_exchange(last, minute, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let db = db.clone();
            tokio::spawn(async move {
                let r = sqlx::query("DELETE FROM rate_windows WHERE minute < $1")
                    .bind(minute - 1)
                    .execute(db.write())
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "pruning rate-limit windows failed");
                }
            });
        }
        let row = sqlx::query(SHARED_HIT)
            .bind(client)
            .bind(tenant)
            .bind(minute)
            .bind(bucket)
            .bind(i64::from(per_client))
            .fetch_one(db.write())
            .await?;
        let client_hits: i64 = row.get(0);
        let tenant_hits: Option<i64> = row.get(1);
        let over = |hits: i64, limit: u32| limit > 0 && hits > i64::from(limit);
        Ok(
            if over(client_hits, per_client) || tenant_hits.is_some_and(|h| over(h, per_tenant)) {
                Err(retry_after(now_ms))
            } else {
                Ok(())
            },
        )
    }

    /// Counts one request of `kind` from `client` to `tenant`;
    /// `Ok(Err(seconds))` when over a limit.
    pub async fn check(
        &self,
        kind: Kind,
        tenant: &str,
        client: IpAddr,
        now_ms: i64,
    ) -> AppResult<Result<(), u64>> {
        let (per_client, per_tenant, name) = match kind {
            Kind::SignIn => (
                self.limits.sign_in_per_client,
                self.limits.sign_in_per_tenant,
                "sign_in",
            ),
            Kind::ResidentSignIn => (
                self.limits.sign_in_per_client,
                self.limits.sign_in_per_tenant,
                "resident_sign_in",
            ),
            Kind::Submit => (
                self.limits.submit_per_client,
                self.limits.submit_per_tenant,
                "submit",
            ),
            Kind::Lookup => (
                self.limits.lookup_per_client,
                self.limits.lookup_per_tenant,
                "lookup",
            ),
        };
        if per_client == 0 && per_tenant == 0 {
            return Ok(Ok(()));
        }
        // IPv6 clients by their /64: one subscriber line holds 2^64 addresses.
        let client = match client {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            v4 => v4.to_string(),
        };
        match &self.windows {
            Windows::Memory(w) => {
                Ok(
                    Self::hit(w, format!("{name}|c|{client}"), per_client, now_ms).and_then(|()| {
                        Self::hit(w, format!("{name}|t|{tenant}"), per_tenant, now_ms)
                    }),
                )
            }
            Windows::Shared { db, pruned } => {
                Self::hit_shared(
                    db,
                    pruned,
                    (&format!("{name}|{client}"), per_client),
                    (tenant, name, per_tenant),
                    now_ms,
                )
                .await
            }
        }
    }

    fn client_ip(&self, req: &Request) -> Option<IpAddr> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())?;
        if !self.trusted.contains(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusted.contains(ip))
                .unwrap_or(peer),
        )
    }
}

/// Middleware: records the client address and applies the limits.
pub async fn limit(State(limiter): State<RateLimiter>, mut req: Request, next: Next) -> Response {
    let ip = limiter
        .client_ip(&req)
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    req.extensions_mut().insert(ClientIp(ip));
    if let Some((kind, tenant)) = classify(req.method(), req.uri().path()) {
        match limiter
            .check(kind, tenant, ip, crate::clock::now_ms())
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(retry)) => {
                tracing::warn!(client = %ip, tenant, ?kind, "rate limit reached");
                return AppError::TooManyRequests(retry).into_response();
            }
            // The count could not be taken (the database is away): refused
            // like any request that needs the database then, never let
            // through uncounted.
            Err(e) => return e.into_response(),
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_sign_in_and_submission() {
        let post = Method::POST;
        assert_eq!(
            classify(&post, "/t/122289/staff/sign-in"),
            Some((Kind::SignIn, "122289"))
        );
        assert_eq!(
            classify(&post, "/api/v1/t/122289/staff/session"),
            Some((Kind::SignIn, "122289"))
        );
        assert_eq!(
            classify(&post, "/t/242021/sign-in/dev"),
            Some((Kind::ResidentSignIn, "242021"))
        );
        // An encoded tenant does not get a bucket of its own.
        assert_eq!(
            classify(&post, "/t/12228%39/staff/sign-in"),
            Some((Kind::SignIn, "invalid"))
        );
        assert_eq!(
            classify(&post, "/t/122289/procedures/juminhyo/apply/submit"),
            Some((Kind::Submit, "122289"))
        );
        assert_eq!(
            classify(&post, "/api/v1/t/122289/procedures/juminhyo/applications"),
            Some((Kind::Submit, "122289"))
        );
        assert_eq!(
            classify(&post, "/t/122289/status"),
            Some((Kind::Lookup, "122289"))
        );
        assert_eq!(
            classify(&post, "/api/v1/t/242021/status"),
            Some((Kind::Lookup, "242021"))
        );
        assert_eq!(classify(&Method::GET, "/t/122289/status"), None);
        // A mail subscription's sign-up sends a mail: limited like a submission.
        assert_eq!(
            classify(&post, "/t/122289/mail"),
            Some((Kind::Submit, "122289"))
        );
        assert_eq!(classify(&post, "/t/122289/mail/preferences/a/b"), None);
        assert_eq!(classify(&Method::GET, "/t/122289/staff/sign-in"), None);
        assert_eq!(classify(&post, "/t/122289/staff/cases/x/action"), None);
    }

    /// The same counts in memory (SQLite) and in `rate_windows` (PostgreSQL).
    async fn per_client_and_per_tenant(db: &Db) {
        let l = RateLimiter::new(
            RateLimits {
                sign_in_per_client: 3,
                sign_in_per_tenant: 5,
                submit_per_client: 0,
                submit_per_tenant: 0,
                lookup_per_client: 2,
                lookup_per_tenant: 0,
            },
            &[],
            db,
        );
        let check = |kind, tenant: &'static str, ip: IpAddr, now: i64| {
            let l = l.clone();
            async move { l.check(kind, tenant, ip, now).await.expect("counted") }
        };
        let a = IpAddr::from([10, 0, 0, 1]);
        let b = IpAddr::from([10, 0, 0, 2]);
        let now = 1_800_000_000_000;
        for _ in 0..3 {
            assert_eq!(check(Kind::SignIn, "122289", a, now).await, Ok(()));
        }
        assert_eq!(check(Kind::SignIn, "122289", a, now).await, Err(60));
        // A client over its limit does not use up its tenant's: another
        // client of the same tenant may go on, until the tenant's limit.
        assert_eq!(check(Kind::SignIn, "122289", b, now).await, Ok(()));
        assert_eq!(check(Kind::SignIn, "122289", b, now).await, Ok(()));
        assert_eq!(check(Kind::SignIn, "122289", b, now + 1_000).await, Err(59));
        // Other tenants are not affected; the next minute starts afresh.
        let c = IpAddr::from([10, 0, 0, 3]);
        assert_eq!(check(Kind::SignIn, "242021", c, now).await, Ok(()));
        assert_eq!(check(Kind::SignIn, "122289", a, now + 60_000).await, Ok(()));
        // 0 turns a limit off: off for both, or for the tenant only.
        for _ in 0..50 {
            assert_eq!(check(Kind::Submit, "122289", a, now).await, Ok(()));
        }
        assert_eq!(check(Kind::Lookup, "122289", a, now).await, Ok(()));
        assert_eq!(check(Kind::Lookup, "122289", a, now).await, Ok(()));
        assert!(check(Kind::Lookup, "122289", a, now).await.is_err());
        // IPv6 clients count by their /64.
        let v6 = |last: u16| IpAddr::from([0x2001, 0xdb8, 1, 2, 0, 0, 0, last]);
        assert_eq!(check(Kind::Lookup, "242021", v6(1), now).await, Ok(()));
        assert_eq!(check(Kind::Lookup, "242021", v6(2), now).await, Ok(()));
        assert!(check(Kind::Lookup, "242021", v6(3), now).await.is_err());
    }

    #[tokio::test]
    async fn per_client_and_per_tenant_in_memory() {
        let t = crate::test_db::TestDb::sqlite().await;
        per_client_and_per_tenant(&t.db).await;
        t.drop_now().await;
    }

    #[tokio::test]
    async fn per_client_and_per_tenant_in_the_database() {
        let Some(t) = crate::test_db::TestDb::postgres().await else {
            return;
        };
        per_client_and_per_tenant(&t.db).await;
        // Every limited request was one upsert of its client's window and,
        // unless the client was over, its tenant's.
        use sqlx::Row;
        let hits = |tenant: &'static str, bucket: &'static str| {
            let db = t.db.clone();
            async move {
                sqlx::query("SELECT hits FROM rate_windows WHERE tenant = $1 AND bucket = $2 AND minute = $3")
                    .bind(tenant)
                    .bind(bucket)
                    .bind(1_800_000_000_000_i64 / 60_000)
                    .fetch_one(db.read())
                    .await
                    .expect("window")
                    .get::<i64, _>(0)
            }
        };
        assert_eq!(hits("", "sign_in|10.0.0.1").await, 4);
        assert_eq!(hits("122289", "sign_in").await, 6);
        t.drop_now().await;
    }

    /// Many requests at once over several connections stop at the limit exactly.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_stop_at_the_limit() {
        let Some(t) = crate::test_db::TestDb::postgres().await else {
            return;
        };
        let limits = RateLimits {
            sign_in_per_client: 0,
            sign_in_per_tenant: 0,
            submit_per_client: 25,
            submit_per_tenant: 0,
            lookup_per_client: 0,
            lookup_per_tenant: 0,
        };
        // Two limiters over one database: two servers.
        let servers = [
            RateLimiter::new(limits, &[], &t.db),
            RateLimiter::new(limits, &[], &t.db),
        ];
        let a = IpAddr::from([10, 0, 0, 9]);
        let now = crate::clock::now_ms();
        let mut tasks = Vec::new();
        for i in 0..60 {
            let l = servers[i % 2].clone();
            tasks.push(tokio::spawn(async move {
                l.check(Kind::Submit, "122289", a, now)
                    .await
                    .expect("counted")
            }));
        }
        let mut passed = 0;
        for task in tasks {
            passed += usize::from(task.await.expect("task").is_ok());
        }
        assert_eq!(passed, 25);
        t.drop_now().await;
    }
}
