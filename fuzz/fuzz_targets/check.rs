//! The whole check of arbitrary bytes: parser, model, every rule, the
//! engine (expectations and the rules that use it), then every emitter
//! (human, JSON, SARIF) over the result. Nothing may panic, and every span
//! must lie inside the text. Run with `scripts/fuzz.sh` (or
//! `cargo +nightly fuzz run check` from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netproof::render::{Emitter, HumanEmitter, JsonEmitter, SarifEmitter};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let report = netproof::check::check_source("fuzz.np", text);
    let len = report.source.text.len();
    for d in &report.diagnostics {
        assert!(d.primary.span.start <= d.primary.span.end);
        assert!(d.primary.span.end as usize <= len);
        for label in &d.secondary {
            assert!(label.span.end as usize <= len);
        }
    }
    let reports = [report];
    let emitters: [Box<dyn Emitter>; 3] = [
        Box::new(HumanEmitter::plain()),
        Box::new(JsonEmitter),
        Box::new(SarifEmitter::new(None)),
    ];
    for emitter in emitters {
        let mut out = Vec::new();
        assert!(emitter.emit(&reports, &mut out).is_ok());
    }
});
