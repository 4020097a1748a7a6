//! Rate limits per client (IP address) and per tenant on sign-in and on
//! submission, counted in one-minute windows in memory. A server behind a
//! load balancer counts per instance; the limits are set with that in mind.
//!
//! The client address is the peer address, or, behind a configured
//! reverse proxy, the right-most address in `X-Forwarded-For` that is not
//! a trusted proxy (so a client cannot choose its own address).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::RateLimits;
use crate::error::AppError;

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
        || tail.starts_with("procedures/") && tail.ends_with("/applications")
        || tail.starts_with("staff/procedures/") && tail.ends_with("/applications")
    {
        Kind::Submit
    } else {
        return None;
    };
    Some((kind, tenant))
}

#[derive(Clone)]
pub struct RateLimiter {
    limits: RateLimits,
    trusted: Arc<Vec<IpAddr>>,
    windows: Arc<Mutex<HashMap<String, (i64, u32)>>>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits, trusted: &[String]) -> Self {
        Self {
            limits,
            trusted: Arc::new(trusted.iter().filter_map(|s| s.parse().ok()).collect()),
            windows: Default::default(),
        }
    }

    /// Counts one request against `key`; `Err(seconds)` when over `limit`.
    fn hit(&self, key: String, limit: u32, now_ms: i64) -> Result<(), u64> {
        if limit == 0 {
            return Ok(());
        }
        let minute = now_ms / 60_000;
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
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
            return Err((60 - (now_ms / 1000) % 60).max(1) as u64);
        }
        slot.1 += 1;
        Ok(())
    }

    pub fn check(&self, kind: Kind, tenant: &str, client: IpAddr, now_ms: i64) -> Result<(), u64> {
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
        // IPv6 clients by their /64: one subscriber line holds 2^64 addresses.
        let client = match client {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            v4 => v4.to_string(),
        };
        self.hit(format!("{name}|c|{client}"), per_client, now_ms)?;
        self.hit(format!("{name}|t|{tenant}"), per_tenant, now_ms)
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
        if let Err(retry) = limiter.check(kind, tenant, ip, crate::clock::now_ms()) {
            tracing::warn!(client = %ip, tenant, ?kind, "rate limit reached");
            return AppError::TooManyRequests(retry).into_response();
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
        assert_eq!(classify(&Method::GET, "/t/122289/staff/sign-in"), None);
        assert_eq!(classify(&post, "/t/122289/staff/cases/x/action"), None);
    }

    #[test]
    fn per_client_and_per_tenant() {
        let l = RateLimiter::new(
            RateLimits {
                sign_in_per_client: 3,
                sign_in_per_tenant: 5,
                submit_per_client: 0,
                submit_per_tenant: 0,
                lookup_per_client: 0,
                lookup_per_tenant: 0,
            },
            &[],
        );
        let a = IpAddr::from([10, 0, 0, 1]);
        let b = IpAddr::from([10, 0, 0, 2]);
        let now = 1_800_000_000_000;
        for _ in 0..3 {
            l.check(Kind::SignIn, "122289", a, now).unwrap();
        }
        assert!(l.check(Kind::SignIn, "122289", a, now).is_err());
        // Another client of the same tenant may go on, until the tenant's limit.
        l.check(Kind::SignIn, "122289", b, now).unwrap();
        l.check(Kind::SignIn, "122289", b, now).unwrap();
        assert!(l.check(Kind::SignIn, "122289", b, now).is_err());
        // Other tenants are not affected; the next minute starts afresh.
        let c = IpAddr::from([10, 0, 0, 3]);
        l.check(Kind::SignIn, "242021", c, now).unwrap();
        l.check(Kind::SignIn, "122289", a, now + 60_000).unwrap();
        // 0 turns a limit off.
        for _ in 0..100 {
            l.check(Kind::Submit, "122289", a, now).unwrap();
        }
    }
}
