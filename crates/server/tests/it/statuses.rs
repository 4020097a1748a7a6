//! The statuses the API answers and the OpenAPI document promises: a
//! tenant in the path that is not a 全国地方公共団体コード is 404 before any
//! handler (resident, staff and state-changing routes alike), a method no
//! route has is 405, and each operation lists the standard errors of its
//! kind. (`scripts/api-fuzz.sh` checks the rest with a fuzzer.)

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::{Backend, TestApp};

async fn error_code(r: reqwest::Response) -> String {
    let v: Value = r.json().await.unwrap();
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_that_is_no_municipality_code_is_404_before_any_handler() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let anyone = app.client();
    let staff = app.staff("122289", "dx-admin").await;
    let bad = [
        "abc",
        "null%2Cnull",
        "122288",                                                 // wrong check digit
        "999997", // check digit right, no prefecture 99
        "12228",  // five digits
        "%EF%BC%91%EF%BC%92%EF%BC%92%EF%BC%92%EF%BC%98%EF%BC%99", // １２２２８９
    ];
    for t in bad {
        let cases: Vec<(&reqwest::Client, Method, String, Option<Value>)> = vec![
            (&anyone, Method::GET, format!("/api/v1/t/{t}"), None),
            (
                &anyone,
                Method::GET,
                format!("/api/v1/t/{t}/procedures/juminhyo-copy"),
                None,
            ),
            (
                &anyone,
                Method::POST,
                format!("/api/v1/t/{t}/drafts"),
                Some(json!({"procedure_id": "juminhyo-copy"})),
            ),
            (
                &anyone,
                Method::POST,
                format!("/api/v1/t/{t}/staff/session"),
                Some(json!({"id": "dx-admin", "password": "x", "code": "000000"})),
            ),
            // Signing out looks no tenant up: it answered 204 here.
            (
                &anyone,
                Method::DELETE,
                format!("/api/v1/t/{t}/staff/session"),
                None,
            ),
            (
                &staff,
                Method::DELETE,
                format!("/api/v1/t/{t}/staff/session"),
                None,
            ),
            // Staff routes: 404, not 401 (no session) or 403.
            (
                &anyone,
                Method::GET,
                format!("/api/v1/t/{t}/staff/cases"),
                None,
            ),
            (
                &staff,
                Method::GET,
                format!("/api/v1/t/{t}/staff/cases"),
                None,
            ),
            (
                &staff,
                Method::DELETE,
                format!("/api/v1/t/{t}/staff/search/synonyms/1"),
                None,
            ),
            (
                &staff,
                Method::POST,
                format!("/api/v1/t/{t}/staff/search/synonyms"),
                Some(json!({"terms": ["マイナ", "マイナンバーカード"]})),
            ),
        ];
        for (client, method, path, body) in cases {
            let mut req = client.request(method.clone(), app.url(&path));
            if let Some(b) = &body {
                req = req.json(b);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
            assert_eq!(error_code(r).await, "MDG-404-tenant", "{method} {path}");
        }
        // Pages too: the Japanese error page with the code.
        let r = anyone
            .get(app.url(&format!("/t/{t}/procedures")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "/t/{t}/procedures");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("お探しの自治体は見つかりませんでした")
                && html.contains("MDG-404-tenant"),
            "{html}"
        );
    }
    // The staff member is still signed in: no sign-out above reached them.
    let r = staff
        .get(app.url("/api/v1/t/122289/staff/cases"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A municipality code this deployment does not serve: the handlers say so.
    let r = anyone
        .get(app.url("/api/v1/t/131016/procedures"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(r).await, "MDG-404-tenant");
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_no_route_has_is_405_with_allow() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let c = app.client();
    for (method, path, allow) in [
        ("TRACE", "/healthz", "GET,HEAD"),
        ("PUT", "/healthz", "GET,HEAD"),
        ("DELETE", "/t/122289/procedures", "GET,HEAD"),
        ("PATCH", "/api/v1/t/122289/procedures", "GET,HEAD"),
        ("PUT", "/api/v1/t/122289/staff/session", "POST,DELETE"),
    ] {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let r = c.request(m, app.url(path)).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let mut got: Vec<String> = r.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        got.sort();
        let mut want: Vec<String> = allow.split(',').map(str::to_string).collect();
        want.sort();
        assert_eq!(got, want, "{method} {path}");
    }
    // A cross-site POST to a route that takes POST is still refused.
    let r = c
        .post(app.url("/t/122289/staff/sign-in"))
        .header("origin", "https://evil.example")
        .form(&[("id", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.cleanup().await;
}

/// The statuses one operation lists, sorted.
fn statuses(spec: &Value, path: &str, method: &str) -> Vec<String> {
    let mut s: Vec<String> = spec["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .cloned()
        .collect();
    s.sort();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_status() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let spec: Value = app
        .client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, method, want) in [
        (
            "/api/v1/t/{tenant}/staff/session",
            "post",
            &[
                "200", "400", "401", "403", "404", "413", "422", "429", "503",
            ][..],
        ),
        (
            "/api/v1/t/{tenant}/staff/session",
            "delete",
            &["204", "403", "404"][..],
        ),
        (
            "/api/v1/t/{tenant}/procedures/{id}/applications",
            "post",
            &["200", "201", "400", "403", "404", "413", "422", "429"][..],
        ),
        (
            "/api/v1/t/{tenant}/staff/procedures/{id}/applications",
            "post",
            &[
                "200", "201", "400", "401", "403", "404", "413", "422", "429",
            ][..],
        ),
        (
            "/api/v1/t/{tenant}/chat",
            "post",
            &["200", "400", "403", "404", "413", "422", "429"][..],
        ),
        (
            "/api/v1/t/{tenant}/status",
            "post",
            &["200", "400", "403", "404", "413", "422", "429"][..],
        ),
        (
            "/api/v1/t/{tenant}/procedures/{id}/validate",
            "post",
            &["200", "400", "403", "404", "413", "422"][..],
        ),
        ("/api/v1/t/{tenant}/procedures", "get", &["200", "404"][..]),
        ("/api/v1/t/{tenant}/kpi", "get", &["200", "400", "404"][..]),
        (
            "/api/v1/t/{tenant}/staff/cases",
            "get",
            &["200", "400", "401", "403", "404"][..],
        ),
        (
            "/api/v1/t/{tenant}/staff/outbox",
            "get",
            &["200", "401", "403", "404"][..],
        ),
        (
            "/api/v1/t/{tenant}/staff/search/synonyms/{id}",
            "delete",
            &["204", "401", "403", "404"][..],
        ),
        (
            "/api/v1/t/{tenant}/staff/navi/{lifeEvent}",
            "put",
            &[
                "200", "201", "400", "401", "403", "404", "409", "413", "422",
            ][..],
        ),
        ("/api/v1/tenants", "get", &["200"][..]),
    ] {
        assert_eq!(statuses(&spec, path, method), want, "{method} {path}");
    }
    // By kind, over every operation.
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let s = statuses(&spec, path, method);
            let has = |code: &str| s.iter().any(|x| x == code);
            if path.contains("{tenant}") {
                assert!(has("404"), "{method} {path}: 404");
            }
            if path.contains("/staff/") && !path.ends_with("/staff/session") {
                assert!(has("401") && has("403"), "{method} {path}: 401, 403");
            }
            if op.get("requestBody").is_some() {
                assert!(has("400") && has("413"), "{method} {path}: 400, 413");
            }
            if method != "get" {
                assert!(has("403"), "{method} {path}: 403 (CSRF)");
            }
            let concrete = path.replace("{tenant}", "122289");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            assert_eq!(
                has("429"),
                kernel::ratelimit::classify(&m, &concrete).is_some(),
                "{method} {path}: 429 exactly where the rate limiter counts"
            );
        }
    }
    assert_eq!(
        spec["components"]["parameters"]["tenant"]["schema"]["pattern"],
        "^(0[1-9]|[1-3][0-9]|4[0-7])[0-9]{4}$"
    );
    assert_eq!(
        spec["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"]["schema"]
            ["type"],
        "integer"
    );
    app.cleanup().await;
}

/// What the document says 400 is: a body that does not parse names the
/// field, also for signing in and the chatbot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_parse_is_400_naming_the_field() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let c = app.client();
    for (path, body, field) in [
        ("/api/v1/t/122289/staff/session", "{", "body"),
        ("/api/v1/t/122289/staff/session", r#"{"id": 1}"#, "id"),
        ("/api/v1/t/122289/chat", r#"{"message": 3}"#, "message"),
        ("/api/v1/t/122289/chat", r#"{"message": "a", "x": 1}"#, "x"),
        ("/api/v1/t/122289/drafts", "[]", "body"),
    ] {
        let r = c
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path} {body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "MDG-400", "{path} {body}");
        assert_eq!(
            v["error"]["fields"][0]["field"], field,
            "{path} {body}: {v}"
        );
    }
    // An id in the body that differs from the URL's is invalid (422, the
    // field named), not a body that does not parse.
    let admin = app.staff("122289", "dx-admin").await;
    let procedure: Value = c
        .get(app.url("/api/v1/t/122289/procedures/juminhyo-copy"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut p = procedure.clone();
    for k in ["version", "updated_at", "answers_schema"] {
        p.as_object_mut().unwrap().remove(k);
    }
    p["id"] = json!("juminhyo-other");
    let r = admin
        .put(app.url("/api/v1/t/122289/staff/procedures/juminhyo-copy"))
        .json(&json!({"procedure": p, "version": procedure["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["fields"][0]["field"], "procedure.id", "{v}");
    app.cleanup().await;
}
