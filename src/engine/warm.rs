//! The per-element caches every check fills anyway, filled up front and in
//! parallel.
//!
//! NP301 and NP302 read the rule sets of every gateway firewall, and the
//! walks read those of every firewall they cross, so on a design with
//! firewalls all of them are computed whatever the order. Computed lazily,
//! each firewall's sets are built on one thread, by whichever rule or walk
//! reaches it first, while any other thread that needs the same firewall
//! waits for it. Computed here, the work is spread over the thread pool by
//! rule, not by firewall, and each distinct service list is turned into a
//! packet set once for the whole design rather than once per rule: rule
//! bases repeat their service lists (W3's hundred firewalls share the same
//! five thousand), and that conversion was most of the cost.
//!
//! The sets are the ones `Space::firewall_rule_sets` computes (the same
//! functions on the same inputs), so which of the two fills a cache first
//! never changes a result.

use super::packet_set::PacketSet;
use super::space::{service_match, Space};
use crate::model::{FirewallId, ServiceRange};
use rayon::prelude::*;
use std::collections::HashMap;

/// Computes the rule sets of every gateway firewall into the space's caches.
pub fn firewall_rule_sets(space: &Space) {
    for (f, sets) in compute(space).into_iter().enumerate() {
        space.preset_firewall_rule_sets(FirewallId(f as u32), sets);
    }
}

/// Every firewall's rule sets, in firewall and rule order.
fn compute(space: &Space) -> Vec<Vec<PacketSet>> {
    let m = space.model;
    // Each rule's service list, as an index into the distinct lists.
    let mut index: HashMap<&[ServiceRange], usize> = HashMap::new();
    let mut distinct = Vec::new();
    let mut rules = Vec::new();
    for fw in &m.firewalls {
        for r in &fw.rules {
            let k = *index
                .entry(r.services.ranges.as_slice())
                .or_insert_with(|| {
                    distinct.push(&r.services);
                    distinct.len() - 1
                });
            rules.push((r, k));
        }
    }
    let services: Vec<PacketSet> = distinct.par_iter().map(|s| service_match(s)).collect();
    let sets: Vec<PacketSet> = rules
        .par_iter()
        .with_min_len(256)
        .map(|&(r, k)| space.firewall_rule_set(r, &services[k]))
        .collect();
    // The rules are in firewall order: each firewall takes its run.
    let mut sets = sets.into_iter();
    m.firewalls
        .iter()
        .map(|fw| sets.by_ref().take(fw.rules.len()).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sets computed up front are the lazy path's, box for box, on
    /// designs whose firewalls share service lists and whose rules name
    /// groups, VMs, prefixes and `any`.
    #[test]
    fn warmed_sets_equal_lazy_sets() {
        for text in [
            crate::gen::generate_workload(&crate::gen::Workload::W1),
            include_str!("../../fixtures/rules/NP301/fires.np").to_string(),
            include_str!("../../fixtures/rules/NP302/fires.np").to_string(),
        ] {
            let model = crate::model::lower(&crate::syntax::parse(&text).tree).model;
            assert!(!model.firewalls.is_empty());
            let space = Space::new(&model);
            let warm = compute(&space);
            assert_eq!(warm.len(), model.firewalls.len());
            for (f, sets) in warm.iter().enumerate() {
                let lazy = space.firewall_rule_sets(FirewallId(f as u32));
                assert_eq!(sets.len(), lazy.len());
                for (a, b) in sets.iter().zip(lazy) {
                    assert_eq!(a.boxes().collect::<Vec<_>>(), b.boxes().collect::<Vec<_>>());
                }
            }
        }
    }
}
