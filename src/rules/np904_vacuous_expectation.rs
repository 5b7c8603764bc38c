//! NP904 vacuous-expectation: an expectation whose flow set is empty.
//!
//! An expectation is a claim about every flow of a set: its sources, times
//! the addresses they send to, times its services, with IPv4 addresses
//! paired with IPv4 and IPv6 with IPv6, ICMP in IPv4 and ICMPv6 in IPv6.
//! When that set is empty, "every flow reaches" and "no packet is
//! delivered" are both true of it, and the expectation passed while saying
//! nothing. The engine says why the set is empty ([`Why`]); this module
//! says it in words, for `check` and for `netproof reach`.

use crate::diagnostic::Diagnostic;
use crate::model::Expectation;
use crate::registry::Code;
use crate::span::Span;

/// Why an expectation's flow set is empty, in the order the engine asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The service list is `[ ]`.
    NoServices,
    /// The source stands for no address (an empty group, say).
    NoSource,
    /// What the source sends to (the destination, or the `at` address)
    /// stands for no address.
    NoDestination,
    /// The source and what it sends to have no address family in common.
    Families {
        src: &'static str,
        dst: &'static str,
    },
    /// They share one family, and every service belongs to the other one
    /// (ICMPv6 between IPv4 addresses, ICMP between IPv6 ones).
    ServiceFamily { shared: &'static str },
    /// There are flows, but none from an address that sends: a public
    /// address, an endpoint, an address of a site outside its subnets, a
    /// device that only answers (`docs/forwarding.md`, "Where packets
    /// start").
    NoSender,
}

impl Why {
    /// Why, as a clause: "its service list is empty".
    pub fn reason(self) -> String {
        match self {
            Why::NoServices => "its service list is empty".into(),
            Why::NoSource => "its source stands for no address".into(),
            Why::NoDestination => "its destination stands for no address".into(),
            Why::Families { src, dst } => format!(
                "its source has only {src} addresses and its destination only {dst} ones, \
                 and no packet goes from one address family to the other"
            ),
            Why::ServiceFamily { shared } => format!(
                "its source and destination share only {shared} addresses, and none of its \
                 services is {shared} (`icmp` belongs to IPv4 and `icmpv6` to IPv6)"
            ),
            Why::NoSender => "its source sends nothing (public addresses, endpoints, \
                addresses of a site outside its subnets and devices that only answer start \
                no packet)"
                .into(),
        }
    }

    /// What to do about it.
    pub fn help(self) -> &'static str {
        match self {
            Why::NoServices => "name the services the expectation is about, or `any`",
            Why::NoSource => "give the source addresses (a group needs members)",
            Why::NoDestination => "give the destination addresses (a group needs members)",
            Why::Families { .. } => {
                "pair addresses of one family: an IPv4 source with an IPv4 destination, \
                 an IPv6 source with an IPv6 destination"
            }
            Why::ServiceFamily { .. } => {
                "use the ICMP of the addresses' family (`icmp` for IPv4, `icmpv6` for IPv6), \
                 or addresses of the services' family"
            }
            Why::NoSender => {
                "start from the host behind the address (the target of its NAT rule or \
                 Elastic IP), or from a subnet"
            }
        }
    }
}

/// The finding on an expectation that names no packet. `at` is the span of
/// the part the reason is about (the service list, the source, the
/// destination), which gets the second label.
pub fn diagnostic(e: &Expectation, why: Why) -> Diagnostic {
    let (at, label) = match why {
        Why::NoServices | Why::ServiceFamily { .. } => (e.services.span, "these services"),
        Why::NoSource => (e.src.span, "no address"),
        Why::NoSender => (e.src.span, "sends nothing"),
        Why::NoDestination => (destination_span(e), "no address"),
        Why::Families { .. } => (destination_span(e), "another address family"),
    };
    let d = Diagnostic::new(
        Code::NP904,
        format!(
            "expectation names no packet: {}, so it asserts nothing",
            why.reason()
        ),
        e.span,
        "this expectation is about no flow",
    )
    .with_help(why.help());
    // An expectation that names no services at all has no service span of
    // its own to point at; the message says it.
    if at.is_empty() || at == e.span {
        d
    } else {
        d.with_label(at, label)
    }
}

/// The addresses the source sends to: the `at` address when there is one.
fn destination_span(e: &Expectation) -> Span {
    e.at.as_ref().or(e.dst.as_ref()).map_or(e.span, |a| a.span)
}
