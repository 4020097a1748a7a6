//! The form definition typed as JSON in the staff procedure editor, over
//! HTTP on SQLite and PostgreSQL: every mistake comes back `422` in
//! Japanese naming its place and what is allowed (never the parser's
//! English), what was typed is shown back, nothing is saved or audited;
//! only the department's admins (and system admins) may try, others get
//! exactly `403`.

use reqwest::StatusCode;
use testkit::TestApp;

const T: &str = "122289";

const BANANA: &str = r#"{"fields": [
  {"name": "a", "type": "text", "label": {"ja": "あ"}},
  {"name": "b", "type": "text", "label": {"ja": "い"}},
  {"name": "c", "type": "text", "label": {"ja": "う"}},
  {"name": "d", "type": "banana", "label": {"ja": "え"}}
]}"#;

const TYPES: &str = "text, textarea, number, choice, checkbox, date, email, file, person_name, postal_code, phone, my_number, corporate_number, local_gov_code, fiscal_year, yen";

/// What the database holds of the tenant's procedures: versions and
/// audit entries (nothing may change on a mistake).
async fn state(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count(&format!(
            "SELECT COUNT(*) FROM procedure_versions WHERE tenant = '{T}'"
        ))
        .await,
        app.count(&format!(
            "SELECT COUNT(*) FROM procedures WHERE tenant = '{T}'"
        ))
        .await,
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = 'procedure.save'"
        ))
        .await,
    )
}

async fn post(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    id: &str,
    department: &str,
    form_json: &str,
) -> (StatusCode, String) {
    let token = app.csrf(c, &format!("/t/{T}/staff/catalogue")).await;
    let version = if path.ends_with("/new") {
        0
    } else {
        app.count(&format!(
            "SELECT version FROM procedures WHERE tenant = '{T}' AND id = '{id}'"
        ))
        .await
    };
    let r = c
        .post(app.url(path))
        .form(&[
            ("_csrf", token.as_str()),
            ("version", &version.to_string()),
            ("id", id),
            ("name_ja", "テスト手続"),
            ("description_ja", "テスト用の手続です。"),
            ("processing_time_ja", "即日"),
            ("department", department),
            ("channels", "counter"),
            ("identity_level", "none"),
            ("fee_yen", "0"),
            ("form_json", form_json),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn mistakes_are_japanese_and_nothing_is_saved(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let before = state(app).await;
    let edit = format!("/t/{T}/staff/catalogue/juminhyo-copy");

    let (status, html) = post(app, &admin, &edit, "juminhyo-copy", "madoguchi", BANANA).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let expected = format!(
        "「申請フォーム（JSON）」のfields[3].type: &#34;banana&#34; は使えません。使える種類: {TYPES}"
    );
    assert!(html.contains(&format!("<li>{expected}</li>")), "{html}");
    assert!(
        html.contains("aria-describedby=\"field-form_json-hint field-form_json-error\""),
        "the messages describe the box"
    );
    assert!(!html.contains("unknown variant"), "no parser English");
    assert!(
        html.contains("&#34;type&#34;: &#34;banana&#34;"),
        "what was typed is shown back"
    );

    let (status, html) = post(
        app,
        &admin,
        &edit,
        "juminhyo-copy",
        "madoguchi",
        "{\"fields\": [\n  {\"name\": \"a\",, }\n]}",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(
        "「申請フォーム（JSON）」の2行目16列目: JSONの書き方が正しくありません。カンマ（,）、括弧、引用符（&#34;）を確かめてください。"
    ), "{html}");
    assert!(!html.contains("expected"), "no parser English");

    let (status, html) = post(
        app,
        &admin,
        &edit,
        "juminhyo-copy",
        "madoguchi",
        r#"{"fields": [{"name": "a", "type": "text", "label": {"en": "A"}, "required": "yes"}]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("「申請フォーム（JSON）」のfields[0].label: 日本語（ja）の文言が必要です。")
    );
    assert!(html.contains(
        "「申請フォーム（JSON）」のfields[0].required: true か false にしてください（いまは文字列）。"
    ));

    // A new procedure: the same, and no procedure made.
    let (status, html) = post(
        app,
        &admin,
        &format!("/t/{T}/staff/catalogue/new"),
        "json-mistake",
        "madoguchi",
        BANANA,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&expected));
    assert_eq!(state(app).await, before, "nothing saved, nothing audited");

    // A good definition is saved (one version, one audit entry more).
    let good = r#"{"fields": [{"name": "a", "type": "text", "label": {"ja": "あ"}}]}"#;
    let (status, _) = post(app, &admin, &edit, "juminhyo-copy", "madoguchi", good).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        state(app).await,
        (before.0 + 1, before.1, before.2 + 1),
        "saved as a new version, audited"
    );
}

async fn only_the_department_may_try(app: &TestApp) {
    let before = state(app).await;
    let edit = format!("/t/{T}/staff/catalogue/juminhyo-copy");
    // 子育て's admin: another department's procedure is refused before
    // what was typed is read.
    let kodomo = app.staff(T, "kodomo").await;
    let (status, html) = post(app, &kodomo, &edit, "juminhyo-copy", "madoguchi", BANANA).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!html.contains("banana"));
    // A clerk edits no procedure.
    let clerk = app.staff(T, "clerk").await;
    let (status, _) = post(app, &clerk, &edit, "juminhyo-copy", "madoguchi", BANANA).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Their own department's procedure: the mistake named.
    let (status, html) = post(
        app,
        &kodomo,
        &format!("/t/{T}/staff/catalogue/jido-teate"),
        "jido-teate",
        "kosodate",
        BANANA,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("「申請フォーム（JSON）」のfields[3].type: &#34;banana&#34; は使えません。")
    );
    assert_eq!(state(app).await, before);
}

testkit::on_both_backends!(
    mistakes_are_japanese_and_nothing_is_saved,
    only_the_department_may_try,
);
