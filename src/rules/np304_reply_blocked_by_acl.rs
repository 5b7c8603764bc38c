//! NP304 reply-blocked-by-acl: a flow that the forward path admits is
//! delivered, and its reply is dropped by a stateless network ACL.
//!
//! A behaviour rule. For every subnet with a network ACL of its own (the
//! default ACL allows everything), the engine walks every TCP and UDP flow
//! into the subnet from anywhere and out of it to anywhere, with client
//! ports 1024-65535, and splits them by fate (`engine::expect::explain`).
//! A part whose forward packet was delivered but whose reply an ACL rule, or
//! the ACL's implicit deny, dropped is the finding: the forward ACL rule
//! was written, its return half was not. Flows the forward path stops
//! anyway (a security group, a missing route) are not reported.
//!
//! The work is bounded to subnets with an explicit ACL, walked once
//! together; designs without one cost nothing.

use crate::diagnostic::Diagnostic;
use crate::engine::expect::{
    documentation_addrs, explain, internet_host_addrs, readable_witness, Part,
};
use crate::engine::packet_set::{AddrRanges, Packet, PacketSet};
use crate::engine::space::{Space, EPHEMERAL, TCP, UDP};
use crate::model::{Model, SubnetKind};
use crate::registry::Code;
use crate::rules::np901_expectation_unreachable::show_packet;
use crate::sim::Stage;
use crate::span::Span;

/// Destination ports a witness prefers: the services people write rules
/// for, before the lowest port of the set.
const PREFERRED: &[u16] = &[443, 80, 22, 3389, 53, 123, 445, 1433, 3306, 5432];

fn by_port(set: &PacketSet) -> Option<Packet> {
    PREFERRED
        .iter()
        .find_map(|&p| readable_witness(&set.with_dport(p, p)))
        .or_else(|| readable_witness(&set.with_dport(1, 1023)))
        .or_else(|| readable_witness(set))
}

/// A packet that reads well: its internet side, if any, a declared internet
/// host or a documentation address (RFC 5737) rather than 0.0.0.1.
fn witness(model: &Model, set: &PacketSet) -> Option<Packet> {
    let nice = internet_host_addrs(model).union(&documentation_addrs());
    by_port(&set.with_src(&nice))
        .or_else(|| by_port(&set.with_dst(&nice)))
        .or_else(|| by_port(set))
}

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    let model = space.model;
    // Each subnet with an ACL of its own: its prefix, and the addresses at
    // which the internet reaches its instances (their public and Elastic
    // IPs), since internet clients send there, not to the private address.
    let subnets: Vec<(AddrRanges, AddrRanges)> = model
        .subnets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == SubnetKind::VpcSubnet)
        .filter(|(_, s)| s.acl.is_some_and(|a| !model.acls[a.index()].decl.implicit))
        .map(|(i, s)| {
            let id = crate::model::SubnetId(i as u32);
            let public = model
                .site(s.site)
                .hosts
                .iter()
                .filter(|&&h| model.host(h).subnet == Some(id))
                .filter_map(|&h| space.public_of(h))
                .fold(AddrRanges::empty(), |acc, a| {
                    acc.union(&AddrRanges::from_addr(a))
                });
            (AddrRanges::from_net(s.prefix.value), public)
        })
        .collect();
    if subnets.is_empty() {
        return;
    }
    let mut parts = Vec::new();
    for (inside, public) in &subnets {
        let outside = inside.complement();
        let to = inside.union(public);
        for proto in [TCP, UDP] {
            for (src, dst) in [(&outside, &to), (inside, &outside)] {
                parts.push(PacketSet::from_fields(
                    src,
                    dst,
                    Some(proto),
                    EPHEMERAL,
                    (0, u16::MAX),
                ));
            }
        }
    }
    let packets = PacketSet::union_all(&parts);
    let oracle = crate::sim::Oracle::new(model);
    for part in explain(space, &packets) {
        let Part::Failed {
            set,
            drop,
            reply: true,
        } = part
        else {
            continue;
        };
        let Some(acl) = model.acls.iter().find(|a| {
            !a.decl.implicit
                && a.decl.span.start <= drop.span.start
                && drop.span.end <= a.decl.span.end
        }) else {
            continue;
        };
        let Some(p) = witness(model, &set) else {
            continue;
        };
        out.push(diagnostic(
            space,
            &oracle,
            &acl.decl.name,
            &drop.reason,
            drop.span,
            &p,
        ));
    }
}

fn diagnostic(
    space: &Space,
    oracle: &crate::sim::Oracle,
    acl: &str,
    reason: &str,
    span: Span,
    p: &Packet,
) -> Diagnostic {
    let model = space.model;
    // The oracle's trace of the witness labels the ACL rules the request
    // passed and the host that received it.
    let flow = super::util::trace_witness(oracle, p);
    let mut labels: Vec<(Span, String)> = Vec::new();
    for hop in &flow.forward.hops {
        if let (Stage::NetworkAcl, Some(s)) = (hop.stage, hop.span) {
            if s != span && !labels.iter().any(|(x, _)| *x == s) {
                labels.push((s, "admits the request".into()));
            }
        }
    }
    let to = match flow.forward.delivered() {
        Some((party, _)) => format!(" to {}", party.describe(model)),
        None => String::new(),
    };
    let reply = p.swapped();
    let mut d = Diagnostic::new(
        Code::NP304,
        format!(
            "network ACL `{acl}` drops replies: {} is delivered{to}, but its reply {} is \
             dropped ({reason})",
            show_packet(p),
            show_packet(&reply)
        ),
        span,
        format!("drops the reply to port {}", reply.dport),
    );
    for (s, text) in labels {
        d = d.with_label(s, text);
    }
    // The peer as a rule would name it: the whole internet, or the address.
    let peer = |a: std::net::IpAddr| {
        if space.internet.contains(a) {
            if a.is_ipv4() { "0.0.0.0/0" } else { "::/0" }.to_string()
        } else {
            a.to_string()
        }
    };
    let dir_rule = if reason.contains(" outbound") {
        format!(
            "outbound NUMBER allow tcp/1024-65535 to {}",
            peer(reply.dst)
        )
    } else {
        format!(
            "inbound NUMBER allow tcp/1024-65535 from {}",
            peer(reply.src)
        )
    };
    let dir_rule = if p.proto == UDP {
        dir_rule.replace("tcp/", "udp/")
    } else {
        dir_rule
    };
    // The request's path, then its reply's up to the ACL that drops it.
    let reply_hops = flow.reply.iter().flat_map(|r| &r.hops);
    d.with_help(format!(
        "network ACLs are stateless: the reply of every flow they admit must be allowed \
         explicitly, to the client's ephemeral ports 1024-65535; add `{dir_rule}` to \
         `{acl}`, numbered before any rule that denies it"
    ))
    .with_path(super::util::sim_path(
        flow.forward.hops.iter().chain(reply_hops),
    ))
}
