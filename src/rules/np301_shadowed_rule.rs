//! NP301 shadowed-rule: no packet can ever match a rule, because earlier
//! rules of its list, alone or together, match all of its packets first.
//!
//! The check is exact: each rule's headers are a packet set
//! (`Space::firewall_rule_sets`, `Space::acl_rule_sets`), and
//! `packet_set::first_match_nonempty` says for every rule whether it decides
//! any packet under first-match semantics (without computing the regions,
//! which for a final catch-all rule would be cut by every earlier rule). A
//! rule whose set is not empty but whose region is empty is shadowed by the
//! union of the earlier rules, whether or not any single earlier rule
//! covers it.
//!
//! A gateway firewall rule only sees the uplinks it is applied to, so the
//! lists are evaluated per uplink: a rule is shadowed only when it is on
//! every uplink it applies to. Uplinks that select the same rules share one
//! evaluation, so a firewall without `applied-to` costs one first match.
//!
//! The covering rules are named only for shadowed rules: a first match of
//! the earlier rules over the shadowed rule's own packets
//! (`PacketSet::split_first_match_of`) gives the rules that actually decide
//! them.

use crate::diagnostic::Diagnostic;
use crate::engine::packet_set::{first_match_nonempty, PacketSet};
use crate::engine::space::Space;
use crate::model::{AclId, ConnectionId, Entity, FirewallId, FirewallKind, Uplink};
use crate::registry::Code;
use crate::span::Span;
use crate::syntax::ast::{AclAction, Action, ConnKind};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

/// One rule of an ordered list, as NP301 sees it.
struct Entry<'a> {
    /// What the rule is called in messages, e.g. "rule `web-in`".
    what: String,
    /// The rule's name or number alone, for lists of rules.
    name: String,
    span: Span,
    /// True for allow rules.
    allows: bool,
    /// Rules the platform adds are never reported, only credited.
    implicit: bool,
    /// For gateway firewall rules, the uplinks the rule is applied to.
    uplinks: Option<&'a [crate::span::Spanned<Uplink>]>,
}

/// A class of uplinks that every firewall rule either applies to or not:
/// the named uplinks, each connection a rule names, and any other Direct
/// Connect or VPN connection (which only the generic words select).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UplinkClass {
    Internet,
    Vpc,
    OtherConnection(ConnKind),
    Named(ConnectionId, ConnKind),
}

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    use rayon::prelude::*;
    let m = space.model;
    // Firewalls and ACL directions are independent lists: they are checked
    // in parallel, and the caller sorts the findings.
    let firewalls = (0..m.firewalls.len()).into_par_iter().flat_map_iter(|i| {
        let fw = &m.firewalls[i];
        let id = FirewallId(i as u32);
        let entries: Vec<Entry> = fw
            .rules
            .iter()
            .map(|r| Entry {
                what: format!("rule `{}`", r.decl.name),
                name: format!("`{}`", r.decl.name),
                span: r.decl.name_span,
                allows: r.action.value == Action::Allow,
                implicit: r.decl.implicit,
                uplinks: Some(r.applied_to.as_slice()),
            })
            .collect();
        let kind = match fw.kind {
            FirewallKind::Cgw => "compute gateway firewall",
            FirewallKind::Mgw => "management gateway firewall",
            FirewallKind::Edge => "edge firewall",
        };
        let list = format!("the {kind} of `{}`", m.display_name(Entity::Site(fw.site)));
        let mut found = Vec::new();
        check_list(
            space,
            &entries,
            space.firewall_rule_sets(id),
            &list,
            &mut found,
        );
        found
    });
    let acls = (0..m.acls.len() * 2).into_par_iter().flat_map_iter(|k| {
        let (i, inbound) = (k / 2, k % 2 == 0);
        let acl = &m.acls[i];
        let id = AclId(i as u32);
        let rules = if inbound { &acl.inbound } else { &acl.outbound };
        let dir = if inbound { "inbound" } else { "outbound" };
        let entries: Vec<Entry> = rules
            .iter()
            .map(|r| Entry {
                what: format!("{dir} rule {}", r.number),
                name: r.number.to_string(),
                span: r.span,
                allows: r.action == AclAction::Allow,
                implicit: r.implicit,
                uplinks: None,
            })
            .collect();
        let list = format!("network ACL `{}`", m.display_name(Entity::NetworkAcl(id)));
        let mut found = Vec::new();
        check_list(
            space,
            &entries,
            space.acl_rule_sets(id, inbound),
            &list,
            &mut found,
        );
        found
    });
    let found: Vec<Diagnostic> = firewalls.chain(acls).collect();
    out.extend(found);
}

/// Whether a rule applied to `ups` sees packets crossing an uplink of
/// class `class`, as the compute gateway and the edge decide it.
fn applies(ups: &[crate::span::Spanned<Uplink>], class: UplinkClass) -> bool {
    ups.iter().any(|u| match (u.value, class) {
        (Uplink::AllUplinks, _) => true,
        (Uplink::Internet, UplinkClass::Internet) | (Uplink::Vpc, UplinkClass::Vpc) => true,
        (Uplink::Connection(c), UplinkClass::Named(n, _)) => c == n,
        (
            Uplink::DirectConnect,
            UplinkClass::Named(_, ConnKind::DirectConnect)
            | UplinkClass::OtherConnection(ConnKind::DirectConnect),
        ) => true,
        (
            Uplink::Vpn,
            UplinkClass::Named(_, ConnKind::Vpn) | UplinkClass::OtherConnection(ConnKind::Vpn),
        ) => true,
        _ => false,
    })
}

/// The uplink classes a list of firewall rules distinguishes.
fn classes(space: &Space, entries: &[Entry]) -> Vec<UplinkClass> {
    let mut out = vec![
        UplinkClass::Internet,
        UplinkClass::Vpc,
        UplinkClass::OtherConnection(ConnKind::DirectConnect),
        UplinkClass::OtherConnection(ConnKind::Vpn),
    ];
    let mut named = BTreeSet::new();
    for e in entries {
        for u in e.uplinks.unwrap_or(&[]) {
            if let Uplink::Connection(c) = u.value {
                named.insert(c);
            }
        }
    }
    for c in named {
        if let Some(conn) = space.model.connections.get(c.index()) {
            out.push(UplinkClass::Named(c, conn.kind));
        }
    }
    out
}

/// Finds the shadowed rules of one first-match list and reports them.
fn check_list(
    space: &Space,
    entries: &[Entry],
    sets: &[PacketSet],
    list: &str,
    out: &mut Vec<Diagnostic>,
) {
    let n = entries.len().min(sets.len());
    if n < 2 {
        return;
    }
    // Each evaluation: which rules take part (by index) in rule order. A
    // list without uplinks (a network ACL) is a single evaluation.
    let mut evaluations: Vec<Vec<usize>> = Vec::new();
    if entries.iter().any(|e| e.uplinks.is_some()) {
        let mut seen: BTreeSet<Vec<usize>> = BTreeSet::new();
        for class in classes(space, entries) {
            let members: Vec<usize> = (0..n)
                .filter(|&i| entries[i].uplinks.is_some_and(|u| applies(u, class)))
                .collect();
            if !members.is_empty() && seen.insert(members.clone()) {
                evaluations.push(members);
            }
        }
    } else {
        evaluations.push((0..n).collect());
    }
    // A rule is shadowed when it has packets, takes part in some
    // evaluation, and decides none of them in any evaluation it takes part
    // in.
    let mut decides = vec![false; n];
    let mut member = vec![false; n];
    // Which rule shadows which does not change when every rule's source and
    // destination are swapped (a bijection of the packet space). The
    // overlap sweep of `first_match` runs along the destination, so it is
    // fed the orientation in which fewer boxes span a whole family there:
    // rule bases of "these sources to any" are common, and with `any` as
    // the destination every box would be compared with every other.
    let swapped: Vec<PacketSet>;
    let sets: &[PacketSet] = if wide_destinations(&sets[..n]) {
        swapped = sets[..n].iter().map(PacketSet::swap).collect();
        &swapped
    } else {
        sets
    };
    for members in &evaluations {
        let list_sets: Vec<PacketSet> = members.iter().map(|&i| sets[i].clone()).collect();
        // Only whether each region is empty: computing the regions would
        // cut a final catch-all rule into a piece per earlier rule.
        let r = first_match_nonempty(&list_sets);
        for (k, &i) in members.iter().enumerate() {
            member[i] = true;
            if r.get(k).copied().unwrap_or(false) {
                decides[i] = true;
            }
        }
    }
    let shadowed: Vec<usize> = (0..n)
        .filter(|&i| member[i] && !decides[i] && !entries[i].implicit && !sets[i].is_empty())
        .collect();
    if shadowed.is_empty() {
        return;
    }
    // For each shadowed rule, the earlier rules whose regions meet it, in
    // any evaluation the rule takes part in: a first match over the earlier
    // rules restricted to the shadowed rule's own packets.
    let mut covering: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for members in &evaluations {
        for &i in &shadowed {
            let Ok(pos) = members.binary_search(&i) else {
                continue;
            };
            let earlier = members[..pos].iter().map(|&j| (j, &sets[j]));
            let (decided, _) = sets[i].split_first_match_of(earlier);
            covering
                .entry(i)
                .or_default()
                .extend(decided.into_iter().map(|(j, _)| j));
        }
    }
    for i in shadowed {
        let cover: Vec<usize> = covering
            .get(&i)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        out.push(diagnostic(entries, sets, i, &cover, list));
    }
}

/// Whether more boxes span a whole address family in the destination than
/// in the source.
fn wide_destinations(sets: &[PacketSet]) -> bool {
    let full = |(lo, hi): (IpAddr, IpAddr)| match (lo, hi) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.is_unspecified() && b == Ipv4Addr::BROADCAST,
        (IpAddr::V6(a), IpAddr::V6(b)) => a.is_unspecified() && u128::from(b) == u128::MAX,
        _ => false,
    };
    let (mut src, mut dst) = (0usize, 0usize);
    for b in sets.iter().flat_map(|s| s.boxes()) {
        src += usize::from(full(b.src));
        dst += usize::from(full(b.dst));
    }
    dst > src
}

fn diagnostic(
    entries: &[Entry],
    sets: &[PacketSet],
    i: usize,
    cover: &[usize],
    list: &str,
) -> Diagnostic {
    let rule = &entries[i];
    let opposite: Vec<usize> = cover
        .iter()
        .copied()
        .filter(|&j| entries[j].allows != rule.allows)
        .collect();
    let names: Vec<String> = cover.iter().map(|&j| entries[j].name.clone()).collect();
    let by = match names.as_slice() {
        [one] => format!("earlier rule {one} matches"),
        _ => format!("earlier rules {} together match", names.join(", ")),
    };
    let on = match rule.uplinks {
        Some(ups) if !ups.iter().any(|u| u.value == Uplink::AllUplinks) => {
            " on the uplinks it is applied to"
        }
        _ => "",
    };
    let (kind, help) = if opposite.is_empty() {
        (
            "redundant",
            "it changes nothing: delete it, or narrow the earlier rules if it was meant to decide something",
        )
    } else {
        (
            "conflicting",
            "earlier rules decide its packets the other way: move it above them if it states the intended policy, otherwise delete it",
        )
    };
    let message = format!(
        "{} of {list} is never matched ({kind}): {by} every packet it matches{on}",
        rule.what
    );
    let mut d = Diagnostic::new(
        Code::NP301,
        message,
        rule.span,
        format!("{kind}: never matched"),
    )
    .with_help(help);
    for &j in cover {
        let e = &entries[j];
        let alone = sets
            .get(i)
            .zip(sets.get(j))
            .is_some_and(|(a, b)| a.is_subset(b));
        let share = if alone { "covers" } else { "covers part of" };
        let action = match (e.allows, rule.allows) {
            (a, b) if a == b => "",
            (true, _) => ", and allows what it would drop",
            (false, _) => ", and drops what it would allow",
        };
        d = d.with_label(e.span, format!("{share} {}{action}", rule.name));
    }
    d
}
