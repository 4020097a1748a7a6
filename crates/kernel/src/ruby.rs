//! Furigana: ruby over the kanji of a finished HTML page, for residents
//! who switched them on (see [`crate::prefs`]). Only text is touched:
//! tags and attributes stay as they are, and so does the text of
//! `script`, `style`, `textarea`, `title`, `option`, `code`, `pre` and
//! anything already in `<ruby>`, and every element whose language is not
//! Japanese (`lang="zh-Hans"` text has hanzi, not kanji).

use axum::body::Body;
use axum::http::header;
use axum::response::Response;

/// Largest page rewritten; a bigger one is sent as it is.
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Elements whose text gets no ruby.
const SKIP: [&str; 12] = [
    "script", "style", "textarea", "title", "option", "code", "pre", "ruby", "rt", "rp", "svg",
    "select",
];

/// Elements whose content is raw text up to their end tag.
const RAW: [&str; 4] = ["script", "style", "textarea", "title"];

const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

struct Open {
    name: String,
    japanese: bool,
}

/// `lang="…"` of a start tag, if any.
fn lang_attr(tag: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("lang") {
        let before = rest[..i].chars().last();
        let after = rest[i + 4..].trim_start();
        if matches!(before, Some(c) if c.is_ascii_whitespace()) && after.starts_with('=') {
            let v = after[1..].trim_start();
            let value = if let Some(q) = v.strip_prefix('"') {
                q.split('"').next()
            } else if let Some(q) = v.strip_prefix('\'') {
                q.split('\'').next()
            } else {
                v.split(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
                    .next()
            };
            return value.map(str::to_string);
        }
        rest = &rest[i + 4..];
    }
    None
}

/// End of the tag starting at `start` (index after `>`), quotes respected.
fn tag_end(html: &str, start: usize) -> usize {
    let bytes = html.as_bytes();
    let mut quote = None;
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return i + 1,
            None => {}
        }
        i += 1;
    }
    bytes.len()
}

fn tag_name(tag: &str) -> String {
    tag.trim_start_matches(['<', '/'])
        .split(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn write_ruby(out: &mut String, text: &str, ruby: &dyn Fn(&str) -> Vec<jp::reading::RubyPart>) {
    if !text.chars().any(jp::reading::is_kanji) {
        out.push_str(text);
        return;
    }
    let parts = ruby(text);
    // Only if the parts are the text itself, cut up.
    if parts.iter().map(|p| p.base.as_str()).collect::<String>() != text {
        out.push_str(text);
        return;
    }
    for p in parts {
        match p.rt {
            Some(rt) if !p.base.contains(['<', '&']) && !rt.contains(['<', '&']) => {
                out.push_str("<ruby>");
                out.push_str(&p.base);
                out.push_str("<rp>(</rp><rt>");
                out.push_str(&rt);
                out.push_str("</rt><rp>)</rp></ruby>");
            }
            _ => out.push_str(&p.base),
        }
    }
}

/// Adds ruby to the Japanese text of an HTML document using `ruby`
/// (normally [`jp::reading::ruby`]).
pub fn annotate_with(html: &str, ruby: &dyn Fn(&str) -> Vec<jp::reading::RubyPart>) -> String {
    let mut out = String::with_capacity(html.len() * 2);
    let mut stack: Vec<Open> = Vec::new();
    let mut skipping = 0usize;
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if !rest.starts_with('<') {
            let end = rest.find('<').map(|n| i + n).unwrap_or(html.len());
            let text = &html[i..end];
            let japanese = stack.last().is_none_or(|o| o.japanese);
            if skipping == 0 && japanese {
                write_ruby(&mut out, text, ruby);
            } else {
                out.push_str(text);
            }
            i = end;
            continue;
        }
        if rest.starts_with("<!--") {
            let end = rest.find("-->").map(|n| i + n + 3).unwrap_or(html.len());
            out.push_str(&html[i..end]);
            i = end;
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            let end = tag_end(html, i);
            out.push_str(&html[i..end]);
            i = end;
            continue;
        }
        let end = tag_end(html, i);
        let tag = &html[i..end];
        out.push_str(tag);
        i = end;
        let name = tag_name(tag);
        if name.is_empty() {
            continue;
        }
        if tag.starts_with("</") {
            if let Some(pos) = stack.iter().rposition(|o| o.name == name) {
                for o in stack.drain(pos..) {
                    if SKIP.contains(&o.name.as_str()) {
                        skipping -= 1;
                    }
                }
            }
            continue;
        }
        if VOID.contains(&name.as_str()) || tag.ends_with("/>") {
            continue;
        }
        let japanese = match lang_attr(tag) {
            Some(l) => l == "ja" || l.starts_with("ja-"),
            None => stack.last().is_none_or(|o| o.japanese),
        };
        if RAW.contains(&name.as_str()) {
            // Raw text up to the end tag, copied as it is.
            let close = format!("</{name}");
            let body_end = html[i..]
                .to_ascii_lowercase()
                .find(&close)
                .map(|n| i + n)
                .unwrap_or(html.len());
            out.push_str(&html[i..body_end]);
            i = body_end;
            let end = if i < html.len() { tag_end(html, i) } else { i };
            out.push_str(&html[i..end]);
            i = end;
            continue;
        }
        if SKIP.contains(&name.as_str()) {
            skipping += 1;
        }
        stack.push(Open { name, japanese });
    }
    out
}

/// Adds ruby to an HTML response; anything else passes through.
pub async fn annotate_response(resp: Response, overrides: &jp::reading::Overrides) -> Response {
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "page too large for furigana");
            return Response::from_parts(parts, Body::empty());
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let annotated = annotate_with(text, &|t| jp::reading::ruby_with(t, overrides));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(annotated))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotate(html: &str) -> String {
        annotate_with(html, &jp::reading::ruby)
    }

    #[test]
    fn ruby_over_kanji_in_text_only() {
        let html = concat!(
            "<!doctype html><html lang=\"ja\"><head><title>住民票</title>",
            "<style>.a::before{content:\"住所\"}</style></head>",
            "<body><h1 class=\"住民票\" title=\"住民票\">住民票の写し</h1>",
            "<p>書かない<a href=\"/t/1?q=住民票\">窓口</a></p>",
            "<script>var x = \"<p>住民票</p>\";</script>",
            "<select><option>住民票</option></select><textarea>住民票</textarea>",
            "<code>住民票</code><pre>住民票</pre>",
            "<ruby>住民票<rt>じゅうみんひょう</rt></ruby>",
            "<p lang=\"zh-Hans\">居民证 <span lang=\"ja\">住民票</span></p>",
            "<input value=\"住民票\"><br/>税金 &amp; 保険</body></html>"
        );
        let out = annotate(html);
        assert!(out.contains("<title>住民票</title>"), "{out}");
        assert!(out.contains("content:\"住所\""), "{out}");
        assert!(
            out.contains("<h1 class=\"住民票\" title=\"住民票\"><ruby>住民票<rp>(</rp><rt>じゅうみんひょう</rt><rp>)</rp></ruby>の"),
            "{out}"
        );
        assert!(
            out.contains("<ruby>書<rp>(</rp><rt>か</rt><rp>)</rp></ruby>かない"),
            "{out}"
        );
        assert!(out.contains("href=\"/t/1?q=住民票\""), "{out}");
        assert!(out.contains("var x = \"<p>住民票</p>\";"), "{out}");
        assert!(out.contains("<option>住民票</option>"), "{out}");
        assert!(out.contains("<textarea>住民票</textarea>"), "{out}");
        assert!(
            out.contains("<code>住民票</code><pre>住民票</pre>"),
            "{out}"
        );
        assert!(
            out.contains("<ruby>住民票<rt>じゅうみんひょう</rt></ruby>"),
            "{out}"
        );
        assert!(
            out.contains("居民证 <span lang=\"ja\"><ruby>住民票"),
            "{out}"
        );
        assert!(out.contains("<input value=\"住民票\">"), "{out}");
        assert!(out.contains("&amp;"), "{out}");
        assert!(
            out.contains("<ruby>税金<rp>(</rp><rt>ぜいきん</rt>"),
            "{out}"
        );
        // Nothing but ruby was added: removing it gives the page back.
        let stripped = out
            .replace("<rp>(</rp>", "")
            .replace("<rp>)</rp>", "")
            .replace("<ruby>", "")
            .replace("</ruby>", "");
        let mut no_rt = String::new();
        let mut rest = stripped.as_str();
        while let Some(s) = rest.find("<rt>") {
            no_rt.push_str(&rest[..s]);
            rest = &rest[s + rest[s..].find("</rt>").unwrap() + 5..];
        }
        no_rt.push_str(rest);
        let original_no_ruby = html.replace("<rt>じゅうみんひょう</rt>", "");
        assert_eq!(
            no_rt,
            original_no_ruby
                .replace("<ruby>", "")
                .replace("</ruby>", "")
        );
    }

    #[test]
    fn english_pages_only_get_ruby_on_japanese() {
        let out = annotate(
            "<html lang=\"en\"><p>Residence <span lang=\"ja\">住民票</span></p>漢字</html>",
        );
        assert!(out.contains("<span lang=\"ja\"><ruby>住民票"), "{out}");
        assert!(out.ends_with("</span></p>漢字</html>"), "{out}");
    }

    #[test]
    fn broken_html_is_not_a_panic() {
        for s in [
            "<",
            "<p",
            "<p lang='ja",
            "<script>住民票",
            "<!-- 住民票",
            "住民票</p></div>",
        ] {
            let out = annotate(s);
            assert!(out.len() >= s.len(), "{s} → {out}");
        }
    }
}
