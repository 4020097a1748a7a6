//! The madoguchi application: configuration → database → slices → one
//! router. The binary (`main.rs`) is only the command line around this.

// The OpenAPI document is one large json! literal.
#![recursion_limit = "512"]

pub mod demo;
pub mod jobs;
pub mod openapi;
pub mod rekey;
pub mod tenant_path;

use std::sync::Arc;

use askama::Template;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cases::applications::Links;
use cases::committer::{MailFn, NewApplication};
use cases::{CasesState, Committer, Limits};
use catalogue::CatalogueState;
use desk::DeskState;
use kernel::auth::SessionPolicy;
use kernel::config::Config;
use kernel::i18n::Lang;
use kernel::web::{render, Page};
use kernel::{AppError, Db};
use navi::NaviState;

/// Everything a running server holds.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub config: Arc<Config>,
    pub catalogue: CatalogueState,
    pub cases: CasesState,
    pub navi: NaviState,
    pub desk: DeskState,
    pub identity: identity::IdentityState,
    pub counter: counter::CounterState,
    pub search: search::routes::SearchState,
    pub guide: guide::GuideState,
    pub translation: translation::TranslationState,
    /// よめーる: subscriptions to the municipality's mail.
    pub subscriptions: mail::subscriptions::SubscriptionsState,
    /// Feeds and LINE (`mail::channels`).
    pub channels: mail::channels::ChannelsState,
    /// 配信: newsletters to subscribers (`mail::newsletters`).
    pub newsletters: mail::newsletters::NewsletterState,
    /// The event channel across servers (`kernel::events`).
    pub events: kernel::events::Bus,
    /// This server's job workers (`kernel::jobs`).
    pub jobs: kernel::jobs::Runner,
    /// Mail delivery: the sender and its staff pages (`mail::delivery`).
    pub mail_delivery: mail::delivery::DeliveryState,
    /// 納付書: slip settings and printed slips (`payments::slips`).
    pub slips: payments::slips::SlipsState,
    /// 消込: reconciliation's staff pages (`payments::reconcile_pages`).
    pub reconcile: payments::reconcile_pages::ReconcileState,
    /// 公金: charges, online payment (`payments`).
    pub payments: payments::PaymentsState,
    csrf: kernel::csrf::CsrfConfig,
    limiter: kernel::ratelimit::RateLimiter,
}

/// The keys for special personal information: from the configuration, or
/// in development mode a key kept in the database (with a warning: that
/// protects nothing against someone with the database file).
async fn vault(config: &Config, db: &Db) -> anyhow::Result<kernel::crypto::Vault> {
    if !config.encryption_keys.is_empty() {
        return Ok(kernel::crypto::Vault::from_specs(&config.encryption_keys)?);
    }
    if config.mode != kernel::config::Mode::Development {
        anyhow::bail!("encryption_keys が設定されていません（本番モード）");
    }
    tracing::warn!(
        "development mode without encryption_keys: the key for マイナンバー is kept in the database; configure MADOGUCHI_ENCRYPTION_KEYS for real data"
    );
    use base64::Engine;
    let key = kernel::secrets::load_or_create(db, "development_encryption_key").await?;
    Ok(kernel::crypto::Vault::from_specs(&[format!(
        "dev:{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )])?)
}

/// The e-mail queued when an application is received (sent by the outbox
/// worker that arrives with notifications).
fn receipt_mail(links: Links) -> MailFn {
    Arc::new(move |a: &NewApplication, r: &kernel::ids::ReceiptNumber| {
        let lang = a.lang;
        let subject = kernel::i18n::tf(
            lang,
            "mail.received.subject",
            &[("procedure", &a.procedure_name)],
        );
        let body = kernel::i18n::tf(
            lang,
            "mail.received.body",
            &[
                ("procedure", &a.procedure_name),
                ("receipt", &r.display()),
                ("url", &links.case_url(&a.tenant, r.as_str())),
            ],
        );
        (subject, body)
    })
}

/// What every capability is built from: the database with its keys, the
/// session policy and the deployment's secrets.
struct Base {
    db: Db,
    vault: kernel::crypto::Vault,
    session: SessionPolicy,
    residents: kernel::resident::ResidentCache,
    links: Links,
    secure: bool,
    events: kernel::events::Bus,
}

impl Base {
    async fn connect(config: &Config) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database_url, config.pool_size).await?;
        kernel::migrate::run(&db).await?;
        kernel::web::DEVELOPMENT.store(
            config.mode == kernel::config::Mode::Development,
            std::sync::atomic::Ordering::Relaxed,
        );
        let vault = vault(config, &db).await?;
        // The key of request hashes (which cover answers with マイナンバー)
        // comes from the encryption key, never from the database.
        let pepper = vault.derive("request-hash");
        let db = db.with_vault(vault.clone()).with_pepper(pepper);
        let secure = config.public_url.starts_with("https://");
        let session = SessionPolicy {
            idle_ms: config.staff_idle_minutes * 60_000,
            absolute_ms: config.staff_absolute_hours * 3_600_000,
            secure,
        };
        let links = Links {
            public_url: config.public_url.as_str().into(),
            access_key: kernel::secrets::load_or_create(&db, "access_token_key")
                .await?
                .into(),
        };
        let events = kernel::events::Bus::start(db.clone()).await?;
        Ok(Self {
            db,
            vault,
            session,
            residents: kernel::resident::ResidentCache::following(events.clone()),
            links,
            secure,
            events,
        })
    }
}

impl App {
    /// Connects, migrates, builds every capability and starts the
    /// background work (the committer, the counter's events, the job
    /// workers with housekeeping).
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let b = Base::connect(&config).await?;
        let cache: Arc<catalogue::Cache> = Default::default();
        let search = search_state(&b);
        // The catalogue's cache re-indexes a tenant whenever its
        // procedures change.
        cache.follow_with(search.search.clone());
        // Changes on other servers evict this server's copies.
        cache.follow_events(b.events.clone());
        // Every server's index follows the changes made on any server.
        search.search.follow(b.events.clone());
        tokio::task::spawn_blocking(|| {
            jp::reading::warm_up();
            jp::postal_data::warm_up();
        });
        let committer = Committer::start(b.db.clone(), receipt_mail(b.links.clone()));
        let cases = CasesState {
            db: b.db.clone(),
            links: b.links.clone(),
            committer: committer.clone(),
            cache: cache.clone(),
            session: b.session,
            limits: Limits {
                max_attachment_bytes: config.max_attachment_bytes as u64,
            },
            vault: b.vault.clone(),
            residents: b.residents.clone(),
            // Failed lookups of a receipt number count like failed sign-ins.
            lookups: cases::lookup::Lookups::new(lockout_policy(&config)),
        };
        let channels = mail::channels::ChannelsState {
            db: b.db.clone(),
            session: b.session,
            public_url: mail::channels::PublicUrl::new(&config.public_url),
            line: mail::channels::line::api::LineApi::new(&config.line_api_url)?,
        };
        let newsletters = mail::newsletters::NewsletterState {
            db: b.db.clone(),
            session: b.session,
            sender: mail::newsletters::send::Sender {
                public_url: b.links.public_url.clone(),
                links: mail::links::LinkKey::load(&b.db).await?,
            },
        };
        let mail_delivery = mail::delivery::DeliveryState {
            db: b.db.clone(),
            session: b.session,
            deliverer: mail::delivery::Deliverer::new(b.db.clone(), &config)?,
        };
        let jobs = jobs::start(
            &b.db,
            b.session,
            search.search.clone(),
            channels.line.clone(),
            newsletters.sender.clone(),
            mail_delivery.deliverer.clone(),
            kernel::jobs::RunnerOptions {
                workers: config.job_workers,
                ..Default::default()
            },
        )
        .await?;
        let slips = payments::slips::SlipsState {
            db: b.db.clone(),
            session: b.session,
            font: paper::Font::load(&config.pdf_font).unwrap_or_else(|_| paper::Font::bundled()),
        };
        let app = Self {
            jobs,
            mail_delivery,
            slips,
            reconcile: payments::reconcile_pages::ReconcileState {
                db: b.db.clone(),
                session: b.session,
            },
            catalogue: CatalogueState {
                db: b.db.clone(),
                cache: cache.clone(),
                session: b.session,
            },
            navi: NaviState {
                db: b.db.clone(),
                cache: cache.clone(),
                search: search.search.clone(),
                session: b.session,
            },
            desk: desk_state(&config, &b, &cases)?,
            cases,
            identity: identity_state(&config, &b).await?,
            counter: counter_state(&config, &b),
            guide: guide_state(&b, &search)?,
            translation: translation_state(&b),
            subscriptions: mail::subscriptions::SubscriptionsState {
                db: b.db.clone(),
                session: b.session,
                vault: b.vault.clone(),
                links: mail::links::LinkKey::load(&b.db).await?,
                public_url: mail::subscriptions::PublicUrl(config.public_url.as_str().into()),
            },
            channels,
            newsletters,
            payments: payments_state(&config, &b).await?,
            csrf: kernel::csrf::CsrfConfig {
                key: Arc::new(kernel::secrets::load_or_create(&b.db, "csrf_key").await?),
                secure: b.secure,
                max_body_bytes: config.max_body_bytes,
            },
            // Counted in the database on PostgreSQL (every server), in
            // memory on SQLite (one process).
            limiter: kernel::ratelimit::RateLimiter::new(
                config.rate_limits,
                &config.trusted_proxies,
                &b.db,
            ),
            search,
            events: b.events,
            db: b.db,
            config: Arc::new(config),
        };
        Ok(app)
    }

    pub fn router(&self) -> Router {
        let root = Router::new()
            .route("/", get(portal))
            .route("/healthz", get(healthz))
            .route("/static/madoguchi.css", get(kernel::web::stylesheet))
            .route("/static/madoguchi.js", get(kernel::web::script))
            .route("/preferences", axum::routing::post(kernel::prefs::update))
            .route("/api/openapi.json", get(openapi::document))
            .route("/api/v1/tenants", get(tenants_api))
            .with_state(self.db.clone());
        root.merge(catalogue::router(self.catalogue.clone()))
            .merge(cases::router(self.cases.clone()))
            .merge(navi::router(self.navi.clone()))
            .merge(desk::router(self.desk.clone()))
            .merge(identity::router(self.identity.clone()))
            .merge(counter::router(self.counter.clone()))
            .merge(search::routes::router(self.search.clone()))
            .merge(guide::router(self.guide.clone()))
            .merge(translation::router(self.translation.clone()))
            .merge(mail::subscriptions::router(self.subscriptions.clone()))
            .merge(mail::channels::router(self.channels.clone()))
            .merge(mail::newsletters::router(self.newsletters.clone()))
            .merge(mail::delivery::router(self.mail_delivery.clone()))
            .merge(payments::slips::router(self.slips.clone()))
            .merge(payments::reconcile_pages::router(self.reconcile.clone()))
            .merge(payments::router(self.payments.clone()))
            // Layers on the routes only, so that a path no route has is 404
            // (the fallback below) and a method its route lacks 405 (the
            // method-not-allowed fallback, set after them), never a refusal
            // of a request no handler would take: the tenant in the path is
            // a municipality code; every state-changing request has a CSRF
            // token / is JSON only / same site; then the rate limits on
            // sign-in and submission.
            .route_layer(axum::middleware::from_fn(tenant_path::require_code))
            .route_layer(axum::middleware::from_fn_with_state(
                self.csrf.clone(),
                kernel::csrf::protect,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                self.limiter.clone(),
                kernel::ratelimit::limit,
            ))
            // 405 with the Allow header, whatever the method.
            .method_not_allowed_fallback(method_not_allowed)
            // Not found: the page has the CSRF context like every page
            // (its display settings form posts).
            .fallback_service(axum::routing::any(not_found).layer(
                axum::middleware::from_fn_with_state(self.csrf.clone(), kernel::csrf::protect),
            ))
            // Refuses an announced Content-Length over the limit before
            // reading the body; DefaultBodyLimit stops streamed bodies.
            .layer(tower_http::limit::RequestBodyLimitLayer::new(
                self.config.max_body_bytes,
            ))
            .layer(DefaultBodyLimit::max(self.config.max_body_bytes))
            // A bug in a handler is a 500 with an incident id, not a
            // dropped connection.
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                |_: Box<dyn std::any::Any + Send + 'static>| {
                    AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
                },
            ))
            .layer(axum::middleware::from_fn(uniform_errors))
            // What capabilities tell staff on the back office's pages
            // (mail delivery that is not sending).
            .layer(axum::middleware::from_fn_with_state(
                kernel::web::notices::Notices(vec![Arc::new(
                    mail::delivery::notice::DeliveryNotice(self.mail_delivery.deliverer.clone()),
                )]),
                kernel::web::notices::provide,
            ))
            .layer(axum::middleware::from_fn(kernel::web::html_errors))
            // Display preferences for the page templates (also the error
            // pages above), and furigana added to finished pages.
            .layer(axum::middleware::from_fn_with_state(
                self.db.clone(),
                kernel::prefs::context,
            ))
            .layer(axum::middleware::from_fn(kernel::web::security_headers))
            // Behind HTTPS, browsers are told to use nothing else.
            .layer(
                tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                    axum::http::header::STRICT_TRANSPORT_SECURITY,
                    self.config.public_url.starts_with("https://").then(|| {
                        axum::http::HeaderValue::from_static("max-age=31536000; includeSubDomains")
                    }),
                ),
            )
    }
}

pub use jobs::HOUSEKEEPING_EVERY;

/// One search over the catalogue, the navigator and the FAQ.
/// 公金: the charge pages and online payment. The payment simulator is
/// the only provider in development mode; production mode has none
/// until a real provider's adapter is configured (the simulator refuses
/// to start there).
async fn payments_state(config: &Config, b: &Base) -> anyhow::Result<payments::PaymentsState> {
    let simulator = if config.mode == kernel::config::Mode::Development {
        Some(payments::simulator::Simulator::start(&b.db, config.mode).await?)
    } else {
        None
    };
    let providers: Vec<Arc<dyn payments::provider::PaymentProvider>> = simulator
        .iter()
        .map(|s| Arc::new(s.clone()) as Arc<dyn payments::provider::PaymentProvider>)
        .collect();
    Ok(payments::PaymentsState {
        db: b.db.clone(),
        session: b.session,
        vault: b.vault.clone(),
        providers: payments::provider::Providers::new(providers),
        simulator,
        access: payments::online::AccessKey::load(&b.db).await?,
    })
}

fn search_state(b: &Base) -> search::routes::SearchState {
    search::routes::SearchState {
        db: b.db.clone(),
        search: search::Search::with_popularity(
            b.db.clone(),
            vec![
                Arc::new(catalogue::search_docs::ProcedureDocs),
                Arc::new(navi::search_docs::NaviDocs),
                Arc::new(guide::search_docs::FaqDocs),
            ],
            Some(Arc::new(cases::popularity::ApplicationCounts)),
        ),
        session: b.session,
    }
}

fn desk_state(config: &Config, b: &Base, cases: &CasesState) -> anyhow::Result<DeskState> {
    Ok(DeskState {
        db: b.db.clone(),
        links: b.links.clone(),
        committer: cases.committer.clone(),
        cache: cases.cache.clone(),
        session: b.session,
        vault: b.vault.clone(),
        residents: b.residents.clone(),
        registry: desk::Registry(if config.demo_registry {
            Arc::new(demo::registry()?)
        } else {
            Arc::new(kernel::registry::NoRegistry)
        }),
        printer: desk::print::Printer::load(&config.pdf_font),
    })
}

async fn identity_state(config: &Config, b: &Base) -> anyhow::Result<identity::IdentityState> {
    let oidc = match &config.oidc {
        Some(o) => Some(Arc::new(
            identity::oidc::OidcClient::new(o.clone())
                .map_err(|e| anyhow::anyhow!("OpenID Connect の設定が正しくありません: {e}"))?,
        )),
        None => None,
    };
    Ok(identity::IdentityState {
        db: b.db.clone(),
        vault: b.vault.clone(),
        accounts: kernel::auth::account::Accounts::new(
            b.vault.clone(),
            lockout_policy(config),
            kernel::auth::password_check::PasswordGate::new(
                config.password_checks,
                config.password_check_queue,
            ),
        ),
        session: b.session,
        oidc,
        dev_mode: identity::DevMode(config.mode == kernel::config::Mode::Development),
        dev_idp: identity::DevIdp(config.dev_identity_provider),
        subject_key: identity::SubjectKey(Arc::new(
            kernel::secrets::load_or_create(&b.db, "resident_subject_key").await?,
        )),
        public_url: identity::PublicUrl(config.public_url.as_str().into()),
        residents: b.residents.clone(),
    })
}

/// Failures in a row before a lock, and its length: staff sign-ins and
/// lookups of a receipt number alike.
fn lockout_policy(config: &Config) -> kernel::auth::lockout::LockoutPolicy {
    kernel::auth::lockout::LockoutPolicy {
        threshold: config.lockout_threshold,
        lock_ms: config.lockout_minutes * 60_000,
    }
}

fn counter_state(config: &Config, b: &Base) -> counter::CounterState {
    counter::CounterState {
        db: b.db.clone(),
        session: b.session,
        events: counter::Events::start(b.db.clone(), b.events.clone()),
        issuer: counter::queue::Issuer::start(b.db.clone()),
        public_url: counter::PublicUrl::new(&config.public_url),
        forecasts: Default::default(),
    }
}

/// 翻訳の状況 and its sources of entries: the city's own texts (with its
/// counters, departments and 手続ナビ), the procedures and the FAQ.
fn translation_state(b: &Base) -> translation::TranslationState {
    translation::TranslationState {
        db: b.db.clone(),
        session: b.session,
        sources: translation::state::Sources::new(vec![
            Arc::new(translation::source::TenantTexts),
            Arc::new(catalogue::translations::ProcedureTexts),
            Arc::new(guide::translations::FaqTexts),
        ]),
    }
}

fn guide_state(
    b: &Base,
    search: &search::routes::SearchState,
) -> anyhow::Result<guide::GuideState> {
    Ok(guide::GuideState {
        db: b.db.clone(),
        session: b.session,
        search: search.search.clone(),
        http: reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| anyhow::anyhow!("HTTP client: {e}"))?,
    })
}

/// Rejections produced by the framework (a body over the limit, a query
/// string or form that does not parse, a wrong content type) become our
/// error type, so they get the same JSON body or Japanese error page, with
/// a stable code, as every other error.
async fn uniform_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    // Framework rejections are plain text; our own pages and JSON errors
    // are left alone.
    let plain = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !status.is_client_error()
        || !plain
        || resp
            .extensions()
            .get::<kernel::error::ErrorInfo>()
            .is_some()
    {
        return resp;
    }
    let err = match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::BAD_REQUEST
        | StatusCode::UNPROCESSABLE_ENTITY
        | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            let body = axum::body::to_bytes(resp.into_body(), 4096)
                .await
                .unwrap_or_default();
            let detail = String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>();
            AppError::BadRequest(format!("リクエストの形式が正しくありません（{detail}）"))
        }
        _ => return resp,
    };
    err.into_response()
}

async fn healthz(State(db): State<Db>) -> Response {
    match db.ping().await {
        Ok(()) => match db.primary_host() {
            // A multi-host URL: how many times this server followed the
            // primary to another host (the hosts themselves are in the log,
            // not on this public page).
            Some(_) => Json(serde_json::json!({
                "status": "ok",
                "database": db.backend().name(),
                "primary_moves": db.primary_moves(),
            }))
            .into_response(),
            None => Json(serde_json::json!({"status": "ok", "database": db.backend().name()}))
                .into_response(),
        },
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

async fn method_not_allowed() -> StatusCode {
    StatusCode::METHOD_NOT_ALLOWED
}

async fn not_found() -> AppError {
    AppError::NotFound("page")
}

async fn tenants_api(State(db): State<Db>) -> Result<Json<serde_json::Value>, AppError> {
    let items = kernel::tenant::list(&db).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

#[derive(Template)]
#[template(path = "portal.html")]
struct Portal {
    page: Page,
    tenants: Vec<kernel::tenant::TenantSummary>,
}

async fn portal(State(db): State<Db>, lang: Lang) -> Result<Response, AppError> {
    let tenants = kernel::tenant::list(&db).await?;
    let page = Page::new(lang, kernel::i18n::t(lang, "portal.title"), "/");
    Ok(render(&Portal { page, tenants }))
}

/// Binds and serves until Ctrl-C / SIGTERM; in-flight requests finish,
/// and so do the mail hand-offs in flight.
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let router = app.router();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    app.mail_delivery.deliverer.shutdown().await;
    Ok(())
}

/// Ctrl-C or SIGTERM (systemd, container runtimes): stop accepting, finish
/// what is in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
