//! Each role lands on its own start page after signing in (password and
//! second factor, or enrolment), and the back-office menu lists exactly
//! the pages the role may open: every link answers 200, every page left
//! out answers 403.

use reqwest::StatusCode;
use testkit::TestApp;

const T: &str = "122289";

/// Every back-office page a menu may link to (under `/t/{T}/staff/`).
const PAGES: [&str; 21] = [
    "cases",
    "visits",
    "counter",
    "assist",
    "catalogue",
    "navi",
    "translations",
    "mail/messages",
    "payments",
    "faq",
    "knowledge",
    "kpi",
    "search",
    "audit",
    "admin",
    "mail/categories",
    "mail/subscribers",
    "jobs",
    "line",
    "mail/settings",
    "mail/outbox",
];

/// Posts a form with the page's CSRF token.
async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = app.csrf(c, page).await;
    let mut f: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
    f.extend_from_slice(fields);
    c.post(app.url(page)).form(&f).send().await.unwrap()
}

/// Signs a demo account in through the pages; returns the client and
/// where the second factor sent it.
async fn sign_in(app: &TestApp, id: &str) -> (reqwest::Client, String) {
    let c = app.client();
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/staff/sign-in"),
        &[("id", id), ("password", server::demo::DEMO_PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{id}: password step");
    let code = app.totp_code(T, id).await;
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/staff/sign-in/verify"),
        &[("code", &code)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{id}: second factor");
    let to = r.headers()["location"].to_str().unwrap().to_string();
    (c, to)
}

/// The back-office links of the page's menu, as page names.
fn menu_of(html: &str) -> Vec<String> {
    let nav = html
        .split("<nav class=\"site-header__nav\"")
        .nth(1)
        .and_then(|s| s.split("</nav>").next())
        .expect("menu");
    let prefix = format!("href=\"/t/{T}/staff/");
    nav.split(prefix.as_str())
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|p| *p != "account")
        .map(String::from)
        .collect()
}

async fn status_of(app: &TestApp, c: &reqwest::Client, page: &str) -> StatusCode {
    c.get(app.url(&format!("/t/{T}/staff/{page}")))
        .send()
        .await
        .unwrap()
        .status()
}

async fn each_role_lands_on_its_start_page_and_sees_only_its_pages(app: &TestApp) {
    let expected: [(&str, &str, &[&str]); 7] = [
        ("dx-admin", "admin", &PAGES),
        (
            "security",
            "audit",
            &["catalogue", "faq", "knowledge", "kpi", "audit"],
        ),
        (
            "clerk",
            "cases",
            &[
                "cases",
                "visits",
                "counter",
                "assist",
                "catalogue",
                "faq",
                "knowledge",
                "kpi",
            ],
        ),
        (
            "reviewer",
            "cases",
            &[
                "cases",
                "visits",
                "counter",
                "assist",
                "catalogue",
                "faq",
                "knowledge",
                "kpi",
            ],
        ),
        (
            "approver",
            "cases",
            &["cases", "visits", "catalogue", "faq", "knowledge", "kpi"],
        ),
        (
            "kodomo",
            "cases",
            &[
                "cases",
                "visits",
                "counter",
                "assist",
                "catalogue",
                "navi",
                "translations",
                "mail/messages",
                "faq",
                "knowledge",
                "kpi",
                "search",
            ],
        ),
        (
            "treasurer",
            "payments",
            &["catalogue", "payments", "faq", "knowledge", "kpi"],
        ),
    ];
    for (id, start, menu) in expected {
        let (c, to) = sign_in(app, id).await;
        assert_eq!(to, format!("/t/{T}/staff/{start}"), "{id} lands on {start}");
        let r = c.get(app.url(&to)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{id}: start page");
        let html = r.text().await.unwrap();
        assert_eq!(menu_of(&html), menu, "{id}: menu");
        // Mail goes to the demo mailbox here: every start page says so.
        assert!(
            html.contains("data-notice=\"info\"")
                && html.contains("デモ用メールボックスに入ります"),
            "{id}: the demo note on the start page"
        );
        // The staff home sends to the same start page.
        let r = c
            .get(app.url(&format!("/t/{T}/staff")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"].to_str().unwrap(), to, "{id}: home");
        for page in PAGES {
            let want = if menu.contains(&page) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status_of(app, &c, page).await, want, "{id}: {page}");
        }
    }
}

/// A security officer enrolling at first sign-in is sent on to the audit
/// log from the recovery codes page.
async fn enrolment_continues_to_the_start_page(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let r = post_form(
        app,
        &admin,
        &format!("/t/{T}/staff/admin"),
        &[
            ("id", "kansa"),
            ("name", "監査 担当"),
            ("department", "madoguchi"),
            ("password", "kinmokusei-no-kaori-2026"),
            ("roles", "security_officer"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("職員 kansa を登録しました"));
    let c = app.client();
    let r = post_form(
        app,
        &c,
        &format!("/t/{T}/staff/sign-in"),
        &[("id", "kansa"), ("password", "kinmokusei-no-kaori-2026")],
    )
    .await;
    assert_eq!(r.headers()["location"], format!("/t/{T}/staff/mfa/enrol"));
    let enrol = format!("/t/{T}/staff/mfa/enrol");
    let html = c
        .get(app.url(&enrol))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secret: String = html
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let key = kernel::totp::base32_decode(&secret).unwrap();
    let code = kernel::totp::code(&key, kernel::totp::step_at(kernel::clock::now_ms() / 1000));
    let r = post_form(app, &c, &enrol, &[("code", &code)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("class=\"button\" href=\"/t/{T}/staff/audit\"")),
        "continues to the audit log: {html}"
    );
    assert_eq!(
        menu_of(&html),
        ["catalogue", "faq", "knowledge", "kpi", "audit"]
    );
}

testkit::on_both_backends!(
    each_role_lands_on_its_start_page_and_sees_only_its_pages,
    enrolment_continues_to_the_start_page,
);
