//! Resident pages (server-rendered, no JavaScript needed): the portal,
//! procedure pages, the application form, check-your-answers, drafts and
//! the resident's own view of a case with the correction loop.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kernel::i18n::{self, Lang, Shown};
use kernel::tenant::TenantProfile;
use kernel::web::{render, render_status, tenant_page, Page};
use kernel::{AppError, AppResult, Db, FieldError};
use serde::Deserialize;

use crate::applications::{self, Links};
use crate::catalogue;
use crate::form::{self, RawInput};
use crate::intake::{self, Intake};
use crate::model::{Channel, StoredProcedure, LIFE_EVENTS};
use crate::routes::{Limits, ProceduresState};
use crate::view::{self, AnswerRow, FieldView, ProcedureCard};
use crate::workflow::Status;
use kernel::resident::MaybeResident;

// ------------------------------------------------------------ portal

#[derive(Template)]
#[template(path = "tenant_home.html")]
struct TenantHome {
    page: Page,
    events: Vec<(String, String)>,
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
    let items = catalogue::list(&db, &tenant).await?;
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
            .map(|e| {
                (
                    e.to_string(),
                    i18n::t(lang, &format!("life_event.{e}")).to_string(),
                )
            })
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
    event: String,
    department: String,
    online_only: bool,
    events: Vec<(String, String)>,
    departments: Vec<(String, String)>,
}

/// Folds width and kana so a search matches however it was typed.
fn fold_for_search(s: &str) -> String {
    jp::hiragana_to_katakana(&jp::fold_width(&jp::nfc(s))).to_lowercase()
}

pub async fn procedure_list(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<catalogue::Cache>>,
    Path(tenant): Path<String>,
    Query(q): Query<ListQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let items = catalogue::list(&db, &tenant).await?;
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
    let ranked: Option<Vec<String>> = match (cache.search(), search::parse_query_text(&query)) {
        (Some(s), Ok(text)) => Some(
            s.query(
                &tenant,
                &search::SearchQuery {
                    text,
                    lang,
                    kinds: vec![search::DocKind::Procedure],
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await?
            .hits
            .into_iter()
            .filter_map(|h| h.id.strip_prefix("procedure:").map(str::to_string))
            .collect(),
        ),
        _ => None,
    };
    let mut filtered: Vec<StoredProcedure> = items
        .into_iter()
        .filter(|s| {
            let p = &s.procedure;
            (event.is_empty() || p.life_events.contains(&event))
                && (department.is_empty() || p.department == department)
                && (!online_only || p.channels.online())
                && (needle.is_empty()
                    || match &ranked {
                        Some(ids) => ids.contains(&p.id),
                        None => fold_for_search(&format!(
                            "{} {} {}",
                            p.name.ja(),
                            p.name.get(lang),
                            p.description.get(lang)
                        ))
                        .contains(&needle),
                    })
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
        events: LIFE_EVENTS
            .iter()
            .map(|e| {
                (
                    e.to_string(),
                    i18n::t(lang, &format!("life_event.{e}")).to_string(),
                )
            })
            .collect(),
        departments: t
            .departments
            .iter()
            .map(|d| (d.code.clone(), d.name.shown(lang).label()))
            .collect(),
        event,
        department,
        online_only,
        page,
    }))
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
    let s = catalogue::get(&db, &tenant, &id).await?;
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

// ------------------------------------------------------ the application

fn draft_cookie_name(procedure_id: &str) -> String {
    format!("mdg_draft_{procedure_id}")
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    kernel::auth::cookie(headers, name).map(str::to_string)
}

fn set_draft_cookie(links: &Links, tenant: &str, procedure_id: &str, token: &str) -> String {
    format!(
        "{}={token}; Path=/t/{tenant}/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        draft_cookie_name(procedure_id),
        applications::DRAFT_DAYS * 86_400,
        if links.public_url.starts_with("https://") {
            "; Secure"
        } else {
            ""
        }
    )
}

fn clear_draft_cookie(tenant: &str, procedure_id: &str) -> String {
    format!(
        "{}=; Path=/t/{tenant}/; Max-Age=0; HttpOnly; SameSite=Lax",
        draft_cookie_name(procedure_id)
    )
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

async fn online_procedure(
    db: &Db,
    tenant: &str,
    id: &str,
) -> AppResult<(TenantProfile, StoredProcedure)> {
    let t = kernel::tenant::load(db, tenant).await?;
    let s = catalogue::get(db, tenant, id).await?;
    if !s.procedure.channels.online() {
        return Err(AppError::NotFound("procedure"));
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
    let (t, s) = online_procedure(&db, &tenant, &id).await?;
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

/// A posted multipart form: text values and uploaded files.
pub(crate) struct Posted {
    pub values: BTreeMap<String, String>,
    pub files: Vec<(String, String, Vec<u8>)>,
}

impl Posted {
    pub fn control(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    /// The values that belong to the form (control fields start with `_`).
    pub fn answers(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

pub(crate) async fn read_multipart(mut mp: Multipart) -> AppResult<Posted> {
    let mut values = BTreeMap::new();
    let mut files = Vec::new();
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest(format!("フォームの送信内容を読めません: {e}"))
        }
    };
    while let Some(field) = mp.next_field().await.map_err(too_large)? {
        let name = field.name().unwrap_or_default().to_string();
        if name.len() > 100 {
            return Err(AppError::BadRequest(
                "フォームの項目名が長すぎます。".into(),
            ));
        }
        if let Some(filename) = field.file_name().map(str::to_string) {
            let bytes = field.bytes().await.map_err(too_large)?;
            if !filename.is_empty() && !bytes.is_empty() {
                files.push((name, filename, bytes.to_vec()));
            }
        } else {
            let text = field.text().await.map_err(too_large)?;
            values.insert(name, text);
        }
    }
    Ok(Posted { values, files })
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
    State(st): State<ProceduresState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
    who: MaybeResident,
    mp: Multipart,
) -> AppResult<Response> {
    let (t, s) = online_procedure(&st.db, &tenant, &id).await?;
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
            if let Ok(v) = header::HeaderValue::from_str(c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
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
    let errors = match form::validate(&s.procedure.form, &checked_input, lang) {
        Ok(_) if upload_errors.is_empty() => {
            return Ok(with_cookie(
                Redirect::to(&format!("/t/{tenant}/procedures/{id}/apply/check")).into_response(),
            ))
        }
        Ok(_) => upload_errors,
        Err(mut e) => {
            for u in upload_errors {
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
    let (t, s) = online_procedure(&db, &tenant, &id).await?;
    let form_path = format!("/t/{tenant}/procedures/{id}/apply");
    let Some((_, draft)) = current_draft(&db, &tenant, &id, &headers).await? else {
        return Ok(Redirect::to(&form_path).into_response());
    };
    if !intake::identity_met(s.procedure.identity_level, who.0.as_ref()) {
        return Ok(sign_in_first(&tenant, &id, &s));
    }
    let (input, verified) = with_identity(&s.procedure.form, &draft.input, &who);
    let Ok(answers) = form::validate(&s.procedure.form, &input, lang) else {
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
    State(st): State<ProceduresState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
    who: MaybeResident,
) -> AppResult<Response> {
    let (_, s) = online_procedure(&st.db, &tenant, &id).await?;
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
    events: Vec<(String, String, String)>,
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
    let p = catalogue::get_version(&db, &tenant, &app.procedure_id, app.procedure_version).await?;
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
        rows: view::case_rows(&p.form, &app, lang, false),
        events: events
            .iter()
            .map(|e| {
                (
                    kernel::clock::format_in(lang, e.at),
                    e.to_status
                        .as_deref()
                        .and_then(Status::parse)
                        .map(|s| i18n::t(lang, &s.label_key()).to_string())
                        .unwrap_or_default(),
                    if e.kind == "request_correction" || e.kind == "reject" {
                        e.body.clone()
                    } else {
                        String::new()
                    },
                )
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
    crate::model::Procedure,
    String,
)> {
    let t = kernel::tenant::load(db, tenant).await?;
    let (app, events) = crate::api::resident_view(db, links, tenant, receipt, token).await?;
    if app.status != Status::CorrectionRequested {
        return Err(AppError::Conflict("status"));
    }
    let p = catalogue::get_version(db, tenant, &app.procedure_id, app.procedure_version).await?;
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
    State(st): State<ProceduresState>,
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
    let result = if upload_errors.is_empty() {
        applications::resubmit(&st.db, &tenant, &receipt, version, &p.form, &input, lang).await
    } else {
        Err(AppError::Validation(upload_errors))
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
