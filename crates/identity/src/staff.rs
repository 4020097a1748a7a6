//! Staff sign-in pages: password, then the second factor (or its
//! enrolment with a QR code and recovery codes), the account page
//! (password change, new recovery codes, sign out everywhere), and the
//! JSON API session.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use kernel::auth::account::{self, Accounts, FactorOutcome, PasswordOutcome};
use kernel::auth::{self, PendingStaff, SessionPolicy, Staff, Stage};
use kernel::i18n::{self, Lang};
use kernel::tenant::TenantProfile;
use kernel::web::{render, render_status, tenant_page, FormErrors, Page};
use kernel::{AppError, AppResult, Db};
use serde::Deserialize;
use serde_json::json;

use crate::DevMode;

/// The published TOTP secret of the demo's staff accounts (base32). Used
/// only by `madoguchi demo` (development mode).
pub const DEMO_TOTP_SECRET: &str = "MFSGC3LPM5UWG2DJMRSW233UN5ZHA5DP";

fn minutes_left(until_ms: i64) -> String {
    (((until_ms - kernel::clock::now_ms()) + 59_999) / 60_000)
        .max(1)
        .to_string()
}

fn with_cookie(cookie: axum::http::HeaderValue, to: &str) -> Response {
    ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
}

// ------------------------------------------------------------- password

#[derive(Template)]
#[template(path = "staff_sign_in.html")]
struct SignIn {
    page: Page,
    errors: FormErrors,
    id: String,
    lockout_threshold: String,
    lockout_minutes: String,
}

fn sign_in_page(
    lang: Lang,
    t: &TenantProfile,
    accounts: &Accounts,
    errors: FormErrors,
    id: String,
) -> Response {
    let page = tenant_page(
        lang,
        t,
        i18n::t(lang, "staff.sign_in.title"),
        format!("/t/{}/staff/sign-in", t.code.as_str()),
    )
    .with_errors(!errors.is_empty());
    let status = errors.status();
    render_status(
        status,
        &SignIn {
            page,
            errors,
            id,
            lockout_threshold: accounts.lockout.threshold.to_string(),
            lockout_minutes: (accounts.lockout.lock_ms / 60_000).to_string(),
        },
    )
}

pub async fn sign_in_form(
    State(db): State<Db>,
    State(accounts): State<Accounts>,
    Path(tenant): Path<String>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    Ok(sign_in_page(
        lang,
        &t,
        &accounts,
        FormErrors::default(),
        String::new(),
    ))
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    password: String,
}

pub async fn sign_in_post(
    State(db): State<Db>,
    State(accounts): State<Accounts>,
    State(policy): State<SessionPolicy>,
    Path(tenant): Path<String>,
    lang: Lang,
    Form(f): Form<SignInForm>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let id = f.id.trim().to_string();
    let mut errors = FormErrors::default();
    if id.is_empty() {
        errors.push("id", i18n::t(lang, "staff.sign_in.id_required"));
    }
    if f.password.is_empty() {
        errors.push("password", i18n::t(lang, "staff.sign_in.password_required"));
    }
    if errors.is_empty() {
        match account::sign_in_password(&db, &accounts, &tenant, &id, &f.password).await? {
            PasswordOutcome::Pending { stage, cookie } => {
                let next = match stage {
                    Stage::Enrol => format!("/t/{tenant}/staff/mfa/enrol"),
                    _ => format!("/t/{tenant}/staff/sign-in/verify"),
                };
                return Ok(with_cookie(
                    auth::session_cookie(&cookie, policy.secure),
                    &next,
                ));
            }
            PasswordOutcome::Failed => errors.push("id", i18n::t(lang, "staff.sign_in.failed")),
            PasswordOutcome::Locked { until } => errors.push(
                "id",
                i18n::tf(
                    lang,
                    "staff.sign_in.locked",
                    &[("minutes", &minutes_left(until))],
                ),
            ),
        }
    }
    Ok(sign_in_page(lang, &t, &accounts, errors, id))
}

pub async fn sign_out_post(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if end_session(&db, &tenant, &headers).await? {
        Ok(with_cookie(
            auth::clear_session_cookie(),
            &format!("/t/{tenant}/staff/sign-in"),
        ))
    } else {
        Ok(Redirect::to(&format!("/t/{tenant}/staff/sign-in")).into_response())
    }
}

/// Ends the session of the tenant in the path (another tenant's session
/// is left alone: nothing of theirs is touched from here). True if the
/// cookie belonged to this tenant (and should be cleared).
async fn end_session(db: &Db, tenant: &str, headers: &HeaderMap) -> AppResult<bool> {
    match auth::cookie(headers, auth::STAFF_COOKIE) {
        Some(v) if v.split_once('.').is_some_and(|(t, _)| t == tenant) => {
            auth::sign_out(db, v).await?;
            Ok(true)
        }
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

// ------------------------------------------------------- second factor

#[derive(Template)]
#[template(path = "staff_verify.html")]
struct Verify {
    page: Page,
    errors: FormErrors,
    dev_code: String,
}

fn dev_code(dev: DevMode) -> String {
    if !dev.0 {
        return String::new();
    }
    let secret = kernel::totp::base32_decode(DEMO_TOTP_SECRET).unwrap_or_default();
    kernel::totp::code(
        &secret,
        kernel::totp::step_at(kernel::clock::now_ms() / 1000),
    )
}

fn verify_page(lang: Lang, t: &TenantProfile, dev: DevMode, errors: FormErrors) -> Response {
    let page = tenant_page(
        lang,
        t,
        i18n::t(lang, "staff.verify.title"),
        format!("/t/{}/staff/sign-in/verify", t.code.as_str()),
    )
    .with_errors(!errors.is_empty());
    let status = errors.status();
    render_status(
        status,
        &Verify {
            page,
            errors,
            dev_code: dev_code(dev),
        },
    )
}

/// Pages of a half-finished sign-in send the browser back to the start
/// when the pending session is missing or expired.
fn restart(tenant: &str) -> Response {
    Redirect::to(&format!("/t/{tenant}/staff/sign-in")).into_response()
}

pub async fn verify_form(
    State(db): State<Db>,
    State(dev): State<DevMode>,
    Path(tenant): Path<String>,
    lang: Lang,
    pending: Result<PendingStaff, AppError>,
) -> AppResult<Response> {
    if !pending.is_ok_and(|p| p.stage == Stage::Password) {
        return Ok(restart(&tenant));
    }
    let t = kernel::tenant::load(&db, &tenant).await?;
    Ok(verify_page(lang, &t, dev, FormErrors::default()))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn verify_post(
    State(st): State<crate::IdentityState>,
    Path(tenant): Path<String>,
    lang: Lang,
    pending: Result<PendingStaff, AppError>,
    Form(f): Form<CodeForm>,
) -> AppResult<Response> {
    let Some(pending) = pending.ok().filter(|p| p.stage == Stage::Password) else {
        return Ok(restart(&tenant));
    };
    let (db, accounts, policy, dev) = (&st.db, &st.accounts, st.session, st.dev_mode);
    let t = kernel::tenant::load(db, &tenant).await?;
    let mut errors = FormErrors::default();
    if f.code.trim().is_empty() {
        errors.push("code", i18n::t(lang, "staff.verify.code_required"));
        return Ok(verify_page(lang, &t, dev, errors));
    }
    match account::verify_second_factor(db, accounts, &pending, &f.code).await? {
        FactorOutcome::SignedIn { cookie } => {
            return Ok(with_cookie(
                auth::session_cookie(&cookie, policy.secure),
                &kernel::web::staff_menu::start_page(&pending.staff),
            ))
        }
        FactorOutcome::Wrong => errors.push("code", i18n::t(lang, "staff.verify.wrong")),
        FactorOutcome::Locked { until } => {
            errors.push(
                "code",
                i18n::tf(
                    lang,
                    "staff.sign_in.locked",
                    &[("minutes", &minutes_left(until))],
                ),
            );
            return Ok(sign_in_page(
                lang,
                &t,
                accounts,
                errors,
                pending.staff.id.clone(),
            ));
        }
    }
    Ok(verify_page(lang, &t, dev, errors))
}

// ----------------------------------------------------------- enrolment

#[derive(Template)]
#[template(path = "staff_enrol.html")]
struct Enrol {
    page: Page,
    errors: FormErrors,
    qr_svg: String,
    secret_grouped: String,
}

#[derive(Template)]
#[template(path = "staff_recovery_codes.html")]
struct RecoveryCodes {
    page: Page,
    codes: Vec<String>,
    next: String,
}

async fn enrol_page(
    db: &Db,
    accounts: &Accounts,
    lang: Lang,
    t: &TenantProfile,
    pending: &PendingStaff,
    errors: FormErrors,
) -> AppResult<Response> {
    let secret = account::enrolment_secret(db, &accounts.vault, pending).await?;
    let label = format!("madoguchi {}", t.name.ja());
    let uri = kernel::totp::otpauth_uri(&label, &pending.staff.id, &secret);
    let b32 = kernel::totp::base32(&secret);
    let grouped = b32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let page = tenant_page(
        lang,
        t,
        i18n::t(lang, "staff.enrol.title"),
        format!("/t/{}/staff/mfa/enrol", t.code.as_str()),
    )
    .with_errors(!errors.is_empty());
    let status = errors.status();
    Ok(render_status(
        status,
        &Enrol {
            page,
            errors,
            qr_svg: kernel::web::qr_svg(&uri, 200)?,
            secret_grouped: grouped,
        },
    ))
}

pub async fn enrol_form(
    State(db): State<Db>,
    State(accounts): State<Accounts>,
    Path(tenant): Path<String>,
    lang: Lang,
    pending: Result<PendingStaff, AppError>,
) -> AppResult<Response> {
    let Some(pending) = pending.ok().filter(|p| p.stage == Stage::Enrol) else {
        return Ok(restart(&tenant));
    };
    let t = kernel::tenant::load(&db, &tenant).await?;
    enrol_page(&db, &accounts, lang, &t, &pending, FormErrors::default()).await
}

pub async fn enrol_post(
    State(db): State<Db>,
    State(accounts): State<Accounts>,
    State(policy): State<SessionPolicy>,
    Path(tenant): Path<String>,
    lang: Lang,
    pending: Result<PendingStaff, AppError>,
    Form(f): Form<CodeForm>,
) -> AppResult<Response> {
    let Some(pending) = pending.ok().filter(|p| p.stage == Stage::Enrol) else {
        return Ok(restart(&tenant));
    };
    let t = kernel::tenant::load(&db, &tenant).await?;
    let mut errors = FormErrors::default();
    if kernel::totp::normalize_code(&f.code).is_none() {
        errors.push("code", i18n::t(lang, "staff.enrol.code_format"));
        return enrol_page(&db, &accounts, lang, &t, &pending, errors).await;
    }
    match account::confirm_enrolment(&db, &accounts, &pending, &f.code).await? {
        Some((cookie, codes)) => {
            let page = tenant_page(
                lang,
                &t,
                i18n::t(lang, "staff.recovery.title"),
                format!("/t/{tenant}/staff/mfa/enrol"),
            )
            .for_staff(&pending.staff);
            let mut resp = render(&RecoveryCodes {
                page,
                codes,
                next: kernel::web::staff_menu::start_page(&pending.staff),
            });
            resp.headers_mut().insert(
                header::SET_COOKIE,
                auth::session_cookie(&cookie, policy.secure),
            );
            Ok(resp)
        }
        None => {
            errors.push("code", i18n::t(lang, "staff.verify.wrong"));
            enrol_page(&db, &accounts, lang, &t, &pending, errors).await
        }
    }
}

// ------------------------------------------------------------- account

#[derive(Template)]
#[template(path = "staff_account.html")]
struct AccountPage {
    page: Page,
    errors: FormErrors,
    notice: String,
    staff_id: String,
    department: String,
    roles: String,
    recovery_left: String,
}

async fn account_page(
    db: &Db,
    lang: Lang,
    staff: &Staff,
    errors: FormErrors,
    notice: String,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "staff.account.title"),
        format!("/t/{}/staff/account", staff.tenant),
    )
    .for_staff(staff)
    .with_errors(!errors.is_empty());
    let department = t
        .departments
        .iter()
        .find(|d| d.code == staff.department)
        .map(|d| d.name.get(lang).to_string())
        .unwrap_or_else(|| staff.department.clone());
    let roles = staff
        .roles
        .iter()
        .map(|r| i18n::t(lang, r.label_key()))
        .collect::<Vec<_>>()
        .join("・");
    let left = account::recovery_codes_left(db, staff).await?;
    let status = errors.status();
    Ok(render_status(
        status,
        &AccountPage {
            page,
            errors,
            notice,
            staff_id: staff.id.clone(),
            department,
            roles,
            recovery_left: left.to_string(),
        },
    ))
}

pub async fn account_get(State(db): State<Db>, staff: Staff, lang: Lang) -> AppResult<Response> {
    account_page(&db, lang, &staff, FormErrors::default(), String::new()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn password_post(
    State(db): State<Db>,
    State(accounts): State<Accounts>,
    State(policy): State<SessionPolicy>,
    staff: Staff,
    lang: Lang,
    Form(f): Form<PasswordForm>,
) -> AppResult<Response> {
    match account::change_password(
        &db,
        &accounts,
        &staff,
        &f.current_password,
        &f.new_password,
        &f.confirm_password,
        lang,
    )
    .await
    {
        Ok(cookie) => {
            let mut resp = account_page(
                &db,
                lang,
                &staff,
                FormErrors::default(),
                i18n::t(lang, "staff.account.password_changed").into(),
            )
            .await?;
            resp.headers_mut().insert(
                header::SET_COOKIE,
                auth::session_cookie(&cookie, policy.secure),
            );
            Ok(resp)
        }
        Err(AppError::Validation(errs)) => {
            account_page(&db, lang, &staff, FormErrors(errs), String::new()).await
        }
        Err(e) => Err(e),
    }
}

pub async fn recovery_post(State(db): State<Db>, staff: Staff, lang: Lang) -> AppResult<Response> {
    let codes = account::regenerate_recovery_codes(&db, &staff).await?;
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "staff.recovery.title"),
        format!("/t/{}/staff/account", staff.tenant),
    )
    .for_staff(&staff);
    Ok(render(&RecoveryCodes {
        page,
        codes,
        next: format!("/t/{}/staff/account", staff.tenant),
    }))
}

pub async fn everywhere_post(State(db): State<Db>, staff: Staff) -> AppResult<Response> {
    auth::sign_out_everywhere(&db, &staff.tenant, &staff.id, &staff.actor()).await?;
    Ok(with_cookie(
        auth::clear_session_cookie(),
        &format!("/t/{}/staff/sign-in", staff.tenant),
    ))
}

// ----------------------------------------------------------------- API

#[derive(Deserialize)]
pub struct ApiSignIn {
    id: String,
    password: String,
    /// The authenticator app's six digits, or a recovery code.
    #[serde(default)]
    code: String,
}

/// `POST /api/v1/t/{tenant}/staff/session`: password and second factor in
/// one request. Accounts without a second factor must enrol in the browser.
pub async fn api_sign_in(
    State(db): State<Db>,
    State(accounts): State<Accounts>,
    State(policy): State<SessionPolicy>,
    Path(tenant): Path<String>,
    lang: Lang,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let b: ApiSignIn = kernel::web::parse_json(&body)?;
    kernel::tenant::require(&db, &tenant).await?;
    let mut errors = FormErrors::default();
    if b.id.trim().is_empty() {
        errors.push("id", i18n::t(lang, "staff.sign_in.id_required"));
    }
    if b.password.is_empty() {
        errors.push("password", i18n::t(lang, "staff.sign_in.password_required"));
    }
    if b.code.trim().is_empty() {
        errors.push("code", i18n::t(lang, "staff.verify.code_required"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors.0));
    }
    let cookie =
        match account::sign_in_password(&db, &accounts, &tenant, b.id.trim(), &b.password).await? {
            PasswordOutcome::Pending {
                stage: Stage::Password,
                cookie,
            } => cookie,
            PasswordOutcome::Pending { cookie, .. } => {
                auth::sign_out(&db, &cookie).await?;
                return Err(AppError::BadRequest(
                    i18n::t(lang, "staff.api.enrol_in_browser").into(),
                ));
            }
            PasswordOutcome::Failed => return Err(AppError::Unauthorized),
            PasswordOutcome::Locked { until } => {
                return Err(AppError::TooManyRequests(
                    ((until - kernel::clock::now_ms()) / 1000).max(1) as u64,
                ))
            }
        };
    let pending = pending_from(&db, policy, &tenant, &cookie).await?;
    match account::verify_second_factor(&db, &accounts, &pending, &b.code).await? {
        FactorOutcome::SignedIn { cookie } => Ok((
            [(
                header::SET_COOKIE,
                auth::session_cookie(&cookie, policy.secure),
            )],
            Json(json!({"staff": pending.staff})),
        )
            .into_response()),
        FactorOutcome::Wrong => {
            auth::sign_out(&db, &cookie).await?;
            Err(AppError::Unauthorized)
        }
        FactorOutcome::Locked { until } => Err(AppError::TooManyRequests(
            ((until - kernel::clock::now_ms()) / 1000).max(1) as u64,
        )),
    }
}

async fn pending_from(
    db: &Db,
    policy: SessionPolicy,
    tenant: &str,
    cookie: &str,
) -> AppResult<PendingStaff> {
    auth::session::pending(db, policy, tenant, cookie).await
}

pub async fn api_sign_out(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if end_session(&db, &tenant, &headers).await? {
        Ok((
            [(header::SET_COOKIE, auth::clear_session_cookie())],
            StatusCode::NO_CONTENT,
        )
            .into_response())
    } else {
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}
