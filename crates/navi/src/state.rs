//! What the navigator's handlers share.

use std::sync::Arc;

use axum::extract::FromRef;
use catalogue::Cache;
use kernel::auth::SessionPolicy;
use kernel::Db;

#[derive(Clone, FromRef)]
pub struct NaviState {
    pub db: Db,
    /// The catalogue's procedures, which the lists name.
    pub cache: Arc<Cache>,
    /// Re-indexed when a questionnaire is published or restored.
    pub search: search::Search,
    pub session: SessionPolicy,
}
