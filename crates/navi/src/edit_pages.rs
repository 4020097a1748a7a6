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
use kernel::web::Choice;
use kernel::web::{render_status, FormErrors, Page};
use kernel::{AppError, AppResult, Db, FieldError};

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

struct TextInput {
    name: String,
    label: String,
    value: String,
    error: String,
    multiline: bool,
}

/// One text in every language: Japanese shown, the others folded (open
/// when one has a value or an error).
struct TextGroup {
    ja: TextInput,
    others: Vec<TextInput>,
    open: bool,
    label: String,
}

struct Select {
    name: String,
    label: String,
    error: String,
    options: Vec<Choice>,
}

struct QuestionRow {
    index: usize,
    number: usize,
    code: TextInput,
    text: TextGroup,
    hint: TextGroup,
    last: bool,
}

struct ItemRow {
    index: usize,
    number: usize,
    procedure: Select,
    when: Select,
    unless: Select,
    counter: Select,
    deadline: TextGroup,
    note: TextGroup,
    last: bool,
}

struct HistoryRow {
    version: i64,
    at: String,
    by: String,
    how: String,
    current: bool,
}

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
}

fn group(
    errors: &FormErrors,
    texts: &BTreeMap<String, String>,
    base: &str,
    label: &str,
    multiline: bool,
) -> TextGroup {
    let input = |lang: Lang| {
        let name = format!("{base}_{}", lang.code());
        TextInput {
            label: format!("{label}（{}）", lang.native_name()),
            value: texts.get(lang.code()).cloned().unwrap_or_default(),
            error: errors.get(&name).to_string(),
            multiline,
            name,
        }
    };
    let others: Vec<TextInput> = Lang::ALL
        .iter()
        .filter(|l| **l != Lang::Ja)
        .map(|l| input(*l))
        .collect();
    TextGroup {
        open: others
            .iter()
            .any(|o| !o.error.is_empty() || !o.value.trim().is_empty()),
        ja: input(Lang::Ja),
        others,
        label: label.to_string(),
    }
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
    let stored = if s.is_new {
        None
    } else {
        store::draft(db, tenant, &code).await?
    };
    let live_version = if s.is_new {
        0
    } else {
        store::live_version(db, tenant, &code).await?
    };
    let history = if s.is_new {
        Vec::new()
    } else {
        store::versions(db, tenant, &code).await?
    };
    let title = if s.is_new {
        i18n::t(lang, "staff.navi.new_title").to_string()
    } else {
        i18n::tf(
            lang,
            "staff.navi.edit_title",
            &[(
                "name",
                d.name.get("ja").map(String::as_str).unwrap_or(&code),
            )],
        )
    };
    let action = if s.is_new {
        format!("/t/{tenant}/staff/navi/new")
    } else {
        format!("/t/{tenant}/staff/navi/{code}")
    };
    let page = staff_page(lang, &ws.profile, staff, title, action.clone())
        .crumb(
            i18n::t(lang, "staff.navi.title"),
            format!("/t/{tenant}/staff/navi"),
        )
        .with_errors(!errors.is_empty());
    let question_options = |value: &Option<String>| {
        let mut o = vec![
            Choice::new("", i18n::t(lang, "staff.navi.no_condition")).selected(value.is_none())
        ];
        for (i, q) in d.questions.iter().enumerate() {
            let qc = q.code.trim();
            if qc.is_empty() {
                continue;
            }
            let label = format!(
                "{} {}：{}",
                i18n::tf(
                    lang,
                    "staff.navi.question_n",
                    &[("n", &(i + 1).to_string())]
                ),
                qc,
                q.text.get("ja").map(String::as_str).unwrap_or_default()
            );
            o.push(Choice::new(qc, label).selected(value.as_deref() == Some(qc)));
        }
        if let Some(v) = value {
            if !o.iter().any(|c| &c.value == v) {
                o.push(
                    Choice::new(
                        v,
                        i18n::tf(lang, "staff.navi.missing_question", &[("code", v)]),
                    )
                    .selected(true),
                );
            }
        }
        o
    };
    let dept_name = |code: &str| {
        ws.profile
            .department(code)
            .map(|d| d.name.get(lang).to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let items = d
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let name = |f: &str| format!("i{i}_{f}");
            let n = i + 1;
            let label = |key: &str| {
                format!(
                    "{}：{}",
                    i18n::tf(lang, "staff.navi.item_n", &[("n", &n.to_string())]),
                    i18n::t(lang, key)
                )
            };
            let pid = it.procedure.trim();
            let mut procedures =
                vec![Choice::new("", i18n::t(lang, "staff.navi.choose")).selected(pid.is_empty())];
            procedures.extend(ws.catalogue.iter().map(|c| {
                Choice::new(&c.id, format!("{}（{}）", c.name, dept_name(&c.department)))
                    .selected(c.id == pid)
            }));
            if !pid.is_empty() && !ws.catalogue.iter().any(|c| c.id == pid) {
                procedures.push(
                    Choice::new(
                        pid,
                        i18n::tf(lang, "staff.navi.missing_procedure", &[("id", pid)]),
                    )
                    .selected(true),
                );
            }
            let mut counters = vec![Choice::new("", i18n::t(lang, "staff.navi.default_counter"))
                .selected(it.counter.is_none())];
            counters.extend(ws.profile.counters.iter().map(|c| {
                Choice::new(
                    &c.code,
                    format!("{}（{}）", c.name.get(lang), dept_name(&c.department)),
                )
                .selected(it.counter.as_deref() == Some(c.code.as_str()))
            }));
            if let Some(c) = &it.counter {
                if ws.profile.counter(c).is_none() {
                    counters.push(Choice::new(c, c).selected(true));
                }
            }
            let select = |f: &str, key: &str, options| Select {
                name: name(f),
                label: label(key),
                error: errors.get(&name(f)).to_string(),
                options,
            };
            ItemRow {
                index: i,
                number: n,
                procedure: select("procedure", "staff.navi.procedure", procedures),
                when: select("when", "staff.navi.when", question_options(&it.when)),
                unless: select("unless", "staff.navi.unless", question_options(&it.unless)),
                counter: select("counter", "staff.navi.counter", counters),
                deadline: group(
                    &errors,
                    &it.deadline,
                    &name("deadline"),
                    &label("staff.navi.deadline"),
                    false,
                ),
                note: group(
                    &errors,
                    &it.note,
                    &name("note"),
                    &label("staff.navi.note"),
                    true,
                ),
                last: i + 1 == d.items.len(),
            }
        })
        .collect();
    let questions = d
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let n = i + 1;
            let label = |key: &str| {
                format!(
                    "{}：{}",
                    i18n::tf(lang, "staff.navi.question_n", &[("n", &n.to_string())]),
                    i18n::t(lang, key)
                )
            };
            QuestionRow {
                index: i,
                number: n,
                code: TextInput {
                    name: format!("q{i}_code"),
                    label: label("staff.navi.question_code"),
                    value: q.code.clone(),
                    error: errors.get(&format!("q{i}_code")).to_string(),
                    multiline: false,
                },
                text: group(
                    &errors,
                    &q.text,
                    &format!("q{i}_text"),
                    &label("staff.navi.question_text"),
                    false,
                ),
                hint: group(
                    &errors,
                    &q.hint,
                    &format!("q{i}_hint"),
                    &label("staff.navi.question_hint"),
                    true,
                ),
                last: i + 1 == d.questions.len(),
            }
        })
        .collect();
    let page_html = EditPage {
        is_new: s.is_new,
        code: TextInput {
            name: "code".into(),
            label: i18n::t(lang, "staff.navi.code").into(),
            value: d.code.clone(),
            error: errors.get("code").to_string(),
            multiline: false,
        },
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
        questions,
        items,
        base_version: s.base_version,
        live_version,
        draft: stored
            .as_ref()
            .map(|x| {
                i18n::tf(
                    lang,
                    "staff.navi.editing_draft",
                    &[
                        ("at", &kernel::clock::format_in(lang, x.saved_at)),
                        ("by", &x.saved_by),
                    ],
                )
            })
            .unwrap_or_default(),
        notice: s.notice,
        history: history
            .iter()
            .map(|h| HistoryRow {
                version: h.version,
                at: kernel::clock::format_in(lang, h.published_at),
                by: h.published_by.clone(),
                how: match h.restored_from {
                    Some(v) => i18n::tf(
                        lang,
                        "staff.navi.origin.restore",
                        &[("version", &v.to_string())],
                    ),
                    None => i18n::t(
                        lang,
                        if h.origin == "initial" {
                            "staff.navi.origin.initial"
                        } else {
                            "staff.navi.origin.publish"
                        },
                    )
                    .to_string(),
                },
                current: h.version == live_version,
            })
            .collect(),
        preview: format!("/t/{tenant}/staff/navi/{code}/preview"),
        code_value: code,
        action,
        errors,
        page,
    };
    Ok(render_status(s.status, &page_html))
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
    let (mut draft, mut problems) = Draft::from_form(&form);
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
    let is_new = !existing;
    let base_version: i64 = field(&form, "base_version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let op = field(&form, "op").unwrap_or("save").to_string();
    macro_rules! show {
        ($draft:expr, $errors:expr, $status:expr) => {
            editor(
                db,
                staff,
                lang,
                &ws,
                EditorState {
                    draft: &$draft,
                    is_new,
                    base_version,
                    errors: $errors,
                    status: $status,
                    notice: String::new(),
                },
            )
            .await
        };
    }
    if op == "discard" && existing {
        store::discard_draft(db, &tenant, &draft.code, &staff.actor()).await?;
        return Ok(redirect_to_editor(&tenant, &draft.code, "discarded", &ws));
    }
    if draft.apply(&op) {
        return show!(draft, Problem::for_form(&problems), StatusCode::OK);
    }
    if op != "save" && op != "preview" {
        return Err(AppError::BadRequest("不明な操作です。".into()));
    }
    let bundle = match editor::validate(&draft, &ws.context(is_new)) {
        Ok(b) if problems.is_empty() => b,
        Ok(_) => {
            return show!(
                draft,
                Problem::for_form(&problems),
                StatusCode::UNPROCESSABLE_ENTITY
            )
        }
        Err(mut p) => {
            problems.append(&mut p);
            return show!(
                draft,
                Problem::for_form(&problems),
                StatusCode::UNPROCESSABLE_ENTITY
            );
        }
    };
    if is_new && store::draft(db, &tenant, &bundle.code).await?.is_some() {
        let errors = vec![FieldError {
            field: "code".into(),
            message: format!(
                "コード「{}」のライフイベントは既に下書きがあります。一覧から開いてください。",
                bundle.code
            ),
        }];
        return show!(draft, errors, StatusCode::CONFLICT);
    }
    if let Err(message) = ws.permit(staff, ws.live(&bundle.code), &bundle) {
        let errors = vec![FieldError {
            field: "code".into(),
            message,
        }];
        return show!(draft, errors, StatusCode::FORBIDDEN);
    }
    store::save_draft(db, &tenant, &bundle, base_version, &staff.actor()).await?;
    if op == "preview" {
        Ok(
            Redirect::to(&format!("/t/{tenant}/staff/navi/{}/preview", bundle.code))
                .into_response(),
        )
    } else {
        Ok(Redirect::to(&format!(
            "/t/{tenant}/staff/navi/{}?saved=draft",
            bundle.code
        ))
        .into_response())
    }
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

impl<'a> EditorState<'a> {
    /// The editor of an existing life event showing problems.
    fn problems(
        draft: &'a Draft,
        base_version: i64,
        errors: Vec<FieldError>,
        status: StatusCode,
    ) -> Self {
        Self {
            draft,
            is_new: false,
            base_version,
            errors,
            status,
            notice: String::new(),
        }
    }
}

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
    let one = |message: String| {
        vec![FieldError {
            field: "code".into(),
            message,
        }]
    };
    let saved_at: i64 = f.get("saved_at").and_then(|v| v.parse().ok()).unwrap_or(-1);
    if saved_at != stored.saved_at {
        let e = one(i18n::t(lang, "staff.navi.draft_changed").into());
        return editor(
            &st.db,
            &staff,
            lang,
            &ws,
            EditorState::problems(&draft, stored.base_version, e, StatusCode::CONFLICT),
        )
        .await;
    }
    let is_new = ws.live(&code).is_none();
    let bundle = match editor::validate(&draft, &ws.context(is_new)) {
        Ok(b) => b,
        Err(p) => {
            return editor(
                &st.db,
                &staff,
                lang,
                &ws,
                EditorState::problems(
                    &draft,
                    stored.base_version,
                    Problem::for_form(&p),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
            )
            .await
        }
    };
    if let Err(m) = ws.permit(&staff, ws.live(&code), &bundle) {
        return editor(
            &st.db,
            &staff,
            lang,
            &ws,
            EditorState::problems(&draft, stored.base_version, one(m), StatusCode::FORBIDDEN),
        )
        .await;
    }
    match store::publish(
        &st.db,
        &tenant,
        &bundle,
        stored.base_version,
        Origin::Publish,
        &staff.actor(),
    )
    .await
    {
        Ok((outcome, _)) => {
            after_publish(&st, &tenant).await;
            let saved = if outcome == store::Outcome::Unchanged {
                "unchanged"
            } else {
                "published"
            };
            Ok(
                Redirect::to(&format!("/t/{tenant}/staff/navi/{code}?saved={saved}"))
                    .into_response(),
            )
        }
        Err(AppError::Conflict(_)) => {
            let e = one(i18n::t(lang, "error.conflict.navi_version").into());
            editor(
                &st.db,
                &staff,
                lang,
                &ws,
                EditorState::problems(&draft, stored.base_version, e, StatusCode::CONFLICT),
            )
            .await
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
    let current: i64 = f.get("version").and_then(|v| v.parse().ok()).unwrap_or(-1);
    let old = store::version_body(&st.db, &tenant, &code, version).await?;
    let live_draft = Draft::from_bundle(&live);
    let one = |message: String| {
        vec![FieldError {
            field: "code".into(),
            message,
        }]
    };
    // The catalogue may have changed since: the old version must still hold.
    if let Err(p) = editor::validate(&Draft::from_bundle(&old), &ws.context(false)) {
        let mut e = one(i18n::tf(
            lang,
            "staff.navi.restore_invalid",
            &[("version", &version.to_string())],
        ));
        e.extend(p.into_iter().map(|x| FieldError {
            field: "code".into(),
            message: x.message,
        }));
        return editor(
            &st.db,
            &staff,
            lang,
            &ws,
            EditorState::problems(&live_draft, current, e, StatusCode::UNPROCESSABLE_ENTITY),
        )
        .await;
    }
    if let Err(m) = ws.permit(&staff, Some(&live), &old) {
        return editor(
            &st.db,
            &staff,
            lang,
            &ws,
            EditorState::problems(&live_draft, current, one(m), StatusCode::FORBIDDEN),
        )
        .await;
    }
    match store::publish(
        &st.db,
        &tenant,
        &old,
        current,
        Origin::Restore(version),
        &staff.actor(),
    )
    .await
    {
        Ok(_) => {
            after_publish(&st, &tenant).await;
            Ok(
                Redirect::to(&format!("/t/{tenant}/staff/navi/{code}?saved=restored"))
                    .into_response(),
            )
        }
        Err(AppError::Conflict(_)) => {
            let e = one(i18n::t(lang, "error.conflict.navi_version").into());
            editor(
                &st.db,
                &staff,
                lang,
                &ws,
                EditorState::problems(&live_draft, current, e, StatusCode::CONFLICT),
            )
            .await
        }
        Err(e) => Err(e),
    }
}
