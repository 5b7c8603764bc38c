//! Representative packets of an expectation.
//!
//! This is not a verdict: the reachability engine decides expectations over
//! every packet they cover. These are a few deterministic, concrete packets
//! (one per source, destination and service range, at the lowest port of the
//! range) for tests and debugging.

use super::matching;
use super::{Packet, Party, Start, ICMP, ICMPV6, TCP, UDP};
use crate::model::{
    AddrExpr, AddrTerm, Entity, Expectation, HostId, HostKind, Model, ServiceRange,
};
use crate::syntax::ast::ExpectKind;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client port of every probe with ports: the same default client port
/// as the engine's example packets.
pub const EPHEMERAL_PORT: u16 = crate::model::services::DEFAULT_CLIENT_PORT;

/// At most this many sources (and destinations) per expectation.
const MAX_PER_SIDE: usize = 16;

/// One representative flow of an expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub start: Start,
    pub packet: Packet,
    /// The host the packet must arrive at, when the expectation names one
    /// (`expect reach SRC -> HOST at ADDRESS`).
    pub intended: Option<Party>,
}

/// A few concrete packets standing for `exp`: for `reach` and `no-reach`,
/// one per (source, destination, service range); for `egress`, one HTTPS
/// packet per source to a host on the internet.
pub fn representative_packets(m: &Model, exp: &Expectation) -> Vec<Probe> {
    let sources = starts(m, &exp.src);
    let (dests, services): (Vec<(IpAddr, Option<Party>)>, Vec<ServiceRange>) = match exp.kind {
        ExpectKind::Egress => (
            internet_addrs(m)
                .into_iter()
                .take(1)
                .map(|a| (a, None))
                .collect(),
            vec![ServiceRange::ports(TCP, 443, 443)],
        ),
        ExpectKind::Reach | ExpectKind::NoReach => {
            let intended = exp.dst.as_ref().and_then(|d| single_host(m, d));
            let dests = match (&exp.at, &exp.dst) {
                (Some(at), _) => addrs(m, at)
                    .into_iter()
                    .map(|a| (a, intended.map(Party::Host)))
                    .collect(),
                (None, Some(dst)) => dest_parties(m, dst),
                (None, None) => Vec::new(),
            };
            (dests, exp.services.ranges.clone())
        }
    };
    let mut out = Vec::new();
    for &(start, src) in &sources {
        for &(dst, intended) in &dests {
            if src.is_ipv4() != dst.is_ipv4() {
                continue;
            }
            for r in &services {
                let Some((proto, dport)) = pick(r, dst) else {
                    continue;
                };
                let sport = if matches!(proto, TCP | UDP) {
                    EPHEMERAL_PORT
                } else {
                    0
                };
                let probe = Probe {
                    start,
                    packet: Packet {
                        src,
                        dst,
                        proto,
                        sport,
                        dport,
                    },
                    intended,
                };
                if !out.contains(&probe) {
                    out.push(probe);
                }
            }
        }
    }
    out
}

/// The protocol and destination port (or ICMP type) that stand for a
/// service range towards `dst`: the lowest port; ICMP echo when the range
/// holds it; for `any`, ICMP echo.
pub(super) fn pick(r: &ServiceRange, dst: IpAddr) -> Option<(u8, u16)> {
    let (echo_proto, echo) = if dst.is_ipv4() {
        (ICMP, 8)
    } else {
        (ICMPV6, 128)
    };
    match r.proto {
        None => Some((echo_proto, echo)),
        Some(ICMP) if !dst.is_ipv4() => None,
        Some(ICMPV6) if dst.is_ipv4() => None,
        Some(p @ (ICMP | ICMPV6)) => {
            let t = if r.lo <= echo && echo <= r.hi {
                echo
            } else {
                r.lo
            };
            Some((p, t))
        }
        Some(p @ (TCP | UDP)) => Some((p, r.lo)),
        Some(p) => Some((p, 0)),
    }
}

/// The host an address expression names, when it names exactly one.
fn single_host(m: &Model, e: &AddrExpr) -> Option<HostId> {
    match e.terms.as_slice() {
        [t] => match t.value {
            AddrTerm::Entity(Entity::Host(h)) => Some(h),
            _ => None,
        },
        _ => None,
    }
    .filter(|h| h.index() < m.hosts.len())
}

/// Addresses no declared site owns, for "somewhere on the internet": the
/// internet hosts, else the first documentation address nobody owns.
fn internet_addrs(m: &Model) -> Vec<IpAddr> {
    let hosts: Vec<IpAddr> = m
        .hosts
        .iter()
        .filter(|h| h.kind == HostKind::InternetHost)
        .map(|h| h.addr.value)
        .collect();
    if !hosts.is_empty() {
        return hosts;
    }
    [
        "198.51.100.200",
        "203.0.113.200",
        "192.0.2.200",
        "2001:db8:ffff::200",
    ]
    .iter()
    .filter_map(|a| a.parse::<IpAddr>().ok())
    .filter(|a| matching::site_owning(m, *a).is_none())
    .take(1)
    .collect()
}

/// One address standing for a network, which no platform reserves in any
/// subnet holding it (docs/forwarding.md, "Example packets"): the first at
/// offset 6, 10 or 14 of an aligned block of 16 (`10.0.1.6` of
/// `10.0.1.0/24`), else, in a network of four, the one at offset 2, else
/// the network's first address (a `/31` or `/32`).
fn net_addr(n: IpNet) -> IpAddr {
    let (lo, hi, v4) = match n {
        IpNet::V4(x) => (
            u128::from(u32::from(x.network())),
            u128::from(u32::from(x.broadcast())),
            true,
        ),
        IpNet::V6(x) => (u128::from(x.network()), u128::from(x.broadcast()), false),
    };
    let pick = [6u128, 10, 14]
        .iter()
        .filter_map(|o| lo.checked_add(*o))
        .find(|a| *a <= hi)
        .or_else(|| lo.checked_add(2).filter(|a| *a <= hi && hi - lo == 3))
        .unwrap_or(lo);
    if v4 {
        IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(pick).unwrap_or(0)))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(pick))
    }
}

/// The address standing for a subnet with no hosts: as for any network.
fn subnet_addr(m: &Model, s: crate::model::SubnetId) -> Option<IpAddr> {
    m.subnets.get(s.index()).map(|x| net_addr(x.prefix.value))
}

fn hosts_in(m: &Model, f: impl Fn(IpAddr) -> bool) -> Vec<HostId> {
    m.hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| h.addrs().any(|a| f(a.value)))
        .map(|(i, _)| HostId(i as u32))
        .collect()
}

/// Where the flows of a source expression start: its hosts, or an address
/// of it when it has none.
fn starts(m: &Model, e: &AddrExpr) -> Vec<(Start, IpAddr)> {
    let mut out: Vec<(Start, IpAddr)> = Vec::new();
    // A dual-stack instance starts flows from each of its addresses.
    let push = |s: Start, out: &mut Vec<(Start, IpAddr)>| {
        let addrs: Vec<IpAddr> = match s {
            Start::Host(h) => m
                .hosts
                .get(h.index())
                .map(|h| h.addrs().map(|a| a.value).collect())
                .unwrap_or_default(),
            Start::Address(a) => vec![a],
        };
        for a in addrs {
            if !out.contains(&(s, a)) && out.len() < MAX_PER_SIDE {
                out.push((s, a));
            }
        }
    };
    for t in &e.terms {
        for s in term_starts(m, t.value, 0) {
            push(s, &mut out);
        }
    }
    out
}

fn term_starts(m: &Model, t: AddrTerm, depth: usize) -> Vec<Start> {
    let hosts_or = |hs: Vec<HostId>, fallback: Option<IpAddr>| -> Vec<Start> {
        if hs.is_empty() {
            fallback.map(Start::Address).into_iter().collect()
        } else {
            hs.into_iter().map(Start::Host).collect()
        }
    };
    match t {
        AddrTerm::Any => (0..m.hosts.len())
            .map(|i| Start::Host(HostId(i as u32)))
            .collect(),
        AddrTerm::Internet => {
            let hs: Vec<HostId> = m
                .hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| h.kind == HostKind::InternetHost)
                .map(|(i, _)| HostId(i as u32))
                .collect();
            hosts_or(hs, internet_addrs(m).first().copied())
        }
        AddrTerm::Net(n) => hosts_or(hosts_in(m, |a| n.contains(&a)), Some(net_addr(n))),
        AddrTerm::Range(lo, hi) => hosts_or(
            hosts_in(m, |a| a.is_ipv4() == lo.is_ipv4() && lo <= a && a <= hi),
            Some(lo),
        ),
        AddrTerm::Entity(Entity::Host(h)) => vec![Start::Host(h)],
        AddrTerm::Entity(Entity::Subnet(s)) => {
            let hs = m
                .hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| h.subnet == Some(s))
                .map(|(i, _)| HostId(i as u32))
                .collect();
            hosts_or(hs, subnet_addr(m, s))
        }
        AddrTerm::Entity(Entity::Site(s)) => {
            let hs = m
                .hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| h.site == s)
                .map(|(i, _)| HostId(i as u32))
                .collect();
            let fallback = m
                .sites
                .get(s.index())
                .and_then(|x| x.subnets.first())
                .and_then(|sub| subnet_addr(m, *sub));
            hosts_or(hs, fallback)
        }
        AddrTerm::Entity(Entity::Group(g)) if depth < 8 => m
            .groups
            .get(g.index())
            .map(|g| {
                g.members
                    .terms
                    .iter()
                    .flat_map(|t| term_starts(m, t.value, depth + 1))
                    .collect()
            })
            .unwrap_or_default(),
        AddrTerm::Entity(Entity::PublicIp(p)) => m
            .public_ips
            .get(p.index())
            .map(|p| Start::Address(p.addr.value))
            .into_iter()
            .collect(),
        AddrTerm::Entity(Entity::Endpoint(e)) => m
            .endpoints
            .get(e.index())
            .map(|e| Start::Address(e.addr.value))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// Destinations of an expression, with the host each is (when it is one).
fn dest_parties(m: &Model, e: &AddrExpr) -> Vec<(IpAddr, Option<Party>)> {
    let mut out: Vec<(IpAddr, Option<Party>)> = Vec::new();
    for t in &e.terms {
        for s in term_starts(m, t.value, 0) {
            let items: Vec<(IpAddr, Option<Party>)> = match s {
                Start::Host(h) => m
                    .hosts
                    .get(h.index())
                    .map(|x| x.addrs().map(|a| (a.value, Some(Party::Host(h)))).collect())
                    .unwrap_or_default(),
                Start::Address(a) => vec![(a, None)],
            };
            for item in items {
                if !out.contains(&item) && out.len() < MAX_PER_SIDE {
                    out.push(item);
                }
            }
        }
    }
    out
}

/// The addresses an `at` expression names.
fn addrs(m: &Model, e: &AddrExpr) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for t in &e.terms {
        let a = match t.value {
            AddrTerm::Entity(Entity::Host(h)) => m.hosts.get(h.index()).map(|h| h.addr.value),
            AddrTerm::Entity(Entity::Endpoint(x)) => {
                m.endpoints.get(x.index()).map(|x| x.addr.value)
            }
            AddrTerm::Entity(Entity::PublicIp(x)) => {
                m.public_ips.get(x.index()).map(|x| x.addr.value)
            }
            AddrTerm::Net(n) => Some(net_addr(n)),
            AddrTerm::Range(lo, _) => Some(lo),
            _ => None,
        };
        if let Some(a) = a {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}
