//! Resident sign-in with OpenID Connect, end to end against a real OpenID
//! Provider (the npm package `oidc-provider` 9, started by this test from
//! `e2e/oidc/provider.mjs`): authorization code with PKCE, state, nonce,
//! private_key_jwt, ID token checks. Each attack the provider harness can
//! stage is refused, and nothing is signed in.
//!
//! Needs Node.js and `npm ci` in `e2e/` (scripts/test does both). Without
//! them the test says so and passes, except under CI, where it fails.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::json;
use testkit::{Backend, TestApp};

const T: &str = "122289";

struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn e2e_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e")
}

fn available() -> bool {
    let ok = e2e_dir().join("node_modules/oidc-provider").is_dir()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs Node.js and `npm ci` in e2e/ for the OpenID Connect test"
        );
        eprintln!("skipped: Node.js or e2e/node_modules/oidc-provider missing (run scripts/test)");
    }
    ok
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_provider(port: u16, redirect_uri: &str, jwks_file: &std::path::Path) -> Provider {
    let mut child = Command::new("node")
        .arg(e2e_dir().join("oidc/provider.mjs"))
        .args(["--port", &port.to_string(), "--redirect-uri", redirect_uri])
        .arg("--client-jwks")
        .arg(jwks_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).expect("provider ready line");
    Provider {
        child,
        issuer: ready["issuer"].as_str().unwrap().to_string(),
    }
}

/// Sign-in through the provider with a browser-like client; returns the
/// callback URL the provider sent the browser to (not yet visited).
async fn to_callback(app: &TestApp, c: &reqwest::Client) -> String {
    let token = app.csrf(c, &format!("/t/{T}/sign-in")).await;
    let r = c
        .post(app.url(&format!("/t/{T}/sign-in/oidc")))
        .form(&[
            ("_csrf", token.as_str()),
            ("return_to", &format!("/t/{T}/account")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("code_challenge_method=S256") && location.contains("nonce="));
    assert!(location.contains("scope=openid+name+address+birthdate+gender"));
    let callback = app.url(&format!("/t/{T}/auth/callback"));
    for _ in 0..10 {
        if location.starts_with(&callback) {
            return location;
        }
        let r = c.get(&location).send().await.unwrap();
        assert!(
            r.status().is_redirection(),
            "provider said {}: {}",
            r.status(),
            r.text().await.unwrap()
        );
        let next = r.headers()["location"].to_str().unwrap().to_string();
        location = if next.starts_with('/') {
            let origin: String = location
                .splitn(4, '/')
                .take(3)
                .collect::<Vec<_>>()
                .join("/");
            format!("{origin}{next}")
        } else {
            next
        };
    }
    panic!("no callback after 10 redirects");
}

async fn set_mode(p: &Provider, mode: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/__test/mode", p.issuer))
        .json(&json!({ "mode": mode }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "mode {mode}");
}

async fn scenario(backend: Backend) {
    if !available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!(
        "madoguchi-oidc-{}-{}",
        std::process::id(),
        kernel::ids::short_id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = identity::oidc::generate_key_pem().unwrap();
    let (jwk, _) = identity::oidc::public_jwk(&pem).unwrap();
    let key_file = dir.join("client.pem");
    let jwks_file = dir.join("client-jwks.json");
    std::fs::write(&key_file, &pem).unwrap();
    std::fs::write(&jwks_file, json!({ "keys": [jwk] }).to_string()).unwrap();
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.oidc = Some(kernel::config::OidcConfig {
            issuer: issuer.clone(),
            client_id: "madoguchi".into(),
            client_key_file: key_file.display().to_string(),
            scopes: "openid name address birthdate gender".into(),
            identity_level: "my_number_card".into(),
            label_ja: "マイナンバーカード（デジタル認証アプリ）".into(),
        });
    })
    .await
    else {
        return;
    };
    let provider = start_provider(port, &app.url(&format!("/t/{T}/auth/callback")), &jwks_file);
    assert_eq!(provider.issuer, issuer);

    // Our public key is published for providers that fetch it.
    let jwks: serde_json::Value = app
        .client()
        .get(app.url("/auth/oidc/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert!(jwks["keys"][0].get("d").is_none());

    // A callback URL used in another browser (stolen, or planted for a
    // login CSRF) is refused, and the browser that started can still finish.
    let c = app.client();
    let callback = to_callback(&app, &c).await;
    let thief = app.client();
    let r = thief.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("MDG-401-oidc-state"));
    // The happy path: PKCE, private_key_jwt, ID token and userinfo.
    let r = c.get(&callback).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(r.headers()["location"], format!("/t/{T}/account"));
    let html = c
        .get(app.url(&format!("/t/{T}/account")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("四街道 花子") && html.contains("千葉県四街道市鹿渡無番地"),
        "{html}"
    );
    assert!(html.contains("マイナンバーカード"));
    // The identity level it proves opens the card-only procedures.
    let r = c
        .post(app.url(&format!("/api/v1/t/{T}/procedures/juminhyo-copy/applications")))
        .header("idempotency-key", kernel::ids::token())
        .json(&json!({"answers": {"applicant": {"name": "x", "kana": "しかわたり はなこ"}, "scope": "individual", "copies": 1, "purpose": "employment", "delivery": "post"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Claims are sealed at rest; the subject is only a keyed hash.
    assert_eq!(app.count("SELECT COUNT(*) FROM resident_sessions WHERE claims LIKE '%花子%' OR subject_hash LIKE '%test-resident%'").await, 0);

    // A replayed state (the same callback again) is refused.
    let other = app.client();
    let r = other.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("MDG-401-oidc-state"));

    // Each forged ID token is refused and signs nobody in.
    for (mode, code) in [
        ("tamper_signature", "MDG-401-oidc-token"),
        ("wrong_nonce", "MDG-401-oidc-nonce"),
        ("wrong_audience", "MDG-401-oidc-token"),
        ("expired", "MDG-401-oidc-token"),
        ("wrong_issuer", "MDG-401-oidc-token"),
        ("alg_none", "MDG-401-oidc-token"),
    ] {
        set_mode(&provider, mode).await;
        let sessions = app.count("SELECT COUNT(*) FROM resident_sessions").await;
        let c = app.client();
        let callback = to_callback(&app, &c).await;
        let r = c.get(&callback).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{mode}");
        let html = r.text().await.unwrap();
        assert!(html.contains(code), "{mode}: {html}");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM resident_sessions").await,
            sessions,
            "{mode}"
        );
        let r = c
            .get(app.url(&format!("/t/{T}/account")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{mode}: not signed in");
    }
    set_mode(&provider, "normal").await;
    // A state that never existed, and a callback without a code.
    let c = app.client();
    for q in [
        "code=x&state=never-issued",
        "state=abc",
        "error=access_denied&state=abc",
    ] {
        let r = c
            .get(app.url(&format!("/t/{T}/auth/callback?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{q}");
    }
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'resident.sign_in_failed'")
            .await
            >= 9,
        "refusals are audited"
    );
    drop(provider);
    app.cleanup().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_sign_in_sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_sign_in_postgres() {
    scenario(Backend::Postgres).await;
}
