//! NP203 asymmetric-nat-default-route: an SDDC publishes a VM by DNAT while
//! its default route is learned over Direct Connect or a route-based VPN.
//!
//! The compute gateway prefers a learned 0.0.0.0/0 to its internet default
//! (seed 000), so the published VM's replies to internet clients leave by
//! that link, untranslated, instead of back through the internet uplink
//! that holds the DNAT session: the client never gets an answer from the
//! public address it used. VMware's NAT documentation says the same: with a
//! default route learned over Direct Connect or VPN, SDDC NAT works for
//! inbound traffic but not for its replies. The remedy is to publish through
//! the on-prem edge, whose internet exit the replies do take.

use super::nat::{internal_text, kind_word};
use crate::diagnostic::Diagnostic;
use crate::model::{Advertise, Connection, Model, NatRule};
use crate::registry::Code;
use crate::span::Spanned;
use crate::syntax::ast::{ConnKind, NatKind, SiteKind, VpnMode};
use ipnet::IpNet;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for nat in &model.nat_rules {
        if !matches!(nat.kind, NatKind::Dnat | NatKind::Reflexive) {
            continue;
        }
        if model.sites.get(nat.site.index()).map(|s| s.kind) != Some(SiteKind::Sddc) {
            continue;
        }
        let Some(external) = &nat.external else {
            continue;
        };
        let nets = super::nat::nets(model, external);
        let v4 = nets.iter().any(|n| n.addr().is_ipv4());
        let v6 = nets.iter().any(|n| n.addr().is_ipv6());
        let learned = model.connections.iter().find_map(|c| {
            learned_default(nat, c).filter(|(_, p)| {
                (p.value.addr().is_ipv4() && v4) || (p.value.addr().is_ipv6() && v6)
            })
        });
        if let Some((conn, prefix)) = learned {
            out.push(diagnostic(model, nat, conn, prefix));
        }
    }
}

/// A default route the NAT rule's SDDC learns over `conn`: a Direct Connect
/// or route-based VPN joining it, on which the other end advertises a
/// prefix of length zero.
fn learned_default<'m>(
    nat: &NatRule,
    conn: &'m Connection,
) -> Option<(&'m Connection, &'m Spanned<IpNet>)> {
    let carries_routes = match conn.kind {
        ConnKind::DirectConnect => true,
        ConnKind::Vpn => conn.vpn_mode == Some(VpnMode::RouteBased),
        _ => false,
    };
    if !carries_routes || !conn.ends.iter().any(|e| e.value == nat.site) {
        return None;
    }
    conn.advertise
        .iter()
        .filter(|a: &&Advertise| a.site != nat.site)
        .flat_map(|a| a.prefixes.iter())
        .find(|p| p.value.prefix_len() == 0)
        .map(|p| (conn, p))
}

fn diagnostic(
    model: &Model,
    nat: &NatRule,
    conn: &Connection,
    prefix: &Spanned<IpNet>,
) -> Diagnostic {
    let kind = kind_word(nat.kind);
    let name = &nat.decl.name;
    let site = &model.site(nat.site).decl.name;
    let link = format!("{} `{}`", conn.kind.keyword(), conn.decl.name);
    let public = nat
        .external
        .as_ref()
        .and_then(|e| super::nat::nets(model, e).first().copied())
        .map_or_else(
            || "its public address".to_string(),
            |n| {
                if n.prefix_len() == n.max_prefix_len() {
                    n.addr().to_string()
                } else {
                    n.to_string()
                }
            },
        );
    let target = internal_text(model, nat).map_or_else(
        || "the published addresses".to_string(),
        |(_, t)| format!("`{t}`"),
    );
    let far_end = conn
        .ends
        .iter()
        .find(|e| e.value != nat.site)
        .map(|e| model.site(e.value).decl.name.clone())
        .unwrap_or_else(|| "the other end".into());
    let default = prefix.value;
    Diagnostic::new(
        Code::NP203,
        format!(
            "{kind} `{name}` publishes {target} at {public}, but `{site}` learns its default \
             route {default} over {link}"
        ),
        nat.decl.span,
        "inbound is translated here, on the internet uplink",
    )
    .with_label(
        prefix.span,
        format!(
            "`{far_end}` advertises {default}: replies leave over `{}`",
            conn.decl.name
        ),
    )
    .with_help(format!(
        "replies from {target} to internet clients follow the learned default route over \
         `{}` and leave untranslated, so clients never hear back from {public} (asymmetric \
         path; VMware: with a default route learned over Direct Connect or VPN, SDDC NAT \
         works only for inbound traffic); publish {target} through the on-prem edge with \
         `nat dnat` on `{far_end}` instead, or stop advertising {default} over `{}`",
        conn.decl.name, conn.decl.name
    ))
}
