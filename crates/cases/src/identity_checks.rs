//! The identity check (本人確認) a clerk did for one case entered at the
//! counter (書かない窓口, or a paper form entered by staff): the document
//! they looked at, chosen by them (never a default), with a note naming
//! the other or second document when the choice needs one; who checked it
//! and when are the signed-in clerk and the moment of filing. Written with
//! the case by the committer, read back here for the staff case view and
//! the API. A case of a life-event visit shows its visit's check instead
//! (`visits::identity_check`).

use kernel::auth::Staff;
use kernel::db::Db;
use kernel::i18n::{self, Lang};
use kernel::{AppResult, FieldError};

use crate::committer::NewIdentityCheck;
use crate::visits::{check_of_row, IdDocument, IdentityCheck};

/// The longest note on an identity check.
pub const MAX_NOTE_CHARS: usize = 200;

/// The check recorded with a case, if one was.
pub async fn of_case(
    db: &Db,
    tenant: &str,
    application_id: &str,
) -> AppResult<Option<IdentityCheck>> {
    let r = sqlx::query(
        "SELECT document, note, checked_by, checked_by_name, checked_at FROM case_identity_checks
         WHERE tenant = $1 AND application_id = $2",
    )
    .bind(tenant)
    .bind(application_id)
    .fetch_optional(db.read())
    .await?;
    r.as_ref().map(check_of_row).transpose()
}

/// The form and API field of the document.
pub const DOCUMENT_FIELD: &str = "identity_document";
/// The form and API field of the note.
pub const NOTE_FIELD: &str = "identity_note";

/// A checked document and its note, valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedDocument {
    pub document: IdDocument,
    pub note: String,
}

impl CheckedDocument {
    /// Reads what the clerk chose; every problem names its field.
    pub fn parse(document: &str, note: &str, lang: Lang) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let field = |name: &str, message: String| FieldError {
            field: name.into(),
            message,
        };
        let doc = if document.trim().is_empty() {
            errors.push(field(
                DOCUMENT_FIELD,
                i18n::t(lang, "visit.error.document_missing").into(),
            ));
            None
        } else {
            let d = IdDocument::parse(document);
            if d.is_none() {
                errors.push(field(
                    DOCUMENT_FIELD,
                    i18n::tf(
                        lang,
                        "visit.error.document_unknown",
                        &[("value", document.trim())],
                    ),
                ));
            }
            d
        };
        let note = jp::nfc(note.trim());
        if note.chars().count() > MAX_NOTE_CHARS {
            errors.push(field(
                NOTE_FIELD,
                i18n::tf(
                    lang,
                    "visit.error.note_too_long",
                    &[("max", &MAX_NOTE_CHARS.to_string())],
                ),
            ));
        } else if let Some(d) = doc.filter(|d| d.needs_note() && note.is_empty()) {
            errors.push(field(
                NOTE_FIELD,
                i18n::t(lang, d.note_missing_key()).into(),
            ));
        }
        match doc {
            Some(document) if errors.is_empty() => Ok(CheckedDocument { document, note }),
            _ => Err(errors),
        }
    }

    /// The check as recorded: by this member of staff, at `at`.
    pub fn recorded_by(&self, staff: &Staff, at: i64) -> NewIdentityCheck {
        NewIdentityCheck {
            document: self.document.as_str().to_string(),
            note: self.note.clone(),
            checked_by: staff.id.clone(),
            checked_by_name: staff.name.clone(),
            checked_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::i18n::Lang;

    fn fields(r: Result<CheckedDocument, Vec<FieldError>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_document_must_be_chosen_and_named_when_it_needs_a_note() {
        assert_eq!(
            CheckedDocument::parse("drivers_license", "", Lang::Ja),
            Ok(CheckedDocument {
                document: IdDocument::DriversLicense,
                note: String::new()
            })
        );
        let missing = CheckedDocument::parse(" ", "", Lang::Ja).unwrap_err();
        assert_eq!(missing[0].field, DOCUMENT_FIELD);
        assert_eq!(missing[0].message, "「本人確認書類」を選んでください。");
        assert_eq!(
            fields(CheckedDocument::parse("library_card", "", Lang::Ja)),
            [DOCUMENT_FIELD]
        );
        assert_eq!(
            fields(CheckedDocument::parse(
                "health_insurance_plus_one",
                "",
                Lang::Ja
            )),
            [NOTE_FIELD]
        );
        assert_eq!(
            fields(CheckedDocument::parse("other", "", Lang::Ja)),
            [NOTE_FIELD]
        );
        assert_eq!(
            CheckedDocument::parse("health_insurance_plus_one", "年金手帳", Lang::Ja)
                .unwrap()
                .note,
            "年金手帳"
        );
        let long = "あ".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(
            fields(CheckedDocument::parse("passport", &long, Lang::Ja)),
            [NOTE_FIELD]
        );
    }
}
