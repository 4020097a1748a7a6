//! A STAND-IN for the LINE Messaging API, for tests only: not LINE, and
//! not a complete copy of it. It answers the two requests madoguchi makes
//! (`POST /v2/bot/message/push` and `POST /v2/bot/message/reply`) on a
//! local port, checking them as LINE's reference documents: the
//! `Authorization: Bearer` channel access token (401), `Content-Type:
//! application/json` and the body's shape — `to` a user id (`U` + 32 hex),
//! `replyToken`, 1 to 5 messages of `{"type": "text", "text"}` with text
//! of 1 to 5,000 characters (UTF-16 code units), an `X-Line-Retry-Key`
//! that is a UUID — (400), a retry key already accepted (409). It records
//! what it accepted and can answer 429 or 500 to the next requests, or
//! accept one and lose the answer (500 after recording), to test retries.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// A push the stand-in accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    pub to: String,
    pub texts: Vec<String>,
    pub retry_key: Option<String>,
}

/// A reply the stand-in accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub reply_token: String,
    pub texts: Vec<String>,
}

/// What the next requests get instead of a normal answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests, nothing recorded.
    TooMany,
    /// 500, nothing recorded.
    ServerError,
    /// The push is accepted and recorded, but the answer is a 500 (as if
    /// it were lost on the way back).
    LostAnswer,
}

#[derive(Default)]
struct Inner {
    token: String,
    pushes: Vec<Push>,
    replies: Vec<Reply>,
    accepted_keys: HashSet<String>,
    used_reply_tokens: HashSet<String>,
    /// Every request's status, in order.
    statuses: Vec<u16>,
    faults: Vec<Fault>,
}

/// The running stand-in.
#[derive(Clone)]
pub struct LineStandin {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl LineStandin {
    /// Starts on a free port, accepting `token` as the channel access token.
    pub async fn start(token: &str) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            token: token.to_string(),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/v2/bot/message/push", post(push))
            .route("/v2/bot/message/reply", post(reply))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the LINE stand-in");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base: format!("http://{addr}"),
            inner,
        }
    }

    /// The next requests (one per fault, in order) fail so.
    pub fn fail_next(&self, faults: &[Fault]) {
        self.inner.lock().unwrap().faults.extend_from_slice(faults);
    }

    pub fn pushes(&self) -> Vec<Push> {
        self.inner.lock().unwrap().pushes.clone()
    }

    pub fn replies(&self) -> Vec<Reply> {
        self.inner.lock().unwrap().replies.clone()
    }

    /// The status of every request so far, in order.
    pub fn statuses(&self) -> Vec<u16> {
        self.inner.lock().unwrap().statuses.clone()
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_user_id(s: &str) -> bool {
    s.len() == 33 && s.starts_with('U') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The checks both endpoints share: the token, the type, the messages.
fn check(
    inner: &Inner,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Value, Vec<String>), (StatusCode, &'static str)> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {}", inner.token) {
        return Err((StatusCode::UNAUTHORIZED, "Authentication failed. Confirm that the access token in the authorization header is valid."));
    }
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return Err((
            StatusCode::BAD_REQUEST,
            "The content type is not application/json",
        ));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| (StatusCode::BAD_REQUEST, "The request body has 1 error(s)"))?;
    let Some(messages) = v.get("messages").and_then(Value::as_array) else {
        return Err((StatusCode::BAD_REQUEST, "messages: must be specified"));
    };
    if messages.is_empty() || messages.len() > 5 {
        return Err((
            StatusCode::BAD_REQUEST,
            "messages: size must be between 1 and 5",
        ));
    }
    let mut texts = Vec::new();
    for m in messages {
        if m.get("type").and_then(Value::as_str) != Some("text") {
            return Err((
                StatusCode::BAD_REQUEST,
                "messages[].type: must be text here",
            ));
        }
        let Some(text) = m.get("text").and_then(Value::as_str) else {
            return Err((
                StatusCode::BAD_REQUEST,
                "messages[].text: must be specified",
            ));
        };
        let n = text.encode_utf16().count();
        if n == 0 || n > 5000 {
            return Err((
                StatusCode::BAD_REQUEST,
                "messages[].text: length must be between 1 and 5000",
            ));
        }
        texts.push(text.to_string());
    }
    Ok((v, texts))
}

fn take_fault(inner: &mut Inner) -> Option<Fault> {
    (!inner.faults.is_empty()).then(|| inner.faults.remove(0))
}

async fn push(State(s): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = s.lock().unwrap();
    let resp = push_inner(&mut inner, &headers, &body);
    inner.statuses.push(resp.status().as_u16());
    resp
}

fn push_inner(inner: &mut Inner, headers: &HeaderMap, body: &[u8]) -> Response {
    let (v, texts) = match check(inner, headers, body) {
        Ok(x) => x,
        Err((status, message)) => return error(status, message),
    };
    let Some(to) = v
        .get("to")
        .and_then(Value::as_str)
        .filter(|t| is_user_id(t))
    else {
        return error(StatusCode::BAD_REQUEST, "to: invalid user id");
    };
    let retry_key = match headers.get("x-line-retry-key") {
        None => None,
        Some(k) => match k.to_str().ok().filter(|k| is_uuid(k)) {
            Some(k) => Some(k.to_ascii_lowercase()),
            None => return error(StatusCode::BAD_REQUEST, "The retry key must be a UUID"),
        },
    };
    let fault = take_fault(inner);
    match fault {
        Some(Fault::TooMany) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "The API rate limit has been exceeded. Try again later.",
            )
        }
        Some(Fault::ServerError) => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }
        _ => {}
    }
    if let Some(k) = &retry_key {
        if inner.accepted_keys.contains(k) {
            return (
                StatusCode::CONFLICT,
                Json(json!({"message": "The retry key is already accepted", "sentMessages": []})),
            )
                .into_response();
        }
        inner.accepted_keys.insert(k.clone());
    }
    inner.pushes.push(Push {
        to: to.to_string(),
        texts,
        retry_key,
    });
    if fault == Some(Fault::LostAnswer) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
    }
    (StatusCode::OK, Json(json!({"sentMessages": []}))).into_response()
}

async fn reply(State(s): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = s.lock().unwrap();
    let resp = reply_inner(&mut inner, &headers, &body);
    inner.statuses.push(resp.status().as_u16());
    resp
}

fn reply_inner(inner: &mut Inner, headers: &HeaderMap, body: &[u8]) -> Response {
    let (v, texts) = match check(inner, headers, body) {
        Ok(x) => x,
        Err((status, message)) => return error(status, message),
    };
    let Some(token) = v
        .get("replyToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return error(StatusCode::BAD_REQUEST, "replyToken: must be specified");
    };
    if !inner.used_reply_tokens.insert(token.to_string()) {
        return error(StatusCode::BAD_REQUEST, "Invalid reply token");
    }
    inner.replies.push(Reply {
        reply_token: token.to_string(),
        texts,
    });
    (StatusCode::OK, Json(json!({"sentMessages": []}))).into_response()
}
