//! The routes of the other channels.

use axum::routing::{get, post};
use axum::Router;

use super::line::{link_pages, staff_pages, webhook_route};
use super::{feed_pages, ChannelsState};

pub fn router(state: ChannelsState) -> Router {
    Router::new()
        .route("/t/{tenant}/mail/feeds/{file}", get(feed_pages::feed))
        .route(
            "/t/{tenant}/line/webhook",
            post(webhook_route::webhook_post),
        )
        .route(
            "/t/{tenant}/line/link/{token}",
            get(link_pages::link_page).post(link_pages::link_post),
        )
        .route(
            "/t/{tenant}/staff/line",
            get(staff_pages::line_page).post(staff_pages::line_post),
        )
        .route(
            "/api/v1/t/{tenant}/staff/line/channel",
            get(webhook_route::channel_get).put(webhook_route::channel_put),
        )
        .with_state(state)
}
