//! The private address of every NAT gateway.
//!
//! AWS gives each NAT gateway a private IPv4 address in its subnet: the one
//! its creator asks for, or a free one AWS picks (Amazon EC2 API Reference,
//! "CreateNatGateway": `PrivateIpAddress`). A design states it with `ip
//! ADDRESS`; without that, the model picks the first address of the subnet,
//! from the fifth up (the first four are AWS's), that nothing else of the
//! VPC uses: a declared host or endpoint, another NAT gateway, or the
//! address the model gives an NLB (the last usable one of its first
//! subnet). So two NAT gateways never share an address by the model's
//! choice, and the replies of one never reach the other.

use super::{GatewayKind, Model, SiteId};
use std::collections::HashSet;
use std::net::IpAddr;

/// Fills in `GatewayKind::NatGateway::addr`: declared addresses first, then
/// the others in declaration order.
pub(super) fn assign(model: &mut Model) {
    let mut used: HashSet<(SiteId, IpAddr)> =
        model.hosts.iter().map(|h| (h.site, h.addr.value)).collect();
    used.extend(model.endpoints.iter().map(|e| (e.site, e.addr.value)));
    used.extend(model.nlbs.iter().filter_map(|n| {
        let sub = n.subnets.first()?.value;
        Some((
            n.site,
            last_usable(model.subnets.get(sub.index())?.prefix.value)?,
        ))
    }));
    for g in &mut model.gateways {
        if let GatewayKind::NatGateway {
            private_ip: Some(a),
            addr,
            ..
        } = &mut g.kind
        {
            *addr = Some(a.value);
            used.insert((g.site, a.value));
        }
    }
    for g in &mut model.gateways {
        let GatewayKind::NatGateway {
            subnet: Some(sub),
            private_ip: None,
            addr,
            ..
        } = &mut g.kind
        else {
            continue;
        };
        let Some(net) = model.subnets.get(sub.index()).map(|s| s.prefix.value) else {
            continue;
        };
        let site = g.site;
        *addr = (4u128..)
            .map_while(|n| nth(net, n))
            .find(|&a| !used.contains(&(site, a)));
        if let Some(a) = *addr {
            used.insert((site, a));
        }
    }
}

/// The address `n` places after a prefix's network address, if the prefix
/// holds it and it is not the prefix's last (AWS reserves that one).
fn nth(net: ipnet::IpNet, n: u128) -> Option<IpAddr> {
    let a = match net.network() {
        IpAddr::V4(a) => IpAddr::V4(
            u32::try_from(u128::from(u32::from(a)).checked_add(n)?)
                .ok()?
                .into(),
        ),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).checked_add(n)?.into()),
    };
    (net.contains(&a) && a != net.broadcast()).then_some(a)
}

/// The address before a prefix's last one.
fn last_usable(net: ipnet::IpNet) -> Option<IpAddr> {
    let a = match net.broadcast() {
        IpAddr::V4(a) => IpAddr::V4(u32::from(a).checked_sub(1)?.into()),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).checked_sub(1)?.into()),
    };
    (net.contains(&a) && a != net.network()).then_some(a)
}
