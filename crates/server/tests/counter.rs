//! The smart counter over HTTP, on SQLite and PostgreSQL: tickets issued,
//! called, recalled, marked absent, transferred keeping their place and
//! finished; bad input; concurrent clerks; the board's live stream;
//! clerks serving only their department's counters.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

const T: &str = "122289";

async fn body(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

async fn issue(app: &TestApp, counter: &str) -> (Value, String) {
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/counter/tickets")))
        .json(&json!({ "counter": counter }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let b = body(r).await;
    let token = b["token"].as_str().unwrap().to_string();
    (b["ticket"].clone(), token)
}

async fn call(app: &TestApp, c: &reqwest::Client, counter: &str) -> reqwest::Response {
    c.post(app.url(&format!("/api/v1/t/{T}/staff/counter/{counter}/call")))
        .send()
        .await
        .unwrap()
}

async fn act(
    app: &TestApp,
    c: &reqwest::Client,
    t: &Value,
    action: &str,
    extra: Value,
) -> reqwest::Response {
    let mut b = json!({ "version": t["version"] });
    if let (Some(o), Some(e)) = (b.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    c.post(app.url(&format!(
        "/api/v1/t/{T}/staff/tickets/{}/{action}",
        t["id"].as_str().unwrap()
    )))
    .json(&b)
    .send()
    .await
    .unwrap()
}

async fn tickets_and_calling(app: &TestApp) {
    let (first, first_token) = issue(app, "c2").await;
    assert_eq!(first["display"], "C2-001");
    let (second, second_token) = issue(app, "c2").await;
    assert_eq!(second["display"], "C2-002");
    // The resident's page: place and estimate.
    let status = |id: Value, token: String| async move {
        body(
            app.client()
                .get(app.url(&format!(
                    "/api/v1/t/{T}/counter/tickets/{}/{token}",
                    id.as_str().unwrap()
                )))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let s = status(second["id"].clone(), second_token.clone()).await;
    assert_eq!(s["position"]["ahead"], 1);
    assert_eq!(
        s["position"]["estimated_wait_minutes"], 6,
        "one service ahead, 6 min default"
    );
    // A stale or wrong link shows nothing.
    let r = app
        .client()
        .get(app.url(&format!(
            "/api/v1/t/{T}/counter/tickets/{}/{}",
            second["id"].as_str().unwrap(),
            "0".repeat(64)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(r).await["error"]["code"], "MDG-404-ticket");

    // Calling takes tickets in order.
    let clerk = app.staff(T, "clerk").await;
    let called = body(call(app, &clerk, "c2").await).await["ticket"].clone();
    assert_eq!(called["display"], "C2-001");
    assert_eq!(called["status"], "called");
    let s = status(first["id"].clone(), first_token.clone()).await;
    assert_eq!(s["ticket"]["status"], "called");
    let s = status(second["id"].clone(), second_token.clone()).await;
    assert_eq!(s["position"]["ahead"], 0);
    // Recall, then finish; a second finish is refused, nothing changes.
    let r = act(app, &clerk, &called, "recall", json!({})).await;
    let recalled = body(r).await["ticket"].clone();
    assert_eq!(recalled["recalls"], 1);
    let r = act(app, &clerk, &recalled, "finish", json!({})).await;
    let done = body(r).await["ticket"].clone();
    assert_eq!(done["status"], "done");
    let r = act(app, &clerk, &done, "finish", json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(body(r).await["error"]["code"], "MDG-409-ticket_state");
    // An old version (another clerk acted meanwhile) is refused.
    let r = act(app, &clerk, &recalled, "finish", json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Transfer keeps the place: C2-002 was issued before C3-001, so at
    // counter 3 it is called first.
    let (c3_first, _) = issue(app, "c3").await;
    let called = body(call(app, &clerk, "c2").await).await["ticket"].clone();
    assert_eq!(called["display"], "C2-002");
    let r = act(app, &clerk, &called, "transfer", json!({"to": "c3"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let s = status(second["id"].clone(), second_token.clone()).await;
    assert_eq!(s["ticket"]["status"], "waiting");
    assert_eq!(s["ticket"]["counter"], "c3");
    assert_eq!(s["position"]["ahead"], 0, "ahead of C3-001, issued later");
    let next = body(call(app, &clerk, "c3").await).await["ticket"].clone();
    assert_eq!(next["display"], "C2-002");
    // Absent.
    let r = act(app, &clerk, &next, "absent", json!({})).await;
    assert_eq!(body(r).await["ticket"]["status"], "absent");
    let next = body(call(app, &clerk, "c3").await).await["ticket"].clone();
    assert_eq!(next["id"], c3_first["id"]);

    // Bad input: an empty queue, a closed counter, an unknown counter.
    let r = call(app, &clerk, "c2").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let b = body(r).await;
    assert_eq!(b["error"]["code"], "MDG-409-queue_empty");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("お待ちの方はいません"));
    let token = app
        .csrf(&clerk, &format!("/t/{T}/staff/counter?c=c4"))
        .await;
    let r = clerk
        .post(app.url(&format!("/t/{T}/staff/counter/c4/open")))
        .form(&[("_csrf", token.as_str()), ("open", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = act(app, &clerk, &next, "transfer", json!({"to": "c4"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(body(r).await["error"]["code"], "MDG-409-counter_closed");
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/counter/tickets")))
        .json(&json!({"counter": "c4"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/counter/tickets")))
        .json(&json!({"counter": "c99"}))
        .send()
        .await
        .unwrap();
    assert_eq!(body(r).await["error"]["code"], "MDG-404-counter");
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/counter/tickets")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body(r).await["error"]["fields"][0]["field"], "counter");
    // The queue is consistent: still C3's ticket called, nothing lost.
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 3);
    // Only clerks call: not the security officer, not the public.
    let officer = app.staff(T, "security").await;
    assert_eq!(
        call(app, &officer, "c2").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(app, &app.client(), "c2").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Every step is in the audit log.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'ticket.%'")
            .await
            >= 7
    );
}

/// Several clerks calling at once: every ticket is called exactly once.
async fn concurrent_clerks(app: &TestApp) {
    // Tickets issued at once are numbered without gaps or repeats.
    let mut issuing = Vec::new();
    for _ in 0..24 {
        let c = app.client();
        let url = app.url(&format!("/api/v1/t/{T}/counter/tickets"));
        issuing.push(tokio::spawn(async move {
            let r = c
                .post(url)
                .json(&json!({"counter": "c1"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            let b: Value = r.json().await.unwrap();
            b["ticket"]["number"].as_i64().unwrap()
        }));
    }
    let mut numbers = Vec::new();
    for t in issuing {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=24).collect::<Vec<i64>>());
    let mut tasks = Vec::new();
    // Clerks of the department that runs counter 1 (and the system admin).
    for who in ["clerk", "reviewer", "dx-admin"] {
        let c = app.staff(T, who).await;
        let url = app.url(&format!("/api/v1/t/{T}/staff/counter/c1/call"));
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..10 {
                let r = c.post(&url).send().await.unwrap();
                if r.status() == StatusCode::OK {
                    let b: Value = r.json().await.unwrap();
                    got.push(b["ticket"]["display"].as_str().unwrap().to_string());
                } else {
                    assert_eq!(r.status(), StatusCode::CONFLICT);
                }
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "no ticket called twice");
    assert_eq!(all.len(), 24, "every ticket called");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM tickets WHERE status = 'called'")
            .await,
        24
    );
}

/// The board's stream: the state at once, then each call.
async fn board_stream(app: &TestApp) {
    issue(app, "c1").await;
    let mut r = app
        .client()
        .get(app.url(&format!("/t/{T}/counter/board/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut seen = String::new();
    while !seen.contains("event: board") {
        seen.push_str(&String::from_utf8_lossy(&r.chunk().await.unwrap().unwrap()));
    }
    let clerk = app.staff(T, "clerk").await;
    assert_eq!(call(app, &clerk, "c1").await.status(), StatusCode::OK);
    let wait = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !seen.contains("\"called\":{\"counter\":\"c1\",\"display\":\"C1-001\"}") {
            seen.push_str(&String::from_utf8_lossy(&r.chunk().await.unwrap().unwrap()));
        }
    })
    .await;
    assert!(wait.is_ok(), "the call reached the board: {seen}");
    // The pages render (kiosk, board, ticket, staff).
    for path in [format!("/t/{T}/counter"), format!("/t/{T}/counter/board")] {
        let r = app.client().get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let html = clerk
        .get(app.url(&format!("/t/{T}/staff/counter?c=c1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("C1-001"));
}

/// The `value`s of the options of the `<select>` with this id.
fn options(html: &str, id: &str) -> Vec<String> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no select #{id}"));
    let end = start + html[start..].find("</select>").unwrap();
    html[start..end]
        .split("<option value=\"")
        .skip(1)
        .map(|o| o[..o.find('"').unwrap()].to_string())
        .collect()
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A clerk serves at the counters of their own department (the system
/// admin anywhere), and may send a ticket on to any open counter.
async fn department_scoping(app: &TestApp) {
    // 市民課 (madoguchi) runs counters 1–4, 国保年金課 counter 5, 子育て支援課
    // (kosodate) counter 7.
    let clerk = app.staff(T, "clerk").await;
    let kodomo = app.staff(T, "kodomo").await;
    let admin = app.staff(T, "dx-admin").await;
    issue(app, "c1").await;
    issue(app, "c5").await;
    let t1 = body(call(app, &clerk, "c1").await).await["ticket"].clone();
    assert_eq!(t1["display"], "C1-001");

    // Another department's counter: refused, saying why.
    let r = call(app, &clerk, "c5").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let b = body(r).await;
    assert_eq!(b["error"]["code"], "MDG-403-counter_department");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("窓口を担当する課の職員だけが操作できます"),
        "{b}"
    );
    assert_eq!(
        call(app, &kodomo, "c1").await.status(),
        StatusCode::FORBIDDEN
    );
    // Nor on its tickets: recall, absent, finish, transfer.
    for action in ["recall", "absent", "finish"] {
        let r = act(app, &kodomo, &t1, action, json!({})).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let r = act(app, &kodomo, &t1, "transfer", json!({"to": "c7"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Sending a ticket on to another department's counter is allowed...
    let r = act(app, &clerk, &t1, "transfer", json!({"to": "c7"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    // ...where its clerks serve it, not the one who sent it.
    let at7 = body(call(app, &kodomo, "c7").await).await["ticket"].clone();
    assert_eq!(at7["display"], "C1-001");
    let r = act(app, &clerk, &at7, "finish", json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = act(app, &kodomo, &at7, "finish", json!({})).await;
    assert_eq!(body(r).await["ticket"]["status"], "done");

    // Opening and closing: own counters only (the page's form).
    let token = app.csrf(&clerk, &format!("/t/{T}/staff/counter")).await;
    let r = clerk
        .post(app.url(&format!("/t/{T}/staff/counter/c5/open")))
        .form(&[("_csrf", token.as_str()), ("open", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("窓口を担当する課の職員だけが操作できます")
            && html.contains("MDG-403-counter_department"),
        "a page that says why"
    );
    let r = clerk
        .post(app.url(&format!("/t/{T}/staff/counter/c2/open")))
        .form(&[("_csrf", token.as_str()), ("open", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The system administrator serves anywhere.
    let r = call(app, &admin, "c5").await;
    assert_eq!(r.status(), StatusCode::OK);

    // A grant to see another department's cases is not a counter of one's own.
    sqlx::query("INSERT INTO staff_grants (tenant, staff_id, department, granted_by, granted_at) VALUES ($1, 'clerk', 'kosodate', 'dx-admin', 0)")
        .bind(T)
        .execute(app.app.db.write())
        .await
        .unwrap();
    issue(app, "c7").await;
    assert_eq!(
        call(app, &clerk, "c7").await.status(),
        StatusCode::FORBIDDEN
    );

    // The clerk's page offers only the counters they may serve; asking for
    // another one shows their first.
    let (status, html) = page(&clerk, app, &format!("/t/{T}/staff/counter?c=c7")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(options(&html, "field-c"), ["c1", "c2", "c3", "c4"]);
    assert!(html.contains("action=\"/t/122289/staff/counter/c1/call\""));
    // Counter 7's clerk, with a ticket called: only counter 7 to serve,
    // every other open counter to send it to (counter 2 is closed).
    let (_, html) = page(&kodomo, app, &format!("/t/{T}/staff/counter")).await;
    assert_eq!(options(&html, "field-c"), ["c7"]);
    assert_eq!(
        body(call(app, &kodomo, "c7").await).await["ticket"]["display"],
        "C7-001"
    );
    let (_, html) = page(&kodomo, app, &format!("/t/{T}/staff/counter?c=c7")).await;
    assert_eq!(
        options(&html, "field-to"),
        ["c1", "c3", "c4", "c5", "c6", "c8"]
    );
    // Staff of a department without counters are told so.
    let approver = app.staff(T, "approver").await;
    assert_eq!(
        call(app, &approver, "c1").await.status(),
        StatusCode::FORBIDDEN,
        "no clerk role"
    );
}

testkit::on_both_backends!(
    tickets_and_calling,
    concurrent_clerks,
    board_stream,
    department_scoping
);
