//! An iCalendar feed (RFC 5545) of the events announced in sent messages:
//! one VEVENT per message with `event_start`, its times in Japan's time
//! (`TZID=Asia/Tokyo`, defined by the VTIMEZONE it carries), lines
//! folded at 75 octets and ended with CRLF.

use super::feeds::SentMessage;
use super::time_fmt::{ical_jst, ical_utc};

/// The longest content line, in octets, before folding (RFC 5545 3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// A TEXT value escaped (RFC 5545 3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line folded: no physical line longer than 75 octets, never
/// splitting a character; each continuation starts with a space; CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
    out
}

/// What the calendar says about itself.
pub struct CalendarHead<'a> {
    pub name: &'a str,
    /// The host of the deployment's public URL (in each UID).
    pub host: &'a str,
    pub tenant: &'a str,
}

/// The calendar document.
pub fn render(head: &CalendarHead<'_>, events: &[SentMessage]) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//madoguchi//mail events//JA".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!("X-WR-CALNAME:{}", escape_text(head.name)),
        "X-WR-TIMEZONE:Asia/Tokyo".into(),
        "BEGIN:VTIMEZONE".into(),
        "TZID:Asia/Tokyo".into(),
        "BEGIN:STANDARD".into(),
        "DTSTART:19700101T000000".into(),
        "TZOFFSETFROM:+0900".into(),
        "TZOFFSETTO:+0900".into(),
        "TZNAME:JST".into(),
        "END:STANDARD".into(),
        "END:VTIMEZONE".into(),
    ];
    for m in events {
        let Some(start) = m.event_start else {
            continue;
        };
        lines.push("BEGIN:VEVENT".into());
        lines.push(format!("UID:{}-{}@{}", m.id, head.tenant, head.host));
        lines.push(format!("DTSTAMP:{}", ical_utc(m.sent_at)));
        lines.push(format!("DTSTART;TZID=Asia/Tokyo:{}", ical_jst(start)));
        if let Some(end) = m.event_end.filter(|e| *e > start) {
            lines.push(format!("DTEND;TZID=Asia/Tokyo:{}", ical_jst(end)));
        }
        lines.push(format!("SUMMARY:{}", escape_text(&m.subject)));
        if let Some(place) = m.event_place.as_deref().filter(|p| !p.is_empty()) {
            lines.push(format!("LOCATION:{}", escape_text(place)));
        }
        lines.push(format!("DESCRIPTION:{}", escape_text(&m.body)));
        lines.push("END:VEVENT".into());
    }
    lines.push("END:VCALENDAR".into());
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text() {
        assert_eq!(escape_text("a,b;c\\d\r\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let short = "SUMMARY:x";
        assert_eq!(fold(short), "SUMMARY:x\r\n");
        // 8 ASCII octets, then 3-octet characters: 22 of them fit after
        // "SUMMARY:" in the first line (8 + 66 = 74; a 23rd would be 77).
        let long = format!("SUMMARY:{}", "防".repeat(60));
        let folded = fold(&long);
        for line in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= MAX_LINE_OCTETS, "{} octets", line.len());
        }
        let parts: Vec<&str> = folded.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(parts[0], format!("SUMMARY:{}", "防".repeat(22)));
        assert_eq!(parts[1], format!(" {}", "防".repeat(24)));
        assert_eq!(parts[2], format!(" {}", "防".repeat(14)));
        // Unfolding gives the line back.
        assert_eq!(folded.trim_end_matches("\r\n").replace("\r\n ", ""), long);
    }
}
