//! よめーる: subscriptions to a municipality's mail by category.
//!
//! - [`categories`]: what residents may subscribe to, edited by staff;
//! - [`subscribers`]: sign-up with double opt-in (a confirmation link
//!   valid [`subscribers::CONFIRM_VALID_HOURS`] hours, stored as its
//!   SHA-256), confirmation, preferences and unsubscribing (the
//!   preferences and one-click unsubscribe links are [`crate::links`]);
//! - [`import`]: a municipality's existing list, all or nothing;
//! - [`admin`]: the subscriber list for staff (audited), housekeeping
//!   (the job [`PURGE_JOB`]) and key rotation.

pub mod admin;
pub mod categories;
mod form;
pub mod import;
mod pages;
mod routes;
mod staff_pages;
pub mod state;
pub mod subscribers;

pub use routes::router;
pub use state::{PublicUrl, SubscriptionsState};

/// The job that deletes unsubscribed addresses after the retention period
/// and sign-ups never confirmed ([`admin::purge`]).
pub const PURGE_JOB: &str = "mail.subscribers.purge";
