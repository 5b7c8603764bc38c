//! The AWS internet edge and the internet itself: the internet gateway out
//! and in (one-to-one NAT of public and Elastic IPs; replies of NAT gateway
//! sessions), NAT gateways, public and private, and NAT instances, which
//! masquerade within one address family, and the internet node, which
//! delivers by who owns the destination address (docs/forwarding.md,
//! "Internet gateway", "NAT gateway and NAT instance" and "The internet";
//! "Oracle decisions": AWS).

use super::{Branch, Dest, Leaf, Loc, NatPoint, Step, Walker};
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::{Device, Iface, PublicOwner, ICMP, TCP, UDP};
use crate::engine::view::{AddrExpr, AddrField, HeaderPredicate};
use crate::model::{Entity, GatewayId, GatewayKind, HostId, SiteId, Uplink};
use crate::span::Span;
use crate::syntax::ast::{FirewallMatch, SiteKind};
use std::net::IpAddr;

/// The protocols a NAT gateway translates (AWS VPC User Guide, "NAT gateway
/// basics": TCP, UDP and ICMP).
const NAT_GATEWAY_PROTOCOLS: [u8; 3] = [TCP, UDP, ICMP];

/// Every IPv6 address.
fn ipv6_all() -> ipnet::IpNet {
    ipnet::IpNet::V6(ipnet::Ipv6Net::default())
}

impl<'s, 'm> Walker<'s, 'm> {
    // ----------------------------------------------------- AWS gateways

    pub(super) fn igw_out(&self, g: GatewayId, b: Branch) -> Vec<Step> {
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
            let v6 = self.space.global_v6_of(h);
            if let Some(v6) = v6 {
                // A global IPv6 address is its own public address: the
                // gateway passes it untranslated (docs/forwarding.md, "IPv6
                // at the internet gateway").
                let (yes, no) = self.src_in(&b.with(rest.clone()), AddrRanges::from_addr(v6));
                rest = no;
                if !yes.is_empty() {
                    steps.push(Step::Go(
                        Loc::Internet,
                        b.with(yes).hop(
                            &node,
                            format!("IPv6: src {v6} passes untranslated"),
                            host.addrs().find(|a| a.value == v6).map(|a| a.span),
                        ),
                    ));
                }
            }
            let Some(public) = self.space.public_of(h).filter(|&p| Some(p) != v6) else {
                continue;
            };
            // The address the public one maps to: the instance's address of
            // its family (a single address otherwise, as before dual-stack).
            let private = host.addr_of_family(public).unwrap_or(&host.addr).value;
            let (yes, no) = self.src_in(&b.with(rest.clone()), AddrRanges::from_addr(private));
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
                    format!("one-to-one NAT: src {private} -> {public}"),
                    self.public_span(h),
                ),
            ));
        }
        // A public NAT gateway's private address is mapped to its Elastic
        // IP, as an instance's is to its public address (AWS VPC User
        // Guide, "NAT gateways"). A private NAT gateway has no public
        // address: its traffic is dropped below.
        for (addr, device) in self.space.devices(gw.site) {
            let Device::NatGateway(n, _) = device else {
                continue;
            };
            let nat = &m.gateways[n.index()];
            let GatewayKind::NatGateway {
                elastic_ip: Some(eip),
                ..
            } = &nat.kind
            else {
                continue;
            };
            if rest.is_empty() {
                break;
            }
            let (yes, no) = self.src_in(&b.with(rest.clone()), AddrRanges::from_addr(addr));
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let mut nb = b.with(yes);
            let after = nb.view.with_src(AddrExpr::Const(eip.value));
            nb.translate(NatPoint::Igw(g), after, FirewallMatch::Internal);
            steps.push(Step::Go(
                Loc::Internet,
                nb.hop(
                    &node,
                    format!(
                        "one-to-one NAT: src {addr} -> {} (the Elastic IP of NAT gateway `{}`)",
                        eip.value, nat.decl.name
                    ),
                    Some(eip.span),
                ),
            ));
        }
        if !rest.is_empty() {
            // Elastic IPs and NAT gateways are IPv4 only: the advice for an
            // IPv6 source is a global address of an instance instead.
            let (v6, v4) = self.src_in(&b.with(rest), AddrRanges::from_nets([ipv6_all()]));
            if !v4.is_empty() {
                steps.push(Self::drop(b.with(v4), "the internet gateway does not masquerade: the source has no public address".into(), gw.decl.span, "give the instance an Elastic IP or public IP, or route its subnet's default route to a NAT gateway".into()));
            }
            if !v6.is_empty() {
                steps.push(Self::drop(b.with(v6), "the internet gateway does not translate IPv6: the source is not a global IPv6 address of an instance of the VPC".into(), gw.decl.span, crate::model::IPV6_SOURCE_HELP.into()));
            }
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

    pub(super) fn igw_in(&self, g: GatewayId, b: Branch) -> Vec<Step> {
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
            let v6 = self.space.global_v6_of(h);
            if let Some(v6) = v6 {
                let (yes, no) = self.dst_in(&b.with(rest.clone()), AddrRanges::from_addr(v6));
                rest = no;
                if !yes.is_empty() {
                    let mut nb = b.with(yes);
                    nb.sender = None;
                    steps.push(Step::Go(
                        Loc::VpcRouter(gw.site, None),
                        nb.hop(
                            &node,
                            format!("IPv6: dst {v6} passes untranslated"),
                            host.addrs().find(|a| a.value == v6).map(|a| a.span),
                        ),
                    ));
                }
            }
            let Some(public) = self.space.public_of(h).filter(|&p| Some(p) != v6) else {
                continue;
            };
            let (yes, no) = self.dst_in(&b.with(rest.clone()), AddrRanges::from_addr(public));
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let private = host.addr_of_family(public).unwrap_or(&host.addr).value;
            let mut nb = b.with(yes);
            let after = nb.view.with_dst(AddrExpr::Const(private));
            nb.translate(NatPoint::Igw(g), after, FirewallMatch::Internal);
            nb.sender = None;
            steps.push(Step::Go(
                Loc::VpcRouter(gw.site, None),
                nb.hop(
                    &node,
                    format!("one-to-one NAT: dst {public} -> {private}"),
                    self.public_span(h),
                ),
            ));
        }
        if !rest.is_empty() {
            // A NAT gateway's Elastic IP admits only the replies of its
            // flows, which the translation undone above took; so does
            // nothing else of the VPC's.
            let site = m.site(gw.site);
            let (v6, v4) = self.dst_in(&b.with(rest), AddrRanges::from_nets([ipv6_all()]));
            let reason = format!(
                "nothing in vpc `{}` answers to the destination address",
                site.decl.name
            );
            if !v4.is_empty() {
                steps.push(Self::drop(b.with(v4), reason.clone(), site.header_span, "a NAT gateway admits no unsolicited inbound traffic; publish with an Elastic IP on the instance".into()));
            }
            if !v6.is_empty() {
                steps.push(Self::drop(
                    b.with(v6),
                    reason,
                    site.header_span,
                    crate::model::IPV6_DEST_HELP.into(),
                ));
            }
        }
        steps
    }

    /// A NAT gateway, public or private, masquerades to its private
    /// address (a public one's is mapped to its Elastic IP by the internet
    /// gateway), TCP, UDP and ICMP only: it drops other protocols
    /// (docs/forwarding.md, "NAT gateway and NAT instance").
    pub(super) fn nat_gateway(&self, g: GatewayId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let gw = &m.gateways[g.index()];
        let GatewayKind::NatGateway { subnet, .. } = &gw.kind else {
            return vec![Self::drop(
                b,
                "not a NAT gateway".into(),
                gw.decl.span,
                String::new(),
            )];
        };
        let Some(to) = m.nat_gateway_addr(g) else {
            return vec![Self::drop(
                b,
                "the NAT gateway has no address: its subnet is unknown or too small".into(),
                gw.decl.span,
                String::new(),
            )];
        };
        let (b, mut steps) = self.same_family_only(b, to, &gw.decl.name, gw.decl.span);
        let mut rest = b.orig.clone();
        let mut supported = PacketSet::empty();
        for proto in NAT_GATEWAY_PROTOCOLS {
            let (yes, no) = self.split(
                &b.with(rest),
                &HeaderPredicate {
                    proto: Some((proto, proto)),
                    ..Default::default()
                },
            );
            supported = supported.union(&yes);
            rest = no;
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "NAT gateway `{}` translates only TCP, UDP and ICMP: it drops other protocols",
                    gw.decl.name
                ),
                gw.decl.span,
                "AWS NAT gateways support TCP, UDP and ICMP only: send other protocols (GRE, ESP, \
                 ...) through a NAT instance or a route that needs no NAT"
                    .into(),
            ));
        }
        let mut b = b.with(supported);
        if b.orig.is_empty() {
            return steps;
        }
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
    pub(in crate::engine) fn same_family_only(
        &self,
        b: Branch,
        to: IpAddr,
        name: &str,
        span: Span,
    ) -> (Branch, Vec<Step>) {
        let fam = AddrRanges::all_of(crate::engine::packet_set::Family::of(to));
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

    pub(super) fn nat_instance(&self, h: HostId, b: Branch) -> Vec<Step> {
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

    pub(super) fn internet(&self, b: Branch) -> Vec<Step> {
        let m = self.m();
        let mut steps = Vec::new();
        // Only the owners of addresses the branch may be sent to, when its
        // destination is an original field untranslated (a request's
        // destination, a reply's source): a branch for one host meets one
        // of the thousands of addresses a large design publishes. An owner
        // left out would have received nothing, and leaving it out changes
        // no other owner's share.
        let reach = match b.view.dst {
            AddrExpr::Orig(AddrField::Dst, None) => Some(b.orig.dst_addrs()),
            AddrExpr::Orig(AddrField::Src, None) => Some(b.orig.src_addrs()),
            _ => None,
        };
        let meets = |a: &AddrRanges| reach.as_ref().is_none_or(|r| !a.intersect(r).is_empty());
        let mut exact: Vec<(&IpAddr, &PublicOwner)> = self
            .space
            .public
            .iter()
            .filter(|(a, _)| reach.as_ref().is_none_or(|r| r.contains(**a)))
            .collect();
        exact.sort();
        let owners: Vec<(AddrRanges, PublicOwner)> = exact
            .into_iter()
            .map(|(&a, &o)| (AddrRanges::from_addr(a), o))
            .chain(
                self.space
                    .public_ranges
                    .iter()
                    .filter(|(a, _)| meets(a))
                    .cloned(),
            )
            .collect();
        // One pass over the boxes for every owner (an address owned twice
        // goes to the first, as when they are tested one after the other):
        // testing thousands of public addresses one by one cost a pass over
        // the ever smaller rest for each.
        let parts: Vec<AddrRanges> = owners.iter().map(|(a, _)| a.clone()).collect();
        let (shares, rest) = self.split_dsts(&b, &parts);
        for ((addrs, owner), yes) in owners.into_iter().zip(shares) {
            if yes.is_empty() {
                continue;
            }
            let nb = b.with(yes).hop(
                "internet",
                format!("{addrs} belongs to {}", self.owner_name(owner)),
                None,
            );
            let step = match owner {
                PublicOwner::InternetHost(h) => Step::Leaf(Leaf::Delivered {
                    to: Dest::Iface(Iface::Host(h)),
                    branch: nb.hop(
                        &m.host(h).decl.name,
                        "delivered",
                        Some(m.host(h).decl.name_span),
                    ),
                }),
                PublicOwner::Sddc(s) => Step::Go(Loc::Cgw(s, Some(Uplink::Internet)), nb),
                PublicOwner::Instance(h) => {
                    // Replies of flows that left by an egress-only gateway
                    // come back through it; everything else is for the
                    // internet gateway.
                    let (mut replies, nb) = self.eigw_replies(m.host(h).site, nb);
                    steps.append(&mut replies);
                    match self.igw_of(m.host(h).site) {
                        Some(g) => Step::Go(Loc::IgwIn(g), nb),
                        None => self.no_igw(m.host(h).site, nb),
                    }
                }
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
            };
            steps.push(step);
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
                    // NAT is IPv4's answer; an IPv6 address is reached at a
                    // global address of its own.
                    let (v6, v4) =
                        self.dst_in(&owned.with(yes), AddrRanges::from_nets([ipv6_all()]));
                    for (part, help) in [
                        (v4, "reach it at a public address that NAT translates, or over a private connection"),
                        (v6, crate::model::IPV6_PRIVATE_HELP),
                    ] {
                        if !part.is_empty() {
                            steps.push(Self::drop(
                                owned.with(part),
                                format!("the destination is a private address of `{}`: the internet does not route to it", site.decl.name),
                                site.header_span,
                                help.into(),
                            ));
                        }
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

    pub(super) fn igw_of(&self, vpc: SiteId) -> Option<GatewayId> {
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
}
