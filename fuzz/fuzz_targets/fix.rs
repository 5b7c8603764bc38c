//! The fixes of arbitrary bytes: apply every fix the findings carry, check
//! the result again and render the diff. Nothing may panic; a fixed text
//! is never the victim of overlapping edits (its fixes apply to disjoint
//! spans), and applying fixes to the fixed text again must not undo them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let report = netproof::check::check_source("fuzz.np", text.clone());
    let fixed = netproof::fix::apply(&text, &report.diagnostics);
    let _ = netproof::fix::unified_diff("fuzz.np", &text, &fixed.text);
    let again = netproof::check::check_source("fuzz.np", fixed.text.clone());
    let _ = netproof::fix::apply(&fixed.text, &again.diagnostics);
});
