//! JSON API handlers (`/api/v1/...`). Thin: parse, call the module that
//! holds the rule, serialise.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use kernel::audit::{self, AuditEntry};
use kernel::auth::{CaseWorker, Clerk, SystemAdmin};
use kernel::i18n::Lang;
use kernel::web::JsonBody;
use kernel::{AppError, AppResult, Db};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::applications::{self, CaseFilter, Links};
use crate::committer::{NewAttachment, Submitted};
use crate::intake::{self, Intake};
use crate::kpi;
use crate::state::{CasesState, Limits};
use crate::status::Action;
use crate::workflow;
use catalogue::form::{self, FieldType, RawInput};
use catalogue::model::{Channel, Procedure, StoredProcedure};
use catalogue::store;

#[derive(Deserialize)]
pub struct AnswersBody {
    #[serde(default)]
    answers: serde_json::Map<String, Value>,
    #[serde(default)]
    lang: Option<Lang>,
}

/// Files in the API come inline: `{"filename", "content_type", "data_base64"}`.
fn api_input(
    p: &Procedure,
    answers: &serde_json::Map<String, Value>,
    limits: Limits,
    lang: Lang,
) -> AppResult<(RawInput, Vec<NewAttachment>)> {
    let mut plain = answers.clone();
    let mut files = BTreeMap::new();
    let mut new = Vec::new();
    let mut errors = Vec::new();
    for f in p.form.fields.iter().filter(|f| f.kind == FieldType::File) {
        let Some(v) = plain.remove(&f.name) else {
            continue;
        };
        if v.is_null() {
            continue;
        }
        let filename = form::safe_filename(
            v.get("filename")
                .and_then(Value::as_str)
                .unwrap_or("attachment"),
        );
        let data = v
            .get("data_base64")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let bytes = match base64::engine::general_purpose::STANDARD.decode(data) {
            Ok(b) => b,
            Err(_) => {
                errors.push(kernel::FieldError {
                    field: f.name.clone(),
                    message: format!(
                        "「{}」の data_base64 が Base64 として読めません。",
                        f.label.get(lang)
                    ),
                });
                continue;
            }
        };
        match form::check_upload(f, &filename, &bytes, limits.max_attachment_bytes, lang) {
            Ok(ct) => {
                let id = kernel::ids::short_id();
                files.insert(
                    f.name.clone(),
                    form::FileRef {
                        attachment_id: id.clone(),
                        filename: filename.clone(),
                        content_type: ct.to_string(),
                        size: bytes.len() as u64,
                    },
                );
                new.push(NewAttachment {
                    id,
                    field: f.name.clone(),
                    filename,
                    content_type: ct.to_string(),
                    bytes,
                });
            }
            Err(message) => errors.push(kernel::FieldError {
                field: f.name.clone(),
                message,
            }),
        }
    }
    let mut input = RawInput::from_json(&p.form, &plain, lang).map_err(AppError::Validation)?;
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    input.files = files;
    Ok((input, new))
}

pub async fn validate(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    State(limits): State<Limits>,
    Path((tenant, id)): Path<(String, String)>,
    lang: Lang,
    JsonBody(b): JsonBody<AnswersBody>,
) -> AppResult<Json<Value>> {
    let p = cache.get(&db, &tenant, &id).await?;
    let lang = b.lang.unwrap_or(lang);
    let (input, _) = api_input(&p.procedure, &b.answers, limits, lang)?;
    let today = cache.today(&db, &tenant).await?;
    let answers =
        form::validate(&p.procedure.form, &input, lang, &today).map_err(AppError::Validation)?;
    Ok(Json(json!({ "valid": true, "answers": answers })))
}

fn idempotency_key(headers: &HeaderMap) -> String {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn submitted_response(links: &Links, tenant: &str, s: &Submitted) -> Response {
    let (status, replayed) = match s {
        Submitted::Created(_) => (StatusCode::CREATED, false),
        Submitted::Replayed(_) => (StatusCode::OK, true),
    };
    let r = s.receipt();
    (
        status,
        Json(json!({
            "receipt_number": r.display(),
            "id": r.as_str(),
            "status": "received",
            "replayed": replayed,
            "access_token": links.access_token(tenant, r.as_str()),
            "case_url": links.case_url(tenant, r.as_str()),
        })),
    )
        .into_response()
}

/// A resident's online submission. Requires `Idempotency-Key`.
pub async fn submit(
    State(st): State<CasesState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
    who: kernel::resident::MaybeResident,
    JsonBody(b): JsonBody<AnswersBody>,
) -> AppResult<Response> {
    let key = idempotency_key(&headers);
    intake::check_idempotency_key(&key, lang)?;
    let p = match st.cache.get(&st.db, &tenant, &id).await {
        Err(AppError::NotFound(_)) => {
            kernel::tenant::load(&st.db, &tenant).await?;
            return Err(AppError::NotFound("procedure"));
        }
        other => other?,
    };
    let lang = b.lang.unwrap_or(lang);
    submit_answers(
        &st,
        &tenant,
        &p,
        &b.answers,
        Channel::Online,
        &key,
        "resident".into(),
        lang,
        who.0.as_ref(),
    )
    .await
}

/// Answers from the API (files inline) through intake to the committer,
/// answered with the receipt number and the applicant's link.
#[allow(clippy::too_many_arguments)]
async fn submit_answers(
    st: &CasesState,
    tenant: &str,
    p: &StoredProcedure,
    answers: &serde_json::Map<String, Value>,
    channel: Channel,
    key: &str,
    actor: String,
    lang: Lang,
    resident: Option<&kernel::resident::Resident>,
) -> AppResult<Response> {
    let (input, new_attachments) = api_input(&p.procedure, answers, st.limits, lang)?;
    let today = st.cache.today(&st.db, tenant).await?;
    let s = intake::submit(
        &st.committer,
        Intake {
            tenant,
            procedure: p,
            input: &input,
            channel,
            idempotency_key: key,
            draft_id: None,
            new_attachments,
            actor,
            lang,
            submitted_at: None,
            resident,
            counter_identity: None,
            today: &today,
            identity_check: None,
        },
    )
    .await?;
    Ok(submitted_response(&st.links, tenant, &s))
}

#[derive(Deserialize)]
pub struct StaffSubmitBody {
    channel: String,
    #[serde(default)]
    answers: serde_json::Map<String, Value>,
    /// The identity document the clerk checked (required).
    #[serde(default)]
    identity_document: String,
    #[serde(default)]
    identity_note: String,
}

/// An application entered by a clerk at the counter: `counter` (the
/// resident filled in a paper form) or `proxy` (the clerk entered it for the
/// resident, 書かない窓口), with the identity document the clerk checked
/// (stored with the case). Counted by channel in the KPIs.
pub async fn staff_submit(
    State(st): State<CasesState>,
    staff: Clerk,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<StaffSubmitBody>,
) -> AppResult<Response> {
    let key = idempotency_key(&headers);
    intake::check_idempotency_key(&key, Lang::Ja)?;
    let p = st.cache.get(&st.db, &tenant, &id).await?;
    let channel = match Channel::parse(&b.channel) {
        Some(c @ (Channel::Counter | Channel::Proxy)) => c,
        _ => {
            return Err(AppError::Validation(vec![kernel::FieldError {
                field: "channel".into(),
                message:
                    "「受付経路」は counter（窓口）または proxy（職員代理入力）を指定してください。"
                        .into(),
            }]))
        }
    };
    // The clerk checked who the resident is: which document, never a default.
    let checked = crate::identity_checks::CheckedDocument::parse(
        &b.identity_document,
        &b.identity_note,
        Lang::Ja,
    )
    .map_err(AppError::Validation)?;
    let (input, new_attachments) = api_input(&p.procedure, &b.answers, st.limits, Lang::Ja)?;
    let today = st.cache.today(&st.db, &tenant).await?;
    let s = intake::submit(
        &st.committer,
        Intake {
            tenant: &tenant,
            procedure: &p,
            input: &input,
            channel,
            idempotency_key: &key,
            draft_id: None,
            new_attachments,
            actor: staff.actor(),
            lang: Lang::Ja,
            submitted_at: None,
            resident: None,
            counter_identity: None,
            today: &today,
            identity_check: Some(checked.recorded_by(&staff, kernel::clock::now_ms())),
        },
    )
    .await?;
    Ok(submitted_response(&st.links, &tenant, &s))
}

#[derive(Deserialize)]
pub struct DraftBody {
    procedure_id: String,
    #[serde(default)]
    answers: serde_json::Map<String, Value>,
}

pub async fn create_draft(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    lang: Lang,
    JsonBody(b): JsonBody<DraftBody>,
) -> AppResult<Response> {
    let p = store::get(&db, &tenant, &b.procedure_id).await?;
    let input =
        RawInput::from_json(&p.procedure.form, &b.answers, lang).map_err(AppError::Validation)?;
    let (token, mut draft) = applications::create_draft(&db, &tenant, &b.procedure_id).await?;
    draft.input = input;
    applications::save_draft(&db, &tenant, &p.procedure.form, &draft).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "resume_url": format!("/t/{tenant}/drafts/{token}"), "expires_at": draft.expires_at})),
    )
        .into_response())
}

pub async fn get_draft(
    State(db): State<Db>,
    Path((tenant, token)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    let d = applications::load_draft(&db, &tenant, &token)
        .await?
        .ok_or(AppError::NotFound("draft"))?;
    Ok(Json(
        json!({"procedure_id": d.procedure_id, "answers": d.input.values, "updated_at": d.updated_at, "expires_at": d.expires_at}),
    ))
}

pub async fn put_draft(
    State(db): State<Db>,
    Path((tenant, token)): Path<(String, String)>,
    lang: Lang,
    JsonBody(b): JsonBody<AnswersBody>,
) -> AppResult<Json<Value>> {
    let mut d = applications::load_draft(&db, &tenant, &token)
        .await?
        .ok_or(AppError::NotFound("draft"))?;
    let p = store::get(&db, &tenant, &d.procedure_id).await?;
    d.input =
        RawInput::from_json(&p.procedure.form, &b.answers, lang).map_err(AppError::Validation)?;
    applications::save_draft(&db, &tenant, &p.procedure.form, &d).await?;
    Ok(Json(json!({"saved": true})))
}

/// What a resident sees of their own case (no internal comments).
pub(crate) async fn resident_view(
    db: &Db,
    links: &Links,
    tenant: &str,
    receipt: &str,
    token: &str,
) -> AppResult<(applications::Application, Vec<applications::Event>)> {
    if !links.verify(tenant, receipt, token) {
        return Err(AppError::NotFound("application"));
    }
    let app = applications::get(db, tenant, receipt).await?;
    let events = applications::events(db, tenant, receipt)
        .await?
        .into_iter()
        .filter(|e| !matches!(e.kind.as_str(), "comment" | "assign" | "identity_checked"))
        .collect();
    Ok((app, events))
}

pub async fn my_case(
    State(db): State<Db>,
    State(links): State<Links>,
    Path((tenant, receipt, token)): Path<(String, String, String)>,
) -> AppResult<Json<Value>> {
    let (app, events) = resident_view(&db, &links, &tenant, &receipt, &token).await?;
    let p = store::get_version(&db, &tenant, &app.procedure_id, app.procedure_version).await?;
    // The link is a bearer link sent by e-mail: マイナンバー is shown masked.
    let mut answers = app.answers.clone();
    for f in p
        .form
        .fields
        .iter()
        .filter(|f| f.kind == FieldType::MyNumber)
    {
        if let Some(v) = answers.get_mut(&f.name) {
            *v = Value::String(form::display_value(f, v, Lang::Ja, false));
        }
    }
    Ok(Json(json!({
        "receipt_number": app.receipt_display(),
        "procedure_id": app.procedure_id,
        "status": app.status,
        "version": app.version,
        "answers": answers,
        "events": events.iter().map(|e| json!({"kind": e.kind, "to_status": e.to_status, "message": e.body, "at": kernel::clock::rfc3339_jst(e.at)})).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
pub struct ResubmitBody {
    version: i64,
    #[serde(default)]
    answers: serde_json::Map<String, Value>,
}

pub async fn my_resubmit(
    State(st): State<CasesState>,
    Path((tenant, receipt, token)): Path<(String, String, String)>,
    lang: Lang,
    JsonBody(b): JsonBody<ResubmitBody>,
) -> AppResult<Json<Value>> {
    let (app, _) = resident_view(&st.db, &st.links, &tenant, &receipt, &token).await?;
    let p = store::get_version(&st.db, &tenant, &app.procedure_id, app.procedure_version).await?;
    let (mut input, new) = api_input(&p, &b.answers, st.limits, lang)?;
    // Files not sent again keep the ones already attached.
    let existing = applications::answers_to_raw(&p.form, &app.answers);
    for (k, v) in existing.files {
        input.files.entry(k).or_insert(v);
    }
    for att in &new {
        let stored = applications::store_upload(
            &st.db,
            &tenant,
            &format!("application:{receipt}"),
            &att.field,
            &att.filename,
            &att.content_type,
            &att.bytes,
        )
        .await?;
        input.files.insert(att.field.clone(), stored);
    }
    applications::resubmit(&st.db, &tenant, &receipt, b.version, &p.form, &input, lang).await?;
    Ok(Json(json!({"status": "under_review"})))
}

#[derive(Deserialize)]
pub struct KpiQuery {
    fy: Option<String>,
}

pub(crate) fn fiscal_year_param(fy: Option<&str>) -> AppResult<i32> {
    match fy.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(kernel::clock::fiscal_year_of(kernel::clock::now_ms()).start_year()),
        Some(s) => jp::FiscalYear::parse(s)
            .map(|f| f.start_year())
            .map_err(|_| {
                AppError::BadRequest(format!(
                    "年度「{s}」が正しくありません（例：2026、令和8年度）。"
                ))
            }),
    }
}

pub async fn kpi(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    Query(q): Query<KpiQuery>,
) -> AppResult<Json<Value>> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let fy = fiscal_year_param(q.fy.as_deref())?;
    let r = kpi::report(
        &db,
        &tenant,
        fy,
        t.target("applications_online_capable_share", fy),
    )
    .await?;
    Ok(Json(serde_json::to_value(r).map_err(anyhow::Error::from)?))
}

// ------------------------------------------------------------ staff API

pub async fn cases(
    State(db): State<Db>,
    staff: CaseWorker,
    Query(f): Query<CaseFilter>,
) -> AppResult<Json<Value>> {
    let list = applications::list(&db, &staff, &f).await?;
    // The list shows who applied for what, never the answers themselves
    // (those are read, and audited, one case at a time).
    let items: Vec<Value> = list
        .items
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "receipt_number": a.receipt_display(),
                "procedure_id": a.procedure_id,
                "department": a.department,
                "channel": a.channel,
                "status": a.status,
                "applicant_name": a.applicant_name,
                "applicant_kana": a.applicant_kana,
                "assignee": a.assignee,
                "submitted_at": kernel::clock::rfc3339_jst(a.submitted_at),
                "version": a.version,
            })
        })
        .collect();
    audit::record(
        &db,
        &staff.tenant,
        AuditEntry::new(staff.actor(), "application.list", "applications")
            .detail(json!({"status": f.status, "q_given": f.q.as_deref().is_some_and(|q| !q.is_empty()), "count": list.items.len()})),
    )
    .await?;
    Ok(Json(
        json!({"items": items, "total": list.total, "page": list.page, "pages": list.pages}),
    ))
}

/// Loads a case for a member of staff, refusing other departments' cases
/// as not found (their existence is not revealed), and audits the view.
pub(crate) async fn staff_case(
    db: &Db,
    staff: &CaseWorker,
    id: &str,
) -> AppResult<applications::Application> {
    let app = applications::get_for_staff(db, staff, id).await?;
    audit::record(
        db,
        &staff.tenant,
        AuditEntry::new(
            staff.actor(),
            "application.view",
            format!("application:{id}"),
        ),
    )
    .await?;
    Ok(app)
}

#[derive(Deserialize, Default)]
pub struct RevealQuery {
    /// `my_number` shows マイナンバー unmasked (audited).
    #[serde(default)]
    reveal: String,
}

/// Replaces every マイナンバー in a JSON document by its masked form.
fn mask_my_numbers(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Ok(n) = jp::MyNumber::parse(s) {
                if s.chars().count() <= 24 {
                    *s = n.masked();
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask_my_numbers),
        Value::Object(o) => o.values_mut().for_each(mask_my_numbers),
        _ => {}
    }
}

pub async fn case(
    State(db): State<Db>,
    staff: CaseWorker,
    lang: Lang,
    Path((_tenant, id)): Path<(String, String)>,
    Query(q): Query<RevealQuery>,
) -> AppResult<Json<Value>> {
    let app = staff_case(&db, &staff, &id).await?;
    let events = applications::events(&db, &staff.tenant, &id).await?;
    let form =
        catalogue::store::get_version(&db, &staff.tenant, &app.procedure_id, app.procedure_version)
            .await?
            .form;
    let withheld = crate::verified::guard(&db, &staff, &form, &app).await?;
    let mut v = serde_json::to_value(&app).map_err(anyhow::Error::from)?;
    if let Some(answers) = v["answers"].as_object_mut() {
        withheld.iter().for_each(|f| {
            answers.remove(f);
        });
    }
    v["withheld_fields"] = serde_json::to_value(&withheld).map_err(anyhow::Error::from)?;
    if q.reveal == "my_number" {
        audit::record(
            &db,
            &staff.tenant,
            AuditEntry::new(
                staff.actor(),
                "application.reveal_my_number",
                format!("application:{id}"),
            ),
        )
        .await?;
    } else {
        mask_my_numbers(&mut v["answers"]);
    }
    v["receipt_number"] = Value::String(app.receipt_display());
    v["events"] = serde_json::to_value(events).map_err(anyhow::Error::from)?;
    let (actions, separated) = crate::separation::available(&db, &staff, &app).await?;
    v["actions"] = serde_json::to_value(actions).map_err(anyhow::Error::from)?;
    v["separation_of_duties"] = Value::Bool(separated);
    // A case opened at a life-event visit: the identity check done once at
    // the one-stop desk, so this department need not check again.
    if let Some(vid) = &app.visit_id {
        if let Some(c) = crate::visits::identity_check(&db, &staff.tenant, vid).await? {
            v["identity_check"] = crate::visits::identity_json(&c, lang);
        }
    }
    // A case entered at the counter: the check the clerk did for it.
    if let Some(c) = crate::identity_checks::of_case(&db, &staff.tenant, &id).await? {
        v["identity_check"] = crate::visits::identity_json(&c, lang);
    }
    Ok(Json(v))
}

#[derive(Deserialize)]
pub struct ActionBody {
    action: String,
    version: i64,
    #[serde(default)]
    message: String,
}

pub async fn case_action(
    State(db): State<Db>,
    State(links): State<Links>,
    staff: CaseWorker,
    Path((_tenant, id)): Path<(String, String)>,
    JsonBody(b): JsonBody<ActionBody>,
) -> AppResult<Json<Value>> {
    let action = Action::parse(&b.action)
        .ok_or_else(|| AppError::BadRequest(format!("操作「{}」はありません。", b.action)))?;
    let to = workflow::act(&db, &links, &staff, &id, action, b.version, &b.message).await?;
    Ok(Json(json!({"status": to})))
}

#[derive(Deserialize)]
pub struct CommentBody {
    text: String,
}

pub async fn case_comment(
    State(db): State<Db>,
    staff: CaseWorker,
    Path((_tenant, id)): Path<(String, String)>,
    JsonBody(b): JsonBody<CommentBody>,
) -> AppResult<Response> {
    workflow::comment(&db, &staff, &id, &b.text).await?;
    Ok(StatusCode::CREATED.into_response())
}

#[derive(Deserialize)]
pub struct AssignBody {
    assignee: String,
    version: i64,
}

pub async fn case_assign(
    State(db): State<Db>,
    staff: CaseWorker,
    Path((_tenant, id)): Path<(String, String)>,
    JsonBody(b): JsonBody<AssignBody>,
) -> AppResult<Json<Value>> {
    workflow::assign(&db, &staff, &id, &b.assignee, b.version).await?;
    Ok(Json(json!({"assignee": b.assignee})))
}

pub async fn outbox(State(db): State<Db>, staff: SystemAdmin) -> AppResult<Json<Value>> {
    let mails = mail::delivery::listing::list(&db, &staff.tenant).await?;
    audit::record(
        &db,
        &staff.tenant,
        AuditEntry::new(staff.actor(), "outbox.view", "outbox"),
    )
    .await?;
    Ok(Json(json!({"items": mails})))
}

/// 申請状況の確認 in the API: the receipt number and exactly one of the
/// e-mail address, phone number or birth date given in the application.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    receipt_number: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    birth_date: Option<String>,
    #[serde(default)]
    lang: Option<Lang>,
}

/// The case's status and the applicant's link on a match; an unknown
/// receipt number and a wrong factor get the same 422; a receipt number
/// with too many failures 429 (see `crate::lookup`).
pub async fn status_lookup(
    State(st): State<CasesState>,
    Path(tenant): Path<String>,
    lang: Lang,
    who: kernel::resident::MaybeResident,
    JsonBody(b): JsonBody<LookupBody>,
) -> AppResult<Json<Value>> {
    kernel::tenant::load(&st.db, &tenant).await?;
    let lang = b.lang.unwrap_or(lang);
    let typed = crate::lookup::Typed {
        receipt_number: b.receipt_number,
        email: b.email.unwrap_or_default(),
        phone: b.phone.unwrap_or_default(),
        birth_date: b.birth_date.unwrap_or_default(),
    };
    let q = crate::lookup::parse(&typed, lang).map_err(AppError::Validation)?;
    let actor = crate::lookup::actor(&who);
    match crate::lookup::look_up(&st.db, &st.lookups, &tenant, &q, actor).await? {
        crate::lookup::Outcome::Found(app) => Ok(Json(json!({
            "receipt_number": app.receipt_display(),
            "id": app.id,
            "procedure_id": app.procedure_id,
            "status": app.status.as_str(),
            "status_label": kernel::i18n::t(lang, &app.status.label_key()),
            "submitted_at": app.submitted_at,
            "access_token": st.links.access_token(&tenant, &app.id),
            "case_url": st.links.case_url(&tenant, &app.id),
        }))),
        crate::lookup::Outcome::NoMatch => {
            Err(AppError::Validation(vec![crate::lookup::no_match(lang)]))
        }
        crate::lookup::Outcome::Refused(secs) => Err(AppError::TooManyRequests(secs)),
    }
}
