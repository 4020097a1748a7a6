//! `madoguchi import` and `export`: a municipality's procedure catalogue
//! as CSV (for Excel) or JSON, imported all or nothing.

use std::path::{Path, PathBuf};

use server::App;

use super::{existing_tenant, load_config, messages};

pub struct Import {
    pub tenant: String,
    pub path: PathBuf,
    pub dry_run: bool,
    pub database_url: Option<String>,
}

pub async fn import(file: Option<&Path>, a: Import) -> anyhow::Result<()> {
    let c = load_config(file, None, a.database_url)?;
    let app = App::start(c).await?;
    existing_tenant(&app.db, &a.tenant).await?;
    let text = std::fs::read_to_string(&a.path)
        .map_err(|e| anyhow::anyhow!("{} を読めません: {e}", a.path.display()))?;
    let parsed = if is_csv(&a.path) {
        catalogue::csv_io::from_csv(&text)
    } else {
        catalogue::csv_io::from_json(&text)
    };
    let mut items = parsed.map_err(|errs| anyhow::anyhow!(messages(&errs)))?;
    if is_csv(&a.path) {
        items = catalogue::store::with_kept_translations(
            &app.db,
            &a.tenant,
            items,
            &catalogue::csv_io::sheet_languages(&text),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    match catalogue::store::import(&app.db, &a.tenant, &items, "system:cli", a.dry_run).await {
        Ok(r) => {
            println!(
                "{}created {}, updated {}, unchanged {}",
                if a.dry_run { "(dry run) " } else { "" },
                r.created,
                r.updated,
                r.unchanged
            );
            Ok(())
        }
        Err(kernel::AppError::Validation(errs)) => anyhow::bail!(
            "取り込みを中止しました（何も変更していません）:\n{}",
            messages(&errs)
        ),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

pub async fn export(
    file: Option<&Path>,
    tenant: String,
    path: PathBuf,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let c = load_config(file, None, database_url)?;
    let app = App::start(c).await?;
    existing_tenant(&app.db, &tenant).await?;
    let items: Vec<catalogue::Procedure> = catalogue::store::list(&app.db, &tenant)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|s| s.procedure)
        .collect();
    let out = if is_csv(&path) {
        catalogue::csv_io::to_csv(&items)?
    } else {
        serde_json::to_string_pretty(&items)?
    };
    if path.as_os_str() == "-" {
        println!("{out}");
    } else {
        std::fs::write(&path, out)?;
        eprintln!("{} procedures written to {}", items.len(), path.display());
    }
    Ok(())
}

fn is_csv(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "csv")
}
