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
