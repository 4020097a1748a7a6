//! 納付番号 (payment number): the number printed on a charge's slip and
//! reported back by banks, convenience stores and providers with each
//! payment, by which a receipt finds its charge.
//!
//! madoguchi's payment numbers are 11 digits: the fiscal year's last two
//! digits, a sequence within the municipality (8 digits) and a Damm check
//! digit, which catches every single mistyped digit and every swap of two
//! neighbours when a clerk types a number from a slip. Digits only, since
//! the eL番号 and the convenience-store barcode carry digits only.

use std::fmt;

/// A payment number whose check digit is right.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaymentNumber(String);

/// The digits of a payment number.
pub const LEN: usize = 11;

impl PaymentNumber {
    /// The `seq`-th number of `fiscal_year` (seq < 100,000,000).
    pub fn new(fiscal_year: i32, seq: u64) -> Option<Self> {
        if !(2000..=9999).contains(&fiscal_year) || seq >= 100_000_000 {
            return None;
        }
        let base = format!("{:02}{seq:08}", fiscal_year % 100);
        let cd = kernel::ids::damm(&base);
        Some(Self(format!("{base}{cd}")))
    }

    /// Reads a number as typed or reported: width-folded, with spaces and
    /// hyphens between groups allowed; the check digit must match.
    pub fn parse(input: &str) -> Option<Self> {
        let folded = jp::fold_width(input);
        if folded
            .chars()
            .any(|c| !(c.is_ascii_digit() || matches!(c, '-' | ' ' | 'ー' | '－')))
        {
            return None;
        }
        let s: String = folded.chars().filter(|c| c.is_ascii_digit()).collect();
        if s.len() != LEN || kernel::ids::damm(&s) != 0 {
            return None;
        }
        Some(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `26-1234-5678-9`: groups to read out over the phone.
    pub fn grouped(&self) -> String {
        let s = &self.0;
        format!("{}-{}-{}-{}", &s[..2], &s[2..6], &s[6..10], &s[10..])
    }
}

impl fmt::Display for PaymentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_carry_their_check_digit() {
        let n = PaymentNumber::new(2026, 1).unwrap();
        assert_eq!(n.as_str().len(), LEN);
        assert!(n.as_str().starts_with("2600000001"));
        assert_eq!(PaymentNumber::parse(n.as_str()), Some(n.clone()));
        assert_eq!(PaymentNumber::parse(&n.grouped()), Some(n.clone()));
        let wide: String = n
            .as_str()
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
            .collect();
        assert_eq!(PaymentNumber::parse(&wide), Some(n));
    }

    #[test]
    fn every_single_digit_error_and_neighbour_swap_is_caught() {
        let n = PaymentNumber::new(2026, 12_345_678).unwrap();
        let s: Vec<u8> = n.as_str().bytes().collect();
        for i in 0..LEN {
            for d in b'0'..=b'9' {
                if d == s[i] {
                    continue;
                }
                let mut t = s.clone();
                t[i] = d;
                assert_eq!(PaymentNumber::parse(std::str::from_utf8(&t).unwrap()), None);
            }
            if i + 1 < LEN && s[i] != s[i + 1] {
                let mut t = s.clone();
                t.swap(i, i + 1);
                assert_eq!(PaymentNumber::parse(std::str::from_utf8(&t).unwrap()), None);
            }
        }
    }

    #[test]
    fn out_of_range_and_letters_are_refused() {
        assert_eq!(PaymentNumber::new(2026, 100_000_000), None);
        assert_eq!(PaymentNumber::new(1999, 1), None);
        assert_eq!(PaymentNumber::parse("26000000A1"), None);
        assert_eq!(PaymentNumber::parse(""), None);
    }
}
