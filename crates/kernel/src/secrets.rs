//! Deployment secrets kept in the database, created on first use. The
//! HMAC that derives capability tokens from them is
//! [`crate::crypto::hmac_sha256`].

use sqlx::Row;

use crate::db::Db;

/// Returns the named 32-byte secret, creating it if it does not exist yet.
/// A stored value that is not 32 bytes of hex is an error: never an empty
/// or short key.
pub async fn load_or_create(db: &Db, name: &str) -> anyhow::Result<Vec<u8>> {
    sqlx::query("INSERT INTO deployment_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(crate::ids::token())
        .bind(crate::clock::now_ms())
        .execute(db.write())
        .await?;
    let row = sqlx::query("SELECT value FROM deployment_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(db.write())
        .await?;
    let value: String = row.get(0);
    match hex::decode(value.trim()) {
        Ok(key) if key.len() == 32 => Ok(key),
        _ => anyhow::bail!("deployment secret {name} is damaged (expected 32 bytes of hex); restore it from a backup"),
    }
}

/// Whether a named entry exists (a secret, or a marker such as the demo's).
pub async fn exists(db: &Db, name: &str) -> anyhow::Result<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM deployment_secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(db.read())
            .await?
            .is_some(),
    )
}

/// Records a marker (value `yes`) once; marking again changes nothing.
pub async fn mark(db: &Db, name: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO deployment_secrets (name, value, created_at) VALUES ($1, 'yes', $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(crate::clock::now_ms())
        .execute(db.write())
        .await?;
    Ok(())
}
