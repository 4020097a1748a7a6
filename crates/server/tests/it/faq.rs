//! FAQ and staff knowledge over HTTP, on SQLite and PostgreSQL: residents
//! and the public API see only published public entries; knowledge is for
//! signed-in staff of the tenant; staff create, edit, withdraw and restore
//! entries (audited, with the catalogue's role rule); feedback counts one
//! vote per entry per browser.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

async fn get_json(c: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let r = c.get(url).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn text(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Ids of the tenant's entries with `audience`, from the staff API.
async fn ids(app: &TestApp, staff: &reqwest::Client, tenant: &str, audience: &str) -> Vec<i64> {
    let (s, v) = get_json(staff, app.url(&format!("/api/v1/t/{tenant}/staff/faq"))).await;
    assert_eq!(s, StatusCode::OK);
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["entry"]["audience"] == audience)
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

async fn audience_isolation(app: &TestApp) {
    let resident = app.client();
    let admin = app.staff("122289", "dx-admin").await;
    let knowledge = ids(app, &admin, "122289", "staff").await;
    let public = ids(app, &admin, "122289", "public").await;
    assert!(
        knowledge.len() >= 3 && public.len() >= 15,
        "demo data loaded"
    );

    // The public list and API: public entries only.
    let (s, v) = get_json(&resident, app.url("/api/v1/t/122289/faq")).await;
    assert_eq!(s, StatusCode::OK);
    let listed: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed.len(), public.len());
    assert!(knowledge.iter().all(|k| !listed.contains(k)));
    let (_, html) = text(&resident, app.url("/t/122289/faq")).await;
    assert!(html.contains("住民票の写しはどこで取れますか"));
    assert!(
        !html.contains("【窓口】"),
        "no knowledge on the public list"
    );
    for k in &knowledge {
        let (s, _) = text(&resident, app.url(&format!("/t/122289/faq/{k}"))).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "resident page of knowledge {k}");
        let (s, v) = get_json(&resident, app.url(&format!("/api/v1/t/122289/faq/{k}"))).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(v["error"]["code"], "MDG-404-faq");
        let r = resident
            .post(app.url(&format!("/api/v1/t/122289/faq/{k}/feedback")))
            .json(&json!({"helpful": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "no votes on knowledge");
    }
    // Staff API and knowledge pages without a staff session: refused.
    let (s, _) = get_json(&resident, app.url("/api/v1/t/122289/staff/faq")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = get_json(
        &resident,
        app.url(&format!("/api/v1/t/122289/staff/faq/{}", knowledge[0])),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = resident
        .get(app.url("/t/122289/staff/knowledge"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "to the staff sign-in");
    // A resident signed in is still not staff.
    let signed_in = app.resident("122289", "my_number_card").await;
    let r = signed_in
        .get(app.url("/t/122289/staff/knowledge"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "to the staff sign-in");
    // Staff of another municipality see nothing of this one.
    let other = app.staff("242021", "dx-admin").await;
    let (s, _) = get_json(&other, app.url("/api/v1/t/122289/staff/faq")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = other
        .get(app.url(&format!("/t/122289/staff/knowledge/{}", knowledge[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "to the staff sign-in");
    // Any member of staff of the tenant reads the knowledge (a clerk too).
    let clerk = app.staff("122289", "clerk").await;
    let (s, html) = text(&clerk, app.url("/t/122289/staff/knowledge")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("【窓口】外国籍の方の転入届で確認すること"));
    let (s, html) = text(
        &clerk,
        app.url(&format!("/t/122289/staff/knowledge/{}", knowledge[0])),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("lang=\"ja\""));
    // The knowledge search: staff find knowledge (and the FAQ); bad input named.
    let (s, html) = text(&clerk, app.url("/t/122289/staff/knowledge?q=在留カード")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("/t/122289/staff/knowledge/{}\"", knowledge[0])),
        "{html}"
    );
    let long = "あ".repeat(201);
    let (s, html) = text(
        &clerk,
        app.url(&format!("/t/122289/staff/knowledge?q={long}")),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("200文字以内"));
    // Residents' search never shows knowledge.
    let (_, v) = get_json(&resident, app.url("/api/v1/t/122289/search?q=在留カード")).await;
    assert!(!v.to_string().contains("/staff/knowledge/"), "{v}");
    // Ids are per tenant: the same number in the other tenant is its own entry.
    let (s, v) = get_json(
        &resident,
        app.url(&format!("/api/v1/t/242021/faq/{}", public[0])),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["url"], format!("/t/242021/faq/{}", public[0]));

    // An entry: answer, related procedures linked, feedback form.
    let juminhyo = v_first(&resident, app, "住民票の写しはどこで取れますか").await;
    let (s, html) = text(&resident, app.url(&format!("/t/122289/faq/{juminhyo}"))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("/t/122289/procedures/juminhyo-copy\""));
    assert!(html.contains("この回答は役に立ちましたか"));
    assert!(html.contains("name=\"helpful\" value=\"yes\""));
    // In English: translated where there is a translation, else the
    // Japanese marked lang="ja" and "Japanese only".
    let (_, html) = text(&resident, app.url("/t/122289/faq?lang=en")).await;
    assert!(html.contains("Where can I get a copy of my residence certificate"));
    assert!(html.contains("lang=\"ja\">生ごみ処理機の購入に補助はありますか</a> <span class=\"tag\">Japanese only</span>"), "{html}");
    let (_, v) = get_json(&resident, app.url("/api/v1/t/122289/faq?lang=en")).await;
    let untranslated = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["question_lang"] == "ja")
        .expect("an untranslated entry");
    assert!(untranslated["question"]
        .as_str()
        .unwrap()
        .contains("生ごみ"));
    // The home page links the FAQ and the chat.
    let (_, home) = text(&resident, app.url("/t/122289")).await;
    assert!(home.contains("/t/122289/faq\"") && home.contains("/t/122289/chat\""));
    // Ids that are not numbers, or unknown: not found, never an error page.
    for bad in ["abc", "0", "-1", "99999"] {
        let (s, _) = text(&resident, app.url(&format!("/t/122289/faq/{bad}"))).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }
}

/// The id of the public entry of 122289 whose question is `q`.
async fn v_first(c: &reqwest::Client, app: &TestApp, q: &str) -> i64 {
    let (_, v) = get_json(c, app.url("/api/v1/t/122289/faq")).await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["question"] == q)
        .unwrap_or_else(|| panic!("{q}"))["id"]
        .as_i64()
        .unwrap()
}

fn form<'a>(csrf: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("_csrf", csrf)];
    v.extend_from_slice(fields);
    v
}

async fn crud_history_restore(app: &TestApp) {
    // 子育て担当 (dept admin of the child department) edits that department's entries.
    let kodomo = app.staff("122289", "kodomo").await;
    let csrf = app.csrf(&kodomo, "/t/122289/staff/faq/new").await;
    let before = app.count("SELECT COUNT(*) FROM faq_entries").await;
    // Bad input: every field named, nothing saved.
    let r = kodomo
        .post(app.url("/t/122289/staff/faq/new"))
        .form(&form(
            &csrf,
            &[
                ("question_ja", ""),
                ("answer_ja", "<p>回答</p>"),
                ("category", "children"),
                ("department", "kosodate"),
                ("audience", "public"),
                ("published", "yes"),
                ("procedures", "no-such-procedure"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("error-summary"));
    assert!(
        html.contains("「質問（日本語）」を入力してください。"),
        "{html}"
    );
    assert!(html.contains("HTMLのタグは使えません"));
    assert!(html.contains("「no-such-procedure」はこの自治体の手続にありません"));
    assert!(
        html.contains("回答") && !html.contains("<p>回答</p>"),
        "what was typed is kept, escaped"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM faq_entries").await, before);

    let entry = [
        ("question_ja", "児童手当の振込日はいつですか"),
        (
            "answer_ja",
            "児童手当は、年6回（偶数月）に振り込みます。\n\n振込日は市のお知らせで確認できます。",
        ),
        ("question_en", "When is the child allowance paid?"),
        ("category", "children"),
        ("department", "kosodate"),
        ("audience", "public"),
        ("published", "yes"),
        ("procedures", "jido-teate"),
    ];
    let r = kodomo
        .post(app.url("/t/122289/staff/faq/new"))
        .form(&form(&csrf, &entry))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = location
        .trim_start_matches("/t/122289/staff/faq/")
        .trim_end_matches("?saved=1")
        .parse()
        .unwrap();
    let resident = app.client();
    let (s, v) = get_json(
        &resident,
        app.url(&format!("/api/v1/t/122289/faq/{id}?lang=en")),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["question"], "When is the child allowance paid?");
    assert_eq!(
        v["answer_lang"], "ja",
        "answer untranslated: the Japanese, marked"
    );
    assert_eq!(v["procedures"][0]["id"], "jido-teate");
    // Paragraphs, escaped, on the page.
    let (_, html) = text(&resident, app.url(&format!("/t/122289/faq/{id}"))).await;
    assert!(html.contains("<p>児童手当は、年6回（偶数月）に振り込みます。</p><p>振込日は市のお知らせで確認できます。</p>"));

    // Another department's entry, or no dept-admin role: refused.
    let mut other_dept = entry.to_vec();
    other_dept.retain(|(k, _)| *k != "department");
    other_dept.push(("department", "madoguchi"));
    let r = kodomo
        .post(app.url("/t/122289/staff/faq/new"))
        .form(&form(&csrf, &other_dept))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let clerk = app.staff("122289", "clerk").await;
    let clerk_csrf = app.csrf(&clerk, "/t/122289/staff/faq").await;
    let r = clerk
        .post(app.url(&format!("/t/122289/staff/faq/{id}")))
        .form(&form(&clerk_csrf, &[("version", "1")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Edit (version 2), then withdraw it (version 3): residents lose it.
    let mut edited = entry.to_vec();
    edited.retain(|(k, _)| *k != "answer_ja");
    edited.push(("answer_ja", "年6回、偶数月の10日ごろに振り込みます。"));
    edited.push(("version", "1"));
    let r = kodomo
        .post(app.url(&format!("/t/122289/staff/faq/{id}")))
        .form(&form(&csrf, &edited))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut withdrawn: Vec<(&str, &str)> = edited
        .iter()
        .filter(|(k, _)| *k != "published" && *k != "version")
        .cloned()
        .collect();
    withdrawn.push(("version", "2"));
    let r = kodomo
        .post(app.url(&format!("/t/122289/staff/faq/{id}")))
        .form(&form(&csrf, &withdrawn))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, _) = text(&resident, app.url(&format!("/t/122289/faq/{id}"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "withdrawn");
    // A stale version is a conflict, shown on the form with nothing lost.
    let r = kodomo
        .post(app.url(&format!("/t/122289/staff/faq/{id}")))
        .form(&form(&csrf, &edited))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("偶数月の10日ごろ"));
    // History and restore of version 1 (undo): published again, as it was.
    let (_, v) = get_json(
        &kodomo,
        app.url(&format!("/api/v1/t/122289/staff/faq/{id}")),
    )
    .await;
    assert_eq!(v["version"], 3);
    assert_eq!(v["history"].as_array().unwrap().len(), 3);
    let (_, html) = text(&kodomo, app.url(&format!("/t/122289/staff/faq/{id}"))).await;
    assert!(html.contains("name=\"restore_version\" value=\"1\""));
    let r = kodomo
        .post(app.url(&format!("/t/122289/staff/faq/{id}/restore")))
        .form(&form(&csrf, &[("restore_version", "1"), ("version", "3")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, v) = get_json(&resident, app.url(&format!("/api/v1/t/122289/faq/{id}"))).await;
    assert_eq!(s, StatusCode::OK, "published again");
    assert!(v["answer"]
        .as_str()
        .unwrap()
        .starts_with("児童手当は、年6回"));
    for action in ["faq.create", "faq.save", "faq.unpublish", "faq.restore"] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE tenant = '122289' AND action = '{action}' AND target = 'faq:{id}' AND actor = 'staff:kodomo'"
            ))
            .await,
            1,
            "{action}"
        );
    }

    // The API: create as staff-only knowledge, stale saves refused,
    // unknown procedures named.
    let body = json!({
        "question": {"ja": "【子育て】児童手当の現況確認の電話対応"},
        "answer": {"ja": "現況届は原則不要になりました。"},
        "category": "children",
        "department": "kosodate",
        "procedures": ["jido-teate"],
        "audience": "staff"
    });
    let r = kodomo
        .post(app.url("/api/v1/t/122289/staff/faq"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let kid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (s, _) = get_json(&resident, app.url(&format!("/api/v1/t/122289/faq/{kid}"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "knowledge is not public");
    let r = kodomo
        .put(app.url(&format!("/api/v1/t/122289/staff/faq/{kid}")))
        .json(&json!({"version": 7, "entry": body}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let mut bad = body.clone();
    bad["procedures"] = json!(["jido-teate", "nope"]);
    let r = kodomo
        .put(app.url(&format!("/api/v1/t/122289/staff/faq/{kid}")))
        .json(&json!({"version": 1, "entry": bad}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["fields"][0]["field"], "procedures");
    let r = kodomo
        .post(app.url("/api/v1/t/122289/staff/faq"))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The staff list shows every entry with its counts.
    let (s, html) = text(&clerk, app.url("/t/122289/staff/faq")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("児童手当の振込日はいつですか") && html.contains("役に立った"));
}

async fn vote(app: &TestApp, c: &reqwest::Client, id: i64, helpful: &str) -> reqwest::Response {
    let csrf = app.csrf(c, &format!("/t/122289/faq/{id}")).await;
    c.post(app.url(&format!("/t/122289/faq/{id}/feedback")))
        .form(&[("_csrf", csrf.as_str()), ("helpful", helpful)])
        .send()
        .await
        .unwrap()
}

async fn counts(app: &TestApp, id: i64) -> (i64, i64) {
    let admin = app.staff("122289", "dx-admin").await;
    let (_, v) = get_json(&admin, app.url(&format!("/api/v1/t/122289/staff/faq/{id}"))).await;
    (
        v["helpful"].as_i64().unwrap(),
        v["not_helpful"].as_i64().unwrap(),
    )
}

async fn feedback_counting(app: &TestApp) {
    let a = app.client();
    let id = v_first(&a, app, "粗大ごみはどうやって出せばよいですか").await;
    assert_eq!(counts(app, id).await, (0, 0));
    let r = vote(app, &a, id, "yes").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("mdg_voter="));
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = text(&a, app.url(&location)).await;
    assert!(html.contains("ご意見ありがとうございました"));
    assert_eq!(counts(app, id).await, (1, 0));
    // The same browser again: its vote changes, the count does not grow.
    vote(app, &a, id, "yes").await;
    assert_eq!(counts(app, id).await, (1, 0));
    vote(app, &a, id, "no").await;
    assert_eq!(counts(app, id).await, (0, 1));
    // Another browser counts.
    let b = app.client();
    vote(app, &b, id, "yes").await;
    assert_eq!(counts(app, id).await, (1, 1));
    // A form without a choice: the entry again with the message, 422.
    let r = vote(app, &b, id, "").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("「はい」か「いいえ」を選んでください"));
    // The API: one vote per client too.
    let c = app.client();
    for _ in 0..3 {
        let r = c
            .post(app.url(&format!("/api/v1/t/122289/faq/{id}/feedback")))
            .json(&json!({"helpful": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(counts(app, id).await, (2, 1));
    let r = c
        .post(app.url(&format!("/api/v1/t/122289/faq/{id}/feedback")))
        .json(&json!({"helpful": "maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The back office shows the counts.
    let admin = app.staff("122289", "dx-admin").await;
    let (_, html) = text(&admin, app.url("/t/122289/staff/faq")).await;
    assert!(html.contains("<td>2</td>\n    <td>1</td>"), "{html}");
    // Votes belong to the tenant: the other one's entry of the same id is untouched.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM faq_votes WHERE tenant = '242021' AND id = {id}"
        ))
        .await,
        0
    );
}

testkit::on_both_backends!(audience_isolation, crud_history_restore, feedback_counting);
