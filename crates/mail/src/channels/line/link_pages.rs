//! The page a LINE user reaches from the bot's one-time link
//! (`/t/{tenant}/line/link/{token}`): the categories to receive, confirmed
//! with a POST (the usual CSRF token), which links the user and uses the
//! link up. A used, expired or unknown link shows a page saying how to
//! get a new one (404), and changes nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use kernel::error::FieldError;
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, tenant_page, Page};
use kernel::AppResult;

use super::users;
use crate::channels::ChannelsState;

pub struct CategoryBox {
    pub code: String,
    pub name: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "channels/line_link.html")]
struct LinkPage {
    page: Page,
    errors: Vec<FieldError>,
    usable: bool,
    done: bool,
    action: String,
    categories: Vec<CategoryBox>,
    chosen: Vec<String>,
}

async fn frame(
    s: &ChannelsState,
    tenant: &str,
    token: &str,
    lang: Lang,
) -> AppResult<(Page, String)> {
    let t = kernel::tenant::load(&s.db, tenant).await?;
    let path = format!("/t/{tenant}/line/link/{token}");
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "mail.channels.line.title"),
        path.clone(),
    );
    Ok((page, path))
}

fn unusable(page: Page, action: String) -> Response {
    render_status(
        StatusCode::NOT_FOUND,
        &LinkPage {
            page,
            errors: Vec::new(),
            usable: false,
            done: false,
            action,
            categories: Vec::new(),
            chosen: Vec::new(),
        },
    )
}

pub async fn link_page(
    State(s): State<ChannelsState>,
    Path((tenant, token)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let (page, action) = frame(&s, &tenant, &token, lang).await?;
    let now = kernel::clock::now_ms();
    let Some(holder) = users::by_link(&s.db, &tenant, &token, now).await? else {
        return Ok(unusable(page, action));
    };
    let categories = users::categories(&s.db, &tenant, lang)
        .await?
        .into_iter()
        .map(|(code, name)| CategoryBox {
            checked: holder.categories.contains(&code),
            code,
            name,
        })
        .collect();
    Ok(render_status(
        StatusCode::OK,
        &LinkPage {
            page,
            errors: Vec::new(),
            usable: true,
            done: false,
            action,
            categories,
            chosen: Vec::new(),
        },
    ))
}

pub async fn link_post(
    State(s): State<ChannelsState>,
    Path((tenant, token)): Path<(String, String)>,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (page, action) = frame(&s, &tenant, &token, lang).await?;
    let now = kernel::clock::now_ms();
    let Some(holder) = users::by_link(&s.db, &tenant, &token, now).await? else {
        return Ok(unusable(page, action));
    };
    let all = users::categories(&s.db, &tenant, lang).await?;
    let picked: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "category")
        .map(|(_, v)| v.clone())
        .collect();
    let mut error = None;
    if picked.is_empty() {
        error = Some(i18n::t(lang, "mail.channels.line.none_chosen").to_string());
    } else if let Some(bad) = picked.iter().find(|p| !all.iter().any(|(c, _)| c == *p)) {
        error = Some(i18n::tf(
            lang,
            "mail.channels.line.unknown_category",
            &[("code", bad)],
        ));
    }
    if let Some(message) = error {
        let categories = all
            .into_iter()
            .map(|(code, name)| CategoryBox {
                checked: picked.contains(&code)
                    || (picked.is_empty() && holder.categories.contains(&code)),
                code,
                name,
            })
            .collect();
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &LinkPage {
                page,
                errors: vec![FieldError {
                    field: "categories".into(),
                    message,
                }],
                usable: true,
                done: false,
                action,
                categories,
                chosen: Vec::new(),
            },
        ));
    }
    let mut chosen_codes: Vec<String> = all
        .iter()
        .filter(|(c, _)| picked.contains(c))
        .map(|(c, _)| c.clone())
        .collect();
    chosen_codes.dedup();
    // The token is used up here: a second POST (a replay) finds nothing.
    if users::confirm(&s.db, &tenant, &token, &chosen_codes, lang.code(), now)
        .await?
        .is_none()
    {
        return Ok(unusable(page, action));
    }
    let chosen = all
        .into_iter()
        .filter(|(c, _)| chosen_codes.contains(c))
        .map(|(_, n)| n)
        .collect();
    Ok(render_status(
        StatusCode::OK,
        &LinkPage {
            page,
            errors: Vec::new(),
            usable: false,
            done: true,
            action,
            categories: Vec::new(),
            chosen,
        },
    ))
}
