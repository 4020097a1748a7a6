//! Sending: a message's audience (active subscribers of its category
//! whose address is not suppressed), one personalised outbox row each
//! (the footer's preferences link, the one-click unsubscribe URL), all
//! queued in ONE transaction with the message's change to `sent`: the
//! job may run twice or crash half-way, every resident is queued once.
//! Also the test send to the author's own address and the progress of a
//! send, read from the outbox by campaign.

use std::sync::Arc;

use kernel::audit::{self, AuditEntry};
use kernel::auth::Staff;
use kernel::i18n::{self, Lang};
use kernel::{AppError, AppResult, Db};
use serde_json::json;
use sqlx::Row;

use super::markdown;
use super::model::{choose, MessageState, MessageText};
use crate::links::LinkKey;
use crate::outbox::{self, NewMail};

/// What the links in a newsletter need: the public address and the key
/// of subscriber links.
#[derive(Clone)]
pub struct Sender {
    pub public_url: Arc<str>,
    pub links: LinkKey,
}

/// Rows queued per statement batch (bounded memory for any audience).
const BATCH: usize = 5_000;

/// One resident a message reaches.
struct Reader {
    id: String,
    /// Sealed (`mail::address`); empty when only counted.
    address: String,
    lang: String,
}

/// The active subscribers of `category` whose address is not
/// suppressed, by id. Three single-table reads joined here rather than
/// one SQL join: a join's plan depends on the statistics, and right
/// after a large import (none yet) PostgreSQL chose a nested loop that
/// took minutes for 100,000 subscribers; these reads cost the same
/// whatever the statistics say.
async fn audience(
    tx: &mut sqlx::AnyConnection,
    tenant: &str,
    category: &str,
    addresses: bool,
) -> AppResult<Vec<Reader>> {
    use std::collections::HashSet;
    let subscribed: HashSet<String> = sqlx::query(
        "SELECT subscriber FROM mail_subscriptions WHERE tenant = $1 AND category = $2",
    )
    .bind(tenant)
    .bind(category)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    let suppressed: HashSet<String> =
        sqlx::query("SELECT address_hash FROM mail_suppressions WHERE tenant = $1")
            .bind(tenant)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    let sql = if addresses {
        "SELECT id, address_hash, lang, address FROM mail_subscribers WHERE tenant = $1 AND state = 'active'"
    } else {
        "SELECT id, address_hash, lang FROM mail_subscribers WHERE tenant = $1 AND state = 'active'"
    };
    let rows = sqlx::query(sql).bind(tenant).fetch_all(&mut *tx).await?;
    let mut out: Vec<Reader> = rows
        .iter()
        .filter(|r| {
            subscribed.contains(&r.get::<String, _>(0))
                && !suppressed.contains(&r.get::<String, _>(1))
        })
        .map(|r| Reader {
            id: r.get(0),
            lang: r.get(2),
            address: if addresses { r.get(3) } else { String::new() },
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// How many residents a message of `category` reaches now.
pub async fn audience_count(db: &Db, tenant: &str, category: &str) -> AppResult<i64> {
    let mut conn = db.read().acquire().await?;
    Ok(audience(&mut conn, tenant, category, false).await?.len() as i64)
}

/// A language version ready to personalise.
struct Rendered {
    lang: Lang,
    subject: String,
    text: String,
    html: String,
    /// The footer's text around the preferences URL.
    footer: (String, String),
    footer_link: &'static str,
}

const URL_MARK: &str = "\u{1}URL\u{1}";

fn render(t: &MessageText, urgent: bool) -> Rendered {
    let lang = t.lang;
    let subject = if urgent {
        format!(
            "{}{}",
            i18n::t(lang, "mail.newsletters.urgent_prefix"),
            t.subject
        )
    } else {
        t.subject.clone()
    };
    let footer = i18n::tf(lang, "mail.newsletters.footer_text", &[("url", URL_MARK)]);
    let (before, after) = footer.split_once(URL_MARK).unwrap_or((footer.as_str(), ""));
    Rendered {
        lang,
        subject,
        text: t.body.clone(),
        html: markdown::to_html(&t.body),
        footer: (before.to_string(), after.to_string()),
        footer_link: i18n::t(lang, "mail.newsletters.footer_link"),
    }
}

impl Rendered {
    /// The text and HTML bodies with the footer linking `url`.
    fn bodies(&self, url: &str) -> (String, String) {
        let mut text =
            String::with_capacity(self.text.len() + self.footer.0.len() + url.len() + 16);
        text.push_str(&self.text);
        text.push_str("\n\n-- \n");
        text.push_str(&self.footer.0);
        text.push_str(url);
        text.push_str(&self.footer.1);
        let mut html = String::with_capacity(self.html.len() + url.len() + 64);
        html.push_str(&self.html);
        html.push_str("<hr>\n<p><a href=\"");
        html.push_str(&markdown::escape(url));
        html.push_str("\">");
        html.push_str(self.footer_link);
        html.push_str("</a></p>\n");
        (text, html)
    }
}

/// What the rows of one send are made from.
struct Build {
    vault: kernel::crypto::Vault,
    sender: Sender,
    tenant: String,
    id: String,
    rendered: Vec<Rendered>,
}

impl Build {
    /// The personalised rows of `chunk`.
    fn batch(&self, chunk: &[Reader]) -> AppResult<Vec<NewMail>> {
        let tenant = self.tenant.as_str();
        let available: Vec<Lang> = self.rendered.iter().map(|r| r.lang).collect();
        let mut mails = Vec::with_capacity(chunk.len());
        for r in chunk {
            let to = crate::address::open(&self.vault, tenant, &r.address)?;
            let reader = Lang::parse(&r.lang).unwrap_or(Lang::Ja);
            let lang = choose(reader, &available);
            let Some(v) = self.rendered.iter().find(|x| x.lang == lang) else {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "message {} has no Japanese text",
                    self.id
                )));
            };
            let (prefs, unsubscribe) = subscriber_links(&self.sender, tenant, &r.id);
            let (body, html) = v.bodies(&prefs);
            mails.push(NewMail {
                tenant: tenant.to_string(),
                kind: super::KIND.to_string(),
                to,
                lang,
                subject: v.subject.clone(),
                body,
                body_html: Some(html),
                case_id: None,
                campaign: Some(self.id.clone()),
                subscriber: Some(r.id.clone()),
                unsubscribe_url: Some(unsubscribe),
            });
        }
        Ok(mails)
    }
}

/// What a send job did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Not this version, or not approved (edited, cancelled, already sent).
    Skipped,
    /// Its audience grew past the threshold since it was let go without
    /// a second person: it waits for approval now.
    NeedsApproval(i64),
    /// Queued for this many residents.
    Queued(i64),
}

/// Sends `version` of message `id`: once, whatever happens around it.
pub async fn send(
    db: &Db,
    sender: &Sender,
    tenant: &str,
    id: &str,
    version: i64,
    now: i64,
) -> AppResult<Sent> {
    let vault = db.vault()?;
    let mut tx = db.begin().await?;
    // The change to `sent` first: it takes the row (a second run waits,
    // then finds another version and does nothing).
    let row = sqlx::query(
        "UPDATE mail_messages SET state = $1, sent_at = $2, updated_at = $2, version = version + 1 \
         WHERE tenant = $3 AND id = $4 AND version = $5 AND state = $6 RETURNING category, urgent, approver",
    )
    .bind(MessageState::Sent.as_str())
    .bind(now)
    .bind(tenant)
    .bind(id)
    .bind(version)
    .bind(MessageState::Approved.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(Sent::Skipped);
    };
    let category: String = row.get(0);
    let urgent = row.get::<i64, _>(1) != 0;
    let approver: Option<String> = row.get(2);
    let readers = audience(&mut tx, tenant, &category, true).await?;
    let count = readers.len() as i64;
    let threshold = super::settings::threshold(&mut *tx, tenant).await?;
    if approver.is_none() && count > threshold {
        sqlx::query("UPDATE mail_messages SET state = $1, sent_at = NULL, approved_at = NULL WHERE tenant = $2 AND id = $3")
            .bind(MessageState::AwaitingApproval.as_str())
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            tenant,
            now,
            &[
                AuditEntry::new("system:newsletter", "mail.newsletter.needs_approval", id)
                    .detail(json!({"recipients": count, "threshold": threshold})),
            ],
        )
        .await?;
        tx.commit().await?;
        return Ok(Sent::NeedsApproval(count));
    }
    let texts = super::store::texts(&mut *tx, tenant, id).await?;
    let rendered: Vec<Rendered> = texts.iter().map(|t| render(t, urgent)).collect();
    // The rows of the next batch are built on a blocking thread while the
    // batch before is inserted (opening addresses and writing bodies is
    // half the work).
    let (batches, mut ready) = tokio::sync::mpsc::channel::<AppResult<Vec<NewMail>>>(2);
    let build = Build {
        vault: vault.clone(),
        sender: sender.clone(),
        tenant: tenant.to_string(),
        id: id.to_string(),
        rendered,
    };
    let builder = tokio::task::spawn_blocking(move || {
        for chunk in readers.chunks(BATCH) {
            if batches.blocking_send(build.batch(chunk)).is_err() {
                break;
            }
        }
    });
    let mut queued = 0i64;
    while let Some(mails) = ready.recv().await {
        let mails = mails?;
        outbox::queue(&mut tx, &mails, now).await?;
        queued += mails.len() as i64;
    }
    builder
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("newsletter rows: {e}")))?;
    sqlx::query("UPDATE mail_messages SET recipients = $1 WHERE tenant = $2 AND id = $3")
        .bind(queued)
        .bind(tenant)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new("system:newsletter", "mail.newsletter.send", id)
                .detail(json!({"recipients": queued, "version": version})),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Sent::Queued(queued))
}

/// The preferences and one-click unsubscribe URLs of `subscriber`, with
/// one token computed for both (the same as `mail::links` makes them,
/// checked by a test).
pub fn subscriber_links(sender: &Sender, tenant: &str, subscriber: &str) -> (String, String) {
    let token = sender.links.token(tenant, subscriber);
    let base = sender.public_url.trim_end_matches('/');
    (
        format!("{base}/t/{tenant}/mail/preferences/{subscriber}/{token}"),
        format!("{base}/t/{tenant}/mail/unsubscribe/{subscriber}/{token}"),
    )
}

/// A language version as a resident receives it: subject, text and HTML
/// bodies with the footer (linking the sign-up page, where a
/// subscriber's mail links their own preferences page). The preview and
/// the test send show exactly this.
pub fn as_received(
    sender: &Sender,
    tenant: &str,
    t: &MessageText,
    urgent: bool,
) -> (String, String, String) {
    let r = render(t, urgent);
    let (text, html) = r.bodies(&signup_url(sender, tenant));
    (r.subject, text, html)
}

fn signup_url(sender: &Sender, tenant: &str) -> String {
    format!(
        "{}/t/{tenant}/mail",
        sender.public_url.trim_end_matches('/')
    )
}

/// Why a test send could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestRefused {
    /// The member of staff has not set their own address.
    NoAddress,
}

/// Queues every language version of a message to the member of staff's
/// own address (kind `newsletter.test`; the footer links the sign-up
/// page, not a subscriber's). The number queued.
pub async fn test_send(
    db: &Db,
    sender: &Sender,
    staff: &Staff,
    id: &str,
    now: i64,
) -> AppResult<Result<usize, TestRefused>> {
    let m = super::store::get(db, &staff.tenant, id).await?;
    let Some(to) = super::settings::my_address(db, staff).await? else {
        return Ok(Err(TestRefused::NoAddress));
    };
    let mails: Vec<NewMail> = m
        .texts
        .iter()
        .map(|t| {
            let (subject, body, html) = as_received(sender, &staff.tenant, t, m.urgent);
            NewMail {
                tenant: staff.tenant.clone(),
                kind: super::TEST_KIND.to_string(),
                to: to.clone(),
                lang: t.lang,
                subject: format!(
                    "{}{subject}",
                    i18n::t(t.lang, "mail.newsletters.test_prefix")
                ),
                body,
                body_html: Some(html),
                case_id: None,
                campaign: None,
                subscriber: None,
                unsubscribe_url: None,
            }
        })
        .collect();
    let mut tx = db.begin().await?;
    outbox::queue(&mut tx, &mails, now).await?;
    audit::append(
        &mut tx,
        &staff.tenant,
        now,
        &[
            AuditEntry::new(staff.actor(), "mail.newsletter.test_send", id).detail(
                json!({"languages": m.langs().iter().map(|l| l.code()).collect::<Vec<_>>()}),
            ),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(mails.len()))
}

/// Where a send stands, from the outbox rows of its campaign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Handed to the mail server (or kept in the demo mailbox).
    pub sent: i64,
    /// Not handed over yet (queued, being sent, held).
    pub pending: i64,
    /// Refused, bounced, or of unknown fate after a sender stopped.
    pub failed: i64,
}

impl Progress {
    pub fn total(&self) -> i64 {
        self.sent + self.pending + self.failed
    }
    pub fn done(&self) -> bool {
        self.pending == 0
    }
}

pub async fn progress(db: &Db, tenant: &str, id: &str) -> AppResult<Progress> {
    let rows = sqlx::query(
        "SELECT state, COUNT(*) FROM outbox WHERE tenant = $1 AND campaign = $2 GROUP BY state",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(db.read())
    .await?;
    let mut p = Progress::default();
    for r in &rows {
        let n: i64 = r.get(1);
        match outbox::State::parse(&r.get::<String, _>(0)) {
            Some(outbox::State::Sent | outbox::State::Demo) => p.sent += n,
            Some(outbox::State::Queued | outbox::State::Sending | outbox::State::Held) => {
                p.pending += n
            }
            _ => p.failed += n,
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links;

    #[test]
    fn the_footer_links_the_preferences_page() {
        let r = render(
            &MessageText {
                lang: Lang::Ja,
                subject: "避難所".into(),
                body: "**開設**しました".into(),
            },
            true,
        );
        assert!(r.subject.starts_with('【'), "{}", r.subject);
        let (text, html) = r.bodies("https://m.example.jp/t/122289/mail/preferences/s1/abc");
        assert!(text.starts_with("**開設**しました\n\n-- \n"), "{text}");
        assert!(text.contains("https://m.example.jp/t/122289/mail/preferences/s1/abc"));
        assert!(
            html.starts_with("<p><strong>開設</strong>しました</p>"),
            "{html}"
        );
        assert!(html.contains("<a href=\"https://m.example.jp/t/122289/mail/preferences/s1/abc\">"));
    }

    #[test]
    fn links_are_the_subscriber_links() {
        let s = Sender {
            public_url: "https://m.example.jp/".into(),
            links: LinkKey::from_bytes(vec![1; 32]),
        };
        let (p, u) = subscriber_links(&s, "122289", "s1");
        assert_eq!(
            p,
            links::preferences_url(&s.public_url, &s.links, "122289", "s1")
        );
        assert_eq!(
            u,
            links::unsubscribe_url(&s.public_url, &s.links, "122289", "s1")
        );
        assert!(s
            .links
            .verify("122289", "s1", p.rsplit('/').next().unwrap()));
    }
}
