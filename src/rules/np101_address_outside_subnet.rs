//! NP101 address-outside-subnet: a host, endpoint or NAT gateway address is
//! not inside the subnet or segment it is placed in.
//!
//! Platforms refuse such an interface outright (AWS rejects the private IP;
//! NSX never delivers to it), so the design describes something that cannot
//! exist. When another subnet of the same site does contain the address, the
//! help names it: the usual mistake is the wrong `in`, not the wrong address.
//!
//! An SDDC's management appliance is in no segment: its address must lie in
//! one of the SDDC's `management` prefixes, where VMware Cloud on AWS puts
//! vCenter, ESXi, NSX Manager and HCX.

use super::util::subnet_noun;
use crate::diagnostic::Diagnostic;
use crate::model::{GatewayKind, HostKind, Model, SiteId, SubnetId};
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
    for h in &model.hosts {
        if !matches!(h.kind, HostKind::Appliance(_)) {
            continue;
        }
        let site = model.site(h.site);
        if site
            .management
            .iter()
            .any(|p| p.value.contains(&h.addr.value))
        {
            continue;
        }
        let prefixes: Vec<String> = site
            .management
            .iter()
            .map(|p| p.value.to_string())
            .collect();
        let (message, help) = if prefixes.is_empty() {
            (
                format!(
                    "appliance `{}` has address {}, but sddc `{}` declares no management prefix",
                    h.decl.name, h.addr.value, site.decl.name
                ),
                format!(
                    "declare the SDDC's management network (`management PREFIX`) holding {}",
                    h.addr.value
                ),
            )
        } else {
            (
                format!(
                    "appliance `{}` has address {}, which is outside the management network of \
                     sddc `{}` ({})",
                    h.decl.name,
                    h.addr.value,
                    site.decl.name,
                    prefixes.join(", ")
                ),
                format!(
                    "the appliances live in the management network: give `{}` an address inside {}",
                    h.decl.name,
                    prefixes.join(" or ")
                ),
            )
        };
        let mut d = Diagnostic::new(
            Code::NP101,
            message,
            h.addr.span,
            "not in the management network",
        )
        .with_help(help);
        if let Some(p) = site.management.first() {
            d = d.with_label(p.span, "the management network");
        }
        out.push(d);
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
