//! 消込 (reconciliation) over HTTP, on SQLite and PostgreSQL: generated
//! 全銀 振込入金通知 and convenience-store result files with injected
//! faults (wrong trailer total, short line, SJIS mojibake) are refused with
//! the record's number and nothing changes; a good file applies all (after
//! a preview that changes nothing); the same file twice is recognised;
//! 速報 then 確報 of one payment counts once; 過不足 and unknown numbers go
//! to the exception queue, which staff resolve with a reason, audited.

use jp::Yen;
use payments::charges::{self, Charge, NewCharge, Payer};
use payments::conveni::{self, write::Paid, Report};
use payments::zengin::write::{notice, Credit};
use reqwest::StatusCode;
use sqlx::Row;
use testkit::TestApp;
use time::macros::date;

const T: &str = "122289";
const OTHER: &str = "242021";
const PAGE: &str = "/t/122289/staff/payments/reconcile";

async fn charge(app: &TestApp, tenant: &str, amount: u64) -> Charge {
    let db = &app.app.db;
    let mut tx = db.begin().await.unwrap();
    let c = charges::create(
        &mut tx,
        db.vault().unwrap(),
        tenant,
        "staff:test",
        &NewCharge {
            subject: "kokuho".into(),
            subject_label: "国民健康保険税".into(),
            period_label: "令和8年度 第1期".into(),
            fiscal_year: 2026,
            payer_ref: "000123".into(),
            payer: Payer {
                name: "四街道 花子".into(),
                postal_code: String::new(),
                address: String::new(),
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

async fn reload(app: &TestApp, c: &Charge) -> Charge {
    charges::get(app.app.db.read(), &c.tenant, &c.id)
        .await
        .unwrap()
        .unwrap()
}

fn credit(n: u32, amount: u64, name: &str) -> Credit {
    Credit {
        inquiry_number: n,
        amount,
        requester_name: name.into(),
        edi: String::new(),
        cancelled: false,
    }
}

async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    kind: &str,
    name: &str,
    bytes: Vec<u8>,
    dry_run: bool,
) -> (StatusCode, String) {
    let csrf = app.csrf(c, PAGE).await;
    let mut form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("kind", kind.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    if dry_run {
        form = form.text("dry_run", "true");
    }
    let r = c.post(app.url(PAGE)).multipart(form).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn nothing_recorded(app: &TestApp) {
    assert_eq!(app.count("SELECT COUNT(*) FROM payment_receipts").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_exceptions").await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_import_files").await,
        0
    );
}

async fn a_good_file_applies_all_after_a_preview(app: &TestApp) {
    let a = charge(app, T, 12_300).await;
    let b = charge(app, T, 4_500).await;
    let c = charge(app, T, 800).await;
    let file = notice(
        date!(2026 - 07 - 21),
        &[
            credit(1, 12_300, &format!("{}ﾖﾂｶｲﾄﾞｳ ﾊﾅｺ", a.payment_number)),
            Credit {
                edi: b.payment_number.clone(),
                ..credit(2, 4_500, "ｶ)ﾖﾂｶｲﾄﾞｳｼｮｳｼﾞ")
            },
            credit(3, 800, &format!("ﾖﾂｶｲﾄﾞｳ ﾀﾛｳ {}", c.payment_number)),
        ],
        true,
    );
    let staff = app.staff(T, "dx-admin").await;
    let (s, html) = upload(app, &staff, "zengin", "nyukin.txt", file.clone(), true).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("プレビュー（まだ反映していません）"),
        "{html}"
    );
    assert!(html.contains("消込 3件（17,600円）"), "{html}");
    nothing_recorded(app).await;
    assert_eq!(reload(app, &a).await.paid_amount, 0);

    let (s, html) = upload(app, &staff, "zengin", "nyukin.txt", file, false).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("3件 17,600円を取り込みました"), "{html}");
    for x in [&a, &b, &c] {
        let now = reload(app, x).await;
        assert_eq!(
            now.status,
            charges::ChargeStatus::Paid,
            "{}",
            x.payment_number
        );
        assert_eq!(now.paid_amount, x.amount);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_receipts WHERE channel = 'bank'")
            .await,
        3
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_exceptions").await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_import_files WHERE file_name = 'nyukin.txt' AND applied = 3 AND imported_by = 'staff:dx-admin'").await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'payments.reconcile.import'")
            .await,
        1
    );
}

async fn faults_are_refused_with_their_record_and_nothing_changes(app: &TestApp) {
    let a = charge(app, T, 12_300).await;
    let good = notice(
        date!(2026 - 07 - 21),
        &[
            credit(1, 12_300, &a.payment_number),
            credit(2, 500, "ﾅﾏｴﾀﾞｹ"),
        ],
        true,
    );
    let staff = app.staff(T, "dx-admin").await;
    let at = |record: usize, from: usize| (record - 1) * 202 + from - 1;

    let mut wrong_total = good.clone();
    wrong_total[at(4, 8)..at(4, 8) + 12].copy_from_slice(b"000000012801");
    let mut short = good[..202 + 150].to_vec();
    short.extend_from_slice(b"\r\n");
    short.extend_from_slice(&good[2 * 202..]);
    let mut mojibake = good.clone();
    mojibake[at(3, 60)..at(3, 60) + 2].copy_from_slice(&[0x81, 0x20]);
    let mut utf8 = good.clone();
    utf8[at(2, 60)..at(2, 60) + 3].copy_from_slice("ア".as_bytes());
    let cases: [(Vec<u8>, &str); 4] = [
        (
            wrong_total,
            "4行目（振込金額合計）: トレーラの振込金額合計は12801円ですが、データ・レコードでは12800円です",
        ),
        (
            short,
            "2行目（レコード長）: レコードの長さが150バイトです（200バイトでなければなりません）",
        ),
        (mojibake, "3行目（文字コード）: 60バイト目がShift_JISとして読めません"),
        (utf8, "2行目（振込依頼人名）: 半角文字でない文字があります（60バイト目）"),
    ];
    for (bytes, message) in cases {
        for dry_run in [true, false] {
            let (s, html) = upload(app, &staff, "zengin", "bad.txt", bytes.clone(), dry_run).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
            assert!(
                html.contains("ファイルを取り込めません。何も反映していません。"),
                "{html}"
            );
            assert!(html.contains(message), "{message}: {html}");
            nothing_recorded(app).await;
        }
    }
    assert_eq!(reload(app, &a).await.paid_amount, 0);
    // A convenience-store file given as a bank notice: the record length.
    let conveni_file = conveni::write::file(
        Report::Confirmed,
        date!(2026 - 07 - 21),
        &[Paid {
            barcode: conveni::write::barcode("912345", &a.payment_number, None, 12_300),
            paid_on: date!(2026 - 07 - 20),
            receipt_number: "R1".into(),
        }],
        true,
    );
    let (s, html) = upload(app, &staff, "zengin", "conveni.txt", conveni_file, false).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("1行目（レコード長）: レコードの長さが120バイトです"),
        "{html}"
    );
    // No kind, no file: each named.
    let csrf = app.csrf(&staff, PAGE).await;
    let r = staff
        .post(app.url(PAGE))
        .multipart(
            reqwest::multipart::Form::new()
                .text("_csrf", csrf)
                .text("kind", "zengin"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("「取り込むファイル」を選んでください。"));
    let (s, html) = upload(app, &staff, "csv", "x.txt", good, false).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("「ファイルの種類」を選んでください。"),
        "{html}"
    );
    nothing_recorded(app).await;
}

async fn the_same_file_twice_changes_nothing(app: &TestApp) {
    let a = charge(app, T, 3_000).await;
    let file = notice(
        date!(2026 - 07 - 21),
        &[
            credit(7, 3_000, &a.payment_number),
            credit(8, 900, "ﾊﾞﾝｺﾞｳﾅｼ"),
        ],
        false,
    );
    let staff = app.staff(T, "dx-admin").await;
    let (s, _) = upload(app, &staff, "zengin", "first.txt", file.clone(), false).await;
    assert_eq!(s, StatusCode::OK);
    let (s, html) = upload(app, &staff, "zengin", "again.txt", file, false).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        html.contains("「first.txt」として取り込み済みです。何も変更していません。"),
        "{html}"
    );
    assert_eq!(reload(app, &a).await.paid_amount, 3_000);
    assert_eq!(app.count("SELECT COUNT(*) FROM payment_receipts").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_exceptions").await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_import_files").await,
        1
    );
    // The same payments in another file (another byte, same keys): counted once.
    let overlapping = notice(
        date!(2026 - 07 - 21),
        &[
            credit(7, 3_000, &format!("{} ", a.payment_number)),
            credit(8, 900, "ﾊﾞﾝｺﾞｳﾅｼ"),
        ],
        true,
    );
    let (s, html) = upload(app, &staff, "zengin", "overlap.txt", overlapping, false).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("消込 0件（0円）、例外 0件、取り込み済み 2件"),
        "{html}"
    );
    assert_eq!(reload(app, &a).await.paid_amount, 3_000);
    assert_eq!(app.count("SELECT COUNT(*) FROM payment_receipts").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_exceptions").await,
        1
    );
}

/// This municipality's 請求書発行企業コード (the slip settings).
async fn set_biller(app: &TestApp, tenant: &str, code: &str) {
    app.execute_as_owner(&format!(
        "INSERT INTO payment_slip_settings (tenant, biller_code, collector_number, updated_by, updated_at) \
         VALUES ('{tenant}', '{code}', '01234', 'test', 0)"
    ))
    .await;
}

async fn preliminary_then_confirmed_counts_once(app: &TestApp) {
    set_biller(app, T, "912345").await;
    let a = charge(app, T, 2_200).await;
    let b = charge(app, T, 1_100).await;
    let paid = |c: &Charge, amount: u64, r: &str| Paid {
        barcode: conveni::write::barcode("912345", &c.payment_number, None, amount),
        paid_on: date!(2026 - 07 - 20),
        receipt_number: r.into(),
    };
    let staff = app.staff(T, "dx-admin").await;
    let sokuho = conveni::write::file(
        Report::Preliminary,
        date!(2026 - 07 - 20),
        &[paid(&a, 2_200, "R0001")],
        true,
    );
    let (s, html) = upload(app, &staff, "conveni", "sokuho.txt", sokuho, false).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("消込 1件（2,200円）"), "{html}");
    let kakuho = conveni::write::file(
        Report::Confirmed,
        date!(2026 - 07 - 22),
        &[paid(&a, 2_200, "R0001"), paid(&b, 1_100, "R0002")],
        true,
    );
    let (s, html) = upload(app, &staff, "conveni", "kakuho.txt", kakuho, false).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("消込 1件（1,100円）、例外 0件、取り込み済み 1件"),
        "{html}"
    );
    assert_eq!(reload(app, &a).await.paid_amount, 2_200);
    assert_eq!(reload(app, &b).await.paid_amount, 1_100);
    // A payment made to another biller with our 納付番号 and amount pays
    // nothing here: it waits as 番号不明.
    let c = charge(app, T, 700).await;
    let stray = conveni::write::file(
        Report::Confirmed,
        date!(2026 - 07 - 23),
        &[Paid {
            barcode: conveni::write::barcode("998877", &c.payment_number, None, 700),
            paid_on: date!(2026 - 07 - 23),
            receipt_number: "R0003".into(),
        }],
        true,
    );
    let (s, html) = upload(app, &staff, "conveni", "other.txt", stray, false).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("消込 0件"), "{html}");
    assert_eq!(reload(app, &c).await.paid_amount, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_receipts WHERE channel = 'conveni' AND charge_id IS NOT NULL")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_exceptions WHERE kind = 'unknown_number'")
            .await,
        1
    );
    // A wrong check digit in the barcode is refused with its record.
    let mut bad = conveni::write::file(
        Report::Confirmed,
        date!(2026 - 07 - 23),
        &[paid(&a, 2_200, "R0009")],
        true,
    );
    bad[122 + 20] = if bad[122 + 20] == b'9' { b'8' } else { b'9' };
    let (s, html) = upload(app, &staff, "conveni", "bad.txt", bad, false).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("2行目（バーコード情報）: バーコード情報のチェックデジットが合いません"),
        "{html}"
    );
}

async fn exception_id(app: &TestApp, kind: &str) -> String {
    let mut c = app.app.db.read().acquire().await.unwrap();
    sqlx::query("SELECT id FROM payment_exceptions WHERE kind = $1")
        .bind(kind)
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .get(0)
}

async fn mismatches_wait_in_the_queue_and_are_resolved_with_a_reason(app: &TestApp) {
    let short = charge(app, T, 5_000).await;
    let paid_twice = charge(app, T, 1_000).await;
    let cancelled = charge(app, T, 700).await;
    let target = charge(app, T, 6_000).await;
    {
        let db = &app.app.db;
        let mut tx = db.begin().await.unwrap();
        charges::cancel(&mut tx, T, "staff:test", &cancelled.id, "誤調定", 1_500)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let unknown = payments::number::PaymentNumber::new(2026, 9_999).unwrap();
    let file = notice(
        date!(2026 - 07 - 21),
        &[
            credit(1, 4_000, &short.payment_number),
            credit(2, 1_000, &paid_twice.payment_number),
            credit(3, 1_000, &paid_twice.payment_number),
            credit(4, 700, &cancelled.payment_number),
            credit(5, 6_000, &format!("{unknown}ﾖﾂｶｲﾄﾞｳ ｼﾞﾛｳ")),
            Credit {
                cancelled: true,
                ..credit(6, 300, "ﾄﾘｹｼ")
            },
        ],
        true,
    );
    let staff = app.staff(T, "dx-admin").await;
    let (s, html) = upload(app, &staff, "zengin", "mixed.txt", file, false).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("消込 1件（1,000円）、例外 5件"), "{html}");
    assert!(html.contains("未処理の例外：5件"), "{html}");
    // Each exception with its record number.
    for (record, kind) in [
        (2, "過不足"),
        (4, "二重納付"),
        (5, "取消後の納付"),
        (6, "番号不明"),
        (7, "銀行の取消通知"),
    ] {
        assert!(
            html.contains(&format!("<tr><td>{record}</td><td>{kind}</td>")),
            "{record} {kind}: {html}"
        );
    }
    assert_eq!(reload(app, &short).await.paid_amount, 0);
    assert_eq!(reload(app, &paid_twice).await.paid_amount, 1_000);
    assert_eq!(reload(app, &cancelled).await.paid_amount, 0);
    // Money that matched no charge is kept as receipts without one (not
    // the bank's cancellation, which brought none).
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_receipts WHERE charge_id IS NULL")
            .await,
        4
    );
    // The requester's name is sealed at rest, shown to staff, audited.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_exceptions WHERE detail_sealed LIKE '%ｼﾞﾛｳ%'")
            .await,
        0
    );
    let r = staff
        .get(app.url(&format!("{PAGE}/exceptions")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list = r.text().await.unwrap();
    assert!(list.contains("ﾖﾂｶｲﾄﾞｳ ｼﾞﾛｳ"), "{list}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'payments.reconcile.exceptions.view' AND actor = 'staff:dx-admin'").await,
        1
    );

    // Resolve the unknown number by applying it to the right charge.
    let id = exception_id(app, "unknown_number").await;
    let path = format!("{PAGE}/exceptions/{id}");
    let post = |form: Vec<(&'static str, String)>| {
        let staff = staff.clone();
        let path = path.clone();
        async move {
            let csrf = app.csrf(&staff, &path).await;
            let mut form = form;
            form.push(("_csrf", csrf));
            let r = staff.post(app.url(&path)).form(&form).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = post(vec![
        ("action", "apply".into()),
        ("payment_number", target.payment_number.clone()),
        ("reason", "  ".into()),
    ])
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("「処理の理由」を入力してください。"),
        "{html}"
    );
    let mut wrong = target.payment_number.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    let (s, html) = post(vec![
        ("action", "apply".into()),
        ("payment_number", wrong),
        ("reason", "番号の誤記".into()),
    ])
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(
            "「充当先の納付番号」は11桁の数字で、チェックデジットが合うものを入力してください。"
        ),
        "{html}"
    );
    let (s, html) = post(vec![
        ("action", "apply".into()),
        ("payment_number", unknown.to_string()),
        ("reason", "番号の誤記".into()),
    ])
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("「充当先の納付番号」の調定が見つかりません。"),
        "{html}"
    );
    assert_eq!(reload(app, &target).await.paid_amount, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_exceptions WHERE status = 'open'")
            .await,
        5
    );
    let (s, _) = post(vec![
        ("action", "apply".into()),
        ("payment_number", target.payment_number.clone()),
        (
            "reason",
            "振込依頼人名の番号の誤記（本人に電話で確認）".into(),
        ),
    ])
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let now = reload(app, &target).await;
    assert_eq!(
        (now.paid_amount, now.status),
        (6_000, charges::ChargeStatus::Paid)
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM payment_exceptions WHERE id = '{id}' AND status = 'applied' AND resolved_charge_id = '{}' AND resolved_by = 'staff:dx-admin'", target.id)).await,
        1
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'payments.reconcile.resolve' AND target = '{id}'")).await,
        1
    );
    // Once resolved, never again.
    let (s, _) = post(vec![
        ("action", "ignore".into()),
        ("reason", "もう一度".into()),
    ])
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM payment_exceptions WHERE id = '{id}' AND status = 'applied'"
        ))
        .await,
        1
    );
    // The bank's cancellation has nothing to apply; it is set aside.
    let id = exception_id(app, "bank_cancellation").await;
    let path = format!("{PAGE}/exceptions/{id}");
    let csrf = app.csrf(&staff, &path).await;
    let r = staff
        .post(app.url(&path))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("action", "apply"),
            ("payment_number", target.payment_number.as_str()),
            ("reason", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reload(app, &target).await.paid_amount, 6_000);
    let r = staff
        .post(app.url(&path))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("action", "refund_due"),
            ("reason", "銀行の組戻し"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_exceptions WHERE status = 'open'")
            .await,
        3
    );
    // Key rotation re-seals every row of the queue; what it says stays.
    let before = app.count("SELECT COUNT(*) FROM payment_exceptions").await;
    assert_eq!(
        payments::reconcile::rekey(&app.app.db).await.unwrap(),
        before as u64
    );
    let resolved = exception_id(app, "unknown_number").await;
    let page = staff
        .get(app.url(&format!("{PAGE}/exceptions/{resolved}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("ﾖﾂｶｲﾄﾞｳ ｼﾞﾛｳ"), "{page}");
    assert!(
        page.contains("振込依頼人名の番号の誤記（本人に電話で確認）"),
        "{page}"
    );
}

async fn only_treasurers_and_only_their_municipality(app: &TestApp) {
    let clerk = app.staff(T, "clerk").await;
    let r = clerk.get(app.url(PAGE)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let file = notice(date!(2026 - 07 - 21), &[credit(1, 900, "ﾊﾞﾝｺﾞｳﾅｼ")], true);
    let staff = app.staff(T, "dx-admin").await;
    let (s, _) = upload(app, &staff, "zengin", "a.txt", file, false).await;
    assert_eq!(s, StatusCode::OK);
    let id = exception_id(app, "unknown_number").await;
    let other = app.staff(OTHER, "dx-admin").await;
    let r = other
        .get(app.url(&format!(
            "/t/{OTHER}/staff/payments/reconcile/exceptions/{id}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = other
        .get(app.url(&format!("/t/{OTHER}/staff/payments/reconcile/exceptions")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.text().await.unwrap().contains("ﾊﾞﾝｺﾞｳﾅｼ"));
}

testkit::on_both_backends!(
    a_good_file_applies_all_after_a_preview,
    faults_are_refused_with_their_record_and_nothing_changes,
    the_same_file_twice_changes_nothing,
    preliminary_then_confirmed_counts_once,
    mismatches_wait_in_the_queue_and_are_resolved_with_a_reason,
    only_treasurers_and_only_their_municipality,
);
