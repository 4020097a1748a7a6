//! Scheduled jobs, once per deployment: each schedule is a row of
//! `job_schedules` (tenant `''`) with its next slot. Every server's
//! scheduler looks for due rows; the one whose compare-and-set on
//! `next_run_at` succeeds enqueues the slot's job in the same transaction
//! (dedupe key `<name>@<slot>`), so a slot runs once however many servers
//! see it. Slots missed while no server ran are caught up by one run.

use serde_json::Value;
use sqlx::Row;

use super::{store, JobSpec};
use crate::db::Db;

/// How often a schedule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Every {
    /// Every `n` minutes, at the multiples of `n` minutes since the epoch
    /// (so every server computes the same slots).
    Minutes(u32),
    /// Every day at this time in Japan (Asia/Tokyo, UTC+9, no daylight
    /// saving time).
    DailyAt { hour: u8, minute: u8 },
}

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const JST_MS: i64 = 9 * 3_600_000;

impl Every {
    /// The first slot strictly after `now` (ms since the epoch).
    pub fn next_after(self, now: i64) -> i64 {
        match self {
            Every::Minutes(n) => {
                let step = i64::from(n.max(1)) * MINUTE_MS;
                (now.div_euclid(step) + 1) * step
            }
            Every::DailyAt { hour, minute } => {
                let offset = (i64::from(hour.min(23)) * 60 + i64::from(minute.min(59))) * MINUTE_MS;
                let day_start_jst = (now + JST_MS).div_euclid(DAY_MS) * DAY_MS - JST_MS;
                let today = day_start_jst + offset;
                if today > now {
                    today
                } else {
                    today + DAY_MS
                }
            }
        }
    }

    /// The rule as stored (`every 10m`, `daily 03:00 Asia/Tokyo`).
    pub fn rule(self) -> String {
        match self {
            Every::Minutes(n) => format!("every {n}m"),
            Every::DailyAt { hour, minute } => format!("daily {hour:02}:{minute:02} Asia/Tokyo"),
        }
    }
}

/// One schedule: a job of `kind` with `payload` at every slot of `every`.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub name: &'static str,
    pub every: Every,
    pub kind: &'static str,
    pub payload: Value,
}

/// Writes each schedule's row if missing, and starts a schedule whose rule
/// or kind changed again from its next slot.
pub async fn register(db: &Db, schedules: &[Schedule], now: i64) -> Result<(), sqlx::Error> {
    for s in schedules {
        let rule = s.every.rule();
        let next = s.every.next_after(now);
        sqlx::query(
            "INSERT INTO job_schedules (tenant, name, kind, rule, next_run_at) \
             VALUES ('', $1, $2, $3, $4) ON CONFLICT (tenant, name) DO NOTHING",
        )
        .bind(s.name)
        .bind(s.kind)
        .bind(&rule)
        .bind(next)
        .execute(db.write())
        .await?;
        sqlx::query(
            "UPDATE job_schedules SET kind = $1, rule = $2, next_run_at = $3 \
             WHERE tenant = '' AND name = $4 AND (kind <> $1 OR rule <> $2)",
        )
        .bind(s.kind)
        .bind(&rule)
        .bind(next)
        .bind(s.name)
        .execute(db.write())
        .await?;
    }
    Ok(())
}

/// Enqueues the job of every due slot this server wins; returns how many.
pub async fn tick(db: &Db, schedules: &[Schedule], now: i64) -> Result<usize, sqlx::Error> {
    if schedules.is_empty() {
        return Ok(0);
    }
    let due = sqlx::query(
        "SELECT name, next_run_at FROM job_schedules WHERE tenant = '' AND next_run_at <= $1",
    )
    .bind(now)
    .fetch_all(db.read())
    .await?;
    let mut enqueued = 0;
    for r in due {
        let (name, slot): (String, i64) = (r.get(0), r.get(1));
        let Some(s) = schedules.iter().find(|s| s.name == name) else {
            continue;
        };
        let mut tx = db.begin().await?;
        let won = sqlx::query(
            "UPDATE job_schedules SET next_run_at = $1, last_run_at = $2 \
             WHERE tenant = '' AND name = $3 AND next_run_at = $2",
        )
        .bind(s.every.next_after(now))
        .bind(slot)
        .bind(s.name)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if won {
            let spec =
                JobSpec::new("", s.kind, s.payload.clone()).dedupe(format!("{}@{slot}", s.name));
            store::insert(&mut tx, &spec, now).await?;
            enqueued += 1;
        }
        tx.commit().await?;
    }
    Ok(enqueued)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 00:00 JST = 2026-12-06 15:00 UTC.
    const DEC7_JST: i64 = 1_796_569_200_000;

    #[test]
    fn minutes_are_aligned_slots() {
        let every = Every::Minutes(10);
        assert_eq!(every.next_after(0), 600_000);
        assert_eq!(every.next_after(599_999), 600_000);
        assert_eq!(every.next_after(600_000), 1_200_000);
    }

    #[test]
    fn daily_at_is_tokyo_time() {
        let at3 = Every::DailyAt { hour: 3, minute: 0 };
        // Midnight in Tokyo → 03:00 the same day in Tokyo (18:00 UTC the day before).
        assert_eq!(at3.next_after(DEC7_JST), DEC7_JST + 3 * 3_600_000);
        // Exactly at the slot → the next day.
        assert_eq!(
            at3.next_after(DEC7_JST + 3 * 3_600_000),
            DEC7_JST + DAY_MS + 3 * 3_600_000
        );
        // 23:30 in Tokyo → 03:00 the next day.
        assert_eq!(
            at3.next_after(DEC7_JST + 23 * 3_600_000 + 30 * 60_000),
            DEC7_JST + DAY_MS + 3 * 3_600_000
        );
        assert_eq!(at3.rule(), "daily 03:00 Asia/Tokyo");
    }
}
