//! NP207 nat-gateway-misplaced: a public NAT gateway sits in a subnet whose
//! route table does not send 0.0.0.0/0 to an internet gateway.
//!
//! A public NAT gateway masquerades behind its Elastic IP and then forwards
//! by its own subnet's routes, so it must live in a public subnet (AWS VPC
//! guide, "NAT gateways": "create a public NAT gateway in a public subnet").
//! Placed in a private subnet its traffic goes back to itself or nowhere.
//! The language cannot write a public NAT gateway without an Elastic IP
//! (`elastic-ip ADDRESS` or `private` is required), so that half of the
//! catalog entry needs no check here.

use super::nat::{default_route, is_igw, table_words, target_words};
use crate::diagnostic::Diagnostic;
use crate::model::{GatewayKind, Model, SubnetId};
use crate::registry::Code;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for gw in &model.gateways {
        let GatewayKind::NatGateway {
            subnet: Some(subnet),
            elastic_ip: Some(_),
            ..
        } = gw.kind
        else {
            continue;
        };
        let route = default_route(model, subnet);
        if route.is_some_and(|(_, r)| is_igw(model, r.target)) {
            continue;
        }
        let sub = model.subnet(subnet);
        let name = &gw.decl.name;
        let table = sub
            .route_table
            .map_or_else(|| "its route table".into(), |rt| table_words(model, rt));
        let why = match route {
            Some((_, r)) => format!(
                "sends 0.0.0.0/0 to {}, not to an internet gateway",
                target_words(model, r.target)
            ),
            None => "has no route for 0.0.0.0/0".into(),
        };
        let mut d = Diagnostic::new(
            Code::NP207,
            format!(
                "NAT gateway `{name}` sits in subnet `{}`, but {table} {why}",
                sub.decl.name
            ),
            gw.decl.name_span,
            "not in a public subnet",
        )
        .with_label(
            sub.decl.name_span,
            format!("`{}` uses {table}", sub.decl.name),
        );
        if let Some((_, r)) = route {
            d = d.with_label(
                r.span,
                format!("0.0.0.0/0 goes to {}", target_words(model, r.target)),
            );
        }
        let public = public_subnet(model, gw.site, subnet);
        let help = match public {
            Some(p) => format!(
                "a public NAT gateway forwards what it translates by its own subnet's routes, \
                 so it must sit in a public subnet: place `{name}` `in {p}`, whose default \
                 route goes to an internet gateway"
            ),
            None => format!(
                "a public NAT gateway forwards what it translates by its own subnet's routes, \
                 so it must sit in a public subnet: give `{name}` a subnet whose route table \
                 has `route 0.0.0.0/0 -> IGW` (the VPC needs an `internet-gateway`)"
            ),
        };
        out.push(d.with_help(help));
    }
}

/// A subnet of the same VPC whose default route goes to an internet
/// gateway, to suggest as the NAT gateway's home.
fn public_subnet(model: &Model, site: crate::model::SiteId, not: SubnetId) -> Option<String> {
    model.site(site).subnets.iter().copied().find_map(|s| {
        let (_, r) = default_route(model, s)?;
        (s != not && is_igw(model, r.target)).then(|| model.subnet(s).decl.name.clone())
    })
}
