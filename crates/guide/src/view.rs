//! Small helpers the guide's pages share: content text in the reader's
//! language with its real language marked, and plain text as paragraphs.

use kernel::i18n::{self, Lang, Text};
use kernel::{AppResult, Db};

use crate::faq::{StoredFaq, CATEGORIES};
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

pub struct QuestionLink {
    pub id: i64,
    pub question: Localized,
}

pub struct CategoryGroup {
    pub code: &'static str,
    pub label: &'static str,
    pub items: Vec<QuestionLink>,
}

/// Entries grouped by category, in the categories' order.
pub fn group(items: &[StoredFaq], lang: Lang) -> Vec<CategoryGroup> {
    CATEGORIES
        .iter()
        .map(|code| CategoryGroup {
            code,
            label: category_label(lang, code),
            items: items
                .iter()
                .filter(|s| s.entry.category == *code)
                .map(|s| QuestionLink {
                    id: s.id,
                    question: localize(&s.entry.question, lang),
                })
                .collect(),
        })
        .filter(|g| !g.items.is_empty())
        .collect()
}

/// A related procedure, linked.
pub struct RelatedProcedure {
    pub id: String,
    pub name: Localized,
}

/// The related procedures of an entry that are still in the catalogue.
pub async fn related(
    db: &Db,
    tenant: &str,
    ids: &[String],
    lang: Lang,
) -> AppResult<Vec<RelatedProcedure>> {
    let catalogue = catalogue::store::list(db, tenant).await?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            catalogue
                .iter()
                .find(|s| &s.procedure.id == id)
                .map(|s| RelatedProcedure {
                    id: id.clone(),
                    name: localize(&s.procedure.name, lang),
                })
        })
        .collect())
}

/// Entry ids in paths: anything that is not a positive number is simply
/// not found.
pub fn parse_id(s: &str) -> AppResult<i64> {
    s.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or(kernel::AppError::NotFound("faq"))
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
