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
    json!({"200": {"description": desc}})
}

/// A staff operation: the session cookie. Its 401 and 403 are added by
/// [`complete`] like every other standard error.
fn staff(v: Value) -> Value {
    let mut v = v;
    v["security"] = json!([{"staffSession": []}]);
    v
}

/// The one-stop life-event visits (回らない窓口).
fn visit_paths() -> Value {
    let visit_body = json!({"type": "object", "required": ["life_event", "answers", "resident", "identity_check"], "additionalProperties": false, "properties": {
        "life_event": {"type": "string", "example": "moving-in", "description": "Code of a life event of GET /api/v1/t/{tenant}/life-events"},
        "answers": {"type": "object", "additionalProperties": {"type": "boolean"}, "description": "Every question code of the life event → true (yes) or false (no)", "example": {"has_children": true, "joins_nhi": false}},
        "resident": {"type": "object", "additionalProperties": false, "description": "Either registry_id (宛名番号 from the resident register) or name and kana", "properties": {"registry_id": {"type": "string"}, "name": {"type": "string", "example": "四街道 太郎"}, "kana": {"type": "string", "example": "ヨツカイドウ タロウ"}}},
        "identity_check": {"type": "object", "required": ["document"], "additionalProperties": false, "properties": {"document": {"type": "string", "enum": ["my_number_card", "drivers_license", "passport", "residence_card", "special_permanent_resident_certificate", "health_insurance_plus_one", "other"]}, "note": {"type": "string", "maxLength": 200, "description": "Required for other (the document's name) and health_insurance_plus_one (the second document's name); never a number"}}}
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
    let text = text_schema(
        "Text by language code (ja required; en, … optional)",
        json!({"ja": "転入", "en": "Moving in"}),
    );
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

/// 翻訳の状況: the state of each entry's translation per language, and
/// its review (content editors: department and system administrators).
fn translation_paths() -> Value {
    let langs = json!(["ja-x-easy", "en", "pt-BR", "vi", "zh-Hans", "ko"]);
    let filter = json!([
        {"$ref": "#/components/parameters/tenant"},
        {"name": "language", "in": "query", "required": false, "description": "Only this language (empty: all six languages besides Japanese)", "schema": {"type": "string", "enum": ["", "ja-x-easy", "en", "pt-BR", "vi", "zh-Hans", "ko"]}},
        {"name": "state", "in": "query", "required": false, "description": "Only this state: missing (at least one of the entry's texts lacks the language), machine_assisted (unreviewed), unreviewed (a staff translation), reviewed", "schema": {"type": "string", "enum": ["", "missing", "machine_assisted", "unreviewed", "reviewed"]}}
    ]);
    let target = json!([
        {"$ref": "#/components/parameters/tenant"},
        {"name": "kind", "in": "path", "required": true, "schema": {"type": "string", "enum": ["city", "department", "counter", "procedure", "life_event", "faq"]}},
        {"name": "entry", "in": "path", "required": true, "description": "The entry's id (a procedure id, an FAQ number, a life event's or counter's or department's code, the tenant code for the city)", "schema": {"type": "string"}},
        {"name": "lang", "in": "path", "required": true, "schema": {"type": "string", "enum": langs}}
    ]);
    let line = "the translation's line: kind, id, title, lang, state, missing_fields, fields, origin (machine_assisted, staff or null), review {by, by_name, at} or null, edit_url";
    let mut list = staff(op("翻訳の状況: every entry of the tenant (the city's texts, departments, counters, procedures, 手続ナビ questionnaires, FAQ) × the six languages besides Japanese: counts per language and state (over every entry) and the lines the filter keeps. 422 names the query field that is not one of its values.", "translations", &[], None, json!({"200": {"description": "counts [{lang, missing, machine_assisted, unreviewed, reviewed}], entries, lines [line]"}, "422": {"$ref": "#/components/responses/Error"}})));
    list["parameters"] = filter;
    let mut review = staff(op(&format!("Mark the translation reviewed by the signed-in member of staff (never a typed-in name); audited (translation.review). 422 when the entry has no text in the language. Answers {line}."), "translations", &[], None, json!({"200": {"description": "The translation's line, reviewed"}, "422": {"$ref": "#/components/responses/Error"}})));
    review["parameters"] = target.clone();
    let mut unreview = staff(op(&format!("Undo the review (unreviewed again); audited (translation.unreview). 422 when it is not reviewed. Answers {line}."), "translations", &[], None, json!({"200": {"description": "The translation's line, unreviewed"}, "422": {"$ref": "#/components/responses/Error"}})));
    unreview["parameters"] = target;
    json!({
        "/api/v1/t/{tenant}/staff/translations": {"get": list},
        "/api/v1/t/{tenant}/staff/translations/{kind}/{entry}/{lang}/review": {"put": review, "delete": unreview}
    })
}

/// FAQ, staff knowledge and the chatbot (迷わない窓口).
fn guide_paths() -> Value {
    let text = text_schema(
        "Language code → text; Japanese (ja) required",
        json!({"ja": "住民票はどこで取れますか", "en": "Where can I get a residence certificate?"}),
    );
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
        "/api/v1/t/{tenant}/faq/{id}/feedback": {"post": with_id(op("\"Was this helpful?\" One vote per entry per client (the mdg_voter cookie, set on the first vote); voting again replaces the vote.", "faq", &["tenant"], Some(json!({"type": "object", "required": ["helpful"], "additionalProperties": false, "properties": {"helpful": {"type": "boolean"}}})), json!({"200": {"description": "Recorded"}})))},
        "/api/v1/t/{tenant}/staff/faq": {
            "get": staff(op("Every FAQ and knowledge entry of the tenant, unpublished ones included, with version and helpful / not helpful counts", "faq", &["tenant"], None, ok("Entries"))),
            "post": staff(op("Create an entry (department admins for their department, system admins for any); audited", "faq", &["tenant"], Some(entry.clone()), json!({"201": {"description": "Created: id, version"}, "422": {"$ref": "#/components/responses/Error"}})))
        },
        "/api/v1/t/{tenant}/staff/faq/{id}": {
            "get": staff(with_id(op("One entry with its version history", "faq", &["tenant"], None, ok("Entry")))),
            "put": staff(with_id(op("Save a new version (set published false to withdraw it); a stale version is 409; audited", "faq", &["tenant"], Some(json!({"type": "object", "required": ["version", "entry"], "additionalProperties": false, "properties": {"version": {"type": "integer"}, "entry": entry}})), json!({"200": {"description": "Saved: version"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))))
        },
        "/api/v1/t/{tenant}/staff/faq/{id}/restore": {"post": staff(with_id(op("Restore an earlier version as a new version (undo); audited", "faq", &["tenant"], Some(json!({"type": "object", "required": ["restore_version", "version"], "additionalProperties": false, "properties": {"restore_version": {"type": "integer"}, "version": {"type": "integer", "description": "The version now current"}}})), json!({"200": {"description": "Restored: version"}, "409": {"$ref": "#/components/responses/Error"}}))))},
        "/api/v1/t/{tenant}/chat": {"post": op("Chatbot: answers a question by retrieval from the FAQ, the procedures and the navigator, with the sources used. declined = true when nothing relevant was found (the question is then logged for staff, digits masked) and contact gives the department or city phone, office hours and website. With the city's generative mode on (tenant.json `chat`), a model may phrase the answer from the same sources only (generated = true); a reply that cites anything else is discarded. Nothing is stored about the conversation.", "chat", &["tenant"], Some(json!({"type": "object", "required": ["message"], "additionalProperties": false, "properties": {"message": {"type": "string", "maxLength": 200, "example": "住民票の取り方"}, "lang": lang_schema("Language of the answer (default: the request's)")}})), json!({"200": {"description": "answer, answer_lang, sources [{title, url, kind}], declined, generated, contact {department, phone, hours, url}"}, "422": {"$ref": "#/components/responses/Error"}}))}
    })
}

pub fn spec() -> Value {
    let mut spec = base_spec();
    add_paths(&mut spec);
    complete(&mut spec);
    spec
}

fn add_paths(spec: &mut Value) {
    if let Some(paths) = spec["paths"].as_object_mut() {
        for extra in [visit_paths(), navi_editor_paths(), translation_paths()] {
            if let Value::Object(more) = extra {
                paths.extend(more);
            }
        }
    }
    if let (Some(paths), Value::Object(guide)) = (spec["paths"].as_object_mut(), guide_paths()) {
        paths.extend(guide);
    }
}

/// The errors every operation of a kind can answer, added to each
/// operation from what it is (so no operation forgets one):
///
/// - a tenant in the path: 404 (`MDG-404-tenant`: not a municipality code,
///   answered before any handler by [`crate::tenant_path`], or not one
///   served here; other path values name what was not found);
/// - a request body: 400 (`MDG-400`, it does not parse: the field named),
///   413 (over the body limit) and 422 (validation, each field named);
/// - query parameters or a typed path value: 400 (a value that does not parse);
/// - a state-changing method: 403 (`MDG-403-csrf`: from another site, or
///   not JSON);
/// - staff (the session cookie): 401 (no session) and 403 (not the role or
///   department this needs);
/// - sign-in and submission: 429, from the same rule as the rate limiter
///   ([`kernel::ratelimit::classify`]).
///
/// Operation-specific answers (201, 409, a 422 without a body …) are
/// written with the operation.
pub fn complete(spec: &mut Value) {
    bound_integers(&mut spec["components"]);
    if let Some(paths) = spec["paths"].as_object_mut() {
        for item in paths.values_mut() {
            bound_integers(item);
        }
    }
    let params = spec["components"]["parameters"].clone();
    let Some(paths) = spec["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let standard = standard_errors(path, method, op, &params);
            let Some(responses) = op["responses"].as_object_mut() else {
                continue;
            };
            for (code, name) in standard {
                responses
                    .entry(code)
                    .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
            }
            // An error written with the operation says what its status
            // means like the standard ones do.
            for (code, response) in responses.iter_mut() {
                if response["$ref"] == "#/components/responses/Error" {
                    if let Some(name) = error_response(code) {
                        *response = json!({"$ref": format!("#/components/responses/{name}")});
                    }
                }
            }
        }
    }
}

/// The component response that describes an error status.
fn error_response(code: &str) -> Option<&'static str> {
    Some(match code {
        "400" => "BadRequest",
        "401" => "Unauthorized",
        "403" => "Forbidden",
        "404" => "NotFound",
        "409" => "Conflict",
        "413" => "PayloadTooLarge",
        "422" => "Invalid",
        "429" => "TooManyRequests",
        _ => return None,
    })
}

/// Every integer the server reads is an `i64` unless its schema says
/// otherwise (a count is `u64`): an integer schema without bounds gets the
/// `i64` range, so a number the server cannot hold is not called valid.
fn bound_integers(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let integer = match o.get("type") {
                Some(Value::String(t)) => t == "integer",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
                _ => false,
            };
            if integer {
                o.entry("minimum").or_insert(json!(i64::MIN));
                o.entry("maximum").or_insert(json!(i64::MAX));
            }
            o.values_mut().for_each(bound_integers);
        }
        Value::Array(a) => a.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// The standard errors of one operation: (status, component response).
fn standard_errors(
    path: &str,
    method: &str,
    op: &Value,
    params: &Value,
) -> Vec<(&'static str, &'static str)> {
    let resolved: Vec<&Value> = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| match p["$ref"].as_str() {
                    Some(r) => &params[r.trim_start_matches("#/components/parameters/")],
                    None => p,
                })
                .collect()
        })
        .unwrap_or_default();
    let has_body = op.get("requestBody").is_some();
    let has_query = resolved.iter().any(|p| p["in"] == "query");
    let typed_path = resolved
        .iter()
        .any(|p| p["in"] == "path" && p["schema"]["type"] != "string");
    let unsafe_method = !matches!(method, "get" | "head" | "options");
    let is_staff = op.get("security").is_some();
    let http_method = axum::http::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).ok();
    let concrete = path.replace("{tenant}", "122289");
    let limited = http_method.is_some_and(|m| {
        kernel::ratelimit::classify(&m, &concrete).is_some_and(|(_, t)| t != "invalid")
    });
    let mut out = Vec::new();
    if has_body || has_query || typed_path {
        out.push(("400", "BadRequest"));
    }
    if is_staff {
        out.push(("401", "Unauthorized"));
    }
    if is_staff || unsafe_method {
        out.push(("403", "Forbidden"));
    }
    if path.contains("{tenant}") {
        out.push(("404", "NotFound"));
    }
    if has_body {
        out.push(("413", "PayloadTooLarge"));
        out.push(("422", "Invalid"));
    }
    if limited {
        out.push(("429", "TooManyRequests"));
    }
    out
}

/// Characters Rust's `str::trim` removes (Unicode White_Space): a text
/// must have something else.
const NOT_BLANK: &str =
    "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// `kernel::i18n::Text`: language code → text, the Japanese not blank.
fn text_schema(description: &str, example: Value) -> Value {
    json!({"type": "object", "required": ["ja"], "properties": {"ja": {"type": "string", "pattern": NOT_BLANK}}, "additionalProperties": {"type": "string"}, "description": description, "example": example})
}

/// Every spelling `kernel::Lang::parse` takes (any case, `_` for `-`,
/// surrounding white space ignored).
const LANG_ALIASES: [&str; 32] = [
    "ja",
    "ja-jp",
    "jpn",
    "ja-x-easy",
    "easy",
    "ja-easy",
    "easy-ja",
    "yasashii",
    "en",
    "en-us",
    "en-gb",
    "en-au",
    "en-ca",
    "en-in",
    "eng",
    "pt",
    "pt-br",
    "pt-pt",
    "por",
    "vi",
    "vi-vn",
    "vie",
    "zh",
    "zh-cn",
    "zh-sg",
    "zh-hans",
    "zh-hans-cn",
    "zh-hans-sg",
    "zho",
    "ko",
    "ko-kr",
    "kor",
];

/// A language: one of [`LANG_ALIASES`], exactly as `Lang::parse` reads it.
fn lang_schema(description: &str) -> Value {
    let space =
        "[\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*";
    let alternatives: Vec<String> = LANG_ALIASES
        .iter()
        .map(|a| {
            a.chars()
                .map(|c| match c {
                    '-' => "[-_]".to_string(),
                    c if c.is_ascii_alphabetic() => {
                        format!("[{}{}]", c, c.to_ascii_uppercase())
                    }
                    c => c.to_string(),
                })
                .collect()
        })
        .collect();
    json!({
        "type": ["string", "null"],
        "pattern": format!("^{space}({}){space}$", alternatives.join("|")),
        "description": format!("{description}: {} (any case; aliases such as pt, zh-CN or en-GB are accepted)", kernel::Lang::ALL.iter().map(|l| l.code()).collect::<Vec<_>>().join(", ")),
        "example": "ja"
    })
}

/// The catalogue import's body: CSV (format=csv, as exported) or a JSON
/// array of procedures (format=json, the default).
fn import_body(mut op: Value) -> Value {
    op["requestBody"] = json!({"required": true, "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Procedure"}}}
    }});
    op
}

/// A procedure as `catalogue::model::Procedure` reads it (unknown fields
/// refused), for PUT and the JSON import.
fn procedure_schema() -> Value {
    let text = json!({"$ref": "#/components/schemas/Text"});
    let count = json!({"type": ["integer", "null"], "minimum": 0, "maximum": u64::MAX});
    let bound = json!({"type": ["integer", "null"], "minimum": i64::MIN, "maximum": i64::MAX});
    let days_from = json!({"anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": false, "required": ["field", "days"], "properties": {"field": {"type": "string"}, "days": {"type": "integer", "minimum": 0, "maximum": 65535}}}]});
    let field = json!({"type": "object", "additionalProperties": false, "required": ["name", "type", "label"], "properties": {
        "name": {"type": "string", "description": "a-z, 0-9 and _, starting with a letter"},
        "type": {"type": "string", "enum": ["text", "textarea", "number", "choice", "checkbox", "date", "email", "file", "person_name", "postal_code", "phone", "my_number", "corporate_number", "local_gov_code", "fiscal_year", "yen"]},
        "label": text, "hint": {"anyOf": [text, {"type": "null"}]},
        "required": {"type": "boolean"},
        "max_length": count, "min": bound, "max": bound,
        "options": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["value", "label"], "properties": {"value": {"type": "string"}, "label": text}}},
        "accept": {"type": "array", "items": {"type": "string"}},
        "max_bytes": count,
        "show_if": {"anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": false, "required": ["field", "equals"], "properties": {"field": {"type": "string"}, "equals": {"type": "string"}}}]},
        "prefill": {"type": ["string", "null"], "enum": ["name", "address", "birthdate", "gender", null]},
        "date_rules": {"anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": false, "description": "A date field's rules: not in the future / past (today in Japan), on or after another date field, within N days after / before another date field, on a day the city hall is open", "properties": {
            "not_future": {"type": "boolean"}, "not_past": {"type": "boolean"},
            "on_or_after": {"type": ["string", "null"]},
            "within_days_after": days_from.clone(), "within_days_before": days_from,
            "office_open": {"type": "boolean"}
        }}]},
        "address_field": {"type": ["string", "null"], "description": "A postal_code field's address field (text or textarea), filled from the code"}
    }});
    json!({"type": "object", "additionalProperties": false,
    "required": ["id", "name", "description", "department", "channels", "identity_level", "fee_yen", "processing_time"],
    "properties": {
        "id": {"type": "string", "description": "The same as in the URL: a-z, 0-9 and -, at most 64", "example": "juminhyo-copy"},
        "name": text, "description": text,
        "department": {"type": "string", "description": "A department code of the tenant"},
        "life_events": {"type": "array", "items": {"type": "string"}},
        "channels": {"type": "string", "enum": ["online", "counter", "both"]},
        "identity_level": {"type": "string", "enum": ["none", "signed_in", "my_number_card"]},
        "fee_yen": {"type": "integer", "minimum": 0, "maximum": u64::MAX},
        "documents": {"type": "array", "items": text},
        "processing_time": text,
        "legal_basis": {"type": "string"},
        "same_person_may_approve": {"type": "boolean", "default": false, "description": "Separation of duties: whether whoever started a case's review may also approve or reject it (default false)."},
        "form": {"type": "object", "additionalProperties": false, "properties": {"fields": {"type": "array", "items": field}}}
    }})
}

fn base_spec() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "madoguchi API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "デジタル市役所 madoguchi の API。手続カタログ、オンライン申請、一時保存、申請者の状況確認と補正、職員の審査、KPI、窓口の整理券と混雑状況、書かない窓口（職員による代理入力）、ライフイベントの来庁受付（回らない窓口）。Every error has the body {\"error\": {code, message, message_en, detail?, fields?}}; validation errors (422) list each field with a Japanese message naming it."
        },
        "paths": paths(),
        "components": {
            "parameters": parameters(),
            "responses": responses(),
            "schemas": {
                "Text": text_schema("Language code → text; Japanese (ja) required", json!({"ja": "住民票の写し", "en": "Copy of residence certificate"})),
                "Procedure": procedure_schema(),
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

/// Every operation: summary, tag, parameters, body and answers.
fn paths() -> Value {
    let answers = json!({"type": "object", "properties": {
        "answers": {"type": "object", "description": "Field name → value, as described by the procedure's answers_schema"},
        "lang": lang_schema("Language of the messages (and of the receipt e-mail)")
    }});
    json!({
        "/healthz": {"get": {"summary": "Health check", "tags": ["system"], "responses": {"200": {"description": "Up"}, "503": {"description": "Database unavailable"}}}},
        "/api/v1/tenants": {"get": {"summary": "Municipalities served", "tags": ["tenants"], "responses": {"200": {"description": "List"}}}},
        "/api/v1/t/{tenant}": {"get": op("A municipality with departments and counters", "tenants", &["tenant"], None, ok("Tenant"))},
        "/api/v1/t/{tenant}/procedures": {"get": op("Procedure catalogue", "procedures", &["tenant"], None, ok("Procedures"))},
        "/api/v1/t/{tenant}/postal-codes/{code}": {"get": op("The address of a postal code in Japan Post's data (to fill an address as the resident types): 422 when not seven digits, 404 when Japan Post has no such code", "procedures", &["tenant", "postalCode"], None, json!({"200": {"description": "postal_code (123-4567), prefecture, city, town (may be empty) and address (the three joined)"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))},
        "/api/v1/t/{tenant}/procedures/{id}": {"get": op("One procedure with its form and answers_schema", "procedures", &["tenant", "id"], None, ok("Procedure"))},
        "/api/v1/t/{tenant}/procedures/{id}/validate": {"post": op("Validate answers without submitting", "applications", &["tenant", "id"], Some(answers.clone()), json!({"200": {"description": "Valid; normalised answers"}, "422": {"$ref": "#/components/responses/Error"}}))},
        "/api/v1/t/{tenant}/procedures/{id}/applications": {"post": op("Submit an application (online channel). A retry with the same Idempotency-Key returns the same case.", "applications", &["tenant", "id", "idempotencyKey"], Some(answers.clone()), json!({
            "201": {"description": "Created: receipt_number, access_token, case_url"},
            "200": {"description": "Replayed: the case created earlier with this key"},
            "422": {"$ref": "#/components/responses/Error"}
        }))},
        "/api/v1/t/{tenant}/drafts": {"post": op("Save a draft; returns a token to resume it", "drafts", &["tenant"], Some(json!({"type": "object", "required": ["procedure_id"], "properties": {"procedure_id": {"type": "string"}, "answers": {"type": "object"}}})), json!({"201": {"description": "Draft token"}}))},
        "/api/v1/t/{tenant}/drafts/{token}": {
            "get": op("Resume a draft", "drafts", &["tenant", "token"], None, ok("Draft")),
            "put": op("Update a draft", "drafts", &["tenant", "token"], Some(answers.clone()), ok("Saved"))
        },
        "/api/v1/t/{tenant}/my/{receipt}/{token}": {
            "get": op("The applicant's view of their case", "applications", &["tenant", "receipt", "token"], None, ok("Case")),
            "put": op("Resubmit corrected answers after a correction request (補正)", "applications", &["tenant", "receipt", "token"], Some(json!({"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}, "answers": {"type": "object"}}})), json!({"200": {"description": "Back under review"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))
        },
        "/api/v1/t/{tenant}/status": {"post": op("申請状況の確認: find a case by its receipt number (受付番号, 1234-5678-9012 with or without hyphens, full-width digits allowed) and exactly one of the e-mail address, the phone number or the applicant's birth date (和暦 or 西暦) given in the application. A match answers the status and the applicant's link. An unknown receipt number and a wrong factor get the same 422 (`receipt_number`: 受付番号と確認のための情報の組み合わせが見つかりません); input that cannot be read is 422 naming the field. Failed lookups of one receipt number in a row (lockout_threshold, default 5, counted whether or not it exists) refuse it for lockout_minutes (default 15): 429; rate-limited per client and tenant. Every lookup is audited without the typed factor.", "applications", &["tenant"], Some(json!({"type": "object", "required": ["receipt_number"], "additionalProperties": false, "properties": {
            "receipt_number": {"type": "string", "example": "2026-0000-0018"},
            "email": {"type": "string", "description": "The e-mail address given in the application"},
            "phone": {"type": "string", "description": "The phone number given in the application"},
            "birth_date": {"type": "string", "example": "平成2年4月1日", "description": "The applicant's birth date, 和暦 or 西暦"},
            "lang": lang_schema("Language of the messages (default: the request's)")
        }})), json!({"200": {"description": "receipt_number, id, procedure_id, status, status_label, submitted_at, access_token, case_url"}, "422": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}))},
        "/api/v1/t/{tenant}/kpi": {"get": op("KPIs for a fiscal year (online share of procedures, applications by channel, share of applications for online-capable procedures)", "kpi", &["tenant", "fy"], None, ok("KPI report"))},
        "/api/v1/t/{tenant}/staff/session": {
            "post": op("Staff sign-in with password and second factor (TOTP code or a recovery code); sets the session cookie. Accounts without a second factor enrol in the browser first. Failures in a row (lockout_threshold, default 5, passwords and codes alike) lock the account for lockout_minutes (default 15): 429, the same for an id that does not exist; rate-limited per client and tenant; 503 when the password checks are busy.", "staff", &["tenant"], Some(json!({"type": "object", "required": ["id", "password", "code"], "properties": {"id": {"type": "string"}, "password": {"type": "string"}, "code": {"type": "string", "description": "6 digits from the authenticator app, or a recovery code"}}})), json!({"200": {"description": "Signed in"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "422": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Busy"}})),
            "delete": op("Sign out", "staff", &["tenant"], None, json!({"204": {"description": "Signed out"}}))
        },
        "/api/v1/t/{tenant}/staff/cases": {"get": staff(op("The department's cases (filters: status, procedure, q, assignee, page). Audited.", "staff", &["tenant", "status", "procedure", "caseQ", "assignee", "casePage"], None, ok("Cases")))},
        "/api/v1/t/{tenant}/staff/cases/{id}": {"get": staff(op("One case with history and the actions this member of staff may take (`separation_of_duties` true when approve/reject are withheld because they started the review); verified address and birth date only for roles that need them (audited); マイナンバー masked unless `?reveal=my_number` (each reveal audited). A case opened at a life-event visit has visit_id and the visit's identity_check. Audited.", "staff", &["tenant", "id", "reveal"], None, ok("Case")))},
        "/api/v1/t/{tenant}/staff/cases/{id}/actions": {"post": staff(op("Move a case on: start_review, request_correction, approve, reject, complete. Whoever started the review may not approve or reject the case unless its procedure sets same_person_may_approve: 403 MDG-403-separation_of_duties, nothing changed, the attempt audited.", "staff", &["tenant", "id"], Some(json!({"type": "object", "required": ["action", "version"], "properties": {"action": {"type": "string", "enum": ["start_review", "request_correction", "approve", "reject", "complete"]}, "version": {"type": "integer"}, "message": {"type": "string"}}})), json!({"200": {"description": "New status"}, "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/cases/{id}/comments": {"post": staff(op("Internal comment", "staff", &["tenant", "id"], Some(json!({"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}})), json!({"201": {"description": "Added"}})))},
        "/api/v1/t/{tenant}/staff/cases/{id}/assign": {"post": staff(op("Assign a case", "staff", &["tenant", "id"], Some(json!({"type": "object", "required": ["assignee", "version"], "properties": {"assignee": {"type": "string"}, "version": {"type": "integer"}}})), json!({"200": {"description": "Assigned"}})))},
        "/api/v1/t/{tenant}/staff/procedures/{id}": {"put": staff(op("Create or update a procedure (optimistic: send the version you edited)", "catalogue", &["tenant", "id"], Some(json!({"type": "object", "required": ["procedure"], "properties": {"procedure": {"$ref": "#/components/schemas/Procedure"}, "version": {"type": ["integer", "null"], "description": "The version edited; omit (or null) to create"}}})), json!({"200": {"description": "Updated"}, "201": {"description": "Created"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/procedures/{id}/applications": {"post": staff(op("Enter an application at the counter: channel counter (paper form) or proxy (entered by a clerk for the resident), with the identity document the clerk checked (identity_document required; identity_note names the other or second document for other and health_insurance_plus_one); checked by the signed-in clerk, now", "staff", &["tenant", "id", "idempotencyKey"], Some(json!({"type": "object", "required": ["channel", "identity_document"], "properties": {"channel": {"type": "string", "enum": ["counter", "proxy"]}, "answers": {"type": "object"}, "identity_document": {"type": "string", "enum": ["my_number_card", "drivers_license", "passport", "residence_card", "special_permanent_resident_certificate", "health_insurance_plus_one", "other"]}, "identity_note": {"type": "string", "maxLength": 200}}})), json!({"201": {"description": "Created"}, "200": {"description": "Replayed"}, "422": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/catalogue": {
            "get": staff(op("Export the catalogue (format=csv|json)", "catalogue", &["tenant", "format"], None, ok("File"))),
            "post": staff(import_body(op("Import a catalogue, all or nothing (format=csv|json, dry_run=true to preview). Send it as Content-Type text/csv or application/json.", "catalogue", &["tenant", "format", "dryRun"], None, json!({"200": {"description": "Created / updated / unchanged counts"}, "422": {"$ref": "#/components/responses/Error"}}))))
        },
        "/api/v1/t/{tenant}/staff/outbox": {"get": staff(op("E-mails to residents, oldest first, with their delivery state (system administrators; links masked, audited)", "staff", &["tenant"], None, ok("Mails")))},
        "/api/v1/t/{tenant}/staff/mail/outbox": {"get": staff(op("配信状況: e-mails to residents, newest first (at most 500), with their delivery state, attempts and last error, and the counts per state (system administrators; every link's token masked; audited). 400 for a state that does not exist", "staff", &["tenant", "mailState", "mailKind", "mailCase"], None, ok("Mails and counts")))},
        "/api/v1/t/{tenant}/staff/mail/outbox/{id}/resend": {"post": staff(op("再送信: queue a failed, unknown or held e-mail again (audited; an unknown one may already have arrived; held ones were written before delivery existed). 409 MDG-409-mail_state unless the mail is failed, unknown or held", "staff", &["tenant", "id"], None, json!({"200": {"description": "The mail, queued"}, "409": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/jobs": {"get": staff(op("ジョブ: the municipality's job queue (system administrators): queued, running and failed (dead letter) jobs, up to 100 each (id, kind, payload, state, attempts, max_attempts, run_at, last_error, dedupe_key, created_at, finished_at), and counts per state. Deployment-wide jobs (housekeeping) are the operator's and not listed", "jobs", &["tenant"], None, ok("Jobs")))},
        "/api/v1/t/{tenant}/staff/jobs/{id}/retry": {"post": staff(op("再実行: queue a failed job again now, its attempts counted anew (audited). 404 MDG-404-job for a job this municipality does not have; 409 MDG-409-job_state unless the job is failed, MDG-409-job_duplicate if the same job is queued or running", "jobs", &["tenant", "id"], None, json!({"200": {"description": "The job"}, "409": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/jobs/{id}/cancel": {"post": staff(op("取消: a queued job will not run (audited). 404 MDG-404-job for a job this municipality does not have; 409 MDG-409-job_state unless the job is queued (a running job is not stopped halfway)", "jobs", &["tenant", "id"], None, json!({"200": {"description": "The job"}, "409": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/line/channel": {
            "get": staff(op("LINE: whether the municipality's LINE official account is set up, and the webhook path to give LINE (system administrators; never the secret or the token)", "line", &["tenant"], None, ok("configured, webhook_path"))),
            "put": staff(op("LINE: set the channel secret (32 hex characters) and channel access token of the municipality's LINE official account, sealed at rest (system administrators; audited). 422 naming channel_secret or access_token", "line", &["tenant"], Some(json!({"type": "object", "required": ["channel_secret", "access_token"], "additionalProperties": false, "properties": {"channel_secret": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$"}, "access_token": {"type": "string", "minLength": 20, "maxLength": 1000, "pattern": "^[!-~]+$"}}})), json!({"200": {"description": "configured, webhook_path"}, "422": {"$ref": "#/components/responses/Error"}}))),
        },
        "/api/v1/t/{tenant}/staff/audit": {"get": staff(op("Audit entries about one target (security officers); verify=true also checks the hash chain", "audit", &["tenant", "target"], None, ok("Entries")))},
        "/api/v1/t/{tenant}/staff/registry/residents": {"get": staff(op("Search the resident register (住民記録) by kana, name or birth date (clerks; at least one; at most 20 results; audited)", "assisted", &["tenant", "kana", "name", "birthDate"], None, json!({"200": {"description": "Residents: id (宛名番号), name, kana, birth_date, sex, postal_code, address, household_id, relationship, resident_since"}, "422": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/assisted-entries": {"post": staff(op("書かない窓口: open an application a clerk fills in for a resident, pre-filled from a register record; returns the entry with the second-screen link (confirm_url) and the printable PDF", "assisted", &["tenant"], Some(json!({"type": "object", "required": ["procedure_id"], "properties": {"procedure_id": {"type": "string"}, "registry_id": {"type": "string"}, "ticket_id": {"type": "string"}}})), json!({"201": {"description": "Entry"}, "422": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/assisted-entries/{id}": {
            "get": staff(op("An assisted entry: status (editing, confirming, signed, submitted, cancelled), answers (マイナンバー masked), verified fields", "assisted", &["tenant", "id"], None, ok("Entry"))),
            "put": staff(op("Save the answers: 200 and status confirming when complete; 422 with the field errors otherwise (what was sent is kept). Fields read from the card keep the card's values; a change after signing needs a new signature.", "assisted", &["tenant", "id"], Some(json!({"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}, "answers": {"type": "object"}}})), json!({"200": {"description": "Entry"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))
        },
        "/api/v1/t/{tenant}/staff/assisted-entries/{id}/{entryAction}": {"post": staff(op("paper-signature (the resident signed the printed application), submit (file it as channel proxy with the identity check the clerk did: identity_document is required for submit, identity_note names the other or second document for other and health_insurance_plus_one; checked by the signed-in clerk, now; returns the receipt number; repeating gives the same case) or cancel", "assisted", &["tenant", "id", "entryAction"], Some(json!({"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}, "identity_document": {"type": "string", "enum": ["my_number_card", "drivers_license", "passport", "residence_card", "special_permanent_resident_certificate", "health_insurance_plus_one", "other"]}, "identity_note": {"type": "string", "maxLength": 200}}})), json!({"200": {"description": "Entry"}, "201": {"description": "Filed: receipt_number, application_id"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/assist/{id}/{token}/signature": {"post": op("The resident's signature from the second screen: agree must be true; signature is strokes of points in a 600×200 box, \"x,y x,y;x,y …\"", "assisted", &["tenant", "id", "token"], Some(json!({"type": "object", "required": ["version", "agree", "signature"], "properties": {"version": {"type": "integer"}, "agree": {"type": "boolean"}, "signature": {"type": "string"}}})), json!({"200": {"description": "Signed"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))},
        "/api/v1/t/{tenant}/navi/{lifeEvent}": {"get": op("手続ナビ: the procedures a life event brings for the answers given as query parameters (each question's code = yes or no, all required): online or at which counter, documents, fee, deadline, and a share_url (answers only in the URL; nothing stored)", "navigator", &["tenant", "lifeEvent"], None, json!({"200": {"description": "Procedures in order"}, "422": {"$ref": "#/components/responses/Error"}}))},
        "/api/v1/t/{tenant}/search": {"get": op("One search over procedures, FAQ and 手続ナビ pages: Japanese by bigrams and readings (じゅうみんひょう finds 住民票), width and kana folding, typo tolerance, the tenant's synonyms; facets by department and life event. A query that finds nothing is logged for staff (digits masked). 422 names the field for an empty, over-200-character, symbol-only or control-character query and for unknown filters", "search", &["tenant", "q", "department", "lifeEventFilter", "kind", "page"], None, json!({"200": {"description": "Hits (20 per page), total, facets, synonyms used"}, "422": {"$ref": "#/components/responses/Error"}}))},
        "/api/v1/t/{tenant}/staff/search/synonyms": {"get": staff(op("The tenant's synonym groups (department admins, system admins)", "search", &["tenant"], None, ok("Groups"))), "post": staff(op("Add a synonym group (2–12 terms, 40 characters each); search uses it at once; undo on the staff page", "search", &["tenant"], Some(json!({"type": "object", "required": ["terms"], "properties": {"terms": {"type": "array", "items": {"type": "string"}, "example": ["マイナ", "マイナンバーカード"]}}})), json!({"201": {"description": "Group created"}, "422": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/search/synonyms/{id}": {"put": staff(op("Replace a synonym group's terms", "search", &["tenant", "id"], Some(json!({"type": "object", "required": ["terms"], "properties": {"terms": {"type": "array", "items": {"type": "string"}}}})), json!({"200": {"description": "Group saved"}, "422": {"$ref": "#/components/responses/Error"}}))), "delete": staff(op("Delete a synonym group (kept in the history; undo on the staff page)", "search", &["tenant", "id"], None, json!({"204": {"description": "Deleted"}})))},
        "/api/v1/t/{tenant}/staff/search/misses": {"get": staff(op("Queries residents searched or asked the chat without result (`reason`: `no_results`) or answered with low confidence, the best page matching under three quarters of the question's words (`low_confidence`), most frequent first (digits masked; dismissed ones come back when residents miss again)", "search", &["tenant"], None, ok("Misses")))},
        "/api/v1/t/{tenant}/counter/tickets": {"post": op("Issue a numbered ticket (整理券) for a counter; returns it with the link to its status page (place and estimated wait are there)", "counter", &["tenant"], Some(json!({"type": "object", "required": ["counter"], "properties": {"counter": {"type": "string", "example": "c2"}}})), json!({"201": {"description": "Ticket and status link"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}))},
        "/api/v1/t/{tenant}/counter/tickets/{id}/{token}": {"get": op("A ticket's status: called or not, people ahead, estimated wait", "counter", &["tenant", "id", "token"], None, json!({"200": {"description": "Ticket and place"}}))},
        "/api/v1/t/{tenant}/counter/board": {"get": op("Every counter: number now called, people waiting, estimated wait (live: GET /t/{tenant}/counter/board/events, Server-Sent Events)", "counter", &["tenant"], None, ok("Board"))},
        "/api/v1/t/{tenant}/counter/congestion": {"get": op("Congestion (混雑状況): every counter now (people waiting, number called, estimated wait for someone who takes a ticket now, band: free under 20 min, moderate 20–40, crowded over 40, none when closed) and the forecast by weekday and hour 8–17 (mean wait from issue to first call over the 56 days before today; none under 3 tickets; the 3 quietest times as `best`). Method: docs/COUNTER.md", "counter", &["tenant"], None, ok("Now and forecast"))},
        "/api/v1/t/{tenant}/counter/congestion.csv": {"get": op("Congestion history as CSV for open data (UTF-8 with BOM; one row per day, hour and counter with tickets: 全国地方公共団体コード, 地方公共団体名, 日付, 曜日, 時台, 窓口コード, 窓口名, 発行枚数, 呼出枚数, 対応完了枚数, 平均待ち時間（分）, 最長待ち時間（分）; no personal data). Also at /t/{tenant}/counter/congestion.csv", "counter", &["tenant", "from", "to"], None, json!({"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}}))},
        "/api/v1/t/{tenant}/staff/counter/{counter}/call": {"post": staff(op("Call the next waiting ticket of a counter (clerks of the department that runs the counter, or system administrators; 403 MDG-403-counter_department otherwise); 409 when nobody waits", "counter", &["tenant", "counter"], None, json!({"200": {"description": "Ticket called"}, "409": {"$ref": "#/components/responses/Error"}})))},
        "/api/v1/t/{tenant}/staff/tickets/{id}/{action}": {"post": staff(op("recall, absent, finish, or transfer (with `to`: any other open counter of the municipality; the ticket keeps its place) a called ticket (clerks of the department that runs the ticket's counter, or system administrators)", "counter", &["tenant", "id", "action"], Some(json!({"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}, "to": {"type": "string"}}})), json!({"200": {"description": "Ticket"}, "409": {"$ref": "#/components/responses/Error"}})))}
    })
}

/// The parameters operations refer to by name.
fn parameters() -> Value {
    json!({
        "tenant": {"name": "tenant", "in": "path", "required": true, "description": "全国地方公共団体コード: six ASCII digits, the first two the prefecture (01–47), the last a check digit (weights 6,5,4,3,2; (11 − sum mod 11) mod 10), e.g. 122289. Any other value is 404 MDG-404-tenant before any handler runs.", "example": "122289", "schema": {"type": "string", "pattern": "^(0[1-9]|[1-3][0-9]|4[0-7])[0-9]{4}$"}},
        "id": {"name": "id", "in": "path", "required": true, "example": "juminhyo-copy", "schema": {"type": "string"}},
        "postalCode": {"name": "code", "in": "path", "required": true, "description": "郵便番号: seven digits, with or without the hyphen", "example": "284-0001", "schema": {"type": "string"}},
        "token": {"name": "token", "in": "path", "required": true, "schema": {"type": "string"}},
        "receipt": {"name": "receipt", "in": "path", "required": true, "description": "受付番号 (12 digits)", "schema": {"type": "string"}},
        "idempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": true, "description": "8–128 characters; reuse it when retrying", "schema": {"type": "string"}},
        "mailState": {"name": "state", "in": "query", "required": false, "description": "Only mails in this delivery state (empty: all)", "schema": {"type": "string", "enum": ["", "queued", "sending", "sent", "failed", "bounced", "unknown", "demo", "held"]}},
        "mailKind": {"name": "kind", "in": "query", "required": false, "description": "Only mails of this kind, e.g. application.received (empty: all)", "schema": {"type": "string"}},
        "mailCase": {"name": "case", "in": "query", "required": false, "description": "Only mails about this application (its id)", "schema": {"type": "string"}},
        "fy": {"name": "fy", "in": "query", "required": false, "description": "年度: 2026, 令和8年度 or R8", "schema": {"type": "string"}},
        "format": {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["csv", "json"]}},
        "dryRun": {"name": "dry_run", "in": "query", "required": false, "schema": {"type": "boolean"}},
        "status": {"name": "status", "in": "query", "required": false, "schema": {"type": "string", "enum": ["", "received", "under_review", "correction_requested", "approved", "rejected", "completed"]}},
        "procedure": {"name": "procedure", "in": "query", "required": false, "description": "A procedure id", "schema": {"type": "string"}},
        "caseQ": {"name": "q", "in": "query", "required": false, "description": "Receipt number or applicant's name or kana", "schema": {"type": "string"}},
        "assignee": {"name": "assignee", "in": "query", "required": false, "description": "A staff id", "schema": {"type": "string"}},
        "casePage": {"name": "page", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 4294967295u64}},
        "reveal": {"name": "reveal", "in": "query", "required": false, "description": "my_number shows マイナンバー unmasked (audited)", "schema": {"type": "string"}},
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
    })
}

/// The error answers operations refer to by name.
fn responses() -> Value {
    json!({
        "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "BadRequest": {"description": "MDG-400: the body does not parse as this operation's JSON (each field named in Japanese in `fields`), or a query or path value does not parse", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "Unauthorized": {"description": "MDG-401: no staff session (or it ended), or the sign-in failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "Forbidden": {"description": "MDG-403…: signed in without the role or department this needs; MDG-403-csrf: a state-changing request from another site or not sent as JSON", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "NotFound": {"description": "MDG-404-tenant: the tenant is not a 全国地方公共団体コード (six digits with a valid check digit; refused before any handler) or not one served here; MDG-404-<what>: the thing named in the path does not exist", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "Conflict": {"description": "MDG-409-<what>: changed since it was read (send the version you have), or in a state that does not allow this", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "PayloadTooLarge": {"description": "MDG-413: the body is over the limit (MADOGUCHI_MAX_BODY_BYTES)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "Invalid": {"description": "MDG-422: the request parses but is not valid; `fields` names each field with a Japanese message, and nothing was changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "Busy": {"description": "MDG-503-busy: every password check is busy and the queue for them is full (MADOGUCHI_PASSWORD_CHECKS, MADOGUCHI_PASSWORD_CHECK_QUEUE); nothing was checked or counted; retry after Retry-After seconds", "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "TooManyRequests": {"description": "MDG-429: a rate limit per client and per tenant (sign-in, submission), or a locked account; retry after Retry-After seconds", "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_spelling_in_the_schema_is_one_the_server_reads() {
        for alias in LANG_ALIASES {
            assert!(kernel::Lang::parse(alias).is_some(), "{alias}");
            assert!(
                kernel::Lang::parse(&alias.to_ascii_uppercase().replace('-', "_")).is_some(),
                "{alias}"
            );
        }
        for lang in kernel::Lang::ALL {
            assert!(
                LANG_ALIASES.contains(&lang.code().to_ascii_lowercase().as_str()),
                "{lang}"
            );
        }
    }

    #[test]
    fn every_error_says_what_its_status_means() {
        let spec = spec();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (code, response) in op["responses"].as_object().unwrap() {
                    assert_ne!(
                        response["$ref"], "#/components/responses/Error",
                        "{method} {path} {code}"
                    );
                    if let Some(r) = response["$ref"].as_str() {
                        let name = r.trim_start_matches("#/components/responses/");
                        assert!(
                            spec["components"]["responses"][name].is_object(),
                            "{method} {path} {code}: {r}"
                        );
                    }
                }
            }
        }
    }
}
