//! A municipality's slip settings: 請求書発行企業コード (the barcode's
//! biller), 収納機関番号 (the eL番号's collector) and the 納付区分 of each
//! subject. Set by a Treasurer (or SystemAdmin, who holds the role), every
//! change audited; bad input names its field (or the line of the 納付区分
//! list) in Japanese and changes nothing.

use std::collections::BTreeMap;

use kernel::audit::{self, AuditEntry};
use kernel::error::FieldError;
use kernel::i18n::{self, Lang};
use kernel::{AppError, AppResult, Db};
use serde_json::json;
use sqlx::Row;

use crate::el_number::{self, CollectorNumber};
use crate::gs1::BillerCode;

/// A subject code as charges carry it (`kokuho`, `fee.juminhyo`).
fn is_subject(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The checked settings of one municipality.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlipSettings {
    pub biller: BillerCode,
    pub collector: CollectorNumber,
    /// Subject code → 納付区分.
    pub classes: BTreeMap<String, String>,
}

impl SlipSettings {
    /// The 納付区分 of `subject` (`000` when none is set: the eL番号 and
    /// barcode still carry the 納付番号 that names the charge).
    pub fn class_of(&self, subject: &str) -> &str {
        self.classes.get(subject).map_or("000", String::as_str)
    }

    /// The 納付区分 list as the form shows it: `subject,class` a line.
    pub fn classes_text(&self) -> String {
        self.classes
            .iter()
            .map(|(s, c)| format!("{s},{c}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What the form sent.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct SettingsInput {
    #[serde(default)]
    pub biller_code: String,
    #[serde(default)]
    pub collector_number: String,
    #[serde(default)]
    pub classes: String,
}

fn field(name: &str, message: String) -> FieldError {
    FieldError {
        field: name.into(),
        message,
    }
}

/// Checks the form: each bad field (each bad line of the list) named.
pub fn check(lang: Lang, input: &SettingsInput) -> Result<SlipSettings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let biller = BillerCode::parse(&input.biller_code)
        .map_err(|_| {
            errors.push(field(
                "biller_code",
                i18n::t(lang, "payments.slips.settings.bad_biller").into(),
            ))
        })
        .ok();
    let collector = CollectorNumber::parse(&input.collector_number)
        .map_err(|_| {
            errors.push(field(
                "collector_number",
                i18n::t(lang, "payments.slips.settings.bad_collector").into(),
            ))
        })
        .ok();
    let mut classes = BTreeMap::new();
    for (i, raw) in input.classes.lines().enumerate() {
        let line = jp::fold_width(raw.trim());
        if line.is_empty() {
            continue;
        }
        let n = (i + 1).to_string();
        let parsed = line.split_once(',').and_then(|(s, c)| {
            let s = s.trim();
            let c = el_number::parse_class(c).ok()?;
            is_subject(s).then(|| (s.to_string(), c))
        });
        match parsed {
            None => errors.push(field(
                "classes",
                i18n::tf(
                    lang,
                    "payments.slips.settings.bad_class_line",
                    &[("line", &n)],
                ),
            )),
            Some((s, c)) => {
                if classes.insert(s.clone(), c).is_some() {
                    errors.push(field(
                        "classes",
                        i18n::tf(
                            lang,
                            "payments.slips.settings.duplicate_subject",
                            &[("line", &n), ("subject", &s)],
                        ),
                    ));
                }
            }
        }
    }
    match (biller, collector) {
        (Some(biller), Some(collector)) if errors.is_empty() => Ok(SlipSettings {
            biller,
            collector,
            classes,
        }),
        _ => Err(errors),
    }
}

/// The settings of `tenant`, if set.
pub async fn load(db: &Db, tenant: &str) -> AppResult<Option<SlipSettings>> {
    let row = sqlx::query(
        "SELECT biller_code, collector_number FROM payment_slip_settings WHERE tenant = $1",
    )
    .bind(tenant)
    .fetch_optional(db.read())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let stored = |e| AppError::Internal(anyhow::anyhow!("stored slip settings of {tenant}: {e}"));
    let biller = BillerCode::parse(&r.get::<String, _>("biller_code")).map_err(stored)?;
    let collector =
        CollectorNumber::parse(&r.get::<String, _>("collector_number")).map_err(|e| {
            AppError::Internal(anyhow::anyhow!("stored slip settings of {tenant}: {e}"))
        })?;
    let rows = sqlx::query(
        "SELECT subject, class_code FROM payment_slip_classes WHERE tenant = $1 ORDER BY subject",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    let classes = rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>("subject"),
                r.get::<String, _>("class_code"),
            )
        })
        .collect();
    Ok(Some(SlipSettings {
        biller,
        collector,
        classes,
    }))
}

/// Checks and stores the settings of `tenant`, replacing what was there,
/// with an audit entry saying what they became.
pub async fn save(
    db: &Db,
    tenant: &str,
    actor: &str,
    lang: Lang,
    input: &SettingsInput,
    now: i64,
) -> AppResult<SlipSettings> {
    let s = check(lang, input).map_err(AppError::Validation)?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO payment_slip_settings (tenant, biller_code, collector_number, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant) DO UPDATE SET biller_code = excluded.biller_code, \
         collector_number = excluded.collector_number, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(tenant)
    .bind(s.biller.as_str())
    .bind(s.collector.as_str())
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM payment_slip_classes WHERE tenant = $1")
        .bind(tenant)
        .execute(&mut *tx)
        .await?;
    for (subject, class) in &s.classes {
        sqlx::query(
            "INSERT INTO payment_slip_classes (tenant, subject, class_code) VALUES ($1, $2, $3)",
        )
        .bind(tenant)
        .bind(subject)
        .bind(class)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new(actor, "payments.slips.settings", "payment_slip_settings").detail(
                json!({
                    "biller_code": s.biller.as_str(),
                    "collector_number": s.collector.as_str(),
                    "classes": s.classes,
                }),
            ),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(b: &str, c: &str, classes: &str) -> SettingsInput {
        SettingsInput {
            biller_code: b.into(),
            collector_number: c.into(),
            classes: classes.into(),
        }
    }

    #[test]
    fn good_settings_are_read_with_full_width_digits() {
        let s = check(
            Lang::Ja,
            &input("９１２３４５", "01234", "kokuho,001\n\nfee.juminhyo, 002\n"),
        )
        .unwrap();
        assert_eq!(s.biller.as_str(), "912345");
        assert_eq!(s.class_of("kokuho"), "001");
        assert_eq!(s.class_of("fee.juminhyo"), "002");
        assert_eq!(s.class_of("other"), "000");
        assert_eq!(s.classes_text(), "fee.juminhyo,002\nkokuho,001");
    }

    #[test]
    fn each_bad_field_and_line_is_named() {
        let errs = check(
            Lang::Ja,
            &input("12345", "1234x", "kokuho,01\nkokuho,001\nkokuho,002"),
        )
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["biller_code", "collector_number", "classes", "classes"]
        );
        assert!(
            errs[0].message.contains("請求書発行企業コード"),
            "{}",
            errs[0].message
        );
        assert!(
            errs[1].message.contains("収納機関番号"),
            "{}",
            errs[1].message
        );
        assert!(errs[2].message.contains("1行目"), "{}", errs[2].message);
        assert!(
            errs[3].message.contains("3行目") && errs[3].message.contains("kokuho"),
            "{}",
            errs[3].message
        );
    }
}
