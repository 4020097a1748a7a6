//! The outbox: messages to residents, queued in the transaction of what
//! they tell and delivered later. Each row keeps where its delivery
//! stands ([`State`]).

use jp::Email;
use kernel::db::{backend_of, values_placeholders, Tx};
use kernel::i18n::Lang;

/// Where a message's delivery stands (`outbox.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Waiting to be handed to the mail server (again, after a
    /// temporary failure: `next_attempt_at`).
    Queued,
    /// Being handed to the mail server.
    Sending,
    /// Accepted by the mail server.
    Sent,
    /// Refused for good, or out of attempts.
    Failed,
    /// The address does not exist (a hard bounce): suppressed.
    Bounced,
    /// Handed off when a sender stopped: perhaps delivered. Never sent
    /// again by itself (a resident must not get a message twice).
    Unknown,
    /// Kept in the demo mailbox: no mail server was configured.
    Demo,
    /// Written before delivery existed: sent only when staff release it.
    Held,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Queued,
        State::Sending,
        State::Sent,
        State::Failed,
        State::Bounced,
        State::Unknown,
        State::Demo,
        State::Held,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Failed => "failed",
            State::Bounced => "bounced",
            State::Unknown => "unknown",
            State::Demo => "demo",
            State::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The job kind that delivers a municipality's queued mail
/// (`mail::delivery` handles it).
pub const DELIVER: &str = "mail.deliver";

/// A message to queue.
#[derive(Clone, Debug)]
pub struct NewMail {
    pub tenant: String,
    /// What it is, e.g. `application.received`, `application.returned`,
    /// `subscription.confirm`, `newsletter`.
    pub kind: String,
    pub to: Email,
    /// The language it is written in.
    pub lang: Lang,
    pub subject: String,
    pub body: String,
    /// A rendered HTML alternative (newsletters), already safe.
    pub body_html: Option<String>,
    /// The application it is about (receipt number).
    pub case_id: Option<String>,
    /// The newsletter message and the subscriber it was written for.
    pub campaign: Option<String>,
    pub subscriber: Option<String>,
    /// The one-click unsubscribe URL (RFC 8058) of a subscription mail.
    pub unsubscribe_url: Option<String>,
}

impl NewMail {
    /// A message about an application (no newsletter fields).
    pub fn about_case(
        tenant: &str,
        kind: impl Into<String>,
        to: Email,
        lang: Lang,
        case_id: &str,
        subject: String,
        body: String,
    ) -> Self {
        Self {
            tenant: tenant.to_string(),
            kind: kind.into(),
            to,
            lang,
            subject,
            body,
            body_html: None,
            case_id: Some(case_id.to_string()),
            campaign: None,
            subscriber: None,
            unsubscribe_url: None,
        }
    }
}

const COLUMNS: &str = "tenant, id, kind, recipient, subject, body, created_at, sent_at, attempts, \
     lang, state, case_id, campaign, subscriber, body_html, unsubscribe_url, next_attempt_at";
const COLUMN_COUNT: usize = 17;
/// Rows per statement (SQLite allows 32,766 parameters in one).
const ROWS_PER_STATEMENT: usize = 1_000;

/// Queues `mails` in `tx`, as of `now` (ms since the epoch): they are
/// delivered once `tx` commits, never if it rolls back. Their ids, in
/// order.
pub async fn queue(tx: &mut Tx, mails: &[NewMail], now: i64) -> Result<Vec<String>, sqlx::Error> {
    let mut ids = Vec::with_capacity(mails.len());
    for chunk in mails.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO outbox ({COLUMNS}) VALUES {}",
            values_placeholders(backend_of(tx), chunk.len(), COLUMN_COUNT)
        );
        let mut q = sqlx::query(&sql);
        for m in chunk {
            let id = kernel::ids::short_id();
            q = q
                .bind(m.tenant.as_str())
                .bind(id.clone())
                .bind(m.kind.as_str())
                .bind(m.to.as_str())
                .bind(m.subject.as_str())
                .bind(m.body.as_str())
                .bind(now)
                .bind(None::<i64>)
                .bind(0i64)
                .bind(m.lang.code())
                .bind(State::Queued.as_str())
                .bind(m.case_id.as_deref())
                .bind(m.campaign.as_deref())
                .bind(m.subscriber.as_deref())
                .bind(m.body_html.as_deref())
                .bind(m.unsubscribe_url.as_deref())
                .bind(now);
            ids.push(id);
        }
        q.execute(&mut **tx).await?;
    }
    // Delivered by the job queue once `tx` commits: one job per tenant
    // while one waits ([`DELIVER`]).
    let mut tenants: Vec<&str> = mails.iter().map(|m| m.tenant.as_str()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    for t in tenants {
        kernel::jobs::enqueue(
            tx,
            kernel::jobs::JobSpec::new(t, DELIVER, serde_json::Value::Null).dedupe("queued"),
        )
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("enqueue mail delivery: {e}")))?;
    }
    Ok(ids)
}

/// A subscriber stopped every mail: their newsletter messages not handed
/// off yet are not sent (failed, "unsubscribed"); how many.
pub async fn withdraw_for_subscriber(
    tx: &mut Tx,
    tenant: &str,
    subscriber: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE outbox SET state = $1, last_error = 'unsubscribed' \
         WHERE tenant = $2 AND subscriber = $3 AND campaign IS NOT NULL AND state IN ($4, $5)",
    )
    .bind(State::Failed.as_str())
    .bind(tenant)
    .bind(subscriber)
    .bind(State::Queued.as_str())
    .bind(State::Held.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(kernel::db::rows_affected(&r))
}

/// How long a message's text, links and address are kept after it was
/// queued once its delivery is final (sent, failed, bounced): staff can
/// see what a resident received for a month; then only what it was,
/// when, and how its delivery ended remain ([`redact`]).
pub const KEEP_TEXT_DAYS: i64 = 30;

/// Blanks the address, text, HTML and unsubscribe link of messages
/// queued before `before` (ms) whose delivery is final: the links in
/// them (a case's access link, a subscriber's preferences and one-click
/// unsubscribe links, a confirmation link) do not outlive their use in
/// the database. Rows still queued, held, unknown or in the demo mailbox
/// keep theirs. How many.
pub async fn redact(db: &kernel::Db, before: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE outbox SET recipient = '', body = '', body_html = NULL, unsubscribe_url = NULL \
         WHERE created_at < $1 AND state IN ($2, $3, $4) AND body <> ''",
    )
    .bind(before)
    .bind(State::Sent.as_str())
    .bind(State::Failed.as_str())
    .bind(State::Bounced.as_str())
    .execute(db.write())
    .await?;
    Ok(kernel::db::rows_affected(&r))
}

#[cfg(test)]
mod tests;
