//! Smart counter (待たない窓口): a kiosk issues numbered tickets (整理券)
//! per counter, residents follow their place on a status page (QR code on
//! the ticket), clerks call, recall, mark absent, transfer and finish, and
//! a display board shows who is called, live over Server-Sent Events.
//! The congestion page shows how busy each counter is and when it is
//! usually quiet, with the history as open data ([`congestion`]).

pub mod congestion;
mod congestion_routes;
pub mod events;
pub mod queue;
mod routes;

use axum::extract::FromRef;
pub use events::Events;
use kernel::auth::SessionPolicy;
use kernel::Db;
pub use routes::router;

#[derive(Clone, FromRef)]
pub struct CounterState {
    pub db: Db,
    pub session: SessionPolicy,
    pub events: Events,
    pub issuer: queue::Issuer,
    pub public_url: PublicUrl,
    pub forecasts: congestion::ForecastCache,
}

#[derive(Clone)]
pub struct PublicUrl(pub std::sync::Arc<str>);

impl PublicUrl {
    pub fn new(url: &str) -> Self {
        PublicUrl(url.into())
    }
}
