//! The desk's HTTP surface: 書かない窓口 (the clerk's pages, the
//! resident's second screen) and 回らない窓口 (visits), with their API.

use axum::routing::{get, post};
use axum::Router;

use crate::state::DeskState;
use crate::{assisted_api, assisted_pages, visit_api, visit_pages};

pub fn router(state: DeskState) -> Router {
    Router::new()
        .merge(assisted())
        .merge(second_screen())
        .merge(visits())
        .merge(json_api())
        .with_state(state)
}

fn assisted() -> Router<DeskState> {
    Router::new()
        .route(
            "/t/{tenant}/staff/assist",
            get(assisted_pages::start_get).post(assisted_pages::start_post),
        )
        .route(
            "/t/{tenant}/staff/assist/{id}",
            get(assisted_pages::entry_get).post(assisted_pages::entry_save),
        )
        .route(
            "/t/{tenant}/staff/assist/{id}/application.pdf",
            get(assisted_pages::entry_pdf),
        )
        .route(
            "/t/{tenant}/staff/assist/{id}/{action}",
            post(assisted_pages::entry_action),
        )
}

fn second_screen() -> Router<DeskState> {
    Router::new()
        .route(
            "/t/{tenant}/assist/{id}/{token}",
            get(assisted_pages::confirm_get),
        )
        .route(
            "/t/{tenant}/assist/{id}/{token}/sign",
            post(assisted_pages::confirm_sign),
        )
        .route(
            "/t/{tenant}/assist/{id}/{token}/card",
            post(assisted_pages::confirm_card),
        )
        .route(
            "/t/{tenant}/assist/{id}/{token}/read-card",
            post(assisted_pages::confirm_read_card),
        )
}

fn visits() -> Router<DeskState> {
    Router::new()
        .route(
            "/t/{tenant}/staff/visits",
            get(visit_pages::list).post(visit_pages::create),
        )
        .route("/t/{tenant}/staff/visits/new", get(visit_pages::new_visit))
        .route(
            "/t/{tenant}/staff/visits/preview",
            post(visit_pages::preview),
        )
        .route("/t/{tenant}/staff/visits/{id}", get(visit_pages::view))
        .route(
            "/t/{tenant}/staff/visits/{id}/routing.pdf",
            get(visit_pages::routing_sheet),
        )
}

fn json_api() -> Router<DeskState> {
    Router::new()
        .route(
            "/api/v1/t/{tenant}/staff/registry/residents",
            get(assisted_api::registry_search),
        )
        .route(
            "/api/v1/t/{tenant}/staff/assisted-entries",
            post(assisted_api::create),
        )
        .route(
            "/api/v1/t/{tenant}/staff/assisted-entries/{id}",
            get(assisted_api::get).put(assisted_api::save),
        )
        .route(
            "/api/v1/t/{tenant}/staff/assisted-entries/{id}/{action}",
            post(assisted_api::action),
        )
        .route(
            "/api/v1/t/{tenant}/assist/{id}/{token}/signature",
            post(assisted_api::sign),
        )
        .route(
            "/api/v1/t/{tenant}/life-events",
            get(visit_api::life_events),
        )
        .route(
            "/api/v1/t/{tenant}/staff/visits",
            get(visit_api::list).post(visit_api::create),
        )
        .route("/api/v1/t/{tenant}/staff/visits/{id}", get(visit_api::get))
}
