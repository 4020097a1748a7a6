//! 手続ナビ (迷わない窓口): for a life event, a few yes/no questions lead
//! to the resident's own list of procedures (online or at which counter,
//! what to bring, fee, deadline). The questionnaires are the tenant's
//! life-event bundles, which the one-stop desk uses too, edited in the
//! back office with drafts, a preview, publishing and versions.

pub mod editor;
pub mod plan;
pub mod routes;
pub mod search_docs;
pub mod state;
pub mod store;
pub mod workspace;

mod edit_api;
mod edit_pages;
mod edit_view;
mod pages;

pub use routes::router;
pub use state::NaviState;
