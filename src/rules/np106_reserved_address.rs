//! NP106 reserved-address: a host, endpoint or NAT gateway uses an address
//! the platform reserves.
//!
//! - AWS reserves the first four addresses of every subnet (network, VPC
//!   router, DNS, future use) and the last one (AWS VPC User Guide, "Subnet
//!   CIDR blocks").
//! - NSX gives each segment's first address to the compute gateway's
//!   interface on it; the network and broadcast addresses are unusable.
//! - Hyper-V network virtualization uses `.1` of every virtual subnet as the
//!   VM network's gateway (seed 004).
//! - On-prem segments lose their network and broadcast addresses (IPv4,
//!   prefixes shorter than /31).
//!
//! An address outside its subnet is NP101's finding, not this one.

use crate::diagnostic::Diagnostic;
use crate::model::{GatewayKind, Model, SubnetId, SubnetKind};
use crate::registry::Code;
use crate::span::Span;
use ipnet::IpNet;
use std::net::IpAddr;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let hosts = model.hosts.iter().flat_map(|h| {
        h.addrs()
            .filter_map(move |a| Some((&h.decl.name, a.value, a.span, h.subnet?)))
    });
    let endpoints = model
        .endpoints
        .iter()
        .filter_map(|e| Some((&e.decl.name, e.addr.value, e.addr.span, e.subnet?)));
    // A NAT gateway's declared private address (`ip ADDRESS`).
    let nat_gateways = model.gateways.iter().filter_map(|g| match &g.kind {
        GatewayKind::NatGateway {
            subnet: Some(sub),
            private_ip: Some(a),
            ..
        } => Some((&g.decl.name, a.value, a.span, *sub)),
        _ => None,
    });
    for (name, addr, span, subnet) in hosts.chain(endpoints).chain(nat_gateways) {
        let sub = model.subnet(subnet);
        let net = sub.prefix_of_family(addr).unwrap_or(&sub.prefix).value;
        if let Some(reason) = reserved(sub.kind, net, addr) {
            out.push(diagnostic(model, name, addr, span, subnet, reason));
        }
    }
}

fn int(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

/// Why `addr` is reserved in `net` on this platform, if it is.
fn reserved(kind: SubnetKind, net: IpNet, addr: IpAddr) -> Option<&'static str> {
    if !net.contains(&addr) {
        return None;
    }
    let host_bits = net.max_prefix_len() - net.prefix_len();
    // Point-to-point and host prefixes have no network or broadcast address.
    if host_bits < 2 {
        return None;
    }
    let offset = int(addr) - int(net.network());
    let last = int(net.broadcast()) - int(net.network());
    let v4 = addr.is_ipv4();
    match kind {
        SubnetKind::VpcSubnet => match offset {
            0 => Some("AWS reserves the network address"),
            1 => Some("AWS reserves it for the VPC router"),
            2 => Some("AWS reserves it for the Amazon-provided DNS server"),
            3 => Some("AWS reserves it for future use"),
            o if o == last => Some("AWS reserves the last address of every subnet"),
            _ => None,
        },
        SubnetKind::NsxSegment => match offset {
            0 => Some("it is the segment's network address"),
            1 => Some("NSX gives the segment's first address to the compute gateway's interface (the segment gateway)"),
            o if o == last && v4 => Some("it is the segment's broadcast address"),
            _ => None,
        },
        SubnetKind::VnetSubnet => match offset {
            0 => Some("it is the subnet's network address"),
            1 => Some("Hyper-V network virtualization uses .1 of every virtual subnet as the VM network's gateway"),
            o if o == last && v4 => Some("it is the subnet's broadcast address"),
            _ => None,
        },
        SubnetKind::OnpremSegment if v4 => match offset {
            0 => Some("it is the segment's network address"),
            o if o == last => Some("it is the segment's broadcast address"),
            _ => None,
        },
        SubnetKind::OnpremSegment => None,
    }
}

/// The first address hosts may use in a subnet of this kind.
fn first_usable(kind: SubnetKind, net: IpNet) -> Option<IpAddr> {
    let skip: u128 = match kind {
        SubnetKind::VpcSubnet => 4,
        SubnetKind::NsxSegment | SubnetKind::VnetSubnet => 2,
        SubnetKind::OnpremSegment => 1,
    };
    let n = int(net.network()) + skip;
    Some(match net.network() {
        IpAddr::V4(_) => IpAddr::V4(u32::try_from(n).ok()?.into()),
        IpAddr::V6(_) => IpAddr::V6(n.into()),
    })
}

fn diagnostic(
    model: &Model,
    name: &str,
    addr: IpAddr,
    span: Span,
    subnet: SubnetId,
    reason: &str,
) -> Diagnostic {
    let sub = model.subnet(subnet);
    // The prefix of the address's family, in a dual-stack subnet.
    let prefix = sub.prefix_of_family(addr).unwrap_or(&sub.prefix);
    let noun = super::util::subnet_noun(model, subnet);
    let mut d = Diagnostic::new(
        Code::NP106,
        format!(
            "`{name}` uses {addr}, which is reserved in {noun} `{}` ({})",
            sub.decl.name, prefix.value
        ),
        span,
        "reserved address",
    )
    .with_label(prefix.span, format!("{noun} `{}`", sub.decl.name));
    let first = first_usable(sub.kind, prefix.value)
        .map(|a| format!("; the first usable address is {a}"))
        .unwrap_or_default();
    d = d.with_help(format!("{reason}: give `{name}` another address{first}"));
    d
}
