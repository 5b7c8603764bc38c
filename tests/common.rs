//! Helpers shared by the integration tests.
#![allow(dead_code)]

use netproof::check::{check_source, FileReport};
use std::path::{Path, PathBuf};

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
