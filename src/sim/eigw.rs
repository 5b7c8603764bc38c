//! The egress-only internet gateway, packet by packet: IPv6 from the global
//! address of one of its VPC's instances leaves untranslated and opens a
//! session; from the internet, only a packet that is the exact reply of such
//! a session comes in. IPv4 is dropped (docs/forwarding.md, "Egress-only
//! internet gateway"). Written apart from the engine's `walk/eigw.rs`.

use super::matching;
use super::walk::{drop, At, Entry, StateKey, Step, VpcFrom, Walker};
use super::{Packet, Stage};
use crate::model::{GatewayId, GatewayKind, HostKind, SiteId};

impl<'m> Walker<'m> {
    pub(super) fn eigw_out(&mut self, gw: GatewayId, p: Packet) -> Step {
        let m = self.m;
        let Some(g) = m.gateways.get(gw.index()) else {
            return drop("the egress-only internet gateway does not exist", None, "").into();
        };
        if self.replying() {
            // The request came in another way (the internet gateway):
            // whether the gateway passes a packet it has no session for is
            // not documented.
            return drop(
                format!(
                    "the reply leaves by egress-only internet gateway `{}`, which did not see \
                     the request: whether it passes such a packet is not documented",
                    g.decl.name
                ),
                Some(g.decl.span),
                crate::model::EIGW_ASYMMETRIC_HELP,
            )
            .undecided()
            .into();
        }
        if p.src.is_ipv4() {
            return drop(
                format!(
                    "egress-only internet gateway `{}` carries IPv6 only: it drops IPv4",
                    g.decl.name
                ),
                Some(g.decl.span),
                crate::model::EIGW_IPV4_HELP,
            )
            .into();
        }
        let vpc = g.site;
        let instance = m.sites.get(vpc.index()).and_then(|s| {
            s.hosts.iter().copied().find(|&h| {
                m.hosts.get(h.index()).is_some_and(|x| {
                    x.kind == HostKind::Instance
                        // Its own global address, the one the internet
                        // routes back to it.
                        && matching::instance_global_v6(m, h).is_some_and(|(a, _)| a == p.src)
                })
            })
        });
        let Some(h) = instance else {
            return drop(
                format!(
                    "egress-only internet gateway `{}` passes only the global IPv6 addresses of \
                     the VPC's instances: {} is not one",
                    g.decl.name, p.src
                ),
                Some(g.decl.span),
                crate::model::EIGW_SOURCE_HELP,
            )
            .into();
        };
        let name = m.hosts.get(h.index()).map_or("?", |x| x.decl.name.as_str());
        self.hop(
            Stage::Forward,
            format!("IPv6: `{name}`'s global address passes untranslated, outbound"),
            Some(g.decl.span),
        );
        self.remember(StateKey::Eigw(gw), p);
        self.sender = None;
        Step::Next(At::Internet, p)
    }

    /// The egress-only gateway a packet from the internet for an instance of
    /// `vpc` arrives at: the one whose session it answers; else, for IPv6
    /// when the VPC has no internet gateway, its first one (which drops it).
    pub(super) fn eigw_for(&self, vpc: SiteId, p: &Packet) -> Option<GatewayId> {
        let m = self.m;
        let site = m.sites.get(vpc.index())?;
        let of_kind = |kind: GatewayKind| {
            site.gateways
                .iter()
                .copied()
                .filter(move |g| m.gateways.get(g.index()).is_some_and(|x| x.kind == kind))
        };
        let mut eigws = of_kind(GatewayKind::EgressOnlyInternetGateway);
        if let Some(g) = eigws
            .clone()
            .find(|&g| self.admitted_reply(StateKey::Eigw(g), p))
        {
            return Some(g);
        }
        if p.dst.is_ipv6() && of_kind(GatewayKind::InternetGateway).next().is_none() {
            return eigws.next();
        }
        None
    }

    pub(super) fn eigw_in(&mut self, gw: GatewayId, p: Packet) -> Step {
        let m = self.m;
        let Some(g) = m.gateways.get(gw.index()) else {
            return drop("the egress-only internet gateway does not exist", None, "").into();
        };
        if !self.admitted_reply(StateKey::Eigw(gw), &p) {
            return drop(
                format!(
                    "egress-only internet gateway `{}` passes only replies: it drops traffic the \
                     internet starts",
                    g.decl.name
                ),
                Some(g.decl.span),
                crate::model::EIGW_INBOUND_HELP,
            )
            .into();
        }
        self.hop(
            Stage::Forward,
            "reply of a flow it passed outbound",
            Some(g.decl.span),
        );
        self.sender = None;
        Step::Next(
            At::VpcRouter {
                vpc: g.site,
                from: VpcFrom::Gateway(Entry::Eigw(gw)),
            },
            p,
        )
    }
}
