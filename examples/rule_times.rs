//! Times each behaviour rule on one design: `cargo run --release --example
//! rule_times -- design.np`. For finding which rule a slow check spends on.
use netproof::engine::space::Space;
use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: rule_times FILE");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let model = netproof::model::lower(&netproof::syntax::parse(&text).tree).model;
    let space = Space::new(&model);
    // As `check` does: every firewall's rule sets first, so that the first
    // rule to cross a firewall is not charged for them.
    let t = Instant::now();
    netproof::engine::warm::firewall_rule_sets(&space);
    println!("firewall rule sets: {:?}", t.elapsed());
    // `RULES=NP405,NP303` times only those rules (for profiling one).
    let only = std::env::var("RULES").ok();
    let wanted = |code: String| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|c| c == code))
    };
    for (code, rule) in netproof::rules::ENGINE_RULES {
        if !wanted(code.to_string()) {
            continue;
        }
        let t = Instant::now();
        let mut out = Vec::new();
        rule(&space, &mut out);
        println!("{code}: {:?} ({} findings)", t.elapsed(), out.len());
    }
    for (code, rule) in netproof::rules::MODEL_RULES {
        if !wanted(code.to_string()) {
            continue;
        }
        let t = Instant::now();
        let mut out = Vec::new();
        rule(&model, &mut out);
        println!("{code}: {:?} ({} findings)", t.elapsed(), out.len());
    }
}
