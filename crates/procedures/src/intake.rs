//! Turning validated input into a submitted case: the one path every
//! channel (online form, API, counter entry, demo loader) goes through.

use kernel::i18n::Lang;
use kernel::{AppError, AppResult};

use crate::applications;
use crate::committer::{Committer, NewApplication, NewAttachment, Submitted};
use crate::form::{self, RawInput};
use crate::model::{Channel, StoredProcedure};

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
    let answers = form::validate(&p.form, i.input, i.lang).map_err(AppError::Validation)?;
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
            submitted_at: i.submitted_at.unwrap_or_else(kernel::clock::now_ms),
        })
        .await
}
