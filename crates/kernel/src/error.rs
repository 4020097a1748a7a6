//! One error type for the application layer and its one mapping to HTTP.
//!
//! API responses carry a JSON body with a stable `code` a resident can read
//! out to a clerk; HTML pages are rendered from the same information by the
//! error-page layer in [`crate::web`]. A 500 shows only an incident id; the
//! cause chain goes to the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::i18n::{self, Lang};

/// A problem with one field of a form or request body.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FieldError {
    /// The field's machine name (the HTML `name`/`id`).
    pub field: String,
    /// The message in the request's language, naming the field.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A body that does not parse: each field named, said in Japanese
    /// (`detail` says it too, with the parser's own words for developers).
    #[error("bad body: {detail}")]
    BadBody {
        detail: String,
        fields: Vec<FieldError>,
    },
    #[error("sign-in required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    /// Signed in with the right role, but not for this thing (e.g. a
    /// counter of another department); the message says why.
    #[error("not permitted: {0}")]
    NotPermitted(&'static str),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("payload too large")]
    PayloadTooLarge,
    /// A rate limit was hit; the client may retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// A state-changing request without a valid CSRF token or from another site.
    #[error("cross-site request refused")]
    Csrf,
    /// The procedure needs a stronger identity (`signed_in`, `my_number_card`).
    #[error("identity required: {0}")]
    IdentityRequired(&'static str),
    /// Every password check is busy and the queue for them is full: try
    /// again in a moment (503 with `Retry-After`).
    #[error("busy")]
    Busy,
    /// A part of the service cannot work here (e.g. no font for PDFs);
    /// the message says what an administrator must do.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The database cannot be reached or does not accept writes (a
    /// primary lost, a failover in progress): nothing was done, or the
    /// outcome is unknown and a retry with the same idempotency key tells
    /// (503 with `Retry-After`).
    #[error("database unavailable")]
    DatabaseUnavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// `Retry-After` of [`AppError::Busy`]: a password check takes tens of
/// milliseconds, so the queue empties within a second or two.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// `Retry-After` of [`AppError::DatabaseUnavailable`]: a failover takes a
/// few seconds.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 2;

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if is_connection_error(&e) {
            tracing::warn!(error = %e, "database unavailable");
            AppError::DatabaseUnavailable
        } else {
            AppError::Internal(e.into())
        }
    }
}

/// True if the error says the database is not there or does not take
/// writes now, rather than that the statement is wrong: the connection
/// failed or broke, the pool waited in vain, the server is shutting down
/// or starting (SQLSTATE 57P01–57P03), a connection exception (class 08),
/// or a write reached a read-only server (25006, a demoted primary).
pub fn is_connection_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "25006")
        }),
        _ => false,
    }
}

/// What the HTML layer needs to render an error page.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub code: String,
    pub message_key: String,
    pub detail: Option<String>,
    pub fields: Vec<FieldError>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) | AppError::BadBody { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::NotPermitted(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Csrf | AppError::IdentityRequired(_) => StatusCode::FORBIDDEN,
            AppError::Unavailable(_) | AppError::Busy | AppError::DatabaseUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable code, shown to residents (`MDG-404-tenant`) and in the API.
    pub fn code(&self) -> String {
        match self {
            AppError::NotFound(what) => format!("MDG-404-{what}"),
            AppError::Validation(_) => "MDG-422".into(),
            AppError::BadRequest(_) | AppError::BadBody { .. } => "MDG-400".into(),
            AppError::Unauthorized => "MDG-401".into(),
            AppError::Forbidden => "MDG-403".into(),
            AppError::NotPermitted(what) => format!("MDG-403-{what}"),
            AppError::Conflict(what) => format!("MDG-409-{what}"),
            AppError::PayloadTooLarge => "MDG-413".into(),
            AppError::TooManyRequests(_) => "MDG-429".into(),
            AppError::Csrf => "MDG-403-csrf".into(),
            AppError::IdentityRequired(level) => format!("MDG-403-identity-{level}"),
            AppError::Unavailable(_) => "MDG-503".into(),
            AppError::Busy => "MDG-503-busy".into(),
            AppError::DatabaseUnavailable => "MDG-503-database".into(),
            AppError::Internal(_) => "MDG-500".into(),
        }
    }

    pub fn message_key(&self) -> String {
        match self {
            AppError::NotFound(what) => format!("error.not_found.{what}"),
            AppError::Validation(_) => "error.validation".into(),
            AppError::BadRequest(_) | AppError::BadBody { .. } => "error.bad_request".into(),
            AppError::Unauthorized => "error.unauthorized".into(),
            AppError::Forbidden => "error.forbidden".into(),
            AppError::NotPermitted(what) => format!("error.not_permitted.{what}"),
            AppError::Conflict(what) => format!("error.conflict.{what}"),
            AppError::PayloadTooLarge => "error.too_large".into(),
            AppError::TooManyRequests(_) => "error.too_many".into(),
            AppError::Csrf => "error.csrf".into(),
            AppError::IdentityRequired(level) => format!("error.identity_required.{level}"),
            AppError::Unavailable(_) => "error.unavailable".into(),
            AppError::Busy => "error.busy".into(),
            AppError::DatabaseUnavailable => "error.database_unavailable".into(),
            AppError::Internal(_) => "error.internal".into(),
        }
    }

    pub fn info(&self, incident: Option<String>) -> ErrorInfo {
        ErrorInfo {
            status: self.status(),
            code: self.code(),
            message_key: self.message_key(),
            detail: match self {
                AppError::BadRequest(m) | AppError::Unavailable(m) => Some(m.clone()),
                AppError::BadBody { detail, .. } => Some(detail.clone()),
                AppError::Internal(_) => incident,
                _ => None,
            },
            fields: match self {
                AppError::Validation(f) | AppError::BadBody { fields: f, .. } => f.clone(),
                _ => Vec::new(),
            },
        }
    }
}

/// JSON error body of the API.
#[derive(Serialize)]
pub struct ErrorBody {
    pub error: ErrorContent,
}

#[derive(Serialize)]
pub struct ErrorContent {
    pub code: String,
    pub message: String,
    pub message_en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ErrorInfo {
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorContent {
                code: self.code.clone(),
                message: i18n::t(Lang::Ja, &self.message_key).to_string(),
                message_en: i18n::t(Lang::En, &self.message_key).to_string(),
                detail: self.detail.clone(),
                fields: self.fields.clone(),
            },
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // A database error that came through `anyhow` is still a database
        // that is away, not a fault of the program.
        let this = match self {
            AppError::Internal(e)
                if e.chain().any(|c| {
                    c.downcast_ref::<sqlx::Error>()
                        .is_some_and(is_connection_error)
                }) =>
            {
                tracing::warn!(error = %e, "database unavailable");
                AppError::DatabaseUnavailable
            }
            other => other,
        };
        let incident = match &this {
            AppError::Internal(e) => {
                let id = crate::ids::short_id();
                tracing::error!(incident = %id, error = ?e, "internal error");
                Some(id)
            }
            _ => None,
        };
        let retry_after = match &this {
            AppError::TooManyRequests(s) => Some(*s),
            AppError::Busy => Some(BUSY_RETRY_AFTER_SECS),
            AppError::DatabaseUnavailable => Some(DATABASE_RETRY_AFTER_SECS),
            _ => None,
        };
        let info = this.info(incident);
        let mut resp = (info.status, axum::Json(info.body())).into_response();
        if let Some(s) = retry_after {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(s),
            );
        }
        resp.extensions_mut().insert(info);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_is_away_is_a_503_with_retry_after_also_through_anyhow() {
        let direct: AppError = sqlx::Error::PoolTimedOut.into();
        assert!(matches!(direct, AppError::DatabaseUnavailable));
        let wrapped = AppError::Internal(
            anyhow::Error::from(sqlx::Error::Io(std::io::Error::from(
                std::io::ErrorKind::ConnectionReset,
            )))
            .context("committing a batch"),
        );
        for e in [direct, wrapped] {
            let r = e.into_response();
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(r.headers()[axum::http::header::RETRY_AFTER], "2");
            assert_eq!(
                r.extensions().get::<ErrorInfo>().unwrap().code,
                "MDG-503-database"
            );
        }
        // A wrong statement is still the program's fault.
        let bad: AppError = sqlx::Error::RowNotFound.into();
        assert_eq!(
            bad.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
