//! What the human output shows of a design around one finding: only the
//! lines its labels touch (and their neighbours), each line clipped to a
//! window around the labels, with control characters made visible.
//!
//! miette draws whatever text it is handed. Handed a whole line it panics
//! once a label sits past about column 65,530 (its underline arithmetic is
//! 16-bit), it copies terminal escape sequences from a design straight to
//! the terminal, and it costs the whole line for every finding on it. So
//! the human emitter never hands it the design: it hands it an [`Excerpt`],
//! a small text built for one finding, and maps the labels into it. The
//! header still names the real line and character column.

use crate::span::{LineIndex, Span};
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use std::fmt::Write;

/// Lines of at most this many bytes are shown whole; longer ones are shown
/// whole only when they have at most this many characters.
pub const MAX_LINE_CHARS: usize = 240;

/// Characters shown before a label's start on a clipped line.
const LEAD_CHARS: usize = 80;

/// Lines kept around each label: miette asks for one line of context, and
/// one more keeps the snippets of two nearby labels in one segment.
const MARGIN_LINES: usize = 2;

/// Labels whose lines (with margins) are at most this many lines apart are
/// shown in one snippet, with the lines between them, as miette would join
/// them; farther apart they get snippets of their own, so that a finding
/// whose labels are thousands of lines apart does not print the lines
/// between.
const JOIN_GAP: usize = 16;

/// Marks the clipped ends of a line.
const ELLIPSIS: char = '…';

/// One label as miette should see it: a span into the excerpt.
#[derive(Debug)]
pub(super) struct ShownLabel {
    pub span: SourceSpan,
    pub message: String,
    pub primary: bool,
}

/// A run of consecutive lines of the design, as shown.
#[derive(Debug)]
struct Segment {
    /// Byte range of the segment in the excerpt.
    from: usize,
    to: usize,
    /// The 0-based number of its first line in the design.
    first_line: usize,
}

/// The text shown for one finding, and where its labels fall in it.
#[derive(Debug)]
pub(super) struct Excerpt<'l> {
    name: String,
    text: String,
    segments: Vec<Segment>,
    /// Excerpt offset of each label start, with the design offset it stands
    /// for, so that the header can name the real position.
    starts: Vec<(usize, usize)>,
    design: &'l str,
    lines: &'l LineIndex,
}

/// A line that could not be shown whole: its number, its length and the
/// columns shown, all 1-based and in characters.
pub(super) struct Clip {
    pub line: usize,
    pub length: usize,
    pub shown: (usize, usize),
}

/// Builds the excerpt for labels given as design spans (already clamped to
/// the text and to character boundaries), in the order miette receives them.
pub(super) fn excerpt<'l>(
    name: &str,
    design: &'l str,
    lines: &'l LineIndex,
    labels: &[(Span, String, bool)],
) -> (Excerpt<'l>, Vec<ShownLabel>, Vec<Clip>) {
    // The empty "line" after a final line break is not one to show (miette
    // never drew it); what points there is drawn at the end of the line
    // before.
    let phantom = usize::from(design.ends_with('\n'));
    let last_line = lines.line_count().saturating_sub(1 + phantom);
    let line_of = |offset: u32| (lines.line_col(design, offset).line - 1).min(last_line);
    // The design lines each label needs, with margins, merged into runs.
    let mut runs: Vec<(usize, usize)> = labels
        .iter()
        .map(|(span, _, _)| {
            let first = line_of(span.start).saturating_sub(MARGIN_LINES);
            let last = (line_of(span.end) + MARGIN_LINES).min(last_line);
            (first, last)
        })
        .collect();
    runs.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (first, last) in runs {
        match merged.last_mut() {
            Some((_, end)) if first <= *end + 1 + JOIN_GAP => *end = (*end).max(last),
            _ => merged.push((first, last)),
        }
    }
    // Every label offset, sorted, to be mapped into the excerpt as the lines
    // that hold them are written.
    let mut anchors: Vec<(u32, usize)> = labels
        .iter()
        .enumerate()
        .flat_map(|(i, (span, _, _))| [(span.start, 2 * i), (span.end, 2 * i + 1)])
        .collect();
    anchors.sort_unstable();
    let mut mapped = vec![0usize; anchors.len()];
    let mut next_anchor = 0;
    let mut text = String::new();
    let mut segments = Vec::new();
    let mut clips = Vec::new();
    for (first, last) in merged {
        let from = text.len();
        for line in first..=last {
            let (start, end, next) = line_bounds(design, lines, line);
            // The anchors on this line, up to the start of the next one.
            let mut here = next_anchor;
            while anchors
                .get(here)
                .is_some_and(|&(at, _)| (at as usize) < next || line == last_line)
            {
                here += 1;
            }
            let on_line = anchors.get(next_anchor..here).unwrap_or(&[]);
            let focus = labels
                .iter()
                .enumerate()
                .filter(|(_, (_, _, primary))| *primary)
                .map(|(i, (span, _, _))| (i, span.start as usize))
                .find(|&(_, at)| (start..next).contains(&at))
                .or_else(|| on_line.first().map(|&(at, i)| (i / 2, at as usize)))
                .map(|(_, at)| at.min(end));
            let (kept_start, kept_end) = kept(design, start, end, focus);
            if (kept_start, kept_end) != (start, end) {
                clips.push(Clip {
                    line: line + 1,
                    length: lines.line_col(design, end as u32).column - 1,
                    shown: (
                        lines.line_col(design, kept_start as u32).column,
                        lines.line_col(design, kept_end as u32).column - 1,
                    ),
                });
            }
            write_line(
                &mut text,
                design,
                (kept_start, kept_end),
                (start, end),
                on_line,
                |k, at| {
                    if let Some(slot) = mapped.get_mut(next_anchor + k) {
                        *slot = at;
                    }
                },
            );
            next_anchor = here;
        }
        segments.push(Segment {
            from,
            to: text.len(),
            first_line: first,
        });
    }
    // Back from sorted anchors to each label's start and end.
    let mut ends = vec![(0usize, 0usize); labels.len()];
    for (&(_, key), &at) in anchors.iter().zip(&mapped) {
        if let Some(pair) = ends.get_mut(key / 2) {
            if key % 2 == 0 {
                pair.0 = at;
            } else {
                pair.1 = at;
            }
        }
    }
    let mut starts = Vec::new();
    let shown = labels
        .iter()
        .zip(&ends)
        .map(|((span, message, primary), &(s, e))| {
            starts.push((s, span.start as usize));
            ShownLabel {
                span: SourceSpan::new(s.into(), e.saturating_sub(s)),
                message: message.clone(),
                primary: *primary,
            }
        })
        .collect();
    starts.sort_unstable();
    let excerpt = Excerpt {
        name: name.to_string(),
        text,
        segments,
        starts,
        design,
        lines,
    };
    (excerpt, shown, clips)
}

/// The byte range of 0-based `line` without its line break, and where the
/// next line starts.
fn line_bounds(design: &str, lines: &LineIndex, line: usize) -> (usize, usize, usize) {
    let start = lines
        .line_start(line + 1)
        .map_or(design.len(), |s| s as usize);
    let next = lines
        .line_start(line + 2)
        .map_or(design.len(), |s| s as usize);
    let mut end = next;
    let bytes = design.as_bytes();
    if end > start && bytes.get(end - 1) == Some(&b'\n') {
        end -= 1;
        if end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
    }
    (start, end, next)
}

/// The part of the line `start..end` to show: all of it when it is short,
/// else a window of [`MAX_LINE_CHARS`] characters that begins
/// [`LEAD_CHARS`] before `focus` (or at the line's start). The cost is the
/// window's, not the line's.
fn kept(design: &str, start: usize, end: usize, focus: Option<usize>) -> (usize, usize) {
    let short = end - start <= MAX_LINE_CHARS
        || (end - start <= 4 * MAX_LINE_CHARS
            && design
                .get(start..end)
                .is_some_and(|l| l.chars().count() <= MAX_LINE_CHARS));
    if short {
        return (start, end);
    }
    let focus = focus.unwrap_or(start).clamp(start, end);
    let mut from = focus;
    for _ in 0..LEAD_CHARS {
        if from == start {
            break;
        }
        from = back_one(design, from);
    }
    let mut to = from;
    for _ in 0..MAX_LINE_CHARS {
        if to >= end {
            break;
        }
        to = forward_one(design, to);
    }
    (from, to.min(end))
}

fn back_one(text: &str, mut at: usize) -> usize {
    at = at.saturating_sub(1);
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn forward_one(text: &str, mut at: usize) -> usize {
    at += 1;
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at.min(text.len())
}

/// Writes the kept part of one line, with visible escapes and ellipses at
/// clipped ends, then a line break, and reports through `map` where each
/// anchor of the line (`on_line`, sorted) falls in the excerpt. Anchors
/// outside the kept part fall on its nearest edge.
fn write_line(
    out: &mut String,
    design: &str,
    (kept_start, kept_end): (usize, usize),
    (start, end): (usize, usize),
    on_line: &[(u32, usize)],
    mut map: impl FnMut(usize, usize),
) {
    let mut k = 0;
    let mut place = |upto: usize, inclusive: bool, at: usize, k: &mut usize| {
        while let Some(&(offset, _)) = on_line.get(*k) {
            let offset = offset as usize;
            if offset < upto || (inclusive && offset == upto) {
                map(*k, at);
                *k += 1;
            } else {
                break;
            }
        }
    };
    if kept_start > start {
        out.push(ELLIPSIS);
    }
    place(kept_start, false, out.len(), &mut k);
    if let Some(kept) = design.get(kept_start..kept_end) {
        for (i, c) in kept.char_indices() {
            place(kept_start + i, true, out.len(), &mut k);
            push_visible(out, c);
        }
    }
    place(kept_end, true, out.len(), &mut k);
    if kept_end < end {
        out.push(ELLIPSIS);
    }
    // Anchors past the kept part, on the line break or beyond the text's
    // end, point at the end of the shown line.
    place(usize::MAX, true, out.len(), &mut k);
    out.push('\n');
}

/// Whether a character must not reach a terminal as it is: C0 and C1
/// controls (escape sequences start with them) other than tab, and the
/// bidirectional overrides that make text read differently than it is.
pub(crate) fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_visible(out: &mut String, c: char) {
    if needs_escape(c) {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    } else {
        out.push(c);
    }
}

/// `text` safe to write to a terminal: control characters (line breaks
/// and tabs aside) written as `\u{1b}`-style escapes, and at most
/// `max_chars` characters of it, the rest replaced by an ellipsis and a
/// count.
pub fn visible(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    for (n, (i, c)) in text.char_indices().enumerate() {
        if n == max_chars {
            let rest = text.get(i..).map_or(0, |r| r.chars().count());
            let _ = write!(out, "{ELLIPSIS} ({rest} more characters)");
            break;
        }
        push_visible(&mut out, c);
    }
    out
}

impl SourceCode for Excerpt<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let at = span.offset();
        let index = self.segments.partition_point(|s| s.to <= at);
        // An empty span at the very end sits in the last segment.
        let segment = self
            .segments
            .get(index)
            .or_else(|| self.segments.last().filter(|s| at == s.to))
            .ok_or(MietteError::OutOfBounds)?;
        if at < segment.from || at + span.len() > segment.to {
            // A span across two segments would join lines that are not
            // neighbours; miette then draws the two snippets apart.
            return Err(MietteError::OutOfBounds);
        }
        let window: &'a str = self
            .text
            .get(segment.from..segment.to)
            .ok_or(MietteError::OutOfBounds)?;
        let inner = SourceSpan::new((at - segment.from).into(), span.len());
        let contents = window.read_span(&inner, context_lines_before, context_lines_after)?;
        // The header's line and column are the design's, read from the
        // label the span starts.
        let (line, column) = match self.starts.binary_search_by_key(&at, |&(s, _)| s) {
            Ok(i) if context_lines_before == 0 => {
                let real = self.starts.get(i).map_or(0, |&(_, r)| r);
                let lc = self.lines.line_col(self.design, real as u32);
                (lc.line - 1, lc.column - 1)
            }
            _ => (segment.first_line + contents.line(), contents.column()),
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            SourceSpan::new(
                (segment.from + contents.span().offset()).into(),
                contents.span().len(),
            ),
            line,
            column,
            // miette's count of line breaks from the start of the source to
            // the end of what it read: it merges two labels' snippets by it.
            segment.first_line + contents.line_count(),
        )))
    }
}
