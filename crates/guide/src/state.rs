//! What the guide's handlers share, and the search as they use it.

use axum::extract::FromRef;
use kernel::auth::SessionPolicy;
use kernel::i18n::Lang;
use kernel::{AppResult, Db};

#[derive(Clone, FromRef)]
pub struct GuideState {
    pub db: Db,
    /// Staff sessions; also whether cookies are `Secure` (behind HTTPS).
    pub session: SessionPolicy,
    /// The one search the chatbot retrieves from and the FAQ feeds.
    pub search: search::Search,
    /// For the tenants' language models (generative mode).
    pub http: reqwest::Client,
}

impl GuideState {
    /// Brings the tenant's search index up to date after a change of the
    /// FAQ. A failure is logged: the change itself is committed.
    pub async fn refresh(&self, tenant: &str) {
        self.search.refresh_quietly(tenant).await;
    }

    /// The knowledge search for staff (knowledge and FAQ), or
    /// `Ok(Err(message))` when the query itself is not acceptable.
    pub async fn staff_search(
        &self,
        tenant: &str,
        q: &str,
        lang: Lang,
    ) -> AppResult<Result<Vec<StaffHit>, String>> {
        let text = match search::parse_query_text(q) {
            Ok(t) => t,
            Err(key) => return Ok(Err(kernel::i18n::t(lang, key).to_string())),
        };
        let results = self
            .search
            .query(
                tenant,
                &search::SearchQuery {
                    text,
                    lang,
                    audience: search::Audience::Staff,
                    kinds: vec![search::DocKind::Knowledge, search::DocKind::Faq],
                    limit: 20,
                    ..Default::default()
                },
            )
            .await?;
        Ok(Ok(results
            .hits
            .into_iter()
            .map(|h| StaffHit {
                title: h.title.get(lang).to_string(),
                url: h.url,
                snippet: h.snippet,
            })
            .collect()))
    }
}

/// One hit of the staff's knowledge search.
pub struct StaffHit {
    pub title: String,
    pub url: String,
    pub snippet: String,
}
