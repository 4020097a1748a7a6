//! One tenant's index: postings of grams per field, scored like BM25.
//!
//! A query is cut into terms (runs of kanji/katakana/Latin, or a whole run
//! of hiragana, which may be a reading). A document matches a term when
//! most of the term's grams occur in one of its fields, either as written
//! or as read (住民票 is indexed as じゅうみんひょう too): that is the typo
//! tolerance, since a wrong character only loses the grams around it.
//! Documents matching more terms, in the title, rank first.

use std::collections::HashMap;
use std::sync::Mutex;

use kernel::i18n::Lang;

use crate::facets::Facets;
use crate::text::{self, Gram};
use crate::{Audience, Doc, DocKind};

/// Fields of a document, each with its own weight (the order of
/// [`TenantIndex::build`]'s field array).
#[derive(Clone, Copy)]
#[allow(dead_code)]
enum Field {
    Title = 0,
    Summary = 1,
    Keywords = 2,
    Body = 3,
    /// The title in the other languages (English, Portuguese …).
    TitleTranslated = 4,
    /// The summary and body in the other languages.
    BodyTranslated = 5,
    TitleReading = 6,
    SummaryReading = 7,
    BodyReading = 8,
}
const FIELDS: usize = 9;
/// Title > summary > body, as written and as read (the summary is also
/// part of the body: its words count 1.5 times). Translations have fields
/// of their own, weighed low: a question in another language matches only
/// them, so their weight against each other (title four times the body)
/// ranks it, while a Japanese question is ranked on the Japanese texts as
/// the city wrote them, hardly moved by the hanzi of the Chinese
/// translation that it shares grams with.
const WEIGHT: [f32; FIELDS] = [6.0, 0.5, 2.0, 1.0, 0.4, 0.1, 5.0, 0.4, 0.8];
/// The texts in Japanese (`japanese`), or in the other languages, joined.
/// やさしい日本語 is in neither: it restates the Japanese in the most common
/// words (ひっこし, もらう, 人, 紙 …) shared by many pages and so blurs which
/// page answers (the question set lost 4 of its first answers with it);
/// the Japanese and its readings already match what a reader of easy
/// Japanese types, in kana or in kanji.
fn joined(texts: &[&kernel::i18n::Text], japanese: bool) -> String {
    texts
        .iter()
        .flat_map(|t| t.iter())
        .filter(|(l, _)| *l != Lang::JaEasy.code() && (*l == Lang::Ja.code()) == japanese)
        .map(|(_, v)| v)
        .collect::<Vec<_>>()
        .join(" ")
}
/// The most a page's popularity adds to its score (the most used page of
/// the tenant gets all of it).
const POPULARITY_BOOST: f32 = 0.15;
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

/// A document's weight for one gram (as written or as read): per field,
/// the gram's frequency saturated and normalised by the field's length
/// (BM25), times the field's weight, summed over the fields. Times the
/// gram's idf, it is what the gram adds to the document's score;
/// computed once when the index is built.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Impact {
    pub(crate) doc: u32,
    pub(crate) w: f32,
}

/// Marks the key of a gram's postings in the reading fields.
const READING: Gram = 1 << 63;

/// A term of the query: its grams as written and as read.
#[derive(Debug, Clone)]
pub struct Term {
    pub folded: String,
    /// Only digits: may add to a score, never makes a match on its own.
    numeric: bool,
    /// Characters of `folded`, for the title bonus.
    chars: f32,
    surface: Vec<Gram>,
    reading: Vec<Gram>,
}

/// What a document can score for a query, known before it is known
/// which terms are in its title (that needs the title's grams, so it is
/// only worked out for documents that can still make the top): the score
/// is at least `lo` (no term in the title) and at most `hi` (every
/// matched term in the title, with the bonus its length gives). 0 for no
/// match.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bound {
    pub lo: f32,
    pub hi: f32,
}

/// A document's score for a query, and the share of the query's words it
/// matched (in the variant that gave the score): 0 for no match.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scored {
    pub score: f32,
    pub coverage: f32,
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
    /// `total` as if every term were in the title.
    total_hi: Vec<f32>,
    touched: Vec<u32>,
    /// Documents that matched a term, in the order found.
    hit_docs: Vec<u32>,
    /// The documents whose title is the whole query (for one variant).
    exact: Vec<bool>,
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
            total_hi: vec![0.0; docs],
            touched: Vec::new(),
            hit_docs: Vec::new(),
            exact: vec![false; docs],
        }
    }
}

/// What one document contributes to its tenant's index, worked out from
/// the document alone (the costly part of a build: folding, readings by
/// the morphological analyser, grams), kept so that a change re-analyses
/// only the documents that changed ([`TenantIndex::assemble`]).
#[derive(Debug)]
pub struct Analysed {
    /// (gram, field, term frequency), per field in gram order.
    postings: Vec<(Gram, u8, u8)>,
    /// The distinct grams of every field (each counts once in `df`).
    distinct: Vec<Gram>,
    /// Grams per field (the BM25 length).
    lens: [u16; FIELDS],
    /// Grams per field with the kanji unigrams (for the average lengths).
    field_grams: [usize; FIELDS],
    title_grams: Vec<Gram>,
    title_chars: f32,
    title_keys: Vec<String>,
}

impl Analysed {
    pub fn of(d: &Doc) -> Self {
        let fields: [String; FIELDS] = [
            text::fold(&joined(&[&d.title], true)),
            text::fold(&joined(&[&d.summary], true)),
            text::fold(&d.keywords.join(" ")),
            text::fold(&joined(&[&d.body], true)),
            text::fold(&joined(&[&d.title], false)),
            text::fold(&joined(&[&d.summary, &d.body], false)),
            text::reading(d.title.ja()),
            text::reading(d.summary.ja()),
            text::reading(d.body.ja()),
        ];
        let mut lens = [0u16; FIELDS];
        let mut field_grams = [0usize; FIELDS];
        let mut postings = Vec::new();
        let mut seen: Vec<Gram> = Vec::new();
        let mut buf = Vec::new();
        for (f, folded) in fields.iter().enumerate() {
            buf.clear();
            text::grams_of_folded(folded, &mut buf);
            lens[f] = buf.len().min(u16::MAX as usize) as u16;
            if f <= Field::Body as usize {
                buf.extend(
                    folded
                        .chars()
                        .filter(|c| jp::reading::is_kanji(*c))
                        .map(text::unigram),
                );
            }
            field_grams[f] = buf.len();
            buf.sort_unstable();
            let mut j = 0;
            while j < buf.len() {
                let g = buf[j];
                let mut k = j;
                while k < buf.len() && buf[k] == g {
                    k += 1;
                }
                postings.push((g, f as u8, (k - j).min(255) as u8));
                seen.push(g);
                j = k;
            }
        }
        let mut tg = Vec::new();
        text::grams_of_folded(&fields[Field::Title as usize], &mut tg);
        text::grams_of_folded(&fields[Field::TitleTranslated as usize], &mut tg);
        text::grams_of_folded(&fields[Field::TitleReading as usize], &mut tg);
        Analysed {
            postings,
            distinct: distinct(seen),
            lens,
            field_grams,
            title_grams: distinct(tg),
            title_chars: text::fold(d.title.ja())
                .replace(' ', "")
                .chars()
                .count()
                .max(1) as f32,
            title_keys: d
                .title
                .values()
                .map(|t| crate::query::words(t).concat())
                .collect(),
        }
    }
}

pub struct TenantIndex {
    pub docs: Vec<Doc>,
    /// The distinct grams of each title, as written (every language) and
    /// as read, sorted.
    title_grams: Vec<Vec<Gram>>,
    /// Characters of the folded Japanese title (at least 1).
    title_chars: Vec<f32>,
    /// Each language's title as query words ([`crate::query::words`],
    /// joined), and the documents with that title, for the exact-title
    /// bonus.
    exact_titles: HashMap<String, Vec<u32>>,
    /// Facet values (departments, life events) numbered, and each
    /// document's values, so matches are counted without strings.
    pub(crate) facets: Facets,
    /// Each document's kind and whether it is public, apart from the
    /// documents so that filtering every match stays in cache.
    access: Vec<(DocKind, bool)>,
    /// Per-document buffers of finished queries, clean, for the next
    /// ones (allocating and zeroing them is a millisecond at 100,000
    /// documents).
    spare: Mutex<Vec<(Scratch, Vec<Bound>)>>,
    /// Per gram (`| READING` for the reading fields), the documents that
    /// have it, in document order.
    postings: HashMap<Gram, Vec<Impact>>,
    /// Documents containing each gram (in any field).
    df: HashMap<Gram, u32>,
    /// Each document's popularity factor (1 to 1 + [`POPULARITY_BOOST`]).
    prior: Vec<f32>,
}

/// The postings per field turned into one weight per document (BM25F),
/// written and read kept apart.
fn impacts(
    postings: HashMap<Gram, Vec<Posting>>,
    lens: &[[u16; FIELDS]],
    avg: &[f32; FIELDS],
) -> HashMap<Gram, Vec<Impact>> {
    let mut out: HashMap<Gram, Vec<Impact>> = HashMap::with_capacity(postings.len() * 2);
    for (g, list) in postings {
        let mut surface = Vec::new();
        let mut reading = Vec::new();
        let mut i = 0;
        while i < list.len() {
            let d = list[i].doc;
            let (mut ts, mut tr) = (0f32, 0f32);
            while i < list.len() && list[i].doc == d {
                let p = list[i];
                let f = p.field as usize;
                let len = lens[d as usize][f] as f32;
                let tf = p.tf as f32;
                let t = WEIGHT[f] * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg[f]));
                if p.field >= Field::TitleReading as u8 {
                    tr += t;
                } else {
                    ts += t;
                }
                i += 1;
            }
            if ts > 0.0 {
                surface.push(Impact { doc: d, w: ts });
            }
            if tr > 0.0 {
                reading.push(Impact { doc: d, w: tr });
            }
        }
        if !surface.is_empty() {
            out.insert(g, surface);
        }
        if !reading.is_empty() {
            out.insert(g | READING, reading);
        }
    }
    out
}

fn distinct(mut v: Vec<Gram>) -> Vec<Gram> {
    v.sort_unstable();
    v.dedup();
    v
}

impl TenantIndex {
    /// Builds the index of `docs`, analysing every one.
    pub fn build(docs: Vec<Doc>) -> Self {
        let docs = docs
            .into_iter()
            .map(|d| {
                let a = std::sync::Arc::new(Analysed::of(&d));
                (d, a)
            })
            .collect();
        Self::assemble(docs)
    }

    /// Builds the index of documents already analysed ([`Analysed::of`]):
    /// the per-document work (folding, readings, grams) is not redone;
    /// what depends on the whole set is worked out afresh, so the result
    /// is the same index [`TenantIndex::build`] makes of the same
    /// documents: the postings of each gram, the document frequencies,
    /// the average field lengths and with them every BM25 impact, the
    /// exact titles and the facets. A linear pass over the analyses.
    pub fn assemble(docs: Vec<(Doc, std::sync::Arc<Analysed>)>) -> Self {
        let mut postings: HashMap<Gram, Vec<Posting>> = HashMap::new();
        let mut df: HashMap<Gram, u32> = HashMap::new();
        let mut lens = Vec::with_capacity(docs.len());
        let mut title_chars = Vec::with_capacity(docs.len());
        let mut title_grams = Vec::with_capacity(docs.len());
        let mut exact_titles: HashMap<String, Vec<u32>> = HashMap::new();
        let mut sums = [0f64; FIELDS];
        for (i, (_, a)) in docs.iter().enumerate() {
            for (f, n) in a.field_grams.iter().enumerate() {
                sums[f] += *n as f64;
            }
            for &(g, field, tf) in &a.postings {
                postings.entry(g).or_default().push(Posting {
                    doc: i as u32,
                    field,
                    tf,
                });
            }
            for &g in &a.distinct {
                *df.entry(g).or_default() += 1;
            }
            lens.push(a.lens);
            title_grams.push(a.title_grams.clone());
            title_chars.push(a.title_chars);
            for k in &a.title_keys {
                let ds = exact_titles.entry(k.clone()).or_default();
                if ds.last() != Some(&(i as u32)) {
                    ds.push(i as u32);
                }
            }
        }
        let n = docs.len().max(1) as f64;
        let avg = sums.map(|s| (s / n).max(1.0) as f32);
        let postings = impacts(postings, &lens, &avg);
        let docs: Vec<Doc> = docs.into_iter().map(|(d, _)| d).collect();
        let facets = Facets::of(&docs);
        let access = docs
            .iter()
            .map(|d| (d.kind, d.audience == Audience::Public))
            .collect();
        TenantIndex {
            spare: Mutex::new(Vec::new()),
            access,
            docs,
            exact_titles,
            facets,
            title_chars,
            title_grams,
            postings,
            df,
            prior: vec![1.0; lens.len()],
        }
    }

    pub fn with_popularity(mut self, counts: &std::collections::HashMap<String, u64>) -> Self {
        let max = counts.values().copied().max().unwrap_or(0);
        if max == 0 {
            return self;
        }
        let top = (1.0 + max as f32).ln();
        for (d, doc) in self.docs.iter().enumerate() {
            let c = counts.get(&doc.id).copied().unwrap_or(0);
            self.prior[d] = 1.0 + POPULARITY_BOOST * (1.0 + c as f32).ln() / top;
        }
        self
    }

    /// Clean per-document buffers for a query: a finished query's, or new.
    pub fn buffers(&self) -> (Scratch, Vec<Bound>) {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop();
        spare.unwrap_or_else(|| (Scratch::new(self.len()), vec![Bound::default(); self.len()]))
    }

    /// Keeps a query's buffers for the next; every entry of `bounds` must
    /// be back to zero (the scratch is after [`Self::bound`]).
    pub fn give_back(&self, buffers: (Scratch, Vec<Bound>)) {
        debug_assert!(buffers.1.iter().all(|b| *b == Bound::default()));
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        // As many as queries ran at once, within reason.
        if spare.len() < 4 {
            spare.push(buffers);
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

    /// Bounds every document's score for one query (one synonym
    /// variant), keeping the highest over variants in `bounds`. Every
    /// posting of the query's grams is read once (a match is a share of
    /// each term's grams, and the total and facets count every match);
    /// the title bonus, the only costly part, is left to
    /// [`Self::doc_score`] for the documents that can still make the top.
    pub fn bound(&self, terms: &[Term], weight: f32, scratch: &mut Scratch, bounds: &mut [Bound]) {
        for term in terms {
            self.bound_term(term, scratch);
        }
        self.combine_bounds(terms, weight, scratch, bounds);
    }

    /// Adds one term's score without its title bonus to every document
    /// it matches well enough, and leaves the per-term accumulators
    /// clear.
    fn bound_term(&self, term: &Term, scratch: &mut Scratch) {
        let Scratch {
            acc_s,
            acc_r,
            mask_s,
            mask_r,
            matched_terms,
            matched_words,
            total,
            total_hi,
            touched,
            hit_docs,
            ..
        } = scratch;
        touched.clear();
        self.accumulate(&term.surface, false, acc_s, mask_s, touched);
        self.accumulate(&term.reading, true, acc_r, mask_r, touched);
        let need_s = required(term.surface.len());
        let need_r = required(term.reading.len());
        // A document touched by both the surface and the reading is
        // listed twice: the first visit clears its masks, so the second
        // finds nothing.
        for &d in touched.iter() {
            let d = d as usize;
            let best = term_best(
                term,
                (mask_s[d].count_ones() as usize, acc_s[d], need_s),
                (mask_r[d].count_ones() as usize, acc_r[d], need_r),
            );
            if best > 0.0 {
                if matched_terms[d] == 0 {
                    hit_docs.push(d as u32);
                }
                total[d] += best;
                total_hi[d] += best * self.title_bonus(d, term);
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

    /// Turns the terms' sums into each document's bounds for the query,
    /// keeping the highest over variants, and clears the per-query state.
    fn combine_bounds(
        &self,
        terms: &[Term],
        weight: f32,
        scratch: &mut Scratch,
        bounds: &mut [Bound],
    ) {
        let Scratch {
            matched_terms,
            matched_words,
            total,
            total_hi,
            hit_docs,
            exact,
            ..
        } = scratch;
        let whole: String = terms.iter().map(|t| t.folded.as_str()).collect();
        let exact_docs: &[u32] = if whole.is_empty() {
            &[]
        } else {
            self.exact_titles.get(&whole).map_or(&[], Vec::as_slice)
        };
        for &d in exact_docs {
            exact[d as usize] = true;
        }
        let nterms = terms.len().max(1) as f32;
        let (words, need) = need_words(terms);
        for d in hit_docs.drain(..) {
            let d = d as usize;
            let got = if words == 0 {
                matched_terms[d].min(1)
            } else {
                matched_words[d]
            };
            if got >= need {
                // The same operations as `doc_score` with no term in the
                // title (lo) or all of them (hi): each term adds `best`
                // or `best * bonus` there, and rounding is monotonic, so
                // the score computed there lies between the two.
                let share = matched_terms[d] as f32 / nterms;
                let mut lo = weight * total[d] * share * self.prior[d];
                let mut hi = weight * total_hi[d] * share * self.prior[d];
                if exact[d] {
                    lo *= 2.0;
                    hi *= 2.0;
                }
                let b = &mut bounds[d];
                b.lo = b.lo.max(lo);
                b.hi = b.hi.max(hi);
            }
            total[d] = 0.0;
            total_hi[d] = 0.0;
            matched_terms[d] = 0;
            matched_words[d] = 0;
        }
        for &d in exact_docs {
            exact[d as usize] = false;
        }
    }

    /// One document's exact score for a query's variants (terms and
    /// weight each), the best over variants as the exhaustive scoring
    /// keeps it: the same additions in the same order, so the same score.
    pub fn doc_score(&self, variants: &[(Vec<Term>, f32)], d: usize) -> Scored {
        let mut out = Scored::default();
        for (terms, weight) in variants {
            let mut total = 0f32;
            let mut matched_terms = 0u8;
            let mut matched_words = 0u8;
            for term in terms {
                let (hit_s, acc_s) = self.gather(&term.surface, false, d);
                let (hit_r, acc_r) = self.gather(&term.reading, true, d);
                let mut best = term_best(
                    term,
                    (hit_s, acc_s, required(term.surface.len())),
                    (hit_r, acc_r, required(term.reading.len())),
                );
                if best > 0.0 {
                    if self.in_title(d, term) {
                        best *= self.title_bonus(d, term);
                    }
                    total += best;
                    matched_terms += 1;
                    if !term.numeric {
                        matched_words += 1;
                    }
                }
            }
            let (words, need) = need_words(terms);
            let got = if words == 0 {
                matched_terms.min(1)
            } else {
                matched_words
            };
            if matched_terms == 0 || got < need {
                continue;
            }
            let nterms = terms.len().max(1) as f32;
            let mut s = weight * total * (matched_terms as f32 / nterms) * self.prior[d];
            let whole: String = terms.iter().map(|t| t.folded.as_str()).collect();
            if !whole.is_empty()
                && self
                    .exact_titles
                    .get(&whole)
                    .is_some_and(|ds| ds.binary_search(&(d as u32)).is_ok())
            {
                s *= 2.0;
            }
            if s > out.score {
                out = Scored {
                    score: s,
                    coverage: got as f32 / words.max(1) as f32,
                };
            }
        }
        out
    }

    /// How many of the grams one document has, and their summed weight
    /// (added in the grams' order, as [`Self::accumulate`] does).
    fn gather(&self, grams: &[Gram], reading: bool, d: usize) -> (usize, f32) {
        let bit = if reading { READING } else { 0 };
        let (mut hits, mut acc) = (0, 0f32);
        for &g in grams {
            let Some(list) = self.postings.get(&(g | bit)) else {
                continue;
            };
            if let Ok(i) = list.binary_search_by_key(&(d as u32), |p| p.doc) {
                acc += self.idf(g) * list[i].w;
                hits += 1;
            }
        }
        (hits, acc)
    }

    /// The more of its title the term is, the more the page is about it
    /// (マイナンバーカード in マイナンバーカードの交付申請 over the same
    /// word in a long title): 1.25 to 2.
    fn title_bonus(&self, d: usize, term: &Term) -> f32 {
        let share = term.chars / self.title_chars[d];
        1.25 + 0.75 * share.min(1.0)
    }

    /// Scores every document for one query (one synonym variant): the
    /// score of each matching document, 0 for the others. Exhaustive:
    /// the reference the pruned path ([`crate::topk`]) is tested against.
    #[cfg(test)]
    pub(crate) fn score(
        &self,
        terms: &[Term],
        weight: f32,
        scratch: &mut Scratch,
        scores: &mut [Scored],
    ) {
        for term in terms {
            self.score_term(term, scratch);
        }
        self.combine(terms, weight, scratch, scores);
    }

    /// Adds one term's score to every document it matches well enough
    /// (enough of its n-grams, by surface or by reading), and leaves the
    /// per-term accumulators clear.
    #[cfg(test)]
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
            ..
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
                if self.in_title(d, term) {
                    // The more of its title the term is, the more the page
                    // is about it (マイナンバーカード in
                    // マイナンバーカードの交付申請 over the same word in a
                    // long title): 1.25 to 2.
                    let share = term.folded.chars().count() as f32 / self.title_chars[d];
                    best *= 1.25 + 0.75 * share.min(1.0);
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
    #[cfg(test)]
    fn combine(&self, terms: &[Term], weight: f32, scratch: &mut Scratch, scores: &mut [Scored]) {
        let Scratch {
            matched_terms,
            matched_words,
            total,
            hit_docs,
            ..
        } = scratch;
        let whole: String = terms.iter().map(|t| t.folded.as_str()).collect();
        let exact = |d: usize| {
            self.exact_titles
                .get(&whole)
                .is_some_and(|ds| ds.contains(&(d as u32)))
        };
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
                matched_terms[d].min(1)
            } else {
                matched_words[d]
            };
            if got >= need {
                let mut s = weight * total[d] * (matched_terms[d] as f32 / nterms) * self.prior[d];
                if !whole.is_empty() && exact(d) {
                    s *= 2.0;
                }
                if s > scores[d].score {
                    scores[d] = Scored {
                        score: s,
                        coverage: got as f32 / words.max(1) as f32,
                    };
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
        let bit = if reading { READING } else { 0 };
        for (i, &g) in grams.iter().enumerate() {
            let Some(list) = self.postings.get(&(g | bit)) else {
                continue;
            };
            let idf = self.idf(g);
            for p in list {
                let d = p.doc as usize;
                acc[d] += idf * p.w;
                if mask[d] == 0 {
                    touched.push(p.doc);
                }
                mask[d] |= 1 << i;
            }
        }
    }

    /// Whether the term is in the document's title: enough of its grams,
    /// as written or as read, the same rule as for a match (so a typo in
    /// the title's word still counts).
    fn in_title(&self, d: usize, term: &Term) -> bool {
        let tg = &self.title_grams[d];
        let hits = |gs: &[Gram]| gs.iter().filter(|g| tg.binary_search(g).is_ok()).count();
        let hs = hits(&term.surface);
        let hr = hits(&term.reading);
        (hs > 0 && hs >= required(term.surface.len()))
            || (hr > 0 && hr >= required(term.reading.len()))
    }

    /// Whether a document passes the audience and kind filters.
    pub fn visible(&self, d: usize, audience: Audience, kinds: &[DocKind]) -> bool {
        let (kind, public) = self.access[d];
        (audience == Audience::Staff || public) && (kinds.is_empty() || kinds.contains(&kind))
    }
}

/// A term's score in a document before its title bonus: the better of
/// surface and reading among those with enough grams (hits, summed
/// weight, grams needed each), scaled by the share of grams found.
fn term_best(term: &Term, s: (usize, f32, usize), r: (usize, f32, usize)) -> f32 {
    let mut best = 0f32;
    if s.0 > 0 && s.0 >= s.2 {
        let cov = s.0 as f32 / term.surface.len() as f32;
        best = best.max(s.1 * cov * cov);
    }
    if r.0 > 0 && r.0 >= r.2 {
        let cov = r.0 as f32 / term.reading.len() as f32;
        best = best.max(r.1 * cov * cov);
    }
    best
}

/// The query's words (terms that are not just digits) and how many a
/// document must match: half of them, or one term of a digit-only query.
fn need_words(terms: &[Term]) -> (usize, u8) {
    let words = terms.iter().filter(|t| !t.numeric).count();
    let need = if words == 0 {
        1
    } else {
        words.div_ceil(2) as u8
    };
    (words, need)
}

/// How many of a term's grams must match: all for short terms, then most.
fn required(n: usize) -> usize {
    match n {
        0..=3 => n,
        4 => 3,
        _ => (n * 3).div_ceil(5),
    }
}

/// The terms of words already found (and folded) by
/// [`crate::query::words`], or rewritten by a synonym.
pub fn terms_of(words: &[String]) -> Vec<Term> {
    words
        .iter()
        .filter(|t| !t.is_empty())
        .take(MAX_TERMS)
        .map(|t| {
            let t = t.clone();
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
                chars: t.chars().count() as f32,
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
