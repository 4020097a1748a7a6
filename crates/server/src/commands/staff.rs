//! `madoguchi staff add`: the first administrator of a municipality (the
//! second factor is set up at the first sign-in).

use std::path::Path;

use server::App;

use super::{existing_tenant, load_config};

pub struct Add {
    pub tenant: String,
    pub id: String,
    pub name: String,
    pub department: String,
    /// Comma-separated role names.
    pub roles: String,
    pub database_url: Option<String>,
}

pub async fn add(file: Option<&Path>, a: Add) -> anyhow::Result<()> {
    let c = load_config(file, None, a.database_url)?;
    let app = App::start(c).await?;
    existing_tenant(&app.db, &a.tenant).await?;
    let new = kernel::auth::account::NewStaff {
        id: a.id.clone(),
        name: a.name,
        department: a.department,
        roles: roles(&a.roles)?,
        password: password()?,
    };
    match kernel::auth::account::create_staff_from_cli(&app.db, &a.tenant, &new).await {
        Ok(()) => {
            println!(
                "職員 {} を作成しました。初回サインイン時に二要素認証を設定します。",
                a.id
            );
            Ok(())
        }
        Err(kernel::AppError::Validation(errs)) => anyhow::bail!(
            "作成しませんでした:\n{}",
            errs.iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

fn roles(list: &str) -> anyhow::Result<Vec<kernel::auth::Role>> {
    list.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            kernel::auth::Role::parse(r).ok_or_else(|| {
                anyhow::anyhow!("役割「{r}」はありません（clerk, reviewer, approver, dept_admin, system_admin, security_officer）")
            })
        })
        .collect()
}

/// From MADOGUCHI_NEW_PASSWORD, or the first line of standard input.
fn password() -> anyhow::Result<String> {
    match std::env::var("MADOGUCHI_NEW_PASSWORD") {
        Ok(p) => Ok(p),
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            Ok(line.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}
