//! Code injection detector: code for an interpreter other than the shell or the database —
//! PHP (OWASP CRS 933 family), Java expression languages, deserialization classes and gadgets
//! (944), server-side templates, Node.js, Python, Ruby and Perl (934).
//!
//! # Shape
//!
//! Injected code has to *do* something, and what it does is name an entry point: a function
//! call, a template or expression opener, a magic name (`__globals__`, `__proto__`), a class
//! of the runtime. Ordinary text quotes the same words without those shapes. The detector
//! therefore looks at a few trigger bytes only, each found with `memchr`, and reads the few
//! bytes around each one:
//!
//! - `<`: PHP open tags (`<?php`, `<?=`, `<? code`), JSP/ERB/ASP tags (`<% ... %>`);
//! - `(`: the callee before it (identifier, dotted name, quoted string or parenthesised
//!   expression), looked up in tables of dangerous functions per language (`calls`);
//! - `{`: template and expression openers (`{{`, `${`, `#{`, `%{`, `*{`, `@{[`) whose
//!   contents read as code rather than a variable name (`template`);
//! - `$`: PHP superglobals, variable functions (`$f(`, `$__['o'](`), variable variables
//!   (`$ {'a'}`);
//! - `.`: dotted names: JDK and library classes, Java gadget chains, Node.js and Ruby objects
//!   (`script`);
//! - `__`: Python dunder chains and JavaScript prototype pollution;
//! - `[`: bulletin-board PHP tags (`[php]`), `constructor[prototype]`;
//! - `:`: PHP serialized objects (`O:8:"stdClass":0:{}`).
//!
//! Before that, one bounded pass undoes what these languages let an attacker hide a name
//! with: `\uXXXX` and `\xNN` escapes and PHP comments (`/*...*/`, and `//` or `#` to the end
//! of a line), keeping a map back to the value's offsets. A value that is one base64 word
//! (`cmVxdWlyZSgi...`, also when written with those escapes) is also decoded and read again,
//! and every value is searched for a Java serialization header in base64 (`serialized`), short
//! plain values included (see `plain_may_hide`).
//!
//! # Deliberately not done
//!
//! - English words that are also function names (`system`, `exec`, `eval`, `include`) fire
//!   only where code would put them: at the value's start or after a code separator (`;`,
//!   `=`, `(`, `@`, `.`...), so `the system (see above)` and `system of record` do not.
//! - Template expressions fire on what an exploit needs (dunders, arithmetic probes such as
//!   `{{7*7}}`, `T(...)`, OGNL `#` variables, `_self`, `getClass`, known globals), not on any
//!   `{{ name }}` or `{{ url_for('x') }}`.
//! - `require('lodash')` is not reported: only the modules that run commands or touch files
//!   and sockets (`child_process`, `fs`, `net`, `vm`...) are.
//! - A JDK class named in passing (`returns a java.lang.String`) fires at paranoia 2 only; at
//!   level 1 a class name fires when it is the whole value (what deserialization endpoints
//!   receive) or names a class that runs code (`Runtime`, `ProcessBuilder`, `ScriptEngine`...).
//!
//! Cost: values with none of the trigger bytes stop after the byte searches; every rule is
//! linear in its input (each trigger reads a bounded window around it). A value of many
//! triggers (a body padded with `${ ` or `../`, read in 2 KiB chunks) is read about once, not
//! once per trigger (`scan`'s `FAST` path): dense triggers are found 64 bytes at a time
//! (`positions`), the template openers share their searches for a closer and for the words
//! they look for, and the rules that look for names (dotted names, the openers' words) are
//! skipped on a text without three ASCII letters in a row or `__` (`first_run`), which every
//! such name holds (a test checks the tables); where words stand among padding, the openers'
//! automaton reads only around them, the `$` rules run only where a call, a closed brace or a
//! superglobal's first byte can be (`php::dollars_may_fire`) and then from the runs of `$`
//! that can go on (`php::live_runs`), and separators not followed by a name are dropped by
//! blocks (`positions_followed`). On ordinary values
//! (prose, addresses, header values) the rules that would find nothing are not run: the base64
//! ones where the value's class mask rules them out (no `A`; not both cases of letters; a byte
//! outside the alphabets), dotted names where no rule's name stands next to a separator
//! (`script::named_separator`), the underscore names where no `_` starts one. A rule added to
//! `scan` runs the plain way unless it takes such a gate; the plain reading stays reachable
//! from the tests (`detect_plain`), which compare the two on the corpus and on random
//! near-attack text.

use super::{char_span, Finding};
use crate::waf::blocks::pack;
use crate::waf::entity;

mod calls;
mod openers;
mod orm;
mod php;
mod script;
mod serialized;
mod template;
#[cfg(test)]
mod tests;

/// Every rule id this detector can report.
///
/// * `code_injection-php-tag`: a PHP open tag (`<?php`, `<?=`, `<? echo`), `[php]`/`{php}` tags.
/// * `code_injection-php-function`: a call of a PHP function that runs code or commands, reads or
///   writes files, or decodes payloads; a string or array called as a function
///   (`"system"(`, `(system)(`, `[system][0](`).
/// * `code_injection-php-variable`: superglobals (`$_GET`, `$GLOBALS`), variable functions (`$f(1)`,
///   `$__['o'](`), variable variables (`$ {'a'}`).
/// * `code_injection-php-serialized`: a PHP serialized object (`O:8:"stdClass":0:{}`).
/// * `code_injection-php-config`: a `php.ini` directive set (`allow_url_include=On`).
/// * `code_injection-php-session-file`: a PHP session file name (`sess_` and 20 id characters).
/// * `code_injection-java-class`: a JDK or library class that runs code, or a class name as a whole
///   value.
/// * `code_injection-java-gadget`: a deserialization gadget chain (`ProcessBuilder` with a
///   `commons-collections` transformer or closure).
/// * `code_injection-java-serialized`: a Java serialization stream in base64 (its header,
///   `AC ED 00 05`, at any byte alignment: `rO0AB...`), in any value, short ones included.
/// * `code_injection-expression`: an expression-language injection (`${...}`, `#{...}`, `%{...}`,
///   `*{...}`: SpEL `T(...)`, OGNL `#_memberAccess`, `getClass()`).
/// * `code_injection-template`: server-side template injection (`{{7*7}}`, `{{''.__class__}}`,
///   `<%= 7*7 %>`, `{{_self.env}}`).
/// * `code_injection-python`: Python dunder chains (`__globals__`, `__subclasses__`) and calls
///   (`__import__(`, `os.popen(`, `subprocess.check_output(`).
/// * `code_injection-node`: Node.js (`require('child_process')`, `process.mainModule`,
///   `constructor.constructor`, `_$$ND_FUNC$$_`, `while(true)`).
/// * `code_injection-ruby`: Ruby (`Process.spawn(`, `Kernel.exec(`, `IO.popen(`).
/// * `code_injection-perl`: Perl (`@{[ ... ]}` interpolation).
/// * `code_injection-prototype-pollution`: `__proto__` and `constructor.prototype` as property paths.
/// * `code_injection-script-upload`: a header value or a multipart upload's file name naming a
///   file with a server-script extension (`shell.php`, `a.jspx`: see `script_file_name`).
/// * `code_injection-php-data-uri`: a `data:` URI of plain text or PHP opening a value (PHP's `data://`
///   stream wrapper).
/// * `code_injection-pl2-template-statement` (paranoia 2): a template statement (`{% if ... %}`,
///   `<% ... %>`).
/// * `code_injection-pl2-java-class` (paranoia 2): a JDK class named anywhere.
/// * `code_injection-pl2-function` (paranoia 2): a `snake_case` call at the value's start.
/// * `code_injection-pl2-orm-lookup` (paranoia 2): an ORM lookup through relations
///   (`user__profile__email__startswith`: see `orm`).
pub const RULES: &[&str] = &[
    R_PHP_TAG,
    R_PHP_FUNCTION,
    R_PHP_VARIABLE,
    R_PHP_SERIALIZED,
    R_PHP_CONFIG,
    R_PHP_SESSION,
    R_JAVA_CLASS,
    R_JAVA_GADGET,
    R_JAVA_SERIALIZED,
    R_EXPRESSION,
    R_TEMPLATE,
    R_PYTHON,
    R_NODE,
    R_RUBY,
    R_PERL,
    R_PROTO,
    R_SCRIPT_UPLOAD,
    R_PHP_DATA_URI,
    R_PL2_TEMPLATE,
    R_PL2_JAVA,
    R_PL2_FUNCTION,
    R_PL2_ORM,
];

const R_PHP_TAG: &str = "code_injection-php-tag";
const R_PHP_FUNCTION: &str = "code_injection-php-function";
const R_PHP_VARIABLE: &str = "code_injection-php-variable";
const R_PHP_SERIALIZED: &str = "code_injection-php-serialized";
const R_PHP_CONFIG: &str = "code_injection-php-config";
const R_PHP_SESSION: &str = "code_injection-php-session-file";
const R_JAVA_CLASS: &str = "code_injection-java-class";
const R_JAVA_GADGET: &str = "code_injection-java-gadget";
const R_JAVA_SERIALIZED: &str = "code_injection-java-serialized";
const R_EXPRESSION: &str = "code_injection-expression";
const R_TEMPLATE: &str = "code_injection-template";
const R_PYTHON: &str = "code_injection-python";
const R_NODE: &str = "code_injection-node";
const R_RUBY: &str = "code_injection-ruby";
const R_PERL: &str = "code_injection-perl";
const R_PROTO: &str = "code_injection-prototype-pollution";
const R_SCRIPT_UPLOAD: &str = "code_injection-script-upload";
const R_PHP_DATA_URI: &str = "code_injection-php-data-uri";
const R_PL2_TEMPLATE: &str = "code_injection-pl2-template-statement";
const R_PL2_JAVA: &str = "code_injection-pl2-java-class";
const R_PL2_FUNCTION: &str = "code_injection-pl2-function";
const R_PL2_ORM: &str = "code_injection-pl2-orm-lookup";

/// Longest input examined (bytes); longer values are examined on their first 64 KiB.
const MAX_INPUT: usize = 64 * 1024;

/// A rule's match in the text it read: rule id and byte range.
type Hit = (&'static str, usize, usize);

/// Builds the detector's automaton now rather than on the first request that needs it.
pub(crate) fn warm_up() {
    template::warm_up();
}

/// Looks for code injection in one decoded input value (paranoia level 1 rules).
pub fn detect(input: &str) -> Option<Finding> {
    run(input, false)
}

/// The paranoia level 2 rules, run when [`detect`] found nothing: template statements,
/// JDK classes named anywhere, `snake_case` calls opening a value, ORM lookups through
/// relations.
pub fn detect_strict(input: &str) -> Option<Finding> {
    run(input, true).or_else(|| orm_lookup(input))
}

/// The paranoia-2 rule that reads parameter names rather than code (`orm::nested_lookup`).
fn orm_lookup(input: &str) -> Option<Finding> {
    let cut = input.len().min(MAX_INPUT);
    let (rule, s, e) = orm::nested_lookup(&input.as_bytes()[..cut])?;
    Some(Finding {
        rule,
        span: char_span(input, s, e),
    })
}

/// Trigger bytes, one bit each: a rule can only match a value holding its trigger (escapes
/// `\` and `&` can make any of them, so they count as all).
const T_LT: u16 = 1;
const T_LBRACE: u16 = 1 << 1;
const T_DOLLAR: u16 = 1 << 2;
const T_PAREN: u16 = 1 << 3;
const T_BRACKET: u16 = 1 << 4;
const T_DOT: u16 = 1 << 5;
const T_COLON: u16 = 1 << 6;
const T_EQ: u16 = 1 << 7;
const T_UNDERSCORE: u16 = 1 << 8;
const T_ESCAPE: u16 = 1 << 9;
/// `/` and `#`: comments to undo.
const T_COMMENT: u16 = 1 << 10;
/// The trigger bytes above: a rule can only match a value holding one of them.
const TRIGGERS: u16 = (1 << 11) - 1;
/// What the base64 rules need (not triggers: every value has some): `A`, which every base64
/// spelling of a Java serialization header holds (see `serialized`); upper-case and lower-case
/// letters, which a base64 word holds both of (see [`base64_word`]); and a byte that no base64
/// word holds (outside its alphabets, `=` and blanks).
const T_A: u16 = 1 << 11;
const T_UPPER: u16 = 1 << 12;
const T_LOWER: u16 = 1 << 13;
const T_NOT_BASE64: u16 = 1 << 14;

/// The trigger bits of each byte (also a part of the scan's shared pass, `super::classes`).
pub(in crate::waf) static CLASS: [u16; 256] = {
    let mut t = [0u16; 256];
    t[b'<' as usize] = T_LT;
    t[b'{' as usize] = T_LBRACE;
    t[b'$' as usize] = T_DOLLAR;
    t[b'(' as usize] = T_PAREN;
    t[b'[' as usize] = T_BRACKET;
    t[b'.' as usize] = T_DOT;
    t[b':' as usize] = T_COLON;
    t[b'=' as usize] = T_EQ;
    t[b'_' as usize] = T_UNDERSCORE;
    t[b'\\' as usize] = T_ESCAPE;
    t[b'&' as usize] = T_ESCAPE;
    t[b'/' as usize] = T_COMMENT;
    t[b'#' as usize] = T_COMMENT;
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_uppercase() {
            t[c] |= T_UPPER;
        } else if b.is_ascii_lowercase() {
            t[c] |= T_LOWER;
        } else if !(b.is_ascii_digit()
            || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=')
            || b.is_ascii_whitespace())
        {
            t[c] |= T_NOT_BASE64;
        }
        c += 1;
    }
    t[b'A' as usize] |= T_A;
    t
};

/// [`detect`] (or, `strict`, [`detect_strict`]) on a value whose [`CLASS`] mask the caller
/// has (the scan's shared pass). The mask must be the value's own: more trigger bits only
/// cost time, but the base64 rules are skipped on the classes the value lacks or holds.
///
/// A `mask` of 0 is read as "not classified" (the scan's plain values come so), and the value's
/// mask is taken here: a short value's pass costs less than the searches it saves.
pub(in crate::waf) fn detect_classified(input: &str, mask: u16, strict: bool) -> Option<Finding> {
    let mask = if mask == 0 {
        super::classes::or_over(&CLASS, input.as_bytes())
    } else {
        mask
    };
    if mask & TRIGGERS == 0 && input.len() <= super::PLAIN_MAX {
        // no trigger byte: only what base64 hides
        return hidden(input, strict, mask);
    }
    run_masked::<true>(input, strict, mask)
}

/// True when a plain value (see `super::plain`: short, letters, digits and `-` only, which
/// the scan otherwise skips) from `source` may hide code in base64: it holds an `A`, which
/// every base64 spelling of a Java serialization header does (see `serialized`), or it is a
/// cookie or header value long enough to be a base64 word worth decoding (serialized state
/// that applications decode, as `node-serialize` cookies are).
pub(in crate::waf) fn plain_may_hide(value: &[u8], words: bool) -> bool {
    value.len() >= 6 && (memchr::memchr(b'A', value).is_some() || (words && value.len() >= 12))
}

/// [`detect_classified`] on a value with no trigger byte of at most `PLAIN_MAX` bytes (what
/// [`run_masked`] finds there, without its passes): a Java serialization header, or a base64
/// word that decodes to code.
fn hidden(input: &str, strict: bool, mask: u16) -> Option<Finding> {
    let b = input.as_bytes();
    if b.len() < 4 {
        return None;
    }
    java_serialized_masked(b, mask)
        .or_else(|| decoded_word_masked(b, strict, mask))
        .map(|(rule, s, e)| Finding {
            rule,
            span: char_span(input, s, e),
        })
}

/// [`serialized::java_serialized`] on a value whose [`CLASS`] mask is `mask`: not searched
/// without an `A`.
fn java_serialized_masked(b: &[u8], mask: u16) -> Option<Hit> {
    (mask & T_A != 0)
        .then(|| serialized::java_serialized(b))
        .flatten()
}

/// [`decoded_word`] on a value whose [`CLASS`] mask is `mask`: not read unless the mask allows
/// a base64 word (both cases of letters, no byte outside the alphabets, `=` and blanks).
fn decoded_word_masked(b: &[u8], strict: bool, mask: u16) -> Option<Hit> {
    let word = mask & (T_UPPER | T_LOWER | T_NOT_BASE64) == T_UPPER | T_LOWER;
    word.then(|| decoded_word::<true>(b, strict)).flatten()
}

/// A base64 word's decoded text, read again: the rule it fires, over the whole word.
fn decoded_word<const FAST: bool>(b: &[u8], strict: bool) -> Option<Hit> {
    let decoded = base64_word(b)?;
    let hit = match normalize::<FAST>(&decoded) {
        None => scan::<FAST>(&decoded, strict, u16::MAX),
        Some((n, _)) => scan::<FAST>(&n, strict, u16::MAX),
    }?;
    Some((hit.0, 0, b.len()))
}

fn run(input: &str, strict: bool) -> Option<Finding> {
    let mask = super::classes::or_over(&CLASS, input.as_bytes());
    run_masked::<true>(input, strict, mask)
}

/// [`detect`] (or, `strict`, [`detect_strict`]) with every rule reading its input the plain
/// way, without what the scan skips or keeps between triggers: what the differential tests
/// compare the detector with.
#[cfg(test)]
pub(super) fn detect_plain(input: &str, strict: bool) -> Option<Finding> {
    let mask = super::classes::or_over(&CLASS, input.as_bytes());
    run_masked::<false>(input, strict, mask).or_else(|| strict.then(|| orm_lookup(input)).flatten())
}

/// `FAST`: the rules skip what cannot change their answer (see [`scan`]); without it they
/// read their input the plain way ([`detect_plain`]).
fn run_masked<const FAST: bool>(input: &str, strict: bool, mask: u16) -> Option<Finding> {
    let mut cut = input.len().min(MAX_INPUT);
    while !input.is_char_boundary(cut) {
        cut -= 1;
    }
    let input = &input[..cut];
    let b = input.as_bytes();
    if b.len() < 4 {
        return None;
    }
    let found = |(rule, s, e): Hit| Finding {
        rule,
        span: char_span(input, s, e),
    };
    // (`normalize` has nothing to undo without these bytes)
    let normalized = (mask & (T_ESCAPE | T_COMMENT) != 0)
        .then(|| normalize::<FAST>(b))
        .flatten();
    match &normalized {
        None => scan::<FAST>(b, strict, mask).map(found),
        Some((n, map)) => scan::<FAST>(n, strict, u16::MAX).map(|(rule, s, e)| {
            let e = if e == 0 { 0 } else { map[e - 1] + 1 };
            found((rule, map[s.min(map.len() - 1)], e))
        }),
    }
    .or_else(|| {
        if FAST {
            java_serialized_masked(b, mask)
        } else {
            serialized::java_serialized(b)
        }
        .map(found)
    })
    .or_else(|| {
        if FAST {
            decoded_word_masked(b, strict, mask)
        } else {
            decoded_word::<false>(b, strict)
        }
        .map(found)
    })
    .or_else(|| {
        // a base64 word written with escapes (`\u0063\u006dVx...`)
        let (n, _) = normalized.as_ref()?;
        decoded_word::<FAST>(n, strict).map(|(rule, _, _)| found((rule, 0, b.len())))
    })
}

/// A call opening a segment of a request path (`/get/substr()`, `/x/array_diff (`): what the
/// path gives the code-injection detector beside [`detect`] (see `openers`).
pub(crate) fn path_calls(path: &str) -> Option<Finding> {
    memchr::memchr(b'(', path.as_bytes())?;
    let (rule, s, e) = openers::path_calls(path.as_bytes())?;
    Some(Finding {
        rule,
        span: char_span(path, s, e),
    })
}

/// Extensions of files a web server runs as code.
const SCRIPT_EXTENSIONS: &[&[u8]] = &[
    b"php", b"phtml", b"pht", b"phps", b"phpt", b"phar", b"jsp", b"jspx", b"jspf", b"asp", b"aspx",
    b"ashx", b"asmx",
];

/// A header value that is a file name with a server-script extension (`shell.php`,
/// `a.php5...`, `photo. php`, `x.jspx`): what upload endpoints read from `X-Filename`-like
/// headers (CRS 933110, 944140) and multipart forms give as a file's name. Values that start
/// with `/` or hold `:`, `?`, `=` or `&`
/// (paths of the site, URLs) are not names of uploads.
pub(crate) fn script_file_name(input: &str) -> Option<Finding> {
    let t = input.as_bytes().trim_ascii();
    if t.len() < 4 || t.len() > 255 || t[0] == b'/' {
        return None;
    }
    if t.iter()
        .any(|&c| matches!(c, b':' | b'?' | b'=' | b'&' | b'<' | b'>' | b'"'))
    {
        return None;
    }
    // trailing dots and blanks are dropped by Windows and by some upload handlers
    let mut end = t.len();
    while end > 0 && matches!(t[end - 1], b'.' | b' ') {
        end -= 1;
    }
    let dot = t[..end].iter().rposition(|&c| c == b'.')?;
    let mut ext = t[dot + 1..end].trim_ascii_start();
    while ext.last().is_some_and(u8::is_ascii_digit) {
        ext = &ext[..ext.len() - 1];
    }
    let base = &t[..dot];
    if base.trim_ascii().is_empty()
        || !SCRIPT_EXTENSIONS
            .iter()
            .any(|e| ext.eq_ignore_ascii_case(e))
    {
        return None;
    }
    let offset = input.len() - input.trim_ascii_start().len();
    Some(Finding {
        rule: R_SCRIPT_UPLOAD,
        span: char_span(input, offset, offset + t.len()),
    })
}

/// Runs every trigger's rules on `t` (normalized text).
///
/// Each rule runs only when `mask` holds one of its trigger bytes. With `FAST`, the rules that
/// visit many triggers skip what cannot change their answer (`script::dotted`,
/// `template::braces`, `php::dollars` say what); a rule added here takes the `FAST`
/// parameter if it has such a gate, and the differential tests (`tests.rs`) compare both.
fn scan<const FAST: bool>(t: &[u8], strict: bool, mask: u16) -> Option<Hit> {
    let has_bit = |bit: u16| mask & bit != 0;
    // (FAST) where three ASCII letters in a row or `__` first occur: the rules that look for
    // names (dotted names, superglobals, the template openers' words) need one
    let run = std::cell::OnceCell::new();
    let run = || *run.get_or_init(|| if FAST { first_run(t, 0) } else { 0 });
    let words = || run() < t.len();
    let (lt, lbrace, dollar, paren) = (
        has_bit(T_LT),
        has_bit(T_LBRACE),
        has_bit(T_DOLLAR),
        has_bit(T_PAREN),
    );
    let bracket = has_bit(T_BRACKET);
    // (FAST) what the names with a `_` need (`script::underscore_names`)
    let underscores = std::cell::OnceCell::new();
    let underscores = || {
        *underscores.get_or_init(|| {
            if FAST {
                script::underscore_names(t)
            } else {
                (true, true)
            }
        })
    };
    if lt {
        if let Some(h) = php::open_tags(t).or_else(|| template::angle::<FAST>(t, strict, run())) {
            return Some(h);
        }
    }
    if lbrace {
        if let Some(h) = template::braces::<FAST>(t, strict, run()) {
            return Some(h);
        }
    }
    if has_bit(T_UNDERSCORE) && underscores().0 {
        if let Some(h) = script::dunders(t) {
            return Some(h);
        }
    }
    if has_bit(T_COLON) {
        if let Some(h) = script::flight_references(t) {
            return Some(h);
        }
    }
    if paren {
        if let Some(h) = calls::calls::<FAST>(t, strict) {
            return Some(h);
        }
    }
    if dollar && (!FAST || php::dollars_may_fire(t, mask)) {
        if let Some(h) = php::dollars::<FAST>(t) {
            return Some(h);
        }
    }
    if (bracket || has_bit(T_DOT)) && words() {
        if let Some(h) = script::dotted::<FAST>(t, strict) {
            return Some(h);
        }
    }
    if bracket || lbrace {
        if let Some(h) = php::bb_tags::<FAST>(t) {
            return Some(h);
        }
    }
    if has_bit(T_COLON) {
        if let Some(h) = php::serialized(t) {
            return Some(h);
        }
    }
    if has_bit(T_EQ) {
        if let Some(h) = php::config(t, strict) {
            return Some(h);
        }
    }
    if !has_bit(T_COLON | T_UNDERSCORE) {
        return None;
    }
    php::data_uri(t).or_else(|| underscores().1.then(|| php::session_file(t)).flatten())
}

/// Undoes `\uXXXX` and `\xNN` escapes of ASCII characters and PHP comments (`/*...*/`, and
/// `//` or `#` up to a line break), so that a name split or escaped reads whole; `None` when
/// there is nothing to undo. The map gives, for each byte of the result, its offset in `b`.
fn normalize<const FAST: bool>(b: &[u8]) -> Option<(Vec<u8>, Vec<usize>)> {
    let escapes = memchr::memchr2(b'\\', b'&', b).is_some();
    // (FAST: a `/*` with no `*/` after it, as in `Accept: */*`, opens no comment; nor does
    // any later one)
    let block = memchr::memmem::find(b, b"/*")
        .is_some_and(|p| !FAST || memchr::memmem::find(&b[p + 2..], b"*/").is_some());
    let line = memchr::memchr(b'\n', b).is_some()
        && (memchr::memchr(b'#', b).is_some() || memchr::memmem::find(b, b"//").is_some());
    if !(escapes || block || line) {
        return None;
    }
    let mut n = Vec::with_capacity(b.len());
    let mut map = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            let (len, hex) = match b[i + 1] {
                b'u' | b'U' => (6, &b[(i + 2).min(b.len())..(i + 6).min(b.len())]),
                b'x' | b'X' => (4, &b[(i + 2).min(b.len())..(i + 4).min(b.len())]),
                _ => (0, &b[..0]),
            };
            if len > 0 && hex.len() == len - 2 && hex.iter().all(u8::is_ascii_hexdigit) {
                let v = hex.iter().fold(0u32, |v, &h| v * 16 + hex_val(h) as u32);
                if (0x20..0x7f).contains(&v) {
                    n.push(v as u8);
                    map.push(i);
                    i += len;
                    changed = true;
                    continue;
                }
            }
        }
        if c == b'&' {
            // the references to `$` and `{` that Log4Shell and expression payloads hide behind
            let decoded = entity::parse(b, i).filter(|&(cp, len)| {
                (cp == u32::from(b'{') || cp == u32::from(b'$')) && b[i + len - 1] == b';'
            });
            if let Some((cp, len)) = decoded {
                n.push(cp as u8);
                map.push(i);
                i += len;
                changed = true;
                continue;
            }
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            if let Some(end) = memchr::memmem::find(&b[i + 2..], b"*/") {
                i += 2 + end + 2;
                changed = true;
                continue;
            }
        }
        // (`//` after `:` or `/` is a URL's)
        let line_comment = c == b'#'
            || (c == b'/'
                && b.get(i + 1) == Some(&b'/')
                && (i == 0 || !matches!(b[i - 1], b':' | b'/')));
        if line && line_comment {
            if let Some(end) = memchr::memchr(b'\n', &b[i..]) {
                i += end;
                changed = true;
                continue;
            }
        }
        n.push(c);
        map.push(i);
        i += 1;
    }
    (changed && !n.is_empty()).then_some((n, map))
}

fn hex_val(h: u8) -> u8 {
    match h {
        b'0'..=b'9' => h - b'0',
        b'a'..=b'f' => h - b'a' + 10,
        _ => h - b'A' + 10,
    }
}

/// The bytes of a value that is one base64 word (12 to 4096 characters of the standard or
/// URL-safe alphabet, optionally padded, upper and lower case mixed) and decodes to printable
/// text; `None` otherwise.
fn base64_word(b: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT};
    use base64::Engine;
    let t = b.trim_ascii();
    if !(12..=4096).contains(&t.len()) {
        return None;
    }
    let body = t.strip_suffix(b"==").or(t.strip_suffix(b"=")).unwrap_or(t);
    if !body
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_'))
        || !body.iter().any(u8::is_ascii_uppercase)
        || !body.iter().any(u8::is_ascii_lowercase)
    {
        return None;
    }
    let url = body.iter().any(|&c| c == b'-' || c == b'_');
    let decoded = if url {
        URL_SAFE_PAD_INDIFFERENT.decode(body)
    } else {
        STANDARD_PAD_INDIFFERENT.decode(body)
    }
    .ok()?;
    let printable = decoded
        .iter()
        .all(|&c| matches!(c, b' '..=b'~' | b'\t' | b'\r' | b'\n'));
    printable.then_some(decoded)
}

/// The next offset of one byte at or after a position, kept between calls on one text so that
/// a rule visiting many triggers searches each byte of the text once, not once per trigger.
struct NextByte {
    byte: u8,
    /// The last search's start and its answer: the answer of every start in `from..=at`.
    from: usize,
    at: usize,
}

impl NextByte {
    fn new(byte: u8) -> Self {
        NextByte {
            byte,
            from: usize::MAX,
            at: 0,
        }
    }

    /// The first offset at or after `x` holding the byte in `t` (`t.len()` when none); `t` is
    /// the same text on every call.
    fn at(&mut self, t: &[u8], x: usize) -> usize {
        if !(self.from <= x && x <= self.at) {
            let x = x.min(t.len());
            self.from = x;
            self.at = memchr::memchr(self.byte, &t[x..]).map_or(t.len(), |q| x + q);
        }
        self.at
    }
}

/// Bytes per block of [`block_mask`]: one bit each in a `u64`.
const BLOCK: usize = 64;

/// The bytes of `t[base..base + 64]` (zeros past `t`'s end) and the mask of the bits that
/// stand for bytes of `t`.
#[inline(always)]
fn load(t: &[u8], base: usize) -> ([u8; BLOCK], u64) {
    // (a whole block is copied as one array, not by a `memcpy` call of a variable length)
    if let Some(whole) = t.get(base..base + BLOCK) {
        let block: [u8; BLOCK] = whole.try_into().expect("a whole block");
        return (block, u64::MAX);
    }
    let end = (base + BLOCK).min(t.len());
    let mut block = [0u8; BLOCK];
    block[..end - base].copy_from_slice(&t[base..end]);
    let valid = if end - base < BLOCK {
        (1u64 << (end - base)) - 1
    } else {
        u64::MAX
    };
    (block, valid)
}

/// The bytes of `t[base..base + 64]` for which `f` holds, one bit per byte (byte `base + k`
/// to bit `k`; none past `t`'s end). A byte-wise map, then packed, so that it compiles to
/// vector code.
#[inline(always)]
fn block_mask(t: &[u8], base: usize, f: impl Fn(u8) -> bool) -> u64 {
    let (block, valid) = load(t, base);
    let mut flags = [0u8; BLOCK];
    for k in 0..BLOCK {
        flags[k] = if f(block[k]) { 0x80 } else { 0 };
    }
    pack(&flags) & valid
}

/// The first offset `k` where `a` holds for `t[k]`, `b` for `t[k + 1]` and `f(k)` is true, in
/// order (`None` when none): the pairs are found 64 bytes at a time, two masks a block, so
/// that a text dense with bytes for `a` but not followed by one for `b` (`../../`) costs the
/// masks and no more.
fn find_pair(
    t: &[u8],
    a: impl Fn(u8) -> bool + Copy,
    b: impl Fn(u8) -> bool + Copy,
    mut f: impl FnMut(usize) -> bool,
) -> Option<usize> {
    let mut base = 0;
    while base < t.len() {
        let ma = block_mask(t, base, a);
        if ma != 0 {
            let mb = block_mask(t, base, b);
            // (the block's last byte pairs with the next block's first)
            let next = t.get(base + BLOCK).is_some_and(|&c| b(c));
            let mut m = ma & (mb >> 1 | u64::from(next) << 63);
            while m != 0 {
                let k = base + m.trailing_zeros() as usize;
                m &= m - 1;
                if f(k) {
                    return Some(k);
                }
            }
        }
        base += BLOCK;
    }
    None
}

/// (ASCII letters, `_`) of `t[base..base + 64]`, one bit per byte.
fn letters_and_underscores(t: &[u8], base: usize) -> (u64, u64) {
    let (block, valid) = load(t, base);
    let mut letters = [0u8; BLOCK];
    let mut underscores = [0u8; BLOCK];
    for k in 0..BLOCK {
        let c = block[k];
        letters[k] = if (c | 0x20).wrapping_sub(b'a') < 26 {
            0x80
        } else {
            0
        };
        underscores[k] = if c == b'_' { 0x80 } else { 0 };
    }
    (pack(&letters) & valid, pack(&underscores) & valid)
}

/// The first offset at or after `x` where three ASCII letters in a row or `__` start
/// (`t.len()` when none). Every name the rules gated on it look for holds one of them (the
/// tests check their tables), so a text without any (`' or <a on=../;|${ `, repeated) skips
/// those rules, and a window without any skips the search for the names.
fn first_run(t: &[u8], x: usize) -> usize {
    // a short look first: a text with words mostly opens with one
    let letter = |k: usize| t.get(k).is_some_and(u8::is_ascii_alphabetic);
    let look = (x + 16).min(t.len());
    for k in x..look {
        if (letter(k) && letter(k + 1) && letter(k + 2))
            || (t[k] == b'_' && t.get(k + 1) == Some(&b'_'))
        {
            return k;
        }
    }
    let x = look;
    let mut base = x;
    let (mut l, mut u) = if x < t.len() {
        letters_and_underscores(t, x)
    } else {
        (0, 0)
    };
    while base < t.len() {
        // the runs the block shows alone, then those its last two bytes start (which need
        // the next block's first bytes)
        let inside = (l & l >> 1 & l >> 2) | (u & u >> 1);
        if inside != 0 {
            return base + inside.trailing_zeros() as usize;
        }
        let next = base + BLOCK;
        let (nl, nu) = if next < t.len() {
            letters_and_underscores(t, next)
        } else {
            (0, 0)
        };
        let runs = (l & (l >> 1 | nl << 63) & (l >> 2 | nl << 62)) | (u & (u >> 1 | nu << 63));
        if runs != 0 {
            return base + runs.trailing_zeros() as usize;
        }
        (base, l, u) = (next, nl, nu);
    }
    t.len()
}

/// The offsets of the bytes `a` and `b` in `t`, in order: what `memchr2_iter` gives. A rule
/// visiting triggers that may be dense (every few bytes of a padded body) uses it: it
/// searches from one trigger to the next while they are sparse, and once they come close
/// together it reads the rest 64 bytes at a time, a mask per block (a search per trigger
/// costs more than a mask per block there).
fn positions(t: &[u8], a: u8, b: u8) -> Positions<'_, fn(u8) -> bool> {
    Positions {
        t,
        bytes: (a, b),
        follow: None,
        from: 0,
        close: 0,
        base: usize::MAX,
        mask: 0,
    }
}

/// [`positions`], but once the triggers are dense (read by blocks) only those followed by a
/// byte for which `follow` holds are given: a superset of those, in order, for a caller that
/// tests the byte after each trigger anyway.
fn positions_followed<F: Fn(u8) -> bool + Copy>(
    t: &[u8],
    a: u8,
    b: u8,
    follow: F,
) -> Positions<'_, F> {
    Positions {
        t,
        bytes: (a, b),
        follow: Some(follow),
        from: 0,
        close: 0,
        base: usize::MAX,
        mask: 0,
    }
}

struct Positions<'a, F> {
    t: &'a [u8],
    bytes: (u8, u8),
    /// Reading blocks: the bytes that must follow a trigger (see [`positions_followed`]).
    follow: Option<F>,
    /// Searching: where the next search starts.
    from: usize,
    /// Searching: how many triggers came within [`DENSE`] bytes of the one before.
    close: usize,
    /// Reading blocks (else `usize::MAX`): the current block's first byte...
    base: usize,
    /// ... and its bits not yet given.
    mask: u64,
}

/// A trigger this close to the one before counts as dense; after four of them, blocks.
const DENSE: usize = 32;

impl<F: Fn(u8) -> bool + Copy> Positions<'_, F> {
    fn block(&self, base: usize) -> u64 {
        let (a, b) = self.bytes;
        let m = block_mask(self.t, base, |c| (c == a) | (c == b));
        match self.follow {
            Some(f) if m != 0 => {
                let next = self.t.get(base + BLOCK).is_some_and(|&c| f(c));
                m & (block_mask(self.t, base, f) >> 1 | u64::from(next) << 63)
            }
            _ => m,
        }
    }
}

impl<F: Fn(u8) -> bool + Copy> Iterator for Positions<'_, F> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.base == usize::MAX {
            let (a, b) = self.bytes;
            let q = self.from + memchr::memchr2(a, b, self.t.get(self.from..)?)?;
            if q < self.from + DENSE && self.from > 0 {
                self.close += 1;
            }
            self.from = q + 1;
            if self.close >= 4 && q + 1 < self.t.len() {
                // the rest by blocks, from the byte after this one
                self.base = q + 1;
                self.mask = self.block(q + 1);
            }
            return Some(q);
        }
        while self.mask == 0 {
            self.base += BLOCK;
            if self.base >= self.t.len() {
                return None;
            }
            self.mask = self.block(self.base);
        }
        let k = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.base + k)
    }
}

/// True for bytes of an identifier (ASCII letters, digits, `_`, `$`).
fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// The identifier ending at `end` (exclusive): its start.
fn ident_start(t: &[u8], end: usize) -> usize {
    let mut s = end;
    while s > 0 && end - s < 64 && is_ident(t[s - 1]) {
        s -= 1;
    }
    s
}

/// The identifier starting at `start`: its end.
fn ident_end(t: &[u8], start: usize) -> usize {
    let mut e = start;
    while e < t.len() && e - start < 64 && is_ident(t[e]) {
        e += 1;
    }
    e
}

/// Skips blanks (spaces, tabs, line breaks) from `i` on.
fn skip_blanks(t: &[u8], mut i: usize) -> usize {
    while i < t.len() && t[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Skips blanks backwards from `i` (exclusive): the offset after the last non-blank byte.
fn skip_blanks_back(t: &[u8], mut i: usize) -> usize {
    while i > 0 && t[i - 1].is_ascii_whitespace() {
        i -= 1;
    }
    i
}

/// True when `t[at..]` starts with `word`, compared ASCII case-insensitively.
fn starts_ci(t: &[u8], at: usize, word: &[u8]) -> bool {
    t.get(at..at + word.len())
        .is_some_and(|w| w.eq_ignore_ascii_case(word))
}

/// True when `needle` occurs in `t`, compared ASCII case-insensitively (`needle` in lower
/// case; `t` is a short window).
fn contains_ci(t: &[u8], needle: &[u8]) -> bool {
    t.len() >= needle.len()
        && t.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// True when what comes before `at` (blanks skipped) is the value's start or a byte after
/// which code continues (`;`, `=`, `(`, `{`, `@`, `.`, `!`, `&`, `|`, `?`, `:`, `>`, a
/// quote, a backtick): where a statement or an expression can start. Not `,`, which
/// sentences use as much as argument lists.
fn code_position(t: &[u8], at: usize) -> bool {
    let k = skip_blanks_back(t, at);
    k == 0
        || matches!(
            t[k - 1],
            b';' | b'='
                | b'('
                | b'{'
                | b'}'
                | b'@'
                | b'.'
                | b'!'
                | b'&'
                | b'|'
                | b'?'
                | b':'
                | b'>'
                | b'"'
                | b'\''
                | b'`'
                | b'['
                | b'+'
        )
}
