//! The human output of every command holds up against hostile designs:
//! findings far along a line, control characters, and inputs built to make
//! the output or the work grow faster than the input.

mod common;

use common::{netproof, scratch, status, write};
use std::process::Output;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A C0 or C1 control character other than a line break or a tab: what
/// starts a terminal escape sequence.
fn raw_control(s: &str) -> Option<char> {
    s.chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
}

/// Runs every command that renders human diagnostics on `file` in `dir`:
/// `check` (stdout), and `fmt`, `trace` and `reach`, which show a design's
/// errors on stderr.
fn every_human_command(dir: &std::path::Path, file: &str) -> Vec<(&'static str, Output)> {
    vec![
        ("check", netproof(dir, &["check", file])),
        ("fmt", netproof(dir, &["fmt", "--check", file])),
        ("trace", netproof(dir, &["trace", file, "a", "b"])),
        (
            "reach",
            netproof(dir, &["reach", file, "--from", "a", "--to", "b"]),
        ),
    ]
}

#[test]
fn a_finding_far_along_a_line_is_shown_with_its_real_column() {
    for column in [70_000usize, 1_000_000] {
        let dir = scratch("render", &format!("far_along_{column}"));
        // A syntax error (so `fmt` refuses too) exactly at `column`, with a
        // megabyte or so of design before it on the line.
        let pad = " ".repeat(column - 1);
        write(
            &dir,
            "far.np",
            format!("{pad}@ vpc shop 10.0.0.0/16 {{}}\n"),
        );
        for (command, out) in every_human_command(&dir, "far.np") {
            let shown = text(&out);
            assert_ne!(status(&out), 101, "{command} at {column} panicked");
            assert!(
                shown.contains(&format!("[far.np:1:{column}]")),
                "{command} at {column}: {shown}"
            );
            assert!(
                shown.contains(&format!("only columns {}-", column - 80)),
                "{command} at {column} says what it cut: {shown}"
            );
            // A window of the line, not the line.
            assert!(
                shown.len() < 4_000,
                "{command} at {column}: {} bytes",
                shown.len()
            );
        }
    }
}

#[test]
fn control_characters_from_a_design_reach_the_terminal_as_escapes() {
    let dir = scratch("render", "control_characters");
    // An escape sequence in a comment quoted in a snippet, in a name, in a
    // string, a C1 control and a bell.
    let design = "# \u{1b}]0;owned\u{7} title\n\
                  vpc shop\u{1b}[2J 10.0.0.1/16 {}\n\
                  vpc \"\u{9b}31m\" 10.1.0.1/16 {}\n";
    write(&dir, "esc.np", design);
    for (command, out) in every_human_command(&dir, "esc.np") {
        let shown = text(&out);
        assert_eq!(raw_control(&shown), None, "{command}: {shown:?}");
        assert!(shown.contains("\\u{1b}"), "{command}: {shown}");
    }
    // The machine formats escape them as their grammars require.
    for format in ["json", "sarif"] {
        let out = netproof(&dir, &["check", "--format", format, "esc.np"]);
        let shown = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(raw_control(&shown), None, "{format}: {shown:?}");
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(&shown);
        assert!(parsed.is_ok(), "{format}: {shown}");
    }
}

#[test]
fn a_path_with_control_characters_is_escaped_in_the_report() {
    let dir = scratch("render", "control_path");
    let name = "x\u{1b}[31m.np";
    write(&dir, name, "vpc shop 10.0.0.1/16 {}\n");
    let out = netproof(&dir, &["check", name]);
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(raw_control(&shown), None, "{shown:?}");
    // The path is shown quoted with Rust's escapes (`files::shown`).
    assert!(shown.contains("[\"x\\u{1b}[31m.np\":1:10]"), "{shown}");
}

/// `n` syntax errors on one line of about `n * 200` bytes.
fn findings_on_one_line(n: usize) -> String {
    let mut line = String::new();
    for _ in 0..n {
        line.push_str(&" ".repeat(199));
        line.push('@');
    }
    line.push('\n');
    line
}

#[test]
fn many_findings_on_one_long_line_print_a_bounded_window_each() {
    let dir = scratch("render", "many_on_one_line");
    let n = 1_500;
    write(&dir, "line.np", findings_on_one_line(n));
    let out = netproof(&dir, &["check", "line.np"]);
    let shown = text(&out);
    assert_eq!(status(&out), 1, "{shown}");
    // The first 1,000 are shown, each with its own column, and the rest
    // counted; every one is in the summary.
    assert!(shown.contains("[line.np:1:200]"));
    assert!(shown.contains("[line.np:1:200000]"));
    assert!(!shown.contains("[line.np:1:200200]"));
    assert!(
        shown.contains("note: 500 more findings in `line.np` not shown"),
        "{}",
        &shown[shown.len().saturating_sub(600)..]
    );
    assert!(
        shown.contains(&format!("{n} errors")),
        "the summary counts all"
    );
    // About 1 KB per finding shown, however long the line.
    assert!(shown.len() < 1_000 * 1_500, "{} bytes", shown.len());
    // The JSON output keeps every finding.
    let out = netproof(&dir, &["check", "--format", "json", "line.np"]);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the JSON output parses");
    let all = json["diagnostics"].as_array().map_or(0, Vec::len);
    assert_eq!(all, n);
}

/// `sites` VM networks that each declare a VM `x`, and `references`
/// expectations that name `x` twice without a site.
fn ambiguous_design(sites: usize, references: usize) -> String {
    let mut text = String::new();
    for i in 0..sites {
        text.push_str(&format!(
            "vmnetwork n{i} {{\n  subnet s 10.0.1.0/24\n  vm x 10.0.1.10 in s\n}}\n"
        ));
    }
    for _ in 0..references {
        text.push_str("expect reach x -> x any\n");
    }
    text
}

#[test]
fn an_ambiguous_name_describes_a_bounded_number_of_candidates() {
    let (sites, references) = (300, 200);
    let report = netproof::check::check_source("amb.np", ambiguous_design(sites, references));
    let ambiguous: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "NP002")
        .collect();
    assert_eq!(ambiguous.len(), 2 * references);
    for d in &ambiguous {
        assert!(
            d.message.contains(&format!("{sites} declarations fit")),
            "{}",
            d.message
        );
        assert_eq!(
            d.secondary.len(),
            netproof::rules::np002_undefined_reference::MAX_CANDIDATES
        );
        let help = d.help.as_deref().unwrap_or("");
        assert!(help.contains("`n0.x` or `n1.x`"), "{help}");
        assert!(
            help.contains(&format!("one of {} more", sites - 5)),
            "{help}"
        );
    }
    // The human output grows with the references, not with references
    // times declarations.
    let shown = common::render_all(&report);
    assert!(
        shown.len() < ambiguous.len() * 2_000,
        "{} bytes for {} findings",
        shown.len(),
        ambiguous.len()
    );
}

#[test]
fn messages_quoting_arguments_escape_control_characters() {
    let dir = scratch("render", "messages_quoting_arguments");
    write(
        &dir,
        "d.np",
        "vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n}\n",
    );
    let evil = "web\u{1b}]0;pwned\u{7}";
    for args in [
        &["trace", "d.np", evil, "web", "any"][..],
        &["reach", "d.np", "--from", evil, "--to", "web"],
        &["explain", evil],
    ] {
        let out = netproof(&dir, args);
        assert_eq!(status(&out), 2, "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(raw_control(&err), None, "{args:?}: {err:?}");
        assert!(err.contains("\\u{1b}"), "{args:?}: {err}");
    }
}
