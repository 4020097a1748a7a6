//! Queueing on SQLite (a temporary file); the HTTP tests
//! (`server/tests/it/mail_outbox.rs`) queue through real submissions on
//! both backends.

use kernel::i18n::Lang;
use kernel::Db;
use sqlx::Row;

use super::{queue, NewMail, State};

async fn temp_db() -> (Db, std::path::PathBuf) {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random");
    let path = std::env::temp_dir().join(format!("madoguchi-mail-{}.db", hex::encode(b)));
    let db = Db::connect(&format!("sqlite://{}", path.display()), 2)
        .await
        .expect("sqlite");
    kernel::migrate::run(&db).await.expect("migrate");
    (db, path)
}

fn mail(i: usize) -> NewMail {
    NewMail {
        tenant: "122289".into(),
        kind: "newsletter".into(),
        to: jp::Email::parse(&format!("r{i}@example.jp")).unwrap(),
        lang: if i.is_multiple_of(2) {
            Lang::Ja
        } else {
            Lang::En
        },
        subject: format!("件名 {i}"),
        body: format!("本文 {i}"),
        body_html: Some(format!("<p>本文 {i}</p>")),
        case_id: None,
        campaign: Some("c1".into()),
        subscriber: Some(format!("s{i}")),
        unsubscribe_url: Some(format!("https://example.jp/u/{i}")),
    }
}

#[tokio::test]
async fn queues_every_mail_over_several_statements() {
    let (db, path) = temp_db().await;
    let mails: Vec<NewMail> = (0..2_500).map(mail).collect();
    let mut tx = db.begin().await.unwrap();
    let ids = queue(&mut tx, &mails, 1_000).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids.len(), 2_500);
    let rows = sqlx::query(
        "SELECT id, recipient, lang, state, campaign, subscriber, body_html, unsubscribe_url, next_attempt_at, created_at
         FROM outbox WHERE tenant = '122289' ORDER BY subscriber",
    )
    .fetch_all(db.read())
    .await
    .unwrap();
    assert_eq!(rows.len(), 2_500);
    let r = rows
        .iter()
        .find(|r| r.get::<String, _>(5) == "s2499")
        .unwrap();
    assert_eq!(r.get::<String, _>(0), ids[2_499]);
    assert_eq!(r.get::<String, _>(1), "r2499@example.jp");
    assert_eq!(r.get::<String, _>(2), "en");
    assert_eq!(State::parse(&r.get::<String, _>(3)), Some(State::Queued));
    assert_eq!(r.get::<String, _>(4), "c1");
    assert_eq!(r.get::<String, _>(6), "<p>本文 2499</p>");
    assert_eq!(r.get::<String, _>(7), "https://example.jp/u/2499");
    assert_eq!(r.get::<i64, _>(8), 1_000);
    assert_eq!(r.get::<i64, _>(9), 1_000);
    db.close().await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn a_rolled_back_transaction_queues_nothing() {
    let (db, path) = temp_db().await;
    let mut tx = db.begin().await.unwrap();
    queue(&mut tx, &[mail(1)], 1_000).await.unwrap();
    tx.rollback().await.unwrap();
    let n: i64 = sqlx::query("SELECT count(*) FROM outbox")
        .fetch_one(db.read())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    db.close().await;
    let _ = std::fs::remove_file(path);
}

#[test]
fn every_state_reads_back() {
    for s in State::ALL {
        assert_eq!(State::parse(s.as_str()), Some(s));
    }
    assert_eq!(State::parse("delivered"), None);
}
