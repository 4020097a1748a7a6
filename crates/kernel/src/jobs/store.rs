//! The SQL of `jobs` (one dialect for both backends; the claim adds
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL).

use serde::Serialize;
use sqlx::Row;

use super::{JobId, JobSpec, JobState, DEFAULT_MAX_ATTEMPTS};
use crate::db::{is_unique_violation, Backend, Db, Tx};
use crate::error::{AppError, AppResult};

/// A job a worker holds: the lease is `token` until it finishes it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub tenant: String,
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    /// This run's number (1 for the first).
    pub attempt: i64,
    pub token: String,
}

/// One job as the staff page and the API show it.
#[derive(Clone, Debug, Serialize)]
pub struct JobRow {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, locked_until, \
                       last_error, dedupe_key, created_at, finished_at";

fn job_row(r: &sqlx::any::AnyRow) -> JobRow {
    let payload: String = r.get(2);
    let state: String = r.get(3);
    JobRow {
        id: JobId(r.get(0)),
        kind: r.get(1),
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        state: JobState::parse(&state).unwrap_or(JobState::Failed),
        attempts: r.get(4),
        max_attempts: r.get(5),
        run_at: r.get(6),
        locked_until: r.get(7),
        last_error: r.get(8),
        dedupe_key: r.get(9),
        created_at: r.get(10),
        finished_at: r.get(11),
    }
}

/// Inserts a queued job; `None` if its dedupe key is taken by a queued or
/// running job of the same tenant and kind.
pub async fn insert(tx: &mut Tx, spec: &JobSpec, now: i64) -> Result<Option<JobId>, sqlx::Error> {
    let id = JobId(crate::ids::short_id());
    let done = sqlx::query(
        "INSERT INTO jobs (tenant, id, kind, payload, state, attempts, max_attempts, run_at, \
         dedupe_key, created_at) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $8) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&spec.tenant)
    .bind(id.as_str())
    .bind(spec.kind)
    .bind(spec.payload.to_string())
    .bind(DEFAULT_MAX_ATTEMPTS)
    .bind(spec.run_at.unwrap_or(now))
    .bind(spec.dedupe_key.as_deref())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// Claims the next due job of one of `kinds` (queued and due, or running
/// with its lease run out) for `lease_ms`, counting the attempt.
pub async fn claim(
    db: &Db,
    kinds: &[&'static str],
    token: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Claimed>, sqlx::Error> {
    if kinds.is_empty() {
        return Ok(None);
    }
    let kind_list = (0..kinds.len())
        .map(|i| format!("${}", i + 4))
        .collect::<Vec<_>>()
        .join(", ");
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        // One writer: the UPDATE below is the whole claim.
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, \
         locked_until = $2 WHERE (tenant, id) IN (SELECT tenant, id FROM jobs \
         WHERE ((state = 'queued' AND run_at <= $3) OR (state = 'running' AND locked_until < $3)) \
         AND kind IN ({kind_list}) ORDER BY run_at LIMIT 1{lock}) \
         RETURNING tenant, id, kind, payload, attempts"
    );
    let mut q = sqlx::query(&sql).bind(token).bind(now + lease_ms).bind(now);
    for k in kinds {
        q = q.bind(*k);
    }
    let Some(r) = q.fetch_optional(db.write()).await? else {
        return Ok(None);
    };
    let payload: String = r.get(3);
    Ok(Some(Claimed {
        tenant: r.get(0),
        id: JobId(r.get(1)),
        kind: r.get(2),
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        attempt: r.get(4),
        token: token.to_string(),
    }))
}

/// Extends the lease of a job still held by `c`; false if it was lost.
pub async fn heartbeat(db: &Db, c: &Claimed, until: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE jobs SET locked_until = $1 WHERE tenant = $2 AND id = $3 \
         AND state = 'running' AND locked_by = $4",
    )
    .bind(until)
    .bind(&c.tenant)
    .bind(c.id.as_str())
    .bind(&c.token)
    .execute(db.write())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks the job done, only if `c` still holds its lease (a job whose
/// lease ran out belongs to whoever claimed it next). False: lost.
pub async fn complete(db: &Db, c: &Claimed, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'done', finished_at = $1, locked_by = NULL, \
         locked_until = NULL WHERE tenant = $2 AND id = $3 AND state = 'running' \
         AND locked_by = $4",
    )
    .bind(now)
    .bind(&c.tenant)
    .bind(c.id.as_str())
    .bind(&c.token)
    .execute(db.write())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// What becomes of a job that failed.
pub enum AfterFailure {
    /// Queued again, not before this time.
    RetryAt(i64),
    /// Failed for good (the dead letter).
    DeadLetter,
}

/// Records a failure of a job `c` still holds; false if the lease was lost.
pub async fn fail(
    db: &Db,
    c: &Claimed,
    error: &str,
    after: AfterFailure,
    max_attempts: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let (state, run_at, finished) = match after {
        AfterFailure::RetryAt(at) => ("queued", Some(at), None),
        AfterFailure::DeadLetter => ("failed", None, Some(now)),
    };
    let r = sqlx::query(
        "UPDATE jobs SET state = $1, run_at = COALESCE($2, run_at), finished_at = $3, \
         last_error = $4, max_attempts = $5, locked_by = NULL, locked_until = NULL \
         WHERE tenant = $6 AND id = $7 AND state = 'running' AND locked_by = $8",
    )
    .bind(state)
    .bind(run_at)
    .bind(finished)
    .bind(error)
    .bind(max_attempts)
    .bind(&c.tenant)
    .bind(c.id.as_str())
    .bind(&c.token)
    .execute(db.write())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A tenant's jobs in `state`, the next to run first (finished ones: the
/// latest first).
pub async fn list(
    db: &Db,
    tenant: &str,
    state: JobState,
    limit: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    let order = match state {
        JobState::Queued | JobState::Running => "run_at, id",
        JobState::Done | JobState::Failed | JobState::Cancelled => "finished_at DESC, id",
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE tenant = $1 AND state = $2 ORDER BY {order} LIMIT $3"
    ))
    .bind(tenant)
    .bind(state.as_str())
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(job_row).collect())
}

/// How many jobs of a tenant are in each state.
pub async fn counts(db: &Db, tenant: &str) -> Result<Vec<(JobState, i64)>, sqlx::Error> {
    let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs WHERE tenant = $1 GROUP BY state")
        .bind(tenant)
        .fetch_all(db.read())
        .await?;
    let found: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(JobState::ALL
        .into_iter()
        .map(|s| {
            let n = found
                .iter()
                .find(|(name, _)| name == s.as_str())
                .map_or(0, |(_, n)| *n);
            (s, n)
        })
        .collect())
}

pub async fn get(db: &Db, tenant: &str, id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE tenant = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    Ok(r.as_ref().map(job_row))
}

/// Failed → queued now, with its attempts counted from zero again. False:
/// the job is not failed. Conflict: a job with its dedupe key is queued.
pub async fn requeue(tx: &mut Tx, tenant: &str, id: &str, now: i64) -> AppResult<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, finished_at = NULL \
         WHERE tenant = $2 AND id = $3 AND state = 'failed'",
    )
    .bind(now)
    .bind(tenant)
    .bind(id)
    .execute(&mut **tx)
    .await;
    match r {
        Ok(r) => Ok(r.rows_affected() == 1),
        Err(e) if is_unique_violation(&e) => Err(AppError::Conflict("job_duplicate")),
        Err(e) => Err(e.into()),
    }
}

/// Queued → cancelled. False: the job is not queued (a running one is
/// not stopped halfway).
pub async fn cancel(tx: &mut Tx, tenant: &str, id: &str, now: i64) -> AppResult<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', finished_at = $1 \
         WHERE tenant = $2 AND id = $3 AND state = 'queued'",
    )
    .bind(now)
    .bind(tenant)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}
