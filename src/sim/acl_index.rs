//! First-match lookups in long network ACLs, by an interval index on the
//! service.
//!
//! A network ACL judges a packet by its first rule, in number order, whose
//! service and peer both hold it. Scanning the rules costs their number for
//! every crossing, and the rules trace every finding's witness: a design
//! whose 8,000-rule ACL draws a finding per rule crossed that ACL some
//! 32,000 times, rule by rule (issue 12). The index answers the same
//! question from the rules whose service can hold the packet.
//!
//! A rule's service is a union of ranges, each a protocol and a range of
//! destination ports, or every protocol (`matching::range_has`); as a key
//! `protocol << 16 | port`, each range is one interval of keys. The intervals
//! of all rules cut the keys into segments, and a segment tree over them
//! stores each rule at the O(log n) nodes that together cover its intervals,
//! in rule order. A packet's key lies in one segment, and the rules whose
//! service holds it are exactly those stored on the path from that leaf to
//! the root: the lookup merges those few sorted lists in rule order and
//! stops at the first rule the caller's full test accepts. The index only
//! chooses which rules to test, and in which order: each candidate is still
//! judged by the same test the scan applies (service and peer), so the
//! answer is the scan's whenever the candidates include every rule whose
//! service holds the packet, in order, which a unit test checks against the
//! scan on random rule lists.
//!
//! Indexes are built once per ACL and direction, when a walk first crosses
//! it, and shared by every walk of one [`AclIndexes`]: a rule tracing many
//! findings keeps one. Short ACLs are scanned: building costs more.

use crate::model::{AclRule, Model, ServiceSet};
use std::sync::OnceLock;

/// ACLs with fewer rules than this in a direction are scanned.
const INDEX_MIN: usize = 64;

/// The first key past every protocol and port.
const KEY_END: u32 = 1 << 24;

/// The key of a packet's protocol and destination port.
pub(super) fn key(proto: u8, dport: u16) -> u32 {
    (u32::from(proto) << 16) | u32::from(dport)
}

/// The intervals of keys (inclusive) that a service holds.
fn intervals(s: &ServiceSet) -> impl Iterator<Item = (u32, u32)> + '_ {
    s.ranges.iter().filter_map(|r| match r.proto {
        None => Some((0, KEY_END - 1)),
        Some(p) => (r.lo <= r.hi).then(|| (key(p, r.lo), key(p, r.hi))),
    })
}

/// The index of one rule list.
#[derive(Debug)]
pub(super) struct RuleIndex {
    /// The first key of each segment, increasing, from 0.
    starts: Vec<u32>,
    /// Leaves of the tree (a power of two, at least the segments).
    size: usize,
    /// Per node (1 is the root, `size + j` the leaf of segment `j`), the
    /// rules stored there, increasing.
    nodes: Vec<Vec<u32>>,
}

impl RuleIndex {
    pub(super) fn build<'a>(services: impl Iterator<Item = &'a ServiceSet> + Clone) -> RuleIndex {
        let mut starts = vec![0u32];
        for s in services.clone() {
            for (lo, hi) in intervals(s) {
                starts.push(lo);
                if hi + 1 < KEY_END {
                    starts.push(hi + 1);
                }
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let size = starts.len().next_power_of_two();
        let mut nodes = vec![Vec::new(); 2 * size];
        for (i, s) in services.enumerate() {
            let Ok(rule) = u32::try_from(i) else { break };
            for (lo, hi) in intervals(s) {
                // Interval ends are segment starts or just before one, so
                // the interval is exactly the segments `l..r`.
                let mut l = segment(&starts, lo) + size;
                let mut r = segment(&starts, hi) + size + 1;
                while l < r {
                    if l & 1 == 1 {
                        push(&mut nodes[l], rule);
                        l += 1;
                    }
                    if r & 1 == 1 {
                        r -= 1;
                        push(&mut nodes[r], rule);
                    }
                    l >>= 1;
                    r >>= 1;
                }
            }
        }
        RuleIndex {
            starts,
            size,
            nodes,
        }
    }

    /// The first rule, in order, whose service holds `key` and which `test`
    /// accepts; `test` sees no other rule and each candidate at most once.
    pub(super) fn first(&self, key: u32, mut test: impl FnMut(usize) -> bool) -> Option<usize> {
        let mut node = segment(&self.starts, key) + self.size;
        let mut lists: Vec<&[u32]> = Vec::new();
        while node >= 1 {
            if let Some(l) = self.nodes.get(node).filter(|l| !l.is_empty()) {
                lists.push(l);
            }
            node >>= 1;
        }
        loop {
            let next = lists.iter().filter_map(|l| l.first()).min().copied()?;
            for l in &mut lists {
                if l.first() == Some(&next) {
                    *l = &l[1..];
                }
            }
            let i = next as usize;
            if test(i) {
                return Some(i);
            }
        }
    }
}

/// Appends a rule to a node's list once (a rule's ranges may overlap).
fn push(list: &mut Vec<u32>, rule: u32) {
    if list.last() != Some(&rule) {
        list.push(rule);
    }
}

/// The segment holding `key`: the last start at or below it.
fn segment(starts: &[u32], key: u32) -> usize {
    starts.partition_point(|&s| s <= key).saturating_sub(1)
}

/// The indexes of a model's network ACLs, built on first use, one per ACL
/// and direction.
pub(crate) struct AclIndexes {
    per_acl: Vec<[OnceLock<RuleIndex>; 2]>,
    /// Lists shorter than this are scanned.
    min: usize,
}

impl AclIndexes {
    pub(crate) fn new(m: &Model) -> AclIndexes {
        AclIndexes {
            per_acl: m.acls.iter().map(|_| Default::default()).collect(),
            min: INDEX_MIN,
        }
    }

    /// Indexes that are never built: every ACL is scanned.
    #[cfg(test)]
    fn scanning(m: &Model) -> AclIndexes {
        AclIndexes {
            min: usize::MAX,
            ..AclIndexes::new(m)
        }
    }

    /// The first of `rules` (ACL number `acl`'s list for the direction)
    /// whose service holds the packet and which `test` accepts; `test`
    /// judges the whole rule, as a scan would.
    pub(super) fn first<'r>(
        &self,
        acl: usize,
        outbound: bool,
        rules: &'r [AclRule],
        proto: u8,
        dport: u16,
        mut test: impl FnMut(&AclRule) -> bool,
    ) -> Option<&'r AclRule> {
        let slot = self.per_acl.get(acl).map(|s| &s[usize::from(outbound)]);
        match slot {
            Some(slot) if rules.len() >= self.min => {
                let index =
                    slot.get_or_init(|| RuleIndex::build(rules.iter().map(|r| &r.services)));
                index
                    .first(key(proto, dport), |i| rules.get(i).is_some_and(&mut test))
                    .and_then(|i| rules.get(i))
            }
            _ => rules.iter().find(|r| test(r)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRange;
    use crate::span::Span;
    use proptest::prelude::*;

    /// Whether `s` holds a packet of this protocol and destination port, as
    /// the scan tests it; for the index's tests.
    fn holds(s: &ServiceSet, proto: u8, dport: u16) -> bool {
        let p = crate::sim::Packet {
            src: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            dst: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            proto,
            sport: 0,
            dport,
        };
        crate::sim::matching::svc_has(s, &p)
    }

    fn range() -> impl Strategy<Value = ServiceRange> {
        // Few protocols and ports, so that ranges overlap and packets hit
        // their edges; now and then every protocol, or an empty range.
        (
            prop::option::weighted(0.9, prop::sample::select(vec![1u8, 6, 17, 255])),
            0u16..12,
            0u16..12,
        )
            .prop_map(|(proto, a, b)| {
                let (lo, hi) = if a % 7 == 6 {
                    (b, a.min(b))
                } else {
                    (a.min(b), a.max(b))
                };
                // Now and then up to the last port.
                let hi = if b == 11 { u16::MAX } else { hi };
                ServiceRange { proto, lo, hi }
            })
    }

    fn service() -> impl Strategy<Value = ServiceSet> {
        prop::collection::vec(range(), 0..3).prop_map(|ranges| ServiceSet {
            ranges,
            span: Span::default(),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The index's first match is the scan's, for every packet and any
        /// further test of the rules (the peer, here an arbitrary subset).
        #[test]
        fn index_first_match_is_the_scans(
            services in prop::collection::vec(service(), 0..90),
            accepted in prop::collection::vec(any::<bool>(), 90),
            packets in prop::collection::vec(
                (prop::sample::select(vec![0u8, 1, 6, 17, 255]),
                 prop::sample::select(vec![0u16, 1, 5, 10, 11, 12, 4000, u16::MAX])),
                1..20,
            ),
        ) {
            let index = RuleIndex::build(services.iter());
            for (proto, dport) in packets {
                let ok = |i: usize| accepted[i] && holds(&services[i], proto, dport);
                let scan = (0..services.len()).find(|&i| ok(i));
                let mut seen = Vec::new();
                let found = index.first(key(proto, dport), |i| {
                    seen.push(i);
                    ok(i)
                });
                prop_assert_eq!(found, scan, "packet {} {}", proto, dport);
                // Candidates in rule order, each once, and only rules whose
                // service holds the packet.
                prop_assert!(seen.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(seen.iter().all(|&i| holds(&services[i], proto, dport)));
            }
        }
    }

    /// A VPC whose two subnets share a long ACL of scattered rules (ports,
    /// port ranges, protocols, hosts, subnets, everything), with an
    /// instance in each and an internet gateway.
    fn long_acl_design(rules: usize) -> String {
        let mut x = 12_345u32;
        let mut next = |m: u32| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 8) % m
        };
        let mut out = String::from(
            "vpc v 10.0.0.0/16 {\n  internet-gateway igw\n  route-table rt {\n    route 0.0.0.0/0 -> igw\n  }\n  network-acl acl1 {\n",
        );
        for i in 0..rules {
            let dir = if next(2) == 0 { "inbound" } else { "outbound" };
            let action = if next(3) == 0 { "allow" } else { "deny" };
            let svc = match next(6) {
                0 => format!("tcp/{}", 1_024 + next(40)),
                1 => {
                    let lo = 1_000 + next(60);
                    format!("tcp/{lo}-{}", lo + next(30))
                }
                2 => format!("udp/{}", 1_024 + next(40)),
                3 => ["HTTPS", "SSH", "any", "tcp"][next(4) as usize].to_string(),
                _ => format!("tcp/{}", [443, 22, 1_030, 1_031][next(4) as usize]),
            };
            let peer = match next(4) {
                0 => format!("10.0.{}.{}/32", 1 + next(2), next(16)),
                1 => format!("10.0.{}.0/24", 1 + next(2)),
                2 => "0.0.0.0/0".to_string(),
                _ => format!("198.51.100.{}/32", next(4)),
            };
            let word = if dir == "inbound" { "from" } else { "to" };
            out.push_str(&format!(
                "    {dir} {} {action} {svc} {word} {peer}\n",
                i + 1
            ));
        }
        out.push_str(
            "    inbound 32000 allow any from 0.0.0.0/0\n    outbound 32000 allow tcp/1024-65535 to 0.0.0.0/0\n  }\n  subnet a 10.0.1.0/24 route-table rt acl acl1\n  subnet b 10.0.2.0/24 acl acl1\n  security-group g {\n    inbound any from 0.0.0.0/0\n  }\n  instance x 10.0.1.10 in a sg [g] elastic-ip 198.51.100.9\n  instance y 10.0.2.10 in b sg [g]\n}\n",
        );
        out
    }

    #[test]
    fn flows_across_an_indexed_acl_are_the_scanned_ones() {
        // Every flow between the instances and the internet, on the rules'
        // ports and around them: the oracle with indexes gives the very
        // trace the scanning one gives, and it did build indexes.
        let text = long_acl_design(300);
        let parsed = crate::syntax::parse(&text);
        let m = crate::model::lower(&parsed.tree).model;
        let indexed = AclIndexes::new(&m);
        let scanned = AclIndexes::scanning(&m);
        let addr = |s: &str| s.parse::<std::net::IpAddr>().expect("test address");
        let ends = [
            addr("10.0.1.10"),
            addr("10.0.2.10"),
            addr("198.51.100.1"),
            addr("198.51.100.9"),
            addr("203.0.113.5"),
        ];
        let mut compared = 0;
        let mut delivered = 0;
        let mut denied = 0;
        for &src in &ends {
            for &dst in &ends {
                for proto in [6u8, 17] {
                    for dport in [22u16, 443, 1_000, 1_024, 1_030, 1_031, 1_045, 1_059, 1_100] {
                        let p = crate::sim::Packet {
                            src,
                            dst,
                            proto,
                            sport: 1_000 + dport % 64,
                            dport,
                        };
                        let start = crate::sim::Start::Address(src);
                        let a = super::super::walk::flow(&m, &indexed, start, p, None);
                        let b = super::super::walk::flow(&m, &scanned, start, p, None);
                        delivered += usize::from(a.reply.is_some());
                        denied += usize::from(
                            a.failure
                                .as_ref()
                                .is_some_and(|f| f.reason.contains("denies it")),
                        );
                        assert_eq!(a, b, "{p:?}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 0 && delivered > 0 && denied > 0);
        assert!(indexed
            .per_acl
            .iter()
            .any(|s| s.iter().any(|i| i.get().is_some())));
        assert!(scanned
            .per_acl
            .iter()
            .all(|s| s.iter().all(|i| i.get().is_none())));
    }

    #[test]
    fn a_long_list_of_single_ports_is_searched_by_port() {
        // Rules on ports 1000.. one each, then a catch-all: a packet to a
        // port is tested against its rule and the catch-all only.
        let mut services: Vec<ServiceSet> = (0..5_000u16)
            .map(|i| ServiceSet {
                ranges: vec![ServiceRange {
                    proto: Some(6),
                    lo: 1_000 + i,
                    hi: 1_000 + i,
                }],
                span: Span::default(),
            })
            .collect();
        services.push(ServiceSet::any(Span::default()));
        let index = RuleIndex::build(services.iter());
        let mut tested = 0;
        let found = index.first(key(6, 3_210), |i| {
            tested += 1;
            i == 5_000
        });
        assert_eq!(found, Some(5_000));
        assert_eq!(tested, 2);
        assert_eq!(index.first(key(17, 3_210), |_| true), Some(5_000));
        assert_eq!(index.first(key(6, 1_000), |_| true), Some(0));
    }
}
