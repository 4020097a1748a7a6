//! JSON API handlers (`/api/v1/...`). Thin: parse, call the module that
//! holds the rule, serialise.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::auth::{DeptAdmin, Staff, SystemAdmin};
use kernel::web::JsonBody;
use kernel::{AppError, AppResult, Db};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::csv_io;
use crate::form::{self};
use crate::model::Procedure;
use crate::store;

pub async fn tenant(State(db): State<Db>, Path(tenant): Path<String>) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    Ok(Json(serde_json::to_value(t).map_err(anyhow::Error::from)?))
}

pub async fn procedures(
    State(db): State<Db>,
    Path(tenant): Path<String>,
) -> AppResult<Json<Value>> {
    kernel::tenant::load(&db, &tenant).await?;
    let items = store::list(&db, &tenant).await?;
    Ok(Json(json!({ "items": items })))
}

pub async fn procedure(
    State(db): State<Db>,
    Path((tenant, id)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let p = store::get(&db, &tenant, &id).await?;
    let mut v = serde_json::to_value(&p).map_err(anyhow::Error::from)?;
    v["answers_schema"] = form::json_schema(&p.procedure.form);
    Ok(Json(v))
}

/// The address of a postal code (Japan Post's data), for filling an
/// address as the resident types: 422 naming the code when it is not seven
/// digits, 404 when Japan Post has no such code.
pub async fn postal_code(
    State(db): State<Db>,
    Path((tenant, code)): Path<(String, String)>,
    lang: kernel::i18n::Lang,
) -> AppResult<Json<Value>> {
    kernel::tenant::load(&db, &tenant).await?;
    let label = kernel::i18n::t(lang, "jp.what.postal_code");
    let p = jp::PostalCode::parse(&code).map_err(|e| {
        AppError::Validation(vec![kernel::FieldError {
            field: "code".into(),
            message: kernel::i18n::parse_error(lang, label, &e),
        }])
    })?;
    let a = p.address().ok_or(AppError::NotFound("postal_code"))?;
    Ok(Json(json!({
        "postal_code": p.as_str(),
        "prefecture": a.prefecture,
        "city": a.city,
        "town": a.town,
        "address": a.joined(),
    })))
}

#[derive(Deserialize)]
pub struct SaveProcedureBody {
    procedure: Procedure,
    /// The version being edited; omit to create.
    version: Option<i64>,
}

pub async fn save_procedure(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    staff: DeptAdmin,
    Path((tenant, id)): Path<(String, String)>,
    JsonBody(b): JsonBody<SaveProcedureBody>,
) -> AppResult<Response> {
    if b.procedure.id != id {
        return Err(AppError::Validation(vec![kernel::FieldError {
            field: "procedure.id".into(),
            message: "URLの手続IDと本文の id が一致しません。".into(),
        }]));
    }
    staff.require_department(&b.procedure.department)?;
    let existing = store::get(&db, &tenant, &id).await.ok();
    if let Some(existing) = &existing {
        staff.require_department(&existing.procedure.department)?;
    }
    let (outcome, version) =
        store::save(&db, &tenant, &b.procedure, b.version, &staff.actor()).await?;
    crate::translations::saved(
        &db,
        &tenant,
        existing.as_ref().map(|e| &e.procedure),
        &b.procedure,
    )
    .await?;
    cache.changed(&tenant).await;
    let status = if outcome == store::SaveOutcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"outcome": outcome, "version": version})),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
    dry_run: Option<bool>,
}

pub async fn export_catalogue(
    State(db): State<Db>,
    staff: Staff,
    Query(q): Query<FormatQuery>,
) -> AppResult<Response> {
    let items: Vec<Procedure> = store::list(&db, &staff.tenant)
        .await?
        .into_iter()
        .map(|s| s.procedure)
        .collect();
    export_response(&staff.tenant, &items, q.format.as_deref().unwrap_or("json"))
}

pub(crate) fn export_response(
    tenant: &str,
    items: &[Procedure],
    format: &str,
) -> AppResult<Response> {
    match format {
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"procedures-{tenant}.csv\""),
                ),
            ],
            csv_io::to_csv(items)?,
        )
            .into_response()),
        "json" => Ok((
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"procedures-{tenant}.json\""),
                ),
            ],
            serde_json::to_string_pretty(items).map_err(anyhow::Error::from)?,
        )
            .into_response()),
        other => Err(AppError::BadRequest(format!(
            "形式「{other}」には対応していません（csv または json）。"
        ))),
    }
}

pub async fn import_catalogue(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    staff: SystemAdmin,
    Query(q): Query<FormatQuery>,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let text = std::str::from_utf8(&body).map_err(|_| {
        AppError::BadRequest(
            "ファイルを UTF-8 として読めません。Excel では「CSV UTF-8」で保存してください。".into(),
        )
    })?;
    let items = match q.format.as_deref().unwrap_or("json") {
        "csv" => {
            let items = csv_io::from_csv(text).map_err(AppError::Validation)?;
            store::with_kept_translations(&db, &staff.tenant, items, &csv_io::sheet_languages(text))
                .await?
        }
        "json" => csv_io::from_json(text).map_err(AppError::Validation)?,
        other => {
            return Err(AppError::BadRequest(format!(
                "形式「{other}」には対応していません（csv または json）。"
            )))
        }
    };
    let report = store::import(
        &db,
        &staff.tenant,
        &items,
        &staff.actor(),
        q.dry_run.unwrap_or(false),
    )
    .await?;
    cache.changed(&staff.tenant).await;
    Ok(Json(
        serde_json::to_value(report).map_err(anyhow::Error::from)?,
    ))
}
