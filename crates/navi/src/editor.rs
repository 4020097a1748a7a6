//! 手続ナビの編集 (the back-office editor of the navigator's
//! questionnaires), without HTTP: the editor's state as staff type it (a
//! [`Draft`], which may be wrong), the whole-form operations (add, remove,
//! move a question or a procedure), the validation that turns a draft into
//! a [`LifeEventBundle`] or names every mistake in Japanese, and who may
//! publish a change.

use std::collections::{BTreeMap, BTreeSet};

use kernel::i18n::Lang;
use kernel::tenant::{is_question_code, is_slug, LifeEventBundle, TenantProfile};
use serde::{Deserialize, Serialize};

/// Text in each language, as typed (language code → value).
pub type Texts = BTreeMap<String, String>;

pub const MAX_QUESTIONS: usize = 30;
pub const MAX_ITEMS: usize = 60;
const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 400;
const MAX_QUESTION: usize = 200;
const MAX_HINT: usize = 400;
const MAX_DEADLINE: usize = 100;
const MAX_NOTE: usize = 400;

/// A life event as the editor holds it: the same shape as
/// [`LifeEventBundle`] (so the JSON API takes a bundle as it is), but any
/// text may be missing or wrong until [`validate`] passes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: Texts,
    #[serde(default)]
    pub description: Texts,
    #[serde(default)]
    pub questions: Vec<DraftQuestion>,
    #[serde(default)]
    pub items: Vec<DraftItem>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftQuestion {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub text: Texts,
    #[serde(default)]
    pub hint: Texts,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftItem {
    #[serde(default)]
    pub procedure: String,
    #[serde(default)]
    pub when: Option<String>,
    #[serde(default)]
    pub unless: Option<String>,
    #[serde(default)]
    pub counter: Option<String>,
    #[serde(default)]
    pub deadline: Texts,
    #[serde(default)]
    pub note: Texts,
}

impl Draft {
    pub fn from_bundle(b: &LifeEventBundle) -> Self {
        let v = serde_json::to_value(b).unwrap_or_default();
        serde_json::from_value(v).unwrap_or_default()
    }

    /// The editor's form (`name_ja`, `q0_code`, `q0_text_en`, `i2_when`, …)
    /// read back into a draft. Rows beyond the limits are dropped and
    /// reported.
    pub fn from_form(form: &[(String, String)]) -> (Self, Vec<Problem>) {
        let mut d = Draft::default();
        let mut problems = Vec::new();
        let (mut too_many_q, mut too_many_i) = (false, false);
        // Each question's code when the form was shown (`q0_was`): a
        // question renamed in the form keeps its conditions.
        let mut was: BTreeMap<usize, String> = BTreeMap::new();
        for (k, v) in form {
            if k == "code" {
                d.code = v.clone();
            } else if let Some(l) = lang_of(k, "name_") {
                d.name.insert(l, v.clone());
            } else if let Some(l) = lang_of(k, "description_") {
                d.description.insert(l, v.clone());
            } else if let Some((i, field)) = row(k, 'q') {
                if i >= MAX_QUESTIONS {
                    too_many_q = true;
                } else if field == "was" {
                    was.insert(i, v.trim().to_string());
                } else {
                    d.question_mut(i).set(field, v);
                }
            } else if let Some((i, field)) = row(k, 'i') {
                if i >= MAX_ITEMS {
                    too_many_i = true;
                } else {
                    d.item_mut(i).set(field, v);
                }
            }
        }
        d.follow_renamed_questions(was);
        if too_many_q {
            problems.push(Problem::new(
                "questions",
                "questions",
                format!("質問は{MAX_QUESTIONS}個までです。"),
            ));
        }
        if too_many_i {
            problems.push(Problem::new(
                "items",
                "items",
                format!("手続は{MAX_ITEMS}件までです。"),
            ));
        }
        (d, problems)
    }

    fn question_mut(&mut self, i: usize) -> &mut DraftQuestion {
        while self.questions.len() <= i {
            self.questions.push(DraftQuestion::default());
        }
        &mut self.questions[i]
    }

    fn item_mut(&mut self, i: usize) -> &mut DraftItem {
        while self.items.len() <= i {
            self.items.push(DraftItem::default());
        }
        &mut self.items[i]
    }

    /// Conditions naming a question whose code was changed in the form
    /// follow it to its new code.
    fn follow_renamed_questions(&mut self, was: BTreeMap<usize, String>) {
        for (i, old) in was {
            let Some(new) = self.questions.get(i).map(|q| q.code.trim().to_string()) else {
                continue;
            };
            let taken = self.questions.iter().any(|q| q.code.trim() == old);
            if old.is_empty() || new.is_empty() || new == old || taken {
                continue;
            }
            for it in &mut self.items {
                for c in [&mut it.when, &mut it.unless] {
                    if c.as_deref() == Some(old.as_str()) {
                        *c = Some(new.clone());
                    }
                }
            }
        }
    }

    /// Applies a whole-form operation (`add_question`, `remove_item-2`,
    /// `up_question-1`, …). Returns false for anything else.
    pub fn apply(&mut self, op: &str) -> bool {
        let (verb, index) = match op.split_once('-') {
            Some((v, i)) => match i.parse::<usize>() {
                Ok(i) => (v, Some(i)),
                Err(_) => return false,
            },
            None => (op, None),
        };
        fn shift<T>(v: &mut [T], i: usize, up: bool) {
            if up && i > 0 && i < v.len() {
                v.swap(i - 1, i);
            } else if !up && i + 1 < v.len() {
                v.swap(i, i + 1);
            }
        }
        match (verb, index) {
            ("add_question", None) if self.questions.len() < MAX_QUESTIONS => {
                // A code at once, so that procedures can use the question
                // right away; renaming it later keeps their conditions.
                let code = (self.questions.len() + 1..)
                    .map(|n| format!("question_{n}"))
                    .find(|c| !self.questions.iter().any(|q| q.code.trim() == c))
                    .unwrap_or_default();
                self.questions.push(DraftQuestion {
                    code,
                    ..Default::default()
                })
            }
            ("add_item", None) if self.items.len() < MAX_ITEMS => {
                self.items.push(DraftItem::default())
            }
            ("remove_question", Some(i)) if i < self.questions.len() => {
                self.questions.remove(i);
            }
            ("remove_item", Some(i)) if i < self.items.len() => {
                self.items.remove(i);
            }
            ("up_question", Some(i)) => shift(&mut self.questions, i, true),
            ("down_question", Some(i)) => shift(&mut self.questions, i, false),
            ("up_item", Some(i)) => shift(&mut self.items, i, true),
            ("down_item", Some(i)) => shift(&mut self.items, i, false),
            _ => return false,
        }
        true
    }
}

/// `q3_text_en` → (3, "text_en").
fn row(key: &str, prefix: char) -> Option<(usize, &str)> {
    let rest = key.strip_prefix(prefix)?;
    let (n, field) = rest.split_once('_')?;
    if n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((n.parse().ok()?, field))
}

/// One mistake: the field as the editor's form names it (`q0_code`), as
/// the JSON API names it (`questions[0].code`), and the message.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub form: String,
    pub api: String,
    pub message: String,
}

impl Problem {
    fn new(form: impl Into<String>, api: impl Into<String>, message: String) -> Self {
        Self {
            form: form.into(),
            api: api.into(),
            message,
        }
    }

    pub fn for_form(problems: &[Problem]) -> Vec<kernel::FieldError> {
        problems
            .iter()
            .map(|p| kernel::FieldError {
                field: p.form.clone(),
                message: p.message.clone(),
            })
            .collect()
    }

    pub fn for_api(problems: &[Problem]) -> Vec<kernel::FieldError> {
        problems
            .iter()
            .map(|p| kernel::FieldError {
                field: p.api.clone(),
                message: p.message.clone(),
            })
            .collect()
    }
}

/// A procedure of the tenant's catalogue, as the editor offers it.
#[derive(Clone, Debug)]
pub struct CatalogueEntry {
    pub id: String,
    pub department: String,
    pub name: String,
}

/// What a draft is checked against.
pub struct Context<'a> {
    pub profile: &'a TenantProfile,
    pub catalogue: &'a [CatalogueEntry],
    /// Creating a life event (its code must be new).
    pub is_new: bool,
}

fn lang_label(code: &str) -> &'static str {
    Lang::parse(code).map(Lang::native_name).unwrap_or("?")
}

/// Checks one text in every language: Japanese required (or, for optional
/// texts, required as soon as another language is given), lengths, no
/// control characters, no unknown language.
fn check_texts(
    out: &mut Vec<Problem>,
    texts: &Texts,
    label: &str,
    form: &str,
    api: &str,
    max: usize,
    required: bool,
) {
    for (lang, value) in texts {
        if Lang::parse(lang).map(Lang::code) != Some(lang.as_str()) {
            out.push(Problem::new(
                format!("{form}_ja"),
                format!("{api}.{lang}"),
                format!("「{label}」の言語「{lang}」には対応していません（ja, en など）。"),
            ));
            continue;
        }
        let name = format!("{label}（{}）", lang_label(lang));
        let v = value.trim();
        let chars = v.chars().count();
        let max = Lang::parse(lang).map_or(max, |l| l.length_limit(max));
        if chars > max {
            out.push(Problem::new(
                format!("{form}_{lang}"),
                format!("{api}.{lang}"),
                format!("「{name}」は{max}文字以内で入力してください（いま{chars}文字です）。"),
            ));
        } else if v
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            out.push(Problem::new(
                format!("{form}_{lang}"),
                format!("{api}.{lang}"),
                format!("「{name}」に使えない文字（制御文字）が含まれています。"),
            ));
        }
    }
    let ja_empty = texts.get("ja").is_none_or(|v| v.trim().is_empty());
    let others = texts.iter().any(|(l, v)| l != "ja" && !v.trim().is_empty());
    if ja_empty && (required || others) {
        let why = if required {
            ""
        } else {
            "（ほかの言語だけでは表示できません）"
        };
        out.push(Problem::new(
            format!("{form}_ja"),
            format!("{api}.ja"),
            format!("「{label}（日本語）」を入力してください{why}。"),
        ));
    }
}

/// The text as stored: trimmed, empty translations dropped; `None` when
/// there is no Japanese.
fn to_text(texts: &Texts) -> Option<kernel::i18n::Text> {
    let ja = texts.get("ja").map(|s| s.trim()).unwrap_or_default();
    if ja.is_empty() {
        return None;
    }
    let mut t = kernel::i18n::Text::ja_only(jp::nfc(ja));
    for (l, v) in texts {
        if l != "ja" && !v.trim().is_empty() {
            t.set(l, jp::nfc(v.trim()));
        }
    }
    Some(t)
}

/// Turns a draft into a bundle, or names every mistake.
pub fn validate(d: &Draft, cx: &Context<'_>) -> Result<LifeEventBundle, Vec<Problem>> {
    let mut out = Vec::new();
    let code = d.code.trim();
    check_code(&mut out, code, cx);
    check_texts(&mut out, &d.name, "名称", "name", "name", MAX_NAME, true);
    check_texts(
        &mut out,
        &d.description,
        "説明",
        "description",
        "description",
        MAX_DESCRIPTION,
        false,
    );
    let questions = check_questions(&mut out, d);
    check_items(&mut out, d, cx);
    check_unused_questions(&mut out, d, &questions);
    if !out.is_empty() {
        return Err(out);
    }
    let bundle = bundle_of(d, code);
    check_profile(&bundle, cx)?;
    Ok(bundle)
}

fn check_code(out: &mut Vec<Problem>, code: &str, cx: &Context<'_>) {
    let message = if code.is_empty() {
        "「コード」を入力してください（例：moving-in）。".to_string()
    } else if !is_slug(code) {
        format!("「コード」は英小文字・数字・ハイフンで、64文字以内で入力してください（例：moving-in）。いま「{}」です。", truncate(code))
    } else if cx.is_new && cx.profile.life_event(code).is_some() {
        format!("コード「{code}」のライフイベントは既にあります。別のコードにしてください。")
    } else {
        return;
    };
    out.push(Problem::new("code", "code", message));
}

/// Checks the questions; returns each valid code with the index of its
/// first use.
fn check_questions<'a>(out: &mut Vec<Problem>, d: &'a Draft) -> BTreeMap<&'a str, usize> {
    if d.questions.len() > MAX_QUESTIONS {
        out.push(Problem::new(
            "questions",
            "questions",
            format!("質問は{MAX_QUESTIONS}個までです。"),
        ));
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, q) in d.questions.iter().enumerate().take(MAX_QUESTIONS) {
        let n = i + 1;
        let qc = q.code.trim();
        let (form, api) = (format!("q{i}"), format!("questions[{i}]"));
        let problem =
            |message: String| Problem::new(format!("{form}_code"), format!("{api}.code"), message);
        if qc.is_empty() {
            out.push(problem(format!(
                "「質問{n}：コード」を入力してください（例：has_children）。"
            )));
        } else if !is_question_code(qc) {
            out.push(problem(format!("「質問{n}：コード」は英小文字で始め、英小文字・数字・アンダースコアで64文字以内にしてください（例：has_children）。いま「{}」です。", truncate(qc))));
        } else if let Some(first) = seen.get(qc) {
            out.push(problem(format!(
                "「質問{n}：コード」の「{qc}」は質問{}と重複しています。",
                first + 1
            )));
        } else {
            seen.insert(qc, i);
        }
        check_texts(
            out,
            &q.text,
            &format!("質問{n}：質問文"),
            &format!("{form}_text"),
            &format!("{api}.text"),
            MAX_QUESTION,
            true,
        );
        check_texts(
            out,
            &q.hint,
            &format!("質問{n}：補足"),
            &format!("{form}_hint"),
            &format!("{api}.hint"),
            MAX_HINT,
            false,
        );
    }
    seen
}

fn check_items(out: &mut Vec<Problem>, d: &Draft, cx: &Context<'_>) {
    if d.items.is_empty() {
        out.push(Problem::new(
            "items",
            "items",
            "「手続」を1件以上追加してください。".into(),
        ));
    } else if d.items.len() > MAX_ITEMS {
        out.push(Problem::new(
            "items",
            "items",
            format!("手続は{MAX_ITEMS}件までです。"),
        ));
    }
    let mut procs: BTreeMap<String, usize> = BTreeMap::new();
    for (i, it) in d.items.iter().enumerate().take(MAX_ITEMS) {
        let at = ItemAt::new(i);
        let entry = check_item_procedure(out, &at, it, cx, &mut procs);
        check_item_conditions(out, &at, it, d);
        check_item_counter(out, &at, it, cx, entry);
        check_texts(
            out,
            &it.deadline,
            &format!("手続{}：期限", at.n),
            &format!("{}_deadline", at.form),
            &format!("{}.deadline", at.api),
            MAX_DEADLINE,
            false,
        );
        check_texts(
            out,
            &it.note,
            &format!("手続{}：注意書き", at.n),
            &format!("{}_note", at.form),
            &format!("{}.note", at.api),
            MAX_NOTE,
            false,
        );
    }
}

/// Where an item's problems are named: its number for people, its form
/// field prefix and its API path.
struct ItemAt {
    index: usize,
    n: usize,
    form: String,
    api: String,
}

impl ItemAt {
    fn new(i: usize) -> Self {
        Self {
            index: i,
            n: i + 1,
            form: format!("i{i}"),
            api: format!("items[{i}]"),
        }
    }

    fn problem(&self, field: &str, message: String) -> Problem {
        Problem::new(
            format!("{}_{field}", self.form),
            format!("{}.{field}", self.api),
            message,
        )
    }
}

/// The item's procedure: chosen, in the catalogue, not twice. Returns the
/// catalogue's entry when there is one.
fn check_item_procedure<'c>(
    out: &mut Vec<Problem>,
    at: &ItemAt,
    it: &DraftItem,
    cx: &Context<'c>,
    procs: &mut BTreeMap<String, usize>,
) -> Option<&'c CatalogueEntry> {
    let n = at.n;
    let pid = it.procedure.trim();
    let entry = cx.catalogue.iter().find(|c| c.id == pid);
    if pid.is_empty() {
        out.push(at.problem("procedure", format!("「手続{n}：手続」を選んでください。")));
    } else if entry.is_none() {
        out.push(at.problem(
            "procedure",
            format!(
                "「手続{n}：手続」の「{}」はこの自治体の手続カタログにありません。",
                truncate(pid)
            ),
        ));
    } else if let Some(first) = procs.get(pid) {
        out.push(at.problem(
            "procedure",
            format!(
                "「手続{n}：手続」の「{}」は手続{}と重複しています。",
                entry.map(|e| e.name.as_str()).unwrap_or(pid),
                first + 1
            ),
        ));
    } else {
        procs.insert(pid.to_string(), at.index);
    }
    entry
}

/// The item's conditions name questions of the draft, and not the same
/// one twice.
fn check_item_conditions(out: &mut Vec<Problem>, at: &ItemAt, it: &DraftItem, d: &Draft) {
    let n = at.n;
    for (field, label, value) in [
        ("when", "この質問が「はい」のときだけ案内", &it.when),
        ("unless", "この質問が「はい」のときは案内しない", &it.unless),
    ] {
        if let Some(q) = value {
            if !d.questions.iter().any(|x| x.code.trim() == q) {
                out.push(at.problem(
                    field,
                    format!(
                        "「手続{n}：{label}」の質問「{}」がありません。質問を選び直してください。",
                        truncate(q)
                    ),
                ));
            }
        }
    }
    if it.when.is_some() && it.when == it.unless {
        out.push(at.problem(
            "unless",
            format!(
                "「手続{n}」の二つの条件に同じ質問は使えません（いつも案内されなくなります）。"
            ),
        ));
    }
}

/// The item's counter exists and belongs to the procedure's department.
fn check_item_counter(
    out: &mut Vec<Problem>,
    at: &ItemAt,
    it: &DraftItem,
    cx: &Context<'_>,
    entry: Option<&CatalogueEntry>,
) {
    let n = at.n;
    let Some(c) = &it.counter else { return };
    let Some(counter) = cx.profile.counter(c) else {
        out.push(at.problem(
            "counter",
            format!(
                "「手続{n}：窓口」の「{}」はこの自治体の窓口にありません。",
                truncate(c)
            ),
        ));
        return;
    };
    if let Some(e) = entry.filter(|e| counter.department != e.department) {
        let dept = cx
            .profile
            .department(&e.department)
            .map(|d| d.name.ja().to_string())
            .unwrap_or_else(|| e.department.clone());
        out.push(at.problem(
            "counter",
            format!("「手続{n}：窓口」は担当課（{dept}）の窓口を選んでください。"),
        ));
    }
}

/// A question no procedure depends on would ask the resident for nothing.
fn check_unused_questions(out: &mut Vec<Problem>, d: &Draft, seen: &BTreeMap<&str, usize>) {
    for (i, q) in d.questions.iter().enumerate().take(MAX_QUESTIONS) {
        let qc = q.code.trim();
        if qc.is_empty() || seen.get(qc) != Some(&i) {
            continue;
        }
        let used = d
            .items
            .iter()
            .any(|it| it.when.as_deref() == Some(qc) || it.unless.as_deref() == Some(qc));
        if !used {
            out.push(Problem::new(
                format!("q{i}_code"),
                format!("questions[{i}].code"),
                format!("「質問{}」（{qc}）はどの手続の条件にも使われていません。手続の条件に選ぶか、質問を削除してください。", i + 1),
            ));
        }
    }
}

fn bundle_of(d: &Draft, code: &str) -> LifeEventBundle {
    LifeEventBundle {
        code: code.to_string(),
        name: to_text(&d.name).unwrap_or_default(),
        description: to_text(&d.description),
        questions: d
            .questions
            .iter()
            .map(|q| kernel::tenant::LifeEventQuestion {
                code: q.code.trim().to_string(),
                text: to_text(&q.text).unwrap_or_default(),
                hint: to_text(&q.hint),
            })
            .collect(),
        items: d
            .items
            .iter()
            .map(|it| kernel::tenant::LifeEventItem {
                procedure: it.procedure.trim().to_string(),
                when: it.when.clone(),
                unless: it.unless.clone(),
                counter: it.counter.clone(),
                deadline: to_text(&it.deadline),
                note: to_text(&it.note),
            })
            .collect(),
    }
}

/// The profile's own rules, with this bundle in place, as a last guard.
fn check_profile(bundle: &LifeEventBundle, cx: &Context<'_>) -> Result<(), Vec<Problem>> {
    let mut profile = cx.profile.clone();
    match profile
        .life_events
        .iter_mut()
        .find(|b| b.code == bundle.code)
    {
        Some(b) => *b = bundle.clone(),
        None => profile.life_events.push(bundle.clone()),
    }
    let known: Vec<(&str, &str)> = cx
        .catalogue
        .iter()
        .map(|c| (c.id.as_str(), c.department.as_str()))
        .collect();
    let mut last = Vec::new();
    if let Err(e) = profile.check() {
        last.push(e);
    }
    if let Err(e) = profile.check_life_event_procedures(&known) {
        last.extend(e);
    }
    if last.is_empty() {
        Ok(())
    } else {
        Err(last
            .into_iter()
            .map(|m| Problem::new("code", "code", m))
            .collect())
    }
}

/// `name_en` with prefix `name_` → `en`, when it is one of our languages.
fn lang_of(rest: &str, prefix: &str) -> Option<String> {
    rest.strip_prefix(prefix)
        .filter(|l| Lang::ALL.iter().any(|x| x.code() == *l))
        .map(str::to_string)
}

impl DraftQuestion {
    /// One field of the question's form row (`code`, `text_ja`, `hint_en` …).
    fn set(&mut self, field: &str, v: &str) {
        if field == "code" {
            self.code = v.to_string();
        } else if let Some(l) = lang_of(field, "text_") {
            self.text.insert(l, v.to_string());
        } else if let Some(l) = lang_of(field, "hint_") {
            self.hint.insert(l, v.to_string());
        }
    }
}

impl DraftItem {
    /// One field of the item's form row (`procedure`, `when`, `note_vi` …).
    fn set(&mut self, field: &str, v: &str) {
        let opt = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
        match field {
            "procedure" => self.procedure = v.to_string(),
            "when" => self.when = opt(v),
            "unless" => self.unless = opt(v),
            "counter" => self.counter = opt(v),
            _ => {
                if let Some(l) = lang_of(field, "deadline_") {
                    self.deadline.insert(l, v.to_string());
                } else if let Some(l) = lang_of(field, "note_") {
                    self.note.insert(l, v.to_string());
                }
            }
        }
    }
}

fn truncate(s: &str) -> String {
    let mut t: String = s.chars().take(40).filter(|c| !c.is_control()).collect();
    if s.chars().count() > 40 {
        t.push('…');
    }
    t
}

/// The departments a change touches, for the catalogue editor's rule (a
/// department administrator edits only their department's procedures; a
/// system administrator edits all). An item added, removed or changed
/// touches its procedure's department; a question changed touches the
/// departments of the items that depend on it; a new life event, a new
/// name or description, or a new order touches every department of the
/// bundle. A procedure outside the catalogue counts as a department no
/// department administrator holds.
pub fn touched_departments(
    old: Option<&LifeEventBundle>,
    new: &LifeEventBundle,
    department_of: impl Fn(&str) -> Option<String>,
) -> BTreeSet<String> {
    let dept = |p: &str| department_of(p).unwrap_or_else(|| "?".to_string());
    let all = |b: &LifeEventBundle| b.items.iter().map(|i| dept(&i.procedure)).collect();
    let Some(old) = old else {
        return all(new);
    };
    let mut out = BTreeSet::new();
    let order = |a: &LifeEventBundle, b: &LifeEventBundle| -> Vec<String> {
        a.items
            .iter()
            .filter(|i| b.items.iter().any(|j| j.procedure == i.procedure))
            .map(|i| i.procedure.clone())
            .collect()
    };
    if old.name != new.name
        || old.description != new.description
        || order(old, new) != order(new, old)
    {
        out.extend(all(old));
        out.extend(all(new));
        return out;
    }
    for b in [old, new] {
        let other = if std::ptr::eq(b, old) { new } else { old };
        for it in &b.items {
            let twin = other.items.iter().find(|j| j.procedure == it.procedure);
            if twin != Some(it) {
                out.insert(dept(&it.procedure));
            }
        }
    }
    let q_changed: Vec<&str> = old
        .questions
        .iter()
        .chain(&new.questions)
        .filter(|q| {
            let a = old.question(&q.code);
            let b = new.question(&q.code);
            a != b
        })
        .map(|q| q.code.as_str())
        .collect();
    let old_pos: Vec<&str> = old.questions.iter().map(|q| q.code.as_str()).collect();
    let new_pos: Vec<&str> = new.questions.iter().map(|q| q.code.as_str()).collect();
    let reordered = {
        let a: Vec<&&str> = old_pos.iter().filter(|c| new_pos.contains(c)).collect();
        let b: Vec<&&str> = new_pos.iter().filter(|c| old_pos.contains(c)).collect();
        a != b
    };
    for b in [old, new] {
        for it in &b.items {
            let depends =
                |q: &str| it.when.as_deref() == Some(q) || it.unless.as_deref() == Some(q);
            if reordered && (it.when.is_some() || it.unless.is_some())
                || q_changed.iter().any(|q| depends(q))
            {
                out.insert(dept(&it.procedure));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> TenantProfile {
        serde_json::from_value(serde_json::json!({
            "code": "122289",
            "name": {"ja": "四街道市"},
            "prefecture": {"ja": "千葉県"},
            "departments": [{"code": "madoguchi", "name": {"ja": "窓口サービス課"}},
                            {"code": "kosodate", "name": {"ja": "子育て支援課"}}],
            "counters": [{"code": "c1", "name": {"ja": "1番窓口"}, "department": "madoguchi"},
                         {"code": "c7", "name": {"ja": "7番窓口"}, "department": "kosodate"}],
        }))
        .unwrap()
    }

    fn catalogue() -> Vec<CatalogueEntry> {
        [
            ("tennyu", "madoguchi", "転入届"),
            ("jido-teate", "kosodate", "児童手当"),
        ]
        .iter()
        .map(|(id, d, n)| CatalogueEntry {
            id: id.to_string(),
            department: d.to_string(),
            name: n.to_string(),
        })
        .collect()
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn good() -> Vec<(String, String)> {
        form(&[
            ("code", "moving-in"),
            ("name_ja", " 転入 "),
            ("name_en", "Moving in"),
            ("description_ja", ""),
            ("q0_code", "has_children"),
            ("q0_text_ja", "お子さんがいますか"),
            ("q0_hint_ja", ""),
            ("i0_procedure", "tennyu"),
            ("i0_when", ""),
            ("i0_deadline_ja", "14日以内"),
            ("i1_procedure", "jido-teate"),
            ("i1_when", "has_children"),
            ("i1_counter", "c7"),
            ("i1_note_ja", "公務員の方は勤務先で"),
        ])
    }

    #[test]
    fn a_good_form_becomes_a_bundle() {
        let (d, p) = Draft::from_form(&good());
        assert!(p.is_empty());
        let p = profile();
        let cat = catalogue();
        let cx = Context {
            profile: &p,
            catalogue: &cat,
            is_new: true,
        };
        let b = validate(&d, &cx).unwrap();
        assert_eq!(b.name.ja(), "転入");
        assert_eq!(b.name.get(Lang::En), "Moving in");
        assert!(b.description.is_none());
        assert_eq!(b.items[1].when.as_deref(), Some("has_children"));
        assert_eq!(
            b.items[1].note.as_ref().unwrap().ja(),
            "公務員の方は勤務先で"
        );
        // The bundle goes back into the editor unchanged.
        let again = validate(&Draft::from_bundle(&b), &cx).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn every_mistake_is_named() {
        let p = profile();
        let cat = catalogue();
        let cx = Context {
            profile: &p,
            catalogue: &cat,
            is_new: true,
        };
        type Form = Vec<(String, String)>;
        let check = |edit: &dyn Fn(&mut Form), field: &str, words: &str| {
            let mut f = good();
            edit(&mut f);
            let (d, _) = Draft::from_form(&f);
            let e = validate(&d, &cx).unwrap_err();
            assert!(
                e.iter()
                    .any(|x| x.form == field && x.message.contains(words)),
                "{field} {words}: {e:?}"
            );
        };
        let set = |k: &'static str, v: &'static str| {
            move |f: &mut Vec<(String, String)>| {
                f.retain(|(x, _)| x != k);
                f.push((k.into(), v.into()));
            }
        };
        check(&set("name_ja", "  "), "name_ja", "名称（日本語）");
        check(&set("code", "Moving In"), "code", "英小文字");
        check(
            &set("i1_procedure", "no-such"),
            "i1_procedure",
            "カタログにありません",
        );
        check(&set("i1_procedure", "tennyu"), "i1_procedure", "重複");
        check(&set("i1_when", "has_car"), "i1_when", "has_car");
        check(&set("i1_unless", "has_children"), "i1_unless", "同じ質問");
        check(&set("i1_counter", "c1"), "i1_counter", "子育て支援課");
        check(&set("i1_counter", "c9"), "i1_counter", "c9");
        check(
            &set("q0_text_ja", ""),
            "q0_text_ja",
            "質問1：質問文（日本語）",
        );
        check(&set("q0_code", "Has-Children"), "q0_code", "英小文字");
        check(
            &set("q0_hint_en", "only English"),
            "q0_hint_ja",
            "ほかの言語だけ",
        );
        check(&set("i0_note_ja", "a\u{7}b"), "i0_note_ja", "制御文字");
        let long: &'static str = Box::leak("あ".repeat(101).into_boxed_str());
        check(&set("name_ja", long), "name_ja", "100文字以内");
        let long: &'static str = Box::leak("a".repeat(301).into_boxed_str());
        check(&set("name_en", long), "name_en", "300文字以内");
        let mut f = good();
        f.push(("q1_code".into(), "has_children".into()));
        f.push(("q1_text_ja".into(), "もう一度".into()));
        let (d, _) = Draft::from_form(&f);
        let e = validate(&d, &cx).unwrap_err();
        assert!(
            e.iter()
                .any(|x| x.form == "q1_code" && x.message.contains("重複")),
            "{e:?}"
        );
        // An unused question, and no procedures at all.
        let mut f = good();
        f.retain(|(k, _)| k != "i1_when");
        let (d, _) = Draft::from_form(&f);
        let e = validate(&d, &cx).unwrap_err();
        assert!(e
            .iter()
            .any(|x| x.form == "q0_code" && x.message.contains("使われていません")));
        let (mut d, _) = Draft::from_form(&good());
        d.items.clear();
        d.questions.clear();
        let e = validate(&d, &cx).unwrap_err();
        assert_eq!(e[0].form, "items");
        // Too many rows in a form are refused, not silently kept.
        let mut f = good();
        f.push(("q99_code".into(), "x".into()));
        assert_eq!(Draft::from_form(&f).1[0].form, "questions");
        // An existing code cannot be created again; an unknown language is named.
        let mut p2 = profile();
        let (d, _) = Draft::from_form(&good());
        p2.life_events.push(validate(&d, &cx).unwrap());
        let cx2 = Context {
            profile: &p2,
            catalogue: &cat,
            is_new: true,
        };
        assert!(validate(&d, &cx2).unwrap_err()[0]
            .message
            .contains("既にあります"));
        let mut d = d;
        d.name.insert("fr".into(), "Emménagement".into());
        let cx3 = Context {
            profile: &p2,
            catalogue: &cat,
            is_new: false,
        };
        let e = validate(&d, &cx3).unwrap_err();
        assert_eq!(e[0].api, "name.fr");
    }

    #[test]
    fn operations_reshape_the_form() {
        let (mut d, _) = Draft::from_form(&good());
        assert!(d.apply("add_question"));
        assert_eq!(d.questions.len(), 2);
        assert_eq!(d.questions[1].code, "question_2");
        assert!(d.apply("down_item-0"));
        assert_eq!(d.items[0].procedure, "jido-teate");
        assert!(d.apply("up_item-1"));
        assert_eq!(d.items[0].procedure, "tennyu");
        assert!(d.apply("remove_question-1"));
        assert_eq!(d.questions.len(), 1);
        assert!(!d.apply("remove_question-7"));
        assert!(!d.apply("drop_table"));
        assert!(!d.apply("up_item-x"));
    }

    #[test]
    fn a_renamed_question_keeps_its_conditions() {
        let mut f = good();
        set_pair(&mut f, "q0_was", "has_children");
        set_pair(&mut f, "q0_code", "has_kids");
        let (d, _) = Draft::from_form(&f);
        assert_eq!(d.items[1].when.as_deref(), Some("has_kids"));
        // Not when another question still has the old code.
        f.push(("q1_code".into(), "has_children".into()));
        let (d, _) = Draft::from_form(&f);
        assert_eq!(d.items[1].when.as_deref(), Some("has_children"));
    }

    fn set_pair(f: &mut Vec<(String, String)>, k: &str, v: &str) {
        f.retain(|(x, _)| x != k);
        f.push((k.into(), v.into()));
    }

    #[test]
    fn touched_departments_follow_the_change() {
        let p = profile();
        let cat = catalogue();
        let cx = Context {
            profile: &p,
            catalogue: &cat,
            is_new: true,
        };
        let old = validate(&Draft::from_form(&good()).0, &cx).unwrap();
        let dept = |id: &str| {
            cat.iter()
                .find(|c| c.id == id)
                .map(|c| c.department.clone())
        };
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert!(touched_departments(Some(&old), &old, dept).is_empty());
        let mut new = old.clone();
        new.items[1].note = None;
        assert_eq!(
            touched_departments(Some(&old), &new, dept),
            set(&["kosodate"])
        );
        let mut new = old.clone();
        new.questions[0].text = kernel::i18n::Text::ja_only("18歳までのお子さんがいますか");
        assert_eq!(
            touched_departments(Some(&old), &new, dept),
            set(&["kosodate"])
        );
        let mut new = old.clone();
        new.items[0].deadline = None;
        assert_eq!(
            touched_departments(Some(&old), &new, dept),
            set(&["madoguchi"])
        );
        let mut new = old.clone();
        new.items.swap(0, 1);
        assert_eq!(
            touched_departments(Some(&old), &new, dept),
            set(&["kosodate", "madoguchi"])
        );
        assert_eq!(
            touched_departments(None, &old, dept),
            set(&["kosodate", "madoguchi"])
        );
    }
}
