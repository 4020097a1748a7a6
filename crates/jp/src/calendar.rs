//! 開庁日: the days a city hall's counters are open. Closed on Saturdays
//! and Sundays, on the national holidays (国民の祝日, 振替休日 and 国民の
//! 休日, from `data/holidays.tsv`, built by `scripts/build-holidays.py`
//! from the Cabinet Office's list as the PyPI `holidays` package carries
//! it) and over the new year (年末年始, 12月29日–1月3日, 行政機関の休日に関する
//! 法律); each municipality adds its own closed days and its open ones
//! (休日開庁) in its profile.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use time::{Date, Month, Weekday};

use crate::JpDate;

const DATA: &str = include_str!("../data/holidays.tsv");

static HOLIDAYS: LazyLock<BTreeMap<Date, &'static str>> = LazyLock::new(|| {
    DATA.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (d, name) = l.split_once('\t')?;
            Some((JpDate::parse(d).ok()?.date(), name))
        })
        .collect()
});

/// The years the holiday data covers (`2020..=2030`).
pub fn holiday_years() -> std::ops::RangeInclusive<i32> {
    let first = HOLIDAYS.keys().next().map_or(0, |d| d.year());
    let last = HOLIDAYS.keys().next_back().map_or(0, |d| d.year());
    first..=last
}

/// The national holiday on a date (`成人の日`), if it is one.
pub fn holiday(date: Date) -> Option<&'static str> {
    HOLIDAYS.get(&date).copied()
}

/// Why the offices are closed on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    Weekend(Weekday),
    Holiday(&'static str),
    NewYear,
    /// A closed day of the municipality's own.
    Municipal,
}

/// One municipality's office calendar: the national rules plus its own
/// exceptions.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OfficeCalendar {
    /// Days closed besides weekends, holidays and the new year.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed: Vec<JpDate>,
    /// Days open although the rules close them (休日開庁, e.g. a Sunday
    /// in the moving season).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open: Vec<JpDate>,
}

impl OfficeCalendar {
    /// Whether the counters are open on a date.
    pub fn is_open(&self, date: Date) -> bool {
        self.closed_because(date).is_none()
    }

    /// Why the counters are closed on a date, or `None` when they are open.
    pub fn closed_because(&self, date: Date) -> Option<Closed> {
        let on = |list: &[JpDate]| list.iter().any(|d| d.date() == date);
        if on(&self.open) {
            return None;
        }
        if on(&self.closed) {
            return Some(Closed::Municipal);
        }
        let wd = date.weekday();
        if matches!(wd, Weekday::Saturday | Weekday::Sunday) {
            return Some(Closed::Weekend(wd));
        }
        if let Some(name) = holiday(date) {
            return Some(Closed::Holiday(name));
        }
        let (m, d) = (date.month(), date.day());
        if (m == Month::December && d >= 29) || (m == Month::January && d <= 3) {
            return Some(Closed::NewYear);
        }
        None
    }

    /// A day both in the open and the closed list, if any.
    pub fn contradiction(&self) -> Option<JpDate> {
        self.open.iter().find(|d| self.closed.contains(d)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn real_days_of_2026() {
        let c = OfficeCalendar::default();
        assert_eq!(
            c.closed_because(date!(2026 - 01 - 12)),
            Some(Closed::Holiday("成人の日"))
        );
        assert_eq!(
            c.closed_because(date!(2026 - 09 - 22)),
            Some(Closed::Holiday("国民の休日"))
        );
        assert_eq!(
            c.closed_because(date!(2026 - 05 - 06)),
            Some(Closed::Holiday("振替休日"))
        );
        assert_eq!(
            c.closed_because(date!(2026 - 12 - 29)),
            Some(Closed::NewYear)
        );
        assert_eq!(
            c.closed_because(date!(2026 - 01 - 02)),
            Some(Closed::NewYear)
        );
        assert_eq!(
            c.closed_because(date!(2026 - 04 - 18)),
            Some(Closed::Weekend(Weekday::Saturday))
        );
        // An ordinary Monday, and the days around the holidays.
        assert!(c.is_open(date!(2026 - 04 - 20)));
        assert!(c.is_open(date!(2026 - 01 - 13)));
        assert!(c.is_open(date!(2026 - 09 - 24)));
        assert!(c.is_open(date!(2026 - 12 - 28)));
        assert!(c.is_open(date!(2027 - 01 - 04)));
        assert_eq!(holiday_years(), 2020..=2030);
    }

    #[test]
    fn municipal_exceptions_come_first() {
        let c: OfficeCalendar = serde_json::from_value(serde_json::json!({
            "closed": ["2026-04-20"],
            "open": ["2026-03-29", "令和8年4月18日"]
        }))
        .unwrap();
        assert_eq!(
            c.closed_because(date!(2026 - 04 - 20)),
            Some(Closed::Municipal)
        );
        assert!(c.is_open(date!(2026 - 03 - 29)), "休日開庁 on a Sunday");
        assert!(c.is_open(date!(2026 - 04 - 18)));
        assert!(!c.is_open(date!(2026 - 04 - 25)));
        assert_eq!(c.contradiction(), None);
        assert!(serde_json::from_value::<OfficeCalendar>(
            serde_json::json!({"closed": ["2026-02-30"]})
        )
        .is_err());
    }
}
