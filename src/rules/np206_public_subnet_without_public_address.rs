//! NP206 public-subnet-without-public-address: an instance sits in a subnet
//! whose default route goes to an internet gateway, but has no public or
//! Elastic IP.
//!
//! The internet gateway provides one-to-one NAT only for instances that have
//! a public address; it does not masquerade (seed 002; AWS: "The internet
//! gateway logically provides the one-to-one NAT on behalf of your
//! instance"). Such an instance cannot reach the internet even from a
//! public subnet. IPv6 needs no translation, so only IPv4 instances and the
//! 0.0.0.0/0 route are judged.

use super::nat::{default_route, is_igw, table_words, target_words};
use crate::diagnostic::Diagnostic;
use crate::model::{Entity, HostKind, Model};
use crate::registry::Code;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    // The hosts that some public IP names, found in one pass over the
    // public IPs rather than by scanning them all for every instance
    // (quadratic: 7 s on a million-line design).
    let mut associated = vec![false; model.hosts.len()];
    for p in &model.public_ips {
        if let Some(Entity::Host(h)) = p.target.as_ref().map(|t| t.value) {
            if let Some(a) = associated.get_mut(h.index()) {
                *a = true;
            }
        }
    }
    for (i, host) in model.hosts.iter().enumerate() {
        // A dual-stack instance is judged by its IPv4 address.
        let v4 = host.addrs().any(|a| a.value.is_ipv4());
        if host.kind != HostKind::Instance || !v4 || host.public.is_some() {
            continue;
        }
        if associated.get(i).copied().unwrap_or(false) {
            continue;
        }
        let Some(subnet) = host.subnet else {
            continue;
        };
        let Some((rt, route)) = default_route(model, subnet) else {
            continue;
        };
        if !is_igw(model, route.target) {
            continue;
        }
        let sub = model.subnet(subnet);
        let name = &host.decl.name;
        let gw = target_words(model, route.target);
        out.push(
            Diagnostic::new(
                Code::NP206,
                format!(
                    "instance `{name}` sits in subnet `{}`, whose default route goes to {gw}, \
                     but has no public or Elastic IP",
                    sub.decl.name
                ),
                host.decl.name_span,
                "no public or Elastic IP",
            )
            .with_label(
                sub.decl.name_span,
                format!("`{}` uses {}", sub.decl.name, table_words(model, rt)),
            )
            .with_label(route.span, format!("0.0.0.0/0 goes to {gw}"))
            .with_help(format!(
                "the internet gateway translates only instances that have a public address; it \
                 does not masquerade, so `{name}` cannot reach the internet: give it \
                 `elastic-ip ADDRESS`, or move it to a private subnet whose default route goes \
                 to a NAT gateway"
            )),
        );
    }
}
