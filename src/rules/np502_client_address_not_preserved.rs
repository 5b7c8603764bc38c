//! NP502 client-address-not-preserved: a target's security group admits
//! the clients of an NLB, but the traffic arrives from the NLB's address.
//!
//! The target sees the NLB's address when the NLB is reached through
//! PrivateLink (always) or when the listener's target type is `ip`
//! (docs/forwarding.md). The clients are the sources the NLB's interface
//! endpoints admit for the listener's service (their security groups), and
//! the internet for an internet-facing NLB with `ip` targets. A rule of the
//! target's groups that admits the target port from some of those clients
//! without admitting the NLB's own address never matches the listener's
//! traffic: it reads like client filtering and filters nothing. A rule
//! that admits both (a VPC-wide prefix, as in seed 003) is the usual,
//! working setup and is not reported.

use super::np504_nlb_listener_target_mismatch::{show_ports, target_ports};
use crate::diagnostic::Diagnostic;
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::{service_match, SgSide, Space};
use crate::model::{Entity, HostKind, NlbId};
use crate::registry::Code;
use crate::syntax::ast::{NlbScheme, TargetType};

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    let m = space.model;
    for (n, nlb) in m.nlbs.iter().enumerate() {
        let id = NlbId(n as u32);
        let Some(nlb_addr) = space.nlb_addr(id) else {
            continue;
        };
        let nlb_name = m.display_name(Entity::Nlb(id));
        let mut endpoints: Vec<&crate::model::Endpoint> = m
            .endpoints
            .iter()
            .filter(|e| {
                e.service
                    .and_then(|s| m.endpoint_services.get(s.index()))
                    .and_then(|s| s.nlb)
                    == Some(id)
            })
            .collect();
        endpoints.sort_by_key(|e| e.decl.name_span.start);
        for l in &nlb.listeners {
            let privatelink = !endpoints.is_empty();
            if !privatelink && l.target_type != TargetType::Ip {
                continue;
            }
            // The clients of this listener.
            let wanted = service_match(&l.services);
            let mut clients = AddrRanges::empty();
            for e in &endpoints {
                for sg in &e.sgs {
                    let admitted = space.sg_rules(sg.value, SgSide::Inbound).intersect(&wanted);
                    clients = clients.union(&admitted.src_addrs());
                    for r in space.sg_sender_rules(sg.value) {
                        if !r.services.intersect(&wanted).is_empty() {
                            for g in &r.groups {
                                clients = clients.union(&space.sg_members(*g));
                            }
                        }
                    }
                }
            }
            if l.target_type == TargetType::Ip && nlb.scheme == NlbScheme::InternetFacing {
                clients = clients.union(&space.internet);
            }
            if clients.is_empty() {
                continue;
            }
            let why = if privatelink {
                "PrivateLink never preserves the client's address"
            } else {
                "target type `ip` does not preserve the client's address"
            };
            for target in &l.targets {
                let Some(host) = m.hosts.get(target.value.index()) else {
                    continue;
                };
                if host.kind != HostKind::Instance {
                    continue;
                }
                let to = AddrRanges::from_addr(host.addr.value);
                let probes: Vec<PacketSet> = target_ports(l)
                    .into_iter()
                    .map(|(p, lo, hi)| {
                        PacketSet::from_fields(
                            &AddrRanges::all(),
                            &to,
                            Some(p),
                            (0, u16::MAX),
                            (lo, hi),
                        )
                    })
                    .collect();
                let probe = PacketSet::union_all(&probes);
                let ports: Vec<String> = target_ports(l)
                    .into_iter()
                    .map(|(p, lo, hi)| show_ports(p, lo, hi))
                    .collect();
                for sg in &host.sgs {
                    let Some(group) = m.security_groups.get(sg.value.index()) else {
                        continue;
                    };
                    for r in &group.inbound {
                        if service_match(&r.services).intersect(&probe).is_empty() {
                            continue;
                        }
                        if space.addrs_without_sg(&r.peers).contains(nlb_addr) {
                            continue;
                        }
                        let named = space.addrs(&r.peers).intersect(&clients);
                        if named.is_empty() {
                            continue;
                        }
                        let mut d = Diagnostic::new(
                            Code::NP502,
                            format!(
                                "`{}` admits {} from clients of nlb `{nlb_name}` ({named}), but `{}` receives their traffic from the NLB's address {nlb_addr}: {why}",
                                group.decl.name,
                                ports.join(", "),
                                host.decl.name
                            ),
                            r.span,
                            "never matches the NLB's traffic",
                        )
                        .with_label(
                            l.span,
                            format!("forwards to `{}` from {nlb_addr}", host.decl.name),
                        )
                        .with_help(if privatelink {
                            format!("filter the clients where their address is still visible (the interface endpoint's security group), and admit the NLB's address {nlb_addr} (or its subnet) here")
                        } else {
                            format!("admit the NLB's address {nlb_addr} (or its subnet) here, or register the target by instance (`target-type instance`) to keep the client's address")
                        });
                        if let Some(e) = endpoints.first() {
                            d = d.with_label(
                                e.decl.name_span,
                                "clients arrive through this endpoint",
                            );
                        }
                        out.push(d);
                    }
                }
            }
        }
    }
}
