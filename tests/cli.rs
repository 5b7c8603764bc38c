//! End-to-end tests of the `netproof` binary: arguments, exit statuses,
//! input discovery and the shape of both output formats.

mod common;

use common::{netproof, netproof_with_stdin, scratch, status, stderr, stdout, write};
use netproof::registry::RULES;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// A design no rule should ever flag.
const CLEAN: &str = "# The shop VPC.\nvpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n}\n";

/// A design with exactly one error: NP005 on the VPC's prefix.
const HOST_BITS: &str = "vpc shop 10.0.0.1/16 {\n  subnet web 10.0.1.0/24\n}\n";

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

/// The keys of a JSON object, to compare with the documented set. (Without
/// serde_json's `preserve_order` they come back sorted, so this checks which
/// keys there are; the unit snapshots in `render::json` check their order.)
fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(keys: &[&'a str]) -> BTreeSet<&'a str> {
    keys.iter().copied().collect()
}

// ---- help and version ----------------------------------------------------

#[test]
fn every_help_page_has_examples() {
    let dir = scratch("cli", "help");
    // Every subcommand clap knows, so that a new one without examples fails.
    let command = <netproof::cli::Cli as clap::CommandFactory>::command();
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|name| name != "help")
        .collect();
    assert!(subcommands.len() >= 5, "{subcommands:?}");
    let mut invocations = vec![vec!["--help"]];
    invocations.extend(subcommands.iter().map(|name| vec![name.as_str(), "--help"]));
    for args in &invocations {
        let out = netproof(&dir, args);
        assert_eq!(status(&out), 0, "{args:?}");
        let text = stdout(&out);
        assert!(text.contains("Examples:\n  netproof "), "{args:?}:\n{text}");
        assert!(!text.contains('\u{1b}'), "no escape codes in a pipe");
    }
    let check = stdout(&netproof(&dir, &["check", "--help"]));
    assert!(check.contains("Exit status:"), "{check}");
    for status in ["  0  ", "  1  ", "  2  "] {
        assert!(check.contains(status), "{check}");
    }
}

#[test]
fn version_names_the_crate_version() {
    let out = netproof(&scratch("cli", "version"), &["--version"]);
    assert_eq!(status(&out), 0);
    assert_eq!(
        stdout(&out),
        format!("netproof {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = scratch("cli", "usage");
    assert_eq!(status(&netproof(&dir, &[])), 2);
    assert_eq!(status(&netproof(&dir, &["lint"])), 2);
    assert_eq!(status(&netproof(&dir, &["check", "--format", "xml"])), 2);
    assert_eq!(status(&netproof(&dir, &["check", "--fail-on", "never"])), 2);
}

// ---- check: inputs ---------------------------------------------------------

#[test]
fn clean_file_exits_0_with_a_summary() {
    let dir = scratch("cli", "clean");
    write(&dir, "shop.np", CLEAN);
    let out = netproof(&dir, &["check", "shop.np"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "0 errors, 0 warnings, 0 infos in 1 file\n");
    assert_eq!(stderr(&out), "");
}

#[test]
fn missing_file_exits_2_and_names_it() {
    let dir = scratch("cli", "missing");
    write(&dir, "shop.np", CLEAN);
    let out = netproof(&dir, &["check", "shop.np", "nope.np"]);
    assert_eq!(status(&out), 2);
    assert_eq!(
        stderr(&out),
        "error: cannot read `nope.np`: no such file or directory\n"
    );
    assert_eq!(stdout(&out), "", "nothing is checked after an input error");
}

#[test]
fn every_bad_path_is_reported_at_once() {
    let dir = scratch("cli", "several-errors");
    fs::create_dir_all(dir.join("empty")).expect("mkdir");
    write(&dir, "latin1.np", b"vpc caf\xe9 10.0.0.0/16 {}\n");
    let out = netproof(&dir, &["check", "a.np", "empty", "latin1.np"]);
    assert_eq!(status(&out), 2);
    assert_eq!(
        stderr(&out),
        "error: cannot read `a.np`: no such file or directory\n\
         error: no `.np` files found in `empty` or its subdirectories\n\
         error: cannot read `latin1.np`: it is not UTF-8 text (the first invalid byte is at \
         line 1, column 8); netproof reads UTF-8 designs only\n"
    );
}

#[test]
fn stdin_is_read_for_dash() {
    let dir = scratch("cli", "stdin");
    let out = netproof_with_stdin(&dir, &["check", "-"], CLEAN.as_bytes());
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "0 errors, 0 warnings, 0 infos in 1 file\n");

    let out = netproof_with_stdin(&dir, &["check", "-"], b"\xff");
    assert_eq!(status(&out), 2);
    assert!(stderr(&out).starts_with("error: cannot read `<stdin>`: it is not UTF-8"));

    let out = netproof_with_stdin(&dir, &["check", "-", "-"], CLEAN.as_bytes());
    assert_eq!(status(&out), 2);
    assert!(
        stderr(&out).contains("can be given only once"),
        "{}",
        stderr(&out)
    );
}

/// A tree whose `.np` files outside hidden directories and `target` are
/// clean. The skipped places hold files that are not UTF-8, so reading any of
/// them would end the run with status 2.
fn design_tree(dir: &Path) {
    write(dir, "a.np", CLEAN);
    write(dir, "sub/deeper/b.np", CLEAN);
    write(dir, "sub/c.np", CLEAN);
    write(dir, "notes.txt", b"\xff not a design");
    write(dir, ".git/d.np", b"\xff");
    write(dir, "sub/.cache/e.np", b"\xff");
    write(dir, "target/f.np", b"\xff");
}

#[test]
fn directories_are_searched_recursively() {
    let root = scratch("cli", "recursion");
    design_tree(&root.join("designs"));
    let out = netproof(&root, &["check", "--format", "json", "designs"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["summary"]["files"], 3);
}

#[test]
fn no_path_means_the_current_directory() {
    let dir = scratch("cli", "default-path");
    design_tree(&dir);
    let out = netproof(&dir, &["check"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "0 errors, 0 warnings, 0 infos in 3 files\n");
}

#[test]
fn found_paths_are_shown_as_written() {
    // The only way to see discovered paths without the parser is an input
    // error, so these files are not UTF-8.
    let dir = scratch("cli", "paths");
    write(&dir, "sub/x.np", b"\xff");
    let under_dot = stderr(&netproof(&dir, &["check"]));
    assert!(under_dot.contains("`sub/x.np`"), "{under_dot}");
    let named = stderr(&netproof(&dir, &["check", "sub"]));
    assert!(named.contains("`sub/x.np`"), "{named}");
}

#[test]
fn a_file_named_twice_is_checked_once() {
    let dir = scratch("cli", "duplicates");
    write(&dir, "a.np", CLEAN);
    let out = netproof(&dir, &["check", "--format", "json", "a.np", "a.np", "."]);
    assert_eq!(json(&out)["summary"]["files"], 1);
}

#[test]
fn an_explicit_file_is_checked_whatever_its_extension() {
    let dir = scratch("cli", "extension");
    write(&dir, "design.txt", CLEAN);
    let out = netproof(&dir, &["check", "design.txt"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
}

// ---- check: output and exit statuses ----------------------------------------

#[test]
fn json_has_exactly_the_documented_top_level_keys() {
    let dir = scratch("cli", "json-keys");
    write(&dir, "a.np", CLEAN);
    write(&dir, "b.np", CLEAN);
    let out = netproof(&dir, &["check", "--format", "json", "."]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).ends_with("}\n"), "a trailing newline");
    let doc = json(&out);
    assert_eq!(
        keys(&doc),
        set(&["tool", "summary", "diagnostics", "expectations"])
    );
    assert_eq!(keys(&doc["tool"]), set(&["name", "version"]));
    assert_eq!(doc["tool"]["name"], "netproof");
    assert_eq!(doc["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        keys(&doc["summary"]),
        set(&["files", "errors", "warnings", "infos"])
    );
    assert_eq!(doc["summary"]["files"], 2);
    assert_eq!(doc["diagnostics"], Value::Array(Vec::new()));
    assert_eq!(doc["expectations"], Value::Array(Vec::new()));
}

#[test]
fn clean_designs_pass_every_threshold() {
    let dir = scratch("cli", "thresholds-clean");
    write(&dir, "a.np", CLEAN);
    for fail_on in ["error", "warning", "info"] {
        let out = netproof(&dir, &["check", "--fail-on", fail_on, "a.np"]);
        assert_eq!(status(&out), 0, "--fail-on {fail_on}");
    }
}

#[test]
fn no_color_is_accepted_anywhere() {
    let dir = scratch("cli", "no-color");
    write(&dir, "a.np", CLEAN);
    for args in [
        &["--no-color", "check", "a.np"][..],
        &["check", "--no-color", "a.np"],
    ] {
        let out = netproof(&dir, args);
        assert_eq!(status(&out), 0, "{args:?}");
        assert!(!stdout(&out).contains('\u{1b}'));
    }
}

#[test]
fn an_error_exits_1_at_every_threshold() {
    // Every rule in today's registry is an error, so `--fail-on error` and
    // `--fail-on warning` can only be told apart by a warning rule; the
    // threshold arithmetic itself is unit-tested in `cli::tests`.
    let dir = scratch("cli", "thresholds-error");
    write(&dir, "bad.np", HOST_BITS);
    for fail_on in ["error", "warning", "info"] {
        let out = netproof(&dir, &["check", "--fail-on", fail_on, "bad.np"]);
        assert_eq!(status(&out), 1, "--fail-on {fail_on}");
    }
    assert_eq!(status(&netproof(&dir, &["check", "bad.np"])), 1);
}

#[test]
fn human_output_shows_the_finding_and_the_summary() {
    let dir = scratch("cli", "human-finding");
    write(&dir, "bad.np", HOST_BITS);
    write(&dir, "good.np", CLEAN);
    let out = netproof(&dir, &["check", "."]);
    assert_eq!(status(&out), 1);
    let text = stdout(&out);
    assert!(
        text.starts_with("NP005(prefix-host-bits-set) (https://netproof.dev/rules/NP005-"),
        "{text}"
    );
    assert!(text.contains("[bad.np:1:10]"), "{text}");
    assert!(text.contains("fix: "), "{text}");
    assert!(
        text.ends_with("1 error, 0 warnings, 0 infos in 2 files\n"),
        "{text}"
    );
}

#[test]
fn json_diagnostics_have_exactly_the_documented_keys() {
    let dir = scratch("cli", "json-diagnostic-keys");
    write(
        &dir,
        "bad.np",
        format!("{HOST_BITS}expect reach shop.web -> shop.web HTTPS\n"),
    );
    let out = netproof(&dir, &["check", "--format", "json", "bad.np"]);
    assert_eq!(status(&out), 1);
    let doc = json(&out);
    assert_eq!(doc["summary"]["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(
        keys(d),
        set(&[
            "code",
            "name",
            "severity",
            "message",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "labels",
            "help",
            "fix",
            "path",
            "url"
        ])
    );
    assert_eq!(
        d["path"],
        serde_json::json!([]),
        "NP005 is not about a flow"
    );
    assert_eq!(d["code"], "NP005");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "bad.np");
    assert_eq!(d["line"], 1);
    assert_eq!(d["column"], 10);
    assert_eq!(d["end_line"], 1);
    assert_eq!(d["end_column"], 21);
    assert_eq!(keys(&d["fix"]), set(&["description", "edits"]));
    let edit = &d["fix"]["edits"][0];
    assert_eq!(
        keys(edit),
        set(&[
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "replacement"
        ])
    );
    assert_eq!(edit["replacement"], "10.0.0.0/16");
    let e = &doc["expectations"][0];
    assert_eq!(keys(e), set(&["file", "line", "kind", "holds"]));
    assert_eq!(e["line"], 4);
    assert_eq!(e["kind"], "reach");
    assert_eq!(e["holds"], Value::Null);
}

#[test]
fn stdin_is_reported_as_stdin() {
    let dir = scratch("cli", "stdin-path");
    let out = netproof_with_stdin(
        &dir,
        &["check", "--format", "json", "-"],
        HOST_BITS.as_bytes(),
    );
    assert_eq!(status(&out), 1);
    assert_eq!(json(&out)["diagnostics"][0]["file"], "<stdin>");
}

#[test]
fn reports_are_in_path_order() {
    let dir = scratch("cli", "order");
    write(&dir, "b.np", HOST_BITS);
    write(&dir, "a/z.np", HOST_BITS);
    write(&dir, "a.np", HOST_BITS);
    let out = netproof(&dir, &["check", "--format", "json"]);
    let doc = json(&out);
    let files: Vec<&str> = doc["diagnostics"]
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|d| d["file"].as_str())
        .collect();
    assert_eq!(files, ["a.np", "a/z.np", "b.np"]);
}

// ---- rules and explain ------------------------------------------------------

#[test]
fn rules_lists_every_registry_code() {
    let out = netproof(&scratch("cli", "rules"), &["rules"]);
    assert_eq!(status(&out), 0);
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["CODE", "NAME", "SEVERITY", "SUMMARY"])
    );
    let listed: Vec<Vec<&str>> = lines
        .map(|l| l.split_whitespace().take(3).collect())
        .collect();
    let expected: Vec<Vec<&str>> = RULES
        .iter()
        .map(|r| vec![r.code.as_str(), r.name, r.severity.as_str()])
        .collect();
    assert_eq!(listed, expected);
}

#[test]
fn rules_as_json() {
    let out = netproof(
        &scratch("cli", "rules-json"),
        &["rules", "--format", "json"],
    );
    assert_eq!(status(&out), 0);
    let doc = json(&out);
    let rules = doc.as_array().expect("an array of rules");
    assert_eq!(rules.len(), RULES.len());
    for (rule, meta) in rules.iter().zip(RULES) {
        assert_eq!(
            keys(rule),
            set(&["code", "name", "severity", "summary", "url"])
        );
        assert_eq!(rule["code"], meta.code.as_str());
        assert_eq!(rule["url"], meta.url());
    }
}

#[test]
fn explain_prints_the_page_by_code_or_name() {
    let dir = scratch("cli", "explain");
    for rule in RULES {
        let lower = rule.code.as_str().to_ascii_lowercase();
        for key in [rule.code.as_str(), lower.as_str(), rule.name] {
            let out = netproof(&dir, &["explain", key]);
            assert_eq!(status(&out), 0, "{key}");
            assert_eq!(stdout(&out).trim_end(), rule.page.trim_end(), "{key}");
        }
    }
}

#[test]
fn explain_rejects_unknown_codes_with_suggestions() {
    let out = netproof(&scratch("cli", "explain-unknown"), &["explain", "NP999"]);
    assert_eq!(status(&out), 2);
    assert_eq!(stdout(&out), "");
    let text = stderr(&out);
    assert!(text.starts_with("error: unknown rule `NP999`\n"), "{text}");
    assert!(text.contains("the closest rules are `NP"), "{text}");

    let out = netproof(
        &scratch("cli", "explain-typo"),
        &["explain", "overlaping-subnets"],
    );
    assert_eq!(status(&out), 2);
    assert!(stderr(&out).contains("`NP103` (overlapping-subnets)"));
}

/// Output never depends on how many threads check the files and run the
/// rules: every fixture, in both formats, with one thread and with four.
#[test]
fn output_is_identical_whatever_the_thread_count() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for format in ["json", "human"] {
        let run = |threads: &str| {
            Command::new(env!("CARGO_BIN_EXE_netproof"))
                .current_dir(root)
                .env("RAYON_NUM_THREADS", threads)
                .env("NO_COLOR", "1")
                .args(["check", "--format", format, "fixtures/"])
                .output()
                .expect("netproof runs")
        };
        let (one, four) = (run("1"), run("4"));
        assert_eq!(one.status.code(), Some(1), "the fixtures contain errors");
        assert!(!one.stdout.is_empty());
        assert_eq!(
            one.stdout, four.stdout,
            "{format} output differs between 1 and 4 threads"
        );
    }
}

/// The same for one design large enough that lexing, parsing and lowering
/// each split it over threads (see `docs/performance.md`), broken in ways
/// that make the parallel parts hand work back to the sequential ones: an
/// unclosed list that swallows top-level statements, a missing `}`, and
/// more unresolved names in rules and routes than get suggestions.
#[test]
fn large_designs_check_identically_whatever_the_thread_count() {
    let clean = netproof::gen::generate(&netproof::gen::GenParams {
        lines: 60_000,
        rules_per_firewall: 300,
        ..netproof::gen::GenParams::default()
    });
    let broken = clean
        .replacen("to vm1_0 service", "to vm1_x service", 150)
        .replacen("-> igw\n", "-> igwx\n", 150)
        .replacen("\n}\n", "\n", 3)
        .replacen("\nvpc ", "\nexpect reach [a,\nvpc\n]\nvpc ", 2);
    // Over the thresholds of every parallel part: 2 MB, 100k tokens and
    // 20k rules and routes.
    assert!(broken.len() > 2_200_000, "{} bytes", broken.len());
    let entries = broken
        .lines()
        .filter(|l| l.trim_start().starts_with("rule ") || l.trim_start().starts_with("route "))
        .count();
    assert!(entries > 20_000, "{entries} rules and routes");
    let dir = scratch("cli", "large-threads");
    fs::write(dir.join("large.np"), &broken).expect("write the design");
    let run = |threads: &str| {
        Command::new(env!("CARGO_BIN_EXE_netproof"))
            .current_dir(&dir)
            .env("RAYON_NUM_THREADS", threads)
            .args(["check", "--format", "json", "large.np"])
            .output()
            .expect("netproof runs")
    };
    let (one, four) = (run("1"), run("4"));
    assert_eq!(one.status.code(), Some(1), "the design has errors");
    let findings = String::from_utf8_lossy(&one.stdout)
        .matches("\"code\"")
        .count();
    assert!(findings > 200, "only {findings} findings");
    assert!(
        one.stdout == four.stdout,
        "output differs between 1 and 4 threads"
    );
}

/// A design whose only finding is NP201, with a fix to the host's name.
const PUBLIC_IN_FIREWALL: &str = "sddc prod {
  segment web-tier 10.10.11.0/24
  vm web01 10.10.11.101 in web-tier
  public-ip web-pip 52.58.125.207
  nat dnat web-in 52.58.125.207 -> web01
  firewall cgw {
    rule web-in allow from any to 52.58.125.207 service HTTP applied-to internet
  }
}
";

#[test]
fn diff_shows_fixes_without_writing() {
    let dir = scratch("cli", "diff_shows_fixes_without_writing");
    write(&dir, "a.np", HOST_BITS);
    write(&dir, "b.np", PUBLIC_IN_FIREWALL);
    let output = netproof(&dir, &["check", "--diff", "."]);
    assert_eq!(status(&output), 1, "{}", stderr(&output));
    let diff = stdout(&output);
    assert!(diff.contains("--- a/a.np\n+++ b/a.np\n"), "{diff}");
    assert!(
        diff.contains("-vpc shop 10.0.0.1/16 {\n+vpc shop 10.0.0.0/16 {\n"),
        "{diff}"
    );
    assert!(
        diff.contains("+    rule web-in allow from any to web01 service HTTP"),
        "{diff}"
    );
    assert_eq!(
        fs::read_to_string(dir.join("a.np")).ok().as_deref(),
        Some(HOST_BITS)
    );
    assert_eq!(
        fs::read_to_string(dir.join("b.np")).ok().as_deref(),
        Some(PUBLIC_IN_FIREWALL)
    );
}

#[test]
fn fix_rewrites_only_fixable_files_and_rechecks() {
    let dir = scratch("cli", "fix_rewrites_only_fixable_files_and_rechecks");
    let clean = "vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24   # untouched\n}\n";
    write(&dir, "a.np", HOST_BITS);
    write(&dir, "b.np", PUBLIC_IN_FIREWALL);
    write(&dir, "clean.np", clean);
    let output = netproof(&dir, &["check", "--fix", "."]);
    assert_eq!(status(&output), 0, "{}", stdout(&output));
    let log = stderr(&output);
    assert!(
        log.contains("a.np:1:10: fixed NP005 (prefix-host-bits-set)"),
        "{log}"
    );
    assert!(log.contains("b.np:7:35: fixed NP201"), "{log}");
    assert_eq!(
        fs::read_to_string(dir.join("a.np")).ok().as_deref(),
        Some("vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n}\n")
    );
    let b = fs::read_to_string(dir.join("b.np")).unwrap_or_default();
    assert!(
        b.contains("rule web-in allow from any to web01 service HTTP"),
        "{b}"
    );
    assert_eq!(
        fs::read(dir.join("clean.np")).ok(),
        Some(clean.as_bytes().to_vec())
    );
    assert!(stdout(&output).contains("0 errors, 0 warnings, 0 infos in 3 files"));
    // A second run finds nothing left to fix.
    let again = netproof(&dir, &["check", "--diff", "."]);
    assert_eq!(status(&again), 0);
    assert_eq!(stdout(&again), "");
}

#[test]
fn fix_refuses_standard_input() {
    let dir = scratch("cli", "fix_refuses_standard_input");
    let output = netproof_with_stdin(&dir, &["check", "--fix", "-"], HOST_BITS.as_bytes());
    assert_eq!(status(&output), 2);
    assert!(stderr(&output).contains("--fix cannot write back to standard input"));
}

#[test]
fn quiet_prints_findings_only() {
    let dir = scratch("cli", "quiet");
    write(&dir, "clean.np", CLEAN);
    write(&dir, "shop.np", HOST_BITS);
    let clean = netproof(&dir, &["--quiet", "check", "clean.np"]);
    assert_eq!(status(&clean), 0, "{}", stderr(&clean));
    assert_eq!(stdout(&clean), "", "a clean quiet run prints nothing");
    assert_eq!(stderr(&clean), "");
    // The flag is global: it may come after the subcommand too.
    let bad = netproof(&dir, &["check", "-q", "shop.np", "clean.np"]);
    assert_eq!(status(&bad), 1);
    let out = stdout(&bad);
    assert!(out.contains("NP005"), "{out}");
    assert!(
        !out.contains("in 2 files"),
        "no summary line when quiet:\n{out}"
    );
    let loud = stdout(&netproof(&dir, &["check", "shop.np", "clean.np"]));
    assert!(
        loud.contains("1 error, 0 warnings, 0 infos in 2 files"),
        "{loud}"
    );
}

#[test]
fn quiet_fix_does_not_list_the_fixes() {
    let dir = scratch("cli", "quiet-fix");
    write(&dir, "shop.np", HOST_BITS);
    let out = netproof(&dir, &["check", "--quiet", "--fix", "shop.np"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let fixed = fs::read_to_string(dir.join("shop.np")).expect("read back");
    assert!(fixed.starts_with("vpc shop 10.0.0.0/16 {"), "{fixed}");
}

#[test]
fn no_progress_when_stderr_is_not_a_terminal() {
    let dir = scratch("cli", "progress-pipe");
    for i in 0..20 {
        write(&dir, &format!("d{i:02}.np"), CLEAN);
    }
    let out = netproof(&dir, &["check", "."]);
    assert_eq!(status(&out), 0);
    assert_eq!(stderr(&out), "", "progress must not reach a pipe");
}

#[test]
fn progress_only_for_a_person_at_a_terminal() {
    use netproof::cli::show_progress;
    let none = |_: &str| None;
    assert!(show_progress(true, false, 50, &none));
    assert!(!show_progress(false, false, 50, &none), "pipe");
    assert!(!show_progress(true, true, 50, &none), "--quiet");
    assert!(!show_progress(true, false, 1, &none), "one file");
    let ci = |k: &str| (k == "CI").then(|| "true".to_string());
    assert!(!show_progress(true, false, 50, &ci), "CI logs");
    let ci_off = |k: &str| (k == "CI").then(|| "false".to_string());
    assert!(show_progress(true, false, 50, &ci_off));
    let dumb = |k: &str| (k == "TERM").then(|| "dumb".to_string());
    assert!(!show_progress(true, false, 50, &dumb), "TERM=dumb");
}

/// On a real terminal (a pseudo-terminal made by util-linux's `script`) the
/// progress bar is drawn on stderr and cleared at the end.
#[test]
fn progress_is_drawn_and_cleared_on_a_terminal() {
    let Some(script) = terminal_maker() else {
        return;
    };
    let dir = scratch("cli", "progress-tty");
    for i in 0..20 {
        write(&dir, &format!("d{i:02}.np"), CLEAN);
    }
    let inner = format!(
        "{} check {} > /dev/null",
        env!("CARGO_BIN_EXE_netproof"),
        dir.display()
    );
    let out = Command::new(script)
        .args(["-qec", &inner, "/dev/null"])
        .env_remove("CI")
        .env("TERM", "xterm")
        .output()
        .expect("run script");
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{seen}");
    assert!(
        seen.contains("checking ") && seen.contains("/20 files"),
        "{seen:?}"
    );
    assert!(
        seen.ends_with("\r\u{1b}[2K"),
        "the bar is cleared: {seen:?}"
    );
}

/// util-linux's `script`, which runs a command on a pseudo-terminal; `None`
/// (after saying so) where it is missing, unless CI requires it.
fn terminal_maker() -> Option<&'static Path> {
    let script = Path::new("/usr/bin/script");
    if script.is_file() {
        return Some(script);
    }
    assert!(
        std::env::var("NETPROOF_REQUIRE_TOOLS").map_or(true, |v| v != "1"),
        "util-linux's script is missing"
    );
    eprintln!("skipped: no /usr/bin/script to make a terminal");
    None
}

/// On a terminal the report is colored; `--no-color` and a non-empty
/// `NO_COLOR` turn that off, and an empty `NO_COLOR` does not
/// (https://no-color.org).
#[test]
fn color_on_a_terminal_unless_no_color() {
    let Some(script) = terminal_maker() else {
        return;
    };
    let dir = scratch("cli", "color-tty");
    write(&dir, "shop.np", HOST_BITS);
    let run = |flag: &str, no_color: Option<&str>| {
        let inner = format!(
            "{} check {flag} {}",
            env!("CARGO_BIN_EXE_netproof"),
            dir.join("shop.np").display()
        );
        let mut command = Command::new(script);
        command
            .args(["-qec", &inner, "/dev/null"])
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        let out = command.output().expect("run script");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let colored = run("", None);
    assert!(colored.contains("NP005"), "{colored:?}");
    assert!(
        colored.contains("\u{1b}["),
        "colored on a terminal: {colored:?}"
    );
    assert!(
        run("", Some("")).contains("\u{1b}["),
        "an empty NO_COLOR is unset"
    );
    for plain in [run("--no-color", None), run("", Some("1"))] {
        assert!(plain.contains("NP005"), "{plain:?}");
        assert!(!plain.contains('\u{1b}'), "no escape codes: {plain:?}");
    }
}

/// A failed expectation's JSON carries the failing packet's path, the same
/// hops its help lists, with the lines that decided them.
#[test]
fn json_carries_the_path_of_a_failed_expectation() {
    let out = netproof(
        &common::root(),
        &[
            "check",
            "--format",
            "json",
            "fixtures/scenarios/seed000-hybrid.np",
        ],
    );
    assert_eq!(status(&out), 1);
    let doc = json(&out);
    let failed = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "NP901")
        .expect("seed000-hybrid has a failing expectation");
    let path = failed["path"].as_array().expect("a path");
    assert!(path.len() >= 3, "{failed}");
    let help = failed["help"].as_str().expect("help");
    for (i, step) in path.iter().enumerate() {
        let node = step["node"].as_str().expect("node");
        let decision = step["decision"].as_str().expect("decision");
        if i + 1 < path.len() {
            // The last step is the drop itself, which the message states.
            assert!(
                help.contains(&format!("{node}: {decision}")),
                "{step} not in\n{help}"
            );
        }
        if !step["location"].is_null() {
            assert_eq!(
                step["location"]["file"],
                "fixtures/scenarios/seed000-hybrid.np"
            );
            assert!(step["location"]["line"].as_u64().is_some_and(|l| l >= 1));
        }
    }
    assert!(path.iter().any(|s| !s["location"].is_null()), "{failed}");
}
