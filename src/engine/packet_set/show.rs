//! Human summaries of packets, boxes, sets and their services.

use super::addr::addr_bits;
use super::addr::{fmt_iv, normalize_ivs, Family, Iv};
use super::cube::{Coord, Cube, DIMS, DPORT, DST, PROTO, SPORT, SRC};
use super::{proto, Packet, PacketBox, PacketSet};
use std::fmt;

/// Boxes shown by `{}` before the summary says how many more there are;
/// `{:#}` shows them all.
const SHOWN: usize = 16;

/// The destination ports (ICMP types) of one protocol range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRanges {
    /// Inclusive protocol range; consecutive protocols with the same ports
    /// share an entry.
    pub proto: (u8, u8),
    /// Sorted, disjoint, non-adjacent inclusive port ranges.
    pub ports: Vec<(u16, u16)>,
}

/// A protocol range and a destination port range, both inclusive.
pub type ServiceBox = ((u8, u8), (u16, u16));

/// The services of a set: for each protocol, the destination ports that
/// some packet of the set uses, whatever its addresses. Displays as
/// `tcp/80, tcp/443-445, udp/53, icmp type 8`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Services(pub Vec<ServiceRanges>);

impl PacketSet {
    /// The destination ports per protocol, for summaries such as
    /// "tcp/80, tcp/443-445 delivered".
    pub fn services(&self) -> Services {
        let boxes: Vec<(Iv, Iv)> = self
            .v4
            .iter()
            .map(|c| (c.iv(PROTO), c.iv(DPORT)))
            .chain(self.v6.iter().map(|c| (c.iv(PROTO), c.iv(DPORT))))
            .collect();
        Services::of_boxes(&boxes)
    }
}

impl Services {
    /// The services of boxes given by their protocol and destination port
    /// ranges (inclusive): what [`PacketSet::services`] reports for a set
    /// of boxes with those ranges, whatever their addresses.
    pub fn from_ranges(ranges: &[ServiceBox]) -> Services {
        let boxes: Vec<(Iv, Iv)> = ranges
            .iter()
            .map(|&((plo, phi), (dlo, dhi))| {
                (
                    Iv {
                        lo: u128::from(plo),
                        hi: u128::from(phi),
                    },
                    Iv {
                        lo: u128::from(dlo),
                        hi: u128::from(dhi),
                    },
                )
            })
            .collect();
        Services::of_boxes(&boxes)
    }

    fn of_boxes(boxes: &[(Iv, Iv)]) -> Services {
        // Cut the protocol axis wherever a box starts or ends; between two
        // cuts every protocol has the same ports.
        let mut cuts: Vec<u128> = boxes.iter().flat_map(|(p, _)| [p.lo, p.hi + 1]).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut out: Vec<ServiceRanges> = Vec::new();
        for w in cuts.windows(2) {
            let (lo, hi) = (w[0], w[1] - 1);
            let mut ports: Vec<Iv> = boxes
                .iter()
                .filter(|(p, _)| p.lo <= lo && hi <= p.hi)
                .map(|(_, d)| *d)
                .collect();
            if ports.is_empty() {
                continue;
            }
            normalize_ivs(&mut ports);
            let ports: Vec<(u16, u16)> = ports
                .iter()
                .map(|iv| (to_u16(iv.lo), to_u16(iv.hi)))
                .collect();
            let (lo, hi) = (to_u8(lo), to_u8(hi));
            match out.last_mut() {
                Some(last)
                    if last.ports == ports && u16::from(last.proto.1) + 1 == u16::from(lo) =>
                {
                    last.proto.1 = hi;
                }
                _ => out.push(ServiceRanges {
                    proto: (lo, hi),
                    ports,
                }),
            }
        }
        Services(out)
    }
}

fn to_u16(v: u128) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

fn to_u8(v: u128) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

fn proto_name(p: u8) -> Option<&'static str> {
    match p {
        proto::ICMP => Some("icmp"),
        proto::TCP => Some("tcp"),
        proto::UDP => Some("udp"),
        proto::ICMPV6 => Some("icmpv6"),
        _ => None,
    }
}

fn fmt_ports(f: &mut fmt::Formatter<'_>, (lo, hi): (u16, u16)) -> fmt::Result {
    if lo == hi {
        write!(f, "{lo}")
    } else {
        write!(f, "{lo}-{hi}")
    }
}

/// One protocol range with one port range: `tcp/443`, `icmp type 8`, `udp`,
/// `proto 47`, `proto 0-5/80`, `any`.
fn fmt_service(f: &mut fmt::Formatter<'_>, (plo, phi): (u8, u8), ports: (u16, u16)) -> fmt::Result {
    let all_ports = ports == (0, u16::MAX);
    if plo == phi {
        let name = proto_name(plo);
        match name {
            Some(n) => f.write_str(n)?,
            None => write!(f, "proto {plo}")?,
        }
        if all_ports {
            return Ok(());
        }
        if plo == proto::ICMP || plo == proto::ICMPV6 {
            f.write_str(" type ")?;
        } else {
            f.write_str("/")?;
        }
        return fmt_ports(f, ports);
    }
    if (plo, phi) == (0, u8::MAX) {
        f.write_str("any")?;
    } else {
        write!(f, "proto {plo}-{phi}")?;
    }
    if all_ports {
        return Ok(());
    }
    f.write_str("/")?;
    fmt_ports(f, ports)
}

impl fmt::Display for Services {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for s in &self.0 {
            for p in &s.ports {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                fmt_service(f, s.proto, *p)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Packet {
    /// `10.0.0.1 -> 52.0.0.1 tcp/443 sport 1024`, `... icmp type 8`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} ", self.src, self.dst)?;
        if proto_name(self.proto).is_some() || self.dport != 0 {
            fmt_service(f, (self.proto, self.proto), (self.dport, self.dport))?;
        } else {
            // Protocols without ports usually leave the field at 0: `proto 47`.
            write!(f, "proto {}", self.proto)?;
        }
        let ported = self.proto == proto::TCP || self.proto == proto::UDP;
        if ported || self.sport != 0 {
            write!(f, " sport {}", self.sport)?;
        }
        Ok(())
    }
}

/// A box of either family as its five `u128` intervals, for printing.
type Ivs = [Iv; DIMS];

fn ivs_of<T: Coord>(c: &Cube<T>) -> Ivs {
    [0, 1, 2, 3, 4].map(|d| c.iv(d))
}

/// Writes the addresses, the services of `group` (boxes that differ in
/// protocol and destination port only) and the source ports.
fn fmt_group(f: &mut fmt::Formatter<'_>, fam: Family, group: &[Ivs]) -> fmt::Result {
    let Some(c) = group.first() else {
        return Ok(());
    };
    fmt_iv(f, fam, c[SRC])?;
    f.write_str(" -> ")?;
    fmt_iv(f, fam, c[DST])?;
    f.write_str(" ")?;
    for (i, g) in group.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        fmt_service(
            f,
            (to_u8(g[PROTO].lo), to_u8(g[PROTO].hi)),
            (to_u16(g[DPORT].lo), to_u16(g[DPORT].hi)),
        )?;
    }
    if c[SPORT] != Iv::new(0, u128::from(u16::MAX)) {
        f.write_str(" sport ")?;
        fmt_ports(f, (to_u16(c[SPORT].lo), to_u16(c[SPORT].hi)))?;
    }
    Ok(())
}

impl fmt::Display for PacketBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addrs = |(lo, hi): (std::net::IpAddr, std::net::IpAddr)| {
            Iv::new(addr_bits(lo).1, addr_bits(hi).1)
        };
        let small = |(lo, hi): (u16, u16)| Iv::new(u128::from(lo), u128::from(hi));
        let mut c = [Iv::new(0, 0); DIMS];
        c[SRC] = addrs(self.src);
        c[DST] = addrs(self.dst);
        c[PROTO] = Iv::new(u128::from(self.proto.0), u128::from(self.proto.1));
        c[SPORT] = small(self.sport);
        c[DPORT] = small(self.dport);
        fmt_group(f, self.family, &[c])
    }
}

impl fmt::Display for PacketSet {
    /// Boxes as `src -> dst services [sport ports]`, separated by `; `,
    /// IPv4 first, in address order; boxes that differ only in their
    /// services share one entry. `{}` stops after 16 entries and says how
    /// many more there are; `{:#}` writes them all. The empty set is `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        // Display order: addresses, then source ports, then services.
        let key = |c: &Ivs| [SRC, DST, SPORT, PROTO, DPORT].map(|d| c[d]);
        let mut groups: Vec<(Family, Vec<Ivs>)> = Vec::new();
        let families = [
            (Family::V4, self.v4.iter().map(ivs_of).collect::<Vec<_>>()),
            (Family::V6, self.v6.iter().map(ivs_of).collect()),
        ];
        for (fam, mut boxes) in families {
            boxes.sort_unstable_by_key(key);
            for c in boxes {
                match groups.last_mut() {
                    Some((gf, g))
                        if *gf == fam
                            && g.first().is_some_and(|h| {
                                [SRC, DST, SPORT].iter().all(|&d| h[d] == c[d])
                            }) =>
                    {
                        g.push(c)
                    }
                    _ => groups.push((fam, vec![c])),
                }
            }
        }
        let limit = if f.alternate() { usize::MAX } else { SHOWN };
        for (i, (fam, g)) in groups.iter().enumerate().take(limit) {
            if i > 0 {
                f.write_str("; ")?;
            }
            fmt_group(f, *fam, g)?;
        }
        if groups.len() > limit {
            write!(f, "; and {} more", groups.len() - limit)?;
        }
        Ok(())
    }
}

impl fmt::Debug for PacketSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PacketSet {{ {self:#} }}")
    }
}
