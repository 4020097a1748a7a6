//! Staff accounts: Argon2id passwords under the rules of
//! [`crate::password`], a temporary lockout after repeated failures, and
//! the mandatory second factor (TOTP with one-time recovery codes).

use sqlx::Row;

use super::lockout::{self, Attempt, LockoutPolicy, UNKNOWN_STAFF};
pub use super::password_check::hash_password;
use super::password_check::PasswordGate;
use super::session::{self, PendingStaff, Stage};
use super::{Role, Staff};
use crate::audit::{self, AuditEntry};
use crate::crypto::{Purpose, Vault};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::{clock, ids, totp};

/// What staff-account operations need besides the database.
#[derive(Clone, Debug)]
pub struct Accounts {
    pub vault: Vault,
    pub lockout: LockoutPolicy,
    /// Bounds the password checks running at once.
    pub gate: PasswordGate,
}

impl Accounts {
    pub fn new(vault: Vault, lockout: LockoutPolicy, gate: PasswordGate) -> Self {
        Self {
            vault,
            lockout,
            gate,
        }
    }
}

pub const RECOVERY_CODES: usize = 10;

/// Creates or updates a staff account (idempotent). The password is not
/// checked against the rules: the demo uses it for its published accounts;
/// administrators go through [`create_staff`].
pub async fn upsert_staff(
    db: &Db,
    tenant: &str,
    id: &str,
    name: &str,
    department: &str,
    roles: &[Role],
    password: &str,
) -> AppResult<()> {
    let hash = hash_password(password)?;
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let now = clock::now_ms();
    sqlx::query(
        "INSERT INTO staff (tenant, id, name, department, roles, password_hash, active, created_at, password_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)
         ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, department = excluded.department,
           roles = excluded.roles",
    )
    .bind(tenant)
    .bind(id)
    .bind(name)
    .bind(department)
    .bind(roles.join(","))
    .bind(hash)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}

/// Sets a TOTP secret directly (the demo's published accounts; tests).
pub async fn set_totp_secret(
    db: &Db,
    vault: &Vault,
    tenant: &str,
    id: &str,
    secret: &[u8],
) -> AppResult<()> {
    sqlx::query(
        "UPDATE staff SET totp_secret = $1, mfa_enrolled_at = COALESCE(mfa_enrolled_at, $2)
         WHERE tenant = $3 AND id = $4",
    )
    .bind(vault.seal(tenant, Purpose::TotpSecret, &totp::base32(secret)))
    .bind(clock::now_ms())
    .bind(tenant)
    .bind(id)
    .execute(db.write())
    .await?;
    Ok(())
}

/// A new account made by an administrator; the password must follow the rules.
pub async fn create_staff(
    db: &Db,
    admin: &super::SystemAdmin,
    new: &NewStaff,
    lang: Lang,
) -> AppResult<()> {
    insert_staff(db, &admin.tenant, &admin.actor(), new, lang).await
}

/// The first accounts of a municipality, from the command line
/// (`madoguchi staff add`): the same rules, the actor is the operator.
pub async fn create_staff_from_cli(db: &Db, tenant: &str, new: &NewStaff) -> AppResult<()> {
    insert_staff(db, tenant, "system:cli", new, Lang::Ja).await
}

async fn insert_staff(
    db: &Db,
    tenant: &str,
    actor: &str,
    new: &NewStaff,
    lang: Lang,
) -> AppResult<()> {
    let mut errors = Vec::new();
    if !is_staff_id(&new.id) {
        errors.push(field(lang, "id", "staff_admin.id_invalid"));
    }
    if new.name.trim().is_empty() || new.name.chars().count() > 100 {
        errors.push(field(lang, "name", "staff_admin.name_required"));
    }
    if new.roles.is_empty() {
        errors.push(field(lang, "roles", "staff_admin.roles_required"));
    }
    if let Err(p) = crate::password::check(&new.password, &[&new.id, &new.name, tenant]) {
        errors.push(field(lang, "password", p.key()));
    }
    let exists = sqlx::query("SELECT 1 FROM departments WHERE tenant = $1 AND code = $2")
        .bind(tenant)
        .bind(&new.department)
        .fetch_optional(db.read())
        .await?
        .is_some();
    if !exists {
        errors.push(field(lang, "department", "staff_admin.department_unknown"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = hash_password(&new.password)?;
    let now = clock::now_ms();
    let roles: Vec<&str> = new.roles.iter().map(|r| r.as_str()).collect();
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO staff (tenant, id, name, department, roles, password_hash, active, created_at, password_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) ON CONFLICT (tenant, id) DO NOTHING",
    )
    .bind(tenant)
    .bind(&new.id)
    .bind(new.name.trim())
    .bind(&new.department)
    .bind(roles.join(","))
    .bind(hash)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(AppError::Validation(vec![field(
            lang,
            "id",
            "staff_admin.id_taken",
        )]));
    }
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new(actor, "staff.create", format!("staff:{}", new.id))
                .detail(serde_json::json!({"department": new.department, "roles": roles})),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub struct NewStaff {
    pub id: String,
    pub name: String,
    pub department: String,
    pub roles: Vec<Role>,
    pub password: String,
}

fn is_staff_id(s: &str) -> bool {
    (3..=32).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
        })
}

fn field(lang: Lang, name: &str, key: &str) -> crate::FieldError {
    crate::FieldError {
        field: name.into(),
        message: crate::i18n::t(lang, key).into(),
    }
}

/// The result of the password step.
pub enum PasswordOutcome {
    /// Password right: a pending session (second factor or enrolment due).
    Pending { stage: Stage, cookie: String },
    /// Wrong id or password (indistinguishable on purpose).
    Failed,
    /// Too many failures: locked until this time (ms).
    Locked { until: i64 },
}

/// The password step of signing in. Every path (unknown id, locked
/// account, wrong or right password) does the same work before it
/// answers: one row read, one reservation, one Argon2 check of equal cost
/// under the [`PasswordGate`], one audit entry; so neither the time taken
/// nor the answer tells which ids exist.
pub async fn sign_in_password(
    db: &Db,
    accounts: &Accounts,
    tenant: &str,
    id: &str,
    password: &str,
) -> AppResult<PasswordOutcome> {
    let permit = accounts.gate.enter().await?;
    let row = sqlx::query(
        "SELECT password_hash, totp_secret FROM staff WHERE tenant = $1 AND id = $2 AND active = 1",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    let attempt = lockout::reserve(db, accounts.lockout, tenant, id).await?;
    let Some(row) = row else {
        return unknown_id(db, accounts, &permit, tenant, id, password).await;
    };
    let Some(attempt) = attempt else {
        permit.spend(password).await?;
        audit::record(
            db,
            tenant,
            AuditEntry::new(
                "anonymous",
                "staff.sign_in_while_locked",
                format!("staff:{id}"),
            ),
        )
        .await?;
        return Ok(PasswordOutcome::Locked {
            until: lockout::locked_until(db, tenant, id).await?,
        });
    };
    if !permit
        .verify(password, Some(row.get("password_hash")))
        .await?
    {
        let target = format!("staff:{id}");
        return Ok(
            match lockout::settle_failure(db, tenant, target, attempt, "password").await? {
                Some(until) => PasswordOutcome::Locked { until },
                None => PasswordOutcome::Failed,
            },
        );
    }
    drop(permit);
    lockout::release(db, tenant, id, attempt).await?;
    let enrolled = row.get::<Option<String>, _>("totp_secret").is_some();
    open_pending(db, tenant, id, enrolled).await
}

/// An id that does not exist: the same work, the same answers and the
/// same lockout as a real one (the reservation above updated nothing).
async fn unknown_id(
    db: &Db,
    accounts: &Accounts,
    permit: &super::password_check::Permit,
    tenant: &str,
    id: &str,
    password: &str,
) -> AppResult<PasswordOutcome> {
    let now = clock::now_ms();
    let (target, key) = lockout::unknown_target(tenant, id);
    // Failures for ids that do not exist count like real ones (in the
    // database, across servers) so that the lockout does not tell which
    // ids exist.
    let attempt = UNKNOWN_STAFF
        .reserve(db, tenant, &key, accounts.lockout, now)
        .await?;
    permit.spend(password).await?;
    let Some(attempt) = attempt else {
        audit::record(
            db,
            tenant,
            AuditEntry::new("anonymous", "staff.sign_in_while_locked", target),
        )
        .await?;
        return Ok(PasswordOutcome::Locked {
            until: UNKNOWN_STAFF.locked_until(db, tenant, &key, now).await?,
        });
    };
    Ok(
        match lockout::settle_failure(db, tenant, target, attempt, "password").await? {
            Some(until) => PasswordOutcome::Locked { until },
            None => PasswordOutcome::Failed,
        },
    )
}

/// The password was right: a pending session, for the second factor or
/// its enrolment.
async fn open_pending(
    db: &Db,
    tenant: &str,
    id: &str,
    enrolled: bool,
) -> AppResult<PasswordOutcome> {
    let stage = if enrolled {
        Stage::Password
    } else {
        Stage::Enrol
    };
    let now = clock::now_ms();
    let mut tx = db.begin().await?;
    let cookie = session::open(&mut tx, tenant, id, stage, now).await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            format!("staff:{id}"),
            "staff.password_ok",
            format!("staff:{id}"),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(PasswordOutcome::Pending { stage, cookie })
}

/// The result of the second-factor step.
pub enum FactorOutcome {
    /// Signed in: the new (full) session cookie.
    SignedIn {
        cookie: String,
    },
    Wrong,
    Locked {
        until: i64,
    },
}

/// Replaces the pending session by a full one (new token), inside `tx`.
/// Refused if the pending session was already used (a parallel request),
/// or the account was locked or deactivated meanwhile.
async fn promote(
    tx: &mut crate::db::Tx,
    pending: &PendingStaff,
    attempt: Attempt,
    action: &'static str,
    detail: serde_json::Value,
) -> AppResult<String> {
    let now = clock::now_ms();
    let tenant = &pending.staff.tenant;
    if session::close(tx, tenant, &pending.token).await? != 1 {
        return Err(AppError::Unauthorized);
    }
    if !lockout::complete(tx, tenant, &pending.staff.id, attempt).await? {
        return Err(AppError::Unauthorized);
    }
    let cookie = session::open(tx, tenant, &pending.staff.id, Stage::Full, now).await?;
    audit::append(
        tx,
        tenant,
        now,
        &[AuditEntry::new(
            pending.staff.actor(),
            action,
            format!("staff:{}", pending.staff.id),
        )
        .detail(detail)],
    )
    .await?;
    Ok(cookie)
}

async fn promote_now(
    db: &Db,
    pending: &PendingStaff,
    attempt: Attempt,
    action: &'static str,
    detail: serde_json::Value,
) -> AppResult<String> {
    let mut tx = db.begin().await?;
    let cookie = promote(&mut tx, pending, attempt, action, detail).await?;
    tx.commit().await?;
    Ok(cookie)
}

fn open_secret(vault: &Vault, tenant: &str, id: &str, sealed: &str) -> AppResult<Vec<u8>> {
    let b32 = vault
        .open(tenant, Purpose::TotpSecret, sealed)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("TOTP secret of {id}: {e}")))?;
    totp::base32_decode(&b32)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("TOTP secret of {id} is not base32")))
}

async fn load_secret(db: &Db, vault: &Vault, staff: &Staff) -> AppResult<Option<(Vec<u8>, i64)>> {
    let row =
        sqlx::query("SELECT totp_secret, totp_last_step FROM staff WHERE tenant = $1 AND id = $2")
            .bind(&staff.tenant)
            .bind(&staff.id)
            .fetch_one(db.read())
            .await?;
    let Some(sealed) = row.get::<Option<String>, _>("totp_secret") else {
        return Ok(None);
    };
    Ok(Some((
        open_secret(vault, &staff.tenant, &staff.id, &sealed)?,
        row.get("totp_last_step"),
    )))
}

/// Records a used TOTP step; false if another request used it first.
async fn use_step(db: &Db, staff: &Staff, step: i64) -> AppResult<bool> {
    Ok(sqlx::query(
        "UPDATE staff SET totp_last_step = $1 WHERE tenant = $2 AND id = $3 AND totp_last_step < $1",
    )
    .bind(step)
    .bind(&staff.tenant)
    .bind(&staff.id)
    .execute(db.write())
    .await?
    .rows_affected()
        == 1)
}

fn recovery_hash(tenant: &str, id: &str, code: &str) -> String {
    ids::hash_token(&format!("{tenant}|{id}|{}", normalize_recovery(code)))
}

fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The second step: a TOTP code, or one of the recovery codes.
pub async fn verify_second_factor(
    db: &Db,
    accounts: &Accounts,
    pending: &PendingStaff,
    input: &str,
) -> AppResult<FactorOutcome> {
    if pending.stage != Stage::Password {
        return Err(AppError::Unauthorized);
    }
    let staff = &pending.staff;
    let Some(attempt) = lockout::reserve(db, accounts.lockout, &staff.tenant, &staff.id).await?
    else {
        return Ok(FactorOutcome::Locked {
            until: lockout::locked_until(db, &staff.tenant, &staff.id).await?,
        });
    };
    if totp::normalize_code(input).is_some() {
        let (secret, last) = load_secret(db, &accounts.vault, staff)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if let Some(step) = totp::verify(&secret, input, clock::now_ms() / 1000, last) {
            if use_step(db, staff, step).await? {
                let cookie = promote_now(
                    db,
                    pending,
                    attempt,
                    "staff.sign_in",
                    serde_json::json!({"factor": "totp"}),
                )
                .await?;
                return Ok(FactorOutcome::SignedIn { cookie });
            }
        }
    } else if normalize_recovery(input).len() == 10 {
        // The code is spent and the session promoted in one transaction.
        let mut tx = db.begin().await?;
        let used = sqlx::query(
            "UPDATE staff_recovery_codes SET used_at = $1 WHERE tenant = $2 AND staff_id = $3 AND code_hash = $4 AND used_at IS NULL",
        )
        .bind(clock::now_ms())
        .bind(&staff.tenant)
        .bind(&staff.id)
        .bind(recovery_hash(&staff.tenant, &staff.id, input))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if used == 1 {
            let cookie = promote(
                &mut tx,
                pending,
                attempt,
                "staff.sign_in",
                serde_json::json!({"factor": "recovery_code"}),
            )
            .await?;
            tx.commit().await?;
            return Ok(FactorOutcome::SignedIn { cookie });
        }
    }
    Ok(
        match lockout::settle_failure(
            db,
            &staff.tenant,
            format!("staff:{}", staff.id),
            attempt,
            "second_factor",
        )
        .await?
        {
            Some(until) => {
                // A locked account's pending session ends too.
                session::sign_out(db, &format!("{}.{}", staff.tenant, pending.token)).await?;
                FactorOutcome::Locked { until }
            }
            None => FactorOutcome::Wrong,
        },
    )
}

pub async fn recovery_codes_left(db: &Db, staff: &Staff) -> AppResult<i64> {
    Ok(sqlx::query(
        "SELECT COUNT(*) FROM staff_recovery_codes WHERE tenant = $1 AND staff_id = $2 AND used_at IS NULL",
    )
    .bind(&staff.tenant)
    .bind(&staff.id)
    .fetch_one(db.read())
    .await?
    .get::<i64, _>(0))
}

/// Enrolment, step 1: the secret to show as a QR code. It belongs to this
/// pending sign-in (shown again on reload), and lapses with it: nobody
/// who saw another sign-in's enrolment page holds the secret finally used.
pub async fn enrolment_secret(
    db: &Db,
    vault: &Vault,
    pending: &PendingStaff,
) -> AppResult<Vec<u8>> {
    if pending.stage != Stage::Enrol {
        return Err(AppError::Unauthorized);
    }
    let staff = &pending.staff;
    let token_hash = ids::hash_token(&pending.token);
    let existing: Option<String> = sqlx::query(
        "SELECT totp_pending FROM staff_sessions WHERE tenant = $1 AND token_hash = $2",
    )
    .bind(&staff.tenant)
    .bind(&token_hash)
    .fetch_optional(db.read())
    .await?
    .and_then(|r| r.get::<Option<String>, _>(0));
    if let Some(sealed) = existing {
        return open_secret(vault, &staff.tenant, &staff.id, &sealed);
    }
    let secret = totp::new_secret();
    sqlx::query(
        "UPDATE staff_sessions SET totp_pending = $1 WHERE tenant = $2 AND token_hash = $3",
    )
    .bind(vault.seal(&staff.tenant, Purpose::TotpSecret, &totp::base32(&secret)))
    .bind(&staff.tenant)
    .bind(&token_hash)
    .execute(db.write())
    .await?;
    Ok(secret)
}

/// Enrolment, step 2: a code from the app proves it was set up. In one
/// transaction: the secret becomes the account's (only if it has none),
/// recovery codes are made, and the session becomes a full one. Returns
/// the cookie and the codes (shown once), or `None` for a wrong code.
pub async fn confirm_enrolment(
    db: &Db,
    accounts: &Accounts,
    pending: &PendingStaff,
    input: &str,
) -> AppResult<Option<(String, Vec<String>)>> {
    if pending.stage != Stage::Enrol {
        return Err(AppError::Unauthorized);
    }
    let staff = &pending.staff;
    let Some(attempt) = lockout::reserve(db, accounts.lockout, &staff.tenant, &staff.id).await?
    else {
        return Err(AppError::Unauthorized);
    };
    let sealed: Option<String> = sqlx::query(
        "SELECT totp_pending FROM staff_sessions WHERE tenant = $1 AND token_hash = $2",
    )
    .bind(&staff.tenant)
    .bind(ids::hash_token(&pending.token))
    .fetch_optional(db.read())
    .await?
    .and_then(|r| r.get::<Option<String>, _>(0));
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let secret = open_secret(&accounts.vault, &staff.tenant, &staff.id, &sealed)?;
    let Some(step) = totp::verify(&secret, input, clock::now_ms() / 1000, 0) else {
        lockout::settle_failure(
            db,
            &staff.tenant,
            format!("staff:{}", staff.id),
            attempt,
            "enrolment",
        )
        .await?;
        return Ok(None);
    };
    let now = clock::now_ms();
    let codes = new_recovery_codes();
    let mut tx = db.begin().await?;
    let set = sqlx::query(
        "UPDATE staff SET totp_secret = $1, totp_last_step = $2, mfa_enrolled_at = $3
         WHERE tenant = $4 AND id = $5 AND totp_secret IS NULL",
    )
    .bind(&sealed)
    .bind(step)
    .bind(now)
    .bind(&staff.tenant)
    .bind(&staff.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if set != 1 {
        return Err(AppError::Unauthorized);
    }
    store_recovery_codes(&mut tx, staff, &codes).await?;
    let cookie = promote(
        &mut tx,
        pending,
        attempt,
        "staff.mfa_enrolled",
        serde_json::json!({"factor": "totp"}),
    )
    .await?;
    tx.commit().await?;
    Ok(Some((cookie, codes)))
}

fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 7];
            getrandom::fill(&mut b).expect("operating system random source");
            let s = totp::base32(&b).to_ascii_lowercase();
            format!("{}-{}", &s[..5], &s[5..10])
        })
        .collect()
}

async fn store_recovery_codes(
    tx: &mut crate::db::Tx,
    staff: &Staff,
    codes: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM staff_recovery_codes WHERE tenant = $1 AND staff_id = $2")
        .bind(&staff.tenant)
        .bind(&staff.id)
        .execute(&mut **tx)
        .await?;
    for c in codes {
        sqlx::query("INSERT INTO staff_recovery_codes (tenant, staff_id, code_hash, used_at) VALUES ($1, $2, $3, NULL)")
            .bind(&staff.tenant)
            .bind(&staff.id)
            .bind(recovery_hash(&staff.tenant, &staff.id, c))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// New recovery codes for a signed-in member of staff; the old ones stop working.
pub async fn regenerate_recovery_codes(db: &Db, staff: &Staff) -> AppResult<Vec<String>> {
    let codes = new_recovery_codes();
    let mut tx = db.begin().await?;
    store_recovery_codes(&mut tx, staff, &codes).await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        clock::now_ms(),
        &[AuditEntry::new(
            staff.actor(),
            "staff.recovery_codes_regenerated",
            format!("staff:{}", staff.id),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Changes one's own password: the current one is checked (a wrong one
/// counts towards the lockout), the new one must follow the rules, and
/// every session ends; the caller gets a new session cookie.
pub async fn change_password(
    db: &Db,
    accounts: &Accounts,
    staff: &Staff,
    current: &str,
    new: &str,
    confirm: &str,
    lang: Lang,
) -> AppResult<String> {
    let stored: String =
        sqlx::query("SELECT password_hash FROM staff WHERE tenant = $1 AND id = $2")
            .bind(&staff.tenant)
            .bind(&staff.id)
            .fetch_one(db.read())
            .await?
            .get(0);
    let mut errors = Vec::new();
    let permit = accounts.gate.enter().await?;
    let Some(attempt) = lockout::reserve(db, accounts.lockout, &staff.tenant, &staff.id).await?
    else {
        return Err(AppError::Unauthorized);
    };
    if permit.verify(current, Some(stored)).await? {
        lockout::release(db, &staff.tenant, &staff.id, attempt).await?;
    } else {
        let target = format!("staff:{}", staff.id);
        lockout::settle_failure(db, &staff.tenant, target, attempt, "password_change").await?;
        errors.push(field(lang, "current_password", "password.current_wrong"));
    }
    if let Err(p) = crate::password::check(new, &[&staff.id, &staff.name, &staff.tenant]) {
        errors.push(field(lang, "new_password", p.key()));
    } else if new != confirm {
        errors.push(field(
            lang,
            "confirm_password",
            crate::password::Problem::Mismatch.key(),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = permit.hash(new).await?;
    drop(permit);
    let now = clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE staff SET password_hash = $1, password_changed_at = $2 WHERE tenant = $3 AND id = $4")
        .bind(hash)
        .bind(now)
        .bind(&staff.tenant)
        .bind(&staff.id)
        .execute(&mut *tx)
        .await?;
    // Whoever knew the old password is signed out everywhere.
    sqlx::query("DELETE FROM staff_sessions WHERE tenant = $1 AND staff_id = $2")
        .bind(&staff.tenant)
        .bind(&staff.id)
        .execute(&mut *tx)
        .await?;
    let cookie = session::open(&mut tx, &staff.tenant, &staff.id, Stage::Full, now).await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[AuditEntry::new(
            staff.actor(),
            "staff.password_changed",
            format!("staff:{}", staff.id),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(cookie)
}

/// Administrator actions on another account.
pub enum AdminAction {
    Unlock,
    /// Clears the second factor; the next sign-in enrols again.
    ResetMfa,
    Deactivate,
    Activate,
    Grant(String),
    Revoke(String),
}

pub async fn administer(
    db: &Db,
    admin: &super::SystemAdmin,
    staff_id: &str,
    action: AdminAction,
    lang: Lang,
) -> AppResult<()> {
    let tenant = &admin.tenant;
    let exists = sqlx::query("SELECT 1 FROM staff WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(staff_id)
        .fetch_optional(db.read())
        .await?
        .is_some();
    if !exists {
        return Err(AppError::NotFound("staff"));
    }
    let mut tx = db.begin().await?;
    let done = match &action {
        AdminAction::Unlock => unlock(&mut tx, tenant, staff_id).await?,
        AdminAction::ResetMfa => reset_mfa(&mut tx, tenant, staff_id).await?,
        AdminAction::Deactivate => set_active(&mut tx, admin, staff_id, false).await?,
        AdminAction::Activate => set_active(&mut tx, admin, staff_id, true).await?,
        AdminAction::Grant(dept) => grant(&mut tx, admin, staff_id, dept, lang).await?,
        AdminAction::Revoke(dept) => revoke(&mut tx, tenant, staff_id, dept).await?,
    };
    if done.end_sessions {
        sqlx::query("DELETE FROM staff_sessions WHERE tenant = $1 AND staff_id = $2")
            .bind(tenant)
            .bind(staff_id)
            .execute(&mut *tx)
            .await?;
    }
    audit::append(
        &mut tx,
        tenant,
        clock::now_ms(),
        &[
            AuditEntry::new(admin.actor(), done.action, format!("staff:{staff_id}"))
                .detail(done.detail),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What an administrator's action did: its audit entry, and whether the
/// account's sessions end.
struct Done {
    action: &'static str,
    detail: serde_json::Value,
    end_sessions: bool,
}

impl Done {
    fn new(action: &'static str, end_sessions: bool) -> Self {
        Self {
            action,
            detail: serde_json::json!({}),
            end_sessions,
        }
    }
}

async fn unlock(tx: &mut crate::db::Tx, tenant: &str, staff_id: &str) -> AppResult<Done> {
    sqlx::query(
        "UPDATE staff SET locked_until = 0, failed_sign_ins = 0 WHERE tenant = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(staff_id)
    .execute(&mut **tx)
    .await?;
    Ok(Done::new("staff.unlocked", false))
}

async fn reset_mfa(tx: &mut crate::db::Tx, tenant: &str, staff_id: &str) -> AppResult<Done> {
    sqlx::query(
        "UPDATE staff SET totp_secret = NULL, mfa_enrolled_at = NULL WHERE tenant = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(staff_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM staff_recovery_codes WHERE tenant = $1 AND staff_id = $2")
        .bind(tenant)
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    Ok(Done::new("staff.mfa_reset", true))
}

async fn set_active(
    tx: &mut crate::db::Tx,
    admin: &super::SystemAdmin,
    staff_id: &str,
    active: bool,
) -> AppResult<Done> {
    if !active && staff_id == admin.id {
        return Err(AppError::BadRequest(
            "自分のアカウントは無効にできません".into(),
        ));
    }
    sqlx::query("UPDATE staff SET active = $1 WHERE tenant = $2 AND id = $3")
        .bind(active as i64)
        .bind(&admin.tenant)
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    Ok(if active {
        Done::new("staff.activated", false)
    } else {
        Done::new("staff.deactivated", true)
    })
}

async fn grant(
    tx: &mut crate::db::Tx,
    admin: &super::SystemAdmin,
    staff_id: &str,
    dept: &str,
    lang: Lang,
) -> AppResult<Done> {
    let known = sqlx::query("SELECT 1 FROM departments WHERE tenant = $1 AND code = $2")
        .bind(&admin.tenant)
        .bind(dept)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if !known {
        return Err(AppError::Validation(vec![field(
            lang,
            "department",
            "staff_admin.department_unknown",
        )]));
    }
    sqlx::query(
        "INSERT INTO staff_grants (tenant, staff_id, department, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant, staff_id, department) DO NOTHING",
    )
    .bind(&admin.tenant)
    .bind(staff_id)
    .bind(dept)
    .bind(&admin.id)
    .bind(clock::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(Done {
        detail: serde_json::json!({"department": dept}),
        ..Done::new("staff.granted", false)
    })
}

async fn revoke(
    tx: &mut crate::db::Tx,
    tenant: &str,
    staff_id: &str,
    dept: &str,
) -> AppResult<Done> {
    sqlx::query("DELETE FROM staff_grants WHERE tenant = $1 AND staff_id = $2 AND department = $3")
        .bind(tenant)
        .bind(staff_id)
        .bind(dept)
        .execute(&mut **tx)
        .await?;
    Ok(Done {
        detail: serde_json::json!({"department": dept}),
        ..Done::new("staff.revoked", false)
    })
}

/// One row of the staff administration list.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StaffSummary {
    pub id: String,
    pub name: String,
    pub department: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub mfa: bool,
    pub locked_until: Option<i64>,
    pub granted_departments: Vec<String>,
}

pub async fn list_staff(db: &Db, admin: &super::SystemAdmin) -> AppResult<Vec<StaffSummary>> {
    let now = clock::now_ms();
    let rows = sqlx::query(
        "SELECT id, name, department, roles, active, CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS mfa, locked_until FROM staff WHERE tenant = $1 ORDER BY department, id",
    )
    .bind(&admin.tenant)
    .fetch_all(db.read())
    .await?;
    let grants = sqlx::query(
        "SELECT staff_id, department FROM staff_grants WHERE tenant = $1 ORDER BY department",
    )
    .bind(&admin.tenant)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id: String = r.get("id");
            let roles: String = r.get("roles");
            let locked: i64 = r.get("locked_until");
            StaffSummary {
                granted_departments: grants
                    .iter()
                    .filter(|g| g.get::<String, _>(0) == id)
                    .map(|g| g.get(1))
                    .collect(),
                id,
                name: r.get("name"),
                department: r.get("department"),
                roles: roles.split(',').filter_map(Role::parse).collect(),
                active: r.get::<i64, _>("active") == 1,
                mfa: r.get::<i64, _>("mfa") == 1,
                locked_until: (locked > now).then_some(locked),
            }
        })
        .collect())
}

/// Re-seals every second-factor secret sealed by an older key with the
/// active one (`madoguchi rekey`); returns how many changed.
pub async fn rekey_totp_secrets(db: &Db, vault: &Vault) -> AppResult<u64> {
    let rows =
        sqlx::query("SELECT tenant, id, totp_secret FROM staff WHERE totp_secret IS NOT NULL")
            .fetch_all(db.read())
            .await?;
    let mut changed = 0;
    for r in rows {
        let (tenant, id, sealed): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        if !vault.needs_rekey(&sealed) {
            continue;
        }
        let plain = vault
            .open(&tenant, Purpose::TotpSecret, &sealed)
            .map_err(|e| AppError::Internal(e.into()))?;
        sqlx::query(
            "UPDATE staff SET totp_secret = $1 WHERE tenant = $2 AND id = $3 AND totp_secret = $4",
        )
        .bind(vault.seal(&tenant, Purpose::TotpSecret, &plain))
        .bind(&tenant)
        .bind(&id)
        .bind(&sealed)
        .execute(db.write())
        .await?;
        changed += 1;
    }
    Ok(changed)
}
