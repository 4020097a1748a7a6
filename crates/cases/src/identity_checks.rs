//! The identity check (本人確認) a clerk did for one case entered at the
//! counter (書かない窓口): written with the case by the committer, read
//! back here for the staff case view and the API. A case of a life-event
//! visit shows its visit's check instead (`visits::identity_check`).

use kernel::db::Db;
use kernel::AppResult;
use sqlx::Row;

use crate::visits::{document_of, IdentityCheck};

/// The check recorded with a case, if one was.
pub async fn of_case(
    db: &Db,
    tenant: &str,
    application_id: &str,
) -> AppResult<Option<IdentityCheck>> {
    let r = sqlx::query(
        "SELECT document, note, checked_by, checked_by_name, checked_at FROM case_identity_checks
         WHERE tenant = $1 AND application_id = $2",
    )
    .bind(tenant)
    .bind(application_id)
    .fetch_optional(db.read())
    .await?;
    r.map(|r| {
        Ok(IdentityCheck {
            document: document_of(&r.get::<String, _>(0))?,
            note: r.get(1),
            checked_by: r.get(2),
            checked_by_name: r.get(3),
            checked_at: r.get(4),
        })
    })
    .transpose()
}
