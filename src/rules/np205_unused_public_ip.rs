//! NP205 unused-public-ip: a public IP or Elastic IP is allocated but no NAT
//! rule or association uses it.
//!
//! AWS bills a public IP for every hour it is allocated, whether anything
//! uses it or not: seed 000 quotes $0.005 per IP-hour for an Elastic IP
//! associated with a running instance and the same for one associated with
//! nothing (VMware passes the AWS cost of an SDDC's public IPs straight on).
//! An SDDC `public-ip` is used when a NAT rule's external side or the
//! default SNAT names it; a VPC `elastic-ip` statement when it is associated
//! (`-> INSTANCE` or a NAT gateway).

use super::nat::nets;
use crate::diagnostic::Diagnostic;
use crate::model::{DefaultSnat, Model, PublicIp, PublicIpKind};
use crate::registry::Code;

/// The cost basis the help quotes, from seed 000.
const HOURLY: &str = "$0.005 per IP-hour, about $3.60 a month";

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for ip in &model.public_ips {
        let unused = match ip.kind {
            PublicIpKind::Sddc => !used_by_nat(model, ip),
            PublicIpKind::Elastic => ip.target.is_none(),
        };
        if unused {
            out.push(diagnostic(model, ip));
        }
    }
}

fn used_by_nat(model: &Model, ip: &PublicIp) -> bool {
    let addr = ip.addr.value;
    let by_rule = model.nat_rules.iter().any(|n| {
        n.site == ip.site
            && n.external
                .as_ref()
                .is_some_and(|e| nets(model, e).iter().any(|net| net.contains(&addr)))
    });
    let by_snat = model
        .sites
        .get(ip.site.index())
        .is_some_and(|s| matches!(s.default_snat, DefaultSnat::Addr(a, _) if a == addr));
    by_rule || by_snat
}

fn diagnostic(model: &Model, ip: &PublicIp) -> Diagnostic {
    let name = &ip.decl.name;
    let addr = ip.addr.value;
    let site = &model.site(ip.site).decl.name;
    match ip.kind {
        PublicIpKind::Sddc => Diagnostic::new(
            Code::NP205,
            format!("public IP `{name}` ({addr}) of `{site}` is used by no NAT rule"),
            ip.decl.name_span,
            "allocated, never used",
        )
        .with_help(format!(
            "a public IP is billed for every hour it is allocated, used or not ({HOURLY} at \
             the time of seed 000): release `{name}`, or publish something with it \
             (`nat dnat NAME {addr} -> VM`)"
        )),
        PublicIpKind::Elastic => Diagnostic::new(
            Code::NP205,
            format!("Elastic IP `{name}` ({addr}) of `{site}` is associated with nothing"),
            ip.decl.name_span,
            "allocated, never associated",
        )
        .with_help(format!(
            "an Elastic IP is billed for every hour it is allocated, associated or not \
             ({HOURLY} at the time of seed 000): release `{name}`, or associate it with \
             `-> INSTANCE` or a NAT gateway"
        )),
    }
}
