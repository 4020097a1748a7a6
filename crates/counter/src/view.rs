//! How pages name a counter.

use kernel::i18n::Lang;

pub fn counter_name(t: &kernel::tenant::TenantProfile, code: &str, lang: Lang) -> String {
    counter_shown(t, code, lang).text
}

/// The counter's name as a page shows it (Japanese marked if untranslated).
pub fn counter_shown(
    t: &kernel::tenant::TenantProfile,
    code: &str,
    lang: Lang,
) -> kernel::i18n::Shown {
    t.counters
        .iter()
        .find(|c| c.code == code)
        .map(|c| c.name.shown(lang))
        .unwrap_or_else(|| kernel::i18n::Shown::plain(code))
}
