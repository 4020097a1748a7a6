//! 翻訳の状況 over HTTP, on SQLite and PostgreSQL: the demo's translations
//! are machine-assisted and unreviewed; marking one reviewed records the
//! signed-in member of staff (and an audit entry), and undoing it works;
//! saving a translation in the procedure editor makes it a staff
//! translation again unreviewed; the overview lists what lacks a language
//! and not what has it; the FAQ and 手続ナビ editors do the same and show
//! the badge; only content editors may open or review, and a city's staff
//! never see or mark another city's.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

const T: &str = "122289";
const PROC: &str = "juminhyo-copy";

async fn get_json(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A page as a browser set to Japanese gets it.
async fn get_text(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c
        .get(app.url(path))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The overview's line of one entry in one language (from the API).
async fn line(app: &TestApp, c: &reqwest::Client, kind: &str, id: &str, lang: &str) -> Value {
    let (s, v) = get_json(
        c,
        app,
        &format!("/api/v1/t/{T}/staff/translations?language={lang}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == kind && l["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no line {kind}:{id} in {lang}"))
}

async fn audits(app: &TestApp, action: &str, target: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = '{action}' AND target = '{target}' AND actor = 'staff:dx-admin'"
    ))
    .await
}

async fn demo_translation_is_reviewed_by_the_signed_in_staff(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let l = line(app, &admin, "procedure", PROC, "en").await;
    assert_eq!(l["state"], "machine_assisted");
    assert_eq!(l["origin"], "machine_assisted");
    assert_eq!(l["review"], Value::Null);
    assert_eq!(l["missing_fields"], 0);
    assert_eq!(l["edit_url"], format!("/t/{T}/staff/catalogue/{PROC}"));
    // The city's own texts and its counters are marked too.
    let c1 = line(app, &admin, "counter", "c1", "en").await;
    assert_eq!(c1["state"], "machine_assisted");

    let editor = format!("/t/{T}/staff/catalogue/{PROC}");
    let (s, html) = get_text(&admin, app, &editor).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("機械支援翻訳・未確認"), "badge in the editor");

    // Marked reviewed from the editor: the reviewer is who is signed in;
    // a name typed into the form is ignored.
    let token = app.csrf(&admin, &editor).await;
    let r = admin
        .post(app.url(&format!(
            "/t/{T}/staff/translations/procedure/{PROC}/en/review"
        )))
        .form(&[
            ("_csrf", token.as_str()),
            ("return_to", editor.as_str()),
            ("reviewed_by", "誰か別の人"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], editor.as_str());
    let l = line(app, &admin, "procedure", PROC, "en").await;
    assert_eq!(l["state"], "reviewed");
    assert_eq!(l["origin"], "machine_assisted");
    assert_eq!(l["review"]["by"], "staff:dx-admin");
    assert_eq!(l["review"]["by_name"], "デジタル推進 管理者");
    let target = format!("procedure:{PROC}:en");
    assert_eq!(audits(app, "translation.review", &target).await, 1);
    let (_, html) = get_text(&admin, app, &editor).await;
    assert!(
        html.contains("確認済み（確認者：デジタル推進 管理者、"),
        "reviewed badge"
    );
    assert!(!html.contains("誰か別の人"));

    // Undone through the API, audited; undoing twice is 422.
    let review = app.url(&format!(
        "/api/v1/t/{T}/staff/translations/procedure/{PROC}/en/review"
    ));
    let r = admin.delete(&review).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "machine_assisted");
    assert_eq!(v["review"], Value::Null);
    assert_eq!(audits(app, "translation.unreview", &target).await, 1);
    let r = admin.delete(&review).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(audits(app, "translation.unreview", &target).await, 1);

    // And reviewed again through the API.
    let r = admin.put(&review).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "reviewed");
    assert_eq!(v["review"]["by"], "staff:dx-admin");
    assert_eq!(audits(app, "translation.review", &target).await, 2);

    // No such entry, kind or language (Japanese is the source): 404.
    for path in [
        format!("/api/v1/t/{T}/staff/translations/procedure/no-such/en/review"),
        format!("/api/v1/t/{T}/staff/translations/procedure/{PROC}/ja/review"),
        format!("/api/v1/t/{T}/staff/translations/tenant/{T}/en/review"),
    ] {
        let r = admin
            .put(app.url(&path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// The form the procedure editor posts for `p` (as exported), with the
/// English name replaced.
fn editor_form(p: &Value, token: &str, version: i64, name_en: &str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        ("_csrf".into(), token.into()),
        ("version".into(), version.to_string()),
        ("name_ja".into(), p["name"]["ja"].as_str().unwrap().into()),
        (
            "description_ja".into(),
            p["description"]["ja"].as_str().unwrap_or_default().into(),
        ),
        (
            "processing_time_ja".into(),
            p["processing_time"]["ja"].as_str().unwrap().into(),
        ),
        (
            "department".into(),
            p["department"].as_str().unwrap().into(),
        ),
        ("channels".into(), p["channels"].as_str().unwrap().into()),
        (
            "identity_level".into(),
            p["identity_level"].as_str().unwrap().into(),
        ),
        ("fee_yen".into(), p["fee_yen"].to_string()),
        (
            "legal_basis".into(),
            p["legal_basis"].as_str().unwrap_or_default().into(),
        ),
        ("form_json".into(), p["form"].to_string()),
    ];
    if p["same_person_may_approve"] == true {
        f.push(("same_person_may_approve".into(), "true".into()));
    }
    for e in p["life_events"].as_array().into_iter().flatten() {
        f.push(("life_events".into(), e.as_str().unwrap().into()));
    }
    let docs = |code: &str| {
        p["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d[code].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    f.push(("documents_ja".into(), docs("ja")));
    for code in ["ja-x-easy", "en", "pt-BR", "vi", "zh-Hans", "ko"] {
        for field in ["name", "description", "processing_time"] {
            let v = p[field][code].as_str().unwrap_or_default().to_string();
            let v = if field == "name" && code == "en" {
                name_en.to_string()
            } else {
                v
            };
            f.push((format!("{field}_{code}"), v));
        }
        let d = docs(code);
        f.push((
            format!("documents_{code}"),
            if d.trim().is_empty() {
                String::new()
            } else {
                d
            },
        ));
    }
    f
}

async fn saving_in_the_editor_makes_it_a_staff_translation(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let review = app.url(&format!(
        "/api/v1/t/{T}/staff/translations/procedure/{PROC}/en/review"
    ));
    let r = admin.put(&review).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let langs = ["ja-x-easy", "en", "pt-BR", "vi", "zh-Hans", "ko"];
    let mut before = Vec::new();
    for l in langs {
        before.push(line(app, &admin, "procedure", PROC, l).await);
    }
    let (s, all) = get_json(&admin, app, &format!("/t/{T}/staff/catalogue/export.json")).await;
    assert_eq!(s, StatusCode::OK);
    let p = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == PROC)
        .unwrap()
        .clone();
    let version = app
        .count(&format!(
            "SELECT version FROM procedures WHERE tenant = '{T}' AND id = '{PROC}'"
        ))
        .await;
    let editor = format!("/t/{T}/staff/catalogue/{PROC}");
    let token = app.csrf(&admin, &editor).await;
    let r = admin
        .post(app.url(&editor))
        .form(&editor_form(
            &p,
            &token,
            version,
            "Copy of the residence record",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    // English changed: staff-written, and its review is gone.
    let en = line(app, &admin, "procedure", PROC, "en").await;
    assert_eq!(en["origin"], "staff");
    assert_eq!(en["state"], "unreviewed");
    assert_eq!(en["review"], Value::Null);
    let (_, html) = get_text(&admin, app, &editor).await;
    assert!(html.contains("職員の翻訳・未確認"));
    // Every other language was saved unchanged: as it was.
    for (l, b) in langs.iter().zip(&before) {
        if *l != "en" {
            assert_eq!(&line(app, &admin, "procedure", PROC, l).await, b, "{l}");
        }
    }
}

/// Creates a procedure in the editor with the given translations of its
/// name, description and processing time.
async fn create(app: &TestApp, c: &reqwest::Client, id: &str, name: &str, langs: &[&str]) {
    let token = app.csrf(c, &format!("/t/{T}/staff/catalogue/new")).await;
    let mut f: Vec<(String, String)> = vec![
        ("_csrf".into(), token),
        ("version".into(), "0".into()),
        ("id".into(), id.into()),
        ("name_ja".into(), name.into()),
        ("description_ja".into(), "説明".into()),
        ("processing_time_ja".into(), "即日".into()),
        ("department".into(), "madoguchi".into()),
        ("channels".into(), "counter".into()),
        ("identity_level".into(), "none".into()),
        ("fee_yen".into(), "0".into()),
        ("form_json".into(), "{\"fields\": []}".into()),
    ];
    for l in langs {
        for field in ["name", "description", "processing_time"] {
            f.push((format!("{field}_{l}"), format!("{field} in {l}")));
        }
    }
    let r = c
        .post(app.url(&format!("/t/{T}/staff/catalogue/new")))
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
}

async fn overview_lists_what_lacks_a_language(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    create(app, &admin, "no-korean", "韓国語のない手続", &["en"]).await;
    create(app, &admin, "with-korean", "韓国語のある手続", &["ko"]).await;
    let (s, v) = get_json(
        &admin,
        app,
        &format!("/api/v1/t/{T}/staff/translations?language=ko&state=missing"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let lines = v["lines"].as_array().unwrap();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"no-korean"), "{ids:?}");
    assert!(!ids.contains(&"with-korean"));
    assert!(lines
        .iter()
        .all(|l| l["lang"] == "ko" && l["state"] == "missing"));
    let nk = lines.iter().find(|l| l["id"] == "no-korean").unwrap();
    assert_eq!(
        (nk["missing_fields"].as_u64(), nk["fields"].as_u64()),
        (Some(3), Some(3))
    );
    // Counted per language over every entry.
    let ko = v["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["lang"] == "ko")
        .unwrap();
    assert_eq!(ko["missing"].as_u64(), Some(lines.len() as u64));
    // The one with Korean: written by staff, unreviewed.
    let wk = line(app, &admin, "procedure", "with-korean", "ko").await;
    assert_eq!(
        (&wk["state"], &wk["origin"]),
        (&json!("unreviewed"), &json!("staff"))
    );
    // Nothing in Korean to review: 422 naming the language, nothing recorded.
    let r = admin
        .put(app.url(&format!(
            "/api/v1/t/{T}/staff/translations/procedure/no-korean/ko/review"
        )))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "MDG-422");
    assert_eq!(
        audits(app, "translation.review", "procedure:no-korean:ko").await,
        0
    );
    let en = line(app, &admin, "procedure", "no-korean", "en").await;
    assert_eq!(
        (&en["state"], &en["origin"]),
        (&json!("unreviewed"), &json!("staff"))
    );

    // The page: the same, with a link to each entry's editor.
    let (s, html) = get_text(
        &admin,
        app,
        &format!("/t/{T}/staff/translations?language=ko&state=missing"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("href=\"/t/{T}/staff/catalogue/no-korean\"")));
    assert!(html.contains("韓国語のない手続"));
    assert!(!html.contains("韓国語のある手続"));
    assert!(html.contains("未翻訳（3項目中3項目に訳がありません）"));
    // A filter that is not one of its values: 422 naming the field.
    let (s, html) = get_text(
        &admin,
        app,
        &format!("/t/{T}/staff/translations?language=ja"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("「言語」は一覧の中から選んでください"));
    let (s, v) = get_json(
        &admin,
        app,
        &format!("/api/v1/t/{T}/staff/translations?state=done"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["code"], "MDG-422");
}

async fn only_content_editors_of_the_city(app: &TestApp) {
    // A clerk edits no content: the overview answers like the navigator
    // editor does, and a review is refused.
    let clerk = app.staff(T, "clerk").await;
    let (navi, _) = get_text(&clerk, app, &format!("/t/{T}/staff/navi")).await;
    assert_eq!(navi, StatusCode::FORBIDDEN);
    let (s, html) = get_text(&clerk, app, &format!("/t/{T}/staff/translations")).await;
    assert_eq!(s, navi);
    assert!(!html.contains("翻訳の状況</h1>"));
    let (s, _) = get_json(&clerk, app, &format!("/api/v1/t/{T}/staff/translations")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let review = format!("/api/v1/t/{T}/staff/translations/procedure/{PROC}/en/review");
    let r = clerk
        .put(app.url(&review))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The staff menu: the overview for editors only.
    let (_, menu) = get_text(&clerk, app, &format!("/t/{T}/staff/account")).await;
    assert!(!menu.contains(&format!("href=\"/t/{T}/staff/translations\"")));
    let admin = app.staff(T, "dx-admin").await;
    let (_, menu) = get_text(&admin, app, &format!("/t/{T}/staff/account")).await;
    assert!(menu.contains(&format!("href=\"/t/{T}/staff/translations\"")));

    // A department administrator reviews their own department's entries
    // only, like their editor allows.
    let kodomo = app.staff(T, "kodomo").await;
    let r = kodomo
        .put(app.url(&review))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Another city's staff: not signed in for this city.
    let other = app.staff("242021", "dx-admin").await;
    let (faq, _) = get_json(&other, app, &format!("/api/v1/t/{T}/staff/faq")).await;
    let (s, _) = get_json(&other, app, &format!("/api/v1/t/{T}/staff/translations")).await;
    assert_eq!(s, faq);
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = other
        .put(app.url(&review))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Their own overview holds only their city's entries.
    let (s, v) = get_json(
        &other,
        app,
        "/api/v1/t/242021/staff/translations?language=en",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let lines = v["lines"].as_array().unwrap();
    assert!(lines
        .iter()
        .any(|l| l["kind"] == "city" && l["id"] == "242021"));
    assert!(!lines.iter().any(|l| l["id"] == T));
    let r = other
        .put(app.url(&format!(
            "/api/v1/t/242021/staff/translations/city/{T}/en/review"
        )))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Nothing of city A was reviewed by anyone.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM translation_marks WHERE tenant = '{T}' AND reviewed_by IS NOT NULL"
        ))
        .await,
        0
    );
}

/// The FAQ and 手続ナビ editors (here through their API, which the pages
/// share) make a changed language a staff translation too, and the FAQ
/// editor page shows the badge.
async fn faq_and_navigator_saves_make_it_staff(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let (_, list) = get_json(&admin, app, &format!("/api/v1/t/{T}/staff/faq")).await;
    let first = &list["items"][0];
    let id = first["id"].as_i64().unwrap().to_string();
    let before = line(app, &admin, "faq", &id, "en").await;
    assert_eq!(before["origin"], "machine_assisted");
    let (_, html) = get_text(&admin, app, &format!("/t/{T}/staff/faq/{id}")).await;
    assert!(html.contains("機械支援翻訳・未確認"), "FAQ editor badge");
    let mut entry = first["entry"].clone();
    entry["answer"]["en"] = json!("Edited by staff.");
    let r = admin
        .put(app.url(&format!("/api/v1/t/{T}/staff/faq/{id}")))
        .json(&json!({"version": first["version"], "entry": entry}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let after = line(app, &admin, "faq", &id, "en").await;
    assert_eq!(
        (&after["origin"], &after["review"]),
        (&json!("staff"), &Value::Null)
    );

    let code = "birth";
    let (s, v) = get_json(&admin, app, &format!("/api/v1/t/{T}/staff/navi/{code}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        line(app, &admin, "life_event", code, "en").await["origin"],
        "machine_assisted"
    );
    let (_, html) = get_text(&admin, app, &format!("/t/{T}/staff/navi/{code}")).await;
    assert!(
        html.contains("機械支援翻訳・未確認"),
        "navigator editor badge"
    );
    let mut bundle = v["bundle"].clone();
    bundle["name"]["en"] = json!("Having a baby (edited)");
    let r = admin
        .put(app.url(&format!("/api/v1/t/{T}/staff/navi/{code}")))
        .json(&json!({"bundle": bundle, "version": v["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let after = line(app, &admin, "life_event", code, "en").await;
    assert_eq!(
        (&after["origin"], &after["review"]),
        (&json!("staff"), &Value::Null)
    );
}

testkit::on_both_backends!(
    demo_translation_is_reviewed_by_the_signed_in_staff,
    saving_in_the_editor_makes_it_a_staff_translation,
    overview_lists_what_lacks_a_language,
    only_content_editors_of_the_city,
    faq_and_navigator_saves_make_it_staff,
);
