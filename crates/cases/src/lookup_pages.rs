//! Resident pages to find one's applications: 申請状況の確認 (a receipt
//! number and one factor, `/t/{tenant}/status`) and 申請の一覧 (a
//! signed-in resident's own applications, `/t/{tenant}/my`). Thin: the
//! rules are in `crate::lookup`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::i18n::{self, Lang};
use kernel::resident::MaybeResident;
use kernel::tenant::TenantProfile;
use kernel::web::{render, render_status, tenant_page, FormErrors, Page};
use kernel::{AppResult, Db, FieldError};

use crate::applications::{self, Links};
use crate::lookup::{self, Outcome, Typed};
use crate::state::CasesState;
use crate::view::MyCaseLine;

#[derive(Template)]
#[template(path = "status_lookup.html")]
struct LookupPage {
    page: Page,
    errors: FormErrors,
    typed: Typed,
}

fn lookup_page(lang: Lang, t: &TenantProfile) -> Page {
    let tenant = t.code.as_str();
    tenant_page(
        lang,
        t,
        i18n::t(lang, "lookup.title"),
        format!("/t/{tenant}/status"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"))
}

pub async fn status_form(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    lang: Lang,
    who: MaybeResident,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    Ok(render(&LookupPage {
        page: lookup_page(lang, &t).resident(who.name()),
        errors: FormErrors::default(),
        typed: Typed::default(),
    }))
}

pub async fn status_post(
    State(st): State<CasesState>,
    Path(tenant): Path<String>,
    lang: Lang,
    who: MaybeResident,
    Form(typed): Form<Typed>,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let shown = |status: StatusCode, errors: Vec<FieldError>, typed: Typed| {
        render_status(
            status,
            &LookupPage {
                page: lookup_page(lang, &t).with_errors(true).resident(who.name()),
                errors: FormErrors(errors),
                typed,
            },
        )
    };
    let q = match lookup::parse(&typed, lang) {
        Ok(q) => q,
        Err(errors) => return Ok(shown(StatusCode::UNPROCESSABLE_ENTITY, errors, typed)),
    };
    Ok(
        match lookup::look_up(&st.db, &st.lookups, &tenant, &q, lookup::actor(&who)).await? {
            Outcome::Found(app) => {
                Redirect::to(&st.links.case_path(&tenant, &app.id)).into_response()
            }
            Outcome::NoMatch => shown(
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![lookup::no_match(lang)],
                typed,
            ),
            Outcome::Refused(secs) => {
                let mut r = shown(
                    StatusCode::TOO_MANY_REQUESTS,
                    vec![lookup::refused(lang, secs)],
                    typed,
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                r
            }
        },
    )
}

#[derive(Template)]
#[template(path = "my_cases.html")]
struct MyCases {
    page: Page,
    cases: Vec<MyCaseLine>,
}

pub async fn my_list(
    State(db): State<Db>,
    State(links): State<Links>,
    Path(tenant): Path<String>,
    lang: Lang,
    who: MaybeResident,
) -> AppResult<Response> {
    let Some(r) = who.0.as_ref() else {
        return Ok(
            Redirect::to(&format!("/t/{tenant}/sign-in?return_to=/t/{tenant}/my")).into_response(),
        );
    };
    let t = kernel::tenant::load(&db, &tenant).await?;
    let apps = applications::of_resident(&db, &tenant, &r.subject).await?;
    let cases = lines(&db, &links, &tenant, &apps, lang).await?;
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "my.list_title"),
        format!("/t/{tenant}/my"),
    )
    .crumb(t.name.get(lang), format!("/t/{tenant}"))
    .resident(who.name());
    Ok(render(&MyCases { page, cases }))
}

/// The list's lines, each procedure's name in the version applied for.
async fn lines(
    db: &Db,
    links: &Links,
    tenant: &str,
    apps: &[applications::Application],
    lang: Lang,
) -> AppResult<Vec<MyCaseLine>> {
    let mut names: HashMap<(String, i64), String> = HashMap::new();
    let mut out = Vec::with_capacity(apps.len());
    for app in apps {
        let key = (app.procedure_id.clone(), app.procedure_version);
        if !names.contains_key(&key) {
            let p = catalogue::store::get_version(db, tenant, &key.0, key.1).await?;
            names.insert(key.clone(), p.name.get(lang).to_string());
        }
        out.push(MyCaseLine {
            href: links.case_path(tenant, &app.id),
            procedure: names[&key].clone(),
            receipt: app.receipt_display(),
            submitted: kernel::clock::format_in(lang, app.submitted_at),
            status: app.status,
            status_label: i18n::t(lang, &app.status.label_key()),
        });
    }
    Ok(out)
}
