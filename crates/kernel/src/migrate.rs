//! Embedded migrations, one SQL file per backend and version. A migration
//! that has landed is never edited: its checksum is recorded and checked at
//! every start.

use sha2::{Digest, Sha256};

use crate::db::{Backend, Db};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($version:expr, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_foundation"),
    migration!(2, "0002_identity"),
    migration!(3, "0003_counter"),
    migration!(4, "0004_front_yard"),
    migration!(5, "0005_congestion"),
    migration!(6, "0006_faq"),
    migration!(7, "0007_navi_versions"),
    migration!(8, "0008_search"),
    migration!(9, "0009_life_events_edited"),
    migration!(10, "0010_resident_applications"),
    migration!(11, "0011_case_identity_checks"),
    migration!(13, "0013_search_low_confidence"),
    migration!(14, "0014_translation_marks"),
    migration!(15, "0015_form_builder"),
    migration!(16, "0016_events"),
    migration!(17, "0017_jobs"),
    migration!(18, "0018_shared_limits"),
    migration!(19, "0019_citus_ready"),
    migration!(20, "0020_mail_outbox"),
    migration!(21, "0021_mail_subscriptions"),
    migration!(24, "0024_mail_newsletters"),
    migration!(25, "0025_mail_channels"),
    migration!(26, "0026_mail_message_writers"),
    migration!(27, "0027_mail_sender_settings"),
    migration!(28, "0028_payments_charges"),
    migration!(29, "0029_payments_slips"),
    migration!(30, "0030_payments_reconcile"),
    migration!(31, "0031_mail_pending_choices"),
    migration!(32, "0032_payments_online"),
];

impl Migration {
    fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }

    fn checksum(&self, backend: Backend) -> String {
        hex::encode(Sha256::digest(self.sql(backend).as_bytes()))
    }
}

/// Whether the record of applied migrations exists (SQLite: always
/// answered by `CREATE TABLE IF NOT EXISTS`, which needs no privilege).
async fn record_exists(conn: &mut sqlx::AnyConnection, backend: Backend) -> anyhow::Result<bool> {
    use sqlx::Row;
    Ok(match backend {
        Backend::Sqlite => false,
        Backend::Postgres => {
            sqlx::query(
                "SELECT COUNT(*) FROM pg_class
                 WHERE relname = 'madoguchi_migrations' AND relnamespace = current_schema()::regnamespace",
            )
            .fetch_one(&mut *conn)
            .await?
            .get::<i64, _>(0)
                > 0
        }
    })
}

#[derive(Debug, Default)]
pub struct MigrateReport {
    pub applied: Vec<String>,
    pub already: usize,
}

/// Applies every pending migration, each in its own transaction. Refuses to
/// run if an applied migration's SQL has changed since.
pub async fn run(db: &Db) -> anyhow::Result<MigrateReport> {
    let backend = db.backend();
    let mut conn = db.write().acquire().await?;
    if backend == Backend::Postgres {
        // One migrator at a time across every server sharing the database.
        sqlx::query("SELECT pg_advisory_lock(7200289)")
            .execute(&mut *conn)
            .await?;
    }
    let result = run_locked(&mut conn, backend).await;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock(7200289)")
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn run_locked(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> anyhow::Result<MigrateReport> {
    use anyhow::Context;
    use sqlx::{Connection, Row};
    // On PostgreSQL the application may serve as a role that cannot
    // create tables (madoguchi_app, migration 0019): with every migration
    // applied it only reads the record.
    if !record_exists(conn, backend).await? {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS madoguchi_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )",
        )
        .execute(&mut *conn)
        .await
        .context("madoguchi_migrations を作成できません（テーブルを所有するロールで madoguchi migrate を実行してください）")?;
    }
    let applied: Vec<(i64, String)> =
        sqlx::query("SELECT version, checksum FROM madoguchi_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)))
            .collect();
    let mut report = MigrateReport::default();
    for m in MIGRATIONS {
        if let Some((_, sum)) = applied.iter().find(|(v, _)| *v == m.version) {
            if *sum != m.checksum(backend) {
                anyhow::bail!(
                    "マイグレーション {} は適用後に変更されています（checksum 不一致）。適用済みのマイグレーションは編集せず、新しい番号で追加してください",
                    m.name
                );
            }
            report.already += 1;
            continue;
        }
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(m.sql(backend))
            .execute(&mut *tx)
            .await
            .with_context(|| {
                format!(
                    "マイグレーション {} を適用できません（アプリケーション用のロールで接続しているときは、テーブルを所有するロールで madoguchi migrate を実行してください）",
                    m.name
                )
            })?;
        sqlx::query("INSERT INTO madoguchi_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
            .bind(m.version)
            .bind(m.name)
            .bind(m.checksum(backend))
            .bind(crate::clock::now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        report.applied.push(m.name.to_string());
    }
    Ok(report)
}
