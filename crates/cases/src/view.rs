//! View models of a case for its templates.

use kernel::i18n::Lang;

use catalogue::form::FormDef;
use catalogue::view::{answer_rows, AnswerRow};

/// Rows of a stored case, verified answers marked.
pub fn case_rows(
    form: &FormDef,
    app: &crate::applications::Application,
    lang: Lang,
    reveal_my_number: bool,
) -> Vec<AnswerRow> {
    let mut rows = answer_rows(form, &app.answers, lang, reveal_my_number);
    for r in rows
        .iter_mut()
        .filter(|r| app.verified_fields.contains(&r.name))
    {
        r.verified = true;
    }
    rows
}
