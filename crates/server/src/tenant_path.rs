//! The tenant in a path is a 全国地方公共団体コード or nothing: every
//! `/t/{tenant}/…` and `/api/v1/t/{tenant}/…` whose `{tenant}` is not six
//! ASCII digits, a prefecture (01–47) first and a valid check digit last,
//! is answered `404 MDG-404-tenant`
//! here, before any handler runs (a handler that does not look the tenant
//! up, such as signing out, could otherwise answer 204 for `/t/abc/…`).
//! Whether a valid code is a municipality this deployment serves is still
//! the handlers' question (`kernel::tenant::load`).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kernel::{AppError, TenantCode};

/// The tenant segment of a path, if the path is under a tenant.
pub fn tenant_segment(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/api/v1/t/")
        .or_else(|| path.strip_prefix("/t/"))?;
    Some(rest.split('/').next().unwrap_or(rest))
}

/// A municipality code as it must appear in a path (and as the OpenAPI
/// document's pattern says): exactly six ASCII digits (no full-width
/// digits, spaces or percent-encoding), the first two a prefecture (01–47),
/// the last the check digit.
pub fn is_tenant_code(segment: &str) -> bool {
    segment.len() == 6
        && segment.bytes().all(|b| b.is_ascii_digit())
        && matches!(segment[..2].parse::<u8>(), Ok(1..=47))
        && TenantCode::parse(segment).is_ok()
}

/// The layer: `404 MDG-404-tenant` (a JSON error under `/api/`, the
/// Japanese error page elsewhere) for a tenant segment that is not a code.
pub async fn require_code(req: Request, next: Next) -> Response {
    match tenant_segment(req.uri().path()) {
        Some(segment) if !is_tenant_code(segment) => AppError::NotFound("tenant").into_response(),
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_tenant_segment() {
        assert_eq!(tenant_segment("/t/122289/procedures"), Some("122289"));
        assert_eq!(tenant_segment("/api/v1/t/122289"), Some("122289"));
        assert_eq!(tenant_segment("/api/v1/t/abc/staff/session"), Some("abc"));
        assert_eq!(tenant_segment("/api/v1/t/"), Some(""));
        assert_eq!(tenant_segment("/t//x"), Some(""));
        assert_eq!(tenant_segment("/api/v1/tenants"), None);
        assert_eq!(tenant_segment("/static/madoguchi.css"), None);
        assert_eq!(tenant_segment("/"), None);
    }

    #[test]
    fn only_codes_with_their_check_digit() {
        assert!(is_tenant_code("122289"));
        assert!(is_tenant_code("242021"));
        assert!(is_tenant_code("131016"), "千代田区: a code, served or not");
        assert!(!is_tenant_code("122288"), "wrong check digit");
        assert!(!is_tenant_code("999997"), "no prefecture 99");
        assert!(!is_tenant_code("000001"), "no prefecture 00");
        assert!(!is_tenant_code("12228"));
        assert!(!is_tenant_code("1222890"));
        assert!(!is_tenant_code("null,null"));
        assert!(!is_tenant_code(""));
        assert!(!is_tenant_code("%EF%BC%91%EF%BC%92"));
        assert!(!is_tenant_code("12228９"));
    }
}
