//! What the newsletter pages share.

use axum::extract::FromRef;
use kernel::auth::SessionPolicy;
use kernel::Db;

use super::send::Sender;

#[derive(Clone, FromRef)]
pub struct NewsletterState {
    pub db: Db,
    pub session: SessionPolicy,
    pub sender: Sender,
}
