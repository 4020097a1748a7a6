//! How pages name a counter and show its line.

use kernel::i18n::Lang;

use crate::queue::CounterStatus;

/// A counter's line as the kiosk, the board and the clerk's page show it.
pub struct CounterLine {
    pub code: String,
    /// Its name (the Japanese marked where untranslated; `.text` plain).
    pub name: kernel::i18n::Shown,
    pub open: bool,
    pub waiting: i64,
    pub wait_minutes: i64,
    /// The number called last, or empty.
    pub calling: String,
}

impl CounterLine {
    pub fn of(t: &kernel::tenant::TenantProfile, c: &CounterStatus, lang: Lang) -> Self {
        Self {
            code: c.counter.clone(),
            name: counter_shown(t, &c.counter, lang),
            open: c.open,
            waiting: c.waiting,
            wait_minutes: c.estimated_wait_minutes,
            calling: c.now_calling.clone().unwrap_or_default(),
        }
    }
}

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
