//! Readings (読み) of Japanese text: じゅうみんひょう for 住民票.
//!
//! Search uses them so that a resident who types the reading finds the
//! kanji, and the furigana option uses them to put ruby over kanji. The
//! dictionary is IPAdic's surface → reading table (kanji-bearing entries
//! only, the most common reading of each; `scripts/build-readings-dict.py`
//! rebuilds it, licence in `dict/COPYING.ipadic`), plus `dict/extra.tsv`
//! for municipal terms and place names that IPAdic lacks or reads wrongly.
//!
//! Segmentation is greedy longest match from left to right over entries
//! that contain a kanji; everything else (kana, Latin, digits) passes
//! through as it is. Two rules come before the dictionary
//! ([`crate::counters`]): a counter after a number is read with that
//! number (in 8時30分, じ over 時 and ぷん over 分; ふつか over all of 2日;
//! にん over the 人 of 0人), and a day of the week standing alone is read
//! as one (げつ over 月). A word that
//! starts with the honorific お or ご (お金, ご案内) is looked up whole. That is far simpler than a morphological analyser and
//! good enough for both uses: a search only needs the same reading for the
//! same word in documents and queries, and ruby only annotates kanji.

use std::collections::HashMap;

use crate::counters;
use std::sync::OnceLock;

const IPADIC: &str = include_str!("../dict/readings.tsv");
const EXTRA: &str = include_str!("../dict/extra.tsv");
/// Longer entries exist (long place names) but never matter for our text.
const MAX_LEN: usize = 12;

struct Dict {
    words: HashMap<&'static str, &'static str>,
    /// Longest entry (in chars) starting with each character.
    longest: HashMap<char, u8>,
}

fn dict() -> &'static Dict {
    static DICT: OnceLock<Dict> = OnceLock::new();
    DICT.get_or_init(|| {
        let mut words = HashMap::with_capacity(220_000);
        let mut longest: HashMap<char, u8> = HashMap::new();
        // Extra entries come second so they override IPAdic's.
        for line in IPADIC.lines().chain(EXTRA.lines()) {
            if line.starts_with('#') {
                continue;
            }
            let Some((surface, reading)) = line.split_once('\t') else {
                continue;
            };
            let len = surface.chars().count();
            if len == 0 || len > MAX_LEN {
                continue;
            }
            words.insert(surface, reading);
            let first = surface.chars().next().unwrap_or_default();
            let e = longest.entry(first).or_default();
            *e = (*e).max(len as u8);
        }
        Dict { words, longest }
    })
}

/// Loads the dictionary now (it takes a few tens of milliseconds) so the
/// first request does not pay for it.
pub fn warm_up() {
    dict();
}

pub fn is_kanji(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}' | '々' | '〆' | 'ヶ')
}

fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | 'ゝ' | 'ゞ')
}

/// カタカナ → ひらがな (ヴ → ゔ, ヵヶ stay); other characters unchanged.
pub fn katakana_to_hiragana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{30A1}'..='\u{30F4}' | 'ヽ' | 'ヾ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// A piece of text: a dictionary word with its reading (in hiragana), or a
/// run of other text (`reading` is `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub surface: &'a str,
    pub reading: Option<&'static str>,
}

/// The longest dictionary word starting at char `i`: (chars, end byte,
/// reading).
fn longest_word(
    d: &Dict,
    text: &str,
    idx: &[(usize, char)],
    i: usize,
) -> Option<(usize, usize, &'static str)> {
    let (start, c) = idx[i];
    let max = (*d.longest.get(&c)? as usize).min(idx.len() - i);
    (1..=max).rev().find_map(|len| {
        let end = idx.get(i + len).map_or(text.len(), |(b, _)| *b);
        d.words.get(&text[start..end]).map(|r| (len, end, *r))
    })
}

/// A counter after a number, or a day of the week standing alone, at char
/// `i`: (first char of the segment, chars after `i` it takes, reading).
/// The segment starts at the number when the number is read with it.
fn numbered(idx: &[(usize, char)], i: usize) -> Option<(usize, usize, &'static str)> {
    let c = idx[i].1;
    let prev = i.checked_sub(1).map(|p| idx[p].1);
    let next = idx.get(i + 1).map(|x| x.1);
    // 3か月, 3ヶ月: げつ.
    if c == '月'
        && matches!(prev, Some('か' | 'ヶ' | 'カ' | 'ケ'))
        && i >= 2
        && counters::is_digit(idx[i - 2].1)
    {
        return Some((i, 1, "げつ"));
    }
    if prev.is_some_and(counters::is_digit) {
        let from = (0..i)
            .rev()
            .take_while(|&p| counters::is_digit(idx[p].1))
            .last()?;
        let digits: String = idx[from..i].iter().map(|x| x.1).collect();
        let after_month = from > 0 && idx[from - 1].1 == '月';
        let r = counters::reading(counters::digits_value(&digits)?, c, after_month)?;
        let start = if r.whole { from } else { i };
        if next == Some('間') {
            if let Some(reading) = counters::with_kan(r.reading) {
                return Some((start, 2, reading));
            }
        }
        return Some((start, 1, r.reading));
    }
    let standing_alone = |x: Option<char>| {
        x.is_none_or(|x| {
            !(is_kanji(x) || is_hiragana(x) || counters::is_digit(x) || is_katakana(x))
        })
    };
    if standing_alone(prev) && standing_alone(next) {
        return counters::weekday(c).map(|r| (i, 1, r));
    }
    None
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー')
}

/// Splits `text` into dictionary words (those containing kanji) and the
/// text between them.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let d = dict();
    let idx: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut plain_from: Option<usize> = None;
    let mut i = 0;
    while i < idx.len() {
        let (start, c) = idx[i];
        let matched;
        if let Some((from, len, reading)) = numbered(&idx, i) {
            let end = idx.get(i + len).map_or(text.len(), |(b, _)| *b);
            matched = Some((from, len, end, reading));
        } else if !is_hiragana(c)
            || (matches!(c, 'お' | 'ご') && idx.get(i + 1).is_some_and(|x| is_kanji(x.1)))
        {
            matched = longest_word(d, text, &idx, i).map(|(len, end, r)| (i, len, end, r));
        } else {
            matched = None;
        }
        match matched {
            Some((from, len, end, reading)) => {
                let seg_start = idx[from].0;
                if let Some(p) = plain_from.take() {
                    if p < seg_start {
                        out.push(Segment {
                            surface: &text[p..seg_start],
                            reading: None,
                        });
                    }
                }
                out.push(Segment {
                    surface: &text[seg_start..end],
                    reading: Some(reading),
                });
                i += len;
            }
            None => {
                plain_from.get_or_insert(start);
                i += 1;
            }
        }
    }
    if let Some(p) = plain_from {
        out.push(Segment {
            surface: &text[p..],
            reading: None,
        });
    }
    out
}

/// The whole text in hiragana as far as the dictionary knows it: words are
/// replaced by their readings, katakana become hiragana, the rest is kept.
pub fn to_reading(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for s in segments(text) {
        match s.reading {
            Some(r) => out.push_str(r),
            None => out.push_str(&katakana_to_hiragana(s.surface)),
        }
    }
    out
}

/// A piece of text for ruby: `rt` is the reading over `base` (only for
/// kanji; okurigana such as the か of 書かない stay outside the ruby).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RubyPart {
    pub base: String,
    pub rt: Option<String>,
}

/// The text cut into parts with furigana over each run of kanji.
pub fn ruby(text: &str) -> Vec<RubyPart> {
    let mut out: Vec<RubyPart> = Vec::new();
    let push_plain = |out: &mut Vec<RubyPart>, s: &str| {
        if s.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(RubyPart { base, rt: None }) => base.push_str(s),
            _ => out.push(RubyPart {
                base: s.to_string(),
                rt: None,
            }),
        }
    };
    for seg in segments(text) {
        match seg.reading {
            None => push_plain(&mut out, seg.surface),
            Some(reading) => match align(seg.surface, reading) {
                Some(parts) => {
                    for (base, rt) in parts {
                        match rt {
                            Some(rt) => out.push(RubyPart {
                                base: base.to_string(),
                                rt: Some(rt.to_string()),
                            }),
                            None => push_plain(&mut out, base),
                        }
                    }
                }
                None => out.push(RubyPart {
                    base: seg.surface.to_string(),
                    rt: Some(reading.to_string()),
                }),
            },
        }
    }
    out
}

/// Aligns a word with its reading: 取り扱い / とりあつかい gives
/// 取(と) り 扱(あつか) い. Kana in the word must appear in the reading in
/// order; each run of other characters takes at least one reading char.
/// `None` when no alignment exists (the whole word then gets the reading).
fn align<'a>(surface: &'a str, reading: &'a str) -> Option<Vec<(&'a str, Option<&'a str>)>> {
    // Runs of kana / non-kana in the surface.
    let mut runs: Vec<(&str, bool)> = Vec::new();
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (b, c) in surface.char_indices() {
        let kana = is_hiragana(c) || matches!(c, '\u{30A1}'..='\u{30F6}' | 'ー');
        if prev.is_some_and(|p| p != kana) {
            runs.push((&surface[start..b], prev.unwrap_or(false)));
            start = b;
        }
        prev = Some(kana);
    }
    runs.push((&surface[start..], prev.unwrap_or(false)));
    let mut out = Vec::new();
    if fit(&runs, reading, &mut out) {
        Some(out)
    } else {
        None
    }
}

fn fit<'a>(
    runs: &[(&'a str, bool)],
    reading: &'a str,
    out: &mut Vec<(&'a str, Option<&'a str>)>,
) -> bool {
    let Some(((run, kana), rest)) = runs.split_first() else {
        return reading.is_empty();
    };
    if *kana {
        let folded = katakana_to_hiragana(run);
        if !reading.starts_with(folded.as_str()) {
            return false;
        }
        out.push((run, None));
        if fit(rest, &reading[folded.len()..], out) {
            return true;
        }
        out.pop();
        return false;
    }
    // A kanji run: try each split, shortest reading last when it ends the word.
    let ends: Vec<usize> = reading
        .char_indices()
        .skip(1)
        .map(|(b, _)| b)
        .chain(std::iter::once(reading.len()))
        .collect();
    for end in ends {
        if rest.is_empty() && end != reading.len() {
            continue;
        }
        out.push((run, Some(&reading[..end])));
        if fit(rest, &reading[end..], out) {
            return true;
        }
        out.pop();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_of_municipal_words() {
        assert_eq!(to_reading("住民票"), "じゅうみんひょう");
        assert_eq!(to_reading("住民票の写し"), "じゅうみんひょうのうつし");
        assert_eq!(to_reading("転入届"), "てんにゅうとどけ");
        assert_eq!(
            to_reading("印鑑登録証明書"),
            "いんかんとうろくしょうめいしょ"
        );
        assert_eq!(to_reading("四街道市"), "よつかいどうし");
        assert_eq!(to_reading("四日市市"), "よっかいちし");
        assert_eq!(to_reading("マイナンバーカード"), "まいなんばーかーど");
        assert_eq!(to_reading("ABC 123"), "ABC 123");
    }

    #[test]
    fn ruby_keeps_okurigana_outside() {
        let parts = ruby("書かない窓口");
        assert_eq!(
            parts,
            vec![
                RubyPart {
                    base: "書".into(),
                    rt: Some("か".into())
                },
                RubyPart {
                    base: "かない".into(),
                    rt: None
                },
                RubyPart {
                    base: "窓口".into(),
                    rt: Some("まどぐち".into())
                },
            ]
        );
        let parts = ruby("取り扱い");
        let bases: Vec<_> = parts
            .iter()
            .map(|p| (p.base.as_str(), p.rt.as_deref()))
            .collect();
        assert_eq!(
            bases,
            vec![
                ("取", Some("と")),
                ("り", None),
                ("扱", Some("あつか")),
                ("い", None)
            ]
        );
    }

    /// (base, ruby) pairs of a text's ruby, for short assertions.
    fn pairs(text: &str) -> Vec<(String, Option<String>)> {
        ruby(text).into_iter().map(|p| (p.base, p.rt)).collect()
    }

    fn p(base: &str, rt: Option<&str>) -> (String, Option<String>) {
        (base.to_string(), rt.map(str::to_string))
    }

    #[test]
    fn counters_are_read_with_their_number() {
        assert_eq!(to_reading("8時30分"), "8じ30ぷん");
        assert_eq!(
            pairs("8時30分"),
            vec![
                p("8", None),
                p("時", Some("じ")),
                p("30", None),
                p("分", Some("ぷん"))
            ]
        );
        assert_eq!(to_reading("0人"), "0にん");
        assert_eq!(to_reading("待ち0分"), "まち0ふん");
        assert_eq!(to_reading("1人で"), "ひとりで");
        assert_eq!(pairs("2日"), vec![p("2日", Some("ふつか"))]);
        assert_eq!(to_reading("4月1日"), "4がつついたち");
        assert_eq!(to_reading("1日"), "1にち");
        assert_eq!(to_reading("１４日以内"), "じゅうよっかいない");
        assert_eq!(to_reading("3日間"), "みっかかん");
        assert_eq!(to_reading("30分間"), "30ぷんかん");
        assert_eq!(to_reading("2週間"), "2しゅうかん");
        assert_eq!(to_reading("3か月"), "3かげつ");
        assert_eq!(to_reading("300円"), "300えん");
        assert_eq!(to_reading("3階"), "3がい");
        assert_eq!(to_reading("3人目"), "3にんめ");
    }

    #[test]
    fn days_of_the_week_standing_alone() {
        for (day, reading) in [
            ("月", "げつ"),
            ("火", "か"),
            ("水", "すい"),
            ("木", "もく"),
            ("金", "きん"),
            ("土", "ど"),
            ("日", "にち"),
        ] {
            assert_eq!(to_reading(day), reading, "{day}");
        }
        assert_eq!(to_reading("（火）"), "（か）");
        assert_eq!(to_reading("月・水・金"), "げつ・すい・きん");
        // In a word they are read as the word is.
        assert_eq!(to_reading("月曜"), "げつよう");
        assert_eq!(to_reading("土日"), "どにち");
        assert_eq!(to_reading("お金"), "おかね");
        assert_eq!(to_reading("水を"), "みずを");
    }

    #[test]
    fn words_residents_meet_first() {
        assert_eq!(to_reading("開庁日"), "かいちょうび");
        assert_eq!(pairs("来て"), vec![p("来", Some("き")), p("て", None)]);
        assert_eq!(to_reading("来庁"), "らいちょう");
        assert_eq!(to_reading("お問い合わせ"), "おといあわせ");
    }

    #[test]
    fn plain_text_is_one_part() {
        assert_eq!(
            ruby("ひらがなだけ"),
            vec![RubyPart {
                base: "ひらがなだけ".into(),
                rt: None
            }]
        );
        assert!(ruby("").is_empty());
    }
}
