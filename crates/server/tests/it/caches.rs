//! What a server keeps in memory is dropped on every server when it
//! changes (`kernel::events`): a resident's sign-out on A ends the session
//! on B at once, and a procedure saved on A is what B validates against
//! within a second, before B's own copy would have expired.
//!
//! Two servers share one database only on PostgreSQL (`TestApp::peer`);
//! on SQLite one process is the only supported shape, and the same
//! behaviour on one server has its tests in `security` and `api`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::{Backend, TestApp};

const T: &str = "122289";

async fn pair() -> Option<(TestApp, TestApp)> {
    let a = TestApp::spawn(Backend::Postgres).await?;
    let b = a.peer().await;
    Some((a, b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_sign_out_on_a_ends_the_session_on_b_at_once() {
    let Some((a, b)) = pair().await else { return };
    let leaving = a.client();
    let token = a.csrf(&leaving, &format!("/t/{T}/sign-in")).await;
    let r = leaving
        .post(a.url(&format!("/t/{T}/sign-in/dev")))
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "四街道 花子"),
            ("address", "四街道市"),
            ("birthdate", "1990-04-01"),
            ("level", "signed_in"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = testkit::set_cookie(&r, "mdg_resident").unwrap();
    let on_b = || async {
        b.client()
            .get(b.url(&format!("/t/{T}/account")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status()
    };
    // B reads the session and keeps it (for `kernel::resident::CACHE_MS`).
    assert_eq!(on_b().await, StatusCode::OK);
    assert_eq!(on_b().await, StatusCode::OK);
    let token = a.csrf(&leaving, &format!("/t/{T}/account")).await;
    let r = leaving
        .post(a.url(&format!("/t/{T}/sign-out")))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let signed_out = Instant::now();
    loop {
        let status = on_b().await;
        if status == StatusCode::SEE_OTHER {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            signed_out.elapsed() < Duration::from_secs(1),
            "B still trusts the session a second after the sign-out on A"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.cleanup().await;
    a.cleanup().await;
}

fn procedure(required: bool) -> Value {
    json!({
        "id": "cache-test",
        "name": {"ja": "キャッシュ試験"},
        "description": {"ja": "試験用の手続です。"},
        "department": "madoguchi",
        "life_events": [],
        "channels": "both",
        "identity_level": "none",
        "fee_yen": 0,
        "documents": [],
        "processing_time": {"ja": "即日"},
        "legal_basis": "試験",
        "form": {"fields": [
            {"name": "note", "type": "text", "label": {"ja": "備考"}, "required": required}
        ]}
    })
}

async fn save(a: &TestApp, admin: &reqwest::Client, required: bool, version: Option<i64>) -> i64 {
    let r = admin
        .put(a.url(&format!("/api/v1/t/{T}/staff/procedures/cache-test")))
        .json(&json!({"procedure": procedure(required), "version": version}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let b: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{status} {b}");
    b["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("a version: {b}"))
}

/// 200 if empty answers pass (note optional), 422 if not.
async fn validate(b: &TestApp) -> StatusCode {
    b.client()
        .post(b.url(&format!("/api/v1/t/{T}/procedures/cache-test/validate")))
        .json(&json!({"answers": {}}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_edit_on_a_is_served_by_b_within_one_second() {
    let Some((a, b)) = pair().await else { return };
    let admin = a.staff(T, "dx-admin").await;
    let mut version = save(&a, &admin, false, None).await;
    let mut required = false;
    // B's copy lives for catalogue::Cache::TTL_MS; a change seen before
    // then was evicted by the event. A round whose save took too long to
    // tell is repeated (a loaded machine).
    let ttl = Duration::from_millis(catalogue::Cache::TTL_MS as u64);
    let mut proven = false;
    for _ in 0..5 {
        let want_before = if required {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        // Wait for B to serve the current version, then keep it cached.
        let start = Instant::now();
        while validate(&b).await != want_before {
            assert!(start.elapsed() < Duration::from_secs(2));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let cached = Instant::now();
        required = !required;
        let want_after = if required {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        // B is asked while A saves (A's answer waits for its own search
        // index too); the save is done once its response is in.
        let saving = save(&a, &admin, required, Some(version));
        tokio::pin!(saving);
        let mut saved_at: Option<Instant> = None;
        let seen = loop {
            tokio::select! {
                v = &mut saving, if saved_at.is_none() => {
                    version = v;
                    saved_at = Some(Instant::now());
                }
                status = validate(&b) => {
                    if status == want_after {
                        break Instant::now();
                    }
                    if let Some(at) = saved_at {
                        assert!(
                            at.elapsed() < Duration::from_secs(1),
                            "B served the old procedure a second after the save on A"
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        };
        if saved_at.is_none() {
            version = saving.await;
        }
        eprintln!(
            "new version seen {:?} after B cached the old one",
            seen - cached
        );
        if seen - cached < ttl {
            proven = true;
            break;
        }
    }
    assert!(
        proven,
        "no round was quick enough to tell eviction from expiry"
    );
    b.cleanup().await;
    a.cleanup().await;
}
