//! AWS: the VPC router, network ACLs, security groups, and the SDDC's ENIs.
//! The VPC's gateways are in `vpc_gateways.rs`, PrivateLink and NLBs in
//! `privatelink.rs`.

use super::matching::{self, Peer, Sender};
use super::walk::{drop, tri, At, Drop, Entry, Iface, StateKey, Step, VpcFrom, Walker};
use super::{Packet, Party, Stage};
use crate::model::{
    ConnectionId, EndpointId, GatewayId, GatewayKind, HostKind, NlbId, Route, RouteOrigin,
    RouteTarget, SgId, SiteId, SubnetId,
};
use crate::span::Span;
use crate::syntax::ast::{AclAction, ConnKind, SiteKind};

/// How a service reads in a suggested rule: `tcp/443`, `udp/123`, `icmp`.
pub(super) fn svc_literal(p: &Packet) -> String {
    match p.proto {
        super::TCP => format!("tcp/{}", p.dport),
        super::UDP => format!("udp/{}", p.dport),
        super::ICMP => "icmp".into(),
        super::ICMPV6 => "icmpv6".into(),
        n => n.to_string(),
    }
}

/// `/32` or `/128` after an address, as a rule would write it.
pub(super) fn host_prefix(a: std::net::IpAddr) -> String {
    if a.is_ipv4() {
        format!("{a}/32")
    } else {
        format!("{a}/128")
    }
}

impl<'m> Walker<'m> {
    // ------------------------------------------------------------ filters

    /// The security groups of an interface judge a packet leaving it
    /// (`inbound == false`) or arriving at it. Stateful: the reply of
    /// anything they passed is admitted without rules.
    pub(super) fn security_groups(
        &mut self,
        iface: Iface,
        sgs: &[SgId],
        inbound: bool,
        p: &Packet,
        sender: Option<&Sender>,
    ) -> Result<(), Drop> {
        let m = self.m;
        let groups: Vec<_> = sgs
            .iter()
            .filter_map(|&s| m.security_groups.get(s.index()).map(|g| (s, g)))
            .collect();
        let first_span = groups.first().map(|(_, g)| g.decl.span);
        let names = groups
            .iter()
            .map(|(_, g)| format!("`{}`", g.decl.name))
            .collect::<Vec<_>>()
            .join(", ");
        let key = StateKey::Sg(iface);
        if self.admitted_reply(key, p) {
            self.hop(
                Stage::SecurityGroup,
                format!(
                    "security group {names} admits the reply: it allowed the request (stateful)"
                ),
                first_span,
            );
            return Ok(());
        }
        let dir = if inbound { "inbound" } else { "outbound" };
        for (_, g) in &groups {
            let rules = if inbound { &g.inbound } else { &g.outbound };
            for r in rules {
                let peer_ok = if inbound {
                    matching::expr_has(m, &r.peers, p.src, Peer::Src(sender))
                } else {
                    matching::expr_has(m, &r.peers, p.dst, Peer::Dst)
                };
                if peer_ok && matching::svc_has(&r.services, p) {
                    let decision = if r.implicit {
                        let what = if inbound {
                            "inbound any from members of the group"
                        } else {
                            "outbound any to anywhere"
                        };
                        format!(
                            "security group `{}` allows it {dir} (AWS default rule: {what})",
                            g.decl.name
                        )
                    } else {
                        format!("security group `{}` allows it {dir}", g.decl.name)
                    };
                    self.hop(Stage::SecurityGroup, decision, Some(r.span));
                    self.remember(key, *p);
                    return Ok(());
                }
            }
        }
        let svc = svc_literal(p);
        let (peer_word, peer) = if inbound {
            ("from", p.src)
        } else {
            ("to", p.dst)
        };
        let noun = if groups.len() == 1 {
            "security group"
        } else {
            "security groups"
        };
        if groups.is_empty() {
            return Err(drop(
                "the interface has no security group, so it passes nothing",
                self.node_span,
                "name its security groups with `sg [NAME]`",
            )
            .at(Stage::SecurityGroup));
        }
        let reason = format!("no {dir} rule of {noun} {names} allows {svc} {peer_word} {peer}");
        let first = groups.first().map_or("?", |(_, g)| g.decl.name.as_str());
        let help = match iface {
            Iface::Eni(_) if inbound => {
                let member = self
                    .m
                    .hosts
                    .iter()
                    .find(|h| h.owns(p.src) && h.kind == HostKind::Instance);
                match member {
                    Some(h) => format!(
                        "the SDDC's ENIs carry the VPC's default security group, which admits only \
                         its own members: put `{}` in `default` too, or add `inbound {svc} from \
                         {}` to `default`",
                        h.decl.name,
                        host_prefix(p.src)
                    ),
                    None => format!(
                        "the SDDC's ENIs carry the VPC's default security group: add `inbound \
                         {svc} from {}` to it",
                        host_prefix(p.src)
                    ),
                }
            }
            _ => format!(
                "add `{dir} {svc} {peer_word} {}` to security group `{first}`",
                host_prefix(peer)
            ),
        };
        Err(drop(reason, first_span, help).at(Stage::SecurityGroup))
    }

    /// The network ACL of `subnet` judges a packet leaving (`outbound`) or
    /// entering it. Stateless: replies are judged like anything else.
    pub(super) fn acl(&mut self, subnet: SubnetId, outbound: bool, p: &Packet) -> Result<(), Drop> {
        let m = self.m;
        let Some(sub) = m.subnets.get(subnet.index()) else {
            return Ok(());
        };
        let acl_id = sub
            .acl
            .or_else(|| m.sites.get(sub.site.index()).and_then(|s| s.default_acl));
        let Some((acl_index, acl)) = acl_id.and_then(|a| Some((a.index(), m.acls.get(a.index())?)))
        else {
            return Ok(());
        };
        let (dir, rules, peer_word, peer) = if outbound {
            ("outbound", &acl.outbound, "to", p.dst)
        } else {
            ("inbound", &acl.inbound, "from", p.src)
        };
        // The first rule that holds the packet: by the ACL's index when it
        // is long (the same rule a scan finds, see `acl_index`).
        let first = self
            .acls
            .first(acl_index, outbound, rules, p.proto, p.dport, |r| {
                matching::svc_has(&r.services, p) && matching::expr_has(m, &r.peer, peer, Peer::Dst)
            });
        if let Some(r) = first {
            return match r.action {
                AclAction::Allow => {
                    let decision = if acl.decl.implicit {
                        format!(
                            "the default network ACL of subnet `{}` allows it {dir}",
                            sub.decl.name
                        )
                    } else {
                        format!(
                            "rule {} of network ACL `{}` allows it {dir} (subnet `{}`)",
                            r.number, acl.decl.name, sub.decl.name
                        )
                    };
                    self.hop(Stage::NetworkAcl, decision, Some(r.span));
                    Ok(())
                }
                AclAction::Deny => Err(drop(
                    format!(
                        "rule {} of network ACL `{}` denies it {dir} (subnet `{}`)",
                        r.number, acl.decl.name, sub.decl.name
                    ),
                    Some(r.span),
                    format!(
                        "give an allow rule a lower number than {}, or narrow the deny rule",
                        r.number
                    ),
                )
                .at(Stage::NetworkAcl)),
            };
        }
        let svc = svc_literal(p);
        let help = if self.replying() && p.has_ports() && p.dport >= 1024 {
            format!(
                "network ACLs are stateless: the reply needs its own rule for the client's \
                 ephemeral ports, such as `{dir} 100 allow {}/1024-65535 {peer_word} {}` \
                 in `{}`",
                super::proto_name(p.proto),
                // The reply's own family: `::/0` for IPv6.
                if p.dst.is_ipv4() { "0.0.0.0/0" } else { "::/0" },
                acl.decl.name
            )
        } else {
            format!(
                "add `{dir} NUMBER allow {svc} {peer_word} {}` to network ACL `{}`",
                host_prefix(peer),
                acl.decl.name
            )
        };
        Err(drop(
            format!(
                "no {dir} rule of network ACL `{}` (subnet `{}`) allows {svc} {peer_word} {peer}: \
                 the implicit final rule denies it",
                acl.decl.name, sub.decl.name
            ),
            Some(acl.decl.span),
            help,
        )
        .at(Stage::NetworkAcl))
    }

    // ------------------------------------------------------------ router

    pub(super) fn vpc_router(&mut self, vpc: SiteId, from: VpcFrom, p: Packet) -> Step {
        let m = self.m;
        let Some(site) = m.sites.get(vpc.index()) else {
            return drop("the vpc does not exist", None, "").into();
        };
        match from {
            VpcFrom::Gateway(entry) => {
                let local = site.prefixes.iter().find(|n| n.value.contains(&p.dst));
                match local {
                    Some(prefix) => {
                        self.hop(
                            Stage::Route,
                            format!(
                                "{} is in {} ({}), local; arrived from {}",
                                p.dst,
                                self.site_name(vpc),
                                prefix.value,
                                self.entry_name(entry)
                            ),
                            Some(prefix.span),
                        );
                        self.local(vpc, None, p, Some(prefix.span))
                    }
                    None => drop(
                        format!(
                            "{} is not an address of {}, and a packet that arrived from {} is \
                             delivered locally only: AWS does not route from one gateway to \
                             another (no transit)",
                            p.dst,
                            self.site_name(vpc),
                            self.entry_name(entry)
                        ),
                        Some(site.header_span),
                        "connect the two ends directly (peerings and VPC attachments are not \
                         transitive)",
                    )
                    .at(Stage::Route)
                    .into(),
                }
            }
            VpcFrom::Subnet(subnet) | VpcFrom::Transit(subnet, _) => {
                let Some(sub) = m.subnets.get(subnet.index()) else {
                    return drop("the subnet does not exist", None, "").into();
                };
                let table = sub
                    .route_table
                    .or(site.main_route_table)
                    .and_then(|t| m.route_tables.get(t.index()));
                let Some(table) = table else {
                    return drop(
                        format!("subnet `{}` has no route table", sub.decl.name),
                        Some(sub.decl.span),
                        "give the subnet a `route-table`",
                    )
                    .at(Stage::Route)
                    .into();
                };
                // At equal length: the local route, then routes to CIDR
                // blocks, then routes to prefix lists ("How route priority
                // works"), then the routes VMC adds for the SDDC.
                let rank = |r: &Route| match r.origin {
                    RouteOrigin::Local => 3,
                    RouteOrigin::Static => 2,
                    RouteOrigin::PrefixList(_) => 1,
                    RouteOrigin::ConnectedSddc => 0,
                };
                let best = table
                    .routes
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.prefix.contains(&p.dst))
                    .max_by_key(|(i, r)| (r.prefix.prefix_len(), rank(r), std::cmp::Reverse(*i)))
                    .map(|(_, r)| *r);
                let Some(route) = best else {
                    let table_name = if table.decl.implicit {
                        format!("the main route table of {}", self.site_name(vpc))
                    } else {
                        format!("route table `{}`", table.decl.name)
                    };
                    return drop(
                        format!(
                            "{table_name} (subnet `{}`) has no route for {}",
                            sub.decl.name, p.dst
                        ),
                        Some(table.decl.span),
                        format!(
                            "add a route for {} to {table_name}, such as `route {} -> GATEWAY`",
                            p.dst,
                            if p.dst.is_ipv4() { "0.0.0.0/0" } else { "::/0" }
                        ),
                    )
                    .at(Stage::Route)
                    .into();
                };
                let table_name = if table.decl.implicit {
                    "main route table".to_string()
                } else {
                    format!("route table `{}`", table.decl.name)
                };
                let origin = match route.origin {
                    RouteOrigin::Local => " (implicit local route)",
                    RouteOrigin::ConnectedSddc => " (route to the connected SDDC, added by VMC)",
                    RouteOrigin::Static => "",
                    RouteOrigin::PrefixList(_) => " (a prefix list's route)",
                };
                self.hop(
                    Stage::Route,
                    format!(
                        "longest match {} -> {} in {table_name}{origin}",
                        route.prefix,
                        self.target_name(route.target)
                    ),
                    Some(route.span),
                );
                // A packet from a transit gateway may go back to a transit
                // gateway, to a device in the VPC or out of its internet
                // gateway, but never out by a peering, VPN or Direct
                // Connect (AWS: no edge-to-edge routing).
                if let (VpcFrom::Transit(_, t), RouteTarget::Connection(c)) = (from, route.target) {
                    let kind = m.connections.get(c.index()).map(|x| x.kind);
                    if c != t && kind != Some(ConnKind::TransitGateway) {
                        return drop(
                            format!(
                                "a packet that came from {} is not forwarded to {}: AWS does not route edge to edge",
                                self.conn_name(t),
                                self.conn_name(c)
                            ),
                            Some(route.span),
                            "route it from the transit gateway directly",
                        )
                        .at(Stage::Route)
                        .into();
                    }
                }
                self.route_target(vpc, subnet, route, p)
            }
        }
    }

    fn entry_name(&self, e: Entry) -> String {
        let m = self.m;
        match e {
            Entry::Igw(g) => m.gateways.get(g.index()).map_or_else(
                || "?".into(),
                |g| format!("internet gateway `{}`", g.decl.name),
            ),
            Entry::Eigw(g) => m.gateways.get(g.index()).map_or_else(
                || "?".into(),
                |g| format!("egress-only internet gateway `{}`", g.decl.name),
            ),
            Entry::Eni(s) => format!("the ENIs of {}", self.site_name(s)),
            Entry::Connection(c) => self.conn_name(c),
            Entry::GatewayEndpoint(g) => m.gateways.get(g.index()).map_or_else(
                || "?".into(),
                |g| format!("gateway endpoint `{}`", g.decl.name),
            ),
            Entry::Nlb(n) => m
                .nlbs
                .get(n.index())
                .map_or_else(|| "?".into(), |n| format!("nlb `{}`", n.decl.name)),
        }
    }

    fn target_name(&self, t: RouteTarget) -> String {
        let m = self.m;
        let name = |e| m.decl(e).name.clone();
        match t {
            RouteTarget::Local => "local".into(),
            RouteTarget::Sddc => "sddc".into(),
            RouteTarget::Blackhole => "blackhole".into(),
            RouteTarget::Gateway(g) if g.index() < m.gateways.len() => {
                name(crate::model::Entity::Gateway(g))
            }
            RouteTarget::Host(h) if h.index() < m.hosts.len() => {
                name(crate::model::Entity::Host(h))
            }
            RouteTarget::Connection(c) if c.index() < m.connections.len() => {
                name(crate::model::Entity::Connection(c))
            }
            RouteTarget::Endpoint(e) if e.index() < m.endpoints.len() => {
                name(crate::model::Entity::Endpoint(e))
            }
            RouteTarget::Site(s) if s.index() < m.sites.len() => {
                name(crate::model::Entity::Site(s))
            }
            _ => "?".into(),
        }
    }

    /// A gateway endpoint delivers to its service what is addressed to the
    /// service's prefix list (docs/forwarding.md, "Gateway endpoints").
    fn gateway_endpoint(&mut self, g: GatewayId, p: Packet) -> Step {
        let m = self.m;
        let Some(gw) = m.gateways.get(g.index()) else {
            return drop("the gateway endpoint does not exist", None, "").into();
        };
        let Some((svc, list)) = m.gateway_endpoint(g) else {
            return drop(
                format!(
                    "gateway endpoint `{}` names no AWS service's prefix list",
                    gw.decl.name
                ),
                Some(gw.decl.span),
                "name a `prefix-list NAME service s3|dynamodb [...]`",
            )
            .at(Stage::Route)
            .into();
        };
        if !list.prefixes.iter().any(|x| x.value.contains(&p.dst)) {
            return drop(
                format!(
                    "{} is not in prefix list `{}`, so gateway endpoint `{}` has nowhere to send it",
                    p.dst, list.decl.name, gw.decl.name
                ),
                Some(gw.decl.span),
                "route only the service's prefix list to a gateway endpoint",
            )
            .at(Stage::Route)
            .into();
        }
        self.hop(
            Stage::Forward,
            format!(
                "gateway endpoint `{}` carries it to {} ({} is in prefix list `{}`)",
                gw.decl.name,
                svc.title(),
                p.dst,
                list.decl.name
            ),
            Some(gw.decl.span),
        );
        Step::Deliver(
            Party::Service {
                addr: p.dst,
                gateway: g,
            },
            p,
        )
    }

    fn route_target(&mut self, vpc: SiteId, from: SubnetId, route: Route, p: Packet) -> Step {
        let m = self.m;
        let here = Some(route.span);
        match route.target {
            RouteTarget::Local => self.local(vpc, Some(from), p, here),
            RouteTarget::Blackhole => drop(
                format!("the route for {} is a blackhole", route.prefix),
                here,
                "remove the blackhole route, or route the prefix somewhere",
            )
            .at(Stage::Route)
            .into(),
            RouteTarget::Sddc => {
                let Some(sddc) = self.sddc_of_vpc(vpc, p.dst) else {
                    return drop(
                        format!("no SDDC is connected to {}", self.site_name(vpc)),
                        here,
                        "declare `connected-vpc` in the SDDC, or remove the route",
                    )
                    .at(Stage::Route)
                    .into();
                };
                tri!(self.acl(from, true, &p));
                Step::Next(At::EniToSddc(sddc), p)
            }
            RouteTarget::Gateway(g) => {
                let Some(gw) = m.gateways.get(g.index()) else {
                    return drop("the gateway does not exist", here, "").into();
                };
                if gw.site != vpc {
                    return drop(
                        format!(
                            "`{}` belongs to {}, not to {}",
                            gw.decl.name,
                            self.site_name(gw.site),
                            self.site_name(vpc)
                        ),
                        here,
                        "route to a gateway of this vpc",
                    )
                    .at(Stage::Route)
                    .into();
                }
                match &gw.kind {
                    GatewayKind::InternetGateway => {
                        tri!(self.acl(from, true, &p));
                        Step::Next(
                            At::Igw {
                                gw: g,
                                inbound: false,
                            },
                            p,
                        )
                    }
                    GatewayKind::EgressOnlyInternetGateway => {
                        tri!(self.acl(from, true, &p));
                        Step::Next(At::EigwOut(g), p)
                    }
                    GatewayKind::NatGateway { subnet, .. } => {
                        let Some(nat_subnet) = *subnet else {
                            return drop(
                                format!("NAT gateway `{}` is in no known subnet", gw.decl.name),
                                Some(gw.decl.span),
                                "fix the NAT gateway's `in SUBNET`",
                            )
                            .into();
                        };
                        tri!(self.acl(from, true, &p));
                        if nat_subnet != from {
                            tri!(self.acl(nat_subnet, false, &p));
                        }
                        Step::Next(At::NatGateway(g), p)
                    }
                    GatewayKind::Endpoint { .. } => {
                        tri!(self.acl(from, true, &p));
                        self.gateway_endpoint(g, p)
                    }
                    GatewayKind::Vnet { .. } => drop(
                        format!(
                            "`{}` is a VM network gateway, not a VPC route target",
                            gw.decl.name
                        ),
                        here,
                        "route to a gateway of this vpc",
                    )
                    .at(Stage::Route)
                    .into(),
                }
            }
            RouteTarget::Host(h) => {
                let Some(host) = m.hosts.get(h.index()) else {
                    return drop("the instance does not exist", here, "").into();
                };
                let Some(host_subnet) = host.subnet.filter(|_| host.site == vpc) else {
                    return drop(
                        format!(
                            "instance `{}` is not on a subnet of {}",
                            host.decl.name,
                            self.site_name(vpc)
                        ),
                        here,
                        "route to an instance of this vpc",
                    )
                    .at(Stage::Route)
                    .into();
                };
                if host_subnet != from {
                    tri!(self.acl(from, true, &p));
                    tri!(self.acl(host_subnet, false, &p));
                }
                Step::Next(At::NatInstance(h), p)
            }
            RouteTarget::Connection(c) => self.vpc_to_connection(vpc, from, c, route.span, p),
            RouteTarget::Endpoint(e) => {
                let name = m
                    .endpoints
                    .get(e.index())
                    .map_or("?", |e| e.decl.name.as_str());
                drop(
                    format!(
                        "interface endpoint `{name}` is not a route target: packets reach it at \
                         its own address"
                    ),
                    here,
                    "send the traffic to the endpoint's address instead of routing to it",
                )
                .at(Stage::Route)
                .into()
            }
            RouteTarget::Site(_) => drop(
                "a VPC route cannot name a site",
                here,
                "route to a gateway or connection",
            )
            .at(Stage::Route)
            .into(),
        }
    }

    fn vpc_to_connection(
        &mut self,
        vpc: SiteId,
        from: SubnetId,
        c: ConnectionId,
        span: Span,
        p: Packet,
    ) -> Step {
        let m = self.m;
        let Some(conn) = m.connections.get(c.index()) else {
            return drop("the connection does not exist", Some(span), "").into();
        };
        match conn.kind {
            ConnKind::Peering => {
                let Some(peer) = self.other_end(c, vpc) else {
                    return drop(
                        format!(
                            "peering `{}` does not join {}",
                            conn.decl.name,
                            self.site_name(vpc)
                        ),
                        Some(span),
                        "route to a peering of this vpc",
                    )
                    .at(Stage::Route)
                    .into();
                };
                tri!(self.acl(from, true, &p));
                self.hop(
                    Stage::Forward,
                    format!(
                        "over peering `{}` to {}",
                        conn.decl.name,
                        self.site_name(peer)
                    ),
                    Some(conn.decl.span),
                );
                Step::Next(
                    At::VpcRouter {
                        vpc: peer,
                        from: VpcFrom::Gateway(Entry::Connection(c)),
                    },
                    p,
                )
            }
            ConnKind::TransitGateway => {
                let attached = conn
                    .attach
                    .iter()
                    .any(|a| a.value == crate::model::Entity::Site(vpc));
                if !attached {
                    return drop(
                        format!(
                            "{} is not attached to transit gateway `{}`",
                            self.site_name(vpc),
                            conn.decl.name
                        ),
                        Some(span),
                        format!("add `attach` for this vpc to `{}`", conn.decl.name),
                    )
                    .at(Stage::Route)
                    .into();
                }
                tri!(self.acl(from, true, &p));
                // The attachment subnet's ACL judges the packet inbound,
                // even when it is the source's own subnet.
                let att = tri!(self.tgw_entry(vpc, from, c));
                if let Some(a) = att {
                    tri!(self.acl(a, false, &p));
                }
                // Security-group references do not cross a transit gateway.
                self.sender = None;
                Step::Next(At::Tgw(c, crate::model::Entity::Site(vpc)), p)
            }
            ConnKind::DirectConnect | ConnKind::Vpn => {
                let Some(other) = self.other_end(c, vpc) else {
                    return drop(
                        format!(
                            "{} does not join {}",
                            self.conn_name(c),
                            self.site_name(vpc)
                        ),
                        Some(span),
                        "route to a connection of this vpc",
                    )
                    .at(Stage::Route)
                    .into();
                };
                tri!(self.acl(from, true, &p));
                // The virtual private gateway forwards only what the far
                // side routes over the connection; a policy-based VPN's
                // selectors decide at the far end instead.
                let policy = m
                    .connections
                    .get(c.index())
                    .is_some_and(|x| x.vpn_mode == Some(crate::syntax::ast::VpnMode::PolicyBased));
                if !policy && !self.learned(vpc, c).iter().any(|(n, _)| n.contains(&p.dst)) {
                    return drop(
                        format!(
                            "the virtual private gateway of {} has no route for {} over {}: {} does not advertise it",
                            self.site_name(vpc),
                            p.dst,
                            self.conn_name(c),
                            self.site_name(other)
                        ),
                        Some(span),
                        "advertise the destination's prefix over the connection",
                    )
                    .at(Stage::Route)
                    .into();
                }
                self.enter_over(c, other, p)
            }
            ConnKind::L2vpn => drop(
                "an l2vpn extends segments; it is not a route target",
                Some(span),
                "route to a direct-connect or vpn",
            )
            .at(Stage::Route)
            .into(),
        }
    }

    /// Local delivery inside a VPC: the destination subnet's ACL (and the
    /// source subnet's, when the packet crosses from one to another), then
    /// the interface that has the address.
    fn local(
        &mut self,
        vpc: SiteId,
        from: Option<SubnetId>,
        p: Packet,
        span: Option<Span>,
    ) -> Step {
        let m = self.m;
        let Some(dest) = matching::subnet_of(m, vpc, p.dst) else {
            return drop(
                format!("no subnet of {} contains {}", self.site_name(vpc), p.dst),
                span,
                format!(
                    "declare a subnet for {}, or send to an address that exists",
                    p.dst
                ),
            )
            .at(Stage::Route)
            .into();
        };
        if from != Some(dest) {
            if let Some(f) = from {
                tri!(self.acl(f, true, &p));
            }
            tri!(self.acl(dest, false, &p));
        }
        if let Some(h) = matching::host_on(m, dest, p.dst) {
            return Step::Next(At::Arrive(Party::Host(h)), p);
        }
        if let Some(i) = m
            .endpoints
            .iter()
            .position(|e| e.subnet == Some(dest) && e.addr.value == p.dst)
        {
            return Step::Next(At::EndpointIn(EndpointId(i as u32)), p);
        }
        if let Some(g) = matching::nat_gateway_at(m, vpc, p.dst) {
            return Step::Next(At::NatGatewayReturn(g), p);
        }
        if let Some(i) = m
            .nlbs
            .iter()
            .position(|n| n.site == vpc && self.nlb_addr(n) == Some(p.dst))
        {
            return Step::Next(
                At::Nlb {
                    nlb: NlbId(i as u32),
                    via: None,
                },
                p,
            );
        }
        self.deliver_on(dest, p)
    }

    /// The address of an NLB: the last usable address of its first subnet
    /// (the model has no address for it; a NAT gateway the design gives no
    /// address takes another one).
    pub(super) fn nlb_addr(&self, nlb: &crate::model::Nlb) -> Option<std::net::IpAddr> {
        let first = nlb.subnets.first()?.value;
        let net = self.m.subnets.get(first.index())?.prefix.value;
        let addr = match net.broadcast() {
            std::net::IpAddr::V4(a) => std::net::IpAddr::V4(u32::from(a).checked_sub(1)?.into()),
            std::net::IpAddr::V6(a) => std::net::IpAddr::V6(u128::from(a).checked_sub(1)?.into()),
        };
        (net.contains(&addr) && addr != net.network()).then_some(addr)
    }

    /// The SDDC a route to `sddc` leads to: among the SDDCs connected to
    /// `vpc`, the one whose segments or management prefixes hold `dst`,
    /// else the first (docs/forwarding.md, VPC router targets).
    pub(super) fn sddc_of_vpc(&self, vpc: SiteId, dst: std::net::IpAddr) -> Option<SiteId> {
        let m = self.m;
        let connected: Vec<SiteId> = m
            .sites
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.kind == SiteKind::Sddc && s.connected_vpc.is_some_and(|c| c.vpc == vpc)
            })
            .map(|(i, _)| SiteId(i as u32))
            .collect();
        let holds = |s: &SiteId| {
            m.sites.get(s.index()).is_some_and(|site| {
                site.subnets.iter().any(|x| {
                    m.subnets
                        .get(x.index())
                        .is_some_and(|sub| sub.prefix.value.contains(&dst))
                }) || site.management.iter().any(|p| p.value.contains(&dst))
            })
        };
        connected
            .iter()
            .copied()
            .find(holds)
            .or_else(|| connected.first().copied())
    }

    // ------------------------------------------------------------ the SDDC's ENIs

    pub(super) fn eni_to_vpc(&mut self, sddc: SiteId, p: Packet) -> Step {
        let m = self.m;
        let Some(cv) = m.sites.get(sddc.index()).and_then(|s| s.connected_vpc) else {
            return drop(
                format!("{} has no connected VPC", self.site_name(sddc)),
                m.sites.get(sddc.index()).map(|s| s.header_span),
                "declare `connected-vpc VPC` in the SDDC",
            )
            .into();
        };
        let sgs: Vec<_> = m
            .sites
            .get(cv.vpc.index())
            .and_then(|s| s.default_sg)
            .into_iter()
            .collect();
        tri!(self.security_groups(Iface::Eni(sddc), &sgs, false, &p, None));
        // The VPC sees the SDDC as a member of its default group.
        self.sender = Some(Sender { addr: p.src, sgs });
        Step::Next(
            At::VpcRouter {
                vpc: cv.vpc,
                from: VpcFrom::Gateway(Entry::Eni(sddc)),
            },
            p,
        )
    }

    pub(super) fn eni_to_sddc(&mut self, sddc: SiteId, p: Packet) -> Step {
        let m = self.m;
        let Some(cv) = m.sites.get(sddc.index()).and_then(|s| s.connected_vpc) else {
            return drop("the SDDC has no connected VPC", None, "").into();
        };
        let sgs: Vec<_> = m
            .sites
            .get(cv.vpc.index())
            .and_then(|s| s.default_sg)
            .into_iter()
            .collect();
        let sender = self.sender.clone();
        tri!(self.security_groups(Iface::Eni(sddc), &sgs, true, &p, sender.as_ref()));
        self.sender = None;
        Step::Next(
            At::CgwFromLink {
                sddc,
                link: super::walk::Link::Vpc,
            },
            p,
        )
    }
}
