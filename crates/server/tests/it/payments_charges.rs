//! 調定 (charges) in the store, on SQLite and PostgreSQL: payment numbers
//! per municipality and fiscal year, the status from the amounts, a receipt
//! reported twice counted once (also when both arrive at once), refunds
//! never above what is held, cancellation, and the payer sealed at rest.

use jp::Yen;
use payments::charges::{
    self, Channel, ChargeError, ChargeStatus, NewCharge, NewReceipt, Payer, Recorded,
};
use payments::number::PaymentNumber;
use sqlx::Row;
use testkit::TestApp;
use time::macros::date;

const T: &str = "122289";
const OTHER: &str = "242021";

fn new_charge(amount: u64) -> NewCharge {
    NewCharge {
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
    }
}

async fn create(app: &TestApp, tenant: &str, amount: u64) -> charges::Charge {
    let db = &app.app.db;
    let mut tx = db.begin().await.unwrap();
    let c = charges::create(
        &mut tx,
        db.vault().unwrap(),
        tenant,
        "staff:t1",
        &new_charge(amount),
        1_000,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    c
}

fn receipt(charge: &charges::Charge, key: &str, amount: u64) -> NewReceipt {
    NewReceipt {
        charge_id: Some(charge.id.clone()),
        channel: Channel::Conveni,
        source_key: key.into(),
        amount: Yen::new(amount).unwrap(),
        paid_on: date!(2026 - 07 - 20),
    }
}

async fn record(app: &TestApp, r: &NewReceipt) -> Result<Recorded, ChargeError> {
    let db = &app.app.db;
    let mut tx = db.begin().await.unwrap();
    let out = charges::record_receipt(&mut tx, T, "import:test", r, 2_000).await;
    if out.is_ok() {
        tx.commit().await.unwrap();
    }
    out
}

/// The last sequence number used in `tenant` and 2026 (the demo's own
/// charges of the current fiscal year come first).
async fn last_used(app: &TestApp, tenant: &str) -> u64 {
    app.count(&format!(
        "SELECT COALESCE(MAX(last), 0) FROM payment_number_counters WHERE tenant = '{tenant}' AND fiscal_year = 2026"
    ))
    .await as u64
}

async fn numbers_run_per_municipality_and_year(app: &TestApp) {
    let (t0, other0) = (last_used(app, T).await, last_used(app, OTHER).await);
    let a = create(app, T, 1000).await;
    let b = create(app, T, 1000).await;
    let other = create(app, OTHER, 1000).await;
    assert_eq!(
        a.payment_number,
        PaymentNumber::new(2026, t0 + 1).unwrap().to_string()
    );
    assert_eq!(
        b.payment_number,
        PaymentNumber::new(2026, t0 + 2).unwrap().to_string()
    );
    assert_eq!(
        other.payment_number,
        PaymentNumber::new(2026, other0 + 1).unwrap().to_string()
    );
    let db = &app.app.db;
    let mut tx = db.begin().await.unwrap();
    let older = charges::create(
        &mut tx,
        db.vault().unwrap(),
        T,
        "staff:t1",
        &NewCharge {
            fiscal_year: 2025,
            ..new_charge(500)
        },
        1_000,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        older.payment_number,
        PaymentNumber::new(2025, 1).unwrap().to_string()
    );
    let found = charges::by_payment_number(
        db.read(),
        T,
        &PaymentNumber::parse(&b.payment_number).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(found.id, b.id);
    // Another municipality's number is not found here (one OTHER has not
    // issued yet).
    assert!(t0 + 2 > other0 + 1);
    let none = charges::by_payment_number(
        db.read(),
        OTHER,
        &PaymentNumber::parse(&b.payment_number).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(none, None);
}

async fn payer_is_sealed_at_rest(app: &TestApp) {
    let c = create(app, T, 1000).await;
    let db = &app.app.db;
    let raw: String =
        sqlx::query("SELECT payer_sealed FROM payment_charges WHERE tenant = $1 AND id = $2")
            .bind(T)
            .bind(&c.id)
            .fetch_one(db.read())
            .await
            .unwrap()
            .get(0);
    assert!(!raw.contains("四街道 花子"), "payer stored in clear: {raw}");
    let got = charges::get(db.read(), T, &c.id).await.unwrap().unwrap();
    assert_eq!(got.payer(db.vault().unwrap()).unwrap().name, "四街道 花子");
    // Sealed for its municipality: another's key does not open it.
    let mut moved = got.clone();
    moved.tenant = OTHER.into();
    assert!(moved.payer(db.vault().unwrap()).is_err());
}

async fn status_follows_receipts_and_duplicates_count_once(app: &TestApp) {
    let c = create(app, T, 1000).await;
    let first = record(app, &receipt(&c, "cvs-1", 400)).await.unwrap();
    let Recorded::New {
        charge: Some(after),
        ..
    } = first
    else {
        panic!("{first:?}")
    };
    assert_eq!(
        (after.status, after.paid_amount),
        (ChargeStatus::Partial, 400)
    );
    // The same report again (速報 then 確報): nothing changes.
    let again = record(app, &receipt(&c, "cvs-1", 400)).await.unwrap();
    assert!(matches!(again, Recorded::Duplicate { .. }), "{again:?}");
    let now = charges::get(app.app.db.read(), T, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((now.status, now.paid_amount), (ChargeStatus::Partial, 400));
    record(app, &receipt(&c, "cvs-2", 600)).await.unwrap();
    let paid = charges::get(app.app.db.read(), T, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (paid.status, paid.paid_amount, paid.outstanding()),
        (ChargeStatus::Paid, 1000, 0)
    );
    record(app, &receipt(&c, "bank-9", 1000)).await.unwrap();
    let over = charges::get(app.app.db.read(), T, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(over.status, ChargeStatus::Overpaid);
    let history = charges::events(app.app.db.read(), T, &c.id).await.unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["created", "receipt", "receipt", "receipt"]);
    assert_eq!(
        history.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
}

async fn the_same_receipt_at_once_counts_once(app: &TestApp) {
    let c = create(app, T, 1000).await;
    let r = receipt(&c, "webhook-evt-1", 1000);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (db, r) = (app.app.db.clone(), r.clone());
            tokio::spawn(async move {
                loop {
                    let mut tx = db.begin().await.unwrap();
                    match charges::record_receipt(&mut tx, T, "webhook", &r, 2_000).await {
                        Ok(out) => match tx.commit().await {
                            Ok(()) => return out,
                            Err(_) => continue,
                        },
                        // A serialisation failure or a busy SQLite: try again, as the caller would.
                        Err(ChargeError::Db(_)) => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    let mut new = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Recorded::New { .. }) {
            new += 1;
        }
    }
    assert_eq!(new, 1);
    let paid = charges::get(app.app.db.read(), T, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((paid.status, paid.paid_amount), (ChargeStatus::Paid, 1000));
}

async fn refunds_and_cancellation(app: &TestApp) {
    let db = &app.app.db;
    let c = create(app, T, 1000).await;
    record(app, &receipt(&c, "cvs-1", 1300)).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let too_much = charges::record_refund(
        &mut tx,
        T,
        "staff:t2",
        &c.id,
        Yen::new(1301).unwrap(),
        serde_json::json!({}),
        3_000,
    )
    .await;
    assert!(
        matches!(
            too_much,
            Err(ChargeError::RefundTooLarge {
                asked: 1301,
                held: 1300
            })
        ),
        "{too_much:?}"
    );
    drop(tx);
    let mut tx = db.begin().await.unwrap();
    let back = charges::record_refund(
        &mut tx,
        T,
        "staff:t2",
        &c.id,
        Yen::new(300).unwrap(),
        serde_json::json!({"reason": "過誤納"}),
        3_000,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (back.status, back.refunded_amount),
        (ChargeStatus::Paid, 300)
    );

    let d = create(app, T, 2000).await;
    record(app, &receipt(&d, "cvs-7", 500)).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let cancelled = charges::cancel(&mut tx, T, "staff:t1", &d.id, "賦課の取消", 4_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Money held after a cancellation is 過誤納 until it is paid back.
    assert_eq!(
        (cancelled.status, cancelled.outstanding()),
        (ChargeStatus::Overpaid, 0)
    );
    let mut tx = db.begin().await.unwrap();
    assert!(matches!(
        charges::cancel(&mut tx, T, "staff:t1", &d.id, "again", 4_001).await,
        Err(ChargeError::AlreadyCancelled)
    ));
    drop(tx);
    let mut tx = db.begin().await.unwrap();
    let refunded = charges::record_refund(
        &mut tx,
        T,
        "staff:t2",
        &d.id,
        Yen::new(500).unwrap(),
        serde_json::json!({}),
        5_000,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(refunded.status, ChargeStatus::Refunded);
    let audit: i64 = sqlx::query(
        "SELECT COUNT(*) FROM audit_log WHERE tenant = $1 AND action IN ('payments.charge.cancel', 'payments.charge.refund')",
    )
    .bind(T)
    .fetch_one(db.read())
    .await
    .unwrap()
    .get(0);
    assert_eq!(audit, 3);
}

async fn unmatched_money_is_kept_once(app: &TestApp) {
    let r = NewReceipt {
        charge_id: None,
        channel: Channel::Bank,
        source_key: "zengin:file1:17".into(),
        amount: Yen::new(4200).unwrap(),
        paid_on: date!(2026 - 07 - 21),
    };
    let first = record(app, &r).await.unwrap();
    assert!(
        matches!(first, Recorded::New { charge: None, .. }),
        "{first:?}"
    );
    assert!(matches!(
        record(app, &r).await.unwrap(),
        Recorded::Duplicate { .. }
    ));
    let unknown_charge = NewReceipt {
        charge_id: Some("nope".into()),
        source_key: "k2".into(),
        ..r
    };
    assert!(matches!(
        record(app, &unknown_charge).await,
        Err(ChargeError::NotFound)
    ));
}

testkit::on_both_backends!(
    numbers_run_per_municipality_and_year,
    payer_is_sealed_at_rest,
    status_follows_receipts_and_duplicates_count_once,
    the_same_receipt_at_once_counts_once,
    refunds_and_cancellation,
    unmatched_money_is_kept_once,
);
