//! What the case handlers share.

use std::sync::Arc;

use axum::extract::FromRef;
use catalogue::Cache;
use kernel::auth::SessionPolicy;
use kernel::Db;

use crate::applications::Links;
use crate::committer::Committer;

#[derive(Clone, FromRef)]
pub struct CasesState {
    pub db: Db,
    pub links: Links,
    pub committer: Committer,
    pub cache: Arc<Cache>,
    pub session: SessionPolicy,
    pub limits: Limits,
    pub vault: kernel::crypto::Vault,
    pub residents: kernel::resident::ResidentCache,
    pub lookups: crate::lookup::Lookups,
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_attachment_bytes: u64,
}
