//! The database: SQLite (WAL, synchronous=FULL) by default, PostgreSQL in
//! production, both through sqlx's `Any` driver so each query is written
//! once. Queries use `$1` placeholders, which both engines accept, and only
//! portable types (TEXT, BIGINT, BLOB/BYTEA) cross the boundary.
//!
//! SQLite allows one writer at a time, so writes go through a pool with a
//! single connection (no `SQLITE_BUSY` between our own writers) while reads
//! use a pool of their own. On PostgreSQL both are the same pool.
//!
//! On PostgreSQL the URL may name several hosts with
//! `target_session_attrs=read-write` (a primary and its standbys): the pool
//! connects to the one that accepts writes and follows it after a failover
//! ([`primary`]). Reads go to the primary too: a standby may not yet have
//! applied what this server has just committed (synchronous commit waits
//! for the standby to have the WAL on disk, not to have replayed it).

pub mod hosts;
mod primary;

use std::time::Duration;

/// How long a request waits for a connection when the URL names several
/// hosts (see [`Db::connect`]).
const MULTI_HOST_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err("sqlite:// または postgres:// で始まる URL を指定してください".into())
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    /// The URL it was opened with: the event listener opens a connection
    /// of its own (`kernel::events`).
    url: std::sync::Arc<str>,
    /// Keys for special personal information written through this handle
    /// ([`Db::seal_json`], [`Db::open_json`]).
    vault: Option<crate::crypto::Vault>,
    /// Secret for keyed hashes of requests that may hold personal data.
    pepper: Option<std::sync::Arc<Vec<u8>>>,
    /// The writable server among several (multi-host URL), if so given.
    primary: Option<std::sync::Arc<primary::Primary>>,
}

pub type Tx = Transaction<'static, Any>;

fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
    read_only: bool,
) -> futures_core::future::BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        conn.execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
        )
        .await?;
        if read_only {
            conn.execute("PRAGMA query_only = ON;").await?;
        }
        Ok(())
    })
}

impl Db {
    pub async fn connect(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url).map_err(anyhow::Error::msg)?;
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url);
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|c, _| sqlite_pragmas(c, false))
                    .connect(&url)
                    .await?;
                let read = AnyPoolOptions::new()
                    .max_connections(pool_size.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|c, _| sqlite_pragmas(c, true))
                    .connect(&url)
                    .await?;
                Ok(Self {
                    read,
                    write,
                    backend,
                    url: url.as_str().into(),
                    vault: None,
                    pepper: None,
                    primary: None,
                })
            }
            Backend::Postgres => Self::connect_postgres(url, pool_size).await,
        }
    }

    async fn connect_postgres(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        let options = AnyPoolOptions::new().max_connections(pool_size);
        let (pool, primary) = match hosts::parse(url).map_err(anyhow::Error::msg)? {
            hosts::Target::Single(url) => (
                options
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(&url)
                    .await?,
                None,
            ),
            hosts::Target::ReadWrite(list) => {
                // While the primary is away a new connection is retried
                // with a backoff of up to a fifth of this: short, so that a
                // request goes to the new primary within a second of the
                // move, and a request that cannot wait is a 503 the client
                // retries, not a 30-second hang.
                let options = options.acquire_timeout(MULTI_HOST_ACQUIRE_TIMEOUT);
                let p = std::sync::Arc::new(primary::Primary::new(list)?);
                let first = p.find(Duration::from_secs(30)).await?;
                let (on_connect, on_acquire, on_release) = (p.clone(), p.clone(), p.clone());
                let pool = options
                    .after_connect(move |c, _| {
                        let p = on_connect.clone();
                        Box::pin(async move {
                            let r = primary::check_writable(c).await;
                            if r.is_err() {
                                p.suspect();
                            }
                            r
                        })
                    })
                    .before_acquire(move |_, meta| {
                        let stale = on_acquire.is_stale(meta.age);
                        Box::pin(async move { Ok(!stale) })
                    })
                    .after_release(move |_, meta| {
                        let stale = on_release.is_stale(meta.age);
                        Box::pin(async move { Ok(!stale) })
                    })
                    .connect_with(first)
                    .await?;
                tracing::info!(primary = %p.current_label(), "database: connected to the writable server");
                tokio::spawn(p.clone().watch(pool.clone()));
                (pool, Some(p))
            }
        };
        Ok(Self {
            read: pool.clone(),
            write: pool,
            backend: Backend::Postgres,
            url: url.into(),
            vault: None,
            pepper: None,
            primary,
        })
    }

    /// `host:port` of the primary when the URL named several hosts.
    pub fn primary_host(&self) -> Option<&str> {
        self.primary.as_deref().map(|p| p.current_label())
    }

    /// How many times the pool followed the primary to another server.
    pub fn primary_moves(&self) -> u64 {
        self.primary.as_ref().map_or(0, |p| p.moves())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL (with its password, if any: never log it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of the one server a connection of its own (the event
    /// listener) should open now: with a multi-host URL, the current
    /// primary's (after a failover, the new one's).
    pub fn current_url(&self) -> String {
        match &self.primary {
            Some(p) => p.current_url().to_string(),
            None => self.url.to_string(),
        }
    }

    /// True once [`Db::close`] was called: background work stops.
    pub fn is_closed(&self) -> bool {
        self.write.is_closed()
    }

    /// This handle seals マイナンバー with `vault`.
    pub fn with_vault(mut self, vault: crate::crypto::Vault) -> Self {
        self.vault = Some(vault);
        self
    }

    pub fn with_pepper(mut self, pepper: Vec<u8>) -> Self {
        self.pepper = Some(std::sync::Arc::new(pepper));
        self
    }

    /// HMAC-SHA256 with the deployment's pepper (hex): a stored hash of a
    /// request with a マイナンバー in it cannot be brute-forced offline.
    pub fn keyed_hash(&self, data: &[u8]) -> String {
        match &self.pepper {
            Some(p) => hex::encode(crate::crypto::hmac_sha256(p, data)),
            None => {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(data))
            }
        }
    }

    /// Re-seals, with the active key, every JSON document of `column` in
    /// `table` that holds a value sealed by an older key; returns how many
    /// rows changed. For `madoguchi rekey`: each owner names its own
    /// tables and columns (constants of its code). Each row is updated on
    /// its own, only if unchanged meanwhile, so an interrupted run can be
    /// started again.
    pub async fn reseal_json_column(&self, table: &str, column: &str) -> anyhow::Result<u64> {
        let vault = self.vault()?;
        let mut changed = 0;
        let rows = sqlx::query(&format!(
            "SELECT tenant, id, {column} FROM {table} WHERE {column} IS NOT NULL"
        ))
        .fetch_all(self.read())
        .await?;
        for r in rows {
            let (tenant, id, data): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            let mut v: serde_json::Value = serde_json::from_str(&data)?;
            if crate::crypto::reseal(vault, &tenant, &mut v)? {
                sqlx::query(&format!(
                    "UPDATE {table} SET {column} = $1 WHERE tenant = $2 AND id = $3 AND {column} = $4"
                ))
                .bind(v.to_string())
                .bind(&tenant)
                .bind(&id)
                .bind(&data)
                .execute(self.write())
                .await?;
                changed += 1;
            }
        }
        Ok(changed)
    }

    pub fn vault(&self) -> anyhow::Result<&crate::crypto::Vault> {
        self.vault
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("暗号鍵が設定されていません（encryption_keys）"))
    }

    /// Serialises answers for storage with every マイナンバー sealed.
    pub fn seal_json<T: serde::Serialize>(
        &self,
        tenant: &str,
        value: &T,
    ) -> anyhow::Result<String> {
        let mut v = serde_json::to_value(value)?;
        crate::crypto::seal_my_numbers(self.vault()?, tenant, &mut v);
        Ok(v.to_string())
    }

    /// Reads stored answers, opening sealed values.
    pub fn open_json<T: serde::de::DeserializeOwned>(
        &self,
        tenant: &str,
        text: &str,
    ) -> anyhow::Result<T> {
        let mut v: serde_json::Value = serde_json::from_str(text)?;
        if text.contains("mdg1:") {
            crate::crypto::open_sealed(self.vault()?, tenant, &mut v)?;
        }
        Ok(serde_json::from_value(v)?)
    }

    /// Pool for queries that only read.
    pub fn read(&self) -> &AnyPool {
        &self.read
    }

    /// Pool for single write statements outside a transaction.
    pub fn write(&self) -> &AnyPool {
        &self.write
    }

    /// A write transaction. Keep it short: on SQLite it holds the only
    /// writer connection.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.write.begin().await
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map(|_| ())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// True if the error is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

pub fn rows_affected(r: &AnyQueryResult) -> u64 {
    r.rows_affected()
}

/// The placeholder style of a connection. Statements with many parameters
/// (multi-row inserts) use SQLite's anonymous `?` there: with numbered
/// `$N` parameters SQLite looks each name up in a list, which is quadratic
/// in the number of parameters.
pub fn backend_of(conn: &sqlx::AnyConnection) -> Backend {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// Placeholder number `i` (1-based) in the backend's style.
pub fn ph(backend: Backend, i: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${i}"),
    }
}

/// `($1, $2, $3), ($4, $5, $6)` (or `(?, ?, ?), …` on SQLite) for a
/// multi-row INSERT of `rows` rows of `cols` columns.
pub fn values_placeholders(backend: Backend, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(&ph(backend, r * cols + c + 1));
        }
        s.push(')');
    }
    s
}

/// `$start, …, $start+n-1` (or `?, …`) for an `IN (…)` list.
pub fn list_placeholders(backend: Backend, start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| ph(backend, i))
        .collect::<Vec<_>>()
        .join(", ")
}
