//! An Atom feed (RFC 4287) of one category's sent messages: the feed's
//! id is its own address, each entry's a tag URI (RFC 4151) of the
//! deployment's host, the date of sending and the message's id, so it
//! stays the same in every language and never names another message.

use super::feeds::SentMessage;
use super::time_fmt::{date_utc, rfc3339_utc};

/// What the feed says about itself.
pub struct FeedHead<'a> {
    /// The feed's own URL (also its id).
    pub self_url: &'a str,
    /// A page for people (the sign-up page of the mail service).
    pub alternate_url: &'a str,
    pub title: &'a str,
    /// The municipality: the author of every entry.
    pub author: &'a str,
    /// The language the feed was asked in.
    pub lang: &'a str,
    /// When the category itself last changed (the feed's `updated` when
    /// nothing was sent yet).
    pub category_updated: i64,
    /// The host of the deployment's public URL (tag URIs).
    pub host: &'a str,
    pub tenant: &'a str,
}

/// Text escaped for XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all.
            '\u{0}'..='\u{8}'
            | '\u{b}'
            | '\u{c}'
            | '\u{e}'..='\u{1f}'
            | '\u{fffe}'
            | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A stored language code as a BCP 47 tag (`easy` is easy Japanese).
pub fn bcp47(code: &str) -> &str {
    if code == "easy" {
        "ja-x-easy"
    } else {
        code
    }
}

/// The entry id of a message.
pub fn entry_id(host: &str, tenant: &str, m: &SentMessage) -> String {
    format!(
        "tag:{host},{}:madoguchi/{tenant}/mail/{}",
        date_utc(m.sent_at),
        m.id
    )
}

/// The feed document.
pub fn render(head: &FeedHead<'_>, entries: &[SentMessage]) -> String {
    let updated = entries
        .iter()
        .map(|m| m.sent_at)
        .chain([head.category_updated])
        .max()
        .unwrap_or_default();
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str(&format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n",
        xml_escape(head.lang)
    ));
    x.push_str(&format!("  <id>{}</id>\n", xml_escape(head.self_url)));
    x.push_str(&format!(
        "  <title type=\"text\">{}</title>\n",
        xml_escape(head.title)
    ));
    x.push_str(&format!("  <updated>{}</updated>\n", rfc3339_utc(updated)));
    x.push_str(&format!(
        "  <author><name>{}</name></author>\n",
        xml_escape(head.author)
    ));
    x.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        xml_escape(head.self_url)
    ));
    x.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        xml_escape(head.alternate_url)
    ));
    x.push_str("  <generator>madoguchi</generator>\n");
    for m in entries {
        let sent = rfc3339_utc(m.sent_at);
        x.push_str("  <entry>\n");
        x.push_str(&format!(
            "    <id>{}</id>\n",
            xml_escape(&entry_id(head.host, head.tenant, m))
        ));
        x.push_str(&format!(
            "    <title type=\"text\" xml:lang=\"{}\">{}</title>\n",
            xml_escape(bcp47(&m.lang)),
            xml_escape(&m.subject)
        ));
        x.push_str(&format!("    <updated>{sent}</updated>\n"));
        x.push_str(&format!("    <published>{sent}</published>\n"));
        x.push_str(&format!(
            "    <content type=\"text\" xml:lang=\"{}\">{}</content>\n",
            xml_escape(bcp47(&m.lang)),
            xml_escape(&m.body)
        ));
        x.push_str("  </entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_what_xml_forbids() {
        assert_eq!(
            xml_escape("<a href=\"x\">&'\u{1}</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
    }

    #[test]
    fn an_empty_feed_is_complete() {
        let head = FeedHead {
            self_url: "https://m.example.jp/t/122289/mail/feeds/bousai.atom",
            alternate_url: "https://m.example.jp/t/122289/mail",
            title: "四街道市 防災・防犯",
            author: "四街道市",
            lang: "ja",
            category_updated: 1_796_864_400_000,
            host: "m.example.jp",
            tenant: "122289",
        };
        assert_eq!(
            render(&head, &[]),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"ja\">\n  \
             <id>https://m.example.jp/t/122289/mail/feeds/bousai.atom</id>\n  \
             <title type=\"text\">四街道市 防災・防犯</title>\n  \
             <updated>2026-12-10T01:00:00Z</updated>\n  \
             <author><name>四街道市</name></author>\n  \
             <link rel=\"self\" type=\"application/atom+xml\" href=\"https://m.example.jp/t/122289/mail/feeds/bousai.atom\"/>\n  \
             <link rel=\"alternate\" type=\"text/html\" href=\"https://m.example.jp/t/122289/mail\"/>\n  \
             <generator>madoguchi</generator>\n\
             </feed>\n"
        );
    }
}
