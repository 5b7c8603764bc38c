//! NP303 exposed-admin-port: SSH, RDP or a database port of a host answers
//! from the internet.
//!
//! A behaviour rule: the reachability engine decides, over every packet
//! from every internet address to every address a site publishes (public
//! and Elastic IPs, NAT rules' external sides, forwarded VM networks),
//! which flows on the administrative ports are delivered and answered. A
//! rule that names port 22 but sits behind a missing route, a NAT that
//! does not publish the host, or a security group that drops it is not an
//! exposure, and this rule stays quiet about it.
//!
//! Access confined to a few addresses (no more than a /24: an office, a
//! bastion, a VPN's egress) is taken as deliberate; an exposure is a port
//! that answers a wider part of the internet.
//!
//! The work is bounded: one symbolic walk over the published addresses for
//! the eight ports, then a forward walk of only the flows that reach, to
//! learn which host receives them; the oracle traces one packet per host for
//! the labels.

use crate::diagnostic::Diagnostic;
use crate::engine::expect::{
    documentation_addrs, internet_host_addrs, reachability, readable_witness,
};
use crate::engine::packet_set::{AddrRanges, Packet, PacketSet};
use crate::engine::space::{Iface, PublicOwner, Space, EPHEMERAL, TCP};
use crate::engine::walk::{Dest, Leaf, Walker};
use crate::model::{HostId, Model};
use crate::registry::Code;
use crate::sim::Stage;
use crate::span::Span;
use std::collections::BTreeMap;

/// The administrative and database ports this rule watches.
pub const ADMIN_PORTS: &[(&str, u16)] = &[
    ("SSH", 22),
    ("MSSQL", 1433),
    ("Oracle", 1521),
    ("MYSQL", 3306),
    ("RDP", 3389),
    ("POSTGRES", 5432),
    ("Redis", 6379),
    ("MongoDB", 27017),
];

/// Sources of no more than this many addresses are a deliberate allowance
/// (a /24), not an exposure.
const DELIBERATE: u128 = 256;

/// The number of addresses in a set, saturating.
pub(crate) fn addr_count(a: &AddrRanges) -> u128 {
    a.ranges().fold(0u128, |acc, (lo, hi)| {
        let n = match (lo, hi) {
            (std::net::IpAddr::V4(l), std::net::IpAddr::V4(h)) => {
                u128::from(u32::from(h)).saturating_sub(u128::from(u32::from(l))) + 1
            }
            (std::net::IpAddr::V6(l), std::net::IpAddr::V6(h)) => u128::from(h)
                .saturating_sub(u128::from(l))
                .saturating_add(1),
            _ => 0,
        };
        acc.saturating_add(n)
    })
}

/// The addresses the internet delivers to a site: where an exposure can
/// enter.
fn published(space: &Space) -> AddrRanges {
    let mut out = space.published_ranges();
    for (&a, o) in &space.public {
        // An internet host is not a site; nobody answers an unassociated
        // Elastic IP; a NAT gateway admits no unsolicited inbound.
        if matches!(
            o,
            PublicOwner::InternetHost(_)
                | PublicOwner::UnassociatedEip(_)
                | PublicOwner::NatGateway(_)
        ) {
            continue;
        }
        out = out.union(&AddrRanges::from_addr(a));
    }
    out
}

/// A source address that reads well in a message: a declared internet host,
/// else a documentation address (RFC 5737), else the set's own choice.
fn witness(model: &Model, set: &PacketSet) -> Option<Packet> {
    [internet_host_addrs(model), documentation_addrs()]
        .iter()
        .find_map(|s| readable_witness(&set.with_src(s)))
        .or_else(|| readable_witness(set))
}

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    let model = space.model;
    // Addresses the internet does not route are neither exposed nor
    // clients: a forwarding gateway that puts 10.50.0.0/24 on "the
    // physical network" exposes nothing to the internet, and a source in
    // 10.0.0.0/8 is not an internet client.
    let private = crate::engine::space::unrouted();
    let dst = published(space).difference(&private);
    let src = space.internet.difference(&private);
    if dst.is_empty() || src.is_empty() {
        return;
    }
    let parts: Vec<PacketSet> = ADMIN_PORTS
        .iter()
        .map(|&(_, p)| PacketSet::from_fields(&src, &dst, Some(TCP), EPHEMERAL, (p, p)))
        .collect();
    let packets = PacketSet::union_all(&parts);
    let reached = reachability(space, &packets).reached;
    if reached.is_empty() {
        return;
    }
    // Which host receives each reaching flow: walk only those forward.
    let walker = Walker::forward(space);
    let leaves = walker.leaves_from(Dest::Internet, reached);
    let mut by_host: BTreeMap<HostId, Vec<PacketSet>> = BTreeMap::new();
    for leaf in leaves {
        if let Leaf::Delivered {
            to: Dest::Iface(Iface::Host(h)),
            branch,
        } = leaf
        {
            let slots = by_host
                .entry(h)
                .or_insert_with(|| vec![PacketSet::empty(); ADMIN_PORTS.len()]);
            for (i, &(_, p)) in ADMIN_PORTS.iter().enumerate() {
                let part = branch.orig.with_dport(p, p);
                if let Some(slot) = slots.get_mut(i) {
                    *slot = slot.union(&part);
                }
            }
        }
    }
    for (h, sets) in by_host {
        let exposed: Vec<(usize, &PacketSet)> = sets
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_empty() && addr_count(&s.src_addrs()) > DELIBERATE)
            .collect();
        let Some(&(first, first_set)) = exposed.first() else {
            continue;
        };
        let Some(p) = witness(model, first_set) else {
            continue;
        };
        let all = exposed
            .iter()
            .fold(PacketSet::empty(), |acc, (_, s)| acc.union(s));
        out.push(diagnostic(space, h, &exposed, first, &p, &all.dst_addrs()));
    }
}

fn port_name(i: usize) -> String {
    ADMIN_PORTS
        .get(i)
        .map(|(n, p)| format!("{n} (tcp/{p})"))
        .unwrap_or_default()
}

fn diagnostic(
    space: &Space,
    h: HostId,
    exposed: &[(usize, &PacketSet)],
    first: usize,
    p: &Packet,
    at: &AddrRanges,
) -> Diagnostic {
    let model = space.model;
    let host = model.host(h);
    let ports: Vec<String> = exposed.iter().map(|(i, _)| port_name(*i)).collect();
    let ports = match ports.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => ports.join(""),
    };
    let others = addr_count(at).saturating_sub(1);
    let at_text = match others {
        0 => format!("{}", p.dst),
        1 => format!("{} and one other address", p.dst),
        n => format!("{} and {n} other addresses", p.dst),
    };
    // The oracle's trace of one packet names the elements that let it in.
    let trace = super::util::trace_witness(&crate::sim::Oracle::new(model), p);
    let mut labels: Vec<(Span, String)> = Vec::new();
    let mut via = None;
    for hop in &trace.forward.hops {
        let Some(span) = hop.span else { continue };
        let text = match hop.stage {
            Stage::Nat => {
                via.get_or_insert_with(|| hop.decision.clone());
                match hop.rewrite {
                    Some((a, b)) if a.dst != b.dst => {
                        format!("publishes {} as {}", b.dst, a.dst)
                    }
                    _ => "translates it".to_string(),
                }
            }
            Stage::Firewall => format!("lets tcp/{} in from the internet", p.dport),
            Stage::SecurityGroup => format!("admits tcp/{} from the internet", p.dport),
            _ => continue,
        };
        if span != host.decl.span && !labels.iter().any(|(s, _)| *s == span) {
            labels.push((span, text));
        }
    }
    // A forwarding NVGRE gateway translates nothing: it is what lets the
    // internet in.
    if via.is_none() {
        let forwarder = space.public_ranges.iter().find_map(|(r, o)| match o {
            PublicOwner::VnetGateway(g) if r.contains(p.dst) => model.gateways.get(g.index()),
            _ => None,
        });
        if let Some(gw) = forwarder {
            via = Some(format!("forwarding gateway `{}`", gw.decl.name));
            labels.push((
                gw.decl.span,
                "forwards it from the internet untranslated".into(),
            ));
        }
    }
    let port = ADMIN_PORTS.get(first).map_or(0, |x| x.1);
    let through = via.map(|v| format!(" through {v}")).unwrap_or_default();
    let mut d = Diagnostic::new(
        Code::NP303,
        format!(
            "`{}` answers {ports} from the internet at {at_text}{through}",
            host.decl.name
        ),
        host.decl.name_span,
        format!("tcp/{port} reachable from the internet"),
    );
    if let Some(pub_addr) = host.public {
        if !labels.iter().any(|(s, _)| *s == pub_addr.span) {
            labels.push((pub_addr.span, format!("public address {}", pub_addr.addr)));
        }
    }
    for ip in &model.public_ips {
        if ip.addr.value == p.dst && !labels.iter().any(|(s, _)| *s == ip.decl.span) {
            labels.push((ip.decl.span, format!("public address {}", ip.addr.value)));
        }
    }
    for (span, text) in labels {
        d = d.with_label(span, text);
    }
    d.with_help(format!(
        "for example, {} reaches it; administrative and database ports should not answer the \
         whole internet: allow them only from a bastion, an office range or a VPN, or reach the \
         host through a VPN or a jump host",
        crate::rules::np901_expectation_unreachable::show_packet(p)
    ))
    .with_path(super::util::sim_path(&trace.forward.hops))
}
