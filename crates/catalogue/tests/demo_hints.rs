//! Every hint of the demo catalogues that states a rule has that rule:
//! a hint promising 「転入した日から14日以内の開庁日」 on a field the form
//! engine does not check is what residents were shown before the rules
//! existed (issue 15). The phrases are `catalogue::rules::RULE_PHRASES`.

use catalogue::form::{Field, FieldType};
use catalogue::rules::{hint_states, Rule, RULE_PHRASES};
use catalogue::Procedure;

const CATALOGUES: [(&str, &str); 2] = [
    (
        "122289",
        include_str!("../../../data/demo/122289/procedures.json"),
    ),
    (
        "242021",
        include_str!("../../../data/demo/242021/procedures.json"),
    ),
];

/// Hints with such a phrase about something the form cannot or must not
/// check, and why.
const NOT_CHECKABLE: &[(&str, &str, &str, &str)] = &[
    (
        "242021",
        "shogaisha-techo",
        "photo",
        "「1年以内に撮影した」: when a photo was taken cannot be read from the file",
    ),
    (
        "*",
        "tenkyo",
        "moved_date",
        "「転居した日から14日以内に届け出て」: the legal period of 住民基本台帳法 第23条; \
         a later 転居届 is still accepted (the delay is reported under 第52条), never refused",
    ),
    (
        "*",
        "shussei",
        "child_birth_date",
        "「生まれた日を含めて14日以内に届け出て」: the period of 戸籍法 第49条; a later \
         出生届 is still accepted (戸籍法 第46条), never refused",
    ),
    (
        "*",
        "shibo",
        "death_date",
        "「亡くなったことを知った日から7日以内」 (戸籍法 第86条): counted from the day the notifier learnt \
         of the death, which the form does not ask; a later 死亡届 is still accepted \
         (戸籍法 第46条)",
    ),
    (
        "*",
        "sosai-hi",
        "funeral_date",
        "「葬儀の翌日から2年以内に申請」: the two-year limit (国民健康保険法 第110条) \
         counts back from the day of the claim, and the date rules have no window \
         counted from today; staff check it on review",
    ),
];

/// The rule a phrase of a hint promises on a date field.
fn promised(hint: &str) -> Vec<Rule> {
    let mut rules = Vec::new();
    if hint.contains("以内") {
        rules.push(Rule::WithinDaysAfter);
    }
    if ["開庁日", "土日", "祝日"].iter().any(|p| hint.contains(p)) {
        rules.push(Rule::OfficeOpen);
    }
    if ["未来", "今日以前"].iter().any(|p| hint.contains(p)) {
        rules.push(Rule::NotFuture);
    }
    if ["今日以降", "過去"].iter().any(|p| hint.contains(p)) {
        rules.push(Rule::NotPast);
    }
    if hint.contains("以降の日") {
        rules.push(Rule::OnOrAfter);
    }
    rules
}

fn fields() -> Vec<(&'static str, String, Field)> {
    CATALOGUES
        .iter()
        .flat_map(|(tenant, json)| {
            let procs: Vec<Procedure> = serde_json::from_str(json).expect("demo catalogue");
            procs.into_iter().flat_map(move |p| {
                let id = p.id.clone();
                p.form
                    .check()
                    .unwrap_or_else(|e| panic!("{tenant} {id}: {e:?}"));
                p.form
                    .fields
                    .into_iter()
                    .map(move |f| (*tenant, id.clone(), f))
            })
        })
        .collect()
}

#[test]
fn every_hint_that_states_a_rule_has_it() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for (tenant, proc_, f) in fields() {
        let hint = f
            .hint
            .as_ref()
            .map(|h| h.ja().to_string())
            .unwrap_or_default();
        if !RULE_PHRASES.iter().any(|p| hint.contains(p)) {
            continue;
        }
        if NOT_CHECKABLE
            .iter()
            .any(|(t, p, n, _)| (*t == tenant || *t == "*") && *p == proc_ && *n == f.name)
        {
            continue;
        }
        checked += 1;
        if f.kind != FieldType::Date {
            missing.push(format!(
                "{tenant} {proc_} {}: 「{hint}」 on a {} field",
                f.name,
                f.kind.as_str()
            ));
            continue;
        }
        let rules = f.date_rules.clone().unwrap_or_default();
        for rule in promised(&hint) {
            // 「N日以内」: within N days after or before, with that N.
            let kept = if rule == Rule::WithinDaysAfter {
                hint_states(&hint, Rule::WithinDaysAfter, &rules)
                    || hint_states(&hint, Rule::WithinDaysBefore, &rules)
            } else {
                rules.has(rule) && hint_states(&hint, rule, &rules)
            };
            if !kept {
                missing.push(format!(
                    "{tenant} {proc_} {}: 「{hint}」 lacks {rule:?}",
                    f.name
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "hints promising rules the form does not check:\n{}",
        missing.join("\n")
    );
    // Both cities' 転入届 promise a rule on 来庁予定日.
    assert!(checked >= 2, "{checked}");
}

/// 「1回の申込みは10点までです」: the number field's maximum is that number.
#[test]
fn a_hint_limiting_a_number_has_that_maximum() {
    let mut checked = 0;
    for (tenant, proc_, f) in fields() {
        let hint = f
            .hint
            .as_ref()
            .map(|h| h.ja().to_string())
            .unwrap_or_default();
        let Some(before) = hint
            .split("点まで")
            .next()
            .filter(|_| hint.contains("点まで"))
        else {
            continue;
        };
        let digits: String = before
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let n: i64 = digits
            .parse()
            .unwrap_or_else(|_| panic!("{tenant} {proc_} {}: 「{hint}」", f.name));
        assert_eq!(f.kind, FieldType::Number, "{tenant} {proc_} {}", f.name);
        assert_eq!(f.max, Some(n), "{tenant} {proc_} {}: 「{hint}」", f.name);
        checked += 1;
    }
    assert_eq!(
        checked, 2,
        "both cities' 粗大ごみ limit the number of items"
    );
}

#[test]
fn the_moving_in_visit_has_its_rules_in_both_cities() {
    for (tenant, proc_, f) in fields() {
        if proc_ == "tennyu" && f.name == "visit_date" {
            let r = f.date_rules.expect("rules");
            assert!(r.not_past && r.office_open, "{tenant}");
            assert_eq!(
                r.within_days_after.map(|w| (w.field, w.days)),
                Some(("moved_in_date".into(), 14)),
                "{tenant}"
            );
        }
    }
}

#[test]
fn the_phrase_test_would_have_caught_the_missing_rules() {
    // The 転入届 visit date as it was: the hint, no rules.
    let hint = "転入した日から14日以内の開庁日を選んでください。";
    let none = catalogue::rules::DateRules::default();
    assert_eq!(promised(hint), [Rule::WithinDaysAfter, Rule::OfficeOpen]);
    assert!(!hint_states(hint, Rule::WithinDaysAfter, &none));
    assert!(!none.has(Rule::OfficeOpen));
}
