//! A walk of several branches at once that merges the branches meeting in
//! the same state, for questions that read verdicts only (the matrix).

use super::{Branch, Leaf, Loc, Mark, Sender, Step, Walker, MAX_HOPS};
use crate::engine::packet_set::PacketSet;
use crate::engine::view::{AddrExpr, View};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

impl Walker<'_, '_> {
    /// Walks several branches at once, from their own locations, merging
    /// branches that meet in the same state: at the same location, with
    /// the same view, marks, sender and path length. Nothing a node decides
    /// depends on more than those and the packet itself, so a node treats
    /// the union of two such branches as it treats each, packet by packet,
    /// and the leaves hold the same packets, with the same verdicts, as
    /// walking each branch alone ([`Walker::walk`]). What is lost is which
    /// path a packet of a merged leaf took: a merged branch keeps the hops
    /// and exits of the first branch merged into it, so only callers that
    /// read verdicts and packets (the matrix) may use this walk.
    ///
    /// Branches are taken in order of path length, so every branch that can
    /// reach a state is there before the state is stepped; steps that add
    /// no hop are stepped in a further round of the same length.
    pub fn walk_merged(&self, starts: Vec<(Loc, Branch)>, out: &mut Vec<Leaf>) {
        let mut pending: BTreeMap<usize, Merged> = BTreeMap::new();
        for (loc, b) in starts {
            pending.entry(b.hops.len()).or_default().add(loc, b);
        }
        while let Some((len, round)) = pending.pop_first() {
            for (loc, b) in round.into_items() {
                if b.orig.is_empty() {
                    continue;
                }
                if len >= MAX_HOPS {
                    // The same leaf `walk` makes; the merged walk adds no
                    // other way for a branch to end.
                    self.walk(loc, b, out);
                    continue;
                }
                for step in self.step(loc, b) {
                    match step {
                        Step::Go(next, mut b) => {
                            self.note_exit(loc, next, &mut b);
                            pending.entry(b.hops.len()).or_default().add(next, b);
                        }
                        Step::Leaf(leaf) if !leaf.branch().orig.is_empty() => out.push(leaf),
                        Step::Leaf(_) => {}
                    }
                }
            }
        }
    }
}

/// The branches of one path length in a merged walk
/// ([`Walker::walk_merged`]), in the order they first reached their state,
/// with the sets of the branches merged into each not yet joined.
#[derive(Default)]
struct Merged {
    items: Vec<(Loc, Branch)>,
    more: Vec<Vec<PacketSet>>,
    index: HashMap<State, usize>,
}

/// What a node's decisions depend on besides the packets: branches in the
/// same state at the same path length are merged.
type State = (Loc, View, Vec<Mark>, Option<(Sender, AddrExpr)>);

impl Merged {
    fn add(&mut self, loc: Loc, b: Branch) {
        if b.orig.is_empty() {
            return;
        }
        match self.index.entry((loc, b.view, b.marks.clone(), b.sender)) {
            Entry::Occupied(e) => self.more[*e.get()].push(b.orig),
            Entry::Vacant(e) => {
                e.insert(self.items.len());
                self.items.push((loc, b));
                self.more.push(Vec::new());
            }
        }
    }

    /// The merged branches, each set joined once with everything merged
    /// into it. The sets are disjoint, so they are united without an
    /// overlap search: the starts of a merged walk are, and every step
    /// partitions a branch's packets (docs/engine.md, "Flows in original
    /// coordinates").
    fn into_items(self) -> Vec<(Loc, Branch)> {
        let mut items = self.items;
        for ((_, b), mut more) in items.iter_mut().zip(self.more) {
            if !more.is_empty() {
                more.push(std::mem::take(&mut b.orig));
                b.orig = PacketSet::union_disjoint(more);
            }
        }
        items
    }
}
