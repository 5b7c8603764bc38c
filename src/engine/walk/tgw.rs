//! Transit gateways, and a VPC's routes over a transit gateway, a VPN or a
//! Direct Connect (docs/forwarding.md, "VPC router" targets and "Transit
//! gateway"; "Oracle decisions": AWS).
//!
//! A VPC route to a transit gateway it is attached to leads to the
//! `Loc::Tgw` node, which builds the gateway's table as the oracle does
//! (static routes, then each attachment's propagated prefixes), takes each
//! route's share of the branch in order of precedence, and enters the
//! attached site or the far end of a connection. Transit gateways are
//! stateless: replies find their own way back.

use super::{Branch, Loc, Step, Walker};
use crate::engine::packet_set::AddrRanges;
use crate::model::{ConnectionId, Entity, RouteTarget, SiteId, Uplink};
use crate::span::Span;
use crate::syntax::ast::{ConnKind, SiteKind};

/// Where a transit gateway route leads.
#[derive(Clone, Copy, Debug)]
enum Next {
    /// An attached site (or a site a static route names, attached or not).
    Site(SiteId),
    /// Over a connection, to the router of this end of it.
    Conn(ConnectionId, SiteId),
    Blackhole,
}

/// One route of a transit gateway's table.
#[derive(Clone, Copy, Debug)]
struct TgwRoute {
    prefix: ipnet::IpNet,
    is_static: bool,
    next: Next,
    span: Span,
}

impl<'s, 'm> Walker<'s, 'm> {
    /// A VPC route whose target is a connection other than a peering. The
    /// source subnet's network ACL outbound has been applied already.
    pub(super) fn vpc_to_connection(
        &self,
        vpc: SiteId,
        c: ConnectionId,
        span: Span,
        b: Branch,
    ) -> Vec<Step> {
        let m = self.m();
        let conn = &m.connections[c.index()];
        let node = format!("vpc {} / router", self.site_name(vpc));
        match conn.kind {
            ConnKind::TransitGateway => {
                if !conn.attach.iter().any(|a| a.value == Entity::Site(vpc)) {
                    return vec![Self::drop(
                        b,
                        format!(
                            "vpc `{}` is not attached to transit gateway `{}`",
                            self.site_name(vpc),
                            conn.decl.name
                        ),
                        span,
                        format!("add `attach` for this vpc to `{}`", conn.decl.name),
                    )];
                }
                // Security-group references do not cross a transit gateway
                // (docs/forwarding.md, "Oracle decisions").
                let mut nb = b.hop(
                    &node,
                    format!("to transit gateway `{}`", conn.decl.name),
                    Some(conn.decl.span),
                );
                nb.sender = None;
                vec![Step::Go(Loc::Tgw(c), nb)]
            }
            ConnKind::DirectConnect | ConnKind::Vpn => {
                let ends: Vec<SiteId> = conn.ends.iter().map(|e| e.value).collect();
                let other = match ends.as_slice() {
                    [a, o] | [o, a] if *a == vpc => Some(*o),
                    _ => None,
                };
                let Some(other) = other else {
                    return vec![Self::drop(
                        b,
                        format!(
                            "{} `{}` does not join vpc `{}`",
                            conn.kind.keyword(),
                            conn.decl.name,
                            self.site_name(vpc)
                        ),
                        span,
                        "route to a connection of this vpc".into(),
                    )];
                };
                let nb = b.hop(
                    &node,
                    format!(
                        "over {} `{}` to {}",
                        conn.kind.keyword(),
                        conn.decl.name,
                        self.site_name(other)
                    ),
                    Some(conn.decl.span),
                );
                self.enter_site(other, Uplink::Connection(c), nb)
            }
            ConnKind::L2vpn | ConnKind::Peering => vec![Self::drop(
                b,
                format!(
                    "{} `{}` is not a route target here",
                    conn.kind.keyword(),
                    conn.decl.name
                ),
                span,
                "route to a direct-connect, vpn or transit gateway".into(),
            )],
        }
    }

    /// The route table of transit gateway `c`, in order of precedence: the
    /// longest prefix first, then static routes before propagated ones of
    /// the same prefix, then the order written. Static routes name a site,
    /// a connection or `blackhole`; each attached site propagates its own
    /// prefixes (a site that declares none, its subnets and management
    /// prefixes), and each attached connection the prefixes its `advertise`
    /// lines name, towards the site that advertises them.
    fn tgw_routes(&self, c: ConnectionId) -> Vec<TgwRoute> {
        let m = self.m();
        let conn = &m.connections[c.index()];
        let attached = conn.attached_sites();
        let mut routes = Vec::new();
        for r in &conn.routes {
            let next = match r.target {
                RouteTarget::Blackhole => Next::Blackhole,
                RouteTarget::Site(s) => Next::Site(s),
                RouteTarget::Connection(x) => match m.connections[x.index()].far_end(&attached) {
                    Some(f) => Next::Conn(x, f),
                    None => continue,
                },
                _ => continue,
            };
            routes.push(TgwRoute {
                prefix: r.prefix,
                is_static: true,
                next,
                span: r.span,
            });
        }
        for a in &conn.attach {
            match a.value {
                Entity::Site(s) => {
                    let site = m.site(s);
                    let mut nets: Vec<ipnet::IpNet> =
                        site.prefixes.iter().map(|p| p.value).collect();
                    if nets.is_empty() {
                        nets = site
                            .management
                            .iter()
                            .map(|p| p.value)
                            .chain(site.subnets.iter().map(|&x| m.subnet(x).prefix.value))
                            .collect();
                    }
                    for prefix in nets {
                        routes.push(TgwRoute {
                            prefix,
                            is_static: false,
                            next: Next::Site(s),
                            span: a.span,
                        });
                    }
                }
                Entity::Connection(x) => {
                    for adv in &m.connections[x.index()].advertise {
                        for p in &adv.prefixes {
                            routes.push(TgwRoute {
                                prefix: p.value,
                                is_static: false,
                                next: Next::Conn(x, adv.site),
                                span: p.span,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        // A stable sort keeps the written order among equals: the first
        // route written wins a tie, as in the oracle.
        routes.sort_by_key(|r| {
            (
                std::cmp::Reverse(r.prefix.prefix_len()),
                std::cmp::Reverse(r.is_static),
            )
        });
        routes
    }

    /// A transit gateway: route lookup over its table, then the attached
    /// site's router (a VPC's *from a gateway*) or the far end of a
    /// connection, entered over it.
    pub(super) fn tgw(&self, c: ConnectionId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let conn = &m.connections[c.index()];
        let node = format!("transit-gateway {}", conn.decl.name);
        let attached = conn.attached_sites();
        let mut steps = Vec::new();
        let mut rest = b.orig.clone();
        for r in self.tgw_routes(c) {
            if rest.is_empty() {
                break;
            }
            let (yes, no) = self.dst_in(&b.with(rest.clone()), AddrRanges::from_net(r.prefix));
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let kind = if r.is_static { "static" } else { "propagated" };
            let nb = b.with(yes);
            match r.next {
                Next::Blackhole => steps.push(Self::drop(
                    nb,
                    format!(
                        "transit gateway `{}` routes {} to a blackhole",
                        conn.decl.name, r.prefix
                    ),
                    r.span,
                    "remove the blackhole route, or add a more specific one".into(),
                )),
                Next::Site(s) if !attached.contains(&s) => steps.push(Self::drop(
                    nb,
                    format!(
                        "transit gateway `{}` routes {} to `{}`, which is not attached",
                        conn.decl.name,
                        r.prefix,
                        self.site_name(s)
                    ),
                    r.span,
                    format!("add `attach` for it to `{}`", conn.decl.name),
                )),
                Next::Site(s) => {
                    let nb = nb.hop(
                        &node,
                        format!("route {} -> {} ({kind})", r.prefix, self.site_name(s)),
                        Some(r.span),
                    );
                    steps.extend(self.enter_site(s, Uplink::Connection(c), nb));
                }
                Next::Conn(x, far) => {
                    let xc = &m.connections[x.index()];
                    let nb = nb.hop(
                        &node,
                        format!(
                            "route {} -> {} `{}` ({kind}), to {}",
                            r.prefix,
                            xc.kind.keyword(),
                            xc.decl.name,
                            self.site_name(far)
                        ),
                        Some(r.span),
                    );
                    if m.site(far).kind == SiteKind::Internet {
                        steps.push(Self::drop(
                            nb,
                            "a connection cannot end on the internet".into(),
                            r.span,
                            String::new(),
                        ));
                    } else {
                        steps.extend(self.enter_site(far, Uplink::Connection(x), nb));
                    }
                }
            }
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "transit gateway `{}` has no route for the destination",
                    conn.decl.name
                ),
                conn.decl.span,
                "attach the destination's site, or add a `route PREFIX -> SITE`".into(),
            ));
        }
        steps
    }
}
