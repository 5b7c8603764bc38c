//! The `netproof` executable: parses the arguments, runs one command, writes
//! its output, and turns the outcome into the exit status. Everything that
//! does not write lives in the library (`netproof::cli`, `netproof::render`).

use clap::Parser;
use netproof::check::{check_files_observed, check_files_with};
use netproof::cli::{self, CheckArgs, CheckFormat, Cli, Command, Format, TraceArgs, TraceRun};
use netproof::files;
use netproof::render::{Emitter, HumanEmitter, JsonEmitter, SarifEmitter, FIXED_WIDTH};
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

/// Writes one line to standard error. Unlike `eprintln!` it cannot panic: if
/// even stderr is gone there is nobody left to tell. Control characters are
/// escaped: a message can quote a name from a design or an argument, and
/// must not drive the terminal.
macro_rules! say {
    ($($arg:tt)*) => {{
        let line = netproof::render::visible(&format!($($arg)*), usize::MAX);
        let _ = writeln!(io::stderr(), "{line}");
    }};
}

/// The status for usage errors and unreadable input (clap uses it too).
const USAGE_OR_INPUT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let color = use_color(cli.no_color, stdout.is_terminal());
    let mut out = io::BufWriter::new(stdout.lock());
    let status = match cli.command {
        Command::Check(args) => check(&args, color, cli.quiet, &mut out),
        Command::Rules(args) => rules(args.format, &mut out),
        Command::Explain(args) => explain(&args.code, &mut out),
        Command::Trace(args) => trace(&args, color, &mut out),
        Command::Reach(args) => reach(&args, color, &mut out),
        // The server owns stdout (the protocol) from here on.
        Command::Lsp(args) => {
            drop(out);
            netproof::lsp::run(args.verbose)
        }
        Command::Fmt(args) => fmt(&args, color, cli.quiet, &mut out),
    };
    ExitCode::from(status)
}

/// Reads standard input, at most `files::MAX_INPUT_BYTES` of it (it may be
/// endless: `< /dev/zero`).
fn read_stdin() -> io::Result<Vec<u8>> {
    netproof::files::read_bounded(io::stdin().lock()).map_err(|error| match error {
        netproof::files::ReadError::Io(error) => error,
        other => io::Error::other(other),
    })
}

/// Color only for a terminal, and never with `--no-color` or a non-empty
/// `NO_COLOR` (https://no-color.org).
fn use_color(no_color_flag: bool, is_terminal: bool) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    is_terminal && !no_color_flag && !no_color_env
}

fn check(args: &CheckArgs, color: bool, quiet: bool, out: &mut dyn Write) -> u8 {
    let inputs = cli::check_inputs(args, read_stdin);
    let inputs = match inputs {
        Ok(inputs) => inputs,
        Err(messages) => {
            for message in &messages {
                // Each message ends with its own newline.
                let _ = write!(
                    io::stderr(),
                    "{}",
                    netproof::render::visible(message, usize::MAX)
                );
            }
            return USAGE_OR_INPUT_ERROR;
        }
    };
    if let Some(status) = report_exclusions(&inputs, args.config.verbose) {
        return status;
    }
    let cli::CheckInputs {
        files: inputs,
        configs,
        origins,
        ..
    } = inputs;
    if args.fix && inputs.iter().any(|(path, _, _)| path == cli::STDIN_PATH) {
        say!("error: --fix cannot write back to standard input; use --diff to see the fixes");
        return USAGE_OR_INPUT_ERROR;
    }
    // The process ends after this command: what the check of a single file
    // built is left to the exit rather than freed piece by piece. With
    // several files, each one's model is freed as usual, so that memory
    // stays that of the largest file, not of all of them together.
    if inputs.len() == 1 {
        netproof::check::exit_after_check();
    }
    let mut reports = check_with_progress(inputs, quiet);
    if args.diff {
        let fixes = cli::plan_fixes(&reports);
        let diff: String = fixes.iter().map(cli::FileFix::diff).collect();
        return finish(
            out.write_all(diff.as_bytes()),
            out,
            u8::from(!fixes.is_empty()),
        );
    }
    let mut unwritten = false;
    if args.fix {
        let fixes = cli::plan_fixes(&reports);
        let mut fixed: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        // Every file is tried: one that cannot be written is reported and
        // the others are still fixed.
        for fix in &fixes {
            if let Err(error) = write_back(&origins, &fix.path, &fix.original, &fix.fixed) {
                say!("error: `{}` was not fixed: {error}", fix.path);
                unwritten = true;
                continue;
            }
            fixed.insert(fix.path.as_str(), fix.fixed.as_str());
            if !quiet {
                for line in fix.summary() {
                    say!("{line}");
                }
            }
        }
        if !fixed.is_empty() {
            // Check again what was written, so the report (and the status)
            // describe the files as they now are.
            let inputs = reports
                .iter()
                .map(|r| {
                    let path = r.source.path.clone();
                    let text = fixed
                        .get(path.as_str())
                        .map_or_else(|| r.source.text.to_string(), |t| t.to_string());
                    let config = configs.get(&path).cloned().unwrap_or_default();
                    (path, text, config)
                })
                .collect();
            reports = check_files_with(inputs);
        }
    }
    let status = cli::check_status_by_file(&reports, args.fail_on, &configs);
    let emitter: Box<dyn Emitter> = match args.format {
        CheckFormat::Json => Box::new(JsonEmitter),
        // URIs are relative to the working directory; without one, absolute
        // paths simply stay absolute (`file://`).
        CheckFormat::Sarif => Box::new(SarifEmitter::new(std::env::current_dir().ok())),
        CheckFormat::Human if color => Box::new(HumanEmitter {
            color: true,
            width: terminal_size::terminal_size_of(io::stdout())
                .map_or(FIXED_WIDTH, |(w, _)| usize::from(w.0)),
            quiet,
        }),
        CheckFormat::Human => Box::new(HumanEmitter {
            quiet,
            ..HumanEmitter::plain()
        }),
    };
    let status = if unwritten {
        USAGE_OR_INPUT_ERROR
    } else {
        status
    };
    finish(emitter.emit(&reports, out), out, status)
}

/// Writes `new` over the design shown as `path`, which held `original` when
/// it was read (see `files::write_design`), or says why it did not.
fn write_back(
    origins: &std::collections::HashMap<String, files::Origin>,
    path: &str,
    original: &str,
    new: &str,
) -> Result<(), String> {
    let origin = origins
        .get(path)
        .ok_or_else(|| "it was not read from a file".to_string())?;
    files::write_design(origin, original.as_bytes(), new.as_bytes()).map_err(|e| e.to_string())
}

/// `--verbose`'s account of configurations and exclusions, and the refusal
/// to pass a run in which configurations left out every file given:
/// `Some(2)` then, after saying so (even with `--quiet`: it is an error).
fn report_exclusions(inputs: &cli::CheckInputs, verbose: bool) -> Option<u8> {
    if verbose {
        for line in inputs.verbose_lines() {
            say!("{line}");
        }
    }
    if inputs.files.is_empty() && inputs.excluded > 0 {
        let _ = write!(io::stderr(), "{}", inputs.nothing_left_message());
        return Some(USAGE_OR_INPUT_ERROR);
    }
    None
}

/// Checks the files, with a progress bar on standard error when a person is
/// watching many files go by (see `cli::show_progress`). The bar is cleared
/// before anything else is written, so it never mixes with the report.
fn check_with_progress(
    inputs: Vec<(String, String, std::sync::Arc<netproof::config::Config>)>,
    quiet: bool,
) -> Vec<netproof::check::FileReport> {
    let show = cli::show_progress(io::stderr().is_terminal(), quiet, inputs.len(), &|key| {
        std::env::var(key).ok()
    });
    if !show {
        return check_files_with(inputs);
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(inputs.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("checking {pos}/{len} files {wide_bar} {elapsed}")
    {
        bar.set_style(style);
    }
    let reports = check_files_observed(inputs, &|| bar.inc(1));
    bar.finish_and_clear();
    reports
}

/// `trace`: 0 when the flow reaches, 1 when it does not, 2 for usage
/// errors and designs with errors (whose diagnostics go to stderr, so that
/// stdout holds a trace or nothing).
fn trace(args: &TraceArgs, color: bool, out: &mut dyn Write) -> u8 {
    let run = cli::trace(args, read_stdin);
    match run {
        TraceRun::Traced { output, reaches } => {
            finish(out.write_all(output.as_bytes()), out, u8::from(!reaches))
        }
        TraceRun::DesignErrors(reports) => {
            report_design_errors(&reports, color);
            say!("error: the design has errors; fix them before tracing");
            USAGE_OR_INPUT_ERROR
        }
        TraceRun::Usage(messages) => {
            for m in messages {
                say!("error: {m}");
            }
            USAGE_OR_INPUT_ERROR
        }
    }
}

/// `reach`: 0 when every flow asked about reaches, 1 when some do not, 2
/// for usage errors and designs with errors.
fn reach(args: &cli::ReachArgs, color: bool, out: &mut dyn Write) -> u8 {
    use netproof::reach::ReachRun;
    let run = cli::reach(args, read_stdin);
    match run {
        ReachRun::Answered { output, complete } => {
            finish(out.write_all(output.as_bytes()), out, u8::from(!complete))
        }
        ReachRun::DesignErrors(reports) => {
            report_design_errors(&reports, color);
            say!("error: the design has errors; fix them before asking what reaches");
            USAGE_OR_INPUT_ERROR
        }
        ReachRun::Usage(messages) => {
            for m in messages {
                say!("error: {m}");
            }
            USAGE_OR_INPUT_ERROR
        }
    }
}

/// `fmt`: rewrites files (or, with `--check`, prints diffs); standard input
/// goes to standard output. 0 when everything is (or was) formatted, 1 when
/// `--check` found a file to change, 2 for usage and input errors, files
/// that cannot be written and files with syntax errors.
fn fmt(args: &cli::FmtArgs, color: bool, quiet: bool, out: &mut dyn Write) -> u8 {
    let inputs = cli::configured_inputs(&args.paths, &args.config, read_stdin);
    let inputs = match inputs {
        Ok(inputs) => inputs,
        Err(messages) => {
            for message in &messages {
                // Each message ends with its own newline.
                let _ = write!(
                    io::stderr(),
                    "{}",
                    netproof::render::visible(message, usize::MAX)
                );
            }
            return USAGE_OR_INPUT_ERROR;
        }
    };
    if let Some(status) = report_exclusions(&inputs, args.config.verbose) {
        return status;
    }
    let origins = inputs.origins;
    let files = cli::format_inputs(
        inputs
            .files
            .into_iter()
            .map(|(path, text, _)| (path, text))
            .collect(),
    );
    let refused: Vec<_> = files
        .iter()
        .filter_map(cli::FmtFile::error_report)
        .collect();
    if !refused.is_empty() {
        report_design_errors(&refused, color);
        for report in &refused {
            say!(
                "error: `{}` has syntax errors and was not formatted",
                report.source.path
            );
        }
    }
    let mut status = 0;
    let mut output = String::new();
    for file in &files {
        let Ok(formatted) = &file.result else {
            continue;
        };
        if args.check {
            output.push_str(&file.diff());
            if file.changed().is_some() {
                status = 1;
            }
        } else if file.path == cli::STDIN_PATH {
            output.push_str(formatted);
        } else if let Some(formatted) = file.changed() {
            // Only files that change are written, so an editor or a build
            // tool watching the others sees nothing happen to them.
            if let Err(error) = write_back(&origins, &file.path, &file.original, formatted) {
                say!("error: `{}` was not formatted: {error}", file.path);
                status = USAGE_OR_INPUT_ERROR;
                continue;
            }
            if !quiet {
                say!("{}", file.path);
            }
        }
    }
    if !refused.is_empty() {
        status = USAGE_OR_INPUT_ERROR;
    }
    finish(out.write_all(output.as_bytes()), out, status)
}

/// Shows a design's errors on stderr, so stdout holds an answer or nothing.
fn report_design_errors(reports: &[netproof::check::FileReport], color: bool) {
    let stderr = io::stderr();
    let emitter = if color && stderr.is_terminal() {
        HumanEmitter {
            color: true,
            width: terminal_size::terminal_size_of(io::stderr())
                .map_or(FIXED_WIDTH, |(w, _)| usize::from(w.0)),
            quiet: false,
        }
    } else {
        HumanEmitter::plain()
    };
    let mut err = stderr.lock();
    let _ = emitter.emit(reports, &mut err);
}

fn rules(format: Format, out: &mut dyn Write) -> u8 {
    let text = match format {
        Format::Human => Ok(cli::rules_table()),
        Format::Json => cli::rules_json(),
    };
    match text {
        Ok(text) => finish(out.write_all(text.as_bytes()), out, 0),
        Err(error) => {
            say!("error: cannot serialize the rule list: {error}");
            USAGE_OR_INPUT_ERROR
        }
    }
}

fn explain(key: &str, out: &mut dyn Write) -> u8 {
    if let Some(rule) = cli::find_rule(key) {
        let page = rule.page.trim_end();
        return finish(writeln!(out, "{page}"), out, 0);
    }
    say!("error: unknown rule `{key}`");
    let suggestions: Vec<String> = cli::suggest_rules(key)
        .iter()
        .map(|r| format!("`{}` ({})", r.code, r.name))
        .collect();
    if !suggestions.is_empty() {
        say!("  help: the closest rules are {}", suggestions.join(", "));
    }
    say!("  help: `netproof rules` lists every rule");
    USAGE_OR_INPUT_ERROR
}

/// Flushes the output and returns `status`. A reader that went away (`| head`)
/// is not an error worth reporting, so a broken pipe keeps the status the run
/// earned; any other write failure is an I/O error.
fn finish(written: io::Result<()>, out: &mut dyn Write, status: u8) -> u8 {
    match written.and_then(|()| out.flush()) {
        Ok(()) => status,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => status,
        Err(error) => {
            say!("error: cannot write the output: {error}");
            USAGE_OR_INPUT_ERROR
        }
    }
}
