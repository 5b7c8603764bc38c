//! NP305 one-way-gateway-rules: the compute gateway firewall allows a
//! direction on the `vpc` uplink but not the other, and an expectation
//! needs the missing one.
//!
//! Seed 001 (an SDDC VM and EC2 instances in the connected VPC): the CGW
//! rules on the `vpc` uplink must be written for each direction in which a
//! connection is opened; an allow rule for SDDC-to-VPC does not admit
//! connections the VPC opens. Behaviour, through the engine: only `expect
//! reach` lines whose flows cross an SDDC's `vpc` uplink are walked (source
//! in the SDDC's segments and destination in its connected VPC, or the
//! reverse). The rule fires when the CGW firewall drops the forward packets
//! of that direction (a CGW rule or its Default Uplink Rule) while an allow
//! rule of the same firewall, applied to the `vpc` uplink, admits the same
//! service in the reverse direction.

use crate::diagnostic::Diagnostic;
use crate::engine::expect::{explain, readable_witness, Part};
use crate::engine::packet_set::{AddrRanges, Packet, PacketSet};
use crate::engine::space::{service_flows, Space};
use crate::model::{Expectation, Firewall, FirewallKind, Model, Uplink};
use crate::registry::Code;
use crate::span::Span;
use crate::syntax::ast::{Action, ExpectKind};

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    let m = space.model;
    // Each SDDC with a connected VPC and a CGW firewall: its segments, the
    // VPC's addresses, and the firewall.
    let mut links = Vec::new();
    for sddc in &m.sites {
        let Some(cv) = sddc.connected_vpc else {
            continue;
        };
        let Some(fw) = sddc
            .firewalls
            .iter()
            .find(|&&f| m.firewalls[f.index()].kind == FirewallKind::Cgw)
        else {
            continue;
        };
        let segments = AddrRanges::from_nets(
            sddc.subnets
                .iter()
                .filter(|&&s| m.subnet(s).extended_by.is_none())
                .map(|&s| m.subnet(s).prefix.value),
        );
        links.push((segments, space.site_addrs(cv.vpc), *fw));
    }
    if links.is_empty() {
        return;
    }
    for e in m
        .expectations
        .iter()
        .filter(|e| e.kind == ExpectKind::Reach)
    {
        let src = space.addrs(&e.src);
        let to = match (&e.at, &e.dst) {
            (Some(a), _) => space.addrs(a),
            (None, Some(d)) => space.addrs(d),
            (None, None) => continue,
        };
        // An expectation too large to decide (NP905) is not walked here
        // either.
        if crate::engine::expect::too_large(space, e).is_some() {
            continue;
        }
        let all = service_flows(&e.services, &src, &to);
        if all.is_empty() {
            continue;
        }
        for (segments, vpc, fw) in &links {
            let fw_id = *fw;
            let fw = &m.firewalls[fw_id.index()];
            for (a, b) in [(segments, vpc), (vpc, segments)] {
                let crossing = all.with_src(a).with_dst(b);
                if crossing.is_empty() {
                    continue;
                }
                if let Some(d) = finding(space, e, fw_id, fw, &crossing) {
                    out.push(d);
                    break;
                }
            }
        }
    }
}

/// The first part of `crossing` the CGW drops going forward while an allow
/// rule on the `vpc` uplink admits the reverse, as a diagnostic.
fn finding(
    space: &Space,
    e: &Expectation,
    fw_id: crate::model::FirewallId,
    fw: &Firewall,
    crossing: &PacketSet,
) -> Option<Diagnostic> {
    let m = space.model;
    let sets = space.firewall_rule_sets(fw_id);
    let on_vpc = |r: &crate::model::FirewallRule| {
        r.applied_to
            .iter()
            .any(|u| matches!(u.value, Uplink::Vpc | Uplink::AllUplinks))
    };
    for part in explain(space, crossing) {
        let Part::Failed {
            set,
            drop,
            reply: false,
        } = part
        else {
            continue;
        };
        let by_cgw =
            drop.span == fw.decl.name_span || fw.rules.iter().any(|r| r.decl.span == drop.span);
        if !by_cgw {
            continue;
        }
        // The same service the other way: sources and destinations
        // exchanged, ports as the service defines them.
        let reverse = service_flows(&e.services, &set.dst_addrs(), &set.src_addrs());
        let applicable = fw
            .rules
            .iter()
            .zip(sets)
            .enumerate()
            .filter(|(_, (r, _))| on_vpc(r))
            .map(|(i, (_, s))| (i, s));
        let (decided, _) = reverse.split_first_match_of(applicable);
        let Some((rule, _)) = decided.iter().find_map(|(i, region)| {
            fw.rules
                .get(*i)
                .filter(|r| r.action.value == Action::Allow)
                .map(|r| (r, region))
        }) else {
            continue;
        };
        let p = readable_witness(&set)?;
        return Some(diagnostic(m, e, fw, rule, &drop.span, &p));
    }
    None
}

fn service_text(p: &Packet) -> String {
    match p.proto {
        6 => format!("tcp/{}", p.dport),
        17 => format!("udp/{}", p.dport),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        _ => "any".into(),
    }
}

fn addr_text(m: &Model, a: std::net::IpAddr) -> String {
    m.hosts
        .iter()
        .find(|h| h.addr.value == a)
        .map(|h| h.decl.name.clone())
        .unwrap_or_else(|| a.to_string())
}

fn diagnostic(
    m: &Model,
    e: &Expectation,
    fw: &Firewall,
    reverse: &crate::model::FirewallRule,
    drop_span: &Span,
    p: &Packet,
) -> Diagnostic {
    let (from, to, svc) = (addr_text(m, p.src), addr_text(m, p.dst), service_text(p));
    let site = &m.site(fw.site).decl.name;
    let mut d = Diagnostic::new(
        Code::NP305,
        format!(
            "compute gateway firewall `{}` of sddc `{site}` allows {svc} on uplink vpc only in the other direction: rule `{}` admits it toward `{from}`, but nothing admits {from} -> {to}, which this expectation needs",
            fw.decl.name, reverse.decl.name
        ),
        e.span,
        "needs this direction through the vpc uplink",
    )
    .with_label(reverse.decl.span, "allows only the reverse direction");
    if *drop_span != reverse.decl.span {
        d = d.with_label(*drop_span, "drops this direction");
    }
    d.with_help(format!(
        "CGW rules on the vpc uplink are needed in each direction a connection is opened (seed 001): add `rule {}-reverse allow from {from} to {to} service {svc} applied-to vpc` to `firewall {}`",
        reverse.decl.name, fw.decl.name
    ))
}
