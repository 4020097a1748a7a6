//! The resident's payment pages (no account needed): find a charge by its
//! 納付番号 and access code (確認コード) from the slip or mail, see what is
//! owed, pay online through the provider, and the result — paid only when
//! the provider's verified webhook said so.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, tenant_page, FormErrors, Page};
use kernel::{AppError, AppResult};

use super::fields::{field, wareki, yen, Fields};
use super::state::PaymentsState;
use crate::charges::{self, Charge};
use crate::number::PaymentNumber;
use crate::online::{self, StartError};

async fn page_of(
    st: &PaymentsState,
    lang: Lang,
    tenant: &str,
    key: &str,
    path: &str,
) -> AppResult<Page> {
    let t = kernel::tenant::load(&st.db, tenant).await?;
    Ok(tenant_page(lang, &t, i18n::t(lang, key), path).crumb(
        t.name.get(lang).to_string(),
        kernel::web::with_lang(&format!("/t/{tenant}"), lang),
    ))
}

fn base(tenant: &str, number: &str, code: &str) -> String {
    format!("/t/{tenant}/pay/{number}/{code}")
}

/// The charge of a payment link, if the number and code match.
async fn charge_of(
    st: &PaymentsState,
    tenant: &str,
    number: &str,
    code: &str,
) -> AppResult<Charge> {
    let n = PaymentNumber::parse(number).ok_or(AppError::NotFound("page"))?;
    if !online::code_matches(&st.access, tenant, n.as_str(), code) {
        tracing::info!(tenant, "payments: payment link with a wrong code");
        return Err(AppError::NotFound("page"));
    }
    charges::by_payment_number(st.db.read(), tenant, &n)
        .await?
        .ok_or(AppError::NotFound("page"))
}

#[derive(Template)]
#[template(path = "payments/pay_find.html")]
struct FindPage {
    page: Page,
    errors: FormErrors,
    number: String,
    code: String,
}

pub async fn find_get(
    State(st): State<PaymentsState>,
    lang: Lang,
    Path(tenant): Path<String>,
) -> AppResult<Response> {
    let page = page_of(
        &st,
        lang,
        &tenant,
        "payments.online.find_title",
        &format!("/t/{tenant}/pay"),
    )
    .await?;
    Ok(render_status(
        StatusCode::OK,
        &FindPage {
            page,
            errors: FormErrors::default(),
            number: String::new(),
            code: String::new(),
        },
    ))
}

pub async fn find_post(
    State(st): State<PaymentsState>,
    lang: Lang,
    Path(tenant): Path<String>,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let number = field(&f, "number").trim().to_string();
    let code = field(&f, "code").trim().to_string();
    let mut errors = FormErrors::default();
    match PaymentNumber::parse(&number) {
        None => errors.push("number", i18n::t(lang, "payments.online.error.number")),
        Some(n) => {
            let found = online::code_matches(&st.access, &tenant, n.as_str(), &code)
                && charges::by_payment_number(st.db.read(), &tenant, &n)
                    .await?
                    .is_some();
            if found {
                let code = online::access_code(&st.access, &tenant, n.as_str());
                return Ok(Redirect::to(&base(&tenant, n.as_str(), &code)).into_response());
            }
            errors.push("code", i18n::t(lang, "payments.online.error.code"));
        }
    }
    tracing::info!(tenant = %tenant, "payments: payment lookup refused");
    let page = page_of(
        &st,
        lang,
        &tenant,
        "payments.online.find_title",
        &format!("/t/{tenant}/pay"),
    )
    .await?
    .with_errors(true);
    Ok(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &FindPage {
            page,
            errors,
            number,
            code,
        },
    ))
}

#[derive(Template)]
#[template(path = "payments/pay_charge.html")]
struct ChargePage {
    page: Page,
    c: Charge,
    number: String,
    status: &'static str,
    outstanding: String,
    due: String,
    action: String,
    online: bool,
    simulated: bool,
}

pub async fn charge_get(
    State(st): State<PaymentsState>,
    lang: Lang,
    Path((tenant, number, code)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let c = charge_of(&st, &tenant, &number, &code).await?;
    let path = base(&tenant, &number, &code);
    let page = page_of(&st, lang, &tenant, "payments.online.charge_title", &path).await?;
    Ok(render_status(
        StatusCode::OK,
        &ChargePage {
            number: PaymentNumber::parse(&c.payment_number)
                .map(|n| n.grouped())
                .unwrap_or_default(),
            status: i18n::t(lang, c.status.label_key()),
            outstanding: yen(c.outstanding()),
            due: wareki(&c.due_date),
            action: format!("{path}/online"),
            online: st.providers.offered().is_some() && c.status.is_payable(),
            simulated: st.simulated(),
            page,
            c,
        },
    ))
}

pub async fn online_post(
    State(st): State<PaymentsState>,
    Path((tenant, number, code)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let c = charge_of(&st, &tenant, &number, &code).await?;
    let path = base(&tenant, &number, &code);
    let provider = st.providers.offered().ok_or(AppError::NotFound("page"))?;
    match online::start(
        &st.db,
        provider.as_ref(),
        &c,
        &format!("{path}/result"),
        kernel::clock::now_ms(),
    )
    .await
    {
        Ok((_, redirect)) => Ok(Redirect::to(&redirect).into_response()),
        // Paid or cancelled meanwhile: the charge's page says how it stands.
        Err(StartError::NotPayable) => Ok(Redirect::to(&path).into_response()),
        Err(StartError::Db(e)) => Err(e.into()),
        Err(StartError::Provider(e)) => Err(AppError::Internal(e.into())),
    }
}

#[derive(Template)]
#[template(path = "payments/pay_result.html")]
struct ResultPage {
    page: Page,
    state: &'static str,
    amount: String,
    back: String,
    simulated: bool,
}

pub async fn result_get(
    State(st): State<PaymentsState>,
    lang: Lang,
    Path((tenant, number, code, id)): Path<(String, String, String, String)>,
) -> AppResult<Response> {
    let c = charge_of(&st, &tenant, &number, &code).await?;
    let attempt = online::get(st.db.read(), &tenant, &id)
        .await?
        .filter(|a| a.charge_id == c.id)
        .ok_or(AppError::NotFound("page"))?;
    let path = base(&tenant, &number, &code);
    let page = page_of(
        &st,
        lang,
        &tenant,
        "payments.online.result_title",
        &format!("{path}/result/{id}"),
    )
    .await?;
    Ok(render_status(
        StatusCode::OK,
        &ResultPage {
            state: attempt.state.as_str(),
            amount: yen(attempt.amount),
            back: path,
            simulated: st
                .providers
                .get(&attempt.provider)
                .is_some_and(|p| p.is_simulator()),
            page,
        },
    ))
}
