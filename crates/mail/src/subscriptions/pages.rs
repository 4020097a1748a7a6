//! The residents' pages: sign-up (`/t/{t}/mail`), confirmation, the
//! preferences page and the one-click unsubscribe, reached from mails
//! without an account. Every page works without JavaScript.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use kernel::i18n::{self, Lang};
use kernel::web::view::Choice;
use kernel::web::{render_status, tenant_page, FormErrors, Page};
use kernel::{AppError, AppResult};

use super::categories::{self, Category};
use super::form::{self, Fields};
use super::state::SubscriptionsState;
use super::subscribers::{self, Confirmed, SignUp, SignedUp, SubState, Subscriber};

/// A message page, with at most one link and one button.
#[derive(Template)]
#[template(path = "subscriptions/message.html")]
struct MessagePage {
    page: Page,
    paragraphs: Vec<String>,
    link: Option<kernel::web::Link>,
    button: Option<Button>,
}

/// A form of one button (POST).
struct Button {
    action: String,
    label: String,
    /// Sends `List-Unsubscribe=One-Click` (the unsubscribe page).
    one_click: bool,
}

fn message(
    status: StatusCode,
    page: Page,
    paragraphs: Vec<String>,
    link: Option<kernel::web::Link>,
    button: Option<Button>,
) -> Response {
    render_status(
        status,
        &MessagePage {
            page,
            paragraphs,
            link,
            button,
        },
    )
}

#[derive(Template)]
#[template(path = "subscriptions/sign_up.html")]
struct SignUpPage {
    page: Page,
    errors: FormErrors,
    address: String,
    categories: Vec<Choice>,
    lang_choices: Vec<Choice>,
}

fn category_choices(lang: Lang, offered: &[Category], chosen: &[String]) -> Vec<Choice> {
    offered
        .iter()
        .map(|c| Choice::new(&c.code, c.name(lang)).selected(chosen.contains(&c.code)))
        .collect()
}

fn language_choices(current: Lang) -> Vec<Choice> {
    Lang::ALL
        .iter()
        .map(|l| Choice::new(l.code(), l.native_name()).selected(*l == current))
        .collect()
}

async fn page_of(
    st: &SubscriptionsState,
    lang: Lang,
    tenant: &str,
    key: &str,
    path: &str,
) -> AppResult<Page> {
    let t = kernel::tenant::load(&st.db, tenant).await?;
    Ok(tenant_page(lang, &t, i18n::t(lang, key), path).crumb(
        t.name.get(lang).to_string(),
        kernel::web::with_lang(&format!("/t/{tenant}"), lang),
    ))
}

pub async fn sign_up_get(
    State(st): State<SubscriptionsState>,
    lang: Lang,
    Path(tenant): Path<String>,
) -> AppResult<Response> {
    let page = page_of(
        &st,
        lang,
        &tenant,
        "mail.subscriptions.sign_up.title",
        &format!("/t/{tenant}/mail"),
    )
    .await?;
    let offered = categories::active(&st.db, &tenant).await?;
    Ok(render_status(
        StatusCode::OK,
        &SignUpPage {
            page,
            errors: FormErrors::default(),
            address: String::new(),
            categories: category_choices(lang, &offered, &[]),
            lang_choices: language_choices(lang),
        },
    ))
}

pub async fn sign_up_post(
    State(st): State<SubscriptionsState>,
    lang: Lang,
    Path(tenant): Path<String>,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let path = format!("/t/{tenant}/mail");
    let page = page_of(
        &st,
        lang,
        &tenant,
        "mail.subscriptions.sign_up.title",
        &path,
    )
    .await?;
    let offered = categories::active(&st.db, &tenant).await?;
    let mut errors = FormErrors::default();
    let raw_address = form::field(&f, "address").to_string();
    let address = jp::Email::parse(&raw_address).ok();
    if address.is_none() {
        errors.push("address", i18n::t(lang, "mail.subscriptions.error.address"));
    }
    let chosen = form::categories(lang, &f, &offered, &mut errors);
    let chosen_lang = form::language(lang, &f, &mut errors);
    let Some(address) = address.filter(|_| errors.is_empty()) else {
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignUpPage {
                page: page.with_errors(true),
                errors,
                address: raw_address,
                categories: category_choices(lang, &offered, &chosen),
                lang_choices: language_choices(chosen_lang),
            },
        ));
    };
    let outcome = subscribers::sign_up(
        &st,
        &tenant,
        &SignUp {
            address,
            categories: chosen,
            lang: chosen_lang,
        },
    )
    .await?;
    let again = kernel::web::Link {
        label: i18n::t(lang, "mail.subscriptions.start_again").to_string(),
        href: kernel::web::with_lang(&path, lang),
    };
    Ok(match outcome {
        SignedUp::Mailed => {
            let mut page = page;
            page.title = i18n::t(lang, "mail.subscriptions.sent.title").to_string();
            message(
                StatusCode::OK,
                page,
                vec![
                    i18n::tf(
                        lang,
                        "mail.subscriptions.sent.body",
                        &[("hours", &subscribers::CONFIRM_VALID_HOURS.to_string())],
                    ),
                    i18n::t(lang, "mail.subscriptions.sent.not_received").to_string(),
                ],
                Some(again),
                None,
            )
        }
        SignedUp::Suppressed => {
            let mut page = page;
            page.title = i18n::t(lang, "mail.subscriptions.suppressed.title").to_string();
            message(
                StatusCode::OK,
                page,
                vec![
                    i18n::t(lang, "mail.subscriptions.suppressed.body").to_string(),
                    i18n::t(lang, "mail.subscriptions.suppressed.what_to_do").to_string(),
                ],
                Some(again),
                None,
            )
        }
    })
}

/// The page a confirmation link opens: a button (mail scanners that
/// follow links must not confirm), or why the link no longer works.
pub async fn confirm_get(
    State(st): State<SubscriptionsState>,
    lang: Lang,
    Path((tenant, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let path = format!("/t/{tenant}/mail/confirm/{token}");
    let page = page_of(
        &st,
        lang,
        &tenant,
        "mail.subscriptions.confirm.title",
        &path,
    )
    .await?;
    match subscribers::check_token(&st.db, &tenant, &token).await? {
        Confirmed::Done(_) => Ok(message(
            StatusCode::OK,
            page,
            vec![i18n::t(lang, "mail.subscriptions.confirm.body").to_string()],
            None,
            Some(Button {
                action: path,
                label: i18n::t(lang, "mail.subscriptions.confirm.submit").to_string(),
                one_click: false,
            }),
        )),
        other => Ok(link_gone(lang, &tenant, page, &other)),
    }
}

fn link_gone(lang: Lang, tenant: &str, mut page: Page, why: &Confirmed) -> Response {
    let key = if *why == Confirmed::Expired {
        "mail.subscriptions.confirm.expired"
    } else {
        "mail.subscriptions.confirm.invalid"
    };
    page.title = i18n::t(lang, "mail.subscriptions.confirm.gone_title").to_string();
    message(
        StatusCode::GONE,
        page,
        vec![i18n::tf(
            lang,
            key,
            &[("hours", &subscribers::CONFIRM_VALID_HOURS.to_string())],
        )],
        Some(kernel::web::Link {
            label: i18n::t(lang, "mail.subscriptions.start_again").to_string(),
            href: kernel::web::with_lang(&format!("/t/{tenant}/mail"), lang),
        }),
        None,
    )
}

pub async fn confirm_post(
    State(st): State<SubscriptionsState>,
    lang: Lang,
    Path((tenant, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let path = format!("/t/{tenant}/mail/confirm/{token}");
    let mut page = page_of(
        &st,
        lang,
        &tenant,
        "mail.subscriptions.confirm.title",
        &path,
    )
    .await?;
    match subscribers::confirm(&st.db, &tenant, &token).await? {
        Confirmed::Done(id) => {
            page.title = i18n::t(lang, "mail.subscriptions.confirmed.title").to_string();
            Ok(message(
                StatusCode::OK,
                page,
                vec![i18n::t(lang, "mail.subscriptions.confirmed.body").to_string()],
                Some(kernel::web::Link {
                    label: i18n::t(lang, "mail.subscriptions.preferences.link").to_string(),
                    href: kernel::web::with_lang(
                        &link_path(&st, &tenant, "preferences", &id),
                        lang,
                    ),
                }),
                None,
            ))
        }
        other => Ok(link_gone(lang, &tenant, page, &other)),
    }
}

/// `/t/{t}/mail/{what}/{subscriber}/{token}` (the path of a mail link).
fn link_path(st: &SubscriptionsState, tenant: &str, what: &str, id: &str) -> String {
    format!(
        "/t/{tenant}/mail/{what}/{id}/{}",
        st.links.token(tenant, id)
    )
}

/// The subscriber a link names, if its token is theirs; else 404 (a
/// wrong token and an unknown subscriber look the same).
async fn linked(
    st: &SubscriptionsState,
    tenant: &str,
    id: &str,
    token: &str,
) -> AppResult<Subscriber> {
    if !st.links.verify(tenant, id, token) {
        return Err(AppError::NotFound("page"));
    }
    subscribers::get(&st.db, tenant, id)
        .await?
        .ok_or(AppError::NotFound("page"))
}

#[derive(Template)]
#[template(path = "subscriptions/preferences.html")]
struct PreferencesPage {
    page: Page,
    errors: FormErrors,
    notice: String,
    unsubscribed: bool,
    categories: Vec<Choice>,
    lang_choices: Vec<Choice>,
    action: String,
    unsubscribe_action: String,
}

pub async fn preferences_get(
    State(st): State<SubscriptionsState>,
    lang: Lang,
    Path((tenant, id, token)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let s = linked(&st, &tenant, &id, &token).await?;
    preferences_page(
        &st,
        lang,
        &tenant,
        &s,
        &s.categories,
        s.lang,
        FormErrors::default(),
        String::new(),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn preferences_page(
    st: &SubscriptionsState,
    lang: Lang,
    tenant: &str,
    s: &Subscriber,
    chosen: &[String],
    chosen_lang: Lang,
    errors: FormErrors,
    notice: String,
) -> AppResult<Response> {
    let action = link_path(st, tenant, "preferences", &s.id);
    let page = page_of(
        st,
        lang,
        tenant,
        "mail.subscriptions.preferences.title",
        &action,
    )
    .await?
    .with_errors(!errors.is_empty());
    let offered = categories::active(&st.db, tenant).await?;
    Ok(render_status(
        errors.status(),
        &PreferencesPage {
            page,
            notice,
            unsubscribed: s.state == SubState::Unsubscribed,
            categories: category_choices(lang, &offered, chosen),
            lang_choices: language_choices(chosen_lang),
            unsubscribe_action: link_path(st, tenant, "unsubscribe", &s.id),
            action,
            errors,
        },
    ))
}

pub async fn preferences_post(
    State(st): State<SubscriptionsState>,
    lang: Lang,
    Path((tenant, id, token)): Path<(String, String, String)>,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let s = linked(&st, &tenant, &id, &token).await?;
    let offered = categories::active(&st.db, &tenant).await?;
    let mut errors = FormErrors::default();
    let chosen = form::categories(lang, &f, &offered, &mut errors);
    let chosen_lang = form::language(lang, &f, &mut errors);
    if !errors.is_empty() {
        return preferences_page(
            &st,
            lang,
            &tenant,
            &s,
            &chosen,
            chosen_lang,
            errors,
            String::new(),
        )
        .await;
    }
    subscribers::update(&st.db, &tenant, &id, &chosen, chosen_lang).await?;
    let s = linked(&st, &tenant, &id, &token).await?;
    preferences_page(
        &st,
        lang,
        &tenant,
        &s,
        &s.categories,
        s.lang,
        FormErrors::default(),
        i18n::t(lang, "mail.subscriptions.preferences.saved").to_string(),
    )
    .await
}

pub async fn unsubscribe_get(
    State(st): State<SubscriptionsState>,
    lang: Lang,
    Path((tenant, id, token)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let s = linked(&st, &tenant, &id, &token).await?;
    let action = link_path(&st, &tenant, "unsubscribe", &id);
    let page = page_of(
        &st,
        lang,
        &tenant,
        "mail.subscriptions.unsubscribe.title",
        &action,
    )
    .await?;
    if s.state == SubState::Unsubscribed {
        return Ok(unsubscribed(&st, lang, &tenant, &id, page));
    }
    Ok(message(
        StatusCode::OK,
        page,
        vec![i18n::t(lang, "mail.subscriptions.unsubscribe.body").to_string()],
        None,
        Some(Button {
            action,
            label: i18n::t(lang, "mail.subscriptions.unsubscribe.submit").to_string(),
            one_click: true,
        }),
    ))
}

fn unsubscribed(
    st: &SubscriptionsState,
    lang: Lang,
    tenant: &str,
    id: &str,
    mut page: Page,
) -> Response {
    page.title = i18n::t(lang, "mail.subscriptions.unsubscribed.title").to_string();
    message(
        StatusCode::OK,
        page,
        vec![i18n::t(lang, "mail.subscriptions.unsubscribed.body").to_string()],
        Some(kernel::web::Link {
            label: i18n::t(lang, "mail.subscriptions.preferences.link").to_string(),
            href: kernel::web::with_lang(&link_path(st, tenant, "preferences", id), lang),
        }),
        None,
    )
}

/// RFC 8058's one-click unsubscribe: a POST with
/// `List-Unsubscribe=One-Click`, from a mail provider (no session, no
/// CSRF token: the token in the path is the proof) or from the page
/// above. Without that field: 400, nothing changes.
pub async fn unsubscribe_post(
    State(st): State<SubscriptionsState>,
    lang: Lang,
    Path((tenant, id, token)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    linked(&st, &tenant, &id, &token).await?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !form::one_click(ct, &body) {
        return Err(AppError::BadRequest(
            i18n::t(lang, "mail.subscriptions.unsubscribe.not_one_click").to_string(),
        ));
    }
    subscribers::unsubscribe(&st.db, &tenant, &id).await?;
    let page = page_of(
        &st,
        lang,
        &tenant,
        "mail.subscriptions.unsubscribed.title",
        &link_path(&st, &tenant, "unsubscribe", &id),
    )
    .await?;
    Ok(unsubscribed(&st, lang, &tenant, &id, page))
}
