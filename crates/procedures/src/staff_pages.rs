//! Back-office pages: sign-in, the department's case queue, one case with
//! its history and the actions the member of staff may take, the procedure
//! catalogue (edit, history and undo, import/export) and the KPI page.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::{CaseWorker, DeptAdmin, Role, SecurityOfficer, Staff, SystemAdmin};
use kernel::i18n::{self, Lang, Text};
use kernel::web::{render, render_status, Page};
use kernel::{AppError, AppResult, Db, FieldError};

use crate::api::{require_catalogue_editor, staff_case};
use crate::applications::{self, CaseFilter, Links};
use crate::catalogue;
use crate::csv_io;
use crate::form::FormDef;
use crate::kpi;
use crate::model::{Channels, IdentityLevel, Procedure, LIFE_EVENTS};
use crate::view::{self, AnswerRow};
use crate::workflow::{self, Action, Status};
use kernel::web::tenant_page;

pub(crate) fn staff_page(
    lang: Lang,
    t: &kernel::tenant::TenantProfile,
    staff: &Staff,
    title: impl Into<String>,
    path: impl Into<String>,
) -> Page {
    tenant_page(lang, t, title, path).for_staff(staff)
}

pub async fn staff_home(_staff: Staff, Path(tenant): Path<String>) -> Response {
    Redirect::to(&format!("/t/{tenant}/staff/cases")).into_response()
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
    statuses: Vec<(&'static str, &'static str)>,
    status: String,
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
    let names: HashMap<String, String> = catalogue::list(&db, &staff.tenant)
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
    let page = staff_page(
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
            .map(|a| CaseRow {
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
            })
            .collect(),
        total: list.total,
        page_no: list.page,
        pages: list.pages,
        statuses: Status::ALL
            .iter()
            .map(|s| (s.as_str(), i18n::t(lang, &s.label_key())))
            .collect(),
        status: f.status.clone().unwrap_or_default(),
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

struct EventRow {
    at: String,
    actor: String,
    what: String,
    body: String,
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
    assignee: String,
    colleagues: Vec<(String, String)>,
    rows: Vec<AnswerRow>,
    attachments: Vec<(String, String)>,
    events: Vec<EventRow>,
    actions: Vec<(&'static str, &'static str, bool)>,
    errors: Vec<FieldError>,
    /// The visit this case was opened at, with its shared identity check.
    visit: Option<VisitPanel>,
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
    let p =
        catalogue::get_version(db, &staff.tenant, &app.procedure_id, app.procedure_version).await?;
    let events = applications::events(db, &staff.tenant, id).await?;
    let colleagues = sqlx_colleagues(db, &staff.tenant, &app.department).await?;
    let attachments = p
        .form
        .fields
        .iter()
        .filter(|f| f.kind == crate::form::FieldType::File)
        .filter_map(|f| {
            let v = app.answers.get(&f.name)?;
            Some((
                v.get("attachment_id")?.as_str()?.to_string(),
                format!("{}: {}", f.label.get(lang), v.get("filename")?.as_str()?),
            ))
        })
        .collect();
    let page = staff_page(
        lang,
        &t,
        staff,
        i18n::tf(
            lang,
            "staff.case.title",
            &[("receipt", &app.receipt_display())],
        ),
        format!("/t/{}/staff/cases/{id}", staff.tenant),
    )
    .crumb(
        i18n::t(lang, "staff.cases.title"),
        format!("/t/{}/staff/cases", staff.tenant),
    );
    let visit = visit_panel(db, &t, &app, lang).await?;
    let html = CaseDetail {
        visit,
        page,
        id: app.id.clone(),
        procedure: p.name.get(lang).to_string(),
        status: app.status.as_str(),
        status_label: i18n::t(lang, &app.status.label_key()),
        channel: i18n::t(lang, &format!("channel.{}", app.channel.as_str())),
        submitted: kernel::clock::format_in(lang, app.submitted_at),
        version: app.version,
        applicant: format!("{}（{}）", app.applicant_name, app.applicant_kana),
        assignee: app.assignee.clone().unwrap_or_default(),
        colleagues,
        rows: view::case_rows(&p.form, &app, lang, reveal),
        identity: i18n::t(lang, &format!("staff.case.identity.{}", app.identity_level)).to_string(),
        attachments,
        events: events
            .iter()
            .map(|e| EventRow {
                at: kernel::clock::format_in(lang, e.at),
                actor: e.actor.clone(),
                what: match e.to_status.as_deref().and_then(Status::parse) {
                    Some(s) => i18n::tf(
                        lang,
                        "staff.case.event_status",
                        &[("status", i18n::t(lang, &s.label_key()))],
                    ),
                    None => i18n::t(lang, &format!("staff.case.event.{}", e.kind)).to_string(),
                },
                body: e.body.clone(),
            })
            .collect(),
        actions: Action::available(app.status, staff)
            .into_iter()
            .map(|a| (a.as_str(), i18n::t(lang, &a.label_key()), a.needs_message()))
            .collect(),
        errors,
    };
    Ok(render_status(status, &html))
}

async fn sqlx_colleagues(
    db: &Db,
    tenant: &str,
    department: &str,
) -> AppResult<Vec<(String, String)>> {
    use sqlx::Row;
    Ok(sqlx::query("SELECT id, name FROM staff WHERE tenant = $1 AND department = $2 AND active = 1 ORDER BY name")
        .bind(tenant)
        .bind(department)
        .fetch_all(db.read())
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
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

// ----------------------------------------------------------- catalogue

struct CatalogueRow {
    id: String,
    name: String,
    department: String,
    channels: &'static str,
    version: i64,
}

#[derive(Template)]
#[template(path = "staff_catalogue.html")]
struct CataloguePage {
    page: Page,
    rows: Vec<CatalogueRow>,
    errors: Vec<FieldError>,
    report: String,
    can_import: bool,
    can_edit_navi: bool,
}

async fn catalogue_page(
    db: &Db,
    staff: &Staff,
    lang: Lang,
    errors: Vec<FieldError>,
    report: String,
    status: StatusCode,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let items = catalogue::list(db, &staff.tenant).await?;
    let page = staff_page(
        lang,
        &t,
        staff,
        i18n::t(lang, "staff.catalogue.title"),
        format!("/t/{}/staff/catalogue", staff.tenant),
    );
    Ok(render_status(
        status,
        &CataloguePage {
            rows: items
                .iter()
                .map(|s| CatalogueRow {
                    id: s.procedure.id.clone(),
                    name: s.procedure.name.get(lang).to_string(),
                    department: t
                        .department(&s.procedure.department)
                        .map(|d| d.name.get(lang).to_string())
                        .unwrap_or_default(),
                    channels: i18n::t(
                        lang,
                        &format!("procedure.channels.{}", s.procedure.channels.as_str()),
                    ),
                    version: s.version,
                })
                .collect(),
            errors,
            report,
            can_import: staff.has(Role::SystemAdmin),
            can_edit_navi: <DeptAdmin as kernel::auth::Proof>::holds(staff),
            page,
        },
    ))
}

pub async fn catalogue(State(db): State<Db>, staff: Staff, lang: Lang) -> AppResult<Response> {
    catalogue_page(&db, &staff, lang, Vec::new(), String::new(), StatusCode::OK).await
}

pub async fn export_csv(State(db): State<Db>, staff: Staff) -> AppResult<Response> {
    let items: Vec<Procedure> = catalogue::list(&db, &staff.tenant)
        .await?
        .into_iter()
        .map(|s| s.procedure)
        .collect();
    crate::api::export_response(&staff.tenant, &items, "csv")
}

pub async fn export_json(State(db): State<Db>, staff: Staff) -> AppResult<Response> {
    let items: Vec<Procedure> = catalogue::list(&db, &staff.tenant)
        .await?
        .into_iter()
        .map(|s| s.procedure)
        .collect();
    crate::api::export_response(&staff.tenant, &items, "json")
}

pub async fn import_post(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<catalogue::Cache>>,
    staff: SystemAdmin,
    lang: Lang,
    mp: Multipart,
) -> AppResult<Response> {
    let posted = crate::pages::read_multipart(mp).await?;
    let dry_run = posted.control("dry_run") == "true";
    let Some((_, filename, bytes)) = posted.files.iter().find(|(n, _, _)| n == "file") else {
        let e = vec![FieldError {
            field: "file".into(),
            message: i18n::t(lang, "staff.catalogue.file_required").into(),
        }];
        return catalogue_page(
            &db,
            &staff,
            lang,
            e,
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let parsed = match std::str::from_utf8(bytes) {
        Err(_) => Err(vec![FieldError {
            field: "file".into(),
            message: i18n::t(lang, "staff.catalogue.not_utf8").into(),
        }]),
        Ok(text) if filename.to_lowercase().ends_with(".json") => csv_io::from_json(text),
        Ok(text) => csv_io::from_csv(text),
    };
    let result = match parsed {
        Ok(items) => catalogue::import(&db, &staff.tenant, &items, &staff.actor(), dry_run).await,
        Err(e) => Err(AppError::Validation(e)),
    };
    cache.changed(&staff.tenant).await;
    match result {
        Ok(r) => {
            let key = if dry_run {
                "staff.catalogue.dry_run_report"
            } else {
                "staff.catalogue.import_report"
            };
            let report = i18n::tf(
                lang,
                key,
                &[
                    ("created", &r.created.to_string()),
                    ("updated", &r.updated.to_string()),
                    ("unchanged", &r.unchanged.to_string()),
                ],
            );
            catalogue_page(&db, &staff, lang, Vec::new(), report, StatusCode::OK).await
        }
        Err(AppError::Validation(e)) => {
            catalogue_page(
                &db,
                &staff,
                lang,
                e,
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The edit form's values, as text (what the member of staff typed is
/// shown back on error, nothing lost).
#[derive(Default, Clone)]
struct ProcedureFields {
    id: String,
    name_ja: String,
    description_ja: String,
    department: String,
    life_events: Vec<String>,
    channels: String,
    identity_level: String,
    fee_yen: String,
    documents_ja: String,
    processing_time_ja: String,
    /// Translations: `"{field}_{language code}"` (e.g. `name_pt-BR`) for
    /// each of [`TRANSLATED`] in every language but Japanese.
    translations: BTreeMap<String, String>,
    legal_basis: String,
    form_json: String,
}

/// The procedure's texts that are translated, with the locale key of
/// their label and whether they take several lines.
const TRANSLATED: [(&str, &str, bool); 4] = [
    ("name", "staff.edit.name", false),
    ("description", "staff.edit.description", true),
    ("processing_time", "staff.edit.processing_time", false),
    ("documents", "staff.edit.documents", true),
];

fn translation_key(field: &str, lang: Lang) -> String {
    format!("{field}_{}", lang.code())
}

/// One language's translation fields in the editor.
struct TranslationView {
    lang: Lang,
    filled: usize,
    /// (form name and id suffix, label, value, multiline)
    fields: Vec<(String, String, String, bool)>,
}

impl ProcedureFields {
    fn from_procedure(p: &Procedure) -> Self {
        let docs = |l: &str| {
            p.documents
                .iter()
                .map(|d| d.get_exact(l).unwrap_or_default().to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let mut translations = BTreeMap::new();
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::Ja) {
            let code = lang.code();
            let one = |t: &Text| t.get_exact(code).unwrap_or_default().to_string();
            translations.insert(translation_key("name", lang), one(&p.name));
            translations.insert(translation_key("description", lang), one(&p.description));
            translations.insert(
                translation_key("processing_time", lang),
                one(&p.processing_time),
            );
            let d = docs(code);
            // Nothing but line breaks is no translation.
            translations.insert(
                translation_key("documents", lang),
                if d.trim().is_empty() {
                    String::new()
                } else {
                    d
                },
            );
        }
        Self {
            id: p.id.clone(),
            name_ja: p.name.ja().into(),
            description_ja: p.description.ja().into(),
            department: p.department.clone(),
            life_events: p.life_events.clone(),
            channels: p.channels.as_str().into(),
            identity_level: p.identity_level.as_str().into(),
            fee_yen: p.fee_yen.to_string(),
            documents_ja: docs("ja"),
            processing_time_ja: p.processing_time.ja().into(),
            translations,
            legal_basis: p.legal_basis.clone(),
            form_json: serde_json::to_string_pretty(&p.form).unwrap_or_default(),
        }
    }

    fn from_form(f: &[(String, String)]) -> Self {
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let translations = Lang::ALL
            .into_iter()
            .filter(|l| *l != Lang::Ja)
            .flat_map(|lang| {
                TRANSLATED.iter().map(move |(field, _, _)| {
                    let k = translation_key(field, lang);
                    let v = get(&k);
                    (k, v)
                })
            })
            .collect();
        Self {
            id: get("id").trim().to_string(),
            name_ja: get("name_ja"),
            description_ja: get("description_ja"),
            department: get("department"),
            life_events: f
                .iter()
                .filter(|(n, _)| n == "life_events")
                .map(|(_, v)| v.clone())
                .collect(),
            channels: get("channels"),
            identity_level: get("identity_level"),
            fee_yen: get("fee_yen"),
            documents_ja: get("documents_ja"),
            processing_time_ja: get("processing_time_ja"),
            translations,
            legal_basis: get("legal_basis"),
            form_json: get("form_json"),
        }
    }

    /// Parses into a procedure, naming each field that is wrong.
    fn parse(&self) -> Result<Procedure, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        if self.name_ja.trim().is_empty() {
            err("name_ja", "「手続名（日本語）」を入力してください。");
        }
        if self.processing_time_ja.trim().is_empty() {
            err(
                "processing_time_ja",
                "「処理期間（日本語）」を入力してください（例：即日）。",
            );
        }
        let channels = Channels::parse(&self.channels);
        if channels.is_none() {
            err("channels", "「申請方法」を選んでください。");
        }
        let identity = IdentityLevel::parse(&self.identity_level);
        if identity.is_none() {
            err("identity_level", "「本人確認」を選んでください。");
        }
        let fee = jp::Yen::parse(if self.fee_yen.trim().is_empty() {
            "0"
        } else {
            &self.fee_yen
        });
        if fee.is_err() {
            err(
                "fee_yen",
                "「手数料」は0以上の整数（円）で入力してください。",
            );
        }
        let form: Result<FormDef, _> = if self.form_json.trim().is_empty() {
            Ok(FormDef::default())
        } else {
            serde_json::from_str(&self.form_json)
        };
        if let Err(e) = &form {
            errors.push(FieldError {
                field: "form_json".into(),
                message: format!(
                    "「申請フォーム（JSON）」の{}行目{}列目: {e}",
                    e.line(),
                    e.column()
                ),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // One text in every language typed (an empty translation is none).
        let text = |field: &str, ja: &str| {
            let mut t = Text::ja_only(jp::nfc(ja.trim()));
            for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::Ja) {
                let v = self
                    .translations
                    .get(&translation_key(field, lang))
                    .map(|v| jp::nfc(v.trim()))
                    .unwrap_or_default();
                t.set(lang.code(), v);
            }
            t
        };
        let doc_lines: BTreeMap<Lang, Vec<String>> = Lang::ALL
            .into_iter()
            .filter(|l| *l != Lang::Ja)
            .map(|lang| {
                let lines = self
                    .translations
                    .get(&translation_key("documents", lang))
                    .map(|v| v.lines().map(|l| jp::nfc(l.trim())).collect())
                    .unwrap_or_default();
                (lang, lines)
            })
            .collect();
        Ok(Procedure {
            id: self.id.clone(),
            name: text("name", &self.name_ja),
            description: text("description", &self.description_ja),
            department: self.department.clone(),
            life_events: self.life_events.clone(),
            channels: channels.unwrap_or(Channels::Counter),
            identity_level: identity.unwrap_or(IdentityLevel::None),
            fee_yen: fee.map(|y| y.amount()).unwrap_or(0),
            documents: self
                .documents_ja
                .lines()
                .map(str::trim)
                .enumerate()
                .filter(|(_, l)| !l.is_empty())
                .map(|(i, ja)| {
                    let mut t = Text::ja_only(jp::nfc(ja));
                    for (lang, lines) in &doc_lines {
                        t.set(lang.code(), lines.get(i).cloned().unwrap_or_default());
                    }
                    t
                })
                .collect(),
            processing_time: text("processing_time", &self.processing_time_ja),
            legal_basis: jp::nfc(self.legal_basis.trim()),
            form: form.unwrap_or_default(),
        })
    }
}

#[derive(Template)]
#[template(path = "staff_procedure_edit.html")]
struct EditPage {
    page: Page,
    is_new: bool,
    v: ProcedureFields,
    version: i64,
    errors: Vec<FieldError>,
    departments: Vec<(String, String)>,
    events: Vec<(String, String, bool)>,
    history: Vec<(i64, String, String)>,
    saved: bool,
}

impl EditPage {
    fn text_fields(&self) -> Vec<(&'static str, &'static str, String, bool)> {
        let v = &self.v;
        vec![
            ("name_ja", "staff.edit.name_ja", v.name_ja.clone(), false),
            (
                "description_ja",
                "staff.edit.description_ja",
                v.description_ja.clone(),
                true,
            ),
            (
                "processing_time_ja",
                "staff.edit.processing_time_ja",
                v.processing_time_ja.clone(),
                false,
            ),
            ("fee_yen", "staff.edit.fee_yen", v.fee_yen.clone(), false),
            (
                "legal_basis",
                "staff.edit.legal_basis",
                v.legal_basis.clone(),
                false,
            ),
            (
                "documents_ja",
                "staff.edit.documents_ja",
                v.documents_ja.clone(),
                true,
            ),
        ]
    }

    /// The translation fields, one group per language.
    fn translations(&self) -> Vec<TranslationView> {
        let lang = self.page.lang;
        Lang::ALL
            .into_iter()
            .filter(|l| *l != Lang::Ja)
            .map(|l| {
                let fields: Vec<(String, String, String, bool)> = TRANSLATED
                    .iter()
                    .map(|(field, key, multiline)| {
                        let k = translation_key(field, l);
                        let value = self.v.translations.get(&k).cloned().unwrap_or_default();
                        let label = i18n::tf(lang, key, &[("language", l.native_name())]);
                        (k, label, value, *multiline)
                    })
                    .collect();
                TranslationView {
                    lang: l,
                    filled: fields.iter().filter(|f| !f.2.trim().is_empty()).count(),
                    fields,
                }
            })
            .collect()
    }

    fn error(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[allow(clippy::too_many_arguments)]
async fn edit_page(
    db: &Db,
    staff: &Staff,
    lang: Lang,
    v: ProcedureFields,
    version: i64,
    is_new: bool,
    errors: Vec<FieldError>,
    saved: bool,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let history = if is_new {
        Vec::new()
    } else {
        catalogue::history(db, &staff.tenant, &v.id).await?
    };
    let title = if is_new {
        i18n::t(lang, "staff.edit.new_title").to_string()
    } else {
        i18n::tf(lang, "staff.edit.title", &[("name", &v.name_ja)])
    };
    let path = if is_new {
        format!("/t/{}/staff/catalogue/new", staff.tenant)
    } else {
        format!("/t/{}/staff/catalogue/{}", staff.tenant, v.id)
    };
    let page = staff_page(lang, &t, staff, title, path)
        .crumb(
            i18n::t(lang, "staff.catalogue.title"),
            format!("/t/{}/staff/catalogue", staff.tenant),
        )
        .with_errors(!errors.is_empty());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render_status(
        status,
        &EditPage {
            page,
            is_new,
            departments: t
                .departments
                .iter()
                .map(|d| (d.code.clone(), d.name.get(lang).to_string()))
                .collect(),
            events: LIFE_EVENTS
                .iter()
                .map(|e| {
                    (
                        e.to_string(),
                        i18n::t(lang, &format!("life_event.{e}")).to_string(),
                        v.life_events.iter().any(|x| x == e),
                    )
                })
                .collect(),
            history: history
                .into_iter()
                .map(|h| {
                    (
                        h.version,
                        kernel::clock::format_in(lang, h.saved_at),
                        h.saved_by,
                    )
                })
                .collect(),
            v,
            version,
            errors,
            saved,
        },
    ))
}

#[derive(serde::Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn edit_procedure(
    State(db): State<Db>,
    staff: Staff,
    Path((_t, id)): Path<(String, String)>,
    Query(q): Query<SavedQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let s = catalogue::get(&db, &staff.tenant, &id).await?;
    edit_page(
        &db,
        &staff,
        lang,
        ProcedureFields::from_procedure(&s.procedure),
        s.version,
        false,
        Vec::new(),
        q.saved.is_some(),
    )
    .await
}

pub async fn new_procedure(
    State(db): State<Db>,
    staff: DeptAdmin,
    lang: Lang,
) -> AppResult<Response> {
    let v = ProcedureFields {
        department: staff.department.clone(),
        channels: "both".into(),
        identity_level: "none".into(),
        fee_yen: "0".into(),
        form_json: "{\n  \"fields\": []\n}".into(),
        ..Default::default()
    };
    edit_page(&db, &staff, lang, v, 0, true, Vec::new(), false).await
}

async fn save_from_form(
    db: &Db,
    staff: &DeptAdmin,
    lang: Lang,
    form: Vec<(String, String)>,
    is_new: bool,
) -> AppResult<Response> {
    let v = ProcedureFields::from_form(&form);
    let version: i64 = form
        .iter()
        .find(|(k, _)| k == "version")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let p = match v.parse() {
        Ok(p) => p,
        Err(errors) => return edit_page(db, staff, lang, v, version, is_new, errors, false).await,
    };
    require_catalogue_editor(staff, &p.department)?;
    if !is_new {
        let existing = catalogue::get(db, &staff.tenant, &p.id).await?;
        require_catalogue_editor(staff, &existing.procedure.department)?;
    }
    match catalogue::save(
        db,
        &staff.tenant,
        &p,
        (!is_new).then_some(version),
        &staff.actor(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/t/{}/staff/catalogue/{}?saved=1",
            staff.tenant, p.id
        ))
        .into_response()),
        Err(AppError::Validation(errors)) => {
            edit_page(db, staff, lang, v, version, is_new, errors, false).await
        }
        Err(AppError::Conflict(what)) => {
            let errors = vec![FieldError {
                field: "id".into(),
                message: i18n::t(lang, &format!("error.conflict.{what}")).into(),
            }];
            edit_page(db, staff, lang, v, version, is_new, errors, false).await
        }
        Err(e) => Err(e),
    }
}

pub async fn create_procedure(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<catalogue::Cache>>,
    staff: DeptAdmin,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let r = save_from_form(&db, &staff, lang, form, true).await;
    cache.changed(&staff.tenant).await;
    r
}

pub async fn save_procedure(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<catalogue::Cache>>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(mut form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    form.retain(|(k, _)| k != "id");
    form.push(("id".into(), id));
    let r = save_from_form(&db, &staff, lang, form, false).await;
    cache.changed(&staff.tenant).await;
    r
}

pub async fn restore_procedure(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<catalogue::Cache>>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let existing = catalogue::get(&db, &staff.tenant, &id).await?;
    require_catalogue_editor(&staff, &existing.procedure.department)?;
    let version = f
        .get("restore_version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::BadRequest("戻す版を指定してください。".into()))?;
    let current = f.get("version").and_then(|v| v.parse().ok()).unwrap_or(-1);
    // The version restored may belong to another department: the editor
    // must be allowed there too.
    let old = catalogue::get_version(&db, &staff.tenant, &id, version).await?;
    require_catalogue_editor(&staff, &old.department)?;
    catalogue::restore(&db, &staff.tenant, &id, version, current, &staff.actor()).await?;
    cache.changed(&staff.tenant).await;
    Ok(Redirect::to(&format!("/t/{}/staff/catalogue/{id}?saved=1", staff.tenant)).into_response())
}

// ------------------------------------------------------------------ KPI

#[derive(Template)]
#[template(path = "staff_kpi.html")]
struct KpiPage {
    page: Page,
    r: kpi::KpiReport,
    fy: i32,
    years: Vec<(i32, String)>,
    channels: Vec<(&'static str, i64, String, f64)>,
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
    let page = staff_page(
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
            .map(|c| {
                (
                    i18n::t(lang, &format!("channel.{}", c.channel.as_str())),
                    c.count,
                    kpi::percent(c.share),
                    c.share,
                )
            })
            .collect(),
        target: target.map(kpi::percent).unwrap_or_default(),
        online_capable_pct: kpi::percent(r.applications_online_capable_share),
        procedures_pct: kpi::percent(r.procedures_online_share),
        years: (now_fy - 3..=now_fy + 3)
            .filter_map(|y| jp::FiscalYear::new(y).ok())
            .map(|f| (f.start_year(), f.wareki()))
            .collect(),
        fy,
        r,
        page,
    }))
}

// ------------------------------------------------------------ audit log

struct AuditLine {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "staff_audit.html")]
struct AuditPage {
    page: Page,
    rows: Vec<AuditLine>,
    total: i64,
    f: kernel::audit::AuditFilter,
    verified: Option<String>,
    prev_link: String,
    next_link: String,
}

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    #[serde(flatten)]
    filter: kernel::audit::AuditFilter,
    #[serde(default)]
    verify: Option<String>,
}

/// The audit log, for security officers (and system administrators): read
/// only, filterable, with a check of the hash chain. Reading it is audited.
pub async fn audit_page(
    State(db): State<Db>,
    staff: SecurityOfficer,
    Query(q): Query<AuditQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let (rows, total) = kernel::audit::search(&db, &staff.tenant, &q.filter).await?;
    let verified = match q.verify {
        Some(_) => Some(match kernel::audit::verify(&db, &staff.tenant).await? {
            kernel::audit::Verify::Intact { entries } => i18n::tf(
                lang,
                "staff.audit.intact",
                &[("entries", &entries.to_string())],
            ),
            kernel::audit::Verify::Broken { seq, reason } => i18n::tf(
                lang,
                "staff.audit.broken",
                &[("seq", &seq.to_string()), ("reason", reason)],
            ),
        }),
        None => None,
    };
    kernel::audit::record(
        &db,
        &staff.tenant,
        kernel::audit::AuditEntry::new(staff.actor(), "audit.view", "audit_log")
            .detail(serde_json::json!({"verify": q.verify.is_some(), "count": rows.len()})),
    )
    .await?;
    let page_no = q.filter.page.unwrap_or(1).max(1);
    let tenant = staff.tenant.clone();
    let link = |page: u32| {
        let qs = serde_urlencoded::to_string([
            ("actor", q.filter.actor.clone().unwrap_or_default()),
            ("action", q.filter.action.clone().unwrap_or_default()),
            ("target", q.filter.target.clone().unwrap_or_default()),
            ("page", page.to_string()),
        ])
        .unwrap_or_default();
        format!("/t/{tenant}/staff/audit?{qs}")
    };
    let pages = (total + kernel::audit::AUDIT_PAGE_SIZE - 1) / kernel::audit::AUDIT_PAGE_SIZE;
    let page = staff_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "staff.audit.title"),
        format!("/t/{}/staff/audit", staff.tenant),
    );
    Ok(render(&AuditPage {
        rows: rows
            .into_iter()
            .map(|r| AuditLine {
                seq: r.seq,
                at: kernel::clock::format_in(lang, r.at),
                actor: r.actor,
                action: r.action,
                target: r.target,
                detail: if r.detail == "null" {
                    String::new()
                } else {
                    r.detail
                },
            })
            .collect(),
        total,
        verified,
        prev_link: if page_no > 1 {
            link(page_no - 1)
        } else {
            String::new()
        },
        next_link: if i64::from(page_no) < pages {
            link(page_no + 1)
        } else {
            String::new()
        },
        f: q.filter,
        page,
    }))
}
