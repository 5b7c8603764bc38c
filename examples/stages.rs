//! Times each stage of `netproof check` on one file, for finding where the
//! time goes before optimising (the whole command hides the split).
//!
//! ```sh
//! cargo run --release --example stages -- /tmp/w2.np
//! RAYON_NUM_THREADS=1 target/release/examples/stages /tmp/w2.np
//! ```

use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("stages: give a path");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("stages: {path}: {e}");
            std::process::exit(2);
        }
    };
    eprintln!("text read: {}", memory());
    let t = Instant::now();
    let parsed = netproof::syntax::parse(&text);
    let parse = t.elapsed();
    eprintln!("after parse: {}", memory());
    let t = Instant::now();
    let lowered = netproof::model::lower(&parsed.tree);
    let lower = t.elapsed();
    eprintln!("after lower: {}", memory());
    let t = Instant::now();
    drop(parsed);
    let drop_tree = t.elapsed();
    eprintln!("after dropping the tree: {}", memory());
    let t = Instant::now();
    let found = netproof::rules::run(&lowered.model);
    let rules = t.elapsed();
    let t = Instant::now();
    let verdicts = netproof::engine::evaluate(&lowered.model);
    let engine = t.elapsed();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    eprintln!("after engine: {}", memory());
    println!(
        "parse {:.0} ms, lower {:.0} ms, drop tree {:.0} ms, rules {:.0} ms ({} findings), engine {:.0} ms ({} verdicts)",
        ms(parse),
        ms(lower),
        ms(drop_tree),
        ms(rules),
        found.len(),
        ms(engine),
        verdicts.len()
    );
}

/// Current and peak resident memory, from `/proc/self/status` (Linux only;
/// elsewhere it says so).
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map_or("?", |l| l.trim_start_matches(name).trim())
            .to_string()
    };
    format!("rss {}, peak {}", field("VmRSS:"), field("VmHWM:"))
}
