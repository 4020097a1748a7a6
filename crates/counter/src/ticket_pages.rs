//! HTTP handlers of tickets: the kiosk, the resident's ticket page, the
//! display board (with its event stream), the clerk's calling page, and
//! their JSON API.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use axum::{Form, Json};
use kernel::auth::Clerk;
use kernel::i18n::{self, Lang};
use kernel::web::{render, tenant_page, Page};
use kernel::{AppError, AppResult, Db};
use serde::Deserialize;
use serde_json::json;

use crate::events::BoardEvent;
use crate::queue::{self, Status, Ticket};
use crate::state::CounterState;
use crate::view::{counter_name, CounterLine};

// ---------------------------------------------------------------- kiosk

#[derive(Template)]
#[template(path = "kiosk.html")]
struct Kiosk {
    page: Page,
    counters: Vec<CounterLine>,
    /// Kiosk mode (a shared tablet): the ticket page returns here.
    kiosk_mode: bool,
}

/// `?kiosk=1`: the page runs on a shared device at the entrance.
#[derive(Deserialize, Default)]
pub struct KioskQuery {
    #[serde(default)]
    kiosk: Option<String>,
}

impl KioskQuery {
    fn on(&self) -> bool {
        self.kiosk.as_deref() == Some("1")
    }
}

pub async fn kiosk(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    Query(q): Query<KioskQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&db, &tenant).await?;
    let board = queue::board(&db, &tenant, kernel::clock::now_ms()).await?;
    let counters = board.iter().map(|c| CounterLine::of(&t, c, lang)).collect();
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "counter.kiosk.title"),
        format!("/t/{tenant}/counter"),
    );
    Ok(render(&Kiosk {
        page,
        counters,
        kiosk_mode: q.on(),
    }))
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    counter: String,
    #[serde(default)]
    kiosk: Option<String>,
}

pub async fn issue_post(
    State(st): State<CounterState>,
    Path(tenant): Path<String>,
    Form(f): Form<IssueForm>,
) -> AppResult<Response> {
    let (t, token) = st
        .issuer
        .issue(&st.db, &tenant, &f.counter, kernel::clock::now_ms())
        .await?;
    st.events.changed(&tenant);
    let mode = if f.kiosk.as_deref() == Some("1") {
        "&kiosk=1"
    } else {
        ""
    };
    Ok(Redirect::to(&format!("/t/{tenant}/tickets/{}/{token}?new=1{mode}", t.id)).into_response())
}

// --------------------------------------------------------- ticket page

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    page: Page,
    t: Ticket,
    counter_name: String,
    ahead: i64,
    wait: i64,
    is_new: bool,
    qr_svg: String,
    status_url: String,
    /// Kiosk mode: where the page returns to, and the link that keeps it
    /// longer.
    kiosk: Option<KioskReturn>,
}

struct KioskReturn {
    seconds: u32,
    start: String,
    longer: String,
}

/// How long the kiosk's ticket page stays before it returns to the start
/// (the next person must not see it), and when asked for more time.
const KIOSK_SECONDS: u32 = 30;
const KIOSK_LONGER_SECONDS: u32 = 120;

#[derive(Deserialize, Default)]
pub struct NewQuery {
    new: Option<String>,
    kiosk: Option<String>,
    longer: Option<String>,
}

impl NewQuery {
    fn kiosk_return(&self, tenant: &str, here: &str) -> Option<KioskReturn> {
        if self.kiosk.as_deref() != Some("1") {
            return None;
        }
        let seconds = if self.longer.is_some() {
            KIOSK_LONGER_SECONDS
        } else {
            KIOSK_SECONDS
        };
        let new = if self.new.is_some() { "new=1&" } else { "" };
        Some(KioskReturn {
            seconds,
            start: format!("/t/{tenant}/counter?kiosk=1"),
            longer: format!("{here}?{new}kiosk=1&longer=1"),
        })
    }
}

pub async fn ticket_page(
    State(st): State<CounterState>,
    Path((tenant, id, token)): Path<(String, String, String)>,
    Query(q): Query<NewQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let t = kernel::tenant::load(&st.db, &tenant).await?;
    let ticket = queue::by_link(&st.db, &tenant, &id, &token).await?;
    let pos = queue::position(&st.db, &tenant, &ticket, kernel::clock::now_ms()).await?;
    let status_url = format!(
        "{}/t/{tenant}/tickets/{id}/{token}",
        st.public_url.0.trim_end_matches('/')
    );
    let mut page = tenant_page(
        lang,
        &t,
        i18n::tf(lang, "counter.ticket.title", &[("number", &ticket.display)]),
        format!("/t/{tenant}/tickets/{id}/{token}"),
    );
    let kiosk = q.kiosk_return(&tenant, &format!("/t/{tenant}/tickets/{id}/{token}"));
    if let Some(k) = &kiosk {
        // A shared device: back to the start, with or without JavaScript.
        page.return_after = Some(kernel::web::ReturnAfter {
            seconds: k.seconds,
            url: k.start.clone(),
        });
    } else if ticket.status == Status::Waiting {
        // Without JavaScript the page keeps itself current.
        page.refresh_seconds = Some(30);
    }
    Ok(render(&TicketPage {
        page,
        counter_name: counter_name(&t, &ticket.counter, lang),
        ahead: pos.ahead,
        wait: pos.estimated_wait_minutes,
        is_new: q.new.is_some(),
        qr_svg: kernel::web::qr_svg(&status_url, 160)?,
        status_url,
        t: ticket,
        kiosk,
    }))
}

// --------------------------------------------------------------- board

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    page: Page,
    rows: Vec<CounterLine>,
    /// When the counts were read: live frames older than this (a viewer's
    /// first frame comes from memory) do not overwrite them.
    at: i64,
}

/// The same board on a wall screen: no site chrome, large numbers.
#[derive(Template)]
#[template(path = "board_signage.html")]
struct BoardSignage {
    page: Page,
    rows: Vec<CounterLine>,
    at: i64,
}

/// The board's page, its rows and when they were read.
async fn board_view(
    db: &Db,
    tenant: &str,
    lang: Lang,
    path: String,
) -> AppResult<(Page, Vec<CounterLine>, i64)> {
    let t = kernel::tenant::load(db, tenant).await?;
    let at = kernel::clock::now_ms();
    let rows = queue::board(db, tenant, at)
        .await?
        .iter()
        .map(|c| CounterLine::of(&t, c, lang))
        .collect();
    let mut page = tenant_page(lang, &t, i18n::t(lang, "counter.board.title"), path);
    page.refresh_seconds = Some(15);
    Ok((page, rows, at))
}

pub async fn board_page(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    lang: Lang,
) -> AppResult<Response> {
    let path = format!("/t/{tenant}/counter/board");
    let (page, rows, at) = board_view(&db, &tenant, lang, path).await?;
    Ok(render(&BoardPage { page, rows, at }))
}

pub async fn board_signage(
    State(db): State<Db>,
    Path(tenant): Path<String>,
    lang: Lang,
) -> AppResult<Response> {
    let path = format!("/t/{tenant}/counter/board/signage");
    let (page, rows, at) = board_view(&db, &tenant, lang, path).await?;
    Ok(render(&BoardSignage { page, rows, at }))
}

/// The board's live feed: the current state at once (or, for a viewer
/// that reconnects with `Last-Event-ID`, the frames it missed), then
/// every change.
pub async fn board_events(
    State(st): State<CounterState>,
    Path(tenant): Path<String>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    // Subscribe before reading the state, so no change falls in between
    // (frames already sent first are skipped by their id). The state
    // comes from memory: a crowd connecting at once costs one board
    // computation (the tenant is checked by that computation).
    let rx = st.events.subscribe(&tenant);
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let start = st.events.start_for(&tenant, last).await?;
    let stream = BoardStream {
        first: start.frames.into(),
        after: start.after,
        rx: Some(rx),
        pending: None,
        keep_alive: Box::pin(tokio::time::sleep(KEEP_ALIVE)),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            // A reverse proxy (nginx) passes the frames on as they come
            // instead of buffering the response.
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(20);

type Recv = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = (
                    Result<BoardEvent, tokio::sync::broadcast::error::RecvError>,
                    tokio::sync::broadcast::Receiver<BoardEvent>,
                ),
            > + Send,
    >,
>;

/// Frames of `board` events: the state when the viewer connects (or the
/// frames it missed), then each change with a later id (the frames are
/// shared, not copied, among viewers). A viewer that falls behind skips
/// to the newest state.
pub struct BoardStream {
    first: std::collections::VecDeque<axum::body::Bytes>,
    /// Live frames up to this id were sent first.
    after: i64,
    rx: Option<tokio::sync::broadcast::Receiver<BoardEvent>>,
    pending: Option<Recv>,
    keep_alive: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl futures_core::Stream for BoardStream {
    type Item = Result<axum::body::Bytes, Infallible>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        use tokio::sync::broadcast::error::RecvError;
        if let Some(first) = self.first.pop_front() {
            return Poll::Ready(Some(Ok(first)));
        }
        loop {
            if self.pending.is_none() {
                let Some(mut rx) = self.rx.take() else {
                    return Poll::Ready(None);
                };
                self.pending = Some(Box::pin(async move {
                    let r = rx.recv().await;
                    (r, rx)
                }));
            }
            let Some(fut) = self.pending.as_mut() else {
                return Poll::Ready(None);
            };
            match fut.as_mut().poll(cx) {
                Poll::Ready((r, rx)) => {
                    self.pending = None;
                    self.rx = Some(rx);
                    match r {
                        Ok(ev) if ev.id.is_some_and(|id| id <= self.after) => continue,
                        Ok(ev) => {
                            if let Some(id) = ev.id {
                                self.after = id;
                            }
                            let next = tokio::time::Instant::now() + KEEP_ALIVE;
                            self.keep_alive.as_mut().reset(next);
                            return Poll::Ready(Some(Ok(ev.frame)));
                        }
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return Poll::Ready(None),
                    }
                }
                Poll::Pending => {
                    if std::future::Future::poll(self.keep_alive.as_mut(), cx).is_ready() {
                        let next = tokio::time::Instant::now() + KEEP_ALIVE;
                        self.keep_alive.as_mut().reset(next);
                        return Poll::Ready(Some(Ok(axum::body::Bytes::from_static(
                            b": keep-alive\n\n",
                        ))));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

pub async fn board_api(
    State(db): State<Db>,
    Path(tenant): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    kernel::tenant::load(&db, &tenant).await?;
    Ok(Json(
        json!({ "counters": queue::board(&db, &tenant, kernel::clock::now_ms()).await? }),
    ))
}

// --------------------------------------------------------- clerk's page

#[derive(Template)]
#[template(path = "staff_counter.html")]
struct StaffCounter {
    page: Page,
    /// The counters this clerk may serve.
    counters: Vec<CounterLine>,
    /// Where a called ticket may be sent: every other open counter.
    transfer_to: Vec<CounterLine>,
    selected: String,
    selected_name: String,
    current: Option<Ticket>,
    open: bool,
    notice: String,
}

#[derive(Deserialize, Default)]
pub struct CounterQuery {
    c: Option<String>,
    notice: Option<String>,
}

pub async fn staff_page(
    State(db): State<Db>,
    clerk: Clerk,
    Query(q): Query<CounterQuery>,
    lang: Lang,
) -> AppResult<Response> {
    let now = kernel::clock::now_ms();
    let t = kernel::tenant::load(&db, &clerk.tenant).await?;
    let board = queue::board(&db, &clerk.tenant, now).await?;
    let serves = |code: &str| {
        t.counters
            .iter()
            .any(|c| c.code == code && queue::may_serve(&clerk, &c.department))
    };
    let mine: Vec<&queue::CounterStatus> = board.iter().filter(|b| serves(&b.counter)).collect();
    let selected =
        q.c.filter(|c| mine.iter().any(|b| &b.counter == c))
            .or_else(|| mine.first().map(|b| b.counter.clone()))
            .unwrap_or_default();
    let (current, open) = if selected.is_empty() {
        (None, false)
    } else {
        (
            queue::current(&db, &clerk.tenant, &selected, now).await?,
            queue::is_open(&db, &clerk.tenant, &selected).await?,
        )
    };
    let notice = match q.notice.as_deref() {
        Some("empty") => i18n::t(lang, "counter.staff.queue_empty").to_string(),
        _ => String::new(),
    };
    let page = tenant_page(
        lang,
        &t,
        i18n::t(lang, "counter.staff.title"),
        format!("/t/{}/staff/counter", clerk.tenant),
    )
    .for_staff(&clerk);
    Ok(render(&StaffCounter {
        page,
        counters: mine.iter().map(|b| CounterLine::of(&t, b, lang)).collect(),
        transfer_to: board
            .iter()
            .filter(|b| b.open && b.counter != selected)
            .map(|b| CounterLine::of(&t, b, lang))
            .collect(),
        selected_name: counter_name(&t, &selected, lang),
        selected,
        current,
        open,
        notice,
    }))
}

pub async fn call_post(
    State(st): State<CounterState>,
    clerk: Clerk,
    Path((tenant, counter)): Path<(String, String)>,
) -> AppResult<Response> {
    let called = queue::call_next(
        &st.db,
        st.events.bus(),
        &clerk,
        &counter,
        kernel::clock::now_ms(),
    )
    .await?;
    st.events.changed(&tenant);
    let notice = if called.is_none() {
        "&notice=empty"
    } else {
        ""
    };
    Ok(Redirect::to(&format!("/t/{tenant}/staff/counter?c={counter}{notice}")).into_response())
}

#[derive(Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    open: String,
}

pub async fn open_post(
    State(st): State<CounterState>,
    clerk: Clerk,
    Path((tenant, counter)): Path<(String, String)>,
    Form(f): Form<OpenForm>,
) -> AppResult<Response> {
    queue::set_open(
        &st.db,
        &clerk,
        &counter,
        f.open == "true",
        kernel::clock::now_ms(),
    )
    .await?;
    st.events.changed(&tenant);
    Ok(Redirect::to(&format!("/t/{tenant}/staff/counter?c={counter}")).into_response())
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    to: String,
}

async fn act(
    st: &CounterState,
    clerk: &Clerk,
    id: &str,
    action: &str,
    f: &ActionForm,
) -> AppResult<Ticket> {
    let now = kernel::clock::now_ms();
    let t = match action {
        "recall" => queue::recall(&st.db, st.events.bus(), clerk, id, f.version, now).await?,
        "absent" => queue::absent(&st.db, clerk, id, f.version, now).await?,
        "finish" => queue::finish(&st.db, clerk, id, f.version, now).await?,
        "transfer" => queue::transfer(&st.db, clerk, id, f.version, &f.to, now).await?,
        _ => return Err(AppError::NotFound("page")),
    };
    st.events.changed(&clerk.tenant);
    Ok(t)
}

pub async fn ticket_action_post(
    State(st): State<CounterState>,
    clerk: Clerk,
    Path((tenant, id, action)): Path<(String, String, String)>,
    Form(f): Form<ActionForm>,
) -> AppResult<Response> {
    let before = queue::get(&st.db, &tenant, &id).await?;
    act(&st, &clerk, &id, &action, &f).await?;
    Ok(Redirect::to(&format!("/t/{tenant}/staff/counter?c={}", before.counter)).into_response())
}

// ------------------------------------------------------------------ API

pub async fn issue_api(
    State(st): State<CounterState>,
    Path(tenant): Path<String>,
    Json(f): Json<serde_json::Value>,
) -> AppResult<Response> {
    let counter = f["counter"].as_str().unwrap_or_default().to_string();
    if counter.is_empty() {
        return Err(AppError::Validation(vec![kernel::FieldError {
            field: "counter".into(),
            message: i18n::t(Lang::Ja, "counter.kiosk.counter_required").into(),
        }]));
    }
    let (t, token) = st
        .issuer
        .issue(&st.db, &tenant, &counter, kernel::clock::now_ms())
        .await?;
    st.events.changed(&tenant);
    // The place in the queue is on the status link (counting it here
    // would cost every issue a scan of the queue).
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "ticket": t,
            "token": token,
            "status_url": format!("{}/t/{tenant}/tickets/{}/{token}", st.public_url.0.trim_end_matches('/'), t.id),
        })),
    )
        .into_response())
}

pub async fn ticket_api(
    State(db): State<Db>,
    Path((tenant, id, token)): Path<(String, String, String)>,
) -> AppResult<Json<serde_json::Value>> {
    let t = queue::by_link(&db, &tenant, &id, &token).await?;
    let pos = queue::position(&db, &tenant, &t, kernel::clock::now_ms()).await?;
    Ok(Json(json!({"ticket": t, "position": pos})))
}

pub async fn call_api(
    State(st): State<CounterState>,
    clerk: Clerk,
    Path((tenant, counter)): Path<(String, String)>,
) -> AppResult<Json<serde_json::Value>> {
    let called = queue::call_next(
        &st.db,
        st.events.bus(),
        &clerk,
        &counter,
        kernel::clock::now_ms(),
    )
    .await?;
    st.events.changed(&tenant);
    match called {
        Some(t) => Ok(Json(json!({ "ticket": t }))),
        None => Err(AppError::Conflict("queue_empty")),
    }
}

pub async fn ticket_action_api(
    State(st): State<CounterState>,
    clerk: Clerk,
    Path((_tenant, id, action)): Path<(String, String, String)>,
    Json(f): Json<serde_json::Value>,
) -> AppResult<Json<serde_json::Value>> {
    let form = ActionForm {
        version: f["version"].as_i64().unwrap_or(-1),
        to: f["to"].as_str().unwrap_or_default().to_string(),
    };
    let t = act(&st, &clerk, &id, &action, &form).await?;
    Ok(Json(json!({ "ticket": t })))
}
