//! Staff sessions: an opaque token in a `Secure` (behind HTTPS),
//! `HttpOnly`, `SameSite=Strict` cookie, stored only as its SHA-256. A
//! session ends after `idle_ms` without a request or `absolute_ms` after
//! sign-in, whichever comes first. A session is first `password` (second
//! factor due) or `enrol` (second factor to be set up) and only becomes
//! `full` with a new token once the second factor is done, so a token seen
//! before that step is worth nothing after it.

use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use sqlx::Row;

use super::{Role, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::ids;

pub const STAFF_COOKIE: &str = "mdg_staff";

/// A half-finished sign-in lasts at most this long.
pub const PENDING_MS: i64 = 10 * 60_000;

#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub idle_ms: i64,
    pub absolute_ms: i64,
    /// Cookies get `Secure` (the public URL is https).
    pub secure: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Password right, second factor due.
    Password,
    /// No second factor yet: must enrol before anything else.
    Enrol,
    Full,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Password => "password",
            Stage::Enrol => "enrol",
            Stage::Full => "full",
        }
    }
    fn parse(s: &str) -> Stage {
        match s {
            "full" => Stage::Full,
            "enrol" => Stage::Enrol,
            _ => Stage::Password,
        }
    }
}

/// The `Set-Cookie` value for a staff session (`SameSite=Strict`).
pub fn session_cookie(value: &str, secure: bool) -> axum::http::HeaderValue {
    crate::web::Cookie::new(STAFF_COOKIE, value)
        .strict()
        .secure(secure)
        .header()
}

/// The `Set-Cookie` value that removes the staff session cookie.
pub fn clear_session_cookie() -> axum::http::HeaderValue {
    crate::web::Cookie::removal(STAFF_COOKIE, "/")
        .strict()
        .header()
}

/// Opens a session at `stage` inside `tx`; returns the cookie value
/// `<tenant>.<token>`.
pub(crate) async fn open(
    tx: &mut crate::db::Tx,
    tenant: &str,
    staff_id: &str,
    stage: Stage,
    now: i64,
) -> Result<String, sqlx::Error> {
    let token = ids::token();
    sqlx::query(
        "INSERT INTO staff_sessions (tenant, token_hash, staff_id, created_at, last_seen, stage) VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(tenant)
    .bind(ids::hash_token(&token))
    .bind(staff_id)
    .bind(now)
    .bind(stage.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(format!("{tenant}.{token}"))
}

/// Deletes a session; returns how many rows went (0 if it was gone).
pub(crate) async fn close(
    tx: &mut crate::db::Tx,
    tenant: &str,
    token: &str,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM staff_sessions WHERE tenant = $1 AND token_hash = $2")
            .bind(tenant)
            .bind(ids::hash_token(token))
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    )
}

pub async fn sign_out(db: &Db, cookie_value: &str) -> AppResult<()> {
    if let Some((tenant, token)) = cookie_value.split_once('.') {
        let mut tx = db.begin().await?;
        close(&mut tx, tenant, token).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Ends every session of a member of staff (「すべての端末からサインアウト」,
/// also after a password change, an unlock or a second-factor reset).
/// Returns how many were ended.
pub async fn sign_out_everywhere(
    db: &Db,
    tenant: &str,
    staff_id: &str,
    actor: &str,
) -> AppResult<u64> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("DELETE FROM staff_sessions WHERE tenant = $1 AND staff_id = $2")
        .bind(tenant)
        .bind(staff_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    crate::audit::append(
        &mut tx,
        tenant,
        crate::clock::now_ms(),
        &[crate::audit::AuditEntry::new(
            actor,
            "staff.sign_out_everywhere",
            format!("staff:{staff_id}"),
        )
        .detail(serde_json::json!({ "sessions": n }))],
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Deletes sessions past their idle or absolute limit (housekeeping).
/// Ends the sessions not yet fully signed in (between password and second
/// factor, or enrolling one): after a key rotation they would not open.
pub async fn end_unfinished(db: &Db) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM staff_sessions WHERE stage <> 'full'")
            .execute(db.write())
            .await?
            .rows_affected(),
    )
}

pub async fn purge(db: &Db, policy: SessionPolicy) -> AppResult<u64> {
    let now = crate::clock::now_ms();
    Ok(sqlx::query(
        "DELETE FROM staff_sessions WHERE last_seen < $1 OR created_at < $2 OR (stage <> 'full' AND created_at < $3)",
    )
    .bind(now - policy.idle_ms)
    .bind(now - policy.absolute_ms)
    .bind(now - PENDING_MS)
    .execute(db.write())
    .await?
    .rows_affected())
}

/// A session as loaded from its cookie.
pub(crate) struct Loaded {
    pub staff: Staff,
    pub stage: Stage,
    pub token: String,
}

pub(crate) async fn load(
    db: &Db,
    policy: SessionPolicy,
    path_tenant: &str,
    cookie_value: &str,
) -> AppResult<Loaded> {
    let (tenant, token) = cookie_value.split_once('.').ok_or(AppError::Unauthorized)?;
    if tenant != path_tenant {
        return Err(AppError::Unauthorized);
    }
    let now = crate::clock::now_ms();
    let row = sqlx::query(
        "SELECT s.id, s.name, s.department, s.roles, x.last_seen, x.created_at, x.stage FROM staff_sessions x
         JOIN staff s ON s.tenant = x.tenant AND s.id = x.staff_id
         WHERE x.tenant = $1 AND x.token_hash = $2 AND s.active = 1",
    )
    .bind(tenant)
    .bind(ids::hash_token(token))
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::Unauthorized)?;
    let last_seen: i64 = row.get("last_seen");
    let created_at: i64 = row.get("created_at");
    let stage = Stage::parse(&row.get::<String, _>("stage"));
    let expired = now - last_seen > policy.idle_ms
        || now - created_at > policy.absolute_ms
        || stage != Stage::Full && now - created_at > PENDING_MS;
    if expired {
        sign_out(db, cookie_value).await?;
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
    let id: String = row.get("id");
    let granted = sqlx::query(
        "SELECT department FROM staff_grants WHERE tenant = $1 AND staff_id = $2 ORDER BY department",
    )
    .bind(tenant)
    .bind(&id)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    let roles: String = row.get("roles");
    Ok(Loaded {
        staff: Staff {
            tenant: tenant.to_string(),
            id,
            name: row.get("name"),
            department: row.get("department"),
            roles: roles.split(',').filter_map(Role::parse).collect(),
            granted_departments: granted,
        },
        stage,
        token: token.to_string(),
    })
}

async fn from_parts<S>(parts: &mut Parts, state: &S) -> AppResult<Loaded>
where
    S: Send + Sync,
    Db: FromRef<S>,
    SessionPolicy: FromRef<S>,
{
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::Unauthorized)?;
    let tenant = params
        .iter()
        .find(|(k, _)| *k == "tenant")
        .map(|(_, v)| v.to_string())
        .ok_or(AppError::Unauthorized)?;
    let value = super::cookie(&parts.headers, STAFF_COOKIE)
        .ok_or(AppError::Unauthorized)?
        .to_string();
    load(
        &Db::from_ref(state),
        SessionPolicy::from_ref(state),
        &tenant,
        &value,
    )
    .await
}

impl<S> FromRequestParts<S> for Staff
where
    S: Send + Sync,
    Db: FromRef<S>,
    SessionPolicy: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let loaded = from_parts(parts, state).await?;
        if loaded.stage != Stage::Full {
            return Err(AppError::Unauthorized);
        }
        Ok(loaded.staff)
    }
}

/// The pending session behind a cookie value (the JSON API signs in with
/// password and code in one request).
pub async fn pending(
    db: &Db,
    policy: SessionPolicy,
    tenant: &str,
    cookie_value: &str,
) -> AppResult<PendingStaff> {
    let loaded = load(db, policy, tenant, cookie_value).await?;
    if loaded.stage == Stage::Full {
        return Err(AppError::Unauthorized);
    }
    Ok(PendingStaff {
        staff: loaded.staff,
        stage: loaded.stage,
        token: loaded.token,
    })
}

/// A sign-in in progress: password done, second factor (or its enrolment)
/// still due. Only the second-factor pages accept it.
pub struct PendingStaff {
    pub staff: Staff,
    pub stage: Stage,
    pub(crate) token: String,
}

impl<S> FromRequestParts<S> for PendingStaff
where
    S: Send + Sync,
    Db: FromRef<S>,
    SessionPolicy: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let loaded = from_parts(parts, state).await?;
        if loaded.stage == Stage::Full {
            return Err(AppError::Unauthorized);
        }
        Ok(PendingStaff {
            staff: loaded.staff,
            stage: loaded.stage,
            token: loaded.token,
        })
    }
}
