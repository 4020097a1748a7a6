//! End-to-end tests over HTTP against a real server with a fresh database,
//! each scenario run on SQLite and on PostgreSQL.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

const T: &str = "122289";

/// A procedure with every kind of field the tests need, created through
/// the staff API (which itself is under test).
async fn create_test_procedure(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let r = admin
        .put(app.url(&format!("/api/v1/t/{T}/staff/procedures/test-permit")))
        .json(&json!({"procedure": {
            "id": "test-permit",
            "name": {"ja": "テスト許可申請", "en": "Test permit"},
            "description": {"ja": "テスト用の手続です。"},
            "department": "madoguchi",
            "life_events": ["moving"],
            "channels": "both",
            "identity_level": "none",
            "fee_yen": 300,
            "documents": [{"ja": "本人確認書類"}],
            "processing_time": {"ja": "即日"},
            "legal_basis": "テスト条例",
            "form": {"fields": [
                {"name": "applicant", "type": "person_name", "label": {"ja": "氏名", "en": "Name"}, "required": true},
                {"name": "email", "type": "email", "label": {"ja": "メールアドレス"}},
                {"name": "postal", "type": "postal_code", "label": {"ja": "郵便番号"}, "required": true},
                {"name": "birth", "type": "date", "label": {"ja": "生年月日"}, "required": true},
                {"name": "my_number", "type": "my_number", "label": {"ja": "個人番号"}},
                {"name": "purpose", "type": "choice", "label": {"ja": "使いみち"}, "required": true,
                 "options": [{"value": "work", "label": {"ja": "勤務先"}}, {"value": "other", "label": {"ja": "その他"}}]},
                {"name": "purpose_other", "type": "text", "label": {"ja": "その他の使いみち"}, "required": true,
                 "show_if": {"field": "purpose", "equals": "other"}},
                {"name": "doc", "type": "file", "label": {"ja": "書類"}, "accept": ["application/pdf"], "max_bytes": 100000}
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

fn good_answers() -> Value {
    json!({
        "applicant": {"name": "山田 太郎", "kana": "やまだ たろう"},
        "email": "taro@example.jp",
        "postal": "〒２８４－８５５５",
        "birth": "昭和60年1月2日",
        "purpose": "work"
    })
}

async fn submit(app: &TestApp, key: &str, answers: Value) -> reqwest::Response {
    app.client()
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/test-permit/applications"
        )))
        .header("Idempotency-Key", key)
        .json(&json!({ "answers": answers }))
        .send()
        .await
        .unwrap()
}

/// The page without furigana: `<ruby>漢<rp>(</rp><rt>かん</rt><rp>)</rp></ruby>` → `漢`.
fn without_ruby(html: &str) -> String {
    let mut out = html.replace("<ruby>", "").replace("</ruby>", "");
    for (open, close) in [("<rt>", "</rt>"), ("<rp>", "</rp>")] {
        let mut kept = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(open) {
            let end = rest[i..]
                .find(close)
                .map_or(rest.len(), |e| i + e + close.len());
            kept.push_str(&rest[..i]);
            rest = &rest[end..];
        }
        kept.push_str(rest);
        out = kept;
    }
    out
}

/// The count `sql` gives once it reaches `n` (or after 10 s).
async fn eventually(app: &TestApp, sql: &str, n: i64) -> i64 {
    for _ in 0..100 {
        let got = app.count(sql).await;
        if got == n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.count(sql).await
}

async fn body(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

async fn catalogue(app: &TestApp) {
    for tenant in ["122289", "242021"] {
        let r = app
            .client()
            .get(app.url(&format!("/api/v1/t/{tenant}/procedures")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v = body(r).await;
        let items = v["items"].as_array().unwrap();
        assert!(items.len() >= 30, "{tenant} has {} procedures", items.len());
        for wanted in [
            "juminhyo-copy",
            "tennyu",
            "jido-teate",
            "sodai-gomi",
            "inu-toroku",
            "smartphone-class",
        ] {
            assert!(
                items.iter().any(|p| p["id"] == wanted),
                "{tenant} lacks {wanted}"
            );
        }
    }
    let r = app
        .client()
        .get(app.url("/api/v1/t/122289/procedures/juminhyo-copy"))
        .send()
        .await
        .unwrap();
    let v = body(r).await;
    assert_eq!(v["name"]["ja"], "住民票の写しの交付請求");
    assert_eq!(v["answers_schema"]["type"], "object");
    assert!(v["answers_schema"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == "applicant"));

    // Unknown tenant and procedure: 404 with a stable code, HTML and JSON.
    let r = app
        .client()
        .get(app.url("/api/v1/t/999999/procedures"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(body(r).await["error"]["code"], "MDG-404-tenant");
    let r = app
        .client()
        .get(app.url("/api/v1/t/122289/procedures/no-such"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(body(r).await["error"]["code"], "MDG-404-procedure");
    let r = app
        .client()
        .get(app.url("/t/999999/procedures"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("お探しの自治体は見つかりませんでした") && html.contains("MDG-404-tenant"),
        "{html}"
    );
    let r = app
        .client()
        .get(app.url("/t/122289/procedures/no-such/apply"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Counter-only procedures cannot be applied for online: the page says
    // to come to the counter.
    let r = app
        .client()
        .get(app.url("/t/122289/procedures/konin/apply"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("「婚姻届」はオンラインでは申請できません。担当課の窓口でお手続きください。"));
}

async fn apply_and_track(app: &TestApp) {
    create_test_procedure(app).await;
    let mut answers = good_answers();
    answers["my_number"] = json!("1234 5678 9018");
    let r = submit(app, "test-key-0000-apply-0001", answers).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = body(r).await;
    let receipt = v["receipt_number"].as_str().unwrap();
    assert!(
        kernel::ids::ReceiptNumber::parse(receipt).is_some(),
        "{receipt}"
    );
    let id = v["id"].as_str().unwrap().to_string();
    let token = v["access_token"].as_str().unwrap().to_string();

    // The applicant sees their case with normalised answers.
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/{T}/my/{id}/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mine = body(r).await;
    assert_eq!(mine["status"], "received");
    assert_eq!(mine["answers"]["postal"], "284-8555");
    assert_eq!(mine["answers"]["birth"], "1985-01-02");
    assert_eq!(mine["answers"]["applicant"]["kana"], "ヤマダ\u{3000}タロウ");
    assert_eq!(
        mine["answers"]["my_number"], "********9018",
        "masked on the bearer link"
    );
    // A wrong token reveals nothing.
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/{T}/my/{id}/{}", "0".repeat(32))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The HTML view shows the receipt number.
    let html = app
        .client()
        .get(app.url(&format!("/t/{T}/my/{id}/{token}?new=1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(receipt) && html.contains("申請を受け付けました"));
    // Nothing delivers the outbox yet, so the receipt page, in every
    // language, says what happens next and promises no mail.
    for lang in kernel::i18n::Lang::ALL {
        let next = kernel::i18n::t(lang, "my.received_body");
        for mail in ["メール", "mail", "邮件", "메일"] {
            assert!(!next.contains(mail), "{lang:?}: {next}");
        }
        // Nor does the e-mail field's hint on the form promise a mail.
        let hint = kernel::i18n::t(lang, "form.hint.email");
        for send in ["送", "send", "envia", "gửi", "发送", "보내"] {
            assert!(!hint.to_lowercase().contains(send), "{lang:?}: {hint}");
        }
        let html = app
            .client()
            .get(app.url(&format!("/t/{T}/my/{id}/{token}?new=1")))
            .header("Accept-Language", lang.code())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Furigana (on by default in easy Japanese) aside, the paragraph
        // is exactly the text.
        let plain = without_ruby(&html);
        assert!(plain.contains(&format!("<p>{next}</p>")), "{lang:?}");
    }

    // The confirmation e-mail is queued with the receipt number and link.
    let admin = app.staff(T, "dx-admin").await;
    let out = body(
        admin
            .get(app.url(&format!("/api/v1/t/{T}/staff/outbox")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mail = out["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "application.received")
        .expect("mail");
    assert_eq!(mail["recipient"], "taro@example.jp");
    assert!(mail["body"].as_str().unwrap().contains(receipt));
    // Staff see where the link leads, never the resident's key to it.
    assert!(!mail["body"].as_str().unwrap().contains(&token));
    assert!(mail["body"]
        .as_str()
        .unwrap()
        .contains(&format!("/t/{T}/my/{id}/********")));

    // An applicant writing in English gets the e-mail in English.
    let r = app
        .client()
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/test-permit/applications"
        )))
        .header("Idempotency-Key", "test-key-0000-apply-en-01")
        .header("Accept-Language", "en")
        .json(&json!({ "answers": good_answers() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let en_id = body(r).await["id"].as_str().unwrap().to_string();
    // Queued for delivery in the applicant's language, about their case;
    // the Japanese applicant's likewise. With no mail server in
    // development mode, delivery keeps them in the demo mailbox.
    for (case, lang) in [(&en_id, "en"), (&id, "ja")] {
        assert_eq!(
            eventually(
                app,
                &format!(
                    "SELECT COUNT(*) FROM outbox WHERE tenant = '{T}' AND kind = 'application.received' \
                     AND case_id = '{case}' AND lang = '{lang}' AND state = 'demo'"
                ),
                1
            )
            .await,
            1,
            "{lang}"
        );
    }
    let out = body(
        admin
            .get(app.url(&format!("/api/v1/t/{T}/staff/outbox")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        out["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["subject"] == "[Received] Your application: Test permit"),
        "{out}"
    );
    // The submission is in the audit log, and the chain is intact.
    let sec = app.staff(T, "security").await;
    let a = body(
        sec.get(app.url(&format!(
            "/api/v1/t/{T}/staff/audit?target=application:{id}&verify=true"
        )))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(a["items"][0]["action"], "application.submit");
    assert_eq!(a["chain_intact"], true);
}

async fn idempotent_resubmit(app: &TestApp) {
    create_test_procedure(app).await;
    let first = body(submit(app, "test-key-0000-idem-0001", good_answers()).await).await;
    let r = submit(app, "test-key-0000-idem-0001", good_answers()).await;
    assert_eq!(r.status(), 200);
    let second = body(r).await;
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["access_token"], second["access_token"]);
    assert_eq!(second["replayed"], true);
    // The same key for a different application is refused: a key never
    // opens someone else's case.
    let mut other = good_answers();
    other["postal"] = json!("100-0001");
    let r = submit(app, "test-key-0000-idem-0001", other).await;
    assert_eq!(r.status(), 409);
    let v = body(r).await;
    assert_eq!(v["error"]["code"], "MDG-409-idempotency_key");
    assert!(!v.to_string().contains("access_token"));
    // Twenty concurrent retries of a new key make exactly one case.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let url = app.url(&format!(
            "/api/v1/t/{T}/procedures/test-permit/applications"
        ));
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .header("Idempotency-Key", "test-key-0000-idem-concurrent")
                .json(&json!({"answers": good_answers()}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["id"]
                .clone()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'application.submit'")
            .await,
        2
    );
    // A missing key is refused with a message naming the header.
    let r = app
        .client()
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/test-permit/applications"
        )))
        .json(&json!({"answers": good_answers()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(body(r).await["error"]["fields"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
}

async fn bad_input_changes_nothing(app: &TestApp) {
    create_test_procedure(app).await;
    let before = app.count("SELECT COUNT(*) FROM applications").await;
    let mut a = good_answers();
    a["postal"] = json!("284-855");
    a["birth"] = json!("2026-02-30");
    a["my_number"] = json!("123456789017");
    a["purpose"] = json!("other");
    a["applicant"] = json!({"name": "山田<b>", "kana": "山田"});
    let r = submit(app, "test-key-0000-bad-00001", a).await;
    assert_eq!(r.status(), 422);
    let v = body(r).await;
    let fields = v["error"]["fields"].as_array().unwrap();
    let msg = |f: &str| {
        fields
            .iter()
            .find(|x| x["field"] == f)
            .and_then(|x| x["message"].as_str())
            .unwrap_or_else(|| panic!("no error for {f}: {fields:?}"))
            .to_string()
    };
    assert!(
        msg("postal").contains("「郵便番号」は7桁"),
        "{}",
        msg("postal")
    );
    assert!(
        msg("birth").contains("「生年月日」") && msg("birth").contains("2月30日"),
        "{}",
        msg("birth")
    );
    assert!(
        msg("my_number").contains("「個人番号」の番号が正しくありません"),
        "{}",
        msg("my_number")
    );
    assert!(msg("purpose_other").contains("「その他の使いみち」を入力してください"));
    assert!(msg("applicant").contains("「<」"));
    assert!(msg("applicant_kana").contains("カタカナ"));
    // English messages when asked.
    let r = app
        .client()
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/test-permit/applications"
        )))
        .header("Idempotency-Key", "test-key-0000-bad-00002")
        .header("Accept-Language", "en")
        .json(&json!({"answers": {"postal": "12"}}))
        .send()
        .await
        .unwrap();
    let v = body(r).await;
    assert!(
        v["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"] == "Enter Name."),
        "{v}"
    );
    // Malformed JSON: a clear 400.
    let r = app
        .client()
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/test-permit/applications"
        )))
        .header("Idempotency-Key", "test-key-0000-bad-00003")
        .header("content-type", "application/json")
        .body("{\"answers\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(body(r).await["error"]["detail"]
        .as_str()
        .unwrap()
        .contains("JSON"));
    // An attachment that is not really a PDF.
    let mut a = good_answers();
    a["doc"] =
        json!({"filename": "x.pdf", "content_type": "application/pdf", "data_base64": "PGh0bWw+"});
    let r = submit(app, "test-key-0000-bad-00004", a).await;
    assert_eq!(r.status(), 422);
    assert!(body(r).await["error"]["fields"][0]["message"]
        .as_str()
        .unwrap()
        .contains("PDF"));
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, before);
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM attachments").await, 0);
}

async fn oversized_body(app: &TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A client announcing a body over the limit gets 413 before sending it
    // (raw TCP, so the test does not race the server closing the socket).
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/t/{T}/procedures/juminhyo-copy/applications HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nIdempotency-Key: key-big-00001\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        13 * 1024 * 1024
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(b"{\"answers\": {\"x\": \"").await.unwrap();
    let mut resp = Vec::new();
    let _ =
        tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut resp)).await;
    let text = String::from_utf8_lossy(&resp);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("MDG-413"), "{text}");
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 0);
}

async fn attachments_and_drafts(app: &TestApp) {
    create_test_procedure(app).await;
    // An attachment through the API is stored with the case.
    let mut a = good_answers();
    a["doc"] = json!({"filename": "../証明書.pdf", "content_type": "application/pdf", "data_base64": "JVBERi0xLjQKJSVFT0YK"});
    let v = body(submit(app, "test-key-0000-att-00001", a).await).await;
    let id = v["id"].as_str().unwrap();
    let admin = app.staff(T, "dx-admin").await;
    let case = body(
        admin
            .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(case["answers"]["doc"]["filename"], "証明書.pdf");
    let aid = case["answers"]["doc"]["attachment_id"].as_str().unwrap();
    let r = admin
        .get(app.url(&format!("/t/{T}/staff/cases/{id}/attachments/{aid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"%PDF-1.4\n%%EOF\n");
    // Residents cannot fetch it.
    let r = app
        .client()
        .get(app.url(&format!("/t/{T}/staff/cases/{id}/attachments/{aid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // Drafts over the API.
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/drafts")))
        .json(&json!({"procedure_id": "test-permit", "answers": {"postal": "284"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = body(r).await["token"].as_str().unwrap().to_string();
    let r = app
        .client()
        .put(app.url(&format!("/api/v1/t/{T}/drafts/{token}")))
        .json(&json!({"answers": {"postal": "2848555", "email": "a@example.jp"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d = body(
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/drafts/{token}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(d["answers"]["postal"], "2848555");
    // Resuming through the browser sets the cookie and prefills the form.
    let browser = app.client();
    let r = browser
        .get(app.url(&format!("/t/{T}/drafts/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = browser
        .get(app.url(&format!("/t/{T}/procedures/test-permit/apply")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"2848555\""), "draft not prefilled");
    // Resuming moved the draft to a new token: the link's token is dead, so
    // whoever made the link cannot watch or change the resident's input.
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/{T}/drafts/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client()
        .get(app.url(&format!("/t/{T}/drafts/{}", "f".repeat(64))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// A fresh browser's CSRF cookie and the token its forms carry.
async fn csrf_pair(app: &TestApp, path: &str) -> (String, String) {
    let r = app.client().get(app.url(path)).send().await.unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("mdg_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("csrf cookie")
        .to_string();
    let token = testkit::csrf_in(&r.text().await.unwrap()).expect("csrf token");
    (cookie, token)
}

async fn html_apply_flow(app: &TestApp) {
    create_test_procedure(app).await;
    let b = app.client();
    let form_url = app.url(&format!("/t/{T}/procedures/test-permit/apply"));
    let token = app
        .csrf(&b, &format!("/t/{T}/procedures/test-permit/apply"))
        .await;
    // Without the form's token, nothing is accepted.
    let r = b
        .post(&form_url)
        .multipart(reqwest::multipart::Form::new().text("_action", "save"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("MDG-403-csrf"));
    assert_eq!(app.count("SELECT COUNT(*) FROM drafts").await, 0);
    // Errors: 422, the same page with an error summary linking to fields.
    let empty = reqwest::multipart::Form::new()
        .text("_csrf", token.clone())
        .text("_action", "review")
        .text("postal", "12");
    let r = b.post(&form_url).multipart(empty).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("class=\"error-summary\""));
    assert!(html.contains("href=\"#field-applicant\""));
    assert!(html.contains("「郵便番号」は7桁で入力してください（いま2桁です）。"));
    assert!(html.contains("value=\"12\""), "what was typed is kept");
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 0);
    // Save for later.
    let save = reqwest::multipart::Form::new()
        .text("_csrf", token.clone())
        .text("_action", "save")
        .text("postal", "284-8555");
    let html = b
        .post(&form_url)
        .multipart(save)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The resume link carries the same token as the draft cookie.
    let draft_token = html
        .split("/drafts/")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("resume link")
        .to_string();
    assert!(html.contains("一時保存しました") && html.contains("/drafts/"));
    // Valid input with an upload → check page → submit.
    let pdf = reqwest::multipart::Part::bytes(b"%PDF-1.7 test".to_vec())
        .file_name("doc.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let ok = reqwest::multipart::Form::new()
        .text("_csrf", token.clone())
        .text("_action", "review")
        .text("applicant", "佐藤 花子")
        .text("applicant_kana", "さとう はなこ")
        .text("postal", "2848555")
        .text("birth", "R1.5.1")
        .text("purpose", "other")
        .text("purpose_other", "銀行口座の開設")
        .part("doc", pdf);
    let r = b.post(&form_url).multipart(ok).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let check = b
        .get(app.url(&format!("/t/{T}/procedures/test-permit/apply/check")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        check.contains("令和元年5月1日（2019年）"),
        "date shown in both calendars"
    );
    assert!(check.contains("サトウ\u{3000}ハナコ"));
    assert!(check.contains("doc.pdf"));
    let submit_url = app.url(&format!("/t/{T}/procedures/test-permit/apply/submit"));
    let r = b
        .post(&submit_url)
        .form(&[("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let done = r.headers()["location"].to_str().unwrap().to_string();
    assert!(done.contains("/my/") && done.ends_with("?new=1"));
    // A double click: the second request still carries the draft cookie
    // and finds the same case, not a second one.
    let (csrf_cookie, csrf_token) = csrf_pair(app, &format!("/t/{T}/sign-in")).await;
    let r = app
        .client()
        .post(&submit_url)
        .header(
            "cookie",
            format!("mdg_draft_test-permit={draft_token}; mdg_csrf={csrf_cookie}"),
        )
        .form(&[("_csrf", &csrf_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"].to_str().unwrap(), done);
    // Without the draft's cookie nothing is revealed.
    let r = app
        .client()
        .post(&submit_url)
        .header("cookie", format!("mdg_csrf={csrf_cookie}"))
        .form(&[("_csrf", &csrf_token)])
        .send()
        .await
        .unwrap();
    assert!(!r.headers()["location"].to_str().unwrap().contains("/my/"));
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM drafts").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM attachments WHERE owner LIKE 'application:%'")
            .await,
        1
    );
    let page = b
        .get(app.url(&done))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("申請を受け付けました") && page.contains("panel__ref"));
    // English interface.
    let html = b
        .get(app.url("/t/122289/procedures?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Procedures"));
}

async fn correction_loop_and_approval(app: &TestApp) {
    create_test_procedure(app).await;
    let v = body(submit(app, "test-key-0000-flow-0001", good_answers()).await).await;
    let id = v["id"].as_str().unwrap().to_string();
    let token = v["access_token"].as_str().unwrap().to_string();
    let reviewer = app.staff(T, "reviewer").await;
    let approver = app.staff(T, "approver").await;
    let case_url = app.url(&format!("/api/v1/t/{T}/staff/cases/{id}"));
    let act = |c: &reqwest::Client, action: &str, version: i64, message: &str| {
        c.post(format!("{case_url}/actions"))
            .json(&json!({"action": action, "version": version, "message": message}))
            .send()
    };
    let case = body(reviewer.get(&case_url).send().await.unwrap()).await;
    assert_eq!(case["actions"], json!(["start_review"]));
    assert_eq!(
        act(&reviewer, "start_review", 1, "")
            .await
            .unwrap()
            .status(),
        200
    );
    // A stale version is a conflict and changes nothing.
    assert_eq!(
        act(&reviewer, "request_correction", 1, "x")
            .await
            .unwrap()
            .status(),
        409
    );
    // A correction needs a message.
    let r = act(&reviewer, "request_correction", 2, "  ").await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(body(r).await["error"]["fields"][0]["message"]
        .as_str()
        .unwrap()
        .contains("申請者へのメッセージ"));
    // A reviewer cannot approve.
    assert_eq!(
        act(&reviewer, "approve", 2, "").await.unwrap().status(),
        403
    );
    assert_eq!(
        act(
            &reviewer,
            "request_correction",
            2,
            "郵便番号をご確認ください。"
        )
        .await
        .unwrap()
        .status(),
        200
    );
    // The resident sees the request, on the page and by e-mail.
    let mine = body(
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/my/{id}/{token}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(mine["status"], "correction_requested");
    let html = app
        .client()
        .get(app.url(&format!("/t/{T}/my/{id}/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("郵便番号をご確認ください。") && html.contains("/correct"));
    assert_eq!(
        eventually(
            app,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE kind = 'application.correction_requested' \
                 AND case_id = '{id}' AND state = 'demo'"
            ),
            1
        )
        .await,
        1
    );
    // A bad correction is refused and changes nothing.
    let mut a = good_answers();
    a["postal"] = json!("1");
    let r = app
        .client()
        .put(app.url(&format!("/api/v1/t/{T}/my/{id}/{token}")))
        .json(&json!({"version": 3, "answers": a}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // The corrected resubmission goes back to review.
    let mut a = good_answers();
    a["postal"] = json!("284-0001");
    let r = app
        .client()
        .put(app.url(&format!("/api/v1/t/{T}/my/{id}/{token}")))
        .json(&json!({"version": 3, "answers": a}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let case = body(approver.get(&case_url).send().await.unwrap()).await;
    assert_eq!(case["status"], "under_review");
    assert_eq!(case["answers"]["postal"], "284-0001");
    assert_eq!(
        case["actions"],
        json!(["request_correction", "approve", "reject"])
    );
    let v = case["version"].as_i64().unwrap();
    assert_eq!(
        act(&approver, "approve", v, "").await.unwrap().status(),
        200
    );
    // Completion needs the clerk role: the approver alone cannot.
    assert_eq!(
        act(&approver, "complete", v + 1, "")
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        act(&reviewer, "complete", v + 1, "")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        act(&reviewer, "complete", v + 2, "")
            .await
            .unwrap()
            .status(),
        409
    );
    // Comments and assignment.
    let r = reviewer
        .post(format!("{case_url}/comments"))
        .json(&json!({"text": "電話で確認済み"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = reviewer
        .post(format!("{case_url}/assign"))
        .json(&json!({"assignee": "kodomo", "version": v + 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        422,
        "cannot assign to another department's staff"
    );
    let r = reviewer
        .post(format!("{case_url}/assign"))
        .json(&json!({"assignee": "approver", "version": v + 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Full history, in order, and every change audited in the same chain.
    let case = body(reviewer.get(&case_url).send().await.unwrap()).await;
    let kinds: Vec<&str> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "start_review",
            "request_correction",
            "resubmitted",
            "approve",
            "complete",
            "comment",
            "assign"
        ]
    );
    let sec = app.staff(T, "security").await;
    let a = body(
        sec.get(app.url(&format!(
            "/api/v1/t/{T}/staff/audit?target=application:{id}&verify=true"
        )))
        .send()
        .await
        .unwrap(),
    )
    .await;
    let actions: Vec<&str> = a["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for wanted in [
        "application.submit",
        "application.view",
        "application.transition",
        "application.resubmit",
        "application.comment",
        "application.assign",
    ] {
        assert!(
            actions.contains(&wanted),
            "{wanted} missing from {actions:?}"
        );
    }
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "application.transition")
            .count(),
        4
    );
    assert_eq!(a["chain_intact"], true);
    // Security officers read the log in the back office; others may not.
    let html = sec
        .get(app.url(&format!(
            "/t/{T}/staff/audit?target=application:{id}&verify=1"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("改ざんはありません") && html.contains("application.resubmit"),
        "audit page"
    );
    let r = reviewer
        .get(app.url(&format!("/t/{T}/staff/audit")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'audit.view'")
            .await
            >= 1
    );
    assert!(matches!(
        kernel::audit::verify(&app.app.db, T).await.unwrap(),
        kernel::audit::Verify::Intact { .. }
    ));
}

async fn access_is_scoped(app: &TestApp) {
    create_test_procedure(app).await;
    let v = body(submit(app, "test-key-0000-scope-001", good_answers()).await).await;
    let id = v["id"].as_str().unwrap();
    // Anonymous: 401 on the API, sign-in redirect on pages.
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client()
        .get(app.url(&format!("/t/{T}/staff/cases/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // Another department's staff do not see the case exist.
    let kodomo = app.staff(T, "kodomo").await;
    let r = kodomo
        .get(app.url(&format!("/api/v1/t/{T}/staff/cases/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let list = body(
        kodomo
            .get(app.url(&format!("/api/v1/t/{T}/staff/cases")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 0);
    // The department's own list names applicants but carries no answers.
    let reviewer = app.staff(T, "reviewer").await;
    let own = body(
        reviewer
            .get(app.url(&format!("/api/v1/t/{T}/staff/cases")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(own["total"], 1);
    assert!(own["items"][0].get("answers").is_none() && own["items"][0].get("email").is_none());
    // A query string that does not parse: a clear 400 with a code.
    let r = reviewer
        .get(app.url(&format!("/api/v1/t/{T}/staff/cases?page=x")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(body(r).await["error"]["code"], "MDG-400");
    let r = app
        .client()
        .get(app.url(&format!("/t/{T}/procedures?q=a&q=b")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("MDG-400"));
    // Staff of tenant 122289 get nothing from tenant 242021.
    let reviewer = app.staff(T, "reviewer").await;
    for path in [
        "/api/v1/t/242021/staff/cases",
        &format!("/api/v1/t/242021/staff/cases/{id}"),
        "/api/v1/t/242021/staff/outbox",
    ] {
        let r = reviewer.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert!(!r.text().await.unwrap().contains(id));
    }
    // The resident link of one tenant does not open in another.
    let token = v["access_token"].as_str().unwrap();
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/242021/my/{id}/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A clerk cannot import the catalogue; the outbox is for administrators.
    let clerk = app.staff(T, "clerk").await;
    assert_eq!(
        clerk
            .get(app.url(&format!("/api/v1/t/{T}/staff/outbox")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        clerk
            .post(app.url(&format!("/api/v1/t/{T}/staff/catalogue?format=json")))
            .header("content-type", "application/json")
            .body("[]")
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // Wrong password.
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/staff/session")))
        .json(&json!({"id": "reviewer", "password": "wrong", "code": "000000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let c = app.client();
    let token = app.csrf(&c, &format!("/t/{T}/staff/sign-in")).await;
    let r = c
        .post(app.url(&format!("/t/{T}/staff/sign-in")))
        .form(&[("_csrf", token.as_str()), ("id", ""), ("password", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("「職員ID」を入力してください。"));
    // Signing out ends the session on the server, not only in the browser.
    let clerk = app.staff(T, "clerk").await;
    let html = clerk
        .get(app.url(&format!("/t/{T}/staff/cases")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("/staff/sign-out"), "sign-out offered");
    let token = testkit::csrf_in(&html).expect("token");
    let r = clerk
        .post(app.url(&format!("/t/{T}/staff/sign-out")))
        .form(&[("_csrf", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = clerk
        .get(app.url(&format!("/api/v1/t/{T}/staff/cases")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn catalogue_editing(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let url = app.url(&format!("/api/v1/t/{T}/staff/catalogue"));
    let csv = admin
        .get(format!("{url}?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("\u{FEFF}id,department,name_ja"));
    // Change one fee in the spreadsheet; a dry run changes nothing.
    let edited = csv.replacen(",both,my_number_card,300,", ",both,my_number_card,350,", 1);
    assert_ne!(edited, csv);
    let r = body(
        admin
            .post(format!("{url}?format=csv&dry_run=true"))
            .header("content-type", "text/csv")
            .body(edited.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r["updated"], 1);
    let same = admin
        .get(format!("{url}?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(same, csv);
    let r = body(
        admin
            .post(format!("{url}?format=csv"))
            .header("content-type", "text/csv")
            .body(edited.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (r["created"].as_i64(), r["updated"].as_i64()),
        (Some(0), Some(1))
    );
    // A broken row: nothing is imported, the row and column are named.
    let broken = edited.replacen(",both,", ",postal,", 1);
    let r = admin
        .post(format!("{url}?format=csv"))
        .header("content-type", "text/csv")
        .body(broken)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let msg = body(r).await["error"]["fields"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("行目「channels」"), "{msg}");
    // Optimistic editing: a stale version is refused.
    let p = body(
        admin
            .get(app.url(&format!("/api/v1/t/{T}/procedures/juminhyo-copy")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let version = p["version"].as_i64().unwrap();
    let original_fee = p["fee_yen"].clone();
    let mut proc_body = p.clone();
    for k in ["version", "updated_at", "answers_schema"] {
        proc_body.as_object_mut().unwrap().remove(k);
    }
    proc_body["fee_yen"] = json!(400);
    let put = |v: i64, body: Value| {
        admin
            .put(app.url(&format!("/api/v1/t/{T}/staff/procedures/juminhyo-copy")))
            .json(&json!({"procedure": body, "version": v}))
            .send()
    };
    assert_eq!(put(version, proc_body.clone()).await.unwrap().status(), 200);
    assert_eq!(put(version, proc_body.clone()).await.unwrap().status(), 409);
    // Invalid: unknown department, named in Japanese.
    proc_body["department"] = json!("nowhere");
    let r = put(version + 1, proc_body.clone()).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(body(r).await["error"]["fields"][0]["message"]
        .as_str()
        .unwrap()
        .contains("担当課"));
    // Undo through the back office: restore the previous version.
    let token = app
        .csrf(&admin, &format!("/t/{T}/staff/catalogue/juminhyo-copy"))
        .await;
    let r = admin
        .post(app.url(&format!("/t/{T}/staff/catalogue/juminhyo-copy/restore")))
        .form(&[
            ("_csrf", token),
            ("restore_version", (version).to_string()),
            ("version", (version + 1).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let p = body(
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/procedures/juminhyo-copy")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p["fee_yen"], original_fee);
    assert_eq!(p["version"], version + 2);
    // A department admin cannot edit another department's procedure: a
    // valid body (the same one the system admin then saves) gets 403.
    let mut valid = p.clone();
    for k in ["version", "updated_at", "answers_schema"] {
        valid.as_object_mut().unwrap().remove(k);
    }
    let body = json!({"procedure": valid, "version": version + 2});
    let kodomo = app.staff(T, "kodomo").await;
    let r = kodomo
        .put(app.url(&format!("/api/v1/t/{T}/staff/procedures/juminhyo-copy")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin
        .put(app.url(&format!("/api/v1/t/{T}/staff/procedures/juminhyo-copy")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn kpi_figures(app: &TestApp) {
    let clerk = app.staff("242021", "clerk").await;
    // Online: 3 applications for online-capable procedures.
    for i in 0..3 {
        let r = app
            .client()
            .post(app.url("/api/v1/t/242021/procedures/smartphone-class/applications"))
            .header("Idempotency-Key", format!("test-key-kpi-online-{i:04}"))
            .json(&json!({"answers": {
                "applicant": {"name": "伊藤 結衣", "kana": "イトウ ユイ"},
                "phone": "059-354-8111",
                "course": "basics",
                "venue": "tomida",
                "device": "android"
            }}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    // Counter: 1 for a counter-only procedure (印鑑登録証明書, its paper form
    // entered by the clerk), proxy: 1; each with the identity document the
    // clerk checked, which is required (422, nothing written, without it).
    let counter_only = "inkan-shomei";
    let answers = json!({
        "applicant": {"name": "伊藤 結衣", "kana": "イトウ ユイ"},
        "birth_date": "1990-04-01",
        "address": "三重県四日市市諏訪町1番5号",
        "copies": 1,
        "who": "self",
    });
    let entered = |ch: &'static str, key: &'static str, document: &'static str| {
        clerk
            .post(app.url(&format!(
                "/api/v1/t/242021/staff/procedures/{counter_only}/applications"
            )))
            .header("Idempotency-Key", key)
            .json(&json!({"channel": ch, "answers": answers, "identity_document": document}))
            .send()
    };
    let r = entered("counter", "test-key-kpi-nodoc-01", "")
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e = body(r).await;
    assert_eq!(e["error"]["fields"][0]["field"], "identity_document", "{e}");
    assert_eq!(
        e["error"]["fields"][0]["message"],
        "「本人確認書類」を選んでください。"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM applications").await, 3);
    for (ch, key) in [
        ("counter", "test-key-kpi-counter-01"),
        ("proxy", "test-key-kpi-proxy-001"),
    ] {
        let r = entered(ch, key, "residence_card").await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM case_identity_checks WHERE tenant = '242021' AND document = 'residence_card' AND checked_by = 'clerk'")
            .await,
        2
    );
    let r = clerk
        .post(app.url(&format!(
            "/api/v1/t/242021/staff/procedures/{counter_only}/applications"
        )))
        .header("Idempotency-Key", "test-key-kpi-bad-00001")
        .json(&json!({"channel": "online", "answers": answers, "identity_document": "passport"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let k = body(
        app.client()
            .get(app.url("/api/v1/t/242021/kpi"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(k["applications_total"], 5);
    assert_eq!(
        k["by_channel"][0],
        json!({"channel": "online", "count": 3, "share": 0.6})
    );
    assert_eq!(k["by_channel"][1]["count"], 1);
    assert_eq!(k["by_channel"][2]["count"], 1);
    assert_eq!(k["applications_online_capable"], 3);
    assert_eq!(k["applications_online_capable_share"], 0.6);
    assert_eq!(k["applications_online_capable_target"], 0.4);
    let total = k["procedures_total"].as_f64().unwrap();
    let online = k["procedures_online"].as_f64().unwrap();
    assert!((k["procedures_online_share"].as_f64().unwrap() - online / total).abs() < 1e-9);
    // Another fiscal year is empty; a bad year is a clear 400.
    let k = body(
        app.client()
            .get(app.url("/api/v1/t/242021/kpi?fy=R1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(k["applications_total"], 0);
    assert_eq!(k["fiscal_year_label"], "令和元年度");
    let r = app
        .client()
        .get(app.url("/api/v1/t/242021/kpi?fy=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // The staff page shows the same figure.
    let html = clerk
        .get(app.url("/t/242021/staff/kpi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("60.0%") && html.contains("目標：40.0%"),
        "kpi page"
    );
}

async fn openapi_and_health(app: &TestApp) {
    let spec = body(
        app.client()
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 20);
    // Every documented path exists (no 404/405 from the router), tried
    // with the demo tenant and a procedure id.
    let c = app.client();
    for (path, ops) in paths {
        let concrete = path
            .replace("{tenant}", T)
            .replace("{id}", "juminhyo-copy")
            .replace("{token}", &"0".repeat(64))
            .replace("{receipt}", "000000000000")
            .replace("{entryAction}", "submit");
        for method in ops.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = c.request(m, app.url(&concrete)).send().await.unwrap();
            assert_ne!(r.status(), 405, "{method} {path}");
            if r.status() == 404 {
                let b = body(r).await;
                let code = b["error"]["code"].as_str().unwrap();
                assert_ne!(code, "MDG-404-page", "{method} {path} is not routed");
            }
        }
    }
    let r = c
        .get(app.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(body(r).await["error"]["code"], "MDG-404-page");
    let h = body(c.get(app.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(h["status"], "ok");
    assert_eq!(
        h["database"],
        if app.backend == testkit::Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    // Security headers on every response.
    let r = c.get(app.url("/")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let css = c
        .get(app.url("/static/madoguchi.css"))
        .send()
        .await
        .unwrap();
    assert!(css.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));
}

/// Tenant isolation: every documented endpoint called by staff of 四街道市
/// (every role) against 四日市市's case is refused, and no error body carries
/// the other tenant's personal data.
async fn tenant_isolation_matrix(app: &TestApp) {
    // A case in 四日市市 with a name that must never leak.
    let r = app
        .client()
        .post(app.url("/api/v1/t/242021/procedures/smartphone-class/applications"))
        .header("Idempotency-Key", "test-key-isolation-0001")
        .json(&json!({"answers": {
            "applicant": {"name": "秘密 花子", "kana": "ヒミツ ハナコ"},
            "phone": "059-354-8111", "course": "basics", "venue": "tomida", "device": "android"
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v = body(r).await;
    let other_id = v["id"].as_str().unwrap().to_string();
    let other_token = v["access_token"].as_str().unwrap().to_string();
    let spec = body(
        app.client()
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    for who in [
        "dx-admin", "security", "clerk", "reviewer", "approver", "kodomo",
    ] {
        let c = app.staff(T, who).await;
        for (path, ops) in spec["paths"].as_object().unwrap() {
            // Public endpoints (catalogue, KPI) are public for every tenant;
            // sign-in and sign-out concern no resource of the other tenant.
            if !path.contains("/staff/") || path.ends_with("/staff/session") {
                continue;
            }
            let concrete = path
                .replace("{tenant}", "242021")
                .replace("{id}", &other_id)
                .replace("{receipt}", &other_id)
                .replace("{token}", &other_token);
            for method in ops.as_object().unwrap().keys() {
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let r = c
                    .request(m, app.url(&concrete))
                    .header("Idempotency-Key", "test-key-isolation-attack")
                    .json(&json!({"action": "approve", "version": 1, "text": "x", "assignee": "clerk", "channel": "proxy", "answers": {}}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let text = r.text().await.unwrap();
                assert!(
                    [401, 403, 404].contains(&status),
                    "{who}: {method} {concrete} gave {status}: {text}"
                );
                assert!(
                    !text.contains("秘密") && !text.contains("ヒミツ"),
                    "{who}: {method} {concrete} leaked: {text}"
                );
            }
        }
        // The back-office pages likewise.
        for page in [
            "cases",
            &format!("cases/{other_id}"),
            "catalogue",
            "kpi",
            "audit",
            "admin",
            "account",
        ] {
            let r = c
                .get(app.url(&format!("/t/242021/staff/{page}")))
                .send()
                .await
                .unwrap();
            assert!(
                matches!(r.status().as_u16(), 303 | 401 | 403 | 404),
                "{who}: page {page} gave {}",
                r.status()
            );
            assert!(
                !r.text().await.unwrap().contains("秘密"),
                "{who}: page {page} leaked"
            );
        }
        // And every form, with a valid CSRF token (so that only the
        // tenant check stands in the way).
        let token = app.csrf(&c, &format!("/t/{T}/staff/account")).await;
        for action in [
            format!("cases/{other_id}/action"),
            format!("cases/{other_id}/comment"),
            format!("cases/{other_id}/assign"),
            format!("cases/{other_id}/reveal"),
            "catalogue/import".to_string(),
            "catalogue/new".to_string(),
            "catalogue/smartphone-class".to_string(),
            "catalogue/smartphone-class/restore".to_string(),
            "admin".to_string(),
            "admin/dx-admin".to_string(),
            "account/password".to_string(),
            "account/recovery-codes".to_string(),
            "account/sign-out-everywhere".to_string(),
        ] {
            let r = c
                .post(app.url(&format!("/t/242021/staff/{action}")))
                .form(&[
                    ("_csrf", token.as_str()),
                    ("action", "unlock"),
                    ("comment", "x"),
                    ("id", "intruder"),
                    ("roles", "system_admin"),
                ])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let to_sign_in = r
                .headers()
                .get("location")
                .is_some_and(|l| l.to_str().unwrap().contains("/staff/sign-in"));
            let text = r.text().await.unwrap();
            assert!(
                [401, 403, 404].contains(&status) || status == 303 && to_sign_in,
                "{who}: POST {action} gave {status}"
            );
            assert!(!text.contains("秘密"), "{who}: POST {action} leaked");
        }
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff WHERE id = 'intruder'")
            .await,
        0
    );
    // Signing out at the other tenant's address does not end this session.
    let c = app.staff(T, "clerk").await;
    let r = c
        .delete(app.url("/api/v1/t/242021/staff/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        c.get(app.url(&format!("/api/v1/t/{T}/staff/cases")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Nothing changed in 四日市市.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM application_events WHERE tenant = '242021'")
            .await,
        1,
        "only the submission event"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM applications WHERE tenant = '242021'")
            .await,
        1
    );
}

/// Drafts are kept 30 days after their last save; the housekeeping job
/// queued as each server starts (and scheduled once per deployment every
/// `HOUSEKEEPING_EVERY`) deletes the expired ones with their uploads and
/// keeps the others. A second server started on the same database queues
/// it as it starts.
async fn expired_drafts_are_purged(app: &TestApp) {
    create_test_procedure(app).await;
    let new_draft = |answers: Value| async move {
        let r = app
            .client()
            .post(app.url(&format!("/api/v1/t/{T}/drafts")))
            .json(&json!({"procedure_id": "test-permit", "answers": answers}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        body(r).await["token"].as_str().unwrap().to_string()
    };
    // One draft saved from the form with an upload.
    let b = app.client();
    let path = format!("/t/{T}/procedures/test-permit/apply");
    let csrf = app.csrf(&b, &path).await;
    let pdf = reqwest::multipart::Part::bytes(b"%PDF-1.7 draft".to_vec())
        .file_name("draft.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let save = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("_action", "save")
        .text("postal", "284")
        .part("doc", pdf);
    let html = b
        .post(app.url(&path))
        .multipart(save)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let old = html
        .split("/drafts/")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("resume link")
        .to_string();
    let uploads = "SELECT COUNT(*) FROM attachments WHERE owner LIKE 'draft:%'";
    assert_eq!(app.count(uploads).await, 1);
    // Its 30 days are over (as if last saved long ago).
    let aged = sqlx::query("UPDATE drafts SET expires_at = 1")
        .execute(app.app.db.write())
        .await
        .unwrap();
    assert_eq!(aged.rows_affected(), 1);
    let young = new_draft(json!({"postal": "510"})).await;

    let second = server::App::start((*app.app.config).clone())
        .await
        .expect("a second server on the same database");
    let mut left = app.count("SELECT COUNT(*) FROM drafts").await;
    for _ in 0..100 {
        if left == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        left = app.count("SELECT COUNT(*) FROM drafts").await;
    }
    assert_eq!(
        left, 1,
        "the expired draft is gone within 10 s of the start"
    );
    assert_eq!(app.count(uploads).await, 0, "with its upload");
    let get = |token: String| async move {
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/drafts/{token}")))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(get(old).await, StatusCode::NOT_FOUND);
    assert_eq!(get(young).await, StatusCode::OK);
    drop(second);
}

testkit::on_both_backends!(
    catalogue,
    apply_and_track,
    idempotent_resubmit,
    bad_input_changes_nothing,
    oversized_body,
    attachments_and_drafts,
    html_apply_flow,
    correction_loop_and_approval,
    access_is_scoped,
    catalogue_editing,
    kpi_figures,
    openapi_and_health,
    tenant_isolation_matrix,
    expired_drafts_are_purged,
);

/// Behind HTTPS the server sends HSTS and marks its cookies Secure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_deployment_headers() {
    let app = TestApp::spawn_with(testkit::Backend::Sqlite, |c| {
        c.public_url = "https://madoguchi.example.jp".into()
    })
    .await
    .unwrap();
    let r = app.client().get(app.url("/")).send().await.unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
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
        .expect("session cookie")
        .to_string();
    assert!(
        cookie.contains("; Secure")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    app.cleanup().await;
    // Plain HTTP (the demo): no HSTS.
    let app = TestApp::spawn(testkit::Backend::Sqlite).await.unwrap();
    let r = app.client().get(app.url("/")).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    app.cleanup().await;
}

/// The command line as an operator uses it: demo twice (nothing
/// duplicated), export, import (dry run and a broken file), check-config.
#[test]
fn command_line() {
    let bin = env!("CARGO_BIN_EXE_madoguchi");
    let dir = std::env::temp_dir().join(format!("madoguchi-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("cli.db").display());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(args)
            .env_remove("MADOGUCHI_BIND")
            .env("MADOGUCHI_MODE", "development")
            .env("MADOGUCHI_DATABASE_URL", &db)
            .env("MADOGUCHI_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = run(&["demo", "--no-serve", "--applications", "12"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("2 municipalities") && out.contains("24 applications new (0 already there)"),
        "{out}"
    );
    let (ok, out) = run(&["demo", "--no-serve", "--applications", "12"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("0 procedures new, 0 FAQ entries new, 0 applications new (24 already there)"),
        "{out}"
    );

    let csv = dir.join("p.csv");
    let (ok, out) = run(&["export", "--tenant", "122289", csv.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "import",
        "--tenant",
        "122289",
        "--dry-run",
        csv.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert!(
        out.contains("(dry run) created 0, updated 0, unchanged"),
        "{out}"
    );
    let broken = dir.join("broken.csv");
    std::fs::write(&broken, "id,department,name_ja,channels,identity_level,fee_yen,processing_time_ja\nx,madoguchi,テスト,nowhere,none,0,即日\n").unwrap();
    let (ok, out) = run(&["import", "--tenant", "122289", broken.to_str().unwrap()]);
    assert!(!ok);
    assert!(out.contains("2行目「channels」"), "{out}");
    let (ok, out) = run(&["import", "--tenant", "999999", csv.to_str().unwrap()]);
    assert!(!ok && out.contains("自治体 999999 はありません"), "{out}");

    // The audit chain: intact, exported for auditors, and a direct edit of
    // one row in the database is found and named.
    let (ok, out) = run(&["audit", "verify", "--tenant", "122289"]);
    assert!(ok && out.contains("改ざんされていません"), "{out}");
    let export = dir.join("audit.csv");
    let (ok, out) = run(&[
        "audit",
        "export",
        "--tenant",
        "122289",
        "--from",
        "令和7年4月1日",
        "--to",
        "2099-12-31",
        export.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let csv = std::fs::read_to_string(&export).unwrap();
    assert!(csv.starts_with("\u{FEFF}seq,at,actor,action,target,detail,prev_hash,hash\n"));
    assert!(csv.lines().count() > 10 && csv.contains("application.submit"));
    let (ok, out) = run(&[
        "audit",
        "export",
        "--tenant",
        "122289",
        "--from",
        "2026-02-30",
        "--to",
        "2026-03-01",
        "-",
    ]);
    assert!(!ok && out.contains("開始日"), "{out}");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db).await.unwrap();
        sqlx::Executor::execute(
            &mut conn,
            "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'staff:someone-else' WHERE tenant = '122289' AND seq = 3",
        )
        .await
        .unwrap();
    });
    let (ok, out) = run(&["audit", "verify", "--tenant", "122289"]);
    assert!(!ok && out.contains("第3件目"), "{out}");

    let (ok, out) = run(&["check-config"]);
    assert!(ok && out.contains("database: OK (sqlite)"), "{out}");
    let out = std::process::Command::new(bin)
        .args(["check-config"])
        .env("MADOGUCHI_BIND", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bind"));
    // Every setting .env.example documents is accepted; a typo is named.
    let out = std::process::Command::new(bin)
        .args(["check-config"])
        .env("MADOGUCHI_MODE", "development")
        .env("MADOGUCHI_DATABASE_URL", &db)
        .env("MADOGUCHI_DEMO_REGISTRY", "false")
        .env("MADOGUCHI_PDF_FONT", "/usr/share/fonts/none.ttf")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("pdf_font = /usr/share/fonts/none.ttf"),
        "{text}"
    );
    let out = std::process::Command::new(bin)
        .args(["check-config"])
        .env("MADOGUCHI_MODE", "development")
        .env("MADOGUCHI_DATABASE_URL", &db)
        .env("MADOGUCHI_PDF_FONTS", "x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("環境変数 MADOGUCHI_PDF_FONTS は使われていません"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Key rotation and the security commands as an operator uses them:
/// `keygen`, `rekey` (old key first kept, then dropped), `staff add` with
/// the password rules, and a production configuration that refuses the
/// development identity provider.
#[test]
fn key_rotation_and_staff_commands() {
    let bin = env!("CARGO_BIN_EXE_madoguchi");
    let dir = std::env::temp_dir().join(format!("madoguchi-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("keys.db").display());
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(bin);
        cmd.args(args)
            .env_remove("MADOGUCHI_BIND")
            .env("MADOGUCHI_MODE", "development")
            .env("MADOGUCHI_DATABASE_URL", &db)
            .env("MADOGUCHI_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let key = |id: &str| {
        let (ok, out) = run(&["keygen", "--id", id], &[]);
        assert!(ok, "{out}");
        out.lines().next().unwrap().trim().to_string()
    };
    let (k1, k2) = (key("k1"), key("k2"));
    assert!(k1.starts_with("k1:") && k2.starts_with("k2:"));
    let (ok, out) = run(
        &["demo", "--no-serve", "--applications", "8"],
        &[("MADOGUCHI_ENCRYPTION_KEYS", &k1)],
    );
    assert!(ok, "{out}");
    let sealed_with = |kid: &str| {
        let kid = kid.to_string();
        let db = db.clone();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db)
                    .await
                    .unwrap();
                let n: i64 = sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM staff WHERE totp_secret LIKE 'mdg1:{kid}:%'"
                ))
                .fetch_one(&mut conn)
                .await
                .unwrap();
                n
            })
    };
    assert_eq!(sealed_with("k1"), 14, "demo staff secrets sealed with k1");
    // A filed assisted entry (書かない窓口) with a sealed マイナンバー and
    // signature (filed: housekeeping keeps it).
    let sql = |q: String| {
        let db = db.clone();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db)
                    .await
                    .unwrap();
                sqlx::query_scalar::<_, i64>(&q)
                    .fetch_optional(&mut conn)
                    .await
                    .unwrap()
            })
    };
    let v1 = kernel::crypto::Vault::from_specs(&[k1.as_str()]).unwrap();
    let input = serde_json::json!({"input": {"values": {"applicant_my_number": kernel::crypto::sealed_value(&v1, "122289", "123456789018")}}});
    let signature =
        kernel::crypto::sealed_value(&v1, "122289", "{\"strokes\":[[[1.0,1.0],[2.0,2.0]]]}");
    sql(format!(
        "INSERT INTO assisted_entries (tenant, id, procedure_id, input, verified, status, signature, signature_method, application_id, department, created_by, created_at, updated_at, version) \
         VALUES ('122289', 'rekeytest', 'jido-teate', '{input}', '{{}}', 'submitted', '{signature}', 'screen', '202600000012', 'madoguchi', 'staff:clerk', 0, 0, 1)"
    ));
    let assisted_with = |kid: &str| {
        sql(format!(
            "SELECT COUNT(*) FROM assisted_entries WHERE input LIKE '%mdg1:{kid}:%' AND signature LIKE '%mdg1:{kid}:%'"
        ))
        .unwrap()
    };
    assert_eq!(assisted_with("k1"), 1);
    // Rotate: new key first, old key still listed.
    let both = format!("{k2},{k1}");
    let (ok, out) = run(&["rekey"], &[("MADOGUCHI_ENCRYPTION_KEYS", &both)]);
    assert!(
        ok && out.contains("re-encrypted with key k2")
            && out.contains("14 staff")
            && out.contains("2 assisted-entry values")
            && out.contains("8 payers of charges"),
        "{out}"
    );
    assert_eq!((sealed_with("k1"), sealed_with("k2")), (0, 14));
    assert_eq!((assisted_with("k1"), assisted_with("k2")), (0, 1));
    // Now the old key can go: everything opens with k2 alone.
    let (ok, out) = run(&["rekey"], &[("MADOGUCHI_ENCRYPTION_KEYS", &k2)]);
    assert!(ok && out.contains("0 staff"), "{out}");
    // k1 alone no longer opens anything, and says so.
    let (ok, out) = run(&["rekey"], &[("MADOGUCHI_ENCRYPTION_KEYS", &k1)]);
    assert!(!ok && out.contains("復号できません"), "{out}");
    // A bad key is refused with the reason.
    let (ok, out) = run(
        &["check-config"],
        &[("MADOGUCHI_ENCRYPTION_KEYS", "k1:c2hvcnQ=")],
    );
    assert!(!ok && out.contains("32 バイト"), "{out}");

    // The first administrator from the command line, under the password rules.
    let add = |password: &str, id: &str| {
        run(
            &[
                "staff",
                "add",
                "--tenant",
                "122289",
                "--id",
                id,
                "--name",
                "情報 管理者",
                "--department",
                "digital",
                "--roles",
                "system_admin",
            ],
            &[
                ("MADOGUCHI_ENCRYPTION_KEYS", &k2),
                ("MADOGUCHI_NEW_PASSWORD", password),
            ],
        )
    };
    let (ok, out) = add("password1234", "first-admin");
    assert!(!ok && out.contains("よく使われている"), "{out}");
    let (ok, out) = add("sakura-chiru-yuugure-2026", "first-admin");
    assert!(ok && out.contains("first-admin"), "{out}");
    let (ok, out) = add("sakura-chiru-yuugure-2026", "first-admin");
    assert!(!ok && out.contains("既に使われています"), "{out}");

    // Production: the development identity provider cannot be enabled.
    let (ok, out) = run(
        &["check-config"],
        &[
            ("MADOGUCHI_MODE", "production"),
            ("MADOGUCHI_PUBLIC_URL", "https://madoguchi.example.jp"),
            ("MADOGUCHI_ENCRYPTION_KEYS", &k2),
            ("MADOGUCHI_DEV_IDENTITY_PROVIDER", "true"),
        ],
    );
    assert!(
        !ok && out.contains("dev_identity_provider") && out.contains("本番"),
        "{out}"
    );
    let (ok, out) = run(
        &["check-config"],
        &[
            ("MADOGUCHI_MODE", "production"),
            ("MADOGUCHI_PUBLIC_URL", "https://madoguchi.example.jp"),
        ],
    );
    assert!(!ok && out.contains("keygen"), "{out}");

    // The demo (published passwords) refuses a municipality's real database.
    let real = format!("sqlite://{}", dir.join("real.db").display());
    let (ok, out) = run(&["migrate", "--database-url", &real], &[]);
    assert!(ok, "{out}");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&real).await.unwrap();
        sqlx::Executor::execute(
            &mut conn,
            "INSERT INTO tenants (tenant, name_ja, profile, created_at) VALUES ('999999', '試験市', '{}', 0)",
        )
        .await
        .unwrap();
    });
    let (ok, out) = run(&["demo", "--no-serve", "--database-url", &real], &[]);
    assert!(!ok && out.contains("既に自治体のデータがあります"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
