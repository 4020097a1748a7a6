//! 書かない窓口 over HTTP, on SQLite and PostgreSQL: a clerk finds the
//! resident in the register, the form is pre-filled, the resident checks
//! and signs on the second screen (or on paper), the case is filed with
//! channel `proxy` and counted so; a card read on the second screen fills
//! and verifies fields; bad input changes nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

const T: &str = "122289";

async fn body(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

fn api(path: &str) -> String {
    format!("/api/v1/t/{T}/staff{path}")
}

async fn put_answers(
    app: &TestApp,
    c: &reqwest::Client,
    id: &str,
    version: &Value,
    answers: Value,
) -> reqwest::Response {
    c.put(app.url(&api(&format!("/assisted-entries/{id}"))))
        .json(&json!({"version": version, "answers": answers}))
        .send()
        .await
        .unwrap()
}

async fn act(
    app: &TestApp,
    c: &reqwest::Client,
    id: &str,
    action: &str,
    version: &Value,
) -> reqwest::Response {
    c.post(app.url(&api(&format!("/assisted-entries/{id}/{action}"))))
        .json(&json!({"version": version}))
        .send()
        .await
        .unwrap()
}

/// Files a signed entry with the identity document the clerk checked.
async fn file(
    app: &TestApp,
    c: &reqwest::Client,
    id: &str,
    version: &Value,
    document: &str,
) -> reqwest::Response {
    c.post(app.url(&api(&format!("/assisted-entries/{id}/submit"))))
        .json(&json!({"version": version, "identity_document": document}))
        .send()
        .await
        .unwrap()
}

/// The path of the second screen from an entry's `confirm_url`.
fn second_screen(e: &Value) -> String {
    let url = e["confirm_url"].as_str().unwrap();
    url[url.find("/t/").unwrap()..].to_string()
}

fn complete_answers() -> Value {
    json!({
        "scope": "individual",
        "copies": "1",
        "purpose": "employment",
        "delivery": "counter",
    })
}

async fn kpi_proxy(app: &TestApp) -> i64 {
    let k = body(
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/kpi")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    k["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "proxy")
        .map(|c| c["count"].as_i64().unwrap())
        .unwrap_or(0)
}

async fn registry_prefill_sign_on_screen(app: &TestApp) {
    let clerk = app.staff(T, "clerk").await;
    let proxies_before = kpi_proxy(app).await;

    // The register: kana in hiragana with a full-width space finds her;
    // an empty query is refused; every search is audited.
    let r = clerk
        .get(app.url(&api("/registry/residents?kana=よつかいどう　はなこ")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let found = body(r).await;
    assert_eq!(found["residents"].as_array().unwrap().len(), 1);
    let hanako = found["residents"][0].clone();
    assert_eq!(hanako["name"], "四街道 花子");
    assert_eq!(hanako["relationship"], "妻");
    let r = clerk
        .get(app.url(&api("/registry/residents")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A birth date however written; a date that is not one is named.
    let r = clerk
        .get(app.url(&api("/registry/residents?birth_date=昭和60年9月2日")))
        .send()
        .await
        .unwrap();
    assert_eq!(body(r).await["residents"][0]["name"], "四街道 花子");
    let r = clerk
        .get(app.url(&api("/registry/residents?birth_date=1985-13-40")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = body(r).await;
    assert_eq!(err["error"]["fields"][0]["field"], "birth_date", "{err}");
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'registry.search'")
            .await
            >= 1
    );
    // Not for residents or anonymous callers.
    let r = app
        .client()
        .get(app.url(&api("/registry/residents?kana=よつかいどう")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A counter procedure without a form (the paper one is used) is not
    // filled in here.
    let admin = app.staff(T, "dx-admin").await;
    let r = admin
        .put(app.url(&format!("/api/v1/t/{T}/staff/procedures/paper-only")))
        .json(&json!({"procedure": {
            "id": "paper-only",
            "name": {"ja": "紙の届出"},
            "description": {"ja": "窓口の届書で受け付けます。"},
            "department": "madoguchi",
            "channels": "counter",
            "identity_level": "none",
            "fee_yen": 0,
            "processing_time": {"ja": "即日"},
        }}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    // Bad choices write nothing.
    let entries = || app.count("SELECT COUNT(*) FROM assisted_entries");
    for (b, field) in [
        (json!({"procedure_id": ""}), "procedure_id"),
        (json!({"procedure_id": "no-such"}), "procedure_id"),
        (
            json!({"procedure_id": "juminhyo-copy", "registry_id": "nobody"}),
            "registry_id",
        ),
        (
            json!({"procedure_id": "juminhyo-copy", "ticket_id": "nope"}),
            "ticket_id",
        ),
        (json!({"procedure_id": "paper-only"}), "procedure_id"),
    ] {
        let r = clerk
            .post(app.url(&api("/assisted-entries")))
            .json(&b)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let e = body(r).await;
        assert_eq!(e["error"]["fields"][0]["field"], field, "{e}");
        assert!(!e["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .is_empty());
    }
    assert_eq!(entries().await, 0);

    // Pre-filled from the register.
    let r = clerk
        .post(app.url(&api("/assisted-entries")))
        .json(&json!({"procedure_id": "juminhyo-copy", "registry_id": hanako["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let e = body(r).await;
    let id = e["id"].as_str().unwrap().to_string();
    assert_eq!(e["status"], "editing");
    assert_eq!(e["answers"]["applicant"], "四街道 花子");
    assert_eq!(e["answers"]["applicant_kana"], "ヨツカイドウ ハナコ");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'registry.read'")
            .await,
        1
    );

    // Incomplete: 422 naming the fields, and what was typed is kept.
    let r = put_answers(
        app,
        &clerk,
        &id,
        &e["version"],
        json!({"applicant": "四街道 花子", "applicant_kana": "ヨツカイドウ ハナコ", "copies": "2"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = body(r).await;
    let fields: Vec<&str> = err["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"scope") && fields.contains(&"purpose"),
        "{fields:?}"
    );
    let e = body(
        clerk
            .get(app.url(&api(&format!("/assisted-entries/{id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["status"], "editing");
    assert_eq!(e["answers"]["copies"], "2");

    // A stale version is refused.
    let mut answers = complete_answers();
    answers["applicant"] = json!("四街道 花子");
    answers["applicant_kana"] = json!("ヨツカイドウ ハナコ");
    let r = put_answers(app, &clerk, &id, &json!(1), answers.clone()).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = put_answers(app, &clerk, &id, &e["version"], answers.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let e = body(r).await;
    assert_eq!(e["status"], "confirming");

    // Not signed yet: not filed.
    let r = file(app, &clerk, &id, &e["version"], "drivers_license").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        body(r).await["error"]["code"],
        "MDG-409-assisted_entry_unsigned"
    );

    // The second screen: shows the details; a wrong token is not found.
    let screen = second_screen(&e);
    let resident = app.client();
    let html = resident
        .get(app.url(&screen))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("四街道　花子") && html.contains("data-signature-pad"),
        "{html}"
    );
    let bad = format!("{}x", &screen);
    assert_eq!(
        resident.get(app.url(&bad)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let sign_api = format!("/api/v1{}/signature", screen);
    let r = resident
        .post(app.url(&sign_api))
        .json(&json!({"version": e["version"], "agree": false, "signature": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = body(r).await;
    assert_eq!(err["error"]["fields"].as_array().unwrap().len(), 2, "{err}");
    // The browser form: without a signature, the page says so and nothing changes.
    let token = app.csrf(&resident, &screen).await;
    let r = resident
        .post(app.url(&format!("{screen}/sign")))
        .form(&[
            ("_csrf", token.as_str()),
            ("_version", &e["version"].to_string()),
            ("agree", "yes"),
            ("signature", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("「署名」欄に署名してください"));
    let r = resident
        .post(app.url(&format!("{screen}/sign")))
        .form(&[
            ("_csrf", token.as_str()),
            ("_version", &e["version"].to_string()),
            ("agree", "yes"),
            ("signature", "10,10 120,80 200,40;300,100 350,150"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let e = body(
        clerk
            .get(app.url(&api(&format!("/assisted-entries/{id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["status"], "signed");
    assert_eq!(e["signature_method"], "screen");
    // The signature is sealed at rest.
    let raw: String = {
        use sqlx::Row;
        sqlx::query("SELECT signature FROM assisted_entries WHERE id = $1")
            .bind(&id)
            .fetch_one(app.app.db.read())
            .await
            .unwrap()
            .get(0)
    };
    assert!(raw.contains("$sealed") && !raw.contains("120"), "{raw}");

    // The printed application, with Japanese text that extracts.
    let r = clerk
        .get(app.url(&format!("/t/{T}/staff/assist/{id}/application.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    if let Some(text) = testkit::pdf_text(&pdf) {
        assert!(
            text.contains("花子（ヨツカイドウ")
                && text.contains("住民票の写し")
                && text.contains("就職・勤務先への提出"),
            "{text}"
        );
    }

    // Filed as proxy; a second submit gives the same case.
    let r = file(app, &clerk, &id, &e["version"], "drivers_license").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let done = body(r).await;
    assert_eq!(done["channel"], "proxy");
    let case_id = done["application_id"].as_str().unwrap().to_string();
    let again = body(file(app, &clerk, &id, &e["version"], "drivers_license").await).await;
    assert_eq!(again["application_id"], case_id.as_str());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM applications WHERE channel = 'proxy'")
            .await,
        proxies_before + 1
    );
    let case = body(
        clerk
            .get(app.url(&api(&format!("/cases/{case_id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(case["channel"], "proxy", "{case}");
    assert_eq!(case["identity_level"], "counter");
    assert_eq!(kpi_proxy(app).await, proxies_before + 1);
    // After filing, nothing changes any more.
    let r = put_answers(
        app,
        &clerk,
        &id,
        &done["entry"]["version"],
        complete_answers(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Another municipality's clerk does not see it.
    let other = app.staff("242021", "clerk").await;
    let r = other
        .get(app.url(&format!("/api/v1/t/242021/staff/assisted-entries/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn card_on_second_screen_and_paper(app: &TestApp) {
    let clerk = app.staff(T, "clerk").await;
    let e = body(
        clerk
            .post(app.url(&api("/assisted-entries")))
            .json(&json!({"procedure_id": "juminhyo-copy"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = e["id"].as_str().unwrap().to_string();
    assert_eq!(e["answers"], json!({}));
    let screen = second_screen(&e);
    // A sign-in left on the shared screen is not offered for this entry,
    // and is ended when the screen loads.
    let stray = app.resident(T, "my_number_card").await;
    let html = stray
        .get(app.url(&screen))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains(&format!("{screen}/card\"")),
        "no stray card offered"
    );
    let r = stray
        .get(app.url(&format!("/t/{T}/account")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the stray sign-in was ended: sent to sign in"
    );

    // The resident starts reading the card from this entry's screen
    // (development identity provider) and uses it; the sign-in then ends.
    let resident = app.client();
    let token = app.csrf(&resident, &screen).await;
    let r = resident
        .post(app.url(&format!("{screen}/read-card")))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .contains("need=my_number_card"));
    let token = app.csrf(&resident, &format!("/t/{T}/sign-in")).await;
    let r = resident
        .post(app.url(&format!("/t/{T}/sign-in/dev")))
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "四街道 花子"),
            ("address", "千葉県四街道市鹿渡933番地の1"),
            ("birthdate", "1985-09-02"),
            ("gender", "female"),
            ("level", "my_number_card"),
            ("return_to", screen.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"].to_str().unwrap(), screen);
    let html = resident
        .get(app.url(&screen))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("{screen}/card\"")) && html.contains("四街道 花子"),
        "{html}"
    );
    let token = app.csrf(&resident, &screen).await;
    let r = resident
        .post(app.url(&format!("{screen}/card")))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cleared: Vec<&str> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("mdg_resident=") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("mdg_assist_card=") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let r = resident
        .get(app.url(&format!("/t/{T}/account")))
        .send()
        .await
        .unwrap();
    assert_ne!(
        r.status(),
        StatusCode::OK,
        "the shared screen is signed out"
    );
    let e = body(
        clerk
            .get(app.url(&api(&format!("/assisted-entries/{id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["answers"]["applicant"], "四街道 花子");
    assert_eq!(e["identity_level"], "my_number_card");
    assert_eq!(e["verified_fields"], json!(["applicant"]));
    // Typing cannot change what the card verified.
    let mut answers = complete_answers();
    answers["applicant"] = json!("別人 太郎");
    answers["applicant_kana"] = json!("ヨツカイドウ ハナコ");
    let e = body(put_answers(app, &clerk, &id, &e["version"], answers).await).await;
    assert_eq!(e["status"], "confirming");
    assert_eq!(e["answers"]["applicant"], "四街道 花子");
    // Signed on paper: only the printed version can be confirmed.
    let r = act(app, &clerk, &id, "paper-signature", &e["version"]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        body(r).await["error"]["code"],
        "MDG-409-assisted_entry_not_printed"
    );
    let pdf = |c: &reqwest::Client| {
        c.get(app.url(&format!("/t/{T}/staff/assist/{id}/application.pdf")))
            .send()
    };
    assert_eq!(pdf(&clerk).await.unwrap().status(), StatusCode::OK);
    // Changed after printing: print again first.
    let mut answers = complete_answers();
    answers["applicant_kana"] = json!("ヨツカイドウ ハナコ");
    answers["copies"] = json!("3");
    let e = body(put_answers(app, &clerk, &id, &e["version"], answers).await).await;
    let r = act(app, &clerk, &id, "paper-signature", &e["version"]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(pdf(&clerk).await.unwrap().status(), StatusCode::OK);
    // Another department's clerk does not open the desk's entry.
    let kodomo = app.staff(T, "kodomo").await;
    assert_eq!(pdf(&kodomo).await.unwrap().status(), StatusCode::FORBIDDEN);
    let r = kodomo
        .get(app.url(&api(&format!("/assisted-entries/{id}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Confirmed by the clerk; a second confirmation is refused.
    let r = act(app, &clerk, &id, "paper-signature", &e["version"]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let e = body(r).await;
    assert_eq!(e["signature_method"], "paper");
    assert_eq!(
        act(app, &clerk, &id, "paper-signature", &e["version"])
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let done = body(file(app, &clerk, &id, &e["version"], "my_number_card").await).await;
    let case = body(
        clerk
            .get(app.url(&api(&format!(
                "/cases/{}",
                done["application_id"].as_str().unwrap()
            ))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(case["channel"], "proxy");
    assert_eq!(case["identity_level"], "my_number_card");
    assert_eq!(case["verified_fields"], json!(["applicant"]));
    // Once filed, the shared screen shows no answers; ten minutes later the
    // link no longer opens.
    let html = resident
        .get(app.url(&screen))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("四街道　花子") && html.contains(done["receipt_number"].as_str().unwrap()),
        "{html}"
    );
    sqlx::query("UPDATE assisted_entries SET updated_at = updated_at - 660000 WHERE id = $1")
        .bind(&id)
        .execute(app.app.db.write())
        .await
        .unwrap();
    assert_eq!(
        resident
            .get(app.url(&screen))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // From a ticket: the entry records it, the start page names it.
    let t = body(
        app.client()
            .post(app.url(&format!("/api/v1/t/{T}/counter/tickets")))
            .json(&json!({"counter": "c1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ticket_id = t["ticket"]["id"].as_str().unwrap();
    let e = body(
        clerk
            .post(app.url(&api("/assisted-entries")))
            .json(&json!({"procedure_id": "juminhyo-copy", "ticket_id": ticket_id}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["ticket_id"], ticket_id);
    let html = clerk
        .get(app.url(&format!("/t/{T}/staff/assist?ticket={ticket_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(t["ticket"]["display"].as_str().unwrap()),
        "{html}"
    );

    // The pages: start (with register search), entry, second screen.
    let html = clerk
        .get(app.url(&format!(
            "/t/{T}/staff/assist?procedure=juminhyo-copy&kana=ヨツカイドウ"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("四街道 太郎") && html.contains("四街道 花子"),
        "{html}"
    );
    let token = app.csrf(&clerk, &format!("/t/{T}/staff/assist")).await;
    let r = clerk
        .post(app.url(&format!("/t/{T}/staff/assist")))
        .form(&[("_csrf", token.as_str()), ("procedure", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("「手続」を選んでください"));
    let r = clerk
        .post(app.url(&format!("/t/{T}/staff/assist")))
        .form(&[
            ("_csrf", token.as_str()),
            ("procedure", "juminhyo-copy"),
            ("registry_id", "1000101"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let entry_path = r.headers()["location"].to_str().unwrap().to_string();
    let html = clerk
        .get(app.url(&entry_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("四街道 太郎") && html.contains("/assist/"),
        "{html}"
    );
    // Saved with an error from the page: 422 and the value kept.
    let token = app.csrf(&clerk, &entry_path).await;
    let r = clerk
        .post(app.url(&entry_path))
        .form(&[
            ("_csrf", token.as_str()),
            ("_version", "1"),
            ("applicant", "四街道 太郎"),
            ("applicant_kana", "ヨツカイドウ タロウ"),
            ("copies", "abc"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("value=\"abc\""));

    // Unfinished entries are deleted after a day; filed ones stay.
    let filed = app
        .count("SELECT COUNT(*) FROM assisted_entries WHERE status = 'submitted'")
        .await;
    let all = app.count("SELECT COUNT(*) FROM assisted_entries").await;
    assert!(all > filed);
    assert_eq!(
        desk::assisted::purge(&app.app.db).await.unwrap(),
        0,
        "nothing is a day old yet"
    );
    sqlx::query("UPDATE assisted_entries SET updated_at = updated_at - 90000000")
        .execute(app.app.db.write())
        .await
        .unwrap();
    assert_eq!(
        desk::assisted::purge(&app.app.db).await.unwrap() as i64,
        all - filed
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM assisted_entries").await,
        filed
    );
}

/// The second screen warns when the card holder is not the resident the
/// clerk chose from the register; the record it reads for that is in the
/// audit log, and once the card is used it is not read again.
async fn card_compared_with_the_register(app: &TestApp) {
    let clerk = app.staff(T, "clerk").await;
    let found = body(
        clerk
            .get(app.url(&api("/registry/residents?kana=よつかいどう　はなこ")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let hanako = found["residents"][0]["id"].as_str().unwrap().to_string();
    let e = body(
        clerk
            .post(app.url(&api("/assisted-entries")))
            .json(&json!({"procedure_id": "juminhyo-copy", "registry_id": hanako}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let screen = second_screen(&e);
    let reads = || {
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'registry.read' AND actor LIKE 'resident:%'",
        )
    };
    let warning = "カードの氏名が、職員が住民記録から選んだ方と違います。";
    for (name, differs) in [("四街道 太郎", true), ("四街道 花子", false)] {
        let before = reads().await;
        let resident = app.client();
        let token = app.csrf(&resident, &screen).await;
        let r = resident
            .post(app.url(&format!("{screen}/read-card")))
            .form(&[("_csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let token = app.csrf(&resident, &format!("/t/{T}/sign-in")).await;
        let r = resident
            .post(app.url(&format!("/t/{T}/sign-in/dev")))
            .form(&[
                ("_csrf", token.as_str()),
                ("name", name),
                ("address", "千葉県四街道市鹿渡933番地の1"),
                ("birthdate", "1985-09-02"),
                ("gender", "female"),
                ("level", "my_number_card"),
                ("return_to", screen.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"].to_str().unwrap(), screen);
        let html = resident
            .get(app.url(&screen))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!("{screen}/card\"")),
            "{name}: card offered"
        );
        assert_eq!(html.contains(warning), differs, "{name}");
        assert_eq!(reads().await, before + 1, "{name}: the read is audited");
        let detail: String = sqlx::query_scalar(
            "SELECT detail FROM audit_log WHERE action = 'registry.read' AND actor LIKE 'resident:%' ORDER BY seq DESC LIMIT 1",
        )
        .fetch_one(app.app.db.read())
        .await
        .unwrap();
        let detail: Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail["purpose"], "card_check");
        assert_eq!(detail["entry"], e["id"]);
        if !differs {
            // Used: the screen no longer compares, so reads no record.
            let token = app.csrf(&resident, &screen).await;
            let r = resident
                .post(app.url(&format!("{screen}/card")))
                .form(&[("_csrf", token.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            let after = reads().await;
            let html = resident
                .get(app.url(&screen))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(!html.contains(warning));
            assert_eq!(reads().await, after);
        }
    }
}

testkit::on_both_backends!(
    registry_prefill_sign_on_screen,
    card_on_second_screen_and_paper,
    card_compared_with_the_register
);
