//! The HTTP surface of 配信 (staff pages under `/t/{tenant}/staff/mail/messages`).

use axum::routing::{get, post};
use axum::Router;

use super::pages;
use super::state::NewsletterState;

pub fn router(state: NewsletterState) -> Router {
    let m = "/t/{tenant}/staff/mail/messages";
    Router::new()
        .route(m, get(pages::list).post(pages::create))
        .route(&format!("{m}/new"), get(pages::new_form))
        .route(&format!("{m}/settings"), post(pages::set_threshold))
        .route(&format!("{m}/my-address"), post(pages::set_address))
        .route(&format!("{m}/{{id}}"), get(pages::show).post(pages::update))
        .route(&format!("{m}/{{id}}/edit"), get(pages::edit_form))
        .route(&format!("{m}/{{id}}/submit"), post(pages::submit))
        .route(&format!("{m}/{{id}}/approve"), post(pages::approve))
        .route(&format!("{m}/{{id}}/cancel"), post(pages::cancel))
        .route(&format!("{m}/{{id}}/test"), post(pages::test_send))
        .with_state(state)
}
