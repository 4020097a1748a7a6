//! The FAQ and staff knowledge as entries of 翻訳の状況: each entry's
//! question and answer.

use kernel::Db;
use translation::model::Owner;
use translation::{EntriesFuture, Entry, EntryKind, EntrySource};

use crate::faq::{self, FaqEntry, Scope};

/// One FAQ entry (its id in the FAQ) as an entry.
pub fn entry(tenant: &str, id: i64, e: &FaqEntry) -> Entry {
    Entry {
        kind: EntryKind::Faq,
        id: id.to_string(),
        title: e.question.clone(),
        texts: vec![e.question.clone(), e.answer.clone()],
        edit_url: Some(format!("/t/{tenant}/staff/faq/{id}")),
        owner: Owner::Department(e.department.clone()),
    }
}

/// The tenant's FAQ, published or not, public and staff-only.
pub struct FaqTexts;

impl EntrySource for FaqTexts {
    fn entries<'a>(&'a self, db: &'a Db, tenant: &'a str) -> EntriesFuture<'a> {
        Box::pin(async move {
            Ok(faq::list(db, tenant, Scope::All)
                .await?
                .iter()
                .map(|s| entry(tenant, s.id, &s.entry))
                .collect())
        })
    }
}

/// After staff saved FAQ entry `id` as `after` (over `before`, `None` if
/// new): the languages whose texts changed become staff translations,
/// unreviewed.
pub async fn saved(
    db: &Db,
    tenant: &str,
    id: i64,
    before: Option<&FaqEntry>,
    after: &FaqEntry,
) -> kernel::AppResult<()> {
    let before = before.map(|e| entry(tenant, id, e));
    translation::marks::staff_saved(db, tenant, before.as_ref(), &entry(tenant, id, after)).await?;
    Ok(())
}
