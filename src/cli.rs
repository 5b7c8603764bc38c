//! The command line: its clap definition, and the work behind each command
//! that does not print (finding input files, choosing exit statuses, looking
//! up rules). `main.rs` parses, calls into here, and writes.

use crate::config::{Config, ConfigError, Resolver};
use crate::diagnostic::Severity;
use crate::registry::{self, RuleMeta, RULES};
use crate::render::Summary;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// A section heading in `--help`, styled like clap's own headings (bold,
/// underlined). clap strips the escape codes when help is not colored.
macro_rules! heading {
    ($title:literal) => {
        concat!("\x1b[1m\x1b[4m", $title, "\x1b[0m")
    };
}

/// How the tool is invoked; see `netproof --help`.
#[derive(Debug, Parser)]
#[command(
    name = "netproof",
    version,
    about = "Lint hybrid-cloud network designs written in .np files",
    long_about = "netproof reads network designs written in the .np language (VMware Cloud \
                  on AWS SDDCs, AWS VPCs, on-premises sites, Hyper-V VM networks, and the \
                  connections between them) and reports what is wrong with them: syntax \
                  errors, malformed or overlapping addresses, and the NAT, filter and routing \
                  mistakes that stop traffic from flowing. Every finding has a rule code; \
                  `netproof explain CODE` says why it matters and how to fix it.",
    after_help = concat!(heading!("Examples:"), "
  netproof check                                 Check every .np file under the current directory
  netproof check fixtures/scenarios/             Check a directory, recursively
  netproof check --format json design.np | jq .summary
  netproof rules                                 List every rule
  netproof explain NP005                         Explain one rule
  netproof trace design.np client web01 HTTP --at 52.58.125.207
                                                 Follow one packet and its reply hop by hop
  netproof reach design.np --from internet --to web01
                                                 Everything that reaches web01 from the internet
  netproof check --format sarif designs/ > netproof.sarif
                                                 SARIF 2.1.0 for GitHub code scanning
  netproof fmt designs/                          Rewrite designs in the canonical layout
  netproof lsp                                   The language server, for editors (see editors/)"),
    arg_required_else_help = true
)]
pub struct Cli {
    /// Never color the output. Setting NO_COLOR to a non-empty value does the
    /// same; output that is not a terminal is never colored.
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Print findings and errors only: no summary line, no progress bar, no
    /// list of fixed or reformatted files. A clean `check` prints nothing.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Check(CheckArgs),
    Rules(RulesArgs),
    Explain(ExplainArgs),
    Trace(TraceArgs),
    Reach(ReachArgs),
    Lsp(LspArgs),
    Fmt(FmtArgs),
}

/// Run the language server (for editors), speaking LSP over stdin/stdout.
#[derive(Debug, Args)]
#[command(
    long_about = "Run the netproof language server: the Language Server Protocol over standard \
                  input and output, for editors. It checks every open .np document as it is \
                  opened, changed and saved and publishes the findings; hover on a finding \
                  shows its rule's page, hover on a name shows what it resolves to (kind, \
                  address or prefix, site, definition line); go-to-definition works on names; \
                  code actions apply the fixes findings carry (one at a time, or all with \
                  `source.fixAll.netproof`); formatting goes through `netproof fmt`. Editors \
                  start it themselves: editors/ holds the settings for Neovim, Helix and VS \
                  Code, and docs/lsp.md describes the server. Standard output carries only the \
                  protocol; the log goes to standard error.",
    after_help = concat!(heading!("Examples:"), "
  netproof lsp                                   Serve one editor on stdin/stdout
  netproof lsp --verbose 2>/tmp/netproof-lsp.log Also log every message and check to a file

  Neovim (0.11+), in init.lua:
    vim.filetype.add({ extension = { np = 'netproof' } })
    vim.lsp.config('netproof', { cmd = { 'netproof', 'lsp' }, filetypes = { 'netproof' } })
    vim.lsp.enable('netproof')

", heading!("Exit status:"), "
  0  the client sent `shutdown`, then `exit`
  1  the client sent `exit` without `shutdown`, closed the connection (also in the middle
     of a message), or sent input that cannot be framed as messages (no or a bad
     Content-Length, a header line over 8 KiB): the server answers that with a -32700
     error first. A message body that is not JSON, is not a JSON-RPC message, or is over
     64 MiB is answered with an error and the session goes on.")
)]
pub struct LspArgs {
    /// Log every request, notification and check (with its duration) to
    /// standard error, besides errors.
    #[arg(long)]
    pub verbose: bool,
}

/// Which flows get from one place to another, exhaustively.
#[derive(Debug, Args)]
#[command(
    long_about = "Answer, for every packet at once, which flows from --from to --to reach \
                  (delivered, and answered back to the source from the address it sent to), \
                  summarised as port ranges; which are dropped, where and why, each with one \
                  example packet; and which cross parts of the network this version does not \
                  model. --from and --to take anything an expectation takes: names (`web01`, \
                  `prod.web-tier`), groups, sites, `internet`, addresses, prefixes, lists. \
                  A destination given as an address counts every delivery of a packet sent \
                  there; a named host only deliveries to that host. With --at ADDRESS the \
                  flows are sent to ADDRESS (a public IP, a NAT rule's address, an endpoint) \
                  and must arrive at --to, as `expect reach SRC -> DST at ADDRESS` asks. \
                  With --matrix, every subnet and segment to every other, all services.",
    after_help = concat!(heading!("Examples:"), "
  netproof reach design.np --from internet --to web01           What reaches web01 from the internet?
  netproof reach design.np --from web-tier --to db-tier --service [MYSQL, SSH]
  netproof reach design.np --from internet --to web01 --at 52.58.125.207 --service HTTPS
                                                                Through the DNAT rule only
  netproof reach design.np --from CJ-AWS02 --to CJ-VM01 --format json | jq .dropped
  netproof reach design.np --matrix                             Every subnet to every subnet

", heading!("Exit status:"), "
  0  every flow asked about reaches (always, with --matrix)
  1  some flow does not reach, or is not sent at all (from a public IP, an endpoint)
  2  a usage error: an unknown name or service, a question that names no packet (an
     IPv4 source to an IPv6 address, an empty service list), an unreadable FILE, or a
     FILE with errors")
)]
pub struct ReachArgs {
    /// The design; `-` reads it from standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Where flows start: an address expression, as in an expectation.
    #[arg(long, value_name = "SRC", required_unless_present = "matrix")]
    pub from: Option<String>,

    /// Where they go: an address expression, as in an expectation.
    #[arg(long, value_name = "DST", required_unless_present = "matrix")]
    pub to: Option<String>,

    /// The services to consider: `any` (the default), `tcp/443`, `HTTPS`, a
    /// list such as `[HTTP, HTTPS]`.
    #[arg(long, value_name = "SERVICES", default_value = "any")]
    pub service: String,

    /// Send the flows to ADDRESS (a public IP, an endpoint) and still require
    /// them to arrive at DST, as `expect reach SRC -> DST at ADDRESS` does.
    #[arg(long, value_name = "ADDRESS")]
    pub at: Option<String>,

    /// Every subnet and segment to every other, all services.
    #[arg(long, conflicts_with_all = ["from", "to", "at"])]
    pub matrix: bool,

    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `reach` up to the output.
pub fn reach(
    args: &ReachArgs,
    read_stdin: impl FnOnce() -> io::Result<Vec<u8>>,
) -> crate::reach::ReachRun {
    use crate::reach::{self, ReachRun};
    let (inputs, errors) = collect_inputs(std::slice::from_ref(&args.file), read_stdin);
    if !errors.is_empty() {
        return ReachRun::Usage(errors.iter().map(ToString::to_string).collect());
    }
    let Some(Input {
        shown: path, text, ..
    }) = inputs.into_iter().next()
    else {
        return ReachRun::Usage(vec!["no design given".into()]);
    };
    let json = args.format == Format::Json;
    match (&args.from, &args.to) {
        _ if args.matrix => reach::matrix(path, text, json),
        (Some(from), Some(to)) => reach::query_answer(
            path,
            text,
            reach::Query {
                from,
                to,
                at: args.at.as_deref(),
                services: &args.service,
            },
            json,
        ),
        _ => ReachRun::Usage(vec!["give --from and --to, or --matrix".into()]),
    }
}

/// Check .np designs and report every problem found.
#[derive(Debug, Args)]
#[command(
    long_about = "Check .np designs and report every problem found. Each PATH is a file or a \
                  directory; directories are searched recursively for *.np files, in sorted \
                  order, skipping hidden directories and `target`. `-` reads one design from \
                  standard input and reports it as `<stdin>`. Without a PATH the current \
                  directory is checked. Files are checked in parallel; the output order is \
                  always the same. Some findings carry a fix (NP005's network address, \
                  NP201's private side, NP208's `source-dest-check off`, NP007's removal of \
                  a stale suppression comment): --diff shows them and --fix applies them.",
    after_help = concat!(heading!("Examples:"), "
  netproof check                                 Check every .np file under the current directory
  netproof check fixtures/scenarios/             Check a directory, recursively
  netproof check --format json design.np | jq .summary
  netproof check --format sarif designs/ > netproof.sarif
                                                 SARIF 2.1.0 for GitHub code scanning
  cat design.np | netproof check -               Check standard input
  netproof check --fail-on error designs/        Fail only on errors, not on warnings
  netproof check --diff designs/                 Show the available fixes as a unified diff
  netproof check --fix designs/                  Apply them in place, then report what remains
  netproof check --config ci/netproof.toml .     Use one configuration file for every file
  netproof check --no-config design.np           Ignore every netproof.toml: all rules, defaults

", heading!("Configuration:"), "
  Each file is checked under the nearest netproof.toml in its directory or an ancestor
  (standard input: the current directory's). It selects and ignores rules by code or
  prefix, overrides severities, sets fail-on and excludes files, even files named on the
  command line. A comment `# netproof: ignore NP201 -- reason` at the end of a line, or
  alone on the line above, suppresses that rule's findings there (NP007 reports one that
  suppresses nothing). See docs/configuration.md.

  # netproof.toml
  select = [\"NP0\", \"NP1\", \"NP2\", \"NP9\"]   # codes or prefixes; default: every rule
  ignore = [\"NP205\"]
  fail-on = \"error\"                       # --fail-on wins when given
  exclude = [\"generated/**\"]              # relative to this file's directory
  [severity]
  NP302 = \"error\"

", heading!("Exit status:"), "
  0  no diagnostic at or above the fail-on severity (with --fix: after fixing; with
     --diff: no fix to show)
  1  at least one diagnostic at or above the fail-on severity (with --diff: a fix to show)
  2  a usage error, or a PATH that is missing, unreadable, not UTF-8, not a regular file,
     larger than 256 MiB, a link found in a directory that leads outside it, or a
     directory without .np files; every file excluded by configuration; a netproof.toml
     that cannot be read, is a link, or is invalid (nothing is checked then); with --fix,
     `-`, or a file that could not be written (read-only, or changed since it was read:
     the other files are still fixed)

", heading!("Files:"), "
  Fixes are written atomically (a temporary file beside the design, renamed over it),
  keeping permissions and line endings; through a symbolic link, to the file it leads to.
  Links found in a directory are followed only to files inside that directory. See
  docs/reliability.md.")
)]
pub struct CheckArgs {
    /// Files or directories to check; `-` is standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// The output format; `json` is documented in docs/json-output.md,
    /// `sarif` (for code scanning) in docs/sarif.md.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,

    /// The least severe diagnostic that makes the exit status 1. Without
    /// it, each file's netproof.toml `fail-on` applies, else `warning`.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    #[command(flatten)]
    pub config: ConfigArgs,

    /// Apply every available fix to the files in place, list each fix on
    /// standard error, then check the fixed files and report what remains.
    /// Files without fixable findings are not touched.
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,

    /// Show the fixes --fix would apply, as a unified diff on standard
    /// output, without writing anything. Exit status 1 when there is a fix.
    #[arg(long)]
    pub diff: bool,
}

/// Which netproof.toml governs each file (`check` and `fmt`).
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Use this configuration file for every file, instead of the nearest
    /// netproof.toml of each; its `exclude` patterns are relative to its
    /// directory.
    #[arg(long, value_name = "PATH", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every netproof.toml: all rules at their default severities,
    /// nothing excluded. Inline suppressions still apply.
    #[arg(long)]
    pub no_config: bool,

    /// Say which netproof.toml each file is checked under, and which
    /// `exclude` pattern of which netproof.toml leaves each left-out file
    /// out (on standard error).
    #[arg(short, long)]
    pub verbose: bool,
}

/// The fixes for one file, ready to be shown (`--diff`) or written (`--fix`).
#[derive(Debug)]
pub struct FileFix {
    /// The path as shown, which is also where the file is read from.
    pub path: String,
    pub original: std::sync::Arc<String>,
    pub fixed: String,
    /// Each fix applied: where its finding is, its code, what it did.
    pub applied: Vec<(crate::span::LineCol, crate::fix::Applied)>,
}

impl FileFix {
    pub fn diff(&self) -> String {
        crate::fix::unified_diff(&self.path, &self.original, &self.fixed)
    }

    /// One line per fix: `PATH:LINE:COL: fixed CODE (name): description`.
    pub fn summary(&self) -> Vec<String> {
        self.applied
            .iter()
            .map(|(at, a)| {
                format!(
                    "{}:{}:{}: fixed {} ({}): {}",
                    self.path,
                    at.line,
                    at.column,
                    a.code,
                    registry::meta(a.code).name,
                    a.description
                )
            })
            .collect()
    }
}

/// The fixes available in each report, for the files that have any, in the
/// reports' (sorted) order.
pub fn plan_fixes(reports: &[crate::check::FileReport]) -> Vec<FileFix> {
    reports
        .iter()
        .filter_map(|r| {
            let fixed = crate::fix::apply(&r.source.text, &r.diagnostics);
            if fixed.applied.is_empty() || fixed.text == *r.source.text {
                return None;
            }
            let applied = fixed
                .applied
                .into_iter()
                .map(|a| (r.source.line_col(a.span.start), a))
                .collect();
            Some(FileFix {
                path: r.source.path.clone(),
                original: r.source.text.clone(),
                fixed: fixed.text,
                applied,
            })
        })
        .collect()
}

/// Rewrite .np designs in the canonical layout.
#[derive(Debug, Args)]
#[command(
    long_about = "Rewrite .np designs in one canonical layout: two spaces per block level, one \
                  space between words, `{` at the end of its line and `}` on its own, at most \
                  one blank line in a row, rule and route columns aligned within a block, \
                  trailing comments aligned in runs. Every comment is kept, and only \
                  whitespace and line breaks change, never what the design means; formatting \
                  a formatted file changes nothing. PATHs are found as `check` finds them: \
                  directories are searched recursively for *.np files, and `-` formats \
                  standard input to standard output. Files that change are rewritten in place \
                  (atomically: a temporary file beside each, renamed over it, with its \
                  permissions; never when it changed since it was read, or is read-only) \
                  and listed on standard error; files already formatted are not written. A \
                  file with syntax errors is not formatted: its errors are shown (on standard \
                  error) and the other files are still formatted. The layout is described in \
                  docs/formatting.md.",
    after_help = concat!(heading!("Examples:"), "
  netproof fmt                                   Format every .np file under the current directory
  netproof fmt designs/ shop.np                  Format a directory (recursively) and a file
  netproof fmt --check designs/                  CI: print a diff, exit 1 if a file would change
  cat design.np | netproof fmt - > tidy.np       Format standard input to standard output

", heading!("Exit status:"), "
  0  every file is formatted (with --check: every file already was)
  1  with --check: some file is not formatted (its diff is on standard output)
  2  a usage error, a PATH that is missing, unreadable, not UTF-8, not a regular file, or
     a directory without .np files, or every file excluded by configuration (nothing is
     formatted then); a file that could not be written (read-only, or changed since it
     was read), or a file with syntax errors (each is left as it is; the others are
     formatted)")
)]
pub struct FmtArgs {
    /// Files or directories to format; `-` is standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Write nothing: print a unified diff for each file that is not formatted
    /// and exit with status 1 if there is one.
    #[arg(long)]
    pub check: bool,

    /// Files a netproof.toml `exclude`s are not formatted, as they are not
    /// checked (generated designs stay as their generator wrote them).
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// One input of `fmt` and what formatting made of it.
#[derive(Debug)]
pub struct FmtFile {
    /// The path as shown, which is also where the file is read from and
    /// written to (`<stdin>` for standard input).
    pub path: String,
    pub original: String,
    /// The formatted text, or the syntax errors that stopped formatting.
    pub result: Result<String, crate::format::FormatError>,
}

impl FmtFile {
    /// The formatted text when it differs from the original.
    pub fn changed(&self) -> Option<&str> {
        match &self.result {
            Ok(formatted) if *formatted != self.original => Some(formatted),
            _ => None,
        }
    }

    /// The unified diff from the original to the formatted text; empty when
    /// nothing changes or the file was not formatted.
    pub fn diff(&self) -> String {
        self.changed()
            .map(|formatted| layout_diff(&self.path, &self.original, formatted))
            .unwrap_or_default()
    }

    /// A report of the syntax errors that stopped formatting, for the human
    /// emitter.
    pub fn error_report(&self) -> Option<crate::check::FileReport> {
        let error = self.result.as_ref().err()?;
        Some(crate::check::FileReport {
            source: crate::check::SourceFile::new(self.path.clone(), self.original.clone()),
            diagnostics: error.diagnostics.clone(),
            expectations: Vec::new(),
        })
    }
}

/// A unified diff (three lines of context, `a/PATH` and `b/PATH` headers)
/// between a text and its formatted version.
///
/// `fix::unified_diff` runs the Myers algorithm on lines, whose cost grows
/// with the length times the number of changed lines: fine for a few fixes,
/// but reformatting an unformatted file changes most of its lines (minutes
/// on the W2 design). Formatting changes whitespace and line breaks only, so
/// this diff first matches lines by their text without whitespace (Myers
/// again, but now nearly every line matches, which is its fast case), then
/// shows a matched pair whose whitespace differs as a removed and an added
/// line. The result is a correct, deterministic unified diff in about the
/// time formatting takes. A deadline would bound Myers too, but would make
/// the output depend on the machine's speed.
fn layout_diff(path: &str, old: &str, new: &str) -> String {
    use similar::{Algorithm, DiffOp};
    use std::hash::{DefaultHasher, Hash, Hasher};
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    // A hash of the line without its whitespace: equal hashes that are not
    // equal texts only make the diff less tidy, never wrong, because lines
    // are compared again below.
    let key = |line: &&str| {
        let mut h = DefaultHasher::new();
        for b in line.bytes().filter(|b| !b.is_ascii_whitespace()) {
            b.hash(&mut h);
        }
        h.finish()
    };
    let old_keys: Vec<u64> = old_lines.iter().map(key).collect();
    let new_keys: Vec<u64> = new_lines.iter().map(key).collect();
    let mut ops = Vec::new();
    let same = |o: usize, n: usize| old_lines.get(o) == new_lines.get(n);
    for op in similar::capture_diff_slices(Algorithm::Myers, &old_keys, &new_keys) {
        let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        else {
            ops.push(op);
            continue;
        };
        // Split the matched run into runs of identical lines and runs of
        // lines that differ in whitespace (shown as removed, then added).
        let mut k = 0;
        while k < len {
            let identical = same(old_index + k, new_index + k);
            let mut end = k + 1;
            while end < len && same(old_index + end, new_index + end) == identical {
                end += 1;
            }
            let (o, n, run) = (old_index + k, new_index + k, end - k);
            if identical {
                ops.push(DiffOp::Equal {
                    old_index: o,
                    new_index: n,
                    len: run,
                });
            } else {
                ops.push(DiffOp::Delete {
                    old_index: o,
                    old_len: run,
                    new_index: n,
                });
                ops.push(DiffOp::Insert {
                    old_index: o + run,
                    new_index: n,
                    new_len: run,
                });
            }
            k = end;
        }
    }
    let mut out = String::new();
    for group in similar::group_diff_ops(ops, 3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        if out.is_empty() {
            out.push_str(&format!("--- a/{path}\n+++ b/{path}\n"));
        }
        let range = |start: usize, end: usize| {
            let len = end.saturating_sub(start);
            match len {
                1 => format!("{}", start + 1),
                0 => format!("{start},0"),
                _ => format!("{},{len}", start + 1),
            }
        };
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(first.old_range().start, last.old_range().end),
            range(first.new_range().start, last.new_range().end)
        ));
        for op in &group {
            let mut push = |sign: char, line: &str| {
                out.push(sign);
                out.push_str(line);
                if !line.ends_with('\n') {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            };
            for line in old_lines.get(op.old_range()).unwrap_or_default() {
                if matches!(op, DiffOp::Equal { .. }) {
                    push(' ', line);
                } else {
                    push('-', line);
                }
            }
            if !matches!(op, DiffOp::Equal { .. }) {
                for line in new_lines.get(op.new_range()).unwrap_or_default() {
                    push('+', line);
                }
            }
        }
    }
    out
}

/// Formats every input, in parallel, keeping their order.
pub fn format_inputs(inputs: Vec<(String, String)>) -> Vec<FmtFile> {
    use rayon::prelude::*;
    inputs
        .into_par_iter()
        .map(|(path, original)| {
            let result = crate::format::format_source(&original);
            FmtFile {
                path,
                original,
                result,
            }
        })
        .collect()
}

/// List every rule: code, name, default severity and summary.
#[derive(Debug, Args)]
#[command(
    long_about = "List every rule netproof knows, in catalog order: its code, its name (which \
                  reads as \"allow NAME\"), its default severity and a one-line summary. \
                  `netproof explain CODE` prints a rule's full page.",
    after_help = concat!(heading!("Examples:"), "
  netproof rules
  netproof rules --format json | jq -r '.[] | select(.severity == \"warning\") | .code'")
)]
pub struct RulesArgs {
    /// The output format: an aligned table, or a JSON array of rules.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Print a rule's documentation page.
#[derive(Debug, Args)]
#[command(
    long_about = "Print a rule's documentation page: what it detects, why it matters, an \
                  example and how to fix it. The same text is published at \
                  https://netproof.dev/rules/. CODE is a rule code in any case (`NP005`, \
                  `np005`) or a rule name (`prefix-host-bits-set`). An unknown CODE exits \
                  with status 2 and suggests the closest rules.",
    after_help = concat!(heading!("Examples:"), "
  netproof explain NP005
  netproof explain overlapping-subnets")
)]
pub struct ExplainArgs {
    /// A rule code, such as NP005, or a rule name, such as overlapping-subnets.
    #[arg(value_name = "CODE")]
    pub code: String,
}

/// Follow one packet and its reply hop by hop through a design.
#[derive(Debug, Args)]
#[command(
    long_about = "Follow one packet from SRC to DST, and its reply back, hop by hop through the \
                  design in FILE, as the forwarding model in docs/forwarding.md describes: route \
                  lookups, NAT, gateway firewalls, security groups, network ACLs, load \
                  balancers. Each decision is printed with the line of the design that made it. \
                  The flow reaches when the reply arrives back at SRC from the address SRC sent \
                  to. SRC and DST are host, vm, instance, endpoint or public IP names (bare, or \
                  qualified as `site.name`) or addresses; an address that no site owns is a host \
                  on the internet. A FILE with errors is not traced: its diagnostics are printed \
                  instead.",
    after_help = concat!(heading!("Examples:"), "
  netproof trace design.np web01 client HTTPS
  netproof trace design.np client web01 HTTP --at 52.58.125.207
  netproof trace design.np worker 203.0.113.123 udp/123
  netproof trace design.np win01 webvpc.web01 tcp/80 --at connected.web-ep
  netproof trace --format json design.np CJ-AWS02 CJ-VM01 | jq .failure

", heading!("Exit status:"), "
  0  the flow reaches: the reply returns to SRC from the address it sent to
  1  the flow does not reach, or is not decided (the output says which, where and why)
  2  a usage error: an unknown name or service, an unreadable FILE, or a FILE with errors")
)]
pub struct TraceArgs {
    /// The design; `-` reads it from standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Where the flow starts: a host name (`web01`, `prod.web01`) or an address.
    #[arg(value_name = "SRC")]
    pub src: String,

    /// Where it goes: a host, endpoint or public IP name, or an address.
    #[arg(value_name = "DST")]
    pub dst: String,

    /// The service: `tcp/443`, `udp/53`, `icmp`, a built-in such as `HTTPS`, or a
    /// service the design declares. The packet uses the lowest port of the service.
    #[arg(value_name = "SERVICE", default_value = "ICMP")]
    pub service: String,

    /// Send the packet to ADDRESS (a public IP, an endpoint) and still require it to
    /// arrive at DST, as `expect reach SRC -> DST at ADDRESS` does.
    #[arg(long, value_name = "ADDRESS")]
    pub at: Option<String>,

    /// The client's source port for TCP and UDP; the default, 1024, is the one
    /// findings show (docs/forwarding.md, "Example packets").
    #[arg(long, value_name = "N", default_value_t = crate::sim::probe_port())]
    pub sport: u16,

    /// The output format; `json` is documented in docs/json-output.md, "trace".
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// What a `trace` run produced, for `main.rs` to write.
#[derive(Debug)]
pub enum TraceRun {
    /// The flow was traced: the rendered output, and whether it reaches.
    Traced { output: String, reaches: bool },
    /// The design has errors; these reports are to be shown instead.
    DesignErrors(Vec<crate::check::FileReport>),
    /// A usage or input error, one message per line.
    Usage(Vec<String>),
}

/// Runs `trace` up to the output: reads the design, refuses one with
/// errors, resolves the names and the service, simulates, and renders.
pub fn trace(args: &TraceArgs, read_stdin: impl FnOnce() -> io::Result<Vec<u8>>) -> TraceRun {
    use crate::sim::{self, Party, Start};
    let (inputs, errors) = collect_inputs(std::slice::from_ref(&args.file), read_stdin);
    if !errors.is_empty() {
        return TraceRun::Usage(errors.iter().map(ToString::to_string).collect());
    }
    let Some(Input {
        shown: path, text, ..
    }) = inputs.into_iter().next()
    else {
        return TraceRun::Usage(vec!["no design to trace".into()]);
    };
    // A trace needs the model only: parse and resolve once, and refuse only
    // when the front end found errors (the model would not be the design
    // the author wrote). Analyses' findings do not stop a trace.
    let source = crate::check::SourceFile::new(path, text);
    let parsed = crate::syntax::parse(&source.text);
    let lowered = crate::model::lower(&parsed.tree);
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(lowered.diagnostics);
    if diagnostics.iter().any(|d| d.severity() == Severity::Error) {
        crate::diagnostic::sort_and_dedup(&mut diagnostics);
        return TraceRun::DesignErrors(vec![crate::check::FileReport {
            source,
            diagnostics,
            expectations: Vec::new(),
        }]);
    }
    let model = lowered.model;
    let resolve = |text: &str| sim::resolve_address(&model, text).map_err(|e| e.to_string());
    let mut problems = Vec::new();
    let src = resolve(&args.src).map_err(|e| problems.push(format!("SRC: {e}")));
    let dst = resolve(&args.dst).map_err(|e| problems.push(format!("DST: {e}")));
    let at = args
        .at
        .as_deref()
        .map(|a| resolve(a).map_err(|e| problems.push(format!("--at: {e}"))));
    let service = sim::parse_service(&model, &args.service)
        .map_err(|e| problems.push(format!("SERVICE: {e}")));
    let (Ok(src), Ok(dst), Ok(service)) = (src, dst, service) else {
        return TraceRun::Usage(problems);
    };
    let at = match at {
        Some(Ok(a)) => Some(a),
        Some(Err(())) => return TraceRun::Usage(problems),
        None => None,
    };
    // A dual-stack instance sends and is reached by its address of the
    // other side's family: the destination follows the source's family,
    // and a dual-stack source follows a single-stack destination's.
    let (mut src, mut dst) = (src, dst);
    let align = |name: &mut sim::AddressName, family: std::net::IpAddr| {
        let Some(h) = name.host.and_then(|h| model.hosts.get(h.index())) else {
            return;
        };
        if let Some(a) = h.addr_of_family(family) {
            name.label = name
                .label
                .replace(&name.addr.to_string(), &a.value.to_string());
            name.addr = a.value;
        }
    };
    if at.is_none() {
        let dual = |n: &sim::AddressName| {
            n.host
                .and_then(|h| model.hosts.get(h.index()))
                .is_some_and(|h| h.dual.is_some())
        };
        if dual(&src) && !dual(&dst) {
            align(&mut src, dst.addr);
        } else {
            align(&mut dst, src.addr);
        }
    } else if let Some(a) = &at {
        align(&mut src, a.addr);
    }
    let target = at.as_ref().map_or(dst.addr, |a| a.addr);
    if src.addr.is_ipv4() != target.is_ipv4() {
        return TraceRun::Usage(vec![format!(
            "{} and {} are of different address families",
            src.addr, target
        )]);
    }
    let Some(packet) = service.packet(src.addr, target, Some(args.sport)) else {
        return TraceRun::Usage(vec![format!(
            "SERVICE: `{}` has no protocol for {} addresses",
            args.service,
            if target.is_ipv4() { "IPv4" } else { "IPv6" }
        )]);
    };
    let start = match src.host {
        Some(h) => Start::Host(h),
        None => Start::Address(src.addr),
    };
    let intended = match (&at, dst.host) {
        (None, _) => None,
        (Some(_), Some(h)) => Some(Party::Host(h)),
        (Some(_), None) => sim::start_party(&model, Start::Address(dst.addr)).ok(),
    };
    let flow = sim::simulate_flow_to(&model, start, packet, intended);
    let title = crate::render::TraceTitle {
        src: src.label.clone(),
        dst: dst.label.clone(),
        at: at.as_ref().map(|a| a.label.clone()),
        service: service.label.clone(),
    };
    let output = match args.format {
        Format::Human => crate::render::render_trace_human(&source, &model, &title, &flow),
        Format::Json => {
            let inputs = crate::render::TraceInputs {
                src: (&args.src, src.addr),
                dst: (&args.dst, dst.addr),
                at: args.at.as_deref().zip(at.as_ref().map(|a| a.addr)),
            };
            match crate::render::render_trace_json(&source, &model, &title, &inputs, &flow) {
                Ok(text) => text,
                Err(e) => return TraceRun::Usage(vec![format!("cannot serialize the trace: {e}")]),
            }
        }
    };
    TraceRun::Traced {
        output,
        reaches: flow.reaches,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Annotated source snippets for people, then a summary line.
    Human,
    /// One JSON document for scripts.
    Json,
}

/// The formats of `check`, which has one more than the other commands:
/// SARIF describes findings in files, which only `check` produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Annotated source snippets for people, then a summary line.
    Human,
    /// One JSON document for scripts.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other CI services.
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only errors fail the run.
    Error,
    /// Errors and warnings fail the run.
    Warning,
    /// Any diagnostic fails the run.
    Info,
}

impl FailOn {
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

/// The exit status of a completed check: 1 when a diagnostic reaches the
/// threshold, 0 otherwise. (Status 2 never reaches this point: input errors
/// stop the run before checking.)
pub fn check_status(summary: &Summary, fail_on: FailOn) -> u8 {
    u8::from(summary.at_least(fail_on.severity()) > 0)
}

/// The `fail-on` used when neither the command line nor a configuration
/// gives one.
pub const DEFAULT_FAIL_ON: Severity = Severity::Warning;

/// The exit status of a completed check in which each file may have its own
/// configuration: 1 when some file has a diagnostic at or above its
/// threshold, which is `--fail-on` when given, else the file's `fail-on`,
/// else [`DEFAULT_FAIL_ON`].
pub fn check_status_by_file(
    reports: &[crate::check::FileReport],
    fail_on: Option<FailOn>,
    configs: &HashMap<String, Arc<Config>>,
) -> u8 {
    let failed = reports.iter().any(|r| {
        let threshold = fail_on
            .map(FailOn::severity)
            .or_else(|| configs.get(&r.source.path).and_then(|c| c.fail_on))
            .unwrap_or(DEFAULT_FAIL_ON);
        r.diagnostics.iter().any(|d| d.severity() >= threshold)
    });
    u8::from(failed)
}

/// The files a `check` run reads, each with its configuration.
#[derive(Debug, Default)]
pub struct CheckInputs {
    /// `(path shown, text, configuration)`, ready for
    /// [`crate::check::check_files_with`].
    pub files: Vec<(String, String, Arc<Config>)>,
    /// The configuration of each file, by path shown (for `fail-on`, and to
    /// check fixed files again under the same configuration).
    pub configs: HashMap<String, Arc<Config>>,
    /// Where each file was read from, by path shown, so fixes and
    /// formatting go back to that file and no other (standard input has
    /// none).
    pub origins: HashMap<String, crate::files::Origin>,
    /// How many files configurations excluded.
    pub excluded: usize,
    /// Each file left out: the path shown, the configuration file, and the
    /// pattern that excluded it.
    pub exclusions: Vec<Exclusion>,
}

/// A file a configuration's `exclude` left out.
#[derive(Debug)]
pub struct Exclusion {
    pub path: String,
    pub config: PathBuf,
    pub pattern: String,
}

impl CheckInputs {
    /// The lines `--verbose` prints: the configuration of each file read,
    /// then each file left out and why.
    pub fn verbose_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .files
            .iter()
            .map(|(path, _, config)| match &config.path {
                Some(file) => format!("`{path}`: checked under `{}`", crate::files::shown(file)),
                None => format!("`{path}`: no netproof.toml applies"),
            })
            .collect();
        lines.extend(self.exclusions.iter().map(|e| {
            format!(
                "`{}`: left out by the pattern `{}` of `{}`",
                e.path,
                e.pattern,
                crate::files::shown(&e.config)
            )
        }));
        lines
    }

    /// The message for a run in which configurations excluded every file
    /// given: nothing was checked, which must never look like a pass.
    pub fn nothing_left_message(&self) -> String {
        let mut configs: Vec<String> = self
            .exclusions
            .iter()
            .map(|e| format!("`{}`", crate::files::shown(&e.config)))
            .collect();
        configs.sort();
        configs.dedup();
        format!(
            "error: every file given is excluded by the `exclude` patterns of {}, so nothing \
             was checked\n  help: --verbose shows the pattern that excludes each file; \
             --no-config checks them anyway\n",
            configs.join(", ")
        )
    }
}

/// Reads what `check` is to check: finds the configuration of every file
/// (`--config`, `--no-config`, or the nearest netproof.toml), leaves out the
/// files it excludes (found in directories or named), and reads the rest.
/// Every input and configuration error is returned, one message each;
/// configuration errors show the offending line.
pub fn check_inputs(
    args: &CheckArgs,
    read_stdin: impl FnOnce() -> io::Result<Vec<u8>>,
) -> Result<CheckInputs, Vec<String>> {
    configured_inputs(&args.paths, &args.config, read_stdin)
}

/// The files under `paths` that their configuration does not exclude, each
/// with that configuration, or every message about unreadable paths and
/// invalid configuration files.
pub fn configured_inputs(
    paths: &[PathBuf],
    choice: &ConfigArgs,
    read_stdin: impl FnOnce() -> io::Result<Vec<u8>>,
) -> Result<CheckInputs, Vec<String>> {
    let mut resolver = if choice.no_config {
        Resolver::disabled()
    } else if let Some(path) = &choice.config {
        match Config::load(path) {
            Ok(config) => Resolver::fixed(config),
            Err(error) => return Err(vec![error.render()]),
        }
    } else {
        Resolver::discover()
    };
    let mut config_errors: Vec<ConfigError> = Vec::new();
    let mut exclusions = Vec::new();
    let (inputs, errors) = collect_inputs_where(paths, read_stdin, |path, shown| {
        match resolver.for_file(path) {
            Ok(Some(config)) if config.is_excluded(path) => {
                exclusions.push(Exclusion {
                    path: shown.to_string(),
                    config: config.path.clone().unwrap_or_default(),
                    pattern: config.excluded_by(path).unwrap_or_default().to_string(),
                });
                false
            }
            Ok(_) => true,
            Err(error) => {
                if !config_errors.iter().any(|e| e.path == error.path) {
                    config_errors.push(error);
                }
                false
            }
        }
    });
    let default = Arc::new(Config::default());
    let mut out = CheckInputs {
        excluded: exclusions.len(),
        exclusions,
        ..CheckInputs::default()
    };
    for Input {
        shown: path,
        text,
        origin,
    } in inputs
    {
        // Standard input is a design in the current directory.
        let located = match &origin {
            Some(origin) => origin.path.clone(),
            None => PathBuf::from(".").join(STDIN_PATH),
        };
        let config = match resolver.for_file(&located) {
            Ok(config) => config.unwrap_or_else(|| default.clone()),
            Err(error) => {
                if !config_errors.iter().any(|e| e.path == error.path) {
                    config_errors.push(error);
                }
                continue;
            }
        };
        out.configs.insert(path.clone(), config.clone());
        if let Some(origin) = origin {
            out.origins.insert(path.clone(), origin);
        }
        out.files.push((path, text, config));
    }
    if errors.is_empty() && config_errors.is_empty() {
        return Ok(out);
    }
    let mut messages: Vec<String> = errors.iter().map(|e| format!("error: {e}\n")).collect();
    messages.extend(config_errors.iter().map(ConfigError::render));
    Err(messages)
}

pub use crate::files::collect::Input;
pub use crate::files::{collect_inputs, collect_inputs_where, InputError, STDIN_PATH};

/// Looks a rule up by code (any case) or name (any case).
pub fn find_rule(key: &str) -> Option<&'static RuleMeta> {
    registry::lookup(key).or_else(|| registry::lookup(&key.to_ascii_lowercase()))
}

/// The rules closest to an unknown `key`, best first, at most three.
///
/// A key shaped like a code (`NP` and digits) always gets suggestions, ranked
/// by edit distance and then by numeric closeness, because a mistyped code is
/// usually a neighbour of the intended one. Any other key is compared with the
/// rule names and gets only suggestions that are plausibly what was meant.
pub fn suggest_rules(key: &str) -> Vec<&'static RuleMeta> {
    let key = key.trim();
    let upper = key.to_ascii_uppercase();
    let number = |code: &str| code.get(2..).and_then(|n| n.parse::<i64>().ok());
    let mut ranked: Vec<(usize, i64, &'static RuleMeta)> = match number(&upper) {
        Some(wanted) if upper.starts_with("NP") => RULES
            .iter()
            .map(|r| {
                let distance = strsim::levenshtein(&upper, r.code.as_str());
                let gap = number(r.code.as_str()).map_or(i64::MAX, |n| (n - wanted).abs());
                (distance, gap, r)
            })
            .collect(),
        _ => {
            let lower = key.to_ascii_lowercase();
            let limit = (lower.chars().count() / 3).max(2);
            RULES
                .iter()
                .filter_map(|r| {
                    let distance = strsim::levenshtein(&lower, r.name);
                    let partial = !lower.is_empty() && r.name.contains(lower.as_str());
                    (distance <= limit || partial).then_some((distance, 0, r))
                })
                .collect()
        }
    };
    ranked.sort_by_key(|&(distance, gap, r)| (distance, gap, r.code));
    ranked.into_iter().take(3).map(|(_, _, r)| r).collect()
}

/// The `rules` table: aligned columns, one rule a line, with a header.
pub fn rules_table() -> String {
    let rows: Vec<[&str; 4]> = RULES
        .iter()
        .map(|r| [r.code.as_str(), r.name, r.severity.as_str(), r.summary])
        .collect();
    let header = ["CODE", "NAME", "SEVERITY", "SUMMARY"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut table = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        );
        table.push_str(line.trim_end());
        table.push('\n');
    }
    table
}

/// The `rules --format json` document: an array in catalog order.
pub fn rules_json() -> serde_json::Result<String> {
    #[derive(Serialize)]
    struct Rule {
        code: &'static str,
        name: &'static str,
        severity: Severity,
        summary: &'static str,
        url: String,
    }
    let rules: Vec<Rule> = RULES
        .iter()
        .map(|r| Rule {
            code: r.code.as_str(),
            name: r.name,
            severity: r.severity,
            summary: r.summary,
            url: r.url(),
        })
        .collect();
    let mut json = serde_json::to_string_pretty(&rules)?;
    json.push('\n');
    Ok(json)
}

/// Whether `check` shows a progress indicator: only for a person watching a
/// terminal, never in CI logs (`CI` set), pipes, dumb terminals or with
/// `--quiet`, and only when there are enough files for it to mean something.
pub fn show_progress(
    stderr_is_terminal: bool,
    quiet: bool,
    files: usize,
    env: &dyn Fn(&str) -> Option<String>,
) -> bool {
    /// Below this a run is over before a counter could be read.
    const MANY_FILES: usize = 8;
    let ci = env("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    let dumb = env("TERM").is_some_and(|t| t == "dumb");
    stderr_is_terminal && !quiet && !ci && !dumb && files >= MANY_FILES
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fail_on_threshold() {
        let warnings_only = Summary {
            files: 1,
            warnings: 1,
            ..Summary::default()
        };
        assert_eq!(check_status(&warnings_only, FailOn::Error), 0);
        assert_eq!(check_status(&warnings_only, FailOn::Warning), 1);
        assert_eq!(check_status(&warnings_only, FailOn::Info), 1);
        let infos_only = Summary {
            files: 1,
            infos: 2,
            ..Summary::default()
        };
        assert_eq!(check_status(&infos_only, FailOn::Warning), 0);
        assert_eq!(check_status(&infos_only, FailOn::Info), 1);
        assert_eq!(check_status(&Summary::default(), FailOn::Info), 0);
    }

    #[test]
    fn rules_are_found_by_code_or_name_in_any_case() {
        assert_eq!(
            find_rule("np005").map(|r| r.name),
            Some("prefix-host-bits-set")
        );
        assert_eq!(
            find_rule("Overlapping-Subnets").map(|r| r.code.as_str()),
            Some("NP103")
        );
        assert!(find_rule("NP999").is_none());
    }

    #[test]
    fn unknown_codes_suggest_neighbours() {
        let codes = |key| {
            suggest_rules(key)
                .iter()
                .map(|r| r.code.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(codes("NP107"), ["NP106", "NP105", "NP104"]);
        // The three registered codes numerically closest to 999, whatever
        // the registry holds.
        let mut nearest: Vec<&str> = RULES.iter().map(|r| r.code.as_str()).collect();
        nearest.sort_by_key(|c| (999 - c[2..].parse::<i32>().unwrap_or(0)).abs());
        assert_eq!(codes("np999"), nearest[..3]);
        assert_eq!(codes("overlaping-subnets"), ["NP103"]);
        // A fragment suggests every rule whose name contains it, whatever
        // else the registry holds (NP604 forwarding-overlap, ...).
        let overlap = codes("overlap");
        assert!(
            overlap.contains(&"NP103") && overlap.contains(&"NP105"),
            "{overlap:?}"
        );
        assert!(overlap
            .iter()
            .all(|c| find_rule(c).is_some_and(|r| r.name.contains("overlap"))));
        assert!(codes("completely-unrelated-words").is_empty());
    }

    #[test]
    fn table_lists_every_rule_aligned() {
        let table = rules_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), RULES.len() + 1);
        let summary_column = lines[0].find("SUMMARY");
        for (line, rule) in lines[1..].iter().zip(RULES) {
            assert!(line.starts_with(rule.code.as_str()));
            assert_eq!(line.find(rule.summary), summary_column, "{line}");
        }
    }

    #[test]
    fn invalid_utf8_reports_line_and_column() {
        let (inputs, errors) =
            collect_inputs(
                &[PathBuf::from("-")],
                || Ok(b"vpc a {\n  x \xe9\n".to_vec()),
            );
        assert!(inputs.is_empty());
        let message = errors.first().map(ToString::to_string).unwrap_or_default();
        assert_eq!(
            message,
            "cannot read `<stdin>`: it is not UTF-8 text (the first invalid byte is at line 2, \
             column 5); netproof reads UTF-8 designs only"
        );
    }

    #[test]
    fn stdin_is_read_once() {
        let (inputs, errors) = collect_inputs(&[PathBuf::from("-"), PathBuf::from("-")], || {
            Ok(b"x".to_vec())
        });
        let expected = Input {
            shown: STDIN_PATH.to_string(),
            text: "x".to_string(),
            origin: None,
        };
        assert_eq!(inputs, [expected]);
        assert!(matches!(errors.as_slice(), [InputError::StdinTwice]));
    }
}
