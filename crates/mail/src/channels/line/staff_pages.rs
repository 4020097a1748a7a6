//! The system administrator's LINE page (`/t/{tenant}/staff/line`):
//! whether the account is set up and the webhook URL to give LINE, how
//! many LINE users are linked, pending or gone, where the pushes of the
//! latest messages stand, and the form that sets the channel secret and
//! token (audited; never shown again). Counts only: no LINE user ids.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use kernel::auth::SystemAdmin;
use kernel::error::FieldError;
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, staff_page, Page};
use kernel::{AppError, AppResult, Db};
use serde::Deserialize;
use sqlx::Row;

use super::channel;
use crate::channels::ChannelsState;

/// Where the pushes of one message stand.
pub struct MessageLine {
    pub id: String,
    pub subject: String,
    pub sent: i64,
    pub queued: i64,
    pub failed: i64,
}

pub struct FieldLine {
    pub name: &'static str,
    pub label: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "channels/staff_line.html")]
struct LinePage {
    page: Page,
    errors: Vec<FieldError>,
    notice: String,
    configured: bool,
    webhook_url: String,
    linked: i64,
    pending: i64,
    unfollowed: i64,
    messages: Vec<MessageLine>,
    fields: Vec<FieldLine>,
}

/// LINE users of `tenant` per state.
async fn user_counts(db: &Db, tenant: &str) -> AppResult<(i64, i64, i64)> {
    let rows =
        sqlx::query("SELECT state, COUNT(*) AS n FROM line_users WHERE tenant = $1 GROUP BY state")
            .bind(tenant)
            .fetch_all(db.read())
            .await?;
    let of = |s: &str| {
        rows.iter()
            .find(|r| r.get::<String, _>("state") == s)
            .map_or(0, |r| r.get::<i64, _>("n"))
    };
    Ok((of("linked"), of("pending"), of("unfollowed")))
}

/// The latest 20 messages with pushes, newest first.
async fn messages(db: &Db, tenant: &str) -> AppResult<Vec<MessageLine>> {
    let rows = sqlx::query(
        "SELECT p.message, MAX(p.created_at) AS at, \
         SUM(CASE WHEN p.state = 'sent' THEN 1 ELSE 0 END) AS sent, \
         SUM(CASE WHEN p.state = 'queued' THEN 1 ELSE 0 END) AS queued, \
         SUM(CASE WHEN p.state = 'failed' THEN 1 ELSE 0 END) AS failed, \
         (SELECT t.subject FROM mail_message_texts t WHERE t.tenant = p.tenant AND t.message = p.message AND t.lang = 'ja') AS subject \
         FROM line_pushes p WHERE p.tenant = $1 GROUP BY p.tenant, p.message ORDER BY at DESC, p.message LIMIT 20",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| MessageLine {
            id: r.get("message"),
            subject: r.get::<Option<String>, _>("subject").unwrap_or_default(),
            sent: r.get("sent"),
            queued: r.get("queued"),
            failed: r.get("failed"),
        })
        .collect())
}

async fn page(
    s: &ChannelsState,
    admin: &SystemAdmin,
    lang: Lang,
    status: StatusCode,
    notice: String,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let tenant = admin.tenant.as_str();
    let t = kernel::tenant::load(&s.db, tenant).await?;
    let (linked, pending, unfollowed) = user_counts(&s.db, tenant).await?;
    let error_of = |name: &str| {
        errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.clone())
            .unwrap_or_default()
    };
    let fields = vec![
        FieldLine {
            name: "channel_secret",
            label: i18n::t(lang, "mail.channels.staff.secret").to_string(),
            error: error_of("channel_secret"),
        },
        FieldLine {
            name: "access_token",
            label: i18n::t(lang, "mail.channels.staff.token").to_string(),
            error: error_of("access_token"),
        },
    ];
    let page = staff_page(
        lang,
        &t,
        admin,
        i18n::t(lang, "mail.channels.staff.title"),
        format!("/t/{tenant}/staff/line"),
    );
    Ok(render_status(
        status,
        &LinePage {
            page,
            errors,
            notice,
            configured: channel::load(&s.db, tenant).await?.is_some(),
            webhook_url: format!("{}/t/{tenant}/line/webhook", s.public_url.0),
            linked,
            pending,
            unfollowed,
            messages: messages(&s.db, tenant).await?,
            fields,
        },
    ))
}

pub async fn line_page(
    State(s): State<ChannelsState>,
    admin: SystemAdmin,
    lang: Lang,
) -> AppResult<Response> {
    page(&s, &admin, lang, StatusCode::OK, String::new(), Vec::new()).await
}

#[derive(Deserialize)]
pub struct ChannelForm {
    #[serde(default)]
    channel_secret: String,
    #[serde(default)]
    access_token: String,
}

pub async fn line_post(
    State(s): State<ChannelsState>,
    admin: SystemAdmin,
    lang: Lang,
    Form(f): Form<ChannelForm>,
) -> AppResult<Response> {
    match channel::save(
        &s.db,
        &admin,
        lang,
        f.channel_secret.trim(),
        f.access_token.trim(),
        kernel::clock::now_ms(),
    )
    .await
    {
        Ok(()) => {
            let notice = i18n::t(lang, "mail.channels.staff.saved").to_string();
            page(&s, &admin, lang, StatusCode::OK, notice, Vec::new()).await
        }
        Err(AppError::Validation(errors)) => {
            page(
                &s,
                &admin,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                String::new(),
                errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
