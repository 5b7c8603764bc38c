//! Transit gateways, and a VPC's routes over a transit gateway, a VPN or a
//! Direct Connect (docs/forwarding.md, "VPC router" targets and "Transit
//! gateway"; "Oracle decisions": AWS).
//!
//! A VPC route to a transit gateway it is attached to leads, through the
//! attachment subnet of the source's availability zone when the attachment
//! names its subnets, to the `Loc::Tgw` node with the attachment the packet
//! came in by. That node builds the route table associated with the
//! attachment as the oracle does (static routes, then the propagated
//! prefixes of the attachments that propagate to it), takes each route's
//! share of the branch in order of precedence, and enters the attached site
//! (through its attachment subnets' route table, when named) or the far end
//! of a connection. Transit gateways are stateless: replies find their own
//! way back.

use super::{Branch, Loc, Step, Walker};
use crate::engine::packet_set::{addr_bits, AddrRanges, Family, PacketSet};
use crate::model::{ConnectionId, Entity, RouteTarget, SiteId, SubnetId, TgwTable, Uplink};
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
    /// Among propagated routes of one prefix, AWS prefers VPC attachments
    /// (0), then Direct Connect gateways (1), then VPNs (2).
    class: u8,
    next: Next,
    span: Span,
}

/// A transit gateway route table as its lookups use it, built once per
/// table and kept in the [`crate::engine::space::Space`]: building it sorts
/// every propagated prefix, and a gateway with a thousand attachments is
/// passed by a million branches (each reply of each pair of VPCs).
pub(crate) struct TgwLookup {
    routes: Vec<TgwRoute>,
    /// Per route, whether it leads to an attached site or elsewhere.
    attached: Vec<bool>,
    /// Per route, the destinations it takes under longest-prefix match when
    /// it is the first route of its prefix in `routes`; nothing for a later
    /// route of the same prefix, which never takes a packet.
    parts: Vec<AddrRanges>,
    /// The ranges of `parts`, which are disjoint, sorted by first address:
    /// `(family, first, last, route)`, addresses as numbers.
    index: Vec<(Family, u128, u128, usize)>,
}

impl TgwLookup {
    fn new(routes: Vec<TgwRoute>, attached_sites: &[SiteId]) -> TgwLookup {
        let prefixes: Vec<ipnet::IpNet> = routes.iter().map(|r| r.prefix.trunc()).collect();
        let lpm = AddrRanges::lpm_partition(&prefixes);
        let mut seen = std::collections::HashSet::new();
        let mut parts = Vec::with_capacity(routes.len());
        let mut index = Vec::new();
        for (i, (p, part)) in prefixes.iter().zip(lpm).enumerate() {
            if !seen.insert(*p) {
                parts.push(AddrRanges::empty());
                continue;
            }
            for (lo, hi) in part.ranges() {
                let ((f, lo), (_, hi)) = (addr_bits(lo), addr_bits(hi));
                index.push((f, lo, hi, i));
            }
            parts.push(part);
        }
        index.sort_unstable();
        let attached = routes
            .iter()
            .map(|r| !matches!(r.next, Next::Site(s) if !attached_sites.contains(&s)))
            .collect();
        TgwLookup {
            routes,
            attached,
            parts,
            index,
        }
    }

    /// The routes, in order of precedence, whose share holds some of
    /// `dsts`: every other route takes none of a branch going there.
    fn hits(&self, dsts: &AddrRanges) -> Vec<usize> {
        let mut out = Vec::new();
        for (lo, hi) in dsts.ranges() {
            let ((f, lo), (_, hi)) = (addr_bits(lo), addr_bits(hi));
            let start = self.index.partition_point(|e| (e.0, e.2) < (f, lo));
            out.extend(
                self.index[start..]
                    .iter()
                    .take_while(|e| (e.0, e.1) <= (f, hi))
                    .map(|e| e.3),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Where a packet from a VPC subnet enters the transit gateway.
enum Entry {
    /// Through this attachment subnet (`None`: the attachment names none).
    Subnet(Option<SubnetId>),
    Dropped(String, Span, String),
    Undecided(String, Span, String),
}

impl<'s, 'm> Walker<'s, 'm> {
    /// A VPC route whose target is a connection other than a peering. The
    /// source subnet's network ACL outbound has been applied already.
    pub(super) fn vpc_to_connection(
        &self,
        vpc: SiteId,
        from: SubnetId,
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
                let att = match self.tgw_entry(vpc, from, c) {
                    Entry::Subnet(att) => att,
                    Entry::Dropped(reason, at, help) => {
                        return vec![Self::drop(b, reason, at, help)]
                    }
                    Entry::Undecided(reason, at, help) => {
                        return vec![Self::undecided(b, reason, at, help)]
                    }
                };
                // The attachment subnet's ACL judges the packet inbound,
                // whether or not it is the source's own subnet (AWS, "How
                // network ACLs work with transit gateways").
                let (b, mut steps) = match att {
                    Some(a) => self.cross_acls(None, Some(a), &b),
                    None => (b, Vec::new()),
                };
                if b.orig.is_empty() {
                    return steps;
                }
                // Security-group references do not cross a transit gateway
                // (docs/forwarding.md, "Oracle decisions").
                let mut nb = b.hop(
                    &node,
                    format!("to transit gateway `{}`", conn.decl.name),
                    Some(conn.decl.span),
                );
                nb.sender = None;
                steps.push(Step::Go(Loc::Tgw(c, Entity::Site(vpc)), nb));
                steps
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
                // The virtual private gateway is a router: it forwards only
                // what the far side routes over the connection (its BGP
                // prefixes, or the VPN's static routes).
                let mut steps = Vec::new();
                let b = match self.vgw_routes(c, other) {
                    Some(nets) => {
                        let (yes, no) = self.dst_in(&b, nets);
                        if !no.is_empty() {
                            steps.push(Self::drop(
                                b.with(no),
                                format!(
                                    "the virtual private gateway of vpc `{}` has no route for the destination over {} `{}`: `{}` does not advertise it",
                                    self.site_name(vpc),
                                    conn.kind.keyword(),
                                    conn.decl.name,
                                    self.site_name(other)
                                ),
                                span,
                                format!(
                                    "advertise the destination's prefix from `{}` over `{}` (BGP, or a static route of the VPN)",
                                    self.site_name(other),
                                    conn.decl.name
                                ),
                            ));
                        }
                        b.with(yes)
                    }
                    None => b,
                };
                if b.orig.is_empty() {
                    return steps;
                }
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
                steps.extend(self.enter_site(other, Uplink::Connection(c), nb));
                steps
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

    /// The routes a VPC's virtual private gateway has over Direct Connect
    /// or route-based VPN `c` to `other`: the prefixes `other` advertises
    /// (an SDDC also its routed segments and management prefixes). `None`
    /// for a policy-based VPN, whose traffic selectors decide instead.
    fn vgw_routes(&self, c: ConnectionId, other: SiteId) -> Option<AddrRanges> {
        let conn = &self.m().connections[c.index()];
        if conn.vpn_mode == Some(crate::syntax::ast::VpnMode::PolicyBased) {
            return None;
        }
        Some(self.learned_over(c, other))
    }

    /// Where a packet from subnet `from` of `vpc` enters transit gateway
    /// `c`. AWS: "any resources in Availability Zones where there is no
    /// transit gateway attachment cannot reach the transit gateway". An
    /// attachment without named subnets is taken to have one in every zone;
    /// a zone the design does not state leaves the question undecided.
    fn tgw_entry(&self, vpc: SiteId, from: SubnetId, c: ConnectionId) -> Entry {
        let m = self.m();
        let conn = &m.connections[c.index()];
        let Some(atts) = conn.attachment_subnets(vpc) else {
            return Entry::Subnet(None);
        };
        if atts.iter().any(|a| a.value == from) {
            return Entry::Subnet(Some(from));
        }
        let sub = m.subnet(from);
        let Some(zone) = &sub.az else {
            return Entry::Undecided(
                format!(
                    "subnet `{}` states no availability zone, so whether transit gateway `{}` has an attachment in its zone is not known",
                    sub.decl.name, conn.decl.name
                ),
                sub.decl.span,
                "give the subnet and the attachment subnets their `az`".into(),
            );
        };
        if let Some(a) = atts.iter().find(|a| {
            m.subnet(a.value)
                .az
                .as_ref()
                .is_some_and(|z| z.value == zone.value)
        }) {
            return Entry::Subnet(Some(a.value));
        }
        if let Some(a) = atts.iter().find(|a| m.subnet(a.value).az.is_none()) {
            return Entry::Undecided(
                format!(
                    "attachment subnet `{}` of transit gateway `{}` states no availability zone, so whether it is in zone `{}` is not known",
                    m.subnet(a.value).decl.name,
                    conn.decl.name,
                    zone.value
                ),
                a.span,
                "give the attachment subnets their `az`".into(),
            );
        }
        Entry::Dropped(
            format!(
                "transit gateway `{}` has no attachment subnet in zone `{}` of subnet `{}`",
                conn.decl.name, zone.value, sub.decl.name
            ),
            zone.span,
            format!(
                "add a subnet of zone `{}` to `attach {} in [...]`",
                zone.value,
                self.site_name(vpc)
            ),
        )
    }

    /// The routes of one transit gateway route table, in order of
    /// precedence: the longest prefix first, then static routes before
    /// propagated ones of the same prefix, then, among propagated routes,
    /// VPC before Direct Connect before VPN attachments (AWS, "Route
    /// evaluation order"), then the order written. Static routes name an
    /// attachment or `blackhole`; each propagating site propagates its own
    /// prefixes (a site that declares none, its subnets and management
    /// prefixes), and each propagating connection the prefixes its far end
    /// advertises.
    fn tgw_routes(&self, c: ConnectionId, table: &TgwTable) -> Vec<TgwRoute> {
        let m = self.m();
        let conn = &m.connections[c.index()];
        let attached = conn.attached_sites();
        let mut routes = Vec::new();
        for r in &table.routes {
            let next = match r.target {
                RouteTarget::Blackhole => Next::Blackhole,
                RouteTarget::Site(s) => Next::Site(s),
                RouteTarget::Connection(x) => match self.conn_far_end(x, &attached) {
                    Some(f) => Next::Conn(x, f),
                    None => continue,
                },
                _ => continue,
            };
            routes.push(TgwRoute {
                prefix: r.prefix,
                is_static: true,
                class: 0,
                next,
                span: r.span,
            });
        }
        for a in &table.propagate {
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
                            class: 0,
                            next: Next::Site(s),
                            span: a.span,
                        });
                    }
                }
                Entity::Connection(x) => {
                    let xc = &m.connections[x.index()];
                    let class = if xc.kind == ConnKind::DirectConnect {
                        1
                    } else {
                        2
                    };
                    for adv in &xc.advertise {
                        for p in &adv.prefixes {
                            routes.push(TgwRoute {
                                prefix: p.value,
                                is_static: false,
                                class,
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
                r.class,
            )
        });
        routes
    }

    /// Where traffic a transit gateway sends over connection `x` arrives:
    /// the site end of a connection that ends on a transit gateway, else
    /// the end that is not attached to the gateway.
    fn conn_far_end(&self, x: ConnectionId, attached: &[SiteId]) -> Option<SiteId> {
        let xc = &self.m().connections[x.index()];
        if xc.tgw_end.is_some() {
            return xc.ends.first().map(|e| e.value);
        }
        xc.far_end(attached)
    }

    /// The prefixes a transit gateway sends to the far end of connection
    /// `x`, which ends on it: the `advertise TGW` lines when written (a
    /// Direct Connect gateway's allowed prefixes, or a static VPN's routes
    /// on the customer side); otherwise, for a VPN, the routes of the table
    /// associated with it, which BGP carries to the customer gateway (not
    /// blackholes, nor routes back over the VPN itself). A Direct Connect
    /// without allowed prefixes advertises nothing.
    pub(super) fn tgw_advertised(&self, x: ConnectionId) -> Vec<(ipnet::IpNet, Span)> {
        let m = self.m();
        let xc = &m.connections[x.index()];
        if !xc.tgw_advertise.is_empty() {
            return xc.tgw_advertise.iter().map(|p| (p.value, p.span)).collect();
        }
        let Some(t) = &xc.tgw_end else {
            return Vec::new();
        };
        if xc.kind != ConnKind::Vpn {
            return Vec::new();
        }
        let tgw = &m.connections[t.value.index()];
        let Some(table) = tgw.table_of(Entity::Connection(x)) else {
            return Vec::new();
        };
        self.tgw_routes(t.value, table)
            .into_iter()
            .filter(|r| match r.next {
                Next::Blackhole => false,
                Next::Conn(y, _) => y != x,
                Next::Site(_) => true,
            })
            .map(|r| (r.prefix, r.span))
            .collect()
    }

    /// A transit gateway: route lookup over the table associated with the
    /// attachment the packet came in by, then the attached site's router or
    /// the far end of a connection, entered over it.
    pub(super) fn tgw(&self, c: ConnectionId, from: Entity, b: Branch) -> Vec<Step> {
        let m = self.m();
        let conn = &m.connections[c.index()];
        let node = format!("transit-gateway {}", conn.decl.name);
        let Some(ti) = conn
            .tables
            .iter()
            .position(|t| t.associate.iter().any(|x| x.value == from))
        else {
            return vec![Self::drop(
                b,
                format!(
                    "the attachment `{}` of transit gateway `{}` is associated with no route table",
                    self.entity_name(from),
                    conn.decl.name
                ),
                conn.decl.span,
                "add it to the `associate` line of one route table".into(),
            )];
        };
        let table = &conn.tables[ti];
        let b = match &table.name {
            Some(n) => b.hop(&node, format!("route table `{}`", n.value), Some(n.span)),
            None => b,
        };
        let built;
        let lookup = match self.space.tgw_table_cell(c, ti) {
            Some(cell) => cell.get_or_init(|| self.tgw_lookup(c, table)),
            None => {
                built = self.tgw_lookup(c, table);
                &built
            }
        };
        let (shares, rest) = self.tgw_shares(lookup, &b);
        let mut steps = Vec::new();
        for (i, yes) in shares {
            let r = lookup.routes[i];
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
                Next::Site(s) if !lookup.attached[i] => steps.push(Self::drop(
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
                    steps.extend(self.tgw_enter_site(c, s, nb));
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
            let table_words = table
                .name
                .as_ref()
                .map_or(String::new(), |n| format!(" (route table `{}`)", n.value));
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "transit gateway `{}` has no route for the destination{table_words}",
                    conn.decl.name
                ),
                table.name.as_ref().map_or(conn.decl.span, |n| n.span),
                "attach the destination's site and propagate it, or add a `route PREFIX -> ATTACHMENT`"
                    .into(),
            ));
        }
        steps
    }

    fn tgw_lookup(&self, c: ConnectionId, table: &TgwTable) -> TgwLookup {
        let attached = self.m().connections[c.index()].attached_sites();
        TgwLookup::new(self.tgw_routes(c, table), &attached)
    }

    /// Each route's share of branch `b`, in order of precedence, for the
    /// routes that take some of it, and the packets no route takes: the
    /// packets each route's prefix holds, less those of the routes before
    /// it. Only the routes whose share meets the branch's destinations are
    /// cut out (a reply to one address is one route's, not a pass over a
    /// thousand); a destination still as sent is cut in one pass.
    fn tgw_shares(&self, lookup: &TgwLookup, b: &Branch) -> (Vec<(usize, PacketSet)>, PacketSet) {
        use crate::engine::view::{AddrExpr, AddrField};
        let dsts = match b.view.dst {
            AddrExpr::Orig(AddrField::Dst, None) => Some(b.orig.dst_addrs()),
            AddrExpr::Orig(AddrField::Src, None) => Some(b.orig.src_addrs()),
            _ => None,
        };
        let hits = match &dsts {
            Some(d) => lookup.hits(d),
            None => (0..lookup.routes.len()).collect(),
        };
        if b.view.dst == AddrExpr::Orig(AddrField::Dst, None) {
            let parts: Vec<AddrRanges> = hits.iter().map(|&i| lookup.parts[i].clone()).collect();
            let (sets, rest) = b.orig.split_by_dst(&parts);
            let shares = hits
                .into_iter()
                .zip(sets)
                .filter(|(_, s)| !s.is_empty())
                .collect();
            return (shares, rest);
        }
        let mut shares = Vec::new();
        let mut rest = b.orig.clone();
        for i in hits {
            if rest.is_empty() {
                break;
            }
            let (yes, no) = self.dst_in(&b.with(rest.clone()), lookup.parts[i].clone());
            rest = no;
            if !yes.is_empty() {
                shares.push((i, yes));
            }
        }
        (shares, rest)
    }

    /// Entering an attached site from transit gateway `c`. A VPC whose
    /// attachment names its subnets routes the packet by their route table,
    /// as if it left an attachment subnet (so a central egress or inspection
    /// VPC forwards it on); if they use different tables, the one that
    /// applies depends on the zone the gateway picks, which the model does
    /// not know.
    fn tgw_enter_site(&self, c: ConnectionId, s: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let conn = &m.connections[c.index()];
        if m.site(s).kind != SiteKind::Vpc {
            return self.enter_site(s, Uplink::Connection(c), b);
        }
        let Some(atts) = conn.attachment_subnets(s) else {
            // Without attachment subnets the VPC delivers only to its own
            // addresses; say how to let it forward the rest (central
            // egress, inspection) rather than "use a transit gateway".
            let own = AddrRanges::from_nets(m.site(s).prefixes.iter().map(|p| p.value));
            let (local, transit) = self.dst_in(&b, own);
            let mut steps = Vec::new();
            if !transit.is_empty() {
                steps.push(Self::drop(
                    b.with(transit),
                    format!(
                        "vpc `{}` does not forward traffic from transit gateway `{}` to addresses outside it",
                        self.site_name(s),
                        conn.decl.name
                    ),
                    conn.decl.span,
                    format!(
                        "name the attachment subnets (`attach {} in [SUBNET, ...]`): their route table then forwards it, as in a central egress or inspection VPC",
                        self.site_name(s)
                    ),
                ));
            }
            if !local.is_empty() {
                steps.extend(self.enter_site(s, Uplink::Connection(c), b.with(local)));
            }
            return steps;
        };
        let Some(first) = atts.first() else {
            return vec![Self::drop(
                b,
                format!(
                    "the attachment of `{}` to transit gateway `{}` names no subnet",
                    self.site_name(s),
                    conn.decl.name
                ),
                conn.decl.span,
                "name one subnet per availability zone in `attach VPC in [...]`".into(),
            )];
        };
        let table = m.subnet(first.value).route_table;
        if atts.iter().any(|a| m.subnet(a.value).route_table != table) {
            return vec![Self::undecided(
                b,
                format!(
                    "the attachment subnets of `{}` use different route tables; which one routes traffic from transit gateway `{}` depends on the availability zone",
                    self.site_name(s),
                    conn.decl.name
                ),
                first.span,
                "give the attachment subnets one route table".into(),
            )];
        }
        let nb = b.hop(
            &format!("vpc {} / router", self.site_name(s)),
            format!(
                "from transit gateway `{}` through attachment subnet `{}`",
                conn.decl.name,
                m.subnet(first.value).decl.name
            ),
            Some(first.span),
        );
        vec![Step::Go(Loc::VpcTransit(s, first.value, c), nb)]
    }

    fn entity_name(&self, e: Entity) -> String {
        let m = self.m();
        match e {
            Entity::Site(s) => m.site(s).decl.name.clone(),
            Entity::Connection(x) => m.connections[x.index()].decl.name.clone(),
            _ => "?".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::space::Space;
    use crate::engine::view::View;

    const DESIGN: &str = "vpc a 10.1.0.0/16 {\n  subnet s 10.1.1.0/24\n}\nvpc b 10.2.0.0/16 {\n  subnet s 10.2.1.0/24\n}\nvpc c 10.3.0.0/16 {\n  subnet s 10.3.1.0/24\n}\ntransit-gateway hub {\n  attach a, b, c\n  route-table t1 {\n    associate a\n    propagate b, c\n    route 10.2.0.0/16 -> c\n    route 10.2.7.0/24 -> blackhole\n    route 10.2.7.9/24 -> a\n    route 10.0.0.0/8 -> a\n  }\n  route-table t2 {\n    associate b, c\n    propagate a, b, c\n  }\n}\n";

    /// The cached table cuts a branch as cutting it by each route's prefix
    /// in order of precedence did: the same routes, the same shares, the
    /// same packets left over, for requests and for replies (whose
    /// destination is the request's source), wide and narrow.
    #[test]
    fn cached_shares_are_the_prefixes_taken_in_order_of_precedence() {
        let m = crate::model::lower(&crate::syntax::parse(DESIGN).tree).model;
        let space = Space::new(&m);
        let w = Walker::forward(&space);
        let net = |s: &str| AddrRanges::from_net(s.parse().expect("prefix"));
        let sets = [
            PacketSet::all(),
            PacketSet::all().with_dst(&net("10.2.7.0/24")),
            PacketSet::all().with_dst(&net("10.2.0.0/16")),
            PacketSet::all().with_dst(&net("10.3.1.9/32")),
            PacketSet::all().with_src(&net("10.2.9.0/24")),
            PacketSet::all().with_dst(&net("192.0.2.0/24")),
        ];
        let mut cut = 0;
        for (ci, conn) in m.connections.iter().enumerate() {
            let c = ConnectionId(ci as u32);
            for table in &conn.tables {
                let lookup = w.tgw_lookup(c, table);
                for set in &sets {
                    for view in [View::IDENTITY, View::IDENTITY.swapped()] {
                        let mut b = Branch::new(set.clone());
                        b.view = view;
                        let (shares, rest) = w.tgw_shares(&lookup, &b);
                        let mut left = set.clone();
                        let mut want = Vec::new();
                        for (i, r) in w.tgw_routes(c, table).iter().enumerate() {
                            let (yes, no) =
                                w.dst_in(&b.with(left.clone()), AddrRanges::from_net(r.prefix));
                            left = no;
                            if !yes.is_empty() {
                                want.push((i, yes));
                            }
                        }
                        assert_eq!(
                            shares.iter().map(|s| s.0).collect::<Vec<_>>(),
                            want.iter().map(|s| s.0).collect::<Vec<_>>()
                        );
                        for ((_, got), (_, exp)) in shares.iter().zip(&want) {
                            assert!(got.set_eq(exp));
                        }
                        assert!(rest.set_eq(&left));
                        cut += shares.len();
                    }
                }
            }
        }
        assert!(cut > 10);
    }
}
