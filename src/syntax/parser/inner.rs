//! Statements of the blocks inside sites and connections: firewall rules,
//! routes, security-group and network-ACL rules, listeners, and the
//! statements of connection blocks.

use super::exprs::is_literal;
use super::{Block, PResult, Parser};
use crate::span::{Span, Spanned};
use crate::syntax::ast::*;
use crate::syntax::lexer::{Token, TokenKind};

impl<'t> Parser<'t> {
    /// Ends an inner statement that declares nothing: the node, or a
    /// `Broken` span when it had errors.
    fn finish_item<R, T>(
        &mut self,
        start: Span,
        result: PResult<R>,
        build: impl FnOnce(R, Span) -> T,
        broken: impl FnOnce(Span) -> T,
    ) -> T {
        match self.finish_plain(result) {
            Some(r) => {
                let span = self.span_from(start);
                build(r, span)
            }
            None => broken(self.span_from(start)),
        }
    }

    /// `rule NAME allow|drop|reject from ADDRS to ADDRS [service SVCS]
    /// [applied-to UPLINKS] [log] [description "..."]`
    pub(super) fn rule(&mut self, kw: Token) -> Option<RuleItem> {
        self.begin(
            "rule",
            "rule NAME allow|drop|reject from ADDRS to ADDRS [service SVCS] [applied-to UPLINKS] [log] [description \"TEXT\"]",
        );
        let name = self.decl_name("the rule's name after `rule`")?;
        let r = (|| -> PResult<_> {
            if self.at_word("deny") {
                let t = self.peek();
                return Err(self.syntax_at(
                    t,
                    "expected `allow`, `drop` or `reject` after the rule's name, found `deny`".into(),
                    "expected one of `allow`, `drop` or `reject` here",
                    Some("a gateway firewall rule drops with `drop` (silently) or `reject` (with a reply)".into()),
                ));
            }
            let action = self.choice(
                &[
                    ("allow", Action::Allow),
                    ("drop", Action::Drop),
                    ("reject", Action::Reject),
                ],
                "after the rule's name",
            )?;
            self.expect_word("from", "after the rule's action")?;
            let from = self.addr_expr("the rule's sources after `from`", false)?;
            self.expect_word("to", "after the rule's sources")?;
            let to = self.addr_expr("the rule's destinations after `to`", false)?;
            let (mut service, mut applied_to, mut log, mut description) = (None, None, None, None);
            let (mut service_seen, mut applied_seen, mut log_seen, mut desc_seen) =
                (None, None, None, None);
            while let Some(word) = self.clause_word() {
                let t = self.peek();
                match word {
                    "service" => {
                        self.once(&mut service_seen, t)?;
                        self.bump();
                        service = Some(self.service_expr("the rule's services after `service`")?);
                    }
                    "applied-to" => {
                        self.once(&mut applied_seen, t)?;
                        self.bump();
                        applied_to = Some(self.name_set("the uplinks after `applied-to`")?);
                    }
                    "log" => {
                        self.once(&mut log_seen, t)?;
                        log = Some(self.bump().span);
                    }
                    "description" => {
                        self.once(&mut desc_seen, t)?;
                        self.bump();
                        description = Some(self.string("a string after `description`")?);
                    }
                    _ => {
                        return Err(self.clause_error(&[
                            "service",
                            "applied-to",
                            "log",
                            "description",
                        ]))
                    }
                }
            }
            Ok((action, from, to, service, applied_to, log, description))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::FirewallRule,
            name,
            r,
            |name, (action, from, to, service, applied_to, log, description), span| {
                RuleItem::Rule(RuleStmt {
                    name,
                    action,
                    from,
                    to,
                    service,
                    applied_to,
                    log,
                    description,
                    span,
                })
            },
            RuleItem::Broken,
        ))
    }

    /// `route PREFIX -> TARGET`, shared by route tables and transit gateways.
    fn route_stmt(&mut self, kw: Token, target_what: &str) -> Option<RouteStmt> {
        let r = (|| -> PResult<_> {
            let prefix = self.prefix("the route's destination prefix after `route`")?;
            self.expect_token(TokenKind::Arrow, "`->`", "after the route's prefix")?;
            let target = self.name(target_what)?;
            self.end("the route's target")?;
            Ok((prefix, target))
        })();
        self.finish_plain(r).map(|(prefix, target)| RouteStmt {
            prefix,
            target,
            span: self.span_from(kw.span),
        })
    }

    pub(super) fn route_item(&mut self, kw: Token) -> RouteItem {
        self.begin("route", "route PREFIX | PREFIX-LIST -> TARGET");
        // A destination that is not a literal names a prefix list.
        let t = self.peek();
        if t.kind == TokenKind::Atom && !is_literal(self.text_of(t)) {
            let r = (|| -> PResult<_> {
                let list = self.name("the route's prefix list after `route`")?;
                self.expect_token(TokenKind::Arrow, "`->`", "after the route's prefix list")?;
                let target = self.name("the route's target after `->`")?;
                self.end("the route's target")?;
                Ok((list, target))
            })();
            return match self.finish_plain(r) {
                Some((list, target)) => RouteItem::List(RouteListStmt {
                    list,
                    target,
                    span: self.span_from(kw.span),
                }),
                None => RouteItem::Broken(self.span_from(kw.span)),
            };
        }
        match self.route_stmt(kw, "the route's target after `->`") {
            Some(r) => RouteItem::Route(r),
            None => RouteItem::Broken(self.span_from(kw.span)),
        }
    }

    /// `inbound SVCS from SOURCES` / `outbound SVCS to DESTS`, or
    /// `inbound none` / `outbound none`.
    pub(super) fn sg_rule(&mut self, kw: Token) -> SgRuleItem {
        let inbound = self.text_of(kw) == "inbound";
        let (direction, noun, form, word) = if inbound {
            (
                Direction::Inbound,
                "inbound",
                "inbound SVCS from SOURCES | inbound none",
                "from",
            )
        } else {
            (
                Direction::Outbound,
                "outbound",
                "outbound SVCS to DESTS | outbound none",
                "to",
            )
        };
        self.begin(noun, form);
        // `none` alone is the statement that the group has no rules in this
        // direction; followed by more, it is a service name (a design may
        // declare a service called `none`).
        let ends = |k: TokenKind| {
            matches!(
                k,
                TokenKind::Newline | TokenKind::Semi | TokenKind::RBrace | TokenKind::Eof
            )
        };
        if self.at_word("none") && ends(self.nth(1).kind) {
            self.bump();
            return SgRuleItem::None(SgNone {
                direction: Spanned::new(direction, kw.span),
                span: self.span_from(kw.span),
            });
        }
        let r = (|| -> PResult<_> {
            let services = self.service_expr("the {} rule's services")?;
            if !self.at_word(word) && self.at_word(if inbound { "to" } else { "from" }) {
                let t = self.peek();
                let message = format!(
                    "expected `{word}` after the {noun} rule's services, found {}",
                    self.found(t)
                );
                let help = if inbound {
                    "inbound rules name their sources with `from`; the form is `inbound SVCS from SOURCES`"
                } else {
                    "outbound rules name their destinations with `to`; the form is `outbound SVCS to DESTS`"
                };
                return Err(self.syntax_at(
                    t,
                    message,
                    format!("expected `{word}` here"),
                    Some(help.into()),
                ));
            }
            self.expect_word(word, "after the {} rule's services")?;
            let peers = self.addr_expr(
                if inbound {
                    "the rule's sources after `from`"
                } else {
                    "the rule's destinations after `to`"
                },
                true,
            )?;
            self.end(if inbound {
                "the rule's sources"
            } else {
                "the rule's destinations"
            })?;
            Ok((services, peers))
        })();
        self.finish_item(
            kw.span,
            r,
            |(services, peers), span| {
                SgRuleItem::Rule(SgRule {
                    direction: Spanned::new(direction, kw.span),
                    services,
                    peers,
                    span,
                })
            },
            SgRuleItem::Broken,
        )
    }

    /// `inbound NUMBER allow|deny SVCS from PREFIX` /
    /// `outbound NUMBER allow|deny SVCS to PREFIX`
    pub(super) fn acl_rule(&mut self, kw: Token) -> AclRuleItem {
        let inbound = self.text_of(kw) == "inbound";
        let (direction, noun, form, word) = if inbound {
            (
                Direction::Inbound,
                "inbound",
                "inbound NUMBER allow|deny SVCS from PREFIX",
                "from",
            )
        } else {
            (
                Direction::Outbound,
                "outbound",
                "outbound NUMBER allow|deny SVCS to PREFIX",
                "to",
            )
        };
        self.begin(noun, form);
        let r = (|| -> PResult<_> {
            let number = self.number(
                "the rule number after `{}`",
                1,
                32766,
                "rule number",
                "network ACL rule numbers are 1-32766",
            )?;
            if self.at_word("drop") {
                let t = self.peek();
                return Err(self.syntax_at(
                    t,
                    "expected `allow` or `deny` after the rule number, found `drop`".into(),
                    "expected `allow` or `deny` here",
                    Some("network ACL rules `allow` or `deny`".into()),
                ));
            }
            let action = self.choice(
                &[("allow", AclAction::Allow), ("deny", AclAction::Deny)],
                "after the rule number",
            )?;
            let services = self.service_expr("the rule's services after its action")?;
            self.expect_word(word, "after the rule's services")?;
            let start = self.peek().span;
            let prefix = self.prefix_opt(if inbound {
                "the source prefix after `from`"
            } else {
                "the destination prefix after `to`"
            })?;
            let peer = AddrExpr {
                items: prefix.into_iter().map(AddrItem::Prefix).collect(),
                span: self.span_from(start),
            };
            self.end("the rule's prefix")?;
            Ok((
                Spanned::new(number.value as u32, number.span),
                action,
                services,
                peer,
            ))
        })();
        self.finish_item(
            kw.span,
            r,
            |(number, action, services, peer), span| {
                AclRuleItem::Rule(AclRule {
                    direction: Spanned::new(direction, kw.span),
                    number,
                    action,
                    services,
                    peer,
                    span,
                })
            },
            AclRuleItem::Broken,
        )
    }

    /// `listener SVC -> [TARGET, ...] [target-type instance|ip] [port N]`
    pub(super) fn listener(&mut self, kw: Token) -> ListenerItem {
        self.begin(
            "listener",
            "listener SVC -> [TARGET, ...] [target-type instance|ip] [port N]",
        );
        let r = (|| -> PResult<_> {
            let service = self.service_single("the listener's service after `listener`")?;
            self.expect_token(TokenKind::Arrow, "`->`", "after the listener's service")?;
            let targets = self.name_list("the listener's targets after `->`")?;
            let (mut target_type, mut port) = (None, None);
            let (mut type_seen, mut port_seen) = (None, None);
            while let Some(word) = self.clause_word() {
                let t = self.peek();
                match word {
                    "target-type" => {
                        self.once(&mut type_seen, t)?;
                        self.bump();
                        target_type = Some(self.choice(
                            &[("instance", TargetType::Instance), ("ip", TargetType::Ip)],
                            "after `target-type`",
                        )?);
                    }
                    "port" => {
                        self.once(&mut port_seen, t)?;
                        self.bump();
                        let n = self.number(
                            "the target port after `port`",
                            1,
                            65535,
                            "listener port",
                            "a listener's target port is 1-65535",
                        )?;
                        port = Some(Spanned::new(n.value as u16, n.span));
                    }
                    _ => return Err(self.clause_error(&["target-type", "port"])),
                }
            }
            Ok((service, targets, target_type, port))
        })();
        self.finish_item(
            kw.span,
            r,
            |(service, targets, target_type, port), span| {
                ListenerItem::Listener(ListenerStmt {
                    service,
                    targets,
                    target_type,
                    port,
                    span,
                })
            },
            ListenerItem::Broken,
        )
    }

    /// A statement of a connection block.
    pub(super) fn conn_stmt(&mut self, kw: Token) -> ConnStmt {
        let word = self.text_of(kw);
        let r: PResult<ConnStmt> = match word {
            "advertise" => {
                self.begin("advertise", "advertise SITE PREFIX, ...");
                (|| {
                    let site = self.name("the advertising site after `advertise`")?;
                    let prefixes = self.seq(
                        "a prefix",
                        "the advertised prefix after the site",
                        |p, what| p.prefix_opt(what),
                    )?;
                    self.end("the advertised prefixes")?;
                    Ok(ConnStmt::Advertise {
                        site,
                        prefixes,
                        span: Span::default(),
                    })
                })()
            }
            "local" | "remote" => {
                let local = word == "local";
                if local {
                    self.begin("local", "local [ADDRS]");
                } else {
                    self.begin("remote", "remote [ADDRS]");
                }
                (|| {
                    let addrs = self.addr_expr("the traffic selector after `{}`", false)?;
                    self.end("the traffic selector")?;
                    Ok(if local {
                        ConnStmt::Local(addrs, Span::default())
                    } else {
                        ConnStmt::Remote(addrs, Span::default())
                    })
                })()
            }
            "extend" => {
                self.begin("extend", "extend SEGMENT, ...");
                (|| {
                    let names = self.seq(
                        "a name",
                        "the extended segment after `extend`",
                        |p, what| p.name(what).map(Some),
                    )?;
                    self.end("the segments")?;
                    Ok(ConnStmt::Extend(names, Span::default()))
                })()
            }
            "attach" => {
                self.begin("attach", "attach SITE, ... | attach VPC in [SUBNET, ...]");
                (|| {
                    let names =
                        self.seq("a name", "the attached site after `attach`", |p, what| {
                            p.name(what).map(Some)
                        })?;
                    if !self.at_word("in") {
                        self.end("the sites")?;
                        return Ok(ConnStmt::Attach(names, Span::default()));
                    }
                    let t = self.peek();
                    let mut names = names.into_iter();
                    let (Some(site), None) = (names.next(), names.next()) else {
                        return Err(self.syntax_at(
                            t,
                            "`in` names the attachment subnets of one VPC".into(),
                            "after a list of sites",
                            Some("write one `attach VPC in [SUBNET, ...]` line per VPC".into()),
                        ));
                    };
                    self.bump();
                    let subnets = self.name_list("the attachment subnets after `in`")?;
                    self.end("the attachment subnets")?;
                    Ok(ConnStmt::AttachIn {
                        site,
                        subnets,
                        span: Span::default(),
                    })
                })()
            }
            "associate" | "propagate" => {
                let associate = word == "associate";
                if associate {
                    self.begin("associate", "associate ATTACHMENT, ...");
                } else {
                    self.begin("propagate", "propagate ATTACHMENT, ...");
                }
                (|| {
                    let what = if associate {
                        "the associated attachment after `associate`"
                    } else {
                        "the propagating attachment after `propagate`"
                    };
                    let names = self.seq("a name", what, |p, what| p.name(what).map(Some))?;
                    self.end("the attachments")?;
                    Ok(if associate {
                        ConnStmt::Associate(names, Span::default())
                    } else {
                        ConnStmt::Propagate(names, Span::default())
                    })
                })()
            }
            "route-table" => return self.tgw_route_table(kw),
            _ => {
                self.begin("route", "route PREFIX -> SITE | blackhole");
                return match self.route_stmt(kw, "the route's site or `blackhole` after `->`") {
                    Some(r) => ConnStmt::Route(r),
                    None => ConnStmt::Broken(self.span_from(kw.span)),
                };
            }
        };
        self.finish_item(
            kw.span,
            r,
            |stmt, span| match stmt {
                ConnStmt::Advertise { site, prefixes, .. } => ConnStmt::Advertise {
                    site,
                    prefixes,
                    span,
                },
                ConnStmt::Local(a, _) => ConnStmt::Local(a, span),
                ConnStmt::Remote(a, _) => ConnStmt::Remote(a, span),
                ConnStmt::Extend(n, _) => ConnStmt::Extend(n, span),
                ConnStmt::Attach(n, _) => ConnStmt::Attach(n, span),
                ConnStmt::AttachIn { site, subnets, .. } => ConnStmt::AttachIn {
                    site,
                    subnets,
                    span,
                },
                ConnStmt::Associate(n, _) => ConnStmt::Associate(n, span),
                ConnStmt::Propagate(n, _) => ConnStmt::Propagate(n, span),
                other => other,
            },
            ConnStmt::Broken,
        )
    }

    /// `route-table NAME { associate ...; propagate ...; route ... }` inside
    /// a transit gateway.
    fn tgw_route_table(&mut self, kw: Token) -> ConnStmt {
        self.begin(
            "route-table",
            "route-table NAME { associate ATTACHMENT, ...; propagate ATTACHMENT, ...; route PREFIX -> ATTACHMENT | blackhole }",
        );
        let indent = self.line_indent(self.pos.saturating_sub(1));
        let Ok(name) = self.name("the route table's name after `route-table`") else {
            return ConnStmt::Broken(self.span_from(kw.span));
        };
        let opening = match self.open_block(Block::TgwRouteTable, "after the route table's name") {
            Ok(o) => o,
            Err(_) => match self.open_after_error() {
                Some(o) => o,
                None => return ConnStmt::Broken(self.span_from(kw.span)),
            },
        };
        let body = self.block_body(
            Block::TgwRouteTable,
            Block::TransitGateway,
            opening,
            indent,
            |p, t| Some(p.conn_stmt(t)),
        );
        ConnStmt::RouteTable {
            name,
            body,
            span: self.span_from(kw.span),
        }
    }
}
