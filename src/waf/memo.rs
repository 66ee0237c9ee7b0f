//! Header values, paths and parameter names this thread has seen clean: the few most recent
//! `User-Agent`s, other header values, URL header values (for SSRF), request paths and query,
//! form or JSON parameter names
//! that no detector matched, so the next request carrying the same bytes skips them. A service
//! sees few distinct user agents, and their scan is the largest part of the WAF's cost on a
//! request without parameters (about 1 µs of a browser's GET); its routes' paths and its API's
//! parameter names (`per_page`, `created_at`: those that are not plain words) come again and
//! again too. Parameter *values* are not remembered: they are the data, and vary.
//!
//! Sound because every detector is a pure function of the value: bytes that matched nothing
//! match nothing again. Only values on which every detector of their kind ran and none matched
//! (before rules are disabled, so re-enabling a rule cannot be hidden) are remembered, compared
//! byte for byte, never by hash, so no crafted value can pass for a remembered one. Per thread
//! (no lock, nothing shared), a handful of entries of bounded length: at most
//! `ENTRIES * MAX_LEN` bytes a thread. An attacker rotating values only misses, as without it.

use std::cell::RefCell;

/// Values remembered per thread and kind.
const ENTRIES: usize = 8;
/// Longest value remembered, in bytes (a browser's user agent is 100–250).
pub(super) const MAX_LEN: usize = 512;

/// Which checks a value was clean for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    /// The detectors that run on header values.
    Header = 0,
    /// The scanner user-agent list.
    UserAgent = 1,
    /// The detectors that run on header values, with the paranoia level 2 rules.
    HeaderStrict = 2,
    /// The detectors that run on the request path.
    Path = 3,
    /// The detectors that run on the request path, with the paranoia level 2 rules.
    PathStrict = 4,
    /// The detectors that run on query and body parameters, on a name with no `:`, `/` or `\`
    /// (so that the off-site inclusion rules, which compare a URL with the request's `Host`,
    /// cannot apply: the verdict depends on the bytes alone).
    Name = 5,
    /// The same, with the paranoia level 2 rules.
    NameStrict = 6,
    /// Values of headers that carry a URL (`Referer`, `X-Original-URL`, ...), clean for every
    /// SSRF rule (the same for both levels).
    UrlHeader = 7,
}

const KINDS: usize = 8;

impl Kind {
    /// The kind for values from `source` at `paranoia`, if such values are remembered.
    pub(super) fn of(source: super::Source, paranoia: super::Paranoia) -> Option<Kind> {
        use super::{Paranoia, Source};
        match (source, paranoia) {
            (Source::Header, Paranoia::Level1) => Some(Kind::Header),
            (Source::Header, Paranoia::Level2) => Some(Kind::HeaderStrict),
            (Source::Path, Paranoia::Level1) => Some(Kind::Path),
            (Source::Path, Paranoia::Level2) => Some(Kind::PathStrict),
            _ => None,
        }
    }

    /// The kind for parameter names from `source` at `paranoia`, if such names are remembered.
    pub(super) fn name_of(source: super::Source, paranoia: super::Paranoia) -> Option<Kind> {
        use super::{Paranoia, Source};
        match (source, paranoia) {
            (Source::Query | Source::Body, Paranoia::Level1) => Some(Kind::Name),
            (Source::Query | Source::Body, Paranoia::Level2) => Some(Kind::NameStrict),
            _ => None,
        }
    }
}

#[derive(Default)]
struct Memo {
    values: [[Option<Box<str>>; ENTRIES]; KINDS],
    next: [usize; KINDS],
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::default();
}

/// Whether this thread saw `value` clean for `kind` recently.
pub(super) fn is_clean(kind: Kind, value: &str) -> bool {
    value.len() <= MAX_LEN
        && MEMO.with(|m| {
            m.borrow().values[kind as usize]
                .iter()
                .flatten()
                .any(|v| **v == *value)
        })
}

/// Remembers that `value` is clean for `kind`, in place of the oldest entry.
pub(super) fn remember(kind: Kind, value: &str) {
    if value.len() > MAX_LEN {
        return;
    }
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let k = kind as usize;
        let slot = m.next[k];
        m.values[k][slot] = Some(value.into());
        m.next[k] = (slot + 1) % ENTRIES;
    });
}
