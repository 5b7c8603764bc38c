//! Writing a design back: atomically, only over what was read, and only to
//! the file that was read.

use super::read::{open_regular, read_bounded, ReadError};
use super::Origin;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Why a design was not written. In every case the file on disk is exactly
/// as it was.
#[derive(Debug)]
pub enum WriteError {
    /// The file no longer holds what netproof read: someone saved it in
    /// the meantime, and writing would lose their edit.
    Changed,
    /// The path now leads to another file (a link was changed, the file
    /// was moved): writing would change a file that was never checked.
    Moved,
    /// The file has no write permission. netproof does not rewrite it even
    /// where it could (as root, or by renaming over it in a writable
    /// directory): read-only says "leave me alone".
    ReadOnly,
    /// The file has other names (hard links): replacing it would leave them
    /// with the old text.
    HardLinked(u64),
    /// The file is gone or is no longer a regular file.
    Read(ReadError),
    Io(io::Error),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Changed => write!(
                f,
                "it changed after netproof read it, so it was left as it is (run netproof again)"
            ),
            WriteError::Moved => write!(
                f,
                "the path leads to a different file than the one netproof read, so it was left \
                 as it is"
            ),
            WriteError::ReadOnly => write!(f, "it is read-only"),
            WriteError::HardLinked(links) => write!(
                f,
                "it has {links} hard links, and replacing it would leave the other names with \
                 the old text (apply the change through an editor, or break the link)"
            ),
            WriteError::Read(error) => write!(f, "{error}"),
            WriteError::Io(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<io::Error> for WriteError {
    fn from(error: io::Error) -> WriteError {
        WriteError::Io(error)
    }
}

impl From<ReadError> for WriteError {
    fn from(error: ReadError) -> WriteError {
        WriteError::Read(error)
    }
}

/// Replaces the design read from `origin`, which held `original`, with
/// `new`.
///
/// The new text goes to a temporary file in the same directory, which is
/// synced and then renamed over the file, so at every instant the file
/// holds either all of the old text or all of the new one: a full disk, a
/// crash or `kill -9` cannot leave it cut off or empty. The temporary file
/// takes the original's permissions (and its owner, where allowed). A
/// symbolic link is written through: the file it leads to is replaced and
/// the link stays a link. Nothing is written when the file no longer holds
/// `original` (an edit saved meanwhile), when the path no longer leads to
/// the file that was read, when the file is read-only, or when it has other
/// names (hard links), which a rename would leave behind with the old text.
pub fn write_design(origin: &Origin, original: &[u8], new: &[u8]) -> Result<(), WriteError> {
    write_design_with(origin, original, new, write_all)
}

/// [`write_design`] with the step that fills the temporary file given, so
/// tests can make it fail like a full disk does.
pub(crate) fn write_design_with(
    origin: &Origin,
    original: &[u8],
    new: &[u8],
    fill: impl FnOnce(&mut File, &[u8]) -> io::Result<()>,
) -> Result<(), WriteError> {
    let target = &origin.resolved;
    if fs::canonicalize(&origin.path)? != *target {
        return Err(WriteError::Moved);
    }
    let metadata = fs::metadata(target)?;
    if !metadata.is_file() {
        return Err(WriteError::Read(ReadError::NotRegular(
            super::read::describe(metadata.file_type()),
        )));
    }
    if metadata.permissions().readonly() {
        return Err(WriteError::ReadOnly);
    }
    {
        use std::os::unix::fs::MetadataExt;
        if metadata.nlink() > 1 {
            return Err(WriteError::HardLinked(metadata.nlink()));
        }
    }
    // Renaming needs only a writable directory, so ask the file itself
    // whether this user may write it (opening for writing changes nothing).
    fs::OpenOptions::new().write(true).open(target)?;

    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Hidden and not `*.np`, so a leftover (after `kill -9`) is never taken
    // for a design.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".netproof-tmp")
        .tempfile_in(dir)?;
    fill(temp.as_file_mut(), new)?;
    temp.as_file().set_permissions(metadata.permissions())?;
    {
        use std::os::unix::fs::MetadataExt;
        // Only root (or the owner, for the group) may do this; anyone else
        // gets a file they own, which is what any editor's save gives too.
        let _ =
            std::os::unix::fs::fchown(temp.as_file(), Some(metadata.uid()), Some(metadata.gid()));
    }
    temp.as_file().sync_all()?;

    // The last look before the rename, to keep the window in which an
    // edit saved by someone else could be lost as short as possible.
    if read_bounded(open_regular(target)?)? != original {
        return Err(WriteError::Changed);
    }
    temp.persist(target).map_err(|e| WriteError::Io(e.error))?;
    // The rename is durable once the directory is synced. The new text is
    // in place whether or not this succeeds, so a failure is not reported.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Fills the temporary file.
///
/// `NETPROOF_TEST_STALL_WRITE=SECONDS` is a fault-injection hook for the
/// tests: it makes netproof write half of the text, sync it, and stop for
/// that long (at most a minute), so a test can kill the process in the
/// middle of a write, or save an edit meanwhile, and see what happens to
/// the design. It changes nothing else.
fn write_all(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    let mut rest = bytes;
    let stall = std::env::var("NETPROOF_TEST_STALL_WRITE")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    if let Some(seconds) = stall {
        let (first, second) = bytes.split_at(bytes.len() / 2);
        file.write_all(first)?;
        file.sync_all()?;
        std::thread::sleep(std::time::Duration::from_secs(seconds.min(60)));
        rest = second;
    }
    file.write_all(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn origin(path: &Path) -> Origin {
        Origin {
            path: path.to_path_buf(),
            resolved: fs::canonicalize(path).expect("the test file exists"),
        }
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = fs::read_dir(dir)
            .expect("read the test directory")
            .map(|e| PathBuf::from(e.expect("an entry").file_name()))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_file_and_keeps_its_permissions() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("a.np");
        fs::write(&path, "old\r\n").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        write_design(&origin(&path), b"old\r\n", b"new\r\n").expect("written");
        assert_eq!(fs::read(&path).expect("read"), b"new\r\n");
        let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(entries(dir.path()), [PathBuf::from("a.np")]);
    }

    #[test]
    fn a_full_disk_leaves_the_original_whole_and_no_temporary_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("a.np");
        fs::write(&path, "the original design\n").expect("write");
        let full = |file: &mut File, bytes: &[u8]| {
            file.write_all(&bytes[..bytes.len() / 2])?;
            Err(io::Error::from_raw_os_error(libc::ENOSPC))
        };
        let result = write_design_with(
            &origin(&path),
            b"the original design\n",
            b"a much longer replacement design\n",
            full,
        );
        assert!(
            matches!(&result, Err(WriteError::Io(e)) if e.raw_os_error() == Some(libc::ENOSPC)),
            "{result:?}"
        );
        assert_eq!(fs::read(&path).expect("read"), b"the original design\n");
        assert_eq!(entries(dir.path()), [PathBuf::from("a.np")]);
    }

    #[test]
    fn an_edit_saved_meanwhile_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("a.np");
        fs::write(&path, "as read\n").expect("write");
        let from = origin(&path);
        fs::write(&path, "saved by someone else\n").expect("write");
        let result = write_design(&from, b"as read\n", b"fixed\n");
        assert!(matches!(result, Err(WriteError::Changed)), "{result:?}");
        assert_eq!(fs::read(&path).expect("read"), b"saved by someone else\n");
        assert_eq!(entries(dir.path()), [PathBuf::from("a.np")]);
    }

    #[test]
    fn a_read_only_file_is_not_rewritten_even_by_root() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("a.np");
        fs::write(&path, "x\n").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).expect("chmod");
        let result = write_design(&origin(&path), b"x\n", b"y\n");
        assert!(matches!(result, Err(WriteError::ReadOnly)), "{result:?}");
        assert_eq!(fs::read(&path).expect("read"), b"x\n");
    }

    #[test]
    fn a_hard_linked_file_is_not_split_from_its_other_names() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("a.np");
        fs::write(&path, "x\n").expect("write");
        fs::hard_link(&path, dir.path().join("b.np")).expect("link");
        let result = write_design(&origin(&path), b"x\n", b"y\n");
        assert!(
            matches!(result, Err(WriteError::HardLinked(2))),
            "{result:?}"
        );
        assert_eq!(fs::read(dir.path().join("b.np")).expect("read"), b"x\n");
        assert_eq!(fs::read(&path).expect("read"), b"x\n");
    }

    #[test]
    fn a_link_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let target = dir.path().join("real.np");
        let link = dir.path().join("link.np");
        fs::write(&target, "x\n").expect("write");
        std::os::unix::fs::symlink("real.np", &link).expect("symlink");
        write_design(&origin(&link), b"x\n", b"y\n").expect("written");
        assert!(fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).expect("read"), b"y\n");
    }

    #[test]
    fn a_link_pointed_elsewhere_after_reading_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (a, b) = (dir.path().join("a.np"), dir.path().join("b.np"));
        let link = dir.path().join("link.np");
        fs::write(&a, "x\n").expect("write");
        fs::write(&b, "x\n").expect("write");
        std::os::unix::fs::symlink("a.np", &link).expect("symlink");
        let from = origin(&link);
        fs::remove_file(&link).expect("unlink");
        std::os::unix::fs::symlink("b.np", &link).expect("symlink");
        let result = write_design(&from, b"x\n", b"y\n");
        assert!(matches!(result, Err(WriteError::Moved)), "{result:?}");
        assert_eq!(fs::read(&a).expect("read"), b"x\n");
        assert_eq!(fs::read(&b).expect("read"), b"x\n");
    }
}
