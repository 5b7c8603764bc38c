//! `netproof trace`: the human output of one flow per seed scenario,
//! snapshotted, and the command's exit statuses, errors and JSON shape.

mod common;

use common::{status, stderr, stdout};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Output;

/// `netproof` at the crate's root, with `NO_COLOR` removed.
fn netproof(args: &[&str]) -> Output {
    common::netproof(&common::root(), args)
}

/// One flow per scenario: the trace, and whether it reaches.
const FLOWS: &[(&str, &str, &[&str], bool)] = &[
    (
        "seed000_publish_vm_client_to_web01",
        "seed000-publish-vm.np",
        &["client", "web01", "HTTP", "--at", "52.58.125.207"],
        true,
    ),
    (
        "seed000_hybrid_client_to_web01",
        "seed000-hybrid.np",
        &["client", "web01", "HTTP", "--at", "52.58.125.207"],
        false,
    ),
    (
        "seed001_cj_aws02_to_cj_vm01",
        "seed001-connected-vpc.np",
        &["CJ-AWS02", "CJ-VM01"],
        false,
    ),
    (
        "seed002_worker_to_ntp",
        "seed002-vpc-internet.np",
        &["worker", "ntp", "NTP"],
        true,
    ),
    (
        "seed003_win01_to_web01",
        "seed003-privatelink.np",
        &["win01", "webvpc.web01", "HTTP", "--at", "connected.web-ep"],
        true,
    ),
    (
        "seed004_tenant_b_to_fs01",
        "seed004-nvgre.np",
        &["tenant-b.app01", "fs01", "SMB"],
        false,
    ),
    (
        "sddc_ops_ssh_to_vcenter",
        "sddc-ops-reach-vcenter.np",
        &["ops1", "10.2.0.4", "SSH"],
        false,
    ),
    (
        "tgw_hub_app1_to_internet_through_central_egress",
        "tgw-hub-central-egress.np",
        &["app1", "updates", "HTTPS"],
        true,
    ),
    (
        "tgw_hub_admin_to_app1_over_direct_connect",
        "tgw-hub-central-egress.np",
        &["admin", "app1", "HTTPS"],
        true,
    ),
    (
        "tgw_prod_dev_dev_app_to_prod_app",
        "tgw-prod-dev-segmentation.np",
        &["dev-app", "prod-app", "HTTPS"],
        false,
    ),
    (
        "sddc_ops_https_to_vcenter",
        "sddc-ops-reach-vcenter.np",
        &["ops1", "vc", "HTTPS"],
        true,
    ),
    (
        "dual_stack_batch_to_client6",
        "dual-stack-egress-only.np",
        &["batch", "client6", "HTTPS"],
        true,
    ),
    (
        "dual_stack_client6_to_batch",
        "dual-stack-egress-only.np",
        &["client6", "batch", "HTTPS"],
        false,
    ),
    (
        "seed004_internet_to_tenant_a_published",
        "seed004-nvgre.np",
        &["198.51.100.7", "203.0.113.5", "HTTPS"],
        true,
    ),
];

#[test]
fn one_flow_per_scenario() {
    for (name, file, args, reaches) in FLOWS {
        let path = format!("fixtures/scenarios/{file}");
        let mut all = vec!["trace", path.as_str()];
        all.extend_from_slice(args);
        let out = netproof(&all);
        assert_eq!(
            status(&out),
            if *reaches { 0 } else { 1 },
            "{name}\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(stderr(&out).is_empty(), "{name}: {}", stderr(&out));
        insta::assert_snapshot!(format!("trace_{name}"), stdout(&out));
    }
}

#[test]
fn unknown_names_suggest_the_closest() {
    let out = netproof(&[
        "trace",
        "fixtures/scenarios/seed000-publish-vm.np",
        "clinet",
        "web01",
    ]);
    assert_eq!(status(&out), 2);
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.contains(
            "SRC: no host, endpoint or public IP is named `clinet`; did you mean `client`?"
        ),
        "{err}"
    );

    let out = netproof(&[
        "trace",
        "fixtures/scenarios/seed004-nvgre.np",
        "app01",
        "fs01",
    ]);
    assert_eq!(status(&out), 2);
    assert!(
        stderr(&out).contains("`tenant-a.app01` or `tenant-b.app01`"),
        "{}",
        stderr(&out)
    );

    let out = netproof(&[
        "trace",
        "fixtures/scenarios/seed000-publish-vm.np",
        "web-tier",
        "client",
    ]);
    assert_eq!(status(&out), 2);
    assert!(
        stderr(&out).contains("`web-tier` is a segment"),
        "{}",
        stderr(&out)
    );

    let out = netproof(&[
        "trace",
        "fixtures/scenarios/seed000-publish-vm.np",
        "web01",
        "client",
        "Https",
    ]);
    assert_eq!(status(&out), 2);
    assert!(
        stderr(&out).contains("did you mean `HTTPS`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn designs_with_errors_are_not_traced() {
    let dir = common::scratch("trace", "errors");
    common::write(
        &dir,
        "broken.np",
        "vpc a 10.0.0.1/16 {\n  subnet s 10.0.1.0/24\n}\n",
    );
    let file = dir.join("broken.np");
    let path = file.to_string_lossy().into_owned();
    let out = netproof(&["trace", &path, "10.0.1.10", "10.0.1.11"]);
    assert_eq!(status(&out), 2);
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(err.contains("NP005"), "{err}");
    assert!(err.contains("fix them before tracing"), "{err}");

    let out = netproof(&["trace", "no/such/file.np", "a", "b"]);
    assert_eq!(status(&out), 2);
    assert!(stderr(&out).contains("cannot read `no/such/file.np`"));
}

#[test]
fn literal_addresses_and_ports() {
    let out = netproof(&[
        "trace",
        "fixtures/scenarios/seed004-nvgre.np",
        "198.51.100.7",
        "203.0.113.5",
        "tcp/443",
        "--sport",
        "5555",
    ]);
    assert_eq!(status(&out), 0, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("198.51.100.7:5555 -> 203.0.113.5:443 tcp"),
        "{text}"
    );
    assert!(text.contains("dst 203.0.113.5 -> 10.0.1.10"), "{text}");
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn set(items: &[&'static str]) -> BTreeSet<&'static str> {
    items.iter().copied().collect()
}

#[test]
fn json_has_the_documented_shape() {
    let out = netproof(&[
        "trace",
        "--format",
        "json",
        "fixtures/scenarios/seed000-hybrid.np",
        "client",
        "web01",
        "HTTP",
        "--at",
        "52.58.125.207",
    ]);
    assert_eq!(status(&out), 1);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(
        keys(&doc),
        set(&[
            "tool",
            "file",
            "source",
            "destination",
            "at",
            "service",
            "reaches",
            "forward",
            "reply",
            "failure"
        ])
    );
    assert_eq!(doc["reaches"], Value::Bool(false));
    assert_eq!(doc["source"]["address"], "198.51.100.20");
    assert_eq!(doc["at"]["input"], "52.58.125.207");
    assert_eq!(keys(&doc["forward"]), set(&["sent", "hops", "outcome"]));
    let hop = &doc["forward"]["hops"][0];
    assert_eq!(
        keys(hop),
        set(&["node", "stage", "decision", "dropped", "before", "after", "location"])
    );
    assert_eq!(
        keys(&hop["location"]),
        set(&["file", "line", "column", "end_line", "end_column", "text"])
    );
    assert_eq!(
        keys(&doc["forward"]["sent"]),
        set(&["src", "dst", "protocol", "protocol_name", "sport", "dport"])
    );
    assert_eq!(doc["forward"]["outcome"]["kind"], "delivered");
    assert_eq!(
        keys(&doc["forward"]["outcome"]),
        set(&["kind", "to", "packet"])
    );
    let nat = doc["forward"]["hops"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["stage"] == "nat"))
        .expect("a NAT hop");
    assert_eq!(nat["before"]["dst"], "52.58.125.207");
    assert_eq!(nat["after"]["dst"], "10.10.11.101");
    assert_eq!(doc["reply"]["outcome"]["kind"], "delivered");
    assert_eq!(
        keys(&doc["failure"]),
        set(&["direction", "decided", "reason", "help", "location"])
    );
    assert_eq!(doc["failure"]["direction"], "reply");
    assert_eq!(doc["failure"]["decided"], true);
    assert_eq!(doc["failure"]["location"]["line"], 29);

    // A dropped forward packet: no reply, and a dropped outcome.
    let out = netproof(&[
        "trace",
        "--format",
        "json",
        "fixtures/scenarios/seed001-connected-vpc.np",
        "CJ-AWS02",
        "CJ-VM01",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["reply"], Value::Null);
    assert_eq!(doc["at"], Value::Null);
    assert_eq!(
        keys(&doc["forward"]["outcome"]),
        set(&["kind", "reason", "help", "location"])
    );
    assert_eq!(doc["forward"]["outcome"]["kind"], "dropped");
}

#[test]
fn help_has_examples() {
    let out = netproof(&["trace", "--help"]);
    assert_eq!(status(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("Examples:") && text.contains("Exit status:"),
        "{text}"
    );
}
