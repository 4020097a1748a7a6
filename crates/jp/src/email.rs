use crate::error::ParseError;
use crate::normalize::fold_width;
use crate::numbers::plain_display_serde;

/// An e-mail address: one `@`, a non-empty local part, a domain with a dot,
/// no spaces, at most 254 characters. Full-width input is folded first
/// (people on Japanese keyboards often type ＠).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = fold_width(input).trim().to_string();
        if s.is_empty() {
            return Err(ParseError::new("empty").with("what", "email"));
        }
        if s.chars().count() > 254 {
            return Err(ParseError::new("too_long").with("max", 254));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(ParseError::new("email.at"));
        };
        if local.is_empty()
            || domain.contains('@')
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ParseError::new("email.format"));
        }
        if !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(ParseError::new("email.domain"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

plain_display_serde!(Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(
            Email::parse("taro@example.jp").unwrap().as_str(),
            "taro@example.jp"
        );
        assert_eq!(
            Email::parse("ｔａｒｏ＠example.jp").unwrap().as_str(),
            "taro@example.jp"
        );
        assert_eq!(Email::parse("taro.example.jp").unwrap_err().key, "email.at");
        assert_eq!(
            Email::parse("taro@example").unwrap_err().key,
            "email.domain"
        );
        assert_eq!(
            Email::parse("ta ro@example.jp").unwrap_err().key,
            "email.format"
        );
        assert_eq!(Email::parse("").unwrap_err().key, "empty");
    }
}
