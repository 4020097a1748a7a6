//! 窓口 (desk): the counter's work for residents in person. 書かない窓口:
//! a clerk fills in an application for the resident from the resident
//! register (住民記録) or the My Number card; the resident checks it on a
//! second screen and signs. 回らない窓口: one visit for a life event opens
//! a case in every department concerned, with one identity check and a
//! routing sheet (案内票). Both print their documents (PDF).

pub mod assisted;
pub mod entries;
pub mod print;
pub mod register;
pub mod routes;
pub mod state;
pub mod visits;

mod assisted_api;
mod assisted_pages;
mod visit_api;
mod visit_pages;

pub use routes::router;
pub use state::{DeskState, Registry};
