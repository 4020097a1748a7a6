//! The reconciliation benchmark of issue 18 ("reconcile one million 全銀
//! records in < 2 s"): a fresh database (SQLite file, or a PostgreSQL
//! database of its own) with one unpaid charge per record, a 振込入金通知
//! with one transfer per charge (the 納付番号 in the 振込依頼人名; two
//! accounts of 500,000 for a million, since a trailer counts six digits) written
//! to a file under the temporary directory; then two timed parts:
//!
//! 1. reading and checking the whole file (`payments::zengin::parse`:
//!    lengths, Shift_JIS, fields, record order, trailer count and total);
//! 2. the import (`payments::reconcile::import`: the check again, every
//!    transfer matched by number and amount and applied, the file
//!    recorded) of the first `import_records` of them, in one transaction.
//!
//! Run by bench/reconcile.sh:
//!
//!   cargo run --release -p payments --example reconcile_bench -- sqlite [records] [import_records]
//!   cargo run --release -p payments --example reconcile_bench -- postgres://…/postgres [records] [import_records]

use std::time::Instant;

use kernel::db::values_placeholders;
use kernel::Db;
use payments::number::PaymentNumber;
use payments::reconcile::{self, FileKind, Imported, Upload};
use payments::zengin::write::{accounts as accounts_notice, Credit};

const T: &str = "122289";
const AMOUNT: u64 = 3_000;

async fn seed(db: &Db, n: usize) -> anyhow::Result<()> {
    let vault = db.vault()?;
    let payer = vault.seal(
        T,
        kernel::crypto::Purpose::Payer,
        r#"{"name":"四街道 花子","postal_code":"","address":""}"#,
    );
    let mut tx = db.begin().await?;
    let ids: Vec<usize> = (0..n).collect();
    for chunk in ids.chunks(1_000) {
        let sql = format!(
            "INSERT INTO payment_charges (tenant, id, payment_number, subject, subject_label, period_label, fiscal_year, payer_ref, payer_sealed, amount, paid_amount, refunded_amount, due_date, status, created_by, created_at, updated_at) VALUES {}",
            values_placeholders(db.backend(), chunk.len(), 17)
        );
        let mut q = sqlx::query(&sql);
        for &i in chunk {
            q = q
                .bind(T)
                .bind(format!("c{i:07}"))
                .bind(number(i))
                .bind("kokuho")
                .bind("国民健康保険税")
                .bind("令和8年度 第1期")
                .bind(2026i64)
                .bind(format!("{i:08}"))
                .bind(&payer)
                .bind(AMOUNT as i64)
                .bind(0i64)
                .bind(0i64)
                .bind("2026-07-31")
                .bind("unpaid")
                .bind("bench")
                .bind(0i64)
                .bind(0i64);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn number(i: usize) -> String {
    PaymentNumber::new(2026, i as u64 + 1)
        .expect("a number")
        .to_string()
}

/// The notice: one transfer per charge, in accounts of at most 500,000
/// (the trailer counts six digits).
fn file(n: usize) -> Vec<u8> {
    let credits: Vec<Credit> = (0..n)
        .map(|i| Credit {
            inquiry_number: (i % 500_000) as u32,
            amount: AMOUNT,
            requester_name: format!("{}ﾖﾂｶｲﾄﾞｳ ﾊﾅｺ", number(i)),
            edi: String::new(),
            cancelled: false,
        })
        .collect();
    let accounts: Vec<&[Credit]> = credits.chunks(500_000).collect();
    accounts_notice(time::macros::date!(2026 - 07 - 21), &accounts, true)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let target = args.get(1).map(String::as_str).unwrap_or("sqlite");
    let n: usize = args.get(2).map_or(Ok(1_000_000), |s| s.parse())?;
    let m: usize = args.get(3).map_or(Ok(n), |s| s.parse())?.min(n);
    assert!(
        n <= 1_000_000,
        "照会番号 has six digits: at most 1,000,000 per notice"
    );
    let build = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    };

    // 1. The whole file, read and checked.
    let path = std::env::temp_dir().join(format!("madoguchi-zengin-{}.txt", std::process::id()));
    std::fs::write(&path, file(n))?;
    let bytes = std::fs::read(&path)?;
    let _ = std::fs::remove_file(&path);
    let t = Instant::now();
    let parsed = payments::zengin::parse(&bytes)?;
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(parsed.transfers().count(), n);
    println!(
        "{build}: read and checked {n} records ({:.0} MB) in {secs:.2} s ({:.0} records/s)",
        bytes.len() as f64 / 1e6,
        n as f64 / secs
    );
    drop(parsed);
    drop(bytes);

    // 2. The import into a database.
    sqlx::any::install_default_drivers();
    let (url, cleanup) = if target == "sqlite" {
        let path = std::env::temp_dir().join(format!(
            "madoguchi-reconcile-bench-{}.db",
            std::process::id()
        ));
        (format!("sqlite://{}", path.display()), None)
    } else {
        let name = format!("mdg_reconcile_bench_{}", std::process::id());
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
    seed(&db, m).await?;
    eprintln!(
        "seeded {m} charges in {:.1} s (not timed)",
        t0.elapsed().as_secs_f64()
    );
    let bytes = file(m);
    let t = Instant::now();
    let mut tx = db.begin().await?;
    let out = reconcile::import(
        &mut tx,
        db.vault()?,
        T,
        "staff:bench",
        &Upload {
            kind: FileKind::Zengin,
            file_name: "bench.txt",
            bytes: &bytes,
        },
        kernel::clock::now_ms(),
    )
    .await?;
    tx.commit().await?;
    let secs = t.elapsed().as_secs_f64();
    let Imported::Done(report) = out else {
        anyhow::bail!("imported before")
    };
    println!(
        "{} {build}: imported {m} records ({} applied, {} exceptions) in {secs:.2} s ({:.0} records/s)",
        if target == "sqlite" { "SQLite" } else { "PostgreSQL" },
        report.applied.len(),
        report.exceptions.len(),
        m as f64 / secs
    );
    assert_eq!(report.applied.len(), m, "every record applied");
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
    Ok(())
}
