//! The outbox API (system administrators): messages with their delivery
//! state and masked links, counts per state, and resend.

use axum::extract::{Path, Query, State};
use axum::Json;
use kernel::auth::SystemAdmin;
use kernel::{AppResult, Db};
use serde_json::{json, Value};

use super::listing::{self, ListQuery};
use super::staff;

pub async fn list(
    State(db): State<Db>,
    admin: SystemAdmin,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Value>> {
    let filter = q.filter()?;
    let items = staff::listing(&db, &admin, &filter).await?;
    let counts: serde_json::Map<String, Value> = listing::counts(&db, &admin.tenant)
        .await?
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    Ok(Json(json!({"items": items, "counts": counts})))
}

pub async fn resend(
    State(db): State<Db>,
    admin: SystemAdmin,
    Path((_tenant, id)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    staff::resend(&db, &admin, &id).await?;
    Ok(Json(json!({"id": id, "state": "queued"})))
}
