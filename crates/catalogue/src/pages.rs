//! Resident pages of the catalogue (server-rendered, no JavaScript
//! needed): the municipality's home page, the procedure list with its
//! filters and search, and one procedure's page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kernel::i18n::{self, Lang, Shown};
use kernel::web::Choice;
use kernel::web::{render, tenant_page, Page};
use kernel::{AppResult, Db};
use serde::Deserialize;

use crate::model::{StoredProcedure, LIFE_EVENTS};
use crate::store;
use crate::view::{self, ProcedureCard};

// ------------------------------------------------------------ portal

#[derive(Template)]
#[template(path = "tenant_home.html")]
struct TenantHome {
    page: Page,
    events: Vec<Choice>,
    online: Vec<ProcedureCard>,
    total: usize,
    online_total: usize,
}

pub async fn tenant_home(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let items = store::list(&db, &tenant).await?;
    let cards = view::cards(&items, &t, lang);
    let online_total = cards.iter().filter(|c| c.online).count();
    let page = tenant_page(
        lang,
        &t,
        t.name.get(lang).to_string(),
        format!("/t/{tenant}"),
    );
    Ok(render(&TenantHome {
        events: LIFE_EVENTS
            .iter()
            .filter(|e| {
                items
                    .iter()
                    .any(|p| p.procedure.life_events.iter().any(|x| x == *e))
            })
            .map(|e| Choice::new(*e, i18n::t(lang, &format!("life_event.{e}"))))
            .collect(),
        total: cards.len(),
        online_total,
        online: cards.into_iter().filter(|c| c.online).take(8).collect(),
        page,
    }))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    event: Option<String>,
    department: Option<String>,
    online: Option<String>,
}

#[derive(Template)]
#[template(path = "procedure_list.html")]
struct ProcedureList {
    page: Page,
    items: Vec<ProcedureCard>,
    q: String,
    online_only: bool,
    events: Vec<Choice>,
    departments: Vec<Choice>,
}

/// Folds width and kana so a search matches however it was typed.
fn fold_for_search(s: &str) -> String {
    jp::hiragana_to_katakana(&jp::fold_width(&jp::nfc(s))).to_lowercase()
}

pub async fn procedure_list(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    Path(tenant): Path<String>,
    Query(q): Query<ListQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let items = store::list(&db, &tenant).await?;
    let query =
        q.q.as_deref()
            .unwrap_or("")
            .trim()
            .chars()
            .take(100)
            .collect::<String>();
    let needle = fold_for_search(&query);
    let event = q.event.unwrap_or_default();
    let department = q.department.unwrap_or_default();
    let online_only = q.online.as_deref() == Some("1");
    // Words go through the site search (readings, synonyms, typos), in its
    // order of relevance; without the search, a folded substring match.
    let ranked = ranked_ids(&cache, &tenant, &query, lang).await?;
    let mut filtered: Vec<StoredProcedure> = items
        .into_iter()
        .filter(|s| {
            let p = &s.procedure;
            (event.is_empty() || p.life_events.contains(&event))
                && (department.is_empty() || p.department == department)
                && (!online_only || p.channels.online())
                && (needle.is_empty() || matches(p, &needle, ranked.as_deref(), lang))
        })
        .collect();
    if let Some(ids) = &ranked {
        filtered.sort_by_key(|s| ids.iter().position(|i| *i == s.procedure.id));
    }
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "procedure.list_title"),
        format!("/t/{tenant}/procedures"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"));
    Ok(render(&ProcedureList {
        items: view::cards(&filtered, &t, lang),
        q: query,
        events: Choice::select(
            LIFE_EVENTS
                .iter()
                .map(|e| Choice::new(*e, i18n::t(lang, &format!("life_event.{e}"))))
                .collect(),
            &event,
        ),
        departments: Choice::select(
            t.departments
                .iter()
                .map(|d| Choice::new(&d.code, d.name.shown(lang).label()))
                .collect(),
            &department,
        ),
        online_only,
        page,
    }))
}

/// The procedures the site search finds for the words, best first; `None`
/// when there is no search or the words are not a query it takes.
async fn ranked_ids(
    cache: &store::Cache,
    tenant: &str,
    query: &str,
    lang: Lang,
) -> AppResult<Option<Vec<String>>> {
    let (Some(s), Ok(text)) = (cache.search(), search::parse_query_text(query)) else {
        return Ok(None);
    };
    let q = search::SearchQuery {
        text,
        lang,
        kinds: vec![search::DocKind::Procedure],
        limit: 1000,
        ..Default::default()
    };
    Ok(Some(
        s.query(tenant, &q)
            .await?
            .hits
            .into_iter()
            .filter_map(|h| h.id.strip_prefix("procedure:").map(str::to_string))
            .collect(),
    ))
}

fn matches(p: &crate::Procedure, needle: &str, ranked: Option<&[String]>, lang: Lang) -> bool {
    match ranked {
        Some(ids) => ids.contains(&p.id),
        None => fold_for_search(&format!(
            "{} {} {}",
            p.name.ja(),
            p.name.get(lang),
            p.description.get(lang)
        ))
        .contains(needle),
    }
}

#[derive(Template)]
#[template(path = "procedure_detail.html")]
struct ProcedureDetail {
    page: Page,
    p: ProcedureCard,
    documents: Vec<Shown>,
    processing_time: Shown,
    legal_basis: String,
    department_phone: String,
    department_location: Shown,
}

pub async fn procedure_detail(
    State(db): State<Db>,
    Path((tenant, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let s = store::get(&db, &tenant, &id).await?;
    let p = &s.procedure;
    let dept = t.department(&p.department);
    let page = tenant_page(
        lang,
        &t,
        p.name.get(lang),
        format!("/t/{tenant}/procedures/{id}"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"))
    .crumb(
        i18n::t(lang, "procedure.list_title"),
        format!("/t/{tenant}/procedures"),
    );
    Ok(render(&ProcedureDetail {
        p: view::card(
            p,
            dept.map(|d| d.name.shown(lang)).unwrap_or_default(),
            lang,
        ),
        documents: p.documents.iter().map(|d| d.shown(lang)).collect(),
        processing_time: p.processing_time.shown(lang),
        legal_basis: p.legal_basis.clone(),
        department_phone: dept.and_then(|d| d.phone.clone()).unwrap_or_default(),
        department_location: dept
            .and_then(|d| d.location.as_ref())
            .map(|l| l.shown(lang))
            .unwrap_or_default(),
        page,
    }))
}
