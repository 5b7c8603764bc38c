//! Address and service matching, and who owns an address.
//!
//! These are the simulator's own, concrete helpers: they answer "does this
//! one address match" rather than computing sets, which keeps them short and
//! obviously right.

use super::Packet;
use crate::model::{
    AddrExpr, AddrTerm, DefaultSnat, Entity, GatewayId, GatewayKind, HostId, HostKind, Model,
    NatRule, PublicIpId, PublicIpKind, ServiceRange, ServiceSet, SgId, Site, SiteId, SubnetId,
};
use crate::span::Span;
use crate::syntax::ast::{GatewayMode, NatKind, SiteKind};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};

/// Groups may name groups; deeper nesting than this is treated as a cycle.
const MAX_GROUP_DEPTH: usize = 8;

/// The interface that put a packet on the wire, for `sg NAME` sources in
/// security-group rules: AWS matches a referenced group by the sending
/// interface, not by its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Sender {
    pub addr: IpAddr,
    pub sgs: Vec<SgId>,
}

/// Which side of a packet an address expression is matched against, which
/// decides how `sg NAME` terms match.
#[derive(Clone, Copy)]
pub(super) enum Peer<'a> {
    /// The source, sent by this interface (if known).
    Src(Option<&'a Sender>),
    /// The destination: `sg NAME` matches the private addresses of the
    /// group's members.
    Dst,
}

pub(super) fn expr_has(m: &Model, e: &AddrExpr, addr: IpAddr, peer: Peer) -> bool {
    e.terms.iter().any(|t| term_has(m, t.value, addr, peer, 0))
}

fn term_has(m: &Model, t: AddrTerm, addr: IpAddr, peer: Peer, depth: usize) -> bool {
    match t {
        AddrTerm::Any => true,
        // Every address no site owns: not a site's prefix, and not a public
        // address the design gives a site (docs/language-notes.md).
        AddrTerm::Internet => {
            site_owning(m, addr).is_none()
                && matches!(
                    internet_owner(m, addr),
                    InternetOwner::Nobody | InternetOwner::Host(_)
                )
        }
        AddrTerm::Net(n) => n.contains(&addr),
        AddrTerm::Range(lo, hi) => same_family(lo, addr) && lo <= addr && addr <= hi,
        AddrTerm::Entity(e) => entity_has(m, e, addr, peer, depth),
        AddrTerm::Sg(sg) => match peer {
            Peer::Src(Some(sender)) => sender.addr == addr && sender.sgs.contains(&sg),
            Peer::Src(None) => false,
            Peer::Dst => sg_member_addr(m, sg, addr),
        },
    }
}

fn entity_has(m: &Model, e: Entity, addr: IpAddr, peer: Peer, depth: usize) -> bool {
    match e {
        Entity::Site(s) => match m.sites.get(s.index()) {
            Some(site) if site.kind == SiteKind::Internet => site
                .hosts
                .iter()
                .any(|h| m.hosts.get(h.index()).is_some_and(|h| h.addr.value == addr)),
            Some(site) => site_space(m, site).any(|n| n.contains(&addr)),
            None => false,
        },
        Entity::Subnet(s) => m.subnets.get(s.index()).is_some_and(|s| s.contains(addr)),
        Entity::Host(h) => m.hosts.get(h.index()).is_some_and(|h| h.owns(addr)),
        Entity::Group(g) => {
            depth < MAX_GROUP_DEPTH
                && m.groups.get(g.index()).is_some_and(|g| {
                    g.members
                        .terms
                        .iter()
                        .any(|t| term_has(m, t.value, addr, peer, depth + 1))
                })
        }
        Entity::PublicIp(p) => m
            .public_ips
            .get(p.index())
            .is_some_and(|p| p.addr.value == addr),
        Entity::Endpoint(e) => m
            .endpoints
            .get(e.index())
            .is_some_and(|e| e.addr.value == addr),
        _ => false,
    }
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// The address space a site declares: its prefixes, management prefixes and
/// subnets (a VM network declares only subnets).
pub(super) fn site_space<'m>(m: &'m Model, site: &'m Site) -> impl Iterator<Item = IpNet> + 'm {
    site.prefixes
        .iter()
        .map(|p| p.value)
        .chain(site.management.iter().map(|p| p.value))
        .chain(
            site.subnets
                .iter()
                .filter_map(|s| m.subnets.get(s.index()))
                .flat_map(|s| s.prefixes().map(|p| p.value)),
        )
}

/// Whether `addr` is a private address of a member of security group `sg`.
fn sg_member_addr(m: &Model, sg: SgId, addr: IpAddr) -> bool {
    m.hosts
        .iter()
        .any(|h| h.owns(addr) && h.sgs.iter().any(|s| s.value == sg))
        || m.endpoints
            .iter()
            .any(|e| e.addr.value == addr && e.sgs.iter().any(|s| s.value == sg))
}

pub(super) fn svc_has(set: &ServiceSet, p: &Packet) -> bool {
    set.ranges.iter().any(|r| range_has(r, p))
}

pub(super) fn range_has(r: &ServiceRange, p: &Packet) -> bool {
    match r.proto {
        None => true,
        Some(proto) => proto == p.proto && r.lo <= p.dport && p.dport <= r.hi,
    }
}

/// The declared site that owns `addr`, if any: its address space, or any
/// address it publishes (public IPs, Elastic IPs, NAT and egress addresses,
/// gateway external addresses, endpoints). The internet is not a declared
/// site: `internet` means every address this returns `None` for.
pub(super) fn site_owning(m: &Model, addr: IpAddr) -> Option<SiteId> {
    for (i, site) in m.sites.iter().enumerate() {
        let id = SiteId(i as u32);
        if site.kind == SiteKind::Internet {
            continue;
        }
        if site_space(m, site).any(|n| n.contains(&addr)) || site_publishes(m, id, addr) {
            return Some(id);
        }
    }
    None
}

/// Whether a site answers for `addr` somewhere other than in its own
/// address space.
fn site_publishes(m: &Model, site: SiteId, addr: IpAddr) -> bool {
    let s = match m.sites.get(site.index()) {
        Some(s) => s,
        None => return false,
    };
    let hosts = s.hosts.iter().filter_map(|h| m.hosts.get(h.index()));
    let host_owned = hosts
        .clone()
        .any(|h| h.owns(addr) || h.public.is_some_and(|p| p.addr == addr));
    let ip_owned = m
        .public_ips
        .iter()
        .any(|p| p.site == site && p.addr.value == addr);
    let gw_owned = s
        .gateways
        .iter()
        .filter_map(|g| m.gateways.get(g.index()))
        .any(|g| match &g.kind {
            GatewayKind::NatGateway { elastic_ip, .. } => {
                elastic_ip.as_ref().is_some_and(|e| e.value == addr)
            }
            GatewayKind::Vnet { external_ip, .. } => {
                external_ip.as_ref().is_some_and(|e| e.value == addr)
            }
            GatewayKind::InternetGateway
            | GatewayKind::EgressOnlyInternetGateway
            | GatewayKind::Endpoint { .. } => false,
        });
    let egress = s.internet_egress.as_ref().is_some_and(|e| e.value == addr);
    let snat = default_snat_addr(m, site) == Some(addr);
    let nat = s
        .nat_rules
        .iter()
        .filter_map(|r| m.nat_rules.get(r.index()))
        .any(|r| nat_external_has(m, r, addr));
    let endpoint = m
        .endpoints
        .iter()
        .any(|e| e.site == site && e.addr.value == addr);
    host_owned || ip_owned || gw_owned || egress || snat || nat || endpoint
}

/// Whether a NAT rule's external (public) side contains `addr`.
pub(super) fn nat_external_has(m: &Model, r: &NatRule, addr: IpAddr) -> bool {
    r.kind != NatKind::NoSnat
        && r.external
            .as_ref()
            .is_some_and(|e| expr_has(m, e, addr, Peer::Dst))
}

/// The address the SDDC's default SNAT translates to. When the design does
/// not state it (`default-snat` absent), the oracle stands in an address of
/// 240.0.0.0/4, which is reserved and never appears in a real design, so it
/// cannot collide with anything the design declares: 240.0.0.1 for the first
/// site, 240.0.0.2 for the second, and so on.
pub(super) fn default_snat_addr(m: &Model, site: SiteId) -> Option<IpAddr> {
    let s = m.sites.get(site.index())?;
    if s.kind != SiteKind::Sddc {
        return None;
    }
    match s.default_snat {
        DefaultSnat::Addr(a, _) => Some(a),
        DefaultSnat::Off(_) => None,
        DefaultSnat::Implicit => {
            let n = 0xF000_0000u32.wrapping_add(site.0.wrapping_add(1) & 0x0FFF_FFFF);
            Some(IpAddr::V4(Ipv4Addr::from(n)))
        }
    }
}

/// The first address an expression names, as a network: a literal, a host,
/// a public IP, an endpoint, a subnet, or the first of a group. NAT rules
/// translate to and from this.
pub(super) fn expr_net(m: &Model, e: &AddrExpr) -> Option<IpNet> {
    e.terms.iter().find_map(|t| term_net(m, t.value, 0))
}

fn term_net(m: &Model, t: AddrTerm, depth: usize) -> Option<IpNet> {
    match t {
        AddrTerm::Net(n) => Some(n),
        AddrTerm::Range(lo, _) => Some(IpNet::from(lo)),
        AddrTerm::Entity(Entity::Host(h)) => m.hosts.get(h.index()).map(|h| h.addr.value.into()),
        AddrTerm::Entity(Entity::PublicIp(p)) => {
            m.public_ips.get(p.index()).map(|p| p.addr.value.into())
        }
        AddrTerm::Entity(Entity::Endpoint(e)) => {
            m.endpoints.get(e.index()).map(|e| e.addr.value.into())
        }
        AddrTerm::Entity(Entity::Subnet(s)) => m.subnets.get(s.index()).map(|s| s.prefix.value),
        AddrTerm::Entity(Entity::Group(g)) if depth < MAX_GROUP_DEPTH => m
            .groups
            .get(g.index())?
            .members
            .terms
            .iter()
            .find_map(|t| term_net(m, t.value, depth + 1)),
        _ => None,
    }
}

/// Maps `addr` from network `from` to network `to`: one-to-one when both
/// have the same length (the offset is kept), otherwise to `to`'s address as
/// written (a single address for the usual one-address rules).
pub(super) fn translate(from: IpNet, to: IpNet, addr: IpAddr) -> IpAddr {
    match (from, to, addr) {
        (IpNet::V4(f), IpNet::V4(t), IpAddr::V4(a)) if f.prefix_len() == t.prefix_len() => {
            let offset = u32::from(a).wrapping_sub(u32::from(f.network()));
            IpAddr::V4(Ipv4Addr::from(u32::from(t.network()).wrapping_add(offset)))
        }
        (IpNet::V6(f), IpNet::V6(t), IpAddr::V6(a)) if f.prefix_len() == t.prefix_len() => {
            let offset = u128::from(a).wrapping_sub(u128::from(f.network()));
            IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(t.network()).wrapping_add(offset),
            ))
        }
        _ => to.addr(),
    }
}

/// The NAT gateway of `vpc` that owns `addr` as its private address: a
/// declared host or endpoint of the VPC with that address takes precedence
/// ("Oracle decisions").
pub(super) fn nat_gateway_at(m: &Model, vpc: SiteId, addr: IpAddr) -> Option<GatewayId> {
    let site = m.sites.get(vpc.index())?;
    let taken = site
        .hosts
        .iter()
        .filter_map(|h| m.hosts.get(h.index()))
        .any(|h| h.owns(addr))
        || m.endpoints
            .iter()
            .any(|e| e.site == vpc && e.addr.value == addr);
    if taken {
        return None;
    }
    site.gateways
        .iter()
        .copied()
        .find(|&g| m.nat_gateway_addr(g) == Some(addr))
}

/// What kind of address the internet does not route `a` is, or `None` when
/// it is an address the internet routes: private (RFC 1918), shared (RFC
/// 6598), unique local (RFC 4193), loopback, link-local, multicast or
/// reserved space.
pub(super) fn unrouted(a: IpAddr) -> Option<&'static str> {
    match a {
        IpAddr::V4(v) => {
            let [o1, o2, ..] = v.octets();
            match (o1, o2) {
                (0, _) => Some("reserved (\"this network\")"),
                (10, _) => Some("private (RFC 1918)"),
                (100, 64..=127) => Some("shared address space (RFC 6598)"),
                (127, _) => Some("loopback"),
                (169, 254) => Some("link-local"),
                (172, 16..=31) => Some("private (RFC 1918)"),
                (192, 168) => Some("private (RFC 1918)"),
                (224..=255, _) => Some("multicast or reserved"),
                _ => None,
            }
        }
        IpAddr::V6(v) => {
            let first = v.segments()[0];
            if v.is_unspecified() || v.is_loopback() {
                Some("unspecified or loopback")
            } else if first & 0xfe00 == 0xfc00 {
                Some("unique local (RFC 4193)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if first & 0xff00 == 0xff00 {
                Some("multicast")
            } else {
                None
            }
        }
    }
}

/// The last address AWS lets an interface use in a subnet (the one before
/// the broadcast address, which AWS reserves): where an NLB is taken to be.
pub(super) fn last_usable(net: IpNet) -> Option<IpAddr> {
    let addr = match net.broadcast() {
        IpAddr::V4(a) => IpAddr::V4(u32::from(a).checked_sub(1)?.into()),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).checked_sub(1)?.into()),
    };
    (net.contains(&addr) && addr != net.network()).then_some(addr)
}

/// The most specific subnet of `site` containing `addr`.
pub(super) fn subnet_of(m: &Model, site: SiteId, addr: IpAddr) -> Option<SubnetId> {
    let s = m.sites.get(site.index())?;
    s.subnets
        .iter()
        .copied()
        .filter(|id| {
            m.subnets
                .get(id.index())
                .is_some_and(|sub| sub.contains(addr))
        })
        .max_by_key(|id| {
            // Longest prefix (of the address's family) first; among equals
            // the first declared wins, so the key prefers lower indices.
            let len = m
                .subnets
                .get(id.index())
                .and_then(|s| s.prefix_of_family(addr))
                .map_or(0, |p| p.value.prefix_len());
            (len, std::cmp::Reverse(id.0))
        })
}

/// The declared host with address `addr` on `subnet`.
pub(super) fn host_on(m: &Model, subnet: SubnetId, addr: IpAddr) -> Option<HostId> {
    m.hosts
        .iter()
        .position(|h| h.subnet == Some(subnet) && h.owns(addr))
        .map(|i| HostId(i as u32))
}

/// An instance's public address: its `public-ip`/`elastic-ip` clause, or an
/// `elastic-ip` statement associated with it; with the span that gives it.
pub(super) fn instance_public(m: &Model, h: HostId) -> Option<(IpAddr, Span)> {
    let host = m.hosts.get(h.index())?;
    if host.kind != HostKind::Instance {
        return None;
    }
    if let Some(p) = host.public {
        return Some((p.addr, p.span));
    }
    m.public_ips
        .iter()
        .find(|p| {
            p.kind == PublicIpKind::Elastic
                && p.target
                    .as_ref()
                    .is_some_and(|t| t.value == Entity::Host(h))
        })
        .map(|p| (p.addr.value, p.decl.span))
        // A global IPv6 address is the instance's own public address: an
        // internet gateway passes IPv6 untranslated (docs/forwarding.md,
        // "IPv6 at the internet gateway").
        .or_else(|| {
            crate::model::is_global_ipv6(host.addr.value)
                .then_some((host.addr.value, host.addr.span))
        })
}

/// An instance's own global IPv6 address where the internet reaches it: its
/// single address when that is its public one (`instance_public`), or the
/// IPv6 address of a dual-stack instance, beside any public IPv4 address.
pub(super) fn instance_global_v6(m: &Model, h: HostId) -> Option<(IpAddr, Span)> {
    let host = m.hosts.get(h.index())?;
    if let Some((a, span)) = instance_public(m, h) {
        if a == host.addr.value {
            return Some((a, span));
        }
    }
    let dual = host.dual.as_ref()?;
    [&host.addr, dual]
        .into_iter()
        .find(|a| crate::model::is_global_ipv6(a.value))
        .map(|a| (a.value, a.span))
}

/// A public NAT gateway's Elastic IP: from its declaration, or from an
/// `elastic-ip` statement associated with it.
pub(super) fn nat_gateway_eip(m: &Model, g: GatewayId) -> Option<(IpAddr, Span)> {
    let gw = m.gateways.get(g.index())?;
    if let GatewayKind::NatGateway {
        elastic_ip: Some(e),
        ..
    } = &gw.kind
    {
        return Some((e.value, e.span));
    }
    m.public_ips
        .iter()
        .find(|p| {
            p.kind == PublicIpKind::Elastic
                && p.target
                    .as_ref()
                    .is_some_and(|t| t.value == Entity::Gateway(g))
        })
        .map(|p| (p.addr.value, p.decl.span))
}

/// What a public address of a VPC belongs to.
#[derive(Clone, Copy, Debug)]
pub(super) enum VpcPublic {
    Instance(HostId, Span),
    NatGateway(GatewayId, Span),
    /// An Elastic IP associated with nothing.
    Unassociated(PublicIpId),
}

pub(super) fn vpc_public(m: &Model, vpc: SiteId, addr: IpAddr) -> Option<VpcPublic> {
    let site = m.sites.get(vpc.index())?;
    for &h in &site.hosts {
        if let Some((a, span)) = instance_public(m, h) {
            if a == addr {
                return Some(VpcPublic::Instance(h, span));
            }
        }
        if let Some((a, span)) = instance_global_v6(m, h) {
            if a == addr {
                return Some(VpcPublic::Instance(h, span));
            }
        }
    }
    for &g in &site.gateways {
        if let Some((a, span)) = nat_gateway_eip(m, g) {
            if a == addr {
                return Some(VpcPublic::NatGateway(g, span));
            }
        }
    }
    m.public_ips
        .iter()
        .position(|p| {
            p.site == vpc
                && p.kind == PublicIpKind::Elastic
                && p.target.is_none()
                && p.addr.value == addr
        })
        .map(|i| VpcPublic::Unassociated(PublicIpId(i as u32)))
}

/// Who the internet hands a packet for `addr` to.
#[derive(Clone, Copy, Debug)]
pub(super) enum InternetOwner {
    Host(HostId),
    /// A public address of an SDDC: its compute gateway's internet uplink.
    Sddc(SiteId, Option<Span>),
    /// A public or Elastic IP of a VPC: its internet gateway.
    Vpc(SiteId, VpcPublic),
    /// An on-prem egress or DNAT address: that edge.
    Onprem(SiteId, Option<Span>),
    /// A VM network gateway's external address, or an address of a VM
    /// network whose gateway forwards without translation.
    Vnet(GatewayId),
    /// An address no declared site owns: an unnamed internet host.
    Nobody,
    /// An address of a site that the internet does not route to it.
    Private(SiteId),
}

pub(super) fn internet_owner(m: &Model, addr: IpAddr) -> InternetOwner {
    if let Some(i) = m
        .hosts
        .iter()
        .position(|h| h.kind == HostKind::InternetHost && h.addr.value == addr)
    {
        return InternetOwner::Host(HostId(i as u32));
    }
    for (i, site) in m.sites.iter().enumerate() {
        let id = SiteId(i as u32);
        match site.kind {
            SiteKind::Sddc => {
                if let Some(p) = m
                    .public_ips
                    .iter()
                    .find(|p| p.site == id && p.kind == PublicIpKind::Sddc && p.addr.value == addr)
                {
                    return InternetOwner::Sddc(id, Some(p.decl.span));
                }
                if default_snat_addr(m, id) == Some(addr) {
                    let span = match site.default_snat {
                        DefaultSnat::Addr(_, s) => s,
                        _ => site.header_span,
                    };
                    return InternetOwner::Sddc(id, Some(span));
                }
                if let Some(r) = site
                    .nat_rules
                    .iter()
                    .filter_map(|r| m.nat_rules.get(r.index()))
                    .find(|r| nat_external_has(m, r, addr))
                {
                    return InternetOwner::Sddc(id, Some(r.decl.span));
                }
            }
            SiteKind::Vpc => {
                if let Some(p) = vpc_public(m, id, addr) {
                    return InternetOwner::Vpc(id, p);
                }
            }
            SiteKind::Onprem => {
                if let Some(e) = site.internet_egress.as_ref().filter(|e| e.value == addr) {
                    return InternetOwner::Onprem(id, Some(e.span));
                }
                if let Some(r) = site
                    .nat_rules
                    .iter()
                    .filter_map(|r| m.nat_rules.get(r.index()))
                    .find(|r| nat_external_has(m, r, addr))
                {
                    return InternetOwner::Onprem(id, Some(r.decl.span));
                }
            }
            SiteKind::VmNetwork => {
                for &g in &site.gateways {
                    let Some(gw) = m.gateways.get(g.index()) else {
                        continue;
                    };
                    if let GatewayKind::Vnet {
                        mode, external_ip, ..
                    } = &gw.kind
                    {
                        let external = external_ip.as_ref().is_some_and(|e| e.value == addr);
                        let forwarded = *mode == GatewayMode::Forwarding
                            && site.subnets.iter().any(|s| {
                                m.subnets
                                    .get(s.index())
                                    .is_some_and(|s| s.prefix.value.contains(&addr))
                            });
                        if external || forwarded {
                            return InternetOwner::Vnet(g);
                        }
                    }
                }
            }
            SiteKind::Internet => {}
        }
    }
    match site_owning(m, addr) {
        Some(site) => InternetOwner::Private(site),
        None => InternetOwner::Nobody,
    }
}
