//! Keys: `madoguchi keygen` (a key for MADOGUCHI_ENCRYPTION_KEYS),
//! `rekey` (everything re-sealed with the first key) and `oidc-keygen`
//! (the OpenID Connect client key and its public JWKS).

use std::path::{Path, PathBuf};

use server::App;

use super::{init_logging, load_config};

pub fn keygen(id: &str) -> anyhow::Result<()> {
    let spec = kernel::crypto::Vault::generate_spec(id);
    kernel::crypto::Vault::from_specs(&[&spec])?;
    println!("{spec}");
    eprintln!("MADOGUCHI_ENCRYPTION_KEYS に設定してください（新しい鍵を先頭に、古い鍵は rekey 後に外す）。この鍵を失うと暗号化したデータは読めません。");
    Ok(())
}

pub async fn rekey(file: Option<&Path>, database_url: Option<String>) -> anyhow::Result<()> {
    let c = load_config(file, None, database_url)?;
    init_logging(&c.log);
    let app = App::start(c).await?;
    let r = server::rekey::run(&app).await?;
    println!(
        "re-encrypted with key {}: {} applications, {} drafts, {} assisted-entry values, {} staff secrets, {} attachments, {} mail subscribers, {} mail suppressions re-hashed, {} LINE channels, {} staff test addresses, {} payers of charges",
        app.identity.vault.active_key_id(),
        r.applications,
        r.drafts,
        r.assisted_entries,
        r.staff,
        r.attachments,
        r.mail_subscribers,
        r.mail_suppressions,
        r.line_channels,
        r.mail_staff_addresses,
        r.payers
    );
    Ok(())
}

pub fn oidc_keygen(out: PathBuf) -> anyhow::Result<()> {
    if out.exists() {
        anyhow::bail!("{} は既にあります（上書きしません）", out.display());
    }
    let pem = identity::oidc::generate_key_pem()?;
    let (jwk, _) = identity::oidc::public_jwk(&pem)?;
    std::fs::write(&out, &pem)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600))?;
    }
    println!("{}", serde_json::json!({ "keys": [jwk] }));
    eprintln!(
        "秘密鍵を {} に書きました。上の公開鍵（JWKS）を認証プロバイダに登録してください。",
        out.display()
    );
    Ok(())
}
