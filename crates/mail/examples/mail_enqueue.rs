//! The enqueue benchmark of issue 17 ("Enqueue 100,000 personalised
//! messages in < 2 s"): a fresh database (SQLite file, or a PostgreSQL
//! database of its own), N active subscribers of one category with
//! sealed addresses, one approved message in Japanese, easy Japanese and
//! English; then the timed part, `mail::newsletters::send::send`: the
//! audience query, every address opened, one personalised outbox row per
//! subscriber (footer link, unsubscribe URL) in multi-row inserts, one
//! transaction. Run by bench/mail_enqueue.sh.
//!
//!   cargo run --release -p mail --example mail_enqueue -- sqlite [N]
//!   cargo run --release -p mail --example mail_enqueue -- postgres://…/postgres [N]

use std::time::Instant;

use kernel::db::values_placeholders;
use kernel::Db;

const T: &str = "122289";
const CATEGORY: &str = "bousai";

async fn seed(db: &Db, n: usize) -> anyhow::Result<()> {
    let vault = db.vault()?;
    sqlx::query("INSERT INTO mail_categories (tenant, code, name, names, position, active, created_at, updated_at) VALUES ($1, $2, '防災・防犯', '{}', 1, 1, 0, 0)")
        .bind(T)
        .bind(CATEGORY)
        .execute(db.write())
        .await?;
    let langs = ["ja", "ja", "ja", "ja-x-easy", "en", "vi", "pt-BR"];
    let mut tx = db.begin().await?;
    let ids: Vec<usize> = (0..n).collect();
    for chunk in ids.chunks(1_000) {
        let sql = format!(
            "INSERT INTO mail_subscribers (tenant, id, address, address_hash, lang, state, consent_at, consent_source, created_at) VALUES {}",
            values_placeholders(db.backend(), chunk.len(), 9)
        );
        let mut q = sqlx::query(&sql);
        for i in chunk {
            let email = jp::Email::parse(&format!("resident{i}@example.jp")).expect("address");
            q = q
                .bind(T)
                .bind(format!("s{i:06}"))
                .bind(mail::address::seal(vault, T, &email))
                .bind(mail::address::hash(vault, T, &email))
                .bind(langs[i % langs.len()])
                .bind("active")
                .bind(0i64)
                .bind("import")
                .bind(0i64);
        }
        q.execute(&mut *tx).await?;
        let sql = format!(
            "INSERT INTO mail_subscriptions (tenant, subscriber, category, created_at) VALUES {}",
            values_placeholders(db.backend(), chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for i in chunk {
            q = q.bind(T).bind(format!("s{i:06}")).bind(CATEGORY).bind(0i64);
        }
        q.execute(&mut *tx).await?;
    }
    let texts = [
        ("ja", "【四街道市】防災メール：避難所を開設しました", "台風10号の接近に伴い、市内の避難所を開設しました。\n\n- 四街道市役所\n- 各地区の公民館\n\n詳しくは[市のサイト](https://www.city.yotsukaido.chiba.jp/)をご覧ください。"),
        ("ja-x-easy", "ひなんじょを あけました", "たいふうが きます。ひなんじょを あけました。"),
        ("en", "Evacuation shelters are open", "Typhoon No. 10 is approaching. **Shelters are open** at the city hall and community centres."),
    ];
    for (lang, subject, body) in texts {
        sqlx::query("INSERT INTO mail_message_texts (tenant, message, lang, subject, body) VALUES ($1, 'bench', $2, $3, $4)")
            .bind(T)
            .bind(lang)
            .bind(subject)
            .bind(body)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO mail_messages (tenant, id, category, urgent, state, author, approver, approved_at, created_at, updated_at, version) \
         VALUES ($1, 'bench', $2, 1, 'approved', 'author', 'approver', 0, 0, 0, 1)",
    )
    .bind(T)
    .bind(CATEGORY)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let target = args.get(1).map(String::as_str).unwrap_or("sqlite");
    let n: usize = args.get(2).map_or(Ok(100_000), |s| s.parse())?;
    sqlx::any::install_default_drivers();
    let (url, cleanup) = if target == "sqlite" {
        let path =
            std::env::temp_dir().join(format!("madoguchi-mail-bench-{}.db", std::process::id()));
        (format!("sqlite://{}", path.display()), None)
    } else {
        let name = format!("mdg_mail_bench_{}", std::process::id());
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(target).await?;
        sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str()).await?;
        let (base, _) = target.rsplit_once('/').expect("a database URL");
        (format!("{base}/{name}"), Some(name))
    };
    let vault =
        kernel::crypto::Vault::from_specs(&[kernel::crypto::Vault::generate_spec("bench")])?;
    let db = Db::connect(&url, 4).await?.with_vault(vault);
    kernel::migrate::run(&db).await?;
    let t0 = Instant::now();
    seed(&db, n).await?;
    eprintln!(
        "seeded {n} subscribers in {:.1} s (not timed)",
        t0.elapsed().as_secs_f64()
    );
    let sender = mail::newsletters::send::Sender {
        public_url: "https://madoguchi.example.jp".into(),
        links: mail::links::LinkKey::from_bytes(vec![7; 32]),
    };
    let t = Instant::now();
    let sent =
        mail::newsletters::send::send(&db, &sender, T, "bench", 1, kernel::clock::now_ms()).await?;
    let secs = t.elapsed().as_secs_f64();
    use sqlx::Row;
    let rows: i64 =
        sqlx::query("SELECT COUNT(*) FROM outbox WHERE tenant = $1 AND campaign = 'bench'")
            .bind(T)
            .fetch_one(db.read())
            .await?
            .get(0);
    println!(
        "{} {}: {:?}, {rows} outbox rows, enqueue {:.2} s ({:.0} messages/s)",
        if target == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        },
        sent,
        secs,
        rows as f64 / secs
    );
    db.close().await;
    if let Some(name) = cleanup {
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(target).await?;
        sqlx::Executor::execute(
            &mut admin,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
        )
        .await?;
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{ext}"));
        }
    }
    assert_eq!(rows as usize, n, "one row per subscriber");
    Ok(())
}
