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

#[tokio::test]
async fn redact_blanks_only_old_final_messages() {
    let (db, path) = temp_db().await;
    let mails: Vec<NewMail> = (0..5).map(mail).collect();
    let mut tx = db.begin().await.unwrap();
    let old = queue(&mut tx, &mails[..4], 1_000).await.unwrap();
    let new = queue(&mut tx, &mails[4..], 50_000).await.unwrap();
    tx.commit().await.unwrap();
    for (id, state) in old.iter().zip(["sent", "failed", "queued", "unknown"]) {
        sqlx::query("UPDATE outbox SET state = $1 WHERE id = $2")
            .bind(state)
            .bind(id)
            .execute(db.write())
            .await
            .unwrap();
    }
    sqlx::query("UPDATE outbox SET state = 'sent' WHERE id = $1")
        .bind(&new[0])
        .execute(db.write())
        .await
        .unwrap();
    assert_eq!(super::redact(&db, 10_000).await.unwrap(), 2);
    let rows =
        sqlx::query("SELECT id, recipient, body, body_html, unsubscribe_url, state FROM outbox")
            .fetch_all(db.read())
            .await
            .unwrap();
    for r in &rows {
        let id: String = r.get(0);
        let blank = id == old[0] || id == old[1];
        assert_eq!(r.get::<String, _>(1).is_empty(), blank, "{id}");
        assert_eq!(r.get::<String, _>(2).is_empty(), blank, "{id}");
        assert_eq!(r.get::<Option<String>, _>(3).is_none(), blank, "{id}");
        assert_eq!(r.get::<Option<String>, _>(4).is_none(), blank, "{id}");
    }
    // Again: nothing more to blank.
    assert_eq!(super::redact(&db, 10_000).await.unwrap(), 0);
    db.close().await;
    let _ = std::fs::remove_file(path);
}
