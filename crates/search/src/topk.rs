//! The top of a query's matches without scoring them all.
//!
//! The first pass ([`TenantIndex::bound`]) gives every match a lower and
//! an upper bound of its score. The k-th highest lower bound is a score
//! that k matches reach at least, so a match whose upper bound is below it
//! cannot be in the top k. The others are scored exactly
//! ([`TenantIndex::doc_score`]), highest upper bound first, until the
//! next upper bound is below the k-th exact score found so far.

use std::cmp::Ordering;

use crate::index::{Bound, Scored, TenantIndex, Term};

/// The result order: best score first; among equals, by kind then id.
pub fn order(ix: &TenantIndex, a: (usize, Scored), b: (usize, Scored)) -> Ordering {
    b.1.score
        .total_cmp(&a.1.score)
        .then_with(|| {
            ix.docs[a.0]
                .kind
                .code()
                .cmp(ix.docs[b.0].kind.code())
                .reverse()
        })
        .then_with(|| ix.docs[a.0].id.cmp(&ix.docs[b.0].id))
}

/// The first `k` of `matched` (documents and their bounds) in result
/// order, with their exact scores: the same as scoring every match and
/// sorting.
pub fn top(
    ix: &TenantIndex,
    variants: &[(Vec<Term>, f32)],
    mut matched: Vec<(usize, Bound)>,
    k: usize,
) -> Vec<(usize, Scored)> {
    if k == 0 {
        return Vec::new();
    }
    if matched.len() > k {
        let mut lows: Vec<f32> = matched.iter().map(|m| m.1.lo).collect();
        let (_, kth, _) = lows.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
        let floor = *kth;
        matched.retain(|m| m.1.hi >= floor);
    }
    matched.sort_unstable_by(|a, b| b.1.hi.total_cmp(&a.1.hi));
    let mut best: Vec<(usize, Scored)> = Vec::with_capacity(k + 1);
    for (d, b) in matched {
        // Equal to the k-th score may still come first by kind or id.
        if best.len() == k && b.hi < best[k - 1].1.score {
            break;
        }
        let s = (d, ix.doc_score(variants, d));
        let at = best.partition_point(|x| order(ix, *x, s) == Ordering::Less);
        if at < k {
            best.insert(at, s);
            best.truncate(k);
        }
    }
    best
}

/// The pruned path against exhaustive scoring of every document (the
/// scoring before pruning) on random corpora and queries.
#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use kernel::i18n::Text;

    use super::*;
    use crate::index::{terms_of, Scratch};
    use crate::{run, synonyms, Audience, Doc, DocKind, SearchQuery};

    const WORDS: &[&str] = &[
        "住民票",
        "印鑑登録",
        "戸籍謄本",
        "マイナンバーカード",
        "児童手当",
        "国民健康保険",
        "粗大ごみ",
        "犬",
        "転入届",
        "証明書",
        "保育園",
        "予防接種",
        "がん検診",
        "ふるさと納税",
        "避難所",
        "空き家",
        "補助金",
        "手数料",
        "請求",
        "申請",
        "交付",
        "更新",
        "郵送",
        "窓口",
        "コンビニ",
        "じゅうみんひょう",
        "こせき",
        "Residence",
        "certificate",
        "2024",
        "14",
    ];
    const GLUE: &[&str] = &["の", "を", "は", "、", "。", " ", "について", "します"];

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 as usize
        }
        fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
            v[self.next() % v.len()]
        }
        /// A few words, glued, with now and then a character changed.
        fn phrase(&mut self, max: usize) -> String {
            let n = 1 + self.next() % max;
            let mut s = String::new();
            for i in 0..n {
                if i > 0 {
                    s.push_str(self.pick(GLUE));
                }
                let w = self.pick(WORDS);
                if self.next().is_multiple_of(8) {
                    // A typo: one character replaced.
                    let chars: Vec<char> = w.chars().collect();
                    let at = self.next() % chars.len();
                    let typo: String = chars
                        .iter()
                        .enumerate()
                        .map(|(i, c)| if i == at { '表' } else { *c })
                        .collect();
                    s.push_str(&typo);
                } else {
                    s.push_str(w);
                }
            }
            s
        }
    }

    fn corpus(rng: &mut Rng, n: usize) -> TenantIndex {
        // Titles repeat, so many scores tie and the order by kind and id
        // is exercised.
        let titles: Vec<String> = (0..n / 4 + 1).map(|_| rng.phrase(3)).collect();
        let docs = (0..n)
            .map(|i| Doc {
                id: format!("d{}-{i}", rng.next() % 1000),
                kind: DocKind::ALL[rng.next() % 4],
                audience: if rng.next().is_multiple_of(7) {
                    Audience::Staff
                } else {
                    Audience::Public
                },
                title: Text::ja_only(&titles[rng.next() % titles.len()]),
                summary: if i % 3 == 0 {
                    Text::ja_only(rng.phrase(4))
                } else {
                    Text::default()
                },
                body: Text::ja_only(rng.phrase(12)),
                keywords: (0..rng.next() % 3)
                    .map(|_| rng.pick(WORDS).to_string())
                    .collect(),
                url: format!("/p/{i}"),
                department: (!rng.next().is_multiple_of(5))
                    .then(|| format!("dep{}", rng.next() % 6)),
                life_events: (0..rng.next() % 3)
                    .map(|_| format!("le{}", rng.next() % 4))
                    .collect(),
            })
            .collect::<Vec<_>>();
        let mut counts: HashMap<String, u64> = HashMap::new();
        for d in &docs {
            if rng.next().is_multiple_of(2) {
                counts.insert(d.id.clone(), (rng.next() % 50) as u64);
            }
        }
        TenantIndex::build(docs).with_popularity(&counts)
    }

    /// Hits (id, score, coverage), total, department and life-event counts.
    type Outcome = (
        Vec<(String, f32, f32)>,
        usize,
        Vec<(String, usize)>,
        Vec<(String, usize)>,
    );

    /// Every document scored, every match sorted: the search before
    /// pruning.
    fn exhaustive(ix: &TenantIndex, groups: &[Vec<String>], q: &SearchQuery) -> Outcome {
        let mut scores = vec![Scored::default(); ix.len()];
        let mut scratch = Scratch::new(ix.len());
        for (v, weight) in synonyms::expand(groups, &q.text) {
            let words: Vec<String> = v.split(' ').map(str::to_string).collect();
            ix.score(&terms_of(&words), weight, &mut scratch, &mut scores);
        }
        let mut deps: BTreeMap<String, usize> = BTreeMap::new();
        let mut les: BTreeMap<String, usize> = BTreeMap::new();
        let mut matched = Vec::new();
        for (d, &s) in scores.iter().enumerate() {
            if s.score <= 0.0 || !ix.visible(d, q.audience, &q.kinds) {
                continue;
            }
            let doc = &ix.docs[d];
            if let Some(dep) = &doc.department {
                *deps.entry(dep.clone()).or_default() += 1;
            }
            for le in &doc.life_events {
                *les.entry(le.clone()).or_default() += 1;
            }
            if q.department
                .as_ref()
                .is_none_or(|w| doc.department.as_ref() == Some(w))
                && q.life_event
                    .as_ref()
                    .is_none_or(|w| doc.life_events.contains(w))
            {
                matched.push((d, s));
            }
        }
        matched.sort_by(|a, b| order(ix, *a, *b));
        let total = matched.len();
        let hits = matched
            .into_iter()
            .skip(q.offset)
            .take(q.limit)
            .map(|(d, s)| (ix.docs[d].id.clone(), s.score, s.coverage))
            .collect();
        let by_count = |m: BTreeMap<String, usize>| {
            let mut v: Vec<(String, usize)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        };
        (hits, total, by_count(deps), by_count(les))
    }

    #[test]
    fn pruned_top_equals_exhaustive_scoring() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let groups = synonyms::folded(&[synonyms::Group {
            id: "1".into(),
            terms: vec!["マイナ".into(), "マイナンバーカード".into()],
            updated_at: 0,
            updated_by: String::new(),
        }]);
        let mut compared = 0;
        let mut pruned_hits = 0;
        for round in 0..12 {
            let ix = corpus(&mut rng, [40, 300, 2000][round % 3]);
            for _ in 0..150 {
                let mut text = rng.phrase(4);
                if rng.next().is_multiple_of(5) {
                    text.push_str("マイナ");
                }
                let q = SearchQuery {
                    text,
                    audience: if rng.next().is_multiple_of(3) {
                        Audience::Staff
                    } else {
                        Audience::Public
                    },
                    kinds: if rng.next().is_multiple_of(4) {
                        vec![DocKind::Faq, DocKind::Procedure]
                    } else {
                        vec![]
                    },
                    department: (rng.next().is_multiple_of(4))
                        .then(|| format!("dep{}", rng.next() % 7)),
                    life_event: (rng.next().is_multiple_of(6))
                        .then(|| format!("le{}", rng.next() % 5)),
                    limit: [1, 5, 20, 50][rng.next() % 4],
                    offset: [0, 0, 3, 20][rng.next() % 4],
                    ..Default::default()
                };
                let got = run(&ix, &groups, &q);
                let (hits, total, deps, les) = exhaustive(&ix, &groups, &q);
                let got_hits: Vec<(String, f32, f32)> = got
                    .hits
                    .iter()
                    .map(|h| (h.id.clone(), h.score, h.coverage))
                    .collect();
                assert_eq!(got_hits, hits, "query {q:?}");
                assert_eq!(got.total, total, "query {q:?}");
                assert_eq!(got.departments, deps, "query {q:?}");
                assert_eq!(got.life_events, les, "query {q:?}");
                compared += 1;
                pruned_hits += hits.len();
            }
        }
        assert_eq!(compared, 1800);
        // The queries do find pages (the comparison is not of empty lists).
        assert!(pruned_hits > 10_000, "{pruned_hits}");
    }
}
