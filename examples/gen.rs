//! Writes a synthetic, clean design to standard output.
//!
//! ```sh
//! cargo run --release --example gen -- 100000 > /tmp/big.np
//! ```
//! The argument is the number of lines (default 100,000).

use netproof::gen::{generate, GenParams};
use std::io::Write;

fn main() {
    let lines = match std::env::args().nth(1).map(|a| a.parse::<usize>()) {
        None => 100_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("gen: the line count must be a whole number: {e}");
            std::process::exit(2);
        }
    };
    let text = generate(&GenParams {
        lines,
        ..GenParams::default()
    });
    if let Err(e) = std::io::stdout().write_all(text.as_bytes()) {
        eprintln!("gen: {e}");
        std::process::exit(2);
    }
}
