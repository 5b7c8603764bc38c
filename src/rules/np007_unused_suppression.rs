//! NP007 unused-suppression: a `# netproof: ignore CODE` comment that
//! suppresses nothing, or that is malformed.
//!
//! Suppressions are applied by `crate::suppress` once every other rule has
//! run; these constructors describe what was wrong with one. A suppression
//! that outlives the finding it silenced would otherwise hide the next,
//! unrelated finding of the same rule on that line.

use crate::diagnostic::{Diagnostic, Edit};
use crate::registry::Code;
use crate::span::Span;

const FORM: &str = "write `# netproof: ignore CODE -- reason`, at the end of the finding's first \
                    line or alone on the line just above it";

/// `code` was named by a suppression aimed at `line`, and no finding of that
/// rule starts there.
pub fn unused(span: Span, code: Code, line: usize) -> Diagnostic {
    Diagnostic::new(
        Code::NP007,
        format!(
            "the suppression of {code} suppresses nothing: no {code} finding starts on line {line}"
        ),
        span,
        format!("no {code} on line {line}"),
    )
    .with_help(format!(
        "remove {code} from the comment if the finding is gone; if it moved, move the comment \
         too ({FORM})"
    ))
}

/// Adds the fix for a comment none of whose codes suppressed anything:
/// delete `removal` (the comment, or its whole line when it stands alone).
pub fn with_removal(d: Diagnostic, removal: Span) -> Diagnostic {
    d.with_fix(
        "remove the suppression comment, which suppresses nothing",
        vec![Edit {
            span: removal,
            replacement: String::new(),
        }],
    )
}

/// `written` is not the code of any rule.
pub fn unknown_code(span: Span, written: &str, closest: Option<Code>) -> Diagnostic {
    let help = match closest {
        Some(code) => format!(
            "did you mean {code} ({})? `netproof rules` lists every code",
            crate::registry::meta(code).name
        ),
        None => "`netproof rules` lists every code".to_string(),
    };
    Diagnostic::new(
        Code::NP007,
        format!("`{written}` is not a rule code, so this suppression suppresses nothing"),
        span,
        "unknown rule code",
    )
    .with_help(help)
}

/// `code` is one of the front-end errors (NP001-NP006), which no comment can
/// silence: with them the design is analysed incompletely.
pub fn not_suppressible(span: Span, code: Code) -> Diagnostic {
    Diagnostic::new(
        Code::NP007,
        format!(
            "{code} ({}) cannot be suppressed: a file with this error is not analysed completely, \
             so it must never pass silently",
            crate::registry::meta(code).name
        ),
        span,
        "not suppressible",
    )
    .with_help(format!("fix the {code} finding instead of suppressing it"))
}

/// A comment that starts with `netproof:` but is not a well-formed
/// directive; `what` says what is wrong with it.
pub fn malformed(span: Span, what: impl Into<String>) -> Diagnostic {
    Diagnostic::new(
        Code::NP007,
        format!(
            "malformed suppression comment: {}, so it suppresses nothing",
            what.into()
        ),
        span,
        "not a suppression",
    )
    .with_help(FORM)
}
