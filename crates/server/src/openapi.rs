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

pub fn spec() -> Value {
    let mut spec = base_spec();
    if let (Some(paths), Value::Object(visits)) = (spec["paths"].as_object_mut(), visit_paths()) {
        paths.extend(visits);
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
