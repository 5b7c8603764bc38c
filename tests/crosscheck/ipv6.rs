//! IPv6 at the internet gateway (docs/forwarding.md, "IPv6 at the internet
//! gateway"): an instance's global IPv6 address passes the gateway
//! untranslated both ways, subject to routes and security groups. Each
//! design is checked by both the engine and the oracle (`assert_verdict`).

use super::*;

/// `web` has a global IPv6 address and no Elastic IP; `app`'s subnet has no
/// `::/0` route; `ula` has a unique local address, which the gateway does
/// not pass.
const DUAL: &str = "
vpc v 10.0.0.0/16, 2600:1f18:1:100::/56, fd00:1::/56 {
  internet-gateway igw
  route-table public {
    route ::/0 -> igw
  }
  subnet pub 2600:1f18:1:100::/64 route-table public
  subnet apps 2600:1f18:1:101::/64
  subnet local fd00:1:0:1::/64 route-table public
  security-group web-sg {
    inbound tcp/443 from ::/0
  }
  instance web 2600:1f18:1:100::10 in pub sg [web-sg]
  instance app 2600:1f18:1:101::10 in apps sg [web-sg]
  instance ula fd00:1:0:1::10 in local sg [web-sg]
}
internet {
  host client 2001:db8:ffff::8
}
";

/// Inbound from the internet to the instance's own IPv6 address, and its
/// outbound flows, pass the gateway without an Elastic IP. Before, the
/// gateway dropped both: "the source has no public address".
#[test]
fn a_global_ipv6_address_passes_the_internet_gateway_both_ways() {
    assert_verdict(
        DUAL,
        "2001:db8:ffff::8",
        "2600:1f18:1:100::10",
        sim::TCP,
        443,
        true,
    );
    assert_verdict(
        DUAL,
        "2600:1f18:1:100::10",
        "2001:db8:ffff::8",
        sim::TCP,
        443,
        true,
    );
}

/// The gateway delivers inbound IPv6 only where the security group admits
/// it: another port is dropped at the instance.
#[test]
fn ipv6_through_the_internet_gateway_is_still_filtered() {
    assert_verdict(
        DUAL,
        "2001:db8:ffff::8",
        "2600:1f18:1:100::10",
        sim::TCP,
        22,
        false,
    );
}

/// Without a `::/0` route the instance's subnet sends nothing to the
/// internet (its replies included); a unique local address is not passed
/// by the gateway.
#[test]
fn ipv6_needs_a_route_and_a_global_address() {
    assert_verdict(
        DUAL,
        "2600:1f18:1:101::10",
        "2001:db8:ffff::8",
        sim::TCP,
        443,
        false,
    );
    assert_verdict(
        DUAL,
        "fd00:1:0:1::10",
        "2001:db8:ffff::8",
        sim::TCP,
        443,
        false,
    );
    assert_verdict(
        DUAL,
        "2001:db8:ffff::8",
        "fd00:1:0:1::10",
        sim::TCP,
        443,
        false,
    );
}
