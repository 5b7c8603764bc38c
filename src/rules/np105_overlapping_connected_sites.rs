//! NP105 overlapping-connected-sites: two sites that exchange routes have
//! overlapping prefixes.
//!
//! Only links that carry routes count: a peering, the attachments of one
//! transit gateway, Direct Connect, VPN and the connected-VPC link. An L2VPN
//! extends a segment on purpose (the extended segment is not routed by the
//! SDDC), and sites that no link joins may reuse addresses freely (the
//! tenants of separate NVGRE VM networks, or seed 003's two VPCs that meet
//! only through PrivateLink).
//!
//! The check is a sort and one sweep per group of route-exchanging sites,
//! `O(n log n)` like NP103: the routed prefixes of every site in the group
//! are ordered by first address, and each one is compared with the earlier
//! prefix of *another* site that reaches furthest. Keeping the two
//! furthest-reaching earlier prefixes of distinct sites is enough, because
//! whichever of them is not from the current site is the one to compare.

use super::np103_overlapping_subnets::bounds;
use crate::diagnostic::Diagnostic;
use crate::model::{Entity, Model, SiteId};
use crate::registry::Code;
use crate::span::Span;
use crate::syntax::ast::{ConnKind, SiteKind};
use ipnet::IpNet;
use std::collections::BTreeMap;

/// A prefix a site routes. Small and `Copy`: a million of them are sorted,
/// and only the few reported are ever described.
#[derive(Clone, Copy)]
struct Entry {
    key: (bool, u128, u128),
    net: IpNet,
    span: Span,
    site: SiteId,
    what: What,
}

#[derive(Clone, Copy)]
enum What {
    Subnet(crate::model::SubnetId),
    Prefix,
    Management,
}

/// "segment `web` (10.0.1.0/24)", "prefix 10.1.0.0/16".
fn describe(model: &Model, e: &Entry) -> String {
    match e.what {
        What::Subnet(id) => format!(
            "{} `{}` ({})",
            super::util::subnet_noun(model, id),
            model.subnet(id).decl.name,
            e.net
        ),
        What::Prefix => format!("prefix {}", e.net),
        What::Management => format!("management prefix {}", e.net),
    }
}

/// Sites that exchange routes, and the text that joins each of them.
struct Group {
    /// What joins them, for the message: "peering `shop-data`".
    link: String,
    kind: Link,
    /// Each member with the span of its part of the link (the connection
    /// line, a transit gateway's `attach` entry, a `connected-vpc` line).
    members: Vec<(SiteId, Span)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Link {
    Peering,
    Other,
}

/// The prefixes a site puts into the routing of its neighbours.
fn routed(model: &Model, site: SiteId) -> Vec<Entry> {
    let s = model.site(site);
    let subnet = |id: crate::model::SubnetId| {
        let sub = model.subnet(id);
        Entry {
            key: bounds(sub.prefix.value),
            net: sub.prefix.value,
            span: sub.prefix.span,
            site,
            what: What::Subnet(id),
        }
    };
    let declared = || -> Vec<Entry> {
        s.prefixes
            .iter()
            .map(|p| Entry {
                key: bounds(p.value),
                net: p.value,
                span: p.span,
                site,
                what: What::Prefix,
            })
            .collect()
    };
    match s.kind {
        // An SDDC advertises its routed segments and its management
        // prefixes; a segment extended by L2VPN keeps its gateway on-prem
        // and is not routed by the SDDC at all.
        SiteKind::Sddc => s
            .subnets
            .iter()
            .filter(|&&id| model.subnet(id).extended_by.is_none())
            .map(|&id| subnet(id))
            .chain(s.management.iter().map(|m| Entry {
                key: bounds(m.value),
                net: m.value,
                span: m.span,
                site,
                what: What::Management,
            }))
            .collect(),
        // AWS compares VPC CIDR blocks (a peering is refused on them, and
        // they are what propagates into a transit gateway).
        SiteKind::Vpc if !s.prefixes.is_empty() => declared(),
        // An on-prem site and a VM network route their segments and
        // subnets; a declared summary may hold space lent to an L2VPN, so
        // it counts only when the site declares no segment.
        SiteKind::Vpc | SiteKind::Onprem | SiteKind::VmNetwork if !s.subnets.is_empty() => {
            s.subnets.iter().map(|&id| subnet(id)).collect()
        }
        SiteKind::Onprem | SiteKind::VmNetwork | SiteKind::Vpc => declared(),
        SiteKind::Internet => Vec::new(),
    }
}

/// Every group of sites that exchange routes, in the order of the text.
fn groups(model: &Model) -> Vec<Group> {
    let mut out = Vec::new();
    for (i, s) in model.sites.iter().enumerate() {
        if let Some(cv) = s.connected_vpc {
            out.push(Group {
                link: format!("the connected-VPC link of sddc `{}`", s.decl.name),
                kind: Link::Other,
                members: vec![(SiteId(i as u32), cv.span), (cv.vpc, cv.span)],
            });
        }
    }
    for c in &model.connections {
        let kind = if c.kind == ConnKind::Peering {
            Link::Peering
        } else {
            Link::Other
        };
        let link = format!("{} `{}`", c.kind.keyword(), c.decl.name);
        match c.kind {
            ConnKind::Peering | ConnKind::DirectConnect | ConnKind::Vpn => {
                // The line that names the link and its two ends.
                let line = c
                    .ends
                    .iter()
                    .fold(c.decl.name_span, |acc, e| acc.to(e.span));
                out.push(Group {
                    link,
                    kind,
                    members: c.ends.iter().map(|e| (e.value, line)).collect(),
                });
            }
            ConnKind::TransitGateway => {
                // The routes of one route table meet: the attachments that
                // propagate into it and those it routes for (without
                // route tables, every attachment, both ways). Attachments
                // that never share a table (prod and dev on their own
                // tables) may overlap. An attached connection brings its
                // far end.
                let attached = c.attached_sites();
                let member = |a: &crate::span::Spanned<Entity>| match a.value {
                    Entity::Site(s) => Some((s, a.span)),
                    Entity::Connection(k) => model
                        .connections
                        .get(k.index())
                        .and_then(|x| x.far_end(&attached))
                        .map(|far| (far, a.span)),
                    _ => None,
                };
                let tables: Vec<Vec<(SiteId, Span)>> = if c.tables.is_empty() {
                    vec![c.attach.iter().filter_map(member).collect()]
                } else {
                    c.tables
                        .iter()
                        .map(|t| {
                            let mut m: Vec<(SiteId, Span)> = Vec::new();
                            for a in t.associate.iter().chain(&t.propagate) {
                                if let Some(x) = member(a) {
                                    if !m.iter().any(|y| y.0 == x.0) {
                                        m.push(x);
                                    }
                                }
                            }
                            m
                        })
                        .collect()
                };
                let mut seen: Vec<Vec<SiteId>> = Vec::new();
                for members in tables {
                    // Tables holding the same sites report their overlaps
                    // once.
                    let mut key: Vec<SiteId> = members.iter().map(|m| m.0).collect();
                    key.sort();
                    if seen.contains(&key) {
                        continue;
                    }
                    seen.push(key);
                    out.push(Group {
                        link: link.clone(),
                        kind,
                        members,
                    });
                }
            }
            ConnKind::L2vpn => {}
        }
    }
    out
}

/// The first overlap found between two sites of a group, and how many more.
struct Found {
    earlier: Entry,
    later: Entry,
    more: usize,
}

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    // Each site's routed prefixes, computed once: a site may be in many
    // groups.
    let mut cache: BTreeMap<SiteId, Vec<Entry>> = BTreeMap::new();
    for g in groups(model) {
        let mut sites: Vec<SiteId> = g.members.iter().map(|m| m.0).collect();
        sites.sort();
        sites.dedup();
        if sites.len() < 2 {
            continue;
        }
        let mut entries: Vec<Entry> = Vec::new();
        for &s in &sites {
            entries.extend(
                cache
                    .entry(s)
                    .or_insert_with(|| routed(model, s))
                    .iter()
                    .copied(),
            );
        }
        entries
            .sort_unstable_by_key(|e| (e.key.0, e.key.1, std::cmp::Reverse(e.key.2), e.span.start));
        let mut found: BTreeMap<(SiteId, SiteId), Found> = BTreeMap::new();
        // The furthest-reaching earlier prefix, and the furthest-reaching
        // one of a different site than that.
        let mut best: Option<usize> = None;
        let mut second: Option<usize> = None;
        for i in 0..entries.len() {
            let (fam, start, end) = entries[i].key;
            let site = entries[i].site;
            let other = match best {
                Some(b) if entries[b].site != site => Some(b),
                _ => second,
            };
            if let Some(o) = other {
                let (fam_o, _, end_o) = entries[o].key;
                if fam_o == fam && start <= end_o {
                    let pair = if entries[o].site < site {
                        (entries[o].site, site)
                    } else {
                        (site, entries[o].site)
                    };
                    found
                        .entry(pair)
                        .and_modify(|f| f.more += 1)
                        .or_insert_with(|| Found {
                            earlier: entries[o],
                            later: entries[i],
                            more: 0,
                        });
                }
            }
            // Update the two leaders. `best` reaches furthest of all
            // earlier prefixes of this family; `second` furthest of those
            // from another site than `best`'s.
            if best.is_some_and(|b| entries[b].key.0 != fam) {
                best = None;
                second = None;
            }
            match best {
                Some(b) if entries[b].key.2 >= end => {
                    if entries[b].site != site && second.is_none_or(|s2| entries[s2].key.2 < end) {
                        second = Some(i);
                    }
                }
                Some(b) => {
                    if entries[b].site != site {
                        second = Some(b);
                    }
                    best = Some(i);
                }
                None => best = Some(i),
            }
        }
        for f in found.into_values() {
            out.push(diagnostic(model, &g, f));
        }
    }
}

fn diagnostic(model: &Model, g: &Group, f: Found) -> Diagnostic {
    // Point at whichever prefix comes later in the file, as NP103 does.
    let (first, second) = if f.earlier.span.start <= f.later.span.start {
        (&f.earlier, &f.later)
    } else {
        (&f.later, &f.earlier)
    };
    let site_name = |s: SiteId| {
        let site = model.site(s);
        format!("{} `{}`", site.kind.keyword(), site.decl.name)
    };
    let (a, b) = (site_name(first.site), site_name(second.site));
    let shared = if first.net.contains(&second.net) {
        second.net
    } else {
        first.net
    };
    let more = match f.more {
        0 => String::new(),
        1 => " (and 1 more overlapping prefix)".to_string(),
        n => format!(" (and {n} more overlapping prefixes)"),
    };
    let mut message = format!(
        "{b}'s {} overlaps {a}'s {}{more}, but {} joins them: both sides route {shared} to themselves, so traffic for those addresses never crosses the link",
        describe(model, second), describe(model, first), g.link
    );
    if g.kind == Link::Peering {
        message.push_str("; AWS rejects a peering between VPCs with overlapping CIDR blocks");
    }
    let mut d = Diagnostic::new(
        Code::NP105,
        message,
        second.span,
        format!(
            "overlaps {} in `{}`",
            first.net,
            model.site(first.site).decl.name
        ),
    )
    .with_label(
        first.span,
        format!(
            "`{}` routes {}",
            model.site(first.site).decl.name,
            first.net
        ),
    );
    // The link itself: one label per distinct span (a peering's line holds
    // both ends; a transit gateway has one `attach` entry per site).
    let mut links: Vec<Span> = g
        .members
        .iter()
        .filter(|m| m.0 == first.site || m.0 == second.site)
        .map(|m| m.1)
        .collect();
    links.sort();
    links.dedup();
    for span in links {
        d = d.with_label(span, format!("{} exchanges routes here", g.link));
    }
    d.with_help(format!(
        "renumber one side if you can. To reach a service across the overlap, use PrivateLink (seed 003): \
         put an internal NLB in front of the service in `{}`, create an endpoint service on it with \
         `acceptance required`, and an interface endpoint in the client's VPC (for an SDDC, its connected \
         VPC) whose security group admits the client; the client connects to the endpoint's address. \
         Or translate one side with NAT so that the other sees non-overlapping addresses{}",
        model.site(second.site).decl.name,
        if g.kind == Link::Peering {
            "; then remove the peering"
        } else {
            ""
        }
    ))
}
