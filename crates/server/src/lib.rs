//! The madoguchi application: configuration → database → slices → one
//! router. The binary (`main.rs`) is only the command line around this.

pub mod demo;
pub mod openapi;

use std::sync::Arc;

use askama::Template;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kernel::auth::SessionPolicy;
use kernel::config::Config;
use kernel::i18n::{Lang, Text};
use kernel::web::{render, Page};
use kernel::{AppError, Db};
use procedures::applications::Links;
use procedures::committer::{MailFn, NewApplication};
use procedures::routes::Limits;
use procedures::{Committer, ProceduresState};

/// Everything a running server holds.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub config: Arc<Config>,
    pub procedures: ProceduresState,
}

/// The e-mail queued when an application is received (sent by the outbox
/// worker that arrives with notifications).
fn receipt_mail(links: Links) -> MailFn {
    Arc::new(move |a: &NewApplication, r: &kernel::ids::ReceiptNumber| {
        let lang = Lang::Ja;
        let subject = kernel::i18n::tf(
            lang,
            "mail.received.subject",
            &[("procedure", &a.procedure_name_ja)],
        );
        let body = kernel::i18n::tf(
            lang,
            "mail.received.body",
            &[
                ("procedure", &a.procedure_name_ja),
                ("receipt", &r.display()),
                ("url", &links.case_url(&a.tenant, r.as_str())),
            ],
        );
        (subject, body)
    })
}

impl App {
    /// Connects, migrates and starts the background writer.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database_url, config.pool_size).await?;
        kernel::migrate::run(&db).await?;
        let links = Links {
            public_url: config.public_url.as_str().into(),
            access_key: kernel::secrets::load_or_create(&db, "access_token_key")
                .await?
                .into(),
        };
        let committer = Committer::start(db.clone(), receipt_mail(links.clone()));
        let procedures = ProceduresState {
            db: db.clone(),
            links,
            committer,
            cache: Default::default(),
            session: SessionPolicy {
                idle_ms: config.staff_idle_minutes * 60_000,
            },
            limits: Limits {
                max_attachment_bytes: config.max_attachment_bytes as u64,
            },
        };
        Ok(Self {
            db,
            config: Arc::new(config),
            procedures,
        })
    }

    pub fn router(&self) -> Router {
        let root = Router::new()
            .route("/", get(portal))
            .route("/healthz", get(healthz))
            .route("/static/madoguchi.css", get(kernel::web::stylesheet))
            .route("/api/openapi.json", get(openapi::document))
            .route("/api/v1/tenants", get(tenants_api))
            .fallback(not_found)
            .layer(axum::middleware::from_fn(kernel::web::html_errors))
            .with_state(self.db.clone());
        root.merge(procedures::router(self.procedures.clone()))
            .layer(axum::middleware::from_fn(kernel::web::security_headers))
            .layer(DefaultBodyLimit::max(self.config.max_body_bytes))
            // Refuses an announced Content-Length over the limit before
            // reading the body; DefaultBodyLimit stops streamed bodies.
            .layer(tower_http::limit::RequestBodyLimitLayer::new(
                self.config.max_body_bytes,
            ))
            .layer(axum::middleware::from_fn(payload_too_large))
    }
}

/// Body-limit rejections become our 413 error (JSON for the API, a page
/// for browsers).
async fn payload_too_large(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE
        && resp
            .extensions()
            .get::<kernel::error::ErrorInfo>()
            .is_none()
    {
        return AppError::PayloadTooLarge.into_response();
    }
    resp
}

async fn healthz(State(db): State<Db>) -> Response {
    match db.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ok", "database": db.backend().name()}))
            .into_response(),
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
    tenants: Vec<(String, Text)>,
}

async fn portal(State(db): State<Db>, lang: Lang) -> Result<Response, AppError> {
    let tenants = kernel::tenant::list(&db).await?;
    let page = Page::new(lang, kernel::i18n::t(lang, "portal.title"), "/");
    Ok(render(&Portal {
        page,
        tenants: tenants.into_iter().map(|t| (t.code, t.name)).collect(),
    }))
}

/// Binds and serves until Ctrl-C / SIGTERM; in-flight requests finish.
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let router = app.router();
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
