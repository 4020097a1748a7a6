use unicode_normalization::UnicodeNormalization;

/// ひらがな → カタカナ (including ゝゞ → ヽヾ); other characters unchanged.
pub fn hiragana_to_katakana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => {
                char::from_u32(c as u32 + 0x60).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

/// Half-width katakana and full-width letters become their standard forms
/// (NFKC composes ｶﾞ into ガ), then hiragana become katakana.
pub(crate) fn normalize_reading(s: &str) -> String {
    let nfkc: String = s.nfkc().collect();
    hiragana_to_katakana(&nfkc)
}

/// True if `c` may appear in a katakana reading (フリガナ).
pub(crate) fn is_reading_char(c: char) -> bool {
    matches!(
        c,
        '\u{30A1}'
            ..='\u{30FA}' // ァ..ヺ
        | '\u{30FC}' // ー
        | '\u{30FB}' // ・
        | '\u{30FD}' | '\u{30FE}' // ヽヾ
        | '\u{3000}' | ' '
    )
}

/// True if every character of `s` (already normalised) is katakana or a
/// separator.
pub fn is_katakana_reading(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_reading_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds() {
        assert_eq!(hiragana_to_katakana("やまだ たろう"), "ヤマダ タロウ");
        assert_eq!(normalize_reading("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダ タロウ");
        assert_eq!(normalize_reading("ぱぴぷ"), "パピプ");
        assert!(is_katakana_reading("ヤマダ　タロウ"));
        assert!(!is_katakana_reading("山田"));
    }
}
