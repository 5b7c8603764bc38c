//! What a service list means as packets: the flows an expectation's
//! services name between two address lists, and the packets a filter
//! rule's services match.

use super::packet_set::{AddrRanges, Family, PacketSet};
use super::space::{EPHEMERAL, ICMP, ICMPV6, TCP, UDP};
use crate::model::{ServiceRange, ServiceSet};

/// The packets a service set covers, between any addresses, with clients'
/// source ports: what an expectation's service list means.
pub fn service_flows(set: &ServiceSet, src: &AddrRanges, dst: &AddrRanges) -> PacketSet {
    // The ranges are made disjoint first (every protocol absorbs the rest;
    // one protocol's overlapping port ranges merge), so that the products
    // below are disjoint and their union is a concatenation. A union of
    // products that may overlap costs an overlap search over the product
    // of the address lists, which for two scattered lists is what the
    // expectation's whole walk costs again.
    let parts: Vec<Part> = disjoint_services(&set.ranges)
        .into_iter()
        .flat_map(parts_of)
        .collect();
    let sets: Vec<PacketSet> = parts.iter().map(|p| p.flows(src, dst)).collect();
    // Boxes of two parts share their addresses, so they can only touch
    // where the parts' protocols and ports do: when no two parts touch,
    // the concatenation is merged already, and merging a million boxes is
    // most of what building them costs.
    let touch = parts
        .iter()
        .enumerate()
        .any(|(i, a)| parts[i + 1..].iter().any(|b| a.touches(b)));
    if touch {
        PacketSet::union_disjoint(sets)
    } else {
        PacketSet::concat_merged(sets)
    }
}

/// One product of a service list: a protocol range with source and
/// destination port (or ICMP type) ranges, for one family or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Part {
    family: Option<Family>,
    proto: (u8, u8),
    sport: (u16, u16),
    dport: (u16, u16),
}

impl Part {
    fn flows(&self, src: &AddrRanges, dst: &AddrRanges) -> PacketSet {
        let (src, dst) = match self.family {
            Some(f) => (src.only(f), dst.only(f)),
            None => (src.clone(), dst.clone()),
        };
        PacketSet::from_field_ranges(&src, &dst, self.proto, self.sport, self.dport)
    }

    /// Whether a box of one part could touch a box of the other: the same
    /// family can hold both, and their ranges are equal in two fields and
    /// meet end to end in the third.
    fn touches(&self, o: &Part) -> bool {
        fn meet<T: Copy + Ord + Into<u32>>(a: (T, T), b: (T, T)) -> bool {
            a.1.into() + 1 == b.0.into() || b.1.into() + 1 == a.0.into()
        }
        let families = match (self.family, o.family) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        families
            && ((meet(self.proto, o.proto) && self.sport == o.sport && self.dport == o.dport)
                || (self.proto == o.proto && meet(self.sport, o.sport) && self.dport == o.dport)
                || (self.proto == o.proto && self.sport == o.sport && meet(self.dport, o.dport)))
    }
}

/// The most boxes one expectation's flow set may have: an expectation over
/// more is not decided (NP905). The engine's work and memory grow with the
/// boxes of the sets it walks (a little faster than linearly), and a flow
/// set has one box per source range, destination range and protocol, so
/// two lists of scattered addresses make a set as large as their lengths
/// multiplied: 1,000 by 1,000 addresses over every protocol would be 8
/// million boxes, minutes and gigabytes. At this limit an expectation takes
/// 0.6 to 1.5 seconds and 180 to 390 MB (`docs/performance.md`).
pub const MAX_FLOW_BOXES: u128 = 500_000;

/// How many boxes [`service_flows`] of the same arguments builds, counted
/// on the lists: for each protocol range of the services, source ranges
/// times destination ranges of the families it belongs to.
pub fn flow_boxes(set: &ServiceSet, src: &AddrRanges, dst: &AddrRanges) -> u128 {
    let ranges = |a: &AddrRanges, f: Family| a.ivs(f).len() as u128;
    let pairs = |f: Family| ranges(src, f).saturating_mul(ranges(dst, f));
    let (v4, v6) = (pairs(Family::V4), pairs(Family::V6));
    disjoint_services(&set.ranges)
        .into_iter()
        .flat_map(parts_of)
        .map(|p| match p.family {
            Some(Family::V4) => v4,
            Some(Family::V6) => v6,
            None => v4.saturating_add(v6),
        })
        .fold(0u128, u128::saturating_add)
}

/// Whether [`service_flows`] of the same arguments holds any packet,
/// decided without building the product of the address lists.
pub fn has_service_flows(set: &ServiceSet, src: &AddrRanges, dst: &AddrRanges) -> bool {
    let pair = |f: Family| !src.only(f).is_empty() && !dst.only(f).is_empty();
    let (v4, v6) = (pair(Family::V4), pair(Family::V6));
    set.ranges.iter().any(|r| match r.proto {
        // An ICMP or ICMPv6 type range, or a TCP or UDP port range, that is
        // empty makes an empty product, as `from_fields` does.
        Some(ICMP) => v4 && r.lo <= r.hi,
        Some(ICMPV6) => v6 && r.lo <= r.hi,
        Some(TCP | UDP) => (v4 || v6) && r.lo <= r.hi,
        Some(_) | None => v4 || v6,
    })
}

/// A service list as disjoint ranges, in a canonical order: every protocol
/// alone if the list has it, else one protocol's ranges merged where they
/// overlap or touch. Ports mean nothing to a protocol without them (see
/// `range_flows`), so such a protocol's ranges merge into one.
fn disjoint_services(ranges: &[ServiceRange]) -> Vec<ServiceRange> {
    if ranges.iter().any(|r| r.proto.is_none()) {
        return vec![ServiceRange::ANY];
    }
    let mut v: Vec<ServiceRange> = ranges
        .iter()
        .filter_map(|r| match r.proto {
            // An empty port or type range names no packet (`from_fields`).
            Some(TCP | UDP | ICMP | ICMPV6) => (r.lo <= r.hi).then_some(*r),
            Some(p) => Some(ServiceRange::proto(p)),
            None => Some(ServiceRange::ANY),
        })
        .collect();
    v.sort_unstable();
    let mut out: Vec<ServiceRange> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if last.proto == r.proto && u32::from(r.lo) <= u32::from(last.hi) + 1 => {
                last.hi = last.hi.max(r.hi);
            }
            _ => out.push(r),
        }
    }
    out
}

/// The protocols other than TCP, UDP, ICMP and ICMPv6, as inclusive ranges:
/// the ones `any` covers without ports.
const OTHER_PROTOCOLS: [(u8, u8); 5] = [(0, 0), (2, 5), (7, 16), (18, 57), (59, u8::MAX)];

/// The products a service range stands for. ICMP belongs to IPv4 and
/// ICMPv6 to IPv6: neither is a flow of the other family.
fn parts_of(r: ServiceRange) -> Vec<Part> {
    let part = |family, proto: (u8, u8), sport, dport| Part {
        family,
        proto,
        sport,
        dport,
    };
    let ports = (r.lo, r.hi);
    let v4 = Some(Family::V4);
    let v6 = Some(Family::V6);
    match r.proto {
        Some(p @ (TCP | UDP)) => vec![part(None, (p, p), EPHEMERAL, ports)],
        Some(ICMP) => vec![part(v4, (ICMP, ICMP), (0, 0), ports)],
        Some(ICMPV6) => vec![part(v6, (ICMPV6, ICMPV6), (0, 0), ports)],
        Some(p) => vec![part(None, (p, p), (0, 0), (0, 0))],
        None => {
            let mut v = vec![
                part(None, (TCP, TCP), EPHEMERAL, (0, u16::MAX)),
                part(None, (UDP, UDP), EPHEMERAL, (0, u16::MAX)),
                part(v4, (ICMP, ICMP), (0, 0), (0, 255)),
                part(v6, (ICMPV6, ICMPV6), (0, 0), (0, 255)),
            ];
            v.extend(
                OTHER_PROTOCOLS
                    .iter()
                    .map(|&p| part(None, p, (0, 0), (0, 0))),
            );
            v
        }
    }
}

/// The packets a filter rule's service list matches, as a set over the
/// current header (any addresses, any source port).
pub fn service_match(set: &ServiceSet) -> PacketSet {
    let any = AddrRanges::all();
    let mut parts = Vec::new();
    for r in &set.ranges {
        parts.push(match r.proto {
            None => PacketSet::all(),
            Some(p) => PacketSet::from_fields(&any, &any, Some(p), (0, u16::MAX), (r.lo, r.hi)),
        });
    }
    PacketSet::union_all(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;
    use proptest::prelude::*;
    use std::net::IpAddr;

    /// What `service_flows` was before its parts were made disjoint: every
    /// range's products, unioned with an overlap search, and the other
    /// protocols as every protocol minus four. The reference it must equal.
    fn reference(set: &ServiceSet, src: &AddrRanges, dst: &AddrRanges) -> PacketSet {
        let (src4, dst4) = (src.only(Family::V4), dst.only(Family::V4));
        let (src6, dst6) = (src.only(Family::V6), dst.only(Family::V6));
        let mut parts = Vec::new();
        for r in &set.ranges {
            let ports = (r.lo, r.hi);
            match r.proto {
                Some(p @ (TCP | UDP)) => {
                    parts.push(PacketSet::from_fields(src, dst, Some(p), EPHEMERAL, ports))
                }
                Some(ICMP) => parts.push(PacketSet::from_fields(
                    &src4,
                    &dst4,
                    Some(ICMP),
                    (0, 0),
                    ports,
                )),
                Some(ICMPV6) => parts.push(PacketSet::from_fields(
                    &src6,
                    &dst6,
                    Some(ICMPV6),
                    (0, 0),
                    ports,
                )),
                Some(p) => parts.push(PacketSet::from_fields(src, dst, Some(p), (0, 0), (0, 0))),
                None => {
                    parts.push(PacketSet::from_fields(
                        src,
                        dst,
                        Some(TCP),
                        EPHEMERAL,
                        (0, 65535),
                    ));
                    parts.push(PacketSet::from_fields(
                        src,
                        dst,
                        Some(UDP),
                        EPHEMERAL,
                        (0, 65535),
                    ));
                    parts.push(PacketSet::from_fields(
                        &src4,
                        &dst4,
                        Some(ICMP),
                        (0, 0),
                        (0, 255),
                    ));
                    parts.push(PacketSet::from_fields(
                        &src6,
                        &dst6,
                        Some(ICMPV6),
                        (0, 0),
                        (0, 255),
                    ));
                    let others = PacketSet::from_fields(src, dst, None, (0, 0), (0, 0));
                    let others = [ICMP, TCP, UDP, ICMPV6]
                        .iter()
                        .fold(others, |acc, &p| acc.difference(&acc.with_proto(p, p)));
                    parts.push(others);
                }
            }
        }
        PacketSet::union_all(&parts)
    }

    fn arb_range() -> impl Strategy<Value = ServiceRange> {
        // Protocols next to each other and to the four with ports, and port
        // ranges that overlap, touch or are empty.
        let proto = prop_oneof![
            Just(None),
            (0u8..8).prop_map(Some),
            (15u8..19).prop_map(Some),
            (56u8..60).prop_map(Some),
        ];
        (proto, 0u16..6, 0u16..6).prop_map(|(proto, lo, hi)| ServiceRange { proto, lo, hi })
    }

    fn arb_addrs() -> impl Strategy<Value = AddrRanges> {
        // A few single addresses and ranges of both families, scattered and
        // adjacent.
        prop::collection::vec((any::<bool>(), 0u8..12, 0u8..3), 0..5).prop_map(|v| {
            AddrRanges::union_many(v.into_iter().filter_map(|(v6, lo, len)| {
                let at = |x: u8| -> IpAddr {
                    if v6 {
                        IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(x)])
                    } else {
                        IpAddr::from([10, 0, 0, x])
                    }
                };
                AddrRanges::from_range(at(lo), at(lo.saturating_add(len)))
            }))
        })
    }

    fn services(ranges: Vec<ServiceRange>) -> ServiceSet {
        ServiceSet {
            ranges,
            span: Span::default(),
        }
    }

    proptest! {
        #[test]
        fn flows_are_the_reference_set(
            ranges in prop::collection::vec(arb_range(), 0..5),
            src in arb_addrs(),
            dst in arb_addrs(),
        ) {
            let set = services(ranges);
            let flows = service_flows(&set, &src, &dst);
            prop_assert!(flows.set_eq(&reference(&set, &src, &dst)));
            prop_assert_eq!(has_service_flows(&set, &src, &dst), !flows.is_empty());
            // The count is what gets built, before any merging.
            prop_assert!(flows.box_count() as u128 <= flow_boxes(&set, &src, &dst));
            if set.ranges.len() == 1 {
                prop_assert_eq!(flows.box_count() as u128, flow_boxes(&set, &src, &dst));
            }
        }
    }

    #[test]
    fn the_count_is_sources_times_destinations_times_protocol_ranges() {
        let list = |base: u8| {
            AddrRanges::union_many(
                (0..10u8).map(|i| AddrRanges::from_addr(IpAddr::from([10, base, 0, 2 * i]))),
            )
        };
        let any = services(vec![ServiceRange::ANY]);
        // TCP, UDP, ICMP and five ranges of other protocols, in IPv4.
        assert_eq!(flow_boxes(&any, &list(1), &list(2)), 10 * 10 * 8);
        let https = services(vec![ServiceRange {
            proto: Some(TCP),
            lo: 443,
            hi: 443,
        }]);
        assert_eq!(flow_boxes(&https, &list(1), &list(2)), 100);
        assert_eq!(service_flows(&https, &list(1), &list(2)).box_count(), 100);
    }
}
