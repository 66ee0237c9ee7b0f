//! Where the development corpus is. It is third-party data (OWASP CRS requests, libinjection,
//! BLNS, FuzzDB; sources and licences in its own README) and is read where it lies, beside the
//! project in `../shared/corpus/`, never copied into it. `SQREEN_CORPUS_DIR` names another
//! place.
//!
//! Without it, the tests that need it print one line saying they were skipped and where the
//! corpus was expected, and pass; under `CI=true` a missing corpus fails them instead.
//! Shared by the unit tests, the integration tests and the benches (`#[path]` includes).
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

/// The variable that names the corpus directory.
pub const DIR_VAR: &str = "SQREEN_CORPUS_DIR";

/// The words every skip line starts with (the tests look for them).
pub const SKIPPED: &str = "corpus tests skipped";

/// The corpus directory: `$SQREEN_CORPUS_DIR`, else `../shared/corpus` from the project root.
pub fn expected_dir() -> PathBuf {
    match std::env::var_os(DIR_VAR) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

/// Whether this run is CI's (`CI` set to anything but empty, `0` or `false`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// The corpus directory if it holds the corpus. Otherwise prints one line naming `what` was
/// skipped and where the corpus is expected, and returns `None`; under CI it panics with that
/// line.
pub fn dir(what: &str) -> Option<PathBuf> {
    let dir = expected_dir();
    if dir.join("values.jsonl").is_file() {
        return Some(dir);
    }
    let line = format!(
        "{SKIPPED} ({what}): no corpus at {} (set {DIR_VAR} to its directory)",
        dir.display()
    );
    assert!(!in_ci(), "{line}; under CI the corpus is required");
    eprintln!("{line}");
    None
}

/// The text of a corpus file (`values.jsonl`, `lists/restricted-files.txt`, ...), or `None` as
/// for [`dir`].
pub fn read(file: &str, what: &str) -> Option<String> {
    let path = dir(what)?.join(file);
    Some(
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("corpus file {}: {e}", path.display())),
    )
}
