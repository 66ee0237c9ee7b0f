//! `text/plain` bodies for the WAF: free text that applications read whole (webhooks, notes,
//! commands, payloads posted by scripts), and HTML forms sent with `enctype="text/plain"`.
//!
//! What a text body is inspected as:
//! - when every line is a `name=value` pair — what a browser sends for a form with
//!   `enctype="text/plain"` (HTML's text/plain encoding: one `name=value` line per field, CRLF
//!   between them, nothing escaped) — each name and value, named `body.<name>`, as a form's
//!   are;
//! - otherwise the whole text, as one value named `body` (scanned in chunks when long, as any
//!   long value).
//!
//! Both are percent-decoded as header values are (a `+` stays a `+`: this is not a URL
//! encoding). The text is what the layer read: at most `SQREEN_MAX_BODY_BYTES`, the rest
//! handed on unread, as for every body kind; bytes that are not UTF-8 are replaced.
//!
//! The pairs are read only when the whole text has their shape, so text that merely holds an
//! `=` (`1' OR 'a'='a`, a note saying `x = 2`) is read whole, where nothing is lost to a split.

use super::inputs::{decode, Name};
use super::{Scan, Source, Stop};

/// Longest name a line may have to be read as a form field's.
const MAX_FIELD_NAME: usize = 256;

/// Scans a text body (see the module docs).
pub(crate) fn scan_text(scan: &mut Scan<'_>, body: &[u8]) -> Result<(), Stop> {
    let text = String::from_utf8_lossy(body);
    if !form_shaped(&text) {
        let value = decode(text.as_bytes(), false);
        return scan.value(Source::Body, &Name::Raw("body"), &value);
    }
    for (name, value) in fields(&text) {
        let name = decode(name.as_bytes(), false);
        let value = decode(value.as_bytes(), false);
        let input = Name::Prefixed("body", &name);
        scan.param_name(Source::Body, &input, &name)?;
        scan.value(Source::Body, &input, &value)?;
    }
    Ok(())
}

/// The lines of `text`, without their line break (`\n` or `\r\n`); empty ones skipped.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty())
}

/// The `name=value` fields of a form-shaped text.
fn fields(text: &str) -> impl Iterator<Item = (&str, &str)> {
    lines(text).filter_map(|l| l.split_once('='))
}

/// True when every line of `text` is a `name=value` field: a name of at most
/// [`MAX_FIELD_NAME`] bytes with no blank, quote, bracket or brace (what a form's field names
/// are, and what free text and JSON are not), then `=`; and there is at least one.
fn form_shaped(text: &str) -> bool {
    let mut any = false;
    for line in lines(text) {
        let Some((name, _)) = line.split_once('=') else {
            return false;
        };
        let field_name = !name.is_empty()
            && name.len() <= MAX_FIELD_NAME
            && !name.bytes().any(|b| {
                b.is_ascii_whitespace()
                    || b.is_ascii_control()
                    || matches!(b, b'"' | b'\'' | b'{' | b'}' | b'[' | b']' | b'<' | b'>')
            });
        if !field_name {
            return false;
        }
        any = true;
    }
    any
}

/// The text as the scan reads it, for tests: each input's name and value.
#[cfg(test)]
fn inputs(body: &str) -> Vec<(String, String)> {
    if !form_shaped(body) {
        return vec![("body".into(), decode(body.as_bytes(), false).into_owned())];
    }
    fields(body)
        .map(|(n, v)| {
            let n = decode(n.as_bytes(), false);
            let v = decode(v.as_bytes(), false);
            (format!("body.{n}"), v.into_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::waf::{AttackCategory, Scan};

    fn hits(body: &str) -> Vec<(AttackCategory, String)> {
        let mut scan = Scan::new(&[], false, Duration::from_secs(10), Duration::ZERO);
        scan_text(&mut scan, body.as_bytes()).unwrap();
        scan.hits
            .into_iter()
            .map(|h| (h.category, h.input))
            .collect()
    }

    #[test]
    fn form_encoded_text_gives_its_fields_other_text_is_one_value() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            inputs("name=Jane O'Connor\r\nnote=a = b, c=d\r\n"),
            pairs(&[("body.name", "Jane O'Connor"), ("body.note", "a = b, c=d")])
        );
        assert_eq!(inputs("q=100%25+sure"), pairs(&[("body.q", "100%+sure")]));
        // free text, JSON, an `=` after a blank: the whole text
        for raw in [
            "Hello,\nsee you at 5.",
            "1' OR 'a'='a",
            r#"{"user__profile":"p=q"}"#,
            "x = 2\ny=3",
            "a=1\nno field here",
            "",
            "\r\n\r\n",
        ] {
            assert_eq!(inputs(raw), pairs(&[("body", raw)]), "{raw:?}");
        }
        let long = format!("{}=v", "n".repeat(MAX_FIELD_NAME + 1));
        assert_eq!(inputs(&long), pairs(&[("body", &long)]));
    }

    #[test]
    fn attacks_are_found_in_fields_and_in_whole_text() {
        assert_eq!(
            hits("comment=hello\r\nq=1' UNION SELECT password FROM users--"),
            [(AttackCategory::Sqli, "body.q".to_owned())]
        );
        assert_eq!(
            hits("test=java.lang.Runtime"),
            [(AttackCategory::CodeInjection, "body.test".to_owned())]
        );
        assert_eq!(
            hits("java.lang.ProcessBuilder=x"),
            [(
                AttackCategory::CodeInjection,
                "body.java.lang.ProcessBuilder".to_owned()
            )]
        );
        assert_eq!(
            hits("Please run this for me:\n<script>alert(1)</script>"),
            [(AttackCategory::Xss, "body".to_owned())]
        );
        // ordinary notes and fields are quiet
        for benign in [
            "Meeting moved to 3pm, room B. Bring the Q3 numbers.",
            "name=Jane O'Connor\r\nemail=jane@example.com\r\nmessage=Call me at 5 = after work",
            "temperature=21.5\nhumidity=40%\n",
            "The ratio a/b = 2, so b = a/2.",
        ] {
            assert_eq!(hits(benign), [], "{benign:?}");
        }
    }

    #[test]
    fn any_bytes_are_safe() {
        let cases: Vec<Vec<u8>> = vec![
            b"\xff\xfe=\x00\r\n=\n==".to_vec(),
            b"a=\xc3".to_vec(),
            "é=é\r\n".repeat(1000).into_bytes(),
            b"%%%=%zz\n%41=%".to_vec(),
        ];
        for c in cases {
            let mut scan = Scan::new(&[], false, Duration::from_secs(10), Duration::ZERO);
            scan_text(&mut scan, &c).unwrap();
        }
    }
}
