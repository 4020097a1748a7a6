//! The back office of the FAQ: every entry with its helpful / not helpful
//! counts, create and edit (translations, audience, publish or withdraw),
//! the version history with restore, and the knowledge section every
//! member of staff may read. Editing follows the catalogue's rule: a
//! department admin edits their department's entries, a system admin any.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::{DeptAdmin, Staff};
use kernel::i18n::{self, Lang, Text};
use kernel::web::{render_status, FormErrors, Page};
use kernel::web::{Choice, VersionLine};
use kernel::{AppError, AppResult, Db, FieldError};

use crate::faq::{self, Audience, FaqEntry, Scope, CATEGORIES};
use crate::state::GuideState;
use crate::view::{category_label, localize, paragraphs, Localized};
use crate::view::{group, parse_id, related, CategoryGroup, RelatedProcedure};

// ------------------------------------------------------------------ list

struct Row {
    id: i64,
    question: String,
    category: &'static str,
    audience: &'static str,
    published: bool,
    helpful: i64,
    not_helpful: i64,
    updated: String,
}

#[derive(Template)]
#[template(path = "staff_faq.html")]
struct ListPage {
    page: Page,
    rows: Vec<Row>,
}

pub async fn list(State(db): State<Db>, staff: Staff, lang: Lang) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let items = faq::list(&db, &staff.tenant, Scope::All).await?;
    let page = kernel::web::staff_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "staff.faq.title"),
        format!("/t/{}/staff/faq", staff.tenant),
    );
    let rows = items
        .iter()
        .map(|s| Row {
            id: s.id,
            question: s.entry.question.get(lang).to_string(),
            category: category_label(lang, &s.entry.category),
            audience: i18n::t(lang, &format!("faq.audience.{}", s.entry.audience.as_str())),
            published: s.entry.published,
            helpful: s.helpful,
            not_helpful: s.not_helpful,
            updated: kernel::clock::format_in(lang, s.updated_at),
        })
        .collect();
    Ok(render_status(
        axum::http::StatusCode::OK,
        &ListPage { page, rows },
    ))
}

// ------------------------------------------------------------------ edit

/// The edit form's values as typed (shown back on error, nothing lost).
#[derive(Default, Clone)]
struct Fields {
    question: BTreeMap<String, String>,
    answer: BTreeMap<String, String>,
    category: String,
    department: String,
    procedures: Vec<String>,
    audience: String,
    published: bool,
}

impl Fields {
    fn from_entry(e: &FaqEntry) -> Self {
        let texts = |t: &Text| {
            Lang::ALL
                .iter()
                .map(|l| {
                    (
                        l.code().to_string(),
                        t.get_exact(l.code()).unwrap_or_default().to_string(),
                    )
                })
                .collect()
        };
        Self {
            question: texts(&e.question),
            answer: texts(&e.answer),
            category: e.category.clone(),
            department: e.department.clone(),
            procedures: e.procedures.clone(),
            audience: e.audience.as_str().into(),
            published: e.published,
        }
    }

    fn from_form(form: &[(String, String)]) -> Self {
        let mut f = Fields::default();
        for (k, v) in form {
            if let Some(l) = k.strip_prefix("question_") {
                f.question.insert(l.to_string(), v.clone());
            } else if let Some(l) = k.strip_prefix("answer_") {
                f.answer.insert(l.to_string(), v.clone());
            }
            match k.as_str() {
                "category" => f.category = v.clone(),
                "department" => f.department = v.clone(),
                "procedures" if !v.is_empty() => f.procedures.push(v.clone()),
                "audience" => f.audience = v.clone(),
                "published" => f.published = v == "yes",
                _ => {}
            }
        }
        f
    }

    fn text(map: &BTreeMap<String, String>) -> Text {
        let clean = |s: &str| jp::nfc(s.trim());
        let mut t = Text::ja_only(clean(map.get("ja").map(String::as_str).unwrap_or("")));
        for l in Lang::ALL {
            if l != Lang::Ja {
                if let Some(v) = map.get(l.code()) {
                    t.set(l.code(), clean(v));
                }
            }
        }
        t
    }

    fn parse(&self, lang: Lang) -> Result<FaqEntry, Vec<FieldError>> {
        let Some(audience) = Audience::parse(&self.audience) else {
            return Err(vec![FieldError {
                field: "audience".into(),
                message: i18n::t(lang, "faq.error.audience").into(),
            }]);
        };
        Ok(FaqEntry {
            question: Self::text(&self.question),
            answer: Self::text(&self.answer),
            category: self.category.clone(),
            department: self.department.clone(),
            procedures: self.procedures.clone(),
            audience,
            published: self.published,
        })
    }
}

/// One language's inputs on the edit form.
struct LangFields {
    code: &'static str,
    name: &'static str,
    question: String,
    answer: String,
}

#[derive(Template)]
#[template(path = "staff_faq_edit.html")]
struct EditPage {
    page: Page,
    /// `None` for a new entry.
    id: Option<i64>,
    version: i64,
    japanese: LangFields,
    translations: Vec<LangFields>,
    categories: Vec<Choice>,
    departments: Vec<Choice>,
    procedures: Vec<Choice>,
    v: Fields,
    errors: FormErrors,
    history: Vec<VersionLine>,
    saved: bool,
    /// Each language's translation state and review (not for a new one).
    translation: Option<translation::view::ReviewPanel>,
}

impl EditPage {
    /// The translation state of the language `code`, beside its fields.
    fn badge(&self, code: &str) -> &str {
        match (&self.translation, Lang::parse(code)) {
            (Some(t), Some(l)) => t.badge(&l),
            _ => "",
        }
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/t/{}/staff/faq/{id}", self.page.tenant_code()),
            None => format!("/t/{}/staff/faq/new", self.page.tenant_code()),
        }
    }
}

/// The editor's frame: its title and address (new or an entry's), under
/// the FAQ list.
fn editor_frame(
    lang: Lang,
    t: &kernel::tenant::TenantProfile,
    staff: &Staff,
    id: Option<i64>,
) -> Page {
    let (title, path) = match id {
        Some(id) => (
            i18n::tf(lang, "staff.faq.edit_title", &[("id", &id.to_string())]),
            format!("/t/{}/staff/faq/{id}", staff.tenant),
        ),
        None => (
            i18n::t(lang, "staff.faq.new_title").to_string(),
            format!("/t/{}/staff/faq/new", staff.tenant),
        ),
    };
    kernel::web::staff_page(lang, t, staff, title, path).crumb(
        i18n::t(lang, "staff.faq.title"),
        format!("/t/{}/staff/faq", staff.tenant),
    )
}

#[allow(clippy::too_many_arguments)]
async fn edit_page(
    db: &Db,
    staff: &Staff,
    lang: Lang,
    id: Option<i64>,
    version: i64,
    v: Fields,
    errors: Vec<FieldError>,
    saved: bool,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let catalogue = catalogue::store::list(db, &staff.tenant).await?;
    let (history, translation) = match id {
        Some(id) => {
            let stored = faq::get(db, &staff.tenant, id).await?;
            let entry = crate::translations::entry(&staff.tenant, id, &stored.entry);
            let panel = translation::view::panel(
                db,
                staff,
                lang,
                &entry,
                format!("/t/{}/staff/faq/{id}", staff.tenant),
            )
            .await?;
            (faq::history(db, &staff.tenant, id).await?, Some(panel))
        }
        None => (Vec::new(), None),
    };
    let page = editor_frame(lang, &t, staff, id).with_errors(!errors.is_empty());
    let lang_fields = |l: Lang| LangFields {
        code: l.code(),
        name: l.native_name(),
        question: v.question.get(l.code()).cloned().unwrap_or_default(),
        answer: v.answer.get(l.code()).cloned().unwrap_or_default(),
    };
    let errors = FormErrors(errors);
    Ok(render_status(
        errors.status(),
        &EditPage {
            id,
            version,
            japanese: lang_fields(Lang::Ja),
            translations: Lang::ALL
                .into_iter()
                .filter(|l| *l != Lang::Ja)
                .map(lang_fields)
                .collect(),
            categories: Choice::select(
                CATEGORIES
                    .iter()
                    .map(|c| Choice::new(*c, category_label(lang, c)))
                    .collect(),
                &v.category,
            ),
            departments: Choice::select(
                t.departments
                    .iter()
                    .map(|d| Choice::new(&d.code, d.name.get(lang)))
                    .collect(),
                &v.department,
            ),
            procedures: catalogue
                .iter()
                .map(|s| {
                    Choice::new(&s.procedure.id, s.procedure.name.get(lang))
                        .selected(v.procedures.contains(&s.procedure.id))
                })
                .collect(),
            history: history
                .into_iter()
                .map(|h| VersionLine {
                    version: h.version,
                    at: kernel::clock::format_in(lang, h.saved_at),
                    by: h.saved_by,
                })
                .collect(),
            v,
            errors,
            saved,
            translation,
            page,
        },
    ))
}

pub async fn new_entry(State(db): State<Db>, staff: DeptAdmin, lang: Lang) -> AppResult<Response> {
    let v = Fields {
        category: "other".into(),
        department: staff.department.clone(),
        audience: "public".into(),
        published: true,
        ..Default::default()
    };
    edit_page(&db, &staff, lang, None, 0, v, Vec::new(), false).await
}

#[derive(serde::Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn edit(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    Query(q): Query<SavedQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let s = faq::get(&db, &staff.tenant, parse_id(&id)?).await?;
    staff.require_department(&s.entry.department)?;
    edit_page(
        &db,
        &staff,
        lang,
        Some(s.id),
        s.version,
        Fields::from_entry(&s.entry),
        Vec::new(),
        q.saved.is_some(),
    )
    .await
}

fn conflict_error(lang: Lang, what: &str) -> Vec<FieldError> {
    vec![FieldError {
        field: "question_ja".into(),
        message: i18n::t(lang, &format!("error.conflict.{what}")).into(),
    }]
}

pub async fn create(
    State(st): State<GuideState>,
    staff: DeptAdmin,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let v = Fields::from_form(&form);
    let e = match v.parse(lang) {
        Ok(e) => e,
        Err(errors) => return edit_page(&st.db, &staff, lang, None, 0, v, errors, false).await,
    };
    staff.require_department(&e.department)?;
    match faq::create(&st.db, &staff.tenant, &e, &staff.actor(), lang).await {
        Ok(id) => {
            crate::translations::saved(&st.db, &staff.tenant, id, None, &e).await?;
            st.refresh(&staff.tenant).await;
            Ok(
                Redirect::to(&format!("/t/{}/staff/faq/{id}?saved=1", staff.tenant))
                    .into_response(),
            )
        }
        Err(AppError::Validation(errors)) => {
            edit_page(&st.db, &staff, lang, None, 0, v, errors, false).await
        }
        Err(e) => Err(e),
    }
}

pub async fn save(
    State(st): State<GuideState>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let existing = faq::get(&st.db, &staff.tenant, id).await?;
    staff.require_department(&existing.entry.department)?;
    let version: i64 = form
        .iter()
        .find(|(k, _)| k == "version")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(-1);
    let v = Fields::from_form(&form);
    let e = match v.parse(lang) {
        Ok(e) => e,
        Err(errors) => {
            return edit_page(&st.db, &staff, lang, Some(id), version, v, errors, false).await
        }
    };
    staff.require_department(&e.department)?;
    let action = if existing.entry.published && !e.published {
        "faq.unpublish"
    } else {
        "faq.save"
    };
    match faq::save(
        &st.db,
        &staff.tenant,
        id,
        &e,
        version,
        &staff.actor(),
        action,
        lang,
    )
    .await
    {
        Ok(_) => {
            crate::translations::saved(&st.db, &staff.tenant, id, Some(&existing.entry), &e)
                .await?;
            st.refresh(&staff.tenant).await;
            Ok(
                Redirect::to(&format!("/t/{}/staff/faq/{id}?saved=1", staff.tenant))
                    .into_response(),
            )
        }
        Err(AppError::Validation(errors)) => {
            edit_page(&st.db, &staff, lang, Some(id), version, v, errors, false).await
        }
        Err(AppError::Conflict(what)) => {
            let errors = conflict_error(lang, what);
            edit_page(&st.db, &staff, lang, Some(id), version, v, errors, false).await
        }
        Err(e) => Err(e),
    }
}

pub async fn restore(
    State(st): State<GuideState>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let existing = faq::get(&st.db, &staff.tenant, id).await?;
    staff.require_department(&existing.entry.department)?;
    let version = f
        .get("restore_version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::BadRequest(i18n::t(lang, "staff.faq.restore_which").into()))?;
    let current = f.get("version").and_then(|v| v.parse().ok()).unwrap_or(-1);
    // The restored version may belong to another department.
    let old = faq::get_version(&st.db, &staff.tenant, id, version).await?;
    staff.require_department(&old.department)?;
    match faq::restore(
        &st.db,
        &staff.tenant,
        id,
        version,
        current,
        &staff.actor(),
        lang,
    )
    .await
    {
        Ok(_) => {
            crate::translations::saved(&st.db, &staff.tenant, id, Some(&existing.entry), &old)
                .await?
        }
        Err(AppError::Conflict(what)) => {
            let errors = conflict_error(lang, what);
            return edit_page(
                &st.db,
                &staff,
                lang,
                Some(id),
                existing.version,
                Fields::from_entry(&existing.entry),
                errors,
                false,
            )
            .await;
        }
        Err(e) => return Err(e),
    }
    st.refresh(&staff.tenant).await;
    Ok(Redirect::to(&format!("/t/{}/staff/faq/{id}?saved=1", staff.tenant)).into_response())
}

// ------------------------------------------------------------- knowledge

#[derive(Template)]
#[template(path = "staff_knowledge.html")]
struct KnowledgePage {
    page: Page,
    groups: Vec<CategoryGroup>,
    q: String,
    /// Search results when a query was given.
    results: Option<Vec<crate::state::StaffHit>>,
    query_error: String,
}

#[derive(serde::Deserialize, Default)]
pub struct KnowledgeQuery {
    q: Option<String>,
}

pub async fn knowledge(
    State(st): State<GuideState>,
    staff: Staff,
    Query(kq): Query<KnowledgeQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &staff.tenant).await?;
    let items = faq::list(&st.db, &staff.tenant, Scope::Knowledge).await?;
    let page = kernel::web::staff_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "staff.knowledge.title"),
        format!("/t/{}/staff/knowledge", staff.tenant),
    );
    let q = kq.q.unwrap_or_default();
    let (results, query_error) = if q.is_empty() {
        (None, String::new())
    } else {
        match st.staff_search(&staff.tenant, &q, lang).await? {
            Ok(hits) => (Some(hits), String::new()),
            Err(message) => (None, message),
        }
    };
    let status = if query_error.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render_status(
        status,
        &KnowledgePage {
            groups: group(&items, lang),
            page: page.with_errors(!query_error.is_empty()),
            q,
            results,
            query_error,
        },
    ))
}

#[derive(Template)]
#[template(path = "staff_knowledge_entry.html")]
struct KnowledgeEntryPage {
    page: Page,
    id: i64,
    category: &'static str,
    question: Localized,
    answer: Localized,
    paragraphs: Vec<Vec<String>>,
    procedures: Vec<RelatedProcedure>,
    updated: String,
    can_edit: bool,
}

/// One entry for staff: knowledge, or a public entry (staff read both).
/// Unpublished entries are for their editors (the edit page).
pub async fn knowledge_entry(
    State(db): State<Db>,
    staff: Staff,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let s = faq::get(&db, &staff.tenant, parse_id(&id)?).await?;
    if !s.entry.published {
        return Err(AppError::NotFound("faq"));
    }
    let question = localize(&s.entry.question, lang);
    let answer = localize(&s.entry.answer, lang);
    let page = kernel::web::staff_page(
        lang,
        &t,
        &staff,
        question.text.clone(),
        format!("/t/{}/staff/knowledge/{}", staff.tenant, s.id),
    )
    .crumb(
        i18n::t(lang, "staff.knowledge.title"),
        format!("/t/{}/staff/knowledge", staff.tenant),
    );
    let can_edit = staff
        .prove::<DeptAdmin>()
        .is_ok_and(|d| d.may_edit(&s.entry.department));
    Ok(render_status(
        axum::http::StatusCode::OK,
        &KnowledgeEntryPage {
            id: s.id,
            category: category_label(lang, &s.entry.category),
            paragraphs: paragraphs(&answer.text),
            question,
            answer,
            procedures: related(&db, &staff.tenant, &s.entry.procedures, lang).await?,
            updated: kernel::clock::format_in(lang, s.updated_at),
            can_edit,
            page,
        },
    ))
}
