//! What the feeds read: sent newsletter messages (`mail_messages` with
//! `state = 'sent'`, written by `mail::newsletters`) with their text in
//! the language nearest the reader's. Only reads.

use kernel::i18n::Lang;
use kernel::{AppResult, Db};
use sqlx::Row;

/// At most this many entries in a feed (the newest).
pub const FEED_LIMIT: i64 = 50;

/// One sent message as a feed shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    pub id: String,
    pub category: String,
    pub sent_at: i64,
    pub updated_at: i64,
    pub event_start: Option<i64>,
    pub event_end: Option<i64>,
    pub event_place: Option<String>,
    /// The language of the text below (`mail_message_texts.lang`).
    pub lang: String,
    pub subject: String,
    pub body: String,
}

/// The codes a text in `lang` may be stored under, best first: the
/// language's own code (`Lang::code`, as the outbox stores it), `easy`
/// also for easy Japanese, and Japanese last (every message has it).
pub fn text_codes(lang: Lang) -> Vec<&'static str> {
    let mut codes = vec![lang.code()];
    if lang == Lang::JaEasy {
        codes.push("easy");
    }
    if lang != Lang::Ja {
        codes.push("ja");
    }
    codes
}

/// Of the texts of one message (`(lang, subject, body)`), the one nearest
/// `lang`; none if even Japanese is missing.
pub fn nearest(
    texts: &[(String, String, String)],
    lang: Lang,
) -> Option<&(String, String, String)> {
    text_codes(lang)
        .into_iter()
        .find_map(|code| texts.iter().find(|t| t.0 == code))
}

/// The category's name in `lang` (its `names` JSON, else Japanese), or
/// `None` if the tenant has no such active category.
pub async fn category_name(
    db: &Db,
    tenant: &str,
    code: &str,
    lang: Lang,
) -> AppResult<Option<(String, i64)>> {
    let row = sqlx::query(
        "SELECT name, names, updated_at FROM mail_categories \
         WHERE tenant = $1 AND code = $2 AND active = 1",
    )
    .bind(tenant)
    .bind(code)
    .fetch_optional(db.read())
    .await?;
    Ok(row.map(|r| {
        (
            local_name(&r.get::<String, _>("names"), r.get("name"), lang),
            r.get::<i64, _>("updated_at"),
        )
    }))
}

/// A category's name in `lang`: from its `names` JSON (`{"en": …}`,
/// easy Japanese under its code or `easy`), else Japanese `name`.
pub fn local_name(names: &str, name: String, lang: Lang) -> String {
    let names: serde_json::Value = serde_json::from_str(names).unwrap_or_default();
    text_codes(lang)
        .into_iter()
        .take_while(|c| *c != "ja")
        .find_map(|c| {
            names
                .get(c)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        })
        .map_or(name, str::to_string)
}

/// Which sent messages a feed lists.
pub enum Filter<'a> {
    /// Of one category, newest first.
    Category(&'a str),
    /// Events (`event_start` set) of any category, by start, latest first.
    Events,
}

/// The sent messages of `filter` (at most [`FEED_LIMIT`]), each in the
/// text nearest `lang`.
pub async fn sent(
    db: &Db,
    tenant: &str,
    filter: Filter<'_>,
    lang: Lang,
) -> AppResult<Vec<SentMessage>> {
    let (cond, order, category) = match filter {
        Filter::Category(c) => ("AND category = $2", "sent_at DESC, id", Some(c)),
        Filter::Events => ("AND event_start IS NOT NULL", "event_start DESC, id", None),
    };
    let selected = format!(
        "SELECT id FROM mail_messages WHERE tenant = $1 AND state = 'sent' {cond} \
         ORDER BY {order} LIMIT {FEED_LIMIT}"
    );
    let messages_sql = format!(
        "SELECT id, category, sent_at, updated_at, event_start, event_end, event_place \
         FROM mail_messages WHERE tenant = $1 AND state = 'sent' {cond} ORDER BY {order} LIMIT {FEED_LIMIT}"
    );
    let texts_sql = format!(
        "SELECT message, lang, subject, body FROM mail_message_texts \
         WHERE tenant = $1 AND message IN ({selected})"
    );
    let mut messages = sqlx::query(&messages_sql).bind(tenant);
    let mut texts = sqlx::query(&texts_sql).bind(tenant);
    if let Some(c) = category {
        messages = messages.bind(c);
        texts = texts.bind(c);
    }
    let rows = messages.fetch_all(db.read()).await?;
    let texts = texts.fetch_all(db.read()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.get("id");
        let mine: Vec<(String, String, String)> = texts
            .iter()
            .filter(|t| t.get::<String, _>("message") == id)
            .map(|t| (t.get("lang"), t.get("subject"), t.get("body")))
            .collect();
        let Some((text_lang, subject, body)) = nearest(&mine, lang).cloned() else {
            continue;
        };
        out.push(SentMessage {
            category: r.get("category"),
            sent_at: r.get::<Option<i64>, _>("sent_at").unwrap_or_default(),
            updated_at: r.get("updated_at"),
            event_start: r.get("event_start"),
            event_end: r.get("event_end"),
            event_place: r.get("event_place"),
            id,
            lang: text_lang,
            subject,
            body,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(lang: &str) -> (String, String, String) {
        (lang.into(), format!("s-{lang}"), format!("b-{lang}"))
    }

    #[test]
    fn picks_the_nearest_language() {
        let all = [t("ja"), t("ja-x-easy"), t("en")];
        assert_eq!(nearest(&all, Lang::En).unwrap().0, "en");
        assert_eq!(nearest(&all, Lang::JaEasy).unwrap().0, "ja-x-easy");
        assert_eq!(nearest(&all, Lang::Vi).unwrap().0, "ja");
        assert_eq!(
            nearest(&[t("ja"), t("easy")], Lang::JaEasy).unwrap().0,
            "easy"
        );
        assert_eq!(nearest(&[t("en")], Lang::Ko), None);
    }
}
