//! 申請状況の確認 and 申請の一覧 over HTTP, on SQLite and PostgreSQL: a
//! case found by its receipt number with each kind of second factor (as
//! typed: hyphens or not, full-width digits, 和暦); a wrong factor, an
//! unknown receipt number and another tenant's number answered alike;
//! malformed input named field by field; the per-receipt failure limit
//! (unknown numbers too); the audit entries without the typed factor; a
//! signed-in resident's own applications only; the home page's link.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use testkit::TestApp;

const T: &str = "122289";
const OTHER: &str = "242021";

const NOT_FOUND: &str = "受付番号と確認のための情報の組み合わせが見つかりません。受付番号と、申請のときに入力したメールアドレス・電話番号・生年月日をお確かめください。";

/// A case as the submission answered it.
struct Filed {
    /// `2026-0000-0018`
    receipt: String,
    /// `202600000018`
    id: String,
    /// `/t/{tenant}/my/{id}/{token}`
    path: String,
}

async fn file(
    app: &TestApp,
    c: &reqwest::Client,
    tenant: &str,
    procedure: &str,
    answers: Value,
) -> Filed {
    let r = c
        .post(app.url(&format!(
            "/api/v1/t/{tenant}/procedures/{procedure}/applications"
        )))
        .header("idempotency-key", kernel::ids::token())
        .json(&json!({ "answers": answers }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{procedure}");
    let b: Value = r.json().await.unwrap();
    let url = b["case_url"].as_str().unwrap();
    Filed {
        receipt: b["receipt_number"].as_str().unwrap().into(),
        id: b["id"].as_str().unwrap().into(),
        path: url[url.find("/t/").unwrap()..].to_string(),
    }
}

/// マイナンバーカードの申請予約 (no sign-in needed): birth date and phone.
fn card_booking(birth_date: &str, phone: &str) -> Value {
    json!({
        "applicant": {"name": "鹿渡 次郎", "kana": "しかわたり じろう"},
        "birth_date": birth_date, "phone": phone, "request_type": "pickup",
        "preferred_date": "2030-01-10", "preferred_time": "morning"
    })
}

/// よつかいどうメール登録 (no sign-in needed): an e-mail address.
fn mail_signup(email: &str) -> Value {
    json!({"email": email, "language": "ja", "events": true})
}

/// スマホ教室 (no sign-in needed): a phone number.
fn phone_class(name: &str, phone: &str) -> Value {
    json!({
        "applicant": {"name": name, "kana": "よつかいどう"},
        "phone": phone, "age_group": "60s", "course": "basics",
        "venue": "city_hall", "device": "android"
    })
}

/// Posts the lookup form as a browser does (with its CSRF token).
async fn look_up(
    app: &TestApp,
    c: &reqwest::Client,
    tenant: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = app.csrf(c, &format!("/t/{tenant}/status")).await;
    let mut form = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    c.post(app.url(&format!("/t/{tenant}/status")))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

async fn api_look_up(app: &TestApp, tenant: &str, b: Value) -> (StatusCode, Value) {
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{tenant}/status")))
        .json(&b)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// Every kind of factor, typed the ways residents type it, finds the case
/// and leads to its page; the API answers the status and the same link.
async fn each_factor_finds_the_case(app: &TestApp) {
    let anon = app.client();
    let card = file(
        app,
        &anon,
        T,
        "mynumber-card",
        card_booking("1985-06-15", "090-1234-5678"),
    )
    .await;
    let mail = file(
        app,
        &anon,
        T,
        "yomail-toroku",
        mail_signup("Hanako.Yotsukaido@Example.jp"),
    )
    .await;
    let wide_receipt: String = mail
        .receipt
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            _ => '－',
        })
        .collect();
    let cases: [(&Filed, String, (&str, &str)); 5] = [
        (
            &card,
            card.receipt.clone(),
            ("phone", "０９０１２３４５６７８"),
        ),
        (&card, card.id.clone(), ("phone", "090 1234 5678")),
        (
            &card,
            card.receipt.clone(),
            ("birth_date", "昭和60年6月15日"),
        ),
        (&card, format!(" {} ", card.id), ("birth_date", "1985/6/15")),
        (
            &mail,
            wide_receipt,
            ("email", " hanako.yotsukaido@EXAMPLE.jp "),
        ),
    ];
    for (filed, receipt, factor) in cases {
        let c = app.client();
        let r = look_up(app, &c, T, &[("receipt_number", receipt.as_str()), factor]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{receipt} {factor:?}");
        assert_eq!(location(&r), filed.path);
        let page = c.get(app.url(&filed.path)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains(&filed.receipt), "{html}");
        assert!(html.contains("受付"));
    }
    // The applicant's own verified birth date (がん検診 fills it from the sign-in).
    let resident = app.resident(T, "signed_in").await;
    let exam = file(
        app,
        &resident,
        T,
        "gan-kenshin",
        json!({
        "applicant": {"name": "四街道 花子", "kana": "しかわたり はなこ"},
        "birth_date": "2001-01-01", "phone": "043-421-2111", "style": "group"}),
    )
    .await;
    let r = look_up(
        app,
        &app.client(),
        T,
        &[
            ("receipt_number", exam.receipt.as_str()),
            ("birth_date", "平成2年4月1日"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), exam.path);
    let (status, b) = api_look_up(
        app,
        T,
        json!({"receipt_number": card.receipt, "phone": "09012345678"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b["receipt_number"], card.receipt);
    assert_eq!(b["id"], card.id);
    assert_eq!(b["procedure_id"], "mynumber-card");
    assert_eq!(b["status"], "received");
    assert_eq!(b["status_label"], "受付");
    assert!(b["case_url"].as_str().unwrap().ends_with(&card.path));
    assert!(card.path.ends_with(b["access_token"].as_str().unwrap()));
    let (status, b) = api_look_up(
        app,
        T,
        json!({"receipt_number": card.id, "birth_date": "1985-06-15", "lang": "en"}),
    )
    .await;
    assert_eq!(
        (status, b["status_label"].as_str()),
        (StatusCode::OK, Some("Received"))
    );
}

/// The page with the typed receipt number taken out: what is left must
/// not depend on whether the number exists.
fn without(html: &str, typed: &str) -> String {
    html.replace(typed, "«receipt»")
}

/// A wrong factor, a receipt number that does not exist and another
/// tenant's number get the same status and the same page; nothing changes.
async fn unknown_and_wrong_look_the_same(app: &TestApp) {
    let card = file(
        app,
        &app.client(),
        T,
        "mynumber-card",
        card_booking("1985-06-15", "090-1234-5678"),
    )
    .await;
    let unknown = kernel::ids::ReceiptNumber::new(2026, 9_999_999)
        .unwrap()
        .display();
    let before = app.count("SELECT COUNT(*) FROM application_events").await;
    let c = app.client();
    let wrong = look_up(
        app,
        &c,
        T,
        &[
            ("receipt_number", card.receipt.as_str()),
            ("phone", "090-1234-5679"),
        ],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = wrong.text().await.unwrap();
    let none = look_up(
        app,
        &c,
        T,
        &[
            ("receipt_number", unknown.as_str()),
            ("phone", "090-1234-5679"),
        ],
    )
    .await;
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let none = none.text().await.unwrap();
    assert_eq!(without(&wrong, &card.receipt), without(&none, &unknown));
    assert!(wrong.contains(NOT_FOUND));
    assert!(wrong.contains("href=\"#field-receipt_number\""));
    assert!(
        wrong.contains("<title>エラー："),
        "the title says there is an error"
    );
    // The right factor at another municipality: not found there.
    let elsewhere = look_up(
        app,
        &app.client(),
        OTHER,
        &[
            ("receipt_number", card.receipt.as_str()),
            ("phone", "090-1234-5678"),
        ],
    )
    .await;
    assert_eq!(elsewhere.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(elsewhere.text().await.unwrap().contains(NOT_FOUND));
    // The API alike: the same body for both.
    let (s1, b1) = api_look_up(
        app,
        T,
        json!({"receipt_number": card.receipt, "email": "x@example.jp"}),
    )
    .await;
    let (s2, b2) = api_look_up(
        app,
        T,
        json!({"receipt_number": unknown, "email": "x@example.jp"}),
    )
    .await;
    let (s3, b3) = api_look_up(
        app,
        OTHER,
        json!({"receipt_number": card.receipt, "birth_date": "1985-06-15"}),
    )
    .await;
    assert_eq!(
        (s1, s2, s3),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY
        )
    );
    assert_eq!(b1, b2);
    assert_eq!(b1, b3);
    assert_eq!(b1["error"]["code"], "MDG-422");
    assert_eq!(
        b1["error"]["fields"],
        json!([{"field": "receipt_number", "message": NOT_FOUND}])
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM application_events").await,
        before
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 1);
}

/// What a form posts: (name, value).
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// One error of a page: (field, message).
type FieldMessage = (String, String);

/// Field errors of a 422 page, in order.
fn field_errors(html: &str) -> Vec<FieldMessage> {
    let Some(start) = html.find("class=\"error-summary__list\"") else {
        return Vec::new();
    };
    let list = &html[start..start + html[start..].find("</ul>").unwrap()];
    list.split("<li><a href=\"#field-")
        .skip(1)
        .map(|item| {
            let (field, rest) = item.split_once("\">").unwrap();
            let message = &rest[..rest.find("</a>").unwrap()];
            (field.to_string(), message.to_string())
        })
        .collect()
}

/// Input that cannot be a lookup: 422 naming each field, nothing looked
/// up (no audit entry, nothing counted against the number).
async fn malformed_input_names_the_field(app: &TestApp) {
    let r = kernel::ids::ReceiptNumber::new(2026, 18).unwrap();
    let mut bad_check = r.as_str().to_string();
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '0' { '1' } else { '0' });
    let e = |f: &str, m: &str| (f.to_string(), m.to_string());
    let cases: Vec<(Fields, Vec<FieldMessage>)> = vec![
        (vec![], vec![
            e("receipt_number", "受付番号を入力してください。"),
            e("email", "メールアドレス、電話番号、生年月日のどれか一つを入力してください。"),
        ]),
        (vec![("receipt_number", "2026-0000-001"), ("phone", "090-1234-5678")],
            vec![e("receipt_number", "受付番号は12桁の数字で入力してください（例：2026-0001-2346）。")]),
        (vec![("receipt_number", "A026-0000-0018"), ("phone", "090-1234-5678")],
            vec![e("receipt_number", "受付番号は12桁の数字で入力してください（例：2026-0001-2346）。")]),
        (vec![("receipt_number", bad_check.as_str()), ("phone", "090-1234-5678")],
            vec![e("receipt_number", "受付番号に誤りがあります。受付完了の画面やメールの番号をお確かめください。")]),
        (vec![("receipt_number", r.as_str()), ("birth_date", "1990-02-30")],
            vec![e("birth_date", "「生年月日」の日付（2月30日）は存在しません。")]),
        (vec![("receipt_number", r.as_str()), ("birth_date", "生まれた日")],
            vec![e("birth_date", "「生年月日」は「2026-04-01」「2026年4月1日」「令和8年4月1日」「R8.4.1」のいずれかの形で入力してください。")]),
        (vec![("receipt_number", r.as_str()), ("email", "taro.example.jp")],
            vec![e("email", "「メールアドレス」に「@」がありません。メールアドレス（例：taro@example.jp）を入力してください。")]),
        (vec![("receipt_number", r.as_str()), ("phone", "090-1234-5678"), ("birth_date", "1990-04-01")],
            vec![e("birth_date", "確認のための情報は一つだけ入力してください。")]),
    ];
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;
    for (fields, expected) in cases {
        let resp = look_up(app, &app.client(), T, &fields).await;
        assert_eq!(
            resp.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}"
        );
        let html = resp.text().await.unwrap();
        assert_eq!(field_errors(&html), expected, "{fields:?}");
        for (field, _) in &expected {
            assert!(
                html.contains(&format!("id=\"field-{field}-error\"")),
                "{field}"
            );
        }
    }
    let (s, b) = api_look_up(app, T, json!({"receipt_number": "", "phone": "12"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = b["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["receipt_number", "phone"]);
    let (s, b) = api_look_up(app, T, json!({"phone": "090-1234-5678"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log").await,
        audit_before
    );
}

/// Five failures in a row for one receipt number (existing or not) refuse
/// it, even with the right factor; other numbers are not affected; a
/// success ends the run.
async fn failures_lock_the_receipt_number(app: &TestApp) {
    let anon = app.client();
    let a = file(
        app,
        &anon,
        T,
        "smartphone-class",
        phone_class("鹿渡 一", "043-000-0001"),
    )
    .await;
    let b = file(
        app,
        &anon,
        T,
        "smartphone-class",
        phone_class("鹿渡 二", "043-000-0002"),
    )
    .await;
    let unknown = kernel::ids::ReceiptNumber::new(2026, 9_999_998)
        .unwrap()
        .display();
    // After 4 failures a success: it ends the run (as a sign-in does).
    for _ in 0..4 {
        let r = look_up(
            app,
            &app.client(),
            T,
            &[
                ("receipt_number", a.receipt.as_str()),
                ("phone", "043-999-9999"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let ok = look_up(
        app,
        &app.client(),
        T,
        &[
            ("receipt_number", a.receipt.as_str()),
            ("phone", "043-000-0001"),
        ],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    for receipt in [a.receipt.as_str(), unknown.as_str()] {
        for i in 0..5 {
            let r = look_up(
                app,
                &app.client(),
                T,
                &[("receipt_number", receipt), ("phone", "043-999-9999")],
            )
            .await;
            assert_eq!(
                r.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{receipt} attempt {i}"
            );
        }
        let right = if receipt == a.receipt {
            "043-000-0001"
        } else {
            "043-999-9999"
        };
        let r = look_up(
            app,
            &app.client(),
            T,
            &[("receipt_number", receipt), ("phone", right)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{receipt}");
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((840..=900).contains(&retry), "{retry}");
        let html = r.text().await.unwrap();
        assert_eq!(field_errors(&html), [("receipt_number".to_string(), "この受付番号は確認に続けて失敗したため、しばらく確認できません。15分ほどたってから、もう一度お試しください。".to_string())]);
    }
    let (s, body) = api_look_up(
        app,
        T,
        json!({"receipt_number": a.id, "phone": "043-000-0001"}),
    )
    .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("MDG-429"))
    );
    // Another number is not locked.
    let r = look_up(
        app,
        &app.client(),
        T,
        &[
            ("receipt_number", b.receipt.as_str()),
            ("phone", "043-000-0002"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), b.path);
}

/// (actor, target, detail) of every lookup audited in a tenant.
async fn lookups_audited(app: &TestApp, tenant: &str) -> Vec<(String, String, Value)> {
    sqlx::query(
        "SELECT actor, target, detail FROM audit_log WHERE tenant = $1 AND action = 'application.status_lookup' ORDER BY seq",
    )
    .bind(tenant)
    .fetch_all(app.app.db.read())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get::<String, _>(0),
            r.get::<String, _>(1),
            serde_json::from_str(&r.get::<String, _>(2)).unwrap(),
        )
    })
    .collect()
}

/// Every lookup is audited with the kind of factor and the result, never
/// the factor typed.
async fn lookups_are_audited_without_the_factor(app: &TestApp) {
    let card = file(
        app,
        &app.client(),
        T,
        "mynumber-card",
        card_booking("1985-06-15", "090-1234-5678"),
    )
    .await;
    let mail = file(
        app,
        &app.client(),
        T,
        "yomail-toroku",
        mail_signup("secret.person@example.jp"),
    )
    .await;
    let unknown = kernel::ids::ReceiptNumber::new(2026, 9_999_997).unwrap();
    let anon = app.client();
    look_up(
        app,
        &anon,
        T,
        &[
            ("receipt_number", card.receipt.as_str()),
            ("phone", "090-1234-5678"),
        ],
    )
    .await;
    look_up(
        app,
        &anon,
        T,
        &[
            ("receipt_number", card.receipt.as_str()),
            ("birth_date", "1985-06-16"),
        ],
    )
    .await;
    look_up(
        app,
        &anon,
        T,
        &[
            ("receipt_number", unknown.display().as_str()),
            ("email", "secret.person@example.jp"),
        ],
    )
    .await;
    let resident = app.resident(T, "signed_in").await;
    look_up(
        app,
        &resident,
        T,
        &[
            ("receipt_number", mail.receipt.as_str()),
            ("email", "secret.person@example.jp"),
        ],
    )
    .await;
    let rows = lookups_audited(app, T).await;
    let seen: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|(actor, target, d)| {
            (
                if actor.starts_with("resident:") {
                    "resident"
                } else {
                    actor.as_str()
                },
                target.as_str(),
                d["factor"].as_str().unwrap(),
                d["result"].as_str().unwrap(),
            )
        })
        .collect();
    let t = |id: &str| format!("application:{id}");
    assert_eq!(
        seen,
        [
            ("anonymous", t(&card.id).as_str(), "phone", "matched"),
            ("anonymous", t(&card.id).as_str(), "birth_date", "no_match"),
            (
                "anonymous",
                t(unknown.as_str()).as_str(),
                "email",
                "no_match"
            ),
            ("resident", t(&mail.id).as_str(), "email", "matched"),
        ]
    );
    let all = rows
        .iter()
        .map(|(actor, target, detail)| format!("{actor} {target} {detail}"))
        .collect::<Vec<_>>()
        .join("\n");
    for typed in [
        "090-1234-5678",
        "09012345678",
        "1985-06-16",
        "1985-06-15",
        "secret.person",
        "example.jp",
    ] {
        assert!(!all.contains(typed), "{typed} in the audit log");
    }
    assert!(matches!(
        kernel::audit::verify(&app.app.db, T).await.unwrap(),
        kernel::audit::Verify::Intact { .. }
    ));
}

/// 申請の一覧: a signed-in resident sees their own applications in this
/// tenant, newest first, each linking to its case page; nobody else's.
async fn my_applications_are_mine_only(app: &TestApp) {
    let hanako = app.resident(T, "signed_in").await;
    let ichiro = app
        .resident_as(T, "signed_in", "鹿渡 一郎", "1980-01-02")
        .await;
    let first = file(
        app,
        &hanako,
        T,
        "smartphone-class",
        phone_class("四街道 花子", "043-000-0011"),
    )
    .await;
    let second = file(
        app,
        &hanako,
        T,
        "gan-kenshin",
        json!({
        "applicant": {"name": "四街道 花子", "kana": "しかわたり はなこ"},
        "birth_date": "1990-04-01", "phone": "043-421-2111", "style": "clinic"}),
    )
    .await;
    let his = file(
        app,
        &ichiro,
        T,
        "smartphone-class",
        phone_class("鹿渡 一郎", "043-000-0012"),
    )
    .await;
    let anonymous = file(
        app,
        &app.client(),
        T,
        "smartphone-class",
        phone_class("鹿渡 三郎", "043-000-0013"),
    )
    .await;
    // Her application in the other city (the same person signed in there).
    let hanako_there = app.resident(OTHER, "signed_in").await;
    let there = file(
        app,
        &hanako_there,
        OTHER,
        "smartphone-class",
        json!({
        "applicant": {"name": "四街道 花子", "kana": "よつかいどう はなこ"},
        "phone": "059-000-0011", "course": "basics", "venue": "tomida", "device": "android"}),
    )
    .await;

    let html = hanako
        .get(app.url(&format!("/t/{T}/my")))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    let html = html.text().await.unwrap();
    for f in [&second, &first] {
        assert!(
            html.contains(&format!("href=\"{}\"", f.path)),
            "{}",
            f.receipt
        );
        assert!(html.contains(&f.receipt));
    }
    assert!(
        html.find(&second.receipt).unwrap() < html.find(&first.receipt).unwrap(),
        "newest first"
    );
    for f in [&his, &anonymous, &there] {
        assert!(!html.contains(&f.path), "{}", f.receipt);
    }
    assert_eq!(html.matches("class=\"card\"").count(), 2);
    assert!(html.contains("がん検診"));
    assert!(html.contains("初心者向けスマホ教室の申込み"));
    assert!(html.contains("<span class=\"status status--received\">受付</span>"));
    assert!(html.contains("令和"), "submitted in 和暦");
    let his_page = ichiro
        .get(app.url(&format!("/t/{T}/my")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(his_page.matches("class=\"card\"").count(), 1);
    assert!(his_page.contains(&his.path));
    let there_page = hanako_there
        .get(app.url(&format!("/t/{OTHER}/my")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(there_page.matches("class=\"card\"").count(), 1);
    assert!(there_page.contains(&there.path));
    // Nobody signed in: to the sign-in, and back here afterwards.
    let r = app
        .client()
        .get(app.url(&format!("/t/{T}/my")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/t/{T}/sign-in?return_to=/t/{T}/my"));
    // Someone with none: says so, and points to the lookup.
    let none = app
        .resident_as(T, "signed_in", "物井 三子", "1970-07-07")
        .await;
    let html = none
        .get(app.url(&format!("/t/{T}/my")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("サインインして申請した申請はまだありません。"));
    assert!(html.contains(&format!("href=\"/t/{T}/status\"")));
    // The account page links to the list.
    let account = hanako
        .get(app.url(&format!("/t/{T}/account")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(account.contains(&format!("<a href=\"/t/{T}/my\">申請の一覧</a>")));
}

/// Both cities' home pages keep their promise: 申請状況の確認 leads to the
/// lookup, whose form is there without signing in.
async fn home_pages_lead_to_the_lookup(app: &TestApp) {
    for tenant in [T, OTHER] {
        let home = app
            .client()
            .get(app.url(&format!("/t/{tenant}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(home.contains("申請状況の確認ができます。"));
        assert!(
            home.contains(&format!(
                "<a href=\"/t/{tenant}/status\">申請状況の確認</a>"
            )),
            "{tenant}"
        );
        let r = app
            .client()
            .get(app.url(&format!("/t/{tenant}/status")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let form = r.text().await.unwrap();
        for name in ["receipt_number", "email", "phone", "birth_date"] {
            assert!(
                form.contains(&format!("<label class=\"label\" for=\"field-{name}\">")),
                "{name}"
            );
        }
        assert!(form.contains("<h1>申請状況の確認</h1>"));
    }
    let r = app
        .client()
        .get(app.url("/t/999999/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

testkit::on_both_backends!(
    each_factor_finds_the_case,
    unknown_and_wrong_look_the_same,
    malformed_input_names_the_field,
    failures_lock_the_receipt_number,
    lookups_are_audited_without_the_factor,
    my_applications_are_mine_only,
    home_pages_lead_to_the_lookup,
);

/// Lookups have their own rate limit per client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_are_rate_limited() {
    let app = TestApp::spawn_with(testkit::Backend::Sqlite, |c| {
        c.rate_limits.lookup_per_client = 2;
    })
    .await
    .unwrap();
    let unknown = kernel::ids::ReceiptNumber::new(2026, 9_999_996).unwrap();
    let body = json!({"receipt_number": unknown.as_str(), "phone": "090-1234-5678"});
    for expected in [422, 422, 429] {
        let (s, b) = api_look_up(&app, T, body.clone()).await;
        assert_eq!(s.as_u16(), expected, "{b}");
    }
    app.cleanup().await;
}
