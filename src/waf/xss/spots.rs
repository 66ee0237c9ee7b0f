//! The tokenizer run only at the spots where the cheap pass says a rule may fire.
//!
//! The tokenizer's checks read its state (inside a tag or not, which attribute name an `=`
//! ends), and that state depends on everything before. Running the tokenizer over the whole
//! value once any spot may fire costs what the cheap pass saved, and an attacker who pads a
//! value with such spots (`> x onabc=1 `: a handler-like name that only fires inside a tag)
//! pays it back on every chunk. So [`Scan::run`] carries the state from spot to spot instead:
//!
//! - between spots it only follows the state (no check: the cheap pass found none that can
//!   fire there, in any state), from the last tag start before the spot when there is one
//!   (`<` and a letter or `:` opens a tag name whatever the state before it, so the state
//!   after it is known; the cheap pass, which reads every `<`, says where it is), jumping over
//!   quoted values and stopping in text (which only a tag start leaves);
//! - at a spot it runs the tokenizer itself on that byte, and on to the end of the tag name
//!   the byte opens or is in, or of the attribute name it is in (the name's check runs where
//!   it ends: `<svg `, `xmlns:x=`); it tells the cheap pass the state it left there, which
//!   lets the cheap pass settle the `=` of text and quoted values itself.
//!
//! Every byte is followed at most once and every spot is checked once, so the cost is the
//! cheap pass plus a bounded amount per byte, whatever the spots. The verdict (rule and span)
//! is the tokenizer's over the whole value: a differential test holds the two together
//! (`gate.rs`). What it must never do: check a spot in a state the tokenizer would not be in.

use std::ops::ControlFlow;

use super::gate::spots;
use super::scan::{Hit, Scan, St};

impl Scan<'_> {
    /// The first rule that fires on the value: the tokenizer's verdict, with the tokenizer
    /// run only where the cheap pass ([`spots`]) says a rule may fire.
    pub(super) fn run(&mut self) -> Hit {
        if let Some(h) = self.value_start() {
            return Some(h);
        }
        let (b, map, raw) = (self.b, self.map, self.raw);
        let n = b.len();
        // the state is the tokenizer's after it read the bytes before `at`
        let mut at = 0;
        let found = spots(b, map, raw, |p, braces, tag| {
            // (a tag start at the spot sets the state whatever it was)
            if tag != p + 1 {
                self.follow(at, p, tag);
            }
            self.braces = braces;
            let mut i = p;
            loop {
                if let Some(h) = self.visit(i) {
                    return ControlFlow::Break(Some(h));
                }
                i += 1;
                // on to the end of the tag name or of the attribute name the spot is in
                // (`<svg`, `xmlns:x=`: their checks run where the name ends)
                let name = match self.st {
                    St::TagName => true,
                    St::AttrName | St::AfterAttrName => self.mark <= p,
                    _ => false,
                };
                if !name {
                    break;
                }
                if i == n {
                    // a tag name cut by the end of the input
                    let st = self.st;
                    return ControlFlow::Break(if st == St::TagName {
                        self.tag_name_end(n)
                    } else {
                        None
                    });
                }
            }
            at = i;
            ControlFlow::Continue((i, self.braces, self.st))
        });
        match found {
            ControlFlow::Break(hit) => hit,
            ControlFlow::Continue(()) => None,
        }
    }

    /// Moves the state from the tokenizer's before byte `from` to its before byte `to`,
    /// running no check (none can fire between two spots). `tag` is the position after the
    /// last tag start before `to` (`<` and a letter or `:`), or anything up to `from` when
    /// there is none in `b[from..to]`: the state after a tag start is known.
    fn follow(&mut self, from: usize, to: usize, tag: usize) {
        let b = self.b;
        let mut i = from;
        if tag > from {
            debug_assert!(tag <= to && opens_tag(b, tag - 1));
            self.st = St::TagName;
            self.mark = tag;
            i = tag;
        }
        // no tag starts in `b[i..to]`: a `<` changes nothing there, text stays text
        while i < to {
            match self.st {
                St::Text => return,
                St::ValueQ(q) => {
                    let rest = &b[i..to];
                    let found = if rest.len() > 64 {
                        memchr::memchr(q, rest)
                    } else {
                        rest.iter().position(|&c| c == q)
                    };
                    let Some(k) = found else {
                        return;
                    };
                    self.st = St::BeforeAttr;
                    i += k + 1;
                }
                _ => {
                    let c = b[i];
                    if c != b'<' {
                        self.transition(i, c);
                    }
                    i += 1;
                }
            }
        }
    }
}

/// Whether the `<` at `lt` opens a tag name, as [`Scan::at_lt`] reads it (in any state).
fn opens_tag(b: &[u8], lt: usize) -> bool {
    b.get(lt + 1)
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The state the tokenizer reaches byte by byte (its transitions, no check).
    fn state_at(b: &[u8], to: usize) -> (St, usize) {
        let mut s = Scan::new(b, None, b);
        for i in 0..to {
            if b[i] == b'<' {
                if opens_tag(b, i) {
                    s.st = St::TagName;
                    s.mark = i + 1;
                }
            } else {
                s.transition(i, b[i]);
            }
        }
        (s.st, s.mark)
    }

    /// From any position where it had the tokenizer's state, [`Scan::follow`] reaches the
    /// tokenizer's state at any later one (the name start too, where the state reads it).
    #[test]
    fn following_gives_the_tokenizers_state() {
        let pieces = [
            "<", "<a", "<b:c", "< ", "<1", ">", " ", "\t", "/", "=", "\"", "'", "`", "x", "on",
            "ab", "1", "-", ":", "\u{e9}",
        ];
        let mut next = crate::waf::tests::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3_000 {
            let mut v = String::new();
            while v.len() < (next() % 200) as usize {
                v.push_str(pieces[next() as usize % pieces.len()]);
            }
            let b = v.as_bytes();
            let from = (next() as usize) % (b.len() + 1);
            let to = from + (next() as usize) % (b.len() - from + 1);
            let mut s = Scan::new(b, None, b);
            (s.st, s.mark) = state_at(b, from);
            let tag = (from..to)
                .rev()
                .find(|&k| b[k] == b'<' && opens_tag(b, k))
                .map_or(0, |k| k + 1);
            s.follow(from, to, tag);
            let want = state_at(b, to);
            assert!(s.st == want.0, "{v:?} {from}..{to}");
            if matches!(want.0, St::TagName | St::AttrName | St::AfterAttrName) {
                assert_eq!(s.mark, want.1, "{v:?} {from}..{to}");
            }
        }
    }

    /// A name cut by the end of the value: a tag name gets its check there, an attribute
    /// name none (`xmlns:svg` is no tag), as in the tokenizer.
    #[test]
    fn names_cut_by_the_end_of_the_value() {
        for (v, want) in [
            ("x <svg", Some("xss-dangerous-tag")),
            ("> x onabc=1 <a:iframe", Some("xss-dangerous-tag")),
            ("<a xmlns:svg", None),
            ("> x onabc=1 <a b=1 xmlns:script", None),
            ("<a xmlns:svg=", Some("xss-xml-injection")),
        ] {
            let b = v.as_bytes();
            let got = Scan::new(b, None, b).run();
            assert_eq!(got, Scan::new(b, None, b).run_ungated(), "{v:?}");
            assert_eq!(got.map(|h| h.0), want, "{v:?}");
        }
    }
}
