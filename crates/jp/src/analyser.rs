//! A morphological analyser: the text cut into words by the lowest-cost
//! path through a lattice of IPAdic's words (Viterbi), as MeCab does with
//! the same dictionary. Each word has a cost (how rare it is) and a
//! context id; the cost of two words side by side comes from IPAdic's
//! connection matrix. Text no word covers is cut by character category
//! (IPAdic's `char.def` / `unk.def`: a run of katakana is one unknown
//! word, a kanji alone or two kanji can be one). The data is derived from
//! Debian's mecab-ipadic by `scripts/build-readings-dict.py` and compiled
//! in (licence in `dict/COPYING.ipadic`).
//!
//! Callers may fix some spans in advance ([`Fixed`]): the lattice then has
//! only that word there, and the words around it are chosen to fit it.

use std::collections::HashMap;
use std::sync::OnceLock;

const LEX: &str = include_str!("../dict/ipadic/lex.tsv");
const MATRIX: &[u8] = include_bytes!("../dict/ipadic/matrix.bin");
const CHAR_DEF: &str = include_str!("../dict/ipadic/char.def");
const UNK_DEF: &str = include_str!("../dict/ipadic/unk.def");
const EXTRA: &str = include_str!("../dict/extra.tsv");

/// Context ids of IPAdic (`left-id.def`).
pub const ID_NOUN: u16 = 1285;
pub const ID_PLACE: u16 = 1293;
pub const ID_NUMBER: u16 = 1295;
pub const ID_COUNTER: u16 = 1300;
const CONTEXTS: usize = 1316;
/// Word cost of the entries of `extra.tsv` (an ordinary noun's cost).
const EXTRA_COST: i32 = 3000;
/// MeCab's limit for a run of one category taken as one unknown word.
const MAX_GROUP: usize = 1024;

#[derive(Clone, Copy)]
struct Word {
    id: u16,
    cost: i32,
    reading: &'static str,
}

struct Category {
    /// Unknown words are tried even where a dictionary word starts.
    invoke: bool,
    /// A whole run of the category is one candidate.
    group: bool,
    /// Candidates of 1..=length characters.
    length: usize,
    words: Vec<(u16, i32)>,
}

struct Dict {
    /// Every surface of IPAdic and every beginning of one: the range of
    /// its words in `words` (empty for a beginning only), so that looking
    /// up ever longer prefixes of the text stops as soon as no word can
    /// match.
    prefixes: HashMap<&'static str, (u32, u32), Fx>,
    /// IPAdic's words and those of `extra.tsv` (common nouns).
    words: Vec<Word>,
    categories: Vec<Category>,
    /// Per BMP code point: bit mask of its categories (low 24 bits) and
    /// its first category (high 8 bits).
    chars: Vec<u32>,
}

/// A fast hash for the dictionary's short keys (rustc's FxHash): they are
/// fixed data, not chosen by an attacker, and SipHash would make loading
/// and looking up a good deal slower.
#[derive(Clone, Copy, Default)]
struct Fx;

impl std::hash::BuildHasher for Fx {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
}

impl Dict {
    /// (category mask, first category) of a character.
    fn class(&self, c: char) -> (u32, usize) {
        let v = self.chars.get(c as usize).copied().unwrap_or(1);
        (v & 0x00FF_FFFF, (v >> 24) as usize)
    }

    /// The words of every surface that `text` starts with, each with the
    /// surface's length in chars.
    fn prefixes<'d>(&'d self, text: &str, mut each: impl FnMut(usize, &'d [Word])) {
        for (chars, (end, c)) in text.char_indices().enumerate() {
            let Some(&(from, to)) = self.prefixes.get(&text[..end + c.len_utf8()]) else {
                return;
            };
            if from < to {
                each(chars + 1, &self.words[from as usize..to as usize]);
            }
        }
    }
}

fn parse_int<T: std::str::FromStr>(s: &str) -> T {
    s.parse()
        .unwrap_or_else(|_| panic!("bundled dictionary: bad number {s:?}"))
}

fn load() -> Dict {
    let mut d = Dict {
        prefixes: HashMap::with_capacity_and_hasher(480_000, Fx),
        words: Vec::with_capacity(380_000),
        categories: Vec::new(),
        chars: Vec::new(),
    };
    let mut extra: HashMap<&'static str, &'static str> = EXTRA
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .collect();
    let extra_word = |reading| Word {
        id: ID_NOUN,
        cost: EXTRA_COST,
        reading,
    };
    // lex.tsv is sorted by surface: the words of a surface are adjacent,
    // and a surface shares its beginning with the one before.
    let mut previous: &str = "";
    for line in LEX.lines() {
        let mut f = line.split('\t');
        let (Some(text), Some(id), Some(cost), Some(reading)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let at = d.words.len() as u32;
        d.words.push(Word {
            id: parse_int(id),
            cost: parse_int(cost),
            reading,
        });
        if text == previous {
            if let Some(range) = d.prefixes.get_mut(text) {
                range.1 = at + 1;
            }
            continue;
        }
        // The beginnings of `text` that `previous` did not already have.
        let shared = previous
            .char_indices()
            .zip(text.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8());
        for (i, _) in text.char_indices().skip(1) {
            if i > shared {
                d.prefixes.entry(&text[..i]).or_insert((0, 0));
            }
        }
        // An extra word of the same surface goes right after (the words of
        // a surface stay one run whatever their order).
        if let Some(reading) = extra.remove(text) {
            d.words.push(extra_word(reading));
        }
        d.prefixes.insert(text, (at, d.words.len() as u32));
        previous = text;
    }
    for (text, reading) in extra {
        let at = d.words.len() as u32;
        d.words.push(extra_word(reading));
        for (i, _) in text.char_indices().skip(1) {
            d.prefixes.entry(&text[..i]).or_insert((0, 0));
        }
        d.prefixes.insert(text, (at, at + 1));
    }
    // char.def: "NAME invoke group length" lines, then "0xA[..0xB] NAME…".
    let mut names: Vec<&str> = Vec::new();
    let mut ranges: Vec<(u32, u32, u32, usize)> = Vec::new();
    for line in CHAR_DEF.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if let Some(hex) = f[0].strip_prefix("0x") {
            let (lo, hi) = match hex.split_once("..0x") {
                Some((a, b)) => (a, b),
                None => (hex, hex),
            };
            let lo = u32::from_str_radix(lo, 16).unwrap_or(0);
            let hi = u32::from_str_radix(hi, 16).unwrap_or(0);
            let cats: Vec<usize> = f[1..]
                .iter()
                .filter_map(|n| names.iter().position(|x| x == n))
                .collect();
            let mask = cats.iter().fold(0u32, |m, c| m | (1 << c));
            ranges.push((lo, hi, mask, cats.first().copied().unwrap_or(0)));
        } else if f.len() >= 4 {
            names.push(f[0]);
            d.categories.push(Category {
                invoke: f[1] == "1",
                group: f[2] == "1",
                length: parse_int(f[3]),
                words: Vec::new(),
            });
        }
    }
    // DEFAULT (category 0) everywhere, then each line in order.
    d.chars = vec![1; 0x10000];
    for (lo, hi, mask, first) in ranges {
        for c in lo..=hi.min(0xFFFF) {
            d.chars[c as usize] = mask | ((first as u32) << 24);
        }
    }
    for line in UNK_DEF.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if let (Some(c), [_, id, cost]) = (names.iter().position(|n| *n == f[0]), f.as_slice()) {
            d.categories[c].words.push((parse_int(id), parse_int(cost)));
        }
    }
    d
}

fn dict() -> &'static Dict {
    static DICT: OnceLock<Dict> = OnceLock::new();
    DICT.get_or_init(load)
}

/// Loads the dictionary now so that the first request does not pay for it.
pub fn warm_up() {
    dict();
}

fn connection(right: u16, left: u16) -> i32 {
    let k = (right as usize * CONTEXTS + left as usize) * 2;
    match MATRIX.get(k..k + 2) {
        Some(b) => i16::from_le_bytes([b[0], b[1]]) as i32,
        None => 0,
    }
}

/// A span (in chars) the caller has already read: the lattice has only
/// this word there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixed<'r> {
    pub start: usize,
    pub end: usize,
    pub id: u16,
    pub reading: &'r str,
}

/// A word of the text, with its reading in hiragana when it has a kanji
/// and the dictionary (or a [`Fixed`] span) knows one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'t, 'r> {
    pub start: usize,
    pub end: usize,
    pub surface: &'t str,
    pub reading: Option<&'r str>,
}

struct Node<'r> {
    start: usize,
    end: usize,
    id: u16,
    reading: &'r str,
    total: i32,
    prev: usize,
    /// The next node that ends where this one does (0: none).
    same_end: usize,
}

/// The words of `text` (no whitespace in it) with `fixed` spans (sorted,
/// not overlapping) taken as given.
pub fn analyse<'t, 'r>(text: &'t str, fixed: &[Fixed<'r>]) -> Vec<Token<'t, 'r>>
where
    'static: 'r,
{
    let d = dict();
    let idx: Vec<(usize, char)> = text.char_indices().collect();
    let n = idx.len();
    let byte = |i: usize| idx.get(i).map_or(text.len(), |x| x.0);
    // For each char: the end of the fixed span it starts, or that it is
    // inside one (words may not start there); and where the next fixed
    // span starts (words may not cross it).
    let mut fixed_at: Vec<Option<usize>> = vec![None; n];
    let mut inside = vec![false; n];
    let mut next_fixed = vec![n; n + 1];
    for (k, f) in fixed.iter().enumerate() {
        fixed_at[f.start] = Some(k);
        for x in inside.iter_mut().take(f.end).skip(f.start + 1) {
            *x = true;
        }
    }
    for i in (0..n).rev() {
        next_fixed[i] = if fixed_at[i].is_some() {
            i
        } else {
            next_fixed[i + 1]
        };
    }
    // nodes[0] is the start of the text (BOS); `ends[i]` is the first
    // node ending at char i, and each node links to the next one.
    const NONE: usize = usize::MAX;
    let mut nodes: Vec<Node<'r>> = vec![Node {
        start: 0,
        end: 0,
        id: 0,
        reading: "",
        total: 0,
        prev: 0,
        same_end: NONE,
    }];
    let mut ends: Vec<usize> = vec![NONE; n + 1];
    ends[0] = 0;
    // The best node before a word depends only on where the word starts
    // and its context id: `best_before` keeps it per id for the current
    // start, so words sharing an id share the search.
    let mut best_before: Vec<(u16, Option<(i32, usize)>)> = Vec::new();
    let add = |nodes: &mut Vec<Node<'r>>,
               ends: &mut Vec<usize>,
               best_before: &mut Vec<(u16, Option<(i32, usize)>)>,
               start: usize,
               end: usize,
               id: u16,
               cost: i32,
               reading: &'r str| {
        let best = match best_before.iter().find(|b| b.0 == id) {
            Some(b) => b.1,
            None => {
                let mut best: Option<(i32, usize)> = None;
                let mut p = ends[start];
                while p != NONE {
                    let total = nodes[p].total + connection(nodes[p].id, id);
                    if best.is_none_or(|b| total < b.0) {
                        best = Some((total, p));
                    }
                    p = nodes[p].same_end;
                }
                best_before.push((id, best));
                best
            }
        };
        if let Some((total, prev)) = best {
            let k = nodes.len();
            nodes.push(Node {
                start,
                end,
                id,
                reading,
                total: total + cost,
                prev,
                same_end: ends[end],
            });
            ends[end] = k;
        }
    };
    let mut unknown: Vec<usize> = Vec::new();
    let mut found_words: Vec<(usize, &'static [Word])> = Vec::new();
    for s in 0..n {
        if ends[s] == NONE || inside[s] {
            continue;
        }
        best_before.clear();
        if let Some(k) = fixed_at[s] {
            let f = fixed[k];
            add(
                &mut nodes,
                &mut ends,
                &mut best_before,
                s,
                f.end,
                f.id,
                0,
                f.reading,
            );
            continue;
        }
        let limit = next_fixed[s];
        let c = idx[s].1;
        let rest = &text[byte(s)..byte(limit)];
        found_words.clear();
        d.prefixes(rest, |len, words| found_words.push((len, words)));
        let mut found = false;
        for &(len, words) in &found_words {
            for w in words {
                add(
                    &mut nodes,
                    &mut ends,
                    &mut best_before,
                    s,
                    s + len,
                    w.id,
                    w.cost,
                    w.reading,
                );
                found = true;
            }
        }
        let (mask, first) = d.class(c);
        let cat = &d.categories[first];
        if found && !cat.invoke {
            continue;
        }
        let same = |i: usize| i < limit && d.class(idx[i].1).0 & mask != 0;
        unknown.clear();
        let mut group_end = None;
        if cat.group {
            let mut e = s + 1;
            while same(e) && e - s < MAX_GROUP {
                e += 1;
            }
            unknown.push(e);
            group_end = Some(e);
        }
        for len in 1..=cat.length {
            let e = s + len;
            if e > limit || (len > 1 && !same(e - 1)) {
                break;
            }
            if group_end != Some(e) {
                unknown.push(e);
            }
        }
        if unknown.is_empty() && !found {
            unknown.push(s + 1);
        }
        for &e in &unknown {
            for &(id, cost) in &cat.words {
                add(&mut nodes, &mut ends, &mut best_before, s, e, id, cost, "");
            }
        }
    }
    // The end of the text (EOS) and back along the best path.
    let mut last = None;
    let mut p = ends[n];
    while p != NONE {
        let total = nodes[p].total + connection(nodes[p].id, 0);
        if last.is_none_or(|(t, _)| total < t) {
            last = Some((total, p));
        }
        p = nodes[p].same_end;
    }
    let Some((_, last)) = last else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut k = last;
    while k != 0 {
        let node = &nodes[k];
        out.push(Token {
            start: node.start,
            end: node.end,
            surface: &text[byte(node.start)..byte(node.end)],
            reading: (!node.reading.is_empty()).then_some(node.reading),
        });
        k = node.prev;
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(&str, Option<&str>)> {
        analyse(text, &[])
            .into_iter()
            .map(|t| (t.surface, t.reading))
            .collect()
    }

    #[test]
    fn segments_as_mecab_does() {
        // `echo 8時30分に来てください | mecab` with Debian's mecab-ipadic-utf8.
        assert_eq!(
            words("8時30分に来てください"),
            vec![
                ("8", None),
                ("時", Some("じ")),
                ("30", None),
                ("分", Some("ふん")),
                ("に", None),
                ("来", Some("き")),
                ("て", None),
                ("ください", None),
            ]
        );
        assert_eq!(
            words("お金と開庁日"),
            vec![
                ("お金", Some("おかね")),
                ("と", None),
                ("開庁日", Some("かいちょうび")),
            ]
        );
    }

    #[test]
    fn unknown_words_by_character_category() {
        assert_eq!(
            words("マイナポータルでABC"),
            vec![("マイナポータル", None), ("で", None), ("ABC", None)]
        );
        assert!(words("").is_empty());
    }

    #[test]
    fn fixed_spans_are_kept_and_fitted_around() {
        let fixed = [Fixed {
            start: 0,
            end: 2,
            id: ID_PLACE,
            reading: "しかわたし",
        }];
        let t = analyse("鹿渡の市役所", &fixed);
        let got: Vec<_> = t.iter().map(|t| (t.surface, t.reading)).collect();
        assert_eq!(
            got,
            vec![
                ("鹿渡", Some("しかわたし")),
                ("の", None),
                ("市役所", Some("しやくしょ"))
            ]
        );
    }
}
