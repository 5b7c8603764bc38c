//! Between netproof's byte spans and the protocol's line/character
//! positions, and from netproof's diagnostics to the protocol's.
//!
//! A protocol position is a 0-based line and a 0-based offset into that
//! line, counted in the code units of the negotiated encoding: UTF-16 unless
//! the client offers another (LSP 3.17 `positionEncoding`). Lines end at
//! `\n`, `\r\n` or a lone `\r`, as the protocol says, which is not what
//! netproof's own `LineIndex` (`\n` only, character columns) counts, hence a
//! line map of its own here.

use crate::diagnostic::{Diagnostic, Severity};
use crate::span::Span;
use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Position, PositionEncodingKind, Range, Url,
};

/// The unit a position's `character` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

impl Encoding {
    /// The encoding to use given what the client offers, in its order of
    /// preference. UTF-8 is taken whenever offered, because spans are byte
    /// offsets already; UTF-32 next, because it is characters; UTF-16 is
    /// the one every client must support, so it is the fallback.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        let offered = offered.unwrap_or_default();
        if offered.contains(&PositionEncodingKind::UTF8) {
            Encoding::Utf8
        } else if offered.contains(&PositionEncodingKind::UTF32) {
            Encoding::Utf32
        } else {
            Encoding::Utf16
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
            Encoding::Utf32 => PositionEncodingKind::UTF32,
        }
    }

    fn units(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
            Encoding::Utf32 => 1,
        }
    }
}

/// The spacing of [`LineMap`]'s running counts of code units. Counting from
/// the start of the line for every conversion made many findings on one
/// long line quadratic (a 20 MB line with thousands of findings kept the
/// server from answering for minutes); with a count every 4 KiB a
/// conversion costs at most two blocks of counting.
const BLOCK: usize = 4096;

/// The byte offset where each line starts, with the protocol's idea of a
/// line end, and running counts of characters so that a position's
/// `character` costs at most a block's worth of counting however long its
/// line is.
///
/// The counts are over the whole text, not per line, at every multiple of
/// the block size (which may fall inside a character). A character is
/// counted at its first byte, so a count is the number of code units of
/// every character that starts before its boundary: UTF-32 counts one
/// unit for each byte that does not continue a character, UTF-16 one more
/// for each 4-byte character (a surrogate pair). UTF-8 units are bytes
/// and need no count.
#[derive(Clone, Debug)]
pub struct LineMap {
    starts: Vec<usize>,
    block: usize,
    /// `chars[k]`: characters starting in the first `k * block` bytes.
    chars: Vec<usize>,
    /// `astral[k]`: 4-byte characters starting in the first `k * block`
    /// bytes, which UTF-16 counts twice.
    astral: Vec<usize>,
}

/// Whether byte `b` starts a character (rather than continuing one).
fn starts_char(b: u8) -> bool {
    (b & 0xC0) != 0x80
}

/// Whether byte `b` starts a 4-byte character: in valid UTF-8 only those
/// lead bytes are `0xF0` or above.
fn starts_astral(b: u8) -> bool {
    b >= 0xF0
}

/// The code units of `enc` of the characters that start in `bytes`.
fn units_in(bytes: &[u8], enc: Encoding) -> usize {
    note_scanned(bytes.len());
    match enc {
        Encoding::Utf8 => bytes.len(),
        Encoding::Utf32 => bytes.iter().filter(|&&b| starts_char(b)).count(),
        Encoding::Utf16 => bytes
            .iter()
            .map(|&b| usize::from(starts_char(b)) + usize::from(starts_astral(b)))
            .sum(),
    }
}

impl LineMap {
    pub fn new(text: &str) -> LineMap {
        LineMap::with_block(text, BLOCK)
    }

    /// A map with counts every `block` bytes (at least one); tests make it
    /// small so that short texts cross many blocks.
    fn with_block(text: &str, block: usize) -> LineMap {
        let block = block.max(1);
        let mut starts = vec![0];
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let ends_line = match b {
                b'\n' => true,
                // A `\r` ends a line unless it is the first half of `\r\n`.
                b'\r' => bytes.get(i + 1) != Some(&b'\n'),
                _ => false,
            };
            if ends_line {
                starts.push(i + 1);
            }
        }
        let blocks = bytes.len() / block + 2;
        let mut chars = Vec::with_capacity(blocks);
        let mut astral = Vec::with_capacity(blocks);
        let (mut c, mut a) = (0, 0);
        chars.push(c);
        astral.push(a);
        for chunk in bytes.chunks(block) {
            c += chunk.iter().filter(|&&b| starts_char(b)).count();
            a += chunk.iter().filter(|&&b| starts_astral(b)).count();
            chars.push(c);
            astral.push(a);
        }
        LineMap {
            starts,
            block,
            chars,
            astral,
        }
    }

    /// The code units of the characters that start before block boundary
    /// `k`, or `None` past the end of the text.
    fn units_before_block(&self, k: usize, enc: Encoding) -> Option<usize> {
        let chars = *self.chars.get(k)?;
        Some(match enc {
            Encoding::Utf8 => k.saturating_mul(self.block),
            Encoding::Utf32 => chars,
            Encoding::Utf16 => chars + self.astral.get(k).copied().unwrap_or(0),
        })
    }

    /// The code units in `text[..offset]`, where `offset` is a character
    /// boundary within the text: the count at the block boundary below it
    /// plus what lies between the two.
    fn units_up_to(&self, text: &str, offset: usize, enc: Encoding) -> usize {
        let k = offset / self.block;
        let from = (k * self.block).min(offset);
        self.units_before_block(k, enc).unwrap_or(0)
            + text
                .as_bytes()
                .get(from..offset)
                .map_or(0, |b| units_in(b, enc))
    }

    /// The 0-based line holding byte `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// The text of 0-based `line` without its line end; empty past the end.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let Some(&start) = self.starts.get(line) else {
            return "";
        };
        let end = self.starts.get(line + 1).copied().unwrap_or(text.len());
        text.get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// The position of byte `offset`. An offset past the end is the end; an
    /// offset inside a character is that character's start.
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> Position {
        let offset = floor_char_boundary(text, offset);
        let line = self.line_of(offset);
        let start = self.starts.get(line).copied().unwrap_or(0).min(offset);
        let character = match enc {
            Encoding::Utf8 => offset - start,
            _ => self
                .units_up_to(text, offset, enc)
                .saturating_sub(self.units_up_to(text, start, enc)),
        };
        Position::new(saturating_u32(line), saturating_u32(character))
    }

    /// The byte offset of a position. As the protocol asks, a character past
    /// the end of its line means the end of the line, and a line past the
    /// end of the text means the end of the text; a position inside a
    /// character (half of a UTF-16 surrogate pair) means its start.
    ///
    /// That is the last character boundary of the line with at most
    /// `character` units before it. The block counts are found by binary
    /// search, which leaves at most one block to count through.
    pub fn offset(&self, text: &str, pos: Position, enc: Encoding) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return text.len();
        };
        let end = start + self.line_text(text, pos.line as usize).len();
        let character = pos.character as usize;
        if enc == Encoding::Utf8 {
            return floor_char_boundary(text, start.saturating_add(character).min(end));
        }
        let at_start = self.units_up_to(text, start, enc);
        let wanted = at_start.saturating_add(character);
        // The block boundaries inside the line, and among them the last
        // with no more than the wanted units before it. A boundary inside
        // a character counts that character already, so its count is the
        // one of the next character boundary.
        let first = start.div_ceil(self.block);
        let last = end / self.block;
        let (mut lo, mut hi) = (first, last.saturating_add(1).max(first));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.units_before_block(mid, enc) {
                Some(units) if units <= wanted => lo = mid + 1,
                _ => hi = mid,
            }
        }
        let below = lo
            .checked_sub(1)
            .filter(|&k| k >= first)
            .and_then(|k| Some((k, self.units_before_block(k, enc)?)));
        let (mut at, mut units) = match below {
            Some((k, units)) => (k * self.block, units),
            None => (start, at_start),
        };
        while at < end && !text.is_char_boundary(at) {
            at += 1;
        }
        let rest = text.get(at..end).unwrap_or("");
        for (i, c) in rest.char_indices() {
            let next = units + enc.units(c);
            if next > wanted {
                note_scanned(i);
                return at + i;
            }
            units = next;
        }
        note_scanned(rest.len());
        end
    }

    pub fn range(&self, text: &str, span: Span, enc: Encoding) -> Range {
        Range::new(
            self.position(text, span.start as usize, enc),
            self.position(text, span.end as usize, enc),
        )
    }

    /// The byte range of a protocol range, start first whatever the order
    /// the client sent.
    pub fn span(&self, text: &str, range: Range, enc: Encoding) -> (usize, usize) {
        let a = self.offset(text, range.start, enc);
        let b = self.offset(text, range.end, enc);
        (a.min(b), a.max(b))
    }
}

/// `offset` clamped to the text and moved back to a character's start.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

// The bytes counted by conversions on this thread, so that a test can
// show the work a conversion does without timing it.
#[cfg(test)]
thread_local! {
    static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn note_scanned(bytes: usize) {
    #[cfg(test)]
    SCANNED.with(|s| s.set(s.get() + bytes));
    #[cfg(not(test))]
    let _ = bytes;
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// One finding as the protocol shows it: the primary span's range, the
/// severity (through `Diagnostic::severity`, which configuration can
/// override), the code linking to its rule page, the message followed by
/// the help, and the secondary labels as related information in the same
/// document.
pub fn diagnostic(
    d: &Diagnostic,
    uri: &Url,
    text: &str,
    lines: &LineMap,
    enc: Encoding,
) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .map(|label| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), lines.range(text, label.span, enc)),
            message: label.message.clone(),
        })
        .collect();
    lsp_types::Diagnostic {
        range: lines.range(text, d.primary.span, enc),
        severity: Some(severity(d.severity())),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        // The URL is built from a constant and the registry; should it ever
        // fail to parse, the finding is still worth showing without it.
        code_description: Url::parse(&d.url())
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("netproof".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Code;
    use proptest::prelude::*;

    fn round_trip(text: &str, enc: Encoding) {
        let lines = LineMap::new(text);
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let pos = lines.position(text, offset, enc);
            let back = lines.offset(text, pos, enc);
            // A line end is one place for the protocol: `\r` and `\n` of
            // `\r\n` both sit at the end of their line.
            let expected = if text[..offset].ends_with('\r') && text[offset..].starts_with('\n') {
                offset - 1
            } else {
                offset
            };
            assert_eq!(back, expected, "{text:?} at {offset} ({pos:?}, {enc:?})");
        }
    }

    #[test]
    fn positions_count_the_negotiated_units() {
        // "é" is 2 bytes, 1 UTF-16 unit; "𝄞" is 4 bytes, 2 UTF-16 units.
        let text = "a é𝄞 x\nnext";
        let lines = LineMap::new(text);
        let x = text.find('x').unwrap_or_default();
        assert_eq!(lines.position(text, x, Encoding::Utf8), Position::new(0, 9));
        assert_eq!(
            lines.position(text, x, Encoding::Utf16),
            Position::new(0, 6)
        );
        assert_eq!(
            lines.position(text, x, Encoding::Utf32),
            Position::new(0, 5)
        );
        assert_eq!(lines.offset(text, Position::new(0, 6), Encoding::Utf16), x);
        assert_eq!(lines.offset(text, Position::new(0, 5), Encoding::Utf32), x);
        assert_eq!(lines.offset(text, Position::new(0, 9), Encoding::Utf8), x);
        let next = text.find("next").unwrap_or_default();
        assert_eq!(
            lines.position(text, next, Encoding::Utf16),
            Position::new(1, 0)
        );
    }

    #[test]
    fn positions_round_trip_with_every_line_end() {
        for text in [
            "",
            "vpc a 10.0.0.0/16 {}\n",
            "# café\r\nvm wéb 10.0.0.1\r\n\r\nend",
            "one\rtwo\r\nthree\nfour𝄞\r",
            "日本語\n𝄞𝄞\n",
        ] {
            for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
                round_trip(text, enc);
            }
        }
    }

    #[test]
    fn crlf_and_lone_cr_end_lines() {
        let text = "a\r\nb\rc\n";
        let lines = LineMap::new(text);
        assert_eq!(
            lines.position(text, 3, Encoding::Utf16),
            Position::new(1, 0)
        );
        assert_eq!(
            lines.position(text, 5, Encoding::Utf16),
            Position::new(2, 0)
        );
        assert_eq!(lines.line_text(text, 0), "a");
        assert_eq!(lines.line_text(text, 1), "b");
        assert_eq!(lines.line_text(text, 2), "c");
        assert_eq!(lines.line_text(text, 7), "");
    }

    /// A lone `\r` ends a line for the editor and not for netproof's own
    /// line index, so a file with one is refused (at the first, which is
    /// on the same line for both) rather than reported with line numbers
    /// the command line and the editor do not share.
    #[test]
    fn findings_in_a_file_with_lone_carriage_returns_are_on_the_editors_lines() {
        let text = "vpc a 10.0.0.0/16 {\n  subnet s 10.0.0.0/24\r  bogus\r}\n";
        let report = crate::check::check_source("t.np", text);
        let lines = LineMap::new(text);
        assert!(!report.diagnostics.is_empty());
        for d in &report.diagnostics {
            let editor = lines.position(text, d.primary.span.start as usize, Encoding::Utf32);
            let ours = report.source.line_col(d.primary.span.start);
            assert_eq!(
                (editor.line as usize + 1, editor.character as usize + 1),
                (ours.line, ours.column),
                "{}",
                d.message
            );
        }
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let text = "ab\r\ncd";
        let lines = LineMap::new(text);
        // Past the line's end: the end of the line, before its `\r\n`.
        assert_eq!(lines.offset(text, Position::new(0, 99), Encoding::Utf16), 2);
        // Past the last line: the end of the text.
        assert_eq!(lines.offset(text, Position::new(9, 0), Encoding::Utf16), 6);
        // Past the end of the text, and inside a character.
        assert_eq!(
            lines.position(text, 99, Encoding::Utf16),
            Position::new(1, 2)
        );
        let text = "é";
        let lines = LineMap::new(text);
        assert_eq!(lines.position(text, 1, Encoding::Utf8), Position::new(0, 0));
        // Half of a surrogate pair is the pair's start.
        let text = "𝄞x";
        let lines = LineMap::new(text);
        assert_eq!(lines.offset(text, Position::new(0, 1), Encoding::Utf16), 0);
        assert_eq!(lines.offset(text, Position::new(0, 2), Encoding::Utf16), 4);
    }

    const ENCODINGS: [Encoding; 3] = [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32];

    /// The conversions as they were before the block counts, counting from
    /// the start of the line: slow on long lines, and plainly right.
    fn naive_position(lines: &LineMap, text: &str, offset: usize, enc: Encoding) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = lines.line_of(offset);
        let start = lines.starts.get(line).copied().unwrap_or(0);
        let character: usize = text
            .get(start..offset)
            .unwrap_or("")
            .chars()
            .map(|c| enc.units(c))
            .sum();
        Position::new(saturating_u32(line), saturating_u32(character))
    }

    fn naive_offset(lines: &LineMap, text: &str, pos: Position, enc: Encoding) -> usize {
        let Some(&start) = lines.starts.get(pos.line as usize) else {
            return text.len();
        };
        let line = lines.line_text(text, pos.line as usize);
        let mut units = 0;
        for (i, c) in line.char_indices() {
            let next = units + enc.units(c);
            if next > pos.character as usize {
                return start + i;
            }
            units = next;
        }
        start + line.len()
    }

    /// Texts of ASCII, 2-, 3- and 4-byte characters and all three line ends.
    fn mixed_text() -> impl Strategy<Value = String> {
        let pieces = vec!["a", " ", "é", "日", "𝄞", "\n", "\r\n", "\r"];
        prop::collection::vec(prop::sample::select(pieces), 0..60).prop_map(|v| v.concat())
    }

    proptest! {
        /// With blocks of a few bytes, so that a short text crosses many
        /// boundaries, some inside characters and some inside line ends,
        /// every byte offset and every position (past the end of its line
        /// and of the text too) converts as counting from the line start does.
        #[test]
        fn block_counts_convert_as_counting_from_the_line_start(
            text in mixed_text(),
            block in 1usize..10,
        ) {
            let lines = LineMap::with_block(&text, block);
            for enc in ENCODINGS {
                for offset in 0..=text.len() + 2 {
                    prop_assert_eq!(
                        lines.position(&text, offset, enc),
                        naive_position(&lines, &text, offset, enc),
                        "{:?} at byte {} ({:?})", text, offset, enc
                    );
                }
                for line in 0..=lines.starts.len() + 1 {
                    let longest = lines.line_text(&text, line).len() + 3;
                    let characters = (0..=longest).chain([u32::MAX as usize]);
                    for character in characters {
                        let pos = Position::new(saturating_u32(line), saturating_u32(character));
                        prop_assert_eq!(
                            lines.offset(&text, pos, enc),
                            naive_offset(&lines, &text, pos, enc),
                            "{:?} at {:?} ({:?})", text, pos, enc
                        );
                    }
                }
            }
        }
    }

    /// The bytes `LineMap` counted while `f` ran, on this thread.
    fn scanned_by(f: impl FnOnce()) -> usize {
        SCANNED.with(|s| s.set(0));
        f();
        SCANNED.with(|s| s.get())
    }

    /// Many findings on one long line: each conversion used to count from
    /// the start of the line (a 20 MB line with thousands of findings kept
    /// the server busy for minutes). Each one must cost a bounded amount
    /// of counting, whatever the length of the line.
    #[test]
    fn conversions_on_a_long_line_count_a_bounded_number_of_bytes() {
        let line = "aé日𝄞 ".repeat(20_000);
        let text = format!("x\n{line}\ny\n");
        let lines = LineMap::new(&text);
        let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(401).collect();
        // A conversion counts the bytes from a block boundary to the line's
        // start and from one to the offset, two blocks at most, plus the
        // character that straddles a boundary.
        let bound = offsets.len() * (2 * BLOCK + 8);
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let mut positions = Vec::new();
            let work = scanned_by(|| {
                positions = offsets
                    .iter()
                    .map(|&o| lines.position(&text, o, enc))
                    .collect();
            });
            assert!(
                work <= bound,
                "{enc:?}: position counted {work} bytes, more than {bound}"
            );
            let mut back = Vec::new();
            let work = scanned_by(|| {
                back = positions
                    .iter()
                    .map(|&p| lines.offset(&text, p, enc))
                    .collect();
            });
            assert!(
                work <= bound,
                "{enc:?}: offset counted {work} bytes, more than {bound}"
            );
            assert_eq!(back, offsets, "{enc:?}");
        }
    }

    #[test]
    fn negotiation_prefers_utf8_then_utf32_then_utf16() {
        use PositionEncodingKind as K;
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(Some(&[K::UTF16])), Encoding::Utf16);
        assert_eq!(
            Encoding::negotiate(Some(&[K::UTF16, K::UTF32])),
            Encoding::Utf32
        );
        assert_eq!(
            Encoding::negotiate(Some(&[K::UTF16, K::UTF8, K::UTF32])),
            Encoding::Utf8
        );
        assert_eq!(
            Encoding::negotiate(Some(&[K::new("utf-7")])),
            Encoding::Utf16
        );
    }

    #[test]
    fn diagnostics_carry_code_link_help_and_related_labels() {
        let text = "é\nsubnet a 10.0.0.1/24\n";
        let start = text.find("10.").unwrap_or_default();
        let d = Diagnostic::new(
            Code::NP005,
            "host bits set",
            Span::new(start, start + 11),
            "here",
        )
        .with_help("write 10.0.0.0/24")
        .with_label(Span::new(0, 2), "first");
        let uri = Url::parse("file:///tmp/a.np").unwrap_or_else(|e| panic!("{e}"));
        let lines = LineMap::new(text);
        let out = diagnostic(&d, &uri, text, &lines, Encoding::Utf16);
        assert_eq!(
            out.range,
            Range::new(Position::new(1, 9), Position::new(1, 20))
        );
        assert_eq!(out.severity, Some(DiagnosticSeverity::ERROR));
        assert_eq!(out.code, Some(NumberOrString::String("NP005".into())));
        assert_eq!(
            out.code_description.map(|c| c.href.to_string()),
            Some(d.url())
        );
        assert_eq!(out.source.as_deref(), Some("netproof"));
        assert_eq!(out.message, "host bits set\nhelp: write 10.0.0.0/24");
        let related = out.related_information.unwrap_or_default();
        assert_eq!(related.len(), 1);
        assert_eq!(related[0].location.uri, uri);
        assert_eq!(
            related[0].location.range,
            Range::new(Position::new(0, 0), Position::new(0, 1))
        );
        assert_eq!(related[0].message, "first");
    }
}
