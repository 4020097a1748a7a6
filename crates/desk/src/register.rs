//! Reads of the resident register (住民記録) by staff: personal data, so
//! every search is in the audit log (with what it was for and how many
//! records it found, not the query).

use kernel::audit::{self, AuditEntry};
use kernel::auth::Clerk;
use kernel::registry::{RegistryQuery, ResidentRecord, ResidentRegistry};
use kernel::{AppError, AppResult, Db, FieldError, Lang};

/// The query with the birth date as the register holds it (ISO), however
/// it was typed (`1985/9/2`, `昭和60年9月2日`, `S60.9.2`); a date that is
/// not one is an error naming the field.
pub fn normalize(q: &RegistryQuery, lang: Lang) -> AppResult<RegistryQuery> {
    let mut q = q.clone();
    let typed = q.birth_date.trim().to_string();
    if !typed.is_empty() {
        match jp::JpDate::parse(&typed) {
            Ok(d) => q.birth_date = d.iso(),
            Err(_) => {
                return Err(AppError::Validation(vec![FieldError {
                    field: "birth_date".into(),
                    message: kernel::i18n::t(lang, "assist.error.birth_date").into(),
                }]))
            }
        }
    }
    Ok(q)
}

/// Searches the register; an empty query finds nobody (and is not logged).
pub async fn search(
    db: &Db,
    registry: &dyn ResidentRegistry,
    clerk: &Clerk,
    q: &RegistryQuery,
    purpose: &str,
    lang: Lang,
) -> AppResult<Vec<ResidentRecord>> {
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let q = &normalize(q, lang)?;
    let found = registry.search(&clerk.tenant, q).await?;
    audit::record(
        db,
        &clerk.tenant,
        AuditEntry::new(
            clerk.actor(),
            "registry.search",
            format!("registry:{}", registry.name()),
        )
        .detail(serde_json::json!({
            "purpose": purpose,
            "count": found.len(),
            "ids": found.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        })),
    )
    .await?;
    Ok(found)
}

/// Records that a member of staff used one resident's record, and what for.
pub async fn audit_read(
    db: &Db,
    registry: &dyn ResidentRegistry,
    clerk: &Clerk,
    record: &ResidentRecord,
    detail: serde_json::Value,
) -> AppResult<()> {
    let mut detail = detail;
    detail["register"] = serde_json::json!(registry.name());
    audit::record(
        db,
        &clerk.tenant,
        AuditEntry::new(
            clerk.actor(),
            "registry.read",
            format!("registry:{}", record.id),
        )
        .detail(detail),
    )
    .await?;
    Ok(())
}

/// Records that the second screen compared a card with the register record
/// the clerk chose for an assisted entry (the record is read, not shown).
pub async fn audit_card_check(
    db: &Db,
    registry: &dyn ResidentRegistry,
    e: &crate::assisted::Entry,
    record: &ResidentRecord,
    card: &kernel::resident::Resident,
) -> AppResult<()> {
    audit::record(
        db,
        &e.tenant,
        AuditEntry::new(
            format!("resident:{}", card.subject),
            "registry.read",
            format!("registry:{}", record.id),
        )
        .detail(serde_json::json!({
            "purpose": "card_check",
            "entry": e.id,
            "register": registry.name(),
        })),
    )
    .await?;
    Ok(())
}
