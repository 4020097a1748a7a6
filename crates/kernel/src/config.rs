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
    /// `production` (default) or `development`. Production refuses the
    /// development identity provider, plain-http public URLs and running
    /// without encryption keys.
    pub mode: Mode,
    /// AES-256 keys for マイナンバー and other secrets at rest, as
    /// `id:base64(32 bytes)`; the first encrypts, all decrypt (rotation).
    /// `madoguchi keygen` prints a new one.
    pub encryption_keys: Vec<String>,
    /// Staff sessions end this many hours after sign-in, active or not.
    pub staff_absolute_hours: i64,
    /// Failed sign-ins in a row before a staff account is locked.
    pub lockout_threshold: i64,
    /// How long a locked staff account stays locked, in minutes.
    pub lockout_minutes: i64,
    /// Password checks (Argon2id, 19 MiB each) running at once.
    pub password_checks: usize,
    /// Sign-ins that may wait for a check; beyond, 503 with `Retry-After`.
    pub password_check_queue: usize,
    /// Requests per minute; 0 turns a limit off.
    pub rate_limits: RateLimits,
    /// Reverse proxies whose `X-Forwarded-For` is believed (exact IPs).
    pub trusted_proxies: Vec<String>,
    /// Resident sign-in with OpenID Connect (デジタル認証アプリ or any provider).
    pub oidc: Option<OidcConfig>,
    /// A clearly labelled fake identity provider for demos and tests.
    /// Refused in production.
    pub dev_identity_provider: bool,
    /// The built-in register of fictitious residents (demo and tests).
    /// Refused in production: connect the 住民記録システム instead.
    pub demo_registry: bool,
    /// TrueType font embedded in printed documents (PDF); Japanese
    /// needs one with kanji, e.g. IPAex Gothic.
    pub pdf_font: String,
    /// Job workers on this server (`kernel::jobs`); 0 runs none (a server
    /// that only serves requests while others work the queue).
    pub job_workers: usize,
    /// The LINE Messaging API (`mail::channels::line`): its base URL, the
    /// real one unless a test points it at a stand-in.
    pub line_api_url: String,
    /// Mail delivery (`mail::delivery`): the SMTP server, From, DKIM,
    /// throttling and retries.
    pub mail: MailConfig,
}

/// Where and how mail to residents is delivered.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `smtp://host:port` (plain text; `?tls=opportunistic`: STARTTLS when
    /// offered; `?tls=required`: STARTTLS or nothing), `smtps://host:port`
    /// (TLS from the start), with `user:password@` for authentication.
    /// Unset: nothing is sent; in development mode mail goes to the demo
    /// mailbox instead.
    pub smtp_url: Option<String>,
    /// The From address (each municipality's name is its display name).
    pub from: String,
    /// Messages per minute per municipality (0: no limit).
    pub per_minute: u32,
    /// Hand-offs at once (SMTP connections of this server).
    pub connections: usize,
    /// The first wait after a temporary failure, in seconds; doubled each
    /// time, at most an hour.
    pub retry_seconds: u64,
    /// Attempts before a message counts as failed.
    pub max_attempts: i64,
    /// DKIM: the private key (PEM, RSA or Ed25519), its selector and domain.
    pub dkim_key_file: Option<String>,
    pub dkim_selector: Option<String>,
    pub dkim_domain: Option<String>,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "noreply@madoguchi.invalid".into(),
            per_minute: 60_000,
            connections: 16,
            retry_seconds: 60,
            max_attempts: 10,
            dkim_key_file: None,
            dkim_selector: None,
            dkim_domain: None,
        }
    }
}

impl MailConfig {
    fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for (key, slot) in [
            ("MADOGUCHI_SMTP_URL", &mut self.smtp_url),
            ("MADOGUCHI_DKIM_KEY_FILE", &mut self.dkim_key_file),
            ("MADOGUCHI_DKIM_SELECTOR", &mut self.dkim_selector),
            ("MADOGUCHI_DKIM_DOMAIN", &mut self.dkim_domain),
        ] {
            if let Some(v) = get(key) {
                *slot = (!v.trim().is_empty()).then(|| v.trim().to_string());
            }
        }
        if let Some(v) = get("MADOGUCHI_MAIL_FROM") {
            self.from = v;
        }
        set_num(get, "MADOGUCHI_MAIL_PER_MINUTE", &mut self.per_minute)?;
        set_num(get, "MADOGUCHI_MAIL_CONNECTIONS", &mut self.connections)?;
        set_num(get, "MADOGUCHI_MAIL_RETRY_SECONDS", &mut self.retry_seconds)?;
        set_num(get, "MADOGUCHI_MAIL_MAX_ATTEMPTS", &mut self.max_attempts)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(ConfigError::Invalid {
                    key: "mail.smtp_url",
                    message: "smtp:// または smtps:// で始まる URL を指定してください".into(),
                });
            }
        }
        let at = self.from.find('@');
        if at.is_none_or(|i| i == 0 || i + 1 == self.from.len()) || self.from.contains(' ') {
            return Err(ConfigError::Invalid {
                key: "mail.from",
                message: format!("「{}」はメールアドレスではありません", self.from),
            });
        }
        if self.connections == 0 || self.max_attempts <= 0 {
            return Err(ConfigError::Invalid {
                key: "mail.connections / mail.max_attempts",
                message: "1 以上を指定してください".into(),
            });
        }
        let dkim = [&self.dkim_key_file, &self.dkim_selector, &self.dkim_domain];
        if dkim.iter().any(|v| v.is_some()) && !dkim.iter().all(|v| v.is_some()) {
            return Err(ConfigError::Invalid {
                key: "mail.dkim_*",
                message: "dkim_key_file・dkim_selector・dkim_domain の3つを揃えて指定してください"
                    .into(),
            });
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Production,
    Development,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    pub sign_in_per_client: u32,
    pub sign_in_per_tenant: u32,
    pub submit_per_client: u32,
    pub submit_per_tenant: u32,
    /// 申請状況の確認 (receipt number + second factor).
    pub lookup_per_client: u32,
    pub lookup_per_tenant: u32,
}

impl RateLimits {
    fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        set_num(
            get,
            "MADOGUCHI_RATE_LIMIT_SIGN_IN_PER_CLIENT",
            &mut self.sign_in_per_client,
        )?;
        set_num(
            get,
            "MADOGUCHI_RATE_LIMIT_SIGN_IN_PER_TENANT",
            &mut self.sign_in_per_tenant,
        )?;
        set_num(
            get,
            "MADOGUCHI_RATE_LIMIT_SUBMIT_PER_CLIENT",
            &mut self.submit_per_client,
        )?;
        set_num(
            get,
            "MADOGUCHI_RATE_LIMIT_SUBMIT_PER_TENANT",
            &mut self.submit_per_tenant,
        )?;
        set_num(
            get,
            "MADOGUCHI_RATE_LIMIT_LOOKUP_PER_CLIENT",
            &mut self.lookup_per_client,
        )?;
        set_num(
            get,
            "MADOGUCHI_RATE_LIMIT_LOOKUP_PER_TENANT",
            &mut self.lookup_per_tenant,
        )
    }
}

/// A number from the environment, if set; anything else is refused.
fn set_num<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    slot: &mut T,
) -> Result<(), ConfigError> {
    if let Some(v) = get(name) {
        *slot = v.parse().map_err(|_| ConfigError::Env {
            name: name.into(),
            message: "数値を指定してください".into(),
        })?;
    }
    Ok(())
}

/// A comma-separated list, if set.
fn set_list(get: &impl Fn(&str) -> Option<String>, name: &str, slot: &mut Vec<String>) {
    if let Some(v) = get(name) {
        *slot = v
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
    }
}

/// On with `1`, `true` or `yes`; off with anything else, if set.
fn set_flag(get: &impl Fn(&str) -> Option<String>, name: &str, slot: &mut bool) {
    if let Some(v) = get(name) {
        *slot = matches!(v.as_str(), "1" | "true" | "yes");
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            sign_in_per_client: 20,
            sign_in_per_tenant: 600,
            submit_per_client: 60,
            submit_per_tenant: 60_000,
            lookup_per_client: 20,
            lookup_per_tenant: 600,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// e.g. `https://auth.digital.go.jp` (discovery is read from
    /// `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// PEM file with the client's EC P-256 private key (private_key_jwt).
    pub client_key_file: String,
    #[serde(default = "default_scopes")]
    pub scopes: String,
    /// The identity level a sign-in through this provider proves. Set
    /// `my_number_card` for デジタル認証アプリ (every sign-in there reads the
    /// card); the default, `signed_in`, claims no more than a sign-in.
    #[serde(default = "default_oidc_level")]
    pub identity_level: String,
    /// Name shown on the sign-in button.
    #[serde(default = "default_oidc_label")]
    pub label_ja: String,
}

impl OidcConfig {
    fn validate(&self, mode: Mode) -> Result<(), ConfigError> {
        let local = self.issuer.starts_with("http://127.0.0.1")
            || self.issuer.starts_with("http://localhost");
        if !(self.issuer.starts_with("https://") || local && mode == Mode::Development) {
            return Err(ConfigError::Invalid {
                key: "oidc.issuer",
                message:
                    "https:// で始まる URL を指定してください（http は開発モードの localhost のみ）"
                        .into(),
            });
        }
        if !matches!(self.identity_level.as_str(), "signed_in" | "my_number_card") {
            return Err(ConfigError::Invalid {
                key: "oidc.identity_level",
                message: "signed_in または my_number_card を指定してください".into(),
            });
        }
        if self.client_id.is_empty() {
            return Err(ConfigError::Invalid {
                key: "oidc.client_id",
                message: "クライアントIDを指定してください".into(),
            });
        }
        Ok(())
    }
}

fn default_scopes() -> String {
    "openid name address birthdate gender".into()
}
fn default_oidc_level() -> String {
    "signed_in".into()
}
fn default_oidc_label() -> String {
    "マイナンバーカード（デジタル認証アプリ）".into()
}

/// Every `MADOGUCHI_*` variable madoguchi reads: the settings
/// [`Config::apply_env`] reads, the configuration file's path and the
/// password of `madoguchi staff add`. `.env.example` documents exactly
/// these (a test holds the two together).
pub const ENV_VARS: &[&str] = &[
    "MADOGUCHI_CONFIG",
    "MADOGUCHI_BIND",
    "MADOGUCHI_DATABASE_URL",
    "MADOGUCHI_PUBLIC_URL",
    "MADOGUCHI_MAX_BODY_BYTES",
    "MADOGUCHI_MAX_ATTACHMENT_BYTES",
    "MADOGUCHI_STAFF_IDLE_MINUTES",
    "MADOGUCHI_POOL_SIZE",
    "MADOGUCHI_PASSWORD_CHECKS",
    "MADOGUCHI_PASSWORD_CHECK_QUEUE",
    "MADOGUCHI_LOG",
    "MADOGUCHI_MODE",
    "MADOGUCHI_ENCRYPTION_KEYS",
    "MADOGUCHI_TRUSTED_PROXIES",
    "MADOGUCHI_RATE_LIMIT_SIGN_IN_PER_CLIENT",
    "MADOGUCHI_RATE_LIMIT_SIGN_IN_PER_TENANT",
    "MADOGUCHI_RATE_LIMIT_SUBMIT_PER_CLIENT",
    "MADOGUCHI_RATE_LIMIT_SUBMIT_PER_TENANT",
    "MADOGUCHI_RATE_LIMIT_LOOKUP_PER_CLIENT",
    "MADOGUCHI_RATE_LIMIT_LOOKUP_PER_TENANT",
    "MADOGUCHI_OIDC_ISSUER",
    "MADOGUCHI_OIDC_CLIENT_ID",
    "MADOGUCHI_OIDC_CLIENT_KEY_FILE",
    "MADOGUCHI_OIDC_IDENTITY_LEVEL",
    "MADOGUCHI_DEV_IDENTITY_PROVIDER",
    "MADOGUCHI_DEMO_REGISTRY",
    "MADOGUCHI_PDF_FONT",
    "MADOGUCHI_JOB_WORKERS",
    "MADOGUCHI_LINE_API_URL",
    "MADOGUCHI_SMTP_URL",
    "MADOGUCHI_MAIL_FROM",
    "MADOGUCHI_MAIL_PER_MINUTE",
    "MADOGUCHI_MAIL_CONNECTIONS",
    "MADOGUCHI_MAIL_RETRY_SECONDS",
    "MADOGUCHI_MAIL_MAX_ATTEMPTS",
    "MADOGUCHI_DKIM_KEY_FILE",
    "MADOGUCHI_DKIM_SELECTOR",
    "MADOGUCHI_DKIM_DOMAIN",
    "MADOGUCHI_NEW_PASSWORD",
];

/// Of [`ENV_VARS`], those read elsewhere than [`Config::apply_env`].
pub const ENV_VARS_OUTSIDE_CONFIG: &[&str] = &["MADOGUCHI_CONFIG", "MADOGUCHI_NEW_PASSWORD"];

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
            mode: Mode::Production,
            encryption_keys: Vec::new(),
            staff_absolute_hours: 12,
            lockout_threshold: 5,
            lockout_minutes: 15,
            password_checks: 2,
            password_check_queue: 32,
            rate_limits: RateLimits::default(),
            trusted_proxies: Vec::new(),
            oidc: None,
            dev_identity_provider: false,
            demo_registry: false,
            pdf_font: "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf".into(),
            job_workers: 2,
            line_api_url: "https://api.line.me".into(),
            mail: MailConfig::default(),
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
    /// Defaults, then the file (if given), then the environment. Call
    /// [`Config::validate`] after applying command-line flags.
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
        // Validated by the caller once command-line flags are applied.
        Ok(cfg)
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies `MADOGUCHI_<KEY>` variables. Unknown `MADOGUCHI_` variables are
    /// refused like unknown file keys.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = &get;
        for (key, slot) in [
            ("MADOGUCHI_BIND", &mut self.bind),
            ("MADOGUCHI_DATABASE_URL", &mut self.database_url),
            ("MADOGUCHI_PUBLIC_URL", &mut self.public_url),
            ("MADOGUCHI_LOG", &mut self.log),
            ("MADOGUCHI_PDF_FONT", &mut self.pdf_font),
            ("MADOGUCHI_LINE_API_URL", &mut self.line_api_url),
        ] {
            if let Some(v) = get(key) {
                *slot = v;
            }
        }
        set_num(get, "MADOGUCHI_MAX_BODY_BYTES", &mut self.max_body_bytes)?;
        set_num(
            get,
            "MADOGUCHI_MAX_ATTACHMENT_BYTES",
            &mut self.max_attachment_bytes,
        )?;
        set_num(
            get,
            "MADOGUCHI_STAFF_IDLE_MINUTES",
            &mut self.staff_idle_minutes,
        )?;
        set_num(get, "MADOGUCHI_POOL_SIZE", &mut self.pool_size)?;
        set_num(get, "MADOGUCHI_JOB_WORKERS", &mut self.job_workers)?;
        set_num(get, "MADOGUCHI_PASSWORD_CHECKS", &mut self.password_checks)?;
        set_num(
            get,
            "MADOGUCHI_PASSWORD_CHECK_QUEUE",
            &mut self.password_check_queue,
        )?;
        if let Some(v) = get("MADOGUCHI_MODE") {
            self.mode = match v.as_str() {
                "production" => Mode::Production,
                "development" => Mode::Development,
                _ => {
                    return Err(ConfigError::Env {
                        name: "MADOGUCHI_MODE".into(),
                        message: "production または development を指定してください".into(),
                    })
                }
            };
        }
        set_list(get, "MADOGUCHI_ENCRYPTION_KEYS", &mut self.encryption_keys);
        set_list(get, "MADOGUCHI_TRUSTED_PROXIES", &mut self.trusted_proxies);
        set_flag(
            get,
            "MADOGUCHI_DEV_IDENTITY_PROVIDER",
            &mut self.dev_identity_provider,
        );
        set_flag(get, "MADOGUCHI_DEMO_REGISTRY", &mut self.demo_registry);
        self.rate_limits.apply_env(get)?;
        self.mail.apply_env(get)?;
        self.apply_oidc_env(get)
    }

    /// The provider from the three variables together (or none of them),
    /// and the identity level, which applies to a provider from the file
    /// as well.
    fn apply_oidc_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let oidc_vars = [
            get("MADOGUCHI_OIDC_ISSUER"),
            get("MADOGUCHI_OIDC_CLIENT_ID"),
            get("MADOGUCHI_OIDC_CLIENT_KEY_FILE"),
        ];
        let level = get("MADOGUCHI_OIDC_IDENTITY_LEVEL");
        if let [Some(issuer), Some(client_id), Some(client_key_file)] = oidc_vars {
            let prev = self.oidc.take();
            self.oidc = Some(OidcConfig {
                issuer,
                client_id,
                client_key_file,
                scopes: prev
                    .as_ref()
                    .map(|o| o.scopes.clone())
                    .unwrap_or_else(default_scopes),
                identity_level: prev
                    .as_ref()
                    .map(|o| o.identity_level.clone())
                    .unwrap_or_else(default_oidc_level),
                label_ja: prev.map(|o| o.label_ja).unwrap_or_else(default_oidc_label),
            });
        } else if oidc_vars.iter().any(Option::is_some) {
            return Err(ConfigError::Env {
                name: "MADOGUCHI_OIDC_*".into(),
                message: "MADOGUCHI_OIDC_ISSUER・MADOGUCHI_OIDC_CLIENT_ID・MADOGUCHI_OIDC_CLIENT_KEY_FILE の3つを揃えて指定してください".into(),
            });
        }
        if let Some(level) = level {
            let Some(oidc) = self.oidc.as_mut() else {
                return Err(ConfigError::Env {
                    name: "MADOGUCHI_OIDC_IDENTITY_LEVEL".into(),
                    message:
                        "OpenID Connect の設定（MADOGUCHI_OIDC_ISSUER など）がないため使えません"
                            .into(),
                });
            };
            oidc.identity_level = level;
        }
        Ok(())
    }

    /// Names of `MADOGUCHI_*` variables in the environment that no setting
    /// reads (probably typos); `check-config` reports them. `MADOGUCHI_TEST_*`
    /// belong to the test suite.
    pub fn unknown_env_vars() -> Vec<String> {
        std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| {
                k.starts_with("MADOGUCHI_")
                    && !k.starts_with("MADOGUCHI_TEST_")
                    && !ENV_VARS.contains(&k.as_str())
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
        let backend = crate::db::Backend::of_url(&self.database_url).map_err(|message| {
            ConfigError::Invalid {
                key: "database_url",
                message,
            }
        })?;
        if backend == crate::db::Backend::Postgres {
            crate::db::hosts::parse(&self.database_url).map_err(|message| {
                ConfigError::Invalid {
                    key: "database_url",
                    message,
                }
            })?;
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                key: "public_url",
                message: "http:// または https:// で始まる URL を指定してください".into(),
            });
        }
        if !(self.line_api_url.starts_with("http://") || self.line_api_url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                key: "line_api_url",
                message: "http:// または https:// で始まる URL を指定してください".into(),
            });
        }
        if self.max_attachment_bytes > self.max_body_bytes {
            return Err(ConfigError::Invalid {
                key: "max_attachment_bytes",
                message: "max_body_bytes 以下にしてください".into(),
            });
        }
        if self.pool_size == 0
            || self.password_checks == 0
            || self.staff_idle_minutes <= 0
            || self.staff_absolute_hours <= 0
            || self.lockout_threshold <= 0
            || self.lockout_minutes <= 0
        {
            return Err(ConfigError::Invalid {
                key: "pool_size / password_checks / staff_idle_minutes / staff_absolute_hours / lockout_*",
                message: "1 以上を指定してください".into(),
            });
        }
        if !self.encryption_keys.is_empty() {
            crate::crypto::Vault::from_specs(&self.encryption_keys).map_err(|e| {
                ConfigError::Invalid {
                    key: "encryption_keys",
                    message: e.to_string(),
                }
            })?;
        }
        for p in &self.trusted_proxies {
            if p.parse::<std::net::IpAddr>().is_err() {
                return Err(ConfigError::Invalid {
                    key: "trusted_proxies",
                    message: format!("「{p}」は IP アドレスではありません"),
                });
            }
        }
        if let Some(o) = &self.oidc {
            o.validate(self.mode)?;
        }
        self.mail.validate()?;
        if self.mode == Mode::Production {
            self.validate_production()?;
        }
        Ok(())
    }

    /// What production mode needs: no demo parts, keys for data at rest,
    /// HTTPS.
    fn validate_production(&self) -> Result<(), ConfigError> {
        let refuse = |key: &'static str, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.to_string(),
            })
        };
        if self.demo_registry {
            return refuse("demo_registry", "架空の住民記録（デモ用）は本番モードでは使えません。住民記録システムを接続してください");
        }
        if self.dev_identity_provider {
            return refuse(
                "dev_identity_provider",
                "開発用の認証プロバイダは本番モード（mode = \"production\"）では有効にできません",
            );
        }
        if self.encryption_keys.is_empty() {
            return refuse("encryption_keys", "本番モードではマイナンバー等を暗号化する鍵が必要です。`madoguchi keygen` で作成し MADOGUCHI_ENCRYPTION_KEYS に設定してください");
        }
        if !self.public_url.starts_with("https://") {
            return refuse(
                "public_url",
                "本番モードでは https:// の URL が必要です（Cookie を Secure にするため）",
            );
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

    /// The `MADOGUCHI_*` names `.env.example` documents, set or commented.
    fn documented() -> std::collections::BTreeSet<String> {
        let text = include_str!("../../../.env.example");
        let mut names = std::collections::BTreeSet::new();
        for line in text.lines() {
            let line = line.trim_start_matches(['#', ' ']);
            if let Some((name, _)) = line.split_once('=') {
                if name.starts_with("MADOGUCHI_")
                    && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                {
                    names.insert(name.to_string());
                }
            }
        }
        names
    }

    #[test]
    fn env_example_documents_exactly_the_known_settings() {
        let known: std::collections::BTreeSet<String> =
            ENV_VARS.iter().map(|s| s.to_string()).collect();
        assert_eq!(documented(), known);
    }

    #[test]
    fn mail_settings_from_file_and_environment_and_their_checks() {
        let mut c = Config::from_toml(
            "[mail]\nsmtp_url = \"smtps://u:p@mail.example.jp:465\"\nfrom = \"info@city.example.jp\"\n",
        )
        .unwrap();
        assert_eq!(
            c.mail.smtp_url.as_deref(),
            Some("smtps://u:p@mail.example.jp:465")
        );
        c.apply_env(|k| match k {
            "MADOGUCHI_SMTP_URL" => Some("smtp://127.0.0.1:2525".into()),
            "MADOGUCHI_MAIL_PER_MINUTE" => Some("3000".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.mail.smtp_url.as_deref(), Some("smtp://127.0.0.1:2525"));
        assert_eq!(c.mail.per_minute, 3000);
        assert_eq!(c.mail.from, "info@city.example.jp");
        c.mode = Mode::Development;
        c.validate().unwrap();
        let bad = |f: &dyn Fn(&mut MailConfig)| {
            let mut c = Config {
                mode: Mode::Development,
                ..Config::default()
            };
            f(&mut c.mail);
            c.validate().unwrap_err().to_string()
        };
        assert!(bad(&|m| m.smtp_url = Some("http://x".into())).contains("mail.smtp_url"));
        assert!(bad(&|m| m.from = "nobody".into()).contains("mail.from"));
        assert!(bad(&|m| m.dkim_selector = Some("s".into())).contains("mail.dkim_*"));
        assert!(
            Config::from_toml("[mail]\nsmtp = \"x\"\n").is_err(),
            "unknown keys refused"
        );
    }

    #[test]
    fn oidc_identity_level_applies_to_a_provider_from_the_file() {
        let mut c = Config::from_toml(
            "[oidc]\nissuer = \"https://id.example\"\nclient_id = \"c\"\nclient_key_file = \"k.pem\"\n",
        )
        .unwrap();
        c.apply_env(|k| (k == "MADOGUCHI_OIDC_IDENTITY_LEVEL").then(|| "my_number_card".into()))
            .unwrap();
        assert_eq!(c.oidc.unwrap().identity_level, "my_number_card");
        let err = Config::default()
            .apply_env(|k| (k == "MADOGUCHI_OIDC_IDENTITY_LEVEL").then(|| "my_number_card".into()))
            .unwrap_err();
        assert!(
            err.to_string().contains("MADOGUCHI_OIDC_IDENTITY_LEVEL"),
            "{err}"
        );
    }

    #[test]
    fn apply_env_reads_every_known_setting() {
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        Config::default()
            .apply_env(|k| {
                asked.borrow_mut().insert(k.to_string());
                None
            })
            .unwrap();
        let expected: std::collections::BTreeSet<String> = ENV_VARS
            .iter()
            .filter(|k| !ENV_VARS_OUTSIDE_CONFIG.contains(k))
            .map(|s| s.to_string())
            .collect();
        assert_eq!(asked.into_inner(), expected);
    }

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
    fn a_multi_host_database_url_is_checked_at_start() {
        let mut c = Config {
            database_url: "postgres://db1:5432,db2:5432/city?target_session_attrs=read-write"
                .into(),
            mode: Mode::Production,
            public_url: "https://madoguchi.example.jp".into(),
            encryption_keys: vec![crate::crypto::Vault::generate_spec("k1")],
            ..Config::default()
        };
        c.validate().unwrap();
        c.database_url = "postgres://db1:5432,db2:x/city?target_session_attrs=read-write".into();
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "設定 database_url が正しくありません: 接続先の 2 番目のホスト「db2:x」のポート「x」は 1〜65535 の数ではありません"
        );
    }

    #[test]
    fn production_refuses_the_dev_identity_provider() {
        let key = crate::crypto::Vault::generate_spec("k1");
        let mut c = Config {
            mode: Mode::Production,
            public_url: "https://madoguchi.example.jp".into(),
            encryption_keys: vec![key],
            ..Config::default()
        };
        c.validate().unwrap();
        c.dev_identity_provider = true;
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("dev_identity_provider") && e.contains("本番"),
            "{e}"
        );
        // Also through the environment.
        c.dev_identity_provider = false;
        c.apply_env(|k| (k == "MADOGUCHI_DEV_IDENTITY_PROVIDER").then(|| "true".into()))
            .unwrap();
        assert!(c.validate().is_err());
        c.mode = Mode::Development;
        c.validate().unwrap();
        // The register of fictitious residents neither.
        c.dev_identity_provider = false;
        c.mode = Mode::Production;
        c.demo_registry = true;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("demo_registry") && e.contains("住民記録"), "{e}");
        c.demo_registry = false;
        c.mode = Mode::Development;
        // Production needs keys and https.
        let p = Config::default();
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("encryption_keys"));
        // An OIDC issuer over plain http only in development on localhost.
        let mut d = Config {
            mode: Mode::Development,
            oidc: Some(OidcConfig {
                issuer: "http://idp.example".into(),
                client_id: "x".into(),
                client_key_file: "k.pem".into(),
                scopes: default_scopes(),
                identity_level: default_oidc_level(),
                label_ja: default_oidc_label(),
            }),
            ..Config::default()
        };
        assert!(d.validate().is_err());
        d.oidc.as_mut().unwrap().issuer = "http://127.0.0.1:9000".into();
        d.validate().unwrap();
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
