//! The mail server side: a claimed row made into the message the resident
//! receives (From, Message-ID, `Auto-Submitted`, the RFC 8058 headers,
//! text with an optional HTML alternative, DKIM when configured), and an
//! SMTP outcome sorted into what the row becomes.

use kernel::config::MailConfig;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

use super::store::Claimed;

/// The DKIM signer, when a key is configured (PEM: PKCS#1 RSA, or an
/// Ed25519 key as base64 of its 32 bytes).
pub fn dkim(config: &MailConfig) -> anyhow::Result<Option<DkimConfig>> {
    let (Some(file), Some(selector), Some(domain)) = (
        &config.dkim_key_file,
        &config.dkim_selector,
        &config.dkim_domain,
    ) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("DKIM の鍵 {file} を読めません: {e}"))?;
    let algorithm = if text.contains("BEGIN RSA PRIVATE KEY") {
        DkimSigningAlgorithm::Rsa
    } else {
        DkimSigningAlgorithm::Ed25519
    };
    let key = DkimSigningKey::new(text.trim(), algorithm)
        .map_err(|e| anyhow::anyhow!("DKIM の鍵 {file} が正しくありません: {e}"))?;
    Ok(Some(DkimConfig::new(
        selector.clone(),
        domain.clone(),
        key,
        [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
        ]
        .into_iter()
        .map(HeaderName::new_from_ascii_str)
        .collect(),
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    )))
}

/// The domain of the From address (Message-IDs are made in it).
pub fn domain_of(from: &str) -> String {
    from.rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| "madoguchi.invalid".into())
}

fn raw(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// The message `row` becomes, from `from`.
pub fn message(
    from: &Mailbox,
    row: &Claimed,
    dkim: Option<&DkimConfig>,
) -> anyhow::Result<Message> {
    let to: lettre::Address = row
        .recipient
        .parse()
        .map_err(|e| anyhow::anyhow!("宛先のアドレスが正しくありません: {e}"))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()))
        .date_now();
    let mut msg = match &row.body_html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            row.body.clone(),
            html.clone(),
        )),
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(row.body.clone()),
    }
    .map_err(|e| anyhow::anyhow!("message: {e}"))?;
    let headers = msg.headers_mut();
    // RFC 3834: written by a program; no out-of-office replies, please.
    headers.insert_raw(raw("Auto-Submitted", "auto-generated".into()));
    headers.insert_raw(raw("Content-Language", row.lang.clone()));
    if let Some(url) = &row.unsubscribe_url {
        // RFC 8058 one-click unsubscribe.
        headers.insert_raw(raw("List-Unsubscribe", format!("<{url}>")));
        headers.insert_raw(raw(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".into(),
        ));
    }
    if let Some(d) = dkim {
        msg.sign(d);
    }
    Ok(msg)
}

/// What one hand-off's outcome makes of its row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// 4xx, a connection or timeout error: tried again later.
    Retry(String),
    /// 5xx about the mailbox (550, 551, 553): bounced, and suppressed.
    Bounced(String),
    /// Any other 5xx, or a message that cannot be made.
    Failed(String),
    /// Never handed off: the sender was stopping (queued again as it was).
    NotStarted,
    /// The content was sent and no reply came (the connection broke or
    /// timed out): maybe delivered, so never sent again by itself.
    Unknown(String),
}

/// What an SMTP error makes of the row.
pub fn classify(e: &lettre::transport::smtp::Error) -> Outcome {
    let text: String = format!("{e}").chars().take(500).collect();
    if e.is_permanent() {
        let code = e.status().map(|c| c.to_string()).unwrap_or_default();
        if is_bounce(&code, &text) {
            Outcome::Bounced(text)
        } else {
            Outcome::Failed(text)
        }
    } else {
        Outcome::Retry(text)
    }
}

/// A permanent refusal that says the mailbox does not exist (550, 551,
/// 553), not a refusal by policy: an enhanced status 5.7.x (RFC 3463:
/// spam, DMARC, relaying denied) fails that message but suppresses no
/// address that may well work.
fn is_bounce(code: &str, text: &str) -> bool {
    matches!(code, "550" | "551" | "553") && !text.contains("5.7.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_mailbox_is_a_bounce() {
        assert!(is_bounce(
            "550",
            "permanent error (550): 5.1.1 <x@example.jp>: Recipient address rejected"
        ));
        assert!(is_bounce(
            "553",
            "permanent error (553): mailbox name not allowed"
        ));
        assert!(!is_bounce(
            "550",
            "permanent error (550): 5.7.1 Message rejected as spam"
        ));
        assert!(!is_bounce(
            "554",
            "permanent error (554): transaction failed"
        ));
    }

    fn row(unsubscribe: Option<&str>, html: Option<&str>) -> Claimed {
        Claimed {
            id: "m1".into(),
            kind: "newsletter".into(),
            recipient: "taro@example.jp".into(),
            subject: "防災メール".into(),
            body: "本文です".into(),
            body_html: html.map(String::from),
            unsubscribe_url: unsubscribe.map(String::from),
            message_id: "<m1.122289@city.example.jp>".into(),
            attempts: 1,
            lang: "ja".into(),
        }
    }

    fn from() -> Mailbox {
        Mailbox::new(
            Some("四街道市".into()),
            "noreply@city.example.jp".parse().unwrap(),
        )
    }

    #[test]
    fn a_message_has_its_headers() {
        let m = message(
            &from(),
            &row(
                Some("https://m.example.jp/t/122289/mail/unsubscribe/s1/abc"),
                None,
            ),
            None,
        )
        .unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(
            text.contains("Message-ID: <m1.122289@city.example.jp>\r\n"),
            "{text}"
        );
        assert!(text.contains("Auto-Submitted: auto-generated\r\n"));
        assert!(text.contains("Content-Language: ja\r\n"));
        assert!(text.contains(
            "List-Unsubscribe: <https://m.example.jp/t/122289/mail/unsubscribe/s1/abc>\r\n"
        ));
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        assert!(text.contains("To: taro@example.jp\r\n"));
        assert!(text.contains("noreply@city.example.jp"));
        // No unsubscribe URL, no RFC 8058 headers.
        let plain = String::from_utf8(
            message(&from(), &row(None, None), None)
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(!plain.contains("List-Unsubscribe"));
    }

    #[test]
    fn html_is_an_alternative_to_the_text() {
        let m = message(&from(), &row(None, Some("<p>本文です</p>")), None).unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/plain"));
        assert!(text.contains("text/html"));
    }

    #[test]
    fn a_bad_address_is_no_message() {
        let mut r = row(None, None);
        r.recipient = "no address".into();
        assert!(message(&from(), &r, None).is_err());
    }

    #[test]
    fn signed_with_dkim_when_a_key_is_configured() {
        let dir = std::env::temp_dir().join(format!("madoguchi-dkim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("dkim.key");
        // An Ed25519 key: base64 of its 32 bytes.
        std::fs::write(&file, "2oX8pJ0Gq9XqyQkK1m0Kc3vT0Cq8o3k9m0J6B6m3YhM=").unwrap();
        let config = MailConfig {
            dkim_key_file: Some(file.display().to_string()),
            dkim_selector: Some("mdg".into()),
            dkim_domain: Some("city.example.jp".into()),
            ..MailConfig::default()
        };
        let dkim = dkim(&config).unwrap().expect("configured");
        let m = message(
            &from(),
            &row(
                Some("https://m.example.jp/t/122289/mail/unsubscribe/s1/abc"),
                None,
            ),
            Some(&dkim),
        )
        .unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        let sig = text
            .split("\r\n")
            .find(|l| l.starts_with("DKIM-Signature:"))
            .expect("signed");
        assert!(
            sig.contains("d=city.example.jp") && sig.contains("s=mdg"),
            "{sig}"
        );
        assert!(
            text.contains(
                " h=from:to:subject:date:message-id:list-unsubscribe:list-unsubscribe-post;"
            ),
            "{text}"
        );
        // Not configured: no signature.
        assert!(super::dkim(&MailConfig::default()).unwrap().is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn domain_of_the_sender() {
        assert_eq!(domain_of("noreply@city.example.jp"), "city.example.jp");
        assert_eq!(domain_of("x"), "madoguchi.invalid");
    }
}
