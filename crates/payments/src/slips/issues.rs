//! Every slip printed for a charge. A slip printed again is a reissue: its
//! 再発行区分 is the number of slips printed before it (the barcode has one
//! digit, so it stays at 9 from the ninth reprint on), so a till can tell
//! the newest slip from an older one with another amount or deadline.

use kernel::db::Tx;
use kernel::{AppError, AppResult};
use sqlx::Row;

use crate::slip_pdf::SlipContent;

/// Locks the charge (concurrent prints of one charge go one by one) and
/// returns the 再発行区分 of the next slip and its sequence number.
pub async fn next(tx: &mut Tx, tenant: &str, charge_id: &str) -> AppResult<(u8, i64)> {
    let n = sqlx::query(
        "UPDATE payment_charges SET updated_at = updated_at WHERE tenant = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(charge_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound("charge"));
    }
    let printed: i64 = sqlx::query(
        "SELECT COUNT(*) FROM payment_slip_issues WHERE tenant = $1 AND charge_id = $2",
    )
    .bind(tenant)
    .bind(charge_id)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    Ok((printed.min(9) as u8, printed + 1))
}

/// Records the slip `content` as printed.
pub async fn record(
    tx: &mut Tx,
    tenant: &str,
    charge_id: &str,
    seq: i64,
    content: &SlipContent,
    actor: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO payment_slip_issues (tenant, charge_id, seq, reissue, amount, barcode, issued_by, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant)
    .bind(charge_id)
    .bind(seq)
    .bind(i64::from(content.reissue))
    .bind(content.amount)
    .bind(content.barcode.as_ref().map(|b| b.digits().to_string()))
    .bind(actor)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
