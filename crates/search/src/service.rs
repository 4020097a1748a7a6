//! The search service: one index per tenant, built from the sources
//! once, then kept up to date from changes ([`Search::refresh`]): the
//! sources are read again, and only the documents that changed are
//! analysed again; the index is assembled from the kept analyses
//! ([`TenantIndex::assemble`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use kernel::i18n::{Lang, Text};
use kernel::{AppResult, Db};
use serde::Serialize;

use crate::index::{self, Analysed, TenantIndex};
use crate::{synonyms, topk, Audience, DocKind, DocSource, Popularity};

struct Built {
    index: TenantIndex,
    /// Each document's analysis, in the order of `index.docs`.
    analyses: Vec<Arc<Analysed>>,
    synonyms: Vec<Vec<String>>,
    update: Update,
}

/// What the last build or update of a tenant's index did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Update {
    /// Documents in the index.
    pub documents: usize,
    /// Documents analysed (new or changed since the previous index).
    pub analysed: usize,
    /// The use counts the ranking reflects, summed over documents
    /// ([`Popularity`]; 0 without one).
    pub uses: u64,
}

struct Inner {
    db: Db,
    sources: Vec<Arc<dyn DocSource>>,
    popularity: Option<Arc<dyn Popularity>>,
    built: RwLock<HashMap<String, Arc<Built>>>,
    /// One build at a time per process (builds are CPU work on 2 cores).
    building: tokio::sync::Mutex<()>,
    /// Tenants with a change not yet applied ([`Search::changed_elsewhere`]).
    pending: Mutex<HashSet<String>>,
    /// The change feed, once followed ([`Search::follow`]).
    feed: std::sync::OnceLock<kernel::events::Bus>,
    /// This server's mark on the changes it publishes (it has applied
    /// them already).
    origin: String,
}

/// The topic of the change feed: a tenant's searchable content changed
/// (a procedure, an FAQ entry, a life event, a synonym: every
/// [`DocSource`]). The body names only the server that applied it.
pub const CHANGED: &str = "search.changed";

/// The origin of a change-feed event that no server made itself: every
/// server, the publishing one included, applies it.
const RANKING_ORIGIN: &str = "ranking";

#[derive(Clone)]
pub struct Search {
    inner: Arc<Inner>,
}

#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub text: String,
    pub lang: Lang,
    /// `Staff` sees public documents and staff knowledge.
    pub audience: Audience,
    /// Empty: every kind.
    pub kinds: Vec<DocKind>,
    pub department: Option<String>,
    pub life_event: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            text: String::new(),
            lang: Lang::Ja,
            audience: Audience::Public,
            kinds: Vec::new(),
            department: None,
            life_event: None,
            limit: 20,
            offset: 0,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Hit {
    pub id: String,
    pub kind: DocKind,
    pub title: Text,
    pub snippet: String,
    pub url: String,
    pub department: Option<String>,
    pub score: f32,
    /// The share of the query's words this page matched (0 to 1).
    pub coverage: f32,
}

#[derive(Clone, Debug, Serialize, Default)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    /// Matches after the facet filters.
    pub total: usize,
    /// Matches per department and per life event (before those filters).
    pub departments: Vec<(String, usize)>,
    pub life_events: Vec<(String, usize)>,
    /// The synonyms the query was also run with.
    pub expanded: Vec<String>,
}

impl SearchResults {
    /// Whether the query should be logged for staff, and why: nothing
    /// found, or a first page that matched too little of the question.
    pub fn miss(&self) -> Option<crate::MissReason> {
        match self.hits.first() {
            None => Some(crate::MissReason::NoResults),
            Some(h) if h.coverage < crate::CONFIDENT_COVERAGE => {
                Some(crate::MissReason::LowConfidence)
            }
            Some(_) => None,
        }
    }
}

impl Search {
    pub fn new(db: Db, sources: Vec<Arc<dyn DocSource>>) -> Self {
        Self::with_popularity(db, sources, None)
    }

    /// A search that also ranks by how often each page is used.
    pub fn with_popularity(
        db: Db,
        sources: Vec<Arc<dyn DocSource>>,
        popularity: Option<Arc<dyn Popularity>>,
    ) -> Self {
        Search {
            inner: Arc::new(Inner {
                db,
                sources,
                popularity,
                built: RwLock::new(HashMap::new()),
                building: tokio::sync::Mutex::new(()),
                pending: Mutex::new(HashSet::new()),
                feed: std::sync::OnceLock::new(),
                origin: kernel::ids::token(),
            }),
        }
    }

    /// Brings the tenant's index up to date with every source and its
    /// synonyms: the sources are read again; a document equal to the one
    /// indexed keeps its analysis, a new or changed one is analysed; the
    /// index is assembled from them. Call after committing a content
    /// change; searches meanwhile use the previous index.
    pub async fn refresh(&self, tenant: &str) -> AppResult<Update> {
        let _one = self.inner.building.lock().await;
        self.refresh_locked(tenant).await
    }

    async fn refresh_locked(&self, tenant: &str) -> AppResult<Update> {
        let mut docs = Vec::new();
        for s in &self.inner.sources {
            docs.extend(s.docs(&self.inner.db, tenant).await?);
        }
        let groups = synonyms::folded(&synonyms::list(&self.inner.db, tenant).await?);
        let counts = match &self.inner.popularity {
            Some(p) => p.counts(&self.inner.db, tenant).await?,
            None => HashMap::new(),
        };
        let previous = self.current(tenant);
        let (index, analyses, update) = tokio::task::spawn_blocking(move || {
            let kept: HashMap<&str, usize> = previous
                .as_ref()
                .map(|b| {
                    b.index
                        .docs
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (d.id.as_str(), i))
                        .collect()
                })
                .unwrap_or_default();
            let mut analysed = 0;
            let entries: Vec<_> = docs
                .into_iter()
                .map(|d| {
                    let same = kept.get(d.id.as_str()).and_then(|&i| {
                        let b = previous.as_ref()?;
                        (b.index.docs[i] == d).then(|| b.analyses[i].clone())
                    });
                    let a = same.unwrap_or_else(|| {
                        analysed += 1;
                        Arc::new(Analysed::of(&d))
                    });
                    (d, a)
                })
                .collect();
            let analyses: Vec<Arc<Analysed>> = entries.iter().map(|(_, a)| a.clone()).collect();
            let update = Update {
                documents: entries.len(),
                analysed,
                uses: counts.values().sum(),
            };
            (
                TenantIndex::assemble(entries).with_popularity(&counts),
                analyses,
                update,
            )
        })
        .await
        .map_err(anyhow::Error::from)?;
        tracing::debug!(tenant, ?update, "search index updated");
        let built = Arc::new(Built {
            index,
            analyses,
            synonyms: groups,
            update,
        });
        self.inner
            .built
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tenant.to_string(), built);
        Ok(update)
    }

    /// After a committed content change: updates this server's index
    /// (so the change is searchable here when the request answers) and
    /// tells every other server through the change feed ([`CHANGED`]).
    /// Failures are logged, never reported: the change itself is
    /// committed.
    pub async fn refresh_quietly(&self, tenant: &str) {
        if let Err(e) = self.refresh(tenant).await {
            tracing::error!(tenant, error = %e, "search index refresh failed");
        }
        if let Some(bus) = self.inner.feed.get() {
            let body = serde_json::json!({ "origin": self.inner.origin });
            if let Err(e) = bus.publish_now(tenant, CHANGED, body).await {
                tracing::error!(tenant, error = %e, "search change not published");
            }
        }
    }

    /// The use counts behind the ranking change without any content
    /// changing (applications come in): every server that has an index of
    /// the tenant updates it (this one included), through the change feed
    /// when there is one. The deployment's scheduled job
    /// `search.ranking` calls this for every tenant (`server::jobs`).
    pub async fn ranking_changed(&self, tenant: &str) -> AppResult<()> {
        match self.inner.feed.get() {
            Some(bus) => {
                let body = serde_json::json!({ "origin": RANKING_ORIGIN });
                bus.publish_now(tenant, CHANGED, body).await?;
            }
            None => self.changed_elsewhere(tenant),
        }
        Ok(())
    }

    /// Follows the change feed: every change published by another server
    /// updates this server's index of that tenant
    /// ([`Search::changed_elsewhere`]). If this server's subscription fell
    /// behind (events skipped), every tenant it has an index of is
    /// brought up to date. Call once, at start.
    pub fn follow(&self, bus: kernel::events::Bus) {
        let mut rx = bus.subscribe(CHANGED);
        if self.inner.feed.set(bus).is_err() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        if event.body["origin"].as_str() != Some(me.inner.origin.as_str()) {
                            me.changed_elsewhere(&event.tenant);
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(
                            skipped = n,
                            "search change feed lagged: updating every index"
                        );
                        for t in me.built_tenants() {
                            me.changed_elsewhere(&t);
                        }
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }

    /// A change made on another server (from the change feed): the
    /// tenant's index, if this server has built it, is updated in the
    /// background. Changes that arrive while an update waits or runs are
    /// applied together by the next one (the pending mark is taken off
    /// before the sources are read). A tenant not built yet is built from
    /// the database on its first search, changes included.
    pub fn changed_elsewhere(&self, tenant: &str) {
        if self.current(tenant).is_none() {
            return;
        }
        let fresh = self
            .inner
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tenant.to_string());
        if !fresh {
            return;
        }
        let me = self.clone();
        let tenant = tenant.to_string();
        tokio::spawn(async move {
            let _one = me.inner.building.lock().await;
            me.inner
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&tenant);
            if let Err(e) = me.refresh_locked(&tenant).await {
                tracing::error!(tenant, error = %e, "search index update from the change feed failed");
            }
        });
    }

    /// Every tenant this server has an index of (to catch up after the
    /// feed was interrupted).
    pub fn built_tenants(&self) -> Vec<String> {
        self.inner
            .built
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// What the last build or update of the tenant's index did.
    pub fn last_update(&self, tenant: &str) -> Option<Update> {
        self.current(tenant).map(|b| b.update)
    }

    fn current(&self, tenant: &str) -> Option<Arc<Built>> {
        self.inner
            .built
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(tenant)
            .cloned()
    }

    async fn index(&self, tenant: &str) -> AppResult<Arc<Built>> {
        if let Some(b) = self.current(tenant) {
            return Ok(b);
        }
        let _one = self.inner.building.lock().await;
        // Built while this one waited.
        if let Some(b) = self.current(tenant) {
            return Ok(b);
        }
        self.refresh_locked(tenant).await?;
        self.current(tenant)
            .ok_or_else(|| anyhow::anyhow!("index vanished").into())
    }

    /// Number of documents indexed for the tenant (building it if needed).
    pub async fn size(&self, tenant: &str) -> AppResult<usize> {
        Ok(self.index(tenant).await?.index.len())
    }

    pub async fn query(&self, tenant: &str, q: &SearchQuery) -> AppResult<SearchResults> {
        let built = self.index(tenant).await?;
        Ok(run(&built.index, &built.synonyms, q))
    }
}

/// Runs a query on an index (no I/O; the benchmark calls this directly).
/// Every match is counted (total, facets); only the requested page's top
/// (`offset + limit`) is scored exactly ([`crate::topk`]).
pub fn run(ix: &TenantIndex, groups: &[Vec<String>], q: &SearchQuery) -> SearchResults {
    let variants = synonyms::expand(groups, &q.text);
    let (mut scratch, mut bounds) = ix.buffers();
    // The terms of every variant, the query as typed first.
    let mut scored = Vec::with_capacity(variants.len());
    for (v, weight) in &variants {
        let words: Vec<String> = v.split(' ').map(str::to_string).collect();
        let terms = index::terms_of(&words);
        ix.bound(&terms, *weight, &mut scratch, &mut bounds);
        scored.push((terms, *weight));
    }
    let facets = &ix.facets;
    let mut departments = facets.departments();
    let mut life_events = facets.life_events();
    let dep = q.department.as_deref().map(|v| facets.department_filter(v));
    let le = q.life_event.as_deref().map(|v| facets.life_event_filter(v));
    let mut matched: Vec<(usize, index::Bound)> = Vec::new();
    for (d, b) in bounds.iter_mut().enumerate() {
        // Cleared for the next query as it is read.
        let b = std::mem::take(b);
        if b.hi <= 0.0 || !ix.visible(d, q.audience, &q.kinds) {
            continue;
        }
        facets.count(d, &mut departments, &mut life_events);
        let dep_ok = dep.as_ref().is_none_or(|f| facets.has_department(d, f));
        let le_ok = le.as_ref().is_none_or(|f| facets.has_life_event(d, f));
        if dep_ok && le_ok {
            matched.push((d, b));
        }
    }
    ix.give_back((scratch, bounds));
    let total = matched.len();
    let top = topk::top(ix, &scored, matched, q.offset.saturating_add(q.limit));
    let all_terms: Vec<index::Term> = scored.into_iter().flat_map(|(t, _)| t).collect();
    let hits = top
        .into_iter()
        .skip(q.offset)
        .take(q.limit)
        .map(|(d, scored)| {
            let doc = &ix.docs[d];
            Hit {
                id: doc.id.clone(),
                kind: doc.kind,
                title: doc.title.clone(),
                snippet: index::snippet(doc, &all_terms, q.lang),
                url: doc.url.clone(),
                department: doc.department.clone(),
                score: scored.score,
                coverage: scored.coverage,
            }
        })
        .collect();
    SearchResults {
        hits,
        total,
        departments: departments.by_count(),
        life_events: life_events.by_count(),
        expanded: variants.into_iter().skip(1).map(|(v, _)| v).collect(),
    }
}

/// The ranking over a small corpus, end to end (index → query).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TenantIndex;
    use crate::{synonyms, Audience, Doc, DocKind, SearchQuery};
    use kernel::i18n::Text;

    fn doc(id: &str, title: &str, body: &str) -> Doc {
        Doc {
            id: id.into(),
            kind: DocKind::Procedure,
            audience: Audience::Public,
            title: Text::ja_only(title),
            summary: Text::default(),
            body: Text::ja_only(body),
            keywords: vec![],
            url: format!("/p/{id}"),
            department: Some("shimin".into()),
            life_events: vec![],
        }
    }

    fn corpus() -> TenantIndex {
        TenantIndex::build(vec![
            doc(
                "juminhyo",
                "住民票の写しの請求",
                "住民票の写しを請求します。本人確認書類が必要です。",
            ),
            doc(
                "inkan",
                "印鑑登録証明書の請求",
                "印鑑登録をしている方の証明書です。",
            ),
            doc(
                "mynumber",
                "マイナンバーカードの交付申請",
                "マイナンバーカードを申請します。",
            ),
            doc(
                "tennyu",
                "転入届",
                "市外から引越してきたときの届出です。14日以内に届け出てください。",
            ),
            doc(
                "gomi",
                "粗大ごみの戸別収集の申込み",
                "大きなごみを出すときの申込みです。",
            ),
            doc("koseki", "戸籍謄本の請求", "戸籍の写しを請求します。"),
        ])
    }

    fn top(ix: &TenantIndex, q: &str) -> Option<String> {
        let groups = synonyms::folded(&[synonyms::Group {
            id: "1".into(),
            terms: vec!["マイナ".into(), "マイナンバーカード".into()],
            updated_at: 0,
            updated_by: String::new(),
        }]);
        let r = run(
            ix,
            &groups,
            &SearchQuery {
                text: q.into(),
                ..Default::default()
            },
        );
        r.hits.first().map(|h| h.id.clone())
    }

    #[test]
    fn japanese_queries_find_the_right_page() {
        let ix = corpus();
        for (q, want) in [
            ("住民票", "juminhyo"),
            ("じゅうみんひょう", "juminhyo"),
            ("ジュウミンヒョウ", "juminhyo"),
            ("ｼﾞｭｳﾐﾝﾋｮｳ", "juminhyo"),
            ("じゅうみんひよう", "juminhyo"),
            ("住民表", "juminhyo"),
            ("住民票の写しがほしい", "juminhyo"),
            ("いんかんとうろく", "inkan"),
            ("マイナ", "mynumber"),
            ("まいなんばーかーど", "mynumber"),
            ("マイナンバーカ－ド", "mynumber"),
            ("マイナンバーカド", "mynumber"),
            ("ごみ", "gomi"),
            ("引越し", "tennyu"),
            ("こせき", "koseki"),
        ] {
            assert_eq!(top(&ix, q).as_deref(), Some(want), "query {q}");
        }
        assert_eq!(top(&ix, "ぴよぴよ"), None);
        assert_eq!(top(&ix, "xyz"), None);
    }

    fn ids(ix: &TenantIndex, q: &str) -> Vec<(String, f32)> {
        run(
            ix,
            &[],
            &SearchQuery {
                text: q.into(),
                ..Default::default()
            },
        )
        .hits
        .into_iter()
        .map(|h| (h.id, h.coverage))
        .collect()
    }

    #[test]
    fn title_beats_summary_beats_body() {
        // A source's summary is also in its body (see `Doc::summary`).
        let mut in_summary = doc(
            "summary",
            "届出の案内",
            "犬を飼い始めたときの届出です。ほかの手続です。",
        );
        in_summary.summary = Text::ja_only("犬を飼い始めたときの届出です。");
        let ix = TenantIndex::build(vec![
            doc("body", "届出の案内", "本文の終わりに犬の話があります。"),
            in_summary,
            doc("title", "犬の登録", "飼い主の届出です。"),
        ]);
        let got: Vec<String> = ids(&ix, "犬").into_iter().map(|(id, _)| id).collect();
        assert_eq!(got, ["title", "summary", "body"]);
    }

    #[test]
    fn popular_pages_rank_higher_among_equals() {
        let docs = || {
            vec![
                doc("a", "犬の登録", "犬を登録します。"),
                doc("b", "犬の登録", "犬を登録します。"),
            ]
        };
        let first = |ix: &TenantIndex| ids(ix, "犬の登録")[0].0.clone();
        assert_eq!(first(&TenantIndex::build(docs())), "a");
        let counts = [("b".to_string(), 40u64), ("a".to_string(), 2)].into();
        assert_eq!(
            first(&TenantIndex::build(docs()).with_popularity(&counts)),
            "b"
        );
    }

    /// An index assembled from kept analyses, with one document changed,
    /// one added and one removed, ranks and scores exactly as a full build
    /// of the same documents.
    #[test]
    fn an_assembled_index_is_the_full_build() {
        use crate::index::Analysed;
        use std::sync::Arc;
        let before = corpus();
        let kept: std::collections::HashMap<String, Arc<Analysed>> = before
            .docs
            .iter()
            .map(|d| (d.id.clone(), Arc::new(Analysed::of(d))))
            .collect();
        let mut docs: Vec<Doc> = before
            .docs
            .iter()
            .filter(|d| d.id != "gomi")
            .cloned()
            .collect();
        docs[0].body = Text::ja_only("住民票の写しはコンビニでも取れます。");
        docs.push(doc("inu", "犬の登録", "犬を飼い始めたら登録してください。"));
        let entries: Vec<(Doc, Arc<Analysed>)> = docs
            .iter()
            .map(|d| {
                let same = before.docs.iter().any(|b| b == d);
                let a = match kept.get(&d.id) {
                    Some(a) if same => a.clone(),
                    _ => Arc::new(Analysed::of(d)),
                };
                (d.clone(), a)
            })
            .collect();
        let assembled = TenantIndex::assemble(entries);
        let full = TenantIndex::build(docs);
        for q in [
            "住民票",
            "コンビニ",
            "犬",
            "ごみ",
            "請求",
            "いんかん",
            "マイナンバーカード",
        ] {
            let scores = |ix: &TenantIndex| {
                run(
                    ix,
                    &[],
                    &SearchQuery {
                        text: q.into(),
                        ..Default::default()
                    },
                )
                .hits
                .into_iter()
                .map(|h| (h.id, h.score.to_bits(), h.coverage.to_bits()))
                .collect::<Vec<_>>()
            };
            assert_eq!(scores(&assembled), scores(&full), "{q}");
        }
        assert_eq!(ids(&assembled, "コンビニ")[0].0, "juminhyo");
        assert!(ids(&assembled, "ごみ").is_empty());
    }

    #[test]
    fn hits_say_how_much_of_the_question_they_matched() {
        let ix = corpus();
        let hits = ids(&ix, "住民票の写しを郵送で");
        assert_eq!(hits[0].0, "juminhyo");
        // 住民票 and 写 matched, 郵送 did not.
        assert!((hits[0].1 - 2.0 / 3.0).abs() < 1e-6, "{hits:?}");
        assert_eq!(ids(&ix, "住民票")[0].1, 1.0);
    }
}
