//! Identifier numbers with check digits: 全国地方公共団体コード, マイナンバー, 法人番号.

use std::fmt;

use crate::check_digit;
use crate::error::ParseError;
use crate::normalize::digits_only;

fn exact_digits(input: &str, len: usize, what: &'static str) -> Result<String, ParseError> {
    let s = digits_only(input);
    if s.is_empty() {
        return Err(ParseError::new("empty").with("what", what));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new("digits_only").with("what", what));
    }
    if s.len() != len {
        return Err(ParseError::new("digit_count")
            .with("what", what)
            .with("expected", len)
            .with("actual", s.len()));
    }
    Ok(s)
}

/// 全国地方公共団体コード: six digits, the last a check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalGovCode(String);

impl LocalGovCode {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = exact_digits(input, 6, "local_gov_code")?;
        let cd = check_digit::local_gov_code(&s[..5]);
        if u32::from(s.as_bytes()[5] - b'0') != cd {
            return Err(ParseError::new("check_digit").with("what", "local_gov_code"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit prefecture code (01 北海道 … 47 沖縄県).
    pub fn prefecture(&self) -> &str {
        &self.0[..2]
    }
}

/// 個人番号 (マイナンバー): twelve digits, the last a check digit.
///
/// Special personal information: `Debug` and `Display` are masked; call
/// [`MyNumber::expose`] deliberately where the full value is needed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MyNumber(String);

impl MyNumber {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = exact_digits(input, 12, "my_number")?;
        let cd = check_digit::my_number(&s[..11]);
        if u32::from(s.as_bytes()[11] - b'0') != cd {
            return Err(ParseError::new("check_digit").with("what", "my_number"));
        }
        Ok(Self(s))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `********9018`: only the last four digits shown.
    pub fn masked(&self) -> String {
        format!("********{}", &self.0[8..])
    }
}

impl fmt::Debug for MyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MyNumber({})", self.masked())
    }
}

impl fmt::Display for MyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// 法人番号: thirteen digits, the first a check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CorporateNumber(String);

impl CorporateNumber {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = exact_digits(input, 13, "corporate_number")?;
        let cd = check_digit::corporate_number(&s[1..]);
        if u32::from(s.as_bytes()[0] - b'0') != cd {
            return Err(ParseError::new("check_digit").with("what", "corporate_number"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! plain_display_serde {
    ($t:ty) => {
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl ::std::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($t), self.0)
            }
        }
        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                Self::parse(&s).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }
        impl std::str::FromStr for $t {
            type Err = $crate::ParseError;
            fn from_str(s: &str) -> Result<Self, $crate::ParseError> {
                Self::parse(s)
            }
        }
    };
}
pub(crate) use plain_display_serde;

plain_display_serde!(LocalGovCode);
plain_display_serde!(CorporateNumber);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn local_gov_codes() {
        assert_eq!(LocalGovCode::parse("122289").unwrap().as_str(), "122289");
        assert_eq!(
            LocalGovCode::parse("２４２０２１").unwrap().as_str(),
            "242021"
        );
        assert_eq!(LocalGovCode::parse("122289").unwrap().prefecture(), "12");
        assert_eq!(
            LocalGovCode::parse("122288").unwrap_err().key,
            "check_digit"
        );
        assert_eq!(LocalGovCode::parse("12228").unwrap_err().key, "digit_count");
        assert_eq!(
            LocalGovCode::parse("12228a").unwrap_err().key,
            "digits_only"
        );
        assert_eq!(LocalGovCode::parse("").unwrap_err().key, "empty");
    }

    #[test]
    fn my_numbers() {
        let n = MyNumber::parse("1234 5678 9018").unwrap();
        assert_eq!(n.expose(), "123456789018");
        assert_eq!(format!("{n:?}"), "MyNumber(********9018)");
        assert_eq!(n.to_string(), "********9018");
        assert_eq!(
            MyNumber::parse("123456789017").unwrap_err().key,
            "check_digit"
        );
        let e = MyNumber::parse("12345678901").unwrap_err();
        assert_eq!(e.key, "digit_count");
        assert!(e.args.contains(&("actual", "11".to_string())));
    }

    #[test]
    fn corporate_numbers() {
        assert!(CorporateNumber::parse("7000012050002").is_ok()); // 国税庁
        assert_eq!(
            CorporateNumber::parse("8000012050002").unwrap_err().key,
            "check_digit"
        );
        assert_eq!(
            CorporateNumber::parse("700001205000").unwrap_err().key,
            "digit_count"
        );
    }

    fn with_my_number_cd(base: &str) -> String {
        format!("{base}{}", check_digit::my_number(base))
    }

    proptest! {
        #[test]
        fn my_number_roundtrip(base in "[0-9]{11}") {
            let full = with_my_number_cd(&base);
            let parsed = MyNumber::parse(&full).unwrap();
            prop_assert_eq!(parsed.expose(), full.as_str());
        }

        #[test]
        fn my_number_single_digit_error_detected(base in "[0-9]{11}", pos in 0usize..12, delta in 1u8..10) {
            let full = with_my_number_cd(&base);
            let mut bytes = full.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            // Every weight is below 11, so a changed digit always changes the
            // remainder; the only blind spot is the rule mapping remainders
            // 0 and 1 both to check digit 0.
            if MyNumber::parse(&changed).is_ok() {
                prop_assert!(pos < 11);
                prop_assert_eq!(check_digit::my_number(&base), 0);
                prop_assert_eq!(check_digit::my_number(&changed[..11]), 0);
            }
        }

        #[test]
        fn local_gov_code_roundtrip(base in "[0-9]{5}") {
            let full = format!("{base}{}", check_digit::local_gov_code(&base));
            prop_assert!(LocalGovCode::parse(&full).is_ok());
            let wrong = format!("{base}{}", (check_digit::local_gov_code(&base) + 1) % 10);
            prop_assert!(LocalGovCode::parse(&wrong).is_err());
        }

        #[test]
        fn corporate_roundtrip(base in "[0-9]{12}") {
            let full = format!("{}{base}", check_digit::corporate_number(&base));
            prop_assert!(CorporateNumber::parse(&full).is_ok());
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = LocalGovCode::parse(&s);
            let _ = MyNumber::parse(&s);
            let _ = CorporateNumber::parse(&s);
        }
    }
}
