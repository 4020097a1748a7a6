//! The search's HTTP surface: the resident page and API, and the staff
//! page for synonyms and the queries that found nothing.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{FromRef, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use kernel::auth::{DeptAdmin, Staff};
use kernel::i18n::{self, Lang};
use kernel::tenant::TenantProfile;
use kernel::web::{render_status, tenant_page, FormErrors, Page};
use kernel::{AppError, AppResult, Db, FieldError};
use serde_json::{json, Value};

use crate::{misses, synonyms, Audience, DocKind, Search, SearchQuery, SearchResults};

#[derive(Clone, FromRef)]
pub struct SearchState {
    pub db: Db,
    pub search: Search,
    pub session: kernel::auth::SessionPolicy,
}

pub fn router(state: SearchState) -> Router {
    Router::new()
        .route("/t/{tenant}/search", get(page))
        .route("/api/v1/t/{tenant}/search", get(api))
        .route("/t/{tenant}/staff/search", get(staff_page))
        .route("/t/{tenant}/staff/search/synonyms", post(synonym_create))
        .route("/t/{tenant}/staff/search/synonyms/undo", post(synonym_undo))
        .route(
            "/t/{tenant}/staff/search/synonyms/{id}",
            post(synonym_update),
        )
        .route(
            "/t/{tenant}/staff/search/misses/dismiss",
            post(miss_dismiss),
        )
        .route(
            "/api/v1/t/{tenant}/staff/search/synonyms",
            get(api_synonyms).post(api_synonym_create),
        )
        .route(
            "/api/v1/t/{tenant}/staff/search/synonyms/{id}",
            axum::routing::put(api_synonym_update).delete(api_synonym_delete),
        )
        .route("/api/v1/t/{tenant}/staff/search/misses", get(api_misses))
        .with_state(state)
}

const PAGE_SIZE: usize = 20;
const MAX_PAGE: usize = 50;

/// What the query string asked for, checked; errors name the field.
struct Asked {
    query: SearchQuery,
    page: usize,
}

fn parse(
    t: &TenantProfile,
    raw: &BTreeMap<String, String>,
    lang: Lang,
    audience: Audience,
) -> Result<Asked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let err = |field: &str, key: &str| FieldError {
        field: field.into(),
        message: i18n::t(lang, key).into(),
    };
    let text = match crate::parse_query_text(raw.get("q").map(String::as_str).unwrap_or("")) {
        Ok(t) => t,
        Err(key) => {
            errors.push(err("q", key));
            String::new()
        }
    };
    let department = raw.get("department").filter(|d| !d.is_empty()).cloned();
    if let Some(d) = &department {
        if t.department(d).is_none() {
            errors.push(err("department", "search.error.department"));
        }
    }
    let life_event = raw.get("life_event").filter(|d| !d.is_empty()).cloned();
    if let Some(e) = &life_event {
        if t.life_event(e).is_none() {
            errors.push(err("life_event", "search.error.life_event"));
        }
    }
    let mut kinds = Vec::new();
    if let Some(k) = raw.get("kind").filter(|k| !k.is_empty()) {
        match DocKind::parse(k) {
            Some(DocKind::Knowledge) if audience == Audience::Public => {
                errors.push(err("kind", "search.error.kind"))
            }
            Some(k) => kinds.push(k),
            None => errors.push(err("kind", "search.error.kind")),
        }
    }
    let page = match raw.get("page").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                errors.push(err("page", "search.error.page"));
                1
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Asked {
        query: SearchQuery {
            text,
            lang,
            audience,
            kinds,
            department,
            life_event,
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
        },
        page,
    })
}

/// Runs a resident's query; one that found nothing, or whose first page
/// matched too little of it, is logged for staff (on its first page,
/// without facet filters; `channel`: where it was typed).
async fn run_logged(
    st: &SearchState,
    tenant: &str,
    q: &SearchQuery,
    channel: &str,
) -> AppResult<SearchResults> {
    let r = st.search.query(tenant, q).await?;
    if q.offset == 0 && q.department.is_none() && q.life_event.is_none() {
        if let Some(reason) = r.miss() {
            misses::record_miss(&st.db, tenant, &q.text, channel, reason).await?;
        }
    }
    Ok(r)
}

// ------------------------------------------------------------- resident

struct HitView {
    kind: &'static str,
    title: i18n::Shown,
    url: String,
    snippet: String,
    department: String,
}

struct Facet {
    label: String,
    count: usize,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    page: Page,
    q: String,
    errors: FormErrors,
    searched: bool,
    total: usize,
    hits: Vec<HitView>,
    departments: Vec<Facet>,
    life_events: Vec<Facet>,
    /// Link that drops the facet filters.
    clear_filters: Option<String>,
    expanded: Vec<String>,
    prev: Option<String>,
    next: Option<String>,
    contact: String,
}

fn href(tenant: &str, q: &SearchQuery, page: usize, lang: Lang) -> String {
    let mut pairs: Vec<(&str, String)> = vec![("q", q.text.clone())];
    if let Some(d) = &q.department {
        pairs.push(("department", d.clone()));
    }
    if let Some(e) = &q.life_event {
        pairs.push(("life_event", e.clone()));
    }
    if let Some(k) = q.kinds.first() {
        pairs.push(("kind", k.code().into()));
    }
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    pairs.push(("lang", lang.code().into()));
    let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("/t/{tenant}/search?{qs}")
}

fn kind_label(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Procedure => "search.kind.procedure",
        DocKind::Faq => "search.kind.faq",
        DocKind::Navi => "search.kind.navi",
        DocKind::Knowledge => "search.kind.knowledge",
    }
}

fn department_name(t: &TenantProfile, code: &str, lang: Lang) -> String {
    t.department(code)
        .map(|d| d.name.get(lang).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn life_event_name(t: &TenantProfile, code: &str, lang: Lang) -> String {
    t.life_event(code)
        .map(|b| b.name.get(lang).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub async fn page(
    State(st): State<SearchState>,
    Path(tenant): Path<String>,
    Query(raw): Query<BTreeMap<String, String>>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let q_raw = raw.get("q").cloned().unwrap_or_default();
    let page_frame = |errors: bool| {
        tenant_page(
            lang,
            &t,
            i18n::t(lang, "search.title"),
            format!("/t/{tenant}/search"),
        )
        .crumb(t.name.get(lang), format!("/t/{tenant}"))
        .with_errors(errors)
    };
    let contact = match &t.phone {
        Some(phone) => i18n::tf(
            lang,
            "search.contact",
            &[("tenant", t.name.get(lang)), ("phone", phone.as_str())],
        ),
        None => i18n::tf(
            lang,
            "search.contact_no_phone",
            &[("tenant", t.name.get(lang))],
        ),
    };
    let mut view = SearchPage {
        page: page_frame(false),
        q: q_raw.chars().take(crate::MAX_QUERY_CHARS * 2).collect(),
        errors: FormErrors::default(),
        searched: false,
        total: 0,
        hits: Vec::new(),
        departments: Vec::new(),
        life_events: Vec::new(),
        clear_filters: None,
        expanded: Vec::new(),
        prev: None,
        next: None,
        contact,
    };
    // First visit: the empty form, no error.
    if !raw.contains_key("q") {
        return Ok(render_status(view.errors.status(), &view));
    }
    let asked = match parse(&t, &raw, lang, Audience::Public) {
        Ok(a) => a,
        Err(errors) => {
            view.page = page_frame(true);
            view.errors = FormErrors(errors);
            return Ok(render_status(view.errors.status(), &view));
        }
    };
    let r = run_logged(&st, &tenant, &asked.query, "search").await?;
    fill(&mut view, &t, &asked, r, lang);
    Ok(render_status(view.errors.status(), &view))
}

fn fill(view: &mut SearchPage, t: &TenantProfile, asked: &Asked, r: SearchResults, lang: Lang) {
    let tenant = t.code.as_str();
    let q = &asked.query;
    view.searched = true;
    view.total = r.total;
    view.hits = r
        .hits
        .into_iter()
        .map(|h| HitView {
            kind: i18n::t(lang, kind_label(h.kind)),
            title: h.title.shown(lang),
            url: kernel::web::with_lang(&h.url, lang),
            snippet: h.snippet,
            department: h
                .department
                .as_deref()
                .map(|d| department_name(t, d, lang))
                .unwrap_or_default(),
        })
        .collect();
    view.departments = r
        .departments
        .iter()
        .map(|(code, count)| Facet {
            label: department_name(t, code, lang),
            count: *count,
            current: q.department.as_deref() == Some(code),
            href: href(
                tenant,
                &SearchQuery {
                    department: Some(code.clone()),
                    ..q.clone()
                },
                1,
                lang,
            ),
        })
        .collect();
    view.life_events = r
        .life_events
        .iter()
        .map(|(code, count)| Facet {
            label: life_event_name(t, code, lang),
            count: *count,
            current: q.life_event.as_deref() == Some(code),
            href: href(
                tenant,
                &SearchQuery {
                    life_event: Some(code.clone()),
                    ..q.clone()
                },
                1,
                lang,
            ),
        })
        .collect();
    if q.department.is_some() || q.life_event.is_some() || !q.kinds.is_empty() {
        view.clear_filters = Some(href(
            tenant,
            &SearchQuery {
                department: None,
                life_event: None,
                kinds: Vec::new(),
                ..q.clone()
            },
            1,
            lang,
        ));
    }
    view.expanded = r.expanded;
    if asked.page > 1 {
        view.prev = Some(href(tenant, q, asked.page - 1, lang));
    }
    if asked.page * PAGE_SIZE < r.total && asked.page < MAX_PAGE {
        view.next = Some(href(tenant, q, asked.page + 1, lang));
    }
}

/// `GET /api/v1/t/{tenant}/search?q=…&department=…&life_event=…&kind=…&page=…`
pub async fn api(
    State(st): State<SearchState>,
    Path(tenant): Path<String>,
    Query(raw): Query<BTreeMap<String, String>>,
    lang: Lang,
) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let asked = parse(&t, &raw, lang, Audience::Public).map_err(AppError::Validation)?;
    let r = run_logged(&st, &tenant, &asked.query, "api").await?;
    Ok(Json(json!({
        "query": asked.query.text,
        "page": asked.page,
        "total": r.total,
        "hits": r.hits.iter().map(|h| json!({
            "id": h.id,
            "kind": h.kind,
            "title": h.title.get(lang),
            "snippet": h.snippet,
            "url": h.url,
            "department": h.department,
            "score": h.score,
        })).collect::<Vec<_>>(),
        "facets": {
            "departments": r.departments.iter().map(|(code, count)| json!({
                "code": code, "name": department_name(&t, code, lang), "count": count,
            })).collect::<Vec<_>>(),
            "life_events": r.life_events.iter().map(|(code, count)| json!({
                "code": code, "name": life_event_name(&t, code, lang), "count": count,
            })).collect::<Vec<_>>(),
        },
        "expanded": r.expanded,
    })))
}

// ---------------------------------------------------------------- staff

struct GroupView {
    id: String,
    terms: String,
    updated: String,
    error: String,
}

struct MissView {
    sample: String,
    folded: String,
    count: i64,
    channel: String,
    reason: String,
    last: String,
}

#[derive(Template)]
#[template(path = "staff_search.html")]
struct StaffSearchPage {
    page: Page,
    misses: Vec<MissView>,
    groups: Vec<GroupView>,
    new_terms: String,
    /// The error of the new-group form (not of an existing group's).
    new_error: String,
    errors: FormErrors,
    notice: String,
    indexed: usize,
}

/// Where a query that found nothing was typed, for staff.
fn channel_label(channel: &str) -> &'static str {
    match channel {
        "chat" => "search.staff.channel_chat",
        "api" => "search.staff.channel_api",
        _ => "search.staff.channel_search",
    }
}

fn when(ms: i64) -> String {
    kernel::clock::format_jst(ms)
}

async fn staff_view(
    st: &SearchState,
    staff: &Staff,
    lang: Lang,
    errors: FormErrors,
    new_terms: String,
    failed: Option<(&str, String)>,
    notice: &str,
) -> AppResult<Response> {
    let tenant = staff.tenant.as_str();
    let t = kernel::tenant::load(&st.db, tenant).await?;
    let groups = synonyms::list(&st.db, tenant).await?;
    let misses = misses::ranked(&st.db, tenant, 100).await?;
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "search.staff.title"),
        format!("/t/{tenant}/staff/search"),
    )
    .for_staff(staff)
    .with_errors(!errors.is_empty());
    let view = StaffSearchPage {
        page,
        misses: misses
            .into_iter()
            .map(|m| MissView {
                sample: m.sample,
                folded: m.folded,
                count: m.count,
                channel: i18n::t(lang, channel_label(&m.channel)).to_string(),
                reason: i18n::t(lang, m.reason.label()).to_string(),
                last: when(m.last_at),
            })
            .collect(),
        groups: groups
            .into_iter()
            .map(|g| {
                let (terms, error) = match &failed {
                    Some((id, typed)) if *id == g.id => {
                        (typed.clone(), errors.get("terms").to_string())
                    }
                    _ => (g.terms.join("\n"), String::new()),
                };
                GroupView {
                    id: g.id,
                    terms,
                    updated: when(g.updated_at),
                    error,
                }
            })
            .collect(),
        new_terms,
        new_error: if failed.is_none() {
            errors.get("terms").to_string()
        } else {
            String::new()
        },
        errors,
        notice: if notice.is_empty() {
            String::new()
        } else {
            i18n::t(lang, notice).to_string()
        },
        indexed: st.search.size(tenant).await?,
    };
    Ok(render_status(view.errors.status(), &view))
}

#[derive(serde::Deserialize)]
pub struct Notice {
    #[serde(default)]
    done: String,
}

pub async fn staff_page(
    State(st): State<SearchState>,
    staff: DeptAdmin,
    lang: Lang,
    Query(n): Query<Notice>,
) -> AppResult<Response> {
    let key = match n.done.as_str() {
        "saved" => "search.staff.saved",
        "deleted" => "search.staff.deleted",
        "undone" => "search.staff.undone",
        "nothing" => "search.staff.nothing_to_undo",
        "dismissed" => "search.staff.dismissed",
        _ => "",
    };
    staff_view(
        &st,
        &staff,
        lang,
        FormErrors::default(),
        String::new(),
        None,
        key,
    )
    .await
}

#[derive(serde::Deserialize)]
pub struct TermsForm {
    #[serde(default)]
    terms: String,
    #[serde(default)]
    action: String,
}

fn back(tenant: &str, done: &str) -> Response {
    Redirect::to(&format!("/t/{tenant}/staff/search?done={done}#synonyms")).into_response()
}

pub async fn synonym_create(
    State(st): State<SearchState>,
    staff: DeptAdmin,
    lang: Lang,
    Form(f): Form<TermsForm>,
) -> AppResult<Response> {
    let tenant = staff.tenant.clone();
    match synonyms::parse_terms(&f.terms) {
        Err(e) => staff_view(&st, &staff, lang, FormErrors(vec![e]), f.terms, None, "").await,
        Ok(terms) => match synonyms::save(&st.db, &tenant, None, &terms, &staff.actor()).await {
            Err(AppError::Validation(e)) => {
                staff_view(&st, &staff, lang, FormErrors(e), f.terms, None, "").await
            }
            Err(e) => Err(e),
            Ok(_) => {
                st.search.refresh_quietly(&tenant).await;
                Ok(back(&tenant, "saved"))
            }
        },
    }
}

pub async fn synonym_update(
    State(st): State<SearchState>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(f): Form<TermsForm>,
) -> AppResult<Response> {
    let tenant = staff.tenant.clone();
    if f.action == "delete" {
        synonyms::delete(&st.db, &tenant, &id, &staff.actor()).await?;
        st.search.refresh_quietly(&tenant).await;
        return Ok(back(&tenant, "deleted"));
    }
    match synonyms::parse_terms(&f.terms) {
        Err(mut e) => {
            e.field = "terms".into();
            let typed = f.terms.clone();
            staff_view(
                &st,
                &staff,
                lang,
                FormErrors(vec![e]),
                String::new(),
                Some((&id, typed)),
                "",
            )
            .await
        }
        Ok(terms) => {
            synonyms::save(&st.db, &tenant, Some(&id), &terms, &staff.actor()).await?;
            st.search.refresh_quietly(&tenant).await;
            Ok(back(&tenant, "saved"))
        }
    }
}

pub async fn synonym_undo(State(st): State<SearchState>, staff: DeptAdmin) -> AppResult<Response> {
    let tenant = staff.tenant.clone();
    let done = match synonyms::undo(&st.db, &tenant, &staff.actor()).await? {
        Some(_) => "undone",
        None => "nothing",
    };
    st.search.refresh_quietly(&tenant).await;
    Ok(back(&tenant, done))
}

#[derive(serde::Deserialize)]
pub struct DismissForm {
    #[serde(default)]
    folded: String,
}

pub async fn miss_dismiss(
    State(st): State<SearchState>,
    staff: DeptAdmin,
    Form(f): Form<DismissForm>,
) -> AppResult<Response> {
    if !misses::dismiss(&st.db, &staff.tenant, &f.folded, &staff.actor()).await? {
        return Err(AppError::NotFound("search_miss"));
    }
    Ok(Redirect::to(&format!(
        "/t/{}/staff/search?done=dismissed#misses",
        staff.tenant
    ))
    .into_response())
}

// ------------------------------------------------------------ staff API

pub async fn api_synonyms(
    State(st): State<SearchState>,
    staff: DeptAdmin,
) -> AppResult<Json<Value>> {
    Ok(Json(
        json!({ "groups": synonyms::list(&st.db, &staff.tenant).await? }),
    ))
}

#[derive(serde::Deserialize)]
pub struct TermsBody {
    terms: Vec<String>,
}

fn terms_of(body: &TermsBody) -> AppResult<Vec<String>> {
    synonyms::parse_terms(&body.terms.join("\n")).map_err(|e| AppError::Validation(vec![e]))
}

pub async fn api_synonym_create(
    State(st): State<SearchState>,
    staff: DeptAdmin,
    Json(body): Json<TermsBody>,
) -> AppResult<Response> {
    let terms = terms_of(&body)?;
    let id = synonyms::save(&st.db, &staff.tenant, None, &terms, &staff.actor()).await?;
    st.search.refresh_quietly(&staff.tenant).await;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({ "id": id, "terms": terms })),
    )
        .into_response())
}

pub async fn api_synonym_update(
    State(st): State<SearchState>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    Json(body): Json<TermsBody>,
) -> AppResult<Json<Value>> {
    let terms = terms_of(&body)?;
    synonyms::save(&st.db, &staff.tenant, Some(&id), &terms, &staff.actor()).await?;
    st.search.refresh_quietly(&staff.tenant).await;
    Ok(Json(json!({ "id": id, "terms": terms })))
}

pub async fn api_synonym_delete(
    State(st): State<SearchState>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<axum::http::StatusCode> {
    synonyms::delete(&st.db, &staff.tenant, &id, &staff.actor()).await?;
    st.search.refresh_quietly(&staff.tenant).await;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

pub async fn api_misses(State(st): State<SearchState>, staff: DeptAdmin) -> AppResult<Json<Value>> {
    Ok(Json(
        json!({ "misses": misses::ranked(&st.db, &staff.tenant, 500).await? }),
    ))
}
