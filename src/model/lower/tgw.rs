//! Lowering of transit gateways: attachment subnets, route tables with
//! their associations and propagations, and connections that end on a
//! transit gateway (docs/forwarding.md, "Transit gateway").

use super::{Lowerer, TGW_TARGET, VPC};
use crate::model::*;
use crate::rules::np006_wrong_kind_reference as np006;
use crate::syntax::ast;

/// What a transit gateway's body lowers to, besides `attach` and `route`.
#[derive(Default)]
pub(super) struct TgwBody {
    pub attach_subnets: Vec<(SiteId, Vec<Spanned<SubnetId>>)>,
    pub tables: Vec<TgwTable>,
}

impl Lowerer<'_> {
    /// `attach VPC in [SUBNET, ...]`: the VPC is attached, and its
    /// attachment subnets are resolved in its own scope.
    pub(super) fn lower_attach_in(
        &mut self,
        site: &ast::Name,
        subnets: &[ast::Name],
        attach: &mut Vec<Spanned<Entity>>,
        body: &mut TgwBody,
    ) {
        let Some(Entity::Site(vpc)) = self.resolve(site, None, VPC) else {
            return;
        };
        attach.push(Spanned::new(Entity::Site(vpc), site.span));
        let subs: Vec<Spanned<SubnetId>> = subnets
            .iter()
            .filter_map(|n| self.subnet_ref(n, vpc).map(|s| Spanned::new(s, n.span)))
            .collect();
        body.attach_subnets.push((vpc, subs));
    }

    /// `route-table NAME { associate ...; propagate ...; route ... }`.
    pub(super) fn lower_tgw_table(
        &mut self,
        name: &ast::Name,
        stmts: &[ast::ConnStmt],
        span: Span,
        body: &mut TgwBody,
    ) {
        let mut table = TgwTable {
            name: Some(Spanned::new(name.text.to_string(), name.span)),
            span,
            associate: Vec::new(),
            propagate: Vec::new(),
            routes: Vec::new(),
        };
        for stmt in stmts {
            match stmt {
                ast::ConnStmt::Associate(names, _) | ast::ConnStmt::Propagate(names, _) => {
                    let list: Vec<Spanned<Entity>> = names
                        .iter()
                        .filter_map(|n| {
                            self.resolve(n, None, TGW_TARGET)
                                .map(|e| Spanned::new(e, n.span))
                        })
                        .collect();
                    if matches!(stmt, ast::ConnStmt::Associate(..)) {
                        table.associate.extend(list);
                    } else {
                        table.propagate.extend(list);
                    }
                }
                ast::ConnStmt::Route(r) => {
                    if let Some(route) = self.tgw_route(r) {
                        table.routes.push(route);
                    }
                }
                _ => {}
            }
        }
        body.tables.push(table);
    }

    /// A transit gateway route: `route PREFIX -> ATTACHMENT | blackhole`.
    pub(super) fn tgw_route(&mut self, r: &ast::RouteStmt) -> Option<Route> {
        let target = if r.target.text == "blackhole"
            && self.scopes.get(super::ScopeId::Top, "blackhole").is_none()
        {
            Some(RouteTarget::Blackhole)
        } else {
            match self.resolve(&r.target, None, TGW_TARGET) {
                Some(Entity::Site(s)) => Some(RouteTarget::Site(s)),
                Some(Entity::Connection(x)) => Some(RouteTarget::Connection(x)),
                _ => None,
            }
        };
        target.map(|target| Route {
            prefix: r.prefix.value,
            target,
            origin: RouteOrigin::Static,
            span: r.span,
        })
    }

    /// After every connection is lowered: a connection that ends on a
    /// transit gateway becomes one of its attachments; a gateway without
    /// route tables gets its implicit one; associations and propagations
    /// must name attachments, and an attachment is associated with at most
    /// one table (AWS: "each attachment is associated with exactly one
    /// route table").
    pub(super) fn link_transit_gateways(&mut self) {
        let ends: Vec<(ConnectionId, ConnectionId, Span)> = self
            .model
            .connections
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.tgw_end
                    .as_ref()
                    .map(|t| (ConnectionId(i as u32), t.value, c.decl.name_span))
            })
            .collect();
        for (x, tgw, span) in ends {
            let attach = &mut self.model.connections[tgw.index()].attach;
            if !attach.iter().any(|a| a.value == Entity::Connection(x)) {
                attach.push(Spanned::new(Entity::Connection(x), span));
            }
        }
        let mut diags = Vec::new();
        // AWS: "You can specify only one subnet per Availability Zone".
        // Checked here, once every subnet has its zone.
        for conn in &self.model.connections {
            for (_, subs) in &conn.attach_subnets {
                let zone = |x: &Spanned<SubnetId>| self.model.subnets[x.value.index()].az.as_ref();
                for (i, a) in subs.iter().enumerate() {
                    let Some(z) = zone(a) else {
                        continue;
                    };
                    if let Some(first) = subs[..i]
                        .iter()
                        .find(|b| zone(b).is_some_and(|y| y.value == z.value))
                    {
                        diags.push(
                            np006::misuse(
                                format!(
                                    "a second attachment subnet in availability zone `{}`",
                                    z.value
                                ),
                                a.span,
                                "same zone as an earlier attachment subnet",
                                "a transit gateway attachment takes one subnet per availability zone",
                            )
                            .with_label(first.span, "the first one in that zone"),
                        );
                    }
                }
            }
        }
        for conn in &mut self.model.connections {
            if conn.kind != ast::ConnKind::TransitGateway {
                continue;
            }
            if conn.tables.is_empty() {
                conn.tables.push(TgwTable {
                    name: None,
                    span: conn.decl.span,
                    associate: conn.attach.clone(),
                    propagate: conn.attach.clone(),
                    routes: conn.routes.clone(),
                });
                continue;
            }
            for r in &conn.routes {
                diags.push(np006::misuse(
                    format!(
                        "transit gateway `{}` has route tables: this route belongs in one of them",
                        conn.decl.name
                    ),
                    r.span,
                    "outside every route table",
                    "move the route into the `route-table` whose attachments should use it",
                ));
            }
            conn.routes = conn.tables.iter().flat_map(|t| t.routes.clone()).collect();
            let attached: Vec<Entity> = conn.attach.iter().map(|a| a.value).collect();
            let mut associated: Vec<(Entity, Span)> = Vec::new();
            for t in &conn.tables {
                for a in t.associate.iter().chain(&t.propagate) {
                    if !attached.contains(&a.value) {
                        diags.push(np006::misuse(
                            format!(
                                "this is not an attachment of transit gateway `{}`",
                                conn.decl.name
                            ),
                            a.span,
                            "not attached",
                            "attach it first (`attach NAME`), or end the connection on the transit gateway",
                        ));
                    }
                }
                for a in &t.associate {
                    if let Some((_, first)) = associated.iter().find(|(e, _)| *e == a.value) {
                        diags.push(
                            np006::misuse(
                                "an attachment is associated with one route table only".into(),
                                a.span,
                                "associated a second time",
                                "AWS associates each attachment with exactly one route table: remove one association",
                            )
                            .with_label(*first, "first associated here"),
                        );
                    } else {
                        associated.push((a.value, a.span));
                    }
                }
            }
        }
        self.diags.extend(diags);
    }
}
