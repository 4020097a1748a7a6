//! The HTML error page: an error response of a page route (one that
//! carries an [`ErrorInfo`]) is rendered again as a page in the request's
//! language; staff without a session go to their sign-in page.

use askama::Template;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ErrorInfo, FieldError};
use crate::i18n;
use crate::prefs::request_lang;
use crate::web::page::{render_status, Page};

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: Page,
    info: &'a ErrorInfo,
    fields: &'a [FieldError],
}

/// Middleware for HTML routes: an error response carrying an [`ErrorInfo`]
/// is re-rendered as a page in the request's language.
pub async fn html_errors(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let lang = request_lang(&parts);
    let path = parts.uri.path().to_string();
    let resp = next.run(Request::from_parts(parts, body)).await;
    if path.starts_with("/api/") {
        return resp;
    }
    let Some(info) = resp.extensions().get::<ErrorInfo>().cloned() else {
        return resp;
    };
    if info.status == StatusCode::UNAUTHORIZED && path.contains("/staff") {
        // Send staff to the sign-in page of the tenant in the path.
        if let Some(rest) = path.strip_prefix("/t/") {
            if let Some(tenant) = rest.split('/').next() {
                return axum::response::Redirect::to(&format!("/t/{tenant}/staff/sign-in"))
                    .into_response();
            }
        }
    }
    let title = i18n::t(lang, &info.message_key).to_string();
    let ctx = resp
        .extensions()
        .get::<crate::csrf::RequestContext>()
        .cloned()
        .unwrap_or_default();
    crate::csrf::with_context(ctx, || {
        let page = Page::new(lang, title, path);
        render_status(
            info.status,
            &ErrorPage {
                page,
                info: &info,
                fields: &info.fields,
            },
        )
    })
}
