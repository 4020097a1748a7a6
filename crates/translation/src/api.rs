//! The JSON API of 翻訳の状況: the overview, and the review of one
//! translation (PUT marks it reviewed by the signed-in member of staff,
//! DELETE undoes that), for content editors.

use axum::extract::{Path, Query, State};
use axum::Json;
use kernel::auth::DeptAdmin;
use kernel::{AppError, AppResult};

use crate::overview::{self, Filter, Line, Overview};
use crate::staff_pages::{target, OverviewQuery};
use crate::state::TranslationState;

pub async fn list(
    State(st): State<TranslationState>,
    staff: DeptAdmin,
    Query(q): Query<OverviewQuery>,
) -> AppResult<Json<Overview>> {
    let filter =
        Filter::parse(q.language(), q.state()).map_err(|e| AppError::Validation(vec![e]))?;
    let entries = st.sources.entries(&st.db, &staff.tenant).await?;
    let marks = crate::marks::of_tenant(&st.db, &staff.tenant).await?;
    Ok(Json(overview::build(&entries, &marks, filter)))
}

async fn line_now(
    st: &TranslationState,
    staff: &DeptAdmin,
    entry: &crate::Entry,
    lang: kernel::i18n::Lang,
) -> AppResult<Json<Line>> {
    let marks = crate::marks::of_entry(&st.db, &staff.tenant, entry.kind, &entry.id).await?;
    Ok(Json(overview::line(entry, lang, marks.get(&lang))))
}

pub async fn review(
    State(st): State<TranslationState>,
    staff: DeptAdmin,
    Path((_t, kind, id, lang)): Path<(String, String, String, String)>,
) -> AppResult<Json<Line>> {
    let (entry, lang) = target(&st, &staff, &kind, &id, &lang).await?;
    crate::marks::review(&st.db, &staff, &entry, lang).await?;
    line_now(&st, &staff, &entry, lang).await
}

pub async fn unreview(
    State(st): State<TranslationState>,
    staff: DeptAdmin,
    Path((_t, kind, id, lang)): Path<(String, String, String, String)>,
) -> AppResult<Json<Line>> {
    let (entry, lang) = target(&st, &staff, &kind, &id, &lang).await?;
    crate::marks::unreview(&st.db, &staff, &entry, lang).await?;
    line_now(&st, &staff, &entry, lang).await
}
