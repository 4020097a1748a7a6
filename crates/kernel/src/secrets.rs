//! Deployment secrets kept in the database, created on first use, and the
//! HMAC that derives capability tokens from them.

use sha2::{Digest, Sha256};
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

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
