//! Front-end benchmark: parse, lower and fully check generated designs.
//!
//! ```sh
//! cargo bench --bench frontend
//! ```
//! Prints the median of several runs per stage and size. It uses no
//! benchmarking framework: the figures it reports are wall-clock medians,
//! which is what `docs/performance.md` records.

use netproof::gen::{generate, GenParams};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(f());
        samples.push(start.elapsed());
    }
    median(samples)
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters nothing.
    println!(
        "{:>9} {:>10} {:>12} {:>12} {:>12}",
        "lines", "bytes", "parse", "parse+lower", "check"
    );
    for lines in [1_000, 10_000, 100_000] {
        let text = generate(&GenParams {
            lines,
            ..GenParams::default()
        });
        let runs = if lines >= 100_000 { 7 } else { 15 };
        let parse = time(runs, || netproof::syntax::parse(&text));
        let lower = time(runs, || {
            let p = netproof::syntax::parse(&text);
            netproof::model::lower(&p.tree)
        });
        let check = time(runs, || {
            netproof::check::check_source("bench.np", text.clone())
        });
        let report = netproof::check::check_source("bench.np", text.clone());
        // The designs are meant to be valid input, so that the timings are
        // of the whole pipeline; behaviour rules may still find things in
        // them (NP206 on the instances of public subnets).
        let invalid: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| matches!(&d.code.as_str()[..3], "NP0" | "NP1"))
            .collect();
        assert!(
            invalid.is_empty(),
            "generated designs must be valid: {:?}",
            invalid.first()
        );
        println!(
            "{:>9} {:>10} {:>10.1}ms {:>10.1}ms {:>10.1}ms",
            text.lines().count(),
            text.len(),
            parse.as_secs_f64() * 1e3,
            lower.as_secs_f64() * 1e3,
            check.as_secs_f64() * 1e3
        );
    }
}
