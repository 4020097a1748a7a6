//! Configuration in layers: defaults → optional TOML file → `MADOGUCHI_*`
//! environment variables → command-line flags. Unknown keys are refused so
//! that a typo never silently falls back to a default.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub bind: String,
    /// `sqlite://./madoguchi.db` (default) or `postgres://user:pass@host/db`.
    pub database_url: String,
    /// Public base URL used in e-mails, e.g. `https://madoguchi.city.example.jp`.
    pub public_url: String,
    /// Largest request body accepted, in bytes (attachments included).
    pub max_body_bytes: usize,
    /// Largest single attachment, in bytes.
    pub max_attachment_bytes: usize,
    /// Staff sessions expire after this many minutes without activity.
    pub staff_idle_minutes: i64,
    /// Database pool size (PostgreSQL; SQLite uses one writer and this many readers).
    pub pool_size: u32,
    /// Log filter, e.g. `info` or `madoguchi=debug`.
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://./madoguchi.db".into(),
            public_url: "http://127.0.0.1:8080".into(),
            max_body_bytes: 12 * 1024 * 1024,
            max_attachment_bytes: 10 * 1024 * 1024,
            staff_idle_minutes: 30,
            pool_size: 8,
            log: "info".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("設定ファイル {path} を読めません: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("設定ファイル {path} の形式が正しくありません: {message}")]
    Parse { path: String, message: String },
    #[error("環境変数 {name} の値が正しくありません: {message}")]
    Env { name: String, message: String },
    #[error("設定 {key} が正しくありません: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Defaults, then the file (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                Self::from_toml(&text).map_err(|message| ConfigError::Parse {
                    path: path.display().to_string(),
                    message,
                })?
            }
            None => Self::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies `MADOGUCHI_<KEY>` variables. Unknown `MADOGUCHI_` variables are
    /// refused like unknown file keys.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, ConfigError> {
            v.parse().map_err(|_| ConfigError::Env {
                name: name.into(),
                message: "数値を指定してください".into(),
            })
        }
        for (key, slot) in [
            ("MADOGUCHI_BIND", &mut self.bind),
            ("MADOGUCHI_DATABASE_URL", &mut self.database_url),
            ("MADOGUCHI_PUBLIC_URL", &mut self.public_url),
            ("MADOGUCHI_LOG", &mut self.log),
        ] {
            if let Some(v) = get(key) {
                *slot = v;
            }
        }
        if let Some(v) = get("MADOGUCHI_MAX_BODY_BYTES") {
            self.max_body_bytes = num("MADOGUCHI_MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = get("MADOGUCHI_MAX_ATTACHMENT_BYTES") {
            self.max_attachment_bytes = num("MADOGUCHI_MAX_ATTACHMENT_BYTES", &v)?;
        }
        if let Some(v) = get("MADOGUCHI_STAFF_IDLE_MINUTES") {
            self.staff_idle_minutes = num("MADOGUCHI_STAFF_IDLE_MINUTES", &v)?;
        }
        if let Some(v) = get("MADOGUCHI_POOL_SIZE") {
            self.pool_size = num("MADOGUCHI_POOL_SIZE", &v)?;
        }
        Ok(())
    }

    /// Names of `MADOGUCHI_*` variables in the environment that no setting
    /// reads (probably typos); `check-config` reports them. `MADOGUCHI_TEST_*`
    /// belong to the test suite.
    pub fn unknown_env_vars() -> Vec<String> {
        const KNOWN: [&str; 9] = [
            "MADOGUCHI_BIND",
            "MADOGUCHI_DATABASE_URL",
            "MADOGUCHI_PUBLIC_URL",
            "MADOGUCHI_LOG",
            "MADOGUCHI_MAX_BODY_BYTES",
            "MADOGUCHI_MAX_ATTACHMENT_BYTES",
            "MADOGUCHI_STAFF_IDLE_MINUTES",
            "MADOGUCHI_POOL_SIZE",
            "MADOGUCHI_CONFIG",
        ];
        std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| {
                k.starts_with("MADOGUCHI_")
                    && !k.starts_with("MADOGUCHI_TEST_")
                    && !KNOWN.contains(&k.as_str())
            })
            .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid {
                key: "bind",
                message: format!(
                    "「{}」は IP アドレスとポート（例 127.0.0.1:8080）ではありません",
                    self.bind
                ),
            });
        }
        crate::db::Backend::of_url(&self.database_url).map_err(|message| ConfigError::Invalid {
            key: "database_url",
            message,
        })?;
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                key: "public_url",
                message: "http:// または https:// で始まる URL を指定してください".into(),
            });
        }
        if self.max_attachment_bytes > self.max_body_bytes {
            return Err(ConfigError::Invalid {
                key: "max_attachment_bytes",
                message: "max_body_bytes 以下にしてください".into(),
            });
        }
        if self.pool_size == 0 || self.staff_idle_minutes <= 0 {
            return Err(ConfigError::Invalid {
                key: "pool_size / staff_idle_minutes",
                message: "1 以上を指定してください".into(),
            });
        }
        Ok(())
    }

    /// The database URL with any password replaced by `***`, for logs.
    pub fn redacted_database_url(&self) -> String {
        redact_url(&self.database_url)
    }
}

pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_and_unknown_keys() {
        let mut c = Config::from_toml("bind = \"0.0.0.0:9000\"\n").unwrap();
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert!(Config::from_toml("bnd = \"x\"")
            .unwrap_err()
            .contains("bnd"));
        c.apply_env(|k| (k == "MADOGUCHI_BIND").then(|| "127.0.0.1:1".to_string()))
            .unwrap();
        assert_eq!(c.bind, "127.0.0.1:1");
        assert!(c
            .apply_env(|k| (k == "MADOGUCHI_POOL_SIZE").then(|| "many".to_string()))
            .is_err());
        c.database_url = "mysql://x".into();
        assert!(c.validate().is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://mdg:secret@db.local/madoguchi"),
            "postgres://mdg:***@db.local/madoguchi"
        );
        assert_eq!(
            redact_url("sqlite://./madoguchi.db"),
            "sqlite://./madoguchi.db"
        );
    }
}
