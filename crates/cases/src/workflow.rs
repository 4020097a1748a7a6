//! The life of a case: 受付 → 審査中 → 補正依頼 (the resident corrects and
//! resubmits) → 承認 / 却下 → 完了. Every change is checked against the
//! version the member of staff saw (no lost updates), written with a history
//! event, an audit entry and, where the resident should know, an e-mail, all
//! in one transaction.

use kernel::audit::{self, AuditEntry};
use kernel::auth::{Approver, CaseWorker, Clerk, Reviewer, Staff};
use kernel::db::Db;
use kernel::{AppError, AppResult};

use crate::applications::{self, Links};
use crate::status::{add_event, Action, NewEvent, Status};

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
    let (app, to, message) = prepare(db, staff, id, action, expected_version, message).await?;
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
        NewEvent {
            kind: action.as_str(),
            from: Some(app.status),
            to: Some(to),
            actor: &staff.actor(),
            body: &message,
            at: now,
        },
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

/// Everything `action` needs before it is taken, nothing changed: the
/// role, the case as the member of staff saw it (`expected_version`),
/// separation of duties, the message, the transition. Returns the case,
/// the status it moves to and the checked message. The confirmation page
/// shows only what this accepts.
pub async fn prepare(
    db: &Db,
    staff: &Staff,
    id: &str,
    action: Action,
    expected_version: i64,
    message: &str,
) -> AppResult<(applications::Application, Status, String)> {
    if !staff.has(action.role()) {
        return Err(AppError::Forbidden);
    }
    // Every role that can act also works on cases.
    let worker: CaseWorker = staff.prove()?;
    let app = applications::get_for_change(db, &worker, id).await?;
    if app.version != expected_version {
        return Err(AppError::Conflict("status"));
    }
    crate::separation::check(db, staff, &app, action).await?;
    let message = checked_message(action, message)?;
    let to = action
        .transition(app.status)
        .ok_or(AppError::Conflict("status"))?;
    Ok((app, to, message))
}

/// The message to the applicant, trimmed and checked: required for a
/// correction or a rejection, at most 2000 characters.
fn checked_message(action: Action, message: &str) -> AppResult<String> {
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
    Ok(message)
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
        NewEvent {
            kind: "comment",
            from: None,
            to: None,
            actor: &staff.actor(),
            body: &text,
            at: now,
        },
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
        let ok =
            kernel::auth::directory::is_active_in(db, &staff.tenant, assignee, &app.department)
                .await?;
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
        NewEvent {
            kind: "assign",
            from: None,
            to: None,
            actor: &staff.actor(),
            body: assignee,
            at: now,
        },
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
