//! The pipeline for one file: parse, lower to the model, run the rules, and
//! collect everything into a [`FileReport`] in canonical order.
//!
//! Each file is an independent design. `check_files` checks files in
//! parallel; output order never depends on the thread count, because reports
//! are sorted by path and diagnostics by (offset, code).

use crate::config::Config;
use crate::diagnostic::{self, Diagnostic};
use crate::model::{self, Model};
use crate::span::{LineCol, LineIndex, Span};
use crate::syntax::{self, ast::ExpectKind};
use rayon::prelude::*;
use std::sync::Arc;

/// Inputs larger than this are refused before parsing (files and standard
/// input are not even read past it: see [`crate::files::read`]).
pub use crate::files::MAX_INPUT_BYTES;

/// Whether the process ends once its files are checked, so that the large
/// structures of a check (the model, the engine's packet space, the name
/// scopes) need not be freed one allocation at a time: the operating system
/// takes the whole heap back at exit at no cost. Freeing a million-prefix
/// model took about a tenth of the run. Only the command line sets it (see
/// [`exit_after_check`]); a library caller or the language server, which
/// live on, free everything as usual.
static EXIT_AFTER_CHECK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Declares that the process exits once it has checked its files: from
/// then on, [`release`] leaves what it is given to the exit. Output is not
/// concerned; only memory that is never read again is left unfreed.
pub fn exit_after_check() {
    EXIT_AFTER_CHECK.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Frees `value`, unless the process is about to exit anyway (see
/// [`exit_after_check`]): then it is left for the exit to reclaim.
pub fn release<T>(value: T) {
    if EXIT_AFTER_CHECK.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

/// One source text and its line index.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given on the command line (or `<stdin>`).
    pub path: String,
    pub text: Arc<String>,
    pub lines: LineIndex,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text: String = text.into();
        let lines = LineIndex::new(&text);
        SourceFile {
            path: path.into(),
            text: Arc::new(text),
            lines,
        }
    }

    pub fn line_col(&self, offset: u32) -> LineCol {
        self.lines.line_col(&self.text, offset)
    }

    /// Start and end positions of a span; the end column is exclusive (the
    /// column just past the last character), as in SARIF.
    pub fn range(&self, span: Span) -> (LineCol, LineCol) {
        (self.line_col(span.start), self.line_col(span.end))
    }
}

/// An expectation as the reports list it. `holds` is `None` until the
/// reachability engine evaluates expectations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectationResult {
    pub span: Span,
    pub kind: ExpectKind,
    pub holds: Option<bool>,
}

/// Everything netproof found in one file.
#[derive(Debug)]
pub struct FileReport {
    pub source: SourceFile,
    pub diagnostics: Vec<Diagnostic>,
    pub expectations: Vec<ExpectationResult>,
}

/// Checks one text: the whole pipeline, with inline suppressions applied
/// and no configuration (every rule, default severities).
pub fn check_source(path: impl Into<String>, text: impl Into<String>) -> FileReport {
    check_source_with(path, text, &Config::default())
}

/// Checks one text under a configuration: the whole pipeline, then the
/// inline suppressions (which add NP007 for those that silence nothing),
/// then the configuration's `select`/`ignore` and severity overrides. This
/// is the per-file entry point for the command line and the language
/// server; `config` comes from [`crate::config::config_for`] (or
/// `Config::default()` when there is none).
pub fn check_source_with(
    path: impl Into<String>,
    text: impl Into<String>,
    config: &Config,
) -> FileReport {
    let text: String = text.into();
    // On a thread of the pool, as the rules' parallel work is: memory the
    // syntax tree frees is then reused by the engine rather than left in
    // another thread's allocator arena (one thread, W3's peak was 60 MB
    // higher when the front end ran on the calling thread).
    let (mut diagnostics, expectations, comments, complete, lines) =
        rayon::scope(|_| analyze(&text));
    // Suppressions come before the configuration, so that a suppression is
    // unused only when nothing it names would be found on its line, whatever
    // the configuration then hides. In a file whose front-end errors kept
    // rules from running, no suppression is called unused: even the rules
    // that ran saw only part of the design.
    crate::suppress::apply(&text, &lines, &comments, &mut diagnostics, |_| complete);
    config.apply(&mut diagnostics);
    diagnostic::sort_and_dedup(&mut diagnostics);
    FileReport {
        source: SourceFile {
            path: path.into(),
            text: Arc::new(text),
            lines,
        },
        diagnostics,
        expectations,
    }
}

/// What [`analyze`] found: the findings, the expectations, the comments'
/// spans (for the suppressions), whether every rule ran on the whole
/// design (no front-end error stopped any), and the text's line index.
type Analysis = (
    Vec<Diagnostic>,
    Vec<ExpectationResult>,
    Vec<Span>,
    bool,
    LineIndex,
);

/// The findings and expectations of one text, its comments' spans, and
/// whether every rule ran.
fn analyze(text: &str) -> Analysis {
    if text.len() > MAX_INPUT_BYTES {
        let d = crate::rules::np001_syntax_error::syntax_error(
            Span::new(0, 0),
            format!(
                "the file is {} bytes long; netproof reads at most {MAX_INPUT_BYTES}",
                text.len()
            ),
            "file too large",
            Some("split the design into several files, one per independent network".into()),
        );
        return (vec![d], Vec::new(), Vec::new(), false, LineIndex::new(text));
    }
    let syntax::Parse {
        mut tree,
        mut diagnostics,
    } = syntax::parse(text);
    let comments = std::mem::take(&mut tree.comments);
    let lowered = model::lower(&tree);
    diagnostics.extend(lowered.diagnostics);
    let mut model = lowered.model;
    // Nothing reads the tree after lowering. It is freed now, item by item
    // on every thread, rather than at the end: it no longer sits in memory
    // next to the engine's caches. (Freeing it on one thread while the
    // engine runs on the other was slower: both then contend for the
    // allocator's locks, and the engine allocates a lot.)
    if tree.items.len() > 1 && text.len() > 1 << 20 {
        use rayon::prelude::*;
        tree.items.into_par_iter().for_each(drop);
    } else {
        drop(tree);
    }
    let broken = front_end_broken(&diagnostics);
    // The line index is only needed to show findings; it is built while the
    // model rules run (a pass over the whole text, 50 ms on a 90 MB file),
    // not earlier: next to the tree and the model while lowering, where
    // memory peaks, it would raise the peak by its size (6 MB on W3).
    let (lines, found) = rayon::join(|| LineIndex::new(text), || crate::rules::run(&model));
    diagnostics.extend(
        found
            .into_iter()
            .filter(|d| !(broken && crate::rules::NEED_COMPLETE_MODEL.contains(&d.code))),
    );
    let expectations = expectation_results(&model, &mut diagnostics);
    // Freeing the model is most of the work left: firewall rules on one
    // thread, the rest (route tables above all) on another; a process about
    // to exit does not free it at all.
    let firewalls = std::mem::take(&mut model.firewalls);
    rayon::join(move || release(firewalls), move || release(model));
    diagnostic::sort_and_dedup(&mut diagnostics);
    (diagnostics, expectations, comments, !broken, lines)
}

/// Decides the expectations, unless the file has errors that make the model
/// incomplete: then a verdict would describe a network the author did not
/// write, so they are listed as not evaluated.
fn expectation_results(model: &Model, diagnostics: &mut Vec<Diagnostic>) -> Vec<ExpectationResult> {
    let broken = front_end_broken(diagnostics);
    let verdicts = if broken {
        Vec::new()
    } else {
        let (verdicts, findings) = crate::engine::analyze(model);
        diagnostics.extend(findings);
        verdicts
    };
    model
        .expectations
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let holds = verdicts.get(i).and_then(|v| v.holds);
            if let Some(d) = verdicts.get(i).and_then(|v| v.diagnostic.clone()) {
                diagnostics.push(d);
            }
            ExpectationResult {
                span: e.span,
                kind: e.kind,
                holds,
            }
        })
        .collect()
}

/// Whether the front end (parser and resolver, the NP0xx rules) found an
/// error: then the model lacks whatever the broken statements said.
fn front_end_broken(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| {
        d.severity() == crate::diagnostic::Severity::Error && d.code.as_str().starts_with("NP0")
    })
}

/// Checks many files in parallel and returns their reports sorted by path.
pub fn check_files(files: Vec<(String, String)>) -> Vec<FileReport> {
    let default = Arc::new(Config::default());
    check_files_with(
        files
            .into_iter()
            .map(|(path, text)| (path, text, default.clone()))
            .collect(),
    )
}

/// Checks many files in parallel, each under its own configuration, and
/// returns their reports sorted by path.
pub fn check_files_with(files: Vec<(String, String, Arc<Config>)>) -> Vec<FileReport> {
    check_files_observed(files, &|| {})
}

/// [`check_files_with`], calling `file_done` (from any thread) as each
/// file's check ends, so that a caller can show progress.
pub fn check_files_observed(
    files: Vec<(String, String, Arc<Config>)>,
    file_done: &(dyn Fn() + Sync),
) -> Vec<FileReport> {
    let mut reports: Vec<FileReport> = files
        .into_par_iter()
        .map(|(path, text, config)| {
            let report = check_source_with(path, text, &config);
            file_done();
            report
        })
        .collect();
    reports.sort_by(|a, b| a.source.path.cmp(&b.source.path));
    reports
}
