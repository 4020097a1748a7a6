//! 納付書 (payment slips): a municipality's slip settings ([`settings`])
//! and the staff pages that set them and print a charge's slip
//! ([`pages`]). The slip itself is [`crate::slip_pdf`].

pub mod issues;
pub mod pages;
pub mod settings;

use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use kernel::auth::SessionPolicy;
use kernel::Db;

/// What the slip handlers share.
#[derive(Clone, FromRef)]
pub struct SlipsState {
    pub db: Db,
    pub session: SessionPolicy,
    pub font: paper::Font,
}

pub fn router(state: SlipsState) -> Router {
    Router::new()
        .route(
            "/t/{tenant}/staff/payments/slips/settings",
            get(pages::settings_page).post(pages::settings_post),
        )
        .route(
            "/t/{tenant}/staff/payments/charges/{id}/slip.pdf",
            get(pages::slip_pdf),
        )
        .with_state(state)
}
