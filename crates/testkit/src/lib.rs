//! Test kit: start a real madoguchi server on port 0 with a fresh database
//! (a new SQLite file, or a new PostgreSQL database) and talk to it over
//! HTTP like a browser or an API client would. [`cluster`] starts several
//! real server processes over one PostgreSQL database.

pub mod cluster;
pub mod line_standin;
pub mod smtp;
pub mod zxing;

use std::path::PathBuf;

use kernel::config::Config;
use server::App;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub app: App,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    /// A second server's: the owner of the database removes it.
    Peer,
    File(PathBuf),
    Database {
        admin_url: String,
        name: String,
    },
}

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random");
    hex::encode(b)
}

/// The PostgreSQL server URL for tests (a maintenance database such as
/// `postgres://postgres@127.0.0.1:5433/postgres`), from
/// `MADOGUCHI_TEST_POSTGRES_URL`, or a Citus coordinator's from
/// `MADOGUCHI_TEST_CITUS_URL` (which wins: the PostgreSQL variant of every
/// test then runs on Citus, see [`citus`]). Outside CI the PostgreSQL
/// variant of a test is skipped, loudly, when neither is set; in CI it is
/// required.
pub fn postgres_admin_url() -> Option<String> {
    if let Some(u) = citus_admin_url() {
        return Some(u);
    }
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

/// A Citus coordinator's maintenance database from
/// `MADOGUCHI_TEST_CITUS_URL`, when set.
pub fn citus_admin_url() -> Option<String> {
    std::env::var("MADOGUCHI_TEST_CITUS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The login role PostgreSQL tests serve as: a member of `madoguchi_app`
/// (migration 0019), as a deployment's servers are, so that every test
/// also proves the application needs no more than that role's grants.
pub const APP_LOGIN: &str = "madoguchi_test_app";

/// The `user:password@host:port` part of a URL, split.
fn authority(url: &str) -> (&str, &str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    (scheme, host, &rest[end..])
}

/// `url` signed in as `user` with `password`.
pub fn with_login(url: &str, user: &str, password: &str) -> String {
    let (scheme, host, rest) = authority(url);
    format!("{scheme}://{user}:{password}@{host}{rest}")
}

/// Makes a fresh test database ready as a deployment's is: migrated by the
/// owner (the maintenance URL's role), distributed on Citus when `citus`,
/// and the application's login role present. Returns the URL the servers
/// use (signed in as [`APP_LOGIN`]).
pub async fn prepare_postgres(owner_url: &str, citus: bool) -> anyhow::Result<String> {
    let db = kernel::Db::connect(owner_url, 2).await?;
    if citus {
        citus::prepare(&db, owner_url).await?;
    }
    kernel::migrate::run(&db).await?;
    if citus {
        kernel::schema::distribute(&db).await?;
    }
    // Roles belong to the cluster: made once, by whichever test is first.
    sqlx::raw_sql(&format!(
        "DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_LOGIN}') THEN
                CREATE ROLE {APP_LOGIN} LOGIN PASSWORD '{APP_LOGIN}' IN ROLE madoguchi_app;
            END IF;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
         END $$"
    ))
    .execute(db.write())
    .await?;
    db.close().await;
    Ok(with_login(owner_url, APP_LOGIN, APP_LOGIN))
}

/// A Citus coordinator for the tests (`MADOGUCHI_TEST_CITUS_URL`). Each
/// test database is a single-node Citus cluster: the coordinator holds the
/// shards itself, so distribution, co-location and Citus's refusals are
/// the same as on a cluster with workers, without a worker per test
/// database. Citus is not in Debian's packages; docs/SCALING.md "Citus"
/// says how to install it.
pub mod citus {
    /// Creates the Citus extension in the new database and makes its
    /// coordinator (host and port of `url`, as the coordinator itself
    /// reaches them) a node that holds shards.
    pub async fn prepare(db: &kernel::Db, url: &str) -> anyhow::Result<()> {
        let (_, host, _) = super::authority(url);
        let (name, port) = match host.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<i64>()?),
            None => (host, 5432),
        };
        sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS citus")
            .execute(db.write())
            .await?;
        sqlx::query("SELECT citus_set_coordinator_host($1, $2::int)")
            .bind(name)
            .bind(port)
            .execute(db.write())
            .await?;
        sqlx::query("SELECT citus_set_node_property($1, $2::int, 'shouldhaveshards', true)")
            .bind(name)
            .bind(port)
            .execute(db.write())
            .await?;
        Ok(())
    }
}

/// `url` with its database replaced by `name`.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let cut = base
        .rfind('/')
        .filter(|i| *i > "postgres://".len())
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..cut], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A fresh, migrated PostgreSQL (or Citus) database of its own, for tests
/// that talk to the database rather than to a server.
pub struct TestDatabase {
    /// Signed in as the role that owns the tables (the maintenance URL's).
    pub owner_url: String,
    /// Signed in as the application's role ([`APP_LOGIN`]).
    pub app_url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// `None` (the test is skipped, loudly) when no PostgreSQL is set.
    pub async fn create() -> Option<Self> {
        let admin_url = postgres_admin_url()?;
        let name = format!("mdg_test_{}", random_suffix());
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect("connect to the PostgreSQL test server");
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        let owner_url = replace_database(&admin_url, &name);
        let app_url = prepare_postgres(&owner_url, citus_admin_url().is_some())
            .await
            .expect("migrate the test database");
        Some(Self {
            owner_url,
            app_url,
            admin_url,
            name,
        })
    }

    pub async fn drop(self) {
        drop_database(&self.admin_url, &self.name).await;
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url).await {
        let _ = sqlx::Executor::execute(
            &mut conn,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
        )
        .await;
    }
}

impl TestApp {
    /// A server with the two demo municipalities, their catalogues and demo
    /// staff, and no applications.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let (database_url, cleanup) = match backend {
            Backend::Sqlite => {
                let path =
                    std::env::temp_dir().join(format!("madoguchi-test-{}.db", random_suffix()));
                (format!("sqlite://{}", path.display()), Cleanup::File(path))
            }
            Backend::Postgres => {
                let d = TestDatabase::create().await?;
                (
                    d.app_url.clone(),
                    Cleanup::Database {
                        admin_url: d.admin_url,
                        name: d.name,
                    },
                )
            }
        };
        let mut config = Config {
            database_url,
            bind: "127.0.0.1:0".into(),
            pool_size: 4,
            mode: kernel::config::Mode::Development,
            encryption_keys: vec![kernel::crypto::Vault::generate_spec("test1")],
            dev_identity_provider: true,
            demo_registry: true,
            // Tests sign in and submit far more often than a person;
            // the limits have their own test.
            rate_limits: kernel::config::RateLimits {
                sign_in_per_client: 10_000,
                sign_in_per_tenant: 10_000,
                submit_per_client: 100_000,
                submit_per_tenant: 100_000,
                lookup_per_client: 100_000,
                lookup_per_tenant: 100_000,
            },
            // Some tests sign in many times at once; the gate's refusal
            // has its own test.
            password_check_queue: 10_000,
            ..Config::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        config.public_url = format!("http://{addr}");
        tweak(&mut config);
        let app = App::start(config).await.expect("start app");
        server::demo::load(&app, 0)
            .await
            .expect("load demo tenants");
        let serving = app.clone();
        tokio::spawn(async move {
            let _ = server::serve(serving, listener).await;
        });
        Some(Self {
            base: format!("http://{addr}"),
            app,
            backend,
            cleanup,
        })
    }

    /// A second server of the same deployment, over the same database and
    /// keys, on a port of its own, with its own caches, limiters, event
    /// listeners and job workers. It runs in this test's process but
    /// shares nothing with the first server except the database. Drop
    /// peers before [`TestApp::cleanup`].
    pub async fn peer(&self) -> TestApp {
        let mut config = (*self.app.config).clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        config.bind = addr.to_string();
        config.public_url = format!("http://{addr}");
        let app = App::start(config).await.expect("start peer");
        let serving = app.clone();
        tokio::spawn(async move {
            let _ = server::serve(serving, listener).await;
        });
        TestApp {
            base: format!("http://{addr}"),
            app,
            backend: self.backend,
            cleanup: Cleanup::Peer,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client like a browser: keeps cookies, does not follow redirects
    /// (tests look at them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// The demo accounts' current TOTP code. The account's last used step
    /// is reset first: tests sign the same account in many times within one
    /// 30-second step, which the replay guard would otherwise refuse.
    pub async fn totp_code(&self, tenant: &str, id: &str) -> String {
        sqlx::query("UPDATE staff SET totp_last_step = 0 WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(self.app.db.write())
            .await
            .expect("reset TOTP step");
        let secret = kernel::totp::base32_decode(identity::DEMO_TOTP_SECRET).expect("secret");
        kernel::totp::code(
            &secret,
            kernel::totp::step_at(kernel::clock::now_ms() / 1000),
        )
    }

    /// A client signed in as a demo staff account of `tenant` (password and
    /// second factor).
    pub async fn staff(&self, tenant: &str, id: &str) -> reqwest::Client {
        let c = self.client();
        let code = self.totp_code(tenant, id).await;
        let r = c
            .post(self.url(&format!("/api/v1/t/{tenant}/staff/session")))
            .json(&serde_json::json!({"id": id, "password": server::demo::DEMO_PASSWORD, "code": code}))
            .send()
            .await
            .expect("sign in");
        assert_eq!(r.status(), 200, "sign in as {id}");
        c
    }

    /// The CSRF token a page gives this client (its forms' `_csrf` field).
    pub async fn csrf(&self, client: &reqwest::Client, path: &str) -> String {
        let html = client
            .get(self.url(path))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("body");
        csrf_in(&html).unwrap_or_else(|| panic!("no CSRF token on {path}"))
    }

    /// A resident client signed in through the development identity
    /// provider at `level` (`my_number_card` or `signed_in`).
    pub async fn resident(&self, tenant: &str, level: &str) -> reqwest::Client {
        self.resident_as(tenant, level, "四街道 花子", "1990-04-01")
            .await
    }

    /// A resident of another name and birth date: another person (the
    /// development provider's subject is made of the two).
    pub async fn resident_as(
        &self,
        tenant: &str,
        level: &str,
        name: &str,
        birthdate: &str,
    ) -> reqwest::Client {
        let c = self.client();
        let token = self.csrf(&c, &format!("/t/{tenant}/sign-in")).await;
        let r = c
            .post(self.url(&format!("/t/{tenant}/sign-in/dev")))
            .form(&[
                ("_csrf", token.as_str()),
                ("name", name),
                ("address", "千葉県四街道市鹿渡無番地"),
                ("birthdate", birthdate),
                ("gender", "female"),
                ("level", level),
                ("return_to", &format!("/t/{tenant}")),
            ])
            .send()
            .await
            .expect("dev sign-in");
        assert_eq!(r.status(), 303, "dev sign-in");
        c
    }

    /// Runs a query on the test database directly (for checks that no
    /// HTTP response should reveal, e.g. row counts).
    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_one(self.app.db.read())
            .await
            .expect("count query")
            .get::<i64, _>(0)
    }

    /// Runs statements as the role that owns the tables (a fault to
    /// inject, such as a trigger; the application's own role may not).
    /// Statements are separated by a line holding only `;;`.
    pub async fn execute_as_owner(&self, sql: &str) {
        let statements = sql.split("\n;;\n").map(str::trim).filter(|s| !s.is_empty());
        match &self.cleanup {
            Cleanup::Database { admin_url, name } => {
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(
                    &replace_database(admin_url, name),
                )
                .await
                .expect("connect as the owner");
                for s in statements {
                    sqlx::Executor::execute(&mut conn, s).await.expect(s);
                }
            }
            Cleanup::File(_) => {
                for s in statements {
                    sqlx::query(s).execute(self.app.db.write()).await.expect(s);
                }
            }
            Cleanup::Peer => panic!("execute_as_owner: ask the first server, not a peer"),
        }
    }

    pub async fn cleanup(self) {
        self.app.db.close().await;
        match self.cleanup {
            Cleanup::Peer => {}
            Cleanup::File(p) => {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
                }
            }
            Cleanup::Database { admin_url, name } => drop_database(&admin_url, &name).await,
        }
    }
}

/// The `name=value` pair of the cookie `name` that a response sets, to
/// send back by hand (a client that is another server's, or none).
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// The `_csrf` value of the first form in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")?;
    let rest = &html[at + "name=\"_csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Defines one `#[tokio::test]` per backend for a scenario
/// `async fn(TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::TestApp::spawn($crate::Backend::Sqlite).await.expect("sqlite");
                    super::$name(&app).await;
                    app.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await else { return };
                    super::$name(&app).await;
                    app.cleanup().await;
                }
            )*
        }
    };
}

/// The text of a PDF as `pdftotext` (Debian poppler-utils) extracts it:
/// proves Japanese text is embedded with a working Unicode map. `None`
/// when the tool is missing, except on CI, which installs it.
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    use std::io::Write;
    let child = std::process::Command::new("pdftotext")
        .args(["-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "pdftotext (poppler-utils) is installed on CI: {e}"
            );
            eprintln!("skipped PDF text check: pdftotext not installed");
            return None;
        }
    };
    child.stdin.take()?.write_all(pdf).ok()?;
    let out = child.wait_with_output().ok()?;
    assert!(out.status.success(), "pdftotext failed on the PDF");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
