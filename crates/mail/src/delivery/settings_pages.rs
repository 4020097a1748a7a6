//! メールの設定 (the system administrator): the municipality's sender
//! (From address, display name, Reply-To, messages per minute), with the
//! defaults the deployment gives and what residents' mail will say.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::SystemAdmin;
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, FormErrors, Page};
use kernel::{AppResult, Db};
use serde::Deserialize;

use super::sender::{self, SettingsForm};
use super::Deliverer;

fn path(tenant: &str) -> String {
    format!("/t/{tenant}/staff/mail/settings")
}

#[derive(Template)]
#[template(path = "delivery/settings.html")]
struct SettingsPage {
    page: Page,
    errors: FormErrors,
    form: SettingsForm,
    saved: bool,
    /// What the From line of a mail says now.
    current_from: String,
    default_from: String,
    default_name: String,
    per_minute_max: String,
    dkim_domain: String,
}

async fn view(
    db: &Db,
    deliverer: &Deliverer,
    admin: &SystemAdmin,
    lang: Lang,
    form: Option<SettingsForm>,
    errors: FormErrors,
    saved: bool,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &admin.tenant).await?;
    let stored = sender::load(db, &admin.tenant).await?;
    let current = deliverer.sender(&admin.tenant).await?;
    let defaults = deliverer.defaults();
    let page = kernel::web::staff_page(
        lang,
        &t,
        admin,
        i18n::t(lang, "mail.sender.title"),
        path(&admin.tenant),
    )
    .with_errors(!errors.is_empty());
    let status = errors.status();
    Ok(render_status(
        status,
        &SettingsPage {
            page,
            form: form.unwrap_or_else(|| SettingsForm::of(&stored)),
            errors,
            saved,
            current_from: current.from.to_string(),
            default_from: defaults.from.clone(),
            default_name: t.name.get(Lang::Ja).to_string(),
            per_minute_max: if defaults.per_minute == 0 {
                String::new()
            } else {
                defaults.per_minute.to_string()
            },
            dkim_domain: defaults.dkim_domain.clone().unwrap_or_default(),
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    saved: String,
}

pub async fn settings_page(
    State(db): State<Db>,
    State(deliverer): State<Deliverer>,
    admin: SystemAdmin,
    lang: Lang,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    view(
        &db,
        &deliverer,
        &admin,
        lang,
        None,
        FormErrors::default(),
        q.saved == "sender",
    )
    .await
}

/// Saves the settings; a mistake is 422 with the form as typed and
/// nothing changed.
pub async fn settings_post(
    State(db): State<Db>,
    State(deliverer): State<Deliverer>,
    admin: SystemAdmin,
    lang: Lang,
    Form(form): Form<SettingsForm>,
) -> AppResult<Response> {
    match sender::parse(&form, deliverer.defaults()) {
        Ok(settings) => {
            sender::save(&db, &admin, &settings, kernel::clock::now_ms()).await?;
            Ok(Redirect::to(&format!("{}?saved=sender", path(&admin.tenant))).into_response())
        }
        Err(errors) => view(&db, &deliverer, &admin, lang, Some(form), errors, false).await,
    }
}
