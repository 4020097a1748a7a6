//! Key rotation for payments: every charge's payer re-sealed with the
//! active key, one row at a time (an interrupted run starts again).

use kernel::crypto::{Purpose, Vault};
use kernel::Db;
use sqlx::Row;

/// Re-seals every payer; how many.
pub async fn rekey(db: &Db, vault: &Vault) -> anyhow::Result<u64> {
    let rows = sqlx::query("SELECT tenant, id, payer_sealed FROM payment_charges")
        .fetch_all(db.read())
        .await?;
    let mut n = 0;
    for r in &rows {
        let (tenant, id, sealed): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let plain = vault
            .open(&tenant, Purpose::Payer, &sealed)
            .map_err(|e| anyhow::anyhow!("payer of charge {tenant}/{id}: {e}"))?;
        sqlx::query("UPDATE payment_charges SET payer_sealed = $1 WHERE tenant = $2 AND id = $3")
            .bind(vault.seal(&tenant, Purpose::Payer, &plain))
            .bind(&tenant)
            .bind(&id)
            .execute(db.write())
            .await?;
        n += 1;
    }
    Ok(n)
}
