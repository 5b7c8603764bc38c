//! `netproof fmt` on arbitrary bytes: it formats or refuses; what it
//! formats keeps every character but whitespace (in order), keeps the
//! meaning (the syntax tree and the model, positions aside), and formatting
//! it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The syntax tree and model of a text with its positions erased, so a
/// text and its formatted version compare equal when only layout differs.
fn meaning(text: &str) -> String {
    let parsed = netproof::syntax::parse(text);
    let lowered = netproof::model::lower(&parsed.tree);
    let codes: Vec<&str> = parsed
        .diagnostics
        .iter()
        .chain(&lowered.diagnostics)
        .map(|d| d.code.as_str())
        .collect();
    let dump = format!("{:?}\n{:?}\n{codes:?}", parsed.tree.items, lowered.model);
    let mut out = String::with_capacity(dump.len());
    let mut rest = dump.as_str();
    while let Some(at) = rest.find("Span { start: ") {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        let after = &rest[at..];
        let close = after.find('}').map_or(after.len(), |c| c + 1);
        rest = &after[close..];
    }
    out.push_str(rest);
    out
}

fn ink(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let Ok(once) = netproof::format::format_source(&text) else {
        return;
    };
    assert_eq!(ink(&text), ink(&once), "formatting changed more than whitespace");
    let twice = netproof::format::format_source(&once);
    assert_eq!(twice.as_deref(), Ok(once.as_str()), "formatting is not idempotent");
    assert_eq!(meaning(&text), meaning(&once), "formatting changed the meaning");
});
