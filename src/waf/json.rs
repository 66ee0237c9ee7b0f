//! JSON bodies: every key and every string value is handed to the [`Scan`], named by its path
//! (`body.items[2].name`), in document order. Below [`MAX_JSON_DEPTH`] levels, or when a body
//! does not parse, the raw body is also inspected as one value named `body`, so nothing hides
//! below the bound.
//!
//! The walk is a small hand-written JSON reader, not serde: a body is read once, in one loop
//! (no recursion: the open containers are bits of one integer, see [`Reader`]), strings
//! without escapes are borrowed from it, and nothing is built for numbers, literals, the
//! document's shape or the strings known plain (their names are not even made). Through
//! serde (`DeserializeSeed` visitors) the same walk cost about 70 instructions a byte, more
//! than the handler's own parse. It accepts what `serde_json` accepts
//! (RFC 8259: one value, surrounded by whitespace; strings of valid UTF-8 without raw control
//! characters, escapes valid, surrogates paired; numbers as the grammar writes them, of any
//! size; containers nested at most [`MAX_NESTING`] deep, `serde_json`'s limit): a test compares
//! both on the corpus and on mangled documents, string by string and name by name.
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
    scan_json_as(scan, body, false)
}

/// [`scan_json`], with the strings inspected as they were before the byte classes decided
/// which are plain (`before`; a test compares both).
#[cfg(test)]
fn scan_json_before(scan: &mut Scan<'_>, body: &[u8]) -> Result<(), Stop> {
    scan_json_as(scan, body, true)
}

fn scan_json_as(scan: &mut Scan<'_>, body: &[u8], _before: bool) -> Result<(), Stop> {
    let parsed = match std::str::from_utf8(body) {
        Ok(text) => {
            let mut walk = Walk {
                scan,
                too_deep: false,
                seen: Seen::default(),
                #[cfg(test)]
                before: _before,
            };
            let mut reader = Reader::new(text);
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

/// The state of a JSON walk: the scan and the strings already inspected.
struct Walk<'s, 'r, 'de> {
    scan: &'s mut Scan<'r>,
    too_deep: bool,
    seen: Seen<'de>,
    /// Inspect as before the byte classes decided which strings are plain.
    #[cfg(test)]
    before: bool,
}

/// One step of a path: an object's key (where it is in the body, or decoded) or an array's
/// index. `Copy`, so leaving a member drops nothing.
#[derive(Clone, Copy)]
enum Step {
    Key(usize, usize),
    Escaped(usize),
    Index(usize),
}

/// Steps a path can have: keys and indexes are only kept at the inspected depths.
const MAX_PATH: usize = MAX_JSON_DEPTH + 1;

/// Where the reader is: the step each open container is at, kept inline (a walk allocates
/// nothing for them). The path of a value inside `n` containers is the first `n` steps;
/// steps past it are left over from earlier members and never read.
struct Path<'de> {
    /// The body's text, which [`Step::Key`] points into.
    text: &'de str,
    steps: [Step; MAX_PATH],
    /// The keys written with escapes, decoded (rare): [`Step::Escaped`] points here. Kept for
    /// the whole walk, so leaving a member costs nothing; bounded by the body.
    escaped_keys: Vec<String>,
}

impl<'de> Path<'de> {
    fn new(text: &'de str) -> Self {
        Path {
            text,
            steps: [Step::Index(0); MAX_PATH],
            escaped_keys: Vec::new(),
        }
    }

    /// The step of the member the container at `nesting` (1: the document's) is at (nothing
    /// past [`MAX_PATH`], which is not inspected).
    fn set(&mut self, nesting: usize, step: Step) {
        if let Some(slot) = self.steps.get_mut(nesting.wrapping_sub(1)) {
            *slot = step;
        }
    }

    /// The array at `nesting` moves on to its next element.
    fn next_index(&mut self, nesting: usize) {
        if let Some(Step::Index(index)) = self.steps.get_mut(nesting.wrapping_sub(1)) {
            *index += 1;
        }
    }

    /// The name of a value inside `nesting` containers.
    fn name(&self, nesting: usize) -> PathName<'_, 'de> {
        PathName {
            path: self,
            len: nesting,
        }
    }
}

/// The path's name as events give it: `body.items[2].name`, each key cut to
/// [`MAX_NAME_KEY`] bytes. Written out only when a detector matches: most inspected values
/// match nothing, and their names are never needed.
struct PathName<'a, 'de> {
    path: &'a Path<'de>,
    /// How many of its steps.
    len: usize,
}

impl fmt::Display for PathName<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("body")?;
        for step in self.path.steps.iter().take(self.len) {
            match *step {
                Step::Key(start, end) => {
                    let key = self.path.text.get(start..end).unwrap_or("");
                    write!(f, ".{}", cut(key, MAX_NAME_KEY))?;
                }
                Step::Escaped(i) => {
                    let key = self.path.escaped_keys.get(i).map_or("", String::as_str);
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
///
/// A string of the same length as a remembered one has its first and last eight bytes
/// compared with that one's first ([`ends`]); the bytes themselves only when those match too
/// and it is longer than sixteen (up to sixteen bytes its ends are the whole string). Without
/// this, a body of short distinct strings of one length (`"a_1000"`, `"a_1001"`, ...) cost
/// sixteen `memcmp` calls a string.
#[derive(Default)]
struct Seen<'de> {
    values: [&'de str; SEEN],
    next: usize,
}

/// The first and the last eight bytes of `b` (four when shorter, the bytes themselves below
/// four): of two strings of one length and at most sixteen bytes, equal ends are equal strings.
fn ends(b: &[u8]) -> (u64, u64) {
    if let (Some(head), Some(tail)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        return (u64::from_le_bytes(*head), u64::from_le_bytes(*tail));
    }
    if let (Some(head), Some(tail)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        return (
            u64::from(u32::from_le_bytes(*head)),
            u64::from(u32::from_le_bytes(*tail)),
        );
    }
    (b.iter().fold(0, |x, &c| x << 8 | u64::from(c)), 0)
}

/// Longest string whose [`ends`] are the whole string.
const ENDS_WHOLE: usize = 16;

impl<'de> Seen<'de> {
    fn contains(&self, value: &str) -> bool {
        if value.len() > SEEN_MAX_LEN {
            return false;
        }
        #[cfg(test)]
        if SEEN_BYTES_ONLY.get() {
            return self.values.contains(&value);
        }
        // (most strings have a length none of the remembered ones has)
        match self.values.iter().position(|v| v.len() == value.len()) {
            Some(first) => self.contains_from(first, value),
            None => false,
        }
    }

    /// [`Seen::contains`] from the first remembered string of `value`'s length on.
    #[inline(never)]
    fn contains_from(&self, first: usize, value: &str) -> bool {
        let mine = ends(value.as_bytes());
        self.values[first..].iter().any(|v| {
            v.len() == value.len()
                && ends(v.as_bytes()) == mine
                && (value.len() <= ENDS_WHOLE || *v == value)
        })
    }

    fn insert(&mut self, value: &'de str) {
        if value.len() <= SEEN_MAX_LEN {
            self.values[self.next] = value;
            self.next = (self.next + 1) % SEEN;
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Tests only: [`Seen::contains`] compares the strings' bytes alone, as before the [`ends`].
    static SEEN_BYTES_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A string the reader read: where it is in the body (no escapes), or its decoded text (kept
/// by the reader until the next escaped string). The body's part is only sliced when asked
/// for: most strings (plain ones) are never looked at again.
#[derive(Clone, Copy)]
enum Text<'a, 'de> {
    Body(&'de str, usize, usize),
    Decoded(&'a str),
}

impl<'de> Text<'_, 'de> {
    fn as_str(&self) -> &str {
        match *self {
            Text::Body(text, start, end) => &text[start..end],
            Text::Decoded(s) => s,
        }
    }

    /// The string as a slice of the body, when it is one.
    fn body(&self) -> Option<&'de str> {
        match *self {
            Text::Body(text, start, end) => Some(&text[start..end]),
            Text::Decoded(_) => None,
        }
    }
}

impl<'de> Walk<'_, '_, 'de> {
    /// Inspects a JSON string (a key or a value) named `name`. Keys are parameter names
    /// ([`Scan::param_name`]).
    fn inspect(
        &mut self,
        name: &PathName<'_, 'de>,
        text: Text<'_, 'de>,
        key: bool,
    ) -> Result<(), Stop> {
        #[cfg(test)]
        if self.before {
            return self.inspect_before(name, text, key);
        }
        let value = text.as_str();
        // the empty string is `Seen`'s filler; a repeat is looked up first (the item names
        // of an array of records)
        if value.is_empty() || self.seen.contains(value) {
            return Ok(());
        }
        // the byte classes: without a `%` there is nothing to decode, and the scan takes them
        // as they are; words and numbers are never inspected (and need no decoding): not
        // worth remembering (a plain value is never in `Seen`, so looking it up first
        // changes nothing; its classes say it is plain without a pass of its own)
        let excluded_before = self.scan.excluded_findings;
        let classes = (value.len() <= CHUNK).then(|| Classes::of(value.as_bytes()));
        if classes.is_some_and(|c| c.only_plain_bytes() && value.len() <= super::PLAIN_MAX)
            && !super::code::plain_may_hide(value.as_bytes(), false)
        {
            return Ok(());
        }
        self.dispatch(name, value, classes, key)?;
        self.remember(text, excluded_before);
        Ok(())
    }

    /// Sends `value` (named `name`, a key when `key`) to the scan: as it is with its byte
    /// `classes` when it holds no `%`, decoded otherwise.
    fn dispatch(
        &mut self,
        name: &PathName<'_, 'de>,
        value: &str,
        classes: Option<Classes>,
        key: bool,
    ) -> Result<(), Stop> {
        match classes {
            Some(classes) if !classes.has_percent() => {
                if key {
                    self.scan
                        .param_name_classified(Source::Body, name, value, classes)?;
                } else {
                    self.scan
                        .value_classified(Source::Body, name, value, classes)?;
                }
            }
            _ => {
                let decoded = decode_more(Cow::Borrowed(value));
                if key {
                    self.scan.param_name(Source::Body, name, &decoded)?;
                } else {
                    self.scan.value(Source::Body, name, &decoded)?;
                }
            }
        }
        Ok(())
    }

    /// Remembers an inspected body string, unless an exclusion covered a finding in it: a
    /// value an exclusion covered here may not be covered under another name.
    fn remember(&mut self, text: Text<'_, 'de>, excluded_before: u32) {
        if let Some(v) = text
            .body()
            .filter(|_| self.scan.excluded_findings == excluded_before)
        {
            self.seen.insert(v);
        }
    }

    /// [`Walk::inspect`] as it was: a pass of [`super::plain`] before the repeats are looked
    /// up and the byte classes taken.
    #[cfg(test)]
    fn inspect_before(
        &mut self,
        name: &PathName<'_, 'de>,
        text: Text<'_, 'de>,
        key: bool,
    ) -> Result<(), Stop> {
        let value = text.as_str();
        if value.is_empty()
            || (super::plain(value) && !super::code::plain_may_hide(value.as_bytes(), false))
            || self.seen.contains(value)
        {
            return Ok(());
        }
        let excluded_before = self.scan.excluded_findings;
        let classes = (value.len() <= CHUNK).then(|| Classes::of(value.as_bytes()));
        self.dispatch(name, value, classes, key)?;
        self.remember(text, excluded_before);
        Ok(())
    }
}

/// What a [`Reader`] reports as it goes: the keys and strings at the inspected depths, named
/// by their path, and whether a value lay below them.
trait Sink<'de> {
    /// Whether plain keys and strings are reported too (the walk has nothing to do with them:
    /// the reader then does not even make their names).
    const PLAIN_TOO: bool = false;
    /// A string value, or an object's key (`key`: its path ends with it); `plain`: known to
    /// be plain, nothing to inspect.
    fn string(
        &mut self,
        name: &PathName<'_, 'de>,
        text: Text<'_, 'de>,
        plain: bool,
        key: bool,
    ) -> Result<(), Stop>;
    /// A value below the inspected depths was met.
    fn too_deep(&mut self);
}

impl<'de> Sink<'de> for Walk<'_, '_, 'de> {
    #[inline(always)]
    fn string(
        &mut self,
        name: &PathName<'_, 'de>,
        text: Text<'_, 'de>,
        plain: bool,
        key: bool,
    ) -> Result<(), Stop> {
        if plain {
            return Ok(());
        }
        self.inspect(name, text, key)
    }

    fn too_deep(&mut self) {
        self.too_deep = true;
    }
}

/// Reads a JSON document from `text` (already known to be UTF-8), position `at`.
///
/// One loop, no recursion: the open containers are bits of one integer (1 an object, 0 an
/// array; [`MAX_NESTING`] fits), and after each value the loop reads the `,` or the closing
/// brackets that follow it. Most of a body is keys, short strings and numbers, so what each
/// token costs beside its bytes is what counts.
struct Reader<'de> {
    text: &'de str,
    at: usize,
    /// The last string read that had escapes, decoded ([`ESCAPED`]).
    decoded: String,
}

/// [`Reader::string`]'s verdict: the string is plain ([`super::plain`]).
const PLAIN_STRING: u8 = 1;
/// [`Reader::string`]'s verdict: the string has escapes; its text is [`Reader::decoded`].
const ESCAPED: u8 = 2;

impl<'de> Reader<'de> {
    fn new(text: &'de str) -> Self {
        Reader {
            text,
            at: 0,
            decoded: String::new(),
        }
    }

    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        let bytes = self.bytes();
        let mut at = self.at;
        // (most tokens follow the last one at once; every whitespace byte is below `!`)
        if bytes.get(at).is_some_and(|&b| b > b' ') {
            return;
        }
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
            at += 1;
        }
        self.at = at;
    }

    /// The text of the string [`Reader::string`] read from `start` (after its opening
    /// quote) and called `kind`.
    fn text_of(&self, start: usize, kind: u8) -> Text<'_, 'de> {
        if kind & ESCAPED != 0 {
            Text::Decoded(&self.decoded)
        } else {
            Text::Body(self.text, start, self.at - 1)
        }
    }

    /// One value, surrounded by whitespace only. Values inside more than [`MAX_JSON_DEPTH`]
    /// containers are read, not reported.
    fn document<S: Sink<'de>>(&mut self, sink: &mut S) -> Parsed {
        let mut path = Path::new(self.text);
        // the open containers, the innermost in the lowest bit: 1 an object, 0 an array
        let mut objects: u128 = 0;
        let mut nesting = 0usize;
        'value: loop {
            self.skip_whitespace();
            let inspect = nesting <= MAX_JSON_DEPTH;
            match self.peek() {
                Some(b'"') => {
                    let start = self.at + 1;
                    let kind = self.string()?;
                    let plain = kind & PLAIN_STRING != 0;
                    if !inspect {
                        sink.too_deep();
                    } else if !plain || S::PLAIN_TOO {
                        let text = self.text_of(start, kind);
                        sink.string(&path.name(nesting), text, plain, false)?;
                    }
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                    if !inspect {
                        sink.too_deep();
                    }
                }
                Some(open @ (b'{' | b'[')) => {
                    if !inspect {
                        sink.too_deep();
                    }
                    nesting += 1;
                    if nesting > MAX_NESTING {
                        return Err(Failure::Invalid);
                    }
                    let object = open == b'{';
                    objects = objects << 1 | u128::from(object);
                    self.at += 1;
                    self.skip_whitespace();
                    // `{` + 2 is `}`, `[` + 2 is `]`
                    if self.peek() != Some(open + 2) {
                        if object {
                            self.key(sink, &mut path, nesting)?;
                        } else {
                            path.set(nesting, Step::Index(0));
                        }
                        continue 'value;
                    }
                    // empty
                    self.at += 1;
                    nesting -= 1;
                    objects >>= 1;
                }
                Some(b't') => self.literal(b"true", sink, inspect)?,
                Some(b'f') => self.literal(b"false", sink, inspect)?,
                Some(b'n') => self.literal(b"null", sink, inspect)?,
                _ => return Err(Failure::Invalid),
            }
            // after a value: the `,` before the next one, or closing brackets
            loop {
                self.skip_whitespace();
                if nesting == 0 {
                    return if self.at == self.text.len() {
                        Ok(())
                    } else {
                        Err(Failure::Invalid)
                    };
                }
                let object = objects & 1 != 0;
                match (self.peek(), object) {
                    (Some(b','), _) => {
                        self.at += 1;
                        if object {
                            self.key(sink, &mut path, nesting)?;
                        } else {
                            path.next_index(nesting);
                        }
                        continue 'value;
                    }
                    (Some(b'}'), true) | (Some(b']'), false) => {
                        self.at += 1;
                        nesting -= 1;
                        objects >>= 1;
                    }
                    _ => return Err(Failure::Invalid),
                }
            }
        }
    }

    /// An object's key and the `:` after it; the object is the container at `nesting`.
    #[inline(always)]
    fn key<S: Sink<'de>>(&mut self, sink: &mut S, path: &mut Path<'de>, nesting: usize) -> Parsed {
        self.skip_whitespace();
        if self.peek() != Some(b'"') {
            return Err(Failure::Invalid);
        }
        let start = self.at + 1;
        let kind = self.string()?;
        // the object's own depth is `nesting - 1`
        if nesting <= MAX_PATH {
            let step = if kind & ESCAPED != 0 {
                path.escaped_keys.push(self.decoded.clone());
                Step::Escaped(path.escaped_keys.len() - 1)
            } else {
                Step::Key(start, self.at - 1)
            };
            path.set(nesting, step);
            let plain = kind & PLAIN_STRING != 0;
            if !plain || S::PLAIN_TOO {
                let text = self.text_of(start, kind);
                sink.string(&path.name(nesting), text, plain, true)?;
            }
        }
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return Err(Failure::Invalid);
        }
        self.at += 1;
        Ok(())
    }

    /// `true`, `false` or `null`.
    fn literal(&mut self, word: &[u8], sink: &mut impl Sink<'de>, inspect: bool) -> Parsed {
        if !self.bytes()[self.at..].starts_with(word) {
            return Err(Failure::Invalid);
        }
        self.at += word.len();
        if !inspect {
            sink.too_deep();
        }
        Ok(())
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
        let bytes = self.bytes();
        let mut at = self.at;
        while let Some(b'0'..=b'9') = bytes.get(at) {
            at += 1;
        }
        self.at = at;
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

    /// A string, at its opening quote; `at` ends past its closing one. Says whether it is
    /// known to be plain ([`PLAIN_STRING`]: a short one of letters, digits and `-` only, no `A`, as
    /// [`super::plain`] accepts; not set also means "not known") and whether it had escapes
    /// ([`ESCAPED`]: its text is then in [`Reader::decoded`]).
    ///
    /// Most strings are keys and short values: their first sixteen bytes are read one by one
    /// through a class table, and one that ends there is done; the rest go to
    /// [`Reader::long_string`]. (Eight bytes at once by bit tricks took more instructions
    /// per key than the loop, and was slower on the load test's body of short strings.)
    #[inline(always)]
    fn string(&mut self) -> Parsed<u8> {
        let start = self.at + 1;
        let bytes = self.bytes();
        let Some(head) = bytes.get(start..start + 16) else {
            return self.long_string(start);
        };
        let mut all = PLAIN;
        for (k, &b) in head.iter().enumerate() {
            let class = STRING_CLASS[usize::from(b)];
            if class & STOP != 0 {
                if b != b'"' {
                    break;
                }
                self.at = start + k + 1;
                return Ok(if all != 0 { PLAIN_STRING } else { 0 });
            }
            all &= class;
        }
        self.long_string(start)
    }

    /// [`Reader::string`] for the rest: longer strings, escapes, errors, and strings at the
    /// very end of the text. `memchr` finds the quote or backslash, and the control
    /// characters JSON forbids in strings are looked for in one branch-free pass.
    #[inline(never)]
    fn long_string(&mut self, start: usize) -> Parsed<u8> {
        let bytes = self.bytes();
        let rest = bytes.get(start..).ok_or(Failure::Invalid)?;
        let run = memchr::memchr2(b'"', b'\\', rest).ok_or(Failure::Invalid)?;
        if has_control(&rest[..run]) {
            return Err(Failure::Invalid);
        }
        let mut i = start + run;
        if bytes[i] == b'"' {
            self.at = i + 1;
            let plain = run <= 16
                && rest[..run]
                    .iter()
                    .all(|&b| STRING_CLASS[usize::from(b)] & PLAIN != 0);
            return Ok(if plain { PLAIN_STRING } else { 0 });
        }
        self.decoded.clear();
        self.decoded.push_str(&self.text[start..i]);
        loop {
            let rest = self.text.get(i..).ok_or(Failure::Invalid)?;
            let run = rest
                .bytes()
                .position(|b| b == b'"' || b == b'\\' || b < 0x20)
                .ok_or(Failure::Invalid)?;
            self.decoded.push_str(&rest[..run]);
            i += run;
            match bytes[i] {
                b'"' => {
                    self.at = i + 1;
                    return Ok(ESCAPED);
                }
                b'\\' => {
                    let (c, used) = escape(&bytes[i + 1..])?;
                    self.decoded.push(c);
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
/// [`STRING_CLASS`]: a byte [`super::plain`] accepts (ASCII letter, digit, `-`), bar `A`:
/// a plain string holding one is looked at for a base64 Java serialization header (see
/// [`super::code::plain_may_hide`]).
const PLAIN: u8 = 2;

/// The class of each byte inside a JSON string: [`STOP`], [`PLAIN`] or neither.
static STRING_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c == b'"' || c == b'\\' || c < 0x20 {
            STOP
        } else if (c.is_ascii_alphanumeric() && c != b'A') || c == b'-' {
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

    use super::{scan_json, scan_json_before, PathName, Reader, Sink, Stop, Text, SEEN};
    use crate::waf::inputs::{cut, MAX_NAME_KEY};
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

    /// Deciding plain strings from their byte classes, after the repeats are looked up,
    /// changes no hit: corpus values as keys and values among plain words, words with an
    /// `A`, repeats and the benchmarks' padding with spots, and random documents of such
    /// strings.
    #[test]
    fn plain_strings_from_their_classes_change_no_hit() {
        let hits = |read: fn(&mut Scan<'_>, &[u8]) -> Result<(), Stop>, body: &str| {
            let mut scan = Scan::new(&[], false, Duration::from_secs(60), Duration::ZERO);
            read(&mut scan, body.as_bytes()).unwrap();
            scan.hits
        };
        let spotted = format!("{}> x onabc=1 ", "' or <a on=../;|${ ".repeat(13));
        let mut docs = Vec::new();
        for v in crate::waf::tests::corpus_values(false).unwrap_or_default() {
            docs.push(
                serde_json::json!({
                    "page": "2", "sku": "SKU-00042", "serial": "rO0ABXNyAAAAAAAAA",
                    "q": v, v.clone(): [v, "en-US", "AAAAAAAAAAAA", v], "pad": spotted,
                })
                .to_string(),
            );
        }
        let words = [
            "page",
            "2",
            "en-US",
            "AAAAAAAAAAAA",
            "Aa0-",
            "rO0ABXNy",
            "' or ",
            "<a on=",
            "../",
            "${",
            "union select",
            "%27",
            "x",
            "-",
            "",
        ];
        let strings: Vec<String> =
            crate::waf::tests::token_sequences(0x0150_c1a5, &words, 6000, 5).collect();
        for group in strings.chunks(6) {
            docs.push(serde_json::json!({ "a": group, group[0].clone(): group[1] }).to_string());
        }
        let mut found = 0;
        for doc in &docs {
            let new = hits(scan_json, doc);
            found += usize::from(!new.is_empty());
            assert_eq!(new, hits(scan_json_before, doc), "{doc}");
        }
        assert!(found > 500, "{found}");
    }

    /// Telling a repeat by its ends first decides as comparing the bytes alone does: strings
    /// of every length around the ends' eight and sixteen bytes, each also with one byte
    /// changed at every place (a long string's middle, which its ends do not hold,
    /// included), and random strings of a small alphabet (many repeats), looked up among the
    /// last ones remembered; then whole bodies of such strings, hits compared.
    #[test]
    fn repeats_told_by_their_ends_are_repeats_by_bytes() {
        use super::{Seen, SEEN_BYTES_ONLY};
        let mut next = crate::waf::tests::xorshift(0x05ee_9a1e);
        let mut strings: Vec<String> = Vec::new();
        for len in 0..=40usize {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 3) as u8).collect();
            strings.push(String::from_utf8(base.clone()).unwrap());
            for at in 0..len {
                let mut changed = base.clone();
                changed[at] = b'z';
                strings.push(String::from_utf8(changed).unwrap());
            }
        }
        for _ in 0..3000 {
            let len = next() % 24;
            strings.push(
                (0..len)
                    .map(|_| ['x', 'y', '\u{e9}'][(next() % 3) as usize])
                    .collect(),
            );
        }
        let mut seen = Seen::default();
        let (mut repeats, n) = (0, strings.len());
        for i in 0..4 * n {
            // mostly the strings just before: repeats and near-repeats of the remembered ones
            let s = &strings[(i / 4 + (next() % 24) as usize) % n];
            let by_ends = seen.contains(s);
            SEEN_BYTES_ONLY.set(true);
            let by_bytes = seen.contains(s);
            SEEN_BYTES_ONLY.set(false);
            assert_eq!(by_ends, by_bytes, "{s:?}");
            repeats += usize::from(by_bytes);
            if next() % 2 == 0 {
                seen.insert(s);
            }
        }
        assert!(repeats > n / 2, "{repeats}");
        let hits = |bytes_only: bool, body: &str| {
            SEEN_BYTES_ONLY.set(bytes_only);
            let mut scan = Scan::new(&[], false, Duration::from_secs(60), Duration::ZERO);
            scan_json(&mut scan, body.as_bytes()).unwrap();
            SEEN_BYTES_ONLY.set(false);
            scan.hits
        };
        let attacks = [
            "' or 1=1 --",
            "<script>alert(1)</script>",
            "../../etc/passwd",
        ];
        for (k, group) in strings.chunks(40).enumerate() {
            let mut doc: Vec<&str> = group.iter().map(String::as_str).collect();
            doc.insert(k % doc.len().max(1), attacks[k % attacks.len()]);
            doc.extend(group.iter().rev().map(String::as_str));
            let body = serde_json::to_string(&doc).unwrap();
            let new = hits(false, &body);
            assert!(!new.is_empty(), "{body}");
            assert_eq!(new, hits(true, &body), "{body}");
        }
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

    /// What the reader reports, for comparison with `serde_json`: each key and string with
    /// the name of its path.
    #[derive(Default)]
    struct Collect {
        strings: Vec<(String, String)>,
        too_deep: bool,
    }

    impl<'de> Sink<'de> for Collect {
        const PLAIN_TOO: bool = true;
        fn string(
            &mut self,
            name: &PathName<'_, 'de>,
            text: Text<'_, 'de>,
            plain: bool,
            _key: bool,
        ) -> Result<(), Stop> {
            let text = text.as_str();
            assert!(!plain || crate::waf::plain(text), "{text:?} is not plain");
            self.strings.push((name.to_string(), text.to_owned()));
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
        Reader::new(text).document(&mut out).ok()?;
        Some(out)
    }

    /// The keys and strings of a document `serde_json` parsed, each with the name of its
    /// path as events give it (a key is named by the path it leads to).
    fn serde_strings(v: &serde_json::Value, name: &str, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::String(s) => out.push((name.to_owned(), s.clone())),
            serde_json::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    serde_strings(v, &format!("{name}[{i}]"), out);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let name = format!("{name}.{}", cut(k, MAX_NAME_KEY));
                    out.push((name.clone(), k.clone()));
                    serde_strings(v, &name, out);
                }
            }
            _ => {}
        }
    }

    /// Checks the reader against `serde_json` on one document: the same verdict, and when
    /// both accept it (and it is within the inspected depth), the same keys and strings
    /// under the same names.
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
            serde_strings(&theirs, "body", &mut expected);
            let mut got = ours.strings;
            expected.sort();
            got.sort();
            if got != expected {
                // serde_json keeps the last of duplicate keys' values: ours reads them all
                got.dedup();
                assert!(
                    expected.iter().all(|e| got.binary_search(e).is_ok()),
                    "{shown:?}: {got:?} against {expected:?}"
                );
                let keys = |v: &[(String, String)]| {
                    let mut names: Vec<String> = v.iter().map(|(n, _)| n.clone()).collect();
                    names.dedup();
                    names
                };
                assert_eq!(keys(&got), keys(&expected), "{shown:?}");
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
        // strings around the quick read's eight and sixteen bytes: one byte of each kind at
        // each place (a stop, a plain byte, one that is neither), the string closed right
        // after or not, the text ending right after or not
        for len in 0..=18 {
            for at in 0..len {
                for odd in ["_", "\\n", "\\\"", "\u{1}", "é", "\"", "a"] {
                    let mut s: String = "k".repeat(len);
                    s.replace_range(at..=at, odd);
                    agrees(format!("\"{s}\"").as_bytes());
                    agrees(format!("{{\"{s}\": [\"{s}\"]}}").as_bytes());
                }
            }
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
        let mut docs: Vec<Vec<u8>> = Vec::new();
        for file in ["values.jsonl", "crs-requests.jsonl"] {
            let what = "the JSON reader's differential test on corpus records";
            if let Some(text) = crate::waf::tests::corpus::read(file, what) {
                docs.extend(text.lines().map(|l| l.as_bytes().to_vec()));
            }
        }
        for v in crate::waf::tests::corpus_values(true).unwrap_or_default() {
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
