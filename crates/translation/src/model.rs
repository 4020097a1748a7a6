//! What is translated (an [`Entry`] of some [`EntryKind`]) and what is
//! known of each of its translations (a [`Mark`]).

use kernel::i18n::{Lang, Text};
use serde::Serialize;

/// The languages content is translated into: every language but Japanese,
/// the source.
pub const LANGS: [Lang; 6] = [
    Lang::JaEasy,
    Lang::En,
    Lang::PtBr,
    Lang::Vi,
    Lang::ZhHans,
    Lang::Ko,
];

/// What kind of content an entry is. Its code is stored
/// (`translation_marks.entry_kind`) and used in paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The city's own texts (name, prefecture, address, office hours).
    City,
    Department,
    Counter,
    Procedure,
    /// A 手続ナビ questionnaire.
    LifeEvent,
    Faq,
}

impl EntryKind {
    pub const ALL: [EntryKind; 6] = [
        EntryKind::City,
        EntryKind::Department,
        EntryKind::Counter,
        EntryKind::Procedure,
        EntryKind::LifeEvent,
        EntryKind::Faq,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::City => "city",
            EntryKind::Department => "department",
            EntryKind::Counter => "counter",
            EntryKind::Procedure => "procedure",
            EntryKind::LifeEvent => "life_event",
            EntryKind::Faq => "faq",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who may mark an entry's translations reviewed: a department's
/// administrators (the rule of its editor), or any content editor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    Department(String),
    AnyEditor,
}

/// One entry of content with every text of it that is translated.
#[derive(Clone, Debug)]
pub struct Entry {
    pub kind: EntryKind,
    pub id: String,
    pub title: Text,
    /// Each translated text of the entry (a procedure's name, description,
    /// processing time and each document …).
    pub texts: Vec<Text>,
    /// The staff editor of the entry, if it has one in the application.
    pub edit_url: Option<String>,
    pub owner: Owner,
}

impl Entry {
    /// How many of the entry's texts lack `lang` (an entry lacks a
    /// language if any of its texts lacks it).
    pub fn missing(&self, lang: Lang) -> usize {
        self.texts.iter().filter(|t| !t.has(lang)).count()
    }

    /// The texts of one language, in order (empty where missing): what a
    /// save compares to see whether that language's translation changed.
    pub fn texts_in(&self, lang: Lang) -> Vec<&str> {
        self.texts
            .iter()
            .map(|t| t.get_exact(lang.code()).unwrap_or_default())
            .collect()
    }
}

/// Where a translation came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written with machine assistance (the demo's translations).
    MachineAssisted,
    /// Saved by staff in an editor.
    Staff,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::MachineAssisted => "machine_assisted",
            Origin::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "machine_assisted" => Some(Origin::MachineAssisted),
            "staff" => Some(Origin::Staff),
            _ => None,
        }
    }
}

/// Who reviewed a translation and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Review {
    /// The staff account (`staff:<id>`).
    pub by: String,
    /// The member of staff's name when they reviewed it.
    pub by_name: String,
    /// Milliseconds since the epoch.
    pub at: i64,
}

/// What is recorded of one translation (entry × language).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mark {
    pub origin: Origin,
    pub review: Option<Review>,
}

/// The state of one entry's translation into one language, as the overview
/// and the editors show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// At least one of the entry's texts lacks the language.
    Missing,
    /// Complete, written with machine assistance, not reviewed.
    MachineAssisted,
    /// Complete, saved by staff (or of unknown origin), not reviewed.
    Unreviewed,
    /// Complete and reviewed by a member of staff.
    Reviewed,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Missing,
        State::MachineAssisted,
        State::Unreviewed,
        State::Reviewed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Missing => "missing",
            State::MachineAssisted => "machine_assisted",
            State::Unreviewed => "unreviewed",
            State::Reviewed => "reviewed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The state of a translation with `missing` texts lacking it.
    pub fn of(missing: usize, mark: Option<&Mark>) -> Self {
        match mark {
            _ if missing > 0 => State::Missing,
            Some(Mark {
                review: Some(_), ..
            }) => State::Reviewed,
            Some(Mark {
                origin: Origin::MachineAssisted,
                ..
            }) => State::MachineAssisted,
            _ => State::Unreviewed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(origin: Origin, reviewed: bool) -> Mark {
        Mark {
            origin,
            review: reviewed.then(|| Review {
                by: "staff:a".into(),
                by_name: "A".into(),
                at: 1,
            }),
        }
    }

    #[test]
    fn state_of_a_translation() {
        let m = mark(Origin::MachineAssisted, false);
        assert_eq!(State::of(1, Some(&m)), State::Missing);
        assert_eq!(State::of(0, Some(&m)), State::MachineAssisted);
        assert_eq!(
            State::of(0, Some(&mark(Origin::MachineAssisted, true))),
            State::Reviewed
        );
        assert_eq!(
            State::of(0, Some(&mark(Origin::Staff, false))),
            State::Unreviewed
        );
        assert_eq!(State::of(0, None), State::Unreviewed);
    }

    #[test]
    fn codes_round_trip() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(EntryKind::parse("tenant"), None);
    }

    #[test]
    fn an_entry_lacks_a_language_if_any_text_lacks_it() {
        let mut a = Text::ja_only("名前");
        a.set("ko", "이름");
        let e = Entry {
            kind: EntryKind::Counter,
            id: "1".into(),
            title: a.clone(),
            texts: vec![a, Text::ja_only("説明")],
            edit_url: None,
            owner: Owner::AnyEditor,
        };
        assert_eq!(e.missing(Lang::Ko), 1);
        assert_eq!(e.missing(Lang::En), 2);
        assert_eq!(e.texts_in(Lang::Ko), vec!["이름", ""]);
    }
}
