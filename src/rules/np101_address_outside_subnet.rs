//! NP101 address-outside-subnet: a host, endpoint or NAT gateway address is
//! not inside the subnet or segment it is placed in.
//!
//! Platforms refuse such an interface outright (AWS rejects the private IP;
//! NSX never delivers to it), so the design describes something that cannot
//! exist. When another subnet of the same site does contain the address, the
//! help names it: the usual mistake is the wrong `in`, not the wrong address.

use super::util::subnet_noun;
use crate::diagnostic::Diagnostic;
use crate::model::{GatewayKind, Model, SiteId, SubnetId};
use crate::registry::Code;
use crate::span::Span;
use std::net::IpAddr;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    // Each address of a dual-stack instance must lie in its subnet's
    // prefix of the same family.
    let hosts = model.hosts.iter().flat_map(|h| {
        h.addrs()
            .filter_map(move |a| Some((&h.decl.name, a.value, a.span, h.subnet?, h.site)))
    });
    let endpoints = model
        .endpoints
        .iter()
        .filter_map(|e| Some((&e.decl.name, e.addr.value, e.addr.span, e.subnet?, e.site)));
    // A NAT gateway's declared private address (`ip ADDRESS`).
    let nat_gateways = model.gateways.iter().filter_map(|g| match &g.kind {
        GatewayKind::NatGateway {
            subnet: Some(sub),
            private_ip: Some(a),
            ..
        } => Some((&g.decl.name, a.value, a.span, *sub, g.site)),
        _ => None,
    });
    for (name, addr, span, subnet, site) in hosts.chain(endpoints).chain(nat_gateways) {
        if !model.subnet(subnet).contains(addr) {
            out.push(diagnostic(model, name, addr, span, subnet, site));
        }
    }
}

fn diagnostic(
    model: &Model,
    name: &str,
    addr: IpAddr,
    span: Span,
    subnet: SubnetId,
    site: SiteId,
) -> Diagnostic {
    let sub = model.subnet(subnet);
    let noun = subnet_noun(model, subnet);
    let own = sub.prefix_of_family(addr).unwrap_or(&sub.prefix);
    let prefix = own.value;
    let d = Diagnostic::new(
        Code::NP101,
        format!(
            "`{name}` has address {addr}, which is outside {noun} `{}` ({prefix})",
            sub.decl.name
        ),
        span,
        format!("not in {prefix}"),
    )
    .with_label(own.span, format!("{noun} `{}` is {prefix}", sub.decl.name));
    let better = model
        .site(site)
        .subnets
        .iter()
        .map(|&s| model.subnet(s))
        .find(|s| s.contains(addr));
    match better {
        Some(other) => d.with_help(format!(
            "{addr} is inside {noun} `{}` ({}): place `{name}` `in {}`, or give it an address inside {prefix}",
            other.decl.name,
            other.prefix_of_family(addr).unwrap_or(&other.prefix).value,
            other.decl.name
        )),
        None => d.with_help(format!(
            "an interface's address must lie inside its {noun}: give `{name}` an address inside {prefix}, \
             or place it in a {noun} that contains {addr}"
        )),
    }
}
