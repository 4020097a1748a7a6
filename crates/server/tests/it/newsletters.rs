//! 配信 (newsletters, `mail::newsletters`) over HTTP, on SQLite and
//! PostgreSQL: compose with every mistake named and nothing stored;
//! Markdown rendered to the safe subset in the preview (raw HTML as text,
//! only http/https/mailto links); a message to more recipients than the
//! threshold waits for a second person (the author cannot approve; a
//! stale version is refused); 緊急 goes at once when approved; the send
//! queues one personalised outbox row per active, unsuppressed
//! subscriber of the category in the language nearest theirs, once even
//! when the job runs again; edits are optimistic; the test send goes to
//! the author's own address; the threshold is the system
//! administrator's; another city sees nothing. Subscribers are made by
//! SQL with sealed addresses (sign-up is `mail::subscriptions`).

use reqwest::StatusCode;
use testkit::TestApp;

const T: &str = "122289";
const CAT: &str = "bousai";
const BASE: &str = "/t/122289/staff/mail/messages";

/// A subscriber to seed: id, address, language, state, categories.
struct Sub<'a> {
    id: &'a str,
    address: &'a str,
    lang: &'a str,
    state: &'a str,
    categories: &'a [&'a str],
}

async fn category(app: &TestApp, tenant: &str, code: &str, name: &str) {
    sqlx::query(
        // The demo municipalities start with categories of their own
        // (mail::subscriptions::categories::DEFAULTS): this one replaces
        // any of the same code.
        "INSERT INTO mail_categories (tenant, code, name, names, position, active, created_at, updated_at) VALUES ($1, $2, $3, '{}', 1, 1, 0, 0)
         ON CONFLICT (tenant, code) DO UPDATE SET name = excluded.name, names = excluded.names, position = 1, active = 1",
    )
    .bind(tenant)
    .bind(code)
    .bind(name)
    .execute(app.app.db.write())
    .await
    .unwrap();
}

async fn subscribers(app: &TestApp, tenant: &str, subs: &[Sub<'_>]) {
    let vault = app.app.db.vault().unwrap();
    for s in subs {
        let email = jp::Email::parse(s.address).unwrap();
        sqlx::query(
            "INSERT INTO mail_subscribers (tenant, id, address, address_hash, lang, state, consent_at, consent_source, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, 'web', 0)",
        )
        .bind(tenant)
        .bind(s.id)
        .bind(mail::address::seal(vault, tenant, &email))
        .bind(mail::address::hash(vault, tenant, &email))
        .bind(s.lang)
        .bind(s.state)
        .execute(app.app.db.write())
        .await
        .unwrap();
        for c in s.categories {
            sqlx::query(
                "INSERT INTO mail_subscriptions (tenant, subscriber, category, created_at) VALUES ($1, $2, $3, 0)",
            )
            .bind(tenant)
            .bind(s.id)
            .bind(*c)
            .execute(app.app.db.write())
            .await
            .unwrap();
        }
    }
}

async fn suppress(app: &TestApp, tenant: &str, address: &str) {
    let vault = app.app.db.vault().unwrap();
    let email = jp::Email::parse(address).unwrap();
    sqlx::query(
        "INSERT INTO mail_suppressions (tenant, address_hash, reason, detail, at) VALUES ($1, $2, 'bounce', '550', 0)",
    )
    .bind(tenant)
    .bind(mail::address::hash(vault, tenant, &email))
    .execute(app.app.db.write())
    .await
    .unwrap();
}

/// `n` active Japanese subscribers of `CAT`.
async fn many(app: &TestApp, n: usize) {
    let ids: Vec<(String, String)> = (0..n)
        .map(|i| (format!("m{i:04}"), format!("resident{i}@example.jp")))
        .collect();
    let subs: Vec<Sub> = ids
        .iter()
        .map(|(id, a)| Sub {
            id,
            address: a,
            lang: "ja",
            state: "active",
            categories: &[CAT],
        })
        .collect();
    subscribers(app, T, &subs).await;
}

async fn scalar(app: &TestApp, sql: &str) -> String {
    use sqlx::Row;
    let r = sqlx::query(sql).fetch_one(app.app.db.read()).await.unwrap();
    r.try_get::<String, _>(0)
        .or_else(|_| r.try_get::<i64, _>(0).map(|n| n.to_string()))
        .unwrap_or_else(|_| "NULL".into())
}

async fn state_of(app: &TestApp, id: &str) -> String {
    scalar(
        app,
        &format!("SELECT state FROM mail_messages WHERE tenant = '{T}' AND id = '{id}'"),
    )
    .await
}

async fn version_of(app: &TestApp, id: &str) -> String {
    scalar(
        app,
        &format!("SELECT version FROM mail_messages WHERE tenant = '{T}' AND id = '{id}'"),
    )
    .await
}

async fn text(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c
        .get(app.url(path))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post(
    c: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let token = app.csrf(c, "/t/122289/staff/catalogue").await;
    let mut f: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
    f.extend_from_slice(form);
    let r = c
        .post(app.url(path))
        .header("accept-language", "ja")
        .form(&f)
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

/// Writes a message as `c`; its id.
async fn compose(c: &reqwest::Client, app: &TestApp, form: &[(&str, &str)]) -> String {
    let (s, loc, body) = post(c, app, BASE, form).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    loc.rsplit('/').next().unwrap().to_string()
}

async fn step(
    c: &reqwest::Client,
    app: &TestApp,
    id: &str,
    what: &str,
    version: &str,
) -> (StatusCode, String, String) {
    post(
        c,
        app,
        &format!("{BASE}/{id}/{what}"),
        &[("version", version)],
    )
    .await
}

/// Waits for the send job to leave `approved`.
async fn sent(app: &TestApp, id: &str) -> String {
    for _ in 0..100 {
        let s = state_of(app, id).await;
        if s != "approved" {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("message {id} was not sent in 10 s");
}

async fn audits(app: &TestApp, action: &str, target: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = '{action}' AND target = '{target}'"
    ))
    .await
}

const BASIC: [(&str, &str); 3] = [
    ("category", CAT),
    ("subject_ja", "避難所を開設しました"),
    ("body_ja", "台風10号の接近に伴い、避難所を開設しました。"),
];

async fn compose_names_every_mistake_and_stores_nothing(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    let c = app.staff(T, "kodomo").await;
    let (s, html) = text(&c, app, &format!("{BASE}/new")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("防災・防犯"), "categories offered");
    assert!(html.contains("name=\"subject_easy\"") && html.contains("name=\"body_en\""));

    let (s, _, html) = post(
        &c,
        app,
        BASE,
        &[
            ("category", "nothing"),
            ("subject_ja", "一行目\r\nBcc: x@example.jp"),
            ("body_ja", ""),
            ("subject_en", "Only a subject"),
            ("scheduled_at", "2020-01-01T09:00"),
            ("event_end", "2030-01-01T09:00"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "その分類はありません。",
        "日本語の件名は1行で入力してください",
        "日本語の本文を入力してください。",
        "英語の本文を入力してください。",
        "配信日時が過ぎています。",
        "催しの終了日時があるときは、開始日時も入力してください。",
    ] {
        assert!(html.contains(msg), "{msg}");
    }
    assert!(html.contains("Only a subject"), "what was typed is kept");
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_messages").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_message_texts").await,
        0
    );

    // Event end before its start.
    let mut f = BASIC.to_vec();
    f.extend([
        ("event_start", "2030-05-01T10:00"),
        ("event_end", "2030-05-01T09:00"),
    ]);
    let (s, _, html) = post(&c, app, BASE, &f).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("催しの終了日時は開始日時より後にしてください。"));
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_messages").await, 0);

    // Only content editors; a clerk is refused.
    let clerk = app.staff(T, "clerk").await;
    assert_eq!(text(&clerk, app, BASE).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        text(&clerk, app, &format!("{BASE}/new")).await.0,
        StatusCode::FORBIDDEN
    );

    // A good one, with an event, in three languages.
    let mut f = BASIC.to_vec();
    f.extend([
        ("subject_easy", "ひなんじょを あけました"),
        ("body_easy", "たいふうが きます。"),
        ("subject_en", "Evacuation shelters open"),
        ("body_en", "Typhoon No. 10 is approaching."),
        ("event_start", "2030-05-01T10:00"),
        ("event_end", "2030-05-01T12:00"),
        ("event_place", "四街道市役所"),
    ]);
    let id = compose(&c, app, &f).await;
    assert_eq!(state_of(app, &id).await, "draft");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_message_texts WHERE tenant = '{T}' AND message = '{id}'"
        ))
        .await,
        3
    );
    assert_eq!(
        scalar(
            app,
            &format!("SELECT event_start FROM mail_messages WHERE id = '{id}'")
        )
        .await,
        // 2030-05-01 10:00 JST
        "1903827600000"
    );
    assert_eq!(audits(app, "mail.newsletter.create", &id).await, 1);
    assert!(text(&c, app, BASE).await.1.contains("避難所を開設しました"));
}

async fn preview_renders_markdown_safely(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    let c = app.staff(T, "kodomo").await;
    let id = compose(
        &c,
        app,
        &[
            ("category", CAT),
            ("subject_ja", "お知らせ <b>太字</b>"),
            (
                "body_ja",
                "# 見出し\n\n**大切** なお知らせ <script>alert(1)</script>\n\n[市のサイト](https://www.city.yotsukaido.chiba.jp/) [押して](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n![追跡](https://tracker.example/p.gif)",
            ),
        ],
    )
    .await;
    let (s, html) = text(&c, app, &format!("{BASE}/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let preview = html
        .split("data-preview=\"html\"")
        .nth(1)
        .and_then(|p| p.split("</div>").next())
        .expect("HTML preview");
    assert!(preview.contains("<h2>見出し</h2>"), "{preview}");
    assert!(preview.contains("<strong>大切</strong>"), "{preview}");
    assert!(
        preview.contains("<a href=\"https://www.city.yotsukaido.chiba.jp/\">市のサイト</a>"),
        "{preview}"
    );
    assert!(!preview.contains("javascript:"), "{preview}");
    assert!(
        preview.contains("押して"),
        "the refused link keeps its text"
    );
    assert!(!preview.contains("<script"), "{preview}");
    assert!(
        preview.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{preview}"
    );
    assert!(!preview.contains("<img"), "{preview}");
    assert!(
        !preview.contains("tracker.example"),
        "no remote images: {preview}"
    );
    assert!(!html.contains("<b>太字</b>"), "the subject is escaped");
    // The text version shows the body as written (escaped).
    let plain = html
        .split("data-preview=\"text\"")
        .nth(1)
        .and_then(|p| p.split("</pre>").next())
        .expect("text preview");
    assert!(
        plain.contains("**大切** なお知らせ &#60;script&#62;"),
        "{plain}"
    );
    assert!(!plain.contains("<script"), "{plain}");
}

async fn approval_needs_a_second_person(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    many(app, 101).await;
    let author = app.staff(T, "kodomo").await;
    let admin = app.staff(T, "dx-admin").await;
    // 緊急, and scheduled for much later: the schedule is skipped, the
    // approval is not.
    let mut f = BASIC.to_vec();
    f.extend([("urgent", "on"), ("scheduled_at", "2099-01-01T09:00")]);
    let id = compose(&author, app, &f).await;
    let (s, html) = text(&author, app, &format!("{BASE}/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("<dd id=\"recipients\">101</dd>"),
        "recipients now"
    );
    assert!(html.contains("作成者とは別の職員の承認が必要です"));

    // Submitted: 101 > 100, so it waits, urgent or not.
    let v = version_of(app, &id).await;
    let (s, loc, _) = step(&author, app, &id, "submit", &v).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.ends_with("?done=awaiting"), "{loc}");
    assert_eq!(state_of(app, &id).await, "awaiting_approval");
    assert_eq!(audits(app, "mail.newsletter.submit", &id).await, 1);
    let v = version_of(app, &id).await;

    // The author cannot approve: 403, nothing changes.
    let (s, _, html) = step(&author, app, &id, "approve", &v).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("このメッセージを作成・編集・提出した人は承認できません。"));
    assert_eq!(state_of(app, &id).await, "awaiting_approval");
    assert_eq!(version_of(app, &id).await, v);
    // Nor can someone who may not write messages.
    let approver = app.staff(T, "approver").await;
    assert_eq!(
        step(&approver, app, &id, "approve", &v).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(state_of(app, &id).await, "awaiting_approval");

    // A stale version: 409, nothing changes.
    let stale = (v.parse::<i64>().unwrap() - 1).to_string();
    let (s, _, html) = step(&admin, app, &id, "approve", &stale).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("ほかの人が先にこのメッセージを変更しました。"));
    assert_eq!(state_of(app, &id).await, "awaiting_approval");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign = '{id}'"
        ))
        .await,
        0
    );

    // Another administrator approves: urgent, so it goes at once, not in 2099.
    let (s, loc, _) = step(&admin, app, &id, "approve", &v).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.ends_with("?done=approved"), "{loc}");
    assert_eq!(
        scalar(
            app,
            &format!("SELECT approver FROM mail_messages WHERE id = '{id}'")
        )
        .await,
        "dx-admin"
    );
    assert_eq!(audits(app, "mail.newsletter.approve", &id).await, 1);
    assert_eq!(sent(app, &id).await, "sent");
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM outbox WHERE tenant = '{T}' AND campaign = '{id}' AND kind = 'newsletter'")).await,
        101
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM outbox WHERE campaign = '{id}' AND subject = '【緊急】避難所を開設しました'")).await,
        101
    );
    assert_eq!(audits(app, "mail.newsletter.send", &id).await, 1);
    // Approving again: it is no longer waiting.
    let v = version_of(app, &id).await;
    assert_eq!(
        step(&admin, app, &id, "approve", &v).await.0,
        StatusCode::CONFLICT
    );
}

async fn small_audience_goes_without_a_second_person(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    many(app, 3).await;
    let author = app.staff(T, "kodomo").await;
    // Scheduled for later: approved, not sent.
    let mut f = BASIC.to_vec();
    f.push(("scheduled_at", "2099-01-01T09:00"));
    let later = compose(&author, app, &f).await;
    let (s, loc, _) = step(
        &author,
        app,
        &later,
        "submit",
        &version_of(app, &later).await,
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.ends_with("?done=submitted"), "{loc}");
    assert_eq!(state_of(app, &later).await, "approved");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM jobs WHERE tenant = '{T}' AND kind = 'mail.newsletter.send' AND state = 'queued' AND run_at = {}",
            mail::newsletters::model::parse_local("2099-01-01T09:00").unwrap()
        ))
        .await,
        1
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(state_of(app, &later).await, "approved");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign = '{later}'"
        ))
        .await,
        0
    );

    // Unscheduled: goes now, by the author alone.
    let now = compose(&author, app, &BASIC).await;
    step(&author, app, &now, "submit", &version_of(app, &now).await).await;
    assert_eq!(sent(app, &now).await, "sent");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign = '{now}'"
        ))
        .await,
        3
    );

    // Cancelled before its time: its job finds nothing to do.
    let (s, _, _) = step(
        &author,
        app,
        &later,
        "cancel",
        &version_of(app, &later).await,
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(state_of(app, &later).await, "cancelled");
    assert_eq!(audits(app, "mail.newsletter.cancel", &later).await, 1);
}

async fn audience_and_language_choice(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    category(app, T, "kosodate", "子育て").await;
    category(app, "242021", CAT, "防災").await;
    subscribers(
        app,
        T,
        &[
            Sub {
                id: "ja1",
                address: "ja1@example.jp",
                lang: "ja",
                state: "active",
                categories: &[CAT],
            },
            Sub {
                id: "en1",
                address: "en1@example.jp",
                lang: "en",
                state: "active",
                categories: &[CAT, "kosodate"],
            },
            Sub {
                id: "vi1",
                address: "vi1@example.jp",
                lang: "vi",
                state: "active",
                categories: &[CAT],
            },
            Sub {
                id: "ez1",
                address: "ez1@example.jp",
                lang: "ja-x-easy",
                state: "active",
                categories: &[CAT],
            },
            Sub {
                id: "un1",
                address: "un1@example.jp",
                lang: "ja",
                state: "unsubscribed",
                categories: &[CAT],
            },
            Sub {
                id: "pe1",
                address: "pe1@example.jp",
                lang: "ja",
                state: "pending",
                categories: &[CAT],
            },
            Sub {
                id: "bo1",
                address: "Bounced@Example.jp",
                lang: "ja",
                state: "active",
                categories: &[CAT],
            },
            Sub {
                id: "ko1",
                address: "ko1@example.jp",
                lang: "ja",
                state: "active",
                categories: &["kosodate"],
            },
        ],
    )
    .await;
    subscribers(
        app,
        "242021",
        &[Sub {
            id: "yk1",
            address: "yk1@example.jp",
            lang: "ja",
            state: "active",
            categories: &[CAT],
        }],
    )
    .await;
    suppress(app, T, "bounced@example.jp").await;

    let author = app.staff(T, "kodomo").await;
    let mut f = BASIC.to_vec();
    f.extend([
        ("subject_easy", "ひなんじょを あけました"),
        ("body_easy", "たいふうが きます。"),
        ("subject_en", "Shelters open"),
        ("body_en", "A **typhoon** is coming."),
    ]);
    let id = compose(&author, app, &f).await;
    let (_, html) = text(&author, app, &format!("{BASE}/{id}")).await;
    assert!(
        html.contains("<dd id=\"recipients\">4</dd>"),
        "four recipients"
    );
    step(&author, app, &id, "submit", &version_of(app, &id).await).await;
    assert_eq!(sent(app, &id).await, "sent");
    assert_eq!(
        scalar(
            app,
            &format!("SELECT recipients FROM mail_messages WHERE id = '{id}'")
        )
        .await,
        "4"
    );

    // Queued, then delivered: the test server has no mail server
    // (development mode), so each lands in the demo mailbox.
    let demo = format!("SELECT COUNT(*) FROM outbox WHERE campaign = '{id}' AND state = 'demo'");
    for _ in 0..100 {
        if app.count(&demo).await == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT subscriber, recipient, lang, subject, body, body_html, unsubscribe_url, kind, state, tenant FROM outbox WHERE campaign = $1 ORDER BY subscriber",
    )
    .bind(id.as_str())
    .fetch_all(app.app.db.read())
    .await
    .unwrap();
    let got: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        got,
        [
            (
                "en1".into(),
                "en1@example.jp".into(),
                "en".into(),
                "Shelters open".into()
            ),
            (
                "ez1".into(),
                "ez1@example.jp".into(),
                "ja-x-easy".into(),
                "ひなんじょを あけました".into()
            ),
            (
                "ja1".into(),
                "ja1@example.jp".into(),
                "ja".into(),
                "避難所を開設しました".into()
            ),
            (
                "vi1".into(),
                "vi1@example.jp".into(),
                "ja-x-easy".into(),
                "ひなんじょを あけました".into()
            ),
        ]
    );
    let key = mail::links::LinkKey::load(&app.app.db).await.unwrap();
    for r in &rows {
        let sub: String = r.get(0);
        let body: String = r.get(4);
        let html: String = r.get(5);
        let unsubscribe: String = r.get(6);
        assert_eq!(r.get::<String, _>(7), "newsletter");
        assert_eq!(r.get::<String, _>(8), "demo");
        assert_eq!(r.get::<String, _>(9), T);
        let prefs = mail::links::preferences_url(&app.url(""), &key, T, &sub);
        assert_eq!(
            unsubscribe,
            mail::links::unsubscribe_url(&app.url(""), &key, T, &sub)
        );
        assert!(body.contains(&prefs), "{body}");
        assert!(html.contains(&format!("<a href=\"{prefs}\">")), "{html}");
    }
    let en_html: String = rows[0].get(5);
    assert!(
        en_html.starts_with("<p>A <strong>typhoon</strong> is coming.</p>"),
        "{en_html}"
    );
    // Nothing for the other city.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE tenant = '242021'")
            .await,
        0
    );

    // Progress: all four waiting for delivery (put back as queued, due far
    // ahead, so no sender takes them); the page refreshes itself.
    sqlx::query(
        "UPDATE outbox SET state = 'queued', next_attempt_at = 9000000000000 WHERE campaign = $1",
    )
    .bind(id.as_str())
    .execute(app.app.db.write())
    .await
    .unwrap();
    let (_, html) = text(&author, app, &format!("{BASE}/{id}")).await;
    assert!(
        html.contains("<dd data-count=\"pending\">4</dd>"),
        "pending"
    );
    assert!(html.contains("<dd data-count=\"sent\">0</dd>"));
    assert!(html.contains("http-equiv=\"refresh\""));
    // Delivered (as the sender records it): the final report, no refresh.
    sqlx::query("UPDATE outbox SET state = 'sent' WHERE campaign = $1 AND subscriber <> 'ja1'")
        .bind(id.as_str())
        .execute(app.app.db.write())
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET state = 'bounced' WHERE campaign = $1 AND subscriber = 'ja1'")
        .bind(id.as_str())
        .execute(app.app.db.write())
        .await
        .unwrap();
    let (_, html) = text(&author, app, &format!("{BASE}/{id}")).await;
    assert!(html.contains("<dd data-count=\"sent\">3</dd>"));
    assert!(html.contains("<dd data-count=\"failed\">1</dd>"));
    assert!(html.contains("配信の結果"));
    assert!(html.contains("3件を送信しました（失敗 1件）"));
    assert!(!html.contains("http-equiv=\"refresh\""));
}

async fn sent_once_however_often_the_job_runs(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    many(app, 20).await;
    let author = app.staff(T, "kodomo").await;
    let id = compose(&author, app, &BASIC).await;
    let v = version_of(app, &id).await;
    // Approved with the workers' job; run the same version's send again,
    // twice at once, as a second server would.
    step(&author, app, &id, "submit", &v).await;
    let approved_version: i64 = v.parse::<i64>().unwrap() + 1;
    let sender = app.app.newsletters.sender.clone();
    let db = app.app.db.clone();
    let runs = (0..2).map(|_| {
        let (sender, db, id) = (sender.clone(), db.clone(), id.clone());
        tokio::spawn(async move {
            mail::newsletters::send::send(
                &db,
                &sender,
                T,
                &id,
                approved_version,
                kernel::clock::now_ms(),
            )
            .await
        })
    });
    for r in runs.collect::<Vec<_>>() {
        // Each run queued everyone or did nothing (or lost the race to
        // the write lock on SQLite: an error, retried by the queue).
        let _ = r.await.unwrap();
    }
    assert_eq!(sent(app, &id).await, "sent");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let again = mail::newsletters::send::send(
        &db,
        &sender,
        T,
        &id,
        approved_version,
        kernel::clock::now_ms(),
    )
    .await
    .unwrap();
    assert_eq!(again, mail::newsletters::send::Sent::Skipped);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE campaign = '{id}'"
        ))
        .await,
        20
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(DISTINCT subscriber) FROM outbox WHERE campaign = '{id}'"
        ))
        .await,
        20
    );
    assert_eq!(audits(app, "mail.newsletter.send", &id).await, 1);
}

/// A second person is someone who did not write what they approve: an
/// administrator who rewrote another's draft and submitted it may not
/// approve it (403, nothing changes), nor may its author.
async fn an_editor_cannot_approve_what_they_edited(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    many(app, 101).await;
    let author = app.staff(T, "kodomo").await;
    let editor = app.staff(T, "dx-admin").await;
    let id = compose(&author, app, &BASIC).await;
    let mut f = BASIC.to_vec();
    f[1] = ("subject_ja", "書き換えた件名");
    let v = version_of(app, &id).await;
    f.push(("version", v.as_str()));
    let (s, _, _) = post(&editor, app, &format!("{BASE}/{id}"), &f).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let v = version_of(app, &id).await;
    let (s, loc, _) = step(&editor, app, &id, "submit", &v).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.ends_with("?done=awaiting"), "{loc}");
    let v = version_of(app, &id).await;
    for who in [&editor, &author] {
        let (s, _, html) = step(who, app, &id, "approve", &v).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert!(html.contains("このメッセージを作成・編集・提出した人は承認できません。"));
        assert_eq!(state_of(app, &id).await, "awaiting_approval");
        assert_eq!(version_of(app, &id).await, v);
    }
    // The page offers no approval to either.
    let (_, html) = text(&editor, app, &format!("{BASE}/{id}")).await;
    assert!(
        !html.contains("/approve\""),
        "no approve form for the editor"
    );
    assert_eq!(
        scalar(
            app,
            &format!("SELECT writers FROM mail_messages WHERE id = '{id}'")
        )
        .await,
        "kodomo,dx-admin,dx-admin"
    );
}

/// `madoguchi rekey`'s part: a staff member's own address sealed with the
/// old key is sealed again with the new one and opens without the old key.
async fn rekey_reseals_staff_addresses(app: &TestApp) {
    let author = app.staff(T, "kodomo").await;
    let (s, _, _) = post(
        &author,
        app,
        &format!("{BASE}/my-address"),
        &[("address", "kodomo@city.example.jp")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let old = app.app.config.encryption_keys[0].clone();
    let new = kernel::crypto::Vault::generate_spec("k2");
    let both = kernel::crypto::Vault::from_specs(&[new.clone(), old]).unwrap();
    let db = app.app.db.clone().with_vault(both);
    assert_eq!(mail::newsletters::settings::rekey(&db).await.unwrap(), 1);
    let only_new = kernel::crypto::Vault::from_specs(&[new]).unwrap();
    let sealed = scalar(app, "SELECT address FROM mail_staff_addresses").await;
    assert_eq!(
        mail::address::open(&only_new, T, &sealed).unwrap().as_str(),
        "kodomo@city.example.jp"
    );
}

async fn edits_are_optimistic_and_clear_approval(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    many(app, 101).await;
    let author = app.staff(T, "kodomo").await;
    let id = compose(&author, app, &BASIC).await;
    let (s, html) = text(&author, app, &format!("{BASE}/{id}/edit")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("value=\"避難所を開設しました\""));
    let v = version_of(app, &id).await;
    step(&author, app, &id, "submit", &v).await;
    assert_eq!(state_of(app, &id).await, "awaiting_approval");
    // An edit from the version before the submit: refused, kept as typed.
    let mut f = BASIC.to_vec();
    f[1] = ("subject_ja", "件名を直しました");
    f.push(("version", v.as_str()));
    let (s, _, html) = post(&author, app, &format!("{BASE}/{id}"), &f).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("ほかの人が先にこのメッセージを変更しました。"));
    assert!(html.contains("value=\"件名を直しました\""));
    assert_eq!(state_of(app, &id).await, "awaiting_approval");
    assert_eq!(
        scalar(
            app,
            &format!(
                "SELECT subject FROM mail_message_texts WHERE message = '{id}' AND lang = 'ja'"
            )
        )
        .await,
        "避難所を開設しました"
    );
    // From the current version: saved, a draft again (to approve anew).
    let current = version_of(app, &id).await;
    f.pop();
    f.push(("version", current.as_str()));
    let (s, loc, _) = post(&author, app, &format!("{BASE}/{id}"), &f).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.ends_with(&id));
    assert_eq!(state_of(app, &id).await, "draft");
    assert_eq!(
        version_of(app, &id).await,
        (current.parse::<i64>().unwrap() + 1).to_string()
    );
    assert_eq!(
        scalar(
            app,
            &format!(
                "SELECT subject FROM mail_message_texts WHERE message = '{id}' AND lang = 'ja'"
            )
        )
        .await,
        "件名を直しました"
    );
    assert_eq!(audits(app, "mail.newsletter.update", &id).await, 1);
    // Bad input on edit: 422, nothing changes.
    let before = version_of(app, &id).await;
    let (s, _, _) = post(
        &author,
        app,
        &format!("{BASE}/{id}"),
        &[
            ("category", CAT),
            ("subject_ja", ""),
            ("body_ja", "x"),
            ("version", before.as_str()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(version_of(app, &id).await, before);
    // Cancelled: no more edits.
    step(&author, app, &id, "cancel", &before).await;
    let after = version_of(app, &id).await;
    let mut f2 = BASIC.to_vec();
    f2.push(("version", after.as_str()));
    let (s, _, _) = post(&author, app, &format!("{BASE}/{id}"), &f2).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(state_of(app, &id).await, "cancelled");
}

async fn test_send_goes_to_the_senders_own_address(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    let author = app.staff(T, "kodomo").await;
    let mut f = BASIC.to_vec();
    f.extend([("subject_en", "Shelters open"), ("body_en", "Typhoon.")]);
    let id = compose(&author, app, &f).await;
    // No address yet: 422, nothing queued.
    let (s, _, html) = post(&author, app, &format!("{BASE}/{id}/test"), &[]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("テスト送信の宛先が登録されていません。"));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    // A bad address: 422, nothing stored.
    let (s, _, html) = post(
        &author,
        app,
        &format!("{BASE}/my-address"),
        &[("address", "not an address")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("テスト送信の宛先には、メールアドレス"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_staff_addresses").await,
        0
    );
    let (s, _, _) = post(
        &author,
        app,
        &format!("{BASE}/my-address"),
        &[("address", "kodomo@city.example.jp")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // Sealed at rest.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_staff_addresses WHERE address LIKE '%kodomo%'")
            .await,
        0
    );
    let (s, loc, _) = post(&author, app, &format!("{BASE}/{id}/test"), &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.ends_with("?done=test"), "{loc}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'newsletter.test' AND recipient = 'kodomo@city.example.jp' AND campaign IS NULL").await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'newsletter.test' AND lang = 'en' AND subject = '[TEST] Shelters open'").await,
        1
    );
    assert_eq!(audits(app, "mail.newsletter.test_send", &id).await, 1);
    // Another member of staff has no address of their own yet.
    let admin = app.staff(T, "dx-admin").await;
    assert_eq!(
        post(&admin, app, &format!("{BASE}/{id}/test"), &[]).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(state_of(app, &id).await, "draft");
}

async fn threshold_is_the_system_administrators(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    many(app, 5).await;
    let dept = app.staff(T, "kodomo").await;
    let admin = app.staff(T, "dx-admin").await;
    let (_, html) = text(&dept, app, BASE).await;
    assert!(
        html.contains("宛先が100人を超える"),
        "the default, documented"
    );
    assert!(
        !html.contains("name=\"threshold\""),
        "no form for a department admin"
    );
    let (s, _, _) = post(
        &dept,
        app,
        &format!("{BASE}/settings"),
        &[("threshold", "3")],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, html) = post(
        &admin,
        app,
        &format!("{BASE}/settings"),
        &[("threshold", "-5")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("承認が必要になる宛先の数は0から"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_newsletter_settings")
            .await,
        0
    );
    let (s, _, _) = post(
        &admin,
        app,
        &format!("{BASE}/settings"),
        &[("threshold", "3")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(audits(app, "mail.newsletter.threshold", T).await, 1);
    // Five recipients now need a second person.
    let id = compose(&dept, app, &BASIC).await;
    step(&dept, app, &id, "submit", &version_of(app, &id).await).await;
    assert_eq!(state_of(app, &id).await, "awaiting_approval");
}

async fn another_city_sees_nothing(app: &TestApp) {
    category(app, T, CAT, "防災・防犯").await;
    let author = app.staff(T, "kodomo").await;
    let id = compose(&author, app, &BASIC).await;
    let other = app.staff("242021", "dx-admin").await;
    let r = other
        .get(app.url(&format!("/t/242021/staff/mail/messages/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, html) = text(&other, app, "/t/242021/staff/mail/messages").await;
    assert!(!html.contains("避難所を開設しました"));
    // Its own staff cannot use a message path of the first city either.
    let r = other
        .get(app.url(&format!("{BASE}/{id}")))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::OK);
}

testkit::on_both_backends!(
    compose_names_every_mistake_and_stores_nothing,
    preview_renders_markdown_safely,
    approval_needs_a_second_person,
    an_editor_cannot_approve_what_they_edited,
    rekey_reseals_staff_addresses,
    small_audience_goes_without_a_second_person,
    audience_and_language_choice,
    sent_once_however_often_the_job_runs,
    edits_are_optimistic_and_clear_approval,
    test_send_goes_to_the_senders_own_address,
    threshold_is_the_system_administrators,
    another_city_sees_nothing,
);
