//! The audit log for the security officer (and the system admin): the
//! page with filters and a check of the hash chain, and the API that
//! lists a target's entries. Each read is itself audited.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Json;
use kernel::audit;
use kernel::auth::SecurityOfficer;
use kernel::i18n::{self, Lang};
use kernel::web::{render, Page};
use kernel::{AppResult, Db};
use serde::Deserialize;
use serde_json::{json, Value};

struct AuditLine {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "staff_audit.html")]
struct AuditPage {
    page: Page,
    rows: Vec<AuditLine>,
    total: i64,
    f: kernel::audit::AuditFilter,
    verified: Option<String>,
    prev_link: String,
    next_link: String,
}

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    #[serde(flatten)]
    filter: kernel::audit::AuditFilter,
    #[serde(default)]
    verify: Option<String>,
}

/// The audit log, for security officers (and system administrators): read
/// only, filterable, with a check of the hash chain. Reading it is audited.
/// What the chain check found, in words.
async fn verify_text(db: &Db, tenant: &str, lang: Lang) -> AppResult<String> {
    Ok(match kernel::audit::verify(db, tenant).await? {
        kernel::audit::Verify::Intact { entries } => i18n::tf(
            lang,
            "staff.audit.intact",
            &[("entries", &entries.to_string())],
        ),
        kernel::audit::Verify::Broken { seq, reason } => i18n::tf(
            lang,
            "staff.audit.broken",
            &[("seq", &seq.to_string()), ("reason", reason)],
        ),
    })
}

impl AuditLine {
    fn new(lang: Lang, r: kernel::audit::AuditRow) -> AuditLine {
        AuditLine {
            seq: r.seq,
            at: kernel::clock::format_in(lang, r.at),
            actor: r.actor,
            action: r.action,
            target: r.target,
            detail: if r.detail == "null" {
                String::new()
            } else {
                r.detail
            },
        }
    }
}

pub async fn audit_page(
    State(db): State<Db>,
    staff: SecurityOfficer,
    Query(q): Query<AuditQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let (rows, total) = kernel::audit::search(&db, &staff.tenant, &q.filter).await?;
    let verified = match q.verify {
        Some(_) => Some(verify_text(&db, &staff.tenant, lang).await?),
        None => None,
    };
    kernel::audit::record(
        &db,
        &staff.tenant,
        kernel::audit::AuditEntry::new(staff.actor(), "audit.view", "audit_log")
            .detail(serde_json::json!({"verify": q.verify.is_some(), "count": rows.len()})),
    )
    .await?;
    let page_no = q.filter.page.unwrap_or(1).max(1);
    let tenant = staff.tenant.clone();
    let link = |page: u32| {
        let qs = serde_urlencoded::to_string([
            ("actor", q.filter.actor.clone().unwrap_or_default()),
            ("action", q.filter.action.clone().unwrap_or_default()),
            ("target", q.filter.target.clone().unwrap_or_default()),
            ("page", page.to_string()),
        ])
        .unwrap_or_default();
        format!("/t/{tenant}/staff/audit?{qs}")
    };
    let pages = (total + kernel::audit::AUDIT_PAGE_SIZE - 1) / kernel::audit::AUDIT_PAGE_SIZE;
    let page = kernel::web::staff_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "staff.audit.title"),
        format!("/t/{}/staff/audit", staff.tenant),
    );
    Ok(render(&AuditPage {
        rows: rows.into_iter().map(|r| AuditLine::new(lang, r)).collect(),
        total,
        verified,
        prev_link: if page_no > 1 {
            link(page_no - 1)
        } else {
            String::new()
        },
        next_link: if i64::from(page_no) < pages {
            link(page_no + 1)
        } else {
            String::new()
        },
        f: q.filter,
        page,
    }))
}

#[derive(Deserialize)]
pub struct AuditApiQuery {
    target: String,
    /// Also walk the tenant's whole hash chain (slow on a long log).
    #[serde(default)]
    verify: bool,
}

pub async fn audit_api(
    State(db): State<Db>,
    staff: SecurityOfficer,
    Query(q): Query<AuditApiQuery>,
) -> AppResult<Json<Value>> {
    let rows = audit::for_target(&db, &staff.tenant, &q.target).await?;
    let mut out = json!({ "items": rows });
    if q.verify {
        out["chain_intact"] = Value::Bool(matches!(
            audit::verify(&db, &staff.tenant).await?,
            audit::Verify::Intact { .. }
        ));
    }
    Ok(Json(out))
}
