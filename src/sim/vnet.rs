//! Hyper-V VM networks and their NVGRE gateways (seed 004): the network's
//! router, and the gateway in its three modes (docs/forwarding.md, "VM
//! network", and "Oracle decisions": on-prem and VM networks).

use super::matching;
use super::vpc::svc_literal;
use super::walk::{drop, At, NatPoint, NatSession, Step, Walker};
use super::{Packet, Stage};
use crate::model::{ConnectionId, GatewayId, GatewayKind, SiteId};
use crate::span::Span;
use crate::syntax::ast::{ConnKind, FirewallMatch, GatewayMode, NatKind};

/// What the pipelines of an NVGRE gateway need of it.
struct VnetParts<'m> {
    site: SiteId,
    mode: GatewayMode,
    external: Option<(std::net::IpAddr, Span)>,
    span: Span,
    name: &'m str,
}

impl<'m> Walker<'m> {
    fn vnet_gateway(&self, site: SiteId) -> Option<GatewayId> {
        let m = self.m;
        m.sites
            .get(site.index())?
            .gateways
            .iter()
            .copied()
            .find(|g| {
                m.gateways
                    .get(g.index())
                    .is_some_and(|g| matches!(g.kind, GatewayKind::Vnet { .. }))
            })
    }

    pub(super) fn vnet_router(&mut self, site: SiteId, from_gateway: bool, p: Packet) -> Step {
        let m = self.m;
        let Some(s) = m.sites.get(site.index()) else {
            return drop("the site does not exist", None, "").into();
        };
        if let Some(sub) = matching::subnet_of(m, site, p.dst) {
            let x = m.subnets.get(sub.index());
            self.hop(
                Stage::Route,
                format!(
                    "{} is on subnet `{}` of the VM network",
                    p.dst,
                    x.map_or("?", |x| x.decl.name.as_str())
                ),
                x.map(|x| x.prefix.span),
            );
            return self.deliver_on(sub, p);
        }
        if from_gateway {
            return drop(
                format!("no subnet of {} contains {}", self.site_name(site), p.dst),
                Some(s.header_span),
                "send to an address of one of the VM network's subnets",
            )
            .at(Stage::Route)
            .into();
        }
        let Some(gw) = self.vnet_gateway(site) else {
            return drop(
                format!(
                    "{} is outside {}, which has no gateway",
                    p.dst,
                    self.site_name(site)
                ),
                Some(s.header_span),
                "add `gateway NAME mode nat|s2s|forwarding external-ip ADDRESS in SUBNET`",
            )
            .at(Stage::Route)
            .into();
        };
        let g = m.gateways.get(gw.index());
        self.hop(
            Stage::Route,
            format!(
                "{} is outside the VM network: to its gateway `{}`",
                p.dst,
                g.map_or("?", |g| g.decl.name.as_str())
            ),
            g.map(|g| g.decl.span),
        );
        Step::Next(At::VnetGatewayOut(gw), p)
    }

    fn vnet_parts(&self, gw: GatewayId) -> Option<VnetParts<'m>> {
        let g = self.m.gateways.get(gw.index())?;
        match &g.kind {
            GatewayKind::Vnet {
                mode, external_ip, ..
            } => Some(VnetParts {
                site: g.site,
                mode: *mode,
                external: external_ip.as_ref().map(|e| (e.value, e.span)),
                span: g.decl.span,
                name: g.decl.name.as_str(),
            }),
            _ => None,
        }
    }

    pub(super) fn vnet_gateway_out(&mut self, gw: GatewayId, p: Packet) -> Step {
        let m = self.m;
        let Some(VnetParts {
            site,
            mode,
            external,
            span,
            name,
        }) = self.vnet_parts(gw)
        else {
            return drop("the gateway does not exist", None, "").into();
        };
        match mode {
            GatewayMode::Nat => {
                let point = NatPoint::Vnet(gw);
                if let Some((q, s)) = self.undo_nat(point, &p) {
                    self.undo_hop(&s, p, q);
                    return Step::Next(At::Internet, q);
                }
                let Some((ext, ext_span)) = external else {
                    return drop(
                        format!("gateway `{name}` is in NAT mode but has no external address"),
                        Some(span),
                        format!("add `external-ip ADDRESS` to gateway `{name}`"),
                    )
                    .at(Stage::Nat)
                    .into();
                };
                // An external address the internet does not route reaches
                // it only through a NAT device in front of the gateway,
                // which a design cannot state (docs/forwarding.md, "VM
                // network").
                if let Some(kind) = matching::unrouted(ext) {
                    return drop(
                        format!(
                            "gateway `{name}` translates to its external address {ext}, which \
                             is {kind}: the internet does not route it, so whether the packet \
                             and its reply get through depends on a NAT device in front of the \
                             gateway, which a design cannot state"
                        ),
                        Some(ext_span),
                        format!(
                            "to have it decided, write the public address that the NAT device \
                             in front of gateway `{name}` translates to as its `external-ip`"
                        ),
                    )
                    .at(Stage::Nat)
                    .undecided()
                    .into();
                }
                let q = Packet { src: ext, ..p };
                self.rewrite(
                    Stage::Nat,
                    format!("gateway `{name}` (NAT mode) masquerades to its external address"),
                    p,
                    q,
                    Some(ext_span),
                );
                self.record_nat(NatSession {
                    point,
                    before: p,
                    after: q,
                    what: format!("the NAT of gateway `{name}`"),
                    span: Some(ext_span),
                    firewall_match: FirewallMatch::Internal,
                    node: self.node.clone(),
                    via: None,
                });
                Step::Next(At::Internet, q)
            }
            GatewayMode::Forwarding => {
                self.hop(
                    Stage::Forward,
                    format!(
                        "gateway `{name}` (forwarding mode) routes to the physical network \
                         without translation"
                    ),
                    Some(span),
                );
                Step::Next(At::Internet, p)
            }
            GatewayMode::S2s => {
                if external.is_none() {
                    return drop(
                        format!(
                            "gateway `{name}` is in site-to-site mode but has no external \
                             address, so its IPsec tunnel cannot come up"
                        ),
                        Some(span),
                        format!("give gateway `{name}` an external address: `external-ip ADDRESS`"),
                    )
                    .into();
                }
                let vpn = m.connections.iter().enumerate().find(|(_, c)| {
                    c.kind == ConnKind::Vpn && c.ends.iter().any(|e| e.value == site)
                });
                let Some((i, conn)) = vpn else {
                    return drop(
                        format!(
                            "gateway `{name}` is in site-to-site mode, but no vpn joins {}",
                            self.site_name(site)
                        ),
                        Some(span),
                        "declare the vpn: `vpn NAME VMNETWORK <-> SITE route-based { ... }`",
                    )
                    .into();
                };
                let c = ConnectionId(i as u32);
                let Some(other) = self.other_end(c, site) else {
                    return drop("the vpn has no other end", Some(conn.decl.span), "").into();
                };
                let policy = self.policy_vpn(site, &p) == Some(c);
                let learned = self
                    .learned(site, c)
                    .into_iter()
                    .filter(|(n, _)| n.contains(&p.dst))
                    .max_by_key(|(n, _)| n.prefix_len());
                if policy {
                    self.hop(
                        Stage::Route,
                        format!(
                            "the selectors of policy-based {} hold the packet",
                            self.conn_name(c)
                        ),
                        Some(conn.decl.span),
                    );
                } else if let Some((prefix, pspan)) = learned {
                    self.hop(
                        Stage::Route,
                        format!(
                            "longest match {prefix} -> {}: learned from {}",
                            self.conn_name(c),
                            self.site_name(other)
                        ),
                        pspan,
                    );
                } else {
                    return drop(
                        format!(
                            "{} carries no route for {}: {} does not advertise it",
                            self.conn_name(c),
                            p.dst,
                            self.site_name(other)
                        ),
                        Some(conn.decl.span),
                        "advertise the destination's prefix from the other end of the vpn",
                    )
                    .at(Stage::Route)
                    .into();
                }
                self.enter_over(c, other, p)
            }
        }
    }

    pub(super) fn vnet_gateway_in(
        &mut self,
        gw: GatewayId,
        from: Option<ConnectionId>,
        p: Packet,
    ) -> Step {
        let m = self.m;
        let Some(VnetParts {
            site,
            mode,
            external,
            span,
            name,
        }) = self.vnet_parts(gw)
        else {
            return drop("the gateway does not exist", None, "").into();
        };
        let mut q = p;
        match (mode, from) {
            (GatewayMode::Nat, None) => {
                if let Some(((ext, ext_span), kind)) =
                    external.and_then(|e| Some((e, matching::unrouted(e.0)?)))
                {
                    return drop(
                        format!(
                            "the internet does not route to {ext}, the external address of \
                             gateway `{name}`, which is {kind}"
                        ),
                        Some(ext_span),
                        format!(
                            "reach the VM network at a public address: when a NAT device in \
                             front of gateway `{name}` publishes it at one, write that address \
                             as its `external-ip`"
                        ),
                    )
                    .into();
                }
                let point = NatPoint::Vnet(gw);
                if let Some((r, s)) = self.undo_nat(point, &p) {
                    self.undo_hop(&s, p, r);
                    q = r;
                } else {
                    let rule = m
                        .sites
                        .get(site.index())
                        .into_iter()
                        .flat_map(|s| s.nat_rules.iter())
                        .filter_map(|r| m.nat_rules.get(r.index()))
                        .find(|r| {
                            r.kind == NatKind::Dnat
                                && matching::nat_external_has(m, r, p.dst)
                                && r.services.as_ref().is_none_or(|x| matching::svc_has(x, &p))
                        });
                    let Some(rule) = rule else {
                        return drop(
                            format!(
                                "no NAT rule of gateway `{name}` translates {} {}",
                                p.dst,
                                svc_literal(&p)
                            ),
                            external.map_or(Some(span), |(_, s)| Some(s)),
                            format!(
                                "publish a VM with `nat dnat NAME {} -> VM service SVC`",
                                p.dst
                            ),
                        )
                        .at(Stage::Nat)
                        .into();
                    };
                    q = match self.apply_dnat(point, rule, p) {
                        Ok(q) => q,
                        Err(d) => return d.into(),
                    };
                }
            }
            (GatewayMode::Forwarding, None) => {
                self.hop(
                    Stage::Forward,
                    format!("gateway `{name}` (forwarding mode) passes it untranslated"),
                    Some(span),
                );
            }
            (GatewayMode::S2s, Some(c)) => {
                if external.is_none() {
                    return drop(
                        format!(
                            "gateway `{name}` has no external address, so {} cannot come up",
                            self.conn_name(c)
                        ),
                        Some(span),
                        format!("give gateway `{name}` an external address: `external-ip ADDRESS`"),
                    )
                    .into();
                }
                self.hop(
                    Stage::Forward,
                    format!("gateway `{name}` ends {}", self.conn_name(c)),
                    Some(span),
                );
            }
            (_, Some(c)) => {
                return drop(
                    format!(
                        "gateway `{name}` is not in site-to-site mode, so it does not end {}",
                        self.conn_name(c)
                    ),
                    Some(span),
                    format!("set `mode s2s` on gateway `{name}`"),
                )
                .into();
            }
            (GatewayMode::S2s, None) => {
                return drop(
                    format!("gateway `{name}` is in site-to-site mode: it admits only its tunnel"),
                    Some(span),
                    "reach the VM network over its vpn",
                )
                .into();
            }
        }
        Step::Next(
            At::VnetRouter {
                site,
                from_gateway: true,
            },
            q,
        )
    }
}
