//! View models for templates: everything a template needs, computed in
//! Rust so templates stay simple and escaping stays automatic.

use kernel::i18n::{self, Lang, Shown};
use kernel::FieldError;

use crate::form::{self, Answers, Field, FieldType, FormDef, RawInput};
use crate::model::{Procedure, StoredProcedure};

pub struct OptionView {
    pub value: String,
    pub label: Shown,
    pub checked: bool,
    pub id: String,
}

pub struct FieldView {
    /// Filled from the resident's verified identity: shown read-only.
    pub verified: bool,
    pub name: String,
    pub id: String,
    pub kind: &'static str,
    pub label: Shown,
    pub hint: Shown,
    pub condition: String,
    /// `data-…` attributes for the script that hides fields whose condition
    /// does not hold (empty when unconditional).
    pub show_if_field: String,
    pub show_if_equals: String,
    pub required: bool,
    pub value: String,
    pub error: String,
    pub input_type: &'static str,
    pub inputmode: &'static str,
    pub autocomplete: &'static str,
    pub width: &'static str,
    pub options: Vec<OptionView>,
    pub use_select: bool,
    pub checked: bool,
    pub kana_value: String,
    pub kana_error: String,
    pub kana_label: String,
    pub accept: String,
    pub current_file: String,
    pub described_by: String,
    pub kana_described_by: String,
    /// A date field's rules in words (those its hint does not already
    /// state).
    pub rules: String,
    /// A postal code field's address field (its element id), filled from
    /// the code by the script as the resident types.
    pub address_target: String,
    /// What the script says when it filled the address, or found nothing.
    pub address_found: &'static str,
    pub address_not_found: &'static str,
}

fn hint_for(f: &Field, lang: Lang) -> Shown {
    if let Some(h) = &f.hint {
        return h.shown(lang);
    }
    let key = match f.kind {
        FieldType::Date => "form.hint.date",
        FieldType::PostalCode => "form.hint.postal_code",
        FieldType::Phone => "form.hint.phone",
        FieldType::Email => "form.hint.email",
        FieldType::MyNumber => "form.hint.my_number",
        FieldType::CorporateNumber => "form.hint.corporate_number",
        FieldType::LocalGovCode => "form.hint.local_gov_code",
        FieldType::FiscalYear => "form.hint.fiscal_year",
        FieldType::Yen => "form.hint.yen",
        _ => return Shown::default(),
    };
    Shown::plain(i18n::t(lang, key))
}

/// Marks fields filled from the verified identity (read-only, with a note).
pub fn mark_verified(fields: &mut [FieldView], verified: &[String], lang: Lang) {
    for f in fields.iter_mut().filter(|f| verified.contains(&f.name)) {
        f.verified = true;
        let note = i18n::t(lang, "form.verified_hint");
        f.hint.text = if f.hint.is_empty() {
            note.to_string()
        } else {
            format!("{note} {}", f.hint.text)
        };
    }
}

pub fn fields(
    form: &FormDef,
    input: &RawInput,
    errors: &[FieldError],
    lang: Lang,
) -> Vec<FieldView> {
    let err = |name: &str| {
        errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.clone())
            .unwrap_or_default()
    };
    form.fields
        .iter()
        .map(|f| {
            let id = format!("field-{}", f.name);
            let value = input.get(&f.name).to_string();
            let condition = condition_text(form, f, lang);
            let control = Control::of(f.kind);
            let error = err(&f.name);
            let kana_error = err(&format!("{}_kana", f.name));
            let hint = hint_for(f, lang);
            let rules = f
                .date_rules
                .as_ref()
                .map(|r| {
                    let own = f.hint.as_ref().map(|h| h.ja()).unwrap_or_default();
                    r.describe(own, |n| form.label_of(n, lang), lang)
                })
                .unwrap_or_default();
            let address_target = f
                .address_field
                .as_ref()
                .map(|a| format!("field-{a}"))
                .unwrap_or_default();
            let described: Vec<String> = [
                (!hint.is_empty()).then(|| format!("{id}-hint")),
                (!rules.is_empty()).then(|| format!("{id}-rules")),
                (!address_target.is_empty()).then(|| format!("{id}-address")),
                (!condition.is_empty()).then(|| format!("{id}-condition")),
                (!error.is_empty()).then(|| format!("{id}-error")),
            ]
            .into_iter()
            .flatten()
            .collect();
            let kana_described_by = if kana_error.is_empty() {
                String::new()
            } else {
                format!("{id}-kana-error")
            };
            FieldView {
                verified: false,
                name: f.name.clone(),
                kind: f.kind.as_str(),
                label: f.label.shown(lang),
                hint,
                condition,
                show_if_field: f
                    .show_if
                    .as_ref()
                    .map(|c| c.field.clone())
                    .unwrap_or_default(),
                show_if_equals: f
                    .show_if
                    .as_ref()
                    .map(|c| c.equals.clone())
                    .unwrap_or_default(),
                required: f.required,
                checked: matches!(value.as_str(), "true" | "on" | "1"),
                options: option_views(f, &id, &value, lang),
                use_select: f.options.len() > 6,
                id,
                value,
                error,
                input_type: control.input_type,
                inputmode: control.inputmode,
                autocomplete: control.autocomplete,
                width: control.width,
                kana_value: input.get(&format!("{}_kana", f.name)).to_string(),
                kana_error,
                kana_label: i18n::tf(lang, "form.kana_label", &[("label", f.label.get(lang))]),
                accept: f.accept.join(","),
                current_file: input
                    .files
                    .get(&f.name)
                    .map(|r| r.filename.clone())
                    .unwrap_or_default(),
                described_by: described.join(" "),
                kana_described_by,
                rules,
                address_target,
                address_found: i18n::t(lang, "form.postal.live"),
                address_not_found: i18n::t(lang, "form.postal.not_found"),
            }
        })
        .collect()
}

/// The HTML input a field type is typed into.
struct Control {
    input_type: &'static str,
    inputmode: &'static str,
    autocomplete: &'static str,
    width: &'static str,
}

impl Control {
    fn of(kind: FieldType) -> Self {
        let (input_type, inputmode, autocomplete, width) = match kind {
            FieldType::Email => ("email", "email", "email", "input--medium"),
            FieldType::Phone => ("tel", "tel", "tel", "input--medium"),
            FieldType::PostalCode => ("text", "numeric", "postal-code", "input--short"),
            FieldType::MyNumber => ("text", "numeric", "off", "input--medium"),
            FieldType::CorporateNumber | FieldType::LocalGovCode => {
                ("text", "numeric", "off", "input--medium")
            }
            FieldType::Number | FieldType::Yen => ("text", "numeric", "off", "input--short"),
            FieldType::Date => ("text", "", "off", "input--medium"),
            FieldType::FiscalYear => ("text", "", "off", "input--short"),
            FieldType::PersonName => ("text", "", "name", ""),
            _ => ("text", "", "off", ""),
        };
        Self {
            input_type,
            inputmode,
            autocomplete,
            width,
        }
    }
}

/// When a conditional field applies, in words: 「〇〇」が「△△」のとき.
pub fn condition_text(form: &FormDef, f: &Field, lang: Lang) -> String {
    let Some((c, parent)) = f
        .show_if
        .as_ref()
        .and_then(|c| form.field(&c.field).map(|parent| (c, parent)))
    else {
        return String::new();
    };
    let shown_value = if parent.kind == FieldType::Checkbox {
        let key = if c.equals == "true" {
            "form.checked"
        } else {
            "form.unchecked"
        };
        i18n::t(lang, key).to_string()
    } else {
        parent
            .options
            .iter()
            .find(|o| o.value == c.equals)
            .map(|o| o.label.get(lang).to_string())
            .unwrap_or_else(|| c.equals.clone())
    };
    i18n::tf(
        lang,
        "form.condition",
        &[("field", parent.label.get(lang)), ("value", &shown_value)],
    )
}

/// A choice field's options; the first takes the field's id (the label
/// points at it).
fn option_views(f: &Field, id: &str, value: &str, lang: Lang) -> Vec<OptionView> {
    f.options
        .iter()
        .enumerate()
        .map(|(i, o)| OptionView {
            value: o.value.clone(),
            label: o.label.shown(lang),
            checked: o.value == value,
            id: if i == 0 {
                id.to_string()
            } else {
                format!("{id}-{i}")
            },
        })
        .collect()
}

/// Rows of the check-your-answers page and the case views.
pub struct AnswerRow {
    /// Taken from the verified identity (shown with a badge).
    pub verified: bool,
    /// A マイナンバー (masked unless revealed).
    pub secret: bool,
    pub name: String,
    pub label: Shown,
    pub value: String,
}

pub fn answer_rows(
    form: &FormDef,
    answers: &Answers,
    lang: Lang,
    reveal_my_number: bool,
) -> Vec<AnswerRow> {
    form.fields
        .iter()
        .filter_map(|f| {
            let v = answers.get(&f.name)?;
            Some(AnswerRow {
                verified: false,
                secret: f.kind == FieldType::MyNumber,
                name: f.name.clone(),
                label: f.label.shown(lang),
                value: form::display_value(f, v, lang, reveal_my_number),
            })
        })
        .collect()
}

/// A procedure as the lists and detail pages show it.
pub struct ProcedureCard {
    pub id: String,
    pub name: Shown,
    pub description: Shown,
    pub department: Shown,
    pub online: bool,
    pub channels: &'static str,
    pub channels_label: &'static str,
    pub identity_label: &'static str,
    pub fee: String,
    pub life_events: Vec<String>,
}

pub fn card(p: &Procedure, department_name: Shown, lang: Lang) -> ProcedureCard {
    ProcedureCard {
        id: p.id.clone(),
        name: p.name.shown(lang),
        description: p.description.shown(lang),
        department: department_name,
        online: p.channels.online(),
        channels: p.channels.as_str(),
        channels_label: i18n::t(lang, &format!("procedure.channels.{}", p.channels.as_str())),
        identity_label: i18n::t(
            lang,
            &format!("procedure.identity.{}", p.identity_level.as_str()),
        ),
        fee: if p.fee_yen == 0 {
            i18n::t(lang, "procedure.free").to_string()
        } else {
            p.fee_display()
        },
        life_events: p
            .life_events
            .iter()
            .map(|e| i18n::t(lang, &format!("life_event.{e}")).to_string())
            .collect(),
    }
}

pub fn cards(
    items: &[StoredProcedure],
    tenant: &kernel::tenant::TenantProfile,
    lang: Lang,
) -> Vec<ProcedureCard> {
    items
        .iter()
        .map(|s| {
            let dept = tenant
                .department(&s.procedure.department)
                .map(|d| d.name.shown(lang))
                .unwrap_or_default();
            card(&s.procedure, dept, lang)
        })
        .collect()
}
