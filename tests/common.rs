//! Helpers shared by the integration tests.
#![allow(dead_code)]

use netproof::check::{check_source, FileReport};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.np` file below `dir`, sorted, as paths relative to the root.
pub fn np_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "np") {
                out.push(p.strip_prefix(root()).unwrap_or(&p).to_path_buf());
            }
        }
    }
    out.sort();
    out
}

pub fn check_file(rel: &Path) -> FileReport {
    let text = std::fs::read_to_string(root().join(rel))
        .unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
    check_source(rel.to_string_lossy().replace('\\', "/"), text)
}

/// The human rendering of every diagnostic in a report, without colour, as
/// the snapshots record it.
pub fn render_all(report: &FileReport) -> String {
    let mut s = String::new();
    for d in &report.diagnostics {
        s.push_str(&netproof::render::render_human(report, d, false));
        s.push('\n');
    }
    s
}

pub fn codes(report: &FileReport) -> Vec<&'static str> {
    report.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

// ---- Scratch directories and files ---------------------------------------------

/// A fresh, empty directory for one test: `CARGO_TARGET_TMPDIR/<file>/<test>`.
///
/// `file` names the test file (`"cli"`, `"fmt"`, ...) and `test` the test in
/// it, so directories of different test binaries, which run in parallel,
/// never collide. A leftover from an earlier run is removed first.
pub fn scratch(file: &str, test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(file).join(test);
    // A leftover from an earlier run may or may not exist.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Writes `contents` to `dir/relative`, creating the parent directories.
pub fn write(dir: &Path, relative: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent directories");
    }
    std::fs::write(path, contents).expect("write a test file");
}

// ---- Running the binary --------------------------------------------------------

/// What a run of the binary sees of `NO_COLOR`. (netproof only colours a
/// terminal, and the runs here write to pipes; the variants keep each test's
/// environment as it was written.)
#[derive(Clone, Copy, Debug)]
pub enum NoColor {
    /// Removed from the environment.
    Unset,
    /// Set to `1`.
    Set,
    /// Left as the test process has it.
    Inherit,
}

/// Runs the `netproof` binary in `dir` with `args`, `stdin` on its standard
/// input (then closed) and its standard output and error captured.
pub fn run_netproof(dir: &Path, args: &[&str], stdin: &[u8], no_color: NoColor) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netproof"));
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match no_color {
        NoColor::Unset => {
            command.env_remove("NO_COLOR");
        }
        NoColor::Set => {
            command.env("NO_COLOR", "1");
        }
        NoColor::Inherit => {}
    }
    let mut child = command.spawn().expect("start netproof");
    if let Some(mut input) = child.stdin.take() {
        // netproof may exit without reading stdin; a broken pipe is fine then.
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().expect("wait for netproof")
}

/// Runs `netproof` in `dir` with `args`, an empty standard input and
/// `NO_COLOR` removed.
pub fn netproof(dir: &Path, args: &[&str]) -> Output {
    netproof_with_stdin(dir, args, b"")
}

/// Runs `netproof` in `dir` with `args`, `stdin` on its standard input and
/// `NO_COLOR` removed.
pub fn netproof_with_stdin(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    run_netproof(dir, args, stdin, NoColor::Unset)
}

/// The exit status of a run; a run killed by a signal fails the test.
pub fn status(output: &Output) -> i32 {
    output
        .status
        .code()
        .expect("netproof exits rather than being killed")
}

/// A run's standard output, which must be UTF-8.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// A run's standard error, which must be UTF-8.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

// ---- Property tests -------------------------------------------------------------

/// Cases per property: 256 by default (fast enough for debug builds in CI);
/// `PROPTEST_CASES` asks for more, for a deeper local run.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}
