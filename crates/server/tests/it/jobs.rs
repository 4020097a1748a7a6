//! The durable job queue (`kernel::jobs`): every job done exactly once by
//! two servers on one PostgreSQL, retries with backoff then the dead
//! letter with its error, panics retried, dedupe keys, a job whose worker
//! died picked up again and never done twice, schedules once per slot
//! across servers, and the system administrator's page and API (retry,
//! cancel, audited, one municipality's jobs only).
//!
//! The test kinds are registered on runners the tests start over each
//! server's own database handle; a server's own workers run only the
//! kinds it registers (housekeeping), so they never take these.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kernel::jobs::store::{self, AfterFailure};
use kernel::jobs::{
    enqueue, enqueue_now, Every, JobContext, JobError, JobSpec, Registry, RetryPolicy, Runner,
    RunnerOptions, Schedule,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use testkit::{Backend, TestApp};

const T: &str = "122289";
const OTHER: &str = "242021";
const COUNT: &str = "test.count";

/// How often each job id ran, and on which server.
type Runs = Arc<Mutex<HashMap<String, Vec<&'static str>>>>;

fn counting(server: &'static str, runs: &Runs) -> Registry {
    let runs = runs.clone();
    Registry::new().handle(COUNT, move |ctx: JobContext, _| {
        let runs = runs.clone();
        async move {
            runs.lock()
                .unwrap()
                .entry(ctx.job_id.to_string())
                .or_default()
                .push(server);
            Ok::<(), JobError>(())
        }
    })
}

fn options(workers: usize) -> RunnerOptions {
    RunnerOptions {
        workers,
        poll: Duration::from_millis(50),
        lease: Duration::from_secs(30),
    }
}

/// A runner whose workers the test drives itself (`run_one`).
async fn manual(app: &TestApp, registry: Registry) -> Runner {
    Runner::start(app.app.db.clone(), registry, options(0))
        .await
        .unwrap()
}

async fn job(app: &TestApp, tenant: &str, id: &str) -> store::JobRow {
    store::get(&app.app.db, tenant, id).await.unwrap().unwrap()
}

async fn body(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

async fn enqueue_many(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for chunk in 0..n.div_ceil(100) {
        let mut tx = app.app.db.begin().await.unwrap();
        for i in chunk * 100..((chunk + 1) * 100).min(n) {
            let spec = JobSpec::new(T, COUNT, json!({"n": i}));
            ids.push(enqueue(&mut tx, spec).await.unwrap().unwrap().to_string());
        }
        tx.commit().await.unwrap();
    }
    ids
}

async fn wait_done(app: &TestApp, n: i64) {
    let sql = format!("SELECT COUNT(*) FROM jobs WHERE kind = '{COUNT}' AND state = 'done'");
    for _ in 0..1200 {
        if app.count(&sql).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} of {n} jobs done after 60 s", app.count(&sql).await);
}

/// 1,000 jobs, two servers with two workers each over one PostgreSQL:
/// every job done, each exactly once, by both servers between them. On
/// SQLite one process is the only supported shape (one writer): the same
/// 1,000 jobs with four workers in it.
async fn each_job_done_exactly_once(app: &TestApp) {
    let runs: Runs = Default::default();
    let ids = enqueue_many(app, 1000).await;
    let started = std::time::Instant::now();
    let peer = match app.backend {
        Backend::Postgres => {
            let peer = app.peer().await;
            Runner::start(app.app.db.clone(), counting("a", &runs), options(2))
                .await
                .unwrap();
            Runner::start(peer.app.db.clone(), counting("b", &runs), options(2))
                .await
                .unwrap();
            Some(peer)
        }
        Backend::Sqlite => {
            Runner::start(app.app.db.clone(), counting("a", &runs), options(4))
                .await
                .unwrap();
            None
        }
    };
    wait_done(app, 1000).await;
    eprintln!(
        "1000 jobs on {:?} done in {} ms",
        app.backend,
        started.elapsed().as_millis()
    );
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 1000);
    for id in &ids {
        assert_eq!(runs.get(id).map(Vec::len), Some(1), "job {id} ran once");
    }
    if peer.is_some() {
        let by_b = runs.values().filter(|v| v[0] == "b").count();
        assert!(by_b > 0 && by_b < 1000, "both servers worked: b ran {by_b}");
    }
    // Done jobs are never claimed again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'test.count' AND attempts <> 1")
            .await,
        0
    );
}

/// A job that keeps failing is retried after 200 ms, then after 300 ms
/// (400 capped), then kept as failed with its error; the page and the API
/// show it.
async fn failing_job_backs_off_then_dead_letters(app: &TestApp) {
    let policy = RetryPolicy {
        max_attempts: 3,
        base_ms: 200,
        cap_ms: 300,
    };
    let runner = manual(
        app,
        Registry::new().handle_with("test.fail", policy, |_, _| async {
            Err::<(), _>(JobError("印刷サーバーに接続できません".into()))
        }),
    )
    .await;
    let id = enqueue_now(&app.app.db, JobSpec::new(T, "test.fail", json!({})))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    let before = kernel::clock::now_ms();
    assert!(runner.run_one().await.unwrap());
    let after = kernel::clock::now_ms();
    let j = job(app, T, &id).await;
    assert_eq!(j.state, kernel::jobs::JobState::Queued);
    assert_eq!(j.attempts, 1);
    assert!(
        j.run_at >= before + 200 && j.run_at <= after + 200,
        "1st wait 200 ms"
    );
    assert_eq!(
        j.last_error.as_deref(),
        Some("印刷サーバーに接続できません")
    );
    // Not due yet.
    assert!(!runner.run_one().await.unwrap());
    tokio::time::sleep(Duration::from_millis(250)).await;
    let before = kernel::clock::now_ms();
    assert!(runner.run_one().await.unwrap());
    let after = kernel::clock::now_ms();
    let j = job(app, T, &id).await;
    assert_eq!((j.state, j.attempts), (kernel::jobs::JobState::Queued, 2));
    assert!(
        j.run_at >= before + 300 && j.run_at <= after + 300,
        "2nd wait capped at 300 ms"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(runner.run_one().await.unwrap());
    let j = job(app, T, &id).await;
    assert_eq!(
        (j.state, j.attempts, j.max_attempts),
        (kernel::jobs::JobState::Failed, 3, 3)
    );
    assert!(j.finished_at.is_some());
    // The dead letter is not claimed again.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(!runner.run_one().await.unwrap());

    let admin = app.staff(T, "dx-admin").await;
    let html = admin
        .get(app.url(&format!("/t/{T}/staff/jobs")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("test.fail") && html.contains("印刷サーバーに接続できません"));
    assert!(html.contains(&format!("/t/{T}/staff/jobs/{id}/retry")));
    let api = body(
        admin
            .get(app.url(&format!("/api/v1/t/{T}/staff/jobs")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(api["failed"][0]["id"], id.as_str());
    assert_eq!(api["failed"][0]["attempts"], 3);
    assert_eq!(
        api["failed"][0]["last_error"],
        "印刷サーバーに接続できません"
    );
    let failed = api["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["state"] == "failed")
        .unwrap();
    assert_eq!(failed["count"], 1);
}

/// A handler that panics is a failed attempt with the panic's message,
/// retried (and done the second time); one that always panics ends as
/// failed. Nothing is lost, nothing runs after it is done.
async fn panicking_job_is_retried(app: &TestApp) {
    let runs = Arc::new(Mutex::new(0));
    let policy = RetryPolicy {
        max_attempts: 2,
        base_ms: 0,
        cap_ms: 0,
    };
    let r = runs.clone();
    let runner = manual(
        app,
        Registry::new()
            .handle_with("test.panic_once", policy, move |ctx: JobContext, _| {
                let r = r.clone();
                async move {
                    *r.lock().unwrap() += 1;
                    if ctx.attempt == 1 {
                        panic!("番号が見つかりません");
                    }
                    Ok::<(), JobError>(())
                }
            })
            .handle_with("test.panic", policy, |_, _| async {
                if true {
                    panic!("always");
                }
                Ok::<(), JobError>(())
            }),
    )
    .await;
    let once = enqueue_now(&app.app.db, JobSpec::new(T, "test.panic_once", json!({})))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    assert!(runner.run_one().await.unwrap());
    let j = job(app, T, &once).await;
    assert_eq!((j.state, j.attempts), (kernel::jobs::JobState::Queued, 1));
    assert_eq!(j.last_error.as_deref(), Some("panic: 番号が見つかりません"));
    assert!(runner.run_one().await.unwrap());
    let j = job(app, T, &once).await;
    assert_eq!((j.state, j.attempts), (kernel::jobs::JobState::Done, 2));
    assert!(!runner.run_one().await.unwrap());
    assert_eq!(*runs.lock().unwrap(), 2);

    let always = enqueue_now(&app.app.db, JobSpec::new(T, "test.panic", json!({})))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    assert!(runner.run_one().await.unwrap());
    assert!(runner.run_one().await.unwrap());
    assert!(!runner.run_one().await.unwrap());
    let j = job(app, T, &always).await;
    assert_eq!((j.state, j.attempts), (kernel::jobs::JobState::Failed, 2));
    assert_eq!(j.last_error.as_deref(), Some("panic: always"));
}

/// A second enqueue with the same key while the first is queued is a
/// no-op (None); another tenant's key is its own; once the first is done
/// the key may be used again.
async fn dedupe_keys(app: &TestApp) {
    let runs: Runs = Default::default();
    let runner = manual(app, counting("a", &runs)).await;
    let spec = |tenant: &str| JobSpec::new(tenant, COUNT, json!({})).dedupe("mail:R0001");
    let first = enqueue_now(&app.app.db, spec(T)).await.unwrap();
    assert!(first.is_some());
    assert_eq!(enqueue_now(&app.app.db, spec(T)).await.unwrap(), None);
    let mut tx = app.app.db.begin().await.unwrap();
    assert_eq!(enqueue(&mut tx, spec(T)).await.unwrap(), None);
    tx.commit().await.unwrap();
    assert!(enqueue_now(&app.app.db, spec(OTHER))
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE dedupe_key = 'mail:R0001'")
            .await,
        2
    );
    assert!(runner.run_one().await.unwrap());
    assert!(runner.run_one().await.unwrap());
    assert!(!runner.run_one().await.unwrap());
    let again = enqueue_now(&app.app.db, spec(T)).await.unwrap();
    assert!(again.is_some() && again != first);
}

/// A running job that lets go of its dedupe key (`release_dedupe`, as a
/// mail delivery run does before it claims): work enqueued under the key
/// meanwhile gets a job of its own; while it holds the key, none.
async fn running_job_releases_its_dedupe_key(app: &TestApp) {
    let spec = || JobSpec::new(T, COUNT, json!({})).dedupe("queued");
    let first = enqueue_now(&app.app.db, spec()).await.unwrap().unwrap();
    let now = kernel::clock::now_ms();
    let running = store::claim(&app.app.db, &[COUNT], "w/1", now, 60_000)
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(running.id, first);
    assert_eq!(enqueue_now(&app.app.db, spec()).await.unwrap(), None);
    kernel::jobs::release_dedupe(&app.app.db, T, &first)
        .await
        .unwrap();
    let second = enqueue_now(&app.app.db, spec()).await.unwrap();
    assert!(second.is_some() && second.as_ref() != Some(&first));
    // The new one holds the key while queued.
    assert_eq!(enqueue_now(&app.app.db, spec()).await.unwrap(), None);
}

/// A worker that claimed a job and died: the job is claimed again once
/// its lease runs out and done once; the dead worker's late outcome is
/// refused (it no longer holds the lease), and a done job is never run
/// again.
async fn expired_lease_is_claimed_again_once(app: &TestApp) {
    let runs: Runs = Default::default();
    let runner = manual(app, counting("a", &runs)).await;
    let id = enqueue_now(&app.app.db, JobSpec::new(T, COUNT, json!({})))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    let now = kernel::clock::now_ms();
    let dead = store::claim(&app.app.db, &[COUNT], "dead/1", now, 200)
        .await
        .unwrap()
        .expect("the dead worker's claim");
    assert_eq!(dead.id.as_str(), id);
    // Still leased: nobody else takes it.
    assert!(!runner.run_one().await.unwrap());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(runner.run_one().await.unwrap());
    let j = job(app, T, &id).await;
    assert_eq!((j.state, j.attempts), (kernel::jobs::JobState::Done, 2));
    // The dead worker wakes up: neither its success nor its failure counts.
    let later = kernel::clock::now_ms();
    assert!(!store::complete(&app.app.db, &dead, later).await.unwrap());
    assert!(!store::fail(
        &app.app.db,
        &dead,
        "late",
        AfterFailure::DeadLetter,
        5,
        later
    )
    .await
    .unwrap());
    assert!(!store::heartbeat(&app.app.db, &dead, later + 1000)
        .await
        .unwrap());
    assert_eq!(job(app, T, &id).await.state, kernel::jobs::JobState::Done);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!runner.run_one().await.unwrap());
    assert_eq!(runs.lock().unwrap().get(&id).map(Vec::len), Some(1));
}

/// A schedule's slot is enqueued once however many servers see it due at
/// the same moment (two servers over one PostgreSQL; on SQLite two
/// runners in one process, the supported shape), 20 slots in a row.
async fn schedule_runs_once_per_slot(app: &TestApp) {
    let runs: Runs = Default::default();
    let schedule = Schedule {
        name: "test.every_minute",
        every: Every::Minutes(1),
        kind: COUNT,
        payload: json!({}),
    };
    let peer = match app.backend {
        Backend::Postgres => Some(app.peer().await),
        Backend::Sqlite => None,
    };
    let db_b = peer
        .as_ref()
        .map_or(app.app.db.clone(), |p| p.app.db.clone());
    let a = manual(app, counting("a", &runs).schedule(schedule.clone())).await;
    let b = Runner::start(db_b, counting("b", &runs).schedule(schedule), options(0))
        .await
        .unwrap();
    let next: i64 = app
        .count("SELECT next_run_at FROM job_schedules WHERE name = 'test.every_minute'")
        .await;
    assert_eq!(next % 60_000, 0, "slots are whole minutes");
    assert!(next > kernel::clock::now_ms());
    let mut slots = Vec::new();
    for round in 0..20_i64 {
        // The slot came (as if a minute passed): one minute ago, a new one each round.
        let slot = (kernel::clock::now_ms() / 60_000 - 1 - round) * 60_000;
        slots.push(slot);
        sqlx::query("UPDATE job_schedules SET next_run_at = $1 WHERE name = 'test.every_minute'")
            .bind(slot)
            .execute(app.app.db.write())
            .await
            .unwrap();
        let (x, y) = tokio::join!(a.schedule_once(), b.schedule_once());
        assert_eq!(
            x.unwrap() + y.unwrap(),
            1,
            "round {round}: one server enqueued the slot"
        );
        let (x, y) = tokio::join!(a.schedule_once(), b.schedule_once());
        assert_eq!(
            x.unwrap() + y.unwrap(),
            0,
            "round {round}: nothing more is due"
        );
    }
    let rows = sqlx::query("SELECT tenant, dedupe_key FROM jobs WHERE kind = $1")
        .bind(COUNT)
        .fetch_all(app.app.db.read())
        .await
        .unwrap();
    assert!(
        rows.iter().all(|r| r.get::<String, _>(0).is_empty()),
        "deployment jobs"
    );
    let mut keys: Vec<String> = rows.iter().map(|r| r.get(1)).collect();
    keys.sort();
    let mut expected: Vec<String> = slots
        .iter()
        .map(|s| format!("test.every_minute@{s}"))
        .collect();
    expected.sort();
    assert_eq!(keys, expected, "one job per slot");
    let next: i64 = app
        .count("SELECT next_run_at FROM job_schedules WHERE name = 'test.every_minute'")
        .await;
    assert!(next > kernel::clock::now_ms(), "advanced past now");
    drop(peer);
}

/// Posts a form of the jobs page with its CSRF token.
async fn post_page(app: &TestApp, c: &reqwest::Client, action: &str) -> reqwest::Response {
    let token = app.csrf(c, &format!("/t/{T}/staff/jobs")).await;
    c.post(app.url(action))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap()
}

/// The system administrator retries a failed job and cancels a queued
/// one from the page (each audited); a job in another state is 409; a
/// clerk is 403; a form without its CSRF token changes nothing.
async fn page_retries_and_cancels(app: &TestApp) {
    let policy = RetryPolicy {
        max_attempts: 1,
        base_ms: 0,
        cap_ms: 0,
    };
    let runner = manual(
        app,
        Registry::new().handle_with("test.fail", policy, |_, _| async {
            Err::<(), _>(JobError("宛先がありません".into()))
        }),
    )
    .await;
    let id = enqueue_now(&app.app.db, JobSpec::new(T, "test.fail", json!({})))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    assert!(runner.run_one().await.unwrap());
    assert_eq!(job(app, T, &id).await.state, kernel::jobs::JobState::Failed);

    let clerk = app.staff(T, "clerk").await;
    let r = clerk
        .get(app.url(&format!("/t/{T}/staff/jobs")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = clerk
        .post(app.url(&format!("/api/v1/t/{T}/staff/jobs/{id}/retry")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let admin = app.staff(T, "dx-admin").await;
    let retry = format!("/t/{T}/staff/jobs/{id}/retry");
    let r = admin
        .post(app.url(&retry))
        .form(&[("_csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(job(app, T, &id).await.state, kernel::jobs::JobState::Failed);

    let r = post_page(app, &admin, &retry).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(
        "ジョブ test.fail（{id}）を再実行の待機に戻しました。"
    )));
    assert!(html.contains(&format!("/t/{T}/staff/jobs/{id}/cancel")));
    let j = job(app, T, &id).await;
    assert_eq!((j.state, j.attempts), (kernel::jobs::JobState::Queued, 0));
    // Retrying a queued job: 409, nothing changes.
    let r = post_page(app, &admin, &retry).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let cancel = format!("/t/{T}/staff/jobs/{id}/cancel");
    let r = post_page(app, &admin, &cancel).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains(&format!("ジョブ test.fail（{id}）を取り消しました。")));
    assert_eq!(
        job(app, T, &id).await.state,
        kernel::jobs::JobState::Cancelled
    );
    // A cancelled job does not run.
    assert!(!runner.run_one().await.unwrap());
    let r = admin
        .post(app.url(&format!("/api/v1/t/{T}/staff/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(body(r).await["error"]["code"], "MDG-409-job_state");
    let audited = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND target = 'job:{id}' \
             AND action IN ('job.retry', 'job.cancel') AND actor = 'staff:dx-admin'"
        ))
        .await;
    assert_eq!(audited, 2);

    // The API's retry on a failed job answers the job, queued.
    let again = enqueue_now(&app.app.db, JobSpec::new(T, "test.fail", json!({})))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    assert!(runner.run_one().await.unwrap());
    let r = admin
        .post(app.url(&format!("/api/v1/t/{T}/staff/jobs/{again}/retry")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let j = body(r).await;
    assert_eq!(
        (j["state"].as_str(), j["attempts"].as_i64()),
        (Some("queued"), Some(0))
    );
}

/// A municipality's administrator sees only its own jobs: another city's
/// job is not listed and is 404 to retry or cancel (page and API), as if
/// it did not exist, and changes nothing; deployment-wide jobs (the
/// housekeeping queued at start, tenant '') are on no city's page.
async fn other_tenants_jobs_are_invisible(app: &TestApp) {
    let theirs = enqueue_now(&app.app.db, JobSpec::new(OTHER, "test.other", json!({})))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    let ours = enqueue_now(&app.app.db, JobSpec::new(T, "test.ours", json!({})))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    assert!(
        app.count("SELECT COUNT(*) FROM jobs WHERE tenant = ''")
            .await
            >= 3,
        "housekeeping queued as the server started"
    );
    let admin = app.staff(T, "dx-admin").await;
    let api = body(
        admin
            .get(app.url(&format!("/api/v1/t/{T}/staff/jobs")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let listed: Vec<&str> = ["queued", "running", "failed"]
        .iter()
        .flat_map(|s| api[s].as_array().unwrap())
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ours.as_str()]);
    let html = admin
        .get(app.url(&format!("/t/{T}/staff/jobs")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("test.ours"));
    assert!(!html.contains("test.other") && !html.contains(&theirs));
    assert!(!html.contains("housekeeping."));

    for action in ["retry", "cancel"] {
        let r = admin
            .post(app.url(&format!("/api/v1/t/{T}/staff/jobs/{theirs}/{action}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(body(r).await["error"]["code"], "MDG-404-job");
        let r = post_page(app, &admin, &format!("/t/{T}/staff/jobs/{theirs}/{action}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        job(app, OTHER, &theirs).await.state,
        kernel::jobs::JobState::Queued
    );
    // Our administrator has no session in the other city.
    let r = admin
        .get(app.url(&format!("/api/v1/t/{OTHER}/staff/jobs")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

testkit::on_both_backends!(
    each_job_done_exactly_once,
    failing_job_backs_off_then_dead_letters,
    panicking_job_is_retried,
    dedupe_keys,
    running_job_releases_its_dedupe_key,
    expired_lease_is_claimed_again_once,
    schedule_runs_once_per_slot,
    page_retries_and_cancels,
    other_tenants_jobs_are_invisible,
);
