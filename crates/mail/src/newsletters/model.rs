//! What a newsletter message is: its state, its texts per language, its
//! optional event, and the staff's form read into them with a Japanese
//! message naming each mistake's field.

use kernel::i18n::{self, Lang};
use kernel::web::FormErrors;
use serde::Deserialize;

/// The languages a message is written in: Japanese (required), easy
/// Japanese and English (the minimum), in this order.
pub const LANGS: [Lang; 3] = [Lang::Ja, Lang::JaEasy, Lang::En];

/// A language's name in form fields (`subject_easy`).
pub fn field_suffix(lang: Lang) -> &'static str {
    match lang {
        Lang::JaEasy => "easy",
        other => other.code(),
    }
}

/// The longest subject and body (characters).
pub const SUBJECT_MAX: usize = 150;
pub const BODY_MAX: usize = 20_000;
pub const PLACE_MAX: usize = 200;

/// Where a message stands (`mail_messages.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageState {
    /// Being written; not sent.
    Draft,
    /// Submitted; goes to more recipients than the threshold, so waits
    /// for a second person's approval.
    AwaitingApproval,
    /// May go: at `scheduled_at`, or at once (urgent or unscheduled).
    Approved,
    /// Queued for every recipient (`outbox`, campaign = the message).
    Sent,
    Cancelled,
}

impl MessageState {
    pub const ALL: [MessageState; 5] = [
        MessageState::Draft,
        MessageState::AwaitingApproval,
        MessageState::Approved,
        MessageState::Sent,
        MessageState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Draft => "draft",
            MessageState::AwaitingApproval => "awaiting_approval",
            MessageState::Approved => "approved",
            MessageState::Sent => "sent",
            MessageState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether staff may still change it (edit, submit, cancel).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            MessageState::Draft | MessageState::AwaitingApproval | MessageState::Approved
        )
    }

    pub fn label(self, lang: Lang) -> &'static str {
        i18n::t(
            lang,
            match self {
                MessageState::Draft => "mail.newsletters.state.draft",
                MessageState::AwaitingApproval => "mail.newsletters.state.awaiting_approval",
                MessageState::Approved => "mail.newsletters.state.approved",
                MessageState::Sent => "mail.newsletters.state.sent",
                MessageState::Cancelled => "mail.newsletters.state.cancelled",
            },
        )
    }
}

/// A message's subject and body in one language.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageText {
    pub lang: Lang,
    pub subject: String,
    pub body: String,
}

/// An event the message announces (the iCalendar feed lists it).
#[derive(Clone, Debug, PartialEq)]
pub struct EventInfo {
    pub start: i64,
    pub end: Option<i64>,
    pub place: String,
}

/// What staff write: everything of a message but its state.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub category: String,
    pub urgent: bool,
    pub scheduled_at: Option<i64>,
    pub event: Option<EventInfo>,
    /// Japanese first; then the other languages written.
    pub texts: Vec<MessageText>,
}

/// A stored message.
#[derive(Clone, Debug)]
pub struct Message {
    pub id: String,
    pub category: String,
    pub urgent: bool,
    pub state: MessageState,
    pub scheduled_at: Option<i64>,
    pub author: String,
    pub approver: Option<String>,
    pub approved_at: Option<i64>,
    pub recipients: Option<i64>,
    pub event: Option<EventInfo>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
    pub version: i64,
    /// Who wrote it: the author, then each who edited or submitted it.
    pub writers: Vec<String>,
    pub texts: Vec<MessageText>,
}

impl Message {
    /// Whether `staff_id` wrote, edited or submitted it (and so may not
    /// approve it).
    pub fn written_by(&self, staff_id: &str) -> bool {
        self.author == staff_id || self.writers.iter().any(|w| w == staff_id)
    }

    /// The Japanese text (always there).
    pub fn ja(&self) -> Option<&MessageText> {
        self.texts.iter().find(|t| t.lang == Lang::Ja)
    }

    pub fn langs(&self) -> Vec<Lang> {
        self.texts.iter().map(|t| t.lang).collect()
    }

    pub fn draft(&self) -> Draft {
        Draft {
            category: self.category.clone(),
            urgent: self.urgent,
            scheduled_at: self.scheduled_at,
            event: self.event.clone(),
            texts: self.texts.clone(),
        }
    }
}

/// The compose form as posted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ComposeForm {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub urgent: Option<String>,
    #[serde(default)]
    pub scheduled_at: String,
    #[serde(default)]
    pub event_start: String,
    #[serde(default)]
    pub event_end: String,
    #[serde(default)]
    pub event_place: String,
    #[serde(default)]
    pub subject_ja: String,
    #[serde(default)]
    pub body_ja: String,
    #[serde(default)]
    pub subject_easy: String,
    #[serde(default)]
    pub body_easy: String,
    #[serde(default)]
    pub subject_en: String,
    #[serde(default)]
    pub body_en: String,
    /// The version the form was made from (edits only).
    #[serde(default)]
    pub version: String,
}

impl ComposeForm {
    pub fn subject(&self, lang: Lang) -> &str {
        match lang {
            Lang::JaEasy => &self.subject_easy,
            Lang::En => &self.subject_en,
            _ => &self.subject_ja,
        }
    }

    pub fn body(&self, lang: Lang) -> &str {
        match lang {
            Lang::JaEasy => &self.body_easy,
            Lang::En => &self.body_en,
            _ => &self.body_ja,
        }
    }

    /// The form of a stored message (to edit it).
    pub fn of(m: &Message) -> Self {
        let text = |l: Lang| m.texts.iter().find(|t| t.lang == l);
        let s = |l: Lang| text(l).map(|t| t.subject.clone()).unwrap_or_default();
        let b = |l: Lang| text(l).map(|t| t.body.clone()).unwrap_or_default();
        let ev = m.event.as_ref();
        Self {
            category: m.category.clone(),
            urgent: m.urgent.then(|| "on".to_string()),
            scheduled_at: m.scheduled_at.map(local_input).unwrap_or_default(),
            event_start: ev.map(|e| local_input(e.start)).unwrap_or_default(),
            event_end: ev.and_then(|e| e.end).map(local_input).unwrap_or_default(),
            event_place: ev.map(|e| e.place.clone()).unwrap_or_default(),
            subject_ja: s(Lang::Ja),
            body_ja: b(Lang::Ja),
            subject_easy: s(Lang::JaEasy),
            body_easy: b(Lang::JaEasy),
            subject_en: s(Lang::En),
            body_en: b(Lang::En),
            version: m.version.to_string(),
        }
    }

    /// The form read into a [`Draft`], as of `now`; every mistake named
    /// by its field, in Japanese. `categories`: the codes that exist.
    pub fn parse(&self, now: i64, categories: &[String]) -> Result<Draft, FormErrors> {
        let mut e = FormErrors::default();
        let category = self.category.trim().to_string();
        if category.is_empty() {
            e.push("category", "配信する分類を選んでください。");
        } else if !categories.contains(&category) {
            e.push("category", "その分類はありません。一覧から選んでください。");
        }
        let urgent = self.urgent.as_deref().is_some_and(|v| !v.is_empty());
        let scheduled_at = match local_time("scheduled_at", "配信日時", &self.scheduled_at, &mut e)
        {
            Some(t) if t <= now && !urgent => {
                e.push(
                    "scheduled_at",
                    "配信日時が過ぎています。これから先の日時にするか、空欄（承認後すぐ配信）にしてください。",
                );
                None
            }
            t => t,
        };
        let start = local_time("event_start", "催しの開始日時", &self.event_start, &mut e);
        let end = local_time("event_end", "催しの終了日時", &self.event_end, &mut e);
        let place = self.event_place.trim().to_string();
        if place.chars().count() > PLACE_MAX {
            e.push(
                "event_place",
                format!("催しの場所は{PLACE_MAX}文字以内で入力してください。"),
            );
        }
        let event = match (start, end) {
            (Some(s), Some(en)) if en < s => {
                e.push(
                    "event_end",
                    "催しの終了日時は開始日時より後にしてください。",
                );
                None
            }
            (Some(s), end) => Some(EventInfo {
                start: s,
                end,
                place: place.clone(),
            }),
            (None, Some(_)) => {
                e.push(
                    "event_start",
                    "催しの終了日時があるときは、開始日時も入力してください。",
                );
                None
            }
            (None, None) => {
                if !place.is_empty() && self.event_start.trim().is_empty() {
                    e.push(
                        "event_start",
                        "催しの場所があるときは、開始日時も入力してください。",
                    );
                }
                None
            }
        };
        let mut texts = Vec::new();
        for lang in LANGS {
            if let Some(t) = self.text(lang, &mut e) {
                texts.push(t);
            }
        }
        if e.is_empty() {
            Ok(Draft {
                category,
                urgent,
                scheduled_at,
                event,
                texts,
            })
        } else {
            Err(e)
        }
    }

    fn text(&self, lang: Lang, e: &mut FormErrors) -> Option<MessageText> {
        let suffix = field_suffix(lang);
        let name = match lang {
            Lang::Ja => "日本語",
            Lang::JaEasy => "やさしい日本語",
            _ => "英語",
        };
        let subject = self.subject(lang).trim();
        let body = self.body(lang).replace("\r\n", "\n");
        let body = body.trim();
        let sf = format!("subject_{suffix}");
        let bf = format!("body_{suffix}");
        if lang != Lang::Ja && subject.is_empty() && body.is_empty() {
            return None;
        }
        let before = e.len();
        if subject.is_empty() {
            e.push(&sf, format!("{name}の件名を入力してください。"));
        } else if subject.chars().any(char::is_control) {
            e.push(
                &sf,
                format!("{name}の件名は1行で入力してください（改行は使えません）。"),
            );
        } else if subject.chars().count() > SUBJECT_MAX {
            e.push(
                &sf,
                format!("{name}の件名は{SUBJECT_MAX}文字以内で入力してください。"),
            );
        }
        if body.is_empty() {
            e.push(&bf, format!("{name}の本文を入力してください。"));
        } else if body.chars().count() > BODY_MAX {
            e.push(
                &bf,
                format!("{name}の本文は{BODY_MAX}文字以内で入力してください。"),
            );
        }
        (e.len() == before).then(|| MessageText {
            lang,
            subject: subject.to_string(),
            body: body.to_string(),
        })
    }
}

/// A `datetime-local` value (`2026-12-08T09:30`), in Japan time, as ms
/// since the epoch; empty is `None`; a mistake is named.
fn local_time(field: &str, label: &str, raw: &str, e: &mut FormErrors) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match parse_local(raw) {
        Some(t) => Some(t),
        None => {
            e.push(
                field,
                format!("{label}は「2026-12-08T09:30」の形（年-月-日T時:分）で入力してください。"),
            );
            None
        }
    }
}

/// `YYYY-MM-DDTHH:MM` (seconds allowed) in Japan time.
pub fn parse_local(raw: &str) -> Option<i64> {
    use time::macros::format_description;
    let short = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let long = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let dt = time::PrimitiveDateTime::parse(raw, short)
        .or_else(|_| time::PrimitiveDateTime::parse(raw, long))
        .ok()?;
    let t = dt.assume_offset(time::UtcOffset::from_hms(9, 0, 0).ok()?);
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// ms since the epoch as a `datetime-local` value in Japan time.
pub fn local_input(ms: i64) -> String {
    let t = kernel::clock::to_jst(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The language version a reader of `reader`'s language receives, of
/// those written (`available`, always with Japanese): their own; else
/// easy Japanese for a reader of another language than Japanese (a
/// foreign resident reads it more easily than standard Japanese); else
/// Japanese.
pub fn choose(reader: Lang, available: &[Lang]) -> Lang {
    if available.contains(&reader) {
        reader
    } else if reader != Lang::Ja && available.contains(&Lang::JaEasy) {
        Lang::JaEasy
    } else {
        Lang::Ja
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ComposeForm {
        ComposeForm {
            category: "bousai".into(),
            subject_ja: "避難所の開設".into(),
            body_ja: "本文".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_language_nearest_the_readers() {
        let all = [Lang::Ja, Lang::JaEasy, Lang::En];
        assert_eq!(choose(Lang::En, &all), Lang::En);
        assert_eq!(choose(Lang::Vi, &all), Lang::JaEasy);
        assert_eq!(choose(Lang::Vi, &[Lang::Ja, Lang::En]), Lang::Ja);
        assert_eq!(choose(Lang::JaEasy, &[Lang::Ja]), Lang::Ja);
        assert_eq!(choose(Lang::Ja, &all), Lang::Ja);
    }

    #[test]
    fn japan_time_round_trips() {
        let t = parse_local("2026-12-08T09:30").unwrap();
        assert_eq!(t, 1_796_689_800_000);
        assert_eq!(local_input(t), "2026-12-08T09:30");
        assert_eq!(parse_local("2026-12-08 09:30"), None);
        assert_eq!(parse_local("2026-13-08T09:30"), None);
    }

    #[test]
    fn a_form_reads_into_a_draft() {
        let cats = vec!["bousai".to_string()];
        let d = form().parse(0, &cats).unwrap();
        assert_eq!(d.texts.len(), 1);
        assert_eq!(d.texts[0].lang, Lang::Ja);
        assert!(!d.urgent);

        let mut f = form();
        f.subject_ja = "件名\r\nBcc: x@example.jp".into();
        f.subject_en = "Only a subject".into();
        f.category = "none".into();
        f.event_end = "2026-12-08T10:00".into();
        let e = f.parse(0, &cats).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["category", "event_start", "subject_ja", "body_en"]);
    }

    #[test]
    fn a_schedule_in_the_past_is_refused_unless_urgent() {
        let cats = vec!["bousai".to_string()];
        let mut f = form();
        f.scheduled_at = "2026-12-08T09:30".into();
        let now = parse_local("2026-12-08T10:00").unwrap();
        assert_eq!(f.parse(now, &cats).unwrap_err().0[0].field, "scheduled_at");
        f.urgent = Some("on".into());
        assert!(f.parse(now, &cats).is_ok());
    }
}
