//! A VPC's gateways in the oracle: the internet gateway both ways, NAT
//! gateways and NAT instances (docs/forwarding.md, "VPC router" targets).

use super::matching::{self, Sender, VpcPublic};
use super::walk::{drop, tri, At, Entry, Iface, NatPoint, NatSession, Step, VpcFrom, Walker};
use super::{Packet, Party, Stage, ICMP, TCP, UDP};
use crate::model::{GatewayId, GatewayKind, HostId, HostKind};
use crate::syntax::ast::FirewallMatch;

impl<'m> Walker<'m> {
    pub(super) fn igw_out(&mut self, gw: GatewayId, p: Packet) -> Step {
        let m = self.m;
        let Some(g) = m.gateways.get(gw.index()) else {
            return drop("the internet gateway does not exist", None, "").into();
        };
        let vpc = g.site;
        if let Some((q, s)) = self.undo_nat(NatPoint::Igw(gw), &p) {
            self.undo_hop(&s, p, q);
            return Step::Next(At::Internet, q);
        }
        let instance = m.sites.get(vpc.index()).and_then(|s| {
            s.hosts.iter().copied().find(|h| {
                m.hosts
                    .get(h.index())
                    .is_some_and(|h| h.kind == HostKind::Instance && h.owns(p.src))
            })
        });
        if let Some(h) = instance {
            let name = m.hosts.get(h.index()).map_or("?", |h| h.decl.name.as_str());
            if let Some((v6, span)) = matching::instance_global_v6(m, h) {
                if v6 == p.src {
                    self.hop(
                        Stage::Nat,
                        format!("IPv6: `{name}`'s global address passes untranslated"),
                        Some(span),
                    );
                    self.sender = None;
                    return Step::Next(At::Internet, p);
                }
            }
            // The public address maps to the instance's address of its own
            // family (its only address when it has one).
            let mapped = matching::instance_public(m, h).filter(|&(public, _)| {
                m.hosts.get(h.index()).is_some_and(|x| {
                    let private = x
                        .addrs()
                        .find(|a| a.value.is_ipv4() == public.is_ipv4())
                        .unwrap_or(&x.addr);
                    private.value == p.src
                })
            });
            if let Some((public, span)) = mapped {
                let q = Packet { src: public, ..p };
                let what = format!("the one-to-one NAT of `{name}`'s public address");
                self.rewrite(
                    Stage::Nat,
                    format!("one-to-one NAT: `{name}`'s public address {public}"),
                    p,
                    q,
                    Some(span),
                );
                self.record_nat(NatSession {
                    point: NatPoint::Igw(gw),
                    before: p,
                    after: q,
                    what,
                    span: Some(span),
                    firewall_match: FirewallMatch::Internal,
                    node: self.node.clone(),
                    via: None,
                });
                self.sender = None;
                return Step::Next(At::Internet, q);
            }
        }
        // A public NAT gateway's private address is mapped to its Elastic
        // IP, as an instance's to its public address (AWS VPC User Guide,
        // "NAT gateways"); a private NAT gateway's has no public address.
        if let Some(n) = matching::nat_gateway_at(m, vpc, p.src) {
            if let Some(GatewayKind::NatGateway {
                elastic_ip: Some(eip),
                ..
            }) = m.gateways.get(n.index()).map(|x| &x.kind)
            {
                let name = m
                    .gateways
                    .get(n.index())
                    .map_or("?", |x| x.decl.name.as_str());
                let q = Packet {
                    src: eip.value,
                    ..p
                };
                self.rewrite(
                    Stage::Nat,
                    format!("one-to-one NAT: the Elastic IP of NAT gateway `{name}`"),
                    p,
                    q,
                    Some(eip.span),
                );
                self.record_nat(NatSession {
                    point: NatPoint::Igw(gw),
                    before: p,
                    after: q,
                    what: format!("the one-to-one NAT of NAT gateway `{name}`'s Elastic IP"),
                    span: Some(eip.span),
                    firewall_match: FirewallMatch::Internal,
                    node: self.node.clone(),
                    via: None,
                });
                self.sender = None;
                return Step::Next(At::Internet, q);
            }
        }
        let who = instance.and_then(|h| m.hosts.get(h.index())).map_or_else(
            || p.src.to_string(),
            |h| format!("`{}` ({})", h.decl.name, p.src),
        );
        if p.src.is_ipv6() {
            return drop(
                format!(
                    "internet gateway `{}` does not translate IPv6: {who} is not a global IPv6 \
                     address of an instance",
                    g.decl.name
                ),
                Some(g.decl.span),
                crate::model::IPV6_SOURCE_HELP,
            )
            .at(Stage::Nat)
            .into();
        }
        let help = match instance.and_then(|h| m.hosts.get(h.index())) {
            Some(h) => format!(
                "give `{}` a public address (`elastic-ip ADDRESS` on the instance), or route its \
                 subnet's internet traffic to a NAT gateway or NAT instance",
                h.decl.name
            ),
            None => "route the subnet's internet traffic to a NAT gateway or NAT instance".into(),
        };
        drop(
            format!(
                "internet gateway `{}` does not masquerade: {who} has no public address",
                g.decl.name
            ),
            Some(g.decl.span),
            help,
        )
        .at(Stage::Nat)
        .into()
    }

    pub(super) fn igw_in(&mut self, gw: GatewayId, p: Packet) -> Step {
        let m = self.m;
        let Some(g) = m.gateways.get(gw.index()) else {
            return drop("the internet gateway does not exist", None, "").into();
        };
        let vpc = g.site;
        let next = |w: &mut Walker<'m>, q: Packet| {
            w.sender = None;
            Step::Next(
                At::VpcRouter {
                    vpc,
                    from: VpcFrom::Gateway(Entry::Igw(gw)),
                },
                q,
            )
        };
        if let Some((q, s)) = self.undo_nat(NatPoint::Igw(gw), &p) {
            self.undo_hop(&s, p, q);
            return next(self, q);
        }
        match matching::vpc_public(m, vpc, p.dst) {
            Some(VpcPublic::Instance(h, span)) => {
                let Some(host) = m.hosts.get(h.index()) else {
                    return drop("the instance does not exist", Some(span), "").into();
                };
                if host.owns(p.dst) {
                    self.hop(
                        Stage::Nat,
                        format!(
                            "IPv6: `{}`'s global address passes untranslated",
                            host.decl.name
                        ),
                        Some(span),
                    );
                    return next(self, p);
                }
                let private = host
                    .addrs()
                    .find(|a| a.value.is_ipv4() == p.dst.is_ipv4())
                    .unwrap_or(&host.addr);
                let q = Packet {
                    dst: private.value,
                    ..p
                };
                self.rewrite(
                    Stage::Nat,
                    format!("one-to-one NAT: public address of `{}`", host.decl.name),
                    p,
                    q,
                    Some(span),
                );
                self.record_nat(NatSession {
                    point: NatPoint::Igw(gw),
                    before: p,
                    after: q,
                    what: format!(
                        "the one-to-one NAT of `{}`'s public address",
                        host.decl.name
                    ),
                    span: Some(span),
                    firewall_match: FirewallMatch::Internal,
                    node: self.node.clone(),
                    via: None,
                });
                next(self, q)
            }
            // The replies of a NAT gateway's flows were translated back
            // to its private address above; nothing else is admitted.
            Some(VpcPublic::NatGateway(n, span)) => {
                let name = m
                    .gateways
                    .get(n.index())
                    .map_or("?", |g| g.decl.name.as_str());
                drop(
                    format!(
                        "{} is the Elastic IP of NAT gateway `{name}`, which admits no \
                         unsolicited inbound traffic",
                        p.dst
                    ),
                    Some(span),
                    "publish the service with an instance's public or Elastic IP, or a load \
                     balancer",
                )
                .at(Stage::Nat)
                .into()
            }
            Some(VpcPublic::Unassociated(i)) => {
                let ip = m.public_ips.get(i.index());
                drop(
                    format!(
                        "Elastic IP `{}` ({}) is not associated with an instance or NAT gateway",
                        ip.map_or("?", |x| x.decl.name.as_str()),
                        p.dst
                    ),
                    ip.map(|x| x.decl.span),
                    "associate it: `elastic-ip NAME ADDRESS -> INSTANCE`",
                )
                .at(Stage::Nat)
                .into()
            }
            None => drop(
                format!(
                    "{} is not a public address of {}",
                    p.dst,
                    self.site_name(vpc)
                ),
                Some(g.decl.span),
                if p.dst.is_ipv6() {
                    crate::model::IPV6_DEST_HELP
                } else {
                    ""
                },
            )
            .at(Stage::Nat)
            .into(),
        }
    }

    /// A NAT gateway masquerades to its private address, public and
    /// private ones alike (the internet gateway maps a public one's to its
    /// Elastic IP), and translates TCP, UDP and ICMP only (AWS VPC User
    /// Guide, "NAT gateway basics").
    pub(super) fn nat_gateway(&mut self, gw: GatewayId, p: Packet) -> Step {
        let m = self.m;
        let Some(g) = m.gateways.get(gw.index()) else {
            return drop("the NAT gateway does not exist", None, "").into();
        };
        let GatewayKind::NatGateway { subnet, .. } = &g.kind else {
            return drop("not a NAT gateway", Some(g.decl.span), "").into();
        };
        let Some(subnet) = *subnet else {
            return drop(
                format!("NAT gateway `{}` is in no known subnet", g.decl.name),
                Some(g.decl.span),
                "fix the NAT gateway's `in SUBNET`",
            )
            .into();
        };
        let Some(addr) = m.nat_gateway_addr(gw) else {
            return drop(
                format!(
                    "NAT gateway `{}` has no address to translate to",
                    g.decl.name
                ),
                Some(g.decl.span),
                "give the NAT gateway an address in its subnet with `ip ADDRESS`",
            )
            .at(Stage::Nat)
            .into();
        };
        if addr.is_ipv4() != p.src.is_ipv4() {
            return drop(
                format!(
                    "NAT gateway `{}` translates to {addr}, of the other address family than {}: \
                     it does not translate between families",
                    g.decl.name, p.src
                ),
                Some(g.decl.span),
                "route this family's traffic elsewhere (for IPv6, an egress-only path)",
            )
            .at(Stage::Nat)
            .into();
        }
        if !matches!(p.proto, TCP | UDP | ICMP) {
            return drop(
                format!(
                    "NAT gateway `{}` translates only TCP, UDP and ICMP, not {}",
                    g.decl.name,
                    super::proto_name(p.proto)
                ),
                Some(g.decl.span),
                "AWS NAT gateways support TCP, UDP and ICMP only: send other protocols through a \
                 NAT instance or a route that needs no NAT",
            )
            .at(Stage::Nat)
            .into();
        }
        let q = Packet { src: addr, ..p };
        self.rewrite(
            Stage::Nat,
            format!(
                "NAT gateway `{}` masquerades to its private address",
                g.decl.name
            ),
            p,
            q,
            Some(g.decl.span),
        );
        self.record_nat(NatSession {
            point: NatPoint::NatGateway(gw),
            before: p,
            after: q,
            what: format!("the masquerade of NAT gateway `{}`", g.decl.name),
            span: Some(g.decl.span),
            firewall_match: FirewallMatch::Internal,
            node: self.node.clone(),
            via: None,
        });
        self.sender = None;
        Step::Next(
            At::VpcRouter {
                vpc: g.site,
                from: VpcFrom::Subnet(subnet),
            },
            q,
        )
    }

    pub(super) fn nat_gateway_return(&mut self, gw: GatewayId, p: Packet) -> Step {
        let m = self.m;
        let Some(g) = m.gateways.get(gw.index()) else {
            return drop("the NAT gateway does not exist", None, "").into();
        };
        let subnet = match &g.kind {
            GatewayKind::NatGateway {
                subnet: Some(s), ..
            } => *s,
            _ => return drop("the NAT gateway has no subnet", Some(g.decl.span), "").into(),
        };
        match self.undo_nat(NatPoint::NatGateway(gw), &p) {
            Some((q, s)) => {
                self.undo_hop(&s, p, q);
                Step::Next(
                    At::VpcRouter {
                        vpc: g.site,
                        from: VpcFrom::Subnet(subnet),
                    },
                    q,
                )
            }
            None => drop(
                format!(
                    "NAT gateway `{}` admits no unsolicited inbound traffic: {} answers replies \
                     only",
                    g.decl.name, p.dst
                ),
                Some(g.decl.span),
                "a NAT gateway is for outbound flows; publish services another way",
            )
            .at(Stage::Nat)
            .into(),
        }
    }

    pub(super) fn nat_instance(&mut self, h: HostId, p: Packet) -> Step {
        let m = self.m;
        let Some(host) = m.hosts.get(h.index()) else {
            return drop("the instance does not exist", None, "").into();
        };
        if host.owns(p.dst) {
            return Step::Next(At::Arrive(Party::Host(h)), p);
        }
        let sgs: Vec<_> = host.sgs.iter().map(|s| s.value).collect();
        let sender = self.sender.clone();
        tri!(self.security_groups(Iface::Host(h), &sgs, true, &p, sender.as_ref()));
        if host.source_dest_check {
            return drop(
                format!(
                    "instance `{}` has its source/destination check on, so it drops packets not \
                     addressed to it ({} is not its address)",
                    host.decl.name, p.dst
                ),
                Some(host.decl.span),
                format!(
                    "a NAT instance needs `source-dest-check off`: add it to instance `{}`",
                    host.decl.name
                ),
            )
            .into();
        }
        if host.addr.value.is_ipv4() != p.src.is_ipv4() {
            return drop(
                format!(
                    "NAT instance `{}` has an address of the other family than {}: it does not \
                     translate between families",
                    host.decl.name, p.src
                ),
                Some(host.decl.span),
                "route this family's traffic elsewhere",
            )
            .at(Stage::Nat)
            .into();
        }
        let q = Packet {
            src: host.addr.value,
            ..p
        };
        self.rewrite(
            Stage::Nat,
            format!(
                "NAT instance `{}` masquerades to its own address",
                host.decl.name
            ),
            p,
            q,
            Some(host.decl.span),
        );
        self.record_nat(NatSession {
            point: NatPoint::NatInstance(h),
            before: p,
            after: q,
            what: format!("the masquerade of NAT instance `{}`", host.decl.name),
            span: Some(host.decl.span),
            firewall_match: FirewallMatch::Internal,
            node: self.node.clone(),
            via: None,
        });
        tri!(self.security_groups(Iface::Host(h), &sgs, false, &q, None));
        self.sender = Some(Sender {
            addr: host.addr.value,
            sgs,
        });
        let Some(subnet) = host.subnet else {
            return drop("the NAT instance is on no subnet", Some(host.decl.span), "").into();
        };
        Step::Next(
            At::VpcRouter {
                vpc: host.site,
                from: VpcFrom::Subnet(subnet),
            },
            q,
        )
    }
}
