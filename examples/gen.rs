//! Writes a synthetic, clean design to standard output: `netproof check`
//! reports nothing on it, and every expectation in it holds.
//!
//! ```sh
//! cargo run --release --example gen -- 100000 > /tmp/big.np   # about 100,000 lines
//! cargo run --release --example gen -- w2 > /tmp/w2.np        # a benchmark workload: w1, w2, w3
//! cargo run --release --example gen -- vpcs-on-tgw 200 > /tmp/g.np   # one axis of the growth benchmark
//! ```

use netproof::gen::{generate, generate_shape, generate_workload, GenParams, Workload, SHAPES};
use std::io::Write;

fn main() {
    let arg = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "100000".to_string());
    let size = std::env::args().nth(2);
    let text = if let Some(size) = size {
        let Some(text) = size
            .parse::<usize>()
            .ok()
            .and_then(|n| generate_shape(&arg, n))
        else {
            eprintln!(
                "gen: give a shape ({}) and a size, not `{arg} {size}`",
                SHAPES.join(", ")
            );
            std::process::exit(2);
        };
        text
    } else if let Some(w) = Workload::by_name(&arg) {
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
