//! The inputs of a request, decoded the way the application will see them, handed one by one to
//! a [`Scan`].
//!
//! Decoding: percent-decoding (queries and forms also read `+` as a space), repeated while a
//! `%XX` escape is left, up to [`DECODE_ROUNDS`] rounds, so `%2527` is seen as `'`; bytes that
//! are not UTF-8 are replaced (U+FFFD). Values that need no decoding are borrowed, not copied.
//!
//! Repeats: a JSON string equal to one of the last few inspected in the same body (the item
//! names, statuses and currencies of an array of records) is not inspected again (see
//! [`Seen`]).

use std::borrow::Cow;
use std::fmt;

use http::header::{COOKIE, USER_AGENT};
use http::{HeaderMap, Uri};
use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use super::{Scan, Source, Stop};
use crate::layer::{BodyKind, ReadBody};

/// Rounds of percent-decoding at most.
pub(crate) const DECODE_ROUNDS: usize = 3;
/// JSON deeper than this is not walked; the raw body is inspected as one value instead.
pub(crate) const MAX_JSON_DEPTH: usize = 64;
/// Longest key kept in an input's name, in bytes (longer ones are cut).
const MAX_NAME_KEY: usize = 64;

/// An input's name, formatted only when a hit needs it.
pub(crate) enum Name<'a> {
    Path,
    Prefixed(&'static str, &'a str),
    Raw(&'a str),
    /// An XML attribute: element path and attribute name (`body.order.item@sku`).
    Attr(&'a str, &'a str),
}

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Path => f.write_str("path"),
            Name::Prefixed(prefix, key) => write!(f, "{prefix}.{}", cut(key, MAX_NAME_KEY)),
            Name::Raw(name) => f.write_str(name),
            Name::Attr(path, attr) => write!(f, "{path}@{attr}"),
        }
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

/// True when `s` holds a `%XX` escape.
fn has_escape(s: &[u8]) -> bool {
    memchr::memchr_iter(b'%', s).any(|i| {
        s.get(i + 1..i + 3)
            .is_some_and(|h| h[0].is_ascii_hexdigit() && h[1].is_ascii_hexdigit())
    })
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// One round of percent-decoding (and `+` to space when `plus`).
fn decode_once(s: &[u8], plus: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' if i + 2 < s.len()
                && s[i + 1].is_ascii_hexdigit()
                && s[i + 2].is_ascii_hexdigit() =>
            {
                out.push(hex(s[i + 1]) << 4 | hex(s[i + 2]));
                i += 3;
                continue;
            }
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Decodes `raw`: `+` as space when `plus` (first round only), then percent-decoding repeated
/// while escapes are left, at most [`DECODE_ROUNDS`] rounds.
pub(crate) fn decode(raw: &[u8], plus: bool) -> Cow<'_, str> {
    let needs_plus = plus && memchr::memchr(b'+', raw).is_some();
    if !needs_plus && !has_escape(raw) {
        return String::from_utf8_lossy(raw);
    }
    let mut bytes = decode_once(raw, plus);
    for _ in 1..DECODE_ROUNDS {
        if !has_escape(&bytes) {
            break;
        }
        bytes = decode_once(&bytes, false);
    }
    match String::from_utf8(bytes) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// Decodes an already once-decoded value further, while escapes are left.
fn decode_more(value: Cow<'_, str>) -> Cow<'_, str> {
    if !has_escape(value.as_bytes()) {
        return value;
    }
    let mut bytes = value.as_bytes().to_vec();
    for _ in 1..DECODE_ROUNDS {
        if !has_escape(&bytes) {
            break;
        }
        bytes = decode_once(&bytes, false);
    }
    Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
}

/// Headers never inspected: credentials (never looked at, never shown), and headers of fixed
/// syntax that only the HTTP machinery reads — framing, the host, content negotiation, caching,
/// fetch metadata — so that the time goes to the values applications read as data.
fn skipped(name: &http::HeaderName) -> bool {
    use http::header::*;
    const FIXED: [HeaderName; 13] = [
        AUTHORIZATION,
        PROXY_AUTHORIZATION,
        CONTENT_LENGTH,
        HOST,
        ACCEPT,
        ACCEPT_ENCODING,
        ACCEPT_LANGUAGE,
        ACCEPT_CHARSET,
        CONNECTION,
        CACHE_CONTROL,
        PRAGMA,
        TE,
        UPGRADE_INSECURE_REQUESTS,
    ];
    let name_str = name.as_str();
    FIXED.contains(name)
        || name_str.starts_with("sec-fetch-")
        || name_str.starts_with("sec-ch-ua")
        || matches!(
            name_str,
            "keep-alive"
                | "proxy-connection"
                | "if-none-match"
                | "if-modified-since"
                | "priority"
                | "dnt"
        )
}

/// Scans the path, the query, the headers and the cookies.
pub(crate) fn scan_head(scan: &mut Scan<'_>, uri: &Uri, headers: &HeaderMap) -> Result<(), Stop> {
    let path = decode(uri.path().as_bytes(), false);
    scan.value(Source::Path, &Name::Path, &path)?;
    if let Some(query) = uri.query() {
        scan_pairs(scan, Source::Query, "query", query.as_bytes())?;
    }
    for (name, value) in headers {
        if skipped(name) {
            continue;
        }
        if name == COOKIE {
            scan_cookies(scan, value.as_bytes())?;
            continue;
        }
        let decoded = decode(value.as_bytes(), false);
        if name == USER_AGENT {
            scan.user_agent(&String::from_utf8_lossy(value.as_bytes()))?;
        }
        scan.value(
            Source::Header,
            &Name::Prefixed("header", name.as_str()),
            &decoded,
        )?;
    }
    Ok(())
}

/// `name=value` pairs separated by `&` (queries and form bodies): names and values.
fn scan_pairs(
    scan: &mut Scan<'_>,
    source: Source,
    prefix: &'static str,
    raw: &[u8],
) -> Result<(), Stop> {
    for (key, value) in form_urlencoded::parse(raw) {
        let key = decode_more(key);
        let value = decode_more(value);
        let name = Name::Prefixed(prefix, &key);
        scan.value(source, &name, &key)?;
        scan.value(source, &name, &value)?;
    }
    Ok(())
}

/// `Cookie: a=1; b=2`: names and percent-decoded values.
fn scan_cookies(scan: &mut Scan<'_>, raw: &[u8]) -> Result<(), Stop> {
    for pair in raw.split(|&b| b == b';') {
        let pair = pair.trim_ascii();
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match memchr::memchr(b'=', pair) {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (&pair[..0], pair),
        };
        let key = String::from_utf8_lossy(key);
        let name = Name::Prefixed("cookie", &key);
        scan.value(Source::Cookie, &name, &key)?;
        scan.value(Source::Cookie, &name, &decode(value, false))?;
    }
    Ok(())
}

/// Scans a body the layer read: a form's pairs, a JSON document's keys and strings, or an XML
/// document's text and attribute values. A JSON body that does not parse (or nests deeper than
/// [`MAX_JSON_DEPTH`]) is also inspected whole, as one value named `body`; a truncated body is
/// inspected up to where it was cut.
pub(crate) fn scan_body(scan: &mut Scan<'_>, body: &ReadBody) -> Result<(), Stop> {
    match body.kind {
        BodyKind::Xml => super::xml::scan_xml(scan, &String::from_utf8_lossy(&body.bytes)),
        BodyKind::Form => scan_pairs(scan, Source::Body, "body", &body.bytes),
        BodyKind::Json => {
            let mut walk = Walk {
                scan,
                path: String::from("body"),
                stopped: None,
                too_deep: false,
                seen: Seen::default(),
            };
            let mut de = serde_json::Deserializer::from_slice(&body.bytes);
            let parsed = JsonSeed {
                walk: &mut walk,
                depth: 0,
            }
            .deserialize(&mut de)
            .and_then(|()| de.end());
            if let Some(stop) = walk.stopped {
                return Err(stop);
            }
            if parsed.is_err() || walk.too_deep {
                let raw = String::from_utf8_lossy(&body.bytes);
                walk.scan.value(Source::Body, &Name::Raw("body"), &raw)?;
            }
            Ok(())
        }
    }
}

/// The state of a JSON walk: the scan, the path of the current value (`body.user.name`), the
/// strings already inspected.
struct Walk<'s, 'r, 'de> {
    scan: &'s mut Scan<'r>,
    path: String,
    stopped: Option<Stop>,
    too_deep: bool,
    seen: Seen<'de>,
}

/// How many inspected JSON strings are remembered, at most.
const SEEN: usize = 16;
/// Longest string remembered, in bytes: longer ones are rare repeats, and the comparison
/// must stay cheap.
const SEEN_MAX_LEN: usize = 256;

/// The last [`SEEN`] strings of a JSON body that were inspected in full (borrowed from the
/// body: no copy). Arrays of records repeat their strings (the same
/// product name, status or currency in every item); every detector is a pure function of the
/// value and every body string gets the same detectors, so inspecting a repeat again cannot
/// find anything new (a category that matched is not looked for again, the others give the
/// same answer). Repeats are recognised by comparing bytes, never by a hash, so no crafted
/// value can pass for an inspected one.
#[derive(Default)]
struct Seen<'de> {
    values: [&'de str; SEEN],
    next: usize,
}

impl<'de> Seen<'de> {
    fn contains(&self, value: &str) -> bool {
        value.len() <= SEEN_MAX_LEN && self.values.contains(&value)
    }

    fn insert(&mut self, value: &'de str) {
        if value.len() <= SEEN_MAX_LEN {
            self.values[self.next] = value;
            self.next = (self.next + 1) % SEEN;
        }
    }
}

impl<'de> Walk<'_, '_, 'de> {
    /// Inspects a JSON string; `borrowed` when it is a slice of the body (no escapes).
    fn value<E: serde::de::Error>(
        &mut self,
        value: &str,
        borrowed: Option<&'de str>,
    ) -> Result<(), E> {
        // (the empty string is `Seen`'s filler, and is never inspected anyway)
        if !value.is_empty() && self.seen.contains(value) {
            return Ok(());
        }
        let decoded = decode_more(Cow::Borrowed(value));
        match self
            .scan
            .value(Source::Body, &Name::Raw(&self.path), &decoded)
        {
            Ok(()) => {
                if let Some(v) = borrowed {
                    self.seen.insert(v);
                }
                Ok(())
            }
            Err(stop) => {
                self.stopped = Some(stop);
                Err(E::custom("scan stopped"))
            }
        }
    }
}

/// Walks one JSON value.
struct JsonSeed<'w, 's, 'r, 'de> {
    walk: &'w mut Walk<'s, 'r, 'de>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for JsonSeed<'_, '_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.depth > MAX_JSON_DEPTH {
            self.walk.too_deep = true;
            return IgnoredAny::deserialize(d).map(|_| ());
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonSeed<'_, '_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.walk.value(v, None)
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<(), E> {
        self.walk.value(v, Some(v))
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let len = self.walk.path.len();
            {
                use fmt::Write;
                let _ = write!(self.walk.path, "[{index}]");
            }
            let next = seq.next_element_seed(JsonSeed {
                walk: self.walk,
                depth: self.depth + 1,
            });
            self.walk.path.truncate(len);
            if next?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        loop {
            let len = self.walk.path.len();
            let key = map.next_key_seed(KeySeed { walk: self.walk });
            match key {
                Ok(Some(())) => {}
                Ok(None) => {
                    self.walk.path.truncate(len);
                    return Ok(());
                }
                Err(e) => {
                    self.walk.path.truncate(len);
                    return Err(e);
                }
            }
            let value = map.next_value_seed(JsonSeed {
                walk: self.walk,
                depth: self.depth + 1,
            });
            self.walk.path.truncate(len);
            value?;
        }
    }
}

/// Reads a key: appends `.key` to the path and scans the key itself.
struct KeySeed<'w, 's, 'r, 'de> {
    walk: &'w mut Walk<'s, 'r, 'de>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<(), E> {
        self.walk.path.push('.');
        self.walk.path.push_str(cut(key, MAX_NAME_KEY));
        self.walk.value(key, None)
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, key: &'de str) -> Result<(), E> {
        self.walk.path.push('.');
        self.walk.path.push_str(cut(key, MAX_NAME_KEY));
        self.walk.value(key, Some(key))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{decode, scan_body, SEEN};
    use crate::layer::{BodyKind, ReadBody};
    use crate::waf::{AttackCategory, Scan};

    /// The categories and inputs of the hits a JSON body gives, and how many values the
    /// detectors ran on.
    fn json_scan(body: &str) -> (Vec<(AttackCategory, String)>, u32) {
        let mut scan = Scan::new(&[], false, Duration::from_secs(10), Duration::ZERO);
        let body = ReadBody {
            kind: BodyKind::Json,
            bytes: body.to_owned().into(),
            complete: true,
        };
        scan_body(&mut scan, &body).unwrap();
        let inspected = scan.values_since_check;
        let hits = scan
            .hits
            .into_iter()
            .map(|h| (h.category, h.input))
            .collect();
        (hits, inspected)
    }

    fn json_hits(body: &str) -> Vec<(AttackCategory, String)> {
        json_scan(body).0
    }

    #[test]
    fn repeated_json_strings_are_inspected_once_and_hide_nothing() {
        let name = "Wireless noise-cancelling headphones, black";
        // a repeat of an inspected string is skipped; strings around it still count
        let body = format!(
            r#"{{"items":[{{"n":"{name}"}},{{"n":"{name}"}},{{"n":"{name}","q":"<script>alert(1)</script>"}}]}}"#
        );
        let (hits, inspected) = json_scan(&body);
        assert_eq!(hits, [(AttackCategory::Xss, "body.items[2].q".to_owned())]);
        assert_eq!(inspected, 2, "the name once, the script");
        // the same bytes escaped in JSON are read again (not borrowed: not remembered), and
        // an attack repeated after a hit in another category is still reported in its own
        let body = r#"["<scr\u0069pt>", "<script>", "1' OR '1'='1", "1' OR '1'='1", "x"]"#;
        let hits = json_hits(body);
        assert_eq!(hits.len(), 2, "{hits:?}");
        // more distinct strings than are remembered: the oldest are forgotten, not confused
        let many: Vec<String> = (0..2 * SEEN)
            .map(|i| format!("value {i}, inspected"))
            .collect();
        let mut doc: Vec<&str> = many.iter().map(String::as_str).collect();
        doc.push("' UNION SELECT password FROM users --");
        let body = serde_json::to_string(&doc).unwrap();
        assert_eq!(
            json_hits(&body),
            [(AttackCategory::Sqli, format!("body[{}]", 2 * SEEN))]
        );
    }

    #[test]
    fn decoding_rounds() {
        assert_eq!(decode(b"plain", true), "plain");
        assert!(matches!(
            decode(b"plain", true),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(decode(b"a+b%20c", true), "a b c");
        assert_eq!(decode(b"a+b", false), "a+b");
        assert_eq!(decode(b"%2527", false), "'");
        assert_eq!(decode(b"%252527", false), "'");
        // three rounds at most
        assert_eq!(decode(b"%25252527", false), "%27");
        assert_eq!(decode(b"100%", false), "100%");
        assert_eq!(decode(b"%zz%4", false), "%zz%4");
        assert_eq!(decode(b"%ff", false), "\u{fffd}");
        assert_eq!(decode(b"%", false), "%");
        assert_eq!(decode(b"%4", false), "%4");
        assert_eq!(decode(b"%41", false), "A");
    }
}
