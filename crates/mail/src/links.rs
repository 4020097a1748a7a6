//! Links in mails that work without an account: a subscriber's
//! preferences page and the one-click unsubscribe (RFC 8058). The token
//! in the link is a keyed MAC of the tenant and the subscriber's id, so
//! nothing is stored per link and a link cannot be made for another
//! subscriber. The key is a deployment secret (`mail_link_key`), kept
//! across encryption-key rotations so links already sent keep working.

use kernel::Db;

/// The key of subscriber links.
#[derive(Clone)]
pub struct LinkKey(std::sync::Arc<Vec<u8>>);

impl LinkKey {
    /// The deployment's key (made on first use).
    pub async fn load(db: &Db) -> anyhow::Result<Self> {
        Ok(Self(std::sync::Arc::new(
            kernel::secrets::load_or_create(db, "mail_link_key").await?,
        )))
    }

    /// A key for tests.
    pub fn from_bytes(key: Vec<u8>) -> Self {
        Self(std::sync::Arc::new(key))
    }

    /// The token of `subscriber` in `tenant` (32 hex characters).
    pub fn token(&self, tenant: &str, subscriber: &str) -> String {
        let mac = kernel::crypto::hmac_sha256(
            &self.0,
            format!("madoguchi|mail-subscriber|{tenant}|{subscriber}").as_bytes(),
        );
        hex::encode(&mac[..16])
    }

    /// Whether `token` is the token of `subscriber` (constant time).
    pub fn verify(&self, tenant: &str, subscriber: &str, token: &str) -> bool {
        kernel::crypto::constant_time_eq(&self.token(tenant, subscriber), token)
    }
}

/// The preferences page of a subscriber, reached from every mail.
pub fn preferences_url(public_url: &str, key: &LinkKey, tenant: &str, subscriber: &str) -> String {
    format!(
        "{}/t/{tenant}/mail/preferences/{subscriber}/{}",
        public_url.trim_end_matches('/'),
        key.token(tenant, subscriber)
    )
}

/// The one-click unsubscribe URL (`List-Unsubscribe`; a POST to it with
/// `List-Unsubscribe=One-Click` unsubscribes, no session needed).
pub fn unsubscribe_url(public_url: &str, key: &LinkKey, tenant: &str, subscriber: &str) -> String {
    format!(
        "{}/t/{tenant}/mail/unsubscribe/{subscriber}/{}",
        public_url.trim_end_matches('/'),
        key.token(tenant, subscriber)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_for_one_subscriber_of_one_tenant() {
        let k = LinkKey::from_bytes(vec![7; 32]);
        let t = k.token("122289", "s1");
        assert_eq!(t.len(), 32);
        assert!(k.verify("122289", "s1", &t));
        assert!(!k.verify("122289", "s2", &t));
        assert!(!k.verify("242021", "s1", &t));
        assert!(!LinkKey::from_bytes(vec![8; 32]).verify("122289", "s1", &t));
        assert_eq!(
            unsubscribe_url("https://m.example.jp/", &k, "122289", "s1"),
            format!("https://m.example.jp/t/122289/mail/unsubscribe/s1/{t}")
        );
        assert_eq!(
            preferences_url("https://m.example.jp", &k, "122289", "s1"),
            format!("https://m.example.jp/t/122289/mail/preferences/s1/{t}")
        );
    }
}
