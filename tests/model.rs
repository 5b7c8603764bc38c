//! Lowering and resolution, observed through the model and the diagnostics.

use netproof::check::check_source;
use netproof::model::{self, AddrTerm, Entity, Model, RouteOrigin, RouteTarget};
use netproof::syntax::ast::FirewallMatch;
use netproof::syntax::parse;

fn lower(text: &str) -> (Model, Vec<netproof::diagnostic::Diagnostic>) {
    let parsed = parse(text);
    let lowered = model::lower(&parsed.tree);
    let mut diags = parsed.diagnostics;
    diags.extend(lowered.diagnostics);
    (lowered.model, diags)
}

fn codes(text: &str) -> Vec<&'static str> {
    check_source("t.np", text)
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

fn line_of(text: &str, offset: u32) -> usize {
    text[..offset as usize].matches('\n').count() + 1
}

#[test]
fn three_syntax_errors_are_all_reported_and_names_still_resolve() {
    let text = "\
sddc prod {
  segment web-tier 10.10.11.0/24
  vm web01 10.10.11.101 on web-tier
  segment app-tier 10.10.12.0/24 extra
  vm app01 10.10.12.10 in app-tier
  public-ip pip 52.58.125.207
  nat dnat web-in 52.58.125.207 => web01
}
internet {
  host client 198.51.100.20
}
expect reach client -> web01 at 52.58.125.207 HTTP
expect reach app01 -> client HTTPS
";
    let report = check_source("three.np", text);
    let syntax: Vec<usize> = report
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "NP001")
        .map(|d| line_of(text, d.primary.span.start))
        .collect();
    assert_eq!(syntax, vec![3, 4, 7], "{:#?}", report.diagnostics);
    let others: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() != "NP001")
        .collect();
    assert!(others.is_empty(), "names must still resolve: {others:#?}");
}

#[test]
fn vpc_defaults_are_explicit_in_the_model() {
    let (m, diags) =
        lower("vpc v 10.0.0.0/16 {\n  subnet a 10.0.1.0/24\n  instance i 10.0.1.10 in a\n}\n");
    assert!(diags.is_empty(), "{diags:#?}");
    let site = &m.sites[0];
    let sg = site
        .default_sg
        .expect("a VPC always has a default security group");
    let group = &m.security_groups[sg.index()];
    assert!(group.decl.implicit);
    assert_eq!(
        group.inbound[0].peers.terms[0].value,
        AddrTerm::Sg(sg),
        "inbound from its own members"
    );
    assert_eq!(
        m.hosts[0].sgs.iter().map(|s| s.value).collect::<Vec<_>>(),
        vec![sg]
    );

    let main = site
        .main_route_table
        .expect("a VPC always has a main route table");
    assert_eq!(m.subnets[0].route_table, Some(main));
    let local = &m.route_tables[main.index()].routes[0];
    assert_eq!(
        (local.prefix.to_string(), local.target, local.origin),
        ("10.0.0.0/16".into(), RouteTarget::Local, RouteOrigin::Local)
    );
    assert_eq!(m.subnets[0].acl, site.default_acl);
}

#[test]
fn the_connected_vpc_main_table_routes_sddc_segments_to_the_enis() {
    let (m, diags) = lower(
        "sddc s {\n  segment seg 192.168.100.0/24\n  connected-vpc v\n}\n\
         vpc v 172.31.0.0/16 {\n  route-table rt main {\n    route 0.0.0.0/0 -> igw\n  }\n  internet-gateway igw\n}\n",
    );
    assert!(diags.is_empty(), "{diags:#?}");
    let main = m.sites[1].main_route_table.expect("main");
    let routes: Vec<_> = m.route_tables[main.index()]
        .routes
        .iter()
        .map(|r| (r.prefix.to_string(), r.origin))
        .collect();
    assert_eq!(
        routes,
        vec![
            ("172.31.0.0/16".to_string(), RouteOrigin::Local),
            ("0.0.0.0/0".to_string(), RouteOrigin::Static),
            ("192.168.100.0/24".to_string(), RouteOrigin::ConnectedSddc),
        ]
    );
}

#[test]
fn lookup_prefers_the_current_site_and_reports_ambiguity_with_candidates() {
    let text = "\
vmnetwork a {\n  subnet apps 10.0.1.0/24\n  vm app01 10.0.1.10 in apps\n  group g [app01]\n}\n\
vmnetwork b {\n  subnet apps 10.0.1.0/24\n  vm app01 10.0.1.10 in apps\n}\n\
expect reach app01 -> a.app01 any\n";
    let report = check_source("amb.np", text);
    let amb: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "NP002")
        .collect();
    assert_eq!(amb.len(), 1, "{:#?}", report.diagnostics);
    assert!(amb[0].message.contains("ambiguous"));
    assert_eq!(amb[0].secondary.len(), 2, "both candidates are labelled");
    assert!(amb[0]
        .help
        .as_deref()
        .unwrap_or("")
        .contains("`a.app01` or `b.app01`"));
}

#[test]
fn unknown_names_suggest_the_closest_fitting_one() {
    let report = check_source(
        "typo.np",
        "sddc s {\n  segment web-tier 10.0.0.0/24\n  vm w 10.0.0.10 in web-teir\n}\n",
    );
    let d = &report.diagnostics[0];
    assert_eq!(d.code.as_str(), "NP002");
    assert_eq!(d.help.as_deref(), Some("did you mean `web-tier`?"));
}

#[test]
fn unknown_services_suggest_built_ins() {
    let report = check_source(
        "svc.np",
        "internet {\n  host a 198.51.100.1\n}\nexpect reach a -> a HTTP5\n",
    );
    let d = &report.diagnostics[0];
    assert_eq!(d.code.as_str(), "NP002");
    assert_eq!(d.help.as_deref(), Some("did you mean `HTTP`?"));
}

#[test]
fn wrong_kinds_name_what_they_found() {
    let report = check_source(
        "kind.np",
        "vpc v 10.0.0.0/16 {\n  subnet a 10.0.1.0/24\n  instance i 10.0.1.10 in a\n  instance j 10.0.1.11 in i\n  route-table rt {\n    route 0.0.0.0/0 -> a\n  }\n}\n",
    );
    let kinds: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.message.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("NP006", "`i` is an instance, but a subnet is needed here"),
            ("NP006", "`a` is a subnet, but a route target (an internet gateway, egress-only internet gateway, NAT gateway, NAT instance, connection or endpoint) is needed here"),
        ]
    );
}

#[test]
fn duplicates_are_per_scope_and_nat_and_firewall_rules_may_share_names() {
    let base = "sddc s {\n  segment seg 10.0.0.0/24\n  vm a 10.0.0.10 in seg\n  nat dnat web-in 52.0.0.1 -> a\n  public-ip p 52.0.0.1\n  firewall cgw {\n    rule web-in allow from any to a service HTTP\n  }\n}\n";
    assert_eq!(codes(base), Vec::<&str>::new());
    let dup = format!("{base}sddc t {{\n  segment seg 10.1.0.0/24\n  vm a 10.1.0.10 in seg\n  vm a 10.1.0.11 in seg\n}}\n");
    let report = check_source("dup.np", dup);
    let d: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "NP003")
        .collect();
    assert_eq!(d.len(), 1, "{:#?}", report.diagnostics);
    assert_eq!(
        d[0].secondary.len(),
        1,
        "points at the first declaration too"
    );
}

#[test]
fn nat_firewall_match_defaults_to_internal() {
    let (m, diags) = lower(
        "sddc s {\n  segment seg 10.0.0.0/24\n  vm a 10.0.0.10 in seg\n  public-ip p 52.0.0.1\n  public-ip q 52.0.0.2\n  nat dnat d1 52.0.0.1 -> a\n  nat dnat d2 q -> a firewall-match external\n}\n",
    );
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(m.nat_rules[0].firewall_match, FirewallMatch::Internal);
    assert!(m.nat_rules[0].firewall_match_span.is_none());
    assert_eq!(m.nat_rules[1].firewall_match, FirewallMatch::External);
    assert!(matches!(
        m.nat_rules[1].external.as_ref().map(|e| e.terms[0].value),
        Some(AddrTerm::Entity(Entity::PublicIp(_)))
    ));
    assert!(matches!(
        m.nat_rules[0].internal.terms[0].value,
        AddrTerm::Entity(Entity::Host(_))
    ));
}

#[test]
fn builtin_services_cannot_be_redeclared_and_user_services_resolve() {
    assert_eq!(codes("service HTTPS [tcp/8443]\n"), vec!["NP003"]);
    let (m, diags) = lower("service web-alt [tcp/8080, tcp/8443]\nservice both [web-alt, HTTP]\n");
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(m.services[1].set.ranges.len(), 3);
    assert_eq!(codes("service a [b]\nservice b [a]\n"), vec!["NP006"]);
}

/// `lower_with_references` lowers exactly as `lower` does, and records each
/// resolved name where it is written: the text under every reference is the
/// name of what it resolved to, bare or qualified by its site.
#[test]
fn references_are_recorded_where_names_are_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in [
        "grammar/examples",
        "fixtures/scenarios",
        "fixtures/rules/NP002",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).expect("a fixture directory") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "np") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 10, "{files:?}");
    let mut references = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a fixture");
        let tree = parse(&text).tree;
        let plain = model::lower(&tree);
        let (recorded, refs) = model::lower_with_references(&tree);
        assert_eq!(
            format!("{:?}", plain.model),
            format!("{:?}", recorded.model),
            "{}",
            path.display()
        );
        assert_eq!(
            plain.diagnostics,
            recorded.diagnostics,
            "{}",
            path.display()
        );
        for r in &refs {
            let written = r.span.slice(&text);
            let m = &recorded.model;
            let name = &m.decl(r.value).name;
            let qualified = m.display_name(r.value);
            assert!(
                written == name || written == qualified,
                "{}: `{written}` resolved to `{qualified}`",
                path.display()
            );
        }
        references += refs.len();
    }
    assert!(references > 200, "only {references} references");
}

/// A security group without `outbound` statements has AWS's creation
/// default (allow all); `outbound none` has no outbound rule at all; rules
/// replace the default. `inbound none` is a group without inbound rules.
#[test]
fn outbound_none_removes_the_creation_default() {
    let (m, diags) = lower(
        "vpc v 10.0.0.0/16 {\n  security-group plain {\n    inbound HTTPS from 0.0.0.0/0\n  }\n  \
         security-group sealed {\n    inbound none\n    outbound none\n  }\n  \
         security-group listed {\n    outbound tcp/443 to 0.0.0.0/0\n  }\n}\n",
    );
    assert!(diags.is_empty(), "{diags:#?}");
    let group = |name: &str| {
        m.security_groups
            .iter()
            .find(|g| g.decl.name == name)
            .unwrap_or_else(|| panic!("no group {name}"))
    };
    let plain = group("plain");
    assert_eq!(plain.outbound.len(), 1);
    assert!(plain.outbound[0].implicit, "the creation default");
    let sealed = group("sealed");
    assert!(sealed.outbound.is_empty() && sealed.inbound.is_empty());
    let listed = group("listed");
    assert_eq!(listed.outbound.len(), 1);
    assert!(!listed.outbound[0].implicit);
}

/// `route PREFIX -> blackhole` in a VPC table is a route in AWS's
/// `blackhole` state; a route target declared with that name wins.
#[test]
fn blackhole_is_a_vpc_route_target() {
    let (m, diags) = lower(
        "vpc v 10.0.0.0/16 {\n  route-table rt main {\n    route 8.8.8.0/24 -> blackhole\n  }\n}\n",
    );
    assert!(diags.is_empty(), "{diags:#?}");
    let main = m.sites[0].main_route_table.expect("main");
    assert!(m.route_tables[main.index()]
        .routes
        .iter()
        .any(|r| r.target == RouteTarget::Blackhole));

    let (m, diags) = lower(
        "vpc v 10.0.0.0/16 {\n  internet-gateway blackhole\n  route-table rt main {\n    route 8.8.8.0/24 -> blackhole\n  }\n}\n",
    );
    assert!(diags.is_empty(), "{diags:#?}");
    let main = m.sites[0].main_route_table.expect("main");
    assert!(m.route_tables[main.index()]
        .routes
        .iter()
        .any(|r| matches!(r.target, RouteTarget::Gateway(_))));
}

/// A NAT gateway's private address: the declared one, else the first free
/// address of its subnet from network + 4 (past hosts, endpoints, NLBs and
/// other NAT gateways of its VPC; another VPC's hosts do not count).
#[test]
fn nat_gateways_have_a_private_address() {
    let (m, diags) = lower(
        "vpc v 10.0.0.0/16 {\n  subnet a 10.0.1.0/24\n  subnet b 10.0.2.0/24\n  \
         nat-gateway n1 in a private\n  nat-gateway n2 in a elastic-ip 198.51.100.1\n  \
         nat-gateway n3 in a private ip 10.0.1.5\n  nat-gateway n4 in b private\n  \
         instance h 10.0.1.4 in a\n}\n\
         vpc w 10.0.0.0/16 {\n  subnet a 10.0.1.0/24\n  nat-gateway m in a private\n  \
         instance k 10.0.1.6 in a\n}\n",
    );
    assert!(diags.is_empty(), "{diags:#?}");
    let addrs: Vec<String> = (0..m.gateways.len() as u32)
        .filter_map(|g| m.nat_gateway_addr(model::GatewayId(g)))
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        addrs,
        ["10.0.1.6", "10.0.1.7", "10.0.1.5", "10.0.2.4", "10.0.1.4"]
    );
}

/// A declared NAT gateway address is checked like a host's: inside its
/// subnet (NP101), not reserved (NP106), not owned twice (NP104).
#[test]
fn nat_gateway_addresses_are_checked_like_hosts() {
    let vpc = |line: &str| {
        format!("vpc v 10.0.0.0/16 {{\n  subnet a 10.0.1.0/24\n  instance h 10.0.1.10 in a\n  {line}\n}}\n")
    };
    assert_eq!(
        codes(&vpc("nat-gateway n in a private ip 10.0.2.9")),
        ["NP101"]
    );
    assert_eq!(
        codes(&vpc("nat-gateway n in a private ip 10.0.1.2")),
        ["NP106"]
    );
    assert_eq!(
        codes(&vpc("nat-gateway n in a private ip 10.0.1.10")),
        ["NP104"]
    );
    assert!(codes(&vpc("nat-gateway n in a private ip 10.0.1.9")).is_empty());
}

/// A transit gateway's route tables: a gateway without them gets one table
/// every attachment uses; with them, associations and propagations are as
/// written, a connection that ends on the gateway is one of its
/// attachments, and attachment subnets and zones are resolved.
#[test]
fn transit_gateway_tables_attachments_and_zones_lower() {
    let base = "vpc a 10.1.0.0/16 {\n  subnet s1 10.1.1.0/24 az z1\n  subnet s2 10.1.2.0/24\n}\n\
                vpc b 10.2.0.0/16 {}\nonprem hq 172.16.0.0/16 {}\n";
    let (m, diags) = lower(&format!(
        "{base}transit-gateway t {{\n  attach a, b\n  route 0.0.0.0/0 -> a\n}}\n"
    ));
    assert!(diags.is_empty(), "{diags:#?}");
    let t = &m.connections[0];
    assert_eq!(t.tables.len(), 1);
    assert!(t.tables[0].name.is_none());
    assert_eq!(t.tables[0].associate.len(), 2);
    assert_eq!(t.tables[0].propagate.len(), 2);
    assert_eq!(t.tables[0].routes.len(), 1);

    let (m, diags) = lower(&format!(
        "{base}transit-gateway t {{\n  attach a in [s1, s2]\n  attach b\n  route-table x {{\n    associate a, v\n    propagate b\n    route 10.0.0.0/8 -> blackhole\n  }}\n}}\n\
         vpn v hq <-> t {{\n  advertise hq 172.16.0.0/16\n  advertise t 10.0.0.0/8\n}}\n"
    ));
    assert!(diags.is_empty(), "{diags:#?}");
    let t = &m.connections[0];
    let v = &m.connections[1];
    assert_eq!(v.tgw_end.as_ref().map(|e| e.value.index()), Some(0));
    assert_eq!(v.ends.len(), 1);
    assert_eq!(v.tgw_advertise.len(), 1);
    assert_eq!(v.advertise.len(), 1);
    assert!(t
        .attach
        .iter()
        .any(|a| a.value == netproof::model::Entity::Connection(netproof::model::ConnectionId(1))));
    assert_eq!(t.tables.len(), 1);
    assert_eq!(t.tables[0].associate.len(), 2);
    assert_eq!(t.routes.len(), 1, "the tables' routes, for the rules");
    let subs = t
        .attachment_subnets(m.connections[0].attached_sites()[0])
        .expect("subnets");
    assert_eq!(subs.len(), 2);
    assert_eq!(
        m.subnets[subs[0].value.index()]
            .az
            .as_ref()
            .map(|z| z.value.as_str()),
        Some("z1")
    );
    assert!(m.subnets[subs[1].value.index()].az.is_none());
}

/// What AWS does not allow is an error: a route outside every table of a
/// gateway that has tables, an attachment associated twice, an association
/// of something not attached, a connection between two transit gateways,
/// and one from a transit gateway to anything but an on-prem site.
#[test]
fn transit_gateway_misuse_is_reported() {
    let base = "vpc a 10.1.0.0/16 {}\nvpc b 10.2.0.0/16 {}\nonprem hq 172.16.0.0/16 {}\n";
    let cases = [
        "transit-gateway t {\n  attach a\n  route 0.0.0.0/0 -> a\n  route-table x {\n    associate a\n  }\n}\n",
        "transit-gateway t {\n  attach a\n  route-table x {\n    associate a\n  }\n  route-table y {\n    associate a\n  }\n}\n",
        "transit-gateway t {\n  attach a\n  route-table x {\n    associate b\n  }\n}\n",
        "transit-gateway t {\n  attach a\n}\ntransit-gateway u {\n  attach b\n}\nvpn v t <-> u\n",
        "transit-gateway t {\n  attach a\n}\nvpn v b <-> t\n",
        "transit-gateway t {\n  attach z in [z1, z2]\n}\nvpc z 10.5.0.0/16 {\n  subnet z1 10.5.1.0/24 az use1-az1\n  subnet z2 10.5.2.0/24 az use1-az1\n}\n",
    ];
    for case in cases {
        let text = format!("{base}{case}");
        assert_eq!(codes(&text), vec!["NP006"], "{text}");
    }
    // `in` names the attachment subnets of one VPC only.
    let text = format!("{base}transit-gateway t {{\n  attach a, b in [x]\n}}\n");
    assert_eq!(codes(&text), vec!["NP001"], "{text}");
}

/// A route to a prefix list is one route per prefix, after the table's
/// routes to CIDR blocks; a gateway endpoint adds one per prefix of its
/// service's list to each of its tables; prefix lists stand for their
/// prefixes in rules.
#[test]
fn prefix_lists_expand_into_routes_and_rules() {
    let text = "
prefix-list s3 service s3 [52.216.0.0/15, 3.5.0.0/19]
prefix-list corp [192.0.2.0/24, 198.51.100.0/24]
vpc v 10.0.0.0/16 {
  internet-gateway igw
  route-table rt main {
    route corp -> igw
    route 0.0.0.0/0 -> igw
  }
  subnet a 10.0.1.0/24
  security-group app {
    inbound SSH from corp
  }
  gateway-endpoint ep s3 route-tables [rt]
}
";
    let (m, diags) = lower(text);
    assert!(diags.is_empty(), "{diags:?}");
    let rt = &m.route_tables[0];
    let routes: Vec<(String, RouteOrigin)> = rt
        .routes
        .iter()
        .map(|r| (r.prefix.to_string(), r.origin))
        .collect();
    let corp = netproof::model::PrefixListId(1);
    let s3 = netproof::model::PrefixListId(0);
    assert_eq!(
        routes,
        [
            ("10.0.0.0/16".to_string(), RouteOrigin::Local),
            ("0.0.0.0/0".to_string(), RouteOrigin::Static),
            ("192.0.2.0/24".to_string(), RouteOrigin::PrefixList(corp)),
            ("198.51.100.0/24".to_string(), RouteOrigin::PrefixList(corp)),
            ("52.216.0.0/15".to_string(), RouteOrigin::PrefixList(s3)),
            ("3.5.0.0/19".to_string(), RouteOrigin::PrefixList(s3)),
        ]
    );
    let ep = rt.routes[4].target;
    assert!(
        matches!(ep, RouteTarget::Gateway(g) if m.gateways[g.index()].decl.name == "ep"),
        "{ep:?}"
    );
    let rule = &m
        .security_groups
        .iter()
        .find(|g| g.decl.name == "app")
        .expect("app")
        .inbound[0];
    let peers: Vec<String> = rule
        .peers
        .terms
        .iter()
        .map(|t| match &t.value {
            AddrTerm::Net(n) => n.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(peers, ["192.0.2.0/24", "198.51.100.0/24"]);
}

#[test]
fn prefix_list_misuse_is_reported() {
    // A gateway endpoint needs an AWS service's list.
    assert!(codes(
        "prefix-list corp [192.0.2.0/24]\nvpc v 10.0.0.0/16 {\n  route-table rt {\n  }\n  gateway-endpoint ep corp route-tables rt\n}\n"
    )
    .contains(&"NP006"));
    // One address family per list, and at least one prefix.
    assert!(codes("prefix-list mixed [192.0.2.0/24, 2001:db8::/32]\n").contains(&"NP006"));
    assert!(codes("prefix-list none []\n").contains(&"NP006"));
    // Network ACLs cannot reference prefix lists: a rule takes a prefix.
    assert!(codes(
        "prefix-list corp [192.0.2.0/24]\nvpc v 10.0.0.0/16 {\n  network-acl n {\n    inbound 100 allow any from corp\n  }\n}\n"
    )
    .contains(&"NP001"));
    // AWS creates a gateway endpoint's routes: none is written to it.
    assert!(codes(
        "prefix-list s3 service s3 [52.216.0.0/15]\nvpc v 10.0.0.0/16 {\n  route-table rt {\n    route 52.216.0.0/15 -> ep\n  }\n  gateway-endpoint ep s3 route-tables rt\n}\n"
    )
    .contains(&"NP006"));
    // Two prefix-list routes for one prefix to different targets: AWS's
    // route priority does not order them.
    assert!(codes(
        "prefix-list s3 service s3 [52.216.0.0/15]\nprefix-list corp [52.216.0.0/15]\nvpc v 10.0.0.0/16 {\n  internet-gateway igw\n  route-table rt {\n    route corp -> igw\n  }\n  gateway-endpoint ep s3 route-tables rt\n}\n"
    )
    .contains(&"NP003"));
    // The same list routed to the same endpoint twice is one route.
    assert!(!codes(
        "prefix-list s3 service s3 [52.216.0.0/15]\nvpc v 10.0.0.0/16 {\n  route-table rt {\n  }\n  gateway-endpoint ep s3 route-tables [rt, rt]\n}\n"
    )
    .contains(&"NP003"));
}

/// NP404 reports a broken route to a prefix list once, not once per prefix.
#[test]
fn a_broken_prefix_list_route_is_reported_once() {
    let text = "prefix-list corp [192.0.2.0/24, 198.51.100.0/24]\nvpc v 10.0.0.0/16 {\n  route-table rt main {\n    route corp -> igw\n  }\n}\nvpc w 10.1.0.0/16 {\n  internet-gateway igw\n}\n";
    let c = codes(text);
    assert_eq!(c.iter().filter(|&&x| x == "NP404").count(), 1, "{c:?}");
}
