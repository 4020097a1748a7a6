//! The catalogue's events on the deployment's bus (`kernel::events`).

/// A tenant's procedures changed (saved, published, restored, imported):
/// every server drops what it keeps of them ([`crate::store::Cache`]).
/// The body is empty; the event's tenant says whose.
pub const CHANGED: &str = "catalogue.changed";
