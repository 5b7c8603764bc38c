//! NP403 transitive-peering: a route or expectation relies on a peered VPC
//! to forward traffic beyond its own prefixes.
//!
//! VPC peering is not transitive: the peer delivers only to its own
//! addresses and never forwards edge to edge, through its internet gateway,
//! NAT gateway, VPN, Direct Connect or another peering (AWS, "VPC peering
//! limitations"). A route through a peering for a prefix outside the peer's
//! CIDR blocks, or an `expect egress ... via` a peering, can never work.

use crate::diagnostic::Diagnostic;
use crate::engine::packet_set::AddrRanges;
use crate::model::{ConnectionId, Entity, Model, RouteOrigin, RouteTarget, SiteId};
use crate::registry::Code;
use crate::syntax::ast::{ConnKind, ExpectKind};

/// The addresses a VPC owns: its CIDR blocks, else its subnets.
fn owned(model: &Model, s: SiteId) -> AddrRanges {
    let site = model.site(s);
    if site.prefixes.is_empty() {
        AddrRanges::from_nets(site.subnets.iter().map(|&x| model.subnet(x).prefix.value))
    } else {
        AddrRanges::from_nets(site.prefixes.iter().map(|p| p.value))
    }
}

const HELP: &str = "peering is not transitive: peer directly with the VPC that owns the \
                    destination, or join the VPCs with a transit gateway; for internet access use \
                    this VPC's own internet gateway or NAT gateway";

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for rt in &model.route_tables {
        // A route to a prefix list is one route per prefix, all from one
        // line: that line is reported once.
        let mut lines = Vec::new();
        for r in rt
            .routes
            .iter()
            .filter(|r| matches!(r.origin, RouteOrigin::Static | RouteOrigin::PrefixList(_)))
        {
            if lines.contains(&r.span) {
                continue;
            }
            let RouteTarget::Connection(c) = r.target else {
                continue;
            };
            let conn = &model.connections[c.index()];
            if conn.kind != ConnKind::Peering || !conn.ends.iter().any(|e| e.value == rt.site) {
                // A peering that does not join this VPC is NP404's.
                continue;
            }
            let Some(peer) = conn.ends.iter().find(|e| e.value != rt.site) else {
                continue;
            };
            let peer_site = model.site(peer.value);
            let beyond = AddrRanges::from_net(r.prefix).difference(&owned(model, peer.value));
            if beyond.is_empty() {
                continue;
            }
            lines.push(r.span);
            let prefixes: Vec<String> = peer_site
                .prefixes
                .iter()
                .map(|p| p.value.to_string())
                .collect();
            let owns = if prefixes.is_empty() {
                "its subnets".to_string()
            } else {
                prefixes.join(", ")
            };
            out.push(
                Diagnostic::new(
                    Code::NP403,
                    format!(
                        "route {} -> peering `{}` in route table `{}` relies on vpc `{}` to forward traffic beyond its own addresses ({owns}); a peered VPC never does, so those packets are dropped there",
                        r.prefix, conn.decl.name, rt.decl.name, peer_site.decl.name
                    ),
                    r.span,
                    "edge-to-edge routing through a peering",
                )
                .with_label(
                    conn.decl.span,
                    format!("peering `{}` reaches only vpc `{}`'s own addresses", conn.decl.name, peer_site.decl.name),
                )
                .with_help(HELP),
            );
        }
    }
    for e in &model.expectations {
        if e.kind != ExpectKind::Egress {
            continue;
        }
        let Some(via) = e.via.as_ref() else {
            continue;
        };
        let Entity::Connection(c) = via.value else {
            continue;
        };
        let conn = &model.connections[ConnectionId::index(c)];
        if conn.kind != ConnKind::Peering {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::NP403,
                format!(
                    "this expectation sends internet traffic through peering `{}`, but a peered VPC never forwards it to its internet or NAT gateway",
                    conn.decl.name
                ),
                via.span,
                "internet egress through a peering",
            )
            .with_label(conn.decl.span, format!("peering `{}` is declared here", conn.decl.name))
            .with_help(HELP),
        );
    }
}
