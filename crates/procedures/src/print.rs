//! Printed documents: the font is loaded once at start; without it,
//! printing answers with a clear message and everything else works.

use kernel::{AppError, AppResult};

#[derive(Clone, Debug)]
pub struct Printer {
    font: Option<paper::Font>,
    path: std::sync::Arc<str>,
}

impl Printer {
    pub fn load(path: &str) -> Self {
        let font = match paper::Font::load(path) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!(error = %e, "no font for printed documents: PDFs are unavailable");
                None
            }
        };
        Printer {
            font,
            path: path.into(),
        }
    }

    /// Renders a document as PDF bytes.
    pub fn render(&self, doc: &paper::Document) -> AppResult<Vec<u8>> {
        let font = self.font.as_ref().ok_or_else(|| {
            AppError::Unavailable(format!(
                "印刷用のフォント（{}）がないため PDF を作れません。システム管理者に fonts-ipaexfont-gothic の導入を依頼してください。",
                self.path
            ))
        })?;
        paper::render(font, doc).map_err(|e| AppError::Internal(anyhow::anyhow!("PDF: {e}")))
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
