//! The resident register (住民記録): madoguchi reads it to fill in forms
//! for a resident at the counter (書かない窓口) and to start a life-event
//! visit. A deployment connects its 住民記録システム (標準準拠システム) by
//! implementing [`ResidentRegistry`]; the built-in [`DemoRegistry`] holds
//! fictitious residents for demos and tests and is refused in production.
//!
//! Every read is personal data: callers audit it (see the counter pages).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::error::AppResult;
use crate::resident::Claims;

/// One resident as the 住民記録 holds them (the fields the 標準仕様 has
/// for 住民票: 氏名, 氏名カナ, 生年月日, 性別, 住所, 世帯, 続柄).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResidentRecord {
    /// 宛名番号 (the municipality's person number, not the マイナンバー).
    pub id: String,
    /// 氏名, family and given name separated by a space.
    pub name: String,
    /// 氏名カナ (katakana).
    pub kana: String,
    /// 生年月日, ISO `YYYY-MM-DD`.
    pub birth_date: String,
    /// `male` or `female` (性別).
    pub sex: String,
    pub postal_code: String,
    /// 住所 in one line.
    pub address: String,
    /// 世帯番号.
    pub household_id: String,
    /// 続柄 as written on the 住民票 (世帯主, 妻, 子 …).
    pub relationship: String,
    /// 住民となった年月日.
    pub resident_since: String,
}

impl ResidentRecord {
    /// The record as the 基本4情報 a card sign-in provides, so forms fill
    /// the same way from either source.
    pub fn claims(&self) -> Claims {
        Claims {
            name: Some(self.name.clone()),
            address: Some(self.address.clone()),
            birthdate: Some(self.birth_date.clone()),
            gender: Some(self.sex.clone()),
        }
    }
}

/// What a clerk searches by: any of name, kana or birth date (at least
/// one). Name and kana match ignoring spaces and hiragana/katakana.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RegistryQuery {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kana: String,
    #[serde(default)]
    pub birth_date: String,
}

impl RegistryQuery {
    pub fn is_empty(&self) -> bool {
        self.name.trim().is_empty()
            && self.kana.trim().is_empty()
            && self.birth_date.trim().is_empty()
    }
}

/// At most this many records answer a search: narrow it down instead.
pub const MAX_RESULTS: usize = 20;

pub type RegistryFuture<'a, T> = Pin<Box<dyn Future<Output = AppResult<T>> + Send + 'a>>;

pub trait ResidentRegistry: Send + Sync {
    /// A short name for the audit log and the admin page.
    fn name(&self) -> &'static str;
    fn search<'a>(
        &'a self,
        tenant: &'a str,
        q: &'a RegistryQuery,
    ) -> RegistryFuture<'a, Vec<ResidentRecord>>;
    fn get<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> RegistryFuture<'a, Option<ResidentRecord>>;
    /// The members of a household (世帯), head first.
    fn household<'a>(
        &'a self,
        tenant: &'a str,
        household_id: &'a str,
    ) -> RegistryFuture<'a, Vec<ResidentRecord>>;
}

/// Fictitious residents from `residents.json` files, in memory.
#[derive(Default)]
pub struct DemoRegistry {
    by_tenant: HashMap<String, Vec<ResidentRecord>>,
}

#[derive(Deserialize)]
struct DemoFile {
    #[allow(dead_code)]
    #[serde(default)]
    note: String,
    residents: Vec<ResidentRecord>,
}

impl DemoRegistry {
    /// Adds a tenant's residents from the JSON of a `residents.json`.
    pub fn with_tenant(mut self, tenant: &str, json: &str) -> Result<Self, String> {
        let f: DemoFile = serde_json::from_str(json).map_err(|e| format!("residents.json: {e}"))?;
        self.by_tenant.insert(tenant.to_string(), f.residents);
        Ok(self)
    }

    fn residents(&self, tenant: &str) -> &[ResidentRecord] {
        self.by_tenant.get(tenant).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Folds for matching: no spaces (half or full width), katakana as
/// hiragana, NFKC.
fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

impl ResidentRegistry for DemoRegistry {
    fn name(&self) -> &'static str {
        "demo"
    }

    fn search<'a>(
        &'a self,
        tenant: &'a str,
        q: &'a RegistryQuery,
    ) -> RegistryFuture<'a, Vec<ResidentRecord>> {
        Box::pin(async move {
            if q.is_empty() {
                return Ok(Vec::new());
            }
            let name = fold(&q.name);
            let kana = fold(&q.kana);
            let birth = q.birth_date.trim();
            Ok(self
                .residents(tenant)
                .iter()
                .filter(|r| name.is_empty() || fold(&r.name).contains(&name))
                .filter(|r| kana.is_empty() || fold(&r.kana).contains(&kana))
                .filter(|r| birth.is_empty() || r.birth_date == birth)
                .take(MAX_RESULTS)
                .cloned()
                .collect())
        })
    }

    fn get<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> RegistryFuture<'a, Option<ResidentRecord>> {
        Box::pin(async move { Ok(self.residents(tenant).iter().find(|r| r.id == id).cloned()) })
    }

    fn household<'a>(
        &'a self,
        tenant: &'a str,
        household_id: &'a str,
    ) -> RegistryFuture<'a, Vec<ResidentRecord>> {
        Box::pin(async move {
            Ok(self
                .residents(tenant)
                .iter()
                .filter(|r| r.household_id == household_id)
                .cloned()
                .collect())
        })
    }
}

/// No register connected (production without an adapter): searches find
/// nobody and clerks type what the resident tells them.
pub struct NoRegistry;

impl ResidentRegistry for NoRegistry {
    fn name(&self) -> &'static str {
        "none"
    }
    fn search<'a>(
        &'a self,
        _: &'a str,
        _: &'a RegistryQuery,
    ) -> RegistryFuture<'a, Vec<ResidentRecord>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn get<'a>(&'a self, _: &'a str, _: &'a str) -> RegistryFuture<'a, Option<ResidentRecord>> {
        Box::pin(async { Ok(None) })
    }
    fn household<'a>(&'a self, _: &'a str, _: &'a str) -> RegistryFuture<'a, Vec<ResidentRecord>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"residents":[
      {"id":"1","name":"四街道 花子","kana":"ヨツカイドウ ハナコ","birth_date":"1985-09-02","sex":"female",
       "postal_code":"284-0003","address":"千葉県四街道市鹿渡933番地の1","household_id":"h","relationship":"妻","resident_since":"2015-04-01"},
      {"id":"2","name":"四街道 太郎","kana":"ヨツカイドウ タロウ","birth_date":"1982-05-14","sex":"male",
       "postal_code":"284-0003","address":"千葉県四街道市鹿渡933番地の1","household_id":"h","relationship":"世帯主","resident_since":"2015-04-01"}]}"#;

    #[tokio::test]
    async fn searches_by_kana_in_either_script_and_birth_date() {
        let r = DemoRegistry::default().with_tenant("t", JSON).unwrap();
        let q = |kana: &str, birth: &str| RegistryQuery {
            kana: kana.into(),
            birth_date: birth.into(),
            ..Default::default()
        };
        assert_eq!(
            r.search("t", &q("よつかいどう　はなこ", ""))
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            r.search("t", &q("ヨツカイドウ", "")).await.unwrap().len(),
            2
        );
        assert_eq!(
            r.search("t", &q("", "1982-05-14")).await.unwrap()[0].id,
            "2"
        );
        assert!(r
            .search("t", &RegistryQuery::default())
            .await
            .unwrap()
            .is_empty());
        assert!(r
            .search("other", &q("ヨツカイドウ", ""))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(r.household("t", "h").await.unwrap().len(), 2);
    }
}
