//! The navigator's HTTP surface: the resident's questionnaire and list,
//! the back-office editor, and their API.

use axum::routing::{get, post};
use axum::Router;

use crate::state::NaviState;
use crate::{edit_api, edit_pages, pages};

pub fn router(state: NaviState) -> Router {
    Router::new()
        .merge(resident())
        .merge(editor_pages())
        .merge(editor_api())
        .with_state(state)
}

fn resident() -> Router<NaviState> {
    Router::new()
        .route("/t/{tenant}/navi", get(pages::index))
        .route("/t/{tenant}/navi/{code}", get(pages::questions))
        .route("/t/{tenant}/navi/{code}/result", get(pages::result))
        .route("/api/v1/t/{tenant}/navi/{code}", get(pages::api))
}

fn editor_pages() -> Router<NaviState> {
    Router::new()
        .route("/t/{tenant}/staff/navi", get(edit_pages::list))
        .route(
            "/t/{tenant}/staff/navi/new",
            get(edit_pages::new_form).post(edit_pages::create),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}",
            get(edit_pages::edit).post(edit_pages::save),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}/preview",
            get(edit_pages::preview),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}/preview/result",
            get(edit_pages::preview_result),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}/publish",
            post(edit_pages::publish),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}/restore",
            post(edit_pages::restore),
        )
}

fn editor_api() -> Router<NaviState> {
    Router::new()
        .route("/api/v1/t/{tenant}/staff/navi", get(edit_api::list))
        .route(
            "/api/v1/t/{tenant}/staff/navi/{code}",
            get(edit_api::get).put(edit_api::put),
        )
        .route(
            "/api/v1/t/{tenant}/staff/navi/{code}/versions",
            get(edit_api::versions),
        )
        .route(
            "/api/v1/t/{tenant}/staff/navi/{code}/restore",
            post(edit_api::restore),
        )
}
