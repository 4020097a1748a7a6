//! The staff side of a case's workflow: separation of duties (whoever
//! started the review does not also approve or reject, unless the
//! procedure allows it), the confirmation page before approval and
//! rejection, the one message box, the history in words, and the
//! verified address and birth date shown only to the roles that need
//! them, each showing audited.

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

/// A 住民票の写し case filed online by a resident signed in with the card.
async fn juminhyo_case(app: &TestApp) -> String {
    let resident = app.resident(T, "my_number_card").await;
    let r = resident
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/juminhyo-copy/applications"
        )))
        .header("idempotency-key", kernel::ids::token())
        .json(&json!({"answers": {
            "applicant": {"name": "四街道 花子", "kana": "しかわたり はなこ"},
            "scope": "individual", "copies": 1, "purpose": "employment", "delivery": "post"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    body(r).await["id"].as_str().unwrap().to_string()
}

async fn case_json(app: &TestApp, c: &reqwest::Client, id: &str) -> Value {
    let r = c
        .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    body(r).await
}

async fn act(
    app: &TestApp,
    c: &reqwest::Client,
    id: &str,
    action: &str,
    message: &str,
) -> reqwest::Response {
    let version = case_json(app, c, id).await["version"].as_i64().unwrap();
    c.post(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}/actions")))
        .json(&json!({"action": action, "version": version, "message": message}))
        .send()
        .await
        .unwrap()
}

/// Posts the case page's workflow form as a browser would.
async fn post_action(
    app: &TestApp,
    c: &reqwest::Client,
    id: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = format!("/t/{T}/staff/cases/{id}");
    let token = app.csrf(c, &page).await;
    let version = case_json(app, c, id).await["version"].to_string();
    let mut f: Vec<(&str, &str)> = vec![("_csrf", token.as_str()), ("version", &version)];
    f.extend_from_slice(fields);
    c.post(app.url(&format!("{page}/action")))
        .form(&f)
        .send()
        .await
        .unwrap()
}

async fn refusals(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'application.separation_of_duties_refused' AND actor = 'staff:approver'")
        .await
}

async fn the_reviewer_may_not_decide(app: &TestApp) {
    let id = juminhyo_case(app).await;
    // 決裁 担当 (reviewer and approver) starts the review…
    let approver = app.staff(T, "approver").await;
    assert_eq!(
        act(app, &approver, &id, "start_review", "").await.status(),
        StatusCode::OK
    );
    let before = case_json(app, &approver, &id).await;
    assert_eq!(before["actions"], json!(["request_correction"]));
    assert_eq!(before["separation_of_duties"], json!(true));
    // …and may then neither approve nor reject it, through the API…
    for (action, message) in [("approve", ""), ("reject", "要件を満たしません。")] {
        let r = act(app, &approver, &id, action, message).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
        let b = body(r).await;
        assert_eq!(b["error"]["code"], "MDG-403-separation_of_duties");
        assert_eq!(
            b["error"]["message"],
            "この申請の審査を開始した職員は、同じ申請を承認・却下できません（職務分掌）。別の決裁担当者に依頼してください。"
        );
    }
    assert_eq!(refusals(app).await, 2, "each refusal audited");
    // …nor through the page, which does not offer it and says why.
    let html = text(
        approver
            .get(app.url(&format!("/t/{T}/staff/cases/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!html.contains("value=\"approve\"") && !html.contains("value=\"reject\""));
    assert!(html.contains("この申請の審査を開始したのはあなたのため、承認・却下はできません"));
    assert!(html.contains("value=\"request_correction\""));
    let r = post_action(
        app,
        &approver,
        &id,
        &[("action", "approve"), ("confirmed", "1")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(text(r).await.contains("MDG-403-separation_of_duties"));
    let r = post_action(app, &approver, &id, &[("action", "approve")]).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "no confirmation page either"
    );
    assert_eq!(refusals(app).await, 4);
    // Nothing changed.
    let after = case_json(app, &approver, &id).await;
    assert_eq!(after["status"], "under_review");
    assert_eq!(after["version"], before["version"]);
    // Someone else decides.
    let admin = app.staff(T, "dx-admin").await;
    assert_eq!(
        case_json(app, &admin, &id).await["actions"],
        json!(["request_correction", "approve", "reject"])
    );
    assert_eq!(
        act(app, &admin, &id, "approve", "").await.status(),
        StatusCode::OK
    );
}

async fn the_procedure_may_allow_one_person(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let mut p = body(
        admin
            .get(app.url(&format!("/api/v1/t/{T}/procedures/juminhyo-copy")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p["same_person_may_approve"], json!(false), "off by default");
    let version = p["version"].clone();
    let o = p.as_object_mut().unwrap();
    for k in ["version", "updated_at", "answers_schema"] {
        o.remove(k);
    }
    o.insert("same_person_may_approve".into(), json!(true));
    let r = admin
        .put(app.url(&format!("/api/v1/t/{T}/staff/procedures/juminhyo-copy")))
        .json(&json!({"procedure": p, "version": version}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The flag travels through the CSV export.
    let csv = text(
        admin
            .get(app.url(&format!("/t/{T}/staff/catalogue/export.csv")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .contains(",same_person_may_approve,"));
    let id = juminhyo_case(app).await;
    let approver = app.staff(T, "approver").await;
    assert_eq!(
        act(app, &approver, &id, "start_review", "").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        case_json(app, &approver, &id).await["actions"],
        json!(["request_correction", "approve", "reject"])
    );
    let r = act(app, &approver, &id, "approve", "").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["status"], "approved");
    assert_eq!(refusals(app).await, 0);
}

async fn approval_and_rejection_are_confirmed(app: &TestApp) {
    let id = juminhyo_case(app).await;
    let reviewer = app.staff(T, "reviewer").await;
    assert_eq!(
        act(app, &reviewer, &id, "start_review", "").await.status(),
        StatusCode::OK
    );
    let approver = app.staff(T, "approver").await;
    let page = format!("/t/{T}/staff/cases/{id}");
    let html = text(approver.get(app.url(&page)).send().await.unwrap()).await;
    // One message box, the buttons apart, rejection marked as such.
    assert_eq!(
        html.matches("name=\"message\"").count(),
        1,
        "one message box"
    );
    assert!(html.contains(
        "class=\"button button--danger case-actions__reject\" type=\"submit\" name=\"action\" value=\"reject\""
    ));
    assert!(html.contains("class=\"button case-actions__approve\""));
    // Approve: a confirmation page first, nothing changed yet.
    let version = case_json(app, &approver, &id).await["version"].clone();
    let r = post_action(
        app,
        &approver,
        &id,
        &[("action", "approve"), ("message", "")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = text(r).await;
    assert!(html.contains("<h1>承認の確認</h1>"), "{html}");
    assert!(html.contains("審査中 → 承認"));
    assert!(html.contains("承認は取り消せません"));
    assert!(html.contains("name=\"confirmed\" value=\"1\""));
    assert!(html.contains(&format!(
        "<a href=\"/t/{T}/staff/cases/{id}\">やめて申請に戻る</a>"
    )));
    assert!(html.contains("name=\"_csrf\""));
    let now = case_json(app, &approver, &id).await;
    assert_eq!(
        (now["status"].clone(), now["version"].clone()),
        (json!("under_review"), version)
    );
    // Reject without a reason: the case page says which field, nothing changed.
    let r = post_action(
        app,
        &approver,
        &id,
        &[("action", "reject"), ("message", " ")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(r)
        .await
        .contains("「申請者へのメッセージ」を入力してください"));
    // Reject with a reason: confirmation with the message, then done.
    let reason = "添付の書類が不足しています。";
    let r = post_action(
        app,
        &approver,
        &id,
        &[("action", "reject"), ("message", reason)],
    )
    .await;
    let html = text(r).await;
    assert!(html.contains("<h1>却下の確認</h1>") && html.contains("審査中 → 却下"));
    assert!(html.contains(&format!("name=\"message\" value=\"{reason}\"")));
    assert_eq!(
        case_json(app, &approver, &id).await["status"],
        "under_review"
    );
    let r = post_action(
        app,
        &approver,
        &id,
        &[
            ("action", "reject"),
            ("message", reason),
            ("confirmed", "1"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(case_json(app, &approver, &id).await["status"], "rejected");
    // The history in words: labels, names, statuses, no codes.
    let html = text(approver.get(app.url(&page)).send().await.unwrap()).await;
    let history = html.split("<ol class=\"timeline\">").nth(1).unwrap();
    let history = history.split("</ol>").next().unwrap();
    for words in [
        "申請を受け付けました",
        "審査を開始しました",
        "受付 → 審査中",
        "審査 担当",
        "却下しました",
        "審査中 → 却下",
        "決裁 担当",
        reason,
    ] {
        assert!(history.contains(words), "{words} in {history}");
    }
    for code in ["start_review", "under_review", "reject", "staff:"] {
        assert!(!history.contains(code), "{code} in {history}");
    }
}

/// がん検診 (健康課) filed with a verified birth date; the clerk and the
/// approver of the counter department are granted 健康課 to see it.
async fn verified_birth_date_only_for_reviewers(app: &TestApp) {
    let resident = app.resident(T, "signed_in").await;
    let r = resident
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/gan-kenshin/applications"
        )))
        .header("idempotency-key", kernel::ids::token())
        .json(&json!({"answers": {
            "applicant": {"name": "四街道 花子", "kana": "しかわたり はなこ"},
            "birth_date": "1990-04-01", "phone": "043-421-2111", "style": "group"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = body(r).await["id"].as_str().unwrap().to_string();
    let admin = app.staff(T, "dx-admin").await;
    for who in ["clerk", "approver"] {
        let page = format!("/t/{T}/staff/admin");
        let token = app.csrf(&admin, &page).await;
        let r = admin
            .post(app.url(&format!("{page}/{who}")))
            .form(&[
                ("_csrf", token.as_str()),
                ("action", "grant"),
                ("department", "kenko"),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_redirection() || r.status().is_success(),
            "grant {who}"
        );
    }
    let views = |who: &str| {
        format!("SELECT COUNT(*) FROM audit_log WHERE action = 'application.view_verified_identity' AND actor = 'staff:{who}' AND target = 'application:{id}'")
    };
    let case_page = format!("/t/{T}/staff/cases/{id}");
    // The clerk: told the value exists, not shown it.
    let clerk = app.staff(T, "clerk").await;
    let c = case_json(app, &clerk, &id).await;
    assert_eq!(c["verified_fields"], json!(["applicant", "birth_date"]));
    assert_eq!(c["answers"].get("birth_date"), None);
    assert_eq!(c["withheld_fields"], json!(["birth_date"]));
    let html = text(clerk.get(app.url(&case_page)).send().await.unwrap()).await;
    assert!(html.contains("（確認済み。審査・決裁の担当者だけが見られます）"));
    // Any way the date could be written (random tokens on the page may
    // hold the digits 1990 alone).
    for shown in ["1990-04-01", "1990年", "1990/04/01", "平成2年"] {
        assert!(
            !html.contains(shown),
            "no birth date for the clerk: {shown}"
        );
    }
    assert_eq!(app.count(&views("clerk")).await, 0);
    // The approver: shown it, each time audited.
    let approver = app.staff(T, "approver").await;
    let c = case_json(app, &approver, &id).await;
    assert_eq!(c["answers"]["birth_date"], "1990-04-01");
    assert_eq!(c["withheld_fields"], json!([]));
    assert_eq!(app.count(&views("approver")).await, 1);
    let html = text(approver.get(app.url(&case_page)).send().await.unwrap()).await;
    assert!(html.contains("平成2年4月1日（1990年）"));
    assert!(!html.contains("審査・決裁の担当者だけが見られます）"));
    assert_eq!(app.count(&views("approver")).await, 2);
}

testkit::on_both_backends!(
    the_reviewer_may_not_decide,
    the_procedure_may_allow_one_person,
    approval_and_rejection_are_confirmed,
    verified_birth_date_only_for_reviewers,
);
