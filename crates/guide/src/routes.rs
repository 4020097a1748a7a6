//! The guide's HTTP surface: the residents' FAQ and chatbot pages, the
//! staff's FAQ editor and knowledge section, and their JSON API.

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use kernel::auth::SessionPolicy;
use kernel::i18n::Lang;
use kernel::{AppResult, Db};

use crate::{chat_api, chat_pages, faq_api, faq_pages, faq_staff};

/// Cookies are marked `Secure` (the deployment is behind HTTPS).
#[derive(Clone, Copy, Debug)]
pub struct SecureCookies(pub bool);

#[derive(Clone, FromRef)]
pub struct GuideState {
    pub db: Db,
    pub session: SessionPolicy,
    pub secure: SecureCookies,
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

    /// The knowledge search for staff (knowledge and FAQ): hits as
    /// (title, url, snippet), or `Ok(Err(message))` when the query itself
    /// is not acceptable.
    pub async fn staff_search(
        &self,
        tenant: &str,
        q: &str,
        lang: Lang,
    ) -> AppResult<Result<Vec<(String, String, String)>, String>> {
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
            .map(|h| (h.title.get(lang).to_string(), h.url, h.snippet))
            .collect()))
    }
}

pub fn router(state: GuideState) -> Router {
    let html = Router::new()
        .route("/t/{tenant}/faq", get(faq_pages::index))
        .route("/t/{tenant}/faq/{id}", get(faq_pages::entry))
        .route("/t/{tenant}/faq/{id}/feedback", post(faq_pages::feedback))
        .route(
            "/t/{tenant}/chat",
            get(chat_pages::page).post(chat_pages::post),
        )
        .route("/t/{tenant}/staff/faq", get(faq_staff::list))
        .route(
            "/t/{tenant}/staff/faq/new",
            get(faq_staff::new_entry).post(faq_staff::create),
        )
        .route(
            "/t/{tenant}/staff/faq/{id}",
            get(faq_staff::edit).post(faq_staff::save),
        )
        .route(
            "/t/{tenant}/staff/faq/{id}/restore",
            post(faq_staff::restore),
        )
        .route("/t/{tenant}/staff/knowledge", get(faq_staff::knowledge))
        .route(
            "/t/{tenant}/staff/knowledge/{id}",
            get(faq_staff::knowledge_entry),
        );
    let api = Router::new()
        .route("/api/v1/t/{tenant}/chat", post(chat_api::post))
        .route("/api/v1/t/{tenant}/faq", get(faq_api::list))
        .route("/api/v1/t/{tenant}/faq/{id}", get(faq_api::get))
        .route(
            "/api/v1/t/{tenant}/faq/{id}/feedback",
            post(faq_api::feedback),
        )
        .route(
            "/api/v1/t/{tenant}/staff/faq",
            get(faq_api::staff_list).post(faq_api::staff_create),
        )
        .route(
            "/api/v1/t/{tenant}/staff/faq/{id}",
            get(faq_api::staff_get).put(faq_api::staff_save),
        )
        .route(
            "/api/v1/t/{tenant}/staff/faq/{id}/restore",
            post(faq_api::staff_restore),
        );
    html.merge(api).with_state(state)
}
