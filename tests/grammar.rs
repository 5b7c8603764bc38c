//! The grammar's examples and every fixture parse: only the NP001 fixtures
//! that are meant to fail may contain syntax errors.

mod common;

use common::*;
use std::path::Path;

#[test]
fn grammar_examples_are_clean() {
    let files = np_files(Path::new("grammar"));
    assert!(!files.is_empty(), "grammar/ has no examples");
    for path in files {
        let report = check_file(&path);
        assert!(
            report.diagnostics.is_empty(),
            "{} is not clean:\n{}",
            path.display(),
            render_all(&report)
        );
    }
}

#[test]
fn every_fixture_parses() {
    let files = np_files(Path::new("fixtures"));
    assert!(files.len() >= 20, "expected the rule and scenario fixtures");
    for path in files {
        let meant_to_fail =
            path.starts_with("fixtures/rules/NP001") && path.to_string_lossy().contains("fires");
        if meant_to_fail {
            continue;
        }
        let report = check_file(&path);
        assert!(
            !codes(&report).contains(&"NP001"),
            "{} has syntax errors:\n{}",
            path.display(),
            render_all(&report)
        );
    }
}

/// Every statement keyword the parser accepts appears in the normative
/// grammar as a quoted terminal, so the two cannot drift apart silently.
#[test]
fn grammar_names_every_statement_keyword() {
    let ebnf = std::fs::read_to_string(root().join("grammar/netproof.ebnf"))
        .expect("grammar/netproof.ebnf");
    for kw in netproof::syntax::STATEMENT_KEYWORDS {
        assert!(
            ebnf.contains(&format!("\"{kw}\"")) || ebnf.contains(&format!("'{kw}'")),
            "the grammar does not mention the keyword `{kw}`"
        );
    }
}
