//! Signing in. Staff: password (Argon2id) and a mandatory second factor
//! (TOTP with recovery codes), lockout, session limits, the account page
//! and staff administration. Residents: OpenID Connect with the My Number
//! card through デジタル認証アプリ (or any configured provider), and in
//! development mode a labelled fake provider.

pub mod admin;
pub mod audit_pages;
pub mod jobs_pages;
pub mod oidc;
pub mod resident;
pub mod staff;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use kernel::auth::account::Accounts;
use kernel::auth::SessionPolicy;
use kernel::crypto::Vault;
use kernel::Db;

pub use staff::DEMO_TOTP_SECRET;

/// Development mode (the demo): shows demo hints; enables nothing unsafe
/// by itself.
#[derive(Clone, Copy, Debug)]
pub struct DevMode(pub bool);

/// The development identity provider is enabled (never in production).
#[derive(Clone, Copy, Debug)]
pub struct DevIdp(pub bool);

/// Key that turns provider subjects into pseudonyms.
#[derive(Clone)]
pub struct SubjectKey(pub Arc<Vec<u8>>);

#[derive(Clone)]
pub struct PublicUrl(pub Arc<str>);

#[derive(Clone, FromRef)]
pub struct IdentityState {
    pub db: Db,
    pub vault: Vault,
    pub accounts: Accounts,
    pub session: SessionPolicy,
    pub oidc: Option<Arc<oidc::OidcClient>>,
    pub dev_mode: DevMode,
    pub dev_idp: DevIdp,
    pub subject_key: SubjectKey,
    pub public_url: PublicUrl,
    pub residents: kernel::resident::ResidentCache,
}

/// Housekeeping: sessions past their limits, unfinished sign-ins.
pub async fn purge(db: &Db, policy: SessionPolicy) -> kernel::AppResult<()> {
    kernel::auth::session::purge(db, policy).await?;
    kernel::resident::purge(db).await?;
    sqlx::query("DELETE FROM oidc_requests WHERE created_at < $1")
        .bind(kernel::clock::now_ms() - 10 * 60_000)
        .execute(db.write())
        .await?;
    Ok(())
}

/// Forgets every sign-in in flight (after a key rotation: their sealed
/// verifiers would not open; the resident starts again).
pub async fn end_sign_ins_in_flight(db: &Db) -> kernel::AppResult<u64> {
    Ok(sqlx::query("DELETE FROM oidc_requests")
        .execute(db.write())
        .await?
        .rows_affected())
}

pub fn router(state: IdentityState) -> Router {
    Router::new()
        .route(
            "/t/{tenant}/staff/sign-in",
            get(staff::sign_in_form).post(staff::sign_in_post),
        )
        .route(
            "/t/{tenant}/staff/sign-in/verify",
            get(staff::verify_form).post(staff::verify_post),
        )
        .route(
            "/t/{tenant}/staff/mfa/enrol",
            get(staff::enrol_form).post(staff::enrol_post),
        )
        .route("/t/{tenant}/staff/sign-out", post(staff::sign_out_post))
        .route("/t/{tenant}/staff/account", get(staff::account_get))
        .route(
            "/t/{tenant}/staff/account/password",
            post(staff::password_post),
        )
        .route(
            "/t/{tenant}/staff/account/recovery-codes",
            post(staff::recovery_post),
        )
        .route(
            "/t/{tenant}/staff/account/sign-out-everywhere",
            post(staff::everywhere_post),
        )
        .route(
            "/t/{tenant}/staff/admin",
            get(admin::admin_get).post(admin::create_post),
        )
        .route(
            "/t/{tenant}/staff/admin/{staff_id}",
            post(admin::action_post),
        )
        .route(
            "/api/v1/t/{tenant}/staff/session",
            post(staff::api_sign_in).delete(staff::api_sign_out),
        )
        .route("/t/{tenant}/sign-in", get(resident::sign_in_get))
        .route("/t/{tenant}/sign-in/oidc", get(resident::oidc_start))
        .route("/t/{tenant}/sign-in/dev", post(resident::dev_sign_in))
        .route("/t/{tenant}/auth/callback", get(resident::oidc_callback))
        .route("/t/{tenant}/sign-out", post(resident::sign_out))
        .route("/t/{tenant}/account", get(resident::account))
        .route("/auth/oidc/jwks.json", get(resident::jwks))
        .route("/t/{tenant}/staff/jobs", get(jobs_pages::jobs_page))
        .route(
            "/t/{tenant}/staff/jobs/{id}/retry",
            post(jobs_pages::retry_post),
        )
        .route(
            "/t/{tenant}/staff/jobs/{id}/cancel",
            post(jobs_pages::cancel_post),
        )
        .route("/api/v1/t/{tenant}/staff/jobs", get(jobs_pages::jobs_api))
        .route(
            "/api/v1/t/{tenant}/staff/jobs/{id}/retry",
            post(jobs_pages::retry_api),
        )
        .route(
            "/api/v1/t/{tenant}/staff/jobs/{id}/cancel",
            post(jobs_pages::cancel_api),
        )
        .route("/t/{tenant}/staff/audit", get(audit_pages::audit_page))
        .route(
            "/api/v1/t/{tenant}/staff/audit",
            get(audit_pages::audit_api),
        )
        .with_state(state)
}
