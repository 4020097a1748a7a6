//! Key rotation: re-seals every value sealed by an older key with the
//! active (first) key. Run after putting a new key first in
//! `encryption_keys`; afterwards the old key can be removed. Each row is
//! updated in its own statement, so an interrupted run can simply be
//! started again.

use kernel::crypto::{self, Purpose};
use sqlx::Row;

use crate::App;

#[derive(Debug, Default)]
pub struct RekeyReport {
    pub applications: u64,
    pub drafts: u64,
    /// Assisted entries (書かない窓口): their input and signature.
    pub assisted_entries: u64,
    pub staff: u64,
    pub attachments: u64,
}

/// Re-seals the JSON documents in `column` of `table` (applications and
/// drafts: `data`; assisted entries: `input` and `signature`); returns how
/// many rows changed. Table and column names are constants of this file.
async fn reseal_table(
    db: &kernel::Db,
    vault: &crypto::Vault,
    table: &str,
    column: &str,
) -> anyhow::Result<u64> {
    let mut changed = 0;
    let rows = sqlx::query(&format!(
        "SELECT tenant, id, {column} FROM {table} WHERE {column} IS NOT NULL"
    ))
    .fetch_all(db.read())
    .await?;
    for r in rows {
        let (tenant, id, data): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let mut v: serde_json::Value = serde_json::from_str(&data)?;
        if crypto::reseal(vault, &tenant, &mut v)? {
            sqlx::query(&format!(
                "UPDATE {table} SET {column} = $1 WHERE tenant = $2 AND id = $3 AND {column} = $4"
            ))
            .bind(v.to_string())
            .bind(&tenant)
            .bind(&id)
            .bind(&data)
            .execute(db.write())
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

pub async fn run(app: &App) -> anyhow::Result<RekeyReport> {
    let db = &app.db;
    let vault = db.vault()?.clone();
    let mut report = RekeyReport {
        applications: reseal_table(db, &vault, "applications", "data").await?,
        drafts: reseal_table(db, &vault, "drafts", "data").await?,
        assisted_entries: reseal_table(db, &vault, "assisted_entries", "input").await?
            + reseal_table(db, &vault, "assisted_entries", "signature").await?,
        ..Default::default()
    };
    let rows =
        sqlx::query("SELECT tenant, id, totp_secret FROM staff WHERE totp_secret IS NOT NULL")
            .fetch_all(db.read())
            .await?;
    for r in rows {
        let (tenant, id, sealed): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        if !vault.needs_rekey(&sealed) {
            continue;
        }
        let plain = vault.open(&tenant, Purpose::TotpSecret, &sealed)?;
        sqlx::query(
            "UPDATE staff SET totp_secret = $1 WHERE tenant = $2 AND id = $3 AND totp_secret = $4",
        )
        .bind(vault.seal(&tenant, Purpose::TotpSecret, &plain))
        .bind(&tenant)
        .bind(&id)
        .bind(&sealed)
        .execute(db.write())
        .await?;
        report.staff += 1;
    }
    let rows = sqlx::query("SELECT tenant, id, content FROM attachments")
        .fetch_all(db.read())
        .await?;
    for r in rows {
        let (tenant, id, content): (String, String, Vec<u8>) = (r.get(0), r.get(1), r.get(2));
        if !vault.bytes_need_rekey(&content) {
            continue;
        }
        let plain = vault.open_bytes(&tenant, Purpose::Attachment, &content)?;
        sqlx::query("UPDATE attachments SET content = $1 WHERE tenant = $2 AND id = $3")
            .bind(vault.seal_bytes(&tenant, Purpose::Attachment, &plain))
            .bind(&tenant)
            .bind(&id)
            .execute(db.write())
            .await?;
        report.attachments += 1;
    }
    // Resident sessions, sign-ins in flight and second-factor enrolments in
    // progress live for hours at most: ended rather than re-sealed.
    sqlx::query("DELETE FROM staff_sessions WHERE stage <> 'full'")
        .execute(db.write())
        .await?;
    sqlx::query("DELETE FROM resident_sessions")
        .execute(db.write())
        .await?;
    sqlx::query("DELETE FROM oidc_requests")
        .execute(db.write())
        .await?;
    for t in kernel::tenant::list(db).await? {
        kernel::audit::record(
            db,
            &t.code,
            kernel::audit::AuditEntry::new("system:cli", "encryption.rekey", "deployment")
                .detail(serde_json::json!({"key": vault.active_key_id()})),
        )
        .await?;
    }
    Ok(report)
}
