//! Sets of packets and the operations that reachability is computed with.
//!
//! A packet is `(src, dst, proto, sport, dport)` with both addresses of one
//! family. A [`PacketSet`] holds packets of both families; it is stored as a
//! union of disjoint five-dimensional boxes per family (a range in every
//! field), merged where neighbours touch. `docs/packet-sets.md` says why this
//! representation was chosen over the alternatives, with measurements, and
//! where it is weak.
//!
//! Every operation returns a new set and leaves its operands alone, so sets
//! can be shared across threads. Equality (`==`) is set equality: two sets
//! built differently but holding the same packets are equal.
//!
//! Building blocks: [`AddrRanges`] (addresses of both families as sorted
//! ranges, with its own algebra and [`AddrRanges::lpm_partition`] for route
//! tables), [`AddrShift`] (static NAT of one block onto another),
//! [`first_match`] (what each rule of an ordered rule list decides) and
//! [`PacketSet::split_first_match`] (the same for the packets at hand only,
//! which is what a reachability query needs and far cheaper on big lists).

mod addr;
mod coalesce;
mod cube;
mod overlap;
mod show;
#[cfg(test)]
mod tests;
mod witness;

pub(crate) use addr::addr_bits;
pub use addr::{AddrRanges, AddrShift, Family};
pub use show::{ServiceBox, ServiceRanges, Services};

use addr::Iv;
use cube::{Coord, Cube, DIMS, DPORT, DST, PROTO, SPORT, SRC};
use std::net::IpAddr;

/// Protocol numbers with a name in summaries.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
}

/// One packet. For ICMP (protocol 1 and 58) `dport` carries the ICMP type
/// and `sport` is 0 by convention; the algebra treats them as plain fields.
/// `src` and `dst` must be of one family: a packet mixing them is in no set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Packet {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
}

impl Packet {
    /// The packet's family, or `None` when its addresses mix families.
    pub fn family(&self) -> Option<Family> {
        let f = Family::of(self.src);
        (f == Family::of(self.dst)).then_some(f)
    }

    /// The packet with addresses and ports swapped: what a reply looks like.
    pub fn swapped(&self) -> Packet {
        Packet {
            src: self.dst,
            dst: self.src,
            proto: self.proto,
            sport: self.dport,
            dport: self.sport,
        }
    }

    /// The packet as a box of one point in its family's space.
    fn point<T: Coord>(&self) -> Option<Cube<T>> {
        if self.family()? != T::FAMILY {
            return None;
        }
        let mut p = [T::default(); DIMS];
        p[DST] = T::from_u128(addr_bits(self.dst).1);
        p[SRC] = T::from_u128(addr_bits(self.src).1);
        p[PROTO] = T::from_u128(u128::from(self.proto));
        p[SPORT] = T::from_u128(u128::from(self.sport));
        p[DPORT] = T::from_u128(u128::from(self.dport));
        Some(Cube { lo: p, hi: p })
    }
}

/// One box of a set, as plain data: every packet whose fields lie in all
/// five inclusive ranges. [`PacketSet::boxes`] lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PacketBox {
    pub family: Family,
    pub src: (IpAddr, IpAddr),
    pub dst: (IpAddr, IpAddr),
    pub proto: (u8, u8),
    pub sport: (u16, u16),
    pub dport: (u16, u16),
}

/// A set of packets of both families.
///
/// Each family's packets are stored as disjoint boxes; the operations keep
/// the boxes disjoint and merge boxes that touch. The cost of an operation
/// grows with the number of boxes of its operands, which
/// [`PacketSet::box_count`] reports.
#[derive(Clone, Default)]
pub struct PacketSet {
    v4: Vec<Cube<u32>>,
    v6: Vec<Cube<u128>>,
}

impl PacketSet {
    /// No packet.
    pub fn empty() -> PacketSet {
        PacketSet::default()
    }

    /// Every packet of both families.
    pub fn all() -> PacketSet {
        PacketSet {
            v4: vec![Cube::full()],
            v6: vec![Cube::full()],
        }
    }

    /// Every packet of one family.
    pub fn all_of(fam: Family) -> PacketSet {
        PacketSet::all().only(fam)
    }

    /// Packets from `src` to `dst` (pairs of one family only) with protocol
    /// `proto` (`None` for any) and ports in the inclusive ranges `sport`
    /// and `dport`; a range with `lo > hi` is empty. The set has one box per
    /// pair of a source range and a destination range of the same family.
    pub fn from_fields(
        src: &AddrRanges,
        dst: &AddrRanges,
        proto: Option<u8>,
        sport: (u16, u16),
        dport: (u16, u16),
    ) -> PacketSet {
        let protos = proto.map_or((0, u8::MAX), |p| (p, p));
        PacketSet::from_field_ranges(src, dst, protos, sport, dport)
    }

    /// [`from_fields`](PacketSet::from_fields) with an inclusive range of
    /// protocols, so that "every other protocol" is one product rather than
    /// every protocol minus four.
    pub fn from_field_ranges(
        src: &AddrRanges,
        dst: &AddrRanges,
        (plo, phi): (u8, u8),
        sport: (u16, u16),
        dport: (u16, u16),
    ) -> PacketSet {
        if sport.0 > sport.1 || dport.0 > dport.1 || plo > phi {
            return PacketSet::empty();
        }
        let small = [
            (PROTO, Iv::new(u128::from(plo), u128::from(phi))),
            (SPORT, Iv::new(u128::from(sport.0), u128::from(sport.1))),
            (DPORT, Iv::new(u128::from(dport.0), u128::from(dport.1))),
        ];
        PacketSet {
            v4: product(src.ivs(Family::V4), dst.ivs(Family::V4), &small),
            v6: product(src.ivs(Family::V6), dst.ivs(Family::V6), &small),
        }
    }

    /// The set holding one packet (empty if the packet mixes families).
    pub fn from_packet(p: &Packet) -> PacketSet {
        PacketSet {
            v4: p.point().into_iter().collect(),
            v6: p.point().into_iter().collect(),
        }
    }

    /// The union of many sets, cheaper than folding with [`union`]: the
    /// boxes are made disjoint once, larger boxes first.
    ///
    /// [`union`]: PacketSet::union
    pub fn union_all<'a, I: IntoIterator<Item = &'a PacketSet>>(sets: I) -> PacketSet {
        let mut s = PacketSet::empty();
        for set in sets {
            s.v4.extend_from_slice(&set.v4);
            s.v6.extend_from_slice(&set.v6);
        }
        PacketSet {
            v4: cube::disjoint(s.v4),
            v6: cube::disjoint(s.v6),
        }
    }

    /// The union of sets known to be pairwise disjoint and to have no two
    /// boxes that touch (a merge would join them): the boxes are
    /// concatenated and nothing else. The result is right whatever the
    /// sets; a pair that could have merged only costs a box.
    pub fn concat_merged(sets: Vec<PacketSet>) -> PacketSet {
        let mut s = PacketSet::empty();
        for set in sets {
            s.v4.extend(set.v4);
            s.v6.extend(set.v6);
        }
        s
    }

    /// The union of sets known to be pairwise disjoint (the regions of a
    /// first match, the shares of a split): the boxes are concatenated and
    /// merged where they touch, with no overlap search.
    pub fn union_disjoint(sets: Vec<PacketSet>) -> PacketSet {
        let mut s = PacketSet::empty();
        for set in sets {
            s.v4.extend(set.v4);
            s.v6.extend(set.v6);
        }
        cube::coalesce(&mut s.v4);
        cube::coalesce(&mut s.v6);
        s
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, p: &Packet) -> bool {
        fn hit<T: Coord>(boxes: &[Cube<T>], p: &Packet) -> bool {
            p.point()
                .is_some_and(|pt| boxes.iter().any(|b| b.covers(&pt)))
        }
        hit(&self.v4, p) || hit(&self.v6, p)
    }

    /// `self` split into `yes`, which the caller knows to be a subset of it,
    /// and the rest. Most tests along a path match nothing or everything,
    /// or whole boxes: all three skip the difference.
    pub fn split_off(&self, yes: PacketSet) -> (PacketSet, PacketSet) {
        if yes.is_empty() {
            return (yes, self.clone());
        }
        // A test that matched whole boxes left them in order (`intersect`,
        // `with_src`): the rest is the boxes it skipped, found in one pass.
        if let (Some(v4), Some(v6)) = (
            cube::rest_of_subsequence(&self.v4, &yes.v4),
            cube::rest_of_subsequence(&self.v6, &yes.v6),
        ) {
            return (yes, PacketSet { v4, v6 });
        }
        // Equal box counts usually mean the very same boxes, which a sort
        // shows at a fraction of an overlap search.
        fn whole<T: Coord>(a: &[Cube<T>], b: &[Cube<T>]) -> bool {
            cube::same_boxes(a, b) || cube::is_subset(a, b)
        }
        if yes.box_count() == self.box_count()
            && whole(&self.v4, &yes.v4)
            && whole(&self.v6, &yes.v6)
        {
            return (yes, PacketSet::empty());
        }
        let no = self.difference(&yes);
        (yes, no)
    }

    /// The number of boxes stored: the size that operations' costs grow with.
    pub fn box_count(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// The disjoint boxes of the set, IPv4 first, in storage order.
    pub fn boxes(&self) -> impl Iterator<Item = PacketBox> + '_ {
        self.v4
            .iter()
            .map(box_view)
            .chain(self.v6.iter().map(box_view))
    }

    /// The packets of one family only.
    pub fn only(&self, fam: Family) -> PacketSet {
        match fam {
            Family::V4 => PacketSet {
                v4: self.v4.clone(),
                v6: Vec::new(),
            },
            Family::V6 => PacketSet {
                v4: Vec::new(),
                v6: self.v6.clone(),
            },
        }
    }

    pub fn union(&self, other: &PacketSet) -> PacketSet {
        PacketSet {
            v4: cube::union(&self.v4, &other.v4),
            v6: cube::union(&self.v6, &other.v6),
        }
    }

    pub fn intersect(&self, other: &PacketSet) -> PacketSet {
        PacketSet {
            v4: cube::intersect(&self.v4, &other.v4),
            v6: cube::intersect(&self.v6, &other.v6),
        }
    }

    pub fn difference(&self, other: &PacketSet) -> PacketSet {
        fn diff<T: Coord>(a: &[Cube<T>], b: &[Cube<T>]) -> Vec<Cube<T>> {
            // Nothing to cut: the boxes are already disjoint and merged.
            if b.is_empty() {
                return a.to_vec();
            }
            let mut out = cube::difference(a, b);
            cube::coalesce(&mut out);
            out
        }
        PacketSet {
            v4: diff(&self.v4, &other.v4),
            v6: diff(&self.v6, &other.v6),
        }
    }

    /// Whether every packet of `self` is in `other`.
    pub fn is_subset(&self, other: &PacketSet) -> bool {
        cube::is_subset(&self.v4, &other.v4) && cube::is_subset(&self.v6, &other.v6)
    }

    /// Whether the two sets hold the same packets; also what `==` does.
    pub fn set_eq(&self, other: &PacketSet) -> bool {
        fn same<T: Coord>(a: &[Cube<T>], b: &[Cube<T>]) -> bool {
            a == b || (cube::is_subset(a, b) && cube::is_subset(b, a))
        }
        same(&self.v4, &other.v4) && same(&self.v6, &other.v6)
    }

    /// The packets whose source is in `addrs`.
    pub fn with_src(&self, addrs: &AddrRanges) -> PacketSet {
        self.with_addrs(SRC, addrs)
    }

    /// The packets whose destination is in `addrs`.
    pub fn with_dst(&self, addrs: &AddrRanges) -> PacketSet {
        self.with_addrs(DST, addrs)
    }

    /// The packets whose protocol is in `lo..=hi`.
    pub fn with_proto(&self, lo: u8, hi: u8) -> PacketSet {
        self.with_range(PROTO, u128::from(lo), u128::from(hi))
    }

    /// The packets whose source port is in `lo..=hi`.
    pub fn with_sport(&self, lo: u16, hi: u16) -> PacketSet {
        self.with_range(SPORT, u128::from(lo), u128::from(hi))
    }

    /// The packets whose destination port (ICMP type) is in `lo..=hi`.
    pub fn with_dport(&self, lo: u16, hi: u16) -> PacketSet {
        self.with_range(DPORT, u128::from(lo), u128::from(hi))
    }

    fn with_range(&self, d: usize, lo: u128, hi: u128) -> PacketSet {
        let ivs = if lo <= hi {
            vec![Iv::new(lo, hi)]
        } else {
            Vec::new()
        };
        PacketSet {
            v4: restrict(&self.v4, d, &ivs),
            v6: restrict(&self.v6, d, &ivs),
        }
    }

    fn with_addrs(&self, d: usize, addrs: &AddrRanges) -> PacketSet {
        PacketSet {
            v4: restrict(&self.v4, d, addrs.ivs(Family::V4)),
            v6: restrict(&self.v6, d, addrs.ivs(Family::V6)),
        }
    }

    /// Splits the set by destination into `parts`, the first part holding
    /// an address taking it, and the packets in none: what testing the
    /// parts one after the other gives, in one pass over the boxes instead
    /// of one pass (and one subtraction from an ever smaller rest) per part.
    pub fn split_by_dst(&self, parts: &[AddrRanges]) -> (Vec<PacketSet>, PacketSet) {
        self.split_by_addr(DST, parts)
    }

    /// [`PacketSet::split_by_dst`] by source: how a reply, whose
    /// destination is the original source, is split by destination.
    pub fn split_by_src(&self, parts: &[AddrRanges]) -> (Vec<PacketSet>, PacketSet) {
        self.split_by_addr(SRC, parts)
    }

    fn split_by_addr(&self, d: usize, parts: &[AddrRanges]) -> (Vec<PacketSet>, PacketSet) {
        fn ranges(parts: &[AddrRanges], fam: Family) -> Vec<(Iv, usize)> {
            // Parts that share no address (thousands of single public
            // addresses, say) need no cutting: their ranges sorted are the
            // answer.
            let all = part_ranges(parts, fam);
            if all.windows(2).all(|w| w[0].0.hi < w[1].0.lo) {
                return all;
            }
            // Earlier parts win: cut every range by the ranges of the parts
            // before it, then sort the pieces.
            let mut taken: Vec<Iv> = Vec::new();
            let mut out = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let ivs = p.ivs(fam);
                if taken.is_empty() {
                    out.extend(ivs.iter().map(|&iv| (iv, i)));
                } else {
                    let free = AddrRanges::from_ivs(fam, ivs.to_vec())
                        .difference(&AddrRanges::from_ivs(fam, taken.clone()));
                    out.extend(free.ivs(fam).iter().map(|&iv| (iv, i)));
                }
                taken.extend_from_slice(ivs);
                addr::normalize_ivs(&mut taken);
            }
            out.sort_unstable_by_key(|(iv, _)| iv.lo);
            out
        }
        let (o4, r4) = split_dim(&self.v4, d, &ranges(parts, Family::V4), parts.len());
        let (o6, r6) = split_dim(&self.v6, d, &ranges(parts, Family::V6), parts.len());
        let sets = o4
            .into_iter()
            .zip(o6)
            .map(|(v4, v6)| PacketSet { v4, v6 })
            .collect();
        (sets, PacketSet { v4: r4, v6: r6 })
    }

    /// The union of `sets`, split by source into `parts`, which must be
    /// pairwise disjoint (the addresses of the places packets start from):
    /// each box goes to the parts its sources meet, in one pass, and only
    /// the boxes of one part are made disjoint together. Unioning first
    /// would make every box disjoint from every other, and a
    /// [`PacketSet::with_src`] per part would scan every box once per part.
    pub fn union_split_by_src(sets: &[PacketSet], parts: &[AddrRanges]) -> Vec<PacketSet> {
        fn split<T: Coord>(
            sets: &[PacketSet],
            boxes: impl Fn(&PacketSet) -> &[Cube<T>],
            fam: Family,
            parts: &[AddrRanges],
        ) -> Vec<Vec<Cube<T>>> {
            let ranges = part_ranges(parts, fam);
            let mut out: Vec<Vec<Cube<T>>> = vec![Vec::new(); parts.len()];
            for c in sets.iter().flat_map(|s| boxes(s).iter()) {
                let (lo, hi) = (c.lo[SRC].to_u128(), c.hi[SRC].to_u128());
                let start = ranges.partition_point(|(iv, _)| iv.hi < lo);
                for (iv, i) in ranges[start..].iter().take_while(|(iv, _)| iv.lo <= hi) {
                    let (a, b) = (iv.lo.max(lo), iv.hi.min(hi));
                    out[*i].extend(c.restrict(SRC, T::from_u128(a), T::from_u128(b)));
                }
            }
            out
        }
        let v4 = split(sets, |s| &s.v4, Family::V4, parts);
        let v6 = split(sets, |s| &s.v6, Family::V6, parts);
        v4.into_iter()
            .zip(v6)
            .map(|(v4, v6)| PacketSet {
                v4: cube::disjoint(v4),
                v6: cube::disjoint(v6),
            })
            .collect()
    }

    /// The addresses that packets of the set come from.
    pub fn src_addrs(&self) -> AddrRanges {
        self.project_addrs(SRC)
    }

    /// The addresses that packets of the set go to.
    pub fn dst_addrs(&self) -> AddrRanges {
        self.project_addrs(DST)
    }

    fn project_addrs(&self, d: usize) -> AddrRanges {
        let v4 = self.v4.iter().map(|c| c.iv(d)).collect();
        let v6 = self.v6.iter().map(|c| c.iv(d)).collect();
        AddrRanges::from_ivs(Family::V4, v4).union(&AddrRanges::from_ivs(Family::V6, v6))
    }

    /// Every packet with its source set to `addr` (source NAT to one
    /// address, many to one). Packets of the other family pass unchanged: a
    /// translation of one family does not apply to the other.
    pub fn rewrite_src(&self, addr: IpAddr) -> PacketSet {
        let (fam, v) = addr_bits(addr);
        self.rewrite(Some(fam), SRC, v)
    }

    /// Every packet with its destination set to `addr` (destination NAT to
    /// one address). Packets of the other family pass unchanged.
    pub fn rewrite_dst(&self, addr: IpAddr) -> PacketSet {
        let (fam, v) = addr_bits(addr);
        self.rewrite(Some(fam), DST, v)
    }

    /// Every packet with its source port set to `port`.
    pub fn rewrite_sport(&self, port: u16) -> PacketSet {
        self.rewrite(None, SPORT, u128::from(port))
    }

    /// Every packet with its destination port set to `port` (port
    /// forwarding). ICMP packets too: restrict the set first if the
    /// translation applies to some protocols only.
    pub fn rewrite_dport(&self, port: u16) -> PacketSet {
        self.rewrite(None, DPORT, u128::from(port))
    }

    fn rewrite(&self, only: Option<Family>, d: usize, v: u128) -> PacketSet {
        let applies = |f: Family| only.is_none_or(|o| o == f);
        PacketSet {
            v4: if applies(Family::V4) {
                set_dim(&self.v4, d, v)
            } else {
                self.v4.clone()
            },
            v6: if applies(Family::V6) {
                set_dim(&self.v6, d, v)
            } else {
                self.v6.clone()
            },
        }
    }

    /// The set with sources translated by `shift` (static source NAT of a
    /// block); sources outside the shift's block are unchanged.
    pub fn map_src(&self, shift: &AddrShift) -> PacketSet {
        self.map(SRC, shift)
    }

    /// The set with destinations translated by `shift` (static destination
    /// NAT of a block); destinations outside its block are unchanged.
    pub fn map_dst(&self, shift: &AddrShift) -> PacketSet {
        self.map(DST, shift)
    }

    fn map(&self, d: usize, shift: &AddrShift) -> PacketSet {
        let (fam, from, to_lo) = shift.parts();
        match fam {
            Family::V4 => PacketSet {
                v4: shift_dim(&self.v4, d, from, to_lo),
                v6: self.v6.clone(),
            },
            Family::V6 => PacketSet {
                v4: self.v4.clone(),
                v6: shift_dim(&self.v6, d, from, to_lo),
            },
        }
    }

    /// The replies: source and destination swapped, ports too.
    pub fn swap(&self) -> PacketSet {
        PacketSet {
            v4: swap_dims(&self.v4),
            v6: swap_dims(&self.v6),
        }
    }

    /// One packet of the set, chosen to read well and to depend only on the
    /// set, not on how it was built: the lowest destination port, then the
    /// lowest protocol, IPv4 before IPv6, then a host address for the
    /// destination and then for the source, and the default client port
    /// ([`crate::model::services::DEFAULT_CLIENT_PORT`], 1024) as source
    /// port when the set allows it, else the lowest port above it, else the
    /// lowest. A host address is never one a subnet reserves, whatever
    /// subnet holds it (network, gateway, AWS's reserved and broadcast
    /// addresses), nor in 0.0.0.0/8, loopback or multicast when the set has
    /// other addresses: the lowest address at offset 6, 10 or 14 of its
    /// block of 16 (`10.0.0.6` of `10.0.0.0/24`), or an address the set
    /// holds alone; `witness.rs` explains the rule.
    pub fn witness(&self) -> Option<Packet> {
        // The best packet of each family, compared by (dport, proto) and
        // then family: no packet of the other family can beat it on the
        // later criteria once these differ.
        let w4 = witness::witness_in(&self.v4);
        let w6 = witness::witness_in(&self.v6);
        match (w4, w6) {
            (Some(a), Some(b)) => Some(if (b.dport, b.proto) < (a.dport, a.proto) {
                b
            } else {
                a
            }),
            (a, b) => a.or(b),
        }
    }

    /// Evaluates an ordered rule list on this set: which rule decides which
    /// of its packets under first-match semantics. Returns, in rule order,
    /// `(rule index, packets)` for every rule that decides some packet, and
    /// the packets that no rule matches. This is the cheap way to evaluate
    /// a large rule list for the traffic at hand: rules are first clipped
    /// to `self` (rules that miss it cost one bounding-box test), and only
    /// the clipped rules go through [`first_match`].
    pub fn split_first_match(&self, rules: &[PacketSet]) -> (Vec<(usize, PacketSet)>, PacketSet) {
        self.split_first_match_of(rules.iter().enumerate())
    }

    /// [`PacketSet::split_first_match`] over some rules of a list, each
    /// given with its index, in order.
    pub fn split_first_match_of<'a>(
        &self,
        rules: impl IntoIterator<Item = (usize, &'a PacketSet)>,
    ) -> (Vec<(usize, PacketSet)>, PacketSet) {
        let (b4, b6) = (bounds(&self.v4), bounds(&self.v6));
        let mut index = Vec::new();
        let mut clipped = Vec::new();
        for (i, rule) in rules {
            if !near(&rule.v4, &b4) && !near(&rule.v6, &b6) {
                continue;
            }
            let hit = self.intersect(rule);
            if !hit.is_empty() {
                index.push(i);
                clipped.push(hit);
            }
        }
        clipped.push(self.clone());
        let mut regions = first_match(&clipped);
        let rest = regions.pop().unwrap_or_default();
        let decided = index
            .into_iter()
            .zip(regions)
            .filter(|(_, r)| !r.is_empty())
            .collect();
        (decided, rest)
    }
}

impl PacketSet {
    /// The boxes of `self` that overlap the bounding box of `of` (per
    /// family): `of` intersects them exactly as it intersects `self`, and
    /// a scan over a large set costs less than the sort an intersection
    /// starts with. For a large set shared by many small ones (what a
    /// firewall admits, [`crate::engine::space::Space::firewall_admits`]).
    pub fn near_bounds_of(&self, of: &PacketSet) -> PacketSet {
        fn keep<T: Coord>(boxes: &[Cube<T>], b: &Option<Cube<T>>) -> Vec<Cube<T>> {
            match b {
                Some(b) => boxes.iter().filter(|c| c.overlaps(b)).copied().collect(),
                None => Vec::new(),
            }
        }
        PacketSet {
            v4: keep(&self.v4, &bounds(&of.v4)),
            v6: keep(&self.v6, &bounds(&of.v6)),
        }
    }
}

/// Whether some box of the list overlaps the bounding box `b`.
fn near<T: Coord>(boxes: &[Cube<T>], b: &Option<Cube<T>>) -> bool {
    b.as_ref()
        .is_some_and(|b| boxes.iter().any(|c| c.overlaps(b)))
}

/// The smallest box holding every box of the list.
fn bounds<T: Coord>(boxes: &[Cube<T>]) -> Option<Cube<T>> {
    let (first, rest) = boxes.split_first()?;
    let mut b = *first;
    for c in rest {
        for d in 0..DIMS {
            b.lo[d] = b.lo[d].min(c.lo[d]);
            b.hi[d] = b.hi[d].max(c.hi[d]);
        }
    }
    Some(b)
}

/// Boxes for every pair of a source and a destination range, with the
/// other dimensions fixed.
fn product<T: Coord>(src: &[Iv], dst: &[Iv], small: &[(usize, Iv)]) -> Vec<Cube<T>> {
    let mut out = Vec::with_capacity(src.len().saturating_mul(dst.len()));
    for s in src {
        for d in dst {
            let mut c = Cube::full();
            c.set(SRC, *s);
            c.set(DST, *d);
            for (dim, iv) in small {
                c.set(*dim, *iv);
            }
            out.push(c);
        }
    }
    // No two boxes touch, so there is nothing to merge: two that agree in
    // every field but one differ in a source or a destination range, and
    // the ranges of an `AddrRanges` never meet end to end.
    out
}

/// Every range of `parts` of one family with the index of its part, sorted
/// by first address.
fn part_ranges(parts: &[AddrRanges], fam: Family) -> Vec<(Iv, usize)> {
    let mut all: Vec<(Iv, usize)> = parts
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.ivs(fam).iter().map(move |&iv| (iv, i)))
        .collect();
    all.sort_unstable_by_key(|(iv, _)| iv.lo);
    all
}

/// The boxes restricted to sorted disjoint ranges in one dimension.
/// One family's share of [`PacketSet::split_by_dst`]: `ranges` are sorted,
/// disjoint `(range, part)` pairs.
fn split_dim<T: Coord>(
    boxes: &[Cube<T>],
    d: usize,
    ranges: &[(Iv, usize)],
    parts: usize,
) -> (Vec<Vec<Cube<T>>>, Vec<Cube<T>>) {
    let mut out: Vec<Vec<Cube<T>>> = vec![Vec::new(); parts];
    let mut rest = Vec::new();
    // Whether each part (the last: the rest) holds only boxes kept whole:
    // then it is some of the boxes, in order, merged already (as in
    // `restrict`), and needs no merging.
    let mut whole = vec![true; parts + 1];
    for c in boxes {
        let (lo, hi) = (c.lo[d].to_u128(), c.hi[d].to_u128());
        let start = ranges.partition_point(|(iv, _)| iv.hi < lo);
        // The part of [lo, hi] not yet given to a range.
        let mut at = lo;
        let mut done = false;
        for (iv, i) in ranges[start..].iter().take_while(|(iv, _)| iv.lo <= hi) {
            if iv.lo > at {
                rest.extend(c.restrict(d, T::from_u128(at), T::from_u128(iv.lo - 1)));
                whole[parts] = false;
            }
            let (a, b) = (iv.lo.max(at), iv.hi.min(hi));
            whole[*i] &= a == lo && b == hi;
            out[*i].extend(c.restrict(d, T::from_u128(a), T::from_u128(b)));
            if b >= hi {
                done = true;
                break;
            }
            at = b + 1;
        }
        if !done {
            whole[parts] &= at == lo;
            rest.extend(c.restrict(d, T::from_u128(at), T::from_u128(hi)));
        }
    }
    for (v, whole) in out.iter_mut().zip(&whole) {
        if !whole {
            cube::coalesce(v);
        }
    }
    if !whole[parts] {
        cube::coalesce(&mut rest);
    }
    (out, rest)
}

fn restrict<T: Coord>(boxes: &[Cube<T>], d: usize, ivs: &[Iv]) -> Vec<Cube<T>> {
    let mut out = Vec::new();
    // Whether every box kept is kept whole: then `out` is some of the
    // boxes, in order, which are disjoint and merged already.
    let mut whole = true;
    for c in boxes {
        // The ranges are sorted: start at the first that can reach the box
        // and stop at the first that starts past it.
        let (lo, hi) = (c.lo[d].to_u128(), c.hi[d].to_u128());
        let start = ivs.partition_point(|iv| iv.hi < lo);
        for iv in ivs[start..].iter().take_while(|iv| iv.lo <= hi) {
            whole &= iv.lo <= lo && hi <= iv.hi;
            out.extend(c.restrict(d, T::from_u128(iv.lo), T::from_u128(iv.hi)));
        }
    }
    if !whole {
        cube::coalesce(&mut out);
    }
    out
}

/// The boxes with dimension `d` set to `v`: they may overlap now.
fn set_dim<T: Coord>(boxes: &[Cube<T>], d: usize, v: u128) -> Vec<Cube<T>> {
    let v = T::from_u128(v);
    let moved = boxes
        .iter()
        .map(|c| {
            let mut c = *c;
            c.lo[d] = v;
            c.hi[d] = v;
            c
        })
        .collect();
    cube::disjoint(moved)
}

/// The boxes with the values `from` of dimension `d` moved to start at
/// `to_lo`, others unchanged.
fn shift_dim<T: Coord>(boxes: &[Cube<T>], d: usize, from: Iv, to_lo: u128) -> Vec<Cube<T>> {
    let (flo, fhi) = (T::from_u128(from.lo), T::from_u128(from.hi));
    let mut out = Vec::with_capacity(boxes.len() + 2);
    let mut moved = false;
    for c in boxes {
        if c.hi[d] < flo || c.lo[d] > fhi {
            out.push(*c);
            continue;
        }
        if c.lo[d] < flo {
            out.extend(c.restrict(d, c.lo[d], flo.dec()));
        }
        if c.hi[d] > fhi {
            out.extend(c.restrict(d, fhi.inc(), c.hi[d]));
        }
        let mut inside = *c;
        let lo = c.lo[d].max(flo).to_u128() - from.lo + to_lo;
        let hi = c.hi[d].min(fhi).to_u128() - from.lo + to_lo;
        inside.set(d, Iv::new(lo, hi));
        out.push(inside);
        moved = true;
    }
    // The moved packets may land on packets that stayed put.
    if moved {
        cube::disjoint(out)
    } else {
        out
    }
}

fn swap_dims<T: Coord>(boxes: &[Cube<T>]) -> Vec<Cube<T>> {
    boxes
        .iter()
        .map(|c| {
            let mut c = *c;
            c.lo.swap(SRC, DST);
            c.hi.swap(SRC, DST);
            c.lo.swap(SPORT, DPORT);
            c.hi.swap(SPORT, DPORT);
            c
        })
        .collect()
}

fn box_view<T: Coord>(c: &Cube<T>) -> PacketBox {
    let small = |d: usize| (c.lo[d].to_u128(), c.hi[d].to_u128());
    let port = |d: usize| {
        let (lo, hi) = small(d);
        (
            u16::try_from(lo).unwrap_or(u16::MAX),
            u16::try_from(hi).unwrap_or(u16::MAX),
        )
    };
    let (plo, phi) = small(PROTO);
    PacketBox {
        family: T::FAMILY,
        src: (c.lo[SRC].addr(), c.hi[SRC].addr()),
        dst: (c.lo[DST].addr(), c.hi[DST].addr()),
        proto: (
            u8::try_from(plo).unwrap_or(u8::MAX),
            u8::try_from(phi).unwrap_or(u8::MAX),
        ),
        sport: port(SPORT),
        dport: port(DPORT),
    }
}

impl PartialEq for PacketSet {
    fn eq(&self, other: &PacketSet) -> bool {
        self.set_eq(other)
    }
}

impl Eq for PacketSet {}

/// What each rule of an ordered rule list decides under first-match
/// semantics: entry `i` holds the packets that `rules[i]` matches and no
/// earlier rule does. Append [`PacketSet::all`] as a last rule to get the
/// packets that fall through to the default action.
///
/// Each box of a rule is cut only by the boxes of earlier rules that overlap
/// it (found by one sweep over destinations), not by the union of every
/// earlier rule, so the cost follows how much rules overlap rather than the
/// square of their number. Rules are processed in parallel. To evaluate a
/// rule list for one set of packets only, [`PacketSet::split_first_match`]
/// is much cheaper.
pub fn first_match(rules: &[PacketSet]) -> Vec<PacketSet> {
    let v4: Vec<&[Cube<u32>]> = rules.iter().map(|r| r.v4.as_slice()).collect();
    let v6: Vec<&[Cube<u128>]> = rules.iter().map(|r| r.v6.as_slice()).collect();
    let (v4, v6) = rayon::join(|| cube::first_match(&v4), || cube::first_match(&v6));
    v4.into_iter()
        .zip(v6)
        .map(|(v4, v6)| PacketSet { v4, v6 })
        .collect()
}

/// For every rule, whether [`first_match`] would give it a non-empty
/// region, at a fraction of the cost when regions are large: what a
/// shadowing check needs.
pub fn first_match_nonempty(rules: &[PacketSet]) -> Vec<bool> {
    let v4: Vec<&[Cube<u32>]> = rules.iter().map(|r| r.v4.as_slice()).collect();
    let v6: Vec<&[Cube<u128>]> = rules.iter().map(|r| r.v6.as_slice()).collect();
    let (v4, v6) = rayon::join(
        || cube::first_match_nonempty(&v4),
        || cube::first_match_nonempty(&v6),
    );
    v4.into_iter().zip(v6).map(|(a, b)| a || b).collect()
}
