//! `netproof.toml`: which rules run, at what severity, which files are left
//! out, and when a run fails. See `docs/configuration.md`.
//!
//! A configuration applies to the files below its directory. Each checked
//! file uses the nearest `netproof.toml` in its directory or an ancestor
//! ([`config_for`], or a [`Resolver`] that caches the search per directory);
//! `check --config PATH` uses one file for everything. Everything in a
//! configuration is validated when it is read: an unknown key, an unknown
//! code, a prefix that matches no rule, a bad severity or glob is a
//! [`ConfigError`] naming the file, the key and the line and column.

use crate::diagnostic::{Diagnostic, Severity};
use crate::registry::{Code, RULES};
use crate::suppress::ALWAYS_REPORTED;
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// The name of the file discovery looks for.
pub const FILE_NAME: &str = "netproof.toml";

/// The file as written; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    select: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// A validated configuration, ready to apply.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from; `None` for the built-in defaults.
    pub path: Option<PathBuf>,
    /// The directory `exclude` patterns are relative to.
    pub root: PathBuf,
    /// Whether each rule is reported, indexed by `Code as usize`.
    enabled: Vec<bool>,
    /// The severity each rule is reported with when it is not its default.
    severity: HashMap<Code, Severity>,
    /// `fail-on`, when the file says it.
    pub fail_on: Option<Severity>,
    exclude: GlobSet,
    exclude_patterns: Vec<String>,
}

impl Default for Config {
    /// Every rule at its default severity, nothing excluded: what a file
    /// without any `netproof.toml` gets.
    fn default() -> Config {
        Config {
            path: None,
            root: PathBuf::new(),
            enabled: vec![true; RULES.len()],
            severity: HashMap::new(),
            fail_on: None,
            exclude: GlobSet::empty(),
            exclude_patterns: Vec::new(),
        }
    }
}

impl Config {
    /// Reads and validates the configuration file at `path`. It must be a
    /// regular file (a link to one is followed: this is for a file the user
    /// named, or one discovery has already vetted).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let unreadable = |message: String| ConfigError {
            path: path.to_path_buf(),
            message,
            span: None,
            text: String::new(),
            help: None,
        };
        let bytes = crate::files::read_regular_file(path)
            .map_err(|e| unreadable(format!("cannot read it: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| unreadable("cannot read it: it is not UTF-8 text".to_string()))?;
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Config::parse(path, &root, &text)
    }

    /// Validates the text of a configuration file. `path` is only used in
    /// messages; `root` is the directory `exclude` patterns are relative to.
    pub fn parse(path: &Path, root: &Path, text: &str) -> Result<Config, ConfigError> {
        let error =
            |span: Option<Range<usize>>, message: String, help: Option<String>| ConfigError {
                path: path.to_path_buf(),
                message,
                span,
                text: text.to_string(),
                help,
            };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            // serde speaks of fields; the file has keys.
            let message = e
                .message()
                .trim_end()
                .replace("unknown field", "unknown key");
            let help = (message.contains("unknown key") && !message.contains("expected")).then(|| {
                "the keys are `select`, `ignore`, `fail-on`, `exclude` and the `[severity]` table"
                    .to_string()
            });
            error(e.span(), message, help)
        })?;

        let mut config = Config {
            path: Some(path.to_path_buf()),
            root: root.to_path_buf(),
            ..Config::default()
        };

        if let Some(select) = &raw.select {
            config.enabled = vec![false; RULES.len()];
            for pattern in select {
                for code in matching(pattern, "select", &error)? {
                    config.enabled[code as usize] = true;
                }
            }
            // The front-end errors are reported whatever `select` lists: a
            // file that does not parse or resolve must never pass silently.
            for &code in ALWAYS_REPORTED {
                config.enabled[code as usize] = true;
            }
        }
        for pattern in &raw.ignore {
            let codes = matching(pattern, "ignore", &error)?;
            if let Some(code) = codes.iter().find(|c| ALWAYS_REPORTED.contains(c)) {
                return Err(error(
                    Some(pattern.span()),
                    format!(
                        "`ignore` cannot include {code} ({}): the front-end errors NP001-NP006 \
                         mean the design was not fully analysed, so they are always reported",
                        crate::registry::meta(*code).name
                    ),
                    Some(
                        "name the codes to ignore more precisely (`NP007` rather than `NP0`)"
                            .to_string(),
                    ),
                ));
            }
            for code in codes {
                config.enabled[code as usize] = false;
            }
        }

        if let Some(fail_on) = &raw.fail_on {
            config.fail_on = Some(severity(fail_on, "fail-on", &error)?);
        }

        // A more specific key wins: `NP3 = "error"` with `NP306 = "info"`
        // makes every NP3xx an error except NP306.
        let mut overrides: Vec<(&Spanned<String>, &Spanned<String>)> =
            raw.severity.iter().collect();
        overrides.sort_by_key(|(k, _)| (k.get_ref().len(), k.get_ref().to_ascii_uppercase()));
        for (key, value) in overrides {
            let level = severity(value, &format!("severity.{}", key.get_ref()), &error)?;
            for code in matching(key, "[severity]", &error)? {
                if ALWAYS_REPORTED.contains(&code) && level != Severity::Error {
                    return Err(error(
                        Some(value.span()),
                        format!(
                            "{code} ({}) cannot be lowered to {level}: the front-end errors \
                             NP001-NP006 mean the design was not fully analysed, so they are \
                             always errors",
                            crate::registry::meta(code).name
                        ),
                        Some("remove this override, or narrow its key".to_string()),
                    ));
                }
                if level == crate::registry::meta(code).severity {
                    config.severity.remove(&code);
                } else {
                    config.severity.insert(code, level);
                }
            }
        }

        let mut globs = GlobSetBuilder::new();
        for pattern in &raw.exclude {
            let glob = glob(pattern.get_ref()).map_err(|e| {
                error(
                    Some(pattern.span()),
                    format!("invalid `exclude` pattern `{}`: {}", pattern.get_ref(), e.kind()),
                    Some("patterns are globs relative to this file's directory, such as `generated/**` or `legacy/*.np`".to_string()),
                )
            })?;
            globs.add(glob);
            config.exclude_patterns.push(pattern.get_ref().clone());
        }
        config.exclude = globs
            .build()
            .map_err(|e| error(None, format!("invalid `exclude` patterns: {e}"), None))?;
        Ok(config)
    }

    /// Whether findings of `code` are reported.
    pub fn is_enabled(&self, code: Code) -> bool {
        self.enabled.get(code as usize).copied().unwrap_or(true)
    }

    /// The severity `code` is reported with under this configuration.
    pub fn severity_of(&self, code: Code) -> Severity {
        self.severity
            .get(&code)
            .copied()
            .unwrap_or(crate::registry::meta(code).severity)
    }

    /// The `exclude` patterns as written.
    pub fn exclude_patterns(&self) -> &[String] {
        &self.exclude_patterns
    }

    /// Whether `path` (as given on the command line, or absolute) is
    /// excluded. Patterns match the path relative to the configuration's
    /// directory, or any directory on the way to it, so `generated` and
    /// `generated/**` both exclude everything below `generated/`. A file
    /// outside that directory is never excluded.
    pub fn is_excluded(&self, path: &Path) -> bool {
        self.excluded_by(path).is_some()
    }

    /// The `exclude` pattern (as written) that excludes `path`, if one does
    /// (see [`Config::is_excluded`]); for `--verbose`.
    pub fn excluded_by(&self, path: &Path) -> Option<&str> {
        if self.exclude_patterns.is_empty() {
            return None;
        }
        let file = absolute(path)?;
        let root = absolute(&self.root)?;
        let relative = file.strip_prefix(&root).ok()?;
        relative
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .find_map(|p| self.exclude.matches(p).first().copied())
            .and_then(|i| self.exclude_patterns.get(i))
            .map(String::as_str)
    }

    /// Applies the configuration to one file's findings: drops the rules it
    /// does not select (or ignores) and sets the severity it overrides.
    pub fn apply(&self, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.retain(|d| self.is_enabled(d.code));
        for d in diagnostics.iter_mut() {
            if let Some(&level) = self.severity.get(&d.code) {
                d.severity_override = Some(level);
            }
        }
    }
}

/// `*` and `?` stay within one directory, as in `.gitignore`; `**` crosses
/// them.
fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern.trim_end_matches('/'))
        .literal_separator(true)
        .build()
}

/// The rules a code or prefix names (any case), or an error naming it.
fn matching<E>(
    pattern: &Spanned<String>,
    key: &str,
    error: &impl Fn(Option<Range<usize>>, String, Option<String>) -> E,
) -> Result<Vec<Code>, E> {
    let upper = pattern.get_ref().trim().to_ascii_uppercase();
    let codes: Vec<Code> = RULES
        .iter()
        .filter(|r| !upper.is_empty() && r.code.as_str().starts_with(&upper))
        .map(|r| r.code)
        .collect();
    if codes.is_empty() {
        let help = match crate::suppress::closest_code(&upper) {
            Some(code) => format!("did you mean {code}? `netproof rules` lists every code"),
            None => "`netproof rules` lists every code".to_string(),
        };
        return Err(error(
            Some(pattern.span()),
            format!(
                "unknown rule code or prefix `{}` in `{key}`: no rule's code starts with it",
                pattern.get_ref()
            ),
            Some(help),
        ));
    }
    Ok(codes)
}

fn severity<E>(
    value: &Spanned<String>,
    key: &str,
    error: &impl Fn(Option<Range<usize>>, String, Option<String>) -> E,
) -> Result<Severity, E> {
    match value.get_ref().as_str() {
        "error" => Ok(Severity::Error),
        "warning" => Ok(Severity::Warning),
        "info" => Ok(Severity::Info),
        other => Err(error(
            Some(value.span()),
            format!("invalid severity `{other}` for `{key}`"),
            Some("a severity is `error`, `warning` or `info`".to_string()),
        )),
    }
}

/// A configuration file that could not be used. It is a usage error: the
/// run stops before anything is checked.
#[derive(Clone, Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
    /// Where in the file, as a byte range, when the error has a place.
    pub span: Option<Range<usize>>,
    /// The file's text, for showing the place.
    pub text: String,
    pub help: Option<String>,
}

impl ConfigError {
    /// The 1-based line and column (in characters) where the error is.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let start = self.span.as_ref()?.start.min(self.text.len());
        let before = self.text.get(..start)?;
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Some((line, before[line_start..].chars().count() + 1))
    }

    /// The error with the offending line and a caret under its place, for
    /// standard error.
    pub fn render(&self) -> String {
        let mut out = format!("error: {self}\n");
        if let (Some((line, column)), Some(span)) = (self.line_col(), &self.span) {
            let source_line = self.text.lines().nth(line - 1).unwrap_or("");
            // A control character would drive the terminal: show it escaped,
            // as the human output does (the caret then marks the escaped
            // text's start, near enough).
            let source_line = crate::render::visible(source_line, usize::MAX);
            let width = span.end.saturating_sub(span.start).clamp(
                1,
                source_line
                    .chars()
                    .count()
                    .saturating_sub(column - 1)
                    .max(1),
            );
            let gutter = " ".repeat(line.to_string().len());
            out.push_str(&format!(
                "{gutter} |\n{line} | {source_line}\n{gutter} | {}{}\n",
                " ".repeat(column - 1),
                "^".repeat(width)
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  help: {help}\n"));
        }
        out
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration `{}`",
            crate::files::shown(&self.path)
        )?;
        if let Some((line, column)) = self.line_col() {
            write!(f, " at line {line}, column {column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The nearest `netproof.toml` for the file at `path`: in its directory or
/// the closest ancestor, read and validated. `Ok(None)` when there is none.
/// This is the lookup a language server makes for each open document; the
/// command line uses a [`Resolver`], which caches it.
pub fn config_for(path: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
    Resolver::discover().for_file(path)
}

/// How a run finds each file's configuration.
#[derive(Debug)]
pub struct Resolver {
    mode: Mode,
    /// Directory (absolute) -> the configuration that governs it.
    cache: HashMap<PathBuf, Option<Arc<Config>>>,
}

#[derive(Debug)]
enum Mode {
    Discover,
    Fixed(Arc<Config>),
    Disabled,
}

impl Resolver {
    /// The nearest `netproof.toml` for each file.
    pub fn discover() -> Resolver {
        Resolver {
            mode: Mode::Discover,
            cache: HashMap::new(),
        }
    }

    /// One configuration for every file (`--config PATH`).
    pub fn fixed(config: Config) -> Resolver {
        Resolver {
            mode: Mode::Fixed(Arc::new(config)),
            cache: HashMap::new(),
        }
    }

    /// No configuration at all (`--no-config`).
    pub fn disabled() -> Resolver {
        Resolver {
            mode: Mode::Disabled,
            cache: HashMap::new(),
        }
    }

    /// The configuration for the file at `path` (absolute, or relative to
    /// the current directory). For standard input, pass the current
    /// directory joined with any name.
    pub fn for_file(&mut self, path: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        match &self.mode {
            Mode::Disabled => Ok(None),
            Mode::Fixed(config) => Ok(Some(config.clone())),
            Mode::Discover => {
                let dir = absolute(path)
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .unwrap_or_default();
                self.for_dir(&dir)
            }
        }
    }

    fn for_dir(&mut self, dir: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        if let Some(found) = self.cache.get(dir) {
            return Ok(found.clone());
        }
        let candidate = dir.join(FILE_NAME);
        // Messages show the file as the user would type it: relative to the
        // current directory when it is below it.
        let cwd = std::env::current_dir().unwrap_or_default();
        let shown = match candidate.strip_prefix(&cwd) {
            Ok(relative) if !relative.as_os_str().is_empty() => relative.to_path_buf(),
            _ => candidate.clone(),
        };
        let refused = |message: String, help: &str| ConfigError {
            path: shown.clone(),
            message,
            span: None,
            text: String::new(),
            help: Some(help.to_string()),
        };
        // Discovery reads only a regular file that is really there: a link
        // could lead anywhere (and an invalid configuration is quoted in the
        // error), and something else under this name is a mistake to
        // report, not a file to pass over.
        let found = match std::fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(refused(
                    "it is a symbolic link, and netproof does not follow links when it looks \
                     for its configuration"
                        .to_string(),
                    "replace the link with a copy of the file, or name the file with --config",
                ))
            }
            Ok(m) if m.is_file() => Some(Arc::new(Config::load(&shown)?)),
            Ok(m) => {
                return Err(refused(
                    format!(
                        "it is {}, not a regular file",
                        crate::files::read::describe(m.file_type())
                    ),
                    "remove or rename it, or use --config or --no-config",
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match dir.parent() {
                Some(parent) => self.for_dir(parent)?,
                None => None,
            },
            Err(e) => {
                return Err(refused(
                    format!("cannot read it: {e}"),
                    "use --config or --no-config",
                ))
            }
        };
        self.cache.insert(dir.to_path_buf(), found.clone());
        Ok(found)
    }
}

/// `path` made absolute against the current directory, with `.` and `..`
/// resolved lexically (symbolic links are not followed: a pattern should
/// match the path as the user wrote it).
fn absolute(path: &Path) -> Option<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("dir/netproof.toml"), Path::new("/project"), text)
    }

    fn err(text: &str) -> ConfigError {
        match parse(text) {
            Ok(_) => panic!("expected an error for {text:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn an_empty_file_changes_nothing() {
        let c = parse("").map_err(|e| e.to_string());
        let c = c.as_ref().map_err(String::as_str);
        assert!(c.is_ok(), "{c:?}");
        if let Ok(c) = c {
            assert!(RULES.iter().all(|r| c.is_enabled(r.code)));
            assert!(RULES.iter().all(|r| c.severity_of(r.code) == r.severity));
            assert_eq!(c.fail_on, None);
        }
    }

    #[test]
    fn unknown_key_names_the_key_file_and_place() {
        let e = err("select = [\"NP2\"]\nselcet = [\"NP3\"]\n");
        let shown = e.to_string();
        assert!(shown.contains("`selcet`"), "{shown}");
        assert!(shown.contains("dir/netproof.toml"), "{shown}");
        assert_eq!(e.line_col(), Some((2, 1)));
        let rendered = e.render();
        assert!(rendered.contains("2 | selcet = [\"NP3\"]"), "{rendered}");
        assert!(rendered.contains("  | ^^^^^^\n"), "{rendered}");
        // An unknown table is an unknown key too.
        let e = err("[severty]\nNP302 = \"error\"\n");
        assert!(e.to_string().contains("`severty`"), "{e}");
    }

    #[test]
    fn unknown_code_and_empty_prefix_are_errors_with_a_suggestion() {
        let e = err("ignore = [\"NP3066\"]\n");
        assert!(e.message.contains("`NP3066`"), "{e}");
        assert_eq!(e.line_col(), Some((1, 11)));
        assert!(
            e.help.as_deref().is_some_and(|h| h.contains("NP306")),
            "{e:?}"
        );
        let e = err("select = [\"NP8\"]\n");
        assert!(
            e.message.contains("`NP8`") && e.message.contains("`select`"),
            "{e}"
        );
        let e = err("[severity]\nNP999 = \"error\"\n");
        assert!(e.message.contains("`NP999`"), "{e}");
        assert_eq!(e.line_col(), Some((2, 1)));
    }

    #[test]
    fn bad_severities_are_errors() {
        let e = err("[severity]\nNP302 = \"fatal\"\n");
        assert!(e.message.contains("invalid severity `fatal`"), "{e}");
        assert!(e.message.contains("severity.NP302"), "{e}");
        let e = err("fail-on = \"warn\"\n");
        assert!(
            e.message.contains("`warn`") && e.message.contains("fail-on"),
            "{e}"
        );
        // A value of the wrong type is reported by the reader, in place.
        let e = err("fail-on = 3\n");
        assert_eq!(e.line_col(), Some((1, 11)));
    }

    #[test]
    fn bad_glob_is_an_error() {
        let e = err("exclude = [\"gen/[a-\"]\n");
        assert!(
            e.message.contains("invalid `exclude` pattern `gen/[a-`"),
            "{e}"
        );
    }

    #[test]
    fn front_end_errors_cannot_be_ignored_or_lowered() {
        let e = err("ignore = [\"NP0\"]\n");
        assert!(e.message.contains("cannot include NP001"), "{e}");
        let e = err("[severity]\nNP004 = \"warning\"\n");
        assert!(
            e.message
                .contains("NP004 (invalid-address) cannot be lowered"),
            "{e}"
        );
        // Raising is allowed (they are errors already), and `select` never
        // drops them.
        let c = parse("select = [\"NP9\"]\n[severity]\nNP001 = \"error\"\n");
        assert!(c.as_ref().is_ok_and(|c| c.is_enabled(Code::NP001)
            && c.is_enabled(Code::NP006)
            && c.is_enabled(Code::NP901)
            && !c.is_enabled(Code::NP007)
            && !c.is_enabled(Code::NP302)));
    }

    #[test]
    fn select_and_ignore_take_codes_and_prefixes_in_any_case() {
        let c = parse("select = [\"np2\", \"NP30\"]\nignore = [\"NP205\", \"np306\"]\n");
        let Ok(c) = c else { panic!("valid") };
        assert!(c.is_enabled(Code::NP201) && c.is_enabled(Code::NP208));
        assert!(!c.is_enabled(Code::NP205));
        assert!(c.is_enabled(Code::NP301) && !c.is_enabled(Code::NP306));
        assert!(!c.is_enabled(Code::NP101) && !c.is_enabled(Code::NP901));
        // Without `select` every rule is selected; `ignore` still applies.
        let Ok(c) = parse("ignore = [\"NP3\"]\n") else {
            panic!("valid")
        };
        assert!(c.is_enabled(Code::NP101) && !c.is_enabled(Code::NP302));
    }

    #[test]
    fn the_more_specific_severity_key_wins() {
        let Ok(c) = parse("[severity]\nNP306 = \"warning\"\nNP3 = \"error\"\nNP205 = \"info\"\n")
        else {
            panic!("valid")
        };
        assert_eq!(c.severity_of(Code::NP302), Severity::Error);
        assert_eq!(c.severity_of(Code::NP306), Severity::Warning);
        assert_eq!(c.severity_of(Code::NP205), Severity::Info);
        assert_eq!(c.severity_of(Code::NP204), Severity::Warning);
    }

    #[test]
    fn apply_filters_and_overrides() {
        let Ok(c) = parse("ignore = [\"NP205\"]\n[severity]\nNP302 = \"error\"\n") else {
            panic!("valid")
        };
        let span = crate::span::Span::new(0, 1);
        let mut ds = vec![
            Diagnostic::new(Code::NP205, "a", span, "a"),
            Diagnostic::new(Code::NP302, "b", span, "b"),
            Diagnostic::new(Code::NP204, "c", span, "c"),
        ];
        c.apply(&mut ds);
        let got: Vec<(Code, Severity)> = ds.iter().map(|d| (d.code, d.severity())).collect();
        assert_eq!(
            got,
            [
                (Code::NP302, Severity::Error),
                (Code::NP204, Severity::Warning)
            ]
        );
    }

    #[test]
    fn excludes_match_relative_paths_and_their_directories() {
        let Ok(c) = parse("exclude = [\"generated\", \"legacy/*.np\", \"**/*.draft.np\"]\n") else {
            panic!("valid")
        };
        assert!(c.is_excluded(Path::new("/project/generated/a.np")));
        assert!(c.is_excluded(Path::new("/project/generated/deep/b.np")));
        assert!(c.is_excluded(Path::new("/project/legacy/old.np")));
        // `*` does not cross a directory.
        assert!(!c.is_excluded(Path::new("/project/legacy/sub/old.np")));
        assert!(c.is_excluded(Path::new("/project/x/y/z.draft.np")));
        assert!(!c.is_excluded(Path::new("/project/main.np")));
        assert!(c.is_excluded(Path::new("/project/main/../generated/a.np")));
        // Outside the configuration's directory nothing is excluded.
        assert!(!c.is_excluded(Path::new("/elsewhere/generated/a.np")));
    }
}
