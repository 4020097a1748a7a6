//! The routes of payments.

use axum::routing::{get, post};
use axum::Router;

use super::state::PaymentsState;
use super::{pay_pages, simulator_pages, staff_pages, webhook_route};

pub fn router(state: PaymentsState) -> Router {
    Router::new()
        .route("/t/{tenant}/staff/payments", get(staff_pages::list_get))
        .route(
            "/t/{tenant}/staff/payments/charges/new",
            get(staff_pages::new_get).post(staff_pages::new_post),
        )
        .route(
            "/t/{tenant}/staff/payments/charges/{id}",
            get(staff_pages::charge_get),
        )
        .route(
            "/t/{tenant}/staff/payments/charges/{id}/cancel",
            post(staff_pages::cancel_post),
        )
        .route(
            "/t/{tenant}/pay",
            get(pay_pages::find_get).post(pay_pages::find_post),
        )
        .route(
            "/t/{tenant}/pay/{number}/{code}",
            get(pay_pages::charge_get),
        )
        .route(
            "/t/{tenant}/pay/{number}/{code}/online",
            post(pay_pages::online_post),
        )
        .route(
            "/t/{tenant}/pay/{number}/{code}/result/{id}",
            get(pay_pages::result_get),
        )
        .route(
            "/t/{tenant}/payments/simulator/{id}",
            get(simulator_pages::simulator_get).post(simulator_pages::simulator_post),
        )
        .route(
            "/t/{tenant}/payments/webhooks/{provider}",
            post(webhook_route::webhook_post),
        )
        .with_state(state)
}
