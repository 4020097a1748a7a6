//! The audit log: append-only and hash-chained per tenant. Each entry's
//! hash covers the previous entry's hash and the entry's own fields, so an
//! edited or deleted row breaks the chain at that row. Entries are written
//! in the same transaction as the change they record.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{backend_of, values_placeholders, Db, Tx};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did it: `staff:<id>`, `resident`, `system`.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    pub actor: String,
    pub action: &'static str,
    pub target: String,
    pub detail: serde_json::Value,
}

impl AuditEntry {
    pub fn new(actor: impl Into<String>, action: &'static str, target: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            action,
            target: target.into(),
            detail: serde_json::Value::Null,
        }
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev: &str,
    tenant: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        tenant,
        &seq.to_string(),
        &at.to_string(),
        actor,
        action,
        target,
        detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends entries for one tenant inside `tx`. The chain head row is locked
/// for the rest of the transaction (row lock on PostgreSQL; SQLite has one
/// writer), so concurrent writers of one tenant are serialised.
pub async fn append(
    tx: &mut Tx,
    tenant: &str,
    at: i64,
    entries: &[AuditEntry],
) -> Result<(), sqlx::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    sqlx::query("INSERT INTO audit_heads (tenant, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (tenant) DO NOTHING")
        .bind(tenant)
        .bind(GENESIS)
        .execute(&mut **tx)
        .await?;
    let n = entries.len() as i64;
    let row =
        sqlx::query("UPDATE audit_heads SET seq = seq + $1 WHERE tenant = $2 RETURNING seq, hash")
            .bind(n)
            .bind(tenant)
            .fetch_one(&mut **tx)
            .await?;
    let last_seq: i64 = row.get(0);
    let mut prev: String = row.get(1);
    let first_seq = last_seq - n + 1;
    let backend = backend_of(tx);
    for (chunk_index, chunk) in entries.chunks(500).enumerate() {
        let sql = format!(
            "INSERT INTO audit_log (tenant, seq, at, actor, action, target, detail, prev_hash, hash) VALUES {}",
            values_placeholders(backend, chunk.len(), 9)
        );
        let mut q = sqlx::query(&sql);
        for (i, e) in chunk.iter().enumerate() {
            let seq = first_seq + (chunk_index * 500 + i) as i64;
            let detail = e.detail.to_string();
            let hash = entry_hash(
                &prev, tenant, seq, at, &e.actor, e.action, &e.target, &detail,
            );
            q = q
                .bind(tenant)
                .bind(seq)
                .bind(at)
                .bind(e.actor.clone())
                .bind(e.action)
                .bind(e.target.clone())
                .bind(detail)
                .bind(prev.clone())
                .bind(hash.clone());
            prev = hash;
        }
        q.execute(&mut **tx).await?;
    }
    sqlx::query("UPDATE audit_heads SET hash = $1 WHERE tenant = $2")
        .bind(prev)
        .bind(tenant)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Convenience: one entry in its own transaction (for reads of personal
/// data that change nothing else).
pub async fn record(db: &Db, tenant: &str, entry: AuditEntry) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    append(&mut tx, tenant, crate::clock::now_ms(), &[entry]).await?;
    tx.commit().await
}

#[derive(Clone, Debug, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Entries about one target, oldest first.
pub async fn for_target(db: &Db, tenant: &str, target: &str) -> Result<Vec<AuditRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, target, detail FROM audit_log
         WHERE tenant = $1 AND target = $2 ORDER BY seq",
    )
    .bind(tenant)
    .bind(target)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| AuditRow {
            seq: r.get(0),
            at: r.get(1),
            actor: r.get(2),
            action: r.get(3),
            target: r.get(4),
            detail: r.get(5),
        })
        .collect())
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verify {
    Intact { entries: i64 },
    Broken { seq: i64, reason: &'static str },
}

/// Walks a tenant's chain and names the first entry that does not fit.
pub async fn verify(db: &Db, tenant: &str) -> Result<Verify, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log
         WHERE tenant = $1 ORDER BY seq",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1i64;
    for r in &rows {
        let seq: i64 = r.get(0);
        if seq != expected_seq {
            return Ok(Verify::Broken {
                seq: expected_seq,
                reason: "missing",
            });
        }
        let stored_prev: String = r.get(6);
        if stored_prev != prev {
            return Ok(Verify::Broken {
                seq,
                reason: "prev_hash",
            });
        }
        let h = entry_hash(
            &prev,
            tenant,
            seq,
            r.get(1),
            &r.get::<String, _>(2),
            &r.get::<String, _>(3),
            &r.get::<String, _>(4),
            &r.get::<String, _>(5),
        );
        let stored: String = r.get(7);
        if h != stored {
            return Ok(Verify::Broken {
                seq,
                reason: "hash",
            });
        }
        prev = stored;
        expected_seq += 1;
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE tenant = $1")
        .bind(tenant)
        .fetch_optional(db.read())
        .await?;
    if let Some(h) = head {
        if h.get::<i64, _>(0) != expected_seq - 1 || h.get::<String, _>(1) != prev {
            return Ok(Verify::Broken {
                seq: expected_seq,
                reason: "truncated",
            });
        }
    }
    Ok(Verify::Intact {
        entries: expected_seq - 1,
    })
}

/// Writes a tenant's entries of `[from_ms, to_ms)` as CSV for auditors
/// (監査): one row per entry with its chain hashes, times in JST.
pub async fn export_csv(
    db: &Db,
    tenant: &str,
    from_ms: i64,
    to_ms: i64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<usize> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log
         WHERE tenant = $1 AND at >= $2 AND at < $3 ORDER BY seq",
    )
    .bind(tenant)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(db.read())
    .await?;
    // A BOM so that Excel reads the UTF-8 file correctly.
    out.write_all("\u{FEFF}seq,at,actor,action,target,detail,prev_hash,hash\n".as_bytes())?;
    fn cell(s: &str) -> String {
        let guarded = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_string()
        };
        if guarded.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", guarded.replace('"', "\"\""))
        } else {
            guarded
        }
    }
    for r in &rows {
        let line = [
            r.get::<i64, _>(0).to_string(),
            crate::clock::rfc3339_jst(r.get(1)),
            cell(&r.get::<String, _>(2)),
            cell(&r.get::<String, _>(3)),
            cell(&r.get::<String, _>(4)),
            cell(&r.get::<String, _>(5)),
            r.get::<String, _>(6),
            r.get::<String, _>(7),
        ]
        .join(",");
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(rows.len())
}

/// Filters of the audit log page.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
}

pub const AUDIT_PAGE_SIZE: i64 = 100;

/// A page of a tenant's entries, newest first, and the number matching.
pub async fn search(
    db: &Db,
    tenant: &str,
    f: &AuditFilter,
) -> Result<(Vec<AuditRow>, i64), sqlx::Error> {
    let mut sql = String::from(" FROM audit_log WHERE tenant = $1");
    let mut args: Vec<String> = vec![tenant.to_string()];
    for (col, v) in [
        ("actor", &f.actor),
        ("action", &f.action),
        ("target", &f.target),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            args.push(v.to_string());
            sql.push_str(&format!(" AND {col} = ${}", args.len()));
        }
    }
    let count_sql = format!("SELECT COUNT(*){sql}");
    let mut q = sqlx::query(&count_sql);
    for a in &args {
        q = q.bind(a.as_str());
    }
    let total: i64 = q.fetch_one(db.read()).await?.get(0);
    let page = i64::from(f.page.unwrap_or(1).max(1));
    let page_sql = format!(
        "SELECT seq, at, actor, action, target, detail{sql} ORDER BY seq DESC LIMIT {AUDIT_PAGE_SIZE} OFFSET {}",
        (page - 1) * AUDIT_PAGE_SIZE
    );
    let mut q = sqlx::query_as::<_, (i64, i64, String, String, String, String)>(&page_sql);
    for a in &args {
        q = q.bind(a.as_str());
    }
    let rows = q
        .fetch_all(db.read())
        .await?
        .into_iter()
        .map(|(seq, at, actor, action, target, detail)| AuditRow {
            seq,
            at,
            actor,
            action,
            target,
            detail,
        })
        .collect();
    Ok((rows, total))
}
