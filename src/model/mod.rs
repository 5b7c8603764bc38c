//! The resolved network model.
//!
//! Lowering turns the syntax tree into flat arenas of typed elements that
//! refer to each other by index (`HostId`, `SubnetId`, ...). Every name is
//! resolved, every default the platforms apply is made explicit (the AWS
//! default security group and network ACL, the main route table and its
//! `local` routes, the SDDC's default SNAT, NSX `firewall-match internal`),
//! and every element keeps the span of the text it came from, so an analysis
//! can point a finding at the line that caused it.
//!
//! The model is plain data: `Send + Sync`, shared by reference across rayon
//! threads, never mutated after lowering.

mod lower;
mod nat_addr;
mod scope;
pub mod services;

pub use lower::{lower, lower_with_references, Lowered};

use crate::span::{Span, Spanned};
use crate::syntax::ast::{
    Acceptance, AclAction, Action, AwsService, ConnKind, DeclKind, Direction, ExpectKind,
    FirewallMatch, GatewayMode, NatKind, NlbScheme, PublicAddrKind, SiteKind, TargetType, VpnMode,
};
use ipnet::IpNet;
use std::net::IpAddr;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

ids! {
    SiteId; SubnetId; HostId; GroupId; PublicIpId; NatRuleId; FirewallId;
    SgId; AclId; RouteTableId; GatewayId; NlbId; EndpointServiceId;
    EndpointId; ConnectionId; ServiceId; PrefixListId;
}

/// Anything a name can resolve to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Site(SiteId),
    Subnet(SubnetId),
    Host(HostId),
    Group(GroupId),
    PublicIp(PublicIpId),
    NatRule(NatRuleId),
    Firewall(FirewallId),
    SecurityGroup(SgId),
    NetworkAcl(AclId),
    RouteTable(RouteTableId),
    Gateway(GatewayId),
    Nlb(NlbId),
    EndpointService(EndpointServiceId),
    Endpoint(EndpointId),
    Connection(ConnectionId),
    Service(ServiceId),
    PrefixList(PrefixListId),
}

#[derive(Debug, Default)]
pub struct Model {
    pub sites: Vec<Site>,
    pub subnets: Vec<Subnet>,
    pub hosts: Vec<Host>,
    pub groups: Vec<Group>,
    pub public_ips: Vec<PublicIp>,
    pub nat_rules: Vec<NatRule>,
    pub firewalls: Vec<Firewall>,
    pub security_groups: Vec<SecurityGroup>,
    pub acls: Vec<NetworkAcl>,
    pub route_tables: Vec<RouteTable>,
    pub gateways: Vec<Gateway>,
    pub nlbs: Vec<Nlb>,
    pub endpoint_services: Vec<EndpointService>,
    pub endpoints: Vec<Endpoint>,
    pub connections: Vec<Connection>,
    pub services: Vec<Service>,
    pub prefix_lists: Vec<PrefixList>,
    pub expectations: Vec<Expectation>,
}

/// `prefix-list NAME [service SERVICE] PREFIXES`: a managed prefix list. An
/// AWS-managed list (`service`) holds the prefixes the design states: the
/// model cannot know Amazon's current ranges (docs/language-notes.md).
#[derive(Clone, Debug)]
pub struct PrefixList {
    pub decl: Decl,
    pub service: Option<AwsService>,
    pub prefixes: Vec<Spanned<IpNet>>,
}

/// The name of an element and where it was declared. Implicit elements (the
/// default security group of a VPC that declares none, say) carry the span
/// of the statement that implies them and `implicit: true`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decl {
    pub name: String,
    pub name_span: Span,
    /// The whole declaring statement.
    pub span: Span,
    pub implicit: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultSnat {
    /// No `default-snat` statement: the SDDC has a default SNAT address whose
    /// value the design does not state.
    Implicit,
    Addr(IpAddr, Span),
    /// `default-snat off`.
    Off(Span),
}

#[derive(Clone, Debug)]
pub struct Site {
    pub decl: Decl,
    pub kind: SiteKind,
    pub header_span: Span,
    /// The prefixes written after the site's name.
    pub prefixes: Vec<Spanned<IpNet>>,
    pub subnets: Vec<SubnetId>,
    pub hosts: Vec<HostId>,
    /// `management PREFIX` (sddc).
    pub management: Vec<Spanned<IpNet>>,
    pub default_snat: DefaultSnat,
    pub connected_vpc: Option<ConnectedVpc>,
    /// `internet-egress snat ADDRESS` (onprem).
    pub internet_egress: Option<Spanned<IpAddr>>,
    /// The main route table (vpc); always present for a VPC.
    pub main_route_table: Option<RouteTableId>,
    /// The `default` security group (vpc); always present for a VPC.
    pub default_sg: Option<SgId>,
    /// The default network ACL (vpc); always present for a VPC.
    pub default_acl: Option<AclId>,
    pub firewalls: Vec<FirewallId>,
    pub nat_rules: Vec<NatRuleId>,
    pub gateways: Vec<GatewayId>,
    pub descriptions: Vec<Spanned<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectedVpc {
    pub vpc: SiteId,
    /// The subnet holding the SDDC's ENIs, when the design names it.
    pub subnet: Option<SubnetId>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubnetKind {
    /// A compute segment below an SDDC's compute gateway.
    NsxSegment,
    VpcSubnet,
    OnpremSegment,
    /// A virtual subnet of a Hyper-V network virtualization VM network.
    VnetSubnet,
}

#[derive(Clone, Debug)]
pub struct Subnet {
    pub decl: Decl,
    pub site: SiteId,
    pub kind: SubnetKind,
    pub prefix: Spanned<IpNet>,
    /// The prefix of the other family of a dual-stack VPC subnet.
    pub dual: Option<Spanned<IpNet>>,
    /// The route table the subnet uses; for a VPC subnet without one, the
    /// VPC's main table.
    pub route_table: Option<RouteTableId>,
    /// The network ACL; for a VPC subnet without one, the default ACL.
    pub acl: Option<AclId>,
    /// The L2VPN that extends this segment on-prem, if any.
    pub extended_by: Option<ConnectionId>,
    /// The availability zone (`az ZONE`), if the design states it.
    pub az: Option<Spanned<String>>,
}

impl Subnet {
    /// The subnet's prefixes: one, or one of each family.
    pub fn prefixes(&self) -> impl Iterator<Item = &Spanned<IpNet>> {
        std::iter::once(&self.prefix).chain(self.dual.as_ref())
    }

    /// Whether an address is in one of the subnet's prefixes.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.prefixes().any(|p| p.value.contains(&addr))
    }

    /// The subnet's prefix of the family of `addr`, if it has one.
    pub fn prefix_of_family(&self, addr: IpAddr) -> Option<&Spanned<IpNet>> {
        self.prefixes()
            .find(|p| p.value.addr().is_ipv4() == addr.is_ipv4())
    }
}

impl Host {
    /// The host's own addresses: one, or one of each family.
    pub fn addrs(&self) -> impl Iterator<Item = &Spanned<IpAddr>> {
        std::iter::once(&self.addr).chain(self.dual.as_ref())
    }

    /// Whether the host owns an address.
    pub fn owns(&self, addr: IpAddr) -> bool {
        self.addrs().any(|a| a.value == addr)
    }

    /// The host's address of the family of `addr`, if it has one.
    pub fn addr_of_family(&self, addr: IpAddr) -> Option<&Spanned<IpAddr>> {
        self.addrs().find(|a| a.value.is_ipv4() == addr.is_ipv4())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostKind {
    /// A VM on an SDDC segment or in a VM network.
    Vm,
    /// An EC2 instance.
    Instance,
    /// A host on an on-prem segment.
    OnpremHost,
    /// A named host on the internet.
    InternetHost,
    /// A management appliance of an SDDC (vCenter, ESXi, NSX Manager, HCX),
    /// in its management network, behind the management gateway.
    Appliance(crate::syntax::ast::ApplianceKind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostPublic {
    pub kind: PublicAddrKind,
    pub addr: IpAddr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Host {
    pub decl: Decl,
    pub site: SiteId,
    pub kind: HostKind,
    pub addr: Spanned<IpAddr>,
    /// The address of the other family of a dual-stack instance: the
    /// instance owns both, and is reached and sends by either.
    pub dual: Option<Spanned<IpAddr>>,
    pub subnet: Option<SubnetId>,
    /// Security groups of an instance; an instance declared without `sg` is
    /// in its VPC's default group.
    pub sgs: Vec<Spanned<SgId>>,
    pub public: Option<HostPublic>,
    pub source_dest_check: bool,
    /// The Hyper-V host running a VM-network VM.
    pub hyperv_host: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub decl: Decl,
    pub site: SiteId,
    pub members: AddrExpr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PublicIpKind {
    /// `public-ip` of an SDDC, requested from the AWS pool.
    Sddc,
    /// `elastic-ip` of a VPC.
    Elastic,
}

#[derive(Clone, Debug)]
pub struct PublicIp {
    pub decl: Decl,
    pub site: SiteId,
    pub kind: PublicIpKind,
    pub addr: Spanned<IpAddr>,
    /// The instance or NAT gateway an Elastic IP is associated with.
    pub target: Option<Spanned<Entity>>,
}

#[derive(Clone, Debug)]
pub struct NatRule {
    pub decl: Decl,
    pub site: SiteId,
    pub kind: NatKind,
    pub internal: AddrExpr,
    pub external: Option<AddrExpr>,
    pub services: Option<ServiceSet>,
    pub translated_port: Option<Spanned<u16>>,
    pub firewall_match: FirewallMatch,
    /// Where `firewall-match` was written; `None` when the default applies.
    pub firewall_match_span: Option<Span>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FirewallKind {
    /// The SDDC compute gateway firewall.
    Cgw,
    /// The SDDC management gateway firewall.
    Mgw,
    /// An on-prem edge firewall.
    Edge,
}

#[derive(Clone, Debug)]
pub struct Firewall {
    pub decl: Decl,
    pub site: SiteId,
    pub kind: FirewallKind,
    /// In evaluation order: first match wins, and an implicit final rule
    /// drops everything.
    pub rules: Vec<FirewallRule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Uplink {
    AllUplinks,
    Internet,
    Vpc,
    DirectConnect,
    Vpn,
    /// A named connection (a VPN, or an on-prem firewall's link).
    Connection(ConnectionId),
}

#[derive(Clone, Debug)]
pub struct FirewallRule {
    pub decl: Decl,
    pub action: Spanned<Action>,
    pub from: AddrExpr,
    pub to: AddrExpr,
    pub services: ServiceSet,
    /// `[AllUplinks]` when the rule has no `applied-to`.
    pub applied_to: Vec<Spanned<Uplink>>,
    pub log: bool,
}

#[derive(Clone, Debug)]
pub struct SecurityGroup {
    pub decl: Decl,
    pub site: SiteId,
    pub inbound: Vec<SgRule>,
    pub outbound: Vec<SgRule>,
}

#[derive(Clone, Debug)]
pub struct SgRule {
    pub services: ServiceSet,
    pub peers: AddrExpr,
    pub span: Span,
    /// True for rules the platform adds (default group, default outbound).
    pub implicit: bool,
}

#[derive(Clone, Debug)]
pub struct NetworkAcl {
    pub decl: Decl,
    pub site: SiteId,
    /// Sorted by rule number.
    pub inbound: Vec<AclRule>,
    /// Sorted by rule number.
    pub outbound: Vec<AclRule>,
}

#[derive(Clone, Debug)]
pub struct AclRule {
    pub number: u32,
    pub action: AclAction,
    pub services: ServiceSet,
    pub peer: AddrExpr,
    pub span: Span,
    pub implicit: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteTarget {
    /// The VPC's own prefixes.
    Local,
    /// The connected SDDC's ENIs.
    Sddc,
    /// Traffic is dropped (a route in the `blackhole` state).
    Blackhole,
    Gateway(GatewayId),
    /// A NAT instance.
    Host(HostId),
    Connection(ConnectionId),
    Endpoint(EndpointId),
    /// A transit gateway route to an attached site.
    Site(SiteId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteOrigin {
    /// Written in the design.
    Static,
    /// The implicit `local` route of every VPC route table.
    Local,
    /// Added to the connected VPC's main table for each SDDC segment.
    ConnectedSddc,
    /// One prefix of a prefix list the route names (`route LIST -> TARGET`,
    /// or a gateway endpoint's route): at equal prefix length a route to a
    /// CIDR block wins over it (docs/forwarding.md, "Prefix lists").
    PrefixList(PrefixListId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub prefix: IpNet,
    pub target: RouteTarget,
    pub origin: RouteOrigin,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct RouteTable {
    pub decl: Decl,
    pub site: SiteId,
    pub main: bool,
    pub routes: Vec<Route>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayKind {
    InternetGateway,
    /// An egress-only internet gateway: IPv6 only, untranslated, outbound
    /// flows and their replies only (docs/forwarding.md, "Egress-only
    /// internet gateway").
    EgressOnlyInternetGateway,
    NatGateway {
        subnet: Option<SubnetId>,
        /// The Elastic IP of a public NAT gateway; `None` for a private one.
        elastic_ip: Option<Spanned<IpAddr>>,
        /// The private address the design declares (`ip ADDRESS`).
        private_ip: Option<Spanned<IpAddr>>,
        /// The private address it has: the declared one, else the first
        /// free address of its subnet from network + 4 up (lowering assigns
        /// it, as AWS does, docs/forwarding.md "Oracle decisions"); `None`
        /// when its subnet is unknown or has no free address.
        addr: Option<IpAddr>,
    },
    /// A gateway VPC endpoint: AWS routes the service's prefix list to it
    /// in each associated route table, and it delivers to the service.
    Endpoint {
        /// The service's prefix list; `None` when the name did not resolve.
        list: Option<PrefixListId>,
        route_tables: Vec<Spanned<RouteTableId>>,
    },
    /// A Hyper-V network virtualization (NVGRE) gateway.
    Vnet {
        mode: GatewayMode,
        external_ip: Option<Spanned<IpAddr>>,
        subnet: Option<SubnetId>,
        hyperv_host: Option<Spanned<String>>,
    },
}

#[derive(Clone, Debug)]
pub struct Gateway {
    pub decl: Decl,
    pub site: SiteId,
    pub kind: GatewayKind,
}

#[derive(Clone, Debug)]
pub struct Nlb {
    pub decl: Decl,
    pub site: SiteId,
    pub scheme: NlbScheme,
    pub subnets: Vec<Spanned<SubnetId>>,
    pub listeners: Vec<Listener>,
}

#[derive(Clone, Debug)]
pub struct Listener {
    pub services: ServiceSet,
    pub targets: Vec<Spanned<HostId>>,
    pub target_type: TargetType,
    /// The port on the targets; `None` means the listener's own port.
    pub port: Option<u16>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct EndpointService {
    pub decl: Decl,
    pub site: SiteId,
    pub nlb: Option<NlbId>,
    pub acceptance: Acceptance,
    /// Where `acceptance` was written; `None` when AWS's default (required)
    /// applies.
    pub acceptance_span: Option<Span>,
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub decl: Decl,
    pub site: SiteId,
    pub service: Option<EndpointServiceId>,
    pub subnet: Option<SubnetId>,
    pub addr: Spanned<IpAddr>,
    /// The endpoint's security groups; the VPC's default group when the
    /// design names none.
    pub sgs: Vec<Spanned<SgId>>,
}

#[derive(Clone, Debug)]
pub struct Advertise {
    pub site: SiteId,
    pub prefixes: Vec<Spanned<IpNet>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Connection {
    pub decl: Decl,
    pub kind: ConnKind,
    /// The two sites joined (empty for a transit gateway).
    pub ends: Vec<Spanned<SiteId>>,
    pub vpn_mode: Option<VpnMode>,
    pub advertise: Vec<Advertise>,
    /// Policy-based VPN selectors.
    pub local: Option<AddrExpr>,
    pub remote: Option<AddrExpr>,
    /// Segments an L2VPN extends.
    pub extend: Vec<Spanned<SubnetId>>,
    /// Transit gateway attachments: sites or connections.
    pub attach: Vec<Spanned<Entity>>,
    /// Transit gateway routes: the static routes of all its route tables.
    pub routes: Vec<Route>,
    /// Transit gateway: the attachment subnets of the VPCs attached with
    /// `attach VPC in [SUBNET, ...]`. A VPC attached without `in` is taken
    /// to have an attachment subnet in every zone.
    pub attach_subnets: Vec<(SiteId, Vec<Spanned<SubnetId>>)>,
    /// Transit gateway: its route tables. Without `route-table` blocks,
    /// one implicit table (`name` is `None`) with which every attachment is
    /// associated and to which every attachment propagates, as AWS's
    /// default route table with default association and propagation.
    pub tables: Vec<TgwTable>,
    /// A VPN or Direct Connect that ends on a transit gateway (`vpn NAME
    /// ONPREM <-> TGW`): that gateway. `ends` then holds only the site end.
    pub tgw_end: Option<Spanned<ConnectionId>>,
    /// For a connection that ends on a transit gateway: the prefixes the
    /// `advertise TGW PREFIX, ...` lines name (a Direct Connect gateway's
    /// allowed prefixes; a static VPN's routes on the customer side).
    pub tgw_advertise: Vec<Spanned<IpNet>>,
}

/// A transit gateway route table.
#[derive(Clone, Debug)]
pub struct TgwTable {
    /// `None` for the implicit table of a gateway without `route-table`.
    pub name: Option<Spanned<String>>,
    pub span: Span,
    /// The attachments (sites, or connections that end on or are attached
    /// to the gateway) whose traffic this table routes.
    pub associate: Vec<Spanned<Entity>>,
    /// The attachments whose routes propagate into this table.
    pub propagate: Vec<Spanned<Entity>>,
    /// Static routes (and blackholes).
    pub routes: Vec<Route>,
}

impl Connection {
    /// The transit gateway table associated with attachment `a`, if any.
    pub fn table_of(&self, a: Entity) -> Option<&TgwTable> {
        self.tables
            .iter()
            .find(|t| t.associate.iter().any(|x| x.value == a))
    }

    /// The attachment subnets of attached VPC `vpc`, if the attachment
    /// names them.
    pub fn attachment_subnets(&self, vpc: SiteId) -> Option<&[Spanned<SubnetId>]> {
        self.attach_subnets
            .iter()
            .find(|(s, _)| *s == vpc)
            .map(|(_, subs)| subs.as_slice())
    }

    /// The sites a transit gateway attaches directly (not through a
    /// connection).
    pub fn attached_sites(&self) -> Vec<SiteId> {
        self.attach
            .iter()
            .filter_map(|a| match a.value {
                Entity::Site(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    /// The end that is not `site`: where a connection leads from it.
    pub fn other_end(&self, site: SiteId) -> Option<SiteId> {
        self.ends.iter().map(|e| e.value).find(|&e| e != site)
    }

    /// Where traffic a transit gateway sends over this connection arrives:
    /// the end that is not among the gateway's `attached` sites, else the
    /// last end.
    pub fn far_end(&self, attached: &[SiteId]) -> Option<SiteId> {
        self.ends
            .iter()
            .map(|e| e.value)
            .find(|s| !attached.contains(s))
            .or_else(|| self.ends.last().map(|e| e.value))
    }
}

#[derive(Clone, Debug)]
pub struct Service {
    pub decl: Decl,
    pub set: ServiceSet,
}

/// A protocol selector and a port (or ICMP type) range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceRange {
    /// `None` means every protocol (and then every port).
    pub proto: Option<u8>,
    pub lo: u16,
    pub hi: u16,
}

impl ServiceRange {
    pub const ANY: ServiceRange = ServiceRange {
        proto: None,
        lo: 0,
        hi: u16::MAX,
    };

    pub fn proto(proto: u8) -> ServiceRange {
        ServiceRange {
            proto: Some(proto),
            lo: 0,
            hi: u16::MAX,
        }
    }

    pub fn ports(proto: u8, lo: u16, hi: u16) -> ServiceRange {
        ServiceRange {
            proto: Some(proto),
            lo,
            hi,
        }
    }
}

/// A resolved service expression: the union of its ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSet {
    pub ranges: Vec<ServiceRange>,
    pub span: Span,
}

impl ServiceSet {
    pub fn any(span: Span) -> ServiceSet {
        ServiceSet {
            ranges: vec![ServiceRange::ANY],
            span,
        }
    }

    pub fn is_any(&self) -> bool {
        self.ranges.contains(&ServiceRange::ANY)
    }
}

/// One item of a resolved address expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddrTerm {
    Any,
    /// Every address that no declared site owns.
    Internet,
    Net(IpNet),
    Range(IpAddr, IpAddr),
    /// A host, subnet, group, site, public IP or endpoint, by reference so
    /// that a finding can name it.
    Entity(Entity),
    /// Members of a security group (security-group rules only).
    Sg(SgId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrExpr {
    pub terms: Vec<Spanned<AddrTerm>>,
    pub span: Span,
}

impl AddrExpr {
    pub fn single(term: AddrTerm, span: Span) -> AddrExpr {
        AddrExpr {
            terms: vec![Spanned::new(term, span)],
            span,
        }
    }

    pub fn is_any(&self) -> bool {
        self.terms.iter().any(|t| t.value == AddrTerm::Any)
    }
}

#[derive(Clone, Debug)]
pub struct Expectation {
    pub kind: ExpectKind,
    pub span: Span,
    pub src: AddrExpr,
    pub dst: Option<AddrExpr>,
    pub at: Option<AddrExpr>,
    pub services: ServiceSet,
    pub via: Option<Spanned<Entity>>,
}

/// Whether an address is an IPv6 global unicast address (2000::/3). An
/// instance's own such address is its public address: AWS assigns a VPC's
/// IPv6 CIDR from global space and an internet gateway passes IPv6 traffic
/// untranslated both ways (docs/forwarding.md, "IPv6 at the internet
/// gateway"); other IPv6 addresses (unique local, link-local) are not
/// reachable through it.
pub fn is_global_ipv6(addr: IpAddr) -> bool {
    matches!(addr, IpAddr::V6(a) if a.segments()[0] & 0xe000 == 0x2000)
}

/// The advice when an IPv6 source cannot leave by the internet gateway:
/// Elastic IPs and NAT gateways are IPv4 only, so they are never suggested.
pub const IPV6_SOURCE_HELP: &str = "an internet gateway passes the global IPv6 addresses \
     (2000::/3) of the VPC's instances untranslated; Elastic IPs and NAT gateways do not apply \
     to IPv6";

/// The advice when an IPv6 destination has no instance behind the gateway.
pub const IPV6_DEST_HELP: &str = "an internet gateway delivers IPv6 only to a global \
     address (2000::/3) of an instance of the VPC; Elastic IPs do not apply to IPv6";

/// The advice when the internet cannot reach an IPv6 address of a site:
/// NAT and Elastic IPs are IPv4's answers, never suggested for IPv6.
pub const IPV6_PRIVATE_HELP: &str = "the internet reaches an IPv6 host only at a global \
     address (2000::/3) of its own, through an internet gateway; reach this one over a private \
     connection, or give it a global IPv6 address";

/// The advice when IPv4 is routed to an egress-only internet gateway.
pub const EIGW_IPV4_HELP: &str = "an egress-only internet gateway carries IPv6 only: route \
     IPv4 to a NAT gateway (instances without a public address) or to an internet gateway \
     (instances with a public or Elastic IP)";

/// The advice when an IPv6 source cannot leave by an egress-only gateway.
pub const EIGW_SOURCE_HELP: &str = "an egress-only internet gateway passes the global IPv6 \
     addresses (2000::/3) of the VPC's instances untranslated; Elastic IPs and NAT gateways do \
     not apply to IPv6";

/// The advice when a reply leaves by an egress-only gateway that did not
/// see its request.
pub const EIGW_ASYMMETRIC_HELP: &str = "route the subnet's `::/0` to the internet gateway the \
     requests come in by, so that requests and replies take the same gateway";

/// The advice when the internet starts a flow to an instance behind an
/// egress-only gateway only.
pub const EIGW_INBOUND_HELP: &str = "to accept IPv6 connections from the internet, add an \
     `internet-gateway` and route the subnet's `::/0` to it (security groups and network ACLs \
     still apply); Elastic IPs do not apply to IPv6";

impl Model {
    /// The AWS service a gateway endpoint leads to, and its prefix list.
    pub fn gateway_endpoint(&self, g: GatewayId) -> Option<(AwsService, &PrefixList)> {
        match self.gateways.get(g.index())?.kind {
            GatewayKind::Endpoint { list: Some(l), .. } => {
                let list = self.prefix_lists.get(l.index())?;
                Some((list.service?, list))
            }
            _ => None,
        }
    }

    /// A NAT gateway's private address, to which it translates (both
    /// public and private ones); `None` for other gateways.
    pub fn nat_gateway_addr(&self, g: GatewayId) -> Option<IpAddr> {
        match self.gateways.get(g.index())?.kind {
            GatewayKind::NatGateway { addr, .. } => addr,
            _ => None,
        }
    }

    pub fn site(&self, id: SiteId) -> &Site {
        &self.sites[id.index()]
    }
    pub fn subnet(&self, id: SubnetId) -> &Subnet {
        &self.subnets[id.index()]
    }
    pub fn host(&self, id: HostId) -> &Host {
        &self.hosts[id.index()]
    }

    /// The declaration behind any entity, for messages and labels.
    pub fn decl(&self, e: Entity) -> &Decl {
        match e {
            Entity::Site(i) => &self.sites[i.index()].decl,
            Entity::Subnet(i) => &self.subnets[i.index()].decl,
            Entity::Host(i) => &self.hosts[i.index()].decl,
            Entity::Group(i) => &self.groups[i.index()].decl,
            Entity::PublicIp(i) => &self.public_ips[i.index()].decl,
            Entity::NatRule(i) => &self.nat_rules[i.index()].decl,
            Entity::Firewall(i) => &self.firewalls[i.index()].decl,
            Entity::SecurityGroup(i) => &self.security_groups[i.index()].decl,
            Entity::NetworkAcl(i) => &self.acls[i.index()].decl,
            Entity::RouteTable(i) => &self.route_tables[i.index()].decl,
            Entity::Gateway(i) => &self.gateways[i.index()].decl,
            Entity::Nlb(i) => &self.nlbs[i.index()].decl,
            Entity::EndpointService(i) => &self.endpoint_services[i.index()].decl,
            Entity::Endpoint(i) => &self.endpoints[i.index()].decl,
            Entity::Connection(i) => &self.connections[i.index()].decl,
            Entity::Service(i) => &self.services[i.index()].decl,
            Entity::PrefixList(i) => &self.prefix_lists[i.index()].decl,
        }
    }

    /// What kind of declaration an entity is, as the language names it.
    pub fn decl_kind(&self, e: Entity) -> DeclKind {
        match e {
            Entity::Site(i) => DeclKind::Site(self.sites[i.index()].kind),
            Entity::Subnet(i) => match self.subnets[i.index()].kind {
                SubnetKind::NsxSegment | SubnetKind::OnpremSegment => DeclKind::Segment,
                SubnetKind::VpcSubnet | SubnetKind::VnetSubnet => DeclKind::Subnet,
            },
            Entity::Host(i) => match self.hosts[i.index()].kind {
                HostKind::Vm => DeclKind::Vm,
                HostKind::Instance => DeclKind::Instance,
                HostKind::OnpremHost | HostKind::InternetHost => DeclKind::Host,
                HostKind::Appliance(_) => DeclKind::Appliance,
            },
            Entity::Group(_) => DeclKind::Group,
            Entity::PublicIp(i) => match self.public_ips[i.index()].kind {
                PublicIpKind::Sddc => DeclKind::PublicIp,
                PublicIpKind::Elastic => DeclKind::ElasticIp,
            },
            Entity::NatRule(_) => DeclKind::NatRule,
            Entity::Firewall(_) => DeclKind::Firewall,
            Entity::SecurityGroup(_) => DeclKind::SecurityGroup,
            Entity::NetworkAcl(_) => DeclKind::NetworkAcl,
            Entity::RouteTable(_) => DeclKind::RouteTable,
            Entity::Gateway(i) => match self.gateways[i.index()].kind {
                GatewayKind::InternetGateway => DeclKind::InternetGateway,
                GatewayKind::EgressOnlyInternetGateway => DeclKind::EgressOnlyInternetGateway,
                GatewayKind::NatGateway { .. } => DeclKind::NatGateway,
                GatewayKind::Vnet { .. } => DeclKind::VnetGateway,
                GatewayKind::Endpoint { .. } => DeclKind::GatewayEndpoint,
            },
            Entity::Nlb(_) => DeclKind::Nlb,
            Entity::EndpointService(_) => DeclKind::EndpointService,
            Entity::Endpoint(_) => DeclKind::Endpoint,
            Entity::Connection(i) => DeclKind::Connection(self.connections[i.index()].kind),
            Entity::Service(_) => DeclKind::Service,
            Entity::PrefixList(_) => DeclKind::PrefixList,
        }
    }

    /// The site an entity belongs to; `None` for top-level declarations.
    pub fn site_of(&self, e: Entity) -> Option<SiteId> {
        Some(match e {
            Entity::Site(i) => i,
            Entity::Subnet(i) => self.subnets[i.index()].site,
            Entity::Host(i) => self.hosts[i.index()].site,
            Entity::Group(i) => self.groups[i.index()].site,
            Entity::PublicIp(i) => self.public_ips[i.index()].site,
            Entity::NatRule(i) => self.nat_rules[i.index()].site,
            Entity::Firewall(i) => self.firewalls[i.index()].site,
            Entity::SecurityGroup(i) => self.security_groups[i.index()].site,
            Entity::NetworkAcl(i) => self.acls[i.index()].site,
            Entity::RouteTable(i) => self.route_tables[i.index()].site,
            Entity::Gateway(i) => self.gateways[i.index()].site,
            Entity::Nlb(i) => self.nlbs[i.index()].site,
            Entity::EndpointService(i) => self.endpoint_services[i.index()].site,
            Entity::Endpoint(i) => self.endpoints[i.index()].site,
            Entity::Connection(_) | Entity::Service(_) | Entity::PrefixList(_) => return None,
        })
    }

    /// A name that reads unambiguously in a message: `site.name` for
    /// elements of a site, the bare name for top-level ones.
    pub fn display_name(&self, e: Entity) -> String {
        let name = &self.decl(e).name;
        match (e, self.site_of(e)) {
            (Entity::Site(_), _) | (_, None) => name.clone(),
            (_, Some(site)) => format!("{}.{}", self.sites[site.index()].decl.name, name),
        }
    }
}

/// Direction names for messages.
pub fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}
