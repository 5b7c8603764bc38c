//! Five-dimensional boxes of packets of one family, and the algorithms on
//! lists of them that the set operations are made of.
//!
//! A box stores every dimension as an inclusive `u128` interval so that one
//! generic loop serves addresses, the protocol and ports alike.

use super::addr::{Family, Iv};
use std::cmp::Ordering;

/// Dimension indices. The destination comes first because it is the most
/// selective field in real rule sets, so overlap tests usually fail on it.
pub(crate) const DST: usize = 0;
pub(crate) const SRC: usize = 1;
pub(crate) const DPORT: usize = 2;
pub(crate) const PROTO: usize = 3;
pub(crate) const SPORT: usize = 4;
pub(crate) const DIMS: usize = 5;

/// The order in which `subtract_one` cuts a box. Services come first: the
/// pieces cut first span whole address ranges, so the remainder of a rule
/// set is sliced per service and then per address, which is how rule sets
/// are written and keeps neighbouring remainders mergeable.
const CUT_ORDER: [usize; DIMS] = [PROTO, DPORT, SPORT, SRC, DST];

/// The largest value of a dimension in a family.
pub(crate) fn dim_max(fam: Family, d: usize) -> u128 {
    match d {
        DST | SRC => fam.max(),
        PROTO => u128::from(u8::MAX),
        _ => u128::from(u16::MAX),
    }
}

/// A non-empty box: `lo[d] <= hi[d]` in every dimension.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Cube {
    pub lo: [u128; DIMS],
    pub hi: [u128; DIMS],
}

impl Cube {
    pub(crate) fn full(fam: Family) -> Cube {
        Cube {
            lo: [0; DIMS],
            hi: [0, 1, 2, 3, 4].map(|d| dim_max(fam, d)),
        }
    }

    pub(crate) fn iv(&self, d: usize) -> Iv {
        Iv::new(self.lo[d], self.hi[d])
    }

    #[inline]
    pub(crate) fn overlaps(&self, o: &Cube) -> bool {
        (0..DIMS).all(|d| self.lo[d] <= o.hi[d] && o.lo[d] <= self.hi[d])
    }

    /// Whether `o` lies entirely inside `self`.
    #[inline]
    pub(crate) fn covers(&self, o: &Cube) -> bool {
        (0..DIMS).all(|d| self.lo[d] <= o.lo[d] && o.hi[d] <= self.hi[d])
    }

    /// The intersection, for boxes known to overlap.
    #[inline]
    pub(crate) fn clip(&self, o: &Cube) -> Cube {
        let mut c = *self;
        for d in 0..DIMS {
            c.lo[d] = c.lo[d].max(o.lo[d]);
            c.hi[d] = c.hi[d].min(o.hi[d]);
        }
        c
    }

    /// The box restricted to `iv` in dimension `d`, if anything is left.
    pub(crate) fn restrict(&self, d: usize, iv: Iv) -> Option<Cube> {
        let lo = self.lo[d].max(iv.lo);
        let hi = self.hi[d].min(iv.hi);
        (lo <= hi).then(|| {
            let mut c = *self;
            c.lo[d] = lo;
            c.hi[d] = hi;
            c
        })
    }

    /// `log2` of the number of packets, for ordering boxes by size (the exact
    /// count of an IPv6 box does not fit in any integer type).
    pub(crate) fn log_volume(&self) -> f64 {
        (0..DIMS)
            .map(|d| ((self.hi[d] - self.lo[d]) as f64 + 1.0).log2())
            .sum()
    }
}

/// Appends the pieces of `a` outside `b`, at most two per dimension. The
/// boxes must overlap.
pub(crate) fn subtract_one(a: &Cube, b: &Cube, out: &mut Vec<Cube>) {
    let mut rest = *a;
    for d in cut_order() {
        if rest.lo[d] < b.lo[d] {
            let mut piece = rest;
            piece.hi[d] = b.lo[d] - 1;
            out.push(piece);
            rest.lo[d] = b.lo[d];
        }
        if rest.hi[d] > b.hi[d] {
            let mut piece = rest;
            piece.lo[d] = b.hi[d] + 1;
            out.push(piece);
            rest.hi[d] = b.hi[d];
        }
    }
}

/// Below this many subtrahends a box is cut by each in turn; above it the
/// box is first split in two, which keeps the work near `n log n` where
/// cutting in turn would be quadratic in the number of pieces.
fn leaf() -> usize {
    static L: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *L.get_or_init(|| {
        std::env::var("LEAF")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(12)
    })
}
fn bigfirst() -> bool {
    static L: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *L.get_or_init(|| std::env::var_os("BIGFIRST").is_some())
}
fn cut_order() -> [usize; DIMS] {
    static L: std::sync::OnceLock<[usize; DIMS]> = std::sync::OnceLock::new();
    *L.get_or_init(|| match std::env::var("ORDER").as_deref() {
        Ok("addr") => [DST, SRC, PROTO, DPORT, SPORT],
        Ok("srcfirst") => [SRC, DST, PROTO, DPORT, SPORT],
        Ok("svcdst") => [PROTO, DPORT, SPORT, DST, SRC],
        _ => CUT_ORDER,
    })
}

/// Appends disjoint boxes covering `a` minus the union of `cands`. Every
/// candidate must lie inside `a` (clip them first); they may overlap each
/// other.
pub(crate) fn subtract_many(a: Cube, mut cands: Vec<Cube>, out: &mut Vec<Cube>) {
    if cands.is_empty() {
        out.push(a);
        return;
    }
    if cands.contains(&a) {
        return;
    }
    if cands.len() <= leaf() {
        subtract_in_turn(a, &cands, out);
        return;
    }
    let Some((d, v)) = choose_split(&a, &mut cands) else {
        subtract_in_turn(a, &cands, out);
        return;
    };
    let mut left = a;
    left.hi[d] = v - 1;
    let mut right = a;
    right.lo[d] = v;
    let mut lc = Vec::with_capacity(cands.len() / 2 + 1);
    let mut rc = Vec::with_capacity(cands.len() / 2 + 1);
    for c in cands {
        if c.lo[d] < v {
            let mut l = c;
            l.hi[d] = l.hi[d].min(v - 1);
            lc.push(l);
        }
        if c.hi[d] >= v {
            let mut r = c;
            r.lo[d] = r.lo[d].max(v);
            rc.push(r);
        }
    }
    subtract_many(left, lc, out);
    subtract_many(right, rc, out);
}

fn subtract_in_turn(a: Cube, cands: &[Cube], out: &mut Vec<Cube>) {
    let mut sorted;
    let cands = if bigfirst() {
        sorted = cands.to_vec();
        sorted.sort_by(|x, y| y.log_volume().total_cmp(&x.log_volume()));
        &sorted[..]
    } else {
        cands
    };
    let mut frags = vec![a];
    let mut next = Vec::new();
    for b in cands {
        next.clear();
        for f in &frags {
            if f.overlaps(b) {
                subtract_one(f, b, &mut next);
            } else {
                next.push(*f);
            }
        }
        std::mem::swap(&mut frags, &mut next);
        if frags.is_empty() {
            return;
        }
    }
    out.extend(frags);
}

/// Picks the dimension where the candidates have the most edges strictly
/// inside `a`, and the median of those edges as the cut: both halves are
/// non-empty and each has fewer inner edges, so the recursion ends. `None`
/// when no candidate has an inner edge, that is, when one equals `a`.
fn choose_split(a: &Cube, cands: &mut [Cube]) -> Option<(usize, u128)> {
    let mut best: Option<(usize, usize)> = None;
    for d in 0..DIMS {
        let n = cands
            .iter()
            .map(|c| usize::from(c.lo[d] > a.lo[d]) + usize::from(c.hi[d] < a.hi[d]))
            .sum::<usize>();
        if n > 0 && best.is_none_or(|(_, m)| n > m) {
            best = Some((d, n));
        }
    }
    let (d, _) = best?;
    let mut edges: Vec<u128> = Vec::with_capacity(cands.len() * 2);
    for c in cands.iter() {
        if c.lo[d] > a.lo[d] {
            edges.push(c.lo[d]);
        }
        if c.hi[d] < a.hi[d] {
            edges.push(c.hi[d] + 1);
        }
    }
    let mid = edges.len() / 2;
    let (_, v, _) = edges.select_nth_unstable(mid);
    Some((d, *v))
}

/// Compares boxes by every dimension but `d`, then by `d`'s start: boxes
/// that could merge along `d` become neighbours.
fn cmp_except(a: &Cube, b: &Cube, d: usize) -> Ordering {
    for e in 0..DIMS {
        if e == d {
            continue;
        }
        let o = a.lo[e].cmp(&b.lo[e]).then(a.hi[e].cmp(&b.hi[e]));
        if o != Ordering::Equal {
            return o;
        }
    }
    a.lo[d].cmp(&b.lo[d])
}

/// A total order on boxes, for deterministic output.
pub(crate) fn cmp_all(a: &Cube, b: &Cube) -> Ordering {
    a.lo.cmp(&b.lo).then_with(|| a.hi.cmp(&b.hi))
}

fn same_except(a: &Cube, b: &Cube, d: usize) -> bool {
    (0..DIMS).all(|e| e == d || (a.lo[e] == b.lo[e] && a.hi[e] == b.hi[e]))
}

/// Merges disjoint boxes that differ in one dimension only and touch in it,
/// until no such pair is left. This does not find the fewest boxes (that
/// problem is NP-hard) but undoes the cuts that the operations make.
pub(crate) fn coalesce(v: &mut Vec<Cube>) {
    if v.len() < 2 {
        return;
    }
    // Bounded so a pathological input cannot loop for long; each round only
    // ever shrinks the list, so stopping early is still correct.
    for _ in 0..8 {
        let before = v.len();
        for d in 0..DIMS {
            v.sort_unstable_by(|a, b| cmp_except(a, b, d));
            let mut out: Vec<Cube> = Vec::with_capacity(v.len());
            for c in v.drain(..) {
                match out.last_mut() {
                    Some(last)
                        if same_except(last, &c, d)
                            && last.hi[d].checked_add(1) == Some(c.lo[d]) =>
                    {
                        last.hi[d] = c.hi[d];
                    }
                    _ => out.push(c),
                }
            }
            *v = out;
        }
        if v.len() == before {
            break;
        }
    }
}

/// Calls `f(i, j)` for every overlapping pair `a[i]`, `b[j]`, by a sweep
/// along the destination: only boxes whose destination ranges are open at
/// the same time are compared.
pub(crate) fn overlap_pairs(a: &[Cube], b: &[Cube], mut f: impl FnMut(usize, usize)) {
    if a.is_empty() || b.is_empty() {
        return;
    }
    if a.len().saturating_mul(b.len()) <= 64 {
        for (i, x) in a.iter().enumerate() {
            for (j, y) in b.iter().enumerate() {
                if x.overlaps(y) {
                    f(i, j);
                }
            }
        }
        return;
    }
    // Events: every box of both lists by destination start; `true` marks `b`.
    let mut events: Vec<(u128, bool, usize)> = a
        .iter()
        .enumerate()
        .map(|(i, c)| (c.lo[DST], false, i))
        .chain(b.iter().enumerate().map(|(j, c)| (c.lo[DST], true, j)))
        .collect();
    events.sort_unstable();
    let mut open_a: Vec<usize> = Vec::new();
    let mut open_b: Vec<usize> = Vec::new();
    for (start, in_b, k) in events {
        if in_b {
            open_a.retain(|&i| a[i].hi[DST] >= start);
            let y = &b[k];
            for &i in &open_a {
                if a[i].overlaps(y) {
                    f(i, k);
                }
            }
            open_b.push(k);
        } else {
            open_b.retain(|&j| b[j].hi[DST] >= start);
            let x = &a[k];
            for &j in &open_b {
                if x.overlaps(&b[j]) {
                    f(k, j);
                }
            }
            open_a.push(k);
        }
    }
}

/// For every box, the indices of the boxes of the same list that overlap it
/// and come from an earlier group, by the same sweep. `group[i]` tells which
/// group (rule) box `i` belongs to; boxes of one group never overlap.
pub(crate) fn earlier_overlaps(cubes: &[Cube], group: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); cubes.len()];
    let mut order: Vec<usize> = (0..cubes.len()).collect();
    order.sort_unstable_by_key(|&i| (cubes[i].lo[DST], i));
    let mut open: Vec<usize> = Vec::new();
    for k in order {
        let start = cubes[k].lo[DST];
        open.retain(|&i| cubes[i].hi[DST] >= start);
        for &i in &open {
            if group[i] != group[k] && cubes[i].overlaps(&cubes[k]) {
                if group[i] < group[k] {
                    out[k].push(i);
                } else {
                    out[i].push(k);
                }
            }
        }
        open.push(k);
    }
    // The sweep finds candidates in destination order; rule order makes the
    // pieces, and so the output, independent of how ties were visited.
    for v in &mut out {
        v.sort_unstable();
    }
    out
}

/// `a` minus the union of `b`, as disjoint boxes (not coalesced).
pub(crate) fn difference(a: &[Cube], b: &[Cube]) -> Vec<Cube> {
    if b.is_empty() {
        return a.to_vec();
    }
    let mut cands: Vec<Vec<usize>> = vec![Vec::new(); a.len()];
    overlap_pairs(a, b, |i, j| cands[i].push(j));
    let mut out = Vec::new();
    for (x, js) in a.iter().zip(cands) {
        let clipped: Vec<Cube> = js.iter().map(|&j| b[j].clip(x)).collect();
        subtract_many(*x, clipped, &mut out);
    }
    out
}

/// Whether every box of `a` is covered by the union of `b`.
pub(crate) fn is_subset(a: &[Cube], b: &[Cube]) -> bool {
    if a.is_empty() {
        return true;
    }
    let mut cands: Vec<Vec<usize>> = vec![Vec::new(); a.len()];
    overlap_pairs(a, b, |i, j| cands[i].push(j));
    let mut scratch = Vec::new();
    for (x, js) in a.iter().zip(cands) {
        if js.is_empty() {
            return false;
        }
        // One box covering `x` settles it without cutting anything.
        if js.iter().any(|&j| b[j].covers(x)) {
            continue;
        }
        let clipped: Vec<Cube> = js.iter().map(|&j| b[j].clip(x)).collect();
        scratch.clear();
        subtract_many(*x, clipped, &mut scratch);
        if !scratch.is_empty() {
            return false;
        }
    }
    true
}

/// Disjoint boxes covering the union of arbitrary, possibly overlapping
/// boxes. Larger boxes go first so that the many small boxes they contain
/// vanish whole instead of cutting them.
pub(crate) fn disjoint(mut cubes: Vec<Cube>) -> Vec<Cube> {
    if cubes.len() < 2 {
        return cubes;
    }
    let mut keyed: Vec<(f64, Cube)> = cubes.drain(..).map(|c| (-c.log_volume(), c)).collect();
    keyed.sort_by(|x, y| x.0.total_cmp(&y.0).then_with(|| cmp_all(&x.1, &y.1)));
    keyed.dedup_by(|x, y| x.1 == y.1);
    let cubes: Vec<Cube> = keyed.into_iter().map(|(_, c)| c).collect();
    let group: Vec<usize> = (0..cubes.len()).collect();
    let earlier = earlier_overlaps(&cubes, &group);
    let mut out = Vec::with_capacity(cubes.len());
    for (c, js) in cubes.iter().zip(earlier) {
        let clipped: Vec<Cube> = js.iter().map(|&j| cubes[j].clip(c)).collect();
        subtract_many(*c, clipped, &mut out);
    }
    coalesce(&mut out);
    out
}
