//! The oracle (`netproof::sim`) against the forwarding model: one small
//! design per behaviour of `docs/forwarding.md`, and the verdicts the seed
//! scenarios' expectations describe.

mod common;

use netproof::diagnostic::Severity;
use netproof::model::{lower, Model};
use netproof::sim::{
    parse_service, representative_packets, resolve_address, simulate_flow, simulate_flow_to,
    FlowResult, Outcome, Packet, Party, Stage, Start, Trace,
};
use std::net::IpAddr;

/// Lowers a design that must be free of errors (a typo in a test design
/// should fail loudly, not turn into a surprising drop).
fn design(text: &str) -> Model {
    let report = netproof::check::check_source("test.np", text);
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        // Only front-end errors (NP0xx, NP1xx) mean the test design itself
        // is wrong: these designs are about behaviour, including the design
        // mistakes later rules report (a public address in a firewall rule,
        // asymmetric NAT, a NAT instance with its check on), and expectation
        // verdicts (NP9xx).
        .filter(|d| {
            let code = d.code.as_str();
            d.severity() == Severity::Error && (code.starts_with("NP0") || code.starts_with("NP1"))
        })
        .map(|d| netproof::render::render_human(&report, d, false))
        .collect();
    assert!(
        errors.is_empty(),
        "the test design has errors:\n{}",
        errors.join("\n")
    );
    lower(&netproof::syntax::parse(text).tree).model
}

fn scenario(name: &str) -> Model {
    let text = std::fs::read_to_string(common::root().join("fixtures/scenarios").join(name))
        .expect("read the scenario");
    design(&text)
}

/// Traces SRC -> DST [at AT] SERVICE as `netproof trace` does.
fn flow(m: &Model, src: &str, dst: &str, service: &str, at: Option<&str>) -> FlowResult {
    let s = resolve_address(m, src).expect("SRC resolves");
    let d = resolve_address(m, dst).expect("DST resolves");
    let a = at.map(|a| resolve_address(m, a).expect("AT resolves"));
    let svc = parse_service(m, service).expect("the service parses");
    let target = a.as_ref().map_or(d.addr, |a| a.addr);
    let packet = svc.packet(s.addr, target, None).expect("a packet");
    let start = s.host.map_or(Start::Address(s.addr), Start::Host);
    let intended = a.and(d.host).map(Party::Host);
    simulate_flow_to(m, start, packet, intended)
}

fn show_trace(t: &Trace) -> String {
    let mut s = format!("  sent {}\n", t.sent);
    for h in &t.hops {
        s.push_str(&format!(
            "  {:<40} {:<15} {}{}\n",
            h.node,
            h.stage.as_str(),
            if h.dropped { "DROP " } else { "" },
            h.decision
        ));
    }
    s.push_str(&format!("  => {:?}\n", t.outcome));
    s
}

/// The whole flow, for assertion messages.
fn show(f: &FlowResult) -> String {
    let mut s = format!("forward:\n{}", show_trace(&f.forward));
    if let Some(r) = &f.reply {
        s.push_str(&format!("reply:\n{}", show_trace(r)));
    }
    s.push_str(&format!(
        "reaches: {}, failure: {:?}\n",
        f.reaches, f.failure
    ));
    s
}

#[track_caller]
fn assert_reaches(f: &FlowResult) {
    assert!(f.reaches, "expected the flow to reach:\n{}", show(f));
    assert!(f.failure.is_none(), "{}", show(f));
}

/// Asserts that the flow fails in `direction`, at a hop of `stage` on a
/// node containing `node`, with a reason containing `needle`.
#[track_caller]
fn assert_fails(f: &FlowResult, direction: &str, stage: Stage, node: &str, needle: &str) {
    assert!(!f.reaches, "expected the flow to fail:\n{}", show(f));
    let failure = f.failure.as_ref().expect("a failure");
    assert_eq!(failure.direction.as_str(), direction, "{}", show(f));
    assert!(
        failure.reason.contains(needle),
        "reason {:?} lacks {needle:?}:\n{}",
        failure.reason,
        show(f)
    );
    let trace = match direction {
        "forward" => &f.forward,
        _ => f.reply.as_ref().expect("a reply trace"),
    };
    if matches!(trace.outcome, Outcome::Dropped { .. }) {
        let last = trace.hops.last().expect("a hop");
        assert!(last.dropped, "{}", show(f));
        assert_eq!(last.stage, stage, "{}", show(f));
        assert!(
            last.node.contains(node),
            "node {:?}:\n{}",
            last.node,
            show(f)
        );
    }
}

fn delivered(t: &Trace) -> Packet {
    match t.outcome {
        Outcome::Delivered { header, .. } => header,
        Outcome::Dropped { .. } => panic!("not delivered:\n{}", show_trace(t)),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an address")
}

// ---------------------------------------------------------------- VPC

const TWO_TIERS: &str = r#"
vpc app 10.0.0.0/16 {
  subnet web 10.0.1.0/24
  subnet db 10.0.2.0/24
  security-group web-sg {
    outbound POSTGRES to 10.0.2.0/24
  }
  security-group db-sg {
    inbound POSTGRES from sg web-sg
  }
  instance web1 10.0.1.10 in web sg [web-sg]
  instance db1 10.0.2.10 in db sg [db-sg]
}
"#;

#[test]
fn security_groups_are_stateful() {
    let m = design(TWO_TIERS);
    // web-sg has no inbound rule at all, yet the reply gets in: the group
    // remembers the request it let out.
    let f = flow(&m, "web1", "db1", "POSTGRES", None);
    assert_reaches(&f);
    let reply = f.reply.as_ref().expect("a reply");
    assert!(reply
        .hops
        .iter()
        .any(|h| h.stage == Stage::SecurityGroup && h.decision.contains("stateful")));
    // The other way round nothing opens the door: db-sg has AWS's default
    // outbound rule, but web-sg admits nothing.
    let back = flow(&m, "db1", "web1", "tcp/5432", None);
    assert_fails(
        &back,
        "forward",
        Stage::SecurityGroup,
        "web1",
        "inbound rule of security group `web-sg`",
    );
}

#[test]
fn sg_references_match_the_sending_interface() {
    let m = design(TWO_TIERS);
    // An unnamed interface in `web` is in the default group, not in web-sg.
    let f = flow(&m, "10.0.1.99", "db1", "POSTGRES", None);
    assert_fails(
        &f,
        "forward",
        Stage::SecurityGroup,
        "db1",
        "inbound rule of security group `db-sg`",
    );
}

const ACL: &str = r#"
vpc app 10.0.0.0/16 {
  subnet web 10.0.1.0/24 acl web-acl
  subnet client 10.0.2.0/24
  network-acl web-acl {
    inbound 100 allow HTTPS from 0.0.0.0/0
    outbound 100 allow tcp/443 to 0.0.0.0/0
  }
  security-group web-sg {
    inbound HTTPS from 0.0.0.0/0
  }
  instance web1 10.0.1.10 in web sg [web-sg]
  instance cl1 10.0.2.10 in client
}
"#;

#[test]
fn network_acls_are_stateless_and_replies_need_ephemeral_ports() {
    let m = design(ACL);
    let f = flow(&m, "cl1", "web1", "HTTPS", None);
    assert!(f.forward.delivered().is_some(), "{}", show(&f));
    assert_fails(
        &f,
        "reply",
        Stage::NetworkAcl,
        "router",
        "no outbound rule of network ACL `web-acl`",
    );
    let help = &f.failure.as_ref().expect("failure").help;
    assert!(
        help.contains("stateless") && help.contains("1024-65535"),
        "{help}"
    );

    let fixed = design(&ACL.replace(
        "outbound 100 allow tcp/443 to 0.0.0.0/0",
        "outbound 100 allow tcp/443 to 0.0.0.0/0\n    outbound 110 allow tcp/1024-65535 to 0.0.0.0/0",
    ));
    assert_reaches(&flow(&fixed, "cl1", "web1", "HTTPS", None));
}

#[test]
fn acl_rules_are_first_match_by_number() {
    let m = design(&ACL.replace(
        "inbound 100 allow HTTPS from 0.0.0.0/0",
        "inbound 90 deny tcp from 10.0.2.0/24\n    inbound 100 allow HTTPS from 0.0.0.0/0",
    ));
    let f = flow(&m, "cl1", "web1", "HTTPS", None);
    assert_fails(
        &f,
        "forward",
        Stage::NetworkAcl,
        "router",
        "rule 90 of network ACL `web-acl` denies it",
    );
}

#[test]
fn traffic_within_one_subnet_skips_acls() {
    let m = design(&format!(
        "{}\n",
        ACL.replace(
            "instance cl1 10.0.2.10 in client",
            "instance cl1 10.0.2.10 in client\n  instance web2 10.0.1.11 in web"
        )
    ));
    let f = flow(&m, "web2", "web1", "tcp/8080", None);
    // web-sg does not allow 8080: what stops it is the group, not the ACL.
    assert_fails(
        &f,
        "forward",
        Stage::SecurityGroup,
        "web1",
        "security group `web-sg`",
    );
    assert!(!f.forward.hops.iter().any(|h| h.stage == Stage::NetworkAcl));
}

#[test]
fn internet_gateway_does_one_to_one_nat_and_does_not_masquerade() {
    let m = scenario("seed002-vpc-internet.np");
    let f = flow(&m, "ntp", "web", "HTTPS", Some("54.64.1.10"));
    assert_reaches(&f);
    // web sees the client's real address and its own private address.
    let got = delivered(&f.forward);
    assert_eq!(
        (got.src, got.dst),
        (ip("203.0.113.123"), ip("192.168.1.10"))
    );
    // Outbound, web's private address becomes its Elastic IP.
    let out = flow(&m, "web", "ntp", "HTTPS", None);
    assert_reaches(&out);
    assert_eq!(delivered(&out.forward).src, ip("54.64.1.10"));
    // batch sits in the public subnet without a public address.
    let batch = flow(&m, "batch", "ntp", "HTTPS", None);
    assert_fails(
        &batch,
        "forward",
        Stage::Nat,
        "internet gateway igw",
        "does not masquerade",
    );
}

const NAT_GATEWAY: &str = r#"
vpc shop 10.0.0.0/16 {
  internet-gateway igw
  route-table public-rt {
    route 0.0.0.0/0 -> igw
  }
  route-table private-rt {
    route 0.0.0.0/0 -> natgw
  }
  subnet public 10.0.1.0/24 route-table public-rt
  subnet private 10.0.2.0/24 route-table private-rt
  nat-gateway natgw in public elastic-ip 54.0.0.5
  instance app 10.0.2.10 in private
}
internet {
  host api 203.0.113.80
}
"#;

#[test]
fn nat_gateway_masquerades_and_admits_no_unsolicited_inbound() {
    let m = design(NAT_GATEWAY);
    let f = flow(&m, "app", "api", "HTTPS", None);
    assert_reaches(&f);
    assert_eq!(delivered(&f.forward).src, ip("54.0.0.5"));
    let inbound = flow(&m, "api", "54.0.0.5", "HTTPS", None);
    assert_fails(
        &inbound,
        "forward",
        Stage::Nat,
        "internet gateway igw",
        "admits no unsolicited inbound",
    );
}

#[test]
fn private_nat_gateway_uses_an_address_of_its_subnet() {
    let m = design(
        r#"
vpc a 10.0.0.0/16 {
  route-table rt { route 10.9.0.0/16 -> pnat }
  subnet apps 10.0.1.0/24 route-table rt
  subnet nat 10.0.9.0/24
  nat-gateway pnat in nat private
  instance app 10.0.1.10 in apps
  instance far 10.0.9.50 in nat
}
"#,
    );
    // 10.9.0.0/16 is nobody's: the packet is masqueraded and then, from the
    // NAT gateway's subnet, there is no route for it.
    let f = flow(&m, "app", "10.9.0.1", "HTTPS", None);
    assert_fails(
        &f,
        "forward",
        Stage::Route,
        "router",
        "has no route for 10.9.0.1",
    );
    let nat = f
        .forward
        .hops
        .iter()
        .find(|h| h.stage == Stage::Nat)
        .expect("a NAT hop");
    assert_eq!(nat.rewrite.map(|(_, a)| a.src), Some(ip("10.0.9.4")));
}

#[test]
fn nat_instance_needs_source_dest_check_off() {
    let m = scenario("seed002-vpc-internet.np");
    let f = flow(&m, "worker", "ntp", "NTP", None);
    assert_reaches(&f);
    assert_eq!(delivered(&f.forward).src, ip("54.64.1.5"));
    assert!(f
        .forward
        .hops
        .iter()
        .any(|h| h.node.contains("nat1") && h.stage == Stage::Nat));

    let text =
        std::fs::read_to_string(common::root().join("fixtures/scenarios/seed002-vpc-internet.np"))
            .expect("read");
    let on = design(&text.replace(" source-dest-check off", ""));
    let f = flow(&on, "worker", "ntp", "NTP", None);
    assert_fails(
        &f,
        "forward",
        Stage::Forward,
        "nat1",
        "source/destination check on",
    );
    assert!(f
        .failure
        .as_ref()
        .is_some_and(|x| x.help.contains("source-dest-check off")));
}

const PEERING: &str = r#"
vpc a 10.1.0.0/16 {
  route-table rt {
    route 10.2.0.0/16 -> ab
    route 10.3.0.0/16 -> ab
  }
  subnet s 10.1.1.0/24 route-table rt
  instance a1 10.1.1.10 in s
  security-group default {
    inbound any from 10.0.0.0/8
  }
}
vpc b 10.2.0.0/16 {
  route-table rt {
    route 10.1.0.0/16 -> ab
    route 10.3.0.0/16 -> bc
  }
  subnet s 10.2.1.0/24 route-table rt
  security-group default {
    inbound any from 10.0.0.0/8
  }
  instance b1 10.2.1.10 in s
}
vpc c 10.3.0.0/16 {
  subnet s 10.3.1.0/24
  instance c1 10.3.1.10 in s
}
peering ab a <-> b
peering bc b <-> c
"#;

#[test]
fn peering_is_not_transitive() {
    let m = design(PEERING);
    assert_reaches(&flow(&m, "a1", "b1", "SSH", None));
    let f = flow(&m, "a1", "c1", "SSH", None);
    assert_fails(&f, "forward", Stage::Route, "vpc b / router", "no transit");
}

const TGW: &str = r#"
vpc a 10.1.0.0/16 {
  route-table rt { route 10.0.0.0/8 -> tgw }
  subnet s 10.1.1.0/24 route-table rt
  instance a1 10.1.1.10 in s
}
vpc b 10.2.0.0/16 {
  route-table rt { route 10.0.0.0/8 -> tgw }
  subnet s 10.2.1.0/24 route-table rt
  security-group default {
    inbound any from 10.0.0.0/8
  }
  instance b1 10.2.1.10 in s
}
vpc c 10.3.0.0/16 {
  route-table rt { route 10.0.0.0/8 -> tgw }
  subnet s 10.3.1.0/24 route-table rt
  security-group default {
    inbound any from 10.0.0.0/8
  }
  instance c1 10.3.1.10 in s
}
transit-gateway tgw {
  attach a, b, c
  route 10.3.0.0/16 -> blackhole
}
"#;

#[test]
fn transit_gateway_static_routes_beat_propagated_ones() {
    let m = design(TGW);
    // Propagated: a's and b's prefixes.
    assert_reaches(&flow(&m, "a1", "b1", "SSH", None));
    // A static route for c's prefix beats the propagated one.
    let f = flow(&m, "a1", "c1", "SSH", None);
    assert_fails(
        &f,
        "forward",
        Stage::Route,
        "transit-gateway tgw",
        "blackhole",
    );
    // A more specific propagated route still wins by length.
    let m = design(&TGW.replace(
        "route 10.3.0.0/16 -> blackhole",
        "route 10.0.0.0/8 -> blackhole",
    ));
    assert_reaches(&flow(&m, "a1", "c1", "SSH", None));
}

#[test]
fn no_route_drops_naming_the_table() {
    let m = design(
        r#"
vpc a 10.1.0.0/16 {
  route-table rt { route 10.9.0.0/16 -> blackhole-ish }
  subnet s 10.1.1.0/24
  instance a1 10.1.1.10 in s
}
internet { host x 198.51.100.1 }
"#
        .replace(
            "  route-table rt { route 10.9.0.0/16 -> blackhole-ish }\n",
            "",
        )
        .as_str(),
    );
    let f = flow(&m, "a1", "x", "HTTPS", None);
    assert_fails(
        &f,
        "forward",
        Stage::Route,
        "vpc a / router",
        "main route table",
    );
}

// ---------------------------------------------------------------- SDDC

const PUBLISH: &str = r#"
sddc prod {
  segment web-tier 10.10.11.0/24
  vm web01 10.10.11.101 in web-tier
  public-ip web-pip 52.58.125.207
  nat dnat web-in 52.58.125.207 -> web01 MATCH
  firewall cgw {
    rule web-egress allow from web-tier to any service any applied-to internet
    RULE
  }
}
internet {
  host client 198.51.100.20
}
"#;

fn publish(matching: &str, rule: &str) -> Model {
    design(&PUBLISH.replace("MATCH", matching).replace("RULE", rule))
}

#[test]
fn cgw_dnat_firewall_sees_the_private_address_by_default() {
    let m = publish(
        "",
        "rule web-in allow from any to web01 service HTTP applied-to internet",
    );
    let f = flow(&m, "client", "web01", "HTTP", Some("52.58.125.207"));
    assert_reaches(&f);
    assert_eq!(
        delivered(&f.reply.clone().expect("reply")).src,
        ip("52.58.125.207")
    );

    // The classic mistake: the rule names the public address.
    let m = publish(
        "",
        "rule web-in allow from any to 52.58.125.207 service HTTP applied-to internet",
    );
    let f = flow(&m, "client", "web01", "HTTP", Some("52.58.125.207"));
    assert_fails(
        &f,
        "forward",
        Stage::Firewall,
        "cgw (uplink internet)",
        "Default Uplink Rule",
    );
    let help = &f.failure.as_ref().expect("failure").help;
    assert!(
        help.contains("rule `web-in` matches the packet as"),
        "{help}"
    );
}

#[test]
fn cgw_firewall_match_external_and_bypass() {
    let m = publish(
        "firewall-match external",
        "rule web-in allow from any to 52.58.125.207 service HTTP applied-to internet",
    );
    assert_reaches(&flow(&m, "client", "web01", "HTTP", Some("52.58.125.207")));
    // With external matching, a rule on the private address no longer matches.
    let m = publish(
        "firewall-match external",
        "rule web-in allow from any to web01 service HTTP applied-to internet",
    );
    let f = flow(&m, "client", "web01", "HTTP", Some("52.58.125.207"));
    assert_fails(&f, "forward", Stage::Firewall, "cgw", "Default Uplink Rule");
    // Bypass: no rule needed at all.
    let m = publish("firewall-match bypass", "");
    let f = flow(&m, "client", "web01", "HTTP", Some("52.58.125.207"));
    assert_reaches(&f);
    assert!(f.forward.hops.iter().any(|h| h.decision.contains("bypass")));
}

#[test]
fn cgw_without_dnat_rule_drops_inbound() {
    let m = publish("", "");
    let f = flow(&m, "client", "52.58.125.207", "HTTPS", None);
    // The DNAT has no service, so HTTPS is translated too; the firewall
    // then has no rule for it.
    assert_fails(&f, "forward", Stage::Firewall, "cgw", "Default Uplink Rule");
    let m = design(
        &PUBLISH
            .replace("nat dnat web-in 52.58.125.207 -> web01 MATCH", "")
            .replace("RULE", ""),
    );
    let f = flow(&m, "client", "52.58.125.207", "HTTPS", None);
    assert_fails(
        &f,
        "forward",
        Stage::Nat,
        "cgw (uplink internet)",
        "no NAT rule",
    );
}

#[test]
fn default_snat_translates_and_admits_only_replies() {
    let m = publish("", "");
    let f = flow(&m, "web01", "client", "HTTPS", None);
    assert_reaches(&f);
    // The design gives no default SNAT address: the oracle's placeholder.
    assert_eq!(delivered(&f.forward).src, ip("240.0.0.1"));
    let unsolicited = flow(&m, "client", "240.0.0.1", "HTTPS", None);
    assert_fails(
        &unsolicited,
        "forward",
        Stage::Nat,
        "cgw",
        "admits only replies",
    );

    let explicit = design(
        &PUBLISH
            .replace("MATCH", "\n  default-snat 52.0.0.9")
            .replace("RULE", ""),
    );
    let f = flow(&explicit, "web01", "client", "HTTPS", None);
    assert_reaches(&f);
    assert_eq!(delivered(&f.forward).src, ip("52.0.0.9"));

    // Without SNAT the private address goes out, and the internet cannot
    // route the reply back to it.
    let off = design(
        &PUBLISH
            .replace("MATCH", "\n  default-snat off")
            .replace("RULE", ""),
    );
    let f = flow(&off, "web01", "client", "HTTPS", None);
    assert_fails(
        &f,
        "reply",
        Stage::Route,
        "internet",
        "no one on the internet owns 10.10.11.101",
    );
}

#[test]
fn snat_and_no_snat_rules() {
    let m = design(&PUBLISH.replace(
        "MATCH",
        "\n  segment db 10.10.12.0/24\n  vm db01 10.10.12.5 in db\n  nat snat db-out db -> 52.0.0.7\n  nat no-snat keep web-tier",
    ).replace("RULE", "rule db-egress allow from db to any applied-to internet"));
    let f = flow(&m, "db01", "client", "HTTPS", None);
    assert_reaches(&f);
    assert_eq!(delivered(&f.forward).src, ip("52.0.0.7"));
    let f = flow(&m, "web01", "client", "HTTPS", None);
    assert_eq!(delivered(&f.forward).src, ip("10.10.11.101"));
    assert!(!f.reaches);
}

#[test]
fn learned_default_route_moves_egress_on_prem_and_breaks_dnat() {
    let m = scenario("seed000-hybrid.np");
    // The request comes in through the SDDC's DNAT, the reply leaves by the
    // learned default route over Direct Connect: asymmetric NAT.
    let f = flow(&m, "client", "web01", "HTTP", Some("52.58.125.207"));
    assert!(f.forward.delivered().is_some(), "{}", show(&f));
    assert_fails(&f, "reply", Stage::Delivery, "client", "asymmetric NAT");
    let reply = f.reply.as_ref().expect("reply");
    assert_eq!(delivered(reply).src, ip("203.0.113.1"));
    assert!(reply
        .hops
        .iter()
        .any(|h| h.decision.contains("learned default route wins")));
    let text = std::fs::read_to_string(common::root().join("fixtures/scenarios/seed000-hybrid.np"))
        .expect("read");
    let span = f.failure.as_ref().and_then(|x| x.span).expect("a span");
    assert!(
        span.slice(&text).starts_with("nat dnat web-in"),
        "the failure points at the DNAT rule: {:?}",
        span.slice(&text)
    );
    // Outbound, web01's traffic now meets the direct-connect uplink, where no
    // rule allows it.
    let out = flow(&m, "web01", "client", "HTTPS", None);
    assert_fails(
        &out,
        "forward",
        Stage::Firewall,
        "cgw (uplink direct-connect dx)",
        "Default Uplink Rule",
    );
}

#[test]
fn l2vpn_extended_segment_leaves_through_on_prem() {
    let text = std::fs::read_to_string(common::root().join("fixtures/scenarios/seed000-hybrid.np"))
        .expect("read");
    let m = design(&text.replace(
        "vm web01 10.10.11.101 in web-tier",
        "vm web01 10.10.11.101 in web-tier\n  vm old01 172.20.5.20 in legacy",
    ));
    let f = flow(&m, "old01", "client", "HTTPS", None);
    assert_reaches(&f);
    assert!(f.forward.hops.iter().any(|h| h.node == "onprem dc / edge"));
    assert!(
        !f.forward.hops.iter().any(|h| h.node.contains("cgw")),
        "{}",
        show(&f)
    );
    assert_eq!(delivered(&f.forward).src, ip("203.0.113.1"));
    // From on-prem, the extended segment is attached: across the L2VPN.
    let m2 = design(
        &text
            .replace(
                "vm web01 10.10.11.101 in web-tier",
                "vm web01 10.10.11.101 in web-tier\n  vm old01 172.20.5.20 in legacy",
            )
            .replace(
                "segment users 172.20.1.0/24",
                "segment users 172.20.1.0/24\n  host pc 172.20.1.50 in users",
            ),
    );
    let f = flow(&m2, "pc", "old01", "SMB", None);
    assert_reaches(&f);
    assert!(f
        .forward
        .hops
        .iter()
        .any(|h| h.decision.contains("across the L2VPN")));
    // From the SDDC's own segment, the extended segment is not attached to
    // the compute gateway: it is reached over the route learned from
    // on-prem, where its gateway is (and the CGW has no rule for that).
    let f = flow(&m2, "web01", "old01", "SMB", None);
    assert!(
        f.forward.hops.iter().any(|h| h.stage == Stage::Route
            && h.decision
                .contains("172.20.0.0/16 -> uplink direct-connect dx")),
        "{}",
        show(&f)
    );
    assert_fails(
        &f,
        "forward",
        Stage::Firewall,
        "cgw (uplink direct-connect dx)",
        "Default Uplink Rule",
    );
}

#[test]
fn connected_vpc_default_security_group() {
    let m = scenario("seed001-connected-vpc.np");
    assert_reaches(&flow(&m, "CJ-VM01", "CJ-AWS01", "ICMP", None));
    assert_reaches(&flow(&m, "CJ-AWS01", "CJ-VM01", "ICMP", None));
    // CJ-SG admits anything, and the SDDC counts as a default-group member.
    assert_reaches(&flow(&m, "CJ-VM01", "CJ-AWS02", "ICMP", None));
    let f = flow(&m, "CJ-AWS02", "CJ-VM01", "ICMP", None);
    assert_fails(
        &f,
        "forward",
        Stage::SecurityGroup,
        "ENIs of sddc cj",
        "security group `default`",
    );
    assert!(f
        .failure
        .as_ref()
        .is_some_and(|x| x.help.contains("ENIs carry")));
}

#[test]
fn cgw_needs_rules_on_the_vpc_uplink_both_ways() {
    let text =
        std::fs::read_to_string(common::root().join("fixtures/scenarios/seed001-connected-vpc.np"))
            .expect("read");
    let m = design(&text.replace(
        "    rule vpc-in allow from any to CJ-VM service any applied-to vpc\n",
        "",
    ));
    assert_reaches(&flow(&m, "CJ-VM01", "CJ-AWS01", "ICMP", None));
    let f = flow(&m, "CJ-AWS01", "CJ-VM01", "ICMP", None);
    assert_fails(
        &f,
        "forward",
        Stage::Firewall,
        "cgw (uplink vpc)",
        "Default Uplink Rule",
    );
}

#[test]
fn privatelink_target_sees_the_nlb() {
    let m = scenario("seed003-privatelink.np");
    let f = flow(
        &m,
        "win01",
        "webvpc.web01",
        "HTTP",
        Some("connected.web-ep"),
    );
    assert_reaches(&f);
    let at_target = delivered(&f.forward);
    assert_eq!(at_target.dst, ip("192.168.15.241"));
    // The last usable address of the NLB's subnet `web` (AWS reserves the
    // last one; a private NAT gateway would take the first usable one).
    assert_eq!(at_target.src, ip("192.168.15.254"));
    // Only HTTP is listened to.
    let f = flow(&m, "win01", "connected.web-ep", "HTTPS", None);
    assert_fails(
        &f,
        "forward",
        Stage::Firewall,
        "cgw (uplink vpc)",
        "Default Uplink Rule",
    );
}

#[test]
fn privatelink_endpoint_security_group_and_listener() {
    let text =
        std::fs::read_to_string(common::root().join("fixtures/scenarios/seed003-privatelink.np"))
            .expect("read");
    let m = design(&text.replace(
        "inbound HTTP from 192.168.15.10/32",
        "inbound HTTP from 192.168.15.99/32",
    ));
    let f = flow(
        &m,
        "win01",
        "webvpc.web01",
        "HTTP",
        Some("connected.web-ep"),
    );
    assert_fails(
        &f,
        "forward",
        Stage::SecurityGroup,
        "endpoint web-ep",
        "`ep-sg`",
    );
    let m = design(
        &text
            .replace(
                "service HTTP applied-to vpc",
                "service [HTTP, HTTPS] applied-to vpc",
            )
            .replace(
                "inbound HTTP from 192.168.15.10/32",
                "inbound [HTTP, HTTPS] from 192.168.15.10/32",
            ),
    );
    let f = flow(&m, "win01", "connected.web-ep", "HTTPS", None);
    assert_fails(
        &f,
        "forward",
        Stage::LoadBalancer,
        "nlb web-nlb",
        "no listener",
    );
}

#[test]
fn intended_destination_is_checked() {
    let m = scenario("seed003-privatelink.np");
    let f = flow(
        &m,
        "win01",
        "webvpc.bastion",
        "HTTP",
        Some("connected.web-ep"),
    );
    assert!(!f.reaches);
    assert!(
        f.failure
            .as_ref()
            .is_some_and(|x| x.reason.contains("not to bastion")),
        "{}",
        show(&f)
    );
}

// ---------------------------------------------------------------- on-prem, VM networks

#[test]
fn vm_network_nat_mode_publishes_and_masquerades() {
    let m = scenario("seed004-nvgre.np");
    let f = flow(&m, "198.51.100.7", "203.0.113.5", "HTTPS", None);
    assert_reaches(&f);
    assert_eq!(delivered(&f.forward).dst, ip("10.0.1.10"));
    let f = flow(&m, "tenant-a.app01", "198.51.100.7", "HTTPS", None);
    assert_reaches(&f);
    assert_eq!(delivered(&f.forward).src, ip("203.0.113.5"));
    // The DNAT is for HTTPS only.
    let f = flow(&m, "198.51.100.7", "203.0.113.5", "HTTP", None);
    assert_fails(&f, "forward", Stage::Nat, "gateway gw", "no NAT rule");
}

#[test]
fn vm_network_s2s_needs_an_external_address_and_routes() {
    let m = scenario("seed004-nvgre.np");
    let f = flow(&m, "tenant-b.app01", "fs01", "SMB", None);
    assert_fails(
        &f,
        "forward",
        Stage::Forward,
        "tenant-b / gateway gw",
        "no external address",
    );

    let text = std::fs::read_to_string(common::root().join("fixtures/scenarios/seed004-nvgre.np"))
        .expect("read");
    let fixed = text
        .replace(
            "gateway gw mode s2s in apps",
            "subnet gw-net 10.0.254.0/24\n  gateway gw mode s2s external-ip 198.51.100.9 in gw-net",
        )
        .replace(
            "advertise corp 172.16.0.0/16",
            "advertise corp 172.16.0.0/16\n  advertise tenant-b 10.0.1.0/24",
        );
    let m = design(&fixed);
    let f = flow(&m, "tenant-b.app01", "fs01", "SMB", None);
    assert_reaches(&f);
    assert!(f
        .forward
        .hops
        .iter()
        .any(|h| h.decision.contains("vpn `corp-link`")));
    // Without the advertisement, corp has no route back.
    let m = design(&fixed.replace("\n  advertise tenant-b 10.0.1.0/24", ""));
    let f = flow(&m, "tenant-b.app01", "fs01", "SMB", None);
    assert_fails(
        &f,
        "reply",
        Stage::Route,
        "onprem corp / edge",
        "no internet exit",
    );
}

const ONPREM: &str = r#"
onprem hq 10.50.0.0/16 {
  segment lan 10.50.1.0/24
  host www 10.50.1.80 in lan
  host pc 10.50.1.20 in lan
  internet-egress snat 203.0.113.50
  nat dnat pub 203.0.113.51 -> www service HTTPS
  firewall edge {
    rule out allow from 10.50.0.0/16 to any applied-to internet
    rule in allow from any to www service HTTPS applied-to internet
  }
}
internet {
  host client 198.51.100.20
}
"#;

#[test]
fn on_prem_edge_publishes_filters_and_masquerades() {
    let m = design(ONPREM);
    let f = flow(&m, "client", "www", "HTTPS", Some("203.0.113.51"));
    assert_reaches(&f);
    let f = flow(&m, "pc", "client", "HTTPS", None);
    assert_reaches(&f);
    assert_eq!(delivered(&f.forward).src, ip("203.0.113.50"));
    // Only replies come back to the egress address.
    let f = flow(&m, "client", "203.0.113.50", "HTTPS", None);
    assert_fails(
        &f,
        "forward",
        Stage::Nat,
        "onprem hq / edge",
        "admits only replies",
    );
    // The edge firewall has no rule for SSH in.
    let m = design(&ONPREM.replace("service HTTPS\n  firewall", "\n  firewall"));
    let f = flow(&m, "client", "www", "SSH", Some("203.0.113.51"));
    assert_fails(
        &f,
        "forward",
        Stage::Firewall,
        "onprem hq / edge",
        "implicit last rule",
    );
}

#[test]
fn policy_based_vpn_selectors() {
    let m = design(
        r#"
onprem a 10.1.0.0/16 {
  segment lan 10.1.1.0/24
  host a1 10.1.1.10 in lan
  host a2 10.1.1.20 in lan
}
onprem b 10.2.0.0/16 {
  segment lan 10.2.1.0/24
  host b1 10.2.1.10 in lan
}
vpn ab a <-> b policy-based {
  local [10.1.1.10]
  remote [10.2.0.0/16]
}
"#,
    );
    let f = flow(&m, "a1", "b1", "SSH", None);
    assert_reaches(&f);
    assert!(f
        .forward
        .hops
        .iter()
        .any(|h| h.decision.contains("selectors")));
    // a2 is outside the local selector; a has no other way there.
    let f = flow(&m, "a2", "b1", "SSH", None);
    assert_fails(
        &f,
        "forward",
        Stage::Route,
        "onprem a / edge",
        "no internet exit",
    );
}

#[test]
fn routing_loops_stop_after_64_nodes() {
    let m = design(
        r#"
onprem a 10.1.0.0/16 {
  segment lan 10.1.1.0/24
  host a1 10.1.1.10 in lan
}
onprem b 10.2.0.0/16 {
  segment lan 10.2.1.0/24
}
direct-connect x a <-> b {
  advertise a 10.9.0.0/16
  advertise b 10.9.0.0/16
}
"#,
    );
    let f = flow(&m, "a1", "10.9.1.1", "SSH", None);
    assert!(!f.reaches);
    let last = f.forward.hops.last().expect("a hop");
    assert_eq!(last.stage, Stage::Loop, "{}", show(&f));
    assert!(last.decision.contains("onprem"), "{}", last.decision);
    let nodes: std::collections::HashSet<_> =
        f.forward.hops.iter().map(|h| h.node.clone()).collect();
    assert!(nodes.len() < 10);
}

// ---------------------------------------------------------------- robustness

#[test]
fn broken_models_drop_instead_of_panicking() {
    // Lowered without the error check: `nowhere` does not exist, so the
    // host has no subnet.
    let text = "sddc s {\n  segment seg 10.0.0.0/24\n  vm v 10.0.0.10 in nowhere\n}\ninternet { host h 198.51.100.1 }\n";
    let m = lower(&netproof::syntax::parse(text).tree).model;
    let v = resolve_address(&m, "v").expect("v resolves");
    let f = simulate_flow(
        &m,
        Start::Host(v.host.expect("a host")),
        Packet {
            src: v.addr,
            dst: ip("198.51.100.1"),
            proto: 6,
            sport: 40000,
            dport: 443,
        },
    );
    assert!(!f.reaches);
    assert!(f
        .failure
        .as_ref()
        .is_some_and(|x| x.reason.contains("no known subnet")));

    // Hosts that do not exist, addresses inside a site but in no subnet.
    let f = simulate_flow(
        &m,
        Start::Host(netproof::model::HostId(99)),
        Packet {
            src: ip("10.0.0.1"),
            dst: ip("10.0.0.2"),
            proto: 1,
            sport: 0,
            dport: 8,
        },
    );
    assert!(!f.reaches);
}

#[test]
fn every_pair_of_every_scenario_terminates() {
    // A smoke test over everything the scenarios declare: no panics, every
    // walk ends within the node limit.
    for path in common::np_files(std::path::Path::new("fixtures/scenarios")) {
        let text = std::fs::read_to_string(common::root().join(&path)).expect("read");
        let m = lower(&netproof::syntax::parse(&text).tree).model;
        let mut addrs: Vec<IpAddr> = m.hosts.iter().map(|h| h.addr.value).collect();
        addrs.extend(m.public_ips.iter().map(|p| p.addr.value));
        addrs.extend(m.endpoints.iter().map(|e| e.addr.value));
        addrs.push(ip("8.8.8.8"));
        for &src in &addrs {
            for &dst in &addrs {
                if src.is_ipv4() != dst.is_ipv4() {
                    continue;
                }
                for (proto, dport) in [(6, 443), (17, 123), (1, 8)] {
                    let sport = if proto == 1 { 0 } else { 40000 };
                    let p = Packet {
                        src,
                        dst,
                        proto,
                        sport,
                        dport,
                    };
                    let f = simulate_flow(&m, Start::Address(src), p);
                    assert!(f.forward.hops.len() <= 64 * 8, "{}", path.display());
                    if f.reaches {
                        assert!(f.failure.is_none());
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- seeds

/// Whether every representative packet of expectation `i` reaches.
fn expectation_reaches(m: &Model, i: usize) -> Vec<FlowResult> {
    let exp = &m.expectations[i];
    let probes = representative_packets(m, exp);
    assert!(!probes.is_empty(), "expectation {i} has probes");
    probes
        .into_iter()
        .map(|p| simulate_flow_to(m, p.start, p.packet, p.intended))
        .collect()
}

#[track_caller]
fn all_reach(m: &Model, i: usize) {
    for f in expectation_reaches(m, i) {
        assert_reaches(&f);
    }
}

#[track_caller]
fn none_reach(m: &Model, i: usize) -> Vec<FlowResult> {
    let flows = expectation_reaches(m, i);
    for f in &flows {
        assert!(!f.reaches, "expected a failure:\n{}", show(f));
    }
    flows
}

#[test]
fn seed000_publish_vm_expectations_hold() {
    let m = scenario("seed000-publish-vm.np");
    all_reach(&m, 0);
    all_reach(&m, 1);
}

#[test]
fn seed000_hybrid_expectations_fail() {
    let m = scenario("seed000-hybrid.np");
    for f in none_reach(&m, 0) {
        assert!(
            f.failure
                .as_ref()
                .is_some_and(|x| x.reason.contains("asymmetric NAT")),
            "{}",
            show(&f)
        );
    }
    for f in none_reach(&m, 1) {
        assert!(
            f.failure
                .as_ref()
                .is_some_and(|x| x.reason.contains("direct-connect dx")),
            "{}",
            show(&f)
        );
    }
}

#[test]
fn seed001_connected_vpc_expectations() {
    let m = scenario("seed001-connected-vpc.np");
    all_reach(&m, 0);
    all_reach(&m, 1);
    for f in none_reach(&m, 2) {
        assert!(f
            .failure
            .as_ref()
            .is_some_and(|x| x.reason.contains("`default`")));
    }
}

#[test]
fn seed002_vpc_internet_expectations_hold() {
    let m = scenario("seed002-vpc-internet.np");
    all_reach(&m, 0);
    all_reach(&m, 1);
}

#[test]
fn seed003_privatelink_expectation_holds() {
    let m = scenario("seed003-privatelink.np");
    all_reach(&m, 0);
}

#[test]
fn probes_are_deterministic_and_small() {
    let m = scenario("seed000-publish-vm.np");
    let a = representative_packets(&m, &m.expectations[0]);
    let b = representative_packets(&m, &m.expectations[0]);
    assert_eq!(a, b);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].packet.dst, ip("52.58.125.207"));
    assert_eq!(
        (a[0].packet.proto, a[0].packet.sport, a[0].packet.dport),
        (6, 1024, 80)
    );
    // DNS is two ranges: one probe each.
    let m = design(
        "vpc a 10.0.0.0/16 {\n  subnet s 10.0.1.0/24\n  instance x 10.0.1.10 in s\n  instance y 10.0.1.11 in s\n}\nexpect reach x -> y DNS\n",
    );
    let probes = representative_packets(&m, &m.expectations[0]);
    let protos: Vec<u8> = probes.iter().map(|p| p.packet.proto).collect();
    assert_eq!(protos, [6, 17]);
}
