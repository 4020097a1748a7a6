//! Residents signed in with the My Number card (デジタル認証アプリ via
//! OpenID Connect) or another provider: the session, the identity level it
//! proves and the verified 基本4情報 (name, address, birth date, gender).
//! The claims are sealed at rest; the provider's subject is kept only as a
//! keyed hash.

use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{self, AuditEntry};
use crate::crypto::{Purpose, Vault};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::{clock, ids};

pub const RESIDENT_COOKIE: &str = "mdg_resident";
/// A resident session lasts at most two hours, and 30 minutes idle.
pub const ABSOLUTE_MS: i64 = 2 * 3_600_000;
pub const IDLE_MS: i64 = 30 * 60_000;

/// How strongly a sign-in identifies the resident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    SignedIn,
    MyNumberCard,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::SignedIn => "signed_in",
            Level::MyNumberCard => "my_number_card",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "signed_in" => Some(Level::SignedIn),
            "my_number_card" => Some(Level::MyNumberCard),
            _ => None,
        }
    }
}

/// 基本4情報 as the identity provider asserted them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub name: Option<String>,
    pub address: Option<String>,
    /// ISO date, e.g. `1990-04-01`.
    pub birthdate: Option<String>,
    pub gender: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Resident {
    pub tenant: String,
    /// HMAC of the provider's subject: links a resident's applications
    /// without storing the subject.
    pub subject: String,
    pub provider: String,
    pub level: Level,
    pub claims: Claims,
}

/// Opens a resident session; returns the cookie value `<tenant>.<token>`.
#[allow(clippy::too_many_arguments)]
pub async fn open(
    db: &Db,
    vault: &Vault,
    subject_key: &[u8],
    tenant: &str,
    provider: &str,
    subject: &str,
    level: Level,
    claims: &Claims,
) -> AppResult<String> {
    let token = ids::token();
    let now = clock::now_ms();
    let subject_hash = hex::encode(crate::secrets::hmac_sha256(
        subject_key,
        format!("{provider}|{subject}").as_bytes(),
    ));
    let sealed = vault.seal(
        tenant,
        Purpose::IdentityClaims,
        &serde_json::to_string(claims).map_err(anyhow::Error::from)?,
    );
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO resident_sessions (tenant, token_hash, subject_hash, provider, identity_level, claims, created_at, last_seen)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(tenant)
    .bind(ids::hash_token(&token))
    .bind(&subject_hash)
    .bind(provider)
    .bind(level.as_str())
    .bind(sealed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            format!("resident:{}", &subject_hash[..16]),
            "resident.sign_in",
            format!("resident:{}", &subject_hash[..16]),
        )
        .detail(serde_json::json!({"provider": provider, "level": level.as_str()}))],
    )
    .await?;
    tx.commit().await?;
    Ok(format!("{tenant}.{token}"))
}

pub fn cookie_header(value: &str, secure: bool) -> String {
    format!(
        "{RESIDENT_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        ABSOLUTE_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie_header() -> String {
    format!("{RESIDENT_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Sessions recently read, so that a resident's requests do not each cost
/// a database round trip and a decryption. An entry is trusted for
/// [`CACHE_MS`]; signing out here removes it at once (on other servers of
/// a deployment it lapses within that time).
#[derive(Clone, Default)]
pub struct ResidentCache {
    entries: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, Resident)>>>,
}

pub const CACHE_MS: i64 = 10_000;

impl ResidentCache {
    fn get(&self, key: &str, now: i64) -> Option<Resident> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(at, _)| now - *at < CACHE_MS)
            .map(|(_, r)| r.clone())
    }

    fn put(&self, key: String, now: i64, r: Resident) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (at, _)| now - *at < CACHE_MS);
        }
        map.insert(key, (now, r));
    }

    pub fn forget(&self, cookie_value: &str) {
        if let Some((tenant, token)) = cookie_value.split_once('.') {
            let key = format!("{tenant}|{}", ids::hash_token(token));
            self.entries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        }
    }
}

pub async fn sign_out(db: &Db, cookie_value: &str) -> AppResult<()> {
    if let Some((tenant, token)) = cookie_value.split_once('.') {
        sqlx::query("DELETE FROM resident_sessions WHERE tenant = $1 AND token_hash = $2")
            .bind(tenant)
            .bind(ids::hash_token(token))
            .execute(db.write())
            .await?;
    }
    Ok(())
}

pub async fn purge(db: &Db) -> AppResult<u64> {
    let now = clock::now_ms();
    Ok(
        sqlx::query("DELETE FROM resident_sessions WHERE created_at < $1 OR last_seen < $2")
            .bind(now - ABSOLUTE_MS)
            .bind(now - IDLE_MS)
            .execute(db.write())
            .await?
            .rows_affected(),
    )
}

async fn load(
    db: &Db,
    vault: &Vault,
    cache: &ResidentCache,
    path_tenant: &str,
    value: &str,
) -> AppResult<Option<Resident>> {
    let Some((tenant, token)) = value.split_once('.') else {
        return Ok(None);
    };
    if tenant != path_tenant {
        return Ok(None);
    }
    let now = clock::now_ms();
    let key = format!("{tenant}|{}", ids::hash_token(token));
    if let Some(r) = cache.get(&key, now) {
        return Ok(Some(r));
    }
    let r = load_uncached(db, vault, tenant, token, value).await?;
    if let Some(r) = &r {
        cache.put(key, now, r.clone());
    }
    Ok(r)
}

async fn load_uncached(
    db: &Db,
    vault: &Vault,
    tenant: &str,
    token: &str,
    value: &str,
) -> AppResult<Option<Resident>> {
    let Some(row) = sqlx::query(
        "SELECT subject_hash, provider, identity_level, claims, created_at, last_seen FROM resident_sessions
         WHERE tenant = $1 AND token_hash = $2",
    )
    .bind(tenant)
    .bind(ids::hash_token(token))
    .fetch_optional(db.read())
    .await?
    else {
        return Ok(None);
    };
    let now = clock::now_ms();
    if now - row.get::<i64, _>("created_at") > ABSOLUTE_MS
        || now - row.get::<i64, _>("last_seen") > IDLE_MS
    {
        sign_out(db, value).await?;
        return Ok(None);
    }
    if now - row.get::<i64, _>("last_seen") > 60_000 {
        sqlx::query(
            "UPDATE resident_sessions SET last_seen = $1 WHERE tenant = $2 AND token_hash = $3",
        )
        .bind(now)
        .bind(tenant)
        .bind(ids::hash_token(token))
        .execute(db.write())
        .await?;
    }
    let claims: Claims = vault
        .open(
            tenant,
            Purpose::IdentityClaims,
            &row.get::<String, _>("claims"),
        )
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("resident session claims do not open"))
        })?;
    Ok(Some(Resident {
        tenant: tenant.to_string(),
        subject: row.get("subject_hash"),
        provider: row.get("provider"),
        level: Level::parse(&row.get::<String, _>("identity_level")).unwrap_or(Level::SignedIn),
        claims,
    }))
}

/// The signed-in resident of the tenant in the path, if any.
pub struct MaybeResident(pub Option<Resident>);

impl<S> FromRequestParts<S> for MaybeResident
where
    S: Send + Sync,
    Db: FromRef<S>,
    Vault: FromRef<S>,
    ResidentCache: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Ok(params) = RawPathParams::from_request_parts(parts, state).await else {
            return Ok(MaybeResident(None));
        };
        let Some(tenant) = params
            .iter()
            .find(|(k, _)| *k == "tenant")
            .map(|(_, v)| v.to_string())
        else {
            return Ok(MaybeResident(None));
        };
        let Some(value) = crate::auth::cookie(&parts.headers, RESIDENT_COOKIE).map(str::to_string)
        else {
            return Ok(MaybeResident(None));
        };
        Ok(MaybeResident(
            load(
                &Db::from_ref(state),
                &Vault::from_ref(state),
                &ResidentCache::from_ref(state),
                &tenant,
                &value,
            )
            .await?,
        ))
    }
}

impl MaybeResident {
    pub fn name(&self) -> Option<&str> {
        self.0
            .as_ref()
            .map(|r| r.claims.name.as_deref().unwrap_or("—"))
    }
}
