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
    /// As OpenID Connect writes it: `1990-04-01`, or partial (`1990`,
    /// `0000-04-01`); read it through [`Claims::birth_date`].
    pub birthdate: Option<String>,
    /// `female`, `male`, or any other value a provider uses.
    pub gender: Option<String>,
}

impl Claims {
    pub fn birth_date(&self) -> Option<BirthDate> {
        self.birthdate.as_deref().and_then(BirthDate::parse)
    }

    /// The gender as a key of the `resident.gender` locale table: values
    /// other than female and male get the neutral `other`.
    pub fn gender_key(&self) -> Option<&'static str> {
        self.gender.as_deref().map(|g| match g {
            "female" => "female",
            "male" => "male",
            _ => "other",
        })
    }
}

/// A birth date as OpenID Connect Core (§5.1) lets a provider assert it:
/// whole, the year alone, or month and day with the year withheld
/// (`0000-MM-DD`). Only a whole date may fill a date field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BirthDate {
    Full(time::Date),
    Year(i32),
    MonthDay(time::Month, u8),
}

impl BirthDate {
    pub fn parse(s: &str) -> Option<BirthDate> {
        let s = s.trim();
        let num = |p: &str| -> Option<i32> {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let parts: Vec<&str> = s.split('-').collect();
        match parts.as_slice() {
            [y] if y.len() == 4 => num(y).filter(|y| *y > 0).map(BirthDate::Year),
            [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
                let (y, m, d) = (num(y)?, num(m)?, num(d)?);
                let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
                let day = u8::try_from(d).ok()?;
                if y == 0 {
                    // 2000 is a leap year: 0000-02-29 is a real birthday.
                    time::Date::from_calendar_date(2000, month, day).ok()?;
                    Some(BirthDate::MonthDay(month, day))
                } else {
                    time::Date::from_calendar_date(y, month, day)
                        .ok()
                        .map(BirthDate::Full)
                }
            }
            _ => None,
        }
    }

    pub fn full(self) -> Option<time::Date> {
        match self {
            BirthDate::Full(d) => Some(d),
            _ => None,
        }
    }
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
    let subject_hash = hex::encode(crate::crypto::hmac_sha256(
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

pub fn cookie_header(value: &str, secure: bool) -> axum::http::HeaderValue {
    crate::web::Cookie::new(RESIDENT_COOKIE, value)
        .max_age_secs(ABSOLUTE_MS / 1000)
        .secure(secure)
        .header()
}

pub fn clear_cookie_header() -> axum::http::HeaderValue {
    crate::web::Cookie::removal(RESIDENT_COOKIE, "/").header()
}

/// Sessions recently read, so that a resident's requests do not each cost
/// a database round trip and a decryption. An entry is trusted for
/// [`CACHE_MS`]; signing out removes it at once here and, through the
/// deployment's events ([`SIGNED_OUT`]), on every other server.
#[derive(Clone, Default)]
pub struct ResidentCache {
    entries: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, Resident)>>>,
    bus: Option<crate::events::Bus>,
}

pub const CACHE_MS: i64 = 10_000;

/// The bus topic of a resident session ended (body: the session's token
/// hash, as `resident_sessions` keeps it; never the token).
pub const SIGNED_OUT: &str = "resident.signed_out";

impl ResidentCache {
    /// A cache that publishes sign-outs and drops the sessions other
    /// servers end.
    pub fn following(bus: crate::events::Bus) -> Self {
        let cache = ResidentCache {
            entries: Default::default(),
            bus: Some(bus.clone()),
        };
        let mut rx = bus.subscribe(SIGNED_OUT);
        let entries = std::sync::Arc::downgrade(&cache.entries);
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                let key = match rx.recv().await {
                    Ok(e) => match e.body["session"].as_str() {
                        Some(hash) => format!("{}|{hash}", e.tenant),
                        None => continue,
                    },
                    // Missed some: drop everything (it is only a cache).
                    Err(RecvError::Lagged(_)) => String::new(),
                    Err(RecvError::Closed) => return,
                };
                let Some(entries) = entries.upgrade() else {
                    return;
                };
                let mut map = entries.lock().unwrap_or_else(|p| p.into_inner());
                if key.is_empty() {
                    map.clear();
                } else {
                    map.remove(&key);
                }
            }
        });
        cache
    }

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

    fn forget_key(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// Ends the session of this cookie: deleted, forgotten here, and (in the
/// same transaction) announced to every server.
pub async fn sign_out(db: &Db, cache: &ResidentCache, cookie_value: &str) -> AppResult<()> {
    if let Some((tenant, token)) = cookie_value.split_once('.') {
        let hash = ids::hash_token(token);
        let mut tx = db.begin().await?;
        sqlx::query("DELETE FROM resident_sessions WHERE tenant = $1 AND token_hash = $2")
            .bind(tenant)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        if let Some(bus) = &cache.bus {
            bus.publish(
                &mut tx,
                tenant,
                SIGNED_OUT,
                serde_json::json!({ "session": hash }),
            )
            .await?;
        }
        tx.commit().await?;
        cache.forget_key(&format!("{tenant}|{hash}"));
    }
    Ok(())
}

/// Ends every resident session (after a key rotation: their sealed claims
/// would not open; residents sign in again).
pub async fn end_all(db: &Db) -> AppResult<u64> {
    Ok(sqlx::query("DELETE FROM resident_sessions")
        .execute(db.write())
        .await?
        .rows_affected())
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
        // Expired: no server trusts it past its limits either.
        sign_out(db, &ResidentCache::default(), value).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_whole_and_partial() {
        use time::Month;
        assert_eq!(
            BirthDate::parse("1990-04-01"),
            Some(BirthDate::Full(
                time::Date::from_calendar_date(1990, Month::April, 1).unwrap()
            ))
        );
        assert_eq!(BirthDate::parse("1985"), Some(BirthDate::Year(1985)));
        assert_eq!(
            BirthDate::parse("0000-02-29"),
            Some(BirthDate::MonthDay(Month::February, 29))
        );
        for bad in [
            "",
            "0000",
            "1990-02-30",
            "1990-4-1",
            "0000-13-01",
            "19850",
            "abcd",
            "1990-04-01T00",
        ] {
            assert_eq!(BirthDate::parse(bad), None, "{bad}");
        }
        assert_eq!(BirthDate::parse("1985").and_then(BirthDate::full), None);
    }

    #[test]
    fn genders_outside_the_two_get_the_neutral_key() {
        let with = |g: &str| Claims {
            gender: Some(g.into()),
            ..Claims::default()
        };
        assert_eq!(with("female").gender_key(), Some("female"));
        assert_eq!(with("male").gender_key(), Some("male"));
        assert_eq!(with("diverse").gender_key(), Some("other"));
        assert_eq!(Claims::default().gender_key(), None);
    }
}
