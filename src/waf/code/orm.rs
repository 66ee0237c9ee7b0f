//! ORM lookups through relations (paranoia 2): `author__profile__email__startswith`, the
//! double-underscore paths that Django-style ORMs turn into joins and filters. An application
//! that passes request parameters to its ORM's filter as they come lets a client walk from the
//! model it asked for to any related one (a user's password hash, a token) and read it a
//! character at a time with `startswith` or `regex`.
//!
//! The rule: an identifier made of three or more non-empty parts joined by `__`, the last part
//! a lookup operator. One relation and an operator (`price__gte`, `created_at__lt`) is what
//! filtering APIs expose on purpose, and is not reported; neither are Python's dunders
//! (`__init__`: empty parts). At paranoia 1 nothing of this is reported: filtering APIs built
//! on such ORMs take nested lookups from their clients by design.

use super::{ident_end, ident_start, Hit, R_PL2_ORM};

/// Lookup operators of Django-style ORMs (field lookups, and those of JSON, array and range
/// fields), written for this crate from the lookups such ORMs document.
const LOOKUPS: &[&[u8]] = &[
    b"exact",
    b"iexact",
    b"contains",
    b"icontains",
    b"in",
    b"gt",
    b"gte",
    b"lt",
    b"lte",
    b"startswith",
    b"istartswith",
    b"endswith",
    b"iendswith",
    b"range",
    b"isnull",
    b"regex",
    b"iregex",
    b"search",
    b"date",
    b"year",
    b"month",
    b"day",
    b"week_day",
    b"has_key",
    b"has_keys",
    b"has_any_keys",
    b"contained_by",
    b"overlap",
    b"len",
];

/// The first nested ORM lookup in `t` (see the module docs).
pub(super) fn nested_lookup(t: &[u8]) -> Option<Hit> {
    let mut from = 0;
    while let Some(q) = memchr::memmem::find(&t[from..], b"__") {
        let p = from + q;
        let s = ident_start(t, p);
        let e = ident_end(t, p);
        from = e.max(p + 2);
        if is_nested_lookup(&t[s..e]) {
            return Some((R_PL2_ORM, s, e));
        }
    }
    None
}

/// True when `name` is three or more non-empty parts joined by `__`, the last a lookup.
fn is_nested_lookup(name: &[u8]) -> bool {
    let mut parts = 0;
    let mut rest = name;
    let last = loop {
        let cut = memchr::memmem::find(rest, b"__");
        let part = &rest[..cut.unwrap_or(rest.len())];
        if part.is_empty() || part[0] == b'_' || part.contains(&b'$') {
            return false;
        }
        parts += 1;
        match cut {
            Some(c) => rest = &rest[c + 2..],
            None => break part,
        }
    };
    parts >= 3 && LOOKUPS.iter().any(|l| last.eq_ignore_ascii_case(l))
}

#[cfg(test)]
mod tests {
    use super::nested_lookup;

    #[test]
    fn nested_lookups_and_near_misses() {
        for v in [
            "created_by__departments__employees__user__username__startswith",
            "user__profile__icontains",
            "user__profile__city__startswith",
            "user__profile__nickname__istartswith",
            "user__metadata__has_keys",
            r#"{"author__password__regex":"^a"}"#,
            "filter=owner__api_token__startswith",
        ] {
            assert!(nested_lookup(v.as_bytes()).is_some(), "{v:?}");
        }
        for v in [
            "price__gte",
            "created_at__lt",
            "__init__",
            "__proto__",
            "a____in",
            "obj.__class__.__mro__",
            "user__profile__name",
            "snake_case_words_only",
            "MY__CONSTANT__VALUE",
            "user__profile__",
        ] {
            assert!(nested_lookup(v.as_bytes()).is_none(), "{v:?}");
        }
    }
}
