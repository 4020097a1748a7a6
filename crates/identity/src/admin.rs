//! Staff administration for the DX/system admin: accounts, roles,
//! department grants, unlocking, second-factor reset, deactivation.
//! Every action is in the audit log.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use kernel::auth::account::{self, AdminAction, NewStaff, StaffSummary};
use kernel::auth::{Role, SystemAdmin};
use kernel::i18n::{self, Lang};
use kernel::tenant::TenantProfile;
use kernel::web::Choice;
use kernel::web::{render_status, FormErrors, Page};
use kernel::{AppError, AppResult, Db};

use kernel::web::tenant_page;

pub struct Row {
    id: String,
    name: String,
    department: String,
    grants: String,
    roles: String,
    status: String,
    active: bool,
}

impl Row {
    fn new(lang: Lang, t: &TenantProfile, s: StaffSummary, now: i64) -> Row {
        let dept_name = |code: &str| {
            t.departments
                .iter()
                .find(|d| d.code == code)
                .map(|d| d.name.get(lang).to_string())
                .unwrap_or_else(|| code.to_string())
        };
        Row {
            department: dept_name(&s.department),
            grants: s
                .granted_departments
                .iter()
                .map(|d| dept_name(d))
                .collect::<Vec<_>>()
                .join("、"),
            roles: s
                .roles
                .iter()
                .map(|r| i18n::t(lang, r.label_key()))
                .collect::<Vec<_>>()
                .join("・"),
            status: status_text(lang, &s, now),
            active: s.active,
            id: s.id,
            name: s.name,
        }
    }
}

/// Active or not, second factor or not, and the lock's end if locked.
fn status_text(lang: Lang, s: &StaffSummary, now: i64) -> String {
    let active = if s.active {
        "staff_admin.active"
    } else {
        "staff_admin.inactive"
    };
    let mfa = if s.mfa {
        "staff_admin.mfa_on"
    } else {
        "staff_admin.mfa_off"
    };
    let mut status = vec![
        i18n::t(lang, active).to_string(),
        i18n::t(lang, mfa).to_string(),
    ];
    if let Some(until) = s.locked_until.filter(|u| *u > now) {
        status.push(i18n::tf(
            lang,
            "staff_admin.locked_until",
            &[("time", &kernel::clock::format_in(lang, until))],
        ));
    }
    status.join("・")
}

#[derive(Template)]
#[template(path = "staff_admin.html")]
struct AdminPage {
    page: Page,
    errors: FormErrors,
    notice: String,
    rows: Vec<Row>,
    departments: Vec<Choice>,
    role_choices: Vec<Choice>,
    new_id: String,
    new_name: String,
}

#[derive(Default)]
struct Draft {
    id: String,
    name: String,
    department: String,
    roles: Vec<Role>,
}

async fn page(
    db: &Db,
    admin: &SystemAdmin,
    lang: Lang,
    errors: FormErrors,
    notice: String,
    draft: Draft,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &admin.tenant).await?;
    let now = kernel::clock::now_ms();
    let rows = account::list_staff(db, admin)
        .await?
        .into_iter()
        .map(|s| Row::new(lang, &t, s, now))
        .collect();
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "staff_admin.title"),
        format!("/t/{}/staff/admin", admin.tenant),
    )
    .for_staff(admin)
    .with_errors(!errors.is_empty());
    let status = errors.status();
    Ok(render_status(
        status,
        &AdminPage {
            page,
            errors,
            notice,
            rows,
            departments: Choice::select(
                t.departments
                    .iter()
                    .map(|d| Choice::new(&d.code, d.name.get(lang)))
                    .collect(),
                &draft.department,
            ),
            role_choices: Role::ALL
                .iter()
                .map(|r| {
                    Choice::new(r.as_str(), i18n::t(lang, r.label_key()))
                        .selected(draft.roles.contains(r))
                })
                .collect(),
            new_id: draft.id,
            new_name: draft.name,
        },
    ))
}

pub async fn admin_get(
    State(db): State<Db>,
    admin: SystemAdmin,
    lang: Lang,
) -> AppResult<Response> {
    page(
        &db,
        &admin,
        lang,
        FormErrors::default(),
        String::new(),
        Draft::default(),
    )
    .await
}

/// Creates an account. Repeated `roles` fields: read as pairs.
pub async fn create_post(
    State(db): State<Db>,
    admin: SystemAdmin,
    lang: Lang,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let new = NewStaff {
        id: get("id"),
        name: get("name"),
        department: get("department"),
        roles: pairs
            .iter()
            .filter(|(n, _)| n == "roles")
            .filter_map(|(_, v)| Role::parse(v))
            .collect(),
        password: pairs
            .iter()
            .find(|(n, _)| n == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    };
    match account::create_staff(&db, &admin, &new, lang).await {
        Ok(()) => {
            let notice = i18n::tf(lang, "staff_admin.created", &[("id", &new.id)]);
            page(
                &db,
                &admin,
                lang,
                FormErrors::default(),
                notice,
                Draft::default(),
            )
            .await
        }
        Err(AppError::Validation(errs)) => {
            let draft = Draft {
                id: new.id,
                name: new.name,
                department: new.department,
                roles: new.roles,
            };
            page(&db, &admin, lang, FormErrors(errs), String::new(), draft).await
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    department: String,
}

pub async fn action_post(
    State(db): State<Db>,
    admin: SystemAdmin,
    lang: Lang,
    Path((_tenant, staff_id)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> AppResult<Response> {
    let outcome = match chosen_action(&f, &staff_id, lang) {
        Ok(action) => apply(&db, &admin, &staff_id, action, lang).await,
        Err(errors) => Err(errors),
    };
    match outcome {
        Ok(()) => {
            let notice = i18n::tf(lang, "staff_admin.done", &[("id", &staff_id)]);
            let errors = FormErrors::default();
            page(&db, &admin, lang, errors, notice, Draft::default()).await
        }
        Err(AppError::Validation(errs)) => {
            let errors = FormErrors(errs);
            page(&db, &admin, lang, errors, String::new(), Draft::default()).await
        }
        Err(e) => Err(e),
    }
}

/// What the admin chose for one account.
enum Chosen {
    Account(AdminAction),
    SignOutEverywhere,
}

/// The form's action, or the field error that says what is missing.
fn chosen_action(f: &ActionForm, staff_id: &str, lang: Lang) -> Result<Chosen, AppError> {
    let needs_dept = matches!(f.action.as_str(), "grant" | "revoke");
    if needs_dept && f.department.is_empty() {
        let field = format!("dept-{staff_id}");
        let message = i18n::t(lang, "staff_admin.department_required");
        return Err(field_error(&field, message));
    }
    Ok(Chosen::Account(match f.action.as_str() {
        "unlock" => AdminAction::Unlock,
        "reset_mfa" => AdminAction::ResetMfa,
        "deactivate" => AdminAction::Deactivate,
        "activate" => AdminAction::Activate,
        "grant" => AdminAction::Grant(f.department.clone()),
        "revoke" => AdminAction::Revoke(f.department.clone()),
        "sign_out_everywhere" => return Ok(Chosen::SignOutEverywhere),
        _ => {
            let field = format!("action-{staff_id}");
            let message = i18n::t(lang, "staff_admin.action_required");
            return Err(field_error(&field, message));
        }
    }))
}

fn field_error(field: &str, message: &str) -> AppError {
    let mut errors = FormErrors::default();
    errors.push(field, message);
    AppError::Validation(errors.0)
}

/// Carries out the action; a refusal comes back as a field error on the
/// account's row (the department field for grants, the action otherwise).
async fn apply(
    db: &Db,
    admin: &SystemAdmin,
    staff_id: &str,
    action: Chosen,
    lang: Lang,
) -> AppResult<()> {
    let action = match action {
        Chosen::SignOutEverywhere => {
            let staff = account::list_staff(db, admin).await?;
            if !staff.iter().any(|s| s.id == staff_id) {
                return Err(AppError::NotFound("staff"));
            }
            kernel::auth::sign_out_everywhere(db, &admin.tenant, staff_id, &admin.actor()).await?;
            return Ok(());
        }
        Chosen::Account(action) => action,
    };
    match account::administer(db, admin, staff_id, action, lang).await {
        Err(AppError::Validation(errs)) => Err(AppError::Validation(
            errs.into_iter()
                .map(|mut e| {
                    e.field = format!("dept-{staff_id}");
                    e
                })
                .collect(),
        )),
        Err(AppError::BadRequest(m)) => Err(field_error(&format!("action-{staff_id}"), &m)),
        other => other,
    }
}
