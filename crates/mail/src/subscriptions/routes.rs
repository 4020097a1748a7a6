//! The HTTP surface of subscriptions: residents' pages (no account
//! needed) and the system administrator's pages.

use axum::routing::{get, post};
use axum::Router;

use super::state::SubscriptionsState;
use super::{pages, staff_pages};

pub fn router(state: SubscriptionsState) -> Router {
    Router::new()
        .route(
            "/t/{tenant}/mail",
            get(pages::sign_up_get).post(pages::sign_up_post),
        )
        .route(
            "/t/{tenant}/mail/confirm/{token}",
            get(pages::confirm_get).post(pages::confirm_post),
        )
        .route(
            "/t/{tenant}/mail/preferences/{subscriber}/{token}",
            get(pages::preferences_get).post(pages::preferences_post),
        )
        .route(
            "/t/{tenant}/mail/unsubscribe/{subscriber}/{token}",
            get(pages::unsubscribe_get).post(pages::unsubscribe_post),
        )
        .route(
            "/t/{tenant}/staff/mail/categories",
            get(staff_pages::categories_get).post(staff_pages::category_add),
        )
        .route(
            "/t/{tenant}/staff/mail/categories/{code}",
            get(staff_pages::category_get).post(staff_pages::category_rename),
        )
        .route(
            "/t/{tenant}/staff/mail/categories/{code}/move",
            post(staff_pages::category_move),
        )
        .route(
            "/t/{tenant}/staff/mail/categories/{code}/active",
            post(staff_pages::category_active),
        )
        .route(
            "/t/{tenant}/staff/mail/categories/{code}/delete",
            post(staff_pages::category_delete),
        )
        .route(
            "/t/{tenant}/staff/mail/subscribers",
            get(staff_pages::subscribers_get),
        )
        .route(
            "/t/{tenant}/staff/mail/subscribers/import",
            get(staff_pages::import_get).post(staff_pages::import_post),
        )
        .route(
            "/t/{tenant}/staff/mail/subscribers/{id}",
            get(staff_pages::subscriber_get),
        )
        .with_state(state)
}
