//! 振込入金通知 (notice of incoming transfers) in the 全銀協 layout: the
//! file a bank sends the municipality with every transfer credited to its
//! account, read into typed records.
//!
//! The layout (全銀協制定フォーマット, 200-byte records, JIS (Shift_JIS)
//! code, with or without CR/LF after each record; N = digits, right-aligned
//! with leading zeros; C = half-width characters, left-aligned with
//! trailing spaces; dates are 和暦 YYMMDD):
//!
//! | record | positions (bytes) |
//! |---|---|
//! | header `1` | データ区分 1, 種別コード 2-3 (`01`), コード区分 4 (`0` JIS), 作成日 5-10, 勘定日(自) 11-16, 勘定日(至) 17-22, 銀行コード 23-26, 銀行名 27-41, 支店コード 42-44, 支店名 45-59, 預金種目 60, 口座番号 61-67, 口座名 68-107, ダミー 108-200 |
//! | data `2` | データ区分 1, 照会番号 2-7, 勘定日 8-13, 起算日 14-19, 金額 20-29, うち他店券金額 30-39, 振込依頼人コード 40-49, 振込依頼人名 50-97, 仕向銀行名 98-112, 仕向支店名 113-127, 取消区分 128, EDI情報 129-148, ダミー 149-200 |
//! | trailer `8` | データ区分 1, 振込件数 2-7, 振込金額合計 8-19, 取消件数 20-25, 取消金額合計 26-37, ダミー 38-200 |
//! | end `9` | データ区分 1, ダミー 2-200 |
//!
//! A file is one or more accounts (header, data…, trailer) followed by one
//! end record. Everything is checked before anything is returned: every
//! record's length and encoding, the order of the records, every field,
//! and each trailer's counts and totals against its data records (振込件数
//! and 振込金額合計 over the records with 取消区分 blank or `0`, 取消件数
//! and 取消金額合計 over those with `1`).
//!
//! 和暦 years are read as 令和 (a notice dated before 令和 is not
//! expected any more).

use time::{Date, Month};

use crate::fixed::{self, FileError, Record};

/// The record length.
pub const RECORD_LEN: usize = 200;

/// The account a notice is for (ヘッダー・レコード).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub record: usize,
    pub created_on: Date,
    pub booked_from: Date,
    pub booked_to: Date,
    pub bank_code: String,
    pub bank_name: String,
    pub branch_code: String,
    pub branch_name: String,
    /// 預金種目: 1 普通, 2 当座, 4 貯蓄.
    pub account_type: u8,
    pub account_number: String,
    pub account_name: String,
}

/// One transfer credited (データ・レコード).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// The record's number in the file (1-based).
    pub record: usize,
    /// 照会番号: the bank's number for this credit, unique per account and
    /// 勘定日.
    pub inquiry_number: String,
    pub booked_on: Date,
    pub value_date: Date,
    pub amount: u64,
    pub other_bank_cheques: u64,
    pub requester_code: String,
    /// 振込依頼人名 (half-width kana as the bank sent it).
    pub requester_name: String,
    pub from_bank: String,
    pub from_branch: String,
    /// 取消区分 `1`: the bank takes back an earlier notice.
    pub cancelled: bool,
    /// EDI情報 (20 characters the payer's bank forwarded).
    pub edi: String,
}

/// The trailer's counts and totals (トレーラ・レコード).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trailer {
    pub record: usize,
    pub count: u64,
    pub total: u64,
    pub cancelled_count: u64,
    pub cancelled_total: u64,
}

/// One account's notice: header, transfers, trailer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub header: Header,
    pub transfers: Vec<Transfer>,
    pub trailer: Trailer,
}

/// A whole 振込入金通知 file, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub accounts: Vec<Account>,
    /// The number of records (the end record's number).
    pub records: usize,
}

impl Notice {
    pub fn transfers(&self) -> impl Iterator<Item = &Transfer> {
        self.accounts.iter().flat_map(|a| a.transfers.iter())
    }
}

/// A 和暦 (令和) YYMMDD date field.
fn wareki_date(r: &Record<'_>, from: usize, name: &'static str) -> Result<Date, FileError> {
    let d = r.digits(from, 6, name)?;
    let n = |i: usize| d[i..i + 2].parse::<u8>().expect("digits");
    let year = 2018 + i32::from(n(0));
    Month::try_from(n(2))
        .ok()
        .and_then(|m| Date::from_calendar_date(year, m, n(4)).ok())
        .filter(|&date| date >= jp::Era::Reiwa.first_day())
        .ok_or_else(|| {
            FileError::new(
                r.n,
                name,
                format!("日付「{d}」が正しくありません（和暦 令和YYMMDD）"),
            )
        })
}

fn header(r: &Record<'_>) -> Result<Header, FileError> {
    let kind = r.digits(2, 2, "種別コード")?;
    if kind != "01" {
        return Err(FileError::new(
            r.n,
            "種別コード",
            format!("種別コードが「{kind}」です。振込入金通知（01）のファイルではありません"),
        ));
    }
    if r.digits(4, 1, "コード区分")? != "0" {
        return Err(FileError::new(
            r.n,
            "コード区分",
            "コード区分がJIS（0）ではありません（EBCDICのファイルは読めません）",
        ));
    }
    let account_type = r.number(60, 1, "預金種目")? as u8;
    Ok(Header {
        record: r.n,
        created_on: wareki_date(r, 5, "作成日")?,
        booked_from: wareki_date(r, 11, "勘定日（自）")?,
        booked_to: wareki_date(r, 17, "勘定日（至）")?,
        bank_code: r.digits(23, 4, "銀行コード")?.to_string(),
        bank_name: r.text(27, 15, "銀行名")?,
        branch_code: r.digits(42, 3, "支店コード")?.to_string(),
        branch_name: r.text(45, 15, "支店名")?,
        account_type,
        account_number: r.digits(61, 7, "口座番号")?.to_string(),
        account_name: r.text(68, 40, "口座名")?,
    })
}

fn transfer(r: &Record<'_>) -> Result<Transfer, FileError> {
    let booked_on = wareki_date(r, 8, "勘定日")?;
    let value_date = if r.digits(14, 6, "起算日")? == "000000" {
        booked_on
    } else {
        wareki_date(r, 14, "起算日")?
    };
    let amount = r.number(20, 10, "金額")?;
    if amount == 0 {
        return Err(FileError::new(r.n, "金額", "金額が0円です"));
    }
    let cancelled = match r.text(128, 1, "取消区分")?.as_str() {
        "" | "0" => false,
        "1" => true,
        other => {
            return Err(FileError::new(
                r.n,
                "取消区分",
                format!("取消区分「{other}」は読めません（空白・0・1のいずれか）"),
            ))
        }
    };
    Ok(Transfer {
        record: r.n,
        inquiry_number: r.digits(2, 6, "照会番号")?.to_string(),
        booked_on,
        value_date,
        amount,
        other_bank_cheques: r.number(30, 10, "うち他店券金額")?,
        requester_code: r.digits(40, 10, "振込依頼人コード")?.to_string(),
        requester_name: r.text(50, 48, "振込依頼人名")?,
        from_bank: r.text(98, 15, "仕向銀行名")?,
        from_branch: r.text(113, 15, "仕向支店名")?,
        cancelled,
        edi: r.text(129, 20, "EDI情報")?,
    })
}

fn trailer(r: &Record<'_>) -> Result<Trailer, FileError> {
    Ok(Trailer {
        record: r.n,
        count: r.number(2, 6, "振込件数")?,
        total: r.number(8, 12, "振込金額合計")?,
        cancelled_count: r.number(20, 6, "取消件数")?,
        cancelled_total: r.number(26, 12, "取消金額合計")?,
    })
}

/// Checks a trailer against the transfers it closes.
fn check_trailer(t: &Trailer, transfers: &[Transfer]) -> Result<(), FileError> {
    let (mut count, mut total, mut c_count, mut c_total) = (0u64, 0u64, 0u64, 0u64);
    for x in transfers {
        if x.cancelled {
            c_count += 1;
            c_total += x.amount;
        } else {
            count += 1;
            total += x.amount;
        }
    }
    let checks: [(&'static str, u64, u64, &str); 4] = [
        ("振込件数", t.count, count, "件"),
        ("振込金額合計", t.total, total, "円"),
        ("取消件数", t.cancelled_count, c_count, "件"),
        ("取消金額合計", t.cancelled_total, c_total, "円"),
    ];
    for (name, said, found, unit) in checks {
        if said != found {
            return Err(FileError::new(
                t.record,
                name,
                format!(
                    "トレーラの{name}は{said}{unit}ですが、データ・レコードでは{found}{unit}です"
                ),
            ));
        }
    }
    Ok(())
}

fn order_error(n: usize, found: u8, expected: &str) -> FileError {
    FileError::new(
        n,
        "データ区分",
        format!(
            "データ区分が「{}」です。ここには{expected}が来なければなりません",
            char::from(found)
        ),
    )
}

/// Reads and checks a whole 振込入金通知 file.
pub fn parse(bytes: &[u8]) -> Result<Notice, FileError> {
    let records = fixed::records(bytes, RECORD_LEN)?;
    let mut accounts = Vec::new();
    let mut open: Option<(Header, Vec<Transfer>)> = None;
    let mut ended = false;
    for (i, bytes) in records.iter().enumerate() {
        let r = Record { bytes, n: i + 1 };
        r.check_sjis()?;
        if ended {
            return Err(FileError::new(
                r.n,
                "データ区分",
                "エンド・レコード（9）の後にレコードがあります",
            ));
        }
        match (r.kind(), open.as_mut()) {
            (b'1', None) => open = Some((header(&r)?, Vec::new())),
            (b'2', Some((_, transfers))) => transfers.push(transfer(&r)?),
            (b'8', Some(_)) => {
                let t = trailer(&r)?;
                let (header, transfers) = open.take().expect("open account");
                check_trailer(&t, &transfers)?;
                accounts.push(Account {
                    header,
                    transfers,
                    trailer: t,
                });
            }
            (b'9', None) if !accounts.is_empty() => ended = true,
            (k, None) if accounts.is_empty() => {
                return Err(order_error(r.n, k, "ヘッダー・レコード（1）"))
            }
            (k, None) => {
                return Err(order_error(
                    r.n,
                    k,
                    "ヘッダー・レコード（1）かエンド・レコード（9）",
                ))
            }
            (k, Some(_)) => {
                return Err(order_error(
                    r.n,
                    k,
                    "データ・レコード（2）かトレーラ・レコード（8）",
                ))
            }
        }
    }
    if !ended {
        let n = records.len();
        let what = if open.is_some() {
            "トレーラ・レコード（8）とエンド・レコード（9）がありません"
        } else {
            "エンド・レコード（9）がありません"
        };
        return Err(FileError::new(n, "データ区分", what));
    }
    Ok(Notice {
        accounts,
        records: records.len(),
    })
}

/// Writes 振込入金通知 files in the same layout: for tests, the bench
/// and demonstrations (madoguchi never sends one).
pub mod write {
    use super::*;

    /// A transfer to write.
    #[derive(Clone, Debug)]
    pub struct Credit {
        pub inquiry_number: u32,
        pub amount: u64,
        /// Half-width (ASCII or half-width kana) only.
        pub requester_name: String,
        pub edi: String,
        pub cancelled: bool,
    }

    fn yymmdd(d: Date) -> String {
        format!(
            "{:02}{:02}{:02}",
            d.year() - 2018,
            u8::from(d.month()),
            d.day()
        )
    }

    /// `s` in Shift_JIS padded with spaces to `len` bytes (cut if longer).
    fn c(s: &str, len: usize) -> Vec<u8> {
        let (b, _, _) = encoding_rs::SHIFT_JIS.encode(s);
        let mut v = b.into_owned();
        v.truncate(len);
        v.resize(len, b' ');
        v
    }

    fn pad(mut v: Vec<u8>) -> Vec<u8> {
        v.resize(RECORD_LEN, b' ');
        v
    }

    /// One account's notice booked on `day`, with CR/LF after each record
    /// when `crlf`.
    pub fn notice(day: Date, credits: &[Credit], crlf: bool) -> Vec<u8> {
        accounts(day, &[credits], crlf)
    }

    /// A notice for several accounts (account numbers 0123456, 0123457 …),
    /// each with its own transfers (at most 999,999: the trailer's count
    /// has six digits).
    pub fn accounts(day: Date, accounts: &[&[Credit]], crlf: bool) -> Vec<u8> {
        let records: usize = accounts.iter().map(|a| a.len() + 2).sum::<usize>() + 1;
        let mut out = Vec::with_capacity(records * (RECORD_LEN + 2));
        let eol = |out: &mut Vec<u8>| {
            if crlf {
                out.extend_from_slice(b"\r\n");
            }
        };
        for (i, credits) in accounts.iter().enumerate() {
            assert!(
                credits.len() < 1_000_000,
                "at most 999,999 transfers per account"
            );
            let mut h = format!("1010{d}{d}{d}0001", d = yymmdd(day)).into_bytes();
            h.extend(c("ﾐﾄﾞﾘｷﾞﾝｺｳ", 15));
            h.extend(b"001");
            h.extend(c("ﾎﾝﾃﾝ", 15));
            h.extend(format!("1{:07}", 123_456 + i).into_bytes());
            h.extend(c("ﾖﾂｶｲﾄﾞｳｼｶｲｹｲｶﾝﾘｼｬ", 40));
            out.extend(pad(h));
            eol(&mut out);
            let (mut n, mut total, mut cn, mut ct) = (0u64, 0u64, 0u64, 0u64);
            for x in credits.iter() {
                let mut r = format!(
                    "2{:06}{d}{d}{:010}{:010}{:010}",
                    x.inquiry_number % 1_000_000,
                    x.amount,
                    0,
                    0,
                    d = yymmdd(day)
                )
                .into_bytes();
                r.extend(c(&x.requester_name, 48));
                r.extend(c("ｻｸﾗｷﾞﾝｺｳ", 15));
                r.extend(c("ﾖﾂｶｲﾄﾞｳ", 15));
                r.push(if x.cancelled { b'1' } else { b' ' });
                r.extend(c(&x.edi, 20));
                out.extend(pad(r));
                eol(&mut out);
                if x.cancelled {
                    cn += 1;
                    ct += x.amount;
                } else {
                    n += 1;
                    total += x.amount;
                }
            }
            out.extend(pad(
                format!("8{n:06}{total:012}{cn:06}{ct:012}").into_bytes()
            ));
            eol(&mut out);
        }
        out.extend(pad(b"9".to_vec()));
        eol(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::write::{notice, Credit};
    use super::*;
    use time::macros::date;

    fn credit(n: u32, amount: u64, name: &str) -> Credit {
        Credit {
            inquiry_number: n,
            amount,
            requester_name: name.into(),
            edi: String::new(),
            cancelled: false,
        }
    }

    fn sample(crlf: bool) -> Vec<u8> {
        notice(
            date!(2026 - 07 - 21),
            &[
                credit(1, 12_300, "26000000017 ﾖﾂｶｲﾄﾞｳ ﾊﾅｺ"),
                Credit {
                    edi: "26000000025".into(),
                    ..credit(2, 4_500, "ｶ)ﾖﾂｶｲﾄﾞｳｼｮｳｼﾞ")
                },
            ],
            crlf,
        )
    }

    #[test]
    fn reads_a_notice_with_and_without_line_ends() {
        for crlf in [true, false] {
            let n = parse(&sample(crlf)).unwrap();
            assert_eq!(n.records, 5);
            let a = &n.accounts[0];
            assert_eq!(a.header.booked_from, date!(2026 - 07 - 21));
            assert_eq!(a.header.bank_name, "ﾐﾄﾞﾘｷﾞﾝｺｳ");
            assert_eq!(a.header.account_number, "0123456");
            assert_eq!(a.header.account_name, "ﾖﾂｶｲﾄﾞｳｼｶｲｹｲｶﾝﾘｼｬ");
            let t: Vec<_> = n.transfers().collect();
            assert_eq!(t.len(), 2);
            assert_eq!(t[0].record, 2);
            assert_eq!(t[0].amount, 12_300);
            assert_eq!(t[0].requester_name, "26000000017 ﾖﾂｶｲﾄﾞｳ ﾊﾅｺ");
            assert_eq!(t[0].booked_on, date!(2026 - 07 - 21));
            assert_eq!(t[1].edi, "26000000025");
            assert_eq!(t[1].from_bank, "ｻｸﾗｷﾞﾝｺｳ");
            assert!(!t[1].cancelled);
            assert_eq!(a.trailer.total, 16_800);
        }
    }

    fn set(bytes: &mut [u8], record: usize, from: usize, value: &[u8]) {
        let at = (record - 1) * (RECORD_LEN + 2) + from - 1;
        bytes[at..at + value.len()].copy_from_slice(value);
    }

    #[test]
    fn a_wrong_trailer_total_names_the_trailer() {
        let mut f = sample(true);
        set(&mut f, 4, 8, b"000000016801");
        let e = parse(&f).unwrap_err();
        assert_eq!((e.record, e.field), (4, "振込金額合計"));
        assert_eq!(
            e.to_string(),
            "4行目（振込金額合計）: トレーラの振込金額合計は16801円ですが、データ・レコードでは16800円です"
        );
        let mut f = sample(true);
        set(&mut f, 4, 2, b"000003");
        let e = parse(&f).unwrap_err();
        assert_eq!((e.record, e.field), (4, "振込件数"));
    }

    #[test]
    fn a_short_line_names_its_record() {
        let f = sample(true);
        let mut short = f[..RECORD_LEN + 2 + 150].to_vec();
        short.extend_from_slice(b"\r\n");
        short.extend_from_slice(&f[2 * (RECORD_LEN + 2)..]);
        let e = parse(&short).unwrap_err();
        assert_eq!((e.record, e.field), (2, "レコード長"));
    }

    #[test]
    fn mojibake_names_its_record() {
        let mut f = sample(true);
        set(&mut f, 3, 60, &[0x81, 0x20]);
        let e = parse(&f).unwrap_err();
        assert_eq!((e.record, e.field), (3, "文字コード"));
        assert!(e.message.starts_with("60バイト目"), "{}", e.message);
        // A UTF-8 file: valid-looking Shift_JIS pairs, but not half-width.
        let mut f = sample(true);
        set(&mut f, 2, 50, "ア".as_bytes());
        let e = parse(&f).unwrap_err();
        assert_eq!((e.record, e.field), (2, "振込依頼人名"));
    }

    #[test]
    fn the_order_of_records_is_checked() {
        let f = sample(true);
        let rec = |i: usize| &f[(i - 1) * (RECORD_LEN + 2)..i * (RECORD_LEN + 2)];
        let no_header = [rec(2), rec(3), rec(4), rec(5)].concat();
        let e = parse(&no_header).unwrap_err();
        assert_eq!((e.record, e.field), (1, "データ区分"));
        let no_end = [rec(1), rec(2), rec(3), rec(4)].concat();
        let e = parse(&no_end).unwrap_err();
        assert_eq!(e.record, 4);
        assert_eq!(e.message, "エンド・レコード（9）がありません");
        let after_end = [rec(1), rec(2), rec(3), rec(4), rec(5), rec(2)].concat();
        assert_eq!(parse(&after_end).unwrap_err().record, 6);
        let two_accounts = [rec(1), rec(2), rec(4), rec(1), rec(3), rec(4), rec(5)].concat();
        // The first trailer says two transfers but closes one.
        let e = parse(&two_accounts).unwrap_err();
        assert_eq!((e.record, e.field), (3, "振込件数"));
    }

    #[test]
    fn fields_are_checked() {
        let mut f = sample(true);
        set(&mut f, 2, 20, b"00000X2300");
        let e = parse(&f).unwrap_err();
        assert_eq!((e.record, e.field), (2, "金額"));
        let mut f = sample(true);
        set(&mut f, 1, 2, b"03");
        assert_eq!(parse(&f).unwrap_err().field, "種別コード");
        let mut f = sample(true);
        set(&mut f, 2, 8, b"081340");
        assert_eq!(parse(&f).unwrap_err().field, "勘定日");
        let mut f = sample(true);
        set(&mut f, 3, 128, b"X");
        assert_eq!(parse(&f).unwrap_err().field, "取消区分");
    }

    #[test]
    fn several_accounts_each_with_its_trailer() {
        let a = [credit(1, 1_000, "A"), credit(2, 2_000, "B")];
        let b = [credit(1, 500, "C")];
        let f = super::write::accounts(date!(2026 - 07 - 21), &[&a, &b], true);
        let n = parse(&f).unwrap();
        assert_eq!(n.records, 8);
        assert_eq!(n.accounts.len(), 2);
        assert_eq!(n.accounts[1].header.account_number, "0123457");
        assert_eq!(n.accounts[1].transfers[0].record, 6);
        assert_eq!(n.accounts[1].trailer.total, 500);
    }

    #[test]
    fn cancellations_are_counted_apart() {
        let f = notice(
            date!(2026 - 07 - 21),
            &[
                credit(1, 1_000, "A"),
                Credit {
                    cancelled: true,
                    ..credit(2, 700, "B")
                },
            ],
            false,
        );
        let n = parse(&f).unwrap();
        let t = &n.accounts[0].trailer;
        assert_eq!(
            (t.count, t.total, t.cancelled_count, t.cancelled_total),
            (1, 1_000, 1, 700)
        );
        assert!(n.transfers().nth(1).unwrap().cancelled);
    }
}
