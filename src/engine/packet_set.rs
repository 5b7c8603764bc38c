//! Sets of packets and the operations that reachability is computed with.
//!
//! A packet is `(src, dst, proto, sport, dport)` with both addresses of one
//! family. A [`PacketSet`] holds packets of both families; it is stored as a
//! union of disjoint five-dimensional boxes per family (a range in every
//! field), merged where neighbours touch. `docs/packet-sets.md` says why this
//! representation was chosen over the alternatives, with measurements.
//!
//! Every operation returns a new set and leaves its operands alone, so sets
//! can be shared across threads. Equality (`==`) is set equality: two sets
//! built differently but holding the same packets are equal.
//!
//! Building blocks: [`AddrRanges`] (addresses of both families as sorted
//! ranges, with its own algebra and [`AddrRanges::lpm_partition`] for route
//! tables), [`AddrShift`] (static NAT of one block onto another) and
//! [`first_match`] (what each rule of an ordered rule list decides).

mod addr;
mod cube;
mod show;
#[cfg(test)]
mod tests;

pub use addr::{AddrRanges, AddrShift, Family};
pub use show::{ServiceRanges, Services};

use addr::{addr_bits, Iv};
use cube::{Cube, DIMS, DPORT, DST, PROTO, SPORT, SRC};
use rayon::prelude::*;
use std::net::IpAddr;

/// Protocol numbers with a name in summaries.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
}

/// The lowest ephemeral port: the witness prefers a client-like source port.
const EPHEMERAL_LO: u128 = 1024;

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

    /// The packet as a point of its family's space.
    fn point(&self) -> Option<(Family, [u128; DIMS])> {
        let fam = self.family()?;
        let mut p = [0u128; DIMS];
        p[DST] = addr_bits(self.dst).1;
        p[SRC] = addr_bits(self.src).1;
        p[PROTO] = u128::from(self.proto);
        p[SPORT] = u128::from(self.sport);
        p[DPORT] = u128::from(self.dport);
        Some((fam, p))
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
    fams: [Vec<Cube>; 2],
}

impl PacketSet {
    /// No packet.
    pub fn empty() -> PacketSet {
        PacketSet::default()
    }

    /// Every packet of both families.
    pub fn all() -> PacketSet {
        PacketSet {
            fams: Family::ALL.map(|f| vec![Cube::full(f)]),
        }
    }

    /// Every packet of one family.
    pub fn all_of(fam: Family) -> PacketSet {
        let mut s = PacketSet::empty();
        s.fams[fam.index()].push(Cube::full(fam));
        s
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
        let mut s = PacketSet::empty();
        if sport.0 > sport.1 || dport.0 > dport.1 {
            return s;
        }
        let (plo, phi) = proto.map_or((0, 255), |p| (p, p));
        for fam in Family::ALL {
            let out = &mut s.fams[fam.index()];
            for si in src.ivs(fam) {
                for di in dst.ivs(fam) {
                    let mut c = Cube::full(fam);
                    c.lo[SRC] = si.lo;
                    c.hi[SRC] = si.hi;
                    c.lo[DST] = di.lo;
                    c.hi[DST] = di.hi;
                    c.lo[PROTO] = u128::from(plo);
                    c.hi[PROTO] = u128::from(phi);
                    c.lo[SPORT] = u128::from(sport.0);
                    c.hi[SPORT] = u128::from(sport.1);
                    c.lo[DPORT] = u128::from(dport.0);
                    c.hi[DPORT] = u128::from(dport.1);
                    out.push(c);
                }
            }
            cube::coalesce(out);
        }
        s
    }

    /// The set holding one packet (empty if the packet mixes families).
    pub fn from_packet(p: &Packet) -> PacketSet {
        let mut s = PacketSet::empty();
        if let Some((fam, pt)) = p.point() {
            s.fams[fam.index()].push(Cube { lo: pt, hi: pt });
        }
        s
    }

    /// The union of many sets, cheaper than folding with [`union`]: the
    /// boxes are made disjoint once, larger boxes first.
    ///
    /// [`union`]: PacketSet::union
    pub fn union_all<'a, I: IntoIterator<Item = &'a PacketSet>>(sets: I) -> PacketSet {
        let mut s = PacketSet::empty();
        for set in sets {
            for i in 0..2 {
                s.fams[i].extend_from_slice(&set.fams[i]);
            }
        }
        s.fams = s.fams.map(cube::disjoint);
        s
    }

    pub fn is_empty(&self) -> bool {
        self.fams.iter().all(Vec::is_empty)
    }

    pub fn contains(&self, p: &Packet) -> bool {
        let Some((fam, pt)) = p.point() else {
            return false;
        };
        let c = Cube { lo: pt, hi: pt };
        self.fams[fam.index()].iter().any(|b| b.covers(&c))
    }

    /// The number of boxes stored: the size that operations' costs grow with.
    pub fn box_count(&self) -> usize {
        self.fams.iter().map(Vec::len).sum()
    }

    /// The disjoint boxes of the set, IPv4 first, in storage order.
    pub fn boxes(&self) -> impl Iterator<Item = PacketBox> + '_ {
        Family::ALL
            .into_iter()
            .flat_map(move |fam| self.fams[fam.index()].iter().map(move |c| box_view(fam, c)))
    }

    /// The packets of one family only.
    pub fn only(&self, fam: Family) -> PacketSet {
        let mut s = PacketSet::empty();
        s.fams[fam.index()] = self.fams[fam.index()].clone();
        s
    }

    pub fn union(&self, other: &PacketSet) -> PacketSet {
        self.zip(other, |a, b| {
            if a.is_empty() {
                return b.to_vec();
            }
            if b.is_empty() {
                return a.to_vec();
            }
            // Only the smaller operand is cut, so the result has at most its
            // pieces on top of the larger operand's boxes.
            let (big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
            let mut out = big.to_vec();
            out.extend(cube::difference(small, big));
            cube::coalesce(&mut out);
            out
        })
    }

    pub fn intersect(&self, other: &PacketSet) -> PacketSet {
        self.zip(other, |a, b| {
            let mut out = Vec::new();
            cube::overlap_pairs(a, b, |i, j| out.push(a[i].clip(&b[j])));
            cube::coalesce(&mut out);
            out
        })
    }

    pub fn difference(&self, other: &PacketSet) -> PacketSet {
        self.zip(other, |a, b| {
            let mut out = cube::difference(a, b);
            cube::coalesce(&mut out);
            out
        })
    }

    /// Whether every packet of `self` is in `other`.
    pub fn is_subset(&self, other: &PacketSet) -> bool {
        (0..2).all(|i| cube::is_subset(&self.fams[i], &other.fams[i]))
    }

    /// Whether the two sets hold the same packets; also what `==` does.
    pub fn set_eq(&self, other: &PacketSet) -> bool {
        (0..2).all(|i| {
            let (a, b) = (&self.fams[i], &other.fams[i]);
            a == b || (cube::is_subset(a, b) && cube::is_subset(b, a))
        })
    }

    fn zip(&self, other: &PacketSet, f: impl Fn(&[Cube], &[Cube]) -> Vec<Cube>) -> PacketSet {
        PacketSet {
            fams: [0, 1].map(|i| f(&self.fams[i], &other.fams[i])),
        }
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
        self.with_range(PROTO, Iv::new(u128::from(lo), u128::from(hi)))
    }

    /// The packets whose source port is in `lo..=hi`.
    pub fn with_sport(&self, lo: u16, hi: u16) -> PacketSet {
        self.with_range(SPORT, Iv::new(u128::from(lo), u128::from(hi)))
    }

    /// The packets whose destination port (ICMP type) is in `lo..=hi`.
    pub fn with_dport(&self, lo: u16, hi: u16) -> PacketSet {
        self.with_range(DPORT, Iv::new(u128::from(lo), u128::from(hi)))
    }

    fn with_range(&self, d: usize, iv: Iv) -> PacketSet {
        let mut s = PacketSet::empty();
        if iv.lo > iv.hi {
            return s;
        }
        for i in 0..2 {
            s.fams[i] = self.fams[i]
                .iter()
                .filter_map(|c| c.restrict(d, iv))
                .collect();
            cube::coalesce(&mut s.fams[i]);
        }
        s
    }

    fn with_addrs(&self, d: usize, addrs: &AddrRanges) -> PacketSet {
        let mut s = PacketSet::empty();
        for fam in Family::ALL {
            let ivs = addrs.ivs(fam);
            let out = &mut s.fams[fam.index()];
            for c in &self.fams[fam.index()] {
                // The ranges are sorted: start at the first that can reach
                // the box and stop at the first that starts past it.
                let start = ivs.partition_point(|iv| iv.hi < c.lo[d]);
                for iv in ivs[start..].iter().take_while(|iv| iv.lo <= c.hi[d]) {
                    out.extend(c.restrict(d, *iv));
                }
            }
            cube::coalesce(out);
        }
        s
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
        let mut r = AddrRanges::empty();
        for fam in Family::ALL {
            let ivs = self.fams[fam.index()].iter().map(|c| c.iv(d)).collect();
            r = r.union(&AddrRanges::from_ivs(fam, ivs));
        }
        r
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
        let mut s = self.clone();
        for fam in Family::ALL {
            if only.is_some_and(|f| f != fam) {
                continue;
            }
            let cubes = std::mem::take(&mut s.fams[fam.index()]);
            s.fams[fam.index()] = cube::disjoint(
                cubes
                    .into_iter()
                    .map(|mut c| {
                        c.lo[d] = v;
                        c.hi[d] = v;
                        c
                    })
                    .collect(),
            );
        }
        s
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
        let mut s = self.clone();
        let cubes = std::mem::take(&mut s.fams[fam.index()]);
        let mut out = Vec::with_capacity(cubes.len() + 2);
        let mut moved = false;
        for c in cubes {
            if c.hi[d] < from.lo || c.lo[d] > from.hi {
                out.push(c);
                continue;
            }
            if c.lo[d] < from.lo {
                out.extend(c.restrict(d, Iv::new(c.lo[d], from.lo - 1)));
            }
            if c.hi[d] > from.hi {
                out.extend(c.restrict(d, Iv::new(from.hi + 1, c.hi[d])));
            }
            let mut inside = c;
            inside.lo[d] = c.lo[d].max(from.lo) - from.lo + to_lo;
            inside.hi[d] = c.hi[d].min(from.hi) - from.lo + to_lo;
            out.push(inside);
            moved = true;
        }
        // The moved packets may land on packets that stayed put.
        s.fams[fam.index()] = if moved { cube::disjoint(out) } else { out };
        s
    }

    /// The replies: source and destination swapped, ports too.
    pub fn swap(&self) -> PacketSet {
        PacketSet {
            fams: self.fams.clone().map(|v| {
                v.into_iter()
                    .map(|mut c| {
                        c.lo.swap(SRC, DST);
                        c.hi.swap(SRC, DST);
                        c.lo.swap(SPORT, DPORT);
                        c.hi.swap(SPORT, DPORT);
                        c
                    })
                    .collect()
            }),
        }
    }

    /// One packet of the set, chosen to read well and to depend only on the
    /// set, not on how it was built: the lowest destination port, then the
    /// lowest protocol, IPv4 before IPv6, then the first host address of the
    /// first destination range and then of the first source range (skipping
    /// a network address like `10.0.0.0` of `10.0.0.0/24`), and a source
    /// port of 1024 or more when the set allows one, else the lowest.
    pub fn witness(&self) -> Option<Packet> {
        let lowest = |cs: &[(Family, &Cube)], d: usize| cs.iter().map(|(_, c)| c.lo[d]).min();
        let all: Vec<(Family, &Cube)> = Family::ALL
            .into_iter()
            .flat_map(|f| self.fams[f.index()].iter().map(move |c| (f, c)))
            .collect();
        let dport = lowest(&all, DPORT)?;
        let cs = pin(all, DPORT, dport);
        let proto = lowest(&cs, PROTO)?;
        let cs = pin(cs, PROTO, proto);
        let fam = cs.iter().map(|(f, _)| *f).min()?;
        let cs: Vec<(Family, &Cube)> = cs.into_iter().filter(|(f, _)| *f == fam).collect();
        let dst = first_host(&cs, DST)?;
        let cs = pin(cs, DST, dst);
        let src = first_host(&cs, SRC)?;
        let cs = pin(cs, SRC, src);
        let mut sports: Vec<Iv> = cs.iter().map(|(_, c)| c.iv(SPORT)).collect();
        addr::normalize_ivs(&mut sports);
        let sport = sports
            .iter()
            .find(|iv| iv.hi >= EPHEMERAL_LO)
            .map(|iv| iv.lo.max(EPHEMERAL_LO))
            .or_else(|| sports.first().map(|iv| iv.lo))?;
        Some(Packet {
            src: fam.addr(src),
            dst: fam.addr(dst),
            proto: u8::try_from(proto).ok()?,
            sport: u16::try_from(sport).ok()?,
            dport: u16::try_from(dport).ok()?,
        })
    }
}

/// The boxes that hold value `v` in dimension `d`.
fn pin(cs: Vec<(Family, &Cube)>, d: usize, v: u128) -> Vec<(Family, &Cube)> {
    cs.into_iter()
        .filter(|(_, c)| c.lo[d] <= v && v <= c.hi[d])
        .collect()
}

/// The first host address of the lowest range that the boxes cover in
/// dimension `d`: its first address, unless that is the network address of
/// an aligned block of four or more addresses inside the range (then the
/// next one). A `/31` or `/32` has no network address to skip (RFC 3021).
fn first_host(cs: &[(Family, &Cube)], d: usize) -> Option<u128> {
    let mut ivs: Vec<Iv> = cs.iter().map(|(_, c)| c.iv(d)).collect();
    addr::normalize_ivs(&mut ivs);
    let iv = ivs.first()?;
    let aligned = iv.lo == 0 || iv.lo.trailing_zeros() >= 2;
    Some(if aligned && iv.hi - iv.lo >= 3 {
        iv.lo + 1
    } else {
        iv.lo
    })
}

fn box_view(fam: Family, c: &Cube) -> PacketBox {
    let port = |d: usize| {
        (
            u16::try_from(c.lo[d]).unwrap_or(u16::MAX),
            u16::try_from(c.hi[d]).unwrap_or(u16::MAX),
        )
    };
    PacketBox {
        family: fam,
        src: (fam.addr(c.lo[SRC]), fam.addr(c.hi[SRC])),
        dst: (fam.addr(c.lo[DST]), fam.addr(c.hi[DST])),
        proto: (
            u8::try_from(c.lo[PROTO]).unwrap_or(u8::MAX),
            u8::try_from(c.hi[PROTO]).unwrap_or(u8::MAX),
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
/// square of their number. Rules are processed in parallel.
pub fn first_match(rules: &[PacketSet]) -> Vec<PacketSet> {
    let mut out = vec![PacketSet::empty(); rules.len()];
    for fam in Family::ALL {
        let fi = fam.index();
        let mut cubes = Vec::new();
        let mut group = Vec::new();
        for (r, set) in rules.iter().enumerate() {
            cubes.extend_from_slice(&set.fams[fi]);
            group.extend(std::iter::repeat_n(r, set.fams[fi].len()));
        }
        let earlier = cube::earlier_overlaps(&cubes, &group);
        let pieces: Vec<Vec<Cube>> = cubes
            .par_iter()
            .zip(earlier.par_iter())
            .with_min_len(64)
            .map(|(c, js)| {
                let clipped: Vec<Cube> = js.iter().map(|&j| cubes[j].clip(c)).collect();
                let mut o = Vec::new();
                cube::subtract_many(*c, clipped, &mut o);
                o
            })
            .collect();
        for (k, p) in pieces.into_iter().enumerate() {
            out[group[k]].fams[fi].extend(p);
        }
    }
    if std::env::var_os("SKIPCO").is_none() {
        out.par_iter_mut()
            .for_each(|s| s.fams.iter_mut().for_each(cube::coalesce));
    }
    out
}
