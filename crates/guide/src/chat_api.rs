//! `POST /api/v1/t/{tenant}/chat`: one question in, the answer with its
//! sources, whether it declined, and where to ask a person.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use kernel::i18n::{self, Lang};
use kernel::{AppError, AppResult, FieldError};
use serde::Deserialize;
use serde_json::Value;

use crate::chat;
use crate::state::GuideState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatBody {
    message: String,
    #[serde(default)]
    lang: Option<String>,
}

pub async fn post(
    State(st): State<GuideState>,
    Path(tenant): Path<String>,
    request_lang: Lang,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let b: ChatBody = kernel::web::parse_json(&body)?;
    let lang = match b.lang.as_deref() {
        None => request_lang,
        Some(l) => Lang::parse(l).ok_or_else(|| {
            AppError::Validation(vec![FieldError {
                field: "lang".into(),
                message: i18n::t(request_lang, "chat.error_lang").into(),
            }])
        })?,
    };
    let question = search::parse_query_text(&b.message).map_err(|key| {
        AppError::Validation(vec![FieldError {
            field: "message".into(),
            message: i18n::t(lang, key).into(),
        }])
    })?;
    let reply = chat::answer(&st, &t, &question, lang).await?;
    Ok(Json(
        serde_json::to_value(reply).map_err(anyhow::Error::from)?,
    ))
}
