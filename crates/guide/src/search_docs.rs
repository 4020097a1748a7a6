//! The FAQ as documents for the search: public entries as `faq` (for
//! everyone), staff-only entries as `knowledge` (staff searches only).
//! Unpublished entries are not indexed.

use kernel::i18n::{self, Lang, Text};
use kernel::Db;
use search::{Audience, Doc, DocKind, DocSource, DocsFuture};

use crate::faq::{self, Scope};

pub struct FaqDocs;

/// An answer's first paragraph, in every language it has: the page's
/// summary.
fn first_paragraph(answer: &Text) -> Text {
    let mut out = Text::default();
    for l in Lang::ALL {
        if l == Lang::Ja || answer.has(l) {
            let t = answer.get(l).trim();
            out.set(l.code(), t.split("\n\n").next().unwrap_or(t));
        }
    }
    out
}

impl DocSource for FaqDocs {
    fn docs<'a>(&'a self, db: &'a Db, tenant: &'a str) -> DocsFuture<'a> {
        Box::pin(async move {
            let items = faq::list(db, tenant, Scope::All).await?;
            Ok(items
                .into_iter()
                .filter(|s| s.entry.published)
                .map(|s| {
                    let public = s.entry.audience == faq::Audience::Public;
                    Doc {
                        id: format!("faq:{}", s.id),
                        kind: if public {
                            DocKind::Faq
                        } else {
                            DocKind::Knowledge
                        },
                        audience: if public {
                            Audience::Public
                        } else {
                            Audience::Staff
                        },
                        keywords: Lang::ALL
                            .iter()
                            .filter(|l| **l != Lang::JaEasy)
                            .map(|l| {
                                i18n::t(*l, &format!("faq.category.{}", s.entry.category))
                                    .to_string()
                            })
                            .collect(),
                        url: if public {
                            format!("/t/{tenant}/faq/{}", s.id)
                        } else {
                            format!("/t/{tenant}/staff/knowledge/{}", s.id)
                        },
                        department: Some(s.entry.department.clone()),
                        life_events: Vec::new(),
                        title: s.entry.question,
                        summary: first_paragraph(&s.entry.answer),
                        body: s.entry.answer,
                    }
                })
                .collect())
        })
    }
}
