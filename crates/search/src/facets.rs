//! Facet values (departments, life events) numbered at build, so the
//! matches of a query are counted per value with integers only.

use std::collections::HashMap;

use crate::Doc;

pub struct Facets {
    departments: Vec<String>,
    life_events: Vec<String>,
    /// Each document's department (`NONE` for none).
    doc_department: Vec<u32>,
    /// Each document's life events: `life_event_values[starts[d]..starts[d + 1]]`.
    starts: Vec<u32>,
    life_event_values: Vec<u32>,
}

const NONE: u32 = u32::MAX;

/// A value's number, numbering it when first seen.
fn number<'a>(names: &mut Vec<String>, seen: &mut HashMap<&'a str, u32>, v: &'a str) -> u32 {
    *seen.entry(v).or_insert_with(|| {
        names.push(v.to_string());
        names.len() as u32 - 1
    })
}

/// Matches per value of one facet.
pub struct Counts<'a> {
    names: &'a [String],
    n: Vec<usize>,
}

impl Counts<'_> {
    /// The values with at least one match, the most frequent first (ties
    /// by name).
    pub fn by_count(self) -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = self
            .n
            .into_iter()
            .enumerate()
            .filter(|(_, c)| *c > 0)
            .map(|(i, c)| (self.names[i].clone(), c))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

impl Facets {
    pub fn of(docs: &[Doc]) -> Self {
        let mut departments = Vec::new();
        let mut life_events = Vec::new();
        let mut seen_d = HashMap::new();
        let mut seen_e = HashMap::new();
        let doc_department = docs
            .iter()
            .map(|d| {
                d.department
                    .as_deref()
                    .map_or(NONE, |v| number(&mut departments, &mut seen_d, v))
            })
            .collect();
        let mut starts = vec![0];
        let mut life_event_values = Vec::new();
        for d in docs {
            for v in &d.life_events {
                life_event_values.push(number(&mut life_events, &mut seen_e, v));
            }
            starts.push(life_event_values.len() as u32);
        }
        Facets {
            departments,
            life_events,
            doc_department,
            starts,
            life_event_values,
        }
    }

    pub fn departments(&self) -> Counts<'_> {
        Counts {
            names: &self.departments,
            n: vec![0; self.departments.len()],
        }
    }

    pub fn life_events(&self) -> Counts<'_> {
        Counts {
            names: &self.life_events,
            n: vec![0; self.life_events.len()],
        }
    }

    /// Counts document `d` in both facets.
    pub fn count(&self, d: usize, departments: &mut Counts, life_events: &mut Counts) {
        let dep = self.doc_department[d];
        if dep != NONE {
            departments.n[dep as usize] += 1;
        }
        for &e in self.events(d) {
            life_events.n[e as usize] += 1;
        }
    }
}

/// A facet filter resolved to a value's number: `None` when the value is
/// not in the index (no document passes).
pub struct Filter(Option<u32>);

impl Facets {
    pub fn department_filter(&self, want: &str) -> Filter {
        Filter(
            self.departments
                .iter()
                .position(|v| v == want)
                .map(|i| i as u32),
        )
    }

    pub fn life_event_filter(&self, want: &str) -> Filter {
        Filter(
            self.life_events
                .iter()
                .position(|v| v == want)
                .map(|i| i as u32),
        )
    }

    pub fn has_department(&self, d: usize, f: &Filter) -> bool {
        f.0.is_some_and(|v| self.doc_department[d] == v)
    }

    pub fn has_life_event(&self, d: usize, f: &Filter) -> bool {
        f.0.is_some_and(|v| self.events(d).contains(&v))
    }

    fn events(&self, d: usize) -> &[u32] {
        &self.life_event_values[self.starts[d] as usize..self.starts[d + 1] as usize]
    }
}
