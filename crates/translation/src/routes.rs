//! The HTTP surface of 翻訳の状況: the staff's overview and reviews, and
//! their JSON API.

use axum::routing::{get, post, put};
use axum::Router;

use crate::state::TranslationState;
use crate::{api, staff_pages};

pub fn router(state: TranslationState) -> Router {
    Router::new()
        .route("/t/{tenant}/staff/translations", get(staff_pages::overview))
        .route(
            "/t/{tenant}/staff/translations/{kind}/{id}/{lang}/review",
            post(staff_pages::review),
        )
        .route(
            "/t/{tenant}/staff/translations/{kind}/{id}/{lang}/unreview",
            post(staff_pages::unreview),
        )
        .route("/api/v1/t/{tenant}/staff/translations", get(api::list))
        .route(
            "/api/v1/t/{tenant}/staff/translations/{kind}/{entry}/{lang}/review",
            put(api::review).delete(api::unreview),
        )
        .with_state(state)
}
