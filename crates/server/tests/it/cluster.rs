//! Several real `madoguchi serve` processes on one PostgreSQL
//! (`testkit::cluster`), reached the way a load balancer reaches them.
//! PostgreSQL only: on SQLite one process is the only supported shape, so
//! these tests have no SQLite variant (they are skipped, loudly, without
//! `MADOGUCHI_TEST_POSTGRES_URL`, which CI requires).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use testkit::cluster::Cluster;

const T: &str = "122289";
const SUBMIT: &str = "/api/v1/t/122289/procedures/juminhyo-copy/applications";

fn binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_madoguchi"))
}

fn answers() -> Value {
    json!({"answers": {"applicant": {"name": "山田 太郎", "kana": "やまだ たろう"},
        "scope": "individual", "copies": "1", "purpose": "employment", "delivery": "counter"}})
}

/// A client like a browser: keeps cookies (for every port of 127.0.0.1,
/// as a browser does for one host name behind a load balancer), does not
/// follow redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn text(r: reqwest::Response) -> String {
    r.text().await.unwrap()
}

/// Signs a resident in with the My Number card (development identity
/// provider): the sign-in page from server `page`, the form posted to
/// server `post`. Returns the `mdg_resident=…` cookie.
async fn sign_in_resident(c: &reqwest::Client, cl: &Cluster, page: usize, post: usize) -> String {
    let html = text(
        c.get(cl.url(page, &format!("/t/{T}/sign-in")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let token = testkit::csrf_in(&html).expect("CSRF token on the sign-in page");
    let r = c
        .post(cl.url(post, &format!("/t/{T}/sign-in/dev")))
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "四街道 花子"),
            ("address", "千葉県四街道市鹿渡無番地"),
            ("birthdate", "1990-04-01"),
            ("gender", "female"),
            ("level", "my_number_card"),
            ("return_to", &format!("/t/{T}")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "dev sign-in");
    testkit::set_cookie(&r, "mdg_resident").expect("resident session cookie")
}

/// One submission to the server at `base`.
async fn submit(
    c: &reqwest::Client,
    base: &str,
    cookie: &str,
    key: &str,
) -> reqwest::Result<reqwest::Response> {
    c.post(format!("{base}{SUBMIT}"))
        .header("idempotency-key", key)
        .header("cookie", cookie)
        .json(&answers())
        .send()
        .await
}

/// The load balancer in front of the servers: round robin over the servers
/// it believes up. A server is taken out when a connection to it fails
/// (passive check) or its `/healthz` does not answer 200 (active check,
/// every 100 ms), and put back when `/healthz` answers 200 again.
struct Balancer {
    bases: Vec<String>,
    up: Vec<AtomicBool>,
    next: AtomicUsize,
}

impl Balancer {
    fn pick(&self) -> Option<usize> {
        let n = self.bases.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| self.up[i].load(Ordering::Relaxed))
    }

    async fn check_health(self: Arc<Self>, stop: Arc<AtomicBool>) {
        let c = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        while !stop.load(Ordering::Relaxed) {
            for (i, base) in self.bases.iter().enumerate() {
                let ok = c
                    .get(format!("{base}/healthz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == StatusCode::OK);
                self.up[i].store(ok, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// What the clients saw: each answer with the server that gave it.
#[derive(Default)]
struct Record {
    /// key → (server, receipt number, replayed, when).
    acks: HashMap<String, (usize, String, bool, Instant)>,
    /// (server, when, what) for every attempt without a 2xx answer.
    failures: Vec<(usize, Instant, String)>,
}

/// A resident's client behind the load balancer: submits one case after
/// another, each with its own idempotency key; an attempt that fails
/// (connection refused or cut, a 5xx) is sent again with the same key to
/// whichever server the balancer picks, until a 2xx receipt comes back.
/// Stops starting new submissions when `stop` is set.
async fn client_loop(
    id: usize,
    lb: Arc<Balancer>,
    cookie: String,
    record: Arc<Mutex<Record>>,
    stop: Arc<AtomicBool>,
) {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let key = format!("cluster-{id:04}-{n:08}");
        let mut attempts = 0;
        loop {
            attempts += 1;
            assert!(attempts < 500, "{key}: no server answered");
            let Some(i) = lb.pick() else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            match submit(&c, &lb.bases[i], &cookie, &key).await {
                Ok(r) if r.status() == StatusCode::CREATED || r.status() == StatusCode::OK => {
                    let replayed = r.status() == StatusCode::OK;
                    let v: Value = r.json().await.unwrap();
                    assert_eq!(v["replayed"], json!(replayed), "{v}");
                    let receipt = v["id"].as_str().unwrap().to_string();
                    record
                        .lock()
                        .unwrap()
                        .acks
                        .insert(key.clone(), (i, receipt, replayed, Instant::now()));
                    break;
                }
                Ok(r) if r.status().is_server_error() => {
                    let what = format!("{}: {}", r.status(), r.text().await.unwrap_or_default());
                    record
                        .lock()
                        .unwrap()
                        .failures
                        .push((i, Instant::now(), what));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(r) => panic!("{key}: {} {}", r.status(), r.text().await.unwrap()),
                Err(e) => {
                    if e.is_connect() {
                        lb.up[i].store(false, Ordering::Relaxed);
                    }
                    record
                        .lock()
                        .unwrap()
                        .failures
                        .push((i, Instant::now(), error_chain(&e)));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// An error with its causes (reqwest's own message names only the URL).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Waits until `cond` holds for what was recorded (at most 90 s).
async fn wait_for(record: &Mutex<Record>, what: &str, cond: impl Fn(&Record) -> bool) {
    let started = Instant::now();
    while !cond(&record.lock().unwrap()) {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn acks_on(r: &Record, server: usize, after: Instant) -> usize {
    r.acks
        .values()
        .filter(|(s, _, _, at)| *s == server && *at >= after)
        .count()
}

/// Two servers on one PostgreSQL take submissions from eight clients
/// through a load balancer; one server is killed (SIGKILL) in the middle
/// and started again. Every 2xx receipt is in the database exactly once
/// (the idempotency key retried on the other server finds a case the
/// killed one committed but never answered), the other server answers
/// every request sent to it after the kill, and the restarted server
/// serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_server_under_submission_load_loses_no_acknowledged_submission() {
    let Some(mut cl) = Cluster::start(binary(), 2).await else {
        return;
    };
    let c = browser();
    // The session made through server 0 is good on server 1; a key sent to
    // both gives one case, replayed by the second server.
    let cookie = sign_in_resident(&c, &cl, 0, 0).await;
    let api = reqwest::Client::new();
    let r = submit(&api, cl.base(1), &cookie, "cluster-both-servers")
        .await
        .unwrap();
    let status = r.status();
    let first: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let r = submit(&api, cl.base(0), &cookie, "cluster-both-servers")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["replayed"], json!(true));
    assert_eq!(again["id"], first["id"]);

    let lb = Arc::new(Balancer {
        bases: (0..cl.len()).map(|i| cl.base(i).to_string()).collect(),
        up: (0..cl.len()).map(|_| AtomicBool::new(true)).collect(),
        next: AtomicUsize::new(0),
    });
    let record = Arc::new(Mutex::new(Record::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let stop_health = Arc::new(AtomicBool::new(false));
    let health = tokio::spawn(lb.clone().check_health(stop_health.clone()));
    let clients: Vec<_> = (0..8)
        .map(|id| {
            tokio::spawn(client_loop(
                id,
                lb.clone(),
                cookie.clone(),
                record.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let began = Instant::now();
    wait_for(&record, "both servers answering", |r| {
        acks_on(r, 0, began) >= 20 && acks_on(r, 1, began) >= 20
    })
    .await;

    // SIGKILL server 1 with submissions in flight.
    let killed_at = Instant::now();
    cl.kill(1);
    wait_for(&record, "server 0 answering after the kill", |r| {
        acks_on(r, 0, killed_at) >= 60
    })
    .await;

    // Started again on its port: the balancer's health check takes it back.
    let restarting = Instant::now();
    cl.restart(1).await;
    let restarted_at = Instant::now();
    wait_for(&record, "server 1 answering after its restart", |r| {
        acks_on(r, 1, restarted_at) >= 20
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for t in clients {
        t.await.unwrap();
    }
    stop_health.store(true, Ordering::Relaxed);
    health.await.unwrap();

    let record = Arc::try_unwrap(record).ok().unwrap().into_inner().unwrap();
    let sent_to_0_after_kill = acks_on(&record, 0, killed_at)
        + record
            .failures
            .iter()
            .filter(|(s, at, _)| *s == 0 && *at >= killed_at)
            .count();
    let failed_on_0: Vec<_> = record.failures.iter().filter(|(s, ..)| *s == 0).collect();
    let failed_on_1 = record.failures.iter().filter(|(s, ..)| *s == 1).count();
    let replayed = record.acks.values().filter(|a| a.2).count();
    eprintln!(
        "cluster: {} submissions acknowledged ({} replayed after a failed attempt); \
         server 0 after the kill: {} of {} answered 2xx; {} attempts on server 1 failed \
         (in flight at the kill, or sent before the balancer took it out); \
         server 1 healthy {} ms after its restart began",
        record.acks.len(),
        replayed,
        acks_on(&record, 0, killed_at),
        sent_to_0_after_kill,
        failed_on_1,
        restarted_at.duration_since(restarting).as_millis()
    );
    for (s, at, what) in &record.failures {
        eprintln!(
            "  server {s}, {} ms after the kill: {what}",
            at.duration_since(killed_at).as_millis()
        );
    }
    // The surviving server answered every request it was sent.
    assert!(failed_on_0.is_empty(), "server 0 failed: {failed_on_0:?}");
    // Server 1 was down between the kill and its restart, not after.
    assert!(record
        .failures
        .iter()
        .all(|(s, at, _)| *s == 1 && *at >= killed_at && *at < restarted_at));

    // Every acknowledged receipt is in the database exactly once, under its
    // key; and every case the clients caused was acknowledged (each client
    // retried until it had its receipt), so there is no other.
    let receipts: HashSet<&str> = record.acks.values().map(|a| a.1.as_str()).collect();
    assert_eq!(receipts.len(), record.acks.len(), "two keys, one receipt");
    let mut db = cl.db().await;
    let stored: HashMap<String, String> = sqlx::query(
        "SELECT k.key, a.id FROM idempotency_keys k
           JOIN applications a ON a.tenant = k.tenant AND a.id = k.application_id
          WHERE k.tenant = $1 AND k.key LIKE 'cluster-%' AND k.key <> 'cluster-both-servers'",
    )
    .bind(T)
    .fetch_all(&mut db)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let acked: HashMap<String, String> = record
        .acks
        .iter()
        .map(|(k, a)| (k.clone(), a.1.clone()))
        .collect();
    assert_eq!(stored, acked);
    let cases = record.acks.len() as i64 + 1;
    assert_eq!(
        cl.count("SELECT COUNT(*) FROM applications").await,
        cases,
        "one case per key"
    );
    assert_eq!(
        cl.count("SELECT COUNT(*) FROM audit_log WHERE action = 'application.submit'")
            .await,
        cases
    );
    // The audit chain, appended to by two servers and one killed mid-way,
    // is whole.
    let verify = cl.command(&["audit", "verify", "--tenant", T]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    cl.cleanup().await;
}

/// No sticky sessions: a browser whose every request goes to the other
/// server signs in, fills in and submits a form over several pages, and
/// staff see the case — everything a request needs is in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_a_visit_may_go_to_another_server() {
    let Some(cl) = Cluster::start(binary(), 2).await else {
        return;
    };
    let c = browser();
    // Sign-in page from server 0 (its CSRF token), the form posted to 1.
    sign_in_resident(&c, &cl, 0, 1).await;
    let form = format!("/t/{T}/procedures/juminhyo-copy/apply");
    // The form on server 0 knows the session made on server 1.
    let r = c.get(cl.url(0, &form)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = text(r).await;
    assert!(html.contains("value=\"四街道 花子\"") && html.contains("readonly"));
    let token = testkit::csrf_in(&html).unwrap();
    // Reviewed on server 1, checked on server 0, submitted on server 1.
    let fields = reqwest::multipart::Form::new()
        .text("_csrf", token.clone())
        .text("_action", "review")
        .text("applicant_kana", "よつかいどう はなこ")
        .text("scope", "individual")
        .text("copies", "2")
        .text("purpose", "employment")
        .text("delivery", "counter");
    let r = c
        .post(cl.url(1, &form))
        .multipart(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", text(r).await);
    let check = text(
        c.get(cl.url(0, &format!("{form}/check")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(check.contains("ヨツカイドウ\u{3000}ハナコ"), "{check}");
    let r = c
        .post(cl.url(1, &format!("{form}/submit")))
        .form(&[("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let done = r.headers()["location"].to_str().unwrap().to_string();
    assert!(done.contains("/my/") && done.ends_with("?new=1"), "{done}");
    // The confirmation from server 0, the resident's list from server 1.
    let page = text(c.get(cl.url(0, &done)).send().await.unwrap()).await;
    assert!(page.contains("申請を受け付けました"));
    let receipt = done
        .split("/my/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string();
    let mine = text(
        c.get(cl.url(1, &format!("/t/{T}/my")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let shown = kernel::ids::ReceiptNumber::parse(&receipt)
        .unwrap()
        .display();
    assert!(mine.contains(&shown), "{mine}");
    assert_eq!(cl.count("SELECT COUNT(*) FROM applications").await, 1);
    assert_eq!(cl.count("SELECT COUNT(*) FROM drafts").await, 0);

    // Staff: signed in on server 1, the case read on server 0.
    let staff = browser();
    sqlx::query("UPDATE staff SET totp_last_step = 0 WHERE tenant = $1 AND id = 'dx-admin'")
        .bind(T)
        .execute(&mut cl.db().await)
        .await
        .unwrap();
    let secret = kernel::totp::base32_decode(identity::DEMO_TOTP_SECRET).unwrap();
    let code = kernel::totp::code(
        &secret,
        kernel::totp::step_at(kernel::clock::now_ms() / 1000),
    );
    let r = staff
        .post(cl.url(1, &format!("/api/v1/t/{T}/staff/session")))
        .json(&json!({"id": "dx-admin", "password": server::demo::DEMO_PASSWORD, "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = staff
        .get(cl.url(0, &format!("/api/v1/t/{T}/staff/cases/{receipt}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let case: Value = r.json().await.unwrap();
    assert_eq!(case["applicant_name"], "四街道\u{3000}花子", "{case}");
    assert_eq!(case["identity_level"], "my_number_card");
    cl.cleanup().await;
}
