//! Syntax tree -> model.
//!
//! Lowering runs in three steps, because references may point forward (a
//! route to a NAT instance declared further down, a `connected-vpc` naming a
//! VPC declared after the SDDC):
//! 1. *declare*: walk the tree once, allocate every element with the data
//!    that needs no resolution, and enter every name into its scope (NP003
//!    for duplicates); remember each statement that holds references;
//! 2. *defaults*: add what the platforms add without being told (the AWS
//!    default security group and network ACL, the main route table);
//! 3. *resolve*: resolve the remembered references (NP002, NP006), then add
//!    the implicit routes (`local`, the connected SDDC's segments).

use super::scope::{Resolved, ScopeId, Scopes, Symbol, Want};
use super::services;
use super::*;
use crate::diagnostic::Diagnostic;
use crate::registry::Code;
use crate::rules::{np003_duplicate_definition as np003, np006_wrong_kind_reference as np006};
use crate::syntax::ast::{self, DeclKind, Item, Stmt};
use std::collections::HashMap;

mod tgw;

/// The model and the findings lowering made on the way (NP002, NP003, NP006).
#[derive(Debug)]
pub struct Lowered {
    pub model: Model,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn lower(tree: &ast::Tree) -> Lowered {
    lower_with(tree, Some(PARALLEL_MIN_ENTRIES), false).0
}

/// `lower`, and every name reference that resolved, with the element it
/// resolved to, for tools that answer "what is this name?" (the language
/// server). Lowering is sequential here: the parallel part's read-only view
/// would have to record references of its own and hand them over, which is
/// not worth it for files an editor has open.
pub fn lower_with_references(tree: &ast::Tree) -> (Lowered, Vec<Spanned<Entity>>) {
    let (lowered, references) = lower_with(tree, None, true);
    (lowered, references.unwrap_or_default())
}

/// `lower`, with the parallel part used from `parallel_min` firewall rules
/// and routes (and two threads), always (`Some(0)`, for tests: even on one
/// thread), or never (`None`); references are recorded only when asked,
/// so that checking pays nothing for them.
fn lower_with(
    tree: &ast::Tree,
    parallel_min: Option<usize>,
    record_references: bool,
) -> (Lowered, Option<Vec<Spanned<Entity>>>) {
    let mut cx = Lowerer {
        model: Model::default(),
        scopes: Scopes::new(),
        diags: Vec::new(),
        pending: Vec::new(),
        internet: None,
        service_state: Vec::new(),
        references: record_references.then(Vec::new),
    };
    cx.declare_items(&tree.items);
    cx.apply_defaults();
    cx.resolve_pending(parallel_min);
    cx.link_transit_gateways();
    cx.add_implicit_routes();
    super::nat_addr::assign(&mut cx.model);
    let lowered = Lowered {
        model: cx.model,
        diagnostics: cx.diags,
    };
    (lowered, cx.references)
}

/// A statement whose references are resolved in step 3.
enum Pending<'a> {
    Subnet(SubnetId, &'a ast::SubnetStmt),
    Host(HostId, &'a ast::HostStmt),
    Group(GroupId, &'a ast::GroupStmt),
    ElasticIp(PublicIpId, &'a ast::ElasticIpStmt),
    Nat(NatRuleId, &'a ast::NatStmt),
    ConnectedVpc(SiteId, &'a ast::ConnectedVpcStmt),
    Firewall(FirewallId, &'a ast::FirewallStmt),
    RouteTable(RouteTableId, &'a ast::RouteTableStmt),
    NatGateway(GatewayId, &'a ast::NatGatewayStmt),
    SecurityGroup(SgId, &'a ast::SecurityGroupStmt),
    Acl(AclId, &'a ast::NetworkAclStmt),
    Nlb(NlbId, &'a ast::NlbStmt),
    EndpointService(EndpointServiceId, &'a ast::EndpointServiceStmt),
    Endpoint(EndpointId, &'a ast::EndpointStmt),
    VnetGateway(GatewayId, &'a ast::VnetGatewayStmt),
    GatewayEndpoint(GatewayId, &'a ast::GatewayEndpointStmt),
    Connection(ConnectionId, &'a ast::Connection),
    Expect(&'a ast::Expect),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ServiceState {
    Unresolved,
    InProgress,
    Done,
}

struct Lowerer<'a> {
    model: Model,
    scopes: Scopes,
    diags: Vec<Diagnostic>,
    pending: Vec<Pending<'a>>,
    /// The one site all `internet { ... }` blocks contribute to.
    internet: Option<SiteId>,
    /// Services are resolved on first use, so a service may use another
    /// declared further down; the state catches cycles.
    service_state: Vec<(ServiceState, Option<&'a ast::ServiceDecl>)>,
    /// Every reference that resolved, when the caller asked for them
    /// (`lower_with_references`); `None` otherwise.
    references: Option<Vec<Spanned<Entity>>>,
}

// What each reference position accepts.
const SEGMENT: Want = Want::new("segment", |k| k == DeclKind::Segment);
const SUBNET: Want = Want::new("subnet", |k| k == DeclKind::Subnet);
const SECURITY_GROUP: Want = Want::new("security group", |k| k == DeclKind::SecurityGroup);
const ROUTE_TABLE: Want = Want::new("route table", |k| k == DeclKind::RouteTable);
const NETWORK_ACL: Want = Want::new("network ACL", |k| k == DeclKind::NetworkAcl);
const VPC: Want = Want::new("vpc", |k| k == DeclKind::Site(SiteKind::Vpc));
const SDDC: Want = Want::new("sddc", |k| k == DeclKind::Site(SiteKind::Sddc));
const ONPREM: Want = Want::new("onprem site", |k| k == DeclKind::Site(SiteKind::Onprem));
const LINK_END_OR_TGW: Want = Want::new("site or transit gateway", |k| {
    matches!(k, DeclKind::Site(s) if s != SiteKind::Internet)
        || k == DeclKind::Connection(ConnKind::TransitGateway)
});
const ADDRESS: Want = Want::new("host, subnet, group, site, public IP or endpoint", |k| {
    matches!(
        k,
        DeclKind::Site(_)
            | DeclKind::Segment
            | DeclKind::Subnet
            | DeclKind::Vm
            | DeclKind::Instance
            | DeclKind::Host
            | DeclKind::Appliance
            | DeclKind::Group
            | DeclKind::PublicIp
            | DeclKind::ElasticIp
            | DeclKind::Endpoint
            | DeclKind::PrefixList
    )
})
.detailed("something with an address (a host, vm, instance, segment, subnet, group, site, public IP, endpoint or prefix list)");
const PREFIX_LIST: Want = Want::new("prefix list", |k| k == DeclKind::PrefixList);
const ROUTE_TARGET: Want = Want::new("route target", |k| {
    matches!(
        k,
        DeclKind::InternetGateway
            | DeclKind::EgressOnlyInternetGateway
            | DeclKind::NatGateway
            | DeclKind::Instance
            | DeclKind::Connection(_)
            | DeclKind::Endpoint
    )
})
.detailed(
    "a route target (an internet gateway, egress-only internet gateway, NAT gateway, NAT \
     instance, connection or endpoint)",
);
const TGW_TARGET: Want = Want::new("attached site or connection", |k| {
    matches!(k, DeclKind::Site(_) | DeclKind::Connection(_))
});
const EIP_TARGET: Want = Want::new("instance or NAT gateway", |k| {
    matches!(k, DeclKind::Instance | DeclKind::NatGateway)
});
const INSTANCE: Want = Want::new("instance", |k| k == DeclKind::Instance);
const NLB: Want = Want::new("nlb", |k| k == DeclKind::Nlb);
const ENDPOINT_SERVICE: Want = Want::new("endpoint service", |k| k == DeclKind::EndpointService);
const SERVICE: Want = Want::new("service", |k| k == DeclKind::Service);
const VPN: Want = Want::new("vpn", |k| k == DeclKind::Connection(ConnKind::Vpn));
const CONNECTION: Want = Want::new("connection", |k| matches!(k, DeclKind::Connection(_)));
const EGRESS_VIA: Want = Want::new("connection, gateway, NAT instance or site", |k| {
    matches!(
        k,
        DeclKind::Connection(_)
            | DeclKind::InternetGateway
            | DeclKind::EgressOnlyInternetGateway
            | DeclKind::NatGateway
            | DeclKind::VnetGateway
            | DeclKind::Instance
            | DeclKind::Site(_)
    )
});

fn decl(name: &ast::Name, span: Span) -> Decl {
    Decl {
        name: name.text.to_string(),
        name_span: name.span,
        span,
        implicit: false,
    }
}

fn next_id<T>(v: &[T]) -> u32 {
    v.len() as u32
}

impl<'a> Lowerer<'a> {
    // ---------------------------------------------------------------- declare

    fn declare(
        &mut self,
        scope: ScopeId,
        name: &ast::Name,
        kind: DeclKind,
        entity: Option<Entity>,
    ) {
        let site = match scope {
            ScopeId::Site(s) => Some(s),
            ScopeId::Top => None,
        };
        let sym = Symbol {
            kind,
            entity,
            name_span: name.span,
            site,
        };
        if let Err((first, first_kind)) = self.scopes.declare(scope, &name.text, sym) {
            let where_ = match site {
                Some(s) => format!("in `{}`", self.model.sites[s.index()].decl.name),
                None => "at top level".to_string(),
            };
            self.diags.push(np003::duplicate(
                &name.text,
                &where_,
                name.span,
                &format!(", as {}", kind.article_noun()),
                first,
                &format!(", as {}", first_kind.article_noun()),
            ));
        }
    }

    fn declare_items(&mut self, items: &'a [Item]) {
        for item in items {
            match item {
                Item::Site(site) => self.declare_site(site),
                Item::Service(s) => {
                    let id = ServiceId(next_id(&self.model.services));
                    if services::builtin(&s.name.text).is_some() {
                        self.diags
                            .push(np003::builtin_service(&s.name.text, s.name.span));
                    } else {
                        self.declare(
                            ScopeId::Top,
                            &s.name,
                            DeclKind::Service,
                            Some(Entity::Service(id)),
                        );
                    }
                    self.model.services.push(Service {
                        decl: decl(&s.name, s.span),
                        set: ServiceSet::any(s.services.span),
                    });
                    self.service_state.push((ServiceState::Unresolved, Some(s)));
                }
                Item::PrefixList(pl) => self.declare_prefix_list(pl),
                Item::Connection(c) => {
                    let id = ConnectionId(next_id(&self.model.connections));
                    self.declare(
                        ScopeId::Top,
                        &c.name,
                        DeclKind::Connection(c.kind),
                        Some(Entity::Connection(id)),
                    );
                    self.model.connections.push(Connection {
                        decl: decl(&c.name, c.span),
                        kind: c.kind,
                        ends: Vec::new(),
                        vpn_mode: match c.kind {
                            ConnKind::Vpn => {
                                Some(c.vpn_mode.as_ref().map_or(VpnMode::RouteBased, |m| m.value))
                            }
                            _ => None,
                        },
                        advertise: Vec::new(),
                        local: None,
                        remote: None,
                        extend: Vec::new(),
                        attach: Vec::new(),
                        routes: Vec::new(),
                        attach_subnets: Vec::new(),
                        tables: Vec::new(),
                        tgw_end: None,
                        tgw_advertise: Vec::new(),
                    });
                    self.pending.push(Pending::Connection(id, c));
                }
                Item::Expect(e) => self.pending.push(Pending::Expect(e)),
                Item::Broken(b) => self.declare(ScopeId::Top, &b.name, b.kind, None),
            }
        }
    }

    /// A prefix list needs nothing resolved: it is complete when declared.
    /// AWS keeps one address family per list ("Group CIDR blocks using
    /// managed prefix lists"), and a list without prefixes routes and
    /// admits nothing, which is never what a design means.
    fn declare_prefix_list(&mut self, pl: &ast::PrefixListDecl) {
        let id = PrefixListId(next_id(&self.model.prefix_lists));
        self.declare(
            ScopeId::Top,
            &pl.name,
            DeclKind::PrefixList,
            Some(Entity::PrefixList(id)),
        );
        if pl.prefixes.is_empty() {
            self.diags.push(np006::misuse(
                format!("prefix list `{}` has no prefixes", pl.name.text),
                pl.name.span,
                "no prefixes",
                "list the prefixes: for an AWS service, the ranges its managed prefix list holds in the region (the model cannot know them)",
            ));
        }
        if let Some(first) = pl.prefixes.first() {
            if let Some(other) = pl
                .prefixes
                .iter()
                .find(|p| p.value.addr().is_ipv4() != first.value.addr().is_ipv4())
            {
                self.diags.push(np006::misuse(
                    format!(
                        "prefix list `{}` mixes IPv4 and IPv6 prefixes",
                        pl.name.text
                    ),
                    other.span,
                    "another address family than the first prefix",
                    "an AWS prefix list holds IPv4 or IPv6 prefixes, not both: declare two lists",
                ));
            }
        }
        self.model.prefix_lists.push(PrefixList {
            decl: decl(&pl.name, pl.span),
            service: pl.service.as_ref().map(|s| s.value),
            prefixes: pl.prefixes.clone(),
        });
    }

    fn new_site(&mut self, name: String, name_span: Span, site: &ast::Site) -> SiteId {
        let id = SiteId(next_id(&self.model.sites));
        self.scopes.add_site_scope(&name);
        self.model.sites.push(Site {
            decl: Decl {
                name,
                name_span,
                span: site.span,
                implicit: false,
            },
            kind: site.kind,
            header_span: site.header_span,
            prefixes: site.prefixes.clone(),
            subnets: Vec::new(),
            hosts: Vec::new(),
            management: Vec::new(),
            default_snat: DefaultSnat::Implicit,
            connected_vpc: None,
            internet_egress: None,
            main_route_table: None,
            default_sg: None,
            default_acl: None,
            firewalls: Vec::new(),
            nat_rules: Vec::new(),
            gateways: Vec::new(),
            descriptions: Vec::new(),
        });
        id
    }

    fn declare_site(&mut self, site: &'a ast::Site) {
        let id = match (&site.name, site.kind) {
            (None, _) | (_, SiteKind::Internet) => match self.internet {
                Some(id) => id,
                None => {
                    let span = Span::new(
                        site.header_span.start as usize,
                        site.header_span.start as usize + 8,
                    );
                    let id = self.new_site("internet".into(), span, site);
                    self.internet = Some(id);
                    id
                }
            },
            (Some(name), kind) => {
                let id = SiteId(next_id(&self.model.sites));
                self.declare(
                    ScopeId::Top,
                    name,
                    DeclKind::Site(kind),
                    Some(Entity::Site(id)),
                );
                self.new_site(name.text.to_string(), name.span, site)
            }
        };
        for stmt in &site.body {
            self.declare_stmt(id, site.kind, stmt);
        }
    }

    fn declare_stmt(&mut self, site: SiteId, kind: SiteKind, stmt: &'a Stmt) {
        let scope = ScopeId::Site(site);
        match stmt {
            Stmt::Management(p) => self.model.sites[site.index()].management.push(p.clone()),
            Stmt::Segment(s) => {
                let sk = if kind == SiteKind::Sddc {
                    SubnetKind::NsxSegment
                } else {
                    SubnetKind::OnpremSegment
                };
                self.add_subnet(
                    site,
                    scope,
                    &s.name,
                    s.span,
                    s.prefix.clone(),
                    sk,
                    DeclKind::Segment,
                );
            }
            Stmt::Subnet(s) => {
                let sk = if kind == SiteKind::VmNetwork {
                    SubnetKind::VnetSubnet
                } else {
                    SubnetKind::VpcSubnet
                };
                let id = self.add_subnet(
                    site,
                    scope,
                    &s.name,
                    s.span,
                    s.prefix.clone(),
                    sk,
                    DeclKind::Subnet,
                );
                self.model.subnets[id.index()].dual = s.dual.clone();
                self.pending.push(Pending::Subnet(id, s));
            }
            Stmt::Host(h) => {
                let id = HostId(next_id(&self.model.hosts));
                let (hk, dk) = match (h.keyword, kind) {
                    (ast::HostKeyword::Instance, _) => (HostKind::Instance, DeclKind::Instance),
                    (ast::HostKeyword::Vm, _) => (HostKind::Vm, DeclKind::Vm),
                    (ast::HostKeyword::Host, SiteKind::Internet) => {
                        (HostKind::InternetHost, DeclKind::Host)
                    }
                    (ast::HostKeyword::Host, _) => (HostKind::OnpremHost, DeclKind::Host),
                    (ast::HostKeyword::Appliance(k), _) => {
                        (HostKind::Appliance(k), DeclKind::Appliance)
                    }
                };
                self.declare(scope, &h.name, dk, Some(Entity::Host(id)));
                self.model.hosts.push(Host {
                    decl: decl(&h.name, h.span),
                    site,
                    kind: hk,
                    addr: h.addr.clone(),
                    dual: h.dual.clone(),
                    subnet: None,
                    sgs: Vec::new(),
                    public: h.public.as_ref().map(|p| HostPublic {
                        kind: p.kind,
                        addr: p.addr.value,
                        span: p.span,
                    }),
                    source_dest_check: h.source_dest_check_off.is_none(),
                    hyperv_host: h
                        .hyperv_host
                        .as_ref()
                        .map(|n| Spanned::new(n.text.to_string(), n.span)),
                });
                self.model.sites[site.index()].hosts.push(id);
                self.pending.push(Pending::Host(id, h));
            }
            Stmt::Group(g) => {
                let id = GroupId(next_id(&self.model.groups));
                self.declare(scope, &g.name, DeclKind::Group, Some(Entity::Group(id)));
                self.model.groups.push(Group {
                    decl: decl(&g.name, g.span),
                    site,
                    members: AddrExpr {
                        terms: Vec::new(),
                        span: g.members.span,
                    },
                });
                self.pending.push(Pending::Group(id, g));
            }
            Stmt::PublicIp(p) => {
                let id = PublicIpId(next_id(&self.model.public_ips));
                self.declare(
                    scope,
                    &p.name,
                    DeclKind::PublicIp,
                    Some(Entity::PublicIp(id)),
                );
                self.model.public_ips.push(PublicIp {
                    decl: decl(&p.name, p.span),
                    site,
                    kind: PublicIpKind::Sddc,
                    addr: p.addr.clone(),
                    target: None,
                });
            }
            Stmt::ElasticIp(e) => {
                let id = PublicIpId(next_id(&self.model.public_ips));
                self.declare(
                    scope,
                    &e.name,
                    DeclKind::ElasticIp,
                    Some(Entity::PublicIp(id)),
                );
                self.model.public_ips.push(PublicIp {
                    decl: decl(&e.name, e.span),
                    site,
                    kind: PublicIpKind::Elastic,
                    addr: e.addr.clone(),
                    target: None,
                });
                self.pending.push(Pending::ElasticIp(id, e));
            }
            Stmt::DefaultSnat(d) => {
                self.model.sites[site.index()].default_snat = match &d.value {
                    ast::DefaultSnatValue::Addr(a) => DefaultSnat::Addr(a.value, a.span),
                    ast::DefaultSnatValue::Off(s) => DefaultSnat::Off(*s),
                };
            }
            Stmt::Nat(n) => {
                let id = NatRuleId(next_id(&self.model.nat_rules));
                self.declare(scope, &n.name, DeclKind::NatRule, Some(Entity::NatRule(id)));
                self.model.nat_rules.push(NatRule {
                    decl: decl(&n.name, n.span),
                    site,
                    kind: n.kind.value,
                    internal: AddrExpr {
                        terms: Vec::new(),
                        span: n.internal.span,
                    },
                    external: None,
                    services: None,
                    translated_port: n.translated_port.clone(),
                    firewall_match: n
                        .firewall_match
                        .as_ref()
                        .map_or(FirewallMatch::Internal, |m| m.value),
                    firewall_match_span: n.firewall_match.as_ref().map(|m| m.span),
                });
                self.model.sites[site.index()].nat_rules.push(id);
                self.pending.push(Pending::Nat(id, n));
            }
            Stmt::ConnectedVpc(c) => self.pending.push(Pending::ConnectedVpc(site, c)),
            Stmt::Firewall(f) => {
                let id = FirewallId(next_id(&self.model.firewalls));
                self.declare(
                    scope,
                    &f.name,
                    DeclKind::Firewall,
                    Some(Entity::Firewall(id)),
                );
                let fk = match (kind, f.name.text.as_str()) {
                    (SiteKind::Sddc, "mgw") => FirewallKind::Mgw,
                    (SiteKind::Sddc, _) => FirewallKind::Cgw,
                    _ => FirewallKind::Edge,
                };
                self.model.firewalls.push(Firewall {
                    decl: decl(&f.name, f.span),
                    site,
                    kind: fk,
                    rules: Vec::new(),
                });
                self.model.sites[site.index()].firewalls.push(id);
                self.pending.push(Pending::Firewall(id, f));
            }
            Stmt::InternetGateway(name, span) => {
                self.add_gateway(
                    site,
                    scope,
                    name,
                    *span,
                    GatewayKind::InternetGateway,
                    DeclKind::InternetGateway,
                );
            }
            Stmt::EgressOnlyInternetGateway(name, span) => {
                self.add_gateway(
                    site,
                    scope,
                    name,
                    *span,
                    GatewayKind::EgressOnlyInternetGateway,
                    DeclKind::EgressOnlyInternetGateway,
                );
            }
            Stmt::RouteTable(rt) => {
                let id = RouteTableId(next_id(&self.model.route_tables));
                self.declare(
                    scope,
                    &rt.name,
                    DeclKind::RouteTable,
                    Some(Entity::RouteTable(id)),
                );
                self.model.route_tables.push(RouteTable {
                    decl: decl(&rt.name, rt.span),
                    site,
                    main: rt.main.is_some(),
                    routes: Vec::new(),
                });
                if let Some(main_span) = rt.main {
                    match self.model.sites[site.index()].main_route_table {
                        Some(first) => {
                            let first = &self.model.route_tables[first.index()].decl;
                            let d = np003::duplicate_entry(
                                format!(
                                    "vpc `{}` has two main route tables, `{}` and `{}`",
                                    self.model.sites[site.index()].decl.name, first.name, rt.name.text
                                ),
                                main_span,
                                "second `main`",
                                first.name_span,
                                "already the main route table",
                                "a VPC has exactly one main route table: remove `main` from one of them",
                            );
                            self.diags.push(d);
                        }
                        None => self.model.sites[site.index()].main_route_table = Some(id),
                    }
                }
                self.pending.push(Pending::RouteTable(id, rt));
            }
            Stmt::NatGateway(n) => {
                let elastic_ip = match &n.kind {
                    ast::NatGatewayKind::Public(a) => Some(a.clone()),
                    ast::NatGatewayKind::Private(_) => None,
                };
                let id = self.add_gateway(
                    site,
                    scope,
                    &n.name,
                    n.span,
                    GatewayKind::NatGateway {
                        subnet: None,
                        elastic_ip,
                        private_ip: n.addr.clone(),
                        addr: None,
                    },
                    DeclKind::NatGateway,
                );
                self.pending.push(Pending::NatGateway(id, n));
            }
            Stmt::SecurityGroup(sg) => {
                let id = SgId(next_id(&self.model.security_groups));
                self.declare(
                    scope,
                    &sg.name,
                    DeclKind::SecurityGroup,
                    Some(Entity::SecurityGroup(id)),
                );
                self.model.security_groups.push(SecurityGroup {
                    decl: decl(&sg.name, sg.span),
                    site,
                    inbound: Vec::new(),
                    outbound: Vec::new(),
                });
                if sg.name.text == "default" && self.model.sites[site.index()].default_sg.is_none()
                {
                    self.model.sites[site.index()].default_sg = Some(id);
                }
                self.pending.push(Pending::SecurityGroup(id, sg));
            }
            Stmt::NetworkAcl(acl) => {
                let id = AclId(next_id(&self.model.acls));
                self.declare(
                    scope,
                    &acl.name,
                    DeclKind::NetworkAcl,
                    Some(Entity::NetworkAcl(id)),
                );
                self.model.acls.push(NetworkAcl {
                    decl: decl(&acl.name, acl.span),
                    site,
                    inbound: Vec::new(),
                    outbound: Vec::new(),
                });
                self.pending.push(Pending::Acl(id, acl));
            }
            Stmt::Nlb(n) => {
                let id = NlbId(next_id(&self.model.nlbs));
                self.declare(scope, &n.name, DeclKind::Nlb, Some(Entity::Nlb(id)));
                self.model.nlbs.push(Nlb {
                    decl: decl(&n.name, n.span),
                    site,
                    scheme: n.scheme.value,
                    subnets: Vec::new(),
                    listeners: Vec::new(),
                });
                self.pending.push(Pending::Nlb(id, n));
            }
            Stmt::EndpointService(es) => {
                let id = EndpointServiceId(next_id(&self.model.endpoint_services));
                self.declare(
                    scope,
                    &es.name,
                    DeclKind::EndpointService,
                    Some(Entity::EndpointService(id)),
                );
                self.model.endpoint_services.push(EndpointService {
                    decl: decl(&es.name, es.span),
                    site,
                    nlb: None,
                    acceptance: es
                        .acceptance
                        .as_ref()
                        .map_or(Acceptance::Required, |a| a.value),
                    acceptance_span: es.acceptance.as_ref().map(|a| a.span),
                });
                self.pending.push(Pending::EndpointService(id, es));
            }
            Stmt::Endpoint(ep) => {
                let id = EndpointId(next_id(&self.model.endpoints));
                self.declare(
                    scope,
                    &ep.name,
                    DeclKind::Endpoint,
                    Some(Entity::Endpoint(id)),
                );
                self.model.endpoints.push(Endpoint {
                    decl: decl(&ep.name, ep.span),
                    site,
                    service: None,
                    subnet: None,
                    addr: ep.addr.clone(),
                    sgs: Vec::new(),
                });
                self.pending.push(Pending::Endpoint(id, ep));
            }
            Stmt::VnetGateway(g) => {
                let id = self.add_gateway(
                    site,
                    scope,
                    &g.name,
                    g.span,
                    GatewayKind::Vnet {
                        mode: g.mode.value,
                        external_ip: g.external_ip.clone(),
                        subnet: None,
                        hyperv_host: g
                            .hyperv_host
                            .as_ref()
                            .map(|n| Spanned::new(n.text.to_string(), n.span)),
                    },
                    DeclKind::VnetGateway,
                );
                self.pending.push(Pending::VnetGateway(id, g));
            }
            Stmt::GatewayEndpoint(g) => {
                let id = self.add_gateway(
                    site,
                    scope,
                    &g.name,
                    g.span,
                    GatewayKind::Endpoint {
                        list: None,
                        route_tables: Vec::new(),
                    },
                    DeclKind::GatewayEndpoint,
                );
                self.pending.push(Pending::GatewayEndpoint(id, g));
            }
            Stmt::InternetEgress(addr, _) => {
                self.model.sites[site.index()].internet_egress = Some(addr.clone());
            }
            Stmt::Description(text, _) => self.model.sites[site.index()]
                .descriptions
                .push(text.clone()),
            Stmt::Broken(b) => self.declare(scope, &b.name, b.kind, None),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_subnet(
        &mut self,
        site: SiteId,
        scope: ScopeId,
        name: &ast::Name,
        span: Span,
        prefix: Spanned<IpNet>,
        kind: SubnetKind,
        dk: DeclKind,
    ) -> SubnetId {
        let id = SubnetId(next_id(&self.model.subnets));
        self.declare(scope, name, dk, Some(Entity::Subnet(id)));
        self.model.subnets.push(Subnet {
            decl: decl(name, span),
            site,
            kind,
            prefix,
            dual: None,
            route_table: None,
            acl: None,
            extended_by: None,
            az: None,
        });
        self.model.sites[site.index()].subnets.push(id);
        id
    }

    fn add_gateway(
        &mut self,
        site: SiteId,
        scope: ScopeId,
        name: &ast::Name,
        span: Span,
        kind: GatewayKind,
        dk: DeclKind,
    ) -> GatewayId {
        let id = GatewayId(next_id(&self.model.gateways));
        self.declare(scope, name, dk, Some(Entity::Gateway(id)));
        self.model.gateways.push(Gateway {
            decl: decl(name, span),
            site,
            kind,
        });
        self.model.sites[site.index()].gateways.push(id);
        id
    }

    // --------------------------------------------------------------- defaults

    /// Adds, for every VPC, what AWS creates with it: the default security
    /// group (unless declared), the default network ACL and, unless a table
    /// is marked `main`, an empty main route table.
    fn apply_defaults(&mut self) {
        for i in 0..self.model.sites.len() {
            let site = SiteId(i as u32);
            if self.model.sites[i].kind != SiteKind::Vpc {
                continue;
            }
            let header = self.model.sites[i].header_span;
            let implicit = |name: &str| Decl {
                name: name.to_string(),
                name_span: header,
                span: header,
                implicit: true,
            };
            if self.model.sites[i].default_sg.is_none() {
                let id = SgId(next_id(&self.model.security_groups));
                let any = ServiceSet::any(header);
                self.model.security_groups.push(SecurityGroup {
                    decl: implicit("default"),
                    site,
                    inbound: vec![SgRule {
                        services: any.clone(),
                        peers: AddrExpr::single(AddrTerm::Sg(id), header),
                        span: header,
                        implicit: true,
                    }],
                    outbound: vec![allow_all_outbound(header)],
                });
                self.model.sites[i].default_sg = Some(id);
                // Declared only when the name is free: a subnet called
                // `default` keeps its name, and the group stays reachable
                // through `Site::default_sg`.
                if self.scopes.get(ScopeId::Site(site), "default").is_none() {
                    let name = ast::Name {
                        text: "default".into(),
                        span: header,
                    };
                    self.declare(
                        ScopeId::Site(site),
                        &name,
                        DeclKind::SecurityGroup,
                        Some(Entity::SecurityGroup(id)),
                    );
                }
            }
            let acl = AclId(next_id(&self.model.acls));
            let allow_all = |peer: &str| AclRule {
                number: if peer == "0.0.0.0/0" { 100 } else { 101 },
                action: AclAction::Allow,
                services: ServiceSet::any(header),
                peer: AddrExpr::single(AddrTerm::Net(peer.parse().unwrap_or_default()), header),
                span: header,
                implicit: true,
            };
            self.model.acls.push(NetworkAcl {
                decl: implicit("default"),
                site,
                inbound: vec![allow_all("0.0.0.0/0"), allow_all("::/0")],
                outbound: vec![allow_all("0.0.0.0/0"), allow_all("::/0")],
            });
            self.model.sites[i].default_acl = Some(acl);
            if self.model.sites[i].main_route_table.is_none() {
                let id = RouteTableId(next_id(&self.model.route_tables));
                self.model.route_tables.push(RouteTable {
                    decl: implicit("main"),
                    site,
                    main: true,
                    routes: Vec::new(),
                });
                self.model.sites[i].main_route_table = Some(id);
            }
        }
    }

    // ---------------------------------------------------------------- resolve

    fn resolve(&mut self, name: &ast::Name, from: Option<SiteId>, want: Want) -> Option<Entity> {
        match self.scopes.resolve(&name.text, name.span, from, want) {
            Ok(Resolved::Found(e)) => {
                self.record_reference(name.span, e);
                Some(e)
            }
            Ok(Resolved::Broken) => None,
            Err(d) => {
                self.diags.push(*d);
                None
            }
        }
    }

    fn record_reference(&mut self, span: Span, e: Entity) {
        if let Some(references) = &mut self.references {
            references.push(Spanned::new(e, span));
        }
    }

    /// Resolves a reference that must also belong to `site` (a VM's segment,
    /// an instance's security groups).
    fn resolve_local(&mut self, name: &ast::Name, site: SiteId, want: Want) -> Option<Entity> {
        let e = self.resolve(name, Some(site), want)?;
        let owner = self.model.site_of(e)?;
        if owner == site {
            return Some(e);
        }
        let here = &self.model.sites[site.index()].decl.name;
        let there = &self.model.sites[owner.index()].decl.name;
        let declared = self.model.decl(e).name_span;
        let needed = super::scope::with_article(want.noun);
        self.diags.push(np006::other_site(
            &name.text, name.span, want.noun, &needed, here, there, declared,
        ));
        None
    }

    fn resolve_pending(&mut self, parallel_min: Option<usize>) {
        for i in 0..self.service_state.len() {
            self.resolve_service(ServiceId(i as u32));
        }
        let pending = std::mem::take(&mut self.pending);
        let mut quick = match parallel_min {
            Some(min) => self.lower_in_parallel(&pending, min),
            None => Vec::new(),
        };
        for (i, p) in pending.into_iter().enumerate() {
            let quick = quick.get_mut(i).and_then(Option::take);
            match p {
                Pending::Subnet(id, s) => self.lower_subnet(id, s),
                Pending::Host(id, h) => self.lower_host(id, h),
                Pending::Group(id, g) => {
                    let site = self.model.groups[id.index()].site;
                    let members = self.addr_expr(&g.members, Some(site));
                    self.model.groups[id.index()].members = members;
                }
                Pending::ElasticIp(id, e) => {
                    let site = self.model.public_ips[id.index()].site;
                    if let Some(t) = &e.target {
                        if let Some(ent) = self.resolve_local(t, site, EIP_TARGET) {
                            self.model.public_ips[id.index()].target =
                                Some(Spanned::new(ent, t.span));
                        }
                    }
                }
                Pending::Nat(id, n) => self.lower_nat(id, n),
                Pending::ConnectedVpc(site, c) => {
                    if let Some(Entity::Site(vpc)) = self.resolve(&c.vpc, None, VPC) {
                        let subnet = match &c.subnet {
                            Some(s) => match self.resolve(s, Some(vpc), SUBNET) {
                                Some(Entity::Subnet(sub))
                                    if self.model.subnets[sub.index()].site == vpc =>
                                {
                                    Some(sub)
                                }
                                Some(_) => {
                                    self.diags.push(np006::misuse(
                                        format!("subnet `{}` is not in vpc `{}`", s.text, c.vpc.text),
                                        s.span,
                                        "subnet of another vpc",
                                        "the SDDC's ENIs sit in a subnet of the connected VPC itself",
                                    ));
                                    None
                                }
                                None => None,
                            },
                            None => None,
                        };
                        self.model.sites[site.index()].connected_vpc = Some(ConnectedVpc {
                            vpc,
                            subnet,
                            span: c.span,
                        });
                    }
                }
                Pending::Firewall(id, f) => match quick {
                    Some(Quick::Firewall(rules, diags)) => {
                        self.diags.extend(diags);
                        self.model.firewalls[id.index()].rules = rules;
                    }
                    _ => self.lower_firewall(id, f),
                },
                Pending::RouteTable(id, rt) => match quick {
                    Some(Quick::Routes(routes, diags)) => {
                        self.diags.extend(diags);
                        self.model.route_tables[id.index()].routes = routes;
                    }
                    _ => self.lower_route_table(id, rt),
                },
                Pending::NatGateway(id, n) => {
                    let site = self.model.gateways[id.index()].site;
                    let sub = self.subnet_ref(&n.subnet, site);
                    if let GatewayKind::NatGateway { subnet, .. } =
                        &mut self.model.gateways[id.index()].kind
                    {
                        *subnet = sub;
                    }
                }
                Pending::SecurityGroup(id, sg) => self.lower_security_group(id, sg),
                Pending::Acl(id, acl) => self.lower_acl(id, acl),
                Pending::Nlb(id, n) => self.lower_nlb(id, n),
                Pending::EndpointService(id, es) => {
                    let site = self.model.endpoint_services[id.index()].site;
                    if let Some(Entity::Nlb(nlb)) = self.resolve_local(&es.nlb, site, NLB) {
                        self.model.endpoint_services[id.index()].nlb = Some(nlb);
                    }
                }
                Pending::Endpoint(id, ep) => {
                    let site = self.model.endpoints[id.index()].site;
                    if let Some(Entity::EndpointService(svc)) =
                        self.resolve(&ep.service, Some(site), ENDPOINT_SERVICE)
                    {
                        self.model.endpoints[id.index()].service = Some(svc);
                    }
                    let subnet = self.subnet_ref(&ep.subnet, site);
                    self.model.endpoints[id.index()].subnet = subnet;
                    let sgs = self.sg_list(ep.sgs.as_deref(), site);
                    self.model.endpoints[id.index()].sgs = sgs;
                }
                Pending::VnetGateway(id, g) => {
                    let site = self.model.gateways[id.index()].site;
                    let sub = g.subnet.as_ref().and_then(|s| self.subnet_ref(s, site));
                    if let GatewayKind::Vnet { subnet, .. } =
                        &mut self.model.gateways[id.index()].kind
                    {
                        *subnet = sub;
                    }
                }
                Pending::GatewayEndpoint(id, g) => self.lower_gateway_endpoint(id, g),
                Pending::Connection(id, c) => self.lower_connection(id, c),
                Pending::Expect(e) => self.lower_expect(e),
            }
        }
    }

    /// A subnet (vpc, vmnetwork) or segment (sddc, onprem) of `site`.
    fn subnet_ref(&mut self, name: &ast::Name, site: SiteId) -> Option<SubnetId> {
        let want = match self.model.sites[site.index()].kind {
            SiteKind::Sddc | SiteKind::Onprem => SEGMENT,
            _ => SUBNET,
        };
        match self.resolve_local(name, site, want)? {
            Entity::Subnet(s) => Some(s),
            _ => None,
        }
    }

    fn lower_subnet(&mut self, id: SubnetId, s: &ast::SubnetStmt) {
        let site = self.model.subnets[id.index()].site;
        self.model.subnets[id.index()].az =
            s.az.as_ref()
                .map(|z| Spanned::new(z.text.to_string(), z.span));
        if let Some(rt) = &s.route_table {
            if let Some(Entity::RouteTable(t)) = self.resolve_local(rt, site, ROUTE_TABLE) {
                self.model.subnets[id.index()].route_table = Some(t);
            }
        }
        if let Some(acl) = &s.acl {
            if let Some(Entity::NetworkAcl(a)) = self.resolve_local(acl, site, NETWORK_ACL) {
                self.model.subnets[id.index()].acl = Some(a);
            }
        }
        let site = &self.model.sites[site.index()];
        let sub = &mut self.model.subnets[id.index()];
        if sub.kind == SubnetKind::VpcSubnet {
            sub.route_table = sub.route_table.or(site.main_route_table);
            sub.acl = sub.acl.or(site.default_acl);
        }
    }

    fn lower_host(&mut self, id: HostId, h: &ast::HostStmt) {
        let site = self.model.hosts[id.index()].site;
        if let Some(s) = &h.subnet {
            self.model.hosts[id.index()].subnet = self.subnet_ref(s, site);
        }
        if self.model.hosts[id.index()].kind == HostKind::Instance {
            let sgs = self.sg_list(h.sgs.as_deref(), site);
            self.model.hosts[id.index()].sgs = sgs;
        }
    }

    /// Resolves an `sg [...]` clause; without one, the VPC's default group.
    fn sg_list(&mut self, names: Option<&[ast::Name]>, site: SiteId) -> Vec<Spanned<SgId>> {
        match names {
            Some(names) => names
                .iter()
                .filter_map(|n| match self.resolve_local(n, site, SECURITY_GROUP)? {
                    Entity::SecurityGroup(sg) => Some(Spanned::new(sg, n.span)),
                    _ => None,
                })
                .collect(),
            None => {
                let site = &self.model.sites[site.index()];
                site.default_sg
                    .map(|sg| Spanned::new(sg, site.header_span))
                    .into_iter()
                    .collect()
            }
        }
    }

    fn lower_nat(&mut self, id: NatRuleId, n: &ast::NatStmt) {
        let site = self.model.nat_rules[id.index()].site;
        let internal = self.addr_expr(&n.internal, Some(site));
        let external = n.external.as_ref().map(|e| self.addr_expr(e, Some(site)));
        let services = n.service.as_ref().map(|s| self.service_set(s));
        let rule = &mut self.model.nat_rules[id.index()];
        rule.internal = internal;
        rule.external = external;
        rule.services = services;
    }

    fn lower_firewall(&mut self, id: FirewallId, f: &ast::FirewallStmt) {
        let site = self.model.firewalls[id.index()].site;
        let rules = firewall_rules(self, f, site);
        self.model.firewalls[id.index()].rules = rules;
    }

    /// A gateway endpoint names an AWS service's prefix list and the route
    /// tables AWS adds its route to; the routes themselves are added with
    /// the other implicit routes, after every table's own.
    fn lower_gateway_endpoint(&mut self, id: GatewayId, g: &ast::GatewayEndpointStmt) {
        let site = self.model.gateways[id.index()].site;
        let list = match self.resolve(&g.list, Some(site), PREFIX_LIST) {
            Some(Entity::PrefixList(l)) if self.model.prefix_lists[l.index()].service.is_some() => {
                Some(l)
            }
            Some(Entity::PrefixList(_)) => {
                self.diags.push(np006::misuse(
                    format!(
                        "prefix list `{}` is not an AWS service's prefix list",
                        g.list.text
                    ),
                    g.list.span,
                    "a customer-managed list",
                    "a gateway endpoint leads to Amazon S3 or DynamoDB: name a list declared `prefix-list NAME service s3 [...]` (or `service dynamodb`)",
                ));
                None
            }
            _ => None,
        };
        let mut tables: Vec<Spanned<RouteTableId>> = Vec::new();
        for n in &g.route_tables {
            if let Some(Entity::RouteTable(rt)) = self.resolve_local(n, site, ROUTE_TABLE) {
                if !tables.iter().any(|t| t.value == rt) {
                    tables.push(Spanned::new(rt, n.span));
                }
            }
        }
        if let GatewayKind::Endpoint {
            list: l,
            route_tables,
        } = &mut self.model.gateways[id.index()].kind
        {
            *l = list;
            *route_tables = tables;
        }
    }

    fn lower_route_table(&mut self, id: RouteTableId, rt: &ast::RouteTableStmt) {
        let site = self.model.route_tables[id.index()].site;
        let routes = static_routes(self, rt, site);
        self.model.route_tables[id.index()].routes = routes;
    }

    fn lower_security_group(&mut self, id: SgId, sg: &ast::SecurityGroupStmt) {
        let site = self.model.security_groups[id.index()].site;
        let (mut inbound, mut outbound) = (Vec::new(), Vec::new());
        let mut outbound_stated = false;
        for item in &sg.rules {
            let r = match item {
                ast::SgRuleItem::Rule(r) => r,
                ast::SgRuleItem::None(n) => {
                    outbound_stated |= n.direction.value == ast::Direction::Outbound;
                    continue;
                }
                ast::SgRuleItem::Broken(_) => continue,
            };
            let rule = SgRule {
                services: self.service_set(&r.services),
                peers: self.addr_expr(&r.peers, Some(site)),
                span: r.span,
                implicit: false,
            };
            match r.direction.value {
                ast::Direction::Inbound => inbound.push(rule),
                ast::Direction::Outbound => outbound.push(rule),
            }
        }
        // A group that states nothing about outbound traffic gets AWS's
        // creation default; `outbound none` is a group without it (what
        // Terraform creates when it lists no `egress`).
        outbound_stated |= sg
            .rules
            .iter()
            .any(|r| matches!(r, ast::SgRuleItem::Rule(r) if r.direction.value == ast::Direction::Outbound));
        if !outbound_stated {
            outbound.push(allow_all_outbound(sg.name.span));
        }
        let group = &mut self.model.security_groups[id.index()];
        group.inbound = inbound;
        group.outbound = outbound;
    }

    fn lower_acl(&mut self, id: AclId, acl: &ast::NetworkAclStmt) {
        let site = self.model.acls[id.index()].site;
        let mut seen: HashMap<(bool, u32), Span> = HashMap::new();
        let (mut inbound, mut outbound) = (Vec::new(), Vec::new());
        for item in &acl.rules {
            let ast::AclRuleItem::Rule(r) = item else {
                continue;
            };
            let inb = r.direction.value == ast::Direction::Inbound;
            if let Some(&first) = seen.get(&(inb, r.number.value)) {
                self.diags.push(np003::duplicate_entry(
                    format!(
                        "network ACL `{}` has two {} rules numbered {}",
                        acl.name.text,
                        direction_word(r.direction.value),
                        r.number.value
                    ),
                    r.number.span,
                    "second rule with this number",
                    first,
                    "first rule with it",
                    "rule numbers order the rules and must be unique per direction: renumber one",
                ));
                continue;
            }
            seen.insert((inb, r.number.value), r.number.span);
            let rule = AclRule {
                number: r.number.value,
                action: r.action.value,
                services: self.service_set(&r.services),
                peer: self.addr_expr(&r.peer, Some(site)),
                span: r.span,
                implicit: false,
            };
            if inb {
                inbound.push(rule);
            } else {
                outbound.push(rule);
            }
        }
        inbound.sort_by_key(|r| r.number);
        outbound.sort_by_key(|r| r.number);
        let a = &mut self.model.acls[id.index()];
        a.inbound = inbound;
        a.outbound = outbound;
    }

    fn lower_nlb(&mut self, id: NlbId, n: &ast::NlbStmt) {
        let site = self.model.nlbs[id.index()].site;
        let subnets = n
            .subnets
            .iter()
            .filter_map(|s| self.subnet_ref(s, site).map(|x| Spanned::new(x, s.span)))
            .collect();
        let mut listeners = Vec::new();
        for item in &n.listeners {
            let ast::ListenerItem::Listener(l) = item else {
                continue;
            };
            let targets = l
                .targets
                .iter()
                .filter_map(|t| match self.resolve_local(t, site, INSTANCE)? {
                    Entity::Host(h) => Some(Spanned::new(h, t.span)),
                    _ => None,
                })
                .collect();
            listeners.push(Listener {
                services: self.service_set(&l.service),
                targets,
                target_type: l
                    .target_type
                    .as_ref()
                    .map_or(TargetType::Instance, |t| t.value),
                port: l.port.as_ref().map(|p| p.value),
                span: l.span,
            });
        }
        let nlb = &mut self.model.nlbs[id.index()];
        nlb.subnets = subnets;
        nlb.listeners = listeners;
    }

    fn lower_connection(&mut self, id: ConnectionId, c: &ast::Connection) {
        let wants: [Want; 2] = match c.kind {
            ConnKind::Peering => [VPC, VPC],
            ConnKind::L2vpn => [SDDC, ONPREM],
            _ => [LINK_END_OR_TGW, LINK_END_OR_TGW],
        };
        let mut ends = Vec::new();
        let mut tgw_end: Option<Spanned<ConnectionId>> = None;
        for (n, want) in c.ends.iter().zip(wants) {
            match self.resolve(n, None, want) {
                Some(Entity::Site(s)) => ends.push(Spanned::new(s, n.span)),
                Some(Entity::Connection(t)) if tgw_end.is_none() => {
                    tgw_end = Some(Spanned::new(t, n.span))
                }
                Some(Entity::Connection(_)) => self.diags.push(np006::misuse(
                    format!("{} `{}` joins two transit gateways", c.kind.keyword(), c.name.text),
                    n.span,
                    "a second transit gateway",
                    "a Direct Connect or VPN joins a site to a transit gateway; join transit gateways by attaching both to the same sites",
                )),
                _ => {}
            }
        }
        if let (Some(_), [end]) = (&tgw_end, ends.as_slice()) {
            if self.model.sites[end.value.index()].kind != SiteKind::Onprem {
                self.diags.push(np006::misuse(
                    format!(
                        "{} `{}` ends on a transit gateway, so its other end must be an on-prem site",
                        c.kind.keyword(),
                        c.name.text
                    ),
                    end.span,
                    "not an onprem site",
                    "netproof models Direct Connect and VPN connections from on-prem sites to a transit gateway; attach a VPC or SDDC with `attach`",
                ));
                tgw_end = None;
                ends.clear();
            }
        }
        let end_sites: Vec<SiteId> = ends.iter().map(|e| e.value).collect();
        let mut conn_advertise = Vec::new();
        let mut tgw_advertise = Vec::new();
        let mut body = tgw::TgwBody::default();
        let (mut local, mut remote, mut extend, mut attach, mut routes) =
            (None, None, Vec::new(), Vec::new(), Vec::new());
        for stmt in &c.body {
            match stmt {
                ast::ConnStmt::Advertise {
                    site,
                    prefixes,
                    span,
                } => match self.resolve(site, None, LINK_END_OR_TGW) {
                    Some(Entity::Connection(t))
                        if tgw_end.as_ref().is_some_and(|e| e.value == t) =>
                    {
                        tgw_advertise.extend(prefixes.iter().cloned());
                    }
                    Some(Entity::Site(s)) if end_sites.contains(&s) => {
                        conn_advertise.push(Advertise {
                            site: s,
                            prefixes: prefixes.clone(),
                            span: *span,
                        });
                    }
                    Some(_) => self.not_an_end(site, c),
                    None => {}
                },
                ast::ConnStmt::Local(e, _) => {
                    local = Some(self.addr_expr(e, end_sites.first().copied()))
                }
                ast::ConnStmt::Remote(e, _) => {
                    remote = Some(self.addr_expr(e, end_sites.get(1).copied()))
                }
                ast::ConnStmt::Extend(names, _) => {
                    let Some(&sddc) = end_sites.first() else {
                        continue;
                    };
                    for n in names {
                        if let Some(seg) = self.subnet_ref(n, sddc) {
                            extend.push(Spanned::new(seg, n.span));
                            self.model.subnets[seg.index()].extended_by = Some(id);
                        }
                    }
                }
                ast::ConnStmt::Attach(names, _) => {
                    for n in names {
                        if let Some(e) = self.resolve(n, None, TGW_TARGET) {
                            attach.push(Spanned::new(e, n.span));
                        }
                    }
                }
                ast::ConnStmt::AttachIn { site, subnets, .. } => {
                    self.lower_attach_in(site, subnets, &mut attach, &mut body);
                }
                ast::ConnStmt::RouteTable {
                    name,
                    body: b,
                    span,
                } => {
                    self.lower_tgw_table(name, b, *span, &mut body);
                }
                ast::ConnStmt::Route(r) => {
                    if let Some(route) = self.tgw_route(r) {
                        routes.push(route);
                    }
                }
                ast::ConnStmt::Associate(..)
                | ast::ConnStmt::Propagate(..)
                | ast::ConnStmt::Broken(_) => {}
            }
        }
        let conn = &mut self.model.connections[id.index()];
        conn.ends = ends;
        conn.advertise = conn_advertise;
        conn.local = local;
        conn.remote = remote;
        conn.extend = extend;
        conn.attach = attach;
        conn.routes = routes;
        conn.attach_subnets = body.attach_subnets;
        conn.tables = body.tables;
        conn.tgw_end = tgw_end;
        conn.tgw_advertise = tgw_advertise;
    }

    fn not_an_end(&mut self, site: &ast::Name, c: &ast::Connection) {
        let ends: Vec<String> = c.ends.iter().map(|e| format!("`{}`", e.text)).collect();
        let d = np006::misuse(
            format!(
                "`{}` is not an end of {} `{}`",
                site.text,
                c.kind.keyword(),
                c.name.text
            ),
            site.span,
            "not joined by this connection",
            "a connection carries routes between its two ends only: advertise from one of them",
        );
        self.diags
            .push(d.with_label(c.name.span, format!("joins {}", ends.join(" and "))));
    }

    fn lower_expect(&mut self, e: &ast::Expect) {
        let src = self.addr_expr(&e.src, None);
        let dst = e.dst.as_ref().map(|d| self.addr_expr(d, None));
        let at = e.at.as_ref().map(|a| self.addr_expr(a, None));
        let services = match &e.services {
            Some(s) => self.service_set(s),
            None => ServiceSet::any(e.kind.span),
        };
        let via = e.via.as_ref().and_then(|v| {
            self.resolve(v, None, EGRESS_VIA)
                .map(|x| Spanned::new(x, v.span))
        });
        self.model.expectations.push(Expectation {
            kind: e.kind.value,
            span: e.span,
            src,
            dst,
            at,
            services,
            via,
        });
    }

    fn addr_expr(&mut self, e: &ast::AddrExpr, from: Option<SiteId>) -> AddrExpr {
        addr_expr(self, e, from)
    }

    fn service_set(&mut self, e: &ast::ServiceExpr) -> ServiceSet {
        service_set(self, e)
    }

    fn resolve_service(&mut self, id: ServiceId) {
        let Some(&(state, decl)) = self.service_state.get(id.index()) else {
            return;
        };
        let Some(decl) = decl else { return };
        match state {
            ServiceState::Done => {}
            ServiceState::InProgress => {
                self.diags.push(np006::misuse(
                    format!("service `{}` is defined in terms of itself", decl.name.text),
                    decl.name.span,
                    "part of a cycle",
                    "a service lists protocols and ports, or other services that do not lead back to it",
                ));
            }
            ServiceState::Unresolved => {
                self.service_state[id.index()].0 = ServiceState::InProgress;
                let set = self.service_set(&decl.services);
                self.model.services[id.index()].set = set;
                self.service_state[id.index()].0 = ServiceState::Done;
            }
        }
    }

    // -------------------------------------------------------- implicit routes

    /// Two prefix-list routes for one prefix with different targets: AWS's
    /// route priority ("How route priority works") does not order them, so
    /// the design does not say where the traffic goes.
    fn check_prefix_list_ties(&mut self) {
        for rt in &self.model.route_tables {
            let mut seen: HashMap<IpNet, &Route> = HashMap::new();
            for r in &rt.routes {
                if !matches!(r.origin, RouteOrigin::PrefixList(_)) {
                    continue;
                }
                match seen.get(&r.prefix) {
                    Some(first) if first.target != r.target => {
                        self.diags.push(np003::duplicate_entry(
                            format!(
                                "route table `{}` has two prefix-list routes for `{}` to different targets",
                                rt.decl.name, r.prefix
                            ),
                            r.span,
                            "second prefix-list route for this prefix",
                            first.span,
                            "first one",
                            "AWS's route priority does not order two prefix-list routes for one prefix: keep the prefix in one list, or route it by a CIDR route, which wins over both",
                        ));
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(r.prefix, r);
                    }
                }
            }
        }
    }

    /// Every VPC route table gets `local` routes for the VPC's prefixes; the
    /// connected VPC's main table gets a route for each SDDC segment (and
    /// management prefix) to the SDDC's ENIs.
    fn add_implicit_routes(&mut self) {
        for rt in &mut self.model.route_tables {
            let site = &self.model.sites[rt.site.index()];
            let local = site.prefixes.iter().map(|p| Route {
                prefix: p.value,
                target: RouteTarget::Local,
                origin: RouteOrigin::Local,
                span: p.span,
            });
            rt.routes.splice(0..0, local);
        }
        // A gateway endpoint's routes: one per prefix of its service's list,
        // in each associated table (AWS "Gateway endpoints"). They follow
        // the tables' own routes, which is the engine's tie-break order.
        for (i, gw) in self.model.gateways.iter().enumerate() {
            let GatewayKind::Endpoint {
                list: Some(l),
                route_tables,
            } = &gw.kind
            else {
                continue;
            };
            let Some(list) = self.model.prefix_lists.get(l.index()) else {
                continue;
            };
            for rt in route_tables {
                let routes = list.prefixes.iter().map(|p| Route {
                    prefix: p.value,
                    target: RouteTarget::Gateway(GatewayId(i as u32)),
                    origin: RouteOrigin::PrefixList(*l),
                    span: gw.decl.span,
                });
                self.model.route_tables[rt.value.index()]
                    .routes
                    .extend(routes);
            }
        }
        self.check_prefix_list_ties();
        for site in &self.model.sites {
            let Some(cv) = site.connected_vpc else {
                continue;
            };
            let Some(main) = self.model.sites[cv.vpc.index()].main_route_table else {
                continue;
            };
            let segments = site
                .subnets
                .iter()
                .map(|&s| &self.model.subnets[s.index()].prefix)
                .chain(site.management.iter());
            let routes: Vec<Route> = segments
                .map(|p| Route {
                    prefix: p.value,
                    target: RouteTarget::Sddc,
                    origin: RouteOrigin::ConnectedSddc,
                    span: p.span,
                })
                .collect();
            self.model.route_tables[main.index()].routes.extend(routes);
        }
    }
}

// ------------------------------------------------- shared with the parallel part

/// Where lowering a firewall or a route table reads names and sends its
/// findings: the lowerer itself, which reports every name that does not
/// resolve, or a read-only view for the parallel part, which gives up at the
/// first such name so that the lowerer redoes that element in order.
trait Resolver {
    fn model(&self) -> &Model;
    fn scopes(&self) -> &Scopes;
    /// The entity a reference names; `None` for an error (reported) or a
    /// broken declaration (silent).
    fn resolve(&mut self, name: &ast::Name, from: Option<SiteId>, want: Want) -> Option<Entity>;
    /// A declared service, for a name that is not a built-in one.
    fn service(&mut self, name: &ast::Name) -> Option<ServiceId>;
    /// Appends the ranges of a declared service.
    fn extend_service(&mut self, id: ServiceId, ranges: &mut Vec<ServiceRange>);
    fn report(&mut self, d: Diagnostic);
}

impl Resolver for Lowerer<'_> {
    fn model(&self) -> &Model {
        &self.model
    }

    fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    fn resolve(&mut self, name: &ast::Name, from: Option<SiteId>, want: Want) -> Option<Entity> {
        Lowerer::resolve(self, name, from, want)
    }

    fn service(&mut self, n: &ast::Name) -> Option<ServiceId> {
        match self.scopes.resolve(&n.text, n.span, None, SERVICE) {
            Ok(Resolved::Found(Entity::Service(id))) => {
                self.record_reference(n.span, Entity::Service(id));
                Some(id)
            }
            Ok(_) => None,
            Err(mut d) => {
                let suggested = d
                    .help
                    .as_deref()
                    .is_some_and(|h| h.starts_with("did you mean"));
                if d.code == Code::NP002 && !suggested {
                    if let Some(b) = services::closest_builtin(&n.text) {
                        d.help = Some(format!("did you mean `{b}`?"));
                    }
                }
                self.diags.push(*d);
                None
            }
        }
    }

    fn extend_service(&mut self, id: ServiceId, ranges: &mut Vec<ServiceRange>) {
        self.resolve_service(id);
        ranges.extend_from_slice(&self.model.services[id.index()].set.ranges);
    }

    fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}

/// The read-only view of the parallel part. `failed` is set by the first
/// name that would need a finding from resolution (NP002, NP006), and the
/// element's result is then thrown away.
struct Quiet<'m, 'a> {
    model: &'m Model,
    scopes: &'m Scopes,
    service_state: &'m [(ServiceState, Option<&'a ast::ServiceDecl>)],
    diags: Vec<Diagnostic>,
    failed: bool,
}

impl Resolver for Quiet<'_, '_> {
    fn model(&self) -> &Model {
        self.model
    }

    fn scopes(&self) -> &Scopes {
        self.scopes
    }

    fn resolve(&mut self, name: &ast::Name, from: Option<SiteId>, want: Want) -> Option<Entity> {
        match self.scopes.lookup(&name.text, from, want) {
            Some(Resolved::Found(e)) => Some(e),
            Some(Resolved::Broken) => None,
            None => {
                self.failed = true;
                None
            }
        }
    }

    fn service(&mut self, n: &ast::Name) -> Option<ServiceId> {
        match self.scopes.lookup(&n.text, None, SERVICE) {
            Some(Resolved::Found(Entity::Service(id))) => Some(id),
            Some(_) => None,
            None => {
                self.failed = true;
                None
            }
        }
    }

    fn extend_service(&mut self, id: ServiceId, ranges: &mut Vec<ServiceRange>) {
        // Services are all resolved before any firewall; one that is not
        // would need the lowerer (which reports cycles), so leave it to it.
        match self.service_state.get(id.index()) {
            Some((ServiceState::Done, _)) | Some((_, None)) => {
                ranges.extend_from_slice(&self.model.services[id.index()].set.ranges);
            }
            _ => self.failed = true,
        }
    }

    fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}

/// Below this many firewall rules and routes in all, lowering them in
/// parallel costs more than it saves.
const PARALLEL_MIN_ENTRIES: usize = 20_000;

/// A firewall's rules or a route table's routes, lowered in parallel, with
/// the findings made on the way.
enum Quick {
    Firewall(Vec<FirewallRule>, Vec<Diagnostic>),
    Routes(Vec<Route>, Vec<Diagnostic>),
}

impl<'a> Lowerer<'a> {
    /// Lowers the firewalls and route tables among `pending` (nearly all of
    /// a large design) in parallel, index by index; `None` where the
    /// sequential pass must do it. Nothing here mutates the lowerer, and the
    /// sequential pass takes each result at the element's turn, so findings
    /// come in the same order as without it.
    fn lower_in_parallel(&self, pending: &[Pending<'a>], min: usize) -> Vec<Option<Quick>> {
        let entries: usize = pending
            .iter()
            .map(|p| match p {
                Pending::Firewall(_, f) => f.rules.len(),
                Pending::RouteTable(_, rt) => rt.routes.len(),
                _ => 0,
            })
            .sum();
        // Checked before asking rayon anything: asking starts its thread pool.
        if min > 0 && (entries < min || rayon::current_num_threads() < 2) {
            return Vec::new();
        }
        use rayon::prelude::*;
        let quiet = || Quiet {
            model: &self.model,
            scopes: &self.scopes,
            service_state: &self.service_state,
            diags: Vec::new(),
            failed: false,
        };
        let heavy: Vec<usize> = (0..pending.len())
            .filter(|&i| {
                matches!(
                    pending.get(i),
                    Some(Pending::Firewall(..) | Pending::RouteTable(..))
                )
            })
            .collect();
        // One task per element: a firewall of five thousand rules is worth
        // a thread's attention on its own.
        let done: Vec<(usize, Option<Quick>)> = heavy
            .par_iter()
            .with_max_len(1)
            .map(|&i| {
                let quick = match pending.get(i) {
                    Some(Pending::Firewall(id, f)) => {
                        let mut q = quiet();
                        let site = self.model.firewalls[id.index()].site;
                        let rules = firewall_rules(&mut q, f, site);
                        (!q.failed).then_some(Quick::Firewall(rules, q.diags))
                    }
                    Some(Pending::RouteTable(id, rt)) => {
                        let mut q = quiet();
                        let site = self.model.route_tables[id.index()].site;
                        let routes = static_routes(&mut q, rt, site);
                        (!q.failed).then_some(Quick::Routes(routes, q.diags))
                    }
                    _ => None,
                };
                (i, quick)
            })
            .collect();
        let mut out: Vec<Option<Quick>> = Vec::new();
        out.resize_with(pending.len(), || None);
        for (i, quick) in done {
            if let Some(slot) = out.get_mut(i) {
                *slot = quick;
            }
        }
        out
    }
}

fn firewall_rules(
    cx: &mut impl Resolver,
    f: &ast::FirewallStmt,
    site: SiteId,
) -> Vec<FirewallRule> {
    let site_kind = cx.model().sites[site.index()].kind;
    let mut names: HashMap<&str, Span> = HashMap::new();
    let mut rules = Vec::with_capacity(f.rules.len());
    for item in &f.rules {
        let r = match item {
            ast::RuleItem::Rule(r) => r,
            ast::RuleItem::Broken(b) => {
                names.entry(b.name.text.as_str()).or_insert(b.name.span);
                continue;
            }
        };
        if let Some(&first) = names.get(r.name.text.as_str()) {
            cx.report(np003::duplicate(
                &r.name.text,
                &format!("in firewall `{}`", f.name.text),
                r.name.span,
                "",
                first,
                "",
            ));
        } else {
            names.insert(&r.name.text, r.name.span);
        }
        let from = addr_expr(cx, &r.from, Some(site));
        let to = addr_expr(cx, &r.to, Some(site));
        let services = match &r.service {
            Some(s) => service_set(cx, s),
            None => ServiceSet::any(r.span),
        };
        let applied_to = match &r.applied_to {
            Some(list) => {
                // Sized up front: collecting a filtered iterator keeps room
                // for four, on each of maybe a million rules.
                let mut uplinks = Vec::with_capacity(list.len());
                uplinks.extend(list.iter().filter_map(|n| uplink(cx, n, site, site_kind)));
                uplinks
            }
            None => vec![Spanned::new(Uplink::AllUplinks, r.span)],
        };
        rules.push(FirewallRule {
            decl: decl(&r.name, r.span),
            action: r.action.clone(),
            from,
            to,
            services,
            applied_to,
            log: r.log.is_some(),
        });
    }
    rules
}

fn uplink(
    cx: &mut impl Resolver,
    n: &ast::Name,
    site: SiteId,
    kind: SiteKind,
) -> Option<Spanned<Uplink>> {
    let keyword = match (n.text.as_str(), kind) {
        ("all-uplinks", _) => Some(Uplink::AllUplinks),
        ("internet", _) => Some(Uplink::Internet),
        ("vpc", SiteKind::Sddc) => Some(Uplink::Vpc),
        ("direct-connect", SiteKind::Sddc) => Some(Uplink::DirectConnect),
        ("vpn", SiteKind::Sddc) => Some(Uplink::Vpn),
        _ => None,
    };
    if let Some(u) = keyword {
        return Some(Spanned::new(u, n.span));
    }
    let want = if kind == SiteKind::Sddc {
        VPN
    } else {
        CONNECTION
    };
    match cx.resolve(n, Some(site), want)? {
        Entity::Connection(c) => Some(Spanned::new(Uplink::Connection(c), n.span)),
        _ => None,
    }
}

fn static_routes(cx: &mut impl Resolver, rt: &ast::RouteTableStmt, site: SiteId) -> Vec<Route> {
    let mut seen: HashMap<IpNet, Span> = HashMap::new();
    let mut routes = Vec::new();
    for item in &rt.routes {
        let ast::RouteItem::Route(r) = item else {
            continue;
        };
        if let Some(&first) = seen.get(&r.prefix.value) {
            cx.report(np003::duplicate_entry(
                format!(
                    "route table `{}` has two routes for `{}`",
                    rt.name.text, r.prefix.value
                ),
                r.prefix.span,
                "second route for this prefix",
                first,
                "first route for it",
                "a route table holds one route per destination: delete one, or change its prefix",
            ));
            continue;
        }
        seen.insert(r.prefix.value, r.prefix.span);
        if let Some(target) = route_target(cx, &r.target, site) {
            routes.push(Route {
                prefix: r.prefix.value,
                target,
                origin: RouteOrigin::Static,
                span: r.span,
            });
        }
    }
    // Routes to prefix lists come after every CIDR route: at equal prefix
    // length the CIDR route wins, and the engine breaks ties by order.
    for item in &rt.routes {
        let ast::RouteItem::List(r) = item else {
            continue;
        };
        let Some(Entity::PrefixList(l)) = cx.resolve(&r.list, Some(site), PREFIX_LIST) else {
            continue;
        };
        let Some(target) = route_target(cx, &r.target, site) else {
            continue;
        };
        let prefixes: Vec<IpNet> = cx.model().prefix_lists[l.index()]
            .prefixes
            .iter()
            .map(|p| p.value)
            .collect();
        routes.extend(prefixes.into_iter().map(|prefix| Route {
            prefix,
            target,
            origin: RouteOrigin::PrefixList(l),
            span: r.span,
        }));
    }
    routes
}

fn route_target(cx: &mut impl Resolver, n: &ast::Name, site: SiteId) -> Option<RouteTarget> {
    let fits = |s: &Scopes| {
        s.get(ScopeId::Site(site), &n.text)
            .is_some_and(|sym| (ROUTE_TARGET.ok)(sym.kind))
    };
    match n.text.as_str() {
        "local" if !fits(cx.scopes()) => return Some(RouteTarget::Local),
        "sddc" if !fits(cx.scopes()) => return Some(RouteTarget::Sddc),
        // A route in AWS's `blackhole` state: its target is gone, and it
        // drops what it matches (docs/forwarding.md, "VPC router").
        "blackhole" if !fits(cx.scopes()) => return Some(RouteTarget::Blackhole),
        _ => {}
    }
    Some(match cx.resolve(n, Some(site), ROUTE_TARGET)? {
        Entity::Gateway(g) => RouteTarget::Gateway(g),
        Entity::Host(h) => RouteTarget::Host(h),
        Entity::Connection(c) => RouteTarget::Connection(c),
        Entity::Endpoint(e) => RouteTarget::Endpoint(e),
        _ => return None,
    })
}

fn addr_expr(cx: &mut impl Resolver, e: &ast::AddrExpr, from: Option<SiteId>) -> AddrExpr {
    let mut terms = Vec::with_capacity(e.items.len());
    for item in &e.items {
        let term = match item {
            ast::AddrItem::Any(_) => Some(AddrTerm::Any),
            ast::AddrItem::Internet(_) => Some(AddrTerm::Internet),
            ast::AddrItem::Addr(a) => Some(AddrTerm::Net(IpNet::from(a.value))),
            ast::AddrItem::Prefix(p) => Some(AddrTerm::Net(p.value)),
            ast::AddrItem::Range { lo, hi, .. } => Some(AddrTerm::Range(*lo, *hi)),
            // A prefix list stands for its prefixes, as AWS expands it
            // wherever it is referenced.
            ast::AddrItem::Name(n) => match cx.resolve(n, from, ADDRESS) {
                Some(Entity::PrefixList(l)) => {
                    let span = item.span();
                    terms.extend(
                        cx.model().prefix_lists[l.index()]
                            .prefixes
                            .iter()
                            .map(|p| Spanned::new(AddrTerm::Net(p.value), span)),
                    );
                    None
                }
                e => e.map(AddrTerm::Entity),
            },
            ast::AddrItem::Sg(n, _) => match cx.resolve(n, from, SECURITY_GROUP) {
                Some(Entity::SecurityGroup(sg)) => Some(AddrTerm::Sg(sg)),
                _ => None,
            },
        };
        if let Some(t) = term {
            terms.push(Spanned::new(t, item.span()));
        }
    }
    AddrExpr {
        terms,
        span: e.span,
    }
}

fn service_set(cx: &mut impl Resolver, e: &ast::ServiceExpr) -> ServiceSet {
    let mut ranges = Vec::new();
    for item in &e.items {
        match item {
            ast::ServiceItem::Any(_) => ranges.push(ServiceRange::ANY),
            ast::ServiceItem::Proto(p) => ranges.push(ServiceRange::proto(p.value.number())),
            ast::ServiceItem::Ports { proto, lo, hi, .. } => {
                ranges.push(ServiceRange::ports(proto.number(), *lo, *hi))
            }
            ast::ServiceItem::Named(n) => {
                if let Some(b) = services::builtin(&n.text) {
                    ranges.extend_from_slice(b);
                } else if let Some(id) = cx.service(n) {
                    cx.extend_service(id, &mut ranges);
                }
            }
        }
    }
    ranges.sort();
    ranges.dedup();
    // Kept for the model's lifetime, one per rule: no spare room.
    ranges.shrink_to_fit();
    ServiceSet {
        ranges,
        span: e.span,
    }
}

fn allow_all_outbound(span: Span) -> SgRule {
    let all = |p: &str| Spanned::new(AddrTerm::Net(p.parse().unwrap_or_default()), span);
    SgRule {
        services: ServiceSet::any(span),
        peers: AddrExpr {
            terms: vec![all("0.0.0.0/0"), all("::/0")],
            span,
        },
        span,
        implicit: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lowering firewalls and route tables in parallel gives the model and
    /// findings of a sequential lowering, also when names do not resolve
    /// (the parallel part leaves those elements to the sequential pass,
    /// whose suggestion budget must be spent in the same order).
    #[test]
    fn parallel_lowering_is_sequential_lowering() {
        let text = crate::gen::generate_workload(&crate::gen::Workload::W1);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut texts = vec![text.clone()];
        // Deleting declarations leaves rules and routes naming nothing.
        for cut in (0..lines.len()).step_by(lines.len() / 30) {
            let mut t = String::new();
            for (i, line) in lines.iter().enumerate() {
                if i != cut && i != cut + 1 {
                    t.push_str(line);
                }
            }
            texts.push(t);
        }
        // Names that do not resolve in rules and routes, up to more than
        // the suggestion budget, so its order matters.
        texts.push(text.replacen("-> igw\n", "-> igwx\n", 20));
        texts.push(text.replace("-> igw\n", "-> igwx\n"));
        texts.push(text.replacen("to any", "to anyx", 50));
        texts.push(text.replacen("service [tcp/", "service [HTTPZ, tcp/", 30));
        texts.push(text.replacen("applied-to vpc", "applied-to vpcx", 20));
        texts.push(
            text.replacen("to any", "to anyx", 300)
                .replacen("-> igw\n", "-> igwx\n", 300),
        );
        let mut failing = 0;
        for t in &texts {
            let tree = crate::syntax::parse(t).tree;
            let one = lower_with(&tree, None, false).0;
            let par = lower_with(&tree, Some(0), false).0;
            assert_eq!(format!("{:?}", one.model), format!("{:?}", par.model));
            assert_eq!(one.diagnostics, par.diagnostics);
            failing += usize::from(!one.diagnostics.is_empty());
        }
        assert!(failing >= 6, "only {failing} texts with findings");
    }
}
