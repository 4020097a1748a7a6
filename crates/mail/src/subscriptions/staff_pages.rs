//! The back office of subscriptions, for the system administrator:
//! categories (add, rename in every language, reorder, deactivate; delete
//! only what nobody uses), the subscribers (counts per category, the list
//! with masked addresses, one opened — each view audited — and whether an
//! address is suppressed) and the import of an existing list.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::SystemAdmin;
use kernel::i18n::{self, Lang, Text};
use kernel::web::{render_status, staff_page, FormErrors, Page};
use kernel::{AppError, AppResult};

use super::admin::{self, CategoryCount, Listed, StateCount};
use super::categories::{self, Category, Delete};
use super::form::{field, Fields};
use super::import::{self, Outcome};
use super::state::SubscriptionsState;
use super::subscribers::SubState;

fn actor(staff: &SystemAdmin) -> String {
    format!("staff:{}", staff.id)
}

async fn frame(
    st: &SubscriptionsState,
    staff: &SystemAdmin,
    lang: Lang,
    key: &str,
    path: String,
) -> AppResult<Page> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    Ok(staff_page(lang, &t, staff, i18n::t(lang, key), path))
}

/// A name field per language.
struct NameField {
    lang: Lang,
    /// `name_<code>`.
    name: String,
    value: String,
}

fn name_fields(names: Option<&Text>) -> Vec<NameField> {
    Lang::ALL
        .iter()
        .map(|l| NameField {
            lang: *l,
            name: format!("name_{}", l.code()),
            value: names
                .and_then(|n| n.get_exact(l.code()))
                .unwrap_or("")
                .to_string(),
        })
        .collect()
}

/// The names sent, or the error of the Japanese one (required).
fn names_from(lang: Lang, f: &Fields, errors: &mut FormErrors) -> Text {
    let ja = field(f, "name_ja").trim();
    if ja.is_empty() || ja.chars().count() > 40 {
        errors.push("name_ja", i18n::t(lang, "mail.subscriptions.error.name"));
    }
    let mut names = Text::ja_only(ja);
    for l in Lang::ALL.iter().skip(1) {
        let v = field(f, &format!("name_{}", l.code())).trim();
        names.set(l.code(), v.chars().take(80).collect::<String>());
    }
    names
}

/// One line of the categories table.
struct CategoryLine {
    c: Category,
    name: String,
    subscribers: i64,
    first: bool,
    last: bool,
}

#[derive(Template)]
#[template(path = "subscriptions/staff_categories.html")]
struct CategoriesPage {
    page: Page,
    errors: FormErrors,
    notice: String,
    lines: Vec<CategoryLine>,
    code: String,
    names: Vec<NameField>,
}

/// What the categories page shows besides the categories: the add form
/// as sent (with its errors) and a notice.
#[derive(Default)]
struct CategoriesView {
    errors: FormErrors,
    notice: String,
    code: String,
    names: Option<Text>,
}

async fn categories_page(
    st: &SubscriptionsState,
    staff: &SystemAdmin,
    lang: Lang,
    status: StatusCode,
    v: CategoriesView,
) -> AppResult<Response> {
    let CategoriesView {
        errors,
        notice,
        code,
        names,
    } = v;
    let page = frame(
        st,
        staff,
        lang,
        "mail.subscriptions.staff.categories_title",
        format!("/t/{}/staff/mail/categories", staff.tenant),
    )
    .await?
    .with_errors(!errors.is_empty());
    let counts = admin::category_counts(&st.db, &staff.tenant, lang).await?;
    let all = categories::list(&st.db, &staff.tenant).await?;
    let n = all.len();
    let lines = all
        .into_iter()
        .enumerate()
        .map(|(i, c)| CategoryLine {
            name: c.name(lang).to_string(),
            subscribers: counts
                .iter()
                .find(|x| x.code == c.code)
                .map(|x| x.subscribers)
                .unwrap_or(0),
            c,
            first: i == 0,
            last: i + 1 == n,
        })
        .collect();
    Ok(render_status(
        status,
        &CategoriesPage {
            page,
            errors,
            notice,
            lines,
            code,
            names: name_fields(names.as_ref()),
        },
    ))
}

pub async fn categories_get(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
) -> AppResult<Response> {
    categories_page(&st, &staff, lang, StatusCode::OK, CategoriesView::default()).await
}

pub async fn category_add(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let code = field(&f, "code").trim().to_string();
    if !categories::is_code(&code) {
        errors.push("code", i18n::t(lang, "mail.subscriptions.error.code"));
    }
    let names = names_from(lang, &f, &mut errors);
    if errors.is_empty()
        && !categories::add(&st.db, &staff.tenant, &actor(&staff), &code, &names).await?
    {
        errors.push(
            "code",
            i18n::tf(
                lang,
                "mail.subscriptions.error.code_taken",
                &[("code", &code)],
            ),
        );
    }
    if !errors.is_empty() {
        return categories_page(
            &st,
            &staff,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            CategoriesView {
                errors,
                code,
                names: Some(names),
                ..Default::default()
            },
        )
        .await;
    }
    Ok(Redirect::to(&format!("/t/{}/staff/mail/categories", staff.tenant)).into_response())
}

#[derive(Template)]
#[template(path = "subscriptions/staff_category.html")]
struct CategoryPage {
    page: Page,
    errors: FormErrors,
    code: String,
    names: Vec<NameField>,
}

async fn category_page(
    st: &SubscriptionsState,
    staff: &SystemAdmin,
    lang: Lang,
    code: &str,
    errors: FormErrors,
    names: &Text,
) -> AppResult<Response> {
    let path = format!("/t/{}/staff/mail/categories/{code}", staff.tenant);
    let page = frame(
        st,
        staff,
        lang,
        "mail.subscriptions.staff.category_title",
        path,
    )
    .await?
    .crumb(
        i18n::t(lang, "mail.subscriptions.staff.categories_title"),
        format!("/t/{}/staff/mail/categories", staff.tenant),
    )
    .with_errors(!errors.is_empty());
    Ok(render_status(
        errors.status(),
        &CategoryPage {
            page,
            errors,
            code: code.to_string(),
            names: name_fields(Some(names)),
        },
    ))
}

pub async fn category_get(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
    Path((_t, code)): Path<(String, String)>,
) -> AppResult<Response> {
    let c = categories::get(&st.db, &staff.tenant, &code)
        .await?
        .ok_or(AppError::NotFound("page"))?;
    category_page(&st, &staff, lang, &code, FormErrors::default(), &c.names).await
}

pub async fn category_rename(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
    Path((_t, code)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    categories::get(&st.db, &staff.tenant, &code)
        .await?
        .ok_or(AppError::NotFound("page"))?;
    let mut errors = FormErrors::default();
    let names = names_from(lang, &f, &mut errors);
    if !errors.is_empty() {
        return category_page(&st, &staff, lang, &code, errors, &names).await;
    }
    categories::rename(&st.db, &staff.tenant, &actor(&staff), &code, &names).await?;
    Ok(Redirect::to(&format!("/t/{}/staff/mail/categories", staff.tenant)).into_response())
}

pub async fn category_move(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
    Path((_t, code)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let up = match field(&f, "direction") {
        "up" => true,
        "down" => false,
        _ => {
            return Err(AppError::BadRequest(
                i18n::t(lang, "mail.subscriptions.error.direction").to_string(),
            ))
        }
    };
    if !categories::shift(&st.db, &staff.tenant, &actor(&staff), &code, up).await? {
        return Err(AppError::NotFound("page"));
    }
    Ok(Redirect::to(&format!("/t/{}/staff/mail/categories", staff.tenant)).into_response())
}

pub async fn category_active(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
    Path((_t, code)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let on = match field(&f, "active") {
        "1" => true,
        "0" => false,
        _ => {
            return Err(AppError::BadRequest(
                i18n::t(lang, "mail.subscriptions.error.active").to_string(),
            ))
        }
    };
    if !categories::set_active(&st.db, &staff.tenant, &actor(&staff), &code, on).await? {
        return Err(AppError::NotFound("page"));
    }
    Ok(Redirect::to(&format!("/t/{}/staff/mail/categories", staff.tenant)).into_response())
}

pub async fn category_delete(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
    Path((_t, code)): Path<(String, String)>,
) -> AppResult<Response> {
    match categories::delete(&st.db, &staff.tenant, &actor(&staff), &code).await? {
        Delete::Deleted => {
            Ok(Redirect::to(&format!("/t/{}/staff/mail/categories", staff.tenant)).into_response())
        }
        Delete::NotFound => Err(AppError::NotFound("page")),
        Delete::InUse => {
            categories_page(
                &st,
                &staff,
                lang,
                StatusCode::CONFLICT,
                CategoriesView {
                    notice: i18n::tf(lang, "mail.subscriptions.staff.in_use", &[("code", &code)]),
                    ..Default::default()
                },
            )
            .await
        }
    }
}

/// A line of the subscriber list as shown.
struct ListLine {
    l: Listed,
    state: &'static str,
    lang: String,
    consent: String,
    categories: String,
}

#[derive(Template)]
#[template(path = "subscriptions/staff_subscribers.html")]
struct SubscribersPage {
    page: Page,
    counts: Vec<CategoryCount>,
    states: Vec<(StateCount, &'static str)>,
    lines: Vec<ListLine>,
    limit: i64,
}

fn state_label(lang: Lang, s: SubState) -> &'static str {
    i18n::t(
        lang,
        match s {
            SubState::Pending => "mail.subscriptions.state.pending",
            SubState::Active => "mail.subscriptions.state.active",
            SubState::Unsubscribed => "mail.subscriptions.state.unsubscribed",
        },
    )
}

fn date(ms: Option<i64>) -> String {
    ms.map(|ms| {
        let d = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .map(|t| t.to_offset(time::macros::offset!(+9)).date());
        d.map(|d| format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
            .unwrap_or_default()
    })
    .unwrap_or_default()
}

fn lang_name(code: &str) -> String {
    Lang::parse(code)
        .map(|l| l.native_name().to_string())
        .unwrap_or_else(|| code.to_string())
}

pub async fn subscribers_get(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
) -> AppResult<Response> {
    let page = frame(
        &st,
        &staff,
        lang,
        "mail.subscriptions.staff.subscribers_title",
        format!("/t/{}/staff/mail/subscribers", staff.tenant),
    )
    .await?;
    let counts = admin::category_counts(&st.db, &staff.tenant, lang).await?;
    let states = admin::state_counts(&st.db, &staff.tenant)
        .await?
        .into_iter()
        .map(|s| {
            let label = state_label(lang, s.state);
            (s, label)
        })
        .collect();
    let names: Vec<(String, String)> = counts
        .iter()
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect();
    let lines = admin::list(&st.db, &st.vault, &staff.tenant, &actor(&staff))
        .await?
        .into_iter()
        .map(|l| ListLine {
            state: state_label(lang, l.state),
            lang: lang_name(&l.lang),
            consent: format!(
                "{} {}",
                date(l.consent_at),
                source_label(lang, &l.consent_source)
            ),
            categories: l
                .categories
                .iter()
                .map(|c| {
                    names
                        .iter()
                        .find(|(k, _)| k == c)
                        .map(|(_, n)| n.as_str())
                        .unwrap_or(c)
                })
                .collect::<Vec<_>>()
                .join("、"),
            l,
        })
        .collect();
    Ok(render_status(
        StatusCode::OK,
        &SubscribersPage {
            page,
            counts,
            states,
            lines,
            limit: admin::LIST_LIMIT,
        },
    ))
}

/// How consent was given, in words.
fn source_label(lang: Lang, s: &str) -> &'static str {
    i18n::t(
        lang,
        match s {
            "import" => "mail.subscriptions.source.import",
            "line" => "mail.subscriptions.source.line",
            _ => "mail.subscriptions.source.web",
        },
    )
}

#[derive(Template)]
#[template(path = "subscriptions/staff_subscriber.html")]
struct SubscriberPage {
    page: Page,
    id: String,
    address: String,
    state: &'static str,
    lang: String,
    consent: String,
    categories: Vec<String>,
    suppressed: bool,
}

pub async fn subscriber_get(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let (s, address, suppressed) =
        admin::open(&st.db, &st.vault, &staff.tenant, &actor(&staff), &id)
            .await?
            .ok_or(AppError::NotFound("page"))?;
    let page = frame(
        &st,
        &staff,
        lang,
        "mail.subscriptions.staff.subscriber_title",
        format!("/t/{}/staff/mail/subscribers/{id}", staff.tenant),
    )
    .await?
    .crumb(
        i18n::t(lang, "mail.subscriptions.staff.subscribers_title"),
        format!("/t/{}/staff/mail/subscribers", staff.tenant),
    );
    let all = categories::list(&st.db, &staff.tenant).await?;
    Ok(render_status(
        StatusCode::OK,
        &SubscriberPage {
            page,
            address: address.as_str().to_string(),
            state: state_label(lang, s.state),
            lang: s.lang.native_name().to_string(),
            consent: format!(
                "{} {}",
                date(s.consent_at),
                source_label(lang, &s.consent_source)
            ),
            categories: s
                .categories
                .iter()
                .map(|c| {
                    all.iter()
                        .find(|x| &x.code == c)
                        .map(|x| x.name(lang).to_string())
                        .unwrap_or_else(|| c.clone())
                })
                .collect(),
            suppressed,
            id,
        },
    ))
}

#[derive(Template)]
#[template(path = "subscriptions/staff_import.html")]
struct ImportPage {
    page: Page,
    errors: FormErrors,
    problems: Vec<String>,
    notice: String,
    csv: String,
    dry_run: bool,
    header: String,
}

/// What the import page shows: the mistakes or the notice of a run, and
/// the form as it stays.
struct ImportView {
    problems: Vec<String>,
    notice: String,
    csv: String,
    dry_run: bool,
}

async fn import_page(
    st: &SubscriptionsState,
    staff: &SystemAdmin,
    lang: Lang,
    status: StatusCode,
    v: ImportView,
) -> AppResult<Response> {
    let ImportView {
        problems,
        notice,
        csv,
        dry_run,
    } = v;
    let mut errors = FormErrors::default();
    if !problems.is_empty() {
        errors.push(
            "csv",
            i18n::tf(
                lang,
                "mail.subscriptions.import.refused",
                &[("count", &problems.len().to_string())],
            ),
        );
    }
    let page = frame(
        st,
        staff,
        lang,
        "mail.subscriptions.staff.import_title",
        format!("/t/{}/staff/mail/subscribers/import", staff.tenant),
    )
    .await?
    .crumb(
        i18n::t(lang, "mail.subscriptions.staff.subscribers_title"),
        format!("/t/{}/staff/mail/subscribers", staff.tenant),
    )
    .with_errors(!errors.is_empty());
    Ok(render_status(
        status,
        &ImportPage {
            page,
            errors,
            problems,
            notice,
            csv,
            dry_run,
            header: import::HEADER.join(","),
        },
    ))
}

pub async fn import_get(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
) -> AppResult<Response> {
    import_page(
        &st,
        &staff,
        lang,
        StatusCode::OK,
        ImportView {
            problems: Vec::new(),
            notice: String::new(),
            csv: String::new(),
            dry_run: true,
        },
    )
    .await
}

pub async fn import_post(
    State(st): State<SubscriptionsState>,
    staff: SystemAdmin,
    lang: Lang,
    Form(f): Form<Fields>,
) -> AppResult<Response> {
    let csv = field(&f, "csv").to_string();
    let dry_run = field(&f, "dry_run") == "1";
    match import::import(
        &st.db,
        &st.vault,
        &staff.tenant,
        &actor(&staff),
        lang,
        &csv,
        dry_run,
    )
    .await?
    {
        Outcome::Refused(problems) => {
            import_page(
                &st,
                &staff,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                ImportView {
                    problems,
                    notice: String::new(),
                    csv,
                    dry_run,
                },
            )
            .await
        }
        Outcome::Ok { rows } => {
            let key = if dry_run {
                "mail.subscriptions.import.checked"
            } else {
                "mail.subscriptions.import.done"
            };
            let notice = i18n::tf(lang, key, &[("count", &rows.to_string())]);
            // After a dry run the text stays, ready to import.
            let keep = if dry_run { csv } else { String::new() };
            import_page(
                &st,
                &staff,
                lang,
                StatusCode::OK,
                ImportView {
                    problems: Vec::new(),
                    notice,
                    csv: keep,
                    dry_run: false,
                },
            )
            .await
        }
    }
}
