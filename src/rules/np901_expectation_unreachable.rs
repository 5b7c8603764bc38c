//! NP901 expectation-unreachable: an `expect reach` fails.
//!
//! The engine decides the expectation over every packet of its set; when
//! some fail it gives one concrete packet, the element that stopped it (or
//! its reply), and the path the packet took, hop by hop.

use crate::diagnostic::{Diagnostic, PathStep};
use crate::engine::packet_set::Packet;
use crate::engine::walk::{Drop, Hop};
use crate::model::Expectation;
use crate::registry::Code;

/// One packet as a network engineer writes it: `tcp 10.0.0.1:1024 ->
/// 10.0.0.2:443`, `icmp 10.0.0.1 -> 10.0.0.2 type 8`.
pub fn show_packet(p: &Packet) -> String {
    let addr = |a: std::net::IpAddr, port: u16| match a {
        std::net::IpAddr::V6(_) => format!("[{a}]:{port}"),
        std::net::IpAddr::V4(_) => format!("{a}:{port}"),
    };
    match p.proto {
        6 | 17 => format!(
            "{} {} -> {}",
            if p.proto == 6 { "tcp" } else { "udp" },
            addr(p.src, p.sport),
            addr(p.dst, p.dport)
        ),
        1 | 58 => format!(
            "{} {} -> {} type {}",
            if p.proto == 1 { "icmp" } else { "icmpv6" },
            p.src,
            p.dst,
            p.dport
        ),
        n => format!("protocol {n} {} -> {}", p.src, p.dst),
    }
}

/// The path as numbered lines for a help text.
pub fn show_path(hops: &[Hop]) -> String {
    hops.iter()
        .enumerate()
        .map(|(i, h)| format!("{:>3}. {}: {}", i + 1, h.node, h.decision))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The path as structured steps, for emitters that show it hop by hop.
pub fn path_steps(hops: &[Hop]) -> Vec<PathStep> {
    hops.iter()
        .map(|h| PathStep {
            node: h.node.clone(),
            decision: h.decision.clone(),
            span: h.span,
        })
        .collect()
}

pub fn diagnostic(
    e: &Expectation,
    p: &Packet,
    drop: &Drop,
    hops: &[Hop],
    reply: bool,
) -> Diagnostic {
    let which = if reply {
        "its reply is dropped"
    } else {
        "it is dropped"
    };
    Diagnostic::new(
        Code::NP901,
        format!(
            "expectation fails: {} does not reach; {which}: {}",
            show_packet(p),
            drop.reason
        ),
        e.span,
        "this expectation does not hold",
    )
    .with_label(drop.span, drop.reason.clone())
    .with_help(format!(
        "{}\npath of the failing packet:\n{}",
        drop.help,
        show_path(hops)
    ))
    // The path ends where the packet died, so a viewer that steps through
    // it (SARIF code flows) lands on the element to fix.
    .with_path(path_steps(hops).into_iter().chain([PathStep {
        node: if reply { "reply dropped" } else { "dropped" }.to_string(),
        decision: drop.reason.clone(),
        span: Some(drop.span),
    }]))
}
