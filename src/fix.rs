//! Applying fixes: the edits diagnostics carry, written back into the text.
//!
//! A fix is applied whole or not at all. Fixes are taken in the order of
//! their first edit; a fix with an edit that overlaps one already taken is
//! left for the next run (the text under it will have changed), except that
//! an edit identical to one already taken counts as done, so two findings
//! asking for the same change (two routes through one NAT instance) make it
//! once. The accepted edits are applied back to front, so that each edit's
//! offsets still refer to the original text.

use crate::diagnostic::{Diagnostic, Edit};
use crate::registry::Code;
use crate::span::Span;

/// One fix that was applied: the finding's code, where it was (the primary
/// span) and what the fix did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub code: Code,
    pub span: Span,
    pub description: String,
}

/// The text with the fixes applied, and which fixes those were. `applied`
/// is empty, and `text` equal to the input, when nothing was fixable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fixed {
    pub text: String,
    pub applied: Vec<Applied>,
}

pub fn apply(text: &str, diagnostics: &[Diagnostic]) -> Fixed {
    let mut fixes: Vec<(&Diagnostic, &crate::diagnostic::Fix)> = diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref().map(|f| (d, f)))
        .filter(|(_, f)| !f.edits.is_empty())
        .collect();
    fixes.sort_by_key(|(d, f)| (first_start(f), d.sort_key()));
    let mut taken: Vec<&Edit> = Vec::new();
    let mut applied = Vec::new();
    for (d, fix) in fixes {
        let valid = fix
            .edits
            .iter()
            .all(|e| e.span.start <= e.span.end && text.get(e.span.range()).is_some());
        let clashes = fix
            .edits
            .iter()
            .any(|e| taken.iter().any(|t| *t != e && overlaps(t.span, e.span)));
        if !valid || clashes {
            continue;
        }
        for e in &fix.edits {
            if !taken.contains(&e) {
                taken.push(e);
            }
        }
        applied.push(Applied {
            code: d.code,
            span: d.primary.span,
            description: fix.description.clone(),
        });
    }
    taken.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = text.to_string();
    for e in taken.iter().rev() {
        out.replace_range(e.span.range(), &e.replacement);
    }
    Fixed { text: out, applied }
}

fn first_start(fix: &crate::diagnostic::Fix) -> u32 {
    fix.edits.iter().map(|e| e.span.start).min().unwrap_or(0)
}

/// Whether two edits touch the same text. Two insertions at one point
/// overlap (their order would be arbitrary); an insertion at the edge of a
/// replacement does not.
fn overlaps(a: Span, b: Span) -> bool {
    if a.is_empty() && b.is_empty() {
        return a.start == b.start;
    }
    a.start < b.end && b.start < a.end
}

/// A unified diff (three lines of context) from `old` to `new`, with
/// `a/PATH` and `b/PATH` headers; empty when the texts are equal.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;

    fn with_fix(start: usize, end: usize, replacement: &str) -> Diagnostic {
        Diagnostic::new(Code::NP005, "m", Span::new(start, end), "l").with_fix(
            format!("replace with {replacement}"),
            vec![Edit {
                span: Span::new(start, end),
                replacement: replacement.into(),
            }],
        )
    }

    #[test]
    fn applies_back_to_front() {
        let text = "subnet a 10.0.0.1/24\nsubnet b 10.0.1.9/24\n";
        let fixed = apply(
            text,
            &[
                with_fix(30, 41, "10.0.1.0/24"),
                with_fix(9, 20, "10.0.0.0/24"),
            ],
        );
        assert_eq!(fixed.text, "subnet a 10.0.0.0/24\nsubnet b 10.0.1.0/24\n");
        assert_eq!(fixed.applied.len(), 2);
    }

    #[test]
    fn overlapping_fixes_wait_and_identical_edits_apply_once() {
        let text = "abcdef";
        let fixed = apply(
            text,
            &[
                with_fix(1, 3, "X"),
                with_fix(2, 4, "Y"),
                with_fix(6, 6, " Z"),
                with_fix(6, 6, " Z"),
            ],
        );
        assert_eq!(fixed.text, "aXdef Z");
        assert_eq!(fixed.applied.len(), 3);
    }

    #[test]
    fn nothing_to_fix_leaves_the_text_alone() {
        let fixed = apply("vpc a 10.0.0.0/16 {}\n", &[]);
        assert_eq!(fixed.text, "vpc a 10.0.0.0/16 {}\n");
        assert!(fixed.applied.is_empty());
        assert_eq!(unified_diff("x.np", "a\n", "a\n"), "");
    }

    #[test]
    fn diff_has_headers_and_hunks() {
        let diff = unified_diff("d.np", "a\nb\nc\n", "a\nB\nc\n");
        assert!(diff.starts_with("--- a/d.np\n+++ b/d.np\n@@"), "{diff}");
        assert!(diff.contains("-b\n+B\n"), "{diff}");
    }
}
