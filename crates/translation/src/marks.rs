//! The `translation_marks` table: for each translation (tenant, entry,
//! language) its origin and its review. Reviews and their undoing are
//! audited in the same transaction; a save in an editor makes the changed
//! languages staff-written and unreviewed (the text reviewed is gone).

use std::collections::{BTreeMap, HashMap};

use kernel::audit::{self, AuditEntry};
use kernel::auth::Staff;
use kernel::i18n::Lang;
use kernel::{AppError, AppResult, Db, FieldError};
use sqlx::Row;

use crate::model::{Entry, EntryKind, Mark, Origin, Review, LANGS};

/// A tenant's marks by (kind, id, language).
pub type Marks = HashMap<(EntryKind, String, Lang), Mark>;

fn mark_of(row: &sqlx::any::AnyRow) -> Option<Mark> {
    let origin = Origin::parse(&row.get::<String, _>("origin"))?;
    let by: Option<String> = row.get("reviewed_by");
    let review = by.map(|by| Review {
        by,
        by_name: row
            .get::<Option<String>, _>("reviewed_by_name")
            .unwrap_or_default(),
        at: row.get::<Option<i64>, _>("reviewed_at").unwrap_or_default(),
    });
    Some(Mark { origin, review })
}

const COLUMNS: &str =
    "entry_kind, entry_id, lang, origin, reviewed_by, reviewed_by_name, reviewed_at";

/// Every mark of the tenant.
pub async fn of_tenant(db: &Db, tenant: &str) -> AppResult<Marks> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM translation_marks WHERE tenant = $1"
    ))
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let kind = EntryKind::parse(&r.get::<String, _>("entry_kind"))?;
            let lang = Lang::parse(&r.get::<String, _>("lang"))?;
            Some(((kind, r.get("entry_id"), lang), mark_of(r)?))
        })
        .collect())
}

/// The marks of one entry, by language.
pub async fn of_entry(
    db: &Db,
    tenant: &str,
    kind: EntryKind,
    id: &str,
) -> AppResult<BTreeMap<Lang, Mark>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM translation_marks WHERE tenant = $1 AND entry_kind = $2 AND entry_id = $3"
    ))
    .bind(tenant)
    .bind(kind.as_str())
    .bind(id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((Lang::parse(&r.get::<String, _>("lang"))?, mark_of(r)?)))
        .collect())
}

/// Marks every translation the entries have (any text in the language)
/// as written with machine assistance and unreviewed, where nothing is
/// recorded yet: what staff saved or reviewed is kept. Returns how many
/// were marked (one audit entry says so).
pub async fn seed_machine_assisted(
    db: &Db,
    tenant: &str,
    entries: &[Entry],
    actor: &str,
) -> AppResult<u64> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let mut added = 0;
    for e in entries {
        for lang in LANGS {
            if e.missing(lang) == e.texts.len() {
                continue;
            }
            let r = sqlx::query(
                "INSERT INTO translation_marks (tenant, entry_kind, entry_id, lang, origin, updated_at) \
                 VALUES ($1, $2, $3, $4, 'machine_assisted', $5) \
                 ON CONFLICT (tenant, entry_kind, entry_id, lang) DO NOTHING",
            )
            .bind(tenant)
            .bind(e.kind.as_str())
            .bind(&e.id)
            .bind(lang.code())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            added += kernel::db::rows_affected(&r);
        }
    }
    if added > 0 {
        audit::append(
            &mut tx,
            tenant,
            now,
            &[AuditEntry::new(actor, "translation.seed", "translations")
                .detail(serde_json::json!({ "origin": "machine_assisted", "marked": added }))],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(added)
}

/// After staff saved an entry in its editor: each language whose texts
/// changed is now staff-written and unreviewed (or has no mark, if the
/// language is gone). `before` is `None` for a new entry. Returns the
/// languages changed.
pub async fn staff_saved(
    db: &Db,
    tenant: &str,
    before: Option<&Entry>,
    after: &Entry,
) -> AppResult<Vec<Lang>> {
    let changed: Vec<Lang> = LANGS
        .into_iter()
        .filter(|l| match before {
            Some(b) => b.texts_in(*l) != after.texts_in(*l),
            None => after.missing(*l) < after.texts.len(),
        })
        .collect();
    if changed.is_empty() {
        return Ok(changed);
    }
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    for lang in &changed {
        sqlx::query(
            "DELETE FROM translation_marks WHERE tenant = $1 AND entry_kind = $2 AND entry_id = $3 AND lang = $4",
        )
        .bind(tenant)
        .bind(after.kind.as_str())
        .bind(&after.id)
        .bind(lang.code())
        .execute(&mut *tx)
        .await?;
        if after.missing(*lang) < after.texts.len() {
            sqlx::query(
                "INSERT INTO translation_marks (tenant, entry_kind, entry_id, lang, origin, updated_at) \
                 VALUES ($1, $2, $3, $4, 'staff', $5)",
            )
            .bind(tenant)
            .bind(after.kind.as_str())
            .bind(&after.id)
            .bind(lang.code())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(changed)
}

fn invalid(message: &str) -> AppError {
    AppError::Validation(vec![FieldError {
        field: "lang".into(),
        message: message.into(),
    }])
}

fn target(entry: &Entry, lang: Lang) -> String {
    format!("{}:{}:{}", entry.kind.as_str(), entry.id, lang.code())
}

/// Marks the entry's translation into `lang` reviewed by `staff` (the
/// signed-in member of staff), audited. A translation with no mark yet was
/// entered by staff (import or editor): it is recorded as staff-written.
pub async fn review(db: &Db, staff: &Staff, entry: &Entry, lang: Lang) -> AppResult<()> {
    if !LANGS.contains(&lang) {
        return Err(invalid("「言語」は日本語以外の言語を選んでください。"));
    }
    if entry.missing(lang) == entry.texts.len() {
        return Err(invalid(
            "この言語の訳がまだありません。訳を入力してから確認済みにしてください。",
        ));
    }
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE translation_marks SET reviewed_by = $1, reviewed_by_name = $2, reviewed_at = $3, updated_at = $3 \
         WHERE tenant = $4 AND entry_kind = $5 AND entry_id = $6 AND lang = $7",
    )
    .bind(staff.actor())
    .bind(&staff.name)
    .bind(now)
    .bind(&staff.tenant)
    .bind(entry.kind.as_str())
    .bind(&entry.id)
    .bind(lang.code())
    .execute(&mut *tx)
    .await?;
    if kernel::db::rows_affected(&updated) == 0 {
        sqlx::query(
            "INSERT INTO translation_marks (tenant, entry_kind, entry_id, lang, origin, reviewed_by, reviewed_by_name, reviewed_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'staff', $5, $6, $7, $7)",
        )
        .bind(&staff.tenant)
        .bind(entry.kind.as_str())
        .bind(&entry.id)
        .bind(lang.code())
        .bind(staff.actor())
        .bind(&staff.name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[AuditEntry::new(
            staff.actor(),
            "translation.review",
            target(entry, lang),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Undoes a review: the translation is unreviewed again, audited.
pub async fn unreview(db: &Db, staff: &Staff, entry: &Entry, lang: Lang) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE translation_marks SET reviewed_by = NULL, reviewed_by_name = NULL, reviewed_at = NULL, updated_at = $1 \
         WHERE tenant = $2 AND entry_kind = $3 AND entry_id = $4 AND lang = $5 AND reviewed_by IS NOT NULL",
    )
    .bind(now)
    .bind(&staff.tenant)
    .bind(entry.kind.as_str())
    .bind(&entry.id)
    .bind(lang.code())
    .execute(&mut *tx)
    .await?;
    if kernel::db::rows_affected(&updated) == 0 {
        return Err(invalid("この翻訳は確認済みではありません。"));
    }
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[AuditEntry::new(
            staff.actor(),
            "translation.unreview",
            target(entry, lang),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
