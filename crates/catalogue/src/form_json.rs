//! Reading a form definition typed as JSON by staff (the editor's JSON box,
//! the CSV column `form_json`). Every mistake comes back in Japanese,
//! naming where it is (`fields[3].type`) and what is allowed there, never
//! as the parser's English; the definition is only taken when all of it
//! reads. Whether the fields fit together (names, conditions, rules) is
//! [`FormDef::check`]'s part, after this.

use serde_json::{Map, Value};

use crate::form::{Claim, FieldType, FormDef};

/// The settings a field may have, in the order they are listed to staff.
const FIELD_KEYS: [&str; 15] = [
    "name",
    "type",
    "label",
    "hint",
    "required",
    "max_length",
    "min",
    "max",
    "options",
    "accept",
    "max_bytes",
    "show_if",
    "prefill",
    "date_rules",
    "address_field",
];

const DATE_RULE_KEYS: [&str; 6] = [
    "not_future",
    "not_past",
    "on_or_after",
    "within_days_after",
    "within_days_before",
    "office_open",
];

/// Parses the JSON text of a form definition; on any mistake, one
/// Japanese message per mistake (the whole text is then not taken).
pub fn parse(text: &str) -> Result<FormDef, Vec<String>> {
    if text.trim().is_empty() {
        return Ok(FormDef::default());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| vec![syntax(&e)])?;
    read(value)
}

/// Reads a form definition already parsed as JSON (inside a procedure of
/// a JSON import), with the same messages as [`parse`].
pub fn read(value: Value) -> Result<FormDef, Vec<String>> {
    let mut errs = Vec::new();
    shape(&value, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    // The walk above allows exactly what the types read; should they ever
    // drift apart, the message still names no English.
    serde_json::from_value(value)
        .map_err(|_| vec!["フォームの定義を読み取れませんでした。形を確かめてください。".into()])
}

/// A JSON syntax mistake: its line and column, what to look for.
pub fn syntax(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Eof => {
            "途中で終わっています。閉じる } や ] 、\" が足りないか確かめてください。"
        }
        _ => "JSONの書き方が正しくありません。カンマ（,）、括弧、引用符（\"）を確かめてください。",
    };
    format!("{}行目{}列目: {what}", e.line(), e.column())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "数値",
        Value::String(_) => "文字列",
        Value::Array(_) => "配列（[ … ]）",
        Value::Object(_) => "オブジェクト（{ … }）",
    }
}

fn shape(v: &Value, errs: &mut Vec<String>) {
    let Some(top) = v.as_object() else {
        errs.push(format!(
            "全体は {{\"fields\": [ … ]}} の形のオブジェクトにしてください（いまは{}）。",
            kind_of(v)
        ));
        return;
    };
    unknown_keys("（全体）", top, &["fields"], errs);
    match top.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(fields)) => {
            for (i, f) in fields.iter().enumerate() {
                field(&format!("fields[{i}]"), f, errs);
            }
        }
        Some(other) => errs.push(format!(
            "fields: 項目の配列（[ … ]）にしてください（いまは{}）。",
            kind_of(other)
        )),
    }
}

fn unknown_keys(at: &str, m: &Map<String, Value>, allowed: &[&str], errs: &mut Vec<String>) {
    for k in m.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errs.push(format!(
            "{at}: 「{k}」という設定はありません。使える設定: {}",
            allowed.join(", ")
        ));
    }
}

fn field(at: &str, v: &Value, errs: &mut Vec<String>) {
    let Some(m) = v.as_object() else {
        errs.push(format!(
            "{at}: 項目は {{\"name\": …, \"type\": …, \"label\": {{\"ja\": …}}}} の形のオブジェクトにしてください（いまは{}）。",
            kind_of(v)
        ));
        return;
    };
    unknown_keys(at, m, &FIELD_KEYS, errs);
    for key in ["name", "type", "label"] {
        if m.get(key).is_none_or(Value::is_null) {
            errs.push(format!("{at}: 「{key}」がありません（必須の設定です）。"));
        }
    }
    for (key, v) in m {
        let at = format!("{at}.{key}");
        if v.is_null() && !["name", "type", "label"].contains(&key.as_str()) {
            continue;
        }
        match key.as_str() {
            "name" | "address_field" => string(&at, v, errs),
            "type" => one_of(&at, v, &type_names(), "使える種類", errs),
            "prefill" => one_of(&at, v, &claim_names(), "使える値", errs),
            "label" | "hint" => text(&at, v, errs),
            "required" => boolean(&at, v, errs),
            "max_length" | "max_bytes" => unsigned(&at, v, u64::MAX, errs),
            "min" | "max" => integer(&at, v, errs),
            "options" => each(&at, v, errs, |at, o, errs| {
                object(
                    at,
                    o,
                    &["value", "label"],
                    errs,
                    |at, key, v, errs| match key {
                        "value" => string(at, v, errs),
                        _ => text(at, v, errs),
                    },
                )
            }),
            "accept" => each(&at, v, errs, string),
            "show_if" => object(&at, v, &["field", "equals"], errs, |at, _, v, errs| {
                string(at, v, errs)
            }),
            "date_rules" => date_rules(&at, v, errs),
            _ => {}
        }
    }
}

fn date_rules(at: &str, v: &Value, errs: &mut Vec<String>) {
    let Some(m) = v.as_object() else {
        errs.push(format!(
            "{at}: 日付の条件のオブジェクト（{{ … }}）にしてください（いまは{}）。",
            kind_of(v)
        ));
        return;
    };
    unknown_keys(at, m, &DATE_RULE_KEYS, errs);
    for (key, v) in m.iter().filter(|(_, v)| !v.is_null()) {
        let at = format!("{at}.{key}");
        match key.as_str() {
            "not_future" | "not_past" | "office_open" => boolean(&at, v, errs),
            "on_or_after" => string(&at, v, errs),
            "within_days_after" | "within_days_before" => {
                object(&at, v, &["field", "days"], errs, |at, key, v, errs| {
                    if key == "field" {
                        string(at, v, errs)
                    } else {
                        unsigned(at, v, u64::from(u16::MAX), errs)
                    }
                })
            }
            _ => {}
        }
    }
}

/// An object with exactly the keys given, all required, each checked.
fn object(
    at: &str,
    v: &Value,
    keys: &[&str],
    errs: &mut Vec<String>,
    each_key: impl Fn(&str, &str, &Value, &mut Vec<String>),
) {
    let Some(m) = v.as_object() else {
        errs.push(format!(
            "{at}: {{{}}} の形のオブジェクトにしてください（いまは{}）。",
            keys.iter()
                .map(|k| format!("\"{k}\": …"))
                .collect::<Vec<_>>()
                .join(", "),
            kind_of(v)
        ));
        return;
    };
    unknown_keys(at, m, keys, errs);
    for key in keys {
        match m.get(*key) {
            None | Some(Value::Null) => {
                errs.push(format!("{at}: 「{key}」がありません（必須の設定です）。"))
            }
            Some(v) => each_key(&format!("{at}.{key}"), key, v, errs),
        }
    }
}

fn each(
    at: &str,
    v: &Value,
    errs: &mut Vec<String>,
    item: impl Fn(&str, &Value, &mut Vec<String>),
) {
    match v.as_array() {
        Some(items) => {
            for (i, x) in items.iter().enumerate() {
                item(&format!("{at}[{i}]"), x, errs);
            }
        }
        None => errs.push(format!(
            "{at}: 配列（[ … ]）にしてください（いまは{}）。",
            kind_of(v)
        )),
    }
}

fn string(at: &str, v: &Value, errs: &mut Vec<String>) {
    if !v.is_string() {
        errs.push(format!(
            "{at}: 文字列（\"…\"）にしてください（いまは{}）。",
            kind_of(v)
        ));
    }
}

fn integer(at: &str, v: &Value, errs: &mut Vec<String>) {
    if v.as_i64().is_none() {
        errs.push(format!(
            "{at}: 整数にしてください（いまは{}）。",
            kind_of(v)
        ));
    }
}

fn boolean(at: &str, v: &Value, errs: &mut Vec<String>) {
    if !v.is_boolean() {
        errs.push(format!(
            "{at}: true か false にしてください（いまは{}）。",
            kind_of(v)
        ));
    }
}

fn unsigned(at: &str, v: &Value, max: u64, errs: &mut Vec<String>) {
    if v.as_u64().is_none_or(|n| n > max) {
        errs.push(format!("{at}: 0〜{max} の整数にしてください。"));
    }
}

fn one_of(at: &str, v: &Value, allowed: &[&str], what: &str, errs: &mut Vec<String>) {
    match v.as_str() {
        Some(s) if allowed.contains(&s) => {}
        Some(s) => errs.push(format!(
            "{at}: \"{s}\" は使えません。{what}: {}",
            allowed.join(", ")
        )),
        None => errs.push(format!(
            "{at}: 文字列にしてください（いまは{}）。{what}: {}",
            kind_of(v),
            allowed.join(", ")
        )),
    }
}

/// Text in several languages: `{"ja": "…", "en": "…"}` with Japanese.
fn text(at: &str, v: &Value, errs: &mut Vec<String>) {
    let Some(m) = v.as_object() else {
        errs.push(format!(
            "{at}: 言語ごとの文言のオブジェクト（例: {{\"ja\": \"氏名\", \"en\": \"Name\"}}）にしてください（いまは{}）。",
            kind_of(v)
        ));
        return;
    };
    for (k, x) in m {
        if !x.is_string() {
            errs.push(format!(
                "{at}.{k}: 文字列（\"…\"）にしてください（いまは{}）。",
                kind_of(x)
            ));
        }
    }
    if m.get("ja")
        .and_then(Value::as_str)
        .is_none_or(|s| s.trim().is_empty())
    {
        errs.push(format!("{at}: 日本語（ja）の文言が必要です。"));
    }
}

fn type_names() -> Vec<&'static str> {
    FieldType::ALL.iter().map(|t| t.as_str()).collect()
}

fn claim_names() -> Vec<&'static str> {
    Claim::ALL.iter().map(|c| c.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        parse(text).expect_err(text)
    }

    #[test]
    fn unknown_type_names_the_place_and_the_types() {
        let text = r#"{"fields": [
            {"name": "a", "type": "text", "label": {"ja": "あ"}},
            {"name": "b", "type": "text", "label": {"ja": "い"}},
            {"name": "c", "type": "text", "label": {"ja": "う"}},
            {"name": "d", "type": "banana", "label": {"ja": "え"}}
        ]}"#;
        assert_eq!(
            errors(text),
            vec!["fields[3].type: \"banana\" は使えません。使える種類: text, textarea, number, choice, checkbox, date, email, file, person_name, postal_code, phone, my_number, corporate_number, local_gov_code, fiscal_year, yen"]
        );
    }

    /// The names listed to staff are the names the types read.
    #[test]
    fn listed_names_are_the_serde_names() {
        for t in FieldType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for c in Claim::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn syntax_errors_give_line_and_column_in_japanese() {
        assert_eq!(
            errors("{\"fields\": [\n  {\"name\": \"a\",, }\n]}"),
            vec!["2行目16列目: JSONの書き方が正しくありません。カンマ（,）、括弧、引用符（\"）を確かめてください。"]
        );
        assert_eq!(
            errors("{\"fields\": ["),
            vec!["1行目12列目: 途中で終わっています。閉じる } や ] 、\" が足りないか確かめてください。"]
        );
    }

    #[test]
    fn every_mistake_is_named() {
        let text = r#"{"fields": [
            {"name": 3, "type": "choice", "label": "氏名", "colour": "red",
             "required": "yes", "max_length": -1, "min": 1.5,
             "options": [{"value": "a"}, {"value": "b", "label": {"en": "B"}}],
             "show_if": {"field": "x"}, "prefill": "age",
             "date_rules": {"not_future": 1, "within_days_after": {"field": "x", "days": 70000}, "soon": true}},
            {"type": "text"}
        ], "title": "x"}"#;
        assert_eq!(
            errors(text),
            vec![
                "（全体）: 「title」という設定はありません。使える設定: fields",
                "fields[0]: 「colour」という設定はありません。使える設定: name, type, label, hint, required, max_length, min, max, options, accept, max_bytes, show_if, prefill, date_rules, address_field",
                "fields[0].date_rules: 「soon」という設定はありません。使える設定: not_future, not_past, on_or_after, within_days_after, within_days_before, office_open",
                "fields[0].date_rules.not_future: true か false にしてください（いまは数値）。",
                "fields[0].date_rules.within_days_after.days: 0〜65535 の整数にしてください。",
                "fields[0].label: 言語ごとの文言のオブジェクト（例: {\"ja\": \"氏名\", \"en\": \"Name\"}）にしてください（いまは文字列）。",
                "fields[0].max_length: 0〜18446744073709551615 の整数にしてください。",
                "fields[0].min: 整数にしてください（いまは数値）。",
                "fields[0].name: 文字列（\"…\"）にしてください（いまは数値）。",
                "fields[0].options[0]: 「label」がありません（必須の設定です）。",
                "fields[0].options[1].label: 日本語（ja）の文言が必要です。",
                "fields[0].prefill: \"age\" は使えません。使える値: name, address, birthdate, gender",
                "fields[0].required: true か false にしてください（いまは文字列）。",
                "fields[0].show_if: 「equals」がありません（必須の設定です）。",
                "fields[1]: 「name」がありません（必須の設定です）。",
                "fields[1]: 「label」がありません（必須の設定です）。",
            ]
        );
    }

    #[test]
    fn not_an_object_at_all() {
        assert_eq!(
            errors("[1]"),
            vec!["全体は {\"fields\": [ … ]} の形のオブジェクトにしてください（いまは配列（[ … ]））。"]
        );
        assert_eq!(
            errors(r#"{"fields": {"name": "a"}}"#),
            vec!["fields: 項目の配列（[ … ]）にしてください（いまはオブジェクト（{ … }））。"]
        );
    }

    /// Whatever the walk lets through, the types read: the demo forms and
    /// a field with every setting.
    #[test]
    fn what_passes_reads() {
        for p in [
            include_str!("../../../data/demo/122289/procedures.json"),
            include_str!("../../../data/demo/242021/procedures.json"),
        ] {
            let all: Vec<Value> = serde_json::from_str(p).unwrap();
            for proc in all {
                let form = proc.get("form").cloned().unwrap_or(Value::Null);
                if form.is_null() {
                    continue;
                }
                let text = form.to_string();
                let parsed = parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
                assert_eq!(parsed, serde_json::from_value::<FormDef>(form).unwrap());
            }
        }
        let full = r#"{"fields": [
            {"name": "d", "type": "date", "label": {"ja": "日", "en": "Day"}, "hint": {"ja": "例"},
             "required": true, "max_length": 10, "min": -1, "max": 5, "options": [],
             "accept": ["application/pdf"], "max_bytes": 100, "show_if": {"field": "c", "equals": "x"},
             "prefill": "birthdate", "address_field": "a",
             "date_rules": {"not_future": true, "not_past": false, "on_or_after": "e",
                            "within_days_after": {"field": "e", "days": 14},
                            "within_days_before": {"field": "e", "days": 3}, "office_open": true}}
        ]}"#;
        assert!(parse(full).is_ok());
        assert_eq!(parse("  ").unwrap(), FormDef::default());
    }
}
