//! Date rules of a form field, declared in the form definition: not in the
//! future, not in the past (today in Japan), on or after another date
//! field, within N days after or before another date field, on a day the
//! city hall is open (its [`jp::OfficeCalendar`]). The form engine checks
//! them on the server; the same rules become a line of the field's hint
//! (the date input is a text box, since 和暦 is accepted, so HTML's
//! `min`/`max` do not apply).

use jp::calendar::Closed;
use jp::{JpDate, OfficeCalendar};
use kernel::i18n::{self, Lang};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, Weekday};

/// Another date field and a number of days.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DaysFrom {
    pub field: String,
    pub days: u16,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The rules a date field's answer must keep (all optional).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DateRules {
    /// Today or earlier (a day that has happened: 転入した日, 生年月日).
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_future: bool,
    /// Today or later (a day still to come: 来庁予定日).
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_past: bool,
    /// The same day as another date field or later (占用終了日 ≥ 占用開始日).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_or_after: Option<String>,
    /// From another date field's day to N days after it (来庁予定日:
    /// 転入した日から14日以内).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days_after: Option<DaysFrom>,
    /// From N days before another date field's day to that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days_before: Option<DaysFrom>,
    /// A day the counters are open (開庁日).
    #[serde(default, skip_serializing_if = "is_false")]
    pub office_open: bool,
}

impl DateRules {
    /// The other date fields the rules refer to.
    pub fn other_fields(&self) -> Vec<&str> {
        [
            self.on_or_after.as_deref(),
            self.within_days_after.as_ref().map(|d| d.field.as_str()),
            self.within_days_before.as_ref().map(|d| d.field.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        *self == DateRules::default()
    }

    /// Consistency of the rules themselves (messages for staff).
    pub fn check(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if self.not_future && self.not_past {
            errs.push("未来の日付も過去の日付も不可にすると、今日しか選べません。".to_string());
        }
        for d in [&self.within_days_after, &self.within_days_before]
            .into_iter()
            .flatten()
        {
            if d.days == 0 || d.days > 3660 {
                errs.push(format!(
                    "日数（days）は1から3660までにしてください（{}）。",
                    d.days
                ));
            }
        }
        errs
    }

    /// The first rule a date breaks, if any. `other` gives another date
    /// field's answer; a rule whose other field has no valid answer is not
    /// checked (that field has its own message).
    pub fn broken(
        &self,
        date: Date,
        other: impl Fn(&str) -> Option<Date>,
        today: &Today,
    ) -> Option<Broken> {
        if self.not_future && date > today.date {
            return Some(Broken::Future);
        }
        if self.not_past && date < today.date {
            return Some(Broken::Past);
        }
        if let Some(f) = &self.on_or_after {
            if let Some(o) = other(f).filter(|o| date < *o) {
                return Some(Broken::Before(f.clone(), o));
            }
        }
        if let Some(w) = &self.within_days_after {
            if let Some(o) = other(&w.field) {
                let last = o + Duration::days(i64::from(w.days));
                if date < o || date > last {
                    return Some(Broken::NotWithinAfter(w.clone(), o, last));
                }
            }
        }
        if let Some(w) = &self.within_days_before {
            if let Some(o) = other(&w.field) {
                let first = o - Duration::days(i64::from(w.days));
                if date > o || date < first {
                    return Some(Broken::NotWithinBefore(w.clone(), o, first));
                }
            }
        }
        if self.office_open {
            if let Some(why) = today.calendar.closed_because(date) {
                return Some(Broken::Closed(why));
            }
        }
        None
    }

    /// The rules in words, one sentence each, for the field's hint; those
    /// the field's own hint already states (see [`hint_states`]) are left
    /// out.
    pub fn describe(&self, hint: &str, label_of: impl Fn(&str) -> String, lang: Lang) -> String {
        let mut parts = Vec::new();
        for rule in Rule::ALL {
            if !self.has(rule) || hint_states(hint, rule, self) {
                continue;
            }
            let s = match rule {
                Rule::NotFuture => i18n::t(lang, "form.rule.not_future").to_string(),
                Rule::NotPast => i18n::t(lang, "form.rule.not_past").to_string(),
                Rule::OnOrAfter => i18n::tf(
                    lang,
                    "form.rule.on_or_after",
                    &[(
                        "other",
                        &label_of(self.on_or_after.as_deref().unwrap_or("")),
                    )],
                ),
                Rule::WithinDaysAfter | Rule::WithinDaysBefore => {
                    let (key, d) = if rule == Rule::WithinDaysAfter {
                        ("form.rule.within_after", &self.within_days_after)
                    } else {
                        ("form.rule.within_before", &self.within_days_before)
                    };
                    let d = d.as_ref().expect("has(rule)");
                    i18n::tf(
                        lang,
                        key,
                        &[
                            ("other", &label_of(&d.field)),
                            ("days", &d.days.to_string()),
                        ],
                    )
                }
                Rule::OfficeOpen => i18n::t(lang, "form.rule.office_open").to_string(),
            };
            parts.push(s);
        }
        parts.join(" ")
    }

    pub fn has(&self, rule: Rule) -> bool {
        match rule {
            Rule::NotFuture => self.not_future,
            Rule::NotPast => self.not_past,
            Rule::OnOrAfter => self.on_or_after.is_some(),
            Rule::WithinDaysAfter => self.within_days_after.is_some(),
            Rule::WithinDaysBefore => self.within_days_before.is_some(),
            Rule::OfficeOpen => self.office_open,
        }
    }
}

/// The kinds of date rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    NotFuture,
    NotPast,
    OnOrAfter,
    WithinDaysAfter,
    WithinDaysBefore,
    OfficeOpen,
}

impl Rule {
    pub const ALL: [Rule; 6] = [
        Rule::NotFuture,
        Rule::NotPast,
        Rule::OnOrAfter,
        Rule::WithinDaysAfter,
        Rule::WithinDaysBefore,
        Rule::OfficeOpen,
    ];
}

/// Whether a Japanese hint states a rule in words. Used two ways: the
/// generated rule line leaves out what the hint already says, and the
/// catalogue's test requires every rule a hint states to be declared.
pub fn hint_states(hint: &str, rule: Rule, rules: &DateRules) -> bool {
    let days = |d: &Option<DaysFrom>| {
        d.as_ref()
            .is_some_and(|d| hint.contains(&format!("{}日以内", d.days)))
    };
    match rule {
        Rule::NotFuture => ["未来", "今日以前", "今日まで", "今日より前"]
            .iter()
            .any(|p| hint.contains(p)),
        Rule::NotPast => ["過去", "今日以降", "今日から", "明日以降", "過ぎた"]
            .iter()
            .any(|p| hint.contains(p)),
        Rule::OnOrAfter => hint.contains("以降の日") || hint.contains("より後"),
        Rule::WithinDaysAfter => days(&rules.within_days_after),
        Rule::WithinDaysBefore => days(&rules.within_days_before),
        Rule::OfficeOpen => hint.contains("開庁日"),
    }
}

/// Phrases of a hint that promise a rule on the field; the demo catalogue
/// test requires such a field to declare one.
pub const RULE_PHRASES: [&str; 9] = [
    "以内",
    "開庁日",
    "未来",
    "今日以前",
    "今日以降",
    "過去",
    "以降の日",
    "土日",
    "祝日",
];

/// A broken rule, with what the message needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Broken {
    Future,
    Past,
    Before(String, Date),
    NotWithinAfter(DaysFrom, Date, Date),
    NotWithinBefore(DaysFrom, Date, Date),
    Closed(Closed),
}

/// A date as the reader expects it: 和暦 in Japanese, ISO elsewhere.
pub fn date_text(lang: Lang, d: Date) -> String {
    match lang {
        Lang::Ja | Lang::JaEasy => JpDate::from_date(d).wareki(),
        _ => JpDate::from_date(d).iso(),
    }
}

impl Broken {
    /// The message naming the field (`label`) and the rule.
    pub fn message(
        &self,
        lang: Lang,
        label: &str,
        date: Date,
        label_of: impl Fn(&str) -> String,
        today: &Today,
    ) -> String {
        let dt = |d: Date| date_text(lang, d);
        let tf = |key: &str, args: &[(&str, &str)]| {
            let mut all = vec![("field", label)];
            all.extend_from_slice(args);
            i18n::tf(lang, key, &all)
        };
        match self {
            Broken::Future => tf("form.date.not_future", &[("today", &dt(today.date))]),
            Broken::Past => tf("form.date.not_past", &[("today", &dt(today.date))]),
            Broken::Before(f, o) => tf(
                "form.date.on_or_after",
                &[("other", &label_of(f)), ("other_date", &dt(*o))],
            ),
            Broken::NotWithinAfter(w, o, last) => tf(
                "form.date.within_after",
                &[
                    ("other", &label_of(&w.field)),
                    ("other_date", &dt(*o)),
                    ("days", &w.days.to_string()),
                    ("last", &dt(*last)),
                ],
            ),
            Broken::NotWithinBefore(w, o, first) => tf(
                "form.date.within_before",
                &[
                    ("other", &label_of(&w.field)),
                    ("other_date", &dt(*o)),
                    ("days", &w.days.to_string()),
                    ("first", &dt(*first)),
                ],
            ),
            Broken::Closed(why) => {
                let reason = match why {
                    Closed::Weekend(Weekday::Saturday) => i18n::t(lang, "calendar.saturday").into(),
                    Closed::Weekend(_) => i18n::t(lang, "calendar.sunday").into(),
                    Closed::Holiday(name) => i18n::tf(lang, "calendar.holiday", &[("name", name)]),
                    Closed::NewYear => i18n::t(lang, "calendar.new_year").into(),
                    Closed::Municipal => i18n::t(lang, "calendar.municipal").into(),
                };
                tf(
                    "form.date.office_closed",
                    &[("date", &dt(date)), ("reason", &reason)],
                )
            }
        }
    }
}

/// Today in Japan, and the municipality's office calendar: what the date
/// rules are checked against.
#[derive(Clone, Debug)]
pub struct Today {
    pub date: Date,
    pub calendar: OfficeCalendar,
}

impl Today {
    /// Now, in Asia/Tokyo.
    pub fn now(calendar: &OfficeCalendar) -> Self {
        Self::on(
            kernel::clock::to_jst(kernel::clock::now_ms()).date(),
            calendar,
        )
    }

    pub fn on(date: Date, calendar: &OfficeCalendar) -> Self {
        Self {
            date,
            calendar: calendar.clone(),
        }
    }

    /// Now, with the municipality's calendar from its profile.
    pub async fn of_tenant(db: &kernel::Db, tenant: &str) -> kernel::AppResult<Self> {
        Ok(Self::now(&kernel::tenant::calendar(db, tenant).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn rules(v: serde_json::Value) -> DateRules {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn each_rule_and_its_bounds() {
        let today = Today::on(date!(2026 - 04 - 15), &OfficeCalendar::default());
        let moved = date!(2026 - 04 - 01);
        let other = |f: &str| (f == "moved").then_some(moved);
        let r = rules(serde_json::json!({"not_future": true}));
        assert_eq!(r.broken(date!(2026 - 04 - 15), other, &today), None);
        assert_eq!(
            r.broken(date!(2026 - 04 - 16), other, &today),
            Some(Broken::Future)
        );
        let r = rules(serde_json::json!({"not_past": true}));
        assert_eq!(r.broken(date!(2026 - 04 - 15), other, &today), None);
        assert_eq!(
            r.broken(date!(2026 - 04 - 14), other, &today),
            Some(Broken::Past)
        );
        let r = rules(serde_json::json!({"within_days_after": {"field": "moved", "days": 14}}));
        assert_eq!(r.broken(date!(2026 - 04 - 01), other, &today), None);
        assert_eq!(r.broken(date!(2026 - 04 - 15), other, &today), None);
        assert!(matches!(
            r.broken(date!(2026 - 04 - 16), other, &today),
            Some(Broken::NotWithinAfter(_, _, last)) if last == date!(2026 - 04 - 15)
        ));
        assert!(r.broken(date!(2026 - 03 - 31), other, &today).is_some());
        // The other field has no valid answer: its own message says so.
        assert_eq!(r.broken(date!(2026 - 03 - 31), |_| None, &today), None);
        let r = rules(serde_json::json!({"within_days_before": {"field": "moved", "days": 7}}));
        assert_eq!(r.broken(date!(2026 - 03 - 25), other, &today), None);
        assert!(r.broken(date!(2026 - 03 - 24), other, &today).is_some());
        assert!(r.broken(date!(2026 - 04 - 02), other, &today).is_some());
        let r = rules(serde_json::json!({"on_or_after": "moved"}));
        assert_eq!(r.broken(moved, other, &today), None);
        assert_eq!(
            r.broken(date!(2026 - 03 - 31), other, &today),
            Some(Broken::Before("moved".into(), moved))
        );
        let r = rules(serde_json::json!({"office_open": true}));
        assert_eq!(
            r.broken(date!(2026 - 04 - 18), other, &today),
            Some(Broken::Closed(Closed::Weekend(Weekday::Saturday)))
        );
        assert_eq!(r.broken(date!(2026 - 04 - 20), other, &today), None);
        assert!(
            rules(serde_json::json!({"not_future": true, "not_past": true}))
                .check()
                .len()
                == 1
        );
        assert!(
            serde_json::from_value::<DateRules>(serde_json::json!({"not_in_future": true}))
                .is_err()
        );
    }

    #[test]
    fn messages_name_the_field_and_the_rule() {
        let today = Today::on(date!(2026 - 04 - 15), &OfficeCalendar::default());
        let label_of = |_: &str| "転入した日".to_string();
        let m = Broken::Closed(Closed::Holiday("国民の休日")).message(
            Lang::Ja,
            "来庁予定日",
            date!(2026 - 09 - 22),
            label_of,
            &today,
        );
        assert_eq!(
            m,
            "「来庁予定日」の令和8年9月22日は閉庁日（祝日：国民の休日）です。開庁日（土日・祝日・年末年始を除く日）を選んでください。"
        );
        let w = DaysFrom {
            field: "moved".into(),
            days: 14,
        };
        let m = Broken::NotWithinAfter(w, date!(2026 - 04 - 01), date!(2026 - 04 - 15)).message(
            Lang::Ja,
            "来庁予定日",
            date!(2026 - 06 - 08),
            label_of,
            &today,
        );
        assert_eq!(m, "「来庁予定日」は「転入した日」（令和8年4月1日）から14日以内、令和8年4月15日までの日付を入力してください。");
        let m = Broken::Future.message(Lang::En, "Date moved in", today.date, label_of, &today);
        assert!(
            m.contains("Date moved in") && m.contains("2026-04-15"),
            "{m}"
        );
    }

    #[test]
    fn the_hint_line_leaves_out_what_the_hint_says() {
        let r = rules(serde_json::json!({
            "not_past": true, "office_open": true,
            "within_days_after": {"field": "moved", "days": 14}
        }));
        let label_of = |_: &str| "転入した日".to_string();
        assert_eq!(
            r.describe(
                "転入した日から14日以内の開庁日を選んでください。",
                label_of,
                Lang::Ja
            ),
            "今日より前の日付は選べません。"
        );
        assert_eq!(
            r.describe("", label_of, Lang::Ja),
            "今日より前の日付は選べません。 「転入した日」から14日以内の日付です。 開庁日（土日・祝日・年末年始を除く日）を選んでください。"
        );
        // A hint promising another number of days does not state this rule.
        assert!(!hint_states("7日以内", Rule::WithinDaysAfter, &r));
    }
}
