//! Questions answered with low confidence are logged for staff, not only
//! those that found nothing, on SQLite and PostgreSQL: the search (API and
//! page) and the chat answer a sentence about a death with the おくやみ
//! navigator and log it as low confidence (母 matched nothing); a confident
//! answer is not logged; the staff list labels each row with its reason.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

async fn reasons(app: &TestApp) -> Vec<(String, String, String, i64)> {
    let admin = app.staff("122289", "dx-admin").await;
    let m: Value = admin
        .get(app.url("/api/v1/t/122289/staff/search/misses"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    m["misses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["sample"].as_str().unwrap().to_string(),
                x["reason"].as_str().unwrap().to_string(),
                x["channel"].as_str().unwrap().to_string(),
                x["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn search(app: &TestApp, q: &str) -> Value {
    let r = app
        .client()
        .get(app.url("/api/v1/t/122289/search"))
        .query(&[("q", q)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn search_and_chat_log_low_confidence(app: &TestApp) {
    // A confident answer (every word matched) is not logged.
    let v = search(app, "住民票の写し").await;
    assert!(v["total"].as_u64().unwrap() > 0, "{v}");
    assert!(reasons(app).await.is_empty());

    // The sentence finds the navigator through 亡くなりました → おくやみ,
    // but 母 matched nothing: answered, and logged as low confidence.
    let q = "母が亡くなりました。何をすればいいですか";
    let v = search(app, q).await;
    assert_eq!(v["hits"][0]["id"], "navi:death", "{v}");
    // Nothing found is logged as such.
    let v = search(app, "ぴよぴよ").await;
    assert_eq!(v["total"], 0);
    let mut r = reasons(app).await;
    r.sort();
    assert_eq!(
        r,
        [
            (
                "ぴよぴよ".to_string(),
                "no_results".to_string(),
                "api".to_string(),
                1
            ),
            (
                q.to_string(),
                "low_confidence".to_string(),
                "api".to_string(),
                1
            ),
        ]
    );

    // The chat answers the same kind of question from the navigator,
    // and logs it as low confidence too.
    let q = "父が亡くなりました。どうすればいいですか";
    let resp = app
        .client()
        .post(app.url("/api/v1/t/122289/chat"))
        .json(&json!({"message": q, "lang": "ja"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["declined"], false, "{v}");
    assert_eq!(v["sources"][0]["url"], "/t/122289/navi/death", "{v}");
    let r = reasons(app).await;
    assert!(
        r.contains(&(q.into(), "low_confidence".into(), "chat".into(), 1)),
        "{r:?}"
    );
    // The chat's confident answer is not logged.
    let before = r.len();
    let resp = app
        .client()
        .post(app.url("/api/v1/t/122289/chat"))
        .json(&json!({"message": "住民票の写し", "lang": "ja"}))
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["declined"], false, "{v}");
    assert_eq!(reasons(app).await.len(), before);

    // The staff page labels each row with its reason.
    let admin = app.staff("122289", "dx-admin").await;
    let html = admin
        .get(app.url("/t/122289/staff/search"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<th scope=\"col\">理由</th>"), "{html}");
    assert!(html.contains("<span class=\"tag\">自信なし</span>"));
    assert!(html.contains("<span class=\"tag\">見つからず</span>"));
    // The other city logged nothing.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM search_misses WHERE tenant = '242021'")
            .await,
        0
    );
}

testkit::on_both_backends!(search_and_chat_log_low_confidence);
