//! The check at an `=` outside an attribute name ([`Scan::text_eq`]): a known event handler
//! name after a separator (`onload=`), a handler name or `formaction=` breaking out of a quoted
//! value (`" onmouseover=`, `'formaction=`), the `in` operator assigning to a member or a sink
//! (`"in location=`).
//!
//! It runs at every `=` of text and attribute values whose name may be a handler's, so a value
//! padded with `onabc=1 ` (a name that fires only inside a tag, or after a quote) runs it every
//! eight bytes. Its conditions are read cheapest first (whether the value after the `=` looks
//! like script, the one that reads forward, last), and the script look-ahead remembers where
//! the next byte that decides it is ([`Scan::js_value_at`]): consecutive `=` do not read the
//! same bytes again. What it must never do: give another verdict than the rule as first
//! written (`text_eq_reference`, kept for the differential tests).

use super::bytes::*;
use super::scan::{Hit, Scan};
use super::script::js_stop;
#[cfg(test)]
use super::script::js_value;
use super::vocab::is_event;
use super::{R_BREAKOUT, R_HANDLER};

impl Scan<'_> {
    /// `=` outside an attribute name: `onload=` after a separator, `" onmouseover=`,
    /// `'formaction=`.
    pub(super) fn text_eq(&self, i: usize) -> Hit {
        #[cfg(test)]
        if linear_lookups() {
            return self.text_eq_reference(i);
        }
        let end = back_ws_comments(self.b, i);
        self.text_eq_named(i, end, ident_back(self.b, end))
    }

    /// [`Scan::text_eq`] with the name before the `=` at `i` found: `b[s..end]`, `end` after
    /// the spaces and comments before the `=` ([`back_ws_comments`]), `s` the identifier's start
    /// ([`ident_back`]).
    pub(super) fn text_eq_named(&self, i: usize, end: usize, s: usize) -> Hit {
        let b = self.b;
        if end - s < 5 || !eq_ci(b, s, b"on") {
            return self.not_a_handler(i, s, end);
        }
        if !b[s + 2..end].iter().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        let prev = if s == 0 { b' ' } else { b[s - 1] };
        if is_ident(prev) {
            return None;
        }
        // what precedes the name: spaces or comments, a `/`, then maybe a quote (`quoted`);
        // then again (`gap`: `" /onfoo=`)
        let p = back_ws_comments(b, s);
        let p2 = if p > 0 && b[p - 1] == b'/' { p - 1 } else { p };
        let quoted = p2 > 0 && is_quote(b[p2 - 1]);
        let sep = is_ws(prev)
            || is_quote(prev)
            || matches!(
                prev,
                b'/' | b';' | b',' | b'(' | b'|' | b'\\' | b'>' | b'<' | b'{' | b'*'
            )
            || prev < 0x20;
        let known = || is_event(b, s + 2, end);
        let js = || self.js_value_at(i + 1);
        // (known && (sep || js)) || (js && (quoted || ws(prev))), the look-ahead last
        let fires = if quoted || is_ws(prev) {
            js() || (sep && known())
        } else if sep {
            known()
        } else {
            // (the remembered look-ahead before the event table)
            js() && known()
        };
        if fires {
            let rule = if quoted { R_BREAKOUT } else { R_HANDLER };
            return Some((rule, s, i + 1));
        }
        // Any `on...=` name that breaks out of an attribute value: after a quote and a space
        // (`" onfoo=`), or after leading whitespace only (an unquoted value ` onfoo=`).
        let mut gap = back_ws_comments(b, p2);
        if gap > 0 && b[gap - 1] == b'/' {
            gap -= 1;
        }
        if gap < s && gap > 0 && is_quote(b[gap - 1]) {
            return Some((R_BREAKOUT, gap - 1, i + 1));
        }
        // The unquoted case only for one-line values with `=` glued to the name: indented code
        // (`    onceregistry = {}`) is common in pasted snippets, an HTML attribute is not spaced.
        if gap < s && gap == 0 && end == i && !self.in_tag() && memchr::memchr(b'\n', b).is_none() {
            return Some((R_HANDLER, s, i + 1));
        }
        None
    }

    /// [`Scan::text_eq`] on a name `b[s..end]` that is no handler's: `'formaction=`, or an
    /// assignment after the `in` operator.
    fn not_a_handler(&self, i: usize, s: usize, end: usize) -> Hit {
        let b = self.b;
        if lower_eq(b, s, end, b"formaction") {
            let before = back_ws_comments(b, s);
            if before > 0 && is_quote(b[before - 1]) {
                return Some((R_BREAKOUT, before - 1, i + 1));
            }
        }
        // Cheap gate: the assigned name follows a space (`in x=`) or a dot (`in a.b=`).
        if s > 0 && s < end && (is_ws(b[s - 1]) || b[s - 1] == b'.') {
            return self.in_assignment(i, end);
        }
        None
    }

    /// [`js_value`] at `i`, with the first stop at or after where it starts reading
    /// remembered: the next call, further on, reads nothing again before that stop.
    pub(super) fn js_value_at(&self, i: usize) -> bool {
        let b = self.b;
        let mut j = skip_ws(b, i);
        if b.get(j).is_some_and(|&c| is_quote(c)) {
            j += 1;
        }
        let lim = (j + 48).min(b.len());
        let (from, stop) = self.js_stop.get();
        let stop = if from <= j && j <= stop {
            stop
        } else {
            let stop = js_stop(b, j);
            self.js_stop.set((j, stop));
            stop
        };
        stop < lim && matches!(b[stop], b'(' | b'`')
    }

    /// [`Scan::text_eq`] as it was written first (every condition computed, in the order the
    /// rule reads): the reference its differential tests hold it to.
    #[cfg(test)]
    fn text_eq_reference(&self, i: usize) -> Hit {
        let b = self.b;
        let end = back_ws_comments(b, i);
        let s = ident_back(b, end);
        if end - s < 5 || !eq_ci(b, s, b"on") {
            if lower_eq(b, s, end, b"formaction") {
                let before = back_ws_comments(b, s);
                if before > 0 && is_quote(b[before - 1]) {
                    return Some((R_BREAKOUT, before - 1, i + 1));
                }
            }
            // Cheap gate: the assigned name follows a space (`in x=`) or a dot (`in a.b=`).
            if s > 0 && s < end && (is_ws(b[s - 1]) || b[s - 1] == b'.') {
                return self.in_assignment(i, end);
            }
            return None;
        }
        if !b[s + 2..end].iter().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        let prev = if s == 0 { b' ' } else { b[s - 1] };
        if is_ident(prev) {
            return None;
        }
        let known = is_event(b, s + 2, end);
        let quoted = {
            let p = back_ws_comments(b, s);
            let p2 = if p > 0 && b[p - 1] == b'/' { p - 1 } else { p };
            p2 > 0 && is_quote(b[p2 - 1])
        };
        let js = js_value(b, i + 1);
        let rule = if quoted { R_BREAKOUT } else { R_HANDLER };
        let sep = is_ws(prev)
            || is_quote(prev)
            || matches!(
                prev,
                b'/' | b';' | b',' | b'(' | b'|' | b'\\' | b'>' | b'<' | b'{' | b'*'
            )
            || prev < 0x20;
        if (known && (sep || js)) || (js && (quoted || is_ws(prev))) {
            return Some((rule, s, i + 1));
        }
        // Any `on...=` name that breaks out of an attribute value: after a quote and a space
        // (`" onfoo=`), or after leading whitespace only (an unquoted value ` onfoo=`).
        let mut gap = s;
        for _ in 0..2 {
            gap = back_ws_comments(b, gap);
            if gap > 0 && b[gap - 1] == b'/' {
                gap -= 1;
            }
        }
        if gap < s && gap > 0 && is_quote(b[gap - 1]) {
            return Some((R_BREAKOUT, gap - 1, i + 1));
        }
        // The unquoted case only for one-line values with `=` glued to the name: indented code
        // (`    onceregistry = {}`) is common in pasted snippets, an HTML attribute is not spaced.
        if gap < s && gap == 0 && end == i && !self.in_tag() && memchr::memchr(b'\n', b).is_none() {
            return Some((R_HANDLER, s, i + 1));
        }
        None
    }

    /// `"in location=`, `' in a.b=`, `"in \u0076aluef=`: a quoted string closed, then the `in`
    /// operator and an assignment to a member, a sink or an escaped identifier (IE-filter
    /// shape of a JS string breakout). `end` ends the name before the `=` at `i`.
    #[inline(never)]
    pub(super) fn in_assignment(&self, i: usize, end: usize) -> Hit {
        let b = self.b;
        if matches!(b.get(i + 1), Some(b'=') | Some(b'>')) || end == 0 {
            return None;
        }
        // The assigned path `a.b.c` (bounded).
        let mut ps = end;
        let mut dot = false;
        while ps > 0 && end - ps < 64 && (is_ident(b[ps - 1]) || b[ps - 1] == b'.') {
            ps -= 1;
            dot |= b[ps] == b'.' && ps + 1 < end && ps > 0 && is_ident(b[ps - 1]);
        }
        if ps == end || !is_ident(b[ps]) || b[end - 1] == b'.' {
            return None;
        }
        // `in` as a word, after the quote and optional spaces.
        let w = back_ws_comments(b, ps);
        if w == ps || w < 3 || !eq_ci(b, w - 2, b"in") {
            return None;
        }
        let q = back_ws_comments(b, w - 2);
        if q == 0 || !is_quote(b[q - 1]) {
            return None;
        }
        let sink = in_list(
            b,
            ps,
            end,
            &["location", "name", "onerror", "valueof", "tostring", "href"],
        );
        if dot || sink || self.decoded(ps, end) {
            return Some((R_BREAKOUT, q - 1, i + 1));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::bytes::with_linear_lookups;
    use super::super::scan::St;
    use super::*;

    /// The look-ahead with its stop remembered gives [`js_value`]'s answer at every position,
    /// asked in order (as the scan asks it) and out of order, on values made of its stops,
    /// spaces, quotes and letters.
    #[test]
    fn the_remembered_look_ahead_reads_as_js_value() {
        let alphabet = b"(`&>\"' \tax=1";
        let mut next = crate::waf::tests::xorshift(0x1405_7b7e_f767_814f);
        let (mut yes, mut no) = (0, 0);
        for _ in 0..2_000 {
            let len = (next() % 200) as usize;
            let v: Vec<u8> = (0..len)
                .map(|_| match next() % 24 {
                    r @ 0..8 => alphabet[r as usize],
                    _ => b'a',
                })
                .collect();
            let scan = Scan::new(&v, None, &v);
            let mut i = 0;
            while i <= v.len() {
                // (a position again at times, and at times one further back)
                if next() % 8 == 0 {
                    i = i.saturating_sub((next() % 70) as usize);
                }
                let want = js_value(&v, i);
                assert_eq!(scan.js_value_at(i), want, "{v:?} {i}");
                yes += usize::from(want);
                no += usize::from(!want);
                i += 1 + (next() % 6) as usize;
            }
        }
        assert!(yes > 2_000 && no > 2_000, "{yes} {no}");
    }

    /// At every `=` of random sequences of handler-like names, quotes, comments and code, in
    /// text and in each tokenizer state that runs the check: the verdict of the check as first
    /// written.
    #[test]
    fn the_check_gives_the_verdict_of_the_check_as_first_written() {
        let tokens = [
            "on",
            "onabc",
            "onload",
            "onclick",
            "formaction",
            "=",
            " = ",
            " ",
            "  ",
            "\t",
            "\n",
            "/",
            "/**/",
            "/* x */",
            "\"",
            "'",
            "`",
            "(",
            "alert(",
            "x",
            "1",
            "a.b",
            " in ",
            "location",
            "&",
            ">",
            "<",
            ";",
            ",",
            "-",
            ".",
            "\\u0076",
            "value",
        ];
        let states = [St::Text, St::ValueQ(b'"'), St::ValueUnq];
        let (mut fired, mut asked) = (0, 0);
        for v in crate::waf::tests::token_sequences(0x3c6e_f372_fe94_f82b, &tokens, 6_000, 60) {
            let b = v.as_bytes();
            for i in memchr::memchr_iter(b'=', b) {
                for st in states {
                    let mut scan = Scan::new(b, None, b);
                    scan.st = st;
                    let want = with_linear_lookups(|| scan.text_eq(i));
                    assert_eq!(scan.text_eq(i), want, "{v:?} at {i}");
                    asked += 1;
                    fired += usize::from(want.is_some());
                }
            }
        }
        assert!(fired > 1_000 && asked > fired * 3, "{fired} {asked}");
    }
}
