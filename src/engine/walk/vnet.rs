//! Hyper-V network virtualization (seed 004): a VM network's router and its
//! NVGRE gateway in its three modes, as engine nodes (docs/forwarding.md,
//! "VM network", and "Oracle decisions": on-prem and VM networks).
//!
//! The router delivers between the network's subnets and hands everything
//! else to the network's (first) gateway. The gateway, leaving, masquerades
//! to its external address (`nat`), forwards untranslated (`forwarding`) or
//! sends into its site-to-site VPN (`s2s`); arriving, it translates back the
//! replies of its own NAT and applies the network's `nat dnat` rules (`nat`),
//! passes what the internet hands it (`forwarding`) or ends its tunnel
//! (`s2s`). NAT is a change of view with a [`NatPoint::Vnet`] mark, like every
//! other NAT device, so replies are translated back only as its exact reverse.
//! A NAT-mode gateway whose external address the internet does not route (a
//! private address, seed 004's "external address in private space") is not
//! reached from the internet, and what it sends there is not decided: that
//! depends on a NAT device in front of it, which a design cannot state.

use super::{nat_translate, nat_words, Branch, Dest, Drop, Leaf, Loc, NatPoint, Step, Walker};
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::{between, service_match, unrouted_kind};
use crate::engine::view::AddrExpr;
use crate::model::{ConnectionId, GatewayId, GatewayKind, SiteId, Uplink};
use crate::span::{Span, Spanned};
use crate::syntax::ast::{ConnKind, FirewallMatch, GatewayMode, NatKind, SiteKind};
use std::net::IpAddr;

/// What the gateway's pipelines need of an NVGRE gateway.
struct Parts<'m> {
    site: SiteId,
    mode: GatewayMode,
    external: Option<&'m Spanned<IpAddr>>,
    span: Span,
    name: &'m str,
    node: String,
}

impl<'s, 'm> Walker<'s, 'm> {
    /// The gateway a VM network's router sends to: its first NVGRE gateway
    /// (each VM network uses one gateway, seed 004).
    fn vnet_gateway(&self, site: SiteId) -> Option<GatewayId> {
        let m = self.m();
        m.site(site)
            .gateways
            .iter()
            .copied()
            .find(|g| matches!(m.gateways[g.index()].kind, GatewayKind::Vnet { .. }))
    }

    fn vnet_parts(&self, g: GatewayId) -> Option<Parts<'m>> {
        let m = self.m();
        let gw = &m.gateways[g.index()];
        let GatewayKind::Vnet {
            mode, external_ip, ..
        } = &gw.kind
        else {
            return None;
        };
        Some(Parts {
            site: gw.site,
            mode: *mode,
            external: external_ip.as_ref(),
            span: gw.decl.span,
            name: &gw.decl.name,
            node: format!(
                "vmnetwork {} / gateway {}",
                self.site_name(gw.site),
                gw.decl.name
            ),
        })
    }

    /// A VM leaving its VM network's subnet: straight to the network's router
    /// (a VM network has no security groups or ACLs).
    pub(super) fn vnet_leave(&self, site: SiteId, name: &str, b: Branch) -> Vec<Step> {
        vec![Step::Go(
            Loc::VnetRouter(site, false),
            b.hop(name, "to the VM network's router", None),
        )]
    }

    /// The VM network's router: a destination in one of its subnets (the
    /// most specific, the first declared among equals) is delivered there;
    /// anything else goes to the gateway, unless it came from the gateway.
    pub(super) fn vnet_router(&self, site: SiteId, from_gateway: bool, b: Branch) -> Vec<Step> {
        let m = self.m();
        let s = m.site(site);
        let node = format!("vmnetwork {} / router", s.decl.name);
        let prefixes: Vec<ipnet::IpNet> = s
            .subnets
            .iter()
            .map(|&x| m.subnet(x).prefix.value)
            .collect();
        let parts = AddrRanges::lpm_partition(&prefixes);
        let mut steps = Vec::new();
        let mut rest = b.orig.clone();
        for (&sub, part) in s.subnets.iter().zip(parts) {
            if rest.is_empty() {
                break;
            }
            let (yes, no) = self.dst_in(&b.with(rest.clone()), part);
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let x = m.subnet(sub);
            let nb = b.with(yes).hop(
                &node,
                format!("destination on subnet `{}` of the VM network", x.decl.name),
                Some(x.prefix.span),
            );
            // A reply goes to the flow's unnamed source only on the subnet
            // it sent from: VM networks may reuse each other's addresses,
            // and the same address elsewhere is another, undeclared, VM.
            let own = match self.accept {
                Some(Dest::Virtual(_, from)) => from == sub,
                _ => true,
            };
            let w = Walker {
                space: self.space,
                session: self.session,
                accept: self.accept.filter(|_| own),
                verdicts_only: self.verdicts_only,
                deliveries_only: self.deliveries_only,
            };
            steps.extend(w.to_hosts(site, Some(sub), nb, "VM", x.decl.span));
        }
        let out = b.with(rest);
        if out.orig.is_empty() {
            return steps;
        }
        if from_gateway {
            steps.push(Self::drop(
                out,
                format!(
                    "no subnet of vmnetwork `{}` contains the destination",
                    s.decl.name
                ),
                s.header_span,
                "send to an address of one of the VM network's subnets".into(),
            ));
            return steps;
        }
        match self.vnet_gateway(site) {
            Some(g) => {
                let gw = &m.gateways[g.index()];
                steps.push(Step::Go(
                    Loc::VnetGatewayOut(g),
                    out.hop(
                        &node,
                        format!(
                            "the destination is outside the VM network: to its gateway `{}`",
                            gw.decl.name
                        ),
                        Some(gw.decl.span),
                    ),
                ));
            }
            None => steps.push(Self::drop(
                out,
                format!(
                    "the destination is outside vmnetwork `{}`, which has no gateway",
                    s.decl.name
                ),
                s.header_span,
                "add `gateway NAME mode nat|s2s|forwarding external-ip ADDRESS in SUBNET`".into(),
            )),
        }
        steps
    }

    /// Leaving the VM network through its gateway.
    pub(super) fn vnet_gateway_out(&self, g: GatewayId, b: Branch) -> Vec<Step> {
        let Some(p) = self.vnet_parts(g) else {
            return vec![Self::drop(
                b,
                "the gateway is not an NVGRE gateway".into(),
                Span::default(),
                String::new(),
            )];
        };
        match p.mode {
            GatewayMode::Nat => {
                let mut steps = Vec::new();
                // The replies of flows published by DNAT here go back out
                // translated, before anything is masqueraded.
                let (undone, b) = self.undo(NatPoint::Vnet(g), &b);
                for (nb, _) in undone {
                    steps.push(Step::Go(
                        Loc::Internet,
                        nb.hop(&p.node, "reply translated back (NAT session)", None),
                    ));
                }
                let Some(ext) = p.external else {
                    steps.push(Self::drop(
                        b,
                        format!(
                            "gateway `{}` is in NAT mode but has no external address",
                            p.name
                        ),
                        p.span,
                        format!("add `external-ip ADDRESS` to gateway `{}`", p.name),
                    ));
                    return steps;
                };
                if let Some(kind) = unrouted_kind(ext.value) {
                    steps.push(Self::private_external_out(&p, ext, kind, b));
                    return steps;
                }
                let mut nb = b;
                let after = nb.view.with_src(AddrExpr::Const(ext.value));
                nb.translate(NatPoint::Vnet(g), after, FirewallMatch::Internal);
                steps.push(Step::Go(
                    Loc::Internet,
                    nb.hop(
                        &p.node,
                        format!("NAT mode: src -> {} (the external address)", ext.value),
                        Some(ext.span),
                    ),
                ));
                steps
            }
            GatewayMode::Forwarding => vec![Step::Go(
                Loc::Internet,
                b.hop(
                    &p.node,
                    "forwarding mode: to the physical network without translation",
                    Some(p.span),
                ),
            )],
            GatewayMode::S2s => self.vnet_s2s_out(&p, b),
        }
    }

    /// A NAT-mode gateway whose external address the internet does not
    /// route: its packets reach the internet, and their replies come back,
    /// only through a NAT device in front of it that publishes a public
    /// address, which a design cannot state (docs/forwarding.md, "VM
    /// network"). Not decided, rather than failed: seed 004 reports this
    /// arrangement working.
    fn private_external_out(p: &Parts<'m>, ext: &Spanned<IpAddr>, kind: &str, b: Branch) -> Step {
        Step::Leaf(Leaf::Dropped {
            drop: Drop {
                reason: format!(
                    "gateway `{}` translates to its external address {}, which is {kind}: the internet does not route it, so whether the packet and its reply get through depends on a NAT device in front of the gateway, which a design cannot state",
                    p.name, ext.value
                ),
                span: ext.span,
                help: format!(
                    "to have it decided, write the public address that the NAT device in front of gateway `{}` translates to as its `external-ip`",
                    p.name
                ),
                unsupported: true,
            },
            branch: b,
        })
    }

    /// A site-to-site gateway sends into the first VPN that joins its VM
    /// network: what that VPN's policy selectors hold, or what the other end
    /// advertises over it; anything else has no route.
    fn vnet_s2s_out(&self, p: &Parts<'m>, b: Branch) -> Vec<Step> {
        let m = self.m();
        if p.external.is_none() {
            return vec![Self::drop(
                b,
                format!(
                    "gateway `{}` is in site-to-site mode but has no external address, so its IPsec tunnel cannot come up",
                    p.name
                ),
                p.span,
                format!(
                    "give gateway `{}` an external address: `external-ip ADDRESS`",
                    p.name
                ),
            )];
        }
        let vpn = m
            .connections
            .iter()
            .enumerate()
            .find(|(_, c)| c.kind == ConnKind::Vpn && c.ends.iter().any(|e| e.value == p.site));
        let Some((i, conn)) = vpn else {
            return vec![Self::drop(
                b,
                format!(
                    "gateway `{}` is in site-to-site mode, but no vpn joins vmnetwork `{}`",
                    p.name,
                    self.site_name(p.site)
                ),
                p.span,
                "declare the vpn: `vpn NAME VMNETWORK <-> SITE route-based { ... }`".into(),
            )];
        };
        let c = ConnectionId(i as u32);
        let Some(other) = self.other_end(c, p.site) else {
            return vec![Self::drop(
                b,
                "the vpn has no other end".into(),
                conn.decl.span,
                String::new(),
            )];
        };
        // The policy-based VPN of this site whose selectors hold a packet is
        // the first such in declaration order; the tunnel carries the packets
        // for which that is this VPN.
        let mut held = PacketSet::empty();
        let mut rest = b.orig.clone();
        for (pc, sel) in self.policy_vpns(p.site) {
            let (yes, no) = self.split(&b.with(rest.clone()), &sel);
            rest = no;
            if pc == c {
                held = yes;
                break;
            }
        }
        let mut steps = Vec::new();
        let up = Uplink::Connection(c);
        if !held.is_empty() {
            let nb = b.with(held.clone()).hop(
                &p.node,
                format!(
                    "the selectors of policy-based vpn `{}` hold it",
                    conn.decl.name
                ),
                Some(conn.decl.span),
            );
            steps.extend(self.enter_site(other, up, nb));
        }
        let (routed, unrouted) = self.dst_in(
            &b.with(b.orig.difference(&held)),
            self.learned_over(c, other),
        );
        if !routed.is_empty() {
            let nb = b.with(routed).hop(
                &p.node,
                format!(
                    "route learned from `{}` over vpn `{}`",
                    self.site_name(other),
                    conn.decl.name
                ),
                Some(conn.decl.span),
            );
            steps.extend(self.enter_site(other, up, nb));
        }
        if !unrouted.is_empty() {
            steps.push(Self::drop(
                b.with(unrouted),
                format!(
                    "vpn `{}` carries no route for the destination: `{}` does not advertise it",
                    conn.decl.name,
                    self.site_name(other)
                ),
                conn.decl.span,
                "advertise the destination's prefix from the other end of the vpn".into(),
            ));
        }
        steps
    }

    /// The other end of a two-ended connection.
    fn other_end(&self, c: ConnectionId, here: SiteId) -> Option<SiteId> {
        let conn = &self.m().connections[c.index()];
        match conn.ends.as_slice() {
            [a, b] if a.value == here => Some(b.value),
            [a, b] if b.value == here => Some(a.value),
            _ => None,
        }
    }

    /// The prefixes a site learns over connection `c` from its other end
    /// `other`: what that end's `advertise` lines say, and, for an SDDC, its
    /// routed segments and management prefixes, which it advertises without
    /// being told.
    pub(super) fn learned_over(&self, c: ConnectionId, other: SiteId) -> AddrRanges {
        let m = self.m();
        let conn = &m.connections[c.index()];
        let mut nets: Vec<ipnet::IpNet> = conn
            .advertise
            .iter()
            .filter(|a| a.site == other)
            .flat_map(|a| a.prefixes.iter().map(|p| p.value))
            .collect();
        let o = m.site(other);
        if o.kind == SiteKind::Sddc {
            nets.extend(
                o.subnets
                    .iter()
                    .filter(|&&x| m.subnet(x).extended_by.is_none())
                    .map(|&x| m.subnet(x).prefix.value),
            );
            nets.extend(o.management.iter().map(|p| p.value));
        }
        AddrRanges::from_nets(nets)
    }

    /// A connection arriving at a VM network ends at its gateway.
    pub(super) fn vnet_enter(&self, site: SiteId, up: Uplink, b: Branch) -> Vec<Step> {
        let m = self.m();
        let s = m.site(site);
        let (Uplink::Connection(c), Some(g)) = (up, self.vnet_gateway(site)) else {
            return vec![Self::drop(
                b,
                format!(
                    "vmnetwork `{}` has no gateway to end the connection",
                    s.decl.name
                ),
                s.header_span,
                "add `gateway NAME mode s2s external-ip ADDRESS in SUBNET` to the VM network"
                    .into(),
            )];
        };
        vec![Step::Go(Loc::VnetGatewayIn(g, Some(c)), b)]
    }

    /// Entering the VM network through its gateway, from the internet
    /// (`from` is `None`) or over a connection.
    pub(super) fn vnet_gateway_in(
        &self,
        g: GatewayId,
        from: Option<ConnectionId>,
        b: Branch,
    ) -> Vec<Step> {
        let m = self.m();
        let Some(p) = self.vnet_parts(g) else {
            return vec![Self::drop(
                b,
                "the gateway is not an NVGRE gateway".into(),
                Span::default(),
                String::new(),
            )];
        };
        let router = Loc::VnetRouter(p.site, true);
        match (p.mode, from) {
            (GatewayMode::Nat, None) => match p
                .external
                .and_then(|e| Some((e, unrouted_kind(e.value)?)))
            {
                Some((ext, kind)) => vec![Self::drop(
                    b,
                    format!(
                        "the internet does not route to {}, the external address of gateway `{}`, which is {kind}",
                        ext.value, p.name
                    ),
                    ext.span,
                    format!(
                        "reach the VM network at a public address: when a NAT device in front of gateway `{}` publishes it at one, write that address as its `external-ip`",
                        p.name
                    ),
                )],
                None => self.vnet_dnat(g, &p, b),
            },
            (GatewayMode::Forwarding, None) => vec![Step::Go(
                router,
                b.hop(
                    &p.node,
                    "forwarding mode: passed untranslated",
                    Some(p.span),
                ),
            )],
            (GatewayMode::S2s, Some(c)) => {
                let conn = &m.connections[c.index()];
                if p.external.is_none() {
                    return vec![Self::drop(
                        b,
                        format!(
                            "gateway `{}` has no external address, so {} `{}` cannot come up",
                            p.name,
                            conn.kind.keyword(),
                            conn.decl.name
                        ),
                        p.span,
                        format!(
                            "give gateway `{}` an external address: `external-ip ADDRESS`",
                            p.name
                        ),
                    )];
                }
                vec![Step::Go(
                    router,
                    b.hop(
                        &p.node,
                        format!("ends {} `{}`", conn.kind.keyword(), conn.decl.name),
                        Some(p.span),
                    ),
                )]
            }
            (_, Some(c)) => {
                let conn = &m.connections[c.index()];
                vec![Self::drop(
                    b,
                    format!(
                        "gateway `{}` is not in site-to-site mode, so it does not end {} `{}`",
                        p.name,
                        conn.kind.keyword(),
                        conn.decl.name
                    ),
                    p.span,
                    format!("set `mode s2s` on gateway `{}`", p.name),
                )]
            }
            (GatewayMode::S2s, None) => vec![Self::drop(
                b,
                format!(
                    "gateway `{}` is in site-to-site mode: it admits only its tunnel",
                    p.name
                ),
                p.span,
                "reach the VM network over its vpn".into(),
            )],
        }
    }

    /// Inbound at a NAT-mode gateway: the replies of the flows it
    /// masqueraded are translated back; anything else goes through the VM
    /// network's `nat dnat` rules, the first whose external side holds the
    /// destination and whose service matches; no rule drops.
    fn vnet_dnat(&self, g: GatewayId, p: &Parts<'m>, b: Branch) -> Vec<Step> {
        let m = self.m();
        let router = Loc::VnetRouter(p.site, true);
        let mut steps = Vec::new();
        let (undone, b) = self.undo(NatPoint::Vnet(g), &b);
        for (nb, _) in undone {
            steps.push(Step::Go(
                router,
                nb.hop(&p.node, "reply translated back (NAT session)", None),
            ));
        }
        let mut rest = b.orig.clone();
        for &n in &m.site(p.site).nat_rules {
            if rest.is_empty() {
                break;
            }
            let rule = &m.nat_rules[n.index()];
            if rule.kind != NatKind::Dnat {
                continue;
            }
            let Some(ext) = rule.external.as_ref() else {
                continue;
            };
            let svc = rule
                .services
                .as_ref()
                .map_or_else(PacketSet::all, service_match);
            let matchset = between(&AddrRanges::all(), &self.space.addrs(ext)).intersect(&svc);
            let (yes, no) = self.split_set(&b.with(rest.clone()), &matchset);
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let (Some(from), Some(to)) =
                (self.space.nat_net(ext), self.space.nat_net(&rule.internal))
            else {
                steps.push(Self::drop(
                    b.with(yes),
                    format!("NAT rule `{}` has no usable address", rule.decl.name),
                    rule.decl.span,
                    "fix the rule's addresses".into(),
                ));
                continue;
            };
            for part in
                self.port_translated(&b.with(yes), rule.translated_port.as_ref().map(|x| x.value))
            {
                // The share's view has the rule's port already; the
                // translation goes from the header as it arrived.
                let mut nb = part;
                let before = b.view;
                let after = nb.view.with_dst(nat_translate(before.dst, from, to));
                nb.view = before;
                nb.translate(NatPoint::Vnet(g), after, FirewallMatch::Internal);
                steps.push(Step::Go(
                    router,
                    nb.hop(
                        &p.node,
                        format!("DNAT `{}`: dst -> {}", rule.decl.name, nat_words(from, to)),
                        Some(rule.decl.span),
                    ),
                ));
            }
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "no NAT rule of gateway `{}` translates the destination",
                    p.name
                ),
                p.external.map_or(p.span, |e| e.span),
                "publish a VM with `nat dnat NAME EXTERNAL -> VM service SVC`".into(),
            ));
        }
        steps
    }
}
