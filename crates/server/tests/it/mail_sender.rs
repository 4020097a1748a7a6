//! Each municipality's sender (メールの設定, `mail::delivery::sender`)
//! against a real SMTP server (`testkit::smtp`), on SQLite and
//! PostgreSQL: city A's mail arrives From A's address and name (and
//! Message-IDs in A's domain), city B's from B's; a limit of N per minute
//! hands off exactly N in the minute; bad input is 422 naming the field
//! and changes nothing; only the system administrator may set it. And the
//! notice while nothing is sent: production with a mail server that does
//! not answer shows it, with the reason, on every staff member's start
//! page and the mail pages; once the server answers a run's (or the
//! administrator's) test connection, it is gone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kernel::i18n::Lang;
use mail::outbox::NewMail;
use reqwest::StatusCode;
use sqlx::Row;
use testkit::smtp::SmtpServer;
use testkit::{Backend, TestApp};

const A: &str = "122289";
const B: &str = "242021";

async fn app_with(backend: Backend, smtp_url: String, per_minute: u32) -> Option<TestApp> {
    TestApp::spawn_with(backend, move |c| {
        c.mail.smtp_url = Some(smtp_url);
        c.mail.from = "noreply@madoguchi.example.jp".into();
        c.mail.per_minute = per_minute;
        c.job_workers = 0;
    })
    .await
}

fn mail_to(tenant: &str, i: usize, to: &str) -> NewMail {
    NewMail {
        tenant: tenant.into(),
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

async fn queue(app: &TestApp, mails: &[NewMail]) {
    let mut tx = app.app.db.begin().await.unwrap();
    mail::outbox::queue(&mut tx, mails, kernel::clock::now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Posts the settings form of `tenant` as `client`: status and page.
async fn post_settings(
    app: &TestApp,
    client: &reqwest::Client,
    tenant: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let path = format!("/t/{tenant}/staff/mail/settings");
    let token = app.csrf(client, &path).await;
    let mut form = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    let r = client
        .post(app.url(&path))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let r = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

async fn each_city_sends_from_its_own_address(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = app_with(backend, smtp.url(), 60_000).await else {
        return;
    };
    let admin_a = app.staff(A, "dx-admin").await;
    let admin_b = app.staff(B, "dx-admin").await;
    let (s, _) = post_settings(
        &app,
        &admin_a,
        A,
        &[
            ("from_address", "info@city.yotsukaido.example.jp"),
            ("display_name", "四街道市広報課"),
            ("reply_to", "kouhou@city.yotsukaido.example.jp"),
            ("per_minute", ""),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _) = post_settings(
        &app,
        &admin_b,
        B,
        &[
            ("from_address", "mail@city.yokkaichi.example.jp"),
            ("display_name", ""),
            ("reply_to", ""),
            ("per_minute", ""),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // The page shows what residents' mail says now.
    let html = page(
        &app,
        &admin_a,
        &format!("/t/{A}/staff/mail/settings?saved=sender"),
    )
    .await;
    assert!(html.contains("メールの設定を保存しました"), "{html}");
    assert!(html.contains("info@city.yotsukaido.example.jp"));
    // Audited with what it was and what it is.
    let detail: String = sqlx::query(
        "SELECT detail FROM audit_log WHERE tenant = $1 AND action = 'mail.sender.settings'",
    )
    .bind(A)
    .fetch_one(app.app.db.read())
    .await
    .unwrap()
    .get(0);
    let d: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(d["before"]["from_address"], serde_json::Value::Null);
    assert_eq!(
        d["after"]["from_address"],
        "info@city.yotsukaido.example.jp"
    );
    assert_eq!(d["after"]["display_name"], "四街道市広報課");

    queue(&app, &[mail_to(A, 1, "a@example.jp")]).await;
    queue(&app, &[mail_to(B, 2, "b@example.jp")]).await;
    let d = &app.app.mail_delivery.deliverer;
    assert_eq!(d.run(A).await.unwrap().sent, 1);
    assert_eq!(d.run(B).await.unwrap().sent, 1);
    let got = smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    let of = |to: &str| got.iter().find(|r| r.to() == to).expect(to).clone();
    let a = of("a@example.jp");
    assert_eq!(
        a.header("From"),
        Some("四街道市広報課 <info@city.yotsukaido.example.jp>")
    );
    assert_eq!(
        a.header("Reply-To"),
        Some("kouhou@city.yotsukaido.example.jp")
    );
    assert!(
        a.header("Message-ID")
            .unwrap()
            .ends_with("@city.yotsukaido.example.jp>"),
        "{:?}",
        a.header("Message-ID")
    );
    assert_eq!(a.mail_from, "info@city.yotsukaido.example.jp");
    let b = of("b@example.jp");
    assert_eq!(
        b.header("From"),
        Some("四日市市 <mail@city.yokkaichi.example.jp>")
    );
    assert_eq!(b.header("Reply-To"), None);
    assert!(b
        .header("Message-ID")
        .unwrap()
        .ends_with("@city.yokkaichi.example.jp>"));
    // Back to the defaults: blank fields.
    let (s, _) = post_settings(
        &app,
        &admin_b,
        B,
        &[
            ("from_address", ""),
            ("display_name", ""),
            ("reply_to", ""),
            ("per_minute", ""),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    queue(&app, &[mail_to(B, 3, "b3@example.jp")]).await;
    assert_eq!(d.run(B).await.unwrap().sent, 1);
    let got = smtp.wait_for(3, Duration::from_secs(10)).await;
    let b3 = got.iter().find(|r| r.to() == "b3@example.jp").unwrap();
    assert_eq!(
        b3.header("From"),
        Some("四日市市 <noreply@madoguchi.example.jp>")
    );
    app.cleanup().await;
}

async fn a_limit_per_minute_hands_off_exactly_that_many(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = app_with(backend, smtp.url(), 100).await else {
        return;
    };
    let admin = app.staff(A, "dx-admin").await;
    let (s, _) = post_settings(&app, &admin, A, &[("per_minute", "3")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let mails: Vec<NewMail> = (0..5)
        .map(|i| mail_to(A, i, &format!("t{i}@example.jp")))
        .collect();
    queue(&app, &mails).await;
    let d = &app.app.mail_delivery.deliverer;
    let before = kernel::clock::now_ms();
    assert_eq!(d.run(A).await.unwrap().sent, 3);
    // The minute is spent: another run in it hands off nothing.
    assert_eq!(d.run(A).await.unwrap().sent, 0);
    let sent = "SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND state = 'sent'";
    let queued = "SELECT COUNT(*) FROM outbox WHERE kind = 'test.notice' AND state = 'queued'";
    assert_eq!(count(&app, sent).await, 3);
    assert_eq!(count(&app, queued).await, 2);
    assert_eq!(smtp.wait_for(3, Duration::from_secs(5)).await.len(), 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 3, "exactly three in the minute");
    // The rest waits for a run when the minute ends.
    let next: i64 = sqlx::query(
        "SELECT MAX(run_at) FROM jobs WHERE tenant = $1 AND kind = 'mail.deliver' AND state = 'queued'",
    )
    .bind(A)
    .fetch_one(app.app.db.read())
    .await
    .unwrap()
    .get(0);
    assert!(
        next >= before + 59_000,
        "the next run is a minute later: {}",
        next - before
    );
    app.cleanup().await;
}

/// A DKIM key (Ed25519, base64 of 32 bytes) in a file of the test's own.
fn dkim_key() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "madoguchi-sender-dkim-{}-{}",
        std::process::id(),
        kernel::clock::now_ms()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dkim.key");
    std::fs::write(&file, "2oX8pJ0Gq9XqyQkK1m0Kc3vT0Cq8o3k9m0J6B6m3YhM=").unwrap();
    file
}

async fn bad_input_changes_nothing(backend: Backend) {
    let key = dkim_key();
    let key_file = key.display().to_string();
    let Some(app) = TestApp::spawn_with(backend, move |c| {
        c.mail.per_minute = 100;
        c.mail.dkim_key_file = Some(key_file);
        c.mail.dkim_selector = Some("mdg".into());
        c.mail.dkim_domain = Some("city.yotsukaido.example.jp".into());
        c.job_workers = 0;
    })
    .await
    else {
        return;
    };
    let admin = app.staff(A, "dx-admin").await;
    let rows = "SELECT COUNT(*) FROM mail_sender_settings";
    let audits = "SELECT COUNT(*) FROM audit_log WHERE action = 'mail.sender.settings'";
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("from_address", "info@other.example.jp")],
            "DKIM の署名ドメイン（city.yotsukaido.example.jp）と違います",
        ),
        (
            &[("from_address", "info@")],
            "送信元のメールアドレス「info@」はメールアドレスとして正しくありません",
        ),
        (
            &[("per_minute", "101")],
            "1分あたりの送信数は1から100までの整数で入力してください",
        ),
        (
            &[("per_minute", "0")],
            "1分あたりの送信数は1から100までの整数で入力してください",
        ),
        (
            &[("reply_to", "返信先")],
            "返信先のメールアドレス「返信先」はメールアドレスとして正しくありません",
        ),
    ];
    for (fields, message) in cases {
        let (s, html) = post_settings(&app, &admin, A, fields).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(html.contains(message), "{fields:?}: {html}");
        assert!(html.contains("<title>エラー："), "{fields:?}");
        assert_eq!(count(&app, rows).await, 0, "{fields:?}: nothing stored");
        assert_eq!(count(&app, audits).await, 0);
    }
    // A subdomain of the DKIM domain is aligned.
    let (s, _) = post_settings(
        &app,
        &admin,
        A,
        &[("from_address", "info@mail.city.yotsukaido.example.jp")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, rows).await, 1);
    // Only the system administrator.
    let dept = app.staff(A, "kodomo").await;
    let r = dept
        .get(app.url(&format!("/t/{A}/staff/mail/settings")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let token = app
        .csrf(&dept, &format!("/t/{A}/staff/mail/messages"))
        .await;
    let r = dept
        .post(app.url(&format!("/t/{A}/staff/mail/settings")))
        .form(&[("_csrf", token.as_str()), ("per_minute", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = dept
        .post(app.url(&format!("/t/{A}/staff/mail/outbox/test-connection")))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app, audits).await, 1);
    let _ = std::fs::remove_dir_all(key.parent().unwrap());
    app.cleanup().await;
}

/// A door in front of the test mail server: closed, every connection is
/// dropped at once (a relay that does not answer); open, it is passed on.
struct Door {
    port: u16,
    open: Arc<AtomicBool>,
}

impl Door {
    async fn start(to: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(false));
        let gate = open.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !gate.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        Self { port, open }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }
}

fn has_warning(html: &str) -> bool {
    html.contains("data-notice=\"warning\"")
}

async fn notice_until_the_mail_server_answers(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let door = Door::start(smtp.port).await;
    let url = door.url();
    let Some(app) = TestApp::spawn_with(backend, move |c| {
        c.mode = kernel::config::Mode::Production;
        c.mail.smtp_url = Some(url);
        c.job_workers = 0;
    })
    .await
    else {
        return;
    };
    let clerk = app.staff(A, "clerk").await;
    let admin = app.staff(A, "dx-admin").await;
    let start = format!("/t/{A}/staff/cases");
    // Not tested yet: said so.
    let html = page(&app, &clerk, &start).await;
    assert!(has_warning(&html), "{html}");
    assert!(html.contains("メールが送信されていません"));
    assert!(html.contains("まだ確認していません"));
    // A run finds the server does not answer: the reason, what to do.
    let d = app.app.mail_delivery.deliverer.clone();
    d.run(A).await.unwrap();
    let html = page(&app, &clerk, &start).await;
    assert!(has_warning(&html));
    assert!(html.contains("メールサーバーに接続できません"), "{html}");
    assert!(html.contains("MADOGUCHI_SMTP_URL"));
    assert!(html.contains("1分ごとに確認し直し"));
    assert!(html.contains("システム管理者に連絡してください"));
    assert!(
        !html.contains("test-connection"),
        "the button is the administrator's"
    );
    // Not on a page that is neither a start page nor a mail page.
    assert!(!has_warning(
        &page(&app, &clerk, &format!("/t/{A}/staff/faq")).await
    ));
    // The administrator's start page and the mail pages, with the links
    // and the button.
    for path in ["admin", "mail/outbox", "mail/settings", "mail/messages"] {
        let html = page(&app, &admin, &format!("/t/{A}/staff/{path}")).await;
        assert!(has_warning(&html), "{path}");
        assert!(
            html.contains(&format!(
                "action=\"/t/{A}/staff/mail/outbox/test-connection\""
            )),
            "{path}"
        );
        assert!(html.contains(&format!("href=\"/t/{A}/staff/mail/outbox\"")));
    }
    // Another city's staff see their own city's notice only.
    let html = page(
        &app,
        &app.staff(B, "dx-admin").await,
        &format!("/t/{B}/staff/admin"),
    )
    .await;
    assert!(!html.contains(&format!("/t/{A}/staff/mail")));
    // The button while the server is still away: tested, audited.
    let test = format!("/t/{A}/staff/mail/outbox/test-connection");
    let token = app.csrf(&admin, &format!("/t/{A}/staff/mail/outbox")).await;
    let r = admin
        .post(app.url(&test))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("メールサーバーへの接続を確認できませんでした"),
        "{html}"
    );
    let tested = "SELECT COUNT(*) FROM audit_log WHERE action = 'mail.delivery.test_connection'";
    assert_eq!(count(&app, tested).await, 1);
    // The server answers; the next run tests it: no notice any more.
    door.open.store(true, Ordering::SeqCst);
    queue(&app, &[mail_to(A, 1, "open@example.jp")]).await;
    assert_eq!(d.run(A).await.unwrap().sent, 1);
    assert_eq!(d.status(), mail::delivery::Status::Ready);
    let html = page(&app, &clerk, &start).await;
    assert!(!html.contains("data-notice="), "{html}");
    assert!(!has_warning(
        &page(&app, &admin, &format!("/t/{A}/staff/mail/outbox")).await
    ));
    // Asked now, it answers: audited as ready.
    let r = admin
        .post(app.url(&test))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("メールサーバーへの接続を確認しました"));
    assert_eq!(count(&app, tested).await, 2);
    let results: Vec<String> = sqlx::query(
        "SELECT detail FROM audit_log WHERE action = 'mail.delivery.test_connection' ORDER BY seq",
    )
    .fetch_all(app.app.db.read())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    assert!(results[0].contains("\"not_ready\""), "{results:?}");
    assert!(results[1].contains("\"ready\""), "{results:?}");
    app.cleanup().await;
}

/// Demo mode (no mail server, development): a quiet note, with the demo
/// mailbox linked for the administrator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_has_a_quiet_note() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.staff(A, "dx-admin").await;
    let html = page(&app, &admin, &format!("/t/{A}/staff/admin")).await;
    assert!(html.contains("data-notice=\"info\""), "{html}");
    assert!(!html.contains("data-notice=\"warning\""));
    assert!(html.contains("デモ用メールボックスに入ります"));
    assert!(html.contains(&format!("href=\"/t/{A}/staff/mail/demo\"")));
    let clerk = app.staff(A, "clerk").await;
    let html = page(&app, &clerk, &format!("/t/{A}/staff/cases")).await;
    assert!(html.contains("data-notice=\"info\""));
    assert!(!html.contains("/staff/mail/demo"), "not the clerk's page");
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
    each_city_sends_from_its_own_address,
    a_limit_per_minute_hands_off_exactly_that_many,
    bad_input_changes_nothing,
    notice_until_the_mail_server_answers,
);
