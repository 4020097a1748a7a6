//! 配信 (newsletters): staff write a message to the subscribers of a
//! category, in Japanese and other languages (plain text with optional
//! Markdown, rendered to a safe HTML subset: [`markdown`]), preview it,
//! send a test to themselves, schedule it; a message to more recipients
//! than the municipality's threshold (default 100,
//! [`settings::DEFAULT_THRESHOLD`]) needs a second person's approval
//! (緊急 skips the schedule, never the approval). The job [`SEND`]
//! queues one personalised outbox row per recipient, once ([`send`]);
//! the message's page shows the progress and the final report.
//!
//! A message's states (`mail_messages.state`, [`model::MessageState`]):
//! draft, awaiting_approval, approved, sent, cancelled. There is no
//! 'sending' state, though the comment of migration 0021 lists one
//! (migrations are never edited once landed): the send job queues every
//! recipient and marks the message sent in one transaction, and where
//! each mail stands afterwards is its outbox row's state
//! (`mail::delivery`, which does have a 'sending' state: a row claimed
//! for a hand-off).

pub mod markdown;
pub mod model;
pub mod pages;
pub mod routes;
pub mod send;
pub mod settings;
pub mod state;
pub mod store;

pub use routes::router;
pub use state::NewsletterState;

/// The job that sends a message (payload `{"message", "version"}`).
pub const SEND: &str = "mail.newsletter.send";
/// The outbox kind of a newsletter to a subscriber.
pub const KIND: &str = "newsletter";
/// The outbox kind of a test send to the author.
pub const TEST_KIND: &str = "newsletter.test";

/// Runs the send job of `payload` (`kernel::jobs` handler, registered by
/// `server::jobs`).
pub async fn run_send_job(
    db: &kernel::Db,
    sender: &send::Sender,
    tenant: &str,
    payload: &serde_json::Value,
) -> kernel::AppResult<send::Sent> {
    let id = payload["message"].as_str().unwrap_or_default();
    let version = payload["version"].as_i64().unwrap_or_default();
    let sent = send::send(db, sender, tenant, id, version, kernel::clock::now_ms()).await?;
    tracing::info!(tenant, message = id, ?sent, "newsletter send job");
    Ok(sent)
}
