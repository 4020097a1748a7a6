//! The page that asks again before a case is approved or rejected: the
//! case in brief, what will happen, the message the applicant will get,
//! a button that confirms (a form with its CSRF token, no JavaScript) and
//! a link back to the case that changes nothing.

use askama::Template;
use axum::response::Response;
use kernel::db::Db;
use kernel::i18n::{self, Lang};
use kernel::web::{render, Page};
use kernel::AppResult;

use crate::applications::Application;
use crate::status::{Action, Status};

#[derive(Template)]
#[template(path = "staff_case_confirm.html")]
struct ConfirmPage {
    page: Page,
    id: String,
    receipt: String,
    procedure: String,
    applicant: String,
    change: String,
    consequence: &'static str,
    action: &'static str,
    button: &'static str,
    danger: bool,
    version: i64,
    message: String,
}

/// The confirmation of `action` (approve or reject) on `app`, which
/// [`crate::workflow::prepare`] has accepted, moving it to `to`.
pub async fn page(
    db: &Db,
    mut page: Page,
    app: &Application,
    action: Action,
    to: Status,
    message: &str,
    lang: Lang,
) -> AppResult<Response> {
    let procedure =
        catalogue::store::get_version(db, &app.tenant, &app.procedure_id, app.procedure_version)
            .await?;
    let reject = action == Action::Reject;
    page.title = i18n::t(
        lang,
        if reject {
            "staff.confirm.title_reject"
        } else {
            "staff.confirm.title_approve"
        },
    )
    .to_string();
    Ok(render(&ConfirmPage {
        page,
        id: app.id.clone(),
        receipt: app.receipt_display(),
        procedure: procedure.name.get(lang).to_string(),
        applicant: format!("{}（{}）", app.applicant_name, app.applicant_kana),
        change: format!(
            "{} → {}",
            i18n::t(lang, &app.status.label_key()),
            i18n::t(lang, &to.label_key())
        ),
        consequence: i18n::t(
            lang,
            if reject {
                "staff.confirm.consequence_reject"
            } else {
                "staff.confirm.consequence_approve"
            },
        ),
        action: action.as_str(),
        button: i18n::t(lang, &action.label_key()),
        danger: reject,
        version: app.version,
        message: message.to_string(),
    }))
}
