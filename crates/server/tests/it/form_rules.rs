//! The rules the form hints promise, over HTTP on SQLite and PostgreSQL
//! (issue 15): 転入届 with a 転入日 in the future, a 来庁予定日 in the past,
//! before the move, on a Saturday or 68 days after the move, and the postal
//! code 999-9999, each refused with 422 naming the field and the rule, and
//! nothing stored; the valid case filed. The postal-code endpoint, and the
//! form sent without script: an empty address is filled from the code and
//! the form comes back for the resident to check it.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;
use time::{Date, Duration, Weekday};

const T: &str = "122289";

fn today() -> Date {
    kernel::clock::to_jst(kernel::clock::now_ms()).date()
}

fn wareki(d: Date) -> String {
    jp::JpDate::from_date(d).wareki()
}

/// The municipality's office calendar as its profile (the API) gives it.
async fn calendar(app: &TestApp) -> jp::OfficeCalendar {
    let t: Value = app
        .client()
        .get(app.url(&format!("/api/v1/t/{T}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    serde_json::from_value(t["calendar"].clone()).unwrap()
}

/// The first day from `from` on that the offices are open.
fn open_from(cal: &jp::OfficeCalendar, from: Date) -> Date {
    (0..30)
        .map(|i| from + Duration::days(i))
        .find(|d| cal.is_open(*d))
        .unwrap()
}

fn moving_in(moved: Date, visit: Date, postal: &str) -> Value {
    json!({
        "applicant": {"name": "四街道 花子", "kana": "よつかいどう はなこ"},
        "moved_in_date": moved.to_string(),
        "previous_address": "東京都千代田区千代田1番1号",
        "new_postal_code": postal,
        "new_address": "千葉県四街道市大日1番地",
        "members": 1,
        "visit_date": visit.to_string(),
    })
}

async fn submit(app: &TestApp, c: &reqwest::Client, answers: Value) -> (StatusCode, Value) {
    let r = c
        .post(app.url(&format!("/api/v1/t/{T}/procedures/tennyu/applications")))
        .header("idempotency-key", kernel::ids::token())
        .json(&json!({ "answers": answers }))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// Each broken rule: 422, one message on the right field, nothing stored.
async fn hints_are_rules(app: &TestApp) {
    let c = app.resident(T, "my_number_card").await;
    let cal = calendar(app).await;
    // 四街道市's profile opens two Sundays of the moving season (休日開庁).
    assert!(cal.is_open(time::macros::date!(2027 - 03 - 28)));
    assert!(!cal.is_open(time::macros::date!(2027 - 03 - 21)));
    let today = today();
    let moved = today - Duration::days(3);
    let visit = open_from(&cal, today);
    let saturday = (0..7)
        .map(|i| today + Duration::days(i))
        .find(|d| d.weekday() == Weekday::Saturday)
        .unwrap();
    let late = moved + Duration::days(68);
    let cases = [
        (
            moving_in(today + Duration::days(1), visit, "284-0001"),
            "moved_in_date",
            format!(
                "「転入した日（住み始めた日）」に未来の日付は入力できません。今日（{}）以前の日付を入力してください。",
                wareki(today)
            ),
        ),
        (
            moving_in(moved, today - Duration::days(1), "284-0001"),
            "visit_date",
            format!(
                "「来庁予定日」に過ぎた日付は入力できません。今日（{}）以降の日付を入力してください。",
                wareki(today)
            ),
        ),
        // Before the move: a day before a move that has happened has passed.
        (
            moving_in(moved, moved - Duration::days(1), "284-0001"),
            "visit_date",
            format!(
                "「来庁予定日」に過ぎた日付は入力できません。今日（{}）以降の日付を入力してください。",
                wareki(today)
            ),
        ),
        (
            moving_in(moved, saturday, "284-0001"),
            "visit_date",
            format!(
                "「来庁予定日」の{}は閉庁日（土曜日）です。開庁日（土日・祝日・年末年始を除く日）を選んでください。",
                wareki(saturday)
            ),
        ),
        (
            moving_in(moved, late, "284-0001"),
            "visit_date",
            format!(
                "「来庁予定日」は「転入した日（住み始めた日）」（{}）から14日以内、{}までの日付を入力してください。",
                wareki(moved),
                wareki(moved + Duration::days(14))
            ),
        ),
        (
            moving_in(moved, visit, "999-9999"),
            "new_postal_code",
            "「郵便番号」の999-9999は日本郵便の郵便番号にありません。番号を確かめてください。".to_string(),
        ),
    ];
    for (answers, field, message) in cases {
        let (status, b) = submit(app, &c, answers.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answers} {b}");
        assert_eq!(b["error"]["code"], "MDG-422");
        assert_eq!(
            b["error"]["fields"],
            json!([{"field": field, "message": message}]),
            "{answers}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 0);
    // The valid case: moved three days ago, visiting on the next open day.
    let (status, b) = submit(app, &c, moving_in(moved, visit, "284-0001")).await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 1);
}

/// The postal-code endpoint: the address, 404 for a code Japan Post lacks,
/// 422 naming the code when it is not seven digits.
async fn postal_codes_give_their_address(app: &TestApp) {
    let c = app.client();
    let get = |code: &str| {
        c.get(app.url(&format!("/api/v1/t/{T}/postal-codes/{code}")))
            .send()
    };
    let r = get("2840001").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let b: Value = r.json().await.unwrap();
    assert_eq!(
        b,
        json!({"postal_code": "284-0001", "prefecture": "千葉県", "city": "四街道市",
               "town": "大日", "address": "千葉県四街道市大日"})
    );
    let r = get("999-9999").await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "MDG-404-postal_code");
    let r = get("12").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["fields"][0]["field"], "code");
    assert_eq!(
        b["error"]["fields"][0]["message"],
        "「郵便番号」は7桁で入力してください（いま2桁です）。"
    );
}

/// The form without script: an empty address is filled from the postal
/// code and the form comes back (422) for the resident to add the 番地;
/// sent again, it goes on to the check page. A rule broken in the form is
/// shown on its field, and nothing is filed.
async fn without_script_the_address_is_filled_to_check(app: &TestApp) {
    let c = app.resident(T, "my_number_card").await;
    let cal = calendar(app).await;
    let today = today();
    let moved = today - Duration::days(2);
    let visit = open_from(&cal, today);
    let form_url = app.url(&format!("/t/{T}/procedures/tennyu/apply"));
    let token = app
        .csrf(&c, &format!("/t/{T}/procedures/tennyu/apply"))
        .await;
    let form = |address: &str, visit: Date| {
        reqwest::multipart::Form::new()
            .text("_csrf", token.clone())
            .text("_action", "review")
            .text("applicant_kana", "よつかいどう はなこ")
            .text("moved_in_date", moved.to_string())
            .text("previous_address", "東京都千代田区千代田1番1号")
            .text("new_postal_code", "２８４－０００１")
            .text("new_address", address.to_string())
            .text("members", "1")
            .text("visit_date", visit.to_string())
    };
    let r = c
        .post(&form_url)
        .multipart(form("", visit))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("「新住所（四街道市内）」に「郵便番号」から「千葉県四街道市大日」を入れました。番地・建物名を続けて入力し、確かめてください。"),
        "{html}"
    );
    assert!(html.contains("value=\"千葉県四街道市大日\""));
    assert!(html.contains("href=\"#field-new_address\""));
    // The hint's rule is on the page, and the rule the hint leaves out.
    assert!(html.contains("転入した日から14日以内の開庁日を選んでください。"));
    assert!(html.contains("今日より前の日付は選べません。"));
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 0);
    // A Sunday visit: the field's message in the page.
    let sunday = (0..7)
        .map(|i| today + Duration::days(i))
        .find(|d| d.weekday() == Weekday::Sunday && !cal.is_open(*d))
        .unwrap();
    let r = c
        .post(&form_url)
        .multipart(form("千葉県四街道市大日1番地", sunday))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(
        "「来庁予定日」の{}は閉庁日（日曜日）です。",
        wareki(sunday)
    )));
    let r = c
        .post(&form_url)
        .multipart(form("千葉県四街道市大日1番地", visit))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 0);
}

testkit::on_both_backends!(
    hints_are_rules,
    postal_codes_give_their_address,
    without_script_the_address_is_filled_to_check,
);
