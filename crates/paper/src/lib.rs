//! Printed documents (帳票): A4 PDFs with Japanese text, the font embedded
//! and subset to the glyphs used, with a Unicode map so text can be
//! searched, copied and read aloud. Layout is a simple flow of blocks
//! (title, headings, paragraphs, two-column rows, numbered steps, a drawn
//! signature) that wraps Japanese text at any character, keeps closing
//! punctuation on its line (禁則) and breaks pages.

mod layout;
pub mod sheet;

use std::sync::Arc;

pub use layout::render;
pub use sheet::{render_sheets, Mark, Sheet};

#[derive(Debug, thiserror::Error)]
pub enum PaperError {
    #[error("font file {path}: {source}")]
    FontFile {
        path: String,
        source: std::io::Error,
    },
    #[error("font file is not a TrueType/OpenType font")]
    FontParse,
    #[error("font subsetting failed: {0}")]
    Subset(String),
}

/// A font to embed (TrueType outlines, e.g. IPAex Gothic from Debian's
/// `fonts-ipaexfont-gothic`). Loaded once, shared by every document.
#[derive(Clone)]
pub struct Font {
    data: Arc<Vec<u8>>,
}

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Font({} bytes)", self.data.len())
    }
}

/// Where Debian's `fonts-ipaexfont-gothic` puts IPAex Gothic.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf";

/// IPAex Gothic 00401, shipped with madoguchi (IPA Font License v1.0,
/// which allows redistribution and embedding; see
/// `fonts/IPAexGothic-COPYRIGHT.txt`), so printing works on a machine
/// without the Debian package.
const BUNDLED: &[u8] = include_bytes!("../fonts/ipaexg.ttf");

impl Font {
    pub fn load(path: &str) -> Result<Font, PaperError> {
        let data = std::fs::read(path).map_err(|source| PaperError::FontFile {
            path: path.to_string(),
            source,
        })?;
        Font::from_bytes(data)
    }

    /// The bundled IPAex Gothic.
    pub fn bundled() -> Font {
        Font {
            data: Arc::new(BUNDLED.to_vec()),
        }
    }

    pub fn from_bytes(data: Vec<u8>) -> Result<Font, PaperError> {
        let face = ttf_parser::Face::parse(&data, 0).map_err(|_| PaperError::FontParse)?;
        // Japanese text needs the kana and common kanji.
        if face.glyph_index('あ').is_none() || face.glyph_index('申').is_none() {
            return Err(PaperError::FontParse);
        }
        Ok(Font {
            data: Arc::new(data),
        })
    }
}

/// One numbered step of a routing sheet: what, where, and what to bring.
#[derive(Clone, Debug)]
pub struct Step {
    pub title: String,
    pub lines: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum Block {
    Title(String),
    Heading(String),
    Text(String),
    /// Smaller, grey: notes and references.
    Note(String),
    /// Label and value, in a bordered table.
    Rows(Vec<(String, String)>),
    Steps(Vec<Step>),
    /// A signature drawn on screen: strokes of points in a box of
    /// `width` × `height` units (y down), scaled into a framed box.
    Signature {
        label: String,
        strokes: Vec<Vec<(f32, f32)>>,
        width: f32,
        height: f32,
    },
    /// A framed empty box to sign on paper.
    SignHere(String),
}

#[derive(Clone, Debug)]
pub struct Document {
    pub title: String,
    /// BCP 47, e.g. `ja`.
    pub lang: String,
    pub blocks: Vec<Block>,
    /// Printed at the foot of every page with the page number.
    pub footer: String,
}
