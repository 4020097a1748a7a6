//! Key rotation for what cases keep sealed: answers of applications and
//! drafts (マイナンバー) and the content of attachments.

use kernel::crypto::Purpose;
use kernel::{AppResult, Db};
use sqlx::Row;

/// How many values of each kind were re-sealed.
#[derive(Debug, Default)]
pub struct Resealed {
    pub applications: u64,
    pub drafts: u64,
    pub attachments: u64,
}

/// Re-seals everything sealed by an older key with the active one. Each
/// row is updated on its own, so an interrupted run can be started again.
pub async fn rekey(db: &Db) -> anyhow::Result<Resealed> {
    Ok(Resealed {
        applications: db.reseal_json_column("applications", "data").await?,
        drafts: db.reseal_json_column("drafts", "data").await?,
        attachments: reseal_attachments(db).await?,
    })
}

async fn reseal_attachments(db: &Db) -> AppResult<u64> {
    let vault = db.vault()?;
    let rows = sqlx::query("SELECT tenant, id, content FROM attachments")
        .fetch_all(db.read())
        .await?;
    let mut changed = 0;
    for r in rows {
        let (tenant, id, content): (String, String, Vec<u8>) = (r.get(0), r.get(1), r.get(2));
        if !vault.bytes_need_rekey(&content) {
            continue;
        }
        let plain = vault
            .open_bytes(&tenant, Purpose::Attachment, &content)
            .map_err(anyhow::Error::from)?;
        sqlx::query("UPDATE attachments SET content = $1 WHERE tenant = $2 AND id = $3")
            .bind(vault.seal_bytes(&tenant, Purpose::Attachment, &plain))
            .bind(&tenant)
            .bind(&id)
            .execute(db.write())
            .await?;
        changed += 1;
    }
    Ok(changed)
}
