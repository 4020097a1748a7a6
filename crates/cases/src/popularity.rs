//! How often each procedure is applied for, for the search's ranking
//! (`search::Popularity`): the count of applications per procedure, read
//! here because `cases` owns `applications`.

use std::collections::HashMap;

use kernel::{AppResult, Db};
use search::{CountsFuture, Popularity};
use sqlx::Row;

/// Applications per procedure of a tenant, every channel and status.
pub async fn counts(db: &Db, tenant: &str) -> AppResult<HashMap<String, u64>> {
    let rows = sqlx::query(
        "SELECT procedure_id, COUNT(*) FROM applications WHERE tenant = $1 GROUP BY procedure_id",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let n: i64 = r.get(1);
            (r.get::<String, _>(0), n.max(0) as u64)
        })
        .collect())
}

/// The search's view of it: keyed by document id (`procedure:<id>`).
pub struct ApplicationCounts;

impl Popularity for ApplicationCounts {
    fn counts<'a>(&'a self, db: &'a Db, tenant: &'a str) -> CountsFuture<'a> {
        Box::pin(async move {
            Ok(counts(db, tenant)
                .await?
                .into_iter()
                .map(|(id, n)| (format!("procedure:{id}"), n))
                .collect())
        })
    }
}
