//! JSON bodies: every key and every string value is handed to the [`Scan`], named by its path
//! (`body.items[2].name`), in document order. Below [`MAX_JSON_DEPTH`] levels, or when a body
//! does not parse, the raw body is also inspected as one value named `body`, so nothing hides
//! below the bound.
//!
//! The walk is a small hand-written JSON reader, not serde: a body is read once, byte by byte,
//! strings without escapes are borrowed from it, and nothing is built for numbers, literals or
//! the document's shape. Through serde (`DeserializeSeed` visitors) the same walk cost about 70
//! instructions a byte, more than the handler's own parse. It accepts what `serde_json` accepts
//! (RFC 8259: one value, surrounded by whitespace; strings of valid UTF-8 without raw control
//! characters, escapes valid, surrogates paired; numbers as the grammar writes them, of any
//! size; containers nested at most [`MAX_NESTING`] deep, `serde_json`'s limit): a test compares
//! both on the corpus and on mangled documents.
//!
//! Repeats: a string equal to one of the last few inspected in the same body (the item names,
//! statuses and currencies of an array of records) is not inspected again (see [`Seen`]).

use std::borrow::Cow;
use std::fmt;

use super::classes::Classes;
use super::inputs::{cut, decode_more, Name, MAX_JSON_DEPTH, MAX_NAME_KEY};
use super::{Scan, Source, Stop, CHUNK};

/// Deepest nesting of arrays and objects a body may have to parse (`serde_json`'s limit).
const MAX_NESTING: usize = 127;

/// Scans a JSON body's keys and strings (see the module docs).
pub(crate) fn scan_json(scan: &mut Scan<'_>, body: &[u8]) -> Result<(), Stop> {
    let parsed = match std::str::from_utf8(body) {
        Ok(text) => {
            let mut walk = Walk {
                scan,
                path: Path::new(),
                escaped_keys: Vec::new(),
                too_deep: false,
                seen: Seen::default(),
            };
            let mut reader = Reader { text, at: 0 };
            match reader.document(&mut walk) {
                Ok(()) => !walk.too_deep,
                Err(Failure::Stop(stop)) => return Err(stop),
                Err(Failure::Invalid) => false,
            }
        }
        Err(_) => false,
    };
    if !parsed {
        let raw = String::from_utf8_lossy(body);
        scan.value(Source::Body, &Name::Raw("body"), &raw)?;
    }
    Ok(())
}

/// Why a walk ended early.
#[derive(Debug)]
enum Failure {
    /// The scan stopped (a hit in block mode, or the budget).
    Stop(Stop),
    /// The body is not JSON.
    Invalid,
}

impl From<Stop> for Failure {
    fn from(stop: Stop) -> Self {
        Failure::Stop(stop)
    }
}

type Parsed<T = ()> = Result<T, Failure>;

/// The state of a JSON walk: the scan, the path of the current value, the strings already
/// inspected.
struct Walk<'s, 'r, 'de> {
    scan: &'s mut Scan<'r>,
    /// Where the current value sits; written out (`body.user.name`) only for a value the
    /// detectors run on, which most (words, numbers, repeats) are not.
    path: Path<'de>,
    /// The keys written with escapes, decoded (rare): [`Step::Escaped`] points here. Kept for
    /// the whole walk, so leaving a member is only a shorter path; bounded by the body.
    escaped_keys: Vec<String>,
    too_deep: bool,
    seen: Seen<'de>,
}

/// One step of a path: an object's key (borrowed from the body, or decoded) or an array's
/// index. `Copy`, so leaving a member drops nothing.
#[derive(Clone, Copy)]
enum Step<'de> {
    Key(&'de str),
    Escaped(usize),
    Index(usize),
}

/// Steps a path can have: keys and indexes are only added at the inspected depths.
const MAX_PATH: usize = MAX_JSON_DEPTH + 1;

/// The steps of the current value's path, kept inline: a walk allocates nothing for them.
struct Path<'de> {
    steps: [Step<'de>; MAX_PATH],
    len: usize,
}

impl<'de> Path<'de> {
    fn new() -> Self {
        Path {
            steps: [Step::Index(0); MAX_PATH],
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Adds a step (never past [`MAX_PATH`], which the walk does not reach).
    fn push(&mut self, step: Step<'de>) {
        if let Some(slot) = self.steps.get_mut(self.len) {
            *slot = step;
            self.len += 1;
        }
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    fn steps(&self) -> &[Step<'de>] {
        &self.steps[..self.len]
    }
}

/// The path's name as events give it: `body.items[2].name`, each key cut to
/// [`MAX_NAME_KEY`] bytes. Written out only when a detector matches: most inspected values
/// match nothing, and their names are never needed.
struct PathName<'a, 'de> {
    path: &'a [Step<'de>],
    escaped_keys: &'a [String],
}

impl fmt::Display for PathName<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("body")?;
        for step in self.path {
            match *step {
                Step::Key(key) => write!(f, ".{}", cut(key, MAX_NAME_KEY))?,
                Step::Escaped(i) => {
                    let key = self.escaped_keys.get(i).map_or("", String::as_str);
                    write!(f, ".{}", cut(key, MAX_NAME_KEY))?;
                }
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
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
    /// Inspects a JSON string (a key or a value) named by the current path; `Borrowed` when it
    /// is a slice of the body (no escapes). Keys are parameter names ([`Scan::param_name`]).
    fn inspect(&mut self, value: Cow<'de, str>, key: bool) -> Result<(), Stop> {
        // words and numbers are never inspected (and need no decoding): not worth
        // remembering; the empty string is `Seen`'s filler
        if value.is_empty() || super::plain(&value) || self.seen.contains(&value) {
            return Ok(());
        }
        let name = PathName {
            path: self.path.steps(),
            escaped_keys: &self.escaped_keys,
        };
        // the byte classes first: without a `%` there is nothing to decode, and the scan
        // takes them as they are
        let classes = (value.len() <= CHUNK).then(|| Classes::of(value.as_bytes()));
        match classes {
            Some(classes) if !classes.has_percent() => {
                if key {
                    self.scan
                        .param_name_classified(Source::Body, &name, &value, classes)?;
                } else {
                    self.scan
                        .value_classified(Source::Body, &name, &value, classes)?;
                }
            }
            _ => {
                let decoded = decode_more(Cow::Borrowed(value.as_ref()));
                if key {
                    self.scan.param_name(Source::Body, &name, &decoded)?;
                } else {
                    self.scan.value(Source::Body, &name, &decoded)?;
                }
            }
        }
        if let Cow::Borrowed(v) = value {
            self.seen.insert(v);
        }
        Ok(())
    }
}

/// What a [`Reader`] reports as it goes: the keys and strings of values it inspects, with
/// where they sit.
trait Sink<'de> {
    /// An object key at the inspected depths: appends it to the path and inspects it; returns
    /// the path's length before, for [`Sink::leave`].
    fn key(&mut self, key: Cow<'de, str>, plain: bool) -> Result<usize, Stop>;
    /// An array element at the inspected depths: appends its index to the path; returns the
    /// path's length before.
    fn index(&mut self, index: usize) -> usize;
    /// Back to the path of length `len`.
    fn leave(&mut self, len: usize);
    /// A string value at the inspected depths (`plain`: known to be plain, nothing to inspect).
    fn string(&mut self, value: Cow<'de, str>, plain: bool) -> Result<(), Stop>;
    /// A value below the inspected depths was met.
    fn too_deep(&mut self);
}

impl<'de> Sink<'de> for Walk<'_, '_, 'de> {
    fn key(&mut self, key: Cow<'de, str>, plain: bool) -> Result<usize, Stop> {
        let len = self.path.len();
        let step = match &key {
            Cow::Borrowed(key) => Step::Key(key),
            Cow::Owned(key) => {
                self.escaped_keys.push(key.clone());
                Step::Escaped(self.escaped_keys.len() - 1)
            }
        };
        self.path.push(step);
        if !plain {
            self.inspect(key, true)?;
        }
        Ok(len)
    }

    fn index(&mut self, index: usize) -> usize {
        let len = self.path.len();
        self.path.push(Step::Index(index));
        len
    }

    fn leave(&mut self, len: usize) {
        self.path.truncate(len);
    }

    fn string(&mut self, value: Cow<'de, str>, plain: bool) -> Result<(), Stop> {
        if plain {
            return Ok(());
        }
        self.inspect(value, false)
    }

    fn too_deep(&mut self) {
        self.too_deep = true;
    }
}

/// Reads a JSON document from `text` (already known to be UTF-8), position `at`.
struct Reader<'de> {
    text: &'de str,
    at: usize,
}

impl<'de> Reader<'de> {
    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// One value, surrounded by whitespace only.
    fn document(&mut self, walk: &mut impl Sink<'de>) -> Parsed {
        self.value(walk, 0, 0)?;
        self.skip_whitespace();
        if self.at == self.text.len() {
            Ok(())
        } else {
            Err(Failure::Invalid)
        }
    }

    /// One value at `depth` (its path's length, as the walk counts it: the document is 0)
    /// inside `nesting` containers. Values deeper than [`MAX_JSON_DEPTH`] are read, not
    /// inspected.
    fn value(&mut self, walk: &mut impl Sink<'de>, depth: usize, nesting: usize) -> Parsed {
        self.skip_whitespace();
        let inspect = depth <= MAX_JSON_DEPTH;
        if !inspect {
            walk.too_deep();
        }
        match self.peek().ok_or(Failure::Invalid)? {
            b'{' => {
                let nesting = self.open(b'}', nesting)?;
                if nesting == 0 {
                    return Ok(());
                }
                loop {
                    self.skip_whitespace();
                    if self.peek() != Some(b'"') {
                        return Err(Failure::Invalid);
                    }
                    let (key, plain) = self.string()?;
                    let len = if inspect {
                        Some(walk.key(key, plain)?)
                    } else {
                        None
                    };
                    self.skip_whitespace();
                    if self.peek() != Some(b':') {
                        return Err(Failure::Invalid);
                    }
                    self.at += 1;
                    if self.member(walk, (len, b'}'), depth, nesting)? {
                        return Ok(());
                    }
                }
            }
            b'[' => {
                let nesting = self.open(b']', nesting)?;
                if nesting == 0 {
                    return Ok(());
                }
                let mut index = 0usize;
                loop {
                    let len = inspect.then(|| walk.index(index));
                    if self.member(walk, (len, b']'), depth, nesting)? {
                        return Ok(());
                    }
                    index += 1;
                }
            }
            b'"' => {
                let (s, plain) = self.string()?;
                if inspect {
                    walk.string(s, plain)?;
                }
                Ok(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Failure::Invalid),
        }
    }

    /// Past the opening bracket of a container whose closing one is `close`: its nesting, or 0
    /// when it is empty (and already closed).
    fn open(&mut self, close: u8, nesting: usize) -> Parsed<usize> {
        let nesting = nesting + 1;
        if nesting > MAX_NESTING {
            return Err(Failure::Invalid);
        }
        self.at += 1;
        self.skip_whitespace();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(0);
        }
        Ok(nesting)
    }

    /// A member's value (its path pushed as `len` says), then the `,` after it or the container's
    /// closing bracket `close`: true when the container is closed.
    fn member(
        &mut self,
        walk: &mut impl Sink<'de>,
        (len, close): (Option<usize>, u8),
        depth: usize,
        nesting: usize,
    ) -> Parsed<bool> {
        let value = self.element(walk, depth + 1, nesting);
        if let Some(len) = len {
            walk.leave(len);
        }
        value?;
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                Ok(false)
            }
            Some(b) if b == close => {
                self.at += 1;
                Ok(true)
            }
            _ => Err(Failure::Invalid),
        }
    }

    /// A member's value: strings and numbers read here (most members are), anything else by
    /// [`Reader::value`].
    fn element(&mut self, walk: &mut impl Sink<'de>, depth: usize, nesting: usize) -> Parsed {
        self.skip_whitespace();
        if depth > MAX_JSON_DEPTH {
            return self.value(walk, depth, nesting);
        }
        match self.peek() {
            Some(b'"') => {
                let (s, plain) = self.string()?;
                walk.string(s, plain)?;
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.value(walk, depth, nesting),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Parsed {
        if self.bytes()[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Failure::Invalid)
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Parsed {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Failure::Invalid),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.required_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn required_digits(&mut self) -> Parsed {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            _ => Err(Failure::Invalid),
        }
    }

    /// A string, at its opening quote: borrowed from the body when it has no escape, and
    /// whether it is known to be plain ([`super::plain`]: a short one of letters, digits and
    /// `-` only, found out while reading it; `false` also means "not known").
    fn string(&mut self) -> Parsed<(Cow<'de, str>, bool)> {
        self.at += 1;
        let start = self.at;
        let bytes = self.bytes();
        // the common case: no escape before the closing quote. Short strings (keys, words) are
        // read byte by byte through a class table; past 16 bytes `memchr` finds the quote or
        // backslash, and the control characters JSON forbids in strings are looked for in one
        // branch-free pass.
        let short = bytes.len().min(start + 16);
        let mut plain = true;
        let mut quick = None;
        // a string of one byte or none (`""`, `"a"`: tags, flags) from the table; then eight
        // bytes at once (most keys and short values end there)
        let mut from = start;
        // (past the text's end: no class, so the slow path below reports the cut)
        let class = |k: usize| bytes.get(k).map_or(0, |&b| STRING_CLASS[usize::from(b)]);
        let (c0, c1) = (class(start), class(start + 1));
        if c0 & STOP != 0 {
            quick = Some(0);
        } else if c1 & STOP != 0 {
            quick = Some(1);
            plain = c0 & PLAIN != 0;
        } else if let Some(word) = bytes.get(start..start + 8) {
            let (stop, plain_bytes) =
                classify8(u64::from_le_bytes(word.try_into().expect("eight bytes")));
            let before = if stop == 0 {
                u64::MAX
            } else {
                // the bytes before the first stop
                (1u64 << stop.trailing_zeros()) - 1
            };
            plain = !plain_bytes & HI & before == 0;
            if stop != 0 {
                quick = Some(stop.trailing_zeros() as usize / 8);
            }
            from = start + 8;
        }
        if quick.is_none() {
            for (k, &b) in bytes[from..short].iter().enumerate() {
                let class = STRING_CLASS[usize::from(b)];
                if class & STOP != 0 {
                    quick = Some(from - start + k);
                    break;
                }
                plain &= class & PLAIN != 0;
            }
        }
        let i = match quick {
            Some(at) => start + at,
            None => {
                plain = false;
                let at = memchr::memchr2(b'"', b'\\', &bytes[short..]).ok_or(Failure::Invalid)?;
                if has_control(&bytes[short..short + at]) {
                    return Err(Failure::Invalid);
                }
                short + at
            }
        };
        match bytes[i] {
            b'"' => {
                self.at = i + 1;
                return Ok((Cow::Borrowed(&self.text[start..i]), plain));
            }
            b'\\' => {}
            _ => return Err(Failure::Invalid),
        }
        let mut out = String::from(&self.text[start..i]);
        let mut i = i;
        loop {
            let rest = self.text.get(i..).ok_or(Failure::Invalid)?;
            let run = rest
                .bytes()
                .position(|b| b == b'"' || b == b'\\' || b < 0x20)
                .ok_or(Failure::Invalid)?;
            out.push_str(&rest[..run]);
            i += run;
            match bytes[i] {
                b'"' => {
                    self.at = i + 1;
                    return Ok((Cow::Owned(out), false));
                }
                b'\\' => {
                    let (c, used) = escape(&bytes[i + 1..])?;
                    out.push(c);
                    i += 1 + used;
                }
                _ => return Err(Failure::Invalid),
            }
        }
    }
}

/// [`STRING_CLASS`]: a byte that ends the quick read of a string (`"`, `\\`, a control
/// character).
const STOP: u8 = 1;
/// [`STRING_CLASS`]: a byte [`super::plain`] accepts (ASCII letter, digit, `-`).
const PLAIN: u8 = 2;

/// The high bit of every byte.
const HI: u64 = 0x8080_8080_8080_8080;
const LO: u64 = 0x0101_0101_0101_0101;

/// Eight bytes of a JSON string, as [`STRING_CLASS`] sees them: the high bit of each byte that
/// is a [`STOP`], and of each that is [`PLAIN`]. Exact for every byte: each comparison works
/// on seven-bit bytes with their high bit set first, so no borrow crosses from one to the next.
fn classify8(x: u64) -> (u64, u64) {
    let ascii = !x & HI;
    let y = x & !HI;
    // the high bit of each byte of `y` that is at least `c`
    let ge = |c: u8| ((y | HI) - LO * u64::from(c)) & HI;
    let range = |lo: u8, hi: u8| ge(lo) & !ge(hi + 1);
    let stop = (!ge(0x20) | range(b'"', b'"') | range(b'\\', b'\\')) & ascii;
    let plain =
        (range(b'0', b'9') | range(b'A', b'Z') | range(b'a', b'z') | range(b'-', b'-')) & ascii;
    (stop, plain)
}

/// The class of each byte inside a JSON string: [`STOP`], [`PLAIN`] or neither.
static STRING_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c == b'"' || c == b'\\' || c < 0x20 {
            STOP
        } else if c.is_ascii_alphanumeric() || c == b'-' {
            PLAIN
        } else {
            0
        };
        b += 1;
    }
    t
};

/// Whether `bytes` hold a control character (below U+0020), without a branch per byte.
fn has_control(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |found, &b| found | (b < 0x20))
}

/// The character of the escape after a backslash, and how many bytes it took.
fn escape(after: &[u8]) -> Parsed<(char, usize)> {
    let c = match after.first() {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let high = hex4(after.get(1..5))?;
            if !(0xD800..0xE000).contains(&high) {
                return char::from_u32(high).map(|c| (c, 5)).ok_or(Failure::Invalid);
            }
            // a surrogate: a high one followed by an escaped low one, or nothing valid
            if high >= 0xDC00 || after.get(5..7) != Some(b"\\u") {
                return Err(Failure::Invalid);
            }
            let low = hex4(after.get(7..11))?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(Failure::Invalid);
            }
            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return char::from_u32(code)
                .map(|c| (c, 11))
                .ok_or(Failure::Invalid);
        }
        _ => return Err(Failure::Invalid),
    };
    Ok((c, 1))
}

/// Four hex digits as a number.
fn hex4(digits: Option<&[u8]>) -> Parsed<u32> {
    let digits = digits.ok_or(Failure::Invalid)?;
    digits.iter().try_fold(0u32, |n, &d| {
        let v = char::from(d).to_digit(16).ok_or(Failure::Invalid)?;
        Ok(n * 16 + v)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use std::borrow::Cow;

    use super::{scan_json, Reader, Sink, Stop, SEEN};
    use crate::waf::{AttackCategory, Scan};

    /// The categories and inputs of the hits a JSON body gives, and how many values the
    /// detectors ran on.
    fn json_scan(body: &str) -> (Vec<(AttackCategory, String)>, u32) {
        let mut scan = Scan::new(&[], false, Duration::from_secs(10), Duration::ZERO);
        scan_json(&mut scan, body.as_bytes()).unwrap();
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
    fn escaped_keys_are_named_decoded() {
        let body =
            r#"{"a\u0042": {"c": ["x", "<script>alert(1)</script>"]}, "d\"e": "' OR 1=1 --"}"#;
        assert_eq!(
            json_hits(body),
            [
                (AttackCategory::Xss, "body.aB.c[1]".to_owned()),
                (AttackCategory::Sqli, "body.d\"e".to_owned()),
            ]
        );
    }

    #[test]
    fn array_indices_are_named_in_decimal() {
        let attack = "<script>alert(1)</script>";
        for (i, name) in [
            (0, "body.a[0][0]"),
            (10, "body.a[0][10]"),
            (1000, "body.a[0][1000]"),
        ] {
            let mut doc = vec!["-"; 1001];
            doc[i] = attack;
            let body = serde_json::json!({ "a": [doc] }).to_string();
            assert_eq!(json_hits(&body), [(AttackCategory::Xss, name.to_owned())]);
        }
    }

    /// What the reader reports, for comparison with `serde_json`.
    #[derive(Default)]
    struct Collect {
        strings: Vec<String>,
        too_deep: bool,
    }

    impl<'de> Sink<'de> for Collect {
        fn key(&mut self, key: Cow<'de, str>, plain: bool) -> Result<usize, Stop> {
            assert!(!plain || crate::waf::plain(&key), "{key:?} is not plain");
            self.strings.push(key.to_string());
            Ok(0)
        }
        fn index(&mut self, _: usize) -> usize {
            0
        }
        fn leave(&mut self, _: usize) {}
        fn string(&mut self, value: Cow<'de, str>, plain: bool) -> Result<(), Stop> {
            assert!(
                !plain || crate::waf::plain(&value),
                "{value:?} is not plain"
            );
            self.strings.push(value.to_string());
            Ok(())
        }
        fn too_deep(&mut self) {
            self.too_deep = true;
        }
    }

    /// The keys and strings the reader reports, or `None` when it refuses the document.
    fn read(doc: &[u8]) -> Option<Collect> {
        let text = std::str::from_utf8(doc).ok()?;
        let mut out = Collect::default();
        Reader { text, at: 0 }.document(&mut out).ok()?;
        Some(out)
    }

    fn serde_strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| serde_strings(v, out)),
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    serde_strings(v, out);
                }
            }
            _ => {}
        }
    }

    /// Checks the reader against `serde_json` on one document: the same verdict, and when
    /// both accept it (and it is within the inspected depth), the same keys and strings.
    fn agrees(doc: &[u8]) {
        let ours = read(doc);
        let theirs = serde_json::from_slice::<serde_json::Value>(doc);
        if let Err(e) = &theirs {
            // serde_json refuses floats past f64's range; JSON's grammar does not
            if e.to_string().contains("number out of range") {
                return;
            }
        }
        let shown = String::from_utf8_lossy(doc);
        assert_eq!(ours.is_some(), theirs.is_ok(), "{shown:?}: {theirs:?}");
        if let (Some(ours), Ok(theirs)) = (ours, theirs) {
            if ours.too_deep {
                return;
            }
            let mut expected = Vec::new();
            serde_strings(&theirs, &mut expected);
            let mut got = ours.strings;
            expected.sort();
            got.sort();
            // serde_json keeps the last of duplicate keys' values: ours reads them all
            if got != expected {
                expected.dedup();
                got.dedup();
            }
            assert_eq!(got, expected, "{shown:?}");
        }
    }

    /// `classify8` gives `STRING_CLASS`'s verdict on every byte, whatever its neighbours
    /// (every byte value in every position, among random neighbours).
    #[test]
    fn eight_bytes_at_once_are_classified_as_one_by_one() {
        use super::{classify8, PLAIN, STOP, STRING_CLASS};
        let mut seed = 0x5851_f42d_4c95_7f2du64;
        for pos in 0..8 {
            for v in 0..=255u8 {
                for _ in 0..16 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let mut w = seed.to_le_bytes();
                    w[pos] = v;
                    let (stop, plain) = classify8(u64::from_le_bytes(w));
                    for (k, &b) in w.iter().enumerate() {
                        let class = STRING_CLASS[usize::from(b)];
                        let bit = 1u64 << (8 * k + 7);
                        assert_eq!(stop & bit != 0, class & STOP != 0, "{w:?} at {k}");
                        assert_eq!(plain & bit != 0, class & PLAIN != 0, "{w:?} at {k}");
                    }
                    assert_eq!((stop | plain) & !super::HI, 0);
                }
            }
        }
    }

    #[test]
    fn the_reader_agrees_with_serde_json() {
        let edge: &[&str] = &[
            "",
            " ",
            "{}",
            "[]",
            " [ ] ",
            "{ }",
            "1",
            "-0",
            "-",
            "01",
            "1.",
            "1.5e",
            "1e+5",
            "-1.25E-3",
            "1e400",
            ".5",
            "+1",
            "true",
            "tru",
            "nul",
            "null ",
            "falsey",
            "\"\"",
            "\"a",
            "\"\\\"",
            r#""\u00e9\n\t\/\\\"""#,
            r#""\ud83d\ude00""#,
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud83d\u0041""#,
            r#""\u12""#,
            r#""\x""#,
            "\"a\u{1}b\"",
            "\"a\u{7f}b\"",
            r#"{"a":1,}"#,
            r#"[1,]"#,
            r#"{"a" 1}"#,
            r#"{1:2}"#,
            r#"{"a":}"#,
            r#"[1 2]"#,
            r#"{"a":[{"b":"c"}],"d":{"e":["f",null,true,-1.5e3]}}"#,
            "[] []",
            "[1}",
            r#"{"a":1]"#,
            r#"[{"a":[1}]]"#,
            r#"{"k\u0041y":"v\"al"}"#,
            "\u{feff}{}",
            "[\"é\", \"日本\"]",
            "\t\r\n[1]\n",
        ];
        for doc in edge {
            agrees(doc.as_bytes());
        }
        agrees(b"\"\xff\"");
        agrees(b"[\"a\xc3\"]");
        // nesting: serde_json's limit, and the inspected depth
        for n in [63, 64, 65, 66, 127, 128, 129, 200] {
            agrees(format!("{}{}", "[".repeat(n), "]".repeat(n)).as_bytes());
            let deep = format!("{}\"x\"{}", "{\"k\":".repeat(n), "}".repeat(n));
            agrees(deep.as_bytes());
        }
        // the corpus: every record is a JSON document, and so is each value wrapped
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
        let mut docs: Vec<Vec<u8>> = Vec::new();
        for file in ["values.jsonl", "crs-requests.jsonl"] {
            let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
            docs.extend(text.lines().map(|l| l.as_bytes().to_vec()));
        }
        for v in crate::waf::tests::corpus_values(true) {
            let doc = serde_json::json!({ "q": v, "list": [v, { "k": [v] }] });
            docs.push(doc.to_string().into_bytes());
        }
        for doc in &docs {
            agrees(doc);
        }
        // mangled: cut short, and bytes replaced by the ones JSON's syntax hangs on
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(0x0150_7a1c);
        let syntax = b"\"\\{}[],:0123456789eE-+.u tnfx\x01";
        for doc in docs.iter().step_by(7) {
            if doc.is_empty() {
                continue;
            }
            agrees(&doc[..rng.random_range(0..doc.len())]);
            let mut mangled = doc.clone();
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..mangled.len());
                mangled[at] = syntax[rng.random_range(0..syntax.len())];
            }
            agrees(&mangled);
        }
    }
}
