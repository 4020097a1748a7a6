//! Printed documents: the font is loaded once at start — the configured
//! one (`pdf_font`), or the IPAex Gothic shipped with madoguchi.

use kernel::{AppError, AppResult};

#[derive(Clone, Debug)]
pub struct Printer {
    font: paper::Font,
}

impl Printer {
    pub fn load(path: &str) -> Self {
        let font = match paper::Font::load(path) {
            Ok(f) => f,
            Err(e) => {
                tracing::info!(error = %e, "printed documents use the bundled IPAex Gothic");
                paper::Font::bundled()
            }
        };
        Printer { font }
    }

    /// Renders a document as PDF bytes.
    pub fn render(&self, doc: &paper::Document) -> AppResult<Vec<u8>> {
        paper::render(&self.font, doc).map_err(|e| AppError::Internal(anyhow::anyhow!("PDF: {e}")))
    }
}

/// A PDF response, shown in the browser (inline) with a file name.
pub fn pdf_response(bytes: Vec<u8>, filename: &str) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
