//! `madoguchi jobs list / retry / cancel`: the job queue for the operator
//! of the deployment, chiefly its deployment-wide jobs (tenant `''`,
//! housekeeping), which no municipality's page shows. A municipality's
//! jobs are on its system administrator's page (ジョブ), where each action
//! is audited; here the operator's actions are logged.

use std::path::Path;

use kernel::jobs::{store, JobState};

use super::load_config;

async fn connect(file: Option<&Path>, database_url: Option<String>) -> anyhow::Result<kernel::Db> {
    let c = load_config(file, None, database_url)?;
    kernel::Db::connect(&c.database_url, 2).await
}

fn state_of(s: &str) -> anyhow::Result<JobState> {
    JobState::parse(s).ok_or_else(|| {
        anyhow::anyhow!(
            "状態は queued, running, done, failed, cancelled のいずれかを指定してください"
        )
    })
}

/// Prints the jobs of `tenant` ('' = the deployment's) in `state`, one a line.
pub async fn list(
    file: Option<&Path>,
    tenant: String,
    state: String,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let state = state_of(&state)?;
    let db = connect(file, database_url).await?;
    let rows = store::list(&db, &tenant, state, 1000).await?;
    println!("id\tkind\tattempts\trun_at (JST)\tlast_error");
    for j in &rows {
        println!(
            "{}\t{}\t{}/{}\t{}\t{}",
            j.id,
            j.kind,
            j.attempts,
            j.max_attempts,
            kernel::clock::format_jst(j.run_at),
            j.last_error.as_deref().unwrap_or("")
        );
    }
    eprintln!("{} jobs", rows.len());
    Ok(())
}

/// Retries a failed job or cancels a queued one.
pub async fn act(
    file: Option<&Path>,
    tenant: String,
    id: String,
    retry: bool,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let db = connect(file, database_url).await?;
    if store::get(&db, &tenant, &id).await?.is_none() {
        anyhow::bail!("ジョブ {id} はありません（tenant '{tenant}'）");
    }
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let changed = if retry {
        store::requeue(&mut tx, &tenant, &id, now).await?
    } else {
        store::cancel(&mut tx, &tenant, &id, now).await?
    };
    if !changed {
        anyhow::bail!(if retry {
            "失敗したジョブだけを再実行できます"
        } else {
            "待機中のジョブだけを取り消せます"
        });
    }
    tx.commit().await?;
    let what = if retry { "retried" } else { "cancelled" };
    tracing::info!(job = %id, tenant = %tenant, "job {what} by the operator");
    println!("{id}: {what}");
    Ok(())
}
