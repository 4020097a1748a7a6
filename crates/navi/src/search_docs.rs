//! What the search finds in the navigator: every 手続ナビ questionnaire,
//! described as a [`search::Doc`] (its questions, the names of its
//! procedures and its notes).

use std::collections::BTreeMap;

use kernel::i18n::Text;
use kernel::Db;
use search::{Audience, Doc, DocKind, DocSource, DocsFuture};

/// The navigator of a tenant.
pub struct NaviDocs;

impl DocSource for NaviDocs {
    fn docs<'a>(&'a self, db: &'a Db, tenant: &'a str) -> DocsFuture<'a> {
        Box::pin(async move {
            let t = kernel::tenant::load(db, tenant).await?;
            let procedures = catalogue::store::list(db, tenant).await?;
            let names: BTreeMap<&str, &Text> = procedures
                .iter()
                .map(|p| (p.procedure.id.as_str(), &p.procedure.name))
                .collect();
            let mut docs = Vec::new();
            for b in &t.life_events {
                let mut parts: Vec<&Text> = Vec::new();
                if let Some(d) = &b.description {
                    parts.push(d);
                }
                parts.extend(b.questions.iter().map(|q| &q.text));
                parts.extend(
                    b.items
                        .iter()
                        .filter_map(|i| names.get(i.procedure.as_str()).copied()),
                );
                parts.extend(b.items.iter().filter_map(|i| i.note.as_ref()));
                docs.push(Doc {
                    id: format!("navi:{}", b.code),
                    kind: DocKind::Navi,
                    audience: Audience::Public,
                    title: b.name.clone(),
                    summary: b.description.clone().unwrap_or_default(),
                    body: Text::join(&parts, " "),
                    keywords: kernel::i18n::Lang::ALL
                        .iter()
                        .filter(|l| **l != kernel::i18n::Lang::JaEasy)
                        .map(|l| kernel::i18n::t(*l, "navi.title").to_string())
                        .collect(),
                    url: format!("/t/{tenant}/navi/{}", b.code),
                    department: None,
                    life_events: vec![b.code.clone()],
                });
            }
            Ok(docs)
        })
    }
}
