//! Turning validated input into a submitted case: the one path every
//! channel (online form, API, counter entry, demo loader) goes through.

use kernel::i18n::Lang;
use kernel::{AppError, AppResult};

use crate::applications;
use crate::committer::{Committer, NewApplication, NewAttachment, NewIdentityCheck, Submitted};
use catalogue::form::{self, RawInput};
use catalogue::model::{Channel, IdentityLevel, StoredProcedure};
use kernel::resident::{Level, Resident};

/// Whether a sign-in (or none) meets a procedure's identity level.
pub fn identity_met(required: IdentityLevel, resident: Option<&Resident>) -> bool {
    match required {
        IdentityLevel::None => true,
        IdentityLevel::SignedIn => resident.is_some(),
        IdentityLevel::MyNumberCard => resident.is_some_and(|r| r.level == Level::MyNumberCard),
    }
}

pub struct Intake<'a> {
    pub tenant: &'a str,
    pub procedure: &'a StoredProcedure,
    pub input: &'a RawInput,
    pub channel: Channel,
    pub idempotency_key: &'a str,
    pub draft_id: Option<String>,
    pub new_attachments: Vec<NewAttachment>,
    pub actor: String,
    pub lang: Lang,
    /// Only the demo loader and imports set this; live submissions use now.
    pub submitted_at: Option<i64>,
    /// The signed-in resident (online channel): their identity level must
    /// meet the procedure's, and their verified 基本4情報 fill the form.
    pub resident: Option<&'a Resident>,
    /// At the counter: how the clerk knows who the resident is (a card
    /// read at the counter fills and verifies fields as online).
    pub counter_identity: Option<CounterIdentity>,
    /// Today in Japan and the municipality's office calendar, for the
    /// form's date rules.
    pub today: &'a catalogue::rules::Today,
    /// At the counter: the identity document the clerk checked for this
    /// case (stored with it; never taken for an online submission).
    pub identity_check: Option<NewIdentityCheck>,
}

/// The identity behind a counter or proxy submission.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct CounterIdentity {
    /// `my_number_card` when the card was read, else `counter` (the
    /// clerk checked a document in person).
    pub level: String,
    /// Fields filled from the card.
    pub verified_fields: Vec<String>,
    /// The card holder's pseudonymous subject.
    pub subject: Option<String>,
}

/// Idempotency keys: 16–128 visible ASCII characters (a UUID or random
/// token per submission).
pub fn check_idempotency_key(key: &str, lang: Lang) -> AppResult<()> {
    if (16..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(AppError::Validation(vec![kernel::FieldError {
            field: "Idempotency-Key".into(),
            message: kernel::i18n::t(lang, "intake.idempotency_key").into(),
        }]))
    }
}

pub async fn submit(committer: &Committer, i: Intake<'_>) -> AppResult<Submitted> {
    check_idempotency_key(i.idempotency_key, i.lang)?;
    let p = &i.procedure.procedure;
    if i.channel == Channel::Online && !p.channels.online() {
        return Err(AppError::BadRequest(kernel::i18n::tf(
            i.lang,
            "intake.not_online",
            &[("procedure", p.name.get(i.lang))],
        )));
    }
    // Online, the procedure's identity level is checked here, on the one
    // path every submission takes. At the counter the clerk checks the
    // resident's identity document in person.
    if i.channel == Channel::Online && !identity_met(p.identity_level, i.resident) {
        return Err(AppError::IdentityRequired(p.identity_level.as_str()));
    }
    let mut input = i.input.clone();
    let counter = i
        .counter_identity
        .clone()
        .filter(|_| i.channel != Channel::Online);
    let verified_fields = match (i.channel, i.resident) {
        (Channel::Online, Some(r)) => form::apply_verified(&p.form, &r.claims, &mut input),
        _ => counter
            .as_ref()
            .map(|c| c.verified_fields.clone())
            .unwrap_or_default(),
    };
    let identity_level = match (i.channel, i.resident) {
        (Channel::Online, Some(r)) => r.level.as_str(),
        (Channel::Online, None) => "none",
        _ => counter.as_ref().map_or("counter", |c| c.level.as_str()),
    };
    let answers = form::validate(&p.form, &input, i.lang, i.today).map_err(AppError::Validation)?;
    let (applicant_name, applicant_kana, email) = applications::applicant_of(&p.form, &answers);
    committer
        .submit(NewApplication {
            tenant: i.tenant.to_string(),
            procedure_id: p.id.clone(),
            procedure_version: i.procedure.version,
            procedure_name: p.name.get(i.lang).to_string(),
            lang: i.lang,
            department: p.department.clone(),
            channel: i.channel,
            online_capable: p.channels.online(),
            answers,
            applicant_name,
            applicant_kana,
            email,
            idempotency_key: i.idempotency_key.to_string(),
            new_attachments: i.new_attachments,
            draft_id: i.draft_id,
            actor: i.actor,
            identity_level: identity_level.to_string(),
            verified_fields,
            resident_subject: match i.channel {
                Channel::Online => i.resident.map(|r| r.subject.clone()),
                _ => counter.as_ref().and_then(|c| c.subject.clone()),
            },
            submitted_at: i.submitted_at.unwrap_or_else(kernel::clock::now_ms),
            visit_id: None,
            identity_check: i.identity_check.filter(|_| i.channel != Channel::Online),
        })
        .await
}
