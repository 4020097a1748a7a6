//! Mail delivery throughput (bench/mail_deliver.sh): queues N personalised
//! mails in one transaction of a fresh database, then times one sender
//! (`mail::delivery::Deliverer`) handing them all to the SMTP server at
//! `SMTP_URL`, and prints messages per second of each phase.
//!
//!   cargo run -p mail --example deliver_bench -- N SMTP_URL [DATABASE_URL] [CONNECTIONS] [queue-only]
//!
//! `queue-only` queues the mails and stops (bench/mail_deliver_load.sh:
//! a running server delivers them); `MADOGUCHI_ENCRYPTION_KEYS`, when
//! set, is the database's key (else a fresh one).

use std::time::Instant;

use kernel::config::{Config, Mode};
use kernel::i18n::Lang;
use mail::outbox::NewMail;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(Ok(10_000), |a| a.parse())?;
    let smtp = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "smtp://127.0.0.1:2525".into());
    let path = std::env::temp_dir().join(format!("madoguchi-mail-bench-{}.db", std::process::id()));
    let url = args
        .get(3)
        .filter(|u| !u.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", path.display()));
    let connections: usize = args.get(4).map_or(Ok(16), |a| a.parse())?;
    let queue_only = args.get(5).is_some_and(|a| a == "queue-only");
    let specs: Vec<String> = match std::env::var("MADOGUCHI_ENCRYPTION_KEYS") {
        Ok(keys) if !keys.is_empty() => keys.split(',').map(|k| k.trim().to_string()).collect(),
        _ => vec![kernel::crypto::Vault::generate_spec("bench")],
    };
    let vault = kernel::crypto::Vault::from_specs(&specs)?;
    let db = kernel::Db::connect(&url, 8).await?.with_vault(vault);
    kernel::migrate::run(&db).await?;
    let tenant = "122289";
    let mails: Vec<NewMail> = (0..n)
        .map(|i| NewMail {
            tenant: tenant.into(),
            kind: "bench.notice".into(),
            to: jp::Email::parse(&format!("resident{i}@example.jp")).expect("address"),
            lang: Lang::Ja,
            subject: format!("防災メール {i}"),
            body: format!("住民 {i} 様\n\n避難所の開設をお知らせします。\n"),
            body_html: None,
            case_id: None,
            campaign: Some("bench".into()),
            subscriber: Some(format!("s{i}")),
            unsubscribe_url: Some(format!("https://m.example.jp/t/{tenant}/mail/unsubscribe/s{i}/0123456789abcdef0123456789abcdef")),
        })
        .collect();
    let t = Instant::now();
    let mut tx = db.begin().await?;
    mail::outbox::queue(&mut tx, &mails, kernel::clock::now_ms()).await?;
    tx.commit().await?;
    let queued = t.elapsed();
    println!(
        "queued {n} in {:.2} s ({:.0}/s)",
        queued.as_secs_f64(),
        n as f64 / queued.as_secs_f64()
    );
    if queue_only {
        db.close().await;
        return Ok(());
    }
    let mut config = Config {
        mode: Mode::Development,
        ..Config::default()
    };
    config.mail.smtp_url = Some(smtp);
    config.mail.from = "noreply@city.example.jp".into();
    config.mail.per_minute = 0;
    config.mail.connections = connections;
    let d = mail::delivery::Deliverer::new(db.clone(), &config)?;
    let t = Instant::now();
    let report = d.run(tenant).await?;
    let took = t.elapsed();
    println!(
        "delivered {} (retried {}, failed {}) in {:.2} s over {connections} connections: {:.0} messages/s",
        report.sent,
        report.retried,
        report.failed,
        took.as_secs_f64(),
        report.sent as f64 / took.as_secs_f64()
    );
    db.close().await;
    let _ = std::fs::remove_file(&path);
    Ok(())
}
