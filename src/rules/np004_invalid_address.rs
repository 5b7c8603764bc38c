//! NP004 invalid-address: an address, prefix, range, port or number is
//! malformed or out of range.
//!
//! Emitted by the parser while it classifies literals. The statement holding
//! the bad literal is kept as a broken declaration, so its name still
//! resolves and the error does not cascade.

use crate::diagnostic::Diagnostic;
use crate::registry::Code;
use crate::span::Span;

pub fn invalid_literal(
    span: Span,
    message: impl Into<String>,
    label: impl Into<String>,
    help: Option<String>,
) -> Diagnostic {
    let d = Diagnostic::new(Code::NP004, message, span, label);
    match help {
        Some(h) => d.with_help(h),
        None => d,
    }
}
