//! What a resident chooses once and keeps: the language (negotiated here:
//! `?lang=`, the `mdg_lang` cookie, `Accept-Language`), and the display
//! preferences text size, a high-contrast theme and furigana over kanji.
//! Each is a plain cookie, set by a form or link that works without
//! JavaScript (`POST /preferences`, CSRF-checked like every form) and read
//! by a middleware that puts it, with the request's path and query, where
//! page templates find it.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::i18n::Lang;

pub const LANG_COOKIE: &str = "mdg_lang";

/// The language of this request: `?lang=` first, then the language cookie,
/// then `Accept-Language`, then Japanese.
pub fn request_lang(parts: &axum::http::request::Parts) -> Lang {
    request_lang_of(&parts.uri, &parts.headers)
}

/// [`request_lang`] from the address and headers.
pub fn request_lang_of(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Lang {
    if let Some(q) = uri.query() {
        for (k, v) in form_urlencoded_pairs(q) {
            if k == "lang" {
                if let Some(l) = Lang::parse(&v) {
                    return l;
                }
            }
        }
    }
    if let Some(l) = crate::auth::cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
        return l;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

pub(crate) fn form_urlencoded_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    q.split('&').filter_map(|p| {
        let (k, v) = p.split_once('=')?;
        Some((k.to_string(), v.to_string()))
    })
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(request_lang(parts))
    }
}

pub const TEXT_SIZE_COOKIE: &str = "mdg_text";
pub const CONTRAST_COOKIE: &str = "mdg_contrast";
pub const FURIGANA_COOKIE: &str = "mdg_furigana";

/// Text size: the root font size, which every length in the stylesheet
/// follows (rem/em).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextSize {
    #[default]
    Standard,
    Large,
    Larger,
}

impl TextSize {
    pub const ALL: [TextSize; 3] = [TextSize::Standard, TextSize::Large, TextSize::Larger];

    pub fn as_str(self) -> &'static str {
        match self {
            TextSize::Standard => "standard",
            TextSize::Large => "large",
            TextSize::Larger => "larger",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The locale key of its button.
    pub fn label_key(self) -> String {
        format!("prefs.text_size.{}", self.as_str())
    }
}

/// Colour theme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Contrast {
    #[default]
    Standard,
    /// Black on white, every colour pair at least 7:1 (WCAG AAA).
    High,
}

impl Contrast {
    pub fn as_str(self) -> &'static str {
        match self {
            Contrast::Standard => "standard",
            Contrast::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Contrast::Standard, Contrast::High]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// What the browser's cookies say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prefs {
    pub text_size: TextSize,
    pub contrast: Contrast,
    /// Set explicitly on or off; unset means on for easy Japanese only.
    pub furigana: Option<bool>,
}

impl Prefs {
    pub fn from_headers(h: &HeaderMap) -> Self {
        let cookie = |name| crate::auth::cookie(h, name);
        Self {
            text_size: cookie(TEXT_SIZE_COOKIE)
                .and_then(TextSize::parse)
                .unwrap_or_default(),
            contrast: cookie(CONTRAST_COOKIE)
                .and_then(Contrast::parse)
                .unwrap_or_default(),
            furigana: cookie(FURIGANA_COOKIE).and_then(parse_on_off),
        }
    }

    /// Furigana shown on a page in `lang`: as chosen, else only in easy
    /// Japanese (which is written for readers still learning kanji).
    pub fn furigana_in(&self, lang: Lang) -> bool {
        self.furigana.unwrap_or(lang == Lang::JaEasy)
    }

    /// Classes on `<html>` for the stylesheet.
    pub fn html_class(&self) -> String {
        let mut c = Vec::new();
        match self.text_size {
            TextSize::Standard => {}
            TextSize::Large => c.push("text-large"),
            TextSize::Larger => c.push("text-larger"),
        }
        if self.contrast == Contrast::High {
            c.push("contrast-high");
        }
        c.join(" ")
    }
}

fn parse_on_off(s: &str) -> Option<bool> {
    match s {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

/// The request as page templates need it.
#[derive(Clone, Debug, Default)]
pub struct RequestView {
    pub prefs: Prefs,
    /// Path of the request.
    pub path: String,
    /// Its query string without any `lang=` (for the language links).
    pub query_without_lang: String,
}

tokio::task_local! {
    static VIEW: RequestView;
}

/// The preferences and address of the request being handled (defaults
/// outside a request).
pub fn current() -> RequestView {
    VIEW.try_with(Clone::clone).unwrap_or_default()
}

fn without_lang(query: &str) -> String {
    query
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some("lang"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Middleware: makes [`current`] answer for this request, and adds
/// furigana to the citizen pages of residents who asked for it.
pub async fn context(State(db): State<crate::Db>, req: Request, next: Next) -> Response {
    let view = RequestView {
        prefs: Prefs::from_headers(req.headers()),
        path: req.uri().path().to_string(),
        query_without_lang: without_lang(req.uri().query().unwrap_or("")),
    };
    let lang = request_lang_of(req.uri(), req.headers());
    let ruby = view.prefs.furigana_in(lang) && is_citizen_page(&view.path);
    let tenant = tenant_of(&view.path).map(str::to_string);
    let resp = VIEW.scope(view, next.run(req)).await;
    if !ruby {
        return resp;
    }
    // The municipality's own readings of its names and places.
    let overrides = match tenant {
        Some(t) => crate::readings::of_tenant(&db, &t)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "tenant readings not loaded");
                Default::default()
            }),
        None => Default::default(),
    };
    crate::ruby::annotate_response(resp, &overrides).await
}

/// The municipality code of a `/t/{code}/…` path.
fn tenant_of(path: &str) -> Option<&str> {
    let code = path.strip_prefix("/t/")?.split('/').next()?;
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Pages for residents (not the back office, the API or files).
pub fn is_citizen_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/static/")
        || path.contains("/staff")
        || path == "/healthz")
}

/// A path on this site to go back to: absolute path (not `//host` or
/// `/\host`), printable ASCII, not too long. Anything else is the portal.
pub fn safe_back(back: &str) -> String {
    let ok = back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && back.len() <= 2000
        && back.bytes().all(|b| (0x21..0x7f).contains(&b))
        && !back.starts_with("/api/")
        && back.parse::<axum::http::uri::PathAndQuery>().is_ok();
    if ok {
        back.to_string()
    } else {
        "/".to_string()
    }
}

#[derive(Deserialize)]
pub struct PrefsForm {
    #[serde(default)]
    back: String,
    text_size: Option<String>,
    contrast: Option<String>,
    furigana: Option<String>,
}

/// A preference is kept for a year.
const KEPT_SECS: i64 = 365 * 24 * 3600;

/// The `Set-Cookie` of one preference (also the language, from
/// [`crate::web::headers`]).
pub fn preference_cookie(name: &str, value: &str, secure: bool) -> HeaderValue {
    crate::web::cookies::Cookie::new(name, value)
        .max_age_secs(KEPT_SECS)
        .secure(secure)
        .header()
}

/// `POST /preferences`: sets what the form sent and goes back to the page
/// (303). A value that is not one of the choices is ignored: the page is
/// shown again as it was, which is what the resident sees anyway.
pub async fn update(Form(f): Form<PrefsForm>) -> Response {
    let secure = crate::csrf::secure();
    let mut headers = HeaderMap::new();
    if let Some(t) = f.text_size.as_deref().and_then(TextSize::parse) {
        headers.append(
            header::SET_COOKIE,
            preference_cookie(TEXT_SIZE_COOKIE, t.as_str(), secure),
        );
    }
    if let Some(c) = f.contrast.as_deref().and_then(Contrast::parse) {
        headers.append(
            header::SET_COOKIE,
            preference_cookie(CONTRAST_COOKIE, c.as_str(), secure),
        );
    }
    if let Some(on) = f.furigana.as_deref().and_then(parse_on_off) {
        let v = if on { "on" } else { "off" };
        headers.append(
            header::SET_COOKIE,
            preference_cookie(FURIGANA_COOKIE, v, secure),
        );
    }
    let back = safe_back(&f.back);
    if let Ok(v) = HeaderValue::from_str(&back) {
        headers.insert(header::LOCATION, v);
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_stays_on_this_site() {
        for ok in [
            "/",
            "/t/122289/procedures?q=%E4%BD%8F&event=moving",
            "/t/122289/navi/moving-in?a=1#x",
        ] {
            assert_eq!(safe_back(ok), ok);
        }
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "/%0d%0aSet-Cookie:x".replace("%0d%0a", "\r\n").as_str(),
            "javascript:alert(1)",
            "/ spaces",
            "/api/v1/tenants",
            "t/122289",
            "/住民票",
        ] {
            assert_eq!(safe_back(bad), "/", "{bad:?}");
        }
        assert_eq!(safe_back(&format!("/{}", "a".repeat(3000))), "/");
    }

    #[test]
    fn cookies_read_and_defaults() {
        let mut h = HeaderMap::new();
        assert_eq!(Prefs::from_headers(&h), Prefs::default());
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("mdg_text=larger; mdg_contrast=high; mdg_furigana=off"),
        );
        let p = Prefs::from_headers(&h);
        assert_eq!(p.text_size, TextSize::Larger);
        assert_eq!(p.contrast, Contrast::High);
        assert!(!p.furigana_in(Lang::JaEasy));
        assert_eq!(p.html_class(), "text-larger contrast-high");
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("mdg_text=huge; mdg_contrast=<x>; mdg_furigana=1"),
        );
        let p = Prefs::from_headers(&h);
        assert_eq!(p, Prefs::default());
        assert!(p.furigana_in(Lang::JaEasy) && !p.furigana_in(Lang::Ja));
        assert_eq!(
            without_lang("lang=en&q=1&language=x&lang="),
            "q=1&language=x"
        );
    }
}
