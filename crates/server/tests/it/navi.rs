//! 手続ナビ over HTTP, on SQLite and PostgreSQL: for every life event of
//! both demo municipalities, the list follows the answers exactly as the
//! bundle's data says; the pages render; bad answers are named.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;
use testkit::TestApp;

fn tenant_json(code: &str) -> Value {
    let path = format!(
        "{}/../../data/demo/{code}/tenant.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The procedures a bundle lists when every question is answered `yes`
/// or every one `no`, computed from the data.
fn expected(bundle: &Value, yes: bool) -> Vec<String> {
    bundle["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| (i["when"].is_null() || yes) && (i["unless"].is_null() || !yes))
        .map(|i| i["procedure"].as_str().unwrap().to_string())
        .collect()
}

async fn navigator_outcomes(app: &TestApp) {
    let c = app.client();
    for tenant in ["122289", "242021"] {
        let t = tenant_json(tenant);
        let bundles = t["life_events"].as_array().unwrap();
        assert!(bundles.len() >= 5, "{tenant}: five life events");
        for b in bundles {
            let code = b["code"].as_str().unwrap();
            for yes in [true, false] {
                let answer = if yes { "yes" } else { "no" };
                let qs: Vec<String> = b["questions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|q| format!("{}={answer}", q["code"].as_str().unwrap()))
                    .collect();
                let qs = qs.join("&");
                let r = c
                    .get(app.url(&format!("/api/v1/t/{tenant}/navi/{code}?{qs}")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{tenant} {code}");
                let body: Value = r.json().await.unwrap();
                let got: Vec<String> = body["procedures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["id"].as_str().unwrap().to_string())
                    .collect();
                assert_eq!(got, expected(b, yes), "{tenant} {code} all {answer}");
                // Online procedures link to their form; each names a place.
                for p in body["procedures"].as_array().unwrap() {
                    assert_eq!(p["online"].as_bool().unwrap(), !p["apply_url"].is_null());
                }
                // The page: the same list, printable and shareable by URL.
                let html = c
                    .get(app.url(&format!("/t/{tenant}/navi/{code}/result?{qs}")))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                for p in body["procedures"].as_array().unwrap() {
                    let link = format!("/t/{tenant}/procedures/{}\"", p["id"].as_str().unwrap());
                    assert!(html.contains(&link), "{tenant} {code}: {link}");
                }
            }
        }
    }
    // 転入 in 四街道市 with children: 児童手当 with its 15-day deadline, and
    // 転入届 with 14 days; nothing stored about the resident.
    let visits_before = app.count("SELECT COUNT(*) FROM visits").await;
    let body: Value = c
        .get(app.url("/api/v1/t/122289/navi/moving-in?has_my_number_card=yes&joins_nhi=no&has_children=yes&public_servant=no&school_children=no&registers_seal=no&becomes_nenkin_1go=no&koki_from_other_pref=no&care_certified=no&child_medical=no&single_parent=no&needs_daycare=no&has_dog=no&has_techo=no&has_moped=no"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: BTreeSet<&str> = body["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains("jido-teate") && ids.contains("tennyu") && !ids.contains("kokuho-shikaku"),
        "{ids:?}"
    );
    let deadline = |id: &str| {
        body["procedures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()["deadline"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(deadline("tennyu").contains("14日以内"));
    assert!(deadline("jido-teate").contains("15日以内"));
    assert!(body["share_url"]
        .as_str()
        .unwrap()
        .starts_with("/t/122289/navi/moving-in/result?"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM visits").await,
        visits_before
    );

    // Pages: the list of life events, the questions.
    let html = c
        .get(app.url("/t/122289/navi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("/t/122289/navi/moving-in\""));
    let r = c.get(app.url("/t/122289/navi/birth")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("name=\"parent_nhi\""));
    let home = c
        .get(app.url("/t/122289"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("/t/122289/navi\""));
}

async fn navigator_bad_input(app: &TestApp) {
    let c = app.client();
    // A question unanswered or answered with something else: the questions
    // again (422), each named, the other answers kept.
    let r = c
        .get(app.url("/t/122289/navi/birth/result?parent_nhi=maybe&public_servant=no"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("error-summary") && html.contains("に「はい」か「いいえ」で答えてください"),
        "{html}"
    );
    assert!(
        html.contains("value=\"no\" checked"),
        "the answer given is kept"
    );
    let r = c
        .get(app.url("/api/v1/t/122289/navi/birth?public_servant=no"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["fields"][0]["field"], "parent_nhi");
    // Unknown life event or tenant: not found, with its code.
    let r = c
        .get(app.url("/t/122289/navi/wedding-party"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .get(app.url("/api/v1/t/122289/navi/wedding-party"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "MDG-404-life_event");
    // A huge query is answered, not an error page.
    let long = "x".repeat(4000);
    let r = c
        .get(app.url(&format!("/t/122289/navi/birth/result?parent_nhi={long}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

testkit::on_both_backends!(navigator_outcomes, navigator_bad_input);
