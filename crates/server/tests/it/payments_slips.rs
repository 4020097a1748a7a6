//! 納付書 (payment slips) over HTTP, on SQLite and PostgreSQL: the slip
//! settings page (Treasurer; bad input named in Japanese, nothing stored;
//! audited), and a charge's slip PDF whose printed GS1-128 barcode and
//! eL-QR are decoded back (pdftoppm + zxing-cpp) and compared with what the
//! encoders make of the same data.

use jp::Yen;
use payments::charges::{self, Channel, NewCharge, NewReceipt, Payer};
use payments::el_number::{CollectorNumber, ElNumber};
use payments::gs1::{BillerCode, ConveniBarcode, ConveniSlip};
use payments::number::PaymentNumber;
use testkit::TestApp;
use time::macros::date;

const T: &str = "122289";
const OTHER: &str = "242021";
const SETTINGS: &str = "/t/122289/staff/payments/slips/settings";

async fn create(app: &TestApp, tenant: &str, amount: u64) -> charges::Charge {
    let db = &app.app.db;
    let mut tx = db.begin().await.unwrap();
    let c = charges::create(
        &mut tx,
        db.vault().unwrap(),
        tenant,
        "staff:t1",
        &NewCharge {
            subject: "kokuho".into(),
            subject_label: "国民健康保険税".into(),
            period_label: "令和8年度 第1期".into(),
            fiscal_year: 2026,
            payer_ref: "000123".into(),
            payer: Payer {
                name: "四街道 花子".into(),
                postal_code: "284-8555".into(),
                address: "千葉県四街道市鹿渡無番地".into(),
            },
            amount: Yen::new(amount).unwrap(),
            due_date: date!(2026 - 07 - 31),
            application_id: None,
        },
        1_000,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    c
}

async fn save_settings(
    app: &TestApp,
    c: &reqwest::Client,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let token = app.csrf(c, SETTINGS).await;
    let mut body = vec![("_csrf", token.as_str())];
    body.extend_from_slice(form);
    c.post(app.url(SETTINGS)).form(&body).send().await.unwrap()
}

const GOOD: [(&str, &str); 3] = [
    ("biller_code", "912345"),
    ("collector_number", "01234"),
    ("classes", "kokuho,001\r\nfee.juminhyo,002"),
];

async fn settings_are_checked_named_and_audited(app: &TestApp) {
    let clerk = app.staff(T, "clerk").await;
    let r = clerk.get(app.url(SETTINGS)).send().await.unwrap();
    assert_eq!(r.status(), 403);

    let admin = app.staff(T, "dx-admin").await;
    let r = admin.get(app.url(SETTINGS)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("請求書発行企業コード"), "{html}");
    assert!(html.contains("eL-QR layout pending the official specification"));

    let r = save_settings(
        app,
        &admin,
        &[
            ("biller_code", "12345"),
            ("collector_number", "0123"),
            ("classes", "kokuho,001\nkokuho,01"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("請求書発行企業コードは半角数字6桁で入力してください。"),
        "{html}"
    );
    assert!(html.contains("収納機関番号は半角数字5桁で入力してください。"));
    assert!(html.contains("科目ごとの納付区分の2行目"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_slip_settings")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_slip_classes").await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'payments.slips.settings'")
            .await,
        0
    );

    let r = save_settings(app, &admin, &GOOD).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("納付書の設定を保存しました。"));
    assert!(html.contains("value=\"912345\""));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_slip_settings WHERE tenant = '122289' AND biller_code = '912345' AND collector_number = '01234'").await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_slip_classes WHERE tenant = '122289'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE tenant = '122289' AND action = 'payments.slips.settings'").await,
        1
    );
    // Another municipality sees none of it.
    let other = app.staff(OTHER, "dx-admin").await;
    let html = other
        .get(app.url("/t/242021/staff/payments/slips/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("912345"));
}

fn slip_url(tenant: &str, id: &str) -> String {
    format!("/t/{tenant}/staff/payments/charges/{id}/slip.pdf")
}

async fn the_printed_codes_decode_to_exactly_the_data(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let charge = create(app, T, 12_300).await;

    // No settings yet: the slip cannot be made, and the page says why.
    let r = admin
        .get(app.url(&slip_url(T, &charge.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("納付書の設定"));

    assert_eq!(save_settings(app, &admin, &GOOD).await.status(), 200);
    let clerk = app.staff(T, "clerk").await;
    let r = clerk
        .get(app.url(&slip_url(T, &charge.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Another municipality's staff cannot print it.
    let other = app.staff(OTHER, "dx-admin").await;
    let r = other
        .get(app.url(&slip_url(OTHER, &charge.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let r = admin
        .get(app.url(&slip_url(T, &charge.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap().to_vec();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE tenant = '122289' AND action = 'payments.slip.print'").await,
        1
    );

    // What the encoders make of the same data.
    let number = PaymentNumber::parse(&charge.payment_number).unwrap();
    let biller = BillerCode::parse("912345").unwrap();
    let expected = ConveniBarcode::new(&ConveniSlip {
        biller: &biller,
        number: &number,
        class: "001",
        reissue: 0,
        due: Some(date!(2026 - 07 - 31)),
        stamp: false,
        amount: 12_300,
    })
    .unwrap();
    let el = ElNumber::new(
        CollectorNumber::parse("01234").unwrap(),
        "001",
        number,
        12_300,
    )
    .unwrap();
    let payload = payments::elqr::payload(&el, 12_300, Some(date!(2026 - 07 - 31)));

    if let Some(text) = testkit::pdf_text(&pdf) {
        for s in [
            "納付書",
            "領収証書",
            "納付済通知書",
            "四街道 花子",
            "令和8年7月31日",
            "12,300円",
            "eL-QR layout pending the official specification",
        ] {
            assert!(text.contains(s), "{s} in\n{text}");
        }
        assert!(text.contains(&el.to_string()), "{el} in\n{text}");
        let [first, second] = expected.human_readable();
        assert!(text.contains(&first) && text.contains(&second), "{text}");
    }
    if let Some(found) = testkit::zxing::decode_pdf(&pdf) {
        let bars: Vec<_> = found.iter().filter(|d| d.format == "Code 128").collect();
        assert_eq!(bars.len(), 1, "{found:?}");
        assert_eq!(bars[0].symbology, "]C1", "GS1-128: FNC1 first");
        assert_eq!(bars[0].text, expected.digits());
        assert_eq!(bars[0].text.len(), 44);
        let qrs: Vec<_> = found.iter().filter(|d| d.format == "QR Code").collect();
        assert_eq!(qrs.len(), 1, "{found:?}");
        assert_eq!(qrs[0].text, payload);
    }
}

async fn no_barcode_above_the_ceiling_and_no_slip_when_paid(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    assert_eq!(save_settings(app, &admin, &GOOD).await.status(), 200);
    let big = create(app, T, 300_001).await;
    let r = admin
        .get(app.url(&slip_url(T, &big.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap().to_vec();
    if let Some(text) = testkit::pdf_text(&pdf) {
        assert!(text.contains("30万円を超えるため"), "{text}");
    }
    if let Some(found) = testkit::zxing::decode_pdf(&pdf) {
        assert!(found.iter().all(|d| d.format != "Code 128"), "{found:?}");
        assert_eq!(found.iter().filter(|d| d.format == "QR Code").count(), 1);
    }

    let paid = create(app, T, 1_000).await;
    let db = &app.app.db;
    let mut tx = db.begin().await.unwrap();
    charges::record_receipt(
        &mut tx,
        T,
        "import:test",
        &NewReceipt {
            charge_id: Some(paid.id.clone()),
            channel: Channel::Counter,
            source_key: "counter:1".into(),
            amount: Yen::new(1_000).unwrap(),
            paid_on: date!(2026 - 07 - 20),
        },
        2_000,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let r = admin
        .get(app.url(&slip_url(T, &paid.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("納める金額が残っていない"));
    // Refused slips print nothing and audit nothing.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'payments.slip.print'")
            .await,
        1
    );
}

async fn a_reprint_is_a_reissue(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    assert_eq!(save_settings(app, &admin, &GOOD).await.status(), 200);
    let charge = create(app, T, 5_000).await;
    let number = PaymentNumber::parse(&charge.payment_number).unwrap();
    let biller = BillerCode::parse("912345").unwrap();
    for reissue in 0..2u8 {
        let r = admin
            .get(app.url(&slip_url(T, &charge.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let pdf = r.bytes().await.unwrap().to_vec();
        let expected = ConveniBarcode::new(&ConveniSlip {
            biller: &biller,
            number: &number,
            class: "001",
            reissue,
            due: Some(date!(2026 - 07 - 31)),
            stamp: false,
            amount: 5_000,
        })
        .unwrap();
        assert_eq!(&expected.digits()[29..30], reissue.to_string());
        if let Some(text) = testkit::pdf_text(&pdf) {
            assert_eq!(
                text.contains("再発行（再発行区分 1）"),
                reissue == 1,
                "{text}"
            );
        }
        if let Some(found) = testkit::zxing::decode_pdf(&pdf) {
            let bars: Vec<_> = found.iter().filter(|d| d.format == "Code 128").collect();
            assert_eq!(bars.len(), 1, "{found:?}");
            assert_eq!(bars[0].text, expected.digits());
        }
    }
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM payment_slip_issues WHERE tenant = '122289' AND charge_id = '{}'",
            charge.id
        ))
        .await,
        2
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM payment_slip_issues WHERE charge_id = '{}' AND reissue = 1 AND seq = 2",
            charge.id
        ))
        .await,
        1
    );
}

testkit::on_both_backends!(
    settings_are_checked_named_and_audited,
    a_reprint_is_a_reissue,
    the_printed_codes_decode_to_exactly_the_data,
    no_barcode_above_the_ceiling_and_no_slip_when_paid,
);
