//! The outbox as staff see it: messages with their delivery state, every
//! link's token masked ([`super::mask`]), counts per state, kinds.

use serde::Deserialize;

use crate::outbox::State;
use kernel::{AppError, AppResult};

/// The listing's filters (`?state=failed&kind=application.received&case=…`);
/// empty values mean all.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub case: Option<String>,
}

impl ListQuery {
    /// The filter, or 400 naming a state that does not exist.
    pub fn filter(&self) -> AppResult<Filter> {
        let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let state = match some(&self.state) {
            None => None,
            Some(s) => Some(State::parse(&s).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "配信状態（state）「{s}」はありません。queued・sending・sent・failed・bounced・unknown・demo・held のいずれかを指定してください"
                ))
            })?),
        };
        Ok(Filter {
            state,
            kind: some(&self.kind),
            case_id: some(&self.case),
        })
    }
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
    sql.push_str(&format!(
        " ORDER BY created_at DESC, id DESC LIMIT {LIST_LIMIT}"
    ));
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
            body: super::mask::links(&r.get::<String, _>(4)),
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
