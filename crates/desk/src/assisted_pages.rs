//! HTML of 書かない窓口: the clerk's pages (find the resident in the
//! register, fill in the form, print, confirm a paper signature, submit)
//! and the resident's second screen (check, read the card, sign).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::Clerk;
use kernel::i18n::{self, Lang};
use kernel::registry::{RegistryQuery, ResidentRecord};
use kernel::resident::{self, Level, MaybeResident};
use kernel::web::{render_status, tenant_page, Page};
use kernel::{AppError, AppResult, Db, FieldError};
use serde::Deserialize;

use crate::assisted::{self, Entry, Signature, Status};
use crate::entries::{confirm_path, entry_token, load_for_staff, start_entry, ticket_display};
use crate::state::DeskState;
use cases::identity_checks::{CheckedDocument, DOCUMENT_FIELD, NOTE_FIELD};
use cases::visits::IdDocument;
use catalogue::form::{self, RawInput};
use catalogue::model::StoredProcedure;
use catalogue::rules::Today;
use catalogue::view::{self, AnswerRow, FieldView};

use kernel::web::staff_page;

// ------------------------------------------------------------ start page

#[derive(Deserialize, Default, Clone)]
pub struct StartQuery {
    #[serde(default)]
    procedure: String,
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kana: String,
    #[serde(default)]
    birth_date: String,
}

struct ProcedureOption {
    id: String,
    name: String,
    selected: bool,
}

struct RecordRow {
    id: String,
    name: String,
    kana: String,
    birth_date: String,
    sex: String,
    address: String,
    household: String,
}

struct OpenRow {
    id: String,
    procedure: String,
    status: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "staff_assist.html")]
struct StartPage {
    page: Page,
    procedures: Vec<ProcedureOption>,
    procedure: String,
    ticket: String,
    ticket_display: String,
    name: String,
    kana: String,
    birth_date: String,
    searched: bool,
    registry_connected: bool,
    records: Vec<RecordRow>,
    open: Vec<OpenRow>,
    errors: kernel::web::FormErrors,
}

/// Procedures a clerk can fill in: those with a form (file fields aside).
async fn assistable(db: &Db, tenant: &str) -> AppResult<Vec<StoredProcedure>> {
    Ok(catalogue::store::list(db, tenant)
        .await?
        .into_iter()
        .filter(|p| !assisted::counter_form(&p.procedure.form).fields.is_empty())
        .collect())
}

fn record_row(r: &ResidentRecord, lang: Lang) -> RecordRow {
    RecordRow {
        id: r.id.clone(),
        name: r.name.clone(),
        kana: r.kana.clone(),
        birth_date: jp_date(&r.birth_date, lang),
        sex: i18n::t(
            lang,
            if r.sex == "female" {
                "assist.sex.female"
            } else {
                "assist.sex.male"
            },
        )
        .to_string(),
        address: r.address.clone(),
        household: format!("{}（{}）", r.household_id, r.relationship),
    }
}

/// `1985-09-02` as 和暦 in Japanese, as is in English.
fn jp_date(iso: &str, lang: Lang) -> String {
    match (lang, jp::JpDate::parse(iso)) {
        (Lang::Ja, Ok(d)) => d.wareki(),
        _ => iso.to_string(),
    }
}

async fn start_page(
    st: &DeskState,
    clerk: &Clerk,
    lang: Lang,
    q: &StartQuery,
    mut errors: kernel::web::FormErrors,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &clerk.tenant).await?;
    let rq = RegistryQuery {
        name: q.name.clone(),
        kana: q.kana.clone(),
        birth_date: q.birth_date.clone(),
    };
    let searched = !rq.is_empty();
    // The ticket as called out (e.g. C2-015), for the clerk to check.
    let ticket_display = ticket_display(&st.db, &clerk.tenant, &q.ticket)
        .await?
        .unwrap_or_default();
    let records = match crate::register::search(
        &st.db,
        st.registry.0.as_ref(),
        clerk,
        &rq,
        "assisted_entry",
        lang,
    )
    .await
    {
        Ok(r) => r,
        Err(AppError::Validation(f)) => {
            errors.0.extend(f);
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    let procs = assistable(&st.db, &clerk.tenant).await?;
    let open = open_rows(&st.db, clerk, &procs, lang).await?;
    let page = staff_page(
        lang,
        &t,
        clerk,
        i18n::t(lang, "assist.title").to_string(),
        format!("/t/{}/staff/assist", clerk.tenant),
    )
    .with_errors(!errors.is_empty());
    let status = errors.status();
    Ok(render_status(
        status,
        &StartPage {
            page,
            procedures: procs
                .iter()
                .map(|p| ProcedureOption {
                    id: p.procedure.id.clone(),
                    name: p.procedure.name.get(lang).to_string(),
                    selected: p.procedure.id == q.procedure,
                })
                .collect(),
            procedure: q.procedure.clone(),
            ticket: q.ticket.clone(),
            ticket_display,
            name: q.name.clone(),
            kana: q.kana.clone(),
            birth_date: q.birth_date.clone(),
            searched,
            registry_connected: st.registry.0.name() != "none",
            records: records.iter().map(|r| record_row(r, lang)).collect(),
            open,
            errors,
        },
    ))
}

/// The entries still open that this clerk may see (their desk's, or of a
/// procedure of a department they see).
async fn open_rows(
    db: &Db,
    clerk: &Clerk,
    procs: &[StoredProcedure],
    lang: Lang,
) -> AppResult<Vec<OpenRow>> {
    let of = |id: &str| procs.iter().find(|p| p.procedure.id == id);
    Ok(assisted::open_entries(db, &clerk.tenant)
        .await?
        .into_iter()
        .filter(|e| {
            let department = of(&e.procedure_id)
                .map(|p| p.procedure.department.as_str())
                .unwrap_or("");
            assisted::may_view(clerk, e, department)
        })
        .map(|e| OpenRow {
            procedure: of(&e.procedure_id)
                .map(|p| p.procedure.name.get(lang).to_string())
                .unwrap_or_else(|| e.procedure_id.clone()),
            status: i18n::t(lang, &format!("assist.status.{}", e.status.as_str())).to_string(),
            updated: kernel::clock::format_in(lang, e.updated_at),
            id: e.id,
        })
        .collect())
}

pub async fn start_get(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path(_t): Path<String>,
    Query(q): Query<StartQuery>,
    lang: Lang,
) -> AppResult<Response> {
    start_page(&st, &clerk, lang, &q, Default::default()).await
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    registry_id: String,
    /// The procedure, ticket and the search the clerk came from (shown
    /// again if something is wrong).
    #[serde(flatten)]
    q: StartQuery,
}

/// Opens an entry for the chosen procedure (and resident, if found in the
/// register) and goes to its form.
pub async fn start_post(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path(_t): Path<String>,
    lang: Lang,
    Form(f): Form<StartForm>,
) -> AppResult<Response> {
    let e = start_entry(
        &st,
        &clerk,
        &f.q.procedure,
        &f.registry_id,
        &f.q.ticket,
        lang,
    )
    .await;
    match e {
        Ok(entry) => Ok(
            Redirect::to(&format!("/t/{}/staff/assist/{}", clerk.tenant, entry.id)).into_response(),
        ),
        Err(AppError::Validation(errs)) => {
            start_page(&st, &clerk, lang, &f.q, kernel::web::FormErrors(errs)).await
        }
        Err(e) => Err(e),
    }
}

// ------------------------------------------------------------ entry page

#[derive(Template)]
#[template(path = "staff_assist_entry.html")]
struct EntryPage {
    page: Page,
    e: EntryView,
    fields: Vec<FieldView>,
    rows: Vec<AnswerRow>,
    errors: Vec<FieldError>,
    confirm_url: String,
    confirm_qr: String,
    has_files: bool,
    /// Why the form is shown again with what was typed (e.g. changed on
    /// another screen meanwhile).
    notice: String,
    /// The identity documents to choose from on filing (none chosen
    /// unless the clerk chose one and the page is shown again).
    documents: Vec<DocumentChoice>,
    identity_note: String,
    check_errors: kernel::web::FormErrors,
}

/// One identity document on the confirm step.
struct DocumentChoice {
    value: &'static str,
    label: String,
    checked: bool,
}

/// What a page shown again keeps: the clerk's input, its errors, why.
#[derive(Default)]
struct Again<'a> {
    input: Option<RawInput>,
    errors: Vec<FieldError>,
    notice: Option<&'a str>,
    /// The identity document and note the clerk chose when filing.
    document: String,
    note: String,
}

fn document_choices(chosen: &str, lang: Lang) -> Vec<DocumentChoice> {
    IdDocument::ALL
        .iter()
        .map(|d| DocumentChoice {
            value: d.as_str(),
            label: i18n::t(lang, &d.label_key()).to_string(),
            checked: d.as_str() == chosen,
        })
        .collect()
}

/// What the entry's pages show about it.
pub struct EntryView {
    pub id: String,
    pub tenant: String,
    pub procedure: String,
    pub status: &'static str,
    pub status_label: String,
    pub version: i64,
    pub open: bool,
    pub from_registry: bool,
    pub card_read: bool,
    pub signature_method: String,
    pub signature_path: String,
    pub receipt: String,
    pub receipt_display: String,
}

fn entry_view(e: &Entry, p: &StoredProcedure, lang: Lang) -> EntryView {
    EntryView {
        id: e.id.clone(),
        tenant: e.tenant.clone(),
        procedure: p.procedure.name.get(lang).to_string(),
        status: e.status.as_str(),
        status_label: i18n::t(lang, &format!("assist.status.{}", e.status.as_str())).to_string(),
        version: e.version,
        open: e.status.is_open(),
        from_registry: e.registry_id.is_some(),
        card_read: !e.verified.verified_fields.is_empty(),
        signature_method: e.signature_method.clone().unwrap_or_default(),
        signature_path: e
            .signature
            .as_ref()
            .map(Signature::svg_path)
            .unwrap_or_default(),
        receipt: e.application_id.clone().unwrap_or_default(),
        receipt_display: e
            .application_id
            .as_deref()
            .and_then(kernel::ids::ReceiptNumber::parse)
            .map(|r| r.display())
            .unwrap_or_default(),
    }
}

/// Rows for checking: the typed values as the case will hold them
/// (マイナンバー masked), or nothing while the form is invalid.
fn rows(e: &Entry, p: &StoredProcedure, lang: Lang, today: &Today) -> Vec<AnswerRow> {
    let form = assisted::counter_form(&p.procedure.form);
    match form::validate(&form, &e.input, lang, today) {
        Ok(answers) => {
            let mut rows = view::answer_rows(&form, &answers, lang, false);
            for r in rows
                .iter_mut()
                .filter(|r| e.verified.verified_fields.contains(&r.name))
            {
                r.verified = true;
            }
            rows
        }
        Err(_) => Vec::new(),
    }
}

async fn entry_page(
    st: &DeskState,
    clerk: &Clerk,
    id: &str,
    lang: Lang,
    again: Again<'_>,
) -> AppResult<Response> {
    let Again {
        input,
        errors,
        notice,
        document,
        note,
    } = again;
    let t = kernel::tenant::load(&st.db, &clerk.tenant).await?;
    let (e, p) = load_for_staff(st, clerk, id).await?;
    kernel::audit::record(
        &st.db,
        &clerk.tenant,
        kernel::audit::AuditEntry::new(clerk.actor(), "assisted.view", format!("assisted:{id}")),
    )
    .await?;
    let form = assisted::counter_form(&p.procedure.form);
    let mut fields = view::fields(&form, input.as_ref().unwrap_or(&e.input), &errors, lang);
    view::mark_verified(&mut fields, &e.verified.verified_fields, lang);
    // A counter PC serves many residents: the browser must not remember
    // and suggest one resident's answers to the next.
    for f in fields.iter_mut() {
        f.autocomplete = "off";
    }
    let path = confirm_path(&clerk.tenant, id, &entry_token(st, &clerk.tenant, id));
    let url = format!("{}{}", st.links.public_url.trim_end_matches('/'), path);
    let title = i18n::tf(
        lang,
        "assist.entry_title",
        &[("procedure", p.procedure.name.get(lang))],
    );
    let page = staff_page(
        lang,
        &t,
        clerk,
        title,
        format!("/t/{}/staff/assist/{id}", clerk.tenant),
    )
    .crumb(
        i18n::t(lang, "assist.title"),
        format!("/t/{}/staff/assist", clerk.tenant),
    )
    .with_errors(!errors.is_empty());
    let status = if notice.is_some() {
        StatusCode::CONFLICT
    } else if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render_status(
        status,
        &EntryPage {
            page,
            e: entry_view(&e, &p, lang),
            rows: rows(&e, &p, lang, &Today::now(&t.calendar)),
            has_files: form.fields.len() != p.procedure.form.fields.len(),
            fields,
            confirm_qr: kernel::web::qr_svg(&url, 160)?,
            confirm_url: url,
            notice: notice.unwrap_or_default().to_string(),
            documents: document_choices(&document, lang),
            identity_note: note,
            check_errors: kernel::web::FormErrors(
                errors
                    .iter()
                    .filter(|e| e.field == DOCUMENT_FIELD || e.field == NOTE_FIELD)
                    .cloned()
                    .collect(),
            ),
            errors,
        },
    ))
}

pub async fn entry_get(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    entry_page(&st, &clerk, &id, lang, Again::default()).await
}

fn version_of(f: &BTreeMap<String, String>) -> AppResult<i64> {
    f.get("_version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            AppError::BadRequest(
                "版（_version）がありません。画面を読み込み直してください。".into(),
            )
        })
}

fn input_of(f: &BTreeMap<String, String>) -> RawInput {
    RawInput {
        values: f
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        files: Default::default(),
    }
}

pub async fn entry_save(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(f): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let version = version_of(&f)?;
    let (e, p) = load_for_staff(&st, &clerk, &id).await?;
    let mut input = input_of(&f);
    // Verified fields keep what the card gave.
    for name in &e.verified.verified_fields {
        if let Some(v) = e.input.values.get(name) {
            input.values.insert(name.clone(), v.clone());
        }
    }
    // Without script the address is not filled as the clerk types: an
    // empty address is filled from the postal code here and the entry
    // comes back for the 番地 to be added and checked.
    let filled = form::fill_addresses(&assisted::counter_form(&p.procedure.form), &mut input, lang);
    match assisted::save(&st.db, &clerk, &p, &id, version, input.clone(), lang).await {
        Ok(Ok(_)) if filled.is_empty() => Ok(Redirect::to(&format!(
            "/t/{}/staff/assist/{id}#confirm",
            clerk.tenant
        ))
        .into_response()),
        Ok(Ok(_)) => {
            let again = Again {
                input: Some(input),
                errors: filled,
                ..Again::default()
            };
            entry_page(&st, &clerk, &id, lang, again).await
        }
        Ok(Err((_, mut errors))) => {
            for u in filled {
                errors.retain(|x| x.field != u.field);
                errors.push(u);
            }
            let again = Again {
                input: Some(input),
                errors,
                ..Again::default()
            };
            entry_page(&st, &clerk, &id, lang, again).await
        }
        // Changed meanwhile (e.g. the resident read the card): what was
        // typed is shown again, with the reason, to save once more.
        Err(AppError::Conflict(code)) => {
            let message = i18n::t(lang, &format!("error.conflict.{code}"));
            let again = Again {
                input: Some(input),
                notice: Some(message),
                ..Again::default()
            };
            entry_page(&st, &clerk, &id, lang, again).await
        }
        Err(e) => Err(e),
    }
}

pub async fn entry_action(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path((_t, id, action)): Path<(String, String, String)>,
    lang: Lang,
    Form(f): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let version = version_of(&f)?;
    let (e, p) = load_for_staff(&st, &clerk, &id).await?;
    match action.as_str() {
        "paper" => assisted::sign_on_paper(&st.db, &clerk, &e, version).await?,
        "cancel" => assisted::cancel(&st.db, &clerk, &e, version).await?,
        "submit" => {
            let document = f.get(DOCUMENT_FIELD).cloned().unwrap_or_default();
            let note = f.get(NOTE_FIELD).cloned().unwrap_or_default();
            // No document chosen (or no note where one is needed): the
            // page again with the reason, and nothing filed.
            let checked = match CheckedDocument::parse(&document, &note, lang) {
                Ok(c) => c,
                Err(errors) => {
                    let again = Again {
                        errors,
                        document,
                        note,
                        ..Again::default()
                    };
                    return entry_page(&st, &clerk, &id, lang, again).await;
                }
            };
            let filing = assisted::Filing {
                id: &id,
                version,
                checked: &checked,
            };
            assisted::submit(&st.db, &st.committer, &clerk, &p, filing, lang).await?;
        }
        _ => return Err(AppError::NotFound("page")),
    }
    Ok(Redirect::to(&format!("/t/{}/staff/assist/{id}", clerk.tenant)).into_response())
}

/// The filled application as a PDF, to check and sign on paper.
pub async fn entry_pdf(
    State(st): State<DeskState>,
    clerk: Clerk,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &clerk.tenant).await?;
    let (e, p) = load_for_staff(&st, &clerk, &id).await?;
    kernel::audit::record(
        &st.db,
        &clerk.tenant,
        kernel::audit::AuditEntry::new(clerk.actor(), "assisted.print", format!("assisted:{id}"))
            .detail(serde_json::json!({"version": e.version})),
    )
    .await?;
    let form = assisted::counter_form(&p.procedure.form);
    let answers = form::validate(&form, &e.input, lang, &Today::now(&t.calendar))
        .map_err(|_| AppError::Conflict("assisted_entry_incomplete"))?;
    let rows = view::answer_rows(&form, &answers, lang, false);
    let doc = application_document(&t, &p, &e, &rows, lang);
    let bytes = st.printer.render(&doc)?;
    // A paper signature confirms this version.
    if e.status == Status::Confirming {
        assisted::mark_printed(&st.db, &e).await?;
    }
    Ok(crate::print::pdf_response(
        bytes,
        &format!("application-{id}.pdf"),
    ))
}

/// The printed application: what was entered, the source of the data, and
/// the signature (drawn, or a box to sign on paper).
pub fn application_document(
    t: &kernel::tenant::TenantProfile,
    p: &StoredProcedure,
    e: &Entry,
    rows: &[AnswerRow],
    lang: Lang,
) -> paper::Document {
    use paper::Block;
    let title = i18n::tf(
        lang,
        "assist.pdf.title",
        &[("procedure", p.procedure.name.get(lang))],
    );
    let mut blocks = vec![
        Block::Title(title.clone()),
        Block::Note(i18n::tf(
            lang,
            "assist.pdf.to",
            &[("tenant", t.name.get(lang))],
        )),
        Block::Text(i18n::t(lang, "assist.pdf.intro").to_string()),
        Block::Heading(i18n::t(lang, "assist.pdf.contents").to_string()),
        Block::Rows(
            rows.iter()
                .map(|r| {
                    (
                        r.label.text.clone(),
                        if r.verified {
                            format!("{}（{}）", r.value, i18n::t(lang, "resident.verified"))
                        } else {
                            r.value.clone()
                        },
                    )
                })
                .collect(),
        ),
    ];
    let source = if !e.verified.verified_fields.is_empty() {
        "assist.pdf.source_card"
    } else if e.registry_id.is_some() {
        "assist.pdf.source_registry"
    } else {
        "assist.pdf.source_typed"
    };
    blocks.push(Block::Note(i18n::t(lang, source).to_string()));
    match &e.signature {
        Some(sig) => blocks.push(Block::Signature {
            label: i18n::t(lang, "assist.pdf.signed").to_string(),
            strokes: sig.strokes.clone(),
            width: Signature::WIDTH,
            height: Signature::HEIGHT,
        }),
        None => blocks.push(Block::SignHere(
            i18n::t(lang, "assist.pdf.sign_here").to_string(),
        )),
    }
    paper::Document {
        title,
        lang: lang.code().to_string(),
        footer: format!(
            "{}　{} {}-{}　{}",
            t.name.get(lang),
            i18n::t(lang, "assist.pdf.entry"),
            e.id,
            e.version,
            kernel::clock::format_in(lang, kernel::clock::now_ms())
        ),
        blocks,
    }
}

// --------------------------------------------------------- second screen
//
// The second screen is shared: everyone who comes to the counter uses it.
// So it keeps no sign-in: reading the card is started from this entry's
// page (a short-lived cookie names the entry), the card's sign-in is used
// for this entry only and ended at once, and any other sign-in found on
// the screen is ended when the page loads. Once the entry is filed or
// cancelled, the screen shows no answers, and after ten minutes the link
// no longer opens.

/// Names the entry whose page started a card reading.
const CARD_COOKIE: &str = "mdg_assist_card";

/// How long a filed or cancelled entry's screen still answers.
const CLOSED_SCREEN_MS: i64 = 10 * 60_000;

fn card_cookie(st: &DeskState, tenant: &str, value: &str, max_age: u32) -> HeaderValue {
    kernel::web::Cookie::new(CARD_COOKIE, value)
        .path(&format!("/t/{tenant}/assist/"))
        .max_age_secs(i64::from(max_age))
        .secure(st.session.secure)
        .header()
}

/// Ends the resident sign-in held by this browser, if any; returns the
/// header that clears its cookie.
async fn end_sign_in(st: &DeskState, headers: &HeaderMap) -> AppResult<Option<HeaderValue>> {
    match kernel::auth::cookie(headers, resident::RESIDENT_COOKIE) {
        Some(v) => {
            resident::sign_out(&st.db, &st.residents, v).await?;
            Ok(Some(resident::clear_cookie_header()))
        }
        None => Ok(None),
    }
}

fn with_cookies(mut r: Response, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    for c in cookies {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// Names compared as written on the card and in the register (spaces aside).
fn same_name(a: &str, b: &str) -> bool {
    let f = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    f(a) == f(b)
}

#[derive(Template)]
#[template(path = "assist_confirm.html")]
struct ConfirmPage {
    page: Page,
    e: EntryView,
    rows: Vec<AnswerRow>,
    base: String,
    /// A card was read for this entry: its holder's name, to confirm.
    card_holder: String,
    /// The card holder is not the resident the clerk chose in the register.
    card_mismatch: bool,
    errors: Vec<FieldError>,
}

/// Whether the card holder is not the resident the clerk chose from the
/// register. Reading the record for it is in the audit log, as the card
/// holder's read for this entry.
async fn card_differs(
    st: &DeskState,
    e: &Entry,
    registry_id: &str,
    card: &resident::Resident,
) -> AppResult<bool> {
    let Some(record) = st.registry.0.get(&e.tenant, registry_id).await? else {
        return Ok(false);
    };
    crate::register::audit_card_check(&st.db, st.registry.0.as_ref(), e, &record, card).await?;
    let holder = card.claims.name.as_deref().unwrap_or_default();
    Ok(!same_name(&record.name, holder))
}

#[allow(clippy::too_many_arguments)]
async fn confirm_page(
    st: &DeskState,
    tenant: &str,
    e: &Entry,
    token: &str,
    lang: Lang,
    card: Option<&resident::Resident>,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, tenant).await?;
    let p = st.cache.get(&st.db, tenant, &e.procedure_id).await?;
    let base = confirm_path(tenant, &e.id, token);
    let mut page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "assist.confirm.title"),
        base.clone(),
    )
    .with_errors(!errors.is_empty());
    if matches!(
        e.status,
        Status::Editing | Status::Signed | Status::Submitting
    ) {
        // Waiting for the clerk: the status follows (in place with
        // JavaScript, by reloading without).
        page.refresh_seconds = Some(5);
    }
    let card_holder = card.and_then(|r| r.claims.name.clone()).unwrap_or_default();
    // Shown only while the card is offered (open, not yet used).
    let offered = matches!(e.status, Status::Editing | Status::Confirming)
        && e.verified.verified_fields.is_empty();
    let card_mismatch = match (&e.registry_id, card) {
        (Some(rid), Some(r)) if offered => card_differs(st, e, rid, r).await?,
        _ => false,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render_status(
        status,
        &ConfirmPage {
            page,
            e: entry_view(e, &p, lang),
            // Answers only while the entry is being checked: once filed or
            // cancelled the shared screen shows none.
            rows: if e.status.is_open() {
                rows(e, &p, lang, &Today::now(&t.calendar))
            } else {
                Vec::new()
            },
            base,
            card_holder,
            card_mismatch,
            errors,
        },
    ))
}

/// The entry behind a second-screen link (the token is an HMAC of the id);
/// a filed or cancelled entry's link lapses after ten minutes.
async fn link_entry(st: &DeskState, tenant: &str, id: &str, token: &str) -> AppResult<Entry> {
    if !kernel::crypto::constant_time_eq(token, &entry_token(st, tenant, id)) {
        return Err(AppError::NotFound("assisted_entry"));
    }
    let e = assisted::get(&st.db, tenant, id).await?;
    if !e.status.is_open()
        && e.status != Status::Submitting
        && kernel::clock::now_ms() - e.updated_at > CLOSED_SCREEN_MS
    {
        return Err(AppError::NotFound("assisted_entry"));
    }
    Ok(e)
}

/// A card sign-in started from this entry's screen (and only then).
fn card_for<'a>(
    headers: &HeaderMap,
    who: &'a MaybeResident,
    id: &str,
) -> Option<&'a resident::Resident> {
    let started_here = kernel::auth::cookie(headers, CARD_COOKIE) == Some(id);
    who.0
        .as_ref()
        .filter(|r| started_here && r.level == Level::MyNumberCard)
}

pub async fn confirm_get(
    State(st): State<DeskState>,
    Path((tenant, id, token)): Path<(String, String, String)>,
    headers: HeaderMap,
    lang: Lang,
    who: MaybeResident,
) -> AppResult<Response> {
    let e = link_entry(&st, &tenant, &id, &token).await?;
    let card = card_for(&headers, &who, &id);
    // Any other sign-in on the shared screen is ended now.
    let mut cookies = Vec::new();
    if who.0.is_some() && (card.is_none() || !e.status.is_open()) {
        cookies.extend(end_sign_in(&st, &headers).await?);
    }
    let card = card.filter(|_| e.status.is_open());
    let r = confirm_page(&st, &tenant, &e, &token, lang, card, Vec::new()).await?;
    Ok(with_cookies(r, cookies))
}

pub async fn confirm_sign(
    State(st): State<DeskState>,
    Path((tenant, id, token)): Path<(String, String, String)>,
    headers: HeaderMap,
    lang: Lang,
    who: MaybeResident,
    Form(f): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let e = link_entry(&st, &tenant, &id, &token).await?;
    let version = version_of(&f)?;
    let mut errors = Vec::new();
    if f.get("agree").map(String::as_str) != Some("yes") {
        errors.push(FieldError {
            field: "agree".into(),
            message: i18n::t(lang, "assist.error.agree").into(),
        });
    }
    let sig = match Signature::parse(f.get("signature").map(String::as_str).unwrap_or("")) {
        Ok(s) => Some(s),
        Err(key) => {
            errors.push(FieldError {
                field: "signature".into(),
                message: i18n::t(lang, &format!("assist.error.{key}")).into(),
            });
            None
        }
    };
    match sig {
        Some(sig) if errors.is_empty() => {
            assisted::sign_on_screen(&st.db, &e, version, &sig).await?;
            Ok(Redirect::to(&confirm_path(&tenant, &id, &token)).into_response())
        }
        _ => {
            let card = card_for(&headers, &who, &id);
            confirm_page(&st, &tenant, &e, &token, lang, card, errors).await
        }
    }
}

/// Starts reading the card for this entry: any sign-in on the screen is
/// ended, and the card sign-in that follows is tied to this entry.
pub async fn confirm_read_card(
    State(st): State<DeskState>,
    Path((tenant, id, token)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let e = link_entry(&st, &tenant, &id, &token).await?;
    if !e.status.is_open() {
        return Err(AppError::Conflict("assisted_entry_state"));
    }
    let mut cookies = vec![card_cookie(&st, &tenant, &id, 600)];
    cookies.extend(end_sign_in(&st, &headers).await?);
    let back = confirm_path(&tenant, &id, &token);
    Ok(with_cookies(
        Redirect::to(&format!(
            "/t/{tenant}/sign-in?need=my_number_card&return_to={back}"
        ))
        .into_response(),
        cookies,
    ))
}

/// Uses the card read for this entry, and ends that sign-in whatever
/// happens: the second screen is shared by everyone who comes to the
/// counter.
pub async fn confirm_card(
    State(st): State<DeskState>,
    Path((tenant, id, token)): Path<(String, String, String)>,
    headers: HeaderMap,
    who: MaybeResident,
) -> AppResult<Response> {
    let e = link_entry(&st, &tenant, &id, &token).await?;
    let card = card_for(&headers, &who, &id).cloned();
    let mut cookies = vec![card_cookie(&st, &tenant, "", 0)];
    cookies.extend(end_sign_in(&st, &headers).await?);
    let back = confirm_path(&tenant, &id, &token);
    let r = match card {
        None => Redirect::to(&back).into_response(),
        Some(r) => {
            let p = st.cache.get(&st.db, &tenant, &e.procedure_id).await?;
            match assisted::apply_card(&st.db, &p, &e, &r).await {
                Ok(()) => Redirect::to(&back).into_response(),
                Err(err) => err.into_response(),
            }
        }
    };
    Ok(with_cookies(r, cookies))
}
