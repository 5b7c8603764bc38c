//! Emitters: the only code (besides `main.rs`) that writes output.
//!
//! The pipeline hands over finished [`FileReport`]s; an emitter turns all of
//! them into one output document. Emitters see whole runs rather than single
//! diagnostics because formats such as JSON (and later SARIF) need a summary
//! and a single enclosing document, and the human format ends with a summary
//! line.
//!
//! **Invariant:** emitters never reorder. Reports arrive sorted by path and
//! diagnostics by position, so output is byte-for-byte identical whatever the
//! thread count.

mod excerpt;
mod human;
mod json;
mod sarif;
mod trace;

pub use excerpt::{visible, MAX_LINE_CHARS};
pub use human::{
    render_human, HumanEmitter, FIXED_WIDTH, MAX_FINDINGS_PER_FILE, MAX_LABELS, MAX_TEXT_CHARS,
};
pub use json::JsonEmitter;
pub use sarif::{
    artifact_uri, line_hash, rule_category, security_severity, ArtifactUri, SarifEmitter,
    SARIF_SCHEMA, SRCROOT, STDIN_URI,
};
pub use trace::{render_trace_human, render_trace_json, rewrite_words, TraceInputs, TraceTitle};

use crate::check::FileReport;
use crate::diagnostic::Severity;
use std::io;

/// One output format.
pub trait Emitter {
    /// Writes every report of one run, followed by whatever closing material
    /// the format has (a summary line, the end of a JSON document).
    fn emit(&self, reports: &[FileReport], out: &mut dyn io::Write) -> io::Result<()>;
}

/// Counts over a whole run, shared by the emitters and by the exit status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Expectations the run parsed but could not evaluate (`holds` is `None`).
    pub unevaluated_expectations: usize,
}

impl Summary {
    pub fn of(reports: &[FileReport]) -> Summary {
        let mut summary = Summary {
            files: reports.len(),
            ..Summary::default()
        };
        for report in reports {
            for diagnostic in &report.diagnostics {
                match diagnostic.severity() {
                    Severity::Error => summary.errors += 1,
                    Severity::Warning => summary.warnings += 1,
                    Severity::Info => summary.infos += 1,
                }
            }
            summary.unevaluated_expectations += report
                .expectations
                .iter()
                .filter(|e| e.holds.is_none())
                .count();
        }
        summary
    }

    /// How many diagnostics have `threshold` or a worse severity.
    pub fn at_least(&self, threshold: Severity) -> usize {
        match threshold {
            Severity::Error => self.errors,
            Severity::Warning => self.errors + self.warnings,
            Severity::Info => self.errors + self.warnings + self.infos,
        }
    }

    /// The closing line of the human output, e.g.
    /// `2 errors, 1 warning, 0 infos in 3 files`.
    pub fn line(&self) -> String {
        format!(
            "{}, {}, {} in {}",
            count(self.errors, "error", "errors"),
            count(self.warnings, "warning", "warnings"),
            count(self.infos, "info", "infos"),
            count(self.files, "file", "files"),
        )
    }
}

/// `1 file`, `0 files`, `2 files`.
pub(crate) fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_pluralises_each_count() {
        let summary = Summary {
            files: 3,
            errors: 2,
            warnings: 1,
            infos: 0,
            unevaluated_expectations: 0,
        };
        assert_eq!(summary.line(), "2 errors, 1 warning, 0 infos in 3 files");
        let one = Summary {
            files: 1,
            errors: 1,
            warnings: 0,
            infos: 1,
            unevaluated_expectations: 0,
        };
        assert_eq!(one.line(), "1 error, 0 warnings, 1 info in 1 file");
    }

    #[test]
    fn thresholds_include_everything_worse() {
        let summary = Summary {
            files: 1,
            errors: 0,
            warnings: 2,
            infos: 3,
            unevaluated_expectations: 0,
        };
        assert_eq!(summary.at_least(Severity::Error), 0);
        assert_eq!(summary.at_least(Severity::Warning), 2);
        assert_eq!(summary.at_least(Severity::Info), 5);
    }
}
