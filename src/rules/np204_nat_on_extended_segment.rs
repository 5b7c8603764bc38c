//! NP204 nat-on-extended-segment: an SDDC NAT rule translates a VM on a
//! segment that an L2VPN extends from on-prem.
//!
//! An extended segment keeps its default gateway on-prem (seed 000: "with
//! L2VPN the default gateway stays on-prem"), so its VMs' internet traffic,
//! and the replies to anything published for them, leave through the
//! on-prem gateway and never pass the SDDC's NAT. The rule looks through the
//! internal side of DNAT, SNAT and reflexive rules for such VMs, and for the
//! extended segment itself.

use super::nat::{internal_hosts, kind_word};
use crate::diagnostic::Diagnostic;
use crate::model::{AddrTerm, ConnectionId, Entity, Model, NatRule, SubnetId};
use crate::registry::Code;
use crate::syntax::ast::NatKind;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for nat in &model.nat_rules {
        if nat.kind == NatKind::NoSnat {
            continue;
        }
        // Each extended segment once per rule, named by the first VM of it
        // the rule translates (or by the segment itself).
        let mut seen: Vec<SubnetId> = Vec::new();
        let by_host = internal_hosts(model, nat).into_iter().filter_map(|h| {
            let host = model.host(h);
            Some((host.subnet?, Some(host.decl.name.clone())))
        });
        let by_segment = nat.internal.terms.iter().filter_map(|t| match t.value {
            AddrTerm::Entity(Entity::Subnet(s)) => Some((s, None)),
            _ => None,
        });
        for (segment, host) in by_host.chain(by_segment) {
            let Some(conn) = model
                .subnets
                .get(segment.index())
                .and_then(|s| s.extended_by)
            else {
                continue;
            };
            if seen.contains(&segment) {
                continue;
            }
            seen.push(segment);
            out.extend(diagnostic(model, nat, segment, conn, host));
        }
    }
}

fn diagnostic(
    model: &Model,
    nat: &NatRule,
    segment: SubnetId,
    conn: ConnectionId,
    host: Option<String>,
) -> Option<Diagnostic> {
    let kind = kind_word(nat.kind);
    let name = &nat.decl.name;
    let seg = model.subnet(segment);
    let seg_name = &seg.decl.name;
    let l2vpn = model.connections.get(conn.index())?;
    let onprem = l2vpn.ends.iter().find(|e| e.value != nat.site).map_or_else(
        || "on-prem".to_string(),
        |e| format!("`{}`", model.site(e.value).decl.name),
    );
    let what = match &host {
        Some(h) => format!("`{h}`, on segment `{seg_name}`,"),
        None => format!("segment `{seg_name}`,"),
    };
    let (traffic, moved) = match host.as_deref() {
        Some(h) => (format!("`{h}`'s traffic"), format!("`{h}`")),
        None => (
            format!("the traffic of `{seg_name}`'s VMs"),
            "them".to_string(),
        ),
    };
    let mut d = Diagnostic::new(
        Code::NP204,
        format!(
            "{kind} `{name}` translates {what} which l2vpn `{}` extends from {onprem}",
            l2vpn.decl.name
        ),
        nat.internal.span,
        "on an extended segment",
    )
    .with_label(
        seg.decl.name_span,
        format!("extended by `{}`", l2vpn.decl.name),
    );
    if let Some(item) = l2vpn.extend.iter().find(|e| e.value == segment) {
        d = d.with_label(item.span, format!("its default gateway stays at {onprem}"));
    }
    Some(d.with_help(format!(
        "an extended segment keeps its default gateway on-prem, so {traffic} and \
         replies leave through {onprem}'s gateway and never pass this NAT: publish through \
         {onprem}'s edge (`nat dnat` there), or move {moved} to a routed segment of `{}`",
        model.site(nat.site).decl.name
    )))
}
