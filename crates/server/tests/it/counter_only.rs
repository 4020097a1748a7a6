//! Counter-only procedures (転居届, 出生届, 婚姻届, 離婚届, 死亡届, 印鑑登録,
//! 印鑑登録証明書) in both demo municipalities: refused online with the
//! reason, opened at 書かない窓口 with their real form; and the identity check
//! a clerk records when filing (document chosen, no default; checked by the
//! signed-in clerk, now): required (422 naming the field, nothing written),
//! stored with the case, in its history, the audit log and the staff case
//! view. On SQLite and PostgreSQL.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

/// The counter-only procedures the brief names; every counter-only one of
/// each catalogue is checked, these must be among them.
const NAMED: [&str; 7] = [
    "tenkyo",
    "shussei",
    "konin",
    "rikon",
    "shibo",
    "inkan-toroku",
    "inkan-shomei",
];

async fn body(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

fn api(t: &str, path: &str) -> String {
    format!("/api/v1/t/{t}/staff{path}")
}

async fn counter_only_refused_online_and_open_at_the_desk(app: &TestApp) {
    for t in ["122289", "242021"] {
        let clerk = app.staff(t, "clerk").await;
        let start_page = clerk
            .get(app.url(&format!("/t/{t}/staff/assist")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let catalogue = body(
            app.client()
                .get(app.url(&format!("/api/v1/t/{t}/procedures")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let counter_only: Vec<(String, String)> = catalogue["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["channels"] == "counter")
            .map(|p| {
                (
                    p["id"].as_str().unwrap().to_string(),
                    p["name"]["ja"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        for id in NAMED {
            assert!(counter_only.iter().any(|(x, _)| x == id), "{t}: {id}");
        }
        // 28 of each before the 転入・転出・出生・婚姻 navigators added theirs
        // (13 in 四街道市 with its 子ども医療費助成, 12 in 四日市市).
        let expected = if t == "122289" { 41 } else { 40 };
        assert_eq!(
            counter_only.len(),
            expected,
            "{t}: every counter-only procedure"
        );
        for (id, name) in &counter_only {
            let (id, name) = (id.as_str(), name.as_str());
            let message = format!(
                "「{name}」はオンラインでは申請できません。担当課の窓口でお手続きください。"
            );
            // Online, through the API: refused with the reason, nothing written.
            let r = app
                .client()
                .post(app.url(&format!("/api/v1/t/{t}/procedures/{id}/applications")))
                .header("Idempotency-Key", format!("counter-only-{t}-{id}-0001"))
                .json(&json!({"answers": {}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{t} {id}");
            let e = body(r).await;
            assert_eq!(e["error"]["detail"], message.as_str(), "{t} {id}: {e}");
            // Online, the form: the same reason, no form.
            let r = app
                .client()
                .get(app.url(&format!("/t/{t}/procedures/{id}/apply")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{t} {id}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains(&message) && !html.contains("name=\"_version\""),
                "{t} {id}"
            );
            // The procedure's page tells residents to come, and offers no
            // online application.
            let html = app
                .client()
                .get(app.url(&format!("/t/{t}/procedures/{id}")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                html.contains("この手続はオンラインでは申請できません")
                    && !html.contains(&format!("/procedures/{id}/apply")),
                "{t} {id}"
            );
            // At the desk: offered on the start page and opened with its form.
            assert!(
                start_page.contains(&format!("<option value=\"{id}\"")),
                "{t} {id} on the start page"
            );
            let r = clerk
                .post(app.url(&api(t, "/assisted-entries")))
                .json(&json!({"procedure_id": id}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED, "{t} {id}");
            let entry = body(r).await;
            let fields = &catalogue["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == id)
                .unwrap()["form"]["fields"];
            assert!(
                fields.as_array().unwrap().len() >= 5,
                "{t} {id}: a real form"
            );
            let page = clerk
                .get(app.url(&format!(
                    "/t/{t}/staff/assist/{}",
                    entry["id"].as_str().unwrap()
                )))
                .send()
                .await
                .unwrap();
            assert_eq!(page.status(), StatusCode::OK);
            let html = page.text().await.unwrap();
            assert!(html.contains(name), "{t} {id}");
        }
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM applications WHERE tenant = '{t}'"
            ))
            .await,
            0
        );
    }
}

/// 転居届 for 四街道 太郎, from the register, up to signed on screen.
async fn signed_tenkyo(app: &TestApp, clerk: &reqwest::Client) -> (String, Value) {
    let t = "122289";
    let r = clerk
        .post(app.url(&api(t, "/assisted-entries")))
        .json(&json!({"procedure_id": "tenkyo", "registry_id": "1000101"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let e = body(r).await;
    let id = e["id"].as_str().unwrap().to_string();
    // The register filled the resident and the old address.
    assert_eq!(e["answers"]["applicant"], "四街道 太郎");
    assert_eq!(e["answers"]["birth_date"], "1982-05-14");
    assert_eq!(e["answers"]["old_address"], "千葉県四街道市鹿渡933番地の1");
    assert_eq!(e["answers"]["old_postal_code"], "284-0003");
    let mut answers = e["answers"].clone();
    for (k, v) in [
        ("relationship", "self"),
        ("moved_date", "2026-12-01"),
        ("new_postal_code", "284-0005"),
        ("new_address", "千葉県四街道市四街道1丁目1番地"),
        ("members", "2"),
        ("head_of_household", "unchanged"),
        ("mynumber_card", "update"),
    ] {
        answers[k] = json!(v);
    }
    let r = clerk
        .put(app.url(&api(t, &format!("/assisted-entries/{id}"))))
        .json(&json!({"version": e["version"], "answers": answers}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let e = body(r).await;
    assert_eq!(e["status"], "confirming");
    let url = e["confirm_url"].as_str().unwrap();
    let screen = &url[url.find("/t/").unwrap()..];
    let r = app
        .client()
        .post(app.url(&format!("/api/v1{screen}/signature")))
        .json(&json!({"version": e["version"], "agree": true, "signature": "10,10 120,80 200,40"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let e = body(
        clerk
            .get(app.url(&api(t, &format!("/assisted-entries/{id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["status"], "signed");
    (id, e)
}

/// What filing writes; none of it may change when filing is refused.
async fn written(app: &TestApp, id: &str) -> (i64, i64, i64, i64, String) {
    use sqlx::Row;
    let r = sqlx::query("SELECT status, version FROM assisted_entries WHERE id = $1")
        .bind(id)
        .fetch_one(app.app.db.read())
        .await
        .unwrap();
    let status: String = r.get(0);
    let version: i64 = r.get(1);
    (
        app.count("SELECT COUNT(*) FROM applications").await,
        app.count("SELECT COUNT(*) FROM case_identity_checks").await,
        app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('assisted.submit', 'application.submit')")
            .await,
        version,
        status,
    )
}

async fn identity_check_required_and_recorded(app: &TestApp) {
    let t = "122289";
    let clerk = app.staff(t, "clerk").await;
    let (id, e) = signed_tenkyo(app, &clerk).await;
    let submit = |c: &reqwest::Client, b: Value| {
        c.post(app.url(&api(t, &format!("/assisted-entries/{id}/submit"))))
            .json(&b)
            .send()
    };
    let before = written(app, &id).await;
    assert_eq!(before.4, "signed");

    // API: no document, an unknown one, a second document not named.
    for (b, field, message) in [
        (
            json!({"version": e["version"]}),
            "identity_document",
            "「本人確認書類」を選んでください。",
        ),
        (
            json!({"version": e["version"], "identity_document": ""}),
            "identity_document",
            "「本人確認書類」を選んでください。",
        ),
        (
            json!({"version": e["version"], "identity_document": "library_card"}),
            "identity_document",
            "「本人確認書類」の「library_card」は選べません。マイナンバーカード（my_number_card）、運転免許証（drivers_license）、パスポート（passport）、在留カード（residence_card）、特別永住者証明書（special_permanent_resident_certificate）、健康保険証（資格確認書）＋もう1点（health_insurance_plus_one）、その他（other）から選んでください。",
        ),
        (
            json!({"version": e["version"], "identity_document": "health_insurance_plus_one"}),
            "identity_note",
            "「本人確認書類」が「健康保険証（資格確認書）＋もう1点」のときは、「確認メモ」にもう1点の書類の名前（年金手帳など）を入力してください。",
        ),
    ] {
        let r = submit(&clerk, b.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let err = body(r).await;
        assert_eq!(err["error"]["fields"].as_array().unwrap().len(), 1, "{err}");
        assert_eq!(err["error"]["fields"][0]["field"], field, "{err}");
        assert_eq!(err["error"]["fields"][0]["message"], message, "{err}");
        assert_eq!(written(app, &id).await, before, "{b}: nothing written");
    }

    // The page: the confirm step offers the documents with none chosen.
    let entry_path = format!("/t/{t}/staff/assist/{id}");
    let html = clerk
        .get(app.url(&entry_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for v in [
        "my_number_card",
        "drivers_license",
        "passport",
        "residence_card",
        "special_permanent_resident_certificate",
        "health_insurance_plus_one",
        "other",
    ] {
        assert!(
            html.contains(&format!("name=\"identity_document\" value=\"{v}\">")),
            "{v} offered, not chosen"
        );
    }
    // Filed from the page without a choice: 422, the field named, nothing written.
    let token = app.csrf(&clerk, &entry_path).await;
    let r = clerk
        .post(app.url(&format!("{entry_path}/submit")))
        .form(&[
            ("_csrf", token.as_str()),
            ("_version", &e["version"].to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            "<a href=\"#field-identity_document\">「本人確認書類」を選んでください。</a>"
        ) && html.contains("id=\"identity_document-error\""),
        "{html}"
    );
    // Other without its name: the note is named, the choice kept.
    let r = clerk
        .post(app.url(&format!("{entry_path}/submit")))
        .form(&[
            ("_csrf", token.as_str()),
            ("_version", &e["version"].to_string()),
            ("identity_document", "other"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            "「本人確認書類」が「その他」のときは、「確認メモ」に書類の名前を入力してください。"
        ) && html.contains("name=\"identity_document\" value=\"other\" checked>"),
        "{html}"
    );
    assert_eq!(written(app, &id).await, before, "nothing written");

    // Filed by another clerk of the desk (reviewer): the check is theirs.
    let reviewer = app.staff(t, "reviewer").await;
    let token = app.csrf(&reviewer, &entry_path).await;
    let r = reviewer
        .post(app.url(&format!("{entry_path}/submit")))
        .form(&[
            ("_csrf", token.as_str()),
            ("_version", &e["version"].to_string()),
            ("identity_document", "health_insurance_plus_one"),
            ("identity_note", "年金手帳"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let e = body(
        clerk
            .get(app.url(&api(t, &format!("/assisted-entries/{id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["status"], "submitted");
    let case_id = e["application_id"].as_str().unwrap().to_string();

    // Stored with the case: document, note, who (id and name), when.
    let case = body(
        clerk
            .get(app.url(&api(t, &format!("/cases/{case_id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(case["channel"], "proxy");
    assert_eq!(case["procedure_id"], "tenkyo");
    assert_eq!(case["identity_level"], "counter");
    let check = &case["identity_check"];
    assert_eq!(check["document"], "health_insurance_plus_one", "{case}");
    assert_eq!(check["document_label"], "健康保険証（資格確認書）＋もう1点");
    assert_eq!(check["note"], "年金手帳");
    assert_eq!(check["checked_by"], "reviewer");
    assert_eq!(check["checked_by_name"], "審査 担当");
    assert!(check["checked_at"].as_str().unwrap().starts_with("20"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM case_identity_checks WHERE tenant = '{t}' AND application_id = '{case_id}' AND checked_by = 'reviewer' AND document = 'health_insurance_plus_one'"
        ))
        .await,
        1
    );
    // In the case's history, after the submission, by the one who checked.
    let events = case["events"].as_array().unwrap();
    assert_eq!(events[0]["kind"], "submitted");
    assert_eq!(events[1]["kind"], "identity_checked");
    assert_eq!(events[1]["actor"], "staff:reviewer");
    assert_eq!(events[1]["body"], "health_insurance_plus_one");
    // In the audit log, with the filing and with the case.
    let detail = |action: &'static str| async move {
        let d: String = sqlx::query_scalar(
            "SELECT detail FROM audit_log WHERE action = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(action)
        .fetch_one(app.app.db.read())
        .await
        .unwrap();
        serde_json::from_str::<Value>(&d).unwrap()
    };
    let filed = detail("assisted.submit").await;
    assert_eq!(filed["identity_document"], "health_insurance_plus_one");
    assert_eq!(filed["identity_checked_by"], "reviewer");
    assert_eq!(filed["application"], case_id.as_str());
    let submitted = detail("application.submit").await;
    assert_eq!(submitted["identity_document"], "health_insurance_plus_one");
    assert_eq!(submitted["identity_checked_by"], "reviewer");
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = 'assisted.submit' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(app.app.db.read())
    .await
    .unwrap();
    assert_eq!(actor, "staff:reviewer");

    // On the staff case page: the check and its history line.
    let html = clerk
        .get(app.url(&format!("/t/{t}/staff/cases/{case_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("本人確認（窓口で確認済み）")
            && html.contains("健康保険証（資格確認書）＋もう1点（年金手帳）、確認者：審査 担当、")
            && html.contains("本人確認をしました"),
        "{html}"
    );
    // Filing again gives the same case and records nothing more.
    let r = submit(
        &clerk,
        json!({"version": e["version"], "identity_document": "passport"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(body(r).await["application_id"], case_id.as_str());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM case_identity_checks").await,
        1
    );
}

testkit::on_both_backends!(
    counter_only_refused_online_and_open_at_the_desk,
    identity_check_required_and_recorded
);
