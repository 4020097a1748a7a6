//! Identity and security over HTTP, each scenario on SQLite and PostgreSQL:
//! second-factor enrolment and sign-in, lockout, session limits, CSRF,
//! roles allowed and denied, identity levels at submission, encrypted
//! マイナンバー, rate limits, password rules.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

const T: &str = "122289";

async fn body(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

async fn text(r: reqwest::Response) -> String {
    r.text().await.unwrap()
}

fn totp_now(secret_b32: &str) -> String {
    let secret = kernel::totp::base32_decode(secret_b32).unwrap();
    kernel::totp::code(
        &secret,
        kernel::totp::step_at(kernel::clock::now_ms() / 1000),
    )
}

fn totp_next(secret_b32: &str) -> String {
    let secret = kernel::totp::base32_decode(secret_b32).unwrap();
    kernel::totp::code(
        &secret,
        kernel::totp::step_at(kernel::clock::now_ms() / 1000) + 1,
    )
}

/// Posts a form with the page's CSRF token.
async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = app.csrf(c, page).await;
    let mut f: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
    f.extend_from_slice(fields);
    c.post(app.url(action)).form(&f).send().await.unwrap()
}

/// Creates a staff account through the administration page.
async fn create_staff(
    app: &TestApp,
    id: &str,
    roles: &[&str],
    password: &str,
) -> reqwest::Response {
    let admin = app.staff(T, "dx-admin").await;
    let mut fields = vec![
        ("id", id),
        ("name", "試験 職員"),
        ("department", "madoguchi"),
        ("password", password),
    ];
    for r in roles {
        fields.push(("roles", r));
    }
    post_form(
        app,
        &admin,
        &format!("/t/{T}/staff/admin"),
        &format!("/t/{T}/staff/admin"),
        &fields,
    )
    .await
}

async fn password_step(
    app: &TestApp,
    c: &reqwest::Client,
    id: &str,
    password: &str,
) -> reqwest::Response {
    post_form(
        app,
        c,
        &format!("/t/{T}/staff/sign-in"),
        &format!("/t/{T}/staff/sign-in"),
        &[("id", id), ("password", password)],
    )
    .await
}

const NEW_PASSWORD: &str = "kinmokusei-no-kaori-2026";

async fn mfa_enrolment_and_sign_in(app: &TestApp) {
    // Bad input on the administration form: clear messages, no account.
    let r = create_staff(app, "Bad Id", &[], "short").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(r).await;
    assert!(html.contains("「職員ID」は英小文字"), "{html}");
    assert!(html.contains("「役割」を1つ以上"));
    assert!(html.contains("「パスワード」は12文字以上"));
    let r = create_staff(app, "tanaka", &["clerk"], "password1234").await;
    assert!(text(r).await.contains("よく使われている"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff WHERE id = 'tanaka'")
            .await,
        0
    );
    let r = create_staff(app, "tanaka", &["clerk", "reviewer"], NEW_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(text(r).await.contains("職員 tanaka を登録しました"));

    // First sign-in: the password leads to enrolment, nothing else.
    let c = app.client();
    let r = password_step(app, &c, "tanaka", NEW_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("/t/{T}/staff/mfa/enrol"));
    let r = c
        .get(app.url(&format!("/api/v1/t/{T}/staff/cases")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "no access before the second factor"
    );
    let html = text(
        c.get(app.url(&format!("/t/{T}/staff/mfa/enrol")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        html.contains("<svg") && html.contains("aria-hidden=\"true\""),
        "QR code"
    );
    let secret: String = html
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(secret.len(), 32, "160-bit secret in base32");
    // The secret is sealed at rest.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM staff_sessions WHERE totp_pending LIKE '%{secret}%'"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff_sessions WHERE staff_id = 'tanaka' AND totp_pending LIKE 'mdg1:%'")
            .await,
        1
    );
    // Another sign-in at the enrolment step gets its own secret: whoever
    // saw one enrolment page does not hold the secret finally used.
    let other = app.client();
    password_step(app, &other, "tanaka", NEW_PASSWORD).await;
    let html2 = text(
        other
            .get(app.url(&format!("/t/{T}/staff/mfa/enrol")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!html2.contains(&secret[..8]), "a fresh secret per sign-in");
    // Bad input: empty, not digits, wrong code — each explained, nothing enrolled.
    let enrol = format!("/t/{T}/staff/mfa/enrol");
    for (code, message) in [
        ("", "6桁の数字"),
        ("abc", "6桁の数字"),
        ("000000", "正しくないか"),
    ] {
        let r = post_form(app, &c, &enrol, &enrol, &[("code", code)]).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code {code:?}"
        );
        assert!(text(r).await.contains(message), "code {code:?}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff WHERE id = 'tanaka' AND totp_secret IS NULL")
            .await,
        1
    );
    // The right code (typed with full-width digits and a space) enrols and
    // shows ten recovery codes once.
    let code: String = totp_now(&secret)
        .chars()
        .map(|d| char::from_u32(d as u32 - '0' as u32 + '０' as u32).unwrap())
        .collect();
    let spaced = format!("{} {}", &code[..9], &code[9..]);
    let r = post_form(app, &c, &enrol, &enrol, &[("code", &spaced)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = text(r).await;
    let codes: Vec<String> = html
        .split("<li>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .filter(|s| s.len() == 11 && s.as_bytes()[5] == b'-')
        .map(String::from)
        .collect();
    assert_eq!(codes.len(), 10, "{html}");
    let r = c
        .get(app.url(&format!("/api/v1/t/{T}/staff/cases")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "signed in after enrolment");

    // Next sign-in: password, then the code.
    let c = app.client();
    let r = password_step(app, &c, "tanaka", NEW_PASSWORD).await;
    assert_eq!(
        r.headers()["location"],
        format!("/t/{T}/staff/sign-in/verify")
    );
    let verify = format!("/t/{T}/staff/sign-in/verify");
    let r = post_form(app, &c, &verify, &verify, &[("code", "")]).await;
    assert!(text(r).await.contains("「認証コード」を入力してください"));
    // The code used at enrolment cannot be replayed.
    let r = post_form(app, &c, &verify, &verify, &[("code", &totp_now(&secret))]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(r).await.contains("既に使われています"));
    let r = post_form(app, &c, &verify, &verify, &[("code", &totp_next(&secret))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("/t/{T}/staff/cases"));

    // A recovery code works once.
    for attempt in 0..2 {
        let c = app.client();
        password_step(app, &c, "tanaka", NEW_PASSWORD).await;
        let r = post_form(
            app,
            &c,
            &verify,
            &verify,
            &[("code", &codes[0].to_uppercase())],
        )
        .await;
        if attempt == 0 {
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "recovery code accepted");
        } else {
            assert_eq!(
                r.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "used once only"
            );
        }
    }
    // Reset by an administrator: the next sign-in enrols again, sessions end.
    let admin = app.staff(T, "dx-admin").await;
    let r = post_form(
        app,
        &admin,
        &format!("/t/{T}/staff/admin"),
        &format!("/t/{T}/staff/admin/tanaka"),
        &[("action", "reset_mfa"), ("department", "")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c = app.client();
    let r = password_step(app, &c, "tanaka", NEW_PASSWORD).await;
    assert_eq!(r.headers()["location"], format!("/t/{T}/staff/mfa/enrol"));
    for action in ["staff.mfa_enrolled", "staff.mfa_reset", "staff.create"] {
        assert!(
            app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND target = 'staff:tanaka'"))
                .await
                >= 1,
            "{action} audited"
        );
    }
}

async fn lockout(app: &TestApp) {
    let c = app.client();
    for _ in 0..4 {
        let r = password_step(app, &c, "reviewer", "wrong-password-x").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(r).await.contains("IDまたはパスワード"));
    }
    let r = password_step(app, &c, "reviewer", "wrong-password-x").await;
    let html = text(r).await;
    assert!(html.contains("一時的にロックされています"), "{html}");
    // Even the right password is refused while locked.
    let r = password_step(app, &c, "reviewer", server::demo::DEMO_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(r).await.contains("ロック"));
    let code = app.totp_code(T, "reviewer").await;
    let r = c
        .post(app.url(&format!("/api/v1/t/{T}/staff/session")))
        .json(&json!({"id": "reviewer", "password": server::demo::DEMO_PASSWORD, "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'staff.locked' AND target = 'staff:reviewer'")
            .await,
        1
    );
    // Wrong second-factor codes count too (no brute force of six digits).
    let c2 = app.client();
    password_step(app, &c2, "approver", server::demo::DEMO_PASSWORD).await;
    let verify = format!("/t/{T}/staff/sign-in/verify");
    for _ in 0..5 {
        post_form(app, &c2, &verify, &verify, &[("code", "000001")]).await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff WHERE id = 'approver' AND locked_until > 0")
            .await,
        1
    );
    // An administrator unlocks.
    let admin = app.staff(T, "dx-admin").await;
    let r = post_form(
        app,
        &admin,
        &format!("/t/{T}/staff/admin"),
        &format!("/t/{T}/staff/admin/reviewer"),
        &[("action", "unlock"), ("department", "")],
    )
    .await;
    assert!(text(r).await.contains("reviewer への操作を実行しました"));
    let _ = app.staff(T, "reviewer").await;
}

async fn session_limits(app: &TestApp) {
    let a = app.staff(T, "clerk").await;
    let b = app.staff(T, "clerk").await;
    let cases = app.url(&format!("/api/v1/t/{T}/staff/cases"));
    assert_eq!(a.get(&cases).send().await.unwrap().status(), StatusCode::OK);
    // Idle: 31 minutes without a request.
    let thirty_one_min_ago = kernel::clock::now_ms() - 31 * 60_000;
    sqlx::query("UPDATE staff_sessions SET last_seen = $1 WHERE staff_id = 'clerk'")
        .bind(thirty_one_min_ago)
        .execute(app.app.db.write())
        .await
        .unwrap();
    assert_eq!(
        a.get(&cases).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        b.get(&cases).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // Absolute: 13 hours after sign-in, however active.
    let a = app.staff(T, "clerk").await;
    sqlx::query("UPDATE staff_sessions SET created_at = $1 WHERE staff_id = 'clerk'")
        .bind(kernel::clock::now_ms() - 13 * 3_600_000)
        .execute(app.app.db.write())
        .await
        .unwrap();
    assert_eq!(
        a.get(&cases).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // Expired sessions are deleted, not just refused.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff_sessions WHERE staff_id = 'clerk'")
            .await,
        0
    );
    // Sign out everywhere ends the other device's session too.
    let a = app.staff(T, "clerk").await;
    let b = app.staff(T, "clerk").await;
    let r = post_form(
        app,
        &a,
        &format!("/t/{T}/staff/account"),
        &format!("/t/{T}/staff/account/sign-out-everywhere"),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        b.get(&cases).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        a.get(&cases).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // Cookies: HttpOnly, SameSite=Strict.
    let code = app.totp_code(T, "clerk").await;
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/staff/session")))
        .json(&json!({"id": "clerk", "password": server::demo::DEMO_PASSWORD, "code": code}))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mdg_staff="))
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

async fn csrf_refused(app: &TestApp) {
    let id = submit_case(app, None).await;
    let clerk = app.staff(T, "reviewer").await;
    let page = format!("/t/{T}/staff/cases/{id}");
    let comment = app.url(&format!("/t/{T}/staff/cases/{id}/comment"));
    let events = format!("SELECT COUNT(*) FROM application_events WHERE application_id = '{id}'");
    let before = app.count(&events).await;
    // No token.
    let r = clerk
        .post(&comment)
        .form(&[("comment", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = text(r).await;
    assert!(
        html.contains("MDG-403-csrf") && html.contains("再読み込み"),
        "{html}"
    );
    // Another browser's token.
    let other = app.client();
    let foreign = app.csrf(&other, &format!("/t/{T}/sign-in")).await;
    let r = clerk
        .post(&comment)
        .form(&[("_csrf", foreign.as_str()), ("comment", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The right token from another site.
    let token = app.csrf(&clerk, &page).await;
    let r = clerk
        .post(&comment)
        .header("origin", "https://evil.example")
        .form(&[("_csrf", token.as_str()), ("comment", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count(&events).await, before, "nothing changed");
    // The JSON API refuses the content types a cross-site form can send.
    let r = clerk
        .post(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}/comments")))
        .header("content-type", "text/plain")
        .body(r#"{"text": "x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With its own token, same site: accepted.
    let r = clerk
        .post(&comment)
        .form(&[("_csrf", token.as_str()), ("comment", "確認しました")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count(&events).await, before + 1);
}

/// Submits a case of the demo's 住民票 (my_number_card) through the API as
/// a resident signed in with the card; returns its id.
async fn submit_case(app: &TestApp, my_number: Option<&str>) -> String {
    let resident = app.resident(T, "my_number_card").await;
    submit_jido(app, &resident, my_number).await
}

async fn submit_jido(app: &TestApp, c: &reqwest::Client, my_number: Option<&str>) -> String {
    let mut answers = json!({
        "applicant": {"name": "別人 太郎", "kana": "しかわたり はなこ"},
        "scope": "individual",
        "copies": 1,
        "purpose": "employment",
        "delivery": "post",
    });
    let procedure = if let Some(n) = my_number {
        answers = json!({
            "applicant": {"name": "別人 太郎", "kana": "しかわたり はなこ"},
            "applicant_my_number": n,
            "child_name": {"name": "四街道 一郎", "kana": "しかわたり いちろう"},
            "child_birth_date": "2024-05-01",
            "claim_reason": "birth",
            "bank_account_doc": {"filename": "a.pdf", "content_type": "application/pdf", "data_base64": "JVBERi0xLjcgdGVzdA=="},
        });
        "jido-teate"
    } else {
        "juminhyo-copy"
    };
    let r = c
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/{procedure}/applications"
        )))
        .header("idempotency-key", kernel::ids::token())
        .json(&json!({ "answers": answers }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let b = body(r).await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    b["id"].as_str().unwrap().to_string()
}

async fn identity_levels(app: &TestApp) {
    let url = app.url(&format!(
        "/api/v1/t/{T}/procedures/juminhyo-copy/applications"
    ));
    let answers = json!({"answers": {
        "applicant": {"name": "山田 太郎", "kana": "やまだ たろう"},
        "scope": "individual", "copies": 1, "purpose": "employment", "delivery": "post"}});
    let before = app.count("SELECT COUNT(*) FROM applications").await;
    // Not signed in, then signed in without the card: refused, nothing stored.
    for c in [app.client(), app.resident(T, "signed_in").await] {
        let r = c
            .post(&url)
            .header("idempotency-key", kernel::ids::token())
            .json(&answers)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let b = body(r).await;
        assert_eq!(b["error"]["code"], "MDG-403-identity-my_number_card");
        assert!(b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("マイナンバーカード"));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, before);
    // The HTML form sends a resident who is not signed in to sign in first.
    let r = app
        .client()
        .get(app.url(&format!("/t/{T}/procedures/juminhyo-copy/apply")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("/t/{T}/sign-in?need=my_number_card")),
        "{to}"
    );
    // With the card: accepted; the verified name replaces what was typed.
    let id = submit_case(app, None).await;
    let staff = app.staff(T, "dx-admin").await;
    let case = body(
        staff
            .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(case["applicant_name"], "四街道\u{3000}花子", "{case}");
    assert_eq!(case["identity_level"], "my_number_card");
    assert_eq!(case["verified_fields"], json!(["applicant"]));
    let html = text(
        staff
            .get(app.url(&format!("/t/{T}/staff/cases/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(html.contains("本人確認済み") && html.contains("マイナンバーカード"));
    // The form shows the verified name read-only.
    let resident = app.resident(T, "my_number_card").await;
    let html = text(
        resident
            .get(app.url(&format!("/t/{T}/procedures/juminhyo-copy/apply")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(html.contains("value=\"四街道 花子\"") && html.contains("readonly"));
    assert!(html.contains("マイナンバーカードで確認済み"));
    // The account page shows the verified 基本4情報.
    let html = text(
        resident
            .get(app.url(&format!("/t/{T}/account")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(html.contains("千葉県四街道市鹿渡無番地") && html.contains("平成2年4月1日"));
    // Signing out ends the session at once (also for the session cache):
    // the old cookie, replayed, no longer works.
    let leaving = app.client();
    let r = post_form(
        app,
        &leaving,
        &format!("/t/{T}/sign-in"),
        &format!("/t/{T}/sign-in/dev"),
        &[
            ("name", "四街道 花子"),
            ("address", "四街道市"),
            ("birthdate", "1990-04-01"),
            ("level", "signed_in"),
        ],
    )
    .await;
    let cookie = testkit::set_cookie(&r, "mdg_resident").unwrap();
    let replay = || async {
        app.client()
            .get(app.url(&format!("/t/{T}/account")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(replay().await, StatusCode::OK);
    let r = post_form(
        app,
        &leaving,
        &format!("/t/{T}/account"),
        &format!("/t/{T}/sign-out"),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        replay().await,
        StatusCode::SEE_OTHER,
        "signed out, also in the cache"
    );
    // A resident session of one tenant means nothing at another.
    let r = resident
        .get(app.url("/t/242021/account"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "not signed in there");
    // Bad input on the development sign-in form.
    let c = app.client();
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/sign-in"),
        &format!("/t/{T}/sign-in/dev"),
        &[
            ("name", ""),
            ("address", ""),
            ("birthdate", "昨日"),
            ("level", "my_number_card"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(r).await;
    assert!(
        html.contains("「氏名」を入力")
            && html.contains("「住所」を入力")
            && html.contains("「生年月日」を日付で")
    );
    // The return address is only ever a path of this tenant.
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/sign-in"),
        &format!("/t/{T}/sign-in/dev"),
        &[
            ("name", "四街道 花子"),
            ("address", "四街道市"),
            ("birthdate", "1990-04-01"),
            ("level", "signed_in"),
            ("return_to", "//evil.example/t/122289"),
        ],
    )
    .await;
    assert_eq!(r.headers()["location"], format!("/t/{T}"));
}

async fn my_number_encrypted(app: &TestApp) {
    let n = "123456789018";
    let id = submit_case(app, Some("1234 5678 9018")).await;
    // Not in the stored row, in any form.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM applications WHERE id = '{id}' AND (data LIKE '%{n}%' OR data LIKE '%9018%')"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM applications WHERE id = '{id}' AND data LIKE '%mdg1:%'"
        ))
        .await,
        1
    );
    // Nor anywhere in the SQLite file (with its write-ahead log).
    if app.backend == testkit::Backend::Sqlite {
        sqlx::query("PRAGMA wal_checkpoint(FULL)")
            .execute(app.app.db.write())
            .await
            .unwrap();
        let path = app
            .app
            .config
            .database_url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        for file in [path.clone(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                let hay = String::from_utf8_lossy(&bytes);
                assert!(!hay.contains(n), "{file} holds the number in plain text");
                assert!(
                    !hay.contains("1234 5678 9018"),
                    "{file} holds the typed number"
                );
            }
        }
    }
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM attachments WHERE owner = 'application:{id}' AND sha256 <> ''"
        ))
        .await,
        1
    );
    // Staff see it masked; a reveal is audited.
    let staff = app.staff(T, "kodomo").await;
    let case = body(
        staff
            .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        case["answers"]["applicant_my_number"], "********9018",
        "{case}"
    );
    let reveals = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'application.reveal_my_number' AND target = 'application:{id}'");
    assert_eq!(app.count(&reveals).await, 0);
    let html = text(
        staff
            .get(app.url(&format!("/t/{T}/staff/cases/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(html.contains("********9018") && !html.contains(n));
    let page = format!("/t/{T}/staff/cases/{id}");
    let r = post_form(app, &staff, &page, &format!("{page}/reveal"), &[]).await;
    assert!(text(r).await.contains(n));
    let case = body(
        staff
            .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}?reveal=my_number")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(case["answers"]["applicant_my_number"], n);
    assert_eq!(app.count(&reveals).await, 2);
    // The security officer reads the audit log but not the case.
    let officer = app.staff(T, "security").await;
    let r = officer
        .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn roles_allowed_and_denied(app: &TestApp) {
    let id = submit_case(app, None).await;
    let version = |v: &Value| v["version"].as_i64().unwrap();
    let act = |c: reqwest::Client, action: &'static str, v: i64| {
        let url = app.url(&format!("/api/v1/t/{T}/staff/cases/{id}/actions"));
        async move {
            c.post(url)
                .json(&json!({"action": action, "version": v, "message": "理由"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let case = |c: reqwest::Client| {
        let url = app.url(&format!("/api/v1/t/{T}/staff/cases/{id}"));
        async move { c.get(url).send().await.unwrap() }
    };
    let admin = app.staff(T, "dx-admin").await;
    let v = version(&body(case(admin.clone()).await).await);
    // 窓口 (clerk) cannot start a review or approve.
    let clerk = app.staff(T, "clerk").await;
    assert_eq!(
        act(clerk.clone(), "start_review", v).await,
        StatusCode::FORBIDDEN
    );
    // 審査 may.
    let reviewer = app.staff(T, "reviewer").await;
    assert_eq!(
        act(reviewer.clone(), "start_review", v).await,
        StatusCode::OK
    );
    // 審査 cannot approve; 決裁 can.
    assert_eq!(
        act(reviewer.clone(), "approve", v + 1).await,
        StatusCode::FORBIDDEN
    );
    let approver = app.staff(T, "approver").await;
    assert_eq!(
        act(approver.clone(), "approve", v + 1).await,
        StatusCode::OK
    );
    // Completion is the clerk's.
    assert_eq!(
        act(approver.clone(), "complete", v + 2).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(act(clerk.clone(), "complete", v + 2).await, StatusCode::OK);
    // Another department's staff do not see the case, unless granted.
    let kodomo = app.staff(T, "kodomo").await;
    assert_eq!(case(kodomo.clone()).await.status(), StatusCode::NOT_FOUND);
    let r = post_form(
        app,
        &admin,
        &format!("/t/{T}/staff/admin"),
        &format!("/t/{T}/staff/admin/kodomo"),
        &[("action", "grant"), ("department", "madoguchi")],
    )
    .await;
    assert!(text(r).await.contains("kodomo への操作を実行しました"));
    let kodomo = app.staff(T, "kodomo").await;
    assert_eq!(case(kodomo.clone()).await.status(), StatusCode::OK);
    // A grant lets them see, not act.
    let now = version(&body(case(admin.clone()).await).await);
    let r = kodomo
        .post(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}/comments")))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        act(kodomo.clone(), "complete", now).await,
        StatusCode::FORBIDDEN
    );
    let list = body(
        kodomo
            .get(app.url(&format!("/api/v1/t/{T}/staff/cases")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id.as_str()));
    // Administration, outbox and catalogue import: system admin only.
    for who in ["clerk", "reviewer", "approver", "kodomo", "security"] {
        let c = app.staff(T, who).await;
        let r = c
            .get(app.url(&format!("/t/{T}/staff/admin")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}: staff admin");
        let r = c
            .get(app.url(&format!("/api/v1/t/{T}/staff/outbox")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}: outbox");
    }
    // The audit log: security officer and system admin only.
    for (who, allowed) in [
        ("security", true),
        ("dx-admin", true),
        ("clerk", false),
        ("approver", false),
    ] {
        let c = app.staff(T, who).await;
        let r = c
            .get(app.url(&format!(
                "/api/v1/t/{T}/staff/audit?target=application:{id}"
            )))
            .send()
            .await
            .unwrap();
        let expected = if allowed {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status(), expected, "{who}: audit");
    }
    // The security officer cannot act on cases.
    let officer = app.staff(T, "security").await;
    assert_eq!(act(officer, "start_review", v).await, StatusCode::FORBIDDEN);
}

async fn password_change(app: &TestApp) {
    let c = app.staff(T, "clerk").await;
    let page = format!("/t/{T}/staff/account");
    let action = format!("/t/{T}/staff/account/password");
    let hash = "SELECT password_hash FROM staff WHERE id = 'clerk' AND tenant = '122289'";
    let before: String = sqlx::query_scalar(hash)
        .fetch_one(app.app.db.read())
        .await
        .unwrap();
    for (current, new, confirm, message) in [
        (
            "wrong",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "「現在のパスワード」が正しくありません",
        ),
        (server::demo::DEMO_PASSWORD, "short", "short", "12文字以上"),
        (
            server::demo::DEMO_PASSWORD,
            "qwertyuiop123",
            "qwertyuiop123",
            "よく使われている",
        ),
        (
            server::demo::DEMO_PASSWORD,
            "clerk-clerk-2026",
            "clerk-clerk-2026",
            "職員IDや氏名",
        ),
        (
            server::demo::DEMO_PASSWORD,
            NEW_PASSWORD,
            "something-else-2026",
            "一致しません",
        ),
    ] {
        let r = post_form(
            app,
            &c,
            &page,
            &action,
            &[
                ("current_password", current),
                ("new_password", new),
                ("confirm_password", confirm),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{new}");
        assert!(text(r).await.contains(message), "{message}");
    }
    let after: String = sqlx::query_scalar(hash)
        .fetch_one(app.app.db.read())
        .await
        .unwrap();
    assert_eq!(before, after, "nothing changed");
    let other = app.staff(T, "clerk").await;
    let r = post_form(
        app,
        &c,
        &page,
        &action,
        &[
            ("current_password", server::demo::DEMO_PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(text(r).await.contains("パスワードを変更しました"));
    // Every other session ended; this browser got a new one.
    let cases = app.url(&format!("/api/v1/t/{T}/staff/cases"));
    assert_eq!(
        other.get(&cases).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(c.get(&cases).send().await.unwrap().status(), StatusCode::OK);
    let code = app.totp_code(T, "clerk").await;
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/staff/session")))
        .json(&json!({"id": "clerk", "password": NEW_PASSWORD, "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// A correction (by whoever holds the link) cannot change what the card
/// verified; the reading of the name, which was typed, can change.
async fn verified_answers_survive_correction(app: &TestApp) {
    let resident = app.resident(T, "my_number_card").await;
    let r = resident
        .post(app.url(&format!("/api/v1/t/{T}/procedures/juminhyo-copy/applications")))
        .header("idempotency-key", kernel::ids::token())
        .json(&json!({"answers": {"applicant": {"name": "x", "kana": "しかわたり はなこ"}, "scope": "individual", "copies": 1, "purpose": "employment", "delivery": "post"}}))
        .send()
        .await
        .unwrap();
    let b = body(r).await;
    let (id, token) = (
        b["id"].as_str().unwrap().to_string(),
        b["access_token"].as_str().unwrap().to_string(),
    );
    let reviewer = app.staff(T, "reviewer").await;
    for (action, version) in [("start_review", 1), ("request_correction", 2)] {
        let r = reviewer
            .post(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}/actions")))
            .json(&json!({"action": action, "version": version, "message": "ふりがなを確認してください"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    let r = app
        .client()
        .put(app.url(&format!("/api/v1/t/{T}/my/{id}/{token}")))
        .json(&json!({"version": 3, "answers": {"applicant": {"name": "別人 次郎", "kana": "しかわたり はなこさん"}, "scope": "individual", "copies": 1, "purpose": "employment", "delivery": "post"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", text(r).await);
    let case = body(
        reviewer
            .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(case["applicant_name"], "四街道\u{3000}花子", "{case}");
    assert_eq!(case["applicant_kana"], "シカワタリ\u{3000}ハナコサン");
    assert_eq!(case["verified_fields"], json!(["applicant"]));
}

/// マイナンバー in drafts (even mistyped) and in the correction form.
async fn my_number_in_drafts_and_corrections(app: &TestApp) {
    // A draft keeps a mistyped number, sealed.
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/drafts")))
        .json(&json!({"procedure_id": "jido-teate", "answers": {"applicant_my_number": "1234 5678 9019"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = body(r).await["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE data LIKE '%9019%' OR data LIKE '%5678%'")
            .await,
        0
    );
    let d = body(
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/drafts/{token}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        d["answers"]["applicant_my_number"], "1234 5678 9019",
        "given back as typed"
    );
    // The correction form shows the stored number masked; sent back as
    // shown, the number stands.
    let resident = app.resident(T, "my_number_card").await;
    let r = resident
        .post(app.url(&format!("/api/v1/t/{T}/procedures/jido-teate/applications")))
        .header("idempotency-key", kernel::ids::token())
        .json(&json!({"answers": {
            "applicant": {"name": "x", "kana": "しかわたり はなこ"},
            "applicant_my_number": "123456789018",
            "child_name": {"name": "四街道 一郎", "kana": "しかわたり いちろう"},
            "child_birth_date": "2024-05-01",
            "claim_reason": "birth",
            "bank_account_doc": {"filename": "a.pdf", "content_type": "application/pdf", "data_base64": "JVBERi0xLjcgdGVzdA=="}
        }}))
        .send()
        .await
        .unwrap();
    let b = body(r).await;
    let (id, access) = (
        b["id"].as_str().unwrap().to_string(),
        b["access_token"].as_str().unwrap().to_string(),
    );
    let staff = app.staff(T, "kodomo").await;
    for (action, version) in [("start_review", 1), ("request_correction", 2)] {
        let r = staff
            .post(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}/actions")))
            .json(&json!({"action": action, "version": version, "message": "口座の書類を添付し直してください"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    let html = text(
        app.client()
            .get(app.url(&format!("/t/{T}/my/{id}/{access}/correct")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        html.contains("********9018") && !html.contains("123456789018"),
        "masked in the form"
    );
    let r = app
        .client()
        .put(app.url(&format!("/api/v1/t/{T}/my/{id}/{access}")))
        .json(&json!({"version": 3, "answers": {
            "applicant": {"name": "x", "kana": "しかわたり はなこ"},
            "applicant_my_number": "********9018",
            "child_name": {"name": "四街道 一郎", "kana": "しかわたり いちろう"},
            "child_birth_date": "2024-05-01",
            "claim_reason": "birth"
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", text(r).await);
    let case = body(
        staff
            .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}?reveal=my_number")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(case["answers"]["applicant_my_number"], "123456789018");
}

testkit::on_both_backends!(
    my_number_in_drafts_and_corrections,
    verified_answers_survive_correction,
    mfa_enrolment_and_sign_in,
    lockout,
    session_limits,
    csrf_refused,
    identity_levels,
    my_number_encrypted,
    roles_allowed_and_denied,
    password_change,
);

/// Sign-in and submission are limited per client and per tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits() {
    let app = TestApp::spawn_with(testkit::Backend::Sqlite, |c| {
        c.rate_limits = kernel::config::RateLimits {
            sign_in_per_client: 3,
            sign_in_per_tenant: 1000,
            submit_per_client: 2,
            submit_per_tenant: 1000,
            lookup_per_client: 1000,
            lookup_per_tenant: 1000,
        }
    })
    .await
    .unwrap();
    // Residents' sign-ins have their own bucket: this one does not use up
    // the staff's.
    let c = app.resident(T, "my_number_card").await;
    let url = app.url(&format!("/api/v1/t/{T}/staff/session"));
    for i in 0..4 {
        let r = app
            .client()
            .post(&url)
            .json(&json!({"id": "clerk", "password": "wrong-password-x", "code": "000000"}))
            .send()
            .await
            .unwrap();
        if i < 3 {
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        } else {
            assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
            assert!(r.headers().contains_key("retry-after"));
            let b = body(r).await;
            assert_eq!(b["error"]["code"], "MDG-429");
        }
    }
    let sub = app.url(&format!(
        "/api/v1/t/{T}/procedures/juminhyo-copy/applications"
    ));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = c
            .post(&sub)
            .header("idempotency-key", kernel::ids::token())
            .json(&json!({"answers": {"applicant": {"name": "x", "kana": "えっくす"}, "scope": "individual", "copies": 1, "purpose": "employment", "delivery": "post"}}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    app.cleanup().await;
}

/// Without the setting, the development identity provider does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_identity_provider_only_when_enabled() {
    let app = TestApp::spawn_with(testkit::Backend::Sqlite, |c| {
        c.dev_identity_provider = false
    })
    .await
    .unwrap();
    let c = app.client();
    let html = text(
        c.get(app.url(&format!("/t/{T}/sign-in")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!html.contains("/sign-in/dev"));
    let (cookie, token) = {
        let r = app
            .client()
            .get(app.url(&format!("/t/{T}/staff/sign-in")))
            .send()
            .await
            .unwrap();
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("mdg_csrf="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_string();
        (cookie, testkit::csrf_in(&text(r).await).unwrap())
    };
    let r = app
        .client()
        .post(app.url(&format!("/t/{T}/sign-in/dev")))
        .header("cookie", format!("mdg_csrf={cookie}"))
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "x"),
            ("address", "y"),
            ("birthdate", "1990-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM resident_sessions").await, 0);
    app.cleanup().await;
}
