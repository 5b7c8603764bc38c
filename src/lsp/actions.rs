//! Code actions: a quick fix for every finding in range that carries a fix,
//! and one source action that applies every fix in the file, as
//! `netproof check --fix` does.

use super::convert::{self, Encoding, LineMap};
use crate::diagnostic::Diagnostic;
use lsp_types::{CodeAction, CodeActionKind, TextEdit, Url, WorkspaceEdit};
use std::collections::HashMap;

/// The kind of the "fix all" action, below `source.fixAll` so that editors
/// run it for "fix all on save".
pub fn fix_all_kind() -> CodeActionKind {
    CodeActionKind::new("source.fixAll.netproof")
}

/// Whether a client that asked only for `only` kinds wants actions of
/// `kind`: kinds are hierarchical, `source` takes `source.fixAll.netproof`.
fn wanted(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    let Some(only) = only else { return true };
    only.iter().any(|o| {
        let (o, k) = (o.as_str(), kind.as_str());
        k == o || k.strip_prefix(o).is_some_and(|rest| rest.starts_with('.'))
    })
}

pub struct Context<'a> {
    pub uri: &'a Url,
    pub text: &'a str,
    pub lines: &'a LineMap,
    pub enc: Encoding,
}

/// The actions for the byte range `start..=end` of a document whose
/// findings are `diagnostics`.
pub fn actions(
    cx: &Context<'_>,
    diagnostics: &[Diagnostic],
    (start, end): (usize, usize),
    only: Option<&[CodeActionKind]>,
) -> Vec<CodeAction> {
    let mut out = Vec::new();
    if wanted(only, &CodeActionKind::QUICKFIX) {
        for d in diagnostics {
            let Some(fix) = &d.fix else { continue };
            let span = d.primary.span.range();
            // A range touching the finding's span asks about it, so that a
            // cursor (an empty range) at either end of the span gets its fix.
            if span.start > end || span.end < start || fix.edits.is_empty() {
                continue;
            }
            let edits: Vec<TextEdit> = fix
                .edits
                .iter()
                .map(|e| {
                    TextEdit::new(
                        cx.lines.range(cx.text, e.span, cx.enc),
                        e.replacement.clone(),
                    )
                })
                .collect();
            out.push(CodeAction {
                title: fix.description.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![convert::diagnostic(
                    d, cx.uri, cx.text, cx.lines, cx.enc,
                )]),
                edit: Some(workspace_edit(cx.uri, edits)),
                // A finding carries at most one fix, so its fix is always
                // the one to prefer (editors apply a preferred fix directly).
                is_preferred: Some(true),
                ..CodeAction::default()
            });
        }
    }
    if wanted(only, &fix_all_kind()) {
        let fixed = crate::fix::apply(cx.text, diagnostics);
        if !fixed.applied.is_empty() {
            let edits = super::format::edits(cx.text, &fixed.text, cx.lines, cx.enc);
            let n = fixed.applied.len();
            out.push(CodeAction {
                title: format!(
                    "Fix all netproof findings ({n} fix{})",
                    if n == 1 { "" } else { "es" }
                ),
                kind: Some(fix_all_kind()),
                edit: Some(workspace_edit(cx.uri, edits)),
                ..CodeAction::default()
            });
        }
    }
    out
}

fn workspace_edit(uri: &Url, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_source;
    use crate::registry::Code;

    const TWO_FIXES: &str = "# café ☕\nvpc shop 10.0.0.1/16 { # 𝄞\n  subnet web 10.0.1.9/24\n  subnet db 10.0.2.0/24\n}\n";

    fn run(range: (usize, usize), only: Option<&[CodeActionKind]>) -> Vec<CodeAction> {
        let report = check_source("a.np", TWO_FIXES);
        let uri = Url::parse("file:///a.np").unwrap_or_else(|e| panic!("{e}"));
        let lines = LineMap::new(TWO_FIXES);
        let cx = Context {
            uri: &uri,
            text: TWO_FIXES,
            lines: &lines,
            enc: Encoding::Utf16,
        };
        actions(&cx, &report.diagnostics, range, only)
    }

    fn edits_of(action: &CodeAction) -> Vec<TextEdit> {
        action
            .edit
            .as_ref()
            .and_then(|e| e.changes.as_ref())
            .and_then(|c| c.values().next().cloned())
            .unwrap_or_default()
    }

    #[test]
    fn a_quick_fix_for_the_finding_under_the_cursor() {
        let at = TWO_FIXES.find("10.0.1.9").unwrap_or_default() + 2;
        let found = run((at, at), Some(&[CodeActionKind::QUICKFIX]));
        assert_eq!(found.len(), 1, "{found:?}");
        let action = &found[0];
        assert_eq!(action.kind, Some(CodeActionKind::QUICKFIX));
        assert_eq!(action.is_preferred, Some(true));
        let diags = action.diagnostics.clone().unwrap_or_default();
        assert_eq!(
            diags[0].code,
            Some(lsp_types::NumberOrString::String(
                Code::NP005.as_str().into()
            ))
        );
        let fixed =
            super::super::format::tests::apply(TWO_FIXES, &edits_of(action), Encoding::Utf16);
        assert!(fixed.contains("subnet web 10.0.1.0/24\n"), "{fixed}");
        assert!(
            fixed.contains("vpc shop 10.0.0.1/16"),
            "only one fix: {fixed}"
        );
    }

    #[test]
    fn fix_all_applies_every_fix_like_check_fix() {
        let found = run((0, 0), Some(&[CodeActionKind::SOURCE]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, Some(fix_all_kind()));
        let fixed =
            super::super::format::tests::apply(TWO_FIXES, &edits_of(&found[0]), Encoding::Utf16);
        let expected = crate::fix::apply(TWO_FIXES, &check_source("a.np", TWO_FIXES).diagnostics);
        assert_eq!(fixed, expected.text);
        assert!(check_source("a.np", fixed).diagnostics.is_empty());
    }

    #[test]
    fn kinds_filter_and_ranges_select() {
        // Nothing asked for, everything offered: the fix under the cursor
        // and the fix-all action.
        let at = TWO_FIXES.find("10.0.0.1").unwrap_or_default();
        assert_eq!(run((at, at), None).len(), 2);
        // A range over no finding still offers fix-all, but no quick fix.
        let db = TWO_FIXES.find("db").unwrap_or_default();
        let found = run((db, db), None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, Some(fix_all_kind()));
        assert!(run((db, db), Some(&[CodeActionKind::REFACTOR])).is_empty());
        assert!(wanted(
            Some(&[CodeActionKind::SOURCE_FIX_ALL]),
            &fix_all_kind()
        ));
        assert!(!wanted(
            Some(&[CodeActionKind::new("source.fix")]),
            &fix_all_kind()
        ));
    }
}
