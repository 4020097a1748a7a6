//! Request bodies into typed values, with the standard error when they do
//! not parse: `400 MDG-400` naming the field (`answers.copies`) and saying
//! in Japanese what is wrong, never serde's English alone.

use std::collections::BTreeMap;

use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult, FieldError};

/// A JSON body parsed into `T` ([`parse_json`]'s errors on failure).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
                _ => AppError::BadRequest(format!("リクエストの本文を読めません: {e}")),
            })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON body. A body that is not JSON names `body` and the line
/// and column; JSON of the wrong shape names the field by its path. A
/// number with nothing after the point (`3.0`) is the integer it equals,
/// as JSON Schema says, so it fits an integer field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = <serde_json::Value as serde::Deserialize>::deserialize(&mut *de)
        .map_err(|e| shape_error(".", &e))?;
    de.end().map_err(|e| shape_error(".", &e))?;
    serde_path_to_error::deserialize(integral(value)).map_err(|e| {
        let path = e.path().to_string();
        shape_error(&path, e.inner())
    })
}

/// Whole numbers written with a fraction (`3.0`, `1e2`) as integers.
fn integral(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 => {
                if f >= i64::MIN as f64 && f < i64::MAX as f64 {
                    Value::from(f as i64)
                } else if f >= 0.0 && f < u64::MAX as f64 {
                    Value::from(f as u64)
                } else {
                    Value::Number(n)
                }
            }
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(integral).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, integral(v))).collect()),
        other => other,
    }
}

fn shape_error(path: &str, e: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    let syntax = !matches!(e.classify(), serde_json::error::Category::Data);
    let field = if syntax || path.is_empty() || path == "." {
        "body".to_string()
    } else {
        path.to_string()
    };
    let detail = e.to_string();
    let message = match e.classify() {
        Category::Io | Category::Syntax | Category::Eof => format!(
            "本文が JSON として読めません（{}行目{}列目）。",
            e.line(),
            e.column()
        ),
        Category::Data => data_message(&field, &detail),
    };
    AppError::BadBody {
        detail: format!("{message} / {detail}"),
        fields: vec![FieldError { field, message }],
    }
}

/// serde's data errors, said in Japanese. serde words them stably
/// (`missing field`, `unknown field`, `unknown variant`, `invalid type`).
fn data_message(field: &str, detail: &str) -> String {
    let quoted = |s: &str| s.split('`').nth(1).unwrap_or("").to_string();
    let expected = detail
        .split(", expected ")
        .nth(1)
        .map(|e| e.split(" at line ").next().unwrap_or(e))
        .unwrap_or("");
    if detail.starts_with("missing field") {
        let name = quoted(detail);
        let at = if field == "body" {
            name.clone()
        } else {
            format!("{field}.{name}")
        };
        format!("「{at}」がありません。")
    } else if detail.starts_with("unknown field") {
        format!(
            "「{}」という項目はありません（使える項目：{}）。",
            quoted(detail),
            readable(expected)
        )
    } else if detail.starts_with("unknown variant") {
        format!(
            "「{field}」に「{}」は使えません（使える値：{}）。",
            quoted(detail),
            readable(expected)
        )
    } else if detail.starts_with("invalid type") {
        format!("「{field}」は{}にしてください。", kind_ja(expected))
    } else if detail.starts_with("invalid length") {
        format!("「{field}」の要素の数が正しくありません。")
    } else {
        format!("「{field}」の値が正しくありません。")
    }
}

fn readable(expected: &str) -> String {
    expected
        .trim_start_matches("one of ")
        .replace('`', "")
        .replace(" or ", ", ")
}

fn kind_ja(expected: &str) -> &'static str {
    let e = expected.to_ascii_lowercase();
    if e.contains("string") {
        "文字列"
    } else if e.contains("bool") {
        "true か false"
    } else if e.contains("integer") || e.starts_with('u') || e.starts_with('i') {
        "整数"
    } else if e.contains("float") || e.starts_with('f') {
        "数値"
    } else if e.contains("sequence") {
        "配列"
    } else if e.contains("map") || e.contains("struct") {
        "オブジェクト"
    } else {
        "正しい形式"
    }
}

/// A form posted as `multipart/form-data`: its text fields, and its files
/// as (field, file name, bytes); empty file inputs are left out.
pub struct Posted {
    pub values: BTreeMap<String, String>,
    pub files: Vec<(String, String, Vec<u8>)>,
}

impl Posted {
    /// A control field (`_action`, `_csrf`, `dry_run` …), or "".
    pub fn control(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    /// The values that belong to the form (control fields start with `_`).
    pub fn answers(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Reads a multipart form. A body over the limit is `413`; one that does
/// not parse, or a field name over 100 characters, is `400`.
pub async fn read_multipart(mut mp: Multipart) -> AppResult<Posted> {
    let mut values = BTreeMap::new();
    let mut files = Vec::new();
    let unreadable = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest(format!("フォームの送信内容を読めません: {e}"))
        }
    };
    while let Some(field) = mp.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        if name.len() > 100 {
            return Err(AppError::BadRequest(
                "フォームの項目名が長すぎます。".into(),
            ));
        }
        if let Some(filename) = field.file_name().map(str::to_string) {
            let bytes = field.bytes().await.map_err(unreadable)?;
            if !filename.is_empty() && !bytes.is_empty() {
                files.push((name, filename, bytes.to_vec()));
            }
        } else {
            let text = field.text().await.map_err(unreadable)?;
            values.insert(name, text);
        }
    }
    Ok(Posted { values, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        answers: Answers,
        kind: Kind,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Answers {
        copies: u32,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Online,
        Counter,
    }

    fn field_error(body: &str) -> (String, String) {
        match parse_json::<Body>(body.as_bytes()) {
            Err(AppError::BadBody { fields, .. }) => {
                (fields[0].field.clone(), fields[0].message.clone())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_parse_failure_names_its_field_in_japanese() {
        assert_eq!(
            field_error(r#"{"answers": {"copies": "two"}, "kind": "online"}"#),
            (
                "answers.copies".into(),
                "「answers.copies」は整数にしてください。".into()
            )
        );
        assert_eq!(
            field_error(r#"{"answers": {"copies": 1}, "kind": "banana"}"#),
            (
                "kind".into(),
                "「kind」に「banana」は使えません（使える値：online, counter）。".into()
            )
        );
        assert_eq!(
            field_error(r#"{"answers": {}, "kind": "online"}"#),
            ("answers".into(), "「answers.copies」がありません。".into())
        );
        assert_eq!(
            field_error(r#"{"answers": {"copies": 1}, "kind": "online", "x": 1}"#),
            (
                "x".into(),
                "「x」という項目はありません（使える項目：answers, kind）。".into()
            )
        );
        let (field, message) = field_error("{\"answers\": ");
        assert_eq!(field, "body");
        assert!(
            message.starts_with("本文が JSON として読めません（1行目"),
            "{message}"
        );
        let (field, _) = field_error(r#"{"answers": {"copies": 1}, "kind": "online"} x"#);
        assert_eq!(field, "body", "trailing characters");
        assert!(parse_json::<Body>(br#"{"answers": {"copies": 1}, "kind": "counter"}"#).is_ok());
    }

    #[test]
    fn a_whole_number_with_a_point_is_an_integer() {
        for copies in ["3.0", "3e0", "30e-1"] {
            let body = format!(r#"{{"answers": {{"copies": {copies}}}, "kind": "online"}}"#);
            assert_eq!(
                parse_json::<Body>(body.as_bytes()).unwrap().answers.copies,
                3,
                "{copies}"
            );
        }
        assert_eq!(
            field_error(r#"{"answers": {"copies": 3.5}, "kind": "online"}"#).0,
            "answers.copies"
        );
        assert_eq!(
            field_error(r#"{"answers": {"copies": 1e30}, "kind": "online"}"#).0,
            "answers.copies"
        );
    }
}
