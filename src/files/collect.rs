//! Finding the designs a command is given: files, directories searched for
//! `*.np` files, and standard input.

use super::read::{read_regular_file, ReadError};
use super::{shown, Origin};
use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The path shown for standard input.
pub const STDIN_PATH: &str = "<stdin>";

/// One design, read.
#[derive(Debug, PartialEq, Eq)]
pub struct Input {
    /// The path as shown in reports (see [`super::shown`]); `<stdin>` for
    /// standard input.
    pub shown: String,
    pub text: String,
    /// Where it was read from; `None` for standard input.
    pub origin: Option<Origin>,
}

/// What [`collect_inputs`] found.
pub type Collected = (Vec<Input>, Vec<InputError>);

/// Why an input could not be read. Each one makes the run exit with status 2.
#[derive(Debug)]
pub enum InputError {
    Read {
        path: String,
        error: ReadError,
    },
    NotUtf8 {
        path: String,
        line: usize,
        column: usize,
    },
    NoDesigns {
        dir: String,
    },
    StdinTwice,
    /// A `*.np` symbolic link, found in a directory, that leads out of the
    /// directory being checked.
    LinkOutside {
        path: String,
        dir: String,
    },
    /// A symbolic link whose target does not exist.
    Dangling {
        path: String,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Read { path, error } => write!(f, "cannot read `{path}`: {error}"),
            InputError::NotUtf8 { path, line, column } => write!(
                f,
                "cannot read `{path}`: it is not UTF-8 text (the first invalid byte is at line \
                 {line}, column {column}); netproof reads UTF-8 designs only"
            ),
            InputError::NoDesigns { dir } => {
                write!(f, "no `.np` files found in `{dir}` or its subdirectories")
            }
            InputError::StdinTwice => write!(f, "`-` (standard input) can be given only once"),
            InputError::LinkOutside { path, dir } => write!(
                f,
                "not reading `{path}`: it is a symbolic link to a file outside `{dir}`, and \
                 netproof follows links only within the directory it checks (name the file \
                 itself to check it, or exclude the link in netproof.toml)"
            ),
            InputError::Dangling { path } => write!(
                f,
                "cannot read `{path}`: it is a symbolic link to a file that does not exist"
            ),
        }
    }
}

impl std::error::Error for InputError {}

/// The designs named by `paths`, ready for [`crate::check::check_files`],
/// and every input error found on the way. All errors are collected rather
/// than stopping at the first, so one run lists every bad path.
/// `read_stdin` is called at most once, for `-`.
pub fn collect_inputs(
    paths: &[PathBuf],
    read_stdin: impl FnOnce() -> io::Result<Vec<u8>>,
) -> Collected {
    collect_inputs_where(paths, read_stdin, |_, _| true)
}

/// A design file found or named, before it is read.
struct Candidate {
    /// The path to read (as found: relative or absolute, any bytes).
    real: PathBuf,
    /// The path to show.
    shown: PathBuf,
    /// Why it cannot be read, when that is known before reading it.
    problem: Option<Problem>,
}

/// Why a link found in a directory is not read.
enum Problem {
    /// It leads out of the directory (shown as given).
    Outside(String),
    Dangling,
    Io(io::Error),
}

/// [`collect_inputs`], reading only the files (found in a directory or named)
/// for which `keep(path, path shown)` is true; standard input is always kept. A directory whose
/// `.np` files are all left out is not an error. A file left out is never
/// opened.
pub fn collect_inputs_where(
    paths: &[PathBuf],
    read_stdin: impl FnOnce() -> io::Result<Vec<u8>>,
    mut keep: impl FnMut(&Path, &str) -> bool,
) -> Collected {
    let mut read_stdin = Some(read_stdin);
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        if path.as_os_str() == "-" {
            match read_stdin.take() {
                Some(read) => match read() {
                    Ok(bytes) => add_text(
                        STDIN_PATH.to_string(),
                        None,
                        bytes,
                        &mut inputs,
                        &mut errors,
                    ),
                    Err(error) => errors.push(InputError::Read {
                        path: STDIN_PATH.to_string(),
                        error: ReadError::Io(error),
                    }),
                },
                None => errors.push(InputError::StdinTwice),
            }
            continue;
        }
        let path_shown = shown(path);
        let metadata = match fs::metadata(path) {
            Ok(m) => m,
            Err(error) => {
                let dangling =
                    error.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(path).is_ok();
                errors.push(if dangling {
                    InputError::Dangling { path: path_shown }
                } else {
                    InputError::Read {
                        path: path_shown,
                        error: ReadError::Io(error),
                    }
                });
                continue;
            }
        };
        let candidates = if metadata.is_dir() {
            let mut found = Vec::new();
            // Paths under `.` are shown without the `./` prefix, as people
            // write them.
            let shown_root = if path == Path::new(".") {
                PathBuf::new()
            } else {
                path.clone()
            };
            match fs::canonicalize(path) {
                Ok(root) => {
                    let walk = Walk {
                        root: &root,
                        dir_shown: &path_shown,
                    };
                    walk.find(path, &shown_root, &mut found, &mut errors);
                }
                Err(error) => errors.push(InputError::Read {
                    path: path_shown.clone(),
                    error: ReadError::Io(error),
                }),
            }
            if found.is_empty() {
                errors.push(InputError::NoDesigns { dir: path_shown });
            }
            found.sort_by(|a, b| a.shown.cmp(&b.shown));
            found
        } else {
            // A file named explicitly is checked whatever its extension, and
            // through a symbolic link wherever it leads: it was asked for.
            vec![Candidate {
                real: path.clone(),
                shown: path.clone(),
                problem: None,
            }]
        };
        for candidate in candidates {
            let path = shown(&candidate.shown);
            if !keep(&candidate.real, &path) {
                continue;
            }
            if let Some(problem) = candidate.problem {
                errors.push(match problem {
                    Problem::Outside(dir) => InputError::LinkOutside { path, dir },
                    Problem::Dangling => InputError::Dangling { path },
                    Problem::Io(error) => InputError::Read {
                        path,
                        error: ReadError::Io(error),
                    },
                });
                continue;
            }
            let resolved = match fs::canonicalize(&candidate.real) {
                Ok(resolved) => resolved,
                Err(error) => {
                    errors.push(InputError::Read {
                        path,
                        error: ReadError::Io(error),
                    });
                    continue;
                }
            };
            // The same file named twice (or named and found in a directory,
            // or found both as itself and through a link) is read once.
            if !seen.insert(resolved.clone()) {
                continue;
            }
            match read_regular_file(&resolved) {
                Ok(bytes) => {
                    let origin = Origin {
                        path: candidate.real,
                        resolved,
                    };
                    add_text(path, Some(origin), bytes, &mut inputs, &mut errors);
                }
                Err(error) => errors.push(InputError::Read { path, error }),
            }
        }
    }
    (inputs, errors)
}

fn add_text(
    path: String,
    origin: Option<Origin>,
    bytes: Vec<u8>,
    inputs: &mut Vec<Input>,
    errors: &mut Vec<InputError>,
) {
    match String::from_utf8(bytes) {
        Ok(text) => inputs.push(Input {
            shown: path,
            text,
            origin,
        }),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // `valid` is UTF-8 by definition, so the lossy conversion is exact.
            let valid = String::from_utf8_lossy(valid);
            let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
            errors.push(InputError::NotUtf8 {
                path,
                line: valid.matches('\n').count() + 1,
                column: valid[line_start..].chars().count() + 1,
            });
        }
    }
}

/// The search of one directory given on the command line.
struct Walk<'a> {
    /// The directory, with every link resolved: links found below it are
    /// followed only when they lead to a file inside it.
    root: &'a Path,
    /// The directory as given, for messages.
    dir_shown: &'a str,
}

impl Walk<'_> {
    /// Collects every `*.np` file under `dir`. Hidden directories and
    /// `target` are skipped: they hold tool state and build output, not
    /// designs. Symbolic links to directories are not followed, which rules
    /// out cycles. A `*.np` link is followed when it leads to a file inside
    /// the directory being checked; one that leads outside it, or nowhere,
    /// is reported, never read. A `*.np` entry that is not a regular file (a
    /// FIFO, a device) is reported when it is read, and never opened.
    fn find(
        &self,
        dir: &Path,
        shown_dir: &Path,
        found: &mut Vec<Candidate>,
        errors: &mut Vec<InputError>,
    ) {
        let entries = match fs::read_dir(dir).and_then(|rd| rd.collect::<io::Result<Vec<_>>>()) {
            Ok(entries) => entries,
            Err(error) => {
                errors.push(InputError::Read {
                    path: shown(shown_dir),
                    error: ReadError::Io(error),
                });
                return;
            }
        };
        for entry in entries {
            let name = entry.file_name();
            let path = entry.path();
            let shown_path = shown_dir.join(&name);
            let file_type = match entry.file_type() {
                Ok(t) => t,
                Err(error) => {
                    errors.push(InputError::Read {
                        path: shown(&shown_path),
                        error: ReadError::Io(error),
                    });
                    continue;
                }
            };
            if file_type.is_dir() {
                let skipped = name.as_encoded_bytes().starts_with(b".") || name == "target";
                if !skipped {
                    self.find(&path, &shown_path, found, errors);
                }
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "np") {
                continue;
            }
            let mut problem = None;
            if file_type.is_symlink() {
                match fs::canonicalize(&path) {
                    Ok(target) if !target.starts_with(self.root) => {
                        problem = Some(Problem::Outside(self.dir_shown.to_string()));
                    }
                    // A link to a directory is not followed, like any other.
                    Ok(target) if target.is_dir() => continue,
                    Ok(_) => {}
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {
                        problem = Some(Problem::Dangling);
                    }
                    Err(error) => problem = Some(Problem::Io(error)),
                }
            }
            found.push(Candidate {
                real: path,
                shown: shown_path,
                problem,
            });
        }
    }
}
