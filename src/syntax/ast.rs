//! The syntax tree of a `.np` file.
//!
//! Every node carries the byte span it was read from, so that any finding made
//! later, on the resolved model, can point back at the line that caused it.
//! The tree is *typed* (one struct per statement form) rather than a generic
//! node list: the statement shapes are fixed by the language, and typed nodes
//! let the parser give precise errors ("expected `in` after the address") and
//! let lowering be a plain match.
//!
//! Names are kept as written. Whether `webvpc.web-svc` is a qualified reference
//! or a name containing a dot is decided by resolution, which knows the sites.

use crate::span::{Span, Spanned};
use ipnet::IpNet;
use std::net::IpAddr;

/// A name as written: a declaration's name or a reference to one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub text: NameText,
    pub span: Span,
}

/// The text of a name. Names are short (`web01`, `r4127`, `nat0`) and a
/// large design has millions of them (every rule, route target and
/// `applied-to` entry), so up to 22 bytes are kept inline instead of in an
/// allocation of their own: that saves a heap block per name, which in a
/// million-line design is tens of megabytes and as many calls to `malloc`.
#[derive(Clone)]
pub struct NameText(NameRepr);

#[derive(Clone)]
enum NameRepr {
    Inline { len: u8, bytes: [u8; INLINE_NAME] },
    Heap(Box<str>),
}

const INLINE_NAME: usize = 22;

impl NameText {
    pub fn new(s: &str) -> NameText {
        let mut bytes = [0u8; INLINE_NAME];
        match bytes.get_mut(..s.len()) {
            Some(prefix) if s.len() <= INLINE_NAME => {
                prefix.copy_from_slice(s.as_bytes());
                NameText(NameRepr::Inline {
                    len: s.len() as u8,
                    bytes,
                })
            }
            _ => NameText(NameRepr::Heap(s.into())),
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // The bytes were copied from a `&str` whole, so they are UTF-8;
            // the check is cheap on 22 bytes and keeps this free of `unsafe`.
            NameRepr::Inline { len, bytes } => bytes
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or(""),
            NameRepr::Heap(s) => s,
        }
    }
}

impl std::ops::Deref for NameText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for NameText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for NameText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for NameText {
    fn from(s: &str) -> NameText {
        NameText::new(s)
    }
}

impl From<String> for NameText {
    fn from(s: String) -> NameText {
        NameText::new(&s)
    }
}

impl PartialEq for NameText {
    fn eq(&self, other: &NameText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for NameText {}

impl std::hash::Hash for NameText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for NameText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for NameText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for NameText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for NameText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for NameText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// A name costs no more than a `String` did.
const _: () = assert!(std::mem::size_of::<NameText>() == std::mem::size_of::<String>());

/// A whole file: its top-level items and, for the formatter and the language
/// server, the spans of every comment (comments are not part of the tree).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    pub items: Vec<Item>,
    pub comments: Vec<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Site(Site),
    Service(ServiceDecl),
    /// `prefix-list NAME [service s3|dynamodb] PREFIXES`
    PrefixList(PrefixListDecl),
    Connection(Connection),
    Expect(Expect),
    /// A top-level statement that had a syntax error after its name was read.
    Broken(Broken),
}

/// What a broken statement would have declared. The resolver still declares
/// the name, so a single typo does not cascade into "undefined" errors at
/// every use of the name.
#[derive(Clone, Debug, PartialEq)]
pub struct Broken {
    pub kind: DeclKind,
    pub name: Name,
    pub span: Span,
}

/// The kinds of things a statement can declare. Used for broken statements,
/// for the resolver's symbol table, and in "wrong kind" messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclKind {
    Site(SiteKind),
    Service,
    Connection(ConnKind),
    Segment,
    Subnet,
    Vm,
    Instance,
    Host,
    Appliance,
    Group,
    PublicIp,
    ElasticIp,
    NatRule,
    Firewall,
    FirewallRule,
    InternetGateway,
    EgressOnlyInternetGateway,
    RouteTable,
    NatGateway,
    SecurityGroup,
    NetworkAcl,
    Nlb,
    EndpointService,
    Endpoint,
    VnetGateway,
    PrefixList,
    GatewayEndpoint,
}

impl DeclKind {
    /// How the kind reads in a message: "a segment", "an instance".
    pub fn article_noun(self) -> &'static str {
        match self {
            DeclKind::Site(SiteKind::Sddc) => "an sddc",
            DeclKind::Site(SiteKind::Vpc) => "a vpc",
            DeclKind::Site(SiteKind::Onprem) => "an onprem site",
            DeclKind::Site(SiteKind::VmNetwork) => "a vmnetwork",
            DeclKind::Site(SiteKind::Internet) => "the internet",
            DeclKind::Service => "a service",
            DeclKind::Connection(ConnKind::Peering) => "a peering",
            DeclKind::Connection(ConnKind::TransitGateway) => "a transit gateway",
            DeclKind::Connection(ConnKind::DirectConnect) => "a direct-connect",
            DeclKind::Connection(ConnKind::Vpn) => "a vpn",
            DeclKind::Connection(ConnKind::L2vpn) => "an l2vpn",
            DeclKind::Segment => "a segment",
            DeclKind::Subnet => "a subnet",
            DeclKind::Vm => "a vm",
            DeclKind::Instance => "an instance",
            DeclKind::Host => "a host",
            DeclKind::Appliance => "an appliance",
            DeclKind::Group => "a group",
            DeclKind::PublicIp => "a public-ip",
            DeclKind::ElasticIp => "an elastic-ip",
            DeclKind::NatRule => "a nat rule",
            DeclKind::Firewall => "a firewall",
            DeclKind::FirewallRule => "a firewall rule",
            DeclKind::InternetGateway => "an internet-gateway",
            DeclKind::EgressOnlyInternetGateway => "an egress-only-internet-gateway",
            DeclKind::RouteTable => "a route-table",
            DeclKind::NatGateway => "a nat-gateway",
            DeclKind::SecurityGroup => "a security-group",
            DeclKind::NetworkAcl => "a network-acl",
            DeclKind::Nlb => "an nlb",
            DeclKind::EndpointService => "an endpoint-service",
            DeclKind::Endpoint => "an endpoint",
            DeclKind::VnetGateway => "a gateway",
            DeclKind::PrefixList => "a prefix-list",
            DeclKind::GatewayEndpoint => "a gateway-endpoint",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SiteKind {
    Sddc,
    Vpc,
    Onprem,
    VmNetwork,
    Internet,
}

impl SiteKind {
    pub fn keyword(self) -> &'static str {
        match self {
            SiteKind::Sddc => "sddc",
            SiteKind::Vpc => "vpc",
            SiteKind::Onprem => "onprem",
            SiteKind::VmNetwork => "vmnetwork",
            SiteKind::Internet => "internet",
        }
    }
}

/// `sddc NAME [PREFIX, ...] { ... }`, `vpc NAME PREFIX, ... { ... }`,
/// `onprem NAME PREFIX, ... { ... }`, `vmnetwork NAME { ... }`,
/// `internet { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub kind: SiteKind,
    /// `None` only for the `internet` block, which has no name.
    pub name: Option<Name>,
    pub prefixes: Vec<Spanned<IpNet>>,
    pub body: Vec<Stmt>,
    /// The header, from the keyword to just before `{`.
    pub header_span: Span,
    /// The whole statement including the block.
    pub span: Span,
}

/// A statement inside a site block.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `management PREFIX`
    Management(Spanned<IpNet>),
    /// `segment NAME PREFIX` (sddc, onprem).
    Segment(SegmentStmt),
    /// `subnet NAME PREFIX[, PREFIX] [route-table RT] [acl ACL]` (vpc,
    /// vmnetwork; two prefixes, one of each family, in a vpc only).
    Subnet(SubnetStmt),
    /// `vm`, `instance` and `host` statements.
    Host(HostStmt),
    /// `group NAME [MEMBER, ...]`
    Group(GroupStmt),
    /// `public-ip NAME ADDRESS` (sddc).
    PublicIp(PublicIpStmt),
    /// `elastic-ip NAME ADDRESS [-> TARGET]` (vpc).
    ElasticIp(ElasticIpStmt),
    /// `default-snat ADDRESS | off`
    DefaultSnat(DefaultSnatStmt),
    /// `nat dnat|snat|reflexive|no-snat ...`
    Nat(NatStmt),
    /// `connected-vpc VPC [subnet SUBNET]`
    ConnectedVpc(ConnectedVpcStmt),
    /// `firewall NAME { rule ... }`
    Firewall(FirewallStmt),
    /// `internet-gateway NAME`
    InternetGateway(Name, Span),
    /// `egress-only-internet-gateway NAME` (vpc): IPv6 out, replies in.
    EgressOnlyInternetGateway(Name, Span),
    /// `route-table NAME [main] { route PREFIX -> TARGET ... }`
    RouteTable(RouteTableStmt),
    /// `nat-gateway NAME in SUBNET elastic-ip ADDRESS | private [ip ADDRESS]`
    NatGateway(NatGatewayStmt),
    /// `security-group NAME { inbound ... outbound ... }`, where either
    /// direction may be `none`.
    SecurityGroup(SecurityGroupStmt),
    /// `network-acl NAME { inbound N allow ... }`
    NetworkAcl(NetworkAclStmt),
    /// `nlb NAME internal|internet-facing in [SUBNET, ...] { listener ... }`
    Nlb(NlbStmt),
    /// `endpoint-service NAME nlb NLB [acceptance required|auto]`
    EndpointService(EndpointServiceStmt),
    /// `endpoint NAME service SVC in SUBNET ip ADDRESS [sg [SG, ...]]`
    Endpoint(EndpointStmt),
    /// `gateway NAME mode forwarding|s2s|nat [external-ip A] [in SUBNET] [host H]`
    VnetGateway(VnetGatewayStmt),
    /// `gateway-endpoint NAME PREFIX-LIST route-tables [RT, ...]` (vpc).
    GatewayEndpoint(GatewayEndpointStmt),
    /// `internet-egress snat ADDRESS` (onprem).
    InternetEgress(Spanned<IpAddr>, Span),
    /// `description "..."`: free text documenting the enclosing block.
    Description(Spanned<String>, Span),
    Broken(Broken),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SegmentStmt {
    pub name: Name,
    pub prefix: Spanned<IpNet>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubnetStmt {
    pub name: Name,
    pub prefix: Spanned<IpNet>,
    /// The prefix of the other address family of a dual-stack VPC subnet
    /// (`subnet NAME 10.0.1.0/24, 2600:1f18:1:100::/64`).
    pub dual: Option<Spanned<IpNet>>,
    pub route_table: Option<Name>,
    pub acl: Option<Name>,
    /// `az ZONE` (VPC subnets): the availability zone.
    pub az: Option<Name>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostKeyword {
    /// `vm` in an sddc or vmnetwork.
    Vm,
    /// `instance` in a vpc.
    Instance,
    /// `host` in an onprem site or the internet block.
    Host,
    /// `appliance KIND` in an sddc: a management appliance, in the
    /// management network rather than on a segment.
    Appliance(ApplianceKind),
}

/// The kinds of SDDC management appliance, each one of VMware Cloud on
/// AWS's system-defined management groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApplianceKind {
    Vcenter,
    Esxi,
    NsxManager,
    Hcx,
}

impl ApplianceKind {
    pub const ALL: [ApplianceKind; 4] = [
        ApplianceKind::Vcenter,
        ApplianceKind::Esxi,
        ApplianceKind::NsxManager,
        ApplianceKind::Hcx,
    ];

    /// The word that names the kind in `appliance KIND NAME ADDRESS`.
    pub fn keyword(self) -> &'static str {
        match self {
            ApplianceKind::Vcenter => "vcenter",
            ApplianceKind::Esxi => "esxi",
            ApplianceKind::NsxManager => "nsx-manager",
            ApplianceKind::Hcx => "hcx",
        }
    }

    /// The name of VMware Cloud on AWS's system-defined group of the kind.
    pub fn group_name(self) -> &'static str {
        match self {
            ApplianceKind::Vcenter => "vCenter",
            ApplianceKind::Esxi => "ESXi",
            ApplianceKind::NsxManager => "NSX Manager",
            ApplianceKind::Hcx => "HCX",
        }
    }

    pub fn from_keyword(word: &str) -> Option<ApplianceKind> {
        ApplianceKind::ALL.into_iter().find(|k| k.keyword() == word)
    }
}

/// `vm NAME ADDRESS in SEGMENT [host HYPERV-HOST]`,
/// `instance NAME ADDRESS[, ADDRESS] in SUBNET [sg [SG, ...]] [public-ip A | elastic-ip A] [source-dest-check off]`,
/// `host NAME ADDRESS [in SEGMENT]`,
/// `appliance KIND NAME ADDRESS` (sddc).
#[derive(Clone, Debug, PartialEq)]
pub struct HostStmt {
    pub keyword: HostKeyword,
    pub name: Name,
    pub addr: Spanned<IpAddr>,
    /// The address of the other family of a dual-stack instance
    /// (`instance NAME 10.0.1.10, 2600:1f18:1:100::10 in SUBNET`).
    pub dual: Option<Spanned<IpAddr>>,
    /// `in SUBNET`; absent for internet hosts.
    pub subnet: Option<Name>,
    /// `sg [A, B]` or `sg A`; `None` when the clause is absent.
    pub sgs: Option<Vec<Name>>,
    pub public: Option<PublicAddrClause>,
    /// The span of `source-dest-check off` when present.
    pub source_dest_check_off: Option<Span>,
    /// `host NAME`: the Hyper-V host running a vmnetwork VM (not a reference).
    pub hyperv_host: Option<Name>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PublicAddrKind {
    /// `public-ip A`: an auto-assigned public IPv4 address.
    Public,
    /// `elastic-ip A`: an Elastic IP associated with the instance.
    Elastic,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PublicAddrClause {
    pub kind: PublicAddrKind,
    pub addr: Spanned<IpAddr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupStmt {
    pub name: Name,
    pub members: AddrExpr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PublicIpStmt {
    pub name: Name,
    pub addr: Spanned<IpAddr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ElasticIpStmt {
    pub name: Name,
    pub addr: Spanned<IpAddr>,
    pub target: Option<Name>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DefaultSnatValue {
    Addr(Spanned<IpAddr>),
    Off(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct DefaultSnatStmt {
    pub value: DefaultSnatValue,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NatKind {
    Dnat,
    Snat,
    Reflexive,
    NoSnat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FirewallMatch {
    Internal,
    External,
    Bypass,
}

/// `nat dnat NAME EXTERNAL -> INTERNAL [service SVC [-> PORT]] [firewall-match M]`
/// `nat snat NAME INTERNAL -> EXTERNAL [firewall-match M]`
/// `nat reflexive NAME INTERNAL <-> EXTERNAL`
/// `nat no-snat NAME INTERNAL`
///
/// `internal` and `external` are stored by meaning, not by position: for DNAT
/// the external side is written first.
#[derive(Clone, Debug, PartialEq)]
pub struct NatStmt {
    pub kind: Spanned<NatKind>,
    pub name: Name,
    pub internal: AddrExpr,
    /// Absent only for `no-snat`.
    pub external: Option<AddrExpr>,
    pub service: Option<ServiceExpr>,
    /// `service SVC -> PORT`: the port the internal side listens on.
    pub translated_port: Option<Spanned<u16>>,
    pub firewall_match: Option<Spanned<FirewallMatch>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConnectedVpcStmt {
    pub vpc: Name,
    pub subnet: Option<Name>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FirewallStmt {
    pub name: Name,
    pub rules: Vec<RuleItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleItem {
    Rule(RuleStmt),
    Broken(Broken),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Drop,
    Reject,
}

/// `rule NAME allow|drop|reject from ADDRS to ADDRS [service SVCS]
/// [applied-to UPLINKS] [log] [description "..."]`
#[derive(Clone, Debug, PartialEq)]
pub struct RuleStmt {
    pub name: Name,
    pub action: Spanned<Action>,
    pub from: AddrExpr,
    pub to: AddrExpr,
    pub service: Option<ServiceExpr>,
    /// Uplink keywords (`internet`, `vpc`, `direct-connect`, `vpn`,
    /// `all-uplinks`) or connection names, interpreted by lowering.
    pub applied_to: Option<Vec<Name>>,
    pub log: Option<Span>,
    pub description: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RouteTableStmt {
    pub name: Name,
    pub main: Option<Span>,
    pub routes: Vec<RouteItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RouteItem {
    Route(RouteStmt),
    /// `route PREFIX-LIST -> TARGET`: one route per prefix of the list.
    List(RouteListStmt),
    /// A route line with a syntax error; it declares nothing.
    Broken(Span),
}

/// `route PREFIX -> TARGET`; `local`, `sddc` and `blackhole` targets are
/// contextual keywords, interpreted by lowering.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteStmt {
    pub prefix: Spanned<IpNet>,
    pub target: Name,
    pub span: Span,
}

/// `route PREFIX-LIST -> TARGET` in a VPC route table.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteListStmt {
    pub list: Name,
    pub target: Name,
    pub span: Span,
}

/// The AWS services whose gateway endpoints the language models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AwsService {
    S3,
    Dynamodb,
}

impl AwsService {
    pub fn keyword(self) -> &'static str {
        match self {
            AwsService::S3 => "s3",
            AwsService::Dynamodb => "dynamodb",
        }
    }

    /// How a message names the service: "Amazon S3".
    pub fn title(self) -> &'static str {
        match self {
            AwsService::S3 => "Amazon S3",
            AwsService::Dynamodb => "Amazon DynamoDB",
        }
    }
}

/// `prefix-list NAME [service s3|dynamodb] PREFIXES` at top level: a
/// customer-managed list, or (with `service`) the AWS-managed list of a
/// service, whose prefixes the design must state.
#[derive(Clone, Debug, PartialEq)]
pub struct PrefixListDecl {
    pub name: Name,
    pub service: Option<Spanned<AwsService>>,
    pub prefixes: Vec<Spanned<IpNet>>,
    pub span: Span,
}

/// `gateway-endpoint NAME PREFIX-LIST route-tables [RT, ...]` in a vpc.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewayEndpointStmt {
    pub name: Name,
    pub list: Name,
    pub route_tables: Vec<Name>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NatGatewayKind {
    Public(Spanned<IpAddr>),
    Private(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct NatGatewayStmt {
    pub name: Name,
    pub subnet: Name,
    pub kind: NatGatewayKind,
    /// `ip ADDRESS`: the NAT gateway's private address in its subnet.
    pub addr: Option<Spanned<IpAddr>>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SecurityGroupStmt {
    pub name: Name,
    pub rules: Vec<SgRuleItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SgRuleItem {
    Rule(SgRule),
    /// `inbound none` / `outbound none`: the group has no rules in that
    /// direction (for `outbound`, not even AWS's creation default).
    None(SgNone),
    Broken(Span),
}

/// `inbound none` / `outbound none`
#[derive(Clone, Debug, PartialEq)]
pub struct SgNone {
    pub direction: Spanned<Direction>,
    pub span: Span,
}

/// `inbound SVCS from SOURCES` / `outbound SVCS to DESTS`
#[derive(Clone, Debug, PartialEq)]
pub struct SgRule {
    pub direction: Spanned<Direction>,
    pub services: ServiceExpr,
    pub peers: AddrExpr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkAclStmt {
    pub name: Name,
    pub rules: Vec<AclRuleItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AclRuleItem {
    Rule(AclRule),
    Broken(Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AclAction {
    Allow,
    Deny,
}

/// `inbound NUMBER allow|deny SVCS from PREFIX` /
/// `outbound NUMBER allow|deny SVCS to PREFIX`
#[derive(Clone, Debug, PartialEq)]
pub struct AclRule {
    pub direction: Spanned<Direction>,
    pub number: Spanned<u32>,
    pub action: Spanned<AclAction>,
    pub services: ServiceExpr,
    pub peer: AddrExpr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NlbScheme {
    Internal,
    InternetFacing,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NlbStmt {
    pub name: Name,
    pub scheme: Spanned<NlbScheme>,
    pub subnets: Vec<Name>,
    pub listeners: Vec<ListenerItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ListenerItem {
    Listener(ListenerStmt),
    Broken(Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetType {
    Instance,
    Ip,
}

/// `listener SVC -> [TARGET, ...] [target-type instance|ip] [port N]`
#[derive(Clone, Debug, PartialEq)]
pub struct ListenerStmt {
    pub service: ServiceExpr,
    pub targets: Vec<Name>,
    pub target_type: Option<Spanned<TargetType>>,
    pub port: Option<Spanned<u16>>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Acceptance {
    Required,
    Auto,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EndpointServiceStmt {
    pub name: Name,
    pub nlb: Name,
    pub acceptance: Option<Spanned<Acceptance>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EndpointStmt {
    pub name: Name,
    pub service: Name,
    pub subnet: Name,
    pub addr: Spanned<IpAddr>,
    pub sgs: Option<Vec<Name>>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GatewayMode {
    Forwarding,
    S2s,
    Nat,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VnetGatewayStmt {
    pub name: Name,
    pub mode: Spanned<GatewayMode>,
    pub external_ip: Option<Spanned<IpAddr>>,
    pub subnet: Option<Name>,
    pub hyperv_host: Option<Name>,
    pub span: Span,
}

/// `service NAME SVCS` at top level.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceDecl {
    pub name: Name,
    pub services: ServiceExpr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnKind {
    Peering,
    TransitGateway,
    DirectConnect,
    Vpn,
    L2vpn,
}

impl ConnKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ConnKind::Peering => "peering",
            ConnKind::TransitGateway => "transit-gateway",
            ConnKind::DirectConnect => "direct-connect",
            ConnKind::Vpn => "vpn",
            ConnKind::L2vpn => "l2vpn",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VpnMode {
    RouteBased,
    PolicyBased,
}

/// `peering NAME A <-> B`, `transit-gateway NAME { ... }`,
/// `direct-connect NAME A <-> B { ... }`, `vpn NAME A <-> B MODE { ... }`,
/// `l2vpn NAME SDDC <-> ONPREM { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    pub kind: ConnKind,
    pub name: Name,
    /// The two sites joined; empty for a transit gateway (it uses `attach`).
    pub ends: Vec<Name>,
    /// Only for `vpn`; `None` means the default, route-based.
    pub vpn_mode: Option<Spanned<VpnMode>>,
    pub body: Vec<ConnStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConnStmt {
    /// `advertise SITE PREFIX, ...`
    Advertise {
        site: Name,
        prefixes: Vec<Spanned<IpNet>>,
        span: Span,
    },
    /// `local [ADDRS]` (policy-based VPN): the first end's traffic selector.
    Local(AddrExpr, Span),
    /// `remote [ADDRS]` (policy-based VPN): the second end's traffic selector.
    Remote(AddrExpr, Span),
    /// `extend SEGMENT, ...` (l2vpn).
    Extend(Vec<Name>, Span),
    /// `attach SITE, ...` (transit gateway).
    Attach(Vec<Name>, Span),
    /// `attach VPC in [SUBNET, ...]` (transit gateway): a VPC attachment
    /// and its attachment subnets, one per availability zone.
    AttachIn {
        site: Name,
        subnets: Vec<Name>,
        span: Span,
    },
    /// `route-table NAME { ... }` (transit gateway): a route table with its
    /// associations, propagations and static routes.
    RouteTable {
        name: Name,
        body: Vec<ConnStmt>,
        span: Span,
    },
    /// `associate ATTACHMENT, ...` (transit gateway route table).
    Associate(Vec<Name>, Span),
    /// `propagate ATTACHMENT, ...` (transit gateway route table).
    Propagate(Vec<Name>, Span),
    /// `route PREFIX -> SITE | blackhole` (transit gateway).
    Route(RouteStmt),
    Broken(Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpectKind {
    Reach,
    NoReach,
    Egress,
}

impl ExpectKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ExpectKind::Reach => "reach",
            ExpectKind::NoReach => "no-reach",
            ExpectKind::Egress => "egress",
        }
    }
}

/// `expect reach SRC -> DST [at ADDRESS] SVCS`,
/// `expect no-reach SRC -> DST SVCS`, `expect egress SRC via NAME`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    pub kind: Spanned<ExpectKind>,
    pub src: AddrExpr,
    /// Absent for `egress`.
    pub dst: Option<AddrExpr>,
    pub at: Option<AddrExpr>,
    /// Absent for `egress`; for `reach`/`no-reach` a missing list means `any`.
    pub services: Option<ServiceExpr>,
    /// Only for `egress`.
    pub via: Option<Name>,
    pub span: Span,
}

/// An address expression: one item, or a `[...]` list of items.
#[derive(Clone, Debug, PartialEq)]
pub struct AddrExpr {
    pub items: Vec<AddrItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AddrItem {
    /// `any`: every address, IPv4 and IPv6.
    Any(Span),
    /// `internet`: every address that no declared site owns.
    Internet(Span),
    Addr(Spanned<IpAddr>),
    Prefix(Spanned<IpNet>),
    /// `A-B`, inclusive; both ends in one address family, `A <= B`.
    Range {
        lo: IpAddr,
        hi: IpAddr,
        span: Span,
    },
    /// A host, segment, subnet, group, site, public IP or endpoint.
    Name(Name),
    /// `sg NAME`: members of a security group (security-group rules only).
    Sg(Name, Span),
}

impl AddrItem {
    pub fn span(&self) -> Span {
        match self {
            AddrItem::Any(s) | AddrItem::Internet(s) => *s,
            AddrItem::Addr(a) => a.span,
            AddrItem::Prefix(p) => p.span,
            AddrItem::Range { span, .. } => *span,
            AddrItem::Name(n) => n.span,
            AddrItem::Sg(_, s) => *s,
        }
    }
}

/// A service expression: one item, or a `[...]` list of items.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceExpr {
    pub items: Vec<ServiceItem>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    /// A protocol given by its IANA number (`47` for GRE).
    Number(u8),
}

impl Proto {
    /// The IANA protocol number.
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
            Proto::Icmpv6 => 58,
            Proto::Number(n) => n,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ServiceItem {
    /// `any`: every protocol and port.
    Any(Span),
    /// `tcp`, `udp`, `icmp`, `icmpv6` or a protocol number: all its ports.
    Proto(Spanned<Proto>),
    /// `tcp/443`, `udp/1024-65535`; for `icmp/8` the "port" is the ICMP type.
    Ports {
        proto: Proto,
        lo: u16,
        hi: u16,
        span: Span,
    },
    /// A built-in (`HTTPS`, `ICMP`, ...) or user-defined service name.
    Named(Name),
}

impl ServiceItem {
    pub fn span(&self) -> Span {
        match self {
            ServiceItem::Any(s) => *s,
            ServiceItem::Proto(p) => p.span,
            ServiceItem::Ports { span, .. } => *span,
            ServiceItem::Named(n) => n.span,
        }
    }
}
