//! フォームビルダー pages: a procedure's form built field by field in
//! plain HTML forms (add, edit, move, delete with confirmation, undo,
//! discard), a preview as residents see it, publishing as a new procedure
//! version, and the JSON box for power users. Whoever may edit the
//! procedure (its department's admins, system admins) may use it; every
//! change is kept in the server-side draft until published.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::{DeptAdmin, Staff};
use kernel::i18n::{self, Lang};
use kernel::web::{render_status, Choice, Page, VersionLine};
use kernel::{AppError, AppResult, Db, FieldError};
use serde::Deserialize;

use crate::builder::{self, Direction, FieldInput};
use crate::builder_store::{self, FormDraft};
use crate::builder_view::{self, Control, TranslationGroup};
use crate::form::{FieldType, FormDef, RawInput};
use crate::model::StoredProcedure;
use crate::store;
use crate::templates;
use crate::view::{self, FieldView};

/// The procedure (of the staff member's department), its draft, and the
/// form being edited: the draft's, or the live one while there is none.
struct Editing {
    live: StoredProcedure,
    draft: Option<FormDraft>,
}

impl Editing {
    async fn load(db: &Db, staff: &DeptAdmin, id: &str) -> AppResult<Self> {
        let live = store::get(db, &staff.tenant, id).await?;
        staff.require_department(&live.procedure.department)?;
        let draft = builder_store::get(db, &staff.tenant, id).await?;
        Ok(Self { live, draft })
    }

    fn form(&self) -> &FormDef {
        self.draft
            .as_ref()
            .map_or(&self.live.procedure.form, |d| &d.form)
    }

    fn id(&self) -> &str {
        &self.live.procedure.id
    }

    /// Keeps a change as the draft (started now from the live version, or
    /// the draft's own base).
    async fn keep(&self, db: &Db, staff: &DeptAdmin, after: &FormDef, what: &str) -> AppResult<()> {
        let base = self
            .draft
            .as_ref()
            .map_or(self.live.version, |d| d.base_version);
        builder_store::save(
            db,
            &staff.tenant,
            self.id(),
            builder_store::Change {
                base_version: base,
                before: self.form(),
                after,
                what,
            },
            &staff.actor(),
        )
        .await
    }
}

fn base_path(staff: &Staff, id: &str) -> String {
    format!("/t/{}/staff/catalogue/{id}/form", staff.tenant)
}

fn done(staff: &Staff, id: &str, what: &str) -> Response {
    Redirect::to(&format!("{}?done={what}", base_path(staff, id))).into_response()
}

fn status_of(errors: &[FieldError]) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

async fn frame(
    db: &Db,
    staff: &Staff,
    lang: Lang,
    title: String,
    path: String,
    e: &Editing,
    errors: bool,
) -> AppResult<Page> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let mut page = kernel::web::staff_page(lang, &t, staff, title, path)
        .crumb(
            i18n::t(lang, "staff.catalogue.title"),
            format!("/t/{}/staff/catalogue", staff.tenant),
        )
        .crumb(
            e.live.procedure.name.get(lang).to_string(),
            format!("/t/{}/staff/catalogue/{}", staff.tenant, e.id()),
        );
    if errors {
        page = page.with_errors(true);
    }
    Ok(page)
}

// ------------------------------------------------------------- builder

struct FieldRow {
    name: String,
    label: String,
    kind: String,
    required: bool,
    condition: String,
    first: bool,
    last: bool,
}

#[derive(Template)]
#[template(path = "staff_form_builder.html")]
struct BuilderPage {
    page: Page,
    id: String,
    live_version: i64,
    draft: Option<String>,
    can_undo: bool,
    rows: Vec<FieldRow>,
    kinds: Vec<Choice>,
    errors: Vec<FieldError>,
    notice: String,
    json: String,
    history: Vec<VersionLine>,
    /// This procedure's form as shared (its template's line), if it is.
    shared: Option<String>,
    template_name: String,
    template_description: String,
}

impl BuilderPage {
    fn error(&self, field: &str) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect()
    }
}

fn kind_label(lang: Lang, k: FieldType) -> String {
    i18n::t(lang, &format!("staff.builder.type.{}", k.as_str())).to_string()
}

#[allow(clippy::too_many_arguments)]
async fn builder_page(
    db: &Db,
    staff: &Staff,
    lang: Lang,
    e: &Editing,
    errors: Vec<FieldError>,
    notice: String,
    json: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let name = e.live.procedure.name.get(lang).to_string();
    let page = frame(
        db,
        staff,
        lang,
        i18n::tf(lang, "staff.builder.title", &[("name", &name)]),
        base_path(staff, e.id()),
        e,
        !errors.is_empty(),
    )
    .await?;
    let form = e.form();
    let n = form.fields.len();
    let rows = form
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| FieldRow {
            name: f.name.clone(),
            label: f.label.get(lang).to_string(),
            kind: kind_label(lang, f.kind),
            required: f.required,
            condition: builder_view::condition(form, f, lang),
            first: i == 0,
            last: i + 1 == n,
        })
        .collect();
    let history = store::history(db, &staff.tenant, e.id())
        .await?
        .into_iter()
        .map(|h| VersionLine {
            version: h.version,
            at: kernel::clock::format_in(lang, h.saved_at),
            by: h.saved_by,
        })
        .collect();
    let shared = templates::get(db, &staff.tenant, e.id()).await?;
    let draft = e.draft.as_ref().map(|d| {
        i18n::tf(
            lang,
            "staff.builder.draft_status",
            &[
                ("version", &d.base_version.to_string()),
                ("at", &kernel::clock::format_in(lang, d.saved_at)),
                ("by", &d.saved_by),
            ],
        )
    });
    Ok(render_status(
        status,
        &BuilderPage {
            page,
            id: e.id().to_string(),
            live_version: e.live.version,
            can_undo: e.draft.as_ref().is_some_and(|d| d.can_undo),
            draft,
            rows,
            kinds: FieldType::ALL
                .iter()
                .map(|k| Choice::new(k.as_str(), kind_label(lang, *k)))
                .collect(),
            errors,
            notice,
            json: json.unwrap_or_else(|| serde_json::to_string_pretty(form).unwrap_or_default()),
            history,
            shared: shared.as_ref().map(|t| {
                i18n::tf(
                    lang,
                    "staff.builder.shared_status",
                    &[
                        ("name", &t.name),
                        ("at", &kernel::clock::format_in(lang, t.shared_at)),
                    ],
                )
            }),
            template_name: shared.as_ref().map_or_else(
                || e.live.procedure.name.ja().to_string(),
                |t| t.name.clone(),
            ),
            template_description: shared.map(|t| t.description).unwrap_or_default(),
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

fn notice(lang: Lang, done: Option<&str>) -> String {
    let key = match done {
        Some("added") => "staff.builder.done.added",
        Some("saved") => "staff.builder.done.saved",
        Some("moved") => "staff.builder.done.moved",
        Some("deleted") => "staff.builder.done.deleted",
        Some("undone") => "staff.builder.done.undone",
        Some("discarded") => "staff.builder.done.discarded",
        Some("imported") => "staff.builder.done.imported",
        Some("template") => "staff.builder.done.template",
        Some("shared") => "staff.builder.done.shared",
        Some("unshared") => "staff.builder.done.unshared",
        _ => return String::new(),
    };
    i18n::t(lang, key).to_string()
}

pub async fn builder(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let mut notice = notice(lang, q.done.as_deref());
    if let Some(v) = q.done.as_deref().and_then(|d| d.strip_prefix("published-")) {
        if v.parse::<i64>().is_ok() {
            notice = i18n::tf(lang, "staff.builder.published", &[("version", v)]);
        }
    }
    builder_page(
        &db,
        &staff,
        lang,
        &e,
        Vec::new(),
        notice,
        None,
        StatusCode::OK,
    )
    .await
}

// --------------------------------------------------------------- field

#[derive(Template)]
#[template(path = "staff_form_field.html")]
struct FieldPage {
    page: Page,
    id: String,
    action: String,
    kind: String,
    kind_label: String,
    errors: Vec<FieldError>,
    controls: Vec<Control>,
    translations: Vec<TranslationGroup>,
    /// The field as residents see it (updated as staff type, with script).
    fields: Vec<FieldView>,
    preview_url: String,
}

#[allow(clippy::too_many_arguments)]
async fn field_page(
    db: &Db,
    staff: &Staff,
    lang: Lang,
    e: &Editing,
    editing: Option<&str>,
    kind: FieldType,
    v: &FieldInput,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let base = base_path(staff, e.id());
    let (title, action) = match editing {
        None => (
            i18n::tf(
                lang,
                "staff.builder.field_title_new",
                &[("type", &kind_label(lang, kind))],
            ),
            format!("{base}/add"),
        ),
        Some(name) => (
            i18n::tf(
                lang,
                "staff.builder.field_title_edit",
                &[("label", &e.form().label_of(name, lang))],
            ),
            format!("{base}/fields/{name}"),
        ),
    };
    let page = frame(
        db,
        staff,
        lang,
        title,
        action.clone(),
        e,
        !errors.is_empty(),
    )
    .await?
    .crumb(i18n::t(lang, "staff.builder.crumb"), base.clone());
    let fields = builder_view::preview_one(v, kind, lang);
    let (controls, translations) =
        builder_view::controls(e.form(), editing, kind, v, &errors, lang);
    Ok(render_status(
        status_of(&errors),
        &FieldPage {
            page,
            id: e.id().to_string(),
            action,
            kind: kind.as_str().to_string(),
            kind_label: kind_label(lang, kind),
            errors,
            controls,
            translations,
            fields,
            preview_url: format!("{base}/preview-field"),
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct KindQuery {
    kind: Option<String>,
}

pub async fn add_form(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    Query(q): Query<KindQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let Some(kind) = q.kind.as_deref().and_then(builder::kind_of) else {
        let errors = vec![FieldError {
            field: "fb-add-kind".into(),
            message: "「追加する項目の種類」を一覧から選んでください。".into(),
        }];
        return builder_page(
            &db,
            &staff,
            lang,
            &e,
            errors,
            String::new(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let v = FieldInput(vec![(builder::input("kind"), kind.as_str().into())]);
    field_page(&db, &staff, lang, &e, None, kind, &v, Vec::new()).await
}

pub async fn add(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let v = FieldInput(form);
    let Some(kind) = builder::kind_of(v.get(&builder::input("kind"))) else {
        return Err(AppError::BadRequest(
            "「種類」を一覧から選んでください。".into(),
        ));
    };
    let after = v.read(kind).and_then(|f| builder::add(e.form(), f));
    match after {
        Ok(after) => {
            e.keep(&db, &staff, &after, "add").await?;
            Ok(done(&staff, &id, "added"))
        }
        Err(errors) => field_page(&db, &staff, lang, &e, None, kind, &v, errors).await,
    }
}

pub async fn edit_form(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id, name)): Path<(String, String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let f = e
        .form()
        .field(&name)
        .ok_or(AppError::NotFound("page"))?
        .clone();
    let v = FieldInput::of_field(&f);
    field_page(&db, &staff, lang, &e, Some(&name), f.kind, &v, Vec::new()).await
}

pub async fn edit(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id, name)): Path<(String, String, String)>,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let kind = e
        .form()
        .field(&name)
        .ok_or(AppError::NotFound("page"))?
        .kind;
    let v = FieldInput(form);
    match v
        .read(kind)
        .and_then(|f| builder::replace(e.form(), &name, f))
    {
        Ok(after) => {
            e.keep(&db, &staff, &after, "edit").await?;
            Ok(done(&staff, &id, "saved"))
        }
        Err(errors) => field_page(&db, &staff, lang, &e, Some(&name), kind, &v, errors).await,
    }
}

/// The live preview of the field being typed (script only): its HTML as
/// residents would see it, or the messages of what is wrong.
pub async fn preview_field(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let _ = Editing::load(&db, &staff, &id).await?;
    let v = FieldInput(form);
    let kind = builder::kind_of(v.get(&builder::input("kind"))).unwrap_or(FieldType::Text);
    let t = kernel::tenant::load(&db, &staff.tenant).await?;
    let page = kernel::web::staff_page(lang, &t, &staff, String::new(), String::new());
    Ok(render_status(
        StatusCode::OK,
        &LiveFragment {
            page,
            fields: builder_view::preview_one(&v, kind, lang),
        },
    ))
}

#[derive(Template)]
#[template(path = "staff_form_live.html")]
struct LiveFragment {
    page: Page,
    fields: Vec<FieldView>,
}

#[derive(Deserialize)]
pub struct MoveForm {
    direction: String,
}

pub async fn move_field(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id, name)): Path<(String, String, String)>,
    lang: Lang,
    Form(m): Form<MoveForm>,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let dir = Direction::parse(&m.direction)
        .ok_or_else(|| AppError::BadRequest("移動の向きを指定してください。".into()))?;
    match builder::move_field(e.form(), &name, dir) {
        Ok(after) => {
            e.keep(&db, &staff, &after, "move").await?;
            Ok(done(&staff, &id, "moved"))
        }
        Err(errors) => refused(&db, &staff, lang, &e, "staff.builder.move_refused", errors).await,
    }
}

/// An operation the form's rules refuse: the builder with its messages.
async fn refused(
    db: &Db,
    staff: &Staff,
    lang: Lang,
    e: &Editing,
    key: &str,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let what = i18n::t(lang, key);
    let errors = errors
        .into_iter()
        .map(|e| FieldError {
            field: e.field,
            message: format!("{what}{}", e.message),
        })
        .collect();
    builder_page(
        db,
        staff,
        lang,
        e,
        errors,
        String::new(),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Template)]
#[template(path = "staff_form_delete.html")]
struct DeletePage {
    page: Page,
    action: String,
    back: String,
    label: String,
}

pub async fn delete_form(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id, name)): Path<(String, String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let label = e
        .form()
        .field(&name)
        .ok_or(AppError::NotFound("page"))?
        .label
        .get(lang)
        .to_string();
    let base = base_path(&staff, &id);
    let action = format!("{base}/fields/{name}/delete");
    let page = frame(
        &db,
        &staff,
        lang,
        i18n::tf(lang, "staff.builder.delete_title", &[("label", &label)]),
        action.clone(),
        &e,
        false,
    )
    .await?
    .crumb(i18n::t(lang, "staff.builder.crumb"), base.clone());
    Ok(render_status(
        StatusCode::OK,
        &DeletePage {
            page,
            action,
            back: base,
            label,
        },
    ))
}

pub async fn delete(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id, name)): Path<(String, String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    match builder::remove(e.form(), &name) {
        Ok(after) => {
            e.keep(&db, &staff, &after, "delete").await?;
            Ok(done(&staff, &id, "deleted"))
        }
        Err(errors) => {
            refused(
                &db,
                &staff,
                lang,
                &e,
                "staff.builder.delete_refused",
                errors,
            )
            .await
        }
    }
}

pub async fn undo(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let _ = Editing::load(&db, &staff, &id).await?;
    builder_store::undo(&db, &staff.tenant, &id, &staff.actor()).await?;
    Ok(done(&staff, &id, "undone"))
}

pub async fn discard(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let _ = Editing::load(&db, &staff, &id).await?;
    builder_store::discard(&db, &staff.tenant, &id, &staff.actor()).await?;
    Ok(done(&staff, &id, "discarded"))
}

#[derive(Deserialize)]
pub struct JsonForm {
    form_json: String,
}

/// Power users: a whole definition typed as JSON becomes the draft, read
/// with the same Japanese messages as the procedure editor's box.
pub async fn import_json(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(j): Form<JsonForm>,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let read = crate::form_json::parse(&j.form_json)
        .map_err(|es| {
            es.into_iter()
                .map(|m| FieldError {
                    field: "fb-json".into(),
                    message: format!("「フォームの定義（JSON）」の{m}"),
                })
                .collect()
        })
        .and_then(builder::checked);
    match read {
        Ok(after) => {
            e.keep(&db, &staff, &after, "import").await?;
            Ok(done(&staff, &id, "imported"))
        }
        Err(errors) => {
            builder_page(
                &db,
                &staff,
                lang,
                &e,
                errors,
                String::new(),
                Some(j.form_json),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

// ------------------------------------------------------ preview, publish

#[derive(Template)]
#[template(path = "staff_form_preview.html")]
struct PreviewPage {
    page: Page,
    action: String,
    back: String,
    errors: Vec<FieldError>,
    checked: bool,
    fields: Vec<FieldView>,
}

/// The draft as residents will see it. Its button sends what was typed
/// back here (GET, nothing stored) to be checked by the form engine.
pub async fn preview(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    lang: Lang,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let form = e.form();
    let checked = q.iter().any(|(k, _)| k == "_check");
    let mut input = RawInput::default();
    for (k, v) in q.into_iter().filter(|(k, _)| !k.starts_with('_')) {
        input.values.insert(k, v);
    }
    let errors = if checked {
        let today = cache.today(&db, &staff.tenant).await?;
        crate::form::validate(form, &input, lang, &today)
            .err()
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let base = base_path(&staff, &id);
    let name = e.live.procedure.name.get(lang).to_string();
    let page = frame(
        &db,
        &staff,
        lang,
        i18n::tf(lang, "staff.builder.preview_title", &[("name", &name)]),
        format!("{base}/preview"),
        &e,
        !errors.is_empty(),
    )
    .await?
    .crumb(i18n::t(lang, "staff.builder.crumb"), base.clone());
    Ok(render_status(
        status_of(&errors),
        &PreviewPage {
            page,
            action: format!("{base}/preview"),
            back: base,
            fields: view::fields(form, &input, &errors, lang),
            errors,
            checked,
        },
    ))
}

pub async fn publish(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let r = builder_store::publish(&db, &staff.tenant, &e.live.procedure, &staff.actor()).await;
    cache.changed(&staff.tenant).await;
    match r {
        Ok(v) => Ok(done(&staff, &id, &format!("published-{v}"))),
        Err(AppError::Conflict(what)) => {
            let errors = vec![FieldError {
                field: builder::FORM_ANCHOR.into(),
                message: i18n::t(lang, &format!("error.conflict.{what}")).into(),
            }];
            builder_page(
                &db,
                &staff,
                lang,
                &e,
                errors,
                String::new(),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(AppError::Validation(errors)) => {
            builder_page(
                &db,
                &staff,
                lang,
                &e,
                errors,
                String::new(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ----------------------------------------------------------- templates

#[derive(Deserialize)]
pub struct ShareForm {
    #[serde(rename = "fb-template-name", default)]
    name: String,
    #[serde(rename = "fb-template-description", default)]
    description: String,
}

/// Shares the procedure's published form (not the draft) as a template.
pub async fn share(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(f): Form<ShareForm>,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    match templates::read(&f.name, &f.description) {
        Ok(typed) => {
            let form = &e.live.procedure.form;
            templates::share(&db, &staff.tenant, &id, typed, form, &staff.actor()).await?;
            Ok(done(&staff, &id, "shared"))
        }
        Err(errors) => {
            builder_page(
                &db,
                &staff,
                lang,
                &e,
                errors,
                String::new(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn unshare(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let _ = Editing::load(&db, &staff, &id).await?;
    templates::unshare(&db, &staff.tenant, &id, &staff.actor()).await?;
    Ok(done(&staff, &id, "unshared"))
}

struct TemplateRow {
    source: String,
    source_city: String,
    procedure_id: String,
    name: String,
    description: String,
    fields: usize,
    shared_at: String,
}

#[derive(Template)]
#[template(path = "staff_form_templates.html")]
struct TemplatesPage {
    page: Page,
    action: String,
    back: String,
    rows: Vec<TemplateRow>,
}

/// Every city's shared templates, to start this procedure's draft from.
pub async fn template_list(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let mut cities: std::collections::BTreeMap<String, String> = Default::default();
    let mut rows = Vec::new();
    for t in templates::list(&db).await? {
        if !cities.contains_key(&t.tenant) {
            let name = kernel::tenant::load(&db, &t.tenant)
                .await?
                .name
                .get(lang)
                .to_string();
            cities.insert(t.tenant.clone(), name);
        }
        rows.push(TemplateRow {
            source_city: cities.get(&t.tenant).cloned().unwrap_or_default(),
            source: t.tenant,
            procedure_id: t.procedure_id,
            name: t.name,
            description: t.description,
            fields: t.form.fields.len(),
            shared_at: kernel::clock::format_in(lang, t.shared_at),
        });
    }
    let base = base_path(&staff, &id);
    let name = e.live.procedure.name.get(lang).to_string();
    let page = frame(
        &db,
        &staff,
        lang,
        i18n::tf(lang, "staff.builder.templates_title", &[("name", &name)]),
        format!("{base}/templates"),
        &e,
        false,
    )
    .await?
    .crumb(i18n::t(lang, "staff.builder.crumb"), base.clone());
    Ok(render_status(
        StatusCode::OK,
        &TemplatesPage {
            page,
            action: format!("{base}/templates/use"),
            back: base,
            rows,
        },
    ))
}

#[derive(Deserialize)]
pub struct UseForm {
    source: String,
    template: String,
}

/// Starts (or replaces) the draft with a shared template's form.
pub async fn use_template(
    State(db): State<Db>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(u): Form<UseForm>,
) -> AppResult<Response> {
    let e = Editing::load(&db, &staff, &id).await?;
    let t = templates::get(&db, &u.source, &u.template)
        .await?
        .ok_or(AppError::NotFound("form_template"))?;
    match builder::checked(t.form) {
        Ok(after) => {
            e.keep(&db, &staff, &after, "template").await?;
            Ok(done(&staff, &id, "template"))
        }
        Err(errors) => {
            builder_page(
                &db,
                &staff,
                lang,
                &e,
                errors,
                String::new(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
