//! `POST /t/{tenant}/payments/webhooks/{provider}`: a provider's
//! notification. Exempt from the CSRF check (`kernel::csrf`) because its
//! signature is its proof. Answers: 200 (`applied`, `duplicate`,
//! `unmatched`), 401 for a missing or wrong signature or a time outside
//! the window, 400 for a signed body that is not an event, 404 for a
//! provider this deployment does not have. A refusal changes nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kernel::{AppError, AppResult};

use super::state::PaymentsState;
use crate::provider::WebhookError;
use crate::webhooks::{self, Outcome, ReceiveError};

pub async fn webhook_post(
    State(st): State<PaymentsState>,
    Path((tenant, provider)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let out = webhooks::receive(
        &st.db,
        &st.providers,
        &tenant,
        &provider,
        &headers,
        &body,
        kernel::clock::now_ms(),
    )
    .await;
    Ok(match out {
        Ok(o) => (
            StatusCode::OK,
            match o {
                Outcome::Applied => "applied",
                Outcome::Duplicate => "duplicate",
                Outcome::Unmatched => "unmatched",
            },
        )
            .into_response(),
        Err(ReceiveError::UnknownProvider) => return Err(AppError::NotFound("page")),
        Err(ReceiveError::Refused(WebhookError::Malformed(_))) => {
            (StatusCode::BAD_REQUEST, "malformed event").into_response()
        }
        Err(ReceiveError::Refused(e)) => (StatusCode::UNAUTHORIZED, e.to_string()).into_response(),
        Err(ReceiveError::Db(e)) => return Err(e.into()),
        Err(ReceiveError::Charge(e)) => return Err(AppError::Internal(e.into())),
    })
}
