//! 翻訳の状況: every entry of a tenant × every language but Japanese, with
//! its state, filtered by language and state, and counted per language.

use kernel::i18n::Lang;
use serde::Serialize;

use crate::marks::Marks;
use crate::model::{Entry, EntryKind, Mark, Review, State, LANGS};

/// What the overview shows: one language, one state, or all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub lang: Option<Lang>,
    pub state: Option<State>,
}

impl Filter {
    /// From the query's `language` and `state` ("" is all), or the
    /// Japanese message naming the field that is wrong.
    pub fn parse(lang: &str, state: &str) -> Result<Self, kernel::FieldError> {
        let lang = match lang.trim() {
            "" => None,
            s => Some(
                Lang::parse(s)
                    .filter(|l| LANGS.contains(l))
                    .ok_or_else(|| kernel::FieldError {
                        field: "language".into(),
                        message: "「言語」は一覧の中から選んでください（日本語以外の6言語）。"
                            .into(),
                    })?,
            ),
        };
        let state = match state.trim() {
            "" => None,
            s => Some(State::parse(s).ok_or_else(|| kernel::FieldError {
                field: "state".into(),
                message: "「状態」は一覧の中から選んでください（missing, machine_assisted, unreviewed, reviewed）。".into(),
            })?),
        };
        Ok(Self { lang, state })
    }
}

/// One entry's translation into one language.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    pub kind: EntryKind,
    pub id: String,
    /// The entry's Japanese title.
    pub title: String,
    pub lang: Lang,
    pub state: State,
    /// How many of the entry's texts lack the language.
    pub missing_fields: usize,
    /// How many texts the entry has.
    pub fields: usize,
    pub origin: Option<crate::model::Origin>,
    pub review: Option<Review>,
    pub edit_url: Option<String>,
}

/// How many translations into one language are in each state.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Count {
    pub lang: Lang,
    pub missing: usize,
    pub machine_assisted: usize,
    pub unreviewed: usize,
    pub reviewed: usize,
}

impl Count {
    fn add(&mut self, s: State) {
        match s {
            State::Missing => self.missing += 1,
            State::MachineAssisted => self.machine_assisted += 1,
            State::Unreviewed => self.unreviewed += 1,
            State::Reviewed => self.reviewed += 1,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Overview {
    /// Per language, over every entry (the filter does not change them).
    pub counts: Vec<Count>,
    pub entries: usize,
    pub lines: Vec<Line>,
}

pub fn line(e: &Entry, lang: Lang, mark: Option<&Mark>) -> Line {
    let missing = e.missing(lang);
    Line {
        kind: e.kind,
        id: e.id.clone(),
        title: e.title.ja().to_string(),
        lang,
        state: State::of(missing, mark),
        missing_fields: missing,
        fields: e.texts.len(),
        origin: mark.map(|m| m.origin),
        review: mark.and_then(|m| m.review.clone()),
        edit_url: e.edit_url.clone(),
    }
}

pub fn build(entries: &[Entry], marks: &Marks, filter: Filter) -> Overview {
    let mut counts: Vec<Count> = LANGS
        .iter()
        .map(|l| Count {
            lang: *l,
            ..Default::default()
        })
        .collect();
    let mut lines = Vec::new();
    for e in entries {
        for (i, lang) in LANGS.iter().enumerate() {
            let mark = marks.get(&(e.kind, e.id.clone(), *lang));
            let l = line(e, *lang, mark);
            counts[i].add(l.state);
            if filter.lang.is_none_or(|f| f == *lang) && filter.state.is_none_or(|f| f == l.state) {
                lines.push(l);
            }
        }
    }
    Overview {
        counts,
        entries: entries.len(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Owner};
    use kernel::i18n::Text;

    #[test]
    fn filters_by_language_and_state_and_counts_all() {
        let mut full = Text::ja_only("窓口");
        for l in LANGS {
            full.set(l.code(), "x");
        }
        let mut no_ko = full.clone();
        no_ko.set("ko", "");
        let entries = vec![
            Entry {
                kind: EntryKind::Counter,
                id: "a".into(),
                title: full.clone(),
                texts: vec![full.clone()],
                edit_url: None,
                owner: Owner::AnyEditor,
            },
            Entry {
                kind: EntryKind::Counter,
                id: "b".into(),
                title: no_ko.clone(),
                texts: vec![no_ko, full],
                edit_url: None,
                owner: Owner::AnyEditor,
            },
        ];
        let mut marks = Marks::new();
        marks.insert(
            (EntryKind::Counter, "a".into(), Lang::Ko),
            Mark {
                origin: Origin::MachineAssisted,
                review: None,
            },
        );
        let f = Filter::parse("ko", "missing").unwrap();
        let o = build(&entries, &marks, f);
        assert_eq!(o.lines.len(), 1);
        assert_eq!(o.lines[0].id, "b");
        assert_eq!((o.lines[0].missing_fields, o.lines[0].fields), (1, 2));
        let ko = o.counts.iter().find(|c| c.lang == Lang::Ko).unwrap();
        assert_eq!((ko.missing, ko.machine_assisted, ko.unreviewed), (1, 1, 0));
        let en = o.counts.iter().find(|c| c.lang == Lang::En).unwrap();
        assert_eq!(en.unreviewed, 2);
        assert_eq!(build(&entries, &marks, Filter::default()).lines.len(), 12);
        assert!(Filter::parse("ja", "").is_err());
        assert!(Filter::parse("", "done").is_err());
    }
}
