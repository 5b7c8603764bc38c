//! What netproof reads and writes: the guarantees of `docs/reliability.md`
//! (atomic writes, the symbolic-link and configuration policies, input
//! limits), tested through the binary.

mod common;

use common::{netproof, netproof_with_stdin, scratch, status, stderr, stdout, write};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A design with one fix (NP005: `10.0.0.1/16` has host bits set).
const HOST_BITS: &str = "vpc shop 10.0.0.1/16 {\n  subnet web 10.0.1.0/24\n}\n";
const HOST_BITS_FIXED: &str = "vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n}\n";
/// A design `fmt` rewrites.
const UNFORMATTED: &str = "vpc   shop 10.0.0.0/16 {\nsubnet web 10.0.1.0/24\n}\n";
const FORMATTED: &str = "vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n}\n";

fn binary(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netproof"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs netproof and fails the test (instead of hanging it) if the run takes
/// more than 20 seconds: the defects tested here made netproof wait forever.
fn run_bounded(dir: &Path, args: &[&str]) -> Output {
    let child = binary(dir, args).spawn().expect("start netproof");
    wait_bounded(child, Duration::from_secs(20))
}

fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("poll netproof").is_some() {
            return child.wait_with_output().expect("collect netproof's output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("netproof did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Files in `dir`, sorted, as raw names.
fn names(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read the scratch directory")
        .map(|e| PathBuf::from(e.expect("an entry").file_name()))
        .collect();
    out.sort();
    out
}

// ---- Writing -------------------------------------------------------------------

#[test]
fn fix_and_fmt_keep_permissions_line_endings_and_leave_no_temporary_file() {
    let dir = scratch("files", "fix_and_fmt_keep_permissions");
    write(&dir, "a.np", HOST_BITS.replace('\n', "\r\n"));
    write(&dir, "b.np", format!("\u{feff}{UNFORMATTED}"));
    fs::set_permissions(dir.join("a.np"), fs::Permissions::from_mode(0o640)).expect("chmod");
    fs::set_permissions(dir.join("b.np"), fs::Permissions::from_mode(0o604)).expect("chmod");
    let fixed = netproof(&dir, &["check", "--fix", "a.np"]);
    assert_eq!(status(&fixed), 0, "{}", stderr(&fixed));
    assert_eq!(
        read(&dir.join("a.np")),
        HOST_BITS_FIXED.replace('\n', "\r\n")
    );
    let formatted = netproof(&dir, &["fmt", "b.np"]);
    assert_eq!(status(&formatted), 0, "{}", stderr(&formatted));
    assert_eq!(read(&dir.join("b.np")), format!("\u{feff}{FORMATTED}"));
    let mode = |f: &str| {
        fs::metadata(dir.join(f))
            .expect("stat")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!((mode("a.np"), mode("b.np")), (0o640, 0o604));
    assert_eq!(names(&dir), [PathBuf::from("a.np"), PathBuf::from("b.np")]);
}

#[test]
fn kill_9_in_the_middle_of_a_write_leaves_the_design_whole() {
    let dir = scratch("files", "kill_9_in_the_middle_of_a_write");
    // Large enough that the half written before the stall is plainly not
    // the whole file.
    let design: String = (0..2000)
        .map(|i| format!("vpc   v{i} 10.{}.{}.0/24 {{}}\n", i / 256, i % 256))
        .collect();
    write(&dir, "big.np", &design);
    for args in [&["fmt", "big.np"][..], &["check", "--fix", "big.np"]] {
        let design = if args[0] == "fmt" {
            design.clone()
        } else {
            design.replace("10.0.0.0/24", "10.0.0.1/24")
        };
        write(&dir, "big.np", &design);
        let mut child = binary(&dir, args)
            .env("NETPROOF_TEST_STALL_WRITE", "60")
            .spawn()
            .expect("start netproof");
        // Wait for the temporary file to hold the first half.
        let start = Instant::now();
        loop {
            let partial = names(&dir).into_iter().any(|n| {
                n != Path::new("big.np") && fs::metadata(dir.join(&n)).map_or(0, |m| m.len()) > 0
            });
            if partial {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "no write began");
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().expect("kill -9 netproof");
        let _ = child.wait();
        assert_eq!(read(&dir.join("big.np")), design, "{args:?}");
        // The leftover is hidden and not a design: the next run ignores it.
        let again = netproof(&dir, &["check", "."]);
        assert!(stdout(&again).contains("in 1 file"), "{}", stdout(&again));
    }
}

#[test]
fn an_edit_saved_while_fix_runs_is_kept() {
    let dir = scratch("files", "an_edit_saved_while_fix_runs_is_kept");
    write(&dir, "a.np", HOST_BITS);
    let child = binary(&dir, &["check", "--fix", "a.np"])
        .env("NETPROOF_TEST_STALL_WRITE", "3")
        .spawn()
        .expect("start netproof");
    let start = Instant::now();
    while names(&dir).len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(20), "no write began");
        std::thread::sleep(Duration::from_millis(10));
    }
    let edit = "vpc shop 10.0.0.1/16 {\n  subnet web 10.0.1.0/24   # saved meanwhile\n}\n";
    write(&dir, "a.np", edit);
    let output = wait_bounded(child, Duration::from_secs(30));
    assert_eq!(status(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("`a.np` was not fixed: it changed after netproof read it"),
        "{}",
        stderr(&output)
    );
    assert_eq!(read(&dir.join("a.np")), edit);
    assert_eq!(names(&dir), [PathBuf::from("a.np")]);
}

#[test]
fn fix_reports_every_file_it_cannot_write_and_fixes_the_rest() {
    let dir = scratch("files", "fix_reports_every_file_it_cannot_write");
    for name in ["a.np", "b.np", "c.np"] {
        write(&dir, name, HOST_BITS);
    }
    // Read-only says "leave me alone", even to root.
    fs::set_permissions(dir.join("a.np"), fs::Permissions::from_mode(0o444)).expect("chmod");
    let output = netproof(&dir, &["check", "--fix", "."]);
    assert_eq!(status(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("`a.np` was not fixed: it is read-only"),
        "{}",
        stderr(&output)
    );
    assert_eq!(read(&dir.join("a.np")), HOST_BITS);
    assert_eq!(read(&dir.join("b.np")), HOST_BITS_FIXED);
    assert_eq!(read(&dir.join("c.np")), HOST_BITS_FIXED);
    // The report describes the files as they now are: a.np still has it.
    assert!(stdout(&output).contains("a.np"), "{}", stdout(&output));
    fs::set_permissions(dir.join("a.np"), fs::Permissions::from_mode(0o644)).expect("chmod");
}

#[test]
fn fmt_does_not_rewrite_read_only_files() {
    let dir = scratch("files", "fmt_does_not_rewrite_read_only_files");
    write(&dir, "a.np", UNFORMATTED);
    write(&dir, "b.np", UNFORMATTED);
    fs::set_permissions(dir.join("a.np"), fs::Permissions::from_mode(0o444)).expect("chmod");
    let output = netproof(&dir, &["fmt", "."]);
    assert_eq!(status(&output), 2);
    assert!(stderr(&output).contains("`a.np` was not formatted: it is read-only"));
    assert_eq!(read(&dir.join("a.np")), UNFORMATTED);
    assert_eq!(read(&dir.join("b.np")), FORMATTED);
    fs::set_permissions(dir.join("a.np"), fs::Permissions::from_mode(0o644)).expect("chmod");
}

#[test]
fn names_that_are_not_utf8_are_kept_and_never_confused() {
    let dir = scratch("files", "names_that_are_not_utf8");
    // `bad\xFF.np` and the name a lossy conversion makes of it.
    let raw = dir.join(OsStr::from_bytes(b"bad\xff.np"));
    let lossy = dir.join("bad\u{fffd}.np");
    fs::write(&raw, HOST_BITS).expect("write");
    fs::write(&lossy, UNFORMATTED).expect("write");
    let output = netproof(&dir, &["check", "--fix", "."]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    assert_eq!(read(&raw), HOST_BITS_FIXED);
    assert_eq!(read(&lossy), UNFORMATTED);
    assert!(
        stderr(&output).contains("\"bad\\xFF.np\":1:10: fixed NP005"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("in 2 files"),
        "{}",
        stdout(&output)
    );
    // SARIF names the file itself: its bytes, percent-encoded.
    let output = netproof(&dir, &["check", "--format", "sarif", "."]);
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).expect("SARIF is JSON");
    let uris: Vec<&str> = sarif["runs"][0]["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["location"]["uri"].as_str())
        .collect();
    assert_eq!(uris, ["bad%FF.np", "bad%EF%BF%BD.np"], "{sarif}");
    let output = netproof(&dir, &["fmt", "."]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    assert_eq!(read(&lossy), FORMATTED);
    assert_eq!(read(&raw), HOST_BITS_FIXED);
}

// ---- Symbolic links --------------------------------------------------------------

#[test]
fn links_out_of_the_tree_are_neither_read_nor_written() {
    let dir = scratch("files", "links_out_of_the_tree");
    let tree = dir.join("tree");
    write(
        &dir,
        "outside/secret.np",
        "vpc secret-name 10.0.0.1/16 {}\n",
    );
    write(&tree, "a.np", HOST_BITS);
    symlink("../outside/secret.np", tree.join("link.np")).expect("symlink");
    for args in [
        &["check", "tree"][..],
        &["check", "--fix", "tree"],
        &["check", "--format", "json", "tree"],
        &["check", "--format", "sarif", "tree"],
        &["fmt", "tree"],
    ] {
        let output = netproof(&dir, args);
        assert_eq!(status(&output), 2, "{args:?}");
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(!all.contains("secret-name"), "{args:?} leaked: {all}");
        assert!(
            all.contains("`tree/link.np`: it is a symbolic link to a file outside `tree`"),
            "{all}"
        );
        assert_eq!(
            read(&dir.join("outside/secret.np")),
            "vpc secret-name 10.0.0.1/16 {}\n"
        );
    }
    // Excluding the link lets the rest be checked.
    write(&tree, "netproof.toml", "exclude = [\"link.np\"]\n");
    let output = netproof(&dir, &["check", "--fix", "tree"]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    assert_eq!(read(&tree.join("a.np")), HOST_BITS_FIXED);
}

#[test]
fn links_inside_the_tree_are_written_through_and_stay_links() {
    let dir = scratch("files", "links_inside_the_tree");
    write(&dir, "real/a.np", HOST_BITS);
    symlink("real/a.np", dir.join("link.np")).expect("symlink");
    let output = netproof(&dir, &["check", "--fix", "link.np"]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    assert!(fs::symlink_metadata(dir.join("link.np"))
        .expect("lstat")
        .file_type()
        .is_symlink());
    assert_eq!(read(&dir.join("real/a.np")), HOST_BITS_FIXED);
    // Found in a directory, the file and the link to it are one design.
    write(&dir, "real/a.np", HOST_BITS);
    let output = netproof(&dir, &["check", "."]);
    assert!(stdout(&output).contains("in 1 file"), "{}", stdout(&output));
}

#[test]
fn fifos_devices_and_dangling_links_are_reported_never_waited_on() {
    let dir = scratch("files", "fifos_devices_and_dangling_links");
    write(&dir, "tree/a.np", FORMATTED);
    mkfifo(&dir.join("tree/pipe.np"));
    symlink("nowhere.np", dir.join("tree/dangling.np")).expect("symlink");
    mkfifo(&dir.join("named-pipe"));
    let output = run_bounded(&dir, &["check", "tree"]);
    assert_eq!(status(&output), 2);
    let log = stderr(&output);
    assert!(
        log.contains("`tree/pipe.np`: it is a FIFO (named pipe), not a regular file"),
        "{log}"
    );
    assert!(
        log.contains("`tree/dangling.np`: it is a symbolic link to a file that does not exist"),
        "{log}"
    );
    for args in [
        &["check", "named-pipe"][..],
        &["fmt", "named-pipe"],
        &["check", "--config", "named-pipe", "tree/a.np"],
        &["trace", "named-pipe", "a", "b", "any"],
        &["reach", "named-pipe", "--matrix"],
        &["check", "/dev/zero"],
        &["check", "/dev/null"],
    ] {
        let output = run_bounded(&dir, args);
        assert_eq!(status(&output), 2, "{args:?}");
        assert!(
            stderr(&output).contains("not a regular file"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn endless_standard_input_is_cut_at_the_limit() {
    let dir = scratch("files", "endless_standard_input");
    let child = binary(&dir, &["check", "-"])
        .stdin(fs::File::open("/dev/zero").expect("open /dev/zero"))
        .spawn()
        .expect("start netproof");
    let output = wait_bounded(child, Duration::from_secs(60));
    assert_eq!(status(&output), 2);
    assert!(
        stderr(&output).contains("`<stdin>`: it is larger than 256 MiB"),
        "{}",
        stderr(&output)
    );
}

// ---- Configuration -------------------------------------------------------------

#[test]
fn a_linked_netproof_toml_is_not_followed_or_quoted() {
    let dir = scratch("files", "a_linked_netproof_toml");
    write(&dir, "secret", "password = \"hunter2\"\n");
    write(&dir, "tree/a.np", FORMATTED);
    symlink("../secret", dir.join("tree/netproof.toml")).expect("symlink");
    for args in [&["check", "tree"][..], &["fmt", "tree"]] {
        let output = netproof(&dir, args);
        assert_eq!(status(&output), 2);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(!all.contains("hunter2"), "leaked: {all}");
        assert!(
            all.contains("`tree/netproof.toml`: it is a symbolic link"),
            "{all}"
        );
    }
}

#[test]
fn a_netproof_toml_that_is_not_a_file_is_an_error() {
    let dir = scratch("files", "a_netproof_toml_that_is_not_a_file");
    write(&dir, "d/a.np", FORMATTED);
    fs::create_dir(dir.join("d/netproof.toml")).expect("mkdir");
    let output = run_bounded(&dir, &["check", "d"]);
    assert_eq!(status(&output), 2);
    assert!(
        stderr(&output).contains("it is a directory, not a regular file"),
        "{}",
        stderr(&output)
    );
    write(&dir, "f/a.np", FORMATTED);
    mkfifo(&dir.join("f/netproof.toml"));
    let output = run_bounded(&dir, &["check", "f"]);
    assert_eq!(status(&output), 2);
    assert!(
        stderr(&output).contains("it is a FIFO (named pipe), not a regular file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn excluding_every_file_is_an_error_not_a_pass() {
    let dir = scratch("files", "excluding_every_file");
    // An ancestor's configuration, as in a shared home directory.
    write(&dir, "netproof.toml", "exclude = [\"**\"]\n");
    write(&dir, "repo/a.np", HOST_BITS);
    let repo = dir.join("repo");
    for args in [
        &["check", "-q"][..],
        &["check", "a.np"],
        &["fmt", "--check"],
        &["fmt"],
    ] {
        let output = netproof(&repo, args);
        assert_eq!(status(&output), 2, "{args:?}");
        assert!(
            stderr(&output).contains("every file given is excluded by the `exclude` patterns of"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = netproof(&repo, &["check", "--verbose"]);
    let log = stderr(&output);
    assert!(
        log.contains("`a.np`: left out by the pattern `**` of `"),
        "{log}"
    );
    assert!(log.contains("netproof.toml`"), "{log}");
    // Some files left out is fine; --verbose says which and why.
    write(&dir, "netproof.toml", "exclude = [\"repo/gen\"]\n");
    write(&dir, "repo/gen/b.np", HOST_BITS);
    write(&dir, "repo/a.np", FORMATTED);
    let output = netproof(&repo, &["check", "-v", "--fail-on", "error"]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    let log = stderr(&output);
    assert!(log.contains("`a.np`: checked under `"), "{log}");
    assert!(
        log.contains("gen/b.np`: left out by the pattern `repo/gen`"),
        "{log}"
    );
}

#[test]
fn standard_input_is_still_read_as_before() {
    let dir = scratch("files", "standard_input_is_still_read");
    let output = netproof_with_stdin(&dir, &["check", "-"], FORMATTED.as_bytes());
    assert_eq!(status(&output), 0, "{}", stderr(&output));
}
