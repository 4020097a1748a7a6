//! Readings (読み) of Japanese text: じゅうみんひょう for 住民票.
//!
//! Search uses them so that a resident who types the reading finds the
//! kanji, and the furigana option uses them to put ruby over kanji. The
//! text is cut into words by a morphological analyser over IPAdic
//! ([`crate::analyser`]: the lowest-cost path through IPAdic's words and
//! connection costs, as MeCab does), and each word with a kanji gets its
//! dictionary reading. `dict/extra.tsv` adds municipal terms IPAdic lacks.
//!
//! Some spans are read before the analyser runs, and it fits the words
//! around them:
//! - a municipality's own readings of names and places ([`Overrides`],
//!   from its `tenant.json`: 四街道 よつかいどう, 鹿渡 しかわたし);
//! - a counter after a number, read with that number ([`crate::counters`]:
//!   in 8時30分, じ over 時 and ぷん over 分; ふつか over all of 2日; にん
//!   over the 人 of 0人);
//! - a day of the week standing alone (げつ over the 月 of a table header).
//!
//! Everything without kanji (kana, Latin, digits) passes through as it is.

use std::collections::HashMap;

use crate::analyser::{self, Fixed, ID_COUNTER, ID_NOUN, ID_NUMBER, ID_PLACE};
use crate::counters;

/// Loads the dictionary now (it takes a fraction of a second) so the
/// first request does not pay for it.
pub fn warm_up() {
    analyser::warm_up();
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

/// A municipality's own readings (names and places the dictionary reads
/// otherwise or not at all): surface → reading in hiragana. They win over
/// the dictionary wherever the surface appears (longest first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    words: HashMap<String, String>,
    longest: usize,
}

impl Overrides {
    pub fn new<S: Into<String>>(pairs: impl IntoIterator<Item = (S, S)>) -> Self {
        let mut o = Self::default();
        for (surface, reading) in pairs {
            let surface: String = surface.into();
            o.longest = o.longest.max(surface.chars().count());
            o.words.insert(surface, reading.into());
        }
        o
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The longest entry at char `i`: (chars, reading).
    fn at(&self, text: &str, idx: &[(usize, char)], i: usize) -> Option<(usize, &str)> {
        if self.words.is_empty() {
            return None;
        }
        let start = idx[i].0;
        (1..=self.longest.min(idx.len() - i)).rev().find_map(|len| {
            let end = idx.get(i + len).map_or(text.len(), |(b, _)| *b);
            self.words.get(&text[start..end]).map(|r| (len, r.as_str()))
        })
    }
}

/// A piece of text: a word with its reading (in hiragana), or a run of
/// other text (`reading` is `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub surface: &'a str,
    pub reading: Option<&'a str>,
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

/// The spans of `idx[from..to]` read before the analyser runs (chars,
/// relative to `from`): the municipality's readings, then counters and
/// days of the week.
fn fixed_spans<'a>(
    text: &str,
    idx: &[(usize, char)],
    from: usize,
    to: usize,
    overrides: &'a Overrides,
) -> Vec<Fixed<'a>> {
    let mut out = Vec::new();
    let mut free_from = from;
    let mut i = from;
    while i < to {
        if let Some((len, reading)) = overrides.at(text, &idx[..to], i) {
            out.push(Fixed {
                start: i - from,
                end: i + len - from,
                id: ID_PLACE,
                reading,
            });
            i += len;
            free_from = i;
            continue;
        }
        if let Some((start, len, reading)) = numbered(idx, i) {
            if start >= free_from && i + len <= to {
                let id = if start < i {
                    ID_NUMBER
                } else if i > 0 && counters::is_digit(idx[i - 1].1) {
                    ID_COUNTER
                } else {
                    ID_NOUN
                };
                out.push(Fixed {
                    start: start - from,
                    end: i + len - from,
                    id,
                    reading,
                });
                i += len;
                free_from = i;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Splits `text` into words with their readings (those containing kanji)
/// and the text between them.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    static NONE: std::sync::OnceLock<Overrides> = std::sync::OnceLock::new();
    segments_with(text, NONE.get_or_init(Overrides::default))
}

/// [`segments`] with a municipality's own readings.
pub fn segments_with<'a>(text: &'a str, overrides: &'a Overrides) -> Vec<Segment<'a>> {
    // Only words with a kanji get a reading (an override has one too).
    if !text.chars().any(is_kanji) {
        return if text.is_empty() {
            Vec::new()
        } else {
            vec![Segment {
                surface: text,
                reading: None,
            }]
        };
    }
    let idx: Vec<(usize, char)> = text.char_indices().collect();
    let byte = |i: usize| idx.get(i).map_or(text.len(), |x| x.0);
    let mut out: Vec<Segment<'a>> = Vec::new();
    let mut plain_from: Option<usize> = None;
    let mut i = 0;
    while i < idx.len() {
        // Whitespace separates words; the analyser sees the runs between.
        if idx[i].1.is_whitespace() {
            plain_from.get_or_insert(byte(i));
            i += 1;
            continue;
        }
        let end = (i..idx.len())
            .find(|&k| idx[k].1.is_whitespace())
            .unwrap_or(idx.len());
        let fixed = fixed_spans(text, &idx, i, end, overrides);
        let run = &text[byte(i)..byte(end)];
        for t in analyser::analyse(run, &fixed) {
            let reading = t.reading.filter(|_| {
                fixed.iter().any(|f| f.start == t.start) || t.surface.chars().any(is_kanji)
            });
            let start = byte(i + t.start);
            match reading {
                Some(reading) => {
                    if let Some(p) = plain_from.take() {
                        out.push(Segment {
                            surface: &text[p..start],
                            reading: None,
                        });
                    }
                    out.push(Segment {
                        surface: &text[start..byte(i + t.end)],
                        reading: Some(reading),
                    });
                }
                None => {
                    plain_from.get_or_insert(start);
                }
            }
        }
        i = end;
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
    reading_of(segments(text))
}

/// [`to_reading`] with a municipality's own readings.
pub fn to_reading_with(text: &str, overrides: &Overrides) -> String {
    reading_of(segments_with(text, overrides))
}

fn reading_of(segments: Vec<Segment<'_>>) -> String {
    let mut out = String::new();
    for s in segments {
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
    parts(segments(text))
}

/// [`ruby`] with a municipality's own readings.
pub fn ruby_with(text: &str, overrides: &Overrides) -> Vec<RubyPart> {
    parts(segments_with(text, overrides))
}

fn parts(segments: Vec<Segment<'_>>) -> Vec<RubyPart> {
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
    for seg in segments {
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
