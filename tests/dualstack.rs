//! Dual-stack VPC subnets and instances (`subnet NAME V4, V6`, `instance
//! NAME V4, V6 in SUBNET`) and the egress-only internet gateway, through
//! the parser, the lowering, the formatter and the addressing rules, which
//! judge each address against its subnet's prefix of the same family.

use netproof::check::check_source;
use netproof::model::{self, GatewayKind, Model};
use netproof::syntax::parse;

fn lower(text: &str) -> Model {
    model::lower(&parse(text).tree).model
}

/// Each finding as `CODE message`.
fn findings(text: &str) -> Vec<String> {
    check_source("t.np", text)
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code.as_str(), d.message))
        .collect()
}

const DUAL: &str = "\
vpc shop 10.0.0.0/16, 2600:1f18:1:100::/56 {
  egress-only-internet-gateway eigw
  route-table rt {
    route ::/0 -> eigw
  }
  subnet app 10.0.1.0/24, 2600:1f18:1:101::/64 route-table rt
  instance web 10.0.1.10, 2600:1f18:1:101::10 in app
}
";

#[test]
fn a_dual_stack_subnet_and_instance_lower_with_both_addresses() {
    let m = lower(DUAL);
    let sub = &m.subnets[0];
    assert_eq!(sub.prefix.value.to_string(), "10.0.1.0/24");
    assert_eq!(
        sub.dual.as_ref().map(|p| p.value.to_string()),
        Some("2600:1f18:1:101::/64".to_string())
    );
    let web = &m.hosts[0];
    let addrs: Vec<String> = web.addrs().map(|a| a.value.to_string()).collect();
    assert_eq!(addrs, ["10.0.1.10", "2600:1f18:1:101::10"]);
    assert!(web.owns("2600:1f18:1:101::10".parse().expect("addr")));
    assert!(sub.contains("2600:1f18:1:101::99".parse().expect("addr")));
    assert_eq!(m.gateways[0].kind, GatewayKind::EgressOnlyInternetGateway);
    assert_eq!(findings(DUAL), Vec::<String>::new());
}

#[test]
fn a_dual_stack_element_has_one_prefix_or_address_of_each_family() {
    let text = "\
vpc v 10.0.0.0/16 {
  subnet a 10.0.1.0/24, 10.0.2.0/24
  subnet b 10.0.3.0/24, 2600::/64, 2600:1::/64
  instance i 10.0.1.10, 10.0.1.11 in a
}
";
    assert_eq!(
        findings(text),
        [
            "NP001 a dual-stack subnet has one prefix of each family: this is a second IPv4 prefix",
            "NP001 a dual-stack subnet has at most two prefixes, one of each family",
            "NP001 a dual-stack instance has one address of each family: this is a second IPv4 address",
        ]
    );
}

#[test]
fn only_vpc_subnets_and_instances_are_dual_stack() {
    let text = "\
vmnetwork w {
  subnet c 10.1.0.0/24, 2600::/64
}
onprem o 172.16.0.0/16 {
  segment s 172.16.1.0/24
  host h 172.16.1.10, 2600::10 in s
}
";
    let codes: Vec<String> = findings(text)
        .into_iter()
        .map(|f| f[..5].to_string())
        .collect();
    assert_eq!(codes, ["NP001", "NP001"]);
}

/// NP101 and NP106 judge each address against the subnet's prefix of its
/// family; NP102 and NP103 see both prefixes, NP104 both addresses.
#[test]
fn addressing_rules_judge_each_family() {
    let text = "\
vpc v 10.0.0.0/16, 2600:1f18:1:100::/56 {
  subnet a 10.0.1.0/24, 2600:1f18:1:101::/64
  subnet b 10.0.2.0/24, 2600:1f18:1:101::/64
  subnet c 10.0.3.0/24, 2600:1f18:9:101::/64
  instance ok 10.0.1.10, 2600:1f18:1:101::10 in a
  instance out 10.0.1.11, 2600:1f18:1:1ff::10 in a
  instance reserved 10.0.1.12, 2600:1f18:1:101::1 in a
  instance twice 10.0.1.13, 2600:1f18:1:101::10 in a
}
";
    let mut got = findings(text);
    got.sort();
    assert_eq!(
        got,
        [
            "NP101 `out` has address 2600:1f18:1:1ff::10, which is outside subnet `a` (2600:1f18:1:101::/64)",
            "NP102 subnet `c` (2600:1f18:9:101::/64) is outside vpc `v` (10.0.0.0/16, 2600:1f18:1:100::/56)",
            "NP103 subnet `b` (2600:1f18:1:101::/64) is the same prefix as subnet `a` (2600:1f18:1:101::/64) in `v`",
            "NP104 2600:1f18:1:101::10 is owned twice in `v`: by instance `v.ok` and by instance `v.twice`",
            "NP106 `reserved` uses 2600:1f18:1:101::1, which is reserved in subnet `a` (2600:1f18:1:101::/64)",
        ]
    );
}

#[test]
fn dual_stack_lines_and_the_egress_only_gateway_format_stably() {
    let once = netproof::format::format_source(DUAL).expect("formats");
    assert!(once.contains("subnet app 10.0.1.0/24, 2600:1f18:1:101::/64 route-table rt"));
    assert!(once.contains("instance web 10.0.1.10, 2600:1f18:1:101::10 in app"));
    assert!(once.contains("egress-only-internet-gateway eigw"));
    assert_eq!(
        netproof::format::format_source(&once).expect("formats"),
        once
    );
}

/// The worked example's verdicts, and advice that is right for IPv6: the
/// egress-only gateway's refusal never suggests an Elastic IP or a NAT
/// gateway.
#[test]
fn the_dual_stack_scenario_holds_fails_and_leaves_undecided_as_described() {
    let path = "fixtures/scenarios/dual-stack-egress-only.np";
    let text = std::fs::read_to_string(path).expect("scenario");
    let report = check_source(path, text);
    let holds: Vec<Option<bool>> = report.expectations.iter().map(|e| e.holds).collect();
    assert_eq!(
        holds,
        [
            Some(true),
            Some(true),
            Some(true),
            Some(true),
            Some(true),
            Some(false),
            Some(false),
            None
        ]
    );
    let refused = report
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "NP901" && d.message.contains("2600:1f18:2:101::10]:443"))
        .expect("client6 -> batch fails");
    assert!(
        refused.message.contains("passes only replies"),
        "{}",
        refused.message
    );
    let help = refused.help.clone().unwrap_or_default();
    assert!(
        !help.contains("give the instance an Elastic IP") && !help.contains("NAT gateway"),
        "{help}"
    );
}
