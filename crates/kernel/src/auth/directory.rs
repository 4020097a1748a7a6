//! Who works here: staff looked up by id or by department, for the pages
//! that name, list or assign staff. Accounts themselves (passwords, the
//! second factor) are in [`super::account`].

use sqlx::Row;

use crate::db::Db;
use crate::error::AppResult;

/// Whether the tenant has an account with this id (active or not).
pub async fn exists(db: &Db, tenant: &str, id: &str) -> AppResult<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM staff WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(db.read())
            .await?
            .is_some(),
    )
}

/// The name of a member of staff, if the account exists.
pub async fn name_of(db: &Db, tenant: &str, id: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query("SELECT name FROM staff WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(db.read())
            .await?
            .map(|r| r.get(0)),
    )
}

/// The active staff of a department as (id, name), by name.
pub async fn colleagues(
    db: &Db,
    tenant: &str,
    department: &str,
) -> AppResult<Vec<(String, String)>> {
    Ok(sqlx::query(
        "SELECT id, name FROM staff WHERE tenant = $1 AND department = $2 AND active = 1 ORDER BY name",
    )
    .bind(tenant)
    .bind(department)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// Whether `id` is an active member of staff of `department`.
pub async fn is_active_in(db: &Db, tenant: &str, id: &str, department: &str) -> AppResult<bool> {
    Ok(sqlx::query(
        "SELECT 1 FROM staff WHERE tenant = $1 AND id = $2 AND department = $3 AND active = 1",
    )
    .bind(tenant)
    .bind(id)
    .bind(department)
    .fetch_optional(db.read())
    .await?
    .is_some())
}
