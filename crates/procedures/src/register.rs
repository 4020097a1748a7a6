//! Reads of the resident register (住民記録) by staff: personal data, so
//! every search is in the audit log (with what it was for and how many
//! records it found, not the query).

use kernel::audit::{self, AuditEntry};
use kernel::auth::Clerk;
use kernel::registry::{RegistryQuery, ResidentRecord, ResidentRegistry};
use kernel::{AppResult, Db};

/// Searches the register; an empty query finds nobody (and is not logged).
pub async fn search(
    db: &Db,
    registry: &dyn ResidentRegistry,
    clerk: &Clerk,
    q: &RegistryQuery,
    purpose: &str,
) -> AppResult<Vec<ResidentRecord>> {
    if q.is_empty() {
        return Ok(Vec::new());
    }
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
