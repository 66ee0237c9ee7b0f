//! The cheap pass in front of the tokenizer: can any rule fire on this value at all?
//!
//! The tokenizer ([`Scan::run`]) walks tag contents byte by byte, so markup-dense text that
//! holds no attack (`<a on=../;|${ ` repeated, a tag with an attribute that is no handler every
//! few bytes) costs it several nanoseconds a byte. Yet every rule fires at one of a few bytes
//! (`: ( ` . [ { ! < =`) and, the tokenizer state aside, only from what lies a bounded
//! distance around it. [`Scan::may_hit`] finds those bytes from a bit mask per 64-byte block
//! (a loop the compiler turns into vector code) and asks, at each, the very checks the
//! tokenizer would run there, in the state most favourable to firing:
//!
//! - `: ( ` . [ { !`: the tokenizer runs their check in every state; the probe runs it "inside
//!   a tag" (the only tokenizer state these checks read, and only to fire more: a
//!   `javascript:` without code after it, an `expression(` without a `:` before it). The last
//!   `{{` they read is the tokenizer's own: the probe passes every `{` in order as it does.
//!   `xmlns:` (an attribute name holding a `:`) is settled at its `:`.
//! - `<`: its own check ([`Scan::at_lt`], which reads no state), then, when it opens a tag
//!   name, the tag name's check at the name's end ([`Scan::tag_name_end`]).
//! - `=`: the text check ([`Scan::text_eq`]) "outside a tag" (the one condition it reads of
//!   the state only lets it fire there), and the attribute-name check ([`Scan::attr_name`]) on
//!   the letters right before the `=` (or before the spaces before it). Every attribute name
//!   that check fires on is all letters, and the tokenizer starts an attribute name only after
//!   a byte that is no letter or digit, so that run of letters is the name it would check.
//!   Where the tokenizer's state is known to be text or a quoted value (at the start of the
//!   value, text; where a spot left the tokenizer, up to the next tag start, which the probe
//!   passes, and for a quoted value up to its quote), no attribute name is being read: only
//!   the text check runs, in that state, and an `onabc=` there is no spot.
//!
//! When none of them can fire, nor the value-start check, no rule fires: the value is clean
//! without the tokenizer. Otherwise the tokenizer gives the verdict, run at each spot where
//! one may fire, in its own state there ([`spots`], `spots.rs`), so a verdict is never the
//! probe's. What it must never do: pass over a spot where one state of the tokenizer could
//! fire; differential tests hold it against the tokenizer alone (below, and `spots.rs`).

use super::bytes::{back_ws_comments, eq_ci, ident_back, is_ws, lc_at, skip_ws};
use std::ops::ControlFlow;

use super::scan::{is_tag_name_byte, Hit, Scan, St};
use super::vocab::tag_rule;

/// Bytes per block: one bit each in a `u64`.
const BLOCK: usize = 64;

/// Walks the trigger bytes of `b` in order and calls `visit(p, braces, tag)` at each one
/// where a check of the tokenizer may fire in some state (see the module docs), `braces`
/// being the last `{{` before `p` (the tokenizer's own) and `tag` the position after the last
/// `<` that opens a tag name among the triggers asked about (0 when none; `p + 1` when the
/// spot is one). `visit` stops the walk with a verdict, or says
/// where to go on, the last `{{` before there and the tokenizer's state there: the triggers
/// before that position, which the tokenizer read itself, are not asked about.
pub(super) fn spots(
    b: &[u8],
    map: Option<&[u32]>,
    raw: &[u8],
    mut visit: impl FnMut(usize, Option<usize>, usize) -> ControlFlow<Hit, (usize, Option<usize>, St)>,
) -> ControlFlow<Hit> {
    let mut probe = Scan::new(b, map, raw);
    // the tokenizer's state where it is known (at the start; where a spot left it) when it is
    // text or a quoted value: text lasts up to the next tag start, a quoted value also up to
    // its quote (`quote_at`, looked for when first needed)
    let mut known = Some((0, St::Text));
    let mut quote_at = None;
    // whether the value holds an `in` operator (looked for at the first `=` that needs it)
    let mut in_op = None;
    let mut next = 0;
    let mut base = 0;
    while base < b.len() {
        let mut m = match b.get(base..base + BLOCK) {
            Some(block) => triggers(block.try_into().expect("64 bytes")),
            None => {
                // the last, partial block (zeros are no trigger)
                let mut block = [0u8; BLOCK];
                block[..b.len() - base].copy_from_slice(&b[base..]);
                triggers(&block)
            }
        };
        if next > base {
            m &= skip_below(next - base);
        }
        while m != 0 {
            let p = base + m.trailing_zeros() as usize;
            m &= m - 1;
            // the state at an `=` where it is known (the probe's `mark` is set at every tag
            // start it passes, and nowhere else)
            let state = |mark: usize| match known {
                Some((t, st)) if mark <= t => match st {
                    St::ValueQ(q) => {
                        let end = *quote_at.get_or_insert_with(|| {
                            memchr::memchr(q, &b[t..]).map_or(b.len(), |k| t + k)
                        });
                        (p < end).then_some(st)
                    }
                    _ => Some(st),
                },
                _ => None,
            };
            if probe.may_fire_at(p, &mut in_op, state) {
                let st;
                (next, probe.braces, st) = visit(p, probe.braces, probe.mark)?;
                known = matches!(st, St::Text | St::ValueQ(_)).then_some((next, st));
                quote_at = None;
                m &= skip_below(next - base);
            }
        }
        base += BLOCK;
    }
    ControlFlow::Continue(())
}

/// The bits of a block's mask from bit `k` on (none when `k` is past the block).
fn skip_below(k: usize) -> u64 {
    if k >= BLOCK {
        0
    } else {
        !0 << k
    }
}

impl Scan<'_> {
    /// False when no rule can fire anywhere in the value (see the module docs); true when one
    /// may, and the tokenizer must decide.
    #[cfg(test)]
    pub(super) fn may_hit(&self) -> bool {
        spots(self.b, self.map, self.raw, |_, _, _| {
            ControlFlow::Break(None)
        })
        .is_break()
    }

    /// Whether a check the tokenizer runs at the trigger byte `b[p]` can fire in some state.
    #[inline(always)]
    fn may_fire_at(
        &mut self,
        p: usize,
        in_op: &mut Option<bool>,
        state: impl FnOnce(usize) -> Option<St>,
    ) -> bool {
        let b = self.b;
        match b[p] {
            b'<' => {
                self.st = St::Text;
                if (self.map.is_some() || may_spell_out(b, p)) && self.at_lt(p).is_some() {
                    return true;
                }
                if !(lc_at(b, p + 1).is_ascii_alphabetic() || lc_at(b, p + 1) == b':') {
                    return false;
                }
                // a tag name opens: its check runs where the name ends (and needs a name of
                // 3 bytes or more: a dangerous tag, a namespace prefix, a glued attribute)
                let (end, colon) = tag_name_fwd(b, p + 1);
                self.mark = p + 1;
                let len = end - self.mark;
                // without a `:` the name is the local part and has no prefix: only a dangerous
                // name or, glued to an attribute, an `=` after it can fire (`<abc ` cannot)
                len >= 3
                    && (colon
                        || tag_rule(b, self.mark, end).is_some()
                        || (len > 4 && b.get(skip_ws(b, end)) == Some(&b'=')))
                    && self.tag_name_end(end).is_some()
            }
            b'=' => {
                let state = state(self.mark);
                let e = back_ws_comments(b, p);
                // in text or a quoted value (`state`, where known) no attribute name is checked
                if state.is_none()
                    && (self.attr_name_before(p, p) || (e < p && self.attr_name_before(e, p)))
                {
                    return true;
                }
                // the text check fires on a name of 5 bytes or more (`on...`,
                // `formaction`) or after the `in` operator (`in` then a space or a comment)
                let s = ident_back(b, e);
                if e - s < 5 && !*in_op.get_or_insert_with(|| has_in_operator(b)) {
                    return false;
                }
                // (unknown: in text, where it fires most)
                self.st = state.unwrap_or(St::Text);
                self.text_eq_named(p, e, s).is_some()
            }
            // `{{` opens a template (the tokenizer's own state: kept), `${` fires only before
            // a name
            b'{' if b.get(p + 1) == Some(&b'{') => self.at_brace(p).is_some(),
            b'{' if p == 0
                || b[p - 1] != b'$'
                || !lc_at(b, skip_ws(b, p + 1)).is_ascii_alphabetic() =>
            {
                false
            }
            // a global before a `.` ends with a letter (spaces, a comment or a `)` between),
            // unless inside `{{`
            b'.' if !self.in_braces(p)
                && (p == 0
                    || !(b[p - 1].is_ascii_alphabetic()
                        || is_ws(b[p - 1])
                        || matches!(b[p - 1], b'/' | b')'))) =>
            {
                false
            }
            c => {
                // inside a tag: these checks fire there at least as often (the last `{{`
                // is the tokenizer's own: the probe, too, passes every `{` in order)
                self.st = St::BeforeAttr;
                match c {
                    b':' => self.at_colon(p).is_some() || (p >= 5 && eq_ci(b, p - 5, b"xmlns")),
                    b'(' => self.at_paren(p).is_some(),
                    b'`' => self.at_backtick(p).is_some(),
                    b'.' => self.at_dot(p).is_some(),
                    b'[' => self.at_bracket(p).is_some(),
                    b'{' => self.at_brace(p).is_some(),
                    b'!' => self.at_bang(p).is_some(),
                    _ => false,
                }
            }
        }
    }

    /// The attribute-name check on the run of letters ending at `end`, for the `=` at `eq`.
    fn attr_name_before(&self, end: usize, eq: usize) -> bool {
        let b = self.b;
        let mut s = end;
        while s > 0 && b[s - 1].is_ascii_alphabetic() {
            s -= 1;
        }
        // (every name it fires on has 5 letters or more)
        end - s >= 5 && self.attr_name(s, end, eq).is_some()
    }
}

/// Whether the `<` at `lt` may be what [`Scan::at_lt`] fires on: anything but a letter then
/// a byte that is no space (a tag name, which [`Scan::tag_name_end`] checks), or a letter, a
/// space and no second spelled-out letter (`<a on`: `<f o r m` needs a letter alone after
/// one or two spaces). (On a decoded copy, [`Scan::at_lt`] also looks for 8-bit escapes:
/// the caller asks it then.)
fn may_spell_out(b: &[u8], lt: usize) -> bool {
    let c1 = lc_at(b, lt + 1);
    if !c1.is_ascii_alphabetic() {
        return true;
    }
    if !b.get(lt + 2).is_some_and(|&c| is_ws(c)) {
        return false;
    }
    // the second letter of `< s c r i p t`, after one or two spaces
    let k = if b.get(lt + 3).is_some_and(|&c| is_ws(c)) {
        lt + 4
    } else {
        lt + 3
    };
    lc_at(b, k).is_ascii_alphabetic() && !lc_at(b, k + 1).is_ascii_alphanumeric()
}

/// Whether `b` holds `in` (any case) followed by a space or a `/`: what
/// [`Scan::in_assignment`] needs before the assigned name.
fn has_in_operator(b: &[u8]) -> bool {
    memchr::memchr2_iter(b'i', b'I', b)
        .any(|k| lc_at(b, k + 1) == b'n' && b.get(k + 2).is_some_and(|&c| is_ws(c) || c == b'/'))
}

/// Where the tag name starting at `i` ends, as the tokenizer's tag-name state reads it, and
/// whether it holds a `:`.
fn tag_name_fwd(b: &[u8], mut i: usize) -> (usize, bool) {
    let mut colon = false;
    while i < b.len() && is_tag_name_byte(b[i]) {
        colon |= b[i] == b':';
        i += 1;
    }
    (i, colon)
}

/// The trigger bytes of a block, one bit per byte (byte `k` to bit `k`). Written as a
/// branch-free byte-wise map into an array, then packed eight bytes at a time, so that it
/// compiles to vector code.
fn triggers(c: &[u8; BLOCK]) -> u64 {
    let mut t = [0u8; BLOCK];
    for (d, &x) in t.iter_mut().zip(c) {
        // `|`, not `||`: no branches. `<` `=` are 0x3c 0x3d, `[` `{` are 0x5b 0x7b.
        let hit = (x == b':')
            | (x == b'(')
            | (x == b'`')
            | (x == b'.')
            | (x == b'!')
            | (x & 0xfe == b'<')
            | (x | 0x20 == b'{');
        *d = if hit { 0x80 } else { 0 };
    }
    let mut m = 0u64;
    for (j, chunk) in t.chunks_exact(8).enumerate() {
        let mut x = [0u8; 8];
        x.copy_from_slice(chunk);
        let x = u64::from_le_bytes(x);
        // moves bit 8i+7 to bit 56+i for every i: the eight bits land in the top byte
        m |= (x.wrapping_mul(0x0002_0408_1020_4081) >> 56) << (j * 8);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::super::bytes::with_linear_lookups;
    use super::super::{detect, detect_classified, detect_ungated, Finding};
    use super::*;

    /// The verdict with the cheap pass is the tokenizer's alone (rule and span), with its
    /// word lists walked one word at a time (the lookups before their filters,
    /// [`with_linear_lookups`]), through [`detect`] and, for values with nothing to decode,
    /// the WAF's [`detect_classified`]; returns that verdict.
    fn same_verdict(v: &str) -> Option<Finding> {
        let want = with_linear_lookups(|| detect_ungated(v));
        assert_eq!(detect(v), want, "{v:?}");
        let raw = v.as_bytes();
        let plain = with_linear_lookups(|| Scan::new(raw, None, raw).run_ungated());
        assert_eq!(Scan::new(raw, None, raw).run(), plain, "{v:?}");
        if !super::super::needs_norm(raw) {
            assert_eq!(detect_classified(v, false), want, "{v:?}");
        }
        want
    }

    /// Around every corpus value (attacks and benign), inside and outside a tag, in and out
    /// of a quoted attribute value: the same verdict as the tokenizer alone.
    #[test]
    fn the_gate_gives_the_tokenizers_verdict_on_the_corpus() {
        let Some(values) = crate::waf::tests::corpus_values(true) else {
            return;
        };
        assert!(values.len() > 10_000, "{}", values.len());
        let spotted = format!("{}> x onabc=1 ", "' or <a on=../;|${ ".repeat(13));
        let handlers = "onabc=1 ".repeat(8);
        // the same names after a tag (text again) and in a quoted value
        let closed = format!("<a>{handlers}");
        let quoted = format!("<a b=\"{handlers}");
        let mut hits = 0;
        for v in &values {
            for (pre, post) in [
                ("", ""),
                ("<a ", ""),
                ("<b c=\"", "\">"),
                ("z ", " z="),
                // spots that may fire but do not before the value, a firing one after it
                ("' or <a on=../;|${ > x onabc=1 ", " x onabc=1 <a onabc=1"),
                ("<a b='x onabc=1 ", "' c=\"x onabc=1"),
                // the benchmarks' paddings: spots every 259 bytes, every 8, tag names every 5
                (spotted.as_str(), spotted.as_str()),
                (handlers.as_str(), "<abc <abc "),
                (closed.as_str(), quoted.as_str()),
                (quoted.as_str(), "\">"),
            ] {
                hits += usize::from(same_verdict(&format!("{pre}{v}{post}")).is_some());
            }
        }
        // the corpus reaches both verdicts
        assert!(hits > 5_000 && hits < values.len() * 10 - 5_000, "{hits}");
    }

    /// Pieces of markup, script and prose that come near the rules, glued at random.
    const TOKENS: &[&str] = &[
        "<",
        "<a",
        "<a ",
        "</",
        "<!",
        "<?",
        "< ",
        ">",
        " ",
        "  ",
        "\t",
        "\n",
        "/",
        "=",
        " = ",
        "\"",
        "'",
        "`",
        "on",
        "on=",
        "onx",
        "onabc",
        "onload",
        "onfoo=",
        "xmlns",
        ":",
        "x:",
        "script",
        "s c r i p t",
        "svg",
        "style",
        "form",
        "a",
        "b",
        "img",
        "src",
        "href",
        "formaction",
        "srcdoc",
        "datasrc",
        "javascript",
        "java\tscript",
        "data",
        "text/html",
        "image/png",
        ",",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "{{",
        "}}",
        "${",
        "$",
        "!",
        "!!",
        ".",
        "..",
        "../",
        ";",
        "|",
        "&",
        "*",
        "/*",
        "*/",
        "-->",
        "--",
        "in",
        " in ",
        "x.y",
        "alert",
        "alert(",
        "eval",
        "constructor",
        "__proto__",
        "call",
        "fetch",
        "import",
        "document",
        "window",
        "top",
        "self",
        "location",
        "cookie",
        "name",
        "expression",
        "url",
        "url(",
        "binding",
        "-moz-",
        "behavior",
        "entity",
        "ENTITY",
        "system",
        "#",
        "&lt;",
        "&#60;",
        "&amp;",
        "\\x3c",
        "\\xbc",
        "\\u0076",
        "%3c",
        "%u003c",
        "+ADw-",
        "7",
        "x",
        "The box was intact",
        "\u{ff1c}",
        "\u{e9}",
    ];

    /// Whole shapes the rules look for (or nearly), for the sequences to reach them often.
    const SHAPES: &[&str] = &[
        "\" in ",
        "' in ",
        "'in ",
        " in/**/",
        "a.b=",
        "x.y =",
        "location=",
        "\\u0076a=",
        "<a onxyz=",
        "<a onxy =",
        " onabc=",
        "\" onfoo=",
        "<x xmlns:y=",
        "<x xmlns=",
        "xmlns:",
        "javascript:",
        "java script:x(",
        "<svg",
        "<scriptsrc=",
        "<f o r m",
        "< s c r",
        "{{x.",
        ".constructor(",
        "${alert}",
        "${ eval(",
        "data:,",
        "data:text/html",
        "url(",
        "-->",
        "</script",
        "<!--#",
        "<!entity",
        "<?import",
        "![]",
        "!![]",
        "document.",
        "window[",
        "top .",
        "self)",
        "alert`",
        ".call`",
        "expression(",
        "-moz-binding:",
        "behavior:url",
        "formaction=",
        "srcdoc =",
        "\\xbcx\\xbe",
        "';fetch(",
        "new Function(",
        // spots that may fire in a tag but do not in text or a quoted value
        "> x onabc=1 ",
        "<a b=\"x onabc=1 ",
        ">javascript:x ",
        "> expression(",
    ];

    /// Thousands of random sequences of those pieces, of every length up to a few blocks:
    /// the same verdict with and without the cheap pass.
    #[test]
    fn the_gate_gives_the_tokenizers_verdict_on_random_near_attacks() {
        let mut next = crate::waf::tests::xorshift(0x2545_f491_4f6c_dd1du64);
        let (mut hits, mut clean, mut gated) = (0, 0, 0);
        for round in 0..44_000 {
            // short values, then longer ones (several blocks), then a few of a chunk's length
            let len = (next()
                % match round {
                    0..20_000 => 40,
                    20_000..40_000 => 300,
                    _ => 2_500,
                }) as usize;
            let mut v = String::new();
            while v.len() < len {
                let r = next();
                v.push_str(if r % 8 == 0 {
                    SHAPES[(r >> 8) as usize % SHAPES.len()]
                } else {
                    TOKENS[(r >> 8) as usize % TOKENS.len()]
                });
                if next() % 4 == 0 {
                    v.push(' ');
                }
            }
            match same_verdict(&v) {
                Some(_) => hits += 1,
                None => {
                    clean += 1;
                    let raw = v.as_bytes();
                    gated += usize::from(!Scan::new(raw, None, raw).may_hit());
                }
            }
        }
        // both verdicts, and clean values both the gate and the tokenizer had to clear
        assert!(hits > 5_000, "{hits}");
        assert!(gated > 1_000 && clean - gated > 1_000, "{clean} {gated}");
    }

    /// The worst case of the benchmarks (markup every few bytes, no attack) is cleared by the
    /// gate alone, as are ordinary prose and JSON.
    #[test]
    fn near_attacks_and_prose_are_cleared_without_the_tokenizer() {
        for v in [
            "' or <a on=../;|${ ".repeat(108),
            "The headphones arrived two days late, but the box was intact. ".repeat(20),
            r#"{"sku": "SKU-00001", "name": "Wireless headphones", "price": 129.99}"#.repeat(9),
        ] {
            let b = v.as_bytes();
            assert!(!Scan::new(b, None, b).may_hit(), "{v:?}");
            assert_eq!(same_verdict(&v), None);
        }
    }

    /// The filtered word lookups find what a walk of the list finds, for every word of the
    /// lists, each with one byte changed, cut or lengthened, in either case.
    #[test]
    fn word_filters_find_what_a_walk_finds() {
        use super::super::bytes::Words;
        use super::super::vocab::{CALL_WORDS, DANGEROUS_ATTR_WORDS, DANGEROUS_TAG_WORDS};
        let lists: [&Words; 3] = [&DANGEROUS_TAG_WORDS, &DANGEROUS_ATTR_WORDS, &CALL_WORDS];
        let mut tried = 0;
        let mut found = 0;
        for words in lists {
            for w in words.list {
                let w = w.as_bytes();
                let mut names = vec![w.to_vec(), w.to_ascii_uppercase(), w[1..].to_vec()];
                names.push(w[..w.len() - 1].to_vec());
                names.push([w, b"s"].concat());
                for k in 0..w.len() {
                    for c in [b'a', b'z', b'0', b'-', 0xc3] {
                        let mut x = w.to_vec();
                        x[k] = c;
                        names.push(x);
                    }
                }
                for name in names {
                    // the name alone, and inside other bytes
                    let framed = [b"<".as_slice(), &name, b" x"].concat();
                    for (b, s, e) in [(&name[..], 0, name.len()), (&framed, 1, name.len() + 1)] {
                        for other in lists {
                            let want = with_linear_lookups(|| other.find(b, s, e));
                            assert_eq!(other.find(b, s, e), want, "{name:?}");
                            tried += 1;
                            found += usize::from(want.is_some());
                        }
                    }
                }
            }
        }
        assert!(found > 100 && tried > found * 10, "{found} {tried}");
    }

    /// `js_value` eight bytes at a time gives what it gives byte by byte, at every position
    /// of random values made of its stops, spaces, quotes and letters, of every length.
    #[test]
    fn js_value_by_chunks_reads_as_byte_by_byte() {
        use super::super::script::js_value;
        let alphabet = b"(`&>\"' \tax=1";
        let mut next = crate::waf::tests::xorshift(0x5851_f42d_4c95_7f2d);
        let (mut yes, mut no) = (0, 0);
        for _ in 0..3_000 {
            let len = (next() % 120) as usize;
            // mostly letters, so that stops fall at every distance
            let v: Vec<u8> = (0..len)
                .map(|_| match next() % 16 {
                    r @ 0..8 => alphabet[r as usize],
                    _ => b'a',
                })
                .collect();
            for i in 0..=v.len() {
                let want = with_linear_lookups(|| js_value(&v, i));
                assert_eq!(
                    js_value(&v, i),
                    want,
                    "{:?} {i}",
                    String::from_utf8_lossy(&v)
                );
                if want {
                    yes += 1;
                } else {
                    no += 1;
                }
            }
        }
        assert!(yes > 10_000 && no > 10_000, "{yes} {no}");
    }

    #[test]
    fn the_mask_marks_the_trigger_bytes_and_no_other() {
        for x in 0..=255u8 {
            for k in 0..BLOCK {
                let mut c = [b'a'; BLOCK];
                c[k] = x;
                let want = u64::from(b":(`.[{!<=".contains(&x)) << k;
                assert_eq!(triggers(&c), want, "byte {x:#x} at {k}");
            }
        }
    }
}
