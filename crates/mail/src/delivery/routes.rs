//! The delivery's routes: the system administrator's 配信状況 page (with
//! the test connection), メールの設定 and the demo mailbox, and the
//! outbox API.

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use kernel::auth::SessionPolicy;
use kernel::Db;

use super::{api, pages, settings_pages, Deliverer};

/// What the delivery pages share.
#[derive(Clone, FromRef)]
pub struct DeliveryState {
    pub db: Db,
    pub session: SessionPolicy,
    pub deliverer: Deliverer,
}

pub fn router(state: DeliveryState) -> Router {
    Router::new()
        .route("/t/{tenant}/staff/mail/outbox", get(pages::outbox_page))
        .route(
            "/t/{tenant}/staff/mail/outbox/{id}/resend",
            post(pages::resend_post),
        )
        .route(
            "/t/{tenant}/staff/mail/outbox/test-connection",
            post(pages::test_connection_post),
        )
        .route(
            "/t/{tenant}/staff/mail/settings",
            get(settings_pages::settings_page).post(settings_pages::settings_post),
        )
        .route("/t/{tenant}/staff/mail/demo", get(pages::demo_page))
        .route("/api/v1/t/{tenant}/staff/mail/outbox", get(api::list))
        .route(
            "/api/v1/t/{tenant}/staff/mail/outbox/{id}/resend",
            post(api::resend),
        )
        .with_state(state)
}
