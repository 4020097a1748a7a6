//! A multi-host URL against the test PostgreSQL: the pool connects to the
//! host that takes writes, whichever place it has in the list. (Moving
//! after a failover is tested with a real primary and standby by
//! scripts/failover-test.sh.)

use kernel::Db;

fn admin_url() -> Option<String> {
    match std::env::var("MADOGUCHI_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
                panic!("MADOGUCHI_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts PostgreSQL");
            }
            eprintln!("SKIPPED on PostgreSQL: set MADOGUCHI_TEST_POSTGRES_URL (scripts/test does)");
            None
        }
    }
}

fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_pool_connects_to_the_host_that_answers_and_writes_there() {
    let Some(url) = admin_url() else { return };
    let (scheme_user, rest) = url.rsplit_once('@').expect("user@host in the test URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let dead = dead_port();
    let multi = format!(
        "{scheme_user}@127.0.0.1:{dead},{host}{path}?target_session_attrs=read-write{}{query}",
        if query.is_empty() { "" } else { "&" }
    );
    let db = Db::connect(&multi, 2).await.unwrap();
    assert_eq!(db.primary_host(), Some(host));
    assert_eq!(db.primary_moves(), 0);
    let mut tx = db.begin().await.unwrap();
    sqlx::query("CREATE TEMPORARY TABLE multi_host_probe (x BIGINT)")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("INSERT INTO multi_host_probe VALUES (1)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    db.close().await;

    // One host, no attribute: sqlx's own single-host path, no watcher.
    let db = Db::connect(&url, 1).await.unwrap();
    assert_eq!(db.primary_host(), None);
    db.close().await;
}
