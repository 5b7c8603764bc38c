//! The pre-commit hook, exercised with the real `pre-commit` from PyPI.
//!
//! The test builds what a user's setup is: a hook repository holding this
//! crate and its `.pre-commit-hooks.yaml`, and a repository of designs whose
//! `.pre-commit-config.yaml` uses the `netproof-fmt` and `netproof` hooks.
//! pre-commit then builds netproof itself (`language: rust` runs `cargo
//! install`) and runs it from git's pre-commit hook: a commit with a broken
//! design is refused with the diagnostic shown (and the design rewritten
//! into the canonical layout), and the fixed design commits.
//!
//! `.ci/run` installs pre-commit and sets `NETPROOF_REQUIRE_TOOLS=1`, which
//! makes a missing pre-commit a failure. On a developer's machine without
//! pre-commit the test says so on stderr and checks nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What a hook repository needs for `cargo install --path .` to build the
/// crate: the manifest, the lock file, and every target the manifest names.
const CRATE_FILES: &[&str] = &[
    ".pre-commit-hooks.yaml",
    "Cargo.toml",
    "Cargo.lock",
    "README.md",
    "src",
    "rules",
    "grammar",
    "benches",
    "examples",
];

fn find_pre_commit() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NETPROOF_PRE_COMMIT") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("pre-commit"))
        .find(|candidate| candidate.is_file())
}

fn tools_required() -> bool {
    std::env::var("NETPROOF_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
        let entries = std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", from.display()));
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
        }
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
}

/// Runs a command with a fixed git identity and no user or system git
/// configuration, so the test behaves the same on every machine.
fn run(dir: &Path, program: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "netproof test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "netproof test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = run(dir, Path::new("git"), args, &[]);
    assert!(out.status.success(), "git {args:?} failed:\n{}", text(&out));
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_commit_with_a_broken_design_is_blocked_and_a_fixed_one_passes() {
    let Some(pre_commit) = find_pre_commit() else {
        assert!(
            !tools_required(),
            "pre-commit is not installed, and NETPROOF_REQUIRE_TOOLS=1 says it must be \
             (.ci/run installs it with pip)"
        );
        eprintln!("skipped: pre-commit is not on PATH (.ci/run installs it)");
        return;
    };
    let root = common::root();
    let base = common::scratch("precommit", "hook");

    // The hook repository: this crate as pre-commit would clone it.
    let hooks = base.join("netproof");
    for file in CRATE_FILES {
        copy_tree(&root.join(file), &hooks.join(file));
    }
    git(&hooks, &["init", "--quiet"]);
    git(&hooks, &["add", "--all"]);
    git(&hooks, &["commit", "--quiet", "--message", "netproof"]);
    let rev = String::from_utf8_lossy(&git(&hooks, &["rev-parse", "HEAD"]).stdout)
        .trim()
        .to_string();

    // The user's repository of designs.
    let designs = base.join("designs");
    std::fs::create_dir_all(&designs).unwrap_or_else(|e| panic!("{e}"));
    git(&designs, &["init", "--quiet"]);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: netproof-fmt\n      - id: netproof\n",
        hooks.display()
    );
    std::fs::write(designs.join(".pre-commit-config.yaml"), config)
        .unwrap_or_else(|e| panic!("{e}"));
    // pre-commit's cache (where it builds the hook) stays inside the test's
    // directory; cargo's build directory is kept between runs, so only the
    // first run on a machine compiles the dependencies.
    let cache = base.join("pre-commit-cache");
    let cargo_target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-cargo-target");
    let env = [
        ("PRE_COMMIT_HOME", cache.as_path()),
        ("CARGO_TARGET_DIR", cargo_target.as_path()),
    ];
    let install = run(&designs, &pre_commit, &["install"], &env);
    assert!(
        install.status.success(),
        "pre-commit install:\n{}",
        text(&install)
    );

    // A design with host bits set in its prefix (NP005, an error), and not
    // in the canonical layout either.
    let broken = "vpc   shop 10.0.0.1/16 {\n  subnet web 10.0.1.0/24\n}\n";
    std::fs::write(designs.join("shop.np"), broken).unwrap_or_else(|e| panic!("{e}"));
    git(&designs, &["add", "shop.np", ".pre-commit-config.yaml"]);
    let blocked = run(
        &designs,
        Path::new("git"),
        &["commit", "--message", "add shop"],
        &env,
    );
    let shown = text(&blocked);
    assert!(
        !blocked.status.success(),
        "the commit went through:\n{shown}"
    );
    assert!(shown.contains("netproof check"), "hook not run:\n{shown}");
    assert!(shown.contains("Failed"), "{shown}");
    assert!(shown.contains("NP005"), "diagnostic not shown:\n{shown}");
    assert!(shown.contains("shop.np"), "{shown}");
    assert!(shown.contains("netproof fmt"), "fmt hook not run:\n{shown}");
    assert!(
        shown.contains("files were modified by this hook"),
        "{shown}"
    );
    let rewritten = std::fs::read_to_string(designs.join("shop.np")).unwrap_or_default();
    let canonical = netproof::format::format_source(broken).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(rewritten, canonical, "the fmt hook rewrites the design");
    assert_ne!(canonical, broken);
    let head = run(
        &designs,
        Path::new("git"),
        &["rev-parse", "--verify", "HEAD"],
        &[],
    );
    assert!(
        !head.status.success(),
        "a commit was recorded:\n{}",
        text(&head)
    );

    // The fixed design commits.
    let fixed = canonical.replace("10.0.0.1/16", "10.0.0.0/16");
    std::fs::write(designs.join("shop.np"), fixed).unwrap_or_else(|e| panic!("{e}"));
    git(&designs, &["add", "shop.np"]);
    let passed = run(
        &designs,
        Path::new("git"),
        &["commit", "--message", "add shop"],
        &env,
    );
    let shown = text(&passed);
    assert!(
        passed.status.success(),
        "the fixed design was refused:\n{shown}"
    );
    assert!(
        shown.contains("netproof check") && shown.contains("Passed"),
        "{shown}"
    );
    assert!(!shown.contains("Failed"), "both hooks pass:\n{shown}");

    // A commit without designs does not run netproof at all.
    std::fs::write(designs.join("notes.txt"), "not a design\n").unwrap_or_else(|e| panic!("{e}"));
    git(&designs, &["add", "notes.txt"]);
    let skipped = run(
        &designs,
        Path::new("git"),
        &["commit", "--message", "notes"],
        &env,
    );
    let shown = text(&skipped);
    assert!(skipped.status.success(), "{shown}");
    assert!(shown.contains("Skipped"), "{shown}");
}
