//! Reading the files the tool is given, with the size limit enforced while reading.
//!
//! Every file nats-doctor opens goes through here: manifests, compose and env files,
//! `--env-file`, credentials, keys and certificates, resolv.conf. A size taken from
//! metadata is only a hint: `/dev/zero`, `/dev/urandom`, a FIFO or a file that grows
//! while it is read report no size or a wrong one, so the limit is the number of bytes
//! actually read. A file named explicitly is read whatever it is (a FIFO or a process
//! substitution such as `<(helm template …)` works, within the limit); a directory walk
//! reads regular files only ([`FileKind`]).

use std::io::Read;
use std::path::Path;

/// The largest input read, in bytes.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("larger than the {} MiB input limit; not read", limit / (1024 * 1024))]
    TooLarge { limit: u64 },
    #[error("a directory, not a file")]
    Directory,
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ReadError> for std::io::Error {
    /// For callers that report I/O errors: the limit becomes an error of kind
    /// `FileTooLarge`, with the same message.
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Io(io) => io,
            ReadError::TooLarge { .. } => {
                std::io::Error::new(std::io::ErrorKind::FileTooLarge, error.to_string())
            }
            ReadError::Directory => {
                std::io::Error::new(std::io::ErrorKind::IsADirectory, error.to_string())
            }
        }
    }
}

/// A path as it is shown: as `Path::display` writes it, without going through the
/// formatter for a path that is valid UTF-8 (every walked file gets its name this way,
/// and `display` looks for invalid sequences a chunk at a time).
pub fn display_name(path: &Path) -> String {
    path.to_str()
        .map_or_else(|| path.display().to_string(), str::to_owned)
}

/// Reads at most `limit` bytes of `path`; more is [`ReadError::TooLarge`].
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(ReadError::Directory);
    }
    // A regular file announces its size: one that is over the limit is not read at all.
    let hint = if metadata.is_file() {
        if metadata.len() > limit {
            return Err(ReadError::TooLarge { limit });
        }
        metadata.len()
    } else {
        0
    };
    read_stream(file, limit, hint)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read(path, limit)?;
    String::from_utf8(bytes).map_err(|error| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                error.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// Reads at most `limit` bytes from `reader` (standard input, an opened file).
/// `size_hint` reserves room up front when the size is known.
pub fn read_stream(reader: impl Read, limit: u64, size_hint: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::with_capacity(usize::try_from(size_hint.min(limit)).unwrap_or(0));
    let read = reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if read as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// What a path is, following symbolic links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Regular,
    Directory,
    /// A FIFO, a socket, a character or block device: nothing a walk should open.
    Special(&'static str),
    /// A dangling symbolic link, or a path that cannot be examined.
    Missing,
}

/// What `path` is, following symbolic links.
pub fn kind(path: &Path) -> FileKind {
    match std::fs::metadata(path) {
        Ok(metadata) => kind_of(&metadata.file_type()),
        Err(_) => FileKind::Missing,
    }
}

/// The kind of a file type (of a followed link, or of a directory entry).
pub fn kind_of(file_type: &std::fs::FileType) -> FileKind {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_file() {
        FileKind::Regular
    } else if file_type.is_dir() {
        FileKind::Directory
    } else if file_type.is_fifo() {
        FileKind::Special("FIFO")
    } else if file_type.is_char_device() {
        FileKind::Special("character device")
    } else if file_type.is_block_device() {
        FileKind::Special("block device")
    } else if file_type.is_socket() {
        FileKind::Special("socket")
    } else {
        FileKind::Special("special file")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn display_names_are_what_display_writes() {
        use std::os::unix::ffi::OsStrExt;
        for bytes in [
            &b"k8s/app.yaml"[..],
            b"caf\xc3\xa9.yaml",
            b"bad\xff\xfe.yaml",
            b"",
        ] {
            let path = Path::new(std::ffi::OsStr::from_bytes(bytes));
            assert_eq!(display_name(path), path.display().to_string());
        }
    }

    #[test]
    fn device_files_stop_at_the_limit() {
        let started = std::time::Instant::now();
        let error = read(Path::new("/dev/zero"), 1024).expect_err("/dev/zero is endless");
        assert!(
            matches!(error, ReadError::TooLarge { limit: 1024 }),
            "{error}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(
            kind(Path::new("/dev/zero")),
            FileKind::Special("character device")
        );
    }

    #[test]
    fn regular_files_are_read_whole_up_to_the_limit() {
        let mut file = tempfile::NamedTempFile::new().expect("temporary file");
        file.write_all(b"0123456789").expect("write");
        assert_eq!(read(file.path(), 10).expect("at the limit"), b"0123456789");
        assert!(matches!(
            read(file.path(), 9),
            Err(ReadError::TooLarge { limit: 9 })
        ));
        assert_eq!(kind(file.path()), FileKind::Regular);
        assert!(matches!(
            read(file.path().parent().expect("dir"), 9),
            Err(ReadError::Directory)
        ));
    }

    #[test]
    fn text_must_be_utf8() {
        let mut file = tempfile::NamedTempFile::new().expect("temporary file");
        file.write_all(b"ok\xff").expect("write");
        let error = read_to_string(file.path(), 100).expect_err("not UTF-8");
        assert!(error.to_string().contains("offset 2"), "{error}");
    }
}
