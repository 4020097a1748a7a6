//! A municipality's own readings of names and places (`readings` in its
//! `tenant.json`: 四街道 よつかいどう, 鹿渡 しかわたし), put over the
//! dictionary's when furigana are shown on its pages. The list is data:
//! edit `tenant.json` and load it again.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{AppResult, Db};

/// Longest surface accepted (a place name with its 町 or 地区).
const MAX_SURFACE: usize = 20;
const MAX_READING: usize = 40;

/// One name or place and how the municipality reads it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReadingOverride {
    /// As written, with at least one kanji: 鹿渡.
    pub surface: String,
    /// In hiragana: しかわたし.
    pub reading: String,
}

fn is_reading_char(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | 'ー')
}

/// Checks a list; the message names the entry and what is wrong with it.
pub fn check(list: &[ReadingOverride]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for r in list {
        let chars = r.surface.chars().count();
        if chars == 0 || chars > MAX_SURFACE || !r.surface.chars().any(jp::reading::is_kanji) {
            return Err(format!(
                "readings の surface「{}」は漢字を含む{MAX_SURFACE}文字以内で指定してください",
                r.surface
            ));
        }
        let n = r.reading.chars().count();
        if n == 0 || n > MAX_READING || !r.reading.chars().all(is_reading_char) {
            return Err(format!(
                "readings の「{}」の reading「{}」はひらがな{MAX_READING}文字以内で指定してください",
                r.surface, r.reading
            ));
        }
        if !seen.insert(r.surface.as_str()) {
            return Err(format!(
                "readings の surface「{}」が重複しています",
                r.surface
            ));
        }
    }
    Ok(())
}

/// The list as the analyser takes it.
pub fn overrides(list: &[ReadingOverride]) -> jp::reading::Overrides {
    jp::reading::Overrides::new(
        list.iter()
            .map(|r| (r.surface.as_str(), r.reading.as_str())),
    )
}

#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    readings: Vec<ReadingOverride>,
}

/// The stored list of a municipality (empty for an unknown one).
pub async fn of_tenant(db: &Db, tenant: &str) -> AppResult<jp::reading::Overrides> {
    let row = sqlx::query("SELECT profile FROM tenants WHERE tenant = $1")
        .bind(tenant)
        .fetch_optional(db.read())
        .await?;
    let Some(row) = row else {
        return Ok(jp::reading::Overrides::default());
    };
    let stored: Stored =
        serde_json::from_str(&row.get::<String, _>(0)).map_err(anyhow::Error::from)?;
    Ok(overrides(&stored.readings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(surface: &str, reading: &str) -> ReadingOverride {
        ReadingOverride {
            surface: surface.into(),
            reading: reading.into(),
        }
    }

    #[test]
    fn lists_are_checked() {
        assert_eq!(
            check(&[r("鹿渡", "しかわたし"), r("四街道", "よつかいどう")]),
            Ok(())
        );
        assert_eq!(
            check(&[r("しかわたし", "しかわたし")]),
            Err("readings の surface「しかわたし」は漢字を含む20文字以内で指定してください".into())
        );
        assert_eq!(
            check(&[r("鹿渡", "シカワタシ")]),
            Err(
                "readings の「鹿渡」の reading「シカワタシ」はひらがな40文字以内で指定してください"
                    .into()
            )
        );
        assert_eq!(
            check(&[r("鹿渡", "")]),
            Err("readings の「鹿渡」の reading「」はひらがな40文字以内で指定してください".into())
        );
        assert_eq!(
            check(&[r("鹿渡", "しかわたし"), r("鹿渡", "かど")]),
            Err("readings の surface「鹿渡」が重複しています".into())
        );
    }

    #[test]
    fn the_list_wins_over_the_dictionary() {
        let o = overrides(&[r("内部地区", "うつべちく")]);
        let read = |o: &jp::reading::Overrides, s: &str| -> String {
            jp::reading::ruby_with(s, o)
                .into_iter()
                .map(|p| p.rt.unwrap_or(p.base))
                .collect()
        };
        assert_eq!(read(&o, "内部地区の公民館"), "うつべちくのこうみんかん");
        // Elsewhere the word keeps its ordinary reading.
        assert_eq!(read(&o, "内部の手続"), "ないぶのてつづき");
        assert_eq!(
            read(&jp::reading::Overrides::default(), "内部地区"),
            "ないぶちく"
        );
    }
}
