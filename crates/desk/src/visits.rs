//! 回らない窓口: life-event visits. At one desk (総合窓口) a clerk picks the
//! resident's life event (転入, 出生, おくやみ …), asks its yes/no
//! questions, identifies the resident (from the register or as typed) and
//! checks an identity document once. One case is then opened in every
//! department concerned, all linked as one visit and committed together;
//! each department sees the identity check and need not check again, and
//! the resident gets a routing sheet (案内票) listing where to go in order.
//!
//! The bundles themselves are data: `life_events` in the tenant profile
//! (see [`kernel::tenant::LifeEventBundle`]).

use std::collections::BTreeMap;

use kernel::auth::Clerk;
use kernel::db::Db;
use kernel::i18n::{self, Lang};
use kernel::ids::ReceiptNumber;
use kernel::registry::{ResidentRecord, ResidentRegistry};
use kernel::tenant::{LifeEventBundle, TenantProfile};
use kernel::{AppError, AppResult, FieldError};
use serde::Serialize;

use cases::committer::{
    Committer, NewApplication, NewIdentityCheck, NewVisit, NewVisitItem, VisitSubmitted,
};
use cases::status::Status;
use cases::visits::{IdDocument, Visit};
use catalogue::model::Channel;
use navi::plan::PlannedItem;

/// The longest note kept with an identity check.
pub const MAX_NOTE_CHARS: usize = cases::identity_checks::MAX_NOTE_CHARS;

/// A visit as a clerk's form or an API client sent it, before checking.
#[derive(Clone, Debug, Default)]
pub struct VisitInput {
    pub life_event: String,
    /// Question code → the answer (`None`: not answered).
    pub answers: BTreeMap<String, Option<bool>>,
    /// 宛名番号 of the resident chosen from the register, or empty.
    pub registry_id: String,
    /// Typed when the resident is not taken from the register.
    pub name: String,
    pub kana: String,
    pub document: String,
    pub note: String,
}

/// Where the fields of a [`VisitInput`] are, for error messages: the HTML
/// form's names or the JSON body's paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Names {
    Form,
    Api,
}

#[derive(Clone, Copy, Debug)]
pub enum Field<'a> {
    LifeEvent,
    Answer(&'a str),
    RegistryId,
    Name,
    Kana,
    Document,
    Note,
}

impl Names {
    pub fn of(self, f: Field<'_>) -> String {
        match (self, f) {
            (_, Field::LifeEvent) => "life_event".into(),
            (Names::Form, Field::Answer(q)) => format!("q_{q}"),
            (Names::Api, Field::Answer(q)) => format!("answers.{q}"),
            (Names::Form, Field::RegistryId) => "registry_id".into(),
            (Names::Api, Field::RegistryId) => "resident.registry_id".into(),
            (Names::Form, Field::Name) => "name".into(),
            (Names::Api, Field::Name) => "resident.name".into(),
            (Names::Form, Field::Kana) => "kana".into(),
            (Names::Api, Field::Kana) => "resident.kana".into(),
            (Names::Form, Field::Document) => "document".into(),
            (Names::Api, Field::Document) => "identity_check.document".into(),
            (Names::Form, Field::Note) => "note".into(),
            (Names::Api, Field::Note) => "identity_check.note".into(),
        }
    }
}

/// The resident of a checked visit.
#[derive(Clone, Debug)]
pub struct VisitResident {
    pub name: String,
    pub kana: String,
    /// The register's record when the resident was taken from it.
    pub record: Option<ResidentRecord>,
}

/// A visit that passed every check: ready to plan and open.
#[derive(Clone, Debug)]
pub struct VisitRequest {
    pub bundle: LifeEventBundle,
    pub answers: BTreeMap<String, bool>,
    pub resident: VisitResident,
    pub document: IdDocument,
    pub note: String,
}

fn err(names: Names, f: Field<'_>, message: String) -> FieldError {
    FieldError {
        field: names.of(f),
        message,
    }
}

/// A register name in the form the rest of madoguchi keeps names in
/// (spaces as one ideographic space, kana in katakana).
fn tidy_name(s: &str) -> String {
    jp::Kanji::parse(s)
        .map(|k| k.as_str().to_string())
        .unwrap_or_else(|_| s.trim().to_string())
}

fn tidy_kana(s: &str) -> String {
    jp::Kana::parse(s)
        .map(|k| k.as_str().to_string())
        .unwrap_or_else(|_| s.trim().to_string())
}

/// Checks a visit: the life event exists, every one of its questions is
/// answered and no other, the resident is found in the register or named
/// with a valid name and reading, and an identity document is given (with
/// a note naming it when it is "other"). Every problem is reported at
/// once, each naming its field, in `lang`.
pub async fn check(
    profile: &TenantProfile,
    registry: &dyn ResidentRegistry,
    input: &VisitInput,
    names: Names,
    lang: Lang,
) -> AppResult<VisitRequest> {
    let mut c = Checker {
        names,
        lang,
        errors: Vec::new(),
    };
    let bundle = c.life_event(profile, input.life_event.trim());
    let answers = bundle.map(|b| c.answers(b, input)).unwrap_or_default();
    let resident = if input.registry_id.trim().is_empty() {
        c.typed_resident(input)
    } else {
        c.registered_resident(profile, registry, input.registry_id.trim())
            .await?
    };
    let document = c.document(&input.document);
    let note = c.note(&input.note, document);
    match (bundle, resident, document) {
        (Some(b), Some(resident), Some(document)) if c.errors.is_empty() => Ok(VisitRequest {
            bundle: b.clone(),
            answers,
            resident,
            document,
            note,
        }),
        _ => Err(AppError::Validation(c.errors)),
    }
}

/// Collects a visit's problems, each naming its field.
struct Checker {
    names: Names,
    lang: Lang,
    errors: Vec<FieldError>,
}

impl Checker {
    fn push(&mut self, f: Field<'_>, message: String) {
        self.errors.push(err(self.names, f, message));
    }

    fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key).to_string()
    }

    fn life_event<'p>(
        &mut self,
        profile: &'p TenantProfile,
        code: &str,
    ) -> Option<&'p LifeEventBundle> {
        if code.is_empty() {
            let m = self.t("visit.error.life_event_missing");
            self.push(Field::LifeEvent, m);
            return None;
        }
        let b = profile.life_event(code);
        if b.is_none() {
            let m = i18n::tf(
                self.lang,
                "visit.error.life_event_unknown",
                &[("code", code)],
            );
            self.push(Field::LifeEvent, m);
        }
        b
    }

    /// Every question of the bundle answered, and no other.
    fn answers(&mut self, b: &LifeEventBundle, input: &VisitInput) -> BTreeMap<String, bool> {
        let lang = self.lang;
        for given in input.answers.keys() {
            if b.question(given).is_none() {
                let m = i18n::tf(
                    lang,
                    "visit.error.question_unknown",
                    &[("code", given), ("life_event", b.name.get(lang))],
                );
                self.push(Field::Answer(given), m);
            }
        }
        let mut answers = BTreeMap::new();
        for q in &b.questions {
            match input.answers.get(&q.code).copied().flatten() {
                Some(a) => {
                    answers.insert(q.code.clone(), a);
                }
                None => {
                    let m = i18n::tf(
                        lang,
                        "visit.error.answer_missing",
                        &[("question", q.text.get(lang))],
                    );
                    self.push(Field::Answer(&q.code), m);
                }
            }
        }
        answers
    }

    async fn registered_resident(
        &mut self,
        profile: &TenantProfile,
        registry: &dyn ResidentRegistry,
        id: &str,
    ) -> AppResult<Option<VisitResident>> {
        Ok(match registry.get(profile.code.as_str(), id).await? {
            Some(r) => Some(VisitResident {
                name: tidy_name(&r.name),
                kana: tidy_kana(&r.kana),
                record: Some(r),
            }),
            None => {
                let m = self.t("visit.error.registry_not_found");
                self.push(Field::RegistryId, m);
                None
            }
        })
    }

    /// A resident not taken from the register: name and reading as typed.
    fn typed_resident(&mut self, input: &VisitInput) -> Option<VisitResident> {
        let lang = self.lang;
        let name = if input.name.trim().is_empty() {
            let m = self.t("visit.error.name_missing");
            self.push(Field::Name, m);
            None
        } else {
            jp::Kanji::parse(&input.name)
                .map_err(|e| {
                    let m = i18n::parse_error(lang, &self.t("visit.field.name"), &e);
                    self.push(Field::Name, m)
                })
                .ok()
        };
        let kana = jp::Kana::parse(&input.kana)
            .map_err(|e| {
                let m = i18n::parse_error(lang, &self.t("visit.field.kana"), &e);
                self.push(Field::Kana, m)
            })
            .ok();
        Some(VisitResident {
            name: name?.as_str().to_string(),
            kana: kana?.as_str().to_string(),
            record: None,
        })
    }

    fn document(&mut self, document: &str) -> Option<IdDocument> {
        if document.trim().is_empty() {
            let m = self.t("visit.error.document_missing");
            self.push(Field::Document, m);
            return None;
        }
        let d = IdDocument::parse(document);
        if d.is_none() {
            let m = i18n::tf(
                self.lang,
                "visit.error.document_unknown",
                &[("value", document.trim())],
            );
            self.push(Field::Document, m);
        }
        d
    }

    /// The note: not too long, and naming the document when it is "other".
    fn note(&mut self, note: &str, document: Option<IdDocument>) -> String {
        let note = jp::nfc(note.trim());
        if note.chars().count() > MAX_NOTE_CHARS {
            let m = i18n::tf(
                self.lang,
                "visit.error.note_too_long",
                &[("max", &MAX_NOTE_CHARS.to_string())],
            );
            self.push(Field::Note, m);
        } else if let Some(d) = document.filter(|d| d.needs_note() && note.is_empty()) {
            let m = self.t(d.note_missing_key());
            self.push(Field::Note, m);
        }
        note
    }
}

/// What makes two requests "the same visit" for idempotency.
fn request_hash(db: &Db, req: &VisitRequest, actor: &str) -> String {
    let canonical = serde_json::json!({
        "life_event": req.bundle.code,
        "answers": req.answers,
        "registry_id": req.resident.record.as_ref().map(|r| r.id.as_str()),
        "name": req.resident.name,
        "kana": req.resident.kana,
        "document": req.document.as_str(),
        "note": req.note,
        "actor": actor,
    });
    db.keyed_hash(canonical.to_string().as_bytes())
}

/// Opens the visit: one case per planned procedure in its department
/// (channel `counter`, identity checked at the counter), the visit, its
/// identity check and items, in one transaction through the committer.
/// The same `key` with the same request finds the visit opened first.
pub async fn open(
    db: &Db,
    committer: &Committer,
    staff: &Clerk,
    req: &VisitRequest,
    planned: &[PlannedItem],
    key: &str,
    lang: Lang,
) -> AppResult<VisitSubmitted> {
    cases::intake::check_idempotency_key(key, lang)?;
    if planned.is_empty() {
        return Err(AppError::Validation(vec![FieldError {
            field: "life_event".into(),
            message: i18n::t(lang, "visit.error.nothing_to_open").into(),
        }]));
    }
    let now = kernel::clock::now_ms();
    let id = kernel::ids::short_id();
    let actor = staff.actor();
    let items = planned
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let p = &item.procedure.procedure;
            NewVisitItem {
                counter: item.counter.as_ref().map(|c| c.code.clone()),
                application: NewApplication {
                    tenant: staff.tenant.clone(),
                    procedure_id: p.id.clone(),
                    procedure_version: item.procedure.version,
                    procedure_name: p.name.get(lang).to_string(),
                    lang,
                    department: p.department.clone(),
                    // The resident does the procedure in person at the
                    // department's counter; the desk only opened the case.
                    channel: Channel::Counter,
                    online_capable: p.channels.online(),
                    answers: Default::default(),
                    applicant_name: req.resident.name.clone(),
                    applicant_kana: req.resident.kana.clone(),
                    email: None,
                    idempotency_key: format!("visit-{id}-{}", i + 1),
                    new_attachments: Vec::new(),
                    draft_id: None,
                    actor: actor.clone(),
                    identity_level: "counter".into(),
                    verified_fields: Vec::new(),
                    resident_subject: None,
                    submitted_at: now,
                    visit_id: Some(id.clone()),
                    identity_check: None,
                },
            }
        })
        .collect();
    committer
        .submit_visit(NewVisit {
            tenant: staff.tenant.clone(),
            id,
            life_event: req.bundle.code.clone(),
            answers: req.answers.clone(),
            resident_name: req.resident.name.clone(),
            resident_kana: req.resident.kana.clone(),
            registry_id: req.resident.record.as_ref().map(|r| r.id.clone()),
            department: staff.department.clone(),
            idempotency_key: key.to_string(),
            request_hash: request_hash(db, req, &actor),
            identity: NewIdentityCheck {
                document: req.document.as_str().to_string(),
                note: req.note.clone(),
                checked_by: staff.id.clone(),
                checked_by_name: staff.name.clone(),
                checked_at: now,
            },
            items,
            actor,
            created_at: now,
        })
        .await
}

// ----------------------------------------------------- shown to people

/// An item of a visit with everything a page, the API or the routing
/// sheet shows about it, in one language.
#[derive(Clone, Debug, Serialize)]
pub struct ItemView {
    pub seq: i64,
    pub procedure_id: String,
    pub procedure_name: String,
    pub department: String,
    pub department_name: String,
    pub counter: Option<String>,
    pub counter_name: Option<String>,
    pub location: Option<String>,
    /// Department, counter and location in one line.
    pub place: String,
    pub documents: Vec<String>,
    pub application_id: String,
    pub receipt_number: String,
    pub status: Status,
    pub status_label: &'static str,
    /// The viewer may open the case (their department's, or granted).
    #[serde(skip)]
    pub can_open: bool,
}

/// 「窓口サービス課 1番窓口（本庁舎1階）」: department, counter (or the
/// department's counter when it has none listed) and location.
pub fn place_text(
    department_name: &str,
    counter_name: Option<&str>,
    location: Option<&str>,
    lang: Lang,
) -> String {
    let mut s = format!(
        "{department_name} {}",
        counter_name.unwrap_or_else(|| i18n::t(lang, "visit.no_counter"))
    );
    if let Some(l) = location {
        s.push_str(&i18n::tf(lang, "visit.location", &[("location", l)]));
    }
    s
}

/// The department, counter and location names of a procedure's place.
pub fn place_names(
    profile: &TenantProfile,
    department: &str,
    counter: Option<&str>,
    lang: Lang,
) -> (String, Option<String>, Option<String>) {
    let dept = profile.department(department);
    (
        dept.map(|d| d.name.get(lang).to_string())
            .unwrap_or_else(|| department.to_string()),
        counter
            .and_then(|c| profile.counter(c))
            .map(|c| c.name.get(lang).to_string()),
        dept.and_then(|d| d.location.as_ref())
            .map(|l| l.get(lang).to_string()),
    )
}

/// The items of a visit for people: names from the catalogue and the
/// tenant, statuses in words, which cases the viewer may open.
pub async fn item_views(
    db: &Db,
    cache: &catalogue::Cache,
    profile: &TenantProfile,
    visit: &Visit,
    viewer: &kernel::auth::Staff,
    lang: Lang,
) -> AppResult<Vec<ItemView>> {
    let mut out = Vec::new();
    for i in &visit.items {
        let p = cache
            .get(db, profile.code.as_str(), &i.procedure_id)
            .await?;
        let (department_name, counter_name, location) =
            place_names(profile, &i.department, i.counter.as_deref(), lang);
        out.push(ItemView {
            seq: i.seq,
            procedure_id: i.procedure_id.clone(),
            procedure_name: p.procedure.name.get(lang).to_string(),
            department: i.department.clone(),
            place: place_text(
                &department_name,
                counter_name.as_deref(),
                location.as_deref(),
                lang,
            ),
            department_name,
            counter: i.counter.clone(),
            counter_name,
            location,
            documents: p
                .procedure
                .documents
                .iter()
                .map(|d| d.get(lang).to_string())
                .collect(),
            application_id: i.application_id.clone(),
            receipt_number: ReceiptNumber::parse(&i.application_id)
                .map(|r| r.display())
                .unwrap_or_else(|| i.application_id.clone()),
            status: i.status,
            status_label: i18n::t(lang, &i.status.label_key()),
            can_open: viewer.can_see_department(&i.department),
        });
    }
    Ok(out)
}

/// The visit as JSON for the API.
pub fn to_json(
    tenant: &str,
    profile: &TenantProfile,
    visit: &Visit,
    items: &[ItemView],
    lang: Lang,
) -> serde_json::Value {
    let bundle = profile.life_event(&visit.life_event);
    serde_json::json!({
        "id": visit.id,
        "life_event": {
            "code": visit.life_event,
            "name": bundle.map(|b| b.name.get(lang)).unwrap_or(visit.life_event.as_str()),
        },
        "answers": visit.answers,
        "resident": {
            "name": visit.resident_name,
            "kana": visit.resident_kana,
            "registry_id": visit.registry_id,
        },
        "department": visit.department,
        "created_by": visit.created_by,
        "created_at": kernel::clock::rfc3339_jst(visit.created_at),
        "identity_check": cases::visits::identity_json(&visit.identity, lang),
        "items": items.iter().map(|i| {
            let mut v = serde_json::to_value(i).unwrap_or_default();
            v["case_url"] = serde_json::Value::String(format!("/api/v1/t/{tenant}/staff/cases/{}", i.application_id));
            v
        }).collect::<Vec<_>>(),
        "visit_url": format!("/t/{tenant}/staff/visits/{}", visit.id),
        "routing_sheet_url": format!("/t/{tenant}/staff/visits/{}/routing.pdf", visit.id),
    })
}

// -------------------------------------------------------- routing sheet

/// The routing sheet (案内票): where to go, in order, and what to bring.
pub fn routing_sheet(
    profile: &TenantProfile,
    visit: &Visit,
    items: &[ItemView],
    lang: Lang,
) -> paper::Document {
    let t = |k: &str| i18n::t(lang, k).to_string();
    let bundle_name = profile
        .life_event(&visit.life_event)
        .map(|b| b.name.get(lang).to_string())
        .unwrap_or_else(|| visit.life_event.clone());
    let visit_date = {
        let full = kernel::clock::format_in(lang, visit.created_at);
        full.split(' ').next().unwrap_or(&full).to_string()
    };
    let steps = items
        .iter()
        .map(|i| {
            let mut lines = vec![
                i18n::tf(lang, "visit.sheet.place", &[("place", &i.place)]),
                i18n::tf(
                    lang,
                    "visit.sheet.receipt",
                    &[("receipt", &i.receipt_number)],
                ),
            ];
            if !i.documents.is_empty() {
                lines.push(i18n::tf(
                    lang,
                    "visit.sheet.bring",
                    &[("documents", &i.documents.join(&t("visit.sheet.separator")))],
                ));
            }
            paper::Step {
                title: i.procedure_name.clone(),
                lines,
            }
        })
        .collect();
    let mut footer = profile.name.get(lang).to_string();
    if let Some(phone) = &profile.phone {
        footer.push_str(&format!("  {phone}"));
    }
    paper::Document {
        title: format!("{}（{bundle_name}）", t("visit.sheet.title")),
        lang: lang.code().to_string(),
        blocks: vec![
            paper::Block::Title(t("visit.sheet.title")),
            paper::Block::Rows(vec![
                (
                    t("visit.sheet.municipality"),
                    profile.name.get(lang).to_string(),
                ),
                (t("visit.sheet.date"), visit_date),
                (
                    t("visit.sheet.resident"),
                    i18n::tf(
                        lang,
                        "visit.sheet.resident_value",
                        &[("name", &visit.resident_name)],
                    ),
                ),
                (t("visit.sheet.life_event"), bundle_name),
            ]),
            paper::Block::Heading(t("visit.sheet.steps")),
            paper::Block::Steps(steps),
            paper::Block::Note(i18n::tf(
                lang,
                "visit.sheet.identity_note",
                &[(
                    "document",
                    i18n::t(lang, &visit.identity.document.label_key()),
                )],
            )),
        ],
        footer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            Names::Api.of(Field::Answer("has_children")),
            "answers.has_children"
        );
        assert_eq!(
            Names::Form.of(Field::Answer("has_children")),
            "q_has_children"
        );
        assert_eq!(Names::Api.of(Field::Document), "identity_check.document");
        assert_eq!(tidy_name("四街道 太郎"), "四街道\u{3000}太郎");
        assert_eq!(
            tidy_kana("よつかいどう たろう"),
            "ヨツカイドウ\u{3000}タロウ"
        );
    }
}
