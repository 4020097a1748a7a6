//! 手続ナビの編集 in the back office: the list of life events, an editor
//! per life event that works as whole-form submits (no JavaScript), the
//! preview with the resident templates, publish and restore. Who may edit
//! follows the catalogue editor: department administrators for their own
//! department's procedures, system administrators for all.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::DeptAdmin;
use kernel::i18n::{self, Lang};
use kernel::tenant::LifeEventBundle;
use kernel::web::{render_status, FormErrors, Page};
use kernel::{AppError, AppResult, Db, FieldError};

use crate::edit_view::{
    group, history_rows, HistoryRow, ItemRow, QuestionRow, Rows, TextGroup, TextInput,
};
use crate::editor::{self, Draft, Problem};
use crate::pages::{self as navi, PreviewBar};
use crate::state::NaviState;
use crate::store::{self, Origin, StoredDraft};
use crate::workspace::{after_publish, Workspace};
use kernel::web::staff_page;

// ------------------------------------------------------------------- list

struct ListRow {
    code: String,
    name: String,
    questions: usize,
    items: usize,
    version: String,
    changed: String,
    draft: String,
}

#[derive(Template)]
#[template(path = "staff_navi_list.html")]
struct ListPage {
    page: Page,
    rows: Vec<ListRow>,
}

pub async fn list(State(db): State<Db>, staff: DeptAdmin, lang: Lang) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let changes: BTreeMap<String, store::VersionInfo> = store::last_changes(&db, &staff.tenant)
        .await?
        .into_iter()
        .collect();
    let drafts = store::drafts(&db, &staff.tenant).await?;
    let draft_text = |d: &StoredDraft| {
        i18n::tf(
            lang,
            "staff.navi.draft_by",
            &[
                ("at", &kernel::clock::format_in(lang, d.saved_at)),
                ("by", &d.saved_by),
            ],
        )
    };
    let mut rows: Vec<ListRow> = t
        .life_events
        .iter()
        .map(|b| {
            let change = changes.get(&b.code);
            ListRow {
                code: b.code.clone(),
                name: b.name.get(lang).to_string(),
                questions: b.questions.len(),
                items: b.items.len(),
                version: change
                    .map(|c| c.version.to_string())
                    .unwrap_or_else(|| "0".into()),
                changed: change
                    .map(|c| {
                        format!(
                            "{}（{}）",
                            kernel::clock::format_in(lang, c.published_at),
                            c.published_by
                        )
                    })
                    .unwrap_or_else(|| i18n::t(lang, "staff.navi.initial").to_string()),
                draft: drafts
                    .iter()
                    .find(|d| d.bundle.code == b.code)
                    .map(draft_text)
                    .unwrap_or_default(),
            }
        })
        .collect();
    for d in drafts
        .iter()
        .filter(|d| t.life_event(&d.bundle.code).is_none())
    {
        rows.push(ListRow {
            code: d.bundle.code.clone(),
            name: d.bundle.name.get(lang).to_string(),
            questions: d.bundle.questions.len(),
            items: d.bundle.items.len(),
            version: "—".into(),
            changed: i18n::t(lang, "staff.navi.unpublished").to_string(),
            draft: draft_text(d),
        });
    }
    let page = staff_page(
        lang,
        &t,
        &staff,
        i18n::t(lang, "staff.navi.title"),
        format!("/t/{}/staff/navi", staff.tenant),
    );
    Ok(kernel::web::render(&ListPage { page, rows }))
}

// ----------------------------------------------------------------- editor

#[derive(Template)]
#[template(path = "staff_navi_edit.html")]
struct EditPage {
    page: Page,
    errors: FormErrors,
    action: String,
    is_new: bool,
    code: TextInput,
    name: TextGroup,
    description: TextGroup,
    questions: Vec<QuestionRow>,
    items: Vec<ItemRow>,
    base_version: i64,
    live_version: i64,
    /// The draft being edited: who saved it and when.
    draft: String,
    notice: String,
    history: Vec<HistoryRow>,
    preview: String,
    code_value: String,
    /// The published questionnaire's translation state per language and
    /// its review (none before it is published).
    translation: Option<translation::view::ReviewPanel>,
}

struct EditorState<'a> {
    draft: &'a Draft,
    is_new: bool,
    base_version: i64,
    errors: Vec<FieldError>,
    status: StatusCode,
    notice: String,
}

async fn editor(
    db: &Db,
    staff: &DeptAdmin,
    lang: Lang,
    ws: &Workspace,
    s: EditorState<'_>,
) -> AppResult<Response> {
    let tenant = staff.tenant.as_str();
    let d = s.draft;
    let errors = FormErrors(s.errors);
    let code = d.code.trim().to_string();
    let (stored, live_version, history) = if s.is_new {
        (None, 0, Vec::new())
    } else {
        (
            store::draft(db, tenant, &code).await?,
            store::live_version(db, tenant, &code).await?,
            store::versions(db, tenant, &code).await?,
        )
    };
    let translation = match ws.profile.life_event(&code).filter(|_| !s.is_new) {
        Some(live) => Some(
            translation::view::panel(
                db,
                staff,
                lang,
                &translation::source::life_event_entry(tenant, live),
                format!("/t/{tenant}/staff/navi/{code}"),
            )
            .await?,
        ),
        None => None,
    };
    let action = if s.is_new {
        format!("/t/{tenant}/staff/navi/new")
    } else {
        format!("/t/{tenant}/staff/navi/{code}")
    };
    let page = staff_page(
        lang,
        &ws.profile,
        staff,
        editor_title(lang, d, s.is_new),
        action.clone(),
    )
    .crumb(
        i18n::t(lang, "staff.navi.title"),
        format!("/t/{tenant}/staff/navi"),
    )
    .with_errors(!errors.is_empty());
    let rows = Rows {
        draft: d,
        ws,
        errors: &errors,
        lang,
    };
    let page_html = EditPage {
        is_new: s.is_new,
        code: rows.code(),
        name: group(
            &errors,
            &d.name,
            "name",
            i18n::t(lang, "staff.navi.name"),
            false,
        ),
        description: group(
            &errors,
            &d.description,
            "description",
            i18n::t(lang, "staff.navi.description"),
            true,
        ),
        questions: rows.questions(),
        items: rows.items(),
        base_version: s.base_version,
        live_version,
        draft: stored
            .as_ref()
            .map(|x| draft_notice(lang, x))
            .unwrap_or_default(),
        notice: s.notice,
        history: history_rows(&history, live_version, lang),
        preview: format!("/t/{tenant}/staff/navi/{code}/preview"),
        code_value: code,
        action,
        errors,
        translation,
        page,
    };
    Ok(render_status(s.status, &page_html))
}

fn editor_title(lang: Lang, d: &Draft, is_new: bool) -> String {
    if is_new {
        i18n::t(lang, "staff.navi.new_title").to_string()
    } else {
        let code = d.code.trim();
        i18n::tf(
            lang,
            "staff.navi.edit_title",
            &[("name", d.name.get("ja").map(String::as_str).unwrap_or(code))],
        )
    }
}

fn draft_notice(lang: Lang, x: &StoredDraft) -> String {
    i18n::tf(
        lang,
        "staff.navi.editing_draft",
        &[
            ("at", &kernel::clock::format_in(lang, x.saved_at)),
            ("by", &x.saved_by),
        ],
    )
}

#[derive(serde::Deserialize, Default)]
pub struct EditQuery {
    saved: Option<String>,
}

fn notice_of(lang: Lang, q: &EditQuery) -> String {
    let key = match q.saved.as_deref() {
        Some("draft") => "staff.navi.saved.draft",
        Some("published") => "staff.navi.saved.published",
        Some("restored") => "staff.navi.saved.restored",
        Some("discarded") => "staff.navi.saved.discarded",
        Some("unchanged") => "staff.navi.saved.unchanged",
        _ => return String::new(),
    };
    i18n::t(lang, key).to_string()
}

pub async fn edit(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
    Query(q): Query<EditQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let ws = Workspace::load(&db, &staff.tenant).await?;
    let stored = store::draft(&db, &staff.tenant, &code).await?;
    let (draft, base) = match (&stored, ws.live(&code)) {
        (Some(s), _) => (Draft::from_bundle(&s.bundle), s.base_version),
        (None, Some(b)) => (
            Draft::from_bundle(b),
            store::live_version(&db, &staff.tenant, &code).await?,
        ),
        (None, None) => return Err(AppError::NotFound("life_event")),
    };
    let is_new = ws.live(&code).is_none();
    editor(
        &db,
        &staff,
        lang,
        &ws,
        EditorState {
            draft: &draft,
            is_new: false,
            base_version: base,
            errors: Vec::new(),
            status: StatusCode::OK,
            notice: if is_new && q.saved.is_none() {
                i18n::t(lang, "staff.navi.unpublished").to_string()
            } else {
                notice_of(lang, &q)
            },
        },
    )
    .await
}

pub async fn new_form(State(db): State<Db>, staff: DeptAdmin, lang: Lang) -> AppResult<Response> {
    let ws = Workspace::load(&db, &staff.tenant).await?;
    let draft = Draft {
        items: vec![Default::default()],
        ..Default::default()
    };
    editor(
        &db,
        &staff,
        lang,
        &ws,
        EditorState {
            draft: &draft,
            is_new: true,
            base_version: 0,
            errors: Vec::new(),
            status: StatusCode::OK,
            notice: String::new(),
        },
    )
    .await
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn submit(
    st: &NaviState,
    staff: &DeptAdmin,
    lang: Lang,
    form: Vec<(String, String)>,
    path_code: Option<String>,
) -> AppResult<Response> {
    let db = &st.db;
    let tenant = staff.tenant.clone();
    let ws = Workspace::load(db, &tenant).await?;
    let (mut draft, problems) = Draft::from_form(&form);
    // An existing life event keeps its code (it is in residents' links).
    let existing = match &path_code {
        Some(code) => {
            draft.code = code.clone();
            let stored = store::draft(db, &tenant, code).await?;
            if stored.is_none() && ws.live(code).is_none() {
                return Err(AppError::NotFound("life_event"));
            }
            true
        }
        None => false,
    };
    let view = Shown {
        db,
        staff,
        lang,
        ws: &ws,
        is_new: !existing,
        base_version: field(&form, "base_version")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    };
    let op = field(&form, "op").unwrap_or("save").to_string();
    if op == "discard" && existing {
        store::discard_draft(db, &tenant, &draft.code, &staff.actor()).await?;
        return Ok(redirect_to_editor(&tenant, &draft.code, "discarded", &ws));
    }
    if draft.apply(&op) {
        return view
            .show(&draft, Problem::for_form(&problems), StatusCode::OK)
            .await;
    }
    if op != "save" && op != "preview" {
        return Err(AppError::BadRequest("不明な操作です。".into()));
    }
    let bundle = match view.checked(&draft, problems).await? {
        Ok(b) => b,
        Err((errors, status)) => return view.show(&draft, errors, status).await,
    };
    store::save_draft(db, &tenant, &bundle, view.base_version, &staff.actor()).await?;
    let to = if op == "preview" {
        format!("/t/{tenant}/staff/navi/{}/preview", bundle.code)
    } else {
        format!("/t/{tenant}/staff/navi/{}?saved=draft", bundle.code)
    };
    Ok(Redirect::to(&to).into_response())
}

/// The editor as a submission shows it again.
struct Shown<'a> {
    db: &'a Db,
    staff: &'a DeptAdmin,
    lang: Lang,
    ws: &'a Workspace,
    is_new: bool,
    base_version: i64,
}

impl Shown<'_> {
    async fn show(
        &self,
        draft: &Draft,
        errors: Vec<FieldError>,
        status: StatusCode,
    ) -> AppResult<Response> {
        let s = EditorState {
            draft,
            is_new: self.is_new,
            base_version: self.base_version,
            errors,
            status,
            notice: String::new(),
        };
        editor(self.db, self.staff, self.lang, self.ws, s).await
    }

    /// The draft as a bundle that may be saved: valid, not a second draft
    /// of a new code, and within the member of staff's departments.
    async fn checked(
        &self,
        draft: &Draft,
        mut problems: Vec<Problem>,
    ) -> AppResult<Result<LifeEventBundle, (Vec<FieldError>, StatusCode)>> {
        let bundle = match editor::validate(draft, &self.ws.context(self.is_new)) {
            Ok(b) if problems.is_empty() => b,
            Ok(_) => {
                return Ok(Err((
                    Problem::for_form(&problems),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )))
            }
            Err(mut p) => {
                problems.append(&mut p);
                return Ok(Err((
                    Problem::for_form(&problems),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )));
            }
        };
        let tenant = &self.staff.tenant;
        if self.is_new && store::draft(self.db, tenant, &bundle.code).await?.is_some() {
            let message = format!(
                "コード「{}」のライフイベントは既に下書きがあります。一覧から開いてください。",
                bundle.code
            );
            return Ok(Err((code_error(message), StatusCode::CONFLICT)));
        }
        if let Err(message) = self
            .ws
            .permit(self.staff, self.ws.live(&bundle.code), &bundle)
        {
            return Ok(Err((code_error(message), StatusCode::FORBIDDEN)));
        }
        Ok(Ok(bundle))
    }
}

fn code_error(message: String) -> Vec<FieldError> {
    vec![FieldError {
        field: "code".into(),
        message,
    }]
}

fn redirect_to_editor(tenant: &str, code: &str, saved: &str, ws: &Workspace) -> Response {
    if saved == "discarded" && ws.live(code).is_none() {
        return Redirect::to(&format!("/t/{tenant}/staff/navi")).into_response();
    }
    Redirect::to(&format!("/t/{tenant}/staff/navi/{code}?saved={saved}")).into_response()
}

pub async fn create(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    submit(&st, &staff, lang, form, None).await
}

pub async fn save(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    submit(&st, &staff, lang, form, Some(code)).await
}

// ---------------------------------------------------------------- preview

/// The draft (or, without one, the live version) as residents will see it.
async fn preview_of(
    db: &Db,
    tenant: &str,
    code: &str,
    ws: &Workspace,
) -> AppResult<(LifeEventBundle, PreviewBar)> {
    let stored = store::draft(db, tenant, code).await?;
    let bar = |is_draft: bool, base_version: i64, saved_at: i64| PreviewBar {
        base: format!("/t/{tenant}/staff/navi/{code}/preview"),
        editor: format!("/t/{tenant}/staff/navi/{code}"),
        publish: format!("/t/{tenant}/staff/navi/{code}/publish"),
        base_version,
        saved_at,
        is_draft,
    };
    match (stored, ws.live(code)) {
        (Some(s), _) => Ok((s.bundle, bar(true, s.base_version, s.saved_at))),
        (None, Some(b)) => Ok((b.clone(), bar(false, 0, 0))),
        (None, None) => Err(AppError::NotFound("life_event")),
    }
}

pub async fn preview(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    lang: Lang,
) -> AppResult<Response> {
    let ws = Workspace::load(&st.db, &staff.tenant).await?;
    let (b, bar) = preview_of(&st.db, &staff.tenant, &code, &ws).await?;
    Ok(navi::questions_page(
        &ws.profile,
        &b,
        &query,
        Vec::new(),
        lang,
        Some(bar),
    ))
}

pub async fn preview_result(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    lang: Lang,
) -> AppResult<Response> {
    let ws = Workspace::load(&st.db, &staff.tenant).await?;
    let (b, bar) = preview_of(&st.db, &staff.tenant, &code, &ws).await?;
    navi::result_page(&st, &ws.profile, &b, &query, lang, Some(bar)).await
}

// --------------------------------------------------------- publish, restore

/// Publishes exactly the draft that was previewed (`saved_at`).
pub async fn publish(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
    lang: Lang,
    Form(f): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let tenant = staff.tenant.clone();
    let ws = Workspace::load(&st.db, &tenant).await?;
    let Some(stored) = store::draft(&st.db, &tenant, &code).await? else {
        return Err(AppError::NotFound("life_event"));
    };
    let draft = Draft::from_bundle(&stored.bundle);
    let view = Shown {
        db: &st.db,
        staff: &staff,
        lang,
        ws: &ws,
        is_new: false,
        base_version: stored.base_version,
    };
    let saved_at: i64 = f.get("saved_at").and_then(|v| v.parse().ok()).unwrap_or(-1);
    if saved_at != stored.saved_at {
        let e = code_error(i18n::t(lang, "staff.navi.draft_changed").into());
        return view.show(&draft, e, StatusCode::CONFLICT).await;
    }
    let is_new = ws.live(&code).is_none();
    let bundle = match editor::validate(&draft, &ws.context(is_new)) {
        Ok(b) => b,
        Err(p) => {
            let e = Problem::for_form(&p);
            return view.show(&draft, e, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    if let Err(m) = ws.permit(&staff, ws.live(&code), &bundle) {
        return view
            .show(&draft, code_error(m), StatusCode::FORBIDDEN)
            .await;
    }
    let actor = staff.actor();
    let published = store::publish(
        &st.db,
        &tenant,
        &bundle,
        view.base_version,
        Origin::Publish,
        &actor,
    );
    match published.await {
        Ok((outcome, _)) => {
            after_publish(&st, &tenant).await;
            let saved = if outcome == store::Outcome::Unchanged {
                "unchanged"
            } else {
                "published"
            };
            let to = format!("/t/{tenant}/staff/navi/{code}?saved={saved}");
            Ok(Redirect::to(&to).into_response())
        }
        Err(AppError::Conflict(_)) => {
            let e = code_error(i18n::t(lang, "error.conflict.navi_version").into());
            view.show(&draft, e, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

/// Restores an earlier version as the new live version (undo).
pub async fn restore(
    State(st): State<NaviState>,
    staff: DeptAdmin,
    Path((_t, code)): Path<(String, String)>,
    lang: Lang,
    Form(f): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let tenant = staff.tenant.clone();
    let ws = Workspace::load(&st.db, &tenant).await?;
    let live = ws
        .live(&code)
        .ok_or(AppError::NotFound("life_event"))?
        .clone();
    let version: i64 = f
        .get("restore_version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::BadRequest("戻す版を指定してください。".into()))?;
    let view = Shown {
        db: &st.db,
        staff: &staff,
        lang,
        ws: &ws,
        is_new: false,
        base_version: f.get("version").and_then(|v| v.parse().ok()).unwrap_or(-1),
    };
    let old = store::version_body(&st.db, &tenant, &code, version).await?;
    let live_draft = Draft::from_bundle(&live);
    // The catalogue may have changed since: the old version must still hold.
    if let Err(p) = editor::validate(&Draft::from_bundle(&old), &ws.context(false)) {
        let mut e = code_error(i18n::tf(
            lang,
            "staff.navi.restore_invalid",
            &[("version", &version.to_string())],
        ));
        e.extend(p.into_iter().map(|x| FieldError {
            field: "code".into(),
            message: x.message,
        }));
        return view
            .show(&live_draft, e, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    if let Err(m) = ws.permit(&staff, Some(&live), &old) {
        return view
            .show(&live_draft, code_error(m), StatusCode::FORBIDDEN)
            .await;
    }
    let origin = Origin::Restore(version);
    match store::publish(
        &st.db,
        &tenant,
        &old,
        view.base_version,
        origin,
        &staff.actor(),
    )
    .await
    {
        Ok(_) => {
            after_publish(&st, &tenant).await;
            let to = format!("/t/{tenant}/staff/navi/{code}?saved=restored");
            Ok(Redirect::to(&to).into_response())
        }
        Err(AppError::Conflict(_)) => {
            let e = code_error(i18n::t(lang, "error.conflict.navi_version").into());
            view.show(&live_draft, e, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}
