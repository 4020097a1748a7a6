//! The one-stop desk's pages (回らない窓口): the intake of a life-event
//! visit (choose the event, answer its questions, find or name the
//! resident, check an identity document once), the server-rendered review
//! before anything is written, the visit with each department's progress,
//! the list of recent visits and the routing sheet (案内票) as PDF. No
//! JavaScript is needed anywhere.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::{CaseWorker, Clerk, Staff};
use kernel::i18n::{self, Lang};
use kernel::registry::{RegistryQuery, ResidentRecord};
use kernel::tenant::{LifeEventBundle, TenantProfile};
use kernel::web::HiddenField;
use kernel::web::{render_status, tenant_page, FormErrors, Page};
use kernel::{AppError, AppResult, Db, FieldError};
use serde::Deserialize;

use crate::state::DeskState;
use crate::visits::{self, ItemView, Names, VisitInput};
use cases::visits::IdDocument;

/// A page under the visit list (the list in its breadcrumbs).
fn visit_page(
    lang: Lang,
    t: &TenantProfile,
    staff: &Staff,
    title: impl Into<String>,
    path: impl Into<String>,
) -> Page {
    kernel::web::staff_page(lang, t, staff, title, path).crumb(
        i18n::t(lang, "visit.title_list"),
        format!("/t/{}/staff/visits", t.code),
    )
}

// ---------------------------------------------------------------- intake

/// What the intake form holds, as typed (kept across the review and
/// shown again with errors).
#[derive(Clone, Debug, Default)]
struct FormState {
    key: String,
    life_event: String,
    answers: HashMap<String, String>,
    registry_id: String,
    name: String,
    kana: String,
    document: String,
    note: String,
    search: RegistryQuery,
}

impl FormState {
    fn from_form(f: &HashMap<String, String>) -> Self {
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        FormState {
            key: get("key"),
            life_event: get("life_event"),
            answers: f
                .iter()
                .filter_map(|(k, v)| k.strip_prefix("q_").map(|q| (q.to_string(), v.clone())))
                .collect(),
            registry_id: get("registry_id"),
            name: get("name"),
            kana: get("kana"),
            document: get("document"),
            note: get("note"),
            search: RegistryQuery {
                name: get("search_name"),
                kana: get("search_kana"),
                birth_date: get("search_birth_date"),
            },
        }
    }

    fn input(&self) -> VisitInput {
        VisitInput {
            life_event: self.life_event.clone(),
            answers: self
                .answers
                .iter()
                .map(|(q, v)| {
                    let a = match v.as_str() {
                        "yes" => Some(true),
                        "no" => Some(false),
                        _ => None,
                    };
                    (q.clone(), a)
                })
                .collect(),
            registry_id: self.registry_id.clone(),
            name: self.name.clone(),
            kana: self.kana.clone(),
            document: self.document.clone(),
            note: self.note.clone(),
        }
    }

    /// Every value as hidden fields, to carry through the review.
    fn hidden(&self) -> Vec<HiddenField> {
        let mut v = vec![
            HiddenField::new("key", &self.key),
            HiddenField::new("life_event", &self.life_event),
            HiddenField::new("registry_id", &self.registry_id),
            HiddenField::new("name", &self.name),
            HiddenField::new("kana", &self.kana),
            HiddenField::new("document", &self.document),
            HiddenField::new("note", &self.note),
            HiddenField::new("search_name", &self.search.name),
            HiddenField::new("search_kana", &self.search.kana),
            HiddenField::new("search_birth_date", &self.search.birth_date),
        ];
        let mut answers: Vec<_> = self.answers.iter().collect();
        answers.sort();
        v.extend(
            answers
                .into_iter()
                .map(|(q, a)| HiddenField::new(format!("q_{q}"), a)),
        );
        v
    }
}

struct Choice {
    value: String,
    label: String,
    hint: String,
    checked: bool,
}

struct QuestionView {
    code: String,
    text: String,
    hint: String,
    yes: bool,
    no: bool,
    error: String,
}

struct ResultView {
    id: String,
    label: String,
    detail: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "staff_visit_new.html")]
struct NewVisitPage {
    page: Page,
    errors: FormErrors,
    /// No life event chosen yet: the chooser.
    bundles: Vec<Choice>,
    life_event: String,
    questions: Vec<QuestionView>,
    searched: bool,
    search: RegistryQuery,
    results: Vec<ResultView>,
    typed_checked: bool,
    name: String,
    kana: String,
    documents: Vec<Choice>,
    note: String,
    key: String,
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    life_event: String,
    #[serde(default)]
    search_name: String,
    #[serde(default)]
    search_kana: String,
    #[serde(default)]
    search_birth_date: String,
}

async fn intake_page(
    st: &DeskState,
    staff: &Clerk,
    lang: Lang,
    state: &FormState,
    errors: FormErrors,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let status = errors.status();
    let bundle = t.life_event(state.life_event.trim());
    let title = match bundle {
        Some(b) => i18n::tf(
            lang,
            "visit.title_new_event",
            &[("life_event", b.name.get(lang))],
        ),
        None => i18n::t(lang, "visit.title_new").to_string(),
    };
    let page = visit_page(
        lang,
        &t,
        staff,
        title,
        format!("/t/{}/staff/visits/new", t.code),
    )
    .with_errors(!errors.is_empty());
    let Some(bundle) = bundle else {
        return Ok(render_status(
            status,
            &chooser(page, &t, lang, &state.life_event, errors),
        ));
    };
    let results = crate::register::search(
        &st.db,
        st.registry.0.as_ref(),
        staff,
        &state.search,
        "visit",
        lang,
    )
    .await?;
    let html = NewVisitPage {
        bundles: Vec::new(),
        life_event: bundle.code.clone(),
        questions: question_views(bundle, state, &errors, lang),
        searched: !state.search.is_empty(),
        results: results
            .iter()
            .map(|r| result_view(r, state, lang))
            .collect(),
        typed_checked: state.registry_id.is_empty()
            || !results.iter().any(|r| r.id == state.registry_id),
        search: state.search.clone(),
        name: state.name.clone(),
        kana: state.kana.clone(),
        documents: document_choices(state, lang),
        note: state.note.clone(),
        key: if state.key.is_empty() {
            kernel::ids::token()
        } else {
            state.key.clone()
        },
        errors,
        page,
    };
    Ok(render_status(status, &html))
}

fn question_views(
    bundle: &LifeEventBundle,
    state: &FormState,
    errors: &FormErrors,
    lang: Lang,
) -> Vec<QuestionView> {
    bundle
        .questions
        .iter()
        .map(|q| {
            let a = state.answers.get(&q.code).map(String::as_str);
            QuestionView {
                code: q.code.clone(),
                text: q.text.get(lang).to_string(),
                hint: q
                    .hint
                    .as_ref()
                    .map(|h| h.get(lang).to_string())
                    .unwrap_or_default(),
                yes: a == Some("yes"),
                no: a == Some("no"),
                error: errors.get(&format!("q_{}", q.code)).to_string(),
            }
        })
        .collect()
}

fn result_view(r: &ResidentRecord, state: &FormState, lang: Lang) -> ResultView {
    ResultView {
        id: r.id.clone(),
        label: format!("{}（{}）", r.name, r.kana),
        detail: format!(
            "{} / {}",
            i18n::tf(lang, "visit.resident.born", &[("date", &r.birth_date)]),
            r.address
        ),
        checked: state.registry_id == r.id,
    }
}

fn document_choices(state: &FormState, lang: Lang) -> Vec<Choice> {
    IdDocument::ALL
        .iter()
        .map(|d| Choice {
            value: d.as_str().to_string(),
            label: i18n::t(lang, &d.label_key()).to_string(),
            hint: String::new(),
            checked: state.document == d.as_str(),
        })
        .collect()
}

fn chooser(
    page: Page,
    t: &TenantProfile,
    lang: Lang,
    selected: &str,
    errors: FormErrors,
) -> NewVisitPage {
    let any_selected = t.life_events.iter().any(|b| b.code == selected);
    NewVisitPage {
        bundles: t
            .life_events
            .iter()
            .enumerate()
            .map(|(i, b): (usize, &LifeEventBundle)| Choice {
                value: b.code.clone(),
                label: b.name.get(lang).to_string(),
                hint: b
                    .description
                    .as_ref()
                    .map(|d| d.get(lang).to_string())
                    .unwrap_or_default(),
                checked: b.code == selected || (i == 0 && !any_selected),
            })
            .collect(),
        life_event: String::new(),
        questions: Vec::new(),
        searched: false,
        search: RegistryQuery::default(),
        results: Vec::new(),
        typed_checked: true,
        name: String::new(),
        kana: String::new(),
        documents: Vec::new(),
        note: String::new(),
        key: String::new(),
        errors,
        page,
    }
}

/// The intake: without a life event, the chooser; with one, its form
/// (and the register's answers to a search, when one was made).
pub async fn new_visit(
    State(st): State<DeskState>,
    staff: Clerk,
    lang: Lang,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let mut errors = FormErrors::default();
    if !q.life_event.is_empty() && t.life_event(&q.life_event).is_none() {
        errors.push(
            "life_event",
            i18n::tf(
                lang,
                "visit.error.life_event_unknown",
                &[("code", &q.life_event)],
            ),
        );
    }
    let state = FormState {
        life_event: q.life_event,
        search: RegistryQuery {
            name: q.search_name,
            kana: q.search_kana,
            birth_date: q.search_birth_date,
        },
        ..Default::default()
    };
    intake_page(&st, &staff, lang, &state, errors).await
}

struct Row {
    label: String,
    value: String,
}

struct PlannedView {
    name: String,
    place: String,
    documents: String,
}

#[derive(Template)]
#[template(path = "staff_visit_preview.html")]
struct PreviewPage {
    page: Page,
    rows: Vec<Row>,
    items: Vec<PlannedView>,
    hidden: Vec<HiddenField>,
}

/// The review: everything checked, the procedures that will be opened
/// shown, nothing written. "Change" shows the form again as it was.
/// The intake as typed, checked; or the intake page again with what is
/// wrong (nothing written).
async fn checked(
    st: &DeskState,
    staff: &Clerk,
    t: &TenantProfile,
    state: &FormState,
    lang: Lang,
) -> AppResult<Result<visits::VisitRequest, Response>> {
    match visits::check(t, st.registry.0.as_ref(), &state.input(), Names::Form, lang).await {
        Ok(r) => Ok(Ok(r)),
        Err(AppError::Validation(e)) => Ok(Err(
            intake_page(st, staff, lang, state, FormErrors(e)).await?
        )),
        Err(e) => Err(e),
    }
}

pub async fn preview(
    State(st): State<DeskState>,
    staff: Clerk,
    lang: Lang,
    Form(f): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let state = FormState::from_form(&f);
    if f.get("_action").map(String::as_str) == Some("edit") {
        return intake_page(&st, &staff, lang, &state, FormErrors::default()).await;
    }
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let req = match checked(&st, &staff, &t, &state, lang).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    if let Some(r) = &req.resident.record {
        // The review shows the register's record: personal data read.
        crate::register::audit_read(
            &st.db,
            st.registry.0.as_ref(),
            &staff,
            r,
            serde_json::json!({"purpose": "visit"}),
        )
        .await?;
    }
    let planned = navi::plan::plan(&st.db, &st.cache, &t, &req.bundle, &req.answers).await?;
    if planned.is_empty() {
        let e = vec![FieldError {
            field: "life_event".into(),
            message: i18n::t(lang, "visit.error.nothing_to_open").into(),
        }];
        return intake_page(&st, &staff, lang, &state, FormErrors(e)).await;
    }
    let rows = summary_rows(&req, &staff, lang);
    let items = planned.iter().map(|p| planned_view(p, &t, lang)).collect();
    let page = visit_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "visit.title_preview"),
        format!("/t/{}/staff/visits/preview", t.code),
    );
    Ok(render_status(
        StatusCode::OK,
        &PreviewPage {
            page,
            rows,
            items,
            hidden: state.hidden(),
        },
    ))
}

/// The review's summary: the life event, the resident, the answers and
/// the identity check.
fn summary_rows(req: &visits::VisitRequest, staff: &Clerk, lang: Lang) -> Vec<Row> {
    let tr = |k: &str| i18n::t(lang, k).to_string();
    let row = |label: String, value: String| Row { label, value };
    let mut rows = vec![
        row(
            tr("visit.summary.life_event"),
            req.bundle.name.get(lang).to_string(),
        ),
        row(
            tr("visit.summary.resident"),
            format!("{}（{}）", req.resident.name, req.resident.kana),
        ),
        row(
            tr("visit.summary.registry"),
            req.resident
                .record
                .as_ref()
                .map(|r| r.id.clone())
                .unwrap_or_else(|| tr("visit.summary.registry_none")),
        ),
    ];
    for q in &req.bundle.questions {
        let yes = req.answers.get(&q.code) == Some(&true);
        rows.push(row(
            q.text.get(lang).to_string(),
            tr(if yes { "visit.yes" } else { "visit.no" }),
        ));
    }
    let document = tr(&req.document.label_key());
    rows.push(row(
        tr("visit.field.document"),
        if req.note.is_empty() {
            document
        } else {
            format!("{document}（{}）", req.note)
        },
    ));
    rows.push(row(
        tr("visit.summary.checked_by"),
        i18n::tf(lang, "visit.checked_by_you", &[("name", &staff.name)]),
    ));
    rows
}

/// A procedure the visit will open: where to go and what to bring.
fn planned_view(p: &navi::plan::PlannedItem, t: &TenantProfile, lang: Lang) -> PlannedView {
    let procedure = &p.procedure.procedure;
    let (dept, counter, location) = visits::place_names(
        t,
        &procedure.department,
        p.counter.as_ref().map(|c| c.code.as_str()),
        lang,
    );
    PlannedView {
        name: procedure.name.get(lang).to_string(),
        place: visits::place_text(&dept, counter.as_deref(), location.as_deref(), lang),
        documents: procedure
            .documents
            .iter()
            .map(|d| d.get(lang))
            .collect::<Vec<_>>()
            .join(i18n::t(lang, "visit.sheet.separator")),
    }
}

/// 受付: the visit, its identity check and one case per procedure, in one
/// transaction. A double submit (the same one-time key) finds the same
/// visit.
pub async fn create(
    State(st): State<DeskState>,
    staff: Clerk,
    lang: Lang,
    Form(f): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let state = FormState::from_form(&f);
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let req = match checked(&st, &staff, &t, &state, lang).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let planned = navi::plan::plan(&st.db, &st.cache, &t, &req.bundle, &req.answers).await?;
    let r = match visits::open(
        &st.db,
        &st.committer,
        &staff,
        &req,
        &planned,
        &state.key,
        lang,
    )
    .await
    {
        Ok(r) => r,
        // Shown on the intake page with what was entered (nothing written).
        Err(AppError::Validation(mut e)) => {
            for x in e.iter_mut().filter(|x| x.field == "Idempotency-Key") {
                x.field = "life_event".into();
                x.message = i18n::t(lang, "visit.error.form_expired").into();
            }
            return intake_page(&st, &staff, lang, &state, FormErrors(e)).await;
        }
        Err(e) => return Err(e),
    };
    Ok(Redirect::to(&format!("/t/{}/staff/visits/{}?new=1", t.code, r.id())).into_response())
}

// ------------------------------------------------------------ the visit

struct ItemRow {
    seq: i64,
    item: ItemView,
    documents: String,
}

#[derive(Template)]
#[template(path = "staff_visit.html")]
struct VisitPage {
    page: Page,
    id: String,
    notice: String,
    rows: Vec<Row>,
    identity: Vec<Row>,
    answers: Vec<Row>,
    items: Vec<ItemRow>,
}

#[derive(Deserialize, Default)]
pub struct ViewQuery {
    #[serde(default)]
    new: Option<String>,
}

async fn staff_name(db: &Db, tenant: &str, actor: &str) -> AppResult<String> {
    let id = actor.strip_prefix("staff:").unwrap_or(actor);
    Ok(kernel::auth::directory::name_of(db, tenant, id)
        .await?
        .unwrap_or_else(|| id.to_string()))
}

pub async fn view(
    State(st): State<DeskState>,
    staff: CaseWorker,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
    Query(q): Query<ViewQuery>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let v = cases::visits::get_for_staff(&st.db, &staff, &id, "visit.view").await?;
    let items = visits::item_views(&st.db, &st.cache, &t, &v, &staff, lang).await?;
    let bundle = t.life_event(&v.life_event);
    let bundle_name = bundle
        .map(|b| b.name.get(lang).to_string())
        .unwrap_or_else(|| v.life_event.clone());
    let (desk, _, _) = visits::place_names(&t, &v.department, None, lang);
    let desk = format!(
        "{desk} {}",
        staff_name(&st.db, &staff.tenant, &v.created_by).await?
    );
    let rows = visit_rows(&v, &bundle_name, desk, lang);
    let identity = identity_rows(&v.identity, lang);
    let answers = bundle.map(|b| answer_rows(b, &v, lang)).unwrap_or_default();
    let notice = if q.new.is_some() {
        i18n::tf(
            lang,
            "visit.created_notice",
            &[("count", &items.len().to_string())],
        )
    } else {
        String::new()
    };
    let page = visit_page(
        lang,
        &t,
        &staff,
        i18n::tf(
            lang,
            "visit.title_view",
            &[("name", &v.resident_name), ("life_event", &bundle_name)],
        ),
        format!("/t/{}/staff/visits/{id}", t.code),
    );
    let items = items
        .into_iter()
        .map(|i| ItemRow {
            seq: i.seq,
            documents: i.documents.join(i18n::t(lang, "visit.sheet.separator")),
            item: i,
        })
        .collect();
    Ok(render_status(
        StatusCode::OK,
        &VisitPage {
            page,
            id: v.id.clone(),
            notice,
            rows,
            identity,
            answers,
            items,
        },
    ))
}

fn visit_rows(v: &cases::visits::Visit, bundle_name: &str, desk: String, lang: Lang) -> Vec<Row> {
    let tr = |k: &str| i18n::t(lang, k).to_string();
    let row = |label: String, value: String| Row { label, value };
    vec![
        row(tr("visit.summary.life_event"), bundle_name.to_string()),
        row(
            tr("visit.summary.resident"),
            format!("{}（{}）", v.resident_name, v.resident_kana),
        ),
        row(
            tr("visit.summary.registry"),
            v.registry_id
                .clone()
                .unwrap_or_else(|| tr("visit.summary.registry_none")),
        ),
        row(tr("visit.summary.desk"), desk),
        row(
            tr("visit.summary.created"),
            kernel::clock::format_in(lang, v.created_at),
        ),
    ]
}

/// The identity check, as every department sees it.
fn identity_rows(c: &cases::visits::IdentityCheck, lang: Lang) -> Vec<Row> {
    let tr = |k: &str| i18n::t(lang, k).to_string();
    let row = |label: String, value: String| Row { label, value };
    let mut rows = vec![row(
        tr("visit.summary.document"),
        tr(&c.document.label_key()),
    )];
    if !c.note.is_empty() {
        rows.push(row(tr("visit.summary.note"), c.note.clone()));
    }
    rows.push(row(
        tr("visit.summary.checked_by"),
        c.checked_by_name.clone(),
    ));
    rows.push(row(
        tr("visit.summary.checked_at"),
        kernel::clock::format_in(lang, c.checked_at),
    ));
    rows
}

fn answer_rows(b: &LifeEventBundle, v: &cases::visits::Visit, lang: Lang) -> Vec<Row> {
    b.questions
        .iter()
        .filter_map(|q| {
            v.answers.get(&q.code).map(|a| Row {
                label: q.text.get(lang).to_string(),
                value: i18n::t(lang, if *a { "visit.yes" } else { "visit.no" }).to_string(),
            })
        })
        .collect()
}

struct ListRow {
    id: String,
    created: String,
    life_event: String,
    resident: String,
    progress: String,
}

#[derive(Template)]
#[template(path = "staff_visits.html")]
struct ListPage {
    page: Page,
    today: usize,
    rows: Vec<ListRow>,
    can_create: bool,
}

pub async fn list(
    State(st): State<DeskState>,
    staff: CaseWorker,
    lang: Lang,
) -> AppResult<Response> {
    use kernel::auth::Proof;
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let items = cases::visits::recent(&st.db, &staff).await?;
    // Midnight JST today, in the store's milliseconds.
    let today_start = {
        let now = kernel::clock::to_jst(kernel::clock::now_ms());
        now.replace_time(time::Time::MIDNIGHT).unix_timestamp() * 1000
    };
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "visit.title_list"),
        format!("/t/{}/staff/visits", t.code),
    )
    .for_staff(&staff);
    Ok(render_status(
        StatusCode::OK,
        &ListPage {
            page,
            today: cases::visits::count_since(&st.db, &staff, today_start).await? as usize,
            rows: items
                .iter()
                .map(|v| ListRow {
                    id: v.id.clone(),
                    created: kernel::clock::format_in(lang, v.created_at),
                    life_event: t
                        .life_event(&v.life_event)
                        .map(|b| b.name.get(lang).to_string())
                        .unwrap_or_else(|| v.life_event.clone()),
                    resident: format!("{}（{}）", v.resident_name, v.resident_kana),
                    progress: i18n::tf(
                        lang,
                        "visit.progress",
                        &[
                            ("completed", &v.completed.to_string()),
                            ("cases", &v.cases.to_string()),
                        ],
                    ),
                })
                .collect(),
            can_create: Clerk::holds(&staff),
        },
    ))
}

/// The routing sheet (案内票) as PDF, printed for the resident.
pub async fn routing_sheet(
    State(st): State<DeskState>,
    staff: CaseWorker,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let v = cases::visits::get_for_staff(&st.db, &staff, &id, "visit.routing_sheet").await?;
    let items = visits::item_views(&st.db, &st.cache, &t, &v, &staff, lang).await?;
    let pdf = st
        .printer
        .render(&visits::routing_sheet(&t, &v, &items, lang))?;
    Ok(crate::print::pdf_response(
        pdf,
        &format!("routing-{id}.pdf"),
    ))
}
