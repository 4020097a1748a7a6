//! Fixed-length record files (全銀協 layouts and the convenience-store
//! result file): splitting a file into records of one length, with or
//! without CR/LF after each, and reading fields by byte position.
//!
//! Every error names the record's number (counted from 1, as a clerk
//! counts lines in an editor) and the field, in Japanese, since it is
//! shown to the 会計課 as it is.

use std::fmt;

/// Why a file cannot be read. `record` is the 1-based record (line)
/// number, or 0 for the file as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub record: usize,
    /// The field's Japanese name as the format names it (e.g. `金額`).
    pub field: &'static str,
    /// What is wrong, in Japanese.
    pub message: String,
}

impl FileError {
    pub fn new(record: usize, field: &'static str, message: impl Into<String>) -> Self {
        Self {
            record,
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.record == 0 {
            write!(f, "ファイル全体（{}）: {}", self.field, self.message)
        } else {
            write!(f, "{}行目（{}）: {}", self.record, self.field, self.message)
        }
    }
}

impl std::error::Error for FileError {}

/// Splits `bytes` into records of `len` bytes: one per line when the file
/// has line ends (CR/LF, LF or CR), else back to back. A trailing EOF mark
/// (0x1A) is ignored. Every record must have exactly `len` bytes.
pub fn records(bytes: &[u8], len: usize) -> Result<Vec<&[u8]>, FileError> {
    let mut bytes = bytes;
    while let [rest @ .., 0x1a] = bytes {
        bytes = rest;
    }
    if bytes.is_empty() {
        return Err(FileError::new(0, "レコード", "ファイルが空です"));
    }
    let mut out = Vec::with_capacity(bytes.len() / len + 1);
    if bytes.iter().any(|&b| b == b'\n' || b == b'\r') {
        let mut rest = bytes;
        while !rest.is_empty() {
            let end = rest
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .unwrap_or(rest.len());
            let line = &rest[..end];
            let next = match rest.get(end..end + 2) {
                Some(b"\r\n") => end + 2,
                _ => (end + 1).min(rest.len()),
            };
            rest = &rest[next..];
            if line.is_empty() && rest.is_empty() {
                break;
            }
            check_len(line, len, out.len() + 1)?;
            out.push(line);
        }
    } else {
        for chunk in bytes.chunks(len) {
            check_len(chunk, len, out.len() + 1)?;
            out.push(chunk);
        }
    }
    Ok(out)
}

fn check_len(record: &[u8], len: usize, n: usize) -> Result<(), FileError> {
    if record.len() != len {
        return Err(FileError::new(
            n,
            "レコード長",
            format!(
                "レコードの長さが{}バイトです（{len}バイトでなければなりません）",
                record.len()
            ),
        ));
    }
    Ok(())
}

/// One record with its number, for reading fields by 1-based byte position
/// as the format tables give them.
pub struct Record<'a> {
    pub bytes: &'a [u8],
    pub n: usize,
}

impl<'a> Record<'a> {
    /// Checks that the whole record is Shift_JIS (JIS X 0208 / X 0201 as
    /// Windows-31J), so that mojibake is refused before any field is read.
    pub fn check_sjis(&self) -> Result<(), FileError> {
        let had_errors = encoding_rs::SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(self.bytes)
            .is_none();
        if had_errors {
            let at = first_bad_sjis(self.bytes);
            return Err(FileError::new(
                self.n,
                "文字コード",
                format!(
                    "{at}バイト目がShift_JISとして読めません（文字化けしたファイルか、別の文字コードのファイルです）"
                ),
            ));
        }
        Ok(())
    }

    fn field(&self, from: usize, len: usize) -> &'a [u8] {
        &self.bytes[from - 1..from - 1 + len]
    }

    /// A numeric field (N): digits only.
    pub fn digits(
        &self,
        from: usize,
        len: usize,
        name: &'static str,
    ) -> Result<&'a str, FileError> {
        let f = self.field(from, len);
        if !f.iter().all(u8::is_ascii_digit) {
            return Err(FileError::new(
                self.n,
                name,
                format!("数字でない文字があります（{}バイト目から{len}桁）", from),
            ));
        }
        Ok(std::str::from_utf8(f).expect("ascii digits"))
    }

    /// A numeric field read as a number.
    pub fn number(&self, from: usize, len: usize, name: &'static str) -> Result<u64, FileError> {
        let d = self.digits(from, len, name)?;
        Ok(d.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')))
    }

    /// A character field (C): half-width characters only (ASCII and
    /// half-width kana), decoded, with the trailing spaces removed. A
    /// double-byte character here is mojibake or a full-width character
    /// the format does not allow.
    pub fn text(&self, from: usize, len: usize, name: &'static str) -> Result<String, FileError> {
        let f = self.field(from, len);
        if let Some(i) = f
            .iter()
            .position(|&b| !(0x20..=0x7e).contains(&b) && !(0xa1..=0xdf).contains(&b))
        {
            return Err(FileError::new(
                self.n,
                name,
                format!(
                    "半角文字でない文字があります（{}バイト目）。全角文字か文字化けです",
                    from + i
                ),
            ));
        }
        let (s, _) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(f);
        Ok(s.trim_end_matches(' ').to_string())
    }

    /// The record's kind (データ区分, its first byte).
    pub fn kind(&self) -> u8 {
        self.bytes[0]
    }
}

/// The 1-based position of the first byte that is not Shift_JIS.
fn first_bad_sjis(bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let lead = (0x81..=0x9f).contains(&b) || (0xe0..=0xfc).contains(&b);
        if lead {
            let ok = bytes
                .get(i..i + 2)
                .and_then(|pair| {
                    encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(pair)
                })
                .is_some();
            if !ok {
                return i + 1;
            }
            i += 2;
        } else {
            let ok = encoding_rs::SHIFT_JIS
                .decode_without_bom_handling_and_without_replacement(&bytes[i..i + 1])
                .is_some();
            if !ok {
                return i + 1;
            }
            i += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_with_and_without_line_ends() {
        let a = [b'1'; 4];
        let b = [b'2'; 4];
        let plain: Vec<u8> = [a, b].concat();
        assert_eq!(records(&plain, 4).unwrap(), vec![&a[..], &b[..]]);
        let crlf = b"1111\r\n2222\r\n";
        assert_eq!(records(crlf, 4).unwrap(), vec![&a[..], &b[..]]);
        let lf = b"1111\n2222";
        assert_eq!(records(lf, 4).unwrap(), vec![&a[..], &b[..]]);
        let eof = b"1111\r\n2222\r\n\x1a";
        assert_eq!(records(eof, 4).unwrap().len(), 2);
    }

    #[test]
    fn a_short_record_is_named_by_its_number() {
        let e = records(b"1111\r\n222\r\n3333\r\n", 4).unwrap_err();
        assert_eq!(e.record, 2);
        assert_eq!(e.field, "レコード長");
        assert_eq!(
            e.to_string(),
            "2行目（レコード長）: レコードの長さが3バイトです（4バイトでなければなりません）"
        );
        let e = records(b"11112222333", 4).unwrap_err();
        assert_eq!(e.record, 3);
        let e = records(b"", 4).unwrap_err();
        assert_eq!(e.record, 0);
    }

    #[test]
    fn mojibake_and_full_width_are_refused() {
        // 0x81 0x20 is a lead byte without a valid trail byte.
        let r = Record {
            bytes: b"ab\x81\x20cd",
            n: 7,
        };
        let e = r.check_sjis().unwrap_err();
        assert_eq!((e.record, e.field), (7, "文字コード"));
        assert!(e.message.starts_with("3バイト目"), "{}", e.message);
        // "ア" in UTF-8 happens to be valid Shift_JIS, but not half-width.
        let utf8 = "ｱｲ ア".as_bytes();
        let r = Record { bytes: utf8, n: 3 };
        let e = r.text(1, utf8.len(), "振込依頼人名").unwrap_err();
        assert_eq!((e.record, e.field), (3, "振込依頼人名"));
        // Half-width kana in Shift_JIS read back as such.
        let sjis = [0xd6, 0xc2, 0xb6, 0xb2, 0xc4, 0xde, 0xb3, b' ', b' '];
        let r = Record { bytes: &sjis, n: 1 };
        assert!(r.check_sjis().is_ok());
        assert_eq!(r.text(1, sjis.len(), "名").unwrap(), "ﾖﾂｶｲﾄﾞｳ");
    }

    #[test]
    fn numbers_are_digits_only() {
        let r = Record {
            bytes: b"2000123 45",
            n: 5,
        };
        assert_eq!(r.number(1, 7, "金額").unwrap(), 2_000_123);
        let e = r.number(4, 7, "金額").unwrap_err();
        assert_eq!((e.record, e.field), (5, "金額"));
    }
}
