//! What the search finds in the catalogue: every procedure, described as a
//! [`search::Doc`], tagged with the life events whose questionnaire lists it.

use std::collections::BTreeMap;

use kernel::i18n::Text;
use kernel::tenant::TenantProfile;
use kernel::Db;
use search::{Audience, Doc, DocKind, DocSource, DocsFuture};

use crate::model::Procedure;
use crate::store;

fn procedure_doc(t: &TenantProfile, p: &Procedure, life_events: Vec<String>) -> Doc {
    let mut body_parts: Vec<&Text> = vec![&p.description];
    body_parts.extend(p.documents.iter());
    body_parts.push(&p.processing_time);
    let mut keywords = Vec::new();
    if !p.legal_basis.is_empty() {
        keywords.push(p.legal_basis.clone());
    }
    if let Some(d) = t.department(&p.department) {
        keywords.push(search::indexed(&d.name));
    }
    Doc {
        id: format!("procedure:{}", p.id),
        kind: DocKind::Procedure,
        audience: Audience::Public,
        title: p.name.clone(),
        summary: p.description.clone(),
        body: Text::join(&body_parts, " "),
        keywords,
        url: format!("/t/{}/procedures/{}", t.code, p.id),
        department: Some(p.department.clone()),
        life_events,
    }
}

/// The catalogue of a tenant.
pub struct ProcedureDocs;

impl DocSource for ProcedureDocs {
    fn docs<'a>(&'a self, db: &'a Db, tenant: &'a str) -> DocsFuture<'a> {
        Box::pin(async move {
            let t = kernel::tenant::load(db, tenant).await?;
            let procedures = store::list(db, tenant).await?;
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
            let docs: Vec<Doc> = procedures
                .iter()
                .map(|p| {
                    let ev = events
                        .get(p.procedure.id.as_str())
                        .cloned()
                        .unwrap_or_default();
                    procedure_doc(&t, &p.procedure, ev)
                })
                .collect();
            Ok(docs)
        })
    }
}
