//! NP201 firewall-matches-public-address: a gateway firewall rule names the
//! external address of a NAT rule whose firewall match is `internal`.
//!
//! NSX runs NAT before the gateway firewall, and with `firewall-match
//! internal` (VMware's default, and netproof's) the firewall sees the
//! private side: DNAT's translated destination, SNAT's original source. A
//! rule written against the public address therefore never matches that
//! traffic, which is the mistake seed 000 warns about. The fix replaces the
//! public address with the NAT rule's internal side: the host's name when it
//! is one named host, else its address.

use super::nat::{internal_text, kind_word, single_addr};
use crate::diagnostic::{Diagnostic, Edit};
use crate::model::{AddrTerm, Entity, FirewallKind, FirewallRule, Model, NatRule, Uplink};
use crate::registry::Code;
use crate::span::Spanned;
use crate::syntax::ast::{FirewallMatch, NatKind};
use std::collections::HashSet;
use std::net::IpAddr;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for fw in &model.firewalls {
        let word = match fw.kind {
            FirewallKind::Cgw => "gateway firewall",
            FirewallKind::Edge => "edge firewall",
            // NAT never applies on the management gateway.
            FirewallKind::Mgw => continue,
        };
        let nats: Vec<&NatRule> = model
            .nat_rules
            .iter()
            .filter(|n| n.site == fw.site && n.firewall_match == FirewallMatch::Internal)
            .collect();
        for rule in fw.rules.iter().filter(|r| on_internet(r)) {
            // One finding per address a rule names, even when several NAT
            // rules (one per service, say) publish it.
            let mut seen = HashSet::new();
            for (term, inbound) in terms(rule) {
                let Some(addr) = public_addr(model, &term.value) else {
                    continue;
                };
                let hit = nats.iter().find(|n| translates(model, n, addr, inbound));
                if let Some(nat) = hit {
                    if seen.insert(term.span) {
                        out.push(diagnostic(model, word, rule, term, addr, nat, inbound));
                    }
                }
            }
        }
    }
}

/// Whether a firewall rule judges the internet uplink, where NAT happens.
fn on_internet(rule: &FirewallRule) -> bool {
    rule.applied_to
        .iter()
        .any(|u| matches!(u.value, Uplink::Internet | Uplink::AllUplinks))
}

/// The rule's destination terms (judged against DNAT) and source terms
/// (judged against SNAT), each with `true` for destinations.
fn terms(rule: &FirewallRule) -> impl Iterator<Item = (&Spanned<AddrTerm>, bool)> {
    let to = rule.to.terms.iter().map(|t| (t, true));
    let from = rule.from.terms.iter().map(|t| (t, false));
    to.chain(from)
}

/// The address a term names, when it is one address written out or a public
/// IP by name; hosts are private and never a NAT rule's external side.
fn public_addr(model: &Model, term: &AddrTerm) -> Option<IpAddr> {
    match term {
        AddrTerm::Entity(Entity::Host(_)) => None,
        t => single_addr(model, t),
    }
}

/// Whether `nat` hides `addr` from the firewall in that direction: a DNAT
/// (or reflexive rule) rewrites it as a destination, an SNAT (or reflexive
/// rule) as a source.
fn translates(model: &Model, nat: &NatRule, addr: IpAddr, inbound: bool) -> bool {
    let kind_fits = match nat.kind {
        NatKind::Dnat => inbound,
        NatKind::Snat => !inbound,
        NatKind::Reflexive => true,
        NatKind::NoSnat => false,
    };
    kind_fits
        && nat.external.as_ref().is_some_and(|e| {
            e.terms
                .iter()
                .any(|t| single_addr(model, &t.value) == Some(addr))
        })
}

fn diagnostic(
    model: &Model,
    word: &str,
    rule: &FirewallRule,
    term: &Spanned<AddrTerm>,
    addr: IpAddr,
    nat: &NatRule,
    inbound: bool,
) -> Diagnostic {
    let kind = kind_word(nat.kind);
    let nat_name = &nat.decl.name;
    let rule_name = &rule.decl.name;
    let internal = internal_text(model, nat);
    let written = match term.value {
        AddrTerm::Entity(e @ Entity::PublicIp(_)) => format!("`{}` ({addr})", model.decl(e).name),
        _ => addr.to_string(),
    };
    let shown = internal
        .as_ref()
        .map_or_else(|| "its internal side".to_string(), |(a, _)| a.clone());
    let message = if inbound {
        format!(
            "rule `{rule_name}` matches {written}, but {kind} `{nat_name}` translates it to {shown} \
             before the {word} runs"
        )
    } else {
        format!(
            "rule `{rule_name}` matches {written} as a source, but the {word} sees {kind} \
             `{nat_name}`'s original source {shown}, not the address it translates to"
        )
    };
    let matched = if nat.firewall_match_span.is_some() {
        "`firewall-match internal`"
    } else {
        "`firewall-match internal`, the default"
    };
    let mut d = Diagnostic::new(
        Code::NP201,
        message,
        term.span,
        "the firewall never sees this address",
    )
    .with_label(rule.decl.name_span, format!("rule `{rule_name}`"))
    .with_label(nat.decl.name_span, format!("{kind} to {shown} runs first"));
    if let Some(span) = nat.firewall_match_span {
        d = d.with_label(span, "the firewall sees the private side");
    }
    match internal {
        Some((_, text)) => d
            .with_help(format!(
                "NAT runs before the {word}, which sees the private side ({matched}): \
                 write `{text}` instead of {addr}"
            ))
            .with_fix(
                format!("replace {written} with `{text}` in rule `{rule_name}`"),
                vec![Edit {
                    span: term.span,
                    replacement: text,
                }],
            ),
        None => d.with_help(format!(
            "NAT runs before the {word}, which sees the private side ({matched}): \
             match the internal side of {kind} `{nat_name}` instead of {addr}"
        )),
    }
}
