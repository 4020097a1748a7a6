//! The smart counter over HTTP, on SQLite and PostgreSQL: tickets issued,
//! called, recalled, marked absent, transferred keeping their place and
//! finished; bad input; concurrent clerks; the board's live stream;
//! clerks serving only their department's counters; the congestion page,
//! its JSON and the history as CSV.

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
    // Not buffered by a reverse proxy (docs/SCALING.md's nginx example).
    assert_eq!(r.headers()["x-accel-buffering"], "no");
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

/// A time of day: (hour, minute), JST.
type Clock = (u8, u8);

/// Tickets of a past day at counter 2, issued and called at these times
/// — through the same queue functions the handlers use.
async fn past_tickets(app: &TestApp, day: time::Date, tickets: &[(Clock, Option<Clock>)]) {
    let at = |(h, m): Clock| {
        day.with_hms(h, m, 0)
            .unwrap()
            .assume_offset(kernel::clock::JST)
            .unix_timestamp()
            * 1000
    };
    let clerk = kernel::auth::Staff {
        tenant: T.into(),
        id: "clerk".into(),
        name: "窓口 担当".into(),
        department: "madoguchi".into(),
        roles: vec![kernel::auth::Role::Clerk],
        granted_departments: Vec::new(),
    }
    .prove::<kernel::auth::Clerk>()
    .unwrap();
    let db = &app.app.db;
    for (issued, _) in tickets {
        app.app
            .counter
            .issuer
            .issue(db, T, "c2", at(*issued))
            .await
            .unwrap();
    }
    for (_, called) in tickets {
        if let Some(c) = called {
            let t =
                counter::queue::call_next(db, app.app.counter.events.bus(), &clerk, "c2", at(*c))
                    .await
                    .unwrap()
                    .unwrap();
            counter::queue::finish(db, &clerk, &t.id, t.version, at(*c) + 60_000)
                .await
                .unwrap();
        }
    }
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The congestion page, its JSON and the CSV of the history.
async fn congestion(app: &TestApp) {
    let today = kernel::clock::to_jst(kernel::clock::now_ms()).date();
    let day = today - time::Duration::days(7);
    let weekday = WEEKDAYS[usize::from(day.weekday().number_days_from_monday())];
    // A week ago, at counter 2: a busy 9 o'clock (waits 30, 35, 40, 45
    // minutes), a quiet 14 o'clock (2, 4, 6), a ticket at 15 never called.
    past_tickets(
        app,
        day,
        &[
            ((9, 0), Some((9, 30))),
            ((9, 5), Some((9, 40))),
            ((9, 10), Some((9, 50))),
            ((9, 15), Some((10, 0))),
        ],
    )
    .await;
    past_tickets(
        app,
        day,
        &[
            ((14, 0), Some((14, 2))),
            ((14, 10), Some((14, 14))),
            ((14, 20), Some((14, 26))),
            ((15, 0), None),
        ],
    )
    .await;
    // Now: two waiting at counter 1, eight at counter 3, counter 8 closed.
    for _ in 0..2 {
        issue(app, "c1").await;
    }
    for _ in 0..8 {
        issue(app, "c3").await;
    }
    let admin = app.staff(T, "dx-admin").await;
    let token = app.csrf(&admin, &format!("/t/{T}/staff/counter")).await;
    let r = admin
        .post(app.url(&format!("/t/{T}/staff/counter/c8/open")))
        .form(&[("_csrf", token.as_str()), ("open", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // JSON: now and the forecast.
    let c = app.client();
    let j = body(
        c.get(app.url(&format!("/api/v1/t/{T}/counter/congestion")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let now = |code: &str| {
        j["counters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["counter"] == code)
            .unwrap()
            .clone()
    };
    // One clerk assumed, nobody served yet: 6 minutes for each person ahead.
    assert_eq!(now("c1")["waiting"], 2);
    assert_eq!(now("c1")["estimated_wait_minutes"], 12);
    assert_eq!(now("c1")["band"], "free");
    assert_eq!(now("c1")["name"]["ja"], "1番窓口（住所異動の届出）");
    assert_eq!(now("c3")["estimated_wait_minutes"], 48);
    assert_eq!(now("c3")["band"], "crowded");
    assert_eq!(now("c8")["open"], false);
    assert_eq!(now("c8")["band"], Value::Null);
    let f = &j["forecast"];
    assert_eq!(f["to"], (today - time::Duration::days(1)).to_string());
    assert_eq!(f["from"], (today - time::Duration::days(56)).to_string());
    assert!(f["weekdays"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w == weekday));
    let c2 = f["counters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["counter"] == "c2")
        .unwrap();
    let cell = |hour: u8| {
        c2["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["weekday"] == weekday && x["hour"] == hour)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            cell(9)["mean_wait_minutes"].clone(),
            cell(9)["band"].clone()
        ),
        (json!(38), json!("moderate"))
    );
    assert_eq!(cell(14)["mean_wait_minutes"], 4);
    assert_eq!(cell(14)["band"], "free");
    assert_eq!(
        (cell(15)["tickets"].clone(), cell(15)["called"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(cell(15)["mean_wait_minutes"], Value::Null, "too few");
    assert_eq!(c2["best"][0]["hour"], 14);
    assert_eq!(c2["best"][1]["hour"], 9);

    // The page, in Japanese and in English.
    let (status, html) = page(&c, app, &format!("/t/{T}/counter/congestion?c=c2")).await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "<h1>窓口の混雑状況</h1>",
        "<caption>2番窓口（証明書発行）の曜日・時間帯別の待ち時間の目安",
        "<th scope=\"row\">9時台</th>",
        "<th scope=\"row\">1番窓口（住所異動の届出）</th>",
        "band band--moderate",
        "<span>やや混雑</span>",
        "<span>空いています</span>",
        "<span>混雑</span>",
        "約 38 分",
        "約 4 分",
        "forecast-cell--best",
        "おすすめ",
        "href=\"/t/122289/counter/congestion.csv\"",
        "<noscript><meta http-equiv=\"refresh\" content=\"60\"></noscript>",
        "data-refresh-region=\"60\"",
        "受付を終了しました",
    ] {
        assert!(html.contains(expected), "the page shows {expected}");
    }
    let (_, en) = page(&c, app, &format!("/t/{T}/counter/congestion?c=c2&lang=en")).await;
    for expected in [
        "Fairly busy",
        "Not busy",
        "Recommended",
        "9 o’clock",
        "about 38 min",
    ] {
        assert!(en.contains(expected), "the English page shows {expected}");
    }
    // Linked from the kiosk, the board and the municipality's page.
    for from in [
        format!("/t/{T}/counter"),
        format!("/t/{T}/counter/board"),
        format!("/t/{T}"),
    ] {
        let (_, html) = page(&c, app, &from).await;
        assert!(
            html.contains("href=\"/t/122289/counter/congestion\""),
            "{from}"
        );
    }

    // The CSV: BOM, columns, a row per day, hour and counter.
    let r = c
        .get(app.url(&format!("/t/{T}/counter/congestion.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 with a byte order mark");
    let text = std::str::from_utf8(&bytes[3..]).unwrap().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "全国地方公共団体コード,地方公共団体名,日付,曜日,時台,窓口コード,窓口名,発行枚数,呼出枚数,対応完了枚数,平均待ち時間（分）,最長待ち時間（分）"
    );
    let wd = ["月", "火", "水", "木", "金", "土", "日"]
        [usize::from(day.weekday().number_days_from_monday())];
    for row in [
        format!("122289,四街道市,{day},{wd},9,c2,2番窓口（証明書発行）,4,4,4,37.5,45.0"),
        format!("122289,四街道市,{day},{wd},14,c2,2番窓口（証明書発行）,3,3,3,4.0,6.0"),
        format!("122289,四街道市,{day},{wd},15,c2,2番窓口（証明書発行）,1,0,0,,"),
    ] {
        assert!(lines.contains(&row.as_str()), "{row} in\n{text}");
    }
    let today_c3: i64 = lines
        .iter()
        .filter(|l| l.contains(&format!(",{today},")) && l.contains(",c3,"))
        .map(|l| l.split(',').nth(7).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(today_c3, 8, "today's tickets are in the default period");
    // No ticket ids, tokens or staff: only counts.
    assert!(app.count("SELECT COUNT(*) FROM tickets").await > 0);
    assert!(!text.contains("clerk") && !text.contains("C2-0"));

    // A period: from and to, 和暦 or 西暦, in the page's URL or the API's.
    let one_day = format!("from={day}&to={}", jp::JpDate::from_date(day).wareki());
    for path in [
        format!("/t/{T}/counter/congestion.csv?{one_day}"),
        format!("/api/v1/t/{T}/counter/congestion.csv?{one_day}"),
    ] {
        let r = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let text = r.text().await.unwrap();
        assert_eq!(
            text.lines().count(),
            1 + 3,
            "{path}: header and 3 hours\n{text}"
        );
    }
    // Bad dates: 400 naming the field.
    let r = c
        .get(app.url(&format!(
            "/api/v1/t/{T}/counter/congestion.csv?from=2026-13-01"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let b = body(r).await;
    assert_eq!(b["error"]["code"], "MDG-400");
    assert!(
        b["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("「開始日（from）」の月（13月）は存在しません"),
        "{b}"
    );
    let (status, html) = page(
        &c,
        app,
        &format!("/t/{T}/counter/congestion.csv?from=2026-06-10&to=2026-06-01"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(
        "「開始日（from）」は「終了日（to）」と同じ日か、それより前の日付にしてください。"
    ));
    let (status, _) = page(&c, app, &format!("/t/{T}/counter/congestion.csv?to=あした")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = page(&c, app, "/t/999999/counter/congestion.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The board's row of one counter (`<tr data-counter="…">…</tr>`).
fn board_row<'a>(html: &'a str, counter: &str) -> &'a str {
    let start = html
        .find(&format!("<tr data-counter=\"{counter}\">"))
        .unwrap_or_else(|| panic!("row of {counter}"));
    let end = start + html[start..].find("</tr>").unwrap();
    &html[start..end]
}

/// An empty queue shows no estimate, on the board and on the wall screen;
/// the wall screen has no site chrome and every counter.
async fn board_and_wall_screen(app: &TestApp) {
    let c = app.client();
    let counters = body(
        c.get(app.url(&format!("/api/v1/t/{T}/counter/board")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let codes: Vec<String> = counters["counters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["counter"].as_str().unwrap().to_string())
        .collect();
    assert!(codes.len() >= 2, "{counters}");
    issue(app, "c1").await;
    for path in ["board", "board/signage"] {
        let (status, html) = page(&c, app, &format!("/t/{T}/counter/{path}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let waiting = board_row(&html, "c1");
        assert!(waiting.contains("約 "), "{path}: {waiting}");
        for code in codes.iter().filter(|c| *c != "c1") {
            let row = board_row(&html, code);
            assert!(
                row.contains("—<span class=\"visually-hidden\">待っている人はいません</span>"),
                "{path} {code}: {row}"
            );
            assert!(!row.contains("約 "), "{path} {code}: no estimate: {row}");
        }
        assert_eq!(
            html.matches("<tr data-counter=").count(),
            codes.len(),
            "{path}: every counter"
        );
    }
    let (_, wall) = page(&c, app, &format!("/t/{T}/counter/board/signage")).await;
    assert!(wall.contains("<main class=\"signage board\""));
    for chrome in ["site-header", "site-footer", "breadcrumbs", "lang-switch"] {
        assert!(!wall.contains(chrome), "no {chrome} on the wall screen");
    }
    let (_, board) = page(&c, app, &format!("/t/{T}/counter/board")).await;
    assert!(board.contains(&format!("href=\"/t/{T}/counter/board/signage\"")));
}

/// Kiosk mode (a shared tablet): the ticket page goes back to the start
/// after 30 seconds (120 when asked), with or without JavaScript; the
/// ordinary ticket page does not.
async fn kiosk_mode(app: &TestApp) {
    let c = app.client();
    let kiosk = format!("/t/{T}/counter?kiosk=1");
    let (_, html) = page(&c, app, &kiosk).await;
    assert!(html.contains("<input type=\"hidden\" name=\"kiosk\" value=\"1\">"));
    let token = app.csrf(&c, &kiosk).await;
    let r = c
        .post(app.url(&format!("/t/{T}/counter/tickets")))
        .form(&[("_csrf", token.as_str()), ("counter", "c2"), ("kiosk", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.ends_with("?new=1&kiosk=1"), "{to}");
    let (status, ticket) = page(&c, app, &to).await;
    assert_eq!(status, StatusCode::OK);
    // Without JavaScript a meta refresh; with it a timer (madoguchi.js)
    // reading the notice, which warns and offers more time.
    assert!(
        ticket.contains(&format!(
            "<noscript><meta http-equiv=\"refresh\" content=\"30;url=/t/{T}/counter?kiosk=1\"></noscript>"
        )),
        "{ticket}"
    );
    assert!(ticket.contains(&format!(
        "data-return-after=\"30\" data-return-url=\"/t/{T}/counter?kiosk=1\""
    )));
    assert!(
        !ticket.contains("content=\"30\">"),
        "no self-refresh besides"
    );
    assert!(ticket.contains("30 秒後に最初の画面に戻ります"));
    let here = to.split('?').next().unwrap();
    let longer = format!("{here}?new=1&#38;kiosk=1&#38;longer=1");
    assert!(ticket.contains(&longer), "{ticket}");
    let (_, kept) = page(&c, app, &format!("{here}?new=1&kiosk=1&longer=1")).await;
    assert!(kept.contains(&format!(
        "<noscript><meta http-equiv=\"refresh\" content=\"120;url=/t/{T}/counter?kiosk=1\"></noscript>"
    )));
    assert!(kept.contains("data-return-after=\"120\""));
    // Not in kiosk mode: no return, the waiting ticket refreshes itself.
    let token = app.csrf(&c, &format!("/t/{T}/counter")).await;
    let r = c
        .post(app.url(&format!("/t/{T}/counter/tickets")))
        .form(&[("_csrf", token.as_str()), ("counter", "c2")])
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.ends_with("?new=1"), "{to}");
    let (_, ticket) = page(&c, app, &to).await;
    assert!(!ticket.contains("url=/t/"));
    assert!(ticket.contains("<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>"));
}

testkit::on_both_backends!(
    tickets_and_calling,
    concurrent_clerks,
    board_stream,
    department_scoping,
    congestion,
    board_and_wall_screen,
    kiosk_mode
);
