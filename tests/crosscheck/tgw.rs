//! Transit gateways as AWS documents them (docs/forwarding.md, "Transit
//! gateway"): route tables with associations and propagations, AWS's route
//! evaluation order, Direct Connect and VPN connections that end on the
//! gateway, attachment subnets and zones, and the attachment subnet's route
//! table and network ACL. Each design is checked by both the engine and the
//! oracle (`assert_verdict`).

use super::*;

/// Three VPCs; `prod` and `dev` each see `shared` only.
const SEGMENTED: &str = "
vpc prod 10.10.0.0/16 {
  route-table rt main {
    route 10.0.0.0/8 -> core
  }
  subnet a 10.10.1.0/24
  instance p 10.10.1.10 in a
}
vpc dev 10.20.0.0/16 {
  route-table rt main {
    route 10.0.0.0/8 -> core
  }
  subnet a 10.20.1.0/24
  instance d 10.20.1.10 in a
}
vpc shared 10.30.0.0/16 {
  route-table rt main {
    route 10.0.0.0/8 -> core
  }
  subnet a 10.30.1.0/24
  security-group open {
    inbound any from 10.0.0.0/8
  }
  instance s 10.30.1.10 in a sg [open]
}
transit-gateway core {
  attach prod, dev, shared
  route-table prod-t {
    associate prod
    propagate shared
  }
  route-table dev-t {
    associate dev
    propagate shared
  }
  route-table shared-t {
    associate shared
    propagate prod, dev
  }
}
";

/// Isolation is the absence of a route: each environment reaches the shared
/// VPC (and its replies come back by the shared table), never the other.
#[test]
fn route_tables_segment_attachments() {
    assert_verdict(SEGMENTED, "10.10.1.10", "10.30.1.10", sim::TCP, 443, true);
    assert_verdict(SEGMENTED, "10.20.1.10", "10.30.1.10", sim::TCP, 443, true);
    assert_verdict(SEGMENTED, "10.20.1.10", "10.10.1.10", sim::TCP, 443, false);
    // The default group of `prod` admits its own group only, so open it.
    let open = SEGMENTED.replace(
        "  instance p 10.10.1.10 in a\n",
        "  security-group any-in {\n    inbound any from 0.0.0.0/0\n  }\n  instance p 10.10.1.10 in a sg [any-in]\n",
    );
    assert_verdict(&open, "10.20.1.10", "10.10.1.10", sim::TCP, 443, false);
    assert_verdict(&open, "10.30.1.10", "10.10.1.10", sim::TCP, 443, true);
}

/// Traffic that comes in by an attachment associated with no table is
/// dropped; propagating alone routes nothing.
#[test]
fn an_unassociated_attachment_routes_nothing() {
    let text = SEGMENTED.replace("    associate dev\n", "");
    assert_verdict(&text, "10.20.1.10", "10.30.1.10", sim::TCP, 443, false);
    assert_verdict(&text, "10.10.1.10", "10.30.1.10", sim::TCP, 443, true);
}

/// An on-prem site on a Direct Connect and a backup VPN, both ending on the
/// transit gateway and both advertising the same prefix. The edge's
/// firewall drops everything from the VPN, so the flow works only if the
/// gateway prefers the Direct Connect route (AWS: propagated Direct
/// Connect gateway routes before VPN routes), whatever the order written.
fn dx_and_vpn(vpn_first: bool) -> String {
    let dx = "direct-connect dx hq <-> core {\n  advertise hq 172.16.0.0/16\n  advertise core 10.1.0.0/16\n}\n";
    let vpn = "vpn backup hq <-> core {\n  advertise hq 172.16.0.0/16\n}\n";
    let (a, b) = if vpn_first { (vpn, dx) } else { (dx, vpn) };
    format!(
        "
vpc app 10.1.0.0/16 {{
  route-table rt main {{
    route 172.16.0.0/16 -> core
  }}
  subnet a 10.1.1.0/24
  security-group open {{
    inbound any from 0.0.0.0/0
  }}
  instance x 10.1.1.10 in a sg [open]
}}
onprem hq 172.16.0.0/16 {{
  segment lan 172.16.1.0/24
  host h 172.16.1.10 in lan
  firewall edge {{
    rule no-vpn drop from any to any service any applied-to backup
    rule rest allow from any to any service any
  }}
}}
transit-gateway core {{
  attach app
}}
{a}{b}"
    )
}

#[test]
fn direct_connect_routes_win_over_vpn_routes_of_the_same_prefix() {
    for vpn_first in [false, true] {
        let text = dx_and_vpn(vpn_first);
        assert_verdict(&text, "10.1.1.10", "172.16.1.10", sim::TCP, 22, true);
    }
}

/// A static route beats a propagated one of the same prefix: a static
/// route to the VPN sends the flow into the firewall's drop.
#[test]
fn a_static_route_beats_a_propagated_one() {
    let text = dx_and_vpn(false).replace(
        "  attach app\n}",
        "  attach app\n  route 172.16.0.0/16 -> backup\n}",
    );
    assert_verdict(&text, "10.1.1.10", "172.16.1.10", sim::TCP, 22, false);
}

/// What the on-prem side learns over a connection that ends on the
/// gateway: a VPN learns the associated table by BGP; a Direct Connect
/// learns only its allowed prefixes, and without them nothing.
#[test]
fn connections_to_the_gateway_carry_what_aws_advertises() {
    let base = "
vpc app 10.1.0.0/16 {
  route-table rt main {
    route 172.16.0.0/16 -> core
  }
  subnet a 10.1.1.0/24
  security-group open {
    inbound any from 0.0.0.0/0
  }
  instance x 10.1.1.10 in a sg [open]
}
onprem hq 172.16.0.0/16 {
  segment lan 172.16.1.0/24
  host h 172.16.1.10 in lan
}
transit-gateway core {
  attach app
}
";
    let vpn = format!("{base}vpn v hq <-> core {{\n  advertise hq 172.16.0.0/16\n}}\n");
    assert_verdict(&vpn, "172.16.1.10", "10.1.1.10", sim::TCP, 443, true);
    let dx = format!("{base}direct-connect d hq <-> core {{\n  advertise hq 172.16.0.0/16\n}}\n");
    assert_verdict(&dx, "172.16.1.10", "10.1.1.10", sim::TCP, 443, false);
    let allowed = dx.replace(
        "  advertise hq 172.16.0.0/16\n}",
        "  advertise hq 172.16.0.0/16\n  advertise core 10.0.0.0/8\n}",
    );
    assert_verdict(&allowed, "172.16.1.10", "10.1.1.10", sim::TCP, 443, true);
    // Static VPN: the customer side routes only what is written.
    let narrow = vpn.replace(
        "  advertise hq 172.16.0.0/16\n}",
        "  advertise hq 172.16.0.0/16\n  advertise core 10.9.0.0/16\n}",
    );
    assert_verdict(&narrow, "172.16.1.10", "10.1.1.10", sim::TCP, 443, false);
}

/// A spoke, and an egress VPC attached through its attachment subnets.
fn central_egress(attach_egress: &str, spoke_az: &str) -> String {
    format!(
        "
vpc spoke 10.1.0.0/16 {{
  route-table rt main {{
    route 0.0.0.0/0 -> hub
  }}
  subnet work 10.1.1.0/24 {spoke_az}
  subnet tgw 10.1.255.0/28 az z1
  instance w 10.1.1.10 in work
}}
vpc egress 10.9.0.0/16 {{
  internet-gateway igw
  nat-gateway ngw in public elastic-ip 198.51.100.9
  route-table pub {{
    route 0.0.0.0/0 -> igw
    route 10.1.0.0/16 -> hub
  }}
  route-table att {{
    route 0.0.0.0/0 -> ngw
  }}
  subnet public 10.9.1.0/24 route-table pub az z1
  subnet tgw 10.9.255.0/28 route-table att az z1
}}
internet {{
  host i 203.0.113.80
}}
transit-gateway hub {{
  attach spoke in [tgw]
  {attach_egress}
  route 0.0.0.0/0 -> egress
}}
"
    )
}

/// The egress VPC's attachment subnet routes the spoke's internet traffic
/// to its NAT gateway; attached without subnets, the VPC would not forward
/// it (no transit between gateways).
#[test]
fn attachment_subnets_route_traffic_from_the_gateway() {
    let text = central_egress("attach egress in [tgw]", "az z1");
    assert_verdict(&text, "10.1.1.10", "203.0.113.80", sim::TCP, 443, true);
    let plain = central_egress("attach egress", "az z1");
    assert_verdict(&plain, "10.1.1.10", "203.0.113.80", sim::TCP, 443, false);
}

/// A subnet in a zone where the attachment has no subnet cannot reach the
/// gateway.
#[test]
fn a_zone_without_an_attachment_subnet_cannot_reach_the_gateway() {
    let text = central_egress("attach egress in [tgw]", "az z2");
    assert_verdict(&text, "10.1.1.10", "203.0.113.80", sim::TCP, 443, false);
}

/// A zone the design does not state leaves the question undecided, in the
/// engine (NP905) and in the oracle.
#[test]
fn an_unstated_zone_is_not_decided() {
    let text = central_egress("attach egress in [tgw]", "");
    let d = design(&text);
    let space = Space::new(&d.model);
    let p = sim::Packet {
        src: "10.1.1.10".parse().expect("src"),
        dst: "203.0.113.80".parse().expect("dst"),
        proto: sim::TCP,
        sport: 40000,
        dport: 443,
    };
    let ep = to_engine(&p);
    let engine = reachability(&space, &PacketSet::from_packet(&ep));
    assert!(engine.unknown.contains(&ep));
    let flow = simulate_flow(&d.model, Start::Address(p.src), p);
    assert!(!flow.reaches);
    assert!(
        flow.failure.as_ref().is_some_and(|f| !f.decided),
        "the oracle decided it:\n{flow:?}"
    );
}

/// The attachment subnet's ACL judges packets from instances inbound
/// (AWS, "How Network ACLs work with transit gateways").
#[test]
fn the_attachment_subnet_acl_judges_packets_to_the_gateway() {
    let text = central_egress("attach egress in [tgw]", "az z1").replace(
        "  subnet tgw 10.1.255.0/28 az z1\n",
        "  network-acl closed {\n    inbound 100 allow any from 10.9.0.0/16\n    outbound 100 allow any to 0.0.0.0/0\n  }\n  subnet tgw 10.1.255.0/28 az z1 acl closed\n",
    );
    assert_verdict(&text, "10.1.1.10", "203.0.113.80", sim::TCP, 443, false);
}

/// A VPC's virtual private gateway forwards only what the far end routes
/// over the connection: a default route to the VPN sends the VPC's
/// internet traffic nowhere unless the on-prem side advertises it.
#[test]
fn the_virtual_private_gateway_routes_only_what_the_far_end_advertises() {
    let text = "
vpc v 10.1.0.0/16 {
  route-table rt main {
    route 0.0.0.0/0 -> office
  }
  subnet a 10.1.1.0/24
  instance x 10.1.1.10 in a
}
onprem hq 172.16.0.0/16 {
  segment lan 172.16.1.0/24
  host h 172.16.1.10 in lan
  internet-egress snat 192.0.2.10
}
internet {
  host i 203.0.113.80
}
vpn office v <-> hq {
  advertise hq 172.16.0.0/16
  advertise v 10.1.0.0/16
}
";
    assert_verdict(text, "10.1.1.10", "172.16.1.10", sim::TCP, 22, true);
    assert_verdict(text, "10.1.1.10", "203.0.113.80", sim::TCP, 443, false);
    let default = text.replace(
        "  advertise hq 172.16.0.0/16\n",
        "  advertise hq 172.16.0.0/16, 0.0.0.0/0\n",
    );
    assert_verdict(&default, "10.1.1.10", "203.0.113.80", sim::TCP, 443, true);
}

/// Routed by an attachment subnet's table, a packet from the transit
/// gateway may not leave the VPC by a peering (AWS: no edge-to-edge
/// routing), while the VPC's own instances use the same peering.
#[test]
fn traffic_from_the_gateway_does_not_leave_by_a_peering() {
    let text = central_egress("attach egress in [tgw]", "az z1")
        .replace(
            "  route-table att {\n    route 0.0.0.0/0 -> ngw\n  }\n",
            "  route-table att {\n    route 0.0.0.0/0 -> ngw\n    route 10.50.0.0/16 -> pe\n  }\n",
        )
        .replace(
            "    route 10.1.0.0/16 -> hub\n",
            "    route 10.1.0.0/16 -> hub\n    route 10.50.0.0/16 -> pe\n",
        )
        + "
vpc peer 10.50.0.0/16 {
  route-table rt main {
    route 10.0.0.0/8 -> pe
  }
  subnet p 10.50.1.0/24
  security-group open {
    inbound any from 0.0.0.0/0
  }
  instance q 10.50.1.10 in p sg [open]
}
peering pe egress <-> peer
";
    assert_verdict(&text, "10.1.1.10", "10.50.1.10", sim::TCP, 443, false);
    let own = text.replace(
        "  subnet tgw 10.9.255.0/28 route-table att az z1\n",
        "  subnet tgw 10.9.255.0/28 route-table att az z1\n  instance e 10.9.1.10 in public\n",
    );
    assert_verdict(&own, "10.9.1.10", "10.50.1.10", sim::TCP, 443, true);
}

/// The inspection pattern: spokes' table sends everything to the
/// inspection VPC, whose attachment subnet routes it to a firewall
/// instance; the firewall's subnet routes the spokes back to the transit
/// gateway, whose inspection table knows them. With the firewall's
/// source/destination check on, the instance drops what is not its own.
#[test]
fn an_inspection_vpc_forwards_between_spokes() {
    let text = "
vpc a 10.1.0.0/16 {
  route-table rt main {
    route 0.0.0.0/0 -> hub
  }
  subnet s 10.1.1.0/24
  instance x 10.1.1.10 in s
}
vpc b 10.2.0.0/16 {
  route-table rt main {
    route 0.0.0.0/0 -> hub
  }
  subnet s 10.2.1.0/24
  security-group open {
    inbound any from 10.0.0.0/8
  }
  instance y 10.2.1.10 in s sg [open]
}
vpc insp 10.9.0.0/16 {
  route-table att {
    route 0.0.0.0/0 -> fw
  }
  route-table fwrt {
    route 10.0.0.0/8 -> hub
  }
  subnet tgw 10.9.0.0/28 route-table att az z1
  subnet fwnet 10.9.1.0/24 route-table fwrt az z1
  security-group fw-sg {
    inbound any from 10.0.0.0/8
  }
  instance fw 10.9.1.10 in fwnet sg [fw-sg] source-dest-check off
}
transit-gateway hub {
  attach a, b
  attach insp in [tgw]
  route-table spokes {
    associate a, b
    route 0.0.0.0/0 -> insp
  }
  route-table inspection {
    associate insp
    propagate a, b
  }
}
";
    assert_verdict(text, "10.1.1.10", "10.2.1.10", sim::TCP, 443, true);
    let checked = text.replace(" source-dest-check off", "");
    assert_verdict(&checked, "10.1.1.10", "10.2.1.10", sim::TCP, 443, false);
}
