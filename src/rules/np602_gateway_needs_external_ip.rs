//! NP602 gateway-needs-external-ip: an NVGRE gateway in `s2s` or `nat`
//! mode has no external address, or a VPN ends at a VM network whose
//! gateway is not in `s2s` mode.
//!
//! Seed 004: a site-to-site IPsec gateway is reached over the internet, so
//! it needs an external (usually public) address; a NAT gateway shares one
//! external address among the VM network's VMs. Only the forwarding mode
//! works without one. A VPN to a VM network ends at the network's gateway
//! (its first, as the router uses), which must be the site-to-site kind.

use crate::diagnostic::Diagnostic;
use crate::model::{ConnectionId, GatewayKind, Model, SiteId};
use crate::registry::Code;
use crate::syntax::ast::{ConnKind, GatewayMode, SiteKind};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    // The VPNs that end at each VM network, in declaration order.
    let mut vpns: Vec<(SiteId, ConnectionId)> = Vec::new();
    for (i, c) in model.connections.iter().enumerate() {
        if c.kind != ConnKind::Vpn {
            continue;
        }
        for end in &c.ends {
            if model.site(end.value).kind == SiteKind::VmNetwork {
                vpns.push((end.value, ConnectionId(i as u32)));
            }
        }
    }
    for g in &model.gateways {
        let GatewayKind::Vnet {
            mode,
            external_ip: None,
            ..
        } = g.kind
        else {
            continue;
        };
        let site = &model.site(g.site).decl.name;
        let (what, why, help) = match mode {
            GatewayMode::S2s => (
                "site-to-site",
                "its IPsec tunnel is reached over the internet and cannot come up",
                "give the gateway the address its tunnel ends on: `external-ip ADDRESS` (a \
                 public address for a tunnel over the internet)",
            ),
            GatewayMode::Nat => (
                "NAT",
                "the VM network's VMs have no address to share on the way out",
                "give the gateway the address its VMs share: `external-ip ADDRESS`",
            ),
            GatewayMode::Forwarding => continue,
        };
        let mut d = Diagnostic::new(
            Code::NP602,
            format!(
                "gateway `{}` of `{site}` is in {what} mode but has no external address: {why}",
                g.decl.name
            ),
            g.decl.span,
            format!("{what} gateway without `external-ip`"),
        );
        for &(_, c) in vpns.iter().filter(|(s, _)| *s == g.site) {
            let conn = &model.connections[c.index()];
            d = d.with_label(
                conn.decl.span,
                format!("vpn `{}` needs the tunnel", conn.decl.name),
            );
        }
        out.push(d.with_help(format!(
            "{help}; or use `mode forwarding` if `{site}`'s addresses are routable on the \
             physical network"
        )));
    }
    for &(site, c) in &vpns {
        let conn = &model.connections[c.index()];
        let s = model.site(site);
        // The VM network's router uses its first NVGRE gateway; that is the
        // one a VPN ends at.
        let first = s.gateways.iter().find_map(|&g| {
            let gw = &model.gateways[g.index()];
            match gw.kind {
                GatewayKind::Vnet { mode, .. } => Some((gw, mode)),
                _ => None,
            }
        });
        match first {
            None => out.push(
                Diagnostic::new(
                    Code::NP602,
                    format!(
                        "vpn `{}` ends at vmnetwork `{}`, which has no gateway to end it",
                        conn.decl.name, s.decl.name
                    ),
                    conn.decl.span,
                    "no gateway at this end",
                )
                .with_label(s.header_span, "a VM network without a gateway")
                .with_help(format!(
                    "add a site-to-site gateway to `{}`: `gateway NAME mode s2s external-ip \
                     ADDRESS in SUBNET`, in a virtual subnet of its own",
                    s.decl.name
                )),
            ),
            Some((gw, mode)) if mode != GatewayMode::S2s => {
                let m = match mode {
                    GatewayMode::Nat => "nat",
                    _ => "forwarding",
                };
                out.push(
                    Diagnostic::new(
                        Code::NP602,
                        format!(
                            "vpn `{}` ends at gateway `{}` of `{}`, which is in `{m}` mode, not \
                             `s2s`",
                            conn.decl.name, gw.decl.name, s.decl.name
                        ),
                        conn.decl.span,
                        "a VPN needs a site-to-site gateway",
                    )
                    .with_label(gw.decl.span, format!("`mode {m}`: ends no tunnel"))
                    .with_help(format!(
                        "only a gateway in `mode s2s` (with an `external-ip`) ends an IPsec \
                         tunnel: change `{}` to `mode s2s external-ip ADDRESS`, or reach the \
                         VM network another way",
                        gw.decl.name
                    )),
                );
            }
            Some(_) => {}
        }
    }
}
