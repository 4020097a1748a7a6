//! The treasurer's charge pages (収納・会計担当): the list of charges
//! (the landing page of 公金), a new charge, one charge (status, amounts,
//! payer — opened and audited —, history, receipts) and its cancellation
//! with a reason.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::audit::{self, AuditEntry};
use kernel::auth::Treasurer;
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, staff_page, FormErrors, Page};
use kernel::{AppError, AppResult};
use serde_json::json;

use super::charge_form::{today, ChargeForm};
use super::fields::{field, wareki, when, yen, Fields};
use super::state::PaymentsState;
use crate::charges::{self, Channel, Charge, ChargeError, ChargeStatus, Payer};
use crate::listing::{self, Filter};
use crate::subjects;

fn actor(staff: &Treasurer) -> String {
    format!("staff:{}", staff.id)
}

fn home(tenant: &str) -> String {
    format!("/t/{tenant}/staff/payments")
}

fn charge_path(tenant: &str, id: &str) -> String {
    format!("/t/{tenant}/staff/payments/charges/{id}")
}

async fn frame(
    st: &PaymentsState,
    staff: &Treasurer,
    lang: Lang,
    key: &str,
    path: String,
) -> AppResult<Page> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    Ok(staff_page(lang, &t, staff, i18n::t(lang, key), path))
}

fn charge_error(e: ChargeError) -> AppError {
    match e {
        ChargeError::NotFound => AppError::NotFound("page"),
        ChargeError::Db(e) => AppError::from(e),
        other => AppError::Internal(anyhow::anyhow!(other)),
    }
}

/// A choice of a select: value, label, selected.
struct Opt {
    value: String,
    label: String,
    selected: bool,
}

/// One line of the list as shown.
struct ListLine {
    l: listing::Line,
    status: &'static str,
    amount: String,
    outstanding: String,
    due: String,
}

#[derive(Template)]
#[template(path = "payments/staff_list.html")]
struct ListPage {
    page: Page,
    statuses: Vec<Opt>,
    subjects: Vec<Opt>,
    lines: Vec<ListLine>,
    limit: i64,
    filtered: bool,
}

pub async fn list_get(
    State(st): State<PaymentsState>,
    staff: Treasurer,
    lang: Lang,
    Query(q): Query<Fields>,
) -> AppResult<Response> {
    let status_sent = field(&q, "status");
    let status = match status_sent {
        "" => None,
        s => Some(ChargeStatus::parse(s).ok_or_else(|| {
            AppError::BadRequest(i18n::t(lang, "payments.charges.error.status").to_string())
        })?),
    };
    let subject = Some(field(&q, "subject").to_string()).filter(|s| !s.is_empty());
    let filter = Filter {
        status,
        subject: subject.clone(),
    };
    let page = frame(
        &st,
        &staff,
        lang,
        "payments.charges.list_title",
        home(&staff.tenant),
    )
    .await?;
    let found = listing::list(st.db.read(), &staff.tenant, &filter).await?;
    // The list shows 宛名番号 (a key to a person): the read is audited.
    audit::record(
        &st.db,
        &staff.tenant,
        AuditEntry::new(actor(&staff), "payments.charge.list", "payments").detail(json!({
            "status": status.map(|s| s.as_str()),
            "subject": subject,
            "rows": found.len(),
        })),
    )
    .await?;
    let mut subject_opts = vec![Opt {
        value: String::new(),
        label: i18n::t(lang, "payments.charges.any").to_string(),
        selected: subject.is_none(),
    }];
    for (code, label) in listing::subjects(st.db.read(), &staff.tenant).await? {
        subject_opts.push(Opt {
            selected: subject.as_deref() == Some(code.as_str()),
            value: code,
            label,
        });
    }
    let mut statuses = vec![Opt {
        value: String::new(),
        label: i18n::t(lang, "payments.charges.any").to_string(),
        selected: status.is_none(),
    }];
    statuses.extend(ChargeStatus::ALL.into_iter().map(|s| Opt {
        value: s.as_str().to_string(),
        label: i18n::t(lang, s.label_key()).to_string(),
        selected: status == Some(s),
    }));
    let lines = found
        .into_iter()
        .map(|l| {
            let outstanding = if l.status == ChargeStatus::Cancelled {
                0
            } else {
                (l.amount - (l.paid_amount - l.refunded_amount)).max(0)
            };
            ListLine {
                status: i18n::t(lang, l.status.label_key()),
                amount: yen(l.amount),
                outstanding: yen(outstanding),
                due: wareki(&l.due_date),
                l,
            }
        })
        .collect();
    Ok(render_status(
        StatusCode::OK,
        &ListPage {
            page,
            statuses,
            subjects: subject_opts,
            lines,
            limit: listing::LIMIT,
            filtered: filter.status.is_some() || filter.subject.is_some(),
        },
    ))
}

#[derive(Template)]
#[template(path = "payments/staff_new.html")]
struct NewPage {
    page: Page,
    errors: FormErrors,
    form: ChargeForm,
    subjects: Vec<Opt>,
    max: String,
}

async fn new_page(
    st: &PaymentsState,
    staff: &Treasurer,
    lang: Lang,
    form: ChargeForm,
    errors: FormErrors,
) -> AppResult<Response> {
    let page = frame(
        st,
        staff,
        lang,
        "payments.charges.new_title",
        format!("{}/charges/new", home(&staff.tenant)),
    )
    .await?
    .crumb(
        i18n::t(lang, "payments.charges.list_title"),
        home(&staff.tenant),
    )
    .with_errors(!errors.is_empty());
    let subjects = subjects::ALL
        .into_iter()
        .map(|s| Opt {
            value: s.code.to_string(),
            label: s.label.to_string(),
            selected: form.subject == s.code,
        })
        .collect();
    Ok(render_status(
        errors.status(),
        &NewPage {
            page,
            errors,
            form,
            subjects,
            max: jp::Yen::new(super::charge_form::MAX_AMOUNT)
                .map(|y| y.to_string())
                .unwrap_or_default(),
        },
    ))
}

pub async fn new_get(
    State(st): State<PaymentsState>,
    staff: Treasurer,
    lang: Lang,
) -> AppResult<Response> {
    new_page(
        &st,
        &staff,
        lang,
        ChargeForm::blank(today()),
        FormErrors::default(),
    )
    .await
}

pub async fn new_post(
    State(st): State<PaymentsState>,
    staff: Treasurer,
    lang: Lang,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let form = ChargeForm::from_fields(&f);
    let new = match form.read(lang, today()) {
        Ok(n) => n,
        Err(errors) => {
            tracing::info!(tenant = %staff.tenant, fields = ?errors.0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), "payments: new charge refused");
            return new_page(&st, &staff, lang, form, errors).await;
        }
    };
    let mut tx = st.db.begin().await?;
    let c = charges::create(
        &mut tx,
        &st.vault,
        &staff.tenant,
        &actor(&staff),
        &new,
        kernel::clock::now_ms(),
    )
    .await
    .map_err(charge_error)?;
    tx.commit().await?;
    Ok(Redirect::to(&charge_path(&staff.tenant, &c.id)).into_response())
}

/// A row of the history as shown.
struct EventLine {
    at: String,
    kind: String,
    amount: String,
    actor: String,
    note: String,
}

/// A receipt as shown.
struct ReceiptLine {
    channel: &'static str,
    amount: String,
    paid_on: String,
    source_key: String,
}

#[derive(Template)]
#[template(path = "payments/staff_charge.html")]
struct ChargePage {
    page: Page,
    errors: FormErrors,
    c: Charge,
    payer: Payer,
    status: &'static str,
    amount: String,
    paid: String,
    refunded: String,
    outstanding: String,
    due: String,
    number: String,
    events: Vec<EventLine>,
    receipts: Vec<ReceiptLine>,
    reason: String,
    /// The 確認コード printed beside the number, and the resident's page.
    access_code: String,
    pay_path: String,
}

fn event_kind(lang: Lang, kind: &str) -> String {
    let key = match kind {
        "created" => "payments.charges.event.created",
        "receipt" => "payments.charges.event.receipt",
        "cancelled" => "payments.charges.event.cancelled",
        "refunded" => "payments.charges.event.refunded",
        other => return other.to_string(),
    };
    i18n::t(lang, key).to_string()
}

async fn charge_page(
    st: &PaymentsState,
    staff: &Treasurer,
    lang: Lang,
    id: &str,
    errors: FormErrors,
    reason: String,
) -> AppResult<Response> {
    let c = charges::get(st.db.read(), &staff.tenant, id)
        .await?
        .ok_or(AppError::NotFound("page"))?;
    let payer = c.payer(&st.vault).map_err(charge_error)?;
    audit::record(
        &st.db,
        &staff.tenant,
        AuditEntry::new(actor(staff), "payments.charge.view", id)
            .detail(json!({"payment_number": c.payment_number})),
    )
    .await?;
    let page = frame(
        st,
        staff,
        lang,
        "payments.charges.charge_title",
        charge_path(&staff.tenant, id),
    )
    .await?
    .crumb(
        i18n::t(lang, "payments.charges.list_title"),
        home(&staff.tenant),
    )
    .with_errors(!errors.is_empty());
    let events = charges::events(st.db.read(), &staff.tenant, id)
        .await?
        .into_iter()
        .map(|e| EventLine {
            at: when(lang, e.at),
            kind: event_kind(lang, &e.kind),
            amount: if e.amount > 0 {
                yen(e.amount)
            } else {
                String::new()
            },
            actor: e.actor,
            note: e
                .detail
                .get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or("")
                .to_string(),
        })
        .collect();
    let receipts = listing::receipts(st.db.read(), &staff.tenant, id)
        .await?
        .into_iter()
        .map(|r| ReceiptLine {
            channel: Channel::parse(&r.channel)
                .map(|c| i18n::t(lang, c.label_key()))
                .unwrap_or("—"),
            amount: yen(r.amount),
            paid_on: wareki(&r.paid_on),
            source_key: r.source_key,
        })
        .collect();
    let number = crate::number::PaymentNumber::parse(&c.payment_number)
        .map(|n| n.grouped())
        .unwrap_or_else(|| c.payment_number.clone());
    let code = crate::online::access_code(&st.access, &staff.tenant, &c.payment_number);
    let pay_path = format!("/t/{}/pay/{}/{code}", staff.tenant, c.payment_number);
    Ok(render_status(
        errors.status(),
        &ChargePage {
            page,
            errors,
            status: i18n::t(lang, c.status.label_key()),
            amount: yen(c.amount),
            paid: yen(c.paid_amount),
            refunded: yen(c.refunded_amount),
            outstanding: yen(c.outstanding()),
            due: wareki(&c.due_date),
            number,
            payer,
            events,
            receipts,
            reason,
            access_code: crate::online::grouped(&code),
            pay_path,
            c,
        },
    ))
}

pub async fn charge_get(
    State(st): State<PaymentsState>,
    staff: Treasurer,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<Response> {
    charge_page(&st, &staff, lang, &id, FormErrors::default(), String::new()).await
}

pub async fn cancel_post(
    State(st): State<PaymentsState>,
    staff: Treasurer,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let reason = field(&f, "reason").trim().to_string();
    let mut errors = FormErrors::default();
    let n = reason.chars().count();
    if n == 0 || n > 200 {
        errors.push("reason", i18n::t(lang, "payments.charges.error.reason"));
    }
    if errors.is_empty() {
        let mut tx = st.db.begin().await?;
        match charges::cancel(
            &mut tx,
            &staff.tenant,
            &actor(&staff),
            &id,
            &reason,
            kernel::clock::now_ms(),
        )
        .await
        {
            Ok(_) => {
                tx.commit().await?;
                return Ok(Redirect::to(&charge_path(&staff.tenant, &id)).into_response());
            }
            Err(ChargeError::AlreadyCancelled) => errors.push(
                "reason",
                i18n::t(lang, "payments.charges.error.already_cancelled"),
            ),
            Err(e) => return Err(charge_error(e)),
        }
    }
    tracing::info!(tenant = %staff.tenant, charge = %id, "payments: cancellation refused");
    charge_page(&st, &staff, lang, &id, errors, reason).await
}
