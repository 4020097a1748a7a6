//! Fresh migrated databases for the kernel's own tests: a SQLite file,
//! and a PostgreSQL database when `MADOGUCHI_TEST_POSTGRES_URL` is set
//! (the server-level harness is `testkit`, which depends on the kernel).

use crate::db::Db;

/// A migrated database; dropped (file deleted, database dropped) by [`TestDb::drop_now`].
pub struct TestDb {
    pub db: Db,
    gone: Gone,
}

enum Gone {
    File(std::path::PathBuf),
    Database { admin: String, name: String },
}

fn suffix() -> String {
    crate::ids::token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_lowercase()
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("madoguchi-kernel-{}.db", suffix()));
        let db = Db::connect(&format!("sqlite://{}", path.display()), 2)
            .await
            .expect("sqlite");
        crate::migrate::run(&db).await.expect("migrate");
        TestDb {
            db,
            gone: Gone::File(path),
        }
    }

    pub async fn postgres() -> Option<TestDb> {
        let admin = std::env::var("MADOGUCHI_TEST_POSTGRES_URL").ok()?;
        sqlx::any::install_default_drivers();
        let name = format!("mdg_kernel_{}", suffix());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("connect to the PostgreSQL test server");
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        let cut = admin.rfind('/').expect("a database in the URL");
        let db = Db::connect(&format!("{}/{name}", &admin[..cut]), 4)
            .await
            .expect("postgres");
        crate::migrate::run(&db).await.expect("migrate");
        Some(TestDb {
            db,
            gone: Gone::Database { admin, name },
        })
    }

    pub async fn drop_now(self) {
        self.db.close().await;
        match self.gone {
            Gone::File(p) => {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
                }
            }
            Gone::Database { admin, name } => {
                if let Ok(mut conn) =
                    <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await
                {
                    let _ = sqlx::Executor::execute(
                        &mut conn,
                        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                    )
                    .await;
                }
            }
        }
    }
}
