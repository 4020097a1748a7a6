//! 公金 over HTTP, on SQLite and PostgreSQL: the treasurer's charge pages
//! (the list with its filters, a new charge with every bad field refused
//! in Japanese and nothing created, a charge's page with the payer opened
//! and audited, cancellation with a reason), who may open them, and that
//! a municipality never sees another's charges; the resident's payment
//! page behind the 納付番号 and its access code, online payment through
//! the simulator with the result told only after the signed webhook, and
//! webhooks refused (bad signature, outside the time window) or replayed
//! without ever counting twice.

use reqwest::StatusCode;
use testkit::TestApp;

const T: &str = "122289";
const OTHER: &str = "242021";

async fn text(r: reqwest::Response) -> (StatusCode, String) {
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    text(
        c.get(app.url(path))
            .header("accept-language", "ja")
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn post(
    c: &reqwest::Client,
    app: &TestApp,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = app.csrf(c, page).await;
    let mut form: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    c.post(app.url(path))
        .header("accept-language", "ja")
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn in_days(days: i64) -> String {
    let d = kernel::clock::to_jst(kernel::clock::now_ms()).date() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn good_form(due: &str) -> Vec<(&'static str, String)> {
    let fy = kernel::clock::fiscal_year_of(kernel::clock::now_ms()).start_year();
    vec![
        ("payer_name", "四街道 一郎".into()),
        ("payer_ref", "009876".into()),
        ("postal_code", "284-8555".into()),
        ("address", "千葉県四街道市鹿渡無番地".into()),
        ("subject", "kokuho".into()),
        ("period", "令和8年度 第3期".into()),
        ("fiscal_year", fy.to_string()),
        ("amount", "12,345".into()),
        ("due_date", due.to_string()),
    ]
}

async fn charges(app: &TestApp, tenant: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM payment_charges WHERE tenant = '{tenant}'"
    ))
    .await
}

/// Creates a charge through the form; its id (from the redirect).
async fn create(c: &reqwest::Client, app: &TestApp) -> String {
    let page = format!("/t/{T}/staff/payments/charges/new");
    let due = in_days(20);
    let form = good_form(&due);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post(c, app, &page, &page, &fields).await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let prefix = format!("/t/{T}/staff/payments/charges/");
    assert!(loc.starts_with(&prefix), "{loc}");
    loc[prefix.len()..].to_string()
}

async fn treasurer_creates_views_and_cancels(app: &TestApp) {
    let c = app.staff(T, "treasurer").await;
    // The demo's charges are on the list; the menu links the page.
    let (s, html) = get(&c, app, &format!("/t/{T}/staff/payments")).await;
    assert_eq!(s, 200);
    assert!(html.contains("公金・収納"), "menu entry");
    assert_eq!(html.matches("data-charge=").count(), 4, "{html}");
    let before = charges(app, T).await;
    let id = create(&c, app).await;
    assert_eq!(charges(app, T).await, before + 1);
    let (s, html) = get(&c, app, &format!("/t/{T}/staff/payments/charges/{id}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("四街道 一郎"), "payer opened");
    assert!(html.contains("12,345円"));
    assert!(html.contains("data-status=\"unpaid\""));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = 'payments.charge.view' AND target = '{id}' AND actor = 'staff:treasurer'"
        ))
        .await,
        1
    );
    // The list is audited too.
    assert!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = 'payments.charge.list'"
        ))
        .await
            >= 1
    );
    // Filters.
    let (_, html) = get(&c, app, &format!("/t/{T}/staff/payments?subject=hoiku")).await;
    assert_eq!(html.matches("data-charge=").count(), 1);
    let (_, html) = get(
        &c,
        app,
        &format!("/t/{T}/staff/payments?status=unpaid&subject=kokuho"),
    )
    .await;
    assert_eq!(html.matches("data-charge=").count(), 3);
    let (s, _) = get(&c, app, &format!("/t/{T}/staff/payments?status=bogus")).await;
    assert_eq!(s, 400);
    // Cancelling needs a reason.
    let page = format!("/t/{T}/staff/payments/charges/{id}");
    let cancel = format!("{page}/cancel");
    let r = post(&c, app, &page, &cancel, &[("reason", "  ")]).await;
    let (s, html) = text(r).await;
    assert_eq!(s, 422);
    assert!(html.contains("取消の理由を200文字までで入力してください"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM payment_charges WHERE tenant = '{T}' AND id = '{id}' AND cancelled_at IS NULL"
        ))
        .await,
        1
    );
    let r = post(&c, app, &page, &cancel, &[("reason", "転出のため賦課取消")]).await;
    assert_eq!(r.status(), 303);
    let (_, html) = get(&c, app, &page).await;
    assert!(html.contains("data-status=\"cancelled\""));
    assert!(html.contains("転出のため賦課取消"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = 'payments.charge.cancel' AND target = '{id}'"
        ))
        .await,
        1
    );
}

async fn bad_input_is_refused_in_japanese(app: &TestApp) {
    let c = app.staff(T, "treasurer").await;
    let page = format!("/t/{T}/staff/payments/charges/new");
    let before = charges(app, T).await;
    let fy = kernel::clock::fiscal_year_of(kernel::clock::now_ms()).start_year();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "amount",
            "0".into(),
            "金額を1円以上10,000,000円以下の整数で入力してください",
        ),
        (
            "amount",
            "-100".into(),
            "金額を1円以上10,000,000円以下の整数で入力してください",
        ),
        (
            "amount",
            "10000001".into(),
            "金額を1円以上10,000,000円以下の整数で入力してください",
        ),
        (
            "due_date",
            in_days(-1),
            "納期限を今日以降の日付で入力してください",
        ),
        (
            "payer_name",
            String::new(),
            "納付者の氏名を60文字までで入力してください",
        ),
        (
            "payer_ref",
            "12-AB".into(),
            "宛名番号を半角数字15桁までで入力してください",
        ),
        ("subject", "beer".into(), "科目を一覧から選んでください"),
        ("fiscal_year", (fy + 5).to_string(), "年度を西暦で"),
    ];
    for (name, value, message) in cases {
        let mut form = good_form(&in_days(10));
        for f in form.iter_mut() {
            if f.0 == name {
                f.1 = value.clone();
            }
        }
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, html) = text(post(&c, app, &page, &page, &fields).await).await;
        assert_eq!(s, 422, "{name}={value}");
        assert!(html.contains(message), "{name}={value}: {html}");
        assert!(html.contains(&format!("href=\"#field-{name}\"")), "{name}");
    }
    assert_eq!(charges(app, T).await, before, "nothing created");
}

async fn only_treasurers_and_only_their_municipality(app: &TestApp) {
    for who in ["clerk", "kodomo", "security"] {
        let c = app.staff(T, who).await;
        let (s, _) = get(&c, app, &format!("/t/{T}/staff/payments")).await;
        assert_eq!(s, 403, "{who}");
    }
    let (s, _) = get(&app.client(), app, &format!("/t/{T}/staff/payments")).await;
    assert!(s == 303 || s == 401, "{s}");
    let admin = app.staff(T, "dx-admin").await;
    let (s, _) = get(&admin, app, &format!("/t/{T}/staff/payments")).await;
    assert_eq!(s, 200);
    // Another municipality's charge is not found, even by its id.
    let other = app.staff(OTHER, "treasurer").await;
    let (_, html) = get(&other, app, &format!("/t/{OTHER}/staff/payments")).await;
    assert_eq!(html.matches("data-charge=").count(), 4);
    let c = app.staff(T, "treasurer").await;
    let id = create(&c, app).await;
    let (s, _) = get(
        &other,
        app,
        &format!("/t/{OTHER}/staff/payments/charges/{id}"),
    )
    .await;
    assert_eq!(s, 404);
    // Signed in to another municipality is not signed in here.
    let (s, _) = get(&other, app, &format!("/t/{T}/staff/payments/charges/{id}")).await;
    assert_eq!(s, 303);
}

/// A demo charge of `tenant` (its id and number) by subject.
async fn demo_charge(app: &TestApp, tenant: &str, subject: &str) -> (String, String) {
    use sqlx::Row;
    let r = sqlx::query(
        "SELECT id, payment_number FROM payment_charges WHERE tenant = $1 AND subject = $2 ORDER BY payment_number LIMIT 1",
    )
    .bind(tenant)
    .bind(subject)
    .fetch_one(app.app.db.read())
    .await
    .unwrap();
    (r.get(0), r.get(1))
}

fn pay_path(app: &TestApp, tenant: &str, number: &str) -> String {
    let code = payments::online::access_code(&app.app.payments.access, tenant, number);
    format!("/t/{tenant}/pay/{number}/{code}")
}

async fn charge_row(app: &TestApp, id: &str) -> (i64, String) {
    use sqlx::Row;
    let r = sqlx::query(
        "SELECT paid_amount, status FROM payment_charges WHERE tenant = $1 AND id = $2",
    )
    .bind(T)
    .bind(id)
    .fetch_one(app.app.db.read())
    .await
    .unwrap();
    (r.get(0), r.get(1))
}

async fn receipts(app: &TestApp, id: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM payment_receipts WHERE tenant = '{T}' AND charge_id = '{id}'"
    ))
    .await
}

/// Starts paying a charge online as a resident (no account): the
/// simulator page's path.
async fn start_paying(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let r = post(c, app, path, &format!("{path}/online"), &[]).await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        loc.starts_with(&format!("/t/{T}/payments/simulator/sim_")),
        "{loc}"
    );
    loc
}

/// Decides on the simulator's page; the result page's path.
async fn decide(c: &reqwest::Client, app: &TestApp, sim: &str, decision: &str) -> String {
    let r = post(c, app, sim, sim, &[("decision", decision)]).await;
    assert_eq!(r.status(), 303);
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn resident_pays_through_the_simulator(app: &TestApp) {
    let (id, number) = demo_charge(app, T, "kaigo").await;
    let c = app.client();
    let path = pay_path(app, T, &number);
    let (s, html) = get(&c, app, &path).await;
    assert_eq!(s, 200);
    assert!(html.contains("6,100円"), "owed");
    assert!(html.contains("SIMULATOR"), "the simulator is said");
    assert!(
        !html.contains("鹿渡 太郎"),
        "no payer name on the resident page"
    );
    // The number alone, or with another charge's code, shows nothing.
    let (other_id, other_number) = demo_charge(app, T, "hoiku").await;
    let other_code = payments::online::access_code(&app.app.payments.access, T, &other_number);
    let (s, _) = get(&c, app, &format!("/t/{T}/pay/{number}/{other_code}")).await;
    assert_eq!(s, 404);
    // The find form: a wrong code is 422 naming the field; the right one
    // leads to the page.
    let find = format!("/t/{T}/pay");
    let (s, html) = text(
        post(
            &c,
            app,
            &find,
            &find,
            &[("number", &number), ("code", &other_code)],
        )
        .await,
    )
    .await;
    assert_eq!(s, 422);
    assert!(html.contains("納付番号と確認コードの組み合わせが見つかりません"));
    let (s, html) =
        text(post(&c, app, &find, &find, &[("number", "12345"), ("code", "x")]).await).await;
    assert_eq!(s, 422);
    assert!(html.contains("納付番号は11桁の数字で入力してください"));
    let code = payments::online::access_code(&app.app.payments.access, T, &number);
    let typed = code.to_lowercase();
    let r = post(
        &c,
        app,
        &find,
        &find,
        &[("number", &number), ("code", &typed)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"].to_str().unwrap(), path);
    // Pay: the simulator's page says SIMULATOR; paying sends the signed
    // webhook; the result page says paid.
    let sim = start_paying(&c, app, &path).await;
    let (s, html) = get(&c, app, &sim).await;
    assert_eq!(s, 200);
    assert!(html.contains("SIMULATOR"));
    assert!(html.contains("6,100円"));
    let result = decide(&c, app, &sim, "pay").await;
    assert!(result.starts_with(&format!("{path}/result/")), "{result}");
    let (s, html) = get(&c, app, &result).await;
    assert_eq!(s, 200);
    assert!(html.contains("data-result=\"succeeded\""), "{html}");
    assert!(html.contains("6,100円のお支払いを確認しました"));
    assert_eq!(charge_row(app, &id).await, (6_100, "paid".to_string()));
    assert_eq!(receipts(app, &id).await, 1);
    // Deciding again changes nothing; nothing is left to pay.
    decide(&c, app, &sim, "pay").await;
    assert_eq!(receipts(app, &id).await, 1);
    let (_, html) = get(&c, app, &path).await;
    assert!(html.contains("お支払いいただく金額はありません"));
    let r = post(&c, app, &path, &format!("{path}/online"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"].to_str().unwrap(), path);
    // Declined: the result says so, the charge stays unpaid.
    let other_path = pay_path(app, T, &other_number);
    let sim = start_paying(&c, app, &other_path).await;
    let result = decide(&c, app, &sim, "decline").await;
    let (_, html) = get(&c, app, &result).await;
    assert!(html.contains("data-result=\"failed\""));
    assert_eq!(charge_row(app, &other_id).await, (0, "unpaid".to_string()));
    // The treasurer sees the online receipt on the charge's page.
    let staff = app.staff(T, "treasurer").await;
    let (_, html) = get(&staff, app, &format!("/t/{T}/staff/payments/charges/{id}")).await;
    assert!(html.contains("オンライン決済"));
    assert!(html.contains("data-status=\"paid\""));
}

fn signed(app: &TestApp, event: &payments::simulator::EventBody, t: i64) -> (Vec<u8>, String) {
    let sim = app
        .app
        .payments
        .simulator
        .as_ref()
        .expect("simulator in development");
    let body = payments::simulator::Simulator::event_body(event);
    let header = sim.sign(T, t, &body);
    (body, header)
}

async fn webhook(
    app: &TestApp,
    tenant: &str,
    provider: &str,
    body: &[u8],
    header: &str,
) -> (StatusCode, String) {
    text(
        app.client()
            .post(app.url(&format!("/t/{tenant}/payments/webhooks/{provider}")))
            .header("content-type", "application/json")
            .header(payments::signature::HEADER, header)
            .body(body.to_vec())
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn webhooks_are_verified_and_count_once(app: &TestApp) {
    // The simulator refuses to start in production mode.
    let refused =
        payments::simulator::Simulator::start(&app.app.db, kernel::config::Mode::Production).await;
    assert!(refused.is_err());
    let (id, number) = demo_charge(app, T, "kokuho").await;
    let c = app.client();
    let path = pay_path(app, T, &number);
    let sim = start_paying(&c, app, &path).await;
    let sim_id = sim.rsplit('/').next().unwrap().to_string();
    // Paid, but the notification is not sent: the result page does not
    // claim the payment.
    let result = decide(&c, app, &sim, "pay_silently").await;
    let (_, html) = get(&c, app, &result).await;
    assert!(html.contains("data-result=\"created\""), "{html}");
    assert!(html.contains("お支払いは確認できていません"));
    assert_eq!(charge_row(app, &id).await, (0, "unpaid".to_string()));
    let now = kernel::clock::now_ms();
    let event = payments::simulator::EventBody {
        id: "evt_test_1".into(),
        kind: "payment.succeeded".into(),
        payment_id: sim_id.clone(),
        amount: 23_400,
        occurred_at: now,
    };
    let events_sql = format!("SELECT COUNT(*) FROM payment_webhook_events WHERE tenant = '{T}'");
    let events = || app.count(&events_sql);
    let before = events().await;
    // Refused: a wrong signature, a tampered body, too old, too new,
    // none at all, an unknown provider. Nothing changes.
    let (body, header) = signed(app, &event, now / 1000);
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'2').unwrap();
    tampered[at] = b'9';
    let (old_body, old_header) = signed(app, &event, now / 1000 - 301);
    let (new_body, new_header) = signed(app, &event, now / 1000 + 301);
    let bad = format!("t={},v1={}", now / 1000, "0".repeat(64));
    for (b, h, what) in [
        (&body, bad.as_str(), "wrong signature"),
        (&tampered, header.as_str(), "tampered body"),
        (&old_body, old_header.as_str(), "too old"),
        (&new_body, new_header.as_str(), "too new"),
        (&body, "", "no signature"),
    ] {
        let (s, _) = webhook(app, T, "simulator", b, h).await;
        assert_eq!(s, 401, "{what}");
    }
    let (s, _) = webhook(app, T, "paypay", &body, &header).await;
    assert_eq!(s, 404);
    assert_eq!(events().await, before);
    assert_eq!(charge_row(app, &id).await, (0, "unpaid".to_string()));
    // A decline reported first, then the payment that went through after
    // it: the resident's result page follows the success.
    let declined = payments::simulator::EventBody {
        id: "evt_test_0".into(),
        kind: "payment.failed".into(),
        ..event.clone()
    };
    let (b0, h0) = signed(app, &declined, now / 1000);
    let (s, _) = webhook(app, T, "simulator", &b0, &h0).await;
    assert_eq!(s, StatusCode::OK);
    let (_, html) = get(&c, app, &result).await;
    assert!(html.contains("data-result=\"failed\""), "{html}");
    // The signed webhook: applied once; the same again, and another event
    // about the same payment, are duplicates.
    let (s, out) = webhook(app, T, "simulator", &body, &header).await;
    assert_eq!((s, out.as_str()), (StatusCode::OK, "applied"));
    let (_, html) = get(&c, app, &result).await;
    assert!(html.contains("data-result=\"succeeded\""), "{html}");
    let (s, out) = webhook(app, T, "simulator", &body, &header).await;
    assert_eq!((s, out.as_str()), (StatusCode::OK, "duplicate"));
    let again = payments::simulator::EventBody {
        id: "evt_test_2".into(),
        ..event.clone()
    };
    let (b2, h2) = signed(app, &again, now / 1000);
    let (s, out) = webhook(app, T, "simulator", &b2, &h2).await;
    assert_eq!((s, out.as_str()), (StatusCode::OK, "duplicate"));
    // At once, too.
    let third = payments::simulator::EventBody {
        id: "evt_test_3".into(),
        ..event.clone()
    };
    let (b3, h3) = signed(app, &third, now / 1000);
    let (x, y) = tokio::join!(
        webhook(app, T, "simulator", &b3, &h3),
        webhook(app, T, "simulator", &b3, &h3)
    );
    assert_eq!(x.0, 200);
    assert_eq!(y.0, 200);
    assert_eq!(charge_row(app, &id).await, (23_400, "paid".to_string()));
    assert_eq!(receipts(app, &id).await, 1);
    let (_, html) = get(&c, app, &result).await;
    assert!(html.contains("data-result=\"succeeded\""));
    // The provider's side: status and refunds (never more than was paid).
    use payments::provider::{PaymentProvider, ProviderError, ProviderStatus};
    let provider = app.app.payments.simulator.as_ref().unwrap();
    assert_eq!(
        provider.status(T, &sim_id).await.unwrap(),
        ProviderStatus::Succeeded
    );
    assert!(matches!(
        provider.status(OTHER, &sim_id).await,
        Err(ProviderError::UnknownPayment)
    ));
    let yen = |n: u64| jp::Yen::new(n).unwrap();
    assert!(provider
        .refund(T, &sim_id, yen(400))
        .await
        .unwrap()
        .starts_with("sim_refund_"));
    assert!(matches!(
        provider.refund(T, &sim_id, yen(23_001)).await,
        Err(ProviderError::Refused(_))
    ));
    provider.refund(T, &sim_id, yen(23_000)).await.unwrap();
    assert_eq!(
        provider.status(T, &sim_id).await.unwrap(),
        ProviderStatus::Refunded
    );
    // A malformed but signed body is 400 and changes nothing.
    let junk = b"{\"nope\":1}";
    let h = app
        .app
        .payments
        .simulator
        .as_ref()
        .unwrap()
        .sign(T, now / 1000, junk);
    let (s, _) = webhook(app, T, "simulator", junk, &h).await;
    assert_eq!(s, 400);
    // An event signed for this municipality, replayed at another's
    // webhook, is refused there: the signature covers the municipality.
    let stray = payments::simulator::EventBody {
        id: "evt_test_4".into(),
        ..event.clone()
    };
    let (b4, h4) = signed(app, &stray, now / 1000);
    let (s, _) = webhook(app, OTHER, "simulator", &b4, &h4).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(charge_row(app, &id).await, (23_400, "paid".to_string()));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM payment_receipts WHERE tenant = '{OTHER}'"
        ))
        .await,
        0
    );
}

testkit::on_both_backends!(
    resident_pays_through_the_simulator,
    webhooks_are_verified_and_count_once,
    treasurer_creates_views_and_cancels,
    bad_input_is_refused_in_japanese,
    only_treasurers_and_only_their_municipality,
);
