//! The chatbot: answers by retrieval from the FAQ, the procedures and the
//! navigator (through the search), always with the sources it used. When
//! nothing relevant is found it says so plainly, offers the contact route
//! and logs the question for staff. With the tenant's generative mode on,
//! a model may phrase the answer from the same sources (see [`crate::llm`]).

use kernel::i18n::{self, Lang};
use kernel::tenant::TenantProfile;
use kernel::AppResult;
use serde::{Deserialize, Serialize};

use crate::faq;
use crate::llm::{self, Grounding, OpenAiCompatible};
use crate::state::GuideState;
use crate::view::localize;

/// How many sources an answer shows at most.
pub const MAX_SOURCES: usize = 3;
/// A hit is relevant when its text holds at least this share of the
/// question's character pairs (in writing or in reading).
pub const MIN_COVERAGE: f32 = 0.5;

/// A source as shown under an answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SourceLink {
    pub title: String,
    pub url: String,
    /// `faq`, `procedure` or `navi`.
    pub kind: String,
}

/// Where to ask a person.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Contact {
    pub department: Option<String>,
    pub phone: Option<String>,
    pub hours: Option<String>,
    pub url: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Reply {
    pub answer: String,
    /// The language the answer is really in (`ja` when a translation is missing).
    pub answer_lang: &'static str,
    pub sources: Vec<SourceLink>,
    pub declined: bool,
    /// Phrased by the tenant's language model (checked against the sources).
    pub generated: bool,
    pub contact: Contact,
}

/// A hit with the full text behind it.
struct Found {
    link: SourceLink,
    /// What the answer says when this is the best source.
    answer: String,
    answer_lang: &'static str,
    /// The text the model may use.
    grounding: String,
    /// Title and text in Japanese and in the reader's language, to judge relevance.
    match_title: String,
    match_text: String,
    department: Option<String>,
    /// The share of the question's words it matched (see [`relevant_sources`]).
    coverage: f32,
}

/// Words that say nothing about the subject of an English question.
const STOP_WORDS: [&str; 24] = [
    "the", "and", "how", "can", "what", "where", "when", "for", "you", "your", "get", "with",
    "does", "are", "this", "that", "need", "want", "have", "who", "which", "from", "there",
    "about",
];

/// The words that carry a question's subject: each kanji and katakana
/// character, and Latin words of three letters or more (stop words aside).
/// Hiragana is left out: in Japanese it is mostly grammar (の, を, ですか).
fn content_tokens(s: &str) -> Vec<String> {
    let s = jp::fold_width(s).to_lowercase();
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if word.chars().count() >= 3 && !STOP_WORDS.contains(&word.as_str()) {
            out.push(std::mem::take(word));
        }
        word.clear();
    };
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        let katakana = ('\u{30A1}'..='\u{30FA}').contains(&c);
        if katakana || jp::reading::is_kanji(c) {
            out.push(c.to_string());
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Runs of two or more hiragana (words written in kana, e.g. ごみ, じゅうみんひょう).
fn hiragana_runs(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in jp::fold_width(s).chars().chain(std::iter::once(' ')) {
        if ('\u{3041}'..='\u{3096}').contains(&c) || c == 'ー' {
            run.push(c);
        } else {
            if run.chars().count() >= 2 {
                out.push(run.clone());
            }
            run.clear();
        }
    }
    out
}

/// How much of the question a document covers, from 0 to 1: its subject
/// words (kanji, katakana, Latin words) found in the text, and the
/// character pairs of its kana words found in the text or in the reading
/// of the title (so じゅうみんひょう meets 住民票).
pub fn coverage(question: &str, title: &str, text: &str) -> f32 {
    use std::collections::HashSet;
    let words: HashSet<String> = content_tokens(&format!("{title}\n{text}"))
        .into_iter()
        .collect();
    let pairs: HashSet<search::text::Gram> = search::text::grams(&format!("{title}\n{text}"))
        .into_iter()
        .chain(search::text::grams(&search::text::reading(title)))
        .collect();
    let tokens = content_tokens(question);
    let kana: Vec<search::text::Gram> = hiragana_runs(question)
        .iter()
        .flat_map(|r| search::text::grams(r))
        .collect();
    let total = tokens.len() + kana.len();
    if total == 0 {
        return 0.0;
    }
    let found = tokens.iter().filter(|t| words.contains(*t)).count()
        + kana.iter().filter(|g| pairs.contains(g)).count();
    found as f32 / total as f32
}

/// How much of the question a page's text holds, word by word: the share
/// of the question's words (`search::query::words`: 亡くなりました → 亡)
/// found in the title or text as written or, for kana words, in the
/// title's reading; the best of the question as typed and each synonym
/// variant the search ran (`variants`, words joined by spaces), so
/// 母が亡くなりました meets おくやみ（死亡） through 亡 ⇔ おくやみ.
pub fn word_coverage(question: &str, variants: &[String], title: &str, text: &str) -> f32 {
    let written = search::text::fold(&format!("{title}\n{text}")).replace(' ', "");
    let read = search::text::reading(title).replace(' ', "");
    let asked = search::query::words(question);
    std::iter::once(asked)
        .chain(
            variants
                .iter()
                .map(|v| v.split(' ').map(str::to_string).collect()),
        )
        .filter(|words: &Vec<String>| !words.is_empty())
        .map(|words| {
            let found = words
                .iter()
                .filter(|w| written.contains(w.as_str()) || read.contains(w.as_str()))
                .count();
            found as f32 / words.len() as f32
        })
        .fold(0.0, f32::max)
}

async fn found(
    st: &GuideState,
    t: &TenantProfile,
    hit: &search::Hit,
    lang: Lang,
) -> AppResult<Option<Found>> {
    let source = match hit.id.split_once(':') {
        Some(("faq", id)) => faq_source(st, t, id, lang).await,
        Some(("procedure", id)) => procedure_source(st, t, id, lang).await,
        Some(("navi", code)) => navi_source(t, code, lang),
        _ => None,
    };
    Ok(source.map(|s| Found {
        link: SourceLink {
            title: s.title,
            url: hit.url.clone(),
            kind: hit.kind.code().to_string(),
        },
        answer: s.answer,
        answer_lang: s.answer_lang,
        grounding: s.grounding,
        match_title: s.match_title,
        match_text: s.match_text,
        department: hit.department.clone(),
        coverage: 0.0,
    }))
}

/// What one public source gives an answer, whatever its kind.
struct Source {
    title: String,
    answer: String,
    answer_lang: &'static str,
    grounding: String,
    match_title: String,
    match_text: String,
}

/// A published FAQ entry (none if unknown or unpublished).
async fn faq_source(st: &GuideState, t: &TenantProfile, id: &str, lang: Lang) -> Option<Source> {
    let id = id.parse::<i64>().ok()?;
    let s = faq::get_public(&st.db, t.code.as_str(), id).await.ok()?;
    let q = localize(&s.entry.question, lang);
    let a = localize(&s.entry.answer, lang);
    Some(Source {
        grounding: format!("{}\n{}", q.text, a.text),
        match_title: format!("{}\n{}", s.entry.question.ja(), q.text),
        match_text: format!("{}\n{}", s.entry.answer.ja(), a.text),
        title: q.text,
        answer: a.text,
        answer_lang: a.lang,
    })
}

/// A procedure of the catalogue: its name, description and documents.
async fn procedure_source(
    st: &GuideState,
    t: &TenantProfile,
    id: &str,
    lang: Lang,
) -> Option<Source> {
    let p = catalogue::store::get(&st.db, t.code.as_str(), id)
        .await
        .ok()?
        .procedure;
    let name = localize(&p.name, lang);
    let description = localize(&p.description, lang);
    let answer = format!(
        "{}\n\n{}\n\n{}",
        i18n::tf(lang, "chat.answer_procedure", &[("title", &name.text)]),
        description.text,
        i18n::t(lang, "chat.more")
    );
    let documents = p
        .documents
        .iter()
        .map(|d| d.get(lang))
        .collect::<Vec<_>>()
        .join("、");
    Some(Source {
        grounding: format!("{}\n{}\n{documents}", name.text, description.text),
        match_title: format!("{}\n{}", p.name.ja(), name.text),
        match_text: format!("{}\n{}", p.description.ja(), description.text),
        title: name.text,
        answer,
        answer_lang: description.lang,
    })
}

/// A life event of the navigator.
fn navi_source(t: &TenantProfile, code: &str, lang: Lang) -> Option<Source> {
    let b = t.life_event(code)?;
    let name = localize(&b.name, lang);
    let description = b
        .description
        .as_ref()
        .map(|d| d.get(lang).to_string())
        .unwrap_or_default();
    let answer = format!(
        "{}\n\n{}",
        i18n::tf(lang, "chat.answer_navi", &[("title", &name.text)]),
        i18n::t(lang, "chat.more")
    );
    Some(Source {
        grounding: format!("{}\n{description}", name.text),
        match_title: format!("{}\n{}", b.name.ja(), name.text),
        match_text: b
            .description
            .as_ref()
            .map(|d| format!("{}\n{description}", d.ja()))
            .unwrap_or_default(),
        title: name.text,
        answer,
        answer_lang: lang.code(),
    })
}

/// The city's own contact route (for a question nobody could answer).
pub fn tenant_contact(t: &TenantProfile, lang: Lang) -> Contact {
    contact(t, None, lang)
}

/// The department's phone when the answer belongs to one, else the city's.
fn contact(t: &TenantProfile, department: Option<&str>, lang: Lang) -> Contact {
    let d = department.and_then(|code| t.department(code));
    Contact {
        department: d.map(|d| d.name.get(lang).to_string()),
        phone: d.and_then(|d| d.phone.clone()).or_else(|| t.phone.clone()),
        hours: t.office_hours.as_ref().map(|h| h.get(lang).to_string()),
        url: t.website.clone(),
    }
}

/// The public sources that answer the question: up to `MAX_SOURCES`
/// search hits that cover enough of it: the share of the question's words
/// found in the page ([`word_coverage`], with the tenant's synonyms), or
/// of its subject characters found in the page's text in the reader's
/// language ([`coverage`]), whichever is higher.
async fn relevant_sources(
    st: &GuideState,
    t: &TenantProfile,
    question: &str,
    lang: Lang,
) -> AppResult<Vec<Found>> {
    let query = search::SearchQuery {
        text: question.to_string(),
        lang,
        audience: search::Audience::Public,
        kinds: vec![
            search::DocKind::Faq,
            search::DocKind::Procedure,
            search::DocKind::Navi,
        ],
        limit: 8,
        ..Default::default()
    };
    let results = st.search.query(t.code.as_str(), &query).await?;
    let mut relevant: Vec<Found> = Vec::new();
    for hit in &results.hits {
        if relevant.len() >= MAX_SOURCES {
            break;
        }
        let Some(mut f) = found(st, t, hit, lang).await? else {
            continue;
        };
        f.coverage = word_coverage(question, &results.expanded, &f.match_title, &f.match_text)
            .max(coverage(question, &f.match_title, &f.match_text));
        if f.coverage >= MIN_COVERAGE {
            relevant.push(f);
        }
    }
    Ok(relevant)
}

/// Answers one question (already checked with `search::parse_query_text`);
/// a question declined, or answered from a source that covers less than
/// `search::CONFIDENT_COVERAGE` of it, is logged for staff.
pub async fn answer(
    st: &GuideState,
    t: &TenantProfile,
    question: &str,
    lang: Lang,
) -> AppResult<Reply> {
    let tenant = t.code.as_str();
    let relevant = relevant_sources(st, t, question, lang).await?;
    let Some(best) = relevant.first() else {
        search::record_miss(
            &st.db,
            tenant,
            question,
            "chat",
            search::MissReason::NoResults,
        )
        .await?;
        return Ok(Reply {
            answer: format!(
                "{}\n\n{}",
                i18n::t(lang, "chat.declined"),
                i18n::t(lang, "chat.declined_next")
            ),
            answer_lang: lang.code(),
            sources: Vec::new(),
            declined: true,
            generated: false,
            contact: contact(t, None, lang),
        });
    };
    if best.coverage < search::CONFIDENT_COVERAGE {
        search::record_miss(
            &st.db,
            tenant,
            question,
            "chat",
            search::MissReason::LowConfidence,
        )
        .await?;
    }
    let mut reply = Reply {
        answer: best.answer.clone(),
        answer_lang: best.answer_lang,
        sources: relevant.iter().map(|f| f.link.clone()).collect(),
        declined: false,
        generated: false,
        contact: contact(t, best.department.as_deref(), lang),
    };
    if let Some(model) = t
        .chat
        .as_ref()
        .and_then(|s| OpenAiCompatible::from_settings(&st.http, s))
    {
        let grounding: Vec<Grounding> = relevant
            .iter()
            .map(|f| Grounding {
                title: &f.link.title,
                text: &f.grounding,
            })
            .collect();
        if let Some(text) = llm::phrase(&model, t.name.get(lang), lang, question, &grounding).await
        {
            reply.answer = text;
            reply.answer_lang = lang.code();
            reply.generated = true;
        }
    }
    Ok(reply)
}
