//! The OpenAPI 3.1 description of the JSON API, served at
//! `/api/openapi.json`. Each procedure's answers are described by its own
//! JSON Schema at `GET /api/v1/t/{tenant}/procedures/{id}` (`answers_schema`),
//! because forms are data.

use axum::Json;
use serde_json::{json, Value};

fn op(summary: &str, tag: &str, params: &[&str], body: Option<Value>, responses: Value) -> Value {
    let mut o = json!({
        "summary": summary,
        "tags": [tag],
        "parameters": params.iter().map(|p| json!({"$ref": format!("#/components/parameters/{p}")})).collect::<Vec<_>>(),
        "responses": responses,
    });
    if let Some(b) = body {
        o["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": b}}});
    }
    o
}

fn ok(desc: &str) -> Value {
    json!({"200": {"description": desc}, "404": {"$ref": "#/components/responses/Error"}})
}

fn staff(v: Value) -> Value {
    let mut v = v;
    v["security"] = json!([{"staffSession": []}]);
    v["responses"]["401"] = json!({"$ref": "#/components/responses/Error"});
    v["responses"]["403"] = json!({"$ref": "#/components/responses/Error"});
    v
}

/// The one-stop life-event visits (回らない窓口).
fn visit_paths() -> Value {
    let visit_body = json!({"type": "object", "required": ["life_event", "answers", "resident", "identity_check"], "additionalProperties": false, "properties": {
        "life_event": {"type": "string", "example": "moving-in", "description": "Code of a life event of GET /api/v1/t/{tenant}/life-events"},
        "answers": {"type": "object", "additionalProperties": {"type": "boolean"}, "description": "Every question code of the life event → true (yes) or false (no)", "example": {"has_children": true, "joins_nhi": false}},
        "resident": {"type": "object", "additionalProperties": false, "description": "Either registry_id (宛名番号 from the resident register) or name and kana", "properties": {"registry_id": {"type": "string"}, "name": {"type": "string", "example": "四街道 太郎"}, "kana": {"type": "string", "example": "ヨツカイドウ タロウ"}}},
        "identity_check": {"type": "object", "required": ["document"], "additionalProperties": false, "properties": {"document": {"type": "string", "enum": ["my_number_card", "drivers_license", "passport", "residence_card", "other"]}, "note": {"type": "string", "maxLength": 200, "description": "Required for other: the document's name (never its number)"}}}
    }});
    json!({
        "/api/v1/t/{tenant}/life-events": {"get": op("Life events (転入, 転出, 出生, おくやみ, 婚姻 …) with their yes/no questions and every procedure each may bring, in order, with department, counter, location and documents to bring (public, to prepare a visit). An item applies when its `when` question is answered yes and its `unless` question is not.", "visits", &["tenant"], None, ok("Life events"))},
        "/api/v1/t/{tenant}/staff/visits": {
            "get": staff(op("Recent life-event visits the member of staff may see (their department took the visit or has one of its cases), newest first, with progress. Audited.", "visits", &["tenant"], None, ok("Visits"))),
            "post": staff(op("One-stop intake of a life-event visit (clerks): the identity check is recorded once and one case is opened in each department concerned (channel counter), all in one transaction. A retry with the same Idempotency-Key and body returns the same visit (200). Unknown life event or question, a missing answer, identity document or resident name: 422 naming the field, nothing written.", "visits", &["tenant", "idempotencyKey"], Some(visit_body), json!({"201": {"description": "Created: the visit with its identity check and cases (receipt numbers, departments, counters, status), visit_url and routing_sheet_url (案内票 PDF)"}, "200": {"description": "Replayed: the visit created earlier with this key"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))
        },
        "/api/v1/t/{tenant}/staff/visits/{id}": {"get": staff(op("One visit: resident, life event, answers, the identity check (document, by whom, when) and each department's case with its current status. Audited.", "visits", &["tenant", "id"], None, ok("Visit")))}
    })
}

/// 手続ナビの編集: the navigator's life-event bundles, edited by staff.
fn navi_editor_paths() -> Value {
    let text = json!({"type": "object", "required": ["ja"], "additionalProperties": {"type": "string"}, "description": "Text by language code (ja required; en, … optional)", "example": {"ja": "転入", "en": "Moving in"}});
    let bundle = json!({"type": "object", "additionalProperties": false, "required": ["name", "items"], "properties": {
        "code": {"type": "string", "description": "The life event's code (a slug); the same as in the URL, may be omitted"},
        "name": text, "description": text,
        "questions": {"type": "array", "maxItems": 30, "items": {"type": "object", "additionalProperties": false, "required": ["code", "text"], "properties": {
            "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}, "text": text, "hint": text}}},
        "items": {"type": "array", "minItems": 1, "maxItems": 60, "items": {"type": "object", "additionalProperties": false, "required": ["procedure"], "properties": {
            "procedure": {"type": "string", "description": "A procedure id of the tenant's catalogue"},
            "when": {"type": "string", "description": "Listed only when this question is answered yes"},
            "unless": {"type": "string", "description": "Not listed when this question is answered yes"},
            "counter": {"type": "string", "description": "A counter of the procedure's department (default: its first)"},
            "deadline": text, "note": text}}}
    }});
    let invalid = "422 names every field (questions[0].code, items[2].procedure, name.ja …) in Japanese and changes nothing; 403 when the change touches procedures of a department the member of staff may not edit (department administrators edit their own department's, system administrators all)";
    json!({
        "/api/v1/t/{tenant}/staff/navi": {"get": staff(op("手続ナビの編集: every life event with its live version, last change and draft (department and system administrators)", "navigator", &["tenant"], None, ok("Life events")))},
        "/api/v1/t/{tenant}/staff/navi/{lifeEvent}": {
            "get": staff(op("A life event's live bundle, its version and the draft being edited", "navigator", &["tenant", "lifeEvent"], None, ok("Bundle"))),
            "put": staff(op(&format!("Publish a bundle (creates the life event if new), in one transaction, keeping the version with who and when (audited). `version` is the live version the change was made from; another publish since is 409. {invalid}."), "navigator", &["tenant", "lifeEvent"], Some(json!({"type": "object", "required": ["bundle"], "additionalProperties": false, "properties": {"bundle": bundle, "version": {"type": "integer", "minimum": 0, "description": "Live version edited (0 for a new life event or one never edited)"}}})), json!({"200": {"description": "Updated (or unchanged): outcome, version, bundle"}, "201": {"description": "Created"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))
        },
        "/api/v1/t/{tenant}/staff/navi/{lifeEvent}/versions": {"get": staff(op("Every published version of a life event, newest first: version, origin (initial = as loaded from tenant.json, publish, restore), restored_from, published_at, published_by and the bundle", "navigator", &["tenant", "lifeEvent"], None, ok("Versions")))},
        "/api/v1/t/{tenant}/staff/navi/{lifeEvent}/restore": {"post": staff(op(&format!("Restore (undo): publish an earlier version again as a new version. {invalid}; 409 when `version` is not the live version."), "navigator", &["tenant", "lifeEvent"], Some(json!({"type": "object", "required": ["restore_version", "version"], "additionalProperties": false, "properties": {"restore_version": {"type": "integer"}, "version": {"type": "integer", "description": "The live version now"}}})), json!({"200": {"description": "Restored: outcome, version, bundle"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))}
    })
}

/// FAQ, staff knowledge and the chatbot (迷わない窓口).
fn guide_paths() -> Value {
    let text = json!({"type": "object", "required": ["ja"], "additionalProperties": {"type": "string"}, "description": "Language code → text; Japanese (ja) required", "example": {"ja": "住民票はどこで取れますか", "en": "Where can I get a residence certificate?"}});
    let entry = json!({"type": "object", "required": ["question", "answer", "category", "department", "audience"], "additionalProperties": false, "properties": {
        "question": text.clone(),
        "answer": {"$ref": "#/components/schemas/Text", "description": "Plain text (no HTML); paragraphs separated by an empty line"},
        "category": {"type": "string", "enum": ["certificates", "moving", "mynumber", "tax", "waste", "children", "health", "counter", "online", "other"]},
        "department": {"type": "string", "description": "Department code; its department admins (and system admins) may edit the entry"},
        "procedures": {"type": "array", "maxItems": 10, "items": {"type": "string"}, "description": "Ids of related procedures in the tenant's catalogue"},
        "audience": {"type": "string", "enum": ["public", "staff"], "description": "public: the FAQ; staff: knowledge (ナレッジ) for signed-in staff of the tenant only"},
        "published": {"type": "boolean", "default": true}
    }});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}});
    let with_id = |mut o: Value| {
        if let Some(p) = o["parameters"].as_array_mut() {
            p.push(id.clone());
        }
        o
    };
    json!({
        "/api/v1/t/{tenant}/faq": {"get": op("FAQ: published public entries, by category, in the request language (question_lang says when the Japanese is shown for a missing translation)", "faq", &["tenant"], None, ok("Entries"))},
        "/api/v1/t/{tenant}/faq/{id}": {"get": with_id(op("One public FAQ entry: question, answer (with their languages), related procedures. Knowledge and unpublished entries are 404 here.", "faq", &["tenant"], None, ok("Entry")))},
        "/api/v1/t/{tenant}/faq/{id}/feedback": {"post": with_id(op("\"Was this helpful?\" One vote per entry per client (the mdg_voter cookie, set on the first vote); voting again replaces the vote.", "faq", &["tenant"], Some(json!({"type": "object", "required": ["helpful"], "additionalProperties": false, "properties": {"helpful": {"type": "boolean"}}})), json!({"200": {"description": "Recorded"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/faq": {
            "get": staff(op("Every FAQ and knowledge entry of the tenant, unpublished ones included, with version and helpful / not helpful counts", "faq", &["tenant"], None, ok("Entries"))),
            "post": staff(op("Create an entry (department admins for their department, system admins for any); audited", "faq", &["tenant"], Some(entry.clone()), json!({"201": {"description": "Created: id, version"}, "422": {"$ref": "#/components/responses/Error"}})))
        },
        "/api/v1/t/{tenant}/staff/faq/{id}": {
            "get": staff(with_id(op("One entry with its version history", "faq", &["tenant"], None, ok("Entry")))),
            "put": staff(with_id(op("Save a new version (set published false to withdraw it); a stale version is 409; audited", "faq", &["tenant"], Some(json!({"type": "object", "required": ["version", "entry"], "additionalProperties": false, "properties": {"version": {"type": "integer"}, "entry": entry}})), json!({"200": {"description": "Saved: version"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))))
        },
        "/api/v1/t/{tenant}/staff/faq/{id}/restore": {"post": staff(with_id(op("Restore an earlier version as a new version (undo); audited", "faq", &["tenant"], Some(json!({"type": "object", "required": ["restore_version", "version"], "additionalProperties": false, "properties": {"restore_version": {"type": "integer"}, "version": {"type": "integer", "description": "The version now current"}}})), json!({"200": {"description": "Restored: version"}, "409": {"$ref": "#/components/responses/Error"}}))))},
        "/api/v1/t/{tenant}/chat": {"post": op("Chatbot: answers a question by retrieval from the FAQ, the procedures and the navigator, with the sources used. declined = true when nothing relevant was found (the question is then logged for staff, digits masked) and contact gives the department or city phone, office hours and website. With the city's generative mode on (tenant.json `chat`), a model may phrase the answer from the same sources only (generated = true); a reply that cites anything else is discarded. Nothing is stored about the conversation.", "chat", &["tenant"], Some(json!({"type": "object", "required": ["message"], "additionalProperties": false, "properties": {"message": {"type": "string", "maxLength": 200, "example": "住民票の取り方"}, "lang": {"type": "string", "example": "ja"}}})), json!({"200": {"description": "answer, answer_lang, sources [{title, url, kind}], declined, generated, contact {department, phone, hours, url}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))}
    })
}

pub fn spec() -> Value {
    let mut spec = base_spec();
    if let Some(paths) = spec["paths"].as_object_mut() {
        for extra in [visit_paths(), navi_editor_paths()] {
            if let Value::Object(more) = extra {
                paths.extend(more);
            }
        }
    }
    if let (Some(paths), Value::Object(guide)) = (spec["paths"].as_object_mut(), guide_paths()) {
        paths.extend(guide);
    }
    spec
}

fn base_spec() -> Value {
    let answers = json!({"type": "object", "properties": {
        "answers": {"type": "object", "description": "Field name → value, as described by the procedure's answers_schema"},
        "lang": {
            "type": "string",
            "enum": kernel::Lang::ALL.iter().map(|l| l.code()).collect::<Vec<_>>(),
            "description": "Language of the messages (and of the receipt e-mail); aliases such as pt or zh-CN are accepted"
        }
    }});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "madoguchi API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "デジタル市役所 madoguchi の API。手続カタログ、オンライン申請、一時保存、申請者の状況確認と補正、職員の審査、KPI、窓口の整理券と混雑状況、書かない窓口（職員による代理入力）、ライフイベントの来庁受付（回らない窓口）。Every error has the body {\"error\": {code, message, message_en, detail?, fields?}}; validation errors (422) list each field with a Japanese message naming it."
        },
        "paths": {
            "/healthz": {"get": {"summary": "Health check", "tags": ["system"], "responses": {"200": {"description": "Up"}, "503": {"description": "Database unavailable"}}}},
            "/api/v1/tenants": {"get": {"summary": "Municipalities served", "tags": ["tenants"], "responses": {"200": {"description": "List"}}}},
            "/api/v1/t/{tenant}": {"get": op("A municipality with departments and counters", "tenants", &["tenant"], None, ok("Tenant"))},
            "/api/v1/t/{tenant}/procedures": {"get": op("Procedure catalogue", "procedures", &["tenant"], None, ok("Procedures"))},
            "/api/v1/t/{tenant}/procedures/{id}": {"get": op("One procedure with its form and answers_schema", "procedures", &["tenant", "id"], None, ok("Procedure"))},
            "/api/v1/t/{tenant}/procedures/{id}/validate": {"post": op("Validate answers without submitting", "applications", &["tenant", "id"], Some(answers.clone()), json!({"200": {"description": "Valid; normalised answers"}, "422": {"$ref": "#/components/responses/Error"}}))},
            "/api/v1/t/{tenant}/procedures/{id}/applications": {"post": op("Submit an application (online channel). A retry with the same Idempotency-Key returns the same case.", "applications", &["tenant", "id", "idempotencyKey"], Some(answers.clone()), json!({
                "201": {"description": "Created: receipt_number, access_token, case_url"},
                "200": {"description": "Replayed: the case created earlier with this key"},
                "400": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
                "413": {"$ref": "#/components/responses/Error"},
                "422": {"$ref": "#/components/responses/Error"}
            }))},
            "/api/v1/t/{tenant}/drafts": {"post": op("Save a draft; returns a token to resume it", "drafts", &["tenant"], Some(json!({"type": "object", "required": ["procedure_id"], "properties": {"procedure_id": {"type": "string"}, "answers": {"type": "object"}}})), json!({"201": {"description": "Draft token"}, "404": {"$ref": "#/components/responses/Error"}}))},
            "/api/v1/t/{tenant}/drafts/{token}": {
                "get": op("Resume a draft", "drafts", &["tenant", "token"], None, ok("Draft")),
                "put": op("Update a draft", "drafts", &["tenant", "token"], Some(answers.clone()), ok("Saved"))
            },
            "/api/v1/t/{tenant}/my/{receipt}/{token}": {
                "get": op("The applicant's view of their case", "applications", &["tenant", "receipt", "token"], None, ok("Case")),
                "put": op("Resubmit corrected answers after a correction request (補正)", "applications", &["tenant", "receipt", "token"], Some(json!({"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}, "answers": {"type": "object"}}})), json!({"200": {"description": "Back under review"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))
            },
            "/api/v1/t/{tenant}/kpi": {"get": op("KPIs for a fiscal year (online share of procedures, applications by channel, share of applications for online-capable procedures)", "kpi", &["tenant", "fy"], None, ok("KPI report"))},
            "/api/v1/t/{tenant}/staff/session": {
                "post": op("Staff sign-in with password and second factor (TOTP code or a recovery code); sets the session cookie. Accounts without a second factor enrol in the browser first. Five failures lock the account for 15 minutes (429); rate-limited per client and tenant.", "staff", &["tenant"], Some(json!({"type": "object", "required": ["id", "password", "code"], "properties": {"id": {"type": "string"}, "password": {"type": "string"}, "code": {"type": "string", "description": "6 digits from the authenticator app, or a recovery code"}}})), json!({"200": {"description": "Signed in"}, "401": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}})),
                "delete": op("Sign out", "staff", &["tenant"], None, json!({"204": {"description": "Signed out"}}))
            },
            "/api/v1/t/{tenant}/staff/cases": {"get": staff(op("The department's cases (filters: status, procedure, q, assignee, page). Audited.", "staff", &["tenant"], None, ok("Cases")))},
            "/api/v1/t/{tenant}/staff/cases/{id}": {"get": staff(op("One case with history and allowed actions; マイナンバー masked unless `?reveal=my_number` (each reveal audited). A case opened at a life-event visit has visit_id and the visit's identity_check. Audited.", "staff", &["tenant", "id"], None, ok("Case")))},
            "/api/v1/t/{tenant}/staff/cases/{id}/actions": {"post": staff(op("Move a case on: start_review, request_correction, approve, reject, complete", "staff", &["tenant", "id"], Some(json!({"type": "object", "required": ["action", "version"], "properties": {"action": {"type": "string", "enum": ["start_review", "request_correction", "approve", "reject", "complete"]}, "version": {"type": "integer"}, "message": {"type": "string"}}})), json!({"200": {"description": "New status"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))},
            "/api/v1/t/{tenant}/staff/cases/{id}/comments": {"post": staff(op("Internal comment", "staff", &["tenant", "id"], Some(json!({"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}})), json!({"201": {"description": "Added"}})))},
            "/api/v1/t/{tenant}/staff/cases/{id}/assign": {"post": staff(op("Assign a case", "staff", &["tenant", "id"], Some(json!({"type": "object", "required": ["assignee", "version"], "properties": {"assignee": {"type": "string"}, "version": {"type": "integer"}}})), json!({"200": {"description": "Assigned"}})))},
            "/api/v1/t/{tenant}/staff/procedures/{id}": {"put": staff(op("Create or update a procedure (optimistic: send the version you edited)", "catalogue", &["tenant", "id"], Some(json!({"type": "object", "required": ["procedure"], "properties": {"procedure": {"type": "object"}, "version": {"type": "integer"}}})), json!({"200": {"description": "Updated"}, "201": {"description": "Created"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))},
            "/api/v1/t/{tenant}/staff/procedures/{id}/applications": {"post": staff(op("Enter an application at the counter: channel counter (paper form) or proxy (entered by a clerk for the resident)", "staff", &["tenant", "id", "idempotencyKey"], Some(json!({"type": "object", "required": ["channel"], "properties": {"channel": {"type": "string", "enum": ["counter", "proxy"]}, "answers": {"type": "object"}}})), json!({"201": {"description": "Created"}, "200": {"description": "Replayed"}, "422": {"$ref": "#/components/responses/Error"}})))},
            "/api/v1/t/{tenant}/staff/catalogue": {
                "get": staff(op("Export the catalogue (format=csv|json)", "catalogue", &["tenant", "format"], None, ok("File"))),
                "post": staff(op("Import a catalogue, all or nothing (format=csv|json, dry_run=true to preview). Send it as Content-Type text/csv or application/json.", "catalogue", &["tenant", "format", "dryRun"], Some(json!({"type": "string"})), json!({"200": {"description": "Created / updated / unchanged counts"}, "422": {"$ref": "#/components/responses/Error"}})))
            },
            "/api/v1/t/{tenant}/staff/outbox": {"get": staff(op("Queued e-mails (system administrators)", "staff", &["tenant"], None, ok("Mails")))},
            "/api/v1/t/{tenant}/staff/audit": {"get": staff(op("Audit entries about one target (security officers); verify=true also checks the hash chain", "audit", &["tenant", "target"], None, ok("Entries")))},
            "/api/v1/t/{tenant}/staff/registry/residents": {"get": staff(op("Search the resident register (住民記録) by kana, name or birth date (clerks; at least one; at most 20 results; audited)", "assisted", &["tenant", "kana", "name", "birthDate"], None, json!({"200": {"description": "Residents: id (宛名番号), name, kana, birth_date, sex, postal_code, address, household_id, relationship, resident_since"}, "422": {"$ref": "#/components/responses/Error"}})))},
            "/api/v1/t/{tenant}/staff/assisted-entries": {"post": staff(op("書かない窓口: open an application a clerk fills in for a resident, pre-filled from a register record; returns the entry with the second-screen link (confirm_url) and the printable PDF", "assisted", &["tenant"], Some(json!({"type": "object", "required": ["procedure_id"], "properties": {"procedure_id": {"type": "string"}, "registry_id": {"type": "string"}, "ticket_id": {"type": "string"}}})), json!({"201": {"description": "Entry"}, "422": {"$ref": "#/components/responses/Error"}})))},
            "/api/v1/t/{tenant}/staff/assisted-entries/{id}": {
                "get": staff(op("An assisted entry: status (editing, confirming, signed, submitted, cancelled), answers (マイナンバー masked), verified fields", "assisted", &["tenant", "id"], None, ok("Entry"))),
                "put": staff(op("Save the answers: 200 and status confirming when complete; 422 with the field errors otherwise (what was sent is kept). Fields read from the card keep the card's values; a change after signing needs a new signature.", "assisted", &["tenant", "id"], Some(json!({"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}, "answers": {"type": "object"}}})), json!({"200": {"description": "Entry"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))
            },
            "/api/v1/t/{tenant}/staff/assisted-entries/{id}/{entryAction}": {"post": staff(op("paper-signature (the resident signed the printed application), submit (file it as channel proxy; returns the receipt number; repeating gives the same case) or cancel", "assisted", &["tenant", "id", "entryAction"], Some(json!({"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}}})), json!({"200": {"description": "Entry"}, "201": {"description": "Filed: receipt_number, application_id"}, "409": {"$ref": "#/components/responses/Error"}})))},
            "/api/v1/t/{tenant}/assist/{id}/{token}/signature": {"post": op("The resident's signature from the second screen: agree must be true; signature is strokes of points in a 600×200 box, \"x,y x,y;x,y …\"", "assisted", &["tenant", "id", "token"], Some(json!({"type": "object", "required": ["version", "agree", "signature"], "properties": {"version": {"type": "integer"}, "agree": {"type": "boolean"}, "signature": {"type": "string"}}})), json!({"200": {"description": "Signed"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))},
            "/api/v1/t/{tenant}/navi/{lifeEvent}": {"get": op("手続ナビ: the procedures a life event brings for the answers given as query parameters (each question's code = yes or no, all required): online or at which counter, documents, fee, deadline, and a share_url (answers only in the URL; nothing stored)", "navigator", &["tenant", "lifeEvent"], None, json!({"200": {"description": "Procedures in order"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))},
            "/api/v1/t/{tenant}/search": {"get": op("One search over procedures, FAQ and 手続ナビ pages: Japanese by bigrams and readings (じゅうみんひょう finds 住民票), width and kana folding, typo tolerance, the tenant's synonyms; facets by department and life event. A query that finds nothing is logged for staff (digits masked). 422 names the field for an empty, over-200-character, symbol-only or control-character query and for unknown filters", "search", &["tenant", "q", "department", "lifeEventFilter", "kind", "page"], None, json!({"200": {"description": "Hits (20 per page), total, facets, synonyms used"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))},
            "/api/v1/t/{tenant}/staff/search/synonyms": {"get": staff(op("The tenant's synonym groups (department admins, system admins)", "search", &["tenant"], None, ok("Groups"))), "post": staff(op("Add a synonym group (2–12 terms, 40 characters each); search uses it at once; undo on the staff page", "search", &["tenant"], Some(json!({"type": "object", "required": ["terms"], "properties": {"terms": {"type": "array", "items": {"type": "string"}, "example": ["マイナ", "マイナンバーカード"]}}})), json!({"201": {"description": "Group created"}, "422": {"$ref": "#/components/responses/Error"}})))},
            "/api/v1/t/{tenant}/staff/search/synonyms/{id}": {"put": staff(op("Replace a synonym group's terms", "search", &["tenant", "id"], Some(json!({"type": "object", "required": ["terms"], "properties": {"terms": {"type": "array", "items": {"type": "string"}}}})), json!({"200": {"description": "Group saved"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))), "delete": staff(op("Delete a synonym group (kept in the history; undo on the staff page)", "search", &["tenant", "id"], None, json!({"204": {"description": "Deleted"}, "404": {"$ref": "#/components/responses/Error"}})))},
            "/api/v1/t/{tenant}/staff/search/misses": {"get": staff(op("Queries residents searched without result, most frequent first (digits masked; dismissed ones come back when residents miss again)", "search", &["tenant"], None, ok("Misses")))},
            "/api/v1/t/{tenant}/counter/tickets": {"post": op("Issue a numbered ticket (整理券) for a counter; returns it with the link to its status page (place and estimated wait are there)", "counter", &["tenant"], Some(json!({"type": "object", "required": ["counter"], "properties": {"counter": {"type": "string", "example": "c2"}}})), json!({"201": {"description": "Ticket and status link"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))},
            "/api/v1/t/{tenant}/counter/tickets/{id}/{token}": {"get": op("A ticket's status: called or not, people ahead, estimated wait", "counter", &["tenant", "id", "token"], None, json!({"200": {"description": "Ticket and place"}, "404": {"$ref": "#/components/responses/Error"}}))},
            "/api/v1/t/{tenant}/counter/board": {"get": op("Every counter: number now called, people waiting, estimated wait (live: GET /t/{tenant}/counter/board/events, Server-Sent Events)", "counter", &["tenant"], None, ok("Board"))},
            "/api/v1/t/{tenant}/counter/congestion": {"get": op("Congestion (混雑状況): every counter now (people waiting, number called, estimated wait for someone who takes a ticket now, band: free under 20 min, moderate 20–40, crowded over 40, none when closed) and the forecast by weekday and hour 8–17 (mean wait from issue to first call over the 56 days before today; none under 3 tickets; the 3 quietest times as `best`). Method: docs/COUNTER.md", "counter", &["tenant"], None, ok("Now and forecast"))},
            "/api/v1/t/{tenant}/counter/congestion.csv": {"get": op("Congestion history as CSV for open data (UTF-8 with BOM; one row per day, hour and counter with tickets: 全国地方公共団体コード, 地方公共団体名, 日付, 曜日, 時台, 窓口コード, 窓口名, 発行枚数, 呼出枚数, 対応完了枚数, 平均待ち時間（分）, 最長待ち時間（分）; no personal data). Also at /t/{tenant}/counter/congestion.csv", "counter", &["tenant", "from", "to"], None, json!({"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}))},
            "/api/v1/t/{tenant}/staff/counter/{counter}/call": {"post": staff(op("Call the next waiting ticket of a counter (clerks of the department that runs the counter, or system administrators; 403 MDG-403-counter_department otherwise); 409 when nobody waits", "counter", &["tenant", "counter"], None, json!({"200": {"description": "Ticket called"}, "409": {"$ref": "#/components/responses/Error"}})))},
            "/api/v1/t/{tenant}/staff/tickets/{id}/{action}": {"post": staff(op("recall, absent, finish, or transfer (with `to`: any other open counter of the municipality; the ticket keeps its place) a called ticket (clerks of the department that runs the ticket's counter, or system administrators)", "counter", &["tenant", "id", "action"], Some(json!({"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}, "to": {"type": "string"}}})), json!({"200": {"description": "Ticket"}, "409": {"$ref": "#/components/responses/Error"}})))}
        },
        "components": {
            "parameters": {
                "tenant": {"name": "tenant", "in": "path", "required": true, "description": "全国地方公共団体コード (6 digits with check digit), e.g. 122289", "example": "122289", "schema": {"type": "string", "pattern": "^[0-9]{6}$"}},
                "id": {"name": "id", "in": "path", "required": true, "example": "juminhyo-copy", "schema": {"type": "string"}},
                "token": {"name": "token", "in": "path", "required": true, "schema": {"type": "string"}},
                "receipt": {"name": "receipt", "in": "path", "required": true, "description": "受付番号 (12 digits)", "schema": {"type": "string"}},
                "idempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": true, "description": "8–128 characters; reuse it when retrying", "schema": {"type": "string"}},
                "fy": {"name": "fy", "in": "query", "required": false, "description": "年度: 2026, 令和8年度 or R8", "schema": {"type": "string"}},
                "format": {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["csv", "json"]}},
                "dryRun": {"name": "dry_run", "in": "query", "required": false, "schema": {"type": "boolean"}},
                "target": {"name": "target", "in": "query", "required": true, "schema": {"type": "string"}},
                "from": {"name": "from", "in": "query", "required": false, "description": "First day (JST), 和暦 or 西暦: 2026-04-01 or 令和8年4月1日. Default: 55 days before `to`", "schema": {"type": "string"}},
                "to": {"name": "to", "in": "query", "required": false, "description": "Last day, included (at most 366 days after `from`). Default: today", "schema": {"type": "string"}},
                "counter": {"name": "counter", "in": "path", "required": true, "example": "c2", "schema": {"type": "string"}},
                "action": {"name": "action", "in": "path", "required": true, "schema": {"type": "string", "enum": ["recall", "absent", "finish", "transfer"]}},
                "q": {"name": "q", "in": "query", "required": true, "description": "What to search for (1–200 characters)", "example": "じゅうみんひょう", "schema": {"type": "string"}},
                "department": {"name": "department", "in": "query", "required": false, "description": "Department code (facet)", "schema": {"type": "string"}},
                "lifeEventFilter": {"name": "life_event", "in": "query", "required": false, "description": "Life-event code (facet)", "schema": {"type": "string"}},
                "kind": {"name": "kind", "in": "query", "required": false, "schema": {"type": "string", "enum": ["procedure", "faq", "navi"]}},
                "page": {"name": "page", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 50}},
                "lifeEvent": {"name": "lifeEvent", "in": "path", "required": true, "example": "moving-in", "schema": {"type": "string"}},
                "entryAction": {"name": "entryAction", "in": "path", "required": true, "schema": {"type": "string", "enum": ["paper-signature", "submit", "cancel"]}},
                "kana": {"name": "kana", "in": "query", "required": false, "description": "フリガナ (katakana or hiragana, spaces ignored)", "schema": {"type": "string"}},
                "name": {"name": "name", "in": "query", "required": false, "schema": {"type": "string"}},
                "birthDate": {"name": "birth_date", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}}
            },
            "responses": {
                "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            },
            "schemas": {
                "Text": {"type": "object", "required": ["ja"], "additionalProperties": {"type": "string"}, "description": "Language code → text; Japanese (ja) required"},
                "Error": {"type": "object", "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "description": "Stable code to read out to a clerk, e.g. MDG-404-procedure"},
                    "message": {"type": "string"}, "message_en": {"type": "string"}, "detail": {"type": "string"},
                    "fields": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
                }}}}
            },
            "securitySchemes": {
                "staffSession": {"type": "apiKey", "in": "cookie", "name": "mdg_staff"}
            }
        }
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}
