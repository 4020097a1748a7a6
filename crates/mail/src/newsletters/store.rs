//! Messages at rest (`mail_messages`, `mail_message_texts`) and the
//! steps of their life: write, edit (optimistic versions: every change
//! names the version it was made from), submit, approve by a second
//! person, cancel. Each step writes its audit entry in its transaction;
//! a step that lets the message go queues its send job there too.

use kernel::audit::{self, AuditEntry};
use kernel::auth::Staff;
use kernel::db::Tx;
use kernel::i18n::Lang;
use kernel::jobs::JobSpec;
use kernel::{AppError, AppResult, Db};
use serde_json::json;
use sqlx::Row;

use super::model::{Draft, EventInfo, Message, MessageState, MessageText};
use super::SEND;

/// Why a step was refused (the page says so, changing nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Someone changed the message since this form was made (409).
    Stale,
    /// Not in a state where this step applies (409).
    WrongState,
    /// Whoever wrote, edited or submitted a message may not approve it
    /// (403).
    OwnMessage,
}

impl Refused {
    pub fn status(self) -> axum::http::StatusCode {
        match self {
            Refused::OwnMessage => axum::http::StatusCode::FORBIDDEN,
            _ => axum::http::StatusCode::CONFLICT,
        }
    }

    pub fn message_key(self) -> &'static str {
        match self {
            Refused::Stale => "mail.newsletters.refused.stale",
            Refused::WrongState => "mail.newsletters.refused.state",
            Refused::OwnMessage => "mail.newsletters.refused.own_message",
        }
    }
}

/// A step's outcome: done, or refused for a reason the page shows.
pub type Step<T> = AppResult<Result<T, Refused>>;

/// The tenant's active categories (code, Japanese name), in their order.
pub async fn categories(db: &Db, tenant: &str) -> AppResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT code, name FROM mail_categories WHERE tenant = $1 AND active = 1 ORDER BY position, code",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

async fn insert_texts(tx: &mut Tx, tenant: &str, id: &str, texts: &[MessageText]) -> AppResult<()> {
    for t in texts {
        sqlx::query(
            "INSERT INTO mail_message_texts (tenant, message, lang, subject, body) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tenant)
        .bind(id)
        .bind(t.lang.code())
        .bind(t.subject.as_str())
        .bind(t.body.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn langs_of(d: &Draft) -> Vec<&'static str> {
    d.texts.iter().map(|t| t.lang.code()).collect()
}

/// Writes a new message (a draft) by `staff`; its id.
pub async fn create(db: &Db, staff: &Staff, d: &Draft, now: i64) -> AppResult<String> {
    let id = kernel::ids::short_id();
    let mut tx = db.begin().await?;
    let ev = d.event.as_ref();
    sqlx::query(
        "INSERT INTO mail_messages (tenant, id, category, urgent, state, scheduled_at, author, approver, approved_at, recipients, event_start, event_end, event_place, created_at, updated_at, sent_at, version, writers) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL, $8, $9, $10, $11, $11, NULL, 1, $7)",
    )
    .bind(staff.tenant.as_str())
    .bind(id.as_str())
    .bind(d.category.as_str())
    .bind(d.urgent as i64)
    .bind(MessageState::Draft.as_str())
    .bind(d.scheduled_at)
    .bind(staff.id.as_str())
    .bind(ev.map(|e| e.start))
    .bind(ev.and_then(|e| e.end))
    .bind(ev.map(|e| e.place.clone()))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    insert_texts(&mut tx, &staff.tenant, &id, &d.texts).await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[
            AuditEntry::new(staff.actor(), "mail.newsletter.create", &id).detail(json!({
                "category": d.category, "urgent": d.urgent, "langs": langs_of(d)
            })),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a message still open, made from `version`: it becomes a draft
/// again (an approval was for what the approver read).
pub async fn update(
    db: &Db,
    staff: &Staff,
    id: &str,
    version: i64,
    d: &Draft,
    now: i64,
) -> Step<()> {
    let mut tx = db.begin().await?;
    if let Err(r) = guard(&mut tx, &staff.tenant, id, version, |s| s.is_open()).await? {
        return Ok(Err(r));
    }
    let ev = d.event.as_ref();
    sqlx::query(
        "UPDATE mail_messages SET category = $1, urgent = $2, state = $3, scheduled_at = $4, approver = NULL, approved_at = NULL, \
         event_start = $5, event_end = $6, event_place = $7, updated_at = $8, version = version + 1, \
         writers = writers || ',' || $12 \
         WHERE tenant = $9 AND id = $10 AND version = $11",
    )
    .bind(d.category.as_str())
    .bind(d.urgent as i64)
    .bind(MessageState::Draft.as_str())
    .bind(d.scheduled_at)
    .bind(ev.map(|e| e.start))
    .bind(ev.and_then(|e| e.end))
    .bind(ev.map(|e| e.place.clone()))
    .bind(now)
    .bind(staff.tenant.as_str())
    .bind(id)
    .bind(version)
    .bind(staff.id.as_str())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM mail_message_texts WHERE tenant = $1 AND message = $2")
        .bind(staff.tenant.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    insert_texts(&mut tx, &staff.tenant, id, &d.texts).await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[AuditEntry::new(staff.actor(), "mail.newsletter.update", id).detail(json!({
            "version": version + 1, "category": d.category, "urgent": d.urgent, "langs": langs_of(d)
        }))],
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// The message's state and version, locked for this transaction (a
/// no-op update takes the row lock on PostgreSQL; SQLite has one
/// writer), checked against `version` and what the step allows.
async fn guard(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    version: i64,
    allowed: impl Fn(MessageState) -> bool,
) -> AppResult<Result<(MessageState, String), Refused>> {
    let row = sqlx::query(
        "UPDATE mail_messages SET version = version WHERE tenant = $1 AND id = $2 RETURNING state, version, author",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::NotFound("newsletter_message"))?;
    let state = MessageState::parse(&row.get::<String, _>(0))
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown message state")))?;
    if row.get::<i64, _>(1) != version {
        return Ok(Err(Refused::Stale));
    }
    if !allowed(state) {
        return Ok(Err(Refused::WrongState));
    }
    Ok(Ok((state, row.get(2))))
}

/// The send job of a message that may go, at its time (now when urgent
/// or unscheduled). Its key names the version: an edit afterwards makes
/// the job find another version and do nothing.
async fn queue_send(
    tx: &mut Tx,
    tenant: &str,
    m: &MessageRow,
    version: i64,
    now: i64,
) -> AppResult<()> {
    let at = if m.urgent {
        now
    } else {
        m.scheduled_at.unwrap_or(now).max(now)
    };
    kernel::jobs::enqueue(
        tx,
        JobSpec::new(tenant, SEND, json!({"message": m.id, "version": version}))
            .dedupe(format!("{}:{version}", m.id))
            .at(at),
    )
    .await?;
    Ok(())
}

struct MessageRow {
    id: String,
    urgent: bool,
    scheduled_at: Option<i64>,
}

/// What a submit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// To no more recipients than the threshold: approved, will go.
    Approved,
    /// Waits for a second person's approval.
    AwaitingApproval,
}

/// Submits a draft going to `recipients` (now): above `threshold` it
/// waits for a second person's approval, otherwise it may go.
pub async fn submit(
    db: &Db,
    staff: &Staff,
    id: &str,
    version: i64,
    recipients: i64,
    threshold: i64,
    now: i64,
) -> Step<Submitted> {
    let mut tx = db.begin().await?;
    if let Err(r) = guard(&mut tx, &staff.tenant, id, version, |s| {
        s == MessageState::Draft
    })
    .await?
    {
        return Ok(Err(r));
    }
    let outcome = if recipients > threshold {
        Submitted::AwaitingApproval
    } else {
        Submitted::Approved
    };
    let state = match outcome {
        Submitted::Approved => MessageState::Approved,
        Submitted::AwaitingApproval => MessageState::AwaitingApproval,
    };
    let row = sqlx::query(
        "UPDATE mail_messages SET state = $1, approved_at = $2, updated_at = $3, version = version + 1, \
         writers = writers || ',' || $6 \
         WHERE tenant = $4 AND id = $5 RETURNING urgent, scheduled_at, version",
    )
    .bind(state.as_str())
    .bind((outcome == Submitted::Approved).then_some(now))
    .bind(now)
    .bind(staff.tenant.as_str())
    .bind(id)
    .bind(staff.id.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let m = MessageRow {
        id: id.to_string(),
        urgent: row.get::<i64, _>(0) != 0,
        scheduled_at: row.get(1),
    };
    let new_version: i64 = row.get(2);
    if outcome == Submitted::Approved {
        queue_send(&mut tx, &staff.tenant, &m, new_version, now).await?;
    }
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[
            AuditEntry::new(staff.actor(), "mail.newsletter.submit", id).detail(json!({
                "recipients": recipients, "threshold": threshold, "state": state.as_str()
            })),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(outcome))
}

/// Approves a message waiting for it: by anyone allowed to write
/// messages who did not write this one (its author, and everyone who
/// edited or submitted it: `writers`).
pub async fn approve(db: &Db, staff: &Staff, id: &str, version: i64, now: i64) -> Step<()> {
    let mut tx = db.begin().await?;
    let author = match guard(&mut tx, &staff.tenant, id, version, |s| {
        s == MessageState::AwaitingApproval
    })
    .await?
    {
        Ok((_, author)) => author,
        Err(r) => return Ok(Err(r)),
    };
    let writers: String =
        sqlx::query("SELECT writers FROM mail_messages WHERE tenant = $1 AND id = $2")
            .bind(staff.tenant.as_str())
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
    if author == staff.id || wrote(&writers, &staff.id) {
        return Ok(Err(Refused::OwnMessage));
    }
    let row = sqlx::query(
        "UPDATE mail_messages SET state = $1, approver = $2, approved_at = $3, updated_at = $3, version = version + 1 \
         WHERE tenant = $4 AND id = $5 RETURNING urgent, scheduled_at, version",
    )
    .bind(MessageState::Approved.as_str())
    .bind(staff.id.as_str())
    .bind(now)
    .bind(staff.tenant.as_str())
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let m = MessageRow {
        id: id.to_string(),
        urgent: row.get::<i64, _>(0) != 0,
        scheduled_at: row.get(1),
    };
    queue_send(&mut tx, &staff.tenant, &m, row.get(2), now).await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[
            AuditEntry::new(staff.actor(), "mail.newsletter.approve", id)
                .detail(json!({"author": author, "urgent": m.urgent})),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Cancels a message not sent yet.
pub async fn cancel(db: &Db, staff: &Staff, id: &str, version: i64, now: i64) -> Step<()> {
    let mut tx = db.begin().await?;
    if let Err(r) = guard(&mut tx, &staff.tenant, id, version, |s| s.is_open()).await? {
        return Ok(Err(r));
    }
    sqlx::query(
        "UPDATE mail_messages SET state = $1, updated_at = $2, version = version + 1 WHERE tenant = $3 AND id = $4",
    )
    .bind(MessageState::Cancelled.as_str())
    .bind(now)
    .bind(staff.tenant.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[AuditEntry::new(staff.actor(), "mail.newsletter.cancel", id)],
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

const MESSAGE_COLUMNS: &str =
    "id, category, urgent, state, scheduled_at, author, approver, approved_at, recipients, \
     event_start, event_end, event_place, created_at, updated_at, sent_at, version, writers";

/// Whether `staff_id` is one of `writers` (comma-separated ids).
fn wrote(writers: &str, staff_id: &str) -> bool {
    writers.split(',').any(|w| w == staff_id)
}

fn message_of(r: &sqlx::any::AnyRow) -> AppResult<Message> {
    let state: String = r.get(3);
    let event = r.get::<Option<i64>, _>(9).map(|start| EventInfo {
        start,
        end: r.get(10),
        place: r.get::<Option<String>, _>(11).unwrap_or_default(),
    });
    Ok(Message {
        id: r.get(0),
        category: r.get(1),
        urgent: r.get::<i64, _>(2) != 0,
        state: MessageState::parse(&state)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown message state {state}")))?,
        scheduled_at: r.get(4),
        author: r.get(5),
        approver: r.get(6),
        approved_at: r.get(7),
        recipients: r.get(8),
        event,
        created_at: r.get(12),
        updated_at: r.get(13),
        sent_at: r.get(14),
        version: r.get(15),
        writers: r
            .get::<String, _>(16)
            .split(',')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
        texts: Vec::new(),
    })
}

/// The texts of a message, Japanese first.
pub async fn texts<'e, E>(ex: E, tenant: &str, id: &str) -> AppResult<Vec<MessageText>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT lang, subject, body FROM mail_message_texts WHERE tenant = $1 AND message = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(ex)
    .await?;
    let mut out: Vec<MessageText> = rows
        .iter()
        .filter_map(|r| {
            Some(MessageText {
                lang: Lang::parse(&r.get::<String, _>(0))?,
                subject: r.get(1),
                body: r.get(2),
            })
        })
        .collect();
    out.sort_by_key(|t| super::model::LANGS.iter().position(|l| *l == t.lang));
    Ok(out)
}

/// One message of the tenant with its texts.
pub async fn get(db: &Db, tenant: &str, id: &str) -> AppResult<Message> {
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM mail_messages WHERE tenant = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::NotFound("newsletter_message"))?;
    let mut m = message_of(&row)?;
    m.texts = texts(db.read(), tenant, id).await?;
    Ok(m)
}

/// The tenant's messages, newest first, with their texts.
pub async fn list(db: &Db, tenant: &str) -> AppResult<Vec<Message>> {
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM mail_messages WHERE tenant = $1 ORDER BY created_at DESC, id LIMIT 500"
    ))
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    let mut out = rows.iter().map(message_of).collect::<AppResult<Vec<_>>>()?;
    let texts = sqlx::query(
        "SELECT message, lang, subject FROM mail_message_texts WHERE tenant = $1 AND lang = 'ja'",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    for m in &mut out {
        if let Some(t) = texts.iter().find(|r| r.get::<String, _>(0) == m.id) {
            m.texts.push(MessageText {
                lang: Lang::Ja,
                subject: t.get(2),
                body: String::new(),
            });
        }
    }
    Ok(out)
}
