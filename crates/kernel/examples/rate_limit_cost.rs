//! What one limited request costs the rate limiter: counted in memory
//! (SQLite's shape) and in `rate_windows` on PostgreSQL (every server's
//! shape), one request after another and 64 at once.
//!
//!     MADOGUCHI_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/postgres \
//!       cargo run --release -p kernel --example rate_limit_cost
//!
//! Creates a scratch database on that server and drops it afterwards.

use std::net::IpAddr;
use std::time::Instant;

use kernel::config::RateLimits;
use kernel::ratelimit::{Kind, RateLimiter};
use kernel::Db;

const N: usize = 4000;

async fn run(l: &RateLimiter, label: &str) {
    let limits_hit = |r: Result<(), u64>| assert_eq!(r, Ok(()), "a limit no run reaches");
    let t = Instant::now();
    for i in 0..N {
        let ip = IpAddr::from([10, 0, (i / 250) as u8, (i % 250) as u8]);
        limits_hit(
            l.check(Kind::Submit, "122289", ip, kernel::clock::now_ms())
                .await
                .unwrap(),
        );
    }
    let one = t.elapsed().as_secs_f64() * 1e6 / N as f64;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..64 {
        let l = l.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..N / 64 {
                let ip = IpAddr::from([10, 1, w as u8, (i % 250) as u8]);
                let r = l
                    .check(Kind::Submit, "122289", ip, kernel::clock::now_ms())
                    .await
                    .unwrap();
                assert_eq!(r, Ok(()));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = N as f64 / t.elapsed().as_secs_f64();
    println!(
        "{label}: {one:.1} µs per request one after another; {rate:.0} requests/s with 64 at once"
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let admin = std::env::var("MADOGUCHI_BENCH_POSTGRES_URL")?;
    sqlx::any::install_default_drivers();
    let name = format!("mdg_bench_ratelimit_{}", std::process::id());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await?;
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await?;
    let cut = admin.rfind('/').expect("a database in the URL");
    let limits = RateLimits {
        sign_in_per_client: 0,
        sign_in_per_tenant: 0,
        submit_per_client: 1_000_000,
        submit_per_tenant: 1_000_000,
        lookup_per_client: 0,
        lookup_per_tenant: 0,
    };
    let pg = Db::connect(&format!("{}/{name}", &admin[..cut]), 16).await?;
    kernel::migrate::run(&pg).await?;
    let path = std::env::temp_dir().join(format!("{name}.db"));
    let lite = Db::connect(&format!("sqlite://{}", path.display()), 2).await?;
    kernel::migrate::run(&lite).await?;
    println!(
        "machine: {} cores; {N} limited requests per run",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for round in 1..=2 {
        run(
            &RateLimiter::new(limits, &[], &lite),
            &format!("memory (SQLite), run {round}"),
        )
        .await;
        run(
            &RateLimiter::new(limits, &[], &pg),
            &format!("rate_windows (PostgreSQL), run {round}"),
        )
        .await;
    }
    pg.close().await;
    lite.close().await;
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    sqlx::Executor::execute(
        &mut conn,
        format!("DROP DATABASE {name} WITH (FORCE)").as_str(),
    )
    .await?;
    Ok(())
}
