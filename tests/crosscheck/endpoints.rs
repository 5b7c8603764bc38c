//! Gateway endpoints and managed prefix lists (docs/forwarding.md,
//! "Gateway endpoints and prefix lists"): a gateway endpoint delivers to its
//! service what the routes it adds carry there, replies come back through
//! it, traffic from outside the VPC cannot use it, a route to a CIDR block
//! beats a prefix list's route of the same length, and Amazon S3 from an
//! SDDC is not decided. Each design is checked by the engine and the oracle.

use super::*;

/// A VPC with a gateway endpoint in the private table only; `lonely`'s
/// table has a default route to the internet gateway but no endpoint.
const VPC: &str = "
prefix-list s3 service s3 [52.216.0.0/15, 3.5.0.0/19]
prefix-list corp [203.0.113.0/24]
vpc v 10.0.0.0/16 {
  internet-gateway igw
  route-table priv main {
    route corp -> igw
  }
  route-table pub {
    route 0.0.0.0/0 -> igw
  }
  subnet a 10.0.1.0/24
  subnet b 10.0.2.0/24 route-table pub
  security-group app {
    inbound SSH from corp
    outbound HTTPS to s3
  }
  instance worker 10.0.1.10 in a sg [app]
  instance lonely 10.0.2.10 in b sg [app] public-ip 198.51.100.7
  gateway-endpoint ep s3 route-tables [priv]
}
";

#[test]
fn a_gateway_endpoint_delivers_to_its_service_and_brings_the_reply_back() {
    assert_verdict(VPC, "10.0.1.10", "52.216.1.1", sim::TCP, 443, true);
    assert_verdict(VPC, "10.0.1.10", "3.5.0.6", sim::TCP, 443, true);
    // The security group names the list: other services are not allowed.
    assert_verdict(VPC, "10.0.1.10", "52.216.1.1", sim::TCP, 22, false);
    // An address outside the service's list has no route in `priv`.
    assert_verdict(VPC, "10.0.1.10", "52.218.0.1", sim::TCP, 443, false);
    let d = design(VPC);
    let p = sim::Packet {
        src: "10.0.1.10".parse().expect("src"),
        dst: "52.216.1.1".parse().expect("dst"),
        proto: sim::TCP,
        sport: 40000,
        dport: 443,
    };
    let flow = simulate_flow(&d.model, Start::Address(p.src), p);
    assert!(
        matches!(
            flow.forward.delivered(),
            Some((sim::Party::Service { .. }, _))
        ),
        "{:?}",
        flow.forward.outcome
    );
}

#[test]
fn a_subnet_whose_table_lacks_the_endpoint_goes_by_its_own_routes() {
    // `lonely` reaches S3 over the internet gateway, by its public address.
    assert_verdict(VPC, "10.0.2.10", "52.216.1.1", sim::TCP, 443, true);
    // A prefix list in a route and in an inbound rule.
    assert_verdict(VPC, "203.0.113.5", "198.51.100.7", sim::TCP, 22, true);
    assert_verdict(VPC, "203.0.114.5", "198.51.100.7", sim::TCP, 22, false);
}

/// A route to a CIDR block as long as a prefix-list entry wins; a longer
/// one wins whatever its kind; a prefix-list entry longer than a CIDR route
/// wins over it ("How route priority works").
#[test]
fn routes_to_cidr_blocks_beat_prefix_list_routes_of_the_same_length() {
    let text = "
prefix-list s3 service s3 [52.216.0.0/15, 3.5.0.0/19]
vpc v 10.0.0.0/16 {
  internet-gateway igw
  route-table priv main {
    route 52.216.0.0/15 -> blackhole
    route 3.5.0.0/24 -> blackhole
    route 3.0.0.0/8 -> blackhole
  }
  subnet a 10.0.1.0/24
  instance worker 10.0.1.10 in a
  gateway-endpoint ep s3 route-tables priv
}
";
    assert_verdict(text, "10.0.1.10", "52.216.1.1", sim::TCP, 443, false);
    assert_verdict(text, "10.0.1.10", "3.5.0.6", sim::TCP, 443, false);
    assert_verdict(text, "10.0.1.10", "3.5.1.6", sim::TCP, 443, true);
}

/// A gateway endpoint carries traffic of its own VPC only: a peered VPC
/// that routes S3 to the peering is dropped there (no transit).
#[test]
fn traffic_from_outside_the_vpc_cannot_use_its_gateway_endpoint() {
    let text = "
prefix-list s3 service s3 [52.216.0.0/15]
vpc v 10.0.0.0/16 {
  route-table priv main {
    route 10.1.0.0/16 -> pv
  }
  subnet a 10.0.1.0/24
  security-group default {
    inbound any from 10.0.0.0/8
  }
  instance worker 10.0.1.10 in a
  gateway-endpoint ep s3 route-tables priv
}
vpc w 10.1.0.0/16 {
  route-table rt main {
    route 10.0.0.0/16 -> pv
    route 52.216.0.0/15 -> pv
  }
  subnet a 10.1.1.0/24
  instance far 10.1.1.10 in a
}
peering pv v <-> w
";
    assert_verdict(text, "10.1.1.10", "52.216.1.1", sim::TCP, 443, false);
    assert_verdict(text, "10.0.1.10", "52.216.1.1", sim::TCP, 443, true);
    let d = design(text);
    let p = sim::Packet {
        src: "10.1.1.10".parse().expect("src"),
        dst: "52.216.1.1".parse().expect("dst"),
        proto: sim::TCP,
        sport: 40000,
        dport: 443,
    };
    let flow = simulate_flow(&d.model, Start::Address(p.src), p);
    let reason = flow.failure.map(|f| f.reason).unwrap_or_default();
    assert!(reason.contains("no transit"), "{reason}");
}

/// The network ACL of the subnet must let S3's replies in: it is stateless.
#[test]
fn the_subnet_acl_judges_the_service_and_its_replies() {
    let text = "
prefix-list s3 service s3 [52.216.0.0/15]
vpc v 10.0.0.0/16 {
  route-table priv main {
  }
  network-acl strict {
    outbound 100 allow tcp/443 to 52.216.0.0/15
    inbound 100 allow tcp/1024-65535 from 52.216.0.0/16
  }
  subnet a 10.0.1.0/24 acl strict
  instance worker 10.0.1.10 in a
  gateway-endpoint ep s3 route-tables priv
}
";
    assert_verdict(text, "10.0.1.10", "52.216.1.1", sim::TCP, 443, true);
    assert_verdict(text, "10.0.1.10", "52.217.1.1", sim::TCP, 443, false);
    assert_verdict(text, "10.0.1.10", "52.216.1.1", sim::TCP, 80, false);
}

/// S3 from an SDDC goes through its connected VPC's gateway endpoint by
/// default, source-translated: not modelled, so neither side decides it;
/// other internet destinations are still decided.
#[test]
fn s3_from_an_sddc_is_not_decided() {
    let text = "
prefix-list s3 service s3 [52.216.0.0/15]
vpc v 10.0.0.0/16 {
  subnet a 10.0.1.0/24
  gateway-endpoint ep s3 route-tables main-rt
  route-table main-rt main {
  }
}
sddc d {
  segment web 192.168.11.0/24
  vm w 192.168.11.10 in web
  connected-vpc v
  firewall cgw {
    rule out allow from any to any applied-to [internet, vpc]
  }
}
";
    assert_unknown(text, "192.168.11.10", "52.216.1.1", sim::TCP, 443);
    let d = design(text);
    let p = sim::Packet {
        src: "192.168.11.10".parse().expect("src"),
        dst: "52.216.1.1".parse().expect("dst"),
        proto: sim::TCP,
        sport: 40000,
        dport: 443,
    };
    let flow = simulate_flow(&d.model, Start::Address(p.src), p);
    assert!(!flow.reaches);
    assert!(
        flow.failure.as_ref().is_some_and(|f| !f.decided),
        "{:?}",
        flow.failure
    );
    assert_verdict(text, "192.168.11.10", "8.8.8.8", sim::TCP, 443, true);
}

/// The properties compare engine and oracle on gateway endpoints only if
/// generated designs send packets through them: over a spread of inputs,
/// the oracle must deliver to a service through an endpoint, and drop at
/// a CIDR route that beats an endpoint's route of the same length.
#[test]
fn generated_designs_exercise_gateway_endpoints() {
    let (mut delivered, mut lists) = (0, 0);
    for seed in 0..300u32 {
        let bytes: Vec<u8> = (0..400u32)
            .map(|i| {
                (i.wrapping_mul(2654435761)
                    .wrapping_add(seed.wrapping_mul(40503))
                    >> 13) as u8
            })
            .collect();
        let plan = build(&bytes);
        if !plan.text.contains("gateway-endpoint") {
            continue;
        }
        lists += 1;
        let d = design(&plan.text);
        for &src in &plan.sources {
            for dst in ["52.216.1.1", "3.5.0.6"] {
                let p = sim::Packet {
                    src,
                    dst: dst.parse().expect("dst"),
                    proto: sim::TCP,
                    sport: 40000,
                    dport: 443,
                };
                if !src.is_ipv4() {
                    continue;
                }
                let flow = simulate_flow(&d.model, Start::Address(src), p);
                if matches!(
                    flow.forward.delivered(),
                    Some((sim::Party::Service { .. }, _))
                ) {
                    delivered += 1;
                }
            }
        }
    }
    println!("designs with a gateway endpoint {lists}, packets delivered to S3 {delivered}");
    assert!(lists >= 20, "designs with a gateway endpoint: {lists}");
    assert!(
        delivered >= 20,
        "packets delivered through a gateway endpoint: {delivered}"
    );
}

/// DynamoDB's gateway endpoint works as S3's; from an SDDC, DynamoDB is an
/// internet destination like any other (only S3 has VMC's connected-VPC
/// path), so it is decided.
#[test]
fn dynamodb_gateway_endpoints_and_dynamodb_from_an_sddc() {
    let text = "
prefix-list ddb service dynamodb [52.94.0.0/22]
vpc v 10.0.0.0/16 {
  route-table rt main {
  }
  subnet a 10.0.1.0/24
  instance worker 10.0.1.10 in a
  gateway-endpoint ep ddb route-tables rt
}
sddc d {
  segment web 192.168.11.0/24
  vm w 192.168.11.10 in web
  connected-vpc v
  firewall cgw {
    rule out allow from any to any applied-to internet
  }
}
";
    assert_verdict(text, "10.0.1.10", "52.94.1.1", sim::TCP, 443, true);
    assert_verdict(text, "10.0.1.10", "52.95.1.1", sim::TCP, 443, false);
    assert_verdict(text, "192.168.11.10", "52.94.1.1", sim::TCP, 443, true);
}
