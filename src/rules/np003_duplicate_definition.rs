//! NP003 duplicate-definition: a name is declared twice in one scope.
//!
//! Reported while lowering declares names (`model::lower`): two declarations
//! in one site or at top level, two rules of one firewall with one name, two
//! routes for one prefix in a table, two ACL rules with one number, two main
//! route tables, and user services that redeclare a built-in. The first
//! declaration stays the one references resolve to.

use crate::diagnostic::Diagnostic;
use crate::registry::Code;
use crate::span::Span;

/// Two declarations of one name. `scope` reads after "declared twice":
/// "in `prod`", "at top level", "in firewall `cgw`".
pub fn duplicate(
    name: &str,
    scope: &str,
    second: Span,
    second_as: &str,
    first: Span,
    first_as: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::NP003,
        format!("`{name}` is declared twice {scope}"),
        second,
        format!("second declaration{second_as}"),
    )
    .with_label(first, format!("first declared here{first_as}"))
    .with_help("names must be unique within their scope: rename one of them, or delete the copy")
}

pub fn builtin_service(name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::NP003,
        format!("`{name}` is a built-in service and cannot be redeclared"),
        span,
        "redeclares a built-in service",
    )
    .with_help("give the service another name, or use the built-in one as it is")
}

/// Two entries of one table keyed by something other than a name: two
/// routes for one prefix, two ACL rules with one number, two main tables.
pub fn duplicate_entry(
    message: String,
    second: Span,
    second_label: &str,
    first: Span,
    first_label: &str,
    help: &str,
) -> Diagnostic {
    Diagnostic::new(Code::NP003, message, second, second_label)
        .with_label(first, first_label)
        .with_help(help)
}
