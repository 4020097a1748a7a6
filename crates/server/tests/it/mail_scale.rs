//! Mail at scale, end to end (issue 17, "Shows it works"), through real
//! `madoguchi serve` processes (`testkit::cluster`) sending to the real
//! test SMTP server (`testkit::smtp`: aiosmtpd into a Maildir):
//!
//! - 10,000 subscribers imported through the staff import page (with their
//!   consent dates), one newsletter written by one person and approved by
//!   another, sent: every subscriber receives exactly one message, each
//!   with a `List-Unsubscribe` URL of their own and `List-Unsubscribe-Post:
//!   List-Unsubscribe=One-Click`; the one-click POST of some of those URLs,
//!   without any cookie, unsubscribes them;
//! - the serving process SIGKILLed mid-send and started again: nobody
//!   receives two; every subscriber received exactly one or their row is
//!   'unknown', and no more rows are 'unknown' than one claim of a run
//!   holds (`delivery/mod.rs`: two per connection);
//! - the SMTP server answering 451 to everything for a whole minute, then
//!   accepting: all delivered exactly once, after the minute.
//!
//! PostgreSQL only: several processes over one database are the shape of
//! a deployment, and on SQLite one process is the only supported shape
//! (`testkit::cluster`). Skipped, loudly, without PostgreSQL or aiosmtpd
//! outside CI; CI requires both.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use testkit::cluster::Cluster;
use testkit::smtp::{Received, SmtpServer};

const T: &str = "122289";
const CATEGORY: &str = "bosai";
/// `BATCH_PER_CONNECTION` in `mail::delivery` (private there): rows one
/// run claims per SMTP connection, and so what a killed sender can leave
/// 'sending' per connection.
const CLAIMED_PER_CONNECTION: i64 = 2;

fn binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_madoguchi"))
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// A cluster of one server sending to `smtp`, with `extra` settings.
async fn cluster(smtp: &SmtpServer, extra: &[(&str, &str)]) -> Option<Cluster> {
    let url = smtp.url();
    let mut env = vec![
        ("MADOGUCHI_SMTP_URL", url.as_str()),
        ("MADOGUCHI_MAIL_FROM", "yomail@city.example.jp"),
        ("MADOGUCHI_MAIL_RETRY_SECONDS", "1"),
    ];
    env.extend_from_slice(extra);
    Cluster::start_with(binary(), 1, &env).await
}

/// A demo staff account of T signed in on server 0 (password and TOTP).
async fn staff(cl: &Cluster, id: &str) -> reqwest::Client {
    sqlx::query("UPDATE staff SET totp_last_step = 0 WHERE tenant = $1 AND id = $2")
        .bind(T)
        .bind(id)
        .execute(&mut cl.db().await)
        .await
        .unwrap();
    let secret = kernel::totp::base32_decode(identity::DEMO_TOTP_SECRET).unwrap();
    let code = kernel::totp::code(
        &secret,
        kernel::totp::step_at(kernel::clock::now_ms() / 1000),
    );
    let c = browser();
    let r = c
        .post(cl.url(0, &format!("/api/v1/t/{T}/staff/session")))
        .json(&json!({"id": id, "password": server::demo::DEMO_PASSWORD, "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "sign in as {id}");
    c
}

/// Posts a staff form (with the CSRF token of `page`): status, Location
/// and body.
async fn post(
    c: &reqwest::Client,
    cl: &Cluster,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let html = c
        .get(cl.url(0, page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = testkit::csrf_in(&html).unwrap_or_else(|| panic!("no CSRF token on {page}"));
    let mut form: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    let r = c
        .post(cl.url(0, path))
        .header("accept-language", "ja")
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

fn address(i: usize) -> String {
    format!("resident{i:05}@example.jp")
}

/// Imports `n` subscribers of `CATEGORY` through the staff import page
/// (checked first, then imported) as the system administrator.
async fn import(cl: &Cluster, n: usize) {
    let admin = staff(cl, "dx-admin").await;
    let mut csv = String::from("address,categories,language,consent_date\n");
    for i in 0..n {
        // Consent given on various dates of the old list.
        csv.push_str(&format!(
            "{},{CATEGORY},ja,2019-{:02}-{:02}\n",
            address(i),
            i % 12 + 1,
            i % 28 + 1
        ));
    }
    let page = format!("/t/{T}/staff/mail/subscribers/import");
    let started = Instant::now();
    let (s, _, html) = post(&admin, cl, &page, &page, &[("csv", &csv), ("dry_run", "1")]).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("誤りはありません。{n}件を取り込めます")));
    let (s, _, html) = post(&admin, cl, &page, &page, &[("csv", &csv)]).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("{n}件を取り込みました")), "{html}");
    eprintln!(
        "mail_scale: imported {n} subscribers in {:?}",
        started.elapsed()
    );
    assert_eq!(
        cl.count(&format!(
            "SELECT COUNT(*) FROM mail_subscribers WHERE tenant = '{T}' AND state = 'active' AND consent_source = 'import'"
        ))
        .await,
        n as i64
    );
}

/// The version of message `id` (optimistic edits).
async fn version(cl: &Cluster, id: &str) -> String {
    cl.count(&format!(
        "SELECT version FROM mail_messages WHERE tenant = '{T}' AND id = '{id}'"
    ))
    .await
    .to_string()
}

/// A newsletter of `CATEGORY` written and submitted by `kodomo`; when it
/// waits for a second person (more recipients than the threshold), the
/// system administrator approves it. Its id.
async fn newsletter(cl: &Cluster, subject: &str) -> String {
    let base = format!("/t/{T}/staff/mail/messages");
    let author = staff(cl, "kodomo").await;
    let (s, loc, html) = post(
        &author,
        cl,
        &format!("{base}/new"),
        &base,
        &[
            ("category", CATEGORY),
            ("subject_ja", subject),
            (
                "body_ja",
                "台風10号の接近に伴い、市内の避難所を開設しました。",
            ),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
    let id = loc.rsplit('/').next().unwrap().to_string();
    let page = format!("{base}/{id}");
    let v = version(cl, &id).await;
    let (s, loc, html) = post(
        &author,
        cl,
        &page,
        &format!("{page}/submit"),
        &[("version", &v)],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
    if loc.ends_with("?done=awaiting") {
        // The author may not approve their own message.
        let v = version(cl, &id).await;
        let (s, _, _) = post(
            &author,
            cl,
            &page,
            &format!("{page}/approve"),
            &[("version", &v)],
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let admin = staff(cl, "dx-admin").await;
        let (s, loc, html) = post(
            &admin,
            cl,
            &page,
            &format!("{page}/approve"),
            &[("version", &v)],
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
        assert!(loc.ends_with("?done=approved"), "{loc}");
    }
    id
}

/// The messages of `subject` that arrived, by recipient.
fn arrivals<'a>(got: &'a [Received], subject: &str) -> HashMap<&'a str, Vec<&'a Received>> {
    let mut m: HashMap<&str, Vec<&Received>> = HashMap::new();
    for r in got.iter().filter(|r| r.header("Subject") == Some(subject)) {
        m.entry(r.to()).or_default().push(r);
    }
    m
}

/// Waits (up to `timeout`) until `sql` counts `n`; the last count.
async fn wait_count(cl: &Cluster, sql: &str, n: i64, timeout: Duration) -> i64 {
    let end = Instant::now() + timeout;
    loop {
        let got = cl.count(sql).await;
        if got == n || Instant::now() >= end {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits (up to `timeout`) until at least `n` messages of `subject` arrived.
async fn wait_arrived(smtp: &SmtpServer, subject: &str, n: usize, timeout: Duration) -> usize {
    let end = Instant::now() + timeout;
    loop {
        let got = smtp
            .received()
            .iter()
            .filter(|r| r.header("Subject") == Some(subject))
            .count();
        if got >= n || Instant::now() >= end {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Each outbox row of campaign `id`: recipient → state.
async fn states(cl: &Cluster, id: &str) -> HashMap<String, String> {
    use sqlx::Row;
    sqlx::query("SELECT recipient, state FROM outbox WHERE tenant = $1 AND campaign = $2")
        .bind(T)
        .bind(id)
        .fetch_all(&mut cl.db().await)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

const N: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_of_ten_thousand_receives_one_and_can_leave_in_one_click() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    // Many connections: each hand-off waits on the network more than on
    // the CPU (docs/PERFORMANCE.md, "Mail delivery"), so 128 at once keep
    // a debug build on two busy cores within the suite's time.
    let Some(cl) = cluster(&smtp, &[("MADOGUCHI_MAIL_CONNECTIONS", "128")]).await else {
        return;
    };
    let started = Instant::now();
    import(&cl, N).await;
    let subject = "避難所を開設しました";
    let sending = Instant::now();
    let id = newsletter(&cl, subject).await;
    let arrived = wait_arrived(&smtp, subject, N, Duration::from_secs(300)).await;
    eprintln!(
        "mail_scale: {arrived} of {N} newsletters arrived in {:?} after the approval",
        sending.elapsed()
    );
    assert_eq!(arrived, N, "every subscriber's message arrived");
    let sent = format!(
        "SELECT COUNT(*) FROM outbox WHERE tenant = '{T}' AND campaign = '{id}' AND state = 'sent'"
    );
    assert_eq!(
        wait_count(&cl, &sent, N as i64, Duration::from_secs(30)).await,
        N as i64
    );
    // A moment more: nothing arrives twice late.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = smtp.received();
    assert_eq!(got.len(), N);
    assert_eq!(smtp.maildir_count(), N, "one Maildir file per message");
    let by = arrivals(&got, subject);
    let want: HashSet<String> = (0..N).map(address).collect();
    let have: HashSet<String> = by.keys().map(|k| k.to_string()).collect();
    assert_eq!(have, want, "exactly the subscribers");
    assert!(by.values().all(|v| v.len() == 1), "nobody received two");

    // Each message's one-click unsubscribe: its own https URL in angle
    // brackets (mailto: too if there were one), and the POST header.
    let prefix = format!("{}/t/{T}/mail/unsubscribe/", cl.base(0));
    let mut urls: HashMap<String, String> = HashMap::new();
    for (to, m) in &by {
        let m = m[0];
        assert_eq!(
            m.header("List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click"),
            "{to}"
        );
        let list = m.header("List-Unsubscribe").expect("List-Unsubscribe");
        let mut http = Vec::new();
        for part in list.split(',') {
            let part = part.trim();
            let inner = part
                .strip_prefix('<')
                .and_then(|p| p.strip_suffix('>'))
                .unwrap_or_else(|| panic!("not <URI>: {list}"));
            let parsed = reqwest::Url::parse(inner).unwrap_or_else(|e| panic!("{inner}: {e}"));
            match parsed.scheme() {
                "mailto" => {}
                "http" | "https" => http.push(inner.to_string()),
                other => panic!("scheme {other} in {list}"),
            }
        }
        assert_eq!(http.len(), 1, "{list}");
        let url = http.remove(0);
        // The deployment's public URL (http on loopback here, https in
        // production) and a subscriber id and token of its own.
        let rest = url
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{url} is not under {prefix}"));
        let (sub, token) = rest.split_once('/').expect("id/token");
        assert!(!sub.is_empty() && token.len() >= 20, "{url}");
        assert!(m.header("Message-ID").is_some() && m.header("Date").is_some());
        assert_eq!(m.header("Auto-Submitted"), Some("auto-generated"));
        assert_eq!(m.mail_from, "yomail@city.example.jp");
        assert!(m
            .text
            .as_deref()
            .unwrap_or("")
            .contains("避難所を開設しました"));
        urls.insert(to.to_string(), url);
    }
    let distinct: HashSet<&String> = urls.values().collect();
    assert_eq!(distinct.len(), N, "a URL of their own each");

    // One click, no cookie, no CSRF token: unsubscribed.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let leaving = [address(0), address(4_321), address(N - 1)];
    for a in &leaving {
        let r = bare
            .post(&urls[a])
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{a}");
    }
    // A forged token changes nothing.
    let forged = format!("{}x", urls[&address(1)]);
    let r = bare
        .post(&forged)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        cl.count(&format!(
            "SELECT COUNT(*) FROM mail_subscribers WHERE tenant = '{T}' AND state = 'unsubscribed'"
        ))
        .await,
        3
    );
    assert_eq!(
        cl.count(&format!(
            "SELECT COUNT(*) FROM mail_subscribers WHERE tenant = '{T}' AND state = 'active'"
        ))
        .await,
        (N - 3) as i64
    );
    eprintln!("mail_scale: 10,000 scenario took {:?}", started.elapsed());
    cl.cleanup().await;
}

/// Subscribers of the kill scenario: enough that the sender is killed
/// well inside the send.
const KILLED_N: usize = 2_000;
const KILLED_CONNECTIONS: i64 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_send_nobody_receives_two() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let conns = KILLED_CONNECTIONS.to_string();
    // One job worker: one delivery run at a time, so what the killed
    // process held is one claim.
    let Some(mut cl) = cluster(
        &smtp,
        &[
            ("MADOGUCHI_MAIL_CONNECTIONS", conns.as_str()),
            ("MADOGUCHI_JOB_WORKERS", "1"),
        ],
    )
    .await
    else {
        return;
    };
    import(&cl, KILLED_N).await;
    // Each DATA takes a while: the send lasts long enough to be cut.
    smtp.set(Duration::ZERO, &[], 10);
    let subject = "断水のお知らせ";
    let id = newsletter(&cl, subject).await;
    let third = wait_arrived(&smtp, subject, KILLED_N / 3, Duration::from_secs(120)).await;
    assert!(third >= KILLED_N / 3, "a third arrived before the kill");
    cl.kill(0);
    let at_kill = smtp.received().len();
    assert!(at_kill < KILLED_N, "killed mid-send ({at_kill} arrived)");
    smtp.set(Duration::ZERO, &[], 0);
    cl.restart(0).await;
    // The restarted process sends the rest; the rows the dead one held
    // stay 'sending' until their lease runs out.
    let left = format!(
        "SELECT COUNT(*) FROM outbox WHERE tenant = '{T}' AND campaign = '{id}' AND state = 'queued'"
    );
    assert_eq!(wait_count(&cl, &left, 0, Duration::from_secs(150)).await, 0);
    let settled = format!(
        "SELECT COUNT(*) FROM outbox WHERE tenant = '{T}' AND campaign = '{id}' AND state = 'sent'"
    );
    let mut last = -1;
    for _ in 0..40 {
        let now = cl.count(&settled).await;
        if now == last {
            break;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The lease of the dead process's rows runs out (as two minutes
    // later): the real expiry turns them 'unknown', never sent again.
    let db = kernel::Db::connect(&cl.database_url, 2).await.unwrap();
    let unknown = mail::delivery::store::expire_leases(
        &db,
        T,
        kernel::clock::now_ms() + mail::delivery::LEASE_MS + 1,
    )
    .await
    .unwrap() as i64;
    let s = states(&cl, &id).await;
    assert_eq!(s.len(), KILLED_N);
    let n_unknown = s.values().filter(|v| *v == "unknown").count() as i64;
    let n_sent = s.values().filter(|v| *v == "sent").count() as i64;
    assert_eq!(n_unknown, unknown);
    assert_eq!(n_sent + n_unknown, KILLED_N as i64, "{s:?}");
    assert!(
        n_unknown <= CLAIMED_PER_CONNECTION * KILLED_CONNECTIONS,
        "{n_unknown} unknown, more than one claim"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = smtp.received();
    let by = arrivals(&got, subject);
    for (to, state) in &s {
        let n = by.get(to.as_str()).map_or(0, Vec::len);
        assert!(n <= 1, "{to} received {n}");
        if state == "sent" {
            assert_eq!(n, 1, "{to} is 'sent' and received {n}");
        }
    }
    eprintln!(
        "mail_scale: killed after {at_kill} of {KILLED_N}; {n_sent} sent, {n_unknown} unknown ({} of those arrived)",
        s.iter()
            .filter(|(to, st)| *st == "unknown" && by.contains_key(to.as_str()))
            .count()
    );
    db.close().await;
    cl.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_of_451_then_all_delivered_once() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(cl) = cluster(&smtp, &[]).await else {
        return;
    };
    const SUBS: usize = 20;
    import(&cl, SUBS).await;
    let minute = Duration::from_secs(60);
    smtp.tempfail_for(minute);
    let refused_until = Instant::now() + minute;
    let subject = "健診のお知らせ";
    let id = newsletter(&cl, subject).await;
    // All through the minute: nothing arrives, every row is tried again.
    tokio::time::sleep(Duration::from_secs(50)).await;
    assert_eq!(smtp.received().len(), 0, "451 the whole minute");
    assert_eq!(
        cl.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE tenant = '{T}' AND campaign = '{id}' AND state = 'queued' AND attempts >= 3 AND last_error LIKE '%451%'"
        ))
        .await,
        SUBS as i64
    );
    let sent = format!(
        "SELECT COUNT(*) FROM outbox WHERE tenant = '{T}' AND campaign = '{id}' AND state = 'sent'"
    );
    assert_eq!(
        wait_count(&cl, &sent, SUBS as i64, Duration::from_secs(120)).await,
        SUBS as i64
    );
    assert!(Instant::now() >= refused_until);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = smtp.received();
    let by = arrivals(&got, subject);
    assert_eq!(got.len(), SUBS);
    assert_eq!(by.len(), SUBS);
    assert!(by.values().all(|v| v.len() == 1));
    cl.cleanup().await;
}
