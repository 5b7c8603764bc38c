//! Feeds arbitrary bytes through the whole pipeline. Run with
//! `cargo +nightly fuzz run check` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let report = netproof::check::check_source("fuzz.np", text);
    for d in &report.diagnostics {
        assert!(d.primary.span.end as usize <= report.source.text.len());
    }
});
