//! NP205 unused-public-ip: a public IP or Elastic IP is allocated but no NAT
//! rule or association uses it.
//!
//! AWS bills a public IP for every hour it is allocated, whether anything
//! uses it or not: seed 000 quotes $0.005 per IP-hour for an Elastic IP
//! associated with a running instance and the same for one associated with
//! nothing (VMware passes the AWS cost of an SDDC's public IPs straight on).
//! An SDDC `public-ip` is used when a NAT rule's external side or the
//! default SNAT names it; a VPC `elastic-ip` statement when it is associated
//! (`-> INSTANCE` or a NAT gateway).

use super::nat::nets;
use crate::diagnostic::Diagnostic;
use crate::model::{DefaultSnat, Model, PublicIp, PublicIpKind};
use crate::registry::Code;
use std::net::IpAddr;

/// The cost basis the help quotes, from seed 000.
const HOURLY: &str = "$0.005 per IP-hour, about $3.60 a month";

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let external = ExternalRanges::new(model);
    for ip in &model.public_ips {
        let unused = match ip.kind {
            PublicIpKind::Sddc => !used_by_nat(model, &external, ip),
            PublicIpKind::Elastic => ip.target.is_none(),
        };
        if unused {
            out.push(diagnostic(model, ip));
        }
    }
}

/// Every site's NAT external sides, as sorted, merged address ranges (an
/// address family bit, then the first and last address), so that whether
/// a public IP is used is a binary search rather than a scan of every NAT
/// rule for every public IP (quadratic in an SDDC that publishes many VMs).
struct ExternalRanges {
    by_site: Vec<Vec<(bool, u128, u128)>>,
}

impl ExternalRanges {
    fn new(model: &Model) -> ExternalRanges {
        let mut by_site: Vec<Vec<(bool, u128, u128)>> = vec![Vec::new(); model.sites.len()];
        for n in &model.nat_rules {
            let (Some(e), Some(ranges)) = (&n.external, by_site.get_mut(n.site.index())) else {
                continue;
            };
            ranges.extend(nets(model, e).iter().map(|net| {
                let (first, last) = (net.network(), net.broadcast());
                (net.addr().is_ipv6(), bits(first), bits(last))
            }));
        }
        for ranges in &mut by_site {
            ranges.sort_unstable();
            let mut merged: Vec<(bool, u128, u128)> = Vec::with_capacity(ranges.len());
            for &r in ranges.iter() {
                match merged.last_mut() {
                    Some(m) if m.0 == r.0 && r.1 <= m.2 => m.2 = m.2.max(r.2),
                    _ => merged.push(r),
                }
            }
            *ranges = merged;
        }
        ExternalRanges { by_site }
    }

    /// Whether a NAT rule of `site` has `addr` on its external side.
    fn contains(&self, site: usize, addr: IpAddr) -> bool {
        let Some(ranges) = self.by_site.get(site) else {
            return false;
        };
        let key = (addr.is_ipv6(), bits(addr));
        // The last range starting at or before the address is the only one
        // that can hold it: the ranges are merged, so they do not overlap.
        let i = ranges.partition_point(|r| (r.0, r.1) <= key);
        i > 0
            && ranges
                .get(i - 1)
                .is_some_and(|r| r.0 == key.0 && key.1 <= r.2)
    }
}

/// An address as a number, IPv4 and IPv6 alike.
fn bits(addr: IpAddr) -> u128 {
    crate::engine::packet_set::addr_bits(addr).1
}

fn used_by_nat(model: &Model, external: &ExternalRanges, ip: &PublicIp) -> bool {
    let addr = ip.addr.value;
    let by_rule = external.contains(ip.site.index(), addr);
    let by_snat = model
        .sites
        .get(ip.site.index())
        .is_some_and(|s| matches!(s.default_snat, DefaultSnat::Addr(a, _) if a == addr));
    by_rule || by_snat
}

/// The scan `ExternalRanges` replaces, for the test that compares them.
#[cfg(test)]
fn used_by_nat_scan(model: &Model, ip: &PublicIp) -> bool {
    let addr = ip.addr.value;
    model.nat_rules.iter().any(|n| {
        n.site == ip.site
            && n.external
                .as_ref()
                .is_some_and(|e| nets(model, e).iter().any(|net| net.contains(&addr)))
    })
}

fn diagnostic(model: &Model, ip: &PublicIp) -> Diagnostic {
    let name = &ip.decl.name;
    let addr = ip.addr.value;
    let site = &model.site(ip.site).decl.name;
    match ip.kind {
        PublicIpKind::Sddc => Diagnostic::new(
            Code::NP205,
            format!("public IP `{name}` ({addr}) of `{site}` is used by no NAT rule"),
            ip.decl.name_span,
            "allocated, never used",
        )
        .with_help(format!(
            "a public IP is billed for every hour it is allocated, used or not ({HOURLY} at \
             the time of seed 000): release `{name}`, or publish something with it \
             (`nat dnat NAME {addr} -> VM`)"
        )),
        PublicIpKind::Elastic => Diagnostic::new(
            Code::NP205,
            format!("Elastic IP `{name}` ({addr}) of `{site}` is associated with nothing"),
            ip.decl.name_span,
            "allocated, never associated",
        )
        .with_help(format!(
            "an Elastic IP is billed for every hour it is allocated, associated or not \
             ({HOURLY} at the time of seed 000): release `{name}`, or associate it with \
             `-> INSTANCE` or a NAT gateway"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ranges answer what the scan of every NAT rule answers, for every
    /// public IP of designs whose NAT sides mix addresses, public IPs,
    /// overlapping prefixes and both families, in several SDDCs.
    #[test]
    fn the_ranges_agree_with_the_scan_of_every_rule() {
        let mut text = String::new();
        for s in 0..3 {
            text.push_str(&format!(
                "sddc d{s} {{\n  segment seg 10.{s}.0.0/24\n  vm m 10.{s}.0.10 in seg\n"
            ));
            for i in 0..24 {
                text.push_str(&format!("  public-ip p{i} 100.64.{s}.{i}\n"));
                text.push_str(&format!("  public-ip q{i} 2001:db8:{s}::{i:x}\n"));
            }
            text.push_str(&format!(
                "  nat dnat a p3 -> m\n  nat dnat b 100.64.{s}.5 -> m\n"
            ));
            text.push_str(&format!("  nat snat c 10.{s}.0.0/24 -> 100.64.{s}.8/30\n"));
            text.push_str(&format!("  nat snat e 10.{s}.0.0/24 -> 100.64.{s}.10/31\n"));
            text.push_str(&format!("  nat dnat f 2001:db8:{s}::10/126 -> m\n"));
            text.push_str(&format!(
                "  nat dnat g 100.64.{}.20 -> m\n}}\n",
                (s + 1) % 3
            ));
        }
        let parsed = crate::syntax::parse(&text);
        let model = crate::model::lower(&parsed.tree).model;
        let external = ExternalRanges::new(&model);
        let mut used = 0;
        for ip in &model.public_ips {
            let fast = used_by_nat(&model, &external, ip);
            assert_eq!(fast, used_by_nat_scan(&model, ip), "{}", ip.decl.name);
            used += usize::from(fast);
        }
        // p3, .5, .8-.11 and four IPv6 addresses in each SDDC.
        assert_eq!(used, 3 * 10);
    }
}
