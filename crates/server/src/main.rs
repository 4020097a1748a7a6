//! `madoguchi`: the command line. Parsing is here; each subcommand is a
//! module of `commands/`.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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

impl ServeArgs {
    fn place(self) -> commands::serve::Place {
        commands::serve::Place {
            bind: self.bind,
            database_url: self.database_url,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit. Run it as the role that
    /// owns the tables; servers may then run as a member of madoguchi_app.
    Migrate {
        #[arg(long)]
        database_url: Option<String>,
        /// Then print the Citus calls that distribute the schema by
        /// municipality (PostgreSQL; run on the coordinator).
        #[arg(long)]
        citus: bool,
        /// With --citus: run the calls (each table not distributed yet).
        #[arg(long, requires = "citus")]
        apply: bool,
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
    /// The job queue: list, retry or cancel jobs, chiefly the deployment's
    /// own (housekeeping), which no municipality's page shows.
    Jobs {
        #[command(subcommand)]
        action: JobsCommand,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// The jobs in one state (default: failed, the dead letter).
    List {
        /// 全国地方公共団体コード; empty (the default): the deployment's jobs.
        #[arg(long, default_value = "")]
        tenant: String,
        /// queued, running, done, failed or cancelled.
        #[arg(long, default_value = "failed")]
        state: String,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Queue a failed job again (再実行).
    Retry {
        id: String,
        #[arg(long, default_value = "")]
        tenant: String,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Cancel a queued job (取消).
    Cancel {
        id: String,
        #[arg(long, default_value = "")]
        tenant: String,
        #[arg(long)]
        database_url: Option<String>,
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

async fn run(cli: Cli) -> anyhow::Result<()> {
    use commands::*;
    let file = cli.config.as_deref();
    match cli.command {
        Command::Serve(a) => serve::serve_command(file, a.place()).await,
        Command::Migrate {
            database_url,
            citus,
            apply,
        } => {
            let citus = match (citus, apply) {
                (false, _) => None,
                (true, false) => Some(serve::Citus::Print),
                (true, true) => Some(serve::Citus::Apply),
            };
            serve::migrate(file, database_url, citus).await
        }
        Command::Demo {
            serve: a,
            applications,
            no_serve,
        } => serve::demo(file, a.place(), applications, no_serve).await,
        Command::Import {
            tenant,
            file: path,
            dry_run,
            database_url,
        } => {
            let a = catalogue::Import {
                tenant,
                path,
                dry_run,
                database_url,
            };
            catalogue::import(file, a).await
        }
        Command::Export {
            tenant,
            file: path,
            database_url,
        } => catalogue::export(file, tenant, path, database_url).await,
        Command::Audit { action } => match action {
            AuditCommand::Verify {
                tenant,
                database_url,
            } => audit::verify(file, tenant, database_url).await,
            AuditCommand::Export {
                tenant,
                from,
                to,
                file: path,
                database_url,
            } => {
                let a = audit::Export {
                    tenant,
                    from,
                    to,
                    path,
                    database_url,
                };
                audit::export(file, a).await
            }
        },
        Command::Keygen { id } => keys::keygen(&id),
        Command::Rekey { database_url } => keys::rekey(file, database_url).await,
        Command::OidcKeygen { out } => keys::oidc_keygen(out),
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
            let a = staff::Add {
                tenant,
                id,
                name,
                department,
                roles,
                database_url,
            };
            staff::add(file, a).await
        }
        Command::CheckConfig => check_config::run(file).await,
        Command::Jobs { action } => match action {
            JobsCommand::List {
                tenant,
                state,
                database_url,
            } => jobs::list(file, tenant, state, database_url).await,
            JobsCommand::Retry {
                id,
                tenant,
                database_url,
            } => jobs::act(file, tenant, id, true, database_url).await,
            JobsCommand::Cancel {
                id,
                tenant,
                database_url,
            } => jobs::act(file, tenant, id, false, database_url).await,
        },
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
