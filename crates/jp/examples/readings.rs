//! Prints the reading and the furigana of each line of standard input, to
//! check how `jp::reading` reads a city's content before adding entries to
//! `crates/jp/dict/extra.tsv`:
//!
//!     echo 住民票の写し | cargo run -p jp --example readings

use std::io::BufRead;

fn main() {
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("utf-8 input");
        let ruby: String = jp::reading::ruby(&line)
            .into_iter()
            .map(|p| match p.rt {
                Some(rt) => format!("{}({rt})", p.base),
                None => p.base,
            })
            .collect();
        println!("{}\n  {}\n  {ruby}", line, jp::reading::to_reading(&line));
    }
}
