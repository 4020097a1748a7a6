//! Cross-site request forgery protection for every state-changing request.
//!
//! HTML forms: a signed double-submit token. Each browser gets a random
//! `mdg_csrf` cookie (HttpOnly, SameSite=Lax); every form carries
//! `_csrf` = HMAC(deployment key, cookie). A POST whose `_csrf` does not
//! match its own cookie is refused before any handler runs, so no form
//! can forget the check. Templates read the token through
//! [`crate::web::Page::csrf`].
//!
//! JSON API: only `application/json` (and the CSV import's `text/csv`)
//! bodies are accepted for state changes; the content types a cross-site
//! form can send without a CORS preflight are refused.
//!
//! Both: a request whose `Origin` is another site, or whose
//! `Sec-Fetch-Site` says `cross-site`, is refused.
//!
//! Two exemptions, each for exactly one path shape whose request carries
//! its own proof: RFC 8058's one-click unsubscribe
//! (`POST /t/{tenant}/mail/unsubscribe/{subscriber}/{token}`), which mail
//! providers send with no cookie, proved by the token in the path
//! ([`is_one_click_unsubscribe`]); and the LINE webhook, proved by its
//! signature ([`exempt`]).
//!
//! Links that start something (a GET, which no CSRF check guards) carry a
//! [`link_token`] bound to one purpose: the same cookie, another HMAC, so a
//! link token seen in a log or history is worth nothing for a form.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

pub const COOKIE: &str = "mdg_csrf";
pub const FIELD: &str = "_csrf";

/// What page templates need to know about the request in hand. Also left
/// in the response's extensions, so that an error page rendered outside
/// this middleware ([`crate::web::html_errors`]) has it too.
#[derive(Clone, Default)]
pub struct RequestContext {
    token: String,
    /// The browser's `mdg_csrf` cookie and the deployment key, for
    /// purpose-bound link tokens.
    cookie: String,
    key: std::sync::Arc<Vec<u8>>,
    /// The cookie was made for this response: nothing sent can match it.
    fresh: bool,
    /// The deployment is served over HTTPS: cookies are `Secure`.
    secure: bool,
    /// The browser holds a resident session cookie (not yet checked).
    resident_cookie: bool,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The token of the request being handled (empty outside a request).
pub fn current() -> String {
    CONTEXT.try_with(|c| c.token.clone()).unwrap_or_default()
}

/// A token for a link that starts `purpose` (e.g. `oidc-start`), bound to
/// this browser's cookie like the form token but never equal to it.
/// Empty outside a request.
pub fn link_token(purpose: &str) -> String {
    CONTEXT
        .try_with(|c| link_token_for(&c.key, purpose, &c.cookie))
        .unwrap_or_default()
}

/// Whether `sent` is this browser's [`link_token`] for `purpose`.
pub fn check_link_token(purpose: &str, sent: &str) -> bool {
    let fresh = CONTEXT.try_with(|c| c.fresh).unwrap_or(true);
    let expected = link_token(purpose);
    !fresh && !expected.is_empty() && crate::crypto::constant_time_eq(sent, &expected)
}

fn link_token_for(key: &[u8], purpose: &str, cookie: &str) -> String {
    if cookie.is_empty() {
        return String::new();
    }
    hex::encode(crate::crypto::hmac_sha256(
        key,
        format!("link:{purpose}:{cookie}").as_bytes(),
    ))
}

/// Runs `f` with the request context an earlier response carried.
pub fn with_context<R>(ctx: RequestContext, f: impl FnOnce() -> R) -> R {
    CONTEXT.sync_scope(ctx, f)
}

/// Whether the deployment is served over HTTPS, so cookies set while
/// handling this request are `Secure`.
pub fn secure() -> bool {
    CONTEXT.try_with(|c| c.secure).unwrap_or(false)
}

impl RequestContext {
    pub fn secure(&self) -> bool {
        self.secure
    }
}

/// Whether the request carries a resident session cookie, so that pages
/// offer "account / sign out" instead of "sign in".
pub fn resident_cookie() -> bool {
    CONTEXT.try_with(|c| c.resident_cookie).unwrap_or(false)
}

#[derive(Clone)]
pub struct CsrfConfig {
    pub key: std::sync::Arc<Vec<u8>>,
    pub secure: bool,
    pub max_body_bytes: usize,
}

fn token_for(key: &[u8], cookie: &str) -> String {
    hex::encode(crate::crypto::hmac_sha256(key, cookie.as_bytes()))
}

fn valid_cookie(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A path shape whose POSTs come from another service with no cookie or
/// token of ours: a LINE webhook (`/t/{tenant}/line/webhook`),
/// proven instead by its `X-Line-Signature` (`mail::channels::line`), and
/// a payment provider's webhook (`/t/{tenant}/payments/webhooks/{provider}`),
/// proven by the provider's signature (`payments::webhooks`).
fn exempt(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "t", t, "line", "webhook"] if !t.is_empty()
    ) || matches!(
        parts.as_slice(),
        ["", "t", t, "payments", "webhooks", p] if !t.is_empty() && !p.is_empty()
    )
}

/// `Origin` names another host, or the browser says the request is cross-site.
fn cross_site(req: &Request) -> bool {
    let h = req.headers();
    if h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return true;
    }
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match (h.get(header::ORIGIN), host) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or("");
            let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            origin == "null" || origin_host != host
        }
        // An Origin we cannot compare with anything is not trusted.
        (Some(_), None) => true,
        _ => false,
    }
}

/// RFC 8058's one-click unsubscribe, `POST /t/{tenant}/mail/unsubscribe/{subscriber}/{token}`:
/// a mail provider sends it with no cookie and no form token; the token in
/// the path is the proof (checked by its handler, which also requires
/// `List-Unsubscribe=One-Click`). Exactly that shape, nothing under it.
pub fn is_one_click_unsubscribe(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let token_like =
        |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric());
    matches!(
        parts.as_slice(),
        ["", "t", tenant, "mail", "unsubscribe", subscriber, token]
            if tenant.len() == 6
                && tenant.bytes().all(|b| b.is_ascii_digit())
                && token_like(subscriber)
                && token_like(token)
    )
}

fn content_type(req: &Request) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Finds the `_csrf` field in a urlencoded or multipart body.
fn field_in_body(original: &str, body: &[u8]) -> Option<String> {
    // Media types are case-insensitive; the multipart boundary is not
    // (browsers send e.g. `----WebKitFormBoundaryAbC…`).
    let content_type = &original.to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| v);
    }
    if content_type.starts_with("multipart/form-data") {
        let boundary = original
            .split(';')
            .map(str::trim)
            .find_map(|p| {
                p.get(..9)
                    .filter(|k| k.eq_ignore_ascii_case("boundary="))
                    .and_then(|_| p.get(9..))
            })?
            .trim_matches('"');
        let delim = format!("--{boundary}");
        let d = delim.as_bytes();
        // Offsets of every delimiter (not overlapping); the parts lie between them.
        let mut marks = Vec::new();
        let mut i = 0;
        while i + d.len() <= body.len() {
            if body[i..].starts_with(d) {
                marks.push(i);
                i += d.len();
            } else {
                i += 1;
            }
        }
        for w in marks.windows(2) {
            let part = &body[w[0] + d.len()..w[1]];
            let Some(split) = part.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let headers = String::from_utf8_lossy(&part[..split]).to_ascii_lowercase();
            if headers.contains(&format!("name=\"{FIELD}\"")) {
                let value = &part[split + 4..];
                let value = value.strip_suffix(b"\r\n").unwrap_or(value);
                return String::from_utf8(value.to_vec()).ok();
            }
        }
    }
    None
}

pub async fn protect(State(cfg): State<CsrfConfig>, req: Request, next: Next) -> Response {
    let existing = crate::auth::cookie(req.headers(), COOKIE)
        .filter(|v| valid_cookie(v))
        .map(str::to_string);
    let (cookie, fresh) = match existing {
        Some(c) => (c, false),
        None => (crate::ids::token(), true),
    };
    let token = token_for(&cfg.key, &cookie);
    let req = if is_unsafe(req.method()) && !exempt(req.uri().path()) {
        if cross_site(&req) {
            return AppError::Csrf.into_response();
        }
        let ct_original = content_type(&req);
        let ct = ct_original.to_ascii_lowercase();
        if req.uri().path().starts_with("/api/") {
            // JSON (and the catalogue import's CSV), which a cross-site
            // page cannot send without a CORS preflight we never grant; a
            // request with no body may have no type.
            let has_body = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v != "0")
                && (req.headers().contains_key(header::CONTENT_LENGTH)
                    || req.headers().contains_key(header::TRANSFER_ENCODING));
            let allowed = ct.starts_with("application/json")
                || ct.starts_with("text/csv")
                || ct.is_empty() && !has_body;
            if !allowed {
                return AppError::Csrf.into_response();
            }
            req
        } else if is_one_click_unsubscribe(req.uri().path()) {
            req
        } else {
            if fresh {
                return AppError::Csrf.into_response();
            }
            let (parts, body) = req.into_parts();
            let bytes = match axum::body::to_bytes(body, cfg.max_body_bytes).await {
                Ok(b) => b,
                Err(_) => return AppError::PayloadTooLarge.into_response(),
            };
            let sent = field_in_body(&ct_original, &bytes).unwrap_or_default();
            if !crate::crypto::constant_time_eq(&sent, &token) {
                return AppError::Csrf.into_response();
            }
            Request::from_parts(parts, Body::from(bytes))
        }
    } else {
        req
    };
    let context = RequestContext {
        token,
        cookie: cookie.clone(),
        key: cfg.key.clone(),
        fresh,
        secure: cfg.secure,
        resident_cookie: crate::auth::cookie(req.headers(), crate::resident::RESIDENT_COOKIE)
            .is_some_and(|v| !v.is_empty()),
    };
    let mut resp = CONTEXT.scope(context.clone(), next.run(req)).await;
    resp.extensions_mut().insert(context);
    if fresh {
        resp.headers_mut().append(
            header::SET_COOKIE,
            crate::web::Cookie::new(COOKIE, &cookie)
                .secure(cfg.secure)
                .header(),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_webhooks_are_exempt() {
        assert!(exempt("/t/122289/line/webhook"));
        assert!(exempt("/t/122289/payments/webhooks/simulator"));
        for p in [
            "/t/122289/payments/webhooks/",
            "/t/122289/payments/webhooks/simulator/x",
            "/t//payments/webhooks/simulator",
            "/t/122289/payments/simulator/sim_1",
            "/t/122289/staff/payments/webhooks/simulator",
            "/t/122289/pay/26000000011/ABC/online",
            "/t/122289/line/webhook/",
            "/t/122289/line/webhook/x",
            "/t//line/webhook",
            "/t/122289/line",
            "/t/122289/line/link/abc",
            "/api/v1/t/122289/line/webhook",
            "/x/122289/line/webhook",
            "/t/122289/staff/line/webhook",
        ] {
            assert!(!exempt(p), "{p}");
        }
    }

    #[test]
    fn finds_the_field_in_forms() {
        assert_eq!(
            field_in_body(
                "application/x-www-form-urlencoded",
                b"a=1&_csrf=abc%20d&b=2"
            )
            .as_deref(),
            Some("abc d")
        );
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\ntok123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-\r\n--XyZ--\r\n";
        assert_eq!(
            field_in_body("multipart/form-data; boundary=XyZ", body).as_deref(),
            Some("tok123")
        );
        assert_eq!(
            field_in_body("multipart/form-data; boundary=XyZ", b"--XyZ--"),
            None
        );
        assert_eq!(field_in_body("text/plain", b"_csrf=x"), None);
    }

    #[test]
    fn only_the_one_click_unsubscribe_path_is_exempt() {
        let t = "0123456789abcdef0123456789abcdef";
        assert!(is_one_click_unsubscribe(&format!(
            "/t/122289/mail/unsubscribe/0a1b2c3d4e5f6a7b/{t}"
        )));
        for p in [
            format!("/t/122289/mail/unsubscribe/0a1b2c3d4e5f6a7b/{t}/x"),
            "/t/122289/mail/unsubscribe/0a1b2c3d4e5f6a7b".to_string(),
            format!("/t/122289/mail/preferences/0a1b2c3d4e5f6a7b/{t}"),
            format!("/t/122289/staff/mail/unsubscribe/0a1b2c3d4e5f6a7b/{t}"),
            format!("/t/12228/mail/unsubscribe/0a1b2c3d4e5f6a7b/{t}"),
            format!("/t/122289/mail/unsubscribe/../{t}"),
            format!("/t/122289/mail/unsubscribe//{t}"),
            format!("/api/v1/t/122289/mail/unsubscribe/a/{t}"),
        ] {
            assert!(!is_one_click_unsubscribe(&p), "{p}");
        }
    }

    #[test]
    fn link_tokens_are_bound_to_purpose_and_cookie() {
        let key = b"deployment key";
        let a = link_token_for(key, "oidc-start", "cookie-a");
        assert_eq!(a.len(), 64);
        assert_ne!(a, link_token_for(key, "other", "cookie-a"));
        assert_ne!(a, link_token_for(key, "oidc-start", "cookie-b"));
        assert_ne!(a, token_for(key, "cookie-a"), "never the form token");
        assert_eq!(link_token_for(key, "oidc-start", ""), "");
    }
}
