//! The JSON format for CI scripts. Its shape is a public interface, documented
//! field by field in `docs/json-output.md`; the private structs below are that
//! document in code, so the shape changes only when they do.

use super::{Emitter, Summary};
use crate::check::{FileReport, SourceFile};
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::span::Span;
use serde::Serialize;
use std::io;

/// Writes one pretty-printed JSON document for the whole run.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonEmitter;

impl Emitter for JsonEmitter {
    fn emit(&self, reports: &[FileReport], out: &mut dyn io::Write) -> io::Result<()> {
        let document = Document::new(reports);
        serde_json::to_writer_pretty(&mut *out, &document)?;
        writeln!(out)
    }
}

#[derive(Serialize)]
struct Document<'a> {
    tool: Tool,
    summary: JsonSummary,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    expectations: Vec<JsonExpectation<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    #[serde(flatten)]
    location: Location<'a>,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
    fix: Option<JsonFix<'a>>,
    /// The packet's path, hop by hop, for findings about one flow.
    path: Vec<JsonStep<'a>>,
    url: String,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    node: &'a str,
    decision: &'a str,
    /// The line that made the decision; `null` for implicit behaviour.
    location: Option<Location<'a>>,
}

/// A span as editors count it: 1-based lines, 1-based character columns, the
/// end exclusive.
#[derive(Serialize)]
struct Location<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

impl<'a> Location<'a> {
    fn new(source: &'a SourceFile, span: Span) -> Location<'a> {
        let (start, end) = source.range(span);
        Location {
            file: &source.path,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    message: &'a str,
    #[serde(flatten)]
    location: Location<'a>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    description: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    #[serde(flatten)]
    location: Location<'a>,
    replacement: &'a str,
}

#[derive(Serialize)]
struct JsonExpectation<'a> {
    file: &'a str,
    line: usize,
    kind: &'static str,
    holds: Option<bool>,
}

impl<'a> Document<'a> {
    fn new(reports: &'a [FileReport]) -> Document<'a> {
        let summary = Summary::of(reports);
        let diagnostics = reports
            .iter()
            .flat_map(|r| {
                r.diagnostics
                    .iter()
                    .map(|d| JsonDiagnostic::new(&r.source, d))
            })
            .collect();
        let expectations = reports
            .iter()
            .flat_map(|r| {
                r.expectations.iter().map(|e| JsonExpectation {
                    file: &r.source.path,
                    line: r.source.line_col(e.span.start).line,
                    kind: e.kind.keyword(),
                    holds: e.holds,
                })
            })
            .collect();
        Document {
            tool: Tool {
                name: "netproof",
                version: env!("CARGO_PKG_VERSION"),
            },
            summary: JsonSummary {
                files: summary.files,
                errors: summary.errors,
                warnings: summary.warnings,
                infos: summary.infos,
            },
            diagnostics,
            expectations,
        }
    }
}

impl<'a> JsonDiagnostic<'a> {
    fn new(source: &'a SourceFile, diag: &'a Diagnostic) -> JsonDiagnostic<'a> {
        let label = |l: &'a Label| JsonLabel {
            message: &l.message,
            location: Location::new(source, l.span),
        };
        JsonDiagnostic {
            code: diag.code.as_str(),
            name: diag.name(),
            severity: diag.severity(),
            message: &diag.message,
            location: Location::new(source, diag.primary.span),
            labels: std::iter::once(&diag.primary)
                .chain(&diag.secondary)
                .map(label)
                .collect(),
            help: diag.help.as_deref(),
            fix: diag.fix.as_ref().map(|fix| JsonFix {
                description: &fix.description,
                edits: fix
                    .edits
                    .iter()
                    .map(|e| JsonEdit {
                        location: Location::new(source, e.span),
                        replacement: &e.replacement,
                    })
                    .collect(),
            }),
            path: diag
                .path
                .iter()
                .map(|step| JsonStep {
                    node: &step.node,
                    decision: &step.decision,
                    location: step.span.map(|span| Location::new(source, span)),
                })
                .collect(),
            url: diag.url(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::ExpectationResult;
    use crate::diagnostic::{Edit, PathStep};
    use crate::registry::Code;
    use crate::syntax::ast::ExpectKind;

    fn find(text: &str, needle: &str) -> Span {
        let start = text
            .find(needle)
            .expect("the test text contains the needle");
        Span::new(start, start + needle.len())
    }

    fn emit(reports: &[FileReport]) -> String {
        let mut out = Vec::new();
        JsonEmitter
            .emit(reports, &mut out)
            .expect("writing to a Vec cannot fail");
        let out = String::from_utf8(out).expect("serde_json writes UTF-8");
        // The version changes with every release; the snapshot should not.
        out.replace(
            &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
            "\"version\": \"[version]\"",
        )
    }

    /// Two files: one with a fix, secondary labels, multi-byte characters
    /// before the spans, and expectations; one clean. Reports are passed in
    /// path order, as `check_files` returns them.
    fn sample() -> Vec<FileReport> {
        let text =
            "vpc café 10.0.0.1/16 {\n  subnet wéb 10.0.1.0/24\n  subnet äpp 10.0.1.0/25\n}\n\
                    expect reach wéb -> äpp HTTPS\nexpect no-reach äpp -> wéb SSH\n";
        let prefix = find(text, "10.0.0.1/16");
        let host_bits = Diagnostic::new(
            Code::NP005,
            "prefix `10.0.0.1/16` has host bits set",
            prefix,
            "the address part has bits set past /16",
        )
        .with_help("a prefix names a network, so the bits past its length must be zero")
        .with_fix(
            "replace `10.0.0.1/16` with `10.0.0.0/16`",
            vec![Edit {
                span: prefix,
                replacement: "10.0.0.0/16".into(),
            }],
        );
        let overlap = Diagnostic::new(
            Code::NP103,
            "subnets `wéb` and `äpp` overlap",
            find(text, "10.0.1.0/25"),
            "`äpp` is 10.0.1.0/25",
        )
        .with_label(find(text, "10.0.1.0/24"), "`wéb` already covers it");
        let no_reach = find(text, "expect no-reach äpp -> wéb SSH");
        let delivered = Diagnostic::new(
            Code::NP902,
            "expectation fails: tcp 10.0.1.10:1024 -> 10.0.1.20:22 is delivered",
            no_reach,
            "this traffic should not get through",
        )
        .with_path(vec![
            PathStep {
                node: "äpp".into(),
                decision: "sent".into(),
                span: Some(find(text, "subnet äpp")),
            },
            PathStep {
                node: "vpc café / local route".into(),
                decision: "delivered in the VPC".into(),
                span: None,
            },
        ]);
        let mut designed = FileReport {
            source: SourceFile::new("designs/café.np", text),
            diagnostics: vec![host_bits, overlap, delivered],
            expectations: Vec::new(),
        };
        designed.expectations = vec![
            ExpectationResult {
                span: find(text, "expect reach"),
                kind: ExpectKind::Reach,
                holds: None,
            },
            ExpectationResult {
                span: find(text, "expect no-reach"),
                kind: ExpectKind::NoReach,
                holds: Some(false),
            },
        ];
        let clean = FileReport {
            source: SourceFile::new("designs/clean.np", "vpc v 10.1.0.0/16 {}\n"),
            diagnostics: Vec::new(),
            expectations: Vec::new(),
        };
        vec![designed, clean]
    }

    #[test]
    fn full_document() {
        insta::assert_snapshot!(emit(&sample()));
    }

    #[test]
    fn columns_are_characters_and_end_exclusive() {
        let out = emit(&sample());
        let value: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        let d = &value["diagnostics"][1];
        // Line 3 is "  subnet äpp 10.0.1.0/25": the prefix starts at character
        // 14 (byte 15, because "ä" takes two bytes) and is 11 characters long.
        assert_eq!(d["line"], 3);
        assert_eq!(d["column"], 14);
        assert_eq!(d["end_line"], 3);
        assert_eq!(d["end_column"], 25);
        assert_eq!(d["help"], serde_json::Value::Null);
        assert_eq!(d["fix"], serde_json::Value::Null);
    }

    #[test]
    fn empty_run_is_still_a_complete_document() {
        insta::assert_snapshot!(emit(&[]));
    }
}
