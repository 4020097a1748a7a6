//! よめーる subscriptions over HTTP, on SQLite and PostgreSQL: sign-up
//! with double opt-in (the confirmation queued in the outbox, its token
//! stored only as a hash, the link expiring and used once), the same
//! answer for an address already subscribed (which gets a mail with its
//! preferences link instead), a suppressed address told what to do, the
//! preferences page and the one-click unsubscribe (RFC 8058, no session,
//! no CSRF token; a wrong token is 404 and changes nothing), the staff's
//! categories, the audited subscriber list and the all-or-nothing import,
//! and the purge after the retention period.

use reqwest::StatusCode;
use sqlx::Row;
use testkit::TestApp;

const T: &str = "122289";

async fn text(r: reqwest::Response) -> (StatusCode, String) {
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    text(
        c.get(app.url(path))
            .header("accept-language", "ja")
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn post(
    c: &reqwest::Client,
    app: &TestApp,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let token = app.csrf(c, page).await;
    let mut form: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    text(
        c.post(app.url(path))
            .header("accept-language", "ja")
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn sign_up(
    c: &reqwest::Client,
    app: &TestApp,
    address: &str,
    cats: &[&str],
    lang: &str,
) -> (StatusCode, String) {
    let page = format!("/t/{T}/mail");
    let mut f = vec![("address", address), ("language", lang)];
    for c in cats {
        f.push(("category", c));
    }
    post(c, app, &page, &page, &f).await
}

async fn one(app: &TestApp, sql: &str) -> sqlx::any::AnyRow {
    sqlx::query(sql)
        .fetch_one(app.app.db.read())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The link in the last mail of `kind` (its path, from `/t/`).
async fn link_in_last_mail(app: &TestApp, kind: &str, what: &str) -> String {
    let r = one(
        app,
        &format!("SELECT body FROM outbox WHERE tenant = '{T}' AND kind = '{kind}' ORDER BY created_at DESC, id LIMIT 1"),
    )
    .await;
    let body: String = r.get(0);
    let at = body
        .find(&format!("/t/{T}/mail/{what}/"))
        .unwrap_or_else(|| panic!("no {what} link in {body}"));
    body[at..].split_whitespace().next().unwrap().to_string()
}

async fn subscriber_state(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query(&format!(
        "SELECT id, state FROM mail_subscribers WHERE tenant = '{T}' ORDER BY id"
    ))
    .fetch_all(app.app.db.read())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

async fn categories_of(app: &TestApp, id: &str) -> Vec<String> {
    sqlx::query_scalar(&format!(
        "SELECT category FROM mail_subscriptions WHERE tenant = '{T}' AND subscriber = '{id}' ORDER BY category"
    ))
    .fetch_all(app.app.db.read())
    .await
    .unwrap()
}

/// The categories a confirmation link of `id` carries.
async fn pending_of(app: &TestApp, id: &str) -> Vec<String> {
    sqlx::query_scalar(&format!(
        "SELECT category FROM mail_pending_choices WHERE tenant = '{T}' AND subscriber = '{id}' ORDER BY category"
    ))
    .fetch_all(app.app.db.read())
    .await
    .unwrap()
}

/// Moves the last confirmation of every subscriber `minutes` into the
/// past (as if that time went by).
async fn age_confirmations(app: &TestApp, minutes: i64) {
    app.execute_as_owner(&format!(
        "UPDATE mail_subscribers SET confirm_expires_at = confirm_expires_at - {} WHERE confirm_expires_at IS NOT NULL",
        minutes * 60_000
    ))
    .await;
}

/// Signing up again while pending (or after unsubscribing): the new
/// choice replaces the old when its link is used, not before; the older
/// link no longer works.
async fn sign_up_again_replaces_the_choice_on_confirmation(app: &TestApp) {
    let c = app.client();
    assert_eq!(
        sign_up(&c, app, "hanako@example.jp", &["bosai"], "en")
            .await
            .0,
        StatusCode::OK
    );
    let id = subscriber_state(app).await[0].0.clone();
    let first = link_in_last_mail(app, "subscription.confirm", "confirm").await;
    age_confirmations(app, 11).await;
    assert_eq!(
        sign_up(&c, app, "hanako@example.jp", &["kosodate", "event"], "ja")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'subscription.confirm'")
            .await,
        2
    );
    let second = link_in_last_mail(app, "subscription.confirm", "confirm").await;
    assert_ne!(first, second);
    // Nothing replaced yet: still pending, the first language kept.
    assert_eq!(
        subscriber_state(app).await,
        [(id.clone(), "pending".to_string())]
    );
    assert!(categories_of(app, &id).await.is_empty());
    assert_eq!(pending_of(app, &id).await, ["event", "kosodate"]);
    let lang = "SELECT lang FROM mail_subscribers";
    assert_eq!(one(app, lang).await.get::<String, _>(0), "en");
    // The older link was replaced by the newer one.
    assert_eq!(post(&c, app, &first, &first, &[]).await.0, StatusCode::GONE);
    assert_eq!(subscriber_state(app).await[0].1, "pending");
    let (s, html) = post(&c, app, &second, &second, &[]).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(categories_of(app, &id).await, ["event", "kosodate"]);
    assert_eq!(one(app, lang).await.get::<String, _>(0), "ja");
    assert!(pending_of(app, &id).await.is_empty());

    // Unsubscribed, then signed up again: the old choice stays until the
    // new link is used.
    app.execute_as_owner(&format!(
        "UPDATE mail_subscribers SET state = 'unsubscribed', unsubscribed_at = 1 WHERE id = '{id}'"
    ))
    .await;
    assert_eq!(
        sign_up(&c, app, "hanako@example.jp", &["kenko"], "en")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(subscriber_state(app).await[0].1, "unsubscribed");
    assert_eq!(categories_of(app, &id).await, ["event", "kosodate"]);
    assert_eq!(one(app, lang).await.get::<String, _>(0), "ja");
    let third = link_in_last_mail(app, "subscription.confirm", "confirm").await;
    assert_eq!(post(&c, app, &third, &third, &[]).await.0, StatusCode::OK);
    assert_eq!(subscriber_state(app).await[0].1, "active");
    assert_eq!(categories_of(app, &id).await, ["kenko"]);
    assert_eq!(one(app, lang).await.get::<String, _>(0), "en");
}

async fn sign_up_confirm_preferences_unsubscribe(app: &TestApp) {
    let c = app.client();
    let (s, html) = get(&c, app, &format!("/t/{T}/mail")).await;
    assert_eq!(s, StatusCode::OK);
    for name in [
        "防災・防犯",
        "子育て",
        "イベント",
        "市政だより",
        "健康",
        "選挙",
    ] {
        assert!(html.contains(name), "{name} offered");
    }

    // Bad input: each field named, nothing stored or queued.
    let (s, html) = sign_up(&c, app, "taro-at-example", &[], "xx").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("メールアドレスの形式が正しくありません"));
    assert!(html.contains("受け取るお知らせの分類を1つ以上選んでください"));
    assert!(html.contains("メールの言語を一覧から選んでください"));
    let (s, html) = sign_up(&c, app, "taro@example.jp", &["sports"], "ja").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("分類「sports」はありません"));
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_subscribers").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind LIKE 'subscription.%'")
            .await,
        0
    );

    // Signed up: pending, the confirmation queued in English.
    let (s, first_answer) = sign_up(&c, app, "Taro@Example.jp", &["bosai", "kosodate"], "en").await;
    assert_eq!(s, StatusCode::OK);
    assert!(first_answer.contains("確認のメールを送りました"));
    let subs = subscriber_state(app).await;
    assert_eq!(subs.len(), 1);
    let (id, state) = subs[0].clone();
    assert_eq!(state, "pending");
    // The choice travels with the link: nothing is subscribed before it
    // is used.
    assert!(categories_of(app, &id).await.is_empty());
    assert_eq!(pending_of(app, &id).await, ["bosai", "kosodate"]);
    // Queued, then delivered: the test server has no mail server
    // (development mode), so it lands in the demo mailbox.
    for _ in 0..100 {
        if app
            .count("SELECT COUNT(*) FROM outbox WHERE kind = 'subscription.confirm' AND state = 'demo'")
            .await
            == 1
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = one(app, "SELECT recipient, lang, subscriber, unsubscribe_url, state, subject FROM outbox WHERE kind = 'subscription.confirm'").await;
    assert_eq!(r.get::<String, _>(0), "Taro@Example.jp");
    assert_eq!(r.get::<String, _>(1), "en");
    assert_eq!(r.get::<Option<String>, _>(2).as_deref(), Some(id.as_str()));
    assert_eq!(r.get::<Option<String>, _>(3), None);
    assert_eq!(r.get::<String, _>(4), "demo");
    assert!(r.get::<String, _>(5).contains("Please confirm"));
    let confirm = link_in_last_mail(app, "subscription.confirm", "confirm").await;
    let token = confirm.rsplit('/').next().unwrap().to_string();
    // Only the token's SHA-256 is stored; the address is sealed.
    let r = one(
        app,
        "SELECT confirm_token_hash, address FROM mail_subscribers",
    )
    .await;
    assert_eq!(r.get::<String, _>(0), kernel::ids::hash_token(&token));
    assert!(!r.get::<String, _>(1).to_lowercase().contains("taro"));

    // The link shows a button; following it changes nothing by itself.
    let (s, html) = get(&c, app, &confirm).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("登録を完了する"));
    assert_eq!(subscriber_state(app).await[0].1, "pending");
    let (s, html) = post(&c, app, &confirm, &confirm, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("登録が完了しました"));
    let r = one(
        app,
        "SELECT state, consent_source, consent_at, confirm_token_hash FROM mail_subscribers",
    )
    .await;
    assert_eq!(r.get::<String, _>(0), "active");
    assert_eq!(r.get::<String, _>(1), "web");
    assert!(r.get::<Option<i64>, _>(2).is_some());
    assert_eq!(r.get::<Option<String>, _>(3), None);
    assert_eq!(categories_of(app, &id).await, ["bosai", "kosodate"]);
    assert!(pending_of(app, &id).await.is_empty());
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'mail.subscriber.confirm' AND target = 'mail_subscriber:{id}'")).await,
        1
    );
    // Used: says so, offers to start again.
    let (s, html) = get(&c, app, &confirm).await;
    assert_eq!(s, StatusCode::GONE);
    assert!(html.contains("使用済み"));
    assert!(html.contains(&format!("href=\"/t/{T}/mail\"")));
    let (s, _) = post(&c, app, &format!("/t/{T}/mail"), &confirm, &[]).await;
    assert_eq!(s, StatusCode::GONE);

    // Signing up again: the same answer; a mail with the preferences
    // link instead of a confirmation; nothing else changes.
    let (s, again) = sign_up(&c, app, "taro@example.jp", &["senkyo"], "ja").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, first_answer, "same answer either way");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'subscription.confirm'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'subscription.existing'")
            .await,
        1
    );
    assert_eq!(categories_of(app, &id).await, ["bosai", "kosodate"]);
    // Once more within ten minutes: the same answer, no second mail.
    let (s, third) = sign_up(&c, app, "taro@example.jp", &["bosai"], "ja").await;
    assert_eq!((s, third), (StatusCode::OK, first_answer.clone()));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind LIKE 'subscription.%'")
            .await,
        2
    );
    let prefs = link_in_last_mail(app, "subscription.existing", "preferences").await;
    assert_eq!(
        prefs,
        format!(
            "/t/{T}/mail/preferences/{id}/{}",
            app.app.subscriptions.links.token(T, &id)
        )
    );
    let r = one(
        app,
        "SELECT unsubscribe_url, lang FROM outbox WHERE kind = 'subscription.existing'",
    )
    .await;
    let unsubscribe = r.get::<Option<String>, _>(0).unwrap();
    assert_eq!(
        unsubscribe,
        app.url(&prefs.replace("/preferences/", "/unsubscribe/"))
    );
    assert_eq!(r.get::<String, _>(1), "en", "in the subscriber's language");

    // Preferences: a wrong token or another city is 404.
    let (s, html) = get(&c, app, &prefs).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("checked"));
    let wrong = format!("/t/{T}/mail/preferences/{id}/{}", "0".repeat(32));
    assert_eq!(get(&c, app, &wrong).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&c, app, &prefs.replace(T, "242021")).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, html) = post(&c, app, &prefs, &prefs, &[("language", "ja")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("受け取るお知らせの分類を1つ以上選んでください"));
    assert_eq!(categories_of(app, &id).await, ["bosai", "kosodate"]);
    let (s, html) = post(
        &c,
        app,
        &prefs,
        &prefs,
        &[
            ("category", "event"),
            ("category", "kenko"),
            ("language", "ja-x-easy"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("設定を保存しました"));
    assert_eq!(categories_of(app, &id).await, ["event", "kenko"]);
    assert_eq!(
        one(app, "SELECT lang FROM mail_subscribers")
            .await
            .get::<String, _>(0),
        "ja-x-easy"
    );

    // One-click unsubscribe: GET asks; a POST from a mail provider has no
    // cookie and no CSRF token.
    let unsub_path = prefs.replace("/preferences/", "/unsubscribe/");
    let (s, html) = get(&c, app, &unsub_path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("name=\"List-Unsubscribe\" value=\"One-Click\""));
    let provider = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let wrong = format!("/t/{T}/mail/unsubscribe/{id}/{}", "0".repeat(32));
    let r = provider
        .post(app.url(&wrong))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = provider
        .post(&unsubscribe)
        .form(&[("List-Unsubscribe", "Two-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(subscriber_state(app).await[0].1, "active");
    // Not an exemption for anything else: the preferences POST still needs a token.
    let r = provider
        .post(app.url(&prefs))
        .form(&[("category", "bosai"), ("language", "ja")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A newsletter queued for them and not handed off yet (due far ahead,
    // so no sender takes it first), and one already sent.
    for (mail_id, state) in [("nl-queued", "queued"), ("nl-sent", "sent")] {
        sqlx::query(
            "INSERT INTO outbox (tenant, id, kind, recipient, subject, body, created_at, attempts, state, campaign, subscriber, next_attempt_at) \
             VALUES ($1, $2, 'newsletter', 'taro@example.jp', 's', 'b', 0, 0, $3, 'c1', $4, 9000000000000)",
        )
        .bind(T)
        .bind(mail_id)
        .bind(state)
        .bind(id.as_str())
        .execute(app.app.db.write())
        .await
        .unwrap();
    }
    let r = provider
        .post(&unsubscribe)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The queued one is not sent; the sent one stays as it was.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE id = 'nl-queued' AND state = 'failed' AND last_error = 'unsubscribed'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE id = 'nl-sent' AND state = 'sent'")
            .await,
        1
    );
    let r = one(app, "SELECT state, unsubscribed_at FROM mail_subscribers").await;
    assert_eq!(r.get::<String, _>(0), "unsubscribed");
    assert!(r.get::<Option<i64>, _>(1).is_some());
    assert!(categories_of(app, &id).await.is_empty());
    // Again: still fine, nothing new.
    let r = provider
        .post(&unsubscribe)
        .header("content-type", "multipart/form-data; boundary=b")
        .body("--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'mail.subscriber.unsubscribe' AND target = 'mail_subscriber:{id}'")).await,
        1
    );
}

async fn expired_link_says_so(app: &TestApp) {
    let c = app.client();
    let (s, _) = sign_up(&c, app, "hanako@example.jp", &["event"], "ja").await;
    assert_eq!(s, StatusCode::OK);
    let confirm = link_in_last_mail(app, "subscription.confirm", "confirm").await;
    // Again at once: no second mail, the first link still works.
    let (s, _) = sign_up(&c, app, "hanako@example.jp", &["event"], "ja").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'subscription.confirm'")
            .await,
        1
    );
    assert_eq!(get(&c, app, &confirm).await.0, StatusCode::OK);
    app.execute_as_owner("UPDATE mail_subscribers SET confirm_expires_at = 1")
        .await;
    let (s, html) = get(&c, app, &confirm).await;
    assert_eq!(s, StatusCode::GONE);
    assert!(html.contains("有効期限"));
    assert!(html.contains("最初からやり直す"));
    let (s, _) = post(&c, app, &format!("/t/{T}/mail"), &confirm, &[]).await;
    assert_eq!(s, StatusCode::GONE);
    assert_eq!(subscriber_state(app).await[0].1, "pending");
    // Starting again makes a new link that works; the old one stays dead.
    let (s, _) = sign_up(&c, app, "hanako@example.jp", &["event"], "ja").await;
    assert_eq!(s, StatusCode::OK);
    let fresh = link_in_last_mail(app, "subscription.confirm", "confirm").await;
    assert_ne!(fresh, confirm);
    assert_eq!(get(&c, app, &confirm).await.0, StatusCode::GONE);
    let (s, _) = post(&c, app, &fresh, &fresh, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(subscriber_state(app).await[0].1, "active");
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_subscribers").await, 1);
}

async fn suppressed_address_is_told_what_to_do(app: &TestApp) {
    let vault = app.app.db.vault().unwrap();
    let hash = mail::address::hash(vault, T, &jp::Email::parse("gone@example.jp").unwrap());
    app.execute_as_owner(&format!(
        "INSERT INTO mail_suppressions (tenant, address_hash, reason, detail, at) VALUES ('{T}', '{hash}', 'bounce', '550', 1)"
    ))
    .await;
    let c = app.client();
    let (s, html) = sign_up(&c, app, "Gone@example.jp", &["bosai"], "ja").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("このアドレスにはメールを送れません"));
    assert!(html.contains("アドレスに誤りがないか確かめて"));
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_subscribers").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind LIKE 'subscription.%'")
            .await,
        0
    );
    // Another city's suppression is its own.
    let other = "/t/242021/mail";
    let (s, html) = post(
        &c,
        app,
        other,
        other,
        &[
            ("address", "gone@example.jp"),
            ("category", "bosai"),
            ("language", "ja"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("確認のメールを送りました"));
}

async fn staff_edit_categories(app: &TestApp) {
    let base = format!("/t/{T}/staff/mail/categories");
    // Only the system administrator.
    for id in ["clerk", "kodomo", "security"] {
        let c = app.staff(T, id).await;
        assert_eq!(get(&c, app, &base).await.0, StatusCode::FORBIDDEN, "{id}");
        assert_eq!(
            get(&c, app, &format!("/t/{T}/staff/mail/subscribers"))
                .await
                .0,
            StatusCode::FORBIDDEN,
            "{id}"
        );
    }
    let admin = app.staff(T, "dx-admin").await;
    let (s, html) = get(&admin, app, &base).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("防災・防犯"));
    assert!(
        html.contains(&format!("href=\"/t/{T}/staff/mail/subscribers\"")),
        "in the menu"
    );

    // Bad input: named, nothing added.
    let (s, html) = post(
        &admin,
        app,
        &base,
        &base,
        &[("code", "Sports!"), ("name_ja", "")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("コードは半角の英小文字"));
    assert!(html.contains("日本語の名前を1〜40文字で入力してください"));
    let (s, html) = post(
        &admin,
        app,
        &base,
        &base,
        &[("code", "bosai"), ("name_ja", "防災2")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("コード「bosai」の分類は既にあります"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_categories WHERE tenant = '{T}'"
        ))
        .await,
        6
    );

    let (s, _) = post(
        &admin,
        app,
        &base,
        &base,
        &[
            ("code", "sports"),
            ("name_ja", "スポーツ"),
            ("name_en", "Sports"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let public = app.client();
    let (_, html) = get(&public, app, &format!("/t/{T}/mail?lang=en")).await;
    assert!(html.contains("Sports"));
    // Renamed in another language.
    let edit = format!("{base}/sports");
    let (s, _) = post(
        &admin,
        app,
        &edit,
        &edit,
        &[
            ("name_ja", "スポーツ・運動"),
            ("name_en", "Sport and exercise"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = get(&public, app, &format!("/t/{T}/mail?lang=en")).await;
    assert!(html.contains("Sport and exercise"));
    // Moved up: before 選挙 now.
    let (s, _) = post(
        &admin,
        app,
        &base,
        &format!("{base}/sports/move"),
        &[("direction", "up")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = get(&public, app, &format!("/t/{T}/mail?lang=ja")).await;
    assert!(html.find("スポーツ・運動").unwrap() < html.find("選挙").unwrap());
    assert!(html.find("健康").unwrap() < html.find("スポーツ・運動").unwrap());
    let (s, _) = post(
        &admin,
        app,
        &base,
        &format!("{base}/sports/move"),
        &[("direction", "sideways")],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Deactivated: not offered; a sign-up naming it is refused.
    let (s, _) = post(
        &admin,
        app,
        &base,
        &format!("{base}/senkyo/active"),
        &[("active", "0")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = get(&public, app, &format!("/t/{T}/mail?lang=ja")).await;
    assert!(!html.contains("選挙"));
    assert_eq!(
        sign_up(&public, app, "a@example.jp", &["senkyo"], "ja")
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A category someone subscribes to is never deleted.
    assert_eq!(
        sign_up(&public, app, "a@example.jp", &["kenko"], "ja")
            .await
            .0,
        StatusCode::OK
    );
    let (s, html) = post(&admin, app, &base, &format!("{base}/kenko/delete"), &[]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("分類「kenko」は登録者かメッセージがあるため削除できません"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_categories WHERE tenant = '{T}' AND code = 'kenko'"
        ))
        .await,
        1
    );
    // Nor one a LINE user receives.
    app.execute_as_owner(&format!(
        "INSERT INTO line_subscriptions (tenant, user_id, category, created_at) VALUES ('{T}', 'U0123456789abcdef0123456789abcdef', 'sports', 0)"
    ))
    .await;
    let (s, html) = post(&admin, app, &base, &format!("{base}/sports/delete"), &[]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("分類「sports」は登録者かメッセージがあるため削除できません"));
    app.execute_as_owner("DELETE FROM line_subscriptions").await;
    let (s, _) = post(&admin, app, &base, &format!("{base}/sports/delete"), &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_categories WHERE tenant = '{T}' AND code = 'sports'"
        ))
        .await,
        0
    );
    assert_eq!(
        post(&admin, app, &base, &format!("{base}/nothing/delete"), &[])
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert!(
        app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action LIKE 'mail.category.%' AND actor = 'staff:dx-admin'")).await >= 5
    );
    // The other city's categories are untouched.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_categories WHERE tenant = '242021' AND active = 1")
            .await,
        6
    );
}

async fn staff_list_is_masked_and_audited(app: &TestApp) {
    let public = app.client();
    assert_eq!(
        sign_up(&public, app, "jiro@example.jp", &["bosai"], "ja")
            .await
            .0,
        StatusCode::OK
    );
    let id = subscriber_state(app).await[0].0.clone();
    let vault = app.app.db.vault().unwrap();
    let hash = mail::address::hash(vault, T, &jp::Email::parse("jiro@example.jp").unwrap());
    app.execute_as_owner(&format!(
        "INSERT INTO mail_suppressions (tenant, address_hash, reason, detail, at) VALUES ('{T}', '{hash}', 'bounce', '550', 1)"
    ))
    .await;
    let admin = app.staff(T, "dx-admin").await;
    let list = format!("/t/{T}/staff/mail/subscribers");
    let (s, html) = get(&admin, app, &list).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("j•••@example.jp"));
    assert!(!html.contains("jiro@"));
    assert!(html.contains("確認待ち"));
    assert!(
        html.contains("<strong>停止中</strong>"),
        "suppression shown"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'mail.subscribers.list' AND actor = 'staff:dx-admin'").await,
        1
    );
    let (s, html) = get(&admin, app, &format!("{list}/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("jiro@example.jp"));
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'mail.subscriber.open' AND target = 'mail_subscriber:{id}' AND actor = 'staff:dx-admin'")).await,
        1
    );
    assert_eq!(
        get(&admin, app, &format!("{list}/nobody")).await.0,
        StatusCode::NOT_FOUND
    );
    // Another city's administrator sees neither the list nor the subscriber
    // (not signed in for this city: sent to its sign-in).
    let other = app.staff("242021", "dx-admin").await;
    assert_eq!(
        get(&other, app, &format!("{list}/{id}")).await.0,
        StatusCode::SEE_OTHER
    );
    let (s, html) = get(
        &other,
        app,
        &format!("/t/242021/staff/mail/subscribers/{id}"),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!html.contains("jiro"));
    let (_, html) = get(&other, app, "/t/242021/staff/mail/subscribers").await;
    assert!(!html.contains("j•••@example.jp"));
}

async fn import_is_all_or_nothing(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let page = format!("/t/{T}/staff/mail/subscribers/import");
    let good = "address,categories,language,consent_date\nichiro@example.jp,bosai;kosodate,en,2019-04-01\njiro@example.jp,event,,2020-10-15\n";
    let (s, html) = post(
        &admin,
        app,
        &page,
        &page,
        &[("csv", good), ("dry_run", "1")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("誤りはありません。2件を取り込めます"));
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_subscribers").await, 0);
    // The check read the list (who is on it): audited, as the import is.
    let checks = "SELECT COUNT(*) FROM audit_log WHERE action = 'mail.subscribers.import_check' AND actor = 'staff:dx-admin'";
    assert_eq!(app.count(checks).await, 1);

    let bad = format!("{good}saburo@example,bosai,ja,2020-01-01\nshiro@example.jp,golf,ja,2020-01-01\nichiro@example.jp,bosai,ja,2099-01-01\n");
    let (s, html) = post(&admin, app, &page, &page, &[("csv", &bad)]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("4件の誤りがあるため、何も取り込んでいません"));
    assert!(
        html.contains("4行目：address（メールアドレス）「saburo@example」の形式が正しくありません")
    );
    assert!(html.contains("5行目：categories（分類）「golf」"));
    assert!(html.contains("6行目：consent_date（同意日）「2099-01-01」"));
    assert!(html.contains("6行目：address「ichiro@example.jp」は2行目と同じアドレスです"));
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_subscribers").await, 0);
    // Refused before the list was read: nothing to audit.
    assert_eq!(app.count(checks).await, 1);

    let (s, html) = post(&admin, app, &page, &page, &[("csv", good)]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("2件を取り込みました"));
    let r = one(
        app,
        "SELECT state, consent_source, consent_at, lang FROM mail_subscribers WHERE lang = 'en'",
    )
    .await;
    assert_eq!(r.get::<String, _>(0), "active");
    assert_eq!(r.get::<String, _>(1), "import");
    // 2019-04-01 00:00 in Japan.
    assert_eq!(r.get::<Option<i64>, _>(2), Some(1_554_044_400_000));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_subscriptions").await,
        3
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind LIKE 'subscription.%'")
            .await,
        0,
        "no mails"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'mail.subscribers.import' AND actor = 'staff:dx-admin'").await,
        1
    );
    // The counts per category.
    let (_, html) = get(&admin, app, &format!("/t/{T}/staff/mail/subscribers")).await;
    assert!(
        html.contains("<tr data-count=\"bosai\"><th scope=\"row\">防災・防犯</th><td>1</td></tr>"),
        "{html}"
    );
    assert!(html
        .contains("<tr data-state-count=\"active\"><th scope=\"row\">配信中</th><td>2</td></tr>"));

    // Again: already listed, nothing changes (an unsubscribed address too).
    let (s, html) = post(&admin, app, &page, &page, &[("csv", good)]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("2行目：address「ichiro@example.jp」は既に登録されています"));
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_subscribers").await, 2);
    // That refusal told who is on the list: audited.
    assert_eq!(app.count(checks).await, 2);
    let (s, html) = post(
        &admin,
        app,
        &page,
        &page,
        &[("csv", "address,categories\n")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("1行目：見出しを address,categories,language,consent_date にしてください")
    );
}

async fn purge_after_retention(app: &TestApp) {
    let c = app.client();
    for a in [
        "old@example.jp",
        "recent@example.jp",
        "never@example.jp",
        "kept@example.jp",
        "again@example.jp",
        "back@example.jp",
    ] {
        assert_eq!(
            sign_up(&c, app, a, &["bosai"], "ja").await.0,
            StatusCode::OK
        );
    }
    let now = kernel::clock::now_ms();
    let day = 86_400_000i64;
    let ids: Vec<String> = subscriber_state(app)
        .await
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    let row_of = |a: &str| {
        let vault = app.app.db.vault().unwrap();
        mail::address::hash(vault, T, &jp::Email::parse(a).unwrap())
    };
    // old: unsubscribed 31 days ago; recent: 29 days ago; never: signed
    // up 8 days ago, its link expired 7 days ago; kept: active; again:
    // signed up 8 days ago and again today (a fresh link); back:
    // unsubscribed 31 days ago and signed up again today.
    app.execute_as_owner(&format!(
        "UPDATE mail_subscribers SET state = 'unsubscribed', unsubscribed_at = {}, confirm_token_hash = NULL, confirm_expires_at = NULL WHERE address_hash = '{}'\n;;\n\
         UPDATE mail_subscribers SET state = 'unsubscribed', unsubscribed_at = {}, confirm_token_hash = NULL, confirm_expires_at = NULL WHERE address_hash = '{}'\n;;\n\
         UPDATE mail_subscribers SET created_at = {}, confirm_expires_at = {} WHERE address_hash = '{}'\n;;\n\
         UPDATE mail_subscribers SET state = 'active', created_at = {}, confirm_token_hash = NULL, confirm_expires_at = NULL WHERE address_hash = '{}'\n;;\n\
         UPDATE mail_subscribers SET created_at = {} WHERE address_hash = '{}'\n;;\n\
         UPDATE mail_subscribers SET state = 'unsubscribed', unsubscribed_at = {} WHERE address_hash = '{}'",
        now - 31 * day,
        row_of("old@example.jp"),
        now - 29 * day,
        row_of("recent@example.jp"),
        now - 8 * day,
        now - 7 * day,
        row_of("never@example.jp"),
        now - 400 * day,
        row_of("kept@example.jp"),
        now - 8 * day,
        row_of("again@example.jp"),
        now - 31 * day,
        row_of("back@example.jp"),
    ))
    .await;
    assert_eq!(ids.len(), 6);
    let n = mail::subscriptions::admin::purge(&app.app.db, now)
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_subscribers").await, 4);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_subscribers WHERE address_hash IN ('{}', '{}', '{}', '{}')",
            row_of("recent@example.jp"),
            row_of("kept@example.jp"),
            row_of("again@example.jp"),
            row_of("back@example.jp")
        ))
        .await,
        4,
        "a fresh confirmation link keeps its sign-up"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_pending_choices s WHERE NOT EXISTS (SELECT 1 FROM mail_subscribers b WHERE b.tenant = s.tenant AND b.id = s.subscriber)").await,
        0,
        "their pending choices went with them"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_subscriptions s WHERE NOT EXISTS (SELECT 1 FROM mail_subscribers b WHERE b.tenant = s.tenant AND b.id = s.subscriber)").await,
        0,
        "their subscriptions went with them"
    );
    // The job of that name is registered and scheduled.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job_schedules WHERE name = 'mail.subscribers.purge'")
            .await,
        1
    );
}

/// Key rotation: subscribers' addresses re-sealed and re-hashed with the
/// new key, a suppression of a known address re-hashed; afterwards the
/// old key is not needed.
async fn rekey_reseals_and_rehashes(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let page = format!("/t/{T}/staff/mail/subscribers/import");
    let csv = "address,categories,language,consent_date\nkana@example.jp,bosai,ja,2020-01-01\n";
    assert_eq!(
        post(&admin, app, &page, &page, &[("csv", csv)]).await.0,
        StatusCode::OK
    );
    let old = app.app.db.vault().unwrap().clone();
    let address = jp::Email::parse("kana@example.jp").unwrap();
    let old_hash = mail::address::hash(&old, T, &address);
    app.execute_as_owner(&format!(
        "INSERT INTO mail_suppressions (tenant, address_hash, reason, detail, at) VALUES ('{T}', '{old_hash}', 'bounce', '550', 1)"
    ))
    .await;
    let new_spec = kernel::crypto::Vault::generate_spec("test2");
    let mut specs = vec![new_spec.clone()];
    specs.extend(app.app.config.encryption_keys.iter().cloned());
    let rotated = kernel::crypto::Vault::from_specs(&specs).unwrap();
    let r = mail::subscriptions::admin::rekey(&app.app.db, &rotated)
        .await
        .unwrap();
    assert_eq!((r.subscribers, r.suppressions), (1, 1));
    let only_new = kernel::crypto::Vault::from_specs(&[new_spec]).unwrap();
    let row = one(
        app,
        &format!("SELECT address, address_hash FROM mail_subscribers WHERE tenant = '{T}'"),
    )
    .await;
    let sealed: String = row.get(0);
    assert_eq!(
        mail::address::open(&only_new, T, &sealed).unwrap().as_str(),
        "kana@example.jp"
    );
    let new_hash = mail::address::hash(&only_new, T, &address);
    assert_ne!(new_hash, old_hash);
    assert_eq!(row.get::<String, _>(1), new_hash);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_suppressions WHERE address_hash = '{new_hash}'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_suppressions WHERE address_hash = '{old_hash}'"
        ))
        .await,
        0
    );
    // Again: nothing left to move.
    let r = mail::subscriptions::admin::rekey(&app.app.db, &rotated)
        .await
        .unwrap();
    assert_eq!((r.subscribers, r.suppressions), (1, 0));
}

testkit::on_both_backends!(
    rekey_reseals_and_rehashes,
    sign_up_again_replaces_the_choice_on_confirmation,
    sign_up_confirm_preferences_unsubscribe,
    expired_link_says_so,
    suppressed_address_is_told_what_to_do,
    staff_edit_categories,
    staff_list_is_masked_and_audited,
    import_is_all_or_nothing,
    purge_after_retention,
);
