//! eL-QR (地方税統一QRコード): the QR code on a slip that a bank counter,
//! the 地方税お支払サイト or a payment app reads.
//!
//! What is known, and from where:
//! - it is a QR code (JIS X 0510) printed on 納付書 since 2023-04 under a
//!   unified specification of 地方税共同機構 (eLTAX), read by eL-QR banks,
//!   the 地方税お支払サイト and smartphone payment apps (総務省 press
//!   release 01zeimu02_02000351; municipal pages, e.g. 上田市, 海町);
//! - the eL番号 printed with it names the same payment ([`crate::el_number`]).
//!
//! What is NOT known: the payload layout. The specification is given to
//! municipalities and their vendors, not published where we can read it.
//! This module is the ONE place that builds the payload; until the official
//! layout replaces it, everything it produces is labelled
//! [`PENDING_NOTICE`] (on the slip next to the code, and in the docs), and
//! the payload itself starts with `MDG-ELQR-PENDING`, so no reader can
//! mistake it for a real eL-QR.
//!
//! Provisional payload (madoguchi's, version 0): fields separated by `|`:
//! `MDG-ELQR-PENDING|0|収納機関番号|納付区分|納付番号|確認番号|金額|期限YYYYMMDD or -`.

use time::Date;

use crate::el_number::ElNumber;

/// Printed wherever the provisional payload appears.
pub const PENDING_NOTICE: &str = "eL-QR layout pending the official specification";
/// The same in Japanese, printed on the slip.
pub const PENDING_NOTICE_JA: &str = "eL-QRの配置は公式仕様の確認待ち（仮の内容です）";
/// The first field of every provisional payload.
pub const MARKER: &str = "MDG-ELQR-PENDING";

/// The payload of a slip's eL-QR.
pub fn payload(el: &ElNumber, amount: i64, due: Option<Date>) -> String {
    let due = due
        .map(|d| format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_else(|| "-".into());
    format!(
        "{MARKER}|0|{}|{}|{}|{}|{amount}|{due}",
        el.collector.as_str(),
        el.class,
        el.number.as_str(),
        el.confirmation
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::el_number::CollectorNumber;
    use crate::number::PaymentNumber;
    use time::macros::date;

    #[test]
    fn the_payload_says_it_is_provisional() {
        let el = ElNumber::new(
            CollectorNumber::parse("01234").unwrap(),
            "001",
            PaymentNumber::new(2026, 1).unwrap(),
            12_300,
        )
        .unwrap();
        assert_eq!(
            payload(&el, 12_300, Some(date!(2026 - 05 - 31))),
            "MDG-ELQR-PENDING|0|01234|001|26000000015|772821|12300|20260531"
        );
        assert!(payload(&el, 12_300, None).ends_with("|12300|-"));
    }
}
