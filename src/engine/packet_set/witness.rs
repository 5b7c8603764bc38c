//! One packet of a set, to show in a message (see [`PacketSet::witness`]).
//!
//! The choice depends only on the set, not on how it was built, and reads
//! as a packet someone could send: its addresses are host addresses, never
//! an address a subnet reserves, and its source port is the default client
//! port when the set allows it.
//!
//! A set does not know the subnets its addresses belong to, so "never a
//! reserved address" is made to hold for every subnet an address could be
//! in. The platforms reserve, in a subnet of four or more addresses, its
//! network address, its first address after that (the gateway of NSX
//! segments, of Hyper-V VM network subnets and, by convention, of on-prem
//! segments; the VPC router in AWS), its last (broadcast), and in AWS also
//! the second and third (the Amazon DNS server and "future use"; AWS
//! subnets have 16 addresses or more). An address at offset 6, 10 or 14 of
//! its aligned block of 16 is none of these for any aligned block holding
//! it: its offset in a block of 4 is 2 (not the network, gateway or
//! broadcast address of a /30), in a block of 8 it is 2 or 6 (not 0, 1 or
//! 7), and in any block of 16 or more it is 6 or more (not 0-3) and not the
//! block's last (which is at offset 15 of its 16). So the witness takes the
//! lowest such address of the set, or an address the set holds alone (a
//! lone address is a host that was named, whatever its value). Only a set
//! with neither (its ranges all shorter than eight addresses) gets an
//! address of its lowest range: the one at offset 2 of a block of four when
//! the range holds it, else its first.

use super::addr::{normalize_ivs, Family, Iv};
use super::cube::{Coord, Cube, DPORT, DST, PROTO, SPORT, SRC};
use super::Packet;
use crate::model::services::DEFAULT_CLIENT_PORT;

/// Blocks that hold no host a design sends from or to: "this network"
/// (0.0.0.0/8, where the witness of a whole family used to find 0.0.0.1),
/// loopback, multicast and the reserved 240.0.0.0/4; for IPv6 the reserved
/// ::/8 (unspecified, loopback, IPv4-mapped), link-local and multicast. The
/// witness avoids them when the set has any other address.
const SPECIAL_V4: [(u128, u128); 3] = [
    (0x0000_0000, 0x00FF_FFFF),
    (0x7F00_0000, 0x7FFF_FFFF),
    (0xE000_0000, 0xFFFF_FFFF),
];
const SPECIAL_V6: [(u128, u128); 3] = [
    (0, (1 << 120) - 1),
    (0xfe80 << 112, (0xfec0 << 112) - 1),
    (0xff00 << 112, u128::MAX),
];

/// Offsets in an aligned block of 16 that are a reserved address of no
/// subnet (module documentation).
const HOST_OFFSETS: [u128; 3] = [6, 10, 14];

/// The witness among one family's boxes (see [`super::PacketSet::witness`]).
pub(super) fn witness_in<T: Coord>(boxes: &[Cube<T>]) -> Option<Packet> {
    let lowest = |cs: &[&Cube<T>], d: usize| cs.iter().map(|c| c.lo[d]).min();
    let all: Vec<&Cube<T>> = boxes.iter().collect();
    let dport = lowest(&all, DPORT)?;
    let cs = pin(all, DPORT, dport);
    let proto = lowest(&cs, PROTO)?;
    let cs = pin(cs, PROTO, proto);
    let dst = host(&cs, DST)?;
    let cs = pin(cs, DST, dst);
    let src = host(&cs, SRC)?;
    let cs = pin(cs, SRC, src);
    let mut sports: Vec<Iv> = cs.iter().map(|c| c.iv(SPORT)).collect();
    normalize_ivs(&mut sports);
    let sport = client_port(&sports)?;
    Some(Packet {
        src: src.addr(),
        dst: dst.addr(),
        proto: u8::try_from(proto.to_u128()).ok()?,
        sport: u16::try_from(sport).ok()?,
        dport: u16::try_from(dport.to_u128()).ok()?,
    })
}

/// The source port: the default client port when the set holds it, else
/// the lowest port above it, else the lowest port.
fn client_port(sports: &[Iv]) -> Option<u128> {
    let default = u128::from(DEFAULT_CLIENT_PORT);
    sports
        .iter()
        .find(|iv| iv.hi >= default)
        .map(|iv| iv.lo.max(default))
        .or_else(|| sports.first().map(|iv| iv.lo))
}

/// The boxes that hold value `v` in dimension `d`.
fn pin<T: Coord>(cs: Vec<&Cube<T>>, d: usize, v: T) -> Vec<&Cube<T>> {
    cs.into_iter()
        .filter(|c| c.lo[d] <= v && v <= c.hi[d])
        .collect()
}

/// The address the witness uses in dimension `d` of the boxes (module
/// documentation).
fn host<T: Coord>(cs: &[&Cube<T>], d: usize) -> Option<T> {
    let mut ivs: Vec<Iv> = cs.iter().map(|c| c.iv(d)).collect();
    normalize_ivs(&mut ivs);
    let special: &[(u128, u128)] = match T::FAMILY {
        Family::V4 => &SPECIAL_V4,
        Family::V6 => &SPECIAL_V6,
    };
    let ordinary = without(&ivs, special);
    let pool = if ordinary.is_empty() { &ivs } else { &ordinary };
    pool.iter()
        .find_map(|iv| (iv.lo == iv.hi).then_some(iv.lo).or_else(|| safe_in(iv)))
        .or_else(|| pool.first().map(first_host))
        .map(T::from_u128)
}

/// The lowest address of a range at a host offset of its block of 16.
fn safe_in(iv: &Iv) -> Option<u128> {
    let base = iv.lo - iv.lo % 16;
    [0u128, 16]
        .iter()
        .flat_map(|block| HOST_OFFSETS.iter().map(move |o| (block, o)))
        .filter_map(|(block, o)| base.checked_add(block + o))
        .find(|a| iv.lo <= *a && *a <= iv.hi)
}

/// A range too small to hold an address at a host offset: its address at
/// offset 2 of a block of four when it has one (never a network, gateway or
/// broadcast address of a block of four or more), else its first.
fn first_host(iv: &Iv) -> u128 {
    let two = iv.lo - iv.lo % 4 + 2;
    if iv.lo <= two && two <= iv.hi {
        two
    } else {
        iv.lo
    }
}

/// The ranges minus the blocks, in order.
fn without(ivs: &[Iv], blocks: &[(u128, u128)]) -> Vec<Iv> {
    let mut out = Vec::new();
    for iv in ivs {
        let mut pieces = vec![*iv];
        for &(lo, hi) in blocks {
            pieces = pieces
                .into_iter()
                .flat_map(|p| {
                    let mut left = Vec::new();
                    if p.hi < lo || p.lo > hi {
                        left.push(p);
                        return left;
                    }
                    if p.lo < lo {
                        left.push(Iv::new(p.lo, lo - 1));
                    }
                    if p.hi > hi {
                        left.push(Iv::new(hi + 1, p.hi));
                    }
                    left
                })
                .collect();
        }
        out.extend(pieces);
    }
    out
}
