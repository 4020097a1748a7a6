//! A form's fields as sent, and money and dates as pages show them.

/// A form's fields as sent.
pub type Fields = Vec<(String, String)>;

pub fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// `12,345円`.
pub fn yen(amount: i64) -> String {
    match jp::Yen::new(amount.max(0) as u64) {
        Ok(y) => y.to_string(),
        Err(_) => format!("{amount}円"),
    }
}

/// A time (ms) as the page's reader expects it (JST).
pub fn when(lang: kernel::i18n::Lang, ms: i64) -> String {
    kernel::clock::format_in(lang, ms)
}

/// A stored `YYYY-MM-DD` date in 和暦 (as it was stored otherwise).
pub fn wareki(iso: &str) -> String {
    jp::JpDate::parse(iso)
        .map(|d| d.wareki())
        .unwrap_or_else(|_| iso.to_string())
}
