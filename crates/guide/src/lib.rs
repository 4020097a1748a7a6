//! 案内 (guide): the FAQ (よくある質問) with "was this helpful" feedback,
//! the staff's knowledge (ナレッジ) kept in the same store, and the
//! chatbot that answers from the FAQ, the procedures and the navigator.

pub mod chat;
pub mod faq;
pub mod feedback;
pub mod llm;
pub mod routes;
pub mod search_docs;
pub mod state;
pub mod translations;
pub mod view;

mod chat_api;
mod chat_pages;
mod faq_api;
mod faq_pages;
mod faq_staff;

pub use routes::router;
pub use state::GuideState;
