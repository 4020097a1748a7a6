//! View models of a case for its templates.

use kernel::i18n::{self, Lang};

use catalogue::form::FormDef;
use catalogue::view::{answer_rows, AnswerRow};

/// Rows of a stored case, verified answers marked, the `withheld` ones
/// (see [`crate::verified`]) said to be there without their value.
pub fn case_rows(
    form: &FormDef,
    app: &crate::applications::Application,
    lang: Lang,
    reveal_my_number: bool,
    withheld: &[String],
) -> Vec<AnswerRow> {
    let mut rows = answer_rows(form, &app.answers, lang, reveal_my_number);
    for r in rows.iter_mut() {
        r.verified = app.verified_fields.contains(&r.name);
        if withheld.contains(&r.name) {
            r.value = i18n::t(lang, "staff.case.withheld").to_string();
        }
    }
    rows
}

/// One line of a resident's list of their own applications.
pub struct MyCaseLine {
    /// The case page (the resident's capability link).
    pub href: String,
    pub procedure: String,
    pub receipt: String,
    pub submitted: String,
    pub status: crate::status::Status,
    pub status_label: &'static str,
}
