//! Expectations, decided exhaustively over packet sets.
//!
//! `expect reach` holds when every flow of its set reaches (delivered, and
//! the reply comes back to the source from the address it sent to);
//! `expect no-reach` holds when no packet of its set is delivered. A failed
//! expectation names one concrete packet that fails, the element that
//! stopped it (or let it through) and the path it took.

use super::packet_set::{AddrRanges, Packet, PacketSet};
use super::services::{flow_boxes, MAX_FLOW_BOXES};
use super::space::{has_service_flows, service_flows, Iface, Space};
use super::view::{AddrExpr, View};
use super::walk::{same_header, Branch, Dest, Drop, Hop, Leaf, Loc, Walker};
use crate::diagnostic::Diagnostic;
use crate::model::{AddrTerm, Entity, Expectation, HostId, SiteId, SubnetId};
use crate::rules::{
    np901_expectation_unreachable as np901, np902_expectation_reachable as np902,
    np903_expectation_wrong_egress as np903, np904_vacuous_expectation as np904,
    np905_undecided_expectation as np905,
};
use crate::syntax::ast::{ExpectKind, SiteKind};
use std::collections::HashMap;

/// The outcome of one expectation: `holds` is `None` when the engine could
/// not decide it (a path through something this version does not model).
#[derive(Debug)]
pub struct Verdict {
    pub holds: Option<bool>,
    pub diagnostic: Option<Diagnostic>,
}

/// The packet of a set a network engineer would pick to show: TCP, then
/// UDP, then ICMP, then any protocol; within one, the algebra's own
/// preferences (lowest port, first host address, an ephemeral source port).
pub fn readable_witness(set: &PacketSet) -> Option<Packet> {
    [6u8, 17, 1, 58]
        .iter()
        .find_map(|&p| set.with_proto(p, p).witness())
        .or_else(|| set.witness())
}

/// The hosts and subnets an address expression names, each with the
/// addresses it stands for there, first claim first: a host, a group's
/// members, a subnet's hosts and then its other addresses, a site's hosts
/// and then its subnets. VM networks may reuse each other's addresses; an
/// expectation that names `fabrikam.app01` means that VM, not the first one
/// declared with its address (the oracle's probes start there too).
fn named(space: &Space, e: &crate::model::AddrExpr) -> Vec<(Dest, AddrRanges)> {
    fn term(space: &Space, t: AddrTerm, depth: usize, out: &mut Vec<(Dest, AddrRanges)>) {
        let m = space.model;
        let host = |h: HostId, out: &mut Vec<(Dest, AddrRanges)>| {
            out.push((
                Dest::Iface(Iface::Host(h)),
                AddrRanges::from_nets(m.host(h).addrs().map(|a| a.value.into())),
            ));
        };
        let subnet = |site: SiteId, sub: SubnetId, out: &mut Vec<(Dest, AddrRanges)>| {
            let addrs = AddrRanges::from_nets(m.subnet(sub).prefixes().map(|p| p.value));
            out.push((
                Dest::Virtual(site, sub),
                addrs.difference(&space.device_addrs),
            ));
        };
        match t {
            AddrTerm::Entity(Entity::Host(h)) => host(h, out),
            AddrTerm::Entity(Entity::Group(g)) if depth < 32 => {
                for x in &m.groups[g.index()].members.terms {
                    term(space, x.value, depth + 1, out);
                }
            }
            AddrTerm::Entity(Entity::Subnet(sub)) => {
                let site = m.subnet(sub).site;
                for &h in &m.site(site).hosts {
                    if m.host(h).subnet == Some(sub) {
                        host(h, out);
                    }
                }
                subnet(site, sub, out);
            }
            AddrTerm::Entity(Entity::Site(site)) if m.site(site).kind != SiteKind::Internet => {
                for &h in &m.site(site).hosts {
                    host(h, out);
                }
                for &sub in &m.site(site).subnets {
                    subnet(site, sub, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for t in &e.terms {
        term(space, t.value, 0, &mut out);
    }
    out
}

/// Where the packets of a source address set start: the hosts and subnets
/// the expectation names (see [`named`]) for their addresses, then each
/// other address by who owns it.
pub(super) fn starts(
    space: &Space,
    src: &AddrRanges,
    names: &[(Dest, AddrRanges)],
) -> Vec<(Dest, AddrRanges)> {
    let m = space.model;
    let mut out: Vec<(Dest, AddrRanges)> = Vec::new();
    let mut rest = src.clone();
    let classes = &space.classes;
    for (d, addrs) in names {
        let part = rest.intersect(addrs);
        if part.is_empty() {
            continue;
        }
        rest = rest.difference(&part);
        match out.iter_mut().find(|(x, _)| x == d) {
            Some((_, a)) => *a = a.union(&part),
            None => out.push((*d, part)),
        }
    }
    for (i, site) in m.sites.iter().enumerate() {
        let sid = SiteId(i as u32);
        // A class of interchangeable hosts starts together (`classes.rs`).
        for (h, addrs) in classes.host_classes(sid) {
            let a = rest.intersect(addrs);
            if !a.is_empty() {
                rest = rest.difference(&a);
                out.push((Dest::Iface(Iface::Host(*h)), a));
            }
        }
        if site.kind == SiteKind::Internet {
            continue;
        }
        // A NAT gateway's or an NLB's address starts nothing: the
        // device only answers (docs/forwarding.md, "Where packets start").
        rest = rest.difference(&space.device_addrs);
        for &sub in &site.subnets {
            if classes.subnet_rep(sub) != sub {
                continue;
            }
            let Some(addrs) = classes.subnet_addrs(sub) else {
                continue;
            };
            let part = rest.intersect(addrs);
            if !part.is_empty() {
                rest = rest.difference(&part);
                out.push((Dest::Virtual(sid, sub), part));
            }
        }
    }
    let inet = rest.intersect(&space.internet);
    if !inet.is_empty() {
        out.push((Dest::Internet, inet));
    }
    out
}

/// Why a set of packets failed, with the path that shows it.
pub(super) struct Failure {
    set: PacketSet,
    pub(super) drop: Drop,
    hops: Vec<Hop>,
    /// The failure happened to the reply, not the forward packet.
    reply: bool,
}

pub fn evaluate(space: &Space, e: &Expectation) -> Verdict {
    // An empty flow set would hold vacuously for every kind: `reach` has no
    // flow that fails, `no-reach` none that is delivered, `egress` none
    // that leaves by another exit. It is a finding, and not a pass.
    if let Some(why) = no_flows(space, e) {
        return Verdict {
            holds: Some(false),
            diagnostic: Some(np904::diagnostic(e, why)),
        };
    }
    // Too large a set is not walked: neither a pass nor a failure.
    if let Some(why) = too_large(space, e) {
        return Verdict {
            holds: None,
            diagnostic: Some(np905::diagnostic(e, why)),
        };
    }
    match e.kind {
        ExpectKind::Reach => reach(space, e),
        ExpectKind::NoReach => no_reach(space, e),
        ExpectKind::Egress => egress(space, e),
    }
}

/// The packets an expectation is about: sources, the address they send
/// to (`at`, else the destination), the services, client source ports.
fn flows(space: &Space, e: &Expectation) -> (AddrRanges, AddrRanges, PacketSet) {
    let src = space.addrs(&e.src);
    let dst = e
        .dst
        .as_ref()
        .map(|d| space.addrs(d))
        .unwrap_or_else(AddrRanges::empty);
    let to =
        e.at.as_ref()
            .map(|a| space.addrs(a))
            .unwrap_or_else(|| dst.clone());
    let set = service_flows(&e.services, &src, &to);
    (src, dst, set)
}

/// The addresses an expectation's packets are sent to: the `at` address,
/// else the destination; for `egress`, every internet address.
fn sent_to(space: &Space, e: &Expectation) -> AddrRanges {
    match e.kind {
        ExpectKind::Egress => space.internet.clone(),
        _ => {
            e.at.as_ref()
                .or(e.dst.as_ref())
                .map(|a| space.addrs(a))
                .unwrap_or_else(AddrRanges::empty)
        }
    }
}

/// Why an expectation is not decided, when its flow set would have more
/// boxes than [`MAX_FLOW_BOXES`]; counted on the address lists, without
/// building the set. Everything that walks an expectation's flows asks
/// first (the rules that reason about expectations, `netproof reach`).
pub fn too_large(space: &Space, e: &Expectation) -> Option<np905::Why> {
    use super::packet_set::Family;
    let src = space.addrs(&e.src);
    let to = sent_to(space, e);
    let boxes = flow_boxes(&e.services, &src, &to);
    let ranges = |a: &AddrRanges| Family::ALL.iter().map(|&f| a.ivs(f).len()).sum();
    (boxes > MAX_FLOW_BOXES).then(|| np905::Why::TooLarge {
        boxes,
        src: ranges(&src),
        dst: ranges(&to),
    })
}

/// Why an expectation names no packet, when it names none: its flow set
/// (sources, times the addresses they send to, times the services, each
/// family with its own, see `service_flows`) is empty, or has no packet
/// from an address that sends. An `egress` expectation's packets go to
/// every internet address.
pub fn no_flows(space: &Space, e: &Expectation) -> Option<np904::Why> {
    use super::packet_set::Family;
    use np904::Why;
    let src = space.addrs(&e.src);
    let to = sent_to(space, e);
    // Decided on the address lists, not on their product: the flows from
    // some sources are those of `service_flows` with the sources cut down,
    // and two scattered lists make a product as large as their lengths
    // multiplied.
    let any_flow = |from: &AddrRanges| has_service_flows(&e.services, from, &to);
    if any_flow(&src) {
        // Addresses that send nothing start no walk (`starts`): flows from
        // them alone are as empty as no flow at all. The hosts and subnets
        // the source names always send, which settles most expectations
        // without looking at every site.
        let names = named(space, &e.src);
        let union = |parts: &[(Dest, AddrRanges)]| {
            parts
                .iter()
                .fold(AddrRanges::empty(), |acc, (_, a)| acc.union(a))
        };
        if any_flow(&src.intersect(&union(&names))) {
            return None;
        }
        let sending = union(&starts(space, &src, &names));
        return (!any_flow(&src.intersect(&sending))).then_some(Why::NoSender);
    }
    let families = |a: &AddrRanges| {
        [(Family::V4, "IPv4"), (Family::V6, "IPv6")]
            .into_iter()
            .filter(|(f, _)| !a.only(*f).is_empty())
            .map(|(_, name)| name)
            .collect::<Vec<_>>()
    };
    let (src_families, to_families) = (families(&src), families(&to));
    let shared: Vec<&'static str> = src_families
        .iter()
        .copied()
        .filter(|f| to_families.contains(f))
        .collect();
    Some(if e.services.ranges.is_empty() {
        Why::NoServices
    } else if src.is_empty() {
        Why::NoSource
    } else if to.is_empty() {
        Why::NoDestination
    } else {
        match shared.as_slice() {
            // Both sides have addresses, so each has exactly one family.
            [] => Why::Families {
                src: src_families.first().copied().unwrap_or("no"),
                dst: to_families.first().copied().unwrap_or("no"),
            },
            [one] => Why::ServiceFamily { shared: one },
            // Every service is a flow of one family or both, so sharing
            // both families leaves some flow; this is for completeness.
            _ => Why::ServiceFamily {
                shared: "IPv4 and IPv6",
            },
        }
    })
}

/// What an expectation's destination accepts as a delivery
/// (`docs/engine.md`, "What a destination means"):
/// - a named host, or a host of a named subnet, site or group: that host,
///   even where another host shares its address;
/// - an address of a named site or subnet that no named host has: a host of
///   that site, never a host of another site whose address space overlaps;
/// - an address, prefix or range written as such, or a public IP by name,
///   with no `at`: any delivery of a packet sent there, whoever receives it
///   after NAT ("is anything listening at 54.1.2.3?");
/// - with `at`, the destination's addresses are where the packet must
///   arrive: an interface with one of them.
pub(super) struct Target {
    /// Every address the destination stands for.
    dst: AddrRanges,
    /// The hosts and subnets it names (see [`named`]).
    names: Vec<(Dest, AddrRanges)>,
    /// The sites it names, each with its whole address space.
    sites: Vec<(SiteId, AddrRanges)>,
    /// The addresses it gives as addresses, when packets are sent to the
    /// destination itself.
    bare: AddrRanges,
}

impl Target {
    pub(super) fn of(space: &Space, e: &Expectation) -> Target {
        let Some(d) = e.dst.as_ref() else {
            return Target {
                dst: AddrRanges::empty(),
                names: Vec::new(),
                sites: Vec::new(),
                bare: AddrRanges::empty(),
            };
        };
        let mut sites = Vec::new();
        let mut bare = Vec::new();
        fn walk(
            space: &Space,
            t: AddrTerm,
            depth: usize,
            sites: &mut Vec<(SiteId, AddrRanges)>,
            bare: &mut Vec<AddrRanges>,
        ) {
            let m = space.model;
            match t {
                AddrTerm::Any | AddrTerm::Net(_) | AddrTerm::Range(..) => {
                    bare.push(space.addrs_of_term(t));
                }
                AddrTerm::Entity(Entity::PublicIp(_)) => bare.push(space.addrs_of_term(t)),
                AddrTerm::Entity(Entity::Site(site)) if m.site(site).kind != SiteKind::Internet => {
                    sites.push((site, space.site_addrs(site)));
                }
                AddrTerm::Entity(Entity::Group(g)) if depth < 32 => {
                    for x in &m.groups[g.index()].members.terms {
                        walk(space, x.value, depth + 1, sites, bare);
                    }
                }
                _ => {}
            }
        }
        for t in &d.terms {
            walk(space, t.value, 0, &mut sites, &mut bare);
        }
        Target {
            dst: space.addrs(d),
            names: named(space, d),
            sites,
            // Sent to one address and expected at another: the destination
            // says where they must arrive, so its addresses are matched.
            bare: if e.at.is_some() {
                AddrRanges::empty()
            } else {
                AddrRanges::union_many(bare)
            },
        }
    }

    /// The packets of `orig`, delivered to `to`, that reached the
    /// destination.
    fn accepted(&self, space: &Space, to: Dest, orig: &PacketSet) -> PacketSet {
        if self.whole(space, to) {
            return orig.clone();
        }
        if self.bare.is_empty() {
            return PacketSet::empty();
        }
        orig.with_dst(&self.bare)
    }

    /// Whether every packet delivered to `to` reached the destination.
    fn whole(&self, space: &Space, to: Dest) -> bool {
        let m = space.model;
        match to {
            Dest::Iface(Iface::Host(h)) => {
                // A dual-stack instance's addresses are one interface's.
                let own = AddrRanges::from_nets(m.host(h).addrs().map(|a| a.value.into()));
                let has = |addrs: &AddrRanges| !addrs.intersect(&own).is_empty();
                if self.names.iter().any(|(d, _)| *d == to) {
                    return true;
                }
                // Another host the destination names has this address.
                if self
                    .names
                    .iter()
                    .any(|(d, addrs)| matches!(d, Dest::Iface(_)) && has(addrs))
                {
                    return false;
                }
                // A named subnet or site claims the address: the host must be
                // of that site, not of another whose addresses overlap.
                let site = m.host(h).site;
                let claims = self
                    .names
                    .iter()
                    .filter_map(|(d, addrs)| match d {
                        Dest::Virtual(s, _) => Some((*s, addrs)),
                        _ => None,
                    })
                    .chain(self.sites.iter().map(|(s, addrs)| (*s, addrs)))
                    .filter(|(_, addrs)| has(addrs))
                    .map(|(s, _)| s)
                    .collect::<Vec<_>>();
                if !claims.is_empty() {
                    return claims.contains(&site);
                }
                has(&self.dst)
            }
            Dest::Iface(Iface::Endpoint(ep)) => {
                self.dst.contains(m.endpoints[ep.index()].addr.value)
            }
            // Unnamed internet addresses and virtual hosts are checked by the
            // packet's own destination address, which is what they received.
            Dest::Internet | Dest::Virtual(..) | Dest::Service(_) => true,
        }
    }
}

/// Which packets of a set reach, and why the others do not.
struct Outcome {
    reached: PacketSet,
    failures: Vec<Failure>,
}

/// Walks every packet of `all` from where its source address starts, and
/// its reply. With `dst`, a packet delivered to an interface outside it is a
/// failure (the `at` form: sent to one address, expected at another).
fn outcome(
    space: &Space,
    all: &PacketSet,
    target: Option<&Target>,
    src_names: &[(Dest, AddrRanges)],
    fallback: crate::span::Span,
) -> Outcome {
    let fwd = Walker::forward(space);
    let mut reached = PacketSet::empty();
    let mut failures: Vec<Failure> = Vec::new();
    for (start, addrs) in starts(space, &all.src_addrs(), src_names) {
        for leaf in fwd.leaves_from(start, all.with_src(&addrs)) {
            match leaf {
                Leaf::Dropped { drop, branch } => failures.push(Failure {
                    set: branch.orig.clone(),
                    drop,
                    hops: branch.hops.to_vec(),
                    reply: false,
                }),
                Leaf::Delivered { to, branch } => {
                    let (branch, wrong) = match target {
                        None => (branch, PacketSet::empty()),
                        Some(t) => {
                            let (yes, no) =
                                branch.orig.split_off(t.accepted(space, to, &branch.orig));
                            (branch.with(yes), no)
                        }
                    };
                    if !wrong.is_empty() {
                        failures.push(Failure {
                            set: wrong,
                            drop: Drop {
                                reason:
                                    "the packet is delivered, but not to the expected destination"
                                        .into(),
                                span: branch.hops.last().and_then(|h| h.span).unwrap_or(fallback),
                                help: "check the NAT rule or address the expectation sends to"
                                    .into(),
                                unsupported: false,
                            },
                            hops: branch.hops.to_vec(),
                            reply: false,
                        });
                    }
                    if !branch.orig.is_empty() {
                        reply(space, start, to, branch, &mut reached, &mut failures);
                    }
                }
            }
        }
    }
    Outcome { reached, failures }
}

/// Which packets of a set reach (delivered and answered), and which the
/// engine cannot decide. Used by `netproof reach` and by the property tests
/// that hold the engine to the oracle.
pub struct Reachability {
    pub reached: PacketSet,
    pub unknown: PacketSet,
}

pub fn reachability(space: &Space, packets: &PacketSet) -> Reachability {
    let o = outcome(space, packets, None, &[], crate::span::Span::default());
    let unknown = o
        .failures
        .iter()
        .filter(|f| f.drop.unsupported)
        .fold(PacketSet::empty(), |acc, f| acc.union(&f.set));
    let unknown = unknown.difference(&o.reached);
    Reachability {
        reached: o.reached,
        unknown,
    }
}

fn reach(space: &Space, e: &Expectation) -> Verdict {
    let (_, _, all) = flows(space, e);
    if all.is_empty() {
        return Verdict {
            holds: Some(true),
            diagnostic: None,
        };
    }
    let target = Target::of(space, e);
    let Outcome { reached, failures } =
        outcome(space, &all, Some(&target), &named(space, &e.src), e.span);
    // The failing packets are `all` minus `reached`; a failure's packets
    // are some of `all` (a walk only splits the packets it starts with), so
    // those of them that fail are the failure's minus `reached`. Subset
    // tests stop at the first packet outside, and the sets here are as large
    // as the product of the expectation's address lists.
    if all.is_subset(&reached) {
        return Verdict {
            holds: Some(true),
            diagnostic: None,
        };
    }
    // Prefer a failure the model decides over one it cannot describe yet;
    // only the first is shown.
    let decided = failures
        .iter()
        .find(|f| !f.drop.unsupported && !f.set.is_subset(&reached));
    let Some(f) = decided else {
        let undecided = failures
            .iter()
            .find(|f| f.drop.unsupported && !f.set.is_subset(&reached));
        return not_decided(e, undecided.map(|f| &f.drop));
    };
    let witness = readable_witness(&f.set.difference(&reached));
    Verdict {
        holds: Some(false),
        diagnostic: witness.map(|p| np901::diagnostic(e, &p, &f.drop, &f.hops, f.reply)),
    }
}

/// Walks the reply of a delivered branch and records which original
/// packets reach.
pub(super) fn reply(
    space: &Space,
    start: Dest,
    to: Dest,
    fwd: Branch,
    reached: &mut PacketSet,
    failures: &mut Vec<Failure>,
) {
    for leaf in reply_leaves(space, start, to, fwd) {
        match leaf {
            Leaf::Dropped { drop, branch } => failures.push(Failure {
                set: branch.orig.clone(),
                drop,
                hops: branch.hops.to_vec(),
                reply: true,
            }),
            Leaf::Delivered { to: back, branch } => {
                let right_place = back == start;
                // The flow reaches when the reply is the exact reverse of
                // the request: from the address (and port) the source sent
                // to, to its own.
                let ok = if right_place {
                    came_back(&branch)
                } else {
                    PacketSet::empty()
                };
                let wrong = branch.orig.difference(&ok);
                let elsewhere = (!right_place).then(|| describe(space, back));
                *reached = reached.union(&ok);
                if !wrong.is_empty() {
                    let sent_to = match (&elsewhere, branch.view.src) {
                        (Some(other), _) => format!(" is delivered to {other} instead of the source"),
                        (None, AddrExpr::Const(c)) => format!(" comes back from {c}, not from the address the source sent to, so the source drops it"),
                        (None, _) => " does not come back to the source with the addresses swapped".into(),
                    };
                    let span = branch
                        .hops
                        .iter_rev()
                        .find_map(|h| h.span)
                        .unwrap_or_default();
                    failures.push(Failure {
                        set: wrong,
                        drop: Drop {
                            reason: format!("the reply{sent_to} (asymmetric path: the reply leaves by another exit than the one holding the NAT session)"),
                            span,
                            help: "make the reply leave through the gateway that translated the request, or publish through the exit the replies use".into(),
                            unsupported: false,
                        },
                        hops: branch.hops.to_vec(),
                        reply: true,
                    });
                }
            }
        }
    }
}

/// The leaves of the reply of a delivered branch.
fn reply_leaves(space: &Space, start: Dest, to: Dest, fwd: Branch) -> Vec<Leaf> {
    let marks = fwd.marks.clone();
    let w = Walker {
        space,
        session: &marks,
        accept: matches!(start, Dest::Virtual(..)).then_some(start),
        verdicts_only: space.verdicts_only,
        deliveries_only: false,
    };
    let mut leaves = Vec::new();
    let mut fwd = fwd;
    let orig = std::mem::replace(&mut fwd.orig, PacketSet::empty());
    w.walk(Loc::Leave(to), reply_branch(&fwd, orig), &mut leaves);
    leaves
}

/// The reply of the packets `orig` of a delivered forward branch: addresses
/// and ports swapped, on the forward path (the hop counts toward the loop
/// limit), with no marks of its own: it follows the forward branch's
/// (`Walker::session`).
pub(super) fn reply_branch(fwd: &Branch, orig: PacketSet) -> Branch {
    let mut rb = Branch::new(orig);
    rb.view = fwd.view.swapped();
    rb.hops = fwd.hops.clone();
    rb.hops.push(Hop {
        node: "reply".into(),
        decision: "addresses and ports swapped".into(),
        span: None,
    });
    rb
}

/// The packets of a reply delivered back at its source that came back as
/// the exact reverse of the request: from the address (and port) the source
/// sent to, to its own.
pub(super) fn came_back(reply: &Branch) -> PacketSet {
    reply
        .orig
        .intersect(&same_header(&reply.view, &View::IDENTITY.swapped()))
}

fn describe(space: &Space, d: Dest) -> String {
    let m = space.model;
    match d {
        Dest::Iface(Iface::Host(h)) => format!("`{}`", m.host(h).decl.name),
        Dest::Iface(Iface::Endpoint(e)) => {
            format!("endpoint `{}`", m.endpoints[e.index()].decl.name)
        }
        Dest::Virtual(_, s) => format!("an address of `{}`", m.subnet(s).decl.name),
        Dest::Internet => "an internet host".into(),
        Dest::Service(g) => match m.gateway_endpoint(g) {
            Some((svc, _)) => format!(
                "{} through gateway endpoint `{}`",
                svc.title(),
                m.gateways[g.index()].decl.name
            ),
            None => "an AWS service".into(),
        },
    }
}

fn no_reach(space: &Space, e: &Expectation) -> Verdict {
    let (src, _, all) = flows(space, e);
    let fwd = Walker::forward(space);
    let mut unknown: Option<Drop> = None;
    let target = Target::of(space, e);
    for (start, addrs) in starts(space, &src, &named(space, &e.src)) {
        let leaves = fwd.leaves_from(start, all.with_src(&addrs));
        for leaf in leaves {
            match leaf {
                Leaf::Delivered { to, branch } => {
                    let delivered = target.accepted(space, to, &branch.orig);
                    if delivered.is_empty() {
                        continue;
                    }
                    let witness: Option<Packet> = readable_witness(&delivered);
                    return Verdict {
                        holds: Some(false),
                        diagnostic: witness
                            .map(|p| np902::diagnostic(e, &p, &branch.hops.to_vec())),
                    };
                }
                Leaf::Dropped { drop, .. } if drop.unsupported => {
                    unknown.get_or_insert(drop);
                }
                _ => {}
            }
        }
    }
    match unknown {
        Some(drop) => not_decided(e, Some(&drop)),
        None => Verdict {
            holds: Some(true),
            diagnostic: None,
        },
    }
}

/// The verdict on an expectation some of whose flows ended where the
/// engine does not model what happens (an *unsupported* leaf), with no
/// decided failure: not decided, and NP905 says where.
fn not_decided(e: &Expectation, drop: Option<&Drop>) -> Verdict {
    Verdict {
        holds: None,
        diagnostic: drop.map(|d| {
            np905::diagnostic(
                e,
                np905::Why::NotModelled {
                    reason: d.reason.clone(),
                    at: d.span,
                    help: d.help.clone(),
                },
            )
        }),
    }
}

/// One part of a packet set's fate, for `netproof reach`.
#[derive(Debug)]
pub enum Part {
    /// Delivered and answered.
    Reached(PacketSet),
    /// Stopped (the forward packet, or its reply when `reply`).
    Failed {
        set: PacketSet,
        drop: Drop,
        reply: bool,
    },
    /// On a path this version of the engine does not model.
    Unknown(PacketSet),
}

/// Splits a packet set by fate: reached, each distinct reason for failing
/// (same reason, same element, same direction grouped), and undecided. The
/// parts are disjoint and ordered: reached first, then failures in the order
/// of their first element in the text.
pub fn explain(space: &Space, packets: &PacketSet) -> Vec<Part> {
    explain_with(space, packets, None)
}

/// [`explain`] for the packets of an expectation: a delivery counts only
/// where the expectation's destination accepts it ([`Target`]), as `check`
/// judges it.
pub fn explain_for(space: &Space, packets: &PacketSet, e: &Expectation) -> Vec<Part> {
    explain_with(space, packets, Some(&Target::of(space, e)))
}

fn explain_with(space: &Space, packets: &PacketSet, target: Option<&Target>) -> Vec<Part> {
    let o = outcome(space, packets, target, &[], crate::span::Span::default());
    // A packet is explained by the first of the delivered set and the
    // failures, in order, that holds it: a first match over them, which
    // cuts each failure only by the earlier sets that overlap it. Taking
    // away a growing union of everything seen instead cost the square of
    // the failures' number (a long network ACL drops a reply at each of
    // thousands of rules).
    let mut sets = Vec::with_capacity(o.failures.len() + 1);
    sets.push(o.reached.clone());
    sets.extend(o.failures.iter().map(|f| f.set.clone()));
    let regions = super::packet_set::first_match(&sets);
    let mut parts = vec![Part::Reached(o.reached)];
    let mut unknown = Vec::new();
    // Failures with the same drop and direction are one part, at the place
    // of the first of them; the index finds it without comparing every
    // drop's text with every other's.
    let mut groups: Vec<(Drop, bool, Vec<PacketSet>)> = Vec::new();
    let mut index: HashMap<(u32, u32, bool), Vec<usize>> = HashMap::new();
    for (f, set) in o.failures.into_iter().zip(regions.into_iter().skip(1)) {
        if set.is_empty() {
            continue;
        }
        if f.drop.unsupported {
            unknown.push(set);
            continue;
        }
        let key = (f.drop.span.start, f.drop.span.end, f.reply);
        let same = index.entry(key).or_default();
        match same.iter().find(|&&g| groups[g].0 == f.drop) {
            Some(&g) => groups[g].2.push(set),
            None => {
                same.push(groups.len());
                groups.push((f.drop, f.reply, vec![set]));
            }
        }
    }
    groups.sort_by_key(|g| (g.0.span.start, g.1));
    // First-match regions are disjoint.
    parts.extend(groups.into_iter().map(|(drop, reply, sets)| Part::Failed {
        set: PacketSet::union_disjoint(sets),
        drop,
        reply,
    }));
    parts.push(Part::Unknown(PacketSet::union_disjoint(unknown)));
    parts.retain(|p| match p {
        Part::Reached(s) | Part::Unknown(s) => !s.is_empty(),
        Part::Failed { set, .. } => !set.is_empty(),
    });
    parts
}

/// `expect egress SRC via NAME`: the internet-bound packets from SRC that
/// reach the internet all pass NAME on the way (a connection, a gateway, a
/// NAT instance, or a site's own internet exit). Packets that filters stop
/// are not about the exit; but when none reaches the internet at all, the
/// expectation fails rather than holding vacuously.
fn egress(space: &Space, e: &Expectation) -> Verdict {
    let Some(via) = e.via.as_ref().map(|v| v.value) else {
        return Verdict {
            holds: None,
            diagnostic: None,
        };
    };
    let src = space.addrs(&e.src);
    let flows = service_flows(&e.services, &src, &space.internet);
    let fwd = Walker::forward(space);
    let mut unknown: Option<Drop> = None;
    let mut delivered = false;
    let mut wrong: Option<(PacketSet, Vec<Entity>, Vec<Hop>)> = None;
    let mut first_drop: Option<(PacketSet, Drop, Vec<Hop>)> = None;
    for (start, addrs) in starts(space, &src, &named(space, &e.src)) {
        let leaves = fwd.leaves_from(start, flows.with_src(&addrs));
        for leaf in leaves {
            match leaf {
                Leaf::Delivered { branch, .. } => {
                    delivered = true;
                    if wrong.is_none() && !branch.exits.contains(&via) {
                        wrong = Some((
                            branch.orig.clone(),
                            branch.exits.clone(),
                            branch.hops.to_vec(),
                        ));
                    }
                }
                Leaf::Dropped { drop, .. } if drop.unsupported => {
                    unknown.get_or_insert(drop);
                }
                Leaf::Dropped { drop, branch } => {
                    if first_drop.is_none() {
                        first_drop = Some((branch.orig.clone(), drop, branch.hops.to_vec()));
                    }
                }
            }
        }
    }
    let diag = |set: &PacketSet, exits: &[Entity], drop: Option<&Drop>, hops: &[Hop]| {
        internet_witness(space, set)
            .map(|p| np903::diagnostic(space.model, e, via, &p, exits, drop, hops))
    };
    if let Some((set, exits, hops)) = wrong {
        return Verdict {
            holds: Some(false),
            diagnostic: diag(&set, &exits, None, &hops),
        };
    }
    if !delivered && unknown.is_none() {
        if let Some((set, drop, hops)) = first_drop {
            return Verdict {
                holds: Some(false),
                diagnostic: diag(&set, &[], Some(&drop), &hops),
            };
        }
    }
    match unknown {
        Some(drop) => not_decided(e, Some(&drop)),
        None => Verdict {
            holds: Some(true),
            diagnostic: None,
        },
    }
}

/// The addresses of the design's declared internet hosts: the first choice
/// for the internet side of a packet shown in a message.
pub fn internet_host_addrs(model: &crate::model::Model) -> AddrRanges {
    model
        .hosts
        .iter()
        .filter(|h| h.kind == crate::model::HostKind::InternetHost)
        .fold(AddrRanges::empty(), |acc, h| {
            acc.union(&AddrRanges::from_addr(h.addr.value))
        })
}

/// The documentation prefixes (RFC 5737, RFC 3849): internet addresses that
/// read as examples, the second choice.
pub fn documentation_addrs() -> AddrRanges {
    AddrRanges::from_nets(
        [
            "198.51.100.0/24",
            "203.0.113.0/24",
            "192.0.2.0/24",
            "2001:db8::/32",
        ]
        .iter()
        .filter_map(|n| n.parse::<ipnet::IpNet>().ok()),
    )
}

/// A packet bound for the internet that reads well: to a declared internet
/// host if the set has one, else to a documentation address, else whatever
/// the set holds.
fn internet_witness(space: &Space, set: &PacketSet) -> Option<Packet> {
    [internet_host_addrs(space.model), documentation_addrs()]
        .iter()
        .find_map(|d| readable_witness(&set.with_dst(d)))
        .or_else(|| readable_witness(set))
}

/// A reply that the destination side stopped, with the path that shows it:
/// the forward hops, a `reply` hop, then the reply's own hops.
#[derive(Debug)]
pub struct ReplyFailure {
    pub set: PacketSet,
    pub drop: Drop,
    pub hops: Vec<Hop>,
}

/// The packets of a set whose forward packet is delivered but whose reply
/// is stopped, with why. Behaviour rules that judge the return path (NP405)
/// use it; packets that also reach by another branch are left out.
pub fn reply_failures(space: &Space, packets: &PacketSet) -> Vec<ReplyFailure> {
    let o = outcome(space, packets, None, &[], crate::span::Span::default());
    o.failures
        .into_iter()
        .filter(|f| f.reply && !f.drop.unsupported)
        .filter_map(|f| {
            let set = f.set.difference(&o.reached);
            (!set.is_empty()).then_some(ReplyFailure {
                set,
                drop: f.drop,
                hops: f.hops,
            })
        })
        .collect()
}

/// Every packet of the union of `flows` whose reply [`reply_failures`]
/// could report, found by one walk of the whole union, as a list of parts.
/// The walk decides each packet on its own (a branch is the union of the
/// walks of its packets), so for any subset of the union the failures
/// [`reply_failures`] finds lie inside these parts: a subset that meets
/// none of them has none, and need not be walked alone. The parts are a
/// superset (the replies delivered to the wrong place count, and undecided
/// packets are not subtracted), never a subset.
pub fn lost_replies(space: &Space, flows: &[PacketSet]) -> Vec<PacketSet> {
    use rayon::prelude::*;
    // Only the deliveries of the forward walk are read, so its firewalls
    // need not work out which rule drops what; the reply walks below see
    // every drop.
    let fwd = Walker::deliveries_only(space);
    let src = AddrRanges::union_many(flows.iter().map(|f| f.src_addrs()));
    let starts = starts(space, &src, &[]);
    let parts: Vec<AddrRanges> = starts.iter().map(|(_, a)| a.clone()).collect();
    let sets = PacketSet::union_split_by_src(flows, &parts);
    starts
        .into_par_iter()
        .zip(sets)
        .flat_map_iter(|((start, _), set)| {
            let mut lost = Vec::new();
            for leaf in fwd.leaves_from(start, set) {
                let Leaf::Delivered { to, branch } = leaf else {
                    continue;
                };
                for r in reply_leaves(space, start, to, branch) {
                    match r {
                        Leaf::Dropped { drop, branch } => {
                            if !drop.unsupported {
                                lost.push(branch.orig);
                            }
                        }
                        Leaf::Delivered { to: back, branch } => {
                            let ok = if back == start {
                                came_back(&branch)
                            } else {
                                PacketSet::empty()
                            };
                            let wrong = branch.orig.difference(&ok);
                            if !wrong.is_empty() {
                                lost.push(wrong);
                            }
                        }
                    }
                }
            }
            lost
        })
        .collect()
}
