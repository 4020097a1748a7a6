//! Check-digit algorithms of the Japanese public identifiers.

fn digits(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b - b'0')).collect()
}

/// 全国地方公共団体コード: weights 6,5,4,3,2 over the first five digits,
/// CD = last digit of 11 − (sum mod 11).
pub(crate) fn local_gov_code(first5: &str) -> u32 {
    let sum: u32 = digits(first5)
        .iter()
        .zip([6, 5, 4, 3, 2])
        .map(|(d, w)| d * w)
        .sum();
    (11 - sum % 11) % 10
}

/// 個人番号 (マイナンバー): weights 6,5,4,3,2,7,6,5,4,3,2 over the first
/// eleven digits; r = sum mod 11; CD = 0 if r ≤ 1 else 11 − r.
pub(crate) fn my_number(first11: &str) -> u32 {
    let sum: u32 = digits(first11)
        .iter()
        .zip([6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
        .map(|(d, w)| d * w)
        .sum();
    let r = sum % 11;
    if r <= 1 {
        0
    } else {
        11 - r
    }
}

/// 法人番号: the check digit leads; weights 1,2,1,2,… from the right over the
/// 12-digit base; CD = 9 − (sum mod 9).
pub(crate) fn corporate_number(base12: &str) -> u32 {
    let sum: u32 = digits(base12)
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 2 })
        .sum();
    9 - sum % 9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(local_gov_code("12228"), 9); // 四街道市 122289
        assert_eq!(local_gov_code("24202"), 1); // 四日市市 242021
        assert_eq!(local_gov_code("13101"), 6); // 千代田区 131016
        assert_eq!(local_gov_code("01100"), 2); // 札幌市 011002
        assert_eq!(corporate_number("000012050002"), 7); // 国税庁 7000012050002
        assert_eq!(my_number("12345678901"), 8);
    }
}
