//! The catalogue's HTTP surface: portal and procedure pages, the staff
//! catalogue editor, and their JSON API.

use axum::routing::{get, post, put};
use axum::Router;

use crate::state::CatalogueState;
use crate::{api, builder_pages as fb, pages, staff_pages};

pub fn router(state: CatalogueState) -> Router {
    Router::new()
        .merge(resident_pages())
        .merge(staff())
        .merge(json_api())
        .with_state(state)
}

fn resident_pages() -> Router<CatalogueState> {
    Router::new()
        .route("/t/{tenant}", get(pages::tenant_home))
        .route("/t/{tenant}/procedures", get(pages::procedure_list))
        .route("/t/{tenant}/procedures/{id}", get(pages::procedure_detail))
}

fn staff() -> Router<CatalogueState> {
    Router::new()
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
        .merge(form_builder())
}

/// フォームビルダー: a procedure's form built field by field, previewed
/// and published as a new version.
fn form_builder() -> Router<CatalogueState> {
    const F: &str = "/t/{tenant}/staff/catalogue/{id}/form";
    let at = |p: &str| format!("{F}{p}");
    Router::new()
        .route(F, get(fb::builder))
        .route(&at("/add"), get(fb::add_form).post(fb::add))
        .route(&at("/fields/{name}"), get(fb::edit_form).post(fb::edit))
        .route(&at("/fields/{name}/move"), post(fb::move_field))
        .route(
            &at("/fields/{name}/delete"),
            get(fb::delete_form).post(fb::delete),
        )
        .route(&at("/undo"), post(fb::undo))
        .route(&at("/discard"), post(fb::discard))
        .route(&at("/json"), post(fb::import_json))
        .route(&at("/preview"), get(fb::preview))
        .route(&at("/preview-field"), post(fb::preview_field))
        .route(&at("/publish"), post(fb::publish))
        .route(&at("/share"), post(fb::share))
        .route(&at("/unshare"), post(fb::unshare))
        .route(&at("/templates"), get(fb::template_list))
        .route(&at("/templates/use"), post(fb::use_template))
}

fn json_api() -> Router<CatalogueState> {
    Router::new()
        .route("/api/v1/t/{tenant}", get(api::tenant))
        .route("/api/v1/t/{tenant}/procedures", get(api::procedures))
        .route("/api/v1/t/{tenant}/procedures/{id}", get(api::procedure))
        .route(
            "/api/v1/t/{tenant}/postal-codes/{code}",
            get(api::postal_code),
        )
        .route(
            "/api/v1/t/{tenant}/staff/procedures/{id}",
            put(api::save_procedure),
        )
        .route(
            "/api/v1/t/{tenant}/staff/catalogue",
            get(api::export_catalogue).post(api::import_catalogue),
        )
}
