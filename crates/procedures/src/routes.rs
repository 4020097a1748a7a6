//! The procedures slice's HTTP surface: resident pages, staff pages and the
//! JSON API, all thin over the modules that hold the rules.

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use kernel::auth::SessionPolicy;
use kernel::Db;

use crate::applications::Links;
use crate::committer::Committer;
use crate::{
    api, assisted_api, assisted_pages, navi, navi_edit_api, navi_edit_pages, pages, staff_pages,
    visit_api, visit_pages,
};

#[derive(Clone, FromRef)]
pub struct ProceduresState {
    pub db: Db,
    pub links: Links,
    pub committer: Committer,
    pub cache: std::sync::Arc<crate::catalogue::Cache>,
    pub session: SessionPolicy,
    pub limits: Limits,
    pub vault: kernel::crypto::Vault,
    pub residents: kernel::resident::ResidentCache,
    /// The resident register (住民記録) for counter entry and visits.
    pub registry: Registry,
    pub printer: crate::print::Printer,
}

/// The resident register behind a cheap clone.
#[derive(Clone)]
pub struct Registry(pub std::sync::Arc<dyn kernel::registry::ResidentRegistry>);

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_attachment_bytes: u64,
}

pub fn router(state: ProceduresState) -> Router {
    let html = Router::new()
        .route("/t/{tenant}", get(pages::tenant_home))
        .route("/t/{tenant}/procedures", get(pages::procedure_list))
        .route("/t/{tenant}/navi", get(navi::index))
        .route("/t/{tenant}/navi/{code}", get(navi::questions))
        .route("/t/{tenant}/navi/{code}/result", get(navi::result))
        .route("/t/{tenant}/procedures/{id}", get(pages::procedure_detail))
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
        .route("/t/{tenant}/my/{receipt}/{token}", get(pages::my_case))
        .route(
            "/t/{tenant}/my/{receipt}/{token}/correct",
            get(pages::correct_form).post(pages::correct_post),
        )
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
        .route("/t/{tenant}/staff/catalogue", get(staff_pages::catalogue))
        .route(
            "/t/{tenant}/staff/catalogue/export.csv",
            get(staff_pages::export_csv),
        )
        .route(
            "/t/{tenant}/staff/catalogue/export.json",
            get(staff_pages::export_json),
        )
        .route(
            "/t/{tenant}/staff/catalogue/import",
            post(staff_pages::import_post),
        )
        .route(
            "/t/{tenant}/staff/catalogue/new",
            get(staff_pages::new_procedure).post(staff_pages::create_procedure),
        )
        .route(
            "/t/{tenant}/staff/catalogue/{id}",
            get(staff_pages::edit_procedure).post(staff_pages::save_procedure),
        )
        .route(
            "/t/{tenant}/staff/catalogue/{id}/restore",
            post(staff_pages::restore_procedure),
        )
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
        .route("/t/{tenant}/staff/navi", get(navi_edit_pages::list))
        .route(
            "/t/{tenant}/staff/navi/new",
            get(navi_edit_pages::new_form).post(navi_edit_pages::create),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}",
            get(navi_edit_pages::edit).post(navi_edit_pages::save),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}/preview",
            get(navi_edit_pages::preview),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}/preview/result",
            get(navi_edit_pages::preview_result),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}/publish",
            post(navi_edit_pages::publish),
        )
        .route(
            "/t/{tenant}/staff/navi/{code}/restore",
            post(navi_edit_pages::restore),
        )
        .route("/t/{tenant}/staff/kpi", get(staff_pages::kpi_page))
        .route("/t/{tenant}/staff/audit", get(staff_pages::audit_page));
    let api = Router::new()
        .route("/api/v1/t/{tenant}", get(api::tenant))
        .route("/api/v1/t/{tenant}/procedures", get(api::procedures))
        .route("/api/v1/t/{tenant}/procedures/{id}", get(api::procedure))
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
        .route("/api/v1/t/{tenant}/kpi", get(api::kpi))
        .route("/api/v1/t/{tenant}/navi/{code}", get(navi::api))
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
            "/api/v1/t/{tenant}/staff/procedures/{id}",
            axum::routing::put(api::save_procedure),
        )
        .route(
            "/api/v1/t/{tenant}/staff/procedures/{id}/applications",
            post(api::staff_submit),
        )
        .route(
            "/api/v1/t/{tenant}/staff/catalogue",
            get(api::export_catalogue).post(api::import_catalogue),
        )
        .route("/api/v1/t/{tenant}/staff/navi", get(navi_edit_api::list))
        .route(
            "/api/v1/t/{tenant}/staff/navi/{code}",
            get(navi_edit_api::get).put(navi_edit_api::put),
        )
        .route(
            "/api/v1/t/{tenant}/staff/navi/{code}/versions",
            get(navi_edit_api::versions),
        )
        .route(
            "/api/v1/t/{tenant}/staff/navi/{code}/restore",
            post(navi_edit_api::restore),
        )
        .route("/api/v1/t/{tenant}/staff/outbox", get(api::outbox))
        .route("/api/v1/t/{tenant}/staff/audit", get(api::audit));
    html.merge(api).with_state(state)
}
