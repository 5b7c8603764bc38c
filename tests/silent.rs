//! Nothing passes silently: designs that used to "check clean" without
//! having been checked (a file read as one long comment, expectations that
//! name no packet, `reach` over no flow), and suppressions reported unused
//! by rules that never ran.

mod common;

use common::{scratch, status, stderr, stdout, write};
use serde_json::Value;
use std::path::Path;

fn netproof(dir: &Path, args: &[&str]) -> std::process::Output {
    common::run_netproof(dir, args, b"", common::NoColor::Set)
}

fn json(dir: &Path, file: &str) -> Value {
    let out = netproof(dir, &["check", "--format", "json", file]);
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

/// `(code, line)` of each finding of a JSON report.
fn findings(report: &Value) -> Vec<(String, u64)> {
    report["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| {
                    (
                        d["code"].as_str().unwrap_or("?").to_string(),
                        d["line"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A design whose expectation fails (`a` reaches `b`), with old Mac OS line
/// ends. Read with `\r` as a blank, its first `#` comments out everything.
const OLD_MAC: &str = "# design\r\
    sddc prod {\r  segment web 10.10.11.0/24\r  vm a 10.10.11.5 in web\r\
    \x20 vm b 10.10.11.6 in web\r}\rexpect no-reach a -> b\r";

#[test]
fn a_file_with_old_mac_line_ends_does_not_check_clean() {
    let dir = scratch("silent", "old_mac");
    write(&dir, "a.np", OLD_MAC);
    let out = netproof(&dir, &["check", "a.np"]);
    assert_eq!(status(&out), 1, "{}", stdout(&out));
    let report = json(&dir, "a.np");
    assert_eq!(findings(&report), [("NP001".to_string(), 1)]);
    let d = &report["diagnostics"][0];
    assert_eq!(d["column"], 9, "the first lone carriage return");
    let message = d["message"].as_str().unwrap_or("");
    assert!(message.contains("7 carriage returns"), "{message}");
    // Nothing was read, so no expectation is listed, let alone as holding.
    assert_eq!(report["expectations"].as_array().map(Vec::len), Some(0));
    // The same text with `\n` or `\r\n` line ends is read, and its
    // expectation fails.
    for eol in ["\n", "\r\n"] {
        write(&dir, "b.np", OLD_MAC.replace('\r', eol));
        let codes: Vec<String> = findings(&json(&dir, "b.np"))
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(codes, ["NP902"], "{eol:?}");
    }
}

#[test]
fn fmt_refuses_a_file_with_old_mac_line_ends() {
    let refused = netproof::format::format_source(OLD_MAC);
    let Err(e) = refused else {
        panic!("formatted: {refused:?}");
    };
    assert!(e.diagnostics.iter().all(|d| d.code.as_str() == "NP001"));
    let dir = scratch("silent", "fmt_old_mac");
    write(&dir, "a.np", OLD_MAC);
    let out = netproof(&dir, &["fmt", "a.np"]);
    assert_ne!(status(&out), 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("a.np")).unwrap_or_default(),
        OLD_MAC,
        "the file is left as it was"
    );
}
