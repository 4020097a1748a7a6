//! Small helpers the guide's pages share: content text in the reader's
//! language with its real language marked, and plain text as paragraphs.

use kernel::i18n::{self, Lang, Text};
use serde::Serialize;

/// Content text in the reader's language, or the Japanese when there is no
/// translation; `lang` is the language the text is really in (for the
/// `lang` attribute) and `fallback` says the translation is missing.
#[derive(Clone, Debug, Serialize)]
pub struct Localized {
    pub text: String,
    pub lang: &'static str,
    pub fallback: bool,
}

pub fn localize(t: &Text, lang: Lang) -> Localized {
    if t.has(lang) {
        Localized {
            text: t.get(lang).to_string(),
            lang: lang.code(),
            fallback: false,
        }
    } else {
        Localized {
            text: t.ja().to_string(),
            lang: Lang::Ja.code(),
            fallback: lang != Lang::Ja,
        }
    }
}

/// Plain text as paragraphs (separated by an empty line), each a list of
/// lines. Templates escape every line: staff text is never markup.
pub fn paragraphs(s: &str) -> Vec<Vec<String>> {
    let normalised = s.replace("\r\n", "\n");
    normalised
        .split("\n\n")
        .map(|p| {
            p.lines()
                .map(str::trim_end)
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

pub fn category_label(lang: Lang, code: &str) -> &'static str {
    i18n::t(lang, &format!("faq.category.{code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_on_blank_lines() {
        assert_eq!(
            paragraphs("一行目\n二行目\r\n\r\n次の段落\n\n\n"),
            vec![
                vec!["一行目".to_string(), "二行目".into()],
                vec!["次の段落".into()]
            ]
        );
    }

    #[test]
    fn missing_translation_is_marked_japanese() {
        let t = Text::ja_only("住民票");
        let l = localize(&t, Lang::En);
        assert_eq!(
            (l.text.as_str(), l.lang, l.fallback),
            ("住民票", "ja", true)
        );
        let t = Text::new("住民票", "Residence certificate");
        let l = localize(&t, Lang::En);
        assert_eq!((l.lang, l.fallback), ("en", false));
    }
}
