//! Where the navigator's edits are kept: one draft per life event (saved,
//! previewed, then published) and every published version (who, when, and
//! whether it restored an older one). The live bundle stays in the
//! tenant's profile, which the navigator and the one-stop desk read on
//! every request (there is no profile cache; the search index is refreshed
//! by the callers after a publish).

use kernel::audit::{self, AuditEntry};
use kernel::tenant::LifeEventBundle;
use kernel::{AppError, AppResult, Db};
use serde::Serialize;
use sqlx::Row;

fn parse(body: &str) -> AppResult<LifeEventBundle> {
    serde_json::from_str(body)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored bundle: {e}")))
}

/// The number of the live version: the last published, or 0 while the
/// bundle is still as loaded from tenant.json (or does not exist).
pub async fn live_version(db: &Db, tenant: &str, code: &str) -> AppResult<i64> {
    let r = sqlx::query("SELECT MAX(version) FROM navi_versions WHERE tenant = $1 AND code = $2")
        .bind(tenant)
        .bind(code)
        .fetch_one(db.read())
        .await?;
    Ok(r.try_get::<Option<i64>, _>(0).ok().flatten().unwrap_or(0))
}

#[derive(Clone, Debug, Serialize)]
pub struct VersionInfo {
    pub version: i64,
    /// `initial` (as loaded from tenant.json), `publish` or `restore`.
    pub origin: String,
    pub restored_from: Option<i64>,
    pub published_at: i64,
    pub published_by: String,
}

fn version_of(r: &sqlx::any::AnyRow) -> VersionInfo {
    VersionInfo {
        version: r.get(0),
        origin: r.get(1),
        restored_from: r.try_get::<Option<i64>, _>(2).ok().flatten(),
        published_at: r.get(3),
        published_by: r.get(4),
    }
}

/// Every published version, newest first.
pub async fn versions(db: &Db, tenant: &str, code: &str) -> AppResult<Vec<VersionInfo>> {
    Ok(sqlx::query(
        "SELECT version, origin, restored_from, published_at, published_by FROM navi_versions
         WHERE tenant = $1 AND code = $2 ORDER BY version DESC",
    )
    .bind(tenant)
    .bind(code)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(version_of)
    .collect())
}

/// The last change of each life event ever published: code → version.
pub async fn last_changes(db: &Db, tenant: &str) -> AppResult<Vec<(String, VersionInfo)>> {
    Ok(sqlx::query(
        "SELECT v.version, v.origin, v.restored_from, v.published_at, v.published_by, v.code
         FROM navi_versions v
         WHERE v.tenant = $1 AND v.version = (SELECT MAX(w.version) FROM navi_versions w WHERE w.tenant = v.tenant AND w.code = v.code)",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| (r.get::<String, _>(5), version_of(r)))
    .collect())
}

pub async fn version_body(
    db: &Db,
    tenant: &str,
    code: &str,
    version: i64,
) -> AppResult<LifeEventBundle> {
    let r = sqlx::query(
        "SELECT body FROM navi_versions WHERE tenant = $1 AND code = $2 AND version = $3",
    )
    .bind(tenant)
    .bind(code)
    .bind(version)
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::NotFound("navi_version"))?;
    parse(&r.get::<String, _>(0))
}

#[derive(Clone, Debug)]
pub struct StoredDraft {
    pub bundle: LifeEventBundle,
    pub base_version: i64,
    pub saved_at: i64,
    pub saved_by: String,
}

fn draft_of(r: &sqlx::any::AnyRow) -> AppResult<StoredDraft> {
    Ok(StoredDraft {
        bundle: parse(&r.get::<String, _>(0))?,
        base_version: r.get(1),
        saved_at: r.get(2),
        saved_by: r.get(3),
    })
}

pub async fn draft(db: &Db, tenant: &str, code: &str) -> AppResult<Option<StoredDraft>> {
    sqlx::query(
        "SELECT body, base_version, saved_at, saved_by FROM navi_drafts WHERE tenant = $1 AND code = $2",
    )
    .bind(tenant)
    .bind(code)
    .fetch_optional(db.read())
    .await?
    .as_ref()
    .map(draft_of)
    .transpose()
}

pub async fn drafts(db: &Db, tenant: &str) -> AppResult<Vec<StoredDraft>> {
    sqlx::query(
        "SELECT body, base_version, saved_at, saved_by FROM navi_drafts WHERE tenant = $1 ORDER BY code",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(draft_of)
    .collect()
}

/// Saves the (valid) draft of a life event, replacing the previous one.
/// Returns when it was saved (the preview publishes exactly that draft).
pub async fn save_draft(
    db: &Db,
    tenant: &str,
    bundle: &LifeEventBundle,
    base_version: i64,
    actor: &str,
) -> AppResult<i64> {
    let now = kernel::clock::now_ms();
    let body = serde_json::to_string(bundle).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO navi_drafts (tenant, code, base_version, body, saved_at, saved_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant, code) DO UPDATE SET base_version = excluded.base_version, body = excluded.body,
           saved_at = excluded.saved_at, saved_by = excluded.saved_by",
    )
    .bind(tenant)
    .bind(&bundle.code)
    .bind(base_version)
    .bind(&body)
    .bind(now)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            actor,
            "navi.draft_save",
            format!("life_event:{}", bundle.code),
        )
        .detail(serde_json::json!({"base_version": base_version}))],
    )
    .await?;
    tx.commit().await?;
    Ok(now)
}

pub async fn discard_draft(db: &Db, tenant: &str, code: &str, actor: &str) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query("DELETE FROM navi_drafts WHERE tenant = $1 AND code = $2")
        .bind(tenant)
        .bind(code)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() > 0 {
        audit::append(
            &mut tx,
            tenant,
            now,
            &[AuditEntry::new(
                actor,
                "navi.draft_discard",
                format!("life_event:{code}"),
            )],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// How a version came to be published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Publish,
    Restore(i64),
}

/// What a publish did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Publishes a (validated) bundle in one transaction: the live bundle is
/// replaced, the version kept with who and when, the draft (for a
/// publish) removed, and the change audited. `expected_version` is the
/// live version the editor started from; another publish since is a
/// conflict, never a silent overwrite. The first edit of a bundle loaded
/// from tenant.json keeps that original as version 1, so it can be
/// restored too.
pub async fn publish(
    db: &Db,
    tenant: &str,
    bundle: &LifeEventBundle,
    expected_version: i64,
    origin: Origin,
    actor: &str,
) -> AppResult<(Outcome, i64)> {
    let now = kernel::clock::now_ms();
    let code = bundle.code.as_str();
    let mut tx = db.begin().await?;
    // Lock the tenant's profile first: publishes of one tenant go one at a time.
    let live = kernel::tenant::lock_life_events_in(&mut tx, tenant)
        .await?
        .into_iter()
        .find(|b| b.code == code);
    let current = latest_version_in(&mut tx, tenant, code).await?;
    if current != expected_version {
        return Err(AppError::Conflict("navi_version"));
    }
    if live.as_ref() == Some(bundle) {
        if origin == Origin::Publish {
            delete_draft_in(&mut tx, tenant, code).await?;
            tx.commit().await?;
        }
        return Ok((Outcome::Unchanged, current));
    }
    let v = NewVersion {
        tenant,
        code,
        actor,
        at: now,
    };
    let mut next = current + 1;
    if let Some(original) = live.as_ref().filter(|_| current == 0) {
        // The first edit keeps what tenant.json had as version 1.
        v.insert_in(&mut tx, next, original, "initial", None)
            .await?;
        next += 1;
    }
    let (origin_name, from) = match origin {
        Origin::Publish => ("publish", None),
        Origin::Restore(v) => ("restore", Some(v)),
    };
    v.insert_in(&mut tx, next, bundle, origin_name, from)
        .await?;
    kernel::tenant::put_life_event_in(&mut tx, tenant, bundle).await?;
    if origin == Origin::Publish {
        delete_draft_in(&mut tx, tenant, code).await?;
    }
    let action = if from.is_some() {
        "navi.restore"
    } else {
        "navi.publish"
    };
    let entry = AuditEntry::new(actor, action, format!("life_event:{code}")).detail(
        serde_json::json!({"version": next, "restored_from": from, "created": live.is_none()}),
    );
    audit::append(&mut tx, tenant, now, &[entry]).await?;
    tx.commit().await?;
    // The languages whose texts changed are now staff translations,
    // unreviewed (翻訳の状況).
    let before = live
        .as_ref()
        .map(|b| translation::source::life_event_entry(tenant, b));
    translation::marks::staff_saved(
        db,
        tenant,
        before.as_ref(),
        &translation::source::life_event_entry(tenant, bundle),
    )
    .await?;
    let outcome = if live.is_none() {
        Outcome::Created
    } else {
        Outcome::Updated
    };
    Ok((outcome, next))
}

async fn latest_version_in(tx: &mut kernel::db::Tx, tenant: &str, code: &str) -> AppResult<i64> {
    Ok(
        sqlx::query("SELECT MAX(version) FROM navi_versions WHERE tenant = $1 AND code = $2")
            .bind(tenant)
            .bind(code)
            .fetch_one(&mut **tx)
            .await?
            .try_get::<Option<i64>, _>(0)
            .ok()
            .flatten()
            .unwrap_or(0),
    )
}

async fn delete_draft_in(tx: &mut kernel::db::Tx, tenant: &str, code: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM navi_drafts WHERE tenant = $1 AND code = $2")
        .bind(tenant)
        .bind(code)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A version about to be kept: whose and when.
struct NewVersion<'a> {
    tenant: &'a str,
    code: &'a str,
    actor: &'a str,
    at: i64,
}

impl NewVersion<'_> {
    async fn insert_in(
        &self,
        tx: &mut kernel::db::Tx,
        version: i64,
        bundle: &LifeEventBundle,
        origin: &str,
        restored_from: Option<i64>,
    ) -> AppResult<()> {
        sqlx::query(
            "INSERT INTO navi_versions (tenant, code, version, body, origin, restored_from, published_at, published_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(self.tenant)
        .bind(self.code)
        .bind(version)
        .bind(serde_json::to_string(bundle).map_err(anyhow::Error::from)?)
        .bind(origin)
        .bind(restored_from)
        .bind(self.at)
        .bind(self.actor)
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            // Another server published this version number first.
            if kernel::db::is_unique_violation(&e) {
                AppError::Conflict("navi_version")
            } else {
                e.into()
            }
        })?;
        Ok(())
    }
}
