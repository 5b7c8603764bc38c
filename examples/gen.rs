//! Writes a synthetic, clean design to standard output: `netproof check`
//! reports nothing on it, and every expectation in it holds.
//!
//! ```sh
//! cargo run --release --example gen -- 100000 > /tmp/big.np   # about 100,000 lines
//! cargo run --release --example gen -- w2 > /tmp/w2.np        # a benchmark workload: w1, w2, w3
//! ```

use netproof::gen::{generate, generate_workload, GenParams, Workload};
use std::io::Write;

fn main() {
    let arg = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "100000".to_string());
    let text = if let Some(w) = Workload::by_name(&arg) {
        generate_workload(&w)
    } else {
        match arg.parse::<usize>() {
            Ok(lines) => generate(&GenParams {
                lines,
                ..GenParams::default()
            }),
            Err(_) => {
                eprintln!("gen: give a line count or a workload name (w1, w2, w3), not `{arg}`");
                std::process::exit(2);
            }
        }
    };
    if let Err(e) = std::io::stdout().write_all(text.as_bytes()) {
        eprintln!("gen: {e}");
        std::process::exit(2);
    }
}
