use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;
use crate::kana::{is_reading_char, normalize_reading};
use crate::normalize::nfc;

const MAX_NAME_CHARS: usize = 100;

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Collapses runs of spaces (ASCII or ideographic) into one ideographic
/// space and trims both ends.
fn tidy_spaces(s: &str) -> String {
    s.split([' ', '\u{3000}', '\t'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\u{3000}")
}

/// A person's name as written (氏名): NFC, spaces tidied, letters of any
/// script (漢字, かな, Latin for foreign residents), `・`, `.`, `'`, `-`
/// and ideographic variation selectors, so 異体字 such as 辻󠄀 (IVS) are kept.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Kanji(String);

/// フリガナ: katakana only; hiragana and half-width input are converted.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Kana(String);

impl Kanji {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = tidy_spaces(&nfc(input));
        if s.is_empty() {
            return Err(ParseError::new("empty").with("what", "name"));
        }
        if s.chars().count() > MAX_NAME_CHARS {
            return Err(ParseError::new("too_long").with("max", MAX_NAME_CHARS));
        }
        if let Some(bad) = s.chars().find(|&c| {
            !(c.is_alphabetic()
                || c == '\u{3000}'
                || is_variation_selector(c)
                || matches!(c, '・' | '.' | '\'' | '-' | 'ー' | '〆'))
        }) {
            let shown = if bad.is_control() { '?' } else { bad };
            return Err(ParseError::new("name.characters").with("char", shown));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Kana {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = tidy_spaces(&normalize_reading(input));
        if s.is_empty() {
            return Err(ParseError::new("empty").with("what", "kana"));
        }
        if s.chars().count() > MAX_NAME_CHARS {
            return Err(ParseError::new("too_long").with("max", MAX_NAME_CHARS));
        }
        if let Some(bad) = s.chars().find(|&c| !is_reading_char(c)) {
            let shown = if bad.is_control() { '?' } else { bad };
            return Err(ParseError::new("kana.characters").with("char", shown));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                Self::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self.0)
            }
        }
    };
}
string_newtype!(Kanji);
string_newtype!(Kana);

/// 氏名 with its フリガナ.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonName {
    pub name: Kanji,
    pub kana: Kana,
}

impl PersonName {
    pub fn parse(name: &str, kana: &str) -> Result<Self, (Option<ParseError>, Option<ParseError>)> {
        match (Kanji::parse(name), Kana::parse(kana)) {
            (Ok(name), Ok(kana)) => Ok(Self { name, kana }),
            (n, k) => Err((n.err(), k.err())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names() {
        assert_eq!(
            Kanji::parse(" 山田  太郎 ").unwrap().as_str(),
            "山田\u{3000}太郎"
        );
        assert_eq!(
            Kanji::parse("SMITH John").unwrap().as_str(),
            "SMITH\u{3000}John"
        );
        assert_eq!(
            Kanji::parse("佐々木 〆子").unwrap().as_str(),
            "佐々木\u{3000}〆子"
        );
        // 辻 with IVS U+E0100 (一点しんにょう) must survive unchanged.
        let ivs = "\u{8FBB}\u{E0100}\u{3000}花子";
        assert_eq!(Kanji::parse(ivs).unwrap().as_str(), ivs);
        // Decomposed が (か + U+3099) is composed by NFC.
        assert_eq!(Kanji::parse("か\u{3099}").unwrap().as_str(), "が");
        assert_eq!(Kanji::parse("山田1").unwrap_err().key, "name.characters");
        assert_eq!(Kanji::parse("<script>").unwrap_err().key, "name.characters");
        assert_eq!(Kanji::parse("   ").unwrap_err().key, "empty");
    }

    #[test]
    fn kana() {
        assert_eq!(
            Kana::parse("やまだ　たろう").unwrap().as_str(),
            "ヤマダ\u{3000}タロウ"
        );
        assert_eq!(
            Kana::parse("ﾔﾏﾀﾞ ﾀﾛｳ").unwrap().as_str(),
            "ヤマダ\u{3000}タロウ"
        );
        assert_eq!(Kana::parse("山田").unwrap_err().key, "kana.characters");
        let e = PersonName::parse("", "やまだ").unwrap_err();
        assert!(e.0.is_some() && e.1.is_none());
    }

    proptest! {
        #[test]
        fn hiragana_always_becomes_katakana(s in "[ぁ-ゖ]{1,20}") {
            let k = Kana::parse(&s).unwrap();
            let all_katakana = k.as_str().chars().all(|c| ('\u{30A1}'..='\u{30FA}').contains(&c));
            prop_assert!(all_katakana);
            prop_assert_eq!(k.as_str().chars().count(), s.chars().count());
        }

        #[test]
        fn parse_is_idempotent(s in "\\PC{0,30}") {
            if let Ok(n) = Kanji::parse(&s) {
                prop_assert_eq!(Kanji::parse(n.as_str()).unwrap(), n);
            }
            if let Ok(k) = Kana::parse(&s) {
                prop_assert_eq!(Kana::parse(k.as_str()).unwrap(), k);
            }
        }
    }
}
