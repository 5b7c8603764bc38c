//! NP503 endpoint-auto-accept: an endpoint service accepts connection
//! requests without approval.
//!
//! With `acceptance auto`, any AWS principal the service allows can create
//! an interface endpoint and reach the NLB behind it. The finding points at
//! the `acceptance` clause and names the NLB and the endpoints the design
//! declares, so the reader sees what becomes reachable.

use crate::diagnostic::Diagnostic;
use crate::model::{EndpointServiceId, Entity, Model};
use crate::registry::Code;
use crate::syntax::ast::Acceptance;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for (i, svc) in model.endpoint_services.iter().enumerate() {
        if svc.acceptance != Acceptance::Auto {
            continue;
        }
        let id = EndpointServiceId(i as u32);
        let span = svc.acceptance_span.unwrap_or(svc.decl.span);
        let behind = svc
            .nlb
            .and_then(|n| model.nlbs.get(n.index()))
            .map(|n| format!(" to nlb `{}`", n.decl.name))
            .unwrap_or_default();
        let mut d = Diagnostic::new(
            Code::NP503,
            format!(
                "endpoint service `{}` accepts endpoint connections{behind} without approval",
                model.display_name(Entity::EndpointService(id))
            ),
            span,
            "accepted automatically",
        )
        .with_label(svc.decl.name_span, "endpoint service")
        .with_help(
            "write `acceptance required` and accept each endpoint connection you expect: then no other account's endpoint reaches the service unnoticed",
        );
        let mut endpoints: Vec<(u32, &crate::model::Endpoint)> = model
            .endpoints
            .iter()
            .filter(|e| e.service == Some(id))
            .map(|e| (e.decl.name_span.start, e))
            .collect();
        endpoints.sort_by_key(|(s, _)| *s);
        for (_, e) in endpoints {
            d = d.with_label(e.decl.name_span, "connects without approval");
        }
        out.push(d);
    }
}
