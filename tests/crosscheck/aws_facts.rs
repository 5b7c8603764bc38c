//! Smaller AWS facts (docs/forwarding.md): a security group with
//! `outbound none`, a VPC route in the `blackhole` state, a NAT gateway's
//! private address, and the protocols a NAT gateway translates. Each design
//! is checked by both the engine and the oracle (`assert_verdict`).

use super::*;

const GRE: u8 = 47;

/// A group with `outbound none` sends nothing of its own, but the replies
/// of flows its inbound rules admit still leave (security groups are
/// stateful). A group with no `outbound` statement has AWS's creation
/// default and sends anything.
#[test]
fn outbound_none_allows_only_replies() {
    let text = "
vpc v 10.0.0.0/16 {
  subnet a 10.0.1.0/24
  security-group sealed {
    inbound tcp/22 from 10.0.0.0/16
    outbound none
  }
  security-group open {
    inbound tcp/22 from 10.0.0.0/16
  }
  instance s 10.0.1.10 in a sg [sealed]
  instance o 10.0.1.11 in a sg [open]
}
";
    assert_verdict(text, "10.0.1.10", "10.0.1.11", sim::TCP, 22, false);
    assert_verdict(text, "10.0.1.11", "10.0.1.10", sim::TCP, 22, true);
    assert_verdict(text, "10.0.1.10", "10.0.1.11", sim::ICMP, 8, false);
}

/// `outbound none` on the VPC's default group also holds for the SDDC's
/// ENIs, which carry that group: the SDDC cannot open flows into the VPC,
/// while an instance in another group still reaches the SDDC (the ENIs'
/// inbound rules admit it, and their state lets the reply out).
#[test]
fn outbound_none_on_the_default_group_closes_the_enis() {
    let text = "
vpc v 10.0.0.0/16 {
  subnet a 10.0.1.0/24
  security-group default {
    inbound any from 0.0.0.0/0
    outbound none
  }
  security-group app {
    inbound any from 0.0.0.0/0
  }
  route-table rt main {
    route 192.168.0.0/16 -> sddc
  }
  instance x 10.0.1.10 in a sg [app]
}
sddc d {
  segment web 192.168.11.0/24
  vm w 192.168.11.10 in web
  connected-vpc v
  firewall cgw {
    rule all allow from any to any applied-to vpc
  }
}
";
    assert_verdict(text, "192.168.11.10", "10.0.1.10", sim::TCP, 443, false);
    assert_verdict(text, "10.0.1.10", "192.168.11.10", sim::TCP, 443, true);
}

/// A route in the `blackhole` state drops what it matches, also where a
/// shorter route would have led on.
#[test]
fn vpc_blackhole_routes_drop() {
    let text = "
vpc v 10.0.0.0/16 {
  internet-gateway igw
  route-table rt main {
    route 0.0.0.0/0 -> igw
    route 8.8.4.0/24 -> blackhole
  }
  subnet a 10.0.1.0/24
  instance w 10.0.1.10 in a elastic-ip 198.51.100.7
}
internet {
  host dns 8.8.8.8
  host gone 8.8.4.4
}
";
    assert_verdict(text, "10.0.1.10", "8.8.8.8", sim::UDP, 53, true);
    assert_verdict(text, "10.0.1.10", "8.8.4.4", sim::UDP, 53, false);
}

/// A NAT gateway translates TCP, UDP and ICMP; GRE is dropped there. The
/// internet gateway's one-to-one NAT of an instance's Elastic IP carries
/// GRE.
#[test]
fn nat_gateways_translate_tcp_udp_and_icmp_only() {
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
  subnet pub 10.0.1.0/24 route-table public
  subnet app 10.0.2.0/24 route-table private
  instance a 10.0.2.10 in app
  instance p 10.0.1.10 in pub elastic-ip 198.51.100.10
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "10.0.2.10", "8.8.8.8", sim::TCP, 443, true);
    assert_verdict(text, "10.0.2.10", "8.8.8.8", sim::UDP, 53, true);
    assert_verdict(text, "10.0.2.10", "8.8.8.8", sim::ICMP, 8, true);
    assert_verdict(text, "10.0.2.10", "8.8.8.8", GRE, 0, false);
    assert_verdict(text, "10.0.2.10", "8.8.8.8", 50, 0, false);
    assert_verdict(text, "10.0.1.10", "8.8.8.8", GRE, 0, true);
}

/// A public NAT gateway masquerades to its private address: over a transit
/// gateway the other VPC sees that address (here the declared one), not
/// the Elastic IP, and its replies come back to it; towards the internet
/// the internet gateway maps it to the Elastic IP.
#[test]
fn public_nat_gateways_send_from_their_private_address() {
    let text = "
vpc v0 10.0.0.0/16 {
  internet-gateway igw
  nat-gateway ngw in pub elastic-ip 198.51.100.9 ip 10.0.1.20
  route-table public {
    route 0.0.0.0/0 -> igw
    route 10.1.0.0/16 -> tgw
  }
  route-table private {
    route 0.0.0.0/0 -> ngw
  }
  subnet pub 10.0.1.0/24 route-table public
  subnet app 10.0.2.0/24 route-table private
  instance a 10.0.2.10 in app
}
vpc v1 10.1.0.0/16 {
  route-table rt main {
    route 10.0.0.0/16 -> tgw
  }
  subnet b 10.1.1.0/24
  security-group db {
    inbound tcp/5432 from 10.0.1.20
    inbound tcp/443 from 198.51.100.9
  }
  instance y 10.1.1.10 in b sg [db]
}
transit-gateway tgw {
  attach v0, v1
}
internet {
  host i 8.8.8.8
}
";
    assert_verdict(text, "10.0.2.10", "10.1.1.10", sim::TCP, 5432, true);
    assert_verdict(text, "10.0.2.10", "10.1.1.10", sim::TCP, 443, false);
    assert_verdict(text, "10.0.2.10", "8.8.8.8", sim::TCP, 443, true);
    // The NAT gateway's address answers only replies.
    assert_verdict(text, "10.1.1.10", "10.0.1.20", sim::TCP, 443, false);
    assert_verdict(text, "8.8.8.8", "198.51.100.9", sim::TCP, 443, false);
}

/// Without `ip`, a NAT gateway takes the first address from network + 4
/// that nothing else in the VPC uses: past a host at .4, and past another
/// NAT gateway of the same subnet, so each gets its own replies.
#[test]
fn nat_gateways_without_an_address_get_a_free_one() {
    let text = "
vpc v0 10.0.0.0/16 {
  nat-gateway n1 in a private
  nat-gateway n2 in a private
  route-table rt main {
    route 10.1.0.0/16 -> pv
  }
  route-table via1 {
    route 10.1.0.0/16 -> n1
  }
  route-table via2 {
    route 10.1.0.0/16 -> n2
  }
  subnet a 10.0.1.0/24
  subnet b 10.0.2.0/24 route-table via1
  subnet c 10.0.3.0/24 route-table via2
  instance four 10.0.1.4 in a
  instance x 10.0.2.10 in b
  instance y 10.0.3.10 in c
}
vpc v1 10.1.0.0/16 {
  route-table rt main {
    route 10.0.0.0/16 -> pv
  }
  subnet d 10.1.1.0/24
  security-group db {
    inbound tcp/5432 from 10.0.1.5
    inbound tcp/5433 from 10.0.1.6
  }
  instance z 10.1.1.10 in d sg [db]
}
peering pv v0 <-> v1
";
    let d = design(text);
    let addrs: Vec<Option<IpAddr>> = (0..2)
        .map(|i| d.model.nat_gateway_addr(netproof::model::GatewayId(i)))
        .collect();
    assert_eq!(
        addrs,
        [
            Some("10.0.1.5".parse().unwrap()),
            Some("10.0.1.6".parse().unwrap())
        ]
    );
    assert_verdict(text, "10.0.2.10", "10.1.1.10", sim::TCP, 5432, true);
    assert_verdict(text, "10.0.3.10", "10.1.1.10", sim::TCP, 5433, true);
    assert_verdict(text, "10.0.2.10", "10.1.1.10", sim::TCP, 5433, false);
    assert_verdict(text, "10.0.3.10", "10.1.1.10", sim::TCP, 5432, false);
}

/// The properties compare the engine and the oracle on these facts only if
/// generated designs and packets reach them: over a spread of inputs, the
/// oracle must drop packets of other protocols at NAT gateways, drop at
/// VPC routes in the `blackhole` state and at groups with `outbound none`,
/// and deliver flows that a NAT gateway translated to a declared private
/// address (and the internet gateway, for a public one, to its Elastic IP).
#[test]
fn generated_designs_exercise_the_aws_facts() {
    let (mut protocol, mut blackhole, mut outbound_none) = (0, 0, 0);
    let (mut declared, mut declared_reached) = (0, 0);
    for seed in 0..500u32 {
        let bytes: Vec<u8> = (0..400u32)
            .map(|i| {
                (i.wrapping_mul(2654435761)
                    .wrapping_add(seed.wrapping_mul(40503))
                    >> 13) as u8
            })
            .collect();
        let plan = build(&bytes);
        let d = design(&plan.text);
        let sealed: Vec<&str> = d
            .model
            .security_groups
            .iter()
            .filter(|g| g.outbound.is_empty())
            .map(|g| g.decl.name.as_str())
            .collect();
        let declared_addrs: Vec<IpAddr> = d
            .model
            .gateways
            .iter()
            .filter_map(|g| match &g.kind {
                netproof::model::GatewayKind::NatGateway {
                    private_ip: Some(a),
                    ..
                } => Some(a.value),
                _ => None,
            })
            .collect();
        for k in 0..60u32 {
            let raw = |x: u32| (k.wrapping_mul(x).wrapping_add(seed) >> 3) as u8;
            let p = packet(&plan, (raw(7919), raw(104729), raw(31), raw(17), raw(13)));
            let flow = simulate_flow(&d.model, Start::Address(p.src), p);
            if let sim::Outcome::Dropped { reason, .. } = &flow.forward.outcome {
                protocol += usize::from(reason.contains("translates only TCP, UDP and ICMP"));
                blackhole += usize::from(
                    reason.starts_with("the route for") && reason.ends_with("is a blackhole"),
                );
                outbound_none += usize::from(sealed.iter().any(|g| {
                    reason.starts_with(&format!("no outbound rule of security group `{g}`"))
                }));
            }
            let translated = |t: &sim::Trace| {
                t.hops.iter().any(|h| {
                    h.rewrite
                        .is_some_and(|(_, after)| declared_addrs.contains(&after.src))
                })
            };
            if translated(&flow.forward) {
                declared += 1;
                declared_reached += usize::from(flow.reaches);
            }
        }
    }
    println!(
        "protocol {protocol}, blackhole {blackhole}, outbound none {outbound_none}, \
         declared NAT address {declared} ({declared_reached} reach)"
    );
    assert!(
        protocol >= 10,
        "other protocols at a NAT gateway: {protocol}"
    );
    assert!(blackhole >= 10, "VPC blackhole routes: {blackhole}");
    assert!(
        outbound_none >= 10,
        "groups with outbound none: {outbound_none}"
    );
    assert!(
        declared >= 20,
        "flows from a declared NAT address: {declared}"
    );
    assert!(
        declared_reached >= 1,
        "flows from a declared NAT address that reach"
    );
}
