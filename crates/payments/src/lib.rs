//! 公金 (public charges): what residents owe the municipality and how it
//! is paid. A charge (調定, [`charges`]) is what one payer owes for one
//! subject and period; every amount received against it, by whatever
//! channel, is a receipt recorded once under the channel's own key, and
//! the charge's status follows from the amounts.

pub mod charges;
pub mod conveni;
pub mod el_number;
pub mod elqr;
pub mod fixed;
pub mod gs1;
pub mod number;
pub mod reconcile;
pub mod reconcile_pages;
pub mod slip_pdf;
pub mod slips;
pub mod zengin;
