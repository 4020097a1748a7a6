//! The convenience-store result file (収納データ): what a 収納代行
//! (collection agent) reports for the slips paid at convenience stores'
//! tills, first as 速報 (the day's preliminary report) and later as 確報
//! (the confirmed report, on which the money is transferred).
//!
//! **Layouts differ per 収納代行**: each agent defines its own. This is
//! the one madoguchi reads (a municipality's agent is asked for it, or a
//! converter in front of madoguchi produces it). It follows the 全銀協
//! conventions (fixed 120-byte records, Shift_JIS, N right-aligned with
//! zeros, C left-aligned with spaces, CR/LF optional; header 1, data 2,
//! trailer 8, end 9) and carries, for each payment, the 44 digits of the
//! GS1-128 barcode read at the till (標準料金代理収納), the date and time
//! paid, and the agent's receipt number for the payment (the same number
//! in 速報 and 確報, which is how the second report of one payment is
//! recognised and counted once):
//!
//! | record | positions (bytes) |
//! |---|---|
//! | header `1` | データ区分 1, 速報確報区分 2 (`1` 速報, `2` 確報), 作成日 3-10 (YYYYMMDD), 収納代行コード 11-15, 収納代行名 16-45, ダミー 46-120 |
//! | data `2` | データ区分 1, バーコード情報 2-45 (44 digits), 収納日 46-53 (YYYYMMDD), 収納時刻 54-57 (HHMM), 店舗コード 58-65, 収納受付番号 66-85, ダミー 86-120 |
//! | trailer `8` | データ区分 1, 件数 2-9, 金額合計 10-21, ダミー 22-120 |
//! | end `9` | データ区分 1, ダミー 2-120 |
//!
//! The barcode's 44 digits are `91` (AI), 請求書発行企業コード (6),
//! 自由使用欄 (21), 再発行区分 (1), 支払期限 YYMMDD (6, `999999` none),
//! 印紙フラグ (1), 金額 (6) and a modulus-10 check digit (weights 3 and 1
//! from the right). madoguchi's slips put the 納付番号 in the first 11
//! digits of the 自由使用欄, then the 納付区分 (3) and 7 zeros
//! (`payments::gs1`, which prints them).

use time::{Date, Month};

use crate::fixed::{self, FileError, Record};

pub const RECORD_LEN: usize = 120;

/// Which report a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// 速報
    Preliminary,
    /// 確報
    Confirmed,
}

impl Report {
    pub fn as_str(self) -> &'static str {
        match self {
            Report::Preliminary => "preliminary",
            Report::Confirmed => "confirmed",
        }
    }
}

/// The barcode's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Barcode {
    pub company_code: String,
    pub free_field: String,
    pub reissue: u8,
    /// `None` for `999999`.
    pub pay_by: Option<Date>,
    pub stamp_flag: u8,
    pub amount: u64,
}

impl Barcode {
    /// The 納付番号 madoguchi put in the 自由使用欄, if it is laid out as
    /// ours (`payments::gs1`: 11 digits, the 納付区分, 7 zeros).
    pub fn payment_number_digits(&self) -> Option<&str> {
        crate::gs1::payment_number_in(&self.free_field)
    }
}

pub use crate::gs1::check_digit;

/// One payment reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub record: usize,
    pub barcode: Barcode,
    /// The 44 digits as read.
    pub barcode_digits: String,
    pub paid_on: Date,
    /// HHMM.
    pub paid_at: String,
    pub store_code: String,
    /// 収納受付番号: the agent's number for this payment.
    pub receipt_number: String,
}

/// A whole result file, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultFile {
    pub report: Report,
    pub created_on: Date,
    pub agent_code: String,
    pub agent_name: String,
    pub payments: Vec<Payment>,
    pub records: usize,
}

fn ymd(r: &Record<'_>, from: usize, name: &'static str) -> Result<Date, FileError> {
    let d = r.digits(from, 8, name)?;
    let y: i32 = d[..4].parse().expect("digits");
    let m: u8 = d[4..6].parse().expect("digits");
    let day: u8 = d[6..].parse().expect("digits");
    Month::try_from(m)
        .ok()
        .and_then(|m| Date::from_calendar_date(y, m, day).ok())
        .ok_or_else(|| {
            FileError::new(
                r.n,
                name,
                format!("日付「{d}」が正しくありません（YYYYMMDD）"),
            )
        })
}

fn barcode(r: &Record<'_>) -> Result<(Barcode, String), FileError> {
    const NAME: &str = "バーコード情報";
    let d = r.digits(2, 44, NAME)?;
    if !d.starts_with("91") {
        return Err(FileError::new(
            r.n,
            NAME,
            "バーコード情報がAI「91」で始まっていません",
        ));
    }
    let cd = check_digit(&d[..43]);
    if d.as_bytes()[43] - b'0' != cd {
        return Err(FileError::new(
            r.n,
            NAME,
            format!(
                "バーコード情報のチェックデジットが合いません（{}、正しくは{cd}）",
                &d[43..]
            ),
        ));
    }
    let pay_by = match &d[30..36] {
        "999999" => None,
        s => {
            let n = |i: usize| s[i..i + 2].parse::<u8>().expect("digits");
            Some(
                Month::try_from(n(2))
                    .ok()
                    .and_then(|m| Date::from_calendar_date(2000 + i32::from(n(0)), m, n(4)).ok())
                    .ok_or_else(|| {
                        FileError::new(r.n, NAME, format!("支払期限「{s}」が正しくありません"))
                    })?,
            )
        }
    };
    let amount: u64 = d[37..43].parse().expect("digits");
    if amount == 0 {
        return Err(FileError::new(r.n, NAME, "金額が0円です"));
    }
    Ok((
        Barcode {
            company_code: d[2..8].to_string(),
            free_field: d[8..29].to_string(),
            reissue: d.as_bytes()[29] - b'0',
            pay_by,
            stamp_flag: d.as_bytes()[36] - b'0',
            amount,
        },
        d.to_string(),
    ))
}

fn payment(r: &Record<'_>) -> Result<Payment, FileError> {
    let (barcode, digits) = barcode(r)?;
    let paid_at = r.digits(54, 4, "収納時刻")?;
    if paid_at[..2] > *"23" || paid_at[2..] > *"59" {
        return Err(FileError::new(
            r.n,
            "収納時刻",
            format!("時刻「{paid_at}」が正しくありません（HHMM）"),
        ));
    }
    let receipt_number = r.text(66, 20, "収納受付番号")?;
    if receipt_number.trim().is_empty() {
        return Err(FileError::new(r.n, "収納受付番号", "収納受付番号が空です"));
    }
    Ok(Payment {
        record: r.n,
        barcode,
        barcode_digits: digits,
        paid_on: ymd(r, 46, "収納日")?,
        paid_at: paid_at.to_string(),
        store_code: r.text(58, 8, "店舗コード")?,
        receipt_number,
    })
}

/// Reads and checks a whole result file.
pub fn parse(bytes: &[u8]) -> Result<ResultFile, FileError> {
    let records = fixed::records(bytes, RECORD_LEN)?;
    let last = records.len();
    let rec = |i: usize| Record {
        bytes: records[i],
        n: i + 1,
    };
    for i in 0..last {
        rec(i).check_sjis()?;
    }
    let expect = |r: &Record<'_>, kind: u8, what: &str| {
        if r.kind() == kind {
            Ok(())
        } else {
            Err(FileError::new(
                r.n,
                "データ区分",
                format!(
                    "データ区分が「{}」です。ここには{what}が来なければなりません",
                    char::from(r.kind())
                ),
            ))
        }
    };
    let h = rec(0);
    expect(&h, b'1', "ヘッダー・レコード（1）")?;
    if last < 3 {
        return Err(FileError::new(
            last,
            "データ区分",
            "トレーラ・レコード（8）とエンド・レコード（9）がありません",
        ));
    }
    let report = match h.digits(2, 1, "速報確報区分")? {
        "1" => Report::Preliminary,
        "2" => Report::Confirmed,
        other => {
            return Err(FileError::new(
                1,
                "速報確報区分",
                format!("速報確報区分「{other}」は読めません（1 速報、2 確報）"),
            ))
        }
    };
    let mut payments = Vec::with_capacity(last.saturating_sub(3));
    for i in 1..last - 2 {
        let r = rec(i);
        expect(&r, b'2', "データ・レコード（2）かトレーラ・レコード（8）")?;
        payments.push(payment(&r)?);
    }
    let t = rec(last - 2);
    expect(&t, b'8', "トレーラ・レコード（8）")?;
    expect(&rec(last - 1), b'9', "エンド・レコード（9）")?;
    let count = t.number(2, 8, "件数")?;
    let total = t.number(10, 12, "金額合計")?;
    let found: u64 = payments.iter().map(|p| p.barcode.amount).sum();
    if count != payments.len() as u64 {
        return Err(FileError::new(
            t.n,
            "件数",
            format!(
                "トレーラの件数は{count}件ですが、データ・レコードでは{}件です",
                payments.len()
            ),
        ));
    }
    if total != found {
        return Err(FileError::new(
            t.n,
            "金額合計",
            format!("トレーラの金額合計は{total}円ですが、データ・レコードでは{found}円です"),
        ));
    }
    Ok(ResultFile {
        report,
        created_on: ymd(&h, 3, "作成日")?,
        agent_code: h.digits(11, 5, "収納代行コード")?.to_string(),
        agent_name: h.text(16, 30, "収納代行名")?,
        payments,
        records: last,
    })
}

/// Writes result files in this layout: for tests, the bench and
/// demonstrations.
pub mod write {
    use super::*;

    /// The 44 barcode digits for `payment_number` (11 digits, 納付区分 000)
    /// and `amount`, laid out as `payments::gs1` prints them.
    pub fn barcode(
        company: &str,
        payment_number: &str,
        pay_by: Option<Date>,
        amount: u64,
    ) -> String {
        let due = pay_by.map_or("999999".to_string(), |d| {
            format!(
                "{:02}{:02}{:02}",
                d.year() % 100,
                u8::from(d.month()),
                d.day()
            )
        });
        let base = format!(
            "91{company:0>6}{payment_number:0>11}0000000000{reissue}{due}0{amount:06}",
            reissue = 0
        );
        format!("{base}{}", check_digit(&base))
    }

    /// A payment to write.
    #[derive(Clone, Debug)]
    pub struct Paid {
        pub barcode: String,
        pub paid_on: Date,
        pub receipt_number: String,
    }

    pub fn file(report: Report, created: Date, paid: &[Paid], crlf: bool) -> Vec<u8> {
        let ymd = |d: Date| format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day());
        let mut out = Vec::with_capacity((paid.len() + 3) * (RECORD_LEN + 2));
        let mut push = |s: String| {
            let mut b = s.into_bytes();
            b.resize(RECORD_LEN, b' ');
            out.extend(b);
            if crlf {
                out.extend_from_slice(b"\r\n");
            }
        };
        let kind = match report {
            Report::Preliminary => '1',
            Report::Confirmed => '2',
        };
        push(format!(
            "1{kind}{}12345{:<30}",
            ymd(created),
            "SHUNO DAIKO DEMO"
        ));
        let mut total = 0u64;
        for p in paid {
            total += p.barcode[37..43].parse::<u64>().unwrap_or(0);
            push(format!(
                "2{}{}1015{:<8}{:<20}",
                p.barcode,
                ymd(p.paid_on),
                "S0001",
                p.receipt_number
            ));
        }
        push(format!("8{:08}{total:012}", paid.len()));
        push("9".to_string());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::write::{barcode, file, Paid};
    use super::*;
    use time::macros::date;

    fn sample() -> Vec<u8> {
        file(
            Report::Preliminary,
            date!(2026 - 07 - 21),
            &[
                Paid {
                    barcode: barcode("912345", "26000000017", Some(date!(2026 - 07 - 31)), 12_300),
                    paid_on: date!(2026 - 07 - 20),
                    receipt_number: "R0000001".into(),
                },
                Paid {
                    barcode: barcode("912345", "26000000025", None, 4_500),
                    paid_on: date!(2026 - 07 - 21),
                    receipt_number: "R0000002".into(),
                },
            ],
            true,
        )
    }

    #[test]
    fn reads_a_result_file() {
        let f = parse(&sample()).unwrap();
        assert_eq!(f.report, Report::Preliminary);
        assert_eq!(f.records, 5);
        assert_eq!(f.payments.len(), 2);
        let p = &f.payments[0];
        assert_eq!(p.record, 2);
        assert_eq!(p.barcode_digits.len(), 44);
        assert_eq!(p.barcode.amount, 12_300);
        assert_eq!(p.barcode.company_code, "912345");
        assert_eq!(p.barcode.pay_by, Some(date!(2026 - 07 - 31)));
        assert_eq!(p.barcode.payment_number_digits(), Some("26000000017"));
        assert_eq!(p.paid_on, date!(2026 - 07 - 20));
        assert_eq!(p.receipt_number, "R0000001");
        assert_eq!(f.payments[1].barcode.pay_by, None);
    }

    #[test]
    fn check_digit_vectors() {
        // GS1 general specification example (GTIN-13 4901234567894).
        assert_eq!(check_digit("490123456789"), 4);
        assert_eq!(check_digit("629104150021"), 3);
        let b = barcode("912345", "26000000017", None, 300);
        assert_eq!(b.len(), 44);
        assert_eq!(check_digit(&b[..43]), b.as_bytes()[43] - b'0');
    }

    fn set(bytes: &mut [u8], record: usize, from: usize, value: &[u8]) {
        let at = (record - 1) * (RECORD_LEN + 2) + from - 1;
        bytes[at..at + value.len()].copy_from_slice(value);
    }

    #[test]
    fn faults_name_their_record_and_field() {
        let mut f = sample();
        // A changed digit breaks the check digit.
        set(&mut f, 3, 20, b"9");
        let e = parse(&f).unwrap_err();
        assert_eq!((e.record, e.field), (3, "バーコード情報"));
        let mut f = sample();
        set(&mut f, 4, 10, b"000000016801");
        let e = parse(&f).unwrap_err();
        assert_eq!((e.record, e.field), (4, "金額合計"));
        let mut f = sample();
        set(&mut f, 2, 70, &[0xff]);
        let e = parse(&f).unwrap_err();
        assert_eq!((e.record, e.field), (2, "文字コード"));
        let mut f = sample();
        set(&mut f, 1, 2, b"3");
        assert_eq!(parse(&f).unwrap_err().field, "速報確報区分");
        let f = sample();
        let short = [&f[..122], &f[122..200], &f[244..]].concat();
        let e = parse(&short).unwrap_err();
        assert_eq!((e.record, e.field), (2, "レコード長"));
    }
}
