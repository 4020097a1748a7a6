//! Reads back the barcodes and QR codes printed in a PDF: each page
//! rendered by `pdftoppm` (poppler-utils) and decoded by zxing-cpp (PyPI)
//! through `scripts/zxing-decode.py`.
//!
//! The Python with zxing-cpp is `MADOGUCHI_TEST_ZXING_PYTHON` (scripts/test
//! sets it to its virtualenv) or `target/zxing-venv/bin/python`. Without it
//! the check is skipped, loudly, except on CI, where it fails.

use std::path::PathBuf;
use std::process::Command;

/// One symbol found on a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub page: u32,
    /// zxing's name of the format (`Code 128`, `QR Code`).
    pub format: String,
    /// The symbology identifier: `]C1` is GS1-128 (Code 128 with FNC1 first).
    pub symbology: String,
    pub text: String,
}

fn python() -> Option<String> {
    if let Ok(p) = std::env::var("MADOGUCHI_TEST_ZXING_PYTHON") {
        return Some(p);
    }
    let local =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/zxing-venv/bin/python");
    local.exists().then(|| local.display().to_string())
}

/// Every symbol in `pdf`, or `None` when no decoder is installed (outside CI).
pub fn decode_pdf(pdf: &[u8]) -> Option<Vec<Decoded>> {
    let Some(python) = python() else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("CI: no Python with zxing-cpp (MADOGUCHI_TEST_ZXING_PYTHON); scripts/test installs it");
        }
        eprintln!("SKIPPED: no Python with zxing-cpp; run scripts/test or set MADOGUCHI_TEST_ZXING_PYTHON");
        return None;
    };
    let path = std::env::temp_dir().join(format!("madoguchi-zxing-{}.pdf", super::random_suffix()));
    std::fs::write(&path, pdf).expect("write the PDF to decode");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/zxing-decode.py");
    let out = Command::new(python).arg(&script).arg(&path).output();
    let _ = std::fs::remove_file(&path);
    let out = out.expect("run scripts/zxing-decode.py");
    assert!(
        out.status.success(),
        "zxing-decode.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            Decoded {
                page: v["page"].as_u64().unwrap_or(0) as u32,
                format: s("format"),
                symbology: s("symbology"),
                text: s("text"),
            }
        })
        .collect();
    Some(found)
}
