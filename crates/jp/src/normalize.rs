use unicode_normalization::UnicodeNormalization;

/// Unicode NFC. Ideographic variation sequences (base + U+E0100..U+E01EF) and
/// standardized variation sequences survive NFC unchanged, so 異体字 written
/// as IVS are kept intact.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Full-width ASCII (U+FF01..U+FF5E) to ASCII and the ideographic space to a
/// plain space. Everything else is left alone.
pub fn fold_width(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

pub(crate) fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// True for the many dashes people type between digit groups.
pub(crate) fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2015}'
            | '\u{2212}'
            | '\u{30FC}'
            | '\u{FF0D}'
            | '\u{FF70}'
    )
}

/// Folds width, removes spaces and dashes and returns the remaining
/// characters; used by every digit-string type.
pub(crate) fn digits_only(input: &str) -> String {
    input
        .chars()
        .map(fold_char)
        .filter(|c| !c.is_whitespace() && !is_dash(*c))
        .collect()
}
