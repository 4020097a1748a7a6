//! eL番号 (the number printed under the eL-QR, typed in by a payer whose
//! phone cannot read the code): 収納機関番号, 納付区分, 納付番号 and 確認番号.
//!
//! What is standard (Pay-easy / 地方税お支払サイト, as municipalities
//! describe the eL番号 to residents, e.g. 海町 and 上田市's eL-QR pages, and
//! the Pay-easy number shown by the 地方税お支払サイト FAQ):
//! - the four parts and their names;
//! - 収納機関番号: 5 digits, given to the municipality (the collector);
//! - 納付番号 and 確認番号: digits whose content and check rule the
//!   collector defines.
//!
//! madoguchi's own choices (not a standard; a municipality whose bank or
//! eLTAX contract fixes other rules must change them here):
//! - 納付区分: 3 digits per subject, from the municipality's settings;
//! - 納付番号: the charge's 11-digit [`PaymentNumber`] (its own Damm check
//!   digit);
//! - 確認番号: 6 digits, five derived from all other parts and the amount
//!   (FNV-1a, so a number typed for another amount or another
//!   municipality is refused) and a Damm check digit over the whole eL番号.
//!   It is not a secret: it catches typing mistakes, it proves nothing.

use std::fmt;

use crate::number::PaymentNumber;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElNumberError {
    #[error("収納機関番号は半角数字5桁で入力してください")]
    Collector,
    #[error("納付区分は半角数字3桁で入力してください")]
    Class,
    #[error("確認番号が一致しません")]
    Confirmation,
    #[error("eL番号の形式が正しくありません")]
    Format,
}

/// 収納機関番号: 5 digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectorNumber(String);

impl CollectorNumber {
    pub fn parse(input: &str) -> Result<Self, ElNumberError> {
        let s = jp::fold_width(input.trim());
        if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s))
        } else {
            Err(ElNumberError::Collector)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 納付区分: 3 digits.
pub fn parse_class(input: &str) -> Result<String, ElNumberError> {
    let s = jp::fold_width(input.trim());
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s)
    } else {
        Err(ElNumberError::Class)
    }
}

/// One slip's eL番号.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElNumber {
    pub collector: CollectorNumber,
    pub class: String,
    pub number: PaymentNumber,
    /// 6 digits.
    pub confirmation: String,
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn confirmation(collector: &str, class: &str, number: &str, amount: i64) -> String {
    let five = fnv1a(&format!("{collector}|{class}|{number}|{amount}")) % 100_000;
    let five = format!("{five:05}");
    let cd = kernel::ids::damm(&format!("{collector}{class}{number}{five}"));
    format!("{five}{cd}")
}

impl ElNumber {
    pub fn new(
        collector: CollectorNumber,
        class: &str,
        number: PaymentNumber,
        amount: i64,
    ) -> Result<Self, ElNumberError> {
        let class = parse_class(class)?;
        let confirmation = confirmation(collector.as_str(), &class, number.as_str(), amount);
        Ok(Self {
            collector,
            class,
            number,
            confirmation,
        })
    }

    /// Reads an eL番号 as typed (`収納機関番号-納付区分-納付番号-確認番号`,
    /// hyphens or spaces between the parts, full-width digits allowed) and
    /// checks its 確認番号 against the amount owed.
    pub fn parse(input: &str, amount: i64) -> Result<Self, ElNumberError> {
        let folded = jp::fold_width(input.trim());
        let parts: Vec<&str> = folded.split(['-', ' ']).filter(|p| !p.is_empty()).collect();
        let [collector, class, number, conf] = parts[..] else {
            return Err(ElNumberError::Format);
        };
        let collector = CollectorNumber::parse(collector)?;
        let number = PaymentNumber::parse(number).ok_or(ElNumberError::Format)?;
        let el = ElNumber::new(collector, class, number, amount)?;
        if el.confirmation != conf {
            return Err(ElNumberError::Confirmation);
        }
        Ok(el)
    }

    /// The digits as one string, parts in the printed order.
    pub fn digits(&self) -> String {
        format!(
            "{}{}{}{}",
            self.collector.as_str(),
            self.class,
            self.number.as_str(),
            self.confirmation
        )
    }
}

impl fmt::Display for ElNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{}",
            self.collector.as_str(),
            self.class,
            self.number.as_str(),
            self.confirmation
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(amount: i64) -> ElNumber {
        ElNumber::new(
            CollectorNumber::parse("01234").unwrap(),
            "001",
            PaymentNumber::new(2026, 1).unwrap(),
            amount,
        )
        .unwrap()
    }

    #[test]
    fn a_fixed_vector() {
        // Computed independently (Python: FNV-1a 64 of
        // "01234|001|26000000015|12300" mod 100000, then the Damm digit of
        // the 24 digits before it).
        let e = el(12_300);
        assert_eq!(e.to_string(), "01234-001-26000000015-772821");
        assert_eq!(kernel::ids::damm(&e.digits()), 0);
    }

    #[test]
    fn reads_what_it_prints_and_refuses_mistakes() {
        let e = el(12_300);
        assert_eq!(ElNumber::parse(&e.to_string(), 12_300), Ok(e.clone()));
        let wide = format!("０１２３４ ００１ {} {}", e.number.as_str(), e.confirmation);
        assert_eq!(ElNumber::parse(&wide, 12_300), Ok(e.clone()));
        // Another amount, another collector: the confirmation no longer fits.
        assert_eq!(
            ElNumber::parse(&e.to_string(), 12_301),
            Err(ElNumberError::Confirmation)
        );
        let other = e.to_string().replacen("01234", "01235", 1);
        assert_eq!(
            ElNumber::parse(&other, 12_300),
            Err(ElNumberError::Confirmation)
        );
        // Every single mistyped digit of the confirmation is caught.
        for i in 0..6 {
            for d in b'0'..=b'9' {
                let mut c = e.confirmation.clone().into_bytes();
                if c[i] == d {
                    continue;
                }
                c[i] = d;
                let typed = format!(
                    "01234-001-{}-{}",
                    e.number.as_str(),
                    String::from_utf8(c).unwrap()
                );
                assert_eq!(
                    ElNumber::parse(&typed, 12_300),
                    Err(ElNumberError::Confirmation)
                );
            }
        }
        assert_eq!(ElNumber::parse("01234-001", 1), Err(ElNumberError::Format));
        assert_eq!(
            CollectorNumber::parse("1234"),
            Err(ElNumberError::Collector)
        );
        assert_eq!(parse_class("1a3"), Err(ElNumberError::Class));
    }
}
