//! The reachability matrix: for every ordered pair of subnets, the services
//! by which some address of the first reaches some host of the second.
//!
//! One exhaustive walk per *class* of sources (`classes.rs`) rather than per
//! subnet: every SDDC VM leaves through the same compute gateway, so one
//! walk carries all of them, with every destination and service at once.
//! The reached packets of each walk are then attributed to (source subnet,
//! destination subnet) pairs box by box, with the subnets of each class
//! sorted by address so that a box finds the subnets it overlaps by binary
//! search instead of by testing every subnet. Within a walk, reached sets
//! are kept per receiving class, so subnets that share addresses in
//! different sites (overlapping VPCs) are never confused.
//!
//! The walks need verdicts only: with [`Space::grouped`]'s
//! `verdicts_only`, a gateway firewall keeps the packets in what its allow
//! rules admit on the uplink (computed once per firewall and uplink) instead
//! of splitting every branch rule by rule to name what each rule drops,
//! which no row reports.

use super::expect::{reply, starts};
use super::packet_set::{AddrRanges, PacketSet, ServiceBox, Services};
use super::space::{service_flows, Iface, Space};
use super::walk::{Dest, Leaf, Walker};
use crate::model::{HostId, ServiceSet, SubnetId};
use crate::span::Span;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

/// One row: `from` reaches `to` by `services`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub from: SubnetId,
    pub to: SubnetId,
    pub services: Services,
}

/// The matrix, rows ordered by source then destination subnet (model
/// order), and whether some packets took a path the engine does not model
/// (their verdict is unknown, so they are in no row).
pub struct Matrix {
    pub cells: Vec<Cell>,
    pub complete: bool,
}

/// Subnets as address ranges sorted by first address, with the running
/// maximum of last addresses, to find the ones a range overlaps.
#[derive(Clone)]
struct Sorted {
    items: Vec<(IpAddr, IpAddr, SubnetId)>,
    max_last: Vec<IpAddr>,
}

impl Sorted {
    fn new(subnets: impl IntoIterator<Item = (ipnet::IpNet, SubnetId)>) -> Sorted {
        let mut items: Vec<(IpAddr, IpAddr, SubnetId)> = subnets
            .into_iter()
            .map(|(n, s)| (n.network(), n.broadcast(), s))
            .collect();
        items.sort_unstable_by_key(|&(lo, hi, s)| (lo, hi, s.0));
        let mut max_last = Vec::with_capacity(items.len());
        let mut m: Option<IpAddr> = None;
        for &(_, hi, _) in &items {
            let next = m.map_or(hi, |x| x.max(hi));
            max_last.push(next);
            m = Some(next);
        }
        Sorted { items, max_last }
    }

    /// The subnets overlapping `[lo, hi]`.
    fn overlapping(&self, lo: IpAddr, hi: IpAddr) -> impl Iterator<Item = SubnetId> + '_ {
        // Before `from`, every subnet ends below `lo`; from `to` on, every
        // subnet starts above `hi`.
        let from = self.max_last.partition_point(|&m| m < lo);
        let to = self.items.partition_point(|&(first, _, _)| first <= hi);
        self.items[from..to.max(from)]
            .iter()
            .filter(move |&&(_, last, _)| last >= lo)
            .map(|&(_, _, s)| s)
    }
}

/// The subnets each class stands for.
struct Members {
    /// Per host standing for a class, its members' subnets.
    hosts: HashMap<HostId, Sorted>,
    /// Per subnet standing for a class of unnamed addresses, its members.
    subnets: HashMap<SubnetId, Sorted>,
    /// Every subnet.
    all: Sorted,
}

impl Members {
    fn new(space: &Space) -> Members {
        let m = space.model;
        let mut hosts: HashMap<HostId, Vec<(ipnet::IpNet, SubnetId)>> = HashMap::new();
        for (i, h) in m.hosts.iter().enumerate() {
            let Some(sub) = h.subnet else { continue };
            let rep = space.classes.host_rep(HostId(i as u32));
            let entry = hosts.entry(rep).or_default();
            if !entry.iter().any(|&(_, s)| s == sub) {
                entry.extend(m.subnet(sub).prefixes().map(|p| (p.value, sub)));
            }
        }
        let mut subnets: HashMap<SubnetId, Vec<(ipnet::IpNet, SubnetId)>> = HashMap::new();
        for (i, s) in m.subnets.iter().enumerate() {
            let id = SubnetId(i as u32);
            subnets
                .entry(space.classes.subnet_rep(id))
                .or_default()
                .extend(s.prefixes().map(|p| (p.value, id)));
        }
        Members {
            all: Sorted::new(
                m.subnets
                    .iter()
                    .enumerate()
                    .flat_map(|(i, s)| s.prefixes().map(move |p| (p.value, SubnetId(i as u32)))),
            ),
            hosts: hosts
                .into_iter()
                .map(|(k, v)| (k, Sorted::new(v)))
                .collect(),
            subnets: subnets
                .into_iter()
                .map(|(k, v)| (k, Sorted::new(v)))
                .collect(),
        }
    }

    fn of(&self, space: &Space, d: Dest) -> Option<Cow<'_, Sorted>> {
        match d {
            Dest::Iface(Iface::Host(h)) => self.hosts.get(&h).map(Cow::Borrowed),
            Dest::Iface(Iface::Endpoint(e)) => {
                let ep = &space.model.endpoints[e.index()];
                ep.subnet
                    .map(|s| Cow::Owned(Sorted::new([(space.model.subnet(s).prefix.value, s)])))
            }
            Dest::Virtual(_, s) => self.subnets.get(&s).map(Cow::Borrowed),
            Dest::Internet | Dest::Service(_) => None,
        }
    }
}

/// The services of one box of a reached set, for one pair of subnets.
type Part = (u32, u32, (u8, u8), (u16, u16));

/// Computes the matrix. `space` should be [`Space::grouped`]: with a plain
/// space the answer is the same, one walk per host.
pub fn matrix(space: &Space) -> Matrix {
    let m = space.model;
    let all = AddrRanges::from_nets(m.subnets.iter().flat_map(|s| s.prefixes().map(|p| p.value)));
    // Destinations: the subnets, as coalesced ranges (neighbouring
    // subnets make one range). Addresses outside every subnet would only be
    // carried to where they are dropped.
    let flows = service_flows(&ServiceSet::any(Span::default()), &all, &all);
    let members = Members::new(space);
    let starts = starts(space, &all, &[]);
    let per_start: Vec<(Vec<Part>, bool)> = starts
        .par_iter()
        .map(|(start, addrs)| walk_start(space, &members, *start, flows.with_src(addrs)))
        .collect();
    let complete = per_start.iter().all(|(_, c)| *c);
    let mut parts: Vec<Part> = per_start.into_iter().flat_map(|(p, _)| p).collect();
    parts.par_sort_unstable();
    let groups: Vec<&[Part]> = parts.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).collect();
    let cells = groups
        .par_iter()
        .map(|g| {
            let ranges: Vec<ServiceBox> = g.iter().map(|p| (p.2, p.3)).collect();
            Cell {
                from: SubnetId(g[0].0),
                to: SubnetId(g[0].1),
                services: Services::from_ranges(&ranges),
            }
        })
        .collect();
    Matrix { cells, complete }
}

/// One start's walk and replies, its reached packets cut into per-pair
/// parts; `false` when some packets took a path the engine does not model.
fn walk_start(space: &Space, members: &Members, start: Dest, set: PacketSet) -> (Vec<Part>, bool) {
    let fwd = Walker::forward(space);
    let leaves = fwd.leaves_from(start, set);
    let mut complete = true;
    let mut reached: Vec<(Dest, PacketSet)> = Vec::new();
    let mut failures = Vec::new();
    for leaf in leaves {
        match leaf {
            Leaf::Dropped { drop, .. } => complete &= !drop.unsupported,
            Leaf::Delivered { to, branch } => {
                let mut ok = PacketSet::empty();
                reply(space, start, to, branch, &mut ok, &mut failures);
                complete &= !failures.iter().any(|f| f.drop.unsupported);
                failures.clear();
                if ok.is_empty() {
                    continue;
                }
                match reached.iter_mut().find(|(d, _)| *d == to) {
                    Some((_, r)) => *r = r.union(&ok),
                    None => reached.push((to, ok)),
                }
            }
        }
    }
    let Some(from) = members.of(space, start) else {
        return (Vec::new(), complete);
    };
    let mut parts = Vec::new();
    let mut dsts: Vec<SubnetId> = Vec::new();
    for (to, set) in reached {
        let to = members.of(space, to);
        for b in set.boxes() {
            // The subnets the packet was addressed to. Where prefixes of
            // several sites overlap, the receiver's own subnets are meant;
            // a packet the receiver got at another address (PrivateLink,
            // NAT) counts for the subnet of that address.
            dsts.clear();
            dsts.extend(members.all.overlapping(b.dst.0, b.dst.1));
            if let Some(to) = &to {
                let own: Vec<SubnetId> = to.overlapping(b.dst.0, b.dst.1).collect();
                if !own.is_empty() {
                    dsts.retain(|d| own.contains(d));
                }
            }
            for s in from.overlapping(b.src.0, b.src.1) {
                for &d in &dsts {
                    if s != d {
                        parts.push((s.0, d.0, b.proto, b.dport));
                    }
                }
            }
        }
    }
    (parts, complete)
}
