//! フォームビルダー without HTTP: one field of a form as staff fill in the
//! builder's form ([`FieldInput`], strings as typed, which may be wrong),
//! read into a [`Field`] with a Japanese message naming each wrong input,
//! and the whole-form operations (add, replace, move, remove). Every
//! operation returns the new definition only if it passes the same checks
//! as a definition typed as JSON ([`crate::form_json::read`] then
//! [`FormDef::check`]): the draft is always a form that could be published.

use kernel::i18n::{Lang, Text};
use kernel::FieldError;

use crate::form::{ChoiceOption, Claim, Condition, Field, FieldType, FormDef, ATTACHMENT_TYPES};
use crate::rules::{DateRules, DaysFrom};

/// The name of a builder input in the form and in error messages. Field
/// names cannot hold `-`, so these never clash with the ids of a previewed
/// field (`field-<name>`).
pub fn input(name: &str) -> String {
    format!("fb-{name}")
}

/// The input of one translated text in a language (`fb-label-en`).
pub fn text_input(what: &str, lang: Lang) -> String {
    format!("fb-{what}-{}", lang.code())
}

/// Which settings a field type has in the builder.
pub struct Settings {
    pub max_length: bool,
    pub range: bool,
    pub options: bool,
    pub file: bool,
    pub date_rules: bool,
    pub address_field: bool,
    pub prefill: bool,
}

impl Settings {
    pub fn of(kind: FieldType) -> Self {
        Self {
            max_length: matches!(kind, FieldType::Text | FieldType::Textarea),
            range: matches!(kind, FieldType::Number | FieldType::Yen),
            options: kind == FieldType::Choice,
            file: kind == FieldType::File,
            date_rules: kind == FieldType::Date,
            address_field: kind == FieldType::PostalCode,
            prefill: Claim::ALL.iter().any(|c| claim_fits(*c, kind)),
        }
    }
}

/// Whether a claim may fill a field of this type (as [`FormDef::check`]
/// decides, asked through it).
pub fn claim_fits(claim: Claim, kind: FieldType) -> bool {
    let f = FormDef {
        fields: vec![Field {
            name: "x".into(),
            kind,
            label: Text::ja_only("x"),
            hint: None,
            required: false,
            max_length: None,
            min: None,
            max: None,
            options: if kind == FieldType::Choice {
                vec![option("a", "a"), option("b", "b")]
            } else {
                Vec::new()
            },
            accept: Vec::new(),
            max_bytes: None,
            show_if: None,
            prefill: Some(claim),
            date_rules: None,
            address_field: None,
        }],
    };
    f.check().is_ok()
}

fn option(value: &str, label: &str) -> ChoiceOption {
    ChoiceOption {
        value: value.into(),
        label: Text::ja_only(label),
    }
}

pub fn kind_of(s: &str) -> Option<FieldType> {
    FieldType::ALL.into_iter().find(|k| k.as_str() == s)
}

/// The builder's form as posted: input name → value (a multiple select
/// or checkbox group gives several).
#[derive(Clone, Debug, Default)]
pub struct FieldInput(pub Vec<(String, String)>);

impl FieldInput {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn on(&self, name: &str) -> bool {
        self.get(&input(name)) == "true"
    }

    /// A field as the builder shows it for editing.
    pub fn of_field(f: &Field) -> Self {
        let mut v: Vec<(String, String)> = Vec::new();
        let mut put = |k: String, val: String| v.push((k, val));
        put(input("kind"), f.kind.as_str().into());
        put(input("name"), f.name.clone());
        for lang in Lang::ALL {
            let code = lang.code();
            put(
                text_input("label", lang),
                f.label.get_exact(code).unwrap_or_default().into(),
            );
            put(
                text_input("hint", lang),
                f.hint
                    .as_ref()
                    .and_then(|h| h.get_exact(code))
                    .unwrap_or_default()
                    .into(),
            );
            let lines: Vec<String> = f
                .options
                .iter()
                .map(|o| {
                    let l = o.label.get_exact(code).unwrap_or_default();
                    if lang == Lang::Ja {
                        format!("{}={l}", o.value)
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            let joined = lines.join("\n");
            put(
                text_input("options", lang),
                if joined.trim().is_empty() {
                    String::new()
                } else {
                    joined
                },
            );
        }
        if f.required {
            put(input("required"), "true".into());
        }
        let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        put(input("max_length"), num(f.max_length.map(|n| n as i64)));
        put(input("min"), num(f.min));
        put(input("max"), num(f.max));
        for a in &f.accept {
            put(input("accept"), a.clone());
        }
        put(
            input("max_kb"),
            f.max_bytes
                .map(|b| (b / 1024).to_string())
                .unwrap_or_default(),
        );
        put(
            input("prefill"),
            f.prefill
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
        );
        put(
            input("address_field"),
            f.address_field.clone().unwrap_or_default(),
        );
        put(
            input("show_if"),
            f.show_if
                .as_ref()
                .map(|c| format!("{}:{}", c.field, c.equals))
                .unwrap_or_default(),
        );
        if let Some(r) = &f.date_rules {
            for (k, on) in [
                ("not_future", r.not_future),
                ("not_past", r.not_past),
                ("office_open", r.office_open),
            ] {
                if on {
                    put(input(k), "true".into());
                }
            }
            put(
                input("on_or_after"),
                r.on_or_after.clone().unwrap_or_default(),
            );
            for (k, d) in [
                ("after", &r.within_days_after),
                ("before", &r.within_days_before),
            ] {
                put(
                    input(&format!("{k}_field")),
                    d.as_ref().map(|d| d.field.clone()).unwrap_or_default(),
                );
                put(
                    input(&format!("{k}_days")),
                    d.as_ref().map(|d| d.days.to_string()).unwrap_or_default(),
                );
            }
        }
        Self(v)
    }

    /// Reads the field of `kind`, or names every wrong input in Japanese.
    /// Only the settings its type has are read.
    pub fn read(&self, kind: FieldType) -> Result<Field, Vec<FieldError>> {
        let mut errs = Errors::default();
        let s = Settings::of(kind);
        let name = self.get(&input("name")).trim().to_string();
        if name.is_empty() {
            errs.push(
                "name",
                "「項目名（英字）」を入力してください（例：purpose）。",
            );
        } else if !is_field_name(&name) {
            errs.push(
                "name",
                "「項目名（英字）」は英小文字で始まり、英小文字・数字・_ だけの64文字までにしてください（例：purpose_other）。",
            );
        }
        let label = self.text("label");
        if label.ja().is_empty() {
            errs.push("label-ja", "「表示名（日本語）」を入力してください。");
        }
        let hint = self.text("hint");
        let mut f = Field {
            name,
            kind,
            label,
            hint: (!hint.ja().is_empty()).then_some(hint),
            required: self.on("required"),
            max_length: None,
            min: None,
            max: None,
            options: Vec::new(),
            accept: Vec::new(),
            max_bytes: None,
            show_if: None,
            prefill: None,
            date_rules: None,
            address_field: None,
        };
        if s.max_length {
            f.max_length = self
                .number("max_length", "最大文字数", 1, 100_000, &mut errs)
                .map(|n| n as usize);
        }
        if s.range {
            f.min = self.number("min", "最小値", i64::MIN, i64::MAX, &mut errs);
            f.max = self.number("max", "最大値", i64::MIN, i64::MAX, &mut errs);
            if let (Some(a), Some(b)) = (f.min, f.max) {
                if a > b {
                    errs.push("min", "「最小値」は「最大値」以下にしてください。");
                }
            }
        }
        if s.options {
            f.options = self.options(&mut errs);
        }
        if s.file {
            for a in self.all(&input("accept")) {
                if ATTACHMENT_TYPES.iter().any(|(t, _, _)| *t == a) {
                    f.accept.push(a.to_string());
                } else {
                    errs.push(
                        "accept",
                        "「添付できる形式」は PDF・PNG・JPEG から選んでください。",
                    );
                }
            }
            f.max_bytes = self
                .number("max_kb", "最大サイズ（KB）", 1, 10 * 1024, &mut errs)
                .map(|kb| kb as u64 * 1024);
        }
        if s.prefill {
            let p = self.get(&input("prefill"));
            if !p.is_empty() {
                match Claim::ALL.into_iter().find(|c| c.as_str() == p) {
                    Some(c) if claim_fits(c, kind) => f.prefill = Some(c),
                    _ => errs.push(
                        "prefill",
                        "「本人確認情報から入力」はこの種類の項目に使えるものを選んでください。",
                    ),
                }
            }
        }
        if s.address_field {
            let a = self.get(&input("address_field")).trim();
            f.address_field = (!a.is_empty()).then(|| a.to_string());
        }
        if s.date_rules {
            let r = self.date_rules(&mut errs);
            f.date_rules = (!r.is_empty()).then_some(r);
        }
        let cond = self.get(&input("show_if"));
        if !cond.is_empty() {
            match cond.split_once(':') {
                Some((field, equals)) if !field.is_empty() => {
                    f.show_if = Some(Condition {
                        field: field.to_string(),
                        equals: equals.to_string(),
                    })
                }
                _ => errs.push("show_if", "「表示する条件」は一覧から選んでください。"),
            }
        }
        errs.done(f)
    }

    /// A text in Japanese and the other languages (an empty one is none).
    fn text(&self, what: &str) -> Text {
        let mut t = Text::ja_only(jp::nfc(self.get(&text_input(what, Lang::Ja)).trim()));
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::Ja) {
            t.set(
                lang.code(),
                jp::nfc(self.get(&text_input(what, lang)).trim()),
            );
        }
        t
    }

    fn number(
        &self,
        name: &str,
        label: &str,
        min: i64,
        max: i64,
        errs: &mut Errors,
    ) -> Option<i64> {
        let raw = jp::fold_width(self.get(&input(name)).trim());
        if raw.is_empty() {
            return None;
        }
        match raw.parse::<i64>() {
            Ok(n) if n >= min && n <= max => Some(n),
            _ if min == i64::MIN => {
                errs.push(name, &format!("「{label}」は整数で入力してください。"));
                None
            }
            _ => {
                errs.push(
                    name,
                    &format!("「{label}」は{min}から{max}までの整数で入力してください。"),
                );
                None
            }
        }
    }

    /// Options: `value=label` per line in Japanese; each other language's
    /// labels one per line in the same order.
    fn options(&self, errs: &mut Errors) -> Vec<ChoiceOption> {
        let ja = self.get(&text_input("options", Lang::Ja));
        let mut out: Vec<ChoiceOption> = Vec::new();
        for (i, line) in ja.lines().map(str::trim).enumerate() {
            if line.is_empty() {
                continue;
            }
            let n = i + 1;
            match line.split_once('=') {
                Some((v, l)) if !v.trim().is_empty() && !l.trim().is_empty() => {
                    let v = v.trim();
                    if out.iter().any(|o| o.value == v) {
                        errs.push(
                            "options-ja",
                            &format!("「選択肢（日本語）」の値「{v}」が2回あります。値は選択肢ごとに変えてください。"),
                        );
                    }
                    out.push(option(v, &jp::nfc(l.trim())));
                }
                _ => errs.push(
                    "options-ja",
                    &format!("「選択肢（日本語）」の{n}行目「{line}」は「値=表示名」の形にしてください（例：other=その他）。"),
                ),
            }
        }
        if out.len() < 2 {
            errs.push(
                "options-ja",
                "「選択肢（日本語）」は2つ以上、1行に1つ「値=表示名」の形で入力してください。",
            );
        }
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::Ja) {
            let lines: Vec<&str> = self
                .get(&text_input("options", lang))
                .lines()
                .map(str::trim)
                .collect();
            let used = lines
                .iter()
                .rposition(|l| !l.is_empty())
                .map_or(0, |p| p + 1);
            if used > out.len() {
                errs.push(
                    &format!("options-{}", lang.code()),
                    &format!(
                        "「選択肢（{}）」は日本語と同じ順に{}行までにしてください（いまは{used}行）。",
                        lang.native_name(),
                        out.len()
                    ),
                );
            }
            for (o, l) in out.iter_mut().zip(lines) {
                o.label.set(lang.code(), jp::nfc(l));
            }
        }
        out
    }

    fn date_rules(&self, errs: &mut Errors) -> DateRules {
        let field_of = |k: &str| {
            let v = self.get(&input(k)).trim();
            (!v.is_empty()).then(|| v.to_string())
        };
        let mut within = |which: &str, label: &str| -> Option<DaysFrom> {
            let field = field_of(&format!("{which}_field"));
            let days = self.number(&format!("{which}_days"), label, 1, 3660, errs);
            match (field, days) {
                (Some(field), Some(days)) => Some(DaysFrom {
                    field,
                    days: days as u16,
                }),
                (None, None) => None,
                (Some(_), None) => {
                    errs.push(
                        &format!("{which}_days"),
                        &format!("「{label}」を入力してください（1から3660まで）。"),
                    );
                    None
                }
                (None, Some(_)) => {
                    errs.push(
                        &format!("{which}_field"),
                        &format!("「{label}」の基準にする日付の項目を選んでください。"),
                    );
                    None
                }
            }
        };
        let after = within("after", "基準日から何日以内（後）");
        let before = within("before", "基準日の何日前から（前）");
        DateRules {
            not_future: self.on("not_future"),
            not_past: self.on("not_past"),
            on_or_after: field_of("on_or_after"),
            within_days_after: after,
            within_days_before: before,
            office_open: self.on("office_open"),
        }
    }
}

fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes()[0].is_ascii_lowercase()
}

#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, name: &str, message: &str) {
        self.0.push(FieldError {
            field: input(name),
            message: message.to_string(),
        });
    }

    fn done<T>(self, v: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(v)
        } else {
            Err(self.0)
        }
    }
}

/// Where the messages about the whole form are anchored on the page.
pub const FORM_ANCHOR: &str = "fb-form";

/// The definition if it passes every check of a form typed as JSON;
/// otherwise the messages, anchored at [`FORM_ANCHOR`].
pub fn checked(def: FormDef) -> Result<FormDef, Vec<FieldError>> {
    let as_json = serde_json::to_value(&def).unwrap_or_default();
    let read = crate::form_json::read(as_json).and_then(|d| d.check().map(|_| d));
    read.map_err(|es| {
        es.into_iter()
            .map(|message| FieldError {
                field: FORM_ANCHOR.into(),
                message,
            })
            .collect()
    })
}

fn name_taken(def: &FormDef, name: &str, except: Option<usize>) -> bool {
    def.fields.iter().enumerate().any(|(i, f)| {
        Some(i) != except
            && (f.name == name
                || (f.kind == FieldType::PersonName && format!("{}_kana", f.name) == name))
    })
}

fn taken(name: &str) -> Vec<FieldError> {
    vec![FieldError {
        field: input("name"),
        message: format!(
            "「項目名（英字）」の「{name}」はこのフォームですでに使われています。別の名前にしてください。"
        ),
    }]
}

/// Adds a field at the end.
pub fn add(def: &FormDef, f: Field) -> Result<FormDef, Vec<FieldError>> {
    if name_taken(def, &f.name, None) {
        return Err(taken(&f.name));
    }
    let mut d = def.clone();
    d.fields.push(f);
    checked(d)
}

/// Replaces the field named `old`; a new name is followed by the other
/// fields' conditions and rules that referred to the old one.
pub fn replace(def: &FormDef, old: &str, f: Field) -> Result<FormDef, Vec<FieldError>> {
    let i = position(def, old)?;
    if name_taken(def, &f.name, Some(i)) {
        return Err(taken(&f.name));
    }
    let mut d = def.clone();
    let new = f.name.clone();
    d.fields[i] = f;
    if new != old {
        for g in d.fields.iter_mut() {
            rename_in(g, old, &new);
        }
    }
    checked(d)
}

fn rename_in(g: &mut Field, old: &str, new: &str) {
    let fix = |s: &mut String| {
        if s == old {
            *s = new.to_string();
        }
    };
    if let Some(c) = g.show_if.as_mut() {
        fix(&mut c.field);
    }
    if let Some(a) = g.address_field.as_mut() {
        fix(a);
    }
    if let Some(r) = g.date_rules.as_mut() {
        if let Some(o) = r.on_or_after.as_mut() {
            fix(o);
        }
        for d in [r.within_days_after.as_mut(), r.within_days_before.as_mut()]
            .into_iter()
            .flatten()
        {
            fix(&mut d.field);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "up" => Some(Self::Up),
            "down" => Some(Self::Down),
            _ => None,
        }
    }
}

/// Moves a field one place up or down (at the top or bottom: unchanged).
pub fn move_field(def: &FormDef, name: &str, dir: Direction) -> Result<FormDef, Vec<FieldError>> {
    let i = position(def, name)?;
    let j = match dir {
        Direction::Up if i > 0 => i - 1,
        Direction::Down if i + 1 < def.fields.len() => i + 1,
        _ => return Ok(def.clone()),
    };
    let mut d = def.clone();
    d.fields.swap(i, j);
    checked(d)
}

/// Removes a field (refused while another field's condition or rule
/// refers to it: the message names both).
pub fn remove(def: &FormDef, name: &str) -> Result<FormDef, Vec<FieldError>> {
    let i = position(def, name)?;
    let mut d = def.clone();
    d.fields.remove(i);
    checked(d)
}

fn position(def: &FormDef, name: &str) -> Result<usize, Vec<FieldError>> {
    def.fields
        .iter()
        .position(|f| f.name == name)
        .ok_or_else(|| {
            vec![FieldError {
                field: FORM_ANCHOR.into(),
                message: format!(
                    "項目「{name}」はこの下書きにありません。一覧から選び直してください。"
                ),
            }]
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> FieldInput {
        FieldInput(
            pairs
                .iter()
                .map(|(k, v)| (input(k), v.to_string()))
                .collect(),
        )
    }

    fn choice() -> Field {
        posted(&[
            ("name", "purpose"),
            ("label-ja", "使いみち"),
            ("label-en", "Purpose"),
            ("options-ja", "work=勤務先\nother=その他"),
            ("options-en", "Work\nOther"),
            ("required", "true"),
        ])
        .read(FieldType::Choice)
        .unwrap()
    }

    fn other() -> Field {
        posted(&[
            ("name", "purpose_other"),
            ("label-ja", "その他の使いみち"),
            ("show_if", "purpose:other"),
        ])
        .read(FieldType::Textarea)
        .unwrap()
    }

    #[test]
    fn a_choice_reads_with_its_translations() {
        let f = choice();
        assert_eq!(f.options.len(), 2);
        assert_eq!(f.options[1].value, "other");
        assert_eq!(f.options[1].label.get_exact("en"), Some("Other"));
        assert_eq!(f.label.get_exact("en"), Some("Purpose"));
        assert!(f.required);
        // Shown back as it was typed.
        let again = FieldInput::of_field(&f).read(FieldType::Choice).unwrap();
        assert_eq!(again, f);
    }

    #[test]
    fn each_wrong_input_is_named() {
        let e = posted(&[("name", "Purpose"), ("options-ja", "work\nother=その他")])
            .read(FieldType::Choice)
            .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["fb-name", "fb-label-ja", "fb-options-ja", "fb-options-ja"]
        );
        assert_eq!(
            e[2].message,
            "「選択肢（日本語）」の1行目「work」は「値=表示名」の形にしてください（例：other=その他）。"
        );
        let e = posted(&[
            ("name", "n"),
            ("label-ja", "通数"),
            ("min", "5"),
            ("max", "x"),
        ])
        .read(FieldType::Number)
        .unwrap_err();
        assert_eq!(e[0].message, "「最大値」は整数で入力してください。");
    }

    #[test]
    fn operations_keep_the_form_valid() {
        let d = add(&FormDef::default(), choice()).unwrap();
        let d = add(&d, other()).unwrap();
        assert_eq!(add(&d, choice()).unwrap_err()[0].field, "fb-name");
        // The condition's field may not come after it.
        let e = move_field(&d, "purpose", Direction::Down).unwrap_err();
        assert_eq!(
            e[0].message,
            "フォーム項目「purpose_other」: 表示条件の項目「purpose」が、この項目より前にありません。"
        );
        assert!(remove(&d, "purpose").is_err());
        // A renamed field keeps the conditions on it.
        let mut renamed = choice();
        renamed.name = "use".into();
        let d2 = replace(&d, "purpose", renamed).unwrap();
        assert_eq!(d2.fields[1].show_if.as_ref().unwrap().field, "use");
        let d3 = remove(&d2, "purpose_other").unwrap();
        assert_eq!(d3.fields.len(), 1);
        assert_eq!(move_field(&d3, "use", Direction::Up).unwrap(), d3);
    }

    #[test]
    fn date_rules_read() {
        let f = posted(&[
            ("name", "visit"),
            ("label-ja", "来庁日"),
            ("not_past", "true"),
            ("office_open", "true"),
            ("after_field", "moved"),
        ])
        .read(FieldType::Date)
        .unwrap_err();
        assert_eq!(f[0].field, "fb-after_days");
    }
}
