//! What the counter's handlers share.

use axum::extract::FromRef;
use kernel::auth::SessionPolicy;
use kernel::Db;

use crate::events::Events;
use crate::{congestion, queue};

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
