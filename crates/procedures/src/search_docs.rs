//! What the search finds in this crate: every procedure of the catalogue
//! and every 手続ナビ questionnaire, described as [`search::Doc`]s.

use std::collections::BTreeMap;

use kernel::i18n::Text;
use kernel::tenant::TenantProfile;
use kernel::Db;
use search::{Audience, Doc, DocKind, DocSource, DocsFuture};

use crate::catalogue;
use crate::model::Procedure;

/// Joins the translations of several texts language by language (Japanese
/// first); a language missing in one text uses its Japanese there.
fn join(texts: &[&Text], sep: &str) -> Text {
    let mut langs: Vec<String> = vec!["ja".into()];
    for t in texts {
        for l in kernel::i18n::Lang::ALL {
            if t.has(l) && !langs.iter().any(|x| x == l.code()) {
                langs.push(l.code().into());
            }
        }
    }
    let mut out = Text::default();
    for l in langs {
        let lang = kernel::i18n::Lang::parse(&l).unwrap_or_default();
        let parts: Vec<&str> = texts
            .iter()
            .map(|t| t.get(lang))
            .filter(|s| !s.is_empty())
            .collect();
        out.set(&l, parts.join(sep));
    }
    out
}

fn procedure_doc(t: &TenantProfile, p: &Procedure, life_events: Vec<String>) -> Doc {
    let mut body_parts: Vec<&Text> = vec![&p.description];
    body_parts.extend(p.documents.iter());
    body_parts.push(&p.processing_time);
    let mut keywords = Vec::new();
    if !p.legal_basis.is_empty() {
        keywords.push(p.legal_basis.clone());
    }
    if let Some(d) = t.department(&p.department) {
        keywords.extend(d.name.values().map(str::to_string));
    }
    Doc {
        id: format!("procedure:{}", p.id),
        kind: DocKind::Procedure,
        audience: Audience::Public,
        title: p.name.clone(),
        body: join(&body_parts, " "),
        keywords,
        url: format!("/t/{}/procedures/{}", t.code, p.id),
        department: Some(p.department.clone()),
        life_events,
    }
}

/// The catalogue and the navigator of a tenant.
pub struct ProcedureDocs;

impl DocSource for ProcedureDocs {
    fn docs<'a>(&'a self, db: &'a Db, tenant: &'a str) -> DocsFuture<'a> {
        Box::pin(async move {
            let t = kernel::tenant::load(db, tenant).await?;
            let procedures = catalogue::list(db, tenant).await?;
            // The life events whose questionnaire lists each procedure.
            let mut events: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for b in &t.life_events {
                for item in &b.items {
                    let v = events.entry(item.procedure.as_str()).or_default();
                    if !v.contains(&b.code) {
                        v.push(b.code.clone());
                    }
                }
            }
            let names: BTreeMap<&str, &Text> = procedures
                .iter()
                .map(|p| (p.procedure.id.as_str(), &p.procedure.name))
                .collect();
            let mut docs: Vec<Doc> = procedures
                .iter()
                .map(|p| {
                    let ev = events
                        .get(p.procedure.id.as_str())
                        .cloned()
                        .unwrap_or_default();
                    procedure_doc(&t, &p.procedure, ev)
                })
                .collect();
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
                    body: join(&parts, " "),
                    keywords: kernel::i18n::Lang::ALL
                        .iter()
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
