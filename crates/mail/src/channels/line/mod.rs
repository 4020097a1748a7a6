//! The LINE Messaging API channel of a municipality's official account.
//! [`channel`]: its secret and token (sealed); [`signature`]: the
//! `X-Line-Signature` check; [`webhook`]: follow, message and unfollow
//! events; [`users`]: LINE users pending, linked or unfollowed and their
//! categories; [`link_pages`]: the one-time confirmation page; [`push`]:
//! sent messages pushed through the job queue (`line.push`); [`api`]: the
//! requests madoguchi makes to LINE; [`staff_pages`]: the system
//! administrator's page.

pub mod api;
pub mod channel;
pub mod link_pages;
pub mod push;
pub mod signature;
pub mod staff_pages;
pub mod users;
pub mod webhook;
pub mod webhook_route;
