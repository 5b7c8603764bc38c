//! No input makes netproof panic or hang: arbitrary text, mutated fixtures,
//! pathological nesting and very long lines all come back as diagnostics.

mod common;

use common::*;
use netproof::check::{check_source, FileReport};
use proptest::prelude::*;
use std::path::Path;

/// Every span of every diagnostic lies inside the text, on char boundaries.
fn assert_spans_valid(report: &FileReport) {
    let text = report.source.text.as_str();
    for d in &report.diagnostics {
        let labels = std::iter::once(&d.primary).chain(&d.secondary);
        for l in labels {
            let (s, e) = (l.span.start as usize, l.span.end as usize);
            assert!(
                s <= e && e <= text.len(),
                "{}: span {s}..{e} outside a text of {}",
                d.code,
                text.len()
            );
            assert!(
                text.is_char_boundary(s) && text.is_char_boundary(e),
                "{}: span splits a character",
                d.code
            );
        }
        for edit in d.fix.iter().flat_map(|f| &f.edits) {
            assert!(edit.span.end as usize <= text.len());
        }
    }
}

fn fixture_tokens() -> Vec<String> {
    let mut tokens = Vec::new();
    for path in np_files(Path::new("fixtures")) {
        let text = std::fs::read_to_string(root().join(path)).unwrap_or_default();
        tokens.extend(text.split_whitespace().map(str::to_string));
    }
    tokens.sort();
    tokens.dedup();
    tokens
}

fn fixture_texts() -> Vec<String> {
    np_files(Path::new("fixtures"))
        .into_iter()
        .map(|p| std::fs::read_to_string(root().join(p)).unwrap_or_default())
        .collect()
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Insert(usize, usize),
}

fn mutate(text: &str, vocabulary: &[String], mutations: &[Mutation]) -> String {
    // Keep the line structure: mutate tokens within the whole token stream
    // but rejoin with the original separators where possible.
    let mut tokens: Vec<String> = text.split(' ').map(str::to_string).collect();
    for m in mutations {
        let n = tokens.len().max(1);
        match *m {
            Mutation::Delete(i) if !tokens.is_empty() => {
                tokens.remove(i % n);
            }
            Mutation::Duplicate(i) if !tokens.is_empty() => {
                let t = tokens[i % n].clone();
                tokens.insert(i % n, t);
            }
            Mutation::Swap(i, j) if !tokens.is_empty() => tokens.swap(i % n, j % n),
            Mutation::Insert(i, w) if !vocabulary.is_empty() => {
                tokens.insert(
                    i % (tokens.len() + 1),
                    vocabulary[w % vocabulary.len()].clone(),
                );
            }
            _ => {}
        }
    }
    tokens.join(" ")
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Insert(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let report = check_source("fuzz.np", text);
        assert_spans_valid(&report);
    }

    #[test]
    fn arbitrary_token_soup_never_panics(words in proptest::collection::vec("[a-z{}\\[\\],;:/.0-9 -]{0,12}|->|<->|\n", 0..200)) {
        let report = check_source("soup.np", words.join(" "));
        assert_spans_valid(&report);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        file in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let texts = fixture_texts();
        let vocabulary = fixture_tokens();
        prop_assume!(!texts.is_empty());
        let text = mutate(&texts[file % texts.len()], &vocabulary, &mutations);
        let report = check_source("mutated.np", text);
        assert_spans_valid(&report);
    }
}

/// Simulates flows between every pair of addresses a (possibly broken)
/// design declares, and every expectation's representative packets, and
/// renders them: none of it may panic, and every walk ends.
fn simulate_everything(path: &str, text: &str) {
    use netproof::sim::{representative_packets, simulate_flow, simulate_flow_to, Packet, Start};
    let model = netproof::model::lower(&netproof::syntax::parse(text).tree).model;
    let source = netproof::check::SourceFile::new(path, text);
    let title = netproof::render::TraceTitle {
        src: "src".into(),
        dst: "dst".into(),
        at: None,
        service: "svc".into(),
    };
    let mut addrs: Vec<std::net::IpAddr> = model.hosts.iter().map(|h| h.addr.value).collect();
    addrs.extend(model.public_ips.iter().map(|p| p.addr.value));
    addrs.truncate(12);
    for &src in &addrs {
        for &dst in &addrs {
            let p = Packet {
                src,
                dst,
                proto: 6,
                sport: 40000,
                dport: 443,
            };
            let flow = simulate_flow(&model, Start::Address(src), p);
            assert!(flow.forward.hops.len() < 2000);
            let _ = netproof::render::render_trace_human(&source, &model, &title, &flow);
        }
    }
    for exp in &model.expectations {
        for probe in representative_packets(&model, exp) {
            let _ = simulate_flow_to(&model, probe.start, probe.packet, probe.intended);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn simulating_mutated_scenarios_never_panics(
        file in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let texts: Vec<String> = np_files(Path::new("fixtures/scenarios"))
            .into_iter()
            .map(|p| std::fs::read_to_string(root().join(p)).unwrap_or_default())
            .collect();
        let vocabulary = fixture_tokens();
        prop_assume!(!texts.is_empty());
        let text = mutate(&texts[file % texts.len()], &vocabulary, &mutations);
        simulate_everything("mutated.np", &text);
    }
}

#[test]
fn simulating_every_fixture_never_panics() {
    for path in np_files(Path::new("fixtures")) {
        let text = std::fs::read_to_string(root().join(&path)).unwrap_or_default();
        simulate_everything(&path.to_string_lossy(), &text);
    }
}

#[test]
fn deep_braces_give_a_diagnostic_not_a_stack_overflow() {
    for open in ["{", "[", "sddc a {", "vpc v 10.0.0.0/16 { route-table r {"] {
        let text = open.repeat(100_000);
        let report = check_source("deep.np", text);
        assert!(
            codes(&report).contains(&"NP001"),
            "no syntax error for deep `{open}`"
        );
        assert_spans_valid(&report);
    }
}

#[test]
fn a_very_long_line_is_handled() {
    // A megabyte of list items on one line: valid, and parsed.
    let members: Vec<String> = (0..60_000)
        .map(|i| format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256))
        .collect();
    let text = format!("sddc s {{\n  group big [{}]\n}}\n", members.join(", "));
    assert!(text.len() > 700_000);
    let report = check_source("long.np", text);
    // The group is used by nothing, which NP306 rightly notes; anything
    // else would be a problem with the long line.
    let other: Vec<&str> = codes(&report)
        .into_iter()
        .filter(|c| *c != "NP306")
        .collect();
    assert!(other.is_empty(), "{other:?}");

    // A megabyte of garbage on one line: one or more syntax errors.
    let report = check_source("garbage.np", "@".repeat(1_000_000));
    assert!(codes(&report).contains(&"NP001"));
    assert_spans_valid(&report);
}

#[test]
fn binary_junk_and_odd_line_endings_are_handled() {
    let report = check_source("nul.np", "sddc a {\0\0}\r\n\u{feff}vpc\r\n");
    assert_spans_valid(&report);
    assert!(!report.diagnostics.is_empty());
}
