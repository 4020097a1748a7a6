//! The staff's pages: 翻訳の状況 (the overview) and the review of one
//! translation (mark reviewed, undo), posted from the overview or an
//! editor. Content editors (所属管理者 and up) only.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::DeptAdmin;
use kernel::i18n::{self, Lang};
use kernel::web::view::Choice;
use kernel::web::{render_status, Page};
use kernel::{AppError, AppResult, FieldError};
use serde::Deserialize;

use crate::model::{Entry, EntryKind, Owner, State as TState, LANGS};
use crate::overview::{self, Count, Filter, Line};
use crate::state::TranslationState;

#[derive(Deserialize, Default)]
pub struct OverviewQuery {
    /// The language to show (not `lang`, which is the page's own language).
    #[serde(default)]
    language: String,
    #[serde(default)]
    state: String,
}

impl OverviewQuery {
    pub fn language(&self) -> &str {
        &self.language
    }
    pub fn state(&self) -> &str {
        &self.state
    }
}

/// One line of the overview's table.
struct Row {
    kind: &'static str,
    title: String,
    edit_url: Option<String>,
    lang: Lang,
    badge: String,
    state: &'static str,
    reviewed: bool,
    has_text: bool,
    action: String,
}

#[derive(Template)]
#[template(path = "staff_translations.html")]
struct OverviewPage {
    page: Page,
    errors: Vec<FieldError>,
    counts: Vec<Count>,
    entries: usize,
    rows: Vec<Row>,
    langs: Vec<Choice>,
    states: Vec<Choice>,
    return_to: String,
}

pub async fn overview(
    State(st): State<TranslationState>,
    staff: DeptAdmin,
    lang: Lang,
    Query(q): Query<OverviewQuery>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let base = format!("/t/{}/staff/translations", staff.tenant);
    let (filter, errors) = match Filter::parse(&q.language, &q.state) {
        Ok(f) => (f, Vec::new()),
        Err(e) => (Filter::default(), vec![e]),
    };
    let entries = st.sources.entries(&st.db, &staff.tenant).await?;
    let marks = crate::marks::of_tenant(&st.db, &staff.tenant).await?;
    let o = overview::build(&entries, &marks, filter);
    let rows = o
        .lines
        .iter()
        .map(|l| row(lang, &staff.tenant, &entries, l))
        .collect();
    let page = kernel::web::staff_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "translation.title"),
        base.clone(),
    )
    .with_errors(!errors.is_empty());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut langs = vec![Choice::new(
        "",
        i18n::t(lang, "translation.filter.all_langs"),
    )];
    langs.extend(LANGS.iter().map(|l| Choice::new(l.code(), l.native_name())));
    let mut states = vec![Choice::new(
        "",
        i18n::t(lang, "translation.filter.all_states"),
    )];
    states.extend(TState::ALL.iter().map(|s| {
        Choice::new(
            s.as_str(),
            i18n::t(lang, &format!("translation.state.{}", s.as_str())),
        )
    }));
    let query = serde_urlencoded::to_string([("language", &q.language), ("state", &q.state)])
        .unwrap_or_default();
    Ok(render_status(
        status,
        &OverviewPage {
            page,
            errors,
            counts: o.counts,
            entries: o.entries,
            rows,
            langs: Choice::select(langs, filter.lang.map(|l| l.code()).unwrap_or_default()),
            states: Choice::select(states, filter.state.map(|s| s.as_str()).unwrap_or_default()),
            return_to: format!("{base}?{query}"),
        },
    ))
}

fn row(lang: Lang, tenant: &str, entries: &[Entry], l: &Line) -> Row {
    let action = entries
        .iter()
        .find(|e| e.kind == l.kind && e.id == l.id)
        .map(|e| crate::view::action_path(tenant, e, l.lang))
        .unwrap_or_default();
    Row {
        kind: i18n::t(lang, &format!("translation.kind.{}", l.kind.as_str())),
        title: l.title.clone(),
        edit_url: l.edit_url.clone(),
        lang: l.lang,
        badge: crate::view::badge(lang, l),
        state: l.state.as_str(),
        reviewed: l.review.is_some(),
        has_text: l.missing_fields < l.fields,
        action,
    }
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    return_to: String,
}

/// Where to go back after a review: a page of the tenant's back office,
/// else the overview (never another site).
fn back_to(tenant: &str, return_to: &str) -> String {
    let prefix = format!("/t/{tenant}/staff/");
    if return_to.starts_with(&prefix)
        && !return_to.contains("//")
        && !return_to.contains('\\')
        && !return_to.chars().any(char::is_control)
    {
        return_to.to_string()
    } else {
        format!("/t/{tenant}/staff/translations")
    }
}

/// The entry and language a review path names, checked against who may
/// review it (the entry's department, like its editor).
pub(crate) async fn target(
    st: &TranslationState,
    staff: &DeptAdmin,
    kind: &str,
    id: &str,
    lang: &str,
) -> AppResult<(Entry, Lang)> {
    let kind = EntryKind::parse(kind).ok_or(AppError::NotFound("translation_entry"))?;
    // Japanese is the source, not a translation.
    let lang = Lang::parse(lang)
        .filter(|l| l.code() == lang && LANGS.contains(l))
        .ok_or(AppError::NotFound("translation_entry"))?;
    let entry = st.sources.find(&st.db, &staff.tenant, kind, id).await?;
    if let Owner::Department(d) = &entry.owner {
        staff.require_department(d)?;
    }
    Ok((entry, lang))
}

pub async fn review(
    State(st): State<TranslationState>,
    staff: DeptAdmin,
    Path((_t, kind, id, lang)): Path<(String, String, String, String)>,
    Form(f): Form<ReviewForm>,
) -> AppResult<Response> {
    let (entry, lang) = target(&st, &staff, &kind, &id, &lang).await?;
    crate::marks::review(&st.db, &staff, &entry, lang).await?;
    Ok(Redirect::to(&back_to(&staff.tenant, &f.return_to)).into_response())
}

pub async fn unreview(
    State(st): State<TranslationState>,
    staff: DeptAdmin,
    Path((_t, kind, id, lang)): Path<(String, String, String, String)>,
    Form(f): Form<ReviewForm>,
) -> AppResult<Response> {
    let (entry, lang) = target(&st, &staff, &kind, &id, &lang).await?;
    crate::marks::unreview(&st.db, &staff, &entry, lang).await?;
    Ok(Redirect::to(&back_to(&staff.tenant, &f.return_to)).into_response())
}

#[cfg(test)]
mod tests {
    use super::back_to;

    #[test]
    fn returns_only_to_the_tenants_back_office() {
        let over = "/t/122289/staff/translations";
        assert_eq!(
            back_to("122289", "/t/122289/staff/catalogue/x"),
            "/t/122289/staff/catalogue/x"
        );
        assert_eq!(back_to("122289", "https://evil.example/"), over);
        assert_eq!(back_to("122289", "/t/242021/staff/faq"), over);
        assert_eq!(back_to("122289", "/t/122289/staff//evil"), over);
    }
}
