//! Formatting through `netproof fmt`, and turning a rewritten text into the
//! edits that take the editor's text there.

use super::convert::{Encoding, LineMap};
use lsp_types::{Range, TextEdit};

/// The document formatted as `netproof fmt` would, or `None` when it cannot
/// be (the formatter refuses text that does not parse).
pub fn format_document(text: &str) -> Option<String> {
    crate::format::format_source(text).ok()
}

/// The edits that turn `old` into `new`: one per run of changed lines, so
/// that an editor keeps its cursor, folds and marks on the lines that did
/// not change. Every edit's range refers to `old`, as the protocol wants.
pub fn edits(old: &str, new: &str, lines: &LineMap, enc: Encoding) -> Vec<TextEdit> {
    if old == new {
        return Vec::new();
    }
    // A reformat can touch nearly every line of a big file, where an exact
    // line diff takes minutes; past the deadline `similar` settles for a
    // coarser diff, whose edits are just as correct, only larger.
    let diff = similar::TextDiff::configure()
        .timeout(std::time::Duration::from_millis(200))
        .diff_lines(old, new);
    let old_lines = diff.old_slices();
    let new_lines = diff.new_slices();
    // Byte offsets where each line of `old` starts, as `similar` cut it.
    let mut old_starts = Vec::with_capacity(old_lines.len() + 1);
    let mut at = 0;
    for line in old_lines {
        old_starts.push(at);
        at += line.len();
    }
    old_starts.push(at);
    let mut out: Vec<TextEdit> = Vec::new();
    for op in diff.ops() {
        if matches!(op, similar::DiffOp::Equal { .. }) {
            continue;
        }
        let (old_range, new_range) = (op.old_range(), op.new_range());
        let start = old_starts.get(old_range.start).copied().unwrap_or(at);
        let end = old_starts.get(old_range.end).copied().unwrap_or(at);
        let replacement: String = new_lines
            .get(new_range)
            .map(|l| l.concat())
            .unwrap_or_default();
        let range = Range::new(
            lines.position(old, start, enc),
            lines.position(old, end, enc),
        );
        // Adjacent operations (a deletion next to an insertion) become one
        // edit: two edits at one position would have no defined order.
        match out.last_mut() {
            Some(last) if last.range.end == range.start => {
                last.range.end = range.end;
                last.new_text.push_str(&replacement);
            }
            _ => out.push(TextEdit::new(range, replacement)),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Applies protocol edits to a text, back to front, as a client does.
    pub(crate) fn apply(text: &str, edits: &[TextEdit], enc: Encoding) -> String {
        let lines = LineMap::new(text);
        let mut spans: Vec<(usize, usize, &str)> = edits
            .iter()
            .map(|e| {
                let (a, b) = lines.span(text, e.range, enc);
                (a, b, e.new_text.as_str())
            })
            .collect();
        spans.sort_by_key(|&(a, b, _)| (a, b));
        for pair in spans.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "overlapping edits {edits:?}");
        }
        let mut out = text.to_string();
        for (a, b, new) in spans.into_iter().rev() {
            out.replace_range(a..b, new);
        }
        out
    }

    #[test]
    fn documents_are_formatted_by_netproof_fmt_unless_they_do_not_parse() {
        let messy = "vpc   a 10.0.0.0/16 {\n      subnet b 10.0.1.0/24\n}\n";
        assert_eq!(
            format_document(messy).as_deref(),
            Some("vpc a 10.0.0.0/16 {\n  subnet b 10.0.1.0/24\n}\n")
        );
        assert_eq!(format_document("vpc a 10.0.0.0/16 {\n  subnet\n"), None);
    }

    #[test]
    fn edits_take_the_old_text_to_the_new_one() {
        // A stand-in for a formatter's output: re-indented, a blank line
        // dropped, a line added at the end, and text that is not ASCII.
        let old = "vpc shop 10.0.0.0/16 {\n    subnet web 10.0.1.0/24\n\n\n  # café ☕\n}\n";
        let new = "vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n\n  # café ☕\n}\n# end\n";
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let e = edits(old, new, &LineMap::new(old), enc);
            assert_eq!(apply(old, &e, enc), new, "{enc:?}: {e:?}");
            // Unchanged lines are left alone: the first line is in no edit.
            assert!(e.iter().all(|e| e.range.start.line >= 1), "{e:?}");
        }
    }

    #[test]
    fn edits_handle_crlf_missing_final_newline_and_whole_rewrites() {
        for (old, new) in [
            ("a\r\nb\r\nc", "a\r\nB\r\nc\n"),
            ("x", "y"),
            ("", "vpc a 10.0.0.0/16 {}\n"),
            ("vpc a 10.0.0.0/16 {}\n", ""),
            ("same\n", "same\n"),
        ] {
            let e = edits(old, new, &LineMap::new(old), Encoding::Utf16);
            assert_eq!(
                apply(old, &e, Encoding::Utf16),
                new,
                "{old:?} -> {new:?}: {e:?}"
            );
        }
        assert!(edits("same\n", "same\n", &LineMap::new("same\n"), Encoding::Utf16).is_empty());
    }
}
