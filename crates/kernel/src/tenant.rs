//! Tenants: municipalities, their departments (課), counters (窓口) and
//! life-event bundles (ライフイベント: which procedures a 転入 or an
//! おくやみ brings, decided by yes/no questions).

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
    /// When the city hall answers the phone and the counters are open
    /// (the chatbot's contact route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_hours: Option<Text>,
    /// The chatbot's optional generative mode; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<ChatSettings>,
    #[serde(default)]
    pub departments: Vec<Department>,
    #[serde(default)]
    pub counters: Vec<Counter>,
    /// Targets of the city's plan, e.g. Yokkaichi's online-capable share.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kpi_targets: Vec<KpiTarget>,
    /// Life-event bundles for the one-stop counter (回らない窓口).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub life_events: Vec<LifeEventBundle>,
    /// The days the counters are open (開庁日): weekends, national
    /// holidays and 12/29–1/3 closed, plus the city's own closed and open
    /// (休日開庁) days.
    #[serde(default)]
    pub calendar: jp::OfficeCalendar,
    /// The city's own readings of names and places for furigana.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<crate::readings::ReadingOverride>,
}

/// An OpenAI-compatible endpoint the chatbot may phrase its answers with
/// (`POST {base_url}/chat/completions`). The key is never stored: only
/// the NAME of the environment variable that holds it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChatSettings {
    pub base_url: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Seconds to wait for the model before answering by retrieval alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

/// A life event (転入, 出生, おくやみ …) as a bundle of procedures: the
/// questions asked at the counter and, in the order the resident goes to
/// them, the procedures each answer brings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LifeEventBundle {
    /// e.g. `moving-in` (a slug).
    pub code: String,
    pub name: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(default)]
    pub questions: Vec<LifeEventQuestion>,
    pub items: Vec<LifeEventItem>,
}

/// A yes/no question, e.g. `has_children` 「18歳までのお子さんがいますか」.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LifeEventQuestion {
    /// snake_case, unique within the bundle.
    pub code: String,
    pub text: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
}

/// One procedure of a bundle. It applies when its `when` question (if any)
/// was answered yes and its `unless` question (if any) was not.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LifeEventItem {
    /// The procedure id in the tenant's catalogue.
    pub procedure: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<String>,
    /// The counter to go to; by default the first counter of the
    /// procedure's department (if it has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<String>,
    /// By when it must be done, as the law says (e.g. 転入届: 14日以内).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Text>,
    /// A short note for the resident (e.g. 「マイナンバーカードをお持ちの方は
    /// 転入届と同時に継続利用の手続をしてください」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl LifeEventItem {
    /// Whether the item applies given the answers (unanswered = no).
    pub fn applies(&self, answer: impl Fn(&str) -> bool) -> bool {
        self.when.as_deref().is_none_or(&answer) && !self.unless.as_deref().is_some_and(&answer)
    }
}

impl LifeEventBundle {
    pub fn question(&self, code: &str) -> Option<&LifeEventQuestion> {
        self.questions.iter().find(|q| q.code == code)
    }
}

/// Question codes: lowercase snake_case ASCII, 1–64 characters.
pub fn is_question_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
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
        if let Some(d) = self.calendar.contradiction() {
            return Err(format!(
                "開庁日の設定で {} が閉庁日（closed）と開庁日（open）の両方にあります",
                d.iso()
            ));
        }
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
        if let Some(c) = &self.chat {
            if !(c.base_url.starts_with("https://") || c.base_url.starts_with("http://")) {
                return Err(format!(
                    "chat.base_url「{}」は http:// か https:// で始めてください",
                    c.base_url
                ));
            }
            if c.model.trim().is_empty() {
                return Err("chat.model を指定してください".into());
            }
            if let Some(env) = &c.api_key_env {
                if env.is_empty()
                    || !env
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                {
                    return Err(format!(
                        "chat.api_key_env「{env}」は環境変数の名前（英大文字・数字・_）で指定してください"
                    ));
                }
            }
        }
        crate::readings::check(&self.readings)?;
        self.check_life_events()
    }

    /// The life-event bundles on their own: codes, questions and the
    /// references between them. (Procedure ids are checked against a
    /// catalogue by [`TenantProfile::check_life_event_procedures`].)
    fn check_life_events(&self) -> Result<(), String> {
        let mut codes = std::collections::HashSet::new();
        for b in &self.life_events {
            if !is_slug(&b.code) {
                return Err(format!(
                    "ライフイベントのコード「{}」は英小文字・数字・ハイフンで指定してください",
                    b.code
                ));
            }
            if !codes.insert(b.code.as_str()) {
                return Err(format!("ライフイベント「{}」が重複しています", b.code));
            }
            if b.items.is_empty() {
                return Err(format!("ライフイベント「{}」に手続がありません", b.code));
            }
            let mut questions = std::collections::HashSet::new();
            for q in &b.questions {
                if !is_question_code(&q.code) {
                    return Err(format!(
                        "ライフイベント「{}」の質問コード「{}」は英小文字・数字・アンダースコアで指定してください",
                        b.code, q.code
                    ));
                }
                if !questions.insert(q.code.as_str()) {
                    return Err(format!(
                        "ライフイベント「{}」の質問「{}」が重複しています",
                        b.code, q.code
                    ));
                }
            }
            let mut procedures = std::collections::HashSet::new();
            for item in &b.items {
                if !procedures.insert(item.procedure.as_str()) {
                    return Err(format!(
                        "ライフイベント「{}」に手続「{}」が2回あります",
                        b.code, item.procedure
                    ));
                }
                for q in [&item.when, &item.unless].into_iter().flatten() {
                    if !questions.contains(q.as_str()) {
                        return Err(format!(
                            "ライフイベント「{}」の手続「{}」が参照する質問「{q}」がありません",
                            b.code, item.procedure
                        ));
                    }
                }
                if let Some(c) = &item.counter {
                    if !self.counters.iter().any(|x| x.code == *c) {
                        return Err(format!(
                            "ライフイベント「{}」の手続「{}」の窓口「{c}」がありません",
                            b.code, item.procedure
                        ));
                    }
                }
            }
            for q in &b.questions {
                let used = b.items.iter().any(|i| {
                    i.when.as_deref() == Some(&q.code) || i.unless.as_deref() == Some(&q.code)
                });
                if !used {
                    return Err(format!(
                        "ライフイベント「{}」の質問「{}」はどの手続にも使われていません",
                        b.code, q.code
                    ));
                }
            }
        }
        Ok(())
    }

    /// The bundles against a catalogue, given as (procedure id, department):
    /// every procedure exists, and an item's counter belongs to its
    /// procedure's department. Returns every problem found.
    pub fn check_life_event_procedures(
        &self,
        catalogue: &[(&str, &str)],
    ) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        for b in &self.life_events {
            for item in &b.items {
                let Some((_, dept)) = catalogue.iter().find(|(id, _)| *id == item.procedure) else {
                    problems.push(format!(
                        "ライフイベント「{}」の手続「{}」がカタログにありません",
                        b.code, item.procedure
                    ));
                    continue;
                };
                if let Some(c) = item.counter.as_deref().and_then(|c| self.counter(c)) {
                    if c.department != *dept {
                        problems.push(format!(
                            "ライフイベント「{}」の手続「{}」の窓口「{}」は担当課「{dept}」の窓口ではありません",
                            b.code, item.procedure, c.code
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    pub fn life_event(&self, code: &str) -> Option<&LifeEventBundle> {
        self.life_events.iter().find(|b| b.code == code)
    }

    pub fn counter(&self, code: &str) -> Option<&Counter> {
        self.counters.iter().find(|c| c.code == code)
    }

    /// The counter a resident goes to for an item of a bundle: the item's
    /// own, or the first counter of the department.
    pub fn counter_for(&self, item: &LifeEventItem, department: &str) -> Option<&Counter> {
        match &item.counter {
            Some(c) => self.counter(c),
            None => self.counters.iter().find(|c| c.department == department),
        }
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
    // Once staff have edited the navigator (手続ナビ) in the back office
    // (put_life_event_in marks the profile), the stored bundles are
    // theirs: loading tenant.json again keeps them.
    let stored: Option<serde_json::Value> =
        sqlx::query("SELECT profile FROM tenants WHERE tenant = $1")
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| serde_json::from_str(&r.get::<String, _>(0)))
            .transpose()
            .map_err(anyhow::Error::from)?;
    let edited = stored
        .as_ref()
        .is_some_and(|v| v[LIFE_EVENTS_EDITED] == serde_json::Value::Bool(true));
    let life_events = match &stored {
        Some(v) if edited => serde_json::from_value(v["life_events"].clone()).unwrap_or_default(),
        _ => profile.life_events.clone(),
    };
    let header = serde_json::json!({
        "code": profile.code,
        "name": profile.name,
        "prefecture": profile.prefecture,
        "address": profile.address,
        "phone": profile.phone,
        "website": profile.website,
        "office_hours": profile.office_hours,
        "chat": profile.chat,
        "kpi_targets": profile.kpi_targets,
        "life_events": life_events,
        "calendar": profile.calendar,
        "readings": profile.readings,
        LIFE_EVENTS_EDITED: edited,
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
    // Every server drops what it keeps of the profile (the office
    // calendar of the date rules).
    crate::events::publish_in(&mut tx, code, CHANGED, serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// The bus topic of a changed municipality profile (`kernel::events`).
pub const CHANGED: &str = "tenant.changed";

/// Marks a profile whose life-event bundles staff edited in the back
/// office: loading tenant.json again keeps the stored bundles.
const LIFE_EVENTS_EDITED: &str = "life_events_edited";

/// Locks the tenant's row inside `tx` (a no-op update: changes of one
/// tenant's profile go one at a time) and returns its stored profile.
async fn lock_profile_in(tx: &mut crate::db::Tx, tenant: &str) -> AppResult<serde_json::Value> {
    sqlx::query("UPDATE tenants SET profile = profile WHERE tenant = $1")
        .bind(tenant)
        .execute(&mut **tx)
        .await?;
    let row = sqlx::query("SELECT profile FROM tenants WHERE tenant = $1")
        .bind(tenant)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    Ok(serde_json::from_str(&row.get::<String, _>(0)).map_err(anyhow::Error::from)?)
}

fn bundles_of(header: &serde_json::Value) -> AppResult<Vec<LifeEventBundle>> {
    Ok(match header.get("life_events") {
        Some(v) if !v.is_null() => {
            serde_json::from_value(v.clone()).map_err(anyhow::Error::from)?
        }
        _ => Vec::new(),
    })
}

/// The stored life-event bundles, with the tenant's row locked inside `tx`
/// until it ends (the navigator's publish reads, checks and writes them
/// in one transaction).
pub async fn lock_life_events_in(
    tx: &mut crate::db::Tx,
    tenant: &str,
) -> AppResult<Vec<LifeEventBundle>> {
    bundles_of(&lock_profile_in(tx, tenant).await?)
}

/// Replaces (or adds, at the end) one life-event bundle of the stored
/// profile inside `tx`, and marks the bundles as edited. The row is locked
/// first, so two bundles published at the same time never overwrite each
/// other.
pub async fn put_life_event_in(
    tx: &mut crate::db::Tx,
    tenant: &str,
    bundle: &LifeEventBundle,
) -> AppResult<()> {
    let mut header = lock_profile_in(tx, tenant).await?;
    let mut bundles = bundles_of(&header)?;
    match bundles.iter_mut().find(|b| b.code == bundle.code) {
        Some(b) => *b = bundle.clone(),
        None => bundles.push(bundle.clone()),
    }
    header["life_events"] = serde_json::to_value(&bundles).map_err(anyhow::Error::from)?;
    header[LIFE_EVENTS_EDITED] = serde_json::Value::Bool(true);
    sqlx::query("UPDATE tenants SET profile = $1 WHERE tenant = $2")
        .bind(header.to_string())
        .bind(tenant)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How many municipalities the database holds (whatever their profiles).
pub async fn count(db: &Db) -> AppResult<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM tenants")
        .fetch_one(db.read())
        .await?
        .get(0))
}

/// The codes of the tenant's departments.
pub async fn department_codes(db: &Db, tenant: &str) -> AppResult<Vec<String>> {
    Ok(
        sqlx::query("SELECT code FROM departments WHERE tenant = $1 ORDER BY code")
            .bind(tenant)
            .fetch_all(db.read())
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect(),
    )
}

/// The codes of the tenant's counters.
pub async fn counter_codes(db: &Db, tenant: &str) -> AppResult<Vec<String>> {
    Ok(
        sqlx::query("SELECT code FROM counters WHERE tenant = $1 ORDER BY code")
            .bind(tenant)
            .fetch_all(db.read())
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect(),
    )
}

/// The department a counter belongs to; `None` for a counter the tenant
/// does not have.
pub async fn counter_department(db: &Db, tenant: &str, code: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query("SELECT department FROM counters WHERE tenant = $1 AND code = $2")
            .bind(tenant)
            .bind(code)
            .fetch_optional(db.read())
            .await?
            .map(|r| r.get(0)),
    )
}

/// A tenant's office calendar alone (one read), or `NotFound`.
pub async fn calendar(db: &Db, code: &str) -> AppResult<jp::OfficeCalendar> {
    let row = sqlx::query("SELECT profile FROM tenants WHERE tenant = $1")
        .bind(code)
        .fetch_optional(db.read())
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    let header: serde_json::Value =
        serde_json::from_str(&row.get::<String, _>(0)).map_err(anyhow::Error::from)?;
    Ok(match header.get("calendar") {
        Some(v) if !v.is_null() => {
            serde_json::from_value(v.clone()).map_err(anyhow::Error::from)?
        }
        _ => jp::OfficeCalendar::default(),
    })
}

/// Loads a tenant's whole profile, or `NotFound`.
/// `404 tenant` unless the municipality is served here: the check of a
/// path that needs no more of the profile (a sign-in, before its password
/// check), without reading and parsing the whole profile.
pub async fn require(db: &Db, code: &str) -> AppResult<()> {
    sqlx::query("SELECT 1 FROM tenants WHERE tenant = $1")
        .bind(code)
        .fetch_optional(db.read())
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound("tenant"))
}

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
    // Drop nulls written for absent optional fields, and the marker.
    if let Some(obj) = header.as_object_mut() {
        obj.retain(|k, v| !v.is_null() && k != LIFE_EVENTS_EDITED);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(life_events: serde_json::Value) -> Result<TenantProfile, String> {
        let p: TenantProfile = serde_json::from_value(serde_json::json!({
            "code": "122289",
            "name": {"ja": "四街道市"},
            "prefecture": {"ja": "千葉県"},
            "departments": [{"code": "madoguchi", "name": {"ja": "窓口サービス課"}},
                            {"code": "kosodate", "name": {"ja": "子育て支援課"}}],
            "counters": [{"code": "c1", "name": {"ja": "1番窓口"}, "department": "madoguchi"},
                         {"code": "c7", "name": {"ja": "7番窓口"}, "department": "kosodate"}],
            "life_events": life_events,
        }))
        .map_err(|e| e.to_string())?;
        p.check().map(|_| p)
    }

    fn bundle(questions: serde_json::Value, items: serde_json::Value) -> serde_json::Value {
        serde_json::json!([{"code": "moving-in", "name": {"ja": "転入"}, "questions": questions, "items": items}])
    }

    #[test]
    fn life_events_are_checked() {
        let q = serde_json::json!([{"code": "has_children", "text": {"ja": "お子さんがいますか"}}]);
        let p = profile(bundle(
            q.clone(),
            serde_json::json!([{"procedure": "tennyu"}, {"procedure": "jido-teate", "when": "has_children", "counter": "c7"}]),
        ))
        .unwrap();
        let b = p.life_event("moving-in").unwrap();
        assert!(b.items[1].applies(|q| q == "has_children"));
        assert!(!b.items[1].applies(|_| false));
        assert_eq!(p.counter_for(&b.items[0], "madoguchi").unwrap().code, "c1");
        assert!(p
            .check_life_event_procedures(&[("tennyu", "madoguchi"), ("jido-teate", "kosodate")])
            .is_ok());
        let e = p
            .check_life_event_procedures(&[("tennyu", "madoguchi"), ("jido-teate", "madoguchi")])
            .unwrap_err();
        assert!(e[0].contains("c7"), "{e:?}");
        let e = p
            .check_life_event_procedures(&[("tennyu", "madoguchi")])
            .unwrap_err();
        assert!(
            e[0].contains("jido-teate") && e[0].contains("カタログ"),
            "{e:?}"
        );

        let e = profile(bundle(
            q.clone(),
            serde_json::json!([{"procedure": "tennyu", "when": "has_car"}]),
        ))
        .unwrap_err();
        assert!(e.contains("has_car"), "{e}");
        let e = profile(bundle(
            serde_json::json!([{"code": "has_children", "text": {"ja": "a"}}, {"code": "has_children", "text": {"ja": "b"}}]),
            serde_json::json!([{"procedure": "tennyu", "when": "has_children"}]),
        ))
        .unwrap_err();
        assert!(e.contains("重複"), "{e}");
        let e = profile(bundle(
            q.clone(),
            serde_json::json!([{"procedure": "tennyu"}]),
        ))
        .unwrap_err();
        assert!(e.contains("使われていません"), "{e}");
        let e = profile(bundle(
            q.clone(),
            serde_json::json!([{"procedure": "tennyu", "unless": "has_children", "counter": "c9"}]),
        ))
        .unwrap_err();
        assert!(e.contains("c9"), "{e}");
        let e = profile(bundle(
            serde_json::json!([{"code": "Has-Children", "text": {"ja": "a"}}]),
            serde_json::json!([{"procedure": "tennyu", "when": "Has-Children"}]),
        ))
        .unwrap_err();
        assert!(e.contains("Has-Children"), "{e}");
        assert!(profile(
            serde_json::json!([{"code": "x", "name": {"ja": "x"}, "items": [], "extra": 1}])
        )
        .is_err());
    }
}
