//! Where the entries come from: each content crate describes its own
//! through an [`EntrySource`] (registered in `server`); the city's texts,
//! departments, counters and life events, which the kernel keeps in the
//! tenant's profile, are [`TenantTexts`].

use std::future::Future;
use std::pin::Pin;

use kernel::i18n::Text;
use kernel::Db;

use crate::model::{Entry, EntryKind, Owner};

pub type EntriesFuture<'a> =
    Pin<Box<dyn Future<Output = kernel::AppResult<Vec<Entry>>> + Send + 'a>>;

/// The entries of one kind of content of a tenant, with their texts.
pub trait EntrySource: Send + Sync {
    fn entries<'a>(&'a self, db: &'a Db, tenant: &'a str) -> EntriesFuture<'a>;
}

/// The texts of the tenant's profile: the city itself, its departments,
/// its counters and its 手続ナビ questionnaires (edited in `navi`).
pub struct TenantTexts;

impl EntrySource for TenantTexts {
    fn entries<'a>(&'a self, db: &'a Db, tenant: &'a str) -> EntriesFuture<'a> {
        Box::pin(async move {
            let t = kernel::tenant::load(db, tenant).await?;
            let mut out = Vec::new();
            let mut city = vec![t.name.clone(), t.prefecture.clone()];
            city.extend(t.address.iter().cloned());
            city.extend(t.office_hours.iter().cloned());
            out.push(Entry {
                kind: EntryKind::City,
                id: t.code.as_str().to_string(),
                title: t.name.clone(),
                texts: city,
                edit_url: None,
                owner: Owner::AnyEditor,
            });
            for d in &t.departments {
                let mut texts = vec![d.name.clone()];
                texts.extend(d.location.iter().cloned());
                out.push(Entry {
                    kind: EntryKind::Department,
                    id: d.code.clone(),
                    title: d.name.clone(),
                    texts,
                    edit_url: None,
                    owner: Owner::Department(d.code.clone()),
                });
            }
            for c in &t.counters {
                out.push(Entry {
                    kind: EntryKind::Counter,
                    id: c.code.clone(),
                    title: c.name.clone(),
                    texts: vec![c.name.clone()],
                    edit_url: None,
                    owner: Owner::Department(c.department.clone()),
                });
            }
            for b in &t.life_events {
                out.push(life_event_entry(tenant, b));
            }
            Ok(out)
        })
    }
}

/// A 手続ナビ questionnaire as an entry: its name, description, questions
/// and their hints, and its items' deadlines and notes.
pub fn life_event_entry(tenant: &str, b: &kernel::tenant::LifeEventBundle) -> Entry {
    let mut texts: Vec<Text> = vec![b.name.clone()];
    texts.extend(b.description.iter().cloned());
    for q in &b.questions {
        texts.push(q.text.clone());
        texts.extend(q.hint.iter().cloned());
    }
    for i in &b.items {
        texts.extend(i.deadline.iter().cloned());
        texts.extend(i.note.iter().cloned());
    }
    Entry {
        kind: EntryKind::LifeEvent,
        id: b.code.clone(),
        title: b.name.clone(),
        texts,
        edit_url: Some(format!("/t/{tenant}/staff/navi/{}", b.code)),
        owner: Owner::AnyEditor,
    }
}
