//! How long furigana take on a page, for docs/PERFORMANCE.md: the
//! dictionary's load, then each HTML file given annotated as a citizen
//! page is (ruby over every Japanese text node), 50 times over.
//!
//!     cargo run --release -p kernel --example furigana_timing -- page.html …

use std::time::Instant;

fn main() {
    let t0 = Instant::now();
    jp::reading::warm_up();
    println!(
        "dictionary loaded in {:.0} ms",
        t0.elapsed().as_secs_f64() * 1000.0
    );
    let overrides = jp::reading::Overrides::new([("四街道", "よつかいどう")]);
    for path in std::env::args().skip(1) {
        let html = std::fs::read_to_string(&path).expect("readable file");
        let rounds = 50;
        let mut best = f64::MAX;
        let mut out = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            out = kernel::ruby::annotate_with(&html, &|s| jp::reading::ruby_with(s, &overrides))
                .len();
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "{path}: {} bytes → {out} bytes with ruby, best of {rounds}: {best:.2} ms",
            html.len()
        );
    }
}
