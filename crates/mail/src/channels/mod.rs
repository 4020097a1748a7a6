//! Other channels than mail: what a municipality sends reaches residents
//! also as Atom feeds per category ([`atom`]), an iCalendar feed of events
//! ([`ical`]), both read from sent messages ([`feeds`]), and through its
//! LINE official account ([`line`]: the signed webhook, linking a LINE user
//! to the categories they confirm, pushes through the job queue).

pub mod atom;
pub mod feed_pages;
pub mod feeds;
pub mod ical;
pub mod line;
pub mod routes;
pub mod time_fmt;

use axum::extract::FromRef;
use kernel::auth::SessionPolicy;
use kernel::Db;

pub use routes::router;

/// What the handlers of this folder share.
#[derive(Clone, FromRef)]
pub struct ChannelsState {
    pub db: Db,
    pub session: SessionPolicy,
    pub public_url: PublicUrl,
    pub line: line::api::LineApi,
}

/// The deployment's public URL (links in feeds and LINE replies).
#[derive(Clone, Debug)]
pub struct PublicUrl(pub std::sync::Arc<str>);

impl PublicUrl {
    pub fn new(url: &str) -> Self {
        PublicUrl(url.trim_end_matches('/').into())
    }

    /// The host alone (no scheme, port or path): the authority of tag
    /// URIs and iCalendar UIDs.
    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map_or(&*self.0, |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or(rest);
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_the_public_url() {
        assert_eq!(
            PublicUrl::new("https://m.example.jp/").host(),
            "m.example.jp"
        );
        assert_eq!(PublicUrl::new("http://127.0.0.1:8080").host(), "127.0.0.1");
        assert_eq!(PublicUrl::new("https://a.jp/base").host(), "a.jp");
    }
}
