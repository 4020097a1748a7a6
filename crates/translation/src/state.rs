//! What the translation pages share: the database, the session policy and
//! the sources of the entries (registered by `server`).

use std::sync::Arc;

use axum::extract::FromRef;
use kernel::auth::SessionPolicy;
use kernel::{AppError, AppResult, Db};

use crate::model::{Entry, EntryKind};
use crate::source::EntrySource;

/// Every source of entries, in the overview's order.
#[derive(Clone, Default)]
pub struct Sources(pub Arc<Vec<Arc<dyn EntrySource>>>);

impl Sources {
    pub fn new(sources: Vec<Arc<dyn EntrySource>>) -> Self {
        Self(Arc::new(sources))
    }

    /// Every entry of the tenant.
    pub async fn entries(&self, db: &Db, tenant: &str) -> AppResult<Vec<Entry>> {
        let mut out = Vec::new();
        for s in self.0.iter() {
            out.extend(s.entries(db, tenant).await?);
        }
        Ok(out)
    }

    /// One entry of the tenant, or `404`.
    pub async fn find(&self, db: &Db, tenant: &str, kind: EntryKind, id: &str) -> AppResult<Entry> {
        self.entries(db, tenant)
            .await?
            .into_iter()
            .find(|e| e.kind == kind && e.id == id)
            .ok_or(AppError::NotFound("translation_entry"))
    }
}

#[derive(Clone, FromRef)]
pub struct TranslationState {
    pub db: Db,
    pub session: SessionPolicy,
    pub sources: Sources,
}
