//! Gateway endpoints (Amazon S3, DynamoDB): a VPC route table's routes to
//! one deliver to its service what its prefix list holds, and the service's
//! replies come back through it into the VPC (docs/forwarding.md, "Gateway
//! endpoints and prefix lists"). The routes themselves are in the tables,
//! added by lowering; `vpc.rs` hands the packets here.

use super::{Branch, Dest, Leaf, Step, Walker};
use crate::engine::packet_set::AddrRanges;
use crate::model::GatewayId;

impl Walker<'_, '_> {
    /// A gateway endpoint delivers to its service what is addressed to the
    /// service's prefix list (docs/forwarding.md, "Gateway endpoints").
    pub(super) fn gateway_endpoint(&self, g: GatewayId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let gw = &m.gateways[g.index()];
        let Some((svc, list)) = m.gateway_endpoint(g) else {
            return vec![Self::drop(
                b,
                format!(
                    "gateway endpoint `{}` names no AWS service's prefix list",
                    gw.decl.name
                ),
                gw.decl.span,
                "name a `prefix-list NAME service s3|dynamodb [...]`".into(),
            )];
        };
        let (yes, no) = self.dst_in(
            &b,
            AddrRanges::from_nets(list.prefixes.iter().map(|p| p.value)),
        );
        let mut steps = Vec::new();
        if !no.is_empty() {
            steps.push(Self::drop(
                b.with(no),
                format!(
                    "the destination is not in prefix list `{}`, so gateway endpoint `{}` has nowhere to send it",
                    list.decl.name, gw.decl.name
                ),
                gw.decl.span,
                "route only the service's prefix list to a gateway endpoint".into(),
            ));
        }
        if !yes.is_empty() {
            steps.push(Step::Leaf(Leaf::Delivered {
                to: Dest::Service(g),
                branch: b.with(yes).hop(
                    &gw.decl.name,
                    format!(
                        "gateway endpoint carries it to {} (prefix list `{}`)",
                        svc.title(),
                        list.decl.name
                    ),
                    Some(gw.decl.span),
                ),
            }));
        }
        steps
    }
}

/// The prefixes of every Amazon S3 prefix list the design declares.
pub(super) fn s3_prefixes(m: &crate::model::Model) -> Vec<ipnet::IpNet> {
    m.prefix_lists
        .iter()
        .filter(|l| l.service == Some(crate::syntax::ast::AwsService::S3))
        .flat_map(|l| l.prefixes.iter().map(|p| p.value))
        .collect()
}
