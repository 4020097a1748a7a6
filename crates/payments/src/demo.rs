//! Demo charges: a few 調定 per demo municipality, so the treasurer's
//! pages and the resident's payment page have something to show. Made
//! once (a municipality that has demo charges gets no more).

use jp::Yen;
use kernel::crypto::Vault;
use kernel::Db;
use sqlx::Row;
use time::{Date, Duration};

use crate::charges::{self, NewCharge, Payer};

/// Who the demo's charges are made by.
pub const ACTOR: &str = "system:demo";

/// Creates the demo charges of `tenant` unless it has some; returns how
/// many were made.
pub async fn seed(db: &Db, vault: &Vault, tenant: &str, today: Date) -> anyhow::Result<u64> {
    let have: i64 =
        sqlx::query("SELECT COUNT(*) FROM payment_charges WHERE tenant = $1 AND created_by = $2")
            .bind(tenant)
            .bind(ACTOR)
            .fetch_one(db.read())
            .await?
            .get(0);
    if have > 0 {
        return Ok(0);
    }
    let fy = jp::FiscalYear::of(today).start_year();
    let period = |n: u32| format!("{} 第{n}期", jp::FiscalYear::of(today).wareki());
    let rows = [
        (
            "kokuho",
            "国民健康保険税",
            period(1),
            "000101",
            "四街道 花子",
            23_400,
            30,
        ),
        (
            "kokuho",
            "国民健康保険税",
            period(2),
            "000101",
            "四街道 花子",
            23_400,
            61,
        ),
        (
            "kaigo",
            "介護保険料",
            period(1),
            "000202",
            "鹿渡 太郎",
            6_100,
            30,
        ),
        (
            "hoiku",
            "保育料",
            "4月分".to_string(),
            "000303",
            "千代田 みどり",
            18_000,
            14,
        ),
    ];
    let mut tx = db.begin().await?;
    let now = kernel::clock::now_ms();
    let mut n = 0;
    for (subject, label, period_label, payer_ref, name, amount, days) in rows {
        let new = NewCharge {
            subject: subject.into(),
            subject_label: label.into(),
            period_label,
            fiscal_year: fy,
            payer_ref: payer_ref.into(),
            payer: Payer {
                name: name.into(),
                postal_code: "284-8555".into(),
                address: "千葉県四街道市鹿渡無番地".into(),
            },
            amount: Yen::new(amount)?,
            due_date: today + Duration::days(days),
            application_id: None,
        };
        charges::create(&mut tx, vault, tenant, ACTOR, &new, now).await?;
        n += 1;
    }
    tx.commit().await?;
    Ok(n)
}
