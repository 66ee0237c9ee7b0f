//! Files: a path about to be opened is checked against the request's inputs (path traversal,
//! local file inclusion), and the checked `open`/`read`/`read_to_string` wrappers.
//!
//! An input occurring in the path is an exploit when it
//! - makes the path absolute: the path starts with the input, and the input starts with `/`
//!   (or, on Windows, `\` or a drive such as `C:`): what `Path::join` does with an absolute
//!   name, it replaces the directory the app meant;
//! - climbs out of the directory the app wrote: walking the path's segments, the app's own
//!   segments before the input set a depth, and a `..` of the input takes the walk above it.
//!   `a/../b` stays inside; `img_..` is a name (the input starts inside a segment), not a
//!   climb.
//!
//! Values are compared as the app received them (decoded once): `%2e%2e%2f` sent is `../`
//! here, and `%252e` sent is the literal name `%2e`, which climbs nowhere.

use std::ops::Range;
use std::path::Path;

/// The first input that makes `path` absolute or climbs out of the app's directory.
pub(crate) fn find<'a>(
    path: &str,
    inputs: impl IntoIterator<Item = &'a str>,
) -> Option<(usize, Range<usize>)> {
    for (i, input) in inputs.into_iter().enumerate() {
        if input.len() < 2 && !is_separator(input.as_bytes().first().copied().unwrap_or(b'x')) {
            continue; // one character climbs nowhere, unless it makes the path absolute
        }
        for s in memchr::memmem::find_iter(path.as_bytes(), input.as_bytes()) {
            let e = s + input.len();
            if s == 0 && is_absolute(input) {
                return Some((i, s..e));
            }
            if climbs(path, s, e) {
                return Some((i, s..e));
            }
        }
    }
    None
}

fn is_separator(b: u8) -> bool {
    b == b'/' || (cfg!(windows) && b == b'\\')
}

fn is_absolute(input: &str) -> bool {
    let b = input.as_bytes();
    if b.first().copied().is_some_and(is_separator) {
        return true;
    }
    cfg!(windows) && b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Whether the part `[s, e)` of `path` takes it above the directory its own segments before
/// `s` name.
fn climbs(path: &str, s: usize, e: usize) -> bool {
    let mut depth: isize = 0;
    let mut base: Option<isize> = None;
    let mut start = 0;
    let bytes = path.as_bytes();
    let mut i = 0;
    while i <= bytes.len() {
        if i == bytes.len() || is_separator(bytes[i]) {
            let segment = &path[start..i];
            // the app's segments end before the input starts; the base is their depth
            if i >= s && base.is_none() {
                // a segment the input begins in the middle of is the app's name with the
                // input's text appended: it counts as the app's
                base = Some(if start < s && !segment.is_empty() {
                    depth + 1
                } else {
                    depth
                });
            }
            match segment {
                "" | "." => {}
                ".." => depth -= 1,
                _ => depth += 1,
            }
            if let Some(b) = base {
                if start < e && depth < b {
                    return true;
                }
                if start >= e {
                    return false;
                }
            }
            start = i + 1;
        }
        i += 1;
    }
    false
}

/// `std::fs::read_to_string`, after [`super::check_path`].
pub fn read_to_string(path: impl AsRef<Path>) -> std::io::Result<String> {
    super::check_path(path.as_ref()).map_err(std::io::Error::other)?;
    std::fs::read_to_string(path)
}

/// `std::fs::read`, after [`super::check_path`].
pub fn read(path: impl AsRef<Path>) -> std::io::Result<Vec<u8>> {
    super::check_path(path.as_ref()).map_err(std::io::Error::other)?;
    std::fs::read(path)
}

/// `std::fs::File::open`, after [`super::check_path`].
pub fn open(path: impl AsRef<Path>) -> std::io::Result<std::fs::File> {
    super::check_path(path.as_ref()).map_err(std::io::Error::other)?;
    std::fs::File::open(path)
}

/// `tokio::fs::read_to_string`, after [`super::check_path`] (run where the request's context
/// is: the check reads it from the task).
pub async fn read_to_string_async(path: impl AsRef<Path>) -> std::io::Result<String> {
    super::check_path(path.as_ref()).map_err(std::io::Error::other)?;
    tokio::fs::read_to_string(path).await
}

/// `tokio::fs::read`, after [`super::check_path`].
pub async fn read_async(path: impl AsRef<Path>) -> std::io::Result<Vec<u8>> {
    super::check_path(path.as_ref()).map_err(std::io::Error::other)?;
    tokio::fs::read(path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(path: &str, input: &str) -> bool {
        find(path, [input]).is_some()
    }

    #[test]
    fn climbing_out_or_going_absolute_is_found() {
        assert!(hit("files/../../etc/passwd", "../../etc/passwd"));
        assert!(hit("files/../secret.txt", "../secret.txt"));
        assert!(hit("files/a/../../etc/passwd", "a/../../etc/passwd"));
        assert!(hit(
            "files/docs/../../../etc/passwd.txt",
            "docs/../../../etc/passwd"
        ));
        assert!(
            hit("/etc/passwd", "/etc/passwd"),
            "Path::join with an absolute name"
        );
        assert!(hit(
            "/var/app/files/../../../etc/passwd",
            "../../../etc/passwd"
        ));
        assert!(hit("files/..", ".."));
    }

    #[test]
    fn staying_inside_is_not() {
        assert!(!hit("files/readme.txt", "readme.txt"));
        assert!(!hit("files/a/../b.txt", "a/../b.txt"));
        assert!(!hit("files/img_../x", "../x"), "img_.. is a name");
        assert!(
            !hit("files/%2e%2e/x", "%2e%2e/x"),
            "decoded once: a literal name"
        );
        assert!(
            !hit("files//etc/passwd", "/etc/passwd"),
            "not at the start: stays inside"
        );
        assert!(!hit("files/readme.txt", "e"), "short inputs inside names");
        assert!(!hit("files/readme.txt", "nowhere"));
        // the app's own `..` before the input is the app's business
        assert!(!hit("files/../shared/readme.txt", "readme.txt"));
        // an input that climbs only back to where it started
        assert!(!hit("files/sub/../readme.txt", "sub/../readme.txt"));
    }
}
