//! The Treasurer's slip pages: the settings form
//! (`/t/{tenant}/staff/payments/slips/settings`) and a charge's slip
//! (`/t/{tenant}/staff/payments/charges/{id}/slip.pdf`, audited: it shows
//! the payer's name and address).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use kernel::audit::{self, AuditEntry};
use kernel::auth::Treasurer;
use kernel::error::FieldError;
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, staff_page, Page};
use kernel::{AppError, AppResult};
use serde_json::json;

use super::issues;
use super::settings::{self, SettingsInput};
use super::SlipsState;
use crate::charges;
use crate::slip_pdf::{self, SlipContent};

pub struct FieldLine {
    pub name: &'static str,
    pub label: String,
    pub hint: String,
    pub value: String,
    pub error: String,
    pub multiline: bool,
}

#[derive(Template)]
#[template(path = "slips/staff_settings.html")]
struct SettingsPage {
    page: Page,
    errors: Vec<FieldError>,
    notice: String,
    fields: Vec<FieldLine>,
}

#[derive(Template)]
#[template(path = "slips/staff_message.html")]
struct MessagePage {
    page: Page,
    message: String,
    show_settings_link: bool,
}

async fn settings_view(
    s: &SlipsState,
    who: &Treasurer,
    lang: Lang,
    status: StatusCode,
    notice: String,
    input: SettingsInput,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let tenant = who.tenant.as_str();
    let t = kernel::tenant::load(&s.db, tenant).await?;
    let error_of = |name: &str| {
        errors
            .iter()
            .filter(|e| e.field == name)
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let line = |name: &'static str, keys: [&str; 2], value: String, multiline: bool| FieldLine {
        name,
        label: i18n::t(lang, keys[0]).to_string(),
        hint: i18n::t(lang, keys[1]).to_string(),
        value,
        error: error_of(name),
        multiline,
    };
    let fields = vec![
        line(
            "biller_code",
            ["payments.slips.biller_code", "payments.slips.biller_hint"],
            input.biller_code,
            false,
        ),
        line(
            "collector_number",
            [
                "payments.slips.collector_number",
                "payments.slips.collector_hint",
            ],
            input.collector_number,
            false,
        ),
        line(
            "classes",
            ["payments.slips.classes", "payments.slips.classes_hint"],
            input.classes,
            true,
        ),
    ];
    let page = staff_page(
        lang,
        &t,
        who,
        i18n::t(lang, "payments.slips.settings_title"),
        format!("/t/{tenant}/staff/payments/slips/settings"),
    );
    Ok(render_status(
        status,
        &SettingsPage {
            page,
            errors,
            notice,
            fields,
        },
    ))
}

pub async fn settings_page(
    State(s): State<SlipsState>,
    who: Treasurer,
    lang: Lang,
) -> AppResult<Response> {
    let input = match settings::load(&s.db, &who.tenant).await? {
        Some(cur) => SettingsInput {
            biller_code: cur.biller.as_str().into(),
            collector_number: cur.collector.as_str().into(),
            classes: cur.classes_text(),
        },
        None => SettingsInput::default(),
    };
    settings_view(
        &s,
        &who,
        lang,
        StatusCode::OK,
        String::new(),
        input,
        Vec::new(),
    )
    .await
}

pub async fn settings_post(
    State(s): State<SlipsState>,
    who: Treasurer,
    lang: Lang,
    Form(input): Form<SettingsInput>,
) -> AppResult<Response> {
    let now = kernel::clock::now_ms();
    match settings::save(&s.db, &who.tenant, &who.actor(), lang, &input, now).await {
        Ok(saved) => {
            let shown = SettingsInput {
                biller_code: saved.biller.as_str().into(),
                collector_number: saved.collector.as_str().into(),
                classes: saved.classes_text(),
            };
            let notice = i18n::t(lang, "payments.slips.saved").to_string();
            settings_view(&s, &who, lang, StatusCode::OK, notice, shown, Vec::new()).await
        }
        Err(AppError::Validation(errors)) => {
            tracing::info!(tenant = %who.tenant, fields = errors.len(), "slip settings refused");
            settings_view(
                &s,
                &who,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                String::new(),
                input,
                errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn refusal(
    s: &SlipsState,
    who: &Treasurer,
    lang: Lang,
    key: &str,
    show_settings_link: bool,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&s.db, &who.tenant).await?;
    let page = staff_page(
        lang,
        &t,
        who,
        i18n::t(lang, "payments.slips.error_title"),
        format!("/t/{}/staff/payments/slips/settings", who.tenant),
    );
    Ok(render_status(
        StatusCode::CONFLICT,
        &MessagePage {
            page,
            message: i18n::t(lang, key).to_string(),
            show_settings_link,
        },
    ))
}

/// A charge's slip for what is still owed. Reading it shows the payer's
/// name and address: audited, in the transaction that records the slip as
/// printed (a reprint is a reissue: [`issues`]).
pub async fn slip_pdf(
    State(s): State<SlipsState>,
    who: Treasurer,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let tenant = who.tenant.as_str();
    let charge = charges::get(s.db.read(), tenant, &id)
        .await?
        .ok_or(AppError::NotFound("charge"))?;
    let Some(conf) = settings::load(&s.db, tenant).await? else {
        return refusal(&s, &who, lang, "payments.slips.not_configured", true).await;
    };
    if !charge.status.is_payable() || charge.outstanding() <= 0 {
        return refusal(&s, &who, lang, "payments.slips.not_payable", false).await;
    }
    let vault = s.db.vault().map_err(AppError::Internal)?;
    let payer = charge
        .payer(vault)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("payer of {id}: {e}")))?;
    let t = kernel::tenant::load(&s.db, tenant).await?;
    let now = kernel::clock::now_ms();
    let mut tx = s.db.begin().await?;
    let (reissue, seq) = issues::next(&mut tx, tenant, &id).await?;
    let content = SlipContent::new(&charge, &conf, reissue)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("slip of {id}: {e}")))?;
    let sheet = slip_pdf::sheet(t.name.ja(), &charge, &payer, &content)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("slip of {id}: {e}")))?;
    let pdf = paper::render_sheets(&s.font, "納付書", "ja", &[sheet])
        .map_err(|e| AppError::Internal(anyhow::anyhow!("slip PDF: {e}")))?;
    issues::record(&mut tx, tenant, &id, seq, &content, &who.actor(), now).await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new(who.actor(), "payments.slip.print", format!("charge:{id}")).detail(
                json!({
                    "payment_number": charge.payment_number,
                    "amount": content.amount,
                    "reissue": content.reissue,
                    "barcode": content.barcode.as_ref().map(|b| b.digits().to_string()),
                }),
            ),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"slip-{}.pdf\"", charge.payment_number),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        pdf,
    )
        .into_response())
}
