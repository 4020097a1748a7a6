//! The HTTP side of LINE: the webhook (`POST /t/{tenant}/line/webhook`,
//! exempt from the CSRF check because its signature is its proof) and the
//! system administrator's API that sets the channel.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::auth::SystemAdmin;
use kernel::i18n::{self, Lang};
use kernel::web::JsonBody;
use kernel::{AppError, AppResult};
use serde::Deserialize;
use serde_json::json;

use super::{channel, signature, webhook};
use crate::channels::ChannelsState;

/// The header LINE signs its webhook requests with.
pub const SIGNATURE_HEADER: &str = "x-line-signature";

/// A webhook request. A missing or wrong signature is 401 (the request
/// did not prove it comes from LINE: it lacks valid credentials, in
/// HTTP's words) and changes nothing; a municipality without LINE is 404.
pub async fn webhook_post(
    State(s): State<ChannelsState>,
    Path(tenant): Path<String>,
    lang: Lang,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    kernel::tenant::require(&s.db, &tenant).await?;
    let Some(ch) = channel::load(&s.db, &tenant).await? else {
        return Err(AppError::NotFound("page"));
    };
    let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if !signature::verify(&ch.secret, &body, sig) {
        let key = if sig.is_none() {
            "mail.channels.line.signature_missing"
        } else {
            "mail.channels.line.signature_wrong"
        };
        return Ok((
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"error": {"code": "MDG-401-line_signature", "message": i18n::t(lang, key)}}),
            ),
        )
            .into_response());
    }
    let parsed = webhook::parse(&body)?;
    let (handled, skipped) = webhook::handle(
        &s.db,
        &s.line,
        &ch,
        &s.public_url.0,
        &tenant,
        &parsed,
        kernel::clock::now_ms(),
    )
    .await?;
    Ok(Json(json!({"handled": handled, "skipped": skipped})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    pub channel_secret: String,
    pub access_token: String,
}

/// Sets the municipality's channel (system administrators; audited).
pub async fn channel_put(
    State(s): State<ChannelsState>,
    admin: SystemAdmin,
    lang: Lang,
    JsonBody(b): JsonBody<ChannelBody>,
) -> AppResult<Json<serde_json::Value>> {
    channel::save(
        &s.db,
        &admin,
        lang,
        b.channel_secret.trim(),
        b.access_token.trim(),
        kernel::clock::now_ms(),
    )
    .await?;
    Ok(Json(
        json!({"configured": true, "webhook_path": format!("/t/{}/line/webhook", admin.tenant)}),
    ))
}

/// Whether the municipality has a channel (never the secret or token).
pub async fn channel_get(
    State(s): State<ChannelsState>,
    admin: SystemAdmin,
) -> AppResult<Json<serde_json::Value>> {
    let ch = channel::load(&s.db, &admin.tenant).await?;
    Ok(Json(json!({
        "configured": ch.is_some(),
        "webhook_path": format!("/t/{}/line/webhook", admin.tenant),
    })))
}
