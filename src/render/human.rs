//! The human format: one miette graphical report per diagnostic, then a
//! summary line.
//!
//! netproof's [`Diagnostic`] stays a plain data type; a private adapter
//! borrows it and implements [`miette::Diagnostic`] only for rendering, so the
//! core does not depend on how miette wants its errors shaped.

use super::excerpt::{excerpt, visible, Excerpt, ShownLabel};
use super::{count, Emitter, Summary};
use crate::check::FileReport;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::span::Span;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use std::fmt;
use std::io;

/// The most findings the human output shows for one file, in order; a note
/// counts the rest (the summary line counts everything, and the JSON and
/// SARIF outputs list everything). It keeps a hostile file from flooding a
/// terminal: 1,000 findings of at most [`MAX_LABELS`] clipped lines each.
pub const MAX_FINDINGS_PER_FILE: usize = 1_000;

/// The most labels one finding shows (the primary one included); a note
/// counts the rest, which the JSON and SARIF outputs keep.
pub const MAX_LABELS: usize = 12;

/// The most characters of a message, label, help or path shown; the rest is
/// counted after an ellipsis.
pub const MAX_TEXT_CHARS: usize = 2_000;

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
            for diagnostic in report.diagnostics.iter().take(MAX_FINDINGS_PER_FILE) {
                let rendered = render(report, diagnostic, self.color, self.width);
                // miette ends its report with a newline; one more separates
                // consecutive reports.
                writeln!(out, "{rendered}")?;
            }
            let cut = report
                .diagnostics
                .len()
                .saturating_sub(MAX_FINDINGS_PER_FILE);
            if cut > 0 {
                writeln!(
                    out,
                    "note: {} in `{}` not shown: the human output shows the first {} of a \
                     file's findings; `--format json` lists them all\n",
                    count(cut, "more finding", "more findings"),
                    visible(&report.source.path, MAX_TEXT_CHARS),
                    MAX_FINDINGS_PER_FILE,
                )?;
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
                "note: {} {verb} not decided: the file has errors, a set of flows is too large to \
                 prove (NP905), or the flows cross parts of the network this version of the engine \
                 does not model yet (see docs/engine.md)",
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
    let text: &str = &report.source.text;
    let all = diag_labels(diag).count();
    let labels: Vec<(Span, String, bool)> = diag_labels(diag)
        .take(MAX_LABELS)
        .enumerate()
        .map(|(i, l)| {
            (
                source_span(text, l.span),
                visible(&l.message, MAX_TEXT_CHARS),
                i == 0,
            )
        })
        .collect();
    let (source, shown, clips) = excerpt(
        &visible(&report.source.path, MAX_TEXT_CHARS),
        text,
        &report.source.lines,
        &labels,
    );
    let adapter = Adapter {
        diag,
        message: visible(&diag.message, MAX_TEXT_CHARS),
        help: diag.help.as_deref().map(|h| visible(h, MAX_TEXT_CHARS)),
        labels: shown,
        source,
        url,
    };
    let mut rendered = String::new();
    if handler.render_report(&mut rendered, &adapter).is_err() {
        // miette only fails when a span is out of bounds, which the excerpt
        // prevents; should it happen anyway, the message alone is still
        // worth showing.
        rendered = format!("{}: {}\n", adapter.code(), adapter.message);
    }
    for clip in clips {
        rendered.push_str(&format!(
            "  note: line {} is {} characters long; only columns {}-{} are shown\n",
            clip.line, clip.length, clip.shown.0, clip.shown.1
        ));
    }
    if all > MAX_LABELS {
        rendered.push_str(&format!(
            "  note: {} more labels are not shown; `--format json` lists them all\n",
            all - MAX_LABELS
        ));
    }
    if let Some(fix) = &diag.fix {
        // miette has no notion of a fix; it reads best as one more footer line
        // under the help, in the same indentation.
        rendered.push_str(&format!(
            "  fix: {}\n",
            visible(&fix.description, MAX_TEXT_CHARS)
        ));
    }
    rendered
}

/// A netproof diagnostic seen through miette's eyes, with everything taken
/// from the design made safe to print.
#[derive(Debug)]
struct Adapter<'a> {
    diag: &'a Diagnostic,
    message: String,
    help: Option<String>,
    labels: Vec<ShownLabel>,
    source: Excerpt<'a>,
    url: String,
}

impl Adapter<'_> {
    /// The code as miette shows it in the header: the stable code for
    /// searching and the rule name for reading, e.g.
    /// `NP005(prefix-host-bits-set)`.
    fn code(&self) -> String {
        format!("{}({})", self.diag.code, self.diag.name())
    }
}

impl fmt::Display for Adapter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
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
        self.help
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
        Some(Box::new(self.labels.iter().map(|l| {
            let message = (!l.message.is_empty()).then(|| l.message.clone());
            if l.primary {
                LabeledSpan::new_primary_with_span(message, l.span)
            } else {
                LabeledSpan::new_with_span(message, l.span)
            }
        })))
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

/// Clamps a span to the text and widens it to character boundaries. A span
/// that does not fit would be a bug upstream, but an emitter must show the
/// finding rather than fail on it.
///
/// An empty span at the end of a text that ends with a line break would sit on
/// a line miette does not draw, so it moves to the end of the last line, where
/// a reader looks for "unexpected end of file" anyway. (The JSON output keeps
/// the exact position, the start of the empty last line.)
fn source_span(text: &str, span: Span) -> Span {
    let len = text.len();
    if is_end_point(text, span) {
        let last_line = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t));
        let at = last_line.map_or(len, str::len);
        return Span::new(at, at);
    }
    let mut start = (span.start as usize).min(len);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (span.end as usize).clamp(start, len);
    while !text.is_char_boundary(end) {
        end += 1;
    }
    Span::new(start, end)
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

    #[test]
    fn a_finding_shows_at_most_max_labels_and_counts_the_rest() {
        let text: String = (0..40)
            .map(|i| format!("vpc v{i} 10.{i}.0.0/16 {{}}\n"))
            .collect();
        let mut diag = Diagnostic::new(Code::NP002, "many", find(&text, "v0", 0), "first");
        for i in 1..40 {
            diag = diag.with_label(find(&text, &format!("v{i} "), 0), format!("label {i}"));
        }
        let report = report("many.np", &text, vec![diag]);
        let rendered = render_human(&report, &report.diagnostics[0], false);
        assert!(
            rendered.contains(&format!("label {}", MAX_LABELS - 1)),
            "{rendered}"
        );
        assert!(
            !rendered.contains(&format!("label {}", MAX_LABELS)),
            "{rendered}"
        );
        assert!(
            rendered.contains(&format!(
                "note: {} more labels are not shown",
                40 - MAX_LABELS
            )),
            "{rendered}"
        );
    }

    #[test]
    fn messages_and_labels_escape_control_characters() {
        let text = "vpc shop 10.0.0.0/16 {}\n";
        let diag = Diagnostic::new(Code::NP001, "bad \u{1b}[2J", find(text, "shop", 0), "\u{7}")
            .with_help("\u{9b}help");
        let report = report("x.np", text, vec![diag]);
        let rendered = render_human(&report, &report.diagnostics[0], false);
        assert!(
            !rendered.chars().any(|c| c.is_control() && c != '\n'),
            "{rendered:?}"
        );
        for shown in ["bad \\u{1b}[2J", "\\u{7}", "\\u{9b}help"] {
            assert!(rendered.contains(shown), "{shown} in {rendered}");
        }
    }

    #[test]
    fn visible_without_a_limit_escapes_and_keeps_everything() {
        let text = "a\u{1b}b\tc\nd";
        assert_eq!(visible(text, usize::MAX), "a\\u{1b}b\tc\nd");
        assert_eq!(visible("abcdef", 3), "abc… (3 more characters)");
    }
}
