//! XML bodies (`application/xml`, `text/xml`, `*+xml`) for the WAF.
//!
//! One forward pass, no tree: each attribute value and each text node (CDATA included) is
//! decoded — the five predefined entities and character references only, never a DTD's own
//! entities, so nothing is fetched or expanded — and handed to the scan, named by its element
//! path: `body.order.item@sku` for an attribute, `body.order.note` for text. Declarations
//! (`<!DOCTYPE ...>`, `<!ENTITY ...>`) are inspected raw, since XXE payloads name the files and
//! URLs they want; comments and processing instructions are skipped. The pass is tolerant (a
//! malformed document is read as far as it makes sense, never rejected) and linear; the path
//! keeps at most [`MAX_DEPTH`] elements.

use memchr::memmem;

use super::entity;
use super::inputs::Name;
use super::{Scan, Source, Stop};

/// Element nesting kept in names; deeper elements are named by their ancestor at this depth.
const MAX_DEPTH: usize = 64;
/// Longest element or attribute name kept in an input's name, in bytes.
const MAX_NAME: usize = 64;

/// Scans an XML document's attribute values and text.
pub(crate) fn scan_xml(scan: &mut Scan<'_>, text: &str) -> Result<(), Stop> {
    let b = text.as_bytes();
    let mut path = String::from("body");
    let mut stack: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            let end = memchr::memchr(b'<', &b[i..]).map_or(b.len(), |p| i + p);
            let node = text[i..end].trim();
            if !node.is_empty() {
                scan.value(
                    Source::Body,
                    &Name::Raw(&path),
                    &entity::decode_terminated(node),
                )?;
            }
            i = end;
            continue;
        }
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = after(b, i + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            let start = i + 9;
            let end = memmem::find(&b[start..], b"]]>").map_or(b.len(), |p| start + p);
            scan.value(Source::Body, &Name::Raw(&path), text[start..end].trim())?;
            i = (end + 3).min(b.len());
        } else if rest.starts_with(b"<!") {
            let end = declaration_end(b, i);
            scan.value(Source::Body, &Name::Raw("body.!doctype"), &text[i..end])?;
            i = end;
        } else if rest.starts_with(b"<?") {
            i = after(b, i + 2, b"?>");
        } else if rest.starts_with(b"</") {
            if let Some(len) = stack.pop() {
                path.truncate(len);
            }
            i = after(b, i + 2, b">");
        } else {
            i = start_tag(scan, text, i + 1, &mut path, &mut stack)?;
        }
    }
    Ok(())
}

/// The index just past the first `needle` at or after `from`, or the end.
fn after(b: &[u8], from: usize, needle: &[u8]) -> usize {
    let from = from.min(b.len());
    memmem::find(&b[from..], needle).map_or(b.len(), |p| from + p + needle.len())
}

/// The end of a `<!...>` declaration, past an internal subset in brackets if it has one.
fn declaration_end(b: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    for (j, &c) in b.iter().enumerate().skip(start + 2) {
        match c {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'>' if depth == 0 => return j + 1,
            _ => {}
        }
    }
    b.len()
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Reads a start tag from just after its `<`: pushes its name on the path, scans its attribute
/// values, pops it again when it closes itself. Returns the index after the tag.
fn start_tag(
    scan: &mut Scan<'_>,
    text: &str,
    mut i: usize,
    path: &mut String,
    stack: &mut Vec<usize>,
) -> Result<usize, Stop> {
    let b = text.as_bytes();
    let name_end = b[i..]
        .iter()
        .position(|&c| is_space(c) || c == b'/' || c == b'>')
        .map_or(b.len(), |p| i + p);
    stack.push(path.len());
    if stack.len() <= MAX_DEPTH {
        path.push('.');
        path.push_str(cut(&text[i..name_end], MAX_NAME));
    }
    i = name_end;
    loop {
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return Ok(i);
        }
        match b[i] {
            b'>' => return Ok(i + 1),
            b'/' => {
                if let Some(len) = stack.pop() {
                    path.truncate(len);
                }
                return Ok(after(b, i, b">"));
            }
            _ => {}
        }
        let attr_start = i;
        while i < b.len() && !is_space(b[i]) && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let attr = &text[attr_start..i];
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            if attr.is_empty() {
                i += 1; // a stray byte: step over it
            }
            continue;
        }
        i += 1;
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        let (value_start, value_end, next) = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let start = i + 1;
                let end = memchr::memchr(q, &b[start..]).map_or(b.len(), |p| start + p);
                (start, end, (end + 1).min(b.len()))
            }
            _ => {
                let start = i;
                let end = b[start..]
                    .iter()
                    .position(|&c| is_space(c) || c == b'>')
                    .map_or(b.len(), |p| start + p);
                (start, end, end)
            }
        };
        let value = entity::decode_terminated(&text[value_start..value_end]);
        let name = Name::Attr(path, cut(attr, MAX_NAME));
        scan.value(Source::Body, &name, &value)?;
        i = next;
    }
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::waf::AttackCategory;

    fn hits(xml: &str) -> Vec<(AttackCategory, String)> {
        let mut scan = Scan::new(&[], false, Duration::from_secs(10), Duration::ZERO);
        scan_xml(&mut scan, xml).unwrap();
        scan.hits
            .into_iter()
            .map(|h| (h.category, h.input))
            .collect()
    }

    #[test]
    fn attribute_values_and_text_are_inspected_by_path() {
        let xml = r#"<?xml version="1.0"?><root><a probe="&lt;script&gt;alert(1)&lt;/script&gt;"></a><b>1' OR '1'='1</b></root>"#;
        assert_eq!(
            hits(xml),
            [
                (AttackCategory::Xss, "body.root.a@probe".to_owned()),
                (AttackCategory::Sqli, "body.root.b".to_owned()),
            ]
        );
    }

    #[test]
    fn cdata_and_declarations_are_inspected_comments_are_not() {
        let xml =
            "<r><![CDATA[<img src=x onerror=alert(1)>]]><!-- <script>alert(1)</script> --></r>";
        assert_eq!(hits(xml), [(AttackCategory::Xss, "body.r".to_owned())]);
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        assert_eq!(hits(xxe)[0].1, "body.!doctype");
    }

    #[test]
    fn benign_documents_and_broken_ones_are_quiet() {
        let order = r#"<?xml version="1.0" encoding="UTF-8"?>
            <order id="42" xmlns="urn:shop"><customer name="Jane O'Connor"/>
            <note>Leave it at the door &amp; ring twice</note><total currency="EUR">12.50</total></order>"#;
        assert!(hits(order).is_empty());
        for broken in [
            "<",
            "<a",
            "<a b",
            "<a b=",
            "<a b=\"",
            "</",
            "<!",
            "<![CDATA[",
            "<?",
            "&",
            "<a/",
            "<<<>>>",
            "<a =x>",
        ] {
            assert!(hits(broken).is_empty(), "{broken}");
        }
    }
}
