//! Each municipality's approval threshold (`mail_newsletter_settings`,
//! [`DEFAULT_THRESHOLD`] without a row) and the staff's own addresses for
//! test sends (`mail_staff_addresses`, sealed).

use jp::Email;
use kernel::audit::{self, AuditEntry};
use kernel::auth::{Staff, SystemAdmin};
use kernel::{AppResult, Db};
use serde_json::json;
use sqlx::Row;

/// A message to more recipients than this needs a second person's
/// approval, unless the municipality set its own number.
pub const DEFAULT_THRESHOLD: i64 = 100;
/// The largest threshold staff may set.
pub const THRESHOLD_MAX: i64 = 10_000_000;

/// The municipality's threshold.
pub async fn threshold<'e, E>(ex: E, tenant: &str) -> AppResult<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row =
        sqlx::query("SELECT approval_threshold FROM mail_newsletter_settings WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(ex)
            .await?;
    Ok(row.map_or(DEFAULT_THRESHOLD, |r| r.get(0)))
}

/// Sets the threshold (the system administrator), audited.
pub async fn set_threshold(db: &Db, admin: &SystemAdmin, value: i64, now: i64) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let before = threshold(&mut *tx, &admin.tenant).await?;
    sqlx::query(
        "INSERT INTO mail_newsletter_settings (tenant, approval_threshold, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant) DO UPDATE SET approval_threshold = $2, updated_by = $3, updated_at = $4",
    )
    .bind(admin.tenant.as_str())
    .bind(value)
    .bind(admin.id.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &admin.tenant,
        now,
        &[
            AuditEntry::new(admin.actor(), "mail.newsletter.threshold", &admin.tenant)
                .detail(json!({"from": before, "to": value})),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Reads the threshold field: a whole number from 0 to [`THRESHOLD_MAX`].
pub fn parse_threshold(raw: &str) -> Result<i64, String> {
    let digits: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    match digits.parse::<i64>() {
        Ok(n) if (0..=THRESHOLD_MAX).contains(&n) => Ok(n),
        _ => Err(format!(
            "承認が必要になる宛先の数は0から{THRESHOLD_MAX}までの整数で入力してください。"
        )),
    }
}

/// The member of staff's own address, if they set one.
pub async fn my_address(db: &Db, staff: &Staff) -> AppResult<Option<Email>> {
    let row =
        sqlx::query("SELECT address FROM mail_staff_addresses WHERE tenant = $1 AND staff = $2")
            .bind(staff.tenant.as_str())
            .bind(staff.id.as_str())
            .fetch_optional(db.read())
            .await?;
    let Some(row) = row else { return Ok(None) };
    let vault = db.vault()?;
    Ok(Some(crate::address::open(
        vault,
        &staff.tenant,
        &row.get::<String, _>(0),
    )?))
}

/// Key rotation: every staff member's own address sealed again with the
/// active key (`madoguchi rekey`); how many.
pub async fn rekey(db: &Db) -> AppResult<u64> {
    let vault = db.vault()?;
    let rows = sqlx::query("SELECT tenant, staff, address FROM mail_staff_addresses")
        .fetch_all(db.read())
        .await?;
    let mut n = 0;
    for r in rows {
        let (tenant, staff, sealed): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let address = crate::address::open(vault, &tenant, &sealed)?;
        sqlx::query("UPDATE mail_staff_addresses SET address = $1 WHERE tenant = $2 AND staff = $3 AND address = $4")
            .bind(crate::address::seal(vault, &tenant, &address))
            .bind(tenant.as_str())
            .bind(staff.as_str())
            .bind(sealed.as_str())
            .execute(db.write())
            .await?;
        n += 1;
    }
    Ok(n)
}

/// Sets the member of staff's own address (sealed), audited.
pub async fn set_my_address(db: &Db, staff: &Staff, address: &Email, now: i64) -> AppResult<()> {
    let sealed = crate::address::seal(db.vault()?, &staff.tenant, address);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO mail_staff_addresses (tenant, staff, address, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant, staff) DO UPDATE SET address = $3, updated_at = $4",
    )
    .bind(staff.tenant.as_str())
    .bind(staff.id.as_str())
    .bind(sealed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[AuditEntry::new(
            staff.actor(),
            "mail.newsletter.test_address",
            staff.actor(),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_a_whole_number_in_range() {
        assert_eq!(parse_threshold("100"), Ok(100));
        assert_eq!(parse_threshold(" １，０００ "), Ok(1000));
        assert_eq!(parse_threshold("0"), Ok(0));
        assert!(parse_threshold("-1").is_err());
        assert!(parse_threshold("10.5").is_err());
        assert!(parse_threshold("").is_err());
        assert!(parse_threshold("10000001").is_err());
    }
}
