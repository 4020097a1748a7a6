//! The subscriber list as staff see it (personal data: the system
//! administrator only, every view audited; addresses masked unless one is
//! opened), its housekeeping (unsubscribed addresses deleted after
//! [`UNSUBSCRIBED_RETENTION_DAYS`], sign-ups never confirmed after
//! [`PENDING_KEEP_DAYS`]) and key rotation.

use jp::Email;
use kernel::audit::{self, AuditEntry};
use kernel::crypto::Vault;
use kernel::{AppResult, Db};
use sqlx::Row;

use super::subscribers::{self, SubState, Subscriber};

/// Days an unsubscribed address is kept (to answer "did I unsubscribe?"
/// and to keep the audit trail readable) before it is deleted.
pub const UNSUBSCRIBED_RETENTION_DAYS: i64 = 30;
/// Days a sign-up that was never confirmed is kept.
pub const PENDING_KEEP_DAYS: i64 = 7;
/// Lines the staff list shows at most.
pub const LIST_LIMIT: i64 = 500;

const DAY_MS: i64 = 86_400_000;

/// Active subscribers of one category.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CategoryCount {
    pub code: String,
    pub name: String,
    pub active: bool,
    pub subscribers: i64,
}

/// Subscribers in one state.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StateCount {
    pub state: SubState,
    pub subscribers: i64,
}

/// One line of the staff list: the address masked.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Listed {
    pub id: String,
    pub masked: String,
    pub lang: String,
    pub state: SubState,
    pub consent_at: Option<i64>,
    pub consent_source: String,
    pub categories: Vec<String>,
    /// The address bounced hard: nothing is sent to it.
    pub suppressed: bool,
}

/// `t•••@example.jp`: enough to tell lines apart, not to write to.
pub fn mask(address: &Email) -> String {
    let (local, domain) = address.as_str().split_once('@').unwrap_or(("", ""));
    let first: String = local.chars().take(1).collect();
    format!("{first}•••@{domain}")
}

/// Active subscribers per category (every category, in order).
pub async fn category_counts(
    db: &Db,
    tenant: &str,
    lang: kernel::i18n::Lang,
) -> AppResult<Vec<CategoryCount>> {
    let rows = sqlx::query(
        "SELECT s.category, COUNT(*) FROM mail_subscriptions s JOIN mail_subscribers b \
         ON b.tenant = s.tenant AND b.id = s.subscriber \
         WHERE s.tenant = $1 AND b.state = 'active' GROUP BY s.category",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    let counts: std::collections::HashMap<String, i64> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(super::categories::list(db, tenant)
        .await?
        .into_iter()
        .map(|c| CategoryCount {
            subscribers: counts.get(&c.code).copied().unwrap_or(0),
            name: c.name(lang).to_string(),
            active: c.active,
            code: c.code,
        })
        .collect())
}

/// Subscribers per state.
pub async fn state_counts(db: &Db, tenant: &str) -> AppResult<Vec<StateCount>> {
    let rows = sqlx::query(
        "SELECT state, COUNT(*) FROM mail_subscribers WHERE tenant = $1 GROUP BY state",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    let counts: std::collections::HashMap<String, i64> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(SubState::ALL
        .into_iter()
        .map(|s| StateCount {
            state: s,
            subscribers: counts.get(s.as_str()).copied().unwrap_or(0),
        })
        .collect())
}

/// The list, newest first, masked; the view is audited.
pub async fn list(db: &Db, vault: &Vault, tenant: &str, actor: &str) -> AppResult<Vec<Listed>> {
    let rows = sqlx::query(&format!(
        "SELECT b.id, b.address, b.lang, b.state, b.consent_at, b.consent_source, \
         (SELECT COUNT(*) FROM mail_suppressions x WHERE x.tenant = b.tenant AND x.address_hash = b.address_hash) \
         FROM mail_subscribers b WHERE b.tenant = $1 ORDER BY b.created_at DESC, b.id LIMIT {LIST_LIMIT}"
    ))
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    let subs: Vec<(String, String)> = sqlx::query(
        "SELECT subscriber, category FROM mail_subscriptions WHERE tenant = $1 ORDER BY category",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.get(0);
        let masked = crate::address::open(vault, tenant, &r.get::<String, _>(1))
            .map(|a| mask(&a))
            .map_err(kernel::AppError::Internal)?;
        out.push(Listed {
            categories: subs
                .iter()
                .filter(|(s, _)| *s == id)
                .map(|(_, c)| c.clone())
                .collect(),
            id,
            masked,
            lang: r.get(2),
            state: SubState::parse(&r.get::<String, _>(3)).unwrap_or(SubState::Pending),
            consent_at: r.get(4),
            consent_source: r.get(5),
            suppressed: r.get::<i64, _>(6) > 0,
        });
    }
    audit::record(
        db,
        tenant,
        AuditEntry::new(actor, "mail.subscribers.list", "mail_subscribers")
            .detail(serde_json::json!({"lines": out.len()})),
    )
    .await?;
    Ok(out)
}

/// One subscriber with the address opened; the view is audited.
pub async fn open(
    db: &Db,
    vault: &Vault,
    tenant: &str,
    actor: &str,
    id: &str,
) -> AppResult<Option<(Subscriber, Email, bool)>> {
    let Some(s) = subscribers::get(db, tenant, id).await? else {
        return Ok(None);
    };
    let address = crate::address::open(vault, tenant, &s.sealed_address)
        .map_err(kernel::AppError::Internal)?;
    let suppressed = subscribers::suppressed(db, tenant, &s.address_hash).await?;
    audit::record(
        db,
        tenant,
        AuditEntry::new(
            actor,
            "mail.subscriber.open",
            format!("mail_subscriber:{id}"),
        ),
    )
    .await?;
    Ok(Some((s, address, suppressed)))
}

/// Deletes, in every municipality, unsubscribed addresses past the
/// retention period and sign-ups never confirmed, with what they chose.
/// An address with a confirmation link still usable is kept, whatever
/// its age: it signed up again and may confirm today. How many.
pub async fn purge(db: &Db, now: i64) -> AppResult<u64> {
    let unsubscribed_before = now - UNSUBSCRIBED_RETENTION_DAYS * DAY_MS;
    let pending_before = now - PENDING_KEEP_DAYS * DAY_MS;
    let mut tx = db.begin().await?;
    let doomed = "((b.state = 'unsubscribed' AND b.unsubscribed_at < $1) OR (b.state = 'pending' AND b.created_at < $2)) \
                  AND (b.confirm_expires_at IS NULL OR b.confirm_expires_at < $3)";
    for table in ["mail_subscriptions", "mail_pending_choices"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM mail_subscribers b \
             WHERE b.tenant = {table}.tenant AND b.id = {table}.subscriber AND {doomed})"
        ))
        .bind(unsubscribed_before)
        .bind(pending_before)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let r = sqlx::query(&format!("DELETE FROM mail_subscribers AS b WHERE {doomed}"))
        .bind(unsubscribed_before)
        .bind(pending_before)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(kernel::db::rows_affected(&r))
}

/// What key rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rekeyed {
    pub subscribers: u64,
    pub suppressions: u64,
}

/// Re-seals every subscriber's address with the active key and hashes it
/// again with the active key's hash key; a suppression whose address is
/// known (a subscriber's, or a recipient's in the outbox) is hashed again
/// too. A suppression of an address known nowhere cannot be, and stops
/// matching after the old key is removed. One row at a time: an
/// interrupted run can be started again.
pub async fn rekey(db: &Db, vault: &Vault) -> anyhow::Result<Rekeyed> {
    let mut out = Rekeyed::default();
    let keys = vault.derive_each(crate::address::HASH_LABEL);
    let rows = sqlx::query("SELECT tenant, id, address FROM mail_subscribers")
        .fetch_all(db.read())
        .await?;
    let mut known: Vec<(String, Email)> = Vec::new();
    for r in &rows {
        let (tenant, id, sealed): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let address = crate::address::open(vault, &tenant, &sealed)?;
        let resealed = crate::address::seal(vault, &tenant, &address);
        sqlx::query(
            "UPDATE mail_subscribers SET address = $1, address_hash = $2 WHERE tenant = $3 AND id = $4",
        )
        .bind(resealed)
        .bind(crate::address::hash(vault, &tenant, &address))
        .bind(&tenant)
        .bind(&id)
        .execute(db.write())
        .await?;
        out.subscribers += 1;
        known.push((tenant, address));
    }
    for r in sqlx::query("SELECT DISTINCT tenant, recipient FROM outbox")
        .fetch_all(db.read())
        .await?
    {
        if let Ok(a) = Email::parse(&r.get::<String, _>(1)) {
            known.push((r.get(0), a));
        }
    }
    for (tenant, address) in &known {
        let new = crate::address::hash(vault, tenant, address);
        for key in keys.iter().skip(1) {
            let old = crate::address::hash_with(key, tenant, address);
            let moved = sqlx::query(
                "UPDATE mail_suppressions SET address_hash = $1 WHERE tenant = $2 AND address_hash = $3 \
                 AND NOT EXISTS (SELECT 1 FROM mail_suppressions s WHERE s.tenant = $2 AND s.address_hash = $1)",
            )
            .bind(&new)
            .bind(tenant)
            .bind(&old)
            .execute(db.write())
            .await?;
            out.suppressions += kernel::db::rows_affected(&moved);
        }
    }
    Ok(out)
}
