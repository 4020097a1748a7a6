//! The HTTP surface of payments: the treasurer's charge pages
//! ([`staff_pages`], the new-charge form read by [`charge_form`]), the
//! resident's payment pages ([`pay_pages`]), the simulator's page
//! ([`simulator_pages`]) and the providers' webhooks ([`webhook_route`]).

mod charge_form;
mod fields;
mod pay_pages;
mod routes;
mod simulator_pages;
mod staff_pages;
pub mod state;
mod webhook_route;

pub use routes::router;
pub use state::PaymentsState;
