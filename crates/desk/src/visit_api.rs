//! The JSON API of life-event visits: the public bundles (so residents can
//! prepare), a visit's intake by a clerk, one visit and the recent ones.
//! Thin: parse, call [`crate::visits`], serialise.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::auth::{CaseWorker, Clerk};
use kernel::i18n::Lang;
use kernel::AppResult;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::DeskState;
use crate::visits::{self, Names, VisitInput};
use cases::committer::VisitSubmitted;
use kernel::web::parse_json;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResidentBody {
    #[serde(default)]
    registry_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kana: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IdentityBody {
    #[serde(default)]
    document: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitBody {
    #[serde(default)]
    life_event: String,
    /// Question code → true (yes) / false (no).
    #[serde(default)]
    answers: BTreeMap<String, Value>,
    #[serde(default)]
    resident: ResidentBody,
    #[serde(default)]
    identity_check: IdentityBody,
}

/// Every life event of the municipality with its questions and all the
/// procedures it may bring (where, what to bring), in both languages.
pub async fn life_events(
    State(st): State<DeskState>,
    Path(tenant): Path<String>,
) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let bundles = navi::plan::bundles_with_procedures(&st.db, &st.cache, &t).await?;
    let items: Vec<Value> = bundles
        .iter()
        .map(|(b, planned)| {
            json!({
                "code": b.code,
                "name": b.name,
                "description": b.description,
                "questions": b.questions,
                "items": b.items.iter().zip(planned).map(|(item, p)| {
                    let dept = t.department(&p.procedure.procedure.department);
                    json!({
                        "procedure_id": item.procedure,
                        "procedure_name": p.procedure.procedure.name,
                        "when": item.when,
                        "unless": item.unless,
                        "note": item.note,
                        "department": p.procedure.procedure.department,
                        "department_name": dept.map(|d| &d.name),
                        "location": dept.and_then(|d| d.location.as_ref()),
                        "counter": p.counter.as_ref().map(|c| &c.code),
                        "counter_name": p.counter.as_ref().map(|c| &c.name),
                        "documents": p.procedure.procedure.documents,
                        "channels": p.procedure.procedure.channels,
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

async fn visit_json(
    st: &DeskState,
    staff: &kernel::auth::Staff,
    t: &kernel::tenant::TenantProfile,
    visit: &cases::visits::Visit,
    lang: Lang,
) -> AppResult<Value> {
    let items = visits::item_views(&st.db, &st.cache, t, visit, staff, lang).await?;
    Ok(visits::to_json(t.code.as_str(), t, visit, &items, lang))
}

/// A clerk's intake: the visit, its identity check and one case per
/// procedure, in one transaction. Requires `Idempotency-Key`; a retry with
/// the same key and body returns the same visit (200).
pub async fn create(
    State(st): State<DeskState>,
    staff: Clerk,
    headers: HeaderMap,
    lang: Lang,
    body: Bytes,
) -> AppResult<Response> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    cases::intake::check_idempotency_key(&key, lang)?;
    let b: VisitBody = parse_json(&body)?;
    // Answers are yes/no: anything but true or false is named as such.
    let not_bool: Vec<kernel::FieldError> = b
        .answers
        .iter()
        .filter(|(_, v)| !v.is_boolean() && !v.is_null())
        .map(|(k, _)| kernel::FieldError {
            field: format!("answers.{k}"),
            message: kernel::i18n::tf(lang, "visit.error.answer_not_bool", &[("code", k)]),
        })
        .collect();
    if !not_bool.is_empty() {
        return Err(kernel::AppError::Validation(not_bool));
    }
    let input = VisitInput {
        life_event: b.life_event,
        answers: b
            .answers
            .into_iter()
            .map(|(k, v)| (k, v.as_bool()))
            .collect(),
        registry_id: b.resident.registry_id,
        name: b.resident.name,
        kana: b.resident.kana,
        document: b.identity_check.document,
        note: b.identity_check.note,
    };
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let req = visits::check(&t, st.registry.0.as_ref(), &input, Names::Api, lang).await?;
    let planned = navi::plan::plan(&st.db, &st.cache, &t, &req.bundle, &req.answers).await?;
    let r = visits::open(&st.db, &st.committer, &staff, &req, &planned, &key, lang).await?;
    let visit = cases::visits::get(&st.db, &staff.tenant, r.id()).await?;
    let mut v = visit_json(&st, &staff, &t, &visit, lang).await?;
    let status = match r {
        VisitSubmitted::Created(_) => StatusCode::CREATED,
        VisitSubmitted::Replayed(_) => StatusCode::OK,
    };
    v["replayed"] = Value::Bool(status == StatusCode::OK);
    Ok((status, Json(v)).into_response())
}

pub async fn get(
    State(st): State<DeskState>,
    staff: CaseWorker,
    lang: Lang,
    Path((_tenant, id)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let visit = cases::visits::get_for_staff(&st.db, &staff, &id, "visit.view").await?;
    Ok(Json(visit_json(&st, &staff, &t, &visit, lang).await?))
}

pub async fn list(State(st): State<DeskState>, staff: CaseWorker) -> AppResult<Json<Value>> {
    let items = cases::visits::recent(&st.db, &staff).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|v| {
            json!({
                "id": v.id,
                "life_event": v.life_event,
                "resident_name": v.resident_name,
                "resident_kana": v.resident_kana,
                "created_at": kernel::clock::rfc3339_jst(v.created_at),
                "cases": v.cases,
                "completed": v.completed,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}
