//! What the catalogue's handlers share.

use std::sync::Arc;

use axum::extract::FromRef;
use kernel::auth::SessionPolicy;
use kernel::Db;

use crate::store::Cache;

#[derive(Clone, FromRef)]
pub struct CatalogueState {
    pub db: Db,
    /// Procedures in memory for the submission path; also tells the search
    /// when the catalogue changes.
    pub cache: Arc<Cache>,
    pub session: SessionPolicy,
}
