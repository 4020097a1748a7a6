//! The form engine. A form is data ([`FormDef`]); the same definition
//! renders the HTML form, validates input on the server and describes the
//! JSON API. Validation turns raw strings into normalised answers using the
//! `jp` value types, or returns one message per field, in the resident's
//! language, naming the field and saying how to fix it.

use std::collections::BTreeMap;

use kernel::i18n::{self, Lang, Text};
use kernel::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::rules::{DateRules, Today};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Textarea,
    Number,
    Choice,
    Checkbox,
    Date,
    Email,
    File,
    PersonName,
    PostalCode,
    Phone,
    MyNumber,
    CorporateNumber,
    LocalGovCode,
    FiscalYear,
    Yen,
}

impl FieldType {
    /// Every type, in the order offered to staff.
    pub const ALL: [FieldType; 16] = [
        FieldType::Text,
        FieldType::Textarea,
        FieldType::Number,
        FieldType::Choice,
        FieldType::Checkbox,
        FieldType::Date,
        FieldType::Email,
        FieldType::File,
        FieldType::PersonName,
        FieldType::PostalCode,
        FieldType::Phone,
        FieldType::MyNumber,
        FieldType::CorporateNumber,
        FieldType::LocalGovCode,
        FieldType::FiscalYear,
        FieldType::Yen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Textarea => "textarea",
            FieldType::Number => "number",
            FieldType::Choice => "choice",
            FieldType::Checkbox => "checkbox",
            FieldType::Date => "date",
            FieldType::Email => "email",
            FieldType::File => "file",
            FieldType::PersonName => "person_name",
            FieldType::PostalCode => "postal_code",
            FieldType::Phone => "phone",
            FieldType::MyNumber => "my_number",
            FieldType::CorporateNumber => "corporate_number",
            FieldType::LocalGovCode => "local_gov_code",
            FieldType::FiscalYear => "fiscal_year",
            FieldType::Yen => "yen",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: String,
    pub label: Text,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    pub equals: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    /// Filled from the resident's verified identity (基本4情報) when they
    /// signed in; such answers are taken from the identity, not typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Claim>,
    /// A date field's rules (not in the future, within 14 days of another
    /// date, on a day the offices are open …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_rules: Option<DateRules>,
    /// A postal code field's address field: filled from the code as the
    /// resident types (script), or on submit when left empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_field: Option<String>,
}

/// One of the 基本4情報 a verified sign-in provides.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    Name,
    Address,
    Birthdate,
    Gender,
}

impl Claim {
    pub const ALL: [Claim; 4] = [Claim::Name, Claim::Address, Claim::Birthdate, Claim::Gender];

    pub fn as_str(self) -> &'static str {
        match self {
            Claim::Name => "name",
            Claim::Address => "address",
            Claim::Birthdate => "birthdate",
            Claim::Gender => "gender",
        }
    }

    /// The claim's value for a field, when it can fill one. A partial
    /// birth date (the year alone, or no year) fills nothing: the resident
    /// types the date, as without a sign-in.
    pub fn value(self, c: &kernel::resident::Claims) -> Option<&str> {
        match self {
            Claim::Name => c.name.as_deref(),
            Claim::Address => c.address.as_deref(),
            Claim::Birthdate => c
                .birthdate
                .as_deref()
                .filter(|_| c.birth_date().and_then(|b| b.full()).is_some()),
            Claim::Gender => c.gender.as_deref(),
        }
    }

    /// Field types each claim may fill.
    fn fits(self, kind: FieldType) -> bool {
        match self {
            Claim::Name => kind == FieldType::PersonName,
            Claim::Address => matches!(kind, FieldType::Text | FieldType::Textarea),
            Claim::Birthdate => kind == FieldType::Date,
            Claim::Gender => matches!(kind, FieldType::Text | FieldType::Choice),
        }
    }
}

/// Puts the verified claims into the input (overriding what was typed) and
/// returns the names of the fields they filled.
pub fn apply_verified(
    form: &FormDef,
    claims: &kernel::resident::Claims,
    input: &mut RawInput,
) -> Vec<String> {
    let mut filled = Vec::new();
    for f in &form.fields {
        let Some(claim) = f.prefill else { continue };
        let Some(v) = claim.value(claims) else {
            continue;
        };
        if f.kind == FieldType::Choice && !f.options.iter().any(|o| o.value == v) {
            continue;
        }
        input.values.insert(f.name.clone(), v.to_string());
        filled.push(f.name.clone());
    }
    filled
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct FormDef {
    #[serde(default)]
    pub fields: Vec<Field>,
}

/// MIME types we accept as attachments, with the magic bytes that prove
/// the content really is of that type.
pub const ATTACHMENT_TYPES: [(&str, &[u8], &str); 3] = [
    ("application/pdf", b"%PDF-", "PDF"),
    ("image/png", b"\x89PNG\r\n\x1a\n", "PNG"),
    ("image/jpeg", b"\xFF\xD8\xFF", "JPEG"),
];

pub const DEFAULT_MAX_BYTES: u64 = 5 * 1024 * 1024;
const DEFAULT_TEXT_MAX: usize = 200;
const DEFAULT_TEXTAREA_MAX: usize = 2000;

fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes()[0].is_ascii_lowercase()
}

impl FormDef {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Consistency of the definition itself (for staff editing forms).
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            let at = format!("フォーム項目「{}」", f.name);
            if !is_field_name(&f.name) {
                errs.push(format!(
                    "{at}: 項目名は英小文字で始まる英小文字・数字・_ にしてください。"
                ));
            }
            if self.fields[..i].iter().any(|g| g.name == f.name)
                || self.fields[..i].iter().any(|g| {
                    g.kind == FieldType::PersonName && format!("{}_kana", g.name) == f.name
                })
            {
                errs.push(format!("{at}: 同じ項目名が2回使われています。"));
            }
            if f.kind == FieldType::Choice && f.options.len() < 2 {
                errs.push(format!("{at}: 選択肢は2つ以上必要です。"));
            }
            if f.kind != FieldType::Choice && !f.options.is_empty() {
                errs.push(format!(
                    "{at}: 選択肢（options）は choice 型だけに指定できます。"
                ));
            }
            if let Some(c) = f.prefill {
                if !c.fits(f.kind) {
                    errs.push(format!(
                        "{at}: 本人確認情報（prefill）の種類がこの項目の型に合いません。"
                    ));
                }
            }
            self.check_links(f, &at, &mut errs);
            if let (Some(min), Some(max)) = (f.min, f.max) {
                if min > max {
                    errs.push(format!("{at}: 最小値が最大値より大きくなっています。"));
                }
            }
            for a in &f.accept {
                if !ATTACHMENT_TYPES.iter().any(|(t, _, _)| t == a) {
                    errs.push(format!("{at}: 添付できる形式は application/pdf, image/png, image/jpeg です（「{a}」は不可）。"));
                }
            }
            if let Some(c) = &f.show_if {
                match self.fields[..i].iter().find(|g| g.name == c.field) {
                    None => errs.push(format!(
                        "{at}: 表示条件の項目「{}」が、この項目より前にありません。",
                        c.field
                    )),
                    Some(g)
                        if g.kind == FieldType::Choice
                            && !g.options.iter().any(|o| o.value == c.equals) =>
                    {
                        errs.push(format!(
                            "{at}: 表示条件の値「{}」は「{}」の選択肢にありません。",
                            c.equals, g.name
                        ))
                    }
                    Some(g)
                        if g.kind == FieldType::Checkbox
                            && c.equals != "true"
                            && c.equals != "false" =>
                    {
                        errs.push(format!(
                            "{at}: チェックボックスの表示条件の値は true か false です。"
                        ))
                    }
                    _ => {}
                }
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// The date rules and the address field of one field.
    fn check_links(&self, f: &Field, at: &str, errs: &mut Vec<String>) {
        if let Some(r) = &f.date_rules {
            if f.kind != FieldType::Date {
                errs.push(format!(
                    "{at}: 日付の条件（date_rules）は date 型だけに指定できます。"
                ));
            }
            for e in r.check() {
                errs.push(format!("{at}: {e}"));
            }
            for o in r.other_fields() {
                if o == f.name || self.field(o).is_none_or(|g| g.kind != FieldType::Date) {
                    errs.push(format!(
                        "{at}: 日付の条件が参照する「{o}」は、この項目以外の date 型の項目にしてください。"
                    ));
                }
            }
        }
        if let Some(a) = &f.address_field {
            if f.kind != FieldType::PostalCode {
                errs.push(format!(
                    "{at}: 住所の項目（address_field）は postal_code 型だけに指定できます。"
                ));
            }
            if self
                .field(a)
                .is_none_or(|g| !matches!(g.kind, FieldType::Text | FieldType::Textarea))
            {
                errs.push(format!(
                    "{at}: 住所の項目「{a}」は text か textarea 型の項目にしてください。"
                ));
            }
        }
    }

    /// The label of a field by name (for messages about another field).
    pub fn label_of(&self, name: &str, lang: Lang) -> String {
        self.field(name)
            .map_or(name, |f| f.label.get(lang))
            .to_string()
    }

    /// Whether a field applies, given the raw input (its condition holds,
    /// and the condition's own field applies in turn).
    pub fn is_shown(&self, field: &Field, input: &RawInput) -> bool {
        match &field.show_if {
            None => true,
            Some(c) => {
                let Some(parent) = self.field(&c.field) else {
                    return false;
                };
                self.is_shown(parent, input) && input.condition_value(parent) == c.equals
            }
        }
    }
}

/// An uploaded file, before or after it is stored.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FileRef {
    pub attachment_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

/// Raw input of a form: strings as typed, plus files already stored.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RawInput {
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    #[serde(default)]
    pub files: BTreeMap<String, FileRef>,
}

impl RawInput {
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn condition_value(&self, parent: &Field) -> String {
        let v = self.get(&parent.name).trim();
        if parent.kind == FieldType::Checkbox {
            if is_checked(v) { "true" } else { "false" }.to_string()
        } else {
            v.to_string()
        }
    }

    /// Builds raw input from a JSON object of answers (the API): strings,
    /// numbers and booleans become strings; a person name may be given as
    /// `{"name": …, "kana": …}`.
    pub fn from_json(
        form: &FormDef,
        answers: &serde_json::Map<String, Value>,
        lang: Lang,
    ) -> Result<Self, Vec<FieldError>> {
        let mut values = BTreeMap::new();
        let mut errs = Vec::new();
        for (k, v) in answers {
            let person = form
                .field(k)
                .is_some_and(|f| f.kind == FieldType::PersonName);
            match v {
                Value::String(s) => {
                    values.insert(k.clone(), s.clone());
                }
                Value::Number(n) => {
                    values.insert(k.clone(), n.to_string());
                }
                Value::Bool(b) => {
                    values.insert(k.clone(), b.to_string());
                }
                Value::Null => {}
                Value::Object(o) if person => {
                    let name = o.get("name").and_then(Value::as_str).unwrap_or_default();
                    let kana = o.get("kana").and_then(Value::as_str).unwrap_or_default();
                    values.insert(k.clone(), name.to_string());
                    values.insert(format!("{k}_kana"), kana.to_string());
                }
                _ => errs.push(FieldError {
                    field: k.clone(),
                    message: i18n::tf(
                        lang,
                        "form.bad_value",
                        &[(
                            "field",
                            form.field(k).map(|f| f.label.get(lang)).unwrap_or(k),
                        )],
                    ),
                }),
            }
        }
        if errs.is_empty() {
            Ok(Self {
                values,
                files: BTreeMap::new(),
            })
        } else {
            Err(errs)
        }
    }
}

fn is_checked(v: &str) -> bool {
    matches!(v.trim(), "true" | "on" | "1" | "yes")
}

/// Normalised answers, keyed by field name: what a case stores.
pub type Answers = BTreeMap<String, Value>;

fn msg(lang: Lang, key: &str, label: &str, args: &[(&str, &str)]) -> String {
    let mut all = vec![("field", label)];
    all.extend_from_slice(args);
    i18n::tf(lang, key, &all)
}

/// Validates raw input against the form. Every applicable field is checked
/// and every problem reported at once; fields whose condition does not hold
/// are ignored and dropped from the answers.
pub fn validate(
    form: &FormDef,
    input: &RawInput,
    lang: Lang,
    today: &Today,
) -> Result<Answers, Vec<FieldError>> {
    let mut v = Validation {
        lang,
        answers: Answers::new(),
        errors: Vec::new(),
    };
    v.unknown_fields(form, input);
    for f in form.fields.iter().filter(|f| form.is_shown(f, input)) {
        v.field(f, input);
    }
    // Date rules once every date is parsed: a rule may compare two.
    for f in form.fields.iter().filter(|f| form.is_shown(f, input)) {
        v.date_rules(form, f, today);
    }
    if v.errors.is_empty() {
        Ok(v.answers)
    } else {
        Err(v.errors)
    }
}

/// The answers and errors of one validation.
struct Validation {
    lang: Lang,
    answers: Answers,
    errors: Vec<FieldError>,
}

impl Validation {
    fn push(&mut self, field: &str, message: String) {
        self.errors.push(FieldError {
            field: field.to_string(),
            message,
        });
    }

    /// Values the form does not have (a person name's reading is
    /// `<name>_kana`).
    fn unknown_fields(&mut self, form: &FormDef, input: &RawInput) {
        let known: Vec<String> = form
            .fields
            .iter()
            .flat_map(|f| {
                if f.kind == FieldType::PersonName {
                    vec![f.name.clone(), format!("{}_kana", f.name)]
                } else {
                    vec![f.name.clone()]
                }
            })
            .collect();
        for k in input.values.keys() {
            if !known.contains(k) {
                let m = msg(self.lang, "form.unknown_field", k, &[]);
                self.push(k, m);
            }
        }
    }

    fn field(&mut self, f: &Field, input: &RawInput) {
        let lang = self.lang;
        let label = f.label.get(lang);
        let raw = input.get(&f.name).trim();
        match f.kind {
            FieldType::Checkbox => self.checkbox(f, raw, label),
            FieldType::File => match input.files.get(&f.name) {
                Some(file) => {
                    let v = serde_json::to_value(file).unwrap_or(Value::Null);
                    self.answers.insert(f.name.clone(), v);
                }
                None if f.required => {
                    self.push(&f.name, msg(lang, "form.file_required", label, &[]))
                }
                None => {}
            },
            FieldType::PersonName => self.person_name(f, input, raw, label),
            _ if raw.is_empty() => {
                if f.required {
                    let key = if f.kind == FieldType::Choice {
                        "form.choose"
                    } else {
                        "form.required"
                    };
                    self.push(&f.name, msg(lang, key, label, &[]));
                }
            }
            _ => match scalar(f, raw, label, lang) {
                Ok(v) => {
                    self.answers.insert(f.name.clone(), v);
                }
                Err(m) => self.push(&f.name, m),
            },
        }
    }

    /// The first date rule the field's answer breaks, as its message; the
    /// answer is then dropped.
    fn date_rules(&mut self, form: &FormDef, f: &Field, today: &Today) {
        let Some(rules) = &f.date_rules else { return };
        let Some(date) = answer_date(&self.answers, &f.name) else {
            return;
        };
        let other = |name: &str| answer_date(&self.answers, name);
        if let Some(b) = rules.broken(date, other, today) {
            let label_of = |n: &str| form.label_of(n, self.lang);
            let m = b.message(self.lang, f.label.get(self.lang), date, label_of, today);
            self.answers.remove(&f.name);
            self.push(&f.name, m);
        }
    }

    fn checkbox(&mut self, f: &Field, raw: &str, label: &str) {
        let checked = is_checked(raw);
        if f.required && !checked {
            let m = msg(self.lang, "form.must_check", label, &[]);
            self.push(&f.name, m);
        } else {
            self.answers.insert(f.name.clone(), Value::Bool(checked));
        }
    }

    /// A name and its reading (`<name>_kana`), both required together.
    fn person_name(&mut self, f: &Field, input: &RawInput, raw: &str, label: &str) {
        let lang = self.lang;
        let kana_key = format!("{}_kana", f.name);
        let kana_label = i18n::tf(lang, "form.kana_label", &[("label", label)]);
        let raw_kana = input.get(&kana_key).trim();
        if raw.is_empty() && raw_kana.is_empty() {
            if f.required {
                self.push(&f.name, msg(lang, "form.required", label, &[]));
                self.push(&kana_key, msg(lang, "form.required", &kana_label, &[]));
            }
            return;
        }
        match jp::PersonName::parse(raw, raw_kana) {
            Ok(p) => {
                let v = json!({"name": p.name.as_str(), "kana": p.kana.as_str()});
                self.answers.insert(f.name.clone(), v);
            }
            Err((ne, ke)) => {
                if let Some(e) = ne {
                    self.push(&f.name, i18n::parse_error(lang, label, &e));
                }
                if let Some(e) = ke {
                    self.push(&kana_key, i18n::parse_error(lang, &kana_label, &e));
                }
            }
        }
    }
}

/// A date answer (stored as ISO `2026-04-01`).
fn answer_date(answers: &Answers, name: &str) -> Option<time::Date> {
    answers
        .get(name)
        .and_then(Value::as_str)
        .and_then(|s| jp::JpDate::parse(s).ok())
        .map(jp::JpDate::date)
}

/// Fills each empty address field from its postal code, when Japan Post
/// knows the code (a form sent without script, where the address is not
/// filled as the resident types). Returns a notice for each field filled:
/// the resident adds the 番地 and checks it before going on.
pub fn fill_addresses(form: &FormDef, input: &mut RawInput, lang: Lang) -> Vec<FieldError> {
    let mut notices = Vec::new();
    for f in &form.fields {
        let Some(target) = f.address_field.as_deref().and_then(|a| form.field(a)) else {
            continue;
        };
        if !form.is_shown(f, input) {
            continue;
        }
        if !input.get(&target.name).trim().is_empty() || !form.is_shown(target, input) {
            continue;
        }
        let Some(address) = jp::PostalCode::parse(input.get(&f.name))
            .ok()
            .and_then(|p| p.address())
        else {
            continue;
        };
        let joined = address.joined();
        notices.push(FieldError {
            field: target.name.clone(),
            message: msg(
                lang,
                "form.postal.filled",
                target.label.get(lang),
                &[("address", &joined), ("postal", f.label.get(lang))],
            ),
        });
        input.values.insert(target.name.clone(), joined);
    }
    notices
}

/// A one-value field's answer, or the message naming the field.
fn scalar(f: &Field, raw: &str, label: &str, lang: Lang) -> Result<Value, String> {
    let parse_error = |e: jp::ParseError| i18n::parse_error(lang, label, &e);
    let text = |s: String| Value::String(s);
    match f.kind {
        FieldType::Text | FieldType::Textarea => free_text(f, raw, label, lang),
        FieldType::Number => number(f, raw, label, lang),
        FieldType::Yen => match jp::Yen::parse(raw) {
            Err(e) => Err(parse_error(e)),
            Ok(y) if out_of_range(f, y.amount() as i64) => Err(range_msg(lang, label, f)),
            Ok(y) => Ok(json!(y.amount())),
        },
        FieldType::Choice => match f.options.iter().find(|o| o.value == raw) {
            Some(o) => Ok(text(o.value.clone())),
            None => Err(msg(lang, "form.choose", label, &[])),
        },
        FieldType::Date => jp::JpDate::parse(raw)
            .map(|d| text(d.iso()))
            .map_err(parse_error),
        FieldType::Email => jp::Email::parse(raw)
            .map(|e| text(e.as_str().to_string()))
            .map_err(parse_error),
        FieldType::PostalCode => match jp::PostalCode::parse(raw) {
            Err(e) => Err(parse_error(e)),
            Ok(p) if p.address().is_none() => Err(msg(
                lang,
                "form.postal.unknown",
                label,
                &[("code", p.as_str())],
            )),
            Ok(p) => Ok(text(p.as_str().to_string())),
        },
        FieldType::Phone => jp::PhoneNumber::parse(raw)
            .map(|p| text(p.as_str().to_string()))
            .map_err(parse_error),
        FieldType::MyNumber => jp::MyNumber::parse(raw)
            .map(|p| text(p.expose().to_string()))
            .map_err(parse_error),
        FieldType::CorporateNumber => jp::CorporateNumber::parse(raw)
            .map(|p| text(p.as_str().to_string()))
            .map_err(parse_error),
        FieldType::LocalGovCode => jp::LocalGovCode::parse(raw)
            .map(|p| text(p.as_str().to_string()))
            .map_err(parse_error),
        FieldType::FiscalYear => jp::FiscalYear::parse(raw)
            .map(|p| json!(p.start_year()))
            .map_err(parse_error),
        FieldType::Checkbox | FieldType::File | FieldType::PersonName => {
            unreachable!("validated by their own functions")
        }
    }
}

/// Text: normalised (NFC), within its length, no control characters but
/// line breaks and tabs.
fn free_text(f: &Field, raw: &str, label: &str, lang: Lang) -> Result<Value, String> {
    let s = jp::nfc(raw);
    let max = f.max_length.unwrap_or(if f.kind == FieldType::Text {
        DEFAULT_TEXT_MAX
    } else {
        DEFAULT_TEXTAREA_MAX
    });
    let n = s.chars().count();
    if n > max {
        Err(msg(
            lang,
            "form.too_long",
            label,
            &[("max", &max.to_string()), ("actual", &n.to_string())],
        ))
    } else if s
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        Err(msg(lang, "form.control_chars", label, &[]))
    } else {
        Ok(Value::String(s))
    }
}

/// A whole number (full-width digits and thousands separators accepted)
/// within the field's range.
fn number(f: &Field, raw: &str, label: &str, lang: Lang) -> Result<Value, String> {
    let s = jp::fold_width(raw).replace(',', "");
    match s.parse::<i64>() {
        Err(_) => Err(msg(lang, "form.number", label, &[])),
        Ok(n) if out_of_range(f, n) => Err(range_msg(lang, label, f)),
        Ok(n) => Ok(json!(n)),
    }
}

fn out_of_range(f: &Field, n: i64) -> bool {
    f.min.is_some_and(|m| n < m) || f.max.is_some_and(|m| n > m)
}

fn range_msg(lang: Lang, label: &str, f: &Field) -> String {
    match (f.min, f.max) {
        (Some(a), Some(b)) => msg(
            lang,
            "form.between",
            label,
            &[("min", &a.to_string()), ("max", &b.to_string())],
        ),
        (Some(a), None) => msg(lang, "form.at_least", label, &[("min", &a.to_string())]),
        (None, Some(b)) => msg(lang, "form.at_most", label, &[("max", &b.to_string())]),
        (None, None) => msg(lang, "form.number", label, &[]),
    }
}

/// Checks an upload against the field's limits; the content type is decided
/// by the file's first bytes, never by what the browser claimed.
pub fn check_upload(
    field: &Field,
    filename: &str,
    bytes: &[u8],
    global_max: u64,
    lang: Lang,
) -> Result<&'static str, String> {
    let label = field.label.get(lang);
    let max = field.max_bytes.unwrap_or(DEFAULT_MAX_BYTES).min(global_max);
    if bytes.is_empty() {
        return Err(msg(lang, "form.file_empty", label, &[]));
    }
    if bytes.len() as u64 > max {
        return Err(msg(
            lang,
            "form.file_too_large",
            label,
            &[("max", &format!("{:.1}", max as f64 / 1_048_576.0))],
        ));
    }
    let allowed: Vec<&str> = if field.accept.is_empty() {
        ATTACHMENT_TYPES.iter().map(|(t, _, _)| *t).collect()
    } else {
        field.accept.iter().map(String::as_str).collect()
    };
    let names: Vec<&str> = ATTACHMENT_TYPES
        .iter()
        .filter(|(t, _, _)| allowed.contains(t))
        .map(|(_, _, n)| *n)
        .collect();
    let detected = ATTACHMENT_TYPES
        .iter()
        .find(|(t, magic, _)| allowed.contains(t) && bytes.starts_with(magic));
    match detected {
        Some((t, _, _)) => {
            let _ = filename;
            Ok(t)
        }
        None => Err(msg(
            lang,
            "form.file_type",
            label,
            &[("types", &names.join("・"))],
        )),
    }
}

/// A filename safe to show and to put in a Content-Disposition header.
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|'))
        .take(120)
        .collect();
    if cleaned.trim().is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// How an answer reads on the check page and in the back office.
pub fn display_value(field: &Field, value: &Value, lang: Lang, reveal_my_number: bool) -> String {
    match (field.kind, value) {
        (FieldType::PersonName, Value::Object(o)) => format!(
            "{}（{}）",
            o.get("name").and_then(Value::as_str).unwrap_or_default(),
            o.get("kana").and_then(Value::as_str).unwrap_or_default()
        ),
        (FieldType::Checkbox, Value::Bool(b)) => {
            i18n::t(lang, if *b { "form.yes" } else { "form.no" }).to_string()
        }
        (FieldType::Choice, Value::String(s)) => field
            .options
            .iter()
            .find(|o| o.value == *s)
            .map(|o| o.label.get(lang).to_string())
            .unwrap_or_else(|| s.clone()),
        (FieldType::Date, Value::String(s)) => jp::JpDate::parse(s)
            .map(|d| d.both())
            .unwrap_or_else(|_| s.clone()),
        (FieldType::FiscalYear, Value::Number(n)) => n
            .as_i64()
            .and_then(|y| jp::FiscalYear::new(y as i32).ok())
            .map(|fy| format!("{}（{}年度）", fy.wareki(), fy.start_year()))
            .unwrap_or_else(|| n.to_string()),
        (FieldType::Yen, Value::Number(n)) => n
            .as_u64()
            .and_then(|y| jp::Yen::new(y).ok())
            .map(|y| y.to_string())
            .unwrap_or_else(|| n.to_string()),
        (FieldType::MyNumber, Value::String(s)) => {
            if reveal_my_number {
                s.clone()
            } else {
                jp::MyNumber::parse(s)
                    .map(|m| m.masked())
                    .unwrap_or_else(|_| "********".into())
            }
        }
        (FieldType::File, Value::Object(o)) => format!(
            "{}（{} KB）",
            o.get("filename")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            o.get("size")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .div_ceil(1024)
        ),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// The JSON Schema of a form's answers, for the API documentation.
pub fn json_schema(form: &FormDef) -> Value {
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    for f in &form.fields {
        let schema = match f.kind {
            FieldType::Checkbox => json!({"type": "boolean"}),
            FieldType::Number | FieldType::Yen | FieldType::FiscalYear => {
                json!({"type": ["integer", "string"]})
            }
            FieldType::Choice => {
                json!({"type": "string", "enum": f.options.iter().map(|o| o.value.clone()).collect::<Vec<_>>()})
            }
            FieldType::PersonName => {
                json!({"type": "object", "properties": {"name": {"type": "string"}, "kana": {"type": "string"}}, "required": ["name", "kana"]})
            }
            FieldType::File => {
                json!({"type": "object", "properties": {"filename": {"type": "string"}, "content_type": {"type": "string"}, "data_base64": {"type": "string"}}})
            }
            _ => json!({"type": "string", "x-madoguchi-type": f.kind.as_str()}),
        };
        let mut schema = schema;
        schema["title"] = Value::String(f.label.ja().to_string());
        if let Some(r) = &f.date_rules {
            schema["x-date-rules"] = serde_json::to_value(r).unwrap_or(Value::Null);
        }
        if let Some(a) = &f.address_field {
            schema["x-address-field"] = Value::String(a.clone());
        }
        if let Some(c) = &f.show_if {
            schema["x-show-if"] = json!({"field": c.field, "equals": c.equals});
        }
        props.insert(f.name.clone(), schema);
        if f.required && f.show_if.is_none() {
            required.push(f.name.clone());
        }
    }
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> FormDef {
        serde_json::from_value(json!({"fields": [
            {"name": "applicant", "type": "person_name", "label": {"ja": "氏名", "en": "Name"}, "required": true},
            {"name": "postal", "type": "postal_code", "label": {"ja": "郵便番号"}, "required": true},
            {"name": "purpose", "type": "choice", "label": {"ja": "使いみち"}, "required": true,
             "options": [{"value": "work", "label": {"ja": "勤務先"}}, {"value": "other", "label": {"ja": "その他"}}]},
            {"name": "purpose_other", "type": "textarea", "label": {"ja": "その他の使いみち"}, "required": true,
             "show_if": {"field": "purpose", "equals": "other"}},
            {"name": "copies", "type": "number", "label": {"ja": "通数"}, "min": 1, "max": 10},
            {"name": "birth", "type": "date", "label": {"ja": "生年月日"}},
            {"name": "agree", "type": "checkbox", "label": {"ja": "同意"}, "required": true}
        ]})).unwrap()
    }

    fn today() -> Today {
        Today::on(
            time::macros::date!(2026 - 04 - 15),
            &jp::OfficeCalendar::default(),
        )
    }

    fn input(pairs: &[(&str, &str)]) -> RawInput {
        RawInput {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: BTreeMap::new(),
        }
    }

    #[test]
    fn valid_input_is_normalised() {
        let a = validate(
            &form(),
            &input(&[
                ("applicant", "山田 太郎"),
                ("applicant_kana", "やまだ たろう"),
                ("postal", "〒２８４－８５５５"),
                ("purpose", "work"),
                ("copies", "２"),
                ("birth", "昭和60年1月2日"),
                ("agree", "on"),
            ]),
            Lang::Ja,
            &today(),
        )
        .unwrap();
        assert_eq!(a["applicant"]["kana"], "ヤマダ\u{3000}タロウ");
        assert_eq!(a["postal"], "284-8555");
        assert_eq!(a["copies"], 2);
        assert_eq!(a["birth"], "1985-01-02");
        assert!(!a.contains_key("purpose_other"));
    }

    #[test]
    fn every_problem_reported_with_field_named() {
        let errs = validate(
            &form(),
            &input(&[
                ("postal", "123"),
                ("purpose", "other"),
                ("copies", "20"),
                ("birth", "2026-02-30"),
            ]),
            Lang::Ja,
            &today(),
        )
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "applicant",
                "applicant_kana",
                "postal",
                "purpose_other",
                "copies",
                "birth",
                "agree"
            ]
        );
        assert!(errs[2].message.contains("郵便番号"), "{}", errs[2].message);
        assert!(errs[4].message.contains("1") && errs[4].message.contains("10"));
    }

    #[test]
    fn unknown_fields_refused() {
        let errs = validate(&form(), &input(&[("evil", "x")]), Lang::En, &today()).unwrap_err();
        assert!(errs.iter().any(|e| e.field == "evil"));
    }

    #[test]
    fn definition_checks() {
        let bad: FormDef = serde_json::from_value(json!({"fields": [
            {"name": "b", "type": "text", "label": {"ja": "B"}, "show_if": {"field": "a", "equals": "x"}},
            {"name": "a", "type": "choice", "label": {"ja": "A"}, "options": [{"value": "x", "label": {"ja": "X"}}]}
        ]})).unwrap();
        let errs = bad.check().unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(form().check().is_ok());
    }

    #[test]
    fn uploads_checked_by_content() {
        let f: Field = serde_json::from_value(json!({"name": "doc", "type": "file", "label": {"ja": "書類"}, "accept": ["application/pdf"], "max_bytes": 10})).unwrap();
        assert_eq!(
            check_upload(&f, "a.pdf", b"%PDF-1.4", 100, Lang::Ja).unwrap(),
            "application/pdf"
        );
        assert!(check_upload(&f, "a.pdf", b"<html>", 100, Lang::Ja)
            .unwrap_err()
            .contains("PDF"));
        assert!(check_upload(&f, "a.pdf", b"%PDF-1.4 too long", 100, Lang::Ja).is_err());
        assert_eq!(safe_filename("../../etc/pa\"ss<wd>"), "passwd");
    }

    fn moving_in() -> FormDef {
        serde_json::from_value(json!({"fields": [
            {"name": "moved_in_date", "type": "date", "label": {"ja": "転入した日"}, "required": true,
             "date_rules": {"not_future": true}},
            {"name": "new_postal_code", "type": "postal_code", "label": {"ja": "郵便番号"}, "required": true,
             "address_field": "new_address"},
            {"name": "new_address", "type": "text", "label": {"ja": "新住所"}, "required": true},
            {"name": "visit_date", "type": "date", "label": {"ja": "来庁予定日"}, "required": true,
             "date_rules": {"not_past": true, "office_open": true,
                            "within_days_after": {"field": "moved_in_date", "days": 14}}}
        ]}))
        .unwrap()
    }

    fn moving(moved: &str, visit: &str, postal: &str) -> Result<Answers, Vec<FieldError>> {
        let f = moving_in();
        assert_eq!(f.check(), Ok(()));
        validate(
            &f,
            &input(&[
                ("moved_in_date", moved),
                ("new_postal_code", postal),
                ("new_address", "四街道市大日1番地"),
                ("visit_date", visit),
            ]),
            Lang::Ja,
            &today(),
        )
    }

    fn only_error(r: Result<Answers, Vec<FieldError>>) -> (String, String) {
        let e = r.unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        (e[0].field.clone(), e[0].message.clone())
    }

    #[test]
    fn date_rules_are_checked_with_one_message_each() {
        // Today is Wednesday 2026-04-15 in these tests.
        let a = moving("2026-04-10", "2026-04-20", "284-0001").unwrap();
        assert_eq!(a["visit_date"], "2026-04-20");
        assert_eq!(
            only_error(moving("2026-04-16", "2026-04-20", "284-0001")),
            ("moved_in_date".into(), "「転入した日」に未来の日付は入力できません。今日（令和8年4月15日）以前の日付を入力してください。".into())
        );
        assert_eq!(
            only_error(moving("2026-04-01", "2026-04-14", "284-0001")),
            ("visit_date".into(), "「来庁予定日」に過ぎた日付は入力できません。今日（令和8年4月15日）以降の日付を入力してください。".into())
        );
        assert_eq!(
            only_error(moving("2026-04-10", "2026-04-25", "284-0001")),
            ("visit_date".into(), "「来庁予定日」は「転入した日」（令和8年4月10日）から14日以内、令和8年4月24日までの日付を入力してください。".into())
        );
        assert_eq!(
            only_error(moving("2026-04-10", "2026-04-18", "284-0001")).1,
            "「来庁予定日」の令和8年4月18日は閉庁日（土曜日）です。開庁日（土日・祝日・年末年始を除く日）を選んでください。"
        );
        // A future move leaves the visit's rule on it unchecked: one message.
        assert_eq!(
            only_error(moving("2026-04-16", "2026-04-16", "284-0001")).0,
            "moved_in_date"
        );
    }

    #[test]
    fn postal_codes_japan_post_lacks_are_refused() {
        assert_eq!(
            only_error(moving("2026-04-10", "2026-04-20", "999-9999")),
            (
                "new_postal_code".into(),
                "「郵便番号」の999-9999は日本郵便の郵便番号にありません。番号を確かめてください。"
                    .into()
            )
        );
    }

    #[test]
    fn an_empty_address_is_filled_from_the_code_and_shown_to_check() {
        let f = moving_in();
        let mut i = input(&[("new_postal_code", "2840001"), ("new_address", "")]);
        let n = fill_addresses(&f, &mut i, Lang::Ja);
        assert_eq!(i.get("new_address"), "千葉県四街道市大日");
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].field, "new_address");
        assert_eq!(n[0].message, "「新住所」に「郵便番号」から「千葉県四街道市大日」を入れました。番地・建物名を続けて入力し、確かめてください。");
        // Typed addresses and unknown codes are left alone.
        let mut i = input(&[("new_postal_code", "2840001"), ("new_address", "大日1")]);
        assert!(fill_addresses(&f, &mut i, Lang::Ja).is_empty());
        let mut i = input(&[("new_postal_code", "9999999"), ("new_address", "")]);
        assert!(fill_addresses(&f, &mut i, Lang::Ja).is_empty());
        assert_eq!(i.get("new_address"), "");
    }

    #[test]
    fn rules_that_cannot_hold_are_refused_in_the_definition() {
        let bad: FormDef = serde_json::from_value(json!({"fields": [
            {"name": "a", "type": "text", "label": {"ja": "A"}, "date_rules": {"on_or_after": "b"}},
            {"name": "b", "type": "text", "label": {"ja": "B"}, "address_field": "a"},
            {"name": "c", "type": "postal_code", "label": {"ja": "C"}, "address_field": "zz"}
        ]}))
        .unwrap();
        let errs = bad.check().unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:?}");
    }
}
