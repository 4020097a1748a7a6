//! Pushes of sent newsletter messages to the LINE users linked to their
//! category, through the job queue (`line.push`). A push is a row of
//! `line_pushes` (one per message and user, so never two) and a job that
//! sends it; the job retries with backoff on 429, 5xx and no answer, with
//! the push's one `X-Line-Retry-Key` each time (LINE delivers a key once:
//! a retry after a lost answer is not a second message), and gives up at
//! once on any other 4xx. A scheduled sweep (the same kind, no push id)
//! finds messages sent since the account was set up and queues their
//! pushes once (`line_messages`); `queue_pushes` can also be called in the
//! transaction that marks a message sent. The sweep also deletes LINE
//! users unfollowed 30 days ago and webhook event ids of last week.

use kernel::db::Tx;
use kernel::i18n::Lang;
use kernel::jobs::{JobContext, JobError, JobSpec, RetryPolicy};
use kernel::{AppResult, Db};
use serde::Deserialize;
use sqlx::Row;

use super::api::{LineApi, Outcome};

/// The job kind.
pub const LINE_PUSH: &str = "line.push";

/// Tries of one push, and the waits between them (10 s doubling to 30 min).
pub const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 10,
    base_ms: 10_000,
    cap_ms: 1_800_000,
};

/// How long an unfollowed LINE user (and their pushes) is kept before
/// the sweep deletes them.
pub const UNFOLLOWED_KEEP_MS: i64 = 30 * 86_400_000;
/// How long a handled webhook event id is remembered (LINE redelivers a
/// failed webhook for a shorter time than this).
pub const WEBHOOK_EVENTS_KEEP_MS: i64 = 7 * 86_400_000;

/// A job's payload: one push, or (none) the sweep.
#[derive(Debug, Default, Deserialize)]
pub struct Payload {
    #[serde(default)]
    pub push: Option<String>,
}

/// Queues the pushes of sent message `message` of `tenant` (once: a
/// second call does nothing); the number queued.
pub async fn queue_pushes(tx: &mut Tx, tenant: &str, message: &str, now: i64) -> AppResult<usize> {
    let first = sqlx::query(
        "INSERT INTO line_messages (tenant, message, queued_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(message)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if first.rows_affected() == 0 {
        return Ok(0);
    }
    let users: Vec<String> = sqlx::query(
        "SELECT u.user_id FROM line_users u JOIN line_subscriptions s \
         ON s.tenant = u.tenant AND s.user_id = u.user_id \
         JOIN mail_messages m ON m.tenant = s.tenant AND m.category = s.category \
         WHERE u.tenant = $1 AND m.id = $2 AND u.state = 'linked' ORDER BY u.user_id",
    )
    .bind(tenant)
    .bind(message)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.get("user_id"))
    .collect();
    for user in &users {
        let id = kernel::ids::short_id();
        sqlx::query(
            "INSERT INTO line_pushes (tenant, id, message, user_id, state, retry_key, attempts, created_at) \
             VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6)",
        )
        .bind(tenant)
        .bind(&id)
        .bind(message)
        .bind(user)
        .bind(super::api::retry_key())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        kernel::jobs::enqueue(
            tx,
            JobSpec::new(tenant, LINE_PUSH, serde_json::json!({ "push": id })).dedupe(id.clone()),
        )
        .await?;
    }
    Ok(users.len())
}

/// Deletes what is kept no longer in `tenant`: LINE users unfollowed
/// more than [`UNFOLLOWED_KEEP_MS`] ago with their pushes, and webhook
/// event ids older than [`WEBHOOK_EVENTS_KEEP_MS`]; the users deleted.
pub async fn purge(db: &Db, tenant: &str, now: i64) -> AppResult<u64> {
    let before = now - UNFOLLOWED_KEEP_MS;
    let mut tx = db.begin().await?;
    sqlx::query(
        "DELETE FROM line_pushes WHERE tenant = $1 AND user_id IN (SELECT user_id FROM line_users \
         WHERE tenant = $1 AND state = 'unfollowed' AND unfollowed_at < $2)",
    )
    .bind(tenant)
    .bind(before)
    .execute(&mut *tx)
    .await?;
    let users = sqlx::query(
        "DELETE FROM line_users WHERE tenant = $1 AND state = 'unfollowed' AND unfollowed_at < $2",
    )
    .bind(tenant)
    .bind(before)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM line_webhook_events WHERE tenant = $1 AND at < $2")
        .bind(tenant)
        .bind(now - WEBHOOK_EVENTS_KEEP_MS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(users.rows_affected())
}

/// Queues the pushes of every message sent since its municipality set up
/// LINE and not queued yet, and deletes what is kept no longer
/// ([`purge`]); the number of messages.
pub async fn sweep(db: &Db, now: i64) -> AppResult<usize> {
    let channels = sqlx::query("SELECT tenant, created_at FROM line_channels ORDER BY tenant")
        .fetch_all(db.read())
        .await?;
    let mut n = 0;
    for c in &channels {
        let tenant: String = c.get("tenant");
        let gone = purge(db, &tenant, now).await?;
        if gone > 0 {
            tracing::info!(tenant, users = gone, "unfollowed LINE users deleted");
        }
        let due = sqlx::query(
            "SELECT m.id FROM mail_messages m WHERE m.tenant = $1 AND m.state = 'sent' \
             AND m.sent_at >= $2 AND NOT EXISTS (SELECT 1 FROM line_messages l \
             WHERE l.tenant = m.tenant AND l.message = m.id) ORDER BY m.sent_at, m.id LIMIT 100",
        )
        .bind(&tenant)
        .bind(c.get::<i64, _>("created_at"))
        .fetch_all(db.read())
        .await?;
        for r in &due {
            let mut tx = db.begin().await?;
            queue_pushes(&mut tx, &tenant, &r.get::<String, _>("id"), now).await?;
            tx.commit().await?;
            n += 1;
        }
    }
    Ok(n)
}

/// The text of a push: the message's subject and body in the language
/// nearest the user's.
async fn text(db: &Db, tenant: &str, message: &str, lang: Lang) -> AppResult<Option<String>> {
    let texts: Vec<(String, String, String)> = sqlx::query(
        "SELECT lang, subject, body FROM mail_message_texts WHERE tenant = $1 AND message = $2",
    )
    .bind(tenant)
    .bind(message)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| (r.get("lang"), r.get("subject"), r.get("body")))
    .collect();
    Ok(crate::channels::feeds::nearest(&texts, lang)
        .map(|(_, subject, body)| format!("{subject}\n\n{body}")))
}

async fn finish(
    db: &Db,
    tenant: &str,
    id: &str,
    state: &str,
    error: Option<&str>,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE line_pushes SET state = $3, last_error = $4, \
         sent_at = CASE WHEN $3 = 'sent' THEN $5 ELSE sent_at END \
         WHERE tenant = $1 AND id = $2 AND state = 'queued'",
    )
    .bind(tenant)
    .bind(id)
    .bind(state)
    .bind(error)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}

/// Sends one push (the job's handler for a payload with `push`).
/// `last_attempt`: the job's attempts are used up, so a temporary
/// failure now ends the push as failed (the staff page shows why)
/// rather than leaving it queued for ever.
pub async fn send(
    db: &Db,
    api: &LineApi,
    tenant: &str,
    id: &str,
    last_attempt: bool,
) -> Result<(), JobError> {
    let row = sqlx::query(
        "SELECT p.message, p.user_id, p.state, p.retry_key, u.state AS user_state, u.lang \
         FROM line_pushes p JOIN line_users u ON u.tenant = p.tenant AND u.user_id = p.user_id \
         WHERE p.tenant = $1 AND p.id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    let Some(r) = row else { return Ok(()) };
    if r.get::<String, _>("state") != "queued" {
        return Ok(());
    }
    let now = kernel::clock::now_ms();
    if r.get::<String, _>("user_state") != "linked" {
        finish(
            db,
            tenant,
            id,
            "failed",
            Some("友だち登録が解除されました（unfollowed）"),
            now,
        )
        .await?;
        return Ok(());
    }
    let Some(channel) = super::channel::load(db, tenant).await? else {
        finish(
            db,
            tenant,
            id,
            "failed",
            Some("LINE の設定がありません"),
            now,
        )
        .await?;
        return Ok(());
    };
    let message: String = r.get("message");
    let lang = Lang::parse(&r.get::<String, _>("lang")).unwrap_or(Lang::Ja);
    let Some(text) = text(db, tenant, &message, lang).await? else {
        finish(db, tenant, id, "failed", Some("本文がありません"), now).await?;
        return Ok(());
    };
    sqlx::query("UPDATE line_pushes SET attempts = attempts + 1 WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(db.write())
        .await?;
    let user: String = r.get("user_id");
    let retry_key: String = r.get("retry_key");
    match api
        .push(&channel.access_token, &user, &text, &retry_key)
        .await
    {
        Outcome::Accepted => finish(db, tenant, id, "sent", None, kernel::clock::now_ms()).await?,
        Outcome::Refused(e) => {
            finish(db, tenant, id, "failed", Some(&e), kernel::clock::now_ms()).await?
        }
        Outcome::Retry(e) if last_attempt => {
            finish(db, tenant, id, "failed", Some(&e), kernel::clock::now_ms()).await?;
            return Err(JobError(e));
        }
        Outcome::Retry(e) => {
            sqlx::query("UPDATE line_pushes SET last_error = $3 WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .bind(&e)
                .execute(db.write())
                .await?;
            return Err(JobError(e));
        }
    }
    Ok(())
}

/// The handler of `line.push` jobs.
pub async fn run(
    ctx: JobContext,
    api: LineApi,
    payload: serde_json::Value,
) -> Result<(), JobError> {
    let p: Payload = serde_json::from_value(payload).unwrap_or_default();
    match p.push {
        Some(id) => {
            let last_attempt = ctx.attempt >= RETRY.max_attempts;
            send(&ctx.db, &api, &ctx.tenant, &id, last_attempt).await
        }
        None => {
            let n = sweep(&ctx.db, kernel::clock::now_ms()).await?;
            if n > 0 {
                tracing::info!(messages = n, "LINE pushes queued");
            }
            Ok(())
        }
    }
}
