//! The reachability engine (`netproof::engine`) against the oracle
//! (`netproof::sim`): both implement `docs/forwarding.md`, independently, so
//! every packet must get the same verdict from both. These are the
//! disagreements found so far, each fixed and kept as a small design.

use netproof::check::{check_source, SourceFile};
use netproof::diagnostic::Severity;
use netproof::engine::expect::{reachability, Reachability};
use netproof::engine::packet_set::{Packet as EPacket, PacketSet};
use netproof::engine::space::Space;
use netproof::engine::walk::{self, Branch, Leaf, Loc, Walker};
use netproof::model::{lower, Model};
use netproof::render::{render_trace_human, TraceTitle};
use netproof::sim::{self, simulate_flow, FlowResult, Start};
use std::fmt::Write as _;

fn to_engine(p: &sim::Packet) -> EPacket {
    EPacket {
        src: p.src,
        dst: p.dst,
        proto: p.proto,
        sport: p.sport,
        dport: p.dport,
    }
}

/// A design that passed the front end, lowered.
struct Design {
    text: String,
    model: Model,
}

fn design(text: &str) -> Design {
    let report = check_source("crosscheck.np", text);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error && !d.code.as_str().starts_with("NP9"))
        .map(|d| netproof::render::render_human(&report, d, false))
        .collect();
    assert!(
        errors.is_empty(),
        "the generated design is not valid:\n{text}\n{}",
        errors.join("\n")
    );
    Design {
        text: text.to_string(),
        model: lower(&netproof::syntax::parse(text).tree).model,
    }
}

/// Everything needed to understand a disagreement: the design, the packet,
/// what the engine decided and the path it took, and the oracle's traces.
fn explain(
    d: &Design,
    space: &Space,
    p: &sim::Packet,
    engine: &Reachability,
    flow: &FlowResult,
) -> String {
    let ep = to_engine(p);
    let mut s = String::new();
    writeln!(s, "design:\n{}", numbered(&d.text)).unwrap();
    writeln!(s, "packet: {p}").unwrap();
    writeln!(
        s,
        "engine: reached {}, unknown {}",
        engine.reached.contains(&ep),
        engine.unknown.contains(&ep)
    )
    .unwrap();
    s.push_str(&engine_paths(space, &ep));
    writeln!(s, "oracle: reaches {}", flow.reaches).unwrap();
    let source = SourceFile::new("crosscheck.np", d.text.clone());
    let title = TraceTitle {
        src: p.src.to_string(),
        dst: p.dst.to_string(),
        at: None,
        service: sim::proto_name(p.proto),
    };
    s.push_str(&render_trace_human(&source, &d.model, &title, flow));
    s
}

fn numbered(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| format!("{:>3} {l}\n", i + 1))
        .collect()
}

/// The engine's path for one packet: its forward leaves and, for delivered
/// ones, the reply's leaves, hop by hop.
fn engine_paths(space: &Space, p: &EPacket) -> String {
    let mut s = String::new();
    let start = walk::start_of(space, p.src);
    let fwd = Walker {
        space,
        session: &[],
        accept: None,
    };
    let mut leaves = Vec::new();
    fwd.walk(
        Loc::Leave(start),
        Branch::new(PacketSet::from_packet(p)),
        &mut leaves,
    );
    for leaf in leaves {
        let b = leaf.branch();
        for h in &b.hops {
            writeln!(s, "  engine fwd  {:<40} {}", h.node, h.decision).unwrap();
        }
        match &leaf {
            Leaf::Dropped { drop, .. } => {
                writeln!(s, "  engine fwd  DROP {}", drop.reason).unwrap();
            }
            Leaf::Delivered { to, branch } => {
                writeln!(s, "  engine fwd  delivered to {to:?}").unwrap();
                let rw = Walker {
                    space,
                    session: &branch.marks,
                    accept: matches!(start, walk::Dest::Virtual(..)).then_some(start),
                };
                let mut rb = Branch::new(branch.orig.clone());
                rb.view = branch.view.swapped();
                let mut back = Vec::new();
                rw.walk(Loc::Leave(*to), rb, &mut back);
                for r in back {
                    for h in &r.branch().hops {
                        writeln!(s, "  engine rep  {:<40} {}", h.node, h.decision).unwrap();
                    }
                    match &r {
                        Leaf::Dropped { drop, .. } => {
                            writeln!(s, "  engine rep  DROP {}", drop.reason).unwrap();
                        }
                        Leaf::Delivered { to, branch } => {
                            writeln!(
                                s,
                                "  engine rep  delivered to {to:?}, view {:?}",
                                branch.view
                            )
                            .unwrap();
                        }
                    }
                }
            }
        }
    }
    s
}

/// Asserts that both implementations give `reaches` for one packet from
/// `src` to `dst` (client port 40000; ICMP with `sport` 0 and the type in
/// `dport`).
#[track_caller]
fn assert_verdict(text: &str, src: &str, dst: &str, proto: u8, dport: u16, reaches: bool) {
    let d = design(text);
    let space = Space::new(&d.model);
    let p = sim::Packet {
        src: src.parse().expect("src"),
        dst: dst.parse().expect("dst"),
        proto,
        sport: if proto == sim::ICMP { 0 } else { 40000 },
        dport,
    };
    let ep = to_engine(&p);
    let engine = reachability(&space, &PacketSet::from_packet(&ep));
    let flow = simulate_flow(&d.model, Start::Address(p.src), p);
    let why = || explain(&d, &space, &p, &engine, &flow);
    assert!(
        !engine.unknown.contains(&ep),
        "the engine does not know:\n{}",
        why()
    );
    assert_eq!(flow.reaches, reaches, "the oracle:\n{}", why());
    assert_eq!(
        engine.reached.contains(&ep),
        reaches,
        "the engine:\n{}",
        why()
    );
}

/// An unnamed interface of a VPC subnet is in the default security group,
/// so the default group's `inbound any from sg default` admits it; an
/// instance in another group is not admitted. The engine matched `sg NAME`
/// sources by the members' declared addresses, which leaves unnamed
/// interfaces out; AWS (and the oracle) match the sending interface.
#[test]
fn sg_sources_match_the_sending_interface() {
    let text = "
vpc v 10.0.0.0/16 {
  subnet a 10.0.1.0/24
  subnet b 10.0.2.0/24
  security-group other {
  }
  instance web 10.0.2.10 in b
  instance app 10.0.1.20 in a sg [other]
}
";
    assert_verdict(text, "10.0.1.99", "10.0.2.10", sim::TCP, 22, true);
    assert_verdict(text, "10.0.1.20", "10.0.2.10", sim::TCP, 22, false);
}

/// An `elastic-ip` statement associated with an instance is that
/// instance's public address at the internet gateway: the engine only
/// looked at the instance's own `public-ip`/`elastic-ip` clause.
#[test]
fn associated_elastic_ip_statements_are_one_to_one_nat() {
    let text = "
vpc v 10.0.0.0/16 {
  internet-gateway igw
  route-table rt main {
    route 0.0.0.0/0 -> igw
  }
  subnet a 10.0.1.0/24
  security-group web {
    inbound tcp/443 from 0.0.0.0/0
  }
  instance w 10.0.1.10 in a sg [web]
  elastic-ip eip 198.51.100.7 -> w
  elastic-ip spare 198.51.100.8
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "10.0.1.10", "8.8.8.8", sim::ICMP, 8, true);
    assert_verdict(text, "8.8.8.8", "198.51.100.7", sim::TCP, 443, true);
    // An unassociated Elastic IP belongs to the VPC, not to the internet:
    // nobody answers it (the engine delivered it to an internet host).
    assert_verdict(text, "8.8.8.8", "198.51.100.8", sim::TCP, 443, false);
}

/// The external address of an SDDC NAT rule is a public address of the
/// SDDC even when no `public-ip` declares it: replies to a SNAT address
/// come back to the compute gateway, and nothing else is answered there.
/// The engine took such addresses for internet hosts.
#[test]
fn sddc_nat_addresses_belong_to_the_sddc() {
    let text = "
sddc d {
  segment web 192.168.11.0/24
  vm w 192.168.11.10 in web
  nat snat out w -> 203.0.113.5
  firewall cgw {
    rule all allow from any to any applied-to internet
  }
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "192.168.11.10", "8.8.8.8", sim::TCP, 443, true);
    assert_verdict(text, "8.8.8.8", "203.0.113.5", sim::TCP, 80, false);
}

/// A host sends to a public address of its own site: the edge sends it to
/// the internet through the egress SNAT, and the internet hands it back to
/// the edge, which translates it (hairpin NAT). The engine sent only
/// addresses no site owns to the internet and dropped the rest.
#[test]
fn onprem_hosts_reach_their_own_published_addresses() {
    let text = "
onprem o 172.20.0.0/16 {
  segment lan 172.20.1.0/24
  host a 172.20.1.10 in lan
  host b 172.20.1.11 in lan
  internet-egress snat 203.0.113.1
  nat dnat pub 203.0.113.2 -> b
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "172.20.1.10", "203.0.113.2", sim::TCP, 80, true);
    // A private address of a site (here of its own, in no segment) is
    // still not reached that way.
    assert_verdict(text, "172.20.1.10", "172.20.200.5", sim::TCP, 80, false);
}

/// A segment extended by L2VPN has its gateway on-prem: the compute
/// gateway does not deliver to it directly but routes to it like to any
/// on-prem address (here over Direct Connect, through the gateway
/// firewall, which then admits the reply). The engine delivered it on the
/// segment, so the reply, which does cross Direct Connect, found no state.
#[test]
fn extended_segments_are_reached_through_the_onprem_edge() {
    let design = |applied: &str| {
        format!(
            "
sddc d {{
  segment web 192.168.11.0/24
  segment legacy 172.20.9.0/24
  vm w 192.168.11.10 in web
  vm old 172.20.9.10 in legacy
  firewall cgw {{
    rule out allow from web to any applied-to {applied}
  }}
}}
onprem o 172.20.0.0/16 {{
  segment lan 172.20.1.0/24
}}
direct-connect dx d <-> o {{
  advertise o 172.20.0.0/16
}}
l2vpn ext d <-> o {{
  extend legacy
}}
"
        )
    };
    assert_verdict(
        &design("direct-connect"),
        "192.168.11.10",
        "172.20.9.10",
        sim::TCP,
        80,
        true,
    );
    assert_verdict(
        &design("internet"),
        "192.168.11.10",
        "172.20.9.10",
        sim::TCP,
        80,
        false,
    );
}

/// Outbound NAT on the internet uplink tries `snat`, then `reflexive`, then
/// `no-snat`, whatever the order of the rules; inbound, `dnat` before
/// `reflexive`. The engine took the first rule written.
#[test]
fn sddc_nat_rules_apply_by_kind() {
    let text = "
sddc d {
  segment web 192.168.11.0/24
  vm w 192.168.11.10 in web
  vm x 192.168.11.11 in web
  nat no-snat keep web
  nat snat out web -> 203.0.113.5
  nat reflexive r x <-> 203.0.113.6
  nat dnat d 203.0.113.6 -> w service tcp/80
  firewall cgw {
    rule out allow from web to any applied-to internet
    rule in allow from any to w applied-to internet
  }
}
internet {
  host i 8.8.8.8
}
";
    // SNAT beats the no-snat written before it: the reply comes back.
    assert_verdict(text, "192.168.11.10", "8.8.8.8", sim::TCP, 443, true);
    // DNAT beats the reflexive rule written before it: to `w`, allowed.
    assert_verdict(text, "8.8.8.8", "203.0.113.6", sim::TCP, 80, true);
}

/// `firewall-match bypass` keeps the gateway firewall out of the whole
/// flow, the reply included. The engine judged the reply, which the Default
/// Uplink Rule dropped (the request had left no state in the firewall).
#[test]
fn bypass_covers_the_reply() {
    let text = "
sddc d {
  segment web 192.168.11.0/24
  vm w 192.168.11.10 in web
  public-ip pip 203.0.113.1
  nat snat out w -> pip firewall-match bypass
  firewall cgw {
  }
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "192.168.11.10", "8.8.8.8", sim::TCP, 80, true);
}

/// The default SNAT translates IPv4 sources only ("Oracle decisions"):
/// an IPv6 VM's packet leaves with its own address, and nothing on the
/// internet routes the reply back to it. The engine rewrote the IPv6 source
/// to the IPv4 placeholder, a header of mixed families, and "reached".
#[test]
fn default_snat_leaves_ipv6_alone() {
    let text = "
sddc d {
  segment web 192.168.11.0/24
  segment web6 2001:db8:d0::/64
  vm w6 2001:db8:d0::10 in web6
  firewall cgw {
    rule out allow from any to any applied-to internet
  }
}
internet {
  host i6 2001:db8:ffff::8
}
";
    assert_verdict(
        text,
        "2001:db8:d0::10",
        "2001:db8:ffff::8",
        sim::TCP,
        443,
        false,
    );
}

/// NAT between two prefixes of equal length maps one to one: the second
/// address of the public block reaches the second address of the private
/// one. The engine sent every packet to the block's first address.
#[test]
fn prefix_nat_maps_one_to_one() {
    let text = "
sddc d {
  segment web 192.168.11.0/24
  vm a 192.168.11.10 in web
  vm b 192.168.11.11 in web
  nat reflexive blk 192.168.11.0/28 <-> 198.18.0.64/28
  firewall cgw {
    rule in allow from any to web applied-to internet
    rule out allow from web to any applied-to internet
  }
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "8.8.8.8", "198.18.0.75", sim::TCP, 22, true);
    assert_verdict(text, "192.168.11.11", "8.8.8.8", sim::TCP, 443, true);
}

/// `service S -> PORT` rewrites the destination port of TCP and UDP only
/// ("Oracle decisions"): an ICMP echo keeps its type. The engine rewrote
/// the ICMP type too, so the firewall's ICMP rule no longer matched.
#[test]
fn dnat_port_translation_is_for_tcp_and_udp() {
    let text = "
sddc d {
  segment web 192.168.11.0/24
  vm a 192.168.11.10 in web
  public-ip pip 203.0.113.1
  nat dnat in pip -> a service any -> 8080
  firewall cgw {
    rule web allow from any to a service [tcp/8080, ICMP] applied-to internet
  }
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "8.8.8.8", "203.0.113.1", sim::ICMP, 8, true);
    assert_verdict(text, "8.8.8.8", "203.0.113.1", sim::TCP, 80, true);
}

/// Between equal prefixes the compute gateway prefers a route-based VPN
/// over Direct Connect ("Oracle decisions"); the engine took the
/// connection declared first.
#[test]
fn route_based_vpn_beats_direct_connect() {
    let text = "
sddc d {
  segment web 192.168.11.0/24
  vm a 192.168.11.10 in web
  firewall cgw {
    rule v allow from any to any applied-to vpn
  }
}
onprem o 172.20.0.0/16 {
  segment lan 172.20.1.0/24
  host h 172.20.1.10 in lan
}
direct-connect dx d <-> o {
  advertise o 172.20.0.0/16
}
vpn vpn0 d <-> o route-based {
  advertise o 172.20.0.0/16
}
";
    assert_verdict(text, "192.168.11.10", "172.20.1.10", sim::TCP, 22, true);
}

/// A route that sends a subnet's traffic to an instance delivers the
/// packets addressed to the instance itself; only the others are forwarded
/// (and masqueraded). The engine masqueraded them too, and looped.
#[test]
fn nat_instances_receive_their_own_packets() {
    let text = "
vpc v 10.0.0.0/16 {
  route-table rt main {
    route 10.0.2.0/24 -> nat
  }
  subnet a 10.0.1.0/24
  subnet b 10.0.2.0/24
  instance nat 10.0.2.10 in b source-dest-check off
  instance c 10.0.1.10 in a
}
";
    assert_verdict(text, "10.0.1.10", "10.0.2.10", sim::TCP, 22, true);
}

/// The reply to a NAT gateway's Elastic IP enters the NAT gateway's subnet
/// from the internet gateway, and that subnet's network ACL judges it
/// inbound ("Oracle decisions"); here it allows no ephemeral ports. The
/// engine skipped that ACL.
#[test]
fn nat_gateway_replies_pass_its_subnet_acl() {
    let text = "
vpc v 10.0.0.0/16 {
  internet-gateway igw
  nat-gateway ngw in pub elastic-ip 198.51.100.9
  route-table public {
    route 0.0.0.0/0 -> igw
  }
  route-table private {
    route 0.0.0.0/0 -> ngw
  }
  network-acl strict {
    inbound 100 allow tcp/443 from 10.0.0.0/16
    outbound 100 allow tcp/443 to 0.0.0.0/0
    outbound 110 allow tcp/1024-65535 to 10.0.0.0/16
  }
  subnet pub 10.0.1.0/24 route-table public acl strict
  subnet app 10.0.2.0/24 route-table private
  instance a 10.0.2.10 in app
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "10.0.2.10", "8.8.8.8", sim::TCP, 443, false);
}

const PRIVATE_NAT_GATEWAY: &str = "
vpc v0 10.0.0.0/16 {
  nat-gateway ngw in a private
  route-table rt main {
    route 10.1.0.0/16 -> pv
  }
  route-table priv {
    route 10.1.0.0/16 -> ngw
  }
  subnet a 10.0.1.0/24
  subnet b 10.0.2.0/24 route-table priv
  instance app 10.0.2.10 in b
}
vpc v1 10.1.0.0/16 {
  route-table rt main {
    route 10.0.0.0/16 -> pv
  }
  subnet c 10.1.1.0/24
  security-group web {
    inbound any from 10.0.0.0/16
  }
  instance db 10.1.1.10 in c sg [web]
  nlb lb internal in [c] {
    listener tcp/80 -> [db]
  }
}
peering pv v0 <-> v1
";

/// A private NAT gateway masquerades to its own address (network + 4 of
/// its subnet), and the replies to that address come back through it. The
/// engine had no owner for that address and dropped the replies.
#[test]
fn private_nat_gateways_translate_replies_back() {
    assert_verdict(
        PRIVATE_NAT_GATEWAY,
        "10.0.2.10",
        "10.1.1.10",
        sim::TCP,
        5432,
        true,
    );
}

/// A private NAT gateway's and an NLB's address belong to the device, which
/// only answers: nothing starts a flow from them (docs/forwarding.md,
/// "Where packets start and end"). Both sides had let an unnamed interface
/// send from them, and then disagreed about where its replies went. An NLB
/// reached at its own address is not modelled by the engine: `unknown`.
#[test]
fn device_addresses_do_not_send() {
    assert_verdict(
        PRIVATE_NAT_GATEWAY,
        "10.0.1.4",
        "10.1.1.10",
        sim::TCP,
        5432,
        false,
    );
    assert_verdict(
        PRIVATE_NAT_GATEWAY,
        "10.1.1.4",
        "10.0.2.10",
        sim::TCP,
        22,
        false,
    );
    let d = design(PRIVATE_NAT_GATEWAY);
    let space = Space::new(&d.model);
    let p = EPacket {
        src: "10.1.1.10".parse().expect("src"),
        dst: "10.1.1.4".parse().expect("dst"),
        proto: sim::TCP,
        sport: 40000,
        dport: 80,
    };
    let engine = reachability(&space, &PacketSet::from_packet(&p));
    assert!(engine.unknown.contains(&p), "an NLB's address is `unknown`");
}

/// A route written to `sddc` hands other prefixes to the connected SDDC,
/// whose compute gateway routes them on (here to the internet); with two
/// SDDCs on one connected VPC, each gets its own segments. The engine
/// dropped the first; the oracle sent the second to the first SDDC
/// (docs/forwarding.md now says which SDDC a `sddc` route leads to).
#[test]
fn sddc_routes_lead_to_the_sddc_that_owns_the_destination() {
    let text = "
vpc v 10.0.0.0/16 {
  route-table rt main {
    route 8.8.8.0/24 -> sddc
  }
  subnet a 10.0.1.0/24
  instance c 10.0.1.10 in a
}
sddc d0 {
  segment g 192.168.11.0/24
  connected-vpc v
  firewall cgw {
    rule all allow from any to any
  }
}
sddc d1 {
  segment g 192.168.21.0/24
  vm x 192.168.21.10 in g
  connected-vpc v
  firewall cgw {
    rule all allow from any to any
  }
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "10.0.1.10", "8.8.8.8", sim::TCP, 53, true);
    assert_verdict(text, "10.0.1.10", "192.168.21.10", sim::TCP, 22, true);
}

/// NAT is undone, and a stateful filter admits a reply, only when the reply
/// is the exact reverse of the header seen there ("Oracle decisions",
/// sessions). An instance with an Elastic IP in a subnet whose default
/// route goes to a NAT gateway is reached through the internet gateway, but
/// its reply leaves through the NAT gateway, which masquerades it: the
/// client hears from the NAT gateway's address, and the flow fails. The
/// engine undid the internet gateway's NAT for any reply of the flow that
/// passed it, whatever its source, and "reached".
#[test]
fn replies_are_translated_back_only_when_they_match() {
    let design = |subnet: &str| {
        format!(
            "
vpc v 10.0.0.0/16 {{
  internet-gateway igw
  nat-gateway ngw in pub elastic-ip 198.51.100.2
  route-table public {{
    route 0.0.0.0/0 -> igw
  }}
  route-table private main {{
    route 0.0.0.0/0 -> ngw
  }}
  subnet pub 10.0.1.0/24 route-table public
  subnet app 10.0.2.0/24
  security-group web {{
    inbound tcp/80 from 0.0.0.0/0
  }}
  instance w {subnet} sg [web] elastic-ip 198.51.100.1
}}
internet {{
  host i 8.8.8.8
}}
"
        )
    };
    let private = design("10.0.2.10 in app");
    assert_verdict(&private, "8.8.8.8", "198.51.100.1", sim::TCP, 80, false);
    // From the public subnet the reply leaves by the internet gateway.
    let public = design("10.0.1.10 in pub");
    assert_verdict(&public, "8.8.8.8", "198.51.100.1", sim::TCP, 80, true);
}

/// A policy-based VPN carries the packets its selectors hold, before any
/// route, at the compute gateway and at the on-prem edge alike
/// (docs/forwarding.md). The engine did not model policy-based VPNs: it
/// sent these packets to the internet.
#[test]
fn policy_based_vpns_carry_what_their_selectors_hold() {
    let text = "
sddc d {
  segment web 192.168.11.0/24
  vm a 192.168.11.10 in web
  firewall cgw {
    rule p allow from web to 172.20.0.0/16 applied-to pvpn
  }
}
onprem o 172.20.0.0/16 {
  segment lan 172.20.1.0/24
  host h 172.20.1.10 in lan
}
vpn pvpn d <-> o policy-based {
  local 192.168.11.0/24
  remote 172.20.1.0/24
}
";
    assert_verdict(text, "192.168.11.10", "172.20.1.10", sim::TCP, 22, true);
    // The other way the rule does not allow it: the firewall judges the
    // packet arriving by the VPN.
    assert_verdict(text, "172.20.1.10", "192.168.11.10", sim::TCP, 22, false);
}

/// Asserts that the engine leaves a packet `unknown` (a path it does not
/// model), so that the property tests skip it rather than compare.
#[track_caller]
fn assert_unknown(text: &str, src: &str, dst: &str, proto: u8, dport: u16) {
    let d = design(text);
    let space = Space::new(&d.model);
    let p = EPacket {
        src: src.parse().expect("src"),
        dst: dst.parse().expect("dst"),
        proto,
        sport: 40000,
        dport,
    };
    let engine = reachability(&space, &PacketSet::from_packet(&p));
    assert!(
        engine.unknown.contains(&p),
        "the engine decided a path it does not model:\n{}",
        engine_paths(&space, &p)
    );
}

/// The internet hands the addresses of a VM network behind a gateway in
/// `forwarding` mode to that gateway ("Oracle decisions"), and the oracle
/// follows them there. The engine, which does not model VM networks, took
/// them for private addresses and decided "unreachable" (at the internet,
/// and already at an on-prem edge) instead of "unknown".
#[test]
fn forwarded_vm_networks_are_unknown_to_the_engine() {
    let text = "
onprem o 172.20.0.0/16 {
  segment lan 172.20.1.0/24
  host h 172.20.1.10 in lan
  internet-egress snat 203.0.113.1
}
vmnetwork n {
  subnet apps 10.8.1.0/24
  subnet gwnet 10.8.254.0/24
  vm app 10.8.1.10 in apps
  gateway gw mode forwarding external-ip 203.0.113.4 in gwnet
}
internet {
  host i 8.8.8.8
}
";
    assert_unknown(text, "8.8.8.8", "10.8.1.10", sim::TCP, 80);
    assert_unknown(text, "172.20.1.10", "10.8.1.10", sim::TCP, 80);
}
