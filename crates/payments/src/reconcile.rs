//! 消込 (reconciliation): importing a bank's 振込入金通知
//! ([`crate::zengin`]) or a collection agent's convenience-store result
//! file ([`crate::conveni`]) and applying each payment to its charge.
//!
//! A payment is applied when its 納付番号 names a charge of the
//! municipality that is neither cancelled nor paid and the amount is what
//! the charge still owes. Everything else waits in the exception queue
//! ([`ExceptionKind`]) as a receipt without a charge, for staff to resolve
//! with a reason ([`resolve`]).
//!
//! Where the number comes from:
//! - convenience store: the barcode's 自由使用欄 (last 11 digits, see
//!   [`crate::conveni`]);
//! - bank transfer: the first run of 11 digits with a valid check digit in
//!   the EDI情報 field, else in the 振込依頼人名 (the slip asks residents
//!   to type the 納付番号 before their name when they transfer, e.g.
//!   `26000000017ﾖﾂｶｲﾄﾞｳ ﾊﾅｺ`).
//!
//! Each payment is recorded once per channel and the channel's key for it
//! (bank: account, 勘定日 and 照会番号; convenience store: the agent's code
//! and 収納受付番号), so the same file twice, or 速報 then 確報 of one
//! payment, counts once. The file itself is recorded with its SHA-256:
//! importing the same bytes again is answered [`Imported::Again`] and
//! changes nothing. The whole file is checked before anything is applied,
//! and everything runs in the caller's transaction: all or nothing. A
//! preview (dry run) is the same import in a transaction that is rolled
//! back.

use jp::Yen;
use kernel::audit::{self, AuditEntry};
use kernel::crypto::{Purpose, Vault};
use kernel::db::Tx;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;
use time::Date;

use crate::charges::{self, Channel, ChargeError, NewReceipt, Recorded};
use crate::conveni;
use crate::fixed::FileError;
use crate::number::{self, PaymentNumber};
use crate::zengin;

/// Which kind of file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// 全銀 振込入金通知.
    Zengin,
    /// Convenience-store result file (速報 or 確報, the header says which).
    Conveni,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Zengin => "zengin",
            FileKind::Conveni => "conveni",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [FileKind::Zengin, FileKind::Conveni]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    fn channel(self) -> Channel {
        match self {
            FileKind::Zengin => Channel::Bank,
            FileKind::Conveni => Channel::Conveni,
        }
    }
}

/// Why a payment was not applied as it came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// 番号不明: no 納付番号, or one that names no charge.
    UnknownNumber,
    /// 過不足: more or less than the charge still owes.
    AmountMismatch,
    /// 二重納付: the charge was paid already.
    Duplicate,
    /// 取消後の納付: the charge is cancelled.
    CancelledCharge,
    /// The bank takes back an earlier notice (取消区分 1).
    BankCancellation,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 5] = [
        ExceptionKind::UnknownNumber,
        ExceptionKind::AmountMismatch,
        ExceptionKind::Duplicate,
        ExceptionKind::CancelledCharge,
        ExceptionKind::BankCancellation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::UnknownNumber => "unknown_number",
            ExceptionKind::AmountMismatch => "amount_mismatch",
            ExceptionKind::Duplicate => "duplicate",
            ExceptionKind::CancelledCharge => "cancelled_charge",
            ExceptionKind::BankCancellation => "bank_cancellation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The i18n key of the kind's name.
    pub fn label_key(self) -> &'static str {
        match self {
            ExceptionKind::UnknownNumber => "payments.reconcile.kind.unknown_number",
            ExceptionKind::AmountMismatch => "payments.reconcile.kind.amount_mismatch",
            ExceptionKind::Duplicate => "payments.reconcile.kind.duplicate",
            ExceptionKind::CancelledCharge => "payments.reconcile.kind.cancelled_charge",
            ExceptionKind::BankCancellation => "payments.reconcile.kind.bank_cancellation",
        }
    }
}

/// One payment as any file reports it.
#[derive(Clone, Debug)]
struct Item {
    record: usize,
    number: Option<PaymentNumber>,
    /// The number as it appeared, for the queue (may be empty).
    number_text: String,
    amount: u64,
    paid_on: Date,
    source_key: String,
    bank_cancelled: bool,
    /// The 請求書発行企業コード the payment was made to (convenience-store
    /// files): a payment to another biller names none of our charges,
    /// whatever its 自由使用欄 says.
    biller: Option<String>,
    /// What the file said about the payer (sealed in the queue).
    detail: serde_json::Value,
}

/// The first run of exactly 11 digits (after width folding) that is a
/// valid 納付番号.
pub fn find_number(text: &str) -> Option<PaymentNumber> {
    let folded = jp::fold_width(text);
    let bytes = folded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == number::LEN {
                if let Some(n) = PaymentNumber::parse(&folded[start..i]) {
                    return Some(n);
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

fn items_of_notice(n: &zengin::Notice) -> Vec<Item> {
    let mut out = Vec::with_capacity(n.transfers().count());
    for a in &n.accounts {
        let h = &a.header;
        for t in &a.transfers {
            let number = find_number(&t.edi).or_else(|| find_number(&t.requester_name));
            let number_text = number.as_ref().map(|n| n.to_string()).unwrap_or_default();
            let base = format!(
                "{}-{}-{}:{}:{}",
                h.bank_code, h.branch_code, h.account_number, t.booked_on, t.inquiry_number
            );
            out.push(Item {
                record: t.record,
                number,
                number_text,
                amount: t.amount,
                paid_on: t.booked_on,
                source_key: if t.cancelled {
                    format!("{base}:cancel")
                } else {
                    base
                },
                bank_cancelled: t.cancelled,
                biller: None,
                detail: json!({
                    "requester_name": t.requester_name,
                    "requester_code": t.requester_code,
                    "edi": t.edi,
                    "from_bank": t.from_bank,
                    "from_branch": t.from_branch,
                }),
            });
        }
    }
    out
}

fn items_of_result(f: &conveni::ResultFile) -> Vec<Item> {
    f.payments
        .iter()
        .map(|p| {
            let digits = p.barcode.payment_number_digits();
            Item {
                record: p.record,
                number: digits.and_then(PaymentNumber::parse),
                number_text: digits.unwrap_or(&p.barcode.free_field).to_string(),
                amount: p.barcode.amount,
                paid_on: p.paid_on,
                source_key: format!("{}:{}", f.agent_code, p.receipt_number),
                bank_cancelled: false,
                biller: Some(p.barcode.company_code.clone()),
                detail: json!({
                    "barcode": p.barcode_digits,
                    "store": p.store_code,
                    "paid_at": p.paid_at,
                    "report": f.report.as_str(),
                }),
            }
        })
        .collect()
}

/// One payment's outcome, by its record number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    pub record: usize,
    pub payment_number: String,
    pub amount: u64,
    /// The charge applied to (or the one the number named).
    pub charge_id: Option<String>,
    /// For an exception, why.
    pub kind: Option<ExceptionKind>,
}

/// What an import did (or, in a preview, would do).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub file_id: String,
    pub kind: FileKind,
    pub file_name: String,
    pub sha256: String,
    pub records: usize,
    pub payments: usize,
    pub total: u64,
    pub applied: Vec<Line>,
    pub applied_total: u64,
    pub exceptions: Vec<Line>,
    /// Recorded before (the same payment in an earlier file, or 速報 then
    /// 確報): counted once, nothing changed.
    pub already: Vec<Line>,
}

/// An earlier import of the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EarlierImport {
    pub file_id: String,
    pub file_name: String,
    pub imported_by: String,
    pub imported_at: i64,
    pub applied: i64,
    pub exceptions: i64,
}

/// What importing a file did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    Done(Box<Report>),
    /// These bytes were imported before: nothing changed.
    Again(EarlierImport),
}

/// Why a file was refused (nothing changed).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    File(#[from] FileError),
    #[error(transparent)]
    Charge(#[from] ChargeError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The earlier import of a file with this hash, if any.
pub async fn earlier<'e, E>(
    ex: E,
    tenant: &str,
    sha256: &str,
) -> Result<Option<EarlierImport>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT id, file_name, imported_by, imported_at, applied, exceptions FROM payment_import_files WHERE tenant = $1 AND sha256 = $2",
    )
    .bind(tenant)
    .bind(sha256)
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|r| EarlierImport {
        file_id: r.get("id"),
        file_name: r.get("file_name"),
        imported_by: r.get("imported_by"),
        imported_at: r.get("imported_at"),
        applied: r.get("applied"),
        exceptions: r.get("exceptions"),
    }))
}

/// Reads and checks a file of `kind` into the payments it reports (no
/// store access): every fault is a [`FileError`] naming the record.
fn read(kind: FileKind, bytes: &[u8]) -> Result<(usize, Vec<Item>), FileError> {
    match kind {
        FileKind::Zengin => {
            let n = zengin::parse(bytes)?;
            Ok((n.records, items_of_notice(&n)))
        }
        FileKind::Conveni => {
            let f = conveni::parse(bytes)?;
            Ok((f.records, items_of_result(&f)))
        }
    }
}

/// What the payment meets in the store.
enum Decision {
    Apply(String),
    Exception(ExceptionKind, Option<String>),
}

async fn decide(tx: &mut Tx, tenant: &str, item: &Item) -> Result<Decision, sqlx::Error> {
    if item.bank_cancelled {
        return Ok(Decision::Exception(ExceptionKind::BankCancellation, None));
    }
    let Some(number) = &item.number else {
        return Ok(Decision::Exception(ExceptionKind::UnknownNumber, None));
    };
    let Some(c) = charges::by_payment_number(&mut **tx, tenant, number).await? else {
        return Ok(Decision::Exception(ExceptionKind::UnknownNumber, None));
    };
    let kind = if c.cancelled_at.is_some() {
        ExceptionKind::CancelledCharge
    } else if c.outstanding() == 0 {
        ExceptionKind::Duplicate
    } else if c.outstanding() != item.amount as i64 {
        ExceptionKind::AmountMismatch
    } else {
        return Ok(Decision::Apply(c.id));
    };
    Ok(Decision::Exception(kind, Some(c.id)))
}

async fn recorded_before(
    tx: &mut Tx,
    tenant: &str,
    channel: Channel,
    key: &str,
) -> Result<bool, sqlx::Error> {
    let receipt = sqlx::query(
        "SELECT 1 FROM payment_receipts WHERE tenant = $1 AND channel = $2 AND source_key = $3",
    )
    .bind(tenant)
    .bind(channel.as_str())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    if receipt.is_some() {
        return Ok(true);
    }
    let queued = sqlx::query(
        "SELECT 1 FROM payment_exceptions WHERE tenant = $1 AND channel = $2 AND source_key = $3",
    )
    .bind(tenant)
    .bind(channel.as_str())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(queued.is_some())
}

/// What to import.
pub struct Upload<'a> {
    pub kind: FileKind,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// Imports a file in `tx`: checks it whole, applies what matches, queues
/// the rest, records the file and an audit entry. On any error the caller
/// drops the transaction and nothing has changed; for a preview the caller
/// rolls back a successful import.
pub async fn import(
    tx: &mut Tx,
    vault: &Vault,
    tenant: &str,
    actor: &str,
    upload: &Upload<'_>,
    now: i64,
) -> Result<Imported, ImportError> {
    let sha = sha256_hex(upload.bytes);
    if let Some(e) = earlier(&mut **tx, tenant, &sha).await? {
        return Ok(Imported::Again(e));
    }
    let (records, mut items) = read(upload.kind, upload.bytes)?;
    // 納付番号 are numbered per municipality: a convenience-store payment
    // finds a charge here only if it was made to this municipality's
    // 請求書発行企業コード (payments::slips settings).
    let own_biller: Option<String> =
        sqlx::query_scalar("SELECT biller_code FROM payment_slip_settings WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(&mut **tx)
            .await?;
    for item in &mut items {
        if item.biller.is_some() && item.biller != own_biller {
            item.number = None;
        }
    }
    let channel = upload.kind.channel();
    let file_id = kernel::ids::short_id();
    let mut report = Report {
        file_id: file_id.clone(),
        kind: upload.kind,
        file_name: upload.file_name.to_string(),
        sha256: sha.clone(),
        records,
        payments: items.len(),
        total: items
            .iter()
            .filter(|i| !i.bank_cancelled)
            .map(|i| i.amount)
            .sum(),
        applied: Vec::new(),
        applied_total: 0,
        exceptions: Vec::new(),
        already: Vec::new(),
    };
    for item in &items {
        let line = |charge_id: Option<String>, kind: Option<ExceptionKind>| Line {
            record: item.record,
            payment_number: item.number_text.clone(),
            amount: item.amount,
            charge_id,
            kind,
        };
        if recorded_before(tx, tenant, channel, &item.source_key).await? {
            report.already.push(line(None, None));
            continue;
        }
        let amount = Yen::new(item.amount).expect("amount checked by the parser");
        match decide(tx, tenant, item).await? {
            Decision::Apply(charge_id) => {
                let r = NewReceipt {
                    charge_id: Some(charge_id.clone()),
                    channel,
                    source_key: item.source_key.clone(),
                    amount,
                    paid_on: item.paid_on,
                };
                charges::record_receipt(tx, tenant, actor, &r, now).await?;
                report.applied_total += item.amount;
                report.applied.push(line(Some(charge_id), None));
            }
            Decision::Exception(kind, charge_id) => {
                let receipt_id = if item.bank_cancelled {
                    None
                } else {
                    let r = NewReceipt {
                        charge_id: None,
                        channel,
                        source_key: item.source_key.clone(),
                        amount,
                        paid_on: item.paid_on,
                    };
                    match charges::record_receipt(tx, tenant, actor, &r, now).await? {
                        Recorded::New { receipt_id, .. } => Some(receipt_id),
                        Recorded::Duplicate { receipt_id } => Some(receipt_id),
                    }
                };
                let sealed = vault.seal(tenant, Purpose::Payer, &item.detail.to_string());
                sqlx::query(
                    "INSERT INTO payment_exceptions (tenant, id, file_id, record, kind, channel, source_key, receipt_id, payment_number, charge_id, amount, paid_on, detail_sealed, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'open', $14)",
                )
                .bind(tenant)
                .bind(kernel::ids::short_id())
                .bind(&file_id)
                .bind(item.record as i64)
                .bind(kind.as_str())
                .bind(channel.as_str())
                .bind(&item.source_key)
                .bind(receipt_id)
                .bind(&item.number_text)
                .bind(charge_id.as_deref())
                .bind(item.amount as i64)
                .bind(item.paid_on.to_string())
                .bind(&sealed)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                report.exceptions.push(line(charge_id, Some(kind)));
            }
        }
    }
    sqlx::query(
        "INSERT INTO payment_import_files (tenant, id, kind, file_name, sha256, records, payments, total, applied, exceptions, already, imported_by, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(tenant)
    .bind(&file_id)
    .bind(upload.kind.as_str())
    .bind(upload.file_name)
    .bind(&sha)
    .bind(records as i64)
    .bind(report.payments as i64)
    .bind(report.total as i64)
    .bind(report.applied.len() as i64)
    .bind(report.exceptions.len() as i64)
    .bind(report.already.len() as i64)
    .bind(actor)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    audit::append(
        tx,
        tenant,
        now,
        &[
            AuditEntry::new(actor, "payments.reconcile.import", &file_id).detail(json!({
                "kind": upload.kind.as_str(),
                "file_name": upload.file_name,
                "sha256": sha,
                "payments": report.payments,
                "applied": report.applied.len(),
                "exceptions": report.exceptions.len(),
                "already": report.already.len(),
            })),
        ],
    )
    .await?;
    Ok(Imported::Done(Box::new(report)))
}

/// How an exception stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionStatus {
    Open,
    /// Applied to a charge staff chose.
    Applied,
    /// 還付予定: to be paid back.
    RefundDue,
    /// Ignored, with the reason.
    Ignored,
}

impl ExceptionStatus {
    pub const ALL: [ExceptionStatus; 4] = [
        ExceptionStatus::Open,
        ExceptionStatus::Applied,
        ExceptionStatus::RefundDue,
        ExceptionStatus::Ignored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionStatus::Open => "open",
            ExceptionStatus::Applied => "applied",
            ExceptionStatus::RefundDue => "refund_due",
            ExceptionStatus::Ignored => "ignored",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            ExceptionStatus::Open => "payments.reconcile.status.open",
            ExceptionStatus::Applied => "payments.reconcile.status.applied",
            ExceptionStatus::RefundDue => "payments.reconcile.status.refund_due",
            ExceptionStatus::Ignored => "payments.reconcile.status.ignored",
        }
    }
}

/// One payment in the exception queue (what the file said about the
/// payer still sealed: [`Exception::detail`] opens it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exception {
    pub id: String,
    pub file_id: String,
    pub record: i64,
    pub kind: ExceptionKind,
    pub channel: Channel,
    pub receipt_id: Option<String>,
    pub payment_number: String,
    pub charge_id: Option<String>,
    pub amount: i64,
    pub paid_on: String,
    #[serde(skip)]
    pub detail_sealed: String,
    pub status: ExceptionStatus,
    pub resolved_charge_id: Option<String>,
    pub reason: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
}

impl Exception {
    /// What the file said about the payer (the caller audits staff's read).
    pub fn detail(&self, vault: &Vault, tenant: &str) -> serde_json::Value {
        vault
            .open(tenant, Purpose::Payer, &self.detail_sealed)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }
}

const EXCEPTION_COLUMNS: &str = "id, file_id, record, kind, channel, receipt_id, payment_number, charge_id, amount, paid_on, detail_sealed, status, resolved_charge_id, reason, resolved_by, resolved_at, created_at";

fn exception_of(r: &sqlx::any::AnyRow) -> Exception {
    Exception {
        id: r.get("id"),
        file_id: r.get("file_id"),
        record: r.get("record"),
        kind: ExceptionKind::parse(&r.get::<String, _>("kind"))
            .unwrap_or(ExceptionKind::UnknownNumber),
        channel: Channel::parse(&r.get::<String, _>("channel")).unwrap_or(Channel::Bank),
        receipt_id: r.get("receipt_id"),
        payment_number: r.get("payment_number"),
        charge_id: r.get("charge_id"),
        amount: r.get("amount"),
        paid_on: r.get("paid_on"),
        detail_sealed: r.get("detail_sealed"),
        status: ExceptionStatus::parse(&r.get::<String, _>("status"))
            .unwrap_or(ExceptionStatus::Open),
        resolved_charge_id: r.get("resolved_charge_id"),
        reason: r.get("reason"),
        resolved_by: r.get("resolved_by"),
        resolved_at: r.get("resolved_at"),
        created_at: r.get("created_at"),
    }
}

/// The exceptions of `tenant` in `status`, oldest first (at most `limit`).
pub async fn exceptions<'e, E>(
    ex: E,
    tenant: &str,
    status: ExceptionStatus,
    limit: i64,
) -> Result<Vec<Exception>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {EXCEPTION_COLUMNS} FROM payment_exceptions WHERE tenant = $1 AND status = $2 ORDER BY created_at, file_id, record LIMIT $3"
    ))
    .bind(tenant)
    .bind(status.as_str())
    .bind(limit)
    .fetch_all(ex)
    .await?;
    Ok(rows.iter().map(exception_of).collect())
}

/// How many exceptions of `tenant` are in `status`.
pub async fn count_exceptions<'e, E>(
    ex: E,
    tenant: &str,
    status: ExceptionStatus,
) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row =
        sqlx::query("SELECT COUNT(*) FROM payment_exceptions WHERE tenant = $1 AND status = $2")
            .bind(tenant)
            .bind(status.as_str())
            .fetch_one(ex)
            .await?;
    Ok(row.get(0))
}

/// The exception `id` of `tenant`.
pub async fn exception<'e, E>(
    ex: E,
    tenant: &str,
    id: &str,
) -> Result<Option<Exception>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {EXCEPTION_COLUMNS} FROM payment_exceptions WHERE tenant = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await?;
    Ok(row.as_ref().map(exception_of))
}

/// How staff resolve an exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Apply the money to this charge (by its 納付番号).
    Apply(PaymentNumber),
    /// To be paid back (還付予定).
    RefundDue,
    Ignore,
}

/// Why a resolution was refused (nothing changed).
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("exception not found")]
    NotFound,
    #[error("the exception is resolved already")]
    AlreadyResolved,
    #[error("a reason is required")]
    NoReason,
    #[error("no charge has that payment number")]
    UnknownCharge,
    #[error("a bank's cancellation carries no money to apply")]
    NothingToApply,
    #[error(transparent)]
    Charge(#[from] ChargeError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Resolves an open exception with a reason, audited, in `tx`.
pub async fn resolve(
    tx: &mut Tx,
    tenant: &str,
    actor: &str,
    id: &str,
    resolution: &Resolution,
    reason: &str,
    now: i64,
) -> Result<Exception, ResolveError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ResolveError::NoReason);
    }
    // Claim it first: of two members of staff resolving at once, one wins.
    let status = match resolution {
        Resolution::Apply(_) => ExceptionStatus::Applied,
        Resolution::RefundDue => ExceptionStatus::RefundDue,
        Resolution::Ignore => ExceptionStatus::Ignored,
    };
    let ex = exception(&mut **tx, tenant, id)
        .await?
        .ok_or(ResolveError::NotFound)?;
    let claimed = sqlx::query(
        "UPDATE payment_exceptions SET status = $3, reason = $4, resolved_by = $5, resolved_at = $6 WHERE tenant = $1 AND id = $2 AND status = 'open'",
    )
    .bind(tenant)
    .bind(id)
    .bind(status.as_str())
    .bind(reason)
    .bind(actor)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if claimed == 0 {
        return Err(ResolveError::AlreadyResolved);
    }
    let mut detail = json!({"kind": ex.kind.as_str(), "status": status.as_str(), "reason": reason, "amount": ex.amount});
    if let Resolution::Apply(number) = resolution {
        let receipt_id = ex
            .receipt_id
            .as_deref()
            .ok_or(ResolveError::NothingToApply)?;
        let charge = charges::by_payment_number(&mut **tx, tenant, number)
            .await?
            .ok_or(ResolveError::UnknownCharge)?;
        charges::assign_receipt(tx, tenant, actor, receipt_id, &charge.id, now).await?;
        sqlx::query(
            "UPDATE payment_exceptions SET resolved_charge_id = $3 WHERE tenant = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .bind(&charge.id)
        .execute(&mut **tx)
        .await?;
        detail["charge"] = json!(charge.id);
        detail["payment_number"] = json!(number.as_str());
    }
    audit::append(
        tx,
        tenant,
        now,
        &[AuditEntry::new(actor, "payments.reconcile.resolve", id).detail(detail)],
    )
    .await?;
    exception(&mut **tx, tenant, id)
        .await?
        .ok_or(ResolveError::NotFound)
}

/// The files imported by `tenant`, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportedFile {
    pub id: String,
    pub kind: String,
    pub file_name: String,
    pub payments: i64,
    pub total: i64,
    pub applied: i64,
    pub exceptions: i64,
    pub already: i64,
    pub imported_by: String,
    pub imported_at: i64,
}

pub async fn files<'e, E>(ex: E, tenant: &str, limit: i64) -> Result<Vec<ImportedFile>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT id, kind, file_name, payments, total, applied, exceptions, already, imported_by, imported_at FROM payment_import_files WHERE tenant = $1 ORDER BY imported_at DESC, id LIMIT $2",
    )
    .bind(tenant)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .iter()
        .map(|r| ImportedFile {
            id: r.get("id"),
            kind: r.get("kind"),
            file_name: r.get("file_name"),
            payments: r.get("payments"),
            total: r.get("total"),
            applied: r.get("applied"),
            exceptions: r.get("exceptions"),
            already: r.get("already"),
            imported_by: r.get("imported_by"),
            imported_at: r.get("imported_at"),
        })
        .collect())
}

/// Re-seals with the active key what files said about payers in the
/// exception queue (`madoguchi rekey`): one row at a time, only if
/// unchanged meanwhile, so an interrupted run can be started again.
/// Returns the rows re-sealed.
pub async fn rekey(db: &kernel::Db) -> anyhow::Result<u64> {
    let vault = db.vault()?;
    let rows = sqlx::query("SELECT tenant, id, detail_sealed FROM payment_exceptions")
        .fetch_all(db.read())
        .await?;
    let mut n = 0;
    for r in rows {
        let (tenant, id, sealed): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let plain = vault.open(&tenant, Purpose::Payer, &sealed)?;
        n += sqlx::query(
            "UPDATE payment_exceptions SET detail_sealed = $1 WHERE tenant = $2 AND id = $3 AND detail_sealed = $4",
        )
        .bind(vault.seal(&tenant, Purpose::Payer, &plain))
        .bind(&tenant)
        .bind(&id)
        .bind(&sealed)
        .execute(db.write())
        .await?
        .rows_affected();
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_found_in_names_and_edi() {
        let n = PaymentNumber::new(2026, 1).unwrap();
        assert_eq!(find_number(&format!("{n}ﾖﾂｶｲﾄﾞｳ ﾊﾅｺ")), Some(n.clone()));
        assert_eq!(find_number(&format!("ﾖﾂｶｲﾄﾞｳ {n}")), Some(n.clone()));
        // A wrong check digit, or a longer run of digits, is no number.
        let mut wrong = n.to_string();
        wrong.pop();
        wrong.push(if n.as_str().ends_with('0') { '1' } else { '0' });
        assert_eq!(find_number(&wrong), None);
        assert_eq!(find_number(&format!("9{n}")), None);
        assert_eq!(find_number("ﾖﾂｶｲﾄﾞｳ ﾊﾅｺ"), None);
    }
}
