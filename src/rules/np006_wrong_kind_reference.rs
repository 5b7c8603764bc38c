//! NP006 wrong-kind-reference: a name refers to something of the wrong kind.
//!
//! Reported by name resolution: resolution is kind-directed, so when the
//! only declarations with a name are of kinds the position does not accept
//! (a route to a subnet, `in` naming a host), or belong to another site than
//! the position requires, the reference is reported with the declaration it
//! found. Structural misuses found while lowering (advertising from a site a
//! connection does not join, a service defined through itself) share the
//! code: each is a reference to the wrong thing.

use crate::diagnostic::Diagnostic;
use crate::registry::Code;
use crate::span::Span;

/// `text` names `is` (with article) but the position needs `needed`.
pub fn wrong_kind(
    text: &str,
    span: Span,
    is: &str,
    needed_long: &str,
    needed: &str,
    declared: Span,
) -> Diagnostic {
    Diagnostic::new(
        Code::NP006,
        format!("`{text}` is {is}, but {needed_long} is needed here"),
        span,
        format!("expected {needed}"),
    )
    .with_label(declared, format!("`{text}` is declared here as {is}"))
    .with_help(format!("replace `{text}` with the name of {needed}"))
}

/// `text` resolves to something declared in site `there`, where the position
/// needs one of site `here`'s own.
pub fn other_site(
    text: &str,
    span: Span,
    noun: &str,
    needed: &str,
    here: &str,
    there: &str,
    declared: Span,
) -> Diagnostic {
    Diagnostic::new(
        Code::NP006,
        format!("`{text}` belongs to `{there}`, not to `{here}`"),
        span,
        format!("{noun} of another site"),
    )
    .with_label(declared, format!("declared in `{there}`"))
    .with_help(format!("name {needed} declared in `{here}`"))
}

/// A structural misuse with its own message, label and help.
pub fn misuse(message: String, span: Span, label: &str, help: &str) -> Diagnostic {
    Diagnostic::new(Code::NP006, message, span, label).with_help(help)
}
