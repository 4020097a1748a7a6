//! What the desk's handlers share.

use std::sync::Arc;

use axum::extract::FromRef;
use cases::applications::Links;
use cases::Committer;
use catalogue::Cache;
use kernel::auth::SessionPolicy;
use kernel::Db;

use crate::print::Printer;

#[derive(Clone, FromRef)]
pub struct DeskState {
    pub db: Db,
    pub links: Links,
    pub committer: Committer,
    pub cache: Arc<Cache>,
    pub session: SessionPolicy,
    pub vault: kernel::crypto::Vault,
    pub residents: kernel::resident::ResidentCache,
    /// The resident register (住民記録) for counter entry and visits.
    pub registry: Registry,
    pub printer: Printer,
}

/// The resident register behind a cheap clone.
#[derive(Clone)]
pub struct Registry(pub Arc<dyn kernel::registry::ResidentRegistry>);
