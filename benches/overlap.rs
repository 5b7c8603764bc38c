//! Overlap benchmark: parse and lower a design of 1,000,000 prefixes, then
//! run the two overlap checks, NP103 (within a site) and NP105 (across sites
//! that exchange routes).
//!
//! ```sh
//! cargo bench --bench overlap
//! ```
//! Prints the median of several runs per size, wall clock, as
//! `docs/performance.md` records it.

use netproof::gen::generate_prefixes;
use netproof::rules::{
    np103_overlapping_subnets as np103, np105_overlapping_connected_sites as np105,
};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    println!(
        "{:>9} {:>10} {:>12} {:>12} {:>12} {:>12}",
        "prefixes", "bytes", "parse+lower", "NP103", "NP105", "total"
    );
    for prefixes in [10_000, 100_000, 1_000_000] {
        let text = generate_prefixes(prefixes);
        let runs = if prefixes >= 1_000_000 { 7 } else { 11 };
        let (mut front, mut t103, mut t105, mut total) = (vec![], vec![], vec![], vec![]);
        for _ in 0..runs {
            let start = Instant::now();
            let parsed = netproof::syntax::parse(&text);
            let lowered = netproof::model::lower(&parsed.tree);
            let after_front = Instant::now();
            let mut out = Vec::new();
            np103::check(&lowered.model, &mut out);
            let after_103 = Instant::now();
            np105::check(&lowered.model, &mut out);
            let end = Instant::now();
            assert!(
                parsed.diagnostics.is_empty() && lowered.diagnostics.is_empty() && out.is_empty(),
                "the generated design must be clean"
            );
            front.push(after_front - start);
            t103.push(after_103 - after_front);
            t105.push(end - after_103);
            total.push(end - start);
            std::hint::black_box(lowered);
        }
        println!(
            "{:>9} {:>10} {:>10.1}ms {:>10.1}ms {:>10.1}ms {:>10.1}ms",
            prefixes,
            text.len(),
            ms(median(front)),
            ms(median(t103)),
            ms(median(t105)),
            ms(median(total))
        );
    }
}
