//! A case's history as staff read it: each event with a translated label
//! (never a raw code such as `start_review`), who did it by name, and a
//! status change in words (受付 → 審査中).

use std::collections::HashMap;

use kernel::db::Db;
use kernel::i18n::{self, Lang};
use kernel::AppResult;

use crate::applications::Event;
use crate::status::{Action, Status};

/// One line of the history on the staff case page.
pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub what: String,
    /// `受付 → 審査中`, or empty when the status did not change.
    pub change: String,
    pub body: String,
}

/// The i18n key of an event's label.
pub fn label_key(kind: &str) -> String {
    match Action::parse(kind) {
        Some(a) => format!("staff.case.event.{}", a.as_str()),
        None => format!("staff.case.event.{kind}"),
    }
}

/// A status in words (`審査中`), or the stored text if unknown.
fn status_words(s: Option<&str>, lang: Lang) -> Option<String> {
    let s = s?;
    Some(match Status::parse(s) {
        Some(st) => i18n::t(lang, &st.label_key()).to_string(),
        None => s.to_string(),
    })
}

/// Who did it: a member of staff by name, the applicant as such.
async fn actor_name(
    db: &Db,
    tenant: &str,
    actor: &str,
    names: &mut HashMap<String, String>,
    lang: Lang,
) -> AppResult<String> {
    if let Some(n) = names.get(actor) {
        return Ok(n.clone());
    }
    let name = match actor.strip_prefix("staff:") {
        Some(id) => kernel::auth::directory::name_of(db, tenant, id)
            .await?
            .unwrap_or_else(|| id.to_string()),
        None if actor == "resident" => i18n::t(lang, "staff.case.actor_resident").to_string(),
        None => actor.to_string(),
    };
    names.insert(actor.to_string(), name.clone());
    Ok(name)
}

/// The history rows of a case, oldest first.
pub async fn rows(db: &Db, tenant: &str, events: &[Event], lang: Lang) -> AppResult<Vec<EventRow>> {
    let mut names = HashMap::new();
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let change = match (
            status_words(e.from_status.as_deref(), lang),
            status_words(e.to_status.as_deref(), lang),
        ) {
            (Some(from), Some(to)) => format!("{from} → {to}"),
            (None, Some(to)) => to,
            _ => String::new(),
        };
        let body = if e.kind == "assign" {
            let who = if e.body.is_empty() {
                i18n::t(lang, "staff.cases.unassigned").to_string()
            } else {
                actor_name(db, tenant, &format!("staff:{}", e.body), &mut names, lang).await?
            };
            i18n::tf(lang, "staff.case.event_assignee", &[("name", &who)])
        } else if e.kind == "identity_checked" {
            // The document's name (its code is what is stored).
            crate::visits::IdDocument::parse(&e.body)
                .map(|d| i18n::t(lang, &d.label_key()).to_string())
                .unwrap_or_else(|| e.body.clone())
        } else {
            e.body.clone()
        };
        out.push(EventRow {
            at: kernel::clock::format_in(lang, e.at),
            actor: actor_name(db, tenant, &e.actor, &mut names, lang).await?,
            what: i18n::t(lang, &label_key(&e.kind)).to_string(),
            change,
            body,
        });
    }
    Ok(out)
}
