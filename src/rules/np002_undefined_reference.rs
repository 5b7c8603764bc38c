//! NP002 undefined-reference: a name resolves to nothing, or to several
//! things.
//!
//! Reported by name resolution (`model::scope`), which knows the scopes and
//! passes in what it found: the closest declared name of a fitting kind for
//! a typo, or the candidates of an ambiguous name with the qualified forms
//! that pick one.

use crate::diagnostic::Diagnostic;
use crate::registry::Code;
use crate::span::Span;

/// `text` names nothing. `label` says what kind of thing was looked for;
/// `suggestion` is the closest fitting name, as the user should write it.
pub fn undefined(
    text: &str,
    span: Span,
    label: String,
    suggestion: Option<String>,
    declare_hint: String,
) -> Diagnostic {
    let d = Diagnostic::new(Code::NP002, format!("`{text}` is not defined"), span, label);
    match suggestion {
        Some(best) => d.with_help(format!("did you mean `{best}`?")),
        None => d.with_help(declare_hint),
    }
}

/// One declaration that fits an ambiguous reference.
pub struct Candidate {
    pub span: Span,
    /// "an instance in `blue`".
    pub description: String,
    /// `blue.app01`, when the candidate belongs to a site.
    pub qualified: Option<String>,
}

/// The most candidates an ambiguity finding describes; the message gives
/// the total and the help counts the rest.
pub const MAX_CANDIDATES: usize = 5;

/// `text` fits `total` declarations, of which `candidates` (at most
/// [`MAX_CANDIDATES`]) are described.
pub fn ambiguous(text: &str, span: Span, candidates: &[Candidate], total: usize) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::NP002,
        format!("`{text}` is ambiguous: {total} declarations fit"),
        span,
        "ambiguous name",
    );
    for c in candidates {
        d = d.with_label(c.span, c.description.clone());
    }
    let qualified: Vec<String> = candidates
        .iter()
        .filter_map(|c| c.qualified.as_ref())
        .map(|q| format!("`{q}`"))
        .collect();
    let more = total.saturating_sub(candidates.len());
    let more = if more == 0 {
        String::new()
    } else {
        format!(" (or one of {more} more)")
    };
    d.with_help(if qualified.is_empty() {
        "rename one of the declarations".to_string()
    } else {
        format!(
            "qualify the name with its site: {}{more}",
            qualified.join(" or ")
        )
    })
}
