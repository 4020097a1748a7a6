//! Links in mails as staff see them: a resident's case access link, a
//! subscriber's preferences and unsubscribe links end in a token that is
//! the resident's key. Staff views show every link with that last part
//! masked, so a staff page or API answer never holds a working link.

/// The mask put in place of a token.
pub const MASK: &str = "********";

/// `text` with the token of every link masked: in each `http(s)://` URL,
/// every path segment of 16 or more characters becomes [`MASK`].
pub fn links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url(rest) {
        out.push_str(&rest[..start]);
        let url_len = rest[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | ')'))
            .unwrap_or(rest.len() - start);
        out.push_str(&mask_url(&rest[start..start + url_len]));
        rest = &rest[start + url_len..];
    }
    out.push_str(rest);
    out
}

fn find_url(s: &str) -> Option<usize> {
    match (s.find("https://"), s.find("http://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn mask_url(url: &str) -> String {
    let (head, path) = match url
        .find("://")
        .and_then(|i| url[i + 3..].find('/').map(|j| i + 3 + j))
    {
        Some(p) => url.split_at(p),
        None => return url.to_string(),
    };
    let path: Vec<&str> = path
        .split('/')
        .map(|seg| if seg.chars().count() >= 16 { MASK } else { seg })
        .collect();
    format!("{head}{}", path.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_link_keeps_its_place_not_its_token() {
        let body = "申請状況: http://127.0.0.1:8080/t/122289/my/A1B2/0123456789abcdef0123456789abcdef\nよろしく";
        assert_eq!(
            links(body),
            "申請状況: http://127.0.0.1:8080/t/122289/my/A1B2/********\nよろしく"
        );
    }

    #[test]
    fn every_link_and_html_attribute_is_masked() {
        let html = r#"<a href="https://m.example.jp/t/122289/mail/unsubscribe/s1/abcdefabcdefabcdef">x</a> https://m.example.jp/t/122289/mail/preferences/s1/0011223344556677"#;
        let masked = links(html);
        assert!(!masked.contains("abcdefabcdefabcdef"));
        assert!(!masked.contains("0011223344556677"));
        assert_eq!(masked.matches(MASK).count(), 2);
        assert!(masked.contains(
            r#"href="https://m.example.jp/t/122289/mail/unsubscribe/s1/********">x</a>"#
        ));
    }

    #[test]
    fn text_without_links_is_unchanged() {
        assert_eq!(
            links("受付番号 0123456789abcdefgh"),
            "受付番号 0123456789abcdefgh"
        );
        assert_eq!(links("https://example.jp"), "https://example.jp");
    }
}
