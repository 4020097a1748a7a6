//! Import of a municipality's existing subscriber list (CSV with the
//! header `address,categories,language,consent_date`; categories
//! separated by `;`): all rows or none, each mistake named by its line;
//! the consent dates are kept (`consent_source = 'import'`). A dry run
//! checks without writing. An address already on the list (unsubscribed
//! ones included: their wish stands) or suppressed is a mistake of its
//! line. A check that reads the list (every dry run, and an import
//! refused for addresses listed or suppressed) is audited
//! (`mail.subscribers.import_check`): it tells staff about the people on
//! the list.

use std::collections::HashMap;

use jp::Email;
use kernel::audit::{self, AuditEntry};
use kernel::crypto::Vault;
use kernel::i18n::{self, Lang};
use kernel::{AppResult, Db};

pub const HEADER: [&str; 4] = ["address", "categories", "language", "consent_date"];
/// Rows one import takes at most.
pub const MAX_ROWS: usize = 50_000;

const DAY_MS: i64 = 86_400_000;
const JST_MS: i64 = 9 * 3_600_000;

/// One checked row.
#[derive(Clone, Debug)]
pub struct Row {
    pub line: usize,
    pub address: Email,
    pub categories: Vec<String>,
    pub lang: Lang,
    /// Midnight of the consent date in Japan (ms since the epoch).
    pub consent_at: i64,
}

/// What an import did, or would do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every row is fine: imported (or, in a dry run, would be).
    Ok { rows: usize },
    /// Nothing was imported: the mistakes, by line.
    Refused(Vec<String>),
}

/// A consent date `YYYY-MM-DD` as midnight in Japan, if it is one and not
/// after `today_ms`'s date in Japan.
fn consent_date(s: &str, now_ms: i64) -> Option<i64> {
    let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    let days =
        i64::from(d.to_julian_day() - time::Date::from_julian_day(2_440_588).ok()?.to_julian_day());
    let at = days * DAY_MS - JST_MS;
    let today_start = (now_ms + JST_MS).div_euclid(DAY_MS) * DAY_MS - JST_MS;
    (at <= today_start).then_some(at)
}

/// Checks the text's rows against the municipality's categories.
pub fn parse(
    lang: Lang,
    text: &str,
    categories: &[String],
    now_ms: i64,
) -> Result<Vec<Row>, Vec<String>> {
    let msg = |key: &str, args: &[(&str, &str)]| i18n::tf(lang, key, args);
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 1;
        let ln = line.to_string();
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(msg(
                    "mail.subscriptions.import_error.unreadable",
                    &[("line", &ln), ("detail", &e.to_string())],
                ));
                continue;
            }
        };
        let cells: Vec<&str> = rec.iter().map(str::trim).collect();
        if line == 1 {
            if cells != HEADER {
                errors.push(msg(
                    "mail.subscriptions.import_error.header",
                    &[("header", &HEADER.join(","))],
                ));
            }
            continue;
        }
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        if rows.len() + errors.len() >= MAX_ROWS {
            errors.push(msg(
                "mail.subscriptions.import_error.too_many",
                &[("max", &MAX_ROWS.to_string())],
            ));
            break;
        }
        if cells.len() != 4 {
            errors.push(msg(
                "mail.subscriptions.import_error.columns",
                &[("line", &ln), ("count", &cells.len().to_string())],
            ));
            continue;
        }
        let mut ok = true;
        let address = Email::parse(cells[0]).ok();
        if address.is_none() {
            errors.push(msg(
                "mail.subscriptions.import_error.address",
                &[("line", &ln), ("value", cells[0])],
            ));
            ok = false;
        }
        let cats: Vec<String> = cells[1]
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        if cats.is_empty() || cats.iter().any(|c| !categories.contains(c)) {
            errors.push(msg(
                "mail.subscriptions.import_error.categories",
                &[
                    ("line", &ln),
                    ("value", cells[1]),
                    ("known", &categories.join(";")),
                ],
            ));
            ok = false;
        }
        let row_lang = if cells[2].is_empty() {
            Some(Lang::Ja)
        } else {
            Lang::parse(cells[2])
        };
        if row_lang.is_none() {
            errors.push(msg(
                "mail.subscriptions.import_error.language",
                &[("line", &ln), ("value", cells[2])],
            ));
            ok = false;
        }
        let consent = consent_date(cells[3], now_ms);
        if consent.is_none() {
            errors.push(msg(
                "mail.subscriptions.import_error.consent_date",
                &[("line", &ln), ("value", cells[3])],
            ));
            ok = false;
        }
        if let Some(a) = &address {
            let key = a.as_str().to_lowercase();
            if let Some(first) = seen.get(&key) {
                errors.push(msg(
                    "mail.subscriptions.import_error.duplicate",
                    &[
                        ("line", &ln),
                        ("value", cells[0]),
                        ("first", &first.to_string()),
                    ],
                ));
                ok = false;
            } else {
                seen.insert(key, line);
            }
        }
        if let (true, Some(address), Some(lang), Some(consent_at)) =
            (ok, address, row_lang, consent)
        {
            let mut categories = cats;
            categories.sort();
            categories.dedup();
            rows.push(Row {
                line,
                address,
                categories,
                lang,
                consent_at,
            });
        }
    }
    if errors.is_empty() && rows.is_empty() {
        errors.push(msg("mail.subscriptions.import_error.empty", &[]));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Imports `text` into `tenant` (or only checks it: `dry_run`).
pub async fn import(
    db: &Db,
    vault: &Vault,
    tenant: &str,
    actor: &str,
    lang: Lang,
    text: &str,
    dry_run: bool,
) -> AppResult<Outcome> {
    let codes: Vec<String> = super::categories::active(db, tenant)
        .await?
        .into_iter()
        .map(|c| c.code)
        .collect();
    let now = kernel::clock::now_ms();
    let rows = match parse(lang, text, &codes, now) {
        Ok(r) => r,
        Err(e) => {
            if dry_run {
                audit_check(db, tenant, actor, now, 0, e.len()).await?;
            }
            return Ok(Outcome::Refused(e));
        }
    };
    // Addresses on the list already, and suppressed ones.
    let listed: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT address_hash FROM mail_subscribers WHERE tenant = $1")
            .bind(tenant)
            .fetch_all(db.read())
            .await?
            .into_iter()
            .collect();
    let suppressed: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT address_hash FROM mail_suppressions WHERE tenant = $1")
            .bind(tenant)
            .fetch_all(db.read())
            .await?
            .into_iter()
            .collect();
    let hashes: Vec<String> = rows
        .iter()
        .map(|r| crate::address::hash(vault, tenant, &r.address))
        .collect();
    let mut errors = Vec::new();
    for (r, h) in rows.iter().zip(&hashes) {
        let args = [
            ("line", r.line.to_string()),
            ("value", r.address.as_str().to_string()),
        ];
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if listed.contains(h) {
            errors.push(i18n::tf(
                lang,
                "mail.subscriptions.import_error.listed",
                &args,
            ));
        } else if suppressed.contains(h) {
            errors.push(i18n::tf(
                lang,
                "mail.subscriptions.import_error.suppressed",
                &args,
            ));
        }
    }
    if !errors.is_empty() || dry_run {
        audit_check(db, tenant, actor, now, rows.len(), errors.len()).await?;
    }
    if !errors.is_empty() {
        return Ok(Outcome::Refused(errors));
    }
    if dry_run {
        return Ok(Outcome::Ok { rows: rows.len() });
    }
    let mut tx = db.begin().await?;
    for (r, h) in rows.iter().zip(&hashes) {
        let id = kernel::ids::short_id();
        sqlx::query(
            "INSERT INTO mail_subscribers (tenant, id, address, address_hash, lang, state, consent_at, \
             consent_source, confirm_token_hash, confirm_expires_at, created_at, confirmed_at, unsubscribed_at) \
             VALUES ($1, $2, $3, $4, $5, 'active', $6, 'import', NULL, NULL, $7, NULL, NULL)",
        )
        .bind(tenant)
        .bind(&id)
        .bind(crate::address::seal(vault, tenant, &r.address))
        .bind(h)
        .bind(r.lang.code())
        .bind(r.consent_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for c in &r.categories {
            sqlx::query(
                "INSERT INTO mail_subscriptions (tenant, subscriber, category, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(tenant)
            .bind(&id)
            .bind(c)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new(actor, "mail.subscribers.import", "mail_subscribers")
                .detail(serde_json::json!({"rows": rows.len()})),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Ok { rows: rows.len() })
}

/// Records a check of a list against the subscribers (nothing imported).
async fn audit_check(
    db: &Db,
    tenant: &str,
    actor: &str,
    now: i64,
    rows: usize,
    problems: usize,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new(actor, "mail.subscribers.import_check", "mail_subscribers")
                .detail(serde_json::json!({"rows": rows, "problems": problems})),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000_000; // 2026-11-30 in Japan

    fn cats() -> Vec<String> {
        vec!["bosai".into(), "kosodate".into()]
    }

    #[test]
    fn consent_dates_are_midnight_in_japan_and_not_in_the_future() {
        // 2026-04-01 00:00 JST = 2026-03-31 15:00 UTC.
        assert_eq!(consent_date("2026-04-01", NOW), Some(1_774_969_200_000));
        assert_eq!(consent_date("2099-01-01", NOW), None);
        assert_eq!(consent_date("2026-02-30", NOW), None);
        assert_eq!(consent_date("2026/04/01", NOW), None);
    }

    #[test]
    fn good_rows_parse() {
        let rows = parse(
            Lang::Ja,
            "\u{feff}address,categories,language,consent_date\nA@example.jp,bosai;kosodate,en,2020-01-02\nb@example.jp,bosai,,2021-03-04\n",
            &cats(),
            NOW,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].categories, ["bosai", "kosodate"]);
        assert_eq!(rows[0].lang, Lang::En);
        assert_eq!(rows[1].lang, Lang::Ja);
    }

    #[test]
    fn every_mistake_is_named_by_its_line() {
        let e = parse(
            Lang::Ja,
            "address,categories,language,consent_date\nnot-an-address,bosai,ja,2020-01-02\nc@example.jp,sports,ja,2020-01-02\nd@example.jp,bosai,xx,2020-01-02\ne@example.jp,bosai,ja,yesterday\nE@example.jp,bosai,ja,2020-01-02\nf@example.jp,bosai\n",
            &cats(),
            NOW,
        )
        .unwrap_err();
        assert_eq!(e.len(), 6, "{e:?}");
        assert!(
            e[0].starts_with("2行目") && e[0].contains("not-an-address"),
            "{}",
            e[0]
        );
        assert!(
            e[1].starts_with("3行目") && e[1].contains("sports"),
            "{}",
            e[1]
        );
        assert!(e[2].starts_with("4行目") && e[2].contains("xx"), "{}", e[2]);
        assert!(
            e[3].starts_with("5行目") && e[3].contains("yesterday"),
            "{}",
            e[3]
        );
        assert!(
            e[4].starts_with("6行目") && e[4].contains("5行目"),
            "{}",
            e[4]
        );
        assert!(e[5].starts_with("7行目"), "{}", e[5]);
        let e = parse(Lang::Ja, "mail,cats\n", &cats(), NOW).unwrap_err();
        assert!(
            e[0].contains("address,categories,language,consent_date"),
            "{e:?}"
        );
    }
}
