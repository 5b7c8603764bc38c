//! Sites and the statements of site blocks.

use super::{Failed, PResult, Parser};
use crate::rules::np001_syntax_error::syntax_error;
use crate::span::{Span, Spanned};
use crate::syntax::ast::*;
use crate::syntax::keywords::{suggest, Block};
use crate::syntax::lexer::{Token, TokenKind};

impl<'t> Parser<'t> {
    /// `sddc NAME [PREFIX, ...] { ... }`, `vpc NAME PREFIX, ... { ... }`,
    /// `onprem NAME PREFIX, ... { ... }`, `vmnetwork NAME { ... }`,
    /// `internet { ... }`.
    pub(super) fn site(&mut self, kw: Token, kind: SiteKind) -> Option<Item> {
        let (noun, form) = match kind {
            SiteKind::Sddc => ("sddc", "sddc NAME [PREFIX, ...] { ... }"),
            SiteKind::Vpc => ("vpc", "vpc NAME PREFIX[, PREFIX ...] { ... }"),
            SiteKind::Onprem => ("onprem", "onprem NAME PREFIX[, PREFIX ...] { ... }"),
            SiteKind::VmNetwork => ("vmnetwork", "vmnetwork NAME { ... }"),
            SiteKind::Internet => ("internet", "internet { host NAME ADDRESS ... }"),
        };
        self.begin(noun, form);
        let indent = self.line_indent(self.pos.saturating_sub(1));
        let name = match kind {
            SiteKind::Internet => None,
            _ => Some(self.decl_name("the {}'s name after `{}`")?),
        };
        let mut prefixes = Vec::new();
        let header = match kind {
            SiteKind::Vpc | SiteKind::Onprem => self.site_prefixes(&mut prefixes),
            SiteKind::Sddc if matches!(self.kind(), TokenKind::Atom | TokenKind::LBracket) => {
                self.site_prefixes(&mut prefixes)
            }
            _ => Ok(()),
        };
        let header_span = self.span_from(kw.span);
        let after = match kind {
            SiteKind::Internet => "after `internet` (the internet block has no name)",
            SiteKind::VmNetwork => "after the vmnetwork's name",
            SiteKind::Sddc if prefixes.is_empty() => "after the sddc's name or prefixes",
            _ => "after the {}'s prefixes",
        };
        let opening = header.and_then(|()| self.open_block(Block::Site(kind), after));
        let opening = match opening {
            Ok(o) => o,
            Err(Failed) => match self.open_after_error() {
                Some(o) => o,
                None => {
                    self.recover();
                    let span = self.span_from(kw.span);
                    return name.map(|name| {
                        Item::Broken(Broken {
                            kind: DeclKind::Site(kind),
                            name,
                            span,
                        })
                    });
                }
            },
        };
        let body = self.block_body(Block::Site(kind), Block::Top, opening, indent, |p, t| {
            p.site_stmt(kind, t)
        });
        Some(Item::Site(Site {
            kind,
            name,
            prefixes,
            body,
            header_span,
            span: self.span_from(kw.span),
        }))
    }

    /// A site header's prefixes. Invalid ones are reported and dropped: the
    /// site itself stays whole, so its body is still parsed and declared.
    fn site_prefixes(&mut self, out: &mut Vec<Spanned<ipnet::IpNet>>) -> PResult<()> {
        let prefixes = self.seq("a prefix", "the {}'s prefix after its name", |p, what| {
            p.prefix_opt(what)
        })?;
        out.extend(prefixes);
        Ok(())
    }

    /// A statement of a site block; the keyword is already consumed and is
    /// one the site accepts.
    fn site_stmt(&mut self, site: SiteKind, kw: Token) -> Option<Stmt> {
        match self.text_of(kw) {
            "management" => self.management(),
            "segment" => self.segment(kw),
            "subnet" => self.subnet(kw, site),
            "vm" => self.host(kw, HostKeyword::Vm, site),
            "instance" => self.host(kw, HostKeyword::Instance, site),
            "host" => self.host(kw, HostKeyword::Host, site),
            "appliance" => self.appliance(kw),
            "group" => self.group(kw),
            "public-ip" => self.public_ip(kw),
            "elastic-ip" => self.elastic_ip(kw),
            "default-snat" => self.default_snat(kw),
            "nat" => self.nat(kw, site),
            "connected-vpc" => self.connected_vpc(kw),
            "firewall" => self.firewall(kw, site),
            "internet-gateway" => self.internet_gateway(kw),
            "egress-only-internet-gateway" => self.egress_only_internet_gateway(kw),
            "route-table" => self.route_table(kw),
            "nat-gateway" => self.nat_gateway(kw),
            "security-group" => self.security_group(kw),
            "network-acl" => self.network_acl(kw),
            "nlb" => self.nlb(kw),
            "endpoint-service" => self.endpoint_service(kw),
            "endpoint" => self.endpoint(kw),
            "gateway" => self.vnet_gateway(kw),
            "gateway-endpoint" => self.gateway_endpoint(kw),
            "internet-egress" => self.internet_egress(kw),
            "description" => self.description(kw),
            _ => None,
        }
    }

    /// `management PREFIX`
    fn management(&mut self) -> Option<Stmt> {
        self.begin("management", "management PREFIX");
        let r = (|| -> PResult<_> {
            let p = self.prefix("the management prefix after `management`")?;
            self.end("the management prefix")?;
            Ok(p)
        })();
        self.finish_plain(r).map(Stmt::Management)
    }

    /// `segment NAME PREFIX`
    fn segment(&mut self, kw: Token) -> Option<Stmt> {
        self.begin("segment", "segment NAME PREFIX");
        let name = self.decl_name("the segment's name after `segment`")?;
        let r = (|| -> PResult<_> {
            let prefix = self.prefix("the segment's prefix after its name")?;
            self.end("the segment's prefix")?;
            Ok(prefix)
        })();
        Some(self.finish(
            kw.span,
            DeclKind::Segment,
            name,
            r,
            |name, prefix, span| Stmt::Segment(SegmentStmt { name, prefix, span }),
            Stmt::Broken,
        ))
    }

    /// `subnet NAME PREFIX [route-table RT] [acl ACL]` in a vpc,
    /// `subnet NAME PREFIX` in a vmnetwork.
    fn subnet(&mut self, kw: Token, site: SiteKind) -> Option<Stmt> {
        let vpc = site == SiteKind::Vpc;
        let form = if vpc {
            "subnet NAME PREFIX[, PREFIX] [route-table RT] [acl ACL] [az ZONE]"
        } else {
            "subnet NAME PREFIX"
        };
        self.begin("subnet", form);
        let name = self.decl_name("the subnet's name after `subnet`")?;
        let r = (|| -> PResult<_> {
            let prefix = self.prefix("the subnet's prefix after its name")?;
            let dual = if vpc && self.kind() == TokenKind::Comma {
                self.bump();
                let t = self.peek();
                let second = self.prefix("the subnet's second prefix after `,`")?;
                self.one_per_family(
                    t,
                    prefix.value.addr(),
                    second.value.addr(),
                    "subnet",
                    "prefix",
                )?;
                Some(second)
            } else {
                None
            };
            let (mut route_table, mut acl, mut az) = (None, None, None);
            let (mut rt_seen, mut acl_seen, mut az_seen) = (None, None, None);
            if !vpc {
                self.end("the subnet's prefix")?;
            }
            while let Some(word) = self.clause_word() {
                let t = self.peek();
                match word {
                    "route-table" => {
                        self.once(&mut rt_seen, t)?;
                        self.bump();
                        route_table =
                            Some(self.name("the route table's name after `route-table`")?);
                    }
                    "acl" => {
                        self.once(&mut acl_seen, t)?;
                        self.bump();
                        acl = Some(self.name("the network ACL's name after `acl`")?);
                    }
                    "az" => {
                        self.once(&mut az_seen, t)?;
                        self.bump();
                        az = Some(self.name("the availability zone after `az`")?);
                    }
                    _ => return Err(self.clause_error(&["route-table", "acl", "az"])),
                }
            }
            Ok((prefix, dual, route_table, acl, az))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::Subnet,
            name,
            r,
            |name, (prefix, dual, route_table, acl, az), span| {
                Stmt::Subnet(SubnetStmt {
                    name,
                    prefix,
                    dual,
                    route_table,
                    acl,
                    az,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `vm`, `instance` and `host` statements.
    fn host(&mut self, kw: Token, keyword: HostKeyword, site: SiteKind) -> Option<Stmt> {
        let (noun, form, kind, clauses): (_, _, _, &[&str]) = match (keyword, site) {
            (HostKeyword::Vm, SiteKind::VmNetwork) => (
                "vm",
                "vm NAME ADDRESS in SUBNET [host HYPERV-HOST]",
                DeclKind::Vm,
                &["host"],
            ),
            (HostKeyword::Vm, _) => ("vm", "vm NAME ADDRESS in SEGMENT", DeclKind::Vm, &[]),
            (HostKeyword::Instance, _) => (
                "instance",
                "instance NAME ADDRESS in SUBNET [sg [SG, ...]] [public-ip ADDRESS | elastic-ip ADDRESS] \
                 [source-dest-check off]",
                DeclKind::Instance,
                &["sg", "public-ip", "elastic-ip", "source-dest-check"],
            ),
            (HostKeyword::Host, SiteKind::Internet) => ("host", "host NAME ADDRESS", DeclKind::Host, &[]),
            (HostKeyword::Host, _) => ("host", "host NAME ADDRESS in SEGMENT", DeclKind::Host, &[]),
            // Appliances are parsed by `appliance`, never here.
            (HostKeyword::Appliance(_), _) => {
                ("appliance", "appliance KIND NAME ADDRESS", DeclKind::Appliance, &[])
            }
        };
        self.begin(noun, form);
        let name = self.decl_name("the {}'s name after `{}`")?;
        let r = (|| -> PResult<_> {
            let addr = self.addr("the {}'s address after its name")?;
            let dual = if keyword == HostKeyword::Instance && self.kind() == TokenKind::Comma {
                self.bump();
                let t = self.peek();
                let second = self.addr("the instance's second address after `,`")?;
                self.one_per_family(t, addr.value, second.value, "instance", "address")?;
                Some(second)
            } else {
                None
            };
            let subnet = if site == SiteKind::Internet {
                if self.at_word("in") {
                    let t = self.peek();
                    return Err(self.syntax_at(
                        t,
                        "an internet host is in no segment".into(),
                        "`in` is not allowed here",
                        Some("the internet block names hosts only: `host NAME ADDRESS`".into()),
                    ));
                }
                self.end("the host's address")?;
                None
            } else {
                self.expect_word("in", "after the {}'s address")?;
                let what = match keyword {
                    HostKeyword::Instance => "the instance's subnet after `in`",
                    _ if site == SiteKind::VmNetwork => "the vm's subnet after `in`",
                    _ => "the {}'s segment after `in`",
                };
                Some(self.name(what)?)
            };
            let mut sgs = None;
            let mut public = None;
            let mut sdc_off = None;
            let mut hyperv_host = None;
            let (mut sg_seen, mut sdc_seen, mut host_seen) = (None, None, None);
            let mut public_seen: Option<crate::span::Span> = None;
            while let Some(word) = self.clause_word() {
                let t = self.peek();
                if !clauses.contains(&word) {
                    if clauses.is_empty() {
                        return Err(self.end_err(if site == SiteKind::Internet {
                            "the host's address"
                        } else {
                            "the {}'s segment"
                        }));
                    }
                    return Err(self.clause_error(clauses));
                }
                match word {
                    "sg" => {
                        self.once(&mut sg_seen, t)?;
                        self.bump();
                        sgs = Some(self.name_set("the security groups after `sg`")?);
                    }
                    "public-ip" | "elastic-ip" => {
                        if let Some(first) = public_seen {
                            if self.text_of(t) != first.slice(self.text) {
                                let d = syntax_error(
                                    t.span,
                                    "`public-ip` and `elastic-ip` exclude each other".to_string(),
                                    "second public address",
                                    Some("an instance has at most one public address".into()),
                                )
                                .with_label(first, "first public address");
                                self.diags.push(d);
                                return Err(Failed);
                            }
                        }
                        self.once(&mut public_seen, t)?;
                        self.bump();
                        let kind = if word == "public-ip" {
                            PublicAddrKind::Public
                        } else {
                            PublicAddrKind::Elastic
                        };
                        let addr = self.addr(if word == "public-ip" {
                            "the public address after `public-ip`"
                        } else {
                            "the Elastic IP address after `elastic-ip`"
                        })?;
                        public = Some(PublicAddrClause {
                            kind,
                            addr,
                            span: self.span_from(t.span),
                        });
                    }
                    "source-dest-check" => {
                        self.once(&mut sdc_seen, t)?;
                        self.bump();
                        if !self.at_word("off") {
                            let found = self.peek();
                            let message = format!(
                                "expected `off` after `source-dest-check`, found {}",
                                self.found(found)
                            );
                            return Err(self.syntax_at(
                                found,
                                message,
                                "expected `off` here",
                                Some("the check is on by default; only `source-dest-check off` changes it".into()),
                            ));
                        }
                        self.bump();
                        sdc_off = Some(self.span_from(t.span));
                    }
                    _ => {
                        self.once(&mut host_seen, t)?;
                        self.bump();
                        hyperv_host = Some(self.name("the Hyper-V host's name after `host`")?);
                    }
                }
            }
            Ok((addr, dual, subnet, sgs, public, sdc_off, hyperv_host))
        })();
        Some(self.finish(
            kw.span,
            kind,
            name,
            r,
            |name, (addr, dual, subnet, sgs, public, source_dest_check_off, hyperv_host), span| {
                Stmt::Host(HostStmt {
                    keyword,
                    name,
                    addr,
                    dual,
                    subnet,
                    sgs,
                    public,
                    source_dest_check_off,
                    hyperv_host,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `appliance KIND NAME ADDRESS`: a management appliance of an sddc,
    /// in its management network (no segment).
    fn appliance(&mut self, kw: Token) -> Option<Stmt> {
        const FORM: &str = "appliance vcenter|esxi|nsx-manager|hcx NAME ADDRESS";
        self.begin("appliance", FORM);
        let t = self.peek();
        let kind = match ApplianceKind::from_keyword(self.text_of(t)) {
            Some(k) if t.kind == TokenKind::Atom => {
                self.bump();
                k
            }
            _ => {
                let message = format!(
                    "expected the appliance's kind after `appliance`, found {}",
                    self.found(t)
                );
                let _ = self.syntax_at(
                    t,
                    message,
                    "expected `vcenter`, `esxi`, `nsx-manager` or `hcx` here",
                    Some(format!("the form is `{FORM}`")),
                );
                self.recover();
                return None;
            }
        };
        let name = self.decl_name("the appliance's name after its kind")?;
        let r = (|| -> PResult<_> {
            let addr = self.addr("the appliance's address after its name")?;
            self.end("the appliance's address")?;
            Ok(addr)
        })();
        Some(self.finish(
            kw.span,
            DeclKind::Appliance,
            name,
            r,
            |name, addr, span| {
                Stmt::Host(HostStmt {
                    keyword: HostKeyword::Appliance(kind),
                    name,
                    addr,
                    dual: None,
                    subnet: None,
                    sgs: None,
                    public: None,
                    source_dest_check_off: None,
                    hyperv_host: None,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `group NAME [MEMBER, ...]`
    fn group(&mut self, kw: Token) -> Option<Stmt> {
        self.begin("group", "group NAME [MEMBER, ...]");
        let name = self.decl_name("the group's name after `group`")?;
        let r = (|| -> PResult<_> {
            let members = self.addr_expr("the group's members after its name", false)?;
            self.end("the group's members")?;
            Ok(members)
        })();
        Some(self.finish(
            kw.span,
            DeclKind::Group,
            name,
            r,
            |name, members, span| {
                Stmt::Group(GroupStmt {
                    name,
                    members,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `public-ip NAME ADDRESS`
    fn public_ip(&mut self, kw: Token) -> Option<Stmt> {
        self.begin("public-ip", "public-ip NAME ADDRESS");
        let name = self.decl_name("the public IP's name after `public-ip`")?;
        let r = (|| -> PResult<_> {
            let addr = self.addr("the public IP's address after its name")?;
            self.end("the public IP's address")?;
            Ok(addr)
        })();
        Some(self.finish(
            kw.span,
            DeclKind::PublicIp,
            name,
            r,
            |name, addr, span| Stmt::PublicIp(PublicIpStmt { name, addr, span }),
            Stmt::Broken,
        ))
    }

    /// `elastic-ip NAME ADDRESS [-> INSTANCE | NAT-GATEWAY]`
    fn elastic_ip(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "elastic-ip",
            "elastic-ip NAME ADDRESS [-> INSTANCE | NAT-GATEWAY]",
        );
        let name = self.decl_name("the Elastic IP's name after `elastic-ip`")?;
        let r = (|| -> PResult<_> {
            let addr = self.addr("the Elastic IP's address after its name")?;
            let mut target = None;
            if self.kind() == TokenKind::Arrow {
                self.bump();
                target = Some(self.name("the instance or NAT gateway after `->`")?);
            }
            self.end(if target.is_some() {
                "the Elastic IP's target"
            } else {
                "the Elastic IP's address"
            })?;
            Ok((addr, target))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::ElasticIp,
            name,
            r,
            |name, (addr, target), span| {
                Stmt::ElasticIp(ElasticIpStmt {
                    name,
                    addr,
                    target,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `default-snat ADDRESS | off`
    fn default_snat(&mut self, kw: Token) -> Option<Stmt> {
        self.begin("default-snat", "default-snat ADDRESS | off");
        let r = (|| -> PResult<_> {
            let value = if self.at_word("off") {
                DefaultSnatValue::Off(self.bump().span)
            } else {
                DefaultSnatValue::Addr(self.addr("an address or `off` after `default-snat`")?)
            };
            self.end("the default SNAT address")?;
            Ok(value)
        })();
        let value = self.finish_plain(r)?;
        Some(Stmt::DefaultSnat(DefaultSnatStmt {
            value,
            span: self.span_from(kw.span),
        }))
    }

    /// `nat dnat|snat|reflexive|no-snat NAME ...`; only `nat dnat` outside
    /// an sddc.
    fn nat(&mut self, kw: Token, site: SiteKind) -> Option<Stmt> {
        let sddc = site == SiteKind::Sddc;
        self.begin(
            "nat",
            if sddc {
                "nat dnat|snat|reflexive|no-snat NAME ..."
            } else {
                "nat dnat NAME EXTERNAL -> INTERNAL [service SVC]"
            },
        );
        let kinds = [
            ("dnat", NatKind::Dnat),
            ("snat", NatKind::Snat),
            ("reflexive", NatKind::Reflexive),
            ("no-snat", NatKind::NoSnat),
        ];
        let t = self.peek();
        let word = self.text_of(t);
        if !sddc && t.kind == TokenKind::Atom && matches!(word, "snat" | "reflexive" | "no-snat") {
            // A kind that exists in an sddc but not here: say so, and still
            // declare the rule's name.
            let help = if site == SiteKind::Onprem && word == "snat" {
                "an onprem site publishes with `nat dnat`; its own internet breakout is `internet-egress snat ADDRESS`"
            } else {
                "only an sddc has `snat`, `reflexive` and `no-snat` rules"
            };
            let message = format!(
                "`nat {word}` is not available in {}",
                Block::Site(site).noun()
            );
            self.syntax_at(t, message, "only `nat dnat` here", Some(help.into()));
            self.bump();
            let name = self.decl_name("the NAT rule's name")?;
            self.recover();
            return Some(Stmt::Broken(Broken {
                kind: DeclKind::NatRule,
                name,
                span: self.span_from(kw.span),
            }));
        }
        let kind = match self.choice(if sddc { &kinds } else { &kinds[..1] }, "after `nat`") {
            Ok(k) => k,
            Err(Failed) => {
                self.recover();
                return None;
            }
        };
        self.form = match (kind.value, sddc) {
            (NatKind::Dnat, true) => {
                "nat dnat NAME EXTERNAL -> INTERNAL [service SVC [-> PORT]] [firewall-match internal|external|bypass]"
            }
            (NatKind::Dnat, false) => "nat dnat NAME EXTERNAL -> INTERNAL [service SVC]",
            (NatKind::Snat, _) => "nat snat NAME INTERNAL -> EXTERNAL [firewall-match internal|external|bypass]",
            (NatKind::Reflexive, _) => "nat reflexive NAME INTERNAL <-> EXTERNAL",
            (NatKind::NoSnat, _) => "nat no-snat NAME INTERNAL",
        };
        let name = self.decl_name("the NAT rule's name after its kind")?;
        let r = (|| -> PResult<_> {
            let internal;
            let mut external = None;
            match kind.value {
                NatKind::Dnat => {
                    external =
                        Some(self.addr_expr("the external address after the rule's name", false)?);
                    self.expect_token(TokenKind::Arrow, "`->`", "after the external address")?;
                    internal = self.addr_expr("the internal address after `->`", false)?;
                }
                NatKind::Snat => {
                    internal =
                        self.addr_expr("the internal address after the rule's name", false)?;
                    self.expect_token(TokenKind::Arrow, "`->`", "after the internal address")?;
                    external = Some(self.addr_expr("the external address after `->`", false)?);
                }
                NatKind::Reflexive => {
                    internal =
                        self.addr_expr("the internal address after the rule's name", false)?;
                    self.expect_token(TokenKind::BiArrow, "`<->`", "after the internal address")?;
                    external = Some(self.addr_expr("the external address after `<->`", false)?);
                }
                NatKind::NoSnat => {
                    internal =
                        self.addr_expr("the internal address after the rule's name", false)?;
                }
            }
            let clauses: &[&str] = match (kind.value, sddc) {
                (NatKind::Dnat, true) => &["service", "firewall-match"],
                (NatKind::Dnat, false) => &["service"],
                (NatKind::Snat, _) => &["firewall-match"],
                _ => &[],
            };
            let (mut service, mut port, mut fw_match) = (None, None, None);
            let (mut service_seen, mut match_seen) = (None, None);
            while let Some(word) = self.clause_word() {
                let t = self.peek();
                if !clauses.contains(&word) {
                    if clauses.is_empty() {
                        return Err(self.end_err("the internal address"));
                    }
                    return Err(self.clause_error(clauses));
                }
                if word == "service" {
                    self.once(&mut service_seen, t)?;
                    self.bump();
                    service = Some(self.service_single("the service after `service`")?);
                    if self.kind() == TokenKind::Arrow && sddc {
                        self.bump();
                        let p = self.number(
                            "the translated port after `->`",
                            0,
                            65535,
                            "port",
                            "ports are 0-65535",
                        )?;
                        port = Some(Spanned::new(p.value as u16, p.span));
                    }
                } else {
                    self.once(&mut match_seen, t)?;
                    self.bump();
                    fw_match = Some(self.choice(
                        &[
                            ("internal", FirewallMatch::Internal),
                            ("external", FirewallMatch::External),
                            ("bypass", FirewallMatch::Bypass),
                        ],
                        "after `firewall-match`",
                    )?);
                }
            }
            Ok((internal, external, service, port, fw_match))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::NatRule,
            name,
            r,
            |name, (internal, external, service, translated_port, firewall_match), span| {
                Stmt::Nat(NatStmt {
                    kind,
                    name,
                    internal,
                    external,
                    service,
                    translated_port,
                    firewall_match,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `connected-vpc VPC [subnet SUBNET]`
    fn connected_vpc(&mut self, kw: Token) -> Option<Stmt> {
        self.begin("connected-vpc", "connected-vpc VPC [subnet SUBNET]");
        let r = (|| -> PResult<_> {
            let vpc = self.name("the vpc's name after `connected-vpc`")?;
            let mut subnet = None;
            let mut seen = None;
            while let Some(word) = self.clause_word() {
                let t = self.peek();
                if word != "subnet" {
                    return Err(self.clause_error(&["subnet"]));
                }
                self.once(&mut seen, t)?;
                self.bump();
                subnet = Some(self.name("the subnet's name after `subnet`")?);
            }
            Ok((vpc, subnet))
        })();
        let (vpc, subnet) = self.finish_plain(r)?;
        Some(Stmt::ConnectedVpc(ConnectedVpcStmt {
            vpc,
            subnet,
            span: self.span_from(kw.span),
        }))
    }

    /// `firewall NAME { rule ... }`; in an sddc the name is `cgw` or `mgw`.
    fn firewall(&mut self, kw: Token, site: SiteKind) -> Option<Stmt> {
        self.begin("firewall", "firewall NAME { rule ... }");
        let indent = self.line_indent(self.pos.saturating_sub(1));
        let name = self.decl_name("the firewall's name after `firewall`")?;
        if site == SiteKind::Sddc && !matches!(name.text.as_str(), "cgw" | "mgw") {
            // Reported, but the firewall is kept: its rules are likely fine.
            let hint = suggest(&name.text, &["cgw", "mgw"])
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            self.diags.push(syntax_error(
                name.span,
                format!("an sddc has no firewall `{}`", super::shorten(&name.text)),
                "expected `cgw` or `mgw`",
                Some(format!(
                    "{hint}an sddc has two gateway firewalls: `cgw` (compute) and `mgw` (management)"
                )),
            ));
        }
        let block = self.open_block(Block::Firewall, "after the firewall's name");
        let Some(opening) = block.ok().or_else(|| self.open_after_error()) else {
            return Some(self.broken_block_stmt(kw, DeclKind::Firewall, name));
        };
        let rules = self.block_body(
            Block::Firewall,
            Block::Site(site),
            opening,
            indent,
            |p, t| p.rule(t),
        );
        Some(Stmt::Firewall(FirewallStmt {
            name,
            rules,
            span: self.span_from(kw.span),
        }))
    }

    /// A block statement whose header failed with no `{` on the line.
    fn broken_block_stmt(&mut self, kw: Token, kind: DeclKind, name: Name) -> Stmt {
        self.recover();
        Stmt::Broken(Broken {
            kind,
            name,
            span: self.span_from(kw.span),
        })
    }

    /// A dual-stack element's second prefix or address (at `t`) must be of
    /// the other family than its first, and there is no third.
    fn one_per_family(
        &mut self,
        t: Token,
        first: std::net::IpAddr,
        second: std::net::IpAddr,
        noun: &str,
        what: &str,
    ) -> PResult<()> {
        if first.is_ipv4() == second.is_ipv4() {
            let family = if first.is_ipv4() { "IPv4" } else { "IPv6" };
            return Err(self.syntax_at(
                t,
                format!("a dual-stack {noun} has one {what} of each family: this is a second {family} {what}"),
                format!("second {family} {what}"),
                Some(format!(
                    "write one IPv4 and one IPv6 {what}: `{noun} NAME {}`",
                    if what == "prefix" {
                        "10.0.1.0/24, 2600:1f18:1:100::/64"
                    } else {
                        "10.0.1.10, 2600:1f18:1:100::10 in SUBNET"
                    }
                )),
            ));
        }
        if self.kind() == TokenKind::Comma {
            let extra = self.peek();
            return Err(self.syntax_at(
                extra,
                format!("a dual-stack {noun} has at most two {what}es, one of each family"),
                "third one",
                None,
            ));
        }
        Ok(())
    }

    /// `internet-gateway NAME`
    fn internet_gateway(&mut self, kw: Token) -> Option<Stmt> {
        self.begin("internet-gateway", "internet-gateway NAME");
        let name = self.decl_name("the internet gateway's name after `internet-gateway`")?;
        let r = self.end("the internet gateway's name");
        Some(self.finish(
            kw.span,
            DeclKind::InternetGateway,
            name,
            r,
            |name, (), span| Stmt::InternetGateway(name, span),
            Stmt::Broken,
        ))
    }

    /// `egress-only-internet-gateway NAME`
    fn egress_only_internet_gateway(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "egress-only-internet-gateway",
            "egress-only-internet-gateway NAME",
        );
        let name = self.decl_name(
            "the egress-only internet gateway's name after `egress-only-internet-gateway`",
        )?;
        let r = self.end("the egress-only internet gateway's name");
        Some(self.finish(
            kw.span,
            DeclKind::EgressOnlyInternetGateway,
            name,
            r,
            |name, (), span| Stmt::EgressOnlyInternetGateway(name, span),
            Stmt::Broken,
        ))
    }

    /// `route-table NAME [main] { route PREFIX -> TARGET ... }`
    fn route_table(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "route-table",
            "route-table NAME [main] { route PREFIX -> TARGET ... }",
        );
        let indent = self.line_indent(self.pos.saturating_sub(1));
        let name = self.decl_name("the route table's name after `route-table`")?;
        let main = self.at_word("main").then(|| self.bump().span);
        let after = if main.is_some() {
            "after `main`"
        } else {
            "or `main` after the route table's name"
        };
        let block = self.open_block(Block::RouteTable, after);
        let Some(opening) = block.ok().or_else(|| self.open_after_error()) else {
            return Some(self.broken_block_stmt(kw, DeclKind::RouteTable, name));
        };
        let routes = self.block_body(
            Block::RouteTable,
            Block::Site(SiteKind::Vpc),
            opening,
            indent,
            |p, t| Some(p.route_item(t)),
        );
        Some(Stmt::RouteTable(RouteTableStmt {
            name,
            main,
            routes,
            span: self.span_from(kw.span),
        }))
    }

    /// `nat-gateway NAME in SUBNET (elastic-ip ADDRESS | private) [ip ADDRESS]`;
    /// the kind and `ip` may come in either order.
    fn nat_gateway(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "nat-gateway",
            "nat-gateway NAME in SUBNET (elastic-ip ADDRESS | private) [ip ADDRESS]",
        );
        let name = self.decl_name("the NAT gateway's name after `nat-gateway`")?;
        let r = (|| -> PResult<_> {
            self.expect_word("in", "after the NAT gateway's name")?;
            let subnet = self.name("the NAT gateway's subnet after `in`")?;
            let (mut kind, mut addr, mut ip_seen) = (None, None, None);
            loop {
                let t = self.peek();
                match self.clause_word() {
                    Some("ip") => {
                        self.once(&mut ip_seen, t)?;
                        self.bump();
                        addr = Some(self.addr("the NAT gateway's private address after `ip`")?);
                    }
                    Some(w @ ("private" | "elastic-ip")) => {
                        kind = Some(self.nat_gateway_kind(w, t, kind.as_ref())?);
                    }
                    Some(_) if kind.is_some() => return Err(self.clause_error(&["ip"])),
                    _ => break,
                }
            }
            let Some((kind, _)) = kind else {
                return Err(self.expected(
                    "`elastic-ip ADDRESS` or `private` after the NAT gateway's subnet",
                    "expected `elastic-ip` or `private` here",
                ));
            };
            Ok((subnet, kind, addr))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::NatGateway,
            name,
            r,
            |name, (subnet, kind, addr), span| {
                Stmt::NatGateway(NatGatewayStmt {
                    name,
                    subnet,
                    kind,
                    addr,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// A NAT gateway's kind, `private` or `elastic-ip ADDRESS`, starting at
    /// token `t` (the word `word`); `first` is the kind already given, if
    /// any, which makes this one an error. Returns the kind and where its
    /// keyword is.
    fn nat_gateway_kind(
        &mut self,
        word: &str,
        t: Token,
        first: Option<&(NatGatewayKind, Span)>,
    ) -> PResult<(NatGatewayKind, Span)> {
        if let Some((_, first)) = first {
            let d = syntax_error(
                t.span,
                format!("`{word}` after the NAT gateway's kind was given"),
                "second kind",
                Some("a NAT gateway is either public (`elastic-ip ADDRESS`) or `private`".into()),
            )
            .with_label(*first, "first kind");
            self.diags.push(d);
            return Err(Failed);
        }
        self.bump();
        let kind = if word == "private" {
            NatGatewayKind::Private(t.span)
        } else {
            NatGatewayKind::Public(self.addr("the Elastic IP address after `elastic-ip`")?)
        };
        Ok((kind, t.span))
    }

    /// `security-group NAME { inbound ... outbound ... }`
    fn security_group(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "security-group",
            "security-group NAME { inbound SVCS from SOURCES ... }",
        );
        let indent = self.line_indent(self.pos.saturating_sub(1));
        let name = self.decl_name("the security group's name after `security-group`")?;
        let block = self.open_block(Block::SecurityGroup, "after the security group's name");
        let Some(opening) = block.ok().or_else(|| self.open_after_error()) else {
            return Some(self.broken_block_stmt(kw, DeclKind::SecurityGroup, name));
        };
        let rules = self.block_body(
            Block::SecurityGroup,
            Block::Site(SiteKind::Vpc),
            opening,
            indent,
            |p, t| Some(p.sg_rule(t)),
        );
        self.check_sg_none(&rules);
        Some(Stmt::SecurityGroup(SecurityGroupStmt {
            name,
            rules,
            span: self.span_from(kw.span),
        }))
    }

    /// `inbound none` and `outbound none` say that the group has no rules
    /// in that direction, so another statement of the same direction in
    /// the group contradicts them: which one the author meant is unknown.
    fn check_sg_none(&mut self, rules: &[SgRuleItem]) {
        for dir in [Direction::Inbound, Direction::Outbound] {
            let word = match dir {
                Direction::Inbound => "inbound",
                Direction::Outbound => "outbound",
            };
            let of_dir: Vec<(Span, bool)> = rules
                .iter()
                .filter_map(|r| match r {
                    SgRuleItem::Rule(x) if x.direction.value == dir => Some((x.span, false)),
                    SgRuleItem::None(x) if x.direction.value == dir => Some((x.span, true)),
                    _ => None,
                })
                .collect();
            let Some(&(none_span, _)) = of_dir.iter().find(|(_, none)| *none) else {
                continue;
            };
            for &(span, none) in &of_dir {
                if span == none_span {
                    continue;
                }
                // The error points at the later of the two statements.
                let d = if none {
                    syntax_error(
                        span,
                        format!("`{word} none` given twice"),
                        "given again here",
                        Some(format!("remove one of the `{word} none` statements")),
                    )
                    .with_label(none_span, "first given here")
                } else {
                    let (at, other, label, other_label) = if span.start > none_span.start {
                        (
                            span,
                            none_span,
                            "a rule where the group has none",
                            format!("`{word} none` here"),
                        )
                    } else {
                        (
                            none_span,
                            span,
                            "the group has a rule",
                            format!("an `{word}` rule here"),
                        )
                    };
                    syntax_error(
                        at,
                        format!("`{word} none` and an `{word}` rule in one security group"),
                        label,
                        Some(format!(
                            "`{word} none` says the group has no {word} rules: remove it, or \
                             remove the group's `{word}` rules"
                        )),
                    )
                    .with_label(other, other_label)
                };
                self.diags.push(d);
            }
        }
    }

    /// `network-acl NAME { inbound N allow ... }`
    fn network_acl(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "network-acl",
            "network-acl NAME { inbound NUMBER allow|deny SVCS from PREFIX ... }",
        );
        let indent = self.line_indent(self.pos.saturating_sub(1));
        let name = self.decl_name("the network ACL's name after `network-acl`")?;
        let block = self.open_block(Block::NetworkAcl, "after the network ACL's name");
        let Some(opening) = block.ok().or_else(|| self.open_after_error()) else {
            return Some(self.broken_block_stmt(kw, DeclKind::NetworkAcl, name));
        };
        let rules = self.block_body(
            Block::NetworkAcl,
            Block::Site(SiteKind::Vpc),
            opening,
            indent,
            |p, t| Some(p.acl_rule(t)),
        );
        Some(Stmt::NetworkAcl(NetworkAclStmt {
            name,
            rules,
            span: self.span_from(kw.span),
        }))
    }

    /// `nlb NAME internal|internet-facing in [SUBNET, ...] { listener ... }`
    fn nlb(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "nlb",
            "nlb NAME internal|internet-facing in [SUBNET, ...] { listener ... }",
        );
        let indent = self.line_indent(self.pos.saturating_sub(1));
        let name = self.decl_name("the nlb's name after `nlb`")?;
        let header = (|| -> PResult<_> {
            let scheme = self.choice(
                &[
                    ("internal", NlbScheme::Internal),
                    ("internet-facing", NlbScheme::InternetFacing),
                ],
                "after the nlb's name",
            )?;
            self.expect_word("in", "after the nlb's scheme")?;
            let subnets = self.name_list("the nlb's subnets after `in`")?;
            let opening = self.open_block(Block::Nlb, "after the nlb's subnets")?;
            Ok((scheme, subnets, opening))
        })();
        match header {
            Ok((scheme, subnets, opening)) => {
                let listeners = self.block_body(
                    Block::Nlb,
                    Block::Site(SiteKind::Vpc),
                    opening,
                    indent,
                    |p, t| Some(p.listener(t)),
                );
                Some(Stmt::Nlb(NlbStmt {
                    name,
                    scheme,
                    subnets,
                    listeners,
                    span: self.span_from(kw.span),
                }))
            }
            // Without a scheme there is no sound node; the listeners are
            // still checked, and the name still declared.
            Err(Failed) => match self.open_after_error() {
                Some(opening) => {
                    self.block_body(
                        Block::Nlb,
                        Block::Site(SiteKind::Vpc),
                        opening,
                        indent,
                        |p, t| Some(p.listener(t)),
                    );
                    Some(Stmt::Broken(Broken {
                        kind: DeclKind::Nlb,
                        name,
                        span: self.span_from(kw.span),
                    }))
                }
                None => Some(self.broken_block_stmt(kw, DeclKind::Nlb, name)),
            },
        }
    }

    /// `endpoint-service NAME nlb NLB [acceptance required|auto]`
    fn endpoint_service(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "endpoint-service",
            "endpoint-service NAME nlb NLB [acceptance required|auto]",
        );
        let name = self.decl_name("the endpoint service's name after `endpoint-service`")?;
        let r = (|| -> PResult<_> {
            self.expect_word("nlb", "after the endpoint service's name")?;
            let nlb = self.name("the nlb's name after `nlb`")?;
            let mut acceptance = None;
            let mut seen = None;
            while let Some(word) = self.clause_word() {
                let t = self.peek();
                if word != "acceptance" {
                    return Err(self.clause_error(&["acceptance"]));
                }
                self.once(&mut seen, t)?;
                self.bump();
                acceptance = Some(self.choice(
                    &[
                        ("required", Acceptance::Required),
                        ("auto", Acceptance::Auto),
                    ],
                    "after `acceptance`",
                )?);
            }
            Ok((nlb, acceptance))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::EndpointService,
            name,
            r,
            |name, (nlb, acceptance), span| {
                Stmt::EndpointService(EndpointServiceStmt {
                    name,
                    nlb,
                    acceptance,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `endpoint NAME service ENDPOINT-SERVICE in SUBNET ip ADDRESS [sg [SG, ...]]`
    fn endpoint(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "endpoint",
            "endpoint NAME service ENDPOINT-SERVICE in SUBNET ip ADDRESS [sg [SG, ...]]",
        );
        let name = self.decl_name("the endpoint's name after `endpoint`")?;
        let r = (|| -> PResult<_> {
            self.expect_word("service", "after the endpoint's name")?;
            let service = self.name("the endpoint service's name after `service`")?;
            self.expect_word("in", "after the endpoint service")?;
            let subnet = self.name("the endpoint's subnet after `in`")?;
            self.expect_word("ip", "after the endpoint's subnet")?;
            let addr = self.addr("the endpoint's address after `ip`")?;
            let mut sgs = None;
            if self.clause_word().is_some() {
                if !self.at_word("sg") {
                    return Err(self.clause_error(&["sg"]));
                }
                self.bump();
                sgs = Some(self.name_set("the security groups after `sg`")?);
                self.end("the endpoint's security groups")?;
            }
            Ok((service, subnet, addr, sgs))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::Endpoint,
            name,
            r,
            |name, (service, subnet, addr, sgs), span| {
                Stmt::Endpoint(EndpointStmt {
                    name,
                    service,
                    subnet,
                    addr,
                    sgs,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `gateway-endpoint NAME PREFIX-LIST route-tables [RT, ...]`
    fn gateway_endpoint(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "gateway-endpoint",
            "gateway-endpoint NAME PREFIX-LIST route-tables [ROUTE-TABLE, ...]",
        );
        let name = self.decl_name("the gateway endpoint's name after `gateway-endpoint`")?;
        let r = (|| -> PResult<_> {
            let list = self.name("the service's prefix list after the endpoint's name")?;
            self.expect_word("route-tables", "after the service's prefix list")?;
            let tables = self.name_set("the route tables after `route-tables`")?;
            self.end("the gateway endpoint's route tables")?;
            Ok((list, tables))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::GatewayEndpoint,
            name,
            r,
            |name, (list, route_tables), span| {
                Stmt::GatewayEndpoint(GatewayEndpointStmt {
                    name,
                    list,
                    route_tables,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `gateway NAME mode forwarding|s2s|nat [external-ip A] [in SUBNET] [host H]`
    fn vnet_gateway(&mut self, kw: Token) -> Option<Stmt> {
        self.begin(
            "gateway",
            "gateway NAME mode forwarding|s2s|nat [external-ip ADDRESS] [in SUBNET] [host HYPERV-HOST]",
        );
        let name = self.decl_name("the gateway's name after `gateway`")?;
        let r = (|| -> PResult<_> {
            self.expect_word("mode", "after the gateway's name")?;
            let mode = self.choice(
                &[
                    ("forwarding", GatewayMode::Forwarding),
                    ("s2s", GatewayMode::S2s),
                    ("nat", GatewayMode::Nat),
                ],
                "after `mode`",
            )?;
            let (mut external_ip, mut subnet, mut host) = (None, None, None);
            let (mut ext_seen, mut in_seen, mut host_seen) = (None, None, None);
            while let Some(word) = self.clause_word() {
                let t = self.peek();
                match word {
                    "external-ip" => {
                        self.once(&mut ext_seen, t)?;
                        self.bump();
                        external_ip = Some(self.addr("the external address after `external-ip`")?);
                    }
                    "in" => {
                        self.once(&mut in_seen, t)?;
                        self.bump();
                        subnet = Some(self.name("the gateway's subnet after `in`")?);
                    }
                    "host" => {
                        self.once(&mut host_seen, t)?;
                        self.bump();
                        host = Some(self.name("the Hyper-V host's name after `host`")?);
                    }
                    _ => return Err(self.clause_error(&["external-ip", "in", "host"])),
                }
            }
            Ok((mode, external_ip, subnet, host))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::VnetGateway,
            name,
            r,
            |name, (mode, external_ip, subnet, hyperv_host), span| {
                Stmt::VnetGateway(VnetGatewayStmt {
                    name,
                    mode,
                    external_ip,
                    subnet,
                    hyperv_host,
                    span,
                })
            },
            Stmt::Broken,
        ))
    }

    /// `internet-egress snat ADDRESS`
    fn internet_egress(&mut self, kw: Token) -> Option<Stmt> {
        self.begin("internet-egress", "internet-egress snat ADDRESS");
        let r = (|| -> PResult<_> {
            self.expect_word("snat", "after `internet-egress`")?;
            let addr = self.addr("the SNAT address after `snat`")?;
            self.end("the SNAT address")?;
            Ok(addr)
        })();
        let addr = self.finish_plain(r)?;
        Some(Stmt::InternetEgress(addr, self.span_from(kw.span)))
    }

    /// `description "text"`
    fn description(&mut self, kw: Token) -> Option<Stmt> {
        self.begin("description", "description \"TEXT\"");
        let r = (|| -> PResult<_> {
            let text = self.string("a string after `description`")?;
            self.end("the description")?;
            Ok(text)
        })();
        let text = self.finish_plain(r)?;
        Some(Stmt::Description(text, self.span_from(kw.span)))
    }
}
