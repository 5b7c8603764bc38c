//! Bounded reads of regular files and of standard input.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Inputs larger than this are refused: spans are 32-bit, and a design (or
/// a configuration) this large is certainly a mistake: a binary file, a
/// log, a device.
pub const MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// Not a regular file: what it is instead ("a FIFO", "a directory", ...).
    NotRegular(&'static str),
    TooLarge,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(error) => match error.kind() {
                io::ErrorKind::NotFound => write!(f, "no such file or directory"),
                io::ErrorKind::PermissionDenied => write!(f, "permission denied"),
                _ => write!(f, "{error}"),
            },
            ReadError::NotRegular(what) => write!(
                f,
                "it is {what}, not a regular file; netproof reads regular files only"
            ),
            ReadError::TooLarge => write!(
                f,
                "it is larger than {} MiB, the most netproof reads",
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> ReadError {
        ReadError::Io(error)
    }
}

/// What a file that is not a regular file is, in words.
pub fn describe(file_type: fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a file"
    }
}

/// Reads the regular file at `path` (following symbolic links), at most
/// [`MAX_INPUT_BYTES`] of it.
///
/// The type is checked before opening, so a FIFO is never opened (opening
/// one for reading waits for a writer) and a device is never read (a read
/// of `/dev/zero` never ends). The file is opened without blocking and
/// checked again through the open handle, so a file swapped for a FIFO in
/// between is refused too.
pub fn read_regular_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let before = fs::metadata(path)?;
    if !before.is_file() {
        return Err(ReadError::NotRegular(describe(before.file_type())));
    }
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > MAX_INPUT_BYTES as u64 {
        return Err(ReadError::TooLarge);
    }
    // Sized for the whole file (and the byte that shows it did not grow):
    // grown by doubling, the buffer of an 87 MB design was 134 MB, and the
    // text is kept for the whole check.
    read_into(file, MAX_INPUT_BYTES, Vec::with_capacity(len as usize + 1))
}

/// Reads `reader` to its end, refusing (without reading further) once more
/// than [`MAX_INPUT_BYTES`] have come: a file can grow while it is read, and
/// standard input can be endless.
pub fn read_bounded(reader: impl Read) -> Result<Vec<u8>, ReadError> {
    read_at_most(reader, MAX_INPUT_BYTES)
}

fn read_at_most(reader: impl Read, limit: usize) -> Result<Vec<u8>, ReadError> {
    read_into(reader, limit, Vec::new())
}

/// [`read_at_most`] into `bytes`, an empty buffer (possibly with room).
fn read_into(reader: impl Read, limit: usize, mut bytes: Vec<u8>) -> Result<Vec<u8>, ReadError> {
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// Opens `path` for reading, without blocking (a FIFO would wait for a
/// writer), and keeps it only if the open handle is a regular file.
pub(crate) fn open_regular(path: &Path) -> Result<File, ReadError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(ReadError::NotRegular(describe(metadata.file_type())));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_without_reading() {
        // `/dev/zero` would be read without end.
        let error = read_regular_file(Path::new("/dev/zero")).err();
        assert!(matches!(
            error,
            Some(ReadError::NotRegular("a character device"))
        ));
        let error = read_regular_file(Path::new("/")).err();
        assert!(matches!(error, Some(ReadError::NotRegular("a directory"))));
    }

    #[test]
    fn an_endless_reader_is_cut_at_the_limit() {
        let error = read_at_most(io::repeat(b'x'), 1000).err();
        assert!(matches!(error, Some(ReadError::TooLarge)));
        let bytes = read_bounded(&b"vpc a 10.0.0.0/16 {}\n"[..]).ok();
        assert_eq!(bytes.as_deref(), Some(&b"vpc a 10.0.0.0/16 {}\n"[..]));
    }

    /// A file is read whole into a buffer of its size (the text is kept
    /// for the whole check, so room grown by doubling would be kept too).
    #[test]
    fn a_file_is_read_whole_into_a_buffer_of_its_size() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("big.np");
        let text: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        fs::write(&path, &text).expect("written");
        let bytes = read_regular_file(&path).expect("read");
        assert_eq!(bytes, text);
        assert!(bytes.capacity() <= text.len() + 1, "{}", bytes.capacity());
    }
}
