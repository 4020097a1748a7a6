//! The subcommands of `madoguchi`, one module each; `main.rs` only parses
//! the command line and calls them.

pub mod audit;
pub mod catalogue;
pub mod check_config;
pub mod jobs;
pub mod keys;
pub mod serve;
pub mod staff;

use std::path::Path;

use kernel::config::Config;

/// The configuration in its layers, with the command line's `--bind` and
/// `--database-url` on top, checked.
pub fn load_config(
    file: Option<&Path>,
    bind: Option<String>,
    database_url: Option<String>,
) -> anyhow::Result<Config> {
    let c = load_config_unchecked(file, bind, database_url)?;
    c.validate()?;
    Ok(c)
}

/// [`load_config`] before the check (the demo changes the mode first).
pub fn load_config_unchecked(
    file: Option<&Path>,
    bind: Option<String>,
    database_url: Option<String>,
) -> anyhow::Result<Config> {
    let mut c = Config::load(file)?;
    if let Some(b) = bind {
        c.bind = b;
    }
    if let Some(d) = database_url {
        c.database_url = d;
    }
    // Without an explicit public address, links in e-mails point at the
    // address the server listens on.
    if c.public_url == Config::default().public_url {
        c.public_url = format!("http://{}", c.bind);
    }
    Ok(c)
}

pub fn init_logging(filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .try_init();
}

/// The municipality, or a clear error naming it.
pub async fn existing_tenant(db: &kernel::Db, tenant: &str) -> anyhow::Result<()> {
    kernel::tenant::load(db, tenant)
        .await
        .map(|_| ())
        .map_err(|_| anyhow::anyhow!("自治体 {tenant} はありません"))
}

/// The messages of a validation error, one per line.
pub fn messages(errs: &[kernel::FieldError]) -> String {
    errs.iter()
        .map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}
