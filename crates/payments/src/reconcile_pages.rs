//! 消込 staff pages (収納・会計担当): upload a bank's or a collection
//! agent's file (a preview first, then the import), the result with the
//! record numbers, and the exception queue where each payment that did not
//! match is resolved with a reason. Reading the queue shows what the bank
//! said about the payer (振込依頼人名): every such read is audited.

use askama::Template;
use axum::extract::{FromRef, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use kernel::audit::{self, AuditEntry};
use kernel::auth::{SessionPolicy, Treasurer};
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, Page};
use kernel::{AppError, AppResult, Db, FieldError};
use serde::Deserialize;
use serde_json::json;

use crate::number::PaymentNumber;
use crate::reconcile::{
    self, Exception, ExceptionStatus, FileKind, ImportError, Imported, Line, Report, Resolution,
    ResolveError, Upload,
};

/// What the reconciliation pages share.
#[derive(Clone, FromRef)]
pub struct ReconcileState {
    pub db: Db,
    pub session: SessionPolicy,
}

pub fn router(state: ReconcileState) -> Router {
    Router::new()
        .route(
            "/t/{tenant}/staff/payments/reconcile",
            get(upload_page).post(upload_post),
        )
        .route(
            "/t/{tenant}/staff/payments/reconcile/exceptions",
            get(exceptions_page),
        )
        .route(
            "/t/{tenant}/staff/payments/reconcile/exceptions/{id}",
            get(exception_page).post(resolve_post),
        )
        .with_state(state)
}

/// An amount as shown (`1,234円`); amounts in the store are never negative.
fn yen(n: i64) -> String {
    jp::Yen::new(n.max(0) as u64)
        .map(|y| y.to_string())
        .unwrap_or_default()
}

struct FileRow {
    file_name: String,
    kind: &'static str,
    payments: i64,
    total: String,
    applied: i64,
    exceptions: i64,
    already: i64,
    at: String,
    by: String,
}

struct LineRow {
    record: usize,
    payment_number: String,
    amount: String,
    kind: &'static str,
}

struct Outcome {
    dry_run: bool,
    file_name: String,
    summary: String,
    applied: Vec<LineRow>,
    exceptions: Vec<LineRow>,
    already: Vec<LineRow>,
}

#[derive(Template)]
#[template(path = "reconcile/upload.html")]
struct UploadPage {
    page: Page,
    errors: Vec<FieldError>,
    kind: String,
    outcome: Option<Outcome>,
    files: Vec<FileRow>,
    open_count: i64,
}

fn kind_label(lang: Lang, kind: &str) -> &'static str {
    match FileKind::parse(kind) {
        Some(FileKind::Zengin) => i18n::t(lang, "payments.reconcile.file_kind.zengin"),
        Some(FileKind::Conveni) => i18n::t(lang, "payments.reconcile.file_kind.conveni"),
        None => "",
    }
}

fn rows(lang: Lang, lines: &[Line]) -> Vec<LineRow> {
    lines
        .iter()
        .take(1000)
        .map(|l| LineRow {
            record: l.record,
            payment_number: l.payment_number.clone(),
            amount: yen(l.amount as i64),
            kind: l.kind.map(|k| i18n::t(lang, k.label_key())).unwrap_or(""),
        })
        .collect()
}

fn outcome(lang: Lang, r: &Report, dry_run: bool) -> Outcome {
    Outcome {
        dry_run,
        file_name: r.file_name.clone(),
        summary: i18n::tf(
            lang,
            if dry_run {
                "payments.reconcile.preview_summary"
            } else {
                "payments.reconcile.import_summary"
            },
            &[
                ("payments", &r.payments.to_string()),
                ("total", &yen(r.total as i64)),
                ("applied", &r.applied.len().to_string()),
                ("applied_total", &yen(r.applied_total as i64)),
                ("exceptions", &r.exceptions.len().to_string()),
                ("already", &r.already.len().to_string()),
            ],
        ),
        applied: rows(lang, &r.applied),
        exceptions: rows(lang, &r.exceptions),
        already: rows(lang, &r.already),
    }
}

async fn upload_view(
    db: &Db,
    staff: &Treasurer,
    lang: Lang,
    status: StatusCode,
    errors: Vec<FieldError>,
    kind: String,
    outcome: Option<Outcome>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let page = kernel::web::staff_page(
        lang,
        &t,
        staff,
        i18n::t(lang, "payments.reconcile.title"),
        format!("/t/{}/staff/payments/reconcile", staff.tenant),
    );
    let files = reconcile::files(db.read(), &staff.tenant, 20)
        .await?
        .into_iter()
        .map(|f| FileRow {
            kind: kind_label(lang, &f.kind),
            file_name: f.file_name,
            payments: f.payments,
            total: yen(f.total),
            applied: f.applied,
            exceptions: f.exceptions,
            already: f.already,
            at: kernel::clock::format_in(lang, f.imported_at),
            by: f.imported_by,
        })
        .collect();
    let open_count =
        reconcile::count_exceptions(db.read(), &staff.tenant, ExceptionStatus::Open).await?;
    Ok(render_status(
        status,
        &UploadPage {
            page,
            errors,
            kind,
            outcome,
            files,
            open_count,
        },
    ))
}

async fn upload_page(State(db): State<Db>, staff: Treasurer, lang: Lang) -> AppResult<Response> {
    upload_view(
        &db,
        &staff,
        lang,
        StatusCode::OK,
        Vec::new(),
        "zengin".into(),
        None,
    )
    .await
}

fn field_error(field: &str, message: String) -> Vec<FieldError> {
    vec![FieldError {
        field: field.into(),
        message,
    }]
}

async fn upload_post(
    State(db): State<Db>,
    staff: Treasurer,
    lang: Lang,
    mp: Multipart,
) -> AppResult<Response> {
    let posted = kernel::web::read_multipart(mp).await?;
    let dry_run = posted.control("dry_run") == "true";
    let kind_text = posted.values.get("kind").cloned().unwrap_or_default();
    let refuse = |status: StatusCode, errors: Vec<FieldError>| {
        upload_view(&db, &staff, lang, status, errors, kind_text.clone(), None)
    };
    let Some(kind) = FileKind::parse(&kind_text) else {
        let e = field_error(
            "kind",
            i18n::t(lang, "payments.reconcile.kind_required").into(),
        );
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, e).await;
    };
    let Some((_, file_name, bytes)) = posted.files.iter().find(|(n, _, _)| n == "file") else {
        let e = field_error(
            "file",
            i18n::t(lang, "payments.reconcile.file_required").into(),
        );
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, e).await;
    };
    let vault = db.vault().map_err(AppError::Internal)?;
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let upload = Upload {
        kind,
        file_name,
        bytes,
    };
    match reconcile::import(&mut tx, vault, &staff.tenant, &staff.actor(), &upload, now).await {
        Ok(Imported::Done(report)) => {
            if dry_run {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            let o = outcome(lang, &report, dry_run);
            upload_view(
                &db,
                &staff,
                lang,
                StatusCode::OK,
                Vec::new(),
                kind_text.clone(),
                Some(o),
            )
            .await
        }
        Ok(Imported::Again(earlier)) => {
            drop(tx);
            tracing::info!(tenant = %staff.tenant, file = %file_name, earlier = %earlier.file_id, "reconcile: the same file again");
            let e = field_error(
                "file",
                i18n::tf(
                    lang,
                    "payments.reconcile.again",
                    &[
                        ("file_name", &earlier.file_name),
                        ("at", &kernel::clock::format_in(lang, earlier.imported_at)),
                        ("by", &earlier.imported_by),
                    ],
                ),
            );
            refuse(StatusCode::CONFLICT, e).await
        }
        Err(ImportError::File(fe)) => {
            drop(tx);
            tracing::info!(tenant = %staff.tenant, file = %file_name, error = %fe, "reconcile: file refused");
            let e = field_error(
                "file",
                i18n::tf(
                    lang,
                    "payments.reconcile.file_error",
                    &[("error", &fe.to_string())],
                ),
            );
            refuse(StatusCode::UNPROCESSABLE_ENTITY, e).await
        }
        Err(ImportError::Db(e)) => Err(e.into()),
        Err(ImportError::Charge(e)) => Err(AppError::Internal(e.into())),
    }
}

struct ExceptionRow {
    id: String,
    record: i64,
    kind: &'static str,
    payment_number: String,
    amount: String,
    paid_on: String,
    payer: String,
}

/// The label of what a file said about a payment (the keys
/// `reconcile` seals with each exception).
fn detail_label(key: &str) -> Option<&'static str> {
    Some(match key {
        "requester_name" => "payments.reconcile.detail.requester_name",
        "requester_code" => "payments.reconcile.detail.requester_code",
        "edi" => "payments.reconcile.detail.edi",
        "from_bank" => "payments.reconcile.detail.from_bank",
        "from_branch" => "payments.reconcile.detail.from_branch",
        "barcode" => "payments.reconcile.detail.barcode",
        "store" => "payments.reconcile.detail.store",
        "paid_at" => "payments.reconcile.detail.paid_at",
        "report" => "payments.reconcile.detail.report",
        _ => return None,
    })
}

fn payer_of(detail: &serde_json::Value) -> String {
    detail["requester_name"]
        .as_str()
        .or_else(|| detail["barcode"].as_str())
        .unwrap_or("")
        .to_string()
}

#[derive(Template)]
#[template(path = "reconcile/exceptions.html")]
struct ExceptionsPage {
    page: Page,
    rows: Vec<ExceptionRow>,
}

async fn exceptions_page(
    State(db): State<Db>,
    staff: Treasurer,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let vault = db.vault().map_err(AppError::Internal)?;
    let list = reconcile::exceptions(db.read(), &staff.tenant, ExceptionStatus::Open, 500).await?;
    let rows: Vec<ExceptionRow> = list
        .iter()
        .map(|e| ExceptionRow {
            id: e.id.clone(),
            record: e.record,
            kind: i18n::t(lang, e.kind.label_key()),
            payment_number: e.payment_number.clone(),
            amount: yen(e.amount),
            paid_on: e.paid_on.clone(),
            payer: payer_of(&e.detail(vault, &staff.tenant)),
        })
        .collect();
    if !rows.is_empty() {
        let mut tx = db.begin().await?;
        audit::append(
            &mut tx,
            &staff.tenant,
            kernel::clock::now_ms(),
            &[AuditEntry::new(
                staff.actor(),
                "payments.reconcile.exceptions.view",
                "payment_exceptions",
            )
            .detail(json!({"count": rows.len()}))],
        )
        .await?;
        tx.commit().await?;
    }
    let page = kernel::web::staff_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "payments.reconcile.exceptions_title"),
        format!("/t/{}/staff/payments/reconcile/exceptions", staff.tenant),
    );
    Ok(render_status(
        StatusCode::OK,
        &ExceptionsPage { page, rows },
    ))
}

#[derive(Template)]
#[template(path = "reconcile/exception.html")]
struct ExceptionPage {
    page: Page,
    errors: Vec<FieldError>,
    ex: ExceptionRow,
    status: &'static str,
    open: bool,
    reason_shown: String,
    charge_number: String,
    detail: Vec<(String, String)>,
    form: ResolveForm,
}

#[derive(Deserialize, Default, Clone)]
struct ResolveForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    payment_number: String,
    #[serde(default)]
    reason: String,
}

async fn exception_view(
    db: &Db,
    staff: &Treasurer,
    lang: Lang,
    id: &str,
    status: StatusCode,
    errors: Vec<FieldError>,
    form: ResolveForm,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let vault = db.vault().map_err(AppError::Internal)?;
    let e: Exception = reconcile::exception(db.read(), &staff.tenant, id)
        .await?
        .ok_or(AppError::NotFound("exception"))?;
    let detail = e.detail(vault, &staff.tenant);
    let mut tx = db.begin().await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        kernel::clock::now_ms(),
        &[AuditEntry::new(
            staff.actor(),
            "payments.reconcile.exception.view",
            &e.id,
        )],
    )
    .await?;
    tx.commit().await?;
    let charge_number = match &e.charge_id {
        Some(c) => crate::charges::get(db.read(), &staff.tenant, c)
            .await?
            .map(|c| c.payment_number)
            .unwrap_or_default(),
        None => String::new(),
    };
    let detail_rows = detail
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| {
                    let v = v.as_str().unwrap_or("").trim();
                    let key = detail_label(k)?;
                    (!v.is_empty()).then(|| (i18n::t(lang, key).to_string(), v.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let page = kernel::web::staff_page(
        lang,
        &t,
        staff,
        i18n::t(lang, "payments.reconcile.exception_title"),
        format!("/t/{}/staff/payments/reconcile/exceptions", staff.tenant),
    );
    Ok(render_status(
        status,
        &ExceptionPage {
            page,
            errors,
            status: i18n::t(lang, e.status.label_key()),
            open: e.status == ExceptionStatus::Open,
            reason_shown: e.reason.clone().unwrap_or_default(),
            charge_number,
            ex: ExceptionRow {
                id: e.id.clone(),
                record: e.record,
                kind: i18n::t(lang, e.kind.label_key()),
                payment_number: e.payment_number.clone(),
                amount: yen(e.amount),
                paid_on: e.paid_on.clone(),
                payer: payer_of(&detail),
            },
            detail: detail_rows,
            form,
        },
    ))
}

async fn exception_page(
    State(db): State<Db>,
    staff: Treasurer,
    lang: Lang,
    Path((_tenant, id)): Path<(String, String)>,
) -> AppResult<Response> {
    exception_view(
        &db,
        &staff,
        lang,
        &id,
        StatusCode::OK,
        Vec::new(),
        ResolveForm::default(),
    )
    .await
}

async fn resolve_post(
    State(db): State<Db>,
    staff: Treasurer,
    lang: Lang,
    Path((_tenant, id)): Path<(String, String)>,
    Form(form): Form<ResolveForm>,
) -> AppResult<Response> {
    let msg = |k: &str| i18n::t(lang, k).to_string();
    let mut errors = Vec::new();
    let resolution = match form.action.as_str() {
        "apply" => match PaymentNumber::parse(&form.payment_number) {
            Some(n) => Some(Resolution::Apply(n)),
            None => {
                errors.push(FieldError {
                    field: "payment_number".into(),
                    message: msg("payments.reconcile.number_invalid"),
                });
                None
            }
        },
        "refund_due" => Some(Resolution::RefundDue),
        "ignore" => Some(Resolution::Ignore),
        _ => {
            errors.push(FieldError {
                field: "action".into(),
                message: msg("payments.reconcile.action_required"),
            });
            None
        }
    };
    if form.reason.trim().is_empty() {
        errors.push(FieldError {
            field: "reason".into(),
            message: msg("payments.reconcile.reason_required"),
        });
    } else if form.reason.chars().count() > 500 {
        errors.push(FieldError {
            field: "reason".into(),
            message: msg("payments.reconcile.reason_too_long"),
        });
    }
    let refuse = |errors: Vec<FieldError>, status: StatusCode| {
        exception_view(&db, &staff, lang, &id, status, errors, form.clone())
    };
    let Some(resolution) = resolution.filter(|_| errors.is_empty()) else {
        return refuse(errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let mut tx = db.begin().await?;
    let now = kernel::clock::now_ms();
    match reconcile::resolve(
        &mut tx,
        &staff.tenant,
        &staff.actor(),
        &id,
        &resolution,
        &form.reason,
        now,
    )
    .await
    {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!(
                "/t/{}/staff/payments/reconcile/exceptions",
                staff.tenant
            ))
            .into_response())
        }
        Err(e) => {
            drop(tx);
            let (field, key, status) = match e {
                ResolveError::NotFound => return Err(AppError::NotFound("exception")),
                ResolveError::AlreadyResolved => (
                    "action",
                    "payments.reconcile.already_resolved",
                    StatusCode::CONFLICT,
                ),
                ResolveError::NoReason => (
                    "reason",
                    "payments.reconcile.reason_required",
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                ResolveError::UnknownCharge => (
                    "payment_number",
                    "payments.reconcile.number_unknown",
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                ResolveError::NothingToApply => (
                    "action",
                    "payments.reconcile.nothing_to_apply",
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                ResolveError::Db(e) => return Err(e.into()),
                ResolveError::Charge(e) => return Err(AppError::Internal(e.into())),
            };
            refuse(
                vec![FieldError {
                    field: field.into(),
                    message: msg(key),
                }],
                status,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn yen_has_thousands_separators() {
        assert_eq!(super::yen(0), "0円");
        assert_eq!(super::yen(1_234_567), "1,234,567円");
        assert_eq!(super::yen(300), "300円");
        assert_eq!(super::yen(-5), "0円");
    }
}
