//! Dates in 和暦 and 西暦, and 年度 (the April–March fiscal year).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

use crate::error::ParseError;
use crate::normalize::fold_char;

/// The eras since Japan adopted the Gregorian calendar (明治6年1月1日 =
/// 1873-01-01); earlier dates were lunisolar and are not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Era {
    Meiji,
    Taisho,
    Showa,
    Heisei,
    Reiwa,
}

const ERAS: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

fn ymd(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).unwrap_or(Month::January), d)
        .unwrap_or(Date::MIN)
}

impl Era {
    /// First day of the era (for 明治, the first Gregorian day).
    pub fn first_day(self) -> Date {
        match self {
            Era::Meiji => ymd(1873, 1, 1),
            Era::Taisho => ymd(1912, 7, 30),
            Era::Showa => ymd(1926, 12, 25),
            Era::Heisei => ymd(1989, 1, 8),
            Era::Reiwa => ymd(2019, 5, 1),
        }
    }

    /// Gregorian year of the era's 元年.
    pub fn first_year(self) -> i32 {
        match self {
            Era::Meiji => 1868,
            _ => self.first_day().year(),
        }
    }

    pub fn last_day(self) -> Option<Date> {
        let i = ERAS.iter().position(|e| *e == self)?;
        ERAS.get(i + 1)
            .and_then(|next| next.first_day().previous_day())
    }

    pub fn kanji(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    pub fn romaji(self) -> &'static str {
        match self {
            Era::Meiji => "Meiji",
            Era::Taisho => "Taisho",
            Era::Showa => "Showa",
            Era::Heisei => "Heisei",
            Era::Reiwa => "Reiwa",
        }
    }

    fn letter(self) -> char {
        match self {
            Era::Meiji => 'M',
            Era::Taisho => 'T',
            Era::Showa => 'S',
            Era::Heisei => 'H',
            Era::Reiwa => 'R',
        }
    }

    /// The era in force on `date`, if the date is not before 1873.
    pub fn of(date: Date) -> Option<Era> {
        ERAS.iter().rev().copied().find(|e| date >= e.first_day())
    }

    fn from_prefix(s: &str) -> Option<(Era, &str)> {
        for e in ERAS {
            if let Some(rest) = s.strip_prefix(e.kanji()) {
                return Some((e, rest));
            }
            let mut chars = s.chars();
            if let Some(c) = chars.next() {
                if c.to_ascii_uppercase() == e.letter() {
                    return Some((e, chars.as_str()));
                }
            }
        }
        None
    }
}

/// `年` number in an era: "元" is 1. No era has lasted 100 years, so larger
/// numbers are refused before any arithmetic.
fn era_year_number(s: &str) -> Option<i32> {
    if s == "元" {
        Some(1)
    } else {
        s.parse().ok().filter(|n| (1..100).contains(n))
    }
}

/// A calendar date entered in 和暦 or 西暦.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JpDate(Date);

impl JpDate {
    pub fn from_date(date: Date) -> Self {
        Self(date)
    }

    pub fn date(self) -> Date {
        self.0
    }

    /// Accepts 西暦 `2026-04-01`, `2026/4/1`, `2026.4.1`, `2026年4月1日`,
    /// `20260401`, and 和暦 `令和8年4月1日`, `令和元年5月1日`, `R8.4.1`,
    /// `H31/4/30`; full-width digits are folded.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s: String = input
            .chars()
            .map(fold_char)
            .filter(|c| !c.is_whitespace())
            .collect();
        if s.is_empty() {
            return Err(ParseError::new("empty").with("what", "date"));
        }
        let (era, body) = match Era::from_prefix(&s) {
            Some((e, rest)) => (Some(e), rest.to_string()),
            None => (None, s.clone()),
        };
        let parts: Vec<&str> =
            if body.len() == 8 && body.bytes().all(|b| b.is_ascii_digit()) && era.is_none() {
                vec![&body[..4], &body[4..6], &body[6..]]
            } else {
                body.trim_end_matches('日')
                    .split(['-', '/', '.', '年', '月'])
                    .collect()
            };
        if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(ParseError::new("date.format"));
        }
        let year = match era {
            Some(e) => {
                let n = era_year_number(parts[0]).ok_or_else(|| ParseError::new("date.format"))?;
                e.first_year() + n - 1
            }
            None => {
                if parts[0].len() != 4 {
                    return Err(ParseError::new("date.format"));
                }
                parts[0]
                    .parse()
                    .map_err(|_| ParseError::new("date.format"))?
            }
        };
        let month: u8 = parts[1]
            .parse()
            .map_err(|_| ParseError::new("date.format"))?;
        let day: u8 = parts[2]
            .parse()
            .map_err(|_| ParseError::new("date.format"))?;
        let month_enum = Month::try_from(month)
            .map_err(|_| ParseError::new("date.month").with("month", month))?;
        let date = Date::from_calendar_date(year, month_enum, day).map_err(|_| {
            ParseError::new("date.day")
                .with("month", month)
                .with("day", day)
        })?;
        if date < Era::Meiji.first_day() {
            return Err(ParseError::new("date.too_early"));
        }
        if let Some(e) = era {
            if date < e.first_day() || e.last_day().is_some_and(|last| date > last) {
                let actual = JpDate(date);
                return Err(ParseError::new("date.era_range")
                    .with("era", e.kanji())
                    .with("actual", actual.wareki()));
            }
        }
        Ok(Self(date))
    }

    /// `令和8年4月1日`, with 元年 for the first year.
    pub fn wareki(self) -> String {
        let Some(era) = Era::of(self.0) else {
            return self.seireki();
        };
        let n = self.0.year() - era.first_year() + 1;
        let year = if n == 1 {
            "元".to_string()
        } else {
            n.to_string()
        };
        format!(
            "{}{}年{}月{}日",
            era.kanji(),
            year,
            u8::from(self.0.month()),
            self.0.day()
        )
    }

    /// `2026年4月1日`
    pub fn seireki(self) -> String {
        format!(
            "{}年{}月{}日",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }

    /// `2026-04-01`
    pub fn iso(self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }

    /// `令和8年4月1日（2026年）`: what forms show so nobody has to convert.
    pub fn both(self) -> String {
        format!("{}（{}年）", self.wareki(), self.0.year())
    }

    pub fn fiscal_year(self) -> FiscalYear {
        FiscalYear::of(self.0)
    }
}

impl fmt::Debug for JpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JpDate({})", self.iso())
    }
}

impl fmt::Display for JpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wareki())
    }
}

impl Serialize for JpDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.iso())
    }
}

impl<'de> Deserialize<'de> for JpDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// 年度: the fiscal year from April 1 to March 31, named by the Gregorian
/// year in which it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FiscalYear(i32);

impl FiscalYear {
    pub fn new(start_year: i32) -> Result<Self, ParseError> {
        if !(1873..=9998).contains(&start_year) {
            return Err(ParseError::new("fiscal_year.range"));
        }
        Ok(Self(start_year))
    }

    pub fn of(date: Date) -> Self {
        if u8::from(date.month()) >= 4 {
            Self(date.year())
        } else {
            Self(date.year() - 1)
        }
    }

    pub fn start_year(self) -> i32 {
        self.0
    }

    pub fn first_day(self) -> Date {
        ymd(self.0, 4, 1)
    }

    pub fn last_day(self) -> Date {
        ymd(self.0 + 1, 3, 31)
    }

    pub fn contains(self, date: Date) -> bool {
        Self::of(date) == self
    }

    /// The era a 年度 is named in: the era in force on May 1 of its first
    /// year, so FY2019 is 令和元年度 as the government named it.
    fn era(self) -> Option<Era> {
        Era::of(ymd(self.0, 5, 1))
    }

    /// `令和8年度`
    pub fn wareki(self) -> String {
        match self.era() {
            Some(e) => {
                let n = self.0 - e.first_year() + 1;
                if n == 1 {
                    format!("{}元年度", e.kanji())
                } else {
                    format!("{}{}年度", e.kanji(), n)
                }
            }
            None => format!("{}年度", self.0),
        }
    }

    /// Accepts `2026`, `2026年度`, `令和8年度`, `令和元年度`, `R8`,
    /// `平成31年度` (the same year as 令和元年度).
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s: String = input
            .chars()
            .map(fold_char)
            .filter(|c| !c.is_whitespace())
            .collect();
        if s.is_empty() {
            return Err(ParseError::new("empty").with("what", "fiscal_year"));
        }
        let body = s.trim_end_matches("年度").trim_end_matches('年');
        match Era::from_prefix(body) {
            Some((era, rest)) => {
                let n =
                    era_year_number(rest).ok_or_else(|| ParseError::new("fiscal_year.format"))?;
                let year = era.first_year() + n - 1;
                // The fiscal year must overlap the era.
                let fy = Self::new(year)?;
                let overlaps = fy.last_day() >= era.first_day()
                    && era.last_day().is_none_or(|last| fy.first_day() <= last);
                if !overlaps {
                    return Err(ParseError::new("fiscal_year.era_range").with("era", era.kanji()));
                }
                Ok(fy)
            }
            None => {
                if body.len() != 4 || !body.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ParseError::new("fiscal_year.format"));
                }
                Self::new(
                    body.parse()
                        .map_err(|_| ParseError::new("fiscal_year.format"))?,
                )
            }
        }
    }
}

impl fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wareki())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> JpDate {
        JpDate::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn wareki_and_seireki_agree() {
        assert_eq!(d("令和8年4月1日").iso(), "2026-04-01");
        assert_eq!(d("2026-04-01").wareki(), "令和8年4月1日");
        assert_eq!(d("R8.4.1").iso(), "2026-04-01");
        assert_eq!(d("ｒ０８．０４．０１").iso(), "2026-04-01");
        assert_eq!(d("2026/4/1").iso(), "2026-04-01");
        assert_eq!(d("2026年4月1日").iso(), "2026-04-01");
        assert_eq!(d("20260401").iso(), "2026-04-01");
        assert_eq!(d("２０２６年４月１日").iso(), "2026-04-01");
    }

    #[test]
    fn era_boundaries() {
        assert_eq!(d("2019-04-30").wareki(), "平成31年4月30日");
        assert_eq!(d("2019-05-01").wareki(), "令和元年5月1日");
        assert_eq!(d("令和元年5月1日").iso(), "2019-05-01");
        assert_eq!(d("令和1年5月1日").iso(), "2019-05-01");
        assert_eq!(d("1989-01-07").wareki(), "昭和64年1月7日");
        assert_eq!(d("1989-01-08").wareki(), "平成元年1月8日");
        assert_eq!(d("1926-12-24").wareki(), "大正15年12月24日");
        assert_eq!(d("1926-12-25").wareki(), "昭和元年12月25日");
        assert_eq!(d("1912-07-29").wareki(), "明治45年7月29日");
        assert_eq!(d("1912-07-30").wareki(), "大正元年7月30日");
        assert_eq!(
            JpDate::parse("令和元年4月30日").unwrap_err().key,
            "date.era_range"
        );
        assert_eq!(
            JpDate::parse("平成31年5月1日").unwrap_err().key,
            "date.era_range"
        );
        assert_eq!(
            JpDate::parse("昭和64年1月8日").unwrap_err().key,
            "date.era_range"
        );
    }

    #[test]
    fn impossible_dates() {
        assert_eq!(JpDate::parse("2026-02-29").unwrap_err().key, "date.day");
        assert!(JpDate::parse("2024-02-29").is_ok());
        assert_eq!(JpDate::parse("2026-13-01").unwrap_err().key, "date.month");
        assert_eq!(JpDate::parse("2026-04-31").unwrap_err().key, "date.day");
        assert_eq!(
            JpDate::parse("1850-01-01").unwrap_err().key,
            "date.too_early"
        );
        assert_eq!(JpDate::parse("4月1日").unwrap_err().key, "date.format");
        assert_eq!(JpDate::parse("令和八年").unwrap_err().key, "date.format");
        assert_eq!(
            JpDate::parse("令和2147483647年1月1日").unwrap_err().key,
            "date.format"
        );
        assert_eq!(JpDate::parse("99999-01-01").unwrap_err().key, "date.format");
        assert_eq!(JpDate::parse("").unwrap_err().key, "empty");
    }

    #[test]
    fn fiscal_years() {
        assert_eq!(d("2026-04-01").fiscal_year().start_year(), 2026);
        assert_eq!(d("2027-03-31").fiscal_year().start_year(), 2026);
        assert_eq!(d("2026-03-31").fiscal_year().start_year(), 2025);
        assert_eq!(FiscalYear::new(2026).unwrap().wareki(), "令和8年度");
        assert_eq!(FiscalYear::new(2019).unwrap().wareki(), "令和元年度");
        assert_eq!(FiscalYear::new(2018).unwrap().wareki(), "平成30年度");
        assert_eq!(FiscalYear::new(1989).unwrap().wareki(), "平成元年度");
        assert_eq!(FiscalYear::parse("令和8年度").unwrap().start_year(), 2026);
        assert_eq!(FiscalYear::parse("R8").unwrap().start_year(), 2026);
        assert_eq!(FiscalYear::parse("令和元年度").unwrap().start_year(), 2019);
        assert_eq!(FiscalYear::parse("平成31年度").unwrap().start_year(), 2019);
        assert_eq!(
            FiscalYear::parse("２０２６年度").unwrap().start_year(),
            2026
        );
        assert_eq!(
            FiscalYear::parse("平成40年度").unwrap_err().key,
            "fiscal_year.era_range"
        );
        assert_eq!(
            FiscalYear::parse("abc").unwrap_err().key,
            "fiscal_year.format"
        );
    }

    proptest! {
        #[test]
        fn every_day_roundtrips(days in 0i64..(200 * 366)) {
            let date = Era::Meiji.first_day() + time::Duration::days(days);
            let jd = JpDate::from_date(date);
            prop_assert_eq!(JpDate::parse(&jd.wareki()).unwrap(), jd);
            prop_assert_eq!(JpDate::parse(&jd.iso()).unwrap(), jd);
            prop_assert_eq!(JpDate::parse(&jd.seireki()).unwrap(), jd);
            prop_assert!(jd.fiscal_year().contains(date));
            prop_assert!(jd.fiscal_year().first_day() <= date && date <= jd.fiscal_year().last_day());
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = JpDate::parse(&s);
            let _ = FiscalYear::parse(&s);
        }
    }
}
