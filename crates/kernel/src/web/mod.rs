//! The web helpers every capability uses: the page frame and rendering
//! ([`page`]), typed request bodies with Japanese errors ([`body`]),
//! `Set-Cookie` headers ([`cookies`]), the HTML error page ([`errors`]) and
//! the security headers and static files ([`headers`]), the back-office
//! menu and start page by role ([`staff_menu`]), notices capabilities
//! give the back office's pages ([`notices`]). The request's
//! language is negotiated in [`crate::prefs`]; role checks are the proofs
//! of [`crate::auth`].

pub mod body;
pub mod cookies;
pub mod errors;
pub mod headers;
pub mod notices;
pub mod page;
pub mod staff_menu;
pub mod view;

pub use body::{parse_json, read_multipart, JsonBody, Posted};
pub use cookies::Cookie;
pub use errors::html_errors;
pub use headers::{script, security_headers, stylesheet, SCRIPT, STYLESHEET};
pub use page::{
    qr_svg, render, render_status, staff_page, tenant_page, with_lang, FormErrors, Page,
    ReturnAfter, TenantHeader, DEVELOPMENT,
};
pub use view::{Choice, HiddenField, LabelValue, LanguageLink, Link, VersionLine};
