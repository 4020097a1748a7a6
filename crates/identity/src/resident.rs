//! Resident sign-in: the choice page, the OpenID Connect round trip
//! (start → provider → callback) and, in development mode only, a
//! clearly labelled fake provider. The session carries the identity level
//! and the verified 基本4情報, which application forms use.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use kernel::i18n::{self, Lang};
use kernel::resident::{self, Claims, Level, MaybeResident};
use kernel::web::{render, render_status, Choice, FormErrors, LabelValue, Page};
use kernel::{AppError, AppResult, Db};
use serde::Deserialize;
use sqlx::Row;

use crate::{IdentityState, PublicUrl};
use kernel::web::tenant_page;

/// An authorization request is good for ten minutes.
const REQUEST_TTL_MS: i64 = 10 * 60_000;

/// Where to go after signing in: only a path of this tenant.
pub fn safe_return(tenant: &str, s: &str) -> String {
    let home = format!("/t/{tenant}");
    let ok = s.len() <= 512
        && (s == home || s.starts_with(&format!("{home}/")))
        && !s.contains("//")
        && !s.contains('\\')
        && !s.chars().any(char::is_control);
    if ok {
        s.to_string()
    } else {
        home
    }
}

fn redirect_uri(public: &PublicUrl, tenant: &str) -> String {
    format!(
        "{}/t/{tenant}/auth/callback",
        public.0.trim_end_matches('/')
    )
}

#[derive(Clone, Default)]
pub struct DevPersona {
    name: String,
    address: String,
    birthdate: String,
    gender: String,
}

#[derive(Template)]
#[template(path = "resident_sign_in.html")]
struct SignInPage {
    page: Page,
    errors: FormErrors,
    reason: String,
    return_to: String,
    oidc_label: Option<String>,
    /// Query of the link that starts the OpenID Connect round trip.
    oidc_start: String,
    dev_idp: bool,
    dev: DevPersona,
    genders: Vec<Choice>,
}

#[derive(Deserialize)]
pub struct ReturnTo {
    #[serde(default)]
    return_to: String,
    /// Why the resident was sent here (e.g. `my_number_card`).
    #[serde(default)]
    need: String,
}

/// The purpose of the link token that starts a sign-in.
const START_PURPOSE: &str = "oidc-start";

/// The query of the sign-in link: a link, not a form, because the flow
/// leaves for the provider's origin and the page's CSP allows forms to
/// post only to this site (`form-action 'self'` covers redirects too).
fn oidc_start_query(return_to: &str) -> String {
    serde_urlencoded::to_string([
        ("return_to", return_to),
        ("start", kernel::csrf::link_token(START_PURPOSE).as_str()),
    ])
    .unwrap_or_default()
}

async fn sign_in_page(
    st: &IdentityState,
    tenant: &str,
    lang: Lang,
    return_to: &str,
    reason: String,
    errors: FormErrors,
    dev: DevPersona,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, tenant).await?;
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "resident.sign_in.title"),
        format!("/t/{tenant}/sign-in"),
    )
    .with_errors(!errors.is_empty());
    let status = errors.status();
    let return_to = safe_return(tenant, return_to);
    Ok(render_status(
        status,
        &SignInPage {
            page,
            errors,
            reason,
            oidc_start: oidc_start_query(&return_to),
            return_to,
            oidc_label: st.oidc.as_ref().map(|o| {
                if lang == Lang::Ja {
                    o.config.label_ja.clone()
                } else {
                    i18n::t(lang, "resident.sign_in.oidc_default_label").to_string()
                }
            }),
            dev_idp: st.dev_idp.0,
            genders: Choice::select(
                vec![
                    Choice::new("female", i18n::t(lang, "resident.gender.female")),
                    Choice::new("male", i18n::t(lang, "resident.gender.male")),
                    Choice::new("other", i18n::t(lang, "resident.gender.other")),
                ],
                &dev.gender,
            ),
            dev,
        },
    ))
}

fn sample_persona() -> DevPersona {
    DevPersona {
        name: "四街道 花子".into(),
        address: "千葉県四街道市鹿渡無番地".into(),
        birthdate: "1990-04-01".into(),
        gender: "female".into(),
    }
}

pub async fn sign_in_get(
    State(st): State<IdentityState>,
    Path(tenant): Path<String>,
    lang: Lang,
    Query(q): Query<ReturnTo>,
) -> AppResult<Response> {
    let reason = match q.need.as_str() {
        "my_number_card" | "signed_in" => {
            i18n::t(lang, &format!("resident.sign_in.need.{}", q.need)).to_string()
        }
        _ => String::new(),
    };
    sign_in_page(
        &st,
        &tenant,
        lang,
        &q.return_to,
        reason,
        FormErrors::default(),
        sample_persona(),
    )
    .await
}

/// The cookie that binds a sign-in in flight to the browser that started
/// it, so a stolen or planted callback URL is worth nothing elsewhere.
const FLOW_COOKIE: &str = "mdg_oidc";

fn flow_cookie(tenant: &str, value: &str, max_age: i64, secure: bool) -> axum::http::HeaderValue {
    kernel::web::Cookie::new(FLOW_COOKIE, value)
        .path(&format!("/t/{tenant}/auth"))
        .max_age_secs(max_age)
        .secure(secure)
        .header()
}

#[derive(Deserialize)]
pub struct Start {
    #[serde(default)]
    return_to: String,
    /// The link token of the sign-in page ([`START_PURPOSE`]): a link on
    /// another site cannot start a sign-in in this browser.
    #[serde(default)]
    start: String,
}

/// Starts the OpenID Connect round trip (the sign-in page's link).
pub async fn oidc_start(
    State(st): State<IdentityState>,
    Path(tenant): Path<String>,
    lang: Lang,
    Query(f): Query<Start>,
) -> AppResult<Response> {
    kernel::tenant::load(&st.db, &tenant).await?;
    let client = st.oidc.as_ref().ok_or(AppError::NotFound("page"))?;
    if !kernel::csrf::check_link_token(START_PURPOSE, &f.start) {
        return Err(AppError::Csrf);
    }
    let started = match client.start(&redirect_uri(&st.public_url, &tenant)).await {
        Ok(s) => s,
        Err(e) => {
            // The provider's discovery cannot be read: say so, keep the way back.
            tracing::warn!(error = %e, tenant, "OpenID Connect start failed");
            return failed(&st, &tenant, lang, Failure::of(&e), Some(&f.return_to)).await;
        }
    };
    let browser = kernel::ids::token();
    sqlx::query(
        "INSERT INTO oidc_requests (tenant, state_hash, browser_hash, nonce, code_verifier, return_to, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&tenant)
    .bind(kernel::ids::hash_token(&started.state))
    .bind(kernel::ids::hash_token(&browser))
    .bind(&started.nonce)
    .bind(st.vault.seal(&tenant, kernel::crypto::Purpose::IdentityClaims, &started.code_verifier))
    .bind(safe_return(&tenant, &f.return_to))
    .bind(kernel::clock::now_ms())
    .execute(st.db.write())
    .await?;
    Ok((
        [(
            header::SET_COOKIE,
            flow_cookie(&tenant, &browser, REQUEST_TTL_MS / 1000, st.session.secure),
        )],
        Redirect::to(&started.url),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "resident_sign_in_failed.html")]
struct Failed {
    page: Page,
    message: String,
    code: String,
    /// The sign-in page, with where the resident was going.
    retry: String,
}

/// Why a sign-in failed, as the resident is told and the audit log keeps it.
struct Failure {
    status: StatusCode,
    code: &'static str,
    key: &'static str,
}

impl Failure {
    const fn refused(code: &'static str, key: &'static str) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code,
            key,
        }
    }

    fn of(e: &crate::oidc::OidcError) -> Self {
        use crate::oidc::OidcError as E;
        match e {
            E::NonceMismatch => Self::refused("MDG-401-oidc-nonce", "resident.failed.token"),
            E::InvalidToken(_) => Self::refused("MDG-401-oidc-token", "resident.failed.token"),
            E::Grant(_) => Self::refused("MDG-401-oidc-grant", "resident.failed.grant"),
            E::Userinfo(_) | E::MissingClaims(_) => Self {
                status: StatusCode::BAD_GATEWAY,
                code: "MDG-502-oidc-claims",
                key: "resident.failed.claims",
            },
            E::Unreachable(_) => Self {
                status: StatusCode::BAD_GATEWAY,
                code: "MDG-502-oidc",
                key: "resident.failed.provider",
            },
            E::Protocol(_) | E::Key(_) => {
                Self::refused("MDG-401-oidc-provider", "resident.failed.provider")
            }
        }
    }
}

async fn failed(
    st: &IdentityState,
    tenant: &str,
    lang: Lang,
    why: Failure,
    return_to: Option<&str>,
) -> AppResult<Response> {
    let Failure { status, code, key } = why;
    let t = kernel::tenant::load(&st.db, tenant).await?;
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "resident.failed.title"),
        format!("/t/{tenant}/auth/callback"),
    );
    kernel::audit::record(
        &st.db,
        tenant,
        kernel::audit::AuditEntry::new("anonymous", "resident.sign_in_failed", "oidc")
            .detail(serde_json::json!({ "code": code })),
    )
    .await?;
    let retry = match return_to {
        Some(r) => format!(
            "/t/{tenant}/sign-in?{}",
            serde_urlencoded::to_string([("return_to", safe_return(tenant, r))])
                .unwrap_or_default()
        ),
        None => format!("/t/{tenant}/sign-in"),
    };
    Ok(render_status(
        status,
        &Failed {
            page,
            message: i18n::t(lang, key).into(),
            code: code.into(),
            retry,
        },
    ))
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn oidc_callback(
    State(st): State<IdentityState>,
    Path(tenant): Path<String>,
    lang: Lang,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> AppResult<Response> {
    kernel::tenant::load(&st.db, &tenant).await?;
    let client = st.oidc.as_ref().ok_or(AppError::NotFound("page"))?;
    if let Some(e) = q.error.as_deref() {
        let why = if e == "access_denied" {
            Failure::refused("MDG-401-oidc-cancelled", "resident.failed.cancelled")
        } else {
            Failure::refused("MDG-401-oidc-provider", "resident.failed.provider")
        };
        return failed(&st, &tenant, lang, why, None).await;
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        let why = Failure::refused("MDG-401-oidc-request", "resident.failed.request");
        return failed(&st, &tenant, lang, why, None).await;
    };
    let browser = kernel::auth::cookie(&headers, FLOW_COOKIE).unwrap_or("");
    let flow = match take_flow(&st, &tenant, &state, browser).await? {
        Ok(flow) => flow,
        Err((why, return_to)) => {
            return failed(&st, &tenant, lang, why, return_to.as_deref()).await
        }
    };
    let (nonce, verifier, return_to) = (flow.nonce, flow.verifier, flow.return_to);
    let verified = match client
        .finish(
            &code,
            &redirect_uri(&st.public_url, &tenant),
            &verifier,
            &nonce,
        )
        .await
    {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, tenant, "OpenID Connect sign-in refused; nobody signed in");
            return failed(&st, &tenant, lang, Failure::of(&e), Some(&return_to)).await;
        }
    };
    let cookie = resident::open(
        &st.db,
        &st.vault,
        &st.subject_key.0,
        &tenant,
        &format!("oidc:{}", client.config.issuer),
        &verified.subject,
        client.level,
        &verified.claims,
    )
    .await?;
    Ok((
        [(
            header::SET_COOKIE,
            resident::cookie_header(&cookie, st.session.secure),
        )],
        Redirect::to(&return_to),
    )
        .into_response())
}

/// The flow a callback finishes, as its start stored it.
struct StartedFlow {
    nonce: String,
    verifier: String,
    return_to: String,
}

/// Takes the flow's stored request, once, for the browser that started it:
/// the row is deleted as it is read, so a replayed state finds nothing, and
/// another browser (a stolen or planted callback URL) matches no row. An
/// unknown or expired request is a refusal (with where to go back to, when
/// known).
async fn take_flow(
    st: &IdentityState,
    tenant: &str,
    state: &str,
    browser: &str,
) -> AppResult<Result<StartedFlow, (Failure, Option<String>)>> {
    let row = sqlx::query(
        "DELETE FROM oidc_requests WHERE tenant = $1 AND state_hash = $2 AND browser_hash = $3
         RETURNING nonce, code_verifier, return_to, created_at",
    )
    .bind(tenant)
    .bind(kernel::ids::hash_token(state))
    .bind(kernel::ids::hash_token(browser))
    .fetch_optional(st.db.write())
    .await?;
    let Some(row) = row else {
        let why = Failure::refused("MDG-401-oidc-state", "resident.failed.state");
        return Ok(Err((why, None)));
    };
    let return_to: String = row.get("return_to");
    if kernel::clock::now_ms() - row.get::<i64, _>("created_at") > REQUEST_TTL_MS {
        let why = Failure::refused("MDG-401-oidc-expired", "resident.failed.expired");
        return Ok(Err((why, Some(return_to))));
    }
    let verifier = st
        .vault
        .open(
            tenant,
            kernel::crypto::Purpose::IdentityClaims,
            &row.get::<String, _>("code_verifier"),
        )
        .map_err(|e| AppError::Internal(anyhow::anyhow!("code verifier: {e}")))?;
    Ok(Ok(StartedFlow {
        nonce: row.get("nonce"),
        verifier,
        return_to,
    }))
}

#[derive(Deserialize)]
pub struct DevForm {
    #[serde(default)]
    return_to: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    birthdate: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    level: String,
}

/// The development identity provider: signs a resident in with whatever
/// 基本4情報 the form says. Exists only when the configuration enables it,
/// which production mode refuses.
pub async fn dev_sign_in(
    State(st): State<IdentityState>,
    Path(tenant): Path<String>,
    lang: Lang,
    Form(f): Form<DevForm>,
) -> AppResult<Response> {
    if !st.dev_idp.0 {
        return Err(AppError::NotFound("page"));
    }
    let mut errors = FormErrors::default();
    let name = f.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push("name", i18n::t(lang, "resident.dev.name_required"));
    }
    if f.address.trim().is_empty() || f.address.chars().count() > 200 {
        errors.push("address", i18n::t(lang, "resident.dev.address_required"));
    }
    let birthdate = match jp::JpDate::parse(&f.birthdate) {
        Ok(d) => d.date().to_string(),
        Err(_) => {
            errors.push("birthdate", i18n::t(lang, "resident.dev.birthdate_invalid"));
            String::new()
        }
    };
    let level = Level::parse(&f.level).unwrap_or(Level::MyNumberCard);
    if !errors.is_empty() {
        let dev = DevPersona {
            name: f.name,
            address: f.address,
            birthdate: f.birthdate,
            gender: f.gender,
        };
        return sign_in_page(&st, &tenant, lang, &f.return_to, String::new(), errors, dev).await;
    }
    kernel::tenant::load(&st.db, &tenant).await?;
    let claims = Claims {
        name: Some(name.clone()),
        address: Some(f.address.trim().to_string()),
        birthdate: Some(birthdate.clone()),
        gender: Some(f.gender.clone())
            .filter(|g| matches!(g.as_str(), "female" | "male" | "other")),
    };
    // A stable pseudonymous subject per persona, as a provider would give.
    let subject = kernel::ids::hash_token(&format!("{name}|{birthdate}"));
    let cookie = resident::open(
        &st.db,
        &st.vault,
        &st.subject_key.0,
        &tenant,
        "dev",
        &subject,
        level,
        &claims,
    )
    .await?;
    Ok((
        [(
            header::SET_COOKIE,
            resident::cookie_header(&cookie, st.session.secure),
        )],
        Redirect::to(&safe_return(&tenant, &f.return_to)),
    )
        .into_response())
}

pub async fn sign_out(
    State(db): State<Db>,
    State(cache): State<resident::ResidentCache>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if let Some(v) = kernel::auth::cookie(&headers, resident::RESIDENT_COOKIE) {
        if v.split_once('.').is_some_and(|(t, _)| t == tenant) {
            resident::sign_out(&db, &cache, v).await?;
        }
    }
    Ok((
        [(header::SET_COOKIE, resident::clear_cookie_header())],
        Redirect::to(&format!("/t/{tenant}")),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "resident_account.html")]
struct AccountPage {
    page: Page,
    level: String,
    rows: Vec<LabelValue>,
}

pub async fn account(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    lang: Lang,
    who: MaybeResident,
) -> AppResult<Response> {
    let Some(r) = who.0 else {
        return Ok(Redirect::to(&format!(
            "/t/{tenant}/sign-in?return_to=/t/{tenant}/account"
        ))
        .into_response());
    };
    let t = kernel::tenant::load(&db, &tenant).await?;
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "resident.account.title"),
        format!("/t/{tenant}/account"),
    )
    .resident(r.claims.name.as_deref());
    let mut rows = Vec::new();
    for (key, v) in [
        ("resident.claims.name", &r.claims.name),
        ("resident.claims.address", &r.claims.address),
    ] {
        if let Some(v) = v {
            rows.push(LabelValue::new(i18n::t(lang, key), v.clone()));
        }
    }
    if let Some(b) = r.claims.birth_date() {
        rows.push(LabelValue::new(
            i18n::t(lang, "resident.claims.birthdate"),
            birth_date_shown(lang, b),
        ));
    }
    if let Some(g) = r.claims.gender_key() {
        rows.push(LabelValue::new(
            i18n::t(lang, "resident.claims.gender"),
            i18n::t(lang, &format!("resident.gender.{g}")),
        ));
    }
    Ok(render(&AccountPage {
        page,
        level: i18n::tf(
            lang,
            "resident.account.level",
            &[(
                "level",
                i18n::t(lang, &format!("procedure.identity.{}", r.level.as_str())),
            )],
        ),
        rows,
    }))
}

/// A birth date as asserted: whole in 和暦 and 西暦, or the part the
/// provider gave, saying which part is missing.
fn birth_date_shown(lang: Lang, b: resident::BirthDate) -> String {
    match b {
        resident::BirthDate::Full(d) => jp::JpDate::from_date(d).both(),
        resident::BirthDate::Year(y) => i18n::tf(
            lang,
            "resident.claims.birth_year_only",
            &[("year", &y.to_string())],
        ),
        resident::BirthDate::MonthDay(m, d) => i18n::tf(
            lang,
            "resident.claims.birth_month_day_only",
            &[("month", &u8::from(m).to_string()), ("day", &d.to_string())],
        ),
    }
}

/// The client's public keys (`private_key_jwt`), for providers that fetch them.
pub async fn jwks(State(st): State<IdentityState>) -> AppResult<Response> {
    let client = st.oidc.as_ref().ok_or(AppError::NotFound("page"))?;
    Ok(Json(client.jwks()).into_response())
}
