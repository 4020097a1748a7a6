//! The procedure (手続) as the catalogue stores it.

use kernel::i18n::Text;
use serde::{Deserialize, Serialize};

use crate::form::FormDef;

/// Where a procedure can be done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channels {
    Online,
    Counter,
    Both,
}

impl Channels {
    pub fn online(self) -> bool {
        matches!(self, Channels::Online | Channels::Both)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channels::Online => "online",
            Channels::Counter => "counter",
            Channels::Both => "both",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "online" => Some(Self::Online),
            "counter" => Some(Self::Counter),
            "both" => Some(Self::Both),
            _ => None,
        }
    }
}

/// How sure we must be of who applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityLevel {
    None,
    SignedIn,
    MyNumberCard,
}

impl IdentityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityLevel::None => "none",
            IdentityLevel::SignedIn => "signed_in",
            IdentityLevel::MyNumberCard => "my_number_card",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "none" => Some(Self::None),
            "signed_in" => Some(Self::SignedIn),
            "my_number_card" => Some(Self::MyNumberCard),
            _ => None,
        }
    }
}

/// The channel an application came in by (KPI: share by channel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The resident applied online (行かない窓口).
    Online,
    /// The resident filled in a form at the counter.
    Counter,
    /// A clerk entered it for the resident (書かない窓口).
    Proxy,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Online, Channel::Counter, Channel::Proxy];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Counter => "counter",
            Channel::Proxy => "proxy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "online" => Some(Self::Online),
            "counter" => Some(Self::Counter),
            "proxy" => Some(Self::Proxy),
            _ => None,
        }
    }
}

/// Life events (ライフイベント) a procedure belongs to.
pub const LIFE_EVENTS: [&str; 17] = [
    "birth",
    "childcare",
    "moving",
    "marriage",
    "divorce",
    "death",
    "employment",
    "retirement",
    "elderly-care",
    "disability",
    "housing",
    "pets",
    "waste",
    "business",
    "tax",
    "health",
    "digital",
];

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub id: String,
    pub name: Text,
    pub description: Text,
    pub department: String,
    #[serde(default)]
    pub life_events: Vec<String>,
    pub channels: Channels,
    pub identity_level: IdentityLevel,
    pub fee_yen: u64,
    #[serde(default)]
    pub documents: Vec<Text>,
    pub processing_time: Text,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub form: FormDef,
    /// Separation of duties (職務分掌): whether whoever started the review
    /// of a case may also approve or reject it. Off unless the procedure
    /// says so (a small office with one person for both).
    #[serde(default)]
    pub same_person_may_approve: bool,
}

/// A catalogue entry with its stored version.
#[derive(Clone, Debug, Serialize)]
pub struct StoredProcedure {
    #[serde(flatten)]
    pub procedure: Procedure,
    pub version: i64,
    pub updated_at: i64,
}

impl Procedure {
    /// Checks everything the type system cannot: codes, references, form
    /// consistency. Each message names the field (Japanese).
    pub fn check(&self, departments: &[String]) -> Result<(), Vec<(String, String)>> {
        let mut errs: Vec<(String, String)> = Vec::new();
        if !kernel::tenant::is_slug(&self.id) {
            errs.push(("id".into(), "「手続ID」は英小文字・数字・ハイフンで64文字以内にしてください（例：juminhyo-copy）。".into()));
        }
        if !departments.contains(&self.department) {
            errs.push((
                "department".into(),
                format!(
                    "「担当課」の「{}」はこの自治体にありません。",
                    self.department
                ),
            ));
        }
        for ev in &self.life_events {
            if !LIFE_EVENTS.contains(&ev.as_str()) {
                errs.push((
                    "life_events".into(),
                    format!(
                        "「ライフイベント」の「{ev}」は使えません。使える値：{}",
                        LIFE_EVENTS.join(", ")
                    ),
                ));
            }
        }
        // A text is stored only with its Japanese (it cannot be read back
        // without it).
        for (field, text, message) in [
            (
                "name_ja",
                &self.name,
                "「手続名（日本語）」を入力してください。",
            ),
            (
                "description_ja",
                &self.description,
                "「説明（日本語）」を入力してください。",
            ),
            (
                "processing_time_ja",
                &self.processing_time,
                "「処理期間（日本語）」を入力してください（例：即日）。",
            ),
        ] {
            if text.ja().trim().is_empty() {
                errs.push((field.into(), message.into()));
            }
        }
        for (i, d) in self.documents.iter().enumerate() {
            if d.ja().trim().is_empty() {
                errs.push((
                    "documents_ja".into(),
                    format!("「必要なもの」の{}行目（日本語）が空です。", i + 1),
                ));
            }
        }
        if self.name.ja().chars().count() > 200 {
            errs.push((
                "name_ja".into(),
                "「手続名」は200文字以内にしてください。".into(),
            ));
        }
        if self.fee_yen > 10_000_000 {
            errs.push((
                "fee_yen".into(),
                "「手数料」が大きすぎます（1,000万円以下）。".into(),
            ));
        }
        if let Err(form_errs) = self.form.check() {
            errs.extend(form_errs.into_iter().map(|m| ("form".to_string(), m)));
        }
        if self.channels.online() && self.form.fields.is_empty() {
            errs.push((
                "form".into(),
                "オンライン申請できる手続には、申請フォームの項目が1つ以上必要です。".into(),
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    pub fn fee_display(&self) -> String {
        if self.fee_yen == 0 {
            String::new()
        } else {
            jp::Yen::new(self.fee_yen)
                .map(|y| y.to_string())
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::i18n::{keys, Lang};

    /// Every text must have its Japanese to be stored: one without it
    /// could not be read back (a page showing it would fail).
    #[test]
    fn texts_without_japanese_are_refused_by_name() {
        let mut items: Vec<Procedure> =
            serde_json::from_str(include_str!("../../../data/demo/122289/procedures.json"))
                .unwrap();
        let mut p = items.remove(0);
        let depts = vec![p.department.clone()];
        assert_eq!(p.check(&depts), Ok(()));
        p.description = Text::ja_only("");
        p.processing_time = Text::ja_only(" ");
        p.documents.push(Text::ja_only(""));
        let fields: Vec<String> = p
            .check(&depts)
            .unwrap_err()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(
            fields,
            ["description_ja", "processing_time_ja", "documents_ja"]
        );
    }

    /// Keys built at run time from the catalogue's enums and data must
    /// exist in every language.
    #[test]
    fn computed_i18n_keys_exist() {
        let mut wanted: Vec<String> = Vec::new();
        wanted.extend(
            Channel::ALL
                .iter()
                .map(|c| format!("channel.{}", c.as_str())),
        );
        wanted.extend(LIFE_EVENTS.iter().map(|e| format!("life_event.{e}")));
        wanted.extend(
            [Channels::Online, Channels::Counter, Channels::Both]
                .iter()
                .map(|c| format!("procedure.channels.{}", c.as_str())),
        );
        wanted.extend(
            [
                IdentityLevel::None,
                IdentityLevel::SignedIn,
                IdentityLevel::MyNumberCard,
            ]
            .iter()
            .map(|i| format!("procedure.identity.{}", i.as_str())),
        );
        for lang in Lang::ALL {
            let have = keys(lang);
            for k in &wanted {
                assert!(have.contains(k), "{} lacks {k}", lang.code());
            }
        }
    }
}
