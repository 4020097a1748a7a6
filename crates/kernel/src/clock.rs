//! Time as the store keeps it: milliseconds since the Unix epoch, UTC.

use time::{OffsetDateTime, UtcOffset};

/// Japan Standard Time; Japan has no daylight saving time.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn to_jst(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(JST)
}

/// The fiscal year (年度) in Japan of an instant.
pub fn fiscal_year_of(ms: i64) -> jp::FiscalYear {
    jp::FiscalYear::of(to_jst(ms).date())
}

/// `令和8年4月1日 14:05` in Japan time.
pub fn format_jst(ms: i64) -> String {
    let t = to_jst(ms);
    format!(
        "{} {:02}:{:02}",
        jp::JpDate::from_date(t.date()).wareki(),
        t.hour(),
        t.minute()
    )
}

/// A moment as the page's reader expects it: 和暦 in Japanese
/// (`令和8年4月1日 14:05`), ISO-like with the zone elsewhere
/// (`2026-04-01 14:05 JST`).
pub fn format_in(lang: crate::Lang, ms: i64) -> String {
    match lang {
        crate::Lang::Ja => format_jst(ms),
        _ => {
            let t = to_jst(ms);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} JST",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
    }
}

/// `2026-04-01T14:05:00+09:00`
pub fn rfc3339_jst(ms: i64) -> String {
    let t = to_jst(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+09:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_year_boundary_in_japan_time() {
        // 2026-03-31T15:00:00Z is 2026-04-01 00:00 JST: already FY2026.
        let ms = 1_774_969_200_000;
        assert_eq!(fiscal_year_of(ms).start_year(), 2026);
        assert_eq!(fiscal_year_of(ms - 1).start_year(), 2025);
        assert_eq!(format_jst(ms), "令和8年4月1日 00:00");
    }
}
