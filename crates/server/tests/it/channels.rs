//! Other channels (`mail::channels`, issue 17 item 4): the Atom feeds
//! per category and the iCalendar feed of events, exactly; the LINE
//! webhook's signature (good, wrong, missing), linking that a replay
//! cannot repeat, pushes delivered once through the job queue with
//! retries after 429 and a lost answer, permanent failure on another 4xx,
//! unlinking on unfollow, and the administrator's channel settings. LINE
//! itself is `testkit::line_standin`, a local stand-in.
//! Sent messages are inserted with SQL (composing is `mail::newsletters`).

use std::time::Duration;

use kernel::jobs::JobSpec;
use mail::channels::line::push::LINE_PUSH;
use mail::channels::line::signature::sign;
use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::line_standin::{Fault, LineStandin};
use testkit::{Backend, TestApp};

const T: &str = "122289";
const OTHER: &str = "242021";
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const TOKEN: &str = "standin-access-token-0123456789ABCDEFG+/=";
const USER: &str = "U0123456789abcdef0123456789abcdef";
const USER2: &str = "Ufedcba9876543210fedcba9876543210";

async fn spawn(backend: Backend) -> Option<(TestApp, LineStandin)> {
    let line = LineStandin::start(TOKEN).await;
    let base = line.base.clone();
    let app = TestApp::spawn_with(backend, move |c| c.line_api_url = base).await?;
    Some((app, line))
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(app.app.db.write()).await.unwrap();
}

async fn categories(app: &TestApp, tenant: &str) {
    // Exactly these, in place of the demo's own
    // (mail::subscriptions::categories::DEFAULTS).
    exec(
        app,
        &format!("DELETE FROM mail_categories WHERE tenant = '{tenant}'"),
    )
    .await;
    exec(
        app,
        &format!(
            "INSERT INTO mail_categories (tenant, code, name, names, position, active, created_at, updated_at) VALUES \
             ('{tenant}', 'bousai', '防災・防犯', '{{\"en\": \"Disaster and safety\"}}', 1, 1, 1796000000000, 1796000000000), \
             ('{tenant}', 'event', 'イベント', '{{}}', 2, 1, 1796000000000, 1796000000000), \
             ('{tenant}', 'old', '廃止した分類', '{{}}', 3, 0, 1796000000000, 1796000000000)"
        ),
    )
    .await;
}

struct Msg<'a> {
    tenant: &'a str,
    id: &'a str,
    category: &'a str,
    state: &'a str,
    sent_at: Option<i64>,
    event: Option<(i64, Option<i64>, Option<&'a str>)>,
    texts: &'a [(&'a str, &'a str, &'a str)],
}

async fn message(app: &TestApp, m: Msg<'_>) {
    let (start, end, place) = m.event.unwrap_or((0, None, None));
    sqlx::query(
        "INSERT INTO mail_messages (tenant, id, category, urgent, state, author, event_start, event_end, \
         event_place, created_at, updated_at, sent_at, version) \
         VALUES ($1, $2, $3, 0, $4, 'dept-admin', $5, $6, $7, 1796000000000, 1796000000000, $8, 1)",
    )
    .bind(m.tenant)
    .bind(m.id)
    .bind(m.category)
    .bind(m.state)
    .bind(m.event.map(|_| start))
    .bind(end)
    .bind(place)
    .bind(m.sent_at)
    .execute(app.app.db.write())
    .await
    .unwrap();
    for (lang, subject, body) in m.texts {
        sqlx::query(
            "INSERT INTO mail_message_texts (tenant, message, lang, subject, body) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(m.tenant)
        .bind(m.id)
        .bind(lang)
        .bind(subject)
        .bind(body)
        .execute(app.app.db.write())
        .await
        .unwrap();
    }
}

// ------------------------------------------------------------------ feeds

/// What an independent parser read from `body` (scripts/check-feeds.py:
/// feedparser for `atom`, icalendar for `ics`, from PyPI), as JSON. The
/// interpreter is `MADOGUCHI_TEST_FEED_PYTHON` (scripts/test sets it) or the
/// virtualenv it makes under target/; `None` when neither is there,
/// except on CI, where it is required.
fn parsed(kind: &str, body: &str) -> Option<Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var("MADOGUCHI_TEST_FEED_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target/feeds-venv/bin/python"));
    if !python.exists() {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
            panic!(
                "no feed parsers at {}: run scripts/test, which installs them",
                python.display()
            );
        }
        eprintln!(
            "SKIPPED the parser check: no {} (scripts/test installs it)",
            python.display()
        );
        return None;
    }
    let file =
        std::env::temp_dir().join(format!("madoguchi-feed-{}.{kind}", kernel::ids::short_id()));
    std::fs::write(&file, body).unwrap();
    let out = std::process::Command::new(&python)
        .arg(root.join("scripts/check-feeds.py"))
        .arg(kind)
        .arg(&file)
        .output()
        .expect("run scripts/check-feeds.py");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "the parser refused the {kind} feed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// 2026-12-10 01:00 UTC (10:00 in Japan) and an hour after.
const SENT1: i64 = 1_796_864_400_000;
const SENT2: i64 = SENT1 + 3_600_000;

async fn feed_fixture(app: &TestApp) {
    categories(app, T).await;
    categories(app, OTHER).await;
    message(
        app,
        Msg {
            tenant: T,
            id: "m1",
            category: "bousai",
            state: "sent",
            sent_at: Some(SENT1),
            event: None,
            texts: &[
                (
                    "ja",
                    "避難所の開設",
                    "台風に備え、<公民館>を開けます。\n持ち物 & 注意",
                ),
                ("en", "Shelters open", "The community hall is open."),
            ],
        },
    )
    .await;
    message(
        app,
        Msg {
            tenant: T,
            id: "m2",
            category: "bousai",
            state: "sent",
            sent_at: Some(SENT2),
            event: None,
            texts: &[("ja", "訓練のお知らせ", "防災訓練を行います。")],
        },
    )
    .await;
    // Not sent yet: in no feed.
    message(
        app,
        Msg {
            tenant: T,
            id: "m3",
            category: "bousai",
            state: "approved",
            sent_at: None,
            event: Some((SENT1, None, None)),
            texts: &[("ja", "下書き", "まだ")],
        },
    )
    .await;
    message(
        app,
        Msg {
            tenant: T,
            id: "ev1",
            category: "event",
            state: "sent",
            sent_at: Some(SENT1),
            // 2026-12-20 10:00–12:00 in Japan.
            event: Some((
                SENT1 + 10 * 86_400_000,
                Some(SENT1 + 10 * 86_400_000 + 7_200_000),
                Some("四街道市文化センター, 大ホール; 2階"),
            )),
            texts: &[(
                "ja",
                "市民まつり",
                &"よつかいどう市民まつりを開きます。".repeat(3),
            )],
        },
    )
    .await;
    // Another city's messages: never in this city's feeds.
    message(
        app,
        Msg {
            tenant: OTHER,
            id: "x1",
            category: "bousai",
            state: "sent",
            sent_at: Some(SENT2),
            event: Some((SENT2, None, None)),
            texts: &[("ja", "他市のお知らせ", "他市")],
        },
    )
    .await;
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client().get(app.url(path)).send().await.unwrap()
}

async fn atom_feed_is_exact(app: &TestApp) {
    feed_fixture(app).await;
    let host = "127.0.0.1";
    let self_url = app.url(&format!("/t/{T}/mail/feeds/bousai.atom"));
    let r = get(app, &format!("/t/{T}/mail/feeds/bousai.atom")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let body = r.text().await.unwrap();
    let expected = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"ja\">\n  \
<id>{self_url}</id>\n  \
<title type=\"text\">四街道市 防災・防犯のお知らせ</title>\n  \
<updated>2026-12-10T02:00:00Z</updated>\n  \
<author><name>四街道市</name></author>\n  \
<link rel=\"self\" type=\"application/atom+xml\" href=\"{self_url}\"/>\n  \
<link rel=\"alternate\" type=\"text/html\" href=\"{base}/t/{T}/mail\"/>\n  \
<generator>madoguchi</generator>\n  \
<entry>\n    \
<id>tag:{host},2026-12-10:madoguchi/{T}/mail/m2</id>\n    \
<title type=\"text\" xml:lang=\"ja\">訓練のお知らせ</title>\n    \
<updated>2026-12-10T02:00:00Z</updated>\n    \
<published>2026-12-10T02:00:00Z</published>\n    \
<content type=\"text\" xml:lang=\"ja\">防災訓練を行います。</content>\n  \
</entry>\n  \
<entry>\n    \
<id>tag:{host},2026-12-10:madoguchi/{T}/mail/m1</id>\n    \
<title type=\"text\" xml:lang=\"ja\">避難所の開設</title>\n    \
<updated>2026-12-10T01:00:00Z</updated>\n    \
<published>2026-12-10T01:00:00Z</published>\n    \
<content type=\"text\" xml:lang=\"ja\">台風に備え、&lt;公民館&gt;を開けます。\n持ち物 &amp; 注意</content>\n  \
</entry>\n\
</feed>\n",
        base = app.base
    );
    assert_eq!(body, expected);
    // feedparser reads the same.
    if let Some(v) = parsed("atom", &body) {
        assert_eq!(
            v,
            json!({
                "id": self_url,
                "title": "四街道市 防災・防犯のお知らせ",
                "language": "ja",
                "updated": "2026-12-10T02:00:00Z",
                "author": "四街道市",
                "links": [["alternate", format!("{}/t/{T}/mail", app.base)], ["self", self_url]],
                "entries": [
                    {
                        "id": format!("tag:{host},2026-12-10:madoguchi/{T}/mail/m2"),
                        "title": "訓練のお知らせ",
                        "updated": "2026-12-10T02:00:00Z",
                        "published": "2026-12-10T02:00:00Z",
                        "content": [["text/plain", "ja", "防災訓練を行います。"]],
                    },
                    {
                        "id": format!("tag:{host},2026-12-10:madoguchi/{T}/mail/m1"),
                        "title": "避難所の開設",
                        "updated": "2026-12-10T01:00:00Z",
                        "published": "2026-12-10T01:00:00Z",
                        "content": [["text/plain", "ja", "台風に備え、<公民館>を開けます。\n持ち物 & 注意"]],
                    },
                ],
            })
        );
    }

    // In English: the English text where there is one, Japanese elsewhere;
    // the same entry ids.
    let body = get(app, &format!("/t/{T}/mail/feeds/bousai.atom?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">"),
        "{body}"
    );
    assert!(body.contains("Disaster and safety"), "{body}");
    assert!(
        body.contains("<title type=\"text\" xml:lang=\"en\">Shelters open</title>"),
        "{body}"
    );
    assert!(
        body.contains("<title type=\"text\" xml:lang=\"ja\">訓練のお知らせ</title>"),
        "{body}"
    );
    assert!(body.contains(&format!(
        "<id>tag:{host},2026-12-10:madoguchi/{T}/mail/m1</id>"
    )));

    // A category with nothing sent: a complete, empty feed.
    let r = get(app, &format!("/t/{T}/mail/feeds/event.atom")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert_eq!(body.matches("<entry>").count(), 1, "ev1 is in イベント");
    // Unknown, inactive, malformed: 404.
    for path in ["nothing.atom", "old.atom", ".atom", "bousai.rss", "bousai"] {
        let r = get(app, &format!("/t/{T}/mail/feeds/{path}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The other city's feed has only its own message.
    let body = get(app, &format!("/t/{OTHER}/mail/feeds/bousai.atom"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body.matches("<entry>").count(), 1);
    assert!(body.contains("他市のお知らせ") && !body.contains("避難所"));
}

async fn ical_feed_is_exact(app: &TestApp) {
    feed_fixture(app).await;
    let r = get(app, &format!("/t/{T}/mail/feeds/events.ics")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
    let body = r.text().await.unwrap();
    let description = "よつかいどう市民まつりを開きます。".repeat(3);
    let lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//madoguchi//mail events//JA",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:四街道市 イベント",
        "X-WR-TIMEZONE:Asia/Tokyo",
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Tokyo",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0900",
        "TZOFFSETTO:+0900",
        "TZNAME:JST",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        &format!("UID:ev1-{T}@127.0.0.1"),
        "DTSTAMP:20261210T010000Z",
        "DTSTART;TZID=Asia/Tokyo:20261220T100000",
        "DTEND;TZID=Asia/Tokyo:20261220T120000",
        "SUMMARY:市民まつり",
        "LOCATION:四街道市文化センター\\, 大ホール\\; 2階",
        &format!("DESCRIPTION:{description}"),
        "END:VEVENT",
        "END:VCALENDAR",
    ];
    let expected: String = lines
        .iter()
        .map(|l| mail::channels::ical::fold(l))
        .collect();
    assert_eq!(body, expected);
    // icalendar reads the same, the times in Japan's zone.
    if let Some(v) = parsed("ics", &body) {
        assert_eq!(
            v,
            json!({
                "version": "2.0",
                "prodid": "-//madoguchi//mail events//JA",
                "timezones": ["Asia/Tokyo"],
                "events": [{
                    "uid": format!("ev1-{T}@127.0.0.1"),
                    "dtstamp": "2026-12-10T01:00:00+00:00",
                    "dtstart": "2026-12-20T10:00:00+09:00",
                    "dtstart_tzid": "Asia/Tokyo",
                    "dtend": "2026-12-20T12:00:00+09:00",
                    "summary": "市民まつり",
                    "location": "四街道市文化センター, 大ホール; 2階",
                    "description": description,
                }],
            })
        );
    }
    // Every physical line ends in CRLF and holds at most 75 octets; the
    // long description was folded.
    assert!(body.ends_with("\r\n"));
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
        assert!(!line.contains('\n') && !line.contains('\r'));
    }
    assert!(body.contains("\r\n "), "the description is folded");
    // Unfolded, it is the description again.
    assert!(body
        .replace("\r\n ", "")
        .contains(&format!("DESCRIPTION:{description}\r\n")));
    // The other city's event is in its calendar only.
    let other = get(app, &format!("/t/{OTHER}/mail/feeds/events.ics"))
        .await
        .text()
        .await
        .unwrap();
    assert!(other.contains("SUMMARY:他市のお知らせ") && !other.contains("市民まつり"));
    assert!(!other.contains("DTEND"), "no end given: none written");
}

// ------------------------------------------------------------------- LINE

async fn set_channel(app: &TestApp, token: &str) {
    let admin = app.staff(T, "dx-admin").await;
    let r = admin
        .put(app.url(&format!("/api/v1/t/{T}/staff/line/channel")))
        .json(&json!({"channel_secret": SECRET, "access_token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

fn event(kind: &str, id: &str, user: &str, reply: Option<&str>) -> Value {
    let mut e = json!({
        "type": kind,
        "mode": "active",
        "timestamp": 1796864400000_i64,
        "source": {"type": "user", "userId": user},
        "webhookEventId": id,
        "deliveryContext": {"isRedelivery": false},
    });
    if let Some(r) = reply {
        e["replyToken"] = json!(r);
    }
    if kind == "message" {
        e["message"] = json!({"type": "text", "id": "1", "text": "設定"});
    }
    e
}

async fn webhook(
    app: &TestApp,
    tenant: &str,
    body: &str,
    signature: Option<&str>,
) -> reqwest::Response {
    let mut r = app
        .client()
        .post(app.url(&format!("/t/{tenant}/line/webhook")))
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string());
    if let Some(s) = signature {
        r = r.header("x-line-signature", s);
    }
    r.send().await.unwrap()
}

/// Sends `events` signed with the channel secret; the JSON answer.
async fn deliver(app: &TestApp, events: Vec<Value>) -> Value {
    let body =
        json!({"destination": "Uaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "events": events}).to_string();
    let r = webhook(app, T, &body, Some(&sign(SECRET, body.as_bytes()))).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn link_path(text: &str) -> String {
    let at = text.find("/t/").expect("a link in the reply");
    text[at..].trim().to_string()
}

async fn user_state(app: &TestApp, user: &str) -> String {
    sqlx::query_scalar::<_, String>(
        "SELECT state FROM line_users WHERE tenant = $1 AND user_id = $2",
    )
    .bind(T)
    .bind(user)
    .fetch_optional(app.app.db.read())
    .await
    .unwrap()
    .unwrap_or_else(|| "none".into())
}

async fn subscriptions(app: &TestApp, user: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT category FROM line_subscriptions WHERE tenant = $1 AND user_id = $2 ORDER BY category",
    )
    .bind(T)
    .bind(user)
    .fetch_all(app.app.db.read())
    .await
    .unwrap()
}

async fn webhook_signature(backend: Backend) {
    let Some((app, line)) = spawn(backend).await else {
        return;
    };
    let body = json!({"destination": "U", "events": [event("follow", "e1", USER, Some("r1"))]})
        .to_string();
    // No LINE channel in this city: 404, even signed.
    let r = webhook(&app, T, &body, Some(&sign(SECRET, body.as_bytes()))).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    set_channel(&app, TOKEN).await;
    // Missing, wrong, made with another secret, or for another body: 401,
    // nothing recorded, nothing replied.
    let r = webhook(&app, T, &body, None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "MDG-401-line_signature");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("X-Line-Signature ヘッダーがありません"));
    let other_body = body.replace("e1", "e2");
    for sig in [
        "".to_string(),
        "not base64".to_string(),
        sign("fedcba9876543210fedcba9876543210", body.as_bytes()),
        sign(SECRET, other_body.as_bytes()),
    ] {
        let r = webhook(&app, T, &body, Some(&sig)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{sig}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-Line-Signature が正しくありません"));
    }
    // The right signature, but for another city's path: that city has no channel.
    let r = webhook(&app, OTHER, &body, Some(&sign(SECRET, body.as_bytes()))).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM line_users").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM line_webhook_events").await,
        0
    );
    assert!(line.replies().is_empty());
    // Signed but not LINE's JSON: 400.
    let r = webhook(&app, T, "[1]", Some(&sign(SECRET, b"[1]"))).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The console's "verify" request: no events, 200.
    let v = deliver(&app, vec![]).await;
    assert_eq!(v, json!({"handled": 0, "skipped": 0}));
    // Good: the follower is pending and got a link.
    let r = webhook(&app, T, &body, Some(&sign(SECRET, body.as_bytes()))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"handled": 1, "skipped": 0})
    );
    assert_eq!(user_state(&app, USER).await, "pending");
    let replies = line.replies();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].reply_token, "r1");
    assert!(replies[0].texts[0].starts_with("友だち追加ありがとうございます。"));
    assert!(replies[0].texts[0].contains(&format!("{}/t/{T}/line/link/", app.base)));
    app.cleanup().await;
}

async fn linking_cannot_be_replayed(backend: Backend) {
    let Some((app, line)) = spawn(backend).await else {
        return;
    };
    categories(&app, T).await;
    set_channel(&app, TOKEN).await;
    let follow = vec![event("follow", "e1", USER, Some("r1"))];
    assert_eq!(
        deliver(&app, follow.clone()).await,
        json!({"handled": 1, "skipped": 0})
    );
    let link = link_path(&line.replies()[0].texts[0]);
    let resident = app.client();
    let r = resident.get(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"bousai\"") && html.contains("value=\"event\""));
    assert!(
        !html.contains("value=\"old\""),
        "inactive categories are not offered"
    );
    let csrf = testkit::csrf_in(&html).unwrap();
    // Nothing chosen: 422, named, nothing changed.
    let r = resident
        .post(app.url(&link))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("受け取るお知らせの分類：1つ以上選んでください。"));
    // A category that is not offered: 422, named.
    let r = resident
        .post(app.url(&link))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("category", "bousai"),
            ("category", "old"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("「old」という分類はありません"));
    assert_eq!(user_state(&app, USER).await, "pending");
    assert!(subscriptions(&app, USER).await.is_empty());
    // Confirmed: linked with exactly that.
    let r = resident
        .post(app.url(&link))
        .form(&[("_csrf", csrf.as_str()), ("category", "bousai")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("設定しました。") && html.contains("<li>防災・防犯</li>"),
        "{html}"
    );
    // It tells how to stop everything the way that works (a link always
    // needs one category; an unfollow ends every push), not by message.
    assert!(
        html.contains(
            "すべて止めるときは、このアカウントをブロックするか友だちから削除してください。"
        ),
        "{html}"
    );
    assert!(!html.contains("止めるときは、LINEでこのアカウントに何かメッセージを"));
    assert_eq!(user_state(&app, USER).await, "linked");
    assert_eq!(subscriptions(&app, USER).await, ["bousai"]);
    // The same POST again (a replay): 404, nothing changes.
    let r = resident
        .post(app.url(&link))
        .form(&[("_csrf", csrf.as_str()), ("category", "event")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("このリンクは使えません"));
    assert_eq!(subscriptions(&app, USER).await, ["bousai"]);
    assert_eq!(
        resident.get(app.url(&link)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // The follow event replayed (same webhookEventId): skipped, no new
    // link, still linked.
    assert_eq!(
        deliver(&app, follow).await,
        json!({"handled": 0, "skipped": 1})
    );
    assert_eq!(line.replies().len(), 1);
    assert_eq!(user_state(&app, USER).await, "linked");
    // A message asks for the settings: a new link, showing what is chosen.
    deliver(&app, vec![event("message", "e2", USER, Some("r2"))]).await;
    let replies = line.replies();
    assert_eq!(replies.len(), 2);
    assert!(
        replies[1].texts[0].starts_with("受け取るお知らせの分類は、次のページで確認・変更できます")
    );
    let link2 = link_path(&replies[1].texts[0]);
    assert_ne!(link2, link);
    let html = resident
        .get(app.url(&link2))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"bousai\" checked"), "{html}");
    assert!(!html.contains("value=\"event\" checked"));
    // A link of one city is nothing in another.
    let other = link2.replace(&format!("/t/{T}/"), &format!("/t/{OTHER}/"));
    assert_eq!(
        resident.get(app.url(&other)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    app.cleanup().await;
}

/// Links `user` to `categories` through the webhook and the page.
async fn link_user(app: &TestApp, line: &LineStandin, user: &str, event_id: &str, cats: &[&str]) {
    deliver(app, vec![event("follow", event_id, user, Some(event_id))]).await;
    let text = line
        .replies()
        .into_iter()
        .find(|r| r.reply_token == event_id)
        .unwrap()
        .texts[0]
        .clone();
    let link = link_path(&text);
    let c = app.client();
    let csrf = app.csrf(&c, &link).await;
    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend(cats.iter().map(|c| ("category", *c)));
    let r = c.post(app.url(&link)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn sweep(app: &TestApp) {
    kernel::jobs::enqueue_now(&app.app.db, JobSpec::new("", LINE_PUSH, Value::Null))
        .await
        .unwrap();
}

/// Waits until `cond` holds, making queued pushes due at once (instead
/// of after their backoff) while it waits.
async fn until(app: &TestApp, what: &str, cond: impl AsyncFn() -> bool) {
    for _ in 0..300 {
        if cond().await {
            return;
        }
        exec(
            app,
            &format!("UPDATE jobs SET run_at = 0 WHERE kind = '{LINE_PUSH}' AND state = 'queued'"),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not after 30 s: {what}");
}

async fn push_row(app: &TestApp, message: &str, user: &str) -> (String, String, i64) {
    let row: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT state, retry_key, attempts FROM line_pushes WHERE tenant = $1 AND message = $2 AND user_id = $3",
    )
    .bind(T)
    .bind(message)
    .bind(user)
    .fetch_optional(app.app.db.read())
    .await
    .unwrap();
    row.unwrap_or_else(|| ("none".into(), String::new(), 0))
}

async fn push_delivered_once_after_429(backend: Backend) {
    let Some((app, line)) = spawn(backend).await else {
        return;
    };
    categories(&app, T).await;
    // Sent before LINE was set up: never pushed.
    message(
        &app,
        Msg {
            tenant: T,
            id: "before",
            category: "bousai",
            state: "sent",
            sent_at: Some(kernel::clock::now_ms() - 60_000),
            event: None,
            texts: &[("ja", "昔のお知らせ", "前")],
        },
    )
    .await;
    set_channel(&app, TOKEN).await;
    link_user(&app, &line, USER, "f1", &["bousai"]).await;
    link_user(&app, &line, USER2, "f2", &["event"]).await;
    let now = kernel::clock::now_ms();
    message(
        &app,
        Msg {
            tenant: T,
            id: "m1",
            category: "bousai",
            state: "sent",
            sent_at: Some(now),
            event: None,
            texts: &[
                ("ja", "避難所の開設", "公民館を開けます。"),
                ("en", "Shelter", "Open."),
            ],
        },
    )
    .await;
    line.fail_next(&[Fault::TooMany, Fault::TooMany]);
    sweep(&app).await;
    until(&app, "m1 pushed", async || {
        line.pushes().len() == 1 && push_row(&app, "m1", USER).await.0 == "sent"
    })
    .await;
    // Two 429s, then accepted: one push, to the one user of 防災・防犯, in
    // Japanese (their page was Japanese), with the same retry key each time.
    // The statuses: the two replies to the follows, then the push's tries.
    assert_eq!(line.statuses(), [200, 200, 429, 429, 200]);
    let pushes = line.pushes();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].to, USER);
    assert_eq!(pushes[0].texts, ["避難所の開設\n\n公民館を開けます。"]);
    let (state, key, attempts) = push_row(&app, "m1", USER).await;
    assert_eq!((state.as_str(), attempts), ("sent", 3));
    assert_eq!(pushes[0].retry_key.as_deref(), Some(key.as_str()));
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM jobs WHERE kind = '{LINE_PUSH}' AND state = 'done' AND payload LIKE '%push%'")).await,
        1
    );
    // Swept again: nothing new (each message's pushes are queued once).
    sweep(&app).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM line_pushes").await, 1);
    assert_eq!(line.pushes().len(), 1);

    // Accepted but the answer lost: the retry (same key) is a 409, the
    // push counts as sent, LINE delivered it once.
    message(
        &app,
        Msg {
            tenant: T,
            id: "m2",
            category: "bousai",
            state: "sent",
            sent_at: Some(kernel::clock::now_ms()),
            event: None,
            texts: &[("ja", "続報", "避難所は2か所です。")],
        },
    )
    .await;
    line.fail_next(&[Fault::LostAnswer]);
    sweep(&app).await;
    until(&app, "m2 sent", async || {
        push_row(&app, "m2", USER).await.0 == "sent"
    })
    .await;
    let statuses = line.statuses();
    assert_eq!(&statuses[statuses.len() - 2..], [500, 409]);
    assert_eq!(
        line.pushes()
            .iter()
            .filter(|p| p.texts[0].starts_with("続報"))
            .count(),
        1
    );

    // Refused with 429 on the job's last attempt: the push ends failed
    // with LINE's answer, not queued for ever.
    message(
        &app,
        Msg {
            tenant: T,
            id: "m3",
            category: "bousai",
            state: "sent",
            sent_at: Some(kernel::clock::now_ms()),
            event: None,
            texts: &[("ja", "第3報", "解除しました。")],
        },
    )
    .await;
    line.fail_next(&[Fault::TooMany, Fault::TooMany]);
    sweep(&app).await;
    until(&app, "m3 tried once", async || {
        push_row(&app, "m3", USER).await.2 == 1
    })
    .await;
    assert_eq!(push_row(&app, "m3", USER).await.0, "queued");
    let id: String =
        sqlx::query_scalar("SELECT id FROM line_pushes WHERE tenant = $1 AND message = 'm3'")
            .bind(T)
            .fetch_one(app.app.db.read())
            .await
            .unwrap();
    let api = mail::channels::line::api::LineApi::new(&line.base).unwrap();
    let last = mail::channels::line::push::send(&app.app.db, &api, T, &id, true).await;
    assert!(last.is_err(), "the job sees its last failure");
    let (state, _, attempts) = push_row(&app, "m3", USER).await;
    assert_eq!((state.as_str(), attempts), ("failed", 2));
    app.cleanup().await;
}

async fn refused_push_is_not_retried(backend: Backend) {
    let Some((app, line)) = spawn(backend).await else {
        return;
    };
    categories(&app, T).await;
    // A token LINE does not accept: 401, which no retry mends.
    set_channel(&app, "revoked-token-0123456789abcdefghij").await;
    // Replies fail too (logged); link the user directly.
    deliver(&app, vec![event("follow", "f1", USER, Some("f1"))]).await;
    exec(
        &app,
        &format!("UPDATE line_users SET state = 'linked' WHERE user_id = '{USER}'"),
    )
    .await;
    exec(&app, &format!("INSERT INTO line_subscriptions (tenant, user_id, category, created_at) VALUES ('{T}', '{USER}', 'bousai', 1)")).await;
    message(
        &app,
        Msg {
            tenant: T,
            id: "m1",
            category: "bousai",
            state: "sent",
            sent_at: Some(kernel::clock::now_ms()),
            event: None,
            texts: &[("ja", "件名", "本文")],
        },
    )
    .await;
    sweep(&app).await;
    until(&app, "m1 failed", async || {
        push_row(&app, "m1", USER).await.0 == "failed"
    })
    .await;
    let (_, _, attempts) = push_row(&app, "m1", USER).await;
    assert_eq!(attempts, 1);
    let error: String =
        sqlx::query_scalar("SELECT last_error FROM line_pushes WHERE message = 'm1'")
            .fetch_one(app.app.db.read())
            .await
            .unwrap();
    assert!(error.starts_with("HTTP 401"), "{error}");
    assert!(line.pushes().is_empty());
    assert_eq!(line.statuses(), [401, 401], "the reply and the one push");
    app.cleanup().await;
}

async fn unfollow_unlinks(backend: Backend) {
    let Some((app, line)) = spawn(backend).await else {
        return;
    };
    categories(&app, T).await;
    set_channel(&app, TOKEN).await;
    link_user(&app, &line, USER, "f1", &["bousai", "event"]).await;
    // A push queued, then the user leaves before it goes: dropped.
    message(
        &app,
        Msg {
            tenant: T,
            id: "m1",
            category: "bousai",
            state: "sent",
            sent_at: Some(kernel::clock::now_ms()),
            event: None,
            texts: &[("ja", "件名", "本文")],
        },
    )
    .await;
    let mut tx = app.app.db.begin().await.unwrap();
    mail::channels::line::push::queue_pushes(&mut tx, T, "m1", kernel::clock::now_ms())
        .await
        .unwrap();
    // Unfollowed in the same transaction as the queueing commits, so no
    // worker can send before.
    mail::channels::line::users::unfollow(&mut tx, T, USER, kernel::clock::now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    until(&app, "m1 dropped", async || {
        push_row(&app, "m1", USER).await.0 == "failed"
    })
    .await;
    assert!(line.pushes().is_empty());
    // Through the webhook: a linked user unfollows.
    link_user(&app, &line, USER2, "f2", &["bousai"]).await;
    assert_eq!(subscriptions(&app, USER2).await, ["bousai"]);
    deliver(&app, vec![event("unfollow", "u2", USER2, None)]).await;
    assert_eq!(user_state(&app, USER2).await, "unfollowed");
    assert!(subscriptions(&app, USER2).await.is_empty());
    message(
        &app,
        Msg {
            tenant: T,
            id: "m2",
            category: "bousai",
            state: "sent",
            sent_at: Some(kernel::clock::now_ms()),
            event: None,
            texts: &[("ja", "件名2", "本文2")],
        },
    )
    .await;
    sweep(&app).await;
    until(&app, "m2 swept", async || {
        app.count("SELECT COUNT(*) FROM line_messages WHERE message = 'm2'")
            .await
            == 1
    })
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM line_pushes WHERE message = 'm2'")
            .await,
        0
    );
    assert!(line.pushes().is_empty());
    // Following again starts over: pending, nothing pushed until confirmed.
    deliver(&app, vec![event("follow", "f3", USER2, Some("f3"))]).await;
    assert_eq!(user_state(&app, USER2).await, "pending");
    // 30 days after an unfollow the user and their pushes are deleted by
    // the sweep; a week after, the webhook event ids.
    let day = 86_400_000;
    let now = kernel::clock::now_ms();
    exec(
        &app,
        &format!(
            "UPDATE line_users SET unfollowed_at = {} WHERE user_id = '{USER}'",
            now - 30 * day - 1000
        ),
    )
    .await;
    exec(
        &app,
        &format!(
            "UPDATE line_webhook_events SET at = {} WHERE event_id = 'f1'",
            now - 7 * day - 1000
        ),
    )
    .await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM line_pushes WHERE user_id = '{USER}'"
        ))
        .await,
        1
    );
    sweep(&app).await;
    until(&app, "USER deleted", async || {
        user_state(&app, USER).await == "none"
    })
    .await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM line_pushes WHERE user_id = '{USER}'"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM line_webhook_events WHERE event_id = 'f1'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM line_webhook_events WHERE event_id = 'u2'")
            .await,
        1
    );
    assert_eq!(
        user_state(&app, USER2).await,
        "pending",
        "unfollowed then followed again: kept"
    );
    app.cleanup().await;
}

async fn channel_settings_are_for_the_administrator(backend: Backend) {
    let Some((app, _line)) = spawn(backend).await else {
        return;
    };
    let path = format!("/api/v1/t/{T}/staff/line/channel");
    let clerk = app.staff(T, "clerk").await;
    let r = clerk
        .put(app.url(&path))
        .json(&json!({"channel_secret": SECRET, "access_token": TOKEN}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let admin = app.staff(T, "dx-admin").await;
    let r = admin
        .put(app.url(&path))
        .json(&json!({"channel_secret": "short", "access_token": "has space in it 0123456789"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["channel_secret", "access_token"]);
    assert!(v["error"]["fields"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("チャネルシークレット："));
    assert_eq!(app.count("SELECT COUNT(*) FROM line_channels").await, 0);
    let r = admin.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["configured"], false);
    set_channel(&app, TOKEN).await;
    let r = admin.get(app.url(&path)).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"configured": true, "webhook_path": format!("/t/{T}/line/webhook")})
    );
    // Sealed at rest; audited.
    let (secret, token): (String, String) =
        sqlx::query_as("SELECT secret, access_token FROM line_channels WHERE tenant = $1")
            .bind(T)
            .fetch_one(app.app.db.read())
            .await
            .unwrap();
    assert!(!secret.contains(SECRET) && !token.contains("standin"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = 'line.channel.set'"
        ))
        .await,
        1
    );
    app.cleanup().await;
}

/// The administrator's page: set up by its form (mistakes named, nothing
/// saved), the webhook URL, counts of users and where pushes stand;
/// another role is refused.
async fn staff_page_sets_up_and_shows_pushes(backend: Backend) {
    let Some((app, line)) = spawn(backend).await else {
        return;
    };
    let path = format!("/t/{T}/staff/line");
    let clerk = app.staff(T, "clerk").await;
    assert_eq!(
        clerk.get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let admin = app.staff(T, "dx-admin").await;
    let html = admin
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("まだ設定されていません。"));
    assert!(html.contains(&format!("<code>{}/t/{T}/line/webhook</code>", app.base)));
    assert!(
        html.contains(&format!("href=\"/t/{T}/staff/line\"")),
        "in the menu"
    );
    let csrf = testkit::csrf_in(&html).unwrap();
    let r = admin
        .post(app.url(&path))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("channel_secret", "xyz"),
            ("access_token", TOKEN),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("チャネルシークレット：LINE Developers コンソールに表示される32文字"));
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"field-channel_secret-error\""));
    assert_eq!(app.count("SELECT COUNT(*) FROM line_channels").await, 0);
    let r = admin
        .post(app.url(&path))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("channel_secret", SECRET),
            ("access_token", TOKEN),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("LINEのチャネルを保存しました。") && html.contains("設定済みです。"));
    assert!(
        !html.contains(SECRET) && !html.contains(TOKEN),
        "never shown again"
    );
    // A linked user and a sent message: the counts and the push's state.
    categories(&app, T).await;
    link_user(&app, &line, USER, "f1", &["bousai"]).await;
    deliver(&app, vec![event("follow", "f2", USER2, Some("f2"))]).await;
    message(
        &app,
        Msg {
            tenant: T,
            id: "m1",
            category: "bousai",
            state: "sent",
            sent_at: Some(kernel::clock::now_ms()),
            event: None,
            texts: &[("ja", "避難所の開設", "本文")],
        },
    )
    .await;
    sweep(&app).await;
    until(&app, "m1 sent", async || {
        push_row(&app, "m1", USER).await.0 == "sent"
    })
    .await;
    let html = admin
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("連携済み 1 人、確認待ち 1 人、友だち解除 0 人"),
        "{html}"
    );
    assert!(
        html.contains(
            "<tr><td>避難所の開設<br><code>m1</code></td><td>1</td><td>0</td><td>0</td></tr>"
        ),
        "{html}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = 'line.channel.set'"
        ))
        .await,
        1
    );
    app.cleanup().await;
}

/// `madoguchi rekey`'s part: the channel sealed with the old key is
/// sealed again with the new one, and opens without the old key.
async fn rekey_reseals_the_channel(backend: Backend) {
    let Some((app, _line)) = spawn(backend).await else {
        return;
    };
    set_channel(&app, TOKEN).await;
    let old = app.app.config.encryption_keys[0].clone();
    let new = kernel::crypto::Vault::generate_spec("k2");
    let both = kernel::crypto::Vault::from_specs(&[new.clone(), old]).unwrap();
    let db = app.app.db.clone().with_vault(both);
    assert_eq!(mail::channels::line::channel::rekey(&db).await.unwrap(), 1);
    let only_new = app
        .app
        .db
        .clone()
        .with_vault(kernel::crypto::Vault::from_specs(&[new]).unwrap());
    let ch = mail::channels::line::channel::load(&only_new, T)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ch.secret.as_str(), ch.access_token.as_str()),
        (SECRET, TOKEN)
    );
    // The old key alone opens it no more.
    assert!(mail::channels::line::channel::load(&app.app.db, T)
        .await
        .is_err());
    app.cleanup().await;
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(testkit::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(testkit::Backend::Postgres).await;
                }
            )*
        }
    };
}

async fn atom_feed(backend: Backend) {
    let Some((app, _)) = spawn(backend).await else {
        return;
    };
    atom_feed_is_exact(&app).await;
    app.cleanup().await;
}

async fn ical_feed(backend: Backend) {
    let Some((app, _)) = spawn(backend).await else {
        return;
    };
    ical_feed_is_exact(&app).await;
    app.cleanup().await;
}

both!(
    atom_feed,
    ical_feed,
    webhook_signature,
    linking_cannot_be_replayed,
    push_delivered_once_after_429,
    refused_push_is_not_retried,
    unfollow_unlinks,
    channel_settings_are_for_the_administrator,
    rekey_reseals_the_channel,
    staff_page_sets_up_and_shows_pushes,
);
