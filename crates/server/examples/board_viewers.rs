//! Load generator for the display board (bench/counter.sh): opens N
//! Server-Sent Events streams of one board on raw TCP, has a clerk call
//! numbers, and reports how long each call took to reach every viewer.
//! One thread, little work per frame, so the figure is mostly the
//! server's (bench/board_sse.mjs is the same in Node, for comparison).
//!
//!   cargo run --release -p server --example board_viewers -- \
//!       127.0.0.1:8080 [viewers] [calls]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

const TENANT: &str = "122289";
const COUNTER: &str = "c3";
const SECRET: &str = "MFSGC3LPM5UWG2DJMRSW233UN5ZHA5DP";

/// What viewers look for, and when it was asked for.
#[derive(Default)]
struct Expect {
    generation: u64,
    marker: Vec<u8>,
    at: Option<Instant>,
}

#[derive(Default)]
struct Shared {
    expect: Mutex<Expect>,
    arrivals: Mutex<Vec<f64>>,
    connected: std::sync::atomic::AtomicUsize,
    refused: std::sync::atomic::AtomicUsize,
    closed: std::sync::atomic::AtomicUsize,
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

async fn viewer(addr: String, shared: Arc<Shared>, ready: tokio::sync::mpsc::Sender<()>) {
    use std::sync::atomic::Ordering::Relaxed;
    let Ok(s) = TcpStream::connect(&addr).await else {
        shared.refused.fetch_add(1, Relaxed);
        let _ = ready.send(()).await;
        return;
    };
    let req = format!(
        "GET /t/{TENANT}/counter/board/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    );
    if write_all(&s, req.as_bytes()).await.is_err() {
        shared.refused.fetch_add(1, Relaxed);
        let _ = ready.send(()).await;
        return;
    }
    let mut buf = vec![0u8; 4096];
    let mut tail: Vec<u8> = Vec::new();
    let mut first = true;
    let mut seen = 0u64;
    loop {
        if s.readable().await.is_err() {
            break;
        }
        let n = match s.try_read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => break,
        };
        let chunk = &buf[..n];
        if first {
            first = false;
            if chunk.starts_with(b"HTTP/1.1 200") {
                shared.connected.fetch_add(1, Relaxed);
            } else {
                shared.refused.fetch_add(1, Relaxed);
                let _ = ready.send(()).await;
                return;
            }
            let _ = ready.send(()).await;
        }
        let hit = {
            let e = shared.expect.lock().unwrap_or_else(|p| p.into_inner());
            if e.generation != seen && !e.marker.is_empty() {
                let mut joined = tail.clone();
                joined.extend_from_slice(chunk);
                if find(&joined, &e.marker) {
                    seen = e.generation;
                    e.at.map(|at| at.elapsed().as_secs_f64() * 1000.0)
                } else {
                    None
                }
            } else {
                None
            }
        };
        if let Some(ms) = hit {
            shared
                .arrivals
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(ms);
        }
        let keep = chunk.len().min(128);
        tail.clear();
        tail.extend_from_slice(&chunk[chunk.len() - keep..]);
    }
    shared.closed.fetch_add(1, Relaxed);
}

async fn write_all(s: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        s.writable().await?;
        match s.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((q * sorted.len() as f64) as usize).min(sorted.len() - 1)]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    use std::sync::atomic::Ordering::Relaxed;
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let viewers: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let calls: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(10);
    let shared = Arc::new(Shared::default());
    let (tx, mut rx) = tokio::sync::mpsc::channel(viewers.max(1));
    for i in 0..viewers {
        tokio::spawn(viewer(addr.clone(), shared.clone(), tx.clone()));
        if i % 500 == 499 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    drop(tx);
    for _ in 0..viewers {
        if rx.recv().await.is_none() {
            break;
        }
    }
    let connected = shared.connected.load(Relaxed);
    println!(
        "viewers connected: {connected}; refused: {}",
        shared.refused.load(Relaxed)
    );

    let base = format!("http://{addr}");
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let secret = kernel::totp::base32_decode(SECRET).ok_or_else(|| anyhow::anyhow!("secret"))?;
    let step = kernel::totp::step_at(time::OffsetDateTime::now_utc().unix_timestamp());
    let r = http
        .post(format!("{base}/api/v1/t/{TENANT}/staff/session"))
        .json(&serde_json::json!({"id": "clerk", "password": "madoguchi-demo", "code": kernel::totp::code(&secret, step)}))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "sign-in: {}", r.text().await?);

    let mut worst: f64 = 0.0;
    let mut p99s = Vec::new();
    let mut all = true;
    for n in 0..calls {
        let t: serde_json::Value = http
            .post(format!("{base}/api/v1/t/{TENANT}/counter/tickets"))
            .json(&serde_json::json!({"counter": COUNTER}))
            .send()
            .await?
            .json()
            .await?;
        let display = t["ticket"]["display"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        tokio::time::sleep(Duration::from_millis(300)).await;
        shared
            .arrivals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let started = Instant::now();
        {
            let mut e = shared.expect.lock().unwrap_or_else(|p| p.into_inner());
            e.generation += 1;
            e.marker = format!("\"display\":\"{display}\"").into_bytes();
            e.at = Some(started);
        }
        let r = http
            .post(format!(
                "{base}/api/v1/t/{TENANT}/staff/counter/{COUNTER}/call"
            ))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "call: {}", r.text().await?);
        let answered = started.elapsed().as_secs_f64() * 1000.0;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = shared
                .arrivals
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len();
            if got >= connected || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut a = shared
            .arrivals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        a.sort_by(f64::total_cmp);
        let p99 = pct(&a, 0.99);
        worst = worst.max(p99);
        p99s.push(p99);
        all &= a.len() == connected;
        println!(
            "call {}: {display} reached {}/{connected} viewers; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (first viewer {:.1} ms, call answered {answered:.1} ms)",
            n + 1,
            a.len(),
            pct(&a, 0.5),
            p99,
            a.last().copied().unwrap_or(f64::NAN),
            a.first().copied().unwrap_or(f64::NAN),
        );
    }
    p99s.sort_by(f64::total_cmp);
    println!(
        "RESULT viewers={connected} calls={calls} worst_p99_ms={worst:.1} median_p99_ms={:.1} all_received={all} closed={}",
        pct(&p99s, 0.5),
        shared.closed.load(Relaxed)
    );
    Ok(())
}
