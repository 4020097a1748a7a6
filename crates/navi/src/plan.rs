//! What a life event brings: for a bundle (`life_events` in the tenant
//! profile, edited in the navigator's editor) and the resident's answers,
//! the procedures in order, each with the counter to go to, its deadline
//! and note. The navigator shows it to residents; the one-stop desk opens
//! a case for each item.

use std::collections::BTreeMap;
use std::sync::Arc;

use catalogue::store::Cache;
use catalogue::StoredProcedure;
use kernel::db::Db;
use kernel::tenant::{Counter, LifeEventBundle, TenantProfile};
use kernel::{AppError, AppResult};

/// One procedure a visit opens, with the counter the resident goes to.
#[derive(Clone, Debug)]
pub struct PlannedItem {
    pub procedure: Arc<StoredProcedure>,
    pub counter: Option<Counter>,
    /// By when it must be done, from the bundle.
    pub deadline: Option<kernel::i18n::Text>,
    /// The bundle's note for the resident.
    pub note: Option<kernel::i18n::Text>,
}

/// The procedures a bundle brings for these answers, in its order.
pub async fn plan(
    db: &Db,
    cache: &Cache,
    profile: &TenantProfile,
    bundle: &LifeEventBundle,
    answers: &BTreeMap<String, bool>,
) -> AppResult<Vec<PlannedItem>> {
    let mut out = Vec::new();
    for item in bundle
        .items
        .iter()
        .filter(|i| i.applies(|q| answers.get(q).copied().unwrap_or(false)))
    {
        let procedure = procedure_of(db, cache, profile, bundle, &item.procedure).await?;
        let counter = profile
            .counter_for(item, &procedure.procedure.department)
            .cloned();
        out.push(PlannedItem {
            procedure,
            counter,
            deadline: item.deadline.clone(),
            note: item.note.clone(),
        });
    }
    Ok(out)
}

/// A procedure of a bundle from the catalogue. A bundle naming a procedure
/// the catalogue lacks is a configuration error, said plainly.
async fn procedure_of(
    db: &Db,
    cache: &Cache,
    profile: &TenantProfile,
    bundle: &LifeEventBundle,
    id: &str,
) -> AppResult<Arc<StoredProcedure>> {
    match cache.get(db, profile.code.as_str(), id).await {
        Err(AppError::NotFound(_)) => Err(AppError::Unavailable(format!(
            "ライフイベント「{}」の手続「{id}」がこの自治体の手続カタログにありません。システム管理者に tenant.json の life_events の見直しを依頼してください。",
            bundle.name.ja()
        ))),
        other => other,
    }
}

/// Every bundle of a tenant with all its procedures (whatever the
/// answers), for residents preparing their visit.
pub async fn bundles_with_procedures(
    db: &Db,
    cache: &Cache,
    profile: &TenantProfile,
) -> AppResult<Vec<(LifeEventBundle, Vec<PlannedItem>)>> {
    let mut out = Vec::new();
    for b in &profile.life_events {
        let mut items = Vec::new();
        for item in &b.items {
            let procedure = procedure_of(db, cache, profile, b, &item.procedure).await?;
            let counter = profile
                .counter_for(item, &procedure.procedure.department)
                .cloned();
            items.push(PlannedItem {
                procedure,
                counter,
                deadline: item.deadline.clone(),
                note: item.note.clone(),
            });
        }
        out.push((b.clone(), items));
    }
    Ok(out)
}
