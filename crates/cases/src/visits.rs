//! Visits as stored: a life-event visit (回らない窓口) opened several cases
//! at once, linked as one visit with one identity check (本人確認) that
//! every department sees. The desk opens them (through the committer);
//! this module reads them back for the desk and for each case.

use std::collections::BTreeMap;

use kernel::audit::{self, AuditEntry};
use kernel::auth::CaseWorker;
use kernel::db::Db;
use kernel::i18n::{self, Lang};
use kernel::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::status::Status;

/// The identity document a clerk looked at (本人確認書類): one official
/// photo document, or a health-insurance card (資格確認書) with one more
/// document, or another document named in the note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdDocument {
    MyNumberCard,
    DriversLicense,
    Passport,
    ResidenceCard,
    /// 特別永住者証明書.
    SpecialPermanentResidentCertificate,
    /// 健康保険証（資格確認書）＋もう1点 (the second named in the note).
    HealthInsurancePlusOne,
    Other,
}

impl IdDocument {
    pub const ALL: [IdDocument; 7] = [
        IdDocument::MyNumberCard,
        IdDocument::DriversLicense,
        IdDocument::Passport,
        IdDocument::ResidenceCard,
        IdDocument::SpecialPermanentResidentCertificate,
        IdDocument::HealthInsurancePlusOne,
        IdDocument::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdDocument::MyNumberCard => "my_number_card",
            IdDocument::DriversLicense => "drivers_license",
            IdDocument::Passport => "passport",
            IdDocument::ResidenceCard => "residence_card",
            IdDocument::SpecialPermanentResidentCertificate => {
                "special_permanent_resident_certificate"
            }
            IdDocument::HealthInsurancePlusOne => "health_insurance_plus_one",
            IdDocument::Other => "other",
        }
    }

    /// The note must name a document: the other one, or the second one.
    pub fn needs_note(self) -> bool {
        matches!(self, IdDocument::Other | IdDocument::HealthInsurancePlusOne)
    }

    /// The i18n key of the message when the note is missing.
    pub fn note_missing_key(self) -> &'static str {
        match self {
            IdDocument::HealthInsurancePlusOne => "visit.error.note_for_second",
            _ => "visit.error.note_for_other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s.trim())
    }

    pub fn label_key(self) -> String {
        format!("visit.document.{}", self.as_str())
    }
}

// ------------------------------------------------------------- reading

/// The identity check of a visit, shown to every department.
#[derive(Clone, Debug, Serialize)]
pub struct IdentityCheck {
    pub document: IdDocument,
    pub note: String,
    pub checked_by: String,
    pub checked_by_name: String,
    pub checked_at: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct VisitItem {
    pub seq: i64,
    pub procedure_id: String,
    pub department: String,
    pub counter: Option<String>,
    pub application_id: String,
    pub status: Status,
}

#[derive(Clone, Debug, Serialize)]
pub struct Visit {
    pub id: String,
    pub life_event: String,
    pub answers: BTreeMap<String, bool>,
    pub resident_name: String,
    pub resident_kana: String,
    pub registry_id: Option<String>,
    /// The desk that took the visit.
    pub department: String,
    pub created_by: String,
    pub created_at: i64,
    pub identity: IdentityCheck,
    pub items: Vec<VisitItem>,
}

impl Visit {
    /// Staff see a visit when they see the desk that took it or one of
    /// its departments.
    pub fn visible_to(&self, staff: &kernel::auth::Staff) -> bool {
        staff.can_see_department(&self.department)
            || self
                .items
                .iter()
                .any(|i| staff.can_see_department(&i.department))
    }
}

fn document_of(s: &str) -> AppResult<IdDocument> {
    IdDocument::parse(s)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("stored identity document {s}")))
}

/// An identity check as both of its tables store it (a visit's, a case's):
/// `document, note, checked_by, checked_by_name, checked_at`.
pub(crate) fn check_of_row(r: &sqlx::any::AnyRow) -> AppResult<IdentityCheck> {
    Ok(IdentityCheck {
        document: document_of(&r.get::<String, _>(0))?,
        note: r.get(1),
        checked_by: r.get(2),
        checked_by_name: r.get(3),
        checked_at: r.get(4),
    })
}

/// The identity check of a visit, if the visit exists.
pub async fn identity_check(
    db: &Db,
    tenant: &str,
    visit_id: &str,
) -> AppResult<Option<IdentityCheck>> {
    let r = sqlx::query(
        "SELECT document, note, checked_by, checked_by_name, checked_at FROM identity_checks
         WHERE tenant = $1 AND visit_id = $2",
    )
    .bind(tenant)
    .bind(visit_id)
    .fetch_optional(db.read())
    .await?;
    r.as_ref().map(check_of_row).transpose()
}

/// The life event of a visit (its code).
pub async fn life_event_of(db: &Db, tenant: &str, visit_id: &str) -> AppResult<String> {
    sqlx::query("SELECT life_event FROM visits WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(visit_id)
        .fetch_optional(db.read())
        .await?
        .map(|r| r.get(0))
        .ok_or(AppError::NotFound("visit"))
}

/// A visit with its identity check and its items' current status.
pub async fn get(db: &Db, tenant: &str, id: &str) -> AppResult<Visit> {
    let r = sqlx::query(
        "SELECT life_event, answers, resident_name, resident_kana, registry_id, department, created_by, created_at
         FROM visits WHERE tenant = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::NotFound("visit"))?;
    let identity = identity_check(db, tenant, id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("visit {id} has no identity check")))?;
    let items = sqlx::query(
        "SELECT i.seq, i.procedure_id, i.department, i.counter, i.application_id, a.status
         FROM visit_items i JOIN applications a ON a.tenant = i.tenant AND a.id = i.application_id
         WHERE i.tenant = $1 AND i.visit_id = $2 ORDER BY i.seq",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| {
        let status: String = r.get(5);
        Ok(VisitItem {
            seq: r.get(0),
            procedure_id: r.get(1),
            department: r.get(2),
            counter: r.get(3),
            application_id: r.get(4),
            status: Status::parse(&status).ok_or_else(|| anyhow::anyhow!("bad status {status}"))?,
        })
    })
    .collect::<AppResult<Vec<_>>>()?;
    Ok(Visit {
        id: id.to_string(),
        life_event: r.get(0),
        answers: db.open_json(tenant, &r.get::<String, _>(1))?,
        resident_name: r.get(2),
        resident_kana: r.get(3),
        registry_id: r.get(4),
        department: r.get(5),
        created_by: r.get(6),
        created_at: r.get(7),
        identity,
        items,
    })
}

/// A visit as a member of staff may reach it (another's is "not found"),
/// with the view audited: it is personal data.
pub async fn get_for_staff(
    db: &Db,
    staff: &CaseWorker,
    id: &str,
    action: &'static str,
) -> AppResult<Visit> {
    let v = match get(db, &staff.tenant, id).await {
        Err(AppError::NotFound(_)) => return Err(AppError::NotFound("visit")),
        other => other?,
    };
    if !v.visible_to(staff) {
        return Err(AppError::NotFound("visit"));
    }
    audit::record(
        db,
        &staff.tenant,
        AuditEntry::new(staff.actor(), action, format!("visit:{id}")),
    )
    .await?;
    Ok(v)
}

/// One line of the visit list.
#[derive(Clone, Debug, Serialize)]
pub struct VisitSummary {
    pub id: String,
    pub life_event: String,
    pub resident_name: String,
    pub resident_kana: String,
    pub created_at: i64,
    pub cases: i64,
    pub completed: i64,
}

/// How many visits the list shows.
pub const LIST_LIMIT: i64 = 100;

/// The latest visits this member of staff may see, newest first; audited.
/// `AND …` limiting visits to those the member of staff may see (their
/// desk's, or with a case in a department they see), with its arguments
/// after the tenant's.
fn visible_filter(staff: &CaseWorker, args: &mut Vec<String>) -> String {
    match staff.visible_departments() {
        None => String::new(),
        Some(departments) => {
            let marks: Vec<String> = departments
                .iter()
                .map(|d| {
                    args.push(d.to_string());
                    format!("${}", args.len())
                })
                .collect();
            let list = marks.join(", ");
            format!(
                " AND (v.department IN ({list}) OR EXISTS (SELECT 1 FROM visit_items i WHERE i.tenant = v.tenant AND i.visit_id = v.id AND i.department IN ({list})))"
            )
        }
    }
}

/// How many visits the member of staff may see were opened since `since`.
pub async fn count_since(db: &Db, staff: &CaseWorker, since: i64) -> AppResult<i64> {
    // $1 tenant, $2 since, then the departments.
    let mut args = vec![staff.tenant.clone(), String::new()];
    let filter = visible_filter(staff, &mut args);
    let sql =
        format!("SELECT COUNT(*) FROM visits v WHERE v.tenant = $1 AND v.created_at >= $2{filter}");
    let mut q = sqlx::query(&sql).bind(staff.tenant.as_str()).bind(since);
    for a in &args[2..] {
        q = q.bind(a.as_str());
    }
    Ok(q.fetch_one(db.read()).await?.get::<i64, _>(0))
}

pub async fn recent(db: &Db, staff: &CaseWorker) -> AppResult<Vec<VisitSummary>> {
    let mut sql = String::from(
        "SELECT v.id, v.life_event, v.resident_name, v.resident_kana, v.created_at,
           (SELECT COUNT(*) FROM visit_items i WHERE i.tenant = v.tenant AND i.visit_id = v.id),
           (SELECT COUNT(*) FROM visit_items i JOIN applications a ON a.tenant = i.tenant AND a.id = i.application_id
             WHERE i.tenant = v.tenant AND i.visit_id = v.id AND a.status = 'completed')
         FROM visits v WHERE v.tenant = $1",
    );
    let mut args: Vec<String> = vec![staff.tenant.clone()];
    sql.push_str(&visible_filter(staff, &mut args));
    sql.push_str(&format!(
        " ORDER BY v.created_at DESC, v.id LIMIT {LIST_LIMIT}"
    ));
    let mut q = sqlx::query(&sql);
    for a in &args {
        q = q.bind(a.as_str());
    }
    let items: Vec<VisitSummary> = q
        .fetch_all(db.read())
        .await?
        .iter()
        .map(|r| VisitSummary {
            id: r.get(0),
            life_event: r.get(1),
            resident_name: r.get(2),
            resident_kana: r.get(3),
            created_at: r.get(4),
            cases: r.get(5),
            completed: r.get(6),
        })
        .collect();
    audit::record(
        db,
        &staff.tenant,
        AuditEntry::new(staff.actor(), "visit.list", "visits")
            .detail(serde_json::json!({"count": items.len()})),
    )
    .await?;
    Ok(items)
}

/// The identity check in words: 「運転免許証（確認者：窓口 担当、令和8年…）」.
pub fn identity_summary(c: &IdentityCheck, lang: Lang) -> String {
    let mut doc = i18n::t(lang, &c.document.label_key()).to_string();
    if !c.note.is_empty() {
        doc = format!("{doc}（{}）", c.note);
    }
    i18n::tf(
        lang,
        "visit.identity_summary",
        &[
            ("document", &doc),
            ("by", &c.checked_by_name),
            ("at", &kernel::clock::format_in(lang, c.checked_at)),
        ],
    )
}

/// The identity check as JSON (the API's visit and case).
pub fn identity_json(c: &IdentityCheck, lang: Lang) -> serde_json::Value {
    serde_json::json!({
        "document": c.document,
        "document_label": i18n::t(lang, &c.document.label_key()),
        "note": c.note,
        "checked_by": c.checked_by,
        "checked_by_name": c.checked_by_name,
        "checked_at": kernel::clock::rfc3339_jst(c.checked_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::i18n::keys;

    #[test]
    fn documents() {
        for d in IdDocument::ALL {
            assert_eq!(IdDocument::parse(d.as_str()), Some(d));
            for lang in Lang::ALL {
                assert!(keys(lang).contains(&d.label_key()), "{}", d.label_key());
            }
        }
        assert_eq!(IdDocument::parse("library_card"), None);
    }
}
