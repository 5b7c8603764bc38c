//! Helpers shared by the NAT and public-address rules (NP2xx).

use crate::model::{AddrExpr, AddrTerm, Entity, HostId, Model, NatRule, SiteId};
use crate::syntax::ast::NatKind;
use ipnet::IpNet;
use std::net::IpAddr;

/// How a message names a NAT rule's kind ("DNAT `web-in`").
pub fn kind_word(kind: NatKind) -> &'static str {
    match kind {
        NatKind::Dnat => "DNAT",
        NatKind::Snat => "SNAT",
        NatKind::Reflexive => "reflexive NAT",
        NatKind::NoSnat => "no-SNAT",
    }
}

/// The one address a term stands for, when it stands for exactly one: an
/// address (a host-length prefix), or a public IP or host by name.
pub fn single_addr(model: &Model, term: &AddrTerm) -> Option<IpAddr> {
    match *term {
        AddrTerm::Net(net) if net.prefix_len() == net.max_prefix_len() => Some(net.addr()),
        AddrTerm::Range(lo, hi) if lo == hi => Some(lo),
        AddrTerm::Entity(Entity::PublicIp(p)) => {
            model.public_ips.get(p.index()).map(|p| p.addr.value)
        }
        AddrTerm::Entity(Entity::Host(h)) => model.hosts.get(h.index()).map(|h| h.addr.value),
        _ => None,
    }
}

/// The prefixes a NAT side covers, for the terms that are addresses,
/// prefixes or public IPs (the forms a NAT rule's sides take).
pub fn nets(model: &Model, expr: &AddrExpr) -> Vec<IpNet> {
    expr.terms
        .iter()
        .filter_map(|t| match t.value {
            AddrTerm::Net(net) => Some(net),
            _ => single_addr(model, &t.value).map(IpNet::from),
        })
        .collect()
}

/// The hosts a NAT rule's internal side names or holds: hosts by name, and
/// the hosts of its site whose address lies in an address or prefix.
pub fn internal_hosts(model: &Model, rule: &NatRule) -> Vec<HostId> {
    let mut hosts = Vec::new();
    for term in &rule.internal.terms {
        match term.value {
            AddrTerm::Entity(Entity::Host(h)) => hosts.push(h),
            AddrTerm::Net(net) => hosts.extend(site_hosts_in(model, rule.site, net)),
            _ => {}
        }
    }
    hosts.sort();
    hosts.dedup();
    hosts
}

fn site_hosts_in(model: &Model, site: SiteId, net: IpNet) -> impl Iterator<Item = HostId> + '_ {
    model
        .sites
        .get(site.index())
        .into_iter()
        .flat_map(|s| s.hosts.iter().copied())
        .filter(move |&h| net.contains(&model.host(h).addr.value))
}

/// How the internal side of a NAT rule reads in a message and in a fix:
/// the host's name when it is one named host, else its single address.
/// `None` when the side is several things or a whole prefix, which no
/// single replacement can stand for.
pub fn internal_text(model: &Model, rule: &NatRule) -> Option<(String, String)> {
    let [term] = rule.internal.terms.as_slice() else {
        return None;
    };
    match term.value {
        AddrTerm::Entity(Entity::Host(h)) => {
            let host = model.hosts.get(h.index())?;
            Some((host.addr.value.to_string(), host.decl.name.clone()))
        }
        _ => {
            let addr = single_addr(model, &term.value)?;
            Some((addr.to_string(), addr.to_string()))
        }
    }
}

/// How a message names a route's target ("internet gateway `igw`").
pub fn target_words(model: &Model, target: crate::model::RouteTarget) -> String {
    use crate::model::{GatewayKind, RouteTarget};
    match target {
        RouteTarget::Local => "`local`".into(),
        RouteTarget::Sddc => "the connected SDDC".into(),
        RouteTarget::Blackhole => "`blackhole`".into(),
        RouteTarget::Gateway(g) => match model.gateways.get(g.index()) {
            Some(gw) => {
                let kind = match gw.kind {
                    GatewayKind::InternetGateway => "internet gateway",
                    GatewayKind::EgressOnlyInternetGateway => "egress-only internet gateway",
                    GatewayKind::NatGateway { .. } => "NAT gateway",
                    GatewayKind::Vnet { .. } => "gateway",
                    GatewayKind::Endpoint { .. } => "gateway endpoint",
                };
                format!("{kind} `{}`", gw.decl.name)
            }
            None => "a gateway".into(),
        },
        RouteTarget::Host(h) => format!("instance `{}`", model.host(h).decl.name),
        RouteTarget::Connection(c) => match model.connections.get(c.index()) {
            Some(conn) => format!("{} `{}`", conn.kind.keyword(), conn.decl.name),
            None => "a connection".into(),
        },
        RouteTarget::Endpoint(e) => match model.endpoints.get(e.index()) {
            Some(ep) => format!("endpoint `{}`", ep.decl.name),
            None => "an endpoint".into(),
        },
        RouteTarget::Site(s) => format!("`{}`", model.site(s).decl.name),
    }
}

/// A route table as a message names it.
pub fn table_words(model: &Model, rt: crate::model::RouteTableId) -> String {
    match model.route_tables.get(rt.index()) {
        Some(t) if t.decl.implicit => "the main route table".into(),
        Some(t) => format!("route table `{}`", t.decl.name),
        None => "its route table".into(),
    }
}

/// The IPv4 default route of a subnet's route table, if it has one.
pub fn default_route(
    model: &Model,
    subnet: crate::model::SubnetId,
) -> Option<(crate::model::RouteTableId, crate::model::Route)> {
    let rt = model.subnets.get(subnet.index())?.route_table?;
    let table = model.route_tables.get(rt.index())?;
    let route = table
        .routes
        .iter()
        .find(|r| r.prefix.prefix_len() == 0 && r.prefix.addr().is_ipv4())?;
    Some((rt, *route))
}

/// Whether a route target is an internet gateway.
pub fn is_igw(model: &Model, target: crate::model::RouteTarget) -> bool {
    matches!(target, crate::model::RouteTarget::Gateway(g)
        if model.gateways.get(g.index()).is_some_and(|g| g.kind == crate::model::GatewayKind::InternetGateway))
}
