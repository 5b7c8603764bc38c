//! Top-level statements: sites (in `site.rs`), services, connections and
//! expectations.

use super::{Failed, PResult, Parser};
use crate::span::Spanned;
use crate::syntax::ast::*;
use crate::syntax::keywords::Block;
use crate::syntax::lexer::{Token, TokenKind};

impl<'t> Parser<'t> {
    /// A top-level statement; the keyword is consumed and accepted.
    pub(super) fn top_stmt(&mut self, kw: Token) -> Option<Item> {
        match self.text_of(kw) {
            "sddc" => self.site(kw, SiteKind::Sddc),
            "vpc" => self.site(kw, SiteKind::Vpc),
            "onprem" => self.site(kw, SiteKind::Onprem),
            "vmnetwork" => self.site(kw, SiteKind::VmNetwork),
            "internet" => self.site(kw, SiteKind::Internet),
            "service" => self.service_decl(kw),
            "prefix-list" => self.prefix_list_decl(kw),
            "peering" => self.connection(kw, ConnKind::Peering),
            "transit-gateway" => self.connection(kw, ConnKind::TransitGateway),
            "direct-connect" => self.connection(kw, ConnKind::DirectConnect),
            "vpn" => self.connection(kw, ConnKind::Vpn),
            "l2vpn" => self.connection(kw, ConnKind::L2vpn),
            "expect" => self.expect(kw).map(Item::Expect),
            _ => None,
        }
    }

    /// `service NAME SVCS`
    fn service_decl(&mut self, kw: Token) -> Option<Item> {
        self.begin("service", "service NAME SVCS");
        let name = self.decl_name("the service's name after `service`")?;
        let r = (|| -> PResult<_> {
            let services = self.service_expr("the service's protocols and ports after its name")?;
            self.end("the service's protocols and ports")?;
            Ok(services)
        })();
        Some(self.finish(
            kw.span,
            DeclKind::Service,
            name,
            r,
            |name, services, span| {
                Item::Service(ServiceDecl {
                    name,
                    services,
                    span,
                })
            },
            Item::Broken,
        ))
    }

    /// `prefix-list NAME [service s3|dynamodb] PREFIXES`
    fn prefix_list_decl(&mut self, kw: Token) -> Option<Item> {
        self.begin(
            "prefix-list",
            "prefix-list NAME [service s3|dynamodb] [PREFIX, ...]",
        );
        let name = self.decl_name("the prefix list's name after `prefix-list`")?;
        let r = (|| -> PResult<_> {
            let mut service = None;
            if self.at_word("service") {
                self.bump();
                service = Some(self.choice(
                    &[("s3", AwsService::S3), ("dynamodb", AwsService::Dynamodb)],
                    "after `service`",
                )?);
            }
            let prefixes = self.seq(
                "a prefix",
                "the prefix list's prefixes after its name",
                |p, what| p.prefix_opt(what),
            )?;
            self.end("the prefix list's prefixes")?;
            Ok((service, prefixes))
        })();
        Some(self.finish(
            kw.span,
            DeclKind::PrefixList,
            name,
            r,
            |name, (service, prefixes), span| {
                Item::PrefixList(PrefixListDecl {
                    name,
                    service,
                    prefixes,
                    span,
                })
            },
            Item::Broken,
        ))
    }

    /// `peering NAME A <-> B`, `transit-gateway NAME { ... }`,
    /// `direct-connect NAME A <-> B { ... }`, `vpn NAME A <-> B MODE { ... }`,
    /// `l2vpn NAME SDDC <-> ONPREM { ... }`; every block is optional except
    /// that a peering has none.
    fn connection(&mut self, kw: Token, kind: ConnKind) -> Option<Item> {
        let form = match kind {
            ConnKind::Peering => "peering NAME VPC <-> VPC",
            ConnKind::TransitGateway => {
                "transit-gateway NAME { attach SITE, ... ; route PREFIX -> SITE | blackhole }"
            }
            ConnKind::DirectConnect => {
                "direct-connect NAME SITE <-> SITE { advertise SITE PREFIX, ... }"
            }
            ConnKind::Vpn => "vpn NAME SITE <-> SITE [route-based|policy-based] { ... }",
            ConnKind::L2vpn => "l2vpn NAME SDDC <-> ONPREM { extend SEGMENT, ... }",
        };
        self.begin(kind.keyword(), form);
        let indent = self.line_indent(self.pos.saturating_sub(1));
        let name = self.decl_name("the {}'s name after `{}`")?;
        let header = (|| -> PResult<_> {
            let mut ends = Vec::new();
            if kind != ConnKind::TransitGateway {
                ends.push(self.name("the {}'s first site after its name")?);
                if self.kind() == TokenKind::Arrow {
                    let t = self.peek();
                    let message = "expected `<->` between the two sites, found `->`".to_string();
                    return Err(self.syntax_at(
                        t,
                        message,
                        "expected `<->` here",
                        Some(format!(
                            "a connection joins its two sites both ways; the form is `{}`",
                            self.form
                        )),
                    ));
                }
                self.expect_token(TokenKind::BiArrow, "`<->`", "after the {}'s first site")?;
                ends.push(self.name("the {}'s second site after `<->`")?);
            }
            let mut mode = None;
            if kind == ConnKind::Vpn {
                let t = self.peek();
                match self.text_of(t) {
                    "route-based" if t.kind == TokenKind::Atom => {
                        mode = Some(Spanned::new(VpnMode::RouteBased, self.bump().span));
                    }
                    "policy-based" if t.kind == TokenKind::Atom => {
                        mode = Some(Spanned::new(VpnMode::PolicyBased, self.bump().span));
                    }
                    _ => {}
                }
            }
            Ok((ends, mode))
        })();
        let block = match kind {
            ConnKind::Peering => Block::Top,
            ConnKind::TransitGateway => Block::TransitGateway,
            ConnKind::DirectConnect => Block::DirectConnect,
            ConnKind::L2vpn => Block::L2vpn,
            ConnKind::Vpn => match &header {
                Ok((_, Some(m))) if m.value == VpnMode::PolicyBased => Block::PolicyVpn,
                _ => Block::RouteVpn,
            },
        };
        let (ends, vpn_mode) = match header {
            Ok(h) => h,
            Err(Failed) => {
                // The header is broken: still check the body if there is
                // one, but declare only the name.
                if kind != ConnKind::Peering {
                    if let Some(opening) = self.open_after_error() {
                        self.block_body(block, Block::Top, opening, indent, |p, t| {
                            Some(p.conn_stmt(t))
                        });
                    }
                }
                return Some(self.broken_item(kw, DeclKind::Connection(kind), name));
            }
        };
        let opening = if kind == ConnKind::Peering {
            None
        } else {
            let after = match kind {
                ConnKind::TransitGateway => "after the transit gateway's name",
                ConnKind::Vpn if vpn_mode.is_some() => "after the vpn's mode",
                _ => "after the {}'s second site",
            };
            self.optional_block(block, after)
        };
        let body = match opening {
            Some(opening) => self.block_body(block, Block::Top, opening, indent, |p, t| {
                Some(p.conn_stmt(t))
            }),
            None => {
                let after = match kind {
                    ConnKind::Peering => "the peering's second site",
                    ConnKind::TransitGateway => "the transit gateway's name",
                    ConnKind::Vpn if vpn_mode.is_some() => "the vpn's mode",
                    _ => "the {}'s second site",
                };
                if self.end(after).is_err() {
                    return Some(self.broken_item(kw, DeclKind::Connection(kind), name));
                }
                Vec::new()
            }
        };
        Some(Item::Connection(Connection {
            kind,
            name,
            ends,
            vpn_mode,
            body,
            span: self.span_from(kw.span),
        }))
    }

    fn broken_item(&mut self, kw: Token, kind: DeclKind, name: Name) -> Item {
        self.recover();
        Item::Broken(Broken {
            kind,
            name,
            span: self.span_from(kw.span),
        })
    }

    /// `expect reach|no-reach SRC -> DST [at ADDRESS] [SVCS]`,
    /// `expect egress SRC via NAME`.
    fn expect(&mut self, kw: Token) -> Option<Expect> {
        self.begin(
            "expect",
            "expect reach|no-reach SRC -> DST [at ADDRESS] [SVCS] | expect egress SRC via NAME",
        );
        let r = (|| -> PResult<_> {
            let kind = self.choice(
                &[
                    ("reach", ExpectKind::Reach),
                    ("no-reach", ExpectKind::NoReach),
                    ("egress", ExpectKind::Egress),
                ],
                "after `expect`",
            )?;
            if kind.value == ExpectKind::Egress {
                self.form = "expect egress SRC via NAME";
                let src = self.addr_expr("the source after `expect egress`", false)?;
                self.expect_word("via", "after the source")?;
                let via = self.name("the connection, gateway or site after `via`")?;
                self.end("the egress point")?;
                return Ok((kind, src, None, None, None, Some(via)));
            }
            self.form = if kind.value == ExpectKind::Reach {
                "expect reach SRC -> DST [at ADDRESS] [SVCS]"
            } else {
                "expect no-reach SRC -> DST [at ADDRESS] [SVCS]"
            };
            let src = self.addr_expr("the source after the expectation's kind", false)?;
            self.expect_token(TokenKind::Arrow, "`->`", "after the source")?;
            let dst = self.addr_expr("the destination after `->`", false)?;
            let mut at = None;
            if self.at_word("at") {
                self.bump();
                at = Some(self.addr_single("the address after `at`")?);
            }
            let mut services = None;
            if !self.at_stmt_end() {
                services = Some(self.service_expr("the services after the destination")?);
            }
            if !self.at_stmt_end() {
                if self.at_word("at") && services.is_some() {
                    let t = self.peek();
                    let message = "`at` must come before the services".to_string();
                    let help = self.form_help();
                    return Err(self.syntax_at(
                        t,
                        message,
                        "move `at ADDRESS` before the services",
                        help,
                    ));
                }
                return Err(self.end_err("the services"));
            }
            Ok((kind, src, Some(dst), at, services, None))
        })();
        let (kind, src, dst, at, services, via) = self.finish_plain(r)?;
        Some(Expect {
            kind,
            src,
            dst,
            at,
            services,
            via,
            span: self.span_from(kw.span),
        })
    }
}
