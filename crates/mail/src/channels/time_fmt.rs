//! Times as the feeds write them: RFC 3339 in UTC (Atom), and the basic
//! forms of RFC 5545 in UTC or in Japan's time (UTC+9, no daylight time).

use time::OffsetDateTime;

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-12-07T03:00:00Z`.
pub fn rfc3339_utc(ms: i64) -> String {
    let t = at(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2026-12-07` in UTC (the date of a tag URI).
pub fn date_utc(ms: i64) -> String {
    rfc3339_utc(ms)[..10].to_string()
}

fn basic(t: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `20261207T030000Z` (DTSTAMP).
pub fn ical_utc(ms: i64) -> String {
    format!("{}Z", basic(at(ms)))
}

/// `20261207T120000`, the local time in Japan (with `TZID=Asia/Tokyo`).
pub fn ical_jst(ms: i64) -> String {
    basic(at(ms + 9 * 3_600_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        // 2026-12-10 01:00:00 UTC = 10:00 in Japan.
        let ms = 1_796_864_400_000;
        assert_eq!(rfc3339_utc(ms), "2026-12-10T01:00:00Z");
        assert_eq!(date_utc(ms), "2026-12-10");
        assert_eq!(ical_utc(ms), "20261210T010000Z");
        assert_eq!(ical_jst(ms), "20261210T100000");
        assert_eq!(ical_jst(ms + 15 * 3_600_000), "20261211T010000");
    }
}
