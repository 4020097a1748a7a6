//! The procedure catalogue store. Every save writes a new version and keeps
//! the old ones, so an application can always be shown with the form it was
//! submitted with and a staff edit can be undone.

use kernel::audit::{self, AuditEntry};
use kernel::db::{Db, Tx};
use kernel::{AppError, AppResult};
use sqlx::Row;

use crate::model::{Procedure, StoredProcedure};

fn parse_body(body: &str) -> AppResult<Procedure> {
    serde_json::from_str(body)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored procedure: {e}")))
}

pub async fn list(db: &Db, tenant: &str) -> AppResult<Vec<StoredProcedure>> {
    let rows = sqlx::query(
        "SELECT body, version, updated_at FROM procedures WHERE tenant = $1 ORDER BY department, name_ja",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    let mut items = rows
        .iter()
        .map(|r| {
            Ok(StoredProcedure {
                procedure: parse_body(&r.get::<String, _>(0))?,
                version: r.get(1),
                updated_at: r.get(2),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    // The same order on every database, whatever its collation.
    items.sort_by(|a, b| {
        (
            a.procedure.department.as_str(),
            a.procedure.name.ja(),
            a.procedure.id.as_str(),
        )
            .cmp(&(
                b.procedure.department.as_str(),
                b.procedure.name.ja(),
                b.procedure.id.as_str(),
            ))
    });
    Ok(items)
}

pub async fn get(db: &Db, tenant: &str, id: &str) -> AppResult<StoredProcedure> {
    let r = sqlx::query(
        "SELECT body, version, updated_at FROM procedures WHERE tenant = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::NotFound("procedure"))?;
    Ok(StoredProcedure {
        procedure: parse_body(&r.get::<String, _>(0))?,
        version: r.get(1),
        updated_at: r.get(2),
    })
}

/// The procedure as it was at `version` (for showing old applications).
pub async fn get_version(db: &Db, tenant: &str, id: &str, version: i64) -> AppResult<Procedure> {
    let r = sqlx::query(
        "SELECT body FROM procedure_versions WHERE tenant = $1 AND id = $2 AND version = $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(version)
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::NotFound("procedure"))?;
    parse_body(&r.get::<String, _>(0))
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct VersionInfo {
    pub version: i64,
    pub saved_at: i64,
    pub saved_by: String,
}

pub async fn history(db: &Db, tenant: &str, id: &str) -> AppResult<Vec<VersionInfo>> {
    let rows = sqlx::query(
        "SELECT version, saved_at, saved_by FROM procedure_versions WHERE tenant = $1 AND id = $2 ORDER BY version DESC",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| VersionInfo {
            version: r.get(0),
            saved_at: r.get(1),
            saved_by: r.get(2),
        })
        .collect())
}

/// What a save did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaveOutcome {
    Created,
    Updated,
    Unchanged,
}

/// Saves one procedure inside `tx`. `expected_version` is the version the
/// editor started from (`None` to create, or to upsert on import); a stale
/// version is a conflict, never a silent overwrite.
pub async fn save_in(
    tx: &mut Tx,
    tenant: &str,
    p: &Procedure,
    expected_version: Option<i64>,
    upsert: bool,
    actor: &str,
    now: i64,
) -> AppResult<(SaveOutcome, i64)> {
    let s = Saving {
        tenant,
        p,
        body: serde_json::to_string(p).map_err(anyhow::Error::from)?,
        actor,
        now,
    };
    let current = sqlx::query("SELECT version, body FROM procedures WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(&p.id)
        .fetch_optional(&mut **tx)
        .await?;
    let (outcome, version) = match current {
        None => (SaveOutcome::Created, s.insert_in(tx).await?),
        Some(row) => {
            let version: i64 = row.get(0);
            let old: String = row.get(1);
            if expected_version.is_none() && !upsert {
                return Err(AppError::Conflict("procedure_exists"));
            }
            if expected_version.is_some_and(|e| e != version) {
                return Err(AppError::Conflict("version"));
            }
            if old == s.body {
                return Ok((SaveOutcome::Unchanged, version));
            }
            (SaveOutcome::Updated, s.update_in(tx, version).await?)
        }
    };
    s.keep_version_in(tx, version).await?;
    Ok((outcome, version))
}

/// One procedure being saved: its JSON body, by whom and when.
struct Saving<'a> {
    tenant: &'a str,
    p: &'a Procedure,
    body: String,
    actor: &'a str,
    now: i64,
}

impl Saving<'_> {
    /// A new procedure, version 1.
    async fn insert_in(&self, tx: &mut Tx) -> AppResult<i64> {
        let p = self.p;
        sqlx::query(
            "INSERT INTO procedures (tenant, id, department, name_ja, channels, identity_level, fee_yen, body, version, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)",
        )
        .bind(self.tenant)
        .bind(&p.id)
        .bind(&p.department)
        .bind(p.name.ja())
        .bind(p.channels.as_str())
        .bind(p.identity_level.as_str())
        .bind(p.fee_yen as i64)
        .bind(&self.body)
        .bind(self.now)
        .bind(self.actor)
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            if kernel::db::is_unique_violation(&e) {
                AppError::Conflict("procedure_exists")
            } else {
                e.into()
            }
        })?;
        Ok(1)
    }

    /// The next version of an existing procedure, only if still at `version`.
    async fn update_in(&self, tx: &mut Tx, version: i64) -> AppResult<i64> {
        let p = self.p;
        let next = version + 1;
        let r = sqlx::query(
            "UPDATE procedures SET department = $1, name_ja = $2, channels = $3, identity_level = $4, fee_yen = $5,
               body = $6, version = $7, updated_at = $8, updated_by = $9
             WHERE tenant = $10 AND id = $11 AND version = $12",
        )
        .bind(&p.department)
        .bind(p.name.ja())
        .bind(p.channels.as_str())
        .bind(p.identity_level.as_str())
        .bind(p.fee_yen as i64)
        .bind(&self.body)
        .bind(next)
        .bind(self.now)
        .bind(self.actor)
        .bind(self.tenant)
        .bind(&p.id)
        .bind(version)
        .execute(&mut **tx)
        .await?;
        if r.rows_affected() != 1 {
            return Err(AppError::Conflict("version"));
        }
        Ok(next)
    }

    /// Every saved version is kept, to be shown and restored.
    async fn keep_version_in(&self, tx: &mut Tx, version: i64) -> AppResult<()> {
        sqlx::query(
            "INSERT INTO procedure_versions (tenant, id, version, body, saved_at, saved_by) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(self.tenant)
        .bind(&self.p.id)
        .bind(version)
        .bind(&self.body)
        .bind(self.now)
        .bind(self.actor)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// Validates and saves one procedure in its own transaction, audited.
pub async fn save(
    db: &Db,
    tenant: &str,
    p: &Procedure,
    expected_version: Option<i64>,
    actor: &str,
) -> AppResult<(SaveOutcome, i64)> {
    let depts = kernel::tenant::department_codes(db, tenant).await?;
    if let Err(errs) = p.check(&depts) {
        return Err(AppError::Validation(
            errs.into_iter()
                .map(|(field, message)| kernel::FieldError { field, message })
                .collect(),
        ));
    }
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let (outcome, version) =
        save_in(&mut tx, tenant, p, expected_version, false, actor, now).await?;
    if outcome != SaveOutcome::Unchanged {
        audit::append(
            &mut tx,
            tenant,
            now,
            &[
                AuditEntry::new(actor, "procedure.save", format!("procedure:{}", p.id))
                    .detail(serde_json::json!({"version": version, "outcome": outcome})),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok((outcome, version))
}

/// Restores an earlier version as a new version (undo of a staff edit).
pub async fn restore(
    db: &Db,
    tenant: &str,
    id: &str,
    version: i64,
    expected_current: i64,
    actor: &str,
) -> AppResult<i64> {
    let old = get_version(db, tenant, id, version).await?;
    let (_, v) = save(db, tenant, &old, Some(expected_current), actor).await?;
    Ok(v)
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// A sheet's procedures (read by [`crate::csv_io::from_csv`]) with the
/// translations in languages the sheet has no columns for (`carried` are
/// those it has, [`crate::csv_io::sheet_languages`]) kept from the tenant's catalogue
/// ([`crate::csv_io::keep_translations`]), ready for [`import`].
pub async fn with_kept_translations(
    db: &Db,
    tenant: &str,
    mut items: Vec<Procedure>,
    carried: &[kernel::i18n::Lang],
) -> AppResult<Vec<Procedure>> {
    let stored: Vec<Procedure> = list(db, tenant)
        .await?
        .into_iter()
        .map(|s| s.procedure)
        .collect();
    crate::csv_io::keep_translations(&mut items, &stored, carried);
    Ok(items)
}

/// Imports many procedures all-or-nothing: every one is checked first; any
/// error leaves the catalogue untouched and names the row and field.
pub async fn import(
    db: &Db,
    tenant: &str,
    items: &[Procedure],
    actor: &str,
    dry_run: bool,
) -> AppResult<ImportReport> {
    let depts = kernel::tenant::department_codes(db, tenant).await?;
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, p) in items.iter().enumerate() {
        let row = i + 1;
        if !seen.insert(p.id.clone()) {
            errors.push(kernel::FieldError {
                field: format!("row{row}.id"),
                message: format!("{row}件目: 手続ID「{}」が重複しています。", p.id),
            });
        }
        if let Err(errs) = p.check(&depts) {
            errors.extend(errs.into_iter().map(|(field, message)| kernel::FieldError {
                field: format!("row{row}.{field}"),
                message: format!("{row}件目（{}）: {message}", p.id),
            }));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let mut report = ImportReport::default();
    for p in items {
        match save_in(&mut tx, tenant, p, None, true, actor, now).await?.0 {
            SaveOutcome::Created => report.created += 1,
            SaveOutcome::Updated => report.updated += 1,
            SaveOutcome::Unchanged => report.unchanged += 1,
        }
    }
    if dry_run {
        tx.rollback().await?;
        return Ok(report);
    }
    if report.created + report.updated > 0 {
        audit::append(
            &mut tx,
            tenant,
            now,
            &[AuditEntry::new(actor, "procedure.import", "catalogue")
                .detail(serde_json::to_value(&report).map_err(anyhow::Error::from)?)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// How many procedures the catalogue has, and how many of them can be
/// done online (the DX plans' KPI「オンライン化された手続の割合」).
pub async fn online_counts(db: &Db, tenant: &str) -> AppResult<(i64, i64)> {
    let r = sqlx::query(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN channels IN ('online', 'both') THEN 1 ELSE 0 END), 0)
         FROM procedures WHERE tenant = $1",
    )
    .bind(tenant)
    .fetch_one(db.read())
    .await?;
    // SUM is an integer on SQLite and a numeric on PostgreSQL.
    let online = match r.try_get::<i64, _>(1) {
        Ok(n) => n,
        Err(_) => r
            .try_get::<f64, _>(1)
            .map(|f| f as i64)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("online procedures count: {e}")))?,
    };
    Ok((r.get(0), online))
}

/// A short-lived in-memory copy of procedures for the submission path, so a
/// burst of submissions does not re-read and re-parse the same procedure
/// thousands of times a second. Entries live for [`Cache::TTL_MS`]; a save
/// evicts them at once here and, through the deployment's events
/// ([`crate::events::CHANGED`]), on every other server (a profile loaded
/// again, `kernel::tenant::CHANGED`, evicts the office calendar). A
/// submission records the version it was validated against, so it stays
/// consistent either way.
type CacheMap = std::collections::HashMap<(String, String), (i64, std::sync::Arc<StoredProcedure>)>;

type CalendarMap = std::collections::HashMap<String, (i64, jp::OfficeCalendar)>;

#[derive(Default)]
pub struct Cache {
    entries: std::sync::RwLock<CacheMap>,
    /// Each tenant's office calendar, for the date rules of a submission.
    calendars: std::sync::RwLock<CalendarMap>,
    /// The search index to refresh when the catalogue changes.
    search: std::sync::OnceLock<search::Search>,
    /// The deployment's events, once connected ([`Cache::follow_events`]).
    bus: std::sync::OnceLock<kernel::events::Bus>,
}

impl Cache {
    pub const TTL_MS: i64 = 1000;

    pub async fn get(
        &self,
        db: &Db,
        tenant: &str,
        id: &str,
    ) -> AppResult<std::sync::Arc<StoredProcedure>> {
        let now = kernel::clock::now_ms();
        let key = (tenant.to_string(), id.to_string());
        if let Ok(map) = self.entries.read() {
            if let Some((at, p)) = map.get(&key) {
                if now - at < Self::TTL_MS {
                    return Ok(p.clone());
                }
            }
        }
        let p = std::sync::Arc::new(get(db, tenant, id).await?);
        if let Ok(mut map) = self.entries.write() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(key, (now, p.clone()));
        }
        Ok(p)
    }

    /// Today in Japan with the tenant's office calendar (read at most
    /// once a second per tenant: a submission does not load the profile).
    pub async fn today(&self, db: &Db, tenant: &str) -> AppResult<crate::rules::Today> {
        let now = kernel::clock::now_ms();
        if let Ok(map) = self.calendars.read() {
            if let Some((at, c)) = map.get(tenant) {
                if now - at < Self::TTL_MS {
                    return Ok(crate::rules::Today::now(c));
                }
            }
        }
        let c = kernel::tenant::calendar(db, tenant).await?;
        let today = crate::rules::Today::now(&c);
        if let Ok(mut map) = self.calendars.write() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(tenant.to_string(), (now, c));
        }
        Ok(today)
    }

    /// Connects the search, whose index follows every catalogue change.
    pub fn follow_with(&self, search: search::Search) {
        let _ = self.search.set(search);
    }

    /// Connects the deployment's events: changes here are announced, and
    /// changes on other servers evict what this one keeps.
    pub fn follow_events(self: &std::sync::Arc<Self>, bus: kernel::events::Bus) {
        let _ = self.bus.set(bus.clone());
        for topic in [crate::events::CHANGED, kernel::tenant::CHANGED] {
            let mut rx = bus.subscribe(topic);
            let cache = std::sync::Arc::downgrade(self);
            tokio::spawn(async move {
                use tokio::sync::broadcast::error::RecvError;
                loop {
                    let tenant = match rx.recv().await {
                        Ok(e) => Some(e.tenant.clone()),
                        // Missed some: evict everything.
                        Err(RecvError::Lagged(_)) => None,
                        Err(RecvError::Closed) => return,
                    };
                    let Some(cache) = cache.upgrade() else { return };
                    cache.evict(tenant.as_deref());
                }
            });
        }
    }

    /// Drops the tenant's procedures and calendar (every tenant's: None).
    fn evict(&self, tenant: Option<&str>) {
        if let Ok(mut map) = self.entries.write() {
            map.retain(|(t, _), _| tenant.is_some_and(|x| x != t));
        }
        if let Ok(mut map) = self.calendars.write() {
            map.retain(|t, _| tenant.is_some_and(|x| x != t));
        }
    }

    /// The search, once connected.
    pub fn search(&self) -> Option<&search::Search> {
        self.search.get()
    }

    /// After a catalogue change in `tenant`: drops the cached procedures,
    /// tells every other server to, and re-indexes the tenant for search
    /// (on this server; the index following changes everywhere is the
    /// search's own).
    pub async fn changed(&self, tenant: &str) {
        if let Ok(mut map) = self.entries.write() {
            map.retain(|(t, _), _| t != tenant);
        }
        if let Some(bus) = self.bus.get() {
            if let Err(e) = bus
                .publish_now(tenant, crate::events::CHANGED, serde_json::json!({}))
                .await
            {
                tracing::warn!(error = %e, tenant, "catalogue change not announced; other servers see it within their cache's second");
            }
        }
        if let Some(s) = self.search.get() {
            s.refresh_quietly(tenant).await;
        }
    }
}
