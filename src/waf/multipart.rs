//! `multipart/form-data` bodies (RFC 7578: HTML forms with file uploads) for the WAF.
//!
//! Each part's field name, its file name when it is a file, and the content of the parts that
//! are not files (text fields) are handed to the scan: `body.comment` for a text field's value,
//! `body.avatar@filename` for an uploaded file's name (also read as a file name: a server
//! script's extension, `shell.php`, is an upload of code). File contents are not inspected: they
//! are images, archives and documents whose bytes mean nothing to the detectors, and their names
//! carry what attacks upload (`../../etc/passwd`, `shell.php`). This is what the OWASP CRS
//! inspects too (`ARGS` and `FILES`).
//!
//! One forward pass with `memmem` for the boundary, linear in the body. Tolerant: a body cut at
//! `SQREEN_MAX_BODY_BYTES` gives its last part as far as it goes; a body that is not multipart
//! at all (no boundary in the `Content-Type`, or no delimiter in the body) is inspected raw, as
//! one value named `body`, so nothing hides behind a bad header.

use std::borrow::Cow;

use memchr::memmem;

use super::inputs::{cut, Name, MAX_NAME_KEY};
use super::{Scan, Source, Stop};

/// Longest boundary RFC 2046 allows.
const MAX_BOUNDARY: usize = 70;

/// The boundary named by a `Content-Type: multipart/form-data; boundary=...` value.
pub(crate) fn boundary(content_type: &str) -> Option<&str> {
    let value = content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then_some(value.trim())
    })?;
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    (!value.is_empty() && value.len() <= MAX_BOUNDARY).then_some(value)
}

/// One part of a multipart body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    /// The field name (`Content-Disposition: form-data; name="..."`), empty when missing.
    pub(crate) name: Cow<'a, str>,
    /// The file name, for a file.
    pub(crate) filename: Option<Cow<'a, str>>,
    /// The content (up to where the body was cut).
    pub(crate) content: &'a [u8],
}

/// The parts of `body`, split at `--boundary` lines; `None` when the body has no delimiter.
pub(crate) fn parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("--{boundary}");
    let finder = memmem::Finder::new(delimiter.as_bytes());
    let first = finder.find(body)?;
    let mut at = first + delimiter.len();
    let mut parts = Vec::new();
    loop {
        // after a delimiter: `--` closes the body; else the rest of the line is padding
        if body.get(at..at + 2) == Some(b"--") {
            break;
        }
        let Some(eol) = memchr::memchr(b'\n', &body[at..]) else {
            break;
        };
        let start = at + eol + 1;
        // the part runs to the next delimiter, which starts a line: CRLF (or LF) before it
        let (end, next) = match finder.find(&body[start..]) {
            Some(p) => (start + p, Some(start + p + delimiter.len())),
            None => (body.len(), None),
        };
        let raw = &body[start..end];
        let raw = raw
            .strip_suffix(b"\r\n")
            .or_else(|| raw.strip_suffix(b"\n"))
            .unwrap_or(raw);
        parts.push(part(raw));
        match next {
            Some(n) => at = n,
            None => break,
        }
    }
    Some(parts)
}

/// One part's headers and content (the content starts after the first empty line; a part cut
/// before it has headers only).
fn part(raw: &[u8]) -> Part<'_> {
    let (headers, content) = match memmem::find(raw, b"\r\n\r\n") {
        Some(p) => (&raw[..p], &raw[p + 4..]),
        None => match memmem::find(raw, b"\n\n") {
            Some(p) => (&raw[..p], &raw[p + 2..]),
            None => (raw, &raw[raw.len()..]),
        },
    };
    let mut name = Cow::Borrowed("");
    let mut filename = None;
    for line in headers.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line.trim_ascii());
        let Some((header, value)) = line.split_once(':') else {
            continue;
        };
        if !header.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        for (key, v) in disposition_params(value) {
            if key.eq_ignore_ascii_case("name") {
                name = Cow::Owned(v);
            } else if key.eq_ignore_ascii_case("filename") {
                filename = Some(Cow::Owned(v));
            }
        }
    }
    Part {
        name,
        filename,
        content,
    }
}

/// The `key=value` parameters of a `Content-Disposition` value (`form-data; name="a";
/// filename="b.txt"`), quoted values unquoted. A backslash is kept as it is: browsers do not
/// escape with it (they write a quote in a name as `%22`, HTML's form encoding), and Windows
/// paths (`..\..\boot.ini`) must reach the detectors whole.
fn disposition_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(semi) = rest.find(';') {
        rest = &rest[semi + 1..];
        let Some(eq) = rest.find('=') else {
            break;
        };
        let key = rest[..eq].trim().to_owned();
        let after = rest[eq + 1..].trim_start();
        let (v, next) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            }
        };
        out.push((key, v.to_owned()));
        rest = next;
    }
    out
}

/// Scans a multipart body (see the module docs); `content_type` is the request's header value.
pub(crate) fn scan_multipart(
    scan: &mut Scan<'_>,
    content_type: &str,
    body: &[u8],
) -> Result<(), Stop> {
    let Some(parts) = boundary(content_type).and_then(|b| parts(body, b)) else {
        let raw = String::from_utf8_lossy(body);
        return scan.value(Source::Body, &Name::Raw("body"), &raw);
    };
    for part in parts {
        let field = format!("body.{}", cut(&part.name, MAX_NAME_KEY));
        scan.value(Source::Body, &Name::Raw(&field), &part.name)?;
        match &part.filename {
            Some(filename) => {
                let name = format!("{field}@filename");
                scan.value(Source::Upload, &Name::Raw(&name), filename)?;
            }
            None => {
                let content = String::from_utf8_lossy(part.content);
                scan.value(Source::Body, &Name::Raw(&field), &content)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::waf::{AttackCategory, Scan};

    const CT: &str = "multipart/form-data; boundary=----WebKitFormBoundaryABC";

    fn body(parts: &[&str]) -> String {
        let mut b = String::new();
        for p in parts {
            b.push_str("------WebKitFormBoundaryABC\r\n");
            b.push_str(p);
            b.push_str("\r\n");
        }
        b.push_str("------WebKitFormBoundaryABC--\r\n");
        b
    }

    fn hits(content_type: &str, body: &str) -> Vec<(AttackCategory, String)> {
        let mut scan = Scan::new(&[], false, Duration::from_secs(10), Duration::ZERO);
        scan_multipart(&mut scan, content_type, body.as_bytes()).unwrap();
        scan.hits
            .into_iter()
            .map(|h| (h.category, h.input))
            .collect()
    }

    #[test]
    fn boundaries_are_read_from_the_content_type() {
        assert_eq!(boundary(CT), Some("----WebKitFormBoundaryABC"));
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; BOUNDARY=\"a b\""),
            Some("a b")
        );
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("multipart/form-data; boundary="), None);
        let long = format!("multipart/form-data; boundary={}", "x".repeat(71));
        assert_eq!(boundary(&long), None);
    }

    #[test]
    fn parts_give_names_file_names_and_contents() {
        let b = body(&[
            "Content-Disposition: form-data; name=\"title\"\r\n\r\nHello, world",
            "Content-Disposition: form-data; name=\"file\"; filename=\"..\\a;b.txt\"\r\n\
             Content-Type: text/plain\r\n\r\nline 1\r\nline 2",
            "content-disposition: form-data; name=plain\r\n\r\n",
        ]);
        let parts = parts(b.as_bytes(), "----WebKitFormBoundaryABC").unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name, "title");
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[0].content, b"Hello, world");
        assert_eq!(parts[1].filename.as_deref(), Some("..\\a;b.txt"));
        assert_eq!(parts[1].content, b"line 1\r\nline 2");
        assert_eq!(parts[2].name, "plain");
        assert_eq!(parts[2].content, b"");
        // a body cut inside its last part keeps what was read
        let cut = &b.as_bytes()[..b.find("line 2").unwrap() + 4];
        let parts = super::parts(cut, "----WebKitFormBoundaryABC").unwrap();
        assert_eq!(parts[1].content, b"line 1\r\nline");
        assert_eq!(super::parts(b"no delimiter here", "x"), None);
    }

    #[test]
    fn file_names_and_text_fields_are_inspected_file_contents_are_not() {
        let b = body(&[
            "Content-Disposition: form-data; name=\"upload\"; filename=\"../../etc/passwd\"\r\n\r\nBINARY",
            "Content-Disposition: form-data; name=\"q\"\r\n\r\n1' OR '1'='1",
        ]);
        assert_eq!(
            hits(CT, &b),
            [
                (AttackCategory::Lfi, "body.upload@filename".to_owned()),
                (AttackCategory::Sqli, "body.q".to_owned()),
            ]
        );
        // an attack-looking file content is not reported: it is the file's own business
        let b = body(&[
            "Content-Disposition: form-data; name=\"doc\"; filename=\"notes.txt\"\r\n\r\n' OR 1=1 --",
        ]);
        assert_eq!(hits(CT, &b), []);
        // benign uploads and fields
        let b = body(&[
            "Content-Disposition: form-data; name=\"avatar\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n\u{89}PNG",
            "Content-Disposition: form-data; name=\"bio\"\r\n\r\nI select a plan, 1 or 2 bedrooms, O'Brien.",
        ]);
        assert_eq!(hits(CT, &b), []);
    }

    #[test]
    fn uploads_named_as_server_scripts_are_code() {
        for filename in [
            "shell.php",
            "something/dangerous.php",
            "photo. php",
            "photo.php  ",
            "shell. jspx",
            "cmd.aspx",
        ] {
            let b = body(&[&format!(
                "Content-Disposition: form-data; name=\"f\"; filename=\"{filename}\"\r\n\r\nhi"
            )]);
            assert_eq!(
                hits(CT, &b),
                [(AttackCategory::CodeInjection, "body.f@filename".to_owned())],
                "{filename:?}"
            );
        }
        // documents, and a field (not a file) whose value names a script
        for filename in ["report.pdf", "php-notes.txt", "index.php.bak.png"] {
            let b = body(&[&format!(
                "Content-Disposition: form-data; name=\"f\"; filename=\"{filename}\"\r\n\r\nhi"
            )]);
            assert_eq!(hits(CT, &b), [], "{filename:?}");
        }
        let b = body(&["Content-Disposition: form-data; name=\"title\"\r\n\r\nshell.php"]);
        assert_eq!(hits(CT, &b), []);
    }

    #[test]
    fn a_body_that_is_not_multipart_is_inspected_raw() {
        let raw = "<script>alert(1)</script>";
        assert_eq!(
            hits("multipart/form-data", raw),
            [(AttackCategory::Xss, "body".to_owned())]
        );
        assert_eq!(hits(CT, raw), [(AttackCategory::Xss, "body".to_owned())]);
    }
}
