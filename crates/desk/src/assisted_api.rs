//! JSON API of 書かない窓口 (for counter systems and tablets): search the
//! register, open an entry, save it, confirm a paper signature, submit;
//! and the resident's signature from the second screen.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::auth::Clerk;
use kernel::registry::RegistryQuery;
use kernel::web::JsonBody;
use kernel::{AppError, AppResult, FieldError, Lang};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::assisted::{self, Entry, Signature};
use crate::entries::{confirm_path, entry_token, load_for_staff, start_entry};
use crate::state::DeskState;
use cases::identity_checks::CheckedDocument;
use catalogue::form::{FormDef, RawInput};

pub async fn registry_search(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path(_t): Path<String>,
    Query(q): Query<RegistryQuery>,
    lang: Lang,
) -> AppResult<Json<Value>> {
    if q.is_empty() {
        return Err(AppError::Validation(vec![FieldError {
            field: "kana".into(),
            message: "「氏名（フリガナ）」「氏名」「生年月日」のいずれかを指定してください。"
                .into(),
        }]));
    }
    let found =
        crate::register::search(&st.db, st.registry.0.as_ref(), &clerk, &q, "api", lang).await?;
    Ok(Json(json!({
        "registry": st.registry.0.name(),
        "residents": found,
        "limit": kernel::registry::MAX_RESULTS,
    })))
}

/// An entry for the API; マイナンバー answers masked (as on every staff
/// view; a mistyped one too).
fn entry_json(st: &DeskState, e: &Entry, form: &FormDef) -> Value {
    let mut masked = e.input.clone();
    cases::applications::mask_my_numbers(form, &mut masked);
    let answers = masked.values;
    let path = confirm_path(&e.tenant, &e.id, &entry_token(st, &e.tenant, &e.id));
    json!({
        "id": e.id,
        "procedure_id": e.procedure_id,
        "status": e.status,
        "version": e.version,
        "ticket_id": e.ticket_id,
        "registry_id": e.registry_id,
        "answers": answers,
        "verified_fields": e.verified.verified_fields,
        "identity_level": if e.verified.level.is_empty() { "counter" } else { e.verified.level.as_str() },
        "signature_method": e.signature_method,
        "application_id": e.application_id,
        "confirm_url": format!("{}{path}", st.links.public_url.trim_end_matches('/')),
        "pdf_url": format!("/t/{}/staff/assist/{}/application.pdf", e.tenant, e.id),
        "updated_at": e.updated_at,
    })
}

#[derive(Deserialize)]
pub struct StartBody {
    procedure_id: String,
    #[serde(default)]
    registry_id: String,
    #[serde(default)]
    ticket_id: String,
}

pub async fn create(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path(_t): Path<String>,
    lang: Lang,
    JsonBody(b): JsonBody<StartBody>,
) -> AppResult<Response> {
    let p = st
        .cache
        .get(&st.db, &clerk.tenant, b.procedure_id.trim())
        .await
        .ok();
    let e = start_entry(
        &st,
        &clerk,
        &b.procedure_id,
        &b.registry_id,
        &b.ticket_id,
        lang,
    )
    .await
    .map_err(|e| match e {
        // The API names its own fields.
        AppError::Validation(mut f) => {
            for x in f.iter_mut() {
                x.field = match x.field.as_str() {
                    "procedure" => "procedure_id".into(),
                    "ticket" => "ticket_id".into(),
                    other => other.into(),
                };
            }
            AppError::Validation(f)
        }
        other => other,
    })?;
    let form = p.map(|p| p.procedure.form.clone()).unwrap_or_default();
    Ok((StatusCode::CREATED, Json(entry_json(&st, &e, &form))).into_response())
}

pub async fn get(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let (e, p) = load_for_staff(&st, &clerk, &id).await?;
    kernel::audit::record(
        &st.db,
        &clerk.tenant,
        kernel::audit::AuditEntry::new(clerk.actor(), "assisted.view", format!("assisted:{id}")),
    )
    .await?;
    Ok(Json(entry_json(&st, &e, &p.procedure.form)))
}

#[derive(Deserialize)]
pub struct SaveBody {
    version: i64,
    #[serde(default)]
    answers: serde_json::Map<String, Value>,
}

/// Saves the answers; 200 when complete (the entry goes to the resident to
/// check), 422 with the field errors when not (what was sent is kept).
pub async fn save(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    JsonBody(b): JsonBody<SaveBody>,
) -> AppResult<Response> {
    let (e, p) = load_for_staff(&st, &clerk, &id).await?;
    let form = assisted::counter_form(&p.procedure.form);
    let mut input: RawInput =
        RawInput::from_json(&form, &b.answers, lang).map_err(AppError::Validation)?;
    for name in &e.verified.verified_fields {
        if let Some(v) = e.input.values.get(name) {
            input.values.insert(name.clone(), v.clone());
        }
    }
    match assisted::save(&st.db, &clerk, &p, &id, b.version, input, lang).await? {
        Ok(saved) => Ok(Json(entry_json(&st, &saved, &form)).into_response()),
        Err((saved, errors)) => {
            let mut r = AppError::Validation(errors).into_response();
            r.headers_mut().insert(
                "x-entry-version",
                axum::http::HeaderValue::from(saved.version),
            );
            Ok(r)
        }
    }
}

#[derive(Deserialize)]
pub struct ActionBody {
    version: i64,
    /// For submit: the identity document the clerk checked.
    #[serde(default)]
    identity_document: String,
    #[serde(default)]
    identity_note: String,
}

pub async fn action(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path((_t, id, action)): Path<(String, String, String)>,
    lang: Lang,
    JsonBody(b): JsonBody<ActionBody>,
) -> AppResult<Response> {
    let (e, p) = load_for_staff(&st, &clerk, &id).await?;
    let form = &p.procedure.form;
    match action.as_str() {
        "paper-signature" => assisted::sign_on_paper(&st.db, &clerk, &e, b.version).await?,
        "cancel" => assisted::cancel(&st.db, &clerk, &e, b.version).await?,
        "submit" => {
            // Checked before anything changes: a missing choice is 422.
            let checked = CheckedDocument::parse(&b.identity_document, &b.identity_note, lang)
                .map_err(AppError::Validation)?;
            let filing = assisted::Filing {
                id: &id,
                version: b.version,
                checked: &checked,
            };
            let r = assisted::submit(&st.db, &st.committer, &clerk, &p, filing, lang).await?;
            return Ok((
                StatusCode::CREATED,
                Json(json!({
                    "receipt_number": r.display(),
                    "application_id": r.as_str(),
                    "channel": "proxy",
                    "entry": entry_json(&st, &assisted::get(&st.db, &clerk.tenant, &id).await?, form),
                })),
            )
                .into_response());
        }
        _ => return Err(AppError::NotFound("page")),
    }
    let e = assisted::get(&st.db, &clerk.tenant, &id).await?;
    Ok(Json(entry_json(&st, &e, form)).into_response())
}

#[derive(Deserialize)]
pub struct SignBody {
    version: i64,
    #[serde(default)]
    agree: bool,
    #[serde(default)]
    signature: String,
}

/// The resident's signature from a second-screen app.
pub async fn sign(
    State(st): State<DeskState>,
    Path((tenant, id, token)): Path<(String, String, String)>,
    lang: Lang,
    JsonBody(b): JsonBody<SignBody>,
) -> AppResult<Response> {
    if !kernel::crypto::constant_time_eq(&token, &entry_token(&st, &tenant, &id)) {
        return Err(AppError::NotFound("assisted_entry"));
    }
    let e = assisted::get(&st.db, &tenant, &id).await?;
    let mut errors = Vec::new();
    if !b.agree {
        errors.push(FieldError {
            field: "agree".into(),
            message: kernel::i18n::t(lang, "assist.error.agree").into(),
        });
    }
    let sig = Signature::parse(&b.signature).map_err(|key| FieldError {
        field: "signature".into(),
        message: kernel::i18n::t(lang, &format!("assist.error.{key}")).into(),
    });
    let sig = match sig {
        Ok(s) => Some(s),
        Err(f) => {
            errors.push(f);
            None
        }
    };
    match sig {
        Some(sig) if errors.is_empty() => {
            assisted::sign_on_screen(&st.db, &e, b.version, &sig).await?;
            Ok(Json(json!({"status": "signed"})).into_response())
        }
        _ => Err(AppError::Validation(errors)),
    }
}
