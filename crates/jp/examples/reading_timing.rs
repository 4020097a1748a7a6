//! How long the reading dictionary takes to load and a text to read, for
//! docs/PERFORMANCE.md:
//!
//!     cargo run --release -p jp --example reading_timing [FILE]
//!
//! FILE (default: the demo procedures of 四街道市) is read as text; every
//! line is annotated with ruby, 20 times over.

use std::time::Instant;

fn main() {
    let t0 = Instant::now();
    jp::reading::warm_up();
    let load = t0.elapsed();
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/demo/122289/procedures.json".into());
    let text = std::fs::read_to_string(&path).expect("readable file");
    let lines: Vec<&str> = text.lines().collect();
    let chars: usize = text.chars().count();
    let rounds = 20;
    let t1 = Instant::now();
    let mut parts = 0usize;
    for _ in 0..rounds {
        for line in &lines {
            parts += jp::reading::ruby(line).len();
        }
    }
    let per_round = t1.elapsed() / rounds;
    println!(
        "dictionary loaded in {:.0} ms; {path}: {chars} chars in {} lines read in {:.1} ms ({:.2} µs per 100 chars, {} parts)",
        load.as_secs_f64() * 1000.0,
        lines.len(),
        per_round.as_secs_f64() * 1000.0,
        per_round.as_secs_f64() * 1e6 / chars as f64 * 100.0,
        parts / rounds as usize
    );
}
