//! A VPC: a host leaving its subnet and arriving at its interface, with the
//! security groups of both (the union of an interface's groups, stateful by
//! that interface's marks; `sg NAME` sources by the sending interface), the
//! VPC router with its route table and targets, the network ACLs crossed
//! between subnets (stateless, first match by number), and local delivery to
//! the interfaces and devices that own an address (docs/forwarding.md,
//! "Hosts" and "VPC router"; "Oracle decisions": AWS).
//!
//! `leave_subnet` also hands SDDC segments, on-prem segments and VM-network
//! subnets to their own nodes, and `arrive` is every host's arrival: only
//! instances have groups to pass, other hosts are delivered. A route to a
//! transit gateway, VPN or Direct Connect continues in `tgw.rs`.

use super::{Branch, Dest, Filter, Leaf, Loc, Mark, NatPoint, Sender, Step, Walker};
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::{Device, Iface, SgSide};
use crate::model::{
    AclRule, ConnectionId, GatewayKind, HostId, HostKind, RouteTarget, SgId, SiteId, SubnetId,
    SubnetKind,
};
use crate::span::Span;
use crate::syntax::ast::{AclAction, ConnKind, SiteKind};

impl<'s, 'm> Walker<'s, 'm> {
    pub(super) fn leave_subnet(
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
    pub(super) fn sender_groups(&self, b: &Branch) -> Vec<SgId> {
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
    pub(super) fn sg_set(&self, sgs: &[SgId], inbound: bool, sender: &[SgId]) -> PacketSet {
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

    pub(super) fn arrive(&self, site: SiteId, iface: Iface, b: Branch) -> Vec<Step> {
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

    // ---------------------------------------------------------- VPC router

    pub(super) fn vpc_router(&self, vpc: SiteId, from: Option<SubnetId>, b: Branch) -> Vec<Step> {
        self.vpc_router_via(vpc, from, None, b)
    }

    /// The VPC router; `transit` is the transit gateway a packet came from
    /// when it is routed by its attachment subnet's route table.
    pub(super) fn vpc_router_via(
        &self,
        vpc: SiteId,
        from: Option<SubnetId>,
        transit: Option<ConnectionId>,
        b: Branch,
    ) -> Vec<Step> {
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
        // The routes' shares of the destinations are disjoint: one pass
        // over the boxes gives each its own.
        let targets: Vec<RouteTarget> = rt.routes.iter().map(|r| r.target).collect();
        let (firsts, parts) = self.by_next_hop(&targets, self.space.route_parts(table));
        let (shares, rest) = self.split_dsts(&b, &parts);
        let mut steps = Vec::new();
        for (&i, yes) in firsts.iter().zip(shares) {
            let route = &rt.routes[i];
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
            if let (Some(t), RouteTarget::Connection(c)) = (transit, route.target) {
                if c != t && m.connections[c.index()].kind != ConnKind::TransitGateway {
                    steps.push(Self::drop(
                        nb,
                        format!(
                            "vpc `{}` does not forward traffic from transit gateway `{}` to {} `{}`: AWS does not route edge to edge",
                            site.decl.name,
                            m.connections[t.index()].decl.name,
                            m.connections[c.index()].kind.keyword(),
                            m.connections[c.index()].decl.name
                        ),
                        route.span,
                        "attach the destination to the transit gateway, or route it from the transit gateway directly".into(),
                    ));
                    continue;
                }
            }
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
            RouteTarget::Gateway(g) => matches!(
                m.gateways[g.index()].kind,
                GatewayKind::InternetGateway
                    | GatewayKind::EgressOnlyInternetGateway
                    | GatewayKind::Endpoint { .. }
            ),
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
                GatewayKind::Endpoint { .. } if m.gateways[g.index()].site == vpc => {
                    self.gateway_endpoint(g, b)
                }
                GatewayKind::EgressOnlyInternetGateway if m.gateways[g.index()].site == vpc => {
                    vec![Step::Go(Loc::EigwOut(g), b)]
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
                    let own = AddrRanges::from_nets(host.addrs().map(|a| a.value.into()));
                    let (yes, no) = self.dst_in(&b, own);
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
                    _ => self.vpc_to_connection(vpc, from, c, span, b),
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
    pub(in crate::engine) fn cross_acls(
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
            let (allowed, denied) = self.acl_split(&cur, acl, inbound);
            let acl = &m.acls[acl.index()];
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

    /// First match over the numbered rules of ACL `acl` in one direction:
    /// the admitted packets, and the denied ones with the rule that denied
    /// them (`None`: the implicit final deny).
    fn acl_split(
        &self,
        b: &Branch,
        acl: crate::model::AclId,
        inbound: bool,
    ) -> (PacketSet, Vec<(Option<&'m AclRule>, PacketSet)>) {
        use crate::engine::view::View;
        let a = &self.m().acls[acl.index()];
        let rules = if inbound { &a.inbound } else { &a.outbound };
        let sets = self.space.acl_rule_sets(acl, inbound);
        // An untranslated branch (the common case) is split by the rules'
        // first match in one pass that looks only at the rules near it
        // (`split_first_match`): taking each rule's packets out of the rest
        // in turn cut the rest into a piece per scattered rule, and cost
        // the square of the rules (NP304 on a long ACL of single ports
        // towards single addresses). A reply that no translation touched
        // (its view swaps the fields back, nothing else) is split the same
        // way by the rules with their fields swapped: a packet's swapped
        // header is in a rule's set exactly when the packet is in the
        // swapped set.
        let judged = if b.view == View::IDENTITY {
            sets
        } else if b.view == View::IDENTITY.swapped() {
            self.space.acl_rule_sets_swapped(acl, inbound)
        } else {
            return self.acl_split_in_turn(b, rules, sets);
        };
        if rules.len() != judged.len() {
            return self.acl_split_in_turn(b, rules, sets);
        }
        let (decided, rest) = b.orig.split_first_match(judged);
        let mut allowed = Vec::new();
        let mut denied = Vec::new();
        for (i, region) in decided {
            let Some(r) = rules.get(i) else {
                continue;
            };
            match r.action {
                AclAction::Allow => allowed.push(region),
                AclAction::Deny => denied.push((Some(r), region)),
            }
        }
        if !rest.is_empty() {
            denied.push((None, rest));
        }
        (PacketSet::union_all(&allowed), denied)
    }

    /// [`Walker::acl_split`] for a translated branch: each rule's packets,
    /// judged through the branch's view, taken out of the rest in turn.
    fn acl_split_in_turn<'a>(
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
        // One pass over the boxes gives each subnet its share (a subnet
        // listed earlier takes an address first, as testing them in turn).
        let subnets = &m.site(vpc).subnets;
        let parts: Vec<AddrRanges> = subnets
            .iter()
            .map(|&sub| AddrRanges::from_nets(m.subnet(sub).prefixes().map(|p| p.value)))
            .collect();
        let (shares, rest) = self.split_dsts(&b, &parts);
        for (&sub, yes) in subnets.iter().zip(shares) {
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
        // Devices that have an address of their own in a subnet (a NAT
        // gateway's private address, the last usable address for an NLB,
        // "Oracle decisions"): a NAT gateway answers the replies of the
        // flows it masqueraded; an NLB answers its replies and forwards the
        // rest to its listeners.
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::space::Space;
    use crate::engine::view::View;

    const DESIGN: &str = "vpc v 10.40.0.0/16 {\n  subnet s 10.40.1.0/24 acl a\n  network-acl a {\n    inbound 100 deny tcp/22 from 10.40.1.7/32\n    inbound 110 allow tcp/1024-65535 from 0.0.0.0/0\n    inbound 120 deny udp/53 from 10.40.0.0/16\n    inbound 130 allow HTTPS from 10.40.1.0/25\n    outbound 100 deny tcp/5000 to 10.40.1.9/32\n    outbound 110 allow tcp/1024-65535 to 10.40.1.0/24\n    outbound 120 allow any to 192.0.2.0/24\n  }\n}\n";

    /// The one-pass split (by the rules, or by the rules with their fields
    /// swapped for an untranslated reply) decides every packet as taking
    /// each rule's packets out of the rest in turn did: the same packets
    /// allowed, the same rules denying the same packets, in order.
    #[test]
    fn one_pass_acl_split_is_the_rules_taken_in_turn() {
        let m = crate::model::lower(&crate::syntax::parse(DESIGN).tree).model;
        let space = Space::new(&m);
        let w = Walker::forward(&space);
        let net = |s: &str| AddrRanges::from_net(s.parse().expect("prefix"));
        let sets = [
            PacketSet::all(),
            PacketSet::all().with_dst(&net("10.40.1.0/24")),
            PacketSet::all().with_src(&net("10.40.1.0/24")),
            PacketSet::all()
                .with_src(&net("10.40.1.7/32"))
                .with_dport(20, 6000),
            PacketSet::all()
                .with_sport(22, 22)
                .with_dst(&net("10.40.1.9/32")),
        ];
        let mut decided = 0;
        for (i, acl) in m.acls.iter().enumerate() {
            let id = crate::model::AclId(i as u32);
            for (inbound, rules) in [(true, &acl.inbound), (false, &acl.outbound)] {
                let rule_sets = space.acl_rule_sets(id, inbound);
                for set in &sets {
                    for view in [View::IDENTITY, View::IDENTITY.swapped()] {
                        let mut b = Branch::new(set.clone());
                        b.view = view;
                        let (allowed, denied) = w.acl_split(&b, id, inbound);
                        let (want_allowed, want_denied) = w.acl_split_in_turn(&b, rules, rule_sets);
                        assert!(allowed.set_eq(&want_allowed), "allowed, {view:?}");
                        assert_eq!(denied.len(), want_denied.len(), "{view:?}");
                        for ((r, s), (wr, ws)) in denied.iter().zip(&want_denied) {
                            assert_eq!(r.map(|r| r.number), wr.map(|r| r.number));
                            assert!(s.set_eq(ws));
                        }
                        decided += denied.len();
                    }
                }
            }
        }
        assert!(decided > 10, "the design denies packets: {decided}");
    }
}
