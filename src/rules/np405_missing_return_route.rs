//! NP405 missing-return-route: a request is delivered, but the destination
//! side has no route back to the source, so the reply is lost.
//!
//! Behaviour, through the engine: the rule walks the flows the design says
//! it wants (the explicit sources that security-group inbound rules and
//! allowing firewall rules name, towards what they protect), and reports a
//! reply that a route lookup on the destination side stops: a VPC route
//! table without a route to the source, a default route that sends the
//! reply to the internet gateway, a transit gateway, SDDC or on-prem site
//! that has not learned the source's prefix. Only what the design names is
//! walked, so the cost follows the number of such rules, not the number of
//! host pairs. `expect reach` lines are left to NP901, which already walks
//! their replies and reports a lost one at the expectation; walking them
//! again would double the engine's work on large designs and report one
//! cause twice.
//!
//! Cost: the flows of all filters are walked once together
//! (`engine::expect::lost_replies`), split by where their sources start, so
//! a VPC's packets to every destination travel as one branch until a route
//! separates them, instead of one walk per filter over every source (200
//! VPCs on one transit gateway were 200 walks of 200 sources). The engine
//! decides each packet on its own, so a flow that meets none of the packets
//! that walk shows losing a reply has no finding; the few flows that meet
//! one are walked alone as before, which keeps the findings, their order
//! and their text exactly those of the per-flow walks (a test compares the
//! two on designs where the rule fires).

use crate::diagnostic::Diagnostic;
use crate::engine::expect::{lost_replies, readable_witness, reply_failures, ReplyFailure};
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::{service_flows, Space};
use crate::engine::walk::Hop;
use crate::model::{AddrExpr, AddrTerm, ConnectionId, Model, RouteTableId, RouteTarget, SiteId};
use crate::registry::Code;
use crate::span::Span;
use crate::syntax::ast::{Action, ConnKind, SiteKind};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The element whose route lookup lost the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Element {
    /// A VPC route table; with the route that sent the reply to the
    /// internet gateway, when a default route did.
    Table(RouteTableId, Option<usize>),
    /// A transit gateway, with the route table (by index) that had no
    /// route, when the gateway has route tables.
    Tgw(ConnectionId, Option<usize>),
    /// An on-prem site or an SDDC: routers that learn over their links.
    Site(SiteId),
}

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    report(space, true, out);
}

/// The findings, from the per-flow walks of every flow (`shared` false) or
/// of the flows that one walk of all of them shows may lose a reply.
fn report(space: &Space, shared: bool, out: &mut Vec<Diagnostic>) {
    let m = space.model;
    let flows = intents(space);
    // One walk of every flow at once finds the packets whose reply may be
    // lost; only the flows that hold one are walked again on their own, so
    // that the findings are those of the per-flow walks (see the module's
    // comment). The results keep the flows' order so the first flow that
    // shows a missing route is the one reported.
    let lost = if shared {
        Some(lost_replies(space, &flows))
    } else {
        None
    };
    let found: Vec<Vec<ReplyFailure>> = flows
        .par_iter()
        .map(|f| match &lost {
            Some(lost) if !lost.iter().any(|l| !l.intersect(f).is_empty()) => Vec::new(),
            _ => reply_failures(space, f),
        })
        .collect();
    drop((lost, flows));
    // The routes' labels are looked up only for findings: on a design
    // without any (the common case) the index of every route line is not
    // built (W3's million routes made 40 MB, at the rule's peak).
    if found.iter().all(Vec::is_empty) {
        return;
    }
    let routes = forward_routes(m);
    let mut seen: BTreeSet<(Element, SiteId, String)> = BTreeSet::new();
    for failure in found.into_iter().flatten() {
        let Some(element) = classify(m, &failure) else {
            continue;
        };
        let Some(p) = readable_witness(&failure.set) else {
            continue;
        };
        let Some((src_site, prefix)) = source_prefix(m, p.src) else {
            continue;
        };
        // One finding per element and missing prefix: further flows that
        // need the same route add nothing the fix does not cover.
        if !seen.insert((element, src_site, prefix.to_string())) {
            continue;
        }
        out.push(diagnostic(
            space, &routes, &failure, element, src_site, prefix, p.src, p.dst,
        ));
    }
}

/// The flows the design states it wants, each as one packet set: sources
/// are addresses some site owns (replies to the internet are a question of
/// NAT and exits, not of routes written in the design).
fn intents(space: &Space) -> Vec<PacketSet> {
    let m = space.model;
    let explicit = |e: &AddrExpr| {
        !e.terms.is_empty()
            && e.terms.iter().all(|t| match t.value {
                AddrTerm::Any | AddrTerm::Internet => false,
                AddrTerm::Net(n) => n.prefix_len() > 0,
                _ => true,
            })
    };
    let mut out: Vec<PacketSet> = Vec::new();
    let mut push = |set: PacketSet| {
        if !set.is_empty() {
            out.push(set);
        }
    };
    // Once per VPC, not per group: it scans the model's route tables.
    let mut local_of: BTreeMap<SiteId, AddrRanges> = BTreeMap::new();
    for (i, sg) in m.security_groups.iter().enumerate() {
        let members = space.sg_members(crate::model::SgId(i as u32));
        if members.is_empty() {
            continue;
        }
        // Sources inside the group's own VPC get their replies by the local
        // route, which no lookup can lose, when nothing in the VPC routes
        // its own addresses elsewhere: they are not walked (a group per
        // instance, each admitting its VPC, was one walk over every
        // instance per group, cubic in the groups).
        let local = local_of
            .entry(sg.site)
            .or_insert_with(|| locally_routed(m, sg.site));
        let flows: Vec<PacketSet> = sg
            .inbound
            .iter()
            .filter(|r| !r.implicit && explicit(&r.peers))
            .map(|r| {
                let src = space
                    .addrs(&r.peers)
                    .intersect(&space.owned)
                    .difference(&members)
                    .difference(local);
                service_flows(&r.services, &src, &members)
            })
            .collect();
        // One walk per filter, of all its rules' flows at once: a firewall
        // of a thousand rules over a few address pairs is a few regions of
        // packet space, not a thousand walks (10 s on a 100k-line design).
        push(PacketSet::union_all(&flows));
    }
    for fw in &m.firewalls {
        let flows: Vec<PacketSet> = fw
            .rules
            .iter()
            .filter(|r| {
                !r.decl.implicit
                    && r.action.value == Action::Allow
                    && explicit(&r.from)
                    && explicit(&r.to)
            })
            .map(|r| {
                let src = space.addrs(&r.from).intersect(&space.owned);
                let dst = space.addrs(&r.to).intersect(&space.owned);
                service_flows(&r.services, &src, &dst)
            })
            .collect();
        push(PacketSet::union_all(&flows));
    }
    out
}

/// The addresses of VPC `vpc` to which every reply from inside it is
/// delivered by the local route: its prefixes, when every subnet has a
/// route table and no table has a route inside those prefixes to anything
/// but `local` (a more specific route to an appliance), and no SDDC uses
/// it as its connected VPC (whose ENIs answer for the SDDC). Otherwise
/// none.
fn locally_routed(m: &Model, vpc: SiteId) -> AddrRanges {
    let site = m.site(vpc);
    let own: Vec<ipnet::IpNet> = site.prefixes.iter().map(|p| p.value).collect();
    // A route shorter than a VPC prefix never beats the local route (a
    // default route to the internet gateway is fine); one inside it may.
    let inside = |n: &ipnet::IpNet| own.iter().any(|o| o.contains(n));
    let plain = site.kind == SiteKind::Vpc
        && !m
            .sites
            .iter()
            .any(|s| s.connected_vpc.as_ref().is_some_and(|c| c.vpc == vpc))
        && site
            .subnets
            .iter()
            .all(|&x| m.subnet(x).route_table.is_some())
        && m.route_tables.iter().filter(|rt| rt.site == vpc).all(|rt| {
            rt.routes
                .iter()
                .all(|r| r.target == RouteTarget::Local || !inside(&r.prefix))
        });
    if plain {
        AddrRanges::from_nets(own)
    } else {
        AddrRanges::empty()
    }
}

/// Which element's route lookup stopped the reply, if a route lookup did.
fn classify(m: &Model, f: &ReplyFailure) -> Option<Element> {
    let d = &f.drop;
    if d.reason.contains("has no route for the destination") {
        if let Some(i) = m
            .route_tables
            .iter()
            .position(|rt| rt.decl.name_span == d.span)
        {
            return Some(Element::Table(RouteTableId(i as u32), None));
        }
        // A transit gateway's drop names the gateway, or the route table
        // that had no route.
        for (i, c) in m.connections.iter().enumerate() {
            if c.kind != ConnKind::TransitGateway {
                continue;
            }
            let table = c
                .tables
                .iter()
                .position(|t| t.name.as_ref().is_some_and(|n| n.span == d.span));
            if table.is_some() || c.decl.span == d.span {
                return Some(Element::Tgw(ConnectionId(i as u32), table));
            }
        }
        return None;
    }
    if d.reason.contains("has no route to the destination") || d.reason == "no route" {
        return m
            .sites
            .iter()
            .position(|s| {
                s.header_span == d.span && matches!(s.kind, SiteKind::Onprem | SiteKind::Sddc)
            })
            .map(|i| Element::Site(SiteId(i as u32)));
    }
    if d.reason.contains("the internet does not route to it") {
        // The reply's own route that sent it out: the last route-table
        // route on its path, which must lead to an internet gateway.
        for h in reply_hops(&f.hops).iter().rev() {
            let Some(span) = h.span else {
                continue;
            };
            for (i, rt) in m.route_tables.iter().enumerate() {
                if let Some(ri) = rt.routes.iter().position(|r| r.span == span) {
                    let to_igw = matches!(rt.routes[ri].target, RouteTarget::Gateway(g)
                        if m.gateways[g.index()].kind == crate::model::GatewayKind::InternetGateway);
                    return to_igw.then_some(Element::Table(RouteTableId(i as u32), Some(ri)));
                }
            }
        }
    }
    None
}

/// The hops before the reply turned around.
fn forward_hops(hops: &[Hop]) -> &[Hop] {
    let i = hops
        .iter()
        .position(|h| h.node == "reply")
        .unwrap_or(hops.len());
    &hops[..i]
}

/// The reply's own hops.
fn reply_hops(hops: &[Hop]) -> &[Hop] {
    let i = hops
        .iter()
        .position(|h| h.node == "reply")
        .map_or(hops.len(), |i| i + 1);
    &hops[i..]
}

/// Spans of the lines that route a packet somewhere, so that the forward
/// path's last routing decision can be labelled: route-table and transit
/// gateway routes, and `advertise` lines.
fn forward_routes(m: &Model) -> BTreeMap<Span, &'static str> {
    let mut out = BTreeMap::new();
    for rt in &m.route_tables {
        for r in &rt.routes {
            out.insert(r.span, "the request gets there by this route");
        }
    }
    for c in &m.connections {
        for r in &c.routes {
            out.insert(r.span, "the request gets there by this route");
        }
        for a in &c.advertise {
            out.insert(a.span, "the request gets there by this advertised route");
        }
    }
    out
}

/// The source's site and the prefix the return route needs: the site's
/// declared prefix that holds the address, else its subnet's prefix.
fn source_prefix(m: &Model, addr: IpAddr) -> Option<(SiteId, ipnet::IpNet)> {
    for (i, s) in m.sites.iter().enumerate() {
        if s.kind == SiteKind::Internet {
            continue;
        }
        if let Some(p) = s.prefixes.iter().find(|p| p.value.contains(&addr)) {
            return Some((SiteId(i as u32), p.value));
        }
    }
    m.subnets
        .iter()
        .find(|s| s.prefix.value.contains(&addr))
        .map(|s| (s.site, s.prefix.value))
}

/// The host with this address in a site, else the address itself.
fn name_of(m: &Model, site: Option<SiteId>, addr: IpAddr) -> String {
    m.hosts
        .iter()
        .find(|h| h.addr.value == addr && site.is_none_or(|s| h.site == s))
        .map(|h| format!("`{}.{}`", m.site(h.site).decl.name, h.decl.name))
        .unwrap_or_else(|| addr.to_string())
}

/// The connection joining two sites directly, or a transit gateway that
/// attaches both.
fn link(m: &Model, a: SiteId, b: SiteId) -> Option<ConnectionId> {
    let direct = m.connections.iter().position(|c| {
        c.kind != ConnKind::L2vpn
            && c.ends.iter().any(|e| e.value == a)
            && c.ends.iter().any(|e| e.value == b)
    });
    direct
        .or_else(|| {
            m.connections.iter().position(|c| {
                let attached = |s: SiteId| {
                    c.attach
                        .iter()
                        .any(|e| e.value == crate::model::Entity::Site(s))
                };
                c.kind == ConnKind::TransitGateway && attached(a) && attached(b)
            })
        })
        .map(|i| ConnectionId(i as u32))
}

#[allow(clippy::too_many_arguments)]
fn diagnostic(
    space: &Space,
    routes: &BTreeMap<Span, &'static str>,
    f: &ReplyFailure,
    element: Element,
    src_site: SiteId,
    prefix: ipnet::IpNet,
    src: IpAddr,
    dst: IpAddr,
) -> Diagnostic {
    let m = space.model;
    let src_name = name_of(m, Some(src_site), src);
    let dst_name = name_of(m, None, dst);
    let src_site_name = &m.site(src_site).decl.name;
    let (what, span, label, help) = match element {
        Element::Table(t, via) => {
            let rt = &m.route_tables[t.index()];
            let target = link(m, rt.site, src_site)
                .map(|c| m.connections[c.index()].decl.name.clone())
                .unwrap_or_else(|| "the peering, VPN or transit gateway".into());
            let what = match via {
                Some(_) => format!(
                    "route table `{}` has no route to {prefix} other than its default route, which sends the reply to the internet gateway, and the internet does not route private addresses",
                    rt.decl.name
                ),
                None => format!("route table `{}` has no route to {prefix}", rt.decl.name),
            };
            (
                what,
                rt.decl.name_span,
                "no route back to the source".to_string(),
                format!(
                    "add `route {prefix} -> {target}` to route table `{}`",
                    rt.decl.name
                ),
            )
        }
        Element::Tgw(c, table) => {
            let tgw = &m.connections[c.index()];
            match table
                .and_then(|t| tgw.tables.get(t))
                .and_then(|t| t.name.as_ref())
            {
                Some(name) => (
                    format!(
                        "route table `{}` of transit gateway `{}` has no route to {prefix}",
                        name.value, tgw.decl.name
                    ),
                    name.span,
                    "no route back to the source".to_string(),
                    format!(
                        "add `propagate {src_site_name}` to route table `{}`, or `route {prefix} -> {src_site_name}`",
                        name.value
                    ),
                ),
                None => (
                    format!(
                        "transit gateway `{}` has no route to {prefix}",
                        tgw.decl.name
                    ),
                    tgw.decl.name_span,
                    "no route back to the source".to_string(),
                    format!(
                        "add `route {prefix} -> {src_site_name}` to transit gateway `{}`",
                        tgw.decl.name
                    ),
                ),
            }
        }
        Element::Site(s) => {
            let site = m.site(s);
            let help = match link(m, s, src_site) {
                Some(c) if m.connections[c.index()].kind != ConnKind::TransitGateway => {
                    let c = &m.connections[c.index()];
                    format!(
                        "add `advertise {src_site_name} {prefix}` to {} `{}`, so that `{}` learns the route back",
                        c.kind.keyword(),
                        c.decl.name,
                        site.decl.name
                    )
                }
                _ => format!(
                    "advertise {prefix} from `{src_site_name}` to `{}` over the Direct Connect or VPN the request came in by",
                    site.decl.name
                ),
            };
            (
                format!(
                    "{} `{}` has not learned a route to {prefix}",
                    site.kind.keyword(),
                    site.decl.name
                ),
                site.decl.name_span,
                "no route back to the source".to_string(),
                help,
            )
        }
    };
    let mut d = Diagnostic::new(
        Code::NP405,
        format!("{src_name} reaches {dst_name}, but the reply is lost: {what}"),
        span,
        label,
    );
    if let Element::Table(t, Some(ri)) = element {
        if let Some(r) = m.route_tables[t.index()].routes.get(ri) {
            d = d.with_label(r.span, "the reply to the source takes this route");
        }
    }
    if let Some((s, text)) = forward_hops(&f.hops)
        .iter()
        .rev()
        .filter_map(|h| h.span)
        .find_map(|s| routes.get(&s).map(|t| (s, *t)))
    {
        d = d.with_label(s, text);
    }
    d.with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space_of(text: &str) -> Model {
        crate::model::lower(&crate::syntax::parse(text).tree).model
    }

    /// Whether NP405 walks an HTTPS flow from `addr` to instance `x`.
    fn walks_from(m: &Model, addr: &str) -> bool {
        let space = Space::new(m);
        let p = crate::engine::packet_set::Packet {
            src: addr.parse().expect("address"),
            dst: "10.0.1.10".parse().expect("address"),
            proto: 6,
            sport: 40000,
            dport: 443,
        };
        intents(&space).iter().any(|f| f.contains(&p))
    }

    /// The designs where the shared walk must pick out exactly the flows
    /// whose replies are lost: the rule's fixtures, the transit gateway
    /// scenarios, and growth shapes with a return route taken out (a VPC
    /// table, a transit gateway table that does not propagate one VPC, a
    /// peering chain missing one route back).
    fn designs() -> Vec<String> {
        let read = |p: &str| {
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + p)
                .expect("fixture")
        };
        let mut out = vec![
            read("fixtures/rules/NP405/fires.np"),
            read("fixtures/rules/NP405/quiet.np"),
            read("fixtures/scenarios/tgw-hub-central-egress.np"),
            read("fixtures/scenarios/tgw-prod-dev-segmentation.np"),
        ];
        let shape = |name: &str, n: usize| crate::gen::generate_shape(name, n).expect("shape");
        let tgw = shape("vpcs-on-tgw", 12);
        out.push(tgw.replacen(
            "vpc v3 10.1.3.0/24 {\n  route-table rt main {\n    route 10.0.0.0/8 -> hub",
            "vpc v3 10.1.3.0/24 {\n  route-table rt main {\n    route 10.1.0.0/24 -> hub",
            1,
        ));
        let names: Vec<String> = (0..12).map(|i| format!("v{i}")).collect();
        let attach = format!("  attach {}\n", names.join(", "));
        let others: Vec<&str> = names
            .iter()
            .filter(|n| *n != "v5")
            .map(|n| n.as_str())
            .collect();
        out.push(tgw.replacen(
            &attach,
            &format!(
                "{attach}  route-table main-t {{\n    associate {}\n    propagate {}\n  }}\n",
                names.join(", "),
                others.join(", ")
            ),
            1,
        ));
        out.push(shape("peering-chain", 12).replacen(
            "    route 10.1.4.0/24 -> p4\n    route 10.1.6.0/24",
            "    route 10.1.6.0/24",
            1,
        ));
        out.push(shape("dx-sites", 6));
        out.push(shape("sg-references", 6));
        // Management networks: flows from compute segments to vCenter,
        // which the shared walk does not take through the management
        // gateway (what passes ends undecided), and from on-prem, which it
        // does: in W3's shape, and in the vCenter scenario with a rule
        // from a compute segment added.
        out.push(crate::gen::generate_workload(
            &crate::gen::Workload::W3_SMALL,
        ));
        out.push(crate::gen::vcenter_from_a_segment());
        out
    }

    /// The shared walk changes the cost, never the findings: on every
    /// design, the same diagnostics in the same order as when every flow is
    /// walked on its own, and some designs do have findings.
    #[test]
    fn the_shared_walk_reports_what_the_per_flow_walks_report() {
        let mut fired = 0;
        for text in designs() {
            let m = space_of(&text);
            let space = Space::new(&m);
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            report(&space, true, &mut fast);
            report(&space, false, &mut slow);
            assert_eq!(fast, slow);
            fired += usize::from(!slow.is_empty());
        }
        assert!(fired >= 4, "only {fired} designs have findings");
    }

    /// Every reply failure a flow's own walk finds lies in what the shared
    /// walk reports as possibly lost.
    #[test]
    fn the_shared_walk_holds_every_lost_reply() {
        for text in designs() {
            let m = space_of(&text);
            let space = Space::new(&m);
            let flows = intents(&space);
            let lost = PacketSet::union_all(&lost_replies(&space, &flows));
            for f in &flows {
                for failure in reply_failures(&space, f) {
                    assert!(failure.set.is_subset(&lost));
                }
            }
        }
    }

    const VPC: &str = "vpc v 10.0.0.0/16 {\n  internet-gateway igw\n  route-table rt main {\n    route 0.0.0.0/0 -> igw\nROUTES  }\n  subnet a 10.0.1.0/24\n  subnet b 10.0.2.0/24\n  security-group g {\n    inbound HTTPS from 10.0.0.0/8\n  }\n  instance x 10.0.1.10 in a sg [g]\n  instance y 10.0.2.10 in b\n}\n";

    /// The replies to sources inside a plain VPC take the local route, so
    /// those sources are not walked; a route inside the VPC's prefixes (to
    /// an appliance) could lose them, so then they are.
    #[test]
    fn sources_inside_a_plainly_routed_vpc_are_not_walked() {
        let plain = space_of(&VPC.replace("ROUTES", ""));
        assert!(!walks_from(&plain, "10.0.2.10"));
        let steered = space_of(&VPC.replace("ROUTES", "    route 10.0.2.0/24 -> y\n"));
        assert!(walks_from(&steered, "10.0.2.10"));
    }
}
