//! 書かない窓口: a clerk fills in a procedure's form for a resident at the
//! counter, pre-filled from the resident register (住民記録) or from the
//! resident's My Number card read on the second screen. The resident
//! checks it on that screen (or on the printed PDF) and signs on screen
//! or on paper; the clerk then submits it as channel `proxy`.
//!
//! States: `editing` → (valid form saved) `confirming` → (signed on
//! screen or paper) `signed` → (clerk submits) `submitted`; `cancelled`
//! from any state before `submitted`. Any change to the content sends a
//! confirmed entry back to `confirming`: the resident signs what is filed.
//! Every change is one conditional update on the entry's version.

use kernel::auth::Clerk;
use kernel::registry::ResidentRecord;
use kernel::resident::Resident;
use kernel::{AppError, AppResult, Db, FieldError, Lang};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use cases::applications;
use cases::committer::{Committer, NewIdentityCheck};
use cases::intake::{self, CounterIdentity, Intake};
use catalogue::form::{self, FieldType, FormDef, RawInput};
use catalogue::model::{Channel, StoredProcedure};

use cases::identity_checks::CheckedDocument;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Editing,
    Confirming,
    Signed,
    /// A clerk is filing it (claimed, the case being written).
    Submitting,
    Submitted,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Editing => "editing",
            Status::Confirming => "confirming",
            Status::Signed => "signed",
            Status::Submitting => "submitting",
            Status::Submitted => "submitted",
            Status::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "confirming" => Status::Confirming,
            "signed" => Status::Signed,
            "submitting" => Status::Submitting,
            "submitted" => Status::Submitted,
            "cancelled" => Status::Cancelled,
            _ => Status::Editing,
        }
    }

    /// Still being filled in, checked or signed (not filed, not cancelled).
    pub fn is_open(self) -> bool {
        matches!(self, Status::Editing | Status::Confirming | Status::Signed)
    }
}

/// A signature drawn on the second screen: strokes of points in a box of
/// [`Signature::WIDTH`] × [`Signature::HEIGHT`] (y down).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Signature {
    pub strokes: Vec<Vec<(f32, f32)>>,
}

impl Signature {
    pub const WIDTH: f32 = 600.0;
    pub const HEIGHT: f32 = 200.0;
    const MAX_POINTS: usize = 4000;

    /// Parses `x,y x,y;x,y …` (strokes separated by `;`), as the pad
    /// sends it. A signature needs at least one stroke of two points.
    pub fn parse(text: &str) -> Result<Signature, &'static str> {
        let mut strokes = Vec::new();
        let mut total = 0;
        for stroke in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let mut pts = Vec::new();
            for pair in stroke.split_whitespace() {
                let (x, y) = pair.split_once(',').ok_or("signature.invalid")?;
                let x: f32 = x.parse().map_err(|_| "signature.invalid")?;
                let y: f32 = y.parse().map_err(|_| "signature.invalid")?;
                if !(0.0..=Self::WIDTH).contains(&x) || !(0.0..=Self::HEIGHT).contains(&y) {
                    return Err("signature.invalid");
                }
                pts.push((x, y));
                total += 1;
                if total > Self::MAX_POINTS {
                    return Err("signature.too_long");
                }
            }
            if !pts.is_empty() {
                strokes.push(pts);
            }
        }
        if !strokes.iter().any(|s| s.len() >= 2) {
            return Err("signature.empty");
        }
        Ok(Signature { strokes })
    }

    /// SVG path data for showing the signature back.
    pub fn svg_path(&self) -> String {
        let mut d = String::new();
        for s in &self.strokes {
            for (i, (x, y)) in s.iter().enumerate() {
                d.push_str(if i == 0 { "M" } else { "L" });
                d.push_str(&format!("{x:.0} {y:.0} "));
            }
        }
        d.trim_end().to_string()
    }
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub tenant: String,
    pub id: String,
    pub procedure_id: String,
    pub ticket_id: Option<String>,
    pub visit_id: Option<String>,
    pub registry_id: Option<String>,
    pub input: RawInput,
    pub verified: CounterIdentity,
    pub status: Status,
    pub signature: Option<Signature>,
    /// `screen` or `paper`.
    pub signature_method: Option<String>,
    pub application_id: Option<String>,
    /// The version last printed (a paper signature confirms that one).
    pub printed_version: Option<i64>,
    /// The department of the clerk who opened it (the desk).
    pub department: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// The form a clerk fills: attachments are not scanned at the counter
/// (the clerk sees the originals), so file fields are left out.
pub fn counter_form(form: &FormDef) -> FormDef {
    let mut f = form.clone();
    f.fields.retain(|x| x.kind != FieldType::File);
    f
}

/// The procedure as submitted from the counter (without file fields).
fn counter_procedure(p: &StoredProcedure) -> StoredProcedure {
    let mut p = p.clone();
    p.procedure.form = counter_form(&p.procedure.form);
    p
}

/// Input pre-filled from a register record: the fields a verified
/// sign-in would fill (name, address, birth date, sex where the form
/// marks them), the kana of those names, and the postal code next to a
/// filled address.
pub fn prefill(form: &FormDef, record: &ResidentRecord) -> RawInput {
    let mut input = RawInput::default();
    let filled = form::apply_verified(form, &record.claims(), &mut input);
    for f in form.fields.iter().filter(|f| filled.contains(&f.name)) {
        if f.kind == FieldType::PersonName {
            input
                .values
                .insert(format!("{}_kana", f.name), record.kana.clone());
        }
    }
    let address_filled = form
        .fields
        .iter()
        .any(|f| filled.contains(&f.name) && f.prefill == Some(form::Claim::Address));
    if address_filled {
        if let Some(f) = form.fields.iter().find(|f| f.kind == FieldType::PostalCode) {
            input
                .values
                .insert(f.name.clone(), record.postal_code.clone());
        }
    }
    input
}

const COLUMNS: &str = "id, procedure_id, ticket_id, visit_id, registry_id, input, verified, status, signature, signature_method, application_id, printed_version, department, created_by, created_at, updated_at, version";

fn from_row(db: &Db, tenant: &str, r: &sqlx::any::AnyRow) -> AppResult<Entry> {
    let signature: Option<String> = r.get("signature");
    let signature = match signature {
        Some(s) => {
            let text: String = db.open_json(tenant, &s)?;
            Some(serde_json::from_str::<Signature>(&text).map_err(anyhow::Error::from)?)
        }
        None => None,
    };
    Ok(Entry {
        tenant: tenant.to_string(),
        id: r.get("id"),
        procedure_id: r.get("procedure_id"),
        ticket_id: r.get("ticket_id"),
        visit_id: r.get("visit_id"),
        registry_id: r.get("registry_id"),
        input: applications::open_draft_input(db, tenant, &r.get::<String, _>("input"))?,
        verified: serde_json::from_str(&r.get::<String, _>("verified"))
            .map_err(anyhow::Error::from)?,
        status: Status::parse(&r.get::<String, _>("status")),
        signature,
        signature_method: r.get("signature_method"),
        application_id: r.get("application_id"),
        printed_version: r.get("printed_version"),
        department: r.get("department"),
        created_by: r.get("created_by"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        version: r.get("version"),
    })
}

pub async fn get(db: &Db, tenant: &str, id: &str) -> AppResult<Entry> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM assisted_entries WHERE tenant = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(AppError::NotFound("assisted_entry"))?;
    from_row(db, tenant, &r)
}

/// Open entries of the tenant, newest first (the clerk's work list).
pub async fn open_entries(db: &Db, tenant: &str) -> AppResult<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM assisted_entries WHERE tenant = $1 AND status IN ('editing', 'confirming', 'signed') ORDER BY updated_at DESC LIMIT 50"
    ))
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    rows.iter().map(|r| from_row(db, tenant, r)).collect()
}

pub struct Start<'a> {
    pub procedure: &'a StoredProcedure,
    pub record: Option<&'a ResidentRecord>,
    pub ticket_id: Option<String>,
    pub visit_id: Option<String>,
}

/// Opens an entry.
pub async fn start(db: &Db, clerk: &Clerk, s: Start<'_>) -> AppResult<Entry> {
    let form = counter_form(&s.procedure.procedure.form);
    let input = s.record.map(|r| prefill(&form, r)).unwrap_or_default();
    let id = kernel::ids::short_id();
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO assisted_entries (tenant, id, procedure_id, ticket_id, visit_id, registry_id, input, verified, status, department, created_by, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'editing', $9, $10, $11, $11, 1)",
    )
    .bind(&clerk.tenant)
    .bind(&id)
    .bind(&s.procedure.procedure.id)
    .bind(&s.ticket_id)
    .bind(&s.visit_id)
    .bind(s.record.map(|r| r.id.clone()))
    .bind(applications::sealed_draft(db, &clerk.tenant, &form, &input)?)
    .bind(serde_json::to_string(&CounterIdentity::default()).map_err(anyhow::Error::from)?)
    .bind(&clerk.department)
    .bind(clerk.actor())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    kernel::audit::append(
        &mut tx,
        &clerk.tenant,
        now,
        &[kernel::audit::AuditEntry::new(
            clerk.actor(),
            "assisted.start",
            format!("assisted:{id}"),
        )
        .detail(serde_json::json!({
            "procedure": s.procedure.procedure.id,
            "registry_id": s.record.map(|r| r.id.clone()),
            "ticket": s.ticket_id,
        }))],
    )
    .await?;
    tx.commit().await?;
    get(db, &clerk.tenant, &id).await
}

/// One conditional update: the entry must still be at `version` and in
/// one of `from`; otherwise a clear conflict.
async fn update(
    db: &Db,
    e: &Entry,
    version: i64,
    from: &[Status],
    set: &str,
    binds: Vec<Option<String>>,
    audit: Option<kernel::audit::AuditEntry>,
) -> AppResult<()> {
    if e.version != version {
        return Err(AppError::Conflict("assisted_entry_version"));
    }
    if !from.contains(&e.status) {
        return Err(AppError::Conflict("assisted_entry_state"));
    }
    let states: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let n = binds.len();
    let sql = format!(
        "UPDATE assisted_entries SET {set}, updated_at = ${}, version = version + 1
         WHERE tenant = ${} AND id = ${} AND version = ${} AND status IN ({})",
        n + 1,
        n + 2,
        n + 3,
        n + 4,
        states.join(", ")
    );
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(b);
    }
    let done = q
        .bind(now)
        .bind(&e.tenant)
        .bind(&e.id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if done == 0 {
        return Err(AppError::Conflict("assisted_entry_version"));
    }
    if let Some(a) = audit {
        kernel::audit::append(&mut tx, &e.tenant, now, &[a]).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Saves what the clerk typed (valid or not: nothing is lost). Fields read
/// from the card keep the card's values. A valid form goes to the
/// resident for confirmation; an invalid one stays in editing with its
/// errors. A change after signing needs a new signature.
pub async fn save(
    db: &Db,
    clerk: &Clerk,
    p: &StoredProcedure,
    id: &str,
    version: i64,
    input: RawInput,
    lang: Lang,
) -> AppResult<Result<Entry, (Entry, Vec<FieldError>)>> {
    let e = get(db, &clerk.tenant, id).await?;
    let form = counter_form(&p.procedure.form);
    let today = catalogue::rules::Today::of_tenant(db, &clerk.tenant).await?;
    let errors = match form::validate(&form, &input, lang, &today) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    let next = if errors.is_empty() {
        Status::Confirming
    } else {
        Status::Editing
    };
    let content_changed = input != e.input;
    let status = if e.status == Status::Signed && !content_changed {
        Status::Signed
    } else {
        next
    };
    update(
        db,
        &e,
        version,
        &[Status::Editing, Status::Confirming, Status::Signed],
        "input = $1, status = $2, signature = CASE WHEN $3 = 'keep' THEN signature ELSE NULL END, signature_method = CASE WHEN $3 = 'keep' THEN signature_method ELSE NULL END",
        vec![
            Some(applications::sealed_draft(db, &clerk.tenant, &form, &input)?),
            Some(status.as_str().to_string()),
            Some(if status == Status::Signed { "keep" } else { "clear" }.to_string()),
        ],
        Some(kernel::audit::AuditEntry::new(
            clerk.actor(),
            "assisted.save",
            format!("assisted:{id}"),
        )),
    )
    .await?;
    let saved = get(db, &clerk.tenant, id).await?;
    Ok(if errors.is_empty() {
        Ok(saved)
    } else {
        Err((saved, errors))
    })
}

/// The resident read their My Number card on the second screen: its
/// 基本4情報 fill the form (and stay as read), the identity level and
/// subject are kept for the case. The content changed, so the entry goes
/// back to editing for the clerk to finish.
pub async fn apply_card(
    db: &Db,
    p: &StoredProcedure,
    e: &Entry,
    resident: &Resident,
) -> AppResult<()> {
    let form = counter_form(&p.procedure.form);
    let mut input = e.input.clone();
    let fields = form::apply_verified(&form, &resident.claims, &mut input);
    for f in form.fields.iter().filter(|f| fields.contains(&f.name)) {
        if f.kind == FieldType::PersonName {
            // The card has no kana: the clerk asks.
            input.values.entry(format!("{}_kana", f.name)).or_default();
        }
    }
    let verified = CounterIdentity {
        level: resident.level.as_str().to_string(),
        verified_fields: fields,
        subject: Some(resident.subject.clone()),
    };
    update(
        db,
        e,
        e.version,
        &[Status::Editing, Status::Confirming, Status::Signed],
        "input = $1, verified = $2, status = 'editing', signature = NULL, signature_method = NULL",
        vec![
            Some(applications::sealed_draft(db, &e.tenant, &form, &input)?),
            Some(serde_json::to_string(&verified).map_err(anyhow::Error::from)?),
        ],
        Some(
            kernel::audit::AuditEntry::new(
                format!("resident:{}", resident.subject),
                "assisted.card_read",
                format!("assisted:{}", e.id),
            )
            .detail(serde_json::json!({"level": resident.level.as_str()})),
        ),
    )
    .await
}

/// The resident checked the content on the second screen and signed.
pub async fn sign_on_screen(db: &Db, e: &Entry, version: i64, sig: &Signature) -> AppResult<()> {
    let sealed = kernel::crypto::sealed_value(
        db.vault()?,
        &e.tenant,
        &serde_json::to_string(sig).map_err(anyhow::Error::from)?,
    );
    update(
        db,
        e,
        version,
        &[Status::Confirming],
        "signature = $1, signature_method = 'screen', status = 'signed'",
        vec![Some(sealed.to_string())],
        Some(kernel::audit::AuditEntry::new(
            "resident:counter",
            "assisted.signed_on_screen",
            format!("assisted:{}", e.id),
        )),
    )
    .await
}

/// The resident signed the printed application; the clerk confirms it.
/// Only the content last printed can be confirmed so.
pub async fn sign_on_paper(db: &Db, clerk: &Clerk, e: &Entry, version: i64) -> AppResult<()> {
    if e.status == Status::Confirming && e.version == version && e.printed_version != Some(version)
    {
        return Err(AppError::Conflict("assisted_entry_not_printed"));
    }
    update(
        db,
        e,
        version,
        &[Status::Confirming],
        "signature = NULL, signature_method = 'paper', status = 'signed'",
        vec![],
        Some(kernel::audit::AuditEntry::new(
            clerk.actor(),
            "assisted.signed_on_paper",
            format!("assisted:{}", e.id),
        )),
    )
    .await
}

pub async fn cancel(db: &Db, clerk: &Clerk, e: &Entry, version: i64) -> AppResult<()> {
    update(
        db,
        e,
        version,
        &[Status::Editing, Status::Confirming, Status::Signed],
        "status = 'cancelled'",
        vec![],
        Some(kernel::audit::AuditEntry::new(
            clerk.actor(),
            "assisted.cancel",
            format!("assisted:{}", e.id),
        )),
    )
    .await
}

/// What the clerk files: the entry at a version, and the identity
/// document they checked (chosen on the confirm step, never a default).
pub struct Filing<'a> {
    pub id: &'a str,
    pub version: i64,
    pub checked: &'a CheckedDocument,
}

/// Files the signed entry as a case with channel `proxy` (書かない窓口),
/// through the same intake as every channel, with the identity check the
/// clerk did (document, the clerk, now) stored with the case. Submitting
/// twice gives the same case (the entry is the idempotency key).
pub async fn submit(
    db: &Db,
    committer: &Committer,
    clerk: &Clerk,
    p: &StoredProcedure,
    f: Filing<'_>,
    lang: Lang,
) -> AppResult<kernel::ids::ReceiptNumber> {
    let e = get(db, &clerk.tenant, f.id).await?;
    if let Some(receipt) = claim_for_filing(db, &e, f.version).await? {
        return Ok(receipt);
    }
    let proc_ = counter_procedure(p);
    let today = catalogue::rules::Today::of_tenant(db, &clerk.tenant).await?;
    // A card read on the second screen verified the resident's data;
    // otherwise the clerk's document check is what identifies them.
    let identity = CounterIdentity {
        level: if e.verified.level.is_empty() {
            "counter".into()
        } else {
            e.verified.level.clone()
        },
        ..e.verified.clone()
    };
    let check = f.checked.recorded_by(clerk, kernel::clock::now_ms());
    let submitted = intake::submit(
        committer,
        Intake {
            tenant: &clerk.tenant,
            procedure: &proc_,
            input: &e.input,
            channel: Channel::Proxy,
            idempotency_key: &format!("assisted-entry-{}", e.id),
            draft_id: None,
            new_attachments: Vec::new(),
            // The clerk who opened it: the same request whoever retries.
            actor: e.created_by.clone(),
            lang,
            submitted_at: None,
            resident: None,
            counter_identity: Some(identity),
            today: &today,
            identity_check: Some(check.clone()),
        },
    )
    .await;
    match submitted {
        Ok(s) => mark_filed(db, clerk, &e, s.receipt(), &check).await,
        Err(err) => {
            // Not filed: back to signed, to correct and try again.
            sqlx::query(
                "UPDATE assisted_entries SET status = 'signed', version = version + 1 WHERE tenant = $1 AND id = $2 AND status = 'submitting'",
            )
            .bind(&e.tenant)
            .bind(&e.id)
            .execute(db.write())
            .await?;
            Err(err)
        }
    }
}

/// Claims a signed entry for filing (nothing can change it while the case
/// is written, and a second click is told it is being filed). An entry
/// filed already answers its receipt; one whose filing stopped halfway is
/// filed again (the same key finds the case if it exists).
async fn claim_for_filing(
    db: &Db,
    e: &Entry,
    version: i64,
) -> AppResult<Option<kernel::ids::ReceiptNumber>> {
    match e.status {
        Status::Submitted => Ok(e
            .application_id
            .as_deref()
            .and_then(kernel::ids::ReceiptNumber::parse)),
        Status::Submitting => Ok(None),
        Status::Signed => {
            update(
                db,
                e,
                version,
                &[Status::Signed],
                "status = 'submitting'",
                vec![],
                None,
            )
            .await?;
            Ok(None)
        }
        _ => Err(AppError::Conflict("assisted_entry_unsigned")),
    }
}

/// The entry is filed as the case `receipt`, with its audit entry.
async fn mark_filed(
    db: &Db,
    clerk: &Clerk,
    e: &Entry,
    receipt: &kernel::ids::ReceiptNumber,
    check: &NewIdentityCheck,
) -> AppResult<kernel::ids::ReceiptNumber> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE assisted_entries SET status = 'submitted', application_id = $1, updated_at = $2, version = version + 1
         WHERE tenant = $3 AND id = $4 AND status = 'submitting'",
    )
    .bind(receipt.as_str())
    .bind(now)
    .bind(&e.tenant)
    .bind(&e.id)
    .execute(&mut *tx)
    .await?;
    let entry = kernel::audit::AuditEntry::new(
        clerk.actor(),
        "assisted.submit",
        format!("assisted:{}", e.id),
    )
    .detail(serde_json::json!({
        "application": receipt.as_str(),
        "identity_document": check.document,
        "identity_checked_by": check.checked_by,
        "identity_checked_at": check.checked_at,
    }));
    kernel::audit::append(&mut tx, &e.tenant, now, &[entry]).await?;
    tx.commit().await?;
    Ok(receipt.clone())
}

/// Records that the current version was printed: a paper signature can
/// then confirm exactly that content.
pub async fn mark_printed(db: &Db, e: &Entry) -> AppResult<()> {
    sqlx::query(
        "UPDATE assisted_entries SET printed_version = version WHERE tenant = $1 AND id = $2 AND version = $3",
    )
    .bind(&e.tenant)
    .bind(&e.id)
    .bind(e.version)
    .execute(db.write())
    .await?;
    Ok(())
}

/// Whether a member of staff may open an entry: the desk that opened it,
/// and whoever sees the procedure's department (as for its case).
pub fn may_view(staff: &kernel::auth::Staff, e: &Entry, procedure_department: &str) -> bool {
    staff.department == e.department || staff.can_see_department(procedure_department)
}

/// Unfinished entries hold personal data for a counter visit only: those
/// not filed and untouched for a day are deleted (filed ones stay: they
/// hold the signature behind the case).
pub const UNFINISHED_KEEP_MS: i64 = 24 * 3_600_000;

pub async fn purge(db: &Db) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM assisted_entries WHERE status <> 'submitted' AND updated_at < $1")
            .bind(kernel::clock::now_ms() - UNFINISHED_KEEP_MS)
            .execute(db.write())
            .await?
            .rows_affected(),
    )
}

/// Re-seals the entries' input and signatures sealed by an older key with
/// the active one (`madoguchi rekey`); returns how many values changed.
pub async fn rekey(db: &Db) -> anyhow::Result<u64> {
    Ok(db.reseal_json_column("assisted_entries", "input").await?
        + db.reseal_json_column("assisted_entries", "signature")
            .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_parse_strictly() {
        let s = Signature::parse("10,10 20,20 30,15;40,40 50,60").unwrap();
        assert_eq!(s.strokes.len(), 2);
        assert_eq!(s.svg_path(), "M10 10 L20 20 L30 15 M40 40 L50 60");
        assert_eq!(Signature::parse(""), Err("signature.empty"));
        assert_eq!(Signature::parse("10,10"), Err("signature.empty"));
        assert_eq!(Signature::parse("10,10 x,2"), Err("signature.invalid"));
        assert_eq!(Signature::parse("10,10 9999,2"), Err("signature.invalid"));
        let long = vec!["1,1"; 5000].join(" ");
        assert_eq!(Signature::parse(&long), Err("signature.too_long"));
    }
}
