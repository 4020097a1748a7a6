//! ジョブ: the one durable job queue of a deployment. A job is a row of
//! `jobs` (per tenant; deployment-wide work has tenant `''`), enqueued in
//! the caller's transaction and run by the workers of whichever server
//! claims it first ([`runner`]): on PostgreSQL with `FOR UPDATE SKIP
//! LOCKED`, on SQLite in the one process (one writer). A failure is retried
//! with exponential backoff up to the kind's attempts, then kept as failed
//! (the dead letter) with its error; a panic counts as a failure. Scheduled
//! work ([`schedule`]) is enqueued once per slot per deployment. The system
//! administrator's page and API ([`admin`]) list, retry and cancel.

pub mod admin;
pub mod runner;
pub mod schedule;
pub mod store;

use std::fmt;
use std::sync::LazyLock;

use serde::Serialize;

use crate::db::{Db, Tx};
use crate::error::AppResult;

pub use runner::{JobContext, JobError, Registry, RetryPolicy, Runner, RunnerOptions};
pub use schedule::{Every, Schedule};

/// A job's id (random, unique within its tenant).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct JobId(pub String);

impl JobId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What to run: a registered kind with its payload (ids, never personal
/// data: the page shows it), for a tenant (`''`: the deployment).
#[derive(Clone, Debug)]
pub struct JobSpec {
    pub tenant: String,
    pub kind: &'static str,
    pub payload: serde_json::Value,
    /// While a job of this tenant and kind with this key is queued or
    /// running, another enqueue with it is a no-op.
    pub dedupe_key: Option<String>,
    /// Not before this time (ms since the epoch); `None`: now.
    pub run_at: Option<i64>,
}

impl JobSpec {
    pub fn new(tenant: impl Into<String>, kind: &'static str, payload: serde_json::Value) -> Self {
        Self {
            tenant: tenant.into(),
            kind,
            payload,
            dedupe_key: None,
            run_at: None,
        }
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    pub fn at(mut self, run_at: i64) -> Self {
        self.run_at = Some(run_at);
        self
    }
}

/// The states of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// The dead letter: every attempt failed; kept with its last error
    /// until the administrator retries it.
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            JobState::Queued => "staff.jobs.state.queued",
            JobState::Running => "staff.jobs.state.running",
            JobState::Done => "staff.jobs.state.done",
            JobState::Failed => "staff.jobs.state.failed",
            JobState::Cancelled => "staff.jobs.state.cancelled",
        }
    }
}

/// Attempts a job gets unless its kind says otherwise ([`RetryPolicy`]).
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// Wakes this process's workers: an enqueue need not wait for the next poll.
pub(crate) static WAKE: LazyLock<tokio::sync::Notify> = LazyLock::new(tokio::sync::Notify::new);

/// Enqueues `spec` in `tx` (it runs only if `tx` commits). `None`: a job
/// with the same dedupe key is already queued or running.
pub async fn enqueue(tx: &mut Tx, spec: JobSpec) -> AppResult<Option<JobId>> {
    let id = store::insert(tx, &spec, crate::clock::now_ms()).await?;
    if id.is_some() {
        WAKE.notify_waiters();
    }
    Ok(id)
}

/// A running job lets go of its dedupe key: work enqueued under that key
/// from now on gets a job of its own instead of being folded into this
/// one, which may already have looked for its work (a delivery run that
/// claimed the due mail before more was queued).
pub async fn release_dedupe(db: &Db, tenant: &str, id: &JobId) -> AppResult<()> {
    sqlx::query(
        "UPDATE jobs SET dedupe_key = NULL WHERE tenant = $1 AND id = $2 AND state = 'running'",
    )
    .bind(tenant)
    .bind(id.as_str())
    .execute(db.write())
    .await?;
    Ok(())
}

/// [`enqueue`] in a transaction of its own.
pub async fn enqueue_now(db: &Db, spec: JobSpec) -> AppResult<Option<JobId>> {
    let mut tx = db.begin().await?;
    let id = store::insert(&mut tx, &spec, crate::clock::now_ms()).await?;
    tx.commit().await?;
    if id.is_some() {
        WAKE.notify_waiters();
    }
    Ok(id)
}
