//! The rule contract: every registered rule has a module, a page, a fixture
//! that fires and one that stays quiet, and a snapshot of what it renders.
//! Adding a rule without any of these fails here.

mod common;

use common::*;
use netproof::registry::RULES;
use std::path::Path;

fn fixtures(code: &str, prefix: &str) -> Vec<std::path::PathBuf> {
    np_files(&Path::new("fixtures/rules").join(code))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect()
}

#[test]
fn every_rule_fires_on_its_fixtures_and_is_snapshotted() {
    for rule in RULES {
        let code = rule.code.as_str();
        let fires = fixtures(code, "fires");
        assert!(
            !fires.is_empty(),
            "{code} has no fixtures/rules/{code}/fires*.np"
        );
        for path in fires {
            let report = check_file(&path);
            assert!(
                codes(&report).contains(&code),
                "{} does not trigger {code}; it gives {:?}",
                path.display(),
                codes(&report)
            );
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            insta::assert_snapshot!(format!("{code}_{stem}"), render_all(&report));
        }
    }
}

#[test]
fn every_rule_stays_quiet_on_its_quiet_fixtures() {
    for rule in RULES {
        let code = rule.code.as_str();
        let quiet = fixtures(code, "quiet");
        assert!(
            !quiet.is_empty(),
            "{code} has no fixtures/rules/{code}/quiet*.np"
        );
        for path in quiet {
            let report = check_file(&path);
            assert!(
                report.diagnostics.is_empty(),
                "{} must be clean, but gives:\n{}",
                path.display(),
                render_all(&report)
            );
        }
    }
}

#[test]
fn every_rule_has_a_module() {
    for rule in RULES {
        let module = format!(
            "src/rules/{}_{}.rs",
            rule.code.as_str().to_lowercase(),
            rule.name.replace('-', "_")
        );
        assert!(
            root().join(&module).is_file(),
            "{} has no module {module}",
            rule.code
        );
    }
}

#[test]
fn every_page_is_complete_and_belongs_to_a_rule() {
    let mut pages: Vec<String> = std::fs::read_dir(root().join("rules"))
        .expect("rules/ exists")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    pages.sort();
    for page in &pages {
        let stem = page.trim_end_matches(".md");
        assert!(
            RULES
                .iter()
                .any(|r| format!("{}-{}", r.code.as_str(), r.name) == stem),
            "rules/{page} documents no registered rule"
        );
    }
    for rule in RULES {
        let title = format!("# {} {}", rule.code.as_str(), rule.name);
        assert!(
            rule.page.starts_with(&title),
            "{}'s page must start with `{title}`",
            rule.code
        );
        for section in [
            "## What it does",
            "## Why it matters",
            "## Example",
            "## How to fix",
            "## References",
        ] {
            assert!(
                rule.page.contains(section),
                "{}'s page lacks `{section}`",
                rule.code
            );
        }
        assert!(
            rule.page.contains("```np"),
            "{}'s page has no example",
            rule.code
        );
        let severity = format!("Severity: {}", rule.severity);
        assert!(
            rule.page.contains(&severity),
            "{}'s page must say `{severity}`",
            rule.code
        );
    }
}

/// Every example on a rule page is real: the first `np` block fires the
/// rule and the last one (the fix) does not. A page whose example cannot be
/// short (NP905's needs lists of hundreds of addresses) shows it cut short
/// and names the fixture that is the whole of it, in a comment
/// `<!-- example: fixtures/... -->`; that fixture must fire instead.
#[test]
fn page_examples_fire_and_their_fixes_do_not() {
    for rule in RULES {
        let blocks: Vec<&str> = rule
            .page
            .split("```np")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .collect();
        assert!(
            blocks.len() >= 2,
            "{} needs an example and a fixed version",
            rule.code
        );
        let code = rule.code;
        let whole = rule
            .page
            .split("<!-- example: ")
            .nth(1)
            .and_then(|rest| rest.split(" -->").next())
            .map(|path| {
                assert!(
                    path.starts_with(&format!("fixtures/rules/{code}/fires")),
                    "{code}'s page names {path}, not one of its own fixtures"
                );
                std::fs::read_to_string(common::root().join(path))
                    .unwrap_or_else(|e| panic!("{code}'s page names {path}: {e}"))
            });
        let example = whole.as_deref().unwrap_or(blocks[0]);
        let fires = netproof::check::check_source("example.np", example);
        assert!(
            fires.diagnostics.iter().any(|d| d.code == code),
            "{code}'s page example does not trigger it"
        );
        let fixed = netproof::check::check_source("fixed.np", blocks[blocks.len() - 1]);
        assert!(
            !fixed.diagnostics.iter().any(|d| d.code == code),
            "{code}'s fixed example still triggers it"
        );
    }
}

/// README.md's rule table lists every rule with its registry name and
/// severity, so the front page never falls behind the catalog.
#[test]
fn readme_lists_every_rule() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    for rule in RULES {
        let row = format!("| {} | {} | {} |", rule.code, rule.name, rule.severity);
        assert!(readme.contains(&row), "README.md has no row `{row} ... |`");
    }
}
