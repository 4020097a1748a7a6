//! The back office's menu and start page, by role: the menu lists only
//! the pages the signed-in member of staff may open, and after sign-in
//! each lands on the page of their main role (never one that answers
//! them 403). Each entry's check is the proof its page's handler takes.

use crate::auth::{
    CaseWorker, Clerk, DeptAdmin, Proof, Role, SecurityOfficer, Staff, SystemAdmin, Treasurer,
};
use crate::i18n::{self, Lang};
use crate::web::view::Link;

/// One page of the back office and who may open it.
struct Entry {
    /// The path under `/t/{tenant}/staff/`.
    path: &'static str,
    label_key: &'static str,
    may_open: fn(&Staff) -> bool,
}

fn anyone(_: &Staff) -> bool {
    true
}

/// The menu, in its order. `may_open` mirrors the proof each page's
/// handler extracts (`CaseWorker` for cases, `Clerk` for the counter …).
const ENTRIES: [Entry; 14] = [
    Entry {
        path: "cases",
        label_key: "layout.nav.cases",
        may_open: CaseWorker::holds,
    },
    Entry {
        path: "visits",
        label_key: "layout.nav.visits",
        may_open: CaseWorker::holds,
    },
    Entry {
        path: "counter",
        label_key: "layout.nav.counter",
        may_open: Clerk::holds,
    },
    Entry {
        path: "assist",
        label_key: "layout.nav.assist",
        may_open: Clerk::holds,
    },
    Entry {
        path: "catalogue",
        label_key: "layout.nav.catalogue",
        may_open: anyone,
    },
    Entry {
        path: "navi",
        label_key: "layout.nav.navi",
        may_open: DeptAdmin::holds,
    },
    Entry {
        path: "translations",
        label_key: "layout.nav.translations",
        may_open: DeptAdmin::holds,
    },
    Entry {
        path: "mail/messages",
        label_key: "mail.newsletters.nav",
        may_open: DeptAdmin::holds,
    },
    Entry {
        path: "payments",
        label_key: "payments.charges.nav",
        may_open: Treasurer::holds,
    },
    Entry {
        path: "faq",
        label_key: "layout.nav.faq",
        may_open: anyone,
    },
    Entry {
        path: "knowledge",
        label_key: "layout.nav.knowledge",
        may_open: anyone,
    },
    Entry {
        path: "kpi",
        label_key: "layout.nav.kpi",
        may_open: anyone,
    },
    Entry {
        path: "search",
        label_key: "layout.nav.search_admin",
        may_open: DeptAdmin::holds,
    },
    Entry {
        path: "audit",
        label_key: "layout.nav.audit",
        may_open: SecurityOfficer::holds,
    },
];

/// The system admin's own entries, last in the menu: staff
/// administration, the mail categories and subscribers (personal data),
/// the job queue, the LINE account, the mail settings and mail delivery.
const ADMIN: [Entry; 7] = [
    Entry {
        path: "admin",
        label_key: "layout.nav.staff_admin",
        may_open: SystemAdmin::holds,
    },
    Entry {
        path: "mail/categories",
        label_key: "mail.subscriptions.nav.categories",
        may_open: SystemAdmin::holds,
    },
    Entry {
        path: "mail/subscribers",
        label_key: "mail.subscriptions.nav.subscribers",
        may_open: SystemAdmin::holds,
    },
    Entry {
        path: "jobs",
        label_key: "layout.nav.jobs",
        may_open: SystemAdmin::holds,
    },
    Entry {
        path: "line",
        label_key: "mail.channels.staff.nav",
        may_open: SystemAdmin::holds,
    },
    Entry {
        path: "mail/settings",
        label_key: "mail.sender.nav",
        may_open: SystemAdmin::holds,
    },
    Entry {
        path: "mail/outbox",
        label_key: "mail.delivery.nav",
        may_open: SystemAdmin::holds,
    },
];

/// The menu links `staff` may follow, in the page's language.
pub fn menu(staff: &Staff, lang: Lang) -> Vec<Link> {
    ENTRIES
        .iter()
        .chain(ADMIN.iter())
        .filter(|e| (e.may_open)(staff))
        .map(|e| Link {
            label: i18n::t(lang, e.label_key).to_string(),
            href: format!("/t/{}/staff/{}", staff.tenant, e.path),
        })
        .collect()
}

/// Where `staff` lands after signing in: the system admin on staff
/// administration, the security officer on the audit log, everyone who
/// works on cases on the case list, the treasurer on the charges, anyone
/// else on their account page.
pub fn start_page(staff: &Staff) -> String {
    let path = if SystemAdmin::holds(staff) {
        "admin"
    } else if staff.roles.contains(&Role::SecurityOfficer) {
        "audit"
    } else if CaseWorker::holds(staff) {
        "cases"
    } else if Treasurer::holds(staff) {
        "payments"
    } else {
        "account"
    };
    format!("/t/{}/staff/{path}", staff.tenant)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn start_page_by_main_role() {
        let start = |roles: &[Role]| start_page(&staff(roles));
        assert_eq!(start(&[Role::SystemAdmin]), "/t/122289/staff/admin");
        assert_eq!(start(&[Role::SecurityOfficer]), "/t/122289/staff/audit");
        assert_eq!(start(&[Role::Clerk]), "/t/122289/staff/cases");
        assert_eq!(start(&[Role::Approver]), "/t/122289/staff/cases");
        assert_eq!(start(&[Role::DeptAdmin]), "/t/122289/staff/cases");
        assert_eq!(start(&[Role::Treasurer]), "/t/122289/staff/payments");
        assert_eq!(start(&[]), "/t/122289/staff/account");
    }

    #[test]
    fn menu_by_role() {
        let paths = |roles: &[Role]| -> Vec<String> {
            menu(&staff(roles), Lang::Ja)
                .into_iter()
                .map(|l| l.href.trim_start_matches("/t/122289/staff/").to_string())
                .collect()
        };
        assert_eq!(
            paths(&[Role::SecurityOfficer]),
            ["catalogue", "faq", "knowledge", "kpi", "audit"]
        );
        assert_eq!(
            paths(&[Role::Reviewer, Role::Approver]),
            ["cases", "visits", "catalogue", "faq", "knowledge", "kpi"]
        );
        assert_eq!(paths(&[Role::SystemAdmin]).len(), 21);
        assert!(!paths(&[Role::DeptAdmin]).contains(&"mail/settings".to_string()));
        assert_eq!(
            paths(&[Role::Treasurer]),
            ["catalogue", "payments", "faq", "knowledge", "kpi"]
        );
        assert!(!paths(&[Role::DeptAdmin]).contains(&"payments".to_string()));
        assert!(paths(&[Role::SystemAdmin]).contains(&"mail/subscribers".to_string()));
        assert!(!paths(&[Role::DeptAdmin]).contains(&"mail/subscribers".to_string()));
        assert_eq!(
            paths(&[Role::SystemAdmin]).last().map(String::as_str),
            Some("mail/outbox")
        );
        assert!(!paths(&[Role::DeptAdmin]).contains(&"line".to_string()));
        assert!(!paths(&[Role::DeptAdmin]).contains(&"mail/outbox".to_string()));
        assert!(!paths(&[Role::DeptAdmin]).contains(&"jobs".to_string()));
        assert!(paths(&[Role::DeptAdmin]).contains(&"translations".to_string()));
        assert!(!paths(&[Role::Clerk]).contains(&"translations".to_string()));
        assert!(paths(&[Role::DeptAdmin]).contains(&"mail/messages".to_string()));
        assert!(!paths(&[Role::Reviewer, Role::Approver]).contains(&"mail/messages".to_string()));
    }
}
