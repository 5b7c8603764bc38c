//! NP208 nat-instance-source-dest-check: a route targets an instance whose
//! source/destination check is on.
//!
//! An EC2 instance drops every packet that is neither from nor to its own
//! address unless its source/destination check is disabled, so a NAT
//! instance (or any instance a route forwards through) must have it off
//! (seed 002; AWS VPC guide, "NAT instances": "you must disable
//! source/destination checks on the instance"). The fix adds
//! `source-dest-check off` to the instance's declaration.

use crate::diagnostic::{Diagnostic, Edit};
use crate::model::{Model, RouteTarget};
use crate::registry::Code;
use crate::span::Span;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for table in &model.route_tables {
        for route in &table.routes {
            let RouteTarget::Host(h) = route.target else {
                continue;
            };
            let Some(host) = model.hosts.get(h.index()) else {
                continue;
            };
            if !host.source_dest_check {
                continue;
            }
            let name = &host.decl.name;
            let end = host.decl.span.end as usize;
            out.push(
                Diagnostic::new(
                    Code::NP208,
                    format!(
                        "route {} -> `{name}` forwards through an instance whose \
                         source/destination check is on",
                        route.prefix
                    ),
                    route.span,
                    format!("forwards through `{name}`"),
                )
                .with_label(
                    host.decl.name_span,
                    "source/destination check on (the default)",
                )
                .with_help(format!(
                    "an instance drops packets not addressed to it unless its source/destination \
                     check is off, which a NAT instance needs: add `source-dest-check off` to \
                     `{name}`"
                ))
                .with_fix(
                    format!("add `source-dest-check off` to `{name}`"),
                    vec![Edit {
                        span: Span::new(end, end),
                        replacement: " source-dest-check off".into(),
                    }],
                ),
            );
        }
    }
}
