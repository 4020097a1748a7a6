//! What the subscription pages share.

use axum::extract::FromRef;
use kernel::auth::SessionPolicy;
use kernel::crypto::Vault;
use kernel::Db;

use crate::links::LinkKey;

/// The deployment's public address, for the links in mails.
#[derive(Clone)]
pub struct PublicUrl(pub std::sync::Arc<str>);

#[derive(Clone, FromRef)]
pub struct SubscriptionsState {
    pub db: Db,
    pub session: SessionPolicy,
    /// Seals subscribers' addresses and keys their hashes.
    pub vault: Vault,
    /// The key of the preferences and unsubscribe links.
    pub links: LinkKey,
    pub public_url: PublicUrl,
}

impl SubscriptionsState {
    pub fn preferences_url(&self, tenant: &str, subscriber: &str) -> String {
        crate::links::preferences_url(&self.public_url.0, &self.links, tenant, subscriber)
    }

    pub fn unsubscribe_url(&self, tenant: &str, subscriber: &str) -> String {
        crate::links::unsubscribe_url(&self.public_url.0, &self.links, tenant, subscriber)
    }
}
