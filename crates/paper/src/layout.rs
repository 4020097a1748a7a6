//! Block flow onto A4 pages, and the PDF objects (Type0 font with an
//! Identity-H CID font, subset TrueType program, ToUnicode map).

use pdf_writer::types::{CidFontType, FontFlags, LineCapStyle, LineJoinStyle, SystemInfo};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;

use crate::{Block, Document, Font, PaperError};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.5;
const LEADING: f32 = 1.6;
pub(crate) const FONT: Name<'static> = Name(b"F1");

/// Characters that may not start a line (行頭禁則): they stay on the
/// line before, even past the margin.
const NO_LINE_START: &str =
    "、。，．,.)）」』】〕〉》”’ー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ・：；:;!?！？";

pub(crate) struct Writer<'f> {
    face: ttf_parser::Face<'f>,
    upem: f32,
    glyphs: GlyphRemapper,
    /// New glyph id → the text it stands for (ToUnicode).
    unicode: Vec<(u16, char)>,
    pub(crate) pages: Vec<Content>,
    y: f32,
    footer: String,
}

impl<'f> Writer<'f> {
    pub(crate) fn new(face: ttf_parser::Face<'f>, footer: String) -> Self {
        let upem = f32::from(face.units_per_em());
        let mut w = Writer {
            face,
            upem,
            glyphs: GlyphRemapper::new(),
            unicode: Vec::new(),
            pages: Vec::new(),
            y: 0.0,
            footer,
        };
        // .notdef is glyph 0 in every font and must stay first.
        w.glyphs.remap(0);
        w.new_page();
        w
    }

    fn page(&mut self) -> &mut Content {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    /// Makes room for `h` points, starting a new page if needed.
    fn need(&mut self, h: f32) {
        if self.y - h < MARGIN + 20.0 {
            self.new_page();
        }
    }

    fn glyph(&self, c: char) -> u16 {
        self.face
            .glyph_index(c)
            .or_else(|| self.face.glyph_index('〓'))
            .map(|g| g.0)
            .unwrap_or(0)
    }

    fn advance(&self, c: char, size: f32) -> f32 {
        let g = ttf_parser::GlyphId(self.glyph(c));
        f32::from(self.face.glyph_hor_advance(g).unwrap_or(0)) * size / self.upem
    }

    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c, size)).sum()
    }

    /// Splits `text` into lines no wider than `max`: Japanese breaks at
    /// any character, Latin words at spaces when possible, and closing
    /// punctuation never starts a line.
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut out = Vec::new();
        for para in text.split('\n') {
            let chars: Vec<char> = para.chars().collect();
            let mut line: Vec<char> = Vec::new();
            let mut w = 0.0;
            let mut i = 0;
            while i < chars.len() {
                let c = chars[i];
                let a = self.advance(c, size);
                // Closing punctuation may hang past the margin, but only
                // by one character.
                let hang = NO_LINE_START.contains(c) && w <= max;
                if w + a > max && !line.is_empty() && !hang {
                    // Break a Latin word at its last space on the line.
                    let mut carry = Vec::new();
                    if c.is_ascii_alphanumeric() {
                        if let Some(sp) = line.iter().rposition(|&x| x == ' ') {
                            if line[sp + 1..].iter().all(|x| x.is_ascii_alphanumeric()) {
                                carry = line.split_off(sp + 1);
                                line.pop();
                            }
                        }
                    }
                    out.push(line.iter().collect::<String>());
                    w = carry.iter().map(|&x| self.advance(x, size)).sum();
                    line = carry;
                }
                line.push(c);
                w += a;
                i += 1;
            }
            out.push(line.into_iter().collect());
        }
        out
    }

    /// Text as the 2-byte glyph ids of the subset font.
    pub(crate) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let old = self.glyph(c);
            let new = self.glyphs.remap(old);
            if !self.unicode.iter().any(|(g, _)| *g == new) {
                self.unicode.push((new, c));
            }
            bytes.extend_from_slice(&new.to_be_bytes());
        }
        bytes
    }

    fn show(&mut self, x: f32, y: f32, size: f32, gray: f32, text: &str) {
        let bytes = self.encode(text);
        let page = self.page();
        page.set_fill_gray(gray);
        page.begin_text();
        page.set_font(FONT, size);
        page.next_line(x, y);
        page.show(Str(&bytes));
        page.end_text();
    }

    fn paragraph(&mut self, text: &str, size: f32, gray: f32, x: f32, max: f32) {
        for line in self.wrap(text, size, max) {
            self.need(size * LEADING);
            self.y -= size * LEADING;
            self.show(x, self.y + size * 0.3, size, gray, &line);
        }
    }

    fn block(&mut self, block: &Block) {
        let width = PAGE_W - 2.0 * MARGIN;
        match block {
            Block::Title(t) => {
                self.paragraph(t, 18.0, 0.0, MARGIN, width);
                self.y -= 6.0;
                let y = self.y;
                let page = self.page();
                page.set_stroke_gray(0.0);
                page.set_line_width(1.2);
                page.move_to(MARGIN, y).line_to(PAGE_W - MARGIN, y).stroke();
                self.y -= 10.0;
            }
            Block::Heading(t) => {
                self.need(40.0);
                self.y -= 8.0;
                self.paragraph(t, 13.0, 0.0, MARGIN, width);
                self.y -= 4.0;
            }
            Block::Text(t) => self.paragraph(t, BODY, 0.0, MARGIN, width),
            Block::Note(t) => self.paragraph(t, 9.0, 0.3, MARGIN, width),
            Block::Rows(rows) => self.rows(rows, width),
            Block::Steps(steps) => {
                for (n, step) in steps.iter().enumerate() {
                    self.need(BODY * LEADING * 3.0);
                    self.y -= 6.0;
                    let num = format!("{}.", n + 1);
                    self.show(
                        MARGIN,
                        self.y - 13.0 * LEADING + 13.0 * 0.3,
                        13.0,
                        0.0,
                        &num,
                    );
                    self.paragraph(&step.title, 13.0, 0.0, MARGIN + 24.0, width - 24.0);
                    for line in &step.lines {
                        self.paragraph(line, BODY, 0.15, MARGIN + 24.0, width - 24.0);
                    }
                }
            }
            Block::Signature {
                label,
                strokes,
                width: sw,
                height: sh,
            } => {
                let h = 110.0;
                self.sign_box(label, h);
                let (bx, by, bw) = (MARGIN + 8.0, self.y + 8.0, width - 16.0);
                let scale = (bw / sw.max(1.0)).min((h - 28.0) / sh.max(1.0));
                let page = self.page();
                page.set_stroke_gray(0.0);
                page.set_line_width(1.4);
                page.set_line_cap(LineCapStyle::RoundCap);
                page.set_line_join(LineJoinStyle::RoundJoin);
                for stroke in strokes {
                    let mut pts = stroke.iter();
                    if let Some(&(x, y)) = pts.next() {
                        page.move_to(bx + x * scale, by + (sh - y) * scale);
                        for &(x, y) in pts {
                            page.line_to(bx + x * scale, by + (sh - y) * scale);
                        }
                        page.stroke();
                    }
                }
            }
            Block::SignHere(label) => self.sign_box(label, 90.0),
        }
        self.y -= 6.0;
    }

    /// A framed box of height `h` with its label above; leaves `y` at
    /// the bottom of the box.
    fn sign_box(&mut self, label: &str, h: f32) {
        self.need(h + 30.0);
        self.paragraph(label, BODY, 0.0, MARGIN, PAGE_W - 2.0 * MARGIN);
        self.y -= h + 4.0;
        let y = self.y;
        let page = self.page();
        page.set_stroke_gray(0.0);
        page.set_line_width(0.8);
        page.rect(MARGIN, y, PAGE_W - 2.0 * MARGIN, h).stroke();
    }

    fn rows(&mut self, rows: &[(String, String)], width: f32) {
        let label_w = 150.0;
        let pad = 6.0;
        let line_h = BODY * LEADING;
        for (label, value) in rows {
            let l = self.wrap(label, BODY, label_w - 2.0 * pad);
            let v = self.wrap(value, BODY, width - label_w - 2.0 * pad);
            let total = l.len().max(v.len());
            // A row taller than what is left of the page continues on the
            // next one (nothing is drawn past the bottom margin).
            let mut start = 0;
            while start < total {
                let room = ((self.y - (MARGIN + 20.0) - 2.0 * pad + BODY * (LEADING - 1.0))
                    / line_h)
                    .floor()
                    .max(0.0) as usize;
                if room == 0 || (start == 0 && room < total.min(3)) {
                    self.new_page();
                    continue;
                }
                let end = total.min(start + room);
                let n = (end - start) as f32;
                let h = n * line_h + 2.0 * pad - BODY * (LEADING - 1.0);
                let top = self.y;
                let bottom = top - h;
                {
                    let page = self.page();
                    page.set_fill_gray(0.93);
                    page.rect(MARGIN, bottom, label_w, h).fill_nonzero();
                    page.set_stroke_gray(0.35);
                    page.set_line_width(0.6);
                    page.rect(MARGIN, bottom, label_w, h).stroke();
                    page.rect(MARGIN + label_w, bottom, width - label_w, h)
                        .stroke();
                }
                for (i, line) in l.iter().enumerate().take(end).skip(start) {
                    let y = top - pad - BODY - (i - start) as f32 * line_h + BODY * 0.12;
                    self.show(MARGIN + pad, y, BODY, 0.0, line);
                }
                for (i, line) in v.iter().enumerate().take(end).skip(start) {
                    let y = top - pad - BODY - (i - start) as f32 * line_h + BODY * 0.12;
                    self.show(MARGIN + label_w + pad, y, BODY, 0.0, line);
                }
                self.y = bottom;
                start = end;
            }
        }
    }

    fn footers(&mut self) {
        let n = self.pages.len();
        for i in 0..n {
            let text = format!("{}　{} / {}", self.footer, i + 1, n);
            let w = self.width(&text, 8.0);
            let bytes = self.encode(&text);
            let page = &mut self.pages[i];
            page.set_fill_gray(0.3);
            page.begin_text();
            page.set_font(FONT, 8.0);
            page.next_line(PAGE_W - MARGIN - w, MARGIN - 24.0);
            page.show(Str(&bytes));
            page.end_text();
        }
    }
}

/// The objects of the embedded font subset.
struct FontIds {
    type0: Ref,
    cid: Ref,
    descriptor: Ref,
    file: Ref,
    cmap: Ref,
}

/// Writes the subset font: a Type0 font over a CID font (widths of the
/// glyphs used), its descriptor, the font file and the ToUnicode map that
/// keeps the text searchable and readable aloud.
fn write_font(pdf: &mut Pdf, w: &Writer, ids: &FontIds, subset: &[u8]) {
    let base = Name(b"MDGSUB+IPAexGothic");
    pdf.type0_font(ids.type0)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(ids.cid)
        .to_unicode(ids.cmap);
    let info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    let scale = 1000.0 / w.upem;
    let widths: Vec<f32> = w
        .glyphs
        .remapped_gids()
        .map(|old| {
            f32::from(
                w.face
                    .glyph_hor_advance(ttf_parser::GlyphId(old))
                    .unwrap_or(0),
            ) * scale
        })
        .collect();
    {
        let mut cid = pdf.cid_font(ids.cid);
        cid.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(info)
            .font_descriptor(ids.descriptor)
            .default_width(1000.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths);
    }
    let bbox = w.face.global_bounding_box();
    pdf.font_descriptor(ids.descriptor)
        .name(base)
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(w.face.ascender()) * scale)
        .descent(f32::from(w.face.descender()) * scale)
        .cap_height(f32::from(w.face.capital_height().unwrap_or(w.face.ascender())) * scale)
        .stem_v(80.0)
        .font_file2(ids.file);
    pdf.stream(ids.file, subset)
        .pair(Name(b"Length1"), subset.len() as i32);

    let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), info);
    for (g, c) in &w.unicode {
        cmap.pair(*g, *c);
    }
    let cmap = cmap.finish();
    pdf.cmap(ids.cmap, &cmap);
}

/// Renders `doc` as a PDF.
pub fn render(font: &Font, doc: &Document) -> Result<Vec<u8>, PaperError> {
    let mut w = Writer::new(face(font)?, doc.footer.clone());
    for b in &doc.blocks {
        w.block(b);
    }
    w.footers();
    assemble(font, w, &doc.title, &doc.lang)
}

/// The face of `font`, for a writer.
pub(crate) fn face(font: &Font) -> Result<ttf_parser::Face<'_>, PaperError> {
    ttf_parser::Face::parse(&font.data, 0).map_err(|_| PaperError::FontParse)
}

/// The PDF of the pages `w` has drawn: the font subset, one page object
/// per content stream.
pub(crate) fn assemble(
    font: &Font,
    w: Writer<'_>,
    title: &str,
    lang: &str,
) -> Result<Vec<u8>, PaperError> {
    let subset = subsetter::subset(&font.data, 0, &w.glyphs)
        .map_err(|e| PaperError::Subset(format!("{e:?}")))?;

    let mut next = 1;
    let mut id = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog_id = id();
    let tree_id = id();
    let info_id = id();
    let type0_id = id();
    let cid_id = id();
    let descriptor_id = id();
    let file_id = id();
    let cmap_id = id();
    let page_ids: Vec<(Ref, Ref)> = w.pages.iter().map(|_| (id(), id())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id).lang(TextStr(lang));
    pdf.document_info(info_id)
        .title(TextStr(title))
        .producer(TextStr("madoguchi"));
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(page_ids.len() as i32);

    let font_ids = FontIds {
        type0: type0_id,
        cid: cid_id,
        descriptor: descriptor_id,
        file: file_id,
        cmap: cmap_id,
    };
    write_font(&mut pdf, &w, &font_ids, &subset);

    for (content, (page_id, content_id)) in w.pages.into_iter().zip(&page_ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree_id)
            .contents(*content_id);
        page.resources().fonts().pair(FONT, type0_id);
        page.finish();
        let bytes = content.finish();
        pdf.stream(*content_id, &bytes);
    }
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Step;

    fn font() -> Font {
        // The bundled font is a real Japanese font.
        Font::from_bytes(Font::bundled().data.to_vec()).expect("bundled IPAex Gothic parses")
    }

    #[test]
    fn wraps_japanese_and_keeps_punctuation() {
        let font = font();
        let face = ttf_parser::Face::parse(&font.data, 0).unwrap();
        let w = Writer::new(face, String::new());
        let one = w.width("あ", 10.0);
        let lines = w.wrap("あいうえお、かきくけこ", 10.0, one * 5.0);
        assert_eq!(lines, vec!["あいうえお、", "かきくけこ"]);
        let lines = w.wrap("hello world again", 10.0, w.width("hello world ag", 10.0));
        assert_eq!(lines, vec!["hello world", "again"]);
    }

    #[test]
    fn long_rows_continue_on_the_next_page() {
        let font = font();
        let long = "長い回答の文章です。".repeat(300);
        let doc = Document {
            title: "t".into(),
            lang: "ja".into(),
            footer: "f".into(),
            blocks: vec![Block::Rows(vec![("内容".into(), long.clone())])],
        };
        let face = ttf_parser::Face::parse(&font.data, 0).unwrap();
        let mut w = Writer::new(face, String::new());
        for b in &doc.blocks {
            w.block(b);
        }
        assert!(w.pages.len() >= 3, "{} pages", w.pages.len());
        // Every line was laid out, each above the bottom margin.
        assert!(w.y >= MARGIN);
        assert!(render(&font, &doc).is_ok());
        // A run of closing punctuation still breaks.
        let lines = w.wrap(&"、".repeat(200), 10.0, 100.0);
        assert!(lines.len() > 10, "{}", lines.len());
    }

    #[test]
    fn renders_a_subset_font_with_unicode_map() {
        let font = font();
        let doc = Document {
            title: "住民票の写し等交付申請書".into(),
            lang: "ja".into(),
            footer: "四街道市".into(),
            blocks: vec![
                Block::Title("住民票の写し等交付申請書".into()),
                Block::Rows(vec![("氏名".into(), "四街道 花子".into())]),
                Block::Steps(vec![Step {
                    title: "市民課 1番窓口".into(),
                    lines: vec!["本人確認書類".into()],
                }]),
                Block::Signature {
                    label: "署名".into(),
                    strokes: vec![vec![(0.0, 0.0), (100.0, 50.0)]],
                    width: 600.0,
                    height: 200.0,
                },
            ],
        };
        let pdf = render(&font, &doc).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile2"));
        assert!(text.contains("/ToUnicode"));
        // Subset: far smaller than the 4 MB font.
        assert!(pdf.len() < 200_000, "{} bytes", pdf.len());
    }
}
