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
        // The firewall's first match decides: when one of its rules drops
        // the packet, an allow rule added after it is never reached, so the
        // help must name that rule (and an allow rule it hides, if any).
        let blocking = fw
            .rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.decl.span == drop.span)
            .map(|(at, blocker)| {
                let one = PacketSet::from_packet(&p);
                let hidden = fw
                    .rules
                    .iter()
                    .zip(sets)
                    .skip(at + 1)
                    .find(|(r, s)| r.action.value == Action::Allow && on_vpc(r) && one.is_subset(s))
                    .map(|(r, _)| r);
                Blocking {
                    rule: blocker,
                    hidden,
                }
            });
        return Some(diagnostic(m, e, fw, rule, &drop.span, blocking, &p));
    }
    None
}

/// The rule of the firewall that drops the needed direction, and the
/// first allow rule after it that would have admitted the packet.
struct Blocking<'m> {
    rule: &'m crate::model::FirewallRule,
    hidden: Option<&'m crate::model::FirewallRule>,
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
    blocking: Option<Blocking>,
    p: &Packet,
) -> Diagnostic {
    let (from, to, svc) = (addr_text(m, p.src), addr_text(m, p.dst), service_text(p));
    let site = &m.site(fw.site).decl.name;
    let what = match &blocking {
        Some(b) => format!(
            "rule `{}` drops {from} -> {to}, which this expectation needs",
            b.rule.decl.name
        ),
        None => format!("nothing admits {from} -> {to}, which this expectation needs"),
    };
    let mut d = Diagnostic::new(
        Code::NP305,
        format!(
            "compute gateway firewall `{}` of sddc `{site}` allows {svc} on uplink vpc only in the other direction: rule `{}` admits it toward `{from}`, but {what}",
            fw.decl.name, reverse.decl.name
        ),
        e.span,
        "needs this direction through the vpc uplink",
    )
    .with_label(reverse.decl.span, "allows only the reverse direction");
    if *drop_span != reverse.decl.span {
        let label = match &blocking {
            Some(_) => "drops this direction first: the first matching rule decides",
            None => "drops this direction",
        };
        d = d.with_label(*drop_span, label);
    }
    let seed = "CGW rules on the vpc uplink are needed in each direction a connection is opened (seed 001)";
    let rule = format!(
        "rule {}-reverse allow from {from} to {to} service {svc} applied-to vpc",
        reverse.decl.name
    );
    let help = match blocking {
        // An allow rule for this direction exists but sits below the drop
        // rule: moving it is the fix, not adding another one.
        Some(Blocking {
            rule: drop,
            hidden: Some(hidden),
        }) => {
            d = d.with_label(
                hidden.decl.span,
                format!("would allow it, but rule `{}` matches first", drop.decl.name),
            );
            format!(
                "{seed}: rules are matched in order and the first match decides, so rule `{}` never sees {from} -> {to}: move it above rule `{}` in `firewall {}`, or narrow `{}` so that it does not match this traffic",
                hidden.decl.name, drop.decl.name, fw.decl.name, drop.decl.name
            )
        }
        Some(Blocking { rule: drop, .. }) => format!(
            "{seed}: rules are matched in order and the first match decides, so an allow rule added below rule `{}` would never be reached: add `{rule}` to `firewall {}` above rule `{}`, or narrow `{}` so that it does not match this traffic",
            drop.decl.name, fw.decl.name, drop.decl.name, drop.decl.name
        ),
        None => format!("{seed}: add `{rule}` to `firewall {}`", fw.decl.name),
    };
    d.with_help(help)
}
