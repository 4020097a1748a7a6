//! What every madoguchi slice needs and nothing more: configuration, the
//! database and its migrations, tenants, the error type and its mapping to
//! HTTP, the audit log, the staff session, i18n and the HTML layout.

pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod csrf;
pub mod db;
pub mod error;
pub mod events;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod migrate;
pub mod password;
pub mod prefs;
pub mod ratelimit;
pub mod readings;
pub mod registry;
pub mod resident;
pub mod ruby;
pub mod schema;
pub mod secrets;
pub mod tenant;
#[cfg(test)]
mod test_db;
pub mod totp;
pub mod web;

pub use db::Db;
pub use error::{AppError, AppResult, FieldError};
pub use i18n::Lang;
pub use tenant::TenantCode;
