//! 申請 (cases): applications from every channel (online, the counter, a
//! clerk for the resident), drafts and attachments, the one intake every
//! submission goes through, the group committer that writes them, the
//! workflow (受付 → 審査中 → 補正依頼 → 承認 / 却下 → 完了), life-event
//! visits as stored, the online-ratio KPIs computed from all of it, and
//! the resident's ways back to a case: 申請状況の確認 (receipt number and
//! one factor) and 申請の一覧 (a signed-in resident's own applications).

pub mod applications;
pub mod committer;
pub mod identity_checks;
pub mod intake;
pub mod kpi;
pub mod lookup;
pub mod popularity;
pub mod rekey;
pub mod routes;
pub mod separation;
pub mod state;
pub mod status;
pub mod verified;
pub mod view;
pub mod visits;
pub mod workflow;

mod api;
mod confirm;
mod history;
mod lookup_pages;
mod pages;
mod staff_pages;

pub use committer::Committer;
pub use routes::router;
pub use state::{CasesState, Limits};
