//! LINE users of a municipality's account and the categories they
//! confirmed. A follow makes a user `pending` with a one-time link to
//! the confirmation page; confirming there makes them `linked` (they
//! receive pushes of those categories) and uses the link up; an unfollow
//! makes them `unfollowed` and deletes their categories.

use kernel::db::Tx;
use kernel::{AppResult, Db};
use sqlx::Row;

/// How long a link to the confirmation page works.
pub const LINK_VALID_MS: i64 = 24 * 3_600_000;

/// A LINE user's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserState {
    Pending,
    Linked,
    Unfollowed,
}

impl UserState {
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Pending => "pending",
            UserState::Linked => "linked",
            UserState::Unfollowed => "unfollowed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(UserState::Pending),
            "linked" => Some(UserState::Linked),
            "unfollowed" => Some(UserState::Unfollowed),
            _ => None,
        }
    }
}

/// A user who follows (again, or for the first time, or who wrote
/// before madoguchi knew them): kept `linked` if linked, else `pending`;
/// a fresh one-time link token is returned (the old one stops working).
pub async fn follow(tx: &mut Tx, tenant: &str, user: &str, now: i64) -> AppResult<String> {
    let token = kernel::ids::token();
    let hash = kernel::ids::hash_token(&token);
    sqlx::query(
        "INSERT INTO line_users (tenant, user_id, state, lang, link_token_hash, link_expires_at, followed_at) \
         VALUES ($1, $2, 'pending', 'ja', $3, $4, $5) \
         ON CONFLICT (tenant, user_id) DO UPDATE SET \
         state = CASE WHEN line_users.state = 'linked' THEN 'linked' ELSE 'pending' END, \
         link_token_hash = excluded.link_token_hash, link_expires_at = excluded.link_expires_at, \
         followed_at = CASE WHEN line_users.state = 'unfollowed' THEN excluded.followed_at ELSE line_users.followed_at END, \
         unfollowed_at = NULL",
    )
    .bind(tenant)
    .bind(user)
    .bind(&hash)
    .bind(now + LINK_VALID_MS)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// A user who blocked or left the account: no more pushes, their
/// categories deleted, their link unusable.
pub async fn unfollow(tx: &mut Tx, tenant: &str, user: &str, now: i64) -> AppResult<()> {
    sqlx::query(
        "UPDATE line_users SET state = 'unfollowed', unfollowed_at = $3, \
         link_token_hash = NULL, link_expires_at = NULL WHERE tenant = $1 AND user_id = $2",
    )
    .bind(tenant)
    .bind(user)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM line_subscriptions WHERE tenant = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Who a usable link token belongs to, with their state and categories.
#[derive(Debug)]
pub struct LinkHolder {
    pub user_id: String,
    pub state: UserState,
    pub categories: Vec<String>,
}

/// The holder of `token`, if it is unused, unexpired and theirs is not
/// an unfollowed account.
pub async fn by_link(
    db: &Db,
    tenant: &str,
    token: &str,
    now: i64,
) -> AppResult<Option<LinkHolder>> {
    let row = sqlx::query(
        "SELECT user_id, state FROM line_users WHERE tenant = $1 AND link_token_hash = $2 \
         AND link_expires_at > $3 AND state <> 'unfollowed'",
    )
    .bind(tenant)
    .bind(kernel::ids::hash_token(token))
    .bind(now)
    .fetch_optional(db.read())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let user_id: String = r.get("user_id");
    let categories = sqlx::query(
        "SELECT category FROM line_subscriptions WHERE tenant = $1 AND user_id = $2 ORDER BY category",
    )
    .bind(tenant)
    .bind(&user_id)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| r.get::<String, _>("category"))
    .collect();
    Ok(Some(LinkHolder {
        state: UserState::parse(&r.get::<String, _>("state")).unwrap_or(UserState::Pending),
        user_id,
        categories,
    }))
}

/// Confirms the categories behind `token` and uses the token up, in one
/// transaction: the user becomes `linked` with exactly `categories`.
/// `None` if the token was used already, expired or never existed: then
/// nothing changes.
pub async fn confirm(
    db: &Db,
    tenant: &str,
    token: &str,
    categories: &[String],
    lang: &str,
    now: i64,
) -> AppResult<Option<String>> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "UPDATE line_users SET state = 'linked', linked_at = $4, lang = $5, \
         link_token_hash = NULL, link_expires_at = NULL \
         WHERE tenant = $1 AND link_token_hash = $2 AND link_expires_at > $3 AND state <> 'unfollowed' \
         RETURNING user_id",
    )
    .bind(tenant)
    .bind(kernel::ids::hash_token(token))
    .bind(now)
    .bind(now)
    .bind(lang)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let user: String = r.get("user_id");
    sqlx::query("DELETE FROM line_subscriptions WHERE tenant = $1 AND user_id = $2")
        .bind(tenant)
        .bind(&user)
        .execute(&mut *tx)
        .await?;
    for c in categories {
        sqlx::query(
            "INSERT INTO line_subscriptions (tenant, user_id, category, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(&user)
        .bind(c)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Some(user))
}

/// The active categories of `tenant` (code, name in `lang`), in order.
pub async fn categories(
    db: &Db,
    tenant: &str,
    lang: kernel::i18n::Lang,
) -> AppResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT code, name, names FROM mail_categories WHERE tenant = $1 AND active = 1 \
         ORDER BY position, code",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>("code"),
                crate::channels::feeds::local_name(
                    &r.get::<String, _>("names"),
                    r.get("name"),
                    lang,
                ),
            )
        })
        .collect())
}
