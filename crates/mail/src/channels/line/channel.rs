//! A municipality's LINE official account: the channel secret and the
//! channel access token, sealed at rest (`Purpose::LineChannel`), set by
//! its system administrator (audited; never shown again).

use kernel::auth::SystemAdmin;
use kernel::crypto::Purpose;
use kernel::error::FieldError;
use kernel::i18n::{self, Lang};
use kernel::{AppError, AppResult, Db};
use sqlx::Row;

/// The opened settings of one channel.
#[derive(Clone)]
pub struct Channel {
    pub secret: String,
    pub access_token: String,
    /// When LINE was set up: messages sent before are not pushed.
    pub created_at: i64,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The channel of `tenant`, if it has one.
pub async fn load(db: &Db, tenant: &str) -> AppResult<Option<Channel>> {
    let row =
        sqlx::query("SELECT secret, access_token, created_at FROM line_channels WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(db.read())
            .await?;
    let Some(r) = row else { return Ok(None) };
    let vault = db.vault().map_err(AppError::Internal)?;
    let open = |col: &str| {
        vault
            .open(tenant, Purpose::LineChannel, &r.get::<String, _>(col))
            .map_err(|e| AppError::Internal(anyhow::anyhow!("LINE channel: {e}")))
    };
    Ok(Some(Channel {
        secret: open("secret")?,
        access_token: open("access_token")?,
        created_at: r.get("created_at"),
    }))
}

/// Channel secrets are 32 hex characters; access tokens are long
/// printable strings.
fn check(lang: Lang, secret: &str, access_token: &str) -> AppResult<()> {
    let mut errors = Vec::new();
    if secret.len() != 32 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(FieldError {
            field: "channel_secret".into(),
            message: i18n::t(lang, "mail.channels.line.bad_secret").to_string(),
        });
    }
    if access_token.len() < 20
        || access_token.len() > 1000
        || !access_token.bytes().all(|b| b.is_ascii_graphic())
    {
        errors.push(FieldError {
            field: "access_token".into(),
            message: i18n::t(lang, "mail.channels.line.bad_token").to_string(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Sets (or replaces) the channel of the administrator's municipality.
pub async fn save(
    db: &Db,
    admin: &SystemAdmin,
    lang: Lang,
    secret: &str,
    access_token: &str,
    now: i64,
) -> AppResult<()> {
    check(lang, secret, access_token)?;
    let tenant = admin.tenant.as_str();
    let vault = db.vault().map_err(AppError::Internal)?;
    let sealed_secret = vault.seal(tenant, Purpose::LineChannel, secret);
    let sealed_token = vault.seal(tenant, Purpose::LineChannel, access_token);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO line_channels (tenant, secret, access_token, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (tenant) DO UPDATE SET secret = excluded.secret, \
         access_token = excluded.access_token, updated_at = excluded.updated_at",
    )
    .bind(tenant)
    .bind(&sealed_secret)
    .bind(&sealed_token)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    kernel::audit::append(
        &mut tx,
        tenant,
        now,
        &[kernel::audit::AuditEntry::new(
            admin.actor(),
            "line.channel.set",
            "line_channel",
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Re-seals the channels sealed by an older key (`madoguchi rekey`).
pub async fn rekey(db: &Db) -> anyhow::Result<u64> {
    let vault = db.vault()?.clone();
    let rows = sqlx::query("SELECT tenant, secret, access_token FROM line_channels")
        .fetch_all(db.read())
        .await?;
    let mut n = 0;
    for r in rows {
        let tenant: String = r.get("tenant");
        let mut sealed = Vec::new();
        for col in ["secret", "access_token"] {
            let old: String = r.get(col);
            let plain = vault
                .open(&tenant, Purpose::LineChannel, &old)
                .map_err(|e| anyhow::anyhow!("LINE channel of {tenant}: {e}"))?;
            sealed.push((old, vault.seal(&tenant, Purpose::LineChannel, &plain)));
        }
        // Only if nobody replaced the channel meanwhile.
        let done = sqlx::query(
            "UPDATE line_channels SET secret = $1, access_token = $2 \
             WHERE tenant = $3 AND secret = $4 AND access_token = $5",
        )
        .bind(&sealed[0].1)
        .bind(&sealed[1].1)
        .bind(&tenant)
        .bind(&sealed[0].0)
        .bind(&sealed[1].0)
        .execute(db.write())
        .await?;
        n += done.rows_affected();
    }
    Ok(n)
}
