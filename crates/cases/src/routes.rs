//! The HTTP surface of cases: the resident's application pages and case
//! view, the staff case list and case page, the KPI page, and their API.

use axum::routing::{get, post};
use axum::Router;

use crate::state::CasesState;
use crate::{api, lookup_pages, pages, staff_pages};

pub fn router(state: CasesState) -> Router {
    Router::new()
        .merge(resident_pages())
        .merge(staff())
        .merge(resident_api())
        .merge(staff_api())
        .with_state(state)
}

fn resident_pages() -> Router<CasesState> {
    Router::new()
        .route(
            "/t/{tenant}/procedures/{id}/apply",
            get(pages::apply_form).post(pages::apply_post),
        )
        .route(
            "/t/{tenant}/procedures/{id}/apply/check",
            get(pages::check_page),
        )
        .route(
            "/t/{tenant}/procedures/{id}/apply/submit",
            post(pages::submit_post),
        )
        .route("/t/{tenant}/drafts/{token}", get(pages::resume_draft))
        .route(
            "/t/{tenant}/status",
            get(lookup_pages::status_form).post(lookup_pages::status_post),
        )
        .route("/t/{tenant}/my", get(lookup_pages::my_list))
        .route("/t/{tenant}/my/{receipt}/{token}", get(pages::my_case))
        .route(
            "/t/{tenant}/my/{receipt}/{token}/correct",
            get(pages::correct_form).post(pages::correct_post),
        )
}

fn staff() -> Router<CasesState> {
    Router::new()
        .route("/t/{tenant}/staff", get(staff_pages::staff_home))
        .route("/t/{tenant}/staff/cases", get(staff_pages::case_list))
        .route(
            "/t/{tenant}/staff/cases/{id}",
            get(staff_pages::case_detail),
        )
        .route(
            "/t/{tenant}/staff/cases/{id}/action",
            post(staff_pages::case_action),
        )
        .route(
            "/t/{tenant}/staff/cases/{id}/reveal",
            post(staff_pages::case_reveal),
        )
        .route(
            "/t/{tenant}/staff/cases/{id}/comment",
            post(staff_pages::case_comment),
        )
        .route(
            "/t/{tenant}/staff/cases/{id}/assign",
            post(staff_pages::case_assign),
        )
        .route(
            "/t/{tenant}/staff/cases/{id}/attachments/{aid}",
            get(staff_pages::case_attachment),
        )
        .route("/t/{tenant}/staff/kpi", get(staff_pages::kpi_page))
}

fn resident_api() -> Router<CasesState> {
    Router::new()
        .route(
            "/api/v1/t/{tenant}/procedures/{id}/validate",
            post(api::validate),
        )
        .route(
            "/api/v1/t/{tenant}/procedures/{id}/applications",
            post(api::submit),
        )
        .route("/api/v1/t/{tenant}/drafts", post(api::create_draft))
        .route(
            "/api/v1/t/{tenant}/drafts/{token}",
            get(api::get_draft).put(api::put_draft),
        )
        .route(
            "/api/v1/t/{tenant}/my/{receipt}/{token}",
            get(api::my_case).put(api::my_resubmit),
        )
        .route("/api/v1/t/{tenant}/status", post(api::status_lookup))
        .route("/api/v1/t/{tenant}/kpi", get(api::kpi))
}

fn staff_api() -> Router<CasesState> {
    Router::new()
        .route("/api/v1/t/{tenant}/staff/cases", get(api::cases))
        .route("/api/v1/t/{tenant}/staff/cases/{id}", get(api::case))
        .route(
            "/api/v1/t/{tenant}/staff/cases/{id}/actions",
            post(api::case_action),
        )
        .route(
            "/api/v1/t/{tenant}/staff/cases/{id}/comments",
            post(api::case_comment),
        )
        .route(
            "/api/v1/t/{tenant}/staff/cases/{id}/assign",
            post(api::case_assign),
        )
        .route(
            "/api/v1/t/{tenant}/staff/procedures/{id}/applications",
            post(api::staff_submit),
        )
        .route("/api/v1/t/{tenant}/staff/outbox", get(api::outbox))
}
