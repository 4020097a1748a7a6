//! Mail delivery (`mail::delivery`) against a real SMTP server
//! (`testkit::smtp`: aiosmtpd delivering into a Maildir), on SQLite and
//! PostgreSQL: a submitted application's receipt mail arrives in the
//! resident's language with its headers; 451 for a while then accepted:
//! delivered once; 550: bounced, suppressed, not sent next time; a sender
//! killed mid-run and restarted: nobody gets a message twice and every
//! message ends sent or unknown; a graceful stop: exactly one each. Also
//! the demo mailbox, 配信状況 with masked links, and resend.

use std::collections::HashMap;
use std::time::Duration;

use kernel::i18n::Lang;
use mail::delivery::Deliverer;
use mail::outbox::NewMail;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use testkit::smtp::SmtpServer;
use testkit::{Backend, TestApp};

const T: &str = "122289";

async fn app_with(backend: Backend, smtp: &SmtpServer, job_workers: usize) -> Option<TestApp> {
    let url = smtp.url();
    TestApp::spawn_with(backend, move |c| {
        c.mail.smtp_url = Some(url);
        c.mail.from = "noreply@city.example.jp".into();
        c.mail.retry_seconds = 1;
        c.job_workers = job_workers;
    })
    .await
}

fn mail_to(i: usize, to: &str) -> NewMail {
    NewMail {
        tenant: T.into(),
        kind: "test.notice".into(),
        to: jp::Email::parse(to).unwrap(),
        lang: Lang::Ja,
        subject: format!("お知らせ {i}"),
        body: format!("本文 {i}"),
        body_html: None,
        case_id: None,
        campaign: None,
        subscriber: None,
        unsubscribe_url: None,
    }
}

async fn queue(app: &TestApp, mails: &[NewMail]) -> Vec<String> {
    let mut tx = app.app.db.begin().await.unwrap();
    let ids = mail::outbox::queue(&mut tx, mails, kernel::clock::now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ids
}

/// Each row's state, by recipient.
async fn states(app: &TestApp) -> HashMap<String, String> {
    sqlx::query("SELECT recipient, state FROM outbox WHERE tenant = $1 AND kind = 'test.notice'")
        .bind(T)
        .fetch_all(app.app.db.read())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// How many messages arrived per recipient.
fn arrivals(smtp: &SmtpServer) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in smtp.received() {
        *m.entry(r.to().to_string()).or_insert(0) += 1;
    }
    m
}

async fn wait_until(app: &TestApp, sql: &str, n: i64, secs: u64) -> i64 {
    for _ in 0..secs * 10 {
        if app.count(sql).await == n {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.count(sql).await
}

async fn body(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

async fn receipt_mail_arrives(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = app_with(backend, &smtp, 2).await else {
        return;
    };
    let admin = app.staff(T, "dx-admin").await;
    let r = admin
        .put(app.url(&format!("/api/v1/t/{T}/staff/procedures/mail-test")))
        .json(&json!({"procedure": {
            "id": "mail-test",
            "name": {"ja": "メール試験", "en": "Mail test"},
            "description": {"ja": "テスト用の手続です。"},
            "department": "madoguchi",
            "life_events": ["moving"],
            "channels": "both",
            "identity_level": "none",
            "fee_yen": 0,
            "documents": [{"ja": "本人確認書類"}],
            "processing_time": {"ja": "即日"},
            "legal_basis": "テスト条例",
            "form": {"fields": [
                {"name": "email", "type": "email", "label": {"ja": "メールアドレス"}, "required": true}
            ]}
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/procedures/mail-test/applications")))
        .header("Idempotency-Key", "mail-delivery-test-0001")
        .header("Accept-Language", "en")
        .json(&json!({"answers": {"email": "hanako@example.jp"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = body(r).await;
    let (id, token) = (
        v["id"].as_str().unwrap().to_string(),
        v["access_token"].as_str().unwrap().to_string(),
    );
    let receipt = v["receipt_number"].as_str().unwrap().to_string();
    let got = smtp.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "the receipt mail arrived");
    let m = &got[0];
    assert_eq!(m.rcpt_tos, ["hanako@example.jp"]);
    assert_eq!(m.mail_from, "noreply@city.example.jp");
    assert_eq!(
        m.header("Subject"),
        Some("[Received] Your application: Mail test")
    );
    assert_eq!(m.header("Content-Language"), Some("en"));
    assert_eq!(m.header("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(m.header("From"), Some("四街道市 <noreply@city.example.jp>"));
    assert!(
        m.header("List-Unsubscribe").is_none(),
        "no list, no unsubscribe"
    );
    let text = m.text.as_deref().unwrap();
    assert!(
        text.contains("We have received your application: Mail test."),
        "{text}"
    );
    // The resident's own mail has their working link.
    assert!(text.contains(&format!("/t/{T}/my/{id}/{token}")), "{text}");
    let row = sqlx::query(
        "SELECT state, message_id, sent_at FROM outbox WHERE tenant = $1 AND case_id = $2",
    )
    .bind(T)
    .bind(&id)
    .fetch_one(app.app.db.read())
    .await
    .unwrap();
    assert_eq!(
        wait_until(
            &app,
            &format!("SELECT COUNT(*) FROM outbox WHERE case_id = '{id}' AND state = 'sent'"),
            1,
            5
        )
        .await,
        1
    );
    let message_id: String = row.get(1);
    assert_eq!(m.header("Message-ID"), Some(message_id.as_str()));
    assert!(message_id.ends_with("@city.example.jp>"), "{message_id}");

    // The case's page shows its mail and where it stands (no address).
    let reviewer = app.staff(T, "reviewer").await;
    let case_page = reviewer
        .get(app.url(&format!("/t/{T}/staff/cases/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        case_page.contains("この申請についてのメール"),
        "{case_page}"
    );
    assert!(case_page.contains("[Received] Your application: Mail test"));
    assert!(case_page.contains(r#"<td data-state="sent">送信済み</td>"#));

    // 配信状況: the state, the receipt number, never the token.
    let out = body(
        admin
            .get(app.url(&format!(
                "/api/v1/t/{T}/staff/mail/outbox?kind=application.received"
            )))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let item = &out["items"][0];
    assert_eq!(item["state"], "sent");
    assert_eq!(item["recipient"], "hanako@example.jp");
    let shown = item["body"].as_str().unwrap();
    assert!(shown.contains(&receipt) || shown.contains(&receipt.replace('-', "")));
    assert!(!shown.contains(&token) && shown.contains(&format!("/my/{id}/********")));
    assert_eq!(out["counts"]["sent"], 1);
    let html = admin
        .get(app.url(&format!("/t/{T}/staff/mail/outbox?state=sent")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("メールの配信状況") && html.contains("hanako@example.jp"));
    assert!(html.contains("メールサーバーへの接続を確認済みです"));
    assert!(!html.contains(&token));
    // Every view of the addresses is audited.
    assert!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = 'mail.outbox.view'"
        ))
        .await
            >= 2
    );
    // Not for other roles; a state that does not exist is refused by name.
    let clerk = app.staff(T, "clerk").await;
    let r = clerk
        .get(app.url(&format!("/api/v1/t/{T}/staff/mail/outbox")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin
        .get(app.url(&format!("/api/v1/t/{T}/staff/mail/outbox?state=delivered")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(body(r).await["error"]["detail"]
        .as_str()
        .unwrap()
        .contains("配信状態（state）「delivered」はありません"));
    app.cleanup().await;
}

async fn temporary_failure_then_delivered_once(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = app_with(backend, &smtp, 2).await else {
        return;
    };
    smtp.tempfail_for(Duration::from_secs(3));
    let mails: Vec<NewMail> = (0..5)
        .map(|i| mail_to(i, &format!("r{i}@example.jp")))
        .collect();
    queue(&app, &mails).await;
    let sent = "SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND state = 'sent'";
    assert_eq!(wait_until(&app, sent, 5, 30).await, 5);
    let got = arrivals(&smtp);
    assert_eq!(got.len(), 5);
    assert!(got.values().all(|n| *n == 1), "{got:?}");
    // Tried more than once; the 451 was recorded on the way.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND attempts >= 2")
            .await,
        5
    );
    app.cleanup().await;
}

async fn hard_bounce_suppresses(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = app_with(backend, &smtp, 2).await else {
        return;
    };
    smtp.reject(&["gone@example.jp"]);
    queue(
        &app,
        &[mail_to(1, "gone@example.jp"), mail_to(2, "here@example.jp")],
    )
    .await;
    let done =
        "SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND state IN ('sent', 'bounced')";
    assert_eq!(wait_until(&app, done, 2, 15).await, 2);
    let s = states(&app).await;
    assert_eq!(s["gone@example.jp"], "bounced");
    assert_eq!(s["here@example.jp"], "sent");
    let hash = mail::address::hash(
        app.app.db.vault().unwrap(),
        T,
        &jp::Email::parse("Gone@Example.jp").unwrap(),
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_suppressions WHERE tenant = '{T}' AND address_hash = '{hash}' AND reason = 'bounce'"
        ))
        .await,
        1
    );
    // The server would accept it now; the suppressed address is still not written to.
    smtp.reject(&[]);
    queue(&app, &[mail_to(3, "gone@example.jp")]).await;
    let refused =
        "SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND subject = 'お知らせ 3' \
                   AND state = 'failed' AND last_error LIKE '%suppressed%'";
    assert_eq!(wait_until(&app, refused, 1, 15).await, 1);
    assert_eq!(arrivals(&smtp).get("gone@example.jp"), None);
    assert_eq!(smtp.received().len(), 1);
    // Resend of a failed mail is deliberate and audited; a sent one is 409.
    let admin = app.staff(T, "dx-admin").await;
    let id: String =
        sqlx::query("SELECT id FROM outbox WHERE tenant = $1 AND subject = 'お知らせ 3'")
            .bind(T)
            .fetch_one(app.app.db.read())
            .await
            .unwrap()
            .get(0);
    let r = admin
        .post(app.url(&format!("/api/v1/t/{T}/staff/mail/outbox/{id}/resend")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'mail.resend' AND target = 'outbox:{id}'"
        ))
        .await,
        1
    );
    let sent_id: String = sqlx::query("SELECT id FROM outbox WHERE tenant = $1 AND state = 'sent'")
        .bind(T)
        .fetch_one(app.app.db.read())
        .await
        .unwrap()
        .get(0);
    let r = admin
        .post(app.url(&format!("/api/v1/t/{T}/staff/mail/outbox/{sent_id}/resend")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(body(r).await["error"]["code"], "MDG-409-mail_state");
    let r = admin
        .post(app.url(&format!("/api/v1/t/{T}/staff/mail/outbox/nosuch/resend")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.cleanup().await;
}

/// A deliverer of the test's own (the server runs no job workers).
fn deliverer(app: &TestApp) -> Deliverer {
    Deliverer::new(app.app.db.clone(), &app.app.config)
        .unwrap()
        .with_lease(1_000)
}

async fn run_to_the_end(d: &Deliverer, app: &TestApp) {
    let left =
        "SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND state IN ('queued', 'sending')";
    for _ in 0..20 {
        if app.count(left).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        d.run(T).await.unwrap();
    }
}

async fn sender_killed_mid_run(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = app_with(backend, &smtp, 0).await else {
        return;
    };
    smtp.set(Duration::ZERO, &[], 100);
    let n = 200;
    let mails: Vec<NewMail> = (0..n)
        .map(|i| mail_to(i, &format!("k{i}@example.jp")))
        .collect();
    queue(&app, &mails).await;
    let first = deliverer(&app);
    let run = tokio::spawn(async move { first.run(T).await });
    smtp.wait_for(40, Duration::from_secs(30)).await;
    run.abort();
    let _ = run.await;
    let sending = app
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND state = 'sending'")
        .await;
    assert!(sending > 0, "killed with hand-offs in flight");
    // Two chunks at most: one row per connection each (16 by default).
    assert!(sending <= 32, "{sending} rows in flight");
    // Restarted: the lease of the dead sender's rows runs out.
    let second = deliverer(&app);
    run_to_the_end(&second, &app).await;
    let s = states(&app).await;
    let got = arrivals(&smtp);
    let (mut sent, mut unknown) = (0, 0);
    for (to, state) in &s {
        let arrived = got.get(to).copied().unwrap_or(0);
        match state.as_str() {
            "sent" => {
                sent += 1;
                assert_eq!(arrived, 1, "{to}: sent, arrived once");
            }
            "unknown" => {
                unknown += 1;
                assert!(arrived <= 1, "{to}: unknown, never twice");
            }
            other => panic!("{to}: {other}"),
        }
    }
    assert_eq!(sent + unknown, n);
    assert_eq!(
        unknown as i64, sending,
        "exactly the rows in flight are unknown"
    );
    assert!(got.values().all(|c| *c == 1), "nobody twice: {got:?}");
    eprintln!(
        "killed mid-run: {sent} sent, {unknown} unknown, {} arrived",
        smtp.received().len()
    );
    app.cleanup().await;
}

async fn graceful_stop(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = app_with(backend, &smtp, 0).await else {
        return;
    };
    smtp.set(Duration::ZERO, &[], 100);
    let n = 200;
    let mails: Vec<NewMail> = (0..n)
        .map(|i| mail_to(i, &format!("g{i}@example.jp")))
        .collect();
    queue(&app, &mails).await;
    let first = deliverer(&app);
    let running = first.clone();
    let run = tokio::spawn(async move { running.run(T).await });
    smtp.wait_for(40, Duration::from_secs(30)).await;
    first.shutdown().await;
    run.await.unwrap().unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND state = 'sending'")
            .await,
        0,
        "every hand-off in flight finished and was recorded"
    );
    let sent_then = app
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND state = 'sent'")
        .await;
    assert_eq!(smtp.received().len() as i64, sent_then);
    assert!(sent_then < n as i64, "stopped before the end");
    let second = deliverer(&app);
    run_to_the_end(&second, &app).await;
    let s = states(&app).await;
    assert!(s.values().all(|st| st == "sent"), "{s:?}");
    let got = arrivals(&smtp);
    assert_eq!(got.len(), n);
    assert!(got.values().all(|c| *c == 1), "exactly one each");
    assert_eq!(smtp.maildir_count(), n);
    app.cleanup().await;
}

/// No mail server in development mode: the demo mailbox, which says
/// plainly that nothing was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mailbox_without_a_mail_server() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    queue(&app, &[mail_to(1, "demo@example.jp")]).await;
    let demo = "SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND state = 'demo'";
    assert_eq!(wait_until(&app, demo, 1, 10).await, 1);
    let admin = app.staff(T, "dx-admin").await;
    let html = admin
        .get(app.url(&format!("/t/{T}/staff/mail/demo")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<h1>デモ用メールボックス</h1>"), "{html}");
    assert!(html.contains("ここにあるメールは実際には送信されていません"));
    assert!(html.contains("お知らせ 1") && html.contains("demo@example.jp"));
    assert!(
        html.contains("四街道市 &lt;noreply@madoguchi.invalid&gt;")
            || html.contains("四街道市 &#60;noreply@madoguchi.invalid&#62;"),
        "{html}"
    );
    let status = admin
        .get(app.url(&format!("/t/{T}/staff/mail/outbox")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(status.contains("メールは送信されず、デモ用メールボックスに入ります"));
    // A mail written before delivery existed ('held') is released by staff.
    sqlx::query("UPDATE outbox SET state = 'held' WHERE tenant = $1 AND kind = 'test.notice'")
        .bind(T)
        .execute(app.app.db.write())
        .await
        .unwrap();
    let id: String =
        sqlx::query("SELECT id FROM outbox WHERE tenant = $1 AND kind = 'test.notice'")
            .bind(T)
            .fetch_one(app.app.db.read())
            .await
            .unwrap()
            .get(0);
    let r = admin
        .post(app.url(&format!("/api/v1/t/{T}/staff/mail/outbox/{id}/resend")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        wait_until(&app, demo, 1, 10).await,
        1,
        "released into the demo mailbox"
    );
    let clerk = app.staff(T, "clerk").await;
    let r = clerk
        .get(app.url(&format!("/t/{T}/staff/mail/demo")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.cleanup().await;
}

/// Production with no mail server: nothing is sent, the mail stays
/// queued, and 配信状況 says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_without_a_mail_server_sends_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let mut config = (*app.app.config).clone();
    config.mode = kernel::config::Mode::Production;
    let d = Deliverer::new(app.app.db.clone(), &config).unwrap();
    assert!(
        matches!(d.status(), mail::delivery::Status::NotReady(r) if r.contains("MADOGUCHI_SMTP_URL"))
    );
    // A mail server that does not answer: not ready, with the reason.
    config.mail.smtp_url = Some("smtp://127.0.0.1:1".into());
    let down = Deliverer::new(app.app.db.clone(), &config).unwrap();
    let r = down.run(T).await.unwrap();
    assert_eq!(r, mail::delivery::Report::default());
    assert!(
        matches!(down.status(), mail::delivery::Status::NotReady(r) if r.contains("接続できません"))
    );
    app.cleanup().await;
}

/// `?tls=required` against a server that offers no STARTTLS sends
/// nothing and says why; `?tls=opportunistic` sends in plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_as_the_url_says() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = app_with(Backend::Sqlite, &smtp, 0).await else {
        return;
    };
    queue(&app, &[mail_to(1, "tls@example.jp")]).await;
    let mut config = (*app.app.config).clone();
    config.mail.smtp_url = Some(format!("{}?tls=required", smtp.url()));
    let strict = Deliverer::new(app.app.db.clone(), &config).unwrap();
    assert_eq!(
        strict.run(T).await.unwrap(),
        mail::delivery::Report::default()
    );
    assert!(
        matches!(strict.status(), mail::delivery::Status::NotReady(r) if r.contains("接続できません") && r.contains("STARTTLS")),
        "{:?}",
        strict.status()
    );
    assert!(smtp.received().is_empty());
    config.mail.smtp_url = Some(format!("{}?tls=opportunistic", smtp.url()));
    let plain = Deliverer::new(app.app.db.clone(), &config).unwrap();
    assert_eq!(plain.run(T).await.unwrap().sent, 1);
    assert_eq!(plain.status(), mail::delivery::Status::Ready);
    let got = smtp.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to(), "tls@example.jp");
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

both!(
    receipt_mail_arrives,
    temporary_failure_then_delivered_once,
    hard_bounce_suppresses,
    sender_killed_mid_run,
    graceful_stop,
);
