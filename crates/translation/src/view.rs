//! What the pages show of a translation: a badge per language in the
//! editors ([`ReviewPanel`]) and the overview's lines.

use kernel::auth::Staff;
use kernel::i18n::{self, Lang};
use kernel::{AppResult, Db};

use crate::model::{Entry, State, LANGS};
use crate::overview::Line;

/// One language of an entry as an editor shows it.
pub struct LangReview {
    pub lang: Lang,
    pub state: State,
    /// 「機械支援翻訳・未確認」, 「確認済み（確認者：…、日付）」 …
    pub badge: String,
    pub reviewed: bool,
    /// Whether there is any text in the language to review.
    pub has_text: bool,
    /// Where its review form posts (`…/review`; `…/unreview` to undo).
    pub action: String,
}

/// Every language of one entry, for its editor: a badge each and a
/// control to mark it reviewed (or undo that).
pub struct ReviewPanel {
    pub items: Vec<LangReview>,
    /// The editor's own path, where the review form returns.
    pub return_to: String,
}

impl ReviewPanel {
    /// The badge of `lang`, for the editor's per-language sections.
    pub fn badge(&self, lang: &Lang) -> &str {
        self.items
            .iter()
            .find(|i| i.lang == *lang)
            .map(|i| i.badge.as_str())
            .unwrap_or_default()
    }
}

/// The badge text of a line in the page's language.
pub fn badge(lang: Lang, l: &Line) -> String {
    match (l.state, &l.review) {
        (State::Reviewed, Some(r)) => i18n::tf(
            lang,
            "translation.badge.reviewed",
            &[
                ("name", &r.by_name),
                ("date", &kernel::clock::format_in(lang, r.at)),
            ],
        ),
        (State::Missing, _) => i18n::tf(
            lang,
            "translation.badge.missing",
            &[
                ("missing", &l.missing_fields.to_string()),
                ("fields", &l.fields.to_string()),
            ],
        ),
        (State::MachineAssisted, _) => i18n::t(lang, "translation.badge.machine_assisted").into(),
        _ => i18n::t(lang, "translation.badge.unreviewed").into(),
    }
}

/// The panel of `entry` for its editor (`return_to`: the editor's path).
pub async fn panel(
    db: &Db,
    staff: &Staff,
    page_lang: Lang,
    entry: &Entry,
    return_to: String,
) -> AppResult<ReviewPanel> {
    let marks = crate::marks::of_entry(db, &staff.tenant, entry.kind, &entry.id).await?;
    let items = LANGS
        .iter()
        .map(|lang| {
            let l = crate::overview::line(entry, *lang, marks.get(lang));
            LangReview {
                lang: *lang,
                state: l.state,
                badge: badge(page_lang, &l),
                reviewed: l.review.is_some(),
                has_text: l.missing_fields < l.fields,
                action: action_path(&staff.tenant, entry, *lang),
            }
        })
        .collect();
    Ok(ReviewPanel { items, return_to })
}

/// The path of the review of one translation (`/review`, `/unreview`
/// appended).
pub fn action_path(tenant: &str, entry: &Entry, lang: Lang) -> String {
    format!(
        "/t/{tenant}/staff/translations/{}/{}/{}",
        entry.kind.as_str(),
        entry.id,
        lang.code()
    )
}
