//! Forms drawn at fixed places (帳票 with a set layout, e.g. a payment
//! slip): each A4 page is a list of marks placed in millimetres from the
//! page's top-left corner — text, filled rectangles (the bars of a barcode,
//! the modules of a QR code), frames and lines. Knows nothing of what the
//! marks mean.

use pdf_writer::{Content, Str};

use crate::layout::{assemble, face, Writer};
use crate::{Font, PaperError};

/// Points per millimetre.
const PT: f32 = 72.0 / 25.4;
const PAGE_H_MM: f32 = 297.0;

/// One thing drawn on a sheet. Coordinates in mm from the top-left corner.
#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    /// Text whose baseline starts at (`x`, `y`); `size` in points.
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    /// Text centred on `x`.
    TextCentred {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    /// A black rectangle, top-left corner at (`x`, `y`).
    Fill { x: f32, y: f32, w: f32, h: f32 },
    /// The outline of a rectangle, `line` mm wide.
    Frame {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        line: f32,
    },
    /// A dashed line (a cut line between the parts of a form).
    Dashed { x1: f32, y1: f32, x2: f32, y2: f32 },
}

/// One A4 page of marks.
#[derive(Clone, Debug, Default)]
pub struct Sheet {
    pub marks: Vec<Mark>,
}

impl Sheet {
    pub fn push(&mut self, mark: Mark) {
        self.marks.push(mark);
    }

    /// Bars of a one-dimensional symbol: `modules` are the symbol's modules
    /// (true = bar) from the left, each `module` mm wide, `height` mm tall.
    /// Neighbouring bar modules become one rectangle, so every bar is
    /// exactly its width.
    pub fn bars(&mut self, x: f32, y: f32, module: f32, height: f32, modules: &[bool]) {
        let mut i = 0;
        while i < modules.len() {
            if modules[i] {
                let start = i;
                while i < modules.len() && modules[i] {
                    i += 1;
                }
                self.push(Mark::Fill {
                    x: x + start as f32 * module,
                    y,
                    w: (i - start) as f32 * module,
                    h: height,
                });
            } else {
                i += 1;
            }
        }
    }

    /// A square matrix symbol (a QR code): `dark` row by row, `width`
    /// modules a side, each `module` mm; runs of dark modules in a row are
    /// one rectangle.
    pub fn matrix(&mut self, x: f32, y: f32, module: f32, width: usize, dark: &[bool]) {
        for (row, line) in dark.chunks(width).enumerate() {
            self.bars(x, y + row as f32 * module, module, module, line);
        }
    }
}

fn draw(w: &mut Writer<'_>, mark: &Mark, out: &mut Content) {
    // PDF space: points, y up from the bottom.
    let px = |x: f32| x * PT;
    let py = |y: f32| (PAGE_H_MM - y) * PT;
    match mark {
        Mark::Text { x, y, size, text } => show(w, out, px(*x), py(*y), *size, text),
        Mark::TextCentred { x, y, size, text } => {
            let half = w.width(text, *size) / 2.0;
            show(w, out, px(*x) - half, py(*y), *size, text);
        }
        Mark::Fill { x, y, w: width, h } => {
            out.set_fill_gray(0.0);
            out.rect(px(*x), py(*y + *h), width * PT, h * PT)
                .fill_nonzero();
        }
        Mark::Frame {
            x,
            y,
            w: width,
            h,
            line,
        } => {
            out.set_stroke_gray(0.0);
            out.set_line_width(line * PT);
            out.rect(px(*x), py(*y + *h), width * PT, h * PT).stroke();
        }
        Mark::Dashed { x1, y1, x2, y2 } => {
            out.save_state();
            out.set_stroke_gray(0.4);
            out.set_line_width(0.5);
            out.set_dash_pattern([3.0, 2.0], 0.0);
            out.move_to(px(*x1), py(*y1))
                .line_to(px(*x2), py(*y2))
                .stroke();
            out.restore_state();
        }
    }
}

fn show(w: &mut Writer<'_>, out: &mut Content, x: f32, y: f32, size: f32, text: &str) {
    let bytes = w.encode(text);
    out.set_fill_gray(0.0);
    out.begin_text();
    out.set_font(crate::layout::FONT, size);
    out.next_line(x, y);
    out.show(Str(&bytes));
    out.end_text();
}

/// Renders `sheets` as one PDF, a page each.
pub fn render_sheets(
    font: &Font,
    title: &str,
    lang: &str,
    sheets: &[Sheet],
) -> Result<Vec<u8>, PaperError> {
    let mut w = Writer::new(face(font)?, String::new());
    w.pages.clear();
    for sheet in sheets {
        let mut out = Content::new();
        for mark in &sheet.marks {
            draw(&mut w, mark, &mut out);
        }
        w.pages.push(out);
    }
    assemble(font, w, title, lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_modules_become_one_bar_each() {
        let mut s = Sheet::default();
        s.bars(
            10.0,
            20.0,
            0.5,
            8.0,
            &[true, true, false, true, false, false, true],
        );
        assert_eq!(
            s.marks,
            vec![
                Mark::Fill {
                    x: 10.0,
                    y: 20.0,
                    w: 1.0,
                    h: 8.0
                },
                Mark::Fill {
                    x: 11.5,
                    y: 20.0,
                    w: 0.5,
                    h: 8.0
                },
                Mark::Fill {
                    x: 13.0,
                    y: 20.0,
                    w: 0.5,
                    h: 8.0
                },
            ]
        );
        let mut m = Sheet::default();
        m.matrix(0.0, 0.0, 1.0, 2, &[true, false, true, true]);
        assert_eq!(
            m.marks,
            vec![
                Mark::Fill {
                    x: 0.0,
                    y: 0.0,
                    w: 1.0,
                    h: 1.0
                },
                Mark::Fill {
                    x: 0.0,
                    y: 1.0,
                    w: 2.0,
                    h: 1.0
                },
            ]
        );
    }

    #[test]
    fn renders_pages_of_marks() {
        let mut s = Sheet::default();
        s.push(Mark::Text {
            x: 20.0,
            y: 20.0,
            size: 12.0,
            text: "納付書".into(),
        });
        s.push(Mark::TextCentred {
            x: 105.0,
            y: 40.0,
            size: 9.0,
            text: "12345".into(),
        });
        s.push(Mark::Frame {
            x: 10.0,
            y: 10.0,
            w: 190.0,
            h: 90.0,
            line: 0.3,
        });
        s.push(Mark::Dashed {
            x1: 0.0,
            y1: 99.0,
            x2: 210.0,
            y2: 99.0,
        });
        s.bars(20.0, 50.0, 0.19, 10.0, &[true, false, true]);
        let pdf = render_sheets(&Font::bundled(), "t", "ja", &[s.clone(), s]).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 2"), "two pages");
    }
}
