//! What an expectation's destination means (`docs/engine.md`, "What a
//! destination means"): an address asks whether packets sent there are
//! delivered to anyone; a name asks whether they reach that host, or a host
//! of that subnet or site, never another site's host with an overlapping
//! address. Each case failed, or held vacuously, before.

use netproof::check::check_source;

/// `(line, holds)` of each expectation of a design.
fn verdicts(text: &str) -> Vec<(usize, Option<bool>)> {
    let report = check_source("d.np", text);
    report
        .expectations
        .iter()
        .map(|e| (report.source.line_col(e.span.start).line, e.holds))
        .collect()
}

/// An instance published at a public address, SSH and HTTPS open.
const PUBLISHED: &str = "\
vpc shop 10.0.0.0/16 {
  internet-gateway igw
  route-table public-rt main {
    route 0.0.0.0/0 -> igw
  }
  subnet public 10.0.0.0/24
  security-group web-sg {
    inbound SSH from any
    inbound HTTPS from any
  }
  instance web 10.0.0.10 in public public-ip 54.1.1.1 sg [web-sg]
}
internet {
  host client 198.51.100.20
}
";

#[test]
fn an_address_as_destination_asks_whether_anyone_receives_what_is_sent_there() {
    let text = format!(
        "{PUBLISHED}\
expect no-reach client -> 54.1.1.1 SSH
expect reach client -> 54.1.1.1 SSH
expect no-reach client -> [54.1.1.1, 10.0.0.10] HTTPS
expect no-reach client -> 54.1.1.1 HTTP
"
    );
    assert_eq!(
        verdicts(&text),
        [
            // Delivered to `web` through its public address: it was held
            // vacuously, because `web`'s own address is 10.0.0.10.
            (16, Some(false)),
            // And "reach" failed with "delivered, but not to the expected
            // destination".
            (17, Some(true)),
            // A list: packets sent to its public address are delivered.
            (18, Some(false)),
            // HTTP is not allowed: nothing is delivered, as before.
            (19, Some(true)),
        ]
    );
}

#[test]
fn a_named_host_still_means_that_host() {
    let text = format!(
        "{PUBLISHED}\
expect reach client -> web SSH
expect reach client -> web at 54.1.1.1 SSH
expect no-reach client -> web at 54.1.1.1 HTTP
expect reach client -> 10.0.0.10 at 54.1.1.1 SSH
"
    );
    assert_eq!(
        verdicts(&text),
        [
            // Sent to web's private address, which the internet does not
            // route.
            (16, Some(false)),
            (17, Some(true)),
            (18, Some(true)),
            // With `at`, an address destination is where the packet must
            // arrive: web's interface has it.
            (19, Some(true)),
        ]
    );
}

/// An SDDC segment and an on-prem segment with the same prefix, joined by
/// Direct Connect (NP105 warns about it), each with a host.
const OVERLAP: &str = "\
sddc prod {
  segment app-tier 192.168.1.0/24
  vm app 192.168.1.50 in app-tier
  firewall cgw {
    rule dx-in allow from any to app-tier service any applied-to direct-connect
  }
}
onprem dc 172.20.0.0/16, 192.168.1.0/24 {
  segment users 172.20.1.0/24
  segment lab 192.168.1.0/24
  host u1 172.20.1.5 in users
  host lab50 192.168.1.50 in lab
  host lab60 192.168.1.60 in lab
}
direct-connect dx prod <-> dc {
  advertise dc 172.20.0.0/16
}
";

#[test]
fn a_site_as_destination_means_its_hosts_not_addresses_another_site_shares() {
    let text = format!(
        "{OVERLAP}\
expect no-reach u1 -> prod ICMP
expect no-reach u1 -> prod.app-tier ICMP
expect reach u1 -> app ICMP
expect reach u1 -> 192.168.1.60 ICMP
expect reach u1 -> lab60 ICMP
"
    );
    assert_eq!(
        verdicts(&text),
        [
            // On-prem keeps 192.168.1.0/24 local: packets to `prod`'s
            // addresses reach on-prem's `lab60`, not a host of `prod`. This
            // failed before: 192.168.1.60 is in `prod`'s segment.
            (18, Some(true)),
            (19, Some(true)),
            // `app`'s address is `lab50`'s on-prem: delivered, but not to
            // `app`.
            (20, Some(false)),
            // As an address: someone receives it.
            (21, Some(true)),
            (22, Some(true)),
        ]
    );
}
