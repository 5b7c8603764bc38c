//! Verdicts a user can trust on the seed designs: what a finding tells the
//! user to do works, each finding is said once, example packets are packets
//! a real client could send, and an address the internet does not route is
//! not reached from it.

mod common;

use netproof::check::{check_source, FileReport};
use netproof::diagnostic::Diagnostic;

fn findings<'r>(report: &'r FileReport, code: &str) -> Vec<&'r Diagnostic> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == code)
        .collect()
}

fn help(d: &Diagnostic) -> &str {
    d.help.as_deref().unwrap_or_default()
}

// ------------------------------------------------------------------ NP305

/// Seed 001's SDDC and connected VPC with the CGW rules given.
fn seed001(rules: &str) -> String {
    format!(
        "sddc cj {{
  segment cj-seg 192.168.100.0/24
  vm CJ-VM01 192.168.100.10 in cj-seg
  connected-vpc cj-vpc
  firewall cgw {{
{rules}
  }}
}}

vpc cj-vpc 172.31.0.0/16 {{
  subnet sub-a 172.31.0.0/20
  instance CJ-AWS01 172.31.1.10 in sub-a sg [default]
}}

expect reach CJ-VM01 -> CJ-AWS01 ICMP
expect reach CJ-AWS01 -> CJ-VM01 ICMP
"
    )
}

/// When a drop rule blocks the direction the expectation needs, an allow
/// rule appended to the firewall would come after it and never match: the
/// help names the drop rule and says where the allow rule must go.
#[test]
fn np305_names_the_drop_rule_that_blocks_the_flow() {
    let text = seed001(
        "    rule vpc-out allow from cj-seg to any service any applied-to vpc
    rule vpc-deny drop from any to any service any applied-to vpc",
    );
    let report = check_source("np305.np", text);
    let found = findings(&report, "NP305");
    assert_eq!(found.len(), 1, "{:#?}", report.diagnostics);
    let d = found[0];
    assert!(d.message.contains("rule `vpc-deny` drops"), "{}", d.message);
    let help = help(d);
    assert!(help.contains("above rule `vpc-deny`"), "{help}");
    assert!(
        !help.ends_with("to `firewall cgw`"),
        "appending the rule does not work: {help}"
    );
}

/// An allow rule for the needed direction that sits below the drop rule is
/// named, and the help moves it instead of adding another.
#[test]
fn np305_moves_an_allow_rule_the_drop_rule_hides() {
    let text = seed001(
        "    rule vpc-out allow from cj-seg to any service any applied-to vpc
    rule vpc-deny drop from any to any service any applied-to vpc
    rule vpc-in allow from cj-vpc to cj-seg service any applied-to vpc",
    );
    let report = check_source("np305.np", text);
    let found = findings(&report, "NP305");
    assert_eq!(found.len(), 1, "{:#?}", report.diagnostics);
    let help = help(found[0]);
    assert!(
        help.contains("move it above rule `vpc-deny`") && help.contains("rule `vpc-in`"),
        "{help}"
    );
    assert!(
        found[0]
            .secondary
            .iter()
            .any(|l| l.message.contains("rule `vpc-deny` matches first")),
        "{:#?}",
        found[0].secondary
    );
}

/// Without a drop rule (the Default Uplink Rule drops), appending the rule
/// is the right advice, as before.
#[test]
fn np305_adds_the_rule_when_the_default_uplink_rule_drops() {
    let text = seed001("    rule vpc-out allow from cj-seg to any service any applied-to vpc");
    let report = check_source("np305.np", text);
    let found = findings(&report, "NP305");
    assert_eq!(found.len(), 1, "{:#?}", report.diagnostics);
    assert!(
        help(found[0]).ends_with("to `firewall cgw`"),
        "{}",
        help(found[0])
    );
}

// ------------------------------------------------------------------ NP501

/// Seed 003's endpoint, whose group admits win01 only, with the gateway
/// rule's sources and the expectations given.
fn seed003(rule_from: &str, expects: &str) -> String {
    format!(
        "sddc vmc 192.168.0.0/20 {{
  segment office 192.168.15.0/24
  vm win01 192.168.15.10 in office
  vm win02 192.168.15.11 in office
  connected-vpc connected
  firewall cgw {{
    rule to-endpoint allow from {rule_from} to connected.web-ep service HTTP applied-to vpc
  }}
}}

vpc connected 10.0.0.0/16 {{
  subnet endpoints 10.0.3.0/24
  security-group ep-sg {{
    inbound HTTP from 192.168.15.10/32
  }}
  endpoint web-ep service webvpc.web-svc in endpoints ip 10.0.3.181 sg [ep-sg]
}}

vpc webvpc 192.168.0.0/20 {{
  subnet web 192.168.15.0/24
  security-group web-sg {{
    inbound HTTP from 192.168.0.0/20
  }}
  instance web01 192.168.15.241 in web sg [web-sg]
  nlb web-nlb internal in [web] {{
    listener tcp/80 -> [web01] target-type instance
  }}
  endpoint-service web-svc nlb web-nlb acceptance required
}}

{expects}
"
    )
}

/// A gateway rule and an expectation that send the same packets to the
/// endpoint are one finding, with both labelled.
#[test]
fn np501_reports_one_finding_per_endpoint_and_packet_with_every_sender() {
    let text = seed003(
        "[win01, win02]",
        "expect reach win02 -> webvpc.web01 at connected.web-ep HTTP",
    );
    let report = check_source("np501.np", text);
    let found = findings(&report, "NP501");
    assert_eq!(found.len(), 1, "{:#?}", report.diagnostics);
    let d = found[0];
    assert!(
        d.message.contains("rule `to-endpoint`") && d.message.contains("an expectation"),
        "{}",
        d.message
    );
    let senders = d
        .secondary
        .iter()
        .filter(|l| l.message.starts_with("sends tcp/80 from 192.168.15.11"))
        .count();
    assert_eq!(senders, 2, "{:#?}", d.secondary);
}

/// The example client of a segment is a host of it, never its gateway
/// (.1 in an NSX segment) or another reserved address.
#[test]
fn np501_never_shows_a_segment_gateway_as_the_client() {
    let text = seed003(
        "office",
        "expect reach win02 -> webvpc.web01 at connected.web-ep HTTP",
    );
    let report = check_source("np501.np", text);
    let found = findings(&report, "NP501");
    assert_eq!(found.len(), 1, "{:#?}", report.diagnostics);
    let d = found[0];
    for reserved in ["192.168.15.0:", "192.168.15.1:", "192.168.15.255:"] {
        assert!(!d.message.contains(reserved), "{}", d.message);
    }
    for text in d
        .secondary
        .iter()
        .map(|l| l.message.as_str())
        .chain([help(d)])
    {
        for reserved in [
            "from 192.168.15.0",
            "from 192.168.15.1 ",
            "192.168.15.1,",
            "192.168.15.1`",
            "192.168.15.1]",
        ] {
            assert!(!text.contains(reserved), "{text}");
        }
    }
    assert!(d.message.contains("192.168.15.6:1024"), "{}", d.message);
}

// -------------------------------------------------------- example packets

/// The example packet of an expectation from a segment with no hosts is
/// sent from a host address of it, not from the segment's gateway, and
/// from the default client port.
#[test]
fn example_packets_come_from_a_host_address_of_the_source() {
    let text = "sddc s {
  segment web 10.10.1.0/24
  segment db 10.10.2.0/24
  vm db01 10.10.2.10 in db
}

expect no-reach web -> db01 HTTPS
";
    let report = check_source("witness.np", text);
    let found = findings(&report, "NP902");
    assert_eq!(found.len(), 1, "{:#?}", report.diagnostics);
    let m = &found[0].message;
    assert!(m.contains("tcp 10.10.1.6:1024 -> 10.10.2.10:443"), "{m}");
}

/// A source that is any address at all (`any`) is not shown as 0.0.0.1.
#[test]
fn example_packets_do_not_come_from_this_network() {
    let text = "vpc v 10.0.0.0/16 {
  internet-gateway igw
  route-table rt {
    route 0.0.0.0/0 -> igw
  }
  subnet s 10.0.1.0/24 route-table rt
  security-group open {
    inbound HTTPS from 0.0.0.0/0
    outbound any to 0.0.0.0/0
  }
  instance web 10.0.1.10 in s sg [open] elastic-ip 54.64.1.10
}

expect no-reach internet -> web at 54.64.1.10 HTTPS
";
    let report = check_source("witness.np", text);
    let found = findings(&report, "NP902");
    assert_eq!(found.len(), 1, "{:#?}", report.diagnostics);
    let m = &found[0].message;
    assert!(!m.contains("0.0.0.1:"), "{m}");
}

/// A finding and `netproof trace` of the same flow show the same packet:
/// seed 000's hybrid design, whose published web server's replies leave by
/// Direct Connect. Findings said source port 1024 and `trace` 40000.
#[test]
fn findings_and_trace_use_the_same_client_port() {
    let path = "fixtures/scenarios/seed000-hybrid.np";
    let report = common::check_file(std::path::Path::new(path));
    let failed = findings(&report, "NP901");
    let shown = failed
        .iter()
        .find(|d| d.message.contains("198.51.100.20:"))
        .map(|d| d.message.clone())
        .expect("the client's expectation fails");
    let out = common::netproof(
        &common::root(),
        &[
            "trace",
            "--format",
            "json",
            path,
            "client",
            "web01",
            "HTTP",
            "--at",
            "52.58.125.207",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let sport = &doc["forward"]["sent"]["sport"];
    assert_eq!(sport, 1024, "{doc:#}");
    assert!(
        shown.contains(&format!("198.51.100.20:{sport} -> 52.58.125.207:80")),
        "{shown}"
    );
}

// ------------------------------------------------- Hyper-V private gateway

/// Seed 004's tenant, its NAT gateway's external address given, with
/// HTTPS published at that address.
fn seed004(external: &str, expects: &str) -> String {
    format!(
        "vmnetwork tenant-a {{
  subnet apps 10.0.1.0/24
  subnet gw-net 10.0.254.0/24
  vm app01 10.0.1.10 in apps
  gateway gw mode nat external-ip {external} in gw-net
  nat dnat app-web {external} -> app01 service HTTPS
}}

internet {{
  host client 198.51.100.7
}}

{expects}
"
    )
}

fn holds(report: &FileReport) -> Vec<Option<bool>> {
    report.expectations.iter().map(|e| e.holds).collect()
}

/// The internet does not route to a private address: a NAT gateway whose
/// external address is private is not reached from the internet, and the
/// finding says why. Before, the internet delivered it to the gateway.
#[test]
fn a_private_external_address_is_not_reached_from_the_internet() {
    let text = seed004(
        "192.168.50.5",
        "expect reach client -> tenant-a.app01 at 192.168.50.5 HTTPS",
    );
    let report = check_source("seed004.np", text);
    assert_eq!(holds(&report), [Some(false)], "{:#?}", report.diagnostics);
    let found = findings(&report, "NP901");
    assert_eq!(found.len(), 1, "{:#?}", report.diagnostics);
    assert!(
        found[0]
            .message
            .contains("the internet does not route to 192.168.50.5")
            && found[0].message.contains("private (RFC 1918)"),
        "{}",
        found[0].message
    );
    // A public external address is reached, as before.
    let text = seed004(
        "203.0.113.5",
        "expect reach client -> tenant-a.app01 at 203.0.113.5 HTTPS",
    );
    assert_eq!(holds(&check_source("seed004.np", text)), [Some(true)]);
}

/// What a NAT gateway with a private external address sends to the
/// internet gets there, and is answered, only through a NAT device in front
/// of it, which a design cannot state: not decided (NP905), neither a pass
/// nor a failure. Before, it reached.
#[test]
fn a_private_external_address_leaves_outbound_flows_undecided() {
    let text = seed004(
        "192.168.50.5",
        "expect reach tenant-a.app01 -> client HTTPS",
    );
    let report = check_source("seed004.np", text);
    assert_eq!(holds(&report), [None], "{:#?}", report.diagnostics);
    let found = findings(&report, "NP905");
    assert_eq!(found.len(), 1, "{:#?}", report.diagnostics);
    assert!(
        found[0]
            .message
            .contains("NAT device in front of the gateway"),
        "{}",
        found[0].message
    );
}

/// `netproof trace` of such a flow says it is not decided, not that it
/// fails.
#[test]
fn trace_says_an_outbound_flow_through_a_private_external_address_is_not_decided() {
    let dir = common::scratch("verdicts", "private_gateway_trace");
    common::write(
        &dir,
        "seed004.np",
        seed004(
            "192.168.50.5",
            "expect reach tenant-a.app01 -> client HTTPS",
        ),
    );
    let out = common::netproof(
        &dir,
        &["trace", "seed004.np", "tenant-a.app01", "client", "HTTPS"],
    );
    let text = common::stdout(&out);
    assert!(text.contains("\nnot decided (forward): "), "{text}");
    let out = common::netproof(
        &dir,
        &[
            "trace",
            "--format",
            "json",
            "seed004.np",
            "tenant-a.app01",
            "client",
            "HTTPS",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["reaches"], false);
    assert_eq!(doc["failure"]["decided"], false, "{doc:#}");
}

// ------------------------------------------------------------------ IPv6

/// An IPv6 instance without an Elastic IP is reachable through the
/// internet gateway (the original report: "unreachable, give it an Elastic
/// IP"); where IPv6 fails at the gateway, the help never suggests an
/// Elastic IP or a NAT gateway, which are IPv4 only.
#[test]
fn ipv6_at_the_internet_gateway_needs_no_elastic_ip() {
    let text = "
vpc shop 10.0.0.0/16, 2600:1f18:1:100::/56, fd00:1::/56 {
  internet-gateway igw
  route-table public {
    route ::/0 -> igw
  }
  subnet pub 2600:1f18:1:100::/64 route-table public
  subnet local fd00:1:0:1::/64 route-table public
  security-group web-sg {
    inbound HTTPS from ::/0
  }
  instance web 2600:1f18:1:100::10 in pub sg [web-sg]
  instance ula fd00:1:0:1::10 in local sg [web-sg]
}

internet {
  host client 2001:db8:ffff::10
}

expect reach client -> web HTTPS
expect reach web -> client HTTPS
expect reach ula -> client HTTPS
";
    let report = check_source("ipv6.np", text.to_string());
    assert_eq!(
        holds(&report),
        vec![Some(true), Some(true), Some(false)],
        "{:#?}",
        report.diagnostics
    );
    assert!(findings(&report, "NP206").is_empty());
    let failed = findings(&report, "NP901");
    assert_eq!(failed.len(), 1, "{:#?}", report.diagnostics);
    let h = help(failed[0]);
    assert!(h.contains("2000::/3"), "{h}");
    assert!(
        !h.contains("give the instance an Elastic IP") && !h.contains("`elastic-ip"),
        "{h}"
    );
}
