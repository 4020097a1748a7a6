//! Events across servers (`kernel::events`) at the counter's display
//! board: a call through one server reaches a Server-Sent Events stream
//! held on another; a viewer that moves to another server with
//! `Last-Event-ID` receives exactly the frames it missed, then live ones;
//! the listener's connection killed mid-stream loses nothing.
//!
//! Two servers share one database only on PostgreSQL (`TestApp::peer`);
//! on SQLite one process is the only supported shape, so the resume test
//! runs there with both viewers on the one server.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use testkit::{Backend, TestApp};

const T: &str = "122289";

/// One frame of a stream: its `id:` (if any) and its whole text.
#[derive(Clone, Debug, PartialEq)]
struct Frame {
    id: Option<i64>,
    text: String,
}

struct Sse {
    resp: reqwest::Response,
    buf: String,
}

impl Sse {
    async fn open(app: &TestApp, last_event_id: Option<i64>) -> Sse {
        let mut req = app
            .client()
            .get(app.url(&format!("/t/{T}/counter/board/events")));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        Sse {
            resp,
            buf: String::new(),
        }
    }

    /// The next frame (keep-alive comments skipped), or None after `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let text: String = self.buf.drain(..end + 2).collect();
                if text.starts_with(':') {
                    continue;
                }
                let id = text
                    .lines()
                    .find_map(|l| l.strip_prefix("id: "))
                    .map(|v| v.parse().unwrap());
                return Some(Frame { id, text });
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(chunk) => self
                    .buf
                    .push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap())),
                Err(_) => return None,
            }
        }
    }

    /// Frames until one contains `needle`; all of them.
    async fn until(&mut self, needle: &str) -> Vec<Frame> {
        let mut out = Vec::new();
        loop {
            let f = self
                .next(Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("no frame with {needle} within 10 s: {out:?}"));
            let done = f.text.contains(needle);
            out.push(f);
            if done {
                return out;
            }
        }
    }

    /// Frames until none comes for `quiet`.
    async fn drain(&mut self, quiet: Duration) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(f) = self.next(quiet).await {
            out.push(f);
        }
        out
    }
}

async fn issue(app: &TestApp, counter: &str) {
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{T}/counter/tickets")))
        .json(&json!({ "counter": counter }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn call(app: &TestApp, clerk: &reqwest::Client, counter: &str) -> String {
    let r = clerk
        .post(app.url(&format!("/api/v1/t/{T}/staff/counter/{counter}/call")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let b: serde_json::Value = r.json().await.unwrap();
    b["ticket"]["display"].as_str().unwrap().to_string()
}

fn called(display: &str) -> String {
    format!("\"display\":\"{display}\"")
}

async fn postgres_pair() -> Option<(TestApp, TestApp)> {
    let a = TestApp::spawn(Backend::Postgres).await?;
    let b = a.peer().await;
    Some((a, b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_through_a_appears_on_a_stream_held_on_b() {
    let Some((a, b)) = postgres_pair().await else {
        return;
    };
    issue(&a, "c1").await;
    let mut on_b = Sse::open(&b, None).await;
    let first = on_b.next(Duration::from_secs(10)).await.expect("the board");
    assert!(first.text.contains("event: board\n"), "{first:?}");
    let snapshot_id = first.id.expect("the first frame has an id");
    let clerk = a.staff(T, "clerk").await;
    let display = call(&a, &clerk, "c1").await;
    let frames = on_b.until(&called(&display)).await;
    let call_frame = frames.last().unwrap();
    assert!(call_frame.id.unwrap() > snapshot_id);
    assert!(call_frame.text.contains("\"counter\":\"c1\""));
    b.cleanup().await;
    a.cleanup().await;
}

/// A viewer moved from A to B (on SQLite: reconnecting to the one
/// server) with `Last-Event-ID` gets exactly the frames with an id that a
/// viewer connected all along got after that id, then live ones.
async fn viewer_resumes_with_last_event_id(a: &TestApp, b: &TestApp) {
    let clerk = a.staff(T, "clerk").await;
    let mut all_along = Sse::open(a, None).await;
    all_along
        .next(Duration::from_secs(10))
        .await
        .expect("board");
    issue(a, "c1").await;
    let mut moving = Sse::open(a, None).await;
    moving.next(Duration::from_secs(10)).await.expect("board");
    let first = call(a, &clerk, "c1").await;
    let last = moving
        .until(&called(&first))
        .await
        .last()
        .unwrap()
        .id
        .unwrap();
    drop(moving);
    // Missed while away: tickets issued and called, and the counts.
    for c in ["c1", "c2", "c1"] {
        issue(a, c).await;
    }
    let mut missed_calls = Vec::new();
    for c in ["c1", "c2"] {
        missed_calls.push(call(a, &clerk, c).await);
    }
    let mut seen = all_along.until(&called(missed_calls.last().unwrap())).await;
    // The counts follow within a refresh.
    seen.extend(all_along.drain(Duration::from_millis(2500)).await);
    let expected: Vec<Frame> = seen
        .into_iter()
        .filter(|f| f.id.is_some_and(|id| id > last))
        .collect();
    assert!(
        expected.len() >= 3,
        "two calls and at least one counts frame: {expected:?}"
    );
    for display in &missed_calls {
        assert!(expected.iter().any(|f| f.text.contains(&called(display))));
    }
    let mut resumed = Sse::open(b, Some(last)).await;
    let mut got = Vec::new();
    while got.len() < expected.len() {
        let f = resumed
            .next(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("missed frames: got {got:?}, want {expected:?}"));
        // Frames without an id are a server's own refresh for its viewers.
        if f.id.is_some() {
            got.push(f);
        }
    }
    assert_eq!(got, expected);
    let extra: Vec<Frame> = resumed
        .drain(Duration::from_millis(1500))
        .await
        .into_iter()
        .filter(|f| f.id.is_some())
        .collect();
    assert!(extra.is_empty(), "nothing twice, nothing more: {extra:?}");
    // Then live ones.
    issue(a, "c2").await;
    let live = call(a, &clerk, "c2").await;
    let frames = resumed.until(&called(&live)).await;
    assert!(frames.last().unwrap().id.unwrap() > expected.last().unwrap().id.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_moved_from_a_to_b_gets_exactly_what_it_missed() {
    let Some((a, b)) = postgres_pair().await else {
        return;
    };
    viewer_resumes_with_last_event_id(&a, &b).await;
    b.cleanup().await;
    a.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_viewer_reconnecting_gets_exactly_what_it_missed() {
    let a = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    viewer_resumes_with_last_event_id(&a, &a).await;
    a.cleanup().await;
}

/// A `Last-Event-ID` this deployment never gave (a database started
/// again, a made-up number) gets the current board, not an empty replay.
async fn unknown_last_event_id_gets_the_board(app: &TestApp) {
    let mut s = Sse::open(app, Some(1_000_000)).await;
    let f = s.next(Duration::from_secs(10)).await.expect("board");
    assert!(f.text.contains("\"counters\":[{"), "{f:?}");
    let mut s = Sse::open(app, Some(-5)).await;
    let f = s.next(Duration::from_secs(10)).await.expect("board");
    assert!(f.text.contains("\"counters\":[{"), "{f:?}");
}

/// A call and its board event commit together: when the event cannot be
/// written (injected: a trigger refuses board events), the call is
/// refused and the ticket still waits; once events can be written again,
/// the call commits with its event, there to replay for any viewer.
async fn call_is_not_made_without_its_event(app: &TestApp) {
    let clerk = app.staff(T, "clerk").await;
    issue(app, "c1").await;
    let called_before = app
        .count(&format!(
            "SELECT count(*) FROM tickets WHERE tenant = '{T}' AND status = 'called'"
        ))
        .await;
    let events_before = app
        .count(&format!(
            "SELECT count(*) FROM events WHERE tenant = '{T}' AND body LIKE '%\"display\"%'"
        ))
        .await;
    app.execute_as_owner(match app.backend {
        Backend::Sqlite => {
            "CREATE TRIGGER refuse_board BEFORE INSERT ON events WHEN NEW.topic = 'counter.board' \
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        }
        Backend::Postgres => {
            "CREATE FUNCTION refuse_board() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$\n;;\n\
             CREATE TRIGGER refuse_board BEFORE INSERT ON events FOR EACH ROW \
             WHEN (NEW.topic = 'counter.board') EXECUTE FUNCTION refuse_board()"
        }
    })
    .await;
    let r = clerk
        .post(app.url(&format!("/api/v1/t/{T}/staff/counter/c1/call")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let called_now =
        format!("SELECT count(*) FROM tickets WHERE tenant = '{T}' AND status = 'called'");
    assert_eq!(
        app.count(&called_now).await,
        called_before,
        "no call without its event"
    );
    app.execute_as_owner(match app.backend {
        Backend::Sqlite => "DROP TRIGGER refuse_board",
        Backend::Postgres => "DROP TRIGGER refuse_board ON events",
    })
    .await;
    let display = call(app, &clerk, "c1").await;
    assert_eq!(app.count(&called_now).await, called_before + 1);
    let mut s = Sse::open(app, Some(0)).await;
    let frames = s.until(&called(&display)).await;
    assert_eq!(
        frames
            .iter()
            .filter(|f| f.text.contains(&called(&display)))
            .count(),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM events WHERE tenant = '{T}' AND body LIKE '%\"display\"%'"
        ))
        .await,
        events_before + 1
    );
}

testkit::on_both_backends!(
    unknown_last_event_id_gets_the_board,
    call_is_not_made_without_its_event
);

/// The listener connections of both servers are killed (as by a database
/// restart) while calls are made through A: B's viewer gets every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_killed_mid_stream_loses_no_call() {
    let Some((a, b)) = postgres_pair().await else {
        return;
    };
    let clerk = a.staff(T, "clerk").await;
    for _ in 0..6 {
        issue(&a, "c1").await;
    }
    let mut on_b = Sse::open(&b, None).await;
    on_b.next(Duration::from_secs(10)).await.expect("board");
    let mut displays = Vec::new();
    for _ in 0..6 {
        let killed = a
            .count(&format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = '{}' AND datname = current_database()",
                kernel::events::listen::APPLICATION_NAME
            ))
            .await;
        assert!(killed <= 2);
        displays.push(call(&a, &clerk, "c1").await);
    }
    let mut text = String::new();
    for d in &displays {
        for f in on_b.until(&called(d)).await {
            text.push_str(&f.text);
        }
    }
    for d in &displays {
        assert_eq!(text.matches(&called(d)).count(), 1, "{d} once: {text}");
    }
    b.cleanup().await;
    a.cleanup().await;
}
