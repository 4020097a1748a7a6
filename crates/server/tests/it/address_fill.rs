//! The address filled from its postal code without script, wherever a form
//! with a postal code is sent as a page: a resident's correction (補正) and
//! the clerk's entry at 書かない窓口, as on the first application. An
//! emptied address comes back filled from Japan Post's data with the notice
//! to add the 番地 (422: nothing is filed until it is checked); a filled
//! address is never overwritten. On SQLite and PostgreSQL.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

const T: &str = "122289";
/// 284-0001 is 千葉県四街道市大日 in Japan Post's data.
const POSTAL: &str = "284-0001";
const FILLED: &str = "千葉県四街道市大日";

async fn body(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

async fn create_procedure(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let r = admin
        .put(app.url(&format!("/api/v1/t/{T}/staff/procedures/address-test")))
        .json(&json!({"procedure": {
            "id": "address-test",
            "name": {"ja": "住所のテスト申請"},
            "description": {"ja": "郵便番号から住所を入れるテスト用の手続です。"},
            "department": "madoguchi",
            "life_events": [],
            "channels": "both",
            "identity_level": "none",
            "fee_yen": 0,
            "documents": [],
            "processing_time": {"ja": "即日"},
            "form": {"fields": [
                {"name": "applicant", "type": "person_name", "label": {"ja": "氏名"}, "required": true},
                {"name": "postal", "type": "postal_code", "label": {"ja": "郵便番号"}, "required": true,
                 "address_field": "address"},
                {"name": "address", "type": "text", "label": {"ja": "住所"}, "required": true}
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
}

async fn correction_fills_an_emptied_address(app: &TestApp) {
    create_procedure(app).await;
    let r = app
        .client()
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/address-test/applications"
        )))
        .header("Idempotency-Key", "address-fill-correction-0001")
        .json(&json!({"answers": {
            "applicant": {"name": "四街道 花子", "kana": "よつかいどう はなこ"},
            "postal": "284-8555",
            "address": "千葉県四街道市鹿渡無番地"
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = body(r).await;
    let (id, access) = (
        v["id"].as_str().unwrap().to_string(),
        v["access_token"].as_str().unwrap().to_string(),
    );
    let reviewer = app.staff(T, "reviewer").await;
    let case_url = app.url(&format!("/api/v1/t/{T}/staff/cases/{id}"));
    for (action, version, message) in [
        ("start_review", 1, ""),
        ("request_correction", 2, "住所をご確認ください。"),
    ] {
        let r = reviewer
            .post(format!("{case_url}/actions"))
            .json(&json!({"action": action, "version": version, "message": message}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    let path = format!("/t/{T}/my/{id}/{access}/correct");
    let b = app.client();
    let token = app.csrf(&b, &path).await;
    let form = |address: &str| {
        reqwest::multipart::Form::new()
            .text("_csrf", token.clone())
            .text("_version", "3")
            .text("applicant", "四街道 花子")
            .text("applicant_kana", "よつかいどう はなこ")
            .text("postal", POSTAL)
            .text("address", address.to_string())
    };
    // The resident changes the postal code and empties the address: the
    // form comes back with the address filled and the notice; the case is
    // unchanged until the resident sends it again.
    let r = b
        .post(app.url(&path))
        .multipart(form(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "「住所」に「郵便番号」から「{FILLED}」を入れました。"
        )) && html.contains(&format!("value=\"{FILLED}\"")),
        "{html}"
    );
    let case = body(reviewer.get(&case_url).send().await.unwrap()).await;
    assert_eq!(case["status"], "correction_requested");
    assert_eq!(case["answers"]["address"], "千葉県四街道市鹿渡無番地");
    // Sent again with the 番地 added: resubmitted as typed.
    let r = b
        .post(app.url(&path))
        .multipart(form(&format!("{FILLED}1-2-3")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let case = body(reviewer.get(&case_url).send().await.unwrap()).await;
    assert_eq!(case["status"], "under_review");
    assert_eq!(case["answers"]["address"], format!("{FILLED}1-2-3"));
    assert_eq!(case["answers"]["postal"], POSTAL);
}

async fn counter_entry_fills_an_empty_address(app: &TestApp) {
    create_procedure(app).await;
    let clerk = app.staff(T, "clerk").await;
    let token = app.csrf(&clerk, &format!("/t/{T}/staff/assist")).await;
    let r = clerk
        .post(app.url(&format!("/t/{T}/staff/assist")))
        .form(&[("_csrf", token.as_str()), ("procedure", "address-test")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let entry_path = r.headers()["location"].to_str().unwrap().to_string();
    let id = entry_path.rsplit('/').next().unwrap().to_string();
    let token = app.csrf(&clerk, &entry_path).await;
    let save = |version: &str, address: &str| {
        clerk
            .post(app.url(&entry_path))
            .form(&[
                ("_csrf", token.as_str()),
                ("_version", version),
                ("applicant", "四街道 太郎"),
                ("applicant_kana", "よつかいどう たろう"),
                ("postal", POSTAL),
                ("address", address),
            ])
            .send()
    };
    let r = save("1", "").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "「住所」に「郵便番号」から「{FILLED}」を入れました。"
        )) && html.contains(&format!("value=\"{FILLED}\"")),
        "{html}"
    );
    let entry = body(
        clerk
            .get(app.url(&format!("/api/v1/t/{T}/staff/assisted-entries/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(entry["answers"]["address"], FILLED, "{entry}");
    // The clerk adds the 番地 and saves: on to the resident's check.
    let version = entry["version"].to_string();
    let r = save(&version, &format!("{FILLED}5-6")).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let entry = body(
        clerk
            .get(app.url(&format!("/api/v1/t/{T}/staff/assisted-entries/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(entry["answers"]["address"], format!("{FILLED}5-6"));
    assert_eq!(entry["status"], "confirming");
}

testkit::on_both_backends!(
    correction_fills_an_emptied_address,
    counter_entry_fills_an_empty_address
);
