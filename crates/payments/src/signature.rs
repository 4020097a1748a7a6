//! The webhook signature of madoguchi's own scheme (used by the bundled
//! simulator; a real provider's adapter checks that provider's scheme):
//! the header `Madoguchi-Signature: t={unix seconds},v1={hex}` where the
//! hex is HMAC-SHA256 of `{t}.{tenant}.{body}` under the webhook secret.
//! The municipality in the signed text binds an event to the path it was
//! sent for: one signed for one municipality is refused at another's. A
//! request older or newer than [`WINDOW_SECS`] is refused, so a captured
//! request cannot be replayed later (and one replayed within the window
//! is caught by the event id, [`crate::webhooks`]).

use axum::http::HeaderMap;

use crate::provider::WebhookError;

pub const HEADER: &str = "madoguchi-signature";

/// How far a webhook's time may be from ours (seconds, either way).
pub const WINDOW_SECS: i64 = 300;

/// The header value for `body` sent at `t` (unix seconds) to `tenant`'s
/// webhook.
pub fn sign(secret: &[u8], tenant: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, tenant, t, body)))
}

fn mac(secret: &[u8], tenant: &str, t: i64, body: &[u8]) -> [u8; 32] {
    let mut msg = format!("{t}.{tenant}.").into_bytes();
    msg.extend_from_slice(body);
    kernel::crypto::hmac_sha256(secret, &msg)
}

/// Checks the header of `body` at `now_ms`: present, well-formed, in the
/// window, and the MAC matches (compared in constant time).
pub fn verify(
    secret: &[u8],
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
    now_ms: i64,
) -> Result<(), WebhookError> {
    let value = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(WebhookError::MissingSignature)?;
    let mut t = None;
    let mut v1 = None;
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = Some(x.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(WebhookError::BadSignature);
    };
    let off = now_ms
        .div_euclid(1000)
        .checked_sub(t)
        .map(i64::unsigned_abs);
    if off.is_none_or(|d| d > WINDOW_SECS as u64) {
        return Err(WebhookError::OutsideWindow);
    }
    let expected = hex::encode(mac(secret, tenant, t, body));
    if !kernel::crypto::constant_time_eq(&v1, &expected) {
        return Err(WebhookError::BadSignature);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HEADER, HeaderValue::from_str(v).unwrap());
        h
    }

    const NOW_MS: i64 = 1_780_000_000_000;

    #[test]
    fn signed_now_verifies_and_nothing_else_does() {
        let key = b"secret";
        let body = br#"{"id":"ev1"}"#;
        let t = NOW_MS / 1000;
        assert_eq!(
            verify(
                key,
                "122289",
                &headers(&sign(key, "122289", t, body)),
                body,
                NOW_MS
            ),
            Ok(())
        );
        // Another body, another key, a changed digit.
        assert_eq!(
            verify(
                key,
                "122289",
                &headers(&sign(key, "122289", t, body)),
                b"{}",
                NOW_MS
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(
                key,
                "122289",
                &headers(&sign(b"other", "122289", t, body)),
                body,
                NOW_MS
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(key, "122289", &HeaderMap::new(), body, NOW_MS),
            Err(WebhookError::MissingSignature)
        );
        assert_eq!(
            verify(key, "122289", &headers("v1=00"), body, NOW_MS),
            Err(WebhookError::BadSignature)
        );
        // Signed for another municipality's webhook: refused here.
        assert_eq!(
            verify(
                key,
                "122289",
                &headers(&sign(key, "242021", t, body)),
                body,
                NOW_MS
            ),
            Err(WebhookError::BadSignature)
        );
        // A time far outside any window is refused, never an overflow.
        assert_eq!(
            verify(
                key,
                "122289",
                &headers(&format!("t={},v1=00", i64::MIN)),
                body,
                NOW_MS
            ),
            Err(WebhookError::OutsideWindow)
        );
        // The window, both ways; its edge still passes.
        for (dt, ok) in [(-301, false), (301, false), (-300, true), (300, true)] {
            let r = verify(
                key,
                "122289",
                &headers(&sign(key, "122289", t + dt, body)),
                body,
                NOW_MS,
            );
            assert_eq!(r.is_ok(), ok, "{dt}");
            if !ok {
                assert_eq!(r, Err(WebhookError::OutsideWindow));
            }
        }
    }
}
