//! The question set: real resident questions (data/questions.tsv, both
//! demo cities) with the page that must answer each first. Reports top-1
//! and top-3 accuracy (`cargo test -p server --test it questions --
//! --nocapture`) and fails below the figures recorded in
//! docs/PERFORMANCE.md.

use reqwest::StatusCode;
use serde_json::Value;
use testkit::{Backend, TestApp};

const QUESTIONS: &str = include_str!("data/questions.tsv");
/// The accuracy the set must keep (in questions out of the set).
const MIN_TOP1: usize = 115;
const MIN_TOP3: usize = 121;

struct Question<'a> {
    tenant: &'a str,
    text: &'a str,
    /// `procedure:<id>`, `navi:<code>` or `faq:<Japanese question>`.
    expected: Vec<&'a str>,
}

fn questions() -> Vec<Question<'static>> {
    QUESTIONS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut f = l.split('\t');
            let (Some(tenant), Some(text), Some(expected), None) =
                (f.next(), f.next(), f.next(), f.next())
            else {
                panic!("questions.tsv: bad line {l:?}");
            };
            Question {
                tenant,
                text,
                expected: expected.split(" | ").map(str::trim).collect(),
            }
        })
        .collect()
}

/// Whether a hit is the page `want` names.
fn is(hit: &Value, want: &str) -> bool {
    match want.strip_prefix("faq:") {
        Some(title) => hit["kind"] == "faq" && hit["title"].as_str() == Some(title),
        None => hit["id"].as_str() == Some(want),
    }
}

#[tokio::test]
async fn resident_questions_find_their_answer() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let qs = questions();
    assert!(qs.len() >= 100, "the set has {} questions", qs.len());
    let (mut top1, mut top3) = (0, 0);
    let mut misses = Vec::new();
    for q in &qs {
        let r = app
            .client()
            .get(app.url(&format!("/api/v1/t/{}/search", q.tenant)))
            .query(&[("q", q.text)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{} {}", q.tenant, q.text);
        let v: Value = r.json().await.unwrap();
        let hits = v["hits"].as_array().cloned().unwrap_or_default();
        let rank = hits
            .iter()
            .take(3)
            .position(|h| q.expected.iter().any(|w| is(h, w)));
        match rank {
            Some(0) => top1 += 1,
            Some(_) => top3 += 1,
            None => {}
        }
        if rank != Some(0) {
            let got: Vec<String> = hits
                .iter()
                .take(3)
                .map(|h| format!("{} {}", h["id"].as_str().unwrap_or(""), h["title"]))
                .collect();
            misses.push(format!(
                "{} {} → want {:?}, rank {:?}, got {got:?}",
                q.tenant, q.text, q.expected, rank
            ));
        }
    }
    let top3 = top1 + top3;
    println!("question set: {} questions", qs.len());
    println!(
        "top-1 {top1}/{} ({:.1} %), top-3 {top3}/{} ({:.1} %)",
        qs.len(),
        100.0 * top1 as f64 / qs.len() as f64,
        qs.len(),
        100.0 * top3 as f64 / qs.len() as f64
    );
    for m in &misses {
        println!("  {m}");
    }
    app.cleanup().await;
    assert!(top1 >= MIN_TOP1, "top-1 {top1} < {MIN_TOP1}");
    assert!(top3 >= MIN_TOP3, "top-3 {top3} < {MIN_TOP3}");
}
