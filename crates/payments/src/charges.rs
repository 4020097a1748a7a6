//! 調定 (charges): what one payer owes for one subject and period, every
//! amount received against it, and its history.
//!
//! A charge's status is never set by hand: it follows from its amount,
//! what was received, what was refunded and whether it was cancelled
//! ([`status_of`]). A receipt is recorded once per channel and the
//! channel's own key for it ([`record_receipt`]): the same payment
//! reported again (a replayed webhook, 速報 then 確報, a file imported
//! twice) is answered [`Recorded::Duplicate`] and changes nothing.
//!
//! Every function here works inside the caller's transaction, so a charge,
//! its history row, its audit entry and whatever caused them commit
//! together.

use jp::Yen;
use kernel::audit::{self, AuditEntry};
use kernel::crypto::{Purpose, Vault};
use kernel::db::Tx;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use time::Date;

use crate::number::PaymentNumber;

/// Where a charge stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    /// 未納
    Unpaid,
    /// 一部納付
    Partial,
    /// 納付済
    Paid,
    /// 過誤納: more was received than is owed (or anything after a cancellation).
    Overpaid,
    /// 取消
    Cancelled,
    /// 還付: what was paid has been paid back.
    Refunded,
}

impl ChargeStatus {
    pub const ALL: [ChargeStatus; 6] = [
        ChargeStatus::Unpaid,
        ChargeStatus::Partial,
        ChargeStatus::Paid,
        ChargeStatus::Overpaid,
        ChargeStatus::Cancelled,
        ChargeStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::Unpaid => "unpaid",
            ChargeStatus::Partial => "partial",
            ChargeStatus::Paid => "paid",
            ChargeStatus::Overpaid => "overpaid",
            ChargeStatus::Cancelled => "cancelled",
            ChargeStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The i18n key of the status's name (`payments.status.*`).
    pub fn label_key(self) -> &'static str {
        match self {
            ChargeStatus::Unpaid => "payments.status.unpaid",
            ChargeStatus::Partial => "payments.status.partial",
            ChargeStatus::Paid => "payments.status.paid",
            ChargeStatus::Overpaid => "payments.status.overpaid",
            ChargeStatus::Cancelled => "payments.status.cancelled",
            ChargeStatus::Refunded => "payments.status.refunded",
        }
    }

    /// Whether money may still be asked for (a slip printed, a payment page
    /// offered).
    pub fn is_payable(self) -> bool {
        matches!(self, ChargeStatus::Unpaid | ChargeStatus::Partial)
    }
}

/// The status that follows from the amounts (yen).
pub fn status_of(amount: i64, paid: i64, refunded: i64, cancelled: bool) -> ChargeStatus {
    let net = paid - refunded;
    if cancelled {
        return if net > 0 {
            ChargeStatus::Overpaid
        } else if refunded > 0 {
            ChargeStatus::Refunded
        } else {
            ChargeStatus::Cancelled
        };
    }
    match net {
        n if n <= 0 && refunded > 0 => ChargeStatus::Refunded,
        n if n <= 0 => ChargeStatus::Unpaid,
        n if n < amount => ChargeStatus::Partial,
        n if n == amount => ChargeStatus::Paid,
        _ => ChargeStatus::Overpaid,
    }
}

/// How money arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Paid online through a payment provider (card, QR code payment).
    Online,
    /// At a convenience store (標準料金代理収納, GS1-128).
    Conveni,
    /// With eL-QR / eL番号 (地方税統一QRコード).
    ElQr,
    /// A bank transfer or a bank counter (振込入金通知).
    Bank,
    /// 口座振替.
    DirectDebit,
    /// At the city's own counter.
    Counter,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Online,
        Channel::Conveni,
        Channel::ElQr,
        Channel::Bank,
        Channel::DirectDebit,
        Channel::Counter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Conveni => "conveni",
            Channel::ElQr => "el_qr",
            Channel::Bank => "bank",
            Channel::DirectDebit => "direct_debit",
            Channel::Counter => "counter",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The i18n key of the channel's name (`payments.channel.*`).
    pub fn label_key(self) -> &'static str {
        match self {
            Channel::Online => "payments.channel.online",
            Channel::Conveni => "payments.channel.conveni",
            Channel::ElQr => "payments.channel.el_qr",
            Channel::Bank => "payments.channel.bank",
            Channel::DirectDebit => "payments.channel.direct_debit",
            Channel::Counter => "payments.channel.counter",
        }
    }

    /// Cashless (キャッシュレス) in the plans' sense: paid without cash at
    /// a counter or a convenience store's till.
    pub fn is_cashless(self) -> bool {
        matches!(self, Channel::Online | Channel::ElQr | Channel::DirectDebit)
    }
}

/// The payer as printed on a slip (sealed at rest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    pub name: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub address: String,
}

/// A charge to create. The amount is more than zero yen by construction of
/// the caller's form ([`NewCharge::check`] refuses zero).
#[derive(Clone, Debug)]
pub struct NewCharge {
    /// The subject's code (e.g. `kokuho`, `fee.juminhyo`): what a report
    /// groups by.
    pub subject: String,
    /// The subject as printed (国民健康保険税).
    pub subject_label: String,
    /// The period as printed (令和8年度 第1期).
    pub period_label: String,
    pub fiscal_year: i32,
    /// The city's own key for the payer (宛名番号), or `resident:{subject}`
    /// for a signed-in resident.
    pub payer_ref: String,
    pub payer: Payer,
    pub amount: Yen,
    pub due_date: Date,
    /// The application the charge is a fee of, if any.
    pub application_id: Option<String>,
}

/// Why a charge cannot be made or changed.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    #[error("the amount must be more than 0 yen")]
    ZeroAmount,
    #[error("no payment number is left for fiscal year {0}")]
    NumbersExhausted(i32),
    #[error("charge not found")]
    NotFound,
    #[error("the receipt is not one waiting for a charge")]
    ReceiptNotWaiting,
    #[error("the charge is already cancelled")]
    AlreadyCancelled,
    #[error("a refund of {asked} yen is more than the {held} yen held")]
    RefundTooLarge { asked: i64, held: i64 },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("sealed payer: {0}")]
    Sealed(String),
}

impl NewCharge {
    pub fn check(&self) -> Result<(), ChargeError> {
        if self.amount.amount() == 0 {
            return Err(ChargeError::ZeroAmount);
        }
        Ok(())
    }
}

/// A charge as stored (the payer still sealed: [`Charge::payer`] opens it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Charge {
    pub tenant: String,
    pub id: String,
    pub payment_number: String,
    pub subject: String,
    pub subject_label: String,
    pub period_label: String,
    pub fiscal_year: i32,
    pub payer_ref: String,
    #[serde(skip)]
    pub payer_sealed: String,
    pub amount: i64,
    pub paid_amount: i64,
    pub refunded_amount: i64,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    pub status: ChargeStatus,
    pub application_id: Option<String>,
    pub cancelled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Charge {
    /// The payer, opened (the caller audits a member of staff's read).
    pub fn payer(&self, vault: &Vault) -> Result<Payer, ChargeError> {
        let plain = vault
            .open(&self.tenant, Purpose::Payer, &self.payer_sealed)
            .map_err(|e| ChargeError::Sealed(e.to_string()))?;
        serde_json::from_str(&plain).map_err(|e| ChargeError::Sealed(e.to_string()))
    }

    /// What is still owed (never negative).
    pub fn outstanding(&self) -> i64 {
        if self.cancelled_at.is_some() {
            return 0;
        }
        (self.amount - (self.paid_amount - self.refunded_amount)).max(0)
    }

    pub fn due(&self) -> Option<Date> {
        Date::parse(
            &self.due_date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()
    }
}

const COLUMNS: &str = "tenant, id, payment_number, subject, subject_label, period_label, fiscal_year, payer_ref, payer_sealed, amount, paid_amount, refunded_amount, due_date, status, application_id, cancelled_at, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Charge {
    Charge {
        tenant: r.get("tenant"),
        id: r.get("id"),
        payment_number: r.get("payment_number"),
        subject: r.get("subject"),
        subject_label: r.get("subject_label"),
        period_label: r.get("period_label"),
        fiscal_year: r.get::<i64, _>("fiscal_year") as i32,
        payer_ref: r.get("payer_ref"),
        payer_sealed: r.get("payer_sealed"),
        amount: r.get("amount"),
        paid_amount: r.get("paid_amount"),
        refunded_amount: r.get("refunded_amount"),
        due_date: r.get("due_date"),
        status: ChargeStatus::parse(&r.get::<String, _>("status")).unwrap_or(ChargeStatus::Unpaid),
        application_id: r.get("application_id"),
        cancelled_at: r.get("cancelled_at"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The next payment number of `tenant` in `fiscal_year`, taken in `tx`
/// (the counter row stays locked until the transaction ends).
async fn next_number(
    tx: &mut Tx,
    tenant: &str,
    fiscal_year: i32,
) -> Result<PaymentNumber, ChargeError> {
    let row = sqlx::query(
        "INSERT INTO payment_number_counters (tenant, fiscal_year, last) VALUES ($1, $2, 1) \
         ON CONFLICT (tenant, fiscal_year) DO UPDATE SET last = payment_number_counters.last + 1 \
         RETURNING last",
    )
    .bind(tenant)
    .bind(i64::from(fiscal_year))
    .fetch_one(&mut **tx)
    .await?;
    let seq: i64 = row.get(0);
    PaymentNumber::new(fiscal_year, seq as u64).ok_or(ChargeError::NumbersExhausted(fiscal_year))
}

/// One row of history to append.
struct Change<'a> {
    kind: &'a str,
    amount: i64,
    actor: &'a str,
    detail: serde_json::Value,
}

async fn append_event(
    tx: &mut Tx,
    tenant: &str,
    charge_id: &str,
    at: i64,
    change: Change<'_>,
) -> Result<(), sqlx::Error> {
    let Change {
        kind,
        amount,
        actor,
        detail,
    } = change;
    sqlx::query(
        "INSERT INTO payment_charge_events (tenant, charge_id, seq, at, kind, amount, actor, detail) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM payment_charge_events WHERE tenant = $1 AND charge_id = $2), $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(charge_id)
    .bind(at)
    .bind(kind)
    .bind(amount)
    .bind(actor)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Creates a charge with the next payment number, its history's first row
/// and an audit entry, in `tx`.
pub async fn create(
    tx: &mut Tx,
    vault: &Vault,
    tenant: &str,
    actor: &str,
    new: &NewCharge,
    now: i64,
) -> Result<Charge, ChargeError> {
    new.check()?;
    let number = next_number(tx, tenant, new.fiscal_year).await?;
    let id = kernel::ids::short_id();
    let payer_json = serde_json::to_string(&new.payer).expect("payer serialises");
    let sealed = vault.seal(tenant, Purpose::Payer, &payer_json);
    let amount = new.amount.amount() as i64;
    let status = status_of(amount, 0, 0, false);
    sqlx::query(
        "INSERT INTO payment_charges (tenant, id, payment_number, subject, subject_label, period_label, fiscal_year, payer_ref, payer_sealed, amount, paid_amount, refunded_amount, due_date, status, application_id, cancelled_at, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, $11, $12, $13, NULL, $14, $15, $15)",
    )
    .bind(tenant)
    .bind(&id)
    .bind(number.as_str())
    .bind(&new.subject)
    .bind(&new.subject_label)
    .bind(&new.period_label)
    .bind(i64::from(new.fiscal_year))
    .bind(&new.payer_ref)
    .bind(&sealed)
    .bind(amount)
    .bind(iso(new.due_date))
    .bind(status.as_str())
    .bind(new.application_id.as_deref())
    .bind(actor)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    append_event(
        tx,
        tenant,
        &id,
        now,
        Change {
            kind: "created",
            amount,
            actor,
            detail: json!({}),
        },
    )
    .await?;
    audit::append(
        tx,
        tenant,
        now,
        &[
            AuditEntry::new(actor, "payments.charge.create", &id).detail(json!({
                "payment_number": number.as_str(),
                "subject": new.subject,
                "amount": amount,
                "due_date": iso(new.due_date),
            })),
        ],
    )
    .await?;
    Ok(Charge {
        tenant: tenant.to_string(),
        id,
        payment_number: number.to_string(),
        subject: new.subject.clone(),
        subject_label: new.subject_label.clone(),
        period_label: new.period_label.clone(),
        fiscal_year: new.fiscal_year,
        payer_ref: new.payer_ref.clone(),
        payer_sealed: sealed,
        amount,
        paid_amount: 0,
        refunded_amount: 0,
        due_date: iso(new.due_date),
        status,
        application_id: new.application_id.clone(),
        cancelled_at: None,
        created_at: now,
        updated_at: now,
    })
}

/// The charge `id` of `tenant`.
pub async fn get<'e, E>(ex: E, tenant: &str, id: &str) -> Result<Option<Charge>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_charges WHERE tenant = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// The charge whose slip carries `number`.
pub async fn by_payment_number<'e, E>(
    ex: E,
    tenant: &str,
    number: &PaymentNumber,
) -> Result<Option<Charge>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_charges WHERE tenant = $1 AND payment_number = $2"
    ))
    .bind(tenant)
    .bind(number.as_str())
    .fetch_optional(ex)
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// The charges of one payer, newest first.
pub async fn for_payer<'e, E>(
    ex: E,
    tenant: &str,
    payer_ref: &str,
) -> Result<Vec<Charge>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_charges WHERE tenant = $1 AND payer_ref = $2 ORDER BY created_at DESC, id"
    ))
    .bind(tenant)
    .bind(payer_ref)
    .fetch_all(ex)
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The charges made as the fee of `application_id`.
pub async fn for_application<'e, E>(
    ex: E,
    tenant: &str,
    application_id: &str,
) -> Result<Vec<Charge>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_charges WHERE tenant = $1 AND application_id = $2 ORDER BY created_at, id"
    ))
    .bind(tenant)
    .bind(application_id)
    .fetch_all(ex)
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Money received, as a channel reports it.
#[derive(Clone, Debug)]
pub struct NewReceipt {
    /// The charge it pays, or `None` for money that matched no charge
    /// (kept, so that it is neither lost nor counted twice).
    pub charge_id: Option<String>,
    pub channel: Channel,
    /// The channel's own key for this payment (provider payment id, the
    /// collector's receipt number, file + record for a bank transfer).
    pub source_key: String,
    pub amount: Yen,
    pub paid_on: Date,
}

/// What recording a receipt did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded; the charge as it now stands (`None` when unmatched).
    New {
        receipt_id: String,
        charge: Option<Box<Charge>>,
    },
    /// This payment was recorded before (same channel and key): nothing
    /// changed.
    Duplicate { receipt_id: String },
}

/// Records a receipt and applies it to its charge, in `tx`. The same
/// channel and key a second time is a [`Recorded::Duplicate`], however the
/// two calls interleave (the unique key decides).
pub async fn record_receipt(
    tx: &mut Tx,
    tenant: &str,
    actor: &str,
    receipt: &NewReceipt,
    now: i64,
) -> Result<Recorded, ChargeError> {
    let amount = receipt.amount.amount() as i64;
    if amount == 0 {
        return Err(ChargeError::ZeroAmount);
    }
    if let Some(charge_id) = &receipt.charge_id {
        // Lock the charge first so concurrent receipts apply one by one.
        lock(tx, tenant, charge_id).await?;
    }
    let id = kernel::ids::short_id();
    let inserted = sqlx::query(
        "INSERT INTO payment_receipts (tenant, id, charge_id, channel, source_key, amount, paid_on, recorded_at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant, channel, source_key) DO NOTHING",
    )
    .bind(tenant)
    .bind(&id)
    .bind(receipt.charge_id.as_deref())
    .bind(receipt.channel.as_str())
    .bind(&receipt.source_key)
    .bind(amount)
    .bind(iso(receipt.paid_on))
    .bind(now)
    .bind(actor)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        let existing: String = sqlx::query(
            "SELECT id FROM payment_receipts WHERE tenant = $1 AND channel = $2 AND source_key = $3",
        )
        .bind(tenant)
        .bind(receipt.channel.as_str())
        .bind(&receipt.source_key)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
        return Ok(Recorded::Duplicate {
            receipt_id: existing,
        });
    }
    let Some(charge_id) = &receipt.charge_id else {
        return Ok(Recorded::New {
            receipt_id: id,
            charge: None,
        });
    };
    let charge = apply(tx, tenant, charge_id, amount, 0, now).await?;
    append_event(
        tx,
        tenant,
        charge_id,
        now,
        Change {
            kind: "receipt",
            amount,
            actor,
            detail: json!({"receipt": id, "channel": receipt.channel.as_str(), "paid_on": iso(receipt.paid_on)}),
        },
    )
    .await?;
    Ok(Recorded::New {
        receipt_id: id,
        charge: Some(Box::new(charge)),
    })
}

/// Applies a receipt recorded without a charge (money that waited in the
/// exception queue) to `charge_id`, in `tx`: the charge's amounts, status
/// and history change as if the receipt had matched when it came. A
/// receipt that already has a charge is refused
/// ([`ChargeError::ReceiptNotWaiting`]). The caller audits.
pub async fn assign_receipt(
    tx: &mut Tx,
    tenant: &str,
    actor: &str,
    receipt_id: &str,
    charge_id: &str,
    now: i64,
) -> Result<Charge, ChargeError> {
    lock(tx, tenant, charge_id).await?;
    let row = sqlx::query(
        "UPDATE payment_receipts SET charge_id = $3 WHERE tenant = $1 AND id = $2 AND charge_id IS NULL \
         RETURNING amount, channel, paid_on",
    )
    .bind(tenant)
    .bind(receipt_id)
    .bind(charge_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(ChargeError::ReceiptNotWaiting)?;
    let amount: i64 = row.get("amount");
    let channel: String = row.get("channel");
    let paid_on: String = row.get("paid_on");
    let charge = apply(tx, tenant, charge_id, amount, 0, now).await?;
    append_event(
        tx,
        tenant,
        charge_id,
        now,
        Change {
            kind: "receipt",
            amount,
            actor,
            detail: json!({"receipt": receipt_id, "channel": channel, "paid_on": paid_on, "assigned": true}),
        },
    )
    .await?;
    Ok(charge)
}

/// Locks the charge row for the rest of `tx` (PostgreSQL; SQLite has one
/// writer already).
async fn lock(tx: &mut Tx, tenant: &str, id: &str) -> Result<(), ChargeError> {
    let n = sqlx::query(
        "UPDATE payment_charges SET updated_at = updated_at WHERE tenant = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(ChargeError::NotFound);
    }
    Ok(())
}

/// Adds `paid` and `refunded` to the charge's amounts and sets the status
/// they give.
async fn apply(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    paid: i64,
    refunded: i64,
    now: i64,
) -> Result<Charge, ChargeError> {
    let mut c = get(&mut **tx, tenant, id)
        .await?
        .ok_or(ChargeError::NotFound)?;
    c.paid_amount += paid;
    c.refunded_amount += refunded;
    c.status = status_of(
        c.amount,
        c.paid_amount,
        c.refunded_amount,
        c.cancelled_at.is_some(),
    );
    c.updated_at = now;
    sqlx::query(
        "UPDATE payment_charges SET paid_amount = $3, refunded_amount = $4, status = $5, updated_at = $6 WHERE tenant = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(c.paid_amount)
    .bind(c.refunded_amount)
    .bind(c.status.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(c)
}

/// Cancels a charge (取消) with the reason, audited. Money already
/// received stays recorded and makes the charge 過誤納 until refunded.
pub async fn cancel(
    tx: &mut Tx,
    tenant: &str,
    actor: &str,
    id: &str,
    reason: &str,
    now: i64,
) -> Result<Charge, ChargeError> {
    lock(tx, tenant, id).await?;
    let c = get(&mut **tx, tenant, id)
        .await?
        .ok_or(ChargeError::NotFound)?;
    if c.cancelled_at.is_some() {
        return Err(ChargeError::AlreadyCancelled);
    }
    sqlx::query("UPDATE payment_charges SET cancelled_at = $3 WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let c = apply(tx, tenant, id, 0, 0, now).await?;
    append_event(
        tx,
        tenant,
        id,
        now,
        Change {
            kind: "cancelled",
            amount: 0,
            actor,
            detail: json!({"reason": reason}),
        },
    )
    .await?;
    audit::append(
        tx,
        tenant,
        now,
        &[AuditEntry::new(actor, "payments.charge.cancel", id).detail(json!({"reason": reason}))],
    )
    .await?;
    Ok(c)
}

/// Records money paid back (還付) on a charge, after its approval, audited.
/// Never more than the charge holds.
pub async fn record_refund(
    tx: &mut Tx,
    tenant: &str,
    actor: &str,
    id: &str,
    amount: Yen,
    detail: serde_json::Value,
    now: i64,
) -> Result<Charge, ChargeError> {
    lock(tx, tenant, id).await?;
    let c = get(&mut **tx, tenant, id)
        .await?
        .ok_or(ChargeError::NotFound)?;
    let asked = amount.amount() as i64;
    let held = c.paid_amount - c.refunded_amount;
    if asked == 0 {
        return Err(ChargeError::ZeroAmount);
    }
    if asked > held {
        return Err(ChargeError::RefundTooLarge { asked, held });
    }
    let c = apply(tx, tenant, id, 0, asked, now).await?;
    append_event(
        tx,
        tenant,
        id,
        now,
        Change {
            kind: "refunded",
            amount: asked,
            actor,
            detail: detail.clone(),
        },
    )
    .await?;
    audit::append(
        tx,
        tenant,
        now,
        &[AuditEntry::new(actor, "payments.charge.refund", id)
            .detail(json!({"amount": asked, "detail": detail}))],
    )
    .await?;
    Ok(c)
}

/// One row of a charge's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChargeEvent {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub amount: i64,
    pub actor: String,
    pub detail: serde_json::Value,
}

/// A charge's history, oldest first.
pub async fn events<'e, E>(ex: E, tenant: &str, id: &str) -> Result<Vec<ChargeEvent>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT seq, at, kind, amount, actor, detail FROM payment_charge_events WHERE tenant = $1 AND charge_id = $2 ORDER BY seq",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .iter()
        .map(|r| ChargeEvent {
            seq: r.get("seq"),
            at: r.get("at"),
            kind: r.get("kind"),
            amount: r.get("amount"),
            actor: r.get("actor"),
            detail: serde_json::from_str(&r.get::<String, _>("detail")).unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_amounts() {
        use ChargeStatus::*;
        assert_eq!(status_of(1000, 0, 0, false), Unpaid);
        assert_eq!(status_of(1000, 400, 0, false), Partial);
        assert_eq!(status_of(1000, 1000, 0, false), Paid);
        assert_eq!(status_of(1000, 1300, 0, false), Overpaid);
        assert_eq!(status_of(1000, 1300, 300, false), Paid);
        assert_eq!(status_of(1000, 1000, 1000, false), Refunded);
        assert_eq!(status_of(1000, 0, 0, true), Cancelled);
        assert_eq!(status_of(1000, 500, 0, true), Overpaid);
        assert_eq!(status_of(1000, 500, 500, true), Refunded);
    }

    #[test]
    fn cashless_channels() {
        assert!(Channel::Online.is_cashless());
        assert!(Channel::ElQr.is_cashless());
        assert!(Channel::DirectDebit.is_cashless());
        assert!(!Channel::Counter.is_cashless());
        assert!(!Channel::Conveni.is_cashless());
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
    }
}
