//! The patterns of WAF exclusions and per-route modes: request paths (`/forum/*`,
//! `/api/**/comments`), input names (`body.comments[*].text`, `query.q`) and rule ids (`xss-*`).
//!
//! Each is parsed once, when a rules document is read (the parse error is the rules error's
//! reason), and matched without allocating and in time linear in the text matched (input names
//! with a bit-parallel automaton, paths segment by segment with one backtracking point per
//! `**`, as the classic wildcard matcher does). Nothing here decodes or normalises a request's
//! path: the caller hands it the path it decided to trust (see `exclusions`). Matching is
//! case-sensitive, as routers are.

use std::fmt;

/// Longest path pattern, in bytes.
pub(crate) const MAX_PATH_PATTERN: usize = 1024;
/// Most elements (characters, `*` and `**` each counting one) an input pattern may have: one
/// bit each in the automaton.
pub(crate) const MAX_INPUT_ELEMENTS: usize = 127;

/// One segment of a path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of whole segments, none included.
    Any,
    /// A segment, where `*` stands for any run of characters other than `/`.
    Glob(Box<str>),
}

/// A request path pattern (see the module docs and docs/rules.md).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PathGlob {
    text: Box<str>,
    segments: Vec<Segment>,
}

impl fmt::Debug for PathGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathGlob({:?})", self.text)
    }
}

impl PathGlob {
    /// Parses a path pattern: it starts with `/`; `*` matches within one segment, `**` (a whole
    /// segment) any number of segments; no `.` or `..` segment, no empty segment but a final
    /// one, no `%`, `\`, `?`, `[`, `]`, `{`, `}`, whitespace or control characters.
    pub(crate) fn parse(text: &str) -> Result<PathGlob, String> {
        if !text.starts_with('/') {
            return Err(format!("a path pattern starts with \"/\" (got {text:?})"));
        }
        if text.len() > MAX_PATH_PATTERN {
            return Err(format!(
                "a path pattern is at most {MAX_PATH_PATTERN} bytes long"
            ));
        }
        if let Some(c) = text.chars().find(|&c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '%' | '\\' | '?' | '[' | ']' | '{' | '}')
        }) {
            let why = if c == '%' {
                " (write the path decoded: patterns are matched against the decoded path)"
                    .to_owned()
            } else {
                String::new()
            };
            return Err(format!(
                "{c:?} is not allowed in a path pattern (got {text:?}){why}"
            ));
        }
        let parts: Vec<&str> = text[1..].split('/').collect();
        let last = parts.len() - 1;
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() && i != last {
                return Err(format!("empty segment (\"//\") in path pattern {text:?}"));
            }
            if *part == "." || *part == ".." {
                return Err(format!(
                    "\".\" and \"..\" segments never match (paths with them are not covered by \
                     exclusions); got {text:?}"
                ));
            }
            if *part == "**" {
                segments.push(Segment::Any);
            } else if part.contains("**") {
                return Err(format!(
                    "\"**\" must be a whole segment (\"/a/**/b\"); got {text:?}"
                ));
            } else {
                segments.push(Segment::Glob((*part).into()));
            }
        }
        Ok(PathGlob {
            text: text.into(),
            segments,
        })
    }

    /// The first segment, when it has no wildcard: requests whose path starts elsewhere cannot
    /// match.
    pub(crate) fn first_literal(&self) -> Option<&str> {
        match self.segments.first()? {
            Segment::Glob(g) if !g.contains('*') => Some(g),
            _ => None,
        }
    }

    /// The pattern as loose paths are written (see `exclusions::loose_path`): lowercase, with
    /// no trailing empty segment.
    pub(crate) fn loose(&self) -> PathGlob {
        let mut segments: Vec<Segment> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Any => Segment::Any,
                Segment::Glob(g) => Segment::Glob(g.to_ascii_lowercase().into()),
            })
            .collect();
        if segments.len() > 1 && segments.last() == Some(&Segment::Glob("".into())) {
            segments.pop();
        }
        PathGlob {
            text: self.text.to_ascii_lowercase().into(),
            segments,
        }
    }

    /// True when `path` (starting with `/`) matches the whole pattern.
    pub(crate) fn matches(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let pattern = &self.segments;
        let mut segments = rest.split('/');
        let mut p = 0;
        // where the last `**` is, and the path from where it would take one more segment
        let mut star: Option<(usize, std::str::Split<'_, char>)> = None;
        loop {
            let before = segments.clone();
            let Some(segment) = segments.next() else {
                return pattern[p..].iter().all(|s| *s == Segment::Any);
            };
            match pattern.get(p) {
                Some(Segment::Any) => {
                    // `**` takes nothing at first
                    star = Some((p, before.clone()));
                    p += 1;
                    segments = before;
                    continue;
                }
                Some(Segment::Glob(g)) if segment_matches(g, segment) => {
                    p += 1;
                    continue;
                }
                _ => {}
            }
            match &mut star {
                Some((at, from)) => {
                    // the last `**` takes one more segment
                    from.next();
                    segments = from.clone();
                    p = *at + 1;
                }
                None => return false,
            }
        }
    }
}

/// True when `text` matches `pattern`, where `*` stands for any run of characters (the classic
/// wildcard matcher: linear but for backtracking to the last `*`).
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            star = Some((sp, st + 1));
            p = sp + 1;
            t = st + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// One path segment against one pattern segment (`*`: any run of characters).
fn segment_matches(pattern: &str, segment: &str) -> bool {
    wildcard(pattern.as_bytes(), segment.as_bytes())
}

/// True when the rule id `rule` matches `pattern` (`*`: any run of characters).
pub(crate) fn rule_matches(pattern: &str, rule: &str) -> bool {
    wildcard(pattern.as_bytes(), rule.as_bytes())
}

/// Bytes a single `*` of an input pattern does not take: it stays within one key or index.
fn separator(b: u8) -> bool {
    matches!(b, b'.' | b'[' | b']')
}

/// An input name pattern: `body.content`, `body.*.text`, `body.comments[*].text`,
/// `query.q`, `header.x-comment`, `body.**`. `*` matches any run of characters other than `.`,
/// `[` and `]` (one key, or one index), `**` any run at all; every other character stands for
/// itself, so an event's `input` is a pattern that matches that input.
///
/// Matched by a bit-parallel automaton (shift-and): bit `i` of the state is "the first `i`
/// elements match so far", so a name is read once, a few operations a byte.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct InputGlob {
    text: Box<str>,
    /// Elements, for the accepting bit.
    len: u32,
    /// For each byte, the index (plus one) of its literal mask in `literals`; 0: none.
    index: Box<[u8; 256]>,
    /// Bit `j + 1` set where element `j` is that literal byte.
    literals: Vec<u128>,
    /// Bit `j` set where element `j` is `*` or `**` (it takes a byte other than a separator
    /// and stays, or takes nothing).
    wild: u128,
    /// Bit `j` set where element `j` is `**` (it takes separators too).
    any: u128,
}

impl fmt::Debug for InputGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InputGlob({:?})", self.text)
    }
}

/// The sources an input name starts with.
pub(crate) const INPUT_SOURCES: [&str; 5] = ["path", "query", "header", "cookie", "body"];

impl InputGlob {
    /// Parses an input pattern (see [`InputGlob`]); header names are lowercase, as events
    /// write them, so a `header.` pattern is lowercased.
    pub(crate) fn parse(text: &str) -> Result<InputGlob, String> {
        let source = text.split(['.', '[', '@']).next().unwrap_or("");
        if !INPUT_SOURCES.contains(&source) {
            return Err(format!(
                "an input starts with path, query., header., cookie. or body. (got {text:?})"
            ));
        }
        if (source == "path" && text != "path")
            || (source != "path" && source != "body" && text.len() <= source.len() + 1)
        {
            return Err(format!(
                "{text:?} names no input: write \"path\", \"body\", or a source and a name such as \
                 \"query.q\""
            ));
        }
        if text.contains("***") {
            return Err(format!(
                "\"***\" is not a pattern (use * or **) in {text:?}"
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(format!("control characters in input pattern {text:?}"));
        }
        let lowered;
        let text = if source == "header" {
            lowered = text.to_ascii_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let bytes = text.as_bytes();
        let mut index = Box::new([0u8; 256]);
        let mut literals: Vec<u128> = Vec::new();
        let (mut wild, mut any) = (0u128, 0u128);
        let mut j = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            if j >= MAX_INPUT_ELEMENTS {
                return Err(format!(
                    "an input pattern has at most {MAX_INPUT_ELEMENTS} characters (use * or ** for \
                     long names); got {} bytes",
                    bytes.len()
                ));
            }
            let b = bytes[i];
            if b == b'*' {
                wild |= 1 << j;
                if bytes.get(i + 1) == Some(&b'*') {
                    any |= 1 << j;
                    i += 1;
                }
            } else {
                if index[b as usize] == 0 {
                    literals.push(0);
                    index[b as usize] = literals.len() as u8;
                }
                literals[index[b as usize] as usize - 1] |= 1 << (j + 1);
            }
            i += 1;
            j += 1;
        }
        Ok(InputGlob {
            text: text.into(),
            len: j as u32,
            index,
            literals,
            wild,
            any,
        })
    }

    /// The pattern as written (a `header.` one lowercased).
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the input name `name` matches the whole pattern.
    pub(crate) fn matches(&self, name: &str) -> bool {
        // `*` and `**` may take nothing: a bit on one lets the next element start
        let close = |d: u128| d | ((d & self.wild) << 1);
        let mut d = close(1);
        for &b in name.as_bytes() {
            let literal = match self.index[b as usize] {
                0 => 0,
                k => self.literals[k as usize - 1],
            };
            let stay = if separator(b) { self.any } else { self.wild };
            d = close(((d << 1) & literal) | (d & stay));
            if d == 0 {
                return false;
            }
        }
        d & (1 << self.len) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> PathGlob {
        PathGlob::parse(p).unwrap()
    }

    #[test]
    fn path_stars_stay_in_a_segment_double_stars_take_segments() {
        let forum = path("/forum/*");
        for yes in ["/forum/1", "/forum/new-post", "/forum/"] {
            assert!(forum.matches(yes), "{yes}");
        }
        for no in [
            "/forum",
            "/forum/1/reply",
            "/forum/1/",
            "/forums/1",
            "/Forum/1",
            "/x/forum/1",
        ] {
            assert!(!forum.matches(no), "{no}");
        }
        let deep = path("/forum/**");
        for yes in ["/forum", "/forum/", "/forum/1", "/forum/1/reply/2"] {
            assert!(deep.matches(yes), "{yes}");
        }
        for no in ["/forumx", "/", "/admin/forum/1"] {
            assert!(!deep.matches(no), "{no}");
        }
        let mid = path("/api/**/comments");
        for yes in [
            "/api/comments",
            "/api/v1/comments",
            "/api/v1/posts/7/comments",
        ] {
            assert!(mid.matches(yes), "{yes}");
        }
        for no in ["/api/comments/1", "/api/v1/comment", "/api"] {
            assert!(!mid.matches(no), "{no}");
        }
        let two = path("/**/a/**/b");
        assert!(two.matches("/a/b") && two.matches("/x/a/y/z/b") && two.matches("/a/a/b"));
        assert!(!two.matches("/a/b/c") && !two.matches("/b/a"));
        let inner = path("/files/*.pdf");
        assert!(inner.matches("/files/report.pdf") && inner.matches("/files/.pdf"));
        assert!(!inner.matches("/files/report.pdf.exe") && !inner.matches("/files/a/b.pdf"));
        let exact = path("/login");
        assert!(exact.matches("/login") && !exact.matches("/login/") && !exact.matches("/login2"));
        assert!(path("/").matches("/") && !path("/").matches("/a"));
        assert!(!exact.matches("login"));
        assert_eq!(path("/forum/*").first_literal(), Some("forum"));
        assert_eq!(path("/*/x").first_literal(), None);
        assert_eq!(path("/**").first_literal(), None);
    }

    #[test]
    fn path_matching_is_linear_enough_on_hostile_paths() {
        let p = path("/**/a/**/a/**/a/**/b");
        let hostile = format!("/{}", "a/".repeat(2000));
        let start = std::time::Instant::now();
        assert!(!p.matches(&hostile));
        // a generous bound: the point is no exponential blow-up
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn bad_path_patterns_say_why() {
        for (bad, why) in [
            ("forum/*", "starts with"),
            ("/forum//x", "empty segment"),
            ("/forum/../admin", "\"..\""),
            ("/a/**b", "whole segment"),
            ("/a/***", "whole segment"),
            ("/a%2fb", "decoded"),
            ("/a b", "not allowed"),
            ("/a?b", "not allowed"),
            ("/a\\b", "not allowed"),
        ] {
            let e = PathGlob::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(PathGlob::parse(&format!("/{}", "a".repeat(MAX_PATH_PATTERN))).is_err());
    }

    #[test]
    fn loose_patterns_are_lowercase_without_a_trailing_slash() {
        let p = path("/Admin/*/").loose();
        assert!(p.matches("/admin/x") && !p.matches("/admin/x/"));
        assert!(path("/").loose().matches("/"));
    }

    fn input(p: &str) -> InputGlob {
        InputGlob::parse(p).unwrap()
    }

    #[test]
    fn input_stars_stay_in_a_key_or_index() {
        let g = input("body.*.text");
        for yes in ["body.post.text", "body..text"] {
            assert!(g.matches(yes), "{yes}");
        }
        for no in [
            "body.a.b.text",
            "body.text",
            "body.items[0].text",
            "body.post.text2",
            "query.post.text",
        ] {
            assert!(!g.matches(no), "{no}");
        }
        let g = input("body.comments[*].text");
        assert!(g.matches("body.comments[0].text") && g.matches("body.comments[12].text"));
        assert!(!g.matches("body.comments[0][1].text") && !g.matches("body.comments.text"));
        let g = input("body.**");
        assert!(g.matches("body.a") && g.matches("body.a[1].b@c") && !g.matches("body"));
        let g = input("body.**.text");
        assert!(
            g.matches("body.a.text") && g.matches("body.a[1].b.text") && !g.matches("body.text")
        );
        assert!(input("query.q").matches("query.q") && !input("query.q").matches("query.qq"));
        assert!(input("path").matches("path") && !input("path").matches("paths"));
        assert!(input("body").matches("body") && !input("body").matches("body.x"));
        assert!(!input("query.*").matches("query.user[name]"));
        assert!(input("query.user[*]").matches("query.user[name]"));
        assert!(input("header.X-Comment").matches("header.x-comment"));
        // every input name an event gives is a pattern matching it
        for name in [
            "query.q",
            "header.user-agent",
            "cookie.session",
            "body.user.name",
            "body.items[2].name",
            "body.order.item@sku",
            "body.avatar@filename",
            "body.!doctype",
            "body.a b",
            "body.é",
        ] {
            assert!(input(name).matches(name), "{name}");
        }
    }

    #[test]
    fn input_matching_agrees_with_a_plain_backtracking_matcher() {
        fn slow(p: &[u8], t: &[u8]) -> bool {
            match p {
                [] => t.is_empty(),
                [b'*', b'*', rest @ ..] => (0..=t.len()).any(|i| slow(rest, &t[i..])),
                [b'*', rest @ ..] => (0..=t.len())
                    .take_while(|&i| i == 0 || !separator(t[i - 1]))
                    .any(|i| slow(rest, &t[i..])),
                [c, rest @ ..] => t.first() == Some(c) && slow(rest, &t[1..]),
            }
        }
        let patterns = [
            "body.*",
            "body.**",
            "body.*.x",
            "body.**.x",
            "body.a*b",
            "body.*[*].*",
            "query.*x*",
        ];
        let names = [
            "body.x",
            "body.a.x",
            "body.ab",
            "body.axxb",
            "body.a.b",
            "body.a[1].b",
            "body.[].",
            "query.xx",
            "query.a.x",
            "body.a[1]x",
            "body.",
        ];
        for p in patterns {
            let g = input(p);
            for n in names {
                assert_eq!(g.matches(n), slow(p.as_bytes(), n.as_bytes()), "{p} on {n}");
            }
        }
    }

    #[test]
    fn bad_input_patterns_say_why() {
        for (bad, why) in [
            ("content", "starts with"),
            ("form.content", "starts with"),
            ("query.", "names no input"),
            ("paths", "starts with"),
            ("path.x", "names no input"),
            ("body.***", "***"),
        ] {
            let e = InputGlob::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(InputGlob::parse(&format!("body.{}", "a".repeat(200))).is_err());
        assert!(InputGlob::parse(&format!("body.{}", "a".repeat(100))).is_ok());
    }

    #[test]
    fn rule_patterns() {
        assert!(rule_matches("xss-*", "xss-script-tag"));
        assert!(rule_matches("*", "sqli-union"));
        assert!(rule_matches("sqli-union", "sqli-union"));
        assert!(!rule_matches("xss-*", "sqli-union"));
        assert!(!rule_matches("sqli", "sqli-union"));
    }
}
