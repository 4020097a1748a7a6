//! The chat page: a plain form, so it works without JavaScript. The
//! conversation so far travels in hidden fields of the form (the last few
//! turns, checked and bounded when they come back); nothing is stored on
//! the server. The newest answer is the target of the form's `#latest`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use kernel::i18n::{self, Lang};
use kernel::tenant::TenantProfile;
use kernel::web::{render_status, tenant_page, FormErrors, Page};
use kernel::AppResult;
use serde::{Deserialize, Serialize};

use crate::chat::{self, Contact, SourceLink, MAX_SOURCES};
use crate::state::GuideState;
use crate::view::paragraphs;

/// Earlier turns kept on the page (older ones are dropped).
pub const MAX_TURNS: usize = 5;
const MAX_ANSWER_CHARS: usize = 6000;
const MAX_TITLE_CHARS: usize = 300;

/// One question and its answer, as carried in the form.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Turn {
    q: String,
    a: String,
    #[serde(default)]
    al: String,
    #[serde(default)]
    d: bool,
    #[serde(default)]
    g: bool,
    #[serde(default)]
    s: Vec<SourceLink>,
}

impl Turn {
    /// A turn that came back from the browser, if it is one this page could
    /// have written: bounded text, sources linking only into the tenant.
    fn checked(raw: &str, tenant: &str) -> Option<Turn> {
        let mut t: Turn = serde_json::from_str(raw).ok()?;
        let prefix = format!("/t/{tenant}/");
        if search::parse_query_text(&t.q).is_err()
            || t.a.chars().count() > MAX_ANSWER_CHARS
            || t.s.len() > MAX_SOURCES
            || t.s.iter().any(|s| {
                !s.url.starts_with(&prefix)
                    || s.url.len() > 200
                    || s.url.chars().any(|c| c.is_whitespace() || c == '"')
                    || s.title.chars().count() > MAX_TITLE_CHARS
                    || !["faq", "procedure", "navi"].contains(&s.kind.as_str())
            })
        {
            return None;
        }
        t.al = Lang::parse(&t.al).unwrap_or_default().code().to_string();
        Some(t)
    }

    /// Serialised for the hidden field.
    fn field(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn paragraphs(&self) -> Vec<Vec<String>> {
        paragraphs(&self.a)
    }

    fn kind_label(&self, lang: &Lang, kind: &str) -> &'static str {
        i18n::t(*lang, &format!("search.kind.{kind}"))
    }
}

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage {
    page: Page,
    turns: Vec<Turn>,
    dropped: bool,
    message: String,
    errors: FormErrors,
    contact: Contact,
    has_latest: bool,
}

fn render(
    t: &TenantProfile,
    lang: Lang,
    turns: Vec<Turn>,
    dropped: bool,
    message: String,
    errors: FormErrors,
) -> Response {
    let tenant = t.code.as_str();
    let page = tenant_page(
        lang,
        t,
        i18n::t(lang, "chat.title"),
        format!("/t/{tenant}/chat"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"))
    .with_errors(!errors.is_empty());
    let has_latest = !turns.is_empty() && errors.is_empty();
    render_status(
        errors.status(),
        &ChatPage {
            page,
            turns,
            dropped,
            message,
            contact: chat::tenant_contact(t, lang),
            errors,
            has_latest,
        },
    )
}

pub async fn page(
    State(st): State<GuideState>,
    Path(tenant): Path<String>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    Ok(render(
        &t,
        lang,
        Vec::new(),
        false,
        String::new(),
        FormErrors::default(),
    ))
}

pub async fn post(
    State(st): State<GuideState>,
    Path(tenant): Path<String>,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let message = form
        .iter()
        .find(|(k, _)| k == "message")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let carried: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "turn")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut turns: Vec<Turn> = carried
        .iter()
        .filter_map(|raw| Turn::checked(raw, &tenant))
        .collect();
    let mut dropped = carried.len() > turns.len();
    let question = match search::parse_query_text(&message) {
        Ok(q) => q,
        Err(key) => {
            let mut errors = FormErrors::default();
            errors.push("message", i18n::t(lang, key));
            // Keep what was typed (bounded) so it can be corrected.
            let message: String = message.chars().take(1000).collect();
            return Ok(render(&t, lang, turns, dropped, message, errors));
        }
    };
    let reply = chat::answer(&st, &t, &question, lang).await?;
    turns.push(Turn {
        q: question,
        a: reply.answer,
        al: reply.answer_lang.to_string(),
        d: reply.declined,
        g: reply.generated,
        s: reply.sources,
    });
    if turns.len() > MAX_TURNS + 1 {
        let excess = turns.len() - (MAX_TURNS + 1);
        turns.drain(..excess);
        dropped = true;
    }
    Ok(render(
        &t,
        lang,
        turns,
        dropped,
        String::new(),
        FormErrors::default(),
    ))
}
