//! Address families, address ranges and prefix-to-prefix translations.
//!
//! Both families are handled as `u128` numbers internally so that one code
//! path serves IPv4 and IPv6; an IPv4 value never exceeds `u32::MAX`.

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address family. The two families are disjoint spaces: no IPv4 packet is
/// an IPv6 packet, even for IPv4-mapped addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// Both families, in the order sets store and print them.
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    /// The family of an address.
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Family::V4 => 0,
            Family::V6 => 1,
        }
    }

    /// The highest address of the family as a number.
    pub(crate) fn max(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }

    /// The number of bits in an address of the family.
    pub(crate) fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// The address with the given number. Values come from sets of this
    /// family, which never hold an IPv4 number above `u32::MAX`; the
    /// saturation only keeps a broken invariant from panicking.
    pub(crate) fn addr(self, v: u128) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(u32::try_from(v).unwrap_or(u32::MAX))),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(v)),
        }
    }
}

/// An address as its family and number.
pub(crate) fn addr_bits(addr: IpAddr) -> (Family, u128) {
    match addr {
        IpAddr::V4(a) => (Family::V4, u128::from(u32::from(a))),
        IpAddr::V6(a) => (Family::V6, u128::from(a)),
    }
}

/// The first and last address of a prefix, as numbers. Host bits set in the
/// prefix (`10.0.0.5/24`) are ignored, as routers ignore them.
pub(crate) fn net_bits(net: IpNet) -> (Family, Iv) {
    let (fam, lo) = addr_bits(net.network());
    let (_, hi) = addr_bits(net.broadcast());
    (fam, Iv { lo, hi })
}

/// An inclusive interval of numbers, `lo <= hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Iv {
    pub lo: u128,
    pub hi: u128,
}

impl Iv {
    pub(crate) fn new(lo: u128, hi: u128) -> Iv {
        Iv { lo, hi }
    }
}

/// Sorts intervals and merges the overlapping and adjacent ones, which gives
/// the one canonical list for a set of numbers.
pub(crate) fn normalize_ivs(v: &mut Vec<Iv>) {
    v.sort_unstable();
    let mut out: Vec<Iv> = Vec::with_capacity(v.len());
    for iv in v.drain(..) {
        match out.last_mut() {
            // `saturating_add` is right at the top of the space: a last
            // interval ending at `u128::MAX` already covers whatever follows.
            Some(last) if iv.lo <= last.hi.saturating_add(1) => last.hi = last.hi.max(iv.hi),
            _ => out.push(iv),
        }
    }
    *v = out;
}

fn union_ivs(a: &[Iv], b: &[Iv]) -> Vec<Iv> {
    let mut v: Vec<Iv> = a.iter().chain(b).copied().collect();
    normalize_ivs(&mut v);
    v
}

pub(crate) fn intersect_ivs(a: &[Iv], b: &[Iv]) -> Vec<Iv> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        let lo = x.lo.max(y.lo);
        let hi = x.hi.min(y.hi);
        if lo <= hi {
            out.push(Iv { lo, hi });
        }
        if x.hi < y.hi {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn difference_ivs(a: &[Iv], b: &[Iv]) -> Vec<Iv> {
    let mut out = Vec::new();
    let mut j = 0;
    for x in a {
        let mut lo = x.lo;
        let mut done = false;
        // Intervals of `b` that end before this one are of no use to it or to
        // any later one, since both lists are sorted and disjoint.
        while b.get(j).is_some_and(|y| y.hi < lo) {
            j += 1;
        }
        let mut k = j;
        while let Some(y) = b.get(k) {
            if y.lo > x.hi {
                break;
            }
            if y.lo > lo {
                out.push(Iv { lo, hi: y.lo - 1 });
            }
            if y.hi >= x.hi {
                done = true;
                break;
            }
            lo = y.hi + 1;
            k += 1;
        }
        if !done {
            out.push(Iv { lo, hi: x.hi });
        }
    }
    out
}

/// Whether a number lies in a sorted list of disjoint intervals.
pub(crate) fn ivs_contain(v: &[Iv], x: u128) -> bool {
    let i = v.partition_point(|iv| iv.hi < x);
    v.get(i).is_some_and(|iv| iv.lo <= x)
}

/// A set of addresses of both families: sorted, disjoint, non-adjacent
/// inclusive ranges per family. The representation is canonical, so `==` is
/// set equality.
///
/// Build one from prefixes with [`AddrRanges::from_nets`] (one sort for the
/// lot) rather than by repeated `union`, which copies the list each time.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct AddrRanges {
    fams: [Vec<Iv>; 2],
}

impl AddrRanges {
    /// No address.
    pub fn empty() -> AddrRanges {
        AddrRanges::default()
    }

    /// Every address of both families.
    pub fn all() -> AddrRanges {
        AddrRanges {
            fams: Family::ALL.map(|f| vec![Iv::new(0, f.max())]),
        }
    }

    /// Every address of one family.
    pub fn all_of(fam: Family) -> AddrRanges {
        let mut r = AddrRanges::empty();
        r.fams[fam.index()].push(Iv::new(0, fam.max()));
        r
    }

    /// One address.
    pub fn from_addr(addr: IpAddr) -> AddrRanges {
        let (fam, v) = addr_bits(addr);
        AddrRanges::from_iv(fam, Iv::new(v, v))
    }

    /// The addresses of a prefix, network and broadcast addresses included.
    pub fn from_net(net: IpNet) -> AddrRanges {
        let (fam, iv) = net_bits(net);
        AddrRanges::from_iv(fam, iv)
    }

    /// The addresses from `lo` to `hi` inclusive, or `None` when the two are
    /// of different families or `lo > hi`.
    pub fn from_range(lo: IpAddr, hi: IpAddr) -> Option<AddrRanges> {
        let (f1, lo) = addr_bits(lo);
        let (f2, hi) = addr_bits(hi);
        (f1 == f2 && lo <= hi).then(|| AddrRanges::from_iv(f1, Iv::new(lo, hi)))
    }

    /// The union of many prefixes, in one sort.
    pub fn from_nets<I: IntoIterator<Item = IpNet>>(nets: I) -> AddrRanges {
        let mut r = AddrRanges::empty();
        for net in nets {
            let (fam, iv) = net_bits(net);
            r.fams[fam.index()].push(iv);
        }
        r.fams.iter_mut().for_each(normalize_ivs);
        r
    }

    /// The union of many sets, in one sort: folding with [`union`] copies
    /// the growing result once per set, quadratic in an address list.
    ///
    /// [`union`]: AddrRanges::union
    pub fn union_many<I: IntoIterator<Item = AddrRanges>>(sets: I) -> AddrRanges {
        let mut r = AddrRanges::empty();
        for set in sets {
            for (all, more) in r.fams.iter_mut().zip(set.fams) {
                all.extend(more);
            }
        }
        r.fams.iter_mut().for_each(normalize_ivs);
        r
    }

    pub(crate) fn from_iv(fam: Family, iv: Iv) -> AddrRanges {
        let mut r = AddrRanges::empty();
        r.fams[fam.index()].push(iv);
        r
    }

    /// Takes intervals in any order, possibly overlapping.
    pub(crate) fn from_ivs(fam: Family, mut ivs: Vec<Iv>) -> AddrRanges {
        normalize_ivs(&mut ivs);
        let mut r = AddrRanges::empty();
        r.fams[fam.index()] = ivs;
        r
    }

    /// The canonical intervals of one family.
    pub(crate) fn ivs(&self, fam: Family) -> &[Iv] {
        &self.fams[fam.index()]
    }

    pub fn is_empty(&self) -> bool {
        self.fams.iter().all(Vec::is_empty)
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let (fam, v) = addr_bits(addr);
        ivs_contain(self.ivs(fam), v)
    }

    /// The addresses of one family only.
    pub fn only(&self, fam: Family) -> AddrRanges {
        let mut r = AddrRanges::empty();
        r.fams[fam.index()] = self.fams[fam.index()].clone();
        r
    }

    pub fn union(&self, other: &AddrRanges) -> AddrRanges {
        self.zip(other, union_ivs)
    }

    pub fn intersect(&self, other: &AddrRanges) -> AddrRanges {
        self.zip(other, intersect_ivs)
    }

    pub fn difference(&self, other: &AddrRanges) -> AddrRanges {
        self.zip(other, difference_ivs)
    }

    /// Every address of both families that is not in the set.
    pub fn complement(&self) -> AddrRanges {
        AddrRanges::all().difference(self)
    }

    pub fn is_subset(&self, other: &AddrRanges) -> bool {
        self.difference(other).is_empty()
    }

    fn zip(&self, other: &AddrRanges, f: impl Fn(&[Iv], &[Iv]) -> Vec<Iv>) -> AddrRanges {
        AddrRanges {
            fams: [0, 1].map(|i| f(&self.fams[i], &other.fams[i])),
        }
    }

    /// The ranges as `(first, last)` address pairs, IPv4 first, ascending.
    pub fn ranges(&self) -> impl Iterator<Item = (IpAddr, IpAddr)> + '_ {
        Family::ALL.into_iter().flat_map(move |fam| {
            self.ivs(fam)
                .iter()
                .map(move |iv| (fam.addr(iv.lo), fam.addr(iv.hi)))
        })
    }

    /// The fewest prefixes whose union is the set, ascending.
    pub fn to_nets(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        for fam in Family::ALL {
            for iv in self.ivs(fam) {
                split_into_prefixes(fam, *iv, &mut out);
            }
        }
        out
    }

    /// The longest-prefix-match partition of a route table's destinations:
    /// entry `i` of the result holds the addresses for which `prefixes[i]` is
    /// the longest matching prefix. Equal prefixes (after clearing host bits)
    /// all receive the same addresses: breaking such ties is the caller's
    /// business. Runs in `O(n log n)`: prefixes nest or are disjoint, so one
    /// sorted sweep with a stack finds each prefix's direct sub-prefixes.
    pub fn lpm_partition(prefixes: &[IpNet]) -> Vec<AddrRanges> {
        // Sorting by first address, then widest first, lists every prefix
        // right after the prefixes that contain it (a depth-first order of
        // the containment tree).
        let mut order: Vec<(Family, Iv, usize)> = prefixes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let (fam, iv) = net_bits(*n);
                (fam, iv, i)
            })
            .collect();
        order.sort_unstable_by(|a, b| (a.0, a.1.lo, b.1.hi, a.2).cmp(&(b.0, b.1.lo, a.1.hi, b.2)));
        // One node per distinct prefix; `children` holds the ranges of its
        // direct sub-prefixes, which are sorted and disjoint by construction.
        let mut nodes: Vec<(Family, Iv, Vec<Iv>)> = Vec::new();
        let mut node_of = vec![0usize; prefixes.len()];
        let mut stack: Vec<usize> = Vec::new();
        for (fam, iv, i) in order {
            if let Some(&last) = stack.last() {
                if nodes[last].0 == fam && nodes[last].1 == iv {
                    node_of[i] = last;
                    continue;
                }
            }
            while let Some(&top) = stack.last() {
                let (tf, tiv, _) = &nodes[top];
                if *tf == fam && tiv.lo <= iv.lo && iv.hi <= tiv.hi {
                    break;
                }
                stack.pop();
            }
            if let Some(&parent) = stack.last() {
                nodes[parent].2.push(iv);
            }
            nodes.push((fam, iv, Vec::new()));
            node_of[i] = nodes.len() - 1;
            stack.push(nodes.len() - 1);
        }
        let regions: Vec<AddrRanges> = nodes
            .iter()
            .map(|(fam, iv, children)| {
                let mut r = AddrRanges::empty();
                r.fams[fam.index()] = difference_ivs(&[*iv], children);
                r
            })
            .collect();
        node_of.iter().map(|&n| regions[n].clone()).collect()
    }
}

/// Appends the fewest prefixes covering exactly `iv`.
fn split_into_prefixes(fam: Family, iv: Iv, out: &mut Vec<IpNet>) {
    let bits = fam.bits();
    let mut lo = iv.lo;
    loop {
        // The largest aligned block starting at `lo` that stays within `hi`.
        let align = if lo == 0 {
            bits
        } else {
            lo.trailing_zeros().min(bits)
        };
        let mut size_log = align;
        while size_log > 0 {
            let last = if size_log >= 128 {
                u128::MAX
            } else {
                lo + ((1u128 << size_log) - 1)
            };
            if last <= iv.hi {
                break;
            }
            size_log -= 1;
        }
        let len = u8::try_from(bits - size_log).unwrap_or(0);
        if let Ok(net) = IpNet::new(fam.addr(lo), len) {
            out.push(net);
        }
        let last = if size_log >= 128 {
            u128::MAX
        } else {
            lo + ((1u128 << size_log) - 1)
        };
        if last >= iv.hi {
            break;
        }
        lo = last + 1;
    }
}

/// Formats a range of one family as an address, a prefix or `first-last`.
pub(crate) fn fmt_iv(f: &mut fmt::Formatter<'_>, fam: Family, iv: Iv) -> fmt::Result {
    if iv.lo == iv.hi {
        return write!(f, "{}", fam.addr(iv.lo));
    }
    let mut nets = Vec::new();
    split_into_prefixes(fam, iv, &mut nets);
    match nets.as_slice() {
        [net] => write!(f, "{net}"),
        _ => write!(f, "{}-{}", fam.addr(iv.lo), fam.addr(iv.hi)),
    }
}

impl fmt::Display for AddrRanges {
    /// Comma-separated ranges; `none` for the empty set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for fam in Family::ALL {
            for iv in self.ivs(fam) {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                fmt_iv(f, fam, *iv)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for AddrRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddrRanges({self})")
    }
}

impl From<IpNet> for AddrRanges {
    fn from(net: IpNet) -> AddrRanges {
        AddrRanges::from_net(net)
    }
}

impl From<IpAddr> for AddrRanges {
    fn from(addr: IpAddr) -> AddrRanges {
        AddrRanges::from_addr(addr)
    }
}

impl FromIterator<IpNet> for AddrRanges {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> AddrRanges {
        AddrRanges::from_nets(iter)
    }
}

/// A one-to-one translation of a block of addresses onto another block of
/// the same size and family, keeping each address's offset in the block:
/// static NAT of `10.0.0.0/24` to `52.0.0.0/24` maps `10.0.0.7` to
/// `52.0.0.7`. Addresses outside the block are left alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrShift {
    fam: Family,
    from: Iv,
    to_lo: u128,
}

impl AddrShift {
    /// Maps `from_lo..=from_hi` onto the block starting at `to_lo`. `None`
    /// when the families differ, `from_lo > from_hi`, or the target block
    /// would run past the family's last address.
    pub fn new(from_lo: IpAddr, from_hi: IpAddr, to_lo: IpAddr) -> Option<AddrShift> {
        let (f1, lo) = addr_bits(from_lo);
        let (f2, hi) = addr_bits(from_hi);
        let (f3, to) = addr_bits(to_lo);
        if f1 != f2 || f1 != f3 || lo > hi {
            return None;
        }
        let to_hi = to.checked_add(hi - lo)?;
        (to_hi <= f1.max()).then_some(AddrShift {
            fam: f1,
            from: Iv::new(lo, hi),
            to_lo: to,
        })
    }

    /// Maps one prefix onto another of the same length and family.
    pub fn between_nets(from: IpNet, to: IpNet) -> Option<AddrShift> {
        if from.prefix_len() != to.prefix_len() {
            return None;
        }
        AddrShift::new(from.network(), from.broadcast(), to.network())
    }

    /// The translation back, for replies.
    pub fn inverse(&self) -> AddrShift {
        AddrShift {
            fam: self.fam,
            from: Iv::new(self.to_lo, self.to_lo + (self.from.hi - self.from.lo)),
            to_lo: self.from.lo,
        }
    }

    pub fn family(&self) -> Family {
        self.fam
    }

    /// The block translated, as `(first, last)`.
    pub fn source_block(&self) -> (IpAddr, IpAddr) {
        (self.fam.addr(self.from.lo), self.fam.addr(self.from.hi))
    }

    /// The block it is translated onto, as `(first, last)`.
    pub fn target_block(&self) -> (IpAddr, IpAddr) {
        let inv = self.inverse();
        inv.source_block()
    }

    /// The image of one address.
    pub fn apply(&self, addr: IpAddr) -> IpAddr {
        let (fam, v) = addr_bits(addr);
        if fam == self.fam && self.from.lo <= v && v <= self.from.hi {
            fam.addr(v - self.from.lo + self.to_lo)
        } else {
            addr
        }
    }

    pub(crate) fn parts(&self) -> (Family, Iv, u128) {
        (self.fam, self.from, self.to_lo)
    }
}
