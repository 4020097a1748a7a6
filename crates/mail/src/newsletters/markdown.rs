//! A newsletter's body as HTML: plain text with optional Markdown
//! (CommonMark, pulldown-cmark) rendered to a small, safe subset. The
//! renderer is an allowlist: paragraphs, headings, lists, emphasis, code,
//! block quotes, rules and line breaks; links only to `http:`, `https:`
//! and `mailto:` (anything else is shown as its text); raw HTML is
//! shown as text, never passed through; images are shown as their text
//! (no remote content in a resident's mail: nothing that could track
//! them). Every text is escaped.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Escapes `s` for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether a link may point at `url`: http, https or mailto, nothing
/// else (`javascript:`, `data:`, relative paths …).
pub fn allowed_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"))
        && !url.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn heading(level: HeadingLevel) -> &'static str {
    // A mail's own title is its subject: headings start at h2.
    match level {
        HeadingLevel::H1 => "h2",
        HeadingLevel::H2 => "h3",
        _ => "h4",
    }
}

/// `body` (plain text with optional Markdown) as safe HTML.
pub fn to_html(body: &str) -> String {
    let mut out = String::with_capacity(body.len() * 2);
    // The links that were refused, so their end tag is dropped too.
    let mut links: Vec<bool> = Vec::new();
    let mut headings: Vec<&'static str> = Vec::new();
    let parser = Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH);
    for event in parser {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => out.push_str("<p>"),
                Tag::Heading { level, .. } => {
                    let h = heading(level);
                    headings.push(h);
                    out.push('<');
                    out.push_str(h);
                    out.push('>');
                }
                Tag::BlockQuote(_) => out.push_str("<blockquote>"),
                Tag::CodeBlock(_) => out.push_str("<pre><code>"),
                Tag::List(Some(1)) => out.push_str("<ol>\n"),
                Tag::List(Some(n)) => out.push_str(&format!("<ol start=\"{n}\">\n")),
                Tag::List(None) => out.push_str("<ul>\n"),
                Tag::Item => out.push_str("<li>"),
                Tag::Emphasis => out.push_str("<em>"),
                Tag::Strong => out.push_str("<strong>"),
                Tag::Strikethrough => out.push_str("<s>"),
                Tag::Link { dest_url, .. } => {
                    let ok = allowed_link(&dest_url);
                    links.push(ok);
                    if ok {
                        out.push_str("<a href=\"");
                        out.push_str(&escape(dest_url.trim()));
                        out.push_str("\">");
                    }
                }
                // Images: their alternative text only (the events inside).
                // Tables, footnotes and the rest are not enabled.
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => out.push_str("</p>\n"),
                TagEnd::Heading(_) => {
                    let h = headings.pop().unwrap_or("h4");
                    out.push_str("</");
                    out.push_str(h);
                    out.push_str(">\n");
                }
                TagEnd::BlockQuote(_) => out.push_str("</blockquote>\n"),
                TagEnd::CodeBlock => out.push_str("</code></pre>\n"),
                TagEnd::List(true) => out.push_str("</ol>\n"),
                TagEnd::List(false) => out.push_str("</ul>\n"),
                TagEnd::Item => out.push_str("</li>\n"),
                TagEnd::Emphasis => out.push_str("</em>"),
                TagEnd::Strong => out.push_str("</strong>"),
                TagEnd::Strikethrough => out.push_str("</s>"),
                TagEnd::Link if links.pop().unwrap_or(false) => out.push_str("</a>"),
                _ => {}
            },
            Event::Text(t) => out.push_str(&escape(&t)),
            Event::Code(t) => {
                out.push_str("<code>");
                out.push_str(&escape(&t));
                out.push_str("</code>");
            }
            // Raw HTML is the resident's to read as text, never markup.
            Event::Html(t) | Event::InlineHtml(t) => out.push_str(&escape(&t)),
            Event::SoftBreak | Event::HardBreak => out.push_str("<br>\n"),
            Event::Rule => out.push_str("<hr>\n"),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_paragraphs_with_line_breaks() {
        assert_eq!(
            to_html("台風10号が接近しています。\n避難所を開設しました。\n\n四街道市"),
            "<p>台風10号が接近しています。<br>\n避難所を開設しました。</p>\n<p>四街道市</p>\n"
        );
    }

    #[test]
    fn markdown_subset() {
        assert_eq!(
            to_html("# 見出し\n\n- **一つ**\n- *二つ*\n\n[市のサイト](https://www.city.yotsukaido.chiba.jp/)"),
            "<h2>見出し</h2>\n<ul>\n<li><strong>一つ</strong></li>\n<li><em>二つ</em></li>\n</ul>\n<p><a href=\"https://www.city.yotsukaido.chiba.jp/\">市のサイト</a></p>\n"
        );
        assert_eq!(
            to_html("[問い合わせ](mailto:info@example.jp)"),
            "<p><a href=\"mailto:info@example.jp\">問い合わせ</a></p>\n"
        );
    }

    #[test]
    fn raw_html_is_text() {
        let html = to_html("<script>alert(1)</script>\n\n本文 <b onclick=\"x()\">太字</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("&lt;b onclick=&quot;x()&quot;&gt;太字&lt;/b&gt;"),
            "{html}"
        );
    }

    #[test]
    fn only_web_and_mail_links() {
        for bad in [
            "[押して](javascript:alert(1))",
            "[押して](JavaScript:alert(1))",
            "[押して](data:text/html;base64,PHNjcmlwdD4=)",
            "[押して](/relative)",
            "[押して](vbscript:x)",
        ] {
            let html = to_html(bad);
            assert_eq!(html, "<p>押して</p>\n", "{bad}");
        }
        // An attribute cannot be broken out of.
        let html = to_html("[x](https://e.example/\"onmouseover=\"a)");
        assert!(!html.contains("\"onmouseover"), "{html}");
    }

    #[test]
    fn images_are_their_text_only() {
        assert_eq!(
            to_html("![地図](https://tracker.example/pixel.gif)"),
            "<p>地図</p>\n"
        );
    }

    #[test]
    fn code_is_escaped() {
        assert_eq!(
            to_html("`<i>`\n\n```\n<tag>&\n```"),
            "<p><code>&lt;i&gt;</code></p>\n<pre><code>&lt;tag&gt;&amp;\n</code></pre>\n"
        );
    }
}
