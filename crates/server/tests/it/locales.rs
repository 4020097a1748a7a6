//! The UI texts of every language (crates/kernel/locales/*.toml) against
//! the code: no key missing in a language, no key a language has that
//! Japanese lacks, the same `{placeholders}` everywhere, nothing empty,
//! every key the code names present, and every key used somewhere.
//!
//! "Used" means the key appears as a string literal in crates/*/src or
//! crates/*/templates, or is one of the keys built at run time listed in
//! [`dynamic_keys`] from the code's own enums and constants (so a key left
//! over when a variant goes away fails too). Keys whose last part is a
//! literal passed around in code (`AppError::NotFound("procedure")` →
//! `error.not_found.procedure`) count as used when that literal appears
//! in the code ([`LITERAL_SUFFIX_FAMILIES`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use kernel::i18n::{self, Lang};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Source and template files of every crate (not tests).
fn code_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root()).unwrap() {
        let krate = krate.unwrap().path();
        for sub in ["src", "templates"] {
            let mut stack = vec![krate.join(sub)];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for e in entries {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p
                        .extension()
                        .is_some_and(|x| x == "rs" || x == "html" || x == "txt")
                    {
                        files.push(p);
                    }
                }
            }
        }
    }
    assert!(files.len() > 50, "found only {} source files", files.len());
    files
}

/// Every key-shaped string literal (`"a.b_c"`, also nested in template
/// attributes such as `aria-label="{{ page.t("layout.language") }}"`),
/// per file. `#[cfg(test)]` modules are left out, so a key only a unit
/// test names is not "used".
/// Where a literal is, and whether it is looked up as a UI text there.
struct Use {
    file: PathBuf,
    lookup: bool,
}

/// What comes right before a key looked up as a UI text.
const LOOKUPS: [&str; 9] = [
    "t(",
    "tf(",
    "t(lang,",
    "tf(lang,",
    "t(self.lang,",
    "t(Lang::Ja,",
    "t(Lang::En,",
    "msg(lang,",
    "message_key:",
];

fn literals() -> BTreeMap<String, Vec<Use>> {
    let mut out: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    for f in code_files() {
        let mut text = std::fs::read_to_string(&f).unwrap();
        if let Some(i) = text.find("#[cfg(test)]\nmod tests") {
            text.truncate(i);
        }
        let bytes = text.as_bytes();
        for (i, _) in text.match_indices('"') {
            let rest = &bytes[i + 1..];
            let n = rest
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                .count();
            if n > 0 && rest.get(n) == Some(&b'"') {
                let lit = &text[i + 1..i + 1 + n];
                let line_start = text[..i].rfind('\n').map_or(0, |s| s + 1);
                let before = text[line_start..i].trim_end();
                // `t(` but not `get(`: the call's name starts there.
                let lookup = lit.contains('.')
                    && LOOKUPS.iter().any(|l| {
                        before.strip_suffix(l).is_some_and(|b| {
                            !b.ends_with(|c: char| c.is_alphanumeric() || c == '_')
                        })
                    });
                let e = out.entry(lit.to_string()).or_default();
                e.push(Use {
                    file: f.clone(),
                    lookup,
                });
            }
        }
    }
    out
}

/// Families whose last part is a literal somewhere in the code.
const LITERAL_SUFFIX_FAMILIES: [&str; 12] = [
    "error.not_found.",
    "error.not_permitted.",
    "error.conflict.",
    "error.identity_required.",
    "jp.",
    "jp.what.",
    "assist.error.",
    "resident.sign_in.need.",
    "resident.gender.",
    "staff.case.event.",
    "staff.case.identity.",
    "form.error.",
];

/// Keys built at run time, from the enums and constants that build them.
fn dynamic_keys() -> BTreeSet<String> {
    use cases::status::{Action, Status};
    use catalogue::model::{Channel, Channels, IdentityLevel, LIFE_EVENTS};
    let mut k = BTreeSet::new();
    let mut add = |prefix: &str, suffixes: &mut dyn Iterator<Item = String>| {
        for s in suffixes {
            k.insert(format!("{prefix}{s}"));
        }
    };
    add(
        "status.",
        &mut Status::ALL.iter().map(|s| s.as_str().into()),
    );
    add(
        "action.",
        &mut Action::ALL.iter().map(|s| s.as_str().into()),
    );
    add(
        "staff.case.event.",
        &mut Action::ALL.iter().map(|s| s.as_str().into()),
    );
    add(
        "channel.",
        &mut Channel::ALL.iter().map(|s| s.as_str().into()),
    );
    add(
        "mail.delivery.state.",
        &mut mail::outbox::State::ALL.iter().map(|s| s.as_str().into()),
    );
    add(
        "translation.kind.",
        &mut translation::EntryKind::ALL
            .iter()
            .map(|s| s.as_str().into()),
    );
    let channels = ["online", "both", "counter"];
    assert!(channels
        .iter()
        .all(|c| Channels::parse(c).is_some_and(|p| p.as_str() == *c)));
    add(
        "procedure.channels.",
        &mut channels.iter().map(|s| s.to_string()),
    );
    let levels = ["none", "signed_in", "my_number_card"];
    assert!(levels
        .iter()
        .all(|c| IdentityLevel::parse(c).is_some_and(|p| p.as_str() == *c)));
    add(
        "procedure.identity.",
        &mut levels.iter().map(|s| s.to_string()),
    );
    add(
        "staff.builder.type.",
        &mut catalogue::form::FieldType::ALL
            .iter()
            .map(|k| k.as_str().into()),
    );
    add(
        "life_event.",
        &mut LIFE_EVENTS.iter().map(|s| s.to_string()),
    );
    add(
        "visit.document.",
        &mut cases::visits::IdDocument::ALL
            .iter()
            .map(|d| d.as_str().into()),
    );
    {
        use desk::assisted::Status as A;
        add(
            "assist.status.",
            &mut [
                A::Editing,
                A::Confirming,
                A::Signed,
                A::Submitting,
                A::Submitted,
                A::Cancelled,
            ]
            .iter()
            .map(|s| s.as_str().into()),
        );
    }
    add(
        "faq.category.",
        &mut guide::faq::CATEGORIES.iter().map(|s| s.to_string()),
    );
    add(
        "prefs.text_size.",
        &mut kernel::prefs::TextSize::ALL
            .iter()
            .map(|s| s.as_str().into()),
    );
    {
        use time::Weekday::*;
        let days = [
            Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
        ];
        for prefix in [
            "counter.congestion.weekday.",
            "counter.congestion.weekday_long.",
        ] {
            add(
                prefix,
                &mut days
                    .iter()
                    .map(|d| counter::congestion::weekday_code(*d).into()),
            );
        }
    }
    add(
        "counter.csv.column.",
        &mut counter::congestion::CSV_COLUMNS
            .iter()
            .map(|c| c.to_string()),
    );
    k
}

fn catalog(lang: Lang) -> BTreeMap<String, String> {
    let src = i18n::SOURCES
        .iter()
        .find(|(l, _)| *l == lang)
        .unwrap_or_else(|| panic!("no locale file for {}", lang.code()))
        .1;
    i18n::parse_catalog(src)
        .unwrap_or_else(|e| panic!("locales/{}.toml: {e}", lang.code()))
        .into_iter()
        .collect()
}

fn placeholders(s: &str) -> BTreeSet<String> {
    s.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_string()))
        .collect()
}

#[test]
fn every_language_has_exactly_the_japanese_keys_with_the_same_placeholders() {
    let ja = catalog(Lang::Ja);
    let mut problems = Vec::new();
    for lang in Lang::ALL {
        let file = root().join(format!("kernel/locales/{}.toml", lang.code()));
        assert!(file.exists(), "{} is missing", file.display());
        let other = catalog(lang);
        for k in ja.keys().filter(|k| !other.contains_key(*k)) {
            problems.push(format!("{}: missing {k}", lang.code()));
        }
        for k in other.keys().filter(|k| !ja.contains_key(*k)) {
            problems.push(format!("{}: {k} is not in ja.toml", lang.code()));
        }
        for (k, v) in &other {
            if v.trim().is_empty() {
                problems.push(format!("{}: {k} is empty", lang.code()));
            }
            if let Some(j) = ja.get(k) {
                if placeholders(j) != placeholders(v) {
                    problems.push(format!(
                        "{}: {k} has placeholders {:?}, Japanese has {:?}",
                        lang.code(),
                        placeholders(v),
                        placeholders(j)
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_key_is_used_and_every_key_named_in_code_exists() {
    let ja = catalog(Lang::Ja);
    let lits = literals();
    let dynamic = dynamic_keys();

    let unused: Vec<&String> = ja
        .keys()
        .filter(|k| {
            if lits.contains_key(*k) || dynamic.contains(*k) {
                return false;
            }
            !LITERAL_SUFFIX_FAMILIES.iter().any(|prefix| {
                k.strip_prefix(prefix)
                    .is_some_and(|rest| lits.contains_key(rest))
            })
        })
        .collect();
    assert!(
        unused.is_empty(),
        "{} keys are never used (remove them, or list how they are built in dynamic_keys):\n{}",
        unused.len(),
        unused
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );

    // A literal looked up as a UI text must be a key.
    let mut missing = Vec::new();
    for (lit, uses) in &lits {
        for u in uses.iter().filter(|u| u.lookup) {
            if !ja.contains_key(lit) {
                missing.push(format!("{lit} ({})", u.file.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys named in code but not in ja.toml:\n{}",
        missing.join("\n")
    );

    // Every key built at run time exists.
    let absent: Vec<&String> = dynamic.iter().filter(|k| !ja.contains_key(*k)).collect();
    assert!(
        absent.is_empty(),
        "keys built at run time missing: {absent:?}"
    );
}

/// The test can fail: a made-up key is reported as unused, a missing one
/// as missing.
#[test]
fn the_checks_see_what_they_should() {
    let lits = literals();
    assert!(lits.contains_key("layout.skip_to_content"));
    assert!(!lits.contains_key("layout.no_such_key_anywhere"));
    let ja = catalog(Lang::Ja);
    let en = catalog(Lang::En);
    assert_eq!(ja.len(), en.len());
    assert_eq!(
        placeholders("「{field}」は{count}桁"),
        ["count", "field"].map(String::from).into()
    );
    assert!(dynamic_keys().contains("status.received"));
    assert!(
        lits["layout.language"].iter().any(|u| u.lookup),
        "a key nested in a template attribute is seen as looked up"
    );
}
