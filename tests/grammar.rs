//! The grammar's examples and every fixture parse: only the NP001 fixtures
//! that are meant to fail may contain syntax errors.

mod common;

use common::*;
use std::path::Path;

#[test]
fn grammar_examples_are_clean() {
    let files = np_files(Path::new("grammar"));
    assert!(!files.is_empty(), "grammar/ has no examples");
    for path in files {
        let report = check_file(&path);
        assert!(
            report.diagnostics.is_empty(),
            "{} is not clean:\n{}",
            path.display(),
            render_all(&report)
        );
    }
}

#[test]
fn every_fixture_parses() {
    let files = np_files(Path::new("fixtures"));
    assert!(files.len() >= 20, "expected the rule and scenario fixtures");
    for path in files {
        let meant_to_fail =
            path.starts_with("fixtures/rules/NP001") && path.to_string_lossy().contains("fires");
        if meant_to_fail {
            continue;
        }
        let report = check_file(&path);
        assert!(
            !codes(&report).contains(&"NP001"),
            "{} has syntax errors:\n{}",
            path.display(),
            render_all(&report)
        );
    }
}

/// Every statement keyword the parser accepts appears in the normative
/// grammar as a quoted terminal, so the two cannot drift apart silently.
#[test]
fn grammar_names_every_statement_keyword() {
    let ebnf = std::fs::read_to_string(root().join("grammar/netproof.ebnf"))
        .expect("grammar/netproof.ebnf");
    for kw in netproof::syntax::STATEMENT_KEYWORDS {
        assert!(
            ebnf.contains(&format!("\"{kw}\"")) || ebnf.contains(&format!("'{kw}'")),
            "the grammar does not mention the keyword `{kw}`"
        );
    }
}

/// The NP001 messages of a text, in order.
fn syntax_errors(text: &str) -> Vec<String> {
    netproof::syntax::parse(text)
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "NP001")
        .map(|d| d.message.clone())
        .collect()
}

/// `inbound none` / `outbound none` stand alone; with `to`/`from` after
/// it, `none` is a service's name. Together with a rule of the same
/// direction, or twice, it is a syntax error, pointing at the later one.
#[test]
fn security_group_none_statements() {
    use netproof::syntax::ast::{Direction, SgRuleItem, Stmt};
    let text = "vpc v 10.0.0.0/16 {\n  security-group g {\n    inbound HTTPS from 0.0.0.0/0\n    outbound none\n  }\n  security-group h {\n    inbound none\n    outbound none to 0.0.0.0/0\n  }\n}\n";
    let parsed = netproof::syntax::parse(text);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let netproof::syntax::ast::Item::Site(site) = &parsed.tree.items[0] else {
        panic!("a site")
    };
    let rules = |i: usize| match &site.body[i] {
        Stmt::SecurityGroup(g) => g.rules.clone(),
        other => panic!("not a security group: {other:?}"),
    };
    assert!(
        matches!(&rules(0)[1], SgRuleItem::None(n) if n.direction.value == Direction::Outbound)
    );
    assert!(matches!(&rules(1)[0], SgRuleItem::None(n) if n.direction.value == Direction::Inbound));
    assert!(
        matches!(&rules(1)[1], SgRuleItem::Rule(r) if r.direction.value == Direction::Outbound)
    );

    let group =
        |body: &str| format!("vpc v 10.0.0.0/16 {{\n  security-group g {{\n{body}  }}\n}}\n");
    let after = syntax_errors(&group("    outbound none\n    outbound any to 0.0.0.0/0\n"));
    assert_eq!(
        after,
        ["`outbound none` and an `outbound` rule in one security group"]
    );
    let report =
        netproof::syntax::parse(&group("    outbound any to 0.0.0.0/0\n    outbound none\n"));
    let d = &report.diagnostics[0];
    assert_eq!(
        d.primary
            .span
            .slice(&group("    outbound any to 0.0.0.0/0\n    outbound none\n")),
        "outbound none",
        "the error is on the later statement"
    );
    assert_eq!(
        syntax_errors(&group("    inbound none\n    inbound none\n")),
        ["`inbound none` given twice"]
    );
    // Directions do not conflict with each other.
    assert!(syntax_errors(&group("    inbound none\n    outbound any to 0.0.0.0/0\n")).is_empty());
}

/// `nat-gateway NAME in SUBNET KIND [ip ADDRESS]`, the kind and `ip` in
/// either order, each once; the kind is required.
#[test]
fn nat_gateway_private_address_clause() {
    use netproof::syntax::ast::{NatGatewayKind, Stmt};
    let vpc = |line: &str| format!("vpc v 10.0.0.0/16 {{\n  subnet a 10.0.1.0/24\n  {line}\n}}\n");
    for line in [
        "nat-gateway n in a elastic-ip 198.51.100.1 ip 10.0.1.9",
        "nat-gateway n in a ip 10.0.1.9 elastic-ip 198.51.100.1",
        "nat-gateway n in a private ip 10.0.1.9",
        "nat-gateway n in a ip 10.0.1.9 private",
    ] {
        let parsed = netproof::syntax::parse(&vpc(line));
        assert!(
            parsed.diagnostics.is_empty(),
            "{line}: {:?}",
            parsed.diagnostics
        );
        let netproof::syntax::ast::Item::Site(site) = &parsed.tree.items[0] else {
            panic!("a site")
        };
        let Stmt::NatGateway(n) = &site.body[1] else {
            panic!("{line}: not a NAT gateway")
        };
        assert_eq!(
            n.addr.as_ref().map(|a| a.value.to_string()).as_deref(),
            Some("10.0.1.9")
        );
        assert_eq!(
            matches!(n.kind, NatGatewayKind::Private(_)),
            line.contains("private"),
            "{line}"
        );
    }
    assert_eq!(
        syntax_errors(&vpc("nat-gateway n in a private ip 10.0.1.9 ip 10.0.1.10")),
        ["`ip` given twice"]
    );
    assert_eq!(
        syntax_errors(&vpc("nat-gateway n in a private elastic-ip 198.51.100.1")),
        ["`elastic-ip` after the NAT gateway's kind was given"]
    );
    assert_eq!(
        syntax_errors(&vpc("nat-gateway n in a ip 10.0.1.9")),
        ["expected `elastic-ip ADDRESS` or `private` after the NAT gateway's subnet, found end of line"]
    );
    assert_eq!(
        syntax_errors(&vpc("nat-gateway n in a private sg x")),
        ["unexpected `sg` in a nat-gateway statement"]
    );
}
