//! Internationalisation: seven languages ([`Lang`]). Japanese is the source
//! language and always complete; every other language falls back to
//! Japanese key by key (a test, `server/tests/it/locales.rs`, keeps every
//! file complete). UI strings live in `locales/<code>.toml` (nested tables,
//! addressed with dotted keys); content (procedure names, …) is carried as
//! [`Text`], shown through [`Shown`], which marks the Japanese standing in
//! for a missing translation.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// A language of the interface and of content. Japanese is the source;
/// やさしい日本語 (easy Japanese) is its own language with the private-use
/// code `ja-x-easy` (its pages say `lang="ja"`, which is what it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Lang {
    #[default]
    Ja,
    JaEasy,
    En,
    PtBr,
    Vi,
    ZhHans,
    Ko,
}

impl Lang {
    /// Every language, in the order of the language switch.
    pub const ALL: [Lang; 7] = [
        Lang::Ja,
        Lang::JaEasy,
        Lang::En,
        Lang::PtBr,
        Lang::Vi,
        Lang::ZhHans,
        Lang::Ko,
    ];

    /// The code of the language: its locale file, its key in [`Text`], the
    /// `mdg_lang` cookie and `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::JaEasy => "ja-x-easy",
            Lang::En => "en",
            Lang::PtBr => "pt-BR",
            Lang::Vi => "vi",
            Lang::ZhHans => "zh-Hans",
            Lang::Ko => "ko",
        }
    }

    /// A length limit set in Japanese characters, for a text in this
    /// language: the same for the languages written in kanji and kana,
    /// twice it for Korean, three times it for those spelled out in letters
    /// (a Japanese sentence of 100 characters is about 250 in Portuguese
    /// or Vietnamese).
    pub fn length_limit(self, japanese: usize) -> usize {
        match self {
            Lang::Ja | Lang::JaEasy | Lang::ZhHans => japanese,
            Lang::Ko => japanese * 2,
            Lang::En | Lang::PtBr | Lang::Vi => japanese * 3,
        }
    }

    /// The BCP 47 tag for `lang=` attributes. Easy Japanese is Japanese.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::JaEasy => "ja",
            other => other.code(),
        }
    }

    /// The language's own name, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Ja => "日本語",
            Lang::JaEasy => "やさしい にほんご",
            Lang::En => "English",
            Lang::PtBr => "Português (Brasil)",
            Lang::Vi => "Tiếng Việt",
            Lang::ZhHans => "简体中文",
            Lang::Ko => "한국어",
        }
    }

    /// Japanese script: furigana may be shown over its kanji.
    pub fn is_japanese(self) -> bool {
        matches!(self, Lang::Ja | Lang::JaEasy)
    }

    /// A language code or a common alias of one, in any case
    /// (`pt`, `pt-br`, `zh`, `zh-CN`, `ko-KR`, `easy`, …).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        Some(match s.as_str() {
            "ja" | "ja-jp" | "jpn" => Lang::Ja,
            "ja-x-easy" | "easy" | "ja-easy" | "easy-ja" | "yasashii" => Lang::JaEasy,
            "en" | "en-us" | "en-gb" | "en-au" | "en-ca" | "en-in" | "eng" => Lang::En,
            "pt" | "pt-br" | "pt-pt" | "por" => Lang::PtBr,
            "vi" | "vi-vn" | "vie" => Lang::Vi,
            "zh" | "zh-cn" | "zh-sg" | "zh-hans" | "zh-hans-cn" | "zh-hans-sg" | "zho" => {
                Lang::ZhHans
            }
            "ko" | "ko-kr" | "kor" => Lang::Ko,
            _ => return None,
        })
    }

    /// Picks the supported language a browser prefers most, from an
    /// `Accept-Language` header: a tag itself, else its primary language
    /// (`en-NZ` is English, `zh-TW` is the Chinese we have); `q=0` means
    /// "not this one".
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut langs: Vec<(f32, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse().ok())
                    .unwrap_or(1.0);
                (q > 0.0 && !tag.is_empty()).then_some((q, i, tag))
            })
            .collect();
        langs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        langs.iter().find_map(|(_, _, tag)| {
            Lang::parse(tag).or_else(|| Lang::parse(tag.split('-').next().unwrap_or(tag)))
        })
    }
}

impl Serialize for Lang {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Lang {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Lang::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown language {s}")))
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
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

    /// The text in `lang`, and whether it is the Japanese standing in for a
    /// missing translation (pages mark that, see [`Shown`]).
    pub fn get_or_ja(&self, lang: Lang) -> (&str, bool) {
        if lang == Lang::Ja || self.has(lang) {
            (self.get(lang), false)
        } else {
            (self.ja(), true)
        }
    }

    /// The text as a page in `lang` shows it (see [`Shown`]).
    pub fn shown(&self, lang: Lang) -> Shown {
        let (text, fallback) = self.get_or_ja(lang);
        Shown {
            text: text.to_string(),
            fallback: fallback.then_some(lang),
        }
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

    /// Every non-empty text with its language code, Japanese included.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(l, v)| (l.as_str(), v.as_str()))
            .filter(|(_, v)| !v.is_empty())
    }

    pub fn get_exact(&self, lang: &str) -> Option<&str> {
        self.0.get(lang).map(String::as_str)
    }

    /// Several texts joined language by language (Japanese first); a
    /// language missing in one text uses its Japanese there.
    pub fn join(texts: &[&Text], sep: &str) -> Text {
        let mut langs: Vec<Lang> = vec![Lang::Ja];
        for t in texts {
            for l in Lang::ALL {
                if t.has(l) && !langs.contains(&l) {
                    langs.push(l);
                }
            }
        }
        let mut out = Text::default();
        for l in langs {
            let parts: Vec<&str> = texts
                .iter()
                .map(|t| t.get(l))
                .filter(|s| !s.is_empty())
                .collect();
            out.set(l.code(), parts.join(sep));
        }
        out
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

/// Content text resolved for a page: the translation, or the Japanese
/// standing in for it. In a template, `{{ x }}` writes the Japanese inside
/// `<span lang="ja">` followed by a small label in the page's language
/// saying it is Japanese ("（日本語）", "Japanese only"); `{{ x.text }}`
/// is the bare text for attributes and titles.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Shown {
    pub text: String,
    /// The page's language, when the text is the Japanese fallback.
    pub fallback: Option<Lang>,
}

impl Shown {
    /// Text that is already in the page's language (never marked).
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            fallback: None,
        }
    }

    pub fn is_fallback(&self) -> bool {
        self.fallback.is_some()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Plain text with the marker in words, for places that hold no
    /// markup (`<option>`, attributes).
    pub fn label(&self) -> String {
        match self.fallback {
            None => self.text.clone(),
            Some(lang) => format!("{} {}", self.text, t(lang, "content.ja_only")),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

fn write_escaped(f: &mut std::fmt::Formatter<'_>, s: &str) -> std::fmt::Result {
    for c in s.chars() {
        match c {
            '<' => f.write_str("&lt;")?,
            '>' => f.write_str("&gt;")?,
            '&' => f.write_str("&amp;")?,
            '"' => f.write_str("&quot;")?,
            '\'' => f.write_str("&#39;")?,
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

/// HTML: escaped text, and for a fallback the `lang="ja"` span and label.
impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.fallback {
            None => write_escaped(f, &self.text),
            Some(lang) => {
                f.write_str("<span lang=\"ja\">")?;
                write_escaped(f, &self.text)?;
                f.write_str("</span><span class=\"ja-only\">")?;
                write_escaped(f, t(lang, "content.ja_only"))?;
                f.write_str("</span>")
            }
        }
    }
}

/// [`Shown`] writes its own escaped HTML.
impl askama::filters::HtmlSafe for Shown {}

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

/// The locale files, compiled in: `locales/<code>.toml`.
pub const SOURCES: [(Lang, &str); 7] = [
    (Lang::Ja, include_str!("../locales/ja.toml")),
    (Lang::JaEasy, include_str!("../locales/ja-x-easy.toml")),
    (Lang::En, include_str!("../locales/en.toml")),
    (Lang::PtBr, include_str!("../locales/pt-BR.toml")),
    (Lang::Vi, include_str!("../locales/vi.toml")),
    (Lang::ZhHans, include_str!("../locales/zh-Hans.toml")),
    (Lang::Ko, include_str!("../locales/ko.toml")),
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
        assert_eq!(
            Lang::from_accept_language("fr, pt-BR;q=0.8, en;q=0.5"),
            Some(Lang::PtBr)
        );
        assert_eq!(
            Lang::from_accept_language("zh-TW,zh;q=0.9"),
            Some(Lang::ZhHans)
        );
        assert_eq!(Lang::from_accept_language("vi-VN"), Some(Lang::Vi));
        assert_eq!(Lang::from_accept_language("ko-KR,ko;q=0.9"), Some(Lang::Ko));
        assert_eq!(
            Lang::from_accept_language("en;q=0, ja;q=0.1"),
            Some(Lang::Ja)
        );
        assert_eq!(Lang::from_accept_language("en-NZ, vi"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn codes_and_aliases() {
        let codes: Vec<&str> = Lang::ALL.iter().map(|l| l.code()).collect();
        assert_eq!(
            codes,
            ["ja", "ja-x-easy", "en", "pt-BR", "vi", "zh-Hans", "ko"]
        );
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
            assert_eq!(Lang::parse(&lang.code().to_uppercase()), Some(lang));
            assert_eq!(
                serde_json::to_string(&lang).unwrap(),
                format!("\"{}\"", lang.code())
            );
            assert_eq!(
                serde_json::from_str::<Lang>(&format!("\"{}\"", lang.code())).unwrap(),
                lang
            );
        }
        for (alias, lang) in [
            ("pt", Lang::PtBr),
            ("pt-br", Lang::PtBr),
            ("PT_BR", Lang::PtBr),
            ("zh", Lang::ZhHans),
            ("zh-CN", Lang::ZhHans),
            ("zh-hans", Lang::ZhHans),
            ("ko-KR", Lang::Ko),
            ("easy", Lang::JaEasy),
            ("JA-X-EASY", Lang::JaEasy),
            ("vi-VN", Lang::Vi),
            (" en-GB ", Lang::En),
        ] {
            assert_eq!(Lang::parse(alias), Some(lang), "{alias}");
        }
        for bad in ["", "fr", "zh-TW", "ja-x", "x", "<script>"] {
            assert_eq!(Lang::parse(bad), None, "{bad}");
        }
        assert!(serde_json::from_str::<Lang>("\"klingon\"").is_err());
        // The lang attribute is BCP 47 a screen reader knows.
        assert_eq!(Lang::JaEasy.html_lang(), "ja");
        assert_eq!(Lang::ZhHans.html_lang(), "zh-Hans");
    }

    #[test]
    fn fallback_is_marked() {
        let mut t: Text =
            serde_json::from_str(r#"{"ja":"住民票","en":"Residence certificate"}"#).unwrap();
        assert_eq!(t.get_or_ja(Lang::Ja), ("住民票", false));
        assert_eq!(t.get_or_ja(Lang::En), ("Residence certificate", false));
        assert_eq!(t.get_or_ja(Lang::Vi), ("住民票", true));
        assert_eq!(t.get_or_ja(Lang::JaEasy), ("住民票", true));
        assert_eq!(t.shown(Lang::En).to_string(), "Residence certificate");
        let vi = t.shown(Lang::Vi).to_string();
        assert!(
            vi.starts_with("<span lang=\"ja\">住民票</span><span class=\"ja-only\">"),
            "{vi}"
        );
        assert!(vi.contains(super::t(Lang::Vi, "content.ja_only")), "{vi}");
        t.set("vi", "Giấy chứng nhận cư trú");
        assert_eq!(t.get_or_ja(Lang::Vi), ("Giấy chứng nhận cư trú", false));
        t.set("vi", "");
        assert!(!t.has(Lang::Vi));
        // Escaped, fallback or not.
        let evil = Text::ja_only("<b>&\"'");
        assert_eq!(
            evil.shown(Lang::Ja).to_string(),
            "&lt;b&gt;&amp;&quot;&#39;"
        );
        assert!(evil
            .shown(Lang::Ko)
            .to_string()
            .contains(">&lt;b&gt;&amp;&quot;&#39;<"));
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
