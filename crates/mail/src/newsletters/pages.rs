//! The staff's pages of 配信: the list (with the approval threshold and
//! one's own test address), compose and edit, and a message's page
//! (preview in each language, text and HTML, as the resident sees it;
//! the steps its state allows; the progress of its send and the final
//! report). 所属管理者 and the system administrator.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::{DeptAdmin, Proof, SystemAdmin};
use kernel::clock::{format_in, now_ms};
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, Choice, FormErrors, LabelValue, Page};
use kernel::AppResult;
use serde::Deserialize;

use super::model::{field_suffix, ComposeForm, Message, MessageState, LANGS};
use super::send::{self, Progress, TestRefused};
use super::settings;
use super::state::NewsletterState;
use super::store::{self, Refused, Submitted};

fn base(tenant: &str) -> String {
    format!("/t/{tenant}/staff/mail/messages")
}

async fn page(
    st: &NewsletterState,
    staff: &DeptAdmin,
    lang: Lang,
    title: String,
    path: String,
) -> AppResult<Page> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    Ok(kernel::web::staff_page(lang, &t, staff, title, path))
}

// ------------------------------------------------------------------ list

struct ListRow {
    href: String,
    subject: String,
    category: String,
    state: &'static str,
    state_label: &'static str,
    urgent: bool,
    when: String,
}

#[derive(Template)]
#[template(path = "newsletters/list.html")]
struct ListPage {
    page: Page,
    errors: FormErrors,
    rows: Vec<ListRow>,
    threshold: i64,
    default_threshold: i64,
    may_set_threshold: bool,
    threshold_input: String,
    my_address: String,
    notice: &'static str,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    saved: String,
}

async fn list_page(
    st: &NewsletterState,
    staff: &DeptAdmin,
    lang: Lang,
    errors: FormErrors,
    threshold_input: Option<String>,
    address_input: Option<String>,
    notice: &'static str,
) -> AppResult<Response> {
    let page = page(
        st,
        staff,
        lang,
        i18n::t(lang, "mail.newsletters.title").into(),
        base(&staff.tenant),
    )
    .await?
    .with_errors(!errors.is_empty());
    let cats = store::categories(&st.db, &staff.tenant).await?;
    let rows = store::list(&st.db, &staff.tenant)
        .await?
        .into_iter()
        .map(|m| ListRow {
            href: format!("{}/{}", base(&staff.tenant), m.id),
            subject: m.ja().map(|t| t.subject.clone()).unwrap_or_default(),
            category: category_name(&cats, &m.category),
            state: m.state.as_str(),
            state_label: m.state.label(lang),
            urgent: m.urgent,
            when: format_in(lang, m.sent_at.or(m.scheduled_at).unwrap_or(m.updated_at)),
        })
        .collect();
    let threshold = settings::threshold(st.db.read(), &staff.tenant).await?;
    let my_address = match address_input {
        Some(a) => a,
        None => settings::my_address(&st.db, staff)
            .await?
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
    };
    let status = errors.status();
    Ok(render_status(
        status,
        &ListPage {
            page,
            errors,
            rows,
            threshold,
            default_threshold: settings::DEFAULT_THRESHOLD,
            may_set_threshold: <SystemAdmin as Proof>::holds(staff),
            threshold_input: threshold_input.unwrap_or_else(|| threshold.to_string()),
            my_address,
            notice,
        },
    ))
}

fn category_name(cats: &[(String, String)], code: &str) -> String {
    cats.iter()
        .find(|(c, _)| c == code)
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| code.to_string())
}

fn notice_key(saved: &str) -> &'static str {
    match saved {
        "threshold" => "mail.newsletters.saved_threshold",
        "address" => "mail.newsletters.saved_address",
        _ => "",
    }
}

pub async fn list(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> AppResult<Response> {
    list_page(
        &st,
        &staff,
        lang,
        FormErrors::default(),
        None,
        None,
        notice_key(&q.saved),
    )
    .await
}

#[derive(Deserialize)]
pub struct ThresholdForm {
    #[serde(default)]
    threshold: String,
}

pub async fn set_threshold(
    State(st): State<NewsletterState>,
    admin: SystemAdmin,
    lang: Lang,
    Form(f): Form<ThresholdForm>,
) -> AppResult<Response> {
    match settings::parse_threshold(&f.threshold) {
        Ok(n) => {
            settings::set_threshold(&st.db, &admin, n, now_ms()).await?;
            Ok(Redirect::to(&format!("{}?saved=threshold", base(&admin.tenant))).into_response())
        }
        Err(msg) => {
            let staff: DeptAdmin = admin.prove::<DeptAdmin>()?;
            let mut e = FormErrors::default();
            e.push("threshold", msg);
            list_page(&st, &staff, lang, e, Some(f.threshold), None, "").await
        }
    }
}

#[derive(Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    address: String,
}

pub async fn set_address(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    Form(f): Form<AddressForm>,
) -> AppResult<Response> {
    match jp::Email::parse(f.address.trim()) {
        Ok(a) => {
            settings::set_my_address(&st.db, &staff, &a, now_ms()).await?;
            Ok(Redirect::to(&format!("{}?saved=address", base(&staff.tenant))).into_response())
        }
        Err(_) => {
            let mut e = FormErrors::default();
            e.push(
                "address",
                "テスト送信の宛先には、メールアドレス（例：taro@example.jp）を入力してください。",
            );
            list_page(&st, &staff, lang, e, None, Some(f.address), "").await
        }
    }
}

// ---------------------------------------------------------- compose, edit

/// One language's fields of the compose form.
struct LangFields {
    suffix: &'static str,
    name: String,
    html_lang: &'static str,
    required: bool,
    subject: String,
    body: String,
    subject_error: String,
    body_error: String,
}

#[derive(Template)]
#[template(path = "newsletters/edit.html")]
struct EditPage {
    page: Page,
    errors: FormErrors,
    action: String,
    form: ComposeForm,
    categories: Vec<Choice>,
    langs: Vec<LangFields>,
}

async fn edit_page(
    st: &NewsletterState,
    staff: &DeptAdmin,
    lang: Lang,
    id: Option<&str>,
    form: ComposeForm,
    errors: FormErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let (title, action) = match id {
        Some(id) => (
            i18n::t(lang, "mail.newsletters.edit_title"),
            format!("{}/{id}", base(&staff.tenant)),
        ),
        None => (
            i18n::t(lang, "mail.newsletters.new_title"),
            base(&staff.tenant),
        ),
    };
    let page = page(st, staff, lang, title.into(), format!("{action}/edit"))
        .await?
        .crumb(i18n::t(lang, "mail.newsletters.title"), base(&staff.tenant))
        .with_errors(!errors.is_empty());
    let mut categories = vec![Choice::new(
        "",
        i18n::t(lang, "mail.newsletters.choose_category"),
    )];
    categories.extend(
        store::categories(&st.db, &staff.tenant)
            .await?
            .into_iter()
            .map(|(c, n)| Choice::new(c, n)),
    );
    let langs = LANGS
        .iter()
        .map(|&l| {
            let s = field_suffix(l);
            LangFields {
                suffix: s,
                name: l.native_name().to_string(),
                html_lang: l.html_lang(),
                required: l == Lang::Ja,
                subject: form.subject(l).to_string(),
                body: form.body(l).to_string(),
                subject_error: errors.get(&format!("subject_{s}")).to_string(),
                body_error: errors.get(&format!("body_{s}")).to_string(),
            }
        })
        .collect();
    Ok(render_status(
        status,
        &EditPage {
            page,
            errors,
            action,
            categories: Choice::select(categories, &form.category),
            form,
            langs,
        },
    ))
}

pub async fn new_form(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
) -> AppResult<Response> {
    edit_page(
        &st,
        &staff,
        lang,
        None,
        ComposeForm::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn category_codes(st: &NewsletterState, tenant: &str) -> AppResult<Vec<String>> {
    Ok(store::categories(&st.db, tenant)
        .await?
        .into_iter()
        .map(|(c, _)| c)
        .collect())
}

pub async fn create(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    Form(f): Form<ComposeForm>,
) -> AppResult<Response> {
    let now = now_ms();
    match f.parse(now, &category_codes(&st, &staff.tenant).await?) {
        Ok(d) => {
            let id = store::create(&st.db, &staff, &d, now).await?;
            Ok(Redirect::to(&format!("{}/{id}", base(&staff.tenant))).into_response())
        }
        Err(e) => {
            edit_page(
                &st,
                &staff,
                lang,
                None,
                f,
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn edit_form(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let m = store::get(&st.db, &staff.tenant, &id).await?;
    if !m.state.is_open() {
        return show_page(
            &st,
            &staff,
            lang,
            &m,
            refused(lang, Refused::WrongState),
            Refused::WrongState.status(),
        )
        .await;
    }
    edit_page(
        &st,
        &staff,
        lang,
        Some(&id),
        ComposeForm::of(&m),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

fn version_of(raw: &str) -> i64 {
    raw.trim().parse().unwrap_or(-1)
}

pub async fn update(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
    Form(f): Form<ComposeForm>,
) -> AppResult<Response> {
    let now = now_ms();
    let d = match f.parse(now, &category_codes(&st, &staff.tenant).await?) {
        Ok(d) => d,
        Err(e) => {
            store::get(&st.db, &staff.tenant, &id).await?;
            return edit_page(
                &st,
                &staff,
                lang,
                Some(&id),
                f,
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match store::update(&st.db, &staff, &id, version_of(&f.version), &d, now).await? {
        Ok(()) => Ok(Redirect::to(&format!("{}/{id}", base(&staff.tenant))).into_response()),
        Err(r) => {
            let e = refused(lang, r);
            if r == Refused::Stale {
                // The form as typed, to copy from; the version of now.
                let m = store::get(&st.db, &staff.tenant, &id).await?;
                let mut f = f;
                f.version = m.version.to_string();
                return edit_page(&st, &staff, lang, Some(&id), f, e, r.status()).await;
            }
            let m = store::get(&st.db, &staff.tenant, &id).await?;
            show_page(&st, &staff, lang, &m, e, r.status()).await
        }
    }
}

// ------------------------------------------------------------ a message

struct Preview {
    name: String,
    html_lang: &'static str,
    subject: String,
    text: String,
    html: String,
}

#[derive(Template)]
#[template(path = "newsletters/show.html")]
struct ShowPage {
    page: Page,
    errors: FormErrors,
    action: String,
    version: i64,
    state: &'static str,
    state_label: &'static str,
    urgent: bool,
    details: Vec<LabelValue>,
    previews: Vec<Preview>,
    may_edit: bool,
    may_submit: bool,
    may_approve: bool,
    is_author: bool,
    recipients_now: i64,
    threshold: i64,
    progress: Option<Progress>,
    sent_at: String,
    notice: &'static str,
}

fn refused(lang: Lang, r: Refused) -> FormErrors {
    let mut e = FormErrors::default();
    e.push("state", i18n::t(lang, r.message_key()));
    e
}

async fn show_page(
    st: &NewsletterState,
    staff: &DeptAdmin,
    lang: Lang,
    m: &Message,
    errors: FormErrors,
    status: StatusCode,
) -> AppResult<Response> {
    show_page_with(st, staff, lang, m, errors, status, "").await
}

async fn show_page_with(
    st: &NewsletterState,
    staff: &DeptAdmin,
    lang: Lang,
    m: &Message,
    errors: FormErrors,
    status: StatusCode,
    notice: &'static str,
) -> AppResult<Response> {
    let action = format!("{}/{}", base(&staff.tenant), m.id);
    let subject = m.ja().map(|t| t.subject.clone()).unwrap_or_default();
    let mut page = page(st, staff, lang, subject, action.clone())
        .await?
        .crumb(i18n::t(lang, "mail.newsletters.title"), base(&staff.tenant))
        .with_errors(!errors.is_empty());
    let cats = store::categories(&st.db, &staff.tenant).await?;
    let t = |k: &str| i18n::t(lang, k);
    let mut details = vec![
        LabelValue::new(
            t("mail.newsletters.field.category"),
            category_name(&cats, &m.category),
        ),
        LabelValue::new(t("mail.newsletters.field.author"), m.author.clone()),
        LabelValue::new(
            t("mail.newsletters.field.scheduled_at"),
            m.scheduled_at
                .map(|s| format_in(lang, s))
                .unwrap_or_else(|| t("mail.newsletters.unscheduled").to_string()),
        ),
    ];
    if let Some(a) = &m.approver {
        details.push(LabelValue::new(
            t("mail.newsletters.field.approver"),
            a.clone(),
        ));
    }
    if let Some(ev) = &m.event {
        let mut when = format_in(lang, ev.start);
        if let Some(end) = ev.end {
            when = format!("{when} – {}", format_in(lang, end));
        }
        details.push(LabelValue::new(t("mail.newsletters.field.event"), when));
        if !ev.place.is_empty() {
            details.push(LabelValue::new(
                t("mail.newsletters.field.event_place"),
                ev.place.clone(),
            ));
        }
    }
    let previews = m
        .texts
        .iter()
        .map(|x| {
            let (subject, text, html) = send::as_received(&st.sender, &staff.tenant, x, m.urgent);
            Preview {
                name: x.lang.native_name().to_string(),
                html_lang: x.lang.html_lang(),
                subject,
                text,
                html,
            }
        })
        .collect();
    let progress = if m.state == MessageState::Sent {
        let p = send::progress(&st.db, &staff.tenant, &m.id).await?;
        if !p.done() {
            page.refresh_seconds = Some(10);
        }
        Some(p)
    } else {
        None
    };
    let recipients_now = if m.state.is_open() {
        send::audience_count(&st.db, &staff.tenant, &m.category).await?
    } else {
        m.recipients.unwrap_or_default()
    };
    Ok(render_status(
        status,
        &ShowPage {
            page,
            errors,
            version: m.version,
            state: m.state.as_str(),
            state_label: m.state.label(lang),
            urgent: m.urgent,
            details,
            previews,
            may_edit: m.state.is_open(),
            may_submit: m.state == MessageState::Draft,
            may_approve: m.state == MessageState::AwaitingApproval && !m.written_by(&staff.id),
            is_author: m.author == staff.id,
            recipients_now,
            threshold: settings::threshold(st.db.read(), &staff.tenant).await?,
            progress,
            sent_at: m.sent_at.map(|s| format_in(lang, s)).unwrap_or_default(),
            notice,
            action,
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    done: String,
}

pub async fn show(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<ShowQuery>,
) -> AppResult<Response> {
    let m = store::get(&st.db, &staff.tenant, &id).await?;
    let notice = match q.done.as_str() {
        "submitted" => "mail.newsletters.done.submitted",
        "awaiting" => "mail.newsletters.done.awaiting",
        "approved" => "mail.newsletters.done.approved",
        "cancelled" => "mail.newsletters.done.cancelled",
        "test" => "mail.newsletters.done.test",
        _ => "",
    };
    show_page_with(
        &st,
        &staff,
        lang,
        &m,
        FormErrors::default(),
        StatusCode::OK,
        notice,
    )
    .await
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    version: String,
}

/// After a step: back to the message with what happened, or the page
/// again with why not.
async fn after(
    st: &NewsletterState,
    staff: &DeptAdmin,
    lang: Lang,
    id: &str,
    outcome: Result<&str, Refused>,
) -> AppResult<Response> {
    match outcome {
        Ok(done) => {
            Ok(Redirect::to(&format!("{}/{id}?done={done}", base(&staff.tenant))).into_response())
        }
        Err(r) => {
            let m = store::get(&st.db, &staff.tenant, id).await?;
            show_page(st, staff, lang, &m, refused(lang, r), r.status()).await
        }
    }
}

pub async fn submit(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    let m = store::get(&st.db, &staff.tenant, &id).await?;
    let recipients = send::audience_count(&st.db, &staff.tenant, &m.category).await?;
    let threshold = settings::threshold(st.db.read(), &staff.tenant).await?;
    let r = store::submit(
        &st.db,
        &staff,
        &id,
        version_of(&f.version),
        recipients,
        threshold,
        now_ms(),
    )
    .await?;
    let outcome = r.map(|s| match s {
        Submitted::Approved => "submitted",
        Submitted::AwaitingApproval => "awaiting",
    });
    after(&st, &staff, lang, &id, outcome).await
}

pub async fn approve(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    let r = store::approve(&st.db, &staff, &id, version_of(&f.version), now_ms()).await?;
    after(&st, &staff, lang, &id, r.map(|()| "approved")).await
}

pub async fn cancel(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    let r = store::cancel(&st.db, &staff, &id, version_of(&f.version), now_ms()).await?;
    after(&st, &staff, lang, &id, r.map(|()| "cancelled")).await
}

pub async fn test_send(
    State(st): State<NewsletterState>,
    staff: DeptAdmin,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<Response> {
    match send::test_send(&st.db, &st.sender, &staff, &id, now_ms()).await? {
        Ok(_) => after(&st, &staff, lang, &id, Ok("test")).await,
        Err(TestRefused::NoAddress) => {
            let m = store::get(&st.db, &staff.tenant, &id).await?;
            let mut e = FormErrors::default();
            e.push("test", i18n::t(lang, "mail.newsletters.refused.no_address"));
            show_page(&st, &staff, lang, &m, e, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
