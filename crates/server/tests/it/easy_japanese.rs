//! やさしい日本語 (`ja-x-easy`) content of the demo cities, checked against
//! the rules of 出入国在留管理庁・文化庁「在留支援のためのやさしい日本語
//! ガイドライン」 (2020): short sentences, one idea each, no honorific or
//! humble forms, few and common kanji. The texts come from the translation
//! memory `data/translations/ja-x-easy.json`, merged into the content files
//! by `scripts/content-translations.py merge`.
//!
//! Every ja-x-easy text in the demo content keeps the rules, and the texts a
//! resident meets first (the scope below) all have one. Over HTTP, pages
//! in easy Japanese show them without the 「ふつうの にほんご」 marker.

use std::collections::{BTreeSet, HashSet};

use kernel::i18n::Lang;
use reqwest::StatusCode;
use serde_json::{Map, Value};
use testkit::TestApp;

const EASY: &str = "ja-x-easy";

/// 学年別漢字配当表 (教育漢字), one line per grade.
const KYOIKU_KANJI: &str = include_str!("data/kyoiku_kanji.txt");
const KANJI_PER_GRADE: [usize; 6] = [80, 160, 200, 202, 193, 191];

/// The longest sentence, in characters without the spaces between words.
/// The guideline asks for short sentences without giving a number;
/// practical guides for easy Japanese give about 24 to 30 characters. We
/// take 30: a civic sentence names a place or a document, and these are
/// long words. What stands in （…） is an explanation the guideline
/// recommends adding after a hard word, so it is measured as a unit of its
/// own, not as part of the sentence around it.
const MAX_SENTENCE: usize = 30;

/// The most kanji a text may have, as a share of its characters (spaces,
/// the city's proper names and the official terms below left out). Only
/// texts of [`SHARE_FROM`] characters or more: a label or a name is one
/// word, which furigana reads.
const MAX_KANJI_SHARE: f64 = 0.30;
const SHARE_FROM: usize = 40;

/// Honorific and humble forms (and the polite お/ご words of the original
/// texts). 「〜て ください」 is allowed by the guideline.
const HONORIFIC: &[&str] = &[
    "ございます",
    "いたします",
    "致します",
    "申し上げ",
    "いただ",
    "頂",
    "くださいませ",
    "おります",
    "参り",
    "伺",
    "存じ",
    "なさ",
    "召し",
    "お越し",
    "ご覧",
    "お持ち",
    "お持ちの方",
    "ご案内",
    "ご相談",
    "ご確認",
    "ご本人",
    "ご家族",
    "ご自宅",
    "ご自分",
    "ご意見",
    "ご提案",
    "お支払",
    "お手続",
    "お電話",
    "お子さん",
    "お問い合わせ",
    "ご利用",
    "ご連絡",
];

/// Official words a resident must recognise on a document or a sign, kept
/// in kanji although some of their kanji are not 教育漢字 (furigana reads
/// them on every easy-Japanese page). Each with why it stays.
const TERMS: &[(&str, &str)] = &[
    (
        "戸籍",
        "family register: the name of the register and its certificates",
    ),
    (
        "本籍",
        "registered domicile: asked on every 戸籍 certificate request",
    ),
    (
        "除籍",
        "a closed family register: a certificate type on the fee list",
    ),
    (
        "謄本",
        "a certificate type printed on the request form and fee list",
    ),
    (
        "抄本",
        "a certificate type printed on the request form and fee list",
    ),
    (
        "全部事項証明書",
        "the official name of the 戸籍 certificate (謄本)",
    ),
    (
        "個人事項証明書",
        "the official name of the 戸籍 certificate (抄本)",
    ),
    ("附票", "戸籍の附票: a certificate type on the request form"),
    (
        "印鑑",
        "personal seal: 印鑑登録 and its certificate have no other name",
    ),
    (
        "結婚",
        "marriage: the life event; no common word without 婚",
    ),
    ("婚姻届", "the name of the marriage notification form"),
    ("離婚届", "the name of the divorce notification form"),
    (
        "離婚",
        "divorce: the life event; no common word without 離 and 婚",
    ),
    (
        "歳",
        "the counter of ages (18歳, 65歳 …) on forms and cards",
    ),
    ("介護", "care: 介護保険 is printed on the insurance card"),
    (
        "要支援",
        "the level of care need a resident is certified with",
    ),
    (
        "後期高齢者医療",
        "the name of the insurance for people aged 75 and over",
    ),
    (
        "児童扶養手当",
        "the name of the allowance for single-parent families",
    ),
    (
        "遺族基礎年金",
        "the name of the pension a bereaved family claims",
    ),
    (
        "運転免許証",
        "driving licence: the most common identity document",
    ),
    (
        "資格喪失証明書",
        "the certificate a resident asks a former employer for",
    ),
    ("粗大ごみ", "the name of the collection and its tickets"),
    ("口座振替", "the name of the direct debit on bank forms"),
    ("鑑札", "the dog's licence tag, by its official name"),
    (
        "死亡診断書",
        "the doctor's certificate on the death notification form",
    ),
    (
        "離職票",
        "the certificate of leaving a job from the employment office",
    ),
    (
        "教科用図書給与証明書",
        "the school's certificate of textbooks given, for a transfer",
    ),
    (
        "基礎年金番号",
        "the pension number printed on the pension book",
    ),
    (
        "引越しワンストップサービス",
        "the national service's name in マイナポータル",
    ),
];

/// The most-used procedures (ids are the same in both cities). The demo
/// spreads its synthetic applications evenly over the catalogue
/// (`server::demo` picks a procedure at random), so its counts say nothing
/// about use; these are the procedures a city hall's counters handle most:
/// moving in, out and within the city, the certificates of residence, of
/// the family register and of the seal, the seal registration, the My
/// Number card, the National Health Insurance and the child allowance.
const MOST_USED: [&str; 10] = [
    "tennyu",
    "tenshutsu",
    "tenkyo",
    "juminhyo-copy",
    "koseki-shomei",
    "inkan-toroku",
    "inkan-shomei",
    "mynumber-card",
    "kokuho-shikaku",
    "jido-teate",
];

/// The FAQ entries in scope: the first 20 public ones in the order of the
/// FAQ page (`guide::faq::list`: by category, then in the order entered).
const FAQ_TOP: usize = 20;

struct City {
    code: &'static str,
    tenant: Value,
    procedures: Value,
    faq: Value,
}

fn cities() -> Vec<City> {
    server::demo::TENANTS
        .iter()
        .map(|d| {
            let tenant: Value = serde_json::from_str(d.tenant).unwrap();
            let code = match tenant["code"].as_str().unwrap() {
                "122289" => "122289",
                "242021" => "242021",
                other => panic!("unknown demo city {other}"),
            };
            City {
                code,
                tenant,
                procedures: serde_json::from_str(d.procedures).unwrap(),
                faq: serde_json::from_str(d.faq).unwrap(),
            }
        })
        .collect()
}

/// A localised text as `scripts/content-translations.py` finds one: an
/// object of strings with a Japanese original.
fn is_text(v: &Value) -> Option<&Map<String, Value>> {
    let m = v.as_object()?;
    (m.get("ja").is_some_and(Value::is_string) && m.values().all(Value::is_string)).then_some(m)
}

/// Every text under `v`, with its JSON pointer.
fn texts<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a Map<String, Value>)>) {
    if let Some(t) = is_text(v) {
        out.push((at, t));
    } else if let Some(m) = v.as_object() {
        for (k, x) in m {
            texts(x, format!("{at}/{k}"), out);
        }
    } else if let Some(a) = v.as_array() {
        for (i, x) in a.iter().enumerate() {
            texts(x, format!("{at}/{i}"), out);
        }
    }
}

fn all_texts<'a>(v: &'a Value, at: &str) -> Vec<(String, &'a Map<String, Value>)> {
    let mut out = Vec::new();
    texts(v, at.to_string(), &mut out);
    out
}

fn kanji_list() -> HashSet<char> {
    let mut all = HashSet::new();
    let mut grade = 0;
    for line in KYOIKU_KANJI.lines().filter(|l| !l.starts_with('#')) {
        let (g, kanji) = line.split_once(": ").expect("<grade>: <kanji>");
        assert_eq!(g, (grade + 1).to_string(), "grades in order");
        assert_eq!(kanji.chars().count(), KANJI_PER_GRADE[grade], "grade {g}");
        all.extend(kanji.chars());
        grade += 1;
    }
    assert_eq!(grade, 6);
    all
}

fn is_kanji(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '々')
}

/// The city's own proper names, which no rewriting changes: its name,
/// prefecture, the places its `readings` list and its departments' names.
fn proper_names(tenant: &Value) -> Vec<String> {
    let mut names: Vec<String> = vec![
        tenant["name"]["ja"].as_str().unwrap().to_string(),
        tenant["prefecture"]["ja"].as_str().unwrap().to_string(),
    ];
    for r in tenant["readings"].as_array().unwrap() {
        names.push(r["surface"].as_str().unwrap().to_string());
    }
    for d in tenant["departments"].as_array().unwrap() {
        names.push(d["name"]["ja"].as_str().unwrap().to_string());
    }
    names.extend(TERMS.iter().map(|(t, _)| t.to_string()));
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names
}

/// A sentence without what stands in （…）, then each of those.
fn units(sentence: &str) -> Vec<String> {
    let mut main = String::new();
    let mut asides = Vec::new();
    let mut depth = 0;
    let mut aside = String::new();
    for c in sentence.chars() {
        match c {
            '（' => {
                if depth > 0 {
                    aside.push(c);
                } else {
                    aside.clear();
                }
                depth += 1;
            }
            '）' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    asides.push(aside.clone());
                } else {
                    aside.push(c);
                }
            }
            _ if depth > 0 => aside.push(c),
            _ => main.push(c),
        }
    }
    std::iter::once(main).chain(asides).collect()
}

fn length(s: &str) -> usize {
    s.chars().filter(|c| !matches!(c, ' ' | '\u{3000}')).count()
}

/// What is wrong with one easy-Japanese text, in words (empty: nothing).
fn problems(easy: &str, names: &[String], kanji: &HashSet<char>) -> Vec<String> {
    let mut out = Vec::new();
    for h in HONORIFIC {
        if easy.contains(h) {
            out.push(format!("honorific form 「{h}」"));
        }
    }
    // Proper names and official terms are masked before the kanji checks.
    let mut masked = easy.to_string();
    for n in names {
        masked = masked.replace(n.as_str(), &"\u{0}".repeat(n.chars().count()));
    }
    let outside: BTreeSet<char> = masked
        .chars()
        .filter(|c| is_kanji(*c) && *c != '々' && !kanji.contains(c))
        .collect();
    if !outside.is_empty() {
        let list: String = outside.into_iter().collect();
        out.push(format!("kanji outside 教育漢字: {list}"));
    }
    for sentence in easy.split(['。', '！', '？', '\n']) {
        for unit in units(sentence) {
            let n = length(&unit);
            if n > MAX_SENTENCE {
                out.push(format!("{n} characters (at most {MAX_SENTENCE}): {unit}"));
            }
            // Proxy for one idea per sentence: at most one 、 joining two
            // clauses; lists use ・ or と.
            if unit.matches('、').count() > 1 {
                out.push(format!("more than one 、 in a sentence: {unit}"));
            }
        }
    }
    let body: Vec<char> = masked
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{3000}' | '\u{0}'))
        .collect();
    if body.len() >= SHARE_FROM {
        let k = body.iter().filter(|c| is_kanji(**c)).count();
        if k as f64 > MAX_KANJI_SHARE * body.len() as f64 {
            out.push(format!(
                "kanji are {k} of {} characters (at most {:.0} %)",
                body.len(),
                MAX_KANJI_SHARE * 100.0
            ));
        }
    }
    out
}

/// The texts of one city a resident meets first, with where they are.
fn scope(city: &City) -> Vec<(String, &Map<String, Value>)> {
    // Every text of tenant.json: the name, address and office hours, the
    // departments and counters (the counter pages, the portal's cards, the
    // navigator's result) and the life events with all their questions,
    // hints and deadlines (手続きナビ).
    let mut out = all_texts(&city.tenant, "tenant.json#");
    let in_navi: Vec<&str> = city.tenant["life_events"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["items"].as_array().unwrap())
        .map(|i| i["procedure"].as_str().unwrap())
        .collect();
    for p in city.procedures.as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        if MOST_USED.contains(&id) {
            // Every text of a most-used procedure.
            out.extend(all_texts(p, &format!("procedures.json#{id}")));
            continue;
        }
        // The name of every other one (the portal's cards, the list,
        // the navigator's result)…
        out.extend(all_texts(&p["name"], &format!("procedures.json#{id}/name")));
        // …and the documents of those a life event names (the navigator's
        // result lists them).
        if in_navi.contains(&id) {
            out.extend(all_texts(
                &p["documents"],
                &format!("procedures.json#{id}/documents"),
            ));
        }
    }
    for (i, e) in faq_top(&city.faq) {
        out.extend(all_texts(e, &format!("faq.json#{i}")));
    }
    out
}

/// The first [`FAQ_TOP`] public entries in the FAQ page's order, with
/// their place in the file.
fn faq_top(faq: &Value) -> Vec<(usize, &Value)> {
    let rank = |c: &str| {
        guide::faq::CATEGORIES
            .iter()
            .position(|x| *x == c)
            .unwrap_or(guide::faq::CATEGORIES.len())
    };
    let mut public: Vec<(usize, &Value)> = faq
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, e)| e["audience"] == "public" && e["published"] != false)
        .collect();
    public.sort_by_key(|(i, e)| (rank(e["category"].as_str().unwrap()), *i));
    public.truncate(FAQ_TOP);
    public
}

#[test]
fn the_kanji_list_is_the_1026_of_the_grade_table() {
    let kanji = kanji_list();
    assert_eq!(kanji.len(), 1026);
    assert!(kanji.iter().all(|c| is_kanji(*c)));
    for c in ['一', '茨', '城', '届', '証', '帯'] {
        assert!(kanji.contains(&c), "{c}");
    }
    for c in ['籍', '鑑', '婚', '歳', '込', '越'] {
        assert!(!kanji.contains(&c), "{c} is not 教育漢字");
    }
}

/// The checks fail on what they name (they are not vacuous).
#[test]
fn the_rules_catch_what_they_name() {
    let kanji = kanji_list();
    let names = vec!["四街道市".to_string(), "戸籍".to_string()];
    let ok = "四街道市の 戸籍の 証明書を もらえます。窓口で もらえます。";
    assert_eq!(problems(ok, &names, &kanji), Vec::<String>::new());
    let one = |s: &str| {
        let p = problems(s, &names, &kanji);
        assert_eq!(p.len(), 1, "{s}: {p:?}");
        p[0].clone()
    };
    assert!(one("窓口に 参ります。").starts_with("honorific"));
    assert!(one("ご本人が 来て ください。").starts_with("honorific"));
    assert!(one("はんこを 押して ください。").contains("押"));
    assert!(one("印鑑を 持って 来て ください。").contains("鑑"));
    assert!(
        one("ひっこして きた 日から 14日以内に 市役所の 窓口で 届けを 出して ください。")
            .starts_with("33 characters")
    );
    // An explanation in （…） is its own unit.
    assert_eq!(
        problems(
            "住民票（住所を 証明する 紙）を 窓口で もらう ことが できます。",
            &names,
            &kanji
        ),
        Vec::<String>::new()
    );
    assert!(
        one("雨が ふったら、家に いて、外に 出ないで ください。").starts_with("more than one 、")
    );
    assert!(one(
        "市民税の 証明書と 住民票を 出す。国民健康保険の 保険証を 出す。年金手帳も 出す。市役所の 窓口で 出す。"
    )
    .starts_with("kanji are 31 of 47"));
}

/// Every ja-x-easy text in the demo content keeps the guideline's rules.
#[test]
fn every_easy_text_keeps_the_rules() {
    let kanji = kanji_list();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for city in cities() {
        let names = proper_names(&city.tenant);
        for (file, v) in [
            ("tenant.json", &city.tenant),
            ("procedures.json", &city.procedures),
            ("faq.json", &city.faq),
        ] {
            for (at, t) in all_texts(v, "") {
                let Some(easy) = t.get(EASY).and_then(Value::as_str) else {
                    continue;
                };
                checked += 1;
                for p in problems(easy, &names, &kanji) {
                    wrong.push(format!("{}/{file}#{at}: {p}", city.code));
                }
            }
        }
    }
    assert!(checked >= 1000, "{checked} easy texts");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The easy-Japanese UI texts of the pages in scope (the portal, the
/// procedure pages and forms, 手続きナビ, the FAQ, the counter pages, the
/// status lookup), by key prefix of `locales/ja-x-easy.toml`.
const UI_PREFIXES: [&str; 16] = [
    "portal.",
    "home.",
    "list.",
    "procedure.",
    "detail.",
    "apply.",
    "form.hint.",
    "life_event.",
    "navi.",
    "faq.category.",
    "counter.kiosk.",
    "counter.board.",
    "counter.ticket.",
    "counter.congestion.",
    "lookup.",
    "content.",
];

/// The UI texts those pages show keep the same rules. A `{placeholder}`
/// counts as four characters; the CSV column names of the open data
/// (`counter.congestion.csv.*`) and 手続きナビ's error messages to the
/// editor are left out.
#[test]
fn the_ui_texts_of_those_pages_keep_the_rules() {
    let kanji = kanji_list();
    let names: Vec<String> = TERMS.iter().map(|(t, _)| t.to_string()).collect();
    let src = kernel::i18n::SOURCES
        .iter()
        .find(|(l, _)| *l == Lang::JaEasy)
        .unwrap()
        .1;
    let catalog = kernel::i18n::parse_catalog(src).unwrap();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (key, value) in &catalog {
        if !UI_PREFIXES.iter().any(|p| key.starts_with(p))
            || key.starts_with("counter.congestion.csv.")
            || key.starts_with("navi.error.")
        {
            continue;
        }
        checked += 1;
        let mut text = String::new();
        let mut rest = value.as_str();
        while let Some(at) = rest.find('{') {
            text.push_str(&rest[..at]);
            text.push_str("〇〇〇〇");
            rest = rest[at..].find('}').map_or("", |e| &rest[at + e + 1..]);
        }
        text.push_str(rest);
        for p in problems(&text, &names, &kanji) {
            wrong.push(format!("{key}: {p}"));
        }
    }
    assert!(checked >= 150, "{checked} UI texts");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The texts a resident meets first all have easy Japanese (see [`scope`]).
#[test]
fn the_first_pages_are_in_easy_japanese() {
    let mut lacking = Vec::new();
    for city in cities() {
        let faq = faq_top(&city.faq);
        assert_eq!(faq.len(), FAQ_TOP, "{}", city.code);
        let ids: Vec<&str> = city
            .procedures
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        for id in MOST_USED {
            assert!(ids.contains(&id), "{}: {id}", city.code);
        }
        let scope = scope(&city);
        assert!(scope.len() > 250, "{}: {}", city.code, scope.len());
        for (at, t) in scope {
            if t.get(EASY)
                .and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
            {
                lacking.push(format!("{}/{at}: {}", city.code, t["ja"]));
            }
        }
    }
    assert!(lacking.is_empty(), "{}", lacking.join("\n"));
}

// ------------------------------------------------------------ over HTTP

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

/// The text a reader sees: tags dropped, furigana (`<rt>`, `<rp>`) left out.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let skip_to = ["<rt>", "<rp>"]
            .iter()
            .find(|t| rest.starts_with(**t))
            .map(|t| if *t == "<rt>" { "</rt>" } else { "</rp>" });
        let end = match skip_to {
            Some(close) => rest.find(close).map(|i| i + close.len()),
            None => rest.find('>').map(|i| i + 1),
        }
        .unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
}

fn easy_of(v: &Value) -> &str {
    v[EASY].as_str().expect("an easy text")
}

async fn pages_in_easy_japanese_show_the_easy_texts(app: &TestApp) {
    let marker = kernel::i18n::t(Lang::JaEasy, "content.ja_only");
    let c = app.client();
    for city in cities() {
        let code = city.code;
        let resident = app.resident(code, "my_number_card").await;
        // The portal: the city's name, its cards' procedures and departments.
        let html = page(&c, app, &format!("/t/{code}?lang=ja-x-easy")).await;
        assert!(!html.contains("class=\"ja-only\""), "{code}: {html}");
        let seen = visible(&html);
        assert!(!seen.contains(marker), "{code}");
        assert!(seen.contains(easy_of(&city.tenant["name"])), "{code}");
        // The portal's cards: the first 8 online procedures by department
        // and name, each with its department.
        let mut online: Vec<&Value> = city
            .procedures
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["channels"] != "counter")
            .collect();
        online.sort_by_key(|p| {
            (
                p["department"].as_str().unwrap(),
                p["name"]["ja"].as_str().unwrap(),
                p["id"].as_str().unwrap(),
            )
        });
        for p in online.iter().take(8) {
            let dept = city.tenant["departments"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["code"] == p["department"])
                .unwrap();
            let card = format!("{} ・", easy_of(&dept["name"]));
            assert!(seen.contains(easy_of(&p["name"])), "{code}: {}", p["id"]);
            assert!(seen.contains(&card), "{code}: {card}");
        }
        // A most-used procedure: name, description, documents, form link.
        let p = city
            .procedures
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == "tennyu")
            .unwrap();
        let html = page(
            &c,
            app,
            &format!("/t/{code}/procedures/tennyu?lang=ja-x-easy"),
        )
        .await;
        assert!(!html.contains("class=\"ja-only\""), "{code}: {html}");
        let seen = visible(&html);
        assert!(seen.contains(easy_of(&p["name"])), "{code}: {seen}");
        let first = easy_of(&p["description"]).split('。').next().unwrap();
        assert!(seen.contains(first), "{code}: {first}: {seen}");
        assert!(seen.contains(easy_of(&p["documents"][0])), "{code}");
        assert!(!seen.contains(p["description"]["ja"].as_str().unwrap()));
        // Its form: labels, hints and choices.
        let html = page(
            &resident,
            app,
            &format!("/t/{code}/procedures/tennyu/apply?lang=ja-x-easy"),
        )
        .await;
        assert!(!html.contains("class=\"ja-only\""), "{code}: {html}");
        let seen = visible(&html);
        for f in p["form"]["fields"].as_array().unwrap() {
            let label = easy_of(&f["label"]);
            assert!(seen.contains(label), "{code}: {label}");
        }
        // 手続きナビ: every question of moving in, in easy Japanese.
        let html = page(&c, app, &format!("/t/{code}/navi/moving-in?lang=ja-x-easy")).await;
        assert!(!html.contains("class=\"ja-only\""), "{code}: {html}");
        let seen = visible(&html);
        for q in city.tenant["life_events"][0]["questions"]
            .as_array()
            .unwrap()
        {
            assert!(seen.contains(easy_of(&q["text"])), "{code}: {}", q["code"]);
        }
        // 手続きナビ's result for a death with every answer yes: each
        // procedure with its deadline, place and documents.
        let death = &city.tenant["life_events"][3];
        assert_eq!(death["code"], "death");
        let answers: Vec<String> = death["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| format!("{}=yes", q["code"].as_str().unwrap()))
            .collect();
        let path = format!(
            "/t/{code}/navi/death/result?{}&lang=ja-x-easy",
            answers.join("&")
        );
        let html = page(&c, app, &path).await;
        assert!(!html.contains("class=\"ja-only\""), "{code}: {html}");
        let seen = visible(&html);
        for item in death["items"].as_array().unwrap() {
            if let Some(d) = item.get("deadline") {
                assert!(seen.contains(easy_of(d)), "{code}: {}", item["procedure"]);
            }
        }
        // The FAQ's first entry.
        let (_, e) = faq_top(&city.faq)[0];
        let html = page(&c, app, &format!("/t/{code}/faq?lang=ja-x-easy")).await;
        assert!(visible(&html).contains(easy_of(&e["question"])), "{code}");
    }
}

testkit::on_both_backends!(pages_in_easy_japanese_show_the_easy_texts);
