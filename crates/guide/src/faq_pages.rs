//! The residents' FAQ: the list by category, one answer with its related
//! procedures, and "was this helpful" (a plain form: no JavaScript needed).
//! Only published public entries are ever shown here.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::i18n::{self, Lang};
use kernel::tenant::TenantProfile;
use kernel::web::{render_status, tenant_page, Page};
use kernel::{AppResult, Db};

use crate::faq::{self, Scope, StoredFaq};
use crate::feedback::record_vote;
use crate::state::GuideState;
use crate::view::{category_label, localize, paragraphs, Localized};
use crate::view::{group, parse_id, related, CategoryGroup, RelatedProcedure};

#[derive(Template)]
#[template(path = "faq_index.html")]
struct IndexPage {
    page: Page,
    groups: Vec<CategoryGroup>,
}

pub async fn index(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let items = faq::list(&db, &tenant, Scope::Public).await?;
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "faq.title"),
        format!("/t/{tenant}/faq"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"));
    Ok(render_status(
        StatusCode::OK,
        &IndexPage {
            groups: group(&items, lang),
            page,
        },
    ))
}

#[derive(Template)]
#[template(path = "faq_entry.html")]
struct EntryPage {
    page: Page,
    id: i64,
    category: &'static str,
    question: Localized,
    answer: Localized,
    paragraphs: Vec<Vec<String>>,
    procedures: Vec<RelatedProcedure>,
    updated: String,
    /// After a vote: thanks.
    voted: bool,
    /// A feedback form sent without a choice.
    feedback_error: String,
}

#[derive(serde::Deserialize, Default)]
pub struct EntryQuery {
    voted: Option<String>,
}

async fn entry_page(
    db: &Db,
    t: &TenantProfile,
    s: &StoredFaq,
    lang: Lang,
    voted: bool,
    feedback_error: String,
) -> AppResult<Response> {
    let tenant = t.code.as_str();
    let question = localize(&s.entry.question, lang);
    let answer = localize(&s.entry.answer, lang);
    let page = tenant_page(
        lang,
        t,
        question.text.clone(),
        format!("/t/{tenant}/faq/{}", s.id),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"))
    .crumb(i18n::t(lang, "faq.title"), format!("/t/{tenant}/faq"))
    .with_errors(!feedback_error.is_empty());
    let status = if feedback_error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render_status(
        status,
        &EntryPage {
            id: s.id,
            category: category_label(lang, &s.entry.category),
            paragraphs: paragraphs(&answer.text),
            question,
            answer,
            procedures: related(db, tenant, &s.entry.procedures, lang).await?,
            updated: kernel::clock::format_in(lang, s.updated_at),
            voted,
            feedback_error,
            page,
        },
    ))
}

pub async fn entry(
    State(db): State<Db>,
    Path((tenant, id)): Path<(String, String)>,
    Query(q): Query<EntryQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let s = faq::get_public(&db, &tenant, parse_id(&id)?).await?;
    entry_page(&db, &t, &s, lang, q.voted.is_some(), String::new()).await
}

#[derive(serde::Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    helpful: String,
}

pub async fn feedback(
    State(st): State<GuideState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
    Form(f): Form<FeedbackForm>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let id = parse_id(&id)?;
    let helpful = match f.helpful.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            let s = faq::get_public(&st.db, &tenant, id).await?;
            let message = i18n::t(lang, "faq.feedback.choose").to_string();
            return entry_page(&st.db, &t, &s, lang, false, message).await;
        }
    };
    let cookie = record_vote(&st.db, st.session.secure, &headers, &tenant, id, helpful).await?;
    let mut resp = Redirect::to(&format!("/t/{tenant}/faq/{id}?voted=1#feedback")).into_response();
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}
