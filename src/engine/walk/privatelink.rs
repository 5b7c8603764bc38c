//! PrivateLink: a packet arriving at an interface endpoint passes the
//! endpoint's security groups, then its endpoint service's NLB (the
//! listeners, in `engine::nlb`, are shared with an NLB reached at its own
//! address); a reply addressed to the NLB that is the exact reverse of such a
//! request is translated back and leaves from the endpoint's subnet
//! (docs/forwarding.md, "PrivateLink"; "Oracle decisions": AWS).

use super::{Branch, Filter, Loc, Mark, NatPoint, Step, Walker};
use crate::engine::space::Iface;
use crate::model::SgId;

impl<'s, 'm> Walker<'s, 'm> {
    /// A packet arriving at an interface endpoint: the endpoint's security
    /// groups, then its endpoint service's NLB: the matching listener's
    /// first target, with the destination, port and source rewritten (the
    /// target sees the NLB's address), into the service VPC.
    pub(super) fn privatelink(&self, e: crate::model::EndpointId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let ep = &m.endpoints[e.index()];
        let node = format!(
            "vpc {} / endpoint {}",
            self.site_name(ep.site),
            ep.decl.name
        );
        let point = NatPoint::PrivateLink(e);
        let iface = Iface::Endpoint(e);
        let sgs: Vec<SgId> = ep.sgs.iter().map(|s| s.value).collect();
        let (allowed, denied) = self.sg_inbound(&b, &sgs, iface);
        let mut steps = Vec::new();
        if !denied.is_empty() {
            let span = ep.sgs.first().map_or(ep.decl.span, |s| s.span);
            steps.push(Self::drop(
                b.with(denied),
                format!(
                    "the security groups of endpoint `{}` do not admit the client",
                    ep.decl.name
                ),
                span,
                "add an `inbound` rule for the client and service to the endpoint's security group"
                    .into(),
            ));
        }
        let mut b = b.with(allowed).hop(
            &node,
            "endpoint security groups allow",
            Some(ep.decl.name_span),
        );
        b.marks.push(Mark::Filter(Filter::Sg(iface), b.view));
        let Some(svc) = ep.service.map(|s| &m.endpoint_services[s.index()]) else {
            steps.push(Self::drop(
                b,
                "the endpoint has no endpoint service".into(),
                ep.decl.span,
                String::new(),
            ));
            return steps;
        };
        let Some(nlb_id) = svc.nlb else {
            steps.push(Self::drop(
                b,
                format!("endpoint service `{}` has no NLB", svc.decl.name),
                svc.decl.span,
                String::new(),
            ));
            return steps;
        };
        steps.extend(self.nlb_listeners(nlb_id, point, b));
        steps
    }

    /// Replies addressed to NLB `nlb` that are the exact reverse of a
    /// PrivateLink request it forwarded: the NLB and the endpoint restore the
    /// addresses and port, and the reply leaves from the endpoint's subnet
    /// towards the client. Returns those steps and the rest of the branch.
    pub(super) fn privatelink_reply(
        &self,
        nlb: crate::model::NlbId,
        b: &Branch,
    ) -> (Vec<Step>, Branch) {
        let m = self.m();
        let mut steps = Vec::new();
        let mut rest = b.clone();
        let mut endpoints: Vec<crate::model::EndpointId> = self
            .session
            .iter()
            .filter_map(|mk| match mk {
                Mark::Nat(n) => match n.point {
                    NatPoint::PrivateLink(e) => Some(e),
                    _ => None,
                },
                _ => None,
            })
            .filter(|e| {
                m.endpoints[e.index()]
                    .service
                    .and_then(|s| m.endpoint_services[s.index()].nlb)
                    == Some(nlb)
            })
            .collect();
        endpoints.dedup();
        for e in endpoints {
            let ep = &m.endpoints[e.index()];
            let (undone, left) = self.undo(NatPoint::PrivateLink(e), &rest);
            rest = left;
            for (nb, _) in undone {
                let nb = nb.hop(
                    &format!(
                        "vpc {} / endpoint {}",
                        self.site_name(ep.site),
                        ep.decl.name
                    ),
                    "reply translated back by the NLB and the endpoint",
                    Some(ep.decl.name_span),
                );
                if let Some(s) = ep.subnet {
                    steps.push(Step::Go(Loc::VpcRouter(ep.site, Some(s)), nb));
                }
            }
        }
        (steps, rest)
    }
}
