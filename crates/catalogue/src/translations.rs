//! The catalogue's procedures as entries of 翻訳の状況: the texts the
//! procedure editor translates (name, description, processing time, each
//! document).

use kernel::Db;
use translation::model::Owner;
use translation::{EntriesFuture, Entry, EntryKind, EntrySource};

use crate::model::Procedure;
use crate::store;

/// One procedure as an entry.
pub fn entry(tenant: &str, p: &Procedure) -> Entry {
    let mut texts = vec![
        p.name.clone(),
        p.description.clone(),
        p.processing_time.clone(),
    ];
    texts.extend(p.documents.iter().cloned());
    Entry {
        kind: EntryKind::Procedure,
        id: p.id.clone(),
        title: p.name.clone(),
        texts,
        edit_url: Some(format!("/t/{tenant}/staff/catalogue/{}", p.id)),
        owner: Owner::Department(p.department.clone()),
    }
}

/// The tenant's procedures.
pub struct ProcedureTexts;

impl EntrySource for ProcedureTexts {
    fn entries<'a>(&'a self, db: &'a Db, tenant: &'a str) -> EntriesFuture<'a> {
        Box::pin(async move {
            Ok(store::list(db, tenant)
                .await?
                .iter()
                .map(|s| entry(tenant, &s.procedure))
                .collect())
        })
    }
}

/// After staff saved `after` (over `before`, `None` if new): the languages
/// whose texts changed become staff translations, unreviewed.
pub async fn saved(
    db: &Db,
    tenant: &str,
    before: Option<&Procedure>,
    after: &Procedure,
) -> kernel::AppResult<()> {
    let before = before.map(|p| entry(tenant, p));
    translation::marks::staff_saved(db, tenant, before.as_ref(), &entry(tenant, after)).await?;
    Ok(())
}
