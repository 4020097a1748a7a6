//! Internationalisation. Japanese is the source language and always
//! complete; every other language falls back to Japanese key by key.
//! UI strings live in `locales/<lang>.toml` (nested tables, addressed with
//! dotted keys); content (procedure names, …) is carried as [`Text`].

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The language's own name, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Ja => "日本語",
            Lang::En => "English",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ja" | "ja-jp" => Some(Lang::Ja),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the first supported language of an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut langs: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        langs.sort_by(|a, b| b.0.total_cmp(&a.0));
        langs.iter().find_map(|(_, tag)| {
            let primary = tag.split('-').next().unwrap_or(tag);
            Lang::parse(primary)
        })
    }
}

/// Text in several languages; Japanese is required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct Text(BTreeMap<String, String>);

impl Text {
    pub fn ja_only(ja: impl Into<String>) -> Self {
        let mut m = BTreeMap::new();
        m.insert("ja".to_string(), ja.into());
        Self(m)
    }

    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> Self {
        let mut m = BTreeMap::new();
        m.insert("ja".to_string(), ja.into());
        let en = en.into();
        if !en.is_empty() {
            m.insert("en".to_string(), en);
        }
        Self(m)
    }

    pub fn ja(&self) -> &str {
        self.0.get("ja").map(String::as_str).unwrap_or_default()
    }

    /// The text in `lang`, or the Japanese if there is no translation.
    pub fn get(&self, lang: Lang) -> &str {
        self.0
            .get(lang.code())
            .filter(|s| !s.is_empty())
            .map(String::as_str)
            .unwrap_or_else(|| self.ja())
    }

    /// True if `lang` has its own translation (not the Japanese fallback).
    pub fn has(&self, lang: Lang) -> bool {
        self.0.get(lang.code()).is_some_and(|s| !s.is_empty())
    }

    /// Every non-empty translation, Japanese included (for search).
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0
            .values()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn get_exact(&self, lang: &str) -> Option<&str> {
        self.0.get(lang).map(String::as_str)
    }

    pub fn set(&mut self, lang: &str, value: impl Into<String>) {
        let v = value.into();
        if v.is_empty() && lang != "ja" {
            self.0.remove(lang);
        } else {
            self.0.insert(lang.to_string(), v);
        }
    }
}

impl TryFrom<BTreeMap<String, String>> for Text {
    type Error = String;
    fn try_from(m: BTreeMap<String, String>) -> Result<Self, String> {
        match m.get("ja") {
            Some(s) if !s.trim().is_empty() => Ok(Self(
                m.into_iter().map(|(k, v)| (k, jp::nfc(v.trim()))).collect(),
            )),
            _ => Err("日本語（ja）の文言が必要です".to_string()),
        }
    }
}

impl From<Text> for BTreeMap<String, String> {
    fn from(t: Text) -> Self {
        t.0
    }
}

type Catalog = HashMap<String, String>;

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalog) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

pub const SOURCES: [(Lang, &str); 2] = [
    (Lang::Ja, include_str!("../locales/ja.toml")),
    (Lang::En, include_str!("../locales/en.toml")),
];

pub fn parse_catalog(src: &str) -> Result<Catalog, String> {
    let table: toml::Table = toml::from_str(src).map_err(|e| e.to_string())?;
    let mut out = Catalog::new();
    flatten("", &table, &mut out);
    Ok(out)
}

fn catalogs() -> &'static HashMap<Lang, Catalog> {
    static C: OnceLock<HashMap<Lang, Catalog>> = OnceLock::new();
    C.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, src)| {
                let cat = parse_catalog(src)
                    .unwrap_or_else(|e| panic!("locale {} is not valid TOML: {e}", lang.code()));
                (*lang, cat)
            })
            .collect()
    })
}

/// Looks up a UI string; falls back to Japanese, then to the key itself
/// (which a test forbids from ever happening).
pub fn t(lang: Lang, key: &str) -> &'static str {
    let cats = catalogs();
    cats.get(&lang)
        .and_then(|c| c.get(key))
        .or_else(|| cats.get(&Lang::Ja).and_then(|c| c.get(key)))
        .map(String::as_str)
        .unwrap_or_else(|| {
            tracing::warn!(key, "missing i18n key");
            // Leak once per missing key is acceptable: it cannot happen in a
            // tested build.
            Box::leak(key.to_string().into_boxed_str())
        })
}

/// Looks up and fills `{name}` placeholders.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key).to_string();
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// Message for a `jp` parse error, naming the field.
pub fn parse_error(lang: Lang, field_label: &str, e: &jp::ParseError) -> String {
    let mut args: Vec<(&str, String)> = vec![("field", field_label.to_string())];
    for (k, v) in &e.args {
        let v = if *k == "what" {
            t(lang, &format!("jp.what.{v}")).to_string()
        } else {
            v.clone()
        };
        args.push((k, v));
    }
    let borrowed: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    tf(lang, &e.message_key(), &borrowed)
}

/// Every key of a language's catalogue (for completeness tests).
pub fn keys(lang: Lang) -> Vec<String> {
    let mut k: Vec<String> = catalogs()
        .get(&lang)
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key() {
        let ja = keys(Lang::Ja);
        for lang in Lang::ALL {
            let other = keys(lang);
            let missing: Vec<_> = ja.iter().filter(|k| !other.contains(k)).collect();
            let extra: Vec<_> = other.iter().filter(|k| !ja.contains(k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            assert!(
                extra.is_empty(),
                "{} has keys not in ja: {extra:?}",
                lang.code()
            );
        }
    }

    #[test]
    fn placeholders_match_across_languages() {
        let ja = catalogs().get(&Lang::Ja).unwrap();
        let holes = |s: &str| {
            let mut v: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_string()))
                .collect();
            v.sort();
            v
        };
        for lang in Lang::ALL {
            let cat = catalogs().get(&lang).unwrap();
            for (k, v) in ja {
                if let Some(o) = cat.get(k) {
                    assert_eq!(holes(v), holes(o), "{} {k}", lang.code());
                }
            }
        }
    }

    #[test]
    fn accept_language() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr;q=1, ja;q=0.5"),
            Some(Lang::Ja)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
    }

    #[test]
    fn text_requires_japanese() {
        let t: Text =
            serde_json::from_str(r#"{"ja":"住民票","en":"Residence certificate"}"#).unwrap();
        assert_eq!(t.get(Lang::En), "Residence certificate");
        let t: Text = serde_json::from_str(r#"{"ja":"住民票"}"#).unwrap();
        assert_eq!(t.get(Lang::En), "住民票");
        assert!(serde_json::from_str::<Text>(r#"{"en":"x"}"#).is_err());
    }

    #[test]
    fn jp_errors_have_messages() {
        for key in [
            "empty",
            "digits_only",
            "digit_count",
            "check_digit",
            "too_long",
            "phone.characters",
            "phone.country",
            "phone.leading_zero",
            "email.at",
            "email.format",
            "email.domain",
            "yen.too_large",
            "yen.negative",
            "yen.fraction",
            "name.characters",
            "kana.characters",
            "date.format",
            "date.month",
            "date.day",
            "date.too_early",
            "date.era_range",
            "fiscal_year.range",
            "fiscal_year.format",
            "fiscal_year.era_range",
        ] {
            for lang in Lang::ALL {
                assert!(
                    keys(lang).contains(&format!("jp.{key}")),
                    "{} jp.{key}",
                    lang.code()
                );
            }
        }
        let e = jp::PostalCode::parse("123").unwrap_err();
        assert_eq!(
            parse_error(Lang::Ja, "郵便番号", &e),
            "「郵便番号」は7桁で入力してください（いま3桁です）。"
        );
    }
}
