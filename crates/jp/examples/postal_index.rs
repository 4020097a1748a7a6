//! Measures Japan Post's postal data as the binary carries it: the size of
//! the embedded file, the time to build the index on the first lookup,
//! and a lookup's time afterwards. Figures in docs/PERFORMANCE.md.
//!
//!     cargo run --release -p jp --example postal_index

use std::time::Instant;

fn main() {
    let bytes = include_str!("../data/postal.txt").len();
    let code = jp::PostalCode::parse("284-0001").expect("code");
    let t = Instant::now();
    let a = code.address().expect("known");
    let first = t.elapsed();
    let n = jp::postal_data::len();
    let t = Instant::now();
    let mut found = 0;
    for i in 0..1_000_000u32 {
        let c = jp::PostalCode::parse(&format!("{:07}", (i * 9973) % 10_000_000)).expect("code");
        found += usize::from(c.address().is_some());
    }
    let per = t.elapsed() / 1_000_000;
    println!("embedded file: {bytes} bytes; {n} codes");
    println!(
        "index (code u32, municipality u16, town &str): about {} bytes",
        n * 24
    );
    println!(
        "first lookup (builds the index): {first:?} -> {}",
        a.joined()
    );
    println!("lookup afterwards (with parsing the code): {per:?} ({found} of 1,000,000 found)");
}
