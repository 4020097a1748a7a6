//! The LINE Messaging API as madoguchi calls it: a push
//! (`POST /v2/bot/message/push`) and a reply (`POST /v2/bot/message/reply`),
//! with the channel access token as a Bearer token and JSON bodies of
//! text messages. The base URL is the deployment's `line_api_url`
//! (`https://api.line.me`; tests point it at `testkit::line_standin`).

use std::time::Duration;

/// The most characters a text message may hold (LINE's limit).
pub const MAX_TEXT_CHARS: usize = 5000;

/// A client of the API.
#[derive(Clone, Debug)]
pub struct LineApi {
    base: String,
    http: reqwest::Client,
}

/// How a request ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (or, for a push, accepted before under the same retry key).
    Accepted,
    /// Worth trying again later: 429, 5xx, no answer.
    Retry(String),
    /// Refused for good: any other 4xx.
    Refused(String),
}

/// `text` cut to what a text message may hold (counted in UTF-16 code
/// units, as LINE counts), ending in "…" when cut.
pub fn fit(text: &str) -> String {
    if text.encode_utf16().count() <= MAX_TEXT_CHARS {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() > MAX_TEXT_CHARS - 1 {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

/// A random UUID (version 4), the form `X-Line-Retry-Key` requires.
pub fn retry_key() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("operating system random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl LineApi {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(20))
                .build()?,
        })
    }

    async fn post(
        &self,
        path: &str,
        token: &str,
        retry_key: Option<&str>,
        body: serde_json::Value,
    ) -> Outcome {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body);
        if let Some(k) = retry_key {
            req = req.header("X-Line-Retry-Key", k);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(format!("no answer: {e}")),
        };
        let status = resp.status();
        let text: String = resp
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(500)
            .collect();
        if status.is_success() {
            return Outcome::Accepted;
        }
        // 409: a request with this retry key was accepted already.
        if status.as_u16() == 409 && retry_key.is_some() {
            return Outcome::Accepted;
        }
        let what = format!("HTTP {}: {text}", status.as_u16());
        if status.as_u16() == 429 || status.is_server_error() {
            Outcome::Retry(what)
        } else {
            Outcome::Refused(what)
        }
    }

    /// Pushes one text message to `to`, with the retry key of every try
    /// of this push.
    pub async fn push(&self, token: &str, to: &str, text: &str, retry_key: &str) -> Outcome {
        let body = serde_json::json!({
            "to": to,
            "messages": [{"type": "text", "text": fit(text)}],
        });
        self.post("/v2/bot/message/push", token, Some(retry_key), body)
            .await
    }

    /// Replies to a webhook event with one text message (once: a reply
    /// token is used up by the first request).
    pub async fn reply(&self, token: &str, reply_token: &str, text: &str) -> Outcome {
        let body = serde_json::json!({
            "replyToken": reply_token,
            "messages": [{"type": "text", "text": fit(text)}],
        });
        self.post("/v2/bot/message/reply", token, None, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_fit_the_limit() {
        assert_eq!(fit("お知らせ"), "お知らせ");
        let long = "あ".repeat(6000);
        let f = fit(&long);
        assert_eq!(f.encode_utf16().count(), MAX_TEXT_CHARS);
        assert!(f.ends_with('…'));
        // A character outside the BMP counts twice and is never split.
        let emoji = "😀".repeat(3000);
        let f = fit(&emoji);
        assert!(f.encode_utf16().count() <= MAX_TEXT_CHARS);
        assert_eq!(f.chars().filter(|c| *c == '😀').count(), 2499);
    }

    #[test]
    fn retry_keys_are_version_4_uuids() {
        let k = retry_key();
        assert_eq!(k.len(), 36);
        assert_eq!(&k[14..15], "4");
        assert!(matches!(&k[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(k, retry_key());
    }
}
