//! Tenants: municipalities, their departments (課) and counters (窓口).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::i18n::Text;

/// A tenant is a municipality, identified by its 全国地方公共団体コード.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantCode(jp::LocalGovCode);

impl TenantCode {
    pub fn parse(s: &str) -> Result<Self, jp::ParseError> {
        jp::LocalGovCode::parse(s).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Display for TenantCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code within a tenant (department, counter, procedure id): lowercase
/// ASCII letters, digits and hyphens, 1–64 characters.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub code: String,
    pub name: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Text>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Counter {
    pub code: String,
    pub name: Text,
    pub department: String,
}

/// Everything known about a municipality, as loaded from its `tenant.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantProfile {
    pub code: TenantCode,
    pub name: Text,
    pub prefecture: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default)]
    pub departments: Vec<Department>,
    #[serde(default)]
    pub counters: Vec<Counter>,
    /// Targets of the city's plan, e.g. Yokkaichi's online-capable share.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kpi_targets: Vec<KpiTarget>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KpiTarget {
    /// Which indicator, e.g. `applications_online_capable_share`.
    pub kpi: String,
    /// 年度 by its starting year (2026 = 令和8年度).
    pub fiscal_year: i32,
    pub value: f64,
    /// Where the target comes from (the plan and its page).
    #[serde(default)]
    pub source: String,
}

impl TenantProfile {
    /// Checks codes and references; returns a message naming the problem.
    pub fn check(&self) -> Result<(), String> {
        for d in &self.departments {
            if !is_slug(&d.code) {
                return Err(format!(
                    "課コード「{}」は英小文字・数字・ハイフンで指定してください",
                    d.code
                ));
            }
        }
        for c in &self.counters {
            if !is_slug(&c.code) {
                return Err(format!(
                    "窓口コード「{}」は英小文字・数字・ハイフンで指定してください",
                    c.code
                ));
            }
            if !self.departments.iter().any(|d| d.code == c.department) {
                return Err(format!(
                    "窓口「{}」の課「{}」がありません",
                    c.code, c.department
                ));
            }
        }
        Ok(())
    }

    pub fn target(&self, kpi: &str, fiscal_year: i32) -> Option<f64> {
        self.kpi_targets
            .iter()
            .find(|t| t.kpi == kpi && t.fiscal_year == fiscal_year)
            .map(|t| t.value)
    }

    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }
}

/// Inserts or updates a tenant with its departments and counters, in one
/// transaction. Running it twice with the same profile changes nothing.
pub async fn upsert(db: &Db, profile: &TenantProfile) -> AppResult<()> {
    profile.check().map_err(AppError::BadRequest)?;
    let now = crate::clock::now_ms();
    let code = profile.code.as_str();
    let mut tx = db.begin().await?;
    let header = serde_json::json!({
        "code": profile.code,
        "name": profile.name,
        "prefecture": profile.prefecture,
        "address": profile.address,
        "phone": profile.phone,
        "website": profile.website,
        "kpi_targets": profile.kpi_targets,
    });
    sqlx::query(
        "INSERT INTO tenants (tenant, name_ja, profile, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant) DO UPDATE SET name_ja = excluded.name_ja, profile = excluded.profile",
    )
    .bind(code)
    .bind(profile.name.ja())
    .bind(header.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for d in &profile.departments {
        sqlx::query(
            "INSERT INTO departments (tenant, code, name_ja, profile) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, code) DO UPDATE SET name_ja = excluded.name_ja, profile = excluded.profile",
        )
        .bind(code)
        .bind(&d.code)
        .bind(d.name.ja())
        .bind(serde_json::to_string(d).map_err(anyhow::Error::from)?)
        .execute(&mut *tx)
        .await?;
    }
    for c in &profile.counters {
        sqlx::query(
            "INSERT INTO counters (tenant, code, department, profile) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, code) DO UPDATE SET department = excluded.department, profile = excluded.profile",
        )
        .bind(code)
        .bind(&c.code)
        .bind(&c.department)
        .bind(serde_json::to_string(c).map_err(anyhow::Error::from)?)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Loads a tenant's whole profile, or `NotFound`.
pub async fn load(db: &Db, code: &str) -> AppResult<TenantProfile> {
    let row = sqlx::query("SELECT profile FROM tenants WHERE tenant = $1")
        .bind(code)
        .fetch_optional(db.read())
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    let mut header: serde_json::Value =
        serde_json::from_str(&row.get::<String, _>(0)).map_err(anyhow::Error::from)?;
    let departments: Vec<Department> =
        sqlx::query("SELECT profile FROM departments WHERE tenant = $1 ORDER BY code")
            .bind(code)
            .fetch_all(db.read())
            .await?
            .iter()
            .map(|r| serde_json::from_str(&r.get::<String, _>(0)))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::from)?;
    let counters: Vec<Counter> =
        sqlx::query("SELECT profile FROM counters WHERE tenant = $1 ORDER BY code")
            .bind(code)
            .fetch_all(db.read())
            .await?
            .iter()
            .map(|r| serde_json::from_str(&r.get::<String, _>(0)))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::from)?;
    header["departments"] = serde_json::to_value(departments).map_err(anyhow::Error::from)?;
    header["counters"] = serde_json::to_value(counters).map_err(anyhow::Error::from)?;
    // Drop nulls written for absent optional fields.
    if let Some(obj) = header.as_object_mut() {
        obj.retain(|_, v| !v.is_null());
    }
    Ok(serde_json::from_value(header).map_err(anyhow::Error::from)?)
}

#[derive(Clone, Debug, Serialize)]
pub struct TenantSummary {
    pub code: String,
    pub name: Text,
}

pub async fn list(db: &Db) -> AppResult<Vec<TenantSummary>> {
    let rows = sqlx::query("SELECT tenant, profile FROM tenants ORDER BY tenant")
        .fetch_all(db.read())
        .await?;
    rows.iter()
        .map(|r| {
            let v: serde_json::Value =
                serde_json::from_str(&r.get::<String, _>(1)).map_err(anyhow::Error::from)?;
            let name: Text =
                serde_json::from_value(v["name"].clone()).map_err(anyhow::Error::from)?;
            Ok(TenantSummary {
                code: r.get(0),
                name,
            })
        })
        .collect()
}
