//! Search over HTTP, on SQLite and PostgreSQL: a fixed set of Japanese
//! queries with the page each must find first (readings, synonyms, width
//! and kana folding, typos); facets; the index following catalogue and
//! synonym changes; queries that found nothing logged for staff; bad
//! input answered with a message, never an error page.

use reqwest::StatusCode;
use serde_json::Value;
use testkit::TestApp;

async fn search(app: &TestApp, tenant: &str, q: &str) -> Value {
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/{tenant}/search")))
        .query(&[("q", q)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{tenant} {q}");
    r.json().await.unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

/// (tenant, query, the page expected first)
const RELEVANCE: &[(&str, &str, &str)] = &[
    // Kanji, reading, katakana, half-width katakana, small-kana typo.
    ("122289", "住民票", "procedure:juminhyo-copy"),
    ("122289", "じゅうみんひょう", "procedure:juminhyo-copy"),
    ("122289", "ジュウミンヒョウ", "procedure:juminhyo-copy"),
    ("122289", "ｼﾞｭｳﾐﾝﾋｮｳ", "procedure:juminhyo-copy"),
    ("122289", "じゅうみんひよう", "procedure:juminhyo-copy"),
    // Typos: a wrong kanji with the same reading, a dropped long vowel.
    ("122289", "住民表", "procedure:juminhyo-copy"),
    ("242021", "まいなんばーかど", "procedure:mynumber-card"),
    // Synonyms managed per tenant.
    ("242021", "マイナ", "procedure:mynumber-card"),
    ("122289", "印鑑証明", "procedure:inkan-shomei"),
    ("122289", "よめーる", "procedure:yomail-toroku"),
    ("122289", "メールマガジン", "procedure:yomail-toroku"),
    // Readings of other words; full-width Latin.
    ("122289", "いんかんとうろく", "procedure:inkan-toroku"),
    ("242021", "こせき", "procedure:koseki-shomei"),
    ("122289", "そだいごみ", "procedure:sodai-gomi"),
    ("242021", "ｽﾏﾎ教室", "procedure:smartphone-class"),
    // Sentences as residents type them.
    ("122289", "住民票の写しがほしい", "procedure:juminhyo-copy"),
    ("242021", "犬を飼い始めた", "procedure:inu-toroku"),
    // Navigator pages are found too.
    ("122289", "おくやみ", "navi:death"),
];

/// The same search limited to one kind of page (`kind=procedure`, …).
async fn search_kind(app: &TestApp, tenant: &str, q: &str, kind: &str) -> Value {
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/{tenant}/search")))
        .query(&[("q", q), ("kind", kind)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{tenant} {q} {kind}");
    r.json().await.unwrap()
}

async fn relevance(app: &TestApp) {
    let mut failures = Vec::new();
    // The FAQ answers many of these questions too (and may rank first for
    // everything): each expected page must come first among its kind.
    for (tenant, q, want) in RELEVANCE {
        let kind = want.split(':').next().unwrap();
        let v = search_kind(app, tenant, q, kind).await;
        let got = ids(&v);
        if got.first().map(String::as_str) != Some(*want) {
            failures.push(format!(
                "{tenant} {q}: want {want}, got {:?}",
                &got[..got.len().min(3)]
            ));
        }
    }
    // FAQ entries are found by what residents type, in writing or reading.
    for (tenant, q, title_part) in [
        ("122289", "マイナンバーカードの暗証番号を忘れた", "暗証番号"),
        ("242021", "そだいごみ", "粗大ごみ"),
        ("122289", "いんかんとうろく", "印鑑登録"),
    ] {
        let v = search_kind(app, tenant, q, "faq").await;
        let first = v["hits"][0]["title"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !first.contains(title_part) {
            failures.push(format!(
                "{tenant} {q}: want an FAQ on {title_part}, got {first:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "relevance:\n{}", failures.join("\n"));
    // A question in another language finds the procedure by its
    // translation (the demo content is in every language).
    for (q, want) in [
        ("certificate of residence", "procedure:juminhyo-copy"),
        ("atestado de residência", "procedure:juminhyo-copy"),
        ("Phiếu cư trú", "procedure:juminhyo-copy"),
        ("居民证明", "procedure:juminhyo-copy"),
        ("주민표 사본", "procedure:juminhyo-copy"),
        ("registro de cão", "procedure:inu-toroku"),
        ("Đăng ký chó", "procedure:inu-toroku"),
        ("개 등록", "procedure:inu-toroku"),
    ] {
        let got = ids(&search_kind(app, "122289", q, "procedure").await);
        assert_eq!(got.first().map(String::as_str), Some(want), "{q}: {got:?}");
    }
    // Facets: departments and life events, with names; filtering.
    let v = search(app, "122289", "届").await;
    let deps = v["facets"]["departments"].as_array().unwrap();
    assert!(!deps.is_empty() && deps[0]["name"].as_str().unwrap().ends_with('課'));
    let events = v["facets"]["life_events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["code"] == "moving-in"));
    let total = v["total"].as_u64().unwrap();
    let dep = deps[0]["code"].as_str().unwrap();
    let r: Value = app
        .client()
        .get(app.url("/api/v1/t/122289/search"))
        .query(&[("q", "届"), ("department", dep)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["total"].as_u64().unwrap(),
        deps[0]["count"].as_u64().unwrap()
    );
    assert!(r["total"].as_u64().unwrap() <= total);
    for h in r["hits"].as_array().unwrap() {
        assert_eq!(h["department"], dep);
    }
    // The page: results, facets as links, kinds named.
    let html = app
        .client()
        .get(app.url("/t/122289/search?q=%E3%81%98%E3%82%85%E3%81%86%E3%81%BF%E3%82%93%E3%81%B2%E3%82%87%E3%81%86"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("/t/122289/procedures/juminhyo-copy"));
    assert!(html.contains("department="));
    // Tenants are separate: a 四日市市-only procedure is not in 四街道市.
    let v = search(app, "122289", "法人設立").await;
    assert!(ids(&v).iter().all(|id| id != "procedure:hojin-setsuritsu"));
    assert!(ids(&search(app, "242021", "法人設立").await)
        .contains(&"procedure:hojin-setsuritsu".to_string()));
}

async fn misses_and_synonyms(app: &TestApp) {
    // A query that finds nothing is logged, digits masked, counted (the
    // same words with other digits count as the same query).
    let html = app
        .client()
        .get(app.url("/t/122289/search?q=%E3%81%B4%E3%82%88%E3%81%B4%E3%82%88"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("/t/122289/navi"),
        "no-result page offers the navigator"
    );
    for _ in 0..3 {
        let v = search(app, "122289", "ぴよぴよ 090-1234-5678").await;
        assert_eq!(v["total"], 0, "{v}");
    }
    search(app, "122289", "ドローン飛行許可").await;
    let admin = app.staff("122289", "dx-admin").await;
    let m: Value = admin
        .get(app.url("/api/v1/t/122289/staff/search/misses"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let misses = m["misses"].as_array().unwrap();
    assert_eq!(misses[0]["count"], 4, "{misses:?}");
    assert!(misses[0]["sample"].as_str().unwrap().contains("＊-＊-＊"));
    // The texts kept (not the timestamps, whose digits may contain
    // anything) never hold the typed digits.
    for miss in misses {
        for field in ["folded", "sample"] {
            let text = miss[field].as_str().unwrap();
            assert!(
                !text.contains("1234"),
                "digits are never stored: {field} {text}"
            );
        }
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM search_misses WHERE sample LIKE '%1234%'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM search_misses WHERE tenant = '242021'")
            .await,
        0
    );
    // Residents and clerks cannot read the log; another tenant's staff neither.
    let r = app
        .client()
        .get(app.url("/api/v1/t/122289/staff/search/misses"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let clerk = app.staff("122289", "clerk").await;
    let r = clerk
        .get(app.url("/t/122289/staff/search"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let other = app.staff("242021", "dx-admin").await;
    let r = other
        .get(app.url("/api/v1/t/122289/staff/search/misses"))
        .send()
        .await
        .unwrap();
    assert!(r.status() == StatusCode::UNAUTHORIZED || r.status() == StatusCode::FORBIDDEN);

    // The staff page lists it first; a synonym group makes it findable at
    // once; the change is undoable.
    let html = admin
        .get(app.url("/t/122289/staff/search"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("ぴよぴよ ＊-＊-＊"));
    let token = testkit::csrf_in(&html).unwrap();
    let r = admin
        .post(app.url("/t/122289/staff/search/synonyms"))
        .form(&[("_csrf", token.as_str()), ("terms", "ドローン\n道路占用")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = search(app, "122289", "ドローン").await;
    assert_eq!(
        ids(&v).first().map(String::as_str),
        Some("procedure:doro-senyo")
    );
    let r = admin
        .post(app.url("/t/122289/staff/search/synonyms/undo"))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = search(app, "122289", "ドローン").await;
    assert_eq!(v["total"], 0, "{v}");
    // Bad synonym input: message naming the field, nothing saved.
    let before = app.count("SELECT COUNT(*) FROM search_synonyms").await;
    let r = admin
        .post(app.url("/t/122289/staff/search/synonyms"))
        .form(&[("_csrf", token.as_str()), ("terms", "ひとつだけ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("2つ以上"));
    let r = admin
        .post(app.url("/api/v1/t/122289/staff/search/synonyms"))
        .json(&serde_json::json!({"terms": ["・・", "マイナ"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["fields"][0]["field"], "terms", "{e}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM search_synonyms").await,
        before
    );
    // Dismissed misses leave the list; every change is audited.
    let r = admin
        .post(app.url("/t/122289/staff/search/misses/dismiss"))
        .form(&[
            ("_csrf", token.as_str()),
            ("folded", misses[0]["folded"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let m: Value = admin
        .get(app.url("/api/v1/t/122289/staff/search/misses"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(m["misses"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["folded"] != misses[0]["folded"]));
    assert!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE tenant = '122289' AND action LIKE 'search.%'"
        )
        .await
            >= 3
    );
}

async fn index_follows_catalogue(app: &TestApp) {
    assert_eq!(search(app, "122289", "ひまわり畑").await["total"], 0);
    let admin = app.staff("122289", "dx-admin").await;
    let all: Value = admin
        .get(app.url("/api/v1/t/122289/staff/catalogue"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = all
        .as_array()
        .or_else(|| all["procedures"].as_array())
        .unwrap();
    let mut p = list
        .iter()
        .find(|p| p["id"] == "sodai-gomi")
        .unwrap()
        .clone();
    let version = app
        .count("SELECT MAX(version) FROM procedures WHERE tenant = '122289' AND id = 'sodai-gomi'")
        .await;
    p["description"]["ja"] = Value::from("ひまわり畑の近くでも収集します。");
    let body = serde_json::json!({"procedure": p, "version": version});
    let r = admin
        .put(app.url("/api/v1/t/122289/staff/procedures/sodai-gomi"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let v = search(app, "122289", "ひまわり畑").await;
    assert_eq!(
        ids(&v).first().map(String::as_str),
        Some("procedure:sodai-gomi")
    );
    assert!(v["hits"][0]["snippet"]
        .as_str()
        .unwrap()
        .contains("ひまわり畑"));
}

async fn bad_queries(app: &TestApp) {
    let c = app.client();
    for (q, field_msg) in [
        ("", "入力してください"),
        ("   ", "入力してください"),
        (&"あ".repeat(201)[..], "200文字"),
        ("？？！！", "記号だけ"),
        ("住民\u{7}票", "制御文字"),
    ] {
        let r = c
            .get(app.url("/t/122289/search"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q:?}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(field_msg) && html.contains("field-q"),
            "{q:?}"
        );
        let r = c
            .get(app.url("/api/v1/t/122289/search"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["fields"][0]["field"], "q");
    }
    // Huge query string, malformed filters and pages: messages, not errors.
    let r = c
        .get(app.url(&format!("/t/122289/search?q={}", "x".repeat(20_000))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for extra in [
        "department=nope",
        "life_event=wedding",
        "kind=knowledge",
        "page=0",
        "page=abc",
        "page=99999999999999999999",
    ] {
        let r = c
            .get(app.url(&format!(
                "/t/122289/search?q=%E4%BD%8F%E6%B0%91%E7%A5%A8&{extra}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{extra}");
    }
    // Bytes that are not UTF-8 are refused like any other bad query.
    let r = c
        .get(app.url("/t/122289/search?q=%FF%FE"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The first visit is the empty form.
    let r = c.get(app.url("/t/122289/search")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // No misses were logged for bad input.
    assert_eq!(app.count("SELECT COUNT(*) FROM search_misses").await, 0);
}

testkit::on_both_backends!(
    relevance,
    misses_and_synonyms,
    index_follows_catalogue,
    bad_queries
);
