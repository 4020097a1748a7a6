//! Where the form builder keeps a procedure's draft form (`form_drafts`):
//! one per procedure, always a valid definition, with the body before
//! its last change for one step of undo. Publishing saves the procedure
//! with the draft as its form through the catalogue's versioning
//! ([`crate::store::save_in`]), audited, and deletes the draft in the same
//! transaction.

use kernel::audit::{self, AuditEntry};
use kernel::{AppError, AppResult, Db};
use sqlx::Row;

use crate::form::FormDef;
use crate::model::Procedure;
use crate::store;

#[derive(Clone, Debug)]
pub struct FormDraft {
    pub form: FormDef,
    pub base_version: i64,
    pub can_undo: bool,
    pub saved_at: i64,
    pub saved_by: String,
}

fn parse(body: &str) -> AppResult<FormDef> {
    serde_json::from_str(body).map_err(|e| AppError::Internal(anyhow::anyhow!("form draft: {e}")))
}

pub async fn get(db: &Db, tenant: &str, procedure: &str) -> AppResult<Option<FormDraft>> {
    let Some(r) = sqlx::query(
        "SELECT body, base_version, previous, saved_at, saved_by FROM form_drafts WHERE tenant = $1 AND procedure_id = $2",
    )
    .bind(tenant)
    .bind(procedure)
    .fetch_optional(db.read())
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(FormDraft {
        form: parse(&r.get::<String, _>(0))?,
        base_version: r.get(1),
        can_undo: r.try_get::<Option<String>, _>(2).ok().flatten().is_some(),
        saved_at: r.get(3),
        saved_by: r.get(4),
    }))
}

fn body(form: &FormDef) -> AppResult<String> {
    Ok(serde_json::to_string(form).map_err(anyhow::Error::from)?)
}

/// One change of a draft: the form it was made to (the draft's, or the
/// live form's when this change starts the draft from `base_version`), the
/// form after it, and what it was (`add`, `edit`, `move` …, audited).
pub struct Change<'a> {
    pub base_version: i64,
    pub before: &'a FormDef,
    pub after: &'a FormDef,
    pub what: &'a str,
}

/// Saves a change as the draft. Audited as `procedure.form_draft`.
pub async fn save(
    db: &Db,
    tenant: &str,
    procedure: &str,
    change: Change<'_>,
    actor: &str,
) -> AppResult<()> {
    let Change {
        base_version,
        before,
        after,
        what,
    } = change;
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM form_drafts WHERE tenant = $1 AND procedure_id = $2")
        .bind(tenant)
        .bind(procedure)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO form_drafts (tenant, procedure_id, base_version, body, previous, saved_at, saved_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(procedure)
    .bind(base_version)
    .bind(body(after)?)
    .bind(body(before)?)
    .bind(now)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            actor,
            "procedure.form_draft",
            format!("procedure:{procedure}"),
        )
        .detail(serde_json::json!({"change": what, "fields": after.fields.len()}))],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Undoes the draft's last change (one step).
pub async fn undo(db: &Db, tenant: &str, procedure: &str, actor: &str) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE form_drafts SET body = previous, previous = NULL, saved_at = $1, saved_by = $2
         WHERE tenant = $3 AND procedure_id = $4 AND previous IS NOT NULL",
    )
    .bind(now)
    .bind(actor)
    .bind(tenant)
    .bind(procedure)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(AppError::Conflict("form_draft_undo"));
    }
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            actor,
            "procedure.form_undo",
            format!("procedure:{procedure}"),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Discards the draft: the live form stays as it is.
pub async fn discard(db: &Db, tenant: &str, procedure: &str, actor: &str) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query("DELETE FROM form_drafts WHERE tenant = $1 AND procedure_id = $2")
        .bind(tenant)
        .bind(procedure)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() == 1 {
        audit::append(
            &mut tx,
            tenant,
            now,
            &[AuditEntry::new(
                actor,
                "procedure.form_discard",
                format!("procedure:{procedure}"),
            )],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Publishes the draft as the procedure's next version (a conflict if the
/// procedure changed since the draft began); returns the new version.
pub async fn publish(db: &Db, tenant: &str, p: &Procedure, actor: &str) -> AppResult<i64> {
    let draft = get(db, tenant, &p.id)
        .await?
        .ok_or(AppError::NotFound("form_draft"))?;
    let mut next = p.clone();
    next.form = draft.form;
    let depts = kernel::tenant::department_codes(db, tenant).await?;
    if let Err(errs) = next.check(&depts) {
        return Err(AppError::Validation(
            errs.into_iter()
                .map(|(field, message)| kernel::FieldError { field, message })
                .collect(),
        ));
    }
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let (_, version) = store::save_in(
        &mut tx,
        tenant,
        &next,
        Some(draft.base_version),
        false,
        actor,
        now,
    )
    .await?;
    sqlx::query("DELETE FROM form_drafts WHERE tenant = $1 AND procedure_id = $2")
        .bind(tenant)
        .bind(&p.id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            actor,
            "procedure.form_publish",
            format!("procedure:{}", p.id),
        )
        .detail(serde_json::json!({"version": version, "fields": next.form.fields.len()}))],
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}
