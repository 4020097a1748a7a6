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
    // while one waits (`delivery::KIND`).
    let mut tenants: Vec<&str> = mails.iter().map(|m| m.tenant.as_str()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    for t in tenants {
        kernel::jobs::enqueue(
            tx,
            kernel::jobs::JobSpec::new(t, crate::delivery::KIND, serde_json::Value::Null)
                .dedupe("queued"),
        )
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("enqueue mail delivery: {e}")))?;
    }
    Ok(ids)
}

/// A message as staff see it: every link's token masked
/// ([`crate::delivery::mask`]), never a working case access link.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OutboxMail {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub state: String,
    pub lang: String,
    pub case_id: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// Which messages a listing shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub state: Option<State>,
    pub kind: Option<String>,
    pub case_id: Option<String>,
}

/// At most this many messages in one listing (newest first).
pub const LIST_LIMIT: i64 = 500;

/// A tenant's messages, oldest first (the outbox API).
pub async fn list(db: &kernel::Db, tenant: &str) -> kernel::AppResult<Vec<OutboxMail>> {
    let mut v = list_filtered(db, tenant, &Filter::default()).await?;
    v.reverse();
    Ok(v)
}

/// A tenant's messages matching `filter`, newest first, at most
/// [`LIST_LIMIT`].
pub async fn list_filtered(
    db: &kernel::Db,
    tenant: &str,
    filter: &Filter,
) -> kernel::AppResult<Vec<OutboxMail>> {
    use sqlx::Row;
    let mut sql = String::from(
        "SELECT id, kind, recipient, subject, body, state, lang, case_id, attempts, last_error, \
         message_id, created_at, sent_at FROM outbox WHERE tenant = $1",
    );
    let mut n = 1;
    for (col, on) in [
        ("state", filter.state.is_some()),
        ("kind", filter.kind.is_some()),
        ("case_id", filter.case_id.is_some()),
    ] {
        if on {
            n += 1;
            sql.push_str(&format!(" AND {col} = ${n}"));
        }
    }
    sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {LIST_LIMIT}"));
    let mut q = sqlx::query(&sql).bind(tenant);
    if let Some(s) = filter.state {
        q = q.bind(s.as_str());
    }
    if let Some(k) = &filter.kind {
        q = q.bind(k.as_str());
    }
    if let Some(c) = &filter.case_id {
        q = q.bind(c.as_str());
    }
    let rows = q.fetch_all(db.read()).await?;
    Ok(rows
        .iter()
        .map(|r| OutboxMail {
            id: r.get(0),
            kind: r.get(1),
            recipient: r.get(2),
            subject: r.get(3),
            body: crate::delivery::mask::links(&r.get::<String, _>(4)),
            state: r.get(5),
            lang: r.get(6),
            case_id: r.get(7),
            attempts: r.get(8),
            last_error: r.get(9),
            message_id: r.get(10),
            created_at: r.get(11),
            sent_at: r.get(12),
        })
        .collect())
}

/// How many of a tenant's messages are in each state (every state, in
/// [`State::ALL`]'s order).
pub async fn counts(db: &kernel::Db, tenant: &str) -> kernel::AppResult<Vec<(State, i64)>> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT state, COUNT(*) FROM outbox WHERE tenant = $1 GROUP BY state")
        .bind(tenant)
        .fetch_all(db.read())
        .await?;
    let found: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(State::ALL
        .into_iter()
        .map(|s| {
            let n = found
                .iter()
                .find(|(k, _)| k == s.as_str())
                .map_or(0, |(_, n)| *n);
            (s, n)
        })
        .collect())
}

/// The kinds of message a tenant has (for the listing's filter).
pub async fn kinds(db: &kernel::Db, tenant: &str) -> kernel::AppResult<Vec<String>> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT DISTINCT kind FROM outbox WHERE tenant = $1 ORDER BY kind")
        .bind(tenant)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

#[cfg(test)]
mod tests;
