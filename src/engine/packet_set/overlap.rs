//! Overlapping pairs of boxes by recursive partition of the space, for the
//! lists a one-dimensional sweep handles badly.
//!
//! A sweep along one field compares every pair of boxes open at the same
//! time. When both addresses of an expectation are fragmented lists (`expect
//! reach [10.0.0.1, 10.0.0.3, ...] -> [10.1.0.1, 10.1.0.3, ...]`), its set is
//! the product of the two lists, and along either address every box of the
//! other list is open at once: a 5 KB expectation took 12 s, a 15 KB one
//! minutes. Cutting the space in halves along whichever field separates the
//! boxes best, until few boxes are left in a cell, finds the same pairs in
//! about `n log n` comparisons when the boxes are small and spread out.

use super::cube::{count_comparison, Coord, Cube, DIMS, DST};

/// A cell with at most this many candidate pairs is compared pair by pair.
const LEAF_PAIRS: usize = 64;

/// How many boxes of a cell choose where to cut it.
const SAMPLE: usize = 256;

/// The region of the space a cell covers, inclusive in every field.
#[derive(Clone, Copy)]
struct Cell<T> {
    lo: [T; DIMS],
    hi: [T; DIMS],
}

impl<T: Coord> Cell<T> {
    /// Whether the cell holds the point where two boxes' overlap starts
    /// (the larger of their lower bounds in every field). That point lies in
    /// exactly one cell, which is the cell that reports the pair.
    fn owns_start(&self, x: &Cube<T>, y: &Cube<T>) -> bool {
        (0..DIMS).all(|d| {
            let p = x.lo[d].max(y.lo[d]);
            self.lo[d] <= p && p <= self.hi[d]
        })
    }
}

/// Every overlapping pair `(i, j)` of `a[i]` and `b[j]`, once each, in no
/// particular order.
pub(crate) fn partition_pairs<T: Coord>(a: &[Cube<T>], b: &[Cube<T>]) -> Vec<(usize, usize)> {
    let full = Cube::<T>::full();
    let cell = Cell {
        lo: full.lo,
        hi: full.hi,
    };
    let mut out = Vec::new();
    // An explicit stack rather than recursion: the depth is bounded by the
    // cuts a field can take (128 for an IPv6 address), but a stack of cells
    // cannot overflow the thread's stack whatever the input.
    let mut stack = vec![(
        cell,
        (0..a.len()).collect::<Vec<usize>>(),
        (0..b.len()).collect::<Vec<usize>>(),
    )];
    while let Some((cell, ia, ib)) = stack.pop() {
        if ia.is_empty() || ib.is_empty() {
            continue;
        }
        let cut = if ia.len().saturating_mul(ib.len()) <= LEAF_PAIRS {
            None
        } else {
            choose_cut(a, b, &ia, &ib, &cell)
        };
        let Some((d, v)) = cut else {
            for &i in &ia {
                for &j in &ib {
                    count_comparison();
                    if a[i].overlaps(&b[j]) && cell.owns_start(&a[i], &b[j]) {
                        out.push((i, j));
                    }
                }
            }
            continue;
        };
        // The lower half ends just below `v`, the upper starts at it; a box
        // across the cut goes to both.
        let mut low = cell;
        low.hi[d] = v.dec();
        let mut high = cell;
        high.lo[d] = v;
        let side = |list: &[Cube<T>], idx: &[usize]| {
            let below: Vec<usize> = idx.iter().copied().filter(|&i| list[i].lo[d] < v).collect();
            let above: Vec<usize> = idx
                .iter()
                .copied()
                .filter(|&i| list[i].hi[d] >= v)
                .collect();
            (below, above)
        };
        let (a_low, a_high) = side(a, &ia);
        let (b_low, b_high) = side(b, &ib);
        stack.push((low, a_low, b_low));
        stack.push((high, a_high, b_high));
    }
    out
}

/// Where to cut a cell: the field in which the boxes' lower bounds (of a
/// sample of them) take the most distinct values, at their median. `None` when no cut separates
/// anything (every box starts at the cell's lower bound in every field),
/// and when either half would keep nearly every box.
fn choose_cut<T: Coord>(
    a: &[Cube<T>],
    b: &[Cube<T>],
    ia: &[usize],
    ib: &[usize],
    cell: &Cell<T>,
) -> Option<(usize, T)> {
    let mut best: Option<(usize, usize, T)> = None;
    // A sample of evenly spaced boxes judges a field as well as all of them,
    // and keeps the choice from costing a sort of the cell. It is taken by
    // index: stepping through an iterator would still visit every box.
    let step = ((ia.len() + ib.len()) / SAMPLE).max(1);
    let sample: Vec<&Cube<T>> = ia
        .iter()
        .step_by(step)
        .map(|&i| &a[i])
        .chain(ib.iter().step_by(step).map(|&j| &b[j]))
        .collect();
    for d in 0..DIMS {
        // Lower bounds clipped to the cell: a box that starts before the
        // cell starts at its edge here, and a cut there separates nothing.
        let mut los: Vec<T> = sample.iter().map(|c| c.lo[d].max(cell.lo[d])).collect();
        los.sort_unstable();
        los.dedup();
        let distinct = los.len();
        if distinct < 2 {
            continue;
        }
        // The median distinct value is above the cell's lower bound, since
        // there are at least two and the smallest is at least that bound.
        let Some(&v) = los.get(distinct / 2) else {
            continue;
        };
        if best.is_none_or(|(_, n, _)| distinct > n) {
            best = Some((d, distinct, v));
        }
    }
    let (d, _, v) = best?;
    let total = ia.len() + ib.len();
    let boxes = || ia.iter().map(|&i| &a[i]).chain(ib.iter().map(|&j| &b[j]));
    let low = boxes().filter(|c| c.lo[d] < v).count();
    let high = boxes().filter(|c| c.hi[d] >= v).count();
    // Progress: each half must lose a good share of the boxes, or the cut
    // copies more than it separates and the cell is compared pair by pair.
    (low.max(high) * 8 <= total * 7).then_some((d, v))
}

/// A list of boxes cut at its gaps: clusters that cannot overlap one
/// another, and the few wide boxes set aside to make the gaps, which may
/// overlap anything.
pub(crate) struct Gaps {
    /// The boxes set aside, in increasing order.
    pub(crate) wide: Vec<usize>,
    /// Every other box.
    pub(crate) rest: Vec<usize>,
    /// The clusters of two boxes or more, each in increasing order (a box
    /// alone in its cluster overlaps nothing but wide boxes).
    pub(crate) runs: Vec<Vec<usize>>,
}

/// How many of the widest boxes along a field [`split_at_gaps`] may set
/// aside (at most one in sixteen of the list): each is then compared with
/// every box of the list.
const WIDE_MAX: usize = 32;

/// The boxes `idx` of `cubes` in clusters that cannot overlap one another,
/// or `None` when no field cuts them well. Along one field, the boxes
/// sorted by their lower bounds fall into runs whose ranges chain together;
/// between two runs lies a value no box spans, so boxes of different runs
/// are apart in that field. One box spanning the whole field (a catch-all
/// rule's set, the remainder of an ACL's ports) would chain every run into
/// one, so each field is also tried without its few widest boxes, which are
/// then set aside. The field taken is the one whose largest run is
/// smallest; a cut that leaves more than three quarters of the boxes in one
/// run is refused, so that clusters shrink geometrically and cutting never
/// peels boxes off one at a time.
pub(crate) fn split_at_gaps<T: Coord>(cubes: &[Cube<T>], idx: &[usize]) -> Option<Gaps> {
    // The best cut so far: its largest run, how many boxes it sets aside,
    // the field, and the boxes of that field sorted by lower bound.
    let mut best: Option<(usize, usize, usize, Vec<usize>)> = None;
    let wide_max = WIDE_MAX.min(idx.len() / 16);
    let mut order = idx.to_vec();
    for d in 0..DIMS {
        order.sort_unstable_by_key(|&i| cubes[i].lo[d]);
        let widest = widest(cubes, d, idx, wide_max);
        for aside in [0, wide_max] {
            let largest = largest_run(cubes, d, &order, &widest[..aside]);
            if best.as_ref().is_none_or(|b| (largest, aside) < (b.0, b.1)) {
                best = Some((largest, aside, d, order.clone()));
            }
        }
    }
    let (largest, aside, d, order) = best?;
    if largest * 4 > idx.len() * 3 {
        return None;
    }
    let wide = widest(cubes, d, idx, aside);
    let mut rest = Vec::with_capacity(idx.len() - wide.len());
    let mut runs = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let mut reach: Option<T> = None;
    for &i in &order {
        if wide.binary_search(&i).is_ok() {
            continue;
        }
        rest.push(i);
        let c = &cubes[i];
        if reach.is_some_and(|r| c.lo[d] > r) {
            if run.len() > 1 {
                run.sort_unstable();
                runs.push(std::mem::take(&mut run));
            }
            run.clear();
        }
        run.push(i);
        reach = Some(reach.map_or(c.hi[d], |r| r.max(c.hi[d])));
    }
    if run.len() > 1 {
        run.sort_unstable();
        runs.push(run);
    }
    Some(Gaps { wide, rest, runs })
}

/// The `k` boxes of `idx` widest along `d` (ties to the lower index), in
/// increasing order.
fn widest<T: Coord>(cubes: &[Cube<T>], d: usize, idx: &[usize], k: usize) -> Vec<usize> {
    if k == 0 {
        return Vec::new();
    }
    let width = |i: usize| cubes[i].hi[d].to_f64() - cubes[i].lo[d].to_f64();
    let mut all = idx.to_vec();
    let by_width = |x: &usize, y: &usize| width(*y).total_cmp(&width(*x)).then(x.cmp(y));
    if k < all.len() {
        all.select_nth_unstable_by(k, by_width);
        all.truncate(k);
    }
    all.sort_unstable();
    all
}

/// The size of the largest run of `order` (boxes sorted by their lower
/// bound along `d`) without the boxes of `skip` (sorted): a run ends where
/// the next box starts past every range before it.
fn largest_run<T: Coord>(cubes: &[Cube<T>], d: usize, order: &[usize], skip: &[usize]) -> usize {
    let mut largest = 0;
    let mut len = 0;
    let mut reach: Option<T> = None;
    for &i in order {
        if !skip.is_empty() && skip.binary_search(&i).is_ok() {
            continue;
        }
        let c = &cubes[i];
        if reach.is_some_and(|r| c.lo[d] > r) {
            len = 0;
        }
        len += 1;
        largest = largest.max(len);
        reach = Some(reach.map_or(c.hi[d], |r| r.max(c.hi[d])));
    }
    largest
}

/// The field along which a sweep over `cubes` keeps the fewest boxes open,
/// and about how many open boxes it meets in all: at each box's start, the
/// boxes that started before it and have not ended. Counting them takes a
/// sort per field, not a sweep.
pub(crate) fn quietest_dim<T: Coord>(cubes: &[Cube<T>]) -> (usize, usize) {
    let mut best = (DST, usize::MAX);
    for d in 0..DIMS {
        let mut los: Vec<T> = cubes.iter().map(|c| c.lo[d]).collect();
        let mut his: Vec<T> = cubes.iter().map(|c| c.hi[d]).collect();
        los.sort_unstable();
        his.sort_unstable();
        let mut ended = 0usize;
        let mut work = 0usize;
        for (k, &lo) in los.iter().enumerate() {
            while his.get(ended).is_some_and(|&h| h < lo) {
                ended += 1;
            }
            work = work.saturating_add(k.saturating_sub(ended));
        }
        if work < best.1 {
            best = (d, work);
        }
    }
    best
}
