//! Views: the current header of a flow as a function of its original packet.
//!
//! The engine never rewrites packet sets (see `docs/engine.md`). A branch
//! keeps the set of *original* packets it stands for and a [`View`] that
//! says, field by field, what the current header is: a constant, or an
//! original field (possibly shifted by a prefix-to-prefix static NAT). NAT
//! changes the view; decisions on the current header become intersections
//! of the original set through [`View::preimage`].

use super::packet_set::{AddrRanges, AddrShift, Family, Packet, PacketSet};
use std::net::IpAddr;

/// Which original address field a current address field comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddrField {
    Src,
    Dst,
}

/// Which original port field a current port field comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortField {
    Sport,
    Dport,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddrExpr {
    Const(IpAddr),
    /// The original field, mapped through a static NAT shift when present.
    Orig(AddrField, Option<AddrShift>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortExpr {
    Const(u16),
    Orig(PortField),
}

/// The current header as a function of the original packet. The protocol is
/// never rewritten, so it has no expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct View {
    pub src: AddrExpr,
    pub dst: AddrExpr,
    pub sport: PortExpr,
    pub dport: PortExpr,
}

impl Default for View {
    fn default() -> Self {
        View::IDENTITY
    }
}

/// A predicate on the current header, as the ranges each field must lie in;
/// `None` leaves the field unconstrained.
#[derive(Clone, Debug, Default)]
pub struct HeaderPredicate {
    pub src: Option<AddrRanges>,
    pub dst: Option<AddrRanges>,
    pub proto: Option<(u8, u8)>,
    pub sport: Option<(u16, u16)>,
    pub dport: Option<(u16, u16)>,
}

impl View {
    pub const IDENTITY: View = View {
        src: AddrExpr::Orig(AddrField::Src, None),
        dst: AddrExpr::Orig(AddrField::Dst, None),
        sport: PortExpr::Orig(PortField::Sport),
        dport: PortExpr::Orig(PortField::Dport),
    };

    /// The current header of one original packet. `None` when a static NAT
    /// shift is applied to an address outside its source block (the engine
    /// only applies a shift to packets its rule matched, so this does not
    /// happen on a well-formed branch).
    pub fn apply(&self, p: &Packet) -> Option<Packet> {
        let addr = |e: AddrExpr| -> Option<IpAddr> {
            match e {
                AddrExpr::Const(a) => Some(a),
                AddrExpr::Orig(f, shift) => {
                    let a = match f {
                        AddrField::Src => p.src,
                        AddrField::Dst => p.dst,
                    };
                    match shift {
                        None => Some(a),
                        Some(s) => {
                            let (lo, hi) = s.source_block();
                            (a >= lo && a <= hi && Family::of(a) == s.family()).then(|| s.apply(a))
                        }
                    }
                }
            }
        };
        let port = |e: PortExpr| match e {
            PortExpr::Const(v) => v,
            PortExpr::Orig(PortField::Sport) => p.sport,
            PortExpr::Orig(PortField::Dport) => p.dport,
        };
        Some(Packet {
            src: addr(self.src)?,
            dst: addr(self.dst)?,
            proto: p.proto,
            sport: port(self.sport),
            dport: port(self.dport),
        })
    }

    /// The view of the reply: addresses and ports swapped.
    pub fn swapped(&self) -> View {
        View {
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
        }
    }

    pub fn with_src(self, src: AddrExpr) -> View {
        View { src, ..self }
    }

    pub fn with_dst(self, dst: AddrExpr) -> View {
        View { dst, ..self }
    }

    pub fn with_dport(self, dport: PortExpr) -> View {
        View { dport, ..self }
    }

    /// The original packets whose current header satisfies `pred`.
    ///
    /// Each current field constrains the original field it comes from (its
    /// range mapped back through a shift), or, when it is a constant, keeps
    /// everything or nothing. Two current fields never come from one
    /// original field in the views NAT produces, but if they did the
    /// constraints would simply intersect.
    pub fn preimage(&self, pred: &HeaderPredicate) -> PacketSet {
        let mut src = AddrRanges::all();
        let mut dst = AddrRanges::all();
        let mut sport = (0u16, u16::MAX);
        let mut dport = (0u16, u16::MAX);
        let mut addr = |expr: AddrExpr, want: &Option<AddrRanges>| -> bool {
            let Some(want) = want else { return true };
            match expr {
                AddrExpr::Const(a) => want.contains(a),
                AddrExpr::Orig(field, shift) => {
                    let back = match shift {
                        None => want.clone(),
                        Some(s) => unshift(want, &s),
                    };
                    let slot = match field {
                        AddrField::Src => &mut src,
                        AddrField::Dst => &mut dst,
                    };
                    *slot = slot.intersect(&back);
                    true
                }
            }
        };
        if !addr(self.src, &pred.src) || !addr(self.dst, &pred.dst) {
            return PacketSet::empty();
        }
        let mut port = |expr: PortExpr, want: Option<(u16, u16)>| -> bool {
            let Some((lo, hi)) = want else { return true };
            match expr {
                PortExpr::Const(v) => (lo..=hi).contains(&v),
                PortExpr::Orig(field) => {
                    let slot = match field {
                        PortField::Sport => &mut sport,
                        PortField::Dport => &mut dport,
                    };
                    *slot = (slot.0.max(lo), slot.1.min(hi));
                    true
                }
            }
        };
        if !port(self.sport, pred.sport) || !port(self.dport, pred.dport) {
            return PacketSet::empty();
        }
        if sport.0 > sport.1 || dport.0 > dport.1 {
            return PacketSet::empty();
        }
        let set = PacketSet::from_fields(&src, &dst, None, sport, dport);
        match pred.proto {
            Some((lo, hi)) if (lo, hi) != (0, u8::MAX) => set.with_proto(lo, hi),
            _ => set,
        }
    }

    /// The original packets among `set`'s boxes-in-current-space: the union
    /// of the preimages of its boxes.
    pub fn preimage_set(&self, set: &PacketSet) -> PacketSet {
        // Most branches have not been translated: nothing to map.
        if *self == View::IDENTITY {
            return set.clone();
        }
        // A box's ranges are always well-formed; a box that somehow is not
        // contributes nothing rather than an unconstrained field.
        let preds = set.boxes().filter_map(|b| {
            Some(HeaderPredicate {
                src: Some(AddrRanges::from_range(b.src.0, b.src.1)?),
                dst: Some(AddrRanges::from_range(b.dst.0, b.dst.1)?),
                proto: Some(b.proto),
                sport: Some(b.sport),
                dport: Some(b.dport),
            })
        });
        let parts: Vec<PacketSet> = preds.map(|p| self.preimage(&p)).collect();
        PacketSet::union_all(&parts)
    }
}

/// The original addresses a shift maps into `want`.
fn unshift(want: &AddrRanges, s: &AddrShift) -> AddrRanges {
    let (tlo, thi) = s.target_block();
    let Some(target) = AddrRanges::from_range(tlo, thi) else {
        return AddrRanges::empty();
    };
    let inv = s.inverse();
    let hit = want.intersect(&target);
    let mut out = AddrRanges::empty();
    for (lo, hi) in hit.ranges() {
        if let Some(r) = AddrRanges::from_range(inv.apply(lo), inv.apply(hi)) {
            out = out.union(&r);
        }
    }
    out
}
