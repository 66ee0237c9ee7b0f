//! The inputs of a request, decoded the way the application will see them, handed one by one to
//! a [`Scan`].
//!
//! Decoding: percent-decoding (queries and forms also read `+` as a space), repeated while a
//! `%XX` escape is left, up to [`DECODE_ROUNDS`] rounds, so `%2527` is seen as `'`; bytes that
//! are not UTF-8 are replaced (U+FFFD). Values that need no decoding are borrowed, not copied:
//! query and form pairs are split here ([`pairs`]) so that a name or value without `+` or
//! `%XX` costs one scan for each and no allocation.
//! JSON bodies are walked by [`super::json`].

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use http::header::{COOKIE, USER_AGENT};
use http::{HeaderMap, Uri};

use super::ssrf::{self, HeaderUrl};
use super::{memo, AttackCategory, Scan, Source, Stop};
use crate::body::{BodyKind, ReadBody};

#[cfg(test)]
mod header_tests;

/// Rounds of percent-decoding at most.
pub(crate) const DECODE_ROUNDS: usize = 3;
/// JSON deeper than this is not walked; the raw body is inspected as one value instead.
pub(crate) const MAX_JSON_DEPTH: usize = 64;
/// Longest key kept in an input's name, in bytes (longer ones are cut).
pub(super) const MAX_NAME_KEY: usize = 64;

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

pub(crate) fn cut(s: &str, max: usize) -> &str {
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
pub(crate) fn has_escape(s: &[u8]) -> bool {
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

/// `String::from_utf8_lossy`, with a fast path for valid UTF-8: `from_utf8_lossy` walks valid
/// input chunk by chunk (~45 ns on a 111-byte User-Agent, against ~11 ns for `from_utf8`; the
/// same on short values).
fn utf8_lossy(raw: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(raw),
    }
}

/// One round of percent-decoding (and `+` to space when `plus`).
pub(crate) fn decode_once(s: &[u8], plus: bool) -> Vec<u8> {
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
        return utf8_lossy(raw);
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
pub(super) fn decode_more(value: Cow<'_, str>) -> Cow<'_, str> {
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
            // a borrowed decoding is the value as it is: no second UTF-8 check for it
            match &decoded {
                Cow::Borrowed(raw) => scan.user_agent(raw)?,
                Cow::Owned(_) => scan.user_agent(&utf8_lossy(value.as_bytes()))?,
            }
        }
        if let Some(kind) = ssrf::header_kind(name.as_str()) {
            scan.header_url(kind, name.as_str(), &decoded)?;
        }
        scan.value(
            Source::Header,
            &Name::Prefixed("header", name.as_str()),
            &decoded,
        )?;
    }
    Ok(())
}

impl Scan<'_> {
    /// Looks for an SSRF target in a header that carries a URL or a host (see
    /// [`ssrf::header_kind`]); the other detectors have their turn in [`Scan::value`].
    fn header_url(&mut self, kind: HeaderUrl, name: &str, value: &str) -> Result<(), Stop> {
        if self.found & AttackCategory::Ssrf.bit() != 0 || value.len() > 8 * 1024 {
            return Ok(());
        }
        // a URL clean for every SSRF rule is clean for the `Referer`'s subset too (the page
        // a browser comes from repeats from request to request)
        let remembered = kind != HeaderUrl::Host;
        if remembered && memo::is_clean(memo::Kind::UrlHeader, value) {
            return Ok(());
        }
        let found = ssrf::detect_header(kind, value);
        if found.is_none()
            && remembered
            && (kind == HeaderUrl::Fetched || ssrf::detect(value).is_none())
        {
            memo::remember(memo::Kind::UrlHeader, value);
        }
        match found {
            Some(finding) if !self.disabled(finding.rule) => self.record(
                AttackCategory::Ssrf,
                finding,
                value,
                0,
                &Name::Prefixed("header", name),
            ),
            _ => Ok(()),
        }
    }
}

/// `name=value` pairs separated by `&` (queries and form bodies): names and values.
fn scan_pairs(
    scan: &mut Scan<'_>,
    source: Source,
    prefix: &'static str,
    raw: &[u8],
) -> Result<(), Stop> {
    if plain_pairs(raw) {
        return Ok(());
    }
    let (percent, text) = form_text(raw);
    for (key, value, plain) in pair_ranges(raw) {
        // a pair whose name and value are both plain (and hold no `A`) is skipped as a
        // query made only of such pairs is: the scan would look at neither (told by the
        // pass that splits the pairs, instead of decoding and classing both)
        if plain {
            continue;
        }
        let key = decode_form(raw, key, percent, text);
        let value = decode_form(raw, value, percent, text);
        let name = Name::Prefixed(prefix, &key);
        scan.param_name(source, &name, &key)?;
        scan.value(source, &name, &value)?;
    }
    Ok(())
}

/// [`scan_pairs`] as it was before plain pairs were skipped one by one: every pair decoded
/// and handed to the scan (a test compares both).
#[cfg(test)]
pub(super) fn scan_pairs_every(
    scan: &mut Scan<'_>,
    source: Source,
    prefix: &'static str,
    raw: &[u8],
) -> Result<(), Stop> {
    if plain_pairs(raw) {
        return Ok(());
    }
    for (key, value) in pairs(raw) {
        let name = Name::Prefixed(prefix, &key);
        scan.param_name(source, &name, &key)?;
        scan.value(source, &name, &value)?;
    }
    Ok(())
}

/// True when every name and value of `raw` (a query or form body) is plain (see
/// [`super::plain`]: short, only ASCII letters, digits and `-`) and holds no `A` (which the
/// scan looks at, see [`super::code::plain_may_hide`]), so the scan would skip them all:
/// `page=2&sort=price-asc`, as most queries are. One pass over the bytes, instead of splitting,
/// decoding and classifying each name and value.
fn plain_pairs(raw: &[u8]) -> bool {
    let mut run = 0usize;
    let mut in_value = false;
    for &b in raw {
        match b {
            b'&' => {
                run = 0;
                in_value = false;
            }
            // the first `=` of a pair ends its name; any other is part of the value
            b'=' if !in_value => {
                run = 0;
                in_value = true;
            }
            // (an `A` may be part of a base64 Java serialization header: see
            // `code::plain_may_hide`)
            _ if (b.is_ascii_alphanumeric() && b != b'A') || b == b'-' => {
                run += 1;
                if run > super::PLAIN_MAX {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

/// The decoded pairs of a query or form body: what `form_urlencoded::parse` gives (pairs split
/// at `&`, empty ones skipped, the name cut at the first `=`; `+` as a space, one round of
/// percent-decoding, invalid UTF-8 replaced) followed by [`decode_more`] — without its copies
/// and scans for the names and values that hold no `+` and no escape (most of them), which
/// are borrowed.
#[cfg(test)]
fn pairs(raw: &[u8]) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    let (percent, text) = form_text(raw);
    pair_ranges(raw).map(move |(key, value, _)| {
        (
            decode_form(raw, key, percent, text),
            decode_form(raw, value, percent, text),
        )
    })
}

/// What [`decode_form`] needs to know of a whole query or form body: whether it holds a `%`,
/// and its text when it is valid UTF-8. One search for `%` and one UTF-8 check for the whole
/// query, not one per name and value: a name or value with nothing to decode is then a slice
/// of the text (`&` and `=` are ASCII, so every cut falls on a char boundary).
fn form_text(raw: &[u8]) -> (bool, Option<&str>) {
    (
        memchr::memchr(b'%', raw).is_some(),
        std::str::from_utf8(raw).ok(),
    )
}

/// [`PAIR_CLASS`]: a byte [`plain_pairs`] takes in a name or value (ASCII letter bar `A`,
/// digit, `-`).
const PAIR_PLAIN: u8 = 0;
/// [`PAIR_CLASS`]: `&`, which ends a pair.
const PAIR_END: u8 = 1;
/// [`PAIR_CLASS`]: `=`, whose first one in a pair ends its name.
const PAIR_EQUALS: u8 = 2;
/// [`PAIR_CLASS`]: any other byte.
const PAIR_OTHER: u8 = 3;

/// The class of each byte of a query or form body, for [`pair_ranges`].
static PAIR_CLASS: [u8; 256] = {
    let mut t = [PAIR_OTHER; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if (c.is_ascii_alphanumeric() && c != b'A') || c == b'-' {
            t[i] = PAIR_PLAIN;
        }
        i += 1;
    }
    t[b'&' as usize] = PAIR_END;
    t[b'=' as usize] = PAIR_EQUALS;
    t
};

/// Where the names and values of a query or form body are: pairs split at `&`, empty ones
/// skipped, the name cut at the first `=` (a pair without one is all name, its value the
/// empty range at its end); and whether the pair is plain as [`plain_pairs`] reads it (both
/// plain, neither holding an `A`), told in the same pass through a byte table.
fn pair_ranges(raw: &[u8]) -> impl Iterator<Item = (Range<usize>, Range<usize>, bool)> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || loop {
        if start > raw.len() {
            return None;
        }
        let mut equals = None;
        let mut other = false;
        let mut end = start;
        while let Some(&b) = raw.get(end) {
            match PAIR_CLASS[usize::from(b)] {
                PAIR_PLAIN => {}
                PAIR_END => break,
                PAIR_EQUALS if equals.is_none() => equals = Some(end),
                _ => other = true,
            }
            end += 1;
        }
        let pair = start..end;
        start = end + 1;
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match equals {
            Some(p) => (pair.start..p, p + 1..pair.end),
            None => (pair.clone(), pair.end..pair.end),
        };
        let plain = !other && key.len() <= super::PLAIN_MAX && value.len() <= super::PLAIN_MAX;
        return Some((key, value, plain));
    })
}

/// One name or value of a query or form body: `raw[at]` (see [`pairs`]); `percent`: whether
/// the query holds a `%` anywhere; `text`: the query when it is valid UTF-8.
fn decode_form<'a>(
    raw: &'a [u8],
    at: Range<usize>,
    percent: bool,
    text: Option<&'a str>,
) -> Cow<'a, str> {
    let part = &raw[at.clone()];
    // a byte loop, not `contains` (a `memchr` call): names and values are short
    #[allow(clippy::manual_contains)]
    let plus = part.iter().any(|&b| b == b'+');
    if !(plus || percent && has_escape(part)) {
        // (a replacement character holds no `%`: nothing is left to decode)
        return match text.and_then(|t| t.get(at)) {
            Some(s) => Cow::Borrowed(s),
            None => utf8_lossy(part),
        };
    }
    let once = match String::from_utf8(decode_once(part, true)) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    decode_more(Cow::Owned(once))
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
        let key = utf8_lossy(key);
        let name = Name::Prefixed("cookie", &key);
        scan.value(Source::Cookie, &name, &key)?;
        scan.value(Source::Cookie, &name, &decode(value, false))?;
    }
    Ok(())
}

/// Scans a body the layer read: a form's pairs, a JSON document's keys and strings, an XML
/// document's text and attribute values, a multipart form's fields and file names, or a text
/// body's fields or whole text (see `super::text`). A JSON body that does not parse (or nests deeper than
/// [`MAX_JSON_DEPTH`]) is also inspected whole, as one value named `body`; a truncated body is
/// inspected up to where it was cut.
pub(crate) fn scan_body(
    scan: &mut Scan<'_>,
    body: &ReadBody,
    headers: &HeaderMap,
) -> Result<(), Stop> {
    match body.kind {
        BodyKind::Xml => super::xml::scan_xml(scan, &String::from_utf8_lossy(&body.bytes)),
        BodyKind::Form => scan_pairs(scan, Source::Body, "body", &body.bytes),
        BodyKind::Json => super::json::scan_json(scan, &body.bytes),
        BodyKind::Text => super::text::scan_text(scan, &body.bytes),
        BodyKind::Multipart => {
            let content_type = headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            super::multipart::scan_multipart(scan, content_type, &body.bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::{decode, decode_more, pairs, plain_pairs, scan_pairs, scan_pairs_every};
    use crate::waf::{Scan, Source};

    /// What the scan read before [`pairs`]: `form_urlencoded` and one more decoding.
    fn form_urlencoded_pairs(raw: &[u8]) -> Vec<(String, String)> {
        form_urlencoded::parse(raw)
            .map(|(k, v)| (decode_more(k).into_owned(), decode_more(v).into_owned()))
            .collect()
    }

    #[test]
    fn pairs_decode_as_form_urlencoded_then_more_rounds() {
        let mut queries: Vec<Vec<u8>> = Vec::new();
        for v in crate::waf::tests::corpus_values(false).unwrap_or_default() {
            let q = v.split_once('?').map_or(&*v, |(_, q)| q);
            queries.push(q.as_bytes().to_vec());
            queries.push(format!("a={v}&{v}=b&&c").into_bytes());
        }
        // escapes that decode to invalid UTF-8 after one round and to valid UTF-8 after two
        // (decoded text is made UTF-8 between rounds), `+` and `%2B`, cut escapes
        for q in [
            &b"x=%C3%25A9&y=%C3%A9&z=%ff%2541&%2B=+%2B%252B&%=%4&%%41=1+1"[..],
            b"=&==&a==b&&&+&%&%zz&caf\xc3\xa9=\xff\xfe",
        ] {
            queries.push(q.to_vec());
        }
        for q in &queries {
            let ours: Vec<(String, String)> = pairs(q)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(
                ours,
                form_urlencoded_pairs(q),
                "{:?}",
                String::from_utf8_lossy(q)
            );
        }
        let borrowed = |q: &'static [u8]| {
            pairs(q).all(|(k, v)| matches!((k, v), (Cow::Borrowed(_), Cow::Borrowed(_))))
        };
        assert!(borrowed(b"page=2&sort=created_at&lang=en-US"));
        assert!(!borrowed(b"q=wireless+headphones"));
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

    #[test]
    fn plain_pairs_is_every_pair_plain() {
        let plain = |s: &str| crate::waf::plain(s);
        let long = "a".repeat(crate::waf::PLAIN_MAX);
        let cases = [
            String::new(),
            "page=2&sort=price-asc".into(),
            "a&&b=&=c&".into(),
            "a=b=c".into(),
            "q=a+b".into(),
            "q=%41".into(),
            "q=it's".into(),
            "q=é".into(),
            "q=a.b".into(),
            format!("q={long}"),
            format!("q={long}a"),
            format!("{long}a=1"),
            format!("{long}=1&{long}"),
        ];
        for raw in &cases {
            let every = pairs(raw.as_bytes()).all(|(k, v)| plain(&k) && plain(&v));
            let fast = plain_pairs(raw.as_bytes());
            // sound: never says plain when some name or value is not
            assert!(!fast || every, "{raw:?}");
            // and exact on what needs no decoding, bar a second `=` (taken as not plain)
            let undecoded = !raw.contains(['%', '+']);
            let one_equals = raw.split('&').all(|p| p.matches('=').count() <= 1);
            if undecoded && one_equals {
                assert_eq!(fast, every, "{raw:?}");
            }
        }
        // the empty name and value are plain (nothing to inspect), a second `=` is not
        assert!(plain_pairs(b"a=&=b&&c"));
        assert!(!plain_pairs(b"a=b=c"));
    }

    /// The scan's record of a query or form body read by `read`: its hits (category, rule,
    /// input, fragment) and whether it stopped. (Not the values it counted: the names the
    /// thread remembers clean are skipped the second time.)
    fn scanned(
        read: fn(&mut Scan<'_>, Source, &'static str, &[u8]) -> Result<(), crate::waf::Stop>,
        raw: &[u8],
        source: Source,
        stop_at_first: bool,
    ) -> (Option<crate::waf::Stop>, Vec<crate::waf::Hit>) {
        let mut scan = Scan::new(
            &[],
            stop_at_first,
            std::time::Duration::from_secs(60),
            std::time::Duration::ZERO,
        );
        let stop = read(&mut scan, source, "query", raw).err();
        (stop, scan.hits)
    }

    /// Skipping plain pairs one by one changes nothing the scan reports or counts: every
    /// corpus value as a name and as a value among plain pairs (and pairs with an `A`, which
    /// are not skipped), and random queries of plain words, attack fragments, `=` and `&`.
    #[test]
    fn skipping_plain_pairs_changes_no_hit() {
        let mut queries: Vec<Vec<u8>> = Vec::new();
        // the benchmarks' padding with spots (`typical::spotted_unit`)
        let spotted = format!("s={}> x onabc=1 ", "' or <a on=../;|${ ".repeat(13));
        for v in crate::waf::tests::corpus_values(false).unwrap_or_default() {
            let q = v.split_once('?').map_or(&*v, |(_, q)| q).to_owned();
            queries.push(format!("page=2&{q}&sort=price-asc&Aaaaaaa=1&q={v}&{v}=b").into_bytes());
            queries.push(format!("{spotted}&{q}&id=42").into_bytes());
        }
        let tokens = [
            "page",
            "2",
            "en-US",
            "AAAAAAAAAAAA",
            "rO0ABXNy",
            "=",
            "=",
            "&",
            "&",
            "&",
            "'",
            " or ",
            "+",
            "%27",
            "%2541",
            "<a on=",
            "../",
            ";|",
            "${",
            "union select",
            "x",
            "-",
        ];
        queries.extend(
            crate::waf::tests::token_sequences(0x9a1e_5eed, &tokens, 4000, 24)
                .map(String::into_bytes),
        );
        let (mut skipped, mut hits) = (0, 0);
        for q in &queries {
            for (key, value, plain) in super::pair_ranges(q) {
                let pair = &q[key.start..value.end.max(key.end)];
                assert_eq!(
                    plain,
                    plain_pairs(pair),
                    "{:?}",
                    String::from_utf8_lossy(pair)
                );
            }
            skipped += usize::from(!plain_pairs(q) && q.split(|&b| b == b'&').any(plain_pairs));
            for (source, stop) in [(Source::Query, false), (Source::Body, true)] {
                let new = scanned(scan_pairs, q, source, stop);
                hits += usize::from(!new.1.is_empty());
                assert_eq!(
                    new,
                    scanned(scan_pairs_every, q, source, stop),
                    "{:?}",
                    String::from_utf8_lossy(q)
                );
            }
        }
        assert!(skipped > 1000 && hits > 1000, "{skipped} {hits}");
    }
}
