//! Reading designs and configuration files, and writing designs back.
//!
//! Every byte netproof reads from a file and every byte it writes to one
//! goes through this module, so the guarantees of `docs/reliability.md` hold
//! in one place:
//!
//! - [`read`]: only regular files are read (a FIFO, a device or a directory
//!   is refused, never waited on or read without end), and at most
//!   [`MAX_INPUT_BYTES`]; standard input is bounded the same way.
//! - [`collect`]: designs are found under directories without following
//!   symbolic links out of the directory being checked, file names that are
//!   not UTF-8 are kept as they are (shown escaped, never replaced by a
//!   lossy look-alike), and every file that cannot be checked is reported.
//! - [`write`]: a design is rewritten by writing a temporary file beside
//!   it, syncing it, and renaming it over the original, only when the file
//!   still holds exactly what was read, keeping its permissions and writing
//!   through a symbolic link to its target rather than replacing the link.

pub mod collect;
pub mod read;
pub mod write;

pub use collect::{collect_inputs, collect_inputs_where, Collected, InputError, STDIN_PATH};
pub use read::{read_bounded, read_regular_file, ReadError, MAX_INPUT_BYTES};
pub use write::{write_design, WriteError};

use std::path::{Path, PathBuf};

/// Where a design was read from, kept so it can be written back to the same
/// file and nowhere else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The path as given or found (relative or absolute, any bytes).
    pub path: PathBuf,
    /// The file itself: `path` with every symbolic link resolved, as it was
    /// when the design was read. A write goes here, and is refused if the
    /// path no longer leads here.
    pub resolved: PathBuf,
}

/// How a path is shown in messages and reports.
///
/// A path that is UTF-8 without control characters is shown as it is. Any
/// other (bytes that are not UTF-8, an escape sequence that would drive the
/// terminal) is shown quoted with Rust's escapes, e.g. `"bad\xFF.np"`, which
/// loses nothing. The two forms never collide, because a path shown as it
/// is never starts with a quote: so two different files are never shown
/// under one name, and a report's path identifies its file.
pub fn shown(path: &Path) -> String {
    match path.to_str() {
        Some(s) if !s.starts_with('"') && !s.chars().any(char::is_control) => s.to_string(),
        _ => format!("{:?}", path.as_os_str()),
    }
}

/// The path a [`shown`] string stands for: the inverse of `shown`, for
/// emitters that must name the file itself (SARIF's URIs percent-encode its
/// bytes). A string `shown` could not have made is taken as a plain path.
pub fn path_of_shown(text: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let quoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|_| text.len() >= 2);
    let Some(inner) = quoted else {
        return PathBuf::from(text);
    };
    match unescape(inner) {
        Some(bytes) => PathBuf::from(std::ffi::OsString::from_vec(bytes)),
        None => PathBuf::from(text),
    }
}

/// Undoes the escapes of `OsStr`'s `Debug` form (`\xFF`, `\u{1b}`, `\n`,
/// `\"` ...).
fn unescape(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let byte = |c: char| -> Option<u8> { u8::try_from(u32::from(c)).ok() };
        match chars.next()? {
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).ok()?);
            }
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let c = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            '0' => out.push(0),
            c @ ('\\' | '"' | '\'') => out.push(byte(c)?),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn plain_paths_are_shown_as_they_are() {
        assert_eq!(shown(Path::new("designs/a b.np")), "designs/a b.np");
        assert_eq!(shown(Path::new("dir\\x.np")), "dir\\x.np");
    }

    #[test]
    fn non_utf8_and_control_characters_are_escaped_without_loss() {
        let bad = Path::new(OsStr::from_bytes(b"bad\xff.np"));
        let lossy = Path::new("bad\u{fffd}.np");
        assert_eq!(shown(bad), "\"bad\\xFF.np\"");
        assert_ne!(shown(bad), shown(lossy));
        assert_eq!(shown(Path::new("a\u{1b}[31m.np")), "\"a\\u{1b}[31m.np\"");
    }

    #[test]
    fn shown_paths_lead_back_to_their_files() {
        let names: [&[u8]; 7] = [
            b"designs/a b.np",
            b"bad\xff.np",
            b"x\x1b[31m\n\t\r\0.np",
            b"\"quoted\".np",
            b"back\\slash\\xFF.np",
            "caf\u{e9}\u{202e}.np".as_bytes(),
            b"\"",
        ];
        for name in names {
            let path = Path::new(OsStr::from_bytes(name));
            assert_eq!(path_of_shown(&shown(path)), path, "{}", shown(path));
        }
    }

    proptest::proptest! {
        /// Any name at all (any bytes but `/` and NUL) is shown without
        /// control characters and leads back to itself.
        #[test]
        fn any_name_round_trips(name in proptest::collection::vec(1u8..=255, 0..40)) {
            let name: Vec<u8> = name.into_iter().filter(|&b| b != b'/').collect();
            let path = Path::new(OsStr::from_bytes(&name));
            let text = shown(path);
            proptest::prop_assert!(!text.chars().any(char::is_control));
            proptest::prop_assert_eq!(path_of_shown(&text), path);
        }
    }

    #[test]
    fn the_two_forms_never_collide() {
        // A plain name that looks like an escaped one is escaped itself.
        let looks_escaped = Path::new("\"bad\\xFF.np\"");
        let bad = Path::new(OsStr::from_bytes(b"bad\xff.np"));
        assert_ne!(shown(looks_escaped), shown(bad));
    }
}
