//! The FAQ as JSON. The public part serves only published public entries;
//! everything else (knowledge, unpublished entries, counts, history,
//! editing) is under `/staff/` and needs a staff session of the tenant.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::auth::{DeptAdmin, Staff};
use kernel::i18n::Lang;
use kernel::web::JsonBody;
use kernel::{AppError, AppResult, Db};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faq::{self, FaqEntry, Scope, StoredFaq};
use crate::feedback::record_vote;
use crate::state::GuideState;
use crate::view::{category_label, localize};
use crate::view::{parse_id, related};

/// An entry for residents, in `lang` (the Japanese, marked, if untranslated).
async fn public_json(db: &Db, tenant: &str, s: &StoredFaq, lang: Lang) -> AppResult<Value> {
    let q = localize(&s.entry.question, lang);
    let a = localize(&s.entry.answer, lang);
    let procedures = related(db, tenant, &s.entry.procedures, lang).await?;
    Ok(json!({
        "id": s.id,
        "category": s.entry.category,
        "category_name": category_label(lang, &s.entry.category),
        "question": q.text,
        "question_lang": q.lang,
        "answer": a.text,
        "answer_lang": a.lang,
        "procedures": procedures.iter().map(|p| json!({
            "id": p.id,
            "name": p.name.text,
            "url": format!("/t/{tenant}/procedures/{}", p.id),
        })).collect::<Vec<_>>(),
        "updated_at": kernel::clock::rfc3339_jst(s.updated_at),
        "url": format!("/t/{tenant}/faq/{}", s.id),
    }))
}

pub async fn list(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    lang: Lang,
) -> AppResult<Json<Value>> {
    kernel::tenant::load(&db, &tenant).await?;
    let items = faq::list(&db, &tenant, Scope::Public).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|s| {
            let q = localize(&s.entry.question, lang);
            json!({
                "id": s.id,
                "category": s.entry.category,
                "category_name": category_label(lang, &s.entry.category),
                "question": q.text,
                "question_lang": q.lang,
                "url": format!("/t/{tenant}/faq/{}", s.id),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

pub async fn get(
    State(db): State<Db>,
    Path((tenant, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Json<Value>> {
    kernel::tenant::load(&db, &tenant).await?;
    let s = faq::get_public(&db, &tenant, parse_id(&id)?).await?;
    Ok(Json(public_json(&db, &tenant, &s, lang).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    helpful: bool,
}

/// `{"helpful": true|false}`: one vote per entry per client (cookie).
pub async fn feedback(
    State(st): State<GuideState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<FeedbackBody>,
) -> AppResult<Response> {
    kernel::tenant::load(&st.db, &tenant).await?;
    let id = parse_id(&id)?;
    let cookie = record_vote(&st.db, st.session.secure, &headers, &tenant, id, b.helpful).await?;
    let mut resp = Json(json!({"recorded": true})).into_response();
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

// ---------------------------------------------------------------- staff

fn staff_json(s: &StoredFaq) -> Value {
    json!({
        "id": s.id,
        "entry": s.entry,
        "version": s.version,
        "updated_at": kernel::clock::rfc3339_jst(s.updated_at),
        "updated_by": s.updated_by,
        "helpful": s.helpful,
        "not_helpful": s.not_helpful,
    })
}

fn own_tenant(staff: &Staff, tenant: &str) -> AppResult<()> {
    if staff.tenant == tenant {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Every entry of the tenant, knowledge and unpublished ones included.
pub async fn staff_list(
    State(db): State<Db>,
    staff: Staff,
    Path(tenant): Path<String>,
) -> AppResult<Json<Value>> {
    own_tenant(&staff, &tenant)?;
    let items = faq::list(&db, &tenant, Scope::All).await?;
    Ok(Json(
        json!({ "items": items.iter().map(staff_json).collect::<Vec<_>>() }),
    ))
}

pub async fn staff_get(
    State(db): State<Db>,
    staff: Staff,
    Path((tenant, id)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    own_tenant(&staff, &tenant)?;
    let id = parse_id(&id)?;
    let s = faq::get(&db, &tenant, id).await?;
    let mut v = staff_json(&s);
    v["history"] =
        serde_json::to_value(faq::history(&db, &tenant, id).await?).map_err(anyhow::Error::from)?;
    Ok(Json(v))
}

pub async fn staff_create(
    State(st): State<GuideState>,
    staff: DeptAdmin,
    Path(tenant): Path<String>,
    lang: Lang,
    JsonBody(e): JsonBody<FaqEntry>,
) -> AppResult<Response> {
    own_tenant(&staff, &tenant)?;
    staff.require_department(&e.department)?;
    let id = faq::create(&st.db, &tenant, &e, &staff.actor(), lang).await?;
    crate::translations::saved(&st.db, &tenant, id, None, &e).await?;
    st.refresh(&tenant).await;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "version": 1, "url": format!("/t/{tenant}/faq/{id}")})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    /// The version the edit started from.
    version: i64,
    entry: FaqEntry,
}

pub async fn staff_save(
    State(st): State<GuideState>,
    staff: DeptAdmin,
    Path((tenant, id)): Path<(String, String)>,
    lang: Lang,
    JsonBody(b): JsonBody<SaveBody>,
) -> AppResult<Json<Value>> {
    own_tenant(&staff, &tenant)?;
    let id = parse_id(&id)?;
    let existing = faq::get(&st.db, &tenant, id).await?;
    staff.require_department(&existing.entry.department)?;
    staff.require_department(&b.entry.department)?;
    let action = if existing.entry.published && !b.entry.published {
        "faq.unpublish"
    } else {
        "faq.save"
    };
    let version = faq::save(
        &st.db,
        &tenant,
        id,
        &b.entry,
        b.version,
        &staff.actor(),
        action,
        lang,
    )
    .await?;
    crate::translations::saved(&st.db, &tenant, id, Some(&existing.entry), &b.entry).await?;
    st.refresh(&tenant).await;
    Ok(Json(json!({"id": id, "version": version})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreBody {
    /// The version to bring back.
    restore_version: i64,
    /// The version now current (a stale one is a conflict).
    version: i64,
}

pub async fn staff_restore(
    State(st): State<GuideState>,
    staff: DeptAdmin,
    Path((tenant, id)): Path<(String, String)>,
    lang: Lang,
    JsonBody(b): JsonBody<RestoreBody>,
) -> AppResult<Json<Value>> {
    own_tenant(&staff, &tenant)?;
    let id = parse_id(&id)?;
    let existing = faq::get(&st.db, &tenant, id).await?;
    staff.require_department(&existing.entry.department)?;
    let old = faq::get_version(&st.db, &tenant, id, b.restore_version).await?;
    staff.require_department(&old.department)?;
    let version = faq::restore(
        &st.db,
        &tenant,
        id,
        b.restore_version,
        b.version,
        &staff.actor(),
        lang,
    )
    .await?;
    crate::translations::saved(&st.db, &tenant, id, Some(&existing.entry), &old).await?;
    st.refresh(&tenant).await;
    Ok(Json(json!({"id": id, "version": version})))
}
