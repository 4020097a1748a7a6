//! 公金 (public charges): what residents owe the municipality and how it
//! is paid. A charge (調定, [`charges`]) is what one payer owes for one
//! subject and period; every amount received against it, by whatever
//! channel, is a receipt recorded once under the channel's own key, and
//! the charge's status follows from the amounts.

pub mod charges;
pub mod conveni;
pub mod demo;
pub mod el_number;
pub mod elqr;
pub mod fixed;
pub mod gs1;
pub mod listing;
pub mod number;
pub mod online;
pub mod provider;
pub mod reconcile;
pub mod reconcile_pages;
pub mod rekey;
pub mod signature;
pub mod simulator;
pub mod slip_pdf;
pub mod slips;
pub mod subjects;
pub mod web;
pub mod webhooks;
pub mod zengin;

pub use web::{router, PaymentsState};
