//! `madoguchi check-config`: the effective configuration (passwords
//! masked), refusing unknown MADOGUCHI_ variables, and the database tried.

use std::path::Path;

use kernel::config::Config;

use super::load_config;

pub async fn run(file: Option<&Path>) -> anyhow::Result<()> {
    let c = load_config(file, None, None)?;
    if let Some(v) = Config::unknown_env_vars().first() {
        anyhow::bail!("環境変数 {v} は使われていません（綴りを確認してください）");
    }
    print(&c);
    let db = kernel::Db::connect(&c.database_url, 1).await?;
    db.ping().await?;
    println!("database: OK ({})", db.backend().name());
    println!("configuration OK");
    Ok(())
}

fn print(c: &Config) {
    println!("bind = {}", c.bind);
    println!("database_url = {}", c.redacted_database_url());
    println!("public_url = {}", c.public_url);
    println!("max_body_bytes = {}", c.max_body_bytes);
    println!("max_attachment_bytes = {}", c.max_attachment_bytes);
    println!("staff_idle_minutes = {}", c.staff_idle_minutes);
    println!("pool_size = {}", c.pool_size);
    println!("mode = {:?}", c.mode);
    println!(
        "encryption keys = {} (active: {})",
        c.encryption_keys.len(),
        c.encryption_keys
            .first()
            .and_then(|k| k.split_once(':'))
            .map(|(id, _)| id)
            .unwrap_or("-")
    );
    println!(
        "oidc = {}",
        c.oidc.as_ref().map(|o| o.issuer.as_str()).unwrap_or("off")
    );
    println!("dev_identity_provider = {}", c.dev_identity_provider);
    println!("demo_registry = {}", c.demo_registry);
    println!("pdf_font = {}", c.pdf_font);
    println!("line_api_url = {}", c.line_api_url);
}
