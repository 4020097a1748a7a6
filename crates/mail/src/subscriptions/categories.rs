//! What residents may subscribe to (`mail_categories`), per
//! municipality: staff add, rename (in every language), reorder and
//! deactivate them. A category that anyone subscribes to, or that a
//! newsletter was written for, is never deleted, only deactivated.

use kernel::audit::{self, AuditEntry};
use kernel::i18n::{Lang, Text};
use kernel::{AppResult, Db};
use sqlx::Row;

/// One category.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Category {
    pub code: String,
    /// The name in every language it has (`ja` always).
    pub names: Text,
    pub position: i64,
    pub active: bool,
}

impl Category {
    pub fn name(&self, lang: Lang) -> &str {
        self.names.get(lang)
    }
}

/// The categories a demo municipality starts with: code, Japanese,
/// easy Japanese, English.
pub const DEFAULTS: [(&str, &str, &str, &str); 6] = [
    (
        "bosai",
        "防災・防犯",
        "さいがい と はんざい の じょうほう",
        "Disaster and crime prevention",
    ),
    ("kosodate", "子育て", "こそだて", "Child-rearing"),
    ("event", "イベント", "イベント", "Events"),
    (
        "shiseidayori",
        "市政だより",
        "しの おしらせ",
        "City newsletter",
    ),
    ("kenko", "健康", "けんこう", "Health"),
    ("senkyo", "選挙", "せんきょ", "Elections"),
];

/// A category code: 1–32 lower-case letters, digits, `-` and `_`.
pub fn is_code(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn from_row(r: &sqlx::any::AnyRow) -> Category {
    let others: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&r.get::<String, _>(2)).unwrap_or_default();
    let mut names = Text::ja_only(r.get::<String, _>(1));
    for (lang, name) in others.into_iter().filter(|(l, _)| l != "ja") {
        names.set(&lang, name);
    }
    Category {
        code: r.get(0),
        names,
        position: r.get(3),
        active: r.get::<i64, _>(4) != 0,
    }
}

/// Every category of `tenant`, in order.
pub async fn list(db: &Db, tenant: &str) -> AppResult<Vec<Category>> {
    let rows = sqlx::query(
        "SELECT code, name, names, position, active FROM mail_categories WHERE tenant = $1 ORDER BY position, code",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The categories residents may choose now.
pub async fn active(db: &Db, tenant: &str) -> AppResult<Vec<Category>> {
    Ok(list(db, tenant)
        .await?
        .into_iter()
        .filter(|c| c.active)
        .collect())
}

pub async fn get(db: &Db, tenant: &str, code: &str) -> AppResult<Option<Category>> {
    let row = sqlx::query(
        "SELECT code, name, names, position, active FROM mail_categories WHERE tenant = $1 AND code = $2",
    )
    .bind(tenant)
    .bind(code)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// The demo's categories, where the municipality has none yet. How many
/// were added.
pub async fn seed_defaults(db: &Db, tenant: &str, actor: &str) -> AppResult<u64> {
    if !list(db, tenant).await?.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    for (code, ja, easy, en) in DEFAULTS {
        let mut names = Text::new(ja, en);
        names.set(Lang::JaEasy.code(), easy.to_string());
        add(db, tenant, actor, code, &names).await?;
        n += 1;
    }
    Ok(n)
}

/// A new category, last in the order. `false` if the code is taken.
pub async fn add(db: &Db, tenant: &str, actor: &str, code: &str, names: &Text) -> AppResult<bool> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(position) FROM mail_categories WHERE tenant = $1")
            .bind(tenant)
            .fetch_one(&mut *tx)
            .await?;
    let r = sqlx::query(
        "INSERT INTO mail_categories (tenant, code, name, names, position, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6) ON CONFLICT (tenant, code) DO NOTHING",
    )
    .bind(tenant)
    .bind(code)
    .bind(names.ja())
    .bind(serde_json::to_string(names).unwrap_or_default())
    .bind(last.unwrap_or(0) + 1)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if kernel::db::rows_affected(&r) == 0 {
        return Ok(false);
    }
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(actor, "mail.category.add", code)
            .detail(serde_json::json!({"names": names}))],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// New names. `false` if there is no such category.
pub async fn rename(
    db: &Db,
    tenant: &str,
    actor: &str,
    code: &str,
    names: &Text,
) -> AppResult<bool> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE mail_categories SET name = $1, names = $2, updated_at = $3 WHERE tenant = $4 AND code = $5",
    )
    .bind(names.ja())
    .bind(serde_json::to_string(names).unwrap_or_default())
    .bind(now)
    .bind(tenant)
    .bind(code)
    .execute(&mut *tx)
    .await?;
    if kernel::db::rows_affected(&r) == 0 {
        return Ok(false);
    }
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(actor, "mail.category.rename", code)
            .detail(serde_json::json!({"names": names}))],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Offered to residents or not. `false` if there is no such category.
pub async fn set_active(
    db: &Db,
    tenant: &str,
    actor: &str,
    code: &str,
    on: bool,
) -> AppResult<bool> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE mail_categories SET active = $1, updated_at = $2 WHERE tenant = $3 AND code = $4",
    )
    .bind(i64::from(on))
    .bind(now)
    .bind(tenant)
    .bind(code)
    .execute(&mut *tx)
    .await?;
    if kernel::db::rows_affected(&r) == 0 {
        return Ok(false);
    }
    let action = if on {
        "mail.category.activate"
    } else {
        "mail.category.deactivate"
    };
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(actor, action, code)],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Swaps the category with its neighbour before (`up`) or after it.
/// `false` if there is no such category; at either end nothing moves.
pub async fn shift(db: &Db, tenant: &str, actor: &str, code: &str, up: bool) -> AppResult<bool> {
    let all = list(db, tenant).await?;
    let Some(i) = all.iter().position(|c| c.code == code) else {
        return Ok(false);
    };
    let j = if up { i.checked_sub(1) } else { Some(i + 1) };
    let Some(other) = j.and_then(|j| all.get(j)) else {
        return Ok(true);
    };
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    // Positions may repeat (older rows); make them the list's order first.
    for (k, c) in all.iter().enumerate() {
        let p = if c.code == code {
            j.unwrap_or(k)
        } else if c.code == other.code {
            i
        } else {
            k
        };
        sqlx::query("UPDATE mail_categories SET position = $1 WHERE tenant = $2 AND code = $3")
            .bind(p as i64 + 1)
            .bind(tenant)
            .bind(&c.code)
            .execute(&mut *tx)
            .await?;
    }
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new(actor, "mail.category.move", code)
                .detail(serde_json::json!({"up": up})),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Why a category cannot be deleted.
#[derive(Debug, PartialEq, Eq)]
pub enum Delete {
    Deleted,
    NotFound,
    /// Someone subscribes to it, or a newsletter was written for it.
    InUse,
}

/// Deletes a category nobody subscribes to (by mail or LINE, or in a
/// sign-up waiting for its confirmation) and no newsletter names.
pub async fn delete(db: &Db, tenant: &str, actor: &str, code: &str) -> AppResult<Delete> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let used: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM mail_subscriptions WHERE tenant = $1 AND category = $2) \
              + (SELECT COUNT(*) FROM mail_pending_choices WHERE tenant = $1 AND category = $2) \
              + (SELECT COUNT(*) FROM line_subscriptions WHERE tenant = $1 AND category = $2) \
              + (SELECT COUNT(*) FROM mail_messages WHERE tenant = $1 AND category = $2)",
    )
    .bind(tenant)
    .bind(code)
    .fetch_one(&mut *tx)
    .await?;
    if used > 0 {
        return Ok(Delete::InUse);
    }
    let r = sqlx::query("DELETE FROM mail_categories WHERE tenant = $1 AND code = $2")
        .bind(tenant)
        .bind(code)
        .execute(&mut *tx)
        .await?;
    if kernel::db::rows_affected(&r) == 0 {
        return Ok(Delete::NotFound);
    }
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(actor, "mail.category.delete", code)],
    )
    .await?;
    tx.commit().await?;
    Ok(Delete::Deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert!(is_code("bosai"));
        assert!(is_code("event-2026_a"));
        assert!(!is_code(""));
        assert!(!is_code("Bosai"));
        assert!(!is_code("防災"));
        assert!(!is_code(&"a".repeat(33)));
        assert!(DEFAULTS.iter().all(|d| is_code(d.0)));
    }
}
