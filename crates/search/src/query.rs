//! What a question is about: the words of a query that carry its subject.
//!
//! Residents type sentences (母が亡くなりました。何をすればいいですか).
//! The query is cut with the reading dictionary (`jp::reading::segments`):
//! kanji words next to each other make one compound (固定 資産 税 →
//! 固定資産税), a word with okurigana is matched by its stem, up to its
//! last kanji (亡くなり → 亡, 払え → 払, 引っ越し → 引っ越), so every
//! conjugation of a verb is the same word; katakana and Latin runs are
//! words. Hiragana is grammar (particles, endings such as ました or
//! ですか) and is dropped, except a word written in kana: a query or a
//! chunk that is only kana (じゅうみんひょう, おくやみ; its endings
//! stripped), kana at the start of a chunk (ごみは… → ごみ) or between two
//! kanji words without a particle (認定こども園 → 認定, こども園).
//! Question words and words every page has (何, 方法, 手続) are dropped.
//! The result is folded (`text::fold`): the index's and the synonyms'
//! forms.

use unicode_normalization::UnicodeNormalization;

use crate::text;

/// Kanji words (or stems) that say nothing about the subject.
const STOP_KANJI: &[&str] = &[
    "何", "何か", "何処", "誰", "方法", "場合", "教", "知", "分", "良", "出来", "可能", "必要",
    "手続", "今", "私", "僕", "自分", "出", "取", "思", "聞", "一番",
];

/// Endings and particles stripped from the end of a kana word, longest
/// first within the same start.
const KANA_ENDINGS: &[&str] = &[
    "でしょうか",
    "ですか",
    "ますか",
    "ください",
    "たいです",
    "ました",
    "ません",
    "について",
    "ですが",
    "のですが",
    "したい",
    "します",
    "ほしい",
    "どうやって",
    "どうすれば",
    "どうしたら",
    "どこで",
    "どこ",
    "いつ",
    "なに",
    "なん",
    "すれば",
    "ばよい",
    "ばいい",
    "いい",
    "よい",
    "って",
    "とは",
    "には",
    "では",
    "から",
    "まで",
    "より",
    "ので",
    "けど",
    "など",
    "ます",
    "です",
    "たい",
    "する",
    "した",
    "して",
    "か",
    "ね",
    "よ",
    "の",
    "は",
    "が",
    "を",
    "に",
    "で",
    "と",
    "も",
    "へ",
    "や",
    "ば",
];

/// Question words: a kana word starting with one is the question's
/// grammar (どうすればいいですか), not its subject.
const QUESTION_KANA: &[&str] = &[
    "どう",
    "なに",
    "なん",
    "いつ",
    "どこ",
    "だれ",
    "どの",
    "どれ",
    "どんな",
];

/// Whether a kana word (endings stripped) says something about the subject.
fn kana_word(kept: &str) -> bool {
    kept.chars().count() >= 2
        && !KANA_ENDINGS.contains(&kept)
        && !QUESTION_KANA.iter().any(|q| kept.starts_with(q))
}

/// Particles that start grammar after a word (を, が …).
const PARTICLES: &[char] = &[
    'を', 'が', 'に', 'は', 'の', 'で', 'と', 'も', 'へ', 'や', 'か',
];

/// English words that say nothing about the subject.
const STOP_LATIN: &[&str] = &[
    "the", "and", "how", "can", "what", "where", "when", "for", "you", "your", "get", "with",
    "does", "are", "this", "that", "need", "want", "have", "who", "which", "from", "there",
    "about", "do", "is", "my", "to", "of", "in", "a", "an", "it", "me", "i", "please",
];

fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}')
}

fn is_kanji(c: char) -> bool {
    jp::reading::is_kanji(c)
}

/// A kana word with its endings stripped (while two characters remain):
/// endings of two characters or more as often as they come, then one
/// particle (こどもの → こども, not こど).
fn strip_endings(kana: &str) -> &str {
    let mut s = kana;
    loop {
        let before = s;
        for e in KANA_ENDINGS.iter().filter(|e| e.chars().count() > 1) {
            if let Some(rest) = s.strip_suffix(e) {
                if rest.chars().count() >= 2 {
                    s = rest;
                    break;
                }
            }
        }
        if s == before {
            break;
        }
    }
    if let Some(last) = s.chars().last() {
        let rest = &s[..s.len() - last.len_utf8()];
        if KANA_ENDINGS.contains(&&s[rest.len()..]) && rest.chars().count() >= 2 {
            s = rest;
        }
    }
    s
}

/// Kana that end nouns, not verbs (子ども, 粗大ごみ, 私たち).
const NOUN_TAILS: &[&str] = &["ども", "ごみ", "たち"];

/// The stem of a dictionary word: up to its last kanji (the whole word
/// when it ends with a kanji, a noun's kana or has no kanji).
fn stem(word: &str) -> &str {
    if NOUN_TAILS.iter().any(|t| word.ends_with(t)) {
        return word;
    }
    match word.char_indices().rev().find(|(_, c)| is_kanji(*c)) {
        Some((i, c)) => &word[..i + c.len_utf8()],
        None => word,
    }
}

/// The pieces of a chunk (text between separators) in order.
#[derive(Debug)]
enum Piece<'a> {
    /// A dictionary word made of kanji only.
    Kanji(&'a str),
    /// A dictionary word with kana in it (okurigana or a kana tail).
    Inflected(&'a str),
    Kana(&'a str),
    Other(&'a str),
}

fn pieces(chunk: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    for seg in jp::reading::segments(chunk) {
        let s = seg.surface;
        if seg.reading.is_some() {
            if s.chars().all(is_kanji) {
                out.push(Piece::Kanji(s));
            } else {
                out.push(Piece::Inflected(s));
            }
            continue;
        }
        // Text the dictionary does not know: runs of one script each.
        let mut start = 0;
        let mut kind = 0u8;
        for (i, c) in s.char_indices() {
            let k = if is_hiragana(c) {
                1
            } else if is_kanji(c) {
                3
            } else {
                2
            };
            if i > start && k != kind {
                out.push(piece(&s[start..i], kind));
                start = i;
            }
            if i == start {
                kind = k;
            }
        }
        if start < s.len() {
            out.push(piece(&s[start..], kind));
        }
    }
    out
}

fn piece(s: &str, kind: u8) -> Piece<'_> {
    match kind {
        1 => Piece::Kana(s),
        3 => Piece::Kanji(s),
        _ => Piece::Other(s),
    }
}

/// The words of a query that carry its subject, folded, in order, without
/// repeats.
pub fn words(query: &str) -> Vec<String> {
    let nfkc: String = query.nfkc().collect();
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: &str, out: &mut Vec<String>| {
        let f = text::fold(w).replace(' ', "");
        if !f.is_empty() && !out.contains(&f) {
            out.push(f);
        }
    };
    for chunk in nfkc.split(|c: char| !(c.is_alphanumeric() || c == 'ー' || c == 'ｰ')) {
        if chunk.is_empty() {
            continue;
        }
        if chunk.chars().all(|c| is_hiragana(c) || c == 'ー') {
            let kept = strip_endings(chunk);
            if kana_word(kept) {
                push(kept, &mut out);
            }
            continue;
        }
        let ps = pieces(chunk);
        // Consecutive kanji words make one compound.
        let mut compound = String::new();
        for (i, p) in ps.iter().enumerate() {
            match p {
                Piece::Kanji(s) if !STOP_KANJI.contains(s) => {
                    compound.push_str(s);
                    continue;
                }
                Piece::Kanji(_) => {}
                Piece::Inflected(s) => {
                    flush(&mut compound, &mut out, &mut push);
                    let st = stem(s);
                    if !STOP_KANJI.contains(&st) {
                        push(st, &mut out);
                    }
                    continue;
                }
                Piece::Kana(s) => {
                    let before_kanji = matches!(ps.get(i + 1), Some(Piece::Kanji(_)));
                    let starts_with_particle =
                        s.chars().next().is_some_and(|c| PARTICLES.contains(&c));
                    if i == 0 {
                        // Kana opening a chunk: a word, its endings stripped.
                        let kept = strip_endings(s);
                        if kana_word(kept) {
                            flush(&mut compound, &mut out, &mut push);
                            if kept.len() == s.len() && before_kanji {
                                // ひとり親: the kana opens the next compound.
                                compound.push_str(kept);
                            } else {
                                push(kept, &mut out);
                            }
                            continue;
                        }
                    } else if before_kanji && !starts_with_particle {
                        // 認定こども園: kana inside a compound.
                        flush(&mut compound, &mut out, &mut push);
                        compound.push_str(s);
                        continue;
                    }
                }
                Piece::Other(s) => {
                    flush(&mut compound, &mut out, &mut push);
                    let lower = s.to_lowercase();
                    let latin = s.chars().all(|c| c.is_ascii_alphanumeric());
                    if !(latin && STOP_LATIN.contains(&lower.as_str())) {
                        push(s, &mut out);
                    }
                    continue;
                }
            }
            flush(&mut compound, &mut out, &mut push);
        }
        flush(&mut compound, &mut out, &mut push);
    }
    out
}

fn flush(
    compound: &mut String,
    out: &mut Vec<String>,
    push: &mut impl FnMut(&str, &mut Vec<String>),
) {
    if !compound.is_empty() {
        push(compound, out);
        compound.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(q: &str) -> Vec<String> {
        words(q)
    }

    #[test]
    fn sentences_keep_their_subject() {
        assert_eq!(w("母が亡くなりました。何をすればいいですか"), ["母", "亡"]);
        assert_eq!(
            w("固定資産税をクレジットカードで払えますか"),
            ["固定資産税", "くれじつとかーど", "払"]
        );
        assert_eq!(
            w("マイナンバーカードの電子証明書の更新"),
            ["まいなんばーかーど", "電子証明書", "更新"]
        );
        assert_eq!(w("コンビニ交付"), ["こんびに", "交付"]);
        assert_eq!(w("保育園に入りたい"), ["保育園", "入"]);
        assert_eq!(w("犬を飼い始めた"), ["犬", "飼", "始"]);
        assert_eq!(w("粗大ごみはどうやって出せばよいですか"), ["粗大ごみ"]);
        assert_eq!(w("子どもの転校"), ["子ども", "転校"]);
        assert_eq!(w("住民票の写しがほしい"), ["住民票", "写"]);
    }

    #[test]
    fn conjugations_share_a_stem() {
        assert_eq!(w("亡くなった"), w("亡くなりました"));
        assert_eq!(w("払える"), w("払いたい"));
    }

    #[test]
    fn kana_words_stay() {
        assert_eq!(w("じゅうみんひょう"), ["じゆうみんひよう"]);
        assert_eq!(w("おくやみ"), ["おくやみ"]);
        assert_eq!(w("いんかんとうろく"), ["いんかんとうろく"]);
        assert_eq!(w("ごみの出し方"), ["ごみ", "方"]);
        assert_eq!(w("認定こども園の入園"), ["認定", "こども園", "入園"]);
        assert_eq!(w("ひとり親の手当"), ["ひとり親", "手当"]);
    }

    #[test]
    fn question_words_and_english_stop_words_go() {
        assert_eq!(w("何が必要ですか"), Vec::<String>::new());
        assert_eq!(w("父が亡くなりました。どうすればいいですか"), ["父", "亡"]);
        assert_eq!(w("いつまでですか"), Vec::<String>::new());
        assert_eq!(
            w("How can I get a residence certificate?"),
            ["residence", "certificate"]
        );
        assert_eq!(w("住民票 090-1234"), ["住民票", "090", "1234"]);
    }
}
