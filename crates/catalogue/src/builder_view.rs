//! What the form builder's templates show: the inputs of one field's form
//! (only those its type has, each with its value and message), its
//! translations by language, the choices of its selects (conditions by
//! the choice fields before it, date fields for the date rules), and the
//! field previewed as residents see it.

use kernel::i18n::{self, Lang};
use kernel::web::Choice;
use kernel::FieldError;

use crate::builder::{input, text_input, FieldInput, Settings};
use crate::form::{Claim, Field, FieldType, FormDef, RawInput, ATTACHMENT_TYPES};
use crate::view::{self, FieldView};

/// One input of the builder's form.
pub struct Control {
    /// The input's name; its id is `field-<name>`.
    pub name: String,
    pub label: String,
    pub hint: String,
    /// `text`, `number`, `textarea`, `checkbox`, `select`, `checkboxes`.
    pub kind: &'static str,
    pub value: String,
    pub checked: bool,
    pub error: String,
    /// A select's plain choices (and a checkbox group's).
    pub choices: Vec<Choice>,
    /// A select's choices grouped under a heading (conditions).
    pub groups: Vec<ChoiceGroup>,
    /// The language of what is typed, when not the page's.
    pub lang: &'static str,
}

pub struct ChoiceGroup {
    pub label: String,
    pub choices: Vec<Choice>,
}

pub struct TranslationGroup {
    pub name: &'static str,
    pub html_lang: &'static str,
    pub filled: usize,
    pub controls: Vec<Control>,
}

/// A conditional field's condition in words (as residents read it).
pub fn condition(form: &FormDef, f: &Field, lang: Lang) -> String {
    view::condition_text(form, f, lang)
}

struct Builder<'a> {
    v: &'a FieldInput,
    errors: &'a [FieldError],
    lang: Lang,
}

impl Builder<'_> {
    fn control(&self, name: &str, label: String, kind: &'static str) -> Control {
        let full = if name.starts_with("fb-") {
            name.to_string()
        } else {
            input(name)
        };
        Control {
            value: self.v.get(&full).to_string(),
            checked: self.v.get(&full) == "true",
            error: self
                .errors
                .iter()
                .filter(|e| e.field == full)
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            name: full,
            label,
            hint: String::new(),
            kind,
            choices: Vec::new(),
            groups: Vec::new(),
            lang: "",
        }
    }

    fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key).to_string()
    }

    fn select(&self, name: &str, key: &str, choices: Vec<Choice>) -> Control {
        let mut c = self.control(name, self.t(key), "select");
        let mut all = vec![Choice::new("", self.t("staff.builder.field.none"))];
        all.extend(choices);
        c.choices = Choice::select(all, &c.value);
        c
    }
}

/// The inputs of one field's form, and its translations by language.
pub fn controls(
    form: &FormDef,
    editing: Option<&str>,
    kind: FieldType,
    v: &FieldInput,
    errors: &[FieldError],
    lang: Lang,
) -> (Vec<Control>, Vec<TranslationGroup>) {
    let b = Builder { v, errors, lang };
    let s = Settings::of(kind);
    // Only the fields before this one may be referred to by a condition.
    let before: Vec<&Field> = match editing {
        Some(n) => form.fields.iter().take_while(|f| f.name != n).collect(),
        None => form.fields.iter().collect(),
    };
    let others: Vec<&Field> = form
        .fields
        .iter()
        .filter(|f| Some(f.name.as_str()) != editing)
        .collect();
    let mut out = Vec::new();
    let mut name = b.control("name", b.t("staff.builder.field.name"), "text");
    name.hint = b.t("staff.builder.field.name_hint");
    out.push(name);
    let ja = |what: &str, key: &str, kind: &'static str| {
        let mut c = b.control(
            &text_input(what, Lang::Ja),
            i18n::tf(lang, key, &[("language", Lang::Ja.native_name())]),
            kind,
        );
        if what == "options" {
            c.hint = b.t("staff.builder.field.options_hint_ja");
        }
        c
    };
    out.push(ja("label", "staff.builder.field.label", "text"));
    out.push(ja("hint", "staff.builder.field.hint", "textarea"));
    out.push(b.control("required", b.t("staff.builder.field.required"), "checkbox"));
    if s.options {
        out.push(ja("options", "staff.builder.field.options", "textarea"));
    }
    if s.max_length {
        out.push(b.control(
            "max_length",
            b.t("staff.builder.field.max_length"),
            "number",
        ));
    }
    if s.range {
        out.push(b.control("min", b.t("staff.builder.field.min"), "number"));
        out.push(b.control("max", b.t("staff.builder.field.max"), "number"));
    }
    if s.file {
        let mut c = b.control("accept", b.t("staff.builder.field.accept"), "checkboxes");
        let chosen =
            v.0.iter()
                .filter(|(k, _)| *k == c.name)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>();
        c.choices = ATTACHMENT_TYPES
            .iter()
            .map(|(t, _, n)| Choice::new(*t, *n).selected(chosen.contains(t)))
            .collect();
        out.push(c);
        out.push(b.control("max_kb", b.t("staff.builder.field.max_kb"), "number"));
    }
    if s.prefill {
        let claims = Claim::ALL
            .into_iter()
            .filter(|c| crate::builder::claim_fits(*c, kind))
            .map(|c| {
                Choice::new(
                    c.as_str(),
                    i18n::t(lang, &format!("resident.claims.{}", c.as_str())),
                )
            })
            .collect();
        out.push(b.select("prefill", "staff.builder.field.prefill", claims));
    }
    if s.address_field {
        let texts = others
            .iter()
            .filter(|f| matches!(f.kind, FieldType::Text | FieldType::Textarea))
            .map(|f| Choice::new(&f.name, f.label.get(lang)))
            .collect();
        out.push(b.select("address_field", "staff.builder.field.address_field", texts));
    }
    if s.date_rules {
        let dates = || -> Vec<Choice> {
            others
                .iter()
                .filter(|f| f.kind == FieldType::Date)
                .map(|f| Choice::new(&f.name, f.label.get(lang)))
                .collect()
        };
        for (k, key) in [
            ("not_future", "staff.builder.field.not_future"),
            ("not_past", "staff.builder.field.not_past"),
            ("office_open", "staff.builder.field.office_open"),
        ] {
            out.push(b.control(k, b.t(key), "checkbox"));
        }
        out.push(b.select("on_or_after", "staff.builder.field.on_or_after", dates()));
        out.push(b.select("after_field", "staff.builder.field.after_field", dates()));
        out.push(b.control(
            "after_days",
            b.t("staff.builder.field.after_days"),
            "number",
        ));
        out.push(b.select("before_field", "staff.builder.field.before_field", dates()));
        out.push(b.control(
            "before_days",
            b.t("staff.builder.field.before_days"),
            "number",
        ));
    }
    let mut cond = b.control("show_if", b.t("staff.builder.field.show_if"), "select");
    cond.hint = b.t("staff.builder.field.show_if_hint");
    cond.choices =
        vec![Choice::new("", b.t("staff.builder.field.show_if_always"))
            .selected(cond.value.is_empty())];
    cond.groups = before
        .iter()
        .filter(|f| matches!(f.kind, FieldType::Choice | FieldType::Checkbox))
        .map(|f| {
            let values: Vec<(String, String)> = if f.kind == FieldType::Checkbox {
                vec![
                    ("true".into(), b.t("form.checked")),
                    ("false".into(), b.t("form.unchecked")),
                ]
            } else {
                f.options
                    .iter()
                    .map(|o| (o.value.clone(), o.label.get(lang).to_string()))
                    .collect()
            };
            ChoiceGroup {
                label: f.label.get(lang).to_string(),
                choices: values
                    .into_iter()
                    .map(|(val, label)| {
                        let value = format!("{}:{val}", f.name);
                        let text = i18n::tf(
                            lang,
                            "staff.builder.field.show_if_option",
                            &[("field", f.label.get(lang)), ("value", &label)],
                        );
                        let on = value == cond.value;
                        Choice::new(value, text).selected(on)
                    })
                    .collect(),
            }
        })
        .collect();
    out.push(cond);
    let translations = Lang::ALL
        .into_iter()
        .filter(|l| *l != Lang::Ja)
        .map(|l| {
            let mut controls = Vec::new();
            for (what, key, kind) in [
                ("label", "staff.builder.field.label", "text"),
                ("hint", "staff.builder.field.hint", "textarea"),
                ("options", "staff.builder.field.options", "textarea"),
            ] {
                if what == "options" && !s.options {
                    continue;
                }
                let mut c = b.control(
                    &text_input(what, l),
                    i18n::tf(lang, key, &[("language", l.native_name())]),
                    kind,
                );
                c.lang = l.html_lang();
                if what == "options" {
                    c.hint = b.t("staff.builder.field.options_hint");
                }
                controls.push(c);
            }
            TranslationGroup {
                name: l.native_name(),
                html_lang: l.html_lang(),
                filled: controls
                    .iter()
                    .filter(|c| !c.value.trim().is_empty())
                    .count(),
                controls,
            }
        })
        .collect();
    (out, translations)
}

/// The field as typed so far, as residents would see it: what cannot be
/// read yet (no name, a wrong number) is left out of the preview rather
/// than stopping it.
pub fn preview_one(v: &FieldInput, kind: FieldType, lang: Lang) -> Vec<FieldView> {
    let mut pairs: Vec<(String, String)> =
        v.0.iter()
            .filter(|(k, _)| *k != input("name") && *k != input("show_if"))
            .cloned()
            .collect();
    pairs.push((input("name"), "preview".into()));
    if v.get(&text_input("label", Lang::Ja)).trim().is_empty() {
        pairs.retain(|(k, _)| *k != text_input("label", Lang::Ja));
        pairs.push((
            text_input("label", Lang::Ja),
            i18n::t(lang, "staff.builder.field.no_label").to_string(),
        ));
    }
    let mut attempt = FieldInput(pairs);
    for _ in 0..3 {
        match attempt.read(kind) {
            Ok(f) => {
                let form = FormDef { fields: vec![f] };
                return view::fields(&form, &RawInput::default(), &[], lang);
            }
            Err(errs) => {
                attempt
                    .0
                    .retain(|(k, _)| !errs.iter().any(|e| e.field == *k));
                let options = text_input("options", Lang::Ja);
                if kind == FieldType::Choice && attempt.get(&options).is_empty() {
                    attempt.0.push((options, "a=—\nb=—".into()));
                }
            }
        }
    }
    Vec::new()
}
