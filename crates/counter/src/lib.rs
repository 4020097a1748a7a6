//! Smart counter (待たない窓口): a kiosk issues numbered tickets (整理券)
//! per counter, residents follow their place on a status page (QR code on
//! the ticket), clerks call, recall, mark absent, transfer and finish, and
//! a display board shows who is called, live over Server-Sent Events.
//! The congestion page shows how busy each counter is and when it is
//! usually quiet, with the history as open data ([`congestion`]).

pub mod call_event;
pub mod congestion;
mod congestion_pages;
pub mod events;
pub mod queue;
mod routes;
pub mod state;
mod ticket_pages;
pub mod view;

pub use events::Events;
pub use routes::router;
pub use state::{CounterState, PublicUrl};
