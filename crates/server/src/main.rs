//! `madoguchi`: the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kernel::config::Config;
use server::{demo, App};

#[derive(Parser)]
#[command(
    name = "madoguchi",
    version,
    about = "madoguchi — オープンソースのデジタル市役所 / open-source digital city hall"
)]
struct Cli {
    /// Configuration file (TOML). Environment variables MADOGUCHI_* override it.
    #[arg(long, global = true, env = "MADOGUCHI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// Address to listen on [env: MADOGUCHI_BIND] (default 127.0.0.1:8080)
    #[arg(long)]
    bind: Option<String>,
    /// sqlite://./madoguchi.db or postgres://… [env: MADOGUCHI_DATABASE_URL]
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate {
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Migrate, load the demo municipalities (四街道市, 四日市市) and serve.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Synthetic applications per municipality.
        #[arg(long, default_value_t = 300)]
        applications: usize,
        /// Load the demo data and exit instead of serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Import a municipality's procedure catalogue (CSV or JSON), all or nothing.
    Import {
        /// 全国地方公共団体コード of the municipality, e.g. 122289
        #[arg(long)]
        tenant: String,
        /// File to read (.csv or .json)
        file: PathBuf,
        /// Check and report without changing anything.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Export a municipality's procedure catalogue as CSV or JSON.
    Export {
        #[arg(long)]
        tenant: String,
        /// Output file (.csv or .json); `-` for standard output as JSON.
        file: PathBuf,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Check the configuration and the database connection, then exit.
    CheckConfig,
    /// Print a new encryption key for MADOGUCHI_ENCRYPTION_KEYS (マイナンバー at rest).
    Keygen {
        /// Key id, e.g. 2026a. Put the new key first; keep the old ones until `rekey` has run.
        #[arg(long, default_value = "k1")]
        id: String,
    },
    /// Re-encrypt every stored マイナンバー and secret with the first (active) key.
    Rekey {
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Write a new EC P-256 private key for OpenID Connect (private_key_jwt)
    /// and print its public JWK to register with the identity provider.
    OidcKeygen {
        /// Where to write the private key (PEM); refused if it exists.
        out: PathBuf,
    },
    /// Staff accounts from the command line (the first administrator).
    Staff {
        #[command(subcommand)]
        action: StaffCommand,
    },
    /// The audit log: verify a municipality's hash chain, or export a period.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add an account. The password is read from MADOGUCHI_NEW_PASSWORD or
    /// the first line of standard input; the second factor is set up at
    /// first sign-in.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        department: String,
        /// Comma-separated: clerk, reviewer, approver, dept_admin, system_admin, security_officer
        #[arg(long)]
        roles: String,
        #[arg(long)]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; names the first broken entry (exit code 1).
    Verify {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Write the entries of a period as CSV for auditors.
    Export {
        #[arg(long)]
        tenant: String,
        /// First day (和暦 or 西暦, e.g. 2026-04-01 or 令和8年4月1日), Japan time.
        #[arg(long)]
        from: String,
        /// Last day, included.
        #[arg(long)]
        to: String,
        /// Output file; `-` for standard output.
        file: PathBuf,
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// Midnight JST at the start of a date typed as 和暦 or 西暦.
fn jst_midnight_ms(input: &str, what: &str) -> anyhow::Result<i64> {
    let d = jp::JpDate::parse(input).map_err(|e| {
        anyhow::anyhow!(
            "{what}「{input}」: {}",
            kernel::i18n::parse_error(kernel::Lang::Ja, what, &e)
        )
    })?;
    Ok(d.date()
        .midnight()
        .assume_offset(kernel::clock::JST)
        .unix_timestamp()
        * 1000)
}

fn load_config(
    file: Option<&std::path::Path>,
    bind: Option<String>,
    database_url: Option<String>,
) -> anyhow::Result<Config> {
    let c = load_config_unchecked(file, bind, database_url)?;
    c.validate()?;
    Ok(c)
}

fn load_config_unchecked(
    file: Option<&std::path::Path>,
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

fn init_logging(filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .try_init();
}

async fn serve(app: App, demo: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&app.config.bind)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{} で待ち受けできません: {e}（--bind で別のアドレスを指定できます）",
                app.config.bind
            )
        })?;
    let addr = listener.local_addr()?;
    println!("madoguchi is running: http://{addr}/");
    if demo {
        for t in kernel::tenant::list(&app.db).await? {
            println!("  {} portal:      http://{addr}/t/{}", t.name.ja(), t.code);
            println!(
                "  {} staff:       http://{addr}/t/{}/staff/sign-in",
                t.name.ja(),
                t.code
            );
        }
        println!("  demo staff accounts: dx-admin, reviewer, approver, clerk, kodomo, security — password: {} (demo only)", demo::DEMO_PASSWORD);
        println!("  second factor: authenticator app with secret {} (the sign-in page shows the current code in demo mode)", identity::DEMO_TOTP_SECRET);
        println!("  API: http://{addr}/api/openapi.json   health: http://{addr}/healthz");
    }
    println!("Press Ctrl-C to stop.");
    server::serve(app, listener).await
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = cli.config.as_deref();
    match cli.command {
        Command::Serve(a) => {
            let c = load_config(file, a.bind, a.database_url)?;
            init_logging(&c.log);
            serve(App::start(c).await?, false).await
        }
        Command::Migrate { database_url } => {
            let c = load_config(file, None, database_url)?;
            init_logging(&c.log);
            let db = kernel::Db::connect(&c.database_url, 2).await?;
            let r = kernel::migrate::run(&db).await?;
            println!("applied: {:?}; already applied: {}", r.applied, r.already);
            Ok(())
        }
        Command::Demo {
            serve: a,
            applications,
            no_serve,
        } => {
            let mut c = load_config_unchecked(file, a.bind, a.database_url)?;
            // The demo is development mode: published accounts, the
            // development identity provider, a key kept in the database.
            c.mode = kernel::config::Mode::Development;
            c.dev_identity_provider = true;
            c.demo_registry = true;
            c.validate()?;
            init_logging(&c.log);
            println!("Database: {}", c.redacted_database_url());
            let app = App::start(c).await?;
            let r = demo::load(&app, applications).await?;
            println!(
                "Demo data: {} municipalities, {} procedures new, {} FAQ entries new, {} applications new ({} already there), {} counter tickets of past days new",
                r.tenants, r.procedures_created, r.faq_created, r.applications_created, r.applications_existing, r.tickets_created
            );
            if no_serve {
                return Ok(());
            }
            serve(app, true).await
        }
        Command::Import {
            tenant,
            file: path,
            dry_run,
            database_url,
        } => {
            let c = load_config(file, None, database_url)?;
            let app = App::start(c).await?;
            kernel::tenant::load(&app.db, &tenant)
                .await
                .map_err(|_| anyhow::anyhow!("自治体 {tenant} はありません"))?;
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("{} を読めません: {e}", path.display()))?;
            let parsed = if path.extension().is_some_and(|e| e == "csv") {
                catalogue::csv_io::from_csv(&text)
            } else {
                catalogue::csv_io::from_json(&text)
            };
            let items = parsed.map_err(|errs| {
                anyhow::anyhow!(errs
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("\n"))
            })?;
            match catalogue::store::import(&app.db, &tenant, &items, "system:cli", dry_run).await {
                Ok(r) => {
                    println!(
                        "{}created {}, updated {}, unchanged {}",
                        if dry_run { "(dry run) " } else { "" },
                        r.created,
                        r.updated,
                        r.unchanged
                    );
                    Ok(())
                }
                Err(kernel::AppError::Validation(errs)) => {
                    anyhow::bail!(
                        "取り込みを中止しました（何も変更していません）:\n{}",
                        errs.iter()
                            .map(|e| e.message.clone())
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                }
                Err(e) => Err(anyhow::anyhow!("{e}")),
            }
        }
        Command::Export {
            tenant,
            file: path,
            database_url,
        } => {
            let c = load_config(file, None, database_url)?;
            let app = App::start(c).await?;
            kernel::tenant::load(&app.db, &tenant)
                .await
                .map_err(|_| anyhow::anyhow!("自治体 {tenant} はありません"))?;
            let items: Vec<catalogue::Procedure> = catalogue::store::list(&app.db, &tenant)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .into_iter()
                .map(|s| s.procedure)
                .collect();
            let out = if path.extension().is_some_and(|e| e == "csv") {
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
        Command::Audit {
            action:
                AuditCommand::Verify {
                    tenant,
                    database_url,
                },
        } => {
            let c = load_config(file, None, database_url)?;
            let db = kernel::Db::connect(&c.database_url, 2).await?;
            match kernel::audit::verify(&db, &tenant).await? {
                kernel::audit::Verify::Intact { entries } => {
                    println!("監査ログは改ざんされていません（{tenant}: {entries}件） / audit chain intact");
                    Ok(())
                }
                kernel::audit::Verify::Broken { seq, reason } => {
                    anyhow::bail!("監査ログの連鎖が {tenant} の第{seq}件目で壊れています（{reason}） / audit chain broken at entry {seq}")
                }
            }
        }
        Command::Audit {
            action:
                AuditCommand::Export {
                    tenant,
                    from,
                    to,
                    file: path,
                    database_url,
                },
        } => {
            let c = load_config(file, None, database_url)?;
            let db = kernel::Db::connect(&c.database_url, 2).await?;
            let from_ms = jst_midnight_ms(&from, "開始日")?;
            let to_ms = jst_midnight_ms(&to, "終了日")? + 86_400_000;
            if to_ms <= from_ms {
                anyhow::bail!("終了日は開始日以降にしてください");
            }
            let n = if path.as_os_str() == "-" {
                kernel::audit::export_csv(
                    &db,
                    &tenant,
                    from_ms,
                    to_ms,
                    &mut std::io::stdout().lock(),
                )
                .await?
            } else {
                let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
                let n = kernel::audit::export_csv(&db, &tenant, from_ms, to_ms, &mut f).await?;
                std::io::Write::flush(&mut f)?;
                n
            };
            eprintln!("{n} entries written");
            Ok(())
        }
        Command::Keygen { id } => {
            let spec = kernel::crypto::Vault::generate_spec(&id);
            kernel::crypto::Vault::from_specs(&[&spec])?;
            println!("{spec}");
            eprintln!("MADOGUCHI_ENCRYPTION_KEYS に設定してください（新しい鍵を先頭に、古い鍵は rekey 後に外す）。この鍵を失うと暗号化したデータは読めません。");
            Ok(())
        }
        Command::Rekey { database_url } => {
            let c = load_config(file, None, database_url)?;
            init_logging(&c.log);
            let app = App::start(c).await?;
            let r = server::rekey::run(&app).await?;
            println!(
                "re-encrypted with key {}: {} applications, {} drafts, {} assisted-entry values, {} staff secrets, {} attachments",
                app.identity.vault.active_key_id(),
                r.applications,
                r.drafts,
                r.assisted_entries,
                r.staff,
                r.attachments
            );
            Ok(())
        }
        Command::OidcKeygen { out } => {
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
        Command::Staff {
            action:
                StaffCommand::Add {
                    tenant,
                    id,
                    name,
                    department,
                    roles,
                    database_url,
                },
        } => {
            let c = load_config(file, None, database_url)?;
            let app = App::start(c).await?;
            kernel::tenant::load(&app.db, &tenant)
                .await
                .map_err(|_| anyhow::anyhow!("自治体 {tenant} はありません"))?;
            let mut parsed = Vec::new();
            for r in roles.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                parsed.push(kernel::auth::Role::parse(r).ok_or_else(|| {
                    anyhow::anyhow!("役割「{r}」はありません（clerk, reviewer, approver, dept_admin, system_admin, security_officer）")
                })?);
            }
            let password = match std::env::var("MADOGUCHI_NEW_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let new = kernel::auth::account::NewStaff {
                id: id.clone(),
                name,
                department,
                roles: parsed,
                password,
            };
            match kernel::auth::account::create_staff_from_cli(&app.db, &tenant, &new).await {
                Ok(()) => {
                    println!(
                        "職員 {id} を作成しました。初回サインイン時に二要素認証を設定します。"
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
        Command::CheckConfig => {
            let c = load_config(file, None, None)?;
            if let Some(v) = Config::unknown_env_vars().first() {
                anyhow::bail!("環境変数 {v} は使われていません（綴りを確認してください）");
            }
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
            let db = kernel::Db::connect(&c.database_url, 1).await?;
            db.ping().await?;
            println!("database: OK ({})", db.backend().name());
            println!("configuration OK");
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("エラー / error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
