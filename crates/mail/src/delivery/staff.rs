//! What staff do with delivery: list messages (each view of addresses is
//! audited) and resend a failed or unknown one (audited, in the
//! transaction that queues it again).

use kernel::audit::{self, AuditEntry};
use kernel::auth::SystemAdmin;
use kernel::jobs::JobSpec;
use kernel::{AppError, AppResult, Db};

use super::listing::{self, Filter, OutboxMail};

/// The messages `filter` selects (links masked), with an audit entry.
pub async fn listing(db: &Db, admin: &SystemAdmin, filter: &Filter) -> AppResult<Vec<OutboxMail>> {
    let mails = listing::list_filtered(db, &admin.tenant, filter).await?;
    audit::record(
        db,
        &admin.tenant,
        AuditEntry::new(admin.actor(), "mail.outbox.view", "outbox").detail(serde_json::json!({
            "state": filter.state.map(|s| s.as_str()),
            "kind": filter.kind,
            "case_id": filter.case_id,
            "count": mails.len(),
        })),
    )
    .await?;
    Ok(mails)
}

/// Queues message `id` again (failed, unknown or held only: a resident
/// may receive an unknown one twice, which staff decide knowingly; a held
/// one was written before delivery existed and is released).
pub async fn resend(db: &Db, admin: &SystemAdmin, id: &str) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    if !super::store::requeue(&mut tx, &admin.tenant, id, now).await? {
        return Err(if super::store::exists(db, &admin.tenant, id).await? {
            AppError::Conflict("mail_state")
        } else {
            AppError::NotFound("page")
        });
    }
    audit::append(
        &mut tx,
        &admin.tenant,
        now,
        &[AuditEntry::new(
            admin.actor(),
            "mail.resend",
            format!("outbox:{id}"),
        )],
    )
    .await?;
    kernel::jobs::enqueue(
        &mut tx,
        JobSpec::new(admin.tenant.as_str(), super::KIND, serde_json::Value::Null).dedupe("queued"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
