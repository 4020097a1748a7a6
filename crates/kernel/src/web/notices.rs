//! Notices on the back office's pages from capabilities kernel does not
//! know (mail delivery says it is not sending): a capability implements
//! [`NoticeSource`], the server lists the sources in [`Notices`] and adds
//! [`provide`] as a layer; every staff member's start page and the pages
//! a source names ([`NoticeSource::shown_on`]) then show what the
//! sources say ([`crate::web::Page::for_staff`]).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::Staff;
use crate::i18n::Lang;
use crate::web::view::Link;

/// How loud a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Something is wrong and someone must act (a warning box).
    Warning,
    /// Worth knowing (a quiet note).
    Info,
}

/// A button of a notice: a form that posts to `action` (with the CSRF
/// token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeButton {
    pub label: String,
    pub action: String,
}

/// One notice on a staff page.
#[derive(Clone, Debug)]
pub struct StaffNotice {
    pub tone: Tone,
    /// The first line, in bold.
    pub title: String,
    /// The paragraphs after it: the reason and what to do.
    pub lines: Vec<String>,
    pub links: Vec<Link>,
    pub button: Option<NoticeButton>,
}

impl StaffNotice {
    /// `notice notice--warning` or `notice`: the box's classes.
    pub fn class(&self) -> &'static str {
        match self.tone {
            Tone::Warning => "notice notice--warning",
            Tone::Info => "notice",
        }
    }

    /// The box's ARIA role: a warning is announced (`alert`), a note is
    /// not (`note`).
    pub fn role(&self) -> &'static str {
        match self.tone {
            Tone::Warning => "alert",
            Tone::Info => "note",
        }
    }

    /// `warning` or `info` (for tests and styles).
    pub fn tone_name(&self) -> &'static str {
        match self.tone {
            Tone::Warning => "warning",
            Tone::Info => "info",
        }
    }
}

/// A capability that may have something to tell staff.
pub trait NoticeSource: Send + Sync {
    /// What `staff` should read now, if anything, in `lang`.
    fn notice(&self, staff: &Staff, lang: Lang) -> Option<StaffNotice>;
    /// Pages besides the start page that show it: paths under
    /// `/t/{tenant}/staff/` starting with one of these.
    fn shown_on(&self) -> &'static [&'static str] {
        &[]
    }
}

/// The server's sources of notices.
#[derive(Clone, Default)]
pub struct Notices(pub Vec<Arc<dyn NoticeSource>>);

tokio::task_local! {
    static NOTICES: Notices;
}

/// Middleware: makes the server's sources answer for this request.
pub async fn provide(State(notices): State<Notices>, req: Request, next: Next) -> Response {
    NOTICES.scope(notices, next.run(req)).await
}

/// The notices for `staff` on the page at `path` (none outside a
/// request, or on a page no source shows them on).
pub fn for_page(staff: &Staff, lang: Lang, path: &str) -> Vec<StaffNotice> {
    let start = crate::web::staff_menu::start_page(staff);
    let prefix = format!("/t/{}/staff/", staff.tenant);
    let under = path.strip_prefix(prefix.as_str());
    NOTICES
        .try_with(|n| {
            n.0.iter()
                .filter(|s| {
                    path == start
                        || under.is_some_and(|rest| {
                            s.shown_on().iter().any(|p| {
                                rest == *p
                                    || rest.strip_prefix(p).is_some_and(|r| r.starts_with('/'))
                            })
                        })
                })
                .filter_map(|s| s.notice(staff, lang))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    struct Always;

    impl NoticeSource for Always {
        fn notice(&self, staff: &Staff, _: Lang) -> Option<StaffNotice> {
            Some(StaffNotice {
                tone: Tone::Warning,
                title: format!("for {}", staff.id),
                lines: Vec::new(),
                links: Vec::new(),
                button: None,
            })
        }
        fn shown_on(&self) -> &'static [&'static str] {
            &["mail"]
        }
    }

    fn staff(roles: &[Role]) -> Staff {
        Staff {
            tenant: "122289".into(),
            id: "x".into(),
            name: "x".into(),
            department: "shimin".into(),
            roles: roles.to_vec(),
            granted_departments: Vec::new(),
        }
    }

    #[test]
    fn on_the_start_page_and_the_pages_named() {
        let notices = Notices(vec![Arc::new(Always)]);
        let clerk = staff(&[Role::Clerk]);
        let shown = |path: &'static str| {
            let clerk = clerk.clone();
            NOTICES.sync_scope(notices.clone(), move || {
                for_page(&clerk, Lang::Ja, path).len()
            })
        };
        assert_eq!(shown("/t/122289/staff/cases"), 1, "the clerk's start page");
        assert_eq!(shown("/t/122289/staff/mail"), 1);
        assert_eq!(shown("/t/122289/staff/mail/outbox"), 1);
        assert_eq!(shown("/t/122289/staff/mailbox"), 0);
        assert_eq!(shown("/t/122289/staff/visits"), 0);
        assert_eq!(
            shown("/t/242021/staff/mail/outbox"),
            0,
            "another city's path"
        );
        // Outside a request: nothing.
        assert!(for_page(&clerk, Lang::Ja, "/t/122289/staff/cases").is_empty());
    }
}
