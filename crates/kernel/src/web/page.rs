//! The frame every page template receives ([`Page`]), the staff page
//! frame, rendering, and the errors of a submitted form.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::error::FieldError;
use crate::i18n::{self, Lang, Text};
use crate::web::view::{Choice, LanguageLink, Link};

/// Set once at start from the configuration's mode.
pub static DEVELOPMENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tenant shown in the page header.
#[derive(Clone, Debug)]
pub struct TenantHeader {
    pub code: String,
    pub name: Text,
}

/// The frame every page template receives.
#[derive(Clone, Debug)]
pub struct Page {
    pub lang: Lang,
    pub title: String,
    pub tenant: Option<TenantHeader>,
    pub staff_name: Option<String>,
    /// The back-office menu: only the pages this member of staff may open.
    pub staff_menu: Vec<Link>,
    /// What capabilities tell staff on this page (`web::notices`).
    pub staff_notices: Vec<crate::web::notices::StaffNotice>,
    /// A resident signed in (name from the verified identity).
    pub resident_name: Option<String>,
    /// The browser holds a resident session (pages that do not load it).
    pub resident_session: bool,
    /// Current path (without query) for the language switch.
    pub path: String,
    pub breadcrumbs: Vec<Link>,
    /// This request's CSRF token, for the hidden `_csrf` field of forms.
    pub csrf: String,
    /// Pages that keep themselves current without JavaScript (ticket
    /// status, display board) reload after this many seconds.
    pub refresh_seconds: Option<u32>,
    /// A page on a shared device (the kiosk's ticket) goes back to its
    /// start after a while: a meta refresh without JavaScript, a timer
    /// with it (an element with `data-return-after` and
    /// `data-return-url`, whose text warns and offers more time).
    pub return_after: Option<ReturnAfter>,
    /// Development mode: pages show a banner saying so.
    pub development: bool,
    /// The display preferences and the address of this request.
    pub view: crate::prefs::RequestView,
}

/// Where a page goes by itself, and after how many seconds.
#[derive(Clone, Debug)]
pub struct ReturnAfter {
    pub seconds: u32,
    pub url: String,
}

impl Page {
    pub fn new(lang: Lang, title: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            lang,
            title: title.into(),
            tenant: None,
            staff_name: None,
            staff_menu: Vec::new(),
            staff_notices: Vec::new(),
            resident_name: None,
            resident_session: crate::csrf::resident_cookie(),
            path: path.into(),
            breadcrumbs: Vec::new(),
            csrf: crate::csrf::current(),
            refresh_seconds: None,
            return_after: None,
            development: DEVELOPMENT.load(std::sync::atomic::Ordering::Relaxed),
            view: crate::prefs::current(),
        }
    }

    pub fn tenant(mut self, code: &str, name: &Text) -> Self {
        self.tenant = Some(TenantHeader {
            code: code.to_string(),
            name: name.clone(),
        });
        self
    }

    /// Marks the page as showing validation errors: the title starts with
    /// 「エラー：」 so screen-reader users hear it first.
    pub fn with_errors(mut self, has_errors: bool) -> Self {
        if has_errors {
            self.title = format!("{}{}", i18n::t(self.lang, "form.error_prefix"), self.title);
        }
        self
    }

    pub fn resident(mut self, name: Option<&str>) -> Self {
        self.resident_name = name.map(str::to_string);
        self
    }

    /// The header of a back-office page: name, and only the links this
    /// member of staff may follow; on their start page (and the pages a
    /// source names) the notices of the capabilities.
    pub fn for_staff(mut self, s: &crate::auth::Staff) -> Self {
        self.staff_name = Some(s.name.clone());
        self.staff_menu = crate::web::staff_menu::menu(s, self.lang);
        self.staff_notices = crate::web::notices::for_page(s, self.lang, &self.path);
        self
    }

    pub fn staff(mut self, name: &str) -> Self {
        self.staff_name = Some(name.to_string());
        self
    }

    pub fn crumb(mut self, label: impl Into<String>, href: impl Into<String>) -> Self {
        self.breadcrumbs.push(Link {
            label: label.into(),
            href: href.into(),
        });
        self
    }

    /// A UI string in the page's language.
    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// A UI string with `{name}` placeholders filled.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        i18n::tf(self.lang, key, args)
    }

    /// Content text in the page's language (Japanese if untranslated).
    pub fn text<'a>(&self, text: &'a Text) -> &'a str {
        text.get(self.lang)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn tenant_name(&self) -> &str {
        self.tenant
            .as_ref()
            .map(|t| t.name.get(self.lang))
            .unwrap_or("")
    }

    /// The municipality's name has no translation into the page's
    /// language: it is shown in Japanese, marked `lang="ja"`.
    pub fn tenant_name_is_japanese(&self) -> bool {
        self.tenant
            .as_ref()
            .is_some_and(|t| t.name.get_or_ja(self.lang).1 && !self.lang.is_japanese())
    }

    pub fn tenant_code(&self) -> &str {
        self.tenant.as_ref().map(|t| t.code.as_str()).unwrap_or("")
    }

    /// The `lang` attribute of the page (BCP 47; easy Japanese is `ja`).
    pub fn html_lang(&self) -> &'static str {
        self.lang.html_lang()
    }

    /// The language switch. Each link is the page itself, its query kept,
    /// in that language.
    pub fn languages(&self) -> Vec<LanguageLink> {
        let q = &self.view.query_without_lang;
        Lang::ALL
            .iter()
            .map(|l| {
                let href = if q.is_empty() {
                    format!("?lang={}", l.code())
                } else {
                    format!("?{q}&lang={}", l.code())
                };
                LanguageLink {
                    href,
                    tag: l.html_lang(),
                    name: l.native_name(),
                    current: *l == self.lang,
                }
            })
            .collect()
    }

    /// Classes on `<html>`: text size and theme.
    pub fn html_class(&self) -> String {
        self.view.prefs.html_class()
    }

    /// Where the preferences form comes back to: this page as requested.
    pub fn back(&self) -> String {
        let path = if self.view.path.is_empty() {
            self.path.as_str()
        } else {
            self.view.path.as_str()
        };
        if self.view.query_without_lang.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", self.view.query_without_lang)
        }
    }

    /// Whether furigana are shown on this page.
    pub fn furigana(&self) -> bool {
        self.view.prefs.furigana_in(self.lang)
    }

    /// The text sizes, the current one selected.
    pub fn text_sizes(&self) -> Vec<Choice> {
        crate::prefs::TextSize::ALL
            .iter()
            .map(|s| {
                Choice::new(s.as_str(), i18n::t(self.lang, &s.label_key()))
                    .selected(*s == self.view.prefs.text_size)
            })
            .collect()
    }

    /// A page for residents (furigana apply; not the back office).
    pub fn citizen(&self) -> bool {
        crate::prefs::is_citizen_page(&self.back())
    }

    /// Some display setting differs from the default: the settings are
    /// shown open, so their state is in view.
    pub fn prefs_changed(&self) -> bool {
        let p = &self.view.prefs;
        p.text_size != crate::prefs::TextSize::Standard
            || p.contrast != crate::prefs::Contrast::Standard
            || p.furigana.is_some()
    }

    pub fn high_contrast(&self) -> bool {
        self.view.prefs.contrast == crate::prefs::Contrast::High
    }

    /// Content text in the page's language, the Japanese marked where
    /// there is no translation.
    pub fn shown(&self, text: &Text) -> i18n::Shown {
        text.shown(self.lang)
    }

    pub fn full_title(&self) -> String {
        match &self.tenant {
            Some(t) => format!("{} | {} | madoguchi", self.title, t.name.get(self.lang)),
            None => format!("{} | madoguchi", self.title),
        }
    }
}

/// Renders a template into a response, or a 500 if rendering fails.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            crate::error::AppError::Internal(anyhow::anyhow!("template: {e}")).into_response()
        }
    }
}

pub fn render_status(status: StatusCode, t: &impl Template) -> Response {
    let mut r = render(t);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

/// `a=1&b=2` query string with the current language appended, for links.
pub fn with_lang(href: &str, lang: Lang) -> String {
    if lang == Lang::Ja {
        href.to_string()
    } else if href.contains('?') {
        format!("{href}&lang={}", lang.code())
    } else {
        format!("{href}?lang={}", lang.code())
    }
}

/// A page of a municipality: its name in the header.
pub fn tenant_page(
    lang: Lang,
    t: &crate::tenant::TenantProfile,
    title: impl Into<String>,
    path: impl Into<String>,
) -> Page {
    Page::new(lang, title, path).tenant(t.code.as_str(), &t.name)
}

/// A back-office page of a municipality: its name in the header, the
/// member of staff's name and only the links their roles may follow.
pub fn staff_page(
    lang: Lang,
    t: &crate::tenant::TenantProfile,
    staff: &crate::auth::Staff,
    title: impl Into<String>,
    path: impl Into<String>,
) -> Page {
    tenant_page(lang, t, title, path).for_staff(staff)
}

/// A QR code as inline SVG. Decorative for screen readers: every page
/// that shows one prints the same content as text.
pub fn qr_svg(data: &str, min_px: u32) -> crate::AppResult<String> {
    let code = qrcode::QrCode::new(data.as_bytes())
        .map_err(|e| crate::AppError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(min_px, min_px)
        .quiet_zone(true)
        .build();
    Ok(svg
        .trim_start_matches(|c| c != '<')
        .replacen("<svg ", "<svg aria-hidden=\"true\" focusable=\"false\" ", 1)
        .replace("<?xml version=\"1.0\" standalone=\"yes\"?>", ""))
}

/// The errors of a submitted form: the summary lists them, each field
/// shows its own (`errors.get("password")`).
#[derive(Clone, Debug, Default)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
            .unwrap_or("")
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// 200 for a clean form, 422 for one shown again with its errors.
    pub fn status(&self) -> StatusCode {
        if self.0.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
}

impl<'a> IntoIterator for &'a FormErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
