//! The code's structure, checked on every run of the suite:
//!
//! - no import circle between the modules of any crate (an edge a → b
//!   when file a names module b through `crate::` or `super::`);
//! - every table of the migrations has one owning crate, listed in
//!   docs/ARCHITECTURE.md ("Tables and their owners"), and no `.rs` file
//!   of another crate names it in its SQL: they call the owner's functions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ------------------------------------------------------------------ modules

/// A crate's modules: path segments (`["web", "page"]`) → source text.
pub(crate) type Modules = BTreeMap<Vec<String>, String>;

pub(crate) fn modules_of(src: &Path) -> Modules {
    let mut out = Modules::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut segs: Vec<String> = rel
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if matches!(
                segs.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                segs.pop();
            }
            out.insert(segs, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

/// Removes `//` comments (doc comments too) so that prose never counts as
/// an import.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths a file names through `crate::` or `super::`, each
/// with the segments after it (`crate::{a, b::c}` names `a` and `b::c`).
fn named_paths(text: &str) -> Vec<(bool, Vec<String>)> {
    let text = without_comments(text);
    let mut out = Vec::new();
    for (i, _) in text.match_indices("::") {
        let before = &text[..i];
        let kind = if before.ends_with("crate") && !is_ident_char(before, "crate") {
            true
        } else if before.ends_with("super") && !is_ident_char(before, "super") {
            false
        } else {
            continue;
        };
        let rest = &text[i + 2..];
        if let Some(inner) = rest.strip_prefix('{') {
            let inner = &inner[..inner.find('}').unwrap_or(inner.len())];
            for part in inner.split(',') {
                let part = part.split(" as ").next().unwrap_or("").trim();
                if !part.is_empty() {
                    out.push((kind, segments(part)));
                }
            }
        } else {
            out.push((kind, segments(rest)));
        }
    }
    out
}

fn is_ident_char(before: &str, word: &str) -> bool {
    before[..before.len() - word.len()]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

fn segments(path: &str) -> Vec<String> {
    path.split("::")
        .map(|s| {
            s.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .take_while(|s| !s.is_empty())
        .collect()
}

/// The import graph of a crate: module → the modules it names.
fn graph(mods: &Modules) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut out = BTreeMap::new();
    for (m, text) in mods {
        let mut targets = BTreeSet::new();
        for (is_crate, segs) in named_paths(text) {
            // `super::` is the parent of the file's own module.
            let mut path = if is_crate {
                Vec::new()
            } else {
                m[..m.len().saturating_sub(1)].to_vec()
            };
            let mut segs = segs.as_slice();
            while let Some(("super", rest)) = segs.split_first().map(|(a, r)| (a.as_str(), r)) {
                path.pop();
                segs = rest;
            }
            path.extend(segs.iter().cloned());
            // The longest prefix that is a module of this crate.
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| mods.contains_key(p));
            if let Some(t) = target.filter(|t| t != m) {
                targets.insert(t);
            }
        }
        out.insert(m.clone(), targets);
    }
    out
}

/// The strongly connected sets of two or more modules (Tarjan).
fn circles(g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on: BTreeSet<&'a Vec<String>>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Vec<String>) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.g[v] {
            let Some((w, _)) = t.g.get_key_value(w) else {
                continue;
            };
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut set = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                set.push(name(w));
                if w == v {
                    break;
                }
            }
            if set.len() > 1 {
                set.sort();
                t.out.push(set);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn name(m: &[String]) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

pub(crate) fn crates() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("src").is_dir())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

#[test]
fn no_import_circle_in_any_crate() {
    let mut found = Vec::new();
    for (krate, dir) in crates() {
        for c in circles(&graph(&modules_of(&dir.join("src")))) {
            found.push(format!("{krate}: {}", c.join(", ")));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

/// The check finds a circle added on purpose, through `crate::`, through
/// `super::` and across a directory module; and none in a one-way crate.
#[test]
fn the_circle_check_finds_a_circle() {
    let mods = |files: &[(&str, &str)]| -> Modules {
        files
            .iter()
            .map(|(p, t)| {
                let segs: Vec<String> = if p.is_empty() {
                    Vec::new()
                } else {
                    p.split('/').map(String::from).collect()
                };
                (segs, t.to_string())
            })
            .collect()
    };
    let one_way = mods(&[
        ("", "pub mod a; pub mod b; pub use a::X;"),
        (
            "a",
            "use crate::b::Y; // crate::a is mentioned here only in prose",
        ),
        ("b", "pub struct Y;"),
    ]);
    assert!(circles(&graph(&one_way)).is_empty());
    let with_crate = mods(&[("a", "use crate::b::Y;"), ("b", "fn f() { crate::a::g() }")]);
    assert_eq!(circles(&graph(&with_crate)), vec![vec!["a", "b"]]);
    let with_super_and_dir = mods(&[
        ("web", "pub mod page; pub mod body;"),
        ("web/page", "use super::body::Posted;"),
        ("web/body", "use crate::{x, web::page::Page};"),
        ("x", ""),
    ]);
    assert_eq!(
        circles(&graph(&with_super_and_dir)),
        vec![vec!["web::body", "web::page"]]
    );
}

// ------------------------------------------------------------------- tables

/// `table → owning crate` from docs/ARCHITECTURE.md.
fn owners() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let section = doc
        .split("## Tables and their owners")
        .nth(1)
        .expect("docs/ARCHITECTURE.md has a section \"Tables and their owners\"");
    let mut out = BTreeMap::new();
    for line in section.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let owner = cells[2].trim_matches('`').to_string();
        for table in cells[1].split(',') {
            out.insert(table.trim().trim_matches('`').to_string(), owner.clone());
        }
    }
    out
}

/// Tables the migrations create.
fn tables() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dialect in ["sqlite", "postgres"] {
        let dir = root().join("crates/kernel/migrations").join(dialect);
        for e in std::fs::read_dir(dir).unwrap() {
            let sql = std::fs::read_to_string(e.unwrap().path()).unwrap();
            for part in sql.split("CREATE TABLE ").skip(1) {
                let name: String = part
                    .trim_start_matches("IF NOT EXISTS ")
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name);
            }
        }
    }
    out
}

/// The tables a source file's string literals name after a SQL keyword.
fn tables_named(text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for literal in text.split('"').skip(1).step_by(2) {
        let words: Vec<String> = literal
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        for pair in words.windows(2) {
            if matches!(
                pair[0].as_str(),
                "from" | "join" | "into" | "update" | "table"
            ) && known.contains(&pair[1])
            {
                out.insert(pair[1].clone());
            }
        }
    }
    out
}

#[test]
fn every_table_has_one_owner_and_only_it_names_the_table() {
    let owners = owners();
    let tables = tables();
    let unowned: Vec<&String> = tables
        .iter()
        .filter(|t| !owners.contains_key(*t) && *t != "madoguchi_migrations")
        .collect();
    assert!(
        unowned.is_empty(),
        "tables without an owner in docs/ARCHITECTURE.md: {unowned:?}"
    );
    let crate_names: BTreeSet<String> = crates().into_iter().map(|(n, _)| n).collect();
    for owner in owners.values() {
        assert!(crate_names.contains(owner), "owner {owner} is not a crate");
    }
    let mut wrong = Vec::new();
    // The test harness is not a capability: it resets a test account's
    // second-factor replay marker directly.
    for (krate, dir) in crates().into_iter().filter(|(k, _)| k != "testkit") {
        for (m, text) in modules_of(&dir.join("src")) {
            for t in tables_named(&text, &tables) {
                let owner = owners.get(&t).map(String::as_str).unwrap_or("kernel");
                if owner != krate {
                    wrong.push(format!(
                        "{krate}/src/{}.rs names table {t} (owner: {owner})",
                        name(&m)
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "tables reached past their owner:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn table_names_are_found_in_sql_only() {
    let known: BTreeSet<String> = ["tickets", "staff"].map(String::from).into();
    let text = r#"
        // a comment about tickets FROM tickets is not SQL in a literal
        let a = "SELECT number FROM tickets WHERE tenant = $1";
        let b = "the staff"; let c = "UPDATE staff SET x = 1";
    "#;
    assert_eq!(
        tables_named(text, &known),
        ["staff", "tickets"].map(String::from).into()
    );
    assert!(tables_named(r#"let s = "tickets from the kiosk";"#, &known).is_empty());
}
