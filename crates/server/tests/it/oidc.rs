//! Resident sign-in with OpenID Connect, end to end against a real OpenID
//! Provider (the npm package `oidc-provider` 9, started by this test from
//! `e2e/oidc/provider.mjs`): authorization code with PKCE, state, nonce,
//! private_key_jwt, ID token checks. Each attack the provider harness can
//! stage is refused, and nothing is signed in.
//!
//! A second provider is set up as the spec's defaults and a real
//! deployment have it: another site (`localhost`), an issuer with a path,
//! ES256 ID tokens, a three-key set, claims only at userinfo. Against it:
//! every claim shape the spec allows, userinfo failing and claims missing
//! (nobody signed in), a refused code (`invalid_grant`), and keys rotated
//! or re-keyed under the same `kid`.
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

fn start_provider(
    port: u16,
    redirect_uri: &str,
    jwks_file: &std::path::Path,
    extra: &[&str],
) -> Provider {
    let mut child = Command::new("node")
        .arg(e2e_dir().join("oidc/provider.mjs"))
        .args(["--port", &port.to_string(), "--redirect-uri", redirect_uri])
        .args(extra)
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

/// The sign-in link of the sign-in page (the page's own, HTML-unescaped).
async fn start_link(app: &TestApp, c: &reqwest::Client, return_to: &str) -> String {
    let r = c
        .get(app.url(&format!("/t/{T}/sign-in?return_to={return_to}")))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("form-action 'self';"), "{csp}");
    let html = r.text().await.unwrap();
    let at = html
        .find(&format!("href=\"/t/{T}/sign-in/oidc?"))
        .expect("the sign-in link")
        + "href=\"".len();
    let end = at + html[at..].find('"').unwrap();
    app.url(&html[at..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// Sign-in through the provider with a browser-like client; returns the
/// callback URL the provider sent the browser to (not yet visited).
async fn to_callback(app: &TestApp, c: &reqwest::Client) -> String {
    to_callback_for(app, c, &format!("/t/{T}/account")).await
}

async fn to_callback_for(app: &TestApp, c: &reqwest::Client, return_to: &str) -> String {
    let link = start_link(app, c, return_to).await;
    let r = c.get(&link).send().await.unwrap();
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
        .post(format!("{}/__test/mode", p.origin()))
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
    let provider = start_provider(
        port,
        &app.url(&format!("/t/{T}/auth/callback")),
        &jwks_file,
        &[],
    );
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

/// The sign-in starts only from this browser's own sign-in page: without
/// the page's link token, or with another browser's, nothing starts.
async fn start_needs_the_pages_token(app: &TestApp) {
    let requests = app.count("SELECT COUNT(*) FROM oidc_requests").await;
    let c = app.client();
    let own = start_link(app, &c, &format!("/t/{T}/account")).await;
    let r = c
        .get(app.url(&format!("/t/{T}/sign-in/oidc?return_to=/t/{T}/account")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("MDG-403-csrf"));
    let other = app.client();
    other
        .get(app.url(&format!("/t/{T}/sign-in")))
        .send()
        .await
        .unwrap();
    let r = other.get(&own).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "another browser's link");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM oidc_requests").await,
        requests,
        "nothing started"
    );
}

struct Setup {
    dir: std::path::PathBuf,
    key_file: std::path::PathBuf,
    jwks_file: std::path::PathBuf,
}

impl Setup {
    fn new() -> Self {
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
        Self {
            dir,
            key_file,
            jwks_file,
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn set_claims(p: &Provider, claims: serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/__test/account", p.origin()))
        .json(&claims)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "claims {claims}");
}

async fn jwks_fetches(p: &Provider) -> i64 {
    let stats: serde_json::Value = reqwest::get(format!("{}/__test/stats", p.origin()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["jwks_fetches"].as_i64().unwrap()
}

async fn change_keys(p: &Provider, action: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/__test/keys", p.origin()))
        .json(&json!({ "action": action }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "keys {action}");
}

impl Provider {
    /// Scheme, host and port, without the issuer's path.
    fn origin(&self) -> String {
        self.issuer
            .splitn(4, '/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Signs in through the provider; the callback's answer.
async fn sign_in(app: &TestApp, c: &reqwest::Client) -> reqwest::Response {
    let callback = to_callback(app, c).await;
    c.get(&callback).send().await.unwrap()
}

async fn account_page(app: &TestApp, c: &reqwest::Client) -> String {
    let r = c
        .get(app.url(&format!("/t/{T}/account")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "signed in");
    r.text().await.unwrap()
}

/// A provider as the spec's defaults have it, on another site.
async fn spec_scenario(backend: Backend) {
    if !available() {
        return;
    }
    let setup = Setup::new();
    let port = free_port();
    let issuer = format!("http://localhost:{port}/oidc");
    let key_file = setup.key_file.display().to_string();
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.oidc = Some(kernel::config::OidcConfig {
            issuer: issuer.clone(),
            client_id: "madoguchi".into(),
            client_key_file: key_file,
            scopes: "openid name address birthdate gender".into(),
            identity_level: "my_number_card".into(),
            label_ja: "マイナンバーカード（デジタル認証アプリ）".into(),
        });
    })
    .await
    else {
        return;
    };
    let provider = start_provider(
        port,
        &app.url(&format!("/t/{T}/auth/callback")),
        &setup.jwks_file,
        &[
            "--host",
            "localhost",
            "--issuer-path",
            "/oidc",
            "--id-token-alg",
            "ES256",
            "--claims",
            "userinfo",
        ],
    );
    assert_eq!(provider.issuer, issuer);
    start_needs_the_pages_token(&app).await;

    // Claims only at userinfo, in the default shape.
    let c = app.client();
    let r = sign_in(&app, &c).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let html = account_page(&app, &c).await;
    assert!(
        html.contains("四街道 花子") && html.contains("千葉県四街道市鹿渡無番地"),
        "{html}"
    );
    assert!(html.contains("平成2年4月1日（1990年）"), "{html}");

    // family_name + given_name, an address without `formatted`, a year-only
    // birth date and a gender other than female/male.
    set_claims(
        &provider,
        json!({
            "family_name": "四街道", "given_name": "花子",
            "address": {"postal_code": "284-0003", "region": "千葉県", "locality": "四街道市",
                        "street_address": "鹿渡無番地", "country": "JP"},
            "birthdate": "1985", "gender": "diverse"
        }),
    )
    .await;
    let c = app.client();
    let r = sign_in(&app, &c).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let html = account_page(&app, &c).await;
    assert!(html.contains("四街道 花子"), "{html}");
    assert!(
        html.contains("〒284-0003 千葉県四街道市鹿渡無番地"),
        "{html}"
    );
    assert!(
        html.contains("1985年（月日は本人確認サービスから提供されていません）"),
        "{html}"
    );
    assert!(
        html.contains(">その他 <span") && !html.contains("resident.gender"),
        "{html}"
    );
    // The partial birth date does not fill (or lock) the がん検診 form's
    // date field: the resident types it and can go on.
    let form = c
        .get(app.url(&format!("/t/{T}/procedures/gan-kenshin/apply")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tag = |name: &str| {
        let at = form
            .find(&format!(
                "<input class=\"input input--medium\" type=\"text\" id=\"field-{name}\""
            ))
            .or_else(|| {
                form.find(&format!("id=\"field-{name}\" name="))
                    .map(|i| form[..i].rfind('<').unwrap())
            })
            .unwrap_or_else(|| panic!("field {name}: {form}"));
        form[at..at + form[at..].find('>').unwrap()].to_string()
    };
    let birth = tag("birth_date");
    assert!(
        !birth.contains("readonly") && birth.contains("value=\"\""),
        "{birth}"
    );
    assert!(
        tag("applicant").contains("readonly"),
        "{}",
        tag("applicant")
    );
    let r = c
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/gan-kenshin/applications"
        )))
        .header("idempotency-key", kernel::ids::token())
        .json(
            &json!({"answers": {"applicant": {"name": "別人 太郎", "kana": "しかわたり はなこ"},
                       "birth_date": "1985-06-15", "phone": "043-421-2111", "style": "group"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM applications WHERE procedure_id = 'gan-kenshin' AND applicant_name LIKE '四街道%花子' AND applicant_name NOT LIKE '%別人%'").await,
        1,
        "the verified name, not the typed one"
    );

    // A birth date with the year withheld (0000-MM-DD).
    set_claims(
        &provider,
        json!({"name": "四街道 花子", "address": {"formatted": "千葉県四街道市鹿渡無番地"}, "birthdate": "0000-04-01"}),
    )
    .await;
    let c = app.client();
    assert_eq!(sign_in(&app, &c).await.status(), StatusCode::SEE_OTHER);
    let html = account_page(&app, &c).await;
    assert!(
        html.contains("4月1日（年は本人確認サービスから提供されていません）"),
        "{html}"
    );

    // Fails closed: userinfo answering 500, or the claims not there.
    let failures = |code: &str| {
        format!("SELECT COUNT(*) FROM audit_log WHERE action = 'resident.sign_in_failed' AND detail LIKE '%{code}%'")
    };
    for (what, claims) in [
        ("userinfo_error", json!({})),
        ("normal", json!({"gender": "female"})),
    ] {
        set_mode(&provider, what).await;
        set_claims(&provider, claims).await;
        let sessions = app.count("SELECT COUNT(*) FROM resident_sessions").await;
        let c = app.client();
        let r = sign_in(&app, &c).await;
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY, "{what}");
        let html = r.text().await.unwrap();
        assert!(html.contains("MDG-502-oidc-claims"), "{what}: {html}");
        assert!(
            html.contains("氏名・住所・生年月日を受け取れなかったため、サインインしていません"),
            "{html}"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM resident_sessions").await,
            sessions,
            "{what}"
        );
        let r = c
            .get(app.url(&format!("/t/{T}/account")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{what}: not signed in");
    }
    assert_eq!(app.count(&failures("MDG-502-oidc-claims")).await, 2);
    set_mode(&provider, "normal").await;
    set_claims(&provider, json!({})).await;

    // A code the provider refuses (already used): invalid_grant, said so,
    // with a way to start again that keeps where the resident was going.
    let c = app.client();
    let used = to_callback(&app, &c).await;
    assert_eq!(
        c.get(&used).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let c = app.client();
    let fresh = to_callback_for(&app, &c, &format!("/t/{T}/procedures/gan-kenshin/apply")).await;
    let param = |url: &str, name: &str| {
        url.split(['?', '&'])
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_string()
    };
    let replay = format!(
        "{}?code={}&state={}",
        app.url(&format!("/t/{T}/auth/callback")),
        param(&used, "code"),
        param(&fresh, "state")
    );
    let sessions = app.count("SELECT COUNT(*) FROM resident_sessions").await;
    let r = c.get(&replay).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("MDG-401-oidc-grant"), "{html}");
    assert!(
        html.contains("有効期限が切れたか、すでに使われています"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "href=\"/t/{T}/sign-in?return_to=%2Ft%2F{T}%2Fprocedures%2Fgan-kenshin%2Fapply\""
        )),
        "{html}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM resident_sessions").await,
        sessions
    );
    assert_eq!(app.count(&failures("MDG-401-oidc-grant")).await, 1);

    // Keys: a rotation to the next key of the set (already cached: no
    // fetch), then new material under the same kid: the cached key fails,
    // the set is fetched again once, and the sign-in goes through.
    for (action, fetches) in [("rotate", 0), ("rekey", 1)] {
        let before = jwks_fetches(&provider).await;
        change_keys(&provider, action).await;
        let c = app.client();
        let r = sign_in(&app, &c).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{action}: {}",
            r.text().await.unwrap()
        );
        assert!(account_page(&app, &c).await.contains("四街道 花子"));
        assert_eq!(jwks_fetches(&provider).await - before, fetches, "{action}");
    }
    // A forged signature right after: refused, and the set is not fetched
    // again (at most once per 10 s).
    let before = jwks_fetches(&provider).await;
    set_mode(&provider, "tamper_signature").await;
    let c = app.client();
    let r = sign_in(&app, &c).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("MDG-401-oidc-token"));
    assert_eq!(
        jwks_fetches(&provider).await,
        before,
        "no fetch within 10 s"
    );
    drop(provider);
    app.cleanup().await;
}

/// Userinfo as a signed JWT (`application/jwt`), the claims only there: the
/// JWT is verified like an ID token and its claims are the resident's.
/// Protocol only: the store plays no part, so SQLite alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_signed_userinfo() {
    if !available() {
        return;
    }
    let setup = Setup::new();
    let port = free_port();
    let issuer = format!("http://localhost:{port}");
    let key_file = setup.key_file.display().to_string();
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.oidc = Some(kernel::config::OidcConfig {
            issuer: issuer.clone(),
            client_id: "madoguchi".into(),
            client_key_file: key_file,
            scopes: "openid name address birthdate gender".into(),
            identity_level: "my_number_card".into(),
            label_ja: "マイナンバーカード（デジタル認証アプリ）".into(),
        });
    })
    .await
    else {
        return;
    };
    let provider = start_provider(
        port,
        &app.url(&format!("/t/{T}/auth/callback")),
        &setup.jwks_file,
        &[
            "--host",
            "localhost",
            "--claims",
            "userinfo",
            "--signed-userinfo",
        ],
    );
    assert_eq!(provider.issuer, issuer);
    let c = app.client();
    let r = sign_in(&app, &c).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let html = account_page(&app, &c).await;
    assert!(
        html.contains("四街道 花子") && html.contains("千葉県四街道市鹿渡無番地"),
        "{html}"
    );
    drop(provider);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_spec_provider_sqlite() {
    spec_scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_spec_provider_postgres() {
    spec_scenario(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_sign_in_sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_sign_in_postgres() {
    scenario(Backend::Postgres).await;
}
