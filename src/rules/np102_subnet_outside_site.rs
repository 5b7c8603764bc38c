//! NP102 subnet-outside-site: a subnet or segment is not inside its site's
//! declared prefixes.
//!
//! AWS refuses to create a subnet outside the VPC's CIDR blocks; for an SDDC
//! or an on-prem site the declared prefixes are what is advertised to the
//! other sites, so a segment outside them is unreachable from there. A
//! segment stretched by L2VPN lives in the on-prem prefixes by design and is
//! accepted when the on-prem end declares it.

use super::util::subnet_noun;
use crate::diagnostic::Diagnostic;
use crate::model::{Model, Subnet, SubnetId};
use crate::registry::Code;
use crate::span::Spanned;
use crate::syntax::ast::SiteKind;
use ipnet::IpNet;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for (i, sub) in model.subnets.iter().enumerate() {
        let site = model.site(sub.site);
        if site.prefixes.is_empty() || matches!(site.kind, SiteKind::VmNetwork | SiteKind::Internet)
        {
            continue;
        }
        // Each prefix of a dual-stack subnet is judged on its own.
        for prefix in sub.prefixes() {
            if within(&site.prefixes, prefix.value) || stretched_into_onprem(model, sub) {
                continue;
            }
            out.push(diagnostic(model, SubnetId(i as u32), prefix));
        }
    }
}

fn diagnostic(model: &Model, id: SubnetId, prefix: &Spanned<IpNet>) -> Diagnostic {
    let sub = model.subnet(id);
    let site = model.site(sub.site);
    let noun = subnet_noun(model, id);
    let owned: Vec<String> = site.prefixes.iter().map(|p| p.value.to_string()).collect();
    let mut d = Diagnostic::new(
        Code::NP102,
        format!(
            "{noun} `{}` ({}) is outside {} `{}` ({})",
            sub.decl.name,
            prefix.value,
            site.kind.keyword(),
            site.decl.name,
            owned.join(", ")
        ),
        prefix.span,
        format!("not inside {}", owned.join(" or ")),
    );
    for p in &site.prefixes {
        d = d.with_label(p.span, format!("`{}` owns {}", site.decl.name, p.value));
    }
    let why = match site.kind {
        SiteKind::Vpc => "AWS only creates subnets inside one of the VPC's CIDR blocks",
        SiteKind::Sddc => "the SDDC's declared prefixes are what it advertises, so this segment is unreachable from the other sites",
        _ => "the site's declared prefixes are what it advertises, so this segment is unreachable from the other sites",
    };
    d.with_help(format!(
        "{why}: change the {noun}'s prefix, or add a prefix that contains {} to the `{}` header",
        prefix.value, site.decl.name
    ))
}

fn within(prefixes: &[crate::span::Spanned<IpNet>], net: IpNet) -> bool {
    prefixes.iter().any(|p| p.value.contains(&net))
}

/// True for an SDDC segment extended by L2VPN into an on-prem site whose
/// prefixes contain it: its default gateway, and its address space, stay
/// on-prem.
fn stretched_into_onprem(model: &Model, sub: &Subnet) -> bool {
    let Some(conn) = sub.extended_by else {
        return false;
    };
    model.connections[conn.index()]
        .ends
        .iter()
        .map(|e| model.site(e.value))
        .any(|s| s.kind == SiteKind::Onprem && within(&s.prefixes, sub.prefix.value))
}
