//! Separation of duties (職務分掌): whoever started the review of a case
//! does not also approve or reject it, unless its procedure allows it
//! (`same_person_may_approve`). The rule is checked in the workflow
//! service, so the case page and the API both obey it; the case page and
//! the API's list of actions leave out what it forbids.

use kernel::audit::{self, AuditEntry};
use kernel::auth::Staff;
use kernel::db::Db;
use kernel::{AppError, AppResult};
use sqlx::Row;

use crate::applications::Application;
use crate::status::Action;

/// The code of the refusal: `MDG-403-separation_of_duties`.
pub const REFUSED: AppError = AppError::NotPermitted("separation_of_duties");

/// The actor (`staff:{id}`) who last started the review of case `id`.
pub async fn reviewer_of(db: &Db, tenant: &str, id: &str) -> AppResult<Option<String>> {
    let r = sqlx::query(
        "SELECT actor FROM application_events
         WHERE tenant = $1 AND application_id = $2 AND kind = 'start_review'
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    Ok(r.map(|r| r.get::<String, _>(0)))
}

/// Whether the case's procedure lets one person review and decide. The
/// procedure as it is now (its policy may change while cases are open);
/// the version the case was filed with if it is gone.
async fn same_person_allowed(db: &Db, app: &Application) -> AppResult<bool> {
    match catalogue::store::get(db, &app.tenant, &app.procedure_id).await {
        Ok(p) => Ok(p.procedure.same_person_may_approve),
        Err(AppError::NotFound(_)) => Ok(catalogue::store::get_version(
            db,
            &app.tenant,
            &app.procedure_id,
            app.procedure_version,
        )
        .await?
        .same_person_may_approve),
        Err(e) => Err(e),
    }
}

/// Whether `staff` is barred from deciding `app`: they started its review
/// and its procedure does not allow the same person to decide.
pub async fn bars(db: &Db, staff: &Staff, app: &Application) -> AppResult<bool> {
    let reviewer = reviewer_of(db, &app.tenant, &app.id).await?;
    if reviewer.as_deref() != Some(staff.actor().as_str()) {
        return Ok(false);
    }
    Ok(!same_person_allowed(db, app).await?)
}

/// The actions `staff` may take on `app` now, and whether separation of
/// duties took approval and rejection away.
pub async fn available(
    db: &Db,
    staff: &Staff,
    app: &Application,
) -> AppResult<(Vec<Action>, bool)> {
    let all = Action::available(app.status, staff);
    let deciding = |a: &Action| matches!(a, Action::Approve | Action::Reject);
    if !all.iter().any(deciding) || !bars(db, staff, app).await? {
        return Ok((all, false));
    }
    Ok((all.into_iter().filter(|a| !deciding(a)).collect(), true))
}

/// Refuses a decision by the case's own reviewer: 403
/// `MDG-403-separation_of_duties`, nothing changed, the attempt audited.
pub async fn check(db: &Db, staff: &Staff, app: &Application, action: Action) -> AppResult<()> {
    if !matches!(action, Action::Approve | Action::Reject) || !bars(db, staff, app).await? {
        return Ok(());
    }
    audit::record(
        db,
        &staff.tenant,
        AuditEntry::new(
            staff.actor(),
            "application.separation_of_duties_refused",
            format!("application:{}", app.id),
        )
        .detail(serde_json::json!({"action": action.as_str()})),
    )
    .await?;
    Err(REFUSED)
}
