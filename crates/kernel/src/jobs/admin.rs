//! The system administrator's view of the queue: a tenant's queued,
//! running and failed jobs, and the two actions, 再実行 (retry a failed
//! job) and 取消 (cancel a queued one), each in one transaction with its
//! audit entry. An administrator sees and touches only their own
//! municipality's jobs; deployment-wide jobs (tenant `''`) belong to the
//! operator and are not on any municipality's page.

use serde::Serialize;

use super::store::{self, JobRow};
use super::JobState;
use crate::audit::{self, AuditEntry};
use crate::auth::SystemAdmin;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Jobs listed per state on the page and in the API.
pub const LIST_LIMIT: i64 = 100;

#[derive(Clone, Debug, Serialize)]
pub struct Overview {
    pub queued: Vec<JobRow>,
    pub running: Vec<JobRow>,
    pub failed: Vec<JobRow>,
    /// Jobs of the tenant in each state (done and cancelled included).
    pub counts: Vec<StateCount>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StateCount {
    pub state: JobState,
    pub count: i64,
}

pub async fn overview(db: &Db, admin: &SystemAdmin) -> AppResult<Overview> {
    let tenant = admin.tenant.as_str();
    Ok(Overview {
        queued: store::list(db, tenant, JobState::Queued, LIST_LIMIT).await?,
        running: store::list(db, tenant, JobState::Running, LIST_LIMIT).await?,
        failed: store::list(db, tenant, JobState::Failed, LIST_LIMIT).await?,
        counts: store::counts(db, tenant)
            .await?
            .into_iter()
            .map(|(state, count)| StateCount { state, count })
            .collect(),
    })
}

/// What the administrator does to one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// 再実行: a failed job is queued again, its attempts counted anew.
    Retry,
    /// 取消: a queued job will not run.
    Cancel,
}

impl Action {
    fn audit_action(self) -> &'static str {
        match self {
            Action::Retry => "job.retry",
            Action::Cancel => "job.cancel",
        }
    }
}

/// Carries out `action` on the tenant's job `id`: 404 if the tenant has
/// no such job, 409 if the job is not in the state the action needs.
pub async fn act(db: &Db, admin: &SystemAdmin, id: &str, action: Action) -> AppResult<JobRow> {
    let tenant = admin.tenant.as_str();
    let Some(before) = store::get(db, tenant, id).await? else {
        return Err(AppError::NotFound("job"));
    };
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let changed = match action {
        Action::Retry => store::requeue(&mut tx, tenant, id, now).await?,
        Action::Cancel => store::cancel(&mut tx, tenant, id, now).await?,
    };
    if !changed {
        return Err(AppError::Conflict("job_state"));
    }
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new(admin.actor(), action.audit_action(), format!("job:{id}"))
                .detail(serde_json::json!({"kind": before.kind, "from": before.state})),
        ],
    )
    .await?;
    tx.commit().await?;
    if action == Action::Retry {
        super::WAKE.notify_waiters();
    }
    store::get(db, tenant, id)
        .await?
        .ok_or(AppError::NotFound("job"))
}
