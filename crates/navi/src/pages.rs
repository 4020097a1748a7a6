//! 手続ナビ (迷わない窓口): for a life event, a few yes/no questions lead
//! to the resident's own list of procedures: online or at which counter,
//! what to bring, the fee and the deadline. The questions and procedures
//! are the tenant's life-event bundles (the same data the one-stop desk
//! uses), so the desk and the resident see the same list.
//!
//! The answers travel only in the URL (`?has_children=yes&…`): the result
//! can be printed or shared as a link, and nothing about the resident is
//! stored on the server.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use kernel::i18n::{self, Lang, Shown};
use kernel::tenant::{LifeEventBundle, TenantProfile};
use kernel::web::{render, render_status, tenant_page, Page};
use kernel::{AppError, AppResult, FieldError};
use serde_json::{json, Value};

use crate::plan;
use crate::state::NaviState;

/// The answers of a questionnaire as the URL carries them: `yes` or `no`
/// for each question, all required. Other parameters are ignored (`lang`).
pub(crate) fn answers_of(
    bundle: &LifeEventBundle,
    query: &BTreeMap<String, String>,
    lang: Lang,
) -> Result<BTreeMap<String, bool>, Vec<FieldError>> {
    let mut answers = BTreeMap::new();
    let mut errors = Vec::new();
    for q in &bundle.questions {
        match query.get(&q.code).map(|v| v.trim()) {
            Some("yes") => {
                answers.insert(q.code.clone(), true);
            }
            Some("no") => {
                answers.insert(q.code.clone(), false);
            }
            _ => errors.push(FieldError {
                field: q.code.clone(),
                message: i18n::tf(lang, "navi.error.answer", &[("question", q.text.get(lang))]),
            }),
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

fn bundle<'a>(t: &'a TenantProfile, code: &str) -> AppResult<&'a LifeEventBundle> {
    t.life_events
        .iter()
        .find(|b| b.code == code)
        .ok_or(AppError::NotFound("life_event"))
}

/// One procedure of the resident's list.
pub struct Step {
    pub id: String,
    pub name: Shown,
    pub online: bool,
    pub place: Shown,
    pub documents: Vec<Shown>,
    pub fee: String,
    pub deadline: Shown,
    pub note: Shown,
}

pub(crate) async fn steps(
    st: &NaviState,
    t: &TenantProfile,
    b: &LifeEventBundle,
    answers: &BTreeMap<String, bool>,
    lang: Lang,
) -> AppResult<Vec<Step>> {
    let planned = plan::plan(&st.db, &st.cache, t, b, answers).await?;
    Ok(planned
        .iter()
        .map(|p| {
            let proc_ = &p.procedure.procedure;
            let department = t.departments.iter().find(|d| d.code == proc_.department);
            // Department, counter and location: marked as Japanese if any
            // of them is.
            let parts: Vec<Shown> = department
                .map(|d| d.name.shown(lang))
                .into_iter()
                .chain(p.counter.as_ref().map(|c| c.name.shown(lang)))
                .collect();
            let location = department
                .and_then(|d| d.location.as_ref())
                .map(|l| l.shown(lang));
            let mut place = parts
                .iter()
                .map(Shown::as_str)
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(loc) = &location {
                place = format!("{place}（{}）", loc.as_str());
            }
            let fallback = parts.iter().chain(&location).find_map(|s| s.fallback);
            Step {
                id: proc_.id.clone(),
                name: proc_.name.shown(lang),
                online: proc_.channels.online(),
                place: Shown {
                    text: place,
                    fallback,
                },
                documents: proc_.documents.iter().map(|d| d.shown(lang)).collect(),
                fee: proc_.fee_display(),
                deadline: p
                    .deadline
                    .as_ref()
                    .map(|d| d.shown(lang))
                    .unwrap_or_default(),
                note: p.note.as_ref().map(|d| d.shown(lang)).unwrap_or_default(),
            }
        })
        .collect())
}

// ---------------------------------------------------------------- pages

/// Shown on top of the resident pages when a member of staff previews a
/// draft (手続ナビの編集): the draft is not live; publish it from here.
pub(crate) struct PreviewBar {
    /// The questionnaire of the preview (the form's action goes to
    /// `{base}/result`).
    pub base: String,
    pub editor: String,
    pub publish: String,
    pub base_version: i64,
    pub saved_at: i64,
    /// A draft (publishable) rather than the live version shown as is.
    pub is_draft: bool,
}

impl PreviewBar {
    fn questions_url(&self, tenant: &str, code: &str) -> String {
        if self.base.is_empty() {
            format!("/t/{tenant}/navi/{code}")
        } else {
            self.base.clone()
        }
    }
}

/// A life event of the index, linked to its questions.
struct EventLink {
    code: String,
    name: Shown,
    description: Shown,
}

/// A question of the questionnaire and the resident's answer.
struct Answered {
    question: Shown,
    answer: &'static str,
}

#[derive(Template)]
#[template(path = "navi_index.html")]
struct IndexPage {
    page: Page,
    events: Vec<EventLink>,
}

pub async fn index(
    State(st): State<NaviState>,
    Path(tenant): Path<String>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "navi.title"),
        format!("/t/{tenant}/navi"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"));
    Ok(render(&IndexPage {
        events: t
            .life_events
            .iter()
            .map(|b| EventLink {
                code: b.code.clone(),
                name: b.name.shown(lang),
                description: b
                    .description
                    .as_ref()
                    .map(|d| d.shown(lang))
                    .unwrap_or_default(),
            })
            .collect(),
        page,
    }))
}

struct QuestionView {
    code: String,
    text: Shown,
    hint: Shown,
    yes: bool,
    no: bool,
    error: String,
}

#[derive(Template)]
#[template(path = "navi_questions.html")]
struct QuestionsPage {
    page: Page,
    /// Where the answers go (the result page).
    action: String,
    preview: Option<PreviewBar>,
    name: Shown,
    questions: Vec<QuestionView>,
    errors: Vec<FieldError>,
}

pub(crate) fn questions_page(
    t: &TenantProfile,
    b: &LifeEventBundle,
    query: &BTreeMap<String, String>,
    errors: Vec<FieldError>,
    lang: Lang,
    preview: Option<PreviewBar>,
) -> Response {
    let tenant = t.code.as_str();
    let path = match &preview {
        Some(p) => p.questions_url(tenant, &b.code),
        None => format!("/t/{tenant}/navi/{}", b.code),
    };
    let page = tenant_page(lang, t, b.name.get(lang).to_string(), path.clone())
        .crumb(t.name.get(lang), format!("/t/{tenant}"))
        .crumb(i18n::t(lang, "navi.title"), format!("/t/{tenant}/navi"))
        .with_errors(!errors.is_empty());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &QuestionsPage {
            page,
            action: format!("{path}/result"),
            preview,
            name: b.name.shown(lang),
            questions: b
                .questions
                .iter()
                .map(|q| QuestionView {
                    code: q.code.clone(),
                    text: q.text.shown(lang),
                    hint: q.hint.as_ref().map(|h| h.shown(lang)).unwrap_or_default(),
                    yes: query.get(&q.code).map(String::as_str) == Some("yes"),
                    no: query.get(&q.code).map(String::as_str) == Some("no"),
                    error: errors
                        .iter()
                        .find(|e| e.field == q.code)
                        .map(|e| e.message.clone())
                        .unwrap_or_default(),
                })
                .collect(),
            errors,
        },
    )
}

pub async fn questions(
    State(st): State<NaviState>,
    Path((tenant, code)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let b = bundle(&t, &code)?;
    Ok(questions_page(&t, b, &query, Vec::new(), lang, None))
}

#[derive(Template)]
#[template(path = "navi_result.html")]
struct ResultPage {
    page: Page,
    preview: Option<PreviewBar>,
    answered: Vec<Answered>,
    steps: Vec<Step>,
    /// The questions page with these answers, to change them.
    change: String,
}

fn query_string(answers: &BTreeMap<String, bool>) -> String {
    answers
        .iter()
        .map(|(k, v)| format!("{k}={}", if *v { "yes" } else { "no" }))
        .collect::<Vec<_>>()
        .join("&")
}

pub async fn result(
    State(st): State<NaviState>,
    Path((tenant, code)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let b = bundle(&t, &code)?.clone();
    result_page(&st, &t, &b, &query, lang, None).await
}

/// The resident's list for these answers (or the questions again, with
/// what is missing named).
pub(crate) async fn result_page(
    st: &NaviState,
    t: &TenantProfile,
    b: &LifeEventBundle,
    query: &BTreeMap<String, String>,
    lang: Lang,
    preview: Option<PreviewBar>,
) -> AppResult<Response> {
    let tenant = t.code.as_str();
    let answers = match answers_of(b, query, lang) {
        Ok(a) => a,
        Err(errors) => return Ok(questions_page(t, b, query, errors, lang, preview)),
    };
    let steps = steps(st, t, b, &answers, lang).await?;
    let qs = query_string(&answers);
    let questions = match &preview {
        Some(p) => p.questions_url(tenant, &b.code),
        None => format!("/t/{tenant}/navi/{}", b.code),
    };
    let page = tenant_page(
        lang,
        t,
        i18n::tf(lang, "navi.result_title", &[("event", b.name.get(lang))]),
        format!("{questions}/result"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"))
    .crumb(i18n::t(lang, "navi.title"), format!("/t/{tenant}/navi"));
    Ok(render(&ResultPage {
        page,
        preview,
        answered: b
            .questions
            .iter()
            .map(|q| {
                let yes = answers.get(&q.code).copied().unwrap_or(false);
                Answered {
                    question: q.text.shown(lang),
                    answer: i18n::t(lang, if yes { "navi.yes" } else { "navi.no" }),
                }
            })
            .collect(),
        change: format!("{questions}?{qs}"),
        steps,
    }))
}

/// The same as JSON: `GET /api/v1/t/{tenant}/navi/{code}?question=yes|no…`.
pub async fn api(
    State(st): State<NaviState>,
    Path((tenant, code)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    lang: Lang,
) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let b = bundle(&t, &code)?;
    let answers = answers_of(b, &query, lang).map_err(AppError::Validation)?;
    let steps = steps(&st, &t, b, &answers, lang).await?;
    Ok(Json(json!({
        "life_event": b.code,
        "name": b.name.get(lang),
        "answers": answers,
        "procedures": steps.iter().map(|s| json!({
            "id": s.id,
            "name": s.name.text,
            "online": s.online,
            "apply_url": s.online.then(|| format!("/t/{tenant}/procedures/{}/apply", s.id)),
            "place": s.place.text,
            "documents": s.documents.iter().map(|d| &d.text).collect::<Vec<_>>(),
            "fee": s.fee,
            "deadline": s.deadline.text,
            "note": s.note.text,
        })).collect::<Vec<_>>(),
        "share_url": format!("/t/{tenant}/navi/{code}/result?{}", query_string(&answers)),
    })))
}
