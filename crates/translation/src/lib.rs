//! 翻訳の状況 (translation status): for each entry of a city's content
//! (a procedure, an FAQ, a life event, a counter, a department, the city's
//! own texts) and each language but Japanese, where its translation came
//! from (機械支援翻訳 or staff) and who reviewed it (確認者) and when; and
//! the staff's overview of what is missing, unreviewed or reviewed.
//!
//! Content crates describe their entries through an [`EntrySource`]
//! (catalogue and guide implement it; the kernel's own texts are
//! [`source::TenantTexts`]); their editors show each language's state with
//! [`view::ReviewPanel`] and call [`marks::staff_saved`] when staff save
//! a translation.

pub mod api;
pub mod marks;
pub mod model;
pub mod overview;
mod routes;
pub mod source;
mod staff_pages;
pub mod state;
pub mod view;

pub use model::{Entry, EntryKind, Mark, Origin};
pub use routes::router;
pub use source::{EntriesFuture, EntrySource};
pub use state::TranslationState;
