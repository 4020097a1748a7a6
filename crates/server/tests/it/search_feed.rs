//! The search index follows a change feed (issue 16, item 3): a change
//! published on server A (an FAQ entry, a synonym group) is searchable on
//! server B within two seconds, and B updates its index by analysing only
//! the changed documents. Two servers over one PostgreSQL
//! (`TestApp::peer`); on SQLite one process is the only supported shape,
//! and the same updates in process are covered by `search.rs` and `faq.rs`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use testkit::{Backend, TestApp};

const T: &str = "122289";

async fn search_ids(app: &TestApp, q: &str) -> Vec<String> {
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/{T}/search")))
        .query(&[("q", q)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

/// Searches `q` on `app` until `want` is the first hit; how long that took.
async fn first_within(app: &TestApp, q: &str, want: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let ids = search_ids(app, q).await;
        if ids.first().map(String::as_str) == Some(want) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "{want} not first for {q} on the other server after {limit:?}: {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_server_is_searchable_on_the_other_within_two_seconds() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let b = a.peer().await;
    let question = "ドローンを公園で飛ばす許可はどこで申請しますか";
    // B has built its index (on its first search) before the change.
    assert!(!search_ids(&b, question)
        .await
        .iter()
        .any(|id| id.starts_with("faq:")));
    let built = b.app.search.search.last_update(T).expect("built");
    assert_eq!(built.analysed, built.documents);

    // An FAQ entry published on A.
    let kodomo = a.staff(T, "kodomo").await;
    let csrf = a.csrf(&kodomo, &format!("/t/{T}/staff/faq/new")).await;
    let r = kodomo
        .post(a.url(&format!("/t/{T}/staff/faq/new")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("question_ja", question),
            (
                "answer_ja",
                "公園でドローンを飛ばすときは、公園緑地課に許可を申請してください。",
            ),
            ("category", "children"),
            ("department", "kosodate"),
            ("audience", "public"),
            ("published", "yes"),
            ("procedures", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i64 = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches(&format!("/t/{T}/staff/faq/"))
        .trim_end_matches("?saved=1")
        .parse()
        .unwrap();
    let faq = format!("faq:{id}");
    // Searchable on A when the request answers, on B within two seconds.
    assert_eq!(search_ids(&a, question).await.first(), Some(&faq));
    let took = first_within(&b, question, &faq, Duration::from_secs(2)).await;
    eprintln!("FAQ published on A, first hit on B after {took:?}");
    // B analysed only the new entry.
    let update = b.app.search.search.last_update(T).expect("updated");
    assert_eq!(
        (update.documents, update.analysed),
        (built.documents + 1, 1)
    );

    // A synonym group added on A expands queries on B.
    let admin = a.staff(T, "dx-admin").await;
    let token = a.csrf(&admin, &format!("/t/{T}/staff/search")).await;
    let r = admin
        .post(a.url(&format!("/t/{T}/staff/search/synonyms")))
        .form(&[
            ("_csrf", token.as_str()),
            ("terms", "ぴよドローン\n道路占用"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let took = first_within(
        &b,
        "ぴよドローン",
        "procedure:doro-senyo",
        Duration::from_secs(2),
    )
    .await;
    eprintln!("synonym added on A, used on B after {took:?}");
    // Nothing was analysed again for a synonym: documents did not change.
    assert_eq!(b.app.search.search.last_update(T).unwrap().analysed, 0);
    drop(b);
    a.cleanup().await;
}

/// Applications change the ranking's use counts without changing any
/// document: the deployment's scheduled job `search.ranking` brings every
/// server's index up to date with them (this one's and the other's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ranking_job_brings_use_counts_to_every_server() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let b = a.peer().await;
    // Both servers build their index on a first search.
    search_ids(&a, "住民票").await;
    search_ids(&b, "住民票").await;
    let before = |app: &TestApp| app.app.search.search.last_update(T).expect("built").uses;
    assert_eq!((before(&a), before(&b)), (0, 0));

    // Three applications, submitted on A.
    let resident = a.resident(T, "my_number_card").await;
    for i in 0..3 {
        let r = resident
            .post(a.url(&format!(
                "/api/v1/t/{T}/procedures/juminhyo-copy/applications"
            )))
            .header("idempotency-key", format!("ranking-job-test-{i:04}"))
            .json(&serde_json::json!({"answers": {
                "applicant": {"name": "山田 太郎", "kana": "やまだ たろう"},
                "scope": "individual", "copies": "1", "purpose": "employment",
                "delivery": "counter"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
    // A submission changes no document: neither index counts them yet.
    assert_eq!((before(&a), before(&b)), (0, 0));

    // The scheduled job, run now (as its schedule would).
    kernel::jobs::enqueue_now(
        &a.app.db,
        kernel::jobs::JobSpec::new("", server::jobs::SEARCH_RANKING, Value::Null),
    )
    .await
    .unwrap()
    .expect("queued");
    let started = Instant::now();
    while (before(&a), before(&b)) != (3, 3) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "use counts after the ranking job: A {}, B {}",
            before(&a),
            before(&b)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Nothing was analysed again: only the ranking changed.
    assert_eq!(b.app.search.search.last_update(T).unwrap().analysed, 0);
    drop(b);
    a.cleanup().await;
}
