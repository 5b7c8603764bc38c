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

/// The byte offset where each line starts, with the protocol's idea of a
/// line end.
#[derive(Clone, Debug)]
pub struct LineMap {
    starts: Vec<usize>,
}

impl LineMap {
    pub fn new(text: &str) -> LineMap {
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
        LineMap { starts }
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
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let character: usize = text
            .get(start..offset)
            .unwrap_or("")
            .chars()
            .map(|c| enc.units(c))
            .sum();
        Position::new(saturating_u32(line), saturating_u32(character))
    }

    /// The byte offset of a position. As the protocol asks, a character past
    /// the end of its line means the end of the line, and a line past the
    /// end of the text means the end of the text; a position inside a
    /// character (half of a UTF-16 surrogate pair) means its start.
    pub fn offset(&self, text: &str, pos: Position, enc: Encoding) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return text.len();
        };
        let line = self.line_text(text, pos.line as usize);
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
