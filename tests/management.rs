//! The SDDC management network's verdicts: the management gateway (MGW)
//! firewall in both directions, the appliances behind it, and what stays
//! not decided (docs/forwarding.md, "The management network"). Each test
//! checks the engine's verdict (`check`) and the oracle's (`trace`).

use netproof::check::{check_source, FileReport};
use netproof::model::{lower, Model};
use netproof::sim::{simulate_flow, Packet, Start, TCP};
use std::net::IpAddr;

/// Ops on-prem and the SDDC's management network over Direct Connect, with
/// the management gateway rules given (`None`: no `firewall mgw`); vCenter
/// at 10.2.0.4 and an ESXi host at 10.2.0.10; 10.2.0.5 is no appliance's.
fn design(mgw: Option<&str>, expects: &str) -> String {
    let mgw = mgw.map_or_else(String::new, |r| format!("  firewall mgw {{\n{r}\n  }}\n"));
    format!(
        "sddc prod {{
  management 10.2.0.0/20
  appliance vcenter vc 10.2.0.4
  appliance esxi esx1 10.2.0.10
  segment web-tier 10.10.11.0/24
  vm web01 10.10.11.101 in web-tier
{mgw}}}

onprem dc 172.20.0.0/16 {{
  segment ops 172.20.1.0/24
  host ops1 172.20.1.5 in ops
  host backup1 172.20.1.9 in ops
}}

direct-connect dx prod <-> dc {{
  advertise dc 172.20.0.0/16
}}

internet {{
  host depot 203.0.113.50
}}

{expects}
"
    )
}

fn holds(report: &FileReport) -> Vec<Option<bool>> {
    report.expectations.iter().map(|e| e.holds).collect()
}

fn codes(report: &FileReport, code: &str) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == code)
        .map(|d| d.message.clone())
        .collect()
}

fn model(text: &str) -> Model {
    lower(&netproof::syntax::parse(text).tree).model
}

/// The oracle's verdict on one TCP flow (the reply included).
fn oracle(text: &str, src: &str, dst: &str, port: u16) -> (bool, Option<bool>) {
    let m = model(text);
    let (src, dst): (IpAddr, IpAddr) = (
        src.parse().expect("source address"),
        dst.parse().expect("destination address"),
    );
    let p = Packet {
        src,
        dst,
        proto: TCP,
        sport: 1024,
        dport: port,
    };
    let flow = simulate_flow(&m, Start::Address(src), p);
    (flow.reaches, flow.failure.map(|f| f.decided))
}

#[test]
fn without_mgw_rules_default_deny_all_drops_what_reaches_the_management_network() {
    let text = design(None, "expect no-reach ops1 -> vc HTTPS");
    assert_eq!(holds(&check_source("mgw.np", &text)), [Some(true)]);
    assert_eq!(
        oracle(&text, "172.20.1.5", "10.2.0.4", 443),
        (false, Some(true))
    );
}

#[test]
fn what_the_mgw_allows_reaches_the_appliance_and_its_reply_returns() {
    let rule = "    rule ops-to-vcenter allow from 172.20.1.0/24 to vc service HTTPS";
    let text = design(
        Some(rule),
        "expect reach ops1 -> vc HTTPS\nexpect no-reach ops1 -> vc SSH\n\
         expect no-reach ops1 -> esx1 HTTPS",
    );
    let report = check_source("mgw.np", &text);
    assert_eq!(holds(&report), [Some(true), Some(true), Some(true)]);
    assert!(
        codes(&report, "NP905").is_empty(),
        "{:#?}",
        report.diagnostics
    );
    assert!(
        codes(&report, "NP307").is_empty(),
        "{:#?}",
        report.diagnostics
    );
    assert_eq!(oracle(&text, "172.20.1.5", "10.2.0.4", 443), (true, None));
    assert_eq!(
        oracle(&text, "172.20.1.5", "10.2.0.4", 22),
        (false, Some(true))
    );
}

#[test]
fn what_the_mgw_allows_to_an_address_no_appliance_has_is_dropped() {
    let rule = "    rule ops-to-mgmt allow from 172.20.1.0/24 to 10.2.0.0/20 service HTTPS";
    let text = design(Some(rule), "expect reach ops1 -> 10.2.0.5 HTTPS");
    let report = check_source("mgw.np", &text);
    assert_eq!(holds(&report), [Some(false)]);
    let failed = codes(&report, "NP901");
    assert!(failed[0].contains("no appliance"), "{failed:?}");
    assert_eq!(
        oracle(&text, "172.20.1.5", "10.2.0.5", 443),
        (false, Some(true))
    );
}

#[test]
fn an_mgw_rule_applies_whatever_its_applied_to_and_np307_says_so() {
    // VMC's management gateway rules have no Applied To: a rule written for
    // the internet uplink still admits what comes over Direct Connect.
    let rule = "    rule ops-to-vcenter allow from 172.20.1.0/24 to vc service HTTPS \
                applied-to internet";
    let text = design(Some(rule), "expect reach ops1 -> vc HTTPS");
    let report = check_source("mgw.np", &text);
    assert_eq!(holds(&report), [Some(true)]);
    let refused = codes(&report, "NP307");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].contains("applied-to"), "{refused:?}");
}

#[test]
fn appliances_send_only_what_an_mgw_rule_allows_them() {
    let rule = "    rule vc-out allow from vc to any";
    let text = design(
        Some(rule),
        "expect reach vc -> backup1 SSH\nexpect no-reach esx1 -> backup1 SSH\n\
         expect reach vc -> web01 SSH",
    );
    let report = check_source("mgw.np", &text);
    // To a compute segment, the compute gateway's part is not modelled.
    assert_eq!(holds(&report), [Some(true), Some(true), None]);
    assert_eq!(oracle(&text, "10.2.0.4", "172.20.1.9", 22), (true, None));
    assert_eq!(
        oracle(&text, "10.2.0.4", "10.10.11.101", 22),
        (false, Some(false))
    );
    assert_eq!(
        oracle(&text, "10.2.0.10", "172.20.1.9", 22),
        (false, Some(true))
    );
    // Without the rule, Default Deny All keeps vCenter in, both sides agree.
    let text = design(None, "expect no-reach vc -> backup1 SSH");
    assert_eq!(holds(&check_source("mgw.np", &text)), [Some(true)]);
    assert_eq!(
        oracle(&text, "10.2.0.4", "172.20.1.9", 22),
        (false, Some(true))
    );
}

#[test]
fn the_internet_and_the_management_network_stay_not_decided() {
    let rule = "    rule vc-out allow from vc to any";
    let text = design(
        Some(rule),
        "expect reach vc -> depot HTTPS\nexpect reach vc -> esx1 HTTPS",
    );
    let report = check_source("mgw.np", &text);
    assert_eq!(holds(&report), [None, None]);
    let why = codes(&report, "NP905");
    assert_eq!(why.len(), 2, "{why:?}");
    assert!(
        why.iter().all(|m| m.contains("management network")),
        "{why:?}"
    );
    assert_eq!(
        oracle(&text, "10.2.0.4", "203.0.113.50", 443),
        (false, Some(false))
    );
    assert_eq!(
        oracle(&text, "10.2.0.4", "10.2.0.10", 443),
        (false, Some(false))
    );
}

#[test]
fn from_a_compute_segment_the_mgw_drops_are_decided_and_what_it_passes_is_not() {
    let rule = "    rule web-vc allow from web-tier to vc service HTTPS";
    let text = design(
        Some(rule),
        "expect no-reach web01 -> vc SSH\nexpect reach web01 -> vc HTTPS",
    );
    let report = check_source("mgw.np", &text);
    assert_eq!(holds(&report), [Some(true), None]);
    assert_eq!(
        oracle(&text, "10.10.11.101", "10.2.0.4", 22),
        (false, Some(true))
    );
    assert_eq!(
        oracle(&text, "10.10.11.101", "10.2.0.4", 443),
        (false, Some(false))
    );
}

#[test]
fn a_drop_rule_in_the_mgw_drops_and_np307_says_vmc_refuses_it() {
    let rules = "    rule no-ssh drop from 172.20.1.0/24 to vc service SSH\n    \
                 rule ops allow from 172.20.1.0/24 to vc";
    let text = design(
        Some(rules),
        "expect no-reach ops1 -> vc SSH\nexpect reach ops1 -> vc HTTPS",
    );
    let report = check_source("mgw.np", &text);
    assert_eq!(holds(&report), [Some(true), Some(true)]);
    let refused = codes(&report, "NP307");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].contains("`drop` rule"), "{refused:?}");
}
