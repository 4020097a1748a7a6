//! Back-office pages: sign-in, the department's case queue, one case with
//! its history and the actions the member of staff may take, the procedure
//! catalogue (edit, history and undo, import/export) and the KPI page.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kernel::auth::{DeptAdmin, Role, Staff, SystemAdmin};
use kernel::i18n::{self, Lang, Text};
use kernel::web::{render_status, Page};
use kernel::web::{Choice, VersionLine};
use kernel::{AppError, AppResult, Db, FieldError};

use crate::csv_io;
use crate::model::{Channels, IdentityLevel, Procedure, LIFE_EVENTS};
use crate::store;

// ----------------------------------------------------------- catalogue

struct CatalogueRow {
    id: String,
    name: String,
    department: String,
    channels: &'static str,
    version: i64,
}

#[derive(Template)]
#[template(path = "staff_catalogue.html")]
struct CataloguePage {
    page: Page,
    rows: Vec<CatalogueRow>,
    errors: Vec<FieldError>,
    report: String,
    can_import: bool,
    can_edit_navi: bool,
}

async fn catalogue_page(
    db: &Db,
    staff: &Staff,
    lang: Lang,
    errors: Vec<FieldError>,
    report: String,
    status: StatusCode,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let items = store::list(db, &staff.tenant).await?;
    let page = kernel::web::staff_page(
        lang,
        &t,
        staff,
        i18n::t(lang, "staff.catalogue.title"),
        format!("/t/{}/staff/catalogue", staff.tenant),
    );
    Ok(render_status(
        status,
        &CataloguePage {
            rows: items
                .iter()
                .map(|s| CatalogueRow {
                    id: s.procedure.id.clone(),
                    name: s.procedure.name.get(lang).to_string(),
                    department: t
                        .department(&s.procedure.department)
                        .map(|d| d.name.get(lang).to_string())
                        .unwrap_or_default(),
                    channels: i18n::t(
                        lang,
                        &format!("procedure.channels.{}", s.procedure.channels.as_str()),
                    ),
                    version: s.version,
                })
                .collect(),
            errors,
            report,
            can_import: staff.has(Role::SystemAdmin),
            can_edit_navi: <DeptAdmin as kernel::auth::Proof>::holds(staff),
            page,
        },
    ))
}

pub async fn catalogue(State(db): State<Db>, staff: Staff, lang: Lang) -> AppResult<Response> {
    catalogue_page(&db, &staff, lang, Vec::new(), String::new(), StatusCode::OK).await
}

pub async fn export_csv(State(db): State<Db>, staff: Staff) -> AppResult<Response> {
    let items: Vec<Procedure> = store::list(&db, &staff.tenant)
        .await?
        .into_iter()
        .map(|s| s.procedure)
        .collect();
    crate::api::export_response(&staff.tenant, &items, "csv")
}

pub async fn export_json(State(db): State<Db>, staff: Staff) -> AppResult<Response> {
    let items: Vec<Procedure> = store::list(&db, &staff.tenant)
        .await?
        .into_iter()
        .map(|s| s.procedure)
        .collect();
    crate::api::export_response(&staff.tenant, &items, "json")
}

pub async fn import_post(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    staff: SystemAdmin,
    lang: Lang,
    mp: Multipart,
) -> AppResult<Response> {
    let posted = kernel::web::read_multipart(mp).await?;
    let dry_run = posted.control("dry_run") == "true";
    let Some((_, filename, bytes)) = posted.files.iter().find(|(n, _, _)| n == "file") else {
        let e = vec![FieldError {
            field: "file".into(),
            message: i18n::t(lang, "staff.catalogue.file_required").into(),
        }];
        return catalogue_page(
            &db,
            &staff,
            lang,
            e,
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let parsed = match std::str::from_utf8(bytes) {
        Err(_) => Err(vec![FieldError {
            field: "file".into(),
            message: i18n::t(lang, "staff.catalogue.not_utf8").into(),
        }]),
        Ok(text) if filename.to_lowercase().ends_with(".json") => csv_io::from_json(text),
        Ok(text) => csv_io::from_csv(text),
    };
    let sheet = !filename.to_lowercase().ends_with(".json");
    let carried = std::str::from_utf8(bytes)
        .map(csv_io::sheet_languages)
        .unwrap_or_default();
    let result = match parsed {
        Ok(items) if sheet => {
            match store::with_kept_translations(&db, &staff.tenant, items, &carried).await {
                Ok(items) => {
                    store::import(&db, &staff.tenant, &items, &staff.actor(), dry_run).await
                }
                Err(e) => Err(e),
            }
        }
        Ok(items) => store::import(&db, &staff.tenant, &items, &staff.actor(), dry_run).await,
        Err(e) => Err(AppError::Validation(e)),
    };
    cache.changed(&staff.tenant).await;
    match result {
        Ok(r) => {
            let key = if dry_run {
                "staff.catalogue.dry_run_report"
            } else {
                "staff.catalogue.import_report"
            };
            let report = i18n::tf(
                lang,
                key,
                &[
                    ("created", &r.created.to_string()),
                    ("updated", &r.updated.to_string()),
                    ("unchanged", &r.unchanged.to_string()),
                ],
            );
            catalogue_page(&db, &staff, lang, Vec::new(), report, StatusCode::OK).await
        }
        Err(AppError::Validation(e)) => {
            catalogue_page(
                &db,
                &staff,
                lang,
                e,
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The edit form's values, as text (what the member of staff typed is
/// shown back on error, nothing lost).
#[derive(Default, Clone)]
struct ProcedureFields {
    id: String,
    name_ja: String,
    description_ja: String,
    department: String,
    life_events: Vec<String>,
    channels: String,
    identity_level: String,
    fee_yen: String,
    documents_ja: String,
    processing_time_ja: String,
    /// Translations: `"{field}_{language code}"` (e.g. `name_pt-BR`) for
    /// each of [`TRANSLATED`] in every language but Japanese.
    translations: BTreeMap<String, String>,
    legal_basis: String,
    form_json: String,
    same_person_may_approve: bool,
}

/// The procedure's texts that are translated, with the locale key of
/// their label and whether they take several lines.
const TRANSLATED: [(&str, &str, bool); 4] = [
    ("name", "staff.edit.name", false),
    ("description", "staff.edit.description", true),
    ("processing_time", "staff.edit.processing_time", false),
    ("documents", "staff.edit.documents", true),
];

fn translation_key(field: &str, lang: Lang) -> String {
    format!("{field}_{}", lang.code())
}

/// One language's translation fields in the editor.
struct TranslationView {
    lang: Lang,
    filled: usize,
    fields: Vec<TextInput>,
}

/// A text field of the editor: its form name (and id suffix), label,
/// value, and whether it takes several lines.
struct TextInput {
    name: String,
    label: String,
    value: String,
    multiline: bool,
}

impl ProcedureFields {
    fn from_procedure(p: &Procedure) -> Self {
        let docs = |l: &str| {
            p.documents
                .iter()
                .map(|d| d.get_exact(l).unwrap_or_default().to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let mut translations = BTreeMap::new();
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::Ja) {
            let code = lang.code();
            let one = |t: &Text| t.get_exact(code).unwrap_or_default().to_string();
            translations.insert(translation_key("name", lang), one(&p.name));
            translations.insert(translation_key("description", lang), one(&p.description));
            translations.insert(
                translation_key("processing_time", lang),
                one(&p.processing_time),
            );
            let d = docs(code);
            // Nothing but line breaks is no translation.
            translations.insert(
                translation_key("documents", lang),
                if d.trim().is_empty() {
                    String::new()
                } else {
                    d
                },
            );
        }
        Self {
            id: p.id.clone(),
            name_ja: p.name.ja().into(),
            description_ja: p.description.ja().into(),
            department: p.department.clone(),
            life_events: p.life_events.clone(),
            channels: p.channels.as_str().into(),
            identity_level: p.identity_level.as_str().into(),
            fee_yen: p.fee_yen.to_string(),
            documents_ja: docs("ja"),
            processing_time_ja: p.processing_time.ja().into(),
            translations,
            legal_basis: p.legal_basis.clone(),
            form_json: serde_json::to_string_pretty(&p.form).unwrap_or_default(),
            same_person_may_approve: p.same_person_may_approve,
        }
    }

    fn from_form(f: &[(String, String)]) -> Self {
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let translations = Lang::ALL
            .into_iter()
            .filter(|l| *l != Lang::Ja)
            .flat_map(|lang| {
                TRANSLATED.iter().map(move |(field, _, _)| {
                    let k = translation_key(field, lang);
                    let v = get(&k);
                    (k, v)
                })
            })
            .collect();
        Self {
            id: get("id").trim().to_string(),
            name_ja: get("name_ja"),
            description_ja: get("description_ja"),
            department: get("department"),
            life_events: f
                .iter()
                .filter(|(n, _)| n == "life_events")
                .map(|(_, v)| v.clone())
                .collect(),
            channels: get("channels"),
            identity_level: get("identity_level"),
            fee_yen: get("fee_yen"),
            documents_ja: get("documents_ja"),
            processing_time_ja: get("processing_time_ja"),
            translations,
            legal_basis: get("legal_basis"),
            form_json: get("form_json"),
            same_person_may_approve: get("same_person_may_approve") == "true",
        }
    }

    /// Parses into a procedure, naming each field that is wrong.
    fn parse(&self) -> Result<Procedure, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        if self.name_ja.trim().is_empty() {
            err("name_ja", "「手続名（日本語）」を入力してください。");
        }
        if self.description_ja.trim().is_empty() {
            err("description_ja", "「説明（日本語）」を入力してください。");
        }
        if self.processing_time_ja.trim().is_empty() {
            err(
                "processing_time_ja",
                "「処理期間（日本語）」を入力してください（例：即日）。",
            );
        }
        let channels = Channels::parse(&self.channels);
        if channels.is_none() {
            err("channels", "「申請方法」を選んでください。");
        }
        let identity = IdentityLevel::parse(&self.identity_level);
        if identity.is_none() {
            err("identity_level", "「本人確認」を選んでください。");
        }
        let fee = jp::Yen::parse(if self.fee_yen.trim().is_empty() {
            "0"
        } else {
            &self.fee_yen
        });
        if fee.is_err() {
            err(
                "fee_yen",
                "「手数料」は0以上の整数（円）で入力してください。",
            );
        }
        let form = crate::form_json::parse(&self.form_json);
        if let Err(es) = &form {
            errors.extend(es.iter().map(|e| FieldError {
                field: "form_json".into(),
                message: format!("「申請フォーム（JSON）」の{e}"),
            }));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Procedure {
            id: self.id.clone(),
            name: self.text("name", &self.name_ja),
            description: self.text("description", &self.description_ja),
            department: self.department.clone(),
            life_events: self.life_events.clone(),
            channels: channels.unwrap_or(Channels::Counter),
            identity_level: identity.unwrap_or(IdentityLevel::None),
            fee_yen: fee.map(|y| y.amount()).unwrap_or(0),
            documents: self.documents(),
            processing_time: self.text("processing_time", &self.processing_time_ja),
            legal_basis: jp::nfc(self.legal_basis.trim()),
            form: form.unwrap_or_default(),
            same_person_may_approve: self.same_person_may_approve,
        })
    }

    /// One text in every language typed (an empty translation is none).
    fn text(&self, field: &str, ja: &str) -> Text {
        let mut t = Text::ja_only(jp::nfc(ja.trim()));
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::Ja) {
            let v = self
                .translations
                .get(&translation_key(field, lang))
                .map(|v| jp::nfc(v.trim()))
                .unwrap_or_default();
            t.set(lang.code(), v);
        }
        t
    }

    /// The documents, one per line, each language's lines paired with the
    /// Japanese by position.
    fn documents(&self) -> Vec<Text> {
        let doc_lines: BTreeMap<Lang, Vec<String>> = Lang::ALL
            .into_iter()
            .filter(|l| *l != Lang::Ja)
            .map(|lang| {
                let lines = self
                    .translations
                    .get(&translation_key("documents", lang))
                    .map(|v| v.lines().map(|l| jp::nfc(l.trim())).collect())
                    .unwrap_or_default();
                (lang, lines)
            })
            .collect();
        self.documents_ja
            .lines()
            .map(str::trim)
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, ja)| {
                let mut t = Text::ja_only(jp::nfc(ja));
                for (lang, lines) in &doc_lines {
                    t.set(lang.code(), lines.get(i).cloned().unwrap_or_default());
                }
                t
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "staff_procedure_edit.html")]
struct EditPage {
    page: Page,
    is_new: bool,
    v: ProcedureFields,
    version: i64,
    errors: Vec<FieldError>,
    departments: Vec<Choice>,
    events: Vec<Choice>,
    history: Vec<VersionLine>,
    saved: bool,
    /// Each language's translation state and review (not for a new one).
    translation: Option<translation::view::ReviewPanel>,
    /// Whether the member of staff may change this procedure (its
    /// department's administrator or a system administrator); others see
    /// it without the save, builder and restore controls.
    may_edit: bool,
}

impl EditPage {
    /// The translation state of `lang`, beside its fields.
    fn badge(&self, lang: &Lang) -> &str {
        self.translation
            .as_ref()
            .map(|t| t.badge(lang))
            .unwrap_or_default()
    }

    fn text_fields(&self) -> Vec<TextInput> {
        let v = &self.v;
        let input = |name: &str, key: &str, value: &str, multiline: bool| TextInput {
            name: name.to_string(),
            label: i18n::t(self.page.lang, key).to_string(),
            value: value.to_string(),
            multiline,
        };
        vec![
            input("name_ja", "staff.edit.name_ja", &v.name_ja, false),
            input(
                "description_ja",
                "staff.edit.description_ja",
                &v.description_ja,
                true,
            ),
            input(
                "processing_time_ja",
                "staff.edit.processing_time_ja",
                &v.processing_time_ja,
                false,
            ),
            input("fee_yen", "staff.edit.fee_yen", &v.fee_yen, false),
            input(
                "legal_basis",
                "staff.edit.legal_basis",
                &v.legal_basis,
                false,
            ),
            input(
                "documents_ja",
                "staff.edit.documents_ja",
                &v.documents_ja,
                true,
            ),
        ]
    }

    /// The translation fields, one group per language.
    fn translations(&self) -> Vec<TranslationView> {
        let lang = self.page.lang;
        Lang::ALL
            .into_iter()
            .filter(|l| *l != Lang::Ja)
            .map(|l| {
                let fields: Vec<TextInput> = TRANSLATED
                    .iter()
                    .map(|(field, key, multiline)| {
                        let name = translation_key(field, l);
                        TextInput {
                            value: self.v.translations.get(&name).cloned().unwrap_or_default(),
                            label: i18n::tf(lang, key, &[("language", l.native_name())]),
                            name,
                            multiline: *multiline,
                        }
                    })
                    .collect();
                TranslationView {
                    lang: l,
                    filled: fields.iter().filter(|f| !f.value.trim().is_empty()).count(),
                    fields,
                }
            })
            .collect()
    }

    /// A field's messages one by one (the form JSON may have many).
    fn errors_of(&self, field: &str) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect()
    }

    fn error(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[allow(clippy::too_many_arguments)]
async fn edit_page(
    db: &Db,
    staff: &Staff,
    lang: Lang,
    v: ProcedureFields,
    version: i64,
    is_new: bool,
    errors: Vec<FieldError>,
    saved: bool,
) -> AppResult<Response> {
    let t = kernel::tenant::load(db, &staff.tenant).await?;
    let (history, translation) = if is_new {
        (Vec::new(), None)
    } else {
        let stored = store::get(db, &staff.tenant, &v.id).await?;
        let entry = crate::translations::entry(&staff.tenant, &stored.procedure);
        let panel = translation::view::panel(
            db,
            staff,
            lang,
            &entry,
            format!("/t/{}/staff/catalogue/{}", staff.tenant, v.id),
        )
        .await?;
        (store::history(db, &staff.tenant, &v.id).await?, Some(panel))
    };
    let title = if is_new {
        i18n::t(lang, "staff.edit.new_title").to_string()
    } else {
        i18n::tf(lang, "staff.edit.title", &[("name", &v.name_ja)])
    };
    let path = if is_new {
        format!("/t/{}/staff/catalogue/new", staff.tenant)
    } else {
        format!("/t/{}/staff/catalogue/{}", staff.tenant, v.id)
    };
    let page = kernel::web::staff_page(lang, &t, staff, title, path)
        .crumb(
            i18n::t(lang, "staff.catalogue.title"),
            format!("/t/{}/staff/catalogue", staff.tenant),
        )
        .with_errors(!errors.is_empty());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render_status(
        status,
        &EditPage {
            page,
            is_new,
            may_edit: <DeptAdmin as kernel::auth::Proof>::check(staff.clone())
                .is_ok_and(|admin| admin.may_edit(&v.department)),
            departments: Choice::select(
                t.departments
                    .iter()
                    .map(|d| Choice::new(&d.code, d.name.get(lang)))
                    .collect(),
                &v.department,
            ),
            events: LIFE_EVENTS
                .iter()
                .map(|e| {
                    Choice::new(*e, i18n::t(lang, &format!("life_event.{e}")))
                        .selected(v.life_events.iter().any(|x| x == e))
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
            version,
            errors,
            saved,
            translation,
        },
    ))
}

#[derive(serde::Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn edit_procedure(
    State(db): State<Db>,
    staff: Staff,
    Path((_t, id)): Path<(String, String)>,
    Query(q): Query<SavedQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let s = store::get(&db, &staff.tenant, &id).await?;
    edit_page(
        &db,
        &staff,
        lang,
        ProcedureFields::from_procedure(&s.procedure),
        s.version,
        false,
        Vec::new(),
        q.saved.is_some(),
    )
    .await
}

pub async fn new_procedure(
    State(db): State<Db>,
    staff: DeptAdmin,
    lang: Lang,
) -> AppResult<Response> {
    let v = ProcedureFields {
        department: staff.department.clone(),
        channels: "both".into(),
        identity_level: "none".into(),
        fee_yen: "0".into(),
        form_json: "{\n  \"fields\": []\n}".into(),
        ..Default::default()
    };
    edit_page(&db, &staff, lang, v, 0, true, Vec::new(), false).await
}

async fn save_from_form(
    db: &Db,
    staff: &DeptAdmin,
    lang: Lang,
    form: Vec<(String, String)>,
    is_new: bool,
) -> AppResult<Response> {
    let v = ProcedureFields::from_form(&form);
    let version: i64 = form
        .iter()
        .find(|(k, _)| k == "version")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    // Another department's procedure is refused before anything typed is
    // read: `403`, not a page of its mistakes.
    let existing = if is_new {
        None
    } else {
        let existing = store::get(db, &staff.tenant, &v.id).await?;
        staff.require_department(&existing.procedure.department)?;
        Some(existing.procedure)
    };
    let p = match v.parse() {
        Ok(p) => p,
        Err(errors) => return edit_page(db, staff, lang, v, version, is_new, errors, false).await,
    };
    staff.require_department(&p.department)?;
    match store::save(
        db,
        &staff.tenant,
        &p,
        (!is_new).then_some(version),
        &staff.actor(),
    )
    .await
    {
        Ok(_) => {
            crate::translations::saved(db, &staff.tenant, existing.as_ref(), &p).await?;
            Ok(Redirect::to(&format!(
                "/t/{}/staff/catalogue/{}?saved=1",
                staff.tenant, p.id
            ))
            .into_response())
        }
        Err(AppError::Validation(errors)) => {
            edit_page(db, staff, lang, v, version, is_new, errors, false).await
        }
        Err(AppError::Conflict(what)) => {
            let errors = vec![FieldError {
                field: "id".into(),
                message: i18n::t(lang, &format!("error.conflict.{what}")).into(),
            }];
            edit_page(db, staff, lang, v, version, is_new, errors, false).await
        }
        Err(e) => Err(e),
    }
}

pub async fn create_procedure(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    staff: DeptAdmin,
    lang: Lang,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let r = save_from_form(&db, &staff, lang, form, true).await;
    cache.changed(&staff.tenant).await;
    r
}

pub async fn save_procedure(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    lang: Lang,
    Form(mut form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    form.retain(|(k, _)| k != "id");
    form.push(("id".into(), id));
    let r = save_from_form(&db, &staff, lang, form, false).await;
    cache.changed(&staff.tenant).await;
    r
}

pub async fn restore_procedure(
    State(db): State<Db>,
    State(cache): State<std::sync::Arc<store::Cache>>,
    staff: DeptAdmin,
    Path((_t, id)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let existing = store::get(&db, &staff.tenant, &id).await?;
    staff.require_department(&existing.procedure.department)?;
    let version = f
        .get("restore_version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::BadRequest("戻す版を指定してください。".into()))?;
    let current = f.get("version").and_then(|v| v.parse().ok()).unwrap_or(-1);
    // The version restored may belong to another department: the editor
    // must be allowed there too.
    let old = store::get_version(&db, &staff.tenant, &id, version).await?;
    staff.require_department(&old.department)?;
    store::restore(&db, &staff.tenant, &id, version, current, &staff.actor()).await?;
    crate::translations::saved(&db, &staff.tenant, Some(&existing.procedure), &old).await?;
    cache.changed(&staff.tenant).await;
    Ok(Redirect::to(&format!("/t/{}/staff/catalogue/{id}?saved=1", staff.tenant)).into_response())
}
