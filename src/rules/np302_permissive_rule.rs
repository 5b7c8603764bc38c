//! NP302 permissive-rule: a gateway firewall rule allows any source to any
//! destination with any service.
//!
//! The test is on the rule's packet set, not its text: a rule is
//! permissive when it matches every packet of an address family, so
//! `from any to any`, `from 0.0.0.0/0 to 0.0.0.0/0` and a list of prefixes
//! that adds up to the whole space are all caught, and `service [tcp, udp,
//! icmp]` is not "any service" (other protocols stay closed).
//!
//! Security-group and network-ACL rules are left out on purpose: their
//! destination is the interface or subnet they are attached to, never
//! "any", and the AWS defaults (`outbound any to 0.0.0.0/0`, the default
//! ACL's allow-all) are written that way by design.
//!
//! The exact test (is every packet of a family in the rule's set?) runs
//! only on rules whose sources and destinations both cover the family, a
//! cheap projection that rules naming a few prefixes fail at once.

use crate::diagnostic::Diagnostic;
use crate::engine::packet_set::{AddrRanges, Family, PacketSet};
use crate::engine::space::Space;
use crate::model::{Entity, FirewallId, FirewallKind, Uplink};
use crate::registry::Code;
use crate::syntax::ast::Action;

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    use rayon::prelude::*;
    // Firewalls are independent: checked in parallel, their findings
    // gathered in firewall order.
    let found: Vec<Vec<Diagnostic>> = (0..space.model.firewalls.len())
        .into_par_iter()
        .map(|i| {
            let mut found = Vec::new();
            check_firewall(space, FirewallId(i as u32), &mut found);
            found
        })
        .collect();
    out.extend(found.into_iter().flatten());
}

/// Whether a set may hold every packet of a family: only if its sources
/// and its destinations each cover every address of it. A cheap necessary
/// test (most rules name a few prefixes) before the exact one.
fn may_cover(set: &PacketSet, all: &AddrRanges) -> bool {
    all.is_subset(&set.src_addrs()) && all.is_subset(&set.dst_addrs())
}

fn check_firewall(space: &Space, id: FirewallId, out: &mut Vec<Diagnostic>) {
    let m = space.model;
    let v4 = PacketSet::all_of(Family::V4);
    let v6 = PacketSet::all_of(Family::V6);
    let (all4, all6) = (v4.src_addrs(), v6.src_addrs());
    let fw = &m.firewalls[id.index()];
    let sets = space.firewall_rule_sets(id);
    let kind = match fw.kind {
        FirewallKind::Cgw => "compute gateway firewall",
        FirewallKind::Mgw => "management gateway firewall",
        FirewallKind::Edge => "edge firewall",
    };
    for (r, set) in fw.rules.iter().zip(sets) {
        if r.action.value != Action::Allow || r.decl.implicit {
            continue;
        }
        let family = match (
            may_cover(set, &all4) && v4.is_subset(set),
            may_cover(set, &all6) && v6.is_subset(set),
        ) {
            (true, true) => "",
            (true, false) => " (IPv4)",
            (false, true) => " (IPv6)",
            (false, false) => continue,
        };
        let ups: Vec<String> = r
            .applied_to
            .iter()
            .filter(|u| u.value != Uplink::AllUplinks)
            .map(|u| match u.value {
                Uplink::Internet => "internet".to_string(),
                Uplink::Vpc => "vpc".to_string(),
                Uplink::DirectConnect => "direct-connect".to_string(),
                Uplink::Vpn => "vpn".to_string(),
                Uplink::Connection(c) => m
                    .connections
                    .get(c.index())
                    .map_or_else(String::new, |c| c.decl.name.clone()),
                Uplink::AllUplinks => String::new(),
            })
            .collect();
        let on = if ups.is_empty() {
            "on every uplink".to_string()
        } else {
            format!("on {}", ups.join(", "))
        };
        let message = format!(
            "rule `{}` of the {kind} of `{}` allows any source to any destination with any service{family}, {on}",
            r.decl.name,
            m.display_name(Entity::Site(fw.site)),
        );
        let mut d = Diagnostic::new(Code::NP302, message, r.decl.name_span, "allows everything")
            .with_help(
                "name the sources, destinations and services the rule is for: an allow-all rule switches the firewall off for everything below it",
            );
        d = d
            .with_label(r.from.span, "any source")
            .with_label(r.to.span, "any destination");
        out.push(d);
    }
}
