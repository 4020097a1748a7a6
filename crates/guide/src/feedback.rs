//! "Was this helpful?": one vote per entry per browser, the browser known
//! by a random voter id in a cookie, kept only as a keyed hash.

use axum::http::{HeaderMap, HeaderValue};
use kernel::{AppResult, Db};

use crate::faq;

/// The browser's random voter id (one vote per entry per browser).
pub const VOTER_COOKIE: &str = "mdg_voter";

/// The voter cookie's value if it is one we issued (64 hex characters).
fn voter_of(headers: &HeaderMap) -> Option<String> {
    kernel::auth::cookie(headers, VOTER_COOKIE)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
}

/// Records a vote for this browser: its voter id, issued now if it has
/// none. Returns the `Set-Cookie` value when a new id was issued.
pub async fn record_vote(
    db: &Db,
    secure: bool,
    headers: &HeaderMap,
    tenant: &str,
    id: i64,
    helpful: bool,
) -> AppResult<Option<HeaderValue>> {
    let (voter, fresh) = match voter_of(headers) {
        Some(v) => (v, false),
        None => (kernel::ids::token(), true),
    };
    let hashed = db.keyed_hash(format!("faq-voter:{voter}").as_bytes());
    faq::vote(db, tenant, id, &hashed, helpful).await?;
    if !fresh {
        return Ok(None);
    }
    Ok(Some(
        kernel::web::Cookie::new(VOTER_COOKIE, &voter)
            .max_age_secs(365 * 24 * 3600)
            .secure(secure)
            .header(),
    ))
}
