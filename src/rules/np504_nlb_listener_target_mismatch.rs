//! NP504 nlb-listener-target-mismatch: a listener forwards to a port that
//! the target's security groups do not admit.
//!
//! For every listener and every target it names (AWS sends to all of them,
//! not only the first), the port on the target is the listener's `port`
//! or, without one, the listener's own port. The target's security groups
//! must admit that protocol and port from some source; the question of
//! *which* source (the client or the NLB) is NP502's.

use crate::diagnostic::Diagnostic;
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::{SgSide, Space, TCP, UDP};
use crate::model::{Entity, HostKind, NlbId};
use crate::registry::Code;

/// The (protocol, first port, last port) a listener sends to its targets.
pub(crate) fn target_ports(l: &crate::model::Listener) -> Vec<(u8, u16, u16)> {
    let mut out: Vec<(u8, u16, u16)> = l
        .services
        .ranges
        .iter()
        .filter_map(|r| match r.proto {
            Some(p @ (TCP | UDP)) => Some(match l.port {
                Some(port) => (p, port, port),
                None => (p, r.lo, r.hi),
            }),
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// "tcp/80" or "tcp/8000-8010".
pub(crate) fn show_ports(proto: u8, lo: u16, hi: u16) -> String {
    let p = if proto == TCP { "tcp" } else { "udp" };
    if lo == hi {
        format!("{p}/{lo}")
    } else {
        format!("{p}/{lo}-{hi}")
    }
}

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    let m = space.model;
    for (n, nlb) in m.nlbs.iter().enumerate() {
        let nlb_name = m.display_name(Entity::Nlb(NlbId(n as u32)));
        for l in &nlb.listeners {
            for target in &l.targets {
                let Some(host) = m.hosts.get(target.value.index()) else {
                    continue;
                };
                if host.kind != HostKind::Instance {
                    continue;
                }
                let sgs: Vec<_> = host.sgs.iter().map(|s| s.value).collect();
                // Every header the groups admit, from any address and from
                // any sending interface.
                let mut parts: Vec<PacketSet> = sgs
                    .iter()
                    .map(|&g| space.sg_rules(g, SgSide::Inbound))
                    .collect();
                for &g in &sgs {
                    parts.extend(space.sg_sender_rules(g).iter().map(|r| r.services.clone()));
                }
                let admitted = PacketSet::union_all(&parts);
                let to = AddrRanges::from_addr(host.addr.value);
                for (proto, lo, hi) in target_ports(l) {
                    let probe = PacketSet::from_fields(
                        &AddrRanges::all(),
                        &to,
                        Some(proto),
                        (0, u16::MAX),
                        (lo, hi),
                    );
                    if !admitted.intersect(&probe).is_empty() {
                        continue;
                    }
                    let ports = show_ports(proto, lo, hi);
                    let names: Vec<String> = sgs
                        .iter()
                        .filter_map(|g| m.security_groups.get(g.index()))
                        .map(|g| format!("`{}`", g.decl.name))
                        .collect();
                    let groups = if names.is_empty() {
                        "no security group".to_string()
                    } else {
                        names.join(", ")
                    };
                    let mut d = Diagnostic::new(
                        Code::NP504,
                        format!(
                            "a listener of nlb `{nlb_name}` forwards {ports} to `{}`, but its security groups ({groups}) admit {ports} from nowhere",
                            host.decl.name
                        ),
                        l.span,
                        format!("forwards to `{}` on {ports}", host.decl.name),
                    )
                    .with_help(format!(
                        "admit {ports} in one of the target's security groups (from the NLB's subnet, or the clients for target type instance), or point the listener's `port` at a port the target serves"
                    ));
                    // An instance without an `sg` clause is in its VPC's
                    // default group, whose reference has no text of its own.
                    let within = |sp: crate::span::Span| {
                        sp.start >= host.decl.span.start && sp.end <= host.decl.span.end
                    };
                    match host.sgs.first() {
                        Some(s) if within(s.span) => {
                            d = d.with_label(s.span, format!("admits no {ports}"))
                        }
                        Some(_) => {
                            d = d.with_label(
                                host.decl.name_span,
                                format!("in the default group only, which admits no {ports}"),
                            )
                        }
                        None => d = d.with_label(host.decl.name_span, "in no security group"),
                    }
                    out.push(d);
                }
            }
        }
    }
}
