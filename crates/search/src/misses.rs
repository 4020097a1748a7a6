//! Queries that found nothing (検索ゼロ件) and answers given with low
//! confidence (自信なし: the best page matched only part of the question's
//! words), for staff: counted per folded query so the FAQ grows where
//! residents struggle. Digits are masked
//! before anything is stored: residents type phone numbers, receipt and
//! My Number digits into search boxes.

use kernel::{AppResult, Db};
use serde::Serialize;
use sqlx::Row;

use crate::text;

/// Masks every run of two or more digits (after width folding) with ＊.
pub fn mask_digits(s: &str) -> String {
    let folded = jp::fold_width(s);
    let chars: Vec<char> = folded.chars().collect();
    let mut out = String::with_capacity(folded.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j - i >= 2 {
                out.push('＊');
            } else {
                out.push(chars[i]);
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Why a query is logged for staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissReason {
    /// Nothing was found (or the chat declined).
    NoResults,
    /// An answer was given, but its best page matched less than
    /// [`crate::CONFIDENT_COVERAGE`] of the question's words.
    LowConfidence,
}

impl MissReason {
    pub fn code(self) -> &'static str {
        match self {
            MissReason::NoResults => "no_results",
            MissReason::LowConfidence => "low_confidence",
        }
    }

    pub fn parse(s: &str) -> MissReason {
        match s {
            "low_confidence" => MissReason::LowConfidence,
            _ => MissReason::NoResults,
        }
    }

    /// The message key of its label on the staff page.
    pub fn label(self) -> &'static str {
        match self {
            MissReason::NoResults => "search.staff.reason_no_results",
            MissReason::LowConfidence => "search.staff.reason_low_confidence",
        }
    }
}

/// Logs a query that found nothing or was answered with low confidence.
/// `channel` is where it was typed: `search`, `chat`, `api`. The latest
/// reason is kept.
pub async fn record_miss(
    db: &Db,
    tenant: &str,
    query: &str,
    channel: &str,
    reason: MissReason,
) -> AppResult<()> {
    let sample: String = mask_digits(query.trim())
        .chars()
        .take(crate::MAX_QUERY_CHARS)
        .collect();
    let folded = text::fold(&sample);
    if folded.is_empty() {
        return Ok(());
    }
    let now = kernel::clock::now_ms();
    sqlx::query(
        "INSERT INTO search_misses (tenant, folded, sample, channel, count, first_at, last_at, reason)
         VALUES ($1, $2, $3, $4, 1, $5, $5, $6)
         ON CONFLICT (tenant, folded) DO UPDATE SET count = search_misses.count + 1,
           last_at = excluded.last_at, sample = excluded.sample, channel = excluded.channel,
           reason = excluded.reason",
    )
    .bind(tenant)
    .bind(&folded)
    .bind(&sample)
    .bind(channel)
    .bind(now)
    .bind(reason.code())
    .execute(db.write())
    .await?;
    Ok(())
}

#[derive(Clone, Debug, Serialize)]
pub struct Miss {
    pub folded: String,
    pub sample: String,
    pub channel: String,
    pub reason: MissReason,
    pub count: i64,
    pub first_at: i64,
    pub last_at: i64,
}

/// Open misses, most frequent first (dismissed ones come back when
/// residents miss again after the dismissal).
pub async fn ranked(db: &Db, tenant: &str, limit: i64) -> AppResult<Vec<Miss>> {
    let rows = sqlx::query(
        "SELECT folded, sample, channel, count, first_at, last_at, reason FROM search_misses
         WHERE tenant = $1 AND (dismissed_at IS NULL OR last_at > dismissed_at)
         ORDER BY count DESC, last_at DESC LIMIT $2",
    )
    .bind(tenant)
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Miss {
            folded: r.get(0),
            sample: r.get(1),
            channel: r.get(2),
            reason: MissReason::parse(&r.get::<String, _>(6)),
            count: r.get(3),
            first_at: r.get(4),
            last_at: r.get(5),
        })
        .collect())
}

/// Marks a miss as handled; returns false if there is no such miss.
pub async fn dismiss(db: &Db, tenant: &str, folded: &str, actor: &str) -> AppResult<bool> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let done =
        sqlx::query("UPDATE search_misses SET dismissed_at = $3 WHERE tenant = $1 AND folded = $2")
            .bind(tenant)
            .bind(folded)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
    if done {
        kernel::audit::append(
            &mut tx,
            tenant,
            now,
            &[
                kernel::audit::AuditEntry::new(actor, "search.miss.dismiss", "search_misses")
                    .detail(serde_json::json!({ "query": folded })),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_masked() {
        assert_eq!(mask_digits("電話 090-1234-5678"), "電話 ＊-＊-＊");
        assert_eq!(mask_digits("１２３４５６７８９０１２ 住民票"), "＊ 住民票");
        assert_eq!(mask_digits("第2子"), "第2子");
    }
}
