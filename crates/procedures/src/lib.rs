//! 手続 (procedures): the catalogue, the form engine, applications (申請)
//! and their workflow, and the online-ratio KPIs computed from them.

pub mod applications;
pub mod assisted;
pub mod catalogue;
pub mod committer;
pub mod csv_io;
pub mod form;
pub mod intake;
pub mod kpi;
pub mod model;
pub mod navi_editor;
pub mod navi_store;
pub mod print;
pub mod register;
pub mod routes;
pub mod search_docs;
pub mod visits;
pub mod workflow;

mod api;
mod assisted_api;
mod assisted_pages;
mod navi;
mod navi_edit_api;
mod navi_edit_pages;
mod pages;
mod staff_pages;
mod view;
mod visit_api;
mod visit_pages;

pub use committer::Committer;
pub use model::Procedure;
pub use routes::{router, ProceduresState};
