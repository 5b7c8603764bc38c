//! Merging boxes that touch, after the operations have cut them.

use super::cube::{Coord, Cube, DIMS};

fn same_except<T: Coord>(a: &Cube<T>, b: &Cube<T>, d: usize) -> bool {
    (0..DIMS).all(|e| e == d || (a.lo[e] == b.lo[e] && a.hi[e] == b.hi[e]))
}

/// Merges disjoint boxes that differ in one dimension only and touch in it,
/// until no such pair is left. This does not find the fewest boxes (that
/// problem is NP-hard) but undoes the cuts that the operations make.
///
/// Boxes are grouped by a hash of their other dimensions rather than sorted
/// by them: sorting 16-byte keys is several times faster than comparing
/// boxes field by field, and this runs on lists of hundreds of thousands of
/// boxes. A hash collision can only hide a merge, never make a wrong one,
/// because merges compare the boxes themselves.
pub(crate) fn coalesce<T: Coord>(v: &mut Vec<Cube<T>>) {
    coalesce_with(v, true);
}

/// [`coalesce`], sorting in every pass when `skip_quiet` is off: the plain
/// method, which tests compare the shortcut with.
pub(crate) fn coalesce_with<T: Coord>(v: &mut Vec<Cube<T>>, skip_quiet: bool) {
    if v.len() < 2 {
        return;
    }
    // `u32` indices keep the keys small; a list of 2^32 boxes would need
    // 160 GiB of IPv4 boxes, so they cannot wrap.
    let mut keys: Vec<(u64, T, u32)> = Vec::with_capacity(v.len());
    let mut next: Vec<Cube<T>> = Vec::with_capacity(v.len());
    let mut scratch = (Vec::new(), Vec::new());
    // Dimensions are tried in turn until every other dimension has been
    // tried since the last merge; the bound only guards against a
    // pathological input looping for long (each pass only shrinks the list,
    // so stopping early is still correct).
    let mut quiet = 0;
    let mut ever_merged = false;
    let mut d = 0;
    // The dimension of the last pass whose sort was skipped, while no pass
    // has sorted since: the list must still be left in that pass's order.
    let mut unsorted = None;
    for _ in 0..8 * DIMS {
        // Most passes merge nothing (a list of scattered addresses has no
        // two boxes that touch), which sorting eight-byte keys finds at a
        // fraction of the pass's sort of the boxes themselves.
        let merged = if !skip_quiet || touching(v, d, &mut scratch) {
            unsorted = None;
            merge_pass(v, d, &mut keys, &mut next)
        } else {
            unsorted = Some(d);
            false
        };
        if merged {
            quiet = 0;
        } else {
            quiet += 1;
        }
        // A merging dimension is left with nothing to merge, so once the
        // others have been tried after it, no pair can be left; without any
        // merge every dimension must be tried once.
        if quiet == DIMS || (quiet == DIMS - 1 && ever_merged) {
            break;
        }
        ever_merged |= merged;
        d = (d + 1) % DIMS;
    }
    // The order is the last pass's, as if every pass had sorted: a pass
    // orders the boxes by their hash and start alone (two disjoint boxes
    // agreeing in every other field cannot start at the same value), so the
    // passes skipped before it change nothing but on a hash collision.
    if let Some(d) = unsorted {
        merge_pass(v, d, &mut keys, &mut next);
    }
    // The list ends as the buffer of the last pass, sized for the list it
    // started from; merges and the cuts before them can leave much of it
    // unused, and sets such as a firewall's admitted packets or a rule's
    // flows are kept for the rest of the check. Shrinking gives the slack
    // back in place (W3's peak held about 25 MB of it).
    if v.capacity() > v.len() + v.len() / 8 + 16 {
        v.shrink_to_fit();
    }
}

/// One pass of [`coalesce`] along `d`: sorts the boxes by the hash of their
/// other dimensions and their start in `d`, and merges neighbours that
/// touch. Returns whether any merged.
fn merge_pass<T: Coord>(
    v: &mut Vec<Cube<T>>,
    d: usize,
    keys: &mut Vec<(u64, T, u32)>,
    next: &mut Vec<Cube<T>>,
) -> bool {
    keys.clear();
    keys.extend(
        v.iter()
            .enumerate()
            .map(|(i, c)| (hash_except(c, d), c.lo[d], i as u32)),
    );
    count_sorted(keys.len());
    keys.sort_unstable();
    next.clear();
    let mut merged = false;
    let mut last_key = None;
    for &(h, _, i) in keys.iter() {
        let Some(&c) = v.get(i as usize) else {
            continue;
        };
        if last_key == Some(h) {
            if let Some(last) = next.last_mut() {
                if same_except(last, &c, d) && last.hi[d] < c.lo[d] && last.hi[d].inc() == c.lo[d] {
                    last.hi[d] = c.hi[d];
                    merged = true;
                    continue;
                }
            }
        }
        last_key = Some(h);
        next.push(c);
    }
    std::mem::swap(v, next);
    merged
}

/// Whether a pass of [`coalesce`] along `d` could merge anything: whether
/// some box ends just before another starts with the same hash of the other
/// dimensions. Every merge joins such a pair, so `false` is exact; a
/// collision of the 64-bit keys only costs a pass that merges nothing.
///
/// The keys where boxes start and the keys where they would need a
/// neighbour to start are sorted and merged, not looked up in a hash table:
/// a list of a million boxes makes a table far larger than the caches, and
/// one cache miss per lookup cost more than sorting eight-byte keys.
fn touching<T: Coord>(v: &[Cube<T>], d: usize, scratch: &mut (Vec<u64>, Vec<u64>)) -> bool {
    let (starts, wants) = scratch;
    starts.clear();
    wants.clear();
    for c in v {
        let h = hash_except(c, d);
        starts.push(key(h, c.lo[d]));
        if c.hi[d] < T::ADDR_MAX {
            wants.push(key(h, c.hi[d].inc()));
        }
    }
    starts.sort_unstable();
    wants.sort_unstable();
    let (mut i, mut j) = (0, 0);
    while let (Some(s), Some(w)) = (starts.get(i), wants.get(j)) {
        match s.cmp(w) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// One key for a hash of the other dimensions and a value in `d`.
fn key<T: Coord>(h: u64, at: T) -> u64 {
    let x = (h ^ (at.to_u128() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).rotate_left(29);
    x.wrapping_mul(0x517c_c1b7_2722_0a95) ^ ((at.to_u128() >> 64) as u64)
}

/// A hash of every dimension but `d` (the multiply-rotate mix of rustc's
/// FxHash: fast, and good enough to group equal keys). An interval of
/// values below 2^32, which is every IPv4 one, is mixed as one word.
fn hash_except<T: Coord>(c: &Cube<T>, d: usize) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = 0;
    let mut mix = |w: u64| h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    for e in 0..DIMS {
        if e == d {
            continue;
        }
        let (lo, hi) = (c.lo[e].to_u128(), c.hi[e].to_u128());
        if hi >> 32 == 0 {
            mix((lo << 32 | hi) as u64);
        } else {
            for w in [lo as u64, (lo >> 64) as u64, hi as u64, (hi >> 64) as u64] {
                mix(w);
            }
        }
    }
    h
}

#[cfg(test)]
thread_local! {
    /// Keys sorted by [`coalesce`] on this thread, for tests to measure.
    pub(crate) static SORTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[inline]
fn count_sorted(_n: usize) {
    #[cfg(test)]
    SORTED.with(|c| c.set(c.get() + _n));
}
