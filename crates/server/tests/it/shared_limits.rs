//! Limits and one-time state that hold across the servers of a
//! deployment (issue 16, item 2): two servers over one PostgreSQL
//! (`TestApp::peer`), each with its own caches and limiters, share only
//! the database. A password-guessing run, a receipt-number guessing run
//! and the rate limits stop at exactly the count they stop at against one
//! server; an idempotency key used on one replays on the other. On SQLite
//! one process is the only supported shape: these tests run on
//! PostgreSQL only (they return early without `MADOGUCHI_TEST_POSTGRES_URL`).

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::{Backend, TestApp};

const T: &str = "122289";

/// Wrong passwords for `id` through the staff sign-in API, one request
/// per server in turn: each answer's status.
async fn guess_passwords(servers: &[&TestApp], id: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for i in 0..n {
        let s = servers[i % servers.len()];
        let r = s
            .client()
            .post(s.url(&format!("/api/v1/t/{T}/staff/session")))
            .json(&json!({"id": id, "password": "wrong-password-x", "code": "000000"}))
            .send()
            .await
            .unwrap();
        out.push(r.status().as_u16());
    }
    out
}

/// A receipt number (of a case or not) with a wrong e-mail address,
/// through the status API, one request per server in turn.
async fn guess_receipts(servers: &[&TestApp], receipt: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for i in 0..n {
        let s = servers[i % servers.len()];
        let r = s
            .client()
            .post(s.url(&format!("/api/v1/t/{T}/status")))
            .json(&json!({"receipt_number": receipt, "email": "nobody@example.jp"}))
            .send()
            .await
            .unwrap();
        out.push(r.status().as_u16());
    }
    out
}

/// Four failures are answered as failures; the fifth (the threshold, 5)
/// locks and every later one is refused, on whichever server.
const LOCKED_AT_FIVE: [u16; 8] = [401, 401, 401, 401, 429, 429, 429, 429];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guessing_over_two_servers_stops_at_the_same_count() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let b = a.peer().await;
    // Against one server.
    assert_eq!(guess_passwords(&[&a], "reviewer", 8).await, LOCKED_AT_FIVE);
    // Spread over two: the same count.
    assert_eq!(
        guess_passwords(&[&a, &b], "approver", 8).await,
        LOCKED_AT_FIVE
    );
    // Ids that do not exist lock alike (so the lockout tells nothing about
    // which ids exist), counted in the database for both servers.
    assert_eq!(
        guess_passwords(&[&b, &a], "no-such-person", 8).await,
        LOCKED_AT_FIVE
    );
    for target in ["staff:reviewer", "staff:approver"] {
        assert_eq!(
            a.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'staff.locked' AND target = '{target}'"
            ))
            .await,
            1,
            "{target}"
        );
    }
    assert_eq!(
        a.count("SELECT COUNT(*) FROM audit_log WHERE action = 'staff.locked' AND target LIKE 'staff:unknown-%'")
            .await,
        1
    );
    // The right password is refused on both while locked.
    for s in [&a, &b] {
        let code = s.totp_code(T, "approver").await;
        let r = s
            .client()
            .post(s.url(&format!("/api/v1/t/{T}/staff/session")))
            .json(&json!({"id": "approver", "password": server::demo::DEMO_PASSWORD, "code": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    drop(b);
    a.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipt_number_guessing_over_two_servers_stops_at_the_same_count() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let b = a.peer().await;
    let one = kernel::ids::ReceiptNumber::new(2026, 901).unwrap();
    let two = kernel::ids::ReceiptNumber::new(2026, 902).unwrap();
    // A wrong factor five times is answered as no match; the sixth is
    // refused: the fifth failure locked the number.
    let expected = [422, 422, 422, 422, 422, 429, 429];
    assert_eq!(guess_receipts(&[&a], one.as_str(), 7).await, expected);
    assert_eq!(guess_receipts(&[&a, &b], two.as_str(), 7).await, expected);
    drop(b);
    a.cleanup().await;
}

/// A JSON POST from the client at `xff` (behind the trusted proxy).
async fn post_from(
    s: &TestApp,
    c: &reqwest::Client,
    path: &str,
    xff: &str,
    body: Value,
) -> reqwest::Response {
    c.post(s.url(path))
        .header("x-forwarded-for", xff)
        .header("idempotency-key", kernel::ids::token())
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_hold_across_servers() {
    let Some(a) = TestApp::spawn_with(Backend::Postgres, |c| {
        c.rate_limits = kernel::config::RateLimits {
            sign_in_per_client: 3,
            sign_in_per_tenant: 1000,
            submit_per_client: 2,
            submit_per_tenant: 1000,
            lookup_per_client: 1000,
            lookup_per_tenant: 3,
        };
        // The test's clients are told apart by X-Forwarded-For.
        c.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await
    else {
        return;
    };
    let b = a.peer().await;
    let servers = [&a, &b];
    // Staff sign-in: three per client a minute, counted for both servers
    // (a wrong password is 401; the fourth request, on B, is 429).
    let sign_in = format!("/api/v1/t/{T}/staff/session");
    let wrong = json!({"id": "clerk", "password": "wrong-password-x", "code": "000000"});
    let mut statuses = Vec::new();
    for i in 0..5 {
        let s = servers[i % 2];
        let r = post_from(s, &s.client(), &sign_in, "203.0.113.7", wrong.clone()).await;
        statuses.push(r.status().as_u16());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry), "{retry}");
            assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "MDG-429");
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    // Another client is not affected.
    let r = post_from(&b, &b.client(), &sign_in, "203.0.113.8", wrong.clone()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Submissions: two per client, the third (on A again) refused.
    let resident = a.resident(T, "my_number_card").await;
    let submit = format!("/api/v1/t/{T}/procedures/juminhyo-copy/applications");
    let answers = json!({"answers": {"applicant": {"name": "x", "kana": "えっくす"}, "scope": "individual", "copies": 1, "purpose": "employment", "delivery": "post"}});
    let mut statuses = Vec::new();
    for i in 0..3 {
        let s = servers[i % 2];
        let r = post_from(s, &resident, &submit, "203.0.113.20", answers.clone()).await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 429]);
    assert_eq!(a.count("SELECT COUNT(*) FROM applications").await, 2);

    // Lookups: three per municipality a minute, whichever clients and
    // servers they come from; another municipality has its own.
    let status = format!("/api/v1/t/{T}/status");
    let unknown = kernel::ids::ReceiptNumber::new(2026, 903).unwrap();
    let look = json!({"receipt_number": unknown.as_str(), "email": "nobody@example.jp"});
    let mut statuses = Vec::new();
    for i in 0..4 {
        let s = servers[i % 2];
        let xff = format!("198.51.100.{}", i + 1);
        let r = post_from(s, &s.client(), &status, &xff, look.clone()).await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [422, 422, 422, 429]);
    let r = post_from(
        &b,
        &b.client(),
        "/api/v1/t/242021/status",
        "198.51.100.9",
        look,
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    drop(b);
    a.cleanup().await;
}

/// An idempotency key used on A replays on B (the same case, 200); the
/// same key with another request is refused on B (409); the same new key
/// sent to both at once makes one case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_hold_across_servers() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let b = a.peer().await;
    let resident = a.resident(T, "my_number_card").await;
    let path = format!("/api/v1/t/{T}/procedures/juminhyo-copy/applications");
    let answers = |copies: u32| json!({"answers": {"applicant": {"name": "x", "kana": "えっくす"}, "scope": "individual", "copies": copies, "purpose": "employment", "delivery": "post"}});
    let send = |s: &TestApp, key: &str, body: Value| {
        resident
            .post(s.url(&path))
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let r = send(&a, "shared-key-0000-0001", answers(1)).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.unwrap();
    let r = send(&b, "shared-key-0000-0001", answers(1)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["replayed"], true);
    let r = send(&b, "shared-key-0000-0001", answers(2)).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "MDG-409-idempotency_key"
    );
    // One new key on both servers at once, ten times each.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = [&a, &b][i % 2].url(&path);
        let c = resident.clone();
        let body = answers(1);
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(url)
                .header("idempotency-key", "shared-key-0000-0002")
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap()["id"].clone(),
            )
        }));
    }
    let mut created = 0;
    let mut ids = Vec::new();
    for t in tasks {
        let (status, id) = t.await.unwrap();
        assert!(status == 201 || status == 200, "{status}");
        created += usize::from(status == 201);
        ids.push(id);
    }
    ids.dedup();
    assert_eq!((created, ids.len()), (1, 1), "{ids:?}");
    assert_eq!(a.count("SELECT COUNT(*) FROM applications").await, 2);
    drop(b);
    a.cleanup().await;
}
