//! NP404 blackhole-route: a route whose target is not there for it.
//!
//! AWS keeps such a route in the table and marks it `blackhole`: every
//! packet it matches is dropped. This happens when the target belongs to
//! another VPC, when a peering, transit gateway or VPN does not join the
//! table's VPC, when no SDDC uses the VPC as its connected VPC (`sddc`), or
//! when the target cannot forward at all (an interface endpoint, which is
//! reached at its address, not routed to). A transit gateway route to a site
//! it does not attach is dropped the same way. An explicit `blackhole`
//! target is intended and not reported.

use crate::diagnostic::Diagnostic;
use crate::model::{
    ConnectionId, Entity, GatewayKind, HostKind, Model, Route, RouteTarget, SiteId,
};
use crate::registry::Code;
use crate::span::Span;
use crate::syntax::ast::ConnKind;

/// Why a route's target cannot take its packets, and where the target is
/// declared.
struct Broken {
    target: String,
    why: String,
    decl: Option<Span>,
}

fn joins(model: &Model, c: ConnectionId, site: SiteId) -> bool {
    let conn = &model.connections[c.index()];
    match conn.kind {
        ConnKind::TransitGateway => conn.attach.iter().any(|a| a.value == Entity::Site(site)),
        _ => conn.ends.iter().any(|e| e.value == site),
    }
}

fn vpc_route(model: &Model, vpc: SiteId, r: &Route) -> Option<Broken> {
    let site_name = |s: SiteId| {
        let x = model.site(s);
        format!("{} `{}`", x.kind.keyword(), x.decl.name)
    };
    let here = site_name(vpc);
    match r.target {
        RouteTarget::Local | RouteTarget::Blackhole => None,
        RouteTarget::Sddc => {
            let used = model
                .sites
                .iter()
                .any(|s| s.connected_vpc.is_some_and(|cv| cv.vpc == vpc));
            (!used).then(|| Broken {
                target: "`sddc`".into(),
                why: format!("no SDDC uses {here} as its connected VPC"),
                decl: None,
            })
        }
        RouteTarget::Gateway(g) => {
            let gw = &model.gateways[g.index()];
            let noun = match gw.kind {
                GatewayKind::InternetGateway => "internet gateway",
                GatewayKind::EgressOnlyInternetGateway => "egress-only internet gateway",
                GatewayKind::NatGateway { .. } => "NAT gateway",
                GatewayKind::Vnet { .. } => "NVGRE gateway",
                GatewayKind::Endpoint { .. } => "gateway endpoint",
            };
            let target = format!("{noun} `{}`", gw.decl.name);
            if matches!(gw.kind, GatewayKind::Vnet { .. }) {
                Some(Broken {
                    target,
                    why: "an NVGRE gateway is not attached to any VPC".into(),
                    decl: Some(gw.decl.name_span),
                })
            } else if gw.site != vpc {
                Some(Broken {
                    target,
                    why: format!("it belongs to {}, not {here}", site_name(gw.site)),
                    decl: Some(gw.decl.name_span),
                })
            } else {
                None
            }
        }
        RouteTarget::Host(h) => {
            let host = model.host(h);
            let target = format!("`{}`", host.decl.name);
            if host.kind != HostKind::Instance {
                Some(Broken {
                    target,
                    why: "only an instance (a NAT instance) can be a route target".into(),
                    decl: Some(host.decl.name_span),
                })
            } else if host.site != vpc {
                Some(Broken {
                    target,
                    why: format!("the instance is in {}, not {here}", site_name(host.site)),
                    decl: Some(host.decl.name_span),
                })
            } else {
                None
            }
        }
        RouteTarget::Connection(c) => {
            let conn = &model.connections[c.index()];
            let target = format!("{} `{}`", conn.kind.keyword(), conn.decl.name);
            if conn.kind == ConnKind::L2vpn {
                Some(Broken {
                    target,
                    why: "an L2VPN extends segments and carries no routes".into(),
                    decl: Some(conn.decl.name_span),
                })
            } else if !joins(model, c, vpc) {
                let how = if conn.kind == ConnKind::TransitGateway {
                    "does not attach"
                } else {
                    "does not join"
                };
                Some(Broken {
                    target,
                    why: format!("it {how} {here}"),
                    decl: Some(conn.decl.name_span),
                })
            } else {
                None
            }
        }
        RouteTarget::Endpoint(e) => {
            let ep = &model.endpoints[e.index()];
            Some(Broken {
                target: format!("endpoint `{}`", ep.decl.name),
                why: "an interface endpoint is reached at its address, not routed to".into(),
                decl: Some(ep.decl.name_span),
            })
        }
        RouteTarget::Site(s) => Some(Broken {
            target: site_name(s),
            why: "a VPC route cannot name a site".into(),
            decl: None,
        }),
    }
}

fn push(out: &mut Vec<Diagnostic>, r: &Route, table: &str, b: Broken) {
    let mut d = Diagnostic::new(
        Code::NP404,
        format!(
            "route {} -> {} in {table} is a blackhole: {}, so every packet it matches is dropped",
            r.prefix, b.target, b.why
        ),
        r.span,
        "blackhole: matching packets are dropped",
    );
    if let Some(span) = b.decl {
        d = d.with_label(span, format!("{} is declared here", b.target));
    }
    out.push(d.with_help(
        "point the route at a target attached to this table's VPC (its own internet or NAT gateway, \
         a peering, transit gateway or VPN that joins it), or remove the route; write `blackhole` if \
         dropping is the intent",
    ));
}

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for rt in &model.route_tables {
        let table = format!("route table `{}`", rt.decl.name);
        // A route to a prefix list is one route per prefix, all from one
        // line: that line is reported once.
        let mut lines = Vec::new();
        for r in rt.routes.iter().filter(|r| {
            matches!(
                r.origin,
                crate::model::RouteOrigin::Static | crate::model::RouteOrigin::PrefixList(_)
            )
        }) {
            if lines.contains(&r.span) {
                continue;
            }
            if let Some(b) = vpc_route(model, rt.site, r) {
                lines.push(r.span);
                push(out, r, &table, b);
            }
        }
    }
    for (i, c) in model.connections.iter().enumerate() {
        if c.kind != ConnKind::TransitGateway {
            continue;
        }
        let table = format!("transit gateway `{}`", c.decl.name);
        for r in &c.routes {
            let broken = match r.target {
                RouteTarget::Site(s) if !joins(model, ConnectionId(i as u32), s) => {
                    let site = model.site(s);
                    Some(Broken {
                        target: format!("{} `{}`", site.kind.keyword(), site.decl.name),
                        why: "the transit gateway does not attach it".into(),
                        decl: Some(site.decl.name_span),
                    })
                }
                RouteTarget::Connection(k)
                    if !c.attach.iter().any(|a| a.value == Entity::Connection(k)) =>
                {
                    let conn = &model.connections[k.index()];
                    Some(Broken {
                        target: format!("{} `{}`", conn.kind.keyword(), conn.decl.name),
                        why: "the transit gateway does not attach it".into(),
                        decl: Some(conn.decl.name_span),
                    })
                }
                _ => None,
            };
            if let Some(b) = broken {
                push(out, r, &table, b);
            }
        }
    }
}
