//! NP001 syntax-error: the text does not parse.
//!
//! Emitted by the parser, which recovers at statement and block boundaries
//! and reports every error it meets rather than stopping at the first.

use crate::diagnostic::Diagnostic;
use crate::registry::Code;
use crate::span::Span;

pub fn syntax_error(
    span: Span,
    message: impl Into<String>,
    label: impl Into<String>,
    help: Option<String>,
) -> Diagnostic {
    let d = Diagnostic::new(Code::NP001, message, span, label);
    match help {
        Some(h) => d.with_help(h),
        None => d,
    }
}
