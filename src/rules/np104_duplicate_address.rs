//! NP104 duplicate-address: two things own the same address in one routing
//! domain.
//!
//! Private addresses are owned per site (each site is its own routing
//! domain: overlapping sites are NP105's concern). Public addresses are owned
//! across the whole design, because the internet is one routing domain:
//! public IPs and Elastic IPs, an instance's public or Elastic IP, a NAT
//! gateway's Elastic IP, SNAT addresses, gateway external addresses and
//! internet hosts. A NAT gateway's declared private address (`ip`) is owned
//! in its VPC like a host's. An instance's `elastic-ip A` and an `elastic-ip NAME A`
//! declaration associated with it (or with nothing yet) are one Elastic IP,
//! not two; an SDDC's `default-snat` naming one of its own public IPs uses
//! it rather than owning it again.

use crate::diagnostic::Diagnostic;
use crate::model::{
    DefaultSnat, Entity, GatewayId, GatewayKind, HostId, HostKind, Model, PublicIpKind, SiteId,
};
use crate::registry::Code;
use crate::span::Span;
use std::collections::HashMap;
use std::net::IpAddr;

struct Owner {
    span: Span,
    what: String,
}

/// Which routing domain an address is owned in.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Domain {
    Site(SiteId),
    Internet,
}

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let mut owners: HashMap<(Domain, IpAddr), Vec<Owner>> = HashMap::new();
    let mut own = |domain: Domain, addr: IpAddr, span: Span, what: String| {
        owners
            .entry((domain, addr))
            .or_default()
            .push(Owner { span, what });
    };

    for (i, h) in model.hosts.iter().enumerate() {
        let entity = Entity::Host(HostId(i as u32));
        let noun = model
            .decl_kind(entity)
            .article_noun()
            .split_once(' ')
            .map_or("host", |x| x.1);
        let what = format!("{noun} `{}`", model.display_name(entity));
        if h.kind == HostKind::InternetHost {
            own(Domain::Internet, h.addr.value, h.addr.span, what);
            continue;
        }
        if let Some(p) = h.public {
            if !is_declared_elastic_ip(model, p.addr, entity) {
                own(
                    Domain::Internet,
                    p.addr,
                    p.span,
                    format!("the public address of {what}"),
                );
            }
        }
        for a in h.addrs() {
            own(Domain::Site(h.site), a.value, a.span, what.clone());
        }
    }
    for e in &model.endpoints {
        own(
            Domain::Site(e.site),
            e.addr.value,
            e.addr.span,
            format!("endpoint `{}`", e.decl.name),
        );
    }
    for p in &model.public_ips {
        let kw = match p.kind {
            PublicIpKind::Sddc => "public-ip",
            PublicIpKind::Elastic => "elastic-ip",
        };
        own(
            Domain::Internet,
            p.addr.value,
            p.addr.span,
            format!("{kw} `{}`", p.decl.name),
        );
    }
    for (i, g) in model.gateways.iter().enumerate() {
        if let GatewayKind::NatGateway {
            private_ip: Some(a),
            ..
        } = &g.kind
        {
            own(
                Domain::Site(g.site),
                a.value,
                a.span,
                format!("nat-gateway `{}`", g.decl.name),
            );
        }
        match &g.kind {
            GatewayKind::NatGateway {
                elastic_ip: Some(a),
                ..
            } if !is_declared_elastic_ip(model, a.value, Entity::Gateway(GatewayId(i as u32))) => {
                own(
                    Domain::Internet,
                    a.value,
                    a.span,
                    format!("the Elastic IP of nat-gateway `{}`", g.decl.name),
                );
            }
            GatewayKind::Vnet {
                external_ip: Some(a),
                ..
            } => {
                own(
                    Domain::Internet,
                    a.value,
                    a.span,
                    format!("the external address of gateway `{}`", g.decl.name),
                );
            }
            _ => {}
        }
    }
    for (i, s) in model.sites.iter().enumerate() {
        let site = SiteId(i as u32);
        if let DefaultSnat::Addr(a, span) = s.default_snat {
            let uses_own_public_ip = model
                .public_ips
                .iter()
                .any(|p| p.site == site && p.addr.value == a);
            if !uses_own_public_ip {
                own(
                    Domain::Internet,
                    a,
                    span,
                    format!("the default SNAT address of `{}`", s.decl.name),
                );
            }
        }
        if let Some(e) = &s.internet_egress {
            own(
                Domain::Internet,
                e.value,
                e.span,
                format!("the internet egress address of `{}`", s.decl.name),
            );
        }
    }

    for ((domain, addr), mut list) in owners {
        if list.len() < 2 {
            continue;
        }
        list.sort_by_key(|o| o.span.start);
        let (where_, help) = match domain {
            Domain::Site(s) => (
                format!("in `{}`", model.site(s).decl.name),
                "one routing domain cannot deliver an address to two interfaces: give one of them another address",
            ),
            Domain::Internet => (
                "on the internet".to_string(),
                "a public address has exactly one owner on the internet: allocate another one for one of them",
            ),
        };
        let first = &list[0];
        for dup in &list[1..] {
            out.push(
                Diagnostic::new(
                    Code::NP104,
                    format!(
                        "{addr} is owned twice {where_}: by {} and by {}",
                        first.what, dup.what
                    ),
                    dup.span,
                    format!("{addr} again"),
                )
                .with_label(first.span, format!("already owned by {}", first.what))
                .with_help(help),
            );
        }
    }
}

/// True when an `elastic-ip` declaration with this address exists and is
/// associated with `owner` or with nothing: then the inline address is that
/// declaration, not a second allocation.
fn is_declared_elastic_ip(model: &Model, addr: IpAddr, owner: Entity) -> bool {
    model.public_ips.iter().any(|p| {
        p.kind == PublicIpKind::Elastic
            && p.addr.value == addr
            && p.target.as_ref().is_none_or(|t| t.value == owner)
    })
}
