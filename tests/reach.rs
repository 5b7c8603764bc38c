//! `netproof reach`: exhaustive answers, their exit statuses and JSON shape.

use serde_json::Value;
use std::process::{Command, Output};

fn netproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netproof"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("netproof runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_published_vm_answers_only_what_the_firewall_allows() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed000-publish-vm.np",
        "--from",
        "client",
        "--to",
        "web-pip",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "only HTTP reaches, so some flows do not"
    );
    let text = stdout(&out);
    assert!(
        text.contains("delivered and answered:\n  tcp/80\n"),
        "{text}"
    );
    assert!(text.contains("Default Uplink Rule"), "{text}");
    insta::assert_snapshot!("reach_seed000_client_to_web_pip", text);
}

#[test]
fn everything_asked_about_reaches_exits_zero() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed000-publish-vm.np",
        "--from",
        "client",
        "--to",
        "web-pip",
        "--service",
        "HTTP",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("every flow reaches\n"));
}

#[test]
fn the_connected_vpc_default_group_is_named_with_an_example() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed001-connected-vpc.np",
        "--from",
        "CJ-AWS02",
        "--to",
        "CJ-VM01",
        "--service",
        "ICMP",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let keys: Vec<&str> = doc
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for k in ["from", "to", "services", "reached", "dropped", "undecided"] {
        assert!(keys.contains(&k), "missing `{k}` in {doc}");
    }
    let drop = &doc["dropped"][0];
    assert!(
        drop["reason"]
            .as_str()
            .unwrap_or("")
            .contains("default security group"),
        "{doc}"
    );
    assert_eq!(drop["line"], 30);
    assert!(
        drop["example"]
            .as_str()
            .unwrap_or("")
            .starts_with("icmp 172.31.1.11 -> 192.168.100.10"),
        "{doc}"
    );
}

#[test]
fn unknown_names_are_usage_errors_with_suggestions() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed001-connected-vpc.np",
        "--from",
        "CJ-AWS03",
        "--to",
        "CJ-VM01",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`CJ-AWS03` is not defined") && err.contains("did you mean `CJ-AWS01`?"),
        "{err}"
    );
}

#[test]
fn the_matrix_lists_reachable_subnet_pairs() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed002-vpc-internet.np",
        "--matrix",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let rows: Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let pairs: Vec<(String, String)> = rows
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["from"].as_str().unwrap_or("").to_string(),
                r["to"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("shop.public".to_string(), "shop.private".to_string()),
            ("shop.private".to_string(), "shop.public".to_string())
        ]
    );
}
