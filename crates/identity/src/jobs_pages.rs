//! ジョブ: the system administrator's page and API over the job queue
//! (`kernel::jobs`): the municipality's queued, running and failed jobs,
//! with 再実行 for a failed one and 取消 for a queued one (POST forms, each
//! audited). Deployment-wide jobs are the operator's, not on this page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use kernel::auth::SystemAdmin;
use kernel::i18n::{self, Lang};
use kernel::jobs::admin::{self, Action, Overview};
use kernel::jobs::store::JobRow;
use kernel::web::{render, Page};
use kernel::{AppResult, Db};
use serde_json::{json, Value};

/// One job as a row of the page.
struct JobLine {
    id: String,
    kind: String,
    attempts: String,
    run_at: String,
    error: String,
}

impl JobLine {
    fn new(lang: Lang, j: &JobRow) -> Self {
        Self {
            id: j.id.to_string(),
            kind: j.kind.clone(),
            attempts: format!("{} / {}", j.attempts, j.max_attempts),
            run_at: kernel::clock::format_in(lang, j.run_at),
            error: j.last_error.clone().unwrap_or_default(),
        }
    }
}

/// A state and how many jobs are in it.
struct CountLine {
    label: String,
    count: i64,
}

#[derive(Template)]
#[template(path = "staff_jobs.html")]
struct JobsPage {
    page: Page,
    notice: String,
    counts: Vec<CountLine>,
    queued: Vec<JobLine>,
    running: Vec<JobLine>,
    failed: Vec<JobLine>,
}

async fn page(db: &Db, admin: &SystemAdmin, lang: Lang, notice: String) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &admin.tenant).await?;
    let o: Overview = admin::overview(db, admin).await?;
    let lines = |v: &[JobRow]| v.iter().map(|j| JobLine::new(lang, j)).collect();
    let page = kernel::web::staff_page(
        lang,
        &t,
        admin,
        i18n::t(lang, "staff.jobs.title"),
        format!("/t/{}/staff/jobs", admin.tenant),
    );
    Ok(render(&JobsPage {
        notice,
        counts: o
            .counts
            .iter()
            .map(|c| CountLine {
                label: i18n::t(lang, c.state.label_key()).to_string(),
                count: c.count,
            })
            .collect(),
        queued: lines(&o.queued),
        running: lines(&o.running),
        failed: lines(&o.failed),
        page,
    }))
}

pub async fn jobs_page(
    State(db): State<Db>,
    admin: SystemAdmin,
    lang: Lang,
) -> AppResult<Response> {
    page(&db, &admin, lang, String::new()).await
}

/// 再実行 or 取消 from the page's forms; the page again with what was done.
async fn act_page(
    db: &Db,
    admin: &SystemAdmin,
    lang: Lang,
    id: &str,
    action: Action,
) -> AppResult<Response> {
    let job = admin::act(db, admin, id, action).await?;
    let key = match action {
        Action::Retry => "staff.jobs.retried",
        Action::Cancel => "staff.jobs.cancelled",
    };
    let notice = i18n::tf(lang, key, &[("kind", &job.kind), ("id", job.id.as_str())]);
    page(db, admin, lang, notice).await
}

pub async fn retry_post(
    State(db): State<Db>,
    admin: SystemAdmin,
    lang: Lang,
    Path((_tenant, id)): Path<(String, String)>,
) -> AppResult<Response> {
    act_page(&db, &admin, lang, &id, Action::Retry).await
}

pub async fn cancel_post(
    State(db): State<Db>,
    admin: SystemAdmin,
    lang: Lang,
    Path((_tenant, id)): Path<(String, String)>,
) -> AppResult<Response> {
    act_page(&db, &admin, lang, &id, Action::Cancel).await
}

pub async fn jobs_api(State(db): State<Db>, admin: SystemAdmin) -> AppResult<Json<Value>> {
    Ok(Json(json!(admin::overview(&db, &admin).await?)))
}

pub async fn retry_api(
    State(db): State<Db>,
    admin: SystemAdmin,
    Path((_tenant, id)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    Ok(Json(json!(
        admin::act(&db, &admin, &id, Action::Retry).await?
    )))
}

pub async fn cancel_api(
    State(db): State<Db>,
    admin: SystemAdmin,
    Path((_tenant, id)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    Ok(Json(json!(
        admin::act(&db, &admin, &id, Action::Cancel).await?
    )))
}
