//! テンプレート共有: a city shares one of its procedures' published forms
//! as a template (a name, a description, the form definition and nothing
//! else: no applications, no personal data); staff of any city list the
//! shared templates and start their own procedure's draft from one.
//! Sharing and unsharing are audited in the sharing city's log. The list
//! is the one read across tenants, by design.

use kernel::audit::{self, AuditEntry};
use kernel::{AppError, AppResult, Db, FieldError};
use sqlx::Row;

use crate::form::FormDef;

const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 400;

#[derive(Clone, Debug)]
pub struct Template {
    /// The sharing city (全国地方公共団体コード).
    pub tenant: String,
    pub procedure_id: String,
    pub name: String,
    pub description: String,
    pub form: FormDef,
    pub shared_at: i64,
}

fn parse(body: &str) -> AppResult<FormDef> {
    serde_json::from_str(body)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("form template: {e}")))
}

fn of_row(r: &sqlx::any::AnyRow) -> AppResult<Template> {
    Ok(Template {
        tenant: r.get(0),
        procedure_id: r.get(1),
        name: r.get(2),
        description: r.get(3),
        form: parse(&r.get::<String, _>(4))?,
        shared_at: r.get(5),
    })
}

const COLUMNS: &str = "tenant, procedure_id, name, description, body, shared_at";

/// Every shared template of every city, newest first.
pub async fn list(db: &Db) -> AppResult<Vec<Template>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM form_templates ORDER BY shared_at DESC, tenant, procedure_id"
    ))
    .fetch_all(db.read())
    .await?
    .iter()
    .map(of_row)
    .collect()
}

pub async fn get(db: &Db, tenant: &str, procedure: &str) -> AppResult<Option<Template>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM form_templates WHERE tenant = $1 AND procedure_id = $2"
    ))
    .bind(tenant)
    .bind(procedure)
    .fetch_optional(db.read())
    .await?
    .as_ref()
    .map(of_row)
    .transpose()
}

/// The name and description typed, checked (messages name the input).
pub fn read(name: &str, description: &str) -> Result<(String, String), Vec<FieldError>> {
    let name = jp::nfc(name.trim());
    let description = jp::nfc(description.trim());
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(FieldError {
            field: "fb-template-name".into(),
            message: "「テンプレート名」を入力してください。".into(),
        });
    } else if name.chars().count() > MAX_NAME {
        errs.push(FieldError {
            field: "fb-template-name".into(),
            message: format!("「テンプレート名」は{MAX_NAME}文字以内にしてください。"),
        });
    }
    if description.chars().count() > MAX_DESCRIPTION {
        errs.push(FieldError {
            field: "fb-template-description".into(),
            message: format!("「テンプレートの説明」は{MAX_DESCRIPTION}文字以内にしてください。"),
        });
    }
    if errs.is_empty() {
        Ok((name, description))
    } else {
        Err(errs)
    }
}

/// Shares (or shares again, replacing) a procedure's published form.
pub async fn share(
    db: &Db,
    tenant: &str,
    procedure: &str,
    (name, description): (String, String),
    form: &FormDef,
    actor: &str,
) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let body = serde_json::to_string(form).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM form_templates WHERE tenant = $1 AND procedure_id = $2")
        .bind(tenant)
        .bind(procedure)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO form_templates (tenant, procedure_id, name, description, body, shared_at, shared_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(procedure)
    .bind(&name)
    .bind(&description)
    .bind(&body)
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
            "form_template.share",
            format!("procedure:{procedure}"),
        )
        .detail(serde_json::json!({"name": name, "fields": form.fields.len()}))],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unshare(db: &Db, tenant: &str, procedure: &str, actor: &str) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query("DELETE FROM form_templates WHERE tenant = $1 AND procedure_id = $2")
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
                "form_template.unshare",
                format!("procedure:{procedure}"),
            )],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
