use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;
use crate::normalize::fold_char;

/// An amount of money in yen, never negative. Accepts `1,000`, `１，０００円`,
/// `¥1,000` and `1000`; shown as `1,000円`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Yen(u64);

/// 1兆円: no public charge comes near it, and it keeps arithmetic far from
/// overflow.
const MAX_YEN: u64 = 1_000_000_000_000;

impl Yen {
    pub const ZERO: Yen = Yen(0);

    pub fn new(amount: u64) -> Result<Self, ParseError> {
        if amount > MAX_YEN {
            return Err(ParseError::new("yen.too_large"));
        }
        Ok(Self(amount))
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s: String = input
            .chars()
            .map(fold_char)
            .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '、' | '円' | '¥' | '\\' | '￥'))
            .collect();
        if s.is_empty() {
            return Err(ParseError::new("empty").with("what", "yen"));
        }
        if s.starts_with('-') {
            return Err(ParseError::new("yen.negative"));
        }
        if s.contains('.') {
            return Err(ParseError::new("yen.fraction"));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new("digits_only").with("what", "yen"));
        }
        let n: u64 = s.parse().map_err(|_| ParseError::new("yen.too_large"))?;
        Self::new(n)
    }

    pub fn amount(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Yen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        write!(f, "{out}円")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_shows() {
        assert_eq!(Yen::parse("１，０００円").unwrap().amount(), 1000);
        assert_eq!(Yen::parse("¥300").unwrap().to_string(), "300円");
        assert_eq!(Yen::parse("1234567").unwrap().to_string(), "1,234,567円");
        assert_eq!(Yen::parse("-5").unwrap_err().key, "yen.negative");
        assert_eq!(Yen::parse("10.5").unwrap_err().key, "yen.fraction");
        assert_eq!(Yen::parse("abc").unwrap_err().key, "digits_only");
        assert_eq!(
            Yen::parse("99999999999999999999").unwrap_err().key,
            "yen.too_large"
        );
    }

    proptest! {
        #[test]
        fn display_roundtrip(n in 0u64..=MAX_YEN) {
            let y = Yen::new(n).unwrap();
            prop_assert_eq!(Yen::parse(&y.to_string()).unwrap(), y);
        }
    }
}
