//! Prints the reading and the furigana of each line of standard input, to
//! check how `jp::reading` reads a city's content before adding entries to
//! `crates/jp/dict/extra.tsv` or to the city's `readings` in its
//! `tenant.json` (given as the argument, its readings are applied):
//!
//!     echo 住民票の写し | cargo run -p jp --example readings
//!     echo 鹿渡 | cargo run -p jp --example readings -- data/demo/122289/tenant.json

use std::io::BufRead;

fn main() {
    let overrides = match std::env::args().nth(1) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).expect("tenant.json readable");
            let tenant: serde_json::Value = serde_json::from_str(&text).expect("tenant.json");
            let list = tenant["readings"].as_array().cloned().unwrap_or_default();
            jp::reading::Overrides::new(list.iter().map(|r| {
                (
                    r["surface"].as_str().unwrap_or_default().to_string(),
                    r["reading"].as_str().unwrap_or_default().to_string(),
                )
            }))
        }
        None => jp::reading::Overrides::default(),
    };
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("utf-8 input");
        let parts = jp::reading::ruby_with(&line, &overrides);
        let reading: String = parts
            .iter()
            .map(|p| match &p.rt {
                Some(rt) => rt.clone(),
                None => jp::reading::katakana_to_hiragana(&p.base),
            })
            .collect();
        let ruby: String = parts
            .into_iter()
            .map(|p| match p.rt {
                Some(rt) => format!("{}({rt})", p.base),
                None => p.base,
            })
            .collect();
        println!("{line}\n  {reading}\n  {ruby}");
    }
}
