//! Security headers on every response, and the static stylesheet and
//! script.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::i18n::Lang;

/// Security headers on every response, and the language cookie when the
/// language was chosen with `?lang=`.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let chosen = req
        .uri()
        .query()
        .and_then(|q| crate::prefs::form_urlencoded_pairs(q).find(|(k, _)| k == "lang"))
        .and_then(|(_, v)| Lang::parse(&v));
    let mut resp = next.run(req).await;
    let secure = resp
        .extensions()
        .get::<crate::csrf::RequestContext>()
        .is_some_and(|c| c.secure());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Pages and API answers may carry personal data: no copies in browser
    // or proxy caches (shared PCs at libraries and counters).
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(lang) = chosen {
        h.append(
            header::SET_COOKIE,
            crate::prefs::preference_cookie(crate::prefs::LANG_COOKIE, lang.code(), secure),
        );
    }
    resp
}

pub const STYLESHEET: &str = include_str!("../../static/madoguchi.css");

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

pub const SCRIPT: &str = include_str!("../../static/madoguchi.js");

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}
