//! `netproof.toml` and inline suppressions, end to end: discovery, the
//! command-line flags, what a configuration changes in the output and the
//! exit status, excludes, and the suppressions' lines.

mod common;

use common::{netproof, netproof_with_stdin, status, stderr, stdout, write};
use netproof::check::{check_source, check_source_with};
use netproof::config::{config_for, Config};
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Output;

/// One info finding: NP205 on line 3 (`spare` is used by nothing).
const INFO: &str =
    "sddc prod {\n  segment web-tier 10.10.11.0/24\n  public-ip spare 52.58.125.208\n}\n";

/// One warning: NP302 on line 4 (a rule that allows everything).
const WARNING: &str = "sddc prod {\n  segment web-tier 10.10.11.0/24\n  firewall cgw {\n    rule everything allow from any to any service any\n  }\n}\n";

/// One error: NP005 on line 1.
const ERROR: &str = "vpc shop 10.0.0.1/16 {\n  subnet web 10.0.1.0/24\n}\n";

/// A fresh directory outside the crate, removed when dropped. (Not
/// `common::scratch`: outside the current directory, `config_for` reports
/// the configuration's path absolute, which a test here checks.)
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a scratch directory")
}

/// `(path, code, severity)` of every diagnostic of a JSON run.
fn findings(output: &Output) -> Vec<(String, String, String)> {
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(output),
            stderr(output)
        )
    });
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    doc["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| (text(&d["file"]), text(&d["code"]), text(&d["severity"])))
        .collect()
}

fn codes(output: &Output) -> Vec<String> {
    findings(output).into_iter().map(|(_, c, _)| c).collect()
}

fn json_check(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    netproof(dir, &args)
}

#[test]
fn an_unknown_key_is_a_usage_error_naming_the_key_file_and_place() {
    let dir = scratch();
    write(
        dir.path(),
        "netproof.toml",
        "ignore = [\"NP205\"]\nfail_on = \"error\"\n",
    );
    write(dir.path(), "a.np", ERROR);
    let out = netproof(dir.path(), &["check", "a.np"]);
    assert_eq!(status(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("unknown key `fail_on`"), "{err}");
    assert!(err.contains("`netproof.toml` at line 2, column 1"), "{err}");
    assert!(err.contains("2 | fail_on = \"error\""), "{err}");
    // Nothing was checked: the NP005 in a.np is not reported.
    assert_eq!(stdout(&out), "");
}

#[test]
fn an_unknown_code_is_a_usage_error_with_a_suggestion() {
    let dir = scratch();
    write(
        dir.path(),
        "netproof.toml",
        "[severity]\nNP3022 = \"error\"\n",
    );
    write(dir.path(), "a.np", INFO);
    let out = netproof(dir.path(), &["check"]);
    assert_eq!(status(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("`NP3022`"), "{err}");
    assert!(err.contains("did you mean NP302"), "{err}");
}

#[test]
fn the_nearest_configuration_wins_and_discovery_walks_up() {
    let dir = scratch();
    write(dir.path(), "netproof.toml", "ignore = [\"NP205\"]\n");
    write(dir.path(), "top.np", INFO);
    write(dir.path(), "deep/er/still/x.np", INFO);
    // An empty configuration nearer to the file undoes the outer one: they
    // do not merge.
    write(dir.path(), "own/netproof.toml", "");
    write(dir.path(), "own/y.np", INFO);
    let out = json_check(dir.path(), &["."]);
    assert_eq!(
        findings(&out),
        [(
            "own/y.np".to_string(),
            "NP205".to_string(),
            "info".to_string()
        )],
        "{}",
        stderr(&out)
    );
    // The library's discovery finds the same files.
    let outer = config_for(&dir.path().join("deep/er/still/x.np"));
    let outer = outer.ok().flatten().and_then(|c| c.path.clone());
    assert_eq!(outer, Some(dir.path().join("netproof.toml")));
    let none = config_for(&dir.path().join("own/y.np"));
    assert!(none.is_ok_and(|c| c.is_some_and(|c| c.is_enabled(netproof::registry::Code::NP205))));
}

#[test]
fn config_flag_overrides_discovery_and_no_config_ignores_every_file() {
    let dir = scratch();
    write(dir.path(), "netproof.toml", "ignore = [\"NP205\"]\n");
    write(
        dir.path(),
        "ci/strict.toml",
        "[severity]\nNP205 = \"warning\"\n",
    );
    write(dir.path(), "a.np", INFO);
    let discovered = json_check(dir.path(), &["a.np"]);
    assert!(codes(&discovered).is_empty());
    assert_eq!(status(&discovered), 0);
    let fixed = json_check(dir.path(), &["--config", "ci/strict.toml", "a.np"]);
    assert_eq!(
        findings(&fixed),
        [("a.np".into(), "NP205".into(), "warning".into())]
    );
    assert_eq!(status(&fixed), 1);
    let none = json_check(dir.path(), &["--no-config", "a.np"]);
    assert_eq!(
        findings(&none),
        [("a.np".into(), "NP205".into(), "info".into())]
    );
    assert_eq!(status(&none), 0);
    // A broken configuration file is not read with --no-config.
    write(dir.path(), "netproof.toml", "nonsense = true\n");
    assert_eq!(status(&json_check(dir.path(), &["--no-config", "a.np"])), 0);
    let missing = netproof(dir.path(), &["check", "--config", "nowhere.toml", "a.np"]);
    assert_eq!(status(&missing), 2);
    assert!(
        stderr(&missing).contains("nowhere.toml"),
        "{}",
        stderr(&missing)
    );
    let both = netproof(
        dir.path(),
        &["check", "--config", "ci/strict.toml", "--no-config"],
    );
    assert_eq!(status(&both), 2);
}

#[test]
fn select_and_ignore_filter_by_code_and_prefix() {
    let dir = scratch();
    write(dir.path(), "info.np", INFO);
    write(dir.path(), "warn.np", WARNING);
    write(dir.path(), "netproof.toml", "select = [\"np3\"]\n");
    assert_eq!(codes(&json_check(dir.path(), &[])), ["NP302"]);
    write(
        dir.path(),
        "netproof.toml",
        "select = [\"NP\"]\nignore = [\"NP30\"]\n",
    );
    assert_eq!(codes(&json_check(dir.path(), &[])), ["NP205"]);
    // The front-end errors are reported whatever `select` says.
    write(dir.path(), "err.np", ERROR);
    write(dir.path(), "netproof.toml", "select = [\"NP9\"]\n");
    assert_eq!(codes(&json_check(dir.path(), &[])), ["NP005"]);
}

#[test]
fn severity_overrides_change_the_json_and_the_exit_status() {
    let dir = scratch();
    write(dir.path(), "info.np", INFO);
    write(dir.path(), "warn.np", WARNING);
    let before = json_check(dir.path(), &[]);
    assert_eq!(status(&before), 1);
    write(
        dir.path(),
        "netproof.toml",
        "[severity]\nNP302 = \"info\"\n",
    );
    let lowered = json_check(dir.path(), &[]);
    assert_eq!(
        findings(&lowered),
        [
            ("info.np".into(), "NP205".into(), "info".into()),
            ("warn.np".into(), "NP302".into(), "info".into())
        ]
    );
    assert_eq!(status(&lowered), 0);
    let doc: Value = serde_json::from_slice(&lowered.stdout).unwrap_or_default();
    assert_eq!(doc["summary"]["warnings"], 0, "{doc}");
    write(
        dir.path(),
        "netproof.toml",
        "[severity]\nNP205 = \"error\"\nNP302 = \"info\"\n",
    );
    let raised = netproof(dir.path(), &["check", "--fail-on", "error"]);
    assert_eq!(status(&raised), 1);
    assert!(
        stdout(&raised).contains("1 error, 0 warnings, 1 info in 2 files"),
        "{}",
        stdout(&raised)
    );
}

#[test]
fn fail_on_comes_from_the_configuration_unless_the_flag_is_given() {
    let dir = scratch();
    write(dir.path(), "strict/netproof.toml", "fail-on = \"info\"\n");
    write(dir.path(), "strict/a.np", INFO);
    write(dir.path(), "lax/netproof.toml", "fail-on = \"error\"\n");
    write(dir.path(), "lax/b.np", WARNING);
    write(dir.path(), "plain/c.np", INFO);
    assert_eq!(status(&netproof(dir.path(), &["check", "strict"])), 1);
    assert_eq!(
        status(&netproof(
            dir.path(),
            &["check", "--fail-on", "warning", "strict"]
        )),
        0
    );
    assert_eq!(status(&netproof(dir.path(), &["check", "lax"])), 0);
    assert_eq!(
        status(&netproof(
            dir.path(),
            &["check", "--fail-on", "warning", "lax"]
        )),
        1
    );
    // Without any configuration the documented default, warning, holds.
    assert_eq!(status(&netproof(dir.path(), &["check", "plain"])), 0);
    // In one run each file is judged by its own configuration: the warning
    // under `lax` passes, the info under `strict` fails.
    assert_eq!(status(&netproof(dir.path(), &["check", "lax", "plain"])), 0);
    assert_eq!(
        status(&netproof(dir.path(), &["check", "lax", "strict"])),
        1
    );
}

#[test]
fn excludes_hold_for_walked_and_named_files() {
    let dir = scratch();
    write(
        dir.path(),
        "netproof.toml",
        "exclude = [\"generated/**\", \"legacy/*.np\"]\n",
    );
    write(dir.path(), "main.np", INFO);
    write(dir.path(), "generated/deep/gen.np", ERROR);
    write(dir.path(), "legacy/old.np", ERROR);
    // Not read at all, so not even its encoding matters.
    write(dir.path(), "generated/binary.np", b"\xff\xfe");
    write(dir.path(), "legacy/keep/new.np", WARNING);
    let walked = json_check(dir.path(), &[]);
    assert_eq!(
        findings(&walked),
        [
            (
                "legacy/keep/new.np".into(),
                "NP302".into(),
                "warning".into()
            ),
            ("main.np".into(), "NP205".into(), "info".into())
        ],
        "{}",
        stderr(&walked)
    );
    // Named explicitly (as pre-commit does), an excluded file stays
    // excluded; the others are checked.
    let named = json_check(dir.path(), &["generated/deep/gen.np", "main.np"]);
    assert_eq!(codes(&named), ["NP205"]);
    assert_eq!(status(&named), 0);
    // A path that reaches the file another way is excluded the same (and
    // as it is the only file given, nothing is checked: an error).
    let roundabout = json_check(dir.path(), &["legacy/keep/../old.np"]);
    assert_eq!(status(&roundabout), 2);
    assert!(stderr(&roundabout).contains("every file given is excluded"));
}

#[test]
fn when_every_file_is_excluded_the_run_is_an_error() {
    let dir = scratch();
    write(dir.path(), "netproof.toml", "exclude = [\"generated\"]\n");
    write(dir.path(), "generated/a.np", ERROR);
    for args in [
        &["check", "generated"][..],
        &["check", "generated/a.np"],
        &["check"],
    ] {
        // Nothing was checked, which must not look like a pass.
        let out = netproof(dir.path(), args);
        assert_eq!(status(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(
                "error: every file given is excluded by the `exclude` patterns of \
                 `netproof.toml`, so nothing was checked"
            ),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "");
    }
    // A directory with no designs at all is still an error.
    fs::create_dir_all(dir.path().join("empty")).expect("mkdir");
    assert_eq!(status(&netproof(dir.path(), &["check", "empty"])), 2);
}

#[test]
fn standard_input_uses_the_current_directory_configuration() {
    let dir = scratch();
    write(
        dir.path(),
        "netproof.toml",
        "[severity]\nNP205 = \"warning\"\n",
    );
    let out = netproof_with_stdin(
        dir.path(),
        &["check", "--format", "json", "-"],
        INFO.as_bytes(),
    );
    assert_eq!(
        findings(&out),
        [("<stdin>".into(), "NP205".into(), "warning".into())]
    );
    assert_eq!(status(&out), 1);
}

#[test]
fn a_suppression_of_an_ignored_rule_is_not_reported_and_np007_can_be_ignored() {
    let dir = scratch();
    let suppressed = INFO.replace(
        "52.58.125.208\n",
        "52.58.125.208  # netproof: ignore NP205 -- reserved\n  # netproof: ignore NP302\n",
    );
    write(dir.path(), "a.np", &suppressed);
    // Without configuration: NP205 is suppressed, the NP302 suppression
    // (aimed at the closing brace) is unused.
    assert_eq!(codes(&json_check(dir.path(), &[])), ["NP007"]);
    // Ignoring NP205 in the configuration does not make its suppression
    // unused.
    write(dir.path(), "netproof.toml", "ignore = [\"NP205\"]\n");
    assert_eq!(codes(&json_check(dir.path(), &[])), ["NP007"]);
    write(dir.path(), "netproof.toml", "ignore = [\"NP007\"]\n");
    assert!(codes(&json_check(dir.path(), &[])).is_empty());
}

/// `(code, line)` of every finding of a text checked without configuration.
fn found(text: &str) -> Vec<(&'static str, usize)> {
    let report = check_source("t.np", text);
    report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.code.as_str(),
                report.source.line_col(d.primary.span.start).line,
            )
        })
        .collect()
}

#[test]
fn a_trailing_suppression_silences_its_own_line() {
    assert_eq!(found(INFO), [("NP205", 3)]);
    let text = INFO.replace(
        "52.58.125.208",
        "52.58.125.208   # netproof: ignore NP205 -- reserved",
    );
    assert_eq!(found(&text), []);
}

#[test]
fn a_lone_suppression_silences_the_next_line_only() {
    let above = INFO.replace("  public-ip", "  # netproof: ignore NP205\n  public-ip");
    assert_eq!(found(&above), []);
    // A blank line between the comment and the finding: wrong line, so the
    // finding stays and the suppression is reported as unused.
    let gap = INFO.replace("  public-ip", "  # netproof: ignore NP205\n\n  public-ip");
    assert_eq!(found(&gap), [("NP007", 3), ("NP205", 5)]);
    // A trailing comment on the line before does not reach the next line.
    let trailing_before = INFO.replace("10.10.11.0/24", "10.10.11.0/24  # netproof: ignore NP205");
    assert_eq!(found(&trailing_before), [("NP007", 2), ("NP205", 3)]);
}

#[test]
fn one_suppression_may_name_several_codes() {
    // Both findings start on the rule's line.
    let text = "sddc prod {\n  segment web-tier 10.10.11.0/24\n  firewall cgw {\n    rule a allow from any to any service any\n    rule b allow from any to any service any\n  }\n}\n";
    let before = found(text);
    assert!(
        before.contains(&("NP301", 5)) && before.contains(&("NP302", 5)),
        "{before:?}"
    );
    let suppressed = text.replace(
        "    rule b",
        "    # netproof: ignore NP301, NP302 -- kept while migrating\n    rule b",
    );
    let after = found(&suppressed);
    assert!(!after.iter().any(|&(_, line)| line == 6), "{after:?}");
    assert!(after.contains(&("NP302", 4)), "{after:?}");
    // Blanks work as separators too, and a code that matches nothing is
    // reported on its own.
    let partly = text.replace(
        "    rule b",
        "    # netproof: ignore NP301 NP205\n    rule b",
    );
    let after = found(&partly);
    assert!(
        after.contains(&("NP007", 5)) && after.contains(&("NP302", 6)),
        "{after:?}"
    );
    assert!(!after.contains(&("NP301", 6)), "{after:?}");
}

#[test]
fn malformed_and_unknown_suppressions_are_np007_and_suppress_nothing() {
    for comment in [
        "# netproof: ignroe NP205",
        "# netproof: ignore",
        "# netproof: ignore NP2O5",
        "# netproof: ignore NP001",
    ] {
        let text = INFO.replace("  public-ip", &format!("  {comment}\n  public-ip"));
        assert_eq!(found(&text), [("NP007", 3), ("NP205", 4)], "{comment}");
    }
}

#[test]
fn front_end_errors_cannot_be_suppressed() {
    let text = ERROR.replace("{\n", "{  # netproof: ignore NP005\n");
    assert_eq!(found(&text), [("NP005", 1), ("NP007", 1)]);
}

#[test]
fn check_source_with_applies_the_configuration_after_the_suppressions() {
    let config = Config::parse(
        Path::new("netproof.toml"),
        Path::new("."),
        "ignore = [\"NP007\"]\n[severity]\nNP205 = \"error\"\n",
    );
    let Ok(config) = config else {
        panic!("valid configuration")
    };
    let text = INFO.replace("  segment", "  # netproof: ignore NP302\n  segment");
    let report = check_source_with("t.np", text, &config);
    let got: Vec<(&str, String)> = report
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.severity().to_string()))
        .collect();
    assert_eq!(got, [("NP205", "error".to_string())]);
}

/// The examples of docs/configuration.md are real: every `toml` block is a
/// valid configuration and every `np` block is clean, each of its
/// suppressions used.
#[test]
fn the_documented_examples_are_valid() {
    let page =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md"))
            .expect("docs/configuration.md exists");
    let blocks = |fence: &str| -> Vec<String> {
        page.split(fence)
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .map(str::to_string)
            .collect()
    };
    let mut tomls = blocks("```toml\n");
    assert!(tomls.len() >= 2);
    // The README's example too.
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md exists");
    let before = tomls.len();
    tomls.extend(
        readme
            .split("```toml\n")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .map(str::to_string),
    );
    assert!(tomls.len() > before, "the README shows a netproof.toml");
    for text in &tomls {
        let parsed = Config::parse(Path::new("netproof.toml"), Path::new("."), text);
        assert!(
            parsed.is_ok(),
            "{text}\n{}",
            parsed.err().map(|e| e.render()).unwrap_or_default()
        );
    }
    let designs = blocks("```np\n");
    assert!(designs.len() >= 2);
    for text in &designs {
        assert_eq!(found(text), [], "{text}");
    }
}

#[test]
fn fix_removes_a_suppression_that_suppresses_nothing() {
    let dir = scratch();
    let stale = "sddc prod {\n  # netproof: ignore NP205 -- the address was released\n  segment web-tier 10.10.11.0/24\n}\n";
    write(dir.path(), "a.np", stale);
    let out = netproof(dir.path(), &["check", "--fix", "a.np"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("fixed NP007 (unused-suppression)"),
        "{}",
        stderr(&out)
    );
    let after = fs::read_to_string(dir.path().join("a.np")).unwrap_or_default();
    assert_eq!(after, "sddc prod {\n  segment web-tier 10.10.11.0/24\n}\n");
}

/// `fmt` leaves alone what `netproof.toml` excludes, named or walked, so a
/// generated design stays as its generator wrote it; `--no-config` formats
/// it all the same.
#[test]
fn fmt_skips_excluded_files() {
    let dir = scratch();
    let dir = dir.path();
    let messy = "vpc   shop 10.0.0.0/16 {\n      subnet web 10.0.1.0/24\n}\n";
    write(dir, "netproof.toml", "exclude = [\"generated/**\"]\n");
    write(dir, "generated/out.np", messy);
    write(dir, "mine.np", messy);
    let out = netproof(dir, &["fmt", "--check", ".", "generated/out.np"]);
    assert_eq!(status(&out), 1, "{}", stderr(&out));
    let diff = stdout(&out);
    assert!(diff.contains("mine.np"), "{diff}");
    assert!(!diff.contains("generated/out.np"), "{diff}");
    let out = netproof(dir, &["fmt", "generated/out.np", "mine.np"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let read = |p: &str| fs::read_to_string(dir.join(p)).expect("read back");
    assert_eq!(read("generated/out.np"), messy, "excluded: untouched");
    assert_ne!(read("mine.np"), messy);
    let out = netproof(dir, &["fmt", "--no-config", "generated/out.np"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_ne!(read("generated/out.np"), messy);
    // An invalid configuration stops `fmt` as it stops `check`.
    write(dir, "netproof.toml", "bogus = 1\n");
    let out = netproof(dir, &["fmt", "mine.np"]);
    assert_eq!(status(&out), 2);
    assert!(stderr(&out).contains("bogus"), "{}", stderr(&out));
}
