use std::fmt;

/// Why a value could not be parsed.
///
/// `key` is a stable identifier (also used as the i18n message key under the
/// `jp.` prefix, e.g. `jp.postal_code.length`); `args` fill the message's
/// placeholders. The error never contains the rejected input, so it is safe
/// to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl ParseError {
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            args: Vec::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    /// The i18n key of the message (`jp.` + key).
    pub fn message_key(&self) -> String {
        format!("jp.{}", self.key)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key)?;
        for (k, v) in &self.args {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}
