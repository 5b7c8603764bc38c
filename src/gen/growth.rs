//! Designs that grow along one axis, for the growth benchmark
//! (`scripts/bench-growth.sh`, docs/performance.md "Growth per axis").
//!
//! Each shape is what real estates look like along that axis (a group per
//! service, many VPCs on one transit gateway, a long network ACL...), kept
//! small in every other way, so that the time a `check` takes as `n` grows
//! shows how the engine and the rules scale in that one dimension. Every
//! design is valid and its expectations hold: the benchmark measures the
//! whole pipeline, not an error path.

use std::fmt::Write;

/// The axes whose designs are meant to fail, each with the finding it
/// exercises; every other shape is clean and its expectations hold.
pub const FAILING_SHAPES: &[(&str, &str)] =
    &[("nacl-blocked-reply", "NP304"), ("nacl-scattered", "NP304")];

/// The axes, by the name the benchmark script passes.
pub const SHAPES: &[&str] = &[
    "sg-per-instance",
    "sg-references",
    "vpcs-on-tgw",
    "nacl-rules",
    "nacl-blocked-reply",
    "nacl-scattered",
    "dx-sites",
    "nat-rules",
    "expectations",
    "peering-chain",
    "prefixes",
];

/// The axes whose designs have no expectation: they measure the checks that
/// read the design's declarations only.
pub const NO_EXPECTATIONS: &[&str] = &["prefixes"];

/// The design of shape `name` at size `n`, or `None` for an unknown shape.
pub fn generate_shape(name: &str, n: usize) -> Option<String> {
    let n = n.max(1);
    Some(match name {
        "sg-per-instance" => security_groups(n, false),
        "sg-references" => security_groups(n, true),
        "vpcs-on-tgw" => vpcs_on_tgw(n),
        "nacl-rules" => nacl_rules(n, false),
        "nacl-blocked-reply" => nacl_rules(n, true),
        "nacl-scattered" => nacl_scattered(n),
        "dx-sites" => dx_sites(n),
        "nat-rules" => nat_rules(n),
        "expectations" => expectations(n),
        "peering-chain" => peering_chain(n),
        // The overlap benchmark's design (`cargo bench --bench overlap`):
        // `n` segments for NP103 and NP105, none overlapping.
        "prefixes" => super::generate_prefixes(n),
        _ => return None,
    })
}

/// The `i`-th host address of a /16 starting at `10.a.0.0`, 200 per /24
/// from .10, so no address is reserved.
fn host(a: usize, i: usize) -> String {
    format!("10.{a}.{}.{}", i / 200, 10 + i % 200)
}

/// One VPC with `n` security groups and one instance in each (what a
/// Terraform module with a group per service makes). With `references`,
/// each group admits the previous one by reference, as service chains do.
fn security_groups(n: usize, references: bool) -> String {
    let n = n.min(200 * 250);
    let mut out = String::from("vpc v 10.0.0.0/16 {\n");
    for s in 0..n.div_ceil(200) {
        let _ = writeln!(out, "  subnet s{s} 10.0.{s}.0/24");
    }
    for i in 0..n {
        let _ = writeln!(out, "  security-group g{i} {{");
        if references && i > 0 {
            let _ = writeln!(out, "    inbound HTTPS from sg g{}", i - 1);
        } else {
            out.push_str("    inbound HTTPS from 10.0.0.0/16\n");
        }
        out.push_str("  }\n");
    }
    for i in 0..n {
        let _ = writeln!(
            out,
            "  instance h{i} {} in s{} sg [g{i}]",
            host(0, i),
            i / 200
        );
    }
    out.push_str("}\n");
    let last = n - 1;
    let from = if references && last > 0 { last - 1 } else { 0 };
    let _ = writeln!(out, "expect reach h{from} -> h{last} HTTPS");
    out
}

/// `n` VPCs, each a /24 with one instance, attached to one transit gateway
/// and routing the rest of 10.0.0.0/8 to it.
fn vpcs_on_tgw(n: usize) -> String {
    let n = n.min(250 * 256);
    let mut out = String::new();
    for i in 0..n {
        let (a, b) = (1 + i / 256, i % 256);
        let _ = writeln!(
            out,
            "vpc v{i} 10.{a}.{b}.0/24 {{\n  route-table rt main {{\n    route 10.0.0.0/8 -> hub\n  }}\n  subnet s 10.{a}.{b}.0/24\n  security-group g {{\n    inbound HTTPS from 10.0.0.0/8\n  }}\n  instance h{i} 10.{a}.{b}.10 in s sg [g]\n}}"
        );
    }
    let names: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
    let _ = writeln!(
        out,
        "transit-gateway hub {{\n  attach {}\n}}",
        names.join(", ")
    );
    let _ = writeln!(out, "expect reach h0 -> h{} HTTPS", n - 1);
    out
}

/// One VPC whose subnets share a network ACL of `n` numbered rules: denies
/// of single addresses elsewhere, then the allows the expectation needs.
/// With `blocked`, the outbound rule admits HTTPS only, not the replies'
/// ephemeral ports: the expectation fails and NP304 explains why, which is
/// the path that grows with the rules (the explanation of a blocked reply).
fn nacl_rules(n: usize, blocked: bool) -> String {
    let n = n.clamp(2, 30_000);
    let mut out = String::from("vpc v 10.0.0.0/16 {\n  network-acl acl1 {\n");
    for i in 0..n - 2 {
        // Clean, the denies are of addresses no flow has; blocked, they cut
        // the replies' ephemeral ports into as many pieces as there are
        // rules, as a long ACL written port by port does.
        let _ = if blocked {
            writeln!(
                out,
                "    outbound {} deny tcp/{} to 10.0.0.0/16",
                i + 1,
                1024 + i % 64_000
            )
        } else {
            writeln!(
                out,
                "    inbound {} deny tcp/{} from 192.0.2.0/24",
                i + 1,
                1 + i % 65_000
            )
        };
    }
    let _ = writeln!(out, "    inbound {} allow any from 10.0.0.0/16", n - 1);
    let service = if blocked { "HTTPS" } else { "any" };
    let _ = writeln!(out, "    outbound {n} allow {service} to 10.0.0.0/16");
    out.push_str("  }\n  subnet a 10.0.1.0/24 acl acl1\n  subnet b 10.0.2.0/24 acl acl1\n");
    out.push_str("  security-group g {\n    inbound HTTPS from 10.0.0.0/16\n  }\n");
    out.push_str("  instance x 10.0.1.10 in a sg [g]\n  instance y 10.0.2.10 in b sg [g]\n}\n");
    out.push_str("expect reach x -> y HTTPS\n");
    out
}

/// Like `nacl-blocked-reply`, but each outbound deny names one port and
/// one client address inside the VPC's two subnets, scattered, as an ACL
/// grown entry by entry does: the replies to those clients are cut along
/// addresses and ports at once, into a piece per rule, and NP304 explains
/// every piece (issue 12's long ACL: quadratic in the rules, where the
/// ports-only shape is linear).
fn nacl_scattered(n: usize) -> String {
    let n = n.clamp(2, 30_000);
    let mut out = String::from("vpc v 10.0.0.0/16 {\n  network-acl acl1 {\n");
    for i in 0..n - 2 {
        let _ = writeln!(
            out,
            "    outbound {} deny tcp/{} to 10.0.{}.{}/32",
            i + 1,
            1024 + (i * 7919) % 64_000,
            1 + i % 2,
            (i * 7) % 256
        );
    }
    let _ = writeln!(out, "    inbound {} allow any from 10.0.0.0/16", n - 1);
    let _ = writeln!(out, "    outbound {n} allow HTTPS to 10.0.0.0/16");
    out.push_str("  }\n  subnet a 10.0.1.0/24 acl acl1\n  subnet b 10.0.2.0/24 acl acl1\n");
    out.push_str("  security-group g {\n    inbound HTTPS from 10.0.0.0/16\n  }\n");
    out.push_str("  instance x 10.0.1.10 in a sg [g]\n  instance y 10.0.2.10 in b sg [g]\n}\n");
    out.push_str("expect reach x -> y HTTPS\n");
    out
}

/// One SDDC and `n` on-prem sites, each on its own Direct Connect,
/// advertising its /24.
fn dx_sites(n: usize) -> String {
    let n = n.min(250 * 256);
    let mut out = String::from(
        "sddc d {\n  segment web 192.168.1.0/24\n  vm w 192.168.1.10 in web\n  firewall cgw {\n    rule out allow from 192.168.1.0/24 to 10.0.0.0/8 service HTTPS applied-to direct-connect\n  }\n}\n",
    );
    for i in 0..n {
        let (a, b) = (1 + i / 256, i % 256);
        let _ = writeln!(
            out,
            "onprem o{i} 10.{a}.{b}.0/24 {{\n  segment lan 10.{a}.{b}.0/24\n  host p{i} 10.{a}.{b}.10 in lan\n}}\ndirect-connect dx{i} d <-> o{i} {{\n  advertise o{i} 10.{a}.{b}.0/24\n}}"
        );
    }
    let _ = writeln!(out, "expect reach w -> p{} HTTPS", n - 1);
    out
}

/// One SDDC publishing `n` VMs, each by its own public IP and DNAT rule,
/// with a firewall rule per published VM.
fn nat_rules(n: usize) -> String {
    let n = n.min(200 * 250);
    let mut out = String::from("sddc d {\n");
    for s in 0..n.div_ceil(200) {
        let _ = writeln!(out, "  segment s{s} 10.0.{s}.0/24");
    }
    for i in 0..n {
        let _ = writeln!(out, "  vm m{i} {} in s{}", host(0, i), i / 200);
    }
    for i in 0..n {
        let public = format!("100.{}.{}.{}", 64 + i / 65_536, (i / 256) % 256, i % 256);
        let _ = writeln!(out, "  public-ip p{i} {public}");
        let _ = writeln!(out, "  nat dnat n{i} p{i} -> m{i}");
    }
    out.push_str("  firewall cgw {\n");
    for i in 0..n {
        let _ = writeln!(
            out,
            "    rule r{i} allow from any to m{i} service HTTPS applied-to internet"
        );
    }
    out.push_str("  }\n}\ninternet {\n  host c 203.0.113.7\n}\n");
    let _ = writeln!(out, "expect reach c -> m{} at p{} HTTPS", n - 1, n - 1);
    out
}

/// A small SDDC-and-VPC design with `n` expectations between its hosts.
fn expectations(n: usize) -> String {
    let mut out = String::from("vpc v 10.0.0.0/16 {\n  subnet a 10.0.1.0/24\n  subnet b 10.0.2.0/24\n  security-group g {\n    inbound any from 10.0.0.0/16\n  }\n");
    for i in 0..100 {
        let _ = writeln!(out, "  instance a{i} 10.0.1.{} in a sg [g]", 10 + i);
        let _ = writeln!(out, "  instance b{i} 10.0.2.{} in b sg [g]", 10 + i);
    }
    out.push_str("}\n");
    let services = ["HTTPS", "SSH", "HTTP", "DNS"];
    for i in 0..n {
        let _ = writeln!(
            out,
            "expect reach a{} -> b{} {}",
            i % 100,
            (i / 100) % 100,
            services[(i / 10_000) % services.len()]
        );
    }
    out
}

/// `n` VPCs peered in a chain, each routing its two neighbours over their
/// peerings (peering is not transitive: only neighbours are reached).
fn peering_chain(n: usize) -> String {
    let n = n.clamp(2, 250 * 256);
    let net = |i: usize| format!("10.{}.{}.0/24", 1 + i / 256, i % 256);
    let mut out = String::new();
    for i in 0..n {
        let _ = writeln!(out, "vpc v{i} {} {{\n  route-table rt main {{", net(i));
        if i > 0 {
            let _ = writeln!(out, "    route {} -> p{}", net(i - 1), i - 1);
        }
        if i + 1 < n {
            let _ = writeln!(out, "    route {} -> p{i}", net(i + 1));
        }
        let octets = net(i);
        let base = octets.trim_end_matches(".0/24");
        let _ = writeln!(
            out,
            "  }}\n  subnet s {}\n  security-group g {{\n    inbound HTTPS from 10.0.0.0/8\n  }}\n  instance h{i} {base}.10 in s sg [g]\n}}",
            net(i)
        );
    }
    for i in 0..n - 1 {
        let _ = writeln!(out, "peering p{i} v{i} <-> v{}", i + 1);
    }
    let _ = writeln!(out, "expect reach h{} -> h{} HTTPS", n - 2, n - 1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_source;
    use crate::diagnostic::Severity;

    /// Every shape at a small size is valid and its expectations hold, so
    /// the benchmark measures real work rather than an error path; a
    /// failing shape fails with the finding it is there to exercise.
    #[test]
    fn every_shape_is_valid_and_its_expectations_hold_or_fail_as_meant() {
        for shape in SHAPES {
            let text = generate_shape(shape, 30).expect("a shape");
            let report = check_source("g.np", &text);
            if let Some((_, code)) = FAILING_SHAPES.iter().find(|(s, _)| s == shape) {
                assert!(
                    report.diagnostics.iter().any(|d| d.code.as_str() == *code),
                    "{shape}: no {code}"
                );
                assert!(
                    report.expectations.iter().all(|e| e.holds == Some(false)),
                    "{shape}: {:?}",
                    report.expectations
                );
                continue;
            }
            let bad: Vec<String> = report
                .diagnostics
                .iter()
                .filter(|d| d.severity() >= Severity::Warning)
                .map(|d| format!("{:?} {}", d.code, d.message))
                .collect();
            assert!(bad.is_empty(), "{shape}:\n{text}\n{bad:#?}");
            if NO_EXPECTATIONS.contains(shape) {
                assert!(report.expectations.is_empty(), "{shape}");
                continue;
            }
            assert!(!report.expectations.is_empty(), "{shape}");
            assert!(
                report.expectations.iter().all(|e| e.holds == Some(true)),
                "{shape}: {:?}",
                report.expectations
            );
        }
        assert!(generate_shape("no-such-shape", 3).is_none());
    }
}
