//! `madoguchi serve`, `demo` and `migrate`.

use std::path::Path;

use server::{demo, App};

use super::{init_logging, load_config, load_config_unchecked};

/// Where to listen and what to store in, from the command line.
pub struct Place {
    pub bind: Option<String>,
    pub database_url: Option<String>,
}

pub async fn serve_command(file: Option<&Path>, place: Place) -> anyhow::Result<()> {
    let c = load_config(file, place.bind, place.database_url)?;
    init_logging(&c.log);
    serve(App::start(c).await?, false).await
}

/// What `migrate --citus` does after migrating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Citus {
    /// Print the calls (SQL, one per line; a comment per table that stays
    /// on the coordinator).
    Print,
    /// Run them.
    Apply,
}

pub async fn migrate(
    file: Option<&Path>,
    database_url: Option<String>,
    citus: Option<Citus>,
) -> anyhow::Result<()> {
    let c = load_config(file, None, database_url)?;
    init_logging(&c.log);
    let db = kernel::Db::connect(&c.database_url, 2).await?;
    if citus.is_some() && db.backend() != kernel::db::Backend::Postgres {
        anyhow::bail!(
            "--citus は PostgreSQL（Citus のコーディネーター）のデータベースにだけ使えます"
        );
    }
    let r = kernel::migrate::run(&db).await?;
    match citus {
        None => println!("applied: {:?}; already applied: {}", r.applied, r.already),
        // Only SQL on standard output, so that it can be piped to psql.
        Some(Citus::Print) => {
            let tables = kernel::schema::postgres_tables(&db).await?;
            let plan = kernel::schema::citus_plan(&tables).map_err(|t| {
                anyhow::anyhow!(
                    "Citus での配置が決まっていないテーブルがあります（kernel::schema::TABLES）: {}",
                    t.join(", ")
                )
            })?;
            eprintln!("applied: {:?}; already applied: {}", r.applied, r.already);
            println!("-- madoguchi: distribute the schema by municipality (run on the Citus coordinator)");
            for step in plan {
                println!("{}", step.line());
            }
        }
        Some(Citus::Apply) => {
            eprintln!("applied: {:?}; already applied: {}", r.applied, r.already);
            for call in kernel::schema::distribute(&db).await? {
                println!("{call};");
            }
        }
    }
    Ok(())
}

pub async fn demo(
    file: Option<&Path>,
    place: Place,
    applications: usize,
    no_serve: bool,
) -> anyhow::Result<()> {
    let mut c = load_config_unchecked(file, place.bind, place.database_url)?;
    // The demo is development mode: published accounts, the development
    // identity provider, a key kept in the database.
    c.mode = kernel::config::Mode::Development;
    c.dev_identity_provider = true;
    c.demo_registry = true;
    c.validate()?;
    init_logging(&c.log);
    println!("Database: {}", c.redacted_database_url());
    let app = App::start(c).await?;
    let r = demo::load(&app, applications).await?;
    println!(
        "Demo data: {} municipalities, {} procedures new, {} FAQ entries new, {} applications new ({} already there), {} counter tickets of past days new, {} translations newly marked machine-assisted (unreviewed)",
        r.tenants, r.procedures_created, r.faq_created, r.applications_created, r.applications_existing, r.tickets_created, r.translations_marked
    );
    if no_serve {
        return Ok(());
    }
    serve(app, true).await
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
        print_demo_addresses(&app, addr).await?;
    }
    println!("Press Ctrl-C to stop.");
    server::serve(app, listener).await
}

async fn print_demo_addresses(app: &App, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    for t in kernel::tenant::list(&app.db).await? {
        println!("  {} portal:      http://{addr}/t/{}", t.name.ja(), t.code);
        println!(
            "  {} staff:       http://{addr}/t/{}/staff/sign-in",
            t.name.ja(),
            t.code
        );
    }
    println!("  demo staff accounts: dx-admin, reviewer, approver, clerk, kodomo, security, treasurer — password: {} (demo only)", demo::DEMO_PASSWORD);
    println!("  second factor: authenticator app with secret {} (the sign-in page shows the current code in demo mode)", identity::DEMO_TOTP_SECRET);
    println!("  API: http://{addr}/api/openapi.json   health: http://{addr}/healthz");
    Ok(())
}
