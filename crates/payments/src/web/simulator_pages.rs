//! The simulator's own page (as a provider's payment page would be):
//! SIMULATOR in its title and on the page, the amount and what for, and
//! three choices — pay, pay without sending the notification, decline.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, tenant_page, Page};
use kernel::{AppError, AppResult};

use super::fields::{field, yen, Fields};
use super::state::PaymentsState;
use crate::simulator::{SimPayment, Simulator};
use crate::webhooks;

fn simulator(st: &PaymentsState) -> AppResult<&Simulator> {
    st.simulator.as_ref().ok_or(AppError::NotFound("page"))
}

#[derive(Template)]
#[template(path = "payments/simulator.html")]
struct SimulatorPage {
    page: Page,
    p: SimPayment,
    amount: String,
    action: String,
}

pub async fn simulator_get(
    State(st): State<PaymentsState>,
    lang: Lang,
    Path((tenant, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let sim = simulator(&st)?;
    let p = sim
        .payment(&tenant, &id)
        .await?
        .ok_or(AppError::NotFound("page"))?;
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let path = format!("/t/{tenant}/payments/simulator/{id}");
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "payments.online.simulator.title"),
        &path,
    );
    Ok(render_status(
        StatusCode::OK,
        &SimulatorPage {
            page,
            amount: yen(p.amount),
            action: path,
            p,
        },
    ))
}

pub async fn simulator_post(
    State(st): State<PaymentsState>,
    lang: Lang,
    Path((tenant, id)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let sim = simulator(&st)?;
    let (pay, notify) = match field(&f, "decision") {
        "pay" => (true, true),
        "pay_silently" => (true, false),
        "decline" => (false, true),
        _ => {
            return Err(AppError::BadRequest(
                i18n::t(lang, "payments.online.simulator.error_decision").to_string(),
            ))
        }
    };
    let p = sim
        .payment(&tenant, &id)
        .await?
        .ok_or(AppError::NotFound("page"))?;
    let now = kernel::clock::now_ms();
    if let Some((body, headers)) = sim.decide(&tenant, &id, pay, now).await? {
        if notify {
            // The same verification and code as a webhook over HTTP.
            webhooks::receive(
                &st.db,
                &st.providers,
                &tenant,
                crate::simulator::NAME,
                &headers,
                &body,
                now,
            )
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        }
    }
    Ok(Redirect::to(&p.return_path).into_response())
}
