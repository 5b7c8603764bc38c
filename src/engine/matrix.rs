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
//! The starts of one site walk together, and the replies of what they
//! deliver walk together, merging branches that meet in the same state
//! ([`Walker::walk_merged`]; docs/engine.md, "Merged walks"): what lies
//! beyond a site's gateway is walked once for the site, not once per start
//! and receiver.
//!
//! The walks need verdicts only: with [`Space::grouped`]'s
//! `verdicts_only`, a gateway firewall keeps the packets in what its allow
//! rules admit on the uplink (computed once per firewall and uplink) instead
//! of splitting every branch rule by rule to name what each rule drops,
//! which no row reports.

use super::expect::{came_back, reply, reply_branch, starts};
use super::packet_set::{AddrRanges, PacketBox, PacketSet, ServiceBox, Services};
use super::space::{service_flows, Iface, Space};
use super::walk::{Branch, Dest, Leaf, Loc, Mark, Walker};
use crate::model::{HostId, ServiceSet, SiteId, SubnetId};
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
    /// Whether some addresses are in two subnets (sites that share
    /// addresses): then only the receiver tells which one a packet meant.
    overlap: bool,
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
        let all = Sorted::new(
            m.subnets
                .iter()
                .enumerate()
                .flat_map(|(i, s)| s.prefixes().map(move |p| (p.value, SubnetId(i as u32)))),
        );
        let overlap = all
            .items
            .iter()
            .skip(1)
            .zip(&all.max_last)
            .any(|(&(first, _, _), &last_before)| first <= last_before);
        Members {
            all,
            overlap,
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
///
/// The starts of one site walk together ([`Walker::walk_merged`]): their
/// branches merge where they meet in the same state, typically at the
/// site's gateway, so what lies beyond is walked once per site rather than
/// once per start. The replies of each delivered branch are walked once for
/// all its starts too. The original source address of a packet tells its
/// start (the starts' addresses are disjoint), so every row is the one
/// [`matrix_per_start`] finds.
pub fn matrix(space: &Space) -> Matrix {
    compute(space, true)
}

/// The matrix with one walk per start and one reply walk per start and
/// receiver: the plain form of [`matrix`], kept as the reference its
/// merged walks are tested against.
pub fn matrix_per_start(space: &Space) -> Matrix {
    compute(space, false)
}

fn compute(space: &Space, merged: bool) -> Matrix {
    let m = space.model;
    let all = AddrRanges::from_nets(m.subnets.iter().flat_map(|s| s.prefixes().map(|p| p.value)));
    // Destinations: the subnets, as coalesced ranges (neighbouring
    // subnets make one range). Addresses outside every subnet would only be
    // carried to where they are dropped.
    let flows = service_flows(&ServiceSet::any(Span::default()), &all, &all);
    let members = Members::new(space);
    let starts = starts(space, &all, &[]);
    let per_start: Vec<(Vec<Part>, bool)> = if merged {
        let owners = Owners::new(&starts);
        let groups = groups(space, &starts);
        if sources_apart(space, &members, &starts, &groups) {
            // Every row of a source subnet comes from one group, so each
            // group's parts become its rows at once, and only the rows,
            // not every part of the estate, are held and sorted.
            let per_group: Vec<(Vec<Cell>, bool)> = groups
                .par_iter()
                .map(|g| {
                    let (parts, complete) =
                        walk_group(space, &members, &owners, &starts, g, &flows);
                    (cells_of(parts), complete)
                })
                .collect();
            let complete = per_group.iter().all(|(_, c)| *c);
            let mut cells: Vec<Cell> = per_group.into_iter().flat_map(|(c, _)| c).collect();
            cells.par_sort_unstable_by_key(|c| (c.from.0, c.to.0));
            return Matrix { cells, complete };
        }
        groups
            .par_iter()
            .map(|g| walk_group(space, &members, &owners, &starts, g, &flows))
            .collect()
    } else {
        starts
            .par_iter()
            .map(|(start, addrs)| walk_start(space, &members, *start, flows.with_src(addrs)))
            .collect()
    };
    let complete = per_start.iter().all(|(_, c)| *c);
    let parts: Vec<Part> = per_start.into_iter().flat_map(|(p, _)| p).collect();
    Matrix {
        cells: cells_of(parts),
        complete,
    }
}

/// The rows of some parts, ordered by source then destination subnet: the
/// services of each pair united.
fn cells_of(mut parts: Vec<Part>) -> Vec<Cell> {
    parts.par_sort_unstable();
    let groups: Vec<&[Part]> = parts.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).collect();
    groups
        .par_iter()
        .map(|g| {
            let ranges: Vec<ServiceBox> = g.iter().map(|p| (p.2, p.3)).collect();
            Cell {
                from: SubnetId(g[0].0),
                to: SubnetId(g[0].1),
                services: Services::from_ranges(&ranges),
            }
        })
        .collect()
}

/// Whether no source subnet stands in the starts of two groups: then each
/// pair's parts all come from one group. Classes keep to one site, so this
/// holds; it is checked rather than assumed, since two groups' parts for
/// one pair made into two rows would be a wrong answer.
fn sources_apart(
    space: &Space,
    members: &Members,
    starts: &[(Dest, AddrRanges)],
    groups: &[Vec<usize>],
) -> bool {
    let mut owner: HashMap<SubnetId, usize> = HashMap::new();
    for (gi, g) in groups.iter().enumerate() {
        for &i in g {
            let Some(from) = members.of(space, starts[i].0) else {
                continue;
            };
            for &(_, _, s) in &from.items {
                if *owner.entry(s).or_insert(gi) != gi {
                    return false;
                }
            }
        }
    }
    true
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
    for (to, set) in reached {
        let to = members.of(space, to);
        for b in set.boxes() {
            attribute(members, &from, to.as_deref(), b.src, &b, &mut parts);
        }
    }
    (parts, complete)
}

/// Adds the parts of one reached box whose sources, `src`, all left from
/// one start whose subnets are `from`, received by `to`'s subnets.
fn attribute(
    members: &Members,
    from: &Sorted,
    to: Option<&Sorted>,
    src: (IpAddr, IpAddr),
    b: &PacketBox,
    parts: &mut Vec<Part>,
) {
    // The subnets the packet was addressed to. Where prefixes of several
    // sites overlap, the receiver's own subnets are meant; a packet the
    // receiver got at another address (PrivateLink, NAT) counts for the
    // subnet of that address.
    let mut dsts: Vec<SubnetId> = members.all.overlapping(b.dst.0, b.dst.1).collect();
    if let Some(to) = to {
        let own: Vec<SubnetId> = to.overlapping(b.dst.0, b.dst.1).collect();
        if !own.is_empty() {
            dsts.retain(|d| own.contains(d));
        }
    }
    for s in from.overlapping(src.0, src.1) {
        for &d in &dsts {
            if s != d {
                parts.push((s.0, d.0, b.proto, b.dport));
            }
        }
    }
}

/// The start each source address left from: the starts' address ranges,
/// which are disjoint, sorted by first address.
struct Owners {
    ranges: Vec<(IpAddr, IpAddr, usize)>,
    index: HashMap<Dest, usize>,
}

impl Owners {
    fn new(starts: &[(Dest, AddrRanges)]) -> Owners {
        let mut ranges: Vec<(IpAddr, IpAddr, usize)> = starts
            .iter()
            .enumerate()
            .flat_map(|(i, (_, a))| a.ranges().map(move |(lo, hi)| (lo, hi, i)))
            .collect();
        ranges.sort_unstable();
        let index = starts
            .iter()
            .enumerate()
            .map(|(i, (d, _))| (*d, i))
            .collect();
        Owners { ranges, index }
    }

    /// The starts of the addresses in `[lo, hi]`, each with the part of
    /// the range that is its own.
    fn cut(&self, lo: IpAddr, hi: IpAddr) -> impl Iterator<Item = (usize, IpAddr, IpAddr)> + '_ {
        let from = self.ranges.partition_point(|&(_, last, _)| last < lo);
        self.ranges[from..]
            .iter()
            .take_while(move |&&(first, _, _)| first <= hi)
            .map(move |&(first, last, i)| (i, first.max(lo), last.min(hi)))
    }
}

/// The starts walked together: those of one site (a host's site, or the
/// site of a subnet's unnamed addresses); the internet alone.
fn groups(space: &Space, starts: &[(Dest, AddrRanges)]) -> Vec<Vec<usize>> {
    let m = space.model;
    let mut by_site: Vec<(Option<SiteId>, Vec<usize>)> = Vec::new();
    let mut slot: HashMap<Option<SiteId>, usize> = HashMap::new();
    for (i, (d, _)) in starts.iter().enumerate() {
        let site = match d {
            Dest::Iface(Iface::Host(h)) => Some(m.host(*h).site),
            Dest::Virtual(site, _) => Some(*site),
            _ => None,
        };
        let at = *slot.entry(site).or_insert_with(|| {
            by_site.push((site, Vec::new()));
            by_site.len() - 1
        });
        by_site[at].1.push(i);
    }
    by_site.into_iter().map(|(_, g)| g).collect()
}

/// The walk of one group of starts and the replies of what it delivers,
/// cut into per-pair parts; `false` when some packets took a path the
/// engine does not model.
fn walk_group(
    space: &Space,
    members: &Members,
    owners: &Owners,
    starts: &[(Dest, AddrRanges)],
    group: &[usize],
    flows: &PacketSet,
) -> (Vec<Part>, bool) {
    let fwd = Walker::forward(space);
    let mut leaves = Vec::new();
    fwd.walk_merged(
        group
            .iter()
            .map(|&i| {
                let (start, addrs) = &starts[i];
                (Loc::Leave(*start), Branch::new(flows.with_src(addrs)))
            })
            .collect(),
        &mut leaves,
    );
    let virtual_starts: Vec<usize> = group
        .iter()
        .copied()
        .filter(|&i| matches!(starts[i].0, Dest::Virtual(..)))
        .collect();
    let virtual_addrs: Vec<AddrRanges> = virtual_starts
        .iter()
        .map(|&i| starts[i].1.clone())
        .collect();
    let mut complete = true;
    // What reaches, per receiver where subnets overlap (the receiver tells
    // which one a packet meant), and otherwise in all.
    let mut reached: Vec<(Dest, PacketSet)> = Vec::new();
    let mut reached_any: Vec<PacketSet> = Vec::new();
    // Replies walked together: those that may use the same forward marks
    // and may be delivered to the same unnamed source.
    let mut batches: Vec<(Session, Vec<(Loc, Branch)>)> = Vec::new();
    for leaf in leaves {
        let (to, branch) = match leaf {
            Leaf::Dropped { drop, .. } => {
                complete &= !drop.unsupported;
                continue;
            }
            Leaf::Delivered { to, branch } => (to, branch),
        };
        // A reply to an unnamed address is delivered to it only in the
        // walk of its own flow (`Walker::accept`).
        let (parts, rest) = branch.orig.split_by_src(&virtual_addrs);
        let mut shares: Vec<(Option<Dest>, PacketSet)> = virtual_starts
            .iter()
            .zip(parts)
            .filter(|(_, part)| !part.is_empty())
            .map(|(&i, part)| (Some(starts[i].0), part))
            .collect();
        if !rest.is_empty() {
            shares.push((None, rest));
        }
        if members.overlap {
            let mut found = Vec::new();
            for (accept, part) in shares {
                let rb = reply_branch(&branch, part);
                let replies = vec![(Loc::Leave(to), rb)];
                complete &= reply_merged(
                    space,
                    owners,
                    starts,
                    &branch.marks,
                    accept,
                    replies,
                    &mut found,
                );
            }
            let ok = PacketSet::union_disjoint(found);
            if !ok.is_empty() {
                match reached.iter_mut().find(|(d, _)| *d == to) {
                    Some((_, r)) => *r = r.union(&ok),
                    None => reached.push((to, ok)),
                }
            }
            continue;
        }
        for (accept, part) in shares {
            let rb = (Loc::Leave(to), reply_branch(&branch, part));
            match batches
                .iter_mut()
                .find(|((m, a), _)| *a == accept && *m == branch.marks)
            {
                Some((_, b)) => b.push(rb),
                None => batches.push(((branch.marks.clone(), accept), vec![rb])),
            }
        }
    }
    for ((marks, accept), replies) in batches {
        complete &= reply_merged(
            space,
            owners,
            starts,
            &marks,
            accept,
            replies,
            &mut reached_any,
        );
    }
    let mut parts = Vec::new();
    let cut = |to: Option<&Sorted>, set: &PacketSet, parts: &mut Vec<Part>| {
        for b in set.boxes() {
            for (i, lo, hi) in owners.cut(b.src.0, b.src.1) {
                if let Some(from) = members.of(space, starts[i].0) {
                    attribute(members, &from, to, (lo, hi), &b, parts);
                }
            }
        }
    };
    for (to, set) in &reached {
        let to = members.of(space, *to);
        cut(to.as_deref(), set, &mut parts);
    }
    // Without overlapping subnets an address names one subnet whoever
    // received it, so these need no receiver.
    for set in &reached_any {
        cut(None, set, &mut parts);
    }
    (parts, complete)
}

/// What a reply walk may use: the forward marks, and the unnamed source it
/// may deliver to (`Walker::session`, `Walker::accept`).
type Session = (Vec<Mark>, Option<Dest>);

/// The reply walks of delivered branches, walked together: they share the
/// forward marks `session` and the unnamed source `accept` (see
/// `Walker::accept`). The packets whose reply comes back to their own
/// start, the exact reverse of the request, are added to `found`, as sets
/// disjoint from each other and from those already there. Returns
/// `false` when some reply took a path the engine does not model.
fn reply_merged(
    space: &Space,
    owners: &Owners,
    starts: &[(Dest, AddrRanges)],
    session: &[Mark],
    accept: Option<Dest>,
    replies: Vec<(Loc, Branch)>,
    found: &mut Vec<PacketSet>,
) -> bool {
    let w = Walker {
        space,
        session,
        accept,
        verdicts_only: space.verdicts_only,
        // The matrix reads whether a path is undecided.
        deliveries_only: false,
    };
    let mut leaves = Vec::new();
    w.walk_merged(replies, &mut leaves);
    let mut complete = true;
    for leaf in leaves {
        match leaf {
            Leaf::Dropped { drop, .. } => complete &= !drop.unsupported,
            Leaf::Delivered { to: back, branch } => {
                // Back at a start, from the address and port the source
                // sent to: a packet of that start has come home.
                let Some(&i) = owners.index.get(&back) else {
                    continue;
                };
                let home = came_back(&branch).with_src(&starts[i].1);
                if !home.is_empty() {
                    found.push(home);
                }
            }
        }
    }
    complete
}
