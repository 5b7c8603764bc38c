//! SARIF 2.1.0, the format CI code-scanning services (GitHub code scanning,
//! GitLab, Azure DevOps) ingest. `docs/sarif.md` documents the mapping from
//! diagnostics to SARIF objects; the private structs below are that mapping
//! in code.
//!
//! One run holds every rule of the registry (so each result's `ruleIndex`
//! points into a complete table), every checked file as an artifact, and one
//! result per diagnostic, in the canonical order the reports arrive in.

use super::Emitter;
use crate::check::{FileReport, SourceFile};
use crate::cli::STDIN_PATH;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::registry::{Code, RuleMeta, RULES};
use crate::span::{LineCol, Span};
use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::Hasher;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The schema the output is valid against (the OASIS errata 01 schema, the
/// one `tests/sarif.rs` validates with).
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Where netproof is documented, for `tool.driver.informationUri`.
const INFORMATION_URI: &str = "https://netproof.dev/";

/// The base every relative artifact URI is resolved against: the directory
/// netproof ran in, which in CI is the repository's checkout.
pub const SRCROOT: &str = "%SRCROOT%";

/// The URI standing for standard input: `<stdin>`, the name the other
/// formats show, percent-encoded. No real file is called that, so it cannot
/// be mistaken for one.
pub const STDIN_URI: &str = "%3Cstdin%3E";

/// Writes one SARIF log with a single run.
#[derive(Clone, Debug, Default)]
pub struct SarifEmitter {
    /// The directory absolute paths are made relative to (the working
    /// directory); `None` keeps every absolute path as a `file://` URI.
    pub base: Option<PathBuf>,
}

impl SarifEmitter {
    pub fn new(base: Option<PathBuf>) -> SarifEmitter {
        SarifEmitter { base }
    }
}

impl Emitter for SarifEmitter {
    fn emit(&self, reports: &[FileReport], out: &mut dyn io::Write) -> io::Result<()> {
        let log = Log::new(reports, self.base.as_deref());
        serde_json::to_writer_pretty(&mut *out, &log)?;
        writeln!(out)
    }
}

/// The category tag of a rule, from the hundred of its code (the sections
/// of the rule catalog).
pub fn rule_category(code: Code) -> &'static str {
    match code.as_str().get(2..3) {
        Some("0") => "syntax",
        Some("1") => "addressing",
        Some("2") => "nat",
        Some("3") => "filtering",
        Some("4") => "routing",
        Some("5") => "privatelink",
        Some("6") => "nvgre",
        Some("9") => "expectations",
        _ => "other",
    }
}

/// The `security-severity` of a security rule, as GitHub reads it: a number
/// from 0.0 to 10.0 in a string (9.0 and up critical, 7.0 high, 4.0 medium,
/// below that low). `None` for rules that are not about security.
///
/// A rule is a security rule when its finding is about a security control
/// (gateway firewall, security group, network ACL, endpoint acceptance) or
/// about exposure. The score says what the finding means for an attacker:
/// traffic proven to get in where it should not ranks highest, a control
/// that does not do what it says comes next, and a control that blocks
/// legitimate traffic (which invites a hasty widening) lowest.
/// `docs/sarif.md` lists the set with reasons; keep the two in step.
pub fn security_severity(code: Code) -> Option<&'static str> {
    match code {
        // Proven exposure: an admin or database port answers from the
        // internet; traffic an `expect no-reach` forbids is delivered.
        Code::NP303 | Code::NP902 => Some("8.0"),
        // Any source to any destination with any service.
        Code::NP302 => Some("7.0"),
        // A control that does not act as written: a firewall rule on an
        // address it never sees, a rule no packet reaches, an endpoint
        // service that accepts any consumer without approval.
        Code::NP201 | Code::NP301 | Code::NP503 => Some("5.0"),
        // A security group rule written for clients whose addresses never
        // arrive, so the rule that works is wider than the one written.
        Code::NP502 => Some("4.0"),
        // A filter that blocks legitimate traffic.
        Code::NP304 | Code::NP305 | Code::NP402 | Code::NP501 => Some("3.0"),
        // A filter attached to nothing, which misleads a reviewer.
        Code::NP306 => Some("2.0"),
        _ => None,
    }
}

/// How often a finding of this rule is a real problem, as SARIF's
/// `precision` property says it: exact front-end checks and expectations
/// decided over every packet are `very-high`; the rest involve a judgement
/// about intent (a permissive rule may be deliberate).
fn precision(code: Code) -> &'static str {
    match rule_category(code) {
        "syntax" | "addressing" | "expectations" => "very-high",
        _ => "high",
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The first paragraph of the page's "What it does" section, on one line;
/// the summary when the page has no such section.
fn full_description(rule: &RuleMeta) -> String {
    let mut lines = rule
        .page
        .lines()
        .skip_while(|l| l.trim() != "## What it does");
    if lines.next().is_none() {
        return rule.summary.to_string();
    }
    let paragraph: Vec<&str> = lines
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::trim)
        .collect();
    if paragraph.is_empty() {
        rule.summary.to_string()
    } else {
        paragraph.join(" ")
    }
}

/// Path segments keep only unreserved characters (RFC 3986) as they are;
/// everything else, including `:`, which would read as a scheme in a first
/// segment, is percent-encoded as UTF-8.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where an artifact is, as SARIF wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactUri {
    /// A URI reference: relative with `/` separators, or `file://` when the
    /// file is outside the base directory.
    pub uri: String,
    /// `Some("%SRCROOT%")` for a path relative to the working directory.
    pub uri_base_id: Option<&'static str>,
}

/// The URI of a checked file shown as `path`. Relative paths stay relative
/// to the working directory (`./` dropped, `..` kept); an absolute path
/// under `base` becomes relative to it; any other absolute path becomes a
/// `file://` URI. Standard input is [`STDIN_URI`].
pub fn artifact_uri(path: &str, base: Option<&Path>) -> ArtifactUri {
    if path == STDIN_PATH {
        return ArtifactUri {
            uri: STDIN_URI.to_string(),
            uri_base_id: None,
        };
    }
    // The file itself, with its bytes, not the escaped form shown to people.
    let owned = crate::files::path_of_shown(path);
    let as_path = owned.as_path();
    let relative = if as_path.is_absolute() {
        base.and_then(|b| as_path.strip_prefix(b).ok())
    } else {
        Some(as_path)
    };
    match relative {
        Some(rel) => {
            let segments: Vec<String> = rel
                .components()
                .filter_map(|c| match c {
                    Component::Normal(s) => {
                        Some(percent_encode(s.as_encoded_bytes(), SEGMENT).to_string())
                    }
                    Component::ParentDir => Some("..".to_string()),
                    Component::CurDir | Component::RootDir | Component::Prefix(_) => None,
                })
                .collect();
            ArtifactUri {
                uri: segments.join("/"),
                uri_base_id: Some(SRCROOT),
            }
        }
        None => {
            let mut uri = String::from("file://");
            for c in as_path.components() {
                match c {
                    // A Windows drive (`C:`) keeps its colon, as in
                    // `file:///C:/designs/a.np`.
                    Component::Prefix(p) => {
                        uri.push('/');
                        uri.push_str(&p.as_os_str().to_string_lossy().replace('\\', "/"));
                    }
                    Component::Normal(s) => {
                        uri.push('/');
                        uri.push_str(&percent_encode(s.as_encoded_bytes(), SEGMENT).to_string());
                    }
                    Component::ParentDir => uri.push_str("/.."),
                    Component::RootDir | Component::CurDir => {}
                }
            }
            ArtifactUri {
                uri,
                uri_base_id: None,
            }
        }
    }
}

/// The text of 1-based `line`, without its `\n` (a `\r` before it stays: the
/// character columns count it as the line's last character).
fn line_text(source: &SourceFile, line: usize) -> &str {
    let Some(start) = source.lines.line_start(line) else {
        return "";
    };
    let end = source
        .lines
        .line_start(line + 1)
        .map_or(source.text.len(), |e| e as usize);
    let text = source.text.get(start as usize..end).unwrap_or("");
    text.strip_suffix('\n').unwrap_or(text)
}

/// The hash part of `primaryLocationLineHash`: FNV-1a (64 bits) over the
/// rule code and the primary line with its whitespace normalised (trimmed,
/// inner runs collapsed to one space), as 16 hex digits. Only the line and
/// the code go in, so edits elsewhere in the file (lines inserted above,
/// reindentation) leave it unchanged. FNV is fixed by its definition, so the
/// value is the same on every run and platform, unlike Rust's own hasher.
pub fn line_hash(code: Code, line: &str) -> String {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(code.as_str().as_bytes());
    hasher.write(&[0]);
    let mut first = true;
    for word in line.split_whitespace() {
        if !first {
            hasher.write(b" ");
        }
        first = false;
        hasher.write(word.as_bytes());
    }
    format!("{:016x}", hasher.finish())
}

/// The column SARIF counts by default (UTF-16 code units, 1-based) for a
/// character column of the same line.
fn utf16_column(source: &SourceFile, at: LineCol) -> usize {
    let line = line_text(source, at.line);
    let chars = at.column.saturating_sub(1);
    line.chars().take(chars).map(char::len_utf16).sum::<usize>()
        // A column past the end of the line (the end of a span that stops at
        // the line break) counts one unit per character, as the break is
        // one.
        + chars.saturating_sub(line.chars().count())
        + 1
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation; 1],
    column_kind: &'static str,
    artifacts: Vec<Artifact>,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: &'static str,
    short_description: Text<'static>,
    full_description: OwnedText,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Clone, Copy, Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct OwnedText {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    precision: &'static str,
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    location: ArtifactLocation,
    length: usize,
    roles: [&'static str; 1],
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Text<'static>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: OwnedText,
    locations: [Location<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location<'a>>,
    partial_fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

/// 1-based lines and UTF-16 columns, the end column exclusive.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "primaryLocationLineHash")]
    primary_location_line_hash: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow {
    thread_flows: [ThreadFlow; 1],
}

#[derive(Serialize)]
struct ThreadFlow {
    locations: Vec<ThreadFlowLocation>,
}

#[derive(Serialize)]
struct ThreadFlowLocation {
    location: FlowStep,
}

/// A hop's location: its message, and its place in the file when a line
/// made the decision.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlowStep {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    message: OwnedText,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    description: Text<'a>,
    artifact_changes: [ArtifactChange<'a>; 1],
}

#[derive(Serialize)]
struct ArtifactChange<'a> {
    #[serde(rename = "artifactLocation")]
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: Region,
    inserted_content: Text<'a>,
}

impl<'a> Log<'a> {
    fn new(reports: &'a [FileReport], base: Option<&Path>) -> Log<'a> {
        let mut artifacts = Vec::with_capacity(reports.len());
        let mut results = Vec::new();
        for (index, report) in reports.iter().enumerate() {
            let uri = artifact_uri(&report.source.path, base);
            let file = FileContext {
                source: &report.source,
                location: ArtifactLocation {
                    uri: uri.uri,
                    uri_base_id: uri.uri_base_id,
                    index: Some(index),
                    description: (report.source.path == STDIN_PATH).then_some(Text {
                        text: "standard input",
                    }),
                },
            };
            artifacts.push(Artifact {
                location: ArtifactLocation {
                    index: None,
                    ..file.location.clone()
                },
                length: report.source.text.len(),
                roles: ["analysisTarget"],
            });
            // Occurrences of one (line hash) so far in this file, so that
            // identical lines with the same finding get distinct fingerprints.
            let mut seen: HashMap<String, usize> = HashMap::new();
            for diag in &report.diagnostics {
                let at = report.source.line_col(diag.primary.span.start);
                let hash = line_hash(diag.code, line_text(&report.source, at.line));
                let occurrence = seen.entry(hash.clone()).or_insert(0);
                *occurrence += 1;
                let fingerprint = format!("{hash}:{occurrence}");
                results.push(file.result(diag, fingerprint));
            }
        }
        Log {
            schema: SARIF_SCHEMA,
            version: "2.1.0",
            runs: [Run {
                tool: Tool {
                    driver: Driver {
                        name: "netproof",
                        version: env!("CARGO_PKG_VERSION"),
                        semantic_version: env!("CARGO_PKG_VERSION"),
                        information_uri: INFORMATION_URI,
                        rules: RULES.iter().map(Rule::new).collect(),
                    },
                },
                // Input errors stop a run before anything is emitted, so a
                // log that is written at all comes from a complete run.
                invocations: [Invocation {
                    execution_successful: true,
                }],
                column_kind: "utf16CodeUnits",
                artifacts,
                results,
            }],
        }
    }
}

impl Rule {
    fn new(rule: &'static RuleMeta) -> Rule {
        let category = rule_category(rule.code);
        let security = security_severity(rule.code);
        let mut tags = vec![category];
        if security.is_some() {
            tags.push("security");
        }
        Rule {
            id: rule.code.as_str(),
            name: rule.name,
            short_description: Text { text: rule.summary },
            full_description: OwnedText {
                text: full_description(rule),
            },
            help: Help {
                text: rule.page,
                markdown: rule.page,
            },
            help_uri: rule.url(),
            default_configuration: Configuration {
                level: level(rule.severity),
            },
            properties: RuleProperties {
                tags,
                precision: precision(rule.code),
                security_severity: security,
            },
        }
    }
}

/// One file being written: its text (for regions) and its location.
struct FileContext<'a> {
    source: &'a SourceFile,
    location: ArtifactLocation,
}

impl<'a> FileContext<'a> {
    fn region(&self, span: Span) -> Region {
        let (start, end) = self.source.range(span);
        Region {
            start_line: start.line,
            start_column: utf16_column(self.source, start),
            end_line: end.line,
            end_column: utf16_column(self.source, end),
        }
    }

    fn physical(&self, span: Span) -> PhysicalLocation {
        PhysicalLocation {
            artifact_location: self.location.clone(),
            region: self.region(span),
        }
    }

    fn label(&self, label: &'a Label, id: Option<usize>) -> Location<'a> {
        Location {
            id,
            physical_location: Some(self.physical(label.span)),
            message: (!label.message.is_empty()).then_some(Text {
                text: &label.message,
            }),
        }
    }

    fn result(&self, diag: &'a Diagnostic, fingerprint: String) -> SarifResult<'a> {
        let rule_index = RULES
            .iter()
            .position(|r| r.code == diag.code)
            .unwrap_or(diag.code as usize);
        let message = match &diag.help {
            Some(help) => format!("{}\n\nhelp: {help}", diag.message),
            None => diag.message.clone(),
        };
        let code_flows = if diag.path.is_empty() {
            Vec::new()
        } else {
            vec![CodeFlow {
                thread_flows: [ThreadFlow {
                    locations: diag
                        .path
                        .iter()
                        .map(|step| ThreadFlowLocation {
                            location: FlowStep {
                                physical_location: step.span.map(|s| self.physical(s)),
                                message: OwnedText {
                                    text: format!("{}: {}", step.node, step.decision),
                                },
                            },
                        })
                        .collect(),
                }],
            }]
        };
        let fixes = diag
            .fix
            .iter()
            .map(|fix| SarifFix {
                description: Text {
                    text: &fix.description,
                },
                artifact_changes: [ArtifactChange {
                    artifact_location: self.location.clone(),
                    replacements: fix
                        .edits
                        .iter()
                        .map(|e| Replacement {
                            deleted_region: self.region(e.span),
                            inserted_content: Text {
                                text: &e.replacement,
                            },
                        })
                        .collect(),
                }],
            })
            .collect();
        SarifResult {
            rule_id: diag.code.as_str(),
            rule_index,
            level: level(diag.severity()),
            message: OwnedText { text: message },
            locations: [self.label(&diag.primary, None)],
            related_locations: diag
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| self.label(l, Some(i + 1)))
                .collect(),
            partial_fingerprints: Fingerprints {
                primary_location_line_hash: fingerprint,
            },
            code_flows,
            fixes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Edit, PathStep};

    fn find(text: &str, needle: &str) -> Span {
        let start = text
            .find(needle)
            .expect("the test text contains the needle");
        Span::new(start, start + needle.len())
    }

    fn emit(reports: &[FileReport], base: Option<&Path>) -> serde_json::Value {
        let mut out = Vec::new();
        SarifEmitter::new(base.map(Path::to_path_buf))
            .emit(reports, &mut out)
            .expect("writing to a Vec cannot fail");
        serde_json::from_slice(&out).expect("the emitter writes one JSON document")
    }

    /// One design with a fix, a secondary label, a path (one hop without a
    /// line) and characters outside the BMP before a span; and standard
    /// input.
    fn sample() -> Vec<FileReport> {
        let text =
            "vpc café 10.0.0.1/16 { # 🚀\n  subnet wéb 10.0.1.0/24\n  subnet 🚀 10.0.1.0/25\n}\n\
                    expect no-reach wéb -> 🚀 SSH\n";
        let prefix = find(text, "10.0.0.1/16");
        let host_bits = Diagnostic::new(
            Code::NP005,
            "prefix `10.0.0.1/16` has host bits set",
            prefix,
            "the address part has bits set past /16",
        )
        .with_fix(
            "replace `10.0.0.1/16` with `10.0.0.0/16`",
            vec![Edit {
                span: prefix,
                replacement: "10.0.0.0/16".into(),
            }],
        );
        let overlap = Diagnostic::new(
            Code::NP103,
            "subnets `wéb` and `🚀` overlap",
            find(text, "10.0.1.0/25"),
            "`🚀` is 10.0.1.0/25",
        )
        .with_label(find(text, "10.0.1.0/24"), "`wéb` already covers it");
        let delivered = Diagnostic::new(
            Code::NP902,
            "expectation fails: tcp 10.0.1.1:1024 -> 10.0.1.2:22 is delivered",
            find(text, "expect no-reach wéb -> 🚀 SSH"),
            "this traffic should not get through",
        )
        .with_help("tighten the rule that admits it")
        .with_path([
            PathStep {
                node: "café".into(),
                decision: "local route".into(),
                span: None,
            },
            PathStep {
                node: "🚀".into(),
                decision: "delivered".into(),
                span: Some(find(text, "subnet 🚀 10.0.1.0/25")),
            },
        ]);
        let stdin = FileReport {
            source: SourceFile::new(STDIN_PATH, "vpc v 10.1.0.1/16 {}\n"),
            diagnostics: vec![Diagnostic::new(
                Code::NP005,
                "prefix `10.1.0.1/16` has host bits set",
                Span::new(6, 17),
                "",
            )],
            expectations: Vec::new(),
        };
        vec![
            FileReport {
                source: SourceFile::new("designs/café.np", text),
                diagnostics: vec![host_bits, overlap, delivered],
                expectations: Vec::new(),
            },
            stdin,
        ]
    }

    #[test]
    fn full_document() {
        let mut log = emit(&sample(), None);
        // The rules table is checked field by field in tests/sarif.rs; here
        // it would only repeat every rule page.
        log["runs"][0]["tool"]["driver"]["rules"] = "[every rule]".into();
        // Indexes move when a rule is added; check them, then redact them.
        if let Some(results) = log["runs"][0]["results"].as_array_mut() {
            for result in results {
                let index = result["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
                assert_eq!(
                    RULES.get(index).map(|r| r.code.as_str()),
                    result["ruleId"].as_str()
                );
                result["ruleIndex"] = "[index]".into();
            }
        }
        let text = serde_json::to_string_pretty(&log)
            .expect("a Value serializes")
            .replace(
                &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
                "\"[version]\"",
            );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn columns_are_utf16_code_units() {
        let log = emit(&sample(), None);
        let results = &log["runs"][0]["results"];
        // Line 3 is "  subnet 🚀 10.0.1.0/25": the rocket is one character
        // but two UTF-16 code units, so the prefix starts at character 12
        // and at UTF-16 column 13.
        let region = &results[1]["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], 3);
        assert_eq!(region["startColumn"], 13);
        assert_eq!(region["endColumn"], 24);
        // "vpc café " is nine characters and nine UTF-16 units ("é" is one).
        let region = &results[0]["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startColumn"], 10);
        assert_eq!(region["endColumn"], 21);
        // The expectation's 28 characters include one rocket: 29 UTF-16
        // code units, so the end column (exclusive) is 30.
        let region = &results[2]["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], 5);
        assert_eq!(region["startColumn"], 1);
        assert_eq!(region["endColumn"], 30);
    }

    #[test]
    fn a_column_at_a_crlf_line_end_counts_the_carriage_return() {
        let text = "vpc 🚀 10.0.0.1/16 {\r\n}\r\n";
        let source = SourceFile::new("a.np", text);
        let end_of_line = source.line_col(find(text, "\r\n").end - 1);
        // 19 characters, the `\r`, then the `\n` at character column 21;
        // the rocket adds one UTF-16 unit.
        assert_eq!(end_of_line.column, 21);
        assert_eq!(utf16_column(&source, end_of_line), 22);
    }

    #[test]
    fn paths_without_a_line_still_appear_in_the_code_flow() {
        let log = emit(&sample(), None);
        let steps = &log["runs"][0]["results"][2]["codeFlows"][0]["threadFlows"][0]["locations"];
        assert_eq!(steps[0]["location"]["message"]["text"], "café: local route");
        assert_eq!(steps[0]["location"].get("physicalLocation"), None);
        assert_eq!(steps[1]["location"]["message"]["text"], "🚀: delivered");
        assert_eq!(
            steps[1]["location"]["physicalLocation"]["region"]["startLine"],
            3
        );
    }

    #[test]
    fn uris_are_relative_references_with_forward_slashes() {
        let uri = |path: &str, base: Option<&str>| artifact_uri(path, base.map(Path::new));
        assert_eq!(
            uri("designs/café.np", None),
            ArtifactUri {
                uri: "designs/caf%C3%A9.np".into(),
                uri_base_id: Some(SRCROOT)
            }
        );
        assert_eq!(uri("./a b/c:d.np", None).uri, "a%20b/c%3Ad.np");
        assert_eq!(uri("../shared/x.np", None).uri, "../shared/x.np");
        assert_eq!(uri("/work/repo/d/x.np", Some("/work/repo")).uri, "d/x.np");
        assert_eq!(
            uri("/elsewhere/d #1/x.np", Some("/work/repo")),
            ArtifactUri {
                uri: "file:///elsewhere/d%20%231/x.np".into(),
                uri_base_id: None
            }
        );
        assert_eq!(uri("/x.np", None).uri, "file:///x.np");
        assert_eq!(
            uri(STDIN_PATH, None),
            ArtifactUri {
                uri: STDIN_URI.into(),
                uri_base_id: None
            }
        );
    }

    #[test]
    fn line_hash_ignores_whitespace_and_depends_on_code_and_text() {
        let base = line_hash(Code::NP103, "  subnet app 10.0.1.0/25");
        assert_eq!(base, line_hash(Code::NP103, "subnet\tapp   10.0.1.0/25\r"));
        assert_ne!(base, line_hash(Code::NP005, "subnet app 10.0.1.0/25"));
        assert_ne!(base, line_hash(Code::NP103, "subnet app 10.0.1.128/25"));
        assert_ne!(base, line_hash(Code::NP103, "subnetapp 10.0.1.0/25"));
        // Fingerprints must not change between versions, or every alert on
        // GitHub would close and reopen: this pins the scheme (FNV-1a 64
        // over "NP103", a NUL, and the normalised line).
        assert_eq!(
            line_hash(Code::NP103, "subnet app 10.0.1.0/25"),
            fnv1a_reference(b"NP103\0subnet app 10.0.1.0/25")
        );
    }

    /// FNV-1a 64 from its published definition, to check the crate against.
    fn fnv1a_reference(bytes: &[u8]) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }

    #[test]
    fn security_rules_are_tagged_and_scored() {
        for rule in RULES {
            let json = serde_json::to_value(Rule::new(rule)).expect("a rule serializes");
            let tags = &json["properties"]["tags"];
            assert_eq!(tags[0], rule_category(rule.code));
            let security = security_severity(rule.code);
            assert_eq!(
                tags.as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "security")),
                security.is_some(),
                "{}",
                rule.code
            );
        }
        assert_eq!(security_severity(Code::NP303), Some("8.0"));
        assert_eq!(security_severity(Code::NP001), None);
        assert_eq!(rule_category(Code::NP902), "expectations");
        assert_eq!(rule_category(Code::NP604), "nvgre");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever the text (broken designs, multi-byte and astral
        /// characters, `\r\n`), every region is 1-based and ordered, and
        /// every fingerprint has its `HASH:N` form.
        #[test]
        fn any_text_gives_well_formed_regions(
            text in "(vpc [a-zé🚀]{1,4} 10\\.0\\.0\\.[0-9]/1[0-9] \\{\r?\n|  subnet 🚀 10\\.0\\.1\\.0/2[0-9]\n|\\}\n|expect reach a -> b\n|[ -~é🚀\t\r\n]{0,12})*"
        ) {
            let report = crate::check::check_source("a.np", text);
            let log = emit(&[report], None);
            let results = log["runs"][0]["results"].as_array().cloned().unwrap_or_default();
            for result in results {
                let region = &result["locations"][0]["physicalLocation"]["region"];
                let n = |k: &str| region[k].as_u64().unwrap_or(0);
                proptest::prop_assert!(n("startLine") >= 1 && n("startColumn") >= 1, "{region}");
                proptest::prop_assert!(
                    (n("endLine"), n("endColumn")) >= (n("startLine"), n("startColumn")),
                    "{region}"
                );
                let print = result["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap_or("");
                proptest::prop_assert!(
                    print.len() > 17 && print.as_bytes()[16] == b':',
                    "{print}"
                );
            }
        }
    }

    #[test]
    fn full_description_is_the_first_paragraph_of_what_it_does() {
        let rule = crate::registry::meta(Code::NP303);
        let full = full_description(rule);
        assert!(
            full.starts_with("Reports a host whose SSH (tcp/22)"),
            "{full}"
        );
        assert!(full.ends_with("count."), "{full}");
        assert!(!full.contains('\n'));
    }
}
