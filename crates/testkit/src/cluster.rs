//! Several real `madoguchi serve` processes over one fresh PostgreSQL
//! database: the shape of a deployment behind a load balancer. The demo is
//! loaded once (`madoguchi demo --no-serve`), then each server is started
//! from the built binary with the settings it reads from the environment,
//! on a port of its own, and is up when its `/healthz` answers 200. A
//! server can be killed (SIGKILL: no shutdown, connections cut where they
//! are) and restarted on the same port.
//!
//! PostgreSQL only: on SQLite one process is the only supported shape
//! (the database file has one writer), so there is nothing to start.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{postgres_admin_url, random_suffix, replace_database};

/// How long a server may take from its start to answering `/healthz`
/// (a debug build on a busy machine).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// The madoguchi binary for tests outside the server crate (which has
/// `env!("CARGO_BIN_EXE_madoguchi")`): `MADOGUCHI_BIN` if set (as
/// `scripts/api-fuzz.sh` reads it), else `madoguchi` in the profile
/// directory of the running test executable (`target/debug/deps/x` →
/// `target/debug/madoguchi`), which `cargo build -p server` makes.
pub fn binary() -> PathBuf {
    if let Some(b) = std::env::var_os("MADOGUCHI_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(b);
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    exe.parent()
        .and_then(Path::parent)
        .map(|profile| profile.join("madoguchi"))
        .expect("the target profile directory")
}

/// One `madoguchi serve` process of a [`Cluster`].
pub struct Server {
    /// `http://127.0.0.1:<port>`; the same across restarts.
    pub base: String,
    port: u16,
    child: Option<Child>,
    log: PathBuf,
}

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    admin_url: String,
    name: String,
    /// The database every server uses.
    pub database_url: String,
    /// The settings every server gets (`MADOGUCHI_*`), in order.
    env: Vec<(String, String)>,
    servers: Vec<Server>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Cluster {
    /// A fresh database with the two demo municipalities (no applications)
    /// and `n` servers on it, each answering `/healthz`. `None` outside CI
    /// when `MADOGUCHI_TEST_POSTGRES_URL` is not set (skipped loudly; CI
    /// requires it).
    pub async fn start(bin: &Path, n: usize) -> Option<Cluster> {
        Self::start_with(bin, n, &[]).await
    }

    /// As [`Cluster::start`], with settings added to (or replacing) the
    /// test defaults, e.g. `("MADOGUCHI_POOL_SIZE", "8")`.
    pub async fn start_with(bin: &Path, n: usize, extra: &[(&str, &str)]) -> Option<Cluster> {
        let admin_url = postgres_admin_url()?;
        assert!(
            bin.is_file(),
            "no madoguchi binary at {} (cargo build -p server, or set MADOGUCHI_BIN)",
            bin.display()
        );
        let suffix = random_suffix();
        let name = format!("mdg_cluster_{suffix}");
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect("connect to the PostgreSQL test server");
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the cluster's database");
        let dir = std::env::temp_dir().join(format!("madoguchi-cluster-{suffix}"));
        std::fs::create_dir_all(&dir).expect("the cluster's log directory");
        let database_url = replace_database(&admin_url, &name);
        // Development mode (plain http on loopback, the development
        // identity provider) with one encryption key for the whole
        // deployment, as every server of a real one has. The limits count
        // per server today; tests submit far faster than a person.
        let mut env: Vec<(String, String)> = [
            ("MADOGUCHI_DATABASE_URL", database_url.as_str()),
            ("MADOGUCHI_MODE", "development"),
            ("MADOGUCHI_DEV_IDENTITY_PROVIDER", "true"),
            ("MADOGUCHI_DEMO_REGISTRY", "true"),
            (
                "MADOGUCHI_ENCRYPTION_KEYS",
                &kernel::crypto::Vault::generate_spec("cluster"),
            ),
            ("MADOGUCHI_POOL_SIZE", "4"),
            ("MADOGUCHI_LOG", "warn"),
            ("MADOGUCHI_RATE_LIMIT_SIGN_IN_PER_CLIENT", "0"),
            ("MADOGUCHI_RATE_LIMIT_SIGN_IN_PER_TENANT", "0"),
            ("MADOGUCHI_RATE_LIMIT_SUBMIT_PER_CLIENT", "0"),
            ("MADOGUCHI_RATE_LIMIT_SUBMIT_PER_TENANT", "0"),
            ("MADOGUCHI_RATE_LIMIT_LOOKUP_PER_CLIENT", "0"),
            ("MADOGUCHI_RATE_LIMIT_LOOKUP_PER_TENANT", "0"),
            ("MADOGUCHI_PASSWORD_CHECK_QUEUE", "1000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            env.retain(|(key, _)| key != k);
            env.push((k.to_string(), v.to_string()));
        }
        let mut cluster = Cluster {
            bin: bin.to_path_buf(),
            dir,
            admin_url,
            name,
            database_url,
            env,
            servers: Vec::new(),
        };
        let demo = cluster.command(&["demo", "--applications", "0", "--no-serve"]);
        assert!(
            demo.status.success(),
            "madoguchi demo failed: {}",
            String::from_utf8_lossy(&demo.stderr)
        );
        for i in 0..n {
            let port = free_port();
            cluster.servers.push(Server {
                base: format!("http://127.0.0.1:{port}"),
                port,
                child: None,
                log: cluster.dir.join(format!("server-{i}.log")),
            });
            cluster.spawn(i);
        }
        for i in 0..n {
            cluster.wait_healthy(i).await;
        }
        Some(cluster)
    }

    /// The binary with this cluster's settings and no other `MADOGUCHI_*`
    /// variable of the test's environment.
    fn binary_command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("MADOGUCHI_") {
                c.env_remove(k);
            }
        }
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c.stdin(Stdio::null());
        c
    }

    /// Runs a command of the binary against this cluster's database, e.g.
    /// `["audit", "verify", "--tenant", "122289"]`, and waits for it.
    pub fn command(&self, args: &[&str]) -> Output {
        self.binary_command()
            .args(args)
            .output()
            .expect("run the madoguchi binary")
    }

    fn spawn(&mut self, i: usize) {
        let s = &self.servers[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&s.log)
            .expect("the server's log file");
        let child = self
            .binary_command()
            .args(["serve", "--bind", &format!("127.0.0.1:{}", s.port)])
            .env("MADOGUCHI_PUBLIC_URL", &s.base)
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start madoguchi serve");
        self.servers[i].child = Some(child);
    }

    /// Waits until server `i` answers `/healthz` with 200; panics with its
    /// log if it exits or takes longer than the start timeout.
    pub async fn wait_healthy(&mut self, i: usize) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        let url = self.url(i, "/healthz");
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(&url).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            let exited = self.servers[i]
                .child
                .as_mut()
                .map(|c| c.try_wait().expect("server status").is_some())
                .unwrap_or(true);
            if exited || started.elapsed() > START_TIMEOUT {
                panic!(
                    "server {i} did not become healthy (exited: {exited}); its log:\n{}",
                    self.log(i)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn len(&self) -> usize {
        self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    pub fn base(&self, i: usize) -> &str {
        &self.servers[i].base
    }

    pub fn url(&self, i: usize, path: &str) -> String {
        format!("{}{}", self.servers[i].base, path)
    }

    /// The process id of server `i` while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.servers[i].child.as_ref().map(Child::id)
    }

    /// Kills server `i` with SIGKILL (no shutdown: requests in flight are
    /// cut, its database connections close when the kernel closes its
    /// sockets) and waits until the process is gone.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.servers[i].child.take() {
            c.kill().expect("SIGKILL the server");
            c.wait().expect("reap the server");
        }
    }

    /// Starts server `i` again on its port and waits until it is healthy.
    pub async fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_healthy(i).await;
    }

    /// Everything server `i` wrote (all its starts).
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.servers[i].log).unwrap_or_default()
    }

    /// A connection of its own to the cluster's database (for checks that
    /// no response should reveal).
    pub async fn db(&self) -> sqlx::AnyConnection {
        <sqlx::AnyConnection as sqlx::Connection>::connect(&self.database_url)
            .await
            .expect("connect to the cluster's database")
    }

    /// Runs a query on the cluster's database that returns one number.
    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_one(&mut self.db().await)
            .await
            .expect("count query")
            .get::<i64, _>(0)
    }

    /// Stops every server and drops the database.
    pub async fn cleanup(mut self) {
        for i in 0..self.servers.len() {
            self.kill(i);
        }
        if let Ok(mut conn) =
            <sqlx::AnyConnection as sqlx::Connection>::connect(&self.admin_url).await
        {
            let _ = sqlx::Executor::execute(
                &mut conn,
                format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str(),
            )
            .await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A test that fails still leaves no server running.
impl Drop for Cluster {
    fn drop(&mut self) {
        for s in &mut self.servers {
            if let Some(mut c) = s.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}
