//! The back office's notice about delivery (`kernel::web::notices`):
//! while nothing is sent (production without a mail server, or one that
//! has not passed a test connection) every staff member's start page and
//! the mail pages say so, with the reason and what to do; a system
//! administrator also gets the links to 配信状況 and メールの設定 and the
//! button that tests the connection now. In demo mode a quieter note says
//! that mail goes to the demo mailbox.

use kernel::auth::{Proof, Staff, SystemAdmin};
use kernel::i18n::{self, Lang};
use kernel::web::notices::{NoticeButton, NoticeSource, StaffNotice, Tone};
use kernel::web::Link;

use super::{Deliverer, Status};

/// The notice source the server registers.
pub struct DeliveryNotice(pub Deliverer);

/// Where an administrator asks for a test connection now.
pub fn test_connection_path(tenant: &str) -> String {
    format!("/t/{tenant}/staff/mail/outbox/test-connection")
}

impl NoticeSource for DeliveryNotice {
    fn notice(&self, staff: &Staff, lang: Lang) -> Option<StaffNotice> {
        let admin = <SystemAdmin as Proof>::holds(staff);
        let base = format!("/t/{}/staff/mail", staff.tenant);
        let link = |key: &str, path: &str| Link {
            label: i18n::t(lang, key).to_string(),
            href: format!("{base}/{path}"),
        };
        match self.0.status() {
            Status::Ready => None,
            Status::Demo => Some(StaffNotice {
                tone: Tone::Info,
                title: i18n::t(lang, "mail.delivery.notice.demo_title").to_string(),
                lines: vec![i18n::t(lang, "mail.delivery.notice.demo").to_string()],
                links: if admin {
                    vec![link("mail.delivery.demo_title", "demo")]
                } else {
                    Vec::new()
                },
                button: None,
            }),
            Status::NotReady(reason) => {
                let mut lines = vec![
                    i18n::tf(lang, "mail.delivery.notice.reason", &[("reason", &reason)]),
                    i18n::t(lang, "mail.delivery.notice.todo").to_string(),
                ];
                if !admin {
                    lines.push(i18n::t(lang, "mail.delivery.notice.ask_admin").to_string());
                }
                Some(StaffNotice {
                    tone: Tone::Warning,
                    title: i18n::t(lang, "mail.delivery.notice.title").to_string(),
                    lines,
                    links: if admin {
                        vec![
                            link("mail.delivery.title", "outbox"),
                            link("mail.sender.title", "settings"),
                        ]
                    } else {
                        Vec::new()
                    },
                    button: admin.then(|| NoticeButton {
                        label: i18n::t(lang, "mail.delivery.test_connection").to_string(),
                        action: test_connection_path(&staff.tenant),
                    }),
                })
            }
        }
    }

    fn shown_on(&self) -> &'static [&'static str] {
        &["mail"]
    }
}
