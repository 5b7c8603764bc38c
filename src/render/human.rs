//! The human format: one miette graphical report per diagnostic, then a
//! summary line.
//!
//! netproof's [`Diagnostic`] stays a plain data type; a private adapter
//! borrows it and implements [`miette::Diagnostic`] only for rendering, so the
//! core does not depend on how miette wants its errors shaped.

use super::{count, Emitter, Summary};
use crate::check::FileReport;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::span::{LineIndex, Span};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::fmt;
use std::io;
use std::sync::Arc;

/// The width used whenever the output is not a colored terminal, so that
/// files, pipes and snapshots always wrap the same way.
pub const FIXED_WIDTH: usize = 100;

/// Renders every diagnostic with miette, then the run's summary.
#[derive(Clone, Copy, Debug)]
pub struct HumanEmitter {
    /// ANSI colors and terminal hyperlinks; off for pipes, files, `--no-color`
    /// and `NO_COLOR`.
    pub color: bool,
    /// Where messages and help wrap.
    pub width: usize,
    /// Findings only: no summary line or notes after them (`--quiet`).
    pub quiet: bool,
}

impl HumanEmitter {
    /// The stable, colorless form used for pipes, files and tests.
    pub fn plain() -> HumanEmitter {
        HumanEmitter {
            color: false,
            width: FIXED_WIDTH,
            quiet: false,
        }
    }
}

impl Emitter for HumanEmitter {
    fn emit(&self, reports: &[FileReport], out: &mut dyn io::Write) -> io::Result<()> {
        for report in reports {
            for diagnostic in &report.diagnostics {
                let rendered = render(report, diagnostic, self.color, self.width);
                // miette ends its report with a newline; one more separates
                // consecutive reports.
                writeln!(out, "{rendered}")?;
            }
        }
        if self.quiet {
            return Ok(());
        }
        let summary = Summary::of(reports);
        writeln!(out, "{}", summary.line())?;
        if summary.unevaluated_expectations > 0 {
            let n = summary.unevaluated_expectations;
            let verb = if n == 1 { "was" } else { "were" };
            writeln!(
                out,
                "note: {} {verb} not decided: the file has errors, or the flows cross parts of the \
                 network this version of the engine does not model yet (see docs/engine.md)",
                count(n, "expectation", "expectations"),
            )?;
        }
        Ok(())
    }
}

/// Renders one diagnostic of `report` as miette's graphical report, at the
/// fixed width. With `color` off the result contains no escape sequences, so
/// it is what snapshot tests compare.
pub fn render_human(report: &FileReport, diag: &Diagnostic, color: bool) -> String {
    render(report, diag, color, FIXED_WIDTH)
}

fn render(report: &FileReport, diag: &Diagnostic, color: bool, width: usize) -> String {
    let url = diag.url();
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // Without links miette prints the URL as `CODE (URL)`; with links it
    // prints `CODE ` and a hyperlink whose visible text we set to `(URL)`, so
    // both modes read alike and terminals without hyperlink support still
    // show the address.
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(color)
        .with_link_display_text(format!("({url})"))
        .without_syntax_highlighting();
    let text = &report.source.text;
    // miette draws nothing for a point at the very end of a text that lacks a
    // final line break, so such a text is shown with one added; the copy is
    // made only for the diagnostics that need it.
    let shown = if !text.ends_with('\n') && diag_labels(diag).any(|l| is_end_point(text, l.span)) {
        Arc::new(format!("{text}\n"))
    } else {
        Arc::clone(text)
    };
    let adapter = Adapter {
        diag,
        text,
        source: CharColumns::new(&report.source.path, shown, &report.source.lines),
        url,
    };
    let mut rendered = String::new();
    if handler.render_report(&mut rendered, &adapter).is_err() {
        // miette only fails when a span is out of bounds, which the adapter
        // prevents by clamping; should it happen anyway, the message alone is
        // still worth showing.
        rendered = format!("{}: {}\n", adapter.code(), diag.message);
    }
    if let Some(fix) = &diag.fix {
        // miette has no notion of a fix; it reads best as one more footer line
        // under the help, in the same indentation.
        rendered.push_str(&format!("  fix: {}\n", fix.description));
    }
    rendered
}

/// A netproof diagnostic seen through miette's eyes.
#[derive(Debug)]
struct Adapter<'a> {
    diag: &'a Diagnostic,
    text: &'a str,
    source: CharColumns<'a>,
    url: String,
}

impl Adapter<'_> {
    /// The code as miette shows it in the header: the stable code for
    /// searching and the rule name for reading, e.g.
    /// `NP005(prefix-host-bits-set)`.
    fn code(&self) -> String {
        format!("{}({})", self.diag.code, self.diag.name())
    }

    fn label(&self, label: &Label, primary: bool) -> LabeledSpan {
        let message = (!label.message.is_empty()).then(|| label.message.clone());
        let span = source_span(self.text, label.span);
        if primary {
            LabeledSpan::new_primary_with_span(message, span)
        } else {
            LabeledSpan::new_with_span(message, span)
        }
    }
}

impl fmt::Display for Adapter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Adapter<'_> {}

impl miette::Diagnostic for Adapter<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(Adapter::code(self)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag
            .help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.url))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = std::iter::once(self.label(&self.diag.primary, true));
        let secondary = self.diag.secondary.iter().map(|l| self.label(l, false));
        Some(Box::new(primary.chain(secondary)))
    }
}

fn diag_labels(diag: &Diagnostic) -> impl Iterator<Item = &Label> {
    std::iter::once(&diag.primary).chain(&diag.secondary)
}

/// Whether `span` is an empty span at (or, clamped, past) the end of `text`:
/// the usual place for "unexpected end of file".
fn is_end_point(text: &str, span: Span) -> bool {
    span.is_empty() && span.start as usize >= text.len()
}

/// Converts a span to miette's form, clamped to the text and widened to
/// character boundaries. A span that does not fit would be a bug upstream, but
/// an emitter must show the finding rather than fail on it.
///
/// An empty span at the end of a text that ends with a line break would sit on
/// a line miette does not draw, so it moves to the end of the last line, where
/// a reader looks for "unexpected end of file" anyway. (The JSON output keeps
/// the exact position, the start of the empty last line.)
fn source_span(text: &str, span: Span) -> SourceSpan {
    let len = text.len();
    if is_end_point(text, span) {
        let last_line = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t));
        return SourceSpan::new(last_line.map_or(len, str::len).into(), 0);
    }
    let mut start = (span.start as usize).min(len);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (span.end as usize).clamp(start, len);
    while !text.is_char_boundary(end) {
        end += 1;
    }
    SourceSpan::new(start.into(), end - start)
}

/// The file's [`NamedSource`], with one correction: miette counts the column
/// in the `[file:line:column]` header in bytes, while netproof counts
/// characters everywhere (JSON, SARIF, editors). This wrapper recomputes the
/// column so that the human and machine outputs name the same position on
/// lines with multi-byte characters.
///
/// It also keeps rendering linear: miette finds a span's lines by scanning
/// the text from its start, which costs the whole file for every finding
/// (minutes for ten thousand findings in a 4 MB design). Each read here
/// hands miette only the lines around the span, and the file's line index
/// says where they start.
#[derive(Debug)]
struct CharColumns<'l> {
    name: String,
    text: Arc<String>,
    lines: &'l LineIndex,
}

impl<'l> CharColumns<'l> {
    fn new(name: &str, text: Arc<String>, lines: &'l LineIndex) -> CharColumns<'l> {
        CharColumns {
            name: name.to_string(),
            text,
            lines,
        }
    }

    /// The byte range of whole lines around `start..end`: from `before`
    /// lines above the one holding `start` to `after` lines below the one
    /// holding `end`, plus one more each way, so that it holds everything
    /// miette may show around the span.
    fn window(&self, start: usize, end: usize, before: usize, after: usize) -> (usize, usize) {
        let text = self.text.as_bytes();
        let line_start = |at: usize| {
            text[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
        };
        let line_end = |at: usize| {
            text[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |i| at + i + 1)
        };
        let start = start.min(text.len());
        let end = end.clamp(start, text.len());
        let mut from = line_start(start);
        for _ in 0..=before {
            if from == 0 {
                break;
            }
            from = line_start(from - 1);
        }
        let mut to = line_end(end);
        for _ in 0..=after {
            if to >= text.len() {
                break;
            }
            to = line_end(to);
        }
        (from, to)
    }

    /// The 0-based character column of byte `offset`. Line breaks are `\n`
    /// and `\r`, as in miette's own line counting, so that this column belongs
    /// to the line number miette prints beside it.
    fn char_column(&self, offset: usize) -> Option<usize> {
        let before = self.text.get(..offset)?;
        let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
        Some(before[line_start..].chars().count())
    }
}

impl SourceCode for CharColumns<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (from, to) = self.window(
            span.offset(),
            span.offset() + span.len(),
            context_lines_before,
            context_lines_after,
        );
        let window: &'a str = self.text.get(from..to).ok_or(MietteError::OutOfBounds)?;
        let inner = SourceSpan::new((span.offset() - from).into(), span.len());
        let contents = window.read_span(&inner, context_lines_before, context_lines_after)?;
        let start = from + contents.span().offset();
        let column = self.char_column(start).unwrap_or_else(|| contents.column());
        // The window starts a line; the line index numbers it (0-based here).
        let first_line = self.lines.line_col(&self.text, from as u32).line - 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            SourceSpan::new(start.into(), contents.span().len()),
            first_line + contents.line(),
            column,
            // miette's count of line breaks up to the end of what it read,
            // from the start of the source: it merges two labels' snippets
            // by it.
            first_line + contents.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{ExpectationResult, SourceFile};
    use crate::diagnostic::Edit;
    use crate::registry::Code;
    use crate::syntax::ast::ExpectKind;

    fn report(path: &str, text: &str, diagnostics: Vec<Diagnostic>) -> FileReport {
        FileReport {
            source: SourceFile::new(path, text),
            diagnostics,
            expectations: Vec::new(),
        }
    }

    /// The span of the `n`th occurrence (0-based) of `needle` in `text`.
    fn find(text: &str, needle: &str, n: usize) -> Span {
        let start = text
            .match_indices(needle)
            .nth(n)
            .map(|(i, _)| i)
            .expect("the test text contains the needle");
        Span::new(start, start + needle.len())
    }

    const SUBNETS: &str = "\
vpc shop 10.0.0.0/16 {
  subnet web 10.0.1.0/24
  subnet app 10.0.1.0/25
}
";

    #[test]
    fn error_with_fix_and_help() {
        let text = "vpc shop 10.0.0.1/16 {\n  subnet web 10.0.1.0/24\n}\n";
        let span = find(text, "10.0.0.1/16", 0);
        let diag = Diagnostic::new(
            Code::NP005,
            "prefix `10.0.0.1/16` has host bits set",
            span,
            "the address part has bits set past /16",
        )
        .with_help("a prefix names a network, so the bits past its length must be zero")
        .with_fix(
            "replace `10.0.0.1/16` with `10.0.0.0/16`",
            vec![Edit {
                span,
                replacement: "10.0.0.0/16".into(),
            }],
        );
        let report = report("shop.np", text, vec![diag]);
        insta::assert_snapshot!(render_human(&report, &report.diagnostics[0], false));
    }

    #[test]
    fn secondary_labels_on_other_lines() {
        let diag = Diagnostic::new(
            Code::NP103,
            "subnets `web` and `app` overlap",
            find(SUBNETS, "10.0.1.0/25", 0),
            "`app` is 10.0.1.0/25",
        )
        .with_label(find(SUBNETS, "10.0.1.0/24", 0), "`web` already covers it")
        .with_help("give `app` a prefix of its own, such as 10.0.2.0/24");
        let report = report("shop.np", SUBNETS, vec![diag]);
        insta::assert_snapshot!(render_human(&report, &report.diagnostics[0], false));
    }

    #[test]
    fn multibyte_text_gives_character_columns() {
        // "é" is two bytes long, so the header must say column 26
        // (characters) where miette's own byte count would say 27.
        let text = "# café → bistro\nvpc café 10.0.0.0/16 { x 10.0.0.256 }\n";
        let span = find(text, "10.0.0.256", 0);
        let diag = Diagnostic::new(
            Code::NP004,
            "`10.0.0.256` is not an IPv4 address",
            span,
            "octet 256 is past 255",
        )
        .with_label(find(text, "café", 1), "in this VPC");
        let report = report("cafés/é.np", text, vec![diag]);
        let (start, _) = report.source.range(span);
        assert_eq!((start.line, start.column), (2, 26));
        let rendered = render_human(&report, &report.diagnostics[0], false);
        assert!(rendered.contains("[cafés/é.np:2:26]"), "{rendered}");
        insta::assert_snapshot!(rendered);
    }

    #[test]
    fn empty_label_and_span_at_end_of_file() {
        let text = "vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n";
        let diag = Diagnostic::new(
            Code::NP001,
            "expected `}` to close `vpc shop`",
            Span::new(text.len(), text.len()),
            "",
        )
        .with_label(find(text, "{", 0), "the block opens here");
        let report = report("open.np", text, vec![diag]);
        insta::assert_snapshot!(render_human(&report, &report.diagnostics[0], false));
    }

    #[test]
    fn end_of_file_without_a_final_line_break() {
        let text = "vpc shop 10.0.0.0/16 {\n  subnet web";
        let diag = Diagnostic::new(
            Code::NP001,
            "expected a prefix after `subnet web`",
            Span::new(text.len(), text.len()),
            "the file ends here",
        );
        let report = report("cut.np", text, vec![diag]);
        insta::assert_snapshot!(render_human(&report, &report.diagnostics[0], false));
    }

    #[test]
    fn an_empty_file_still_renders() {
        let diag = Diagnostic::new(Code::NP001, "the file is empty", Span::new(0, 0), "");
        let report = report("empty.np", "", vec![diag]);
        let rendered = render_human(&report, &report.diagnostics[0], false);
        assert!(rendered.contains("[empty.np:1:1]"), "{rendered}");
    }

    #[test]
    fn spans_out_of_bounds_or_inside_characters_do_not_panic() {
        let text = "vpc é 10.0.0.0/16\n";
        let inside_e = text.find('é').map_or(0, |i| i + 1);
        let diag = Diagnostic::new(Code::NP001, "bad", Span::new(inside_e, 999), "here")
            .with_label(Span::new(500, 400), "nowhere");
        let report = report("x.np", text, vec![diag]);
        let rendered = render_human(&report, &report.diagnostics[0], false);
        assert!(rendered.contains("bad"), "{rendered}");
    }

    #[test]
    fn color_mode_uses_escape_sequences_and_a_hyperlink() {
        let text = "vpc shop 10.0.0.1/16 {}\n";
        let diag = Diagnostic::new(Code::NP005, "m", find(text, "10.0.0.1/16", 0), "l");
        let report = report("shop.np", text, vec![diag]);
        let plain = render_human(&report, &report.diagnostics[0], false);
        let colored = render_human(&report, &report.diagnostics[0], true);
        assert!(!plain.contains('\u{1b}'));
        assert!(colored.contains("\u{1b}["));
        assert!(colored.contains("\u{1b}]8;;https://netproof.dev/rules/NP005"));
        assert_eq!(strip_escapes(&colored), plain);
    }

    /// Removes ANSI styles (`ESC [ ... m`) and OSC 8 hyperlink brackets
    /// (`ESC ] 8 ; ; URL ESC \`), leaving the visible text.
    fn strip_escapes(text: &str) -> String {
        let mut visible = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\u{1b}' {
                visible.push(c);
                continue;
            }
            match chars.next() {
                Some('[') => while chars.next().is_some_and(|c| c != 'm') {},
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{1b}' && chars.next_if_eq(&'\\').is_some() {
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
        visible
    }

    #[test]
    fn run_ends_with_summary_and_expectation_note() {
        let text = "vpc shop 10.0.0.1/16 {}\nexpect reach a -> b HTTPS\nexpect egress a via b\n";
        let diag = Diagnostic::new(
            Code::NP005,
            "prefix `10.0.0.1/16` has host bits set",
            find(text, "10.0.0.1/16", 0),
            "host bits set",
        );
        let mut with_expectations = report("b.np", text, vec![diag]);
        with_expectations.expectations = vec![
            ExpectationResult {
                span: find(text, "expect reach a -> b HTTPS", 0),
                kind: ExpectKind::Reach,
                holds: None,
            },
            ExpectationResult {
                span: find(text, "expect egress a via b", 0),
                kind: ExpectKind::Egress,
                holds: None,
            },
        ];
        let clean = report("a.np", "", Vec::new());
        let mut out = Vec::new();
        HumanEmitter::plain()
            .emit(&[clean, with_expectations], &mut out)
            .expect("writing to a Vec cannot fail");
        let out = String::from_utf8(out).expect("the emitter writes UTF-8");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn clean_run_prints_only_the_summary() {
        let mut out = Vec::new();
        HumanEmitter::plain()
            .emit(&[report("a.np", "", Vec::new())], &mut out)
            .expect("writing to a Vec cannot fail");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "0 errors, 0 warnings, 0 infos in 1 file\n"
        );
    }
}
