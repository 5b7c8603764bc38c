//! The model's address expressions and services as packet-space sets, and
//! who owns which address.

use super::classes::Classes;
use super::packet_set::{AddrRanges, PacketSet};
use crate::model::{AclId, FirewallId, RouteTableId};
use crate::model::{
    AddrExpr, AddrTerm, DefaultSnat, EndpointId, Entity, GatewayId, GatewayKind, HostId, HostKind,
    Model, PublicIpId, PublicIpKind, SgId, SiteId, SubnetId, Uplink,
};
use crate::syntax::ast::{NatKind, SiteKind};
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};

pub use super::services::{has_service_flows, service_flows, service_match};

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

/// The ports clients send from.
pub const EPHEMERAL: (u16, u16) = crate::model::services::CLIENT_PORTS;

/// Who receives packets for a public address on the internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PublicOwner {
    InternetHost(HostId),
    /// A public IP of an SDDC, or its default SNAT address.
    Sddc(SiteId),
    /// An instance's public or Elastic IP, at its VPC's internet gateway.
    Instance(HostId),
    /// A NAT gateway's Elastic IP.
    NatGateway(GatewayId),
    /// An on-prem site's egress or DNAT address.
    Onprem(SiteId),
    /// A VM network gateway's external address.
    VnetGateway(GatewayId),
    /// An Elastic IP associated with nothing: the VPC owns it, nobody
    /// answers it.
    UnassociatedEip(PublicIpId),
}

/// The private owner of an address inside a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Iface {
    Host(HostId),
    Endpoint(EndpointId),
}

/// A device with an address of its own in a VPC subnet: a NAT gateway's
/// private address (`Model::nat_gateway_addr`), the last usable address
/// for an NLB (docs/forwarding.md, "Oracle decisions"). It receives, but
/// never sends a flow of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// A NAT gateway, public or private, in its subnet.
    NatGateway(GatewayId, SubnetId),
    Nlb(crate::model::NlbId),
}

/// Precomputed address ownership and address-expression sets.
pub struct Space<'m> {
    pub model: &'m Model,
    /// Every address some site owns (prefixes and subnets).
    pub owned: AddrRanges,
    /// Every address no site owns: the `internet` keyword.
    pub internet: AddrRanges,
    pub public: HashMap<IpAddr, PublicOwner>,
    /// The external sides of NAT rules (SDDC and on-prem), which may be
    /// prefixes: public addresses of their site too. Exact owners in
    /// `public` come first.
    pub public_ranges: Vec<(AddrRanges, PublicOwner)>,
    /// Each host's public address at its internet gateway: its `public-ip`
    /// or `elastic-ip` clause, else an `elastic-ip` statement associated
    /// with it (the clause wins, docs/forwarding.md "Oracle decisions").
    instance_public: Vec<Option<IpAddr>>,
    /// Each instance's own global IPv6 address when the internet reaches it
    /// there: its single address (then also its `instance_public`), or the
    /// IPv6 address of a dual-stack instance.
    global_v6: Vec<Option<IpAddr>>,
    ifaces: HashMap<(SiteId, IpAddr), Iface>,
    /// Devices with an address in a VPC subnet, per VPC: a declared host at
    /// the same address takes precedence, so none is listed there.
    devices: HashMap<SiteId, Vec<(IpAddr, Device)>>,
    /// The addresses of `devices`: they do not start flows.
    pub device_addrs: AddrRanges,
    /// Addresses of the interfaces in each security group.
    sg_members: Vec<AddrRanges>,
    /// The SDDC's default SNAT address; implicit ones get a placeholder from
    /// 240.0.0.0/4, one per site.
    pub default_snat: HashMap<SiteId, IpAddr>,
    /// Which hosts and subnets are walked together (`classes.rs`).
    pub classes: Classes,
    /// Walks need only what is delivered and whether some packet took an
    /// unmodelled path, not which rule dropped what: a gateway firewall
    /// then admits a set by intersecting it with what it admits on the
    /// uplink ([`Space::firewall_admits`]) instead of splitting it rule by
    /// rule. For whole-network questions ([`Space::grouped`]), whose
    /// answers name no rule; never for explanations.
    pub verdicts_only: bool,
    caches: Caches,
}

/// Sets computed once per element and shared by every branch that passes
/// it, from any thread: a `OnceLock` per element keeps them lazy (an
/// element no flow reaches costs nothing) and the results independent of
/// which thread computed them first.
#[derive(Default)]
struct Caches {
    /// Per firewall, the headers each rule matches (from, to, services).
    firewall_rules: Vec<OnceLock<Vec<PacketSet>>>,
    /// Per route table, each route's share of the destination space under
    /// longest-prefix match, in the order of the table's routes.
    route_parts: Vec<OnceLock<Vec<AddrRanges>>>,
    /// Per security group: inbound rules on addresses, outbound rules, and
    /// the inbound rules that name groups (`sg NAME` sources).
    security_groups: Vec<SgCache>,
    /// Per network ACL and direction (inbound first), each rule's headers.
    acl_rules: Vec<[OnceLock<Vec<PacketSet>>; 2]>,
    /// The same with each set's sources and destinations swapped, for the
    /// replies that cross the ACL untranslated.
    acl_rules_swapped: Vec<[OnceLock<Vec<PacketSet>>; 2]>,
    /// Per connection and transit gateway route table, its routes in order
    /// of precedence and each one's share of the destinations.
    tgw_tables: Vec<Vec<OnceLock<super::walk::TgwLookup>>>,
    /// Per gateway firewall and uplink, what its allow rules admit under
    /// first match (see [`Space::firewall_admits`]).
    firewall_admits: Mutex<HashMap<(FirewallId, Uplink), Arc<PacketSet>>>,
}

/// Which of a security group's rule sets to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SgSide {
    /// Inbound rules, by source address only: an `sg NAME` source matches
    /// the interface that sent the packet, not an address, so it is left
    /// out here (see [`Space::sg_sender_rules`]).
    Inbound,
    Outbound,
}

/// An inbound rule with `sg NAME` sources: it admits its services from any
/// address, for packets sent by an interface in one of `groups`.
#[derive(Clone, Debug)]
pub struct SenderRule {
    pub groups: Vec<SgId>,
    pub services: PacketSet,
}

#[derive(Default)]
struct SgCache {
    inbound: OnceLock<PacketSet>,
    outbound: OnceLock<PacketSet>,
    by_sender: OnceLock<Vec<SenderRule>>,
}

impl<'m> Space<'m> {
    pub fn new(model: &'m Model) -> Space<'m> {
        let mut nets = Vec::new();
        for s in &model.sites {
            if s.kind == SiteKind::Internet {
                continue;
            }
            nets.extend(s.prefixes.iter().map(|p| p.value));
            nets.extend(s.management.iter().map(|p| p.value));
        }
        nets.extend(
            model
                .subnets
                .iter()
                .flat_map(|s| s.prefixes().map(|p| p.value)),
        );
        let owned = AddrRanges::from_nets(nets);
        let internet = owned.complement();

        let mut ifaces = HashMap::new();
        let mut public = HashMap::new();
        for (i, h) in model.hosts.iter().enumerate() {
            let id = HostId(i as u32);
            if h.kind == HostKind::InternetHost {
                public
                    .entry(h.addr.value)
                    .or_insert(PublicOwner::InternetHost(id));
                continue;
            }
            for a in h.addrs() {
                ifaces.entry((h.site, a.value)).or_insert(Iface::Host(id));
            }
            if let Some(p) = h.public {
                public.entry(p.addr).or_insert(PublicOwner::Instance(id));
            }
        }
        for (i, e) in model.endpoints.iter().enumerate() {
            ifaces
                .entry((e.site, e.addr.value))
                .or_insert(Iface::Endpoint(EndpointId(i as u32)));
        }
        // Elastic IPs declared on their own and associated with an instance
        // or NAT gateway route to that target; unassociated ones are still
        // the VPC's, not the internet's.
        let mut instance_public: Vec<Option<IpAddr>> = model
            .hosts
            .iter()
            .map(|h| h.public.map(|p| p.addr))
            .collect();
        for (i, p) in model.public_ips.iter().enumerate() {
            let owner = match p.target.as_ref().map(|t| t.value) {
                Some(Entity::Host(h)) => {
                    let is_instance = model.hosts.get(h.index()).map(|x| x.kind);
                    if p.kind == PublicIpKind::Elastic && is_instance == Some(HostKind::Instance) {
                        if let Some(slot) = instance_public.get_mut(h.index()) {
                            slot.get_or_insert(p.addr.value);
                        }
                    }
                    PublicOwner::Instance(h)
                }
                Some(Entity::Gateway(g)) => PublicOwner::NatGateway(g),
                _ if model.site(p.site).kind == SiteKind::Sddc => PublicOwner::Sddc(p.site),
                None if p.kind == PublicIpKind::Elastic => {
                    PublicOwner::UnassociatedEip(PublicIpId(i as u32))
                }
                _ => continue,
            };
            public.entry(p.addr.value).or_insert(owner);
        }
        // An instance with neither a public nor an Elastic IP but a global
        // IPv6 address is reachable at that address itself: the internet
        // gateway does not translate IPv6 (docs/forwarding.md, "IPv6 at the
        // internet gateway").
        for (i, h) in model.hosts.iter().enumerate() {
            if h.kind != HostKind::Instance || !crate::model::is_global_ipv6(h.addr.value) {
                continue;
            }
            if let Some(slot) = instance_public.get_mut(i) {
                if slot.is_none() {
                    *slot = Some(h.addr.value);
                    public
                        .entry(h.addr.value)
                        .or_insert(PublicOwner::Instance(HostId(i as u32)));
                }
            }
        }
        // A dual-stack instance's global IPv6 address is public too, beside
        // the public IPv4 address it may have.
        let global_v6: Vec<Option<IpAddr>> = model
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if h.kind != HostKind::Instance {
                    return None;
                }
                let own = instance_public.get(i).copied().flatten();
                if own.is_some_and(|a| h.owns(a)) {
                    return own;
                }
                let dual = h.dual.as_ref().map(|d| d.value);
                let v6 = [Some(h.addr.value), dual]
                    .into_iter()
                    .flatten()
                    .find(|&a| crate::model::is_global_ipv6(a))?;
                // Only a dual-stack instance gets a second public address:
                // a single IPv6 address with an IPv4 Elastic IP keeps the
                // behaviour it had before dual-stack instances.
                dual.is_some().then_some(v6)
            })
            .collect();
        for (i, a) in global_v6.iter().enumerate() {
            if let Some(a) = a {
                public
                    .entry(*a)
                    .or_insert(PublicOwner::Instance(HostId(i as u32)));
            }
        }
        let mut default_snat = HashMap::new();
        for (i, s) in model.sites.iter().enumerate() {
            let site = SiteId(i as u32);
            match s.kind {
                SiteKind::Sddc => {
                    let addr = match s.default_snat {
                        DefaultSnat::Addr(a, _) => Some(a),
                        // The design does not state it: 240.0.0.N for the
                        // Nth site, reserved space no design can collide
                        // with (docs/forwarding.md, "Oracle decisions").
                        DefaultSnat::Implicit => {
                            let n = 0xF000_0000u32
                                .wrapping_add((i as u32).wrapping_add(1) & 0x0FFF_FFFF);
                            Some(IpAddr::from(n.to_be_bytes()))
                        }
                        DefaultSnat::Off(_) => None,
                    };
                    if let Some(a) = addr {
                        default_snat.insert(site, a);
                        public.entry(a).or_insert(PublicOwner::Sddc(site));
                    }
                }
                SiteKind::Onprem => {
                    if let Some(e) = &s.internet_egress {
                        public.entry(e.value).or_insert(PublicOwner::Onprem(site));
                    }
                }
                _ => {}
            }
        }
        for (i, g) in model.gateways.iter().enumerate() {
            let id = GatewayId(i as u32);
            match &g.kind {
                GatewayKind::NatGateway {
                    elastic_ip: Some(a),
                    ..
                } => {
                    public.entry(a.value).or_insert(PublicOwner::NatGateway(id));
                }
                GatewayKind::Vnet {
                    external_ip: Some(a),
                    ..
                } => {
                    public
                        .entry(a.value)
                        .or_insert(PublicOwner::VnetGateway(id));
                }
                _ => {}
            }
        }
        let mut sg_members = vec![AddrRanges::empty(); model.security_groups.len()];
        for h in &model.hosts {
            for sg in &h.sgs {
                if let Some(m) = sg_members.get_mut(sg.value.index()) {
                    for a in h.addrs() {
                        *m = m.union(&AddrRanges::from_addr(a.value));
                    }
                }
            }
        }
        for e in &model.endpoints {
            for sg in &e.sgs {
                if let Some(m) = sg_members.get_mut(sg.value.index()) {
                    *m = m.union(&AddrRanges::from_addr(e.addr.value));
                }
            }
        }
        // `internet` is every address no site owns: neither a site's
        // prefixes nor a public address the design gives a site (an Elastic
        // IP, a public IP, a SNAT address); internet hosts stay in it.
        // In one sort (`from_nets`): a fold of unions copied the growing
        // set once per address, quadratic in an SDDC with many public IPs.
        let site_public = AddrRanges::from_nets(
            public
                .iter()
                .filter(|(_, o)| !matches!(o, PublicOwner::InternetHost(_)))
                .map(|(&a, _)| IpNet::from(a)),
        );
        let internet = internet.difference(&site_public);
        let caches = Caches {
            firewall_rules: (0..model.firewalls.len())
                .map(|_| OnceLock::new())
                .collect(),
            route_parts: (0..model.route_tables.len())
                .map(|_| OnceLock::new())
                .collect(),
            security_groups: (0..model.security_groups.len())
                .map(|_| Default::default())
                .collect(),
            acl_rules: (0..model.acls.len()).map(|_| Default::default()).collect(),
            acl_rules_swapped: (0..model.acls.len()).map(|_| Default::default()).collect(),
            tgw_tables: model
                .connections
                .iter()
                .map(|c| c.tables.iter().map(|_| OnceLock::new()).collect())
                .collect(),
            firewall_admits: Mutex::default(),
        };
        let mut devices: HashMap<SiteId, Vec<(IpAddr, Device)>> = HashMap::new();
        let mut device_addrs = AddrRanges::empty();
        let nat_gateways = model
            .gateways
            .iter()
            .enumerate()
            .filter_map(|(i, g)| match g.kind {
                GatewayKind::NatGateway {
                    subnet: Some(sub), ..
                } => Some((g.site, sub, Device::NatGateway(GatewayId(i as u32), sub))),
                _ => None,
            });
        let nlbs = model.nlbs.iter().enumerate().filter_map(|(i, n)| {
            let sub = n.subnets.first()?.value;
            Some((n.site, sub, Device::Nlb(crate::model::NlbId(i as u32))))
        });
        for (site, sub, device) in nat_gateways.chain(nlbs) {
            let net = model.subnet(sub).prefix.value;
            let addr = match device {
                Device::Nlb(_) => last_usable(net),
                Device::NatGateway(g, _) => model.nat_gateway_addr(g),
            };
            let Some(addr) = addr else {
                continue;
            };
            if ifaces.contains_key(&(site, addr)) {
                continue;
            }
            devices.entry(site).or_default().push((addr, device));
            device_addrs = device_addrs.union(&AddrRanges::from_addr(addr));
        }
        let mut space = Space {
            model,
            owned,
            internet,
            public,
            public_ranges: Vec::new(),
            instance_public,
            global_v6,
            ifaces,
            devices,
            device_addrs,
            sg_members,
            default_snat,
            classes: Classes::default(),
            verdicts_only: false,
            caches,
        };
        // The external side of a NAT rule (other than no-snat) is a public
        // address of its site, which the internet hands to the SDDC's
        // internet uplink or to the on-prem edge; it is not `internet`
        // (docs/language-notes.md). A VM network's DNAT rules are its own
        // too, but the internet hands a VM network only its gateway's
        // external address (docs/forwarding.md, "The internet"): another
        // external address is owned and unreachable, like a private one.
        for &n in model.sites.iter().flat_map(|s| &s.nat_rules) {
            let rule = &model.nat_rules[n.index()];
            let owner = match model.site(rule.site).kind {
                SiteKind::Onprem => Some(PublicOwner::Onprem(rule.site)),
                SiteKind::Sddc => Some(PublicOwner::Sddc(rule.site)),
                SiteKind::VmNetwork => None,
                _ => continue,
            };
            let Some(ext) = rule
                .external
                .as_ref()
                .filter(|_| rule.kind != NatKind::NoSnat)
            else {
                continue;
            };
            let addrs = space.addrs(ext);
            if !addrs.is_empty() {
                space.internet = space.internet.difference(&addrs);
                if let Some(owner) = owner {
                    space.public_ranges.push((addrs, owner));
                }
            }
        }
        // A VM network whose gateway forwards without translation is
        // routable on the physical side: the internet hands its addresses
        // to that gateway ("Oracle decisions").
        for (i, g) in model.gateways.iter().enumerate() {
            if let GatewayKind::Vnet {
                mode: crate::syntax::ast::GatewayMode::Forwarding,
                ..
            } = g.kind
            {
                let nets = model
                    .site(g.site)
                    .subnets
                    .iter()
                    .flat_map(|&s| model.subnet(s).prefixes().map(|p| p.value));
                space.public_ranges.push((
                    AddrRanges::from_nets(nets),
                    PublicOwner::VnetGateway(GatewayId(i as u32)),
                ));
            }
        }
        space.classes = Classes::singletons(&space);
        space
    }

    /// A space whose walks take interchangeable hosts and subnets together
    /// (`classes.rs`): for whole-network questions, whose answers name no
    /// host, not for explanations.
    pub fn grouped(model: &'m Model) -> Space<'m> {
        let mut space = Space::new(model);
        space.classes = Classes::grouped(&space);
        space.verdicts_only = true;
        space
    }

    /// What gateway firewall `fw` admits on `uplink` under first match: the
    /// union of its allow rules' first-match regions, computed once (by
    /// `compute`) per firewall and uplink and shared by every branch. The
    /// packets of a set that the firewall allows are exactly the set's
    /// intersection with it, since a packet's first matching rule does not
    /// depend on the other packets of the set.
    pub fn firewall_admits(
        &self,
        fw: FirewallId,
        uplink: Uplink,
        compute: impl FnOnce() -> PacketSet,
    ) -> Arc<PacketSet> {
        let cache = &self.caches.firewall_admits;
        let key = (fw, uplink);
        if let Some(s) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return s;
        }
        // Computed outside the lock: two threads may both compute it, and
        // get the same set, so whichever is kept changes nothing.
        let set = Arc::new(compute());
        match cache.lock() {
            Ok(mut c) => c.entry(key).or_insert(set).clone(),
            Err(_) => set,
        }
    }

    /// Addresses of sites that the internet delivers to their owner: NAT
    /// rules' external sides, and VM networks behind a forwarding gateway.
    pub fn published_ranges(&self) -> AddrRanges {
        self.public_ranges
            .iter()
            .fold(AddrRanges::empty(), |acc, (r, _)| acc.union(r))
    }

    /// The devices with an address of their own in a VPC's subnets.
    pub fn devices(&self, vpc: SiteId) -> Vec<(IpAddr, Device)> {
        self.devices.get(&vpc).cloned().unwrap_or_default()
    }

    /// An instance's public address at its internet gateway.
    pub fn public_of(&self, h: HostId) -> Option<IpAddr> {
        self.instance_public.get(h.index()).copied().flatten()
    }

    /// An instance's own global IPv6 address, which internet gateways pass
    /// untranslated, when the internet reaches it there.
    pub fn global_v6_of(&self, h: HostId) -> Option<IpAddr> {
        self.global_v6.get(h.index()).copied().flatten()
    }

    /// The headers each rule of a firewall matches, in rule order.
    pub fn firewall_rule_sets(&self, fw: FirewallId) -> &[PacketSet] {
        let Some(cell) = self.caches.firewall_rules.get(fw.index()) else {
            return &[];
        };
        cell.get_or_init(|| {
            self.model.firewalls[fw.index()]
                .rules
                .iter()
                .map(|r| self.firewall_rule_set(r, &service_match(&r.services)))
                .collect()
        })
    }

    /// The cell caching route table `table` of transit gateway `c` (see
    /// `walk::tgw`, which fills it).
    pub(crate) fn tgw_table_cell(
        &self,
        c: crate::model::ConnectionId,
        table: usize,
    ) -> Option<&OnceLock<super::walk::TgwLookup>> {
        self.caches.tgw_tables.get(c.index())?.get(table)
    }

    /// The headers one firewall rule matches, given what its services match.
    pub(super) fn firewall_rule_set(
        &self,
        r: &crate::model::FirewallRule,
        services: &PacketSet,
    ) -> PacketSet {
        between(&self.addrs(&r.from), &self.addrs(&r.to)).intersect(services)
    }

    /// Fills a firewall's cache with sets computed elsewhere (in parallel,
    /// by `engine::warm`); a cache filled already keeps its sets, which are
    /// the same.
    pub(super) fn preset_firewall_rule_sets(&self, fw: FirewallId, sets: Vec<PacketSet>) {
        if let Some(cell) = self.caches.firewall_rules.get(fw.index()) {
            let _ = cell.set(sets);
        }
    }

    /// Each route's share of the destinations under longest-prefix match.
    pub fn route_parts(&self, rt: RouteTableId) -> &[AddrRanges] {
        let Some(cell) = self.caches.route_parts.get(rt.index()) else {
            return &[];
        };
        cell.get_or_init(|| {
            let prefixes: Vec<ipnet::IpNet> = self.model.route_tables[rt.index()]
                .routes
                .iter()
                .map(|r| r.prefix)
                .collect();
            AddrRanges::lpm_partition(&prefixes)
        })
    }

    /// The headers a security group's rules admit on one side. Inbound,
    /// `sg NAME` sources match nothing here: they name the sending
    /// interface, which [`Space::sg_sender_rules`] covers.
    pub fn sg_rules(&self, sg: SgId, side: SgSide) -> PacketSet {
        let Some(cells) = self.caches.security_groups.get(sg.index()) else {
            return PacketSet::empty();
        };
        let cell = match side {
            SgSide::Inbound => &cells.inbound,
            SgSide::Outbound => &cells.outbound,
        };
        cell.get_or_init(|| {
            let group = &self.model.security_groups[sg.index()];
            let rules = match side {
                SgSide::Inbound => &group.inbound,
                SgSide::Outbound => &group.outbound,
            };
            let parts: Vec<PacketSet> = rules
                .iter()
                .map(|r| {
                    let headers = match side {
                        SgSide::Outbound => between(&AddrRanges::all(), &self.addrs(&r.peers)),
                        SgSide::Inbound => {
                            between(&self.addrs_without_sg(&r.peers), &AddrRanges::all())
                        }
                    };
                    headers.intersect(&service_match(&r.services))
                })
                .collect();
            PacketSet::union_all(&parts)
        })
        .clone()
    }

    /// The inbound rules of a security group that name groups as sources:
    /// each admits its services from an interface in one of those groups.
    pub fn sg_sender_rules(&self, sg: SgId) -> &[SenderRule] {
        let Some(cells) = self.caches.security_groups.get(sg.index()) else {
            return &[];
        };
        cells.by_sender.get_or_init(|| {
            self.model.security_groups[sg.index()]
                .inbound
                .iter()
                .filter_map(|r| {
                    let groups: Vec<SgId> = r
                        .peers
                        .terms
                        .iter()
                        .filter_map(|t| match t.value {
                            AddrTerm::Sg(g) => Some(g),
                            _ => None,
                        })
                        .collect();
                    (!groups.is_empty()).then(|| SenderRule {
                        groups,
                        services: service_match(&r.services),
                    })
                })
                .collect()
        })
    }

    /// The headers each rule of a network ACL matches, in number order.
    pub fn acl_rule_sets(&self, acl: AclId, inbound: bool) -> &[PacketSet] {
        let Some(cells) = self.caches.acl_rules.get(acl.index()) else {
            return &[];
        };
        cells[usize::from(!inbound)].get_or_init(|| {
            let a = &self.model.acls[acl.index()];
            let rules = if inbound { &a.inbound } else { &a.outbound };
            rules
                .iter()
                .map(|r| {
                    let peer = self.addrs(&r.peer);
                    let headers = if inbound {
                        between(&peer, &AddrRanges::all())
                    } else {
                        between(&AddrRanges::all(), &peer)
                    };
                    headers.intersect(&service_match(&r.services))
                })
                .collect()
        })
    }

    /// [`Space::acl_rule_sets`] with sources and destinations swapped: the
    /// original packets whose reply, swapped back, each rule matches.
    pub fn acl_rule_sets_swapped(&self, acl: AclId, inbound: bool) -> &[PacketSet] {
        let Some(cells) = self.caches.acl_rules_swapped.get(acl.index()) else {
            return &[];
        };
        cells[usize::from(!inbound)].get_or_init(|| {
            self.acl_rule_sets(acl, inbound)
                .iter()
                .map(PacketSet::swap)
                .collect()
        })
    }

    /// The NLB's address as its targets see it: the model has none, so
    /// netproof takes the last usable address of the NLB's first subnet
    /// (docs/forwarding.md, "Oracle decisions").
    pub fn nlb_addr(&self, nlb: crate::model::NlbId) -> Option<IpAddr> {
        let n = self.model.nlbs.get(nlb.index())?;
        let sub = n.subnets.first()?;
        last_usable(self.model.subnet(sub.value).prefix.value)
    }

    pub fn iface(&self, site: SiteId, addr: IpAddr) -> Option<Iface> {
        self.ifaces.get(&(site, addr)).copied()
    }

    pub fn sg_members(&self, sg: SgId) -> AddrRanges {
        self.sg_members
            .get(sg.index())
            .cloned()
            .unwrap_or_else(AddrRanges::empty)
    }

    /// The addresses an expression names, leaving out `sg NAME` terms (a
    /// security group's members, as a source, are matched by interface).
    pub fn addrs_without_sg(&self, e: &AddrExpr) -> AddrRanges {
        AddrRanges::union_many(
            e.terms
                .iter()
                .filter(|t| !matches!(t.value, AddrTerm::Sg(_)))
                .map(|t| self.term(t.value, 0)),
        )
    }

    /// The addresses an expression names.
    pub fn addrs(&self, e: &AddrExpr) -> AddrRanges {
        AddrRanges::union_many(e.terms.iter().map(|t| self.term(t.value, 0)))
    }

    /// The addresses one term of an address expression stands for.
    pub fn addrs_of_term(&self, t: AddrTerm) -> AddrRanges {
        self.term(t, 0)
    }

    fn term(&self, t: AddrTerm, depth: usize) -> AddrRanges {
        match t {
            AddrTerm::Any => AddrRanges::all(),
            AddrTerm::Internet => self.internet.clone(),
            AddrTerm::Net(n) => AddrRanges::from_net(n),
            AddrTerm::Range(lo, hi) => {
                AddrRanges::from_range(lo, hi).unwrap_or_else(AddrRanges::empty)
            }
            AddrTerm::Sg(sg) => self.sg_members(sg),
            AddrTerm::Entity(e) => self.entity(e, depth),
        }
    }

    pub fn entity(&self, e: Entity, depth: usize) -> AddrRanges {
        let m = self.model;
        match e {
            Entity::Host(h) => AddrRanges::from_nets(m.host(h).addrs().map(|a| a.value.into())),
            Entity::Subnet(s) => AddrRanges::from_nets(m.subnet(s).prefixes().map(|p| p.value)),
            Entity::Endpoint(ep) => AddrRanges::from_addr(m.endpoints[ep.index()].addr.value),
            Entity::PublicIp(p) => AddrRanges::from_addr(m.public_ips[p.index()].addr.value),
            Entity::Site(s) => self.site_addrs(s),
            // Groups may include groups; a cycle adds nothing new, so a depth
            // bound is enough to stop it.
            Entity::Group(g) if depth < 32 => AddrRanges::union_many(
                m.groups[g.index()]
                    .members
                    .terms
                    .iter()
                    .map(|t| self.term(t.value, depth + 1)),
            ),
            _ => AddrRanges::empty(),
        }
    }

    /// The network a NAT rule's side stands for: its first item that has an
    /// address (a literal, a host, a public IP, a subnet, a group's first
    /// such member). Rules translate between these (docs/forwarding.md,
    /// "Oracle decisions": one to one between prefixes of equal length,
    /// otherwise to the address written).
    pub fn nat_net(&self, e: &AddrExpr) -> Option<IpNet> {
        e.terms.iter().find_map(|t| self.term_net(t.value, 0))
    }

    fn term_net(&self, t: AddrTerm, depth: usize) -> Option<IpNet> {
        let m = self.model;
        match t {
            AddrTerm::Net(n) => Some(n),
            AddrTerm::Range(lo, _) => Some(IpNet::from(lo)),
            AddrTerm::Entity(Entity::Host(h)) => Some(m.host(h).addr.value.into()),
            AddrTerm::Entity(Entity::PublicIp(p)) => {
                Some(m.public_ips[p.index()].addr.value.into())
            }
            AddrTerm::Entity(Entity::Endpoint(e)) => Some(m.endpoints[e.index()].addr.value.into()),
            AddrTerm::Entity(Entity::Subnet(s)) => Some(m.subnet(s).prefix.value),
            AddrTerm::Entity(Entity::Group(g)) if depth < 32 => m.groups[g.index()]
                .members
                .terms
                .iter()
                .find_map(|t| self.term_net(t.value, depth + 1)),
            _ => None,
        }
    }

    pub fn site_addrs(&self, s: SiteId) -> AddrRanges {
        let m = self.model;
        let site = m.site(s);
        if site.kind == SiteKind::Internet {
            return site.hosts.iter().fold(AddrRanges::empty(), |acc, &h| {
                acc.union(&AddrRanges::from_addr(m.host(h).addr.value))
            });
        }
        let nets = site.prefixes.iter().map(|p| p.value).chain(
            site.subnets
                .iter()
                .flat_map(|&sub| m.subnet(sub).prefixes().map(|p| p.value)),
        );
        AddrRanges::from_nets(nets)
    }

    /// The subnet of `site` containing `addr`, most specific first.
    pub fn subnet_of(&self, site: SiteId, addr: IpAddr) -> Option<SubnetId> {
        let m = self.model;
        m.site(site)
            .subnets
            .iter()
            .copied()
            .filter(|&s| m.subnet(s).contains(addr))
            .max_by_key(|&s| {
                m.subnet(s)
                    .prefix_of_family(addr)
                    .map_or(0, |p| p.value.prefix_len())
            })
    }
}

/// Every packet from `src` to `dst`, any protocol and ports.
pub fn between(src: &AddrRanges, dst: &AddrRanges) -> PacketSet {
    PacketSet::from_fields(src, dst, None, (0, u16::MAX), (0, u16::MAX))
}

/// The last address AWS lets an interface use in a subnet: the one before
/// the last, which AWS reserves.
pub fn last_usable(net: ipnet::IpNet) -> Option<IpAddr> {
    let addr = match net.broadcast() {
        IpAddr::V4(a) => IpAddr::V4(u32::from(a).checked_sub(1)?.into()),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).checked_sub(1)?.into()),
    };
    (net.contains(&addr) && addr != net.network()).then_some(addr)
}

/// The blocks the internet does not route, each with what it is: private
/// (RFC 1918), shared (RFC 6598) and unique local (RFC 4193) addresses,
/// loopback, link-local, multicast and reserved space (IANA's special-purpose
/// address registries, where none of these is "globally reachable").
const UNROUTED: [(&str, &str); 12] = [
    ("0.0.0.0/8", "reserved (\"this network\")"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared address space (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("224.0.0.0/3", "multicast or reserved"),
    ("::/127", "unspecified or loopback"),
    ("fc00::/7", "unique local (RFC 4193)"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
];

/// Every address the internet does not route ([`UNROUTED`]).
pub fn unrouted() -> AddrRanges {
    AddrRanges::from_nets(UNROUTED.iter().filter_map(|(n, _)| n.parse::<IpNet>().ok()))
}

/// What kind of address the internet does not route `a` is, or `None` for
/// an address it routes.
pub fn unrouted_kind(a: IpAddr) -> Option<&'static str> {
    UNROUTED
        .iter()
        .find(|(n, _)| n.parse::<IpNet>().is_ok_and(|n| n.contains(&a)))
        .map(|(_, kind)| *kind)
}
