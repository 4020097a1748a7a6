//! The bus on SQLite (a temporary file) and, when
//! `MADOGUCHI_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database
//! with two buses (two servers) over it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::broadcast;

use super::{listen, Bus, Event};
use crate::db::Db;

const TOPIC: &str = "test.topic";

struct Temp {
    db: Db,
    admin: Option<(String, String)>,
    file: Option<std::path::PathBuf>,
}

fn suffix() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random");
    hex::encode(b)
}

async fn sqlite() -> Temp {
    let path = std::env::temp_dir().join(format!("madoguchi-events-{}.db", suffix()));
    let db = Db::connect(&format!("sqlite://{}", path.display()), 4)
        .await
        .expect("sqlite");
    crate::migrate::run(&db).await.expect("migrate");
    Temp {
        db,
        admin: None,
        file: Some(path),
    }
}

fn pg_admin() -> Option<String> {
    std::env::var("MADOGUCHI_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

async fn postgres() -> Option<Temp> {
    let Some(admin) = pg_admin() else {
        eprintln!("SKIPPED on PostgreSQL: set MADOGUCHI_TEST_POSTGRES_URL");
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!("mdg_events_{}", suffix());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("admin");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create");
    let url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => unreachable!("a URL has a slash"),
    };
    let db = Db::connect(&url, 8).await.expect("postgres");
    crate::migrate::run(&db).await.expect("migrate");
    Some(Temp {
        db,
        admin: Some((admin, name)),
        file: None,
    })
}

impl Temp {
    async fn other(&self) -> Db {
        Db::connect(self.db.url(), 8).await.expect("second handle")
    }

    async fn drop_all(self) {
        self.db.close().await;
        if let Some((admin, name)) = self.admin {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
                .await
                .expect("admin");
            let _ = sqlx::Executor::execute(
                &mut conn,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
            )
            .await;
        }
        if let Some(p) = self.file {
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
            }
        }
    }
}

async fn next(rx: &mut broadcast::Receiver<Arc<Event>>) -> Arc<Event> {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .expect("not lagged")
}

async fn nothing_within(rx: &mut broadcast::Receiver<Arc<Event>>, ms: u64) {
    if let Ok(r) = tokio::time::timeout(Duration::from_millis(ms), rx.recv()).await {
        panic!("unexpected event: {r:?}");
    }
}

#[tokio::test]
async fn sqlite_delivers_in_commit_order_per_tenant() {
    let t = sqlite().await;
    let bus = Bus::start(t.db.clone()).await.expect("bus");
    let mut rx = bus.subscribe(TOPIC);
    let mut other = bus.subscribe("other.topic");
    assert_eq!(
        bus.publish_now("011002", TOPIC, json!({"n": 1}))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        bus.publish_now("011002", TOPIC, json!({"n": 2}))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        bus.publish_now("131016", TOPIC, json!({"n": 3}))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        bus.publish_now("011002", "other.topic", json!({}))
            .await
            .unwrap(),
        3
    );
    let got: Vec<(String, i64, i64)> = [
        next(&mut rx).await,
        next(&mut rx).await,
        next(&mut rx).await,
    ]
    .iter()
    .map(|e| (e.tenant.clone(), e.id, e.body["n"].as_i64().unwrap()))
    .collect();
    // Per tenant in order; tenants may interleave either way.
    let a: Vec<_> = got
        .iter()
        .filter(|g| g.0 == "011002")
        .map(|g| (g.1, g.2))
        .collect();
    assert_eq!(a, vec![(1, 1), (2, 2)]);
    assert!(got.contains(&("131016".into(), 1, 3)));
    assert_eq!(next(&mut other).await.id, 3);
    nothing_within(&mut rx, 100).await;
    // The table answers a viewer that reconnects, by topic.
    let since: Vec<i64> = bus
        .since("011002", TOPIC, 1, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(since, vec![2]);
    assert_eq!(bus.head("011002").await.unwrap(), 3);
    assert_eq!(bus.head("999999").await.unwrap(), 0);
    t.drop_all().await;
}

#[tokio::test]
async fn an_event_in_a_transaction_is_delivered_at_commit_and_never_after_rollback() {
    let t = sqlite().await;
    let bus = Bus::start(t.db.clone()).await.expect("bus");
    let mut rx = bus.subscribe(TOPIC);
    let mut tx = t.db.begin().await.unwrap();
    assert_eq!(
        bus.publish(&mut tx, "011002", TOPIC, json!({"n": "gone"}))
            .await
            .unwrap(),
        1
    );
    tx.rollback().await.unwrap();
    nothing_within(&mut rx, 100).await;
    let mut tx = t.db.begin().await.unwrap();
    // The id of the rolled-back event is used again: no gap.
    assert_eq!(
        bus.publish(&mut tx, "011002", TOPIC, json!({"n": "kept"}))
            .await
            .unwrap(),
        1
    );
    nothing_within(&mut rx, 50).await;
    tx.commit().await.unwrap();
    let e = next(&mut rx).await;
    assert_eq!((e.id, e.body["n"].as_str()), (1, Some("kept")));
    t.drop_all().await;
}

#[tokio::test]
async fn events_are_pruned_by_age_and_ids_go_on() {
    let t = sqlite().await;
    let bus = Bus::start(t.db.clone()).await.expect("bus");
    bus.publish_now("011002", TOPIC, json!({})).await.unwrap();
    bus.publish_now("011002", TOPIC, json!({})).await.unwrap();
    assert_eq!(super::prune(&t.db, 0).await.unwrap(), 0);
    assert_eq!(
        super::prune(&t.db, crate::clock::now_ms() + 1)
            .await
            .unwrap(),
        2
    );
    assert!(bus.since("011002", TOPIC, 0, 10).await.unwrap().is_empty());
    assert_eq!(
        bus.publish_now("011002", TOPIC, json!({})).await.unwrap(),
        3
    );
    t.drop_all().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let t = sqlite().await;
    let bus = Bus::start(t.db.clone()).await.expect("bus");
    let big = "x".repeat(super::MAX_BODY_BYTES);
    assert!(bus
        .publish_now("011002", TOPIC, json!({ "big": big }))
        .await
        .is_err());
    assert_eq!(bus.head("011002").await.unwrap(), 0);
    t.drop_all().await;
}

/// Two servers: what one publishes, the other delivers, in commit order,
/// even with many publishers at once.
#[tokio::test]
async fn postgres_two_servers_concurrent_publishers_in_order() {
    let Some(t) = postgres().await else { return };
    let a = Bus::start(t.db.clone()).await.expect("bus a");
    let db_b = t.other().await;
    let b = Bus::start(db_b.clone()).await.expect("bus b");
    let mut rx = b.subscribe(TOPIC);
    let mut tasks = Vec::new();
    for w in 0..8 {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                a.publish_now("011002", TOPIC, json!({"w": w, "i": i}))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for want in 1..=200 {
        assert_eq!(next(&mut rx).await.id, want);
    }
    nothing_within(&mut rx, 200).await;
    db_b.close().await;
    t.drop_all().await;
}

/// The listener's connection is killed mid-stream (as by a database
/// restart): it reconnects and catches up from the table; nothing is
/// lost or delivered twice.
#[tokio::test]
async fn postgres_listener_killed_mid_stream_loses_nothing() {
    let Some(t) = postgres().await else { return };
    let a = Bus::start(t.db.clone()).await.expect("bus a");
    let db_b = t.other().await;
    let b = Bus::start(db_b.clone()).await.expect("bus b");
    let mut rx = b.subscribe(TOPIC);
    let publisher = {
        let a = a.clone();
        tokio::spawn(async move {
            for i in 0..300 {
                a.publish_now("011002", TOPIC, json!({ "i": i }))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let killed = terminate_listeners(&t.db).await;
    assert_eq!(killed, 2, "both servers' listeners");
    tokio::time::sleep(Duration::from_millis(100)).await;
    terminate_listeners(&t.db).await;
    publisher.await.unwrap();
    for want in 1..=300 {
        let e = next(&mut rx).await;
        assert_eq!((e.id, e.body["i"].as_i64()), (want, Some(want - 1)));
    }
    nothing_within(&mut rx, 300).await;
    db_b.close().await;
    t.drop_all().await;
}

async fn terminate_listeners(db: &Db) -> i64 {
    use sqlx::Row;
    sqlx::query(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(listen::APPLICATION_NAME)
    .fetch_one(db.read())
    .await
    .unwrap()
    .get::<i64, _>(0)
}

/// A NOTIFY storm (10,000 events as fast as one connection sends them)
/// coalesces: the subscriber ends current, and a query on the same
/// server meanwhile is answered at once.
#[tokio::test]
async fn postgres_notify_storm_coalesces_and_blocks_nothing() {
    let Some(t) = postgres().await else { return };
    let a = Bus::start(t.db.clone()).await.expect("bus a");
    let db_b = t.other().await;
    let b = Bus::start(db_b.clone()).await.expect("bus b");
    let mut rx = b.subscribe(TOPIC);
    let storm = {
        let db = t.db.clone();
        tokio::spawn(async move {
            // 10,000 events in transactions of 100, with a NOTIFY each.
            let a = a.clone();
            for _ in 0..100 {
                let mut tx = db.begin().await.unwrap();
                for _ in 0..100 {
                    a.publish(&mut tx, "011002", TOPIC, json!({}))
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
            }
        })
    };
    let mut slowest = Duration::ZERO;
    while !storm.is_finished() {
        let start = std::time::Instant::now();
        sqlx::query("SELECT 1").execute(db_b.read()).await.unwrap();
        slowest = slowest.max(start.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    storm.await.unwrap();
    assert!(
        slowest < Duration::from_millis(500),
        "a query waited {slowest:?}"
    );
    let mut last = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while last < 10_000 {
        match tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("current within 20 s")
        {
            Ok(e) => {
                assert!(e.id > last, "in order");
                last = e.id;
            }
            // This slow subscriber skips; the server goes on.
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(last, 10_000);
    db_b.close().await;
    t.drop_all().await;
}
