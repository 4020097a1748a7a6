//! The charges list of the back office: filtered by status and subject,
//! newest first, at most [`LIMIT`] rows (the filters narrow it down).

use sqlx::Row;

use crate::charges::ChargeStatus;

/// The most rows one list shows.
pub const LIMIT: i64 = 200;

/// What the list is narrowed to (`None`: any).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<ChargeStatus>,
    pub subject: Option<String>,
}

/// One line of the list: no payer name (that is opened, audited, on the
/// charge's own page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub id: String,
    pub payment_number: String,
    pub subject: String,
    pub subject_label: String,
    pub period_label: String,
    pub payer_ref: String,
    pub amount: i64,
    pub paid_amount: i64,
    pub refunded_amount: i64,
    pub due_date: String,
    pub status: ChargeStatus,
}

/// The charges of `tenant` that pass `filter`.
pub async fn list<'e, E>(ex: E, tenant: &str, filter: &Filter) -> Result<Vec<Line>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut sql = String::from(
        "SELECT id, payment_number, subject, subject_label, period_label, payer_ref, amount, paid_amount, refunded_amount, due_date, status \
         FROM payment_charges WHERE tenant = $1",
    );
    let mut n = 1;
    if filter.status.is_some() {
        n += 1;
        sql.push_str(&format!(" AND status = ${n}"));
    }
    if filter.subject.is_some() {
        n += 1;
        sql.push_str(&format!(" AND subject = ${n}"));
    }
    sql.push_str(&format!(" ORDER BY created_at DESC, id LIMIT {LIMIT}"));
    let mut q = sqlx::query(&sql).bind(tenant);
    if let Some(s) = filter.status {
        q = q.bind(s.as_str());
    }
    if let Some(s) = &filter.subject {
        q = q.bind(s.as_str());
    }
    let rows = q.fetch_all(ex).await?;
    Ok(rows
        .iter()
        .map(|r| Line {
            id: r.get("id"),
            payment_number: r.get("payment_number"),
            subject: r.get("subject"),
            subject_label: r.get("subject_label"),
            period_label: r.get("period_label"),
            payer_ref: r.get("payer_ref"),
            amount: r.get("amount"),
            paid_amount: r.get("paid_amount"),
            refunded_amount: r.get("refunded_amount"),
            due_date: r.get("due_date"),
            status: ChargeStatus::parse(&r.get::<String, _>("status"))
                .unwrap_or(ChargeStatus::Unpaid),
        })
        .collect())
}

/// The subjects charged so far (code and label), for the filter.
pub async fn subjects<'e, E>(ex: E, tenant: &str) -> Result<Vec<(String, String)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT subject, MIN(subject_label) AS label FROM payment_charges WHERE tenant = $1 GROUP BY subject ORDER BY subject",
    )
    .bind(tenant)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get("subject"), r.get("label")))
        .collect())
}

/// The receipts of a charge, oldest first: channel, amount, date paid.
pub async fn receipts<'e, E>(
    ex: E,
    tenant: &str,
    charge_id: &str,
) -> Result<Vec<Receipt>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT id, channel, source_key, amount, paid_on, recorded_at FROM payment_receipts WHERE tenant = $1 AND charge_id = $2 ORDER BY recorded_at, id",
    )
    .bind(tenant)
    .bind(charge_id)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Receipt {
            id: r.get("id"),
            channel: r.get("channel"),
            source_key: r.get("source_key"),
            amount: r.get("amount"),
            paid_on: r.get("paid_on"),
            recorded_at: r.get("recorded_at"),
        })
        .collect())
}

/// A receipt as the charge's page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub id: String,
    pub channel: String,
    pub source_key: String,
    pub amount: i64,
    pub paid_on: String,
    pub recorded_at: i64,
}
