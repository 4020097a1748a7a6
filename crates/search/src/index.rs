//! One tenant's index: postings of grams per field, scored like BM25.
//!
//! A query is cut into terms (runs of kanji/katakana/Latin, or a whole run
//! of hiragana, which may be a reading). A document matches a term when
//! most of the term's grams occur in one of its fields, either as written
//! or as read (住民票 is indexed as じゅうみんひょう too): that is the typo
//! tolerance, since a wrong character only loses the grams around it.
//! Documents matching more terms, in the title, rank first.

use std::collections::HashMap;

use kernel::i18n::Lang;
use unicode_normalization::UnicodeNormalization;

use crate::text::{self, Gram};
use crate::{Audience, Doc, DocKind};

/// Fields of a document, each with its own weight (the order of
/// [`TenantIndex::build`]'s field array).
#[derive(Clone, Copy)]
#[allow(dead_code)]
enum Field {
    Title = 0,
    Keywords = 1,
    Body = 2,
    TitleReading = 3,
    BodyReading = 4,
}
const FIELDS: usize = 5;
const WEIGHT: [f32; FIELDS] = [4.0, 2.0, 1.0, 3.5, 0.8];
const K1: f32 = 1.2;
const B: f32 = 0.5;
/// Longest term and most terms a query is cut into.
const MAX_GRAMS: usize = 64;
const MAX_TERMS: usize = 8;

#[derive(Clone, Copy)]
struct Posting {
    doc: u32,
    field: u8,
    tf: u8,
}

/// A term of the query: its grams as written and as read.
#[derive(Debug, Clone)]
pub struct Term {
    pub folded: String,
    /// Only digits: may add to a score, never makes a match on its own.
    numeric: bool,
    surface: Vec<Gram>,
    reading: Vec<Gram>,
}

/// Per-document accumulators of one query, allocated once and reused
/// for each synonym variant (every entry is back to zero after a call).
pub struct Scratch {
    acc_s: Vec<f32>,
    acc_r: Vec<f32>,
    mask_s: Vec<u64>,
    mask_r: Vec<u64>,
    matched_terms: Vec<u8>,
    matched_words: Vec<u8>,
    total: Vec<f32>,
    touched: Vec<u32>,
    /// Documents that matched a term, in the order found.
    hit_docs: Vec<u32>,
}

impl Scratch {
    pub fn new(docs: usize) -> Self {
        Scratch {
            acc_s: vec![0.0; docs],
            acc_r: vec![0.0; docs],
            mask_s: vec![0; docs],
            mask_r: vec![0; docs],
            matched_terms: vec![0; docs],
            matched_words: vec![0; docs],
            total: vec![0.0; docs],
            touched: Vec::new(),
            hit_docs: Vec::new(),
        }
    }
}

pub struct TenantIndex {
    pub docs: Vec<Doc>,
    /// Folded titles (every language), for the exact-title bonus.
    titles: Vec<String>,
    postings: HashMap<Gram, Vec<Posting>>,
    /// Documents containing each gram (in any field).
    df: HashMap<Gram, u32>,
    lens: Vec<[u16; FIELDS]>,
    avg: [f32; FIELDS],
}

fn distinct(mut v: Vec<Gram>) -> Vec<Gram> {
    v.sort_unstable();
    v.dedup();
    v
}

impl TenantIndex {
    pub fn build(docs: Vec<Doc>) -> Self {
        let mut postings: HashMap<Gram, Vec<Posting>> = HashMap::new();
        let mut df: HashMap<Gram, u32> = HashMap::new();
        let mut lens = Vec::with_capacity(docs.len());
        let mut titles = Vec::with_capacity(docs.len());
        let mut sums = [0f64; FIELDS];
        let mut buf = Vec::new();
        for (i, d) in docs.iter().enumerate() {
            let title_all = d.title.values().collect::<Vec<_>>().join(" ");
            let body_all = d.body.values().collect::<Vec<_>>().join(" ");
            let fields: [String; FIELDS] = [
                text::fold(&title_all),
                text::fold(&d.keywords.join(" ")),
                text::fold(&body_all),
                text::reading(d.title.ja()),
                text::reading(d.body.ja()),
            ];
            let mut doc_len = [0u16; FIELDS];
            let mut seen: Vec<Gram> = Vec::new();
            for (f, folded) in fields.iter().enumerate() {
                buf.clear();
                text::grams_of_folded(folded, &mut buf);
                doc_len[f] = buf.len().min(u16::MAX as usize) as u16;
                if f <= Field::Body as usize {
                    buf.extend(
                        folded
                            .chars()
                            .filter(|c| jp::reading::is_kanji(*c))
                            .map(text::unigram),
                    );
                }
                sums[f] += buf.len() as f64;
                buf.sort_unstable();
                let mut j = 0;
                while j < buf.len() {
                    let g = buf[j];
                    let mut k = j;
                    while k < buf.len() && buf[k] == g {
                        k += 1;
                    }
                    postings.entry(g).or_default().push(Posting {
                        doc: i as u32,
                        field: f as u8,
                        tf: (k - j).min(255) as u8,
                    });
                    seen.push(g);
                    j = k;
                }
            }
            for g in distinct(seen) {
                *df.entry(g).or_default() += 1;
            }
            lens.push(doc_len);
            titles.push(fields[0].replace(' ', ""));
        }
        let n = docs.len().max(1) as f64;
        let avg = sums.map(|s| (s / n).max(1.0) as f32);
        TenantIndex {
            docs,
            titles,
            postings,
            df,
            lens,
            avg,
        }
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    fn idf(&self, g: Gram) -> f32 {
        let n = self.docs.len() as f32;
        let df = self.df.get(&g).copied().unwrap_or(0) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Scores every document for one query (one synonym variant): the
    /// score of each matching document, 0 for the others.
    pub fn score(&self, terms: &[Term], weight: f32, scratch: &mut Scratch, scores: &mut [f32]) {
        for term in terms {
            self.score_term(term, scratch);
        }
        self.combine(terms, weight, scratch, scores);
    }

    /// Adds one term's score to every document it matches well enough
    /// (enough of its n-grams, by surface or by reading), and leaves the
    /// per-term accumulators clear.
    fn score_term(&self, term: &Term, scratch: &mut Scratch) {
        let Scratch {
            acc_s,
            acc_r,
            mask_s,
            mask_r,
            matched_terms,
            matched_words,
            total,
            touched,
            hit_docs,
        } = scratch;
        touched.clear();
        self.accumulate(&term.surface, false, acc_s, mask_s, touched);
        self.accumulate(&term.reading, true, acc_r, mask_r, touched);
        touched.sort_unstable();
        touched.dedup();
        let need_s = required(term.surface.len());
        let need_r = required(term.reading.len());
        for &d in touched.iter() {
            let d = d as usize;
            let hit_s = mask_s[d].count_ones() as usize;
            let hit_r = mask_r[d].count_ones() as usize;
            let mut best = 0f32;
            if hit_s > 0 && hit_s >= need_s {
                let cov = hit_s as f32 / term.surface.len() as f32;
                best = best.max(acc_s[d] * cov * cov);
            }
            if hit_r > 0 && hit_r >= need_r {
                let cov = hit_r as f32 / term.reading.len() as f32;
                best = best.max(acc_r[d] * cov * cov);
            }
            if best > 0.0 {
                if self.titles[d].contains(&term.folded) {
                    best *= 1.5;
                }
                if matched_terms[d] == 0 {
                    hit_docs.push(d as u32);
                }
                total[d] += best;
                matched_terms[d] += 1;
                if !term.numeric {
                    matched_words[d] += 1;
                }
            }
            acc_s[d] = 0.0;
            acc_r[d] = 0.0;
            mask_s[d] = 0;
            mask_r[d] = 0;
        }
    }

    /// Turns the terms' sums into each document's score for the query,
    /// keeping the best over variants, and clears the per-query state.
    fn combine(&self, terms: &[Term], weight: f32, scratch: &mut Scratch, scores: &mut [f32]) {
        let Scratch {
            matched_terms,
            matched_words,
            total,
            hit_docs,
            ..
        } = scratch;
        let whole: String = terms.iter().map(|t| t.folded.as_str()).collect();
        let nterms = terms.len().max(1) as f32;
        // A document must match at least half of the query's words (terms
        // that are not just digits), or a digit-only query's terms.
        let words = terms.iter().filter(|t| !t.numeric).count();
        let need = if words == 0 {
            1
        } else {
            words.div_ceil(2) as u8
        };
        for d in hit_docs.drain(..) {
            let d = d as usize;
            let got = if words == 0 {
                matched_terms[d]
            } else {
                matched_words[d]
            };
            if got >= need {
                let mut s = weight * total[d] * (matched_terms[d] as f32 / nterms);
                if !whole.is_empty() && self.titles[d] == whole {
                    s *= 2.0;
                }
                if s > scores[d] {
                    scores[d] = s;
                }
            }
            total[d] = 0.0;
            matched_terms[d] = 0;
            matched_words[d] = 0;
        }
    }

    fn accumulate(
        &self,
        grams: &[Gram],
        reading: bool,
        acc: &mut [f32],
        mask: &mut [u64],
        touched: &mut Vec<u32>,
    ) {
        for (i, &g) in grams.iter().enumerate() {
            let Some(list) = self.postings.get(&g) else {
                continue;
            };
            let idf = self.idf(g);
            for p in list {
                let is_reading =
                    p.field == Field::TitleReading as u8 || p.field == Field::BodyReading as u8;
                if is_reading != reading {
                    continue;
                }
                let f = p.field as usize;
                let d = p.doc as usize;
                let len = self.lens[d][f] as f32;
                let tf = p.tf as f32;
                let norm = tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / self.avg[f]));
                acc[d] += idf * WEIGHT[f] * norm;
                if mask[d] == 0 {
                    touched.push(p.doc);
                }
                mask[d] |= 1 << i;
            }
        }
    }

    /// Whether a document passes the audience and kind filters.
    pub fn visible(&self, d: usize, audience: Audience, kinds: &[DocKind]) -> bool {
        let doc = &self.docs[d];
        (audience == Audience::Staff || doc.audience == Audience::Public)
            && (kinds.is_empty() || kinds.contains(&doc.kind))
    }
}

/// How many of a term's grams must match: all for short terms, then most.
fn required(n: usize) -> usize {
    match n {
        0..=3 => n,
        4 => 3,
        _ => (n * 3).div_ceil(5),
    }
}

fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}')
}

/// Cuts a query into terms. Runs of hiragana between other characters are
/// particles or okurigana and are dropped (住民票の写し → 住民票, 写; every
/// kanji is indexed alone too); a chunk written only in hiragana is kept
/// whole: it may be a reading (じゅうみんひょう).
pub fn terms(query: &str) -> Vec<Term> {
    let nfkc: String = query.nfkc().collect();
    let mut raw: Vec<String> = Vec::new();
    for chunk in nfkc.split(|c: char| !(c.is_alphanumeric() || c == 'ー' || c == 'ｰ')) {
        if chunk.is_empty() {
            continue;
        }
        if chunk.chars().all(|c| is_hiragana(c) || c == 'ー') {
            raw.push(text::fold(chunk));
            continue;
        }
        for piece in chunk.split(is_hiragana).filter(|p| !p.is_empty()) {
            raw.push(text::fold(piece));
        }
    }
    let mut seen = std::collections::HashSet::new();
    raw.retain(|t| !t.is_empty() && seen.insert(t.clone()));
    raw.into_iter()
        .take(MAX_TERMS)
        .map(|t| {
            let mut surface = Vec::new();
            text::grams_of_folded(&t, &mut surface);
            surface.truncate(MAX_GRAMS);
            let one_char = t.chars().count() == 1;
            let reading = if one_char {
                Vec::new()
            } else if text::has_kanji(&t) {
                let mut r = Vec::new();
                text::grams_of_folded(&text::reading(&t), &mut r);
                r.truncate(MAX_GRAMS);
                distinct(r)
            } else {
                distinct(surface.clone())
            };
            Term {
                numeric: t.chars().all(|c| c.is_ascii_digit()),
                folded: t,
                surface: distinct(surface),
                reading,
            }
        })
        .collect()
}

/// A short extract of the document's body around the first term found, in
/// `lang` (or Japanese).
pub fn snippet(doc: &Doc, terms: &[Term], lang: Lang) -> String {
    const BEFORE: usize = 30;
    const LEN: usize = 110;
    let body = doc.body.get(lang);
    let chars = text::fold_chars(body);
    let folded: Vec<char> = chars.iter().map(|(_, c)| c.unwrap_or(' ')).collect();
    let mut at = None;
    for t in terms {
        let needle: Vec<char> = t.folded.chars().collect();
        if needle.is_empty() || needle.len() > folded.len() {
            continue;
        }
        if let Some(p) = folded
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
        {
            at = Some(p);
            break;
        }
    }
    let start = at.map_or(0, |p| p.saturating_sub(BEFORE));
    let end = (start + LEN).min(chars.len());
    let from = chars.get(start).map_or(body.len(), |(b, _)| *b);
    let to = chars.get(end).map_or(body.len(), |(b, _)| *b);
    let mut s = String::new();
    if start > 0 {
        s.push('…');
    }
    s.push_str(
        body[from..to]
            .trim()
            .trim_start_matches(['。', '、', '．', '，']),
    );
    if end < chars.len() {
        s.push('…');
    }
    s
}
