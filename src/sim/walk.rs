//! The walker: one packet, one direction, node after node.
//!
//! A walk is a loop over [`At`], the node the packet is at. Each node's
//! pipeline (in this file for hosts, the internet and connections; in `vpc`,
//! `sddc` and `edge` for the rest) records its decisions as [`Hop`]s and
//! returns a [`Step`]: the next node, a delivery, or a drop.
//!
//! Sessions: the forward walk records what each stateful element saw and
//! what each NAT point rewrote; the reply walk consults that record, so a
//! stateful element admits the reply only if the forward packet passed it,
//! and NAT is undone only where it was done.

use super::acl_index::AclIndexes;
use super::matching::{self, InternetOwner, Sender, VpcPublic};
use super::{
    Direction, Failure, FlowResult, Hop, Outcome, Packet, Party, Stage, Start, Trace, MAX_NODES,
};
use crate::model::{
    ConnectionId, EndpointId, FirewallId, GatewayId, HostId, HostKind, Model, NlbId, SiteId,
    SubnetId, SubnetKind,
};
use crate::span::Span;
use crate::syntax::ast::{ConnKind, FirewallMatch, SiteKind};
use std::net::IpAddr;

/// Where a packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum At {
    /// A party puts the packet on the wire.
    Send(Party),
    /// The packet arrives at a party's interface.
    Arrive(Party),
    VpcRouter {
        vpc: SiteId,
        from: VpcFrom,
    },
    Igw {
        gw: GatewayId,
        inbound: bool,
    },
    /// Leaving a VPC by an egress-only internet gateway.
    EigwOut(GatewayId),
    /// Entering a VPC from the internet by an egress-only internet gateway.
    EigwIn(GatewayId),
    NatGateway(GatewayId),
    /// A reply to a NAT gateway's own address.
    NatGatewayReturn(GatewayId),
    /// A NAT instance forwarding a packet not addressed to it.
    NatInstance(HostId),
    EndpointIn(EndpointId),
    /// A reply leaving an interface endpoint, back towards the client.
    EndpointOut(EndpointId),
    /// A network load balancer; `via` is the interface endpoint a
    /// PrivateLink packet came by.
    Nlb {
        nlb: NlbId,
        via: Option<EndpointId>,
    },
    /// The SDDC's ENIs, from the SDDC into its connected VPC.
    EniToVpc(SiteId),
    /// The SDDC's ENIs, from the connected VPC into the SDDC.
    EniToSddc(SiteId),
    CgwFromSegment {
        sddc: SiteId,
        segment: SubnetId,
    },
    CgwFromLink {
        sddc: SiteId,
        link: Link,
    },
    CgwOut {
        sddc: SiteId,
        link: Link,
    },
    Onprem {
        site: SiteId,
        from: EdgeFrom,
    },
    VnetRouter {
        site: SiteId,
        from_gateway: bool,
    },
    VnetGatewayOut(GatewayId),
    VnetGatewayIn {
        gw: GatewayId,
        from: Option<ConnectionId>,
    },
    /// A transit gateway, with the attachment the packet came in by.
    Tgw(ConnectionId, crate::model::Entity),
    Internet,
}

/// How a packet entered a VPC router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VpcFrom {
    Subnet(SubnetId),
    /// From a transit gateway, routed by this attachment subnet's table.
    Transit(SubnetId, ConnectionId),
    Gateway(Entry),
}

/// The gateway a packet came in by, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Entry {
    Igw(GatewayId),
    Eigw(GatewayId),
    Eni(SiteId),
    Connection(ConnectionId),
    Nlb(NlbId),
    /// A gateway endpoint, bringing an AWS service's reply.
    GatewayEndpoint(GatewayId),
}

/// An uplink of a compute gateway, or a link of an on-prem edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Link {
    Internet,
    Vpc,
    Dx(ConnectionId),
    Vpn(ConnectionId),
    Tgw(ConnectionId),
}

/// How a packet reached an on-prem edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EdgeFrom {
    Segment,
    /// From a VM on an SDDC segment extended here by this L2VPN.
    L2vpn(ConnectionId),
    Link(Link),
}

/// An interface with security groups, for sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Iface {
    Host(HostId),
    Virtual(SubnetId, IpAddr),
    Endpoint(EndpointId),
    /// The SDDC's ENIs in its connected VPC.
    Eni(SiteId),
}

/// A stateful filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum StateKey {
    Sg(Iface),
    Firewall(FirewallId),
    /// An SDDC's management gateway firewall.
    Mgw(SiteId),
    /// An egress-only internet gateway's flows.
    Eigw(GatewayId),
}

/// A place where addresses are translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum NatPoint {
    Cgw(SiteId, Link),
    Igw(GatewayId),
    NatGateway(GatewayId),
    NatInstance(HostId),
    Nlb(NlbId),
    Onprem(SiteId),
    Vnet(GatewayId),
}

#[derive(Clone, Debug)]
pub(super) struct NatSession {
    pub point: NatPoint,
    pub before: Packet,
    pub after: Packet,
    /// What translated, for messages: "DNAT `web-in`".
    pub what: String,
    pub span: Option<Span>,
    /// The firewall-match of the NSX rule, so the reply sees the firewall
    /// the same way.
    pub firewall_match: FirewallMatch,
    /// The node that translated, for messages.
    pub node: String,
    /// For an NLB: the interface endpoint the request came by, which the
    /// reply returns through.
    pub via: Option<EndpointId>,
}

/// What a forward walk leaves behind for its reply.
#[derive(Clone, Debug, Default)]
pub(super) struct Sessions {
    pub filters: Vec<(StateKey, Packet)>,
    pub nats: Vec<NatSession>,
}

/// Why and where a packet stopped.
#[derive(Clone, Debug)]
pub(super) struct Drop {
    pub stage: Stage,
    pub reason: String,
    pub span: Option<Span>,
    pub help: String,
    /// `false` when what happens next depends on something a design cannot
    /// state: the packet stops here, and the flow is not decided.
    pub decided: bool,
}

impl Drop {
    /// The stage of the pipeline that dropped the packet.
    pub fn at(mut self, stage: Stage) -> Drop {
        self.stage = stage;
        self
    }

    /// The packet's fate depends on something a design cannot state.
    pub fn undecided(mut self) -> Drop {
        self.decided = false;
        self
    }
}

pub(super) fn drop(reason: impl Into<String>, span: Option<Span>, help: impl Into<String>) -> Drop {
    Drop {
        stage: Stage::Forward,
        reason: reason.into(),
        span,
        help: help.into(),
        decided: true,
    }
}

pub(super) enum Step {
    Next(At, Packet),
    Deliver(Party, Packet),
    Drop(Drop),
}

impl From<Drop> for Step {
    fn from(d: Drop) -> Step {
        Step::Drop(d)
    }
}

/// Turns a `Result<T, Drop>` into `T` or returns the drop as the step.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(d) => return Step::Drop(d),
        }
    };
}
pub(super) use tri;

pub(super) struct Walker<'m> {
    pub m: &'m Model,
    /// The network ACLs' first-match indexes, shared by the walks of one
    /// oracle.
    pub acls: &'m AclIndexes,
    pub hops: Vec<Hop>,
    /// The node being processed, for hops.
    pub node: String,
    pub node_span: Option<Span>,
    visits: Vec<String>,
    /// What this walk passed (for a forward walk: the reply's sessions).
    pub sessions: Sessions,
    /// The forward walk's sessions, when this walk is a reply.
    pub forward: Option<&'m Sessions>,
    /// Indices of forward NAT sessions this reply has undone.
    pub undone: Vec<usize>,
    /// The interface that sent the packet, for `sg NAME` sources.
    pub sender: Option<Sender>,
    /// The unnamed party a reply may be delivered to (the forward's source).
    pub accept_virtual: Option<Party>,
}

impl<'m> Walker<'m> {
    fn new(m: &'m Model, acls: &'m AclIndexes, forward: Option<&'m Sessions>) -> Walker<'m> {
        Walker {
            m,
            acls,
            hops: Vec::new(),
            node: String::new(),
            node_span: None,
            visits: Vec::new(),
            sessions: Sessions::default(),
            forward,
            undone: Vec::new(),
            sender: None,
            accept_virtual: None,
        }
    }

    pub fn replying(&self) -> bool {
        self.forward.is_some()
    }

    /// Records a decision at the current node.
    pub fn hop(&mut self, stage: Stage, decision: impl Into<String>, span: Option<Span>) {
        self.hops.push(Hop {
            node: self.node.clone(),
            stage,
            decision: decision.into(),
            rewrite: None,
            span,
            dropped: false,
        });
    }

    /// Records a rewrite at the current node.
    pub fn rewrite(
        &mut self,
        stage: Stage,
        decision: impl Into<String>,
        before: Packet,
        after: Packet,
        span: Option<Span>,
    ) {
        self.hops.push(Hop {
            node: self.node.clone(),
            stage,
            decision: decision.into(),
            rewrite: Some((before, after)),
            span,
            dropped: false,
        });
    }

    /// Records that a stateful filter passed `p`.
    pub fn remember(&mut self, key: StateKey, p: Packet) {
        self.sessions.filters.push((key, p));
    }

    /// Whether `p` is the reply of something the forward packet passed at
    /// filter `key`.
    pub fn admitted_reply(&self, key: StateKey, p: &Packet) -> bool {
        self.forward.is_some_and(|f| {
            f.filters
                .iter()
                .any(|(k, seen)| *k == key && seen.reply() == *p)
        })
    }

    /// Records a translation at a NAT point.
    pub fn record_nat(&mut self, s: NatSession) {
        self.sessions.nats.push(s);
    }

    /// If `p` is the reply of a translation the forward packet got at
    /// `point`, undoes it: returns the restored header and the session.
    pub fn undo_nat(&mut self, point: NatPoint, p: &Packet) -> Option<(Packet, NatSession)> {
        let f = self.forward?;
        let (i, s) = f
            .nats
            .iter()
            .enumerate()
            .find(|(_, s)| s.point == point && s.after.reply() == *p)?;
        self.undone.push(i);
        Some((s.before.reply(), s.clone()))
    }

    /// Records the undoing of a translation, as a NAT hop.
    pub fn undo_hop(&mut self, s: &NatSession, before: Packet, after: Packet) {
        let stage = match s.point {
            NatPoint::Nlb(_) => Stage::LoadBalancer,
            _ => Stage::Nat,
        };
        self.rewrite(
            stage,
            format!("reply of {}: translated back", s.what),
            before,
            after,
            s.span,
        );
    }

    /// A human name for the node, and the span of the element it is.
    fn describe(&self, at: &At) -> (String, Option<Span>) {
        let m = self.m;
        let site = |s: SiteId| {
            m.sites.get(s.index()).map_or_else(
                || ("?".to_string(), None),
                |s| {
                    (
                        format!("{} {}", s.kind.keyword(), s.decl.name),
                        Some(s.header_span),
                    )
                },
            )
        };
        match *at {
            At::Send(p) | At::Arrive(p) => self.party_node(p),
            At::VpcRouter { vpc, .. } => {
                let (s, span) = site(vpc);
                (format!("{s} / router"), span)
            }
            At::Igw { gw, .. } => self.gateway_node(gw, "internet gateway"),
            At::EigwOut(gw) | At::EigwIn(gw) => {
                self.gateway_node(gw, "egress-only internet gateway")
            }
            At::NatGateway(gw) | At::NatGatewayReturn(gw) => self.gateway_node(gw, "NAT gateway"),
            At::NatInstance(h) => {
                let (name, span) = self.party_node(Party::Host(h));
                (format!("{name} (NAT instance)"), span)
            }
            At::EndpointIn(e) | At::EndpointOut(e) => match m.endpoints.get(e.index()) {
                Some(ep) => (
                    format!("{} / endpoint {}", site(ep.site).0, ep.decl.name),
                    Some(ep.decl.span),
                ),
                None => ("endpoint ?".into(), None),
            },
            At::Nlb { nlb: n, .. } => match m.nlbs.get(n.index()) {
                Some(nlb) => (
                    format!("{} / nlb {}", site(nlb.site).0, nlb.decl.name),
                    Some(nlb.decl.span),
                ),
                None => ("nlb ?".into(), None),
            },
            At::EniToVpc(sddc) | At::EniToSddc(sddc) => {
                let vpc = m
                    .sites
                    .get(sddc.index())
                    .and_then(|s| s.connected_vpc)
                    .map(|c| c.vpc);
                let span = m
                    .sites
                    .get(sddc.index())
                    .and_then(|s| s.connected_vpc)
                    .map(|c| c.span);
                let vpc_name = vpc.map_or_else(|| "connected vpc".into(), |v| site(v).0);
                (format!("{vpc_name} / ENIs of {}", site(sddc).0), span)
            }
            At::CgwFromSegment { sddc, segment } => {
                let seg = m
                    .subnets
                    .get(segment.index())
                    .map_or("?", |s| s.decl.name.as_str());
                let (s, span) = site(sddc);
                (format!("{s} / cgw (segment {seg})"), span)
            }
            At::CgwFromLink { sddc, link } | At::CgwOut { sddc, link } => {
                let (s, span) = site(sddc);
                (format!("{s} / cgw (uplink {})", self.link_name(link)), span)
            }
            At::Onprem { site: s, .. } => {
                let (s, span) = site(s);
                (format!("{s} / edge"), span)
            }
            At::VnetRouter { site: s, .. } => {
                let (s, span) = site(s);
                (format!("{s} / router"), span)
            }
            At::VnetGatewayOut(gw) | At::VnetGatewayIn { gw, .. } => {
                self.gateway_node(gw, "gateway")
            }
            At::Tgw(c, _) => match m.connections.get(c.index()) {
                Some(conn) => (
                    format!("transit-gateway {}", conn.decl.name),
                    Some(conn.decl.span),
                ),
                None => ("transit-gateway ?".into(), None),
            },
            At::Internet => ("internet".into(), None),
        }
    }

    fn gateway_node(&self, gw: GatewayId, noun: &str) -> (String, Option<Span>) {
        match self.m.gateways.get(gw.index()) {
            Some(g) => {
                let site = self
                    .m
                    .sites
                    .get(g.site.index())
                    .map_or_else(String::new, |s| {
                        format!("{} {} / ", s.kind.keyword(), s.decl.name)
                    });
                (format!("{site}{noun} {}", g.decl.name), Some(g.decl.span))
            }
            None => (format!("{noun} ?"), None),
        }
    }

    fn party_node(&self, p: Party) -> (String, Option<Span>) {
        let m = self.m;
        match p {
            Party::Host(h) => match m.hosts.get(h.index()) {
                Some(host) => {
                    let kind = match host.kind {
                        HostKind::Vm => "vm",
                        HostKind::Instance => "instance",
                        HostKind::OnpremHost | HostKind::InternetHost => "host",
                        HostKind::Appliance(_) => "appliance",
                    };
                    let site = m.sites.get(host.site.index());
                    let prefix = match site {
                        Some(s) if s.kind == SiteKind::Internet => "internet".to_string(),
                        Some(s) => format!("{} {}", s.kind.keyword(), s.decl.name),
                        None => "?".into(),
                    };
                    (
                        format!("{prefix} / {kind} {}", host.decl.name),
                        Some(host.decl.span),
                    )
                }
                None => ("host ?".into(), None),
            },
            Party::Virtual { addr, subnet } => match m.subnets.get(subnet.index()) {
                Some(s) => {
                    let site = m.sites.get(s.site.index()).map_or_else(String::new, |x| {
                        format!("{} {} / ", x.kind.keyword(), x.decl.name)
                    });
                    (
                        format!("{site}{addr} (in {})", s.decl.name),
                        Some(s.decl.span),
                    )
                }
                None => (addr.to_string(), None),
            },
            Party::Internet(addr) => (format!("internet / {addr}"), None),
            Party::Service { addr, gateway } => (
                format!("aws service / {addr}"),
                m.gateways.get(gateway.index()).map(|g| g.decl.span),
            ),
        }
    }

    pub fn link_name(&self, link: Link) -> String {
        let conn = |c: ConnectionId| {
            self.m
                .connections
                .get(c.index())
                .map_or("?", |c| c.decl.name.as_str())
                .to_string()
        };
        match link {
            Link::Internet => "internet".into(),
            Link::Vpc => "vpc".into(),
            Link::Dx(c) => format!("direct-connect {}", conn(c)),
            Link::Vpn(c) => format!("vpn {}", conn(c)),
            Link::Tgw(c) => format!("transit-gateway {}", conn(c)),
        }
    }

    /// `site.name` of a site, for messages.
    pub fn site_name(&self, s: SiteId) -> String {
        self.m.sites.get(s.index()).map_or_else(
            || "?".into(),
            |s| format!("{} `{}`", s.kind.keyword(), s.decl.name),
        )
    }

    pub fn conn_name(&self, c: ConnectionId) -> String {
        self.m.connections.get(c.index()).map_or_else(
            || "?".into(),
            |c| format!("{} `{}`", c.kind.keyword(), c.decl.name),
        )
    }

    /// Walks a packet from `at` until it is delivered or dropped.
    fn run(&mut self, mut at: At, mut p: Packet) -> Outcome {
        loop {
            let (name, span) = self.describe(&at);
            if self.visits.len() >= MAX_NODES {
                return self.loop_drop(name, span);
            }
            self.visits.push(name.clone());
            self.node = name;
            self.node_span = span;
            let step = self.step(at, p);
            match step {
                Step::Next(next, q) => {
                    at = next;
                    p = q;
                }
                Step::Deliver(party, header) => {
                    let who = party.describe(self.m);
                    self.hop(Stage::Delivery, format!("delivered to {who}"), span);
                    return Outcome::Delivered { party, header };
                }
                Step::Drop(d) => {
                    self.hops.push(Hop {
                        node: self.node.clone(),
                        stage: d.stage,
                        decision: d.reason.clone(),
                        rewrite: None,
                        span: d.span,
                        dropped: true,
                    });
                    return Outcome::Dropped {
                        reason: d.reason,
                        span: d.span,
                        help: d.help,
                        decided: d.decided,
                    };
                }
            }
        }
    }

    fn loop_drop(&mut self, name: String, span: Option<Span>) -> Outcome {
        // The first node visited a second time names the loop.
        let mut seen = std::collections::HashSet::new();
        let first_twice = self
            .visits
            .iter()
            .find(|v| !seen.insert(v.as_str()))
            .cloned()
            .unwrap_or(name);
        let reason = format!(
            "the packet is still moving after {MAX_NODES} nodes: it loops through {first_twice}"
        );
        self.node = first_twice;
        self.hops.push(Hop {
            node: self.node.clone(),
            stage: Stage::Loop,
            decision: reason.clone(),
            rewrite: None,
            span,
            dropped: true,
        });
        Outcome::Dropped {
            reason,
            span,
            help: "check the routes at the nodes above: each sends the packet to the next and \
                   none delivers it"
                .into(),
            decided: true,
        }
    }

    fn step(&mut self, at: At, p: Packet) -> Step {
        match at {
            At::Send(party) => self.send(party, p),
            At::Arrive(party) => self.arrive(party, p),
            At::VpcRouter { vpc, from } => self.vpc_router(vpc, from, p),
            At::Igw { gw, inbound } => {
                if inbound {
                    self.igw_in(gw, p)
                } else {
                    self.igw_out(gw, p)
                }
            }
            At::EigwOut(gw) => self.eigw_out(gw, p),
            At::EigwIn(gw) => self.eigw_in(gw, p),
            At::NatGateway(gw) => self.nat_gateway(gw, p),
            At::NatGatewayReturn(gw) => self.nat_gateway_return(gw, p),
            At::NatInstance(h) => self.nat_instance(h, p),
            At::EndpointIn(e) => self.endpoint_in(e, p),
            At::EndpointOut(e) => self.endpoint_out(e, p),
            At::Nlb { nlb, via } => self.nlb(nlb, via, p),
            At::EniToVpc(s) => self.eni_to_vpc(s, p),
            At::EniToSddc(s) => self.eni_to_sddc(s, p),
            At::CgwFromSegment { sddc, .. } => self.cgw_route(sddc, p),
            At::CgwFromLink { sddc, link } => self.cgw_from_link(sddc, link, p),
            At::CgwOut { sddc, link } => self.cgw_out(sddc, link, p),
            At::Onprem { site, from } => self.onprem(site, from, p),
            At::VnetRouter { site, from_gateway } => self.vnet_router(site, from_gateway, p),
            At::VnetGatewayOut(gw) => self.vnet_gateway_out(gw, p),
            At::VnetGatewayIn { gw, from } => self.vnet_gateway_in(gw, from, p),
            At::Tgw(c, from) => self.tgw(c, from, p),
            At::Internet => self.internet(p),
        }
    }

    // ------------------------------------------------------------ hosts

    fn send(&mut self, party: Party, p: Packet) -> Step {
        let m = self.m;
        match party {
            Party::Host(h) => {
                let Some(host) = m.hosts.get(h.index()) else {
                    return drop("the sending host does not exist", None, "").into();
                };
                self.hop(
                    Stage::Send,
                    format!("{} sends {p}", host.decl.name),
                    Some(host.decl.span),
                );
                match host.kind {
                    HostKind::InternetHost => Step::Next(At::Internet, p),
                    HostKind::Appliance(_) => self.appliance_send(h, p),
                    _ => {
                        let Some(subnet) = host.subnet else {
                            return drop(
                                format!(
                                    "`{}` is on no known subnet, so it cannot send",
                                    host.decl.name
                                ),
                                Some(host.decl.span),
                                "fix the host's `in` clause so that it names a subnet or \
                                 segment of its site",
                            )
                            .into();
                        };
                        if host.kind == HostKind::Instance {
                            let sgs: Vec<_> = host.sgs.iter().map(|s| s.value).collect();
                            tri!(self.security_groups(Iface::Host(h), &sgs, false, &p, None));
                            self.sender = Some(Sender { addr: p.src, sgs });
                            if let Some(step) = self.nlb_return(subnet, p) {
                                return step;
                            }
                        }
                        self.leave_subnet(subnet, p)
                    }
                }
            }
            Party::Virtual { addr, subnet } => {
                let Some(sub) = m.subnets.get(subnet.index()) else {
                    return drop("the sending subnet does not exist", None, "").into();
                };
                self.hop(
                    Stage::Send,
                    format!(
                        "{addr} sends {p} (an unnamed interface on {})",
                        sub.decl.name
                    ),
                    Some(sub.decl.span),
                );
                if sub.kind == SubnetKind::VpcSubnet {
                    let sgs: Vec<_> = m
                        .sites
                        .get(sub.site.index())
                        .and_then(|s| s.default_sg)
                        .into_iter()
                        .collect();
                    tri!(self.security_groups(Iface::Virtual(subnet, addr), &sgs, false, &p, None));
                    self.sender = Some(Sender { addr: p.src, sgs });
                    if let Some(step) = self.nlb_return(subnet, p) {
                        return step;
                    }
                }
                self.leave_subnet(subnet, p)
            }
            Party::Internet(addr) => {
                self.hop(
                    Stage::Send,
                    format!("{addr} (a host on the internet) sends {p}"),
                    None,
                );
                Step::Next(At::Internet, p)
            }
            // Only replies start here: a service answers through the
            // gateway endpoint its request came by, into that endpoint's VPC.
            Party::Service { gateway, .. } => {
                let Some(gw) = m.gateways.get(gateway.index()) else {
                    return drop("the gateway endpoint does not exist", None, "").into();
                };
                self.hop(
                    Stage::Send,
                    format!(
                        "{} answers {p} through gateway endpoint `{}`",
                        party.describe(m),
                        gw.decl.name
                    ),
                    Some(gw.decl.span),
                );
                Step::Next(
                    At::VpcRouter {
                        vpc: gw.site,
                        from: VpcFrom::Gateway(Entry::GatewayEndpoint(gateway)),
                    },
                    p,
                )
            }
        }
    }

    /// The first hop off a subnet: the subnet's router or gateway.
    fn leave_subnet(&mut self, subnet: SubnetId, p: Packet) -> Step {
        let m = self.m;
        let Some(sub) = m.subnets.get(subnet.index()) else {
            return drop("the subnet does not exist", None, "").into();
        };
        match sub.kind {
            SubnetKind::VpcSubnet => Step::Next(
                At::VpcRouter {
                    vpc: sub.site,
                    from: VpcFrom::Subnet(subnet),
                },
                p,
            ),
            SubnetKind::NsxSegment => match sub.extended_by {
                Some(c) => {
                    let onprem = m.connections.get(c.index()).and_then(|conn| {
                        conn.ends.iter().map(|e| e.value).find(|s| {
                            m.sites
                                .get(s.index())
                                .is_some_and(|x| x.kind == SiteKind::Onprem)
                        })
                    });
                    match onprem {
                        Some(site) => {
                            self.hop(
                                Stage::Forward,
                                format!(
                                    "segment `{}` is extended by {}: its default gateway is the \
                                     on-prem edge of {}",
                                    sub.decl.name,
                                    self.conn_name(c),
                                    self.site_name(site)
                                ),
                                m.connections.get(c.index()).map(|c| c.decl.span),
                            );
                            Step::Next(
                                At::Onprem {
                                    site,
                                    from: EdgeFrom::L2vpn(c),
                                },
                                p,
                            )
                        }
                        None => drop(
                            format!(
                                "segment `{}` is extended by {}, which has no on-prem end",
                                sub.decl.name,
                                self.conn_name(c)
                            ),
                            m.connections.get(c.index()).map(|c| c.decl.span),
                            "fix the l2vpn's ends: `l2vpn NAME SDDC <-> ONPREM`",
                        )
                        .into(),
                    }
                }
                None => Step::Next(
                    At::CgwFromSegment {
                        sddc: sub.site,
                        segment: subnet,
                    },
                    p,
                ),
            },
            SubnetKind::OnpremSegment => Step::Next(
                At::Onprem {
                    site: sub.site,
                    from: EdgeFrom::Segment,
                },
                p,
            ),
            SubnetKind::VnetSubnet => Step::Next(
                At::VnetRouter {
                    site: sub.site,
                    from_gateway: false,
                },
                p,
            ),
        }
    }

    fn arrive(&mut self, party: Party, p: Packet) -> Step {
        let m = self.m;
        match party {
            Party::Host(h) => {
                let Some(host) = m.hosts.get(h.index()) else {
                    return drop("the host does not exist", None, "").into();
                };
                if host.kind == HostKind::Instance {
                    let sgs: Vec<_> = host.sgs.iter().map(|s| s.value).collect();
                    let sender = self.sender.clone();
                    tri!(self.security_groups(Iface::Host(h), &sgs, true, &p, sender.as_ref()));
                    // A reply to a NAT instance's own address, for a flow it
                    // masqueraded, goes on to the client behind it.
                    if let Some((q, s)) = self.undo_nat(NatPoint::NatInstance(h), &p) {
                        self.undo_hop(&s, p, q);
                        tri!(self.security_groups(Iface::Host(h), &sgs, false, &q, None));
                        self.sender = None;
                        let Some(subnet) = host.subnet else {
                            return drop("the NAT instance is on no subnet", None, "").into();
                        };
                        return Step::Next(
                            At::VpcRouter {
                                vpc: host.site,
                                from: VpcFrom::Subnet(subnet),
                            },
                            q,
                        );
                    }
                }
                Step::Deliver(party, p)
            }
            Party::Virtual { addr, subnet } => {
                if self.accept_virtual != Some(party) {
                    let name = m
                        .subnets
                        .get(subnet.index())
                        .map_or("?", |s| s.decl.name.as_str());
                    return drop(
                        format!("no interface has address {addr} in `{name}`"),
                        m.subnets.get(subnet.index()).map(|s| s.decl.span),
                        format!("declare the host that has {addr}, or send to one that exists"),
                    )
                    .into();
                }
                let sub = m.subnets.get(subnet.index());
                if sub.is_some_and(|s| s.kind == SubnetKind::VpcSubnet) {
                    let sgs: Vec<_> = sub
                        .and_then(|s| m.sites.get(s.site.index()))
                        .and_then(|s| s.default_sg)
                        .into_iter()
                        .collect();
                    let sender = self.sender.clone();
                    tri!(self.security_groups(
                        Iface::Virtual(subnet, addr),
                        &sgs,
                        true,
                        &p,
                        sender.as_ref()
                    ));
                }
                Step::Deliver(party, p)
            }
            Party::Internet(_) | Party::Service { .. } => Step::Deliver(party, p),
        }
    }

    /// Delivers to the host with `dst` on `subnet`, or to the reply's unnamed
    /// source there, or drops.
    pub fn deliver_on(&mut self, subnet: SubnetId, p: Packet) -> Step {
        let m = self.m;
        if let Some(h) = matching::host_on(m, subnet, p.dst) {
            return Step::Next(At::Arrive(Party::Host(h)), p);
        }
        let virt = Party::Virtual {
            addr: p.dst,
            subnet,
        };
        if self.accept_virtual == Some(virt) {
            return Step::Next(At::Arrive(virt), p);
        }
        let sub = m.subnets.get(subnet.index());
        let name = sub.map_or("?", |s| s.decl.name.as_str());
        drop(
            format!("no interface has address {} in `{name}`", p.dst),
            sub.map(|s| s.decl.span),
            format!(
                "declare the host that has {}, or send to an address that exists",
                p.dst
            ),
        )
        .into()
    }

    // ------------------------------------------------------------ internet

    fn internet(&mut self, p: Packet) -> Step {
        let m = self.m;
        match matching::internet_owner(m, p.dst) {
            InternetOwner::Host(h) => {
                let span = m.hosts.get(h.index()).map(|h| h.decl.span);
                self.hop(
                    Stage::Route,
                    format!("{} is internet host `{}`", p.dst, name_of_host(m, h)),
                    span,
                );
                Step::Next(At::Arrive(Party::Host(h)), p)
            }
            InternetOwner::Sddc(site, span) => {
                self.hop(
                    Stage::Route,
                    format!(
                        "{} is a public address of {}: to its compute gateway's internet uplink",
                        p.dst,
                        self.site_name(site)
                    ),
                    span,
                );
                Step::Next(
                    At::CgwFromLink {
                        sddc: site,
                        link: Link::Internet,
                    },
                    p,
                )
            }
            InternetOwner::Vpc(site, public) => {
                let span = match public {
                    VpcPublic::Instance(_, s) | VpcPublic::NatGateway(_, s) => Some(s),
                    VpcPublic::Unassociated(i) => m.public_ips.get(i.index()).map(|x| x.decl.span),
                };
                if let VpcPublic::Instance(..) = public {
                    if let Some(gw) = self.eigw_for(site, &p) {
                        self.hop(
                            Stage::Route,
                            format!(
                                "{} is a global IPv6 address of {}: to its egress-only internet gateway",
                                p.dst,
                                self.site_name(site)
                            ),
                            span,
                        );
                        return Step::Next(At::EigwIn(gw), p);
                    }
                }
                let igw = m.sites.get(site.index()).and_then(|s| {
                    s.gateways.iter().copied().find(|g| {
                        m.gateways
                            .get(g.index())
                            .is_some_and(|g| g.kind == crate::model::GatewayKind::InternetGateway)
                    })
                });
                let Some(gw) = igw else {
                    return drop(
                        format!(
                            "{} is a public address of {}, which has no internet gateway",
                            p.dst,
                            self.site_name(site)
                        ),
                        span,
                        "add `internet-gateway NAME` to the vpc and route to it",
                    )
                    .into();
                };
                self.hop(
                    Stage::Route,
                    format!(
                        "{} is a public address of {}: to its internet gateway",
                        p.dst,
                        self.site_name(site)
                    ),
                    span,
                );
                Step::Next(At::Igw { gw, inbound: true }, p)
            }
            InternetOwner::Onprem(site, span) => {
                self.hop(
                    Stage::Route,
                    format!(
                        "{} is a public address of {}: to its edge",
                        p.dst,
                        self.site_name(site)
                    ),
                    span,
                );
                Step::Next(
                    At::Onprem {
                        site,
                        from: EdgeFrom::Link(Link::Internet),
                    },
                    p,
                )
            }
            InternetOwner::Vnet(gw) => {
                let span = m.gateways.get(gw.index()).map(|g| g.decl.span);
                self.hop(
                    Stage::Route,
                    format!("{} is behind a VM network gateway", p.dst),
                    span,
                );
                Step::Next(At::VnetGatewayIn { gw, from: None }, p)
            }
            InternetOwner::Nobody => {
                self.hop(
                    Stage::Route,
                    format!(
                        "{} belongs to no declared site: a host on the internet",
                        p.dst
                    ),
                    None,
                );
                Step::Deliver(Party::Internet(p.dst), p)
            }
            InternetOwner::Private(site) => drop(
                format!(
                    "no one on the internet owns {}: it is an address of {}, which the internet \
                     does not route there",
                    p.dst,
                    self.site_name(site)
                ),
                m.sites.get(site.index()).map(|s| s.header_span),
                if p.dst.is_ipv4() {
                    "reach it through a public address that is translated to it (a public IP and \
                     NAT rule), or over a connection"
                } else {
                    crate::model::IPV6_PRIVATE_HELP
                },
            )
            .at(Stage::Route)
            .into(),
        }
    }

    // ------------------------------------------------------------ connections

    /// The other end of a two-ended connection.
    pub fn other_end(&self, c: ConnectionId, here: SiteId) -> Option<SiteId> {
        let conn = self.m.connections.get(c.index())?;
        let [a, b] = conn.ends.as_slice() else {
            return None;
        };
        if a.value == here {
            Some(b.value)
        } else if b.value == here {
            Some(a.value)
        } else {
            None
        }
    }

    /// Enters `site`'s router over connection `c`.
    pub fn enter_over(&mut self, c: ConnectionId, site: SiteId, p: Packet) -> Step {
        let m = self.m;
        let Some(conn) = m.connections.get(c.index()) else {
            return drop("the connection does not exist", None, "").into();
        };
        let Some(s) = m.sites.get(site.index()) else {
            return drop("the connection's end does not exist", None, "").into();
        };
        self.hop(
            Stage::Forward,
            format!("over {} to {}", self.conn_name(c), self.site_name(site)),
            Some(conn.decl.span),
        );
        let link = match conn.kind {
            ConnKind::DirectConnect => Link::Dx(c),
            ConnKind::TransitGateway => Link::Tgw(c),
            _ => Link::Vpn(c),
        };
        match s.kind {
            SiteKind::Sddc => Step::Next(At::CgwFromLink { sddc: site, link }, p),
            SiteKind::Vpc => Step::Next(
                At::VpcRouter {
                    vpc: site,
                    from: VpcFrom::Gateway(Entry::Connection(c)),
                },
                p,
            ),
            SiteKind::Onprem => Step::Next(
                At::Onprem {
                    site,
                    from: EdgeFrom::Link(link),
                },
                p,
            ),
            SiteKind::VmNetwork => {
                let gw = s.gateways.iter().copied().find(|g| {
                    m.gateways
                        .get(g.index())
                        .is_some_and(|g| matches!(g.kind, crate::model::GatewayKind::Vnet { .. }))
                });
                match gw {
                    Some(gw) => Step::Next(At::VnetGatewayIn { gw, from: Some(c) }, p),
                    None => drop(
                        format!(
                            "{} has no gateway to end {}",
                            self.site_name(site),
                            self.conn_name(c)
                        ),
                        Some(s.header_span),
                        "add `gateway NAME mode s2s external-ip ADDRESS in SUBNET` to the VM \
                         network",
                    )
                    .into(),
                }
            }
            SiteKind::Internet => drop(
                "a connection cannot end on the internet",
                Some(conn.decl.span),
                "join two sites",
            )
            .into(),
        }
    }
}

fn name_of_host(m: &Model, h: HostId) -> String {
    m.hosts
        .get(h.index())
        .map_or_else(|| "?".into(), |h| h.decl.name.clone())
}

/// The party a start resolves to.
pub(super) fn start_party(m: &Model, start: Start) -> Result<Party, Drop> {
    match start {
        Start::Host(h) => match m.hosts.get(h.index()) {
            Some(_) => Ok(Party::Host(h)),
            None => Err(drop("no such host", None, "")),
        },
        Start::Address(addr) => {
            if let Some(i) = m.hosts.iter().position(|h| h.owns(addr)) {
                return Ok(Party::Host(HostId(i as u32)));
            }
            if let Some(e) = m.endpoints.iter().find(|e| e.addr.value == addr) {
                return Err(drop(
                    format!(
                        "{addr} is interface endpoint `{}`, which only receives traffic",
                        e.decl.name
                    ),
                    Some(e.decl.span),
                    "start the flow at a host",
                ));
            }
            // A NAT gateway or an NLB owns its address and only answers on
            // it.
            if let Some(what) = device_at(m, addr) {
                return Err(drop(
                    format!("{addr} is the address of {what}, which only answers"),
                    None,
                    "start the flow at a host",
                ));
            }
            // The most specific subnet of any site that contains it.
            let subnet = m
                .subnets
                .iter()
                .enumerate()
                .filter(|(_, s)| s.contains(addr))
                .max_by_key(|(i, s)| {
                    let len = s.prefix_of_family(addr).map_or(0, |p| p.value.prefix_len());
                    (len, std::cmp::Reverse(*i))
                })
                .map(|(i, _)| SubnetId(i as u32));
            if let Some(subnet) = subnet {
                return Ok(Party::Virtual { addr, subnet });
            }
            match matching::site_owning(m, addr) {
                Some(site) => {
                    let s = m.sites.get(site.index());
                    Err(drop(
                        format!(
                            "{addr} belongs to {} but to none of its subnets or hosts, so \
                             nothing sends from it",
                            s.map_or_else(
                                || "?".into(),
                                |s| format!("{} `{}`", s.kind.keyword(), s.decl.name)
                            )
                        ),
                        s.map(|s| s.header_span),
                        "start the flow at a host, or at an address of a subnet",
                    ))
                }
                None => Ok(Party::Internet(addr)),
            }
        }
    }
}

/// The device (a NAT gateway, an NLB) whose own address `addr` is, when no
/// declared host has it: a NAT gateway's is its private address, an NLB's
/// the last usable one of its first subnet ("Oracle decisions").
fn device_at(m: &Model, addr: IpAddr) -> Option<String> {
    let free = |subnet: SubnetId, own: Option<IpAddr>| {
        own == Some(addr) && matching::host_on(m, subnet, addr).is_none()
    };
    let gateway = (0..m.sites.len())
        .find_map(|s| matching::nat_gateway_at(m, SiteId(s as u32), addr))
        .and_then(|g| m.gateways.get(g.index()))
        .map(|g| format!("NAT gateway `{}`", g.decl.name));
    gateway.or_else(|| {
        m.nlbs.iter().find_map(|n| {
            let first = n.subnets.first()?.value;
            let net = m.subnets.get(first.index())?.prefix.value;
            free(first, matching::last_usable(net)).then(|| format!("nlb `{}`", n.decl.name))
        })
    })
}

fn trace_of(w: Walker<'_>, sent: Packet, outcome: Outcome) -> Trace {
    Trace {
        sent,
        hops: w.hops,
        outcome,
    }
}

pub(super) fn one_way(m: &Model, acls: &AclIndexes, start: Start, p: Packet) -> Trace {
    let mut w = Walker::new(m, acls, None);
    match start_party(m, start) {
        Ok(party) => {
            let outcome = w.run(At::Send(party), p);
            trace_of(w, p, outcome)
        }
        Err(d) => unstartable(p, d),
    }
}

fn unstartable(p: Packet, d: Drop) -> Trace {
    Trace {
        sent: p,
        hops: vec![Hop {
            node: p.src.to_string(),
            stage: Stage::Send,
            decision: d.reason.clone(),
            rewrite: None,
            span: d.span,
            dropped: true,
        }],
        outcome: Outcome::Dropped {
            reason: d.reason,
            span: d.span,
            help: d.help,
            decided: d.decided,
        },
    }
}

pub(super) fn flow(
    m: &Model,
    acls: &AclIndexes,
    start: Start,
    p: Packet,
    intended: Option<Party>,
) -> FlowResult {
    let source = match start_party(m, start) {
        Ok(party) => party,
        Err(d) => {
            let forward = unstartable(p, d.clone());
            return FlowResult {
                source: None,
                forward,
                reply: None,
                reaches: false,
                failure: Some(Failure {
                    direction: Direction::Forward,
                    reason: d.reason,
                    span: d.span,
                    help: d.help,
                    decided: d.decided,
                }),
            };
        }
    };
    let mut fw = Walker::new(m, acls, None);
    let outcome = fw.run(At::Send(source), p);
    let sessions = std::mem::take(&mut fw.sessions);
    let forward = trace_of(fw, p, outcome);
    let (party, header) = match forward.outcome.clone() {
        Outcome::Delivered { party, header } => (party, header),
        Outcome::Dropped {
            reason,
            span,
            help,
            decided,
        } => {
            return FlowResult {
                source: Some(source),
                forward,
                reply: None,
                reaches: false,
                failure: Some(Failure {
                    direction: Direction::Forward,
                    reason,
                    span,
                    help,
                    decided,
                }),
            };
        }
    };
    if let Some(want) = intended {
        if want != party {
            let reason = format!(
                "the packet is delivered to {}, not to {}",
                party.describe(m),
                want.describe(m)
            );
            let span = forward.hops.iter().rev().find_map(|h| h.span);
            return FlowResult {
                source: Some(source),
                forward,
                reply: None,
                reaches: false,
                failure: Some(Failure {
                    direction: Direction::Forward,
                    reason,
                    span,
                    help: "check the NAT rules and routes that choose where packets for this \
                           address go"
                        .into(),
                    decided: true,
                }),
            };
        }
    }
    let sent_back = header.reply();
    let mut rw = Walker::new(m, acls, Some(&sessions));
    rw.accept_virtual = match source {
        Party::Virtual { .. } => Some(source),
        _ => None,
    };
    let outcome = rw.run(At::Send(party), sent_back);
    let undone = std::mem::take(&mut rw.undone);
    let reply = trace_of(rw, sent_back, outcome);
    let (failure, reaches) = match &reply.outcome {
        Outcome::Dropped {
            reason,
            span,
            help,
            decided,
        } => (
            Some(Failure {
                direction: Direction::Reply,
                reason: reason.clone(),
                span: *span,
                help: help.clone(),
                decided: *decided,
            }),
            false,
        ),
        Outcome::Delivered {
            party: back,
            header: got,
        } => {
            let want = p.reply();
            if *back == source && *got == want {
                (None, true)
            } else {
                (
                    Some(mismatch(
                        m, &sessions, &undone, &reply, source, *back, *got, want,
                    )),
                    false,
                )
            }
        }
    };
    FlowResult {
        source: Some(source),
        forward,
        reply: Some(reply),
        reaches,
        failure,
    }
}

/// Why a reply that was delivered does not complete the flow.
#[allow(clippy::too_many_arguments)]
fn mismatch(
    m: &Model,
    sessions: &Sessions,
    undone: &[usize],
    reply: &Trace,
    source: Party,
    back: Party,
    got: Packet,
    want: Packet,
) -> Failure {
    // The translation the reply missed: a forward NAT it did not undo.
    let missed = sessions
        .nats
        .iter()
        .enumerate()
        .find(|(i, _)| !undone.contains(i))
        .map(|(_, s)| s);
    if back != source {
        return Failure {
            direction: Direction::Reply,
            reason: format!(
                "the reply is delivered to {}, not to {}, which sent the request",
                back.describe(m),
                source.describe(m)
            ),
            span: missed.and_then(|s| s.span),
            help: "make the reply's route lead back to the source".into(),
            decided: true,
        };
    }
    let who = source.describe(m);
    let (reason, help) = match missed {
        Some(s) => (
            format!(
                "the reply reaches {who} from {}, not from {}, the address it sent to: it does \
                 not return through {}, so {} is not undone (asymmetric NAT)",
                got.src, want.src, s.node, s.what
            ),
            {
                // Where the reply went another way: its route decision at
                // the site that translated the request.
                let site = s.node.split(" / ").next().unwrap_or_default();
                let turn = reply
                    .hops
                    .iter()
                    .find(|h| h.stage == Stage::Route && h.node.starts_with(site));
                match turn {
                    Some(h) => format!(
                        "the reply takes \"{}\" at {} instead; make it leave through {}, where \
                         the request was translated, or publish the service where its replies \
                         leave",
                        h.decision, h.node, s.node
                    ),
                    None => format!(
                        "make the reply leave through {}, where the request was translated, or \
                         publish the service where its replies leave",
                        s.node
                    ),
                }
            },
        ),
        None => (
            format!(
                "the reply reaches {who} as {got}, but {who} expects {want}, the reverse of what \
                 it sent"
            ),
            "make the reply return the way the request came".into(),
        ),
    };
    Failure {
        direction: Direction::Reply,
        reason,
        span: missed.and_then(|s| s.span),
        help,
        decided: true,
    }
}
