//! NP301 benchmark: shadowed-rule analysis of one large gateway firewall.
//!
//! ```sh
//! cargo bench --bench np301
//! ```
//! For 1,000, 5,000 and 20,000 rules (`netproof::gen::firewall_design`),
//! prints the wall-clock median of several runs of the whole analysis: the
//! rules' packet sets, the first-match regions per uplink, and the covering
//! rules of every shadowed rule. Then the same, and all the behaviour
//! rules together, on workload W2 (50 firewalls of 1,000 rules applied to
//! three uplinks). Parsing and lowering are not timed.

use netproof::engine::space::Space;
use netproof::gen::{firewall_design, generate_workload, Workload};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>9}",
        "rules", "median", "min", "max", "findings"
    );
    for rules in [1_000, 5_000, 20_000] {
        let text = firewall_design(rules);
        let parsed = netproof::syntax::parse(&text);
        let lowered = netproof::model::lower(&parsed.tree);
        let model = &lowered.model;
        let runs = if rules >= 20_000 { 7 } else { 15 };
        let mut samples = Vec::with_capacity(runs);
        let mut findings = 0;
        for _ in 0..runs {
            let start = Instant::now();
            // A fresh space each run: its per-firewall caches would
            // otherwise keep the rule sets of the previous run.
            let space = Space::new(model);
            let mut out = Vec::new();
            netproof::rules::np301_shadowed_rule::check(&space, &mut out);
            samples.push(start.elapsed());
            findings = out.len();
            std::hint::black_box(out);
        }
        let (min, max) = (
            samples.iter().min().copied().unwrap_or_default(),
            samples.iter().max().copied().unwrap_or_default(),
        );
        println!(
            "{:>7} {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>9}",
            rules,
            median(samples).as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            findings
        );
    }
    let text = generate_workload(&Workload::W2);
    let parsed = netproof::syntax::parse(&text);
    let lowered = netproof::model::lower(&parsed.tree);
    let model = &lowered.model;
    let mut np301 = Vec::new();
    let mut all = Vec::new();
    let mut spaces = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        std::hint::black_box(Space::new(model));
        spaces.push(start.elapsed());
        let start = Instant::now();
        let space = Space::new(model);
        let mut out = Vec::new();
        netproof::rules::np301_shadowed_rule::check(&space, &mut out);
        np301.push(start.elapsed());
        let start = Instant::now();
        let space = Space::new(model);
        std::hint::black_box(netproof::rules::run_engine(&space));
        all.push(start.elapsed());
    }
    println!(
        "W2: the space alone {:.1}ms; with NP301 {:.1}ms, with every behaviour rule {:.1}ms (medians of 7)",
        median(spaces).as_secs_f64() * 1e3,
        median(np301).as_secs_f64() * 1e3,
        median(all).as_secs_f64() * 1e3
    );
}
