//! Key rotation: re-seals every value sealed by an older key with the
//! active (first) key. Run after putting a new key first in
//! `encryption_keys`; afterwards the old key can be removed. Each owner
//! re-seals its own tables, one row at a time, so an interrupted run can
//! simply be started again.

use crate::App;

#[derive(Debug, Default)]
pub struct RekeyReport {
    pub applications: u64,
    pub drafts: u64,
    /// Assisted entries (書かない窓口): their input and signature.
    pub assisted_entries: u64,
    pub staff: u64,
    pub attachments: u64,
    /// Mail subscribers' addresses (re-sealed and re-hashed).
    pub mail_subscribers: u64,
    /// Suppressed mail addresses re-hashed.
    pub mail_suppressions: u64,
    /// LINE channels (their secret and access token).
    pub line_channels: u64,
    /// Staff members' own addresses for test sends of newsletters.
    pub mail_staff_addresses: u64,
    /// What files said about payers in the 消込 exception queue.
    pub payment_exceptions: u64,
    /// Payers of charges (公金).
    pub payers: u64,
}

pub async fn run(app: &App) -> anyhow::Result<RekeyReport> {
    let db = &app.db;
    let vault = db.vault()?.clone();
    let cases = cases::rekey::rekey(db).await?;
    let mail = mail::subscriptions::admin::rekey(db, &vault).await?;
    let report = RekeyReport {
        mail_subscribers: mail.subscribers,
        mail_suppressions: mail.suppressions,
        applications: cases.applications,
        drafts: cases.drafts,
        attachments: cases.attachments,
        assisted_entries: desk::assisted::rekey(db).await?,
        staff: kernel::auth::account::rekey_totp_secrets(db, &vault).await?,
        line_channels: mail::channels::line::channel::rekey(db).await?,
        mail_staff_addresses: mail::newsletters::settings::rekey(db).await?,
        payment_exceptions: payments::reconcile::rekey(db).await?,
        payers: payments::rekey::rekey(db, &vault).await?,
    };
    // Resident sessions, sign-ins in flight and second-factor enrolments in
    // progress live for hours at most: ended rather than re-sealed.
    kernel::auth::session::end_unfinished(db).await?;
    kernel::resident::end_all(db).await?;
    identity::end_sign_ins_in_flight(db).await?;
    for t in kernel::tenant::list(db).await? {
        kernel::audit::record(
            db,
            &t.code,
            kernel::audit::AuditEntry::new("system:cli", "encryption.rekey", "deployment")
                .detail(serde_json::json!({"key": vault.active_key_id()})),
        )
        .await?;
    }
    Ok(report)
}
