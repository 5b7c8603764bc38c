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

/// Three expectations that name no packet, one that does.
const VACUOUS: &str = "sddc prod {
  segment web 10.10.11.0/24
  vm a 10.10.11.5 in web
  vm b 10.10.11.6 in web
}
expect reach a -> 2001:db8::1 tcp/443
expect no-reach a -> b icmpv6
expect reach a -> b [ ]
expect reach a -> b tcp/443
";

#[test]
fn expectations_that_name_no_packet_are_errors_not_passes() {
    let dir = scratch("silent", "vacuous");
    write(&dir, "a.np", VACUOUS);
    let out = netproof(&dir, &["check", "a.np"]);
    assert_eq!(status(&out), 1, "{}", stdout(&out));
    let report = json(&dir, "a.np");
    let found = findings(&report);
    assert_eq!(
        found,
        [
            ("NP904".to_string(), 6),
            ("NP904".to_string(), 7),
            ("NP904".to_string(), 8)
        ],
        "{report:#}"
    );
    let messages: Vec<&str> = report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        messages[0].contains("IPv4") && messages[0].contains("IPv6"),
        "{messages:?}"
    );
    assert!(messages[1].contains("icmpv6"), "{messages:?}");
    assert!(
        messages[2].contains("service list is empty"),
        "{messages:?}"
    );
    let holds: Vec<(u64, Value)> = report["expectations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["line"].as_u64().unwrap_or(0), e["holds"].clone()))
        .collect();
    assert_eq!(
        holds,
        [
            (6, Value::Bool(false)),
            (7, Value::Bool(false)),
            (8, Value::Bool(false)),
            (9, Value::Bool(true))
        ]
    );
}

#[test]
fn expectations_from_an_empty_group_are_errors() {
    let dir = scratch("silent", "vacuous_egress");
    write(
        &dir,
        "a.np",
        "sddc prod {\n  segment web 10.10.11.0/24\n  vm a 10.10.11.5 in web\n  group nobody []\n}\nexpect egress nobody via prod\nexpect reach nobody -> a\nexpect no-reach a -> nobody\n",
    );
    let report = json(&dir, "a.np");
    assert_eq!(
        findings(&report),
        [
            ("NP904".to_string(), 6),
            ("NP904".to_string(), 7),
            ("NP904".to_string(), 8)
        ],
        "{report:#}"
    );
    let message = report["diagnostics"][2]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("destination stands for no address"),
        "{message}"
    );
    assert_eq!(report["expectations"][0]["holds"], Value::Bool(false));
    assert_eq!(report["expectations"][1]["holds"], Value::Bool(false));
    assert_eq!(report["expectations"][2]["holds"], Value::Bool(false));
}

/// `reach` and `trace` refuse the same questions: a flow between address
/// families, or a service of neither's family, is nothing to answer.
#[test]
fn reach_over_no_flow_is_a_usage_error_like_trace() {
    let dir = scratch("silent", "reach_empty");
    write(&dir, "a.np", VACUOUS);
    for (to, service) in [("2001:db8::1", "any"), ("b", "icmpv6"), ("b", "[ ]")] {
        let out = netproof(
            &dir,
            &[
                "reach",
                "a.np",
                "--from",
                "a",
                "--to",
                to,
                "--service",
                service,
            ],
        );
        assert_eq!(status(&out), 2, "{to} {service}: {}", stdout(&out));
        assert!(
            !stdout(&out).contains("every flow reaches"),
            "{}",
            stdout(&out)
        );
        assert!(
            stderr(&out).contains("no packet"),
            "{to} {service}: {}",
            stderr(&out)
        );
    }
    for (to, service) in [("2001:db8::1", "tcp/443"), ("b", "icmpv6")] {
        let out = netproof(&dir, &["trace", "a.np", "a", to, service]);
        assert_eq!(status(&out), 2, "{to} {service}: {}", stdout(&out));
    }
    // A question with flows is still answered.
    let out = netproof(
        &dir,
        &[
            "reach",
            "a.np",
            "--from",
            "a",
            "--to",
            "b",
            "--service",
            "tcp/443",
        ],
    );
    assert_eq!(status(&out), 0, "{}", stderr(&out));
}

/// NP303 is a behaviour rule: it does not run on a file with a syntax
/// error, so its suppression there is not evidence of anything.
const JUSTIFIED: &str = "vpc shop 192.168.0.0/16 {
  internet-gateway igw
  route-table public-rt {
    route 0.0.0.0/0 -> igw
  }
  subnet public 192.168.1.0/24 route-table public-rt
  security-group admin-sg {
    inbound [SSH] from 0.0.0.0/0
  }
  # netproof: ignore NP303 -- approved in SEC-42
  instance bastion 192.168.1.10 in public sg [admin-sg] elastic-ip 54.64.1.10
}
";

#[test]
fn a_justified_suppression_survives_a_syntax_error_elsewhere() {
    let dir = scratch("silent", "justified");
    // Clean, the suppression is used: nothing is reported.
    write(&dir, "a.np", JUSTIFIED);
    assert_eq!(findings(&json(&dir, "a.np")), []);
    // With a syntax error elsewhere, only the syntax error is reported, and
    // `--fix` keeps the justified comment.
    let broken = format!("{JUSTIFIED}vpc oops {{\n");
    write(&dir, "a.np", &broken);
    let codes: Vec<String> = findings(&json(&dir, "a.np"))
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert!(!codes.iter().any(|c| c == "NP007"), "{codes:?}");
    assert!(codes.iter().any(|c| c == "NP001"), "{codes:?}");
    let out = netproof(&dir, &["check", "--fix", "a.np"]);
    assert_eq!(status(&out), 1, "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.join("a.np")).unwrap_or_default(),
        broken
    );
}

/// A suppression of a rule that needs a complete model (NP205) is not
/// unused in a file with a resolution error either.
#[test]
fn a_suppression_of_a_rule_skipped_on_an_incomplete_model_is_not_unused() {
    let dir = scratch("silent", "incomplete");
    let text = "sddc prod {
  segment web 10.10.11.0/24
  # netproof: ignore NP205 -- kept for the migration
  public-ip spare 52.58.125.208
  vm a 10.10.11.5 in nowhere
}
";
    write(&dir, "a.np", text);
    let codes: Vec<String> = findings(&json(&dir, "a.np"))
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(codes, ["NP002"]);
}

/// Rules that `netproof.toml` ignores still run (only their findings are
/// dropped), so a suppression of one that finds nothing on its line is
/// unused on real evidence, and reported as without the configuration.
#[test]
fn a_suppression_of_an_ignored_rule_that_finds_nothing_is_still_unused() {
    let dir = scratch("silent", "ignored_rule");
    write(
        &dir,
        "a.np",
        "sddc prod {\n  segment web 10.10.11.0/24  # netproof: ignore NP302 -- reviewed\n}\n",
    );
    for config in ["", "ignore = [\"NP302\"]\n"] {
        write(&dir, "netproof.toml", config);
        assert_eq!(
            findings(&json(&dir, "a.np")),
            [("NP007".to_string(), 2)],
            "{config:?}"
        );
    }
}

/// A public address sends nothing (`docs/forwarding.md`, "Where packets
/// start"): no packet of the question is walked, which is not "every flow
/// reaches". `trace` says the same flow fails.
#[test]
fn reach_from_an_address_that_sends_nothing_is_not_every_flow_reaching() {
    let root = common::root();
    let design = "fixtures/scenarios/seed000-publish-vm.np";
    let out = netproof(
        &root,
        &["reach", design, "--from", "web-pip", "--to", "client"],
    );
    assert_eq!(status(&out), 1, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("not sent"), "{text}");
    assert!(!text.contains("every flow reaches"), "{text}");
    let out = netproof(
        &root,
        &[
            "reach", design, "--from", "web-pip", "--to", "client", "--format", "json",
        ],
    );
    assert_eq!(status(&out), 1, "{}", stdout(&out));
    let answer: Value = serde_json::from_str(&stdout(&out)).unwrap_or_default();
    assert!(answer["not_sent"].is_string(), "{answer:#}");
    let out = netproof(&root, &["trace", design, "web-pip", "client"]);
    assert_eq!(status(&out), 1, "{}", stdout(&out));
}

/// A public address sends nothing, so an expectation from one names no
/// packet: `egress` held (nothing left by another exit), `no-reach` held
/// and `reach` was not decided.
#[test]
fn expectations_from_an_address_that_sends_nothing_are_errors() {
    let dir = scratch("silent", "no_sender");
    let text =
        std::fs::read_to_string(common::root().join("fixtures/rules/NP904/fires-no-sender.np"))
            .unwrap_or_default();
    write(&dir, "a.np", text);
    let report = json(&dir, "a.np");
    assert_eq!(
        findings(&report),
        [
            ("NP904".to_string(), 16),
            ("NP904".to_string(), 17),
            ("NP904".to_string(), 18)
        ],
        "{report:#}"
    );
    let holds: Vec<Value> = report["expectations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["holds"].clone())
        .collect();
    assert_eq!(
        holds,
        [
            Value::Bool(false),
            Value::Bool(false),
            Value::Bool(false),
            Value::Bool(true)
        ]
    );
}
