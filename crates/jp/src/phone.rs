use crate::error::ParseError;
use crate::normalize::{fold_char, is_dash};
use crate::numbers::plain_display_serde;

/// A Japanese telephone number, stored as written with hyphens normalised.
///
/// Domestic form: ten digits starting with 0 (landline, 0120 free dial) or
/// eleven digits for mobile (070/080/090), IP (050) and 0800 numbers. An
/// international `+81` prefix is turned into the domestic leading 0.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

const ELEVEN_DIGIT_PREFIXES: [&str; 5] = ["070", "080", "090", "050", "0800"];

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let folded: String = input.chars().map(fold_char).collect();
        let folded = folded.trim();
        if folded.is_empty() {
            return Err(ParseError::new("empty").with("what", "phone"));
        }
        // Digit groups as the person wrote them, hyphens of any kind.
        let mut groups: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut chars = folded.chars().peekable();
        let mut international = false;
        if folded.starts_with('+') {
            chars.next();
            international = true;
        }
        for c in chars {
            if c.is_ascii_digit() {
                current.push(c);
            } else if is_dash(c) || c == ' ' || c == '(' || c == ')' {
                if !current.is_empty() {
                    groups.push(std::mem::take(&mut current));
                }
            } else {
                return Err(ParseError::new("phone.characters"));
            }
        }
        if !current.is_empty() {
            groups.push(current);
        }
        if international {
            match groups.first_mut() {
                Some(g) if g.starts_with("81") => {
                    let rest = g[2..].to_string();
                    *g = format!("0{rest}");
                    if g == "0" && groups.len() > 1 {
                        let head = groups.remove(0);
                        groups[0] = format!("{head}{}", groups[0]);
                    }
                }
                _ => return Err(ParseError::new("phone.country")),
            }
        }
        let digits: String = groups.concat();
        if !digits.starts_with('0') || digits.starts_with("00") {
            return Err(ParseError::new("phone.leading_zero"));
        }
        let expected = if ELEVEN_DIGIT_PREFIXES.iter().any(|p| digits.starts_with(p)) {
            11
        } else {
            10
        };
        if digits.len() != expected {
            return Err(ParseError::new("digit_count")
                .with("what", "phone")
                .with("expected", expected)
                .with("actual", digits.len()));
        }
        let display = if groups.len() == 3 && groups.iter().all(|g| !g.is_empty()) {
            groups.join("-")
        } else if expected == 11 && !digits.starts_with("0800") {
            format!("{}-{}-{}", &digits[..3], &digits[3..7], &digits[7..])
        } else if digits.starts_with("0120") || digits.starts_with("0800") {
            let n = digits.len();
            format!(
                "{}-{}-{}",
                &digits[..4],
                &digits[4..n - 3],
                &digits[n - 3..]
            )
        } else {
            digits
        };
        Ok(Self(display))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn digits(&self) -> String {
        self.0.replace('-', "")
    }
}

plain_display_serde!(PhoneNumber);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn common_forms() {
        assert_eq!(
            PhoneNumber::parse("043-421-2111").unwrap().as_str(),
            "043-421-2111"
        );
        assert_eq!(
            PhoneNumber::parse("０５９－３５４－８１１１")
                .unwrap()
                .as_str(),
            "059-354-8111"
        );
        assert_eq!(
            PhoneNumber::parse("09012345678").unwrap().as_str(),
            "090-1234-5678"
        );
        assert_eq!(
            PhoneNumber::parse("+81 90-1234-5678").unwrap().as_str(),
            "090-1234-5678"
        );
        assert_eq!(
            PhoneNumber::parse("0120123456").unwrap().as_str(),
            "0120-123-456"
        );
        assert_eq!(
            PhoneNumber::parse("0434212111").unwrap().as_str(),
            "0434212111"
        );
    }

    #[test]
    fn rejects() {
        assert_eq!(PhoneNumber::parse("").unwrap_err().key, "empty");
        assert_eq!(
            PhoneNumber::parse("090-1234-567").unwrap_err().key,
            "digit_count"
        );
        assert_eq!(
            PhoneNumber::parse("43-421-2111").unwrap_err().key,
            "phone.leading_zero"
        );
        assert_eq!(
            PhoneNumber::parse("tel 043").unwrap_err().key,
            "phone.characters"
        );
        assert_eq!(
            PhoneNumber::parse("+1 555 0100").unwrap_err().key,
            "phone.country"
        );
    }

    proptest! {
        #[test]
        fn mobile_roundtrip(p in "0[789]0", rest in "[0-9]{8}") {
            let n = PhoneNumber::parse(&format!("{p}{rest}")).unwrap();
            prop_assert_eq!(n.digits(), format!("{p}{rest}"));
            prop_assert_eq!(PhoneNumber::parse(n.as_str()).unwrap(), n);
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = PhoneNumber::parse(&s);
        }
    }
}
