//! What the delivery pages show of a message.

use kernel::i18n::{self, Lang};

use super::listing::OutboxMail;
use crate::outbox::State;

/// The label of a delivery state in `lang`.
pub fn state_label(lang: Lang, state: &str) -> String {
    let key = match State::parse(state) {
        Some(s) => format!("mail.delivery.state.{}", s.as_str()),
        None => return state.to_string(),
    };
    i18n::t(lang, &key).to_string()
}

/// One message as a row of the delivery status page (links masked).
pub struct MailLine {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub state: String,
    pub state_label: String,
    pub lang: String,
    pub case_id: String,
    pub attempts: i64,
    pub error: String,
    pub created_at: String,
    /// Failed, unknown and held messages may be sent (again) by staff.
    pub resendable: bool,
}

impl MailLine {
    pub fn new(lang: Lang, m: &OutboxMail) -> Self {
        Self {
            id: m.id.clone(),
            kind: m.kind.clone(),
            recipient: m.recipient.clone(),
            subject: m.subject.clone(),
            state: m.state.clone(),
            state_label: state_label(lang, &m.state),
            lang: m.lang.clone(),
            case_id: m.case_id.clone().unwrap_or_default(),
            attempts: m.attempts,
            error: m.last_error.clone().unwrap_or_default(),
            created_at: kernel::clock::format_in(lang, m.created_at),
            resendable: matches!(
                State::parse(&m.state),
                Some(State::Failed | State::Unknown | State::Held)
            ),
        }
    }
}

/// One message of the demo mailbox, as the resident would receive it.
pub struct DemoMail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub date: String,
    pub lang: String,
    pub body: String,
}

/// A state, its label and how many messages are in it.
pub struct CountLine {
    pub state: String,
    pub label: String,
    pub count: i64,
}

/// A choice of a filter's select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}
