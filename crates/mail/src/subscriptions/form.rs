//! The fields residents send (sign-up and preferences), read into typed
//! values with a Japanese message naming each wrong field.

use kernel::i18n::{self, Lang};
use kernel::web::FormErrors;

use super::categories::Category;

/// A form's fields as sent (a field may repeat: the categories).
pub type Fields = Vec<(String, String)>;

pub fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The languages a subscriber may choose (every language of the UI).
pub fn language(lang: Lang, f: &Fields, errors: &mut FormErrors) -> Lang {
    let v = field(f, "language");
    match Lang::ALL.into_iter().find(|l| l.code() == v) {
        Some(l) => l,
        None => {
            errors.push(
                "language",
                i18n::t(lang, "mail.subscriptions.error.language"),
            );
            lang
        }
    }
}

/// The chosen categories: at least one, each an active category.
pub fn categories(
    lang: Lang,
    f: &Fields,
    offered: &[Category],
    errors: &mut FormErrors,
) -> Vec<String> {
    let mut chosen: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "category")
        .map(|(_, v)| v.trim().to_string())
        .collect();
    chosen.sort();
    chosen.dedup();
    if let Some(bad) = chosen
        .iter()
        .find(|c| !offered.iter().any(|o| &o.code == *c))
    {
        errors.push(
            "category",
            i18n::tf(
                lang,
                "mail.subscriptions.error.unknown_category",
                &[("value", bad)],
            ),
        );
    } else if chosen.is_empty() {
        errors.push(
            "category",
            i18n::t(lang, "mail.subscriptions.error.categories"),
        );
    }
    chosen
}

/// Whether a POST says `List-Unsubscribe=One-Click` (RFC 8058), as a
/// urlencoded or a multipart body.
pub fn one_click(content_type: &str, body: &[u8]) -> bool {
    let ct = content_type.to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        return serde_urlencoded::from_bytes::<Fields>(body)
            .map(|f| field(&f, "List-Unsubscribe") == "One-Click")
            .unwrap_or(false);
    }
    if ct.starts_with("multipart/form-data") {
        let text = String::from_utf8_lossy(body);
        return text.split("\r\n--").any(|part| {
            let Some((head, value)) = part.split_once("\r\n\r\n") else {
                return false;
            };
            head.to_ascii_lowercase()
                .contains("name=\"list-unsubscribe\"")
                && value.trim_end_matches("\r\n").trim() == "One-Click"
        });
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_click_bodies() {
        let url = "application/x-www-form-urlencoded";
        assert!(one_click(url, b"List-Unsubscribe=One-Click"));
        assert!(one_click(url, b"_csrf=x&List-Unsubscribe=One-Click"));
        assert!(!one_click(url, b"List-Unsubscribe=Two-Click"));
        assert!(!one_click(url, b""));
        assert!(!one_click("text/plain", b"List-Unsubscribe=One-Click"));
        let body = b"--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n";
        assert!(one_click("multipart/form-data; boundary=b", body));
        let other =
            b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nOne-Click\r\n--b--\r\n";
        assert!(!one_click("multipart/form-data; boundary=b", other));
    }
}
