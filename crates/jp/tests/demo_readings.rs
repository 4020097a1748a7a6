//! The readings of the demo content (tests/fixtures/demo-readings.tsv, at
//! least 300 words and phrases of both cities, verified against MeCab by
//! scripts/check-readings.py) are the ones jp::reading gives, with each
//! city's own readings from its tenant.json.

use std::collections::HashMap;

use jp::reading::{to_reading_with, Overrides};

const FIXTURE: &str = include_str!("fixtures/demo-readings.tsv");
const CITIES: [(&str, &str); 2] = [
    (
        "122289",
        include_str!("../../../data/demo/122289/tenant.json"),
    ),
    (
        "242021",
        include_str!("../../../data/demo/242021/tenant.json"),
    ),
];

fn overrides() -> HashMap<&'static str, Overrides> {
    CITIES
        .iter()
        .map(|(code, json)| {
            let tenant: serde_json::Value = serde_json::from_str(json).expect("tenant.json");
            let list = tenant["readings"].as_array().expect("readings").clone();
            let pairs = list.iter().map(|r| {
                (
                    r["surface"].as_str().expect("surface").to_string(),
                    r["reading"].as_str().expect("reading").to_string(),
                )
            });
            (*code, Overrides::new(pairs))
        })
        .collect()
}

#[test]
fn demo_content_is_read_as_the_fixture_says() {
    let by_city = overrides();
    let rows: Vec<Vec<&str>> = FIXTURE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').collect())
        .collect();
    assert!(rows.len() >= 300, "only {} rows", rows.len());
    let mut wrong = Vec::new();
    for row in &rows {
        let [phrase, reading, city, _reason] = row.as_slice() else {
            panic!("a row needs 4 columns: {row:?}");
        };
        let got = to_reading_with(phrase, &by_city[city]);
        if got != *reading {
            wrong.push(format!("{phrase}: {got} (fixture: {reading})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn a_city_reading_applies_to_that_city_only() {
    let by_city = overrides();
    assert_eq!(to_reading_with("諏訪町", &by_city["242021"]), "すわちょう");
    assert_eq!(to_reading_with("諏訪町", &by_city["122289"]), "すわまち");
    assert_eq!(
        to_reading_with("鹿放ケ丘", &by_city["122289"]),
        "ろくはなしがおか"
    );
}
