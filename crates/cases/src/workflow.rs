//! The life of a case: 受付 → 審査中 → 補正依頼 (the resident corrects and
//! resubmits) → 承認 / 却下 → 完了. Every change is checked against the
//! version the member of staff saw (no lost updates), written with a history
//! event, an audit entry and, where the resident should know, an e-mail, all
//! in one transaction.

use kernel::audit::{self, AuditEntry};
use kernel::auth::{Approver, CaseWorker, Clerk, Reviewer, Role, Staff};
use kernel::db::{Db, Tx};
use kernel::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::applications::{self, Links};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 受付
    Received,
    /// 審査中
    UnderReview,
    /// 補正依頼
    CorrectionRequested,
    /// 承認
    Approved,
    /// 却下
    Rejected,
    /// 完了
    Completed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Received,
        Status::UnderReview,
        Status::CorrectionRequested,
        Status::Approved,
        Status::Rejected,
        Status::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::UnderReview => "under_review",
            Status::CorrectionRequested => "correction_requested",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label_key(self) -> String {
        format!("status.{}", self.as_str())
    }
}

/// What staff can do to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    StartReview,
    RequestCorrection,
    Approve,
    Reject,
    Complete,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::StartReview,
        Action::RequestCorrection,
        Action::Approve,
        Action::Reject,
        Action::Complete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::StartReview => "start_review",
            Action::RequestCorrection => "request_correction",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Complete => "complete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn role(self) -> Role {
        match self {
            Action::StartReview | Action::RequestCorrection => Role::Reviewer,
            Action::Approve | Action::Reject => Role::Approver,
            Action::Complete => Role::Clerk,
        }
    }

    /// The status this action moves a case to, if allowed from `from`.
    pub fn transition(self, from: Status) -> Option<Status> {
        use Status::*;
        match (self, from) {
            (Action::StartReview, Received) => Some(UnderReview),
            (Action::RequestCorrection, UnderReview) => Some(CorrectionRequested),
            (Action::Approve, UnderReview) => Some(Approved),
            (Action::Reject, UnderReview) => Some(Rejected),
            (Action::Complete, Approved | Rejected) => Some(Completed),
            _ => None,
        }
    }

    /// A message to the resident is required for corrections and rejections.
    pub fn needs_message(self) -> bool {
        matches!(self, Action::RequestCorrection | Action::Reject)
    }

    pub fn label_key(self) -> String {
        format!("action.{}", self.as_str())
    }

    /// Actions available from `status` for `staff`.
    pub fn available(status: Status, staff: &Staff) -> Vec<Action> {
        Self::ALL
            .into_iter()
            .filter(|a| a.transition(status).is_some() && staff.has(a.role()))
            .collect()
    }
}

pub(crate) async fn next_event_seq(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
) -> Result<i64, sqlx::Error> {
    let r = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM application_events WHERE tenant = $1 AND application_id = $2")
        .bind(tenant)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(r.get::<i64, _>(0) + 1)
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_event(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    kind: &str,
    from: Option<Status>,
    to: Option<Status>,
    actor: &str,
    body: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let seq = next_event_seq(tx, tenant, id).await?;
    sqlx::query(
        "INSERT INTO application_events (tenant, application_id, seq, kind, from_status, to_status, actor, body, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant)
    .bind(id)
    .bind(seq)
    .bind(kind)
    .bind(from.map(|s| s.as_str()))
    .bind(to.map(|s| s.as_str()))
    .bind(actor)
    .bind(body)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Steps a reviewer (審査) takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewStep {
    StartReview,
    RequestCorrection,
}

/// What an approver (決裁) decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// Review steps need the [`Reviewer`] proof.
pub async fn review(
    db: &Db,
    links: &Links,
    who: &Reviewer,
    id: &str,
    step: ReviewStep,
    expected_version: i64,
    message: &str,
) -> AppResult<Status> {
    let action = match step {
        ReviewStep::StartReview => Action::StartReview,
        ReviewStep::RequestCorrection => Action::RequestCorrection,
    };
    apply(db, links, who, id, action, expected_version, message).await
}

/// Approval and rejection need the [`Approver`] proof.
pub async fn decide(
    db: &Db,
    links: &Links,
    who: &Approver,
    id: &str,
    decision: Decision,
    expected_version: i64,
    message: &str,
) -> AppResult<Status> {
    let action = match decision {
        Decision::Approve => Action::Approve,
        Decision::Reject => Action::Reject,
    };
    apply(db, links, who, id, action, expected_version, message).await
}

/// Completion (交付・通知済み) needs the [`Clerk`] proof.
pub async fn complete(
    db: &Db,
    links: &Links,
    who: &Clerk,
    id: &str,
    expected_version: i64,
) -> AppResult<Status> {
    apply(db, links, who, id, Action::Complete, expected_version, "").await
}

/// For handlers that receive the action as data: proves the role the
/// action needs (once) and takes the typed path.
pub async fn act(
    db: &Db,
    links: &Links,
    staff: &Staff,
    id: &str,
    action: Action,
    expected_version: i64,
    message: &str,
) -> AppResult<Status> {
    match action {
        Action::StartReview => {
            review(
                db,
                links,
                &staff.prove()?,
                id,
                ReviewStep::StartReview,
                expected_version,
                message,
            )
            .await
        }
        Action::RequestCorrection => {
            review(
                db,
                links,
                &staff.prove()?,
                id,
                ReviewStep::RequestCorrection,
                expected_version,
                message,
            )
            .await
        }
        Action::Approve => {
            decide(
                db,
                links,
                &staff.prove()?,
                id,
                Decision::Approve,
                expected_version,
                message,
            )
            .await
        }
        Action::Reject => {
            decide(
                db,
                links,
                &staff.prove()?,
                id,
                Decision::Reject,
                expected_version,
                message,
            )
            .await
        }
        Action::Complete => complete(db, links, &staff.prove()?, id, expected_version).await,
    }
}

/// Moves a case on. `expected_version` is the version the member of staff
/// was looking at; if someone else changed the case since, nothing happens
/// and the result is a conflict. Reached only through the typed functions
/// above, which hold the proof of the role.
async fn apply(
    db: &Db,
    links: &Links,
    staff: &Staff,
    id: &str,
    action: Action,
    expected_version: i64,
    message: &str,
) -> AppResult<Status> {
    // Every role that can act also works on cases.
    let worker: CaseWorker = staff.prove()?;
    let staff = &worker;
    let message = jp::nfc(message.trim());
    if action.needs_message() && message.is_empty() {
        return Err(AppError::Validation(vec![kernel::FieldError {
            field: "message".into(),
            message:
                "「申請者へのメッセージ」を入力してください。補正や却下の理由は申請者に伝わります。"
                    .into(),
        }]));
    }
    if message.chars().count() > 2000 {
        return Err(AppError::Validation(vec![kernel::FieldError {
            field: "message".into(),
            message: "「申請者へのメッセージ」は2000文字以内で入力してください。".into(),
        }]));
    }
    let app = applications::get_for_change(db, staff, id).await?;
    if app.version != expected_version {
        return Err(AppError::Conflict("status"));
    }
    let to = action
        .transition(app.status)
        .ok_or(AppError::Conflict("status"))?;
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE applications SET status = $1, version = version + 1, updated_at = $2
         WHERE tenant = $3 AND id = $4 AND version = $5",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(&staff.tenant)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(AppError::Conflict("status"));
    }
    add_event(
        &mut tx,
        &staff.tenant,
        id,
        action.as_str(),
        Some(app.status),
        Some(to),
        &staff.actor(),
        &message,
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[AuditEntry::new(staff.actor(), "application.transition", format!("application:{id}"))
            .detail(serde_json::json!({"action": action.as_str(), "from": app.status.as_str(), "to": to.as_str()}))],
    )
    .await?;
    if let Some(email) = &app.email {
        applications::queue_status_mail(&mut tx, links, &app, email, to, &message, now).await?;
    }
    tx.commit().await?;
    Ok(to)
}

/// An internal note on a case (not shown to the resident).
pub async fn comment(db: &Db, staff: &CaseWorker, id: &str, text: &str) -> AppResult<()> {
    let text = jp::nfc(text.trim());
    if text.is_empty() || text.chars().count() > 4000 {
        return Err(AppError::Validation(vec![kernel::FieldError {
            field: "comment".into(),
            message: "「コメント」は1〜4000文字で入力してください。".into(),
        }]));
    }
    applications::get_for_change(db, staff, id).await?;
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    // Takes the case's row lock (PostgreSQL) so concurrent events on one
    // case get consecutive sequence numbers.
    sqlx::query("UPDATE applications SET updated_at = $1 WHERE tenant = $2 AND id = $3")
        .bind(now)
        .bind(&staff.tenant)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    add_event(
        &mut tx,
        &staff.tenant,
        id,
        "comment",
        None,
        None,
        &staff.actor(),
        &text,
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[AuditEntry::new(
            staff.actor(),
            "application.comment",
            format!("application:{id}"),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Assigns a case to a member of staff of its department (or unassigns it
/// with an empty id).
pub async fn assign(
    db: &Db,
    staff: &CaseWorker,
    id: &str,
    assignee: &str,
    expected_version: i64,
) -> AppResult<()> {
    let app = applications::get_for_change(db, staff, id).await?;
    let assignee = assignee.trim();
    if !assignee.is_empty() {
        let ok = sqlx::query(
            "SELECT 1 FROM staff WHERE tenant = $1 AND id = $2 AND department = $3 AND active = 1",
        )
        .bind(&staff.tenant)
        .bind(assignee)
        .bind(&app.department)
        .fetch_optional(db.read())
        .await?
        .is_some();
        if !ok {
            return Err(AppError::Validation(vec![kernel::FieldError {
                field: "assignee".into(),
                message: "「担当者」には、この申請の担当課の職員を選んでください。".into(),
            }]));
        }
    }
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE applications SET assignee = $1, version = version + 1, updated_at = $2 WHERE tenant = $3 AND id = $4 AND version = $5",
    )
    .bind((!assignee.is_empty()).then(|| assignee.to_string()))
    .bind(now)
    .bind(&staff.tenant)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(AppError::Conflict("status"));
    }
    add_event(
        &mut tx,
        &staff.tenant,
        id,
        "assign",
        None,
        None,
        &staff.actor(),
        assignee,
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[AuditEntry::new(
            staff.actor(),
            "application.assign",
            format!("application:{id}"),
        )
        .detail(serde_json::json!({"assignee": assignee}))],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use Status::*;
        assert_eq!(Action::StartReview.transition(Received), Some(UnderReview));
        assert_eq!(Action::Approve.transition(Received), None);
        assert_eq!(Action::Complete.transition(Rejected), Some(Completed));
        assert_eq!(Action::Complete.transition(Completed), None);
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    /// Keys built at run time from the workflow's enums must exist in
    /// every language.
    #[test]
    fn computed_i18n_keys_exist() {
        use kernel::i18n::{keys, Lang};
        let mut wanted: Vec<String> = Vec::new();
        wanted.extend(Status::ALL.iter().map(|s| s.label_key()));
        wanted.extend(Action::ALL.iter().map(|a| a.label_key()));
        wanted.extend(
            ["submitted", "comment", "assign", "resubmitted"]
                .iter()
                .map(|k| format!("staff.case.event.{k}")),
        );
        for lang in Lang::ALL {
            let have = keys(lang);
            for k in &wanted {
                assert!(have.contains(k), "{} lacks {k}", lang.code());
            }
        }
    }
}
