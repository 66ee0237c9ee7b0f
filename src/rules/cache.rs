//! The disk cache of the rules URL (`SQREEN_RULES_CACHE_PATH`): the last good document, kept so
//! that an agent starting while the URL is down still enforces the rules it last had.
//!
//! The file is a small JSON envelope that holds the document **as the exact bytes received**
//! (a JSON string), because the signature is over those bytes and re-serialising would break it:
//!
//! ```json
//! {"format": 1, "url": "https://rules.example.com/sqreen.json", "fetched_at": "2026-11-23T16:00:00.000Z",
//!  "etag": "\"v7\"", "signature": "sha256=9f86d0...", "document": "{\"version\": \"v7\", ...}"}
//! ```
//!
//! Writes are atomic (a temporary file in the same directory, synced, then renamed over the
//! cache), so a crash mid-write leaves the previous cache whole. Reading re-checks everything a
//! fetched document must pass: when `SQREEN_RULES_SECRET` is set the stored signature must match
//! the stored document (a file edited by hand, or written under another secret, is refused), and
//! the document must be valid. This module does the file work only; the poller decides when to
//! write and the builder when to read, and neither runs on the request path.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{remote, RulesDocument, MAX_DOCUMENT_BYTES};

/// The envelope's `format`.
const FORMAT: u32 = 1;

/// The largest cache file read: a document at the size limit, with room for JSON escapes.
const MAX_CACHE_BYTES: u64 = 2 * MAX_DOCUMENT_BYTES as u64 + 64 * 1024;

/// The cached copy of a document from the rules URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CacheEntry {
    /// The URL it came from, without its query (for logs).
    pub(crate) url: String,
    /// When it was fetched, RFC 3339.
    pub(crate) fetched_at: String,
    /// Its `ETag`, sent back as `If-None-Match` after a cold start.
    pub(crate) etag: Option<String>,
    /// The signature header it came with (`sha256=<hex>`), if any.
    pub(crate) signature: Option<String>,
    /// The document, byte for byte as received.
    pub(crate) document: String,
}

/// What the file holds: the entry and the envelope's version. Unknown fields are ignored, so a
/// later version may add some.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    #[serde(flatten)]
    entry: CacheEntry,
}

/// Writes `entry` to `path` atomically: a temporary file beside it, synced, then renamed over it.
/// On Unix the file is readable by its owner only. The directory must exist.
pub(crate) fn write(path: &Path, entry: &CacheEntry) -> std::io::Result<()> {
    let file = CacheFile {
        format: FORMAT,
        entry: entry.clone(),
    };
    let json = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
    let tmp = temporary_path(path)?;
    let written = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `.<name>.<random>.tmp` in the cache's directory: the same file system, so the rename is atomic,
/// and a name no other writer (another agent in this process or another) picks.
fn temporary_path(path: &Path) -> std::io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the cache path names no file",
        )
    })?;
    let tmp = format!(
        ".{}.{:016x}.tmp",
        name.to_string_lossy(),
        rand::random::<u64>()
    );
    Ok(match path.parent() {
        Some(dir) => dir.join(tmp),
        None => PathBuf::from(tmp),
    })
}

/// Reads the cache at `path`: `Ok(None)` when there is none, `Err(reason)` when there is one
/// that must not be used (unreadable, not a cache file, unsigned or badly signed while `secret`
/// is set, or an invalid document).
pub(crate) fn read(
    path: &Path,
    secret: Option<&[u8]>,
) -> Result<Option<(CacheEntry, RulesDocument)>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read: {e}")),
    };
    let mut bytes = Vec::new();
    file.take(MAX_CACHE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_CACHE_BYTES {
        return Err("is too large to be a rules cache".to_owned());
    }
    let file: CacheFile = serde_json::from_slice(&bytes)
        .map_err(|e| format!("is not a sqreen rules cache file: {e}"))?;
    if file.format != FORMAT {
        return Err(format!(
            "has format {} (this version of sqreen reads format {FORMAT})",
            file.format
        ));
    }
    let entry = file.entry;
    if let Some(secret) = secret {
        match &entry.signature {
            None => {
                return Err("holds an unsigned document and SQREEN_RULES_SECRET is set".to_owned())
            }
            Some(sig) if !remote::verify(entry.document.as_bytes(), secret, sig) => {
                return Err("holds a document whose signature does not match \
                     SQREEN_RULES_SECRET (the file was changed, or the secret was)"
                    .to_owned())
            }
            Some(_) => {}
        }
    }
    let doc = RulesDocument::parse(&entry.document)
        .map_err(|e| format!("holds an invalid document: {e}"))?;
    Ok(Some((entry, doc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(document: &str, signature: Option<String>) -> CacheEntry {
        CacheEntry {
            url: "http://127.0.0.1:9/rules.json".to_owned(),
            fetched_at: "2026-11-23T16:00:00.000Z".to_owned(),
            etag: Some("\"v1\"".to_owned()),
            signature,
            document: document.to_owned(),
        }
    }

    #[test]
    fn round_trips_the_exact_bytes_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.cache.json");
        // odd spacing and escapes: the stored bytes must be the received ones
        let doc = "{ \"version\" :\"v1\",\n\t\"user_denylist\": [\"é\\u00e9\"] }";
        let e = entry(doc, Some(remote::sign(doc.as_bytes(), b"k")));
        write(&path, &e).unwrap();
        write(&path, &e).unwrap(); // replacing an existing cache works too
        let (read_back, parsed) = read(&path, Some(b"k")).unwrap().unwrap();
        assert_eq!(read_back, e);
        assert_eq!(parsed.version.as_deref(), Some("v1"));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the cache file: {names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_missing_cache_is_none_and_a_bad_one_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.cache.json");
        assert_eq!(read(&path, None), Ok(None));

        std::fs::write(&path, "not json").unwrap();
        assert!(read(&path, None)
            .unwrap_err()
            .contains("not a sqreen rules cache"));

        let doc = r#"{"version": "v1"}"#;
        write(&path, &entry(doc, None)).unwrap();
        assert!(read(&path, None).unwrap().is_some(), "no secret: no check");
        assert!(read(&path, Some(b"k")).unwrap_err().contains("unsigned"));

        write(&path, &entry(doc, Some(remote::sign(doc.as_bytes(), b"k")))).unwrap();
        assert!(read(&path, Some(b"other"))
            .unwrap_err()
            .contains("does not match"));
        let tampered = std::fs::read_to_string(&path).unwrap().replace("v1", "v2");
        std::fs::write(&path, tampered).unwrap();
        assert!(read(&path, Some(b"k"))
            .unwrap_err()
            .contains("does not match"));

        let bad = r#"{"ip_denylist": ["nope"]}"#;
        write(&path, &entry(bad, None)).unwrap();
        let err = read(&path, None).unwrap_err();
        assert!(err.contains("ip_denylist[0]"), "{err}");

        let future = serde_json::json!({"format": 2, "url": "", "fetched_at": "", "etag": null,
            "signature": null, "document": "{}"});
        std::fs::write(&path, future.to_string()).unwrap();
        assert!(read(&path, None).unwrap_err().contains("format 2"));
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("rules.cache.json");
        assert!(write(&path, &entry("{}", None)).is_err());
    }
}
