//! Staff accounts and sessions (minimal: password sign-in; MFA and the
//! role-proving types arrive with the identity slice). Access decisions go
//! through [`Staff::require`] and [`Staff::can_see_department`], so roles
//! slot in without touching handlers.

use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::ids;

pub const STAFF_COOKIE: &str = "mdg_staff";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 窓口: enters applications for residents, sees the department's cases.
    Clerk,
    /// 審査: reviews, comments, requests corrections.
    Reviewer,
    /// 決裁: approves or rejects.
    Approver,
    /// 所属管理者: manages the department's procedures.
    DeptAdmin,
    /// DX/システム管理者: every department, catalogue, KPIs.
    SystemAdmin,
    /// セキュリティ責任者: reads the audit log.
    SecurityOfficer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::DeptAdmin => "dept_admin",
            Role::SystemAdmin => "system_admin",
            Role::SecurityOfficer => "security_officer",
        }
    }
}

/// A signed-in member of staff of the tenant in the request path.
#[derive(Clone, Debug, Serialize)]
pub struct Staff {
    pub tenant: String,
    pub id: String,
    pub name: String,
    pub department: String,
    pub roles: Vec<Role>,
}

impl Staff {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
            || self.roles.contains(&Role::SystemAdmin) && role != Role::SecurityOfficer
    }

    pub fn require(&self, role: Role) -> AppResult<()> {
        if self.has(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Staff see their own department's cases; system admins see all.
    pub fn can_see_department(&self, department: &str) -> bool {
        self.department == department || self.roles.contains(&Role::SystemAdmin)
    }

    /// The actor string written to the audit log.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.id)
    }
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("random: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn row_to_staff(tenant: &str, r: &sqlx::any::AnyRow) -> Staff {
    let roles: String = r.get("roles");
    Staff {
        tenant: tenant.to_string(),
        id: r.get("id"),
        name: r.get("name"),
        department: r.get("department"),
        roles: roles.split(',').filter_map(Role::parse).collect(),
    }
}

/// Creates or updates a staff account (idempotent; used by the demo and
/// by administrators).
pub async fn upsert_staff(
    db: &Db,
    tenant: &str,
    id: &str,
    name: &str,
    department: &str,
    roles: &[Role],
    password: &str,
) -> AppResult<()> {
    let hash = hash_password(password)?;
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    sqlx::query(
        "INSERT INTO staff (tenant, id, name, department, roles, password_hash, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
         ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, department = excluded.department,
           roles = excluded.roles",
    )
    .bind(tenant)
    .bind(id)
    .bind(name)
    .bind(department)
    .bind(roles.join(","))
    .bind(hash)
    .bind(crate::clock::now_ms())
    .execute(db.write())
    .await?;
    Ok(())
}

/// Checks a staff id and password; on success opens a session and returns
/// its token (to be set as the cookie value `<tenant>.<token>`).
pub async fn sign_in(
    db: &Db,
    tenant: &str,
    id: &str,
    password: &str,
) -> AppResult<Option<(Staff, String)>> {
    let row = sqlx::query(
        "SELECT id, name, department, roles, password_hash FROM staff
         WHERE tenant = $1 AND id = $2 AND active = 1",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    // Argon2 takes tens of milliseconds of CPU: off the async workers. An
    // unknown id costs the same work as a real one, so timing reveals nothing.
    let stored = row.as_ref().map(|r| r.get::<String, _>("password_hash"));
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => verify_password(&password, &hash),
        None => {
            let _ = verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("password check: {e}"))?;
    let Some(row) = row.filter(|_| ok) else {
        let shown: String = id.chars().filter(|c| !c.is_control()).take(64).collect();
        crate::audit::record(
            db,
            tenant,
            crate::audit::AuditEntry::new(
                "anonymous",
                "staff.sign_in_failed",
                format!("staff:{shown}"),
            ),
        )
        .await?;
        return Ok(None);
    };
    let staff = row_to_staff(tenant, &row);
    let token = ids::token();
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO staff_sessions (tenant, token_hash, staff_id, created_at, last_seen) VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(tenant)
    .bind(ids::hash_token(&token))
    .bind(&staff.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    crate::audit::append(
        &mut tx,
        tenant,
        now,
        &[crate::audit::AuditEntry::new(
            staff.actor(),
            "staff.sign_in",
            format!("staff:{}", staff.id),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(Some((staff, format!("{tenant}.{token}"))))
}

/// The `Set-Cookie` value that removes the staff session cookie.
pub fn clear_session_cookie() -> String {
    format!("{STAFF_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

pub async fn sign_out(db: &Db, cookie_value: &str) -> AppResult<()> {
    if let Some((tenant, token)) = cookie_value.split_once('.') {
        sqlx::query("DELETE FROM staff_sessions WHERE tenant = $1 AND token_hash = $2")
            .bind(tenant)
            .bind(ids::hash_token(token))
            .execute(db.write())
            .await?;
    }
    Ok(())
}

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

/// Idle timeout in milliseconds, taken from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub idle_ms: i64,
}

/// Reads a cookie by name from the request headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn load_session(
    db: &Db,
    policy: SessionPolicy,
    path_tenant: &str,
    cookie_value: &str,
) -> AppResult<Staff> {
    let (tenant, token) = cookie_value.split_once('.').ok_or(AppError::Unauthorized)?;
    if tenant != path_tenant {
        return Err(AppError::Unauthorized);
    }
    let now = crate::clock::now_ms();
    let row = sqlx::query(
        "SELECT s.id, s.name, s.department, s.roles, x.last_seen FROM staff_sessions x
         JOIN staff s ON s.tenant = x.tenant AND s.id = x.staff_id
         WHERE x.tenant = $1 AND x.token_hash = $2 AND s.active = 1",
    )
    .bind(tenant)
    .bind(ids::hash_token(token))
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::Unauthorized)?;
    let last_seen: i64 = row.get("last_seen");
    if now - last_seen > policy.idle_ms {
        return Err(AppError::Unauthorized);
    }
    if now - last_seen > 60_000 {
        sqlx::query(
            "UPDATE staff_sessions SET last_seen = $1 WHERE tenant = $2 AND token_hash = $3",
        )
        .bind(now)
        .bind(tenant)
        .bind(ids::hash_token(token))
        .execute(db.write())
        .await?;
    }
    Ok(row_to_staff(tenant, &row))
}

impl<S> FromRequestParts<S> for Staff
where
    S: Send + Sync,
    Db: FromRef<S>,
    SessionPolicy: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Unauthorized)?;
        let tenant = params
            .iter()
            .find(|(k, _)| *k == "tenant")
            .map(|(_, v)| v.to_string())
            .ok_or(AppError::Unauthorized)?;
        let value = cookie(&parts.headers, STAFF_COOKIE)
            .ok_or(AppError::Unauthorized)?
            .to_string();
        load_session(
            &Db::from_ref(state),
            SessionPolicy::from_ref(state),
            &tenant,
            &value,
        )
        .await
    }
}
