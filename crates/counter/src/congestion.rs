//! Congestion (混雑状況): how busy each counter is now, when it is usually
//! quiet (混雑予測, by weekday and hour from the last eight weeks), and the
//! history behind that forecast as open data (CSV).
//!
//! Everything comes from the tickets table. The history is counted per
//! day, hour (JST) and counter where the ticket was issued: tickets
//! issued, called and finished, and their waits from issue to the first
//! call. The forecast is the mean wait of each weekday and hour over the
//! 56 days before today, computed from exactly these rows, so anyone can
//! recompute it from the published CSV. Method: docs/COUNTER.md.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kernel::i18n::{self, Lang};
use kernel::tenant::TenantProfile;
use kernel::{AppError, AppResult, Db};
use serde::Serialize;
use sqlx::Row;
use time::{Date, Duration, Weekday};

use crate::queue::{self, CounterStatus};

/// The forecast looks back this many weeks (before today).
pub const FORECAST_WEEKS: i64 = 8;
/// Office hours are 8:30–17:15: the forecast has a row for each hour
/// from 8 (8:30–8:59) to 17 (17:00–17:15).
pub const FIRST_HOUR: u8 = 8;
pub const LAST_HOUR: u8 = 17;
/// A forecast cell with fewer called tickets than this shows no estimate.
pub const MIN_TICKETS: i64 = 3;
/// How many of the quietest times are recommended.
pub const BEST_TIMES: usize = 3;
/// The longest period one CSV covers.
pub const MAX_CSV_DAYS: i64 = 366;

/// How busy a counter is, by the wait for someone who comes now:
/// 空いています under 20 minutes, やや混雑 20 to 40, 混雑 over 40.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Free,
    Moderate,
    Crowded,
}

impl Band {
    pub fn of_minutes(minutes: i64) -> Band {
        if minutes < 20 {
            Band::Free
        } else if minutes <= 40 {
            Band::Moderate
        } else {
            Band::Crowded
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Free => "free",
            Band::Moderate => "moderate",
            Band::Crowded => "crowded",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Band::Free => "counter.congestion.band.free",
            Band::Moderate => "counter.congestion.band.moderate",
            Band::Crowded => "counter.congestion.band.crowded",
        }
    }

    /// A shape for the band, so colour is never the only cue: a circle,
    /// a triangle, a cross (○ △ × as on Japanese signs). Decorative: the
    /// label is always printed next to it.
    pub fn icon(self) -> &'static str {
        match self {
            Band::Free => {
                r#"<svg class="band__icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"><circle cx="8" cy="8" r="5.5" fill="none" stroke="currentColor" stroke-width="2.5"/></svg>"#
            }
            Band::Moderate => {
                r#"<svg class="band__icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"><polygon points="8,2 14.5,14 1.5,14" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linejoin="round"/></svg>"#
            }
            Band::Crowded => {
                r#"<svg class="band__icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"><path d="M3 3L13 13M13 3L3 13" stroke="currentColor" stroke-width="2.8" stroke-linecap="round"/></svg>"#
            }
        }
    }
}

pub fn weekday_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// The weekday's short name (月, Mon).
pub fn weekday_label(lang: Lang, w: Weekday) -> &'static str {
    i18n::t(
        lang,
        &format!("counter.congestion.weekday.{}", weekday_code(w)),
    )
}

const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

// ------------------------------------------------------------------ now

/// One counter now: the board's line with its band (none when closed).
#[derive(Clone, Debug, Serialize)]
pub struct Now {
    #[serde(flatten)]
    pub status: CounterStatus,
    pub name: kernel::i18n::Text,
    pub band: Option<Band>,
}

pub async fn now(db: &Db, t: &TenantProfile, now_ms: i64) -> AppResult<Vec<Now>> {
    Ok(queue::board(db, t.code.as_str(), now_ms)
        .await?
        .into_iter()
        .map(|status| Now {
            name: counter_name(t, &status.counter),
            band: status
                .open
                .then(|| Band::of_minutes(status.estimated_wait_minutes)),
            status,
        })
        .collect())
}

pub fn counter_name(t: &TenantProfile, code: &str) -> kernel::i18n::Text {
    t.counters
        .iter()
        .find(|c| c.code == code)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| kernel::i18n::Text::ja_only(code))
}

// -------------------------------------------------------------- history

/// One hour (JST) of one counter on one day. Counted by the counter the
/// tickets were issued for; waits are from issue to the first call, of
/// the tickets called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HourStats {
    pub date: Date,
    pub hour: u8,
    pub counter: String,
    pub issued: i64,
    pub called: i64,
    pub done: i64,
    pub wait_sum_ms: i64,
    pub wait_max_ms: Option<i64>,
}

fn day_key(d: Date) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(u8::from(d.month())) * 100 + i64::from(d.day())
}

fn date_of_key(key: i64) -> Option<Date> {
    let year = i32::try_from(key / 10_000).ok()?;
    let month = time::Month::try_from(u8::try_from(key / 100 % 100).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(key % 100).ok()?).ok()
}

/// The hours of every day from `from` to `to` (both included) with at
/// least one ticket, in order of day, counter and hour. One query.
pub async fn history(db: &Db, tenant: &str, from: Date, to: Date) -> AppResult<Vec<HourStats>> {
    // The hour in Japan: JST is UTC+9 all year.
    let rows = sqlx::query(
        "SELECT day, issued_counter, (issued_at + 32400000) / 3600000 % 24,
                COUNT(*), COUNT(first_called_at),
                SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END),
                CAST(COALESCE(SUM(first_called_at - issued_at), 0) AS BIGINT),
                MAX(first_called_at - issued_at)
         FROM tickets WHERE tenant = $1 AND day >= $2 AND day <= $3
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .bind(tenant)
    .bind(day_key(from))
    .bind(day_key(to))
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            let day: i64 = r.get(0);
            let hour: i64 = r.get(2);
            Ok(HourStats {
                date: date_of_key(day)
                    .ok_or_else(|| anyhow::anyhow!("ticket day {day} is not a date"))?,
                hour: u8::try_from(hour).map_err(anyhow::Error::from)?,
                counter: r.get(1),
                issued: r.get(3),
                called: r.get(4),
                done: r.get(5),
                wait_sum_ms: r.get(6),
                wait_max_ms: r.get(7),
            })
        })
        .collect()
}

// ------------------------------------------------------------- forecast

/// One weekday and hour of one counter over the forecast's weeks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub weekday: &'static str,
    pub hour: u8,
    pub tickets: i64,
    pub called: i64,
    /// Mean wait from issue to the first call; none with fewer than
    /// [`MIN_TICKETS`] called.
    pub mean_wait_minutes: Option<i64>,
    pub band: Option<Band>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CounterForecast {
    pub counter: String,
    /// Every weekday shown and hour, weekday by weekday.
    pub cells: Vec<Cell>,
    /// The quietest times (shortest mean wait), best first.
    pub best: Vec<Cell>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Forecast {
    /// The days the forecast is computed from (both included).
    pub from: String,
    pub to: String,
    /// The weekdays shown: Monday to Friday, and Saturday or Sunday when
    /// the history has tickets on them.
    pub weekdays: Vec<&'static str>,
    pub counters: Vec<CounterForecast>,
}

impl Forecast {
    pub fn counter(&self, code: &str) -> Option<&CounterForecast> {
        self.counters.iter().find(|c| c.counter == code)
    }
}

/// The forecast days before `today`: the [`FORECAST_WEEKS`] weeks up to
/// yesterday.
pub fn forecast_period(today: Date) -> (Date, Date) {
    (
        today - Duration::days(FORECAST_WEEKS * 7),
        today - Duration::days(1),
    )
}

/// The forecast of each counter from the history of the forecast days.
pub fn forecast(history: &[HourStats], counters: &[String], from: Date, to: Date) -> Forecast {
    let weekdays: Vec<Weekday> = WEEK
        .into_iter()
        .filter(|w| {
            !matches!(w, Weekday::Saturday | Weekday::Sunday)
                || history.iter().any(|h| h.date.weekday() == *w)
        })
        .collect();
    // (counter, weekday, hour) → (tickets, called, wait sum)
    let mut sums: HashMap<(&str, Weekday, u8), (i64, i64, i64)> = HashMap::new();
    for h in history {
        let e = sums
            .entry((h.counter.as_str(), h.date.weekday(), h.hour))
            .or_default();
        e.0 += h.issued;
        e.1 += h.called;
        e.2 += h.wait_sum_ms;
    }
    let counters = counters
        .iter()
        .map(|code| {
            let cells: Vec<Cell> = weekdays
                .iter()
                .flat_map(|w| (FIRST_HOUR..=LAST_HOUR).map(move |hour| (*w, hour)))
                .map(|(w, hour)| {
                    let (tickets, called, sum) = sums
                        .get(&(code.as_str(), w, hour))
                        .copied()
                        .unwrap_or_default();
                    let mean = (called >= MIN_TICKETS).then(|| round_minutes(sum, called));
                    Cell {
                        weekday: weekday_code(w),
                        hour,
                        tickets,
                        called,
                        mean_wait_minutes: mean,
                        band: mean.map(Band::of_minutes),
                    }
                })
                .collect();
            let mut best: Vec<Cell> = cells
                .iter()
                .filter(|c| c.mean_wait_minutes.is_some())
                .cloned()
                .collect();
            // Shortest wait first; the sort is stable, so ties keep the
            // week's order (earlier weekday, earlier hour).
            best.sort_by_key(|c| c.mean_wait_minutes);
            best.truncate(BEST_TIMES);
            CounterForecast {
                counter: code.clone(),
                cells,
                best,
            }
        })
        .collect();
    Forecast {
        from: from.to_string(),
        to: to.to_string(),
        weekdays: weekdays.into_iter().map(weekday_code).collect(),
        counters,
    }
}

/// `sum / n` milliseconds in whole minutes, rounded to the nearest.
fn round_minutes(sum_ms: i64, n: i64) -> i64 {
    if n <= 0 {
        return 0;
    }
    (sum_ms / n + 30_000) / 60_000
}

/// Forecasts computed once per tenant and day: they come from the days
/// before today, which do not change.
#[derive(Clone, Default)]
pub struct ForecastCache(Arc<Mutex<Forecasts>>);

/// Per tenant: the day computed for and its forecast.
type Forecasts = HashMap<String, (Date, Arc<Forecast>)>;

impl ForecastCache {
    pub async fn get(&self, db: &Db, t: &TenantProfile, now_ms: i64) -> AppResult<Arc<Forecast>> {
        let tenant = t.code.as_str();
        let today = kernel::clock::to_jst(now_ms).date();
        if let Some((day, f)) = self.lock().get(tenant) {
            if *day == today {
                return Ok(f.clone());
            }
        }
        let (from, to) = forecast_period(today);
        let rows = history(db, tenant, from, to).await?;
        let codes: Vec<String> = t.counters.iter().map(|c| c.code.clone()).collect();
        let f = Arc::new(forecast(&rows, &codes, from, to));
        self.lock().insert(tenant.to_string(), (today, f.clone()));
        Ok(f)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Forecasts> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

// ------------------------------------------------------------------ CSV

/// The days a CSV covers, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

/// The period of `from` and `to` as typed (和暦 or 西暦), each optional:
/// by default the [`FORECAST_WEEKS`] weeks up to today. A 400 whose
/// message names the field otherwise.
pub fn parse_period(from: Option<&str>, to: Option<&str>, today: Date) -> AppResult<Period> {
    let date = |value: Option<&str>, label_key: &str| -> AppResult<Option<Date>> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => jp::JpDate::parse(v).map(|d| Some(d.date())).map_err(|e| {
                AppError::BadRequest(i18n::parse_error(
                    Lang::Ja,
                    i18n::t(Lang::Ja, label_key),
                    &e,
                ))
            }),
        }
    };
    let to = date(to, "counter.csv.to")?.unwrap_or(today);
    let from = date(from, "counter.csv.from")?
        .unwrap_or_else(|| to - Duration::days(FORECAST_WEEKS * 7 - 1));
    if from > to {
        return Err(AppError::BadRequest(
            i18n::t(Lang::Ja, "counter.csv.from_after_to").into(),
        ));
    }
    if (to - from).whole_days() + 1 > MAX_CSV_DAYS {
        return Err(AppError::BadRequest(i18n::tf(
            Lang::Ja,
            "counter.csv.too_long",
            &[("days", &MAX_CSV_DAYS.to_string())],
        )));
    }
    Ok(Period { from, to })
}

/// The history as CSV for open data: UTF-8 with a byte order mark (Excel
/// reads it as UTF-8), one row per day, hour and counter with tickets,
/// no personal data and no ticket ids; waits only where at least
/// [`MIN_TICKETS`] people were called. Columns: docs/COUNTER.md.
pub fn csv(t: &TenantProfile, rows: &[HourStats]) -> AppResult<Vec<u8>> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let header: Vec<&str> = CSV_COLUMNS
            .iter()
            .map(|k| i18n::t(Lang::Ja, &format!("counter.csv.column.{k}")))
            .collect();
        w.write_record(&header).map_err(anyhow::Error::from)?;
        for h in rows {
            // Waits of fewer than MIN_TICKETS people are left blank: one
            // person's wait at, say, the おくやみ counter is about them.
            let shown = h.called >= MIN_TICKETS;
            let mean = shown.then(|| minutes_1dp(h.wait_sum_ms / h.called));
            w.write_record([
                t.code.as_str().to_string(),
                t.name.ja().to_string(),
                h.date.to_string(),
                weekday_label(Lang::Ja, h.date.weekday()).to_string(),
                h.hour.to_string(),
                h.counter.clone(),
                counter_name(t, &h.counter).ja().to_string(),
                h.issued.to_string(),
                h.called.to_string(),
                h.done.to_string(),
                mean.unwrap_or_default(),
                h.wait_max_ms
                    .filter(|_| shown)
                    .map(minutes_1dp)
                    .unwrap_or_default(),
            ])
            .map_err(anyhow::Error::from)?;
        }
        w.flush().map_err(anyhow::Error::from)?;
    }
    Ok(out)
}

/// The CSV's columns (their i18n keys under `counter.csv.column`).
pub const CSV_COLUMNS: [&str; 12] = [
    "tenant",
    "tenant_name",
    "date",
    "weekday",
    "hour",
    "counter",
    "counter_name",
    "issued",
    "called",
    "done",
    "mean_wait",
    "max_wait",
];

/// Milliseconds as minutes with one decimal (`12.5`).
fn minutes_1dp(ms: i64) -> String {
    let tenths = (ms + 3_000) / 6_000;
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn stats(date: Date, hour: u8, counter: &str, called: i64, mean_min: i64) -> HourStats {
        HourStats {
            date,
            hour,
            counter: counter.into(),
            issued: called + 1,
            called,
            done: called,
            wait_sum_ms: called * mean_min * 60_000,
            wait_max_ms: Some(mean_min * 2 * 60_000),
        }
    }

    #[test]
    fn csv_leaves_out_waits_of_fewer_than_three() {
        let t: TenantProfile =
            serde_json::from_str(include_str!("../../../data/demo/122289/tenant.json")).unwrap();
        let d = date!(2026 - 06 - 01);
        let out = csv(&t, &[stats(d, 9, "c2", 2, 10), stats(d, 10, "c2", 3, 10)]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].ends_with(",3,2,2,,"), "{}", lines[1]);
        assert!(lines[2].ends_with(",4,3,3,10.0,20.0"), "{}", lines[2]);
    }

    #[test]
    fn bands() {
        assert_eq!(Band::of_minutes(0), Band::Free);
        assert_eq!(Band::of_minutes(19), Band::Free);
        assert_eq!(Band::of_minutes(20), Band::Moderate);
        assert_eq!(Band::of_minutes(40), Band::Moderate);
        assert_eq!(Band::of_minutes(41), Band::Crowded);
    }

    #[test]
    fn forecast_means_by_weekday_and_hour() {
        // Two Mondays and a Tuesday.
        let h = vec![
            stats(date!(2026 - 06 - 01), 9, "c1", 10, 30),
            stats(date!(2026 - 06 - 08), 9, "c1", 30, 50),
            stats(date!(2026 - 06 - 02), 14, "c1", 4, 5),
            stats(date!(2026 - 06 - 02), 15, "c1", 2, 1),
            stats(date!(2026 - 06 - 02), 7, "c1", 9, 1),
        ];
        let f = forecast(
            &h,
            &["c1".into(), "c2".into()],
            date!(2026 - 05 - 01),
            date!(2026 - 06 - 30),
        );
        assert_eq!(f.weekdays, ["mon", "tue", "wed", "thu", "fri"]);
        let c1 = f.counter("c1").unwrap();
        assert_eq!(c1.cells.len(), 5 * 10, "five weekdays, 8 to 17 o'clock");
        let mon9 = c1
            .cells
            .iter()
            .find(|c| c.weekday == "mon" && c.hour == 9)
            .unwrap();
        // (10 × 30 + 30 × 50) / 40 = 45 minutes.
        assert_eq!(mon9.mean_wait_minutes, Some(45));
        assert_eq!(mon9.band, Some(Band::Crowded));
        assert_eq!(mon9.called, 40);
        // Too few tickets for an estimate; 7 o'clock is outside the table.
        let tue15 = c1
            .cells
            .iter()
            .find(|c| c.weekday == "tue" && c.hour == 15)
            .unwrap();
        assert_eq!(tue15.mean_wait_minutes, None);
        assert!(c1.cells.iter().all(|c| c.hour >= 8));
        assert_eq!(
            c1.best
                .iter()
                .map(|c| (c.weekday, c.hour))
                .collect::<Vec<_>>(),
            [("tue", 14), ("mon", 9)]
        );
        assert!(f.counter("c2").unwrap().best.is_empty());
        // A Saturday in the history adds Saturday, not Sunday.
        let mut h2 = h.clone();
        h2.push(stats(date!(2026 - 06 - 06), 10, "c1", 3, 3));
        let f2 = forecast(
            &h2,
            &["c1".into()],
            date!(2026 - 05 - 01),
            date!(2026 - 06 - 30),
        );
        assert_eq!(f2.weekdays, ["mon", "tue", "wed", "thu", "fri", "sat"]);
    }

    #[test]
    fn periods() {
        let today = date!(2026 - 06 - 15);
        let p = parse_period(None, None, today).unwrap();
        assert_eq!((p.from, p.to), (date!(2026 - 04 - 21), today));
        let p = parse_period(Some("令和8年6月1日"), Some("2026-06-07"), today).unwrap();
        assert_eq!(
            (p.from, p.to),
            (date!(2026 - 06 - 01), date!(2026 - 06 - 07))
        );
        let e = parse_period(Some("2026-13-01"), None, today).unwrap_err();
        assert!(
            matches!(&e, AppError::BadRequest(m) if m.contains("開始日（from）")),
            "{e:?}"
        );
        let e = parse_period(None, Some("きのう"), today).unwrap_err();
        assert!(matches!(&e, AppError::BadRequest(m) if m.contains("終了日（to）")));
        let e = parse_period(Some("2026-06-10"), Some("2026-06-01"), today).unwrap_err();
        assert!(matches!(&e, AppError::BadRequest(m) if m.contains("開始日（from）")));
        let e = parse_period(Some("2024-01-01"), None, today).unwrap_err();
        assert!(matches!(&e, AppError::BadRequest(m) if m.contains("366")));
        assert_eq!(minutes_1dp(750_000), "12.5");
        assert_eq!(minutes_1dp(0), "0.0");
        assert_eq!(minutes_1dp(59_999), "1.0");
    }
}
