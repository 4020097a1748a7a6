//! Folding and grams: what makes ｼﾞｭｳﾐﾝﾋｮｳ, じゅうみんひょう and
//! ジュウミンヒョウ the same word, and what the index stores.
//!
//! Folding is NFKC (full/half width), lower case, katakana → hiragana, small
//! kana → large (ょ → よ, a frequent typo) and every dash-like long-vowel
//! mark → ー. Text is cut at anything that is not a letter, digit or kana;
//! each run gives its overlapping character bigrams (a one-character run
//! gives itself), so no word list is needed and a typo costs only the two
//! bigrams around it.

use unicode_normalization::UnicodeNormalization;

/// Folds one character (already NFKC): `None` for separators.
fn fold_char(c: char) -> Option<char> {
    let c = match c {
        // Katakana → hiragana (ヴ → ゔ).
        '\u{30A1}'..='\u{30F4}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        'ヵ' => 'か',
        'ヶ' => 'け',
        '―' | '‐' | '－' | '−' | '─' | '━' | 'ｰ' | '～' | '〜' => 'ー',
        _ => c,
    };
    let c = match c {
        'ぁ' => 'あ',
        'ぃ' => 'い',
        'ぅ' => 'う',
        'ぇ' => 'え',
        'ぉ' => 'お',
        'っ' => 'つ',
        'ゃ' => 'や',
        'ゅ' => 'ゆ',
        'ょ' => 'よ',
        'ゎ' => 'わ',
        'ゕ' => 'か',
        'ゖ' => 'け',
        _ => c,
    };
    if c == 'ー' || c.is_alphanumeric() {
        Some(c.to_lowercase().next().unwrap_or(c))
    } else {
        None
    }
}

/// The folded text with separators as single spaces.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.nfkc() {
        // A hyphen after kana is a long-vowel mark typed on a PC keyboard.
        let after_kana = out
            .chars()
            .next_back()
            .is_some_and(|p| ('\u{3041}'..='\u{309F}').contains(&p) || p == 'ー');
        let c = if c == '-' && after_kana && !gap {
            'ー'
        } else {
            c
        };
        match fold_char(c) {
            Some(f) => {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                out.push(f);
            }
            None => gap = true,
        }
    }
    out
}

/// The folded form of each character of `s`, aligned with `s`'s chars
/// (used to find a query in the original text for snippets).
pub fn fold_chars(s: &str) -> Vec<(usize, Option<char>)> {
    s.char_indices()
        .map(|(b, c)| {
            let n: String = c.to_string().nfkc().collect();
            (b, n.chars().next().and_then(fold_char))
        })
        .collect()
}

/// A bigram (or a lone character) packed in a `u64`.
pub type Gram = u64;

fn pack(a: char, b: Option<char>) -> Gram {
    ((a as u64) << 22) | b.map_or(0x3F_FFFF, |b| b as u64)
}

/// The gram of a lone character; every kanji is also indexed alone, so a
/// one-kanji term (写 of 写し) can match.
pub fn unigram(c: char) -> Gram {
    pack(c, None)
}

/// The grams of folded text, in order, with repeats.
pub fn grams_of_folded(folded: &str, out: &mut Vec<Gram>) {
    for run in folded.split(' ') {
        let mut chars = run.chars();
        let Some(mut prev) = chars.next() else {
            continue;
        };
        let mut single = true;
        for c in chars {
            out.push(pack(prev, Some(c)));
            prev = c;
            single = false;
        }
        if single {
            out.push(pack(prev, None));
        }
    }
}

/// The grams of raw text.
pub fn grams(s: &str) -> Vec<Gram> {
    let mut out = Vec::new();
    grams_of_folded(&fold(s), &mut out);
    out
}

/// The reading of raw text, folded: kanji words become their readings.
pub fn reading(s: &str) -> String {
    fold(&jp::reading::to_reading(&s.nfkc().collect::<String>()))
}

/// True if the text has characters a reading changes (kanji).
pub fn has_kanji(s: &str) -> bool {
    s.chars().any(jp::reading::is_kanji)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_and_kana_fold_together() {
        assert_eq!(fold("ｼﾞｭｳﾐﾝﾋｮｳ"), fold("じゅうみんひょう"));
        assert_eq!(fold("ジュウミンヒョウ"), "じゆうみんひよう");
        assert_eq!(fold("ＭＹ　Ｎｕｍｂｅｒ"), "my number");
        assert_eq!(fold("マイナンバーカ－ド"), fold("マイナンバーカード"));
        assert_eq!(fold("住民票（写し）"), "住民票 写し");
    }

    #[test]
    fn grams_are_bigrams_per_run() {
        assert_eq!(grams("住民票").len(), 2);
        assert_eq!(grams("票").len(), 1);
        assert_eq!(grams("住民 票").len(), 2);
        assert_eq!(grams("、、").len(), 0);
    }

    #[test]
    fn readings_fold_like_text() {
        assert_eq!(reading("住民票"), fold("じゅうみんひょう"));
    }
}
