//! NP401 egress-via-onprem: a learned default route sends a site's internet
//! traffic on-prem.
//!
//! Behaviour, through the engine: the internet-bound packets of the site's
//! first routed segment or subnet are walked, and the rule names the Direct
//! Connect or VPN whose learned route (advertised by an on-prem site) the
//! router picks for them. Whether a firewall then lets them out is another
//! question: the route alone decides where the internet exit is.

use crate::diagnostic::Diagnostic;
use crate::engine::packet_set::AddrRanges;
use crate::engine::space::{service_flows, Space};
use crate::engine::walk::{Dest, Walker};
use crate::model::{ServiceSet, SiteId};
use crate::registry::Code;
use crate::span::Span;
use crate::syntax::ast::{ConnKind, SiteKind};
use std::collections::BTreeSet;

/// Internet destinations: addresses no site owns, without the private and
/// special-purpose ranges. A learned 10.0.0.0/8 covers unowned private
/// addresses, not the internet.
fn public(space: &Space) -> AddrRanges {
    let special = [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
        "::/8",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ]
    .iter()
    .filter_map(|n| n.parse::<ipnet::IpNet>().ok());
    space.internet.difference(&AddrRanges::from_nets(special))
}

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    use rayon::prelude::*;
    let internet = public(space);
    // Each site's walk is independent of the others': they run in
    // parallel, and their findings are gathered in site order.
    let found: Vec<Vec<Diagnostic>> = (0..space.model.sites.len())
        .into_par_iter()
        .map(|i| {
            let mut found = Vec::new();
            check_site(space, &internet, SiteId(i as u32), &mut found);
            found
        })
        .collect();
    out.extend(found.into_iter().flatten());
}

/// The learned routes that carry one site's internet traffic on-prem.
fn check_site(space: &Space, internet: &AddrRanges, sid: SiteId, out: &mut Vec<Diagnostic>) {
    let m = space.model;
    let site = m.site(sid);
    // A VPC learns no routes in this model (its tables are written);
    // the other routers learn what their links advertise.
    if !matches!(
        site.kind,
        SiteKind::Sddc | SiteKind::Onprem | SiteKind::VmNetwork
    ) {
        return;
    }
    // An extended segment leaves by its on-prem gateway whatever the
    // routes say; that is not a learned route.
    let Some(sub) = site
        .subnets
        .iter()
        .copied()
        .find(|&s| m.subnet(s).extended_by.is_none())
    else {
        return;
    };
    let src = AddrRanges::from_net(m.subnet(sub).prefix.value).difference(&space.device_addrs);
    // Which route carries internet traffic depends on addresses only
    // (route lookup, policy-VPN selectors), not on the service, so one
    // service stands for all: walking every service would only split
    // the flows at each firewall rule on the way.
    let set = service_flows(&ServiceSet::any(Span::default()), &src, internet)
        .with_proto(6, 6)
        .with_dport(443, 443);
    if set.is_empty() {
        return;
    }
    let walker = Walker::forward(space);
    let leaves = walker.leaves_from(Dest::Virtual(sid, sub), set);
    // The route decisions name the `advertise` line they used.
    let spans: BTreeSet<Span> = leaves
        .iter()
        .flat_map(|l| l.branch().hops.to_vec())
        .filter_map(|h| h.span)
        .collect();
    let mut found: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (ci, c) in m.connections.iter().enumerate() {
        if !matches!(c.kind, ConnKind::DirectConnect | ConnKind::Vpn)
            || !c.ends.iter().any(|e| e.value == sid)
        {
            continue;
        }
        for (ai, a) in c.advertise.iter().enumerate() {
            if a.site != sid && m.site(a.site).kind == SiteKind::Onprem && spans.contains(&a.span) {
                found.insert((ci, ai));
            }
        }
    }
    for (ci, ai) in found {
        let c = &m.connections[ci];
        let a = &c.advertise[ai];
        // The advertised prefix that covers internet addresses, the
        // shortest first (the default route itself).
        let Some(p) = a
            .prefixes
            .iter()
            .filter(|p| !AddrRanges::from_net(p.value).intersect(internet).is_empty())
            .min_by_key(|p| p.value.prefix_len())
        else {
            continue;
        };
        let onprem = &m.site(a.site).decl.name;
        let link = format!("{} `{}`", c.kind.keyword(), c.decl.name);
        out.push(
            Diagnostic::new(
                Code::NP401,
                format!(
                    "internet traffic of {} `{}` leaves on-prem through {link}: onprem `{onprem}` advertises {} over it, so on-prem proxies, firewalls and SNAT carry it, not the site's own internet exit",
                    site.kind.keyword(),
                    site.decl.name,
                    p.value
                ),
                p.span,
                format!("learned by `{}` over {link}", site.decl.name),
            )
            .with_label(
                site.decl.name_span,
                "its internet-bound traffic follows the learned route",
            )
            .with_help(
                "if this is intended, allow the traffic on that uplink and publish inbound services through \
                 the on-prem edge (replies to the site's own DNAT would leave on-prem untranslated); \
                 otherwise stop advertising the default route to this site",
            ),
        );
    }
}
