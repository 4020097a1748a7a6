//! KPIs computed from live data, per tenant and fiscal year (年度):
//!
//! - share of catalogue procedures that can be done online;
//! - applications by channel (online / counter / proxy);
//! - Yokkaichi's KPI 「総申請件数に占めるオンラインで申請可能な申請件数の割合」:
//!   of all applications received in the year, the share whose procedure
//!   could be applied for online at the time (target 40% in R8 rising to
//!   70% in R11).
//!
//! Targets come from the tenant's data (`kpi_targets`), never from code.

use kernel::db::Db;
use kernel::AppResult;
use serde::Serialize;
use sqlx::Row;

use catalogue::model::Channel;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChannelCount {
    pub channel: Channel,
    pub count: i64,
    /// Share of the year's applications, 0.0–1.0.
    pub share: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KpiReport {
    pub tenant: String,
    pub fiscal_year: i32,
    pub fiscal_year_label: String,
    pub procedures_total: i64,
    pub procedures_online: i64,
    pub procedures_online_share: f64,
    pub applications_total: i64,
    pub by_channel: Vec<ChannelCount>,
    /// Applications for procedures available online.
    pub applications_online_capable: i64,
    pub applications_online_capable_share: f64,
    /// The tenant's target for the online-capable share this year, if set.
    pub applications_online_capable_target: Option<f64>,
}

fn share(part: i64, total: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

pub async fn report(
    db: &Db,
    tenant: &str,
    fiscal_year: i32,
    target: Option<f64>,
) -> AppResult<KpiReport> {
    let (procedures_total, procedures_online) = catalogue::store::online_counts(db, tenant).await?;

    let rows = sqlx::query(
        "SELECT channel, COUNT(*) FROM applications WHERE tenant = $1 AND fiscal_year = $2 GROUP BY channel",
    )
    .bind(tenant)
    .bind(i64::from(fiscal_year))
    .fetch_all(db.read())
    .await?;
    let mut counts = std::collections::HashMap::new();
    for r in &rows {
        counts.insert(r.get::<String, _>(0), r.get::<i64, _>(1));
    }
    let applications_total: i64 = counts.values().sum();
    let by_channel = Channel::ALL
        .iter()
        .map(|c| {
            let n = counts.get(c.as_str()).copied().unwrap_or(0);
            ChannelCount {
                channel: *c,
                count: n,
                share: share(n, applications_total),
            }
        })
        .collect();
    // Counted from what was true when each application came in, so later
    // catalogue changes do not rewrite past years.
    let r = sqlx::query(
        "SELECT COUNT(*) FROM applications WHERE tenant = $1 AND fiscal_year = $2 AND online_capable = 1",
    )
    .bind(tenant)
    .bind(i64::from(fiscal_year))
    .fetch_one(db.read())
    .await?;
    let applications_online_capable: i64 = r.get(0);
    let fy = jp::FiscalYear::new(fiscal_year)
        .map_err(|_| kernel::AppError::BadRequest("年度が範囲外です。".into()))?;
    Ok(KpiReport {
        tenant: tenant.to_string(),
        fiscal_year,
        fiscal_year_label: fy.wareki(),
        procedures_total,
        procedures_online,
        procedures_online_share: share(procedures_online, procedures_total),
        applications_total,
        by_channel,
        applications_online_capable,
        applications_online_capable_share: share(applications_online_capable, applications_total),
        applications_online_capable_target: target,
    })
}

/// Percent with one decimal, as shown on the page (`42.5%`).
pub fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}
