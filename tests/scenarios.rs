//! The worked examples of the language reference, one per seed article,
//! check without front-end or addressing errors; their full output is
//! snapshotted as the record of what netproof says about each.

mod common;

use common::*;
use netproof::diagnostic::Severity;
use std::path::Path;

#[test]
fn scenarios_have_no_front_end_or_addressing_errors() {
    let files = np_files(Path::new("fixtures/scenarios"));
    assert!(files.len() >= 5, "one scenario per seed article");
    for path in files {
        let report = check_file(&path);
        let bad: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| {
                d.severity() == Severity::Error
                    && (d.code.as_str().starts_with("NP0") || d.code.as_str().starts_with("NP1"))
            })
            .collect();
        assert!(
            bad.is_empty(),
            "{}:\n{}",
            path.display(),
            render_all(&report)
        );
        let expects = std::fs::read_to_string(root().join(&path))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.trim_start().starts_with("expect "))
            .count();
        assert_eq!(
            report.expectations.len(),
            expects,
            "{}: every expectation is in the report",
            path.display()
        );
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        insta::assert_snapshot!(format!("scenario_{stem}"), render_all(&report));
    }
}
