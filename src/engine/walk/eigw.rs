//! The egress-only internet gateway: IPv6 only, never translated, and
//! stateful. It passes IPv6 from the global addresses of its VPC's instances
//! to the internet, and from the internet only the replies of those flows;
//! it drops IPv4 (docs/forwarding.md, "Egress-only internet gateway").

use super::{Branch, Filter, Loc, Mark, Step, Walker};
use crate::engine::packet_set::AddrRanges;
use crate::model::{GatewayId, GatewayKind, HostKind, SiteId};

/// Every IPv6 address.
fn ipv6_all() -> AddrRanges {
    AddrRanges::from_nets([ipnet::IpNet::V6(ipnet::Ipv6Net::default())])
}

impl<'s, 'm> Walker<'s, 'm> {
    pub(super) fn eigw_out(&self, g: GatewayId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let gw = &m.gateways[g.index()];
        let node = format!("vpc {} / {}", self.site_name(gw.site), gw.decl.name);
        if !self.session.is_empty() {
            // A reply leaving by an egress-only gateway answers a flow that
            // came in another way (the internet gateway): whether the
            // gateway passes a reply it has no session for is not
            // documented, so the verdict is not decided.
            return vec![Self::undecided(
                b,
                format!("the reply leaves by egress-only internet gateway `{}`, which did not see the request: whether it passes such a packet is not documented", gw.decl.name),
                gw.decl.span,
                crate::model::EIGW_ASYMMETRIC_HELP.into(),
            )];
        }
        let mut steps = Vec::new();
        let (v6, v4) = self.src_in(&b, ipv6_all());
        if !v4.is_empty() {
            steps.push(Self::drop(
                b.with(v4),
                format!(
                    "egress-only internet gateway `{}` carries IPv6 only: it drops IPv4",
                    gw.decl.name
                ),
                gw.decl.span,
                crate::model::EIGW_IPV4_HELP.into(),
            ));
        }
        let mut rest = v6;
        for &h in &m.site(gw.site).hosts {
            let host = m.host(h);
            // The instance's own global address, the one the internet
            // routes back to it (the same test as the internet gateway's).
            let Some(v6) = self.space.global_v6_of(h) else {
                continue;
            };
            if host.kind != HostKind::Instance || rest.is_empty() {
                continue;
            }
            let (yes, no) = self.src_in(&b.with(rest), AddrRanges::from_addr(v6));
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let mut nb = b.with(yes);
            nb.marks.push(Mark::Filter(Filter::Eigw(g), nb.view));
            nb.sender = None;
            steps.push(Step::Go(
                Loc::Internet,
                nb.hop(
                    &node,
                    format!("IPv6: src {v6} passes untranslated, outbound"),
                    host.addrs().find(|a| a.value == v6).map(|a| a.span),
                ),
            ));
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!("egress-only internet gateway `{}` passes only the global IPv6 addresses of the VPC's instances: the source is not one", gw.decl.name),
                gw.decl.span,
                crate::model::EIGW_SOURCE_HELP.into(),
            ));
        }
        steps
    }

    /// The VPC's egress-only internet gateways.
    fn eigws_of(&self, vpc: SiteId) -> impl Iterator<Item = GatewayId> + '_ {
        self.m()
            .site(vpc)
            .gateways
            .iter()
            .copied()
            .filter(|g| self.m().gateways[g.index()].kind == GatewayKind::EgressOnlyInternetGateway)
    }

    /// Packets from the internet for an instance of `vpc`: the replies that
    /// one of its egress-only gateways admits go through it to the VPC
    /// router; returns those steps and the rest.
    pub(super) fn eigw_replies(&self, vpc: SiteId, b: Branch) -> (Vec<Step>, Branch) {
        let mut steps = Vec::new();
        let mut b = b;
        for g in self.eigws_of(vpc) {
            if b.orig.is_empty() {
                break;
            }
            let gw = &self.m().gateways[g.index()];
            let (yes, no) = self.admitted(Filter::Eigw(g), &b, &[b.view]);
            if !yes.is_empty() {
                let node = format!("vpc {} / {}", self.site_name(vpc), gw.decl.name);
                let mut nb = b
                    .with(yes)
                    .hop(&node, "reply of a flow it passed outbound", None);
                nb.sender = None;
                steps.push(Step::Go(Loc::VpcRouter(vpc, None), nb));
            }
            b = b.with(no);
        }
        (steps, b)
    }

    /// Packets from the internet for an instance of a VPC without an
    /// internet gateway: an egress-only gateway refuses unsolicited IPv6.
    pub(super) fn no_igw(&self, vpc: SiteId, b: Branch) -> Step {
        let m = self.m();
        let site = m.site(vpc);
        if let Some(g) = self.eigws_of(vpc).next() {
            let (v6, _) = self.dst_in(&b, ipv6_all());
            if v6 == b.orig {
                let gw = &m.gateways[g.index()];
                return Self::drop(
                    b,
                    format!(
                        "egress-only internet gateway `{}` passes only replies: it drops traffic the internet starts",
                        gw.decl.name
                    ),
                    gw.decl.span,
                    crate::model::EIGW_INBOUND_HELP.into(),
                );
            }
        }
        Self::drop(
            b,
            format!("vpc `{}` has no internet gateway", site.decl.name),
            site.header_span,
            "add an `internet-gateway` to the VPC".into(),
        )
    }
}
