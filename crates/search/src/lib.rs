//! 迷わない窓口: one search over procedures, FAQ and navigator pages.
//!
//! Content crates describe their pages as [`Doc`]s through a [`DocSource`];
//! [`Search`] keeps one in-memory index per tenant, built from the
//! sources once and then updated from changes ([`Search::refresh`]) made
//! on this server or, through the change feed ([`CHANGED`] on the events
//! bus), on any other; an update analyses only the changed documents. Japanese works
//! without a word list: text is folded (width, kana, small kana), cut into
//! character bigrams and also indexed by reading (`jp::reading`), so
//! じゅうみんひょう finds 住民票 and a typo costs only a little score.
//! Synonyms are per tenant and managed by staff; queries that find nothing
//! are logged (digits masked) for staff, ranked by frequency.

mod facets;
mod index;
pub mod misses;
pub mod query;
pub mod routes;
mod service;
pub mod synonyms;
pub mod text;
mod topk;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use kernel::i18n::Text;
use serde::{Deserialize, Serialize};

pub use index::{Analysed, TenantIndex};
pub use misses::{record_miss, MissReason};
pub use service::{run, Hit, Search, SearchQuery, SearchResults, Update, CHANGED};

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Procedure,
    Faq,
    Navi,
    Knowledge,
}

impl DocKind {
    pub const ALL: [DocKind; 4] = [
        DocKind::Procedure,
        DocKind::Faq,
        DocKind::Navi,
        DocKind::Knowledge,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DocKind::Procedure => "procedure",
            DocKind::Faq => "faq",
            DocKind::Navi => "navi",
            DocKind::Knowledge => "knowledge",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// Who may find a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Public,
    /// ナレッジ: only signed-in staff of the tenant.
    Staff,
}

/// A page the search can find.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Doc {
    /// Unique in the tenant: `faq:42`, `procedure:juminhyo`, `navi:moving-in`.
    pub id: String,
    pub kind: DocKind,
    pub audience: Audience,
    pub title: Text,
    /// What the page is about in a sentence or two (a procedure's
    /// description, an answer's first paragraph), also part of the body:
    /// a word here counts more than one only in the body, less than one
    /// in the title.
    pub summary: Text,
    /// Plain text, all of it searchable.
    pub body: Text,
    /// Extra terms: category names, legal basis, …
    pub keywords: Vec<String>,
    /// Path of the page: `/t/242021/faq/42`.
    pub url: String,
    pub department: Option<String>,
    pub life_events: Vec<String>,
}

pub type DocsFuture<'a> = Pin<Box<dyn Future<Output = kernel::AppResult<Vec<Doc>>> + Send + 'a>>;

/// Where documents come from (the catalogue, the FAQ, the navigator).
pub trait DocSource: Send + Sync {
    fn docs<'a>(&'a self, db: &'a kernel::Db, tenant: &'a str) -> DocsFuture<'a>;
}

pub type CountsFuture<'a> =
    Pin<Box<dyn Future<Output = kernel::AppResult<HashMap<String, u64>>> + Send + 'a>>;

/// How often residents use each page (applications per procedure), keyed
/// by document id: the owner of those counts implements it (`cases`), so
/// the search ranks a page residents need often a little higher.
pub trait Popularity: Send + Sync {
    fn counts<'a>(&'a self, db: &'a kernel::Db, tenant: &'a str) -> CountsFuture<'a>;
}

/// An answer is given with confidence when its best page matched at least
/// this share of the question's words (in the best synonym variant); below
/// it, the question is logged for staff as low confidence.
pub const CONFIDENT_COVERAGE: f32 = 0.75;

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// Checks what a resident typed: trimmed text, or the message key for an
/// empty, too long or malformed (control characters) query.
pub fn parse_query_text(raw: &str) -> Result<String, &'static str> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("search.error.empty");
    }
    if t.chars().count() > MAX_QUERY_CHARS {
        return Err("search.error.too_long");
    }
    if t.chars().any(|c| c.is_control()) {
        return Err("search.error.malformed");
    }
    if text::fold(t).is_empty() {
        return Err("search.error.no_words");
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked() {
        assert_eq!(parse_query_text("  住民票 "), Ok("住民票".into()));
        assert_eq!(parse_query_text("   "), Err("search.error.empty"));
        assert_eq!(
            parse_query_text(&"あ".repeat(201)),
            Err("search.error.too_long")
        );
        assert_eq!(
            parse_query_text("住民\u{0}票"),
            Err("search.error.malformed")
        );
        assert_eq!(parse_query_text("？！・"), Err("search.error.no_words"));
    }
}
