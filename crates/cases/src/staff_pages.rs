//! Back-office pages: sign-in, the department's case queue, one case with
//! its history and the actions the member of staff may take, the procedure
//! catalogue (edit, history and undo, import/export) and the KPI page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::{CaseWorker, Staff};
use kernel::i18n::{self, Lang};
use kernel::web::Choice;
use kernel::web::{render, render_status, Page};
use kernel::{AppError, AppResult, Db, FieldError};

use crate::api::staff_case;
use crate::applications::{self, CaseFilter, Links};
use crate::kpi;
use crate::status::{Action, Status};
use crate::workflow;
use catalogue::store;
use catalogue::view::AnswerRow;

/// `/t/{tenant}/staff`: the start page of the member of staff's main role.
pub async fn staff_home(staff: Staff) -> Response {
    Redirect::to(&kernel::web::staff_menu::start_page(&staff)).into_response()
}

// --------------------------------------------------------------- cases

struct CaseRow {
    id: String,
    receipt: String,
    procedure: String,
    applicant: String,
    status: &'static str,
    status_label: &'static str,
    channel: &'static str,
    submitted: String,
    assignee: String,
}

#[derive(Template)]
#[template(path = "staff_cases.html")]
struct CaseListPage {
    page: Page,
    rows: Vec<CaseRow>,
    total: i64,
    page_no: u32,
    pages: i64,
    statuses: Vec<Choice>,
    q: String,
    assignee: String,
    prev_link: String,
    next_link: String,
}

pub async fn case_list(
    State(db): State<Db>,
    staff: CaseWorker,
    Query(f): Query<CaseFilter>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let list = applications::list(&db, &staff, &f).await?;
    kernel::audit::record(
        &db,
        &staff.tenant,
        kernel::audit::AuditEntry::new(staff.actor(), "application.list", "applications")
            .detail(serde_json::json!({"status": f.status, "count": list.items.len()})),
    )
    .await?;
    let names: HashMap<String, String> = store::list(&db, &staff.tenant)
        .await?
        .into_iter()
        .map(|s| {
            (
                s.procedure.id.clone(),
                s.procedure.name.get(lang).to_string(),
            )
        })
        .collect();
    let tenant = staff.tenant.clone();
    let link = |page: u32| {
        let q = serde_urlencoded::to_string([
            ("status", f.status.clone().unwrap_or_default()),
            ("q", f.q.clone().unwrap_or_default()),
            ("assignee", f.assignee.clone().unwrap_or_default()),
            ("page", page.to_string()),
        ])
        .unwrap_or_default();
        format!("/t/{tenant}/staff/cases?{q}")
    };
    let page = kernel::web::staff_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "staff.cases.title"),
        format!("/t/{}/staff/cases", staff.tenant),
    );
    Ok(render(&CaseListPage {
        rows: list
            .items
            .iter()
            .map(|a| case_row(a, &names, lang))
            .collect(),
        total: list.total,
        page_no: list.page,
        pages: list.pages,
        statuses: Choice::select(
            Status::ALL
                .iter()
                .map(|s| Choice::new(s.as_str(), i18n::t(lang, &s.label_key())))
                .collect(),
            f.status.as_deref().unwrap_or_default(),
        ),
        q: f.q.clone().unwrap_or_default(),
        assignee: f.assignee.clone().unwrap_or_default(),
        prev_link: if list.page > 1 {
            link(list.page - 1)
        } else {
            String::new()
        },
        next_link: if i64::from(list.page) < list.pages {
            link(list.page + 1)
        } else {
            String::new()
        },
        page,
    }))
}

fn case_row(a: &applications::Application, names: &HashMap<String, String>, lang: Lang) -> CaseRow {
    CaseRow {
        id: a.id.clone(),
        receipt: a.receipt_display(),
        procedure: names
            .get(&a.procedure_id)
            .cloned()
            .unwrap_or_else(|| a.procedure_id.clone()),
        applicant: a.applicant_name.clone(),
        status: a.status.as_str(),
        status_label: i18n::t(lang, &a.status.label_key()),
        channel: i18n::t(lang, &format!("channel.{}", a.channel.as_str())),
        submitted: kernel::clock::format_in(lang, a.submitted_at),
        assignee: a.assignee.clone().unwrap_or_default(),
    }
}

/// A link to one uploaded file of a case.
struct AttachmentLink {
    id: String,
    label: String,
}

/// A workflow action the member of staff may take on the case.
struct ActionButton {
    code: &'static str,
    label: &'static str,
    /// `button--danger` for rejection, `button--secondary` for the rest
    /// but approval.
    class: &'static str,
}

/// A channel's line in the KPI table.
struct ChannelShare {
    label: &'static str,
    count: i64,
    percent: String,
}

#[derive(Template)]
#[template(path = "staff_case.html")]
struct CaseDetail {
    page: Page,
    id: String,
    procedure: String,
    status: &'static str,
    status_label: &'static str,
    channel: &'static str,
    identity: String,
    submitted: String,
    version: i64,
    applicant: String,
    colleagues: Vec<Choice>,
    rows: Vec<AnswerRow>,
    attachments: Vec<AttachmentLink>,
    events: Vec<crate::history::EventRow>,
    actions: Vec<ActionButton>,
    /// An action takes a message to the applicant (one box for all).
    takes_message: bool,
    /// Approval and rejection withheld: this person started the review.
    separated: bool,
    /// Verified address or birth date withheld from this role.
    withheld: bool,
    errors: Vec<FieldError>,
    /// The visit this case was opened at, with its shared identity check.
    visit: Option<VisitPanel>,
    /// The identity check the clerk did for this case at the counter.
    counter_check: Option<String>,
    /// The mails about this case and where their delivery stands.
    mails: Vec<CaseMail>,
}

/// A mail about the case, as its page lists it (no address, no body).
struct CaseMail {
    subject: String,
    at: String,
    state: String,
    state_label: String,
}

async fn case_mails(db: &Db, tenant: &str, id: &str, lang: Lang) -> AppResult<Vec<CaseMail>> {
    let filter = mail::delivery::listing::Filter {
        case_id: Some(id.to_string()),
        ..Default::default()
    };
    Ok(mail::delivery::listing::list_filtered(db, tenant, &filter)
        .await?
        .into_iter()
        .map(|m| CaseMail {
            subject: m.subject,
            at: kernel::clock::format_in(lang, m.created_at),
            state_label: mail::delivery::view::state_label(lang, &m.state),
            state: m.state,
        })
        .collect())
}

struct VisitPanel {
    id: String,
    summary: String,
    text: String,
}

/// The identity check done once at the one-stop desk, for the case of a
/// visit: every department sees it and need not check again.
async fn visit_panel(
    db: &Db,
    t: &kernel::tenant::TenantProfile,
    app: &applications::Application,
    lang: Lang,
) -> AppResult<Option<VisitPanel>> {
    let Some(vid) = &app.visit_id else {
        return Ok(None);
    };
    let Some(check) = crate::visits::identity_check(db, t.code.as_str(), vid).await? else {
        return Ok(None);
    };
    let life_event = crate::visits::life_event_of(db, t.code.as_str(), vid).await?;
    let name = t
        .life_event(&life_event)
        .map(|b| b.name.get(lang).to_string())
        .unwrap_or(life_event);
    Ok(Some(VisitPanel {
        id: vid.clone(),
        summary: crate::visits::identity_summary(&check, lang),
        text: i18n::tf(lang, "visit.case_panel_text", &[("life_event", &name)]),
    }))
}

async fn render_case(
    db: &Db,
    staff: &CaseWorker,
    id: &str,
    lang: Lang,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> AppResult<Response> {
    render_case_with(db, staff, id, lang, errors, status, false).await
}

async fn render_case_with(
    db: &Db,
    staff: &CaseWorker,
    id: &str,
    lang: Lang,
    errors: Vec<FieldError>,
    status: StatusCode,
    reveal: bool,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let app = staff_case(db, staff, id).await?;
    let p = store::get_version(db, &staff.tenant, &app.procedure_id, app.procedure_version).await?;
    let withheld = crate::verified::guard(db, staff, &p.form, &app).await?;
    let events = applications::events(db, &staff.tenant, id).await?;
    let colleagues = colleague_choices(db, staff, &app).await?;
    let (actions, separated) = crate::separation::available(db, staff, &app).await?;
    let page = case_frame(&t, staff, &app, lang);
    let visit = visit_panel(db, &t, &app, lang).await?;
    let counter_check = crate::identity_checks::of_case(db, &staff.tenant, id)
        .await?
        .map(|c| crate::visits::identity_summary(&c, lang));
    let mails = case_mails(db, &staff.tenant, id, lang).await?;
    let html = CaseDetail {
        mails,
        visit,
        counter_check,
        page,
        id: app.id.clone(),
        procedure: p.name.get(lang).to_string(),
        status: app.status.as_str(),
        status_label: i18n::t(lang, &app.status.label_key()),
        channel: i18n::t(lang, &format!("channel.{}", app.channel.as_str())),
        submitted: kernel::clock::format_in(lang, app.submitted_at),
        version: app.version,
        applicant: format!("{}（{}）", app.applicant_name, app.applicant_kana),
        colleagues,
        rows: crate::view::case_rows(&p.form, &app, lang, reveal, &withheld),
        identity: i18n::t(lang, &format!("staff.case.identity.{}", app.identity_level)).to_string(),
        attachments: attachment_links(&p.form, &app, lang),
        events: crate::history::rows(db, &staff.tenant, &events, lang).await?,
        takes_message: actions
            .iter()
            .any(|a| matches!(a, Action::RequestCorrection | Action::Reject)),
        actions: actions
            .into_iter()
            .map(|a| action_button(a, lang))
            .collect(),
        separated,
        withheld: !withheld.is_empty(),
        errors,
    };
    Ok(render_status(status, &html))
}

/// The frame of a case's pages: its title, and the case list as crumb.
fn case_frame(
    t: &kernel::tenant::TenantProfile,
    staff: &CaseWorker,
    app: &applications::Application,
    lang: Lang,
) -> Page {
    kernel::web::staff_page(
        lang,
        t,
        staff,
        i18n::tf(
            lang,
            "staff.case.title",
            &[("receipt", &app.receipt_display())],
        ),
        format!("/t/{}/staff/cases/{}", staff.tenant, app.id),
    )
    .crumb(
        i18n::t(lang, "staff.cases.title"),
        format!("/t/{}/staff/cases", staff.tenant),
    )
}

fn action_button(a: Action, lang: Lang) -> ActionButton {
    ActionButton {
        code: a.as_str(),
        label: i18n::t(lang, &a.label_key()),
        class: match a {
            Action::Approve => "button",
            Action::Reject => "button button--danger",
            _ => "button button--secondary",
        },
    }
}

/// The department's staff to assign the case to, its assignee selected.
async fn colleague_choices(
    db: &Db,
    staff: &CaseWorker,
    app: &applications::Application,
) -> AppResult<Vec<Choice>> {
    let assignee = app.assignee.clone().unwrap_or_default();
    Ok(
        kernel::auth::directory::colleagues(db, &staff.tenant, &app.department)
            .await?
            .into_iter()
            .map(|(id, name)| {
                let on = id == assignee;
                Choice::new(id, name).selected(on)
            })
            .collect(),
    )
}

/// The files uploaded with the case, linked.
fn attachment_links(
    form: &catalogue::form::FormDef,
    app: &applications::Application,
    lang: Lang,
) -> Vec<AttachmentLink> {
    form.fields
        .iter()
        .filter(|f| f.kind == catalogue::form::FieldType::File)
        .filter_map(|f| {
            let v = app.answers.get(&f.name)?;
            Some(AttachmentLink {
                id: v.get("attachment_id")?.as_str()?.to_string(),
                label: format!("{}: {}", f.label.get(lang), v.get("filename")?.as_str()?),
            })
        })
        .collect()
}

pub async fn case_detail(
    State(db): State<Db>,
    staff: CaseWorker,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    render_case(&db, &staff, &id, lang, Vec::new(), StatusCode::OK).await
}

/// Shows the case with マイナンバー unmasked, for this response only. Each
/// reveal is in the audit log, with who and which case.
pub async fn case_reveal(
    State(db): State<Db>,
    staff: CaseWorker,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    applications::get_for_staff(&db, &staff, &id).await?;
    kernel::audit::record(
        &db,
        &staff.tenant,
        kernel::audit::AuditEntry::new(
            staff.actor(),
            "application.reveal_my_number",
            format!("application:{id}"),
        ),
    )
    .await?;
    render_case_with(&db, &staff, &id, lang, Vec::new(), StatusCode::OK, true).await
}

/// Validation problems are shown on the case page; other errors as usual.
async fn after_change(
    db: &Db,
    staff: &CaseWorker,
    id: &str,
    lang: Lang,
    result: AppResult<()>,
) -> AppResult<Response> {
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/t/{}/staff/cases/{id}", staff.tenant)).into_response())
        }
        Err(AppError::Validation(errors)) => {
            render_case(
                db,
                staff,
                id,
                lang,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn case_action(
    State(db): State<Db>,
    State(links): State<Links>,
    staff: CaseWorker,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(f): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let action = f
        .get("action")
        .and_then(|a| Action::parse(a))
        .ok_or_else(|| AppError::BadRequest("操作が指定されていません。".into()))?;
    let version = f.get("version").and_then(|v| v.parse().ok()).unwrap_or(-1);
    let message = f.get("message").cloned().unwrap_or_default();
    let confirmed = f.get("confirmed").is_some_and(|c| c == "1");
    if matches!(action, Action::Approve | Action::Reject) && !confirmed {
        // Approval and rejection are asked again on a page of their own.
        let t = kernel::tenant::load(&db, &staff.tenant).await?;
        return match workflow::prepare(&db, &staff, &id, action, version, &message).await {
            Ok((app, to, message)) => {
                let page = case_frame(&t, &staff, &app, lang);
                Ok(crate::confirm::page(&db, page, &app, action, to, &message, lang).await?)
            }
            Err(e) => after_change(&db, &staff, &id, lang, Err(e)).await,
        };
    }
    let r = workflow::act(&db, &links, &staff, &id, action, version, &message)
        .await
        .map(|_| ());
    after_change(&db, &staff, &id, lang, r).await
}

pub async fn case_comment(
    State(db): State<Db>,
    staff: CaseWorker,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(f): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let r = workflow::comment(
        &db,
        &staff,
        &id,
        f.get("comment").map(String::as_str).unwrap_or(""),
    )
    .await;
    after_change(&db, &staff, &id, lang, r).await
}

pub async fn case_assign(
    State(db): State<Db>,
    staff: CaseWorker,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(f): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let version = f.get("version").and_then(|v| v.parse().ok()).unwrap_or(-1);
    let r = workflow::assign(
        &db,
        &staff,
        &id,
        f.get("assignee").map(String::as_str).unwrap_or(""),
        version,
    )
    .await;
    after_change(&db, &staff, &id, lang, r).await
}

pub async fn case_attachment(
    State(db): State<Db>,
    staff: CaseWorker,
    Path((_t, id, aid)): Path<(String, String, String)>,
) -> AppResult<Response> {
    staff_case(&db, &staff, &id).await?;
    let file = applications::attachment(&db, &staff.tenant, &id, &aid).await?;
    kernel::audit::record(
        &db,
        &staff.tenant,
        kernel::audit::AuditEntry::new(
            staff.actor(),
            "attachment.download",
            format!("application:{id}"),
        )
        .detail(serde_json::json!({"attachment": aid})),
    )
    .await?;
    let encoded: String = file
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"attachment\"; filename*=UTF-8''{encoded}"),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        file.bytes,
    )
        .into_response())
}

// ------------------------------------------------------------------ KPI

#[derive(Template)]
#[template(path = "staff_kpi.html")]
struct KpiPage {
    page: Page,
    r: kpi::KpiReport,
    years: Vec<Choice>,
    channels: Vec<ChannelShare>,
    target: String,
    online_capable_pct: String,
    procedures_pct: String,
}

#[derive(serde::Deserialize, Default)]
pub struct FyQuery {
    fy: Option<String>,
}

pub async fn kpi_page(
    State(db): State<Db>,
    staff: Staff,
    Query(q): Query<FyQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let fy = crate::api::fiscal_year_param(q.fy.as_deref())?;
    let target = t.target("applications_online_capable_share", fy);
    let r = kpi::report(&db, &staff.tenant, fy, target).await?;
    let now_fy = kernel::clock::fiscal_year_of(kernel::clock::now_ms()).start_year();
    let page = kernel::web::staff_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "staff.kpi.title"),
        format!("/t/{}/staff/kpi", staff.tenant),
    );
    Ok(render(&KpiPage {
        channels: r
            .by_channel
            .iter()
            .map(|c| ChannelShare {
                label: i18n::t(lang, &format!("channel.{}", c.channel.as_str())),
                count: c.count,
                percent: kpi::percent(c.share),
            })
            .collect(),
        target: target.map(kpi::percent).unwrap_or_default(),
        online_capable_pct: kpi::percent(r.applications_online_capable_share),
        procedures_pct: kpi::percent(r.procedures_online_share),
        years: (now_fy - 3..=now_fy + 3)
            .filter_map(|y| jp::FiscalYear::new(y).ok())
            .map(|f| {
                let y = f.start_year();
                Choice::new(y.to_string(), format!("{}（{y}）", f.wareki())).selected(y == fy)
            })
            .collect(),
        r,
        page,
    }))
}
