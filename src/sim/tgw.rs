//! Transit gateways: route tables with their associations and propagations,
//! attachment subnets and zones, and Direct Connect and VPN connections that
//! end on a transit gateway (docs/forwarding.md, "Transit gateway").
//!
//! Written apart from the engine: a packet looks up the table associated
//! with the attachment it came in by, among every route that holds its
//! destination, and the best one wins by AWS's order.

use super::walk::{drop, At, Drop, Step, VpcFrom, Walker};
use super::{Packet, Stage};
use crate::model::{ConnectionId, Entity, RouteTarget, SiteId, SubnetId, TgwTable};
use crate::span::Span;
use crate::syntax::ast::{ConnKind, SiteKind};
use ipnet::IpNet;

/// Where a transit gateway route leads.
#[derive(Clone, Copy, PartialEq)]
enum Hop {
    Site(SiteId),
    Conn(ConnectionId, SiteId),
    Blackhole,
}

/// A candidate route: its prefix, whether it is static, its propagation
/// class (VPC 0, Direct Connect 1, VPN 2), where it leads, and its span.
type Cand = (IpNet, bool, u8, Hop, Span);

impl<'m> Walker<'m> {
    /// The transit gateway connection `c` ends on, if it ends on one.
    pub(super) fn tgw_of(&self, c: ConnectionId) -> Option<ConnectionId> {
        self.m
            .connections
            .get(c.index())
            .and_then(|x| x.tgw_end.as_ref())
            .map(|t| t.value)
    }

    /// Over connection `c` to the transit gateway it ends on.
    pub(super) fn over_to_tgw(&mut self, c: ConnectionId, p: Packet) -> Step {
        let Some(t) = self.tgw_of(c) else {
            return drop("the connection ends on no transit gateway", None, "").into();
        };
        self.hop(
            Stage::Forward,
            format!(
                "over {} to transit-gateway {}",
                self.conn_name(c),
                self.tgw_name(t)
            ),
            self.m.connections.get(c.index()).map(|x| x.decl.span),
        );
        Step::Next(At::Tgw(t, Entity::Connection(c)), p)
    }

    fn tgw_name(&self, t: ConnectionId) -> String {
        self.m
            .connections
            .get(t.index())
            .map_or_else(|| "?".into(), |x| x.decl.name.clone())
    }

    /// Every route of `table` of transit gateway `t`.
    fn tgw_candidates(&self, t: ConnectionId, table: &TgwTable) -> Vec<Cand> {
        let m = self.m;
        let Some(tgw) = m.connections.get(t.index()) else {
            return Vec::new();
        };
        let direct = tgw.attached_sites();
        let mut out: Vec<Cand> = Vec::new();
        for r in &table.routes {
            let hop = match r.target {
                RouteTarget::Blackhole => Hop::Blackhole,
                RouteTarget::Site(s) => Hop::Site(s),
                RouteTarget::Connection(x) => {
                    let Some(xc) = m.connections.get(x.index()) else {
                        continue;
                    };
                    let far = if xc.tgw_end.is_some() {
                        xc.ends.first().map(|e| e.value)
                    } else {
                        xc.ends
                            .iter()
                            .map(|e| e.value)
                            .find(|e| !direct.contains(e))
                            .or_else(|| xc.ends.last().map(|e| e.value))
                    };
                    match far {
                        Some(f) => Hop::Conn(x, f),
                        None => continue,
                    }
                }
                _ => continue,
            };
            out.push((r.prefix, true, 0, hop, r.span));
        }
        for a in &table.propagate {
            match a.value {
                Entity::Site(s) => {
                    // An attachment propagates the site's own prefixes (a
                    // VPC's CIDRs), not its subnets; a VM network declares
                    // only subnets, so those stand in.
                    if let Some(site) = m.sites.get(s.index()) {
                        let mut nets: Vec<IpNet> = site.prefixes.iter().map(|p| p.value).collect();
                        if nets.is_empty() {
                            nets = super::matching::site_space(m, site).collect();
                        }
                        out.extend(
                            nets.into_iter()
                                .map(|n| (n, false, 0, Hop::Site(s), a.span)),
                        );
                    }
                }
                Entity::Connection(x) => {
                    if let Some(xc) = m.connections.get(x.index()) {
                        let class = match xc.kind {
                            ConnKind::DirectConnect => 1,
                            _ => 2,
                        };
                        for adv in &xc.advertise {
                            for n in &adv.prefixes {
                                out.push((n.value, false, class, Hop::Conn(x, adv.site), n.span));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The best route for `dst` among `cands`: the longest prefix, then a
    /// static route, then the lowest propagation class, then the first.
    fn tgw_best(cands: &[Cand], dst: std::net::IpAddr) -> Option<Cand> {
        cands
            .iter()
            .enumerate()
            .filter(|(_, r)| r.0.contains(&dst))
            .max_by_key(|(i, r)| {
                (
                    r.0.prefix_len(),
                    r.1,
                    std::cmp::Reverse(r.2),
                    std::cmp::Reverse(*i),
                )
            })
            .map(|(_, r)| *r)
    }

    /// The prefixes a transit gateway sends over connection `x`, which ends
    /// on it: its `advertise TGW` lines; without them, for a VPN, by BGP,
    /// the routes of the table associated with it, except blackholes and
    /// routes back over `x`; for a Direct Connect, nothing.
    pub(super) fn tgw_advertised(&self, x: ConnectionId) -> Vec<(IpNet, Option<Span>)> {
        let m = self.m;
        let Some(xc) = m.connections.get(x.index()) else {
            return Vec::new();
        };
        if !xc.tgw_advertise.is_empty() {
            return xc
                .tgw_advertise
                .iter()
                .map(|p| (p.value, Some(p.span)))
                .collect();
        }
        let (Some(t), ConnKind::Vpn) = (self.tgw_of(x), xc.kind) else {
            return Vec::new();
        };
        let Some(table) = m
            .connections
            .get(t.index())
            .and_then(|tgw| tgw.table_of(Entity::Connection(x)))
        else {
            return Vec::new();
        };
        self.tgw_candidates(t, table)
            .into_iter()
            .filter(|c| c.3 != Hop::Blackhole && !matches!(c.3, Hop::Conn(y, _) if y == x))
            .map(|c| (c.0, Some(c.4)))
            .collect()
    }

    /// A transit gateway: the table associated with attachment `from`, its
    /// best route for the destination, and the attachment it leads to.
    pub(super) fn tgw(&mut self, c: ConnectionId, from: Entity, p: Packet) -> Step {
        let m = self.m;
        let Some(conn) = m.connections.get(c.index()) else {
            return drop("the transit gateway does not exist", None, "").into();
        };
        let Some(table) = conn.table_of(from) else {
            return drop(
                format!(
                    "transit gateway `{}` has no route table associated with the attachment the packet came in by",
                    conn.decl.name
                ),
                Some(conn.decl.span),
                "associate the attachment with a route table",
            )
            .at(Stage::Route)
            .into();
        };
        if let Some(n) = &table.name {
            self.hop(
                Stage::Route,
                format!("route table `{}` (associated with the attachment)", n.value),
                Some(n.span),
            );
        }
        let cands = self.tgw_candidates(c, table);
        let Some((prefix, is_static, _, hop, span)) = Self::tgw_best(&cands, p.dst) else {
            let in_table = table
                .name
                .as_ref()
                .map_or(String::new(), |n| format!(" in route table `{}`", n.value));
            return drop(
                format!(
                    "transit gateway `{}` has no route for {}{in_table}",
                    conn.decl.name, p.dst
                ),
                Some(conn.decl.span),
                "attach and propagate the destination's site, or add a `route PREFIX -> ATTACHMENT`",
            )
            .at(Stage::Route)
            .into();
        };
        let kind = if is_static { "static" } else { "propagated" };
        match hop {
            Hop::Blackhole => drop(
                format!(
                    "transit gateway `{}` routes {prefix} to a blackhole",
                    conn.decl.name
                ),
                Some(span),
                "remove the blackhole route, or add a more specific one",
            )
            .at(Stage::Route)
            .into(),
            Hop::Site(s) => {
                let attached = conn.attach.iter().any(|a| a.value == Entity::Site(s));
                if !attached {
                    return drop(
                        format!(
                            "transit gateway `{}` routes {prefix} to {}, which is not attached",
                            conn.decl.name,
                            self.site_name(s)
                        ),
                        Some(span),
                        format!("add `attach` for it to `{}`", conn.decl.name),
                    )
                    .at(Stage::Route)
                    .into();
                }
                self.hop(
                    Stage::Route,
                    format!("longest match {prefix} -> {} ({kind})", self.site_name(s)),
                    Some(span),
                );
                self.tgw_into_site(c, s, p)
            }
            Hop::Conn(x, far) => {
                self.hop(
                    Stage::Route,
                    format!("longest match {prefix} -> {} ({kind})", self.conn_name(x)),
                    Some(span),
                );
                if m.sites
                    .get(far.index())
                    .is_some_and(|s| s.kind == SiteKind::Internet)
                {
                    return drop("a connection cannot end on the internet", Some(span), "").into();
                }
                self.enter_over(x, far, p)
            }
        }
    }

    /// From transit gateway `c` into attached site `s`: a VPC whose
    /// attachment names its subnets routes the packet by their route table,
    /// as a packet leaving an attachment subnet; when they use different
    /// tables, the zone the gateway picks decides, which a design cannot
    /// state.
    fn tgw_into_site(&mut self, c: ConnectionId, s: SiteId, p: Packet) -> Step {
        let m = self.m;
        let is_vpc = m
            .sites
            .get(s.index())
            .is_some_and(|x| x.kind == SiteKind::Vpc);
        let subs = m
            .connections
            .get(c.index())
            .and_then(|conn| conn.attachment_subnets(s))
            .map(<[_]>::to_vec);
        let (true, Some(subs)) = (is_vpc, subs) else {
            return self.enter_over(c, s, p);
        };
        let Some(first) = subs.first() else {
            return drop(
                "the VPC's transit gateway attachment names no subnet",
                None,
                "name one subnet per availability zone",
            )
            .into();
        };
        let table_of = |x: SubnetId| m.subnets.get(x.index()).and_then(|z| z.route_table);
        if subs
            .iter()
            .any(|a| table_of(a.value) != table_of(first.value))
        {
            return drop(
                "the attachment subnets use different route tables; the one used depends on the availability zone",
                Some(first.span),
                "give the attachment subnets one route table",
            )
            .undecided()
            .into();
        }
        self.hop(
            Stage::Forward,
            format!(
                "from {} into {} through an attachment subnet",
                self.conn_name(c),
                self.site_name(s)
            ),
            Some(first.span),
        );
        Step::Next(
            At::VpcRouter {
                vpc: s,
                from: VpcFrom::Transit(first.value, c),
            },
            p,
        )
    }

    /// The attachment subnet through which a packet from subnet `from` of
    /// `vpc` enters transit gateway `c` (`None`: the attachment names no
    /// subnets, so every zone has one). AWS: resources in a zone without an
    /// attachment subnet cannot reach the transit gateway.
    pub(super) fn tgw_entry(
        &self,
        vpc: SiteId,
        from: SubnetId,
        c: ConnectionId,
    ) -> Result<Option<SubnetId>, Drop> {
        let m = self.m;
        let Some(subs) = m
            .connections
            .get(c.index())
            .and_then(|conn| conn.attachment_subnets(vpc))
        else {
            return Ok(None);
        };
        if subs.iter().any(|a| a.value == from) {
            return Ok(Some(from));
        }
        let zone = |x: SubnetId| m.subnets.get(x.index()).and_then(|z| z.az.as_ref());
        let Some(mine) = zone(from) else {
            return Err(drop(
                "the subnet states no availability zone, so whether the transit gateway has an attachment subnet in its zone is not known",
                m.subnets.get(from.index()).map(|x| x.decl.span),
                "give the subnets their `az`",
            )
            .undecided());
        };
        for a in subs {
            match zone(a.value) {
                Some(z) if z.value == mine.value => return Ok(Some(a.value)),
                None => {
                    return Err(drop(
                        "an attachment subnet states no availability zone, so whether it is in the source's zone is not known",
                        Some(a.span),
                        "give the attachment subnets their `az`",
                    )
                    .undecided())
                }
                Some(_) => {}
            }
        }
        Err(drop(
            format!(
                "the transit gateway has no attachment subnet in availability zone `{}`",
                mine.value
            ),
            Some(mine.span),
            "add an attachment subnet in that zone",
        )
        .at(Stage::Route))
    }
}
