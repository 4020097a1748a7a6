use crate::error::ParseError;
use crate::normalize::{fold_char, is_dash};
use crate::numbers::plain_display_serde;

/// 郵便番号: seven digits, shown as `123-4567`.
///
/// Accepts full-width digits, a leading 〒, and any kind of hyphen or space.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostalCode(String);

impl PostalCode {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s: String = input
            .chars()
            .map(fold_char)
            .filter(|c| !c.is_whitespace() && !is_dash(*c) && *c != '〒')
            .collect();
        if s.is_empty() {
            return Err(ParseError::new("empty").with("what", "postal_code"));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new("digits_only").with("what", "postal_code"));
        }
        if s.len() != 7 {
            return Err(ParseError::new("digit_count")
                .with("what", "postal_code")
                .with("expected", 7)
                .with("actual", s.len()));
        }
        Ok(Self(format!("{}-{}", &s[..3], &s[3..])))
    }

    /// `284-8555`
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `2848555`
    pub fn digits(&self) -> String {
        self.0.replace('-', "")
    }

    /// The address Japan Post gives this code, or `None` when Japan Post
    /// has no such code (`999-9999`). See [`crate::postal_data`].
    pub fn address(&self) -> Option<crate::postal_data::PostalAddress> {
        crate::postal_data::lookup(self)
    }
}

plain_display_serde!(PostalCode);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_what_people_type() {
        for input in [
            "2848555",
            "284-8555",
            "〒284-8555",
            "〒２８４－８５５５",
            "２８４ー８５５５",
            " 284 8555 ",
        ] {
            assert_eq!(
                PostalCode::parse(input).unwrap().as_str(),
                "284-8555",
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_with_reason() {
        assert_eq!(PostalCode::parse("").unwrap_err().key, "empty");
        assert_eq!(PostalCode::parse("284-855").unwrap_err().key, "digit_count");
        assert_eq!(
            PostalCode::parse("284-85555").unwrap_err().key,
            "digit_count"
        );
        assert_eq!(
            PostalCode::parse("ABC-DEFG").unwrap_err().key,
            "digits_only"
        );
    }

    proptest! {
        #[test]
        fn any_seven_digits_roundtrip(d in "[0-9]{7}") {
            let p = PostalCode::parse(&d).unwrap();
            prop_assert_eq!(p.digits(), d.clone());
            prop_assert_eq!(PostalCode::parse(p.as_str()).unwrap(), p);
        }

        #[test]
        fn never_panics(s in "\\PC{0,16}") {
            let _ = PostalCode::parse(&s);
        }
    }
}
