//! 手続ナビの編集 over JSON, for the same staff and with the same checks
//! as the editor: read a life event (live version and draft), publish a
//! bundle, list its versions, restore one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::auth::DeptAdmin;
use kernel::web::JsonBody;
use kernel::{AppError, AppResult};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::editor::{self, Draft, Problem};
use crate::state::NaviState;
use crate::store::{self, Origin, Outcome};
use crate::workspace::{after_publish, Workspace};

pub async fn list(State(st): State<NaviState>, staff: DeptAdmin) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let changes = store::last_changes(&st.db, &staff.tenant).await?;
    let drafts = store::drafts(&st.db, &staff.tenant).await?;
    let mut out: Vec<Value> = t
        .life_events
        .iter()
        .map(|b| {
            let change = changes.iter().find(|(c, _)| *c == b.code).map(|(_, v)| v);
            json!({
                "code": b.code,
                "name": b.name,
                "questions": b.questions.len(),
                "items": b.items.len(),
                "live": true,
                "version": change.map(|c| c.version).unwrap_or(0),
                "last_change": change,
                "draft": drafts.iter().find(|d| d.bundle.code == b.code).map(|d| json!({"saved_at": d.saved_at, "saved_by": d.saved_by})),
            })
        })
        .collect();
    out.extend(
        drafts
            .iter()
            .filter(|d| t.life_event(&d.bundle.code).is_none())
            .map(|d| {
                json!({
                    "code": d.bundle.code,
                    "name": d.bundle.name,
                    "questions": d.bundle.questions.len(),
                    "items": d.bundle.items.len(),
                    "live": false,
                    "version": 0,
                    "last_change": null,
                    "draft": {"saved_at": d.saved_at, "saved_by": d.saved_by},
                })
            }),
    );
    Ok(Json(json!({"life_events": out})))
}

pub async fn get(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let draft = store::draft(&st.db, &staff.tenant, &code).await?;
    let live = t.life_event(&code);
    if live.is_none() && draft.is_none() {
        return Err(AppError::NotFound("life_event"));
    }
    Ok(Json(json!({
        "code": code,
        "version": store::live_version(&st.db, &staff.tenant, &code).await?,
        "bundle": live,
        "draft": draft.map(|d| json!({"bundle": d.bundle, "base_version": d.base_version, "saved_at": d.saved_at, "saved_by": d.saved_by})),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    bundle: Draft,
    /// The live version the change was made from (0 for a new life event
    /// or one never edited); another publish since is a conflict.
    #[serde(default)]
    version: i64,
}

/// Publishes a bundle (creates the life event if it is new).
pub async fn put(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
    JsonBody(b): JsonBody<PublishBody>,
) -> AppResult<Response> {
    if !b.bundle.code.is_empty() && b.bundle.code != code {
        return Err(AppError::Validation(vec![kernel::FieldError {
            field: "bundle.code".into(),
            message: "URLのコードと本文の bundle.code が一致しません。".into(),
        }]));
    }
    let mut draft = b.bundle;
    draft.code = code.clone();
    let ws = Workspace::load(&st.db, &staff.tenant).await?;
    let live = ws.live(&code);
    let bundle = editor::validate(&draft, &ws.context(live.is_none()))
        .map_err(|p| AppError::Validation(Problem::for_api(&p)))?;
    ws.permit(&staff, live, &bundle)
        .map_err(|_| AppError::NotPermitted("navi_department"))?;
    let (outcome, version) = store::publish(
        &st.db,
        &staff.tenant,
        &bundle,
        b.version,
        Origin::Publish,
        &staff.actor(),
    )
    .await?;
    if outcome != Outcome::Unchanged {
        after_publish(&st, &staff.tenant).await;
    }
    let status = if outcome == Outcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"outcome": outcome, "version": version, "bundle": bundle})),
    )
        .into_response())
}

pub async fn versions(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    if t.life_event(&code).is_none() {
        return Err(AppError::NotFound("life_event"));
    }
    let list = store::versions(&st.db, &staff.tenant, &code).await?;
    let mut out = Vec::new();
    for v in list {
        let bundle = store::version_body(&st.db, &staff.tenant, &code, v.version).await?;
        out.push(json!({
            "version": v.version,
            "origin": v.origin,
            "restored_from": v.restored_from,
            "published_at": v.published_at,
            "published_by": v.published_by,
            "bundle": bundle,
        }));
    }
    Ok(Json(json!({"code": code, "versions": out})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreBody {
    restore_version: i64,
    /// The live version now (optimistic, like a publish).
    version: i64,
}

pub async fn restore(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
    JsonBody(b): JsonBody<RestoreBody>,
) -> AppResult<Json<Value>> {
    let ws = Workspace::load(&st.db, &staff.tenant).await?;
    let live = ws
        .live(&code)
        .ok_or(AppError::NotFound("life_event"))?
        .clone();
    let old = store::version_body(&st.db, &staff.tenant, &code, b.restore_version).await?;
    let old = editor::validate(&Draft::from_bundle(&old), &ws.context(false))
        .map_err(|p| AppError::Validation(Problem::for_api(&p)))?;
    ws.permit(&staff, Some(&live), &old)
        .map_err(|_| AppError::NotPermitted("navi_department"))?;
    let (outcome, version) = store::publish(
        &st.db,
        &staff.tenant,
        &old,
        b.version,
        Origin::Restore(b.restore_version),
        &staff.actor(),
    )
    .await?;
    if outcome != Outcome::Unchanged {
        after_publish(&st, &staff.tenant).await;
    }
    Ok(Json(
        json!({"outcome": outcome, "version": version, "bundle": old}),
    ))
}
