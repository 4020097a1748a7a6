//! 手続 (procedures): the catalogue a municipality keeps (versions, undo,
//! CSV/JSON import and export), the form engine (one definition → HTML
//! form, validation, JSON Schema), and the pages residents find procedures
//! on: the municipality's home page, the list and each procedure's page.

pub mod builder;
pub mod builder_store;
pub mod csv_io;
pub mod events;
pub mod form;
pub mod form_json;
pub mod model;
pub mod routes;
pub mod rules;
pub mod search_docs;
pub mod state;
pub mod store;
pub mod templates;
pub mod translations;
pub mod view;

mod api;
mod builder_pages;
mod builder_view;
mod pages;
mod staff_pages;

pub use model::{Procedure, StoredProcedure};
pub use routes::router;
pub use state::CatalogueState;
pub use store::Cache;
