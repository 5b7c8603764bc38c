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

use super::packet_set::{AddrRanges, AddrShift, PacketSet};
use super::space::{service_match, Device, Iface, PublicOwner, SgSide, Space, TCP, UDP};
use super::view::{AddrExpr, HeaderPredicate, PortExpr, PortField, View};
use crate::model::{
    AclRule, ConnectionId, Entity, FirewallKind, GatewayId, GatewayKind, HostId, HostKind, Model,
    RouteTarget, SgId, SiteId, SubnetId, SubnetKind, Uplink,
};
use crate::span::Span;
use crate::syntax::ast::{AclAction, Action, ConnKind, FirewallMatch, NatKind, SiteKind, VpnMode};
use std::net::IpAddr;
use std::sync::Arc;

mod vnet;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// A stateful filter admitted the flow with this header.
    Filter(Filter, View),
    /// A NAT point translated the flow.
    Nat(Nat),
}

/// A stateful filter, as its state table is shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// The security groups of an interface.
    Sg(Iface),
    /// A site's gateway firewall: one state table for all its uplinks.
    Firewall(SiteId),
    /// The SDDC's ENIs (the connected VPC's default group).
    Eni(SiteId),
}

/// A translation: the header before and after it, and, for an NSX rule,
/// whether the flow bypasses the gateway firewall (`firewall-match bypass`
/// holds for the reply too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    Iface(Iface),
    /// A subnet address that no declared interface owns (sources only).
    Virtual(SiteId, SubnetId),
    /// An internet address that no declared host owns.
    Internet,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// Leaving a host or a virtual host of a subnet.
    Leave(Dest),
    /// Arriving at the host owning an address in a site.
    Arrive(SiteId, Iface),
    /// The VPC router, entering from a subnet (`Some`) or a gateway.
    VpcRouter(SiteId, Option<SubnetId>),
    IgwOut(GatewayId),
    IgwIn(GatewayId),
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
    /// A transit gateway's route lookup.
    Tgw(ConnectionId),
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
}

impl<'s, 'm> Walker<'s, 'm> {
    pub(super) fn m(&self) -> &'m Model {
        self.space.model
    }

    /// Walks `branch` from `loc` to its leaves.
    /// A walker for requests: no session to follow, no sender to accept.
    pub fn forward(space: &'s Space<'m>) -> Self {
        Walker {
            space,
            session: &[],
            accept: None,
        }
    }

    /// Every leaf of `set` sent from `start`.
    pub fn leaves_from(&self, start: Dest, set: PacketSet) -> Vec<Leaf> {
        let mut leaves = Vec::new();
        self.walk(Loc::Leave(start), Branch::new(set), &mut leaves);
        leaves
    }

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
            (_, Loc::IgwOut(g)) | (_, Loc::NatGateway(g)) | (_, Loc::VnetGatewayOut(g)) => {
                Some(Entity::Gateway(g))
            }
            (_, Loc::Tgw(c)) => Some(Entity::Connection(c)),
            (_, Loc::NatInstance(h)) => Some(Entity::Host(h)),
            (_, Loc::Edge(_, Some(Uplink::Connection(c))))
            | (_, Loc::Cgw(_, Some(Uplink::Connection(c))))
            | (_, Loc::VnetGatewayIn(_, Some(c))) => Some(Entity::Connection(c)),
            (Loc::Cgw(s, _), Loc::Internet) | (Loc::Edge(s, _), Loc::Internet) => {
                Some(Entity::Site(s))
            }
            (Loc::IgwOut(g), Loc::Internet) | (Loc::VnetGatewayOut(g), Loc::Internet) => {
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
            Loc::IgwOut(g) => self.igw_out(g, b),
            Loc::IgwIn(g) => self.igw_in(g, b),
            Loc::NatGateway(g) => self.nat_gateway(g, b),
            Loc::NatInstance(h) => self.nat_instance(h, b),
            Loc::Internet => self.internet(b),
            Loc::Cgw(s, from) => self.cgw(s, from, b),
            Loc::EniToSddc(s) => self.eni_to_sddc(s, b),
            Loc::Edge(s, from) => self.edge(s, from, b),
            Loc::Tgw(c) => self.tgw(c, b),
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

    /// Splits a branch by destination into `parts` (an address in several
    /// goes to the first) and the packets in none. An untranslated
    /// destination is split in one pass over the boxes.
    fn split_dsts(&self, b: &Branch, parts: &[AddrRanges]) -> (Vec<PacketSet>, PacketSet) {
        if b.view.dst == AddrExpr::Orig(super::view::AddrField::Dst, None) {
            return b.orig.split_by_dst(parts);
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
                .unwrap_or_else(|| AddrRanges::from_net(self.m().subnet(sub).prefix.value));
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
        let yes = b.orig.intersect(&yes);
        let no = b.orig.difference(&yes);
        (yes, no)
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

    fn leave_subnet(
        &self,
        site: SiteId,
        subnet: SubnetId,
        host: Option<HostId>,
        b: Branch,
    ) -> Vec<Step> {
        let m = self.m();
        let sub = m.subnet(subnet);
        let name = host.map_or_else(
            || format!("{}.{}", self.site_name(site), sub.decl.name),
            |h| m.host(h).decl.name.clone(),
        );
        match sub.kind {
            SubnetKind::VpcSubnet => {
                let iface = host.map(Iface::Host);
                let sgs = self.iface_sgs(site, iface);
                let (allowed, denied) = self.sg_outbound(&b, &sgs, iface);
                let mut steps = Vec::new();
                if !denied.is_empty() {
                    let span = sgs
                        .first()
                        .map_or(sub.decl.span, |&g| m.security_groups[g.index()].decl.span);
                    steps.push(Self::drop(
                        b.with(denied),
                        format!("the security groups of `{name}` allow no such outbound traffic"),
                        span,
                        "add an `outbound` rule for it to one of the instance's security groups"
                            .into(),
                    ));
                }
                let mut nb = b
                    .with(allowed)
                    .hop(&name, "outbound security groups allow", None);
                if let Some(i) = iface {
                    nb.marks.push(Mark::Filter(Filter::Sg(i), nb.view));
                }
                let who = host.map_or(Sender::Default(site), Sender::Host);
                nb.sender = Some((who, nb.view.src));
                // Replies of flows an NLB forwarded with the client's address
                // go back through the NLB, not by the subnet's routes.
                let (mut back, nb) = self.nlb_return(subnet, nb);
                steps.append(&mut back);
                steps.push(Step::Go(Loc::VpcRouter(site, Some(subnet)), nb));
                steps
            }
            SubnetKind::NsxSegment => match sub.extended_by {
                Some(l2) => {
                    let onprem = m.connections[l2.index()]
                        .ends
                        .iter()
                        .map(|e| e.value)
                        .find(|&s| m.site(s).kind == SiteKind::Onprem);
                    match onprem {
                        Some(o) => vec![Step::Go(
                            Loc::Edge(o, None),
                            b.hop(
                                &name,
                                format!(
                                    "segment `{}` is extended by L2VPN: its gateway is on-prem",
                                    sub.decl.name
                                ),
                                Some(sub.decl.span),
                            ),
                        )],
                        None => vec![Self::drop(
                            b,
                            "the L2VPN has no on-prem end".into(),
                            sub.decl.span,
                            "join the L2VPN to an onprem site".into(),
                        )],
                    }
                }
                None => vec![Step::Go(
                    Loc::Cgw(site, None),
                    b.hop(&name, "to the compute gateway", None),
                )],
            },
            SubnetKind::OnpremSegment => vec![Step::Go(
                Loc::Edge(site, None),
                b.hop(&name, "to the on-prem edge", None),
            )],
            SubnetKind::VnetSubnet => self.vnet_leave(site, &name, b),
        }
    }

    /// The security groups of an interface: a virtual host in a VPC subnet
    /// is taken to be in the VPC's default group.
    fn iface_sgs(&self, site: SiteId, iface: Option<Iface>) -> Vec<SgId> {
        let m = self.m();
        match iface {
            Some(Iface::Host(h)) => m.host(h).sgs.iter().map(|s| s.value).collect(),
            Some(Iface::Endpoint(e)) => {
                m.endpoints[e.index()].sgs.iter().map(|s| s.value).collect()
            }
            None => m.site(site).default_sg.into_iter().collect(),
        }
    }

    /// Splits by the union of the groups' outbound rules (stateful: a reply
    /// of a flow these groups admitted passes).
    fn sg_outbound(
        &self,
        b: &Branch,
        sgs: &[SgId],
        iface: Option<Iface>,
    ) -> (PacketSet, PacketSet) {
        let (replies, rest) = match iface {
            Some(i) => self.admitted(Filter::Sg(i), b, &[b.view]),
            None => (PacketSet::empty(), b.orig.clone()),
        };
        let allowed = self.sg_set(sgs, false, &[]);
        let (yes, no) = self.split_set(&b.with(rest), &allowed);
        (replies.union(&yes), no)
    }

    pub(super) fn sg_inbound(
        &self,
        b: &Branch,
        sgs: &[SgId],
        iface: Iface,
    ) -> (PacketSet, PacketSet) {
        let (replies, rest) = self.admitted(Filter::Sg(iface), b, &[b.view]);
        let allowed = self.sg_set(sgs, true, &self.sender_groups(b));
        let (yes, no) = self.split_set(&b.with(rest), &allowed);
        (replies.union(&yes), no)
    }

    /// The security groups of the interface that sent the branch's packets,
    /// while their source address is the one it sent from.
    fn sender_groups(&self, b: &Branch) -> Vec<SgId> {
        let m = self.m();
        match b.sender {
            Some((Sender::Host(h), src)) if src == b.view.src => {
                m.host(h).sgs.iter().map(|s| s.value).collect()
            }
            Some((Sender::Default(vpc), src)) if src == b.view.src => {
                m.site(vpc).default_sg.into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// The current headers a list of security groups admits. `inbound`
    /// rules constrain the source, outbound ones the destination. Inbound,
    /// an `sg NAME` source admits any address when the sending interface
    /// is in one of `sender` (its groups).
    fn sg_set(&self, sgs: &[SgId], inbound: bool, sender: &[SgId]) -> PacketSet {
        let side = if inbound {
            SgSide::Inbound
        } else {
            SgSide::Outbound
        };
        let mut parts: Vec<PacketSet> = sgs
            .iter()
            .map(|&sg| self.space.sg_rules(sg, side))
            .collect();
        if inbound && !sender.is_empty() {
            for &sg in sgs {
                for r in self.space.sg_sender_rules(sg) {
                    if r.groups.iter().any(|g| sender.contains(g)) {
                        parts.push(r.services.clone());
                    }
                }
            }
        }
        PacketSet::union_all(&parts)
    }

    fn arrive(&self, site: SiteId, iface: Iface, b: Branch) -> Vec<Step> {
        let m = self.m();
        match iface {
            Iface::Endpoint(e) => self.privatelink(e, b),
            Iface::Host(h) => {
                let host = m.host(h);
                let mut steps = Vec::new();
                // The replies of flows this NAT instance masqueraded (their
                // exact reverse) are translated back and forwarded from the
                // instance's subnet; the state of its groups admits them.
                let (undone, b) = self.undo(NatPoint::NatInstance(h), &b);
                for (nb, _) in undone {
                    let nb = nb.hop(
                        &host.decl.name,
                        "reply translated back by the NAT instance",
                        Some(host.decl.name_span),
                    );
                    if let Some(s) = host.subnet {
                        steps.push(Step::Go(Loc::VpcRouter(host.site, Some(s)), nb));
                    }
                }
                if host.kind != HostKind::Instance {
                    steps.push(Step::Leaf(Leaf::Delivered {
                        to: Dest::Iface(iface),
                        branch: b.hop(&host.decl.name, "delivered", Some(host.decl.name_span)),
                    }));
                    return steps;
                }
                let sgs: Vec<SgId> = host.sgs.iter().map(|s| s.value).collect();
                let (allowed, denied) = self.sg_inbound(&b, &sgs, iface);
                if !denied.is_empty() {
                    let span = host.sgs.first().map_or(host.decl.span, |s| s.span);
                    let names: Vec<String> = sgs
                        .iter()
                        .map(|&g| format!("`{}`", m.security_groups[g.index()].decl.name))
                        .collect();
                    steps.push(Self::drop(
                        b.with(denied),
                        format!("the security groups of `{}` ({}) admit no such inbound traffic", host.decl.name, names.join(", ")),
                        span,
                        "add an `inbound` rule for this source and service to one of the instance's security groups".into(),
                    ));
                }
                let mut nb = b.with(allowed).hop(
                    &host.decl.name,
                    "inbound security groups allow; delivered",
                    Some(host.decl.name_span),
                );
                nb.marks.push(Mark::Filter(Filter::Sg(iface), nb.view));
                let _ = site;
                steps.push(Step::Leaf(Leaf::Delivered {
                    to: Dest::Iface(iface),
                    branch: nb,
                }));
                steps
            }
        }
    }

    /// A packet arriving at an interface endpoint: the endpoint's security
    /// groups, then its endpoint service's NLB: the matching listener's
    /// first target, with the destination, port and source rewritten (the
    /// target sees the NLB's address), into the service VPC.
    fn privatelink(&self, e: crate::model::EndpointId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let ep = &m.endpoints[e.index()];
        let node = format!(
            "vpc {} / endpoint {}",
            self.site_name(ep.site),
            ep.decl.name
        );
        let point = NatPoint::PrivateLink(e);
        let iface = Iface::Endpoint(e);
        let sgs: Vec<SgId> = ep.sgs.iter().map(|s| s.value).collect();
        let (allowed, denied) = self.sg_inbound(&b, &sgs, iface);
        let mut steps = Vec::new();
        if !denied.is_empty() {
            let span = ep.sgs.first().map_or(ep.decl.span, |s| s.span);
            steps.push(Self::drop(
                b.with(denied),
                format!(
                    "the security groups of endpoint `{}` do not admit the client",
                    ep.decl.name
                ),
                span,
                "add an `inbound` rule for the client and service to the endpoint's security group"
                    .into(),
            ));
        }
        let mut b = b.with(allowed).hop(
            &node,
            "endpoint security groups allow",
            Some(ep.decl.name_span),
        );
        b.marks.push(Mark::Filter(Filter::Sg(iface), b.view));
        let Some(svc) = ep.service.map(|s| &m.endpoint_services[s.index()]) else {
            steps.push(Self::drop(
                b,
                "the endpoint has no endpoint service".into(),
                ep.decl.span,
                String::new(),
            ));
            return steps;
        };
        let Some(nlb_id) = svc.nlb else {
            steps.push(Self::drop(
                b,
                format!("endpoint service `{}` has no NLB", svc.decl.name),
                svc.decl.span,
                String::new(),
            ));
            return steps;
        };
        steps.extend(self.nlb_listeners(nlb_id, point, b));
        steps
    }

    /// Replies addressed to NLB `nlb` that are the exact reverse of a
    /// PrivateLink request it forwarded: the NLB and the endpoint restore the
    /// addresses and port, and the reply leaves from the endpoint's subnet
    /// towards the client. Returns those steps and the rest of the branch.
    fn privatelink_reply(&self, nlb: crate::model::NlbId, b: &Branch) -> (Vec<Step>, Branch) {
        let m = self.m();
        let mut steps = Vec::new();
        let mut rest = b.clone();
        let mut endpoints: Vec<crate::model::EndpointId> = self
            .session
            .iter()
            .filter_map(|mk| match mk {
                Mark::Nat(n) => match n.point {
                    NatPoint::PrivateLink(e) => Some(e),
                    _ => None,
                },
                _ => None,
            })
            .filter(|e| {
                m.endpoints[e.index()]
                    .service
                    .and_then(|s| m.endpoint_services[s.index()].nlb)
                    == Some(nlb)
            })
            .collect();
        endpoints.dedup();
        for e in endpoints {
            let ep = &m.endpoints[e.index()];
            let (undone, left) = self.undo(NatPoint::PrivateLink(e), &rest);
            rest = left;
            for (nb, _) in undone {
                let nb = nb.hop(
                    &format!(
                        "vpc {} / endpoint {}",
                        self.site_name(ep.site),
                        ep.decl.name
                    ),
                    "reply translated back by the NLB and the endpoint",
                    Some(ep.decl.name_span),
                );
                if let Some(s) = ep.subnet {
                    steps.push(Step::Go(Loc::VpcRouter(ep.site, Some(s)), nb));
                }
            }
        }
        (steps, rest)
    }

    // ---------------------------------------------------------- VPC router

    fn vpc_router(&self, vpc: SiteId, from: Option<SubnetId>, b: Branch) -> Vec<Step> {
        let m = self.m();
        let site = m.site(vpc);
        let node = format!("vpc {} / router", site.decl.name);
        let vpc_space = AddrRanges::from_nets(site.prefixes.iter().map(|p| p.value));
        let Some(from_subnet) = from else {
            // From a gateway: local delivery only (AWS does not forward edge
            // to edge).
            let (local, transit) = self.dst_in(&b, vpc_space);
            let mut steps = Vec::new();
            if !transit.is_empty() {
                steps.push(Self::drop(b.with(transit), format!("vpc `{}` does not forward traffic between its gateways", site.decl.name), site.header_span, "AWS has no transitive routing: route to the destination directly, or use a transit gateway".into()));
            }
            steps.extend(self.deliver_local(
                vpc,
                None,
                b.with(local).hop(&node, "local route", None),
            ));
            return steps;
        };
        let Some(table) = m.subnet(from_subnet).route_table else {
            return vec![Self::drop(
                b,
                "the subnet has no route table".into(),
                m.subnet(from_subnet).decl.span,
                "give the VPC a main route table".into(),
            )];
        };
        let rt = &m.route_tables[table.index()];
        let parts = self.space.route_parts(table);
        let mut steps = Vec::new();
        let mut rest = b.orig.clone();
        for (route, part) in rt.routes.iter().zip(parts.iter().cloned()) {
            if rest.is_empty() {
                break;
            }
            let (yes, no) = self.dst_in(&b.with(rest.clone()), part);
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let nb = b.with(yes).hop(
                &node,
                format!(
                    "route {} -> {}",
                    route.prefix,
                    self.target_name(route.target)
                ),
                Some(route.span),
            );
            steps.extend(self.route_to(vpc, from_subnet, route.target, route.span, nb));
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "route table `{}` has no route for the destination",
                    rt.decl.name
                ),
                rt.decl.name_span,
                "add a route for the destination, or a default route".into(),
            ));
        }
        steps
    }

    fn target_name(&self, t: RouteTarget) -> String {
        let m = self.m();
        match t {
            RouteTarget::Local => "local".into(),
            RouteTarget::Sddc => "sddc".into(),
            RouteTarget::Blackhole => "blackhole".into(),
            RouteTarget::Gateway(g) => m.gateways[g.index()].decl.name.clone(),
            RouteTarget::Host(h) => m.host(h).decl.name.clone(),
            RouteTarget::Connection(c) => m.connections[c.index()].decl.name.clone(),
            RouteTarget::Endpoint(e) => m.endpoints[e.index()].decl.name.clone(),
            RouteTarget::Site(s) => m.site(s).decl.name.clone(),
        }
    }

    fn route_to(
        &self,
        vpc: SiteId,
        from: SubnetId,
        target: RouteTarget,
        span: Span,
        b: Branch,
    ) -> Vec<Step> {
        let m = self.m();
        // Leaving the subnet for a gateway passes the subnet's outbound ACL
        // (local delivery, NAT gateways and NAT instances check both sides
        // themselves).
        let to_gateway = match target {
            RouteTarget::Gateway(g) => m.gateways[g.index()].kind == GatewayKind::InternetGateway,
            RouteTarget::Sddc | RouteTarget::Connection(_) => true,
            _ => false,
        };
        let (b, mut steps) = if to_gateway {
            self.cross_acls(Some(from), None, &b)
        } else {
            (b, Vec::new())
        };
        steps.extend(self.route_to_target(vpc, from, target, span, b));
        steps
    }

    fn route_to_target(
        &self,
        vpc: SiteId,
        from: SubnetId,
        target: RouteTarget,
        span: Span,
        b: Branch,
    ) -> Vec<Step> {
        let m = self.m();
        match target {
            RouteTarget::Local => self.deliver_local(vpc, Some(from), b),
            RouteTarget::Gateway(g) => match &m.gateways[g.index()].kind {
                GatewayKind::InternetGateway if m.gateways[g.index()].site == vpc => {
                    vec![Step::Go(Loc::IgwOut(g), b)]
                }
                GatewayKind::NatGateway { subnet, .. } if m.gateways[g.index()].site == vpc => {
                    let (pass, mut steps) = self.cross_acls(Some(from), *subnet, &b);
                    steps.push(Step::Go(Loc::NatGateway(g), pass));
                    steps
                }
                _ => vec![Self::drop(
                    b,
                    format!(
                        "`{}` is not attached to this VPC",
                        m.gateways[g.index()].decl.name
                    ),
                    span,
                    "route to a gateway of this VPC".into(),
                )],
            },
            RouteTarget::Host(h) => {
                let host = m.host(h);
                if host.site != vpc {
                    return vec![Self::drop(
                        b,
                        format!("instance `{}` is not in this VPC", host.decl.name),
                        span,
                        "route to an instance of this VPC".into(),
                    )];
                }
                // Packets for the instance's own address are simply
                // delivered to it: it forwards (and masquerades) only
                // packets addressed to others.
                let (own, b) = {
                    let (yes, no) = self.dst_in(&b, AddrRanges::from_addr(host.addr.value));
                    (b.with(yes), b.with(no))
                };
                let mut steps = Vec::new();
                if !own.orig.is_empty() {
                    let (pass, drops) = self.cross_acls(Some(from), host.subnet, &own);
                    steps.extend(drops);
                    steps.push(Step::Go(Loc::Arrive(vpc, Iface::Host(h)), pass));
                }
                if b.orig.is_empty() {
                    return steps;
                }
                if host.source_dest_check {
                    steps.push(Self::drop(b, format!("instance `{}` has its source/destination check on, so it drops packets not addressed to it", host.decl.name), host.decl.span, "add `source-dest-check off` to the NAT instance".into()));
                    return steps;
                }
                // The packet is delivered to the NAT instance's interface:
                // subnet ACLs and its inbound security groups apply.
                let (b, drops) = self.cross_acls(Some(from), host.subnet, &b);
                steps.extend(drops);
                let sgs: Vec<SgId> = host.sgs.iter().map(|s| s.value).collect();
                let (allowed, denied) = self.sg_inbound(&b, &sgs, Iface::Host(h));
                if !denied.is_empty() {
                    steps.push(Self::drop(
                        b.with(denied),
                        format!(
                            "the security groups of NAT instance `{}` do not admit the traffic",
                            host.decl.name
                        ),
                        host.sgs.first().map_or(host.decl.span, |s| s.span),
                        "allow the private subnets in the NAT instance's inbound rules".into(),
                    ));
                }
                let mut nb = b.with(allowed);
                nb.marks
                    .push(Mark::Filter(Filter::Sg(Iface::Host(h)), nb.view));
                steps.push(Step::Go(Loc::NatInstance(h), nb));
                steps
            }
            RouteTarget::Sddc => {
                // Several SDDCs may share a connected VPC: each gets the
                // packets for its own segments and management prefixes, and
                // the first gets the rest, which its compute gateway routes
                // on (docs/forwarding.md, VPC router targets).
                let mut steps = Vec::new();
                let mut rest = b.orig.clone();
                let mut first = None;
                for (i, s) in m.sites.iter().enumerate() {
                    if s.connected_vpc.is_none_or(|c| c.vpc != vpc) {
                        continue;
                    }
                    let id = SiteId(i as u32);
                    first.get_or_insert(id);
                    let nets = s
                        .subnets
                        .iter()
                        .map(|&x| m.subnet(x).prefix.value)
                        .chain(s.management.iter().map(|p| p.value));
                    let (yes, no) = self.dst_in(&b.with(rest.clone()), AddrRanges::from_nets(nets));
                    rest = no;
                    steps.push(Step::Go(Loc::EniToSddc(id), b.with(yes)));
                }
                if let Some(id) = first {
                    steps.push(Step::Go(Loc::EniToSddc(id), b.with(rest)));
                } else if !rest.is_empty() {
                    steps.push(Self::drop(
                        b.with(rest),
                        "no SDDC is connected to this VPC".into(),
                        span,
                        "route to `sddc` only when an SDDC declares `connected-vpc` to this VPC"
                            .into(),
                    ));
                }
                steps
            }
            RouteTarget::Connection(c) => {
                let conn = &m.connections[c.index()];
                match conn.kind {
                    ConnKind::Peering => {
                        let ends: Vec<SiteId> = conn.ends.iter().map(|e| e.value).collect();
                        match (ends.contains(&vpc), ends.iter().find(|&&e| e != vpc)) {
                            (true, Some(&peer)) => vec![Step::Go(Loc::VpcRouter(peer, None), b)],
                            _ => vec![Self::drop(
                                b,
                                format!("peering `{}` does not join this VPC", conn.decl.name),
                                span,
                                "route to a peering of this VPC".into(),
                            )],
                        }
                    }
                    _ => self.vpc_to_connection(vpc, c, span, b),
                }
            }
            RouteTarget::Blackhole => vec![Self::drop(
                b,
                "the route is a blackhole".into(),
                span,
                "remove the blackhole route".into(),
            )],
            // Interface endpoints are reached at their address, not routed
            // to (docs/forwarding.md, "Oracle decisions").
            RouteTarget::Endpoint(e) => vec![Self::drop(
                b,
                format!(
                    "interface endpoint `{}` is not a route target: packets reach it at its own address",
                    m.endpoints[e.index()].decl.name
                ),
                span,
                "send the traffic to the endpoint's address instead of routing to it".into(),
            )],
            // Only a transit gateway's routes name sites; the front end
            // should not let one into a VPC table, but if it does, the route
            // leads nowhere.
            RouteTarget::Site(_) => vec![Self::drop(
                b,
                "a VPC route cannot name a site".into(),
                span,
                "route to a gateway or connection".into(),
            )],
        }
    }

    /// Crossing from one subnet into another: the source subnet's ACL
    /// outbound, then the destination subnet's ACL inbound. Within one
    /// subnet nothing is checked; from a gateway only the inbound side.
    /// Returns the packets that pass and the drops.
    pub(super) fn cross_acls(
        &self,
        from: Option<SubnetId>,
        to: Option<SubnetId>,
        b: &Branch,
    ) -> (Branch, Vec<Step>) {
        let mut steps = Vec::new();
        if from.is_some() && from == to {
            return (b.clone(), steps);
        }
        let m = self.m();
        let mut cur = b.clone();
        for (sub, inbound) in [(from, false), (to, true)] {
            let Some(acl) = sub.and_then(|s| m.subnet(s).acl) else {
                continue;
            };
            let sets = self.space.acl_rule_sets(acl, inbound);
            let acl = &m.acls[acl.index()];
            let rules = if inbound { &acl.inbound } else { &acl.outbound };
            let (allowed, denied) = self.acl_split(&cur, rules, sets);
            for (rule, set) in denied {
                let span = rule.map_or(acl.decl.span, |r| r.span);
                let what = rule.map_or_else(
                    || "no rule matches (implicit deny)".to_string(),
                    |r| format!("rule {} denies", r.number),
                );
                let dir = if inbound { "inbound" } else { "outbound" };
                steps.push(Self::drop(
                    cur.with(set),
                    format!("network ACL `{}` {dir}: {what}", acl.decl.name),
                    span,
                    "network ACLs are stateless: allow the traffic (and, for replies, the ephemeral ports 1024-65535) in both directions".into(),
                ));
            }
            cur = cur.with(allowed);
        }
        (cur, steps)
    }

    /// First match over an ACL's numbered rules: the admitted packets, and
    /// the denied ones with the rule that denied them (`None`: the implicit
    /// final deny).
    fn acl_split<'a>(
        &self,
        b: &Branch,
        rules: &'a [AclRule],
        sets: &[PacketSet],
    ) -> (PacketSet, Vec<(Option<&'a AclRule>, PacketSet)>) {
        let mut rest = b.orig.clone();
        let mut allowed = PacketSet::empty();
        let mut denied = Vec::new();
        for (r, set) in rules.iter().zip(sets) {
            if rest.is_empty() {
                break;
            }
            let (yes, no) = self.split_set(&b.with(rest.clone()), set);
            rest = no;
            match r.action {
                AclAction::Allow => allowed = allowed.union(&yes),
                AclAction::Deny if !yes.is_empty() => denied.push((Some(r), yes)),
                AclAction::Deny => {}
            }
        }
        if !rest.is_empty() {
            denied.push((None, rest));
        }
        (allowed, denied)
    }

    /// Local delivery inside a VPC: the destination subnet's ACLs, then the
    /// interface owning the address.
    fn deliver_local(&self, vpc: SiteId, from: Option<SubnetId>, b: Branch) -> Vec<Step> {
        let m = self.m();
        let mut steps = Vec::new();
        let mut rest = b.orig.clone();
        for &sub in &m.site(vpc).subnets {
            let (yes, no) = self.dst_in(
                &b.with(rest.clone()),
                AddrRanges::from_net(m.subnet(sub).prefix.value),
            );
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let (pass, drops) = self.cross_acls(from, Some(sub), &b.with(yes));
            steps.extend(drops);
            steps.extend(self.to_ifaces(vpc, pass));
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "no subnet of vpc `{}` contains the destination",
                    m.site(vpc).decl.name
                ),
                m.site(vpc).header_span,
                "the destination is inside the VPC's prefixes but in none of its subnets".into(),
            ));
        }
        steps
    }

    /// Splits by destination address into the interfaces of a site.
    fn to_ifaces(&self, site: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let mut steps = Vec::new();
        let hosts = self
            .space
            .classes
            .host_classes(site)
            .iter()
            .map(|(h, addrs)| (Iface::Host(*h), addrs.clone()));
        let eps = m
            .endpoints
            .iter()
            .enumerate()
            .filter(|(_, e)| e.site == site)
            .map(|(i, e)| {
                (
                    Iface::Endpoint(crate::model::EndpointId(i as u32)),
                    AddrRanges::from_addr(e.addr.value),
                )
            });
        let (ifaces, parts): (Vec<Iface>, Vec<AddrRanges>) = hosts.chain(eps).unzip();
        let (shares, mut rest) = self.split_dsts(&b, &parts);
        for (iface, yes) in ifaces.into_iter().zip(shares) {
            if !yes.is_empty() {
                steps.push(Step::Go(Loc::Arrive(site, iface), b.with(yes)));
            }
        }
        // Devices that have an address of their own in a subnet (network +
        // 4 for a private NAT gateway, the last usable address for an NLB,
        // "Oracle decisions"): a private NAT gateway answers the replies of
        // the flows it masqueraded; an NLB answers its replies and forwards
        // the rest to its listeners.
        for (addr, device) in self.space.devices(site) {
            if rest.is_empty() {
                break;
            }
            let (yes, no) = self.dst_in(&b.with(rest.clone()), AddrRanges::from_addr(addr));
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let nb = b.with(yes);
            match device {
                Device::Nlb(n) => {
                    // Replies to PrivateLink flows this NLB forwarded go back
                    // through their endpoint; anything else reached the NLB at
                    // its own address.
                    let (mut replies, other) = self.privatelink_reply(n, &nb);
                    steps.append(&mut replies);
                    steps.extend(self.nlb_direct(n, other));
                }
                Device::NatGateway(g, sub) => {
                    let gw = &m.gateways[g.index()];
                    let (undone, unsolicited) = self.undo(NatPoint::NatGateway(g), &nb);
                    for (nb, _) in undone {
                        steps.push(Step::Go(
                            Loc::VpcRouter(site, Some(sub)),
                            nb.hop(
                                &gw.decl.name,
                                "reply translated back by the NAT gateway",
                                Some(gw.decl.span),
                            ),
                        ));
                    }
                    steps.push(Self::drop(
                        unsolicited,
                        format!(
                            "NAT gateway `{}` admits no unsolicited inbound traffic",
                            gw.decl.name
                        ),
                        gw.decl.span,
                        "a NAT gateway is for outbound flows; publish services another way".into(),
                    ));
                }
            }
        }
        if !rest.is_empty() {
            let span = m.site(site).header_span;
            steps.extend(self.unowned(
                b.with(rest),
                "no interface has the destination address",
                span,
                "address the packet to a declared host",
            ));
        }
        steps
    }

    // ----------------------------------------------------- AWS gateways

    fn igw_out(&self, g: GatewayId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let gw = &m.gateways[g.index()];
        let node = format!("vpc {} / {}", self.site_name(gw.site), gw.decl.name);
        let mut steps = Vec::new();
        // The replies of flows this gateway translated inbound.
        let (undone, b) = self.undo(NatPoint::Igw(g), &b);
        for (nb, _) in undone {
            steps.push(Step::Go(
                Loc::Internet,
                nb.hop(&node, "reply translated back by the internet gateway", None),
            ));
        }
        let mut rest = b.orig.clone();
        let site = m.site(gw.site);
        for &h in &site.hosts {
            let host = m.host(h);
            let Some(public) = self.space.public_of(h) else {
                continue;
            };
            let (yes, no) = self.src_in(
                &b.with(rest.clone()),
                AddrRanges::from_addr(host.addr.value),
            );
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let mut nb = b.with(yes);
            let after = nb.view.with_src(AddrExpr::Const(public));
            nb.translate(NatPoint::Igw(g), after, FirewallMatch::Internal);
            steps.push(Step::Go(
                Loc::Internet,
                nb.hop(
                    &node,
                    format!("one-to-one NAT: src {} -> {public}", host.addr.value),
                    self.public_span(h),
                ),
            ));
        }
        // A source that is already a public address of this VPC (a NAT
        // gateway's Elastic IP) passes untranslated.
        let public = self.space.vpc_public_addrs(gw.site);
        if !public.is_empty() && !rest.is_empty() {
            let (yes, no) = self.src_in(&b.with(rest.clone()), public);
            rest = no;
            if !yes.is_empty() {
                steps.push(Step::Go(
                    Loc::Internet,
                    b.with(yes).hop(&node, "to the internet", None),
                ));
            }
        }
        if !rest.is_empty() {
            steps.push(Self::drop(b.with(rest), "the internet gateway does not masquerade: the source has no public address".into(), gw.decl.span, "give the instance an Elastic IP or public IP, or route its subnet's default route to a NAT gateway".into()));
        }
        steps
    }

    /// Where an instance's public address is written: its clause, or the
    /// `elastic-ip` statement associated with it.
    fn public_span(&self, h: HostId) -> Option<Span> {
        let m = self.m();
        m.host(h).public.map(|p| p.span).or_else(|| {
            m.public_ips
                .iter()
                .find(|p| {
                    p.target
                        .as_ref()
                        .is_some_and(|t| t.value == Entity::Host(h))
                })
                .map(|p| p.decl.span)
        })
    }

    fn igw_in(&self, g: GatewayId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let gw = &m.gateways[g.index()];
        let node = format!("vpc {} / {}", self.site_name(gw.site), gw.decl.name);
        let mut steps = Vec::new();
        // The replies of flows this gateway translated outbound.
        let (undone, b) = self.undo(NatPoint::Igw(g), &b);
        for (mut nb, _) in undone {
            nb.sender = None;
            steps.push(Step::Go(
                Loc::VpcRouter(gw.site, None),
                nb.hop(&node, "reply translated back by the internet gateway", None),
            ));
        }
        let mut rest = b.orig.clone();
        for &h in &m.site(gw.site).hosts {
            let host = m.host(h);
            let Some(public) = self.space.public_of(h) else {
                continue;
            };
            let (yes, no) = self.dst_in(&b.with(rest.clone()), AddrRanges::from_addr(public));
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let mut nb = b.with(yes);
            let after = nb.view.with_dst(AddrExpr::Const(host.addr.value));
            nb.translate(NatPoint::Igw(g), after, FirewallMatch::Internal);
            nb.sender = None;
            steps.push(Step::Go(
                Loc::VpcRouter(gw.site, None),
                nb.hop(
                    &node,
                    format!("one-to-one NAT: dst {public} -> {}", host.addr.value),
                    self.public_span(h),
                ),
            ));
        }
        if !rest.is_empty() {
            steps.extend(self.nat_gateway_reply_or_drop(gw.site, b.with(rest)));
        }
        steps
    }

    /// Inbound packets for a NAT gateway's Elastic IP: replies of its
    /// sessions are translated back; anything else is unsolicited.
    fn nat_gateway_reply_or_drop(&self, vpc: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let mut steps = Vec::new();
        let mut b = b;
        for (i, g) in m.gateways.iter().enumerate() {
            let GatewayKind::NatGateway {
                subnet,
                elastic_ip: Some(_),
            } = &g.kind
            else {
                continue;
            };
            if g.site != vpc || b.orig.is_empty() {
                continue;
            }
            let (undone, rest) = self.undo(NatPoint::NatGateway(GatewayId(i as u32)), &b);
            for (nb, _) in undone {
                // The reply enters the NAT gateway's subnet from the
                // internet gateway: that subnet's ACL judges it inbound, as
                // it arrives ("Oracle decisions").
                let (pass, drops) = self.cross_acls(None, *subnet, &b.with(nb.orig.clone()));
                steps.extend(drops);
                steps.push(Step::Go(
                    Loc::VpcRouter(vpc, *subnet),
                    nb.with(pass.orig).hop(
                        &g.decl.name,
                        "reply translated back by the NAT gateway",
                        None,
                    ),
                ));
            }
            b = rest;
        }
        if !b.orig.is_empty() {
            steps.extend(self.nat_gateway_reply_or_drop_plain(vpc, b));
        }
        steps
    }

    fn nat_gateway_reply_or_drop_plain(&self, vpc: SiteId, b: Branch) -> Vec<Step> {
        let site = self.m().site(vpc);
        vec![Self::drop(b, format!("nothing in vpc `{}` answers to the destination address", site.decl.name), site.header_span, "a NAT gateway admits no unsolicited inbound traffic; publish with an Elastic IP on the instance".into())]
    }

    fn nat_gateway(&self, g: GatewayId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let gw = &m.gateways[g.index()];
        let GatewayKind::NatGateway { subnet, elastic_ip } = &gw.kind else {
            return vec![Self::drop(
                b,
                "not a NAT gateway".into(),
                gw.decl.span,
                String::new(),
            )];
        };
        let to = match (elastic_ip, subnet) {
            (Some(a), _) => a.value,
            (None, Some(s)) => {
                let net = m.subnet(*s).prefix.value;
                match super::space::nth_addr(net, 4) {
                    Some(a) => a,
                    None => {
                        return vec![Self::drop(
                            b,
                            "the private NAT gateway's subnet is too small".into(),
                            gw.decl.span,
                            String::new(),
                        )]
                    }
                }
            }
            (None, None) => {
                return vec![Self::drop(
                    b,
                    "the NAT gateway has no subnet".into(),
                    gw.decl.span,
                    String::new(),
                )]
            }
        };
        let (mut b, mut steps) = self.same_family_only(b, to, &gw.decl.name, gw.decl.span);
        let after = b.view.with_src(AddrExpr::Const(to));
        b.translate(NatPoint::NatGateway(g), after, FirewallMatch::Internal);
        let b = b.hop(
            &gw.decl.name,
            format!("masquerade: src -> {to}"),
            Some(gw.decl.span),
        );
        steps.push(Step::Go(Loc::VpcRouter(gw.site, *subnet), b));
        steps
    }

    /// A masquerading NAT device translates only sources of the family of
    /// the address it translates to; it drops the other family (the model
    /// has no NAT64, docs/forwarding.md).
    pub(super) fn same_family_only(
        &self,
        b: Branch,
        to: IpAddr,
        name: &str,
        span: Span,
    ) -> (Branch, Vec<Step>) {
        let fam = AddrRanges::all_of(super::packet_set::Family::of(to));
        let (same, other) = self.src_in(&b, fam);
        let mut steps = Vec::new();
        if !other.is_empty() {
            steps.push(Self::drop(
                b.with(other),
                format!(
                    "`{name}` translates to {to} and does not translate between address families"
                ),
                span,
                "route this family's traffic elsewhere".into(),
            ));
        }
        (b.with(same), steps)
    }

    fn nat_instance(&self, h: HostId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let host = m.host(h);
        let (mut b, mut steps) =
            self.same_family_only(b, host.addr.value, &host.decl.name, host.decl.span);
        let after = b.view.with_src(AddrExpr::Const(host.addr.value));
        b.translate(NatPoint::NatInstance(h), after, FirewallMatch::Internal);
        let b = b.hop(
            &host.decl.name,
            format!("NAT instance masquerades: src -> {}", host.addr.value),
            Some(host.decl.name_span),
        );
        match host.subnet {
            Some(s) => steps.extend(self.leave_subnet(host.site, s, Some(h), b)),
            None => steps.push(Self::drop(
                b,
                "the NAT instance is in no subnet".into(),
                host.decl.span,
                String::new(),
            )),
        }
        steps
    }

    // ------------------------------------------------------------ internet

    fn internet(&self, b: Branch) -> Vec<Step> {
        let m = self.m();
        let mut steps = Vec::new();
        let mut rest = b.orig.clone();
        let mut exact: Vec<(&IpAddr, &PublicOwner)> = self.space.public.iter().collect();
        exact.sort();
        let owners = exact
            .into_iter()
            .map(|(&a, &o)| (AddrRanges::from_addr(a), o))
            .chain(self.space.public_ranges.iter().cloned());
        for (addrs, owner) in owners {
            if rest.is_empty() {
                break;
            }
            let (yes, no) = self.dst_in(&b.with(rest.clone()), addrs.clone());
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let nb = b.with(yes).hop(
                "internet",
                format!("{addrs} belongs to {}", self.owner_name(owner)),
                None,
            );
            steps.push(match owner {
                PublicOwner::InternetHost(h) => Step::Leaf(Leaf::Delivered {
                    to: Dest::Iface(Iface::Host(h)),
                    branch: nb.hop(
                        &m.host(h).decl.name,
                        "delivered",
                        Some(m.host(h).decl.name_span),
                    ),
                }),
                PublicOwner::Sddc(s) => Step::Go(Loc::Cgw(s, Some(Uplink::Internet)), nb),
                PublicOwner::Instance(h) => match self.igw_of(m.host(h).site) {
                    Some(g) => Step::Go(Loc::IgwIn(g), nb),
                    None => Self::drop(
                        nb,
                        format!(
                            "vpc `{}` has no internet gateway",
                            self.site_name(m.host(h).site)
                        ),
                        m.site(m.host(h).site).header_span,
                        "add an `internet-gateway` to the VPC".into(),
                    ),
                },
                PublicOwner::NatGateway(g) => match self.igw_of(m.gateways[g.index()].site) {
                    Some(igw) => Step::Go(Loc::IgwIn(igw), nb),
                    None => Self::drop(
                        nb,
                        "the NAT gateway's VPC has no internet gateway".into(),
                        m.gateways[g.index()].decl.span,
                        String::new(),
                    ),
                },
                PublicOwner::Onprem(s) => Step::Go(Loc::Edge(s, Some(Uplink::Internet)), nb),
                PublicOwner::VnetGateway(g) => Step::Go(Loc::VnetGatewayIn(g, None), nb),
                PublicOwner::UnassociatedEip(p) => {
                    let eip = &m.public_ips[p.index()];
                    Self::drop(
                        nb,
                        format!(
                            "Elastic IP `{}` is not associated with an instance or NAT gateway",
                            eip.decl.name
                        ),
                        eip.decl.span,
                        "associate it: `elastic-ip NAME ADDRESS -> INSTANCE`".into(),
                    )
                }
            });
        }
        if !rest.is_empty() {
            // Internet addresses nobody declared are ordinary internet hosts;
            // private and site-owned addresses are unreachable from here.
            let (outside, owned) = self.dst_in(&b.with(rest), self.space.internet.clone());
            if !outside.is_empty() {
                steps.push(Step::Leaf(Leaf::Delivered {
                    to: Dest::Internet,
                    branch: b
                        .with(outside)
                        .hop("internet", "delivered to an internet host", None),
                }));
            }
            if !owned.is_empty() {
                // Name the site whose private address it is.
                let mut owned = b.with(owned);
                for (i, site) in m.sites.iter().enumerate() {
                    if site.kind == SiteKind::Internet || owned.orig.is_empty() {
                        continue;
                    }
                    let (yes, no) = self.dst_in(&owned, self.space.site_addrs(SiteId(i as u32)));
                    if !yes.is_empty() {
                        steps.push(Self::drop(
                            owned.with(yes),
                            format!("the destination is a private address of `{}`: the internet does not route to it", site.decl.name),
                            site.header_span,
                            "reach it at a public address that NAT translates, or over a private connection".into(),
                        ));
                    }
                    owned = owned.with(no);
                }
                if !owned.orig.is_empty() {
                    steps.push(Self::drop(
                        owned,
                        "no one on the internet owns the destination".into(),
                        Span::default(),
                        "address a host that exists".into(),
                    ));
                }
            }
        }
        steps
    }

    fn igw_of(&self, vpc: SiteId) -> Option<GatewayId> {
        self.m()
            .site(vpc)
            .gateways
            .iter()
            .copied()
            .find(|g| self.m().gateways[g.index()].kind == GatewayKind::InternetGateway)
    }

    fn owner_name(&self, o: PublicOwner) -> String {
        let m = self.m();
        match o {
            PublicOwner::InternetHost(h) => format!("internet host `{}`", m.host(h).decl.name),
            PublicOwner::Sddc(s) => format!("sddc `{}`", m.site(s).decl.name),
            PublicOwner::Instance(h) => format!("instance `{}`", m.host(h).decl.name),
            PublicOwner::NatGateway(g) => {
                format!("nat-gateway `{}`", m.gateways[g.index()].decl.name)
            }
            PublicOwner::Onprem(s) => format!("onprem `{}`", m.site(s).decl.name),
            PublicOwner::VnetGateway(g) => format!("gateway `{}`", m.gateways[g.index()].decl.name),
            PublicOwner::UnassociatedEip(p) => {
                format!("Elastic IP `{}`", m.public_ips[p.index()].decl.name)
            }
        }
    }

    // -------------------------------------------------------------- SDDC

    fn eni_to_sddc(&self, sddc: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let Some(cv) = m.site(sddc).connected_vpc else {
            return vec![];
        };
        let Some(default) = m.site(cv.vpc).default_sg else {
            return vec![Step::Go(Loc::Cgw(sddc, Some(Uplink::Vpc)), b)];
        };
        let node = format!(
            "sddc {} / ENIs in vpc {}",
            self.site_name(sddc),
            self.site_name(cv.vpc)
        );
        let mut steps = Vec::new();
        let (replies, rest) = self.admitted(Filter::Eni(sddc), &b, &[b.view]);
        if !replies.is_empty() {
            steps.push(Step::Go(
                Loc::Cgw(sddc, Some(Uplink::Vpc)),
                b.with(replies)
                    .hop(&node, "reply of an admitted flow", None),
            ));
        }
        let allowed = self.sg_set(&[default], true, &self.sender_groups(&b));
        let (yes, no) = self.split_set(&b.with(rest), &allowed);
        if !no.is_empty() {
            let sg = &m.security_groups[default.index()];
            steps.push(Self::drop(
                b.with(no),
                format!("the SDDC's ENIs carry vpc `{}`'s default security group, whose inbound rules do not admit this source", self.site_name(cv.vpc)),
                sg.decl.span,
                "the default group's inbound rules govern traffic from the VPC into the SDDC: put the instance in the default group too, or (not recommended) admit its group in the default group's inbound rules".into(),
            ));
        }
        let mut nb = b
            .with(yes)
            .hop(&node, "default security group (inbound) admits", None);
        nb.marks.push(Mark::Filter(Filter::Eni(sddc), nb.view));
        nb.sender = None;
        steps.push(Step::Go(Loc::Cgw(sddc, Some(Uplink::Vpc)), nb));
        steps
    }

    fn cgw(&self, sddc: SiteId, from: Option<Uplink>, b: Branch) -> Vec<Step> {
        let mut steps = Vec::new();
        match from {
            // Arriving from the internet: NAT first, then the firewall, for
            // each rule's share of the packets (each has its own view).
            Some(Uplink::Internet) => {
                let (translated, drops) = self.cgw_inbound_nat(sddc, b);
                steps.extend(drops);
                for (t, seen, other) in translated {
                    if let Some(x) =
                        self.cgw_firewall(sddc, Uplink::Internet, t, seen, other, &mut steps)
                    {
                        steps.extend(self.cgw_select(sddc, x));
                    }
                }
            }
            Some(up) => {
                let v = Some(b.view);
                if let Some(x) = self.cgw_firewall(sddc, up, b, v, None, &mut steps) {
                    steps.extend(self.cgw_select(sddc, x));
                }
            }
            None => steps.extend(self.cgw_select(sddc, b)),
        }
        steps
    }

    /// Route selection at the compute gateway, once the firewall (if the
    /// packet came by an uplink) has admitted it.
    fn cgw_select(&self, sddc: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let site = m.site(sddc);
        let node = format!("sddc {} / cgw", site.decl.name);
        let mut steps = Vec::new();
        let (local, out) = self.dst_in(&b, self.attached_segments(sddc));
        if !local.is_empty() {
            let span = site.header_span;
            let nb = b.with(local).hop(&node, "destination on a segment", None);
            steps.extend(self.to_hosts(sddc, None, nb, "VM", span));
        }
        let mgmt = AddrRanges::from_nets(site.management.iter().map(|p| p.value));
        let (to_mgmt, out) = self.dst_in(&b.with(out), mgmt);
        if !to_mgmt.is_empty() {
            steps.push(Self::drop(
                b.with(to_mgmt),
                format!(
                    "the destination is in the management network of sddc `{}`, which is not modelled",
                    site.decl.name
                ),
                site.management.first().map_or(site.header_span, |p| p.span),
                "management appliances are reached through the management gateway".into(),
            ));
        }
        // A policy-based VPN whose selectors hold the packet comes before
        // any route.
        let mut ob = b.with(out);
        for (c, sel) in self.policy_vpns(sddc) {
            let (yes, no) = self.split(&ob, &sel);
            ob = ob.with(no);
            if !yes.is_empty() {
                let conn = &m.connections[c.index()];
                let nb = ob.with(yes).hop(
                    &node,
                    format!(
                        "the selectors of policy-based vpn `{}` hold it",
                        conn.decl.name
                    ),
                    Some(conn.decl.span),
                );
                steps.extend(self.cgw_out(sddc, Uplink::Connection(c), nb));
            }
        }
        if ob.orig.is_empty() {
            return steps;
        }
        // Candidate routes: connected VPC, learned prefixes, internet default.
        // Between equal prefixes the lowest rank wins: the connected VPC,
        // then route-based VPN, then Direct Connect, then the internet
        // default (docs/forwarding.md, "Oracle decisions"); within a rank,
        // the connection declared first.
        let mut routes: Vec<(ipnet::IpNet, Uplink, u8, Span)> = Vec::new();
        if let Some(cv) = site.connected_vpc {
            for p in &m.site(cv.vpc).prefixes {
                routes.push((p.value, Uplink::Vpc, 0, cv.span));
            }
        }
        for (i, c) in m.connections.iter().enumerate() {
            if !matches!(c.kind, ConnKind::DirectConnect | ConnKind::Vpn)
                || !c.ends.iter().any(|e| e.value == sddc)
            {
                continue;
            }
            let up = Uplink::Connection(crate::model::ConnectionId(i as u32));
            let rank = if c.kind == ConnKind::Vpn { 1 } else { 2 };
            for a in c.advertise.iter().filter(|a| a.site != sddc) {
                for p in &a.prefixes {
                    routes.push((p.value, up, rank, a.span));
                }
            }
        }
        for d in ["0.0.0.0/0", "::/0"] {
            if let Ok(net) = d.parse() {
                routes.push((net, Uplink::Internet, 3, site.header_span));
            }
        }
        routes.sort_by_key(|r| (r.0, r.2));
        routes.dedup_by_key(|r| r.0);
        let prefixes: Vec<ipnet::IpNet> = routes.iter().map(|r| r.0).collect();
        let parts = AddrRanges::lpm_partition(&prefixes);
        let mut rest = ob.orig.clone();
        for ((net, up, _, span), part) in routes.iter().zip(parts) {
            let (yes, no) = self.dst_in(&ob.with(rest.clone()), part);
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let nb = ob.with(yes).hop(
                &node,
                format!("route {net} -> uplink {}", self.uplink_name(*up)),
                Some(*span),
            );
            steps.extend(self.cgw_out(sddc, *up, nb));
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                ob.with(rest),
                "no route".into(),
                site.header_span,
                String::new(),
            ));
        }
        steps
    }

    fn uplink_name(&self, u: Uplink) -> String {
        match u {
            Uplink::AllUplinks => "all-uplinks".into(),
            Uplink::Internet => "internet".into(),
            Uplink::Vpc => "vpc".into(),
            Uplink::DirectConnect => "direct-connect".into(),
            Uplink::Vpn => "vpn".into(),
            Uplink::Connection(c) => {
                let conn = &self.m().connections[c.index()];
                format!("{} `{}`", conn.kind.keyword(), conn.decl.name)
            }
        }
    }

    /// Does a firewall rule apply to packets crossing `up`?
    fn applies(&self, rule_ups: &[crate::span::Spanned<Uplink>], up: Uplink) -> bool {
        let m = self.m();
        rule_ups.iter().any(|u| match (u.value, up) {
            (Uplink::AllUplinks, _) => true,
            (a, b) if a == b => true,
            (Uplink::DirectConnect, Uplink::Connection(c)) => {
                m.connections[c.index()].kind == ConnKind::DirectConnect
            }
            (Uplink::Vpn, Uplink::Connection(c)) => m.connections[c.index()].kind == ConnKind::Vpn,
            _ => false,
        })
    }

    /// The compute gateway firewall on an uplink. `fw_view` is the header
    /// the firewall sees (after NAT, per `firewall-match`), or `None` to
    /// bypass it. Returns the admitted branch.
    fn cgw_firewall(
        &self,
        sddc: SiteId,
        up: Uplink,
        b: Branch,
        fw_view: Option<View>,
        other: Option<View>,
        steps: &mut Vec<Step>,
    ) -> Option<Branch> {
        let m = self.m();
        let Some(fw_view) = fw_view else {
            return Some(b);
        };
        let Some(&fw) = m
            .site(sddc)
            .firewalls
            .iter()
            .find(|&&f| m.firewalls[f.index()].kind == FirewallKind::Cgw)
        else {
            steps.push(Self::drop(b, "the SDDC has no compute gateway firewall: the Default Uplink Rule drops everything".into(), m.site(sddc).header_span, "add a `firewall cgw` rule that allows this traffic on this uplink".into()));
            return None;
        };
        let judge = Branch {
            view: fw_view,
            ..b.clone()
        };
        // Replies of flows the firewall admitted pass, on any uplink.
        let views: Vec<View> = std::iter::once(fw_view).chain(other).collect();
        let (replies, rest) = self.admitted(Filter::Firewall(sddc), &b, &views);
        let (allowed, dropped, rest) = self.firewall_first_match(fw, up, &judge, rest);
        let fw = &m.firewalls[fw.index()];
        for (r, set) in dropped {
            steps.push(Self::drop(
                b.with(set),
                format!("compute gateway rule `{}` drops it", r.decl.name),
                r.decl.span,
                "move an allow rule above it, or narrow this rule".into(),
            ));
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!("no compute gateway rule allows it on uplink {}: the Default Uplink Rule drops it", self.uplink_name(up)),
                fw.decl.name_span,
                format!("add a rule to `firewall cgw` allowing it, `applied-to {}`", self.uplink_keyword(up)),
            ));
        }
        let what = if allowed.is_empty() {
            "a reply it admits by state"
        } else {
            "allowed"
        };
        let allowed = allowed.union(&replies);
        if allowed.is_empty() {
            return None;
        }
        let mut nb = b.with(allowed).hop(
            &format!("sddc {} / cgw firewall", self.site_name(sddc)),
            format!("{what} on uplink {}", self.uplink_name(up)),
            None,
        );
        for v in views {
            nb.marks.push(Mark::Filter(Filter::Firewall(sddc), v));
        }
        Some(nb)
    }

    fn uplink_keyword(&self, up: Uplink) -> String {
        match up {
            Uplink::Connection(c) => {
                let conn = &self.m().connections[c.index()];
                match conn.kind {
                    ConnKind::DirectConnect => "direct-connect".into(),
                    _ => conn.decl.name.clone(),
                }
            }
            other => self.uplink_name(other),
        }
    }

    /// Inbound NAT on the internet uplink: the translated branches, each
    /// with the header the firewall judges (`None`: bypass) and the other
    /// side of the NAT, and the drops. Replies of the flows this uplink
    /// translated outbound are translated back first; anything else goes
    /// through the DNAT and reflexive rules.
    fn cgw_inbound_nat(&self, sddc: SiteId, b: Branch) -> (Vec<Judged>, Vec<Step>) {
        let m = self.m();
        let node = format!("sddc {} / cgw (uplink internet)", self.site_name(sddc));
        let mut steps = Vec::new();
        let mut out = Vec::new();
        let (undone, b) = self.undo(NatPoint::CgwInternet(sddc), &b);
        for (nb, n) in undone {
            // Inbound, the private side is after the (un)translation.
            let (seen, other) = fw_sides(n.firewall_match, nb.view, b.view);
            out.push((
                nb.hop(&node, "reply translated back (NAT session)", None),
                seen,
                other,
            ));
        }
        let mut rest = b.orig.clone();
        for n in self.nat_rules_by_kind(sddc, &[NatKind::Dnat, NatKind::Reflexive]) {
            let rule = &m.nat_rules[n.index()];
            if rest.is_empty() {
                break;
            }
            let Some(ext) = rule.external.as_ref() else {
                continue;
            };
            let (Some(from), Some(to)) =
                (self.space.nat_net(ext), self.space.nat_net(&rule.internal))
            else {
                continue;
            };
            let svc = rule
                .services
                .as_ref()
                .map_or_else(PacketSet::all, service_match);
            let matchset = PacketSet::from_fields(
                &AddrRanges::all(),
                &self.space.addrs(ext),
                None,
                (0, u16::MAX),
                (0, u16::MAX),
            )
            .intersect(&svc);
            let (yes, no) = self.split_set(&b.with(rest.clone()), &matchset);
            rest = no;
            for part in
                self.port_translated(&b.with(yes), rule.translated_port.as_ref().map(|p| p.value))
            {
                // The share's view has the rule's port already; the
                // translation goes from the header as it arrived.
                let mut nb = part;
                let before = b.view;
                let after = nb.view.with_dst(nat_translate(before.dst, from, to));
                nb.view = before;
                nb.translate(NatPoint::CgwInternet(sddc), after, rule.firewall_match);
                let (seen, other) = fw_sides(rule.firewall_match, after, before);
                let nb = nb.hop(
                    &node,
                    format!("DNAT `{}`: dst -> {}", rule.decl.name, nat_words(from, to)),
                    Some(rule.decl.span),
                );
                out.push((nb, seen, other));
            }
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "no NAT rule of sddc `{}` translates the destination",
                    self.site_name(sddc)
                ),
                m.site(sddc).header_span,
                "add `nat dnat` from the public IP to the VM, for this service".into(),
            ));
        }
        (out, steps)
    }

    /// Splits a branch for a NAT rule's `-> PORT`: TCP and UDP packets get
    /// the new destination port, other protocols keep theirs (ICMP has no
    /// port; docs/forwarding.md, "Oracle decisions").
    pub(super) fn port_translated(&self, b: &Branch, port: Option<u16>) -> Vec<Branch> {
        let Some(port) = port else {
            return vec![b.clone()];
        };
        let mut parts = Vec::new();
        let mut rest = b.orig.clone();
        for proto in [TCP, UDP] {
            let (yes, no) = self.split(
                &b.with(rest.clone()),
                &HeaderPredicate {
                    proto: Some((proto, proto)),
                    ..Default::default()
                },
            );
            rest = no;
            let mut nb = b.with(yes);
            nb.view = nb.view.with_dport(super::view::PortExpr::Const(port));
            parts.push(nb);
        }
        parts.push(b.with(rest));
        parts.retain(|p| !p.orig.is_empty());
        parts
    }

    /// An SDDC's NAT rules of the given kinds, kind by kind in that order,
    /// each kind in declaration order: outbound, `snat` beats `reflexive`
    /// beats `no-snat`; inbound, `dnat` beats `reflexive`
    /// (docs/forwarding.md, "NAT on the internet uplink").
    fn nat_rules_by_kind(&self, sddc: SiteId, kinds: &[NatKind]) -> Vec<crate::model::NatRuleId> {
        let m = self.m();
        kinds
            .iter()
            .flat_map(|&k| {
                m.site(sddc)
                    .nat_rules
                    .iter()
                    .copied()
                    .filter(move |n| m.nat_rules[n.index()].kind == k)
            })
            .collect()
    }

    /// The policy-based VPNs of a site, in declaration order, each with the
    /// headers its selectors hold from this site: `local` is the first
    /// end's side, `remote` the second's ("Oracle decisions").
    fn policy_vpns(&self, site: SiteId) -> Vec<(ConnectionId, HeaderPredicate)> {
        let m = self.m();
        let mut out = Vec::new();
        for (i, c) in m.connections.iter().enumerate() {
            if c.kind != ConnKind::Vpn || c.vpn_mode != Some(VpnMode::PolicyBased) {
                continue;
            }
            let (Some(first), Some(second), Some(local), Some(remote)) = (
                c.ends.first(),
                c.ends.get(1),
                c.local.as_ref(),
                c.remote.as_ref(),
            ) else {
                continue;
            };
            let (mine, theirs) = if first.value == site {
                (local, remote)
            } else if second.value == site {
                (remote, local)
            } else {
                continue;
            };
            out.push((
                ConnectionId(i as u32),
                HeaderPredicate {
                    src: Some(self.space.addrs(mine)),
                    dst: Some(self.space.addrs(theirs)),
                    ..Default::default()
                },
            ));
        }
        out
    }

    /// The segments attached to an SDDC's compute gateway: all but those
    /// extended by L2VPN, whose gateway is on-prem (the SDDC reaches them
    /// through the on-prem edge).
    fn attached_segments(&self, sddc: SiteId) -> AddrRanges {
        let m = self.m();
        AddrRanges::from_nets(
            m.site(sddc)
                .subnets
                .iter()
                .filter(|&&s| m.subnet(s).extended_by.is_none())
                .map(|&s| m.subnet(s).prefix.value),
        )
    }

    /// Leaving the compute gateway by an uplink: firewall, NAT on the
    /// internet uplink, then the next node.
    fn cgw_out(&self, sddc: SiteId, up: Uplink, b: Branch) -> Vec<Step> {
        let m = self.m();
        let site = m.site(sddc);
        let mut steps = Vec::new();
        match up {
            Uplink::Internet => {
                let node = format!("sddc {} / cgw (uplink internet)", site.decl.name);
                // The replies of flows this uplink translated inbound.
                let (undone, b) = self.undo(NatPoint::CgwInternet(sddc), &b);
                for (nb, n) in undone {
                    // Outbound, the private side is before the translation.
                    let (seen, other) = fw_sides(n.firewall_match, b.view, nb.view);
                    let nb = nb.hop(&node, "reply translated back (NAT session)", None);
                    if let Some(x) = self.cgw_firewall(sddc, up, nb, seen, other, &mut steps) {
                        steps.push(Step::Go(Loc::Internet, x));
                    }
                }
                if b.orig.is_empty() {
                    return steps;
                }
                // Outbound SNAT: explicit rules, then the default SNAT.
                let mut rest = b.orig.clone();
                let order = [NatKind::Snat, NatKind::Reflexive, NatKind::NoSnat];
                for n in self.nat_rules_by_kind(sddc, &order) {
                    let rule = &m.nat_rules[n.index()];
                    if rest.is_empty() {
                        break;
                    }
                    let int = self.space.addrs(&rule.internal);
                    let (yes, no) = self.src_in(&b.with(rest.clone()), int);
                    match rule.kind {
                        NatKind::NoSnat => {
                            rest = no;
                            if !yes.is_empty() {
                                let nb = b.with(yes).hop(
                                    &node,
                                    format!("no-snat `{}`", rule.decl.name),
                                    Some(rule.decl.span),
                                );
                                let v = Some(nb.view);
                                if let Some(x) =
                                    self.cgw_firewall(sddc, up, nb, v, None, &mut steps)
                                {
                                    steps.push(Step::Go(Loc::Internet, x));
                                }
                            }
                        }
                        NatKind::Snat | NatKind::Reflexive => {
                            rest = no;
                            if yes.is_empty() {
                                continue;
                            }
                            let nets = rule.external.as_ref().and_then(|e| {
                                Some((self.space.nat_net(&rule.internal)?, self.space.nat_net(e)?))
                            });
                            let Some((from, to)) = nets else {
                                continue;
                            };
                            let nb = b.with(yes);
                            let src = nat_translate(nb.view.src, from, to);
                            steps.extend(self.snat_out(
                                sddc,
                                nb,
                                src,
                                rule.firewall_match,
                                format!(
                                    "SNAT `{}`: src -> {}",
                                    rule.decl.name,
                                    nat_words(from, to)
                                ),
                                Some(rule.decl.span),
                            ));
                        }
                        NatKind::Dnat => {}
                    }
                }
                // The default SNAT translates sources of its own family
                // (IPv4 for the implicit one); the rest leaves untranslated.
                let mut rest = b.with(rest);
                if let Some(&to) = self.space.default_snat.get(&sddc) {
                    let fam = AddrRanges::all_of(super::packet_set::Family::of(to));
                    let (same, other) = self.src_in(&rest, fam);
                    steps.extend(self.snat_out(
                        sddc,
                        b.with(same),
                        AddrExpr::Const(to),
                        FirewallMatch::Internal,
                        format!("default SNAT: src -> {to}"),
                        None,
                    ));
                    rest = b.with(other);
                }
                if !rest.orig.is_empty() {
                    if let Some(x) =
                        self.cgw_firewall(sddc, up, rest.clone(), Some(rest.view), None, &mut steps)
                    {
                        steps.push(Step::Go(
                            Loc::Internet,
                            x.hop(&node, "no SNAT: the source leaves untranslated", None),
                        ));
                    }
                }
            }
            Uplink::Vpc => {
                if let Some(x) =
                    self.cgw_firewall(sddc, up, b.clone(), Some(b.view), None, &mut steps)
                {
                    steps.extend(self.eni_to_vpc(sddc, x));
                }
            }
            Uplink::Connection(c) => {
                if let Some(x) =
                    self.cgw_firewall(sddc, up, b.clone(), Some(b.view), None, &mut steps)
                {
                    let conn = &m.connections[c.index()];
                    match conn.other_end(sddc) {
                        Some(other) => steps.extend(self.enter_site(other, up, x)),
                        None => steps.push(Self::drop(
                            x,
                            "the connection has no other end".into(),
                            conn.decl.span,
                            String::new(),
                        )),
                    }
                }
            }
            // The generic words `direct-connect`, `vpn` and `all-uplinks`
            // only select firewall rules: route selection always names the
            // connection itself, so no packet leaves by them.
            Uplink::AllUplinks | Uplink::DirectConnect | Uplink::Vpn => steps.push(Self::drop(
                b,
                format!(
                    "`{}` is not an uplink a packet can leave by",
                    self.uplink_name(up)
                ),
                site.header_span,
                String::new(),
            )),
        }
        steps
    }

    /// SNAT on the internet uplink: the source becomes `src`, then the
    /// firewall (per `firewall-match`) and the internet.
    fn snat_out(
        &self,
        sddc: SiteId,
        b: Branch,
        src: AddrExpr,
        fm: FirewallMatch,
        what: String,
        span: Option<Span>,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        if b.orig.is_empty() {
            return steps;
        }
        let before = b.view;
        let after = before.with_src(src);
        let mut nb = b;
        nb.translate(NatPoint::CgwInternet(sddc), after, fm);
        // Outbound, the private side is before the translation.
        let (seen, other) = fw_sides(fm, before, after);
        let node = format!("sddc {} / cgw (uplink internet)", self.site_name(sddc));
        let nb = nb.hop(&node, what, span);
        if let Some(x) = self.cgw_firewall(sddc, Uplink::Internet, nb, seen, other, &mut steps) {
            steps.push(Step::Go(Loc::Internet, x));
        }
        steps
    }

    /// From the SDDC into its connected VPC through the ENIs: the default
    /// security group's outbound rules, then the VPC router from a gateway.
    fn eni_to_vpc(&self, sddc: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let Some(cv) = m.site(sddc).connected_vpc else {
            return vec![];
        };
        let node = format!(
            "sddc {} / ENIs in vpc {}",
            self.site_name(sddc),
            self.site_name(cv.vpc)
        );
        let mut steps = Vec::new();
        let mut nb = b.clone();
        if let Some(default) = m.site(cv.vpc).default_sg {
            let (replies, rest) = self.admitted(Filter::Eni(sddc), &b, &[b.view]);
            let allowed = self.sg_set(&[default], false, &[]);
            let (yes, no) = self.split_set(&b.with(rest), &allowed);
            if !no.is_empty() {
                steps.push(Self::drop(b.with(no), "the connected VPC's default security group allows no such outbound traffic from the SDDC".into(), m.security_groups[default.index()].decl.span, "the default group's outbound rules govern traffic from the SDDC into the VPC".into()));
            }
            nb = b.with(yes);
            nb.marks.push(Mark::Filter(Filter::Eni(sddc), nb.view));
            nb.orig = nb.orig.union(&replies);
        }
        // The VPC sees the SDDC as a member of its default group.
        nb.sender = Some((Sender::Default(cv.vpc), nb.view.src));
        steps.push(Step::Go(
            Loc::VpcRouter(cv.vpc, None),
            nb.hop(&node, "into the connected VPC", None),
        ));
        steps
    }

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

    // ------------------------------------------------------------ on-prem

    fn edge(&self, site: SiteId, from: Option<Uplink>, b: Branch) -> Vec<Step> {
        let m = self.m();
        let s = m.site(site);
        let node = format!("onprem {} / edge", s.decl.name);
        let mut steps = Vec::new();
        let mut b = b;
        if from == Some(Uplink::Internet) {
            // Each share translated here, with the header on the other side
            // of the translation (the firewall's state covers both sides).
            let mut translated: Vec<(Branch, View)> = Vec::new();
            // The replies of flows the egress SNAT translated.
            let (undone, rest_b) = self.undo(NatPoint::OnpremEdge(site), &b);
            for (nb, _) in undone {
                let hop = nb.hop(&node, "reply translated back (egress SNAT)", None);
                translated.push((hop, b.view));
            }
            let b = rest_b;
            {
                let mut rest = b.orig.clone();
                for &n in &s.nat_rules {
                    let rule = &m.nat_rules[n.index()];
                    if rule.kind != NatKind::Dnat {
                        continue;
                    }
                    let Some(ext) = rule.external.as_ref() else {
                        continue;
                    };
                    let (Some(from), Some(to)) =
                        (self.space.nat_net(ext), self.space.nat_net(&rule.internal))
                    else {
                        continue;
                    };
                    let ext = self.space.addrs(ext);
                    let svc = rule
                        .services
                        .as_ref()
                        .map_or_else(PacketSet::all, service_match);
                    let set = PacketSet::from_fields(
                        &AddrRanges::all(),
                        &ext,
                        None,
                        (0, u16::MAX),
                        (0, u16::MAX),
                    )
                    .intersect(&svc);
                    let (yes, no) = self.split_set(&b.with(rest.clone()), &set);
                    rest = no;
                    if yes.is_empty() {
                        continue;
                    }
                    let mut nb = b.with(yes);
                    let before = nb.view;
                    let after = before.with_dst(nat_translate(before.dst, from, to));
                    nb.translate(NatPoint::OnpremEdge(site), after, FirewallMatch::Internal);
                    let hop = nb.hop(
                        &node,
                        format!("DNAT `{}`: dst -> {}", rule.decl.name, nat_words(from, to)),
                        Some(rule.decl.span),
                    );
                    translated.push((hop, before));
                }
                if !rest.is_empty() {
                    steps.push(Self::drop(
                        b.with(rest),
                        format!(
                            "nothing at onprem `{}` answers to the destination",
                            s.decl.name
                        ),
                        s.header_span,
                        "publish the service with `nat dnat` on the on-prem edge".into(),
                    ));
                }
                for (t, other) in translated {
                    let fw = self.edge_firewall(site, Uplink::Internet, t, Some(other), &mut steps);
                    if let Some(x) = fw {
                        steps.extend(self.edge_route(site, x, true));
                    }
                }
                return steps;
            }
        }
        if let Some(up) = from {
            match self.edge_firewall(site, up, b, None, &mut steps) {
                Some(x) => b = x,
                None => return steps,
            }
        }
        steps.extend(self.edge_route(site, b, false));
        steps
    }

    /// The on-prem edge firewall judges the branch's header (the private
    /// side of the edge's own NAT); `other` is the header on the other side
    /// of that NAT, which the state covers too.
    /// First match over the rules of gateway firewall `fw` that apply on
    /// uplink `up`, judging `rest` (original packets) through `judge`'s view:
    /// the packets allow rules admit, the packets each drop or reject rule
    /// decides, and the packets no rule matches (the implicit last rule's).
    fn firewall_first_match(
        &self,
        fw: crate::model::FirewallId,
        up: Uplink,
        judge: &Branch,
        mut rest: PacketSet,
    ) -> (
        PacketSet,
        Vec<(&'m crate::model::FirewallRule, PacketSet)>,
        PacketSet,
    ) {
        let sets = self.space.firewall_rule_sets(fw);
        let rules = &self.m().firewalls[fw.index()].rules;
        let mut allowed = PacketSet::empty();
        let mut dropped = Vec::new();
        // Untranslated branches, the common case, are split by all rules at
        // once: each rule is clipped to the branch (rules far from it are
        // skipped by their bounds) and the regions computed by overlap, not
        // by subtracting rule after rule from an ever more fragmented rest.
        if judge.view == View::IDENTITY {
            let applicable = rules
                .iter()
                .zip(sets)
                .enumerate()
                .filter(|(_, (r, _))| self.applies(&r.applied_to, up))
                .map(|(i, (_, set))| (i, set));
            let (decided, rest) = rest.split_first_match_of(applicable);
            let mut allow = Vec::new();
            for (i, region) in decided {
                let Some(r) = rules.get(i) else { continue };
                match r.action.value {
                    Action::Allow => allow.push(region),
                    Action::Drop | Action::Reject => dropped.push((r, region)),
                }
            }
            // First-match regions are disjoint.
            return (PacketSet::union_disjoint(allow), dropped, rest);
        }
        let mut probe = judge.with(PacketSet::empty());
        for (r, set) in rules.iter().zip(sets) {
            if rest.is_empty() {
                break;
            }
            if !self.applies(&r.applied_to, up) {
                continue;
            }
            probe.orig = rest;
            let (yes, no) = self.split_set(&probe, set);
            rest = no;
            if yes.is_empty() {
                continue;
            }
            match r.action.value {
                Action::Allow => allowed = allowed.union(&yes),
                Action::Drop | Action::Reject => dropped.push((r, yes)),
            }
        }
        (allowed, dropped, rest)
    }

    fn edge_firewall(
        &self,
        site: SiteId,
        up: Uplink,
        b: Branch,
        other: Option<View>,
        steps: &mut Vec<Step>,
    ) -> Option<Branch> {
        let m = self.m();
        let s = m.site(site);
        let Some(&fw) = s.firewalls.first() else {
            return Some(b);
        };
        let views: Vec<View> = std::iter::once(b.view).chain(other).collect();
        let (replies, rest) = self.admitted(Filter::Firewall(site), &b, &views);
        let (allowed, dropped, rest) = self.firewall_first_match(fw, up, &b, rest);
        let fw = &m.firewalls[fw.index()];
        for (r, set) in dropped {
            steps.push(Self::drop(
                b.with(set),
                format!("edge firewall rule `{}` drops it", r.decl.name),
                r.decl.span,
                "move an allow rule above it, or narrow this rule".into(),
            ));
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "no rule of firewall `{}` allows it: the implicit last rule drops it",
                    fw.decl.name
                ),
                fw.decl.name_span,
                "add a rule allowing it".into(),
            ));
        }
        let allowed = allowed.union(&replies);
        if allowed.is_empty() {
            return None;
        }
        let mut nb = b.with(allowed);
        for v in views {
            nb.marks.push(Mark::Filter(Filter::Firewall(site), v));
        }
        Some(nb)
    }

    /// Route selection at an on-prem edge; `from_internet` when the packet
    /// came in from the internet (it may not be sent back there).
    fn edge_route(&self, site: SiteId, b: Branch, from_internet: bool) -> Vec<Step> {
        let m = self.m();
        let s = m.site(site);
        let node = format!("onprem {} / edge", s.decl.name);
        let mut steps = Vec::new();
        // Attached: own segments, and SDDC segments extended here.
        let own = AddrRanges::from_nets(s.subnets.iter().map(|&x| m.subnet(x).prefix.value));
        let (local, rest) = self.dst_in(&b, own);
        if !local.is_empty() {
            let nb = b.with(local).hop(&node, "destination on a segment", None);
            steps.extend(self.to_hosts(site, None, nb, "host", s.header_span));
        }
        let mut rest = b.with(rest);
        for c in m
            .connections
            .iter()
            .filter(|c| c.kind == ConnKind::L2vpn && c.ends.iter().any(|e| e.value == site))
        {
            for seg in &c.extend {
                let sub = m.subnet(seg.value);
                let (yes, no) = self.dst_in(&rest, AddrRanges::from_net(sub.prefix.value));
                rest = rest.with(no);
                if !yes.is_empty() {
                    steps.extend(self.to_hosts(
                        sub.site,
                        Some(seg.value),
                        b.with(yes).hop(
                            &node,
                            format!(
                                "segment `{}` is extended here by L2VPN `{}`",
                                sub.decl.name, c.decl.name
                            ),
                            Some(c.decl.span),
                        ),
                        "VM",
                        sub.decl.span,
                    ));
                }
            }
        }
        // A policy-based VPN whose selectors hold the packet.
        for (c, sel) in self.policy_vpns(site) {
            let (yes, no) = self.split(&rest, &sel);
            rest = rest.with(no);
            if yes.is_empty() {
                continue;
            }
            let up = Uplink::Connection(c);
            let conn = &m.connections[c.index()];
            let nb = rest.with(yes).hop(
                &node,
                format!(
                    "the selectors of policy-based vpn `{}` hold it",
                    conn.decl.name
                ),
                Some(conn.decl.span),
            );
            if let Some(x) = self.edge_firewall(site, up, nb, None, &mut steps) {
                if let Some(other) = conn.other_end(site) {
                    steps.extend(self.enter_site(other, up, x));
                }
            }
        }
        if rest.orig.is_empty() {
            return steps;
        }
        // Learned prefixes over links: the SDDC advertises its segments.
        let mut routes: Vec<(ipnet::IpNet, usize, Span)> = Vec::new();
        for (i, c) in m.connections.iter().enumerate() {
            if !matches!(c.kind, ConnKind::DirectConnect | ConnKind::Vpn)
                || !c.ends.iter().any(|e| e.value == site)
            {
                continue;
            }
            let Some(other) = c.other_end(site) else {
                continue;
            };
            if m.site(other).kind == SiteKind::Sddc {
                // An SDDC advertises its routed segments and management
                // prefixes; a segment extended by L2VPN is not routed there.
                let o = m.site(other);
                for &sub in &o.subnets {
                    if m.subnet(sub).extended_by.is_none() {
                        routes.push((m.subnet(sub).prefix.value, i, c.decl.span));
                    }
                }
                for p in &o.management {
                    routes.push((p.value, i, c.decl.span));
                }
            }
            for a in c.advertise.iter().filter(|a| a.site == other) {
                for p in &a.prefixes {
                    routes.push((p.value, i, a.span));
                }
            }
        }
        routes.sort_by_key(|r| (r.0, r.1));
        routes.dedup_by_key(|r| r.0);
        let prefixes: Vec<ipnet::IpNet> = routes.iter().map(|r| r.0).collect();
        let parts = AddrRanges::lpm_partition(&prefixes);
        let (shares, left) = self.split_dsts(&rest, &parts);
        for ((net, ci, span), yes) in routes.iter().zip(shares) {
            if yes.is_empty() {
                continue;
            }
            let up = Uplink::Connection(crate::model::ConnectionId(*ci as u32));
            let conn = &m.connections[*ci];
            let nb = rest.with(yes).hop(
                &node,
                format!(
                    "route {net} -> {} `{}`",
                    conn.kind.keyword(),
                    conn.decl.name
                ),
                Some(*span),
            );
            if let Some(x) = self.edge_firewall(site, up, nb, None, &mut steps) {
                if let Some(other) = conn.other_end(site) {
                    steps.extend(self.enter_site(other, up, x));
                }
            }
        }
        if left.is_empty() {
            return steps;
        }
        let lb = rest.with(left);
        if from_internet {
            steps.push(Self::drop(
                lb,
                format!(
                    "onprem `{}` has no route for the destination other than the internet it came from",
                    s.decl.name
                ),
                s.header_span,
                "translate it to an address of a segment, or of a network learned over a connection"
                    .into(),
            ));
            return steps;
        }
        // Everything else leaves by the internet, through the egress SNAT:
        // public addresses of other sites, and of this one (hairpin), are
        // reached there. Private addresses of sites are not, so they stop
        // here.
        let unreachable = self.space.owned.difference(&self.space.published_ranges());
        let (private, inet) = self.dst_in(&lb, unreachable);
        if !private.is_empty() {
            steps.push(Self::drop(
                lb.with(private),
                format!("onprem `{}` has no route to the destination", s.decl.name),
                s.header_span,
                "advertise the destination's prefix over a Direct Connect or VPN to this site"
                    .into(),
            ));
        }
        if inet.is_empty() {
            return steps;
        }
        // The replies of flows the edge published (DNAT) are translated
        // back; the firewall judges their private side, before that.
        let (undone, ib) = self.undo(NatPoint::OnpremEdge(site), &lb.with(inet));
        for (nb, _) in undone {
            let private = ib.with(nb.orig.clone());
            let fw = self.edge_firewall(site, Uplink::Internet, private, Some(nb.view), &mut steps);
            if let Some(x) = fw {
                steps.push(Step::Go(
                    Loc::Internet,
                    nb.with(x.orig)
                        .hop(&node, "reply translated back (DNAT session)", None),
                ));
            }
        }
        if ib.orig.is_empty() {
            return steps;
        }
        match &s.internet_egress {
            Some(e) => {
                let after = ib.view.with_src(AddrExpr::Const(e.value));
                let fw = self.edge_firewall(site, Uplink::Internet, ib, Some(after), &mut steps);
                if let Some(mut x) = fw {
                    x.translate(NatPoint::OnpremEdge(site), after, FirewallMatch::Internal);
                    steps.push(Step::Go(
                        Loc::Internet,
                        x.hop(
                            &node,
                            format!("internet egress SNAT: src -> {}", e.value),
                            Some(e.span),
                        ),
                    ));
                }
            }
            None => steps.push(Self::drop(
                ib,
                format!("onprem `{}` has no internet exit", s.decl.name),
                s.header_span,
                "add `internet-egress snat ADDRESS` to the site".into(),
            )),
        }
        steps
    }

    /// Delivers a branch to the hosts of `site` (only those on `segment`,
    /// when given) by destination address; what no host owns goes to
    /// [`Self::unowned`], which says "no NOUN has the destination address".
    fn to_hosts(
        &self,
        site: SiteId,
        segment: Option<SubnetId>,
        b: Branch,
        noun: &str,
        span: Span,
    ) -> Vec<Step> {
        let m = self.m();
        let mut steps = Vec::new();
        // By class: a class on an extended segment lies on that segment.
        let classes: Vec<&(HostId, AddrRanges)> = self
            .space
            .classes
            .host_classes(site)
            .iter()
            .filter(|(h, _)| segment.is_none_or(|seg| m.host(*h).subnet == Some(seg)))
            .collect();
        let parts: Vec<AddrRanges> = classes.iter().map(|(_, a)| a.clone()).collect();
        let (shares, rest) = self.split_dsts(&b, &parts);
        for ((h, _), yes) in classes.into_iter().zip(shares) {
            if !yes.is_empty() {
                steps.push(Step::Go(Loc::Arrive(site, Iface::Host(*h)), b.with(yes)));
            }
        }
        if !rest.is_empty() {
            steps.extend(self.unowned(
                b.with(rest),
                &format!("no {noun} has the destination address"),
                span,
                &format!("address the packet to a declared {noun}"),
            ));
        }
        steps
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

/// A branch the gateway firewall is to judge: the header it judges (`None`:
/// `firewall-match bypass`) and the header on the other side of NAT.
type Judged = (Branch, Option<View>, Option<View>);

/// What a gateway firewall sees of a flow NAT translated, per the rule's
/// `firewall-match`: the header it judges and the other side, which its
/// state covers too. `internal` judges the private side.
fn fw_sides(fm: FirewallMatch, private: View, public: View) -> (Option<View>, Option<View>) {
    match fm {
        FirewallMatch::Internal => (Some(private), Some(public)),
        FirewallMatch::External => (Some(public), Some(private)),
        FirewallMatch::Bypass => (None, None),
    }
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
