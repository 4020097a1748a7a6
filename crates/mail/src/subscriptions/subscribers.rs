//! A resident's subscription (`mail_subscribers`, `mail_subscriptions`):
//! sign-up with double opt-in, confirmation, preferences and
//! unsubscribing. Addresses are sealed and found by their keyed hash
//! ([`crate::address`]); the confirmation token is stored only as its
//! SHA-256.
//!
//! A sign-up never tells whether the address is already subscribed: the
//! answer is the same, and an active subscriber gets a mail with the link
//! to their preferences instead of a confirmation. An address that
//! bounced hard (`mail_suppressions`) is told so, with what to do; its
//! owner confirming a link lifts the suppression (the mail arrived).

use jp::Email;
use kernel::audit::{self, AuditEntry};
use kernel::db::Tx;
use kernel::i18n::{self, Lang};
use kernel::{AppResult, Db};
use sqlx::Row;

use super::state::SubscriptionsState;
use crate::outbox::{self, NewMail};

/// How long a confirmation link works.
pub const CONFIRM_VALID_HOURS: i64 = 24;
const CONFIRM_VALID_MS: i64 = CONFIRM_VALID_HOURS * 3_600_000;

/// A sign-up of the same address within this time sends no second mail
/// (the answer is the same): nobody can make the city flood an inbox.
pub const RESEND_AFTER_MS: i64 = 10 * 60_000;

/// `mail_subscribers.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubState {
    /// Signed up, not confirmed yet.
    Pending,
    Active,
    /// Kept until the retention period ends, then deleted.
    Unsubscribed,
}

impl SubState {
    pub const ALL: [SubState; 3] = [SubState::Pending, SubState::Active, SubState::Unsubscribed];

    pub fn as_str(self) -> &'static str {
        match self {
            SubState::Pending => "pending",
            SubState::Active => "active",
            SubState::Unsubscribed => "unsubscribed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A subscriber as the preferences page and staff see them (the address
/// still sealed).
#[derive(Clone, Debug)]
pub struct Subscriber {
    pub id: String,
    pub sealed_address: String,
    pub address_hash: String,
    pub lang: Lang,
    pub state: SubState,
    pub consent_at: Option<i64>,
    pub consent_source: String,
    /// When the confirmation link sent last stops working.
    pub confirm_expires_at: Option<i64>,
    pub categories: Vec<String>,
}

/// What a resident asked for on the sign-up form, checked.
#[derive(Clone, Debug)]
pub struct SignUp {
    pub address: Email,
    pub categories: Vec<String>,
    pub lang: Lang,
}

/// What the sign-up page says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedUp {
    /// "We sent a mail": a confirmation, or to an active subscriber the
    /// link to their preferences (the page does not say which).
    Mailed,
    /// The address bounced hard before: nothing was sent.
    Suppressed,
}

const SELECT: &str = "SELECT id, address, address_hash, lang, state, consent_at, consent_source, confirm_expires_at FROM mail_subscribers";

fn from_row(r: &sqlx::any::AnyRow) -> Subscriber {
    Subscriber {
        id: r.get(0),
        sealed_address: r.get(1),
        address_hash: r.get(2),
        lang: Lang::parse(&r.get::<String, _>(3)).unwrap_or_default(),
        state: SubState::parse(&r.get::<String, _>(4)).unwrap_or(SubState::Pending),
        consent_at: r.get(5),
        consent_source: r.get(6),
        confirm_expires_at: r.get(7),
        categories: Vec::new(),
    }
}

async fn categories_of(db: &Db, tenant: &str, id: &str) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT category FROM mail_subscriptions WHERE tenant = $1 AND subscriber = $2 ORDER BY category",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(db.read())
    .await?)
}

/// One subscriber with their categories.
pub async fn get(db: &Db, tenant: &str, id: &str) -> AppResult<Option<Subscriber>> {
    let row = sqlx::query(&format!("{SELECT} WHERE tenant = $1 AND id = $2"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    let Some(mut s) = row.as_ref().map(from_row) else {
        return Ok(None);
    };
    s.categories = categories_of(db, tenant, id).await?;
    Ok(Some(s))
}

async fn by_hash(tx: &mut Tx, tenant: &str, hash: &str) -> AppResult<Option<Subscriber>> {
    let row = sqlx::query(&format!("{SELECT} WHERE tenant = $1 AND address_hash = $2"))
        .bind(tenant)
        .bind(hash)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Whether the address with this hash must not be written to.
pub async fn suppressed(db: &Db, tenant: &str, hash: &str) -> AppResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mail_suppressions WHERE tenant = $1 AND address_hash = $2",
    )
    .bind(tenant)
    .bind(hash)
    .fetch_one(db.read())
    .await?;
    Ok(n > 0)
}

/// Replaces the subscriber's categories.
async fn set_categories(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    categories: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM mail_subscriptions WHERE tenant = $1 AND subscriber = $2")
        .bind(tenant)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for c in categories {
        sqlx::query(
            "INSERT INTO mail_subscriptions (tenant, subscriber, category, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(id)
        .bind(c)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Replaces the choice a confirmation link carries (applied by
/// [`confirm`]).
async fn set_pending(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    categories: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM mail_pending_choices WHERE tenant = $1 AND subscriber = $2")
        .bind(tenant)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for c in categories {
        sqlx::query(
            "INSERT INTO mail_pending_choices (tenant, subscriber, category, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(id)
        .bind(c)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Makes the choice the used link carried the subscriber's own (their
/// categories and language); a subscriber without one keeps theirs.
async fn apply_pending(tx: &mut Tx, tenant: &str, id: &str, now: i64) -> Result<(), sqlx::Error> {
    let chosen: Vec<String> = sqlx::query_scalar(
        "SELECT category FROM mail_pending_choices WHERE tenant = $1 AND subscriber = $2 ORDER BY category",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    if !chosen.is_empty() {
        set_categories(tx, tenant, id, &chosen, now).await?;
        sqlx::query("DELETE FROM mail_pending_choices WHERE tenant = $1 AND subscriber = $2")
            .bind(tenant)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "UPDATE mail_subscribers SET lang = COALESCE(pending_lang, lang), pending_lang = NULL \
         WHERE tenant = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The names of `codes` in `lang`, one per line.
async fn category_lines(db: &Db, tenant: &str, codes: &[String], lang: Lang) -> AppResult<String> {
    Ok(super::categories::list(db, tenant)
        .await?
        .iter()
        .filter(|c| codes.contains(&c.code))
        .map(|c| format!("・{}", c.name(lang)))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Signs up: a confirmation mail for a new, pending or unsubscribed
/// address, a mail with the preferences link for an active one. The
/// categories and language chosen travel with the confirmation link
/// (`mail_pending_choices`, `pending_lang`): nothing of a known
/// subscriber changes until that link is used, and then the new choice
/// replaces the old. A newer link replaces an older one, with its choice.
pub async fn sign_up(st: &SubscriptionsState, tenant: &str, s: &SignUp) -> AppResult<SignedUp> {
    let db = &st.db;
    let hash = crate::address::hash(&st.vault, tenant, &s.address);
    if suppressed(db, tenant, &hash).await? {
        return Ok(SignedUp::Suppressed);
    }
    let profile = kernel::tenant::load(db, tenant).await?;
    let city = profile.name.get(s.lang).to_string();
    let lines = category_lines(db, tenant, &s.categories, s.lang).await?;
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let existing = by_hash(&mut tx, tenant, &hash).await?;
    if let Some(sub) = &existing {
        if mailed_lately(&mut tx, tenant, sub, now).await? {
            return Ok(SignedUp::Mailed);
        }
    }
    let mail = match existing {
        Some(sub) if sub.state == SubState::Active => {
            let lang = sub.lang;
            let url = st.preferences_url(tenant, &sub.id);
            mail_to(
                tenant,
                "subscription.existing",
                &s.address,
                lang,
                &sub.id,
                i18n::tf(
                    lang,
                    "mail.subscriptions.existing_mail.subject",
                    &[("city", &city)],
                ),
                i18n::tf(
                    lang,
                    "mail.subscriptions.existing_mail.body",
                    &[("city", &city), ("url", &url)],
                ),
                st.unsubscribe_url(tenant, &sub.id),
            )
        }
        other => {
            let token = kernel::ids::token();
            let id = match other {
                Some(sub) => {
                    sqlx::query(
                        "UPDATE mail_subscribers SET pending_lang = $1, confirm_token_hash = $2, confirm_expires_at = $3 \
                         WHERE tenant = $4 AND id = $5",
                    )
                    .bind(s.lang.code())
                    .bind(kernel::ids::hash_token(&token))
                    .bind(now + CONFIRM_VALID_MS)
                    .bind(tenant)
                    .bind(&sub.id)
                    .execute(&mut *tx)
                    .await?;
                    sub.id
                }
                None => {
                    let id = kernel::ids::short_id();
                    sqlx::query(
                        "INSERT INTO mail_subscribers (tenant, id, address, address_hash, lang, state, consent_at, \
                         consent_source, confirm_token_hash, confirm_expires_at, created_at, confirmed_at, unsubscribed_at, pending_lang) \
                         VALUES ($1, $2, $3, $4, $5, 'pending', NULL, 'web', $6, $7, $8, NULL, NULL, $5)",
                    )
                    .bind(tenant)
                    .bind(&id)
                    .bind(crate::address::seal(&st.vault, tenant, &s.address))
                    .bind(&hash)
                    .bind(s.lang.code())
                    .bind(kernel::ids::hash_token(&token))
                    .bind(now + CONFIRM_VALID_MS)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
            };
            set_pending(&mut tx, tenant, &id, &s.categories, now).await?;
            let url = format!(
                "{}/t/{tenant}/mail/confirm/{token}",
                st.public_url.0.trim_end_matches('/')
            );
            let mut m = mail_to(
                tenant,
                "subscription.confirm",
                &s.address,
                s.lang,
                &id,
                i18n::tf(
                    s.lang,
                    "mail.subscriptions.confirm_mail.subject",
                    &[("city", &city)],
                ),
                i18n::tf(
                    s.lang,
                    "mail.subscriptions.confirm_mail.body",
                    &[
                        ("city", &city),
                        ("url", &url),
                        ("hours", &CONFIRM_VALID_HOURS.to_string()),
                        ("categories", &lines),
                    ],
                ),
                String::new(),
            );
            // Not subscribed yet: nothing to unsubscribe from.
            m.unsubscribe_url = None;
            m
        }
    };
    outbox::queue(&mut tx, &[mail], now).await?;
    tx.commit().await?;
    Ok(SignedUp::Mailed)
}

/// Whether `sub` was sent a confirmation, or (active) a mail about
/// signing up again, in the last [`RESEND_AFTER_MS`].
async fn mailed_lately(tx: &mut Tx, tenant: &str, sub: &Subscriber, now: i64) -> AppResult<bool> {
    if sub.state != SubState::Active {
        return Ok(sub
            .confirm_expires_at
            .is_some_and(|end| end - CONFIRM_VALID_MS > now - RESEND_AFTER_MS));
    }
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE tenant = $1 AND subscriber = $2 AND kind = 'subscription.existing' AND created_at > $3",
    )
    .bind(tenant)
    .bind(&sub.id)
    .bind(now - RESEND_AFTER_MS)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

#[allow(clippy::too_many_arguments)]
fn mail_to(
    tenant: &str,
    kind: &str,
    to: &Email,
    lang: Lang,
    subscriber: &str,
    subject: String,
    body: String,
    unsubscribe_url: String,
) -> NewMail {
    NewMail {
        tenant: tenant.to_string(),
        kind: kind.to_string(),
        to: to.clone(),
        lang,
        subject,
        body,
        body_html: None,
        case_id: None,
        campaign: None,
        subscriber: Some(subscriber.to_string()),
        unsubscribe_url: Some(unsubscribe_url),
    }
}

/// What a confirmation link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// The subscription is active (the subscriber's id).
    Done(String),
    /// The link is older than [`CONFIRM_VALID_HOURS`].
    Expired,
    /// No such link: used already, replaced by a newer one, or never made.
    Invalid,
}

/// Whether a confirmation token is usable now (for the page that asks
/// to confirm; nothing changes).
pub async fn check_token(db: &Db, tenant: &str, token: &str) -> AppResult<Confirmed> {
    let row = sqlx::query(
        "SELECT id, confirm_expires_at FROM mail_subscribers WHERE tenant = $1 AND confirm_token_hash = $2",
    )
    .bind(tenant)
    .bind(kernel::ids::hash_token(token))
    .fetch_optional(db.read())
    .await?;
    Ok(match row {
        None => Confirmed::Invalid,
        Some(r) if r.get::<Option<i64>, _>(1).unwrap_or(0) < kernel::clock::now_ms() => {
            Confirmed::Expired
        }
        Some(r) => Confirmed::Done(r.get(0)),
    })
}

/// Confirms a sign-up: the subscription becomes active (consent given
/// now, on the web) with the categories and language the link carried,
/// the link is used up, and a suppression of the
/// address is lifted (the mail arrived).
pub async fn confirm(db: &Db, tenant: &str, token: &str) -> AppResult<Confirmed> {
    let id = match check_token(db, tenant, token).await? {
        Confirmed::Done(id) => id,
        other => return Ok(other),
    };
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE mail_subscribers SET state = 'active', consent_at = $1, consent_source = 'web', confirmed_at = $1, \
         unsubscribed_at = NULL, confirm_token_hash = NULL, confirm_expires_at = NULL \
         WHERE tenant = $2 AND id = $3 AND confirm_token_hash = $4",
    )
    .bind(now)
    .bind(tenant)
    .bind(&id)
    .bind(kernel::ids::hash_token(token))
    .execute(&mut *tx)
    .await?;
    if kernel::db::rows_affected(&r) == 0 {
        // Used at the same moment by another request.
        return Ok(Confirmed::Invalid);
    }
    apply_pending(&mut tx, tenant, &id, now).await?;
    sqlx::query(
        "DELETE FROM mail_suppressions WHERE tenant = $1 AND address_hash = \
         (SELECT address_hash FROM mail_subscribers WHERE tenant = $1 AND id = $2)",
    )
    .bind(tenant)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            "resident",
            "mail.subscriber.confirm",
            format!("mail_subscriber:{id}"),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(Confirmed::Done(id))
}

/// New categories and language from the preferences page. An
/// unsubscribed subscriber who chooses categories again is active again
/// (the link came in a mail to them: it proves the address).
pub async fn update(
    db: &Db,
    tenant: &str,
    id: &str,
    categories: &[String],
    lang: Lang,
) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE mail_subscribers SET lang = $1, \
         consent_at = CASE WHEN state = 'active' THEN consent_at ELSE $2 END, \
         consent_source = CASE WHEN state = 'active' THEN consent_source ELSE 'web' END, \
         confirmed_at = CASE WHEN state = 'active' THEN confirmed_at ELSE $2 END, \
         state = 'active', unsubscribed_at = NULL, confirm_token_hash = NULL, confirm_expires_at = NULL \
         WHERE tenant = $3 AND id = $4",
    )
    .bind(lang.code())
    .bind(now)
    .bind(tenant)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    set_categories(&mut tx, tenant, id, categories, now).await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            "resident",
            "mail.subscriber.update",
            format!("mail_subscriber:{id}"),
        )
        .detail(serde_json::json!({"categories": categories, "lang": lang.code()}))],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Unsubscribes from everything (the preferences page or RFC 8058's
/// one-click POST). Doing it again changes nothing.
pub async fn unsubscribe(db: &Db, tenant: &str, id: &str) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE mail_subscribers SET state = 'unsubscribed', unsubscribed_at = $1, \
         confirm_token_hash = NULL, confirm_expires_at = NULL \
         WHERE tenant = $2 AND id = $3 AND state <> 'unsubscribed'",
    )
    .bind(now)
    .bind(tenant)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if kernel::db::rows_affected(&r) == 0 {
        return Ok(());
    }
    set_categories(&mut tx, tenant, id, &[], now).await?;
    // Newsletters queued for them and not handed off yet are not sent.
    crate::outbox::withdraw_for_subscriber(&mut tx, tenant, id).await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            "resident",
            "mail.subscriber.unsubscribe",
            format!("mail_subscriber:{id}"),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
