//! The events file (`SQREEN_EVENTS_PATH`): JSON lines appended by the pipeline's own thread,
//! following log rotation.
//!
//! logrotate (and its kin) renames the file away, or deletes it, and expects the writer to
//! start a new file at the path. So before each batch the writer compares the file the path
//! names now with the one it holds (one `stat`, device and inode on Unix; elsewhere only "the
//! path is gone" is seen) and reopens the path when they differ: the batches before go to the
//! old file, the ones after to the new. A file truncated in place (`copytruncate`) needs
//! nothing: writes append at its new end. This runs on the pipeline's thread only, never on the
//! request path, and never panics; a reopen that fails keeps the old file and is retried at the
//! next batch.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The events file being appended to.
pub(crate) struct EventsFile {
    path: PathBuf,
    writer: BufWriter<File>,
    /// The identity of the file held, when the platform tells it.
    held: Option<Identity>,
    /// The last reopen failed (logged once until one succeeds).
    reopen_failing: bool,
}

/// What tells two files apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Identity {
    device: u64,
    inode: u64,
}

impl Identity {
    #[cfg(unix)]
    fn of(meta: &Metadata) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt;
        Some(Identity {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }

    #[cfg(not(unix))]
    fn of(_meta: &Metadata) -> Option<Identity> {
        None
    }
}

impl EventsFile {
    /// Opens (or creates) `path` for appending; the error names `SQREEN_EVENTS_PATH`.
    pub(crate) fn open(path: &Path) -> Result<EventsFile> {
        let (writer, held) = open_append(path).map_err(|e| {
            Error::config(
                "SQREEN_EVENTS_PATH",
                path.display().to_string(),
                format!("cannot open for appending: {e}"),
            )
        })?;
        Ok(EventsFile {
            path: path.to_owned(),
            writer,
            held,
            reopen_failing: false,
        })
    }

    /// Where the next lines go.
    pub(crate) fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.writer
    }

    /// Writes out what is buffered.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Reopens the path when it no longer names the file held (renamed away or deleted).
    /// Returns false when a reopen was needed and failed (the old file is kept).
    pub(crate) fn follow_rotation(&mut self) -> bool {
        if !self.rotated() {
            return true;
        }
        // whatever is still buffered belongs to the old file
        let _ = self.writer.flush();
        match open_append(&self.path) {
            Ok((writer, held)) => {
                self.writer = writer;
                self.held = held;
                self.reopen_failing = false;
                tracing::debug!(target: "sqreen", path = %self.path.display(), "events file rotated: writing to a new file at the path");
                true
            }
            Err(e) => {
                if !std::mem::replace(&mut self.reopen_failing, true) {
                    tracing::error!(target: "sqreen", path = %self.path.display(), error = %e, "the events file was rotated and cannot be reopened (SQREEN_EVENTS_PATH): still writing to the old file, retried at each batch");
                }
                false
            }
        }
    }

    /// True when the path is gone or names another file than the one held.
    fn rotated(&self) -> bool {
        match std::fs::metadata(&self.path) {
            Ok(meta) => match (self.held, Identity::of(&meta)) {
                (Some(held), Some(now)) => held != now,
                _ => false,
            },
            Err(e) => e.kind() == io::ErrorKind::NotFound,
        }
    }
}

/// `path` opened for appending (created if missing), and the identity of what was opened.
fn open_append(path: &Path) -> io::Result<(BufWriter<File>, Option<Identity>)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let held = file.metadata().ok().as_ref().and_then(Identity::of);
    Ok((BufWriter::new(file), held))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(file: &mut EventsFile, line: &str) {
        assert!(file.follow_rotation());
        writeln!(file.writer(), "{line}").unwrap();
        file.flush().unwrap();
    }

    #[test]
    fn a_file_renamed_away_keeps_the_lines_before_and_a_new_one_gets_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let moved = dir.path().join("events.jsonl.1");
        let mut file = EventsFile::open(&path).unwrap();
        append(&mut file, "a");
        std::fs::rename(&path, &moved).unwrap();
        append(&mut file, "b");
        assert_eq!(std::fs::read_to_string(&moved).unwrap(), "a\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b\n");
    }

    #[test]
    fn a_deleted_file_is_created_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut file = EventsFile::open(&path).unwrap();
        append(&mut file, "a");
        std::fs::remove_file(&path).unwrap();
        append(&mut file, "b");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b\n");
    }

    #[test]
    fn a_file_truncated_in_place_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut file = EventsFile::open(&path).unwrap();
        append(&mut file, "a");
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        append(&mut file, "b");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b\n");
    }

    #[test]
    fn a_reopen_that_fails_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("logs");
        std::fs::create_dir(&sub).unwrap();
        let path = sub.join("events.jsonl");
        let mut file = EventsFile::open(&path).unwrap();
        // the directory goes away with the file: nothing can be created at the path
        std::fs::rename(&sub, dir.path().join("logs.old")).unwrap();
        assert!(!file.follow_rotation());
        writeln!(file.writer(), "kept").unwrap();
        file.flush().unwrap();
        let old = dir.path().join("logs.old").join("events.jsonl");
        assert_eq!(std::fs::read_to_string(old).unwrap(), "kept\n");
    }
}
