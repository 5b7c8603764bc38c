//! The one diagnostic type every phase produces.
//!
//! A rule says only *what* went wrong and *where*: a message, labelled spans,
//! a help line and possibly a fix. The rule's code selects its entry in the
//! registry, which supplies the name, severity and documentation URL, so no
//! rule can get those wrong and a severity can be changed in one place.

use crate::registry::{self, Code, RuleMeta};
use crate::span::Span;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A span with the text shown beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(span: Span, message: impl Into<String>) -> Label {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// One replacement of the text under `span`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// A machine-applicable fix: a description and non-overlapping edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub description: String,
    pub edits: Vec<Edit>,
}

/// One hop of the path a packet takes through the design, for findings that
/// explain a flow (NP901-NP903). Emitters that can show a path step by step
/// (SARIF's `codeFlows`) use it; the others show the help text, which
/// carries the same path in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathStep {
    /// The element the packet is at, e.g. `prod (cgw)`.
    pub node: String,
    /// What that element did with it.
    pub decision: String,
    /// The line that made the decision, when one did (an implicit default
    /// has none).
    pub span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub fix: Option<Fix>,
    /// The severity a `netproof.toml` gave this diagnostic's rule, which
    /// wins over the registry's default; `None` keeps the default.
    pub severity_override: Option<Severity>,
    /// The path of the packet the finding is about, first hop first; empty
    /// for findings that are not about one flow.
    pub path: Vec<PathStep>,
}

impl Diagnostic {
    pub fn new(
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label::new(span, label),
            secondary: Vec::new(),
            help: None,
            fix: None,
            severity_override: None,
            path: Vec::new(),
        }
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label::new(span, message));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_fix(mut self, description: impl Into<String>, edits: Vec<Edit>) -> Self {
        self.fix = Some(Fix {
            description: description.into(),
            edits,
        });
        self
    }

    pub fn with_path(mut self, path: impl IntoIterator<Item = PathStep>) -> Self {
        self.path = path.into_iter().collect();
        self
    }

    pub fn meta(&self) -> &'static RuleMeta {
        registry::meta(self.code)
    }

    pub fn name(&self) -> &'static str {
        self.meta().name
    }

    /// The severity this diagnostic is reported with: the configuration's
    /// override for its rule when there is one, else the rule's default.
    /// Every emitter and the exit status go through here.
    pub fn severity(&self) -> Severity {
        self.severity_override.unwrap_or(self.meta().severity)
    }

    pub fn url(&self) -> String {
        self.meta().url()
    }

    /// The order every emitter uses: by position, then by code, then by
    /// message so that two findings at one place still sort the same way
    /// whatever order the (parallel) analyses produced them in.
    pub fn sort_key(&self) -> (u32, u32, Code, &str) {
        (
            self.primary.span.start,
            self.primary.span.end,
            self.code,
            &self.message,
        )
    }
}

/// Sorts diagnostics into their canonical, thread-count-independent order and
/// drops exact duplicates (two phases may legitimately find the same fault).
pub fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
}
