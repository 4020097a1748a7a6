//! Resident pages of a case (server-rendered, no JavaScript needed): the
//! application form, check-your-answers, drafts and the resident's own
//! view of a case with the correction loop.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kernel::i18n::{self, Lang};
use kernel::tenant::TenantProfile;
use kernel::web::{read_multipart, render, render_status, tenant_page, Page, Posted};
use kernel::{AppError, AppResult, Db, FieldError};
use serde::Deserialize;

use crate::applications::{self, Links};
use crate::intake::{self, Intake};
use crate::state::{CasesState, Limits};
use crate::status::Status;
use catalogue::form::{self, RawInput};
use catalogue::model::{Channel, StoredProcedure};
use catalogue::rules::Today;
use catalogue::store;
use catalogue::view::{self, AnswerRow, FieldView};
use kernel::resident::MaybeResident;

// ------------------------------------------------------ the application

fn draft_cookie_name(procedure_id: &str) -> String {
    format!("mdg_draft_{procedure_id}")
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    kernel::auth::cookie(headers, name).map(str::to_string)
}

fn set_draft_cookie(links: &Links, tenant: &str, procedure_id: &str, token: &str) -> HeaderValue {
    kernel::web::Cookie::new(&draft_cookie_name(procedure_id), token)
        .path(&format!("/t/{tenant}/"))
        .max_age_secs(applications::DRAFT_DAYS * 86_400)
        .secure(links.public_url.starts_with("https://"))
        .header()
}

fn clear_draft_cookie(tenant: &str, procedure_id: &str) -> HeaderValue {
    kernel::web::Cookie::removal(&draft_cookie_name(procedure_id), &format!("/t/{tenant}/"))
        .header()
}

async fn current_draft(
    db: &Db,
    tenant: &str,
    procedure_id: &str,
    headers: &HeaderMap,
) -> AppResult<Option<(String, applications::Draft)>> {
    let Some(token) = cookie_value(headers, &draft_cookie_name(procedure_id)) else {
        return Ok(None);
    };
    Ok(applications::load_draft(db, tenant, &token)
        .await?
        .filter(|d| d.procedure_id == procedure_id)
        .map(|d| (token, d)))
}

/// The procedure of an online application. A counter-only one is
/// refused with the reason (come to the counter), as the API refuses it.
async fn online_procedure(
    db: &Db,
    tenant: &str,
    id: &str,
    lang: Lang,
) -> AppResult<(TenantProfile, StoredProcedure)> {
    let t = kernel::tenant::load(db, tenant).await?;
    let s = store::get(db, tenant, id).await?;
    if !s.procedure.channels.online() {
        return Err(AppError::BadRequest(i18n::tf(
            lang,
            "intake.not_online",
            &[("procedure", s.procedure.name.get(lang))],
        )));
    }
    Ok((t, s))
}

#[derive(Template)]
#[template(path = "apply_form.html")]
pub(crate) struct ApplyForm {
    pub page: Page,
    pub procedure_name: String,
    pub action: String,
    pub fields: Vec<FieldView>,
    pub errors: Vec<FieldError>,
    pub version: i64,
    pub correction: bool,
    pub correction_message: String,
}

fn apply_page(lang: Lang, t: &TenantProfile, s: &StoredProcedure) -> Page {
    let tenant = t.code.as_str();
    let id = &s.procedure.id;
    tenant_page(
        lang,
        t,
        i18n::tf(
            lang,
            "apply.title",
            &[("procedure", s.procedure.name.get(lang))],
        ),
        format!("/t/{tenant}/procedures/{id}/apply"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"))
    .crumb(
        s.procedure.name.get(lang),
        format!("/t/{tenant}/procedures/{id}"),
    )
}

/// The draft's input with the verified identity put in, and the names of
/// the fields it filled.
fn with_identity(
    form: &form::FormDef,
    input: &RawInput,
    who: &MaybeResident,
) -> (RawInput, Vec<String>) {
    let mut input = input.clone();
    let verified = who
        .0
        .as_ref()
        .map(|r| form::apply_verified(form, &r.claims, &mut input))
        .unwrap_or_default();
    (input, verified)
}

/// Form fields for display, verified ones marked.
fn field_views(
    form: &form::FormDef,
    input: &RawInput,
    errors: &[FieldError],
    who: &MaybeResident,
    lang: Lang,
) -> Vec<FieldView> {
    let (input, verified) = with_identity(form, input, who);
    let mut fields = view::fields(form, &input, errors, lang);
    view::mark_verified(&mut fields, &verified, lang);
    fields
}

/// Procedures that need a sign-in send the resident to sign in first,
/// and back to the form afterwards.
fn sign_in_first(tenant: &str, id: &str, s: &StoredProcedure) -> Response {
    let back = format!("/t/{tenant}/procedures/{id}/apply");
    Redirect::to(&format!(
        "/t/{tenant}/sign-in?need={}&return_to={back}",
        s.procedure.identity_level.as_str()
    ))
    .into_response()
}

pub async fn apply_form(
    State(db): State<Db>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
    who: MaybeResident,
) -> AppResult<Response> {
    let (t, s) = online_procedure(&db, &tenant, &id, lang).await?;
    if !intake::identity_met(s.procedure.identity_level, who.0.as_ref()) {
        return Ok(sign_in_first(&tenant, &id, &s));
    }
    let draft = current_draft(&db, &tenant, &id, &headers).await?;
    let input = draft
        .as_ref()
        .map(|(_, d)| d.input.clone())
        .unwrap_or_default();
    Ok(render(&ApplyForm {
        page: apply_page(lang, &t, &s).resident(who.name()),
        procedure_name: s.procedure.name.get(lang).to_string(),
        action: format!("/t/{tenant}/procedures/{id}/apply"),
        fields: field_views(&s.procedure.form, &input, &[], &who, lang),
        errors: Vec::new(),
        version: 0,
        correction: false,
        correction_message: String::new(),
    }))
}

/// Stores each uploaded file that passes its field's checks under `owner`;
/// returns messages for the ones that did not.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn store_uploads(
    db: &Db,
    tenant: &str,
    owner: &str,
    form: &form::FormDef,
    posted: &Posted,
    input: &mut RawInput,
    limits: Limits,
    lang: Lang,
) -> AppResult<Vec<FieldError>> {
    let mut errors = Vec::new();
    for (name, filename, bytes) in &posted.files {
        let Some(field) = form.field(name).filter(|f| f.kind == form::FieldType::File) else {
            continue;
        };
        let filename = form::safe_filename(filename);
        match form::check_upload(field, &filename, bytes, limits.max_attachment_bytes, lang) {
            Ok(ct) => {
                let r = applications::store_upload(db, tenant, owner, name, &filename, ct, bytes)
                    .await?;
                input.files.insert(name.clone(), r);
            }
            Err(message) => errors.push(FieldError {
                field: name.clone(),
                message,
            }),
        }
    }
    Ok(errors)
}

pub async fn apply_post(
    State(st): State<CasesState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
    who: MaybeResident,
    mp: Multipart,
) -> AppResult<Response> {
    let (t, s) = online_procedure(&st.db, &tenant, &id, lang).await?;
    let posted = read_multipart(mp).await?;
    let (token, mut draft, new_cookie) = match current_draft(&st.db, &tenant, &id, &headers).await?
    {
        Some((token, d)) => (token, d, false),
        None => {
            let (token, d) = applications::create_draft(&st.db, &tenant, &id).await?;
            (token, d, true)
        }
    };
    draft.input.values = posted.answers();
    // Without script the address is not filled as the resident types: an
    // empty address is filled from the postal code here, and the form
    // comes back for the resident to add the 番地 and check it.
    let filled = if posted.control("_action") == "save" {
        Vec::new()
    } else {
        form::fill_addresses(&s.procedure.form, &mut draft.input, lang)
    };
    let upload_errors = store_uploads(
        &st.db,
        &tenant,
        &format!("draft:{}", draft.id),
        &s.procedure.form,
        &posted,
        &mut draft.input,
        st.limits,
        lang,
    )
    .await?;
    applications::save_draft(&st.db, &tenant, &s.procedure.form, &draft).await?;
    let cookie = new_cookie.then(|| set_draft_cookie(&st.links, &tenant, &id, &token));
    let with_cookie = |resp: Response| -> Response {
        let mut resp = resp;
        if let Some(c) = &cookie {
            resp.headers_mut().append(header::SET_COOKIE, c.clone());
        }
        resp
    };
    if posted.control("_action") == "save" {
        return Ok(with_cookie(render(&DraftSaved {
            page: apply_page(lang, &t, &s),
            resume_path: format!("/t/{tenant}/drafts/{token}"),
            form_path: format!("/t/{tenant}/procedures/{id}/apply"),
            expires: kernel::clock::format_in(lang, draft.expires_at),
        })));
    }
    let (checked_input, _) = with_identity(&s.procedure.form, &draft.input, &who);
    let today = Today::now(&t.calendar);
    let errors = match form::validate(&s.procedure.form, &checked_input, lang, &today) {
        Ok(_) if upload_errors.is_empty() && filled.is_empty() => {
            return Ok(with_cookie(
                Redirect::to(&format!("/t/{tenant}/procedures/{id}/apply/check")).into_response(),
            ))
        }
        Ok(_) => {
            let mut e = filled;
            e.extend(upload_errors);
            order_errors(&s.procedure.form, &mut e);
            e
        }
        Err(mut e) => {
            for u in filled.into_iter().chain(upload_errors) {
                e.retain(|x| x.field != u.field);
                e.push(u);
            }
            order_errors(&s.procedure.form, &mut e);
            e
        }
    };
    Ok(with_cookie(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &ApplyForm {
            page: apply_page(lang, &t, &s)
                .with_errors(true)
                .resident(who.name()),
            procedure_name: s.procedure.name.get(lang).to_string(),
            action: format!("/t/{tenant}/procedures/{id}/apply"),
            fields: field_views(&s.procedure.form, &draft.input, &errors, &who, lang),
            errors,
            version: 0,
            correction: false,
            correction_message: String::new(),
        },
    )))
}

/// Errors in the order of the form, so the summary reads top to bottom.
fn order_errors(form: &form::FormDef, errors: &mut [FieldError]) {
    let pos = |name: &str| {
        form.fields
            .iter()
            .position(|f| f.name == name || format!("{}_kana", f.name) == name)
            .unwrap_or(usize::MAX)
    };
    errors.sort_by_key(|e| (pos(&e.field), e.field.ends_with("_kana")));
}

#[derive(Template)]
#[template(path = "draft_saved.html")]
struct DraftSaved {
    page: Page,
    resume_path: String,
    form_path: String,
    expires: String,
}

pub async fn resume_draft(
    State(db): State<Db>,
    State(links): State<Links>,
    Path((tenant, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let (token, d) = applications::rotate_draft(&db, &tenant, &token)
        .await?
        .ok_or(AppError::NotFound("draft"))?;
    Ok((
        [(
            header::SET_COOKIE,
            set_draft_cookie(&links, &tenant, &d.procedure_id, &token),
        )],
        Redirect::to(&format!("/t/{tenant}/procedures/{}/apply", d.procedure_id)),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage {
    page: Page,
    rows: Vec<AnswerRow>,
    form_path: String,
    submit_path: String,
    fee: String,
}

pub async fn check_page(
    State(db): State<Db>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
    who: MaybeResident,
) -> AppResult<Response> {
    let (t, s) = online_procedure(&db, &tenant, &id, lang).await?;
    let form_path = format!("/t/{tenant}/procedures/{id}/apply");
    let Some((_, draft)) = current_draft(&db, &tenant, &id, &headers).await? else {
        return Ok(Redirect::to(&form_path).into_response());
    };
    if !intake::identity_met(s.procedure.identity_level, who.0.as_ref()) {
        return Ok(sign_in_first(&tenant, &id, &s));
    }
    let (input, verified) = with_identity(&s.procedure.form, &draft.input, &who);
    let Ok(answers) = form::validate(&s.procedure.form, &input, lang, &Today::now(&t.calendar))
    else {
        return Ok(Redirect::to(&form_path).into_response());
    };
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "check.title"),
        format!("/t/{tenant}/procedures/{id}/apply/check"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"))
    .crumb(
        s.procedure.name.get(lang),
        format!("/t/{tenant}/procedures/{id}"),
    );
    let mut rows = view::answer_rows(&s.procedure.form, &answers, lang, false);
    for r in rows.iter_mut().filter(|r| verified.contains(&r.name)) {
        r.verified = true;
    }
    Ok(render(&CheckPage {
        page: page.resident(who.name()),
        rows,
        submit_path: format!("/t/{tenant}/procedures/{id}/apply/submit"),
        form_path,
        fee: s.procedure.fee_display(),
    }))
}

pub async fn submit_post(
    State(st): State<CasesState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
    who: MaybeResident,
) -> AppResult<Response> {
    let (t, s) = online_procedure(&st.db, &tenant, &id, lang).await?;
    let today = Today::now(&t.calendar);
    let draft = current_draft(&st.db, &tenant, &id, &headers).await?;
    let Some((_, draft)) = draft else {
        // A second click after success: the draft is gone, but its token
        // (in the cookie) still names the case it became.
        if let Some(token) = cookie_value(&headers, &draft_cookie_name(&id)) {
            let key = applications::submit_key_for(&kernel::ids::hash_token(&token));
            if let Some(receipt) =
                applications::find_by_idempotency_key(&st.db, &tenant, &key).await?
            {
                return Ok(Redirect::to(&format!(
                    "{}?new=1",
                    st.links.case_path(&tenant, &receipt)
                ))
                .into_response());
            }
        }
        return Ok(Redirect::to(&format!("/t/{tenant}/procedures/{id}/apply")).into_response());
    };
    let key = draft.submit_key();
    let result = intake::submit(
        &st.committer,
        Intake {
            tenant: &tenant,
            procedure: &s,
            input: &draft.input,
            channel: Channel::Online,
            idempotency_key: &key,
            draft_id: Some(draft.id.clone()),
            new_attachments: Vec::new(),
            actor: "resident".into(),
            lang,
            submitted_at: None,
            resident: who.0.as_ref(),
            counter_identity: None,
            today: &today,
            identity_check: None,
        },
    )
    .await;
    match result {
        Ok(sub) => Ok((
            [(header::SET_COOKIE, clear_draft_cookie(&tenant, &id))],
            Redirect::to(&format!(
                "{}?new=1",
                st.links.case_path(&tenant, sub.receipt().as_str())
            )),
        )
            .into_response()),
        Err(AppError::Validation(_)) => {
            Ok(Redirect::to(&format!("/t/{tenant}/procedures/{id}/apply")).into_response())
        }
        // The sign-in ended while the form was filled in: sign in again;
        // the draft is kept.
        Err(AppError::IdentityRequired(_)) => Ok(sign_in_first(&tenant, &id, &s)),
        Err(e) => Err(e),
    }
}

// --------------------------------------------- the resident's own case

/// A line of the case's history as the resident sees it.
struct TimelineEntry {
    at: String,
    /// The status it moved to, if it moved.
    status: String,
    /// The department's message (a correction request or a refusal).
    message: String,
}

#[derive(Template)]
#[template(path = "my_case.html")]
struct MyCase {
    page: Page,
    is_new: bool,
    receipt: String,
    procedure_name: String,
    status: Status,
    status_label: &'static str,
    submitted: String,
    rows: Vec<AnswerRow>,
    events: Vec<TimelineEntry>,
    correction_message: String,
    correct_path: String,
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    new: Option<String>,
}

pub async fn my_case(
    State(db): State<Db>,
    State(links): State<Links>,
    Path((tenant, receipt, token)): Path<(String, String, String)>,
    Query(q): Query<NewQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let (app, events) = crate::api::resident_view(&db, &links, &tenant, &receipt, &token).await?;
    let p = store::get_version(&db, &tenant, &app.procedure_id, app.procedure_version).await?;
    let correction_message = events
        .iter()
        .rev()
        .find(|e| e.kind == "request_correction")
        .map(|e| e.body.clone())
        .filter(|_| app.status == Status::CorrectionRequested)
        .unwrap_or_default();
    let case_path = links.case_path(&tenant, &receipt);
    let page = tenant_page(lang, &t, i18n::t(lang, "my.title"), case_path.clone())
        .crumb(t.name.get(lang), format!("/t/{tenant}"));
    Ok(render(&MyCase {
        page,
        is_new: q.new.is_some(),
        receipt: app.receipt_display(),
        procedure_name: p.name.get(lang).to_string(),
        status: app.status,
        status_label: i18n::t(lang, &app.status.label_key()),
        submitted: kernel::clock::format_in(lang, app.submitted_at),
        rows: crate::view::case_rows(&p.form, &app, lang, false, &[]),
        events: events
            .iter()
            .map(|e| TimelineEntry {
                at: kernel::clock::format_in(lang, e.at),
                status: e
                    .to_status
                    .as_deref()
                    .and_then(Status::parse)
                    .map(|s| i18n::t(lang, &s.label_key()).to_string())
                    .unwrap_or_default(),
                message: if e.kind == "request_correction" || e.kind == "reject" {
                    e.body.clone()
                } else {
                    String::new()
                },
            })
            .collect(),
        correction_message,
        correct_path: format!("{case_path}/correct"),
    }))
}

async fn correction_context(
    db: &Db,
    links: &Links,
    tenant: &str,
    receipt: &str,
    token: &str,
) -> AppResult<(
    TenantProfile,
    applications::Application,
    catalogue::model::Procedure,
    String,
)> {
    let t = kernel::tenant::load(db, tenant).await?;
    let (app, events) = crate::api::resident_view(db, links, tenant, receipt, token).await?;
    if app.status != Status::CorrectionRequested {
        return Err(AppError::Conflict("status"));
    }
    let p = store::get_version(db, tenant, &app.procedure_id, app.procedure_version).await?;
    let message = events
        .iter()
        .rev()
        .find(|e| e.kind == "request_correction")
        .map(|e| e.body.clone())
        .unwrap_or_default();
    Ok((t, app, p, message))
}

fn correction_page(lang: Lang, t: &TenantProfile, links: &Links, receipt: &str) -> Page {
    let tenant = t.code.as_str();
    tenant_page(
        lang,
        t,
        i18n::t(lang, "correct.title"),
        format!("{}/correct", links.case_path(tenant, receipt)),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"))
    .crumb(i18n::t(lang, "my.title"), links.case_path(tenant, receipt))
}

pub async fn correct_form(
    State(db): State<Db>,
    State(links): State<Links>,
    Path((tenant, receipt, token)): Path<(String, String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let (t, app, p, message) = correction_context(&db, &links, &tenant, &receipt, &token).await?;
    let mut input = applications::answers_to_raw(&p.form, &app.answers);
    applications::mask_my_numbers(&p.form, &mut input);
    Ok(render(&ApplyForm {
        page: correction_page(lang, &t, &links, &receipt),
        procedure_name: p.name.get(lang).to_string(),
        action: format!("{}/correct", links.case_path(&tenant, &receipt)),
        fields: {
            let mut f = view::fields(&p.form, &input, &[], lang);
            view::mark_verified(&mut f, &app.verified_fields, lang);
            f
        },
        errors: Vec::new(),
        version: app.version,
        correction: true,
        correction_message: message,
    }))
}

pub async fn correct_post(
    State(st): State<CasesState>,
    Path((tenant, receipt, token)): Path<(String, String, String)>,
    lang: Lang,
    mp: Multipart,
) -> AppResult<Response> {
    let (t, app, p, message) =
        correction_context(&st.db, &st.links, &tenant, &receipt, &token).await?;
    let posted = read_multipart(mp).await?;
    let version: i64 = posted.control("_version").parse().unwrap_or(-1);
    if version != app.version {
        return Err(AppError::Conflict("status"));
    }
    let mut input = applications::answers_to_raw(&p.form, &app.answers);
    input.values = posted.answers();
    // As on the first sending: without script, an emptied address is
    // filled from its postal code and the form comes back to be checked.
    let filled = form::fill_addresses(&p.form, &mut input, lang);
    let upload_errors = store_uploads(
        &st.db,
        &tenant,
        &format!("application:{receipt}"),
        &p.form,
        &posted,
        &mut input,
        st.limits,
        lang,
    )
    .await?;
    let result = if upload_errors.is_empty() && filled.is_empty() {
        applications::resubmit(&st.db, &tenant, &receipt, version, &p.form, &input, lang).await
    } else {
        let today = Today::now(&t.calendar);
        let mut errors = form::validate(&p.form, &input, lang, &today)
            .err()
            .unwrap_or_default();
        for u in filled.into_iter().chain(upload_errors) {
            errors.retain(|x| x.field != u.field);
            errors.push(u);
        }
        Err(AppError::Validation(errors))
    };
    match result {
        Ok(()) => Ok(Redirect::to(&st.links.case_path(&tenant, &receipt)).into_response()),
        Err(AppError::Validation(mut errors)) => {
            order_errors(&p.form, &mut errors);
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ApplyForm {
                    page: correction_page(lang, &t, &st.links, &receipt).with_errors(true),
                    procedure_name: p.name.get(lang).to_string(),
                    action: format!("{}/correct", st.links.case_path(&tenant, &receipt)),
                    fields: {
                        let mut f = view::fields(&p.form, &input, &errors, lang);
                        view::mark_verified(&mut f, &app.verified_fields, lang);
                        f
                    },
                    errors,
                    version: app.version,
                    correction: true,
                    correction_message: message,
                },
            ))
        }
        Err(e) => Err(e),
    }
}
