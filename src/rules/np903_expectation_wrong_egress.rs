//! NP903 expectation-wrong-egress: an `expect egress` fails.
//!
//! The engine follows every internet-bound packet of the source and
//! records the exits it passes; a packet that reaches the internet without
//! passing the named exit, or does not reach it at all, is shown with the
//! exit it actually took and its path.

use super::np901_expectation_unreachable::{path_steps, show_packet, show_path};
use crate::diagnostic::Diagnostic;
use crate::engine::packet_set::Packet;
use crate::engine::walk::{Drop, Hop};
use crate::model::{Entity, Expectation, Model};
use crate::registry::Code;

/// How an exit reads in a message.
fn exit_name(m: &Model, e: Entity) -> String {
    match e {
        Entity::Site(s) => format!("the own internet exit of `{}`", m.site(s).decl.name),
        Entity::Connection(c) => {
            let conn = &m.connections[c.index()];
            format!("{} `{}`", conn.kind.keyword(), conn.decl.name)
        }
        other => format!("`{}`", m.display_name(other)),
    }
}

pub fn diagnostic(
    m: &Model,
    e: &Expectation,
    via: Entity,
    p: &Packet,
    exits: &[Entity],
    drop: Option<&Drop>,
    hops: &[Hop],
) -> Diagnostic {
    let wanted = exit_name(m, via);
    let (message, help) = match drop {
        Some(d) => (
            format!(
                "expectation fails: {} is bound for the internet but never gets there: {}",
                show_packet(p),
                d.reason
            ),
            d.help.clone(),
        ),
        None => {
            let actual = if exits.is_empty() {
                "no declared exit".to_string()
            } else {
                exits
                    .iter()
                    .map(|&x| exit_name(m, x))
                    .collect::<Vec<_>>()
                    .join(", then ")
            };
            (
                format!(
                    "expectation fails: {} leaves through {actual}, not through {wanted}",
                    show_packet(p)
                ),
                format!("route the source's internet traffic to {wanted}, or name the exit the design uses"),
            )
        }
    };
    let mut d = Diagnostic::new(
        Code::NP903,
        message,
        e.span,
        "this expectation does not hold",
    );
    if let Some(dr) = drop {
        d = d.with_label(dr.span, dr.reason.clone());
    } else if let Some(&last) = exits.last() {
        d = d.with_label(m.decl(last).name_span, "the packet leaves here");
    }
    d.with_label(m.decl(via).name_span, "the expected exit")
        .with_help(format!("{help}\npath of the packet:\n{}", show_path(hops)))
        .with_path(path_steps(hops))
}
