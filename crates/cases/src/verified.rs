//! The verified address and birth date of a case (filled from the
//! resident's My Number card identity, `verified_fields`): shown only to
//! the roles whose work needs them, the reviewer (審査, who checks
//! eligibility and residence) and the approver (決裁, who decides on that
//! check), and every showing is in the audit log. Clerks and department
//! admins working the case see that the values exist, not the values.

use catalogue::form::{Claim, FormDef};
use kernel::audit::{self, AuditEntry};
use kernel::auth::{Role, Staff};
use kernel::db::Db;
use kernel::AppResult;

use crate::applications::Application;

/// Whether `staff`'s work needs the verified address and birth date.
pub fn may_see(staff: &Staff) -> bool {
    staff.has(Role::Reviewer) || staff.has(Role::Approver)
}

/// The answers of `app` that hold a verified address or birth date.
pub fn sensitive_fields(form: &FormDef, app: &Application) -> Vec<String> {
    form.fields
        .iter()
        .filter(|f| matches!(f.prefill, Some(Claim::Address | Claim::Birthdate)))
        .filter(|f| app.verified_fields.contains(&f.name) && app.answers.contains_key(&f.name))
        .map(|f| f.name.clone())
        .collect()
}

/// Before a case is shown to `staff`: audits the showing of its verified
/// address and birth date to a role that may see them, or returns their
/// names for one that may not (the caller leaves their values out).
pub async fn guard(
    db: &Db,
    staff: &Staff,
    form: &FormDef,
    app: &Application,
) -> AppResult<Vec<String>> {
    let fields = sensitive_fields(form, app);
    if fields.is_empty() || !may_see(staff) {
        return Ok(fields);
    }
    audit::record(
        db,
        &staff.tenant,
        AuditEntry::new(
            staff.actor(),
            "application.view_verified_identity",
            format!("application:{}", app.id),
        )
        .detail(serde_json::json!({"fields": fields})),
    )
    .await?;
    Ok(Vec::new())
}
