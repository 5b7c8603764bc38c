//! NP501 endpoint-blocks-client: an interface endpoint's security groups
//! do not admit a client that the design sends to it.
//!
//! The clients are what the design itself sends to the endpoint's address:
//! the `allow` rules of compute gateway firewalls whose destination holds
//! it (their sources and services), and the expectations that send to it
//! (`at` the endpoint, or to it). A route cannot send to an interface
//! endpoint (it is reached at its address, and a route to it drops, see
//! docs/forwarding.md), so routes add no clients. A gateway rule's clients
//! are limited to the services the endpoint's NLB listens on. Each such flow set is
//! walked by the engine, so NAT, routing and the gateway firewall apply as
//! they do for real packets; the rule fires only for packets that reach
//! the endpoint and are dropped by its security groups. Senders of the
//! same service (protocol and port) make one finding, with each sender
//! labelled: one gap in the groups, one fix.

use crate::diagnostic::Diagnostic;
use crate::engine::expect::{explain, readable_witness, Part};
use crate::engine::packet_set::{AddrRanges, Packet, PacketSet};
use crate::engine::space::{service_flows, service_match, Space};
use crate::model::{EndpointId, Entity, FirewallKind};
use crate::registry::Code;
use crate::rules::np901_expectation_unreachable::show_packet;
use crate::span::Span;
use crate::syntax::ast::Action;

/// Something in the design that sends packets to an endpoint.
struct Sender {
    what: String,
    span: Span,
    flows: PacketSet,
}

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    let m = space.model;
    for (i, ep) in m.endpoints.iter().enumerate() {
        let id = EndpointId(i as u32);
        let addr = ep.addr.value;
        let to = AddrRanges::from_addr(addr);
        // A gateway rule may allow more services than the endpoint serves;
        // only the services of its NLB's listeners are the rule's clients.
        let listened: Option<PacketSet> = ep
            .service
            .and_then(|s| m.endpoint_services.get(s.index()))
            .and_then(|s| s.nlb)
            .and_then(|n| m.nlbs.get(n.index()))
            .map(|n| {
                let parts: Vec<PacketSet> = n
                    .listeners
                    .iter()
                    .map(|l| service_match(&l.services))
                    .collect();
                PacketSet::union_all(&parts)
            });
        let mut senders = Vec::new();
        for fw in m.firewalls.iter().filter(|f| f.kind == FirewallKind::Cgw) {
            for r in &fw.rules {
                if r.action.value != Action::Allow || !space.addrs(&r.to).contains(addr) {
                    continue;
                }
                let mut flows = service_flows(&r.services, &space.addrs(&r.from), &to);
                if let Some(l) = &listened {
                    flows = flows.intersect(l);
                }
                senders.push(Sender {
                    what: format!(
                        "rule `{}` of the compute gateway firewall of `{}`",
                        r.decl.name,
                        m.site(fw.site).decl.name
                    ),
                    span: r.decl.name_span,
                    flows,
                });
            }
        }
        for e in &m.expectations {
            let target = e.at.as_ref().or(e.dst.as_ref());
            if !target.is_some_and(|t| space.addrs(t).contains(addr)) {
                continue;
            }
            let flows = service_flows(&e.services, &space.addrs(&e.src), &to);
            senders.push(Sender {
                what: "an expectation".to_string(),
                span: e.span,
                flows,
            });
        }
        if senders.is_empty() {
            continue;
        }
        // The engine names this span when the groups drop a packet; an
        // endpoint without `sg [...]` has only an implicit reference, so the
        // finding then points at the endpoint's name instead.
        let sg_span = ep.sgs.first().map_or(ep.decl.span, |s| s.span);
        let shown = if sg_span.start >= ep.decl.span.start && sg_span.end <= ep.decl.span.end {
            sg_span
        } else {
            ep.decl.name_span
        };
        let names: Vec<String> = ep
            .sgs
            .iter()
            .filter_map(|s| m.security_groups.get(s.value.index()))
            .map(|g| format!("`{}`", g.decl.name))
            .collect();
        let ep_name = m.display_name(Entity::Endpoint(id));
        // Each sender's packets that reach the endpoint and that its groups
        // drop, with the example packet of them.
        let mut blocked: Vec<(Sender, PacketSet, Packet)> = Vec::new();
        for s in senders {
            if s.flows.is_empty() {
                continue;
            }
            let set = explain(space, &s.flows)
                .into_iter()
                .filter_map(|p| match p {
                    Part::Failed { set, drop, reply } if !reply && drop.span == sg_span => {
                        Some(set)
                    }
                    _ => None,
                })
                .fold(PacketSet::empty(), |acc, set| acc.union(&set));
            if let Some(p) = readable_witness(&set) {
                blocked.push((s, set, p));
            }
        }
        // One finding per service the groups refuse (the protocol and port
        // of the example packets), naming every sender of it: several
        // senders of the same packets are one problem with one fix.
        let mut shapes: Vec<(u8, u16)> =
            blocked.iter().map(|(_, _, p)| (p.proto, p.dport)).collect();
        shapes.sort_unstable();
        shapes.dedup();
        for (proto, dport) in shapes {
            let group: Vec<&(Sender, PacketSet, Packet)> = blocked
                .iter()
                .filter(|(_, _, p)| (p.proto, p.dport) == (proto, dport))
                .collect();
            let all = group
                .iter()
                .fold(PacketSet::empty(), |acc, (_, set, _)| acc.union(set));
            let shown_set = all.with_proto(proto, proto).with_dport(dport, dport);
            let Some(p) = readable_witness(&shown_set) else {
                continue;
            };
            let whats: Vec<&str> = group.iter().map(|(s, _, _)| s.what.as_str()).collect();
            let who = match whats.as_slice() {
                [one] => format!("which {one} sends to it"),
                [init @ .., last] => format!("which {} and {last} send to it", init.join(", ")),
                [] => continue,
            };
            let mut d = Diagnostic::new(
                Code::NP501,
                format!(
                    "the security groups of endpoint `{ep_name}` ({}) do not admit {}, {who}",
                    names.join(", "),
                    show_packet(&p),
                ),
                shown,
                format!("admits no {} from {}", service_word(&p), p.src),
            );
            for (s, _, own) in &group {
                d = d.with_label(
                    s.span,
                    format!(
                        "sends {} from {} to the endpoint",
                        service_word(own),
                        own.src
                    ),
                );
            }
            let mut clients: Vec<std::net::IpAddr> =
                group.iter().map(|(_, _, own)| own.src).collect();
            clients.sort_unstable();
            clients.dedup();
            let (peers, whose) = match clients.as_slice() {
                [one] => (one.to_string(), "client's"),
                many => (
                    format!(
                        "[{}]",
                        many.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "clients'",
                ),
            };
            d = d.with_help(format!(
                "add `inbound {} from {peers}` (or the {whose} prefix) to the endpoint's security group",
                service_word(&p),
            ));
            for g in ep
                .sgs
                .iter()
                .filter_map(|s| m.security_groups.get(s.value.index()))
            {
                d = d.with_label(g.decl.name_span, "the endpoint's group");
            }
            out.push(d);
        }
    }
}

/// The service of a packet as a rule writes it: `tcp/80`, `icmp`.
fn service_word(p: &Packet) -> String {
    match p.proto {
        6 => format!("tcp/{}", p.dport),
        17 => format!("udp/{}", p.dport),
        1 => "icmp".to_string(),
        58 => "icmpv6".to_string(),
        n => format!("protocol {n}"),
    }
}
