fn main() {
    for q in std::env::args().skip(1) {
        let s: Vec<String> = jp::reading::segments(&q)
            .iter()
            .map(|s| format!("{}[{}]", s.surface, s.reading.unwrap_or("-")))
            .collect();
        println!("{}", s.join(" "));
    }
}
