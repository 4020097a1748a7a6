//! 手続ナビの編集 over HTTP, on SQLite and PostgreSQL: staff edit a life
//! event, the preview shows the draft while residents still get the live
//! version, publishing changes what the navigator lists, an old version is
//! restored; bad input of every kind is named and changes nothing; roles,
//! departments and tenants are kept apart.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

const T: &str = "122289";

/// The editor's form fields for a bundle, as the page would submit them.
fn form_of(b: &Value) -> Vec<(String, String)> {
    let mut f = vec![];
    let texts = |f: &mut Vec<(String, String)>, prefix: &str, t: &Value| {
        if let Some(m) = t.as_object() {
            for (lang, v) in m {
                f.push((format!("{prefix}_{lang}"), v.as_str().unwrap().to_string()));
            }
        }
    };
    f.push(("code".into(), b["code"].as_str().unwrap_or_default().into()));
    texts(&mut f, "name", &b["name"]);
    texts(&mut f, "description", &b["description"]);
    for (i, q) in b["questions"].as_array().unwrap().iter().enumerate() {
        f.push((format!("q{i}_code"), q["code"].as_str().unwrap().into()));
        texts(&mut f, &format!("q{i}_text"), &q["text"]);
        texts(&mut f, &format!("q{i}_hint"), &q["hint"]);
    }
    for (i, it) in b["items"].as_array().unwrap().iter().enumerate() {
        f.push((
            format!("i{i}_procedure"),
            it["procedure"].as_str().unwrap().into(),
        ));
        for k in ["when", "unless", "counter"] {
            f.push((
                format!("i{i}_{k}"),
                it[k].as_str().unwrap_or_default().into(),
            ));
        }
        texts(&mut f, &format!("i{i}_deadline"), &it["deadline"]);
        texts(&mut f, &format!("i{i}_note"), &it["note"]);
    }
    f
}

fn set(f: &mut Vec<(String, String)>, k: &str, v: &str) {
    f.retain(|(x, _)| x != k);
    f.push((k.into(), v.into()));
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

async fn live_bundle(app: &TestApp, c: &reqwest::Client, code: &str) -> Value {
    let v = json_of(
        c.get(app.url(&format!("/api/v1/t/{T}/staff/navi/{code}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    v["bundle"].clone()
}

/// The procedure ids the resident navigator lists with every answer yes
/// (or no).
/// The live list with the named questions answered `yes` (or `no`) and
/// every other question of the bundle answered `no`.
async fn listed(app: &TestApp, code: &str, questions: &[&str], yes: bool) -> Vec<String> {
    let a = if yes { "yes" } else { "no" };
    let mut qs: Vec<String> = questions.iter().map(|q| format!("{q}={a}")).collect();
    for other in BIRTH_OTHERS {
        if code == "birth" {
            qs.push(format!("{other}=no"));
        }
    }
    let v = json_of(
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/navi/{code}?{}", qs.join("&"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    v["procedures"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

/// The birth navigator's questions besides 国保 and 公務員, answered `no`
/// in these tests.
const BIRTH_OTHERS: [&str; 4] = [
    "low_birth_weight",
    "single_parent",
    "needs_daycare",
    "baby_card",
];
const BIRTH_OTHERS_NO: &str = "&low_birth_weight=no&single_parent=no&needs_daycare=no&baby_card=no";

async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    mut form: Vec<(String, String)>,
    op: &str,
) -> reqwest::Response {
    let token = app.csrf(c, path).await;
    form.push(("_csrf".into(), token));
    form.push(("op".into(), op.into()));
    c.post(app.url(path)).form(&form).send().await.unwrap()
}

fn attr(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in page"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

async fn publish_draft(app: &TestApp, c: &reqwest::Client, code: &str) -> reqwest::Response {
    let preview = c
        .get(app.url(&format!("/t/{T}/staff/navi/{code}/preview")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("_csrf", attr(&preview, "_csrf")),
        ("base_version", attr(&preview, "base_version")),
        ("saved_at", attr(&preview, "saved_at")),
    ];
    c.post(app.url(&format!("/t/{T}/staff/navi/{code}/publish")))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn edit_preview_publish_restore(app: &TestApp) {
    let c = app.staff(T, "dx-admin").await;
    let list = c
        .get(app.url(&format!("/t/{T}/staff/navi")))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let html = list.text().await.unwrap();
    assert!(
        html.contains(&format!("/t/{T}/staff/navi/birth\"")),
        "{html}"
    );

    // The editor shows the bundle in fields, one per language.
    let html = c
        .get(app.url(&format!("/t/{T}/staff/navi/birth")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "name_ja",
        "name_en",
        "q0_code",
        "q1_text_ja",
        "i1_when",
        "i2_unless",
        "i0_counter",
        "i0_note_ja",
    ] {
        assert!(html.contains(&format!("name=\"{name}\"")), "{name}");
    }
    assert!(html.contains("value=\"parent_nhi\" selected"));

    let q = ["parent_nhi", "public_servant"];
    let yes_before = listed(app, "birth", &q, true).await;
    let no_before = listed(app, "birth", &q, false).await;
    assert_eq!(
        yes_before,
        [
            "shussei",
            "kokuho-shikaku",
            "kodomo-iryo",
            "shussan-ikuji",
            "ninpu-shien-kyufu",
            "akachan-homon"
        ]
    );
    assert_eq!(
        no_before,
        [
            "shussei",
            "jido-teate",
            "kodomo-iryo",
            "ninpu-shien-kyufu",
            "akachan-homon"
        ]
    );

    // Whole-form operations change the form, save nothing.
    let bundle = live_bundle(app, &c, "birth").await;
    let mut form = form_of(&bundle);
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/staff/navi/birth"),
        form.clone(),
        "add_question",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("name=\"q6_code\""));
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/staff/navi/birth"),
        form.clone(),
        "down_item-0",
    )
    .await;
    let html = r.text().await.unwrap();
    let first = html.find("value=\"kokuho-shikaku\" selected").unwrap();
    let second = html.find("value=\"shussei\" selected").unwrap();
    assert!(first < second, "moved down");
    assert_eq!(app.count("SELECT COUNT(*) FROM navi_drafts").await, 0);

    // 国保 when the parent is NOT in the NHI (flipped), with a note.
    set(&mut form, "i1_when", "");
    set(&mut form, "i1_unless", "parent_nhi");
    set(&mut form, "i1_note_ja", "  保険証をお持ちください  ");
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/staff/navi/birth"),
        form.clone(),
        "preview",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/t/{T}/staff/navi/birth/preview")
    );
    // The preview shows the draft with the resident templates; residents
    // still get the live version.
    let preview = c
        .get(app.url(&format!("/t/{T}/staff/navi/birth/preview")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        preview.contains("name=\"parent_nhi\"")
            && preview.contains("action=\"/t/122289/staff/navi/birth/preview/result\"")
    );
    let r = c
        .get(app.url(&format!(
            "/t/{T}/staff/navi/birth/preview/result?parent_nhi=no&public_servant=no{BIRTH_OTHERS_NO}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("/t/122289/procedures/kokuho-shikaku\"")
            && html.contains("保険証をお持ちください"),
        "draft in preview"
    );
    assert!(html.contains("navi-step"), "the resident list template");
    let live_html = app
        .client()
        .get(app.url(&format!(
            "/t/{T}/navi/birth/result?parent_nhi=no&public_servant=no{BIRTH_OTHERS_NO}"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!live_html.contains("/t/122289/procedures/kokuho-shikaku\""));
    assert_eq!(listed(app, "birth", &q, false).await, no_before);
    // An unanswered preview question is named, as for residents.
    let r = c
        .get(app.url(&format!(
            "/t/{T}/staff/navi/birth/preview/result?parent_nhi=no"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Publish: residents now get the new list.
    let r = publish_draft(app, &c, "birth").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/t/{T}/staff/navi/birth?saved=published")
    );
    assert_eq!(
        listed(app, "birth", &q, false).await,
        [
            "shussei",
            "kokuho-shikaku",
            "jido-teate",
            "kodomo-iryo",
            "ninpu-shien-kyufu",
            "akachan-homon"
        ]
    );
    assert_eq!(
        listed(app, "birth", &q, true).await,
        [
            "shussei",
            "kodomo-iryo",
            "shussan-ikuji",
            "ninpu-shien-kyufu",
            "akachan-homon"
        ]
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM navi_drafts").await, 0);
    // The one-stop desk reads the same bundle.
    let events = json_of(
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/life-events")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        events.to_string().contains("\"unless\":\"parent_nhi\""),
        "{events}"
    );

    // Versions: the original (tenant.json) and the publish, with who.
    let v = json_of(
        c.get(app.url(&format!("/api/v1/t/{T}/staff/navi/birth/versions")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let versions = v["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["origin"], "publish");
    assert_eq!(versions[0]["published_by"], "staff:dx-admin");
    assert_eq!(versions[1]["origin"], "initial");
    assert_eq!(versions[1]["bundle"], bundle);

    // Restore the original from the editor's history (undo).
    let html = c
        .get(app.url(&format!("/t/{T}/staff/navi/birth")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"restore_version\" value=\"1\""));
    let token = testkit::csrf_in(&html).unwrap();
    let r = c
        .post(app.url(&format!("/t/{T}/staff/navi/birth/restore")))
        .form(&[
            ("_csrf", token.as_str()),
            ("version", "2"),
            ("restore_version", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(listed(app, "birth", &q, false).await, no_before);
    assert_eq!(listed(app, "birth", &q, true).await, yes_before);
    assert_eq!(live_bundle(app, &c, "birth").await, bundle);
    let v = json_of(
        c.get(app.url(&format!("/api/v1/t/{T}/staff/navi/birth/versions")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["versions"][0]["origin"], "restore");
    assert_eq!(v["versions"][0]["restored_from"], 1);
    // A stale version is a conflict, never a silent overwrite.
    let r = c
        .put(app.url(&format!("/api/v1/t/{T}/staff/navi/birth")))
        .json(&json!({"bundle": bundle, "version": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(json_of(r).await["error"]["code"], "MDG-409-navi_version");
    // Every change is audited.
    for action in ["navi.draft_save", "navi.publish", "navi.restore"] {
        assert!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = '{action}'"
            ))
            .await
                >= 1,
            "{action} audited"
        );
    }

    // A new life event, made in the editor without any JSON.
    let mut form: Vec<(String, String)> = [
        ("code", "pet"),
        ("name_ja", "ペットを飼い始めた"),
        ("name_en", "Getting a pet"),
        ("description_ja", "犬を飼い始めた方の手続です。"),
        ("q0_code", "is_dog"),
        ("q0_text_ja", "犬ですか"),
        ("i0_procedure", "tennyu"),
        ("i0_when", "is_dog"),
        ("i0_deadline_ja", "30日以内"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/staff/navi/new"),
        form.clone(),
        "save",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/t/{T}/staff/navi/pet?saved=draft")
    );
    // Not live until published.
    let r = app
        .client()
        .get(app.url(&format!("/t/{T}/navi/pet")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = c
        .get(app.url(&format!("/t/{T}/staff/navi")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("ペットを飼い始めた"), "the draft is listed");
    // Creating the same code again is refused with the field named.
    set(&mut form, "name_ja", "別の名前");
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/staff/navi/new"),
        form.clone(),
        "save",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("href=\"#field-code\""));
    // The search index is built before the publish and does not know it.
    let found = json_of(
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/search?q=ペットを飼い始めた")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!found.to_string().contains("/t/122289/navi/pet"), "{found}");
    let r = publish_draft(app, &c, "pet").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(listed(app, "pet", &["is_dog"], true).await, ["tennyu"]);
    assert!(listed(app, "pet", &["is_dog"], false).await.is_empty());
    let index = app
        .client()
        .get(app.url(&format!("/t/{T}/navi")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("/t/122289/navi/pet\""));
    // Search finds the new navigator page at once (re-indexed on publish).
    let found = json_of(
        app.client()
            .get(app.url(&format!("/api/v1/t/{T}/search?q=ペットを飼い始めた")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["url"] == "/t/122289/navi/pet"),
        "{found}"
    );
    // Loading tenant.json again (the demo, run twice) keeps the staff's edits.
    let path = format!(
        "{}/../../data/demo/{T}/tenant.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let profile: kernel::tenant::TenantProfile =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    kernel::tenant::upsert(&app.app.db, &profile).await.unwrap();
    assert_eq!(listed(app, "pet", &["is_dog"], true).await, ["tennyu"]);

    // The JSON API: create and update a bundle.
    let b = json!({"name": {"ja": "自動車を買った"}, "questions": [{"code": "is_kei", "text": {"ja": "軽自動車ですか"}}],
                   "items": [{"procedure": "tennyu", "unless": "is_kei", "note": {"ja": "メモ", "en": "Memo"}}]});
    let r = c
        .put(app.url(&format!("/api/v1/t/{T}/staff/navi/car")))
        .json(&json!({"bundle": b}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = json_of(r).await;
    assert_eq!(v["version"], 1);
    let list = json_of(
        c.get(app.url(&format!("/api/v1/t/{T}/staff/navi")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(list["life_events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["code"] == "car" && e["version"] == 1));
    let r = c
        .put(app.url(&format!("/api/v1/t/{T}/staff/navi/car")))
        .json(&json!({"bundle": b, "version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["outcome"], "unchanged");
    let r = c
        .post(app.url(&format!("/api/v1/t/{T}/staff/navi/car/restore")))
        .json(&json!({"restore_version": 9, "version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn bad_input_changes_nothing(app: &TestApp) {
    let c = app.staff(T, "dx-admin").await;
    let bundle = live_bundle(app, &c, "birth").await;
    let good = form_of(&bundle);
    let audit_before = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'navi.%'")
        .await;
    let huge = "長".repeat(5000);
    /// Field edits, the field named, words of its message.
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("name_ja", "")],
            "name_ja",
            "「名称（日本語）」を入力してください",
        ),
        (vec![("name_en", huge.as_str())], "name_en", "300文字以内"),
        (vec![("name_ja", huge.as_str())], "name_ja", "100文字以内"),
        (vec![("q0_code", "Parent NHI!")], "q0_code", "英小文字"),
        (vec![("q1_code", "parent_nhi")], "q1_code", "重複"),
        (
            vec![("q0_text_ja", " ")],
            "q0_text_ja",
            "「質問1：質問文（日本語）」",
        ),
        (
            vec![("i0_procedure", "no-such-procedure")],
            "i0_procedure",
            "カタログにありません",
        ),
        (vec![("i1_procedure", "shussei")], "i1_procedure", "重複"),
        (
            vec![("i1_when", "has_car")],
            "i1_when",
            "「has_car」がありません",
        ),
        (vec![("i0_counter", "c7")], "i0_counter", "担当課"),
        (vec![("i0_note_ja", "a\u{1}b")], "i0_note_ja", "制御文字"),
        (
            vec![("q0_hint_en", "English only"), ("q0_hint_ja", "")],
            "q0_hint_ja",
            "ほかの言語だけ",
        ),
    ];
    for (edits, field, words) in cases {
        let mut f = good.clone();
        for (k, v) in &edits {
            set(&mut f, k, v);
        }
        let r = post_form(app, &c, &format!("/t/{T}/staff/navi/birth"), f, "preview").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("href=\"#field-{field}\"")),
            "{field} named in the summary"
        );
        assert!(html.contains(words), "{field}: {words}");
        assert!(
            html.contains(&format!("id=\"field-{field}\"")),
            "{field} has its input"
        );
        // What was typed is kept.
        let (k, v) = edits[0];
        if !v.trim().is_empty() && !v.contains('\u{1}') {
            let shown = if v.len() > 100 { &v[..30] } else { v };
            assert!(html.contains(shown), "{k} kept");
        }
    }
    // Questions that no procedure uses, no procedures, too many rows.
    let mut f = good.clone();
    for k in ["i1_when", "i2_unless"] {
        set(&mut f, k, "");
    }
    let r = post_form(app, &c, &format!("/t/{T}/staff/navi/birth"), f, "save").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("使われていません"));
    let mut f: Vec<(String, String)> = good
        .iter()
        .filter(|(k, _)| !k.starts_with('i'))
        .cloned()
        .collect();
    f.retain(|(k, _)| !k.starts_with('q'));
    let r = post_form(app, &c, &format!("/t/{T}/staff/navi/birth"), f, "save").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("href=\"#field-items\""));
    let mut f = good.clone();
    f.push(("q999_code".into(), "x".into()));
    let r = post_form(app, &c, &format!("/t/{T}/staff/navi/birth"), f, "save").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A new life event with a malformed or existing code.
    for (code, words) in [
        ("", "「コード」を入力"),
        ("Birth Day", "英小文字"),
        ("birth", "既にあります"),
    ] {
        let mut f = good.clone();
        set(&mut f, "code", code);
        let r = post_form(app, &c, &format!("/t/{T}/staff/navi/new"), f, "save").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        assert!(r.text().await.unwrap().contains(words), "{code}");
    }

    // The API: every field named, in the API's own names.
    let put = |body: Value| {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/t/{T}/staff/navi/birth"));
        async move { c.put(url).json(&body).send().await.unwrap() }
    };
    let mut b = bundle.clone();
    b["items"][0]["procedure"] = json!("nope");
    b["questions"][0]["code"] = json!("");
    b["name"]["en"] = json!(huge);
    let r = put(json!({"bundle": b})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e = json_of(r).await;
    let fields: Vec<&str> = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in ["items[0].procedure", "questions[0].code", "name.en"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let mut b = bundle.clone();
    b["name"]["xx"] = json!("?");
    let r = put(json!({"bundle": b})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(r).await["error"]["fields"][0]["field"], "name.xx");
    let r = put(json!({"bundle": {"items": []}})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for body in [
        json!({"bundle": bundle, "extra": 1}),
        json!({"bundle": {"items": [], "colour": "red"}}),
        json!("x"),
    ] {
        let r = put(body).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let r = c
        .put(app.url(&format!("/api/v1/t/{T}/staff/navi/birth")))
        .header("content-type", "application/json")
        .body("{\"bundle\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A code in the body that is not the URL's: invalid, the field named.
    let r = put(json!({"bundle": {"code": "other", "name": {"ja": "x"}, "items": [{"procedure": "tennyu"}]}})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(r).await["error"]["fields"][0]["field"],
        "bundle.code"
    );

    // Nothing was saved, published or audited; residents see the same.
    assert_eq!(app.count("SELECT COUNT(*) FROM navi_drafts").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM navi_versions").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'navi.%'")
            .await,
        audit_before
    );
    assert_eq!(live_bundle(app, &c, "birth").await, bundle);
}

async fn roles_departments_and_tenants(app: &TestApp) {
    // Staff without an administrator role: refused like the rest of the
    // back office, pages and API alike.
    for who in ["clerk", "reviewer", "approver", "security"] {
        let c = app.staff(T, who).await;
        for path in [
            "/t/122289/staff/navi",
            "/t/122289/staff/navi/birth",
            "/t/122289/staff/navi/birth/preview",
            "/api/v1/t/122289/staff/navi/birth",
        ] {
            let r = c.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who} {path}");
        }
        let r = c
            .put(app.url("/api/v1/t/122289/staff/navi/birth"))
            .json(&json!({"bundle": {"name": {"ja": "x"}, "items": [{"procedure": "tennyu"}]}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
    // Not signed in: sent to sign in, nothing shown.
    let r = app
        .client()
        .get(app.url("/t/122289/staff/navi/birth/preview"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // A department administrator (子育て支援課) edits what concerns their
    // department's procedures, not another department's.
    let k = app.staff(T, "kodomo").await;
    let bundle = live_bundle(app, &k, "birth").await;
    let mut own = form_of(&bundle);
    set(&mut own, "i2_note_ja", "公務員の方は勤務先へ");
    set(
        &mut own,
        "q1_text_ja",
        "児童手当を受け取る方は公務員（共済組合員）ですか",
    );
    let r = post_form(app, &k, "/t/122289/staff/navi/birth", own, "preview").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = publish_draft(app, &k, "birth").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let now = live_bundle(app, &k, "birth").await;
    assert_eq!(now["items"][2]["note"]["ja"], "公務員の方は勤務先へ");
    for (field, value) in [
        ("i1_note_ja", "国保の注意"),
        ("q0_text_ja", "変えた質問"),
        ("name_ja", "出産"),
    ] {
        let mut other = form_of(&now);
        set(&mut other, field, value);
        let r = post_form(app, &k, "/t/122289/staff/navi/birth", other, "save").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{field}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("ほかの課") && html.contains(value),
            "{field}: named and kept"
        );
    }
    let mut b = now.clone();
    b["items"][0]["note"] = json!({"ja": "x"});
    let r = k
        .put(app.url("/api/v1/t/122289/staff/navi/birth"))
        .json(&json!({"bundle": b, "version": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_of(r).await["error"]["code"], "MDG-403-navi_department");
    assert_eq!(live_bundle(app, &k, "birth").await, now);

    // Tenants never see each other's: 四街道市 staff at 四日市市's editor.
    let admin = app.staff(T, "dx-admin").await;
    for path in [
        "/t/242021/staff/navi",
        "/t/242021/staff/navi/birth",
        "/api/v1/t/242021/staff/navi",
        "/api/v1/t/242021/staff/navi/birth/versions",
    ] {
        // A session is for its own municipality: elsewhere it is no
        // session at all (pages send to sign-in, the API answers 401).
        let r = admin.get(app.url(path)).send().await.unwrap();
        let expected = if path.starts_with("/api/") {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::SEE_OTHER
        };
        assert_eq!(r.status(), expected, "{path}");
    }
    let theirs = json_of(
        app.client()
            .get(app.url("/api/v1/t/242021/life-events"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let r = admin
        .put(app.url("/api/v1/t/242021/staff/navi/birth"))
        .json(&json!({"bundle": {"name": {"ja": "x"}, "items": [{"procedure": "tennyu"}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // 四街道市's publish above changed nothing in 四日市市.
    assert_eq!(
        json_of(
            app.client()
                .get(app.url("/api/v1/t/242021/life-events"))
                .send()
                .await
                .unwrap()
        )
        .await,
        theirs
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM navi_versions WHERE tenant = '242021'")
            .await,
        0
    );
}

testkit::on_both_backends!(
    edit_preview_publish_restore,
    bad_input_changes_nothing,
    roles_departments_and_tenants
);
