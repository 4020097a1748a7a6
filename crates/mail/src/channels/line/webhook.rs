//! The webhook of a municipality's LINE account (`POST
//! /t/{tenant}/line/webhook`). The body is trusted only if its
//! `X-Line-Signature` is right for the channel secret; otherwise the
//! answer is 401 and nothing changes. Each event is handled once
//! (`webhookEventId`), in a transaction of its own: follow → pending with
//! a one-time link (the reply carries it), message → a fresh link,
//! unfollow → unlinked. Replies go out after the commit.

use kernel::i18n::{self, Lang};
use kernel::{AppError, AppResult, Db};
use serde::Deserialize;

use super::api::LineApi;
use super::channel::Channel;
use super::users;

/// The part of a webhook body madoguchi reads.
#[derive(Debug, Deserialize)]
pub struct Body {
    pub events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub webhook_event_id: Option<String>,
    #[serde(default)]
    pub reply_token: Option<String>,
    #[serde(default)]
    pub source: Option<Source>,
    #[serde(default)]
    pub timestamp: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// A LINE user id: `U` and 32 hex characters.
pub fn is_user_id(s: &str) -> bool {
    s.len() == 33 && s.starts_with('U') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// What to say back to one event, after the commit.
struct Reply {
    token: String,
    text: String,
}

/// Handles a verified body; the counts of events handled and skipped
/// (replays and events madoguchi does not act on).
pub async fn handle(
    db: &Db,
    api: &LineApi,
    channel: &Channel,
    public_url: &str,
    tenant: &str,
    body: &Body,
    now: i64,
) -> AppResult<(usize, usize)> {
    let mut replies = Vec::new();
    let (mut handled, mut skipped) = (0, 0);
    for e in &body.events {
        let user = e
            .source
            .as_ref()
            .filter(|s| s.kind == "user")
            .and_then(|s| s.user_id.as_deref())
            .filter(|u| is_user_id(u));
        let (Some(user), Some(event_id)) = (user, e.webhook_event_id.as_deref()) else {
            skipped += 1;
            continue;
        };
        if !matches!(e.kind.as_str(), "follow" | "unfollow" | "message") {
            skipped += 1;
            continue;
        }
        let mut tx = db.begin().await?;
        // A redelivered or replayed event is recorded once.
        let fresh = sqlx::query(
            "INSERT INTO line_webhook_events (tenant, event_id, at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(event_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if fresh.rows_affected() == 0 {
            skipped += 1;
            continue;
        }
        match e.kind.as_str() {
            "unfollow" => users::unfollow(&mut tx, tenant, user, now).await?,
            kind => {
                let token = users::follow(&mut tx, tenant, user, now).await?;
                let url = format!(
                    "{}/t/{tenant}/line/link/{token}",
                    public_url.trim_end_matches('/')
                );
                let key = if kind == "follow" {
                    "mail.channels.line.welcome"
                } else {
                    "mail.channels.line.settings_link"
                };
                if let Some(t) = &e.reply_token {
                    replies.push(Reply {
                        token: t.clone(),
                        text: i18n::tf(Lang::Ja, key, &[("url", &url)]),
                    });
                }
            }
        }
        tx.commit().await?;
        handled += 1;
    }
    for r in replies {
        // A reply token is good for one try; a resident who got no
        // answer writes again and gets a new link.
        if let super::api::Outcome::Retry(e) | super::api::Outcome::Refused(e) =
            api.reply(&channel.access_token, &r.token, &r.text).await
        {
            tracing::warn!(tenant, error = %e, "LINE reply not delivered");
        }
    }
    Ok((handled, skipped))
}

/// Parses a verified body: a body that is not LINE's JSON is a 400.
pub fn parse(bytes: &[u8]) -> AppResult<Body> {
    serde_json::from_slice(bytes).map_err(|e| AppError::BadRequest(format!("LINE webhook: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_have_line_form() {
        assert!(is_user_id("U4af4980629abcdef0123456789abcdef"));
        assert!(!is_user_id("C4af4980629abcdef0123456789abcdef"));
        assert!(!is_user_id("U4af4980629"));
        assert!(!is_user_id("U4af4980629abcdef0123456789abcdeg"));
    }

    #[test]
    fn reads_a_follow_event() {
        let b = parse(br#"{"destination":"Uxx","events":[{"type":"follow","mode":"active","timestamp":1,"source":{"type":"user","userId":"U4af4980629abcdef0123456789abcdef"},"webhookEventId":"01H","deliveryContext":{"isRedelivery":false},"replyToken":"r1","follow":{"isUnblocked":false}}]}"#).unwrap();
        assert_eq!(b.events[0].kind, "follow");
        assert_eq!(b.events[0].reply_token.as_deref(), Some("r1"));
        assert!(parse(b"{}").is_err());
        assert_eq!(
            parse(br#"{"destination":"U","events":[]}"#)
                .unwrap()
                .events
                .len(),
            0
        );
    }
}
