//! NP604 forwarding-overlap: a `forwarding` NVGRE gateway puts its VM
//! network's addresses on the physical network, where they overlap another
//! network routed there.
//!
//! Seed 004: a forwarding gateway only decapsulates and routes, without
//! translation, so the VM network's addresses must be routable on the
//! physical side (the MPLS case needs no public address, but unique ones).
//! VM networks may reuse each other's addresses only while a gateway
//! translates or tunnels them; once forwarded, two networks with the same
//! addresses, or a VM network and the on-prem network, the public addresses
//! of other sites or a named internet host, cannot both be routed.

use crate::diagnostic::Diagnostic;
use crate::model::{GatewayId, GatewayKind, HostKind, Model, SiteId};
use crate::registry::Code;
use crate::span::Span;
use crate::syntax::ast::{GatewayMode, SiteKind};
use ipnet::IpNet;

/// Something routed on the physical side of the gateways.
struct Other {
    net: IpNet,
    span: Span,
    what: String,
    /// The VM network's forwarding gateway, for networks exposed the same
    /// way: such a pair is reported once, at the later gateway.
    gateway: Option<GatewayId>,
    site: SiteId,
}

/// A prefix as people write it: a single address without its length.
fn show(net: IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

fn overlaps(a: IpNet, b: IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

fn forwarding_gateways(model: &Model) -> Vec<(GatewayId, SiteId)> {
    model
        .gateways
        .iter()
        .enumerate()
        .filter(|(_, g)| {
            matches!(
                g.kind,
                GatewayKind::Vnet {
                    mode: GatewayMode::Forwarding,
                    ..
                }
            ) && model.site(g.site).kind == SiteKind::VmNetwork
        })
        .map(|(i, g)| (GatewayId(i as u32), g.site))
        .collect()
}

fn others(model: &Model, forwarding: &[(GatewayId, SiteId)]) -> Vec<Other> {
    let mut out = Vec::new();
    let mut push = |net: IpNet, span: Span, what: String, gateway, site| {
        out.push(Other {
            net,
            span,
            what,
            gateway,
            site,
        })
    };
    for &(g, site) in forwarding {
        let s = model.site(site);
        for &sub in &s.subnets {
            let subnet = model.subnet(sub);
            push(
                subnet.prefix.value,
                subnet.prefix.span,
                format!(
                    "subnet `{}` of vmnetwork `{}`, forwarded too",
                    subnet.decl.name, s.decl.name
                ),
                Some(g),
                site,
            );
        }
    }
    for (i, s) in model.sites.iter().enumerate() {
        let site = SiteId(i as u32);
        match s.kind {
            SiteKind::Onprem => {
                for p in &s.prefixes {
                    push(
                        p.value,
                        p.span,
                        format!("onprem `{}`", s.decl.name),
                        None,
                        site,
                    );
                }
                if let Some(e) = &s.internet_egress {
                    push(
                        IpNet::from(e.value),
                        e.span,
                        format!("the internet egress address of `{}`", s.decl.name),
                        None,
                        site,
                    );
                }
            }
            SiteKind::Sddc => {
                if let crate::model::DefaultSnat::Addr(a, span) = s.default_snat {
                    push(
                        IpNet::from(a),
                        span,
                        format!("the default SNAT address of `{}`", s.decl.name),
                        None,
                        site,
                    );
                }
            }
            _ => {}
        }
    }
    for p in &model.public_ips {
        push(
            IpNet::from(p.addr.value),
            p.addr.span,
            format!(
                "public address `{}` of `{}`",
                p.decl.name,
                model.site(p.site).decl.name
            ),
            None,
            p.site,
        );
    }
    for h in &model.hosts {
        if h.kind == HostKind::InternetHost {
            push(
                IpNet::from(h.addr.value),
                h.addr.span,
                format!("internet host `{}`", h.decl.name),
                None,
                h.site,
            );
        } else if let Some(p) = h.public {
            push(
                IpNet::from(p.addr),
                p.span,
                format!("the public address of `{}`", h.decl.name),
                None,
                h.site,
            );
        }
    }
    for g in &model.gateways {
        let addr = match &g.kind {
            GatewayKind::Vnet {
                external_ip: Some(a),
                ..
            }
            | GatewayKind::NatGateway {
                elastic_ip: Some(a),
                ..
            } => a,
            _ => continue,
        };
        push(
            IpNet::from(addr.value),
            addr.span,
            format!(
                "the external address of gateway `{}.{}`",
                model.site(g.site).decl.name,
                g.decl.name
            ),
            None,
            g.site,
        );
    }
    out
}

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let forwarding = forwarding_gateways(model);
    if forwarding.is_empty() {
        return;
    }
    let others = others(model, &forwarding);
    for &(g, site) in &forwarding {
        let gw = &model.gateways[g.index()];
        let s = model.site(site);
        for &sub in &s.subnets {
            let subnet = model.subnet(sub);
            let net = subnet.prefix.value;
            for o in &others {
                // Its own addresses are not a finding, and a pair of
                // forwarded networks is reported once, at the later gateway.
                if o.site == site || o.gateway.is_some_and(|x| x > g) {
                    continue;
                }
                if !overlaps(net, o.net) {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        Code::NP604,
                        format!(
                            "gateway `{}` of `{}` forwards subnet `{}` ({net}) untranslated to \
                             the physical network, where it overlaps {} ({})",
                            gw.decl.name,
                            s.decl.name,
                            subnet.decl.name,
                            o.what,
                            show(o.net)
                        ),
                        gw.decl.span,
                        "forwards without translation",
                    )
                    .with_label(subnet.prefix.span, format!("{net} is routed as it is"))
                    .with_label(o.span, format!("also routed there: {}", show(o.net)))
                    .with_help(format!(
                        "a forwarding gateway needs addresses that are unique on the physical \
                         network: renumber `{}`, or use `mode nat` (or `mode s2s`) so the \
                         gateway translates or tunnels them",
                        subnet.decl.name
                    )),
                );
            }
        }
    }
}
