//! `madoguchi audit verify` and `audit export`: the municipality's
//! hash-chained audit log checked, or a period of it as CSV for auditors.

use std::path::{Path, PathBuf};

use super::load_config;

pub async fn verify(
    file: Option<&Path>,
    tenant: String,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let c = load_config(file, None, database_url)?;
    let db = kernel::Db::connect(&c.database_url, 2).await?;
    match kernel::audit::verify(&db, &tenant).await? {
        kernel::audit::Verify::Intact { entries } => {
            println!(
                "監査ログは改ざんされていません（{tenant}: {entries}件） / audit chain intact"
            );
            Ok(())
        }
        kernel::audit::Verify::Broken { seq, reason } => {
            anyhow::bail!("監査ログの連鎖が {tenant} の第{seq}件目で壊れています（{reason}） / audit chain broken at entry {seq}")
        }
    }
}

pub struct Export {
    pub tenant: String,
    /// First day (和暦 or 西暦), Japan time.
    pub from: String,
    /// Last day, included.
    pub to: String,
    /// `-` for standard output.
    pub path: PathBuf,
    pub database_url: Option<String>,
}

pub async fn export(file: Option<&Path>, a: Export) -> anyhow::Result<()> {
    let c = load_config(file, None, a.database_url)?;
    let db = kernel::Db::connect(&c.database_url, 2).await?;
    let from_ms = jst_midnight_ms(&a.from, "開始日")?;
    let to_ms = jst_midnight_ms(&a.to, "終了日")? + 86_400_000;
    if to_ms <= from_ms {
        anyhow::bail!("終了日は開始日以降にしてください");
    }
    let n = if a.path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        kernel::audit::export_csv(&db, &a.tenant, from_ms, to_ms, &mut out).await?
    } else {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&a.path)?);
        let n = kernel::audit::export_csv(&db, &a.tenant, from_ms, to_ms, &mut f).await?;
        std::io::Write::flush(&mut f)?;
        n
    };
    eprintln!("{n} entries written");
    Ok(())
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
