//! The guide's HTTP surface: the residents' FAQ and chatbot pages, the
//! staff's FAQ editor and knowledge section, and their JSON API.

use axum::routing::{get, post};
use axum::Router;

use crate::state::GuideState;
use crate::{chat_api, chat_pages, faq_api, faq_pages, faq_staff};

pub fn router(state: GuideState) -> Router {
    let html = Router::new()
        .route("/t/{tenant}/faq", get(faq_pages::index))
        .route("/t/{tenant}/faq/{id}", get(faq_pages::entry))
        .route("/t/{tenant}/faq/{id}/feedback", post(faq_pages::feedback))
        .route(
            "/t/{tenant}/chat",
            get(chat_pages::page).post(chat_pages::post),
        )
        .route("/t/{tenant}/staff/faq", get(faq_staff::list))
        .route(
            "/t/{tenant}/staff/faq/new",
            get(faq_staff::new_entry).post(faq_staff::create),
        )
        .route(
            "/t/{tenant}/staff/faq/{id}",
            get(faq_staff::edit).post(faq_staff::save),
        )
        .route(
            "/t/{tenant}/staff/faq/{id}/restore",
            post(faq_staff::restore),
        )
        .route("/t/{tenant}/staff/knowledge", get(faq_staff::knowledge))
        .route(
            "/t/{tenant}/staff/knowledge/{id}",
            get(faq_staff::knowledge_entry),
        );
    let api = Router::new()
        .route("/api/v1/t/{tenant}/chat", post(chat_api::post))
        .route("/api/v1/t/{tenant}/faq", get(faq_api::list))
        .route("/api/v1/t/{tenant}/faq/{id}", get(faq_api::get))
        .route(
            "/api/v1/t/{tenant}/faq/{id}/feedback",
            post(faq_api::feedback),
        )
        .route(
            "/api/v1/t/{tenant}/staff/faq",
            get(faq_api::staff_list).post(faq_api::staff_create),
        )
        .route(
            "/api/v1/t/{tenant}/staff/faq/{id}",
            get(faq_api::staff_get).put(faq_api::staff_save),
        )
        .route(
            "/api/v1/t/{tenant}/staff/faq/{id}/restore",
            post(faq_api::staff_restore),
        );
    html.merge(api).with_state(state)
}
