//! The editor page's rows: every text in every language, the selects of
//! questions, procedures and counters, and the version history, each
//! field named as the form posts it (`q0_text_ja`, `i2_counter` …).

use std::collections::BTreeMap;

use kernel::i18n::{self, Lang};
use kernel::web::{Choice, FormErrors};

use crate::editor::{Draft, DraftItem};
use crate::store::VersionInfo;
use crate::workspace::Workspace;

pub struct TextInput {
    pub name: String,
    pub label: String,
    pub value: String,
    pub error: String,
    pub multiline: bool,
}

/// One text in every language: Japanese shown, the others folded (open
/// when one has a value or an error).
pub struct TextGroup {
    pub ja: TextInput,
    pub others: Vec<TextInput>,
    pub open: bool,
    pub label: String,
}

pub struct Select {
    pub name: String,
    pub label: String,
    pub error: String,
    pub options: Vec<Choice>,
}

pub struct QuestionRow {
    pub index: usize,
    pub number: usize,
    pub code: TextInput,
    pub text: TextGroup,
    pub hint: TextGroup,
    pub last: bool,
}

pub struct ItemRow {
    pub index: usize,
    pub number: usize,
    pub procedure: Select,
    pub when: Select,
    pub unless: Select,
    pub counter: Select,
    pub deadline: TextGroup,
    pub note: TextGroup,
    pub last: bool,
}

pub struct HistoryRow {
    pub version: i64,
    pub at: String,
    pub by: String,
    pub how: String,
    pub current: bool,
}

pub fn group(
    errors: &FormErrors,
    texts: &BTreeMap<String, String>,
    base: &str,
    label: &str,
    multiline: bool,
) -> TextGroup {
    let input = |lang: Lang| {
        let name = format!("{base}_{}", lang.code());
        TextInput {
            label: format!("{label}（{}）", lang.native_name()),
            value: texts.get(lang.code()).cloned().unwrap_or_default(),
            error: errors.get(&name).to_string(),
            multiline,
            name,
        }
    };
    let others: Vec<TextInput> = Lang::ALL
        .iter()
        .filter(|l| **l != Lang::Ja)
        .map(|l| input(*l))
        .collect();
    TextGroup {
        open: others
            .iter()
            .any(|o| !o.error.is_empty() || !o.value.trim().is_empty()),
        ja: input(Lang::Ja),
        others,
        label: label.to_string(),
    }
}

/// Builds the editor's rows for one draft.
pub struct Rows<'a> {
    pub draft: &'a Draft,
    pub ws: &'a Workspace,
    pub errors: &'a FormErrors,
    pub lang: Lang,
}

impl Rows<'_> {
    pub fn code(&self) -> TextInput {
        TextInput {
            name: "code".into(),
            label: i18n::t(self.lang, "staff.navi.code").into(),
            value: self.draft.code.clone(),
            error: self.errors.get("code").to_string(),
            multiline: false,
        }
    }

    pub fn questions(&self) -> Vec<QuestionRow> {
        let (d, lang, errors) = (self.draft, self.lang, self.errors);
        d.questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let n = i + 1;
                let label = |key: &str| {
                    format!(
                        "{}：{}",
                        i18n::tf(lang, "staff.navi.question_n", &[("n", &n.to_string())]),
                        i18n::t(lang, key)
                    )
                };
                QuestionRow {
                    index: i,
                    number: n,
                    code: TextInput {
                        name: format!("q{i}_code"),
                        label: label("staff.navi.question_code"),
                        value: q.code.clone(),
                        error: errors.get(&format!("q{i}_code")).to_string(),
                        multiline: false,
                    },
                    text: group(
                        errors,
                        &q.text,
                        &format!("q{i}_text"),
                        &label("staff.navi.question_text"),
                        false,
                    ),
                    hint: group(
                        errors,
                        &q.hint,
                        &format!("q{i}_hint"),
                        &label("staff.navi.question_hint"),
                        true,
                    ),
                    last: i + 1 == d.questions.len(),
                }
            })
            .collect()
    }

    pub fn items(&self) -> Vec<ItemRow> {
        let d = self.draft;
        d.items
            .iter()
            .enumerate()
            .map(|(i, it)| self.item(i, it, i + 1 == d.items.len()))
            .collect()
    }

    fn item(&self, i: usize, it: &DraftItem, last: bool) -> ItemRow {
        let (lang, errors) = (self.lang, self.errors);
        let name = |f: &str| format!("i{i}_{f}");
        let n = i + 1;
        let label = |key: &str| {
            format!(
                "{}：{}",
                i18n::tf(lang, "staff.navi.item_n", &[("n", &n.to_string())]),
                i18n::t(lang, key)
            )
        };
        let select = |f: &str, key: &str, options| Select {
            name: name(f),
            label: label(key),
            error: errors.get(&name(f)).to_string(),
            options,
        };
        ItemRow {
            index: i,
            number: n,
            procedure: select("procedure", "staff.navi.procedure", self.procedures(it)),
            when: select("when", "staff.navi.when", self.question_options(&it.when)),
            unless: select(
                "unless",
                "staff.navi.unless",
                self.question_options(&it.unless),
            ),
            counter: select("counter", "staff.navi.counter", self.counters(it)),
            deadline: group(
                errors,
                &it.deadline,
                &name("deadline"),
                &label("staff.navi.deadline"),
                false,
            ),
            note: group(
                errors,
                &it.note,
                &name("note"),
                &label("staff.navi.note"),
                true,
            ),
            last,
        }
    }

    fn dept_name(&self, code: &str) -> String {
        self.ws
            .profile
            .department(code)
            .map(|d| d.name.get(self.lang).to_string())
            .unwrap_or_else(|| code.to_string())
    }

    /// The draft's questions as conditions (a code no longer among them
    /// is kept, marked missing).
    fn question_options(&self, value: &Option<String>) -> Vec<Choice> {
        let lang = self.lang;
        let mut o = vec![
            Choice::new("", i18n::t(lang, "staff.navi.no_condition")).selected(value.is_none())
        ];
        for (i, q) in self.draft.questions.iter().enumerate() {
            let qc = q.code.trim();
            if qc.is_empty() {
                continue;
            }
            let label = format!(
                "{} {}：{}",
                i18n::tf(
                    lang,
                    "staff.navi.question_n",
                    &[("n", &(i + 1).to_string())]
                ),
                qc,
                q.text.get("ja").map(String::as_str).unwrap_or_default()
            );
            o.push(Choice::new(qc, label).selected(value.as_deref() == Some(qc)));
        }
        if let Some(v) = value {
            if !o.iter().any(|c| &c.value == v) {
                let missing = i18n::tf(lang, "staff.navi.missing_question", &[("code", v)]);
                o.push(Choice::new(v, missing).selected(true));
            }
        }
        o
    }

    /// The catalogue's procedures (one no longer there is kept, marked).
    fn procedures(&self, it: &DraftItem) -> Vec<Choice> {
        let lang = self.lang;
        let pid = it.procedure.trim();
        let mut o =
            vec![Choice::new("", i18n::t(lang, "staff.navi.choose")).selected(pid.is_empty())];
        o.extend(self.ws.catalogue.iter().map(|c| {
            Choice::new(
                &c.id,
                format!("{}（{}）", c.name, self.dept_name(&c.department)),
            )
            .selected(c.id == pid)
        }));
        if !pid.is_empty() && !self.ws.catalogue.iter().any(|c| c.id == pid) {
            let missing = i18n::tf(lang, "staff.navi.missing_procedure", &[("id", pid)]);
            o.push(Choice::new(pid, missing).selected(true));
        }
        o
    }

    /// The tenant's counters (an unknown one is kept as it was typed).
    fn counters(&self, it: &DraftItem) -> Vec<Choice> {
        let lang = self.lang;
        let profile = &self.ws.profile;
        let mut o = vec![Choice::new("", i18n::t(lang, "staff.navi.default_counter"))
            .selected(it.counter.is_none())];
        o.extend(profile.counters.iter().map(|c| {
            Choice::new(
                &c.code,
                format!("{}（{}）", c.name.get(lang), self.dept_name(&c.department)),
            )
            .selected(it.counter.as_deref() == Some(c.code.as_str()))
        }));
        if let Some(c) = &it.counter {
            if profile.counter(c).is_none() {
                o.push(Choice::new(c, c).selected(true));
            }
        }
        o
    }
}

/// The published versions, the live one marked.
pub fn history_rows(history: &[VersionInfo], live_version: i64, lang: Lang) -> Vec<HistoryRow> {
    history
        .iter()
        .map(|h| HistoryRow {
            version: h.version,
            at: kernel::clock::format_in(lang, h.published_at),
            by: h.published_by.clone(),
            how: match h.restored_from {
                Some(v) => i18n::tf(
                    lang,
                    "staff.navi.origin.restore",
                    &[("version", &v.to_string())],
                ),
                None => i18n::t(
                    lang,
                    if h.origin == "initial" {
                        "staff.navi.origin.initial"
                    } else {
                        "staff.navi.origin.publish"
                    },
                )
                .to_string(),
            },
            current: h.version == live_version,
        })
        .collect()
}
