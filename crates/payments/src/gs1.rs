//! The convenience-store barcode (標準料金代理収納 GS1-128): the 44 digits
//! a till reads from a payment slip.
//!
//! Layout (GS1 Japan / 流通システム開発センター, 「GS1-128による標準料金代理収納
//! ガイドライン」; the field list as restated in Hitachi's EUR manual
//! §4.4.6 and by Rolan's barcode notes, since the guideline itself may not
//! be redistributed):
//!
//! | digits | field                                                        |
//! |--------|--------------------------------------------------------------|
//! | 2      | AI `91`                                                      |
//! | 6      | 請求書発行企業コード (the 7-digit JAN maker code without its leading `4`) |
//! | 21     | 自由使用欄 (the biller's own; right-padded with `0`)          |
//! | 1      | 再発行区分 (how many times the slip was reissued)              |
//! | 6      | 支払期限 YYMMDD, `999999` = no deadline                       |
//! | 1      | 印紙フラグ                                                    |
//! | 6      | 金額 (yen)                                                    |
//! | 1      | check digit: modulus 10, weights 3/1 over the 43 digits before it |
//!
//! 43 digits are weighted, an odd count, so weights 3, 1, 3, … from the left
//! and from the right give the same sum: the first and the last digit are
//! weighted 3, as in every GS1 check digit.
//!
//! madoguchi's 自由使用欄 (its own choice, documented here and in
//! docs/ARCHITECTURE.md): the 11-digit 納付番号, then the 3-digit 納付区分,
//! then 7 zeros (reserved). A receipt file's 自由使用欄 therefore names the
//! charge by its payment number.
//!
//! Convenience stores take no payment above ¥300,000 (the ceiling every
//! 収納代行 contract sets; the amount field could carry 999,999), so no
//! barcode is made above it ([`Gs1Error::AmountAboveLimit`]).

use std::fmt;

use time::Date;

use crate::number::PaymentNumber;

/// The most a convenience store takes for one slip.
pub const MAX_AMOUNT: i64 = 300_000;
/// Digits of the barcode data, AI included.
pub const LEN: usize = 44;
/// 支払期限 when there is none.
pub const NO_DEADLINE: &str = "999999";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Gs1Error {
    #[error("請求書発行企業コードは半角数字6桁で入力してください")]
    BillerCode,
    #[error("納付区分は半角数字3桁で入力してください")]
    Class,
    #[error("金額が30万円を超えるため、コンビニエンスストアでは納付できません（{0}円）")]
    AmountAboveLimit(i64),
    #[error("金額は1円以上にしてください（{0}円）")]
    AmountNotPositive(i64),
    #[error("再発行区分は0から9までです（{0}）")]
    Reissue(u8),
    #[error("支払期限の年が2000年から2099年の範囲にありません")]
    DueDate,
}

/// 請求書発行企業コード: 6 digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillerCode(String);

impl BillerCode {
    pub fn parse(input: &str) -> Result<Self, Gs1Error> {
        let s = jp::fold_width(input.trim());
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s))
        } else {
            Err(Gs1Error::BillerCode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What goes into one slip's barcode.
#[derive(Clone, Debug)]
pub struct ConveniSlip<'a> {
    pub biller: &'a BillerCode,
    pub number: &'a PaymentNumber,
    /// 納付区分 (3 digits).
    pub class: &'a str,
    /// 再発行区分: 0 for the first slip, then the reissue count (≤ 9).
    pub reissue: u8,
    pub due: Option<Date>,
    /// 印紙フラグ. A municipality's receipt is a document made by a local
    /// public body, exempt from stamp duty (印紙税法 第5条), so slips pass
    /// `false` (`0`).
    pub stamp: bool,
    pub amount: i64,
}

/// The 44 digits, check digit right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConveniBarcode(String);

impl ConveniBarcode {
    pub fn new(slip: &ConveniSlip<'_>) -> Result<Self, Gs1Error> {
        if slip.amount <= 0 {
            return Err(Gs1Error::AmountNotPositive(slip.amount));
        }
        if slip.amount > MAX_AMOUNT {
            return Err(Gs1Error::AmountAboveLimit(slip.amount));
        }
        if slip.reissue > 9 {
            return Err(Gs1Error::Reissue(slip.reissue));
        }
        if slip.class.len() != 3 || !slip.class.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Gs1Error::Class);
        }
        let due = match slip.due {
            None => NO_DEADLINE.to_string(),
            Some(d) if (2000..=2099).contains(&d.year()) => format!(
                "{:02}{:02}{:02}",
                d.year() % 100,
                u8::from(d.month()),
                d.day()
            ),
            Some(_) => return Err(Gs1Error::DueDate),
        };
        let free = format!("{}{}0000000", slip.number.as_str(), slip.class);
        debug_assert_eq!(free.len(), 21);
        let body = format!(
            "91{}{free}{}{due}{}{:06}",
            slip.biller.as_str(),
            slip.reissue,
            u8::from(slip.stamp),
            slip.amount
        );
        debug_assert_eq!(body.len(), LEN - 1);
        let cd = check_digit(&body);
        Ok(Self(format!("{body}{cd}")))
    }

    /// The 44 digits.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The data for a Code 128 encoder: start code C, FNC1 (which makes
    /// Code 128 a GS1-128 symbol), then the 44 digits in code set C, in the
    /// notation of the `barcoders` crate (`Ć` = start C, `Ź` = FNC1).
    pub fn code128_data(&self) -> String {
        format!("ĆŹ{}", self.0)
    }

    /// The human-readable digits under the bars, in two lines as the
    /// guideline shows them: the AI in brackets, the biller and the
    /// 自由使用欄; then 再発行区分, 支払期限, 印紙フラグ, 金額 and the check
    /// digit.
    pub fn human_readable(&self) -> [String; 2] {
        let s = &self.0;
        [
            format!("(91){}-{}", &s[2..8], &s[8..29]),
            format!(
                "{}-{}-{}-{}-{}",
                &s[29..30],
                &s[30..36],
                &s[36..37],
                &s[37..43],
                &s[43..]
            ),
        ]
    }
}

impl fmt::Display for ConveniBarcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The 納付番号 in a 自由使用欄 laid out as madoguchi prints it (11
/// digits, the 3-digit 納付区分, 7 zeros); `None` for any other layout.
pub fn payment_number_in(free_field: &str) -> Option<&str> {
    let ok = free_field.len() == 21
        && free_field.bytes().all(|b| b.is_ascii_digit())
        && free_field[14..].bytes().all(|b| b == b'0');
    ok.then(|| &free_field[..11])
}

/// Modulus 10, weights 3/1 from the rightmost digit (weighted 3).
pub fn check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn gtin_check_digits_follow_the_same_rule() {
        // Published GS1 check digits (modulus 10, weights 3/1 from the
        // right): GTIN-13 4901234567894 is GS1 Japan's sample JAN code;
        // 4006381333931 is the GTIN-13 of GS1's own check-digit example
        // (Wikipedia "International Article Number").
        assert_eq!(check_digit("490123456789"), 4);
        assert_eq!(check_digit("400638133393"), 1);
    }

    fn slip<'a>(biller: &'a BillerCode, number: &'a PaymentNumber, amount: i64) -> ConveniSlip<'a> {
        ConveniSlip {
            biller,
            number,
            class: "001",
            reissue: 0,
            due: Some(date!(2026 - 05 - 31)),
            stamp: false,
            amount,
        }
    }

    #[test]
    fn a_receipt_file_finds_the_number_a_slip_printed() {
        let biller = BillerCode::parse("912345").unwrap();
        let number = PaymentNumber::new(2026, 42).unwrap();
        let code = ConveniBarcode::new(&slip(&biller, &number, 4_200)).unwrap();
        let free = &code.digits()[8..29];
        assert_eq!(payment_number_in(free), Some(number.as_str()));
        assert_eq!(payment_number_in("000000000002600000421"), None);
        assert_eq!(payment_number_in("26000000421"), None);
    }

    #[test]
    fn the_44_digits_in_their_fields() {
        let biller = BillerCode::parse("912345").unwrap();
        let number = PaymentNumber::new(2026, 1).unwrap();
        let b = ConveniBarcode::new(&slip(&biller, &number, 12_300)).unwrap();
        let d = b.digits();
        assert_eq!(d.len(), LEN);
        assert_eq!(&d[..2], "91");
        assert_eq!(&d[2..8], "912345");
        assert_eq!(&d[8..19], number.as_str());
        assert_eq!(&d[19..22], "001");
        assert_eq!(&d[22..29], "0000000");
        assert_eq!(&d[29..30], "0");
        assert_eq!(&d[30..36], "260531");
        assert_eq!(&d[36..37], "0");
        assert_eq!(&d[37..43], "012300");
        // Worked by hand: the digits weighted 3 (positions 1, 3, …, 43)
        // and 1 (2, 4, …, 42) sum to a number whose last digit gives the
        // complement written here.
        let body = &d[..43];
        let odd: u32 = body.bytes().step_by(2).map(|b| u32::from(b - b'0')).sum();
        let even: u32 = body
            .bytes()
            .skip(1)
            .step_by(2)
            .map(|b| u32::from(b - b'0'))
            .sum();
        let expected = (10 - (3 * odd + even) % 10) % 10;
        assert_eq!(u32::from(d.as_bytes()[43] - b'0'), expected);
        assert_eq!(b.code128_data(), format!("ĆŹ{d}"));
        let [first, second] = b.human_readable();
        assert_eq!(first, format!("(91)912345-{}", &d[8..29]));
        assert_eq!(second, format!("0-260531-0-012300-{}", &d[43..]));
    }

    #[test]
    fn a_fixed_vector() {
        // Computed independently (Python, the Damm table and weights 3/1
        // from the right): 納付番号 26000000015, 納付区分 001, due
        // 2026-05-31, ¥12,300 → check digit 8.
        let biller = BillerCode::parse("912345").unwrap();
        let number = PaymentNumber::new(2026, 1).unwrap();
        assert_eq!(number.as_str(), "26000000015");
        let b = ConveniBarcode::new(&slip(&biller, &number, 12_300)).unwrap();
        assert_eq!(b.digits(), "91912345260000000150010000000026053100123008");
    }

    #[test]
    fn no_deadline_is_999999_and_reissue_counts() {
        let biller = BillerCode::parse("５０１２３４").unwrap();
        let number = PaymentNumber::new(2026, 7).unwrap();
        let mut s = slip(&biller, &number, 300_000);
        s.due = None;
        s.reissue = 2;
        let b = ConveniBarcode::new(&s).unwrap();
        assert_eq!(&b.digits()[29..36], "2999999");
        assert_eq!(&b.digits()[37..43], "300000");
    }

    #[test]
    fn refuses_what_a_till_would_refuse() {
        let biller = BillerCode::parse("912345").unwrap();
        let number = PaymentNumber::new(2026, 1).unwrap();
        assert_eq!(
            ConveniBarcode::new(&slip(&biller, &number, 300_001)),
            Err(Gs1Error::AmountAboveLimit(300_001))
        );
        assert_eq!(
            ConveniBarcode::new(&slip(&biller, &number, 0)),
            Err(Gs1Error::AmountNotPositive(0))
        );
        assert_eq!(
            ConveniBarcode::new(&slip(&biller, &number, -5)),
            Err(Gs1Error::AmountNotPositive(-5))
        );
        let mut s = slip(&biller, &number, 100);
        s.reissue = 10;
        assert_eq!(ConveniBarcode::new(&s), Err(Gs1Error::Reissue(10)));
        let mut s = slip(&biller, &number, 100);
        s.class = "01";
        assert_eq!(ConveniBarcode::new(&s), Err(Gs1Error::Class));
        assert_eq!(BillerCode::parse("12345"), Err(Gs1Error::BillerCode));
        assert_eq!(BillerCode::parse("12345a"), Err(Gs1Error::BillerCode));
        assert!(Gs1Error::AmountAboveLimit(300_001)
            .to_string()
            .contains("30万円"));
    }
}
