//! NP902 expectation-reachable: an `expect no-reach` fails.
//!
//! The engine finds a packet of the set that is delivered and shows the
//! path it takes, so the element that should have stopped it is plain.

use super::np901_expectation_unreachable::{path_steps, show_packet, show_path};
use crate::diagnostic::Diagnostic;
use crate::engine::packet_set::Packet;
use crate::engine::walk::Hop;
use crate::model::Expectation;
use crate::registry::Code;

pub fn diagnostic(e: &Expectation, p: &Packet, hops: &[Hop]) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::NP902,
        format!("expectation fails: {} is delivered", show_packet(p)),
        e.span,
        "this traffic should not get through",
    );
    // Label the last decisions that let the packet through, so the fix is
    // one click away.
    for h in hops.iter().rev().filter(|h| h.span.is_some()).take(2) {
        if let Some(span) = h.span {
            d = d.with_label(span, format!("{}: {}", h.node, h.decision));
        }
    }
    d.with_help(format!(
        "tighten the rule that admits it (a firewall rule, a security group, a route)\npath of the delivered packet:\n{}",
        show_path(hops)
    ))
    .with_path(path_steps(hops))
}
