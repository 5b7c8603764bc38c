//! Parser tests: the reference sketch's worked examples, error recovery,
//! literal errors, and robustness against hostile input.

use super::ast::*;
use super::parse;
use crate::diagnostic::Diagnostic;
use crate::registry::Code;
use crate::span::{LineIndex, Span};
use proptest::prelude::*;
use std::net::IpAddr;

// ---- Helpers ---------------------------------------------------------------

fn show(text: &str, diags: &[Diagnostic]) -> String {
    let idx = LineIndex::new(text);
    diags
        .iter()
        .map(|d| {
            let lc = idx.line_col(text, d.primary.span.start);
            format!(
                "{}:{} {} {} ({})\n",
                lc.line, lc.column, d.code, d.message, d.primary.message
            )
        })
        .collect()
}

/// Parses text that must be free of diagnostics.
fn clean(text: &str) -> Tree {
    let p = parse(text);
    assert!(
        p.diagnostics.is_empty(),
        "unexpected diagnostics:\n{}",
        show(text, &p.diagnostics)
    );
    assert_spans_valid(text, &p.tree, &p.diagnostics);
    p.tree
}

/// Parses text and returns the diagnostics' codes, lines and messages.
fn errors(text: &str) -> (Tree, Vec<(Code, usize, String)>) {
    let p = parse(text);
    assert_spans_valid(text, &p.tree, &p.diagnostics);
    let idx = LineIndex::new(text);
    let list = p
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.code,
                idx.line_col(text, d.primary.span.start).line,
                d.message.clone(),
            )
        })
        .collect();
    (p.tree, list)
}

fn one_error(text: &str) -> (Tree, Diagnostic) {
    let p = parse(text);
    assert_eq!(
        p.diagnostics.len(),
        1,
        "expected one diagnostic:\n{}",
        show(text, &p.diagnostics)
    );
    assert_spans_valid(text, &p.tree, &p.diagnostics);
    (p.tree, p.diagnostics.into_iter().next().unwrap())
}

fn site<'a>(tree: &'a Tree, name: &str) -> &'a Site {
    tree.items
        .iter()
        .find_map(|i| match i {
            Item::Site(s) if s.name.as_ref().map(|n| n.text.as_str()) == Some(name) => Some(s),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no site {name}"))
}

fn internet_site(tree: &Tree) -> &Site {
    tree.items
        .iter()
        .find_map(|i| match i {
            Item::Site(s) if s.kind == SiteKind::Internet => Some(s),
            _ => None,
        })
        .expect("an internet block")
}

/// The names a list of site statements declares, broken ones included.
fn declared(body: &[Stmt]) -> Vec<String> {
    body.iter()
        .filter_map(|s| match s {
            Stmt::Segment(x) => Some(&x.name),
            Stmt::Subnet(x) => Some(&x.name),
            Stmt::Host(x) => Some(&x.name),
            Stmt::Group(x) => Some(&x.name),
            Stmt::PublicIp(x) => Some(&x.name),
            Stmt::ElasticIp(x) => Some(&x.name),
            Stmt::Nat(x) => Some(&x.name),
            Stmt::Firewall(x) => Some(&x.name),
            Stmt::InternetGateway(n, _) | Stmt::EgressOnlyInternetGateway(n, _) => Some(n),
            Stmt::RouteTable(x) => Some(&x.name),
            Stmt::NatGateway(x) => Some(&x.name),
            Stmt::SecurityGroup(x) => Some(&x.name),
            Stmt::NetworkAcl(x) => Some(&x.name),
            Stmt::Nlb(x) => Some(&x.name),
            Stmt::EndpointService(x) => Some(&x.name),
            Stmt::Endpoint(x) => Some(&x.name),
            Stmt::VnetGateway(x) => Some(&x.name),
            Stmt::GatewayEndpoint(x) => Some(&x.name),
            Stmt::Broken(b) => Some(&b.name),
            _ => None,
        })
        .map(|n| n.text.to_string())
        .collect()
}

fn broken_names(body: &[Stmt]) -> Vec<(DeclKind, String)> {
    body.iter()
        .filter_map(|s| match s {
            Stmt::Broken(b) => Some((b.kind, b.name.text.to_string())),
            _ => None,
        })
        .collect()
}

fn names(items: &[AddrItem]) -> Vec<String> {
    items
        .iter()
        .map(|i| match i {
            AddrItem::Name(n) => n.text.to_string(),
            AddrItem::Any(_) => "any".into(),
            AddrItem::Internet(_) => "internet".into(),
            AddrItem::Addr(a) => a.value.to_string(),
            AddrItem::Prefix(p) => p.value.to_string(),
            AddrItem::Range { lo, hi, .. } => format!("{lo}-{hi}"),
            AddrItem::Sg(n, _) => format!("sg {}", n.text),
        })
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ---- Every span lies inside the text ----------------------------------------

fn assert_spans_valid(text: &str, tree: &Tree, diags: &[Diagnostic]) {
    let mut spans = Vec::new();
    collect_spans(tree, &mut spans);
    for d in diags {
        // House style: messages and labels start in lower case (or with a
        // quoted word or a number) and carry no trailing period.
        for m in std::iter::once(&d.message).chain(std::iter::once(&d.primary.message)) {
            assert!(
                !m.starts_with(|c: char| c.is_ascii_uppercase()),
                "capitalised: {m}"
            );
            assert!(!m.ends_with('.'), "trailing period: {m}");
        }
        spans.push(d.primary.span);
        spans.extend(d.secondary.iter().map(|l| l.span));
        spans.extend(d.fix.iter().flat_map(|f| f.edits.iter().map(|e| e.span)));
    }
    for span in spans {
        let (s, e) = (span.start as usize, span.end as usize);
        assert!(
            s <= e && e <= text.len(),
            "span {s}..{e} outside a text of {}",
            text.len()
        );
        assert!(
            text.is_char_boundary(s) && text.is_char_boundary(e),
            "span {s}..{e} splits a character"
        );
    }
}

fn addr_spans(e: &AddrExpr, out: &mut Vec<Span>) {
    out.push(e.span);
    for i in &e.items {
        out.push(i.span());
        if let AddrItem::Sg(n, _) = i {
            out.push(n.span);
        }
    }
}

fn service_spans(e: &ServiceExpr, out: &mut Vec<Span>) {
    out.push(e.span);
    out.extend(e.items.iter().map(ServiceItem::span));
}

fn collect_spans(tree: &Tree, out: &mut Vec<Span>) {
    out.extend(tree.comments.iter().copied());
    for item in &tree.items {
        match item {
            Item::Site(s) => {
                out.extend([s.span, s.header_span]);
                out.extend(s.name.iter().map(|n| n.span));
                out.extend(s.prefixes.iter().map(|p| p.span));
                for stmt in &s.body {
                    stmt_spans(stmt, out);
                }
            }
            Item::Service(s) => {
                out.extend([s.span, s.name.span]);
                service_spans(&s.services, out);
            }
            Item::PrefixList(p) => {
                out.extend([p.span, p.name.span]);
                out.extend(p.service.iter().map(|s| s.span));
                out.extend(p.prefixes.iter().map(|x| x.span));
            }
            Item::Connection(c) => {
                out.extend([c.span, c.name.span]);
                out.extend(c.ends.iter().map(|n| n.span));
                out.extend(c.vpn_mode.iter().map(|m| m.span));
                let mut stack: Vec<&ConnStmt> = c.body.iter().collect();
                while let Some(s) = stack.pop() {
                    match s {
                        ConnStmt::AttachIn {
                            site,
                            subnets,
                            span,
                        } => {
                            out.extend([site.span, *span]);
                            out.extend(subnets.iter().map(|n| n.span));
                        }
                        ConnStmt::RouteTable { name, body, span } => {
                            out.extend([name.span, *span]);
                            stack.extend(body.iter());
                        }
                        ConnStmt::Associate(n, span) | ConnStmt::Propagate(n, span) => {
                            out.push(*span);
                            out.extend(n.iter().map(|n| n.span));
                        }
                        ConnStmt::Advertise {
                            site,
                            prefixes,
                            span,
                        } => {
                            out.extend([site.span, *span]);
                            out.extend(prefixes.iter().map(|p| p.span));
                        }
                        ConnStmt::Local(a, span) | ConnStmt::Remote(a, span) => {
                            out.push(*span);
                            addr_spans(a, out);
                        }
                        ConnStmt::Extend(n, span) | ConnStmt::Attach(n, span) => {
                            out.push(*span);
                            out.extend(n.iter().map(|n| n.span));
                        }
                        ConnStmt::Route(r) => out.extend([r.span, r.prefix.span, r.target.span]),
                        ConnStmt::Broken(span) => out.push(*span),
                    }
                }
            }
            Item::Expect(e) => {
                out.extend([e.span, e.kind.span]);
                addr_spans(&e.src, out);
                for a in e.dst.iter().chain(&e.at) {
                    addr_spans(a, out);
                }
                if let Some(s) = &e.services {
                    service_spans(s, out);
                }
                out.extend(e.via.iter().map(|n| n.span));
            }
            Item::Broken(b) => out.extend([b.span, b.name.span]),
        }
    }
}

fn stmt_spans(stmt: &Stmt, out: &mut Vec<Span>) {
    match stmt {
        Stmt::Management(p) => out.push(p.span),
        Stmt::Segment(s) => out.extend([s.span, s.name.span, s.prefix.span]),
        Stmt::Subnet(s) => {
            out.extend([s.span, s.name.span, s.prefix.span]);
            out.extend(s.dual.iter().map(|p| p.span));
            out.extend(
                s.route_table
                    .iter()
                    .chain(&s.acl)
                    .chain(&s.az)
                    .map(|n| n.span),
            );
        }
        Stmt::Host(h) => {
            out.extend([h.span, h.name.span, h.addr.span]);
            out.extend(h.dual.iter().map(|a| a.span));
            out.extend(h.subnet.iter().chain(&h.hyperv_host).map(|n| n.span));
            out.extend(h.sgs.iter().flatten().map(|n| n.span));
            out.extend(h.public.iter().flat_map(|p| [p.span, p.addr.span]));
            out.extend(h.source_dest_check_off);
        }
        Stmt::Group(g) => {
            out.extend([g.span, g.name.span]);
            addr_spans(&g.members, out);
        }
        Stmt::PublicIp(p) => out.extend([p.span, p.name.span, p.addr.span]),
        Stmt::ElasticIp(e) => {
            out.extend([e.span, e.name.span, e.addr.span]);
            out.extend(e.target.iter().map(|n| n.span));
        }
        Stmt::DefaultSnat(d) => {
            out.push(d.span);
            out.push(match &d.value {
                DefaultSnatValue::Addr(a) => a.span,
                DefaultSnatValue::Off(s) => *s,
            });
        }
        Stmt::Nat(n) => {
            out.extend([n.span, n.name.span, n.kind.span]);
            addr_spans(&n.internal, out);
            if let Some(e) = &n.external {
                addr_spans(e, out);
            }
            if let Some(s) = &n.service {
                service_spans(s, out);
            }
            out.extend(n.translated_port.iter().map(|p| p.span));
            out.extend(n.firewall_match.iter().map(|p| p.span));
        }
        Stmt::ConnectedVpc(c) => {
            out.extend([c.span, c.vpc.span]);
            out.extend(c.subnet.iter().map(|n| n.span));
        }
        Stmt::Firewall(f) => {
            out.extend([f.span, f.name.span]);
            for r in &f.rules {
                match r {
                    RuleItem::Rule(r) => {
                        out.extend([r.span, r.name.span, r.action.span]);
                        addr_spans(&r.from, out);
                        addr_spans(&r.to, out);
                        if let Some(s) = &r.service {
                            service_spans(s, out);
                        }
                        out.extend(r.applied_to.iter().flatten().map(|n| n.span));
                        out.extend(r.log);
                        out.extend(r.description.iter().map(|d| d.span));
                    }
                    RuleItem::Broken(b) => out.extend([b.span, b.name.span]),
                }
            }
        }
        Stmt::InternetGateway(n, s) | Stmt::EgressOnlyInternetGateway(n, s) => {
            out.extend([n.span, *s])
        }
        Stmt::RouteTable(r) => {
            out.extend([r.span, r.name.span]);
            out.extend(r.main);
            for route in &r.routes {
                match route {
                    RouteItem::Route(r) => out.extend([r.span, r.prefix.span, r.target.span]),
                    RouteItem::List(r) => out.extend([r.span, r.list.span, r.target.span]),
                    RouteItem::Broken(s) => out.push(*s),
                }
            }
        }
        Stmt::NatGateway(n) => {
            out.extend([n.span, n.name.span, n.subnet.span]);
            out.push(match &n.kind {
                NatGatewayKind::Public(a) => a.span,
                NatGatewayKind::Private(s) => *s,
            });
            out.extend(n.addr.iter().map(|a| a.span));
        }
        Stmt::SecurityGroup(sg) => {
            out.extend([sg.span, sg.name.span]);
            for r in &sg.rules {
                match r {
                    SgRuleItem::Rule(r) => {
                        out.extend([r.span, r.direction.span]);
                        service_spans(&r.services, out);
                        addr_spans(&r.peers, out);
                    }
                    SgRuleItem::None(n) => out.extend([n.span, n.direction.span]),
                    SgRuleItem::Broken(s) => out.push(*s),
                }
            }
        }
        Stmt::NetworkAcl(acl) => {
            out.extend([acl.span, acl.name.span]);
            for r in &acl.rules {
                match r {
                    AclRuleItem::Rule(r) => {
                        out.extend([r.span, r.direction.span, r.number.span, r.action.span]);
                        service_spans(&r.services, out);
                        addr_spans(&r.peer, out);
                    }
                    AclRuleItem::Broken(s) => out.push(*s),
                }
            }
        }
        Stmt::Nlb(n) => {
            out.extend([n.span, n.name.span, n.scheme.span]);
            out.extend(n.subnets.iter().map(|n| n.span));
            for l in &n.listeners {
                match l {
                    ListenerItem::Listener(l) => {
                        out.push(l.span);
                        service_spans(&l.service, out);
                        out.extend(l.targets.iter().map(|n| n.span));
                        out.extend(l.target_type.iter().map(|t| t.span));
                        out.extend(l.port.iter().map(|p| p.span));
                    }
                    ListenerItem::Broken(s) => out.push(*s),
                }
            }
        }
        Stmt::EndpointService(e) => {
            out.extend([e.span, e.name.span, e.nlb.span]);
            out.extend(e.acceptance.iter().map(|a| a.span));
        }
        Stmt::Endpoint(e) => {
            out.extend([
                e.span,
                e.name.span,
                e.service.span,
                e.subnet.span,
                e.addr.span,
            ]);
            out.extend(e.sgs.iter().flatten().map(|n| n.span));
        }
        Stmt::VnetGateway(g) => {
            out.extend([g.span, g.name.span, g.mode.span]);
            out.extend(g.external_ip.iter().map(|a| a.span));
            out.extend(g.subnet.iter().chain(&g.hyperv_host).map(|n| n.span));
        }
        Stmt::GatewayEndpoint(g) => {
            out.extend([g.span, g.name.span, g.list.span]);
            out.extend(g.route_tables.iter().map(|n| n.span));
        }
        Stmt::InternetEgress(a, s) => out.extend([a.span, *s]),
        Stmt::Description(d, s) => out.extend([d.span, *s]),
        Stmt::Broken(b) => out.extend([b.span, b.name.span]),
    }
}

// ---- The worked examples of the reference sketch, section 5 ------------------

const SEED000: &str = r#"sddc prod {
  segment web-tier 10.10.11.0/24
  segment legacy 172.20.5.0/24          # stretched from on-prem, see the hybrid variant
  vm web01 10.10.11.101 in web-tier

  public-ip web-pip 52.58.125.207
  nat dnat web-in 52.58.125.207 -> web01

  firewall cgw {
    rule web-egress allow from web-tier to any service any applied-to internet
    rule web-in allow from any to web01 service HTTP applied-to internet
  }
}

internet {
  host client 198.51.100.20
}

expect reach client -> web01 at 52.58.125.207 HTTP
expect reach web01 -> client HTTPS
"#;

const SEED000_HYBRID: &str = r#"onprem dc 172.20.0.0/16 {
  segment users 172.20.1.0/24
  internet-egress snat 203.0.113.1
}
direct-connect dx prod <-> dc {
  advertise dc 0.0.0.0/0, 172.20.0.0/16
}
l2vpn ext prod <-> dc {
  extend legacy
}
"#;

const SEED001: &str = r#"sddc cj {
  segment cj-seg 192.168.100.0/24
  vm CJ-VM01 192.168.100.10 in cj-seg
  group CJ-VM [CJ-VM01]
  connected-vpc cj-vpc

  firewall cgw {
    rule vpc-out allow from CJ-VM to any service any applied-to vpc
    rule vpc-in allow from any to CJ-VM service any applied-to vpc
  }
}

vpc cj-vpc 172.31.0.0/16 {
  subnet sub-a 172.31.0.0/20
  security-group CJ-SG {
    inbound any from 0.0.0.0/0
    outbound any to 0.0.0.0/0
  }
  instance CJ-AWS01 172.31.1.10 in sub-a sg [default]
  instance CJ-AWS02 172.31.1.11 in sub-a sg [CJ-SG]
}

expect reach CJ-VM01 -> CJ-AWS01 ICMP
expect reach CJ-AWS01 -> CJ-VM01 ICMP
expect reach CJ-AWS02 -> CJ-VM01 ICMP   # fails: the ENI carries the VPC's default SG
"#;

const SEED002: &str = r#"vpc shop 192.168.0.0/16 {
  internet-gateway igw
  route-table public-rt {
    route 0.0.0.0/0 -> igw
  }
  route-table private-rt {
    route 0.0.0.0/0 -> nat1
  }
  subnet public 192.168.1.0/24 route-table public-rt
  subnet private 192.168.2.0/24 route-table private-rt

  security-group web-sg {
    inbound HTTPS from 0.0.0.0/0
    outbound any to 0.0.0.0/0
  }
  instance web 192.168.1.10 in public sg [web-sg] elastic-ip 54.64.1.10
  instance batch 192.168.1.11 in public sg [web-sg]   # no public address: no internet
  instance nat1 192.168.1.5 in public elastic-ip 54.64.1.5 source-dest-check off
  instance worker 192.168.2.10 in private
}

internet {
  host ntp 203.0.113.123
}

expect reach ntp -> web at 54.64.1.10 HTTPS
expect reach worker -> ntp NTP
"#;

const SEED003: &str = r#"sddc vmc 192.168.0.0/20 {
  segment office 192.168.15.0/24
  vm win01 192.168.15.10 in office
  connected-vpc connected
  firewall cgw {
    rule to-endpoint allow from win01 to connected.web-ep service HTTP applied-to vpc
  }
}

vpc connected 10.0.0.0/16 {
  subnet endpoints 10.0.3.0/24
  security-group ep-sg {
    inbound HTTP from 192.168.15.10/32
  }
  endpoint web-ep service webvpc.web-svc in endpoints ip 10.0.3.181 sg [ep-sg]
}

vpc webvpc 192.168.0.0/20 {
  subnet web 192.168.15.0/24
  subnet mgmt 192.168.11.0/24
  security-group web-sg {
    inbound HTTP from 192.168.0.0/20
  }
  instance web01 192.168.15.241 in web sg [web-sg]
  instance bastion 192.168.11.40 in mgmt
  nlb web-nlb internal in [web] {
    listener tcp/80 -> [web01] target-type instance
  }
  endpoint-service web-svc nlb web-nlb acceptance required
}

expect reach win01 -> webvpc.web01 at connected.web-ep HTTP
"#;

const SEED004: &str = r#"vmnetwork tenant-a {
  subnet apps 10.0.1.0/24
  subnet gw-net 10.0.254.0/24
  vm app01 10.0.1.10 in apps
  gateway gw mode nat external-ip 203.0.113.5 in gw-net
  nat dnat app-web 203.0.113.5 -> app01 service HTTPS
}

vmnetwork tenant-b {
  subnet apps 10.0.1.0/24
  vm app01 10.0.1.10 in apps
  gateway gw mode s2s in apps          # wrong twice: s2s needs an external IP, and the gateway needs its own subnet
}

onprem corp 172.16.0.0/16 {
  segment lan 172.16.1.0/24
  host fs01 172.16.1.20 in lan
}

vpn corp-link tenant-b <-> corp route-based {
  advertise corp 172.16.0.0/16
}
"#;

#[test]
fn seed000_publishing_a_vm() {
    let tree = clean(SEED000);
    assert_eq!(tree.items.len(), 4);
    assert_eq!(tree.comments.len(), 1);
    let prod = site(&tree, "prod");
    assert_eq!(prod.kind, SiteKind::Sddc);
    assert!(prod.prefixes.is_empty());
    assert_eq!(prod.body.len(), 6);
    assert_eq!(
        declared(&prod.body),
        ["web-tier", "legacy", "web01", "web-pip", "web-in", "cgw"]
    );

    let nat = prod
        .body
        .iter()
        .find_map(|s| match s {
            Stmt::Nat(n) => Some(n),
            _ => None,
        })
        .unwrap();
    assert_eq!(nat.kind.value, NatKind::Dnat);
    assert_eq!(names(&nat.internal.items), ["web01"]);
    let external = nat.external.as_ref().unwrap();
    assert_eq!(
        external.items,
        [AddrItem::Addr(crate::span::Spanned::new(
            ip("52.58.125.207"),
            external.span
        ))]
    );

    let Some(Stmt::Firewall(fw)) = prod.body.iter().find(|s| matches!(s, Stmt::Firewall(_))) else {
        panic!("no firewall")
    };
    assert_eq!(fw.rules.len(), 2);
    let RuleItem::Rule(web_in) = &fw.rules[1] else {
        panic!("web-in is broken")
    };
    assert_eq!(web_in.name.text, "web-in");
    assert_eq!(web_in.action.value, Action::Allow);
    assert_eq!(names(&web_in.from.items), ["any"]);
    assert_eq!(names(&web_in.to.items), ["web01"]);
    let applied: Vec<&str> = web_in
        .applied_to
        .as_ref()
        .unwrap()
        .iter()
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(applied, ["internet"]);
    let svc = &web_in.service.as_ref().unwrap().items;
    assert!(matches!(&svc[..], [ServiceItem::Named(n)] if n.text == "HTTP"));
    // A rule's span runs from `rule` to its last token.
    assert_eq!(
        web_in.span.slice(SEED000),
        "rule web-in allow from any to web01 service HTTP applied-to internet"
    );
    // The firewall's span includes its block.
    assert!(
        fw.span.slice(SEED000).starts_with("firewall cgw {")
            && fw.span.slice(SEED000).ends_with('}')
    );
    assert_eq!(prod.header_span.slice(SEED000), "sddc prod");

    let inet = internet_site(&tree);
    assert!(inet.name.is_none());
    assert!(
        matches!(&inet.body[..], [Stmt::Host(h)] if h.name.text == "client" && h.subnet.is_none())
    );

    let Item::Expect(e) = &tree.items[2] else {
        panic!("no expectation")
    };
    assert_eq!(e.kind.value, ExpectKind::Reach);
    assert_eq!(names(&e.src.items), ["client"]);
    assert_eq!(names(&e.dst.as_ref().unwrap().items), ["web01"]);
    assert_eq!(names(&e.at.as_ref().unwrap().items), ["52.58.125.207"]);
    assert_eq!(
        e.span.slice(SEED000),
        "expect reach client -> web01 at 52.58.125.207 HTTP"
    );
}

#[test]
fn seed000_hybrid_variant() {
    let tree = clean(SEED000_HYBRID);
    assert_eq!(tree.items.len(), 3);
    let dc = site(&tree, "dc");
    assert_eq!(dc.prefixes[0].value.to_string(), "172.20.0.0/16");
    assert!(matches!(&dc.body[1], Stmt::InternetEgress(a, _) if a.value == ip("203.0.113.1")));
    let Item::Connection(dx) = &tree.items[1] else {
        panic!()
    };
    assert_eq!(dx.kind, ConnKind::DirectConnect);
    assert_eq!(
        dx.ends.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
        ["prod", "dc"]
    );
    let [ConnStmt::Advertise { site, prefixes, .. }] = &dx.body[..] else {
        panic!()
    };
    assert_eq!(site.text, "dc");
    let p: Vec<String> = prefixes.iter().map(|p| p.value.to_string()).collect();
    assert_eq!(p, ["0.0.0.0/0", "172.20.0.0/16"]);
    let Item::Connection(ext) = &tree.items[2] else {
        panic!()
    };
    assert!(matches!(&ext.body[..], [ConnStmt::Extend(n, _)] if n[0].text == "legacy"));
}

#[test]
fn seed001_connected_vpc() {
    let tree = clean(SEED001);
    assert_eq!(tree.items.len(), 5);
    let cj = site(&tree, "cj");
    assert!(
        matches!(&cj.body[3], Stmt::ConnectedVpc(c) if c.vpc.text == "cj-vpc" && c.subnet.is_none())
    );
    let vpc = site(&tree, "cj-vpc");
    assert_eq!(
        declared(&vpc.body),
        ["sub-a", "CJ-SG", "CJ-AWS01", "CJ-AWS02"]
    );
    let Stmt::SecurityGroup(sg) = &vpc.body[1] else {
        panic!()
    };
    assert_eq!(sg.rules.len(), 2);
    let Stmt::Host(aws01) = &vpc.body[2] else {
        panic!()
    };
    assert_eq!(aws01.keyword, HostKeyword::Instance);
    assert_eq!(aws01.sgs.as_ref().unwrap()[0].text, "default");
}

#[test]
fn seed002_vpc_internet() {
    let tree = clean(SEED002);
    let shop = site(&tree, "shop");
    assert_eq!(shop.body.len(), 10);
    let Stmt::RouteTable(rt) = &shop.body[1] else {
        panic!()
    };
    assert!(matches!(&rt.routes[..], [RouteItem::Route(r)] if r.target.text == "igw"));
    let Stmt::Subnet(public) = &shop.body[3] else {
        panic!()
    };
    assert_eq!(public.route_table.as_ref().unwrap().text, "public-rt");
    let Stmt::Host(web) = &shop.body[6] else {
        panic!()
    };
    let public = web.public.as_ref().unwrap();
    assert_eq!(
        (public.kind, public.addr.value),
        (PublicAddrKind::Elastic, ip("54.64.1.10"))
    );
    let Stmt::Host(nat1) = &shop.body[8] else {
        panic!()
    };
    assert!(nat1.source_dest_check_off.is_some());
}

#[test]
fn seed003_privatelink() {
    let tree = clean(SEED003);
    assert_eq!(tree.items.len(), 4);
    let webvpc = site(&tree, "webvpc");
    let Some(Stmt::Nlb(nlb)) = webvpc.body.iter().find(|s| matches!(s, Stmt::Nlb(_))) else {
        panic!()
    };
    assert_eq!(nlb.scheme.value, NlbScheme::Internal);
    let [ListenerItem::Listener(l)] = &nlb.listeners[..] else {
        panic!()
    };
    assert!(matches!(
        l.service.items[..],
        [ServiceItem::Ports {
            proto: Proto::Tcp,
            lo: 80,
            hi: 80,
            ..
        }]
    ));
    assert_eq!(l.target_type.as_ref().unwrap().value, TargetType::Instance);
    let connected = site(&tree, "connected");
    let Stmt::Endpoint(ep) = &connected.body[2] else {
        panic!()
    };
    assert_eq!(
        (ep.service.text.as_str(), ep.addr.value),
        ("webvpc.web-svc", ip("10.0.3.181"))
    );
    let Item::Expect(e) = &tree.items[3] else {
        panic!()
    };
    assert_eq!(names(&e.at.as_ref().unwrap().items), ["connected.web-ep"]);
}

#[test]
fn seed004_nvgre() {
    let tree = clean(SEED004);
    let a = site(&tree, "tenant-a");
    let Stmt::VnetGateway(gw) = &a.body[3] else {
        panic!()
    };
    assert_eq!(gw.mode.value, GatewayMode::Nat);
    assert_eq!(gw.external_ip.as_ref().unwrap().value, ip("203.0.113.5"));
    assert_eq!(gw.subnet.as_ref().unwrap().text, "gw-net");
    let Item::Connection(vpn) = &tree.items[3] else {
        panic!()
    };
    assert_eq!(vpn.vpn_mode.as_ref().unwrap().value, VpnMode::RouteBased);
}

#[test]
fn the_extensions_parse() {
    let text = r#"
service web-alt [tcp/8080, tcp/8443]
service gre 47
service ops [tcp/22, 6/3389, udp/161-162, icmp/8, icmpv6]
sddc s 10.0.0.0/16 {
  description "prod \"eu\" \\ 1"
  management 10.0.0.0/23
  segment seg 10.0.4.0/24
  default-snat off
  nat dnat d 1.2.3.4 -> [10.0.4.5] service HTTPS -> 8443 firewall-match internal
  nat snat s 10.0.4.0/24 -> 1.2.3.5
  nat reflexive r 10.0.4.6 <-> 1.2.3.6
  nat no-snat n 10.0.4.0/24
  firewall mgw {
    rule a allow from [10.0.0.1-10.0.0.9, 2001:db8::/32] to any log description "x"; rule b reject from any to any
  }
}
vmnetwork v { vm a 10.1.0.5 in apps host hv1; gateway g mode forwarding host hv2 }
transit-gateway core {
  attach [a, b]
  route 10.0.0.0/8 -> blackhole
}
vpn p a <-> b policy-based {
  local [10.0.0.0/8]
  remote 192.168.0.0/16
}
peering pr a <-> b
direct-connect dx a <-> b
vpc w 10.9.0.0/16, 2001:db8:9::/48 {
  nat-gateway ng in s private
  elastic-ip e 1.2.3.4 -> ng
  network-acl acl { inbound 100 allow [tcp/22] from 10.0.0.0/8 }
  group g [
    10.0.0.1,
    10.0.0.2,
  ]
}
expect no-reach [a, b] -> c
expect egress a via dx
"#;
    let tree = clean(text);
    let s = site(&tree, "s");
    assert!(matches!(&s.body[0], Stmt::Description(d, _) if d.value == r#"prod "eu" \ 1"#));
    let Some(Stmt::Nat(d)) = s
        .body
        .iter()
        .find(|s| matches!(s, Stmt::Nat(n) if n.name.text == "d"))
    else {
        panic!()
    };
    assert_eq!(d.translated_port.as_ref().unwrap().value, 8443);
    let Item::Service(ops) = &tree.items[2] else {
        panic!()
    };
    assert!(matches!(
        ops.services.items[1],
        ServiceItem::Ports {
            proto: Proto::Tcp,
            lo: 3389,
            ..
        }
    ));
    let Item::Connection(vpn) = &tree.items[6] else {
        panic!()
    };
    assert_eq!(vpn.body.len(), 2);
    let w = site(&tree, "w");
    assert_eq!(w.prefixes.len(), 2);
}

// ---- Recovery ----------------------------------------------------------------

const THREE_ERRORS: &str = r#"sddc prod {
  segment web-tier 10.10.11.0/24
  vm web01 10.10.11.101 in web-tier
  segmnt app-tier 10.10.12.0/24
  segment db-tier 10.10.13.0/24
  vm db01 10.10.13.10 in db-tier
  firewall cgw {
    rule web-in allow from any to web01 service HTTPS applied-to internet
    rule db-in allow from web-tier db01 service MYSQL
    rule db-out allow from db-tier to tools01 service SSH applied-to vpc
  }
}
vpc shared 10.40.0.0/16 {
  subnet tools 10.40.1.0/24
  segment backup 10.40.2.0/24
  instance tools01 10.40.1.10 in tools
}
expect reach db01 -> tools01 SSH
"#;

#[test]
fn three_independent_errors_are_three_diagnostics() {
    let (tree, errs) = errors(THREE_ERRORS);
    let lines: Vec<(Code, usize)> = errs.iter().map(|(c, l, _)| (*c, *l)).collect();
    assert_eq!(
        lines,
        [(Code::NP001, 4), (Code::NP001, 9), (Code::NP001, 15)],
        "{errs:?}"
    );
    assert_eq!(errs[0].2, "unknown statement `segmnt`");
    assert_eq!(
        errs[1].2,
        "expected `to` after the rule's sources, found `db01`"
    );
    assert_eq!(errs[2].2, "`segment` is not a statement of a vpc block");

    let prod = site(&tree, "prod");
    assert_eq!(
        declared(&prod.body),
        ["web-tier", "web01", "db-tier", "db01", "cgw"]
    );
    let Some(Stmt::Firewall(fw)) = prod.body.last() else {
        panic!()
    };
    let rules: Vec<(bool, &str)> = fw
        .rules
        .iter()
        .map(|r| match r {
            RuleItem::Rule(r) => (true, r.name.text.as_str()),
            RuleItem::Broken(b) => (false, b.name.text.as_str()),
        })
        .collect();
    assert_eq!(
        rules,
        [(true, "web-in"), (false, "db-in"), (true, "db-out")]
    );
    let shared = site(&tree, "shared");
    assert_eq!(declared(&shared.body), ["tools", "tools01"]);
    assert!(matches!(tree.items.last(), Some(Item::Expect(_))));
}

#[test]
fn broken_declarations_keep_their_names() {
    let text = "sddc s {\n  vm a 10.0.0.1 on seg\n  segment b\n  group c [x,, y]\n}\nservice web tcp/99999\n";
    let (tree, errs) = errors(text);
    assert_eq!(errs.len(), 4, "{errs:?}");
    let s = site(&tree, "s");
    assert_eq!(
        broken_names(&s.body),
        [
            (DeclKind::Vm, "a".to_string()),
            (DeclKind::Segment, "b".to_string()),
            (DeclKind::Group, "c".to_string())
        ]
    );
    assert!(
        matches!(&tree.items[1], Item::Broken(b) if b.kind == DeclKind::Service && b.name.text == "web")
    );
    // A broken statement's span covers the whole statement.
    let Stmt::Broken(vm) = &s.body[0] else {
        panic!()
    };
    assert_eq!(vm.span.slice(text), "vm a 10.0.0.1 on seg");
}

#[test]
fn a_broken_site_header_still_parses_the_body() {
    let (tree, d) = one_error("vpc x 10.0.0.300/16 {\n  subnet a 10.0.0.0/24\n}\n");
    assert_eq!(d.code, Code::NP004);
    assert_eq!(d.message, "invalid IPv4 address `10.0.0.300`");
    assert_eq!(d.primary.message, "octet 300 is larger than 255");
    let x = site(&tree, "x");
    assert!(x.prefixes.is_empty());
    assert_eq!(declared(&x.body), ["a"]);

    let (tree, d) =
        one_error("vpc x 10.0.0.0/16 extra {\n  subnet a 10.0.0.0/24\n}\nvpc y 10.1.0.0/16 {}\n");
    assert_eq!(d.code, Code::NP001);
    assert_eq!(declared(&site(&tree, "x").body), ["a"]);
    site(&tree, "y");
}

#[test]
fn a_site_without_a_name_skips_its_whole_block() {
    let (tree, errs) =
        errors("vpc {\n  subnet a 10.0.0.0/24\n  segment b 1.2.3.0/24\n}\nvpc y 10.1.0.0/16 {}\n");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0]
        .2
        .starts_with("expected the vpc's name after `vpc`, found `{`"));
    assert_eq!(tree.items.len(), 1);
}

#[test]
fn unknown_keyword_suggests_the_closest() {
    let (_, d) = one_error("vpc v 10.0.0.0/16 {\n  subnt a 10.0.0.0/24\n}\n");
    assert_eq!(d.message, "unknown statement `subnt`");
    let help = d.help.unwrap();
    assert!(
        help.starts_with("did you mean `subnet`? a vpc block accepts `internet-gateway`"),
        "{help}"
    );

    let (_, d) = one_error("zebra x\n");
    assert_eq!(d.message, "unknown statement `zebra`");
    assert!(d.help.unwrap().starts_with("top level accepts `sddc`"));
}

#[test]
fn keyword_in_the_wrong_block() {
    let (_, d) = one_error("vpc v 10.0.0.0/16 {\n  segment a 10.0.0.0/24\n}\n");
    assert_eq!(d.message, "`segment` is not a statement of a vpc block");
    let help = d.help.unwrap();
    assert!(help.starts_with("in a vpc block write `subnet`"), "{help}");
    assert!(help.contains("a vpc block accepts"), "{help}");

    let (_, d) = one_error("onprem o 10.0.0.0/8 {\n  vm a 10.0.0.1 in s\n}\n");
    assert!(d
        .help
        .unwrap()
        .starts_with("in an onprem block write `host`"));

    let (_, d) = one_error("segment a 10.0.0.0/24\n");
    assert_eq!(d.message, "`segment` is not a top-level statement");

    let (_, d) = one_error("vpn v a <-> b {\n  local [a]\n}\n");
    assert!(d.help.unwrap().contains("write `policy-based`"));
}

#[test]
fn messages_say_where_and_what() {
    let (_, d) = one_error("sddc s {\n  vm a 10.0.0.1 on seg\n}\n");
    assert_eq!(
        d.message,
        "expected `in` after the vm's address, found `on`"
    );
    assert_eq!(d.primary.message, "expected `in` here");
    assert_eq!(
        d.help.as_deref(),
        Some("the form is `vm NAME ADDRESS in SEGMENT`")
    );

    let (_, d) = one_error("sddc s {\n  vm a 10.0.0.1\n}\n");
    assert_eq!(
        d.message,
        "expected `in` after the vm's address, found end of line"
    );
    assert_eq!(d.primary.span.start, d.primary.span.end);

    let (_, d) = one_error("expect reach a ->");
    assert_eq!(
        d.message,
        "expected the destination after `->`, found end of file"
    );

    let (_, d) = one_error("vpc v 10.0.0.0/16 {\n  instance i 10.0.0.5 in s sg a sg b\n}\n");
    assert_eq!(d.message, "`sg` given twice");
    assert_eq!(d.secondary.len(), 1);

    let (_, d) = one_error("vpc v 10.0.0.0/16 {\n  instance i 10.0.0.5 in s sgg [a]\n}\n");
    assert_eq!(d.message, "unexpected `sgg` in an instance statement");
    assert!(d.help.unwrap().starts_with("did you mean `sg`?"));
}

#[test]
fn unclosed_braces_point_at_the_opener() {
    let text =
        "sddc s {\n  segment a 10.0.0.0/24\n\nvpc v 10.1.0.0/16 {\n  subnet b 10.1.0.0/24\n}\n";
    let (tree, d) = one_error(text);
    assert_eq!(d.message, "this `{` is never closed");
    assert_eq!(d.primary.span.slice(text), "{");
    assert_eq!(d.primary.span.start, 7);
    // The next site is parsed as a site, not as a statement of the first.
    assert_eq!(declared(&site(&tree, "s").body), ["a"]);
    assert_eq!(declared(&site(&tree, "v").body), ["b"]);

    let (_, d) = one_error("vpc v 10.1.0.0/16 {\n  subnet b 10.1.0.0/24\n");
    assert_eq!(d.message, "this `{` is never closed");

    let text =
        "sddc s {\n  firewall cgw {\n    rule r allow from a to b\n  vm x 10.0.0.1 in a\n}\n";
    let (tree, d) = one_error(text);
    assert_eq!(d.primary.span.slice(text), "{");
    assert_eq!(declared(&site(&tree, "s").body), ["cgw", "x"]);

    let (_, d) = one_error("}\n");
    assert_eq!(d.message, "unmatched `}`");
}

#[test]
fn a_misplaced_brace_or_missing_brace_is_one_error() {
    let (tree, d) = one_error("vpc v 10.0.0.0/16\n{\n  subnet a 10.0.0.0/24\n}\n");
    assert!(
        d.message.contains("must be on the line of its header"),
        "{}",
        d.message
    );
    assert_eq!(declared(&site(&tree, "v").body), ["a"]);

    let (tree, d) = one_error("vpc v 10.0.0.0/16\n  subnet a 10.0.0.0/24\n}\n");
    assert_eq!(
        d.message,
        "expected `{` after the vpc's prefixes, found end of line"
    );
    assert_eq!(declared(&site(&tree, "v").body), ["a"]);
}

#[test]
fn lists() {
    let (_, d) = one_error("sddc s {\n  group g [a, [b, c], d]\n}\n");
    assert_eq!(d.message, "lists do not nest");

    // A forgotten `]`: reported at the `[`, and the next line still parses.
    let text =
        "vpc v 10.0.0.0/16 {\n  instance i 10.0.0.5 in s sg [a, b\n  subnet s 10.0.0.0/24\n}\n";
    let (tree, d) = one_error(text);
    assert_eq!(d.message, "this `[` is never closed");
    assert_eq!(d.primary.span.slice(text), "[");
    assert_eq!(declared(&site(&tree, "v").body), ["i", "s"]);

    // A missing comma in a list that is closed on the line.
    let (_, d) = one_error("sddc s {\n  group g [a b]\n}\n");
    assert_eq!(
        d.message,
        "expected `,` or `]` after a list item, found `b`"
    );

    // Lists span lines and take a trailing comma.
    let tree = clean("sddc s {\n  group g [\n    a,\n    b,\n  ]\n}\n");
    let Stmt::Group(g) = &site(&tree, "s").body[0] else {
        panic!()
    };
    assert_eq!(names(&g.members.items), ["a", "b"]);
}

#[test]
fn sg_items_only_in_security_group_rules() {
    let tree = clean("vpc v 10.0.0.0/16 {\n  security-group a {\n    inbound any from [sg a, 10.0.0.0/8]\n  }\n}\n");
    let Stmt::SecurityGroup(sg) = &site(&tree, "v").body[0] else {
        panic!()
    };
    let SgRuleItem::Rule(r) = &sg.rules[0] else {
        panic!()
    };
    assert_eq!(names(&r.peers.items), ["sg a", "10.0.0.0/8"]);

    let (_, d) = one_error("sddc s {\n  group g [sg a]\n}\n");
    assert_eq!(
        d.message,
        "`sg NAME` is only allowed in security-group rules"
    );
}

#[test]
fn strings_and_junk() {
    let (tree, d) =
        one_error("sddc s {\n  description \"unterminated\n  segment a 10.0.0.0/24\n}\n");
    assert_eq!(d.message, "unterminated string");
    assert_eq!(declared(&site(&tree, "s").body), ["a"]);

    let (tree, d) = one_error("sddc s {\n  segment a 10.0.0.0/24 @\n  segment b 10.0.1.0/24\n}\n");
    assert_eq!(d.message, "unexpected character `@`");
    assert_eq!(
        broken_names(&site(&tree, "s").body),
        [(DeclKind::Segment, "a".to_string())]
    );
}

#[test]
fn odd_line_endings_and_bytes() {
    let tree = clean("sddc s {\r\n  segment a 10.0.0.0/24\r\n}\r\n");
    assert_eq!(declared(&site(&tree, "s").body), ["a"]);
    let tree = clean("\u{feff}sddc s {}\n");
    assert_eq!(tree.items.len(), 1);
    let (_, errs) = errors("sddc a {\0\0}\r\n\u{feff}vpc\r\n");
    assert!(!errs.is_empty());
}

// ---- Literals ------------------------------------------------------------------

#[test]
fn invalid_literals_are_np004_and_keep_the_name() {
    let cases = [
        ("service alt tcp/2000-1000", "port range `2000-1000` runs backwards"),
        ("service ops [tcp/22, udp/70000]", "port 70000 is out of range"),
        ("service weird 300", "protocol number 300 is out of range"),
        ("service t icmp/300", "icmp type 300 is out of range"),
        ("service g 47/80", "protocol 47 has no ports"),
        ("sddc s {\n segment a 10.0.0.0/33\n}", "prefix length /33 is too long for IPv4"),
        ("sddc s {\n segment a 2001:db8::/129\n}", "prefix length /129 is too long for IPv6"),
        ("sddc s {\n vm a 10.0.0.256 in s\n}", "invalid IPv4 address `10.0.0.256`"),
        ("sddc s {\n vm a 10.0.0 in s\n}", "invalid IPv4 address `10.0.0`"),
        ("sddc s {\n vm a 2001:db8:::1 in s\n}", "invalid IPv6 address `2001:db8:::1`"),
        ("sddc s {\n vm a 1::2::3 in s\n}", "invalid IPv6 address `1::2::3`"),
        ("sddc s {\n group g [10.0.0.20-10.0.0.10]\n}", "range `10.0.0.20-10.0.0.10` runs backwards"),
        ("sddc s {\n group g [10.0.0.1-::1]\n}", "range `10.0.0.1-::1` mixes IPv4 and IPv6"),
        ("sddc s {\n nat dnat n 1.2.3.4 -> a service HTTPS -> 70000\n}", "port 70000 is out of range"),
        ("sddc s {\n segment a 10.0.0.5\n}", "expected the segment's prefix after its name, found `10.0.0.5`"),
        ("sddc s {\n vm a 10.0.0.0/24 in s\n}", "expected the vm's address after its name, found `10.0.0.0/24`"),
        (
            "vpc v 10.0.0.0/16 {\n network-acl n {\n  inbound 0 allow any from 0.0.0.0/0\n }\n}",
            "rule number 0 is out of range",
        ),
        (
            "vpc v 10.0.0.0/16 {\n network-acl n {\n  inbound 40000 allow any from 0.0.0.0/0\n }\n}",
            "rule number 40000 is out of range",
        ),
        (
            "vpc v 10.0.0.0/16 {\n nlb n internal in [s] {\n  listener tcp/80 -> [a] port 0\n }\n}",
            "listener port 0 is out of range",
        ),
    ];
    for (text, message) in cases {
        let (tree, d) = one_error(text);
        assert_eq!(d.code, Code::NP004, "{text}");
        assert_eq!(d.message, message, "{text}");
        // The declaring statement is kept as broken, with its name.
        let broken = match &tree.items[0] {
            Item::Broken(b) => Some(b.name.text.to_string()),
            Item::Site(s) => s.body.iter().find_map(|st| match st {
                Stmt::Broken(b) => Some(b.name.text.to_string()),
                _ => None,
            }),
            _ => None,
        };
        let inner_rule_broken = matches!(&tree.items[0], Item::Site(s) if s.body.iter().any(|st| matches!(st,
            Stmt::NetworkAcl(a) if matches!(a.rules[..], [AclRuleItem::Broken(_)])) || matches!(st,
            Stmt::Nlb(n) if matches!(n.listeners[..], [ListenerItem::Broken(_)]))));
        assert!(
            broken.is_some() || inner_rule_broken,
            "{text}: not kept as broken: {tree:?}"
        );
    }
}

#[test]
fn literal_labels_point_inside_the_atom() {
    let text = "sddc s {\n vm a 10.0.0.256 in s\n}";
    let (_, d) = one_error(text);
    assert_eq!(d.primary.span.slice(text), "256");
    assert_eq!(d.primary.message, "octet 256 is larger than 255");
}

#[test]
fn host_bits_are_np005_with_a_fix_and_parsing_goes_on() {
    let text = "vpc shared 10.40.0.1/16 {\n  subnet tools 10.40.1.10/24\n  route-table rt main {\n    route 10.10.11.5/24 -> sddc\n  }\n}\n";
    let p = parse(text);
    let codes: Vec<Code> = p.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::NP005, Code::NP005, Code::NP005]);
    let fix = p.diagnostics[0].fix.as_ref().unwrap();
    assert_eq!(fix.edits[0].replacement, "10.40.0.0/16");
    assert_eq!(fix.edits[0].span.slice(text), "10.40.0.1/16");
    let shared = site(&p.tree, "shared");
    assert_eq!(shared.prefixes[0].value.to_string(), "10.40.0.0/16");
    let Stmt::Subnet(tools) = &shared.body[0] else {
        panic!("the subnet is not broken")
    };
    assert_eq!(tools.prefix.value.to_string(), "10.40.1.0/24");
    let Stmt::RouteTable(rt) = &shared.body[1] else {
        panic!()
    };
    assert!(
        matches!(&rt.routes[..], [RouteItem::Route(r)] if r.prefix.value.to_string() == "10.10.11.0/24")
    );
}

// ---- Robustness ------------------------------------------------------------------

#[test]
fn deep_nesting_is_a_diagnostic_not_a_stack_overflow() {
    for open in [
        "{",
        "[",
        "sddc a {",
        "vpc v 10.0.0.0/16 { route-table r {",
        "sddc s { group g [",
        "}",
        "]",
    ] {
        let text = open.repeat(100_000);
        let (_, errs) = errors(&text);
        assert!(
            errs.iter().any(|(c, _, _)| *c == Code::NP001),
            "no syntax error for deep `{open}`"
        );
        assert!(errs.len() <= 4, "`{open}` gave {} diagnostics", errs.len());
    }
    // The same on separate lines.
    let text = "sddc a {\n".repeat(100_000);
    let (_, errs) = errors(&text);
    assert!(!errs.is_empty());
}

#[test]
fn a_megabyte_line() {
    let members: Vec<String> = (0..60_000)
        .map(|i| format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256))
        .collect();
    let text = format!("sddc s {{\n  group big [{}]\n}}\n", members.join(", "));
    assert!(text.len() > 700_000);
    let tree = clean(&text);
    let Stmt::Group(g) = &site(&tree, "s").body[0] else {
        panic!()
    };
    assert_eq!(g.members.items.len(), 60_000);

    for garbage in [
        "@".repeat(1_000_000),
        "a".repeat(1_000_000),
        "1".repeat(1_000_000),
        "vm ".repeat(300_000),
    ] {
        let (_, errs) = errors(&garbage);
        assert!(errs.iter().any(|(c, _, _)| *c == Code::NP001));
        assert!(errs.iter().all(|(_, _, m)| m.len() < 300));
    }
}

/// A design of about `lines` lines, every statement form included.
fn generated_design(lines: usize) -> String {
    let mut out = String::with_capacity(lines * 40);
    let mut i = 0usize;
    let mut n = 0;
    while n < lines {
        let before = out.len();
        let (a, b) = (i / 250 % 250, i % 250);
        out.push_str(&format!(
            "sddc s{i} 10.{a}.0.0/16 {{\n  segment seg{i} 10.{a}.{b}.0/24   # a comment\n  vm vm{i} 10.{a}.{b}.10 in seg{i}\n  group g{i} [vm{i}, 10.{a}.{b}.0/28, 10.{a}.{b}.20-10.{a}.{b}.30]\n  public-ip pip{i} 52.0.{b}.1\n  nat dnat d{i} 52.0.{b}.1 -> vm{i} service HTTPS -> 8443\n  firewall cgw {{\n    rule r{i} allow from any to vm{i} service [HTTPS, tcp/8080-8090] applied-to internet log\n  }}\n}}\n"
        ));
        out.push_str(&format!(
            "vpc v{i} 172.16.0.0/16, 2001:db8:{b:x}::/48 {{\n  internet-gateway igw{i}\n  route-table rt{i} main {{\n    route 0.0.0.0/0 -> igw{i}\n  }}\n  subnet sn{i} 172.16.{b}.0/24 route-table rt{i}\n  security-group sg{i} {{\n    inbound [tcp/22, HTTPS] from [sg sg{i}, 10.0.0.0/8]\n    outbound any to 0.0.0.0/0\n  }}\n  instance in{i} 172.16.{b}.10 in sn{i} sg [sg{i}] elastic-ip 54.0.{b}.1\n}}\n"
        ));
        out.push_str(&format!(
            "direct-connect dx{i} s{i} <-> v{i} {{\n  advertise s{i} 10.{a}.0.0/16, 10.{a}.1.0/24\n}}\nexpect reach vm{i} -> in{i} at 54.0.{b}.1 [HTTPS, SSH]\n\n"
        ));
        n += out[before..].matches('\n').count();
        i += 1;
    }
    out
}

#[test]
fn a_generated_design_parses_clean() {
    let text = generated_design(3_000);
    let tree = clean(&text);
    assert!(tree.items.len() > 300);
}

/// Run with `cargo test --release --lib parse_speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn parse_speed() {
    let text = generated_design(100_000);
    let lines = text.lines().count();
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let p = parse(&text);
        best = best.min(start.elapsed());
        assert!(p.diagnostics.is_empty());
    }
    println!("parsed {lines} lines ({} bytes) in {best:?}", text.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn strings_at_the_end_of_the_text(text in "[a-z \"\\\\]{0,20}") {
        let p = parse(&text);
        assert_spans_valid(&text, &p.tree, &p.diagnostics);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let p = parse(&text);
        assert_spans_valid(&text, &p.tree, &p.diagnostics);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let p = parse(&text);
        assert_spans_valid(&text, &p.tree, &p.diagnostics);
        // Text that is not only blanks and comments, but has no statement,
        // must say something.
        let meaningful = |l: &str| !l.split('#').next().unwrap_or("").replace(';', "").trim().is_empty();
        if p.tree.items.is_empty() && text.lines().any(meaningful) {
            prop_assert!(!p.diagnostics.is_empty(), "silent on {:?}", text);
        }
    }

    #[test]
    fn token_soup_never_panics(words in proptest::collection::vec(
        "[a-z{}\\[\\],;:/.0-9 -]{0,12}|->|<->|\n|sddc s \\{|vpc v 10.0.0.0/16 \\{|\\}|segment|vm|rule|\\[|\"x\"|#c\n",
        0..200,
    )) {
        let text = words.join(" ");
        let p = parse(&text);
        assert_spans_valid(&text, &p.tree, &p.diagnostics);
    }

    #[test]
    fn mutated_examples_never_panic(cut in 0usize..2000, len in 0usize..40, insert in "[ -~\n]{0,10}") {
        let base = [SEED000, SEED001, SEED002, SEED003, SEED004].concat();
        let start = cut.min(base.len());
        let end = (start + len).min(base.len());
        let text = format!("{}{}{}", &base[..start], insert, &base[end..]);
        let p = parse(&text);
        assert_spans_valid(&text, &p.tree, &p.diagnostics);
    }
}

#[test]
fn a_missing_brace_on_an_inner_block_is_one_error() {
    let text = "sddc s {\n  firewall cgw\n    rule a allow from x to y\n  }\n  vm v 10.0.0.1 in seg\n}\ndirect-connect dx a <-> b\n  advertise a 10.0.0.0/8\n}\n";
    let (tree, errs) = errors(text);
    assert_eq!(errs.len(), 2, "{errs:?}");
    let s = site(&tree, "s");
    assert_eq!(declared(&s.body), ["cgw", "v"]);
    let Item::Connection(dx) = &tree.items[1] else {
        panic!()
    };
    assert_eq!(dx.body.len(), 1);
}

#[test]
fn keyword_named_items_in_multi_line_lists() {
    let text = "sddc s {\n  firewall cgw {\n    rule r allow from a to b applied-to [\n      internet,\n      vpn\n    ]\n  }\n}\n";
    let tree = clean(text);
    let Stmt::Firewall(fw) = &site(&tree, "s").body[0] else {
        panic!()
    };
    let RuleItem::Rule(r) = &fw.rules[0] else {
        panic!()
    };
    let applied: Vec<&str> = r
        .applied_to
        .iter()
        .flatten()
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(applied, ["internet", "vpn"]);
}

// ---- Parallel parsing ------------------------------------------------------

/// Every fixture and a small generated design, each also with one line in
/// every few deleted in turn, which loses `{` and `}` and leaves statements
/// half-written: the cases where a run can start at a token the sequential
/// parse is not at the top level for.
fn split_corpus() -> Vec<String> {
    fn collect(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                collect(&path, out);
            } else if path.extension().is_some_and(|e| e == "np") {
                out.extend(std::fs::read_to_string(&path).ok());
            }
        }
    }
    let mut texts = Vec::new();
    collect(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut texts,
    );
    texts.push(crate::gen::generate(&crate::gen::GenParams {
        lines: 400,
        rules_per_firewall: 5,
        routes_per_table: 5,
        ..crate::gen::GenParams::default()
    }));
    // Lists may span lines, so an unclosed `[` runs over the next lines'
    // top-level keywords: runs that start there must be thrown away.
    texts.push("expect reach [a, b\nvpc v 10.0.0.0/16 {\n  subnet s 10.0.0.0/24\n}\nvpc w 10.1.0.0/16 {\n}\n".into());
    texts.push("sddc s {\n  firewall f {\n    rule r allow from [a,\nvpc v 10.0.0.0/16 {\n}\n  }\n}\nvpc w 10.1.0.0/16 {\n}\nexpect reach [x,\nservice h tcp/1\nservice i tcp/2\n".into());
    // A keyword alone on its line is a list item, not a statement.
    texts.push("expect reach [a,\nvpc\n] -> b\nvpc w 10.1.0.0/16 {\n}\nexpect reach [a,\nservice\nvpc\nexpect\n] -> b\n".into());
    texts.push(
        "}\n}}\nvpc v 10.0.0.0/16\n  subnet s 10.0.0.0/24\nvpc w 10.1.0.0/16 {\n\"{\" # {\n}\n"
            .into(),
    );
    let mut broken = Vec::new();
    for text in &texts {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let every = (lines.len() / 40).max(1);
        for cut in (0..lines.len()).step_by(every) {
            let mut t = String::new();
            for (i, line) in lines.iter().enumerate() {
                if i != cut {
                    t.push_str(line);
                }
            }
            broken.push(t);
        }
        // A site whose `}` is indented like its statements, so that the
        // next site's keyword looks like a top-level start but is not.
        broken.push(text.replace("\n}\n", "\n  }\n"));
    }
    texts.extend(broken);
    texts
}

/// A parse in runs, started at every top-level keyword at column 0 outside
/// braces, gives exactly the tree and findings of one sequential parse.
#[test]
fn runs_parse_like_one_pass() {
    let mut split = 0;
    for text in split_corpus() {
        let whole = super::parser::parse_in_runs(&text, None);
        for stride in [1, 7, 50] {
            let runs = super::parser::parse_in_runs(&text, Some(stride));
            assert!(
                runs.0 == whole.0,
                "trees differ (stride {stride}) for:\n{text}"
            );
            assert!(
                runs.1 == whole.1,
                "findings differ (stride {stride}) for:\n{text}\n{:?}\n{:?}",
                runs.1,
                whole.1
            );
        }
        split += 1;
    }
    assert!(split > 100, "only {split} texts");
}

// ---- Appliances --------------------------------------------------------------

#[test]
fn an_appliance_has_a_kind_a_name_and_an_address_and_no_segment() {
    let text = "sddc prod {\n  management 10.2.0.0/20\n  appliance nsx-manager nsx1 10.2.0.5\n}\n";
    let tree = clean(text);
    let Item::Site(site) = &tree.items[0] else {
        panic!("no site")
    };
    let Stmt::Host(h) = &site.body[1] else {
        panic!("no appliance: {:?}", site.body)
    };
    assert_eq!(h.keyword, HostKeyword::Appliance(ApplianceKind::NsxManager));
    assert_eq!(h.name.text, "nsx1");
    assert_eq!(h.addr.value.to_string(), "10.2.0.5");
    assert!(h.subnet.is_none());
    assert_eq!(h.span.slice(text), "appliance nsx-manager nsx1 10.2.0.5");
}

#[test]
fn an_appliance_of_an_unknown_kind_or_with_a_segment_is_a_syntax_error() {
    let (_, errs) = errors("sddc prod {\n  appliance vcentre vc 10.2.0.4\n}\n");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, Code::NP001);
    assert!(errs[0].2.contains("appliance's kind"), "{errs:?}");
    let (_, errs) = errors("sddc prod {\n  appliance vcenter vc 10.2.0.4 in mgmt\n}\n");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].2.contains("end of the statement"), "{errs:?}");
    // Only an sddc has appliances.
    let (_, errs) = errors("onprem dc 172.20.0.0/16 {\n  appliance vcenter vc 172.20.0.4\n}\n");
    assert_eq!(errs.len(), 1, "{errs:?}");
}

/// `prefix-list` (customer-managed and an AWS service's), a route to a
/// prefix list, and `gateway-endpoint` with one or several route tables.
#[test]
fn prefix_lists_and_gateway_endpoints_parse() {
    let tree = clean(
        "prefix-list s3 service s3 [52.216.0.0/15, 3.5.0.0/19]\n\
         prefix-list corp 192.0.2.0/24\n\
         vpc v 10.0.0.0/16 {\n  \
           route-table rt {\n    route corp -> igw\n    route 0.0.0.0/0 -> igw\n  }\n  \
           internet-gateway igw\n  \
           gateway-endpoint ep s3 route-tables [rt]\n  \
           gateway-endpoint ep2 s3 route-tables rt\n\
         }\n",
    );
    let Item::PrefixList(s3) = &tree.items[0] else {
        panic!("not a prefix list: {:?}", tree.items[0]);
    };
    assert_eq!(s3.name.text, "s3");
    assert_eq!(s3.service.as_ref().map(|s| s.value), Some(AwsService::S3));
    assert_eq!(s3.prefixes.len(), 2);
    let Item::PrefixList(corp) = &tree.items[1] else {
        panic!("not a prefix list");
    };
    assert!(corp.service.is_none());
    assert_eq!(corp.prefixes.len(), 1);
    let Item::Site(v) = &tree.items[2] else {
        panic!("not a site");
    };
    let Stmt::RouteTable(rt) = &v.body[0] else {
        panic!("not a route table");
    };
    assert!(
        matches!(&rt.routes[..], [RouteItem::List(l), RouteItem::Route(r)]
            if l.list.text == "corp" && l.target.text == "igw" && r.target.text == "igw")
    );
    let Stmt::GatewayEndpoint(ep) = &v.body[2] else {
        panic!("not a gateway endpoint");
    };
    assert_eq!(ep.list.text, "s3");
    assert_eq!(ep.route_tables.len(), 1);
    assert!(matches!(&v.body[3], Stmt::GatewayEndpoint(e) if e.route_tables[0].text == "rt"));
}

#[test]
fn a_gateway_endpoint_needs_its_route_tables() {
    let diags = parse("vpc v 10.0.0.0/16 {\n  gateway-endpoint ep s3\n}\n").diagnostics;
    assert!(diags.iter().any(|d| d.code == Code::NP001), "{diags:?}");
}
