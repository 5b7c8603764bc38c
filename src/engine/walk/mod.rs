//! The symbolic walk: a set of original packets, moved node by node through
//! the forwarding model of `docs/forwarding.md`, splitting at every decision.
//!
//! A [`Branch`] is a set of original packets travelling together with one
//! [`View`] of their current header. Every node is a function from a branch
//! to sub-branches that partition it: each goes on to another node, is
//! delivered, or is dropped with the element that dropped it. Replies are
//! walked the same way, with the forward branch's [`Mark`]s: stateful
//! elements the forward packet passed admit the reply, and NAT points it
//! passed restore the header they rewrote.
//!
//! This file holds the walk loop, the types it moves and the helpers several
//! platforms share. Each platform's nodes are a child module, one file per
//! platform as in the oracle (`src/sim/`): `vpc` (hosts leaving and arriving,
//! security groups, network ACLs, the VPC router), `internet` (internet and
//! NAT gateways, NAT instances, the internet), `sddc` (the ENIs and the
//! compute gateway), `edge` (the on-prem edge), `tgw` (transit gateways, and
//! a VPC's routes to them, to VPNs and to Direct Connect), `privatelink`
//! (interface endpoints), `gateway_endpoint` (S3 and DynamoDB gateway
//! endpoints), `eigw` (egress-only internet gateways) and `vnet` (VM
//! networks). NLBs are in `engine::nlb`.

use super::packet_set::{AddrRanges, AddrShift, PacketSet};
use super::space::{Iface, PublicOwner, Space};
use super::view::{AddrExpr, HeaderPredicate, PortExpr, PortField, View};
use crate::model::{
    ConnectionId, Entity, GatewayId, HostId, HostKind, Model, SiteId, SubnetId, Uplink,
};
use crate::span::Span;
use crate::syntax::ast::{FirewallMatch, SiteKind};
use std::net::IpAddr;
use std::sync::Arc;

mod edge;
mod eigw;
mod gateway_endpoint;
mod internet;
mod merged;
mod mgw;
mod privatelink;
mod sddc;
mod tgw;
mod vnet;
mod vpc;

pub(crate) use tgw::TgwLookup;

/// How many nodes a packet may visit before it is dropped as a loop.
const MAX_HOPS: usize = 64;

/// One step of a branch's path, for explanations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub node: String,
    pub decision: String,
    pub span: Option<Span>,
}

/// A branch's path so far: a persistent list, so that the many branches a
/// node splits a flow into share their common prefix instead of copying it.
#[derive(Clone, Debug, Default)]
pub struct Hops(Option<Arc<HopNode>>);

#[derive(Debug)]
struct HopNode {
    hop: Hop,
    len: usize,
    prev: Option<Arc<HopNode>>,
}

impl Hops {
    pub fn push(&mut self, hop: Hop) {
        let len = self.len() + 1;
        self.0 = Some(Arc::new(HopNode {
            hop,
            len,
            prev: self.0.take(),
        }));
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |n| n.len)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn last(&self) -> Option<&Hop> {
        self.0.as_ref().map(|n| &n.hop)
    }

    /// The hops from the last back to the first.
    pub fn iter_rev(&self) -> impl Iterator<Item = &Hop> {
        std::iter::successors(self.0.as_deref(), |n| n.prev.as_deref()).map(|n| &n.hop)
    }

    /// The hops from the first to the last.
    pub fn to_vec(&self) -> Vec<Hop> {
        let mut out = Vec::with_capacity(self.len());
        let mut at = self.0.as_deref();
        while let Some(n) = at {
            out.push(n.hop.clone());
            at = n.prev.as_deref();
        }
        out.reverse();
        out
    }
}

/// A stateful element or NAT point a forward packet passed, with the header
/// it saw there (as a view of the original packet). A reply is admitted by
/// a filter, or translated back by a NAT point, exactly when its header is
/// the reverse of such a header (docs/forwarding.md, "Oracle decisions":
/// sessions and verdicts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mark {
    /// A stateful filter admitted the flow with this header.
    Filter(Filter, View),
    /// A NAT point translated the flow.
    Nat(Nat),
}

/// A stateful filter, as its state table is shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Filter {
    /// The security groups of an interface.
    Sg(Iface),
    /// A site's gateway firewall: one state table for all its uplinks.
    Firewall(SiteId),
    /// The SDDC's ENIs (the connected VPC's default group).
    Eni(SiteId),
    /// An SDDC's management gateway firewall, both directions.
    Mgw(SiteId),
    /// An egress-only internet gateway, which admits from the internet only
    /// the replies of flows it passed outbound.
    Eigw(GatewayId),
}

/// A translation: the header before and after it, and, for an NSX rule,
/// whether the flow bypasses the gateway firewall (`firewall-match bypass`
/// holds for the reply too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Nat {
    pub point: NatPoint,
    pub before: View,
    pub after: View,
    pub firewall_match: FirewallMatch,
}

/// Where a translation happened; replies are translated back only at the
/// same point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NatPoint {
    CgwInternet(SiteId),
    Igw(GatewayId),
    NatGateway(GatewayId),
    NatInstance(HostId),
    OnpremEdge(SiteId),
    /// An interface endpoint and the NLB behind its endpoint service.
    PrivateLink(crate::model::EndpointId),
    /// An NLB reached at its own address.
    Nlb(crate::model::NlbId),
    /// A VM network's NVGRE gateway in NAT mode.
    Vnet(GatewayId),
}

/// The interface that sent a packet, for `sg NAME` sources: AWS matches a
/// referenced group by the sending interface, not by the source address
/// (docs/forwarding.md, "Oracle decisions").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sender {
    /// An instance, or a NAT instance after it masqueraded.
    Host(HostId),
    /// A member of this VPC's default group and of no other: an unnamed
    /// interface of one of its subnets, or the ENIs of its connected SDDC.
    Default(SiteId),
}

#[derive(Clone, Debug)]
pub struct Branch {
    pub orig: PacketSet,
    pub view: View,
    pub hops: Hops,
    pub marks: Vec<Mark>,
    /// Who sent the packet, with the source address it sent from: the
    /// identity lasts only while the source is not rewritten.
    pub sender: Option<(Sender, AddrExpr)>,
    /// The exits the branch passed, in order: gateways, NAT instances,
    /// connections, and sites whose own internet exit it left by.
    pub exits: Vec<Entity>,
}

impl Branch {
    pub fn new(orig: PacketSet) -> Branch {
        Branch {
            orig,
            view: View::IDENTITY,
            hops: Hops::default(),
            marks: Vec::new(),
            sender: None,
            exits: Vec::new(),
        }
    }

    /// The same path and state for another set of original packets. Not
    /// `..self.clone()`: that would copy the old set only to drop it.
    pub(super) fn with(&self, orig: PacketSet) -> Branch {
        Branch {
            orig,
            view: self.view,
            hops: self.hops.clone(),
            marks: self.marks.clone(),
            sender: self.sender,
            exits: self.exits.clone(),
        }
    }

    /// A translation at `point`: the view becomes `after`, and the flow
    /// remembers both sides for its reply.
    pub(super) fn translate(
        &mut self,
        point: NatPoint,
        after: View,
        firewall_match: FirewallMatch,
    ) {
        self.marks.push(Mark::Nat(Nat {
            point,
            before: self.view,
            after,
            firewall_match,
        }));
        self.view = after;
    }

    pub(super) fn hop(
        mut self,
        node: &str,
        decision: impl Into<String>,
        span: Option<Span>,
    ) -> Branch {
        self.hops.push(Hop {
            node: node.to_string(),
            decision: decision.into(),
            span,
        });
        self
    }
}

/// Where a branch ended.
#[derive(Clone, Debug)]
pub enum Leaf {
    Delivered { to: Dest, branch: Branch },
    Dropped { drop: Drop, branch: Branch },
}

impl Leaf {
    pub fn branch(&self) -> &Branch {
        match self {
            Leaf::Delivered { branch, .. } | Leaf::Dropped { branch, .. } => branch,
        }
    }
}

/// What received a delivered packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dest {
    Iface(Iface),
    /// A subnet address that no declared interface owns (sources only).
    Virtual(SiteId, SubnetId),
    /// An internet address that no declared host owns.
    Internet,
    /// An address of an AWS service, reached through this gateway endpoint
    /// (replies go back through it).
    Service(GatewayId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drop {
    pub reason: String,
    pub span: Span,
    pub help: String,
    /// The model does not describe this path: the verdict is unknown
    /// rather than a failure. Every path of a valid design is modelled
    /// today; the flag keeps an element added to the language but not yet
    /// to the engine from ever passing silently.
    pub unsupported: bool,
}

/// Where a packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    /// Leaving a host or a virtual host of a subnet.
    Leave(Dest),
    /// Arriving at the host owning an address in a site.
    Arrive(SiteId, Iface),
    /// The VPC router, entering from a subnet (`Some`) or a gateway.
    VpcRouter(SiteId, Option<SubnetId>),
    IgwOut(GatewayId),
    IgwIn(GatewayId),
    /// Leaving the VPC by an egress-only internet gateway.
    EigwOut(GatewayId),
    NatGateway(GatewayId),
    NatInstance(HostId),
    Internet,
    /// The SDDC compute gateway, with the uplink the packet came in by
    /// (`None`: from a segment).
    Cgw(SiteId, Option<Uplink>),
    /// Through the SDDC's ENIs from its connected VPC.
    EniToSddc(SiteId),
    /// An on-prem edge, with the connection it came in by (`None`: from a
    /// segment; the internet arrives as `Uplink::Internet`).
    Edge(SiteId, Option<Uplink>),
    /// A VPC router receiving a packet from a transit gateway through an
    /// attachment subnet, which routes it by that subnet's table.
    VpcTransit(SiteId, SubnetId, ConnectionId),
    /// A transit gateway's route lookup, with the attachment the packet
    /// came in by (a site, or a connection that ends on the gateway).
    Tgw(ConnectionId, Entity),
    /// A VM network's router; `true` when the packet came in through the
    /// network's gateway (it is not sent back out).
    VnetRouter(SiteId, bool),
    /// An NVGRE gateway, leaving its VM network.
    VnetGatewayOut(GatewayId),
    /// An NVGRE gateway, entering its VM network from the internet (`None`)
    /// or over a connection.
    VnetGatewayIn(GatewayId, Option<ConnectionId>),
}

pub struct Walker<'s, 'm> {
    pub space: &'s Space<'m>,
    /// The forward marks a reply may use; empty for forward walks.
    pub session: &'s [Mark],
    /// For a reply whose flow started at an unnamed address of a subnet:
    /// that address may receive it, as its sender.
    pub accept: Option<Dest>,
    /// Whether this walk's drops are read: when not, a gateway firewall
    /// admits a branch by one intersection with what its allow rules admit
    /// (`edge.rs`, `admitted_by`) and the packets it drops vanish instead of
    /// ending in drop leaves. Whole-network questions set it for every walk
    /// (`Space::verdicts_only`); NP405's shared walk for its forward walks
    /// only, since it reads the deliveries and nothing else of them, while
    /// its reply walks must see every drop.
    pub verdicts_only: bool,
    /// Whether only this walk's deliveries are read (NP405's shared forward
    /// walk): then a path whose every end is a drop or an undecided leaf
    /// need not be walked at all (`mgw.rs`, `to_management`). Implies
    /// `verdicts_only`.
    pub deliveries_only: bool,
}

impl<'s, 'm> Walker<'s, 'm> {
    pub(super) fn m(&self) -> &'m Model {
        self.space.model
    }

    /// A walker for requests: no session to follow, no sender to accept.
    pub fn forward(space: &'s Space<'m>) -> Self {
        Walker {
            space,
            session: &[],
            accept: None,
            verdicts_only: space.verdicts_only,
            deliveries_only: false,
        }
    }

    /// A forward walk that nobody reads but for its deliveries: its drops
    /// vanish (see [`Walker::verdicts_only`]), and so may packets that
    /// could only end undecided (see [`Walker::deliveries_only`]).
    pub fn deliveries_only(space: &'s Space<'m>) -> Self {
        Walker {
            verdicts_only: true,
            deliveries_only: true,
            ..Walker::forward(space)
        }
    }

    /// Every leaf of `set` sent from `start`.
    pub fn leaves_from(&self, start: Dest, set: PacketSet) -> Vec<Leaf> {
        let mut leaves = Vec::new();
        self.walk(Loc::Leave(start), Branch::new(set), &mut leaves);
        leaves
    }

    /// Walks `branch` from `loc` to its leaves.
    pub fn walk(&self, loc: Loc, branch: Branch, out: &mut Vec<Leaf>) {
        let mut stack = vec![(loc, branch)];
        while let Some((loc, b)) = stack.pop() {
            if b.orig.is_empty() {
                continue;
            }
            if b.hops.len() >= MAX_HOPS {
                let span = b.hops.last().and_then(|h| h.span).unwrap_or_default();
                out.push(Leaf::Dropped {
                    drop: Drop {
                        reason: "the packet loops".into(),
                        span,
                        help: "routes send the packet in a circle: check the routes along its path"
                            .into(),
                        unsupported: false,
                    },
                    branch: b,
                });
                continue;
            }
            for step in self.step(loc, b) {
                match step {
                    Step::Go(next, mut b) => {
                        self.note_exit(loc, next, &mut b);
                        stack.push((next, b));
                    }
                    // Nodes may produce empty parts (nothing allowed, nothing
                    // denied); only leaves that stand for packets count.
                    Step::Leaf(leaf) if !leaf.branch().orig.is_empty() => out.push(leaf),
                    Step::Leaf(_) => {}
                }
            }
        }
    }

    /// Records the exit a move from `loc` to `next` passes, for `expect
    /// egress`: done here, once, rather than in every node.
    fn note_exit(&self, loc: Loc, next: Loc, b: &mut Branch) {
        let m = self.m();
        let exit = match (loc, next) {
            (_, Loc::IgwOut(g))
            | (_, Loc::EigwOut(g))
            | (_, Loc::NatGateway(g))
            | (_, Loc::VnetGatewayOut(g)) => Some(Entity::Gateway(g)),
            (_, Loc::Tgw(c, _)) => Some(Entity::Connection(c)),
            (_, Loc::NatInstance(h)) => Some(Entity::Host(h)),
            (_, Loc::Edge(_, Some(Uplink::Connection(c))))
            | (_, Loc::Cgw(_, Some(Uplink::Connection(c))))
            | (_, Loc::VnetGatewayIn(_, Some(c))) => Some(Entity::Connection(c)),
            (Loc::Cgw(s, _), Loc::Internet) | (Loc::Edge(s, _), Loc::Internet) => {
                Some(Entity::Site(s))
            }
            (Loc::IgwOut(g), Loc::Internet)
            | (Loc::EigwOut(g), Loc::Internet)
            | (Loc::VnetGatewayOut(g), Loc::Internet) => {
                Some(Entity::Site(m.gateways[g.index()].site))
            }
            (Loc::Leave(Dest::Iface(Iface::Host(h))), Loc::Edge(_, None)) => m
                .host(h)
                .subnet
                .and_then(|s| m.subnet(s).extended_by)
                .map(Entity::Connection),
            _ => None,
        };
        if let Some(e) = exit {
            if b.exits.last() != Some(&e) {
                b.exits.push(e);
            }
        }
    }

    fn step(&self, loc: Loc, b: Branch) -> Vec<Step> {
        match loc {
            Loc::Leave(d) => self.leave(d, b),
            Loc::Arrive(site, iface) => self.arrive(site, iface, b),
            Loc::VpcRouter(vpc, from) => self.vpc_router(vpc, from, b),
            Loc::VpcTransit(vpc, att, c) => self.vpc_router_via(vpc, Some(att), Some(c), b),
            Loc::IgwOut(g) => self.igw_out(g, b),
            Loc::IgwIn(g) => self.igw_in(g, b),
            Loc::EigwOut(g) => self.eigw_out(g, b),
            Loc::NatGateway(g) => self.nat_gateway(g, b),
            Loc::NatInstance(h) => self.nat_instance(h, b),
            Loc::Internet => self.internet(b),
            Loc::Cgw(s, from) => self.cgw(s, from, b),
            Loc::EniToSddc(s) => self.eni_to_sddc(s, b),
            Loc::Edge(s, from) => self.edge(s, from, b),
            Loc::Tgw(c, from) => self.tgw(c, from, b),
            Loc::VnetRouter(s, from_gateway) => self.vnet_router(s, from_gateway, b),
            Loc::VnetGatewayOut(g) => self.vnet_gateway_out(g, b),
            Loc::VnetGatewayIn(g, from) => self.vnet_gateway_in(g, from, b),
        }
    }

    // ------------------------------------------------------------- helpers

    /// Splits a branch by a predicate on its current header.
    pub(super) fn split(&self, b: &Branch, pred: &HeaderPredicate) -> (PacketSet, PacketSet) {
        cut(&b.orig, b.orig.intersect(&b.view.preimage(pred)))
    }

    /// Splits a branch by a set of current headers.
    pub(super) fn split_set(&self, b: &Branch, set: &PacketSet) -> (PacketSet, PacketSet) {
        // Untranslated branches, the common case, test the set itself
        // rather than a copy of it.
        let yes = if b.view == View::IDENTITY {
            b.orig.intersect(set)
        } else {
            b.orig.intersect(&b.view.preimage_set(set))
        };
        cut(&b.orig, yes)
    }

    pub(super) fn dst_in(&self, b: &Branch, addrs: AddrRanges) -> (PacketSet, PacketSet) {
        self.split(
            b,
            &HeaderPredicate {
                dst: Some(addrs),
                ..Default::default()
            },
        )
    }

    /// The routes of a route table as the branches a lookup makes: each
    /// route's share of the destinations (`parts`, from
    /// [`AddrRanges::lpm_partition`]) with its index. Where no one reads
    /// the path ([`Space::verdicts_only`]), the routes to one next hop
    /// (`hops[i]` for route `i`) are one branch, named by the first of
    /// them: what happens next depends on the next hop and the packets
    /// alone, and a branch per route would be walked once per route.
    pub(super) fn by_next_hop<'p, K: Eq + std::hash::Hash>(
        &self,
        hops: &[K],
        parts: &'p [AddrRanges],
    ) -> (Vec<usize>, std::borrow::Cow<'p, [AddrRanges]>) {
        if !self.space.verdicts_only {
            let n = parts.len().min(hops.len());
            return ((0..n).collect(), std::borrow::Cow::Borrowed(&parts[..n]));
        }
        let mut firsts: Vec<usize> = Vec::new();
        let mut joined: Vec<Vec<AddrRanges>> = Vec::new();
        let mut slot: std::collections::HashMap<&K, usize> = std::collections::HashMap::new();
        for (i, (part, hop)) in parts.iter().cloned().zip(hops).enumerate() {
            let at = *slot.entry(hop).or_insert_with(|| {
                firsts.push(i);
                joined.push(Vec::new());
                joined.len() - 1
            });
            joined[at].push(part);
        }
        let joined: Vec<AddrRanges> = joined.into_iter().map(AddrRanges::union_many).collect();
        (firsts, std::borrow::Cow::Owned(joined))
    }

    /// Splits a branch by destination into `parts` (an address in several
    /// goes to the first) and the packets in none. A destination that is
    /// an original field untranslated (a request's destination, a reply's
    /// source) is split in one pass over the boxes.
    pub(super) fn split_dsts(
        &self,
        b: &Branch,
        parts: &[AddrRanges],
    ) -> (Vec<PacketSet>, PacketSet) {
        use super::view::AddrField;
        match b.view.dst {
            AddrExpr::Orig(AddrField::Dst, None) => return b.orig.split_by_dst(parts),
            AddrExpr::Orig(AddrField::Src, None) => return b.orig.split_by_src(parts),
            _ => {}
        }
        let mut probe = b.with(b.orig.clone());
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            let (yes, no) = self.dst_in(&probe, p.clone());
            out.push(yes);
            probe.orig = no;
        }
        (out, probe.orig)
    }

    fn src_in(&self, b: &Branch, addrs: AddrRanges) -> (PacketSet, PacketSet) {
        self.split(
            b,
            &HeaderPredicate {
                src: Some(addrs),
                ..Default::default()
            },
        )
    }

    pub(super) fn drop(b: Branch, reason: String, span: Span, help: String) -> Step {
        Step::Leaf(Leaf::Dropped {
            drop: Drop {
                reason,
                span,
                help,
                unsupported: false,
            },
            branch: b,
        })
    }

    /// Packets on a path this version does not model: their expectation is
    /// not decided (NP905, `holds: null`), never passed or failed.
    pub(super) fn undecided(b: Branch, reason: String, span: Span, help: String) -> Step {
        Step::Leaf(Leaf::Dropped {
            drop: Drop {
                reason,
                span,
                help,
                unsupported: true,
            },
            branch: b,
        })
    }

    /// Packets whose destination no interface owns: a reply to the flow's
    /// own unnamed source is delivered to it; anything else is dropped.
    fn unowned(&self, rest: Branch, reason: &str, span: Span, help: &str) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut rest = rest;
        if let Some(Dest::Virtual(site, sub)) = self.accept {
            // `sub` stands for its class of subnets (`classes.rs`).
            let addrs = self
                .space
                .classes
                .subnet_addrs(sub)
                .cloned()
                .unwrap_or_else(|| {
                    AddrRanges::from_nets(self.m().subnet(sub).prefixes().map(|p| p.value))
                });
            let (yes, no) = self.dst_in(&rest, addrs);
            if !yes.is_empty() {
                steps.push(Step::Leaf(Leaf::Delivered {
                    to: Dest::Virtual(site, sub),
                    branch: rest.with(yes),
                }));
            }
            rest = rest.with(no);
        }
        steps.push(Self::drop(rest, reason.to_string(), span, help.to_string()));
        steps
    }

    /// The packets of `b` that a stateful filter admits as replies: those
    /// whose header, as one of `views` (a header and, across NAT, its other
    /// side), is the reverse of a header the filter admitted forward.
    fn admitted(&self, f: Filter, b: &Branch, views: &[View]) -> (PacketSet, PacketSet) {
        let mut yes = PacketSet::empty();
        for mk in self.session {
            if let Mark::Filter(g, seen) = mk {
                if *g == f {
                    for v in views {
                        yes = yes.union(&same_header(v, &seen.swapped()));
                    }
                }
            }
        }
        cut(&b.orig, b.orig.intersect(&yes))
    }

    /// Undoes the translations made at `point` for the packets of `b` that
    /// are their exact reverse: each such share gets the reverse of the
    /// header before translation. Returns those shares, with the
    /// translation each undid, and the rest.
    pub(super) fn undo(&self, point: NatPoint, b: &Branch) -> (Vec<(Branch, Nat)>, Branch) {
        let mut out = Vec::new();
        let mut rest = b.orig.clone();
        for mk in self.session {
            let Mark::Nat(n) = mk else { continue };
            if n.point != point || rest.is_empty() {
                continue;
            }
            let yes = rest.intersect(&same_header(&b.view, &n.after.swapped()));
            if yes.is_empty() {
                continue;
            }
            rest = rest.difference(&yes);
            let mut nb = b.with(yes);
            nb.view = n.before.swapped();
            out.push((nb, *n));
        }
        (out, b.with(rest))
    }

    pub(super) fn site_name(&self, s: SiteId) -> &str {
        &self.m().site(s).decl.name
    }

    // --------------------------------------------------------------- hosts

    fn leave(&self, d: Dest, b: Branch) -> Vec<Step> {
        let m = self.m();
        match d {
            Dest::Internet => vec![Step::Go(
                Loc::Internet,
                b.hop("internet", "sent from the internet", None),
            )],
            // Only replies leave a service: back through the gateway
            // endpoint the request came by, into its VPC.
            Dest::Service(g) => {
                let gw = &m.gateways[g.index()];
                vec![Step::Go(
                    Loc::VpcRouter(gw.site, None),
                    b.hop(
                        "aws service",
                        format!("answers through gateway endpoint `{}`", gw.decl.name),
                        Some(gw.decl.span),
                    ),
                )]
            }
            // An interface endpoint only answers: the flows through it start
            // at its clients (docs/forwarding.md, "Oracle decisions": where
            // packets start), so a packet sent from its address is dropped.
            Dest::Iface(Iface::Endpoint(e)) => {
                let ep = &m.endpoints[e.index()];
                vec![Self::drop(
                    b,
                    format!("interface endpoint `{}` does not send: it only answers the flows of its clients", ep.decl.name),
                    ep.decl.span,
                    "start the flow at a host".into(),
                )]
            }
            Dest::Virtual(site, subnet) => self.leave_subnet(site, subnet, None, b),
            Dest::Iface(Iface::Host(h)) => {
                let host = m.host(h);
                if host.kind == HostKind::InternetHost {
                    return vec![Step::Go(
                        Loc::Internet,
                        b.hop(
                            &host.decl.name,
                            "sent to the internet",
                            Some(host.decl.name_span),
                        ),
                    )];
                }
                if let HostKind::Appliance(_) = host.kind {
                    return self.appliance_out(h, b);
                }
                let Some(subnet) = host.subnet else {
                    return vec![Self::drop(
                        b,
                        format!("`{}` is in no subnet", host.decl.name),
                        host.decl.span,
                        "place the host `in` a subnet or segment".into(),
                    )];
                };
                self.leave_subnet(host.site, subnet, Some(h), b)
            }
        }
    }

    // --------------------------------------------------------- connections

    /// Entering a site's router over a connection.
    pub(super) fn enter_site(&self, site: SiteId, up: Uplink, b: Branch) -> Vec<Step> {
        let m = self.m();
        match m.site(site).kind {
            SiteKind::Onprem => vec![Step::Go(Loc::Edge(site, Some(up)), b)],
            SiteKind::Sddc => vec![Step::Go(Loc::Cgw(site, Some(up)), b)],
            SiteKind::Vpc => vec![Step::Go(Loc::VpcRouter(site, None), b)],
            SiteKind::VmNetwork => self.vnet_enter(site, up, b),
            // The front end lets no connection end on the internet.
            SiteKind::Internet => vec![Self::drop(
                b,
                "a connection cannot end on the internet".into(),
                m.site(site).header_span,
                "join two sites".into(),
            )],
        }
    }
}

/// `orig` split into `yes` (a subset of it) and the rest.
fn cut(orig: &PacketSet, yes: PacketSet) -> (PacketSet, PacketSet) {
    orig.split_off(yes)
}

/// A node's decision for part of a branch.
pub enum Step {
    Go(Loc, Branch),
    Leaf(Leaf),
}

/// The expression a NAT rule from `from` to `to` gives an address field
/// that is `cur`: between prefixes of equal length the translation is one
/// to one (each address keeps its offset in the block), otherwise every
/// address becomes `to`'s address as written (docs/forwarding.md, "Oracle
/// decisions").
fn nat_translate(cur: AddrExpr, from: ipnet::IpNet, to: ipnet::IpNet) -> AddrExpr {
    let single = from.prefix_len() == from.max_prefix_len();
    let shift = (from.prefix_len() == to.prefix_len() && !single)
        .then(|| AddrShift::between_nets(from, to))
        .flatten();
    let Some(s) = shift else {
        return AddrExpr::Const(to.addr());
    };
    match cur {
        AddrExpr::Const(a) => AddrExpr::Const(s.apply(a)),
        AddrExpr::Orig(f, None) => AddrExpr::Orig(f, Some(s)),
        // Translated twice: the composition, on the part of the first
        // shift's image that the second translates.
        AddrExpr::Orig(f, Some(s0)) => {
            let (lo, hi) = s0.target_block();
            let (flo, fhi) = s.source_block();
            let (lo, hi) = (lo.max(flo), hi.min(fhi));
            let back = s0.inverse();
            match AddrShift::new(back.apply(lo), back.apply(hi), s.apply(lo)) {
                Some(c) if lo <= hi => AddrExpr::Orig(f, Some(c)),
                _ => AddrExpr::Orig(f, Some(s0)),
            }
        }
    }
}

/// The original packets for which two views give the same header. Where
/// the two take a field from different original fields (or through
/// different shifts) the engine counts the headers as different: that is
/// exact unless an original packet repeats a value across fields (a packet
/// sent to its own address), which no stateful path produces.
pub fn same_header(a: &View, b: &View) -> PacketSet {
    let mut set = PacketSet::all();
    for (x, y) in [(a.src, b.src), (a.dst, b.dst)] {
        if x == y {
            continue;
        }
        match (x, y) {
            (AddrExpr::Const(p), AddrExpr::Const(q)) if p == q => {}
            (AddrExpr::Const(c), e @ AddrExpr::Orig(..))
            | (e @ AddrExpr::Orig(..), AddrExpr::Const(c)) => {
                let probe = View {
                    src: e,
                    ..View::IDENTITY
                };
                set = set.intersect(&probe.preimage(&HeaderPredicate {
                    src: Some(AddrRanges::from_addr(c)),
                    ..Default::default()
                }));
            }
            _ => return PacketSet::empty(),
        }
    }
    for (x, y) in [(a.sport, b.sport), (a.dport, b.dport)] {
        if x == y {
            continue;
        }
        match (x, y) {
            (PortExpr::Const(p), PortExpr::Const(q)) if p == q => {}
            (PortExpr::Const(c), PortExpr::Orig(f)) | (PortExpr::Orig(f), PortExpr::Const(c)) => {
                set = match f {
                    PortField::Sport => set.with_sport(c, c),
                    PortField::Dport => set.with_dport(c, c),
                };
            }
            _ => return PacketSet::empty(),
        }
    }
    set
}

/// How a hop shows a NAT rule's translation: the address written, or the
/// block mapping of a one-to-one prefix NAT.
fn nat_words(from: ipnet::IpNet, to: ipnet::IpNet) -> String {
    if from.prefix_len() == to.prefix_len() && from.prefix_len() < from.max_prefix_len() {
        format!("{to} (one to one from {from})")
    } else {
        to.addr().to_string()
    }
}

/// Where an address starts: its interface, a virtual host of the subnet
/// holding it, or the internet.
pub fn start_of(space: &Space, addr: IpAddr) -> Dest {
    let m = space.model;
    for (i, s) in m.sites.iter().enumerate() {
        let site = SiteId(i as u32);
        if s.kind == SiteKind::Internet {
            if let Some(&PublicOwner::InternetHost(h)) = space.public.get(&addr) {
                return Dest::Iface(Iface::Host(h));
            }
            continue;
        }
        if let Some(iface) = space.iface(site, addr) {
            return Dest::Iface(iface);
        }
        if let Some(sub) = space.subnet_of(site, addr) {
            return Dest::Virtual(site, sub);
        }
    }
    Dest::Internet
}

/// True when `e` is an entity that sends from a single address.
pub fn is_host(e: Entity) -> bool {
    matches!(e, Entity::Host(_))
}
